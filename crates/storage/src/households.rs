//! Households (户): a number, a village or group, a head, and members with their relation.

use serde_json::json;
use taizhang_domain::registry::{Household, Person, RELATIONS};
use taizhang_domain::role::Actor;

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::persons;
use crate::scope::Scope;
use crate::sql::{Arg, Row};

const COLUMNS: &str = "id, number, place_id, head_person_id, row_version";

fn from_row(r: &Row) -> Household {
    Household { id: r.int(0), number: r.text(1), place_id: r.int(2), head_person_id: r.opt_int(3), row_version: r.int(4) }
}

pub async fn create(tx: &mut Tx, actor: &Actor, scope: &Scope, number: &str, place_id: i64) -> Result<Household> {
    let number = number.trim();
    if number.is_empty() {
        return Err(taizhang_domain::DomainError::field("number", "户编号", "不能为空").into());
    }
    scope.require_place(tx, place_id, "所属地点").await?;
    if tx.fetch_opt("SELECT id FROM households WHERE number = $1", &[number.into()]).await?.is_some() {
        return Err(StoreError::Conflict(format!("户编号 {number} 已存在")));
    }
    let now = crate::now();
    let id = tx
        .insert(
            "INSERT INTO households (number, place_id, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
            &[number.into(), Arg::Int(place_id), Arg::Time(now)],
        )
        .await?;
    let h = get(tx, scope, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "create",
            entity: "households",
            entity_id: Some(id),
            place_id: Some(place_id),
            before: None,
            after: Some(json!(h)),
            note: "",
        },
    )
    .await?;
    Ok(h)
}

pub async fn get(tx: &mut Tx, scope: &Scope, id: i64) -> Result<Household> {
    let sql = format!("SELECT {COLUMNS} FROM households WHERE id = $1 AND {}", scope.condition("place_id", 2));
    tx.fetch_opt(&sql, &[Arg::Int(id), scope.arg()])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound("户不存在或不在您的管辖范围内".into()))
}

pub async fn by_number(tx: &mut Tx, scope: &Scope, number: &str) -> Result<Option<Household>> {
    let sql = format!("SELECT {COLUMNS} FROM households WHERE number = $1 AND {}", scope.condition("place_id", 2));
    Ok(tx.fetch_opt(&sql, &[number.trim().into(), scope.arg()]).await?.map(|r| from_row(&r)))
}

/// Puts a person into a household with a relation to its head; 户主 also becomes the head.
pub async fn add_member(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    household_id: i64,
    person_id: i64,
    relation: &str,
) -> Result<()> {
    if !RELATIONS.contains(&relation) {
        return Err(taizhang_domain::DomainError::field(
            "relation",
            "与户主关系",
            format!("「{relation}」不是可选值（可选：{}）", RELATIONS.join("、")),
        )
        .into());
    }
    let h = get(tx, scope, household_id).await?;
    let before = persons::get(tx, scope, person_id).await?;
    if relation == "户主" {
        if let Some(head) = h.head_person_id.filter(|p| *p != person_id) {
            return Err(StoreError::Conflict(format!("户 {} 已有户主（人员编号 {head}）", h.number)));
        }
        tx.exec(
            "UPDATE households SET head_person_id = $1, row_version = row_version + 1, updated_at = $2 WHERE id = $3",
            &[Arg::Int(person_id), Arg::Time(crate::now()), Arg::Int(household_id)],
        )
        .await?;
    }
    tx.exec(
        "UPDATE persons SET household_id = $1, relation = $2, row_version = row_version + 1, updated_at = $3 WHERE id = $4",
        &[Arg::Int(household_id), relation.into(), Arg::Time(crate::now()), Arg::Int(person_id)],
    )
    .await?;
    let after = persons::get(tx, scope, person_id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "update",
            entity: "persons",
            entity_id: Some(person_id),
            place_id: Some(after.place_id),
            before: Some(json!(before)),
            after: Some(json!(after)),
            note: &format!("加入户 {}", h.number),
        },
    )
    .await?;
    Ok(())
}

pub async fn members(tx: &mut Tx, scope: &Scope, household_id: i64) -> Result<Vec<Person>> {
    get(tx, scope, household_id).await?;
    let rows = tx
        .fetch(
            &format!("SELECT {} FROM persons p WHERE p.household_id = $1 ORDER BY p.relation <> '户主', p.id", persons::COLUMNS),
            &[Arg::Int(household_id)],
        )
        .await?;
    Ok(rows.iter().map(persons::from_row).collect())
}

pub async fn count(tx: &mut Tx, scope: &Scope) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM households WHERE {}", scope.condition("place_id", 1));
    Ok(tx.fetch_one(&sql, &[scope.arg()]).await?.int(0))
}

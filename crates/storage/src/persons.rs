//! Persons (人员): one person, one record, recognised by 公民身份号码.

use chrono::NaiveDate;
use serde_json::json;
use taizhang_domain::idcard::Sex;
use taizhang_domain::registry::{NewPerson, Person, PersonStatus};
use taizhang_domain::role::Actor;

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::sql::{Arg, Row};

pub(crate) const COLUMNS: &str = "p.id, p.name, p.id_number, p.sex, p.birth_date, p.ethnicity, p.phone, p.status, \
     p.status_date, p.place_id, p.household_id, p.relation, p.row_version";

pub(crate) fn from_row(r: &Row) -> Person {
    Person {
        id: r.int(0),
        name: r.text(1),
        id_number: r.text(2),
        sex: if r.text(3) == "male" { Sex::Male } else { Sex::Female },
        birth_date: r.opt_date(4).unwrap_or_default(),
        ethnicity: r.text(5),
        phone: r.text(6),
        status: PersonStatus::parse(&r.text(7)).unwrap_or_default(),
        status_date: r.opt_date(8),
        place_id: r.int(9),
        household_id: r.opt_int(10),
        relation: r.opt_text(11),
        row_version: r.int(12),
    }
}

fn sex_key(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

/// Registers a person. A second record with the same ID number is refused; the message
/// names the existing person only when the caller may see them.
pub async fn create(tx: &mut Tx, actor: &Actor, scope: &Scope, p: &NewPerson) -> Result<Person> {
    scope.require_place(tx, p.place_id, "所属地点").await?;
    if let Some(existing) = by_id_number_unscoped(tx, &p.id_number).await? {
        return Err(StoreError::Conflict(if scope.contains_place(tx, existing.place_id).await? {
            format!("公民身份号码 {} 已登记为「{}」（人员编号 {}），不能重复登记", p.id_number, existing.name, existing.id)
        } else {
            format!("公民身份号码 {} 已在系统中登记（不在您的管辖范围内），请联系镇管理员核实", p.id_number)
        }));
    }
    let now = crate::now();
    let id = tx
        .insert(
            "INSERT INTO persons (name, id_number, sex, birth_date, ethnicity, phone, status, status_date, place_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            &[
                (&p.name).into(),
                (&p.id_number).into(),
                sex_key(p.sex).into(),
                p.birth_date.into(),
                (&p.ethnicity).into(),
                (&p.phone).into(),
                p.status.key().into(),
                p.status_date.into(),
                Arg::Int(p.place_id),
                Arg::Time(now),
            ],
        )
        .await?;
    let person = get_unscoped(tx, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "create",
            entity: "persons",
            entity_id: Some(id),
            place_id: Some(person.place_id),
            before: None,
            after: Some(json!(person)),
            note: &p.warnings.join("；"),
        },
    )
    .await?;
    Ok(person)
}

pub(crate) async fn get_unscoped(tx: &mut Tx, id: i64) -> Result<Person> {
    tx.fetch_opt(&format!("SELECT {COLUMNS} FROM persons p WHERE p.id = $1"), &[Arg::Int(id)])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound("人员不存在或不在您的管辖范围内".into()))
}

pub(crate) async fn by_id_number_unscoped(tx: &mut Tx, id_number: &str) -> Result<Option<Person>> {
    Ok(tx
        .fetch_opt(&format!("SELECT {COLUMNS} FROM persons p WHERE p.id_number = $1"), &[id_number.into()])
        .await?
        .map(|r| from_row(&r)))
}

pub async fn get(tx: &mut Tx, scope: &Scope, id: i64) -> Result<Person> {
    let sql = format!("SELECT {COLUMNS} FROM persons p WHERE p.id = $1 AND {}", scope.condition("p.place_id", 2));
    tx.fetch_opt(&sql, &[Arg::Int(id), scope.arg()])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound("人员不存在或不在您的管辖范围内".into()))
}

pub async fn by_id_number(tx: &mut Tx, scope: &Scope, id_number: &str) -> Result<Option<Person>> {
    let sql = format!("SELECT {COLUMNS} FROM persons p WHERE p.id_number = $1 AND {}", scope.condition("p.place_id", 2));
    Ok(tx.fetch_opt(&sql, &[id_number.into(), scope.arg()]).await?.map(|r| from_row(&r)))
}

/// Search by name (substring) or ID number (exact, or its last digits), within scope.
pub async fn search(tx: &mut Tx, scope: &Scope, text: &str, limit: i64) -> Result<Vec<Person>> {
    let text = text.trim();
    let sql = format!(
        "SELECT {COLUMNS} FROM persons p WHERE {} AND (p.name LIKE $2 OR p.id_number = $3 OR p.id_number LIKE $4)
         ORDER BY p.name, p.id LIMIT $5",
        scope.condition("p.place_id", 1)
    );
    let upper = text.to_uppercase();
    let rows = tx
        .fetch(
            &sql,
            &[scope.arg(), format!("%{text}%").into(), upper.clone().into(), format!("%{upper}").into(), Arg::Int(limit)],
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn count(tx: &mut Tx, scope: &Scope) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM persons p WHERE {}", scope.condition("p.place_id", 1));
    Ok(tx.fetch_one(&sql, &[scope.arg()]).await?.int(0))
}

/// Records a death or a move away (or a return to 在世), with optimistic concurrency.
#[allow(clippy::too_many_arguments)]
pub async fn set_status(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    expected_version: i64,
    status: PersonStatus,
    date: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Person> {
    let before = get(tx, scope, id).await?;
    let check = taizhang_domain::registry::PersonInput {
        name: before.name.clone(),
        id_number: before.id_number.clone(),
        status,
        status_date: date,
        place_id: before.place_id,
        ..Default::default()
    };
    taizhang_domain::registry::validate_person(&check, today)?;
    let n = tx
        .exec(
            "UPDATE persons SET status = $1, status_date = $2, row_version = row_version + 1, updated_at = $3
             WHERE id = $4 AND row_version = $5",
            &[status.key().into(), date.into(), Arg::Time(crate::now()), Arg::Int(id), Arg::Int(expected_version)],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::Stale(format!(
            "「{}」的信息已被他人修改（当前版本 {}，您看到的是 {expected_version}），请刷新后再改",
            before.name, before.row_version
        )));
    }
    let after = get(tx, scope, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "update",
            entity: "persons",
            entity_id: Some(id),
            place_id: Some(after.place_id),
            before: Some(json!(before)),
            after: Some(json!(after)),
            note: "",
        },
    )
    .await?;
    Ok(after)
}

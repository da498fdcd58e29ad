//! Households (户): a number, a village or group, a head, and members with their relation; and
//! what happens to them over a year (members join and leave, the head changes, a household
//! splits or moves), each change audited and told in `household_events`.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use taizhang_domain::registry::{Household, Person};
use taizhang_domain::relation::{self, HEAD};
use taizhang_domain::role::Actor;
use taizhang_domain::DomainError;

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
    // The same normaliser as every import and lookup: full-width digits, inner spaces and a
    // leading apostrophe would otherwise make a second household of the same number.
    if number.trim().is_empty() {
        return Err(DomainError::field("number", "户编号", "不能为空").into());
    }
    let number = taizhang_domain::ident::normalise(taizhang_domain::ident::IdentKind::Code, number, NaiveDate::MAX)
        .map_err(|why| DomainError::field("number", "户编号", why.replace("号码", "户编号")))?
        .text;
    let number = number.as_str();
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
    let key = taizhang_domain::ident::lookup_key(taizhang_domain::ident::IdentKind::Code, number);
    Ok(tx.fetch_opt(&sql, &[key.into(), scope.arg()]).await?.map(|r| from_row(&r)))
}

/// Resolves what was written for a relation (GB/T 4761 name or code, or an everyday word) for
/// this person, whose sex decides words such as 子女.
pub fn relation_for(person: &Person, text: &str) -> Result<&'static str> {
    relation::normalize(text, Some(person.sex))
        .map_err(|reason| DomainError::field("relation", "与户主关系", reason).into())
}

/// Puts a person into a household with a relation to its head; 户主 also becomes the head.
/// Joining on a date (birth, marriage in, a move in) is told in the household's history.
pub async fn add_member(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    household_id: i64,
    person_id: i64,
    relation: &str,
) -> Result<()> {
    join(tx, actor, scope, household_id, person_id, relation, None, "").await
}

/// A person joins a household: born into it, married in, moved in (`reason`), on `on`.
#[allow(clippy::too_many_arguments)]
pub async fn join(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    household_id: i64,
    person_id: i64,
    relation: &str,
    on: Option<NaiveDate>,
    reason: &str,
) -> Result<()> {
    let h = get(tx, scope, household_id).await?;
    let before = persons::get(tx, scope, person_id).await?;
    let relation = relation_for(&before, relation)?;
    if let Some(other) = before.household_id.filter(|o| *o != household_id) {
        let number = tx
            .fetch_opt("SELECT number FROM households WHERE id = $1", &[Arg::Int(other)])
            .await?
            .map_or_else(String::new, |r| r.text(0));
        return Err(StoreError::Conflict(format!(
            "「{}」仍是户 {number} 的成员，请先在该户办理「成员迁出」（如 婚出、分户），再加入户 {}",
            before.name, h.number
        )));
    }
    if relation == HEAD {
        if let Some(head) = h.head_person_id.filter(|p| *p != person_id) {
            return Err(StoreError::Conflict(format!(
                "户 {} 已有户主（人员编号 {head}）；更换户主请用「户主变更」",
                h.number
            )));
        }
        set_head(tx, household_id, Some(person_id)).await?;
    }
    set_membership(tx, person_id, Some(household_id), Some(relation)).await?;
    let after = persons::get(tx, scope, person_id).await?;
    let note = join_words(&["加入户", &h.number, relation, reason]);
    persons::audit_change(tx, actor, "update", &before, &after, &note).await?;
    if on.is_some() || !reason.is_empty() {
        event(tx, actor, household_id, on, "join", Some(person_id), None, &note).await?;
    }
    Ok(())
}

/// Why a member leaves a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LeaveReason {
    Death,
    MarriageOut,
    Split,
    MoveOut,
    Other,
}

impl LeaveReason {
    pub const ALL: [LeaveReason; 5] =
        [LeaveReason::Death, LeaveReason::MarriageOut, LeaveReason::Split, LeaveReason::MoveOut, LeaveReason::Other];

    pub fn label(self) -> &'static str {
        match self {
            LeaveReason::Death => "死亡",
            LeaveReason::MarriageOut => "婚出",
            LeaveReason::Split => "分户",
            LeaveReason::MoveOut => "迁出",
            LeaveReason::Other => "其他",
        }
    }

    pub fn parse(s: &str) -> Option<LeaveReason> {
        let s = s.trim();
        LeaveReason::ALL.into_iter().find(|r| r.label() == s).or(match s {
            "婚嫁" | "出嫁" | "嫁出" => Some(LeaveReason::MarriageOut),
            "户口迁出" => Some(LeaveReason::MoveOut),
            "去世" | "已故" => Some(LeaveReason::Death),
            _ => None,
        })
    }
}

/// A member leaves the household on `on`. The head leaves only once another member is head, or
/// when no one else is left. The person's own records stay theirs; the household's stay its.
#[allow(clippy::too_many_arguments)]
pub async fn leave(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    household_id: i64,
    person_id: i64,
    reason: LeaveReason,
    on: NaiveDate,
    note: &str,
) -> Result<()> {
    let h = get(tx, scope, household_id).await?;
    let before = persons::get(tx, scope, person_id).await?;
    if before.household_id != Some(household_id) {
        return Err(StoreError::Conflict(format!("「{}」不是户 {} 的成员", before.name, h.number)));
    }
    if h.head_person_id == Some(person_id) {
        let others = members(tx, scope, household_id).await?.into_iter().filter(|p| p.id != person_id).count();
        if others > 0 {
            return Err(StoreError::Conflict(format!(
                "「{}」是户 {} 的户主，户内还有 {others} 人：请先办理「户主变更」，再办理成员迁出",
                before.name, h.number
            )));
        }
        set_head(tx, household_id, None).await?;
    }
    set_membership(tx, person_id, None, None).await?;
    let after = persons::get(tx, scope, person_id).await?;
    let text = join_words(&["迁出户", &h.number, reason.label(), note]);
    persons::audit_change(tx, actor, "update", &before, &after, &text).await?;
    event(tx, actor, household_id, Some(on), "leave", Some(person_id), None, &text).await
}

/// 户主变更: `new_head` (a member) becomes head; the others take the relations given (each
/// relation to the new head), and keep theirs where none is given — the page says to check them.
#[allow(clippy::too_many_arguments)]
pub async fn change_head(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    household_id: i64,
    new_head: i64,
    relations: &[(i64, String)],
    on: NaiveDate,
    reason: &str,
) -> Result<()> {
    let h = get(tx, scope, household_id).await?;
    let head = persons::get(tx, scope, new_head).await?;
    if head.household_id != Some(household_id) {
        return Err(StoreError::Conflict(format!("「{}」不是户 {} 的成员，不能成为户主", head.name, h.number)));
    }
    if h.head_person_id == Some(new_head) {
        return Err(StoreError::Conflict(format!("「{}」已是户 {} 的户主", head.name, h.number)));
    }
    let all = members(tx, scope, household_id).await?;
    for (pid, _) in relations {
        if !all.iter().any(|p| p.id == *pid) {
            return Err(StoreError::Conflict(format!("人员编号 {pid} 不是户 {} 的成员", h.number)));
        }
    }
    set_head(tx, household_id, Some(new_head)).await?;
    for p in &all {
        let wanted = if p.id == new_head {
            Some(HEAD)
        } else if let Some((_, text)) = relations.iter().find(|(id, _)| *id == p.id) {
            let r = relation_for(p, text)?;
            if r == HEAD {
                return Err(DomainError::field("relation", "与户主关系", format!("「{}」不能也是户主", p.name)).into());
            }
            Some(r)
        } else if p.relation.as_deref() == Some(HEAD) {
            // The old head keeps no relation until one is given: better blank than wrong.
            Some("其他亲属")
        } else {
            None
        };
        if let Some(r) = wanted.filter(|r| p.relation.as_deref() != Some(*r)) {
            set_membership(tx, p.id, Some(household_id), Some(r)).await?;
            let after = persons::get(tx, scope, p.id).await?;
            persons::audit_change(tx, actor, "update", p, &after, &join_words(&["户主变更", &h.number, r])).await?;
        }
    }
    let text = join_words(&["户主变更为", &head.name, reason]);
    event(tx, actor, household_id, Some(on), "head_change", Some(new_head), None, &text).await
}

/// 分户: the members named leave this household and form a new one (`number`, at `place_id`),
/// the first named its head. Records stay where they are: a person's with the person, the old
/// household's with it.
#[allow(clippy::too_many_arguments)]
pub async fn split(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    household_id: i64,
    new_number: &str,
    place_id: i64,
    moving: &[(i64, String)],
    on: NaiveDate,
) -> Result<Household> {
    let h = get(tx, scope, household_id).await?;
    let Some(_) = moving.first() else {
        return Err(DomainError::field("members", "分出的成员", "至少选一人，第一人为新户户主").into());
    };
    let all = members(tx, scope, household_id).await?;
    for (pid, _) in moving {
        if !all.iter().any(|p| p.id == *pid) {
            return Err(StoreError::Conflict(format!("人员编号 {pid} 不是户 {} 的成员", h.number)));
        }
    }
    if moving.iter().any(|(pid, _)| Some(*pid) == h.head_person_id) && moving.len() < all.len() {
        return Err(StoreError::Conflict(format!(
            "户 {} 的户主不能分出，除非全户都分出；请先办理「户主变更」",
            h.number
        )));
    }
    let new = create(tx, actor, scope, new_number, place_id).await?;
    for (i, (pid, rel)) in moving.iter().enumerate() {
        let p = all.iter().find(|p| p.id == *pid).expect("checked above");
        let r = if i == 0 { HEAD } else { relation_for(p, rel)? };
        if i > 0 && r == HEAD {
            return Err(DomainError::field("relation", "与户主关系", format!("「{}」不能也是户主", p.name)).into());
        }
        if h.head_person_id == Some(*pid) {
            set_head(tx, household_id, None).await?;
        }
        if r == HEAD {
            set_head(tx, new.id, Some(*pid)).await?;
        }
        set_membership(tx, *pid, Some(new.id), Some(r)).await?;
        if p.place_id != place_id {
            move_person(tx, *pid, place_id).await?;
        }
        let after = persons::get(tx, scope, *pid).await?;
        persons::audit_change(tx, actor, "update", p, &after, &join_words(&["分户：从户", &h.number, "分出到户", &new.number, r])).await?;
    }
    let names: Vec<&str> =
        moving.iter().filter_map(|(pid, _)| all.iter().find(|p| p.id == *pid).map(|p| p.name.as_str())).collect();
    let text = format!("分户：{} 分出，新户 {}", names.join("、"), new.number);
    event(tx, actor, household_id, Some(on), "split", None, Some(new.id), &text).await?;
    let text = format!("由户 {} 分出：{}", h.number, names.join("、"));
    event(tx, actor, new.id, Some(on), "split_from", None, Some(household_id), &text).await?;
    get(tx, scope, new.id).await
}

/// The household moves to another 组 or 村 (within the caller's scope), its members with it.
/// Past records keep the place they were made in.
pub async fn move_to(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    household_id: i64,
    place_id: i64,
    on: NaiveDate,
    reason: &str,
) -> Result<Household> {
    let before = get(tx, scope, household_id).await?;
    scope.require_place(tx, place_id, "迁往地点").await?;
    if before.place_id == place_id {
        return Err(StoreError::Conflict(format!("户 {} 已在该地点", before.number)));
    }
    let from = place_name(tx, before.place_id).await?;
    let to = place_name(tx, place_id).await?;
    tx.exec(
        "UPDATE households SET place_id = $1, row_version = row_version + 1, updated_at = $2 WHERE id = $3",
        &[Arg::Int(place_id), Arg::Time(crate::now()), Arg::Int(household_id)],
    )
    .await?;
    for p in members(tx, scope, household_id).await? {
        move_person(tx, p.id, place_id).await?;
        let after = persons::get_unscoped(tx, p.id).await?;
        persons::audit_change(tx, actor, "update", &p, &after, &format!("随户 {} 从「{from}」迁到「{to}」", before.number)).await?;
    }
    let after = get_unscoped(tx, household_id).await?;
    let text = join_words(&[&format!("从「{from}」迁到「{to}」"), reason]);
    audit::append(
        tx,
        actor,
        Change {
            action: "update",
            entity: "households",
            entity_id: Some(household_id),
            place_id: Some(place_id),
            before: Some(json!(before)),
            after: Some(json!(after)),
            note: &text,
        },
    )
    .await?;
    event(tx, actor, household_id, Some(on), "move", None, None, &text).await?;
    Ok(after)
}

/// Changes one member's relation to the head (a correction, or after a head change).
pub async fn set_relation(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    person_id: i64,
    relation: &str,
    on: NaiveDate,
) -> Result<()> {
    let p = persons::get(tx, scope, person_id).await?;
    let Some(hid) = p.household_id else {
        return Err(StoreError::Conflict(format!("「{}」不属于任何户", p.name)));
    };
    let h = get(tx, scope, hid).await?;
    let r = relation_for(&p, relation)?;
    if r == HEAD && h.head_person_id != Some(person_id) {
        return Err(StoreError::Conflict("更换户主请用「户主变更」".into()));
    }
    if h.head_person_id == Some(person_id) && r != HEAD {
        return Err(StoreError::Conflict(format!("「{}」是户主；请先办理「户主变更」", p.name)));
    }
    set_membership(tx, person_id, Some(hid), Some(r)).await?;
    let after = persons::get(tx, scope, person_id).await?;
    let text = format!("与户主关系：{} → {r}", p.relation.clone().unwrap_or_default());
    persons::audit_change(tx, actor, "update", &p, &after, &text).await?;
    event(tx, actor, hid, Some(on), "relation", Some(person_id), None, &text).await
}

/// One line of a household's history.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HouseholdEvent {
    pub id: i64,
    pub on_date: NaiveDate,
    pub kind: String,
    pub kind_label: &'static str,
    pub person_id: Option<i64>,
    pub other_household_id: Option<i64>,
    pub detail: String,
    pub actor: String,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "join" => "成员迁入",
        "leave" => "成员迁出",
        "head_change" => "户主变更",
        "split" => "分户",
        "split_from" => "分户新立",
        "move" => "整户迁移",
        "relation" => "关系更正",
        _ => "变更",
    }
}

/// The household's history, oldest first.
pub async fn history(tx: &mut Tx, scope: &Scope, household_id: i64) -> Result<Vec<HouseholdEvent>> {
    get(tx, scope, household_id).await?;
    let rows = tx
        .fetch(
            "SELECT id, on_date, kind, person_id, other_household_id, detail, actor FROM household_events
             WHERE household_id = $1 ORDER BY on_date, id",
            &[Arg::Int(household_id)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| HouseholdEvent {
            id: r.int(0),
            on_date: r.opt_date(1).unwrap_or_default(),
            kind: r.text(2),
            kind_label: kind_label(&r.text(2)),
            person_id: r.opt_int(3),
            other_household_id: r.opt_int(4),
            detail: r.text(5),
            actor: r.text(6),
        })
        .collect())
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

async fn get_unscoped(tx: &mut Tx, id: i64) -> Result<Household> {
    tx.fetch_opt(&format!("SELECT {COLUMNS} FROM households WHERE id = $1"), &[Arg::Int(id)])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound("户不存在".into()))
}

async fn place_name(tx: &mut Tx, id: i64) -> Result<String> {
    Ok(tx.fetch_opt("SELECT name FROM places WHERE id = $1", &[Arg::Int(id)]).await?.map_or_else(String::new, |r| r.text(0)))
}

async fn set_head(tx: &mut Tx, household_id: i64, person_id: Option<i64>) -> Result<()> {
    tx.exec(
        "UPDATE households SET head_person_id = $1, row_version = row_version + 1, updated_at = $2 WHERE id = $3",
        &[person_id.into(), Arg::Time(crate::now()), Arg::Int(household_id)],
    )
    .await?;
    Ok(())
}

async fn set_membership(tx: &mut Tx, person_id: i64, household_id: Option<i64>, relation: Option<&str>) -> Result<()> {
    tx.exec(
        "UPDATE persons SET household_id = $1, relation = $2, row_version = row_version + 1, updated_at = $3 WHERE id = $4",
        &[household_id.into(), relation.map(str::to_string).into(), Arg::Time(crate::now()), Arg::Int(person_id)],
    )
    .await?;
    Ok(())
}

async fn move_person(tx: &mut Tx, person_id: i64, place_id: i64) -> Result<()> {
    tx.exec(
        "UPDATE persons SET place_id = $1, row_version = row_version + 1, updated_at = $2 WHERE id = $3",
        &[Arg::Int(place_id), Arg::Time(crate::now()), Arg::Int(person_id)],
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &mut Tx,
    actor: &Actor,
    household_id: i64,
    on: Option<NaiveDate>,
    kind: &str,
    person_id: Option<i64>,
    other_household_id: Option<i64>,
    detail: &str,
) -> Result<()> {
    let now = crate::now();
    let on = on.unwrap_or_else(|| now.date_naive());
    tx.exec(
        "INSERT INTO household_events (household_id, on_date, kind, person_id, other_household_id, detail, actor, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Arg::Int(household_id),
            Arg::Date(on),
            kind.into(),
            person_id.into(),
            other_household_id.into(),
            detail.into(),
            actor.name().into(),
            Arg::Time(now),
        ],
    )
    .await?;
    Ok(())
}

fn join_words(parts: &[&str]) -> String {
    parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

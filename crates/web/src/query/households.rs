//! The changes a clerk records in a household through the year (成员加入, 成员迁出, 户主变更,
//! 分户, 整户迁移): their inputs and the functions that check and make them, shared by the
//! household page's forms and the API.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;
use taizhang_domain::registry::{Household, Person, PersonStatus, StatusChange, StatusChangeInput};
use taizhang_domain::relation;
use taizhang_domain::FieldError;
use taizhang_storage::households::{self, LeaveReason};
use taizhang_storage::{persons, places, Tx};

use crate::auth::Me;
use crate::forms::Problem;

/// 成员加入: a registered person (by ID number or `#编号`) joins with a relation to the head.
#[derive(Deserialize, Default, Debug)]
pub struct JoinInput {
    #[serde(default, alias = "person")]
    pub id_number: String,
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// 成员迁出: a member leaves (死亡, 婚出, 分户, 迁出, 其他). A death, or a move out with the
/// place it went to, is also recorded as the person's status.
#[derive(Deserialize, Default, Debug)]
pub struct LeaveInput {
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub place_text: String,
    #[serde(default)]
    pub note: String,
}

/// 户主变更: a member becomes head; the others' relations to the new head (person → relation).
#[derive(Deserialize, Default, Debug)]
pub struct HeadInput {
    #[serde(default)]
    pub head: String,
    #[serde(default)]
    pub relations: BTreeMap<String, String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// One member of a new household in a 分户.
#[derive(Deserialize, Default, Debug, Clone)]
pub struct SplitMember {
    pub person: String,
    #[serde(default)]
    pub relation: String,
}

/// 分户: the members named (the first is the new household's head) form a new household.
#[derive(Deserialize, Default, Debug)]
pub struct SplitInput {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub members: Vec<SplitMember>,
    #[serde(default)]
    pub date: Option<String>,
}

/// 整户迁移: the household and its members move to another village or group in scope.
#[derive(Deserialize, Default, Debug)]
pub struct MoveInput {
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// A person named by `#编号` (forms) or by ID number, within the user's scope.
pub async fn person_ref(tx: &mut Tx, me: &Me, text: &str, key: &str, label: &str, today: NaiveDate) -> Result<Person, Problem> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Problem::field(key, label, "必须填写"));
    }
    if let Some(id) = t.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
        return persons::get(tx, &me.scope, id).await.map_err(|e| Problem::field(key, label, e.to_string()));
    }
    let number = taizhang_domain::idcard::parse_id_number(t, today).map(|p| p.number).unwrap_or_else(|_| t.to_uppercase());
    persons::by_id_number(tx, &me.scope, &number)
        .await?
        .ok_or_else(|| Problem::field(key, label, format!("{t} 未在人员库登记，或不在您的管辖范围内；请先「登记人员」")))
}

/// A place named by `#编号` (forms), 区划代码, name or 村/组, within the user's scope.
pub async fn place_ref(tx: &mut Tx, me: &Me, text: &str, key: &str, label: &str) -> Result<i64, Problem> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Problem::field(key, label, "请选择"));
    }
    if let Some(id) = t.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
        return if me.scope.contains_place(tx, id).await? { Ok(id) } else { Err(Problem::field(key, label, "不存在或不在您的管辖范围内")) };
    }
    places::resolve(tx, &me.scope, t).await.map(|p| p.id).map_err(|e| Problem::field(key, label, e.to_string()))
}

/// The day a change happened: today when not given, never after today.
fn day(text: Option<&str>, today: NaiveDate) -> Result<NaiveDate, Problem> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(today),
        Some(t) => {
            let d = taizhang_domain::period::parse_date_lenient(t).map_err(|e| Problem::field("date", "日期", e.to_string()))?;
            if d > today {
                return Err(Problem::field("date", "日期", "不能晚于今天"));
            }
            Ok(d)
        }
    }
}

/// Checks the relations typed for members before anything is written, so that each message
/// stands beside its member's box (`rel_<编号>`).
fn check_relations(members: &[(Person, String)], to: &str) -> Result<(), Problem> {
    let mut errors = Vec::new();
    for (p, text) in members {
        if text.trim().is_empty() {
            continue;
        }
        match relation::normalize(text, Some(p.sex)) {
            Ok(relation::HEAD) => errors.push(FieldError::new(format!("rel_{}", p.id), format!("{}与{to}关系", p.name), "只能有一位户主")),
            Ok(_) => {}
            Err(reason) => errors.push(FieldError::new(format!("rel_{}", p.id), format!("{}与{to}关系", p.name), reason)),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Problem::fields(errors)) }
}

pub async fn join(tx: &mut Tx, me: &Me, h: &Household, input: &JoinInput, today: NaiveDate) -> Result<Person, Problem> {
    let p = person_ref(tx, me, &input.id_number, "id_number", "公民身份号码", today).await?;
    let on = day(input.date.as_deref(), today)?;
    if input.relation.trim().is_empty() {
        return Err(Problem::field("relation", "与户主关系", "必须填写（如 之子、女儿、配偶）"));
    }
    households::join(tx, &me.user.actor(), &me.scope, h.id, p.id, &input.relation, Some(on), input.reason.trim()).await?;
    Ok(persons::get(tx, &me.scope, p.id).await?)
}

pub async fn leave(tx: &mut Tx, me: &Me, h: &Household, input: &LeaveInput, today: NaiveDate) -> Result<Person, Problem> {
    let p = person_ref(tx, me, &input.person, "person", "迁出成员", today).await?;
    let Some(why) = LeaveReason::parse(&input.reason) else {
        return Err(Problem::field("reason", "迁出原因", "请选择：死亡、婚出、分户、迁出 或 其他"));
    };
    let on = day(input.date.as_deref(), today)?;
    if why == LeaveReason::MoveOut && input.place_text.trim().is_empty() {
        return Err(Problem::field("place_text", "迁往", "户口迁出时必须填写迁往何处"));
    }
    households::leave(tx, &me.user.actor(), &me.scope, h.id, p.id, why, on, input.note.trim()).await?;
    // A death or a move out of the area is the person's status too: recorded here at once, so
    // that the checks on payments after death or move see it.
    let change = match why {
        LeaveReason::Death if p.status != PersonStatus::Dead => Some(StatusChange::Death),
        LeaveReason::MoveOut if p.status != PersonStatus::MovedOut => Some(StatusChange::MoveOut),
        _ => None,
    };
    if let Some(change) = change {
        let now = persons::get(tx, &me.scope, p.id).await?;
        let input = StatusChangeInput { change, date: Some(on), reason: input.note.trim().to_string(), place_text: input.place_text.trim().to_string() };
        persons::set_status(tx, &me.user.actor(), &me.scope, p.id, now.row_version, &input, today).await?;
    }
    Ok(persons::get(tx, &me.scope, p.id).await?)
}

pub async fn change_head(tx: &mut Tx, me: &Me, h: &Household, input: &HeadInput, today: NaiveDate) -> Result<Person, Problem> {
    let head = person_ref(tx, me, &input.head, "head", "新户主", today).await?;
    let on = day(input.date.as_deref(), today)?;
    let mut typed = Vec::new();
    for (who, rel) in &input.relations {
        let p = person_ref(tx, me, who, "relations", "成员", today).await?;
        if p.id != head.id {
            typed.push((p, rel.clone()));
        }
    }
    check_relations(&typed, "新户主")?;
    let rels: Vec<(i64, String)> = typed.into_iter().filter(|(_, r)| !r.trim().is_empty()).map(|(p, r)| (p.id, r)).collect();
    households::change_head(tx, &me.user.actor(), &me.scope, h.id, head.id, &rels, on, input.reason.trim()).await?;
    Ok(head)
}

pub async fn split(tx: &mut Tx, me: &Me, h: &Household, input: &SplitInput, today: NaiveDate) -> Result<Household, Problem> {
    if input.number.trim().is_empty() {
        return Err(Problem::field("number", "新户编号", "必须填写"));
    }
    let place_id = if input.place.trim().is_empty() { h.place_id } else { place_ref(tx, me, &input.place, "place", "新户所在地").await? };
    let on = day(input.date.as_deref(), today)?;
    let mut moving: Vec<(Person, String)> = Vec::new();
    for m in &input.members {
        let p = person_ref(tx, me, &m.person, "head", "分出的成员", today).await?;
        if !moving.iter().any(|(q, _)| q.id == p.id) {
            moving.push((p, m.relation.clone()));
        }
    }
    if moving.is_empty() {
        return Err(Problem::field("head", "新户户主", "请选择（分出的第一人为新户户主）"));
    }
    check_relations(&moving[1..], "新户主")?;
    let mut missing = Vec::new();
    for (p, rel) in &moving[1..] {
        if rel.trim().is_empty() {
            missing.push(FieldError::new(format!("rel_{}", p.id), format!("{}与新户主关系", p.name), "必须填写（如 配偶、子、女）"));
        }
    }
    if !missing.is_empty() {
        return Err(Problem::fields(missing));
    }
    let list: Vec<(i64, String)> = moving.iter().map(|(p, r)| (p.id, r.clone())).collect();
    Ok(households::split(tx, &me.user.actor(), &me.scope, h.id, &input.number, place_id, &list, on).await?)
}

pub async fn move_to(tx: &mut Tx, me: &Me, h: &Household, input: &MoveInput, today: NaiveDate) -> Result<Household, Problem> {
    let place_id = place_ref(tx, me, &input.place, "place", "迁往").await?;
    let on = day(input.date.as_deref(), today)?;
    Ok(households::move_to(tx, &me.user.actor(), &me.scope, h.id, place_id, on, input.reason.trim()).await?)
}

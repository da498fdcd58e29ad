//! Importing households (户): a row names a household by 户编号, its village (and group) and its
//! head by 公民身份号码. Members join through the 花名册 (its 户编号 and 与户主关系 columns).
//!
//! - A 户编号 not yet registered is a new household at the row's place; its head, when named,
//!   becomes its head (registered first from 户主姓名 when not yet in the registry).
//! - A registered household is brought up to date: a head named for a household without one
//!   joins as its head; a group given for a household registered at the village level is a
//!   move into that group (整户迁移 within the village, told in the household's history).
//! - What a roster cannot decide is refused naming its column: another village or group
//!   (整户迁移 is done on the household page), a different head (户主变更 asks for every
//!   member's new relation), a 户主姓名 that is not the registered name.
//!
//! Re-importing the same file finds everything as it is and writes nothing (未变).

use taizhang_domain::idcard::parse_id_number;
use taizhang_domain::place::Place;
use taizhang_domain::registry::{validate_person, NewPerson, Person, PersonInput};
use taizhang_domain::relation::HEAD;
use taizhang_domain::DomainError;
use taizhang_storage::{households, persons, places, Tx};
use taizhang_tabular::RawRow;

use super::rows::{Ctx, Importer, Table};
use super::templates::{Col, Kind};
use super::Refusal;
use crate::convert::lookup_text;
use crate::import::{RowErrors, Verdict};
use crate::Result;

const NUMBER: &str = "number";
const HEAD_NAME: &str = "head_name";
const HEAD_ID: &str = "head_id_number";
const VILLAGE: &str = "village";
const GROUP: &str = "group";
const SEQ: &str = "seq";

pub(super) const COLUMNS: &[Col] = &[
    Col {
        key: NUMBER,
        labels: &["户编号", "户号", "家庭户号", "家庭编号"],
        kind: Kind::Id,
        note: "必填；县里系统的户编号，按此认出已登记的户；须为文本格式",
    },
    Col { key: HEAD_NAME, labels: &["户主姓名", "户主"], kind: Kind::Text, note: "选填；户主尚未登记时据此登记户主" },
    Col {
        key: HEAD_ID,
        labels: &["户主身份证号码", "户主身份证号", "户主公民身份号码", "户主证件号码"],
        kind: Kind::Id,
        note: "选填；18 位，末位可为 X",
    },
    Col {
        key: VILLAGE,
        labels: &["所属村", "村", "村名", "行政村", "村（社区）", "所在村", "村社区"],
        kind: Kind::Text,
        note: "新建户必填；村名",
    },
    Col { key: GROUP, labels: &["组", "村民小组", "所属组", "组别", "小组"], kind: Kind::Text, note: "选填；如 一组" },
    Col { key: SEQ, labels: &["序号"], kind: Kind::Text, note: "" },
];

/// What a row says.
pub(super) struct Row {
    number: String,
    place: Option<(Place, &'static str)>,
    head: Option<Head>,
    /// 户主姓名 without an ID number: only checked against the registered head.
    head_name_only: Option<String>,
}

struct Head {
    id_number: String,
    name: String,
    /// The head as they would be registered, when a name is given (its place set on writing).
    new: Option<NewPerson>,
}

pub(super) struct Households;

impl Importer for Households {
    type Row = Row;

    async fn read(&mut self, tx: &mut Tx, ctx: &Ctx<'_>, t: &Table<'_>, row: &RawRow, errs: &mut RowErrors<'_>) -> Result<Option<Row>> {
        let number = t.code(row, NUMBER, "户编号", errs);
        if number.is_none() && errs.list.is_empty() {
            errs.by_key(NUMBER, "必须填写户编号");
        }
        let place = t.place(tx, ctx.scope, row, VILLAGE, Some(GROUP), errs).await?;
        let name = t.text(row, HEAD_NAME);
        let head_id = match lookup_text(t.cell(row, HEAD_ID), true) {
            Ok(Some(text)) => match parse_id_number(&text, ctx.today) {
                Ok(p) => Some(p.number),
                Err(e) => {
                    errs.by_key(HEAD_ID, e.to_string());
                    None
                }
            },
            Ok(None) => None,
            Err(reason) => {
                errs.by_key(HEAD_ID, reason);
                None
            }
        };
        let mut head = None;
        if let Some(id_number) = head_id {
            let new = if name.is_empty() {
                None
            } else {
                let input = PersonInput { name: name.clone(), id_number: id_number.clone(), ..Default::default() };
                match validate_person(&input, ctx.today) {
                    Ok(p) => Some(p),
                    Err(DomainError::Fields(list)) => {
                        for fe in list {
                            let key = if fe.key == "name" { HEAD_NAME } else { HEAD_ID };
                            errs.by_key(key, fe.reason);
                        }
                        None
                    }
                    Err(e) => {
                        errs.by_key(HEAD_ID, e.to_string());
                        None
                    }
                }
            };
            head = Some(Head { id_number, name: name.clone(), new });
        }
        let head_name_only = Some(name).filter(|n| head.is_none() && !n.is_empty());
        Ok(number.map(|number| Row { number, place, head, head_name_only }))
    }

    fn key(&self, row: &Row) -> (String, &'static str, String) {
        (row.number.clone(), NUMBER, format!("户（户编号 {}）", row.number))
    }

    async fn write(&mut self, tx: &mut Tx, ctx: &Ctx<'_>, row: Row) -> std::result::Result<Verdict, Refusal> {
        match households::by_number(tx, ctx.scope, &row.number).await? {
            Some(h) => update(tx, ctx, &row, h).await,
            None => create(tx, ctx, &row).await,
        }
    }
}

/// A new household at the row's place, with its head when one is named.
async fn create(tx: &mut Tx, ctx: &Ctx<'_>, row: &Row) -> std::result::Result<Verdict, Refusal> {
    let Some((place, place_key)) = &row.place else {
        return Err(Refusal::at(VILLAGE, "新建户必须填写所属村"));
    };
    if let Some(name) = &row.head_name_only {
        return Err(name_only(name));
    }
    let mut place_id = place.id;
    let head = match &row.head {
        Some(h) => {
            let p = head_person(tx, ctx, h, place.id).await?;
            if let Some(number) = other_household(tx, ctx, &p, None).await? {
                return Err(Refusal::at(HEAD_ID, format!("「{}」已是户 {number} 的成员，不能再做新户的户主；分户请在户 {number} 的页面办理「分户」", p.name)));
            }
            if p.place_id != place.id {
                // The row may name the village of a head registered in one of its groups.
                let at = places::get(tx, p.place_id).await?;
                if !place.contains(&at) {
                    let label = super::place_label(tx, &at).await?;
                    return Err(Refusal::at(place_key, format!("户主「{}」登记在「{label}」，与表中的所属村/组不同；户的村组与户主相同", p.name)));
                }
                place_id = p.place_id;
            }
            Some(p)
        }
        None => None,
    };
    let h = households::create(tx, ctx.actor, ctx.scope, &row.number, place_id)
        .await
        .map_err(|e| Refusal::mapped(e, &[("number", NUMBER)], NUMBER))?;
    if let Some(p) = head {
        households::add_member(tx, ctx.actor, ctx.scope, h.id, p.id, HEAD).await.map_err(|e| Refusal::mapped(e, &[], HEAD_ID))?;
    }
    Ok(Verdict::New)
}

/// A registered household: its head filled in, or its group, when the row gives them.
async fn update(tx: &mut Tx, ctx: &Ctx<'_>, row: &Row, h: taizhang_domain::registry::Household) -> std::result::Result<Verdict, Refusal> {
    let mut changed = false;
    // The place first: a head registered here takes the household's place.
    let mut place_id = h.place_id;
    if let Some((given, key)) = &row.place {
        if given.id != h.place_id {
            let stored = places::get(tx, h.place_id).await?;
            if given.contains(&stored) {
                // The village of a household registered in one of its groups: less precise, not different.
            } else if stored.contains(given) && given.parent_id == Some(stored.id) {
                // A group of the village the household is registered in: the group is filled in.
                let reason = format!("{}：补充组别", ctx.origin);
                households::move_to(tx, ctx.actor, ctx.scope, h.id, given.id, ctx.today, &reason).await.map_err(|e| Refusal::mapped(e, &[], key))?;
                place_id = given.id;
                changed = true;
            } else {
                let label = super::place_label(tx, &stored).await?;
                return Err(Refusal::at(
                    key,
                    format!("户 {} 登记在「{label}」，与表中的所属村/组不同；整户迁往他村他组请在户页面办理「整户迁移」", h.number),
                ));
            }
        }
    }
    let current_head = match h.head_person_id {
        Some(id) => Some(persons::get(tx, ctx.scope, id).await?),
        None => None,
    };
    if let Some(name) = &row.head_name_only {
        return match &current_head {
            Some(p) if p.name == *name => Ok(verdict(changed)),
            Some(p) => Err(Refusal::at(HEAD_NAME, format!("户 {} 的户主登记为「{}」，与表中的「{name}」不同；更换户主请在户页面办理「户主变更」", h.number, p.name))),
            None => Err(name_only(name)),
        };
    }
    let Some(head) = &row.head else { return Ok(verdict(changed)) };
    match &current_head {
        Some(p) if p.id_number == head.id_number => {
            if !head.name.is_empty() && head.name != p.name {
                return Err(Refusal::at(HEAD_NAME, format!("与已登记的姓名「{}」不同（公民身份号码 {}）；更正姓名请在人员页面办理", p.name, p.id_number)));
            }
            Ok(verdict(changed))
        }
        Some(p) => Err(Refusal::at(
            HEAD_ID,
            format!(
                "户 {} 的户主是「{}」（公民身份号码 {}），与表中的户主不同；更换户主请在户页面办理「户主变更」（须重新确定各成员与新户主的关系）",
                h.number, p.name, p.id_number
            ),
        )),
        None => {
            let p = head_person(tx, ctx, head, place_id).await?;
            if p.household_id == Some(h.id) {
                return Err(Refusal::at(
                    HEAD_ID,
                    format!("「{}」已是户 {} 的成员（{}）；让其成为户主请在户页面办理「户主变更」", p.name, h.number, p.relation.clone().unwrap_or_default()),
                ));
            }
            if let Some(number) = other_household(tx, ctx, &p, Some(h.id)).await? {
                return Err(Refusal::at(HEAD_ID, format!("「{}」已是户 {number} 的成员；转入户 {} 须先在户 {number} 办理「成员迁出」", p.name, h.number)));
            }
            if p.place_id != place_id {
                let at = places::get(tx, p.place_id).await?;
                let label = super::place_label(tx, &at).await?;
                return Err(Refusal::at(HEAD_ID, format!("户主「{}」登记在「{label}」，与户 {} 的村组不同", p.name, h.number)));
            }
            households::add_member(tx, ctx.actor, ctx.scope, h.id, p.id, HEAD).await.map_err(|e| Refusal::mapped(e, &[], HEAD_ID))?;
            Ok(Verdict::Updated)
        }
    }
}

fn verdict(changed: bool) -> Verdict {
    if changed {
        Verdict::Updated
    } else {
        Verdict::Unchanged
    }
}

fn name_only(name: &str) -> Refusal {
    Refusal::at(
        HEAD_NAME,
        format!("只有户主姓名「{name}」认不出是谁：请填写户主身份证号码，或删去户主姓名一列，之后由花名册（与户主关系为「户主」）确定户主"),
    )
}

/// The head the row names: registered, or registered now from 户主姓名 at `place_id`.
async fn head_person(tx: &mut Tx, ctx: &Ctx<'_>, h: &Head, place_id: i64) -> std::result::Result<Person, Refusal> {
    if let Some(p) = persons::by_id_number(tx, ctx.scope, &h.id_number).await? {
        if !h.name.is_empty() && h.name != p.name {
            return Err(Refusal::at(HEAD_NAME, format!("与已登记的姓名「{}」不同（公民身份号码 {}）；更正姓名请在人员页面办理", p.name, p.id_number)));
        }
        return Ok(p);
    }
    let Some(new) = &h.new else {
        return Err(Refusal::at(
            HEAD_ID,
            format!("户主（公民身份号码 {}）尚未登记：请填写户主姓名以便登记，或先导入花名册", h.id_number),
        ));
    };
    let mut new = new.clone();
    new.place_id = place_id;
    let p = persons::create(tx, ctx.actor, ctx.scope, &new)
        .await
        .map_err(|e| Refusal::mapped(e, &[("name", HEAD_NAME), ("id_number", HEAD_ID)], HEAD_ID))?;
    Ok(p)
}

/// The number of another household `p` belongs to, if any.
async fn other_household(tx: &mut Tx, ctx: &Ctx<'_>, p: &Person, this: Option<i64>) -> std::result::Result<Option<String>, Refusal> {
    match p.household_id.filter(|id| Some(*id) != this) {
        Some(id) => {
            let number = households::get(tx, ctx.scope, id).await.map_or_else(|_| id.to_string(), |h| h.number);
            Ok(Some(number))
        }
        None => Ok(None),
    }
}

//! Importing organisations (单位名录): enterprises, 个体工商户, cooperatives, shops, schools …
//!
//! Which registered organisation a row is about (the natural key):
//! - with a 统一社会信用代码: the organisation registered with that code; failing that, one
//!   of the same name at the same place registered without a code (its code is filled in);
//! - without one: the organisation of that name at the row's village (any village when it is
//!   blank). Names alone are not unique in a town — every village has its 村卫生室 — so two
//!   it could mean are refused, asking for the code or the village.
//!
//! A registered organisation is brought up to date through `orgs::update_org` (audited with
//! before and after; a 注销日期 records that it closed); a blank cell never clears a value.

use chrono::NaiveDate;
use taizhang_domain::place::Place;
use taizhang_domain::registry::{check_phone, Organisation, ORGANISATION_KINDS};
use taizhang_domain::uscc::validate_uscc;
use taizhang_storage::{orgs, Scope, StoreError, Tx};
use taizhang_tabular::RawRow;

use super::rows::{take, Ctx, Importer, Table};
use super::templates::{Col, Kind};
use super::Refusal;
use crate::import::{RowErrors, Verdict};
use crate::Result;

const NAME: &str = "name";
const USCC: &str = "uscc";
const KIND: &str = "kind";
const ADDRESS: &str = "address";
const PLACE: &str = "place";
const CONTACT: &str = "contact";
const PHONE: &str = "phone";
const ENDED: &str = "ended_on";
const SEQ: &str = "seq";

pub(super) const COLUMNS: &[Col] = &[
    Col {
        key: NAME,
        labels: &["单位名称", "名称", "企业名称", "市场主体名称", "经营者名称", "组织名称", "单位"],
        kind: Kind::Text,
        note: "必填",
    },
    Col {
        key: USCC,
        labels: &["统一社会信用代码", "社会信用代码", "信用代码", "统一代码"],
        kind: Kind::Id,
        note: "选填；18 位；填了就按此认出已登记的单位",
    },
    Col {
        key: KIND,
        labels: &["单位类型", "类型", "单位类别", "类别", "市场主体类型", "组织类型"],
        kind: Kind::Enum(ORGANISATION_KINDS),
        note: "新登记的单位必填",
    },
    Col { key: ADDRESS, labels: &["地址", "经营地址", "详细地址", "单位地址", "住所", "经营场所"], kind: Kind::Text, note: "选填" },
    Col { key: PLACE, labels: &["所属村", "所在村", "村", "所属地点", "村（社区）"], kind: Kind::Text, note: "新登记的单位必填；村名（镇直单位填镇名）" },
    Col { key: CONTACT, labels: &["联系人", "负责人", "法定代表人", "经营者"], kind: Kind::Text, note: "选填" },
    Col { key: PHONE, labels: &["联系电话", "电话", "手机号码", "手机号", "联系方式"], kind: Kind::Id, note: "选填；手机 11 位，座机带区号" },
    Col { key: ENDED, labels: &["注销日期", "停业日期", "注销时间", "关停日期"], kind: Kind::Date, note: "选填；注销、停业的单位填写，此后不能再被选用" },
    Col { key: SEQ, labels: &["序号"], kind: Kind::Text, note: "" },
];

/// 企业, 个体工商户 … and the words registers use for them.
fn kind_of(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if let Some(k) = ORGANISATION_KINDS.iter().find(|k| **k == t) {
        return Some(k);
    }
    Some(match t {
        "公司" | "有限公司" | "有限责任公司" | "企业法人" | "私营企业" => "企业",
        "个体户" | "个体" | "个体经营户" => "个体工商户",
        "合作社" | "专业合作社" | "农民合作社" => "农民专业合作社",
        "农场" => "家庭农场",
        "网点" | "加油站" | "液化气站" => "经营网点",
        "超市" | "小卖部" | "商店（超市）" | "便利店" => "商店",
        "小学" | "中学" | "幼儿园" | "学校（幼儿园）" => "学校",
        "卫生院" | "卫生室" | "村卫生室" | "诊所" | "医院" => "医疗机构",
        "协会" | "社团" => "社会组织",
        _ => return None,
    })
}

/// What a row says.
pub(super) struct Row {
    name: String,
    uscc: Option<String>,
    kind: Option<&'static str>,
    address: String,
    place: Option<Place>,
    contact: String,
    phone: String,
    ended_on: Option<NaiveDate>,
}

/// The organisations in the importer's scope, kept up to date as rows are written.
pub(super) struct Orgs {
    list: Vec<Organisation>,
}

impl Orgs {
    pub(super) async fn load(tx: &mut Tx, scope: &Scope) -> Result<Orgs> {
        Ok(Orgs { list: orgs::list_orgs(tx, scope).await? })
    }

    /// The registered organisation the row is about (an index into `list`), `None` for a new one.
    fn find(&self, row: &Row) -> std::result::Result<Option<usize>, Refusal> {
        let place_id = row.place.as_ref().map(|p| p.id);
        let by_name = |o: &Organisation| o.name == row.name && place_id.is_none_or(|p| p == o.place_id);
        let (candidates, column): (Vec<usize>, &'static str) = match &row.uscc {
            Some(code) => {
                if let Some(i) = self.list.iter().position(|o| o.uscc.as_deref() == Some(code.as_str())) {
                    return Ok(Some(i));
                }
                ((0..self.list.len()).filter(|i| self.list[*i].uscc.is_none() && by_name(&self.list[*i])).collect(), USCC)
            }
            None => ((0..self.list.len()).filter(|i| by_name(&self.list[*i])).collect(), NAME),
        };
        let open: Vec<usize> = candidates.iter().copied().filter(|i| self.list[*i].ended_on.is_none()).collect();
        let pool = if open.is_empty() { candidates } else { open };
        match pool.len() {
            0 | 1 => Ok(pool.first().copied()),
            n => Err(Refusal::at(
                column,
                format!("单位名录中有 {n} 个「{}」符合本行，认不出是哪一个；请填写统一社会信用代码或所属村加以区分", row.name),
            )),
        }
    }
}

impl Importer for Orgs {
    type Row = Row;

    async fn read(&mut self, tx: &mut Tx, ctx: &Ctx<'_>, t: &Table<'_>, row: &RawRow, errs: &mut RowErrors<'_>) -> Result<Option<Row>> {
        let name = t.text(row, NAME);
        if name.is_empty() {
            errs.by_key(NAME, "必须填写单位名称");
        } else if name.chars().count() > 100 {
            errs.by_key(NAME, "不能超过 100 个字");
        }
        let uscc = match t.code(row, USCC, "统一社会信用代码", errs) {
            Some(code) => match validate_uscc(&code) {
                Ok(n) => Some(n),
                Err(e) => {
                    errs.by_key(USCC, e.to_string());
                    None
                }
            },
            None => None,
        };
        let kind_text = t.text(row, KIND);
        let kind = if kind_text.is_empty() {
            None
        } else {
            let k = kind_of(&kind_text);
            if k.is_none() {
                errs.by_key(KIND, format!("「{kind_text}」不是可选的单位类型（可选：{}）", ORGANISATION_KINDS.join("、")));
            }
            k
        };
        let place = t.place(tx, ctx.scope, row, PLACE, None, errs).await?.map(|(p, _)| p);
        let phone = t.text(row, PHONE);
        if !phone.is_empty() {
            if let Err(reason) = check_phone(&phone) {
                errs.by_key(PHONE, reason);
            }
        }
        let ended_on = t.date(row, ENDED, errs);
        if ended_on.is_some_and(|d| d > ctx.today) {
            errs.by_key(ENDED, "不能晚于今天");
        }
        if !errs.list.is_empty() {
            return Ok(None);
        }
        Ok(Some(Row { name, uscc, kind, address: t.text(row, ADDRESS), place, contact: t.text(row, CONTACT), phone, ended_on }))
    }

    fn key(&self, row: &Row) -> (String, &'static str, String) {
        match &row.uscc {
            Some(code) => (format!("uscc:{code}"), USCC, format!("单位（统一社会信用代码 {code}）")),
            None => {
                let at = row.place.as_ref().map_or(0, |p| p.id);
                (format!("name:{}@{at}", row.name), NAME, format!("单位「{}」", row.name))
            }
        }
    }

    async fn write(&mut self, tx: &mut Tx, ctx: &Ctx<'_>, row: Row) -> std::result::Result<Verdict, Refusal> {
        match self.find(&row)? {
            Some(i) => {
                let before = self.list[i].clone();
                let mut o = before.clone();
                take(&mut o.name, &row.name);
                if o.uscc.is_none() {
                    o.uscc = row.uscc.clone();
                }
                if let Some(k) = row.kind {
                    o.kind = k.to_string();
                }
                take(&mut o.address, &row.address);
                if let Some(p) = &row.place {
                    o.place_id = p.id;
                }
                take(&mut o.contact, &row.contact);
                take(&mut o.phone, &row.phone);
                if row.ended_on.is_some() {
                    o.ended_on = row.ended_on;
                }
                if o == before {
                    return Ok(Verdict::Unchanged);
                }
                let after = orgs::update_org(tx, ctx.actor, ctx.scope, &o, ctx.today).await.map_err(refusal)?;
                self.list[i] = after;
                Ok(Verdict::Updated)
            }
            None => {
                let Some(place) = &row.place else {
                    return Err(Refusal::at(PLACE, "新登记的单位必须填写所属村"));
                };
                let Some(kind) = row.kind else {
                    return Err(Refusal::at(KIND, format!("新登记的单位必须填写单位类型（可选：{}）", ORGANISATION_KINDS.join("、"))));
                };
                let new = Organisation {
                    id: 0,
                    name: row.name.clone(),
                    uscc: row.uscc.clone(),
                    kind: kind.to_string(),
                    address: row.address.clone(),
                    place_id: place.id,
                    contact: row.contact.clone(),
                    phone: row.phone.clone(),
                    ended_on: None,
                };
                let mut saved = orgs::create_org(tx, ctx.actor, ctx.scope, &new).await.map_err(refusal)?;
                if let Some(d) = row.ended_on {
                    // One that has already closed: registered, then its 注销 recorded.
                    saved = orgs::update_org(tx, ctx.actor, ctx.scope, &Organisation { ended_on: Some(d), ..saved }, ctx.today).await.map_err(refusal)?;
                }
                self.list.push(saved);
                Ok(Verdict::New)
            }
        }
    }
}

fn refusal(e: StoreError) -> Refusal {
    let fields = [("name", NAME), ("uscc", USCC), ("kind", KIND), ("ended_on", ENDED), ("place_id", PLACE)];
    // A code registered to another organisation (outside the scope, or named differently).
    Refusal::mapped(e, &fields, USCC)
}

//! Importing cadres (干部名册): a row names a cadre, their post and place, and when they left.
//!
//! Which registered cadre a row is about (the natural key):
//! - with a 公民身份号码: the cadre linked to the person registered with that number, or the
//!   cadre of the same name born on the day the number gives; failing both, a cadre of the same
//!   name at the same place registered without a birth date (their number is then filled in);
//! - without one: the cadre of that name at the row's place (any place when it is blank).
//!
//! Cadres still in post come first; among those who have left, a row matches the one who left
//! on its 离任日期, or one with the same post: anyone else is a new appointment of the same
//! person, a new cadre. Two cadres the row could mean are refused, asking for the ID number.
//!
//! A registered cadre is brought up to date through `orgs::update_cadre` (audited with before
//! and after; a 离任日期 is the 离任); a blank cell never clears a value.

use chrono::NaiveDate;
use taizhang_domain::idcard::parse_id_number;
use taizhang_domain::place::{Place, PlaceLevel};
use taizhang_domain::registry::{check_phone, Cadre, CadreKind};
use taizhang_domain::role::Actor;
use taizhang_storage::{orgs, persons, Scope, Tx};
use taizhang_tabular::RawRow;

use super::rows::{take, Ctx, Importer, Table};
use super::templates::{Col, Kind};
use super::Refusal;
use crate::convert::lookup_text;
use crate::import::{RowErrors, Verdict};
use crate::Result;

const NAME: &str = "name";
const ID: &str = "id_number";
const BIRTH: &str = "birth_date";
const KIND: &str = "kind";
const POST: &str = "post";
const UNIT: &str = "unit";
const PLACE: &str = "place";
const PHONE: &str = "phone";
const ENDED: &str = "ended_on";
const END_REASON: &str = "end_reason";
const SEQ: &str = "seq";

const KINDS: &[&str] = &["镇干部", "村干部", "驻村工作队员", "其他"];

pub(super) const COLUMNS: &[Col] = &[
    Col { key: NAME, labels: &["姓名", "干部姓名"], kind: Kind::Text, note: "必填" },
    Col {
        key: ID,
        labels: &["公民身份号码", "身份证号", "身份证号码", "证件号码", "身份证件号码"],
        kind: Kind::Id,
        note: "选填；18 位，末位可为 X；填了就按此认出已登记的干部，同名的也不会混淆",
    },
    Col { key: BIRTH, labels: &["出生日期", "出生年月"], kind: Kind::Date, note: "选填；填了身份证号码时可不填" },
    Col {
        key: KIND,
        labels: &["干部类别", "类别", "人员类别", "干部类型", "身份类别"],
        kind: Kind::Enum(KINDS),
        note: "选填；不填时按所属地点：镇为镇干部，村为村干部",
    },
    Col { key: POST, labels: &["职务", "现任职务", "职位", "岗位"], kind: Kind::Text, note: "选填；如 村党支部书记" },
    Col { key: UNIT, labels: &["工作单位", "所在单位", "任职单位", "单位"], kind: Kind::Text, note: "选填；如 北斗溪镇人民政府" },
    Col {
        key: PLACE,
        labels: &["所属地点", "所在村", "所属村", "所在地", "所在村（社区）", "所驻村", "驻村"],
        kind: Kind::Text,
        note: "新登记的干部必填；村干部、驻村工作队员填村名，镇干部填镇名",
    },
    Col { key: PHONE, labels: &["联系电话", "电话", "手机号码", "手机号", "联系方式"], kind: Kind::Id, note: "选填；手机 11 位，座机带区号" },
    Col { key: ENDED, labels: &["离任日期", "离职日期", "卸任日期", "免职日期"], kind: Kind::Date, note: "选填；离任的干部填写，此后不能再被选为经办人" },
    Col { key: END_REASON, labels: &["离任原因", "离职原因", "卸任原因"], kind: Kind::Text, note: "选填；如 换届、调离" },
    Col { key: SEQ, labels: &["序号"], kind: Kind::Text, note: "" },
];

/// 镇干部, 村干部 … and the words rosters use for them.
fn kind_of(text: &str) -> Option<CadreKind> {
    CadreKind::parse(text).or(match text.trim() {
        "乡镇干部" | "镇机关干部" | "机关干部" | "镇政府干部" => Some(CadreKind::Town),
        "村（社区）干部" | "村社区干部" | "社区干部" | "村组干部" | "村两委干部" | "村两委" => Some(CadreKind::Village),
        "驻村干部" | "驻村队员" | "工作队员" | "驻村工作队" | "第一书记" | "驻村第一书记" => Some(CadreKind::Resident),
        _ => None,
    })
}

/// What a row says.
pub(super) struct Row {
    name: String,
    /// The normalised ID number and the birth date it gives.
    id: Option<(String, NaiveDate)>,
    birth_date: Option<NaiveDate>,
    kind: Option<CadreKind>,
    post: String,
    unit: String,
    place: Option<Place>,
    phone: String,
    ended_on: Option<NaiveDate>,
    end_reason: String,
    /// The person registered with the row's ID number, if any.
    person_id: Option<i64>,
}

/// The cadres in the importer's scope, kept up to date as rows are written.
pub(super) struct Cadres {
    list: Vec<Cadre>,
}

impl Cadres {
    pub(super) async fn load(tx: &mut Tx, scope: &Scope) -> Result<Cadres> {
        Ok(Cadres { list: orgs::list_cadres(tx, scope).await? })
    }

    /// The registered cadre the row is about (an index into `list`), `None` for a new one.
    fn find(&self, row: &Row) -> std::result::Result<Option<usize>, Refusal> {
        let place_id = row.place.as_ref().map(|p| p.id);
        let matching = |f: &dyn Fn(&Cadre) -> bool| -> Vec<usize> { (0..self.list.len()).filter(|i| f(&self.list[*i])).collect() };
        let (candidates, column) = match &row.id {
            Some((_, born)) => {
                let by_id = matching(&|c| (row.person_id.is_some() && c.person_id == row.person_id) || (c.name == row.name && c.birth_date == Some(*born)));
                if by_id.is_empty() {
                    (matching(&|c| c.name == row.name && c.birth_date.is_none() && place_id == Some(c.place_id)), ID)
                } else {
                    (by_id, ID)
                }
            }
            None => (matching(&|c| c.name == row.name && place_id.is_none_or(|p| p == c.place_id)), NAME),
        };
        let same_end: Vec<usize> = candidates.iter().copied().filter(|i| row.ended_on.is_some() && self.list[*i].ended_on == row.ended_on).collect();
        let active: Vec<usize> = candidates.iter().copied().filter(|i| self.list[*i].ended_on.is_none()).collect();
        let pool = if !same_end.is_empty() {
            same_end
        } else if !active.is_empty() {
            active
        } else {
            candidates.iter().copied().filter(|i| row.post.is_empty() || self.list[*i].post == row.post).collect()
        };
        if pool.len() <= 1 {
            return Ok(pool.first().copied());
        }
        let by_post: Vec<usize> = pool.iter().copied().filter(|i| !row.post.is_empty() && self.list[*i].post == row.post).collect();
        if by_post.len() == 1 {
            return Ok(by_post.first().copied());
        }
        Err(Refusal::at(
            column,
            format!(
                "干部名册中有 {} 位「{}」符合本行，认不出是哪一位；请填写身份证号码（或职务）加以区分，或在干部名册中核对",
                pool.len(),
                row.name
            ),
        ))
    }
}

impl Importer for Cadres {
    type Row = Row;

    async fn read(&mut self, tx: &mut Tx, ctx: &Ctx<'_>, t: &Table<'_>, row: &RawRow, errs: &mut RowErrors<'_>) -> Result<Option<Row>> {
        let name = t.text(row, NAME);
        if name.is_empty() {
            errs.by_key(NAME, "必须填写姓名");
        } else if name.chars().count() > 50 {
            errs.by_key(NAME, "不能超过 50 个字");
        }
        let id = match lookup_text(t.cell(row, ID), true) {
            Ok(Some(text)) => match parse_id_number(&text, ctx.today) {
                Ok(p) => Some((p.number, p.birth_date)),
                Err(e) => {
                    errs.by_key(ID, e.to_string());
                    None
                }
            },
            Ok(None) => None,
            Err(reason) => {
                errs.by_key(ID, reason);
                None
            }
        };
        let birth = t.date(row, BIRTH, errs);
        if let (Some((_, born)), Some(b)) = (&id, birth) {
            if *born != b {
                errs.by_key(BIRTH, format!("与身份证号码所示的出生日期 {born} 不同，请核对"));
            }
        }
        let birth_date = id.as_ref().map(|(_, b)| *b).or(birth);
        if birth_date.is_some_and(|b| b > ctx.today) {
            errs.by_key(BIRTH, "不能晚于今天");
        }
        let kind_text = t.text(row, KIND);
        let kind = if kind_text.is_empty() {
            None
        } else {
            let k = kind_of(&kind_text);
            if k.is_none() {
                errs.by_key(KIND, format!("「{kind_text}」不是干部类别（可填：{}）", KINDS.join("、")));
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
        let end_reason = t.text(row, END_REASON);
        if end_reason.chars().count() > 200 {
            errs.by_key(END_REASON, "不能超过 200 个字");
        }
        if !errs.list.is_empty() {
            return Ok(None);
        }
        let person_id = match &id {
            Some((number, _)) => persons::by_id_number(tx, ctx.scope, number).await?.map(|p| p.id),
            None => None,
        };
        Ok(Some(Row {
            name,
            id,
            birth_date,
            kind,
            post: t.text(row, POST),
            unit: t.text(row, UNIT),
            place,
            phone,
            ended_on,
            end_reason,
            person_id,
        }))
    }

    fn key(&self, row: &Row) -> (String, &'static str, String) {
        match &row.id {
            Some((number, _)) => (format!("id:{number}"), ID, format!("干部（公民身份号码 {number}）")),
            None => {
                let at = row.place.as_ref().map_or(0, |p| p.id);
                (format!("name:{}@{at}", row.name), NAME, format!("干部「{}」", row.name))
            }
        }
    }

    async fn write(&mut self, tx: &mut Tx, ctx: &Ctx<'_>, row: Row) -> std::result::Result<Verdict, Refusal> {
        match self.find(&row)? {
            Some(i) => {
                let before = self.list[i].clone();
                let wanted = merged(&before, &row)?;
                if wanted == before {
                    return Ok(Verdict::Unchanged);
                }
                let after = orgs::update_cadre(tx, ctx.actor, ctx.scope, &wanted, ctx.today).await.map_err(|e| refusal(e, &row))?;
                self.list[i] = after;
                Ok(Verdict::Updated)
            }
            None => {
                let saved = create(tx, ctx.actor, ctx.scope, &row, ctx.today).await?;
                self.list.push(saved);
                Ok(Verdict::New)
            }
        }
    }
}

/// The registered cadre with what the row gives over it (blank cells change nothing).
fn merged(before: &Cadre, row: &Row) -> std::result::Result<Cadre, Refusal> {
    let mut c = before.clone();
    take(&mut c.name, &row.name);
    if let Some(k) = row.kind {
        c.kind = k;
    }
    take(&mut c.post, &row.post);
    take(&mut c.unit, &row.unit);
    if row.birth_date.is_some() {
        c.birth_date = row.birth_date;
    }
    if let Some(p) = &row.place {
        c.place_id = p.id;
    }
    take(&mut c.phone, &row.phone);
    if row.ended_on.is_some() {
        c.ended_on = row.ended_on;
    }
    if !row.end_reason.is_empty() {
        if c.ended_on.is_none() {
            return Err(Refusal::at(END_REASON, "填写了离任原因时必须填写离任日期"));
        }
        take(&mut c.end_reason, &row.end_reason);
    }
    Ok(c)
}

async fn create(tx: &mut Tx, actor: &Actor, scope: &Scope, row: &Row, today: NaiveDate) -> std::result::Result<Cadre, Refusal> {
    let Some(place) = &row.place else {
        return Err(Refusal::at(PLACE, "新登记的干部必须填写所属地点（村干部填村名，镇干部填镇名）"));
    };
    if row.ended_on.is_none() && !row.end_reason.is_empty() {
        return Err(Refusal::at(END_REASON, "填写了离任原因时必须填写离任日期"));
    }
    let kind = row.kind.unwrap_or(match place.level {
        PlaceLevel::County | PlaceLevel::Town => CadreKind::Town,
        PlaceLevel::Village | PlaceLevel::Group => CadreKind::Village,
    });
    let new = Cadre {
        id: 0,
        name: row.name.clone(),
        kind,
        post: row.post.clone(),
        unit: row.unit.clone(),
        birth_date: row.birth_date,
        place_id: place.id,
        person_id: row.person_id,
        user_id: None,
        phone: row.phone.clone(),
        ended_on: None,
        end_reason: String::new(),
    };
    let saved = orgs::create_cadre(tx, actor, scope, &new, today).await.map_err(|e| refusal(e, row))?;
    match row.ended_on {
        // Someone who has already left: registered, then their 离任 recorded.
        Some(d) => {
            let ended = Cadre { ended_on: Some(d), end_reason: row.end_reason.clone(), ..saved };
            orgs::update_cadre(tx, actor, scope, &ended, today).await.map_err(|e| refusal(e, row))
        }
        None => Ok(saved),
    }
}

fn refusal(e: taizhang_storage::StoreError, row: &Row) -> Refusal {
    let birth = if row.id.is_some() { ID } else { BIRTH };
    let fields = [("name", NAME), ("ended_on", ENDED), ("end_reason", END_REASON), ("birth_date", birth), ("phone", PHONE), ("place_id", PLACE)];
    Refusal::mapped(e, &fields, NAME)
}

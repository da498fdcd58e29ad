//! The registry (基础信息): persons, households, cadres and organisations that ledgers hang on.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldError};
use crate::idcard::{parse_id_number, Sex};
use crate::uscc::validate_uscc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// 正常 (在册): living here, including after a move back in.
    #[default]
    Alive,
    Dead,
    MovedOut,
    /// 失联: whereabouts unknown; records stay, a check may ask about payments.
    LostContact,
}

impl PersonStatus {
    pub const ALL: [PersonStatus; 4] =
        [PersonStatus::Alive, PersonStatus::Dead, PersonStatus::MovedOut, PersonStatus::LostContact];

    pub fn key(self) -> &'static str {
        match self {
            PersonStatus::Alive => "alive",
            PersonStatus::Dead => "dead",
            PersonStatus::MovedOut => "moved_out",
            PersonStatus::LostContact => "lost_contact",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            PersonStatus::Alive => "正常",
            PersonStatus::Dead => "死亡",
            PersonStatus::MovedOut => "迁出",
            PersonStatus::LostContact => "失联",
        }
    }
    /// The key, the label, or the words the provincial rosters write (在世, 在册, 已故 …).
    pub fn parse(s: &str) -> Option<PersonStatus> {
        let s = s.trim();
        if let Some(p) = PersonStatus::ALL.into_iter().find(|p| p.key() == s || p.label() == s) {
            return Some(p);
        }
        match s {
            "在世" | "在册" | "健在" | "迁入" | "恢复正常" => Some(PersonStatus::Alive),
            "已故" | "去世" | "已死亡" | "死亡注销" => Some(PersonStatus::Dead),
            "已迁出" | "迁出注销" | "户口迁出" => Some(PersonStatus::MovedOut),
            "失踪" | "下落不明" => Some(PersonStatus::LostContact),
            _ => None,
        }
    }
}

/// A change of a person's status as a clerk records it (状态变更).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusChange {
    /// 死亡
    Death,
    /// 迁出 (to where: `place_text`)
    MoveOut,
    /// 迁入 (from where: `place_text`)
    MoveIn,
    /// 失联
    LostContact,
    /// 恢复正常 (found again, a wrong entry undone)
    Normal,
}

impl StatusChange {
    pub const ALL: [StatusChange; 5] =
        [StatusChange::Death, StatusChange::MoveOut, StatusChange::MoveIn, StatusChange::LostContact, StatusChange::Normal];

    pub fn label(self) -> &'static str {
        match self {
            StatusChange::Death => "死亡",
            StatusChange::MoveOut => "迁出",
            StatusChange::MoveIn => "迁入",
            StatusChange::LostContact => "失联",
            StatusChange::Normal => "正常",
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            StatusChange::Death => "death",
            StatusChange::MoveOut => "move_out",
            StatusChange::MoveIn => "move_in",
            StatusChange::LostContact => "lost_contact",
            StatusChange::Normal => "normal",
        }
    }
    pub fn parse(s: &str) -> Option<StatusChange> {
        let s = s.trim();
        StatusChange::ALL.into_iter().find(|c| c.key() == s || c.label() == s).or(match s {
            "恢复正常" | "在世" | "在册" => Some(StatusChange::Normal),
            "已故" | "去世" => Some(StatusChange::Death),
            _ => None,
        })
    }
    /// The status the person has afterwards.
    pub fn status(self) -> PersonStatus {
        match self {
            StatusChange::Death => PersonStatus::Dead,
            StatusChange::MoveOut => PersonStatus::MovedOut,
            StatusChange::MoveIn | StatusChange::Normal => PersonStatus::Alive,
            StatusChange::LostContact => PersonStatus::LostContact,
        }
    }
    /// What `place_text` means for this change, if it asks for one.
    pub fn place_label(self) -> Option<&'static str> {
        match self {
            StatusChange::MoveOut => Some("迁往何处"),
            StatusChange::MoveIn => Some("从何处迁入"),
            _ => None,
        }
    }
}

/// A status change as entered: what happened, when, why and (for moves) where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChangeInput {
    pub change: StatusChange,
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub place_text: String,
}

/// Checks a status change against the person it is for: a date, not in the future, not before
/// birth or before the status it replaces; a move names where; nothing after a death but its
/// correction back to 正常 with a reason.
pub fn validate_status_change(person: &Person, c: &StatusChangeInput, today: NaiveDate) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    match c.date {
        None => errors.push(FieldError::new("date", "变更日期", format!("「{}」必须填写日期", c.change.label()))),
        Some(d) if d > today => errors.push(FieldError::new("date", "变更日期", "不能晚于今天")),
        Some(d) if d < person.birth_date => {
            errors.push(FieldError::new("date", "变更日期", format!("不能早于出生日期 {}", person.birth_date)))
        }
        Some(d) if person.status_date.is_some_and(|s| d < s) && person.status != PersonStatus::Alive => {
            errors.push(FieldError::new(
                "date",
                "变更日期",
                format!("不能早于当前状态「{}」的日期 {}", person.status.label(), person.status_date.unwrap_or(d)),
            ))
        }
        Some(_) => {}
    }
    if let Some(label) = c.change.place_label() {
        if c.place_text.trim().is_empty() {
            errors.push(FieldError::new("place_text", label, "必须填写"));
        }
    }
    if c.place_text.chars().count() > 100 {
        errors.push(FieldError::new("place_text", c.change.place_label().unwrap_or("地点"), "不能超过 100 个字"));
    }
    if c.reason.chars().count() > 500 {
        errors.push(FieldError::new("reason", "原因", "不能超过 500 个字"));
    }
    if person.status == PersonStatus::Dead && c.change != StatusChange::Death && c.reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "原因", "此人已登记死亡；改为其他状态是更正错误，必须说明原因"));
    }
    if person.status == c.change.status() && person.status != PersonStatus::Alive {
        errors.push(FieldError::new("change", "变更类型", format!("此人当前已是「{}」", person.status.label())));
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::Fields(errors)) }
}

/// The attributes of a person a clerk may correct (人员信息更正), by field key or label.
pub const PERSON_FIELDS: &[(&str, &str)] =
    &[("name", "姓名"), ("id_number", "公民身份号码"), ("ethnicity", "民族"), ("phone", "联系电话")];

/// Fields whose correction changes who the record is about: a reason is required.
pub const IDENTITY_FIELDS: &[&str] = &["name", "id_number"];

/// Resolves a field key or its Chinese label (姓名, 民族 …) to the key.
pub fn person_field(key_or_label: &str) -> Option<&'static str> {
    let t = key_or_label.trim();
    PERSON_FIELDS.iter().find(|(k, l)| *k == t || *l == t).map(|(k, _)| *k).or(match t {
        "身份证号" | "身份证号码" | "证件号码" => Some("id_number"),
        "电话" | "手机" | "手机号" | "联系方式" => Some("phone"),
        _ => None,
    })
}

/// Applies corrections (`field → new text`) to a person, validated as a new registration would
/// be. A change of name or ID number needs a reason.
pub fn correct_person(
    person: &Person,
    changes: &[(String, String)],
    reason: &str,
    today: NaiveDate,
) -> Result<NewPerson, DomainError> {
    let mut input = PersonInput {
        name: person.name.clone(),
        id_number: person.id_number.clone(),
        ethnicity: person.ethnicity.clone(),
        phone: person.phone.clone(),
        status: PersonStatus::Alive,
        status_date: None,
        place_id: person.place_id,
    };
    let mut errors = Vec::new();
    for (k, v) in changes {
        match person_field(k) {
            Some("name") => input.name = v.clone(),
            Some("id_number") => input.id_number = v.clone(),
            Some("ethnicity") => input.ethnicity = v.clone(),
            Some("phone") => input.phone = v.clone(),
            _ => errors.push(FieldError::new(
                k,
                k,
                format!(
                    "不是可更正的人员信息（可更正：{}；状态请用「状态变更」，所属户请用户的成员变更）",
                    PERSON_FIELDS.iter().map(|(_, l)| *l).collect::<Vec<_>>().join("、")
                ),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Fields(errors));
    }
    let mut p = validate_person(&input, today)?;
    p.status = person.status;
    p.status_date = person.status_date;
    let identity_changed = p.name != person.name || p.id_number != person.id_number;
    if identity_changed && reason.trim().is_empty() {
        return Err(DomainError::field("reason", "更正原因", "更正姓名或公民身份号码必须说明原因（如 户口簿登记有误）"));
    }
    Ok(p)
}

/// A person as entered, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonInput {
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub ethnicity: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub status: PersonStatus,
    #[serde(default)]
    pub status_date: Option<NaiveDate>,
    pub place_id: i64,
}

/// A person ready to store: the ID number normalised, sex and birth date derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewPerson {
    pub name: String,
    pub id_number: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub ethnicity: String,
    pub phone: String,
    pub status: PersonStatus,
    pub status_date: Option<NaiveDate>,
    pub place_id: i64,
    /// Notes for the user that do not stop the save (a 15-digit number converted …).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub id_number: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub ethnicity: String,
    pub phone: String,
    pub status: PersonStatus,
    pub status_date: Option<NaiveDate>,
    pub place_id: i64,
    pub household_id: Option<i64>,
    pub relation: Option<String>,
    /// Why the current status was recorded (死亡原因, 迁出原因 …); empty for none.
    #[serde(default)]
    pub status_reason: String,
    /// Where a move went to or came from (迁往/迁自); empty for none.
    #[serde(default)]
    pub status_place: String,
    pub row_version: i64,
}

pub fn validate_person(input: &PersonInput, today: NaiveDate) -> Result<NewPerson, DomainError> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.push(FieldError::new("name", "姓名", "不能为空"));
    } else if name.chars().count() > 50 {
        errors.push(FieldError::new("name", "姓名", "不能超过 50 个字"));
    }
    let parsed = match parse_id_number(&input.id_number, today) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(FieldError::new("id_number", "公民身份号码", e.to_string()));
            None
        }
    };
    let phone = input.phone.trim().to_string();
    if !phone.is_empty() {
        if let Err(reason) = check_phone(&phone) {
            errors.push(FieldError::new("phone", "联系电话", reason));
        }
    }
    match (input.status, input.status_date) {
        (PersonStatus::Dead | PersonStatus::MovedOut | PersonStatus::LostContact, None) => errors.push(FieldError::new(
            "status_date",
            "状态日期",
            format!("状态为「{}」时必须填写日期", input.status.label()),
        )),
        (_, Some(d)) if d > today => {
            errors.push(FieldError::new("status_date", "状态日期", "不能晚于今天"))
        }
        (_, Some(d)) if parsed.as_ref().is_some_and(|p| d < p.birth_date) => {
            errors.push(FieldError::new("status_date", "状态日期", "不能早于出生日期"))
        }
        _ => {}
    }
    let Some(p) = parsed.filter(|_| errors.is_empty()) else {
        return Err(DomainError::Fields(errors));
    };
    let mut warnings = Vec::new();
    if p.converted_from_15 {
        warnings.push(format!("15 位旧身份证号已转换为 18 位：{}", p.number));
    }
    Ok(NewPerson {
        name,
        id_number: p.number,
        sex: p.sex,
        birth_date: p.birth_date,
        ethnicity: input.ethnicity.trim().to_string(),
        phone,
        status: input.status,
        status_date: input.status_date,
        place_id: input.place_id,
        warnings,
    })
}

/// Mobile numbers are 11 digits starting with 1; landlines carry an area code (0745-1234567).
pub fn check_phone(phone: &str) -> Result<(), String> {
    let digits: String = phone.chars().filter(|c| *c != '-' && *c != ' ').collect();
    let ok = digits.chars().all(|c| c.is_ascii_digit())
        && ((digits.len() == 11 && digits.starts_with('1'))
            || (digits.starts_with('0') && (10..=12).contains(&digits.len())));
    if ok {
        Ok(())
    } else {
        Err(format!("「{phone}」不是有效的电话号码（手机 11 位，座机带区号）"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Household {
    pub id: i64,
    /// 户编号 as the county's system issues it.
    pub number: String,
    pub place_id: i64,
    pub head_person_id: Option<i64>,
    pub row_version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CadreKind {
    /// 镇干部
    Town,
    /// 村干部
    Village,
    /// 驻村工作队员
    Resident,
    Other,
}

impl CadreKind {
    pub fn key(self) -> &'static str {
        match self {
            CadreKind::Town => "town",
            CadreKind::Village => "village",
            CadreKind::Resident => "resident",
            CadreKind::Other => "other",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            CadreKind::Town => "镇干部",
            CadreKind::Village => "村干部",
            CadreKind::Resident => "驻村工作队员",
            CadreKind::Other => "其他",
        }
    }
    pub fn parse(s: &str) -> Option<CadreKind> {
        [CadreKind::Town, CadreKind::Village, CadreKind::Resident, CadreKind::Other]
            .into_iter()
            .find(|k| k.key() == s.trim() || k.label() == s.trim())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadre {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    pub kind: CadreKind,
    #[serde(default)]
    pub post: String,
    #[serde(default)]
    pub unit: String,
    pub birth_date: Option<NaiveDate>,
    pub place_id: i64,
    #[serde(default)]
    pub person_id: Option<i64>,
    #[serde(default)]
    pub user_id: Option<i64>,
    #[serde(default)]
    pub phone: String,
    /// 离任日期: from the day after, the cadre cannot be chosen for new records.
    #[serde(default)]
    pub ended_on: Option<NaiveDate>,
    #[serde(default)]
    pub end_reason: String,
}

pub fn validate_cadre(c: &Cadre, today: NaiveDate) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    if c.name.trim().is_empty() {
        errors.push(FieldError::new("name", "姓名", "不能为空"));
    }
    if c.ended_on.is_some_and(|d| d > today) {
        errors.push(FieldError::new("ended_on", "离任日期", "不能晚于今天"));
    }
    if c.birth_date.is_some_and(|d| d > today) {
        errors.push(FieldError::new("birth_date", "出生日期", "不能晚于今天"));
    }
    if !c.phone.trim().is_empty() {
        if let Err(r) = check_phone(&c.phone) {
            errors.push(FieldError::new("phone", "联系电话", r));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::Fields(errors)) }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    /// 统一社会信用代码, validated by GB 32100 when given.
    #[serde(default)]
    pub uscc: Option<String>,
    /// 企业, 合作社, 经营网点, 商店 …
    pub kind: String,
    #[serde(default)]
    pub address: String,
    pub place_id: i64,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub phone: String,
    /// 注销、停业日期: from the day after, the organisation cannot be chosen for new records.
    #[serde(default)]
    pub ended_on: Option<NaiveDate>,
}

pub const ORGANISATION_KINDS: &[&str] =
    &["企业", "个体工商户", "农民专业合作社", "家庭农场", "经营网点", "商店", "学校", "医疗机构", "社会组织", "其他"];

/// Normalises the 统一社会信用代码 in place.
pub fn validate_organisation(o: &mut Organisation) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    if o.name.trim().is_empty() {
        errors.push(FieldError::new("name", "单位名称", "不能为空"));
    }
    if !ORGANISATION_KINDS.contains(&o.kind.as_str()) {
        errors.push(FieldError::new(
            "kind",
            "单位类型",
            format!("「{}」不是可选值（可选：{}）", o.kind, ORGANISATION_KINDS.join("、")),
        ));
    }
    if let Some(code) = o.uscc.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        match validate_uscc(code) {
            Ok(n) => o.uscc = Some(n),
            Err(e) => errors.push(FieldError::new("uscc", "统一社会信用代码", e.to_string())),
        }
    } else {
        o.uscc = None;
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::Fields(errors)) }
}

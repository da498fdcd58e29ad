//! The registry (基础信息): persons, households, cadres and organisations that ledgers hang on.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldError};
use crate::idcard::{parse_id_number, Sex};
use crate::uscc::validate_uscc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    #[default]
    Alive,
    Dead,
    MovedOut,
}

impl PersonStatus {
    pub fn key(self) -> &'static str {
        match self {
            PersonStatus::Alive => "alive",
            PersonStatus::Dead => "dead",
            PersonStatus::MovedOut => "moved_out",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            PersonStatus::Alive => "在世",
            PersonStatus::Dead => "死亡",
            PersonStatus::MovedOut => "迁出",
        }
    }
    pub fn parse(s: &str) -> Option<PersonStatus> {
        let s = s.trim();
        [PersonStatus::Alive, PersonStatus::Dead, PersonStatus::MovedOut]
            .into_iter()
            .find(|p| p.key() == s || p.label() == s || (s == "正常" && *p == PersonStatus::Alive))
    }
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
        (PersonStatus::Alive, Some(_)) => {
            errors.push(FieldError::new("status_date", "状态日期", "在世人员不应填写死亡或迁出日期"))
        }
        (PersonStatus::Dead | PersonStatus::MovedOut, None) => errors.push(FieldError::new(
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

/// Relations to the head of household as the 扶贫 system writes them.
pub const RELATIONS: &[&str] = &[
    "户主", "配偶", "之子", "之女", "之儿媳", "之女婿", "之孙子", "之孙女", "之外孙子", "之外孙女",
    "之父", "之母", "之岳父", "之岳母", "之公公", "之婆婆", "之祖父", "之祖母", "之兄弟姐妹", "其他",
];

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
}

pub fn validate_cadre(c: &Cadre, today: NaiveDate) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    if c.name.trim().is_empty() {
        errors.push(FieldError::new("name", "姓名", "不能为空"));
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

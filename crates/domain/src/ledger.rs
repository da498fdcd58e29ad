//! Ledger definitions (台账定义): what a ledger records, its fields, its time and its workflow.
//!
//! A definition is data (a TOML file in `catalogue/ledgers/`, or one a clerk stored in the
//! database). Nothing in the program knows any particular ledger by name except through the
//! catalogue; adding a ledger needs no Rust.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::workflow::Workflow;

/// Columns every ledger table has. Field keys may not take these names.
pub const SYSTEM_COLUMNS: &[&str] = &[
    "id", "place_id", "subject_id", "state", "state_since", "row_version", "created_at", "updated_at",
    "created_by", "updated_by", "concerns_year", "voided_at", "voided_by", "void_reason",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerDef {
    /// ASCII key, also the table name suffix (`ld_<key>`).
    pub key: String,
    /// Chinese name shown to users, e.g. 低保金发放台账.
    pub name: String,
    /// Menu group (line of work), e.g. 社会救助.
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub description: String,
    /// Version of a built-in definition; an upgrade merges, never overwrites clerk fields.
    #[serde(default = "one")]
    pub version: u32,
    /// What one record is about.
    #[serde(default)]
    pub subject: SubjectKind,
    pub time: TimeModel,
    /// Fields whose values together recognise a record on re-import.
    #[serde(default)]
    pub natural_key: Vec<String>,
    /// Whether a record may carry the year it concerns (医保 for 2024 collected in 2023).
    #[serde(default)]
    pub concerns_year: bool,
    pub fields: Vec<FieldDef>,
    /// Fields required only when another field holds a value (a 重大隐患 needs 整改期限).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_when: Vec<RequiredWhen>,
    #[serde(default)]
    pub workflow: Option<Workflow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredWhen {
    /// The field whose value triggers the rule.
    pub field: String,
    /// The value (an enum option, 是/否 for booleans) that triggers it.
    pub equals: String,
    /// Fields that must then hold a value.
    pub require: Vec<String>,
    /// What the user reads, e.g. 重大隐患必须填写整改期限.
    pub message: String,
}

fn one() -> u32 {
    1
}

/// What a record is about (记录对象).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Person,
    Household,
    Cadre,
    Organisation,
    Place,
    #[default]
    None,
}

impl SubjectKind {
    pub fn label(self) -> &'static str {
        match self {
            SubjectKind::Person => "人员",
            SubjectKind::Household => "户",
            SubjectKind::Cadre => "干部",
            SubjectKind::Organisation => "单位",
            SubjectKind::Place => "地点",
            SubjectKind::None => "无",
        }
    }
}

/// How a record falls into a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TimeModel {
    /// An event: the named date (or month) field puts the record into a period.
    Event { field: String },
    /// A membership in force from `start` until `end` (empty end: still in force).
    Standing { start: String, end: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// Other header texts that mean this field in imported sheets.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub sensitivity: Option<Sensitivity>,
    /// Decimal places for `decimal` fields (stored as integers at this scale).
    #[serde(default)]
    pub scale: u8,
    /// Unit shown after the value (亩, 米, 人次, 元 …).
    #[serde(default)]
    pub unit: String,
    /// Options of `enum` and `multi_enum` fields.
    #[serde(default)]
    pub options: Vec<String>,
    /// Target of a `reference` field.
    #[serde(default, rename = "ref")]
    pub target: Option<RefTarget>,
    /// Extra validation of a text field. Any format makes the field an identifier: its values
    /// go through the one normaliser (`ident`) and a number Excel made of them is refused.
    /// `code` declares an identifier with no further check (bank and card accounts …).
    #[serde(default)]
    pub format: Option<TextFormat>,
    #[serde(default)]
    pub help: String,
    /// A retired field keeps its column and values, but forms and templates no longer ask for it.
    #[serde(default)]
    pub retired: bool,
    /// Whether a number may be below zero (a 冲正 or 退回 amount). Numbers are otherwise
    /// refused below zero: a payment of −5 元 is a typing error, not a refund.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negative: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Integer,
    Decimal,
    Money,
    Date,
    Month,
    Year,
    Enum,
    MultiEnum,
    Boolean,
    Reference,
}

impl FieldKind {
    pub fn label(self) -> &'static str {
        match self {
            FieldKind::Text => "文本",
            FieldKind::Integer => "整数",
            FieldKind::Decimal => "小数",
            FieldKind::Money => "金额",
            FieldKind::Date => "日期",
            FieldKind::Month => "月份",
            FieldKind::Year => "年度",
            FieldKind::Enum => "单选",
            FieldKind::MultiEnum => "多选",
            FieldKind::Boolean => "是否",
            FieldKind::Reference => "关联",
        }
    }
}

/// Formats a text field is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    /// 公民身份号码, GB 11643.
    IdNumber,
    /// 统一社会信用代码, GB 32100.
    Uscc,
    /// 11-digit mobile or a landline with area code.
    Phone,
    /// Any other number kept as text — 银行账号, 一卡通/社保卡号, 优待证号, 票据号, 户编号-like
    /// codes (`format = "code"`): an identifier, not a quantity. Normalised like every
    /// identifier (`ident::clean`: full-width, spaces, a leading apostrophe) and refused when
    /// Excel stored it as a number (a number cell, "6.21700E+18", "1234.0"), whose digits or
    /// leading zeros are gone. Not otherwise checked.
    Code,
}

/// Why a field's values are sensitive; drives masking and audited reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// 公民身份号码, bank account, phone: masked for roles that do not need them.
    IdNumber,
    /// 健康状况, diagnoses.
    Health,
    /// 重点人群: opening such a record is audited.
    KeyPopulation,
}

/// What a reference field points at: `person`, `household`, `cadre`, `organisation`,
/// `place`, or `ledger:<key>` for a record of another ledger.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RefTarget {
    Person,
    Household,
    Cadre,
    Organisation,
    Place,
    Ledger(String),
}

impl RefTarget {
    pub fn as_str(&self) -> String {
        match self {
            RefTarget::Person => "person".into(),
            RefTarget::Household => "household".into(),
            RefTarget::Cadre => "cadre".into(),
            RefTarget::Organisation => "organisation".into(),
            RefTarget::Place => "place".into(),
            RefTarget::Ledger(k) => format!("ledger:{k}"),
        }
    }

    pub fn parse(s: &str) -> Option<RefTarget> {
        Some(match s {
            "person" => RefTarget::Person,
            "household" => RefTarget::Household,
            "cadre" => RefTarget::Cadre,
            "organisation" => RefTarget::Organisation,
            "place" => RefTarget::Place,
            other => RefTarget::Ledger(other.strip_prefix("ledger:")?.to_string()),
        })
    }

    pub fn of_subject(kind: SubjectKind) -> Option<RefTarget> {
        Some(match kind {
            SubjectKind::Person => RefTarget::Person,
            SubjectKind::Household => RefTarget::Household,
            SubjectKind::Cadre => RefTarget::Cadre,
            SubjectKind::Organisation => RefTarget::Organisation,
            SubjectKind::Place => RefTarget::Place,
            SubjectKind::None => return None,
        })
    }
}

impl Serialize for RefTarget {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for RefTarget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RefTarget::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "ref 应为 person、household、cadre、organisation、place 或 ledger:<台账键>，而不是「{s}」"
            ))
        })
    }
}

/// `[a-z][a-z0-9_]*`, at most 48 characters: safe as a SQL identifier on every backend.
pub fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('a'..='z'))
        && key.len() <= 48
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

impl LedgerDef {
    pub fn from_toml(text: &str) -> Result<LedgerDef, DomainError> {
        let def: LedgerDef =
            toml::from_str(text).map_err(|e| DomainError::Definition(e.to_string()))?;
        def.check()?;
        Ok(def)
    }

    /// The definition written as a definition file (what `from_toml` reads back).
    pub fn to_toml(&self) -> Result<String, DomainError> {
        toml::to_string(self).map_err(|e| DomainError::Definition(e.to_string()))
    }

    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Fields a form or a template asks for.
    pub fn active_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| !f.retired)
    }

    pub fn table_name(&self) -> String {
        table_name(&self.key)
    }

    /// Everything a definition must satisfy before the program serves it.
    pub fn check(&self) -> Result<(), DomainError> {
        let bad = |msg: String| Err(DomainError::Definition(format!("台账「{}」：{msg}", self.key)));
        if !is_valid_key(&self.key) {
            return bad("键只能由小写英文字母、数字和下划线组成，且以字母开头".into());
        }
        if self.name.trim().is_empty() {
            return bad("缺少中文名称 name".into());
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.fields {
            if !is_valid_key(&f.key) {
                return bad(format!("字段键「{}」只能由小写英文字母、数字和下划线组成", f.key));
            }
            if SYSTEM_COLUMNS.contains(&f.key.as_str()) {
                return bad(format!("字段键「{}」是系统保留列名", f.key));
            }
            if !seen.insert(f.key.as_str()) {
                return bad(format!("字段键「{}」重复", f.key));
            }
            if f.label.trim().is_empty() {
                return bad(format!("字段「{}」缺少中文标签 label", f.key));
            }
            match f.kind {
                FieldKind::Enum | FieldKind::MultiEnum if f.options.is_empty() => {
                    return bad(format!("字段「{}」是选择类型，但没有 options", f.label));
                }
                FieldKind::Reference if f.target.is_none() => {
                    return bad(format!("字段「{}」是关联类型，但没有 ref", f.label));
                }
                FieldKind::Decimal if f.scale == 0 || f.scale > 6 => {
                    return bad(format!("字段「{}」是小数类型，scale 应为 1 到 6", f.label));
                }
                _ => {}
            }
        }
        let need = |key: &str, kinds: &[FieldKind], what: &str| -> Result<(), DomainError> {
            match self.field(key) {
                Some(f) if kinds.contains(&f.kind) => Ok(()),
                Some(f) => Err(DomainError::Definition(format!(
                    "台账「{}」：{what}「{}」的类型应为{}",
                    self.key,
                    f.label,
                    kinds.iter().map(|k| k.label()).collect::<Vec<_>>().join("或")
                ))),
                None => Err(DomainError::Definition(format!(
                    "台账「{}」：{what}引用了不存在的字段「{key}」",
                    self.key
                ))),
            }
        };
        match &self.time {
            TimeModel::Event { field } => {
                need(field, &[FieldKind::Date, FieldKind::Month, FieldKind::Year], "时间字段")?
            }
            TimeModel::Standing { start, end } => {
                need(start, &[FieldKind::Date], "起始日期")?;
                need(end, &[FieldKind::Date], "终止日期")?;
            }
        }
        for k in &self.natural_key {
            if k != "subject" && self.field(k).is_none() {
                return bad(format!("natural_key 引用了不存在的字段「{k}」"));
            }
        }
        for r in &self.required_when {
            for k in std::iter::once(&r.field).chain(&r.require) {
                if self.field(k).is_none() {
                    return bad(format!("required_when 引用了不存在的字段「{k}」"));
                }
            }
        }
        if let Some(wf) = &self.workflow {
            wf.check(self)?;
        }
        Ok(())
    }
}

pub fn table_name(key: &str) -> String {
    format!("ld_{key}")
}

//! Field values as the domain sees them: no floats anywhere.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One stored value. Money is `Int` in 分, decimals are `Int` at the field's scale,
/// references are `Int` ids, months are `Text` as `YYYY-MM`, multi-enums are `List`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Date(NaiveDate),
    Text(String),
    List(Vec<String>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Text(s) => s.is_empty(),
            Value::List(l) => l.is_empty(),
            _ => false,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            Value::Text(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }

    /// The value as a message quotes it (money stays in 分: callers that know the field format it).
    pub fn display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => if *b { "是" } else { "否" }.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Text(t) => t.clone(),
            Value::List(l) => l.join("、"),
        }
    }

    pub fn as_list(&self) -> &[String] {
        match self {
            Value::List(l) => l,
            _ => &[],
        }
    }
}

/// A record's field values by field key.
pub type Values = BTreeMap<String, Value>;

/// One record of a ledger, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub id: i64,
    pub place_id: i64,
    pub subject_id: Option<i64>,
    pub state: Option<String>,
    /// The day the record entered its current workflow state (for deadlines in days).
    pub state_since: Option<NaiveDate>,
    pub concerns_year: Option<i32>,
    pub row_version: i64,
    pub values: Values,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Set when the record was voided (作废): it then leaves lists, counts, checks and reports,
    /// and stays to be seen and restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided: Option<Voided>,
}

/// Who voided a record, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voided {
    pub at: String,
    pub by: String,
    pub reason: String,
}

/// What a caller wants written: the fields it names; fields it leaves out stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RecordInput {
    pub place_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub concerns_year: Option<i32>,
    pub values: Values,
}

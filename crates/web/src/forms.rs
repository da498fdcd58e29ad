//! Record forms: the fields a form shows, what the user typed, and the inline messages. Typed
//! text goes through the same parsing as the CLI and imports (`refs::parse_values`).

use serde::Serialize;
use taizhang_domain::ledger::{FieldDef, FieldKind, LedgerDef};
use taizhang_domain::value::Values;
use taizhang_domain::FieldError;

use crate::show;

#[derive(Debug, Clone, Serialize, Default)]
pub struct FormField {
    pub key: String,
    pub label: String,
    /// `text`, `select`, `multi` or `date`.
    pub kind: &'static str,
    pub required: bool,
    pub options: Vec<String>,
    pub value: String,
    pub checked: Vec<String>,
    pub help: String,
    pub unit: String,
    pub placeholder: String,
    pub error: String,
}

fn placeholder(f: &FieldDef) -> String {
    match f.kind {
        FieldKind::Money => "元，如 1234.50".into(),
        FieldKind::Month => "如 2023-07".into(),
        FieldKind::Year => "如 2023".into(),
        FieldKind::Reference => match f.target.as_ref().map(|t| t.as_str()).as_deref() {
            Some("person") => "身份证号".into(),
            Some("household") => "户编号或户主身份证号".into(),
            _ => "名称，或 #编号".into(),
        },
        _ if f.format == Some(taizhang_domain::ledger::TextFormat::IdNumber) => "18 位，末位可为 X".into(),
        _ => String::new(),
    }
}

pub fn field(f: &FieldDef, typed: &[(String, String)], stored: &Values, errors: &[FieldError]) -> FormField {
    let typed_values: Vec<&String> = typed.iter().filter(|(k, _)| *k == f.key).map(|(_, v)| v).collect();
    let stored_text = stored.get(&f.key).map(|v| show::edit_text(f, v)).unwrap_or_default();
    let value = if typed.is_empty() { stored_text.clone() } else { typed_values.first().map(|s| s.to_string()).unwrap_or_default() };
    let (kind, options) = match f.kind {
        FieldKind::Enum => ("select", f.options.clone()),
        FieldKind::Boolean => ("select", vec!["是".into(), "否".into()]),
        FieldKind::MultiEnum => ("multi", f.options.clone()),
        FieldKind::Date => ("date", Vec::new()),
        _ => ("text", Vec::new()),
    };
    let checked = if f.kind == FieldKind::MultiEnum {
        if typed.is_empty() {
            stored.get(&f.key).map(|v| v.as_list().to_vec()).unwrap_or_default()
        } else {
            typed_values.iter().map(|s| s.to_string()).collect()
        }
    } else {
        Vec::new()
    };
    FormField {
        key: f.key.clone(),
        label: f.label.clone(),
        kind,
        required: f.required,
        options,
        value,
        checked,
        help: f.help.clone(),
        unit: if f.kind == FieldKind::Money { "元".into() } else { f.unit.clone() },
        placeholder: placeholder(f),
        error: errors.iter().filter(|e| e.key == f.key).map(|e| e.reason.clone()).collect::<Vec<_>>().join("；"),
    }
}

/// The form's fields for a ledger (retired ones left out).
pub fn fields(def: &LedgerDef, typed: &[(String, String)], stored: &Values, errors: &[FieldError]) -> Vec<FormField> {
    def.active_fields().map(|f| field(f, typed, stored, errors)).collect()
}

/// Joins multi-select checkboxes into one value and keeps only field pairs (no `_x`, `csrf`).
pub fn field_pairs(def: &LedgerDef, form: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for f in def.active_fields() {
        if !form.iter().any(|(k, _)| *k == f.key) {
            continue;
        }
        let vals: Vec<&str> = form.iter().filter(|(k, v)| *k == f.key && !v.trim().is_empty()).map(|(_, v)| v.as_str()).collect();
        out.push((f.key.clone(), vals.join("、")));
    }
    out
}

/// The value of a form control.
pub fn get<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
}

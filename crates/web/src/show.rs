//! How values appear on pages and in the API: money in 元, dates as 2023-11-26, references by
//! name, ID numbers masked for roles that do not need them (following the fields' sensitivity
//! marks), and the text a form shows for editing.

use taizhang_domain::idcard::mask_id;
use taizhang_domain::ledger::{FieldDef, FieldKind, LedgerDef, Sensitivity};
use taizhang_domain::money::{format_scaled, format_yuan, Fen};
use taizhang_domain::value::{Record, Value};

/// A value as a person reads it in a table.
pub fn display(f: &FieldDef, v: &Value, sees_ids: bool) -> String {
    let text = match (f.kind, v) {
        (_, Value::Null) => String::new(),
        (FieldKind::Money, Value::Int(i)) => format!("{} 元", format_yuan(Fen(*i))),
        (FieldKind::Decimal, Value::Int(i)) => format_scaled(*i, f.scale),
        (FieldKind::Reference, Value::Int(i)) => format!("#{i}"),
        (_, Value::Bool(b)) => if *b { "是" } else { "否" }.to_string(),
        (_, Value::Int(i)) => i.to_string(),
        (_, Value::Date(d)) => d.format("%Y-%m-%d").to_string(),
        (_, Value::Text(t)) => t.clone(),
        (_, Value::List(l)) => l.join("、"),
    };
    let text = if !f.unit.is_empty() && f.kind != FieldKind::Money && !text.is_empty() { format!("{text} {}", f.unit) } else { text };
    if f.sensitivity == Some(Sensitivity::IdNumber) && !sees_ids && !text.is_empty() {
        mask_id(&text)
    } else {
        text
    }
}

/// The text a form field holds for a stored value; parsing it again yields the same value.
pub fn edit_text(f: &FieldDef, v: &Value) -> String {
    match (f.kind, v) {
        (_, Value::Null) => String::new(),
        (FieldKind::Money, Value::Int(i)) => format!("{}.{:02}", i.div_euclid(100), i.rem_euclid(100)),
        (FieldKind::Decimal, Value::Int(i)) => format_scaled(*i, f.scale).replace(',', ""),
        (FieldKind::Reference, Value::Int(i)) => format!("#{i}"),
        (_, Value::Bool(b)) => if *b { "是" } else { "否" }.to_string(),
        (_, Value::Int(i)) => i.to_string(),
        (_, Value::Date(d)) => d.format("%Y-%m-%d").to_string(),
        (_, Value::Text(t)) => t.clone(),
        (_, Value::List(l)) => l.join("、"),
    }
}

/// Whether opening a record of this ledger is itself audited (重点人群, health data).
pub fn audited_on_open(def: &LedgerDef) -> bool {
    def.fields.iter().any(|f| matches!(f.sensitivity, Some(Sensitivity::KeyPopulation)))
}

/// A record as the API returns it: values keyed by field, ID-number fields masked when needed.
pub fn record_json(def: &LedgerDef, r: &Record, sees_ids: bool) -> serde_json::Value {
    let mut values = serde_json::Map::new();
    for f in &def.fields {
        if let Some(v) = r.values.get(&f.key) {
            let j = if f.sensitivity == Some(Sensitivity::IdNumber) && !sees_ids {
                serde_json::Value::String(mask_id(&edit_text(f, v)))
            } else {
                serde_json::to_value(v).unwrap_or_default()
            };
            values.insert(f.key.clone(), j);
        }
    }
    let state_label = def.workflow.as_ref().zip(r.state.as_deref()).map(|(w, s)| w.state_label(s).to_string());
    serde_json::json!({
        "id": r.id,
        "place_id": r.place_id,
        "subject_id": r.subject_id,
        "state": r.state,
        "state_label": state_label,
        "concerns_year": r.concerns_year,
        "version": r.row_version,
        "values": values,
        "created_by": r.created_by,
        "updated_by": r.updated_by,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "voided": r.voided.as_ref().map(|v| serde_json::json!({"at": v.at, "by": v.by, "reason": v.reason})),
    })
}

/// An ID number as this user may see it.
pub fn id_number(number: &str, sees_ids: bool) -> String {
    if sees_ids { number.to_string() } else { mask_id(number) }
}

/// The tone of a state's tag (`green`, `orange`, `red`, `grey`).
pub fn tone(def: &LedgerDef, state: Option<&str>) -> String {
    def.workflow
        .as_ref()
        .zip(state)
        .and_then(|(w, s)| w.state(s))
        .map_or_else(|| "grey".to_string(), |s| s.tone.clone())
}

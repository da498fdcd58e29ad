//! How values appear on pages and in the API: money in 元, dates as 2023-11-26, references by
//! name, and — the one door for personal information — every sensitive value through the
//! masking policy (`taizhang_domain::masking::Policy::reveal`) of the signed-in user. Whatever
//! shows a record or a person here also notes the read ([`crate::reads`]).

use taizhang_domain::ledger::{FieldDef, FieldKind, LedgerDef};
use taizhang_domain::masking::{self, Class, Policy, PersonView, Treatment};
use taizhang_domain::money::{format_scaled, format_yuan, Fen};
use taizhang_domain::registry::Person;
use taizhang_domain::value::{Record, Value};

use crate::auth::Me;
use crate::reads;

impl Me {
    /// What this user sees of sensitive values (`masking::ROLE_POLICIES`).
    pub fn policy(&self) -> Policy {
        Policy::for_role(self.user.role)
    }

    /// Least privilege for reading: a 业务员 reads a health or 重点人群 ledger only when it is
    /// assigned to them (`masking::may_read_ledger`). Elsewhere such a ledger is "not found".
    pub fn may_read_ledger(&self, def: &LedgerDef) -> bool {
        masking::may_read_ledger(self.user.role, &self.user.ledgers, def)
    }
}

/// The text of a value as stored (no masking): what parsing gives back the same value.
fn plain(f: &FieldDef, v: &Value) -> String {
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

/// A value as a person reads it in a table; a value the policy hides is empty.
pub fn display(policy: &Policy, f: &FieldDef, v: &Value) -> String {
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
    policy.reveal_field(f, &text).unwrap_or_default()
}

/// The text a form field holds for a stored value, as this user may see it: parsing it again
/// yields the same value, except for a masked value, which means "unchanged" when it comes
/// back as it was shown ([`kept_masked`]).
pub fn form_text(policy: &Policy, f: &FieldDef, v: &Value) -> String {
    policy.reveal_field(f, &plain(f, v)).unwrap_or_default()
}

/// Whether a form sent back the masked text it was shown for this field: the stored value
/// stays as it is (a masked field changes only when retyped in full).
pub fn kept_masked(policy: &Policy, f: &FieldDef, stored: Option<&Value>, typed: &str) -> bool {
    match stored {
        Some(v) if policy.field(f) == Treatment::Masked => typed.trim() == form_text(policy, f, v),
        _ => false,
    }
}

/// Whether opening this ledger's records is read-audited (a field marked sensitive, or a
/// person as subject).
pub fn audited_on_open(def: &LedgerDef) -> bool {
    masking::reads_audited(def)
}

/// A record as the API returns it: values keyed by field, each through the user's policy
/// (a value the policy hides is left out). Notes the read.
pub fn record_json(me: &Me, def: &LedgerDef, r: &Record) -> serde_json::Value {
    reads::record(def, r);
    let policy = me.policy();
    let mut values = serde_json::Map::new();
    for f in &def.fields {
        if let Some(v) = r.values.get(&f.key) {
            let j = match (Class::of_field(f), policy.field(f)) {
                (_, Treatment::Hidden) => continue,
                (None, _) | (_, Treatment::Full) => serde_json::to_value(v).unwrap_or_default(),
                (Some(_), Treatment::Masked) => serde_json::Value::String(form_text(&policy, f, v)),
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

/// A record shown on a page or in a file (its values through [`display`]): notes the read.
pub fn shown(def: &LedgerDef, r: &Record) {
    reads::record(def, r);
}

/// A person's identifying values as this user may see them (birth date and sex only where the
/// ID number is shown in full). Notes the read.
pub fn person(me: &Me, p: &Person) -> PersonView {
    reads::person(p);
    me.policy().person(p)
}

/// An ID number as this user may see it.
pub fn id_number(me: &Me, number: &str) -> String {
    me.policy().reveal(Class::IdNumber, number).unwrap_or_default()
}

/// A phone number as this user may see it.
pub fn phone(me: &Me, number: &str) -> String {
    me.policy().reveal(Class::Phone, number).unwrap_or_default()
}

/// Audit entries as this user may read them: the values before and after a change through the
/// policy (`Policy::redact_entry_json`: masked numbers, no birth date where the number is
/// masked, special categories only for those who see them); what they show of records and
/// persons is a read like any other (the audit API, the audit export).
pub fn audit_entries(me: &Me, defs: &[LedgerDef], entries: &mut [taizhang_storage::audit::AuditEntry]) {
    let policy = me.policy();
    for e in entries.iter_mut() {
        // Notes the program wrote (a 15-digit number converted) name ID numbers too.
        e.note = policy.text(&e.note);
        if e.before.is_none() && e.after.is_none() {
            continue;
        }
        for v in [&mut e.before, &mut e.after].into_iter().flatten() {
            policy.redact_entry_json(defs, &e.entity, v);
        }
        if let Some(id) = e.entity_id {
            let place = e.place_id.map(|p| vec![p]).unwrap_or_default();
            match defs.iter().find(|d| d.table_name() == e.entity) {
                Some(def) => reads::records(def, &[id], &[], &place),
                None if e.entity == "persons" => reads::ids("persons", &[id], &[id], &place),
                None => {}
            }
        }
    }
}

/// The tone of a state's tag (`green`, `orange`, `red`, `grey`).
pub fn tone(def: &LedgerDef, state: Option<&str>) -> String {
    def.workflow
        .as_ref()
        .zip(state)
        .and_then(|(w, s)| w.state(s))
        .map_or_else(|| "grey".to_string(), |s| s.tone.clone())
}

/// The text of a stored value for editing, unmasked: only for values the user typed or may see
/// in full (parsing round trips, keyword matching of unmarked fields).
pub fn edit_text(f: &FieldDef, v: &Value) -> String {
    plain(f, v)
}

//! Record forms: the fields a form shows, what the user typed, and the inline messages. Typed
//! text goes through the same parsing as the CLI and imports (`refs::parse_values`).

use serde::Serialize;
use taizhang_domain::ledger::{FieldDef, FieldKind, LedgerDef};
use taizhang_domain::masking::{Policy, Treatment};
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
    /// The id of a list of suggestions (`cadres`, `orgs`), empty for none.
    pub suggest: String,
    /// The input's id where a page shows the field in more than one form (a step's form
    /// beside the edit form); empty: `f-<key>`.
    pub id: String,
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

/// One field of a form. A stored value shows as the user's policy lets them see it: a masked
/// value (an ID number for a 村干部) stays masked in the input and means "unchanged" when it
/// comes back as shown (`show::kept_masked`).
pub fn field(policy: &Policy, f: &FieldDef, typed: &[(String, String)], stored: &Values, errors: &[FieldError]) -> FormField {
    let typed_values: Vec<&String> = typed.iter().filter(|(k, _)| *k == f.key).map(|(_, v)| v).collect();
    let stored_text = stored.get(&f.key).map(|v| show::form_text(policy, f, v)).unwrap_or_default();
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
        help: if policy.field(f) == Treatment::Masked && stored.contains_key(&f.key) {
            "已脱敏显示：不改请保持原样；更正请填写完整的新号码".to_string()
        } else {
            f.help.clone()
        },
        unit: if f.kind == FieldKind::Money { "元".into() } else { f.unit.clone() },
        placeholder: placeholder(f),
        error: errors.iter().filter(|e| e.key == f.key).map(|e| e.reason.clone()).collect::<Vec<_>>().join("；"),
        suggest: String::new(),
        id: String::new(),
    }
}

/// The form's fields for a ledger (retired ones left out, and any the user's policy hides).
pub fn fields(policy: &Policy, def: &LedgerDef, typed: &[(String, String)], stored: &Values, errors: &[FieldError]) -> Vec<FormField> {
    def.active_fields().filter(|f| policy.field(f) != Treatment::Hidden).map(|f| field(policy, f, typed, stored, errors)).collect()
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

/// What went wrong with a submitted form: the messages beside the fields, a sentence above the
/// form, and whether the data changed under the user (then the form shows what is stored now
/// instead of what was typed).
#[derive(Debug)]
pub struct Problem {
    pub status: axum::http::StatusCode,
    pub fields: Vec<FieldError>,
    pub message: String,
    pub stale: bool,
}

impl Problem {
    /// One field refused by the page itself (a date that does not parse, a choice not made).
    pub fn field(key: &str, label: &str, reason: impl Into<String>) -> Problem {
        Problem::fields(vec![FieldError::new(key, label, reason)])
    }

    pub fn fields(fields: Vec<FieldError>) -> Problem {
        Problem { status: axum::http::StatusCode::UNPROCESSABLE_ENTITY, fields, message: "请按提示改正标红的项目".into(), stale: false }
    }

    /// The same problem as an API answer (status, Chinese message, the fields).
    pub fn into_api(self) -> crate::error::AppError {
        let message = if self.fields.is_empty() {
            self.message
        } else {
            self.fields.iter().map(|f| format!("「{}」{}", f.label, f.reason)).collect::<Vec<_>>().join("；")
        };
        crate::error::AppError { status: self.status, message, fields: self.fields, flavour: crate::error::Flavour::Api }
    }
}

impl From<taizhang_storage::StoreError> for Problem {
    fn from(e: taizhang_storage::StoreError) -> Problem {
        let stale = matches!(e, taizhang_storage::StoreError::Stale(_));
        let a = crate::error::AppError::from(e);
        let message = if a.fields.is_empty() { a.message.clone() } else { "请按提示改正标红的项目".to_string() };
        Problem { status: a.status, fields: a.fields, message, stale }
    }
}

impl From<taizhang_domain::DomainError> for Problem {
    fn from(e: taizhang_domain::DomainError) -> Problem {
        taizhang_storage::StoreError::Domain(e).into()
    }
}

/// A submitted form as its page shows it again: which of the page's forms it was, what was
/// typed, and the messages, each beside its field. Messages about fields the form does not
/// show go into the sentence above it, so that nothing refused goes unsaid.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Attempt {
    pub form: String,
    pub values: std::collections::BTreeMap<String, String>,
    /// Every value of a control sent more than once (checkboxes).
    pub lists: std::collections::BTreeMap<String, Vec<String>>,
    pub errors: std::collections::BTreeMap<String, String>,
    pub message: String,
}

impl Attempt {
    pub fn new(form: &str, typed: &[(String, String)], problem: &Problem, shown: &[&str]) -> Attempt {
        let mut a = Attempt { form: form.to_string(), ..Default::default() };
        if !problem.stale {
            for (k, v) in typed {
                if k == "csrf" {
                    continue;
                }
                a.values.entry(k.clone()).or_insert_with(|| v.clone());
                a.lists.entry(k.clone()).or_default().push(v.clone());
            }
        }
        let mut unshown = Vec::new();
        for f in &problem.fields {
            if shown.contains(&f.key.as_str()) {
                let e = a.errors.entry(f.key.clone()).or_default();
                if !e.is_empty() {
                    e.push('；');
                }
                e.push_str(&f.reason);
            } else {
                unshown.push(format!("「{}」{}", f.label, f.reason));
            }
        }
        a.message = if problem.fields.is_empty() {
            problem.message.clone()
        } else if unshown.is_empty() {
            "请按提示改正标红的项目".to_string()
        } else {
            unshown.join("；")
        };
        a
    }
}

/// A date as typed in a form (2023-1-5 accepted); `None` when left blank.
pub fn date(form: &[(String, String)], key: &str, label: &str) -> Result<Option<chrono::NaiveDate>, Problem> {
    match get(form, key) {
        Some(t) => taizhang_domain::period::parse_date_lenient(t).map(Some).map_err(|e| Problem::field(key, label, e.to_string())),
        None => Ok(None),
    }
}

/// A date that must be given.
pub fn required_date(form: &[(String, String)], key: &str, label: &str) -> Result<chrono::NaiveDate, Problem> {
    date(form, key, label)?.ok_or_else(|| Problem::field(key, label, "必须填写"))
}

/// The text of a control, trimmed; empty when not sent.
pub fn text(form: &[(String, String)], key: &str) -> String {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
}

/// The `_version` a form carries (the version of what the user saw), −1 when missing.
pub fn version(form: &[(String, String)]) -> i64 {
    get(form, "_version").and_then(|v| v.trim().parse().ok()).unwrap_or(-1)
}

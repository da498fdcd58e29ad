//! Workflows (流程): named states, allowed transitions, who may make them, what they require,
//! and deadlines. The rules for a transition (e.g. 风险消除) are guards written in the
//! definition file, so a province's rule change is an edit of data.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::error::{DomainError, FieldError};
use crate::ledger::{FieldKind, LedgerDef};
use crate::role::{Actor, Role};
use crate::value::{Value, Values};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// The state a new record starts in.
    pub initial: String,
    pub states: Vec<State>,
    pub transitions: Vec<Transition>,
    #[serde(default)]
    pub deadlines: Vec<Deadline>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub key: String,
    pub label: String,
    /// Colour of the status tag: `green` (closed well), `orange` (in progress), `red`, `grey`.
    #[serde(default = "default_tone")]
    pub tone: String,
    /// A closed state ends the case: it is neither open nor overdue.
    #[serde(default)]
    pub closed: bool,
}

fn default_tone() -> String {
    "orange".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub key: String,
    pub label: String,
    pub from: Vec<String>,
    pub to: String,
    /// Roles that may make this transition.
    pub roles: Vec<Role>,
    /// Fields that must hold a value once the transition is made (e.g. 复查日期, 复查人).
    #[serde(default)]
    pub requires: Vec<String>,
    /// Rules that must hold (e.g. identified at least 6 months earlier).
    #[serde(default)]
    pub guards: Vec<Guard>,
}

/// A rule checked before a transition. Every guard carries the Chinese message a user reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case", deny_unknown_fields)]
pub enum Guard {
    /// The date in `field` lies at least `months` months before the day of the transition.
    MonthsSince { field: String, months: u32, message: String },
    /// The boolean `field` is true.
    IsTrue { field: String, message: String },
    /// The enum `field` does not hold `value`.
    NotEqual { field: String, value: String, message: String },
    /// The multi-enum or text `field` holds something, unless the boolean `unless` is true.
    NotEmpty {
        field: String,
        #[serde(default)]
        unless: Option<String>,
        message: String,
    },
    /// The money or number `field` is above the setting `setting` for the transition's year
    /// (e.g. the year's monitoring income line, a *local* figure kept as a setting).
    AboveSetting { field: String, setting: String, message: String },
}

/// A case stays in `state` no longer than until the date in `field`, or `days` after it
/// entered the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub states: Vec<String>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub days: Option<u32>,
    pub label: String,
}

/// Settings the guards read: `(key, year) → value` (money in 分).
pub type Settings = BTreeMap<(String, i32), i64>;

impl Workflow {
    pub fn state(&self, key: &str) -> Option<&State> {
        self.states.iter().find(|s| s.key == key)
    }

    pub fn transition(&self, key: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.key == key)
    }

    pub fn state_label<'a>(&'a self, key: &'a str) -> &'a str {
        self.state(key).map(|s| s.label.as_str()).unwrap_or(key)
    }

    /// Transitions out of `state` this actor may make.
    pub fn available<'a>(&'a self, state: &'a str, actor: &'a Actor) -> impl Iterator<Item = &'a Transition> {
        self.transitions
            .iter()
            .filter(move |t| t.from.iter().any(|f| f == state) && t.roles.iter().any(|r| actor.has_role(*r)))
    }

    pub(crate) fn check(&self, def: &LedgerDef) -> Result<(), DomainError> {
        let bad = |m: String| Err(DomainError::Definition(format!("台账「{}」的流程：{m}", def.key)));
        if self.state(&self.initial).is_none() {
            return bad(format!("初始状态「{}」不在 states 中", self.initial));
        }
        for t in &self.transitions {
            for s in t.from.iter().chain(std::iter::once(&t.to)) {
                if self.state(s).is_none() {
                    return bad(format!("环节「{}」引用了不存在的状态「{s}」", t.label));
                }
            }
            if t.roles.is_empty() {
                return bad(format!("环节「{}」没有指定可办理的角色", t.label));
            }
            for f in &t.requires {
                if def.field(f).is_none() {
                    return bad(format!("环节「{}」要求的字段「{f}」不存在", t.label));
                }
            }
            for g in &t.guards {
                for f in g.fields() {
                    if def.field(f).is_none() {
                        return bad(format!("环节「{}」的规则引用了不存在的字段「{f}」", t.label));
                    }
                }
            }
        }
        for d in &self.deadlines {
            if let Some(f) = &d.field {
                match def.field(f) {
                    Some(fd) if fd.kind == FieldKind::Date => {}
                    _ => return bad(format!("期限「{}」的字段「{f}」不是日期字段", d.label)),
                }
            }
        }
        Ok(())
    }
}

impl Guard {
    fn fields(&self) -> Vec<&str> {
        match self {
            Guard::MonthsSince { field, .. }
            | Guard::IsTrue { field, .. }
            | Guard::NotEqual { field, .. }
            | Guard::AboveSetting { field, .. } => vec![field],
            Guard::NotEmpty { field, unless, .. } => {
                let mut v = vec![field.as_str()];
                v.extend(unless.as_deref());
                v
            }
        }
    }

    /// `None` when the guard holds, else the message.
    fn refusal(&self, values: &Values, on: NaiveDate, settings: &Settings) -> Option<String> {
        let get = |f: &str| values.get(f).cloned().unwrap_or_default();
        let holds = match self {
            Guard::MonthsSince { field, months, .. } => get(field)
                .as_date()
                .and_then(|d| d.checked_add_months(chrono::Months::new(*months)))
                .is_some_and(|limit| limit <= on),
            Guard::IsTrue { field, .. } => get(field).as_bool() == Some(true),
            Guard::NotEqual { field, value, .. } => get(field).as_text() != Some(value.as_str()),
            Guard::NotEmpty { field, unless, .. } => {
                !get(field).is_null() || unless.as_deref().is_some_and(|u| get(u).as_bool() == Some(true))
            }
            Guard::AboveSetting { field, setting, .. } => {
                match (get(field).as_int(), settings.get(&(setting.clone(), on.year()))) {
                    (Some(v), Some(line)) => v > *line,
                    // Without the year's line the rule cannot be shown to hold.
                    (_, None) => {
                        return Some(format!(
                            "未设置{}年度的「{}」，无法核验；请管理员在「参数设置」中填写",
                            on.year(),
                            crate::setting::label_of(setting)
                        ))
                    }
                    (None, _) => false,
                }
            }
        };
        if holds {
            None
        } else {
            Some(match self {
                Guard::MonthsSince { message, .. }
                | Guard::IsTrue { message, .. }
                | Guard::NotEqual { message, .. }
                | Guard::NotEmpty { message, .. }
                | Guard::AboveSetting { message, .. } => message.clone(),
            })
        }
    }
}

/// Checks that `actor` may make transition `key` on a record in `state` whose values after the
/// transition would be `values`. Returns the target state.
pub fn check_transition<'a>(
    def: &'a LedgerDef,
    state: &str,
    key: &str,
    actor: &Actor,
    values: &Values,
    on: NaiveDate,
    settings: &Settings,
) -> Result<&'a Transition, DomainError> {
    let wf = def
        .workflow
        .as_ref()
        .ok_or_else(|| DomainError::Rule(format!("「{}」没有办理流程", def.name)))?;
    let t = wf
        .transition(key)
        .ok_or_else(|| DomainError::Rule(format!("「{}」没有名为「{key}」的环节", def.name)))?;
    if !t.from.iter().any(|f| f == state) {
        return Err(DomainError::Rule(format!(
            "当前状态为「{}」，不能办理「{}」（只能从{}办理）",
            wf.state_label(state),
            t.label,
            t.from.iter().map(|f| format!("「{}」", wf.state_label(f))).collect::<Vec<_>>().join("、")
        )));
    }
    if !t.roles.iter().any(|r| actor.has_role(*r)) {
        return Err(DomainError::Rule(format!(
            "「{}」只能由{}办理",
            t.label,
            t.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join("、")
        )));
    }
    let mut missing = Vec::new();
    for f in &t.requires {
        if values.get(f).is_none_or(Value::is_null) {
            let label = def.field(f).map(|fd| fd.label.as_str()).unwrap_or(f);
            missing.push(FieldError::new(f, label, format!("办理「{}」时必须填写", t.label)));
        }
    }
    if !missing.is_empty() {
        return Err(DomainError::Fields(missing));
    }
    let refusals: Vec<String> = t.guards.iter().filter_map(|g| g.refusal(values, on, settings)).collect();
    if !refusals.is_empty() {
        return Err(DomainError::Rule(format!("不能办理「{}」：{}", t.label, refusals.join("；"))));
    }
    Ok(t)
}

/// Whether a case in `state` with these values is past a deadline on `today`.
/// `entered` is the day the case entered its current state.
pub fn overdue(wf: &Workflow, state: &str, values: &Values, entered: NaiveDate, today: NaiveDate) -> Option<String> {
    if wf.state(state).is_some_and(|s| s.closed) {
        return None;
    }
    wf.deadlines.iter().filter(|d| d.states.iter().any(|s| s == state)).find_map(|d| {
        let by_field = d.field.as_ref().and_then(|f| values.get(f)).and_then(Value::as_date);
        let by_days = d.days.and_then(|n| entered.checked_add_days(chrono::Days::new(n.into())));
        let due = match (by_field, by_days) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        (due < today).then(|| format!("{}已逾期（期限 {due}）", d.label))
    })
}

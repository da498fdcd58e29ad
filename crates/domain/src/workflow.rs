//! Workflows (流程): named states, allowed transitions, who may make them, what they require,
//! and deadlines. The rules for a transition (e.g. 风险消除) are guards written in the
//! definition file, so a province's rule change is an edit of data.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

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

/// A state's place in a workflow's order: (steps from the initial state, steps to a closed one).
type Rank = (usize, usize);

fn later(a: Rank, b: Rank) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
}

/// A state's name without spaces or the marks between its parts.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && !matches!(c, '·' | '•' | '・' | '.' | '-' | '—' | '_' | '/' | '、')).collect()
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
    /// Fields the step may fill besides those it requires and those its rules read (e.g. a
    /// note). A transition accepts no other field ([`Transition::refuse_undeclared`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// What evidence (佐证材料) the record must carry before this step, e.g. 整改后照片: the
    /// step is refused while the record has no attachment (`storage::attachments`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_attachment: Option<String>,
}

impl Transition {
    /// The fields this step may fill: those it requires, those its rules read, and those it
    /// lists under `fields`.
    pub fn declared_fields(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.requires.iter().map(String::as_str).collect();
        out.extend(self.guards.iter().flat_map(Guard::fields));
        out.extend(self.fields.iter().map(String::as_str));
        out
    }

    /// Refuses values for fields the step does not declare (a 移交 that would change the
    /// parties of a dispute), naming each in Chinese; such changes go through 编辑.
    pub fn refuse_undeclared<'k>(&self, def: &LedgerDef, keys: impl IntoIterator<Item = &'k String>) -> Result<(), DomainError> {
        let declared = self.declared_fields();
        let refused: Vec<FieldError> = keys
            .into_iter()
            .filter(|k| !declared.contains(&k.as_str()))
            .map(|k| {
                let label = def.field(k).map_or(k.as_str(), |f| f.label.as_str());
                let allowed: Vec<String> = declared.iter().map(|d| format!("「{}」", def.field(d).map_or(*d, |f| f.label.as_str()))).collect();
                let hint = if allowed.is_empty() { "这一环节不填写任何字段".to_string() } else { format!("这一环节只能填写{}", allowed.join("、")) };
                FieldError::new(k, label, format!("办理「{}」时不能修改此项（{hint}；如需修改请用「编辑」）", self.label))
            })
            .collect();
        if refused.is_empty() { Ok(()) } else { Err(DomainError::Fields(refused)) }
    }
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

    /// The state a clerk's text names: its label or its key. Spaces and the marks between the
    /// parts of a label do not matter (识别·入户核实, 识别-入户核实, 识别 入户核实).
    pub fn state_named(&self, text: &str) -> Option<&State> {
        let t = squeeze(text);
        if t.is_empty() {
            return None;
        }
        self.states.iter().find(|s| s.key == text.trim() || squeeze(&s.label) == t)
    }

    /// Each state's place in the workflow's order: the fewest steps from the initial state,
    /// then the fewest steps to a closed state (fewer is further along). A state reached by
    /// no step counts as farthest.
    fn ranks(&self) -> HashMap<&str, Rank> {
        let from_start = self.distances(&[self.initial.as_str()], false);
        let closed: Vec<&str> = self.states.iter().filter(|s| s.closed).map(|s| s.key.as_str()).collect();
        let to_close = self.distances(&closed, true);
        self.states
            .iter()
            .map(|s| {
                let k = s.key.as_str();
                (k, (from_start.get(k).copied().unwrap_or(usize::MAX), to_close.get(k).copied().unwrap_or(usize::MAX)))
            })
            .collect()
    }

    /// Fewest steps from any of `sources` to each state (`backwards`: from each state to them).
    fn distances<'a>(&'a self, sources: &[&'a str], backwards: bool) -> HashMap<&'a str, usize> {
        let mut dist: HashMap<&str, usize> = sources.iter().map(|s| (*s, 0)).collect();
        let mut queue: VecDeque<&str> = sources.iter().copied().collect();
        while let Some(at) = queue.pop_front() {
            let d = dist[at] + 1;
            for t in &self.transitions {
                let next: Vec<&str> = if backwards {
                    if t.to == at { t.from.iter().map(String::as_str).collect() } else { Vec::new() }
                } else if t.from.iter().any(|f| f == at) {
                    vec![t.to.as_str()]
                } else {
                    Vec::new()
                };
                for n in next {
                    if !dist.contains_key(n) {
                        dist.insert(n, d);
                        queue.push_back(n);
                    }
                }
            }
        }
        dist
    }

    /// Whether a case in state `a` is further along than one in `b` (see `paths`).
    pub fn is_later(&self, a: &str, b: &str) -> bool {
        let r = self.ranks();
        match (r.get(a), r.get(b)) {
            (Some(x), Some(y)) => later(*x, *y),
            _ => false,
        }
    }

    /// Every way a case moves on from `from` to `to` by transitions that each lead further
    /// along — further from the initial state, or as far from it and nearer a closed state —
    /// fewest steps first. Transitions leading back (退回帮扶, 风险消除回退, 复查不合格退回整改,
    /// 重新调处) are never part of one. Empty when `to` cannot be reached so; one empty path
    /// when `from` is `to`.
    pub fn paths(&self, from: &str, to: &str) -> Vec<Vec<&Transition>> {
        let ranks = self.ranks();
        let mut out = Vec::new();
        let mut path = Vec::new();
        self.walk(&ranks, from, to, &mut path, &mut out);
        out.sort_by_key(Vec::len);
        out
    }

    fn walk<'a>(&'a self, ranks: &HashMap<&str, Rank>, at: &str, to: &str, path: &mut Vec<&'a Transition>, out: &mut Vec<Vec<&'a Transition>>) {
        // A definition's paths are few; this bounds a pathological one.
        const MAX_PATHS: usize = 64;
        if out.len() >= MAX_PATHS {
            return;
        }
        if at == to {
            out.push(path.clone());
            return;
        }
        let Some(here) = ranks.get(at).copied() else { return };
        for t in &self.transitions {
            let on = t.from.iter().any(|f| f == at) && ranks.get(t.to.as_str()).is_some_and(|r| later(*r, here));
            if on {
                path.push(t);
                self.walk(ranks, &t.to, to, path, out);
                path.pop();
            }
        }
    }

    /// The day a case in `state` entered it, as its values tell: the first date field that a
    /// transition leading on into the state requires (风险消除日期, 化解日期, 复查日期) and that
    /// holds a date. Returns the field's key and the date.
    pub fn state_date<'a>(&'a self, def: &LedgerDef, state: &str, values: &Values) -> Option<(&'a str, NaiveDate)> {
        let ranks = self.ranks();
        let target = ranks.get(state).copied()?;
        self.transitions
            .iter()
            .filter(|t| t.to == state && t.from.iter().any(|f| ranks.get(f.as_str()).is_some_and(|r| later(target, *r))))
            .flat_map(|t| t.requires.iter())
            .filter(|k| def.field(k).is_some_and(|f| f.kind == FieldKind::Date))
            .find_map(|k| values.get(k).and_then(Value::as_date).map(|d| (k.as_str(), d)))
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
            if t.requires_attachment.as_deref().is_some_and(|w| w.trim().is_empty()) {
                return bad(format!("环节「{}」的 requires_attachment 须写明要什么佐证材料，如「整改后照片」", t.label));
            }
            for f in &t.requires {
                if def.field(f).is_none() {
                    return bad(format!("环节「{}」要求的字段「{f}」不存在", t.label));
                }
            }
            for f in &t.fields {
                if def.field(f).is_none() {
                    return bad(format!("环节「{}」可填写的字段「{f}」不存在", t.label));
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
    /// The field the rule is about (beside which its message stands).
    pub fn field_key(&self) -> &str {
        self.field()
    }

    /// The field the rule is about.
    fn field(&self) -> &str {
        match self {
            Guard::MonthsSince { field, .. }
            | Guard::IsTrue { field, .. }
            | Guard::NotEqual { field, .. }
            | Guard::NotEmpty { field, .. }
            | Guard::AboveSetting { field, .. } => field,
        }
    }

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

    /// What the rule asks, said positively for the step's form before it is sent (纳入监测满
    /// 6 个月, 家庭劳动能力不是「无劳动力」).
    pub fn describe(&self, def: &LedgerDef) -> String {
        let label = |k: &str| def.field(k).map_or_else(|| k.to_string(), |f| f.label.clone());
        match self {
            Guard::MonthsSince { field, months, .. } => format!("「{}」距办理日期满 {months} 个月", label(field)),
            Guard::IsTrue { field, .. } => format!("「{}」为「是」", label(field)),
            Guard::NotEqual { field, value, .. } => format!("「{}」不是「{value}」", label(field)),
            Guard::NotEmpty { field, unless: Some(u), .. } => format!("已填写「{}」（「{}」为「是」的除外）", label(field), label(u)),
            Guard::NotEmpty { field, unless: None, .. } => format!("已填写「{}」", label(field)),
            Guard::AboveSetting { field, setting, .. } => {
                format!("「{}」高于当年「{}」", label(field), crate::setting::label_of(setting))
            }
        }
    }

    /// What stops this rule on a step, beside its field and in plain words: "请先填写…" when
    /// the field the rule reads is empty (the rule cannot be judged yet), the rule's own
    /// message (with the dates or figures it compared) when it is filled and fails.
    /// `Err` for what no field can fix: the year's setting missing.
    fn problem(&self, def: &LedgerDef, values: &Values, on: NaiveDate, settings: &Settings) -> Option<Result<FieldError, String>> {
        let field = self.field();
        let label = def.field(field).map_or_else(|| field.to_string(), |f| f.label.clone());
        let empty = values.get(field).is_none_or(Value::is_null);
        let checks_emptiness = matches!(self, Guard::NotEmpty { .. } | Guard::NotEqual { .. });
        if empty && !checks_emptiness {
            return Some(Ok(FieldError::new(field, &label, format!("请先填写{label}"))));
        }
        let why = self.refusal(values, on, settings)?;
        if let Guard::AboveSetting { setting, .. } = self {
            match settings.get(&(setting.clone(), on.year())) {
                None => return Some(Err(why)),
                Some(line) => {
                    let line = crate::money::format_yuan(crate::money::Fen(*line));
                    return Some(Ok(FieldError::new(field, &label, format!("{why}（{} 年为 {line} 元）", on.year()))));
                }
            }
        }
        let detail = match (self, values.get(field).and_then(Value::as_date)) {
            (Guard::MonthsSince { months, .. }, Some(d)) => d
                .checked_add_months(chrono::Months::new(*months))
                .map(|limit| format!("（自 {d} 起算，{limit} 起方可办理）"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        Some(Ok(FieldError::new(field, &label, format!("{why}{detail}"))))
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
    let problems = step_problems(def, t, values, on, settings);
    if problems.fields.is_empty() && problems.unfixable.is_empty() {
        return Ok(t);
    }
    if problems.fields.is_empty() {
        return Err(DomainError::Rule(format!("不能办理「{}」：{}", t.label, problems.unfixable.join("；"))));
    }
    let mut fields = problems.fields;
    // What no field fixes is said with the step's name (the form shows it above the fields).
    fields.extend(problems.unfixable.into_iter().map(|m| FieldError::new("_step", &t.label, m)));
    Err(DomainError::Fields(fields))
}

/// What stops a step on these values: each problem beside the field it concerns (a required
/// field empty, a rule's field empty or failing the rule — one message per field), and what no
/// field can fix (a setting not set for the year).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StepProblems {
    pub fields: Vec<FieldError>,
    pub unfixable: Vec<String>,
}

/// The problems of transition `t` on `values` (state and role not checked): used to refuse the
/// step and to show before it is sent what it still lacks.
pub fn step_problems(def: &LedgerDef, t: &Transition, values: &Values, on: NaiveDate, settings: &Settings) -> StepProblems {
    let mut out = StepProblems::default();
    for f in &t.requires {
        if values.get(f).is_none_or(Value::is_null) {
            let label = def.field(f).map(|fd| fd.label.as_str()).unwrap_or(f);
            out.fields.push(FieldError::new(f, label, format!("请先填写{label}（办理「{}」必须填写）", t.label)));
        }
    }
    for g in &t.guards {
        match g.problem(def, values, on, settings) {
            Some(Ok(e)) if !out.fields.iter().any(|x| x.key == e.key) => out.fields.push(e),
            Some(Err(m)) if !out.unfixable.contains(&m) => out.unfixable.push(m),
            _ => {}
        }
    }
    out
}

/// What a step asks before it is sent, in plain words: the fields it requires, then each rule
/// ([`Guard::describe`]).
pub fn step_needs(def: &LedgerDef, t: &Transition) -> Vec<String> {
    let mut out: Vec<String> = t.requires.iter().map(|k| format!("填写「{}」", def.field(k).map_or(k.as_str(), |f| f.label.as_str()))).collect();
    out.extend(t.guards.iter().map(|g| g.describe(def)));
    out.extend(t.requires_attachment.iter().map(|what| format!("先上传佐证材料「{what}」")));
    out
}

/// What a case must carry to be in state `to` having come from `from` — for a case registered
/// straight into a later state (an import of historic cases), `from` is the initial state.
/// Some path of transitions leading on from `from` to `to` (`Workflow::paths`) must hold as
/// stepping through it would: the actor may make each transition, the fields each requires
/// hold a value, its guards hold on `on` (the day the case entered `to`). Returns that path.
/// Refused with the problems of the path that has the fewest: each missing field and each
/// guard's message named by its field, or the transition the actor may not make.
pub fn check_arrival<'a>(
    def: &'a LedgerDef,
    from: &str,
    to: &str,
    actor: &Actor,
    values: &Values,
    on: NaiveDate,
    settings: &Settings,
) -> Result<Vec<&'a Transition>, DomainError> {
    let wf = def
        .workflow
        .as_ref()
        .ok_or_else(|| DomainError::Rule(format!("「{}」没有办理流程", def.name)))?;
    let target = wf.state(to).ok_or_else(|| DomainError::Rule(format!("「{}」的流程中没有状态「{to}」", def.name)))?;
    if from == to {
        return Ok(Vec::new());
    }
    let paths = wf.paths(from, to);
    if paths.is_empty() {
        return Err(DomainError::Rule(if wf.is_later(from, to) {
            format!(
                "记录已处于「{}」，不能改回之前的「{}」；退回须在记录页办理相应环节",
                wf.state_label(from),
                target.label
            )
        } else {
            format!("处于「{}」的记录不能办到「{}」", wf.state_label(from), target.label)
        }));
    }
    let mut best: Option<(Vec<String>, Vec<FieldError>)> = None;
    for path in &paths {
        let (roles, fields) = path_problems(def, target, path, actor, values, on, settings);
        if roles.is_empty() && fields.is_empty() {
            return Ok(path.clone());
        }
        if best.as_ref().is_none_or(|(r, f)| roles.len() + fields.len() < r.len() + f.len()) {
            best = Some((roles, fields));
        }
    }
    let (roles, fields) = best.unwrap_or_default();
    if roles.is_empty() {
        Err(DomainError::Fields(fields))
    } else {
        let mut all = roles;
        all.extend(fields.iter().map(ToString::to_string));
        Err(DomainError::Rule(all.join("；")))
    }
}

/// What stops a case from arriving at `target` along `path`: transitions the actor may not
/// make, then missing fields and guards that do not hold (each once).
fn path_problems(
    def: &LedgerDef,
    target: &State,
    path: &[&Transition],
    actor: &Actor,
    values: &Values,
    on: NaiveDate,
    settings: &Settings,
) -> (Vec<String>, Vec<FieldError>) {
    let mut roles = Vec::new();
    let mut fields: Vec<FieldError> = Vec::new();
    let label = |k: &str| def.field(k).map_or_else(|| k.to_string(), |f| f.label.clone());
    for t in path {
        if !t.roles.iter().any(|r| actor.has_role(*r)) {
            roles.push(format!(
                "处于「{}」须经「{}」，该环节只能由{}办理",
                target.label,
                t.label,
                t.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join("、")
            ));
        }
        for f in &t.requires {
            if values.get(f).is_none_or(Value::is_null) && !fields.iter().any(|e| e.key == *f) {
                fields.push(FieldError::new(f, label(f), format!("状态为「{}」的记录必须填写（办理「{}」时要求）", target.label, t.label)));
            }
        }
        for g in &t.guards {
            if let Some(why) = g.refusal(values, on, settings) {
                let e = FieldError::new(g.field(), label(g.field()), format!("不符合状态「{}」的办理条件：{why}", target.label));
                if !fields.contains(&e) && !fields.iter().any(|x| x.key == e.key && x.reason.starts_with("状态为")) {
                    fields.push(e);
                }
            }
        }
    }
    (roles, fields)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    fn ledger(key: &str) -> LedgerDef {
        crate::catalogue::builtin_ledgers().expect("catalogue").into_iter().find(|d| d.key == key).expect("ledger")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn keys(path: &[&Transition]) -> Vec<String> {
        path.iter().map(|t| t.key.clone()).collect()
    }

    #[test]
    fn a_step_may_ask_for_evidence_and_must_say_what() {
        let hazards = ledger("hazards");
        let close = hazards.workflow.as_ref().and_then(|w| w.transition("close")).expect("close");
        assert_eq!(close.requires_attachment.as_deref(), Some("整改后照片"));
        assert!(step_needs(&hazards, close).contains(&"先上传佐证材料「整改后照片」".to_string()));
        // Written back as a definition file and read again, it stays.
        let again = LedgerDef::from_toml(&hazards.to_toml().expect("toml")).expect("parses");
        assert_eq!(again.workflow, hazards.workflow);
        let blank = hazards.to_toml().expect("toml").replace("requires_attachment = \"整改后照片\"", "requires_attachment = \" \"");
        let e = LedgerDef::from_toml(&blank).expect_err("blank");
        assert!(e.to_string().contains("须写明要什么佐证材料"), "{e}");
    }

    fn eliminated() -> Values {
        [
            ("identified_on", Value::Date(date(2022, 3, 1))),
            ("income_stable_since", Value::Date(date(2022, 6, 1))),
            ("per_capita_income", Value::Int(900_000)),
            ("three_guarantees_secure", Value::Bool(true)),
            ("measures", Value::List(vec!["产业帮扶".into()])),
            ("labour_capacity", Value::Text("有劳动力".into())),
            ("eliminated_on", Value::Date(date(2023, 6, 30))),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn line() -> Settings {
        Settings::from([(("monitoring_line".to_string(), 2023), 700_000)])
    }

    fn fields_of(e: DomainError) -> Vec<FieldError> {
        match e {
            DomainError::Fields(f) => f,
            other => panic!("expected field errors, got {other}"),
        }
    }

    #[test]
    fn paths_lead_on_and_never_back() {
        let m = ledger("monitoring");
        let wf = m.workflow.as_ref().expect("workflow");
        let p = wf.paths("identify_visit", "eliminated");
        assert_eq!(p.len(), 1);
        assert_eq!(keys(&p[0]).len(), 9);
        assert!(!keys(&p[0]).iter().any(|k| k == "eliminate_reject" || k == "eliminate_revert"));
        assert!(wf.paths("eliminated", "assisting").is_empty(), "风险消除回退 leads back");
        assert!(wf.is_later("eliminated", "assisting") && !wf.is_later("assisting", "eliminated"));
        assert_eq!(wf.paths("assisting", "assisting"), vec![Vec::<&Transition>::new()]);

        let h = ledger("hazards");
        let wf = h.workflow.as_ref().expect("workflow");
        let p: Vec<Vec<String>> = wf.paths("found", "rectified").iter().map(|p| keys(p)).collect();
        assert_eq!(p, vec![vec!["fix_on_spot".to_string()], vec!["assign".into(), "finish".into()]]);
        let p: Vec<Vec<String>> = wf.paths("found", "rectifying").iter().map(|p| keys(p)).collect();
        assert_eq!(p, vec![vec!["assign".to_string()]], "复查不合格退回 is not a way into 整改中");
        assert!(wf.paths("rectified", "rectifying").is_empty());
        assert!(wf.is_later("rectified", "rectifying"));

        let d = ledger("disputes");
        let wf = d.workflow.as_ref().expect("workflow");
        assert_eq!(keys(&wf.paths("accepted", "transferred")[0]), vec!["transfer".to_string()]);
        assert_eq!(wf.paths("mediating", "transferred").len(), 1);
        assert!(wf.paths("resolved", "mediating").is_empty(), "重新调处 leads back");
    }

    #[test]
    fn states_by_label_or_key_and_their_dates() {
        let m = ledger("monitoring");
        let wf = m.workflow.as_ref().expect("workflow");
        for t in ["风险消除", "eliminated", " 风险消除 "] {
            assert_eq!(wf.state_named(t).map(|s| s.key.as_str()), Some("eliminated"), "{t}");
        }
        for t in ["识别·入户核实", "识别-入户核实", "识别 入户核实", "识别入户核实"] {
            assert_eq!(wf.state_named(t).map(|s| s.key.as_str()), Some("identify_visit"), "{t}");
        }
        assert!(wf.state_named("办结").is_none() && wf.state_named("").is_none());
        let v = eliminated();
        assert_eq!(wf.state_date(&m, "eliminated", &v), Some(("eliminated_on", date(2023, 6, 30))));
        assert_eq!(wf.state_date(&m, "assisting", &v), Some(("identified_on", date(2022, 3, 1))));
        assert_eq!(wf.state_date(&m, "identify_town", &v), None);
        let h = ledger("hazards");
        let wf = h.workflow.as_ref().expect("workflow");
        let v: Values = [("review_on".to_string(), Value::Date(date(2023, 5, 2)))].into_iter().collect();
        assert_eq!(wf.state_date(&h, "closed", &v), Some(("review_on", date(2023, 5, 2))));
    }

    #[test]
    fn arriving_in_a_state_needs_what_stepping_there_needs() {
        let m = ledger("monitoring");
        let clerk = Actor::User { id: 1, username: "c".into(), role: Role::Clerk, place_id: 1 };
        let on = date(2023, 6, 30);
        let path = check_arrival(&m, "identify_visit", "eliminated", &clerk, &eliminated(), on, &line()).expect("eligible");
        assert_eq!(path.len(), 9);

        let mut v = eliminated();
        v.remove("eliminated_on");
        let f = fields_of(check_arrival(&m, "identify_visit", "eliminated", &clerk, &v, on, &line()).expect_err("no date"));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].key.as_str(), f[0].label.as_str()), ("eliminated_on", "风险消除日期"));
        assert!(f[0].reason.contains("状态为「风险消除」的记录必须填写"), "{}", f[0].reason);

        let mut v = eliminated();
        v.insert("labour_capacity".into(), Value::Text("无劳动力".into()));
        v.insert("identified_on".into(), Value::Date(date(2023, 3, 1)));
        let f = fields_of(check_arrival(&m, "identify_visit", "eliminated", &clerk, &v, on, &line()).expect_err("guards"));
        let reasons: Vec<String> = f.iter().map(ToString::to_string).collect();
        assert_eq!(reasons.len(), 2, "each guard once: {reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("「家庭劳动能力」") && r.contains("无劳动力家庭不能标注风险消除")), "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("「识别纳入日期」") && r.contains("纳入监测未满 6 个月")), "{reasons:?}");

        // The year of the day it entered the state decides the line.
        let e = check_arrival(&m, "identify_visit", "eliminated", &clerk, &eliminated(), date(2022, 12, 1), &line()).expect_err("no 2022 line");
        assert!(e.to_string().contains("未设置2022年度"), "{e}");

        let cadre = Actor::User { id: 2, username: "v".into(), role: Role::VillageCadre, place_id: 1 };
        let e = check_arrival(&m, "identify_visit", "eliminated", &cadre, &eliminated(), on, &line()).expect_err("role");
        assert!(matches!(&e, DomainError::Rule(r) if r.contains("只能由")), "{e}");

        let e = check_arrival(&m, "eliminated", "assisting", &clerk, &eliminated(), on, &line()).expect_err("back");
        assert!(e.to_string().contains("不能改回之前的「帮扶中」"), "{e}");
        assert_eq!(check_arrival(&m, "assisting", "assisting", &clerk, &Values::new(), on, &line()).expect("same").len(), 0);

        // Of two ways into 已整改, the one that holds is taken; when none does, the nearer
        // one's problem is told: a 重大 hazard needs the 五定 of 下达整改.
        let h = ledger("hazards");
        let mut v: Values = [("rectified_on".to_string(), Value::Date(date(2023, 5, 2))), ("level".into(), Value::Text("一般".into()))].into_iter().collect();
        assert_eq!(keys(&check_arrival(&h, "found", "rectified", &clerk, &v, on, &Settings::new()).expect("on the spot")), vec!["fix_on_spot".to_string()]);
        v.insert("level".into(), Value::Text("重大".into()));
        let e = check_arrival(&h, "found", "rectified", &clerk, &v, on, &Settings::new()).expect_err("重大");
        assert!(e.to_string().contains("重大隐患须下达整改"), "{e}");
        for (k, t) in [("rectify_person", "张三"), ("rectify_measures", "更换"), ("rectify_standard", "合格")] {
            v.insert(k.into(), Value::Text(t.into()));
        }
        v.insert("rectify_deadline".into(), Value::Date(date(2023, 5, 1)));
        assert_eq!(check_arrival(&h, "found", "rectified", &clerk, &v, on, &Settings::new()).expect("五定").len(), 2);
    }
}

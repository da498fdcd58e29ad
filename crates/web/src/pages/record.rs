//! One record: the form to add it, the page that shows and edits it (with its history from
//! the audit trail), and the workflow transitions the user may make.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde_json::json;
use taizhang_domain::ledger::{LedgerDef, RefTarget, SubjectKind};
use taizhang_domain::period::parse_date_lenient;
use taizhang_domain::value::{Record, RecordInput, Value, Values};
use taizhang_domain::{DomainError, FieldError};
use taizhang_storage::audit::{self, AuditQuery};
use taizhang_storage::{places, records, refs, settings, StoreError, Tx};

use crate::query::records::open_record;
use crate::auth::Me;
use crate::error::AppResult;
use crate::forms::{self, Attempt, FormField, Problem};
use crate::{show, views, AppState};

type Pairs = Vec<(String, String)>;

fn version_of(form: &Pairs) -> i64 {
    forms::get(form, "_version").and_then(|v| v.parse().ok()).unwrap_or(-1)
}

/// A value of an audit entry's `values` as this user may read it (masked by the policy, a
/// reference by its name); `None` for a field the policy hides.
async fn audit_value(tx: &mut Tx, me: &Me, names: &mut super::RefNames, f: &taizhang_domain::ledger::FieldDef, v: Option<&serde_json::Value>) -> String {
    match v.cloned().map(serde_json::from_value::<Value>) {
        Some(Ok(v)) if !v.is_null() => names.display(tx, me, f, &v).await,
        _ => String::new(),
    }
}

/// The record's history from the audit trail, newest first: who, when (Beijing time), what —
/// each changed field with its old and new value as this user may see them, the step's name,
/// the reason of a void.
async fn history(tx: &mut Tx, me: &Me, def: &LedgerDef, record: &Record) -> AppResult<Vec<serde_json::Value>> {
    let q = AuditQuery { entity: Some(def.table_name()), entity_id: Some(record.id), limit: 50, ..Default::default() };
    let entries = audit::list(tx, &me.scope, &q).await?;
    // An import's entry covers a run of records and holds no values: what it created is what
    // the next change found (its `before`), or the record as it is if nothing changed since.
    let mut next_before = Some(serde_json::to_value(&record.values).unwrap_or_default());
    let mut created = Vec::with_capacity(entries.len());
    for e in &entries {
        created.push(if e.after.is_none() && e.action == "create" { next_before.clone() } else { None });
        if !matches!(e.action.as_str(), "read" | "attach" | "detach") {
            next_before = e.before.as_ref().and_then(|b| b.get("values")).cloned();
        }
    }
    let policy = me.policy();
    let mut names = super::RefNames::default();
    let mut out = Vec::with_capacity(entries.len());
    for (e, created) in entries.into_iter().zip(created) {
        let before = e.before.as_ref().and_then(|b| b.get("values")).cloned().unwrap_or_default();
        let after = created.or_else(|| e.after.as_ref().and_then(|b| b.get("values")).cloned()).unwrap_or_default();
        let mut items = Vec::new();
        if !matches!(e.action.as_str(), "read" | "void" | "restore") {
            for f in def.fields.iter().filter(|f| before.get(&f.key) != after.get(&f.key)) {
                if policy.field(f) == taizhang_domain::masking::Treatment::Hidden {
                    items.push(json!({"label": f.label, "old": "", "new": "", "hidden": true}));
                    continue;
                }
                let old = audit_value(tx, me, &mut names, f, before.get(&f.key)).await;
                let new = audit_value(tx, me, &mut names, f, after.get(&f.key)).await;
                if old != new || old.is_empty() {
                    items.push(json!({"label": f.label, "old": old, "new": new, "hidden": false}));
                }
            }
        }
        let action = match e.action.as_str() {
            "create" => "新增",
            "update" => "修改",
            "transition" => "办理",
            "read" => "查看",
            "delete" => "删除",
            "void" => "作废",
            "restore" => "恢复",
            "attach" => "上传佐证材料",
            "detach" => "撤下佐证材料",
            "status" => "状态变更",
            other => other,
        };
        let wf = def.workflow.as_ref();
        let step = wf.and_then(|w| w.transitions.iter().find(|t| t.key == e.note)).map_or(e.note.as_str(), |t| t.label.as_str());
        let state_of = |j: &Option<serde_json::Value>| j.as_ref().and_then(|b| b.get("state")).and_then(|s| s.as_str()).map(|s| wf.map_or(s, |w| w.state_label(s)).to_string());
        let moved = match (state_of(&e.before), state_of(&e.after)) {
            (Some(a), Some(b)) if a != b => format!("「{a}」→「{b}」"),
            _ => String::new(),
        };
        let summary = match e.action.as_str() {
            "read" => e.note.clone(),
            "void" => format!("作废原因：{}", e.note),
            "restore" => "恢复为有效记录".to_string(),
            "transition" => {
                let labels: Vec<&str> = items.iter().filter_map(|i| i["label"].as_str()).collect();
                let filled = if labels.is_empty() { String::new() } else { format!("：{}", labels.join("、")) };
                format!("{step}{filled}{}", if moved.is_empty() { String::new() } else { format!("（{moved}）") })
            }
            // A run of imported records, or one imported in a state (导入（状态：…）).
            _ if e.last_entity_id.is_some() || !e.note.is_empty() => e.note.clone(),
            _ => String::new(),
        };
        out.push(json!({
            "at": records::local_time(&e.at),
            "actor": e.actor,
            "action": action,
            "summary": policy.text(&summary),
            "items": items,
            "step": if e.action == "transition" { format!("{step}{}", if moved.is_empty() { String::new() } else { format!("（{moved}）") }) } else { String::new() },
        }));
    }
    Ok(out)
}

/// Where the record stands in its workflow: every state in order (passed, current, ahead),
/// the steps made (when, by whom, from the audit trail), the steps that may come next and who
/// makes them, and the deadline of the current state.
fn progress(def: &LedgerDef, r: &Record, history: &[serde_json::Value], today: chrono::NaiveDate) -> Option<serde_json::Value> {
    let wf = def.workflow.as_ref()?;
    let current = r.state.as_deref()?;
    let states: Vec<serde_json::Value> = wf
        .states
        .iter()
        .map(|s| {
            let at = if s.key == current { "current" } else if wf.is_later(current, &s.key) { "passed" } else { "ahead" };
            json!({"label": s.label, "at": at})
        })
        .collect();
    let done: Vec<serde_json::Value> = history
        .iter()
        .rev()
        .filter(|h| h["action"] == "办理")
        .map(|h| json!({"at": h["at"].as_str().unwrap_or("").get(..16).unwrap_or(""), "actor": h["actor"], "step": h["step"], "summary": h["summary"]}))
        .collect();
    let next: Vec<serde_json::Value> = wf
        .transitions
        .iter()
        .filter(|t| t.from.iter().any(|f| f == current))
        .map(|t| json!({"key": t.key, "label": t.label, "roles": t.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join("、")}))
        .collect();
    let closed = wf.state(current).is_some_and(|s| s.closed);
    let since = r.state_since;
    let deadline = if closed {
        None
    } else {
        wf.deadlines.iter().filter(|d| d.states.iter().any(|s| s == current)).find_map(|d| {
            let by_field = d.field.as_ref().and_then(|f| r.values.get(f)).and_then(Value::as_date);
            let by_days = d.days.zip(since).and_then(|(n, s)| s.checked_add_days(chrono::Days::new(n.into())));
            let due = match (by_field, by_days) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b)?,
            };
            let left = (due - today).num_days();
            let when = if left < 0 { format!("已逾期 {} 天", -left) } else if left == 0 { "今天到期".to_string() } else { format!("还有 {left} 天") };
            Some(json!({"label": d.label, "due": due.to_string(), "when": when, "overdue": left < 0}))
        })
    };
    Some(json!({
        "state": wf.state_label(current),
        "since": since.map(|d| d.to_string()),
        "closed": closed,
        "states": states,
        "done": done,
        "next": next,
        "deadline": deadline,
    }))
}

#[allow(clippy::too_many_arguments)]
async fn page(
    tx: &mut Tx,
    state: &AppState,
    me: &Me,
    def: &LedgerDef,
    defs: &[LedgerDef],
    record: Option<&Record>,
    typed: &Pairs,
    problem: Option<&Problem>,
    notice: &str,
    void_attempt: &Attempt,
) -> AppResult<Response> {
    let errors: Vec<FieldError> = problem.map(|p| p.fields.clone()).unwrap_or_default();
    let stored = record.map(|r| r.values.clone()).unwrap_or_default();
    let title = match record {
        Some(r) => format!("{} #{}", def.name, r.id),
        None => format!("{} · 新增", def.name),
    };
    let list_href = format!("/ledgers/{}", def.key);
    let mut ctx = views::layout(me, defs, &title, &[(def.group.as_str(), ""), (def.name.as_str(), list_href.as_str()), (if record.is_some() { "记录" } else { "新增" }, "")]);
    ctx.insert("def".into(), json!({"key": def.key, "name": def.name}));
    ctx.insert("group".into(), json!(def.group));
    ctx.insert("current".into(), json!(def.key));
    ctx.insert("today".into(), json!(state.today().to_string()));
    // A voided record is shown, never edited or moved on: only an administrator's 恢复 brings it back.
    let voided = record.is_some_and(|r| r.voided.is_some());
    ctx.insert("can_edit".into(), json!(me.can_edit(&def.key) && !voided));
    ctx.insert("may_void".into(), json!(me.can_edit(&def.key) && record.is_some() && !voided));
    ctx.insert("may_restore".into(), json!(me.user.role == taizhang_domain::role::Role::Admin && voided));
    ctx.insert("void_attempt".into(), json!(void_attempt));
    // Which form was sent: a workflow step (its `_transition`), else the edit (or new) form.
    // A step's values and messages stay in the step's own form; the edit form then shows what
    // is stored, untouched.
    let step_sent = forms::get(typed, "_transition").is_some();
    let step = forms::get(typed, "_transition").filter(|_| problem.is_some()).unwrap_or("");
    let edit_sent = !step_sent && problem.is_some();
    let stale = problem.is_some_and(|p| p.stale);
    let policy = me.policy();
    let edit_errors: Vec<FieldError> = if edit_sent { errors.clone() } else { Vec::new() };
    let mut edit_fields = forms::fields(&policy, def, if step_sent { &[] } else { typed }, &stored, &edit_errors);
    if stale {
        // Someone saved first: the form keeps what this user typed (sent again with the new
        // version), and says beside each field what is stored now where it differs.
        for f in &mut edit_fields {
            if let Some(fd) = def.field(&f.key) {
                let now = stored.get(&f.key).map(|v| show::display(&policy, fd, v)).unwrap_or_default();
                let now_text = stored.get(&f.key).map(|v| show::form_text(&policy, fd, v)).unwrap_or_default();
                if now_text.trim() != f.value.trim() && fd.kind != taizhang_domain::ledger::FieldKind::MultiEnum {
                    f.help = format!("现在保存的是：{}", if now.is_empty() { "（空）".to_string() } else { now });
                }
            }
        }
    }
    ctx.insert("fields".into(), json!(with_suggestions(edit_fields, def)));
    ctx.insert("stale".into(), json!(stale));
    ctx.insert("subject_label".into(), json!(if def.subject == SubjectKind::None { "" } else { def.subject.label() }));
    ctx.insert("open_transition".into(), json!(step));
    // Beside the step: its message, naming any field the step's form does not show (a field
    // the step may not change, a setting not set for the year).
    let shown_by_step: Vec<String> = def
        .workflow
        .as_ref()
        .and_then(|w| w.transition(step))
        .map(|t| step_field_keys(&policy, def, t))
        .unwrap_or_default();
    let step_message = problem.map(|p| {
        let unshown: Vec<String> = p.fields.iter().filter(|f| !shown_by_step.contains(&f.key)).map(|f| if f.key == "_step" { f.reason.clone() } else { format!("「{}」{}", f.label, f.reason) }).collect();
        if !unshown.is_empty() {
            unshown.join("；")
        } else if p.stale {
            // The step's form keeps what was typed, on the current version: send it again.
            p.message.replace("，请刷新后再改。", "。您在这一环节填写的内容仍在下面，核对后可再次办理。")
        } else {
            p.message.clone()
        }
    });
    ctx.insert("transition_error".into(), json!(if step.is_empty() { String::new() } else { step_message.unwrap_or_default() }));
    // A stale edit keeps the input below: no need to reload (which would lose it).
    let form_error = problem.map(|p| if p.stale { p.message.replace("，请刷新后再改。", "。") } else { p.message.clone() }).unwrap_or_default();
    ctx.insert("form_error".into(), json!(if edit_sent { form_error } else { String::new() }));
    if me.can_edit(&def.key) && !voided {
        ctx.insert("suggestions".into(), json!(suggestions(tx, me, def, state.today()).await?));
    }
    ctx.insert("notice".into(), json!(notice));
    let key_err = |k: &str| errors.iter().filter(|e| e.key == k).map(|e| e.reason.clone()).collect::<Vec<_>>().join("；");
    let subject_help = match def.subject {
        SubjectKind::Person => "填身份证号；人员须已在人员库登记",
        SubjectKind::Household => "填户编号或户主身份证号",
        _ => "填名称，或 #编号",
    };
    ctx.insert("subject_field".into(), json!(FormField { key: "_subject".into(), label: def.subject.label().into(), kind: "text", required: true, value: forms::get(typed, "_subject").unwrap_or("").into(), help: subject_help.into(), error: key_err("_subject"), ..Default::default() }));
    let mut place_opts = vec![me.place_name.clone()];
    for p in super::place_options(tx, me).await? {
        let name = p["name"].as_str().unwrap_or("").to_string();
        if !place_opts.contains(&name) {
            place_opts.push(name);
        }
    }
    ctx.insert("place_field".into(), json!(FormField { key: "_place".into(), label: "所属地点".into(), kind: "select", required: def.subject == SubjectKind::None, options: place_opts, value: forms::get(typed, "_place").unwrap_or("").into(), help: if def.subject == SubjectKind::None { String::new() } else { "不填则取记录对象的所在地".into() }, error: key_err("_place"), ..Default::default() }));
    if let Some(r) = record {
        // Shown to this user: the read is noted (and written once the page is made).
        show::shown(def, r);
        let mut names = super::RefNames::default();
        let mut shown = Vec::new();
        for f in def.fields.iter().filter(|f| policy.field(f) != taizhang_domain::masking::Treatment::Hidden) {
            if let Some(v) = r.values.get(&f.key) {
                shown.push(json!({"label": f.label, "text": names.display(tx, me, f, v).await}));
            }
        }
        ctx.insert(
            "record".into(),
            json!({
                "id": r.id, "version": r.row_version, "updated_by": r.updated_by,
                "updated_at": records::local_time(&r.updated_at),
                "state_label": def.workflow.as_ref().zip(r.state.as_deref()).map(|(w, s)| w.state_label(s).to_string()),
                "tone": show::tone(def, r.state.as_deref()),
                "subject": crate::query::subjects::subject_text(tx, me, def, r.subject_id).await,
                "subject_link": crate::query::subjects::subject_of(tx, me, def, r.subject_id).await.link,
                "place": super::place_name(tx, r.place_id).await,
                "shown": shown,
                "voided": r.voided.as_ref().map(|v| json!({"at": records::local_time(&v.at), "by": v.by, "reason": v.reason})),
            }),
        );
        ctx.insert("evidence".into(), json!(super::attachments::section(tx, me, def, r).await?));
        let mut transitions = Vec::new();
        if let (Some(wf), Some(state_key)) = (&def.workflow, r.state.as_deref()) {
            if me.can_transition(&def.key) && !voided {
                let settings = settings::all(tx).await?;
                for t in wf.transitions.iter().filter(|t| t.from.iter().any(|f| f == state_key) && t.roles.contains(&me.user.role)) {
                    // This step's own form: what was typed into it and its messages when it
                    // was the one sent, else the stored values; every field it may fill.
                    let sent = t.key == step;
                    let (t_typed, t_errors): (&[(String, String)], &[FieldError]) = if sent { (typed, &errors) } else { (&[], &[]) };
                    let tf: Vec<FormField> = step_field_keys(&policy, def, t)
                        .iter()
                        .filter_map(|k| def.field(k))
                        .map(|f| {
                            let mut ff = forms::field(&policy, f, t_typed, &stored, t_errors);
                            ff.id = format!("t-{}-{}", t.key, f.key);
                            ff.required = t.requires.contains(&f.key);
                            let rules: Vec<String> = t.guards.iter().filter(|g| g.field_key() == f.key).map(|g| g.describe(def)).collect();
                            if !rules.is_empty() {
                                ff.help = format!("办理条件：{}", rules.join("；"));
                            }
                            ff
                        })
                        .collect();
                    // Said before sending: what the step needs, and what the stored values still lack.
                    let lacking = taizhang_domain::workflow::step_problems(def, t, &r.values, state.today(), &settings);
                    let unfilled: Vec<String> = lacking.fields.iter().filter(|e| t.requires.contains(&e.key)).map(|e| format!("「{}」", e.label)).collect();
                    let mut lacks: Vec<String> = if unfilled.is_empty() { Vec::new() } else { vec![format!("未填写{}", unfilled.join(""))] };
                    lacks.extend(lacking.fields.iter().filter(|e| !t.requires.contains(&e.key)).map(|e| format!("「{}」{}", e.label, e.reason)));
                    lacks.extend(lacking.unfixable);
                    transitions.push(json!({
                        "key": t.key, "label": t.label, "fields": tf,
                        "needs": taizhang_domain::workflow::step_needs(def, t),
                        "lacks": policy.text(&lacks.join("；")),
                        "on": if sent { forms::get(typed, "_on").unwrap_or("").to_string() } else { String::new() },
                    }));
                }
            }
        }
        ctx.insert("transitions".into(), json!(transitions));
        let history = history(tx, me, def, r).await?;
        ctx.insert("progress".into(), json!(progress(def, r, &history, state.today())));
        ctx.insert("history".into(), json!(history));
    }
    let status = problem.map_or(StatusCode::OK, |p| p.status);
    Ok((status, views::render("record.html", &ctx.into())?).into_response())
}

pub async fn new_form(State(state): State<AppState>, me: Me, Path(key): Path<String>, Query(prefill): Query<Vec<(String, String)>>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&me, &defs, &key)?;
    // `?field=value` fills the form in (the 走访 button: household, case, today, the visitor).
    page(&mut tx, &state, &me, def, &defs, None, &prefill, None, "", &Attempt::default()).await
}

async fn try_create(tx: &mut Tx, state: &AppState, me: &Me, def: &LedgerDef, form: &Pairs) -> Result<Record, Problem> {
    let mut errors = Vec::new();
    let subject_id = match (RefTarget::of_subject(def.subject), forms::get(form, "_subject")) {
        (Some(t), Some(s)) => match refs::resolve(tx, &me.scope, &t, s).await {
            Ok(id) => Some(id),
            Err(StoreError::NotFound(m)) => return Err(Problem { status: StatusCode::NOT_FOUND, fields: vec![FieldError::new("_subject", def.subject.label(), m.clone())], message: m, stale: false }),
            Err(e) => return Err(e.into()),
        },
        (Some(_), None) => {
            errors.push(FieldError::new("_subject", def.subject.label(), "必须填写"));
            None
        }
        _ => None,
    };
    let place_id = match forms::get(form, "_place") {
        Some(p) => match places::resolve(tx, &me.scope, p).await {
            Ok(p) => Some(p.id),
            Err(StoreError::NotFound(m)) => return Err(Problem { status: StatusCode::NOT_FOUND, fields: vec![FieldError::new("_place", "所属地点", m.clone())], message: m, stale: false }),
            Err(e) => return Err(e.into()),
        },
        None if def.subject == SubjectKind::None => {
            errors.push(FieldError::new("_place", "所属地点", "必须填写"));
            None
        }
        None => None,
    };
    let values = match refs::parse_values(tx, &me.scope, def, &forms::field_pairs(def, form), state.today()).await {
        Ok(v) => v,
        Err(StoreError::Domain(DomainError::Fields(f))) => {
            errors.extend(f);
            Values::new()
        }
        Err(e) => return Err(e.into()),
    };
    if !errors.is_empty() {
        return Err(StoreError::Domain(DomainError::Fields(errors)).into());
    }
    let input = RecordInput { place_id, subject_id, concerns_year: None, values };
    Ok(records::create(tx, def, &me.user.actor(), &me.scope, input, state.today()).await?)
}

pub async fn create(State(state): State<AppState>, me: Me, Path(key): Path<String>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&me, &defs, &key)?;
    match try_create(&mut tx, &state, &me, def, &form).await {
        Ok(rec) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/ledgers/{key}/{}?saved=1", rec.id)).into_response())
        }
        Err(p) => {
            drop(tx);
            let mut tx = state.db.read().await?;
            page(&mut tx, &state, &me, def, &defs, None, &form, Some(&p), "", &Attempt::default()).await
        }
    }
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn show(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, axum::extract::Query(q): axum::extract::Query<ShowQuery>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&me, &defs, &key)?;
    drop(tx);
    let rec = open_record(&state, &me, def, id).await?;
    let mut tx = state.db.read().await?;
    let notice = match q.saved.as_deref() {
        Some("void") => "已作废：这条记录不再计入列表、指标、核查和报表",
        Some("restore") => "已恢复：这条记录重新计入列表、指标、核查和报表",
        Some(_) => "已保存",
        None => "",
    };
    page(&mut tx, &state, &me, def, &defs, Some(&rec), &Vec::new(), None, notice, &Attempt::default()).await
}

#[allow(clippy::too_many_arguments)]
async fn after_write(state: &AppState, me: &Me, key: &str, id: i64, defs: &[LedgerDef], def: &LedgerDef, form: &Pairs, result: Result<Record, Problem>, tx: Tx) -> AppResult<Response> {
    match result {
        Ok(rec) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/ledgers/{key}/{}?saved=1", rec.id)).into_response())
        }
        Err(p) => {
            drop(tx);
            let mut tx = state.db.read().await?;
            let rec = records::get(&mut tx, def, &me.scope, id).await?;
            page(&mut tx, state, me, def, defs, Some(&rec), form, Some(&p), "", &Attempt::default()).await
        }
    }
}

pub async fn update(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&me, &defs, &key)?;
    let before = records::get(&mut tx, def, &me.scope, id).await?;
    let result = async {
        // A masked value sent back as it was shown means "unchanged": only a retyped value is saved.
        let policy = me.policy();
        let pairs: Pairs = forms::field_pairs(def, &form)
            .into_iter()
            .filter(|(k, text)| def.field(k).is_none_or(|f| !show::kept_masked(&policy, f, before.values.get(k), text)))
            .collect();
        let mut changes = refs::parse_values(&mut tx, &me.scope, def, &pairs, state.today()).await?;
        // A field the form sends empty clears the stored value; fields it leaves out stay.
        for (k, text) in &pairs {
            if text.trim().is_empty() && before.values.contains_key(k) {
                changes.insert(k.clone(), Value::Null);
            }
        }
        records::update(&mut tx, def, &me.user.actor(), &me.scope, id, version_of(&form), changes, state.today()).await
    }
    .await
    .map_err(Problem::from);
    after_write(&state, &me, &key, id, &defs, def, &form, result, tx).await
}

pub async fn transition(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&me, &defs, &key)?;
    let before = records::get(&mut tx, def, &me.scope, id).await?;
    let result = async {
        let on = match forms::get(&form, "_on") {
            Some(d) => parse_date_lenient(d).map_err(|e| DomainError::field("_on", "办理日期", e.to_string()))?,
            None => state.today(),
        };
        let t = forms::get(&form, "_transition").unwrap_or("").to_string();
        // As the edit form: a masked value sent back as shown is unchanged, and a field the
        // step's form shows and sends empty is cleared (the step is judged on what it shows).
        let policy = me.policy();
        let pairs: Pairs = forms::field_pairs(def, &form)
            .into_iter()
            .filter(|(k, text)| def.field(k).is_none_or(|f| !show::kept_masked(&policy, f, before.values.get(k), text)))
            .collect();
        let mut values = refs::parse_values(&mut tx, &me.scope, def, &pairs, state.today()).await?;
        for (k, text) in &pairs {
            if text.trim().is_empty() && before.values.contains_key(k) {
                values.insert(k.clone(), Value::Null);
            }
        }
        let all = settings::all(&mut tx).await?;
        records::transition(&mut tx, def, &me.user.actor(), &me.scope, id, version_of(&form), &t, values, on, &all).await
    }
    .await
    .map_err(Problem::from);
    after_write(&state, &me, &key, id, &defs, def, &form, result, tx).await
}

/// The fields a step's form shows: those it requires, those its rules read, those it lists,
/// each once, none the user's policy hides.
fn step_field_keys(policy: &taizhang_domain::masking::Policy, def: &LedgerDef, t: &taizhang_domain::workflow::Transition) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in t.declared_fields() {
        let visible = def.field(k).is_some_and(|f| policy.field(f) != taizhang_domain::masking::Treatment::Hidden);
        if visible && !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    out
}

/// The reference fields a clerk picks a cadre or an organisation for get suggestions: only
/// those still in post or open (an ended one cannot be chosen for a new value).
fn with_suggestions(mut fields: Vec<FormField>, def: &LedgerDef) -> Vec<FormField> {
    for f in &mut fields {
        f.suggest = match def.field(&f.key).and_then(|d| d.target.as_ref()) {
            Some(RefTarget::Cadre) => "cadres".into(),
            Some(RefTarget::Organisation) => "orgs".into(),
            _ => String::new(),
        };
    }
    fields
}

/// The cadres in post and the organisations still open within the user's scope, as the form's
/// suggestions (value as the form accepts it: the name, or `#编号` where two share a name).
async fn suggestions(tx: &mut Tx, me: &Me, def: &LedgerDef, today: chrono::NaiveDate) -> AppResult<serde_json::Value> {
    let wants = |t: RefTarget| def.active_fields().any(|f| f.target.as_ref() == Some(&t));
    let mut cadres = Vec::new();
    if wants(RefTarget::Cadre) {
        let all = taizhang_storage::orgs::list_cadres(tx, &me.scope).await?;
        for c in all.iter().filter(|c| c.ended_on.is_none_or(|d| d >= today)) {
            let twins = all.iter().filter(|o| o.name == c.name).count() > 1;
            let value = if twins { format!("#{}", c.id) } else { c.name.clone() };
            cadres.push(json!({"value": value, "label": format!("{} {} {}", c.name, c.kind.label(), c.post).trim().to_string()}));
        }
    }
    let mut orgs = Vec::new();
    if wants(RefTarget::Organisation) {
        let all = taizhang_storage::orgs::list_orgs(tx, &me.scope).await?;
        for o in all.iter().filter(|o| o.ended_on.is_none_or(|d| d >= today)) {
            let twins = all.iter().filter(|x| x.name == o.name).count() > 1;
            let value = if twins { o.uscc.clone().unwrap_or_else(|| format!("#{}", o.id)) } else { o.name.clone() };
            orgs.push(json!({"value": value, "label": format!("{} {}", o.name, o.kind)}));
        }
    }
    Ok(json!({"cadres": cadres, "orgs": orgs}))
}

/// 作废: the record leaves lists, indicators, checks and reports, kept with who, when and why.
pub async fn void(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&me, &defs, &key)?;
    records::get(&mut tx, def, &me.scope, id).await?;
    let reason = forms::text(&form, "reason");
    match records::void(&mut tx, def, &me.user.actor(), &me.scope, id, version_of(&form), &reason).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/ledgers/{key}/{id}?saved=void")).into_response())
        }
        Err(e) => {
            drop(tx);
            let p = Problem::from(e);
            let attempt = Attempt::new("void", &form, &p, &["reason"]);
            let mut tx = state.db.read().await?;
            let rec = records::get(&mut tx, def, &me.scope, id).await?;
            let status = p.status;
            let mut r = page(&mut tx, &state, &me, def, &defs, Some(&rec), &Vec::new(), None, "", &attempt).await?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

/// 恢复 (administrators): a voided record counts again, unless another record now holds its key.
pub async fn restore(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&me, &defs, &key)?;
    records::get(&mut tx, def, &me.scope, id).await?;
    match records::restore(&mut tx, def, &me.user.actor(), &me.scope, id, version_of(&form)).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/ledgers/{key}/{id}?saved=restore")).into_response())
        }
        Err(e) => {
            drop(tx);
            let p = Problem::from(e);
            let attempt = Attempt::new("restore", &form, &p, &[]);
            let mut tx = state.db.read().await?;
            let rec = records::get(&mut tx, def, &me.scope, id).await?;
            let status = p.status;
            let mut r = page(&mut tx, &state, &me, def, &defs, Some(&rec), &Vec::new(), None, "", &attempt).await?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

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

use crate::auth::Me;
use crate::error::AppResult;
use crate::forms::{self, Attempt, FormField, Problem};
use crate::{show, views, AppState};

type Pairs = Vec<(String, String)>;

fn version_of(form: &Pairs) -> i64 {
    forms::get(form, "_version").and_then(|v| v.parse().ok()).unwrap_or(-1)
}

async fn history(tx: &mut Tx, me: &Me, def: &LedgerDef, record: &Record) -> AppResult<Vec<serde_json::Value>> {
    let q = AuditQuery { entity: Some(def.table_name()), entity_id: Some(record.id), limit: 50, ..Default::default() };
    let entries = audit::list(tx, &me.scope, &q).await?;
    // An import's entry covers a run of records and holds no values: what it created is what
    // the next change found (its `before`), or the record as it is if nothing changed since.
    let mut next_before = Some(serde_json::to_value(&record.values).unwrap_or_default());
    let mut created = Vec::with_capacity(entries.len());
    for e in &entries {
        created.push(if e.after.is_none() && e.action == "create" { next_before.clone() } else { None });
        if e.action != "read" {
            next_before = e.before.as_ref().and_then(|b| b.get("values")).cloned();
        }
    }
    Ok(entries
        .into_iter()
        .zip(created)
        .map(|(e, created)| {
            let before = e.before.as_ref().and_then(|b| b.get("values")).cloned().unwrap_or_default();
            let after = created.or_else(|| e.after.as_ref().and_then(|b| b.get("values")).cloned()).unwrap_or_default();
            let changed: Vec<String> = def
                .fields
                .iter()
                .filter(|f| before.get(&f.key) != after.get(&f.key))
                .map(|f| f.label.clone())
                .collect();
            let action = match e.action.as_str() {
                "create" => "新增",
                "update" => "修改",
                "transition" => "办理",
                "read" => "查看",
                "delete" => "删除",
                "void" => "作废",
                "restore" => "恢复",
                "status" => "状态变更",
                other => other,
            };
            let step = def.workflow.as_ref().and_then(|w| w.transitions.iter().find(|t| t.key == e.note)).map_or(e.note.as_str(), |t| t.label.as_str());
            let changes = match e.action.as_str() {
                "read" => e.note.clone(),
                "void" => format!("作废原因：{}", e.note),
                "restore" => "恢复为有效记录".to_string(),
                "transition" => format!("{step}：{}", changed.join("、")),
                // A run of imported records, or one imported in a state (导入（状态：…）).
                _ if e.last_entity_id.is_some() || !e.note.is_empty() => format!("{}（{}）", changed.join("、"), e.note),
                _ => changed.join("、"),
            };
            json!({"at": e.at.get(..19).unwrap_or(&e.at).replace('T', " "), "actor": e.actor, "action": action, "changes": me.policy().text(&changes)})
        })
        .collect())
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
    // What the user typed stays in the form, unless someone else saved first: then the form
    // shows what is stored now.
    let keep_typed = !problem.is_some_and(|p| p.stale);
    let policy = me.policy();
    ctx.insert("fields".into(), json!(with_suggestions(forms::fields(&policy, def, if keep_typed { typed } else { &[] }, &stored, &errors), def)));
    ctx.insert("subject_label".into(), json!(if def.subject == SubjectKind::None { "" } else { def.subject.label() }));
    // A refused workflow step says so beside its own button, the form left open.
    let step = forms::get(typed, "_transition").filter(|_| problem.is_some()).unwrap_or("");
    ctx.insert("open_transition".into(), json!(step));
    // Beside the step: its message, naming any field the step's form does not show (a field
    // the step may not change, refused by name).
    let shown_by_step: Vec<String> = def.workflow.as_ref().and_then(|w| w.transition(step)).map(|t| t.requires.clone()).unwrap_or_default();
    let step_message = problem.map(|p| {
        let unshown: Vec<String> = p.fields.iter().filter(|f| !shown_by_step.contains(&f.key)).map(|f| format!("「{}」{}", f.label, f.reason)).collect();
        if unshown.is_empty() { p.message.clone() } else { unshown.join("；") }
    });
    ctx.insert("transition_error".into(), json!(if step.is_empty() { String::new() } else { step_message.unwrap_or_default() }));
    ctx.insert("form_error".into(), json!(if step.is_empty() { problem.map(|p| p.message.clone()).unwrap_or_default() } else { String::new() }));
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
                "updated_at": r.updated_at.get(..19).unwrap_or(&r.updated_at).replace('T', " "),
                "state_label": def.workflow.as_ref().zip(r.state.as_deref()).map(|(w, s)| w.state_label(s).to_string()),
                "tone": show::tone(def, r.state.as_deref()),
                "subject": super::ledger::subject_text(tx, me, def, r.subject_id).await,
                "place": super::place_name(tx, r.place_id).await,
                "shown": shown,
                "voided": r.voided.as_ref().map(|v| json!({"at": v.at.get(..19).unwrap_or(&v.at).replace('T', " "), "by": v.by, "reason": v.reason})),
            }),
        );
        let mut transitions = Vec::new();
        if let (Some(wf), Some(state_key)) = (&def.workflow, r.state.as_deref()) {
            if me.can_transition(&def.key) && !voided {
                for t in wf.transitions.iter().filter(|t| t.from.iter().any(|f| f == state_key) && t.roles.contains(&me.user.role)) {
                    let tf: Vec<FormField> = t.requires.iter().filter_map(|k| def.field(k)).map(|f| forms::field(&policy, f, &[], &stored, &errors)).collect();
                    transitions.push(json!({"key": t.key, "label": t.label, "fields": tf}));
                }
            }
        }
        ctx.insert("transitions".into(), json!(transitions));
        ctx.insert("history".into(), json!(history(tx, me, def, r).await?));
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

/// One record in the user's scope. Showing it (the page, `show::record_json`) notes the read,
/// which the guard writes to the audit trail with the answer (`crate::reads`).
pub async fn open_record(state: &AppState, me: &Me, def: &LedgerDef, id: i64) -> AppResult<Record> {
    let mut tx = state.db.read().await?;
    let rec = records::get(&mut tx, def, &me.scope, id).await?;
    Ok(rec)
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
    records::get(&mut tx, def, &me.scope, id).await?;
    let result = async {
        let on = match forms::get(&form, "_on") {
            Some(d) => parse_date_lenient(d).map_err(|e| DomainError::field("_on", "办理日期", e.to_string()))?,
            None => state.today(),
        };
        let t = forms::get(&form, "_transition").unwrap_or("").to_string();
        let values = refs::parse_values(&mut tx, &me.scope, def, &forms::field_pairs(def, &form), state.today()).await?;
        let all = settings::all(&mut tx).await?;
        records::transition(&mut tx, def, &me.user.actor(), &me.scope, id, version_of(&form), &t, values, on, &all).await
    }
    .await
    .map_err(Problem::from);
    after_write(&state, &me, &key, id, &defs, def, &form, result, tx).await
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

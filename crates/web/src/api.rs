//! The JSON API under `/api/v1`: the same operations as the pages, the same sign-in (session
//! cookie, CSRF header for writes) and the same confinement. Errors are JSON in Chinese.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Datelike;
use serde::Deserialize;
use serde_json::{json, Value as J};
use taizhang_domain::ledger::RefTarget;
use taizhang_domain::period::parse_date_lenient;
use taizhang_domain::value::RecordInput;
use taizhang_reports::eval;
use taizhang_storage::audit::{self, AuditQuery};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{households, ledgers, persons, places, refs, settings};

use crate::auth::Me;
use crate::error::{AppError, AppResult};
use crate::forms::Problem;
use crate::query::{self, people::person_json};
use crate::{show, AppState};

type ApiResult<T> = Result<T, AppError>;

fn api<T>(r: AppResult<T>) -> ApiResult<T> {
    r.map_err(AppError::api)
}

pub async fn openapi() -> Json<J> {
    Json(crate::openapi::document())
}

pub async fn me(me: Me) -> Json<J> {
    Json(json!({
        "id": me.user.id, "username": me.user.username, "name": me.user.display_name,
        "role": me.user.role.key(), "role_label": me.user.role.label(),
        "place_id": me.user.place_id, "place": me.place_name, "ledgers": me.user.ledgers,
        "must_change_password": me.user.must_change_password, "csrf_token": me.csrf,
    }))
}

#[derive(Deserialize, Default)]
pub struct PersonsQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<i64>,
}

pub async fn persons(State(state): State<AppState>, me: Me, Query(q): Query<PersonsQuery>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        let limit = q.limit.unwrap_or(50).clamp(1, 500);
        let found = if q.q.trim().is_empty() {
            let select = format!("SELECT p.id FROM persons p WHERE {}", me.scope.condition("p.place_id", 1));
            let sql = if taizhang_storage::places::gather_first(&mut tx, &me.scope).await? {
                format!("{} LIMIT $2", taizhang_storage::places::scope_first(&select, "id"))
            } else {
                format!("{select} ORDER BY p.id LIMIT $2")
            };
            let ids: Vec<i64> = tx.fetch(&sql, &[me.scope.arg(), limit.into()]).await?.iter().map(|r| r.int(0)).collect();
            let mut v = Vec::new();
            for id in ids {
                v.push(persons::get(&mut tx, &me.scope, id).await?);
            }
            v
        } else {
            query::people::find(&mut tx, &me, &q.q, limit).await?
        };
        let mut out = Vec::new();
        for p in &found {
            out.push(person_json(&mut tx, &me, p).await);
        }
        Ok(Json(json!({ "persons": out })))
    }
    .await)
}

pub async fn person(State(state): State<AppState>, me: Me, Path(id): Path<i64>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        let p = persons::get(&mut tx, &me.scope, id).await?;
        Ok(Json(person_json(&mut tx, &me, &p).await))
    }
    .await)
}

pub async fn create_person(State(state): State<AppState>, me: Me, Json(f): Json<query::people::PersonForm>) -> ApiResult<Response> {
    api(async {
        let p = query::people::register(&state, &me, &f).await?;
        let mut tx = state.db.read().await?;
        Ok((StatusCode::CREATED, Json(person_json(&mut tx, &me, &p).await)).into_response())
    }
    .await)
}

pub async fn household(State(state): State<AppState>, me: Me, Path(id): Path<i64>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        Ok(Json(query::people::household_json(&mut tx, &me, id).await?))
    }
    .await)
}

pub async fn ledgers(State(state): State<AppState>, _me: Me) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        Ok(Json(json!({ "ledgers": ledgers::all(&mut tx).await? })))
    }
    .await)
}

#[derive(Deserialize, Default)]
pub struct RecordsQuery {
    #[serde(default)]
    place: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    state: String,
    /// 作废记录: empty (不含, the default), `include` or `only`.
    #[serde(default)]
    voids: String,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

pub async fn records(State(state): State<AppState>, me: Me, Path(key): Path<String>, Query(q): Query<RecordsQuery>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        let def = query::readable_def(&mut tx, &me, &key).await?;
        let scope = query::narrowed(&mut tx, &me, Some(&q.place)).await?;
        let period = if q.period.trim().is_empty() { None } else { Some(query::period_of(Some(&q.period), 0)?) };
        let as_of = if q.as_of.trim().is_empty() { None } else { Some(parse_date_lenient(&q.as_of).map_err(|e| AppError::bad_request(format!("「时点」{e}")))?) };
        let mut rq = RecordQuery { period, as_of, state: Some(q.state.clone()).filter(|s| !s.is_empty()), voids: query::records::voids_of(&q.voids), ..Default::default() };
        let total = records::count(&mut tx, &def, &scope, &rq).await?;
        rq.limit = Some(q.limit.unwrap_or(100).clamp(1, 1000));
        rq.offset = Some(q.offset.unwrap_or(0).max(0));
        let list = records::list(&mut tx, &def, &scope, &rq).await?;
        let rows: Vec<J> = list.iter().map(|r| show::record_json(&me, &def, r)).collect();
        Ok(Json(json!({ "total": total, "records": rows })))
    }
    .await)
}

pub async fn record(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        let def = query::readable_def(&mut tx, &me, &key).await?;
        drop(tx);
        let rec = query::records::open_record(&state, &me, &def, id).await?;
        Ok(Json(show::record_json(&me, &def, &rec)))
    }
    .await)
}

/// A record to write: field values as text (the same text a form or the CLI accepts).
#[derive(Deserialize, Default)]
pub struct RecordBody {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    place: Option<String>,
    #[serde(default)]
    concerns_year: Option<i32>,
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    on: Option<String>,
    #[serde(default)]
    values: std::collections::BTreeMap<String, J>,
}

fn pairs(values: &std::collections::BTreeMap<String, J>) -> Vec<(String, String)> {
    values
        .iter()
        .map(|(k, v)| {
            let text = match v {
                J::String(s) => s.clone(),
                J::Array(a) => a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), String::from)).collect::<Vec<_>>().join("、"),
                J::Bool(b) => if *b { "是" } else { "否" }.to_string(),
                J::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

pub async fn create_record(State(state): State<AppState>, me: Me, Path(key): Path<String>, Json(b): Json<RecordBody>) -> ApiResult<Response> {
    api(async {
        let mut tx = state.db.begin().await?;
        let def = query::readable_def(&mut tx, &me, &key).await?;
        let subject_id = match (RefTarget::of_subject(def.subject), &b.subject) {
            (Some(t), Some(s)) => Some(refs::resolve(&mut tx, &me.scope, &t, s).await?),
            _ => None,
        };
        let place_id = match &b.place {
            Some(p) if !p.trim().is_empty() => Some(places::resolve(&mut tx, &me.scope, p).await?.id),
            _ => None,
        };
        let values = refs::parse_values(&mut tx, &me.scope, &def, &pairs(&b.values), state.today()).await?;
        let rec = records::create(&mut tx, &def, &me.user.actor(), &me.scope, RecordInput { place_id, subject_id, concerns_year: b.concerns_year, values }, state.today()).await?;
        tx.commit().await?;
        Ok((StatusCode::CREATED, Json(show::record_json(&me, &def, &rec))).into_response())
    }
    .await)
}

pub async fn update_record(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, Json(b): Json<RecordBody>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.begin().await?;
        let def = query::readable_def(&mut tx, &me, &key).await?;
        records::get(&mut tx, &def, &me.scope, id).await?;
        let version = b.version.ok_or_else(|| AppError::bad_request("「version」必须填写（记录的当前版本）"))?;
        // A masked value sent back as it was shown means "unchanged", as in the form.
        let before = records::get(&mut tx, &def, &me.scope, id).await?;
        let policy = me.policy();
        let kept = |k: &str, text: &str| def.field(k).is_some_and(|f| show::kept_masked(&policy, f, before.values.get(k), text));
        let typed: Vec<(String, String)> = pairs(&b.values).into_iter().filter(|(k, t)| !kept(k, t)).collect();
        let mut changes = refs::parse_values(&mut tx, &me.scope, &def, &typed, state.today()).await?;
        for (k, v) in &b.values {
            if v.is_null() || v.as_str() == Some("") {
                changes.insert(k.clone(), taizhang_domain::value::Value::Null);
            }
        }
        let rec = records::update(&mut tx, &def, &me.user.actor(), &me.scope, id, version, changes, state.today()).await?;
        tx.commit().await?;
        Ok(Json(show::record_json(&me, &def, &rec)))
    }
    .await)
}

pub async fn transition_record(State(state): State<AppState>, me: Me, Path((key, id, t)): Path<(String, i64, String)>, Json(b): Json<RecordBody>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.begin().await?;
        let def = query::readable_def(&mut tx, &me, &key).await?;
        records::get(&mut tx, &def, &me.scope, id).await?;
        let version = b.version.ok_or_else(|| AppError::bad_request("「version」必须填写（记录的当前版本）"))?;
        let on = match &b.on {
            Some(d) => parse_date_lenient(d).map_err(|e| AppError::bad_request(format!("「办理日期」{e}")))?,
            None => state.today(),
        };
        let values = refs::parse_values(&mut tx, &me.scope, &def, &pairs(&b.values), state.today()).await?;
        let all = settings::all(&mut tx).await?;
        let rec = records::transition(&mut tx, &def, &me.user.actor(), &me.scope, id, version, &t, values, on, &all).await?;
        tx.commit().await?;
        Ok(Json(show::record_json(&me, &def, &rec)))
    }
    .await)
}

pub async fn indicators(State(state): State<AppState>, me: Me, Query(q): Query<query::reports::ReportQuery>) -> ApiResult<Json<J>> {
    api(async {
        let rc = query::reports::context(&state, &me, &q).await?;
        let mut tx = state.db.read().await?;
        let defs = ledgers::all(&mut tx).await?;
        let figures = eval::evaluate_all(&mut tx, query::reports::indicators()?, &defs, &rc).await?;
        Ok(Json(json!({ "period": rc.period, "as_of": rc.as_of, "year": rc.period.end.year(), "figures": figures })))
    }
    .await)
}

pub async fn checks(State(state): State<AppState>, me: Me, Query(q): Query<query::reports::ReportQuery>) -> ApiResult<Json<J>> {
    api(async {
        let rc = query::reports::context(&state, &me, &q).await?;
        let mut tx = state.db.read().await?;
        let defs = ledgers::all(&mut tx).await?;
        let findings = query::reports::findings_shared(&state, &mut tx, &me, &defs, &rc).await?;
        Ok(Json(json!({ "period": rc.period, "findings": findings })))
    }
    .await)
}

#[derive(Deserialize, Default)]
pub struct AuditParams {
    #[serde(default)]
    entity: Option<String>,
    #[serde(default)]
    entity_id: Option<i64>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

pub async fn audit(State(state): State<AppState>, me: Me, Query(p): Query<AuditParams>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        let q = AuditQuery { entity: p.entity, entity_id: p.entity_id, actor: p.actor, limit: p.limit.unwrap_or(100).clamp(1, 1000) };
        let mut entries = audit::list(&mut tx, &me.scope, &q).await?;
        let defs = ledgers::all(&mut tx).await?;
        show::audit_entries(&me, &defs, &mut entries);
        Ok(Json(json!({ "entries": entries })))
    }
    .await)
}

/// Who read whose data (PIPL): the read entries the filters select (`query::reads::ReadsParams`),
/// for the audit administrator.
pub async fn reads(State(state): State<AppState>, me: Me, Query(p): Query<query::reads::ReadsParams>) -> ApiResult<Json<J>> {
    api(async {
        if !me.may_read_audit() {
            return Err(AppError::new(StatusCode::FORBIDDEN, "只有审计管理员可以查看个人信息查看记录"));
        }
        let mut tx = state.db.read().await?;
        Ok(Json(json!({ "reads": query::reads::read_report(&mut tx, &me, &p).await? })))
    }
    .await)
}

/// A person's correction: the attributes to change (by key or label: 姓名, 公民身份号码, 民族,
/// 联系电话), the reason (required for a name or ID number) and the version seen.
#[derive(Deserialize, Default)]
pub struct CorrectionBody {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    fields: std::collections::BTreeMap<String, String>,
}

fn version_required(v: Option<i64>, what: &str) -> Result<i64, AppError> {
    v.ok_or_else(|| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("「version」必须填写（{what}的当前版本）")).api())
}

pub async fn correct_person(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Json(b): Json<CorrectionBody>) -> ApiResult<Json<J>> {
    let mut tx = state.db.begin().await.map_err(|e| AppError::from(e).api())?;
    let p = persons::get(&mut tx, &me.scope, id).await.map_err(|e| AppError::from(e).api())?;
    let version = version_required(b.version, "人员信息")?;
    let changes: Vec<(String, String)> = b.fields.into_iter().collect();
    let after = persons::correct(&mut tx, &me.user.actor(), &me.scope, p.id, version, &changes, &b.reason, state.today())
        .await
        .map_err(|e| Problem::from(e).into_api())?;
    tx.commit().await.map_err(|e| AppError::from(e).api())?;
    let mut tx = state.db.read().await.map_err(|e| AppError::from(e).api())?;
    Ok(Json(person_json(&mut tx, &me, &after).await))
}

/// A status change: 死亡, 迁出 (place: where to), 迁入 (place: where from), 失联 or 正常.
#[derive(Deserialize, Default)]
pub struct StatusBody {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    place: String,
}

pub async fn person_status(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Json(b): Json<StatusBody>) -> ApiResult<Json<J>> {
    let mut tx = state.db.begin().await.map_err(|e| AppError::from(e).api())?;
    let p = persons::get(&mut tx, &me.scope, id).await.map_err(|e| AppError::from(e).api())?;
    let version = version_required(b.version, "人员信息")?;
    let date = match b.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => parse_date_lenient(d).map(Some).map_err(|e| e.to_string()),
        None => Ok(None),
    };
    let input = query::people::status_input(&b.status, date, &b.reason, &b.place).map_err(Problem::into_api)?;
    let after = persons::set_status(&mut tx, &me.user.actor(), &me.scope, p.id, version, &input, state.today())
        .await
        .map_err(|e| Problem::from(e).into_api())?;
    tx.commit().await.map_err(|e| AppError::from(e).api())?;
    let mut tx = state.db.read().await.map_err(|e| AppError::from(e).api())?;
    Ok(Json(person_json(&mut tx, &me, &after).await))
}

/// Runs one household change in one transaction and answers with the household as it is now
/// (for 分户: the new household).
async fn household_change<F>(state: &AppState, me: &Me, id: i64, change: F) -> ApiResult<Json<J>>
where
    F: for<'a> FnOnce(&'a mut taizhang_storage::Tx, &'a Me, &'a taizhang_domain::registry::Household) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<i64, Problem>> + Send + 'a>>,
{
    let mut tx = state.db.begin().await.map_err(|e| AppError::from(e).api())?;
    let h = households::get(&mut tx, &me.scope, id).await.map_err(|e| AppError::from(e).api())?;
    let shown = change(&mut tx, me, &h).await.map_err(Problem::into_api)?;
    tx.commit().await.map_err(|e| AppError::from(e).api())?;
    let mut tx = state.db.read().await.map_err(|e| AppError::from(e).api())?;
    Ok(Json(query::people::household_json(&mut tx, me, shown).await.map_err(AppError::api)?))
}

pub async fn household_join(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Json(b): Json<query::households::JoinInput>) -> ApiResult<Json<J>> {
    let today = state.today();
    household_change(&state, &me, id, |tx, me, h| Box::pin(async move { query::households::join(tx, me, h, &b, today).await.map(|_| h.id) })).await
}

pub async fn household_leave(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Json(b): Json<query::households::LeaveInput>) -> ApiResult<Json<J>> {
    let today = state.today();
    household_change(&state, &me, id, |tx, me, h| Box::pin(async move { query::households::leave(tx, me, h, &b, today).await.map(|_| h.id) })).await
}

pub async fn household_head(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Json(b): Json<query::households::HeadInput>) -> ApiResult<Json<J>> {
    let today = state.today();
    household_change(&state, &me, id, |tx, me, h| Box::pin(async move { query::households::change_head(tx, me, h, &b, today).await.map(|_| h.id) })).await
}

pub async fn household_split(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Json(b): Json<query::households::SplitInput>) -> ApiResult<Json<J>> {
    let today = state.today();
    household_change(&state, &me, id, |tx, me, h| Box::pin(async move { query::households::split(tx, me, h, &b, today).await.map(|n| n.id) })).await
}

pub async fn household_move(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Json(b): Json<query::households::MoveInput>) -> ApiResult<Json<J>> {
    let today = state.today();
    household_change(&state, &me, id, |tx, me, h| Box::pin(async move { query::households::move_to(tx, me, h, &b, today).await.map(|_| h.id) })).await
}

/// 作废 (with a reason) and 恢复: the version seen, and for a void why.
#[derive(Deserialize, Default)]
pub struct VoidBody {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    reason: String,
}

pub async fn void_record(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, Json(b): Json<VoidBody>) -> ApiResult<Json<J>> {
    let mut tx = state.db.begin().await.map_err(|e| AppError::from(e).api())?;
    let def = query::readable_def(&mut tx, &me, &key).await.map_err(AppError::api)?;
    records::get(&mut tx, &def, &me.scope, id).await.map_err(|e| AppError::from(e).api())?;
    let version = version_required(b.version, "记录")?;
    let rec = records::void(&mut tx, &def, &me.user.actor(), &me.scope, id, version, &b.reason).await.map_err(|e| Problem::from(e).into_api())?;
    tx.commit().await.map_err(|e| AppError::from(e).api())?;
    Ok(Json(show::record_json(&me, &def, &rec)))
}

pub async fn restore_record(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, Json(b): Json<VoidBody>) -> ApiResult<Json<J>> {
    let mut tx = state.db.begin().await.map_err(|e| AppError::from(e).api())?;
    let def = query::readable_def(&mut tx, &me, &key).await.map_err(AppError::api)?;
    records::get(&mut tx, &def, &me.scope, id).await.map_err(|e| AppError::from(e).api())?;
    let version = version_required(b.version, "记录")?;
    let rec = records::restore(&mut tx, &def, &me.user.actor(), &me.scope, id, version).await.map_err(|e| Problem::from(e).into_api())?;
    tx.commit().await.map_err(|e| AppError::from(e).api())?;
    Ok(Json(show::record_json(&me, &def, &rec)))
}

#[derive(Deserialize, Default)]
pub struct SettingsParams {
    #[serde(default)]
    year: Option<i32>,
}

/// Every setting with its label, group, unit, help and the value in force for the year (this
/// year when none is asked for).
pub async fn settings_list(State(state): State<AppState>, _me: Me, Query(q): Query<SettingsParams>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        let year = q.year.unwrap_or_else(|| state.today().year());
        let all = query::settings::catalogue(&mut tx).await?;
        let mut out = Vec::new();
        for d in &all {
            let v = taizhang_storage::settings::effective(&mut tx, d, year).await?;
            out.push(json!({
                "key": d.key, "label": d.label, "group": d.group, "unit": d.unit, "help": d.help, "kind": d.kind.label(),
                "per_year": d.per_year, "year": if d.per_year { Some(year) } else { None },
                "value": v.as_ref().map(|v| query::settings::edit_text(d, v)), "shown": v.as_ref().map(|v| d.show(v)),
            }));
        }
        Ok(Json(json!({ "year": year, "settings": out })))
    }
    .await)
}

/// One setting to save: named by its label (or key), the year for per-year settings, and the
/// value as a person types it (7200, 是, 90 …).
#[derive(Deserialize, Default)]
pub struct SettingBody {
    #[serde(default)]
    setting: String,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    value: J,
}

pub async fn settings_update(State(state): State<AppState>, me: Me, Json(b): Json<SettingBody>) -> ApiResult<Json<J>> {
    let mut tx = state.db.begin().await.map_err(|e| AppError::from(e).api())?;
    let all = query::settings::catalogue(&mut tx).await.map_err(AppError::api)?;
    let text = match &b.value {
        J::String(s) => s.clone(),
        J::Bool(x) => if *x { "是" } else { "否" }.to_string(),
        J::Null => String::new(),
        other => other.to_string(),
    };
    let (def, value) = query::settings::save(&mut tx, &me, &all, &b.setting, b.year, &text).await.map_err(Problem::into_api)?;
    tx.commit().await.map_err(|e| AppError::from(e).api())?;
    Ok(Json(json!({
        "key": def.key, "label": def.label, "year": if def.per_year { b.year } else { None },
        "value": query::settings::edit_text(&def, &value), "shown": def.show(&value),
    })))
}

#[derive(Deserialize, Default)]
pub struct PickQuery {
    #[serde(default)]
    pub q: String,
    /// `person`, `household`, `cadre`, `ledger:<key>`, or empty for persons, households and
    /// cadres together.
    #[serde(default)]
    pub kind: String,
    /// One item by its id (what a form's `#14` stands for), instead of a search.
    #[serde(default)]
    pub id: Option<i64>,
    /// A ledger's key: answers which of its form's inputs take which kind (its reference
    /// fields and its subject), for the script that attaches the pickers.
    #[serde(default)]
    pub fields: String,
}

/// `GET /api/v1/search`: the one search (names, ID numbers by the exact rule, 户编号, cadres'
/// names, a ledger's cases by their subject) answering the type-ahead pickers of reference
/// fields: each item with the text a form takes (`value`), its name, village and masked number.
pub async fn pick(State(state): State<AppState>, me: Me, Query(q): Query<PickQuery>) -> Result<axum::Json<serde_json::Value>, crate::error::AppError> {
    let mut tx = state.db.read().await?;
    if !q.fields.is_empty() {
        use taizhang_domain::ledger::{FieldKind, RefTarget, SubjectKind};
        let defs = state.cache.defs(&mut tx, me.data_version).await?;
        let def = query::find_def(&me, &defs, &q.fields)?;
        let mut fields = Vec::new();
        match def.subject {
            SubjectKind::Person => fields.push(json!({"key": "_subject", "kind": "person"})),
            SubjectKind::Household => fields.push(json!({"key": "_subject", "kind": "household"})),
            _ => {}
        }
        for f in def.active_fields().filter(|f| f.kind == FieldKind::Reference) {
            let kind = match &f.target {
                Some(RefTarget::Person) => "person".to_string(),
                Some(RefTarget::Household) => "household".to_string(),
                Some(RefTarget::Cadre) => "cadre".to_string(),
                Some(RefTarget::Ledger(k)) if query::find_def(&me, &defs, k).is_ok() => format!("ledger:{k}"),
                _ => continue,
            };
            fields.push(json!({"key": f.key, "kind": kind}));
        }
        return Ok(axum::Json(json!({ "fields": fields })));
    }
    let text = q.q.trim();
    let kind = q.kind.trim();
    let mut items = Vec::new();
    let wants = |k: &str| kind.is_empty() || kind == k;
    let places = state.cache.places(&mut tx, me.data_version).await?;
    let village = |id: i64| {
        let (v, g) = places.village_and_group(id);
        if g.is_empty() { v } else { format!("{v} {g}") }
    };
    if wants("person") && (q.id.is_some() || !text.is_empty()) {
        let found = match q.id {
            Some(id) => persons::get(&mut tx, &me.scope, id).await.ok().into_iter().collect(),
            None => match query::people::find(&mut tx, &me, text, 20).await {
                Ok(found) => found,
                Err(e) if e.status == axum::http::StatusCode::BAD_REQUEST && !kind.is_empty() => return Err(e),
                Err(_) => Vec::new(),
            },
        };
        if q.id.is_some() {
            crate::reads::filter("persons", &format!("#{}", q.id.unwrap_or_default()));
        }
        for p in found {
            let view = show::person(&me, &p);
            items.push(json!({"kind": "person", "id": p.id, "value": format!("#{}", p.id), "name": p.name, "village": village(p.place_id), "number": view.id_number, "link": format!("/persons/{}", p.id)}));
        }
    }
    if wants("household") && (q.id.is_some() || !text.is_empty()) {
        let found = match q.id {
            Some(id) => match taizhang_storage::households::get(&mut tx, &me.scope, id).await {
                Ok(h) => query::people::find_households(&mut tx, &me, &h.number, 1).await?,
                Err(_) => Vec::new(),
            },
            None => query::people::find_households(&mut tx, &me, text, 20).await?,
        };
        for h in found {
            let number = h["number"].as_str().unwrap_or("").to_string();
            let head = h["head"].as_str().unwrap_or("").to_string();
            items.push(json!({"kind": "household", "id": h["id"], "value": number, "name": if head.is_empty() { number.clone() } else { format!("{head}（户主）") }, "village": h["place"], "number": number, "link": format!("/households/{}", h["id"])}));
        }
    }
    if wants("cadre") && (q.id.is_some() || !text.is_empty()) {
        let (cond, arg) = match q.id {
            Some(id) => ("id = $2".to_string(), taizhang_storage::Arg::Int(id)),
            None => ("name LIKE $2 ESCAPE '\\'".to_string(), format!("%{}%", persons::escape_like(text)).into()),
        };
        let select = format!("SELECT id, name, post, place_id FROM cadres WHERE {} AND {cond}", me.scope.condition("place_id", 1));
        let sql = if taizhang_storage::places::gather_first(&mut tx, &me.scope).await? {
            format!("{} LIMIT 20", taizhang_storage::places::scope_first(&select, "name, id"))
        } else {
            format!("{select} ORDER BY name, id LIMIT 20")
        };
        let rows = tx.fetch(&sql, &[me.scope.arg(), arg]).await?;
        for r in &rows {
            let name = r.text(1);
            let unique = rows.iter().filter(|o| o.text(1) == name).count() == 1 && q.id.is_none();
            items.push(json!({"kind": "cadre", "id": r.int(0), "value": if unique { name.clone() } else { format!("#{}", r.int(0)) }, "name": name, "village": village(r.int(3)), "number": r.text(2)}));
        }
    }
    if let Some(key) = kind.strip_prefix("ledger:") {
        let defs = state.cache.defs(&mut tx, me.data_version).await?;
        let def = query::find_def(&me, &defs, key)?;
        let rq = taizhang_storage::records::RecordQuery::default();
        let all = taizhang_storage::records::list(&mut tx, def, &me.scope, &rq).await?;
        let mut ids: Vec<i64> = all.iter().filter_map(|r| r.subject_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let subjects = query::subjects::subjects_of(&mut tx, &me, def, &ids).await;
        for r in all.iter().rev() {
            let subject = r.subject_id.and_then(|id| subjects.get(&id));
            let hit = match q.id {
                Some(id) => r.id == id,
                None => text.is_empty() || subject.is_some_and(|s| s.names.contains(text)) || text.trim_start_matches('#') == r.id.to_string(),
            };
            if !hit {
                continue;
            }
            show::shown(def, r);
            let state_label = def.workflow.as_ref().zip(r.state.as_deref()).map(|(w, s)| w.state_label(s).to_string()).unwrap_or_default();
            items.push(json!({"kind": "record", "id": r.id, "value": format!("#{}", r.id), "name": format!("{} #{}", subject.map(|s| s.text.clone()).unwrap_or_else(|| def.name.clone()), r.id), "village": village(r.place_id), "number": state_label, "link": format!("/ledgers/{}/{}", def.key, r.id)}));
            if items.len() >= 20 {
                break;
            }
        }
    }
    Ok(axum::Json(json!({ "items": items })))
}

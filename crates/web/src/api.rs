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
use taizhang_reports::{checks, eval};
use taizhang_storage::audit::{self, AuditQuery};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{ledgers, persons, places, refs, settings};

use crate::auth::Me;
use crate::error::{AppError, AppResult};
use crate::pages::{self, registry::person_json};
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
            let sql = format!("SELECT p.id FROM persons p WHERE {} ORDER BY p.id LIMIT $2", me.scope.condition("p.place_id", 1));
            let ids: Vec<i64> = tx.fetch(&sql, &[me.scope.arg(), limit.into()]).await?.iter().map(|r| r.int(0)).collect();
            let mut v = Vec::new();
            for id in ids {
                v.push(persons::get(&mut tx, &me.scope, id).await?);
            }
            v
        } else {
            persons::search(&mut tx, &me.scope, &q.q, limit).await?
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

pub async fn create_person(State(state): State<AppState>, me: Me, Json(f): Json<pages::registry::PersonForm>) -> ApiResult<Response> {
    api(async {
        let p = pages::registry::register(&state, &me, &f).await?;
        let mut tx = state.db.read().await?;
        Ok((StatusCode::CREATED, Json(person_json(&mut tx, &me, &p).await)).into_response())
    }
    .await)
}

pub async fn household(State(state): State<AppState>, me: Me, Path(id): Path<i64>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        Ok(Json(pages::registry::household_json(&mut tx, &me, id).await?))
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
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

pub async fn records(State(state): State<AppState>, me: Me, Path(key): Path<String>, Query(q): Query<RecordsQuery>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        let def = ledgers::get(&mut tx, &key).await?;
        let scope = pages::narrowed(&mut tx, &me, Some(&q.place)).await?;
        let period = if q.period.trim().is_empty() { None } else { Some(pages::period_of(Some(&q.period), 0)?) };
        let as_of = if q.as_of.trim().is_empty() { None } else { Some(parse_date_lenient(&q.as_of).map_err(|e| AppError::bad_request(format!("「时点」{e}")))?) };
        let mut rq = RecordQuery { period, as_of, state: Some(q.state.clone()).filter(|s| !s.is_empty()), ..Default::default() };
        let total = records::count(&mut tx, &def, &scope, &rq).await?;
        rq.limit = Some(q.limit.unwrap_or(100).clamp(1, 1000));
        rq.offset = Some(q.offset.unwrap_or(0).max(0));
        let list = records::list(&mut tx, &def, &scope, &rq).await?;
        let rows: Vec<J> = list.iter().map(|r| show::record_json(&def, r, me.sees_id_numbers())).collect();
        Ok(Json(json!({ "total": total, "records": rows })))
    }
    .await)
}

pub async fn record(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.read().await?;
        let def = ledgers::get(&mut tx, &key).await?;
        drop(tx);
        let rec = pages::record::open_record(&state, &me, &def, id, "接口").await?;
        Ok(Json(show::record_json(&def, &rec, me.sees_id_numbers())))
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
        let def = ledgers::get(&mut tx, &key).await?;
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
        Ok((StatusCode::CREATED, Json(show::record_json(&def, &rec, me.sees_id_numbers()))).into_response())
    }
    .await)
}

pub async fn update_record(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, Json(b): Json<RecordBody>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.begin().await?;
        let def = ledgers::get(&mut tx, &key).await?;
        records::get(&mut tx, &def, &me.scope, id).await?;
        let version = b.version.ok_or_else(|| AppError::bad_request("「version」必须填写（记录的当前版本）"))?;
        let mut changes = refs::parse_values(&mut tx, &me.scope, &def, &pairs(&b.values), state.today()).await?;
        for (k, v) in &b.values {
            if v.is_null() || v.as_str() == Some("") {
                changes.insert(k.clone(), taizhang_domain::value::Value::Null);
            }
        }
        let rec = records::update(&mut tx, &def, &me.user.actor(), &me.scope, id, version, changes, state.today()).await?;
        tx.commit().await?;
        Ok(Json(show::record_json(&def, &rec, me.sees_id_numbers())))
    }
    .await)
}

pub async fn transition_record(State(state): State<AppState>, me: Me, Path((key, id, t)): Path<(String, i64, String)>, Json(b): Json<RecordBody>) -> ApiResult<Json<J>> {
    api(async {
        let mut tx = state.db.begin().await?;
        let def = ledgers::get(&mut tx, &key).await?;
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
        Ok(Json(show::record_json(&def, &rec, me.sees_id_numbers())))
    }
    .await)
}

pub async fn indicators(State(state): State<AppState>, me: Me, Query(q): Query<pages::reports::ReportQuery>) -> ApiResult<Json<J>> {
    api(async {
        let rc = pages::reports::context(&state, &me, &q).await?;
        let mut tx = state.db.read().await?;
        let defs = ledgers::all(&mut tx).await?;
        let figures = eval::evaluate_all(&mut tx, pages::dashboard::indicators()?, &defs, &rc).await?;
        Ok(Json(json!({ "period": rc.period, "as_of": rc.as_of, "year": rc.period.end.year(), "figures": figures })))
    }
    .await)
}

pub async fn checks(State(state): State<AppState>, me: Me, Query(q): Query<pages::reports::ReportQuery>) -> ApiResult<Json<J>> {
    api(async {
        let rc = pages::reports::context(&state, &me, &q).await?;
        let mut tx = state.db.read().await?;
        let defs = ledgers::all(&mut tx).await?;
        let findings = checks::run_all(&mut tx, &checks::builtin()?, &defs, &rc).await?;
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
        Ok(Json(json!({ "entries": audit::list(&mut tx, &me.scope, &q).await? })))
    }
    .await)
}

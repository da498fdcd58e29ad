//! Reads that matter leave a trace (查看留痕): every answer — page, list, search, export, API
//! response — that shows records of a ledger whose reads are audited
//! (`masking::reads_audited`: a field marked sensitive, or a person as subject) or shows
//! persons from the registry writes one audit entry per ledger (or `persons`) naming the user,
//! what they did, how many records and which (`storage::reads`).
//!
//! Nothing here is called by handlers to write: whatever shows a record or a person goes through
//! `show` ([`crate::show::record_json`], [`crate::show::person`], …), which notes it in the
//! request's [`ReadLog`]; the guard writes the log once the answer is made ([`flush`]) and
//! refuses to send an answer whose reads could not be written.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use taizhang_domain::ledger::{FieldKind, LedgerDef, RefTarget, SubjectKind};
use taizhang_domain::masking;
use taizhang_domain::registry::Person;
use taizhang_domain::value::{Record, Value};
use taizhang_storage::reads::{self, Read};

use crate::auth::Me;
use crate::error::AppError;
use crate::routes::RouteSpec;
use crate::AppState;

tokio::task_local! {
    /// The reads of the request being answered (set by the guard around the handler).
    pub static READS: ReadLog;
}

/// What one answer has shown, per entity (`ld_<key>` or `persons`).
#[derive(Clone, Default)]
pub struct ReadLog(Arc<Mutex<BTreeMap<String, Noted>>>);

#[derive(Default, Debug)]
struct Noted {
    ids: Vec<i64>,
    persons: Vec<i64>,
    places: Vec<i64>,
    filter: String,
    what: Option<String>,
}

fn with(f: impl FnOnce(&mut BTreeMap<String, Noted>)) {
    let _ = READS.try_with(|log| {
        let mut map = log.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut map);
    });
}

/// The persons a record is about: its subject and the persons its fields name.
fn persons_of(def: &LedgerDef, r: &Record) -> Vec<i64> {
    let mut out = Vec::new();
    if def.subject == SubjectKind::Person {
        out.extend(r.subject_id);
    }
    for f in def.fields.iter().filter(|f| f.kind == FieldKind::Reference && f.target == Some(RefTarget::Person)) {
        if let Some(Value::Int(id)) = r.values.get(&f.key) {
            out.push(*id);
        }
    }
    out
}

/// A record shown to the reader (nothing is noted for ledgers whose reads are not audited).
pub fn record(def: &LedgerDef, r: &Record) {
    if !masking::reads_audited(def) {
        return;
    }
    with(|m| {
        let n = m.entry(def.table_name()).or_default();
        n.ids.push(r.id);
        n.persons.extend(persons_of(def, r));
        n.places.push(r.place_id);
    });
}

/// Records written out by id (an export), with the persons they are about and their places.
pub fn records(def: &LedgerDef, ids: &[i64], persons: &[i64], places: &[i64]) {
    if masking::reads_audited(def) {
        self::ids(&def.table_name(), ids, persons, places);
    }
}

/// Entities shown by id (`persons`, or a ledger's table), with the persons they concern.
pub fn ids(entity: &str, ids: &[i64], persons: &[i64], places: &[i64]) {
    with(|m| {
        let n = m.entry(entity.to_string()).or_default();
        n.ids.extend_from_slice(ids);
        n.persons.extend_from_slice(persons);
        n.places.extend_from_slice(places);
    });
}

/// A person of the registry shown to the reader (with their ID number, masked or not).
pub fn person(p: &Person) {
    with(|m| {
        let n = m.entry("persons".to_string()).or_default();
        n.ids.push(p.id);
        n.persons.push(p.id);
        n.places.push(p.place_id);
    });
}

/// The filter or search that chose what an entity's entry covers (地点、期间、关键词 …).
pub fn filter(entity: &str, text: &str) {
    with(|m| m.entry(entity.to_string()).or_default().filter = text.trim().to_string());
}

/// What the reader did, when the route's own summary does not say it (导出 as 文件).
pub fn what(entity: &str, text: &str) {
    with(|m| m.entry(entity.to_string()).or_default().what = Some(text.to_string()));
}

/// Writes what the answer showed, one entry per entity, in one transaction. An answer that
/// failed on the server (5xx) showed nothing; any other did (a form shown again with its
/// message still shows the record).
pub async fn flush(state: &AppState, me: &Me, spec: &RouteSpec, log: &ReadLog, response: Response) -> Response {
    if response.status().is_server_error() {
        return response;
    }
    let noted = std::mem::take(&mut *log.0.lock().unwrap_or_else(|e| e.into_inner()));
    if noted.values().all(|n| n.ids.is_empty()) {
        return response;
    }
    let via = if spec.is_api() { "接口" } else { "网页" };
    let write = async {
        let mut tx = state.db.begin().await?;
        for (entity, n) in noted {
            let read = Read {
                entity,
                ids: n.ids,
                persons: n.persons,
                places: n.places,
                scope_place: Some(me.user.place_id),
                filter: n.filter,
                what: format!("{}（{via}）", n.what.as_deref().unwrap_or(spec.summary)),
            };
            reads::note(&mut tx, &me.user.actor(), &read).await?;
        }
        tx.commit().await?;
        Ok::<_, taizhang_storage::StoreError>(())
    };
    match write.await {
        Ok(()) => response,
        Err(e) => {
            // No answer leaves without its trace.
            let e = AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("无法记录本次查看（{e}），未显示数据，请稍后再试"));
            if spec.is_api() { e.api().into_response() } else { e.into_response() }
        }
    }
}

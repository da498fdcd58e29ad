//! Server-rendered pages. Each module serves one line of screens; all of them read through a
//! `Scope` taken from the signed-in user, never from the request.

pub mod account;
pub mod admin;
pub mod attachments;
pub mod cadres;
pub mod dashboard;
pub mod exchange;
pub mod household;
pub mod import;
pub mod ledger;
pub mod person;
pub mod record;
pub mod registry;
pub mod reports;
pub mod security;
pub mod settings;
pub mod verify;
pub mod village;

use axum::http::header;
use axum::response::IntoResponse;
use taizhang_storage::{places, Tx};

use crate::auth::Me;
use crate::error::AppResult;
// The shared queries every page module reaches for, under their old names.
pub use crate::query::{all_defs, find_def, narrowed, period_of, place_name, readable, readable_def};

pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], include_str!("../../static/app.css"))
}

/// The one script: type-ahead pickers for reference fields (static/app.js, embedded).
pub async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], include_str!("../../static/app.js"))
}

/// The service worker (static/sw.js, embedded), served from the root so that it may keep the
/// forms under `/ledgers/`; never cached, so a new program's worker replaces the old at once.
pub async fn service_worker() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], include_str!("../../static/sw.js"))
}

/// Villages (and other places below the user's own) for filter selects.
pub async fn place_options(tx: &mut Tx, me: &Me) -> AppResult<Vec<serde_json::Value>> {
    Ok(places::subtree(tx, &me.scope)
        .await?
        .into_iter()
        .filter(|p| p.level == taizhang_domain::place::PlaceLevel::Village)
        .map(|p| serde_json::json!({ "id": p.id, "code": p.code.unwrap_or_else(|| p.name.clone()), "name": p.name }))
        .collect())
}

/// [`place_options`] from the places already read for this data version.
pub fn village_options(places: &crate::cache::Places, me: &Me) -> Vec<serde_json::Value> {
    places
        .villages(&me.scope)
        .map(|p| serde_json::json!({ "id": p.id, "code": p.code.clone().unwrap_or_else(|| p.name.clone()), "name": p.name }))
        .collect()
}

/// Names for the references shown on a page, looked up once each. People and households are
/// looked up within the user's scope; outside it the reference stays a bare number.
#[derive(Default)]
pub struct RefNames(std::collections::HashMap<(String, i64), String>);

impl RefNames {
    pub async fn label(&mut self, tx: &mut Tx, me: &Me, target: &taizhang_domain::ledger::RefTarget, id: i64) -> String {
        let key = (target.as_str(), id);
        if let Some(v) = self.0.get(&key) {
            return v.clone();
        }
        let found = taizhang_storage::refs::label(tx, &me.scope, target, id).await.ok().flatten();
        let label = found.unwrap_or_else(|| format!("#{id}"));
        self.0.insert(key, label.clone());
        label
    }

    /// A value as shown, with references by name.
    pub async fn display(&mut self, tx: &mut Tx, me: &Me, f: &taizhang_domain::ledger::FieldDef, v: &taizhang_domain::value::Value) -> String {
        match (f.kind, v, f.target.as_ref()) {
            (taizhang_domain::ledger::FieldKind::Reference, taizhang_domain::value::Value::Int(id), Some(t)) => self.label(tx, me, t, *id).await,
            _ => crate::show::display(&me.policy(), f, v),
        }
    }
}

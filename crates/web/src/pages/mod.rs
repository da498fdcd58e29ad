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
pub mod village;

use axum::http::header;
use axum::response::IntoResponse;
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::period::{parse_period, Period};
use taizhang_storage::{ledgers, places, Scope, Tx};

use crate::auth::Me;
use crate::error::{AppError, AppResult};

pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], include_str!("../../static/app.css"))
}

/// Every ledger definition, for the menu.
/// The one script: type-ahead pickers for reference fields (static/app.js, embedded).
pub async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], include_str!("../../static/app.js"))
}

pub async fn all_defs(tx: &mut Tx) -> AppResult<Vec<LedgerDef>> {
    Ok(ledgers::all(tx).await?)
}

/// The ledger named by `key`, if this user may read it: a ledger they may not read
/// (`Me::may_read_ledger`: a 业务员 and a 重点人群 ledger not assigned to them) is "not found",
/// like a record outside their place.
pub fn find_def<'a>(me: &Me, defs: &'a [LedgerDef], key: &str) -> AppResult<&'a LedgerDef> {
    defs.iter().find(|d| d.key == key && me.may_read_ledger(d)).ok_or_else(|| AppError::not_found(format!("没有台账「{key}」")))
}

/// [`find_def`] reading the definition from the database.
pub async fn readable_def(tx: &mut Tx, me: &Me, key: &str) -> AppResult<LedgerDef> {
    let def = ledgers::get(tx, key).await?;
    if me.may_read_ledger(&def) { Ok(def) } else { Err(AppError::not_found(format!("台账「{key}」不存在"))) }
}

/// The ledgers this user may read, for menus and for pages that gather records of many.
pub fn readable<'a>(me: &'a Me, defs: &'a [LedgerDef]) -> impl Iterator<Item = &'a LedgerDef> + 'a {
    defs.iter().filter(move |d| me.may_read_ledger(d))
}

/// A `period` parameter (2023, 2023Q3, 2023-07, a..b), else the given year.
pub fn period_of(text: Option<&str>, default_year: i32) -> AppResult<Period> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => parse_period(t).map_err(|e| AppError::bad_request(format!("「期间」{e}"))),
        None => Ok(Period::year(default_year)),
    }
}

/// The user's scope narrowed to a place they name (code or name); a place outside their scope
/// is "not found".
pub async fn narrowed(tx: &mut Tx, me: &Me, place: Option<&str>) -> AppResult<Scope> {
    match place.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Ok(Scope { path: places::resolve(tx, &me.scope, p).await?.path }),
        None => Ok(me.scope.clone()),
    }
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

/// The name of a place by id (for tables).
pub async fn place_name(tx: &mut Tx, id: i64) -> String {
    places::get(tx, id).await.map(|p| p.name).unwrap_or_default()
}

/// Names for the references shown on a page, looked up once each. People and households are
/// looked up within the user's scope; outside it the reference stays a bare number.
#[derive(Default)]
pub struct RefNames(std::collections::HashMap<(String, i64), String>);

impl RefNames {
    pub async fn label(&mut self, tx: &mut Tx, me: &Me, target: &taizhang_domain::ledger::RefTarget, id: i64) -> String {
        use taizhang_domain::ledger::RefTarget;
        let key = (target.as_str(), id);
        if let Some(v) = self.0.get(&key) {
            return v.clone();
        }
        let found = match target {
            RefTarget::Person => taizhang_storage::persons::get(tx, &me.scope, id).await.ok().map(|p| p.name),
            RefTarget::Household => taizhang_storage::households::get(tx, &me.scope, id).await.ok().map(|h| h.number),
            RefTarget::Cadre => tx.fetch_opt("SELECT name FROM cadres WHERE id = $1", &[id.into()]).await.ok().flatten().map(|r| r.text(0)),
            RefTarget::Organisation => tx.fetch_opt("SELECT name FROM organisations WHERE id = $1", &[id.into()]).await.ok().flatten().map(|r| r.text(0)),
            RefTarget::Place => places::get(tx, id).await.ok().map(|p| p.name),
            RefTarget::Ledger(_) => None,
        };
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

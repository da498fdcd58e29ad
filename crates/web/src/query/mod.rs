//! The queries and view models the pages and the JSON API share: which ledgers a user may
//! read, the scope a request narrows to, people and households as a user may see them, a
//! record opened (and its read noted), report contexts, settings. Pages render these as
//! HTML and `api.rs` as JSON; neither calls the other's handlers, so the two stay consistent
//! as screens grow.

pub mod households;
pub mod people;
pub mod reads;
pub mod records;
pub mod reports;
pub mod settings;
pub mod subjects;

use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::period::{parse_period, Period};
use taizhang_storage::{ledgers, places, Scope, Tx};

use crate::auth::Me;
use crate::error::{AppError, AppResult};

/// Every ledger definition, for the menu.
pub async fn all_defs(tx: &mut Tx) -> AppResult<Vec<LedgerDef>> {
    Ok(ledgers::all(tx).await?)
}

/// The ledger named by `key`, if this user may read it: a ledger they may not read
/// (`Me::may_read_ledger`: a 业务员 and a 重点人群 ledger not assigned to them) is "not found",
/// like a record outside their place.
pub fn find_def<'a>(me: &Me, defs: &'a [LedgerDef], key: &str) -> AppResult<&'a LedgerDef> {
    defs.iter().find(|d| d.key == key && me.may_read_ledger(d)).ok_or_else(|| AppError::not_found("没有这本台账，或您无权查看"))
}

/// [`find_def`] reading the definition from the database.
pub async fn readable_def(tx: &mut Tx, me: &Me, key: &str) -> AppResult<LedgerDef> {
    let def = ledgers::get(tx, key).await?;
    if me.may_read_ledger(&def) { Ok(def) } else { Err(AppError::not_found("没有这本台账，或您无权查看")) }
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

/// The name of a place by id (for tables).
pub async fn place_name(tx: &mut Tx, id: i64) -> String {
    places::get(tx, id).await.map(|p| p.name).unwrap_or_default()
}

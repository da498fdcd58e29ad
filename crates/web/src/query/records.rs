//! Records as pages and the API open and filter them.

use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::value::Record;
use taizhang_storage::records;

use crate::auth::Me;
use crate::error::AppResult;
use crate::AppState;

/// One record in the user's scope. Showing it (the page, `show::record_json`) notes the read,
/// which the guard writes to the audit trail with the answer (`crate::reads`).
pub async fn open_record(state: &AppState, me: &Me, def: &LedgerDef, id: i64) -> AppResult<Record> {
    let mut tx = state.db.read().await?;
    let rec = records::get(&mut tx, def, &me.scope, id).await?;
    Ok(rec)
}

/// The 作废记录 filter as a query: voided records only when asked for.
pub fn voids_of(text: &str) -> records::Voids {
    match text.trim() {
        "include" | "含" => records::Voids::Include,
        "only" | "仅作废" => records::Voids::Only,
        _ => records::Voids::Exclude,
    }
}

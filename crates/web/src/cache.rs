//! Short-lived caches of what the busiest pages recompute on every request: the ledger
//! definitions (parsed from JSON) and the dashboard's figures for one scope.
//!
//! An entry is used only while the **data version** is unchanged and it is younger than [`TTL`].
//! The data version is the newest audit row's id: every write, by the web application, the CLI or
//! another server on the same database, appends an audit row in its own transaction, so any write
//! moves the version and the next request recomputes. The age limit bounds what the version
//! cannot see (on PostgreSQL, ids from a sequence may commit out of order).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use taizhang_domain::ledger::LedgerDef;
use taizhang_storage::Tx;

use crate::error::AppResult;

/// How long an entry may be used at most, even when the data version has not moved.
pub const TTL: Duration = Duration::from_secs(5);

/// At most this many dashboards (scope × year × chosen figure × day) are kept.
const MAX_DASHBOARDS: usize = 256;

struct Entry<T> {
    version: i64,
    made: Instant,
    value: Arc<T>,
}

impl<T> Entry<T> {
    fn fresh(&self, version: i64) -> Option<Arc<T>> {
        (self.version == version && self.made.elapsed() < TTL).then(|| self.value.clone())
    }
}

/// The dashboard's figures for one key, ready to render.
pub struct Dashboard {
    pub year: i32,
    pub ind_key: String,
    pub cards: serde_json::Value,
    pub chart_name: String,
    pub by_month: String,
    pub by_village: String,
    pub open: serde_json::Value,
    pub open_total: i64,
    pub overdue: serde_json::Value,
}

#[derive(Default)]
pub struct Cache {
    defs: Mutex<Option<Entry<Vec<LedgerDef>>>>,
    dashboards: Mutex<HashMap<String, Entry<Dashboard>>>,
    /// Held while a dashboard is computed, so that requests arriving meanwhile wait for it
    /// instead of computing the same figures side by side.
    pub computing: tokio::sync::Mutex<()>,
}

/// The data version seen by this transaction: the newest audit row's id.
pub async fn version(tx: &mut Tx) -> AppResult<i64> {
    let row = tx.fetch_opt("SELECT COALESCE(MAX(id), 0) FROM audit", &[]).await?;
    Ok(row.map(|r| r.int(0)).unwrap_or(0))
}

impl Cache {
    /// Every ledger definition, parsed at most once per data version.
    pub async fn defs(&self, tx: &mut Tx, version: i64) -> AppResult<Arc<Vec<LedgerDef>>> {
        if let Some(v) = self.defs.lock().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(|e| e.fresh(version)) {
            return Ok(v);
        }
        let value = Arc::new(crate::pages::all_defs(tx).await?);
        *self.defs.lock().unwrap_or_else(|e| e.into_inner()) = Some(Entry { version, made: Instant::now(), value: value.clone() });
        Ok(value)
    }

    pub fn dashboard(&self, key: &str, version: i64) -> Option<Arc<Dashboard>> {
        self.dashboards.lock().unwrap_or_else(|e| e.into_inner()).get(key).and_then(|e| e.fresh(version))
    }

    pub fn keep_dashboard(&self, key: String, version: i64, value: Arc<Dashboard>) {
        let mut map = self.dashboards.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_DASHBOARDS {
            map.retain(|_, e| e.version == version && e.made.elapsed() < TTL);
            if map.len() >= MAX_DASHBOARDS {
                map.clear();
            }
        }
        map.insert(key, Entry { version, made: Instant::now(), value });
    }
}

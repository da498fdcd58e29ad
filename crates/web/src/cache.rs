//! Short-lived caches of what the busiest pages recompute on every request: the ledger
//! definitions (parsed from JSON), the places (for names and filter options), the dashboard's
//! figures for one scope, and the user, scope and place behind a session.
//!
//! An entry is used only while the **data version** is unchanged and it is younger than [`TTL`].
//! The data version is the newest audit row's id: every write, by the web application, the CLI or
//! another server on the same database, appends an audit row in its own transaction, so any write
//! moves the version and the next request recomputes. The age limit bounds what the version
//! cannot see (on PostgreSQL, ids from a sequence may commit out of order).
//!
//! Sessions themselves are not cached: the guard reads the session's row on every request (the
//! `sessions` table is authoritative, so a sign-out, a password change or an idle timeout takes
//! effect at once) and, in the same statement, the data version. Only the user, their scope and
//! their place's name are kept per session token, under that version: any change to a user or a
//! place writes an audit row and so moves it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::place::{Place, PlaceLevel};
use taizhang_storage::users::User;
use taizhang_storage::{places, Scope, Tx};

use crate::error::AppResult;

/// How long an entry may be used at most, even when the data version has not moved.
pub const TTL: Duration = Duration::from_secs(5);

/// At most this many dashboards (scope × year × chosen figure × day) are kept.
const MAX_DASHBOARDS: usize = 256;

/// At most this many signed-in users (one per session token) are kept.
const MAX_SIGNED_IN: usize = 4096;

/// At most this many record counts (ledger × scope × filters) are kept.
const MAX_COUNTS: usize = 1024;

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

/// Every place, by id and in path order.
pub struct Places {
    by_id: HashMap<i64, usize>,
    ordered: Vec<Place>,
}

impl Places {
    /// The name of a place by id (empty when there is none).
    pub fn name(&self, id: i64) -> &str {
        self.by_id.get(&id).map(|i| self.ordered[*i].name.as_str()).unwrap_or("")
    }

    /// The village a place lies in (itself for a village) and the 组 when it is one: names.
    pub fn village_and_group(&self, id: i64) -> (String, String) {
        let Some(p) = self.by_id.get(&id).map(|i| &self.ordered[*i]) else { return (String::new(), String::new()) };
        if p.level == PlaceLevel::Group {
            let village = p.parent_id.map(|v| self.name(v).to_string()).unwrap_or_default();
            return (village, p.name.clone());
        }
        (p.name.clone(), String::new())
    }

    /// The villages within `scope`, in path order (as `places::subtree` returns them).
    pub fn villages<'a>(&'a self, scope: &'a Scope) -> impl Iterator<Item = &'a Place> + 'a {
        // Paths are ids and slashes (`/1/2/5/`), so the prefix test is exactly `path LIKE 'p%'`.
        self.ordered.iter().filter(move |p| p.level == PlaceLevel::Village && p.path.starts_with(&scope.path))
    }
}

/// The user behind a session token, their scope and their place's name.
pub struct SignedIn {
    pub user: User,
    pub scope: Scope,
    pub place_name: String,
}

#[derive(Default)]
pub struct Cache {
    defs: Mutex<Option<Entry<Vec<LedgerDef>>>>,
    places: Mutex<Option<Entry<Places>>>,
    signed_in: Mutex<HashMap<String, Entry<SignedIn>>>,
    counts: Mutex<HashMap<String, Entry<i64>>>,
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
        let value = Arc::new(crate::query::all_defs(tx).await?);
        *self.defs.lock().unwrap_or_else(|e| e.into_inner()) = Some(Entry { version, made: Instant::now(), value: value.clone() });
        Ok(value)
    }

    /// The ledger definitions if they are already known for this data version.
    pub fn fresh_defs(&self, version: i64) -> Option<Arc<Vec<LedgerDef>>> {
        self.defs.lock().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(|e| e.fresh(version))
    }

    /// Every place, read at most once per data version.
    pub async fn places(&self, tx: &mut Tx, version: i64) -> AppResult<Arc<Places>> {
        if let Some(v) = self.places.lock().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(|e| e.fresh(version)) {
            return Ok(v);
        }
        let ordered = places::subtree(tx, &Scope::all()).await?;
        let by_id = ordered.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let value = Arc::new(Places { by_id, ordered });
        *self.places.lock().unwrap_or_else(|e| e.into_inner()) = Some(Entry { version, made: Instant::now(), value: value.clone() });
        Ok(value)
    }

    /// The user behind a session token, if known for this data version and this user id.
    pub fn signed_in(&self, token_hash: &str, user_id: i64, version: i64) -> Option<Arc<SignedIn>> {
        let map = self.signed_in.lock().unwrap_or_else(|e| e.into_inner());
        map.get(token_hash).and_then(|e| e.fresh(version)).filter(|s| s.user.id == user_id)
    }

    pub fn keep_signed_in(&self, token_hash: &str, version: i64, value: Arc<SignedIn>) {
        let mut map = self.signed_in.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SIGNED_IN && !map.contains_key(token_hash) {
            map.retain(|_, e| e.version == version && e.made.elapsed() < TTL);
            if map.len() >= MAX_SIGNED_IN {
                map.clear();
            }
        }
        map.insert(token_hash.to_string(), Entry { version, made: Instant::now(), value });
    }

    /// Forgets a session (signed out or expired).
    pub fn forget_session(&self, token_hash: &str) {
        self.signed_in.lock().unwrap_or_else(|e| e.into_inner()).remove(token_hash);
    }

    /// Forgets every session of a user (password changed or reset).
    pub fn forget_user(&self, user_id: i64) {
        self.signed_in.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, e| e.value.user.id != user_id);
    }

    /// How many records a list has in all (its key names the ledger, the scope and the filters).
    pub fn count(&self, key: &str, version: i64) -> Option<i64> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).get(key).and_then(|e| e.fresh(version)).map(|n| *n)
    }

    pub fn keep_count(&self, key: String, version: i64, n: i64) {
        let mut map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_COUNTS {
            map.retain(|_, e| e.version == version && e.made.elapsed() < TTL);
            if map.len() >= MAX_COUNTS {
                map.clear();
            }
        }
        map.insert(key, Entry { version, made: Instant::now(), value: Arc::new(n) });
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

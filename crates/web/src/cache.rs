//! Short-lived caches of what the busiest pages recompute on every request: the ledger
//! definitions (parsed from JSON), the places (for names and filter options), the dashboard's
//! figures for one scope, the data checks' findings for one scope and period, and the user,
//! scope and place behind a session.
//!
//! An entry is used only while the **data version** is unchanged. The data version is the newest
//! audit row's id: every write, by the web application, the CLI or another server on the same
//! database, appends an audit row in its own transaction, so any write moves the version and the
//! next request recomputes. Most entries are also used no longer than [`TTL`], which bounds what
//! the version cannot see (on PostgreSQL, ids from a sequence may commit out of order).
//!
//! What is computed from the data — the definitions, the places, the record counts, the
//! dashboard and the findings — is keyed by the version of the data alone (`Me::data_version`):
//! reads and sign-ins append audit rows too, but change nothing these are made of. Keyed by the
//! newest row of all, every list page's noted read threw away the counts, definitions and
//! places of every other request (a county's 低保金 count, 0.3 s on PostgreSQL, made again
//! at each list page under load). The dashboard and the findings are dear to compute (seconds
//! on a county, the checks far more), so they are kept until that version moves, or for
//! [`KEEP`] at most — not [`TTL`], which would throw a minute's work away five seconds later.
//! Each dashboard key is computed by one request at a time (`computing`); other keys do not
//! wait for it. The findings are never computed in a request: see [`Cache::findings`].
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

/// How long a dashboard or the findings are used at most while the data version stands still:
/// long against what they cost, short enough that a write the version missed (an out-of-order
/// commit on PostgreSQL) shows within minutes.
pub const KEEP: Duration = Duration::from_secs(600);

/// At most this many findings (scope × period × as-of day) are kept.
const MAX_FINDINGS: usize = 256;

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
        self.fresh_for(version, TTL)
    }

    fn fresh_for(&self, version: i64, age: Duration) -> Option<Arc<T>> {
        (self.version == version && self.made.elapsed() < age).then(|| self.value.clone())
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
    /// Whether the reader is placed at a county: the cards carry their figure by town.
    pub county: bool,
    /// For a county's dashboard, its towns in code order (id, code, name, path): the findings
    /// card, filled in as each request is answered, counts by them.
    pub towns: Vec<(i64, String, String, String)>,
}

/// The data checks' findings over one scope and period, as a background run left them.
pub struct Findings {
    /// The data version they were computed at.
    pub version: i64,
    made: Instant,
    /// When they were computed, for the card's 「核查于」.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Every finding of every check, whoever may read its ledgers (each reader's share is
    /// picked when the card is shown: `query::reports::readable`).
    pub found: Vec<taizhang_reports::checks::Finding>,
    /// The town each finding's place lies in, in the order of `found`.
    pub towns: Vec<Option<i64>>,
}

impl Findings {
    pub fn new(version: i64, found: Vec<taizhang_reports::checks::Finding>, towns: Vec<Option<i64>>) -> Findings {
        Findings { version, made: Instant::now(), at: chrono::Utc::now(), found, towns }
    }
}

/// One key's findings: the last computed, and whether a run is under way.
#[derive(Default)]
struct FindingsSlot {
    last: Option<Arc<Findings>>,
    running: bool,
}

/// What the card shows for one key.
pub struct FindingsNow {
    /// The last findings computed, current or not; none before the first run ends.
    pub last: Option<Arc<Findings>>,
    /// Whether they are of this data version (and younger than [`KEEP`]).
    pub current: bool,
    /// Whether the caller is to start a run (none is under way and the last is not current).
    pub start: bool,
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
    /// One lock per dashboard key, held while it is computed, so that requests for the same key
    /// arriving meanwhile wait for it instead of computing the same figures side by side, and
    /// requests for another key (another town) do not wait at all.
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    findings: Mutex<HashMap<String, FindingsSlot>>,
    /// Held by the background run of the checks: one run at a time, so that many towns signing
    /// in at once do not run their checks side by side on a small server.
    pub checking: tokio::sync::Mutex<()>,
}

/// The key the findings over `ctx` are kept under: its scope, year and as-of day (a run sees
/// what its scope sees, so scopes never share one); none for a period other than a whole
/// calendar year, the only periods the dashboard asks for.
pub fn findings_key(ctx: &taizhang_reports::Context) -> Option<String> {
    use chrono::Datelike;
    let p = &ctx.period;
    let whole_year = p.start.ordinal() == 1 && p.end.year() == p.start.year() && p.end.month() == 12 && p.end.day() == 31;
    whole_year.then(|| format!("{}\u{1f}{}\u{1f}{}", ctx.scope.path, p.start.year(), ctx.as_of))
}

/// The data version seen by this transaction: the newest audit row's id.
pub async fn version(tx: &mut Tx) -> AppResult<i64> {
    let row = tx.fetch_opt("SELECT COALESCE(MAX(id), 0) FROM audit", &[]).await?;
    Ok(row.map(|r| r.int(0)).unwrap_or(0))
}

/// The version of the data alone seen by this transaction (`Me::data_version`).
pub async fn data_version(tx: &mut Tx) -> AppResult<i64> {
    let row = tx.fetch_opt(&format!("SELECT {}", taizhang_storage::audit::data_version_sql()), &[]).await?;
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
        self.dashboards.lock().unwrap_or_else(|e| e.into_inner()).get(key).and_then(|e| e.fresh_for(version, KEEP))
    }

    pub fn keep_dashboard(&self, key: String, version: i64, value: Arc<Dashboard>) {
        let mut map = self.dashboards.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_DASHBOARDS {
            map.retain(|_, e| e.version == version && e.made.elapsed() < KEEP);
            if map.len() >= MAX_DASHBOARDS {
                map.clear();
            }
        }
        map.insert(key, Entry { version, made: Instant::now(), value });
    }

    /// The lock computing the dashboard `key` holds.
    pub fn computing(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.computing.lock().unwrap_or_else(|e| e.into_inner());
        // Locks nobody holds or waits for are dropped as others are made.
        map.retain(|_, l| Arc::strong_count(l) > 1);
        map.entry(key.to_string()).or_default().clone()
    }

    /// The findings for `key` at data version `version`: the last computed and whether they are
    /// current. When they are not and no run is under way, the caller is told to start one
    /// (`start`), and the key is marked as running until [`Cache::keep_findings`] or
    /// [`Cache::findings_failed`].
    pub fn findings(&self, key: &str, version: i64) -> FindingsNow {
        let mut map = self.findings.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_FINDINGS && !map.contains_key(key) {
            map.retain(|_, s| s.running || s.last.as_ref().is_some_and(|f| f.made.elapsed() < KEEP));
            if map.len() >= MAX_FINDINGS {
                map.retain(|_, s| s.running);
            }
        }
        let slot = map.entry(key.to_string()).or_default();
        let current = slot.last.as_ref().is_some_and(|f| f.version == version && f.made.elapsed() < KEEP);
        let start = !current && !slot.running;
        if start {
            slot.running = true;
        }
        FindingsNow { last: slot.last.clone(), current, start }
    }

    /// The findings for `key` if they are of data version `version`; no run is started.
    pub fn current_findings(&self, key: &str, version: i64) -> Option<Arc<Findings>> {
        let map = self.findings.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).and_then(|s| s.last.clone()).filter(|f| f.version == version && f.made.elapsed() < KEEP)
    }

    /// A run's findings for `key`; an older run's never replace a newer one's.
    pub fn keep_findings(&self, key: &str, value: Arc<Findings>) {
        let mut map = self.findings.lock().unwrap_or_else(|e| e.into_inner());
        let slot = map.entry(key.to_string()).or_default();
        slot.running = false;
        if slot.last.as_ref().is_none_or(|f| f.version <= value.version) {
            slot.last = Some(value);
        }
    }

    /// A run for `key` ended without findings: the next request may start another.
    pub fn findings_failed(&self, key: &str) {
        if let Some(slot) = self.findings.lock().unwrap_or_else(|e| e.into_inner()).get_mut(key) {
            slot.running = false;
        }
    }
}

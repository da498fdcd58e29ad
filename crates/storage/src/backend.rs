//! The two engines: connecting, transactions, migrations and DDL types.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::error::{Result, StoreError};
use crate::sql::{decode_pg, decode_sqlite, pg_args, sqlite_args, sqlite_args_owned, Arg, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

/// What a `--db` argument means: a `postgres://` URL, a `sqlite://` URL, or a file path.
pub fn engine_of(target: &str) -> Engine {
    if target.starts_with("postgres://") || target.starts_with("postgresql://") {
        Engine::Postgres
    } else {
        Engine::Sqlite
    }
}

type MigrationList = &'static [(i64, &'static str, &'static str)];

const SQLITE_MIGRATIONS: MigrationList = &[
    (1, "registry ledgers audit", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "change counts and stored roll-up figures", include_str!("../migrations/sqlite/0002_change_counts.sql")),
    (3, "audit entries for runs of records", include_str!("../migrations/sqlite/0003_audit_runs.sql")),
    (4, "a town's year: statuses, ends, household history", include_str!("../migrations/sqlite/0004_lifecycle.sql")),
    (5, "audit entries chained by hash", include_str!("../migrations/sqlite/0005_audit_chain.sql")),
    (6, "three administrators, lockout, password history and expiry", include_str!("../migrations/sqlite/0006_security.sql")),
    (7, "attachments (佐证材料) kept in the database", include_str!("../migrations/sqlite/0007_attachments.sql")),
    (8, "rows merged from a town's database", include_str!("../migrations/sqlite/0008_merged_ids.sql")),
    (9, "persons by name, birth date and ID number", include_str!("../migrations/sqlite/0009_persons_name_birth.sql")),
    (10, "cadres by their user account", include_str!("../migrations/sqlite/0010_cadres_user.sql")),
    (11, "audit entries that record a change", include_str!("../migrations/sqlite/0011_audit_writes.sql")),
];
const PG_MIGRATIONS: MigrationList = &[
    (1, "registry ledgers audit", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "audit entries for runs of records", include_str!("../migrations/postgres/0002_audit_runs.sql")),
    (3, "a town's year: statuses, ends, household history", include_str!("../migrations/postgres/0003_lifecycle.sql")),
    (4, "audit entries chained by hash", include_str!("../migrations/postgres/0004_audit_chain.sql")),
    (5, "three administrators, lockout, password history and expiry", include_str!("../migrations/postgres/0005_security.sql")),
    (6, "attachments (佐证材料) kept in the database", include_str!("../migrations/postgres/0006_attachments.sql")),
    (7, "rows merged from a town's database", include_str!("../migrations/postgres/0007_merged_ids.sql")),
    (8, "persons by name, birth date and ID number", include_str!("../migrations/postgres/0008_persons_name_birth.sql")),
    (9, "cadres by their user account", include_str!("../migrations/postgres/0009_cadres_user.sql")),
    (10, "audit entries that record a change", include_str!("../migrations/postgres/0010_audit_writes.sql")),
];

fn migrator(list: MigrationList) -> Migrator {
    let migrations: Vec<Migration> = list
        .iter()
        .map(|(v, d, sql)| Migration::new(*v, Cow::Borrowed(*d), MigrationType::Simple, Cow::Borrowed(*sql), false))
        .collect();
    Migrator { migrations: Cow::Owned(migrations), ignore_missing: false, locking: true, no_tx: false }
}

fn map_migrate(e: sqlx::migrate::MigrateError) -> StoreError {
    use sqlx::migrate::MigrateError as M;
    match e {
        M::VersionMissing(v) => StoreError::NewerDatabase(v),
        M::VersionMismatch(v) => StoreError::Database(format!("数据库中的第 {v} 号迁移与本程序内置的不一致，拒绝继续")),
        other => StoreError::Database(format!("数据库迁移失败：{other}")),
    }
}

/// How long a SQLite connection waits for another's write lock before giving up. SQLite has
/// one writer at a time: a sign-in or a saved form during an import (or a dry run that writes)
/// waits for it to end, up to a minute, rather than fail; a write that can wait for later
/// does not wait at all (`Db::try_begin`).
pub const BUSY_TIMEOUT_MS: u64 = 60_000;

/// SQLite page cache per connection, in KiB (a negative `cache_size`).
const DEFAULT_CACHE_KIB: &str = "-32768";
/// The page cache of a connection writing a bulk import (`Tx::bulk_cache`), in KiB.
const BULK_CACHE_KIB: &str = "-262144";

impl Db {
    /// Opens (creating a SQLite file if needed) and brings the schema up to date.
    /// A database written by a newer program is refused before anything is changed.
    pub async fn open(target: &str) -> Result<Db> {
        let db = Db::connect(target).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Connects without migrating.
    pub async fn connect(target: &str) -> Result<Db> {
        let pool = match engine_of(target) {
            Engine::Postgres => {
                let opts = PgConnectOptions::from_str(target).map_err(|e| StoreError::Connect(e.to_string()))?;
                Pool::Pg(
                    PgPoolOptions::new()
                        .max_connections(16)
                        .acquire_timeout(Duration::from_secs(10))
                        // Each connection's own table of audit entries waiting for their
                        // transaction's commit (`audit::append_entries`).
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                sqlx::query(crate::audit::PG_PENDING_TABLE).execute(&mut *conn).await?;
                                Ok(())
                            })
                        })
                        .connect_with(opts)
                        .await
                        .map_err(|e| StoreError::connect("", e))?,
                )
            }
            Engine::Sqlite => {
                let path = sqlite_file(target);
                let opts = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    // 32 MiB of page cache instead of SQLite's 2 MiB: a big import updates
                    // indexes of a million entries at random places, and each miss is a read.
                    .pragma("cache_size", DEFAULT_CACHE_KIB)
                    .busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS));
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(8)
                        .connect_with(opts)
                        .await
                        .map_err(|e| StoreError::connect(path, e))?,
                )
            }
        };
        Ok(Db { pool })
    }

    /// Brings the schema up to date, then chains any audit entries written before the audit
    /// chain existed (`audit::seal`, once).
    pub async fn migrate(&self) -> Result<()> {
        if self.migrate_to(i64::MAX).await? {
            crate::audit::seal(self).await?;
        }
        Ok(())
    }

    /// Applies the migrations up to `version` only: what an older program left behind, for the
    /// tests that open such a database with this one.
    #[doc(hidden)]
    pub async fn migrate_up_to(&self, version: i64) -> Result<()> {
        self.migrate_to(version).await.map(|_| ())
    }

    /// Migrates up to `version`; says whether audit entries written before the audit chain may
    /// await it (`audit::seal`). On SQLite that is asked on the migrating connection: opening a
    /// database takes no second connection (each is a thread of its own, with the C library's
    /// memory arena: a program under a memory limit, `prlimit --as`, ran out of it).
    async fn migrate_to(&self, version: i64) -> Result<bool> {
        let upto = |list: MigrationList| {
            let mut m = migrator(list);
            m.migrations = Cow::Owned(m.migrations.iter().filter(|x| x.version <= version).cloned().collect());
            m
        };
        match &self.pool {
            Pool::Sqlite(p) => {
                // A migration that rebuilds a table (SQLite cannot alter a CHECK constraint)
                // drops the old one, which foreign keys would refuse while other tables refer
                // to it; the pragma is ignored inside a transaction, so it is set around them.
                let mut conn = p.acquire().await.map_err(|e| StoreError::connect("", e))?;
                let pragma = |on: bool| format!("PRAGMA foreign_keys = {}", if on { "ON" } else { "OFF" });
                sqlx::query(&pragma(false)).execute(&mut *conn).await.map_err(|e| StoreError::Database(e.to_string()))?;
                let ran = upto(SQLITE_MIGRATIONS).run(&mut *conn).await.map_err(map_migrate);
                let unsealed = match ran {
                    Ok(()) => sqlx::query_as::<_, (bool,)>("SELECT last_id < legacy_upto FROM audit_head WHERE id = 1")
                        .fetch_optional(&mut *conn)
                        .await
                        .ok()
                        .flatten()
                        .is_some_and(|(pending,)| pending),
                    Err(_) => false,
                };
                if sqlx::query(&pragma(true)).execute(&mut *conn).await.is_err() {
                    // Never hand a connection without foreign keys back to the pool.
                    conn.detach();
                }
                ran.map(|()| unsealed)
            }
            Pool::Pg(p) => upto(PG_MIGRATIONS).run(p).await.map_err(map_migrate).map(|()| true),
        }
    }

    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Pg(_) => Engine::Postgres,
        }
    }

    /// A transaction for writing. On SQLite it takes the write lock at once, so two writers
    /// queue instead of failing half-way.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => {
                let _waiting = WaitingWriter::new();
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?)
            }
            Pool::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// A write transaction for a bulk import: on SQLite its connection gets a large page cache
    /// (256 MiB instead of 32) and keeps savepoint and statement journals in memory, both set
    /// before `BEGIN`, which is when SQLite decides where those journals go. A million-row
    /// import updates indexes of a million entries at random places: once they outgrow the
    /// cache every insert reads pages back from the file, and each statement and each batch's
    /// savepoint copies the pages it touches into a journal, which on disk was 1.26 GB of
    /// writes for 1,000,000 rows. The cache grows only as pages are used; the journals last as
    /// long as their statement or savepoint. `Tx::end_bulk` puts the defaults back.
    /// PostgreSQL sizes its buffers on the server and has no such journals: nothing to do.
    pub async fn begin_bulk(&self) -> Result<Tx> {
        self.bulk("BEGIN IMMEDIATE").await
    }

    /// `begin_bulk` for a dry run, which is rolled back whatever it finds. On SQLite the
    /// transaction starts deferred: it takes the write lock only at its first write, so a dry
    /// run that writes nothing (every row refused, or unchanged) never keeps anyone else from
    /// writing — a sign-in among them. A deferred transaction whose first write comes after
    /// another connection has committed is refused as busy (`StoreError::is_busy`): the
    /// caller then runs it again with `begin_bulk`.
    pub async fn begin_bulk_trial(&self) -> Result<Tx> {
        self.bulk("BEGIN DEFERRED").await
    }

    async fn bulk(&self, begin: &'static str) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                sqlx::raw_sql(&format!("PRAGMA cache_size = {BULK_CACHE_KIB}; PRAGMA temp_store = MEMORY")).execute(&mut *conn).await?;
                Tx::Sqlite(Transaction::begin(conn, Some(begin.into())).await?)
            }
            Pool::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// A write transaction if SQLite's write lock is to be had within `wait`, else `None`: for
    /// a write that may be left for later while another writer (an import) holds the lock — a
    /// session's time of last activity — instead of keeping a connection waiting for it.
    /// PostgreSQL has no such lock: `begin`.
    pub async fn try_begin(&self, wait: Duration) -> Result<Option<Tx>> {
        match &self.pool {
            Pool::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                let short = format!("PRAGMA busy_timeout = {}", wait.as_millis());
                sqlx::query(&short).execute(&mut *conn).await?;
                // `query`, not `raw_sql`: its future stays `Send` (a web handler awaits it).
                let waiting = WaitingWriter::new();
                let began = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.map(|_| ());
                drop(waiting);
                let usual = format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}");
                if let Err(e) = sqlx::query(&usual).execute(&mut *conn).await {
                    // Never hand a connection with the short wait back to the pool.
                    conn.detach();
                    return Err(e.into());
                }
                match began.map_err(StoreError::from) {
                    Err(busy) if busy.is_busy() => Ok(None),
                    Err(other) => Err(other),
                    // Begun above: the Transaction takes it over (its own begin statement, a
                    // no-op, is one sqlx accepts on a connection already in a transaction) and
                    // commits or rolls it back as any other.
                    Ok(_) => Ok(Some(Tx::Sqlite(Transaction::begin(conn, Some("SELECT 1".into())).await?))),
                }
            }
            Pool::Pg(p) => Ok(Some(Tx::Pg(p.begin().await?))),
        }
    }

    /// A transaction for reading: one consistent snapshot, never committed.
    pub async fn read(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// A statement that may not run inside a transaction (CREATE DATABASE, VACUUM).
    pub async fn exec_outside_tx(&self, sql: &str) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::raw_sql(sql).execute(p).await?;
            }
            Pool::Pg(p) => {
                sqlx::raw_sql(sql).execute(p).await?;
            }
        }
        Ok(())
    }

    /// Refreshes the planner's statistics after a bulk load. PostgreSQL plans from them: on a
    /// freshly loaded county it estimated 12 places and 1,286 payments and joined them row by
    /// row (the roll-up took 62 s; 2.4 s after ANALYZE). SQLite is left as it is: with
    /// statistics its planner chose slower plans for the same roll-up (9.0 s against 7.5 s).
    pub async fn refresh_statistics(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(_) => Ok(()),
            Pool::Pg(p) => {
                sqlx::raw_sql("ANALYZE").execute(p).await?;
                Ok(())
            }
        }
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Pg(p) => p.close().await,
        }
    }
}

/// Writers of this process waiting for SQLite's write lock (`Db::begin`, `Db::try_begin`): a
/// dry run lets them go first at its next pause (`Pauses`).
static WAITING_WRITERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts a writer as waiting while it lives.
struct WaitingWriter;

impl WaitingWriter {
    fn new() -> WaitingWriter {
        WAITING_WRITERS.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        WaitingWriter
    }
}

impl Drop for WaitingWriter {
    fn drop(&mut self) {
        WAITING_WRITERS.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// How long a dry run pausing for waiting writers waits for them at most.
const PAUSE_AT_MOST: Duration = Duration::from_secs(5);

/// The pauses of a dry run on SQLite, where one writer at a time holds the database: between
/// batches of rows that do not depend on each other (a ledger import's), a dry run — rolled
/// back in the end anyway — throws away what it wrote so far and ends its transaction, lets
/// the writers of this process that are waiting for the lock go first (a sign-in, a saved
/// form), and begins again with its savepoints: it never keeps the lock longer than a batch.
/// A transaction that has written nothing since the last pause holds no lock (it began
/// deferred): it is only begun afresh, so that its snapshot stays recent and its first write
/// is not refused for an old one. PostgreSQL locks rows, not the database: nothing to do.
pub struct Pauses {
    /// `total_changes()` when the transaction began, and whether it began holding the lock.
    began: Option<(i64, bool)>,
}

impl Pauses {
    pub async fn start(tx: &mut Tx) -> Result<Pauses> {
        Ok(Pauses { began: match tx { Tx::Sqlite(t) => Some((total_changes(t).await?, false)), Tx::Pg(_) => None } })
    }

    /// A pause; `savepoints` are the savepoints open at this point, outermost first.
    pub async fn pause(&mut self, tx: &mut Tx, savepoints: &[&str]) -> Result<()> {
        let (Tx::Sqlite(t), Some((changes, immediate))) = (tx, self.began) else { return Ok(()) };
        let wrote = total_changes(t).await? != changes;
        sqlx::raw_sql("ROLLBACK").execute(&mut **t).await?;
        if wrote || immediate {
            let until = std::time::Instant::now() + PAUSE_AT_MOST;
            while WAITING_WRITERS.load(std::sync::atomic::Ordering::Acquire) > 0 && std::time::Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        // What wrote before will write again: holding the lock from the start, its snapshot
        // cannot be overtaken by another writer's commit.
        let mut sql = String::from(if wrote { "BEGIN IMMEDIATE;" } else { "BEGIN DEFERRED;" });
        for s in savepoints {
            sql.push_str(&format!(" SAVEPOINT {s};"));
        }
        sqlx::raw_sql(&sql).execute(&mut **t).await?;
        self.began = Some((total_changes(t).await?, wrote));
        Ok(())
    }
}

async fn total_changes(t: &mut Transaction<'static, Sqlite>) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT total_changes()").fetch_one(&mut **t).await?;
    Ok(n)
}

/// The file a SQLite `--db` target names (`sqlite://` taken off).
pub fn sqlite_file(target: &str) -> &str {
    target.strip_prefix("sqlite://").or_else(|| target.strip_prefix("sqlite:")).unwrap_or(target)
}

/// Backups and restores (`crate::backup`).
impl Db {
    /// Opens a SQLite file read-only, without creating, migrating or writing it: a backup being
    /// checked. One connection.
    pub async fn open_read_only(path: &std::path::Path) -> Result<Db> {
        let opts = SqliteConnectOptions::new().filename(path).read_only(true).create_if_missing(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::connect(&path.display().to_string(), e))?;
        Ok(Db { pool: Pool::Sqlite(pool) })
    }

    /// The SQLite pool, for what only SQLite has (`VACUUM INTO`).
    pub(crate) fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(p) => Some(p),
            Pool::Pg(_) => None,
        }
    }

    /// The newest migration this program knows for the engine.
    pub fn known_version(&self) -> i64 {
        let list = match self.engine() {
            Engine::Sqlite => SQLITE_MIGRATIONS,
            Engine::Postgres => PG_MIGRATIONS,
        };
        list.iter().map(|m| m.0).max().unwrap_or(0)
    }
}

/// A transaction on either engine. Dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Pg(_) => Engine::Postgres,
        }
    }

    pub async fn exec(&mut self, sql: &str, args: &[Arg]) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(t) => sqlx::query_with(sql, sqlite_args(args)).execute(&mut **t).await?.rows_affected(),
            Tx::Pg(t) => sqlx::query_with(sql, pg_args(args)).execute(&mut **t).await?.rows_affected(),
        })
    }

    /// Runs DDL or several statements without parameters.
    pub async fn exec_script(&mut self, sql: &str) -> Result<()> {
        match self {
            Tx::Sqlite(t) => {
                sqlx::raw_sql(sql).execute(&mut **t).await?;
            }
            Tx::Pg(t) => {
                sqlx::raw_sql(sql).execute(&mut **t).await?;
            }
        }
        Ok(())
    }

    pub async fn fetch(&mut self, sql: &str, args: &[Arg]) -> Result<Vec<Row>> {
        match self {
            Tx::Sqlite(t) => {
                let rows = sqlx::query_with(sql, sqlite_args(args)).fetch_all(&mut **t).await?;
                rows.iter().map(decode_sqlite).collect()
            }
            Tx::Pg(t) => {
                let rows = sqlx::query_with(sql, pg_args(args)).fetch_all(&mut **t).await?;
                rows.iter().map(decode_pg).collect()
            }
        }
    }

    pub async fn fetch_opt(&mut self, sql: &str, args: &[Arg]) -> Result<Option<Row>> {
        match self {
            Tx::Sqlite(t) => sqlx::query_with(sql, sqlite_args(args))
                .fetch_optional(&mut **t)
                .await?
                .as_ref()
                .map(decode_sqlite)
                .transpose(),
            Tx::Pg(t) => sqlx::query_with(sql, pg_args(args))
                .fetch_optional(&mut **t)
                .await?
                .as_ref()
                .map(decode_pg)
                .transpose(),
        }
    }

    pub async fn fetch_one(&mut self, sql: &str, args: &[Arg]) -> Result<Row> {
        self.fetch_opt(sql, args).await?.ok_or_else(|| StoreError::Internal(format!("no row: {sql}")))
    }

    /// `INSERT … RETURNING id` on both engines.
    pub async fn insert(&mut self, sql: &str, args: &[Arg]) -> Result<i64> {
        Ok(self.fetch_one(sql, args).await?.int(0))
    }

    /// Runs a multi-row `INSERT INTO table …` (written without `RETURNING`) of `rows` rows
    /// into a table keyed by an integer `id`; returns the new ids in ascending order, which is
    /// VALUES order. PostgreSQL returns them (`RETURNING id`). SQLite gives the rows of one
    /// statement consecutive rowids (one more than the largest each time), so they follow from
    /// the last one: no row is sent back per insert, which cost as much as the insert itself.
    /// The caller checks the ids are all there with one count over its whole range
    /// (`batch::insert`, once per batch: a round trip per statement costs, on a busy machine).
    pub async fn insert_many(&mut self, sql: &str, args: Vec<Arg>, rows: usize) -> Result<Vec<i64>> {
        let mut ids: Vec<i64> = match self {
            Tx::Sqlite(t) => {
                let done = sqlx::query_with(sql, sqlite_args_owned(args)).execute(&mut **t).await?;
                let n = i64::try_from(rows).map_err(|_| StoreError::Internal("too many rows".into()))?;
                let last = done.last_insert_rowid();
                let first = last - n + 1;
                if done.rows_affected() != rows as u64 || first < 1 {
                    return Err(StoreError::Internal(format!("批量写入 {rows} 行，写入了 {} 行，最后编号 {last}", done.rows_affected())));
                }
                (first..=last).collect()
            }
            Tx::Pg(t) => {
                let sql = format!("{sql} RETURNING id");
                let rows = sqlx::query_with(&sql, pg_args(&args)).fetch_all(&mut **t).await?;
                rows.iter().map(decode_pg).map(|r| r.map(|r| r.int(0))).collect::<Result<_>>()?
            }
        };
        if ids.len() != rows {
            return Err(StoreError::Internal(format!("批量写入 {rows} 行，只返回了 {} 个编号", ids.len())));
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// After `insert_many` statements into `table` that were given the ids `first..=last`, one
    /// after another with nothing else inserted there between them: on SQLite, a count checks
    /// that the range holds exactly the `rows` new rows, so every id computed was the row's.
    /// PostgreSQL returned its ids: nothing to check.
    pub async fn check_new_ids(&mut self, table: &str, first: i64, last: i64, rows: usize) -> Result<()> {
        if let Tx::Sqlite(t) = self {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE id BETWEEN ? AND ?");
            let (count,): (i64,) = sqlx::query_as(&sql).bind(first).bind(last).fetch_one(&mut **t).await?;
            let n = i64::try_from(rows).map_err(|_| StoreError::Internal("too many rows".into()))?;
            if count != n || last - first + 1 != n {
                return Err(StoreError::Internal(format!("批量写入 {rows} 行，编号 {first}..{last} 中有 {count} 行")));
            }
        }
        Ok(())
    }

    /// Puts back the page cache and temp store `Db::begin_bulk` changed, before the
    /// connection returns to the pool (the journals of this transaction stay where they are).
    pub async fn end_bulk(&mut self) -> Result<()> {
        if let Tx::Sqlite(t) = self {
            sqlx::raw_sql(&format!("PRAGMA cache_size = {DEFAULT_CACHE_KIB}; PRAGMA temp_store = DEFAULT")).execute(&mut **t).await?;
        }
        Ok(())
    }

    pub async fn commit(mut self) -> Result<()> {
        // PostgreSQL: the transaction's audit entries join the chain now (`audit::flush`).
        if self.engine() == Engine::Postgres {
            crate::audit::flush(&mut self).await?;
        }
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Placeholders for parameters `first..first + count`, bound in that order. SQLite gets
    /// anonymous `?`: it looks numbered names up in a list one by one, which is quadratic in a
    /// statement of thousands of parameters (8 s for one 2 000-row insert, against milliseconds).
    pub fn placeholders(&self, first: usize, count: usize) -> String {
        match self.engine() {
            Engine::Sqlite => vec!["?"; count].join(", "),
            Engine::Postgres => (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", "),
        }
    }

    /// Names of the indexes in the database (the current schema on PostgreSQL).
    pub async fn index_names(&mut self) -> Result<std::collections::HashSet<String>> {
        let sql = match self.engine() {
            Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index'",
            Engine::Postgres => "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()",
        };
        Ok(self.fetch(sql, &[]).await?.iter().map(|r| r.text(0)).collect())
    }

    /// Tables (of the current schema) that have a column of this name.
    pub async fn tables_with_column(&mut self, column: &str) -> Result<std::collections::HashSet<String>> {
        let sql = match self.engine() {
            Engine::Sqlite => {
                "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = $1"
            }
            Engine::Postgres => {
                "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = $1"
            }
        };
        Ok(self.fetch(sql, &[column.into()]).await?.iter().map(|r| r.text(0)).collect())
    }

    /// The SQL type of a column for each kind of stored value.
    pub fn ddl_type(&self, ty: ColumnType) -> &'static str {
        match (self.engine(), ty) {
            (Engine::Sqlite, ColumnType::Int) => "INTEGER",
            (Engine::Sqlite, ColumnType::Bool) => "INTEGER",
            (Engine::Sqlite, ColumnType::Date | ColumnType::Text) => "TEXT",
            (Engine::Postgres, ColumnType::Int) => "BIGINT",
            (Engine::Postgres, ColumnType::Bool) => "BOOLEAN",
            (Engine::Postgres, ColumnType::Date) => "DATE",
            (Engine::Postgres, ColumnType::Text) => "TEXT",
        }
    }

    /// `SUM` of an integer column as an integer (PostgreSQL widens it to NUMERIC).
    pub fn sum_int(&self, expr: &str) -> String {
        match self.engine() {
            Engine::Sqlite => format!("COALESCE(SUM({expr}), 0)"),
            Engine::Postgres => format!("COALESCE(SUM({expr}), 0)::BIGINT"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Text,
    Date,
    Bool,
}

/// Bulk loading on PostgreSQL (the ledger import's batches).
impl Tx {
    /// Inserts rows (`args`, `per_row` values each, in `columns` order) into `table` with
    /// PostgreSQL's `COPY … FROM STDIN` (`copy_begin`, one send, `copied_ids`). Returns their
    /// ids in row order. SQLite has no `COPY` (`insert_many` is its bulk path): `None` there,
    /// and nothing is written.
    pub async fn copy_in(&mut self, table: &str, columns: &[String], args: &[Arg], per_row: usize) -> Result<Option<Vec<i64>>> {
        let rows = args.len() / per_row.max(1);
        if rows == 0 || rows * per_row != args.len() || columns.len() != per_row {
            return Err(StoreError::Internal(format!("批量写入 {table}：{} 个值不能分成每行 {per_row} 个", args.len())));
        }
        let Some(mut copy) = self.copy_begin(table, columns).await? else { return Ok(None) };
        copy.send(args).await?;
        let written = copy.finish().await?;
        if written != rows as u64 {
            return Err(StoreError::Internal(format!("批量写入 {rows} 行，写入了 {written} 行")));
        }
        self.copied_ids(table, rows).await.map(Some)
    }

    /// Starts a `COPY table (columns) FROM STDIN` in text format: rows go to the server as
    /// they are sent (`CopyIn::send`), so it writes one part while the caller prepares the
    /// next, with no statement to parse, bind and plan. `None` on SQLite.
    pub async fn copy_begin(&mut self, table: &str, columns: &[String]) -> Result<Option<CopyIn<'_>>> {
        let Tx::Pg(t) = self else { return Ok(None) };
        let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let copy = t.copy_in_raw(&sql).await?;
        Ok(Some(CopyIn { copy, per_row: columns.len(), rows: 0, buf: String::with_capacity(1 << 16), table: table.to_string() }))
    }

    /// The ids of the `rows` rows this session's last `COPY` into `table` wrote, in row
    /// order: the identity sequence gives them in row order, ending at this session's
    /// `currval`; one count checks that the range below it holds exactly these rows (their
    /// `xmin`, the inserting transaction, is this one's), and when another session took ids
    /// in between, this session's rows are read back instead.
    pub async fn copied_ids(&mut self, table: &str, rows: usize) -> Result<Vec<i64>> {
        let Tx::Pg(t) = self else { return Err(StoreError::Internal("copied_ids: 不是 PostgreSQL".into())) };
        if rows == 0 {
            return Ok(Vec::new());
        }
        let n = rows as i64;
        let last: i64 = sqlx::query_scalar("SELECT currval(pg_get_serial_sequence($1, 'id'))").bind(table).fetch_one(&mut **t).await?;
        // `table` is a name the program gives (a ledger table's, from its validated key, or
        // a registry table's), never user text.
        let ours = format!("xmin = (SELECT xmin FROM {table} WHERE id = $1)");
        let in_range: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE id BETWEEN $2 AND $1 AND {ours}"))
            .bind(last)
            .bind(last - n + 1)
            .fetch_one(&mut **t)
            .await?;
        if in_range == n {
            return Ok((last - n + 1..=last).collect());
        }
        let mut ids: Vec<i64> = sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id <= $1 AND {ours} ORDER BY id DESC LIMIT $2"))
            .bind(last)
            .bind(n)
            .fetch_all(&mut **t)
            .await?;
        if ids.len() != rows {
            return Err(StoreError::Internal(format!("批量写入 {rows} 行，只找到 {} 个编号", ids.len())));
        }
        ids.reverse();
        Ok(ids)
    }
}

/// A single-column foreign key, its names as SQL identifiers (`Tx::bulk_foreign_keys`).
#[derive(Debug, Clone)]
pub struct ForeignKey {
    column: String,
    target: String,
    target_column: String,
}

/// Referential checks made set-wise for a bulk load on PostgreSQL. A foreign key is checked
/// by a trigger per row: for a `COPY` of a ledger's records, two such triggers (place and
/// subject) are more than half the server's work (15 s against 6.6 s a million rows here).
/// When the session may switch triggers off (`session_replication_role`: a superuser, or on
/// PostgreSQL 15 and later a role granted `SET ON PARAMETER session_replication_role`; any
/// other role keeps the per-row triggers) and the table has no trigger but its foreign keys', the `COPY`
/// runs with triggers off and `check_foreign_keys` then does what the triggers would have
/// done, for all the rows at once: every referenced row exists, and is locked `FOR KEY SHARE`
/// so that no other session can delete it before this transaction ends.
impl Tx {
    /// The table's foreign keys when a `COPY` into it may run with triggers off (see above);
    /// `None` otherwise, and always on SQLite.
    pub async fn bulk_foreign_keys(&mut self, table: &str) -> Result<Option<Vec<ForeignKey>>> {
        let Tx::Pg(t) = self else { return Ok(None) };
        // `table` is a name the program gives, never user text.
        // A superuser may; from PostgreSQL 15 so may a role granted `SET` on the parameter
        // (`has_parameter_privilege` does not parse on older servers: asked only there).
        let (superuser, version): (bool, i32) =
            sqlx::query_as("SELECT current_setting('is_superuser') = 'on', current_setting('server_version_num')::int").fetch_one(&mut **t).await?;
        let may = superuser
            || (version >= 150_000
                && sqlx::query_scalar::<_, bool>("SELECT has_parameter_privilege('session_replication_role', 'SET')").fetch_one(&mut **t).await?);
        if !may {
            return Ok(None);
        }
        let allowed: bool = sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal) \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' AND cardinality(conkey) <> 1)",
        )
        .bind(table)
        .fetch_one(&mut **t)
        .await?;
        if !allowed {
            return Ok(None);
        }
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT quote_ident(a.attname::text), c.confrelid::regclass::text, quote_ident(f.attname::text) \
             FROM pg_constraint c \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1] \
             WHERE c.conrelid = $1::regclass AND c.contype = 'f' ORDER BY c.conname",
        )
        .bind(table)
        .fetch_all(&mut **t)
        .await?;
        Ok(Some(rows.into_iter().map(|(column, target, target_column)| ForeignKey { column, target, target_column }).collect()))
    }

    /// Switches this transaction's triggers off (`false`) or back on, until it (or the
    /// savepoint it is in) ends. Only after `bulk_foreign_keys` said it may.
    pub async fn set_triggers(&mut self, on: bool) -> Result<()> {
        let role = if on { "origin" } else { "replica" };
        self.exec_script(&format!("SET LOCAL session_replication_role = {role}")).await
    }

    /// What the foreign-key triggers would have checked for rows written with triggers off,
    /// given each key's distinct values in those rows: every referenced row exists, and is
    /// locked `FOR KEY SHARE`. The values are the ones the caller sent (reading them back
    /// from the table would depend on the planner finding the new rows by id: with the
    /// statistics of a table still filling, it scans the whole table each time). A missing
    /// one is a `Conflict`, for the caller to roll back.
    pub async fn check_foreign_keys(&mut self, table: &str, keys: &[(&ForeignKey, Vec<i64>)]) -> Result<()> {
        let Tx::Pg(t) = self else { return Ok(()) };
        let keys: Vec<&(&ForeignKey, Vec<i64>)> = keys.iter().filter(|(_, v)| !v.is_empty()).collect();
        if keys.is_empty() {
            return Ok(());
        }
        // One statement for all the keys: a column of rows found each.
        let counts: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, (k, _))| {
                let (target, tcol) = (&k.target, &k.target_column);
                format!("(SELECT COUNT(DISTINCT v) FROM (SELECT {tcol} AS v FROM {target} WHERE {tcol} = ANY(${}) FOR KEY SHARE) l)", i + 1)
            })
            .collect();
        let sql = format!("SELECT {}", counts.join(", "));
        let mut q = sqlx::query(&sql);
        for (_, values) in &keys {
            q = q.bind(values.clone());
        }
        let row = q.fetch_one(&mut **t).await?;
        for (i, (k, values)) in keys.iter().enumerate() {
            let found: i64 = sqlx::Row::try_get(&row, i)?;
            let missing = values.len() as i64 - found;
            if missing != 0 {
                return Err(StoreError::Conflict(format!("批量写入 {table}：{missing} 个 {} 引用的记录不存在", k.column)));
            }
        }
        Ok(())
    }
}

impl ForeignKey {
    /// The column, as named in a column list (quoted or not).
    pub fn column(&self) -> &str {
        self.column.trim_matches('"')
    }
}

/// A `COPY … FROM STDIN` under way (`Tx::copy_begin`). Dropped without `finish`, it fails
/// the `COPY` and the caller's transaction (or savepoint) is to be rolled back.
pub struct CopyIn<'t> {
    copy: sqlx::postgres::PgCopyIn<&'t mut sqlx::PgConnection>,
    per_row: usize,
    rows: u64,
    buf: String,
    table: String,
}

impl CopyIn<'_> {
    /// Sends rows (`per_row` values each, in the columns' order) to the server now.
    pub async fn send(&mut self, args: &[Arg]) -> Result<()> {
        if !args.len().is_multiple_of(self.per_row.max(1)) {
            return Err(StoreError::Internal(format!("批量写入 {}：{} 个值不能分成每行 {} 个", self.table, args.len(), self.per_row)));
        }
        for row in args.chunks(self.per_row) {
            for (k, a) in row.iter().enumerate() {
                if k > 0 {
                    self.buf.push('\t');
                }
                copy_text(a, &mut self.buf);
            }
            self.buf.push('\n');
            self.rows += 1;
            if self.buf.len() >= 1 << 20 {
                self.flush().await?;
            }
        }
        self.flush().await
    }

    async fn flush(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            self.copy.send(self.buf.as_bytes()).await?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Ends the `COPY`; the rows the server wrote, checked against the rows sent.
    pub async fn finish(mut self) -> Result<u64> {
        self.flush().await?;
        let written = self.copy.finish().await?;
        if written != self.rows {
            return Err(StoreError::Internal(format!("批量写入 {}：送出 {} 行，写入了 {written} 行", self.table, self.rows)));
        }
        Ok(written)
    }
}

/// A value in `COPY`'s text format: `\N` for null; backslash, tab, line feed and carriage
/// return escaped in text.
fn copy_text(a: &Arg, out: &mut String) {
    use std::fmt::Write;
    match a {
        Arg::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Arg::Text(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
        Arg::Date(d) => {
            let _ = write!(out, "{d}");
        }
        Arg::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Arg::Time(t) => out.push_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        Arg::NullInt | Arg::NullText | Arg::NullDate | Arg::NullBool => out.push_str("\\N"),
    }
}

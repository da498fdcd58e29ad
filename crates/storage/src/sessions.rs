//! Sign-in sessions (会话) of the web application. Only a hash of the session token is kept,
//! so a copy of the database does not let anyone sign in as its users.

use chrono::{DateTime, Utc};

use crate::backend::Tx;
use crate::error::Result;
use crate::sql::Arg;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

pub async fn create(tx: &mut Tx, token_hash: &str, user_id: i64, csrf_token: &str, now: DateTime<Utc>) -> Result<()> {
    tx.exec(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen) VALUES ($1, $2, $3, $4, $5)",
        &[token_hash.into(), Arg::Int(user_id), csrf_token.into(), Arg::Time(now), Arg::Time(now)],
    )
    .await?;
    Ok(())
}

pub async fn get(tx: &mut Tx, token_hash: &str) -> Result<Option<Session>> {
    Ok(tx
        .fetch_opt(
            "SELECT token_hash, user_id, csrf_token, created_at, last_seen FROM sessions WHERE token_hash = $1",
            &[token_hash.into()],
        )
        .await?
        .map(|r| Session {
            token_hash: r.text(0),
            user_id: r.int(1),
            csrf_token: r.text(2),
            created_at: parse_time(&r.text(3)),
            last_seen: parse_time(&r.text(4)),
        }))
}

/// The session with this token hash, and the data version (the newest audit row's id) seen by
/// the same statement, so that whatever a caller keeps per data version is checked without a
/// second query; then the version of the data alone (`audit::data_version_sql`: reads and
/// sign-ins left out), for what is computed from the data only.
pub async fn get_with_version(tx: &mut Tx, token_hash: &str) -> Result<Option<(Session, i64, i64)>> {
    let sql = format!(
        "SELECT token_hash, user_id, csrf_token, created_at, last_seen, (SELECT COALESCE(MAX(id), 0) FROM audit), {} \
         FROM sessions WHERE token_hash = $1",
        crate::audit::data_version_sql()
    );
    Ok(tx
        .fetch_opt(&sql, &[token_hash.into()])
        .await?
        .map(|r| {
            let session = Session {
                token_hash: r.text(0),
                user_id: r.int(1),
                csrf_token: r.text(2),
                created_at: parse_time(&r.text(3)),
                last_seen: parse_time(&r.text(4)),
            };
            (session, r.int(5), r.int(6))
        }))
}

/// Records activity, which keeps the session from expiring.
pub async fn touch(tx: &mut Tx, token_hash: &str, now: DateTime<Utc>) -> Result<()> {
    tx.exec("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2", &[Arg::Time(now), token_hash.into()]).await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, token_hash: &str) -> Result<()> {
    tx.exec("DELETE FROM sessions WHERE token_hash = $1", &[token_hash.into()]).await?;
    Ok(())
}

/// Ends every session of a user except `keep` (after a password change or reset).
pub async fn delete_for_user(tx: &mut Tx, user_id: i64, keep: Option<&str>) -> Result<u64> {
    tx.exec(
        "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
        &[Arg::Int(user_id), keep.unwrap_or("").into()],
    )
    .await
}

/// Removes sessions idle since before `cutoff`.
pub async fn purge_idle(tx: &mut Tx, cutoff: DateTime<Utc>) -> Result<u64> {
    tx.exec("DELETE FROM sessions WHERE last_seen < $1", &[Arg::Time(cutoff)]).await
}

pub async fn count_for_user(tx: &mut Tx, user_id: i64) -> Result<i64> {
    Ok(tx.fetch_one("SELECT COUNT(*) FROM sessions WHERE user_id = $1", &[Arg::Int(user_id)]).await?.int(0))
}

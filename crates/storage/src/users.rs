//! User accounts (用户). Password hashing happens above storage; only hashes are kept here.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use taizhang_domain::role::{Actor, Role};

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::sql::{Arg, Row};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub place_id: i64,
    /// Ledgers a 业务员 may edit (empty: none).
    pub ledgers: Vec<String>,
    pub must_change_password: bool,
    pub disabled: bool,
    /// When the password was last set (for its expiry); `None` for accounts older than that.
    #[serde(skip)]
    pub password_changed_at: Option<DateTime<Utc>>,
    /// Password checks counted since the last success (see [`reserve_attempt`]).
    #[serde(skip)]
    pub failed_attempts: i64,
    /// Locked until then (after too many failed password checks).
    pub locked_until: Option<DateTime<Utc>>,
    /// The sign-in before the current one (time and address), and the failed attempts between
    /// the two: what a user is shown after signing in.
    #[serde(skip)]
    pub previous_sign_in: Option<(DateTime<Utc>, String)>,
    #[serde(skip)]
    pub failures_before_sign_in: i64,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor::User { id: self.id, username: self.username.clone(), role: self.role, place_id: self.place_id }
    }

    /// Whether the account is locked at `now`.
    pub fn locked_at(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

const COLUMNS: &str = "id, username, display_name, password_hash, role, place_id, ledgers, must_change_password, disabled, \
     password_changed_at, failed_attempts, locked_until, previous_sign_in_at, previous_sign_in_from, failures_before_sign_in";

fn time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc))
}

fn from_row(r: &Row) -> User {
    User {
        id: r.int(0),
        username: r.text(1),
        display_name: r.text(2),
        password_hash: r.text(3),
        role: Role::parse(&r.text(4)).unwrap_or(Role::VillageCadre),
        place_id: r.int(5),
        ledgers: serde_json::from_str(&r.text(6)).unwrap_or_default(),
        must_change_password: r.bool(7),
        disabled: r.bool(8),
        password_changed_at: time(r.opt_text(9)),
        failed_attempts: r.int(10),
        locked_until: time(r.opt_text(11)),
        previous_sign_in: time(r.opt_text(12)).map(|t| (t, r.text(13))),
        failures_before_sign_in: r.int(14),
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub place_id: i64,
    pub ledgers: Vec<String>,
    pub must_change_password: bool,
}

pub async fn create(tx: &mut Tx, actor: &Actor, u: NewUser<'_>) -> Result<User> {
    let name = u.username.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-') {
        return Err(taizhang_domain::DomainError::field("username", "用户名", "只能由英文字母、数字和 _ . - 组成").into());
    }
    if by_name(tx, name).await?.is_some() {
        return Err(StoreError::Conflict(format!("用户名 {name} 已存在")));
    }
    crate::places::get(tx, u.place_id).await?;
    let id = tx
        .insert(
            "INSERT INTO users (username, display_name, password_hash, role, place_id, ledgers, must_change_password, created_at, password_changed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
            &[
                name.into(),
                u.display_name.into(),
                u.password_hash.into(),
                u.role.key().into(),
                Arg::Int(u.place_id),
                serde_json::to_string(&u.ledgers).unwrap_or_else(|_| "[]".into()).into(),
                Arg::Bool(u.must_change_password),
                Arg::Time(crate::now()),
            ],
        )
        .await?;
    let user = get(tx, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "create",
            entity: "users",
            entity_id: Some(id),
            place_id: Some(user.place_id),
            before: None,
            after: Some(json!(user)),
            note: "",
        },
    )
    .await?;
    Ok(user)
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<User> {
    tx.fetch_opt(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"), &[Arg::Int(id)])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound("用户不存在".into()))
}

pub async fn by_name(tx: &mut Tx, username: &str) -> Result<Option<User>> {
    Ok(tx
        .fetch_opt(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"), &[username.trim().into()])
        .await?
        .map(|r| from_row(&r)))
}

pub async fn list(tx: &mut Tx) -> Result<Vec<User>> {
    Ok(tx.fetch(&format!("SELECT {COLUMNS} FROM users ORDER BY id"), &[]).await?.iter().map(from_row).collect())
}

/// Sets a new password hash: the old one goes into the history, the time of the change is kept
/// for the expiry, and failed checks are forgotten.
pub async fn set_password(tx: &mut Tx, actor: &Actor, id: i64, hash: &str, must_change: bool) -> Result<()> {
    let user = get(tx, id).await?;
    let now = crate::now();
    tx.exec(
        "INSERT INTO password_history (user_id, password_hash, replaced_at) VALUES ($1, $2, $3)",
        &[Arg::Int(id), user.password_hash.as_str().into(), Arg::Time(now)],
    )
    .await?;
    tx.exec(
        "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3, failed_attempts = 0, locked_until = NULL WHERE id = $4",
        &[hash.into(), Arg::Bool(must_change), Arg::Time(now), Arg::Int(id)],
    )
    .await?;
    audit_user(tx, actor, &user, "update", if must_change { "重置密码（下次登录须修改）" } else { "修改密码" }, None, None).await
}

/// The hashes of the account's `n` most recent passwords, the current one first.
pub async fn recent_hashes(tx: &mut Tx, id: i64, n: usize) -> Result<Vec<String>> {
    let mut out = vec![get(tx, id).await?.password_hash];
    let older = tx
        .fetch(
            "SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
            &[Arg::Int(id), Arg::Int(i64::try_from(n.saturating_sub(1)).unwrap_or(0))],
        )
        .await?;
    out.extend(older.iter().map(|r| r.text(0)));
    Ok(out)
}

async fn audit_user(tx: &mut Tx, actor: &Actor, user: &User, action: &str, note: &str, before: Option<serde_json::Value>, after: Option<serde_json::Value>) -> Result<()> {
    audit::append(tx, actor, Change { action, entity: "users", entity_id: Some(user.id), place_id: Some(user.place_id), before, after, note }).await
}

/// Reserves one password check for the account (a sign-in or the current password on a
/// change), in one statement, before the check runs: refused — `Err(until)` — while the account
/// is locked. Each reservation counts as a failure until [`attempt_succeeded`] clears it; the one
/// that reaches `limit` locks the account until `now + lock`. So however many requests race,
/// at most `limit` checks run between two successes, and none while locked. A lock that has
/// run out starts the count again.
///
/// Commit the transaction before checking the password, so that concurrent requests see the
/// count.
pub async fn reserve_attempt(tx: &mut Tx, id: i64, limit: i64, lock: chrono::Duration, now: DateTime<Utc>) -> Result<std::result::Result<(), DateTime<Utc>>> {
    let until = now + lock;
    let granted = tx
        .fetch_opt(
            "UPDATE users SET
                 failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 ELSE failed_attempts + 1 END,
                 locked_until = CASE
                     WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN NULL
                     WHEN failed_attempts + 1 >= $3 THEN $4
                     ELSE locked_until END
             WHERE id = $1
               AND (locked_until IS NULL OR locked_until <= $2)
               AND (failed_attempts < $3 OR locked_until IS NOT NULL)
             RETURNING failed_attempts",
            &[Arg::Int(id), Arg::Time(now), Arg::Int(limit), Arg::Time(until)],
        )
        .await?;
    if granted.is_some() {
        return Ok(Ok(()));
    }
    // Counted up to the limit without a lock (the limit was lowered since): lock now.
    tx.exec(
        "UPDATE users SET locked_until = $2 WHERE id = $1 AND locked_until IS NULL AND failed_attempts >= $3",
        &[Arg::Int(id), Arg::Time(until), Arg::Int(limit)],
    )
    .await?;
    Ok(Err(get(tx, id).await?.locked_until.unwrap_or(until)))
}

/// The password check passed: the count starts again and any lock it set is lifted.
pub async fn attempt_succeeded(tx: &mut Tx, id: i64) -> Result<()> {
    tx.exec("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1", &[Arg::Int(id)]).await?;
    Ok(())
}

/// A successful sign-in from `address`: the count starts again, and the sign-in before this
/// one is kept to be shown (with the failed attempts since).
pub async fn signed_in(tx: &mut Tx, id: i64, address: &str, now: DateTime<Utc>) -> Result<()> {
    tx.exec(
        "UPDATE users SET
             failures_before_sign_in = CASE WHEN failed_attempts > 0 THEN failed_attempts - 1 ELSE 0 END,
             failed_attempts = 0, locked_until = NULL,
             previous_sign_in_at = last_sign_in_at, previous_sign_in_from = last_sign_in_from,
             last_sign_in_at = $2, last_sign_in_from = $3
         WHERE id = $1",
        &[Arg::Int(id), Arg::Time(now), address.into()],
    )
    .await?;
    Ok(())
}

/// Lifts a lock (an administrator's decision), audited.
pub async fn unlock(tx: &mut Tx, actor: &Actor, id: i64) -> Result<User> {
    let user = get(tx, id).await?;
    tx.exec("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1", &[Arg::Int(id)]).await?;
    audit_user(tx, actor, &user, "unlock", "解除锁定", Some(json!({"locked_until": user.locked_until})), None).await?;
    Ok(user)
}

/// Disables or enables an account, audited. A disabled account cannot sign in; the caller ends
/// its sessions.
pub async fn set_disabled(tx: &mut Tx, actor: &Actor, id: i64, disabled: bool) -> Result<User> {
    let user = get(tx, id).await?;
    tx.exec("UPDATE users SET disabled = $1 WHERE id = $2", &[Arg::Bool(disabled), Arg::Int(id)]).await?;
    let (action, note) = if disabled { ("disable", "停用账号") } else { ("enable", "启用账号") };
    audit_user(tx, actor, &user, action, note, Some(json!({"disabled": user.disabled})), Some(json!({"disabled": disabled}))).await?;
    Ok(user)
}

/// Gives an account another role (and, for a 业务员, its ledgers), audited.
pub async fn set_role(tx: &mut Tx, actor: &Actor, id: i64, role: Role, ledgers: Vec<String>) -> Result<User> {
    let user = get(tx, id).await?;
    tx.exec(
        "UPDATE users SET role = $1, ledgers = $2 WHERE id = $3",
        &[role.key().into(), serde_json::to_string(&ledgers).unwrap_or_else(|_| "[]".into()).into(), Arg::Int(id)],
    )
    .await?;
    audit_user(
        tx,
        actor,
        &user,
        "update",
        &format!("角色改为{}", role.label()),
        Some(json!({"role": user.role, "ledgers": user.ledgers})),
        Some(json!({"role": role, "ledgers": ledgers})),
    )
    .await?;
    get(tx, id).await
}

/// Changes an account's name, role, place and ledgers in one audited step (the 系统管理员's edit
/// form); the caller ends its sessions when the role or place changed.
pub async fn update_profile(tx: &mut Tx, actor: &Actor, id: i64, display_name: &str, role: Role, place_id: i64, ledgers: Vec<String>) -> Result<User> {
    let user = get(tx, id).await?;
    tx.exec(
        "UPDATE users SET display_name = $1, role = $2, place_id = $3, ledgers = $4 WHERE id = $5",
        &[display_name.into(), role.key().into(), Arg::Int(place_id), serde_json::to_string(&ledgers).unwrap_or_else(|_| "[]".into()).into(), Arg::Int(id)],
    )
    .await?;
    let after = get(tx, id).await?;
    audit_user(
        tx,
        actor,
        &after,
        "update",
        "修改用户信息",
        Some(json!({"display_name": user.display_name, "role": user.role, "place_id": user.place_id, "ledgers": user.ledgers})),
        Some(json!({"display_name": display_name, "role": role, "place_id": place_id, "ledgers": ledgers})),
    )
    .await?;
    Ok(after)
}

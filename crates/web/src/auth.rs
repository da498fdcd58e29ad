//! Passwords (Argon2 on a bounded pool of blocking threads), the security policy as stored,
//! sessions (hashed tokens in the `sessions` table), the sign-in limits and the CSRF defence.
//! Nothing here renders pages.
//!
//! The lockout is counted in the database (`users::reserve_attempt`): a password check is
//! reserved before it runs, so however many requests race for one account, at most the
//! policy's number of checks run before it locks. Unknown user names and addresses are counted
//! the same way in memory, under one lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use taizhang_domain::security::Policy;
use taizhang_storage::users::User;
use taizhang_storage::{Arg, Scope, Tx};

/// The session cookie's name.
pub const COOKIE: &str = "taizhang_session";
/// The header API clients send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Hashes a password with Argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("密码加密失败：{e}"))
}

/// A real hash of nothing in particular, checked against when the user name is unknown so
/// that the answer takes as long as for a known one.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no such user 0").unwrap_or_default())
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// The security policy as stored (the 安全管理员's settings, defaults where none is set).
pub async fn policy(tx: &mut Tx) -> Result<Policy, taizhang_storage::StoreError> {
    let rows = tx
        .fetch("SELECT key, value FROM settings WHERE year = $1 AND key LIKE 'security:%'", &[Arg::Int(i64::from(taizhang_domain::setting::ALL_YEARS))])
        .await?;
    let map: HashMap<String, i64> = rows.iter().map(|r| (r.text(0), r.int(1))).collect();
    Ok(Policy::from_lookup(|k| map.get(k).copied()))
}

/// Checks a new password against the policy and the account's recent passwords (`recent`:
/// their hashes, from `users::recent_hashes`). Every broken rule is named, in Chinese.
pub fn check_new_password(policy: &Policy, password: &str, username: &str, recent: &[String]) -> Result<(), String> {
    policy.check(password, username)?;
    if recent.iter().any(|h| verify_password(password, h)) {
        return Err(format!("不能与最近 {} 次用过的密码相同", policy.history));
    }
    Ok(())
}

/// Argon2 off the async workers: on tokio's blocking threads, at most `permits` at once (half
/// the processors), so that a flood of sign-ins queues here instead of slowing every signed-in
/// user's pages. A check that waits longer than [`Hasher::WAIT`] for its turn is refused as busy.
pub struct Hasher {
    permits: Arc<tokio::sync::Semaphore>,
    checks: AtomicU64,
}

impl Default for Hasher {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Hasher { permits: Arc::new(tokio::sync::Semaphore::new((cpus / 2).max(1))), checks: AtomicU64::new(0) }
    }
}

/// The pool was full for too long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy;

impl Busy {
    pub const MESSAGE: &'static str = "登录的人太多，系统繁忙，请稍后再试";
}

impl Hasher {
    /// The longest a password check waits for its turn.
    pub const WAIT: Duration = Duration::from_secs(15);

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let permit = tokio::time::timeout(Self::WAIT, self.permits.clone().acquire_owned()).await.map_err(|_| Busy)?.map_err(|_| Busy)?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|_| Busy)
    }

    /// Whether `password` matches `hash` (a real Argon2 check; counted). Without a hash (no
    /// such user) the check runs against [`dummy_hash`], so the answer takes as long.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, Busy> {
        self.checks.fetch_add(1, Ordering::Relaxed);
        let (p, h) = (password.to_string(), hash.map(str::to_string));
        self.run(move || match h {
            Some(h) => verify_password(&p, &h),
            None => {
                let _ = verify_password(&p, dummy_hash());
                false
            }
        })
        .await
    }

    /// Whether `password` matches any of `hashes` (the history), in one turn of the pool.
    pub async fn verify_any(&self, password: &str, hashes: Vec<String>) -> Result<bool, Busy> {
        let p = password.to_string();
        self.run(move || hashes.iter().any(|h| verify_password(&p, h))).await
    }

    /// A new Argon2id hash of `password`.
    pub async fn hash(&self, password: &str) -> Result<String, String> {
        let p = password.to_string();
        self.run(move || hash_password(&p)).await.map_err(|_| Busy::MESSAGE.to_string())?
    }

    /// How many password checks ran (sign-ins and current-password checks), for tests and
    /// measurements.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }
}

/// A fresh random token (256 bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What the database keeps of a session token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets without leaking where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signed-in user of a request, with the place they are confined to.
#[derive(Debug, Clone)]
pub struct Me {
    pub user: User,
    pub scope: Scope,
    pub csrf: String,
    pub token_hash: String,
    /// Name of the user's place, for the top bar.
    pub place_name: String,
    /// The data version (newest audit row's id) seen when the session was checked; what the
    /// handler reads is at least this new, so caches keyed by it stay correct.
    pub version: i64,
    /// The version of the data alone, read with [`Me::version`]: it passes over reads and
    /// sign-ins (`audit::data_version_sql`), so what depends on the records only (the
    /// dashboard, the checks' findings) outlives them.
    pub data_version: i64,
    /// The password has outlived the policy's expiry: it must be changed before anything else
    /// (`user.must_change_password` is then set too).
    pub password_expired: bool,
}

impl Me {
    /// Whether this user may add, edit and move records of the ledger.
    pub fn can_edit(&self, ledger: &str) -> bool {
        use taizhang_domain::role::Role;
        match self.user.role {
            Role::Admin | Role::VillageCadre => true,
            Role::Leader | Role::SecurityAdmin | Role::AuditAdmin => false,
            Role::Clerk => self.user.ledgers.iter().any(|k| k == ledger),
        }
    }

    /// Whether this user may make workflow transitions on the ledger's records (which ones,
    /// the workflow's roles decide).
    pub fn can_transition(&self, ledger: &str) -> bool {
        use taizhang_domain::role::Role;
        match self.user.role {
            Role::Clerk => self.user.ledgers.iter().any(|k| k == ledger),
            Role::SecurityAdmin | Role::AuditAdmin => false,
            Role::Admin | Role::Leader | Role::VillageCadre => true,
        }
    }

    pub fn sees_id_numbers(&self) -> bool {
        self.user.role.sees_id_numbers()
    }

    /// Whether this user may read (and export) the audit trail and reports drawn from it (who
    /// read whose data): the 审计管理员 alone (三员分立; `routes::AUDITORS`, the one list the routes
    /// and the pages share). Every page or API that shows audit entries gates on this.
    pub fn may_read_audit(&self) -> bool {
        crate::routes::AUDITORS.contains(&self.user.role)
    }

    /// Whether this user sets the security policy: the 安全管理员 alone.
    pub fn may_set_policy(&self) -> bool {
        self.user.role.sets_security_policy()
    }
}

/// Failed sign-ins per unknown user name and per address, kept in memory. A check is reserved
/// before it runs (under one lock), so a burst cannot get more checks than the limit.
pub struct RateLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    window: Duration,
    per_address: usize,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter { failures: Mutex::new(HashMap::new()), window: Duration::from_secs(15 * 60), per_address: 20 }
    }
}

impl RateLimiter {
    /// Counts one attempt for `key` unless `limit` are already counted within the window.
    fn reserve(&self, key: String, limit: usize) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window;
        // Made-up user names must not grow the table without end.
        if map.len() > 10_000 {
            map.retain(|_, list| {
                list.retain(|t| t.elapsed() < window);
                !list.is_empty()
            });
        }
        let list = map.entry(key).or_default();
        list.retain(|t| t.elapsed() < window);
        if list.len() >= limit {
            return false;
        }
        list.push(Instant::now());
        true
    }

    fn release(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = map.get_mut(key) {
            list.pop();
        }
    }

    /// Reserves a password check from `address`; refused once 20 checks from it failed lately.
    pub fn reserve_address(&self, address: &str) -> Result<(), String> {
        if self.reserve(format!("a:{address}"), self.per_address) {
            Ok(())
        } else {
            Err("本机登录失败次数过多，请 15 分钟后再试".into())
        }
    }

    /// The check reserved from `address` did not run, or succeeded: it is not a failure.
    pub fn release_address(&self, address: &str) {
        self.release(&format!("a:{address}"));
    }

    /// Reserves a check for a user name no account has, counted like an account's (so the
    /// answers do not tell which names exist).
    pub fn reserve_unknown(&self, username: &str, limit: i64) -> bool {
        self.reserve(format!("u:{}", username.trim()), usize::try_from(limit).unwrap_or(5))
    }
}

/// The session token from a `Cookie` header.
pub fn token_from_cookie(header: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{}", if secure { "; Secure" } else { "" })
}

/// The `Set-Cookie` value that ends it.
pub fn clear_cookie(secure: bool) -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

/// Whether an `Origin` or `Referer` names this server. Requests naming another site are
/// refused; requests naming none (older clients, API tools) rely on the CSRF token alone.
pub fn same_origin(origin: Option<&str>, referer: Option<&str>, host: Option<&str>) -> bool {
    let Some(host) = host else { return origin.is_none() && referer.is_none() };
    let host_of = |url: &str| -> Option<String> {
        let rest = url.split_once("://").map(|(_, r)| r)?;
        Some(rest.split('/').next().unwrap_or("").to_ascii_lowercase())
    };
    let host = host.to_ascii_lowercase();
    match (origin.filter(|o| *o != "null"), referer) {
        (Some(o), _) => host_of(o).is_some_and(|h| h == host),
        (None, Some(r)) => host_of(r).is_some_and(|h| h == host),
        (None, None) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing() {
        let h = hash_password("abcd1234").expect("hash");
        assert!(h.starts_with("$argon2"));
        assert!(verify_password("abcd1234", &h));
        assert!(!verify_password("abcd12345", &h));
        assert!(!verify_password("abcd1234", "not a hash"));
    }

    #[test]
    fn history_is_checked() {
        let old = hash_password("Tz#2024-beidou").expect("hash");
        let p = Policy::default();
        let why = check_new_password(&p, "Tz#2024-beidou", "zhang", std::slice::from_ref(&old)).expect_err("reused");
        assert!(why.contains("最近 5 次"), "{why}");
        assert_eq!(check_new_password(&p, "Hs8!kq2mWz", "zhang", &[old]), Ok(()));
    }

    #[test]
    fn tokens_and_origin() {
        let t = new_token();
        assert_eq!(t.len(), 64);
        assert_ne!(token_hash(&t), t);
        assert_eq!(token_from_cookie(&format!("a=b; {COOKIE}={t}")), Some(t));
        assert!(same_origin(Some("http://127.0.0.1:8080"), None, Some("127.0.0.1:8080")));
        assert!(!same_origin(Some("http://evil.example"), None, Some("127.0.0.1:8080")));
        assert!(!same_origin(None, Some("http://evil.example/x"), Some("127.0.0.1:8080")));
        assert!(same_origin(None, None, Some("127.0.0.1:8080")));
    }

    #[test]
    fn limiter_reserves_under_one_lock() {
        let l = RateLimiter::default();
        for _ in 0..5 {
            assert!(l.reserve_unknown("nobody", 5));
        }
        assert!(!l.reserve_unknown("nobody", 5), "the sixth is refused");
        assert!(l.reserve_unknown("other", 5));
        for _ in 0..20 {
            assert!(l.reserve_address("1.1.1.1").is_ok());
        }
        assert!(l.reserve_address("1.1.1.1").is_err());
        l.release_address("1.1.1.1");
        assert!(l.reserve_address("1.1.1.1").is_ok(), "a released reservation is not a failure");
        assert!(l.reserve_address("2.2.2.2").is_ok());
    }
}

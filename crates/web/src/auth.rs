//! Passwords (Argon2), sessions (hashed tokens in the `sessions` table), the sign-in rate limit
//! and the CSRF defence. Nothing here renders pages.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use taizhang_storage::users::User;
use taizhang_storage::Scope;

/// The session cookie's name.
pub const COOKIE: &str = "taizhang_session";
/// However active, a session ends this many hours after sign-in.
pub const MAX_SESSION_HOURS: i64 = 12;
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

/// The password policy: 8 to 128 characters, at least one letter and one digit.
pub fn check_policy(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < 8 {
        return Err("密码至少 8 位".into());
    }
    if n > 128 {
        return Err("密码不能超过 128 位".into());
    }
    if !password.chars().any(|c| c.is_ascii_alphabetic()) || !password.chars().any(|c| c.is_ascii_digit()) {
        return Err("密码必须同时包含字母和数字".into());
    }
    Ok(())
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
}

impl Me {
    /// Whether this user may add, edit and move records of the ledger.
    pub fn can_edit(&self, ledger: &str) -> bool {
        use taizhang_domain::role::Role;
        match self.user.role {
            Role::Admin | Role::VillageCadre => true,
            Role::Leader => false,
            Role::Clerk => self.user.ledgers.iter().any(|k| k == ledger),
        }
    }

    /// Whether this user may make workflow transitions on the ledger's records (which ones,
    /// the workflow's roles decide).
    pub fn can_transition(&self, ledger: &str) -> bool {
        match self.user.role {
            taizhang_domain::role::Role::Clerk => self.user.ledgers.iter().any(|k| k == ledger),
            _ => true,
        }
    }

    pub fn sees_id_numbers(&self) -> bool {
        self.user.role.sees_id_numbers()
    }
}

/// Failed sign-ins per account and per address, kept in memory.
pub struct RateLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    window: Duration,
    per_account: usize,
    per_address: usize,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter { failures: Mutex::new(HashMap::new()), window: Duration::from_secs(15 * 60), per_account: 5, per_address: 20 }
    }
}

impl RateLimiter {
    fn recent(&self, key: &str) -> usize {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window;
        let list = map.entry(key.to_string()).or_default();
        list.retain(|t| t.elapsed() < window);
        list.len()
    }

    /// Refuses when the account or the address has failed too often lately.
    pub fn check(&self, username: &str, address: &str) -> Result<(), String> {
        if self.recent(&format!("u:{}", username.trim())) >= self.per_account {
            return Err("该账号登录失败次数过多，已暂时锁定，请 15 分钟后再试".into());
        }
        if self.recent(&format!("a:{address}")) >= self.per_address {
            return Err("本机登录失败次数过多，请 15 分钟后再试".into());
        }
        Ok(())
    }

    pub fn failed(&self, username: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        // Made-up user names must not grow the table without end.
        if map.len() > 10_000 {
            let window = self.window;
            map.retain(|_, list| {
                list.retain(|t| t.elapsed() < window);
                !list.is_empty()
            });
        }
        map.entry(format!("u:{}", username.trim())).or_default().push(now);
        map.entry(format!("a:{address}")).or_default().push(now);
    }

    pub fn succeeded(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&format!("u:{}", username.trim()));
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
    fn policy_and_hashing() {
        assert!(check_policy("short1").is_err());
        assert!(check_policy("onlyletters").is_err());
        assert!(check_policy("12345678").is_err());
        assert!(check_policy("abcd1234").is_ok());
        let h = hash_password("abcd1234").expect("hash");
        assert!(h.starts_with("$argon2"));
        assert!(verify_password("abcd1234", &h));
        assert!(!verify_password("abcd12345", &h));
        assert!(!verify_password("abcd1234", "not a hash"));
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
    fn limiter_locks_account() {
        let l = RateLimiter::default();
        for _ in 0..5 {
            assert!(l.check("zhang", "1.1.1.1").is_ok());
            l.failed("zhang", "1.1.1.1");
        }
        assert!(l.check("zhang", "2.2.2.2").is_err());
        assert!(l.check("li", "2.2.2.2").is_ok());
    }
}

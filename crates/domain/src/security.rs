//! 安全策略 (the security policy, 等保2.0 level 3): the password rules (length, character
//! classes, not containing the user name, not a common password, history, expiry), the
//! lockout after failed sign-ins and the session timeouts. The 安全管理员 sets them as settings
//! (`catalogue/settings/security.toml`, group [`GROUP`]); this module says what they mean.
//! No clock: callers pass "now".

use chrono::{DateTime, Utc};

/// The settings group of the security policy: only the 安全管理员 sets these.
pub const GROUP: &str = "安全策略";

/// The settings' keys, each kept for all years.
pub const MIN_LENGTH: &str = "security:password_min_length";
pub const CLASSES: &str = "security:password_classes";
pub const HISTORY: &str = "security:password_history";
pub const EXPIRY_DAYS: &str = "security:password_expiry_days";
pub const LOCKOUT_ATTEMPTS: &str = "security:lockout_attempts";
pub const LOCKOUT_MINUTES: &str = "security:lockout_minutes";
pub const IDLE_MINUTES: &str = "security:session_idle_minutes";
pub const SESSION_HOURS: &str = "security:session_max_hours";

/// Each setting with the values it may take (the floor is what 等保 level 3 expects).
pub const RANGES: &[(&str, i64, i64)] = &[
    (MIN_LENGTH, 8, 64),
    (CLASSES, 2, 4),
    (HISTORY, 1, 24),
    (EXPIRY_DAYS, 0, 365),
    (LOCKOUT_ATTEMPTS, 3, 10),
    (LOCKOUT_MINUTES, 5, 1440),
    (IDLE_MINUTES, 5, 240),
    (SESSION_HOURS, 1, 24),
];

/// Whether `key` is a setting of the security policy.
pub fn is_policy_key(key: &str) -> bool {
    RANGES.iter().any(|(k, _, _)| *k == key)
}

/// Checks a value for a policy setting against its range (other keys pass).
pub fn check_value(key: &str, value: i64) -> Result<(), String> {
    match RANGES.iter().find(|(k, _, _)| *k == key) {
        Some((_, lo, hi)) if value < *lo || value > *hi => Err(format!("应在 {lo} 到 {hi} 之间")),
        _ => Ok(()),
    }
}

/// The policy in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Fewest characters of a password.
    pub min_length: usize,
    /// Fewest of the four classes (大写字母、小写字母、数字、符号) a password mixes.
    pub classes: usize,
    /// A new password may not be any of this many most recent ones (the current one included).
    pub history: usize,
    /// Days a password lasts before it must be changed; 0: no expiry.
    pub expiry_days: i64,
    /// Failed sign-ins (or current-password checks) in a row that lock the account.
    pub lockout_attempts: i64,
    /// How long a locked account stays locked, unless an administrator unlocks it.
    pub lockout_minutes: i64,
    /// Minutes of inactivity that end a session.
    pub idle_minutes: i64,
    /// However active, a session ends this many hours after sign-in.
    pub session_hours: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { min_length: 8, classes: 3, history: 5, expiry_days: 90, lockout_attempts: 5, lockout_minutes: 15, idle_minutes: 30, session_hours: 12 }
    }
}

/// The longest password accepted (Argon2 takes any length; a bound keeps a sign-in cheap).
pub const MAX_LENGTH: usize = 128;

/// Words that make a password guessable whatever digits and symbols surround them.
const COMMON_WORDS: &[&str] = &[
    "password", "passwd", "pass", "admin", "administrator", "root", "user", "guest", "test", "welcome", "letmein", "iloveyou",
    "qwerty", "qwertyuiop", "asdf", "asdfgh", "asdfghjkl", "zxcvbn", "zxcvbnm", "abc", "abcd", "abcde", "abcdef", "abcdefg",
    "woaini", "aini", "taizhang", "system", "login", "master", "changeme", "default",
];

/// Whether a run of digits is one a person types without thinking: ascending, descending or
/// one digit repeated.
fn simple_digits(d: &[u8]) -> bool {
    d.len() < 2 || d.windows(2).all(|w| w[1] == w[0]) || d.windows(2).all(|w| w[1] == w[0] + 1) || d.windows(2).all(|w| w[0] == w[1] + 1)
}

/// The four character classes a password may mix, and how many it does.
fn classes_of(password: &str) -> usize {
    let upper = password.chars().any(|c| c.is_uppercase());
    let lower = password.chars().any(|c| c.is_lowercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let other = password.chars().any(|c| !c.is_alphanumeric());
    [upper, lower, digit, other].iter().filter(|b| **b).count()
}

/// Whether the password is a common one: a common word (also written P@ssw0rd) with digits or
/// symbols around it, or at most two letters with a simple run of digits (Aa123456, 12345678!).
fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    // Symbols written for letters inside a word (P@ssw0rd), then also digits (adm1n).
    let fold = |s: &str, digits: bool| -> String {
        s.chars()
            .map(|c| match c {
                '@' => 'a',
                '0' => 'o',
                '3' => 'e',
                '$' => 's',
                '1' | '!' if digits => 'i',
                '4' if digits => 'a',
                '5' if digits => 's',
                c => c,
            })
            .filter(|c| c.is_alphabetic())
            .collect()
    };
    let plain: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    let digits: Vec<u8> = lower.bytes().filter(u8::is_ascii_digit).collect();
    if plain.is_empty() {
        return simple_digits(&digits);
    }
    // Digits and symbols around the word are what people add to it (P@ssw0rd2024!): folded
    // only inside.
    let inner = lower.trim_matches(|c: char| !c.is_alphabetic());
    let variants = [plain.clone(), fold(inner, false), fold(inner, true)];
    if variants.iter().any(|v| COMMON_WORDS.contains(&v.as_str()) || COMMON_WORDS.contains(&v.trim_end_matches('s'))) {
        return true;
    }
    plain.chars().count() <= 2 && simple_digits(&digits)
}

impl Policy {
    /// The policy from the stored settings (`lookup` gives a key's value for all years);
    /// missing or out-of-range values fall back to the defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<i64>) -> Policy {
        let d = Policy::default();
        let get = |key: &str, default: i64| lookup(key).filter(|v| check_value(key, *v).is_ok()).unwrap_or(default);
        Policy {
            min_length: usize::try_from(get(MIN_LENGTH, d.min_length as i64)).unwrap_or(d.min_length),
            classes: usize::try_from(get(CLASSES, d.classes as i64)).unwrap_or(d.classes),
            history: usize::try_from(get(HISTORY, d.history as i64)).unwrap_or(d.history),
            expiry_days: get(EXPIRY_DAYS, d.expiry_days),
            lockout_attempts: get(LOCKOUT_ATTEMPTS, d.lockout_attempts),
            lockout_minutes: get(LOCKOUT_MINUTES, d.lockout_minutes),
            idle_minutes: get(IDLE_MINUTES, d.idle_minutes),
            session_hours: get(SESSION_HOURS, d.session_hours),
        }
    }

    /// The rules in one sentence, for forms.
    pub fn describe(&self) -> String {
        format!(
            "至少 {} 位，包含大写字母、小写字母、数字、符号中的至少 {} 类，不能包含用户名，不能是常见密码，不能与最近 {} 次用过的密码相同{}",
            self.min_length,
            self.classes,
            self.history,
            if self.expiry_days > 0 { format!("；每 {} 天须更换", self.expiry_days) } else { String::new() }
        )
    }

    /// Checks a new password against the rules that need no history: every rule it breaks,
    /// each named, in one Chinese sentence.
    pub fn check(&self, password: &str, username: &str) -> Result<(), String> {
        let mut broken = Vec::new();
        let n = password.chars().count();
        if n < self.min_length {
            broken.push(format!("长度不足：至少 {} 位", self.min_length));
        }
        if n > MAX_LENGTH {
            broken.push(format!("不能超过 {MAX_LENGTH} 位"));
        }
        let classes = classes_of(password);
        if classes < self.classes {
            broken.push(format!("字符种类不足：须包含大写字母、小写字母、数字、符号中的至少 {} 类（现为 {classes} 类）", self.classes));
        }
        let name = username.trim().to_lowercase();
        if name.chars().count() >= 3 {
            let lower = password.to_lowercase();
            let reversed: String = name.chars().rev().collect();
            if lower.contains(&name) || lower.contains(&reversed) {
                broken.push(format!("不能包含用户名「{}」", username.trim()));
            }
        }
        if is_common(password) {
            broken.push("是常见的弱密码（如 password、admin、qwerty 加数字，Aa123456），容易被猜中".into());
        }
        if broken.is_empty() { Ok(()) } else { Err(broken.join("；")) }
    }

    /// Whether a password set at `changed` has expired at `now`.
    pub fn expired(&self, changed: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        match changed {
            Some(t) if self.expiry_days > 0 => now - t > chrono::Duration::days(self.expiry_days),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_naming_the_rule() {
        let p = Policy::default();
        let why = p.check("password1", "wangkj").expect_err("password1");
        assert!(why.contains("字符种类不足") && why.contains("常见的弱密码"), "{why}");
        assert!(p.check("short1A", "wangkj").expect_err("short").contains("至少 8 位"));
        let why = p.check("Wangkj2024", "wangkj").expect_err("user name");
        assert!(why.contains("不能包含用户名「wangkj」"), "{why}");
        assert!(p.check("jkgnaw#2024X", "wangkj").expect_err("reversed").contains("用户名"));
        for weak in ["P@ssw0rd1", "P@ssw0rd2024", "2024!P@ssw0rd", "Adm1n#2024", "Admin@123", "Aa123456", "Qwerty123!", "12345678!A", "Abc@1234"] {
            assert!(p.check(weak, "zhang").is_err(), "{weak}");
        }
        for strong in ["Tz#2024-beidou", "Hs8!kq2mWz", "溆浦Xp7-north"] {
            assert_eq!(p.check(strong, "zhang"), Ok(()), "{strong}");
        }
        // With two classes allowed, a common word is still refused by its own rule.
        let lax = Policy { classes: 2, ..Policy::default() };
        let why = lax.check("password1", "x").expect_err("common");
        assert!(why.contains("常见的弱密码") && !why.contains("字符种类"), "{why}");
    }

    #[test]
    fn the_catalogue_describes_every_policy_setting_with_these_defaults() {
        let all = crate::setting::builtin().expect("settings");
        let stored = |key: &str| -> Option<i64> {
            let def = all.iter().find(|d| d.key == key)?;
            assert_eq!(def.group, GROUP, "{key}");
            assert!(!def.per_year, "{key} holds for all years");
            match def.default_value()? {
                crate::setting::SettingValue::Number(n) => Some(n),
                crate::setting::SettingValue::Text(_) => None,
            }
        };
        for (key, lo, hi) in RANGES {
            let v = stored(key).unwrap_or_else(|| panic!("{key} has a numeric default in catalogue/settings"));
            assert!((*lo..=*hi).contains(&v), "{key}");
        }
        assert_eq!(Policy::from_lookup(stored), Policy::default());
    }

    #[test]
    fn settings_in_range_or_defaults() {
        let p = Policy::from_lookup(|k| match k {
            MIN_LENGTH => Some(12),
            EXPIRY_DAYS => Some(0),
            LOCKOUT_ATTEMPTS => Some(1),
            _ => None,
        });
        assert_eq!(p.min_length, 12);
        assert_eq!(p.expiry_days, 0);
        assert_eq!(p.lockout_attempts, 5, "below the floor: the default");
        assert!(check_value(MIN_LENGTH, 6).is_err());
        assert!(check_value("monitoring_line", -1).is_ok());
        let now = Utc::now();
        assert!(Policy::default().expired(Some(now - chrono::Duration::days(91)), now));
        assert!(!Policy::default().expired(Some(now - chrono::Duration::days(89)), now));
        assert!(!p.expired(Some(now - chrono::Duration::days(900)), now), "0: never");
    }
}

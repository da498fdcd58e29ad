//! The masking policy (脱敏规则): what each reader sees of personal information marked
//! sensitive, and which ledgers a reader may open at all.
//!
//! The policy is data: [`ROLE_POLICIES`] says, per role, how each [`Class`] of sensitive value
//! is shown (in full, masked, or not at all); a role missing from the table gets
//! [`Policy::STRICT`]. Every output of the program — pages, form inputs, the API, the audit
//! views, exports, reports, `explain`, search results — shows a sensitive value only through
//! [`Policy::reveal`]. Documented for users in `docs/personal-data.md`.
//!
//! A masked value cannot be completed from what is shown beside it: a masked ID number keeps
//! its first and last character only (neither region nor birth date), and where it is masked
//! the values derived from it (birth date, age, sex) are not shown either
//! ([`Policy::shows_derived`]). Searching by a sensitive value is exact: the whole value, or —
//! for readers who see the number in full — exactly its last [`SUFFIX_LEN`] characters.

use crate::ledger::{FieldDef, LedgerDef, Sensitivity, SubjectKind, TextFormat};
use crate::registry::Person;
use crate::role::{Actor, Role};

/// How a reader sees a class of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    Full,
    Masked,
    Hidden,
}

/// The classes of sensitive personal information the policy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// 公民身份号码 (the registry's, and fields with `format = "id_number"` marked sensitive).
    IdNumber,
    /// 联系电话 (the registry's, and fields with `format = "phone"` marked sensitive).
    Phone,
    /// 银行账号、社保卡号 and any other number marked `sensitivity = "id_number"`.
    Account,
    /// 健康状况、诊断 (`sensitivity = "health"`).
    Health,
    /// 重点人群 categories, measures and notes (`sensitivity = "key_population"`).
    KeyPopulation,
}

impl Class {
    /// The class of a ledger field's values, `None` for a field not marked sensitive.
    pub fn of_field(f: &FieldDef) -> Option<Class> {
        match f.sensitivity? {
            Sensitivity::IdNumber => Some(match f.format {
                Some(TextFormat::IdNumber) => Class::IdNumber,
                Some(TextFormat::Phone) => Class::Phone,
                _ => Class::Account,
            }),
            Sensitivity::Health => Some(Class::Health),
            Sensitivity::KeyPopulation => Some(Class::KeyPopulation),
        }
    }

    /// Identifiers (ID numbers, phones, accounts) as opposed to special categories (health,
    /// 重点人群).
    pub fn is_identifier(self) -> bool {
        matches!(self, Class::IdNumber | Class::Phone | Class::Account)
    }

    pub fn label(self) -> &'static str {
        match self {
            Class::IdNumber => "公民身份号码",
            Class::Phone => "联系电话",
            Class::Account => "银行账号等号码",
            Class::Health => "健康信息",
            Class::KeyPopulation => "重点人群信息",
        }
    }
}

/// What one reader sees: identifiers (ID numbers, phones, accounts) and special categories
/// (health, 重点人群).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Policy {
    pub identifiers: Treatment,
    pub special: Treatment,
}

/// The policy by role. A role not listed (one added later) gets [`Policy::STRICT`] until it is
/// listed here: nothing is revealed by default.
pub const ROLE_POLICIES: &[(Role, Policy)] = &[
    // 管理员 and 业务员 register persons and import rosters: they work with whole numbers.
    (Role::Admin, Policy::FULL),
    (Role::Clerk, Policy::FULL),
    // 领导 and 村干部 read and sign off: numbers masked, the case itself in full.
    (Role::Leader, Policy::MASKED),
    (Role::VillageCadre, Policy::MASKED),
];

impl Policy {
    /// Everything as stored: the console operator, and roles that work with whole numbers.
    pub const FULL: Policy = Policy { identifiers: Treatment::Full, special: Treatment::Full };
    /// Numbers masked, health and 重点人群 fields in full.
    pub const MASKED: Policy = Policy { identifiers: Treatment::Masked, special: Treatment::Full };
    /// Numbers masked, health and 重点人群 fields not shown: a role the table does not list.
    pub const STRICT: Policy = Policy { identifiers: Treatment::Masked, special: Treatment::Hidden };
    /// Documents (reports, summaries, `explain`): no sensitive field at all.
    pub const DOCUMENT: Policy = Policy { identifiers: Treatment::Hidden, special: Treatment::Hidden };

    pub fn for_role(role: Role) -> Policy {
        ROLE_POLICIES.iter().find(|(r, _)| *r == role).map_or(Policy::STRICT, |(_, p)| *p)
    }

    /// The console operator and the demo builder see everything; a user by their role.
    pub fn for_actor(actor: &Actor) -> Policy {
        match actor {
            Actor::System | Actor::Demo => Policy::FULL,
            Actor::User { role, .. } => Policy::for_role(*role),
        }
    }

    pub fn treatment(&self, class: Class) -> Treatment {
        if class.is_identifier() { self.identifiers } else { self.special }
    }

    /// How this reader sees a ledger field (`Full` for a field not marked sensitive).
    pub fn field(&self, f: &FieldDef) -> Treatment {
        Class::of_field(f).map_or(Treatment::Full, |c| self.treatment(c))
    }

    /// **The one place a sensitive value becomes output.** `None`: the reader may not see it
    /// at all (leave it out); otherwise the text to show (masked where the policy says).
    pub fn reveal(&self, class: Class, text: &str) -> Option<String> {
        match self.treatment(class) {
            Treatment::Full => Some(text.to_string()),
            Treatment::Masked if text.is_empty() => Some(String::new()),
            Treatment::Masked => Some(mask(class, text)),
            Treatment::Hidden => None,
        }
    }

    /// A ledger field's value as shown: unmarked fields unchanged, marked ones through
    /// [`Policy::reveal`].
    pub fn reveal_field(&self, f: &FieldDef, text: &str) -> Option<String> {
        match Class::of_field(f) {
            Some(c) => self.reveal(c, text),
            None => Some(text.to_string()),
        }
    }

    /// Whether values derived from an ID number (birth date, age, sex) may be shown: only
    /// where the number itself is shown in full.
    pub fn shows_derived(&self) -> bool {
        self.identifiers == Treatment::Full
    }

    /// Whether a search may name the last [`SUFFIX_LEN`] characters of an ID number instead of
    /// the whole: only for readers who see numbers in full (for the others, searching by
    /// endings would give back the masked digits one query at a time).
    pub fn may_search_by_suffix(&self) -> bool {
        self.identifiers == Treatment::Full
    }
}

impl Policy {
    /// A person as this reader sees them: ID number and phone through [`Policy::reveal`],
    /// birth date and sex (read from the number) only where the number is shown in full.
    pub fn person(&self, p: &Person) -> PersonView {
        let derived = self.shows_derived();
        PersonView {
            id_number: self.reveal(Class::IdNumber, &p.id_number).unwrap_or_default(),
            phone: self.reveal(Class::Phone, &p.phone).unwrap_or_default(),
            birth: derived.then_some(p.birth_date),
            sex: derived.then_some(p.sex),
        }
    }

    /// A person's stored JSON (an audit entry's `before` or `after`) as this reader may see it.
    pub fn redact_person_json(&self, v: &mut serde_json::Value) {
        let Some(m) = v.as_object_mut() else { return };
        for (key, class) in [("id_number", Class::IdNumber), ("phone", Class::Phone)] {
            if let Some(text) = m.get(key).and_then(|t| t.as_str()).map(str::to_string) {
                match self.reveal(class, &text) {
                    Some(t) => m.insert(key.to_string(), serde_json::Value::String(t)),
                    None => m.remove(key),
                };
            }
        }
        if !self.shows_derived() {
            m.remove("birth_date");
            m.remove("birth");
            m.remove("sex");
        }
    }

    /// An audit entry's `before` or `after` about `entity` (`persons`, or a ledger's table
    /// `ld_<key>` among `defs`) as this reader may see it; other entities are left as stored.
    pub fn redact_entry_json(&self, defs: &[LedgerDef], entity: &str, v: &mut serde_json::Value) {
        if entity == "persons" {
            self.redact_person_json(v);
        } else if entity == "cadres" {
            // A cadre's own phone (their birth date is their own field, not read from a number).
            if let Some(m) = v.as_object_mut() {
                if let Some(text) = m.get("phone").and_then(|t| t.as_str()).map(str::to_string) {
                    m.insert("phone".into(), serde_json::Value::String(self.reveal(Class::Phone, &text).unwrap_or_default()));
                }
            }
        } else if let Some(def) = defs.iter().find(|d| d.table_name() == entity) {
            self.redact_record_json(def, v);
        }
    }

    /// A record's stored JSON (`{"values": {…}, …}`, an audit entry's `before` or `after`) as
    /// this reader may see it: each marked field through [`Policy::reveal_field`].
    pub fn redact_record_json(&self, def: &LedgerDef, v: &mut serde_json::Value) {
        let Some(values) = v.get_mut("values").and_then(|x| x.as_object_mut()) else { return };
        for f in &def.fields {
            if Class::of_field(f).is_none() {
                continue;
            }
            let Some(current) = values.get(&f.key) else { continue };
            let text = match current {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("、"),
                other => other.to_string(),
            };
            match self.reveal_field(f, &text) {
                Some(shown) if shown == text => {}
                Some(shown) => {
                    values.insert(f.key.clone(), serde_json::Value::String(shown));
                }
                None => {
                    values.remove(&f.key);
                }
            }
        }
    }
}

/// What a reader sees of a person's identifying values.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PersonView {
    pub id_number: String,
    pub phone: String,
    /// `None` where the ID number is masked.
    pub birth: Option<chrono::NaiveDate>,
    pub sex: Option<crate::idcard::Sex>,
}

/// How many trailing characters of an ID number a search may name instead of the whole.
pub const SUFFIX_LEN: usize = 6;

/// What a masked value looks like: an ID number keeps its first and last character
/// (`4****************4`: no region, no birth date), a phone its first 3 and last 4 digits
/// (`138****5678`; a shorter number only its last 2), an account its last 4; health and
/// 重点人群 values are not shown at all. The length is kept, so a reader sees that a value is
/// there and how long it is.
pub fn mask(class: Class, text: &str) -> String {
    let chars: Vec<char> = text.trim().chars().collect();
    let n = chars.len();
    let (head, tail) = match class {
        Class::IdNumber => (1, 1),
        Class::Phone if n >= 11 => (3, 4),
        Class::Phone => (0, 2),
        Class::Account => (0, 4),
        Class::Health | Class::KeyPopulation => return "***".to_string(),
    };
    // Too short to hide anything while keeping both ends: hide it all.
    if n <= head + tail + 2 {
        return "*".repeat(n);
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// Whether documents (reports, summaries, `explain`, record summaries) show a field:
/// [`Policy::DOCUMENT`] shows no field marked sensitive.
pub fn in_documents(f: &FieldDef) -> bool {
    Policy::DOCUMENT.field(f) != Treatment::Hidden
}

/// Ledgers of special categories (健康, 重点人群): a field marked `health` or
/// `key_population`. A 业务员 reads them only when assigned ([`may_read_ledger`]).
pub fn is_special(def: &LedgerDef) -> bool {
    def.fields.iter().any(|f| matches!(f.sensitivity, Some(Sensitivity::Health | Sensitivity::KeyPopulation)))
}

/// Ledgers whose records, when output, leave a read entry in the audit trail: a field marked
/// sensitive (any class), or a person as subject (shown with their ID number).
pub fn reads_audited(def: &LedgerDef) -> bool {
    def.subject == SubjectKind::Person || def.fields.iter().any(|f| f.sensitivity.is_some())
}

/// Least privilege for reading: a 业务员 reads a special-category ledger only when it is
/// assigned to them; a role whose policy hides special categories never reads one; everyone
/// else reads every ledger (within their place).
pub fn may_read_ledger(role: Role, assigned: &[String], def: &LedgerDef) -> bool {
    if !is_special(def) {
        return true;
    }
    if Policy::for_role(role).special == Treatment::Hidden {
        return false;
    }
    match role {
        Role::Clerk => assigned.contains(&def.key),
        _ => true,
    }
}

/// Whether a list keyword matches a value: a sensitive identifier only when the keyword is the
/// whole stored value (never a part of it, masked or not); a value the reader may not see
/// never; anything else when the text the reader sees contains the keyword.
pub fn keyword_matches(policy: &Policy, f: &FieldDef, stored: &str, keyword: &str) -> bool {
    let keyword = keyword.trim();
    if keyword.is_empty() {
        return false;
    }
    match Class::of_field(f) {
        Some(c) if c.is_identifier() => crate::ident::clean(keyword).eq_ignore_ascii_case(stored.trim()),
        Some(c) => policy.treatment(c) == Treatment::Full && stored.contains(keyword),
        None => stored.contains(keyword),
    }
}

/// What a search text asks for, by the rule for sensitive values: an ID number is found only
/// by the whole number, or (readers who see numbers in full) by exactly its last
/// [`SUFFIX_LEN`] characters; never by a part in the middle, never by wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSearch {
    /// Not a number: search names.
    Name(String),
    /// The whole number (normalised: full-width folded, spaces removed, x upper-cased).
    Whole(String),
    /// The last [`SUFFIX_LEN`] characters.
    Suffix(String),
    /// A number that is neither: refused, with the reason to show.
    Refused(String),
}

pub fn id_search(policy: &Policy, text: &str) -> IdSearch {
    let cleaned = crate::ident::clean(text).to_uppercase();
    let numeric = !cleaned.is_empty() && cleaned.chars().any(|c| c.is_ascii_digit()) && cleaned.chars().all(|c| c.is_ascii_digit() || c == 'X');
    if !numeric {
        return IdSearch::Name(text.trim().to_string());
    }
    match cleaned.len() {
        15 | 18 => IdSearch::Whole(cleaned),
        n if n == SUFFIX_LEN && policy.may_search_by_suffix() => IdSearch::Suffix(cleaned),
        _ if policy.may_search_by_suffix() => {
            IdSearch::Refused(format!("按身份证号查人，请输入完整的 18 位号码，或号码的末 {SUFFIX_LEN} 位"))
        }
        _ => IdSearch::Refused("按身份证号查人，请输入完整的 18 位号码（脱敏显示的号码不能按其中几位查询）".into()),
    }
}

impl Policy {
    /// Free text written by the program (an audit entry's note, a warning) as this reader may
    /// see it: every ID number in it (18 characters with a valid check character) through
    /// [`Policy::reveal`]. Other numbers (户编号, amounts) are left as they are.
    pub fn text(&self, text: &str) -> String {
        if self.identifiers == Treatment::Full {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < chars.len() {
            let starts_run = chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
            if starts_run && i + 18 <= chars.len() {
                let first17: String = chars[i..i + 17].iter().collect();
                let last = chars[i + 17].to_ascii_uppercase();
                let ends = i + 18 == chars.len() || !chars[i + 18].is_ascii_alphanumeric();
                let valid = ends && first17.chars().all(|c| c.is_ascii_digit()) && crate::idcard::check_character(&first17) == Some(last);
                let candidate: String = chars[i..i + 18].iter().collect();
                if valid {
                    out.push_str(&self.reveal(Class::IdNumber, &candidate).unwrap_or_default());
                    i += 18;
                    continue;
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }
}

/// Runs of 6 or more digits (an X included) in free text — a search or filter written into the
/// audit trail — masked as ID numbers are, so the trail does not become a copy of them.
pub fn mask_numbers_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 6 {
            out.push_str(&mask(Class::IdNumber, run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || ((c == 'X' || c == 'x') && !run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_reveal_neither_region_nor_birth() {
        let m = mask(Class::IdNumber, "431224198001050012");
        assert_eq!(m, "4****************2");
        assert!(!m.contains("4312") && !m.contains("1980") && !m.contains("0105"));
        assert_eq!(mask(Class::IdNumber, "43122419800105001X"), "4****************X");
        assert_eq!(mask(Class::Phone, "13807451234"), "138****1234");
        assert_eq!(mask(Class::Phone, "07451234567"), "074****4567");
        assert_eq!(mask(Class::Phone, "8123456"), "*****56");
        assert_eq!(mask(Class::Account, "6217001234567890123"), "***************0123");
        assert_eq!(mask(Class::Account, "123456"), "******");
        assert_eq!(mask(Class::IdNumber, "123"), "***");
        assert_eq!(mask(Class::Health, "精神分裂症"), "***");
    }

    #[test]
    fn policy_by_role_and_default() {
        assert_eq!(Policy::for_role(Role::Clerk), Policy::FULL);
        assert_eq!(Policy::for_role(Role::Leader).reveal(Class::IdNumber, "431224198001050012").as_deref(), Some("4****************2"));
        assert_eq!(Policy::for_role(Role::VillageCadre).reveal(Class::Health, "x").as_deref(), Some("x"));
        assert_eq!(Policy::STRICT.reveal(Class::KeyPopulation, "x"), None);
        assert_eq!(Policy::DOCUMENT.reveal(Class::Phone, "13807451234"), None);
        assert!(Policy::FULL.shows_derived() && !Policy::MASKED.shows_derived());
        assert!(!Policy::MASKED.may_search_by_suffix());
        assert_eq!(Policy::for_actor(&Actor::System), Policy::FULL);
    }

    #[test]
    fn searching_by_number_is_exact() {
        assert_eq!(id_search(&Policy::MASKED, "张三"), IdSearch::Name("张三".into()));
        assert_eq!(id_search(&Policy::MASKED, " 43122419800105001x "), IdSearch::Whole("43122419800105001X".into()));
        assert!(matches!(id_search(&Policy::MASKED, "050012"), IdSearch::Refused(_)));
        assert_eq!(id_search(&Policy::FULL, "050012"), IdSearch::Suffix("050012".into()));
        assert!(matches!(id_search(&Policy::FULL, "95702194"), IdSearch::Refused(_)));
        assert_eq!(id_search(&Policy::FULL, "%95702194%"), IdSearch::Name("%95702194%".into()));
    }

    #[test]
    fn id_numbers_in_notes_are_masked_for_masked_readers() {
        let number = format!("43122419800105001{}", crate::idcard::check_character("43122419800105001").unwrap_or('0'));
        let note = format!("15 位旧身份证号已转换为 18 位：{number}；加入户 4312241102020001");
        let masked = format!("15 位旧身份证号已转换为 18 位：4****************{}；加入户 4312241102020001", &number[17..]);
        assert_eq!(Policy::MASKED.text(&note), masked);
        assert_eq!(Policy::FULL.text(&note), note);
    }

    #[test]
    fn numbers_in_text_are_masked() {
        assert_eq!(mask_numbers_in("关键词=431224198001050012 期间=2023"), "关键词=4****************2 期间=2023");
        assert_eq!(mask_numbers_in("第 12 号"), "第 12 号");
    }
}

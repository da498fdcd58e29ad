//! The built-in catalogue: definition files compiled into the binary from `catalogue/`.

use crate::error::DomainError;
use crate::ledger::{LedgerDef, RefTarget};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalogue_files.rs"));
}

/// Every embedded file as `(path under catalogue/, bytes)`, sorted by path.
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    embedded::FILES
}

/// Embedded text files whose path starts with `prefix` (e.g. `ledgers/`).
pub fn text_files(prefix: &str) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    files()
        .iter()
        .filter(move |(p, _)| p.starts_with(prefix))
        .filter_map(|(p, b)| std::str::from_utf8(b).ok().map(|t| (*p, t)))
}

/// Loads and checks every built-in ledger definition.
pub fn builtin_ledgers() -> Result<Vec<LedgerDef>, DomainError> {
    let mut defs = Vec::new();
    for (path, text) in text_files("ledgers/").filter(|(p, _)| p.ends_with(".toml")) {
        let def = LedgerDef::from_toml(text)
            .map_err(|e| DomainError::Definition(format!("{path}：{e}")))?;
        defs.push(def);
    }
    check_set(&defs)?;
    Ok(defs)
}

/// Rules across definitions: unique keys, references to ledgers that exist.
pub fn check_set(defs: &[LedgerDef]) -> Result<(), DomainError> {
    let mut keys = std::collections::HashSet::new();
    for d in defs {
        if !keys.insert(d.key.as_str()) {
            return Err(DomainError::Definition(format!("台账键「{}」重复", d.key)));
        }
    }
    for d in defs {
        for f in &d.fields {
            if let Some(RefTarget::Ledger(k)) = &f.target {
                if !keys.contains(k.as_str()) {
                    return Err(DomainError::Definition(format!(
                        "台账「{}」的字段「{}」关联了不存在的台账「{k}」",
                        d.key, f.label
                    )));
                }
            }
        }
    }
    Ok(())
}

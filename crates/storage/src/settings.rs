//! Settings (参数): *local* figures such as the year's monitoring income line, kept per year
//! (or under year 0 for all years). Numbers are integers (分, a scaled decimal, 1/0); words are
//! kept in `text_value`. What each key means is `taizhang_domain::setting`.

use serde::Serialize;
use taizhang_domain::role::Actor;
use taizhang_domain::setting::{SettingDef, SettingValue, ALL_YEARS};
use taizhang_domain::workflow::Settings;

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::Result;
use crate::sql::Arg;

/// Sets a number (for callers that know the key's kind: tests, the demo's data).
pub async fn set(tx: &mut Tx, actor: &Actor, key: &str, year: i32, value: i64) -> Result<()> {
    write(tx, actor, key, key, year, &SettingValue::Number(value)).await
}

/// Sets a setting described by `def` (its label goes into the audit), for `year` when it is
/// kept per year.
pub async fn set_value(tx: &mut Tx, actor: &Actor, def: &SettingDef, year: i32, value: &SettingValue) -> Result<()> {
    let year = if def.per_year { year } else { ALL_YEARS };
    write(tx, actor, &def.key, &def.label, year, value).await
}

async fn write(tx: &mut Tx, actor: &Actor, key: &str, label: &str, year: i32, value: &SettingValue) -> Result<()> {
    let before = get_value(tx, key, year).await?;
    let (number, text) = match value {
        SettingValue::Number(n) => (*n, None),
        SettingValue::Text(t) => (0, Some(t.clone())),
    };
    tx.exec(
        "INSERT INTO settings (key, year, value, text_value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key, year) DO UPDATE SET value = excluded.value, text_value = excluded.text_value",
        &[key.into(), Arg::Int(year.into()), Arg::Int(number), text.into()],
    )
    .await?;
    let entry = |v: &SettingValue| serde_json::json!({ "key": key, "label": label, "year": year, "value": v });
    audit::append(
        tx,
        actor,
        Change {
            action: if before.is_some() { "update" } else { "create" },
            entity: "settings",
            entity_id: None,
            // Settings hold for the whole database; the entry lies at the place of the user who
            // changed them, so the administrators of that place see it on their audit page.
            place_id: match actor {
                Actor::User { place_id, .. } => Some(*place_id),
                Actor::System | Actor::Demo => None,
            },
            before: before.as_ref().map(entry),
            after: Some(entry(value)),
            note: label,
        },
    )
    .await
}

pub async fn get(tx: &mut Tx, key: &str, year: i32) -> Result<Option<i64>> {
    Ok(tx
        .fetch_opt("SELECT value FROM settings WHERE key = $1 AND year = $2", &[key.into(), Arg::Int(year.into())])
        .await?
        .map(|r| r.int(0)))
}

/// The values of every key starting with `prefix` for `year` (a report's targets, `target:`, in
/// one query rather than one per indicator).
pub async fn with_prefix(tx: &mut Tx, prefix: &str, year: i32) -> Result<std::collections::HashMap<String, i64>> {
    let rows = tx
        .fetch(
            "SELECT key, value FROM settings WHERE SUBSTR(key, 1, LENGTH($1)) = $1 AND year = $2",
            &[prefix.into(), Arg::Int(year.into())],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.text(0), r.int(1))).collect())
}

pub async fn get_value(tx: &mut Tx, key: &str, year: i32) -> Result<Option<SettingValue>> {
    Ok(tx
        .fetch_opt("SELECT value, text_value FROM settings WHERE key = $1 AND year = $2", &[key.into(), Arg::Int(year.into())])
        .await?
        .map(|r| r.opt_text(1).map_or(SettingValue::Number(r.int(0)), SettingValue::Text)))
}

/// The value in force for `year`: the year's own, else the one for all years, else the
/// definition's default.
pub async fn effective(tx: &mut Tx, def: &SettingDef, year: i32) -> Result<Option<SettingValue>> {
    if def.per_year {
        if let Some(v) = get_value(tx, &def.key, year).await? {
            return Ok(Some(v));
        }
    }
    Ok(get_value(tx, &def.key, ALL_YEARS).await?.or_else(|| def.default_value()))
}

/// One stored value, for listings.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StoredSetting {
    pub key: String,
    /// 0 for a setting kept for all years.
    pub year: i32,
    pub value: SettingValue,
}

pub async fn list(tx: &mut Tx) -> Result<Vec<StoredSetting>> {
    Ok(tx
        .fetch("SELECT key, year, value, text_value FROM settings ORDER BY key, year", &[])
        .await?
        .into_iter()
        .map(|r| StoredSetting {
            key: r.text(0),
            year: i32::try_from(r.int(1)).unwrap_or_default(),
            value: r.opt_text(3).map_or(SettingValue::Number(r.int(2)), SettingValue::Text),
        })
        .collect())
}

/// Every numeric setting, for the workflow guards.
pub async fn all(tx: &mut Tx) -> Result<Settings> {
    Ok(tx
        .fetch("SELECT key, year, value FROM settings WHERE text_value IS NULL ORDER BY key, year", &[])
        .await?
        .into_iter()
        .map(|r| ((r.text(0), i32::try_from(r.int(1)).unwrap_or_default()), r.int(2)))
        .collect())
}

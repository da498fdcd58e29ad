//! Settings (参数): *local* figures such as the year's monitoring income line, kept per year.

use taizhang_domain::role::Actor;
use taizhang_domain::workflow::Settings;

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::Result;
use crate::sql::Arg;

pub async fn set(tx: &mut Tx, actor: &Actor, key: &str, year: i32, value: i64) -> Result<()> {
    let before = get(tx, key, year).await?;
    tx.exec(
        "INSERT INTO settings (key, year, value) VALUES ($1, $2, $3)
         ON CONFLICT (key, year) DO UPDATE SET value = excluded.value",
        &[key.into(), Arg::Int(year.into()), Arg::Int(value)],
    )
    .await?;
    audit::append(
        tx,
        actor,
        Change {
            action: if before.is_some() { "update" } else { "create" },
            entity: "settings",
            entity_id: None,
            place_id: None,
            before: before.map(|v| serde_json::json!({ "key": key, "year": year, "value": v })),
            after: Some(serde_json::json!({ "key": key, "year": year, "value": value })),
            note: "",
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

pub async fn all(tx: &mut Tx) -> Result<Settings> {
    Ok(tx
        .fetch("SELECT key, year, value FROM settings ORDER BY key, year", &[])
        .await?
        .into_iter()
        .map(|r| ((r.text(0), i32::try_from(r.int(1)).unwrap_or_default()), r.int(2)))
        .collect())
}

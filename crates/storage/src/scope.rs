//! Confinement (数据范围): a user sees a place and everything under it, nothing else.
//! Every repository query that returns or changes registry data or records takes a `Scope`.

use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::sql::Arg;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Materialised path prefix of the place the user is confined to; `/` for everything.
    pub path: String,
}

impl Scope {
    /// The console operator's scope: everything in the database.
    pub fn all() -> Scope {
        Scope { path: "/".into() }
    }

    pub async fn of_place(tx: &mut Tx, place_id: i64) -> Result<Scope> {
        let row = tx
            .fetch_opt("SELECT path FROM places WHERE id = $1", &[Arg::Int(place_id)])
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("地点（编号 {place_id}）不存在")))?;
        Ok(Scope { path: row.text(0) })
    }

    /// A SQL condition that `place_col` lies in scope, using parameter `$n`.
    pub fn condition(&self, place_col: &str, n: usize) -> String {
        format!("{place_col} IN (SELECT id FROM places WHERE path LIKE ${n})")
    }

    /// The parameter for [`Scope::condition`].
    pub fn arg(&self) -> Arg {
        Arg::Text(format!("{}%", self.path))
    }

    pub async fn contains_place(&self, tx: &mut Tx, place_id: i64) -> Result<bool> {
        let row = tx.fetch_opt("SELECT path FROM places WHERE id = $1", &[Arg::Int(place_id)]).await?;
        Ok(row.is_some_and(|r| r.text(0).starts_with(&self.path)))
    }

    /// Fails with "not found" (never "forbidden") so that ids outside scope reveal nothing.
    pub async fn require_place(&self, tx: &mut Tx, place_id: i64, what: &str) -> Result<()> {
        if self.contains_place(tx, place_id).await? {
            Ok(())
        } else {
            Err(StoreError::NotFound(format!("{what}不存在或不在您的管辖范围内")))
        }
    }
}

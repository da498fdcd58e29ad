//! What every command works with: the database, who acts, what they may see, and today.

use anyhow::Context as _;
use chrono::NaiveDate;
use taizhang_domain::role::Actor;
use taizhang_storage::{users, Db, Scope};

pub struct Ctx {
    pub db: Db,
    pub actor: Actor,
    pub scope: Scope,
    pub today: NaiveDate,
}

impl Ctx {
    /// Opens the database (migrating it, installing or upgrading the built-in ledgers) and
    /// resolves `--as USER`.
    pub async fn open(target: &str, as_user: Option<&str>) -> anyhow::Result<Ctx> {
        let db = Db::open(target).await?;
        let defs = taizhang_domain::catalogue::builtin_ledgers()?;
        let mut tx = db.begin().await?;
        taizhang_storage::ledgers::install_builtin(&mut tx, &Actor::System, &defs).await?;
        tx.commit().await?;
        let (actor, scope) = match as_user {
            None => (Actor::System, Scope::all()),
            Some(name) => {
                let mut tx = db.read().await?;
                let user = users::by_name(&mut tx, name)
                    .await?
                    .with_context(|| format!("用户「{name}」不存在"))?;
                if user.disabled {
                    anyhow::bail!("用户「{name}」已停用");
                }
                let scope = Scope::of_place(&mut tx, user.place_id).await?;
                (user.actor(), scope)
            }
        };
        Ok(Ctx { db, actor, scope, today: chrono::Local::now().date_naive() })
    }
}

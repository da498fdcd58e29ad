//! `serve` (the web application) and `user …` (its sign-in accounts, the three administrators
//! of 三员分立 among them).

use std::io::BufRead;

use taizhang_domain::role::{Actor, Role};
use taizhang_domain::security::Policy;
use taizhang_storage::users::{self, NewUser, User};
use taizhang_storage::{places, sessions, Tx};
use taizhang_web::auth::hash_password;
use taizhang_web::WebConfig;

use super::print_json;
use crate::args::UserCmd;
use crate::context::Ctx;

pub async fn serve(ctx: &Ctx, listen: &str, config: WebConfig) -> anyhow::Result<()> {
    taizhang_web::serve(ctx.db.clone(), listen, config).await
}

/// The password from `--password`, else one line of standard input, checked against the
/// security policy (and the user name).
fn password(given: Option<String>, policy: &Policy, username: &str) -> anyhow::Result<String> {
    let p = match given {
        Some(p) => p,
        None => {
            eprintln!("请输入密码（{}），回车结束：", policy.describe());
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    policy.check(&p, username).map_err(|e| anyhow::anyhow!("「密码」{e}"))?;
    Ok(p)
}

async fn policy(ctx: &Ctx) -> anyhow::Result<Policy> {
    let mut tx = ctx.db.read().await?;
    Ok(taizhang_web::auth::policy(&mut tx).await?)
}

/// The account `username`, as `ctx`'s operator may keep it: with `--as`, only an account placed
/// within that user's scope (a town's administrator never changes a county's or another town's
/// account; one outside is "not found", as on the web) and not a 安全管理员's or 审计管理员's,
/// which only the console keeps (三员分立).
async fn named(ctx: &Ctx, tx: &mut Tx, username: &str) -> anyhow::Result<User> {
    let missing = || anyhow::anyhow!("用户「{username}」不存在");
    let u = users::by_name(tx, username).await?.ok_or_else(missing)?;
    if matches!(ctx.actor, Actor::User { .. }) {
        if !ctx.scope.contains_place(tx, u.place_id).await? {
            return Err(missing());
        }
        if u.role.is_officer() {
            anyhow::bail!("{}的账号只能由系统操作员在服务器上管理（不加 --as）", u.role.label());
        }
    }
    Ok(u)
}

/// With `--as`, the account commands act as that user would on the users page: only a 系统管理员
/// keeps accounts (三员分立), business roles only. Without `--as` the console keeps every account.
fn may_keep_accounts(ctx: &Ctx, role: Option<Role>) -> anyhow::Result<()> {
    let Actor::User { role: acting, .. } = &ctx.actor else { return Ok(()) };
    if *acting != Role::Admin {
        anyhow::bail!("只有系统管理员可以管理账号，{}不能", acting.label());
    }
    if let Some(r) = role.filter(|r| r.is_officer()) {
        anyhow::bail!("{}的账号只能由系统操作员在服务器上新增或设置（不加 --as）", r.label());
    }
    Ok(())
}

fn role_of(text: &str) -> anyhow::Result<Role> {
    Role::parse(text).ok_or_else(|| anyhow::anyhow!("「角色」应为 admin（系统管理员）、security_admin（安全管理员）、audit_admin（审计管理员）、leader、clerk 或 village_cadre，而不是「{text}」"))
}

pub async fn user(ctx: &Ctx, cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add { username, role, place, ledgers, name, password: given } => {
            let role = role_of(&role)?;
            may_keep_accounts(ctx, Some(role))?;
            let policy = policy(ctx).await?;
            let hash = hash_password(&password(given, &policy, &username)?).map_err(anyhow::Error::msg)?;
            let mut tx = ctx.db.begin().await?;
            let place = places::resolve(&mut tx, &ctx.scope, &place).await?;
            for k in &ledgers {
                taizhang_storage::ledgers::get(&mut tx, k).await?;
            }
            let u = users::create(
                &mut tx,
                &ctx.actor,
                NewUser {
                    username: &username,
                    display_name: name.as_deref().unwrap_or(""),
                    password_hash: &hash,
                    role,
                    place_id: place.id,
                    ledgers,
                    must_change_password: true,
                },
            )
            .await?;
            tx.commit().await?;
            println!("已新增用户 {}（{}，管辖 {}），首次登录须修改密码", u.username, role.label(), place.name);
        }
        UserCmd::Passwd { username, password: given } => {
            may_keep_accounts(ctx, None)?;
            let policy = policy(ctx).await?;
            let hash = hash_password(&password(given, &policy, &username)?).map_err(anyhow::Error::msg)?;
            let mut tx = ctx.db.begin().await?;
            let u = named(ctx, &mut tx, &username).await?;
            users::set_password(&mut tx, &ctx.actor, u.id, &hash, true).await?;
            sessions::delete_for_user(&mut tx, u.id, None).await?;
            tx.commit().await?;
            println!("已重置 {} 的密码；其已登录的会话已失效，下次登录须修改密码", u.username);
        }
        UserCmd::List { json } => {
            let mut tx = ctx.db.read().await?;
            let mut list = Vec::new();
            for u in users::list(&mut tx).await? {
                // With `--as`, the accounts within that user's scope, as on the users page.
                if ctx.scope.contains_place(&mut tx, u.place_id).await? {
                    list.push(u);
                }
            }
            if json {
                return print_json(&list);
            }
            let now = taizhang_storage::now();
            for u in &list {
                let place = places::get(&mut tx, u.place_id).await.map(|p| p.name).unwrap_or_default();
                let state = if u.disabled {
                    "停用".to_string()
                } else if u.locked_at(now) {
                    format!("锁定至 {}", u.locked_until.map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default())
                } else {
                    "正常".to_string()
                };
                println!("{}\t{}\t{}\t{}\t{}\t{state}", u.username, u.display_name, u.role.label(), place, u.ledgers.join(","));
            }
            println!("共 {} 个用户", list.len());
        }
        UserCmd::Role { username, role, ledgers } => {
            let role = role_of(&role)?;
            may_keep_accounts(ctx, Some(role))?;
            let mut tx = ctx.db.begin().await?;
            let u = named(ctx, &mut tx, &username).await?;
            for k in &ledgers {
                taizhang_storage::ledgers::get(&mut tx, k).await?;
            }
            users::set_role(&mut tx, &ctx.actor, u.id, role, if role == Role::Clerk { ledgers } else { Vec::new() }).await?;
            // The sessions of the old role end: the next sign-in has the new one.
            sessions::delete_for_user(&mut tx, u.id, None).await?;
            tx.commit().await?;
            println!("已将 {} 的角色由{}改为{}；其已登录的会话已失效", u.username, u.role.label(), role.label());
        }
        UserCmd::Disable { username } => {
            may_keep_accounts(ctx, None)?;
            let mut tx = ctx.db.begin().await?;
            let u = named(ctx, &mut tx, &username).await?;
            users::set_disabled(&mut tx, &ctx.actor, u.id, true).await?;
            sessions::delete_for_user(&mut tx, u.id, None).await?;
            tx.commit().await?;
            println!("已停用 {}；其已登录的会话已失效", u.username);
        }
        UserCmd::Enable { username } => {
            may_keep_accounts(ctx, None)?;
            let mut tx = ctx.db.begin().await?;
            let u = named(ctx, &mut tx, &username).await?;
            users::set_disabled(&mut tx, &ctx.actor, u.id, false).await?;
            tx.commit().await?;
            println!("已启用 {}", u.username);
        }
        UserCmd::Unlock { username } => {
            may_keep_accounts(ctx, None)?;
            let mut tx = ctx.db.begin().await?;
            let u = named(ctx, &mut tx, &username).await?;
            users::unlock(&mut tx, &ctx.actor, u.id).await?;
            tx.commit().await?;
            println!("已解除 {} 的锁定", u.username);
        }
    }
    Ok(())
}

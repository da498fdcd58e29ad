//! `serve` (the web application) and `user …` (its sign-in accounts).

use std::io::BufRead;

use taizhang_domain::role::Role;
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::{places, sessions};
use taizhang_web::auth::{check_policy, hash_password};
use taizhang_web::WebConfig;

use super::print_json;
use crate::args::UserCmd;
use crate::context::Ctx;

pub async fn serve(ctx: &Ctx, listen: &str, secure_cookie: bool, idle_minutes: i64) -> anyhow::Result<()> {
    let config = WebConfig { secure_cookie, idle_minutes: idle_minutes.max(1), demo: false };
    taizhang_web::serve(ctx.db.clone(), listen, config).await
}

/// The password from `--password`, else one line of standard input.
fn password(given: Option<String>) -> anyhow::Result<String> {
    let p = match given {
        Some(p) => p,
        None => {
            eprintln!("请输入密码（至少 8 位，含字母和数字），回车结束：");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    check_policy(&p).map_err(|e| anyhow::anyhow!("「密码」{e}"))?;
    Ok(p)
}

pub async fn user(ctx: &Ctx, cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add { username, role, place, ledgers, name, password: given } => {
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("「角色」应为 admin、leader、clerk 或 village_cadre，而不是「{role}」"))?;
            let hash = hash_password(&password(given)?).map_err(anyhow::Error::msg)?;
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
            let hash = hash_password(&password(given)?).map_err(anyhow::Error::msg)?;
            let mut tx = ctx.db.begin().await?;
            let u = users::by_name(&mut tx, &username).await?.ok_or_else(|| anyhow::anyhow!("用户「{username}」不存在"))?;
            users::set_password(&mut tx, &ctx.actor, u.id, &hash, true).await?;
            sessions::delete_for_user(&mut tx, u.id, None).await?;
            tx.commit().await?;
            println!("已重置 {} 的密码；其已登录的会话已失效，下次登录须修改密码", u.username);
        }
        UserCmd::List { json } => {
            let mut tx = ctx.db.read().await?;
            let list = users::list(&mut tx).await?;
            if json {
                return print_json(&list);
            }
            for u in &list {
                let place = places::get(&mut tx, u.place_id).await.map(|p| p.name).unwrap_or_default();
                println!("{}\t{}\t{}\t{}\t{}", u.username, u.display_name, u.role.label(), place, u.ledgers.join(","));
            }
            println!("共 {} 个用户", list.len());
        }
    }
    Ok(())
}

//! Sign-in, sign-out and the password change (forced at first sign-in and when the password
//! has expired), under the security policy the 安全管理员 sets.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use chrono::{DateTime, Utc};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;
use taizhang_storage::audit::{self, Change};
use taizhang_domain::security::Policy;
use taizhang_storage::{sessions, users};

use crate::auth::{self, Me};
use crate::error::{AppError, AppResult};
use crate::{security, views, AppState};

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

fn login_page(status: StatusCode, policy: &Policy, username: &str, next: &str, problem: &str) -> AppResult<Response> {
    let html = views::render_plain(
        "login.html",
        &json!({ "username": username, "next": next, "problem": problem, "attempts": policy.lockout_attempts, "minutes": policy.lockout_minutes }),
    )?;
    Ok((status, html).into_response())
}

pub async fn login_form(State(state): State<AppState>, me: Option<Extension<Me>>, Query(q): Query<LoginQuery>) -> AppResult<Response> {
    if me.is_some() {
        return Ok(Redirect::to(&security::local_path(&q.next)).into_response());
    }
    let mut tx = state.db.read().await?;
    let policy = auth::policy(&mut tx).await?;
    drop(tx);
    login_page(StatusCode::OK, &policy, "", &security::local_path(&q.next), "")
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The refusal while an account is locked.
fn locked(policy: &Policy, until: DateTime<Utc>, what: &str) -> String {
    let local = until.with_timezone(&chrono::Local).format("%H:%M");
    format!("{what}连续输错 {} 次，账号已锁定，请于 {local} 以后再试，或请安全管理员解锁", policy.lockout_attempts)
}

fn busy() -> AppError {
    AppError::new(StatusCode::SERVICE_UNAVAILABLE, auth::Busy::MESSAGE)
}

/// Sign-in. The account's check is reserved in the database before Argon2 runs (on the bounded
/// pool), so a burst of wrong passwords gets no more checks than the policy allows and the
/// right password is refused while the account is locked.
pub async fn login(State(state): State<AppState>, ConnectInfo(addr): ConnectInfo<SocketAddr>, Form(f): Form<LoginForm>) -> AppResult<Response> {
    let address = addr.ip().to_string();
    let name = f.username.trim().to_string();
    let next = security::local_path(&f.next);
    let now = taizhang_storage::now();
    let mut tx = state.db.read().await?;
    let policy = auth::policy(&mut tx).await?;
    let user = users::by_name(&mut tx, &name).await?;
    drop(tx);
    let lock = chrono::Duration::minutes(policy.lockout_minutes);
    if let Err(why) = state.limiter.reserve_address(&address) {
        return login_page(StatusCode::TOO_MANY_REQUESTS, &policy, &name, &next, &why);
    }
    let granted = match &user {
        Some(u) => {
            let mut w = state.db.begin().await?;
            let r = users::reserve_attempt(&mut w, u.id, policy.lockout_attempts, lock, now).await?;
            w.commit().await?;
            r
        }
        None if state.limiter.reserve_unknown(&name, policy.lockout_attempts) => Ok(()),
        None => Err(now + lock),
    };
    if let Err(until) = granted {
        state.limiter.release_address(&address);
        return login_page(StatusCode::TOO_MANY_REQUESTS, &policy, &name, &next, &locked(&policy, until, "密码"));
    }
    let ok = match state.hasher.verify(&f.password, user.as_ref().map(|u| u.password_hash.as_str())).await {
        Ok(ok) => ok,
        Err(auth::Busy) => {
            state.limiter.release_address(&address);
            return Err(busy());
        }
    };
    let Some(user) = user.clone().filter(|_| ok) else {
        if let Some(u) = &user {
            let mut w = state.db.begin().await?;
            let after = users::get(&mut w, u.id).await?;
            let note = if after.locked_at(now) && after.failed_attempts >= policy.lockout_attempts {
                format!("来自 {address} 的登录失败；连续失败 {} 次，账号锁定 {} 分钟", after.failed_attempts, policy.lockout_minutes)
            } else {
                format!("来自 {address} 的登录失败")
            };
            audit::append(&mut w, &u.actor(), Change { action: "sign_in_failed", entity: "sessions", entity_id: Some(u.id), place_id: Some(u.place_id), before: None, after: None, note: &note }).await?;
            w.commit().await?;
        }
        return login_page(StatusCode::UNAUTHORIZED, &policy, &name, &next, "用户名或密码不正确");
    };
    state.limiter.release_address(&address);
    let mut tx = state.db.begin().await?;
    if user.disabled {
        users::attempt_succeeded(&mut tx, user.id).await?;
        audit::append(&mut tx, &user.actor(), Change { action: "sign_in_failed", entity: "sessions", entity_id: Some(user.id), place_id: Some(user.place_id), before: None, after: None, note: &format!("来自 {address} 的登录：账号已停用") }).await?;
        tx.commit().await?;
        return login_page(StatusCode::FORBIDDEN, &policy, &name, &next, "该账号已停用，请联系系统管理员");
    }
    let token = auth::new_token();
    let csrf = auth::new_token();
    users::signed_in(&mut tx, user.id, &address, now).await?;
    sessions::purge_idle(&mut tx, now - chrono::Duration::minutes(state.idle_minutes(&policy))).await?;
    sessions::create(&mut tx, &auth::token_hash(&token), user.id, &csrf, now).await?;
    audit::append(&mut tx, &user.actor(), Change { action: "sign_in", entity: "sessions", entity_id: Some(user.id), place_id: Some(user.place_id), before: None, after: None, note: &format!("从 {address} 登录") }).await?;
    tx.commit().await?;
    let must = !state.config.demo && (user.must_change_password || policy.expired(user.password_changed_at, now));
    let to = if must { "/password".to_string() } else { next };
    Ok((StatusCode::SEE_OTHER, [(header::SET_COOKIE, auth::session_cookie(&token, state.config.https())), (header::LOCATION, to)]).into_response())
}

pub async fn logout(State(state): State<AppState>, me: Me) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    sessions::delete(&mut tx, &me.token_hash).await?;
    audit::append(&mut tx, &me.user.actor(), Change { action: "sign_out", entity: "sessions", entity_id: Some(me.user.id), place_id: Some(me.user.place_id), before: None, after: None, note: "退出登录" }).await?;
    tx.commit().await?;
    state.cache.forget_session(&me.token_hash);
    Ok((StatusCode::SEE_OTHER, [(header::SET_COOKIE, auth::clear_cookie(state.config.https())), (header::LOCATION, "/login".to_string())]).into_response())
}

async fn password_page(state: &AppState, me: &Me, status: StatusCode, problem: &str, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let policy = auth::policy(&mut tx).await?;
    let mut ctx = views::layout(me, &defs, "修改密码", &[("修改密码", "")]);
    ctx.insert("must".into(), json!(me.user.must_change_password && !state.config.demo));
    ctx.insert("expired".into(), json!(me.password_expired));
    ctx.insert("expiry_days".into(), json!(policy.expiry_days));
    ctx.insert("rules".into(), json!(policy.describe()));
    ctx.insert("problem".into(), json!(problem));
    ctx.insert("notice".into(), json!(notice));
    ctx.insert("group".into(), json!("系统管理"));
    Ok((status, views::render("password.html", &ctx.into())?).into_response())
}

pub async fn password_form(State(state): State<AppState>, me: Me) -> AppResult<Response> {
    password_page(&state, &me, StatusCode::OK, "", "").await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

/// A password change: the new one against the policy, the current one checked under the same
/// lockout as a sign-in (reserved first, on the bounded pool), then the history.
pub async fn change_password(State(state): State<AppState>, me: Me, Form(f): Form<PasswordForm>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let policy = auth::policy(&mut tx).await?;
    drop(tx);
    let problem = if let Err(why) = policy.check(&f.new, &me.user.username) {
        format!("「新密码」{why}")
    } else if f.new != f.again {
        "「再输一次」与新密码不一致".to_string()
    } else {
        String::new()
    };
    if !problem.is_empty() {
        return password_page(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, &problem, "").await;
    }
    let now = taizhang_storage::now();
    let mut w = state.db.begin().await?;
    let granted = users::reserve_attempt(&mut w, me.user.id, policy.lockout_attempts, chrono::Duration::minutes(policy.lockout_minutes), now).await?;
    w.commit().await?;
    if let Err(until) = granted {
        return password_page(&state, &me, StatusCode::TOO_MANY_REQUESTS, &locked(&policy, until, "当前密码"), "").await;
    }
    let stored = {
        let mut tx = state.db.read().await?;
        users::get(&mut tx, me.user.id).await?
    };
    if !state.hasher.verify(&f.current, Some(&stored.password_hash)).await.map_err(|_| busy())? {
        let mut w = state.db.begin().await?;
        audit::append(&mut w, &me.user.actor(), Change { action: "password_check_failed", entity: "users", entity_id: Some(me.user.id), place_id: Some(me.user.place_id), before: None, after: None, note: "修改密码时当前密码不正确" }).await?;
        w.commit().await?;
        return password_page(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, "「当前密码」不正确", "").await;
    }
    let mut w = state.db.begin().await?;
    users::attempt_succeeded(&mut w, me.user.id).await?;
    let recent = users::recent_hashes(&mut w, me.user.id, policy.history).await?;
    w.commit().await?;
    if state.hasher.verify_any(&f.new, recent).await.map_err(|_| busy())? {
        let why = format!("「新密码」不能与最近 {} 次用过的密码相同", policy.history);
        return password_page(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, &why, "").await;
    }
    let hash = state.hasher.hash(&f.new).await.map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let mut tx = state.db.begin().await?;
    users::set_password(&mut tx, &me.user.actor(), me.user.id, &hash, false).await?;
    sessions::delete_for_user(&mut tx, me.user.id, Some(&me.token_hash)).await?;
    tx.commit().await?;
    state.cache.forget_user(me.user.id);
    let home = crate::guard::officer_home(me.user.role).unwrap_or("/");
    Ok(Redirect::to(&format!("{home}?notice=password")).into_response())
}

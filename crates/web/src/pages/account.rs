//! Sign-in, sign-out and the password change (forced at first sign-in).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;
use taizhang_storage::audit::{self, Change};
use taizhang_storage::{sessions, users};

use crate::auth::{self, Me};
use crate::error::AppResult;
use crate::views;
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

/// Only local paths are followed after sign-in, never another site.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') { next.to_string() } else { "/".into() }
}

fn login_page(status: StatusCode, username: &str, next: &str, problem: &str) -> AppResult<Response> {
    let html = views::render_plain("login.html", &json!({ "username": username, "next": next, "problem": problem }))?;
    Ok((status, html).into_response())
}

pub async fn login_form(me: Option<Extension<Me>>, Query(q): Query<LoginQuery>) -> AppResult<Response> {
    if me.is_some() {
        return Ok(Redirect::to(&safe_next(&q.next)).into_response());
    }
    login_page(StatusCode::OK, "", &q.next, "")
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

pub async fn login(State(state): State<AppState>, ConnectInfo(addr): ConnectInfo<SocketAddr>, Form(f): Form<LoginForm>) -> AppResult<Response> {
    let address = addr.ip().to_string();
    let name = f.username.trim().to_string();
    if let Err(why) = state.limiter.check(&name, &address) {
        return login_page(StatusCode::TOO_MANY_REQUESTS, &name, &f.next, &why);
    }
    let mut tx = state.db.begin().await?;
    let user = users::by_name(&mut tx, &name).await?;
    let ok = match &user {
        Some(u) => !u.disabled && auth::verify_password(&f.password, &u.password_hash),
        None => {
            // Spend the same effort as a real check so timing does not reveal which names exist.
            let _ = auth::verify_password(&f.password, auth::dummy_hash());
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        if let Some(u) = users::by_name(&mut tx, &name).await? {
            audit::append(&mut tx, &u.actor(), Change { action: "sign_in_failed", entity: "sessions", entity_id: Some(u.id), place_id: Some(u.place_id), before: None, after: None, note: &format!("来自 {address} 的登录失败") }).await?;
            tx.commit().await?;
        }
        state.limiter.failed(&name, &address);
        return login_page(StatusCode::UNAUTHORIZED, &name, &f.next, "用户名或密码不正确");
    };
    state.limiter.succeeded(&name);
    let token = auth::new_token();
    let csrf = auth::new_token();
    let now = taizhang_storage::now();
    sessions::purge_idle(&mut tx, now - chrono::Duration::minutes(state.config.idle_minutes.max(1))).await?;
    sessions::create(&mut tx, &auth::token_hash(&token), user.id, &csrf, now).await?;
    audit::append(&mut tx, &user.actor(), Change { action: "sign_in", entity: "sessions", entity_id: Some(user.id), place_id: Some(user.place_id), before: None, after: None, note: &format!("从 {address} 登录") }).await?;
    tx.commit().await?;
    let to = if user.must_change_password && !state.config.demo { "/password".to_string() } else { safe_next(&f.next) };
    Ok((StatusCode::SEE_OTHER, [(header::SET_COOKIE, auth::session_cookie(&token, state.config.secure_cookie)), (header::LOCATION, to)]).into_response())
}

pub async fn logout(State(state): State<AppState>, me: Me) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    sessions::delete(&mut tx, &me.token_hash).await?;
    audit::append(&mut tx, &me.user.actor(), Change { action: "sign_out", entity: "sessions", entity_id: Some(me.user.id), place_id: Some(me.user.place_id), before: None, after: None, note: "退出登录" }).await?;
    tx.commit().await?;
    state.cache.forget_session(&me.token_hash);
    Ok((StatusCode::SEE_OTHER, [(header::SET_COOKIE, auth::clear_cookie(state.config.secure_cookie)), (header::LOCATION, "/login".to_string())]).into_response())
}

async fn password_page(state: &AppState, me: &Me, status: StatusCode, problem: &str, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let mut ctx = views::layout(me, &defs, "修改密码", &[("修改密码", "")]);
    ctx.insert("must".into(), json!(me.user.must_change_password && !state.config.demo));
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

pub async fn change_password(State(state): State<AppState>, me: Me, Form(f): Form<PasswordForm>) -> AppResult<Response> {
    let problem = if !auth::verify_password(&f.current, &me.user.password_hash) {
        "「当前密码」不正确".to_string()
    } else if let Err(why) = auth::check_policy(&f.new) {
        format!("「新密码」{why}")
    } else if f.new != f.again {
        "「再输一次」与新密码不一致".to_string()
    } else if f.new == f.current {
        "「新密码」不能与当前密码相同".to_string()
    } else {
        String::new()
    };
    if !problem.is_empty() {
        return password_page(&state, &me, StatusCode::UNPROCESSABLE_ENTITY, &problem, "").await;
    }
    let hash = auth::hash_password(&f.new).map_err(|e| crate::error::AppError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let mut tx = state.db.begin().await?;
    users::set_password(&mut tx, &me.user.actor(), me.user.id, &hash, false).await?;
    sessions::delete_for_user(&mut tx, me.user.id, Some(&me.token_hash)).await?;
    tx.commit().await?;
    state.cache.forget_user(me.user.id);
    Ok(Redirect::to("/?notice=password").into_response())
}

//! The guard in front of every route: cross-site refusal, session loading with idle timeout,
//! the first-sign-in password change, role and ledger access, and the CSRF token. It hands the
//! signed-in user ([`Me`]) to the handler through the request's extensions.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, request::Parts, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use taizhang_storage::{places, sessions, users, Scope, Tx};

use crate::auth::{self, Me};
use crate::error::{AppError, Flavour};
use crate::routes::{Access, RouteSpec};
use crate::AppState;

/// Paths a user who must change their password may still reach.
const BEFORE_PASSWORD_CHANGE: &[&str] = &["/password", "/logout", "/static/app.css", "/api/v1/me", "/api/v1/openapi.json"];

/// Routes whose handlers read in the transaction the session was checked in ([`GuardTx`]), so
/// that a request to them opens one read transaction instead of two. Only read-only handlers
/// belong here: a handler that also writes would hold two connections at once.
const READS_IN_GUARD_TX: &[&str] = &["/", "/ledgers/{key}"];

/// The guard's read transaction, handed on to the handler (empty on other routes).
#[derive(Clone, Default)]
pub struct GuardTx(std::sync::Arc<std::sync::Mutex<Option<Tx>>>);

impl GuardTx {
    /// The transaction the session was checked in if it is still there, else a new one. What it
    /// reads is at least as new as [`Me::version`].
    pub async fn read(&self, state: &AppState) -> Result<Tx, AppError> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        match kept {
            Some(tx) => Ok(tx),
            None => Ok(state.db.read().await?),
        }
    }

    /// Ends the guard's transaction now, when the handler needs none.
    pub fn release(&self) {
        drop(self.0.lock().unwrap_or_else(|e| e.into_inner()).take());
    }
}

fn refuse(spec: &RouteSpec, status: StatusCode, message: &str) -> Response {
    let e = AppError::new(status, message);
    if spec.is_api() { e.api().into_response() } else { e.into_response() }
}

/// Loads the session named by the request's cookie, ending it if it has been idle too long.
///
/// The session's row is read on every request (with the data version, in one statement); the
/// user, scope and place behind it come from [`crate::cache::Cache::signed_in`] while that
/// version is unchanged.
pub async fn load_me(state: &AppState, parts: &Parts) -> Result<Option<Me>, AppError> {
    Ok(load_me_in(state, parts, false).await?.map(|(me, _)| me))
}

/// [`load_me`], also giving back its read transaction when `keep` is set.
async fn load_me_in(state: &AppState, parts: &Parts, keep: bool) -> Result<Option<(Me, Option<Tx>)>, AppError> {
    let Some(token) = parts.headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(auth::token_from_cookie) else {
        return Ok(None);
    };
    let hash = auth::token_hash(&token);
    let mut tx = state.db.read().await?;
    let Some((session, version, data_version)) = sessions::get_with_version(&mut tx, &hash).await? else {
        drop(tx);
        state.cache.forget_session(&hash);
        return Ok(None);
    };
    let now = taizhang_storage::now();
    let policy = state.policy(&mut tx, version).await?;
    let idle = chrono::Duration::minutes(state.idle_minutes(&policy));
    // Idle too long, or signed in too long ago (a working day), the session ends: both set by
    // the 安全管理员's policy.
    if now - session.last_seen > idle || now - session.created_at > chrono::Duration::hours(policy.session_hours) {
        drop(tx);
        state.cache.forget_session(&hash);
        let mut w = state.db.begin().await?;
        sessions::delete(&mut w, &hash).await?;
        w.commit().await?;
        return Ok(None);
    }
    let known = match state.cache.signed_in(&hash, session.user_id, version) {
        Some(k) => k,
        None => {
            let user = users::get(&mut tx, session.user_id).await?;
            let scope = Scope::of_place(&mut tx, user.place_id).await?;
            let place_name = places::get(&mut tx, user.place_id).await?.name;
            let k = std::sync::Arc::new(crate::cache::SignedIn { user, scope, place_name });
            state.cache.keep_signed_in(&hash, version, k.clone());
            k
        }
    };
    if known.user.disabled {
        return Ok(None);
    }
    // Activity is written at most once a minute, so reading pages stays read-only in practice:
    // once the stored time is 30 to 60 s old, the spread depending on the session, so that
    // sessions signed in together (a morning, a benchmark) do not all write in the same second.
    // The read transaction is given up first: a request never holds two connections.
    let spread = hash.get(..2).and_then(|h| i64::from_str_radix(h, 16).ok()).unwrap_or(0) % 31;
    let touch = now - session.last_seen > chrono::Duration::seconds(30 + spread);
    let kept = if keep && !touch {
        Some(tx)
    } else {
        drop(tx);
        None
    };
    // Left for a later request while another writer (an import) holds SQLite's write lock:
    // a page is not kept waiting for it.
    if touch {
        if let Some(mut w) = state.db.try_begin(std::time::Duration::from_millis(200)).await? {
            sessions::touch(&mut w, &hash, now).await?;
            w.commit().await?;
        }
    }
    // A password older than the policy allows must be changed first, like an initial one.
    let password_expired = !state.config.demo && policy.expired(known.user.password_changed_at, now);
    let mut user = known.user.clone();
    user.must_change_password |= password_expired;
    let me = Me { user, scope: known.scope.clone(), csrf: session.csrf_token, token_hash: hash, place_name: known.place_name.clone(), version, data_version, password_expired };
    Ok(Some((me, kept)))
}

/// The ledger key a path names (`/ledgers/{key}…` or `/api/v1/ledgers/{key}…`).
fn ledger_key(path: &str) -> Option<&str> {
    let mut it = path.split('/');
    it.by_ref().find(|s| *s == "ledgers")?;
    it.next().filter(|s| !s.is_empty())
}

/// Decodes `application/x-www-form-urlencoded` text.
pub fn decode_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub async fn guard(State((state, spec)): State<(AppState, &'static RouteSpec)>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let writes = parts.method != Method::GET && parts.method != Method::HEAD;
    if writes {
        let h = |n: header::HeaderName| parts.headers.get(n).and_then(|v| v.to_str().ok());
        if !auth::same_origin(h(header::ORIGIN), h(header::REFERER), h(header::HOST)) {
            return refuse(spec, StatusCode::FORBIDDEN, "拒绝跨站请求：请求来源与本系统地址不一致");
        }
    }
    let keep_tx = parts.method == Method::GET && READS_IN_GUARD_TX.contains(&spec.path);
    let (me, guard_tx) = match load_me_in(&state, &parts, keep_tx).await {
        Ok(Some((me, tx))) => (Some(me), GuardTx(std::sync::Arc::new(std::sync::Mutex::new(tx)))),
        Ok(None) => (None, GuardTx::default()),
        Err(e) => return if spec.is_api() { e.api().into_response() } else { e.into_response() },
    };
    if spec.access != Access::Anyone {
        let Some(me) = &me else {
            if !spec.is_api() && parts.method == Method::GET {
                let target = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                return Redirect::to(&format!("/login?next={}", encode(target))).into_response();
            }
            return refuse(spec, StatusCode::UNAUTHORIZED, "请先登录（未登录或登录已超时）");
        };
        if me.user.must_change_password && !state.config.demo && !BEFORE_PASSWORD_CHANGE.contains(&spec.path) {
            if !spec.is_api() && parts.method == Method::GET {
                return Redirect::to("/password").into_response();
            }
            return refuse(spec, StatusCode::FORBIDDEN, "请先修改初始密码");
        }
        // The 安全管理员 and 审计管理员 have a home page of their own instead of the dashboard.
        if spec.path == "/" && parts.method == Method::GET {
            if let Some(home) = officer_home(me.user.role) {
                return Redirect::to(home).into_response();
            }
        }
        let allowed = match spec.access {
            Access::Anyone | Access::Own => true,
            // The town's data: not for the 安全管理员 and 审计管理员 (三员分立).
            Access::Signed => !me.user.role.is_officer(),
            Access::Roles(roles) => roles.contains(&me.user.role),
            Access::Editor => ledger_key(parts.uri.path()).is_some_and(|k| me.can_edit(k)),
            Access::Worker => ledger_key(parts.uri.path()).is_some_and(|k| me.can_transition(k)),
        };
        if !allowed {
            let why = match spec.access {
                Access::Editor => format!("{}不能新增或修改这本台账的记录", me.user.role.label()),
                Access::Worker => "这本台账没有分配给您，不能办理它的流程".to_string(),
                _ => format!("{}不能使用「{}」", me.user.role.label(), spec.summary),
            };
            return refuse(spec, StatusCode::FORBIDDEN, &why);
        }
    }
    let mut body = body;
    if writes {
        if let Some(me) = &me {
            // The token travels in a header (the API) or in the form's body, never in the URL:
            // a URL ends up in logs, the history and Referer headers.
            let mut presented = parts.headers.get(auth::CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
            let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let is_form = content_type.starts_with("application/x-www-form-urlencoded");
            if presented.is_none() && content_type.starts_with("multipart/form-data") {
                let (token, whole) = crate::security::multipart_token(&content_type, body).await;
                presented = token;
                body = whole;
            } else if presented.is_none() && is_form {
                let bytes = match axum::body::to_bytes(body, 4 * 1024 * 1024).await {
                    Ok(b) => b,
                    Err(_) => return refuse(spec, StatusCode::PAYLOAD_TOO_LARGE, "提交的内容过大"),
                };
                presented = decode_form(&String::from_utf8_lossy(&bytes)).into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
                body = Body::from(bytes);
            }
            if !presented.is_some_and(|t| auth::same_secret(&t, &me.csrf)) {
                return refuse(spec, StatusCode::FORBIDDEN, "请求缺少有效的防伪令牌（CSRF），请刷新页面后重试");
            }
        }
    }
    // Who reads: what the answer shows of records and persons is written once it is made.
    let reader = me.clone();
    if let Some(me) = me {
        parts.extensions.insert(me);
    }
    parts.extensions.insert(guard_tx);
    let reads = crate::reads::ReadLog::default();
    let mut response = crate::reads::READS.scope(reads.clone(), next.run(Request::from_parts(parts, body))).await;
    if let Some(me) = &reader {
        response = crate::reads::flush(&state, me, spec, &reads, response).await;
    }
    if let Some(chinese) = translate_rejection(spec, &response) {
        response = chinese;
    }
    response
}

/// The extractors' own refusals (a malformed query, body or path) are plain English text;
/// users get a Chinese sentence instead, in the route's flavour.
fn translate_rejection(spec: &RouteSpec, response: &Response) -> Option<Response> {
    let plain = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("text/plain"));
    let status = response.status();
    if !plain || !status.is_client_error() {
        return None;
    }
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "提交的内容过大",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "请求内容的类型不受支持（接口应为 JSON，页面应为表单）",
        StatusCode::METHOD_NOT_ALLOWED => "不支持这种请求方式",
        StatusCode::UNPROCESSABLE_ENTITY => "提交的内容无法按要求解析：请检查各项的类型和写法",
        _ => "请求有误：地址中的编号或参数、或提交的内容无法解析",
    };
    Some(refuse(spec, status, message))
}

/// The home page of the 安全管理员 and the 审计管理员 (others: the dashboard).
pub fn officer_home(role: taizhang_domain::role::Role) -> Option<&'static str> {
    use taizhang_domain::role::Role;
    match role {
        Role::SecurityAdmin => Some("/admin/security"),
        Role::AuditAdmin => Some("/audit"),
        _ => None,
    }
}

/// Percent-encodes a path for a `next=` parameter.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn not_found(req: Request) -> Response {
    let e = AppError::not_found("没有这个页面");
    if req.uri().path().starts_with("/api/") { e.api().into_response() } else { e.into_response() }
}

impl<S: Send + Sync> FromRequestParts<S> for Me {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Me, AppError> {
        parts.extensions.get::<Me>().cloned().ok_or_else(|| {
            let e = AppError::new(StatusCode::UNAUTHORIZED, "请先登录");
            if parts.uri.path().starts_with("/api/") { AppError { flavour: Flavour::Api, ..e } } else { e }
        })
    }
}

//! 三员分立 pages: the 安全管理员's security policy (passwords, lockout, session timeouts) and
//! locked accounts; disabling, enabling and unlocking accounts; the 审计管理员's export of the
//! audit trail. Every change here is audited.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::role::Role;
use taizhang_domain::security::GROUP;
use taizhang_storage::audit::{self, Change};
use taizhang_storage::users::{self, User};
use taizhang_storage::{sessions, settings, Tx};

use crate::auth::{self, Me};
use crate::error::{AppError, AppResult};
use crate::forms::{self, Attempt};
use crate::{views, AppState};

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

fn local_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string()
}

/// The accounts the security administrator watches: locked now, or with failed checks counted.
async fn watched(tx: &mut Tx, me: &Me) -> AppResult<Vec<serde_json::Value>> {
    let now = taizhang_storage::now();
    let policy = auth::policy(tx).await?;
    let mut out = Vec::new();
    for u in users::list(tx).await? {
        if !me.scope.contains_place(tx, u.place_id).await? {
            continue;
        }
        let expired = policy.expired(u.password_changed_at, now);
        if u.locked_at(now) || u.failed_attempts > 0 || u.disabled || expired {
            out.push(json!({
                "id": u.id, "username": u.username, "name": u.display_name, "role": u.role.label(),
                "locked": u.locked_at(now), "until": u.locked_until.map(local_time).unwrap_or_default(),
                "failed": u.failed_attempts, "disabled": u.disabled, "expired": expired,
            }));
        }
    }
    Ok(out)
}

async fn render(state: &AppState, me: &Me, attempt: Attempt, status: StatusCode, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let all = crate::query::settings::catalogue(&mut tx).await?;
    let stored = settings::list(&mut tx).await?;
    let mut rows = Vec::new();
    for def in all.iter().filter(|d| d.group == GROUP) {
        let value = settings::effective(&mut tx, def, taizhang_domain::setting::ALL_YEARS).await?;
        let set = stored.iter().any(|s| s.key == def.key);
        let here = attempt.form == def.label;
        rows.push(json!({
            "label": def.label, "unit": def.unit, "help": def.help,
            "shown": value.as_ref().map(|v| def.show(v)).unwrap_or_default(),
            "source": if set { "" } else { "默认" },
            "edit": value.as_ref().map(|v| crate::query::settings::edit_text(def, v)).unwrap_or_default(),
            "typed": if here { attempt.values.get("value").cloned() } else { None },
            "error": if here { attempt.errors.get("value").cloned().unwrap_or_else(|| attempt.message.clone()) } else { String::new() },
        }));
    }
    let accounts = watched(&mut tx, me).await?;
    let policy = auth::policy(&mut tx).await?;
    let mut ctx = views::layout(me, &defs, "安全策略", &[("系统管理", ""), ("安全策略", "")]);
    ctx.insert("group".into(), json!("系统管理"));
    ctx.insert("rows".into(), json!(rows));
    ctx.insert("accounts".into(), json!(accounts));
    ctx.insert("rules".into(), json!(policy.describe()));
    ctx.insert("notice".into(), json!(notice));
    Ok((status, views::render("security.html", &ctx.into())?).into_response())
}

fn notice_of(q: &PageQuery) -> String {
    if let Some(label) = &q.saved {
        return format!("已保存「{label}」");
    }
    if q.notice.as_deref() == Some("password") {
        return "密码已修改".into();
    }
    match q.done.as_deref() {
        Some("unlock") => "已解除锁定".into(),
        _ => String::new(),
    }
}

/// GET /admin/security: the policy, each setting with its value and help, and the accounts
/// locked, disabled, with failed checks or an expired password.
pub async fn page(State(state): State<AppState>, me: Me, Query(q): Query<PageQuery>) -> AppResult<Response> {
    let notice = notice_of(&q);
    render(&state, &me, Attempt::default(), StatusCode::OK, &notice).await
}

/// POST /admin/security: saves one policy setting (named by its label), audited.
pub async fn update(State(state): State<AppState>, me: Me, Form(form): Form<Vec<(String, String)>>) -> AppResult<Response> {
    let name = forms::text(&form, "setting");
    let mut tx = state.db.begin().await?;
    let all = crate::query::settings::catalogue(&mut tx).await?;
    let only_policy: Vec<_> = all.into_iter().filter(|d| d.group == GROUP).collect();
    match crate::query::settings::save(&mut tx, &me, &only_policy, &name, None, &forms::text(&form, "value")).await {
        Ok((def, _)) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/admin/security?saved={}", crate::guard::encode(&def.label))).into_response())
        }
        Err(problem) => {
            drop(tx);
            let attempt = Attempt { form: name, ..Attempt::new("", &form, &problem, &["value"]) };
            render(&state, &me, attempt, problem.status, "").await
        }
    }
}

/// The account named by the path, if it lies in the caller's scope (else "not found") and the
/// caller may act on it: the 系统管理员 keeps business accounts only; the accounts of the 安全管理员
/// and 审计管理员 are kept at the server's console.
async fn target(tx: &mut Tx, me: &Me, id: i64) -> AppResult<User> {
    let user = users::get(tx, id).await?;
    if !me.scope.contains_place(tx, user.place_id).await? {
        return Err(AppError::not_found("用户不存在"));
    }
    if me.user.role == Role::Admin && user.role.is_officer() {
        return Err(AppError::forbidden(format!("{}的账号只能在服务器上用命令行管理（taizhang user …）", user.role.label())));
    }
    Ok(user)
}

/// Where the caller's user list is.
fn back(me: &Me, done: &str) -> Response {
    let page = if me.user.role == Role::SecurityAdmin { "/admin/security" } else { "/admin/users" };
    Redirect::to(&format!("{page}?done={done}")).into_response()
}

/// POST /admin/users/{id}/unlock: lifts a lock at once.
pub async fn unlock(State(state): State<AppState>, me: Me, Path(id): Path<i64>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    target(&mut tx, &me, id).await?;
    users::unlock(&mut tx, &me.user.actor(), id).await?;
    tx.commit().await?;
    state.cache.forget_user(id);
    Ok(back(&me, "unlock"))
}

async fn set_disabled(state: &AppState, me: &Me, id: i64, disabled: bool) -> AppResult<Response> {
    if disabled && id == me.user.id {
        return Err(AppError::forbidden("不能停用自己的账号"));
    }
    let mut tx = state.db.begin().await?;
    target(&mut tx, me, id).await?;
    users::set_disabled(&mut tx, &me.user.actor(), id, disabled).await?;
    if disabled {
        sessions::delete_for_user(&mut tx, id, None).await?;
    }
    tx.commit().await?;
    state.cache.forget_user(id);
    Ok(back(me, if disabled { "disabled" } else { "enabled" }))
}

/// POST /admin/users/{id}/disable: the account can no longer sign in; its sessions end now.
pub async fn disable(State(state): State<AppState>, me: Me, Path(id): Path<i64>) -> AppResult<Response> {
    set_disabled(&state, &me, id, true).await
}

/// POST /admin/users/{id}/enable.
pub async fn enable(State(state): State<AppState>, me: Me, Path(id): Path<i64>) -> AppResult<Response> {
    set_disabled(&state, &me, id, false).await
}

/// A CSV cell: quoted, and text a spreadsheet would run as a formula (= + - @, tab, CR) made
/// plain text by a leading apostrophe.
fn cell(text: &str) -> String {
    let t = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() };
    format!("\"{}\"", t.replace('"', "\"\""))
}

/// The most entries one export holds.
const EXPORT_LIMIT: i64 = 100_000;

/// GET /audit/export: the audit trail in the caller's scope as CSV (UTF-8 with BOM, opens in
/// Excel), newest first, with the same filters as the page. The export itself is audited.
pub async fn export_audit(State(state): State<AppState>, me: Me, Query(mut p): Query<super::admin::AuditParams>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = taizhang_storage::ledgers::all(&mut tx).await?;
    let (mut q, problem) = super::admin::audit_filter(&mut p, &defs);
    if !problem.is_empty() {
        return Err(AppError::bad_request(problem));
    }
    q.limit = EXPORT_LIMIT;
    q.offset = 0;
    let (mut entries, _) = audit::search(&mut tx, &me.scope, &q).await?;
    // Values before and after through the reader's masking policy (and noted as reads).
    crate::show::audit_entries(&me, &defs, &mut entries);
    drop(tx);
    let mut out = String::from("\u{feff}编号,时间,操作人,操作,对象,对象编号,至编号,地点编号,说明,修改前,修改后\r\n");
    for e in &entries {
        let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
        let row = [
            e.id.to_string(),
            e.at.clone(),
            e.actor.clone(),
            e.action.clone(),
            e.entity.clone(),
            e.entity_id.map(|i| i.to_string()).unwrap_or_default(),
            e.last_entity_id.map(|i| i.to_string()).unwrap_or_default(),
            e.place_id.map(|i| i.to_string()).unwrap_or_default(),
            e.note.clone(),
            json(&e.before),
            json(&e.after),
        ];
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let mut w = state.db.begin().await?;
    let note = format!("导出操作日志 {} 条", entries.len());
    audit::append(&mut w, &me.user.actor(), Change { action: "export", entity: "audit", entity_id: None, place_id: Some(me.user.place_id), before: None, after: Some(json!({"actor": q.actor, "entity": q.entity, "action": q.action, "from": q.from, "to": q.to})), note: &note }).await?;
    w.commit().await?;
    let name = format!("操作日志-{}.csv", state.today().format("%Y%m%d"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"audit.csv\"; filename*=UTF-8''{}", crate::guard::encode(&name))),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_cells_never_run_as_formulas() {
        assert_eq!(super::cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(super::cell("-1"), "\"'-1\"");
        assert_eq!(super::cell("登录"), "\"登录\"");
    }
}

//! For 管理员 and 领导: the audit trail, user administration and clerk-defined ledgers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::ledger::{FieldKind, LedgerDef, SubjectKind};
use taizhang_domain::role::Role;
use taizhang_storage::audit;
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::{ledgers, places, sessions};

use crate::query::reads::{entity_label, read_report, ReadsParams};
use crate::auth::{self, Me};
use crate::error::{AppError, AppResult};
use crate::{views, AppState};

/// Every action of the audit trail by its Chinese name (never its key).
pub(crate) fn action_label(a: &str) -> &'static str {
    match a {
        "create" => "新增",
        "update" => "修改",
        "delete" => "删除",
        "transition" => "办理",
        "status" => "状态变更",
        "void" => "作废",
        "restore" => "恢复",
        "read" => "查看个人信息",
        "sign_in" => "登录",
        "sign_out" => "退出",
        "sign_in_failed" => "登录失败",
        "password_check_failed" => "原密码核对失败",
        "unlock" => "解除锁定",
        "disable" => "停用账号",
        "enable" => "启用账号",
        "password" => "修改密码",
        "export" => "导出",
        "import" => "导入",
        "define" => "定义台账",
        "join" => "成员加入",
        "leave" => "成员迁出",
        "head" | "head_change" => "户主变更",
        "split" => "分户",
        "upload" => "上传",
        "attach" => "上传附件",
        "detach" => "撤下附件",
        "move" => "整户迁移",
        "correct" => "信息更正",
        "end" => "离任或注销",
        "set" => "设置参数",
        "merge" => "并入县库",
        _ => "其他操作",
    }
}

/// The entities that are not ledgers, as the audit page's object filter offers them.
const REGISTRY_ENTITIES: &[&str] = &["persons", "households", "cadres", "organisations", "places", "users", "sessions", "ledger_defs", "settings", "audit"];

/// An entry's object as people name it: a ledger by its name, the registry's tables in Chinese.
fn object_name(defs: &[LedgerDef], entity: &str) -> String {
    match entity.strip_prefix("ld_") {
        Some(k) => defs.iter().find(|d| d.key == k).map_or_else(|| "台账".to_string(), |d| d.name.clone()),
        None => entity_label(entity).to_string(),
    }
}

/// An entry's action as people name it: a workflow step by its label (办理：核查确认), and
/// whether its note was the step's key (then not shown).
fn action_name(defs: &[LedgerDef], e: &audit::AuditEntry) -> (String, bool) {
    if e.action == "transition" {
        let label = e
            .entity
            .strip_prefix("ld_")
            .and_then(|k| defs.iter().find(|d| d.key == k))
            .and_then(|d| d.workflow.as_ref())
            .and_then(|wf| wf.transition(&e.note))
            .map(|t| t.label.clone());
        if let Some(l) = label {
            return (format!("办理：{l}"), true);
        }
    }
    (action_label(&e.action).to_string(), false)
}

#[derive(Deserialize, Default, serde::Serialize)]
pub struct AuditParams {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    ledger: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    page: Option<i64>,
    /// The older names of the user and object filters (`actor=`, `entity=ld_x`), still taken.
    #[serde(default, skip_serializing)]
    actor: String,
    #[serde(default, skip_serializing)]
    entity: String,
}

/// Entries per page of the audit page.
const AUDIT_PAGE: i64 = 50;

/// 操作日志: paged, filtered by days, user, ledger (or registry table) and action, every action
/// and object in Chinese.
/// The audit page's filters as the store takes them (the older `actor=` and `entity=` names
/// too), and what was wrong with them, in Chinese.
pub(crate) fn audit_filter(p: &mut AuditParams, defs: &[LedgerDef]) -> (audit::AuditFilter, String) {
    if p.user.trim().is_empty() {
        p.user = std::mem::take(&mut p.actor);
    }
    if p.ledger.trim().is_empty() {
        let e = std::mem::take(&mut p.entity);
        p.ledger = e.strip_prefix("ld_").map_or(e.clone(), String::from);
    }
    let mut problem = String::new();
    let mut date = |text: &str, label: &str| -> Option<chrono::NaiveDate> {
        match text.trim() {
            "" => None,
            t => match taizhang_domain::period::parse_date_lenient(t) {
                Ok(d) => Some(d),
                Err(e) => {
                    problem = format!("「{label}」{e}");
                    None
                }
            },
        }
    };
    let from = date(&p.from, "起始日期");
    let to = date(&p.to, "截止日期");
    let entity = match p.ledger.trim() {
        "" => None,
        t if REGISTRY_ENTITIES.contains(&t) => Some(t.to_string()),
        t => defs.iter().find(|d| d.key == t || d.name == t).map(LedgerDef::table_name).or_else(|| Some(format!("ld_{t}"))),
    };
    let page = p.page.unwrap_or(1).max(1);
    let filter = audit::AuditFilter {
        from,
        to,
        actor: Some(p.user.trim().to_string()).filter(|s| !s.is_empty()),
        entity,
        action: Some(p.action.trim().to_string()).filter(|s| !s.is_empty()),
        limit: AUDIT_PAGE,
        offset: (page - 1) * AUDIT_PAGE,
    };
    (filter, problem)
}

pub async fn audit(State(state): State<AppState>, me: Me, Query(mut p): Query<AuditParams>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let (filter, problem) = audit_filter(&mut p, &defs);
    let page = p.page.unwrap_or(1).max(1);
    let (entries, total) = audit::search(&mut tx, &me.scope, &filter).await?;
    // The export takes the same filters.
    let export = [("from", &p.from), ("to", &p.to), ("user", &p.user), ("ledger", &p.ledger), ("action", &p.action)]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", crate::guard::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let entries: Vec<_> = entries
        .iter()
        .map(|e| {
            let (action, keyed) = action_name(&defs, e);
            let note = if keyed { String::new() } else { me.policy().text(&e.note) };
            json!({"at": e.at.get(..19).unwrap_or(&e.at).replace('T', " "), "actor": e.actor, "action": action, "entity": object_name(&defs, &e.entity), "entity_id": e.entity_id, "last_entity_id": e.last_entity_id, "note": note})
        })
        .collect();
    let users = audit::distinct(&mut tx, &me.scope, "actor").await?;
    let mut actions: Vec<(String, &str)> = audit::distinct(&mut tx, &me.scope, "action").await?.into_iter().map(|a| {
        let l = action_label(&a);
        (a, l)
    }).collect();
    actions.sort_by(|a, b| a.1.cmp(b.1));
    let mut objects: Vec<(String, String)> = defs.iter().map(|d| (d.key.clone(), d.name.clone())).collect();
    objects.extend(REGISTRY_ENTITIES.iter().map(|e| (e.to_string(), entity_label(e).to_string())));
    let pages = ((total + AUDIT_PAGE - 1) / AUDIT_PAGE).max(1);
    let query = |n: i64| -> String {
        let mut pairs = vec![("from", p.from.clone()), ("to", p.to.clone()), ("user", p.user.clone()), ("ledger", p.ledger.clone()), ("action", p.action.clone())];
        pairs.retain(|(_, v)| !v.trim().is_empty());
        pairs.push(("page", n.to_string()));
        pairs.iter().map(|(k, v)| format!("{k}={}", crate::guard::encode(v))).collect::<Vec<_>>().join("&")
    };
    let mut ctx = views::layout(&me, &defs, "操作日志", &[("系统管理", ""), ("操作日志", "")]);
    ctx.insert("entries".into(), json!(entries));
    ctx.insert("q".into(), json!(p));
    ctx.insert("users".into(), json!(users));
    ctx.insert("actions".into(), json!(actions));
    ctx.insert("objects".into(), json!(objects));
    ctx.insert("total".into(), json!(total));
    ctx.insert("page".into(), json!(page));
    ctx.insert("pages".into(), json!(pages));
    ctx.insert("prev".into(), json!((page > 1).then(|| query(page - 1))));
    ctx.insert("next".into(), json!((page < pages).then(|| query(page + 1))));
    ctx.insert("export".into(), json!(export));
    ctx.insert("problem".into(), json!(problem));
    ctx.insert("group".into(), json!("系统管理"));
    let status = if problem.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, views::render("audit.html", &ctx.into())?).into_response())
}

/// 个人信息查看记录: who read whose data (PIPL), for the audit administrator (`Me::may_read_audit`).
pub async fn reads(State(state): State<AppState>, me: Me, Query(p): Query<ReadsParams>) -> AppResult<Response> {
    if !me.may_read_audit() {
        return Err(AppError::new(StatusCode::FORBIDDEN, "只有审计管理员可以查看个人信息查看记录"));
    }
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let (entries, problem, status) = match read_report(&mut tx, &me, &p).await {
        Ok(e) => (e, String::new(), StatusCode::OK),
        Err(e) if e.status.is_client_error() => (Vec::new(), e.message.clone(), e.status),
        Err(e) => return Err(e),
    };
    let mut ctx = views::layout(&me, &defs, "个人信息查看记录", &[("系统管理", ""), ("个人信息查看记录", "")]);
    ctx.insert("entries".into(), json!(entries));
    ctx.insert("q".into(), json!(p));
    ctx.insert("problem".into(), json!(problem));
    ctx.insert("ledgers".into(), json!(defs.iter().filter(|d| taizhang_domain::masking::reads_audited(d)).map(|d| (d.key.clone(), d.name.clone())).collect::<Vec<_>>()));
    ctx.insert("group".into(), json!("系统管理"));
    Ok((status, views::render("audit_reads.html", &ctx.into())?).into_response())
}

#[derive(Deserialize, Default, serde::Serialize)]
pub struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    ledgers: String,
    #[serde(default)]
    password: String,
    /// The ledgers ticked: `ledger:<key>` = on.
    #[serde(flatten)]
    ticked: std::collections::HashMap<String, String>,
}

impl UserForm {
    /// The ledgers chosen: the boxes ticked, and any typed in the older text field.
    fn ledger_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.ticked.keys().filter_map(|k| k.strip_prefix("ledger:")).map(String::from).collect();
        keys.extend(self.ledgers.split([',', '，', '、', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(String::from));
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The user being edited, with the form's values.
struct Editing {
    id: i64,
    username: String,
    form: UserForm,
}

async fn users_page(state: &AppState, me: &Me, form: &UserForm, status: StatusCode, problem: &str, notice: &str) -> AppResult<Response> {
    users_page_with(state, me, form, None, status, problem, notice).await
}

async fn users_page_with(state: &AppState, me: &Me, form: &UserForm, editing: Option<&Editing>, status: StatusCode, problem: &str, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    // A county's administrator sees several towns, whose villages may share a name: places below
    // a town are named with it (北斗溪镇 · 坪溪村). A town's administrator sees names as ever.
    let subtree = places::subtree(&mut tx, &me.scope).await?;
    let county = subtree.iter().any(|p| p.id == me.user.place_id && p.level == taizhang_domain::place::PlaceLevel::County);
    let label = |id: i64| -> Option<String> {
        let p = subtree.iter().find(|p| p.id == id)?;
        if !county {
            return Some(p.name.clone());
        }
        let mut names = Vec::new();
        let mut cur = Some(p);
        while let Some(q) = cur.filter(|q| q.level != taizhang_domain::place::PlaceLevel::County) {
            names.push(q.name.clone());
            cur = q.parent_id.and_then(|pid| subtree.iter().find(|x| x.id == pid));
        }
        if names.is_empty() {
            return Some(p.name.clone());
        }
        names.reverse();
        Some(names.join(" · "))
    };
    let mut list = Vec::new();
    for u in users::list(&mut tx).await? {
        if !me.scope.contains_place(&mut tx, u.place_id).await? {
            continue;
        }
        let now = taizhang_storage::now();
        // The 安全管理员's and 审计管理员's accounts are listed but kept at the console (三员分立).
        let ledger_names: Vec<String> = u.ledgers.iter().map(|k| defs.iter().find(|d| &d.key == k).map_or_else(|| k.clone(), |d| d.name.clone())).collect();
        list.push(json!({"id": u.id, "username": u.username, "name": u.display_name, "role": u.role.label(), "place": label(u.place_id).unwrap_or_default(), "ledgers": ledger_names.join("、"), "disabled": u.disabled, "must": u.must_change_password, "locked": u.locked_at(now), "officer": u.role.is_officer(), "me": u.id == me.user.id}));
    }
    let place_list: Vec<_> = subtree.iter().map(|p| json!({"id": p.id, "name": label(p.id).unwrap_or_default()})).collect();
    let mut ctx = views::layout(me, &defs, "用户管理", &[("系统管理", ""), ("用户管理", "")]);
    ctx.insert("users".into(), json!(list));
    ctx.insert("places".into(), json!(place_list));
    ctx.insert("roles".into(), json!(Role::BUSINESS.iter().map(|r| (r.key(), r.label())).collect::<Vec<_>>()));
    let policy = auth::policy(&mut tx).await?;
    ctx.insert("rules".into(), json!(policy.describe()));
    ctx.insert("form".into(), json!({"username": form.username, "name": form.name, "role": form.role, "place": form.place, "ledgers": form.ledger_keys()}));
    let mut choices: Vec<_> = defs.iter().map(|d| json!({"key": d.key, "name": d.name, "group": d.group})).collect();
    choices.sort_by(|a, b| a["group"].as_str().cmp(&b["group"].as_str()));
    ctx.insert("ledger_choices".into(), json!(choices));
    if let Some(e) = editing {
        ctx.insert("edit".into(), json!({"id": e.id, "username": e.username, "name": e.form.name, "role": e.form.role, "place": e.form.place, "ledgers": e.form.ledger_keys()}));
    }
    ctx.insert("problem".into(), json!(problem));
    ctx.insert("notice".into(), json!(notice));
    ctx.insert("group".into(), json!("系统管理"));
    Ok((status, views::render("users.html", &ctx.into())?).into_response())
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    done: String,
}

pub async fn users(State(state): State<AppState>, me: Me, Query(q): Query<UsersQuery>) -> AppResult<Response> {
    let notice = match q.done.as_str() {
        "unlock" => "已解除锁定",
        "disabled" => "已停用该账号，其登录已失效",
        "enabled" => "已启用该账号",
        "saved" => "已保存用户信息",
        _ => "",
    };
    users_page(&state, &me, &UserForm::default(), StatusCode::OK, "", notice).await
}

async fn bad(state: &AppState, me: &Me, f: &UserForm, why: String) -> AppResult<Response> {
    users_page(state, me, f, StatusCode::UNPROCESSABLE_ENTITY, &why, "").await
}

pub async fn add_user(State(state): State<AppState>, me: Me, Form(f): Form<UserForm>) -> AppResult<Response> {
    let Some(role) = Role::parse(&f.role) else { return bad(&state, &me, &f, "「角色」请选择".into()).await };
    if role.is_officer() {
        return bad(&state, &me, &f, format!("「角色」{}的账号只能在服务器上用命令行新增（taizhang user add … --role {}）", role.label(), role.key())).await;
    }
    let Ok(place_id) = f.place.parse::<i64>() else { return bad(&state, &me, &f, "「管辖范围」请选择".into()).await };
    let policy = {
        let mut tx = state.db.read().await?;
        auth::policy(&mut tx).await?
    };
    if let Err(why) = policy.check(&f.password, &f.username) {
        return bad(&state, &me, &f, format!("「初始密码」{why}")).await;
    }
    let hash = state.hasher.hash(&f.password).await.map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, e))?;
    let ledger_keys = f.ledger_keys();
    let mut tx = state.db.begin().await?;
    if !me.scope.contains_place(&mut tx, place_id).await? {
        return Err(AppError::not_found("地点不存在或不在您的管辖范围内"));
    }
    for k in &ledger_keys {
        if ledgers::get(&mut tx, k).await.is_err() {
            drop(tx);
            return bad(&state, &me, &f, format!("「可编辑台账」没有台账「{k}」")).await;
        }
    }
    let new = NewUser { username: &f.username, display_name: f.name.trim(), password_hash: &hash, role, place_id, ledgers: ledger_keys, must_change_password: true };
    match users::create(&mut tx, &me.user.actor(), new).await {
        Ok(u) => {
            tx.commit().await?;
            users_page(&state, &me, &UserForm::default(), StatusCode::OK, "", &format!("已新增用户 {}，首次登录须修改密码", u.username)).await
        }
        Err(e) => {
            drop(tx);
            bad(&state, &me, &f, AppError::from(e).message).await
        }
    }
}

/// GET /admin/users/{id}: the user's edit form (name, role, place, ledgers) above the list.
pub async fn edit_user_form(State(state): State<AppState>, me: Me, Path(id): Path<i64>) -> AppResult<Response> {
    let user = {
        let mut tx = state.db.read().await?;
        let user = users::get(&mut tx, id).await?;
        if !me.scope.contains_place(&mut tx, user.place_id).await? {
            return Err(AppError::not_found("用户不存在"));
        }
        user
    };
    if user.role.is_officer() {
        return Err(AppError::forbidden(format!("{}的账号只能在服务器上用命令行管理", user.role.label())));
    }
    let form = UserForm {
        username: user.username.clone(),
        name: user.display_name.clone(),
        role: user.role.key().to_string(),
        place: user.place_id.to_string(),
        ticked: user.ledgers.iter().map(|k| (format!("ledger:{k}"), "on".to_string())).collect(),
        ..Default::default()
    };
    let editing = Editing { id, username: user.username.clone(), form };
    users_page_with(&state, &me, &UserForm::default(), Some(&editing), StatusCode::OK, "", "").await
}

/// POST /admin/users/{id}: saves the name, role, place and ledgers; on an error the form comes
/// back with what was chosen. A changed role or place ends the user's sessions.
pub async fn edit_user(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(f): Form<UserForm>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let user = users::get(&mut tx, id).await?;
    if !me.scope.contains_place(&mut tx, user.place_id).await? {
        return Err(AppError::not_found("用户不存在"));
    }
    if user.role.is_officer() {
        return Err(AppError::forbidden(format!("{}的账号只能在服务器上用命令行管理", user.role.label())));
    }
    let name = f.name.trim().to_string();
    let keys = f.ledger_keys();
    let mut problem = String::new();
    let role = Role::parse(&f.role);
    match role {
        None => problem = "「角色」请选择".into(),
        Some(r) if r.is_officer() => problem = format!("「角色」{}的账号只能在服务器上用命令行新增", r.label()),
        Some(_) if user.id == me.user.id && f.role != user.role.key() => problem = "「角色」不能修改自己的角色".into(),
        _ => {}
    }
    let place_id = f.place.parse::<i64>().ok();
    if problem.is_empty() {
        match place_id {
            None => problem = "「管辖范围」请选择".into(),
            Some(p) if !me.scope.contains_place(&mut tx, p).await? => problem = "「管辖范围」不在您的管辖范围内".into(),
            _ => {}
        }
    }
    if problem.is_empty() && name.chars().count() > 40 {
        problem = "「姓名」不能超过 40 个字".into();
    }
    if problem.is_empty() {
        for k in &keys {
            if ledgers::get(&mut tx, k).await.is_err() {
                problem = "「可编辑台账」所选的台账已不存在，请重新选择".into();
                break;
            }
        }
    }
    let (Some(role), Some(place_id), true) = (role, place_id, problem.is_empty()) else {
        drop(tx);
        let editing = Editing { id, username: user.username.clone(), form: f };
        return users_page_with(&state, &me, &UserForm::default(), Some(&editing), StatusCode::UNPROCESSABLE_ENTITY, &problem, "").await;
    };
    users::update_profile(&mut tx, &me.user.actor(), id, &name, role, place_id, keys).await?;
    let moved = role != user.role || place_id != user.place_id;
    if moved {
        sessions::delete_for_user(&mut tx, id, None).await?;
    }
    tx.commit().await?;
    state.cache.forget_user(id);
    Ok(Redirect::to("/admin/users?done=saved").into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

pub async fn reset_password(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(f): Form<ResetForm>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let user = users::get(&mut tx, id).await?;
    if !me.scope.contains_place(&mut tx, user.place_id).await? {
        return Err(AppError::not_found("用户不存在"));
    }
    if user.role.is_officer() {
        return Err(AppError::forbidden(format!("{}的账号只能在服务器上用命令行管理（taizhang user passwd {}）", user.role.label(), user.username)));
    }
    let policy = auth::policy(&mut tx).await?;
    if let Err(why) = policy.check(&f.password, &user.username) {
        drop(tx);
        return users_page(&state, &me, &UserForm::default(), StatusCode::UNPROCESSABLE_ENTITY, &format!("「新的初始密码」{why}"), "").await;
    }
    drop(tx);
    let hash = state.hasher.hash(&f.password).await.map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, e))?;
    let mut tx = state.db.begin().await?;
    users::set_password(&mut tx, &me.user.actor(), id, &hash, true).await?;
    sessions::delete_for_user(&mut tx, id, None).await?;
    tx.commit().await?;
    state.cache.forget_user(id);
    users_page(&state, &me, &UserForm::default(), StatusCode::OK, "", &format!("已重置 {} 的密码，其登录已失效，下次登录须修改密码", user.username)).await
}

async fn defs_page(state: &AppState, me: &Me, text: &str, status: StatusCode, problem: &str, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let list: Vec<_> = defs.iter().map(|d| json!({"key": d.key, "name": d.name, "group": d.group, "fields": d.active_fields().count()})).collect();
    let mut ctx = views::layout(me, &defs, "台账定义", &[("系统管理", ""), ("台账定义", "")]);
    ctx.insert("defs".into(), json!(list));
    ctx.insert("text".into(), json!(text));
    ctx.insert("problem".into(), json!(problem));
    ctx.insert("notice".into(), json!(notice));
    ctx.insert("group".into(), json!("系统管理"));
    Ok((status, views::render("defs.html", &ctx.into())?).into_response())
}

pub async fn ledgers(State(state): State<AppState>, me: Me) -> AppResult<Response> {
    defs_page(&state, &me, "", StatusCode::OK, "", "").await
}

#[derive(Deserialize)]
pub struct DefineForm {
    #[serde(default)]
    definition: String,
}

pub async fn define_ledger(State(state): State<AppState>, me: Me, Form(f): Form<DefineForm>) -> AppResult<Response> {
    let def = match LedgerDef::from_toml(&f.definition) {
        Ok(d) => d,
        Err(e) => return defs_page(&state, &me, &f.definition, StatusCode::UNPROCESSABLE_ENTITY, &definition_error(&e.to_string()), "").await,
    };
    // Driven on a blocking thread: the storage future is not provably `Send` to the compiler.
    let (db, actor) = (state.db.clone(), me.user.actor());
    let handle = tokio::runtime::Handle::current();
    let saved = tokio::task::spawn_blocking(move || {
        handle.block_on(async move {
            let mut tx = db.begin().await?;
            let saved = ledgers::define(&mut tx, &actor, &def).await?;
            tx.commit().await?;
            Ok::<_, taizhang_storage::StoreError>(saved)
        })
    })
    .await
    .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("保存中断：{e}")))?;
    match saved {
        Ok(saved) => Ok(Redirect::to(&format!("/ledgers/{}", saved.key)).into_response()),
        Err(e) => defs_page(&state, &me, &f.definition, StatusCode::UNPROCESSABLE_ENTITY, &AppError::from(e).message, "").await,
    }
}

/// The kinds of field the definition form offers (a reference needs a target the form does not
/// ask for; it stays for definition files).
const FORM_KINDS: &[(&str, FieldKind)] = &[
    ("text", FieldKind::Text),
    ("integer", FieldKind::Integer),
    ("decimal", FieldKind::Decimal),
    ("money", FieldKind::Money),
    ("date", FieldKind::Date),
    ("month", FieldKind::Month),
    ("year", FieldKind::Year),
    ("enum", FieldKind::Enum),
    ("multi_enum", FieldKind::MultiEnum),
    ("boolean", FieldKind::Boolean),
];

const SUBJECTS: &[SubjectKind] = &[SubjectKind::None, SubjectKind::Person, SubjectKind::Household, SubjectKind::Cadre, SubjectKind::Organisation, SubjectKind::Place];

/// Blank field rows the form offers.
const NEW_ROWS: usize = 6;

/// The definition parser's messages in Chinese: where (line and column) and what.
pub fn definition_error(message: &str) -> String {
    let mut at = String::new();
    if let Some(i) = message.find("line ") {
        let rest = &message[i + 5..];
        let line: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !line.is_empty() {
            at = format!("第 {line} 行：");
        }
    }
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_string).unwrap_or_default();
    let what = if message.contains("missing field") {
        let f = quoted(&message[message.find("missing field").unwrap_or(0)..]);
        format!("缺少必填项「{f}」（{}）", definition_item(&f))
    } else if message.contains("unknown field") {
        format!("不认识的项「{}」", quoted(&message[message.find("unknown field").unwrap_or(0)..]))
    } else if message.contains("unknown variant") {
        format!("「{}」不是可选的值", quoted(&message[message.find("unknown variant").unwrap_or(0)..]))
    } else if message.contains("invalid type") {
        "值的类型不对（文字要加英文双引号，列表用方括号）".to_string()
    } else if message.contains("duplicate key") {
        format!("「{}」写了两次", quoted(message))
    } else if message.contains("expected") || message.contains("invalid") {
        "写法有误（检查引号、等号和方括号是否成对）".to_string()
    } else if message.is_ascii() {
        "定义写法有误".to_string()
    } else {
        // The definition's own checks speak Chinese already.
        return message.to_string();
    };
    format!("台账定义{at}{what}")
}

/// What an item of a definition file is, in words.
fn definition_item(key: &str) -> &'static str {
    match key {
        "key" => "英文键",
        "name" => "台账名称",
        "label" => "字段名称",
        "type" => "字段类型",
        "time" => "记录日期的字段",
        "fields" => "字段",
        "field" => "日期字段",
        _ => "见台账定义的写法",
    }
}

#[derive(Deserialize, Default)]
pub struct DefineParams {
    /// The ledger whose definition is loaded into the form to add fields.
    #[serde(default)]
    load: String,
}

/// One row of the form: a field as typed.
#[derive(Default, serde::Serialize, Clone)]
struct FieldRow {
    label: String,
    kind: String,
    options: String,
    required: bool,
    unit: String,
    help: String,
}

/// The form's values as typed, to render again.
#[derive(Default, serde::Serialize)]
struct DefineValues {
    base: String,
    name: String,
    group: String,
    subject: String,
    rows: Vec<FieldRow>,
}

async fn define_page(state: &AppState, me: &Me, v: &DefineValues, toml_text: &str, status: StatusCode, problem: &str, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    drop(tx);
    let existing = defs.iter().find(|d| !v.base.is_empty() && d.key == v.base).map(|d| {
        d.active_fields()
            .map(|f| json!({"label": f.label, "kind": f.kind.label(), "options": f.options.join("、"), "required": f.required, "unit": f.unit, "help": f.help}))
            .collect::<Vec<_>>()
    });
    let mut ctx = views::layout(me, &defs, "用表单定义台账", &[("系统管理", ""), ("台账定义", "/admin/ledgers"), ("用表单定义台账", "")]);
    ctx.insert("v".into(), json!(v));
    ctx.insert("existing".into(), json!(existing));
    ctx.insert("kinds".into(), json!(FORM_KINDS.iter().map(|(k, f)| (k, f.label())).collect::<Vec<_>>()));
    ctx.insert("subjects".into(), json!(SUBJECTS.iter().map(|s| (subject_key(*s), s.label())).collect::<Vec<_>>()));
    ctx.insert("ledgers".into(), json!(defs.iter().map(|d| (d.key.clone(), d.name.clone())).collect::<Vec<_>>()));
    ctx.insert("toml".into(), json!(toml_text));
    ctx.insert("problem".into(), json!(problem));
    ctx.insert("notice".into(), json!(notice));
    ctx.insert("group".into(), json!("系统管理"));
    Ok((status, views::render("define.html", &ctx.into())?).into_response())
}

fn subject_key(s: SubjectKind) -> &'static str {
    match s {
        SubjectKind::Person => "person",
        SubjectKind::Household => "household",
        SubjectKind::Cadre => "cadre",
        SubjectKind::Organisation => "organisation",
        SubjectKind::Place => "place",
        SubjectKind::None => "none",
    }
}

/// GET /admin/ledgers/form: a new ledger by a form, or (`load=`) an existing one's fields with
/// rows to add more.
pub async fn define_form(State(state): State<AppState>, me: Me, Query(p): Query<DefineParams>) -> AppResult<Response> {
    let mut v = DefineValues { subject: "none".into(), rows: vec![FieldRow::default(); NEW_ROWS], ..Default::default() };
    let mut text = String::new();
    if !p.load.trim().is_empty() {
        let mut tx = state.db.read().await?;
        let defs = super::all_defs(&mut tx).await?;
        let def = defs.iter().find(|d| d.key == p.load.trim() || d.name == p.load.trim()).ok_or_else(|| AppError::not_found("没有这个台账"))?;
        v.base = def.key.clone();
        v.name = def.name.clone();
        v.group = def.group.clone();
        v.subject = subject_key(def.subject).into();
        text = def.to_toml().unwrap_or_default();
    }
    define_page(&state, &me, &v, &text, StatusCode::OK, "", "").await
}

/// Reads the form into a definition: a new one (a key made up, time by its first date field),
/// or the loaded one with the rows added as new fields.
fn definition_from_form(form: &std::collections::HashMap<String, String>, defs: &[LedgerDef]) -> (DefineValues, Result<LedgerDef, String>) {
    let get = |k: &str| form.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut v = DefineValues { base: get("base"), name: get("name"), group: get("group"), subject: get("subject"), rows: Vec::new() };
    for i in 0..40 {
        if !form.contains_key(&format!("f{i}_label")) {
            break;
        }
        v.rows.push(FieldRow {
            label: get(&format!("f{i}_label")),
            kind: get(&format!("f{i}_type")),
            options: get(&format!("f{i}_options")),
            required: form.contains_key(&format!("f{i}_required")),
            unit: get(&format!("f{i}_unit")),
            help: get(&format!("f{i}_help")),
        });
    }
    let result = (|| -> Result<LedgerDef, String> {
        let base = defs.iter().find(|d| !v.base.is_empty() && d.key == v.base);
        if v.base.is_empty() && v.name.is_empty() {
            return Err("「台账名称」请填写".into());
        }
        let mut def = match base {
            Some(d) => d.clone(),
            None if !v.base.is_empty() => return Err("要增加字段的台账已不存在".into()),
            None => {
                if defs.iter().any(|d| d.name == v.name) {
                    return Err(format!("「台账名称」已有台账叫「{}」，要给它加字段请在上方选择它", v.name));
                }
                let mut n = defs.len() + 1;
                while defs.iter().any(|d| d.key == format!("custom_{n}")) {
                    n += 1;
                }
                let subject = SUBJECTS.iter().copied().find(|s| subject_key(*s) == v.subject).unwrap_or_default();
                LedgerDef {
                    key: format!("custom_{n}"),
                    name: v.name.clone(),
                    group: v.group.clone(),
                    description: String::new(),
                    version: 1,
                    subject,
                    time: taizhang_domain::ledger::TimeModel::Event { field: String::new() },
                    natural_key: Vec::new(),
                    concerns_year: false,
                    fields: Vec::new(),
                    required_when: Vec::new(),
                    workflow: None,
                }
            }
        };
        if base.is_some() {
            // The loaded ledger keeps its key and time; its name and group may be corrected.
            if !v.name.is_empty() {
                def.name = v.name.clone();
            }
            def.group = v.group.clone();
        }
        let mut n = def.fields.len() + 1;
        for (i, row) in v.rows.iter().enumerate() {
            if row.label.is_empty() {
                if !row.options.is_empty() || !row.unit.is_empty() || !row.help.is_empty() {
                    return Err(format!("第 {} 行字段：请填写「字段名称」", i + 1));
                }
                continue;
            }
            if def.fields.iter().any(|f| f.label == row.label && !f.retired) {
                return Err(format!("第 {} 行字段：已有字段叫「{}」", i + 1, row.label));
            }
            let Some((_, kind)) = FORM_KINDS.iter().find(|(k, _)| *k == row.kind) else {
                return Err(format!("第 {} 行字段「{}」：请选择类型", i + 1, row.label));
            };
            let options: Vec<String> = row.options.split(['、', ',', '，', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
            if matches!(kind, FieldKind::Enum | FieldKind::MultiEnum) && options.len() < 2 {
                return Err(format!("第 {} 行字段「{}」：单选、多选至少要有两个选项，用顿号分隔", i + 1, row.label));
            }
            if !options.is_empty() && !matches!(kind, FieldKind::Enum | FieldKind::MultiEnum) {
                return Err(format!("第 {} 行字段「{}」：只有单选、多选需要填选项", i + 1, row.label));
            }
            while def.fields.iter().any(|f| f.key == format!("f{n}")) {
                n += 1;
            }
            let mut field = json!({"key": format!("f{n}"), "label": row.label, "type": row.kind, "required": row.required});
            if !options.is_empty() {
                field["options"] = json!(options);
            }
            if !row.unit.is_empty() {
                field["unit"] = json!(row.unit);
            }
            if !row.help.is_empty() {
                field["help"] = json!(row.help);
            }
            if *kind == FieldKind::Decimal {
                field["scale"] = json!(2);
            }
            let field: taizhang_domain::ledger::FieldDef = serde_json::from_value(field).map_err(|e| format!("第 {} 行字段「{}」：{}", i + 1, row.label, definition_error(&e.to_string())))?;
            def.fields.push(field);
            n += 1;
        }
        if base.is_none() {
            let Some(date) = def.fields.iter().find(|f| matches!(f.kind, FieldKind::Date | FieldKind::Month)) else {
                return Err("请至少添加一个「日期」或「月份」字段：记录按它归入年度和月份".into());
            };
            def.time = taizhang_domain::ledger::TimeModel::Event { field: date.key.clone() };
        } else if def.fields.len() == base.map_or(0, |b| b.fields.len()) && base.is_some_and(|b| b.name == def.name && b.group == def.group) {
            return Err("没有要增加的字段：请在空行里填写字段名称和类型".into());
        }
        // Through the definition file's own checks, as a pasted definition would be.
        let text = def.to_toml().map_err(|e| definition_error(&e.to_string()))?;
        LedgerDef::from_toml(&text).map_err(|e| definition_error(&e.to_string()))
    })();
    (v, result)
}

/// POST /admin/ledgers/form: 预览 shows the definition the form makes; 保存 defines it (a new
/// ledger, or new fields of the loaded one) and opens its list.
pub async fn define_by_form(State(state): State<AppState>, me: Me, Form(form): Form<std::collections::HashMap<String, String>>) -> AppResult<Response> {
    let defs = {
        let mut tx = state.db.read().await?;
        super::all_defs(&mut tx).await?
    };
    let (v, result) = definition_from_form(&form, &defs);
    let def = match result {
        Ok(d) => d,
        Err(why) => return define_page(&state, &me, &v, "", StatusCode::UNPROCESSABLE_ENTITY, &why, "").await,
    };
    let text = def.to_toml().unwrap_or_default();
    if form.contains_key("preview") {
        return define_page(&state, &me, &v, &text, StatusCode::OK, "", "下面是表单生成的定义，确认无误后点「保存」").await;
    }
    match save_definition(&state, &me, def).await? {
        Ok(key) => Ok(Redirect::to(&format!("/ledgers/{key}")).into_response()),
        Err(why) => define_page(&state, &me, &v, &text, StatusCode::UNPROCESSABLE_ENTITY, &why, "").await,
    }
}

/// Defines a ledger (on a blocking thread: the storage future is not provably `Send`).
async fn save_definition(state: &AppState, me: &Me, def: LedgerDef) -> AppResult<Result<String, String>> {
    let (db, actor) = (state.db.clone(), me.user.actor());
    let handle = tokio::runtime::Handle::current();
    let saved = tokio::task::spawn_blocking(move || {
        handle.block_on(async move {
            let mut tx = db.begin().await?;
            let saved = ledgers::define(&mut tx, &actor, &def).await?;
            tx.commit().await?;
            Ok::<_, taizhang_storage::StoreError>(saved)
        })
    })
    .await
    .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("保存中断：{e}")))?;
    Ok(saved.map(|d| d.key).map_err(|e| AppError::from(e).message))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_definition_parsers_english_comes_out_in_chinese() {
        let e = taizhang_domain::ledger::LedgerDef::from_toml("key = \"x\"").err().map(|e| e.to_string()).unwrap_or_default();
        let c = super::definition_error(&e);
        assert!(c.contains("缺少必填项") && c.is_char_boundary(0) && !c.contains("missing"), "{c}");
        let e = taizhang_domain::ledger::LedgerDef::from_toml("key = \n").err().map(|e| e.to_string()).unwrap_or_default();
        let c = super::definition_error(&e);
        assert!(c.starts_with("台账定义第 1 行") && !c.chars().any(|ch| ch.is_ascii_alphabetic()), "{c}");
        assert_eq!(super::definition_error("字段「甲」重复"), "字段「甲」重复", "Chinese messages pass through");
    }
}

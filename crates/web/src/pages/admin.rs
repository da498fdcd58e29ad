//! For 管理员 and 领导: the audit trail, user administration and clerk-defined ledgers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::role::Role;
use taizhang_storage::audit::{self, AuditQuery};
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::{ledgers, places, sessions};

use crate::auth::{self, Me};
use crate::error::{AppError, AppResult};
use crate::{views, AppState};

fn action_label(a: &str) -> &str {
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
        other => other,
    }
}

fn entity_label(e: &str) -> &str {
    match e {
        "persons" => "人员",
        "households" => "户",
        "places" => "区划",
        "users" => "用户",
        "sessions" => "登录",
        "cadres" => "干部",
        "organisations" => "单位",
        "ledger_defs" => "台账定义",
        "settings" => "参数",
        other => other,
    }
}

#[derive(Deserialize, Default)]
pub struct AuditParams {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    entity: String,
}

pub async fn audit(State(state): State<AppState>, me: Me, Query(p): Query<AuditParams>) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let q = AuditQuery {
        actor: Some(p.actor.trim().to_string()).filter(|s| !s.is_empty()),
        entity: Some(p.entity.trim().to_string()).filter(|s| !s.is_empty()),
        limit: 200,
        ..Default::default()
    };
    let entries: Vec<_> = audit::list(&mut tx, &me.scope, &q)
        .await?
        .into_iter()
        .map(|e| {
            let entity = match e.entity.strip_prefix("ld_") {
                Some(k) => defs.iter().find(|d| d.key == k).map_or_else(|| e.entity.clone(), |d| d.name.clone()),
                None => entity_label(&e.entity).to_string(),
            };
            json!({"at": e.at.get(..19).unwrap_or(&e.at).replace('T', " "), "actor": e.actor, "action": action_label(&e.action), "entity": entity, "entity_id": e.entity_id, "last_entity_id": e.last_entity_id, "note": me.policy().text(&e.note)})
        })
        .collect();
    let mut ctx = views::layout(&me, &defs, "操作日志", &[("系统管理", ""), ("操作日志", "")]);
    ctx.insert("entries".into(), json!(entries));
    ctx.insert("actor".into(), json!(p.actor));
    ctx.insert("entity".into(), json!(p.entity));
    ctx.insert("group".into(), json!("系统管理"));
    views::render("audit.html", &ctx.into())
}

/// The filters of the report of who read whose data: a person (人员编号 `#12`/`12`, or the whole
/// ID number), a ledger (key or name, or 人员 for the registry) and one of its records, a user,
/// and days from and to (inclusive).
#[derive(Deserialize, Default, serde::Serialize, Debug)]
pub struct ReadsParams {
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub ledger: String,
    #[serde(default)]
    pub record: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// The read entries the filters select, within the auditor's scope, newest first, each as the
/// report shows it.
pub async fn read_report(tx: &mut taizhang_storage::Tx, me: &Me, p: &ReadsParams) -> AppResult<Vec<serde_json::Value>> {
    use taizhang_storage::reads::{self, ReadQuery};
    let defs = super::all_defs(tx).await?;
    let date = |text: &str, label: &str| -> AppResult<Option<chrono::NaiveDate>> {
        match text.trim() {
            "" => Ok(None),
            t => taizhang_domain::period::parse_date_lenient(t).map(Some).map_err(|e| AppError::bad_request(format!("「{label}」{e}"))),
        }
    };
    let person = match p.person.trim().trim_start_matches('#') {
        "" => None,
        t if t.len() <= 12 && t.chars().all(|c| c.is_ascii_digit()) => {
            let id: i64 = t.parse().map_err(|_| AppError::bad_request("「人员」请填人员编号或完整的身份证号"))?;
            Some(taizhang_storage::persons::get(tx, &me.scope, id).await?.id)
        }
        t => {
            let number = taizhang_domain::ident::clean(t).to_uppercase();
            match taizhang_storage::persons::by_id_number(tx, &me.scope, &number).await? {
                Some(found) => Some(found.id),
                None => return Err(AppError::not_found("没有这个人员，或不在您的管辖范围内")),
            }
        }
    };
    let entity = match p.ledger.trim() {
        "" => None,
        "persons" | "人员" | "人员库" => Some("persons".to_string()),
        t => Some(defs.iter().find(|d| d.key == t || d.name == t).map(LedgerDef::table_name).ok_or_else(|| AppError::not_found(format!("没有台账「{t}」")))?),
    };
    let record = match p.record.trim().trim_start_matches('#') {
        "" => None,
        t => Some(t.parse::<i64>().map_err(|_| AppError::bad_request("「记录编号」应为数字"))?),
    };
    if record.is_some() && entity.is_none() {
        return Err(AppError::bad_request("按记录查询时请同时选择台账"));
    }
    let q = ReadQuery {
        person,
        entity,
        record,
        actor: Some(p.user.trim().to_string()).filter(|s| !s.is_empty()),
        from: date(&p.from, "起始日期")?,
        to: date(&p.to, "截止日期")?,
        limit: p.limit.unwrap_or(200).clamp(1, 1000),
    };
    let entries = reads::list(tx, &me.scope, &q).await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let what = match e.entity.strip_prefix("ld_") {
                Some(k) => defs.iter().find(|d| d.key == k).map_or_else(|| e.entity.clone(), |d| d.name.clone()),
                None => entity_label(&e.entity).to_string(),
            };
            json!({
                "id": e.id, "at": e.at.get(..19).unwrap_or(&e.at).replace('T', " "), "user": e.actor, "entity": e.entity, "what": what,
                "count": e.count, "ids": e.ids, "persons": e.persons, "filter": e.filter, "note": e.note, "place_id": e.place_id,
            })
        })
        .collect())
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
}

async fn users_page(state: &AppState, me: &Me, form: &UserForm, status: StatusCode, problem: &str, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let mut list = Vec::new();
    for u in users::list(&mut tx).await? {
        if !me.scope.contains_place(&mut tx, u.place_id).await? {
            continue;
        }
        let now = taizhang_storage::now();
        // The 安全管理员's and 审计管理员's accounts are listed but kept at the console (三员分立).
        list.push(json!({"id": u.id, "username": u.username, "name": u.display_name, "role": u.role.label(), "place": super::place_name(&mut tx, u.place_id).await, "ledgers": u.ledgers.join("、"), "disabled": u.disabled, "must": u.must_change_password, "locked": u.locked_at(now), "officer": u.role.is_officer(), "me": u.id == me.user.id}));
    }
    let place_list: Vec<_> = places::subtree(&mut tx, &me.scope).await?.into_iter().map(|p| json!({"id": p.id, "name": p.name})).collect();
    let mut ctx = views::layout(me, &defs, "用户管理", &[("系统管理", ""), ("用户管理", "")]);
    ctx.insert("users".into(), json!(list));
    ctx.insert("places".into(), json!(place_list));
    ctx.insert("roles".into(), json!(Role::BUSINESS.iter().map(|r| (r.key(), r.label())).collect::<Vec<_>>()));
    let policy = auth::policy(&mut tx).await?;
    ctx.insert("rules".into(), json!(policy.describe()));
    ctx.insert("form".into(), json!({"username": form.username, "name": form.name, "role": form.role, "ledgers": form.ledgers}));
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
    let ledger_keys: Vec<String> = f.ledgers.split([',', '，', '、', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
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
        Err(e) => return defs_page(&state, &me, &f.definition, StatusCode::UNPROCESSABLE_ENTITY, &e.to_string(), "").await,
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

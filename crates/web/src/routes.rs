//! Every route of the application, in one table: method, path, who may call it, and how it is
//! confined. The router is built from this table, and so are the OpenAPI document and the
//! confinement test matrix (`tests/confinement.rs`), so a route cannot exist without a stated
//! confinement and a test of it.

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;
use taizhang_domain::role::Role;

use crate::{api, guard, pages, AppState};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in page, stylesheet, API description).
    Anyone,
    /// Any signed-in user, for their own account (sign-out, password, who am I): the 安全管理员
    /// and 审计管理员 included.
    Own,
    /// Any signed-in user of a business role (系统管理员, 领导, 业务员, 村干部): not the 安全管理员
    /// and 审计管理员, who see no town data (三员分立).
    Signed,
    /// A user who may edit the ledger named by `{key}` (管理员, 村干部, a 业务员 it is assigned to).
    Editor,
    /// A user who may work the workflow of the ledger named by `{key}`: every role (the
    /// workflow itself says which role makes which transition), a 业务员 only on ledgers
    /// assigned to them.
    Worker,
    /// Only these roles.
    Roles(&'static [Role]),
}

/// How a route is confined to the caller's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confinement {
    /// Shows or changes no data of any place (forms, definitions, the caller's own account).
    NoPlaceData,
    /// Lists, searches or counts: only what lies in the caller's scope appears.
    Filtered,
    /// Names one person, record or place by id or code: outside the scope it is "not found".
    ById,
}

pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub confinement: Confinement,
    pub summary: &'static str,
    pub handler: fn() -> MethodRouter<AppState>,
}

impl RouteSpec {
    pub fn is_api(&self) -> bool {
        self.path.starts_with("/api/")
    }
}

/// The largest workbook an import accepts.
const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// The largest upload of evidence: the highest per-file limit a setting may give
/// (`attachments::CEILING_MB`), with room for the form around it; the setting's own limit is
/// applied while the file arrives (`pages::attachments::upload`).
const ATTACHMENT_LIMIT: usize = (taizhang_storage::attachments::CEILING_MB as usize + 1) * 1024 * 1024;

/// The 系统管理员: users, definitions, settings.
const ADMIN: &[Role] = &[Role::Admin];
/// The 审计管理员 alone reads and exports the audit trail (三员分立).
pub const AUDITORS: &[Role] = &[Role::AuditAdmin];
/// The 安全管理员 alone sets the security policy.
const SECURITY: &[Role] = &[Role::SecurityAdmin];
/// Who may unlock an account: the 安全管理员 (any account), the 系统管理员 (the accounts he keeps).
const UNLOCKERS: &[Role] = &[Role::Admin, Role::SecurityAdmin];
/// Who sets settings through the API: the 系统管理员 (the town's figures and rules) and the
/// 安全管理员 (the security policy); each only his own group.
const SETTERS: &[Role] = &[Role::Admin, Role::SecurityAdmin];
/// Who keeps the registry (persons, households, cadres): 管理员, 业务员, 村干部 (in their village).
pub const WRITERS: &[Role] = &[Role::Admin, Role::Clerk, Role::VillageCadre];

macro_rules! r {
    ($m:literal, $p:literal, $a:expr, $c:ident, $s:literal, $h:expr) => {
        RouteSpec { method: $m, path: $p, access: $a, confinement: Confinement::$c, summary: $s, handler: || $h }
    };
}

use Access::{Anyone, Editor, Own, Roles, Signed, Worker};

pub static ROUTES: &[RouteSpec] = &[
    // Sign-in and account.
    r!("GET", "/login", Anyone, NoPlaceData, "登录页", get(pages::account::login_form)),
    r!("POST", "/login", Anyone, NoPlaceData, "登录", post(pages::account::login)),
    r!("POST", "/logout", Own, NoPlaceData, "退出登录", post(pages::account::logout)),
    r!("GET", "/password", Own, NoPlaceData, "修改密码页", get(pages::account::password_form)),
    r!("POST", "/password", Own, NoPlaceData, "修改密码", post(pages::account::change_password)),
    r!("GET", "/static/app.css", Anyone, NoPlaceData, "样式表", get(pages::stylesheet)),
    r!("GET", "/static/app.js", Anyone, NoPlaceData, "脚本（引用字段的输入提示）", get(pages::script)),
    r!("GET", "/sw.js", Anyone, NoPlaceData, "离线表单的 Service Worker（断网时打开走访等新增表单）", get(pages::service_worker)),
    // Work pages.
    r!("GET", "/", Signed, Filtered, "首页（年度指标、图表、在办与逾期；村干部：本村待办）", get(pages::village::home)),
    r!("GET", "/search", Signed, Filtered, "按姓名或身份证号查人", get(pages::registry::search)),
    r!("GET", "/persons/new", Roles(WRITERS), NoPlaceData, "登记人员表单", get(pages::registry::new_person_form)),
    r!("POST", "/persons/new", Roles(WRITERS), Filtered, "登记人员", post(pages::registry::create_person)),
    r!("GET", "/persons/{id}", Signed, ById, "人员详情（状态、修改记录）", get(pages::person::page)),
    r!("POST", "/persons/{id}", Roles(WRITERS), ById, "更正人员信息", post(pages::person::correct)),
    r!("POST", "/persons/{id}/status", Roles(WRITERS), ById, "人员状态变更", post(pages::person::change_status)),
    r!("GET", "/households/{id}", Signed, ById, "户详情（成员、变动历史、相关记录）", get(pages::household::page)),
    r!("POST", "/households/{id}/join", Roles(WRITERS), ById, "成员加入", post(pages::household::join_form)),
    r!("POST", "/households/{id}/leave", Roles(WRITERS), ById, "成员迁出", post(pages::household::leave_form)),
    r!("POST", "/households/{id}/head", Roles(WRITERS), ById, "户主变更", post(pages::household::head_form)),
    r!("POST", "/households/{id}/split", Roles(WRITERS), ById, "分户", post(pages::household::split_form)),
    r!("POST", "/households/{id}/move", Roles(WRITERS), ById, "整户迁移", post(pages::household::move_form)),
    r!("GET", "/cadres", Signed, Filtered, "干部名册", get(pages::cadres::cadres)),
    r!("POST", "/cadres/{id}/edit", Roles(WRITERS), ById, "修改干部信息", post(pages::cadres::edit_cadre)),
    r!("POST", "/cadres/{id}/end", Roles(WRITERS), ById, "干部离任", post(pages::cadres::end_cadre)),
    r!("GET", "/orgs", Signed, Filtered, "单位名录", get(pages::cadres::organisations)),
    r!("POST", "/orgs/{id}/end", Roles(WRITERS), ById, "单位注销", post(pages::cadres::end_org)),
    r!("GET", "/ledgers", Signed, NoPlaceData, "全部台账", get(pages::ledger::index)),
    r!("GET", "/ledgers/{key}", Signed, Filtered, "台账列表", get(pages::ledger::list)),
    r!("GET", "/ledgers/{key}/new", Editor, NoPlaceData, "新增记录表单", get(pages::record::new_form)),
    r!("POST", "/ledgers/{key}/new", Editor, Filtered, "新增记录", post(pages::record::create)),
    r!("GET", "/ledgers/{key}/export", Signed, Filtered, "导出台账", get(pages::exchange::export)),
    r!("GET", "/ledgers/{key}/template", Signed, NoPlaceData, "下载导入模板", get(pages::exchange::template)),
    r!("GET", "/ledgers/{key}/{id}", Signed, ById, "查看、编辑记录", get(pages::record::show)),
    r!("POST", "/ledgers/{key}/{id}", Editor, ById, "保存记录", post(pages::record::update)),
    r!("POST", "/ledgers/{key}/{id}/transition", Worker, ById, "办理流程环节", post(pages::record::transition)),
    r!("POST", "/ledgers/{key}/{id}/void", Editor, ById, "作废记录（须说明原因）", post(pages::record::void)),
    r!("POST", "/ledgers/{key}/{id}/restore", Roles(ADMIN), ById, "恢复作废的记录", post(pages::record::restore)),
    r!("POST", "/ledgers/{key}/{id}/attachments", Editor, ById, "上传佐证材料（照片、PDF、Word、Excel）", post(pages::attachments::upload).layer(DefaultBodyLimit::max(ATTACHMENT_LIMIT))),
    r!("GET", "/ledgers/{key}/{id}/attachments/{aid}", Signed, ById, "佐证材料原件（照片在页面中显示，其余下载）", get(pages::attachments::original)),
    r!("POST", "/ledgers/{key}/{id}/attachments/{aid}/void", Editor, ById, "撤下佐证材料（须说明原因）", post(pages::attachments::remove)),
    r!("GET", "/ledgers/{key}/{id}/attachments.zip", Signed, ById, "下载记录及佐证材料（zip）", get(pages::attachments::zip)),
    r!("GET", "/import", Roles(WRITERS), NoPlaceData, "导入页", get(pages::import::form)),
    r!("POST", "/import", Roles(WRITERS), Filtered, "上传并试导入", post(pages::import::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT))),
    r!("POST", "/import/confirm", Roles(WRITERS), Filtered, "确认导入", post(pages::import::confirm)),
    r!("GET", "/import/errors", Roles(WRITERS), NoPlaceData, "下载试导入的错误清单（仅上传者本人）", get(pages::import::errors)),
    r!("GET", "/import/templates/{target}", Roles(WRITERS), NoPlaceData, "下载人员、户、干部、单位的导入模板", get(pages::import::template)),
    r!("GET", "/checks", Signed, Filtered, "数据核查", get(pages::reports::checks)),
    r!("GET", "/reports", Signed, NoPlaceData, "报表与总结", get(pages::reports::form)),
    r!("GET", "/reports/preview", Signed, ById, "报表预览", get(pages::reports::preview)),
    r!("GET", "/reports/download", Signed, ById, "下载报表（Word）", get(pages::reports::download)),
    r!("GET", "/reports/form", Signed, ById, "下载填好的县级报表（Excel）", get(pages::reports::filled_form)),
    r!("GET", "/explain/{key}", Signed, Filtered, "指标明细（数字背后的记录）", get(pages::reports::explain)),
    r!("GET", "/verify", Signed, NoPlaceData, "校核页（上传稿件，与台账逐个核对数字）", get(pages::verify::form)),
    r!("POST", "/verify", Signed, ById, "校核稿件（在本人范围内逐个核对数字，稿件不保存）", post(pages::verify::check).layer(DefaultBodyLimit::max(pages::verify::DRAFT_LIMIT))),
    r!("POST", "/verify/docx", Signed, ById, "下载带批注的 Word（重新上传同一稿件）", post(pages::verify::docx).layer(DefaultBodyLimit::max(pages::verify::DRAFT_LIMIT))),
    r!("GET", "/audit", Roles(AUDITORS), Filtered, "操作日志", get(pages::admin::audit)),
    r!("GET", "/audit/export", Roles(AUDITORS), Filtered, "导出操作日志（CSV）", get(pages::security::export_audit)),
    r!("GET", "/audit/reads", Roles(AUDITORS), Filtered, "个人信息查看记录（谁看了谁的信息）", get(pages::admin::reads)),
    r!("GET", "/admin/users", Roles(ADMIN), NoPlaceData, "用户管理", get(pages::admin::users)),
    r!("POST", "/admin/users", Roles(ADMIN), NoPlaceData, "新增用户", post(pages::admin::add_user)),
    r!("GET", "/admin/users/{id}", Roles(ADMIN), NoPlaceData, "修改用户表单（姓名、角色、管辖范围、台账）", get(pages::admin::edit_user_form)),
    r!("POST", "/admin/users/{id}", Roles(ADMIN), NoPlaceData, "保存用户信息", post(pages::admin::edit_user)),
    r!("POST", "/admin/users/{id}/password", Roles(ADMIN), NoPlaceData, "重置用户密码", post(pages::admin::reset_password)),
    r!("POST", "/admin/users/{id}/disable", Roles(ADMIN), NoPlaceData, "停用账号", post(pages::security::disable)),
    r!("POST", "/admin/users/{id}/enable", Roles(ADMIN), NoPlaceData, "启用账号", post(pages::security::enable)),
    r!("POST", "/admin/users/{id}/unlock", Roles(UNLOCKERS), NoPlaceData, "解除账号锁定", post(pages::security::unlock)),
    r!("GET", "/admin/security", Roles(SECURITY), NoPlaceData, "安全策略（密码、锁定、登录超时）与锁定的账号", get(pages::security::page)),
    r!("POST", "/admin/security", Roles(SECURITY), NoPlaceData, "保存安全策略", post(pages::security::update)),
    r!("GET", "/admin/ledgers", Roles(ADMIN), NoPlaceData, "台账定义", get(pages::admin::ledgers)),
    r!("POST", "/admin/ledgers", Roles(ADMIN), NoPlaceData, "新增或修改台账定义", post(pages::admin::define_ledger)),
    r!("GET", "/admin/ledgers/form", Roles(ADMIN), NoPlaceData, "用表单定义台账（或给已有台账加字段）", get(pages::admin::define_form)),
    r!("POST", "/admin/ledgers/form", Roles(ADMIN), NoPlaceData, "预览或保存表单定义的台账", post(pages::admin::define_by_form)),
    r!("GET", "/admin/settings", Roles(ADMIN), NoPlaceData, "参数设置（监测标准、下达指标、本地规则）", get(pages::settings::page)),
    r!("POST", "/admin/settings", Roles(ADMIN), NoPlaceData, "保存一项参数", post(pages::settings::update)),
    // JSON API.
    r!("GET", "/api/v1/openapi.json", Anyone, NoPlaceData, "本接口的 OpenAPI 3 描述", get(api::openapi)),
    r!("GET", "/api/v1/me", Own, NoPlaceData, "当前用户", get(api::me)),
    r!("GET", "/api/v1/search", Signed, Filtered, "查找（q=姓名、户编号、身份证号；kind=person、household、cadre 或 ledger:台账；id=编号）：引用字段的输入提示", get(api::pick)),
    r!("GET", "/api/v1/persons", Signed, Filtered, "查人（q=姓名或身份证号）", get(api::persons)),
    r!("POST", "/api/v1/persons", Roles(WRITERS), Filtered, "登记人员", post(api::create_person)),
    r!("GET", "/api/v1/persons/{id}", Signed, ById, "人员详情", get(api::person)),
    r!("PUT", "/api/v1/persons/{id}", Roles(WRITERS), ById, "更正人员信息（须带 version；改姓名、身份号码须说明原因）", put(api::correct_person)),
    r!("POST", "/api/v1/persons/{id}/status", Roles(WRITERS), ById, "人员状态变更（死亡、迁出、迁入、失联、正常）", post(api::person_status)),
    r!("GET", "/api/v1/households/{id}", Signed, ById, "户详情及成员", get(api::household)),
    r!("POST", "/api/v1/households/{id}/join", Roles(WRITERS), ById, "成员加入", post(api::household_join)),
    r!("POST", "/api/v1/households/{id}/leave", Roles(WRITERS), ById, "成员迁出", post(api::household_leave)),
    r!("POST", "/api/v1/households/{id}/head", Roles(WRITERS), ById, "户主变更", post(api::household_head)),
    r!("POST", "/api/v1/households/{id}/split", Roles(WRITERS), ById, "分户（返回新户）", post(api::household_split)),
    r!("POST", "/api/v1/households/{id}/move", Roles(WRITERS), ById, "整户迁移", post(api::household_move)),
    r!("GET", "/api/v1/ledgers", Signed, NoPlaceData, "全部台账定义", get(api::ledgers)),
    r!("GET", "/api/v1/ledgers/{key}/records", Signed, Filtered, "台账记录列表", get(api::records)),
    r!("POST", "/api/v1/ledgers/{key}/records", Editor, Filtered, "新增记录", post(api::create_record)),
    r!("GET", "/api/v1/ledgers/{key}/records/{id}", Signed, ById, "一条记录", get(api::record)),
    r!("PUT", "/api/v1/ledgers/{key}/records/{id}", Editor, ById, "修改记录（须带 version）", put(api::update_record)),
    r!("POST", "/api/v1/ledgers/{key}/records/{id}/transitions/{transition}", Worker, ById, "办理流程环节", post(api::transition_record)),
    r!("POST", "/api/v1/ledgers/{key}/records/{id}/void", Editor, ById, "作废记录（须带 version 和 reason）", post(api::void_record)),
    r!("POST", "/api/v1/ledgers/{key}/records/{id}/restore", Roles(ADMIN), ById, "恢复作废的记录（须带 version）", post(api::restore_record)),
    r!("GET", "/api/v1/indicators", Signed, ById, "年度指标", get(api::indicators)),
    r!("GET", "/api/v1/checks", Signed, ById, "数据核查结果", get(api::checks)),
    r!("GET", "/api/v1/audit", Roles(AUDITORS), Filtered, "操作日志", get(api::audit)),
    r!("GET", "/api/v1/audit/reads", Roles(AUDITORS), Filtered, "个人信息查看记录（person=人员编号或身份证号、ledger、record、user、from、to）", get(api::reads)),
    r!("GET", "/api/v1/settings", Signed, NoPlaceData, "全部参数及某年度的取值（year=年度）", get(api::settings_list)),
    r!("PUT", "/api/v1/settings", Roles(SETTERS), NoPlaceData, "设置一项参数", put(api::settings_update)),
];

/// Builds the router from [`ROUTES`], each route behind the guard that enforces its access.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for spec in ROUTES {
        let layer = middleware::from_fn_with_state((state.clone(), spec), guard::guard);
        router = router.route(spec.path, (spec.handler)().layer(layer));
    }
    // Outermost: every answer, the fallback's 404 and any error included, gets the security
    // headers.
    let headers = middleware::from_fn_with_state(state.clone(), crate::security::headers);
    router.fallback(guard::not_found).layer(headers).with_state(state)
}

//! Page templates (minijinja, embedded in the binary) and the layout every page shares: top
//! bar, the left menu grouped by line of work, breadcrumb.

use std::hash::{Hash, Hasher};
use std::sync::{Mutex, OnceLock};

use axum::response::Html;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use serde_json::{json, Map, Value};
use taizhang_domain::ledger::LedgerDef;

use crate::auth::Me;
use crate::error::AppResult;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("password.html", include_str!("../templates/password.html")),
    ("dashboard.html", include_str!("../templates/dashboard.html")),
    ("ledgers.html", include_str!("../templates/ledgers.html")),
    ("list.html", include_str!("../templates/list.html")),
    ("record.html", include_str!("../templates/record.html")),
    ("record_progress.html", include_str!("../templates/record_progress.html")),
    ("attachments.html", include_str!("../templates/attachments.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("person.html", include_str!("../templates/person.html")),
    ("household.html", include_str!("../templates/household.html")),
    ("person_form.html", include_str!("../templates/person_form.html")),
    ("import.html", include_str!("../templates/import.html")),
    ("checks.html", include_str!("../templates/checks.html")),
    ("reports.html", include_str!("../templates/reports.html")),
    ("explain.html", include_str!("../templates/explain.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("audit_reads.html", include_str!("../templates/audit_reads.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("define.html", include_str!("../templates/define.html")),
    ("settings.html", include_str!("../templates/settings.html")),
    ("security.html", include_str!("../templates/security.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("cadres.html", include_str!("../templates/cadres.html")),
    ("orgs.html", include_str!("../templates/orgs.html")),
    ("defs.html", include_str!("../templates/defs.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("village.html", include_str!("../templates/village.html")),
    ("verify.html", include_str!("../templates/verify.html")),
];

/// The menu's lines of work, in the order township staff expect.
const GROUP_ORDER: &[&str] = &["党建学习", "乡村振兴", "社会救助", "平安建设", "安全生产", "农业农村", "项目建设", "社保医保", "人居环境"];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        // `{{ e.actor|actor }}`: an audit name as users read it (系统（命令行）, 演示数据, a user name).
        env.add_filter("actor", |name: String| taizhang_domain::role::Actor::label_of(&name).to_string());
        for (name, src) in TEMPLATES {
            if let Err(e) = env.add_template(name, src) {
                eprintln!("页面模板 {name} 有误：{e}");
            }
        }
        env
    })
}

/// A signed-in page's context: what the handler inserts, and the menu, which is built once per
/// set of ledger definitions and shared by every page.
pub struct Page {
    values: Map<String, Value>,
    menu: minijinja::Value,
}

impl Page {
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.values.insert(key, value)
    }
}

impl From<Page> for minijinja::Value {
    fn from(page: Page) -> minijinja::Value {
        minijinja::context! { menu => page.menu, ..minijinja::Value::from_serialize(&page.values) }
    }
}

/// Renders a template with a page's context (`&page.into()`).
pub fn render(name: &str, ctx: &minijinja::Value) -> AppResult<Html<String>> {
    let t = env().get_template(name)?;
    Ok(Html(t.render(ctx)?))
}

/// A page without the signed-in layout (sign-in).
pub fn render_plain(name: &str, ctx: &Value) -> AppResult<Html<String>> {
    let t = env().get_template(name)?;
    Ok(Html(t.render(minijinja::Value::from_serialize(ctx))?))
}

/// A page without the signed-in layout (errors, sign-in).
pub fn error_page(title: &str, message: &str) -> String {
    let ctx = json!({ "title": title, "message": message });
    env()
        .get_template("error.html")
        .and_then(|t| t.render(minijinja::Value::from_serialize(&ctx)))
        .unwrap_or_else(|_| format!("<!doctype html><meta charset=utf-8><p>{title}</p>"))
}

#[derive(Serialize)]
struct MenuGroup {
    name: String,
    ledgers: Vec<(String, String)>,
}

fn menu(defs: &[&LedgerDef]) -> Vec<MenuGroup> {
    let mut groups: Vec<MenuGroup> = Vec::new();
    for d in defs {
        let name = if d.group.is_empty() { "其他".to_string() } else { d.group.clone() };
        match groups.iter_mut().find(|g| g.name == name) {
            Some(g) => g.ledgers.push((d.key.clone(), d.name.clone())),
            None => groups.push(MenuGroup { name, ledgers: vec![(d.key.clone(), d.name.clone())] }),
        }
    }
    groups.sort_by_key(|g| GROUP_ORDER.iter().position(|o| *o == g.name).unwrap_or(GROUP_ORDER.len()));
    groups
}

/// The menu for these definitions as the templates take it, made again only when a ledger's key,
/// name or group differs from the last time.
fn menu_value(defs: &[&LedgerDef]) -> minijinja::Value {
    static MENU: Mutex<Option<(u64, minijinja::Value)>> = Mutex::new(None);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for d in defs {
        (&d.key, &d.name, &d.group).hash(&mut h);
    }
    let fingerprint = h.finish();
    let mut last = MENU.lock().unwrap_or_else(|e| e.into_inner());
    match &*last {
        Some((f, v)) if *f == fingerprint => v.clone(),
        _ => {
            let v = minijinja::Value::from_serialize(menu(defs));
            *last = Some((fingerprint, v.clone()));
            v
        }
    }
}

/// The sign-in before this one (time and address) and the failed attempts since, shown in the
/// top bar of every page; empty at a first sign-in.
pub fn last_sign_in(me: &Me) -> String {
    let Some((at, from)) = &me.user.previous_sign_in else { return String::new() };
    let at = at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M");
    let failed = match me.user.failures_before_sign_in {
        0 => String::new(),
        n => format!("，此后登录失败 {n} 次"),
    };
    format!("上次登录 {at}，来自 {from}{failed}")
}

/// The context every signed-in page starts from. `crumbs` are (label, link) after 首页.
pub fn layout(me: &Me, defs: &[LedgerDef], title: &str, crumbs: &[(&str, &str)]) -> Page {
    let mut m = Map::new();
    m.insert("title".into(), json!(title));
    m.insert(
        "me".into(),
        json!({
            "username": me.user.username,
            "name": if me.user.display_name.is_empty() { &me.user.username } else { &me.user.display_name },
            "role": me.user.role.key(),
            "role_label": me.user.role.label(),
            "place": me.place_name,
            "csrf": me.csrf,
            "officer": me.user.role.is_officer(),
            "last_sign_in": last_sign_in(me),
            "may_read_audit": me.may_read_audit(),
        }),
    );
    m.insert("crumbs".into(), json!(crumbs.iter().map(|(l, h)| json!({"label": l, "href": h})).collect::<Vec<_>>()));
    // The menu names only ledgers this user may read (`Me::may_read_ledger`).
    let readable: Vec<&LedgerDef> = defs.iter().filter(|d| me.may_read_ledger(d)).collect();
    Page { values: m, menu: menu_value(&readable) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles() {
        for (name, _) in super::TEMPLATES {
            assert!(super::env().get_template(name).is_ok(), "{name}");
        }
    }
}

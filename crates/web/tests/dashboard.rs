//! The head of the town's dashboard: it opens on the latest year with data, its cards are the
//! ones the setting 首页卡片 names (with target, completion and change on the year before),
//! every overdue item names its subject and village and links to it, and villages are in
//! their code order.

mod common;

use chrono::Datelike;
use common::{both, Server};
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::role::Actor;
use taizhang_domain::setting::SettingValue;
use taizhang_storage::places::{self, NewPlace};

/// A third village whose code comes first, made last, and whose name sorts between the others:
/// code order (竹园村, 坪溪村, 金竹村) is neither id nor name order.
const VILLAGE_C: &str = "431224110200";

fn exec(s: &Server, sql: &str) {
    let db = s.db.clone();
    let sql = sql.to_string();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        tx.exec(&sql, &[]).await.expect("exec");
        tx.commit().await.expect("commit");
    });
}

fn set_cards(s: &Server, text: &str) {
    let db = s.db.clone();
    let text = text.to_string();
    s.rt.block_on(async move {
        let all = taizhang_domain::setting::builtin().expect("settings");
        let def = all.iter().find(|d| d.key == "dashboard:cards").expect("the cards setting").clone();
        let mut tx = db.begin().await.expect("begin");
        taizhang_storage::settings::set_value(&mut tx, &Actor::System, &def, 0, &SettingValue::Text(text)).await.expect("set");
        tx.commit().await.expect("commit");
    });
}

/// The text of the card with this id, up to its end.
fn card<'a>(page: &'a str, id: &str) -> &'a str {
    let from = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("card {id} on the page: {page}"));
    let rest = &page[from..];
    &rest[..rest.find("</div>").unwrap_or(rest.len())]
}

fn run(s: &Server) {
    let today = chrono::Local::now().date_naive();
    let last = today.year() - 1;
    let town = s.scalar("SELECT id FROM places WHERE level = 'town'");
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        places::create(&mut tx, &Actor::System, NewPlace { parent_id: Some(town), level: PlaceLevel::Village, code: Some(VILLAGE_C), name: "竹园村", attributes: vec![] }).await.expect("village c");
        tx.commit().await.expect("commit");
    });
    // A third gas hazard, in the village whose code comes first.
    let mut clerk = s.signed_in("clerk");
    let r = clerk.post_json(
        "/api/v1/ledgers/hazards/records",
        &serde_json::json!({"place": VILLAGE_C, "values": {"found_on": format!("{}-01-20", today.year()), "industry": "燃气", "level": "一般", "location": "竹园村村部旁", "description": "液化气瓶露天存放"}}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let c_id = r.json()["id"].as_i64().expect("id");
    // Every record belongs to last year, and every hazard is past its 整改期限.
    exec(s, &format!("UPDATE ld_hazards SET found_on = '{last}-01-15', rectify_deadline = '{last}-03-01'"));
    exec(s, &format!("UPDATE ld_key_population SET listed_on = '{last}-01-15'"));
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        taizhang_storage::settings::set(&mut tx, &Actor::System, "target:hazards_gas", last, 4).await.expect("target");
        tx.commit().await.expect("commit");
    });

    // Opens on the latest year with data, not on this (empty) year.
    let mut leader = s.signed_in("leader");
    let page = leader.get("/").body;
    assert!(page.contains(&format!("name=\"year\" value=\"{last}\"")), "opens on {last}: {page}");
    // The default cards: what a township head watches.
    for id in ["fig-monitoring_risk_households", "fig-hazards_open", "fig-overdue", "fig-checks"] {
        card(&page, id);
    }
    assert!(page.contains("12月低保金发放金额"), "this month's payments, for a past year its December");
    let open = card(&page, "fig-hazards_open");
    assert!(open.contains("data-value=\"3\"") && open.contains("其中逾期 3 件"), "{open}");
    assert!(card(&page, "fig-overdue").contains("data-value=\"3\""));
    // A figure with a target: target, completion and the change on the year before.
    let gas = card(&page, "fig-hazards_gas");
    assert!(gas.contains("目标 4") && gas.contains("完成 75%") && gas.contains("比上年同期 +3起"), "{gas}");
    // Overdue items name their subject and village, link to the record, villages in code order.
    let overdue = &page[page.find("id=\"overdue\"").expect("the overdue list")..];
    let rows = |needle: &str| overdue.find(needle).unwrap_or_else(|| panic!("{needle} in {overdue}"));
    assert!(overdue.contains(&format!("href=\"/ledgers/hazards/{c_id}\">竹园村村部旁</a>")), "{overdue}");
    assert!(overdue.contains(&format!("href=\"/ledgers/hazards/{}\">坪溪村3组</a>", s.world.hazard_a)), "{overdue}");
    assert!(!overdue.contains(&format!(">#{}<", s.world.hazard_a)), "no bare numbers");
    assert!(rows("<td>竹园村</td>") < rows("<td>坪溪村</td>") && rows("<td>坪溪村</td>") < rows("<td>金竹村</td>"), "villages in code order");
    // The chart by village: in code order too.
    let page = leader.get(&format!("/?year={last}&ind=hazards_gas")).body;
    let chart = &page[page.find("按村</h2>").expect("chart by village")..];
    let chart = &chart[..chart.find("</svg>").expect("svg")];
    let at = |name: &str| chart.find(&format!(">{name}</text>")).unwrap_or_else(|| panic!("{name} in {chart}"));
    assert!(at("竹园村") < at("坪溪村") && at("坪溪村") < at("金竹村"), "{chart}");

    // Cards chosen by the setting, in its order; a name that is no indicator is said.
    set_cards(s, "逾期事项、未销号安全隐患起数、没有这个指标");
    let page = leader.get("/").body;
    assert!(!page.contains("id=\"fig-monitoring_risk_households\"") && !page.contains("id=\"fig-checks\""), "only the chosen cards");
    assert!(page.find("id=\"fig-overdue\"") < page.find("id=\"fig-hazards_open\""), "in the setting's order");
    assert!(page.contains("未找到的卡片") && page.contains("没有这个指标"));
    assert!(!page.contains("dashboard:cards"), "no setting key shown");
    // The 系统管理员 chooses them on the settings page, by the setting's name.
    let mut admin = s.signed_in("admin");
    let settings = admin.get("/admin/settings").body;
    assert!(settings.contains("首页卡片") && !settings.contains("dashboard:cards"), "the setting offered by its name");
    let r = admin.post_form("/admin/settings", &[("setting", "首页卡片"), ("value", "数据核查发现、未消除风险监测对象户数")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = leader.get("/").body;
    assert!(page.find("id=\"fig-checks\"") < page.find("id=\"fig-monitoring_risk_households\"") && !page.contains("id=\"fig-overdue\""), "the cards as set");
}

#[test]
fn dashboard_for_the_head_of_the_town_on_sqlite_and_postgres() {
    both(run);
}

//! The data checks' findings a user sees are those of the ledgers they may read, wherever they
//! are counted: the checks page, the API and the dashboard's 数据核查发现 card — the card also
//! when another user's dashboard for the same place is cached (a 业务员 not assigned the 特困
//! ledger never sees, nor counts, a finding that names a person in it).

mod common;

use common::{both, Server};
use serde_json::json;

fn checks_value(page: &str) -> i64 {
    let from = page.find("id=\"fig-checks\"").unwrap_or_else(|| panic!("the 数据核查发现 card: {page}"));
    let rest = &page[from..];
    rest.split("data-value=\"").nth(1).and_then(|t| t.split('"').next()).and_then(|n| n.parse().ok()).expect("its value")
}

fn findings(c: &mut common::Client) -> Vec<serde_json::Value> {
    let r = c.get("/api/v1/checks");
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["findings"].as_array().cloned().unwrap_or_default()
}

fn run(s: &Server) {
    let today = chrono::Local::now().date_naive();
    let mut admin = s.signed_in("admin");
    // Person B is supported as 特困 and dies: still enrolled, a finding in the 特困 ledger.
    let r = admin.post_json("/api/v1/ledgers/destitute/records", &json!({"subject": s.world.person_b_number, "values": {"support_mode": "分散供养", "approved_on": "2020-01-01"}}));
    assert_eq!(r.status, 201, "{}", r.body);
    let version = admin.get(&format!("/api/v1/persons/{}", s.world.person_b)).json()["version"].clone();
    let r = admin.post_json(&format!("/api/v1/persons/{}/status", s.world.person_b), &json!({"version": version, "status": "死亡", "date": today.to_string(), "reason": "病故"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let all = findings(&mut admin);
    let in_destitute = all.iter().filter(|f| f["ledger"] == "destitute" || f["other_ledger"] == "destitute").count();
    assert!(in_destitute >= 1, "the 系统管理员 sees the finding: {all:?}");
    // The admin's dashboard first, so that a shared cache would hand it on.
    let admin_count = checks_value(&admin.dashboard_checked("/"));
    assert_eq!(admin_count, all.len() as i64, "the card counts what the API lists");

    let mut clerk = s.signed_in("clerk");
    let mine = findings(&mut clerk);
    assert!(mine.iter().all(|f| f["ledger"] != "destitute" && f["other_ledger"] != "destitute"), "{mine:?}");
    assert_eq!(mine.len(), all.len() - in_destitute);
    assert_eq!(checks_value(&clerk.dashboard_checked("/")), mine.len() as i64, "the clerk's card counts only what they may read");
    let page = clerk.get("/checks").body;
    assert!(!page.contains("/ledgers/destitute/"), "no link into the 特困 ledger for the clerk: {page}");
}

#[test]
fn findings_follow_the_ledgers_a_user_may_read() {
    both(run);
}

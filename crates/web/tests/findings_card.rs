//! The dashboard's 数据核查发现 card never runs the checks in the page's request: the first
//! answer says 正在核查… while a background run computes them; the findings are then kept until
//! the data changes (signing in or reading does not count), and after a change the card shows
//! the last result, saying so, until the new run has ended.

mod common;

use common::{both, Server};
use serde_json::json;

/// The checks card's opening tag and text up to the next card.
fn checks_card(page: &str) -> &str {
    let from = page.find("id=\"fig-checks\"").unwrap_or_else(|| panic!("the 数据核查发现 card: {page}"));
    let rest = &page[from..];
    &rest[..rest.find("</div>").expect("the card's end")]
}

fn value(card: &str) -> i64 {
    card.split("data-value=\"").nth(1).and_then(|t| t.split('"').next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("a value: {card}"))
}

fn run(s: &Server) {
    let today = chrono::Local::now().date_naive();
    let mut leader = s.signed_in("leader");
    // A server that has not run the checks yet: the page at once, the card 正在核查….
    let first = leader.get("/");
    assert_eq!(first.status, 200, "{}", first.body);
    let card = checks_card(&first.body);
    assert!(card.contains("正在核查…") && card.contains("data-current=\"false\""), "{card}");
    let page = leader.dashboard_checked("/");
    let card = checks_card(&page);
    let before = value(card);
    assert!(card.contains("核查）"), "says when: {card}");

    // Signing in and reading append audit rows but change no data: the findings stay current.
    let mut clerk = s.signed_in("clerk");
    let _ = clerk.get(&format!("/persons/{}", s.world.person_a));
    let again = checks_card(&leader.get("/").body).to_string();
    assert!(again.contains("data-current=\"true\"") && value(&again) == before, "{again}");

    // A change that makes a finding: person B supported as 特困 and dead.
    let mut admin = s.signed_in("admin");
    let r = admin.post_json("/api/v1/ledgers/destitute/records", &json!({"subject": s.world.person_b_number, "values": {"support_mode": "分散供养", "approved_on": "2020-01-01"}}));
    assert_eq!(r.status, 201, "{}", r.body);
    let version = admin.get(&format!("/api/v1/persons/{}", s.world.person_b)).json()["version"].clone();
    let r = admin.post_json(&format!("/api/v1/persons/{}/status", s.world.person_b), &json!({"version": version, "status": "死亡", "date": today.to_string(), "reason": "病故"}));
    assert_eq!(r.status, 200, "{}", r.body);
    // The next page shows the last result, said to be older than the data, while it reruns.
    let stale = checks_card(&leader.get("/").body).to_string();
    assert!(stale.contains("data-current=\"false\"") && stale.contains("正在后台重新核查") && value(&stale) == before, "{stale}");
    let page = leader.dashboard_checked("/");
    let after = value(checks_card(&page));
    assert!(after > before, "the new finding counted: {before} → {after}");
}

#[test]
fn findings_card_is_computed_in_the_background_and_kept_per_data_version() {
    both(run);
}

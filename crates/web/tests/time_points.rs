//! Time points on the web: the dashboard opens on the latest year that has records, the checks
//! page looks at this year as of today (a past year as of its end), and a finding names its
//! village, its person and links every record it names.

mod common;

use chrono::{Datelike, NaiveDate};
use common::{both, Server};
use taizhang_domain::registry::{StatusChange, StatusChangeInput};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::{ledgers, persons, records, Arg, Scope};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// The fixture's records, all dated this January, moved back to January 2023.
fn records_back_to_2023(s: &Server) {
    move_dates(s, "2023-01-15", "2023-01-15");
}

fn dashboard_opens_on_the_latest_year_with_records(s: &Server) {
    let this_year = chrono::Local::now().date_naive().year();
    let page = s.signed_in("leader").get("/").body;
    assert!(page.contains(&format!("name=\"year\" value=\"{this_year}\"")), "records this year: this year");
    records_back_to_2023(s);
    let page = s.signed_in("leader").get("/").body;
    assert!(page.contains("name=\"year\" value=\"2023\""), "records only in 2023: {page}");
    // A year asked for is the year shown.
    let page = s.signed_in("leader").get(&format!("/?year={this_year}")).body;
    assert!(page.contains(&format!("name=\"year\" value=\"{this_year}\"")));
    // The newest year of any ledger, whichever ledger is looked at first (each later one is
    // asked only for a year after the one found).
    for (hazards, listed) in [("2024-03-01", "2023-01-15"), ("2023-01-15", "2024-03-01")] {
        move_dates(s, hazards, listed);
        let page = s.signed_in("leader").get("/").body;
        assert!(page.contains("name=\"year\" value=\"2024\""), "hazards {hazards}, key population {listed}: 2024");
    }
}

/// The fixture's dated records (hazards found, key population listed) moved to these days;
/// recorded as every write is, so what the pages keep per data version is computed again.
fn move_dates(s: &Server, hazards: &str, listed: &str) {
    let db = s.db.clone();
    let (hazards, listed) = (d(hazards), d(listed));
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        tx.exec("UPDATE ld_hazards SET found_on = $1", &[Arg::Date(hazards)]).await.expect("hazards");
        tx.exec("UPDATE ld_key_population SET listed_on = $1", &[Arg::Date(listed)]).await.expect("key population");
        let change = taizhang_storage::audit::Change { action: "update", entity: "ld_hazards", entity_id: None, place_id: None, before: None, after: None, note: "测试：记录日期移动" };
        taizhang_storage::audit::append(&mut tx, &Actor::System, change).await.expect("audit");
        tx.commit().await.expect("commit");
    });
}

fn checks_page_time_point_and_finding(s: &Server) {
    let today = chrono::Local::now().date_naive();
    let page = s.signed_in("leader").get("/checks").body;
    assert!(page.contains(&format!("核查时点 {today}")), "this year as of today: {page}");
    let page = s.signed_in("leader").get("/checks?period=2023").body;
    assert!(page.contains("核查时点 2023-12-31"), "{page}");

    // 张坪溪 (坪溪村) is paid 特困 May–August 2023 and dies on 15 June.
    let (db, person) = (s.db.clone(), s.world.person_a);
    let late: Vec<i64> = s.rt.block_on(async move {
        let (sys, all) = (Actor::System, Scope::all());
        let mut tx = db.begin().await.expect("begin");
        let def = ledgers::get(&mut tx, "destitute_payments").await.expect("def");
        let mut ids = Vec::new();
        for m in 5..=8 {
            let values: Values = [
                ("pay_month".to_string(), Value::Text(format!("2023-{m:02}"))),
                ("kind".to_string(), Value::Text("基本生活费".into())),
                ("support_mode".to_string(), Value::Text("分散供养".into())),
                ("amount".to_string(), Value::Int(54_500)),
            ]
            .into_iter()
            .collect();
            let input = RecordInput { place_id: None, subject_id: Some(person), concerns_year: None, values };
            ids.push(records::create(&mut tx, &def, &sys, &all, input, today).await.expect("payment").id);
        }
        let p = persons::get(&mut tx, &all, person).await.expect("person");
        let death = StatusChangeInput { change: StatusChange::Death, date: Some(d("2023-06-15")), reason: String::new(), place_text: String::new() };
        persons::set_status(&mut tx, &sys, &all, person, p.row_version, &death, today).await.expect("death");
        tx.commit().await.expect("commit");
        ids[2..].to_vec()
    });
    let page = s.signed_in("leader").get("/checks?period=2023").body;
    let card = page.split("特困供养金在死亡或迁出后仍发放").nth(1).expect("the check's card");
    // Attributes come HTML-escaped (`/` as `&#x2f;`), as a browser reads them back.
    let card = card[..card.find("class=\"card\"").unwrap_or(card.len())].replace("&#x2f;", "/");
    assert!(card.contains("<td>坪溪村</td>") && card.contains("<td>张坪溪</td>") && card.contains("2023-06-15"), "{card}");
    for id in late {
        assert!(card.contains(&format!("href=\"/ledgers/destitute_payments/{id}\"")), "record {id} linked: {card}");
    }
    // The API gives the same finding with its village, person and records.
    let api = s.signed_in("cadre").get("/api/v1/checks?period=2023").json();
    let found: Vec<&serde_json::Value> =
        api["findings"].as_array().expect("findings").iter().filter(|f| f["check"] == "destitute_paid_after_death_or_move").collect();
    assert_eq!(found.len(), 1, "{api}");
    assert_eq!((&found[0]["village"], &found[0]["subject"]), (&serde_json::json!("坪溪村"), &serde_json::json!("张坪溪")));
    assert_eq!(found[0]["record_ids"].as_array().map(Vec::len), Some(2), "{api}");
}

#[test]
fn the_dashboard_opens_on_the_latest_year_with_records() {
    both(dashboard_opens_on_the_latest_year_with_records);
}

#[test]
fn the_checks_page_looks_no_later_than_today_and_names_village_and_records() {
    both(checks_page_time_point_and_finding);
}

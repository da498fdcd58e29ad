//! County roles (issue 20): users placed at the county work across all its towns under the same
//! masking, audit and 三员 rules, a town's users see only their town, and the county's home
//! page ranks the towns for each card.
//!
//! The world of `common` (北斗溪镇: 坪溪村 and 金竹村, under 溆浦县) gets a second town, 低庄镇,
//! with a village, a person in a household and hazards — one of them last year, all past their
//! 整改期限 — and users at
//! the county. Every figure the test expects is evaluated here per town, never typed.

mod common;

use chrono::Datelike;
use common::{both, Server};
use taizhang_domain::period::Period;
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::registry::{validate_person, PersonInput};
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::setting::SettingValue;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_reports::{eval, Context};
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::{ledgers, persons, records, Scope};

const TOWN_B: &str = "低庄镇";
const TOWN_B_CODE: &str = "431224111000";
const VILLAGE_C: &str = "431224111201";
/// Text found only in town B's data.
const TOWN_B_MARK: &str = "外镇标记";
const TOWN_B_NAME: &str = "王外镇";

struct TownB {
    county: i64,
    town_a: i64,
    town: i64,
    village: i64,
    person: i64,
    number: String,
    household: i64,
    hazard: i64,
}

fn hazard(place: i64, day: chrono::NaiveDate, location: &str) -> RecordInput {
    let mut values = Values::new();
    values.insert("found_on".into(), Value::Date(day));
    values.insert("industry".into(), Value::Text("燃气".into()));
    values.insert("level".into(), Value::Text("一般".into()));
    values.insert("location".into(), Value::Text(location.into()));
    values.insert("description".into(), Value::Text(format!("{TOWN_B_MARK}的隐患")));
    // Past its 整改期限 the day it was found: an overdue case for the county's list.
    values.insert("rectify_deadline".into(), Value::Date(day.pred_opt().unwrap_or(day)));
    RecordInput { place_id: Some(place), subject_id: None, concerns_year: None, values }
}

/// Town B under the county, three gas hazards this year and one last year (so that it ranks
/// above town A's two, against code order, where more ranks first — and below them where fewer
/// is better: open hazards, overdue cases), and the county's users.
fn add_town_b(s: &Server) -> TownB {
    let db = s.db.clone();
    s.rt.block_on(async move {
        let sys = Actor::System;
        let all = Scope::all();
        let mut tx = db.begin().await.expect("begin");
        let county = tx.fetch_one("SELECT id FROM places WHERE level = 'county'", &[]).await.expect("county").int(0);
        let town_a = tx.fetch_one("SELECT id FROM places WHERE level = 'town'", &[]).await.expect("town").int(0);
        let town = places::create(&mut tx, &sys, NewPlace { parent_id: Some(county), level: PlaceLevel::Town, code: Some(TOWN_B_CODE), name: TOWN_B, attributes: vec![] }).await.expect("town b");
        let village = places::create(&mut tx, &sys, NewPlace { parent_id: Some(town.id), level: PlaceLevel::Village, code: Some(VILLAGE_C), name: "红岩村", attributes: vec![] }).await.expect("village c");
        let today = chrono::Local::now().date_naive();
        let input = PersonInput { name: TOWN_B_NAME.into(), id_number: common::id_number(40), place_id: village.id, ..Default::default() };
        let p = persons::create(&mut tx, &sys, &all, &validate_person(&input, today).expect("person")).await.expect("person");
        let house = taizhang_storage::households::create(&mut tx, &sys, &all, "4312241112010001", village.id).await.expect("household");
        taizhang_storage::households::add_member(&mut tx, &sys, &all, house.id, p.id, "户主").await.expect("member");
        let hazards = ledgers::get(&mut tx, "hazards").await.expect("hazards");
        let this = chrono::NaiveDate::from_ymd_opt(today.year(), 1, 16).unwrap_or(today);
        let last = chrono::NaiveDate::from_ymd_opt(today.year() - 1, 6, 1).unwrap_or(today);
        let mut first = 0;
        for (n, day) in [this, this, this, last].into_iter().enumerate() {
            let r = records::create(&mut tx, &hazards, &sys, &all, hazard(village.id, day, &format!("{TOWN_B_MARK}{n}")), today).await.expect("hazard");
            if n == 0 {
                first = r.id;
            }
        }
        let hash = taizhang_web::auth::hash_password(common::PASSWORD).expect("hash");
        for (name, role, place, ledgers) in [
            ("county_admin", Role::Admin, county, vec![]),
            ("county_leader", Role::Leader, county, vec![]),
            // A line clerk of the county with one ledger across all towns.
            ("county_clerk", Role::Clerk, county, vec!["hazards".to_string()]),
            ("leader_b", Role::Leader, town.id, vec![]),
        ] {
            users::create(&mut tx, &sys, NewUser { username: name, display_name: name, password_hash: &hash, role, place_id: place, ledgers, must_change_password: false }).await.expect("user");
        }
        let cards = taizhang_domain::setting::builtin().expect("settings").into_iter().find(|d| d.key == "dashboard:cards").expect("cards setting");
        let text = "燃气安全隐患起数、未销号安全隐患起数、逾期事项、数据核查发现".to_string();
        taizhang_storage::settings::set_value(&mut tx, &sys, &cards, 0, &SettingValue::Text(text)).await.expect("cards");
        tx.commit().await.expect("commit");
        TownB { county, town_a, town: town.id, village: village.id, person: p.id, number: p.id_number, household: house.id, hazard: first }
    })
}

/// An indicator's value over one place's subtree for `year`, as the dashboard counts it.
fn evaluated(s: &Server, key: &str, place: i64, year: i32) -> i64 {
    let db = s.db.clone();
    let key = key.to_string();
    s.rt.block_on(async move {
        let mut tx = db.read().await.expect("read");
        let path = places::get(&mut tx, place).await.expect("place").path;
        let inds = taizhang_reports::indicator::builtin().expect("indicators");
        let ind = inds.iter().find(|i| i.key == key).expect("indicator");
        let def = ledgers::get(&mut tx, &ind.ledger).await.expect("ledger");
        let today = chrono::Local::now().date_naive();
        let now = Context::clamped(Period::year(year), None, today, Scope { path });
        eval::evaluate(&mut tx, ind, &def, &now).await.expect("evaluate").value
    })
}

/// The rows of the ranked table of a card: (rank, place id, value, the row's text).
fn ranked_rows(page: &str, id: &str) -> Vec<(String, i64, i64, String)> {
    let from = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("ranked table {id} on the page: {page}"));
    let rest = &page[from..];
    let table = &rest[..rest.find("</table>").unwrap_or(rest.len())];
    table
        .split("<tr data-place=\"")
        .skip(1)
        .map(|row| {
            let place: i64 = row[..row.find('"').unwrap_or(0)].parse().expect("place id");
            let rank = row.split("<td class=\"num\">").nth(1).and_then(|r| r.split('<').next()).unwrap_or("").to_string();
            let value: i64 = row.split("data-value=\"").nth(1).and_then(|v| v.split('"').next()).and_then(|v| v.parse().ok()).expect("value");
            (rank, place, value, row.to_string())
        })
        .collect()
}

/// The heading of a card's ranked table (its name and the order the towns are ranked in).
fn rank_heading<'a>(page: &'a str, id: &str) -> &'a str {
    let from = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("ranked table {id} on the page: {page}"));
    let rest = &page[from..];
    &rest[..rest.find("</h2>").unwrap_or(rest.len())]
}

fn run(s: &Server) {
    let b = add_town_b(s);
    let w = &s.world;
    let year = chrono::Local::now().date_naive().year();

    // A town's users: town B's person, household and record are "not found", lists leave them out.
    for user in ["leader", "clerk", "admin"] {
        let mut c = s.signed_in(user);
        for path in [format!("/persons/{}", b.person), format!("/households/{}", b.household), format!("/ledgers/hazards/{}", b.hazard), format!("/api/v1/persons/{}", b.person)] {
            assert_eq!(c.get(&path).status, 404, "{user} {path}");
        }
        for path in ["/ledgers/hazards?size=100".to_string(), "/api/v1/persons".to_string(), format!("/search?q={}", common::encode("王")), format!("/explain/hazards_gas?year={year}")] {
            let r = c.get(&path);
            assert_eq!(r.status, 200, "{user} {path}");
            assert!(!r.body.contains(TOWN_B_MARK) && !r.body.contains(TOWN_B_NAME) && !r.body.contains(TOWN_B), "{user} {path} shows town B: {}", r.body);
        }
        // Town B's place, by code or by path, is outside a town A user's scope.
        assert_eq!(c.get(&format!("/explain/hazards_gas?year={year}&place={TOWN_B_CODE}")).status, 404, "{user}");
    }
    // And town B's leader, in turn, sees nothing of town A.
    let mut leader_b = s.signed_in("leader_b");
    assert_eq!(leader_b.get(&format!("/persons/{}", w.person_a)).status, 404);
    assert_eq!(leader_b.get(&format!("/ledgers/hazards/{}", w.hazard_a)).status, 404);

    // The county's leader and clerk: both towns' records.
    for user in ["county_leader", "county_clerk"] {
        let mut c = s.signed_in(user);
        for (path, mark) in [
            (format!("/persons/{}", b.person), TOWN_B_NAME),
            (format!("/households/{}", b.household), TOWN_B_NAME),
            (format!("/ledgers/hazards/{}", b.hazard), TOWN_B_MARK),
            (format!("/ledgers/hazards/{}", w.hazard_b), common::FOREIGN_MARK),
            (format!("/persons/{}", w.person_b), common::FOREIGN_NAME),
        ] {
            let r = c.get(&path);
            assert_eq!(r.status, 200, "{user} {path}");
            assert!(r.body.contains(mark), "{user} {path}: {}", r.body);
        }
        let list = c.get("/ledgers/hazards?size=100").body;
        assert!(list.contains(TOWN_B_MARK) && list.contains(common::FOREIGN_MARK) && list.contains("坪溪村3组"), "{user} lists both towns: {list}");
        let persons = c.get("/api/v1/persons").body;
        assert!(persons.contains(TOWN_B_NAME) && persons.contains(common::FOREIGN_NAME), "{user}: {persons}");
    }
    // The same masking as in a town: a leader sees a person's number the way a town's leader does.
    let mut town_leader = s.signed_in("leader");
    let mut county_leader = s.signed_in("county_leader");
    let town_full = town_leader.get(&format!("/persons/{}", w.person_a)).body.contains(&common::id_number(1));
    let county_full = county_leader.get(&format!("/persons/{}", b.person)).body.contains(&b.number);
    assert_eq!(town_full, county_full, "the county's leader sees numbers as a town's leader does");
    // The same special-category rule: a county clerk not assigned 重点人群 does not find it.
    let mut county_clerk = s.signed_in("county_clerk");
    assert_eq!(county_clerk.get(&format!("/ledgers/key_population/{}", w.keypop_a)).status, 404);
    // The same audit: the county leader's read of town B's person is an entry at its place.
    let reads = s.scalar(&format!("SELECT COUNT(*) FROM audit WHERE action = 'read' AND actor LIKE '%county_leader%' AND place_id = {}", b.village));
    assert!(reads >= 1, "the county leader's read of town B is audited");
    // 三员分立 holds at the county: its leader is no administrator.
    assert_eq!(county_leader.get("/admin/users").status, 403);

    // A town's administrator: neither the county nor town B is offered or accepted.
    let mut admin = s.signed_in("admin");
    let page = admin.get("/admin/users").body;
    for id in [b.county, b.town, b.village] {
        assert!(!page.contains(&format!("<option value=\"{id}\"")), "town admin offered place {id}: {page}");
    }
    let users_before = s.scalar("SELECT COUNT(*) FROM users");
    for (n, place) in [b.county, b.town, b.village].into_iter().enumerate() {
        let name = format!("sneak{n}");
        let r = admin.post_form("/admin/users", &[("username", &name), ("name", "越权"), ("role", "clerk"), ("place", &place.to_string()), ("password", "Abcd1234x!")]);
        assert_eq!(r.status, 404, "town admin creates a user at {place}: {}", r.body);
    }
    // Nor may it move one of its users to the county, or touch the county's users.
    let newbie = w.users["newbie"];
    let r = admin.post_form(&format!("/admin/users/{newbie}"), &[("name", "newbie"), ("role", "clerk"), ("place", &b.county.to_string())]);
    assert_ne!(r.status, 303, "town admin moves a user to the county");
    let county_leader_id = s.scalar("SELECT id FROM users WHERE username = 'county_leader'");
    assert_eq!(admin.get(&format!("/admin/users/{county_leader_id}")).status, 404);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM users"), users_before, "no user created");
    assert_eq!(s.scalar(&format!("SELECT place_id FROM users WHERE id = {newbie}")), b.town_a);

    // The county's administrator: the county and both towns offered; a county clerk created.
    let mut county_admin = s.signed_in("county_admin");
    let page = county_admin.get("/admin/users").body;
    for id in [b.county, b.town_a, b.town, b.village, w.village_a] {
        assert!(page.contains(&format!("<option value=\"{id}\"")), "county admin offered place {id}");
    }
    assert!(page.contains("county_leader") && page.contains("leader_b") && page.contains(">clerk<"), "county admin lists every town's users: {page}");
    // Villages named with their town, since two towns' villages may share a name.
    assert!(page.contains(&format!("<option value=\"{}\">北斗溪镇 · 坪溪村</option>", w.village_a)) && page.contains(&format!("<option value=\"{}\">{TOWN_B} · 红岩村</option>", b.village)), "{page}");
    let town_page = admin.get("/admin/users").body;
    assert!(town_page.contains(&format!("<option value=\"{}\">坪溪村</option>", w.village_a)), "a town admin's names as ever: {town_page}");
    let r = county_admin.post_form("/admin/users", &[("username", "minzheng"), ("name", "民政业务员"), ("role", "clerk"), ("place", &b.county.to_string()), ("password", "Abcd1234x!"), ("ledgers", "hazards")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("已新增用户 minzheng"), "{}", r.body);
    assert_eq!(s.scalar("SELECT place_id FROM users WHERE username = 'minzheng'"), b.county);

    // The county's home page: each card by town, ranked, the values those of each town.
    let page = county_leader.dashboard_checked("/");
    assert!(page.contains("各镇排名"), "{page}");
    for key in ["hazards_gas", "hazards_open"] {
        let rows = ranked_rows(&page, &format!("towns-{key}"));
        let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
        assert_eq!(ids.len(), 2, "{key}: both towns: {ids:?}");
        assert!(ids.contains(&b.town_a) && ids.contains(&b.town), "{key}: {ids:?}");
        for (rank, place, value, row) in &rows {
            assert_eq!(*value, evaluated(s, key, *place, year), "{key} of town {place}: {row}");
            assert!(!rank.is_empty(), "{key}: a rank");
            // Linked to the figure's records at that town's place.
            let link = row.split("href=\"").nth(1).and_then(|h| h.split('"').next()).expect("link").replace("&amp;", "&").replace("&#x2f;", "/");
            assert!(link.starts_with(&format!("/explain/{key}?")), "{link}");
            let explain = county_leader.get(&link);
            assert_eq!(explain.status, 200, "{link}");
            let town_name = if *place == b.town { TOWN_B } else { "北斗溪镇" };
            assert!(explain.body.contains(town_name), "{link} names {town_name}");
        }
    }
    // 燃气安全隐患起数 ranks highest first: town B's three lead town A's two, against code order.
    let values: Vec<i64> = ranked_rows(&page, "towns-hazards_gas").iter().map(|r| r.2).collect();
    let ids: Vec<i64> = ranked_rows(&page, "towns-hazards_gas").iter().map(|r| r.1).collect();
    assert!(values[0] > values[1] && ids[0] == b.town, "hazards_gas: highest first: {ids:?} {values:?}");
    assert!(rank_heading(&page, "towns-hazards_gas").contains("由高到低"), "{}", rank_heading(&page, "towns-hazards_gas"));
    // 未销号安全隐患起数 is better lower (`better = "lower"`): town A's fewer open hazards lead,
    // and the card says so.
    let rows = ranked_rows(&page, "towns-hazards_open");
    let (ids, values): (Vec<i64>, Vec<i64>) = rows.iter().map(|r| (r.1, r.2)).unzip();
    assert!(values[0] < values[1] && ids[0] == b.town_a, "hazards_open: lowest first: {ids:?} {values:?}");
    assert_eq!(rows[0].0, "1");
    assert!(rank_heading(&page, "towns-hazards_open").contains("由低到高（越少越好）"), "{}", rank_heading(&page, "towns-hazards_open"));
    // The year on year change beside a town's figure: town B's gas hazards against last year's.
    let rows = ranked_rows(&page, "towns-hazards_gas");
    let diff = evaluated(s, "hazards_gas", b.town, year) - evaluated(s, "hazards_gas", b.town, year - 1);
    assert!(diff > 0 && rows[0].3.contains(&format!("+{diff}起")), "town B's change +{diff}: {}", rows[0].3);
    // The overdue and findings cards by town too, fewest first (equal counts share a rank, in
    // code order: town A first).
    for id in ["towns-overdue", "towns-checks"] {
        let rows = ranked_rows(&page, id);
        assert_eq!(rows.len(), 2, "{id}");
        let (ids, values): (Vec<i64>, Vec<i64>) = rows.iter().map(|r| (r.1, r.2)).unzip();
        assert!(values[0] < values[1] || (values[0] == values[1] && ids[0] == b.town_a && rows[1].0 == "1"), "{id}: lowest first: {ids:?} {values:?}");
        assert!(rank_heading(&page, id).contains("由低到高（越少越好）"), "{id}: {}", rank_heading(&page, id));
    }
    // Town B's four hazards are overdue, town A's two have no 整改期限: town A leads.
    let overdue: Vec<(i64, i64)> = ranked_rows(&page, "towns-overdue").iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(overdue[0].0, b.town_a, "{overdue:?}");
    assert!(overdue[0].1 < overdue[1].1, "{overdue:?}");
    // Each overdue case in the county's list names its town before its village.
    let list = &page[page.find("id=\"overdue\"").expect("the overdue list")..];
    let list = &list[..list.find("</table>").expect("a table of overdue cases")];
    assert!(list.contains("<th>镇 · 村</th>"), "{list}");
    for row in list.split("<tr><td>").skip(1) {
        assert!(row.starts_with("北斗溪镇 · ") || row.starts_with(&format!("{TOWN_B} · ")), "a town first: {row}");
    }

    // A town's leader: the same page as ever, no other town, no ranking.
    for (user, other) in [("leader", TOWN_B), ("leader_b", "北斗溪镇")] {
        let mut c = s.signed_in(user);
        let page = c.get("/").body;
        assert!(!page.contains("各镇排名") && !page.contains("id=\"towns-") && !page.contains(other), "{user}'s page: {page}");
    }
    let page = town_leader.get("/").body;
    let value = page.split("id=\"fig-hazards_gas\"").nth(1).and_then(|c| c.split("data-value=\"").nth(1)).and_then(|v| v.split('"').next()).and_then(|v| v.parse::<i64>().ok());
    assert_eq!(value, Some(evaluated(s, "hazards_gas", b.town_a, year)), "the town leader's card counts town A only");
}

#[test]
fn county_users_work_across_towns_and_a_town_only_in_its_own_on_sqlite_and_postgres() {
    both(run);
}

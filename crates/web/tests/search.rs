//! Finding by what people know (issue 19, item 2) and the village cadre's work (item 3), on
//! both engines: a list's keyword finds a household by its 户主's name and its 户编号 and a
//! record by a reference's name; lists show the 户主, the village and the 组; the search page
//! finds households by number; the household page lists every record about it and its
//! members; a 村干部's home page lists the monitoring households due a visit with a 走访 button
//! whose form comes filled in (household, case, today, the cadre), and a saved visit takes the
//! household off the list.

mod common;

use chrono::Datelike;
use common::{both, encode, Server};
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::registry::{validate_person, PersonInput};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::{ledgers, persons, records, Scope};

/// A page's text with minijinja's escapes of `/` and `&` undone, for comparing addresses.
fn plain(body: &str) -> String {
    body.replace("&#x2f;", "/").replace("&amp;", "&")
}

const HEAD: &str = "王守田";
const NUMBER: &str = "4312241102010077";
const CADRE: &str = "赵走访";

struct Seeded {
    household: i64,
    case: i64,
    cadre: i64,
    visit: i64,
}

/// A household of 坪溪村 3组 with its 户主, a monitoring case, the cadre account's cadre, and a
/// visit to another household by that cadre long ago.
fn seed(s: &Server) -> Seeded {
    s.rt.block_on(async {
        let sys = Actor::System;
        let all = Scope::all();
        let today = chrono::Local::now().date_naive();
        let mut tx = s.db.begin().await.expect("begin");
        let group = places::create(&mut tx, &sys, NewPlace { parent_id: Some(s.world.village_a), level: PlaceLevel::Group, code: None, name: "3组", attributes: vec![] }).await.expect("group");
        let input = PersonInput { name: HEAD.into(), id_number: common::id_number(77), place_id: group.id, ..Default::default() };
        let head = persons::create(&mut tx, &sys, &all, &validate_person(&input, today).expect("person")).await.expect("head");
        let h = taizhang_storage::households::create(&mut tx, &sys, &all, NUMBER, group.id).await.expect("household");
        taizhang_storage::households::add_member(&mut tx, &sys, &all, h.id, head.id, "户主").await.expect("member");
        // A second household visited recently: not due.
        let other = taizhang_storage::households::create(&mut tx, &sys, &all, "4312241102010078", s.world.village_a).await.expect("other");
        let cadre = taizhang_domain::registry::Cadre {
            id: 0, name: CADRE.into(), kind: taizhang_domain::registry::CadreKind::Village, post: "村委委员".into(), unit: "坪溪村村委会".into(),
            birth_date: None, place_id: s.world.village_a, person_id: None, user_id: Some(s.world.users["cadre"]), phone: String::new(), ended_on: None, end_reason: String::new(),
        };
        let cadre = taizhang_storage::orgs::create_cadre(&mut tx, &sys, &all, &cadre, today).await.expect("cadre");
        let monitoring = ledgers::get(&mut tx, "monitoring").await.expect("monitoring");
        let case = |hid: i64| {
            let mut v = Values::new();
            v.insert("category".into(), Value::Text("边缘易致贫户".into()));
            v.insert("risk_types".into(), Value::List(vec!["因病".into()]));
            v.insert("household_size".into(), Value::Int(3));
            v.insert("identified_on".into(), Value::Date(chrono::NaiveDate::from_ymd_opt(today.year() - 1, 3, 1).expect("day")));
            RecordInput { place_id: None, subject_id: Some(hid), concerns_year: None, values: v }
        };
        let c = records::create(&mut tx, &monitoring, &sys, &all, case(h.id), today).await.expect("case");
        let c2 = records::create(&mut tx, &monitoring, &sys, &all, case(other.id), today).await.expect("case 2");
        let visits = ledgers::get(&mut tx, "assistance_visits").await.expect("visits");
        let mut v = Values::new();
        v.insert("visited_on".into(), Value::Date(today - chrono::Duration::days(3)));
        v.insert("visitor".into(), Value::Int(cadre.id));
        v.insert("monitoring_case".into(), Value::Int(c2.id));
        let visit = records::create(&mut tx, &visits, &sys, &all, RecordInput { place_id: None, subject_id: Some(other.id), concerns_year: None, values: v }, today).await.expect("visit");
        tx.commit().await.expect("commit");
        Seeded { household: h.id, case: c.id, cadre: cadre.id, visit: visit.id }
    })
}

#[test]
fn keyword_search_and_lists() {
    both(|s| {
        let seeded = seed(s);
        let mut admin = s.signed_in("admin");
        // The keyword finds a household's case by its 户主's name and by (a part of) its 户编号.
        for kw in [HEAD, NUMBER, "0077"] {
            let page = admin.get(&format!("/ledgers/monitoring?kw={}", encode(kw)));
            assert_eq!(page.status, 200, "{kw}");
            assert!(page.body.contains("共 1 条"), "{kw}: {}", page.body);
            assert!(page.body.contains(&format!("/ledgers/monitoring/{}", seeded.case)), "{kw}");
        }
        // A record by the name behind a reference (the visitor).
        let page = admin.get(&format!("/ledgers/assistance_visits?kw={}", encode(CADRE)));
        assert!(page.body.contains("共 1 条") && page.body.contains(&format!("/ledgers/assistance_visits/{}", seeded.visit)), "{}", page.body);
        // The list shows the 户主 (linked to the household), the village and the 组 apart.
        let page = admin.get("/ledgers/monitoring");
        assert!(plain(&page.body).contains(&format!("<a href=\"/households/{}\">{HEAD}（户主） {NUMBER}</a>", seeded.household)), "{}", page.body);
        assert!(page.body.contains("<td data-label=\"村\">坪溪村</td><td data-label=\"组\">3组</td>"), "{}", page.body);
        // The record links to its household, named by its 户主.
        let page = admin.get(&format!("/ledgers/monitoring/{}", seeded.case));
        assert!(plain(&page.body).contains(&format!("<a href=\"/households/{}\">{HEAD}（户主） {NUMBER}</a>", seeded.household)), "{}", page.body);
        // A person's ID number is matched only whole, never by a part.
        let id = common::id_number(77);
        let page = admin.get(&format!("/ledgers/key_population?kw={}", encode(&id[3..12])));
        assert!(page.body.contains("共 0 条"));
        // The search page finds the household by its number and by its 户主's name.
        for q in [NUMBER, HEAD] {
            let page = admin.get(&format!("/search?q={}", encode(q)));
            assert_eq!(page.status, 200);
            assert!(plain(&page.body).contains(&format!("/households/{}", seeded.household)), "{q}: {}", page.body);
        }
        // The household page lists every record about it, with a 走访 button.
        let page = admin.get(&format!("/households/{}", seeded.household));
        assert!(page.body.contains(&format!("/ledgers/monitoring/{}", seeded.case)), "{}", page.body);
        assert!(page.body.contains("id=\"visit-household\""));
        // Outside the village: the cadre of 坪溪村 does not find 金竹村's household.
        let mut cadre = s.signed_in("cadre");
        let page = cadre.get("/search?q=4312241102020001");
        assert!(!plain(&page.body).contains(&format!("/households/{}", s.world.household_b)));
        let _ = seeded.cadre;
    });
}

#[test]
fn cadre_home_and_visit() {
    both(|s| {
        let seeded = seed(s);
        let today = chrono::Local::now().date_naive();
        let mut cadre = s.signed_in("cadre");
        let home = cadre.get("/");
        assert_eq!(home.status, 200);
        assert!(home.body.contains("本村待办") && home.body.contains("待走访（1）"), "{}", home.body);
        assert!(home.body.contains(&format!("{HEAD}（户主）")) && home.body.contains("从未走访"));
        // The seeded hazard of 坪溪村 has no deadline and is not yet rectified: not to re-check.
        let expected = format!("/ledgers/assistance_visits/new?_subject={NUMBER}&visited_on={today}&visitor={}&monitoring_case=%23{}", encode(CADRE), seeded.case);
        assert!(plain(&home.body).contains(&expected), "{expected}\n{}", home.body);
        // The 走访 form comes filled in.
        let form = cadre.get(&expected);
        assert_eq!(form.status, 200);
        for v in [NUMBER.to_string(), today.to_string(), CADRE.to_string(), format!("#{}", seeded.case)] {
            assert!(form.body.contains(&format!("value=\"{v}\"")), "{v}: {}", form.body);
        }
        // Saved as it came, with the way of the visit chosen: the household is no longer due.
        let saved = cadre.post_form(
            "/ledgers/assistance_visits/new",
            &[("_subject", NUMBER), ("visited_on", &today.to_string()), ("visitor", CADRE), ("monitoring_case", &format!("#{}", seeded.case)), ("visit_kind", "入户走访")],
        );
        assert_eq!(saved.status, 303, "{}", saved.body);
        let home = cadre.get("/");
        assert!(home.body.contains("待走访（0）"), "{}", home.body);
        // The monitoring list has the 走访 button too; the leader's home stays the dashboard.
        let list = cadre.get("/ledgers/monitoring");
        assert!(list.body.contains("class=\"button primary visit\""));
        let mut leader = s.signed_in("leader");
        let home = leader.get("/");
        assert!(!home.body.contains("本村待办"));
    });
}

#[test]
fn the_search_api_answers_pickers() {
    both(|s| {
        let seeded = seed(s);
        let mut cadre = s.signed_in("cadre");
        // Persons by name, with the village and the number masked for a 村干部.
        let j = cadre.get(&format!("/api/v1/search?kind=person&q={}", encode(HEAD))).json();
        let items = j["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{j}");
        assert_eq!(items[0]["name"], HEAD);
        assert_eq!(items[0]["village"], "坪溪村 3组");
        let number = items[0]["number"].as_str().unwrap_or("");
        assert!(number.contains('*') && number != common::id_number(77), "masked: {number}");
        // A part of an ID number finds nobody, the whole number finds the person.
        let id = common::id_number(77);
        let part = cadre.get(&format!("/api/v1/search?kind=person&q={}", &id[4..14]));
        assert!(part.status == 400 || part.json()["items"].as_array().is_some_and(|a| a.is_empty()), "{}", part.body);
        assert_eq!(cadre.get(&format!("/api/v1/search?kind=person&q={id}")).json()["items"].as_array().map(Vec::len), Some(1));
        // Households by 户编号 (the value a form takes) and by 户主.
        let j = cadre.get(&format!("/api/v1/search?kind=household&q={}", "0077")).json();
        assert_eq!(j["items"][0]["value"], NUMBER, "{j}");
        assert_eq!(j["items"][0]["name"], format!("{HEAD}（户主）"));
        // Cadres by a part of the name, the value being the name; #id named.
        let j = cadre.get(&format!("/api/v1/search?kind=cadre&q={}", encode("走访"))).json();
        assert_eq!(j["items"][0]["value"], CADRE, "{j}");
        let j = cadre.get(&format!("/api/v1/search?kind=cadre&id={}", seeded.cadre)).json();
        assert_eq!(j["items"][0]["name"], CADRE, "{j}");
        // A ledger's cases by their household's 户主, and one by its id.
        let j = cadre.get(&format!("/api/v1/search?kind=ledger:monitoring&q={}", encode(HEAD))).json();
        assert_eq!(j["items"][0]["value"], format!("#{}", seeded.case), "{j}");
        let j = cadre.get(&format!("/api/v1/search?kind=ledger:monitoring&id={}", seeded.case)).json();
        assert!(j["items"][0]["name"].as_str().is_some_and(|n| n.contains(HEAD)), "{j}");
        // The visit form's inputs that take pickers.
        let j = cadre.get("/api/v1/search?fields=assistance_visits").json();
        let fields: Vec<String> = j["fields"].as_array().expect("fields").iter().map(|f| format!("{}={}", f["key"].as_str().unwrap_or(""), f["kind"].as_str().unwrap_or(""))).collect();
        assert_eq!(fields, ["_subject=household", "visitor=cadre", "monitoring_case=ledger:monitoring"]);
        // Everything together (no kind): the person, the household and nothing of 金竹村.
        let j = cadre.get(&format!("/api/v1/search?q={}", encode(common::FOREIGN_NAME))).json();
        assert_eq!(j["items"].as_array().map(Vec::len), Some(0), "{j}");
        let j = cadre.get(&format!("/api/v1/search?q={}", encode(HEAD))).json();
        let kinds: Vec<&str> = j["items"].as_array().expect("items").iter().filter_map(|i| i["kind"].as_str()).collect();
        assert_eq!(kinds, ["person", "household"], "{j}");
    });
}

#[test]
fn cadre_home_lists_rechecks_and_overdue() {
    both(|s| {
        let (rectified, late) = s.rt.block_on(async {
            let sys = Actor::System;
            let all = Scope::all();
            let today = chrono::Local::now().date_naive();
            let mut tx = s.db.begin().await.expect("begin");
            let hazards = ledgers::get(&mut tx, "hazards").await.expect("hazards");
            let base = |description: &str| {
                let mut v = Values::new();
                v.insert("found_on".into(), Value::Date(today - chrono::Duration::days(40)));
                v.insert("industry".into(), Value::Text("燃气".into()));
                v.insert("level".into(), Value::Text("一般".into()));
                v.insert("location".into(), Value::Text("坪溪村2组".into()));
                v.insert("description".into(), Value::Text(description.into()));
                v
            };
            let mut v = base("灭火器过期");
            v.insert("rectified_on".into(), Value::Date(today - chrono::Duration::days(2)));
            let input = RecordInput { place_id: Some(s.world.village_a), subject_id: None, concerns_year: None, values: v };
            let since = today - chrono::Duration::days(2);
            let settings = Default::default();
            let r1 = records::create_in_state(&mut tx, &hazards, &sys, &all, input, "rectified", since, today, &settings).await.expect("rectified");
            let mut v = base("电线私拉乱接");
            v.insert("rectify_person".into(), Value::Text("李电工".into()));
            v.insert("rectify_deadline".into(), Value::Date(today - chrono::Duration::days(5)));
            v.insert("rectify_measures".into(), Value::Text("重新布线".into()));
            v.insert("rectify_standard".into(), Value::Text("穿管敷设".into()));
            let input = RecordInput { place_id: Some(s.world.village_a), subject_id: None, concerns_year: None, values: v };
            let r2 = records::create_in_state(&mut tx, &hazards, &sys, &all, input, "rectifying", today - chrono::Duration::days(20), today, &settings).await.expect("rectifying");
            tx.commit().await.expect("commit");
            (r1.id, r2.id)
        });
        let mut cadre = s.signed_in("cadre");
        let home = plain(&cadre.get("/").body);
        let section = |id: &str| home.split(&format!("id=\"{id}\"")).nth(1).and_then(|x| x.split("</section>").next()).unwrap_or("").to_string();
        let to_close = section("to-close");
        assert!(to_close.contains(&format!("/ledgers/hazards/{rectified}")) && to_close.contains("待「复查销号」"), "{to_close}");
        assert!(!to_close.contains(&format!("/ledgers/hazards/{late}")));
        let overdue = section("overdue");
        assert!(overdue.contains(&format!("/ledgers/hazards/{late}")) && overdue.contains("坪溪村"), "{overdue}");
        // Nothing of 金竹村.
        assert!(!home.contains(common::FOREIGN_MARK));
    });
}

//! A town's year through the pages and the API, on both engines: a death recorded on the
//! person page, a correction with its reason, a 分户 on the household page that keeps every
//! member's records, a record voided and restored, a duplicate natural key and a negative
//! amount refused with the input kept, the monitoring line set on the settings page, a cadre
//! who has left no longer offered.

mod common;

use chrono::Datelike;
use common::{both, Server, VILLAGE_A};
use taizhang_domain::registry::{validate_person, PersonInput};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::{households, ledgers, persons, records, Scope};

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// Registers a person of 坪溪村 directly (the registry set-up a clerk would have made earlier).
fn register(s: &Server, name: &str, seq: u32) -> i64 {
    let db = s.db.clone();
    let place = s.world.village_a;
    let name = name.to_string();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        let input = PersonInput { name, id_number: common::id_number(seq), place_id: place, ..Default::default() };
        let p = persons::create(&mut tx, &Actor::System, &Scope::all(), &validate_person(&input, today()).expect("valid")).await.expect("person");
        tx.commit().await.expect("commit");
        p.id
    })
}

fn person_row(s: &Server, id: i64) -> taizhang_domain::registry::Person {
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.read().await.expect("read");
        persons::get(&mut tx, &Scope::all(), id).await.expect("person")
    })
}

/// A page's text with the slashes minijinja escapes (`&#x2f;`) read back.
fn unescaped(page: &str) -> String {
    page.replace("&#x2f;", "/")
}

/// The part of a page after a marker, up to the end of its element's table or form.
fn section<'a>(page: &'a str, marker: &str) -> &'a str {
    let start = page.find(marker).unwrap_or_else(|| panic!("the page has {marker}"));
    &page[start..]
}

fn death_on_the_person_page(s: &Server) {
    let id = s.world.person_a;
    let mut clerk = s.signed_in("clerk");
    let page = clerk.get(&format!("/persons/{id}")).body;
    assert!(page.contains("状态变更") && page.contains("action=\"/persons/{id}/status\"".replace("{id}", &id.to_string()).as_str()), "writers get the forms");
    let version = person_row(s, id).row_version.to_string();
    // A move without where to: refused beside the field, what was typed kept.
    let r = clerk.post_form(&format!("/persons/{id}/status"), &[("_version", &version), ("change", "move_out"), ("date", "2024-3-9"), ("reason", "外出务工落户")]);
    assert_eq!(r.status, 422, "{}", r.body);
    // The label 迁往/迁自 reaches the page with its slash escaped.
    assert!(r.body.contains("迁自：必须填写"), "the message names the field: {}", section(&r.body, "状态变更"));
    assert!(r.body.contains("value=\"2024-3-9\"") && r.body.contains("外出务工落户"), "the form keeps what was typed");
    // A date in the future is refused too.
    let r = clerk.post_form(&format!("/persons/{id}/status"), &[("_version", &version), ("change", "death"), ("date", "2999-01-01")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("日期：不能晚于今天"), "{}", section(&r.body, "状态变更"));
    // The death itself.
    let day = format!("{}-01-20", today().year());
    let r = clerk.post_form(&format!("/persons/{id}/status"), &[("_version", &version), ("change", "death"), ("date", &day), ("reason", "病故")]);
    assert_eq!((r.status, r.location.as_str()), (303, format!("/persons/{id}?done=status").as_str()), "{}", r.body);
    let p = person_row(s, id);
    assert_eq!(p.status, taizhang_domain::registry::PersonStatus::Dead);
    assert_eq!(p.status_date.map(|d| d.to_string()), Some(day.clone()));
    assert_eq!(p.status_reason, "病故");
    let page = clerk.get(&format!("/persons/{id}?done=status")).body;
    assert!(page.contains("已登记状态变更"));
    let facts = section(&page, "<dt>状态</dt>");
    assert!(facts.contains("死亡") && facts.contains(&day) && facts.contains("原因：病故"), "status with date and reason");
    let history = section(&page, "修改记录");
    assert!(history.contains("状态变更") && history.contains("状态：正常 → 死亡") && history.contains(&format!("状态日期：（空） → {day}")), "{history}");
    // Recording it again is refused: the person is already dead.
    let r = clerk.post_form(&format!("/persons/{id}/status"), &[("_version", &p.row_version.to_string()), ("change", "death"), ("date", &day)]);
    assert_eq!(r.status, 422, "the radio for 死亡 is not offered again and the store refuses it");
    // The audit trail names the action in Chinese.
    let audit = s.signed_in("auditor").get("/audit").body;
    assert!(audit.contains("状态变更"), "the audit page labels the new action");
    // 领导 read, and cannot write.
    let mut leader = s.signed_in("leader");
    let page = leader.get(&format!("/persons/{id}")).body;
    assert!(page.contains("死亡") && !page.contains("登记状态变更"), "leaders see the status, not the forms");
    let r = leader.post_form(&format!("/persons/{id}/status"), &[("_version", &p.row_version.to_string()), ("change", "normal"), ("date", &day), ("reason", "x")]);
    assert_eq!(r.status, 403);
}

fn correction_with_a_reason(s: &Server) {
    let id = register(s, "王小梅", 31);
    let mut clerk = s.signed_in("clerk");
    let version = person_row(s, id).row_version.to_string();
    // A new name without a reason: refused beside 更正原因, the typed name kept.
    let r = clerk.post_form(&format!("/persons/{id}"), &[("_version", &version), ("name", "王晓梅"), ("id_number", &common::id_number(31)), ("ethnicity", "苗族"), ("phone", ""), ("reason", "")]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("更正原因：更正姓名或公民身份号码必须说明原因"), "{}", section(&r.body, "编辑"));
    assert!(r.body.contains("value=\"王晓梅\"") && r.body.contains("value=\"苗族\""), "the form keeps what was typed");
    // A bad phone number: the message names the field.
    let r = clerk.post_form(&format!("/persons/{id}"), &[("_version", &version), ("name", "王小梅"), ("phone", "12345")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("联系电话：「12345」不是有效的电话号码"), "{}", section(&r.body, "编辑"));
    let r = clerk.post_form(&format!("/persons/{id}"), &[("_version", &version), ("name", "王晓梅"), ("id_number", &common::id_number(31)), ("ethnicity", "苗族"), ("phone", "13907450001"), ("reason", "户口簿登记有误")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let p = person_row(s, id);
    assert_eq!((p.name.as_str(), p.ethnicity.as_str(), p.phone.as_str()), ("王晓梅", "苗族", "13907450001"));
    let page = clerk.get(&format!("/persons/{id}")).body;
    let history = section(&page, "修改记录");
    assert!(history.contains("姓名：王小梅 → 王晓梅") && history.contains("民族：（空） → 苗族") && history.contains("户口簿登记有误"), "{history}");
    // An unchanged form changes nothing.
    let r = clerk.post_form(&format!("/persons/{id}"), &[("_version", &p.row_version.to_string()), ("name", "王晓梅"), ("ethnicity", "苗族"), ("phone", "13907450001")]);
    assert_eq!(r.location, format!("/persons/{id}?done=unchanged"));
    assert_eq!(person_row(s, id).row_version, p.row_version);
    // The API: a correction and a status change, with the version; a stale version is refused.
    let r = clerk.put_json(&format!("/api/v1/persons/{id}"), &serde_json::json!({"version": p.row_version, "fields": {"联系电话": "0745-3221234"}}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["phone"], "0745-3221234");
    let r = clerk.put_json(&format!("/api/v1/persons/{id}"), &serde_json::json!({"version": p.row_version, "fields": {"民族": "汉族"}}));
    assert_eq!(r.status, 409, "a stale version: {}", r.body);
    let v = person_row(s, id).row_version;
    let r = clerk.post_json(&format!("/api/v1/persons/{id}/status"), &serde_json::json!({"version": v, "status": "迁出", "date": format!("{}-02-01", today().year())}));
    assert_eq!(r.status, 422, "a move out names where to: {}", r.body);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("迁往何处")), "{}", r.body);
    let r = clerk.post_json(&format!("/api/v1/persons/{id}/status"), &serde_json::json!({"version": v, "status": "迁出", "date": format!("{}-02-01", today().year()), "place": "浙江省义乌市"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "迁出");
    assert_eq!(r.json()["status_place"], "浙江省义乌市");
}

#[test]
fn a_death_and_a_correction_on_the_person_page() {
    both(|s| {
        death_on_the_person_page(s);
        correction_with_a_reason(s);
    });
}

/// A household of 坪溪村 (father, mother, son), a person record of the son and a household
/// record of the household.
struct Family {
    household: i64,
    father: i64,
    mother: i64,
    son: i64,
    son_record: i64,
    household_record: i64,
}

fn family(s: &Server) -> Family {
    let father = register(s, "田大山", 41);
    let mother = register(s, "向桂花", 42);
    let son = register(s, "田小山", 43);
    let db = s.db.clone();
    let village = s.world.village_a;
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        let all = Scope::all();
        let sys = Actor::System;
        let h = households::create(&mut tx, &sys, &all, "4312241102010007", village).await.expect("household");
        households::add_member(&mut tx, &sys, &all, h.id, father, "户主").await.expect("head");
        households::add_member(&mut tx, &sys, &all, h.id, mother, "妻").await.expect("wife");
        households::add_member(&mut tx, &sys, &all, h.id, son, "子").await.expect("son");
        let kp = ledgers::get(&mut tx, "key_population").await.expect("key_population");
        let mut v = Values::new();
        v.insert("category".into(), Value::Text("社区矫正对象".into()));
        v.insert("listed_on".into(), Value::Date(today()));
        let son_record = records::create(&mut tx, &kp, &sys, &all, RecordInput { place_id: None, subject_id: Some(son), concerns_year: None, values: v }, today()).await.expect("person record");
        let relief = ledgers::get(&mut tx, "temporary_relief").await.expect("temporary_relief");
        let mut v = Values::new();
        v.insert("paid_on".into(), Value::Date(today()));
        v.insert("amount".into(), Value::Int(80_000));
        let household_record = records::create(&mut tx, &relief, &sys, &all, RecordInput { place_id: None, subject_id: Some(h.id), concerns_year: None, values: v }, today())
            .await
            .expect("household record");
        tx.commit().await.expect("commit");
        Family { household: h.id, father, mother, son, son_record: son_record.id, household_record: household_record.id }
    })
}

fn subject_of(s: &Server, table: &str, id: i64) -> i64 {
    s.scalar(&format!("SELECT subject_id FROM {table} WHERE id = {id}"))
}

fn split_on_the_household_page(s: &Server) {
    let f = family(s);
    let bride = register(s, "杨秀英", 44);
    let mut clerk = s.signed_in("clerk");
    let page = clerk.get(&format!("/households/{}", f.household)).body;
    for action in ["成员加入", "成员迁出", "户主变更", "分户", "整户迁移"] {
        assert!(page.contains(action), "the household page offers {action}");
    }
    // The son's bride joins by ID number, her relation in everyday words.
    let r = clerk.post_form(&format!("/households/{}/join", f.household), &[("id_number", &common::id_number(44)), ("relation", "邻居家的"), ("date", &today().to_string()), ("reason", "婚入")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("与户主关系：") && unescaped(&r.body).contains("GB/T 4761") && r.body.contains("value=\"邻居家的\""), "refused beside the field, typed text kept");
    let r = clerk.post_form(&format!("/households/{}/join", f.household), &[("id_number", &common::id_number(44)), ("relation", "之儿媳"), ("date", &today().to_string()), ("reason", "婚入")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(person_row(s, bride).relation.as_deref(), Some("儿媳"));
    // 分户: the son heads a new household with his wife; a missing relation is refused first.
    let split = format!("/households/{}/split", f.household);
    let son = format!("#{}", f.son);
    let bride_id = bride.to_string();
    let rel_key = format!("rel_{bride}");
    let place = format!("#{}", s.world.village_a);
    let r = clerk.post_form(&split, &[("number", "4312241102010008"), ("place", &place), ("head", &son), ("member", &bride_id), (&rel_key, ""), ("date", &today().to_string())]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("杨秀英与新户主关系：必须填写"), "the message stands beside her box");
    assert!(r.body.contains("value=\"4312241102010008\""), "the new number is kept");
    let r = clerk.post_form(&split, &[("number", "4312241102010008"), ("place", &place), ("head", &son), ("member", &bride_id), (&rel_key, "妻子"), ("date", &today().to_string())]);
    assert_eq!(r.status, 303, "{}", r.body);
    let new_id = s.scalar("SELECT id FROM households WHERE number = '4312241102010008'");
    let (son_now, bride_now) = (person_row(s, f.son), person_row(s, bride));
    assert_eq!((son_now.household_id, son_now.relation.as_deref()), (Some(new_id), Some("户主")));
    assert_eq!((bride_now.household_id, bride_now.relation.as_deref()), (Some(new_id), Some("妻")));
    assert_eq!(person_row(s, f.father).household_id, Some(f.household));
    assert_eq!(person_row(s, f.mother).household_id, Some(f.household));
    // Records stay: the son's with the son, the household's with the old household.
    assert_eq!(subject_of(s, "ld_key_population", f.son_record), f.son);
    assert_eq!(subject_of(s, "ld_temporary_relief", f.household_record), f.household);
    // Both households tell it, each linking the other.
    let old = clerk.get(&format!("/households/{}?done=split", f.household)).body;
    let history = section(&old, "变动历史");
    assert!(history.contains("分户") && history.contains("田小山、杨秀英 分出") && history.contains(&format!("/households/{new_id}")), "{history}");
    assert!(history.contains("成员迁入"), "the bride's joining is in the history too");
    // Newest first: the 分户 comes before the joining.
    assert!(history.find("田小山、杨秀英 分出").unwrap_or(usize::MAX) < history.find("成员迁入").unwrap_or(0), "newest first");
    let new = clerk.get(&format!("/households/{new_id}")).body;
    let history = section(&new, "变动历史");
    assert!(history.contains("分户新立") && history.contains(&format!("/households/{}", f.household)), "{history}");
    let records = section(&old, "相关台账记录");
    assert!(records.contains(&format!("/ledgers/temporary_relief/{}", f.household_record)), "the household's record stays on the old household");
    let son_page = clerk.get(&format!("/persons/{}", f.son)).body;
    assert!(son_page.contains(&format!("/ledgers/key_population/{}", f.son_record)), "the son's record stays with him");
    // The API does the same: the father dies and leaves the household (his death recorded).
    let r = clerk.post_json(&format!("/api/v1/households/{}/leave", f.household), &serde_json::json!({"person": common::id_number(41), "reason": "死亡", "date": today().to_string()}));
    assert_eq!(r.status, 409, "the head leaves only after a head change: {}", r.body);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("户主变更")));
    let r = clerk.post_json(&format!("/api/v1/households/{}/head", f.household), &serde_json::json!({"head": common::id_number(42), "relations": {common::id_number(41): "夫"}, "reason": "原户主病重"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = clerk.post_json(&format!("/api/v1/households/{}/leave", f.household), &serde_json::json!({"person": common::id_number(41), "reason": "死亡", "date": today().to_string(), "note": "病故"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["members"].as_array().map(Vec::len), Some(1));
    let father = person_row(s, f.father);
    assert_eq!((father.status, father.household_id), (taizhang_domain::registry::PersonStatus::Dead, None), "a death leaving the household is the person's status too");
    // A move of the whole household to a place outside the 村干部's village is not found for them.
    let r = s.signed_in("cadre").post_json(&format!("/api/v1/households/{}/move", f.household), &serde_json::json!({"place": common::VILLAGE_B}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("迁往")), "{}", r.body);
}

#[test]
fn a_split_on_the_household_page_keeps_every_members_records() {
    both(split_on_the_household_page);
}

/// The 燃气 hazards of the year in the whole town, as the indicator counts them.
fn gas_hazards(s: &Server) -> i64 {
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.read().await.expect("read");
        let ind = taizhang_reports::indicator::builtin().expect("indicators").into_iter().find(|i| i.key == "hazards_gas").expect("hazards_gas");
        let def = ledgers::get(&mut tx, "hazards").await.expect("hazards");
        let ctx = taizhang_reports::Context::year(today().year(), Scope::all());
        taizhang_reports::eval::evaluate(&mut tx, &ind, &def, &ctx).await.expect("figure").value
    })
}

fn record_version(s: &Server, table: &str, id: i64) -> String {
    s.scalar(&format!("SELECT row_version FROM {table} WHERE id = {id}")).to_string()
}

fn void_and_restore(s: &Server) {
    let id = s.world.hazard_a;
    let before = gas_hazards(s);
    let mut clerk = s.signed_in("clerk");
    assert!(clerk.get("/ledgers/hazards").body.contains("坪溪村3组"));
    let page = clerk.get(&format!("/ledgers/hazards/{id}")).body;
    assert!(page.contains("作废这条记录"), "editors get the 作废 button");
    // A reason is required, and said beside the field.
    let r = clerk.post_form(&format!("/ledgers/hazards/{id}/void"), &[("_version", &record_version(s, "ld_hazards", id)), ("reason", "  ")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("作废原因：必须填写"), "{}", section(&r.body, "作废"));
    let r = clerk.post_form(&format!("/ledgers/hazards/{id}/void"), &[("_version", &record_version(s, "ld_hazards", id)), ("reason", "重复录入")]);
    assert_eq!(r.status, 303, "{}", r.body);
    // Gone from the list and from the indicator; visible with the filter, marked.
    assert!(!clerk.get("/ledgers/hazards").body.contains("坪溪村3组"), "a voided record leaves the list");
    let only = clerk.get("/ledgers/hazards?voids=only").body;
    assert!(only.contains("坪溪村3组") && only.contains("已作废") && !only.contains(common::FOREIGN_MARK), "仅作废 shows it alone");
    assert!(clerk.get("/ledgers/hazards?voids=include").body.contains("坪溪村3组"));
    assert_eq!(gas_hazards(s), before - 1, "a voided record leaves the indicator");
    let page = clerk.get(&format!("/ledgers/hazards/{id}")).body;
    let banner = section(&page, "id=\"voided\"");
    assert!(banner.contains("已作废：clerk 于") && banner.contains("原因：重复录入"), "{banner}");
    assert!(!page.contains("id=\"edit\"") && !page.contains("确认办结") && !page.contains("/transition\""), "no edit or workflow forms on a voided record");
    assert!(!page.contains(">恢复</button>"), "only administrators are offered 恢复");
    // Editing it is refused anyway.
    let r = clerk.post_form(&format!("/ledgers/hazards/{id}"), &[("_version", &record_version(s, "ld_hazards", id)), ("description", "改")]);
    assert_eq!(r.status, 409);
    // A non-administrator cannot restore, by page or API.
    let v = record_version(s, "ld_hazards", id);
    assert_eq!(clerk.post_form(&format!("/ledgers/hazards/{id}/restore"), &[("_version", &v)]).status, 403);
    assert_eq!(clerk.post_json(&format!("/api/v1/ledgers/hazards/records/{id}/restore"), &serde_json::json!({"version": v.parse::<i64>().unwrap_or(0)})).status, 403);
    // The administrator restores it: back in the list and the figure.
    let mut admin = s.signed_in("admin");
    assert!(admin.get(&format!("/ledgers/hazards/{id}")).body.contains(">恢复</button>"));
    let r = admin.post_form(&format!("/ledgers/hazards/{id}/restore"), &[("_version", &v)]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(clerk.get("/ledgers/hazards").body.contains("坪溪村3组"));
    assert_eq!(gas_hazards(s), before);
    let page = admin.get(&format!("/ledgers/hazards/{id}")).body;
    let history = section(&page, "修改记录");
    assert!(history.contains("作废") && history.contains("作废原因：重复录入") && history.contains("恢复"), "{history}");
    let audit = s.signed_in("auditor").get("/audit").body;
    assert!(audit.contains("作废") && audit.contains("恢复"), "the audit page labels both");
    // The API: void needs a version and a reason; the record says who voided it.
    let r = clerk.post_json(&format!("/api/v1/ledgers/hazards/records/{id}/void"), &serde_json::json!({"reason": "x"}));
    assert_eq!(r.status, 422, "{}", r.body);
    let v: i64 = record_version(s, "ld_hazards", id).parse().unwrap_or(0);
    let r = clerk.post_json(&format!("/api/v1/ledgers/hazards/records/{id}/void"), &serde_json::json!({"version": v}));
    assert_eq!(r.status, 422);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("作废原因")), "{}", r.body);
    let r = clerk.post_json(&format!("/api/v1/ledgers/hazards/records/{id}/void"), &serde_json::json!({"version": v, "reason": "对象填错"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["voided"]["reason"], "对象填错");
    let listed = clerk.get("/api/v1/ledgers/hazards/records").json();
    assert!(listed["records"].as_array().is_some_and(|a| a.iter().all(|r| r["id"] != id)), "the API's list leaves it out");
    let listed = clerk.get("/api/v1/ledgers/hazards/records?voids=only").json();
    assert_eq!(listed["total"], 1);
    let r = admin.post_json(&format!("/api/v1/ledgers/hazards/records/{id}/restore"), &serde_json::json!({"version": v + 1}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["voided"].is_null());
}

#[test]
fn a_voided_record_leaves_the_list_and_the_figure_and_comes_back_on_restore() {
    both(void_and_restore);
}

fn duplicates_and_negative_amounts(s: &Server) {
    let mut clerk = s.signed_in("clerk");
    let year = today().year();
    let day = format!("{year}-01-15");
    // The same hazard as 第 hazard_a 号 (same date, place and description).
    let form = [("_place", VILLAGE_A), ("found_on", day.as_str()), ("industry", "燃气"), ("level", "一般"), ("location", "坪溪村3组"), ("description", "燃气管老化"), ("remarks", "第二次录入")];
    let r = clerk.post_form("/ledgers/hazards/new", &form);
    assert_eq!(r.status, 409, "{}", r.body);
    let message = format!("第 {} 号记录", s.world.hazard_a);
    assert!(r.body.contains(&message) && r.body.contains("不能重复登记"), "the message names the existing record: {}", section(&r.body, "填写"));
    assert!(r.body.contains("value=\"坪溪村3组\"") && r.body.contains("value=\"第二次录入\"") && r.body.contains(&format!("value=\"{day}\"")), "the form keeps what was typed");
    let r = clerk.post_json("/api/v1/ledgers/hazards/records", &serde_json::json!({"place": VILLAGE_A, "values": {"found_on": day, "industry": "燃气", "level": "一般", "location": "坪溪村3组", "description": "燃气管老化"}}));
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains(&message)), "{}", r.body);
    // A negative payment is refused beside its field, in the form and the API.
    let mut admin = s.signed_in("admin");
    let month = format!("{year}-01");
    let household = "4312241102020001";
    let r = admin.post_form("/ledgers/dibao_payments/new", &[("_subject", household), ("pay_month", &month), ("kind", "正常发放"), ("amount", "-5")]);
    assert_eq!(r.status, 422, "{}", r.body);
    let amount = section(&r.body, "id=\"f-amount\"");
    let amount = &amount[..amount.find("</div>\n</div>").unwrap_or(amount.len())];
    assert!(amount.contains("value=\"-5\"") && amount.contains("class=\"error\"") && amount.contains("负"), "the refusal stands under 发放金额: {amount}");
    assert!(r.body.contains(&format!("value=\"{household}\"")), "the subject typed is kept");
    let r = admin.post_json("/api/v1/ledgers/dibao_payments/records", &serde_json::json!({"subject": household, "values": {"pay_month": month, "kind": "正常发放", "amount": "-5"}}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["fields"].as_array().is_some_and(|f| f.iter().any(|f| f["key"] == "amount")), "{}", r.body);
    // The same payment twice: the second is refused, naming the first.
    let r = admin.post_json("/api/v1/ledgers/dibao_payments/records", &serde_json::json!({"subject": household, "values": {"pay_month": month, "kind": "正常发放", "amount": "320"}}));
    assert_eq!(r.status, 201, "{}", r.body);
    let first = r.json()["id"].as_i64().unwrap_or(0);
    let r = admin.post_form("/ledgers/dibao_payments/new", &[("_subject", household), ("pay_month", &month), ("kind", "正常发放"), ("amount", "320.00")]);
    assert_eq!(r.status, 409);
    assert!(r.body.contains(&format!("第 {first} 号记录")), "{}", section(&r.body, "填写"));
}

#[test]
fn a_duplicate_natural_key_and_a_negative_amount_are_refused_with_the_input_kept() {
    both(duplicates_and_negative_amounts);
}

const LINE: &str = "防返贫监测标准（家庭人均纯收入）";

fn monitoring_line_on_the_settings_page(s: &Server) {
    let year = today().year();
    let mut admin = s.signed_in("admin");
    let page = unescaped(&admin.get("/admin/settings").body);
    assert!(page.contains(LINE) && page.contains("元/人·年") && page.contains("监测户走访间隔上限") && page.contains("下达指标"), "labels, units and the targets' section");
    assert!(!page.contains("monitoring_line") && !page.contains("target:") && !page.contains("check:visit_days"), "no setting key on the page");
    assert!(page.contains(&format!("<option value=\"{year}\" selected>")), "the year with records is chosen");
    assert!(admin.get("/").body.contains("/admin/settings"), "the admin menu links it");
    let r = admin.post_form("/admin/settings", &[("setting", LINE), ("year", &year.to_string()), ("value", "七千")]);
    assert_eq!(r.status, 422);
    let row = section(&r.body, &format!("<b>{LINE}</b>"));
    let row = &row[..row.find("</tr>").unwrap_or(row.len())];
    assert!(row.contains("value=\"七千\"") && row.contains(&format!("{LINE}：")), "refused in its own row, typed text kept: {row}");
    let r = admin.post_form("/admin/settings", &[("setting", LINE), ("year", &year.to_string()), ("value", "7,200")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(s.scalar(&format!("SELECT value FROM settings WHERE key = 'monitoring_line' AND year = {year}")), 720_000);
    let page = unescaped(&admin.get(&r.location).body);
    assert!(page.contains(&format!("已保存「{LINE}」（{year} 年）")));
    let row = section(&page, &format!("<b>{LINE}</b>"));
    assert!(row.contains("7,200.00 元/人·年") && row.contains("（本年度）") && row.contains("value=\"7200.00\""), "{}", &row[..row.find("</tr>").unwrap_or(row.len())]);
    // Another year shows it as not set there.
    let other = admin.get(&format!("/admin/settings?year={}", year - 3)).body;
    let row = section(&other, &format!("<b>{LINE}</b>"));
    assert!(row[..row.find("</tr>").unwrap_or(row.len())].contains("未设置"));
    // A switch and a target.
    let r = admin.post_form("/admin/settings", &[("setting", "特困与低保可同时享受"), ("year", &year.to_string()), ("value", "是")]);
    assert_eq!(r.status, 303);
    let label = "下达指标：燃气安全隐患起数";
    let r = admin.post_form("/admin/settings", &[("setting", label), ("year", &year.to_string()), ("value", "6")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.contains("saved="));
    assert!(admin.get(&r.location).body.contains("id=\"targets\" open"), "the targets' section opens on the target saved");
    assert_eq!(s.scalar(&format!("SELECT value FROM settings WHERE key = 'target:hazards_gas' AND year = {year}")), 6);
    // Audited, and only for administrators.
    assert!(s.scalar("SELECT COUNT(*) FROM audit WHERE entity = 'settings'") >= 3);
    assert_eq!(s.signed_in("clerk").get("/admin/settings").status, 403);
    assert_eq!(s.signed_in("leader").post_form("/admin/settings", &[("setting", LINE), ("year", &year.to_string()), ("value", "1")]).status, 403);
    // The API reads and writes the same, by label.
    let got = admin.get(&format!("/api/v1/settings?year={year}")).json();
    let line = got["settings"].as_array().and_then(|a| a.iter().find(|x| x["label"] == LINE).cloned()).unwrap_or_default();
    assert_eq!(line["value"], "7200.00");
    let r = admin.put_json("/api/v1/settings", &serde_json::json!({"setting": LINE, "year": year, "value": "7,500"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.scalar(&format!("SELECT value FROM settings WHERE key = 'monitoring_line' AND year = {year}")), 750_000);
    let r = admin.put_json("/api/v1/settings", &serde_json::json!({"setting": LINE, "value": "7500"}));
    assert_eq!(r.status, 422, "a per-year setting needs its year: {}", r.body);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("年度") && !e.contains("monitoring_line")));
    assert_eq!(s.signed_in("clerk").put_json("/api/v1/settings", &serde_json::json!({"setting": LINE, "year": year, "value": "1"})).status, 403);
}

#[test]
fn the_monitoring_line_is_set_on_the_settings_page() {
    both(monitoring_line_on_the_settings_page);
}

fn cadres_leave_post(s: &Server) {
    let db = s.db.clone();
    let village = s.world.village_a;
    let (serving, leaving) = s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        let cadre = |name: &str| taizhang_domain::registry::Cadre {
            id: 0, name: name.into(), kind: taizhang_domain::registry::CadreKind::Village, post: "村委委员".into(), unit: String::new(),
            birth_date: None, place_id: village, person_id: None, user_id: None, phone: String::new(), ended_on: None, end_reason: String::new(),
        };
        let a = taizhang_storage::orgs::create_cadre(&mut tx, &Actor::System, &Scope::all(), &cadre("舒在任"), today()).await.expect("cadre");
        let b = taizhang_storage::orgs::create_cadre(&mut tx, &Actor::System, &Scope::all(), &cadre("舒将离"), today()).await.expect("cadre");
        tx.commit().await.expect("commit");
        (a.id, b.id)
    });
    let mut cadre = s.signed_in("cadre");
    let list = cadre.get("/cadres").body;
    assert!(list.contains("舒在任") && list.contains("舒将离") && !list.contains(common::FOREIGN_NAME), "the village's cadres only");
    // The record form suggests both while both are in post.
    let form = cadre.get("/ledgers/hazards/new").body;
    assert!(form.contains("value=\"舒将离\""), "suggested while in post");
    let r = cadre.post_form(&format!("/cadres/{leaving}/end"), &[("ended_on", "2999-1-1"), ("end_reason", "换届")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("离任日期：不能晚于今天") && r.body.contains("value=\"换届\""), "refused beside the field, typed kept");
    let day = (today() - chrono::Duration::days(1)).to_string();
    let r = cadre.post_form(&format!("/cadres/{leaving}/end"), &[("ended_on", &day), ("end_reason", "换届")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let list = cadre.get("/cadres").body;
    let row = section(&list, &format!("id=\"c{leaving}\""));
    assert!(row[..row.find("</tr>").unwrap_or(row.len())].contains("已离任"), "shown as 已离任");
    let form = cadre.get("/ledgers/hazards/new").body;
    assert!(form.contains("value=\"舒在任\"") && !form.contains("value=\"舒将离\""), "a cadre who has left is no longer suggested");
    // And cannot be chosen.
    let r = cadre.post_form("/ledgers/hazards/new", &[("_place", VILLAGE_A), ("found_on", &today().to_string()), ("industry", "燃气"), ("level", "一般"), ("location", "坪溪村2组"), ("description", "灶台旁堆放柴草"), ("supervising_cadre", "舒将离")]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("离任，不能再选用"));
    // An edit, and an organisation closed.
    let r = cadre.post_form(&format!("/cadres/{serving}/edit"), &[("name", "舒在任"), ("kind", "village"), ("post", "村委主任"), ("unit", "坪溪村村委会"), ("place", &format!("#{village}")), ("phone", "13800000000"), ("birth_date", "")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(cadre.get("/cadres").body.contains("村委主任"));
    let mut admin = s.signed_in("admin");
    let r = admin.post_form(&format!("/orgs/{}/end", s.world.org_b), &[("ended_on", &day)]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(admin.get("/orgs").body.contains("已注销"));
    let r = admin.post_form(&format!("/orgs/{}/end", s.world.org_b), &[("ended_on", &day)]);
    assert_eq!(r.status, 409, "closed once only");
}

#[test]
fn a_cadre_who_has_left_is_not_offered_for_new_records() {
    both(cadres_leave_post);
}

//! `taizhang merge` (storage::merge, docs/county.md): two towns built as SQLite files with the
//! storage API merged into one county database (SQLite and PostgreSQL): places under the
//! county, registry, records with their states, histories and attachments intact, the audit
//! chain whole; a merge again brings only what changed; a person both towns registered is a
//! conflict that refuses the merge unless accepted; a dry run writes nothing.

mod common;
use common::*;

use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::registry::{Cadre, CadreKind, Organisation};
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::merge::{self, Options, Report};
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::testkit::TestDb;
use taizhang_storage::{attachments, audit, ledgers, orgs, records, Db, Engine, Scope};

fn vals(pairs: &[(&str, Value)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn clerk(place_id: i64) -> Actor {
    Actor::User { id: 1, username: "clerk".into(), role: Role::Clerk, place_id }
}

fn photo(len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend((0..len).map(|i| (i % 256) as u8));
    b
}

async fn install(db: &Db) {
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.commit().await.expect("commit");
}

async fn def(db: &Db, key: &str) -> LedgerDef {
    let mut tx = db.read().await.expect("read");
    ledgers::get(&mut tx, key).await.expect("def")
}

/// The county database: 溆浦县 alone, with the built-in ledgers.
async fn county(db: &Db) -> i64 {
    install(db).await;
    let mut tx = db.begin().await.expect("begin");
    let c = places::create(&mut tx, &Actor::System, NewPlace { parent_id: None, level: PlaceLevel::County, code: Some("431224"), name: "溆浦县", attributes: vec![] })
        .await
        .expect("county");
    tx.commit().await.expect("commit");
    c.id
}

/// What a town database holds, by its own ids.
struct TownDb {
    t: TestDb,
    village: i64,
    person: i64,
    hazard: i64,
    petitions: Vec<i64>,
}

async fn hazard(db: &Db, place_id: i64, description: &str) -> i64 {
    let def = def(db, "hazards").await;
    let mut tx = db.begin().await.expect("begin");
    let v = vals(&[("found_on", Value::Date(d("2023-06-01"))), ("industry", text("燃气")), ("level", text("一般")), ("location", text("村部")), ("description", text(description))]);
    let r = records::create(&mut tx, &def, &clerk(place_id), &Scope::all(), RecordInput { place_id: Some(place_id), values: v, ..Default::default() }, today())
        .await
        .expect("hazard");
    tx.commit().await.expect("commit");
    r.id
}

async fn petition(db: &Db, person: i64, on: &str, content: &str) -> i64 {
    let def = def(db, "petitions").await;
    let mut tx = db.begin().await.expect("begin");
    let v = vals(&[("received_on", Value::Date(d(on))), ("petition_level", text("镇")), ("content", text(content))]);
    let r = records::create(&mut tx, &def, &Actor::System, &Scope::all(), RecordInput { subject_id: Some(person), values: v, ..Default::default() }, today())
        .await
        .expect("petition");
    tx.commit().await.expect("commit");
    r.id
}

/// 北斗溪镇 (fixtures::town): two persons in one household, a hazard fixed on the spot with a
/// photo, two petitions.
async fn beidouxi() -> TownDb {
    let t = TestDb::new(Engine::Sqlite).await.expect("town db").expect("sqlite");
    let db = t.db.clone();
    install(&db).await;
    let places = town(&db).await;
    let head = person(&db, "张三", &id_number("431224", "19700101", 11), places.pingxi.id).await;
    let wife = person(&db, "李四", &id_number("431224", "19720202", 12), places.pingxi.id).await;
    let hh = household(&db, "4312241102010001", &head).await;
    {
        let mut tx = db.begin().await.expect("begin");
        taizhang_storage::households::add_member(&mut tx, &Actor::System, &Scope::all(), hh, wife.id, "配偶").await.expect("member");
        tx.commit().await.expect("commit");
    }
    let hz = hazard(&db, places.pingxi.id, "液化气瓶无减压阀").await;
    let def = def(&db, "hazards").await;
    let mut tx = db.begin().await.expect("begin");
    let a = clerk(places.town.id);
    records::transition(&mut tx, &def, &a, &Scope::all(), hz, 1, "fix_on_spot", vals(&[("rectified_on", Value::Date(d("2023-06-02")))]), d("2023-06-02"), &Default::default())
        .await
        .expect("fixed");
    attachments::add(&mut tx, &def, &a, &Scope::all(), hz, "整改后.jpg", &photo(5000)).await.expect("photo");
    tx.commit().await.expect("commit");
    {
        // The town's own monitoring income line: settings hold for a whole database.
        let mut tx = db.begin().await.expect("begin");
        taizhang_storage::settings::set(&mut tx, &Actor::System, "monitoring_line", 2023, 680_000).await.expect("setting");
        tx.commit().await.expect("commit");
    }
    let p1 = petition(&db, head.id, "2023-03-01", "宅基地纠纷").await;
    let p2 = petition(&db, wife.id, "2023-04-01", "低保咨询").await;
    TownDb { t, village: places.pingxi.id, person: head.id, hazard: hz, petitions: vec![p1, p2] }
}

/// 桥江镇 under the same county: 王五, and 张三 again (the same ID number as in 北斗溪镇).
async fn qiaojiang() -> TownDb {
    let t = TestDb::new(Engine::Sqlite).await.expect("town db").expect("sqlite");
    let db = t.db.clone();
    install(&db).await;
    let mut tx = db.begin().await.expect("begin");
    let a = Actor::System;
    let c = places::create(&mut tx, &a, NewPlace { parent_id: None, level: PlaceLevel::County, code: Some("431224"), name: "溆浦县", attributes: vec![] }).await.expect("county");
    let town = places::create(&mut tx, &a, NewPlace { parent_id: Some(c.id), level: PlaceLevel::Town, code: Some("431224100000"), name: "桥江镇", attributes: vec![] }).await.expect("town");
    let v = places::create(&mut tx, &a, NewPlace { parent_id: Some(town.id), level: PlaceLevel::Village, code: Some("431224100201"), name: "龙潭村", attributes: vec![] }).await.expect("village");
    tx.commit().await.expect("commit");
    let wang = person(&db, "王五", &id_number("431224", "19800303", 21), v.id).await;
    let zhang = person(&db, "张三", &id_number("431224", "19700101", 11), v.id).await;
    let hz = hazard(&db, v.id, "电线私拉乱接").await;
    let p1 = petition(&db, wang.id, "2023-05-01", "道路修缮").await;
    let p2 = petition(&db, zhang.id, "2023-05-02", "土地确权").await;
    TownDb { t, village: v.id, person: zhang.id, hazard: hz, petitions: vec![p1, p2] }
}

async fn run(town: &TownDb, county: &Db, opts: Options) -> Report {
    merge::merge(&town.t.db, county, &Actor::System, opts).await.expect("merge")
}

fn accept() -> Options {
    Options { accept_conflicts: true, ..Default::default() }
}

async fn verify_ok(db: &Db) {
    let mut tx = db.read().await.expect("read");
    let check = audit::verify(&mut tx).await.expect("verify");
    assert!(check.ok(), "{:?}", check.broken);
}

async fn target_of(db: &Db, source: &str, kind: &str, id: i64) -> i64 {
    let mut tx = db.read().await.expect("read");
    tx.fetch_one("SELECT target_id FROM merged_ids WHERE source = $1 AND kind = $2 AND source_id = $3", &[source.into(), kind.into(), id.into()])
        .await
        .expect("mapped")
        .int(0)
}

async fn count_rows(db: &Db, sql: &str) -> i64 {
    let mut tx = db.read().await.expect("read");
    tx.fetch_one(sql, &[]).await.expect("count").int(0)
}

/// The audit entries about one record (its history as the record page shows it).
async fn history(db: &Db, key: &str, id: i64) -> Vec<audit::AuditEntry> {
    let mut tx = db.read().await.expect("read");
    let q = audit::AuditQuery { entity: Some(format!("ld_{key}")), entity_id: Some(id), limit: 100, ..Default::default() };
    audit::list(&mut tx, &Scope::all(), &q).await.expect("history")
}

both!(two_towns_merge_with_states_histories_and_attachments, |db: Db| async move {
    let county_id = county(&db).await;
    let a = beidouxi().await;
    let r = run(&a, &db, Options::default()).await;
    assert!(r.committed && !r.refused, "{r:?}");
    assert!(r.conflicts.is_empty(), "{:?}", r.conflicts);
    assert_eq!(r.counts("places").added, 3, "the town and two villages; the county is the county's");
    assert_eq!(r.counts("persons").added, 2);
    assert_eq!(r.counts("households").added, 1);
    assert_eq!(r.counts("ld_hazards").added, 1);
    assert_eq!(r.counts("ld_petitions").added, 2);
    assert_eq!(r.counts("attachments").added, 1);
    assert!(r.counts("audit").added > 0);
    assert!(r.summary().contains("已合并"), "{}", r.summary());
    assert_eq!(r.counts("settings").not_merged, 1);
    assert!(r.not_merged.iter().any(|n| n.contains("2023年") && n.contains("6,800.00 元") && n.contains("县库未设") && n.contains("不能按镇分别保存")), "{:?}", r.not_merged);
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM settings").await, 0, "the county's settings untouched");
    verify_ok(&db).await;

    // The town lies under the county, its village under it.
    let code = "431224110000";
    let town_t = target_of(&db, code, "places", {
        let mut tx = a.t.db.read().await.expect("read");
        places::by_code(&mut tx, code).await.expect("code").expect("town").id
    })
    .await;
    {
        let mut tx = db.read().await.expect("read");
        let p = places::get(&mut tx, town_t).await.expect("town");
        assert_eq!((p.parent_id, p.name.as_str()), (Some(county_id), "北斗溪镇"));
    }
    // The hazard keeps its state, version and history; its photo comes back byte for byte.
    let hz = target_of(&db, code, "ld_hazards", a.hazard).await;
    let hdef = def(&db, "hazards").await;
    let src = {
        let mut tx = a.t.db.read().await.expect("read");
        records::get(&mut tx, &hdef, &Scope::all(), a.hazard).await.expect("town record")
    };
    let got = {
        let mut tx = db.read().await.expect("read");
        records::get(&mut tx, &hdef, &Scope::all(), hz).await.expect("county record")
    };
    assert_eq!(got.state, src.state);
    assert_eq!(got.state_since, src.state_since);
    assert_eq!(got.row_version, src.row_version);
    assert_eq!(got.values, src.values);
    assert_eq!(got.place_id, target_of(&db, code, "places", a.village).await);
    let town_history = history(&a.t.db, "hazards", a.hazard).await;
    let county_history = history(&db, "hazards", hz).await;
    assert!(town_history.len() >= 3, "created, fixed, photo: {town_history:?}");
    assert_eq!(county_history.len(), town_history.len(), "every entry of the record's history");
    assert!(county_history.iter().all(|e| e.note.contains("合并自北斗溪镇（431224110000）")), "{county_history:?}");
    assert_eq!(
        county_history.iter().map(|e| (&e.at, &e.actor, &e.action)).collect::<Vec<_>>(),
        town_history.iter().map(|e| (&e.at, &e.actor, &e.action)).collect::<Vec<_>>(),
        "original time, actor and action"
    );
    {
        let mut tx = db.read().await.expect("read");
        let list = attachments::list(&mut tx, &hdef, &Scope::all(), hz, true).await.expect("list");
        assert_eq!(list.len(), 1);
        let (_, bytes) = attachments::fetch(&mut tx, &hdef, &Scope::all(), hz, list[0].id).await.expect("bytes");
        assert_eq!(bytes, photo(5000));
    }
    // The petitions point at the county's persons.
    let pdef = def(&db, "petitions").await;
    let p = target_of(&db, code, "ld_petitions", a.petitions[0]).await;
    {
        let mut tx = db.read().await.expect("read");
        let rec = records::get(&mut tx, &pdef, &Scope::all(), p).await.expect("petition");
        assert_eq!(rec.subject_id, Some(target_of(&db, code, "persons", a.person).await));
    }

    // 桥江镇 registered 张三 too: refused, nothing written, both towns named.
    let b = qiaojiang().await;
    let entries = audit_count(&db).await;
    let r = run(&b, &db, Options::default()).await;
    assert!(r.refused && !r.committed, "{r:?}");
    assert_eq!(r.counts("persons").conflicts, 1);
    assert!(r.conflicts.iter().any(|c| c.contains("北斗溪镇") && c.contains("桥江镇") && c.contains("张三")), "{:?}", r.conflicts);
    assert!(r.summary().contains("拒绝合并"), "{}", r.summary());
    assert_eq!(audit_count(&db).await, entries);
    assert_eq!(record_count(&db, "petitions").await, 2);
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM merged_ids WHERE source = '431224100000'").await, 0);

    // Accepted: 桥江镇's petition about 张三 points at the person 北斗溪镇 brought.
    let r = run(&b, &db, accept()).await;
    assert!(r.committed, "{r:?}");
    assert_eq!(r.counts("persons").added, 1);
    assert_eq!(r.counts("persons").conflicts, 1);
    assert_eq!(record_count(&db, "petitions").await, 4);
    assert_eq!(record_count(&db, "hazards").await, 2);
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM persons").await, 3);
    let zhang = target_of(&db, code, "persons", a.person).await;
    assert_eq!(target_of(&db, "431224100000", "persons", b.person).await, zhang);
    {
        let mut tx = db.read().await.expect("read");
        let rec = records::get(&mut tx, &pdef, &Scope::all(), target_of(&db, "431224100000", "ld_petitions", b.petitions[1]).await).await.expect("petition");
        assert_eq!(rec.subject_id, Some(zhang));
    }
    verify_ok(&db).await;
    // Accepted once, the link stands: merging 桥江镇 again is not refused and changes nothing.
    let again = run(&b, &db, Options::default()).await;
    assert!(again.committed && again.conflicts.is_empty(), "{again:?}");
    let t = again.totals();
    assert_eq!((t.added, t.updated, t.conflicts), (0, 0, 0), "{again:?}");
});

both!(merging_again_brings_only_what_changed, |db: Db| async move {
    county(&db).await;
    let a = beidouxi().await;
    let code = "431224110000";
    let group = {
        let mut tx = a.t.db.begin().await.expect("begin");
        let g = places::create(&mut tx, &Actor::System, NewPlace { parent_id: Some(a.village), level: PlaceLevel::Group, code: None, name: "一组", attributes: vec![] }).await.expect("group");
        tx.commit().await.expect("commit");
        g.id
    };
    let first = run(&a, &db, Options::default()).await;
    assert!(first.committed, "{first:?}");
    let persons = count_rows(&db, "SELECT COUNT(*) FROM persons").await;

    // The town keeps working: a new hazard, a petition edited, another voided.
    let new = hazard(&a.t.db, a.village, "消防通道堵塞").await;
    let pdef = def(&a.t.db, "petitions").await;
    {
        let mut tx = a.t.db.begin().await.expect("begin");
        records::update(&mut tx, &pdef, &Actor::System, &Scope::all(), a.petitions[0], 1, vals(&[("content", text("宅基地纠纷（已调解）"))]), today())
            .await
            .expect("edit");
        records::void(&mut tx, &pdef, &Actor::System, &Scope::all(), a.petitions[1], 1, "重复录入").await.expect("void");
        // 坪溪村 becomes a 示范村, and its 一组 goes to 茅坡村 (moved by hand: no command moves a place).
        places::set_attributes(&mut tx, &Actor::System, a.village, vec!["脱贫村".into(), "示范村".into()]).await.expect("attributes");
        let maopo = places::by_code(&mut tx, "431224110202").await.expect("code").expect("茅坡村");
        tx.exec("UPDATE places SET parent_id = $1, path = $2 WHERE id = $3", &[maopo.id.into(), format!("{}{group}/", maopo.path).into(), group.into()]).await.expect("move");
        tx.commit().await.expect("commit");
    }
    let r = run(&a, &db, Options::default()).await;
    assert!(r.committed && r.conflicts.is_empty(), "{r:?}");
    assert_eq!((r.counts("ld_hazards").added, r.counts("ld_hazards").updated, r.counts("ld_hazards").unchanged), (1, 0, 1));
    assert_eq!((r.counts("ld_petitions").added, r.counts("ld_petitions").updated, r.counts("ld_petitions").unchanged), (0, 2, 0));
    assert_eq!(r.counts("persons").unchanged, 2);
    assert_eq!(r.counts("persons").added + r.counts("persons").updated, 0);
    assert_eq!(r.counts("attachments").unchanged, 1);
    assert_eq!(r.counts("audit").added, 4, "the four audited writes' entries only");
    assert_eq!((r.counts("places").updated, r.counts("places").unchanged), (2, 2), "{r:?}");
    {
        let mut tx = db.read().await.expect("read");
        let g = places::get(&mut tx, target_of(&db, code, "places", group).await).await.expect("group");
        let maopo = places::by_code(&mut tx, "431224110202").await.expect("code").expect("茅坡村");
        assert_eq!((g.parent_id, g.path.clone()), (Some(maopo.id), format!("{}{}/", maopo.path, g.id)));
        let pingxi = places::get(&mut tx, target_of(&db, code, "places", a.village).await).await.expect("village");
        assert_eq!(pingxi.attributes, vec!["脱贫村".to_string(), "示范村".to_string()]);
    }
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM persons").await, persons, "nothing duplicated");
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM ld_petitions").await, 2);
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM ld_hazards").await, 2);
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM attachments").await, 1);
    let county_pdef = def(&db, "petitions").await;
    {
        let mut tx = db.read().await.expect("read");
        let edited = records::get(&mut tx, &county_pdef, &Scope::all(), target_of(&db, code, "ld_petitions", a.petitions[0]).await).await.expect("edited");
        assert_eq!(edited.values.get("content"), Some(&text("宅基地纠纷（已调解）")));
        let voided = records::get(&mut tx, &county_pdef, &Scope::all(), target_of(&db, code, "ld_petitions", a.petitions[1]).await).await.expect("voided");
        assert_eq!(voided.voided.as_ref().map(|v| v.reason.as_str()), Some("重复录入"));
    }
    assert!(target_of(&db, code, "ld_hazards", new).await > 0);
    verify_ok(&db).await;

    // Nothing new in the town: everything 未变.
    let again = run(&a, &db, Options::default()).await;
    let t = again.totals();
    assert_eq!((t.added, t.updated, t.conflicts), (0, 0, 0), "{again:?}");
    assert!(t.unchanged > 0);
    verify_ok(&db).await;
});

both!(a_dry_run_writes_nothing, |db: Db| async move {
    county(&db).await;
    let a = beidouxi().await;
    let entries = audit_count(&db).await;
    let r = run(&a, &db, Options { dry_run: true, ..Default::default() }).await;
    assert!(r.dry_run && !r.committed, "{r:?}");
    assert_eq!(r.counts("persons").added, 2);
    assert_eq!(r.counts("ld_petitions").added, 2);
    assert!(r.summary().contains("试运行"), "{}", r.summary());
    assert_eq!(audit_count(&db).await, entries);
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM persons").await, 0);
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM places").await, 1);
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM merged_ids").await, 0);
    assert_eq!(record_count(&db, "hazards").await, 0);
    verify_ok(&db).await;
    // And the real merge after it finds the same.
    let real = run(&a, &db, Options::default()).await;
    assert_eq!(real.kinds.iter().map(|k| (k.kind.clone(), k.counts)).collect::<Vec<_>>(), r.kinds.iter().map(|k| (k.kind.clone(), k.counts)).collect::<Vec<_>>());
});

both!(a_town_of_another_county_is_refused, |db: Db| async move {
    install(&db).await;
    {
        let mut tx = db.begin().await.expect("begin");
        places::create(&mut tx, &Actor::System, NewPlace { parent_id: None, level: PlaceLevel::County, code: Some("431225"), name: "会同县", attributes: vec![] })
            .await
            .expect("county");
        tx.commit().await.expect("commit");
    }
    let a = beidouxi().await;
    let e = merge::merge(&a.t.db, &db, &Actor::System, Options::default()).await.expect_err("no such county");
    assert!(e.to_string().contains("县库中没有「溆浦县」"), "{e}");
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM places").await, 1);
});

both!(a_place_code_held_elsewhere_blocks_even_when_accepted, |db: Db| async move {
    county(&db).await;
    let a = beidouxi().await;
    assert!(run(&a, &db, Options::default()).await.committed);
    // The same file again under another town's name and code: its villages' codes are taken.
    {
        let mut tx = a.t.db.begin().await.expect("begin");
        tx.exec("UPDATE places SET code = '431224120000', name = '另一镇' WHERE level = 'town'", &[]).await.expect("rename");
        tx.commit().await.expect("commit");
    }
    let entries = audit_count(&db).await;
    let r = run(&a, &db, accept()).await;
    assert!(r.refused && r.blocking && !r.committed, "{r:?}");
    assert!(r.conflicts.iter().any(|c| c.contains("431224110201") && c.contains("北斗溪镇/坪溪村")), "{:?}", r.conflicts);
    assert!(r.summary().contains("无法合并"), "{}", r.summary());
    assert_eq!(r.counts("persons").not_merged, 2, "persons of places refused are left out, not written without a place");
    assert_eq!(audit_count(&db).await, entries);
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM places").await, 4);
});

const LAMPS: &str = r#"
key = "road_lamps"
name = "路灯维护台账"
group = "人居环境"
[time]
kind = "event"
field = "checked_on"
[[fields]]
key = "lamp_no"
label = "路灯编号"
type = "text"
required = true
[[fields]]
key = "checked_on"
label = "检查日期"
type = "date"
required = true
"#;

/// A town's own ledger with one lamp, and an organisation (the same USCC in both towns).
async fn lamps_and_org(db: &Db, ledger: &str, place_id: i64, lamp: &str) {
    let def = LedgerDef::from_toml(ledger).expect("ledger");
    let first17 = "91431224MA4L00001";
    let uscc = format!("{first17}{}", taizhang_domain::uscc::uscc_check_character(first17).expect("check"));
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::define(&mut tx, &Actor::System, &def).await.expect("define");
    let v = vals(&[("lamp_no", text(lamp)), ("checked_on", Value::Date(d("2023-05-01")))]);
    records::create(&mut tx, &def, &Actor::System, &Scope::all(), RecordInput { place_id: Some(place_id), values: v, ..Default::default() }, today()).await.expect("lamp");
    let org = Organisation { id: 0, name: "坪溪民宿专业合作社".into(), uscc: Some(uscc), kind: "农民专业合作社".into(), address: String::new(), place_id, contact: String::new(), phone: String::new(), ended_on: None };
    orgs::create_org(&mut tx, &Actor::System, &Scope::all(), &org).await.expect("org");
    tx.commit().await.expect("commit");
}

both!(town_ledgers_organisations_cadres_and_changes_on_both_sides, |db: Db| async move {
    county(&db).await;
    let a = beidouxi().await;
    let code = "431224110000";
    lamps_and_org(&a.t.db, LAMPS, a.village, "L1").await;
    let cadre = {
        let mut tx = a.t.db.begin().await.expect("begin");
        let c = Cadre { id: 0, name: "张三".into(), kind: CadreKind::Village, post: "村支书".into(), unit: String::new(), birth_date: None, place_id: a.village, person_id: Some(a.person), user_id: None, phone: String::new(), ended_on: None, end_reason: String::new() };
        let c = orgs::create_cadre(&mut tx, &Actor::System, &Scope::all(), &c, today()).await.expect("cadre");
        tx.commit().await.expect("commit");
        c.id
    };
    // A child joins 张三's household: a household event.
    let child = person(&a.t.db, "张小", &id_number("431224", "20230801", 13), a.village).await;
    {
        let mut tx = a.t.db.begin().await.expect("begin");
        let hh = tx.fetch_one("SELECT id FROM households", &[]).await.expect("household").int(0);
        taizhang_storage::households::join(&mut tx, &Actor::System, &Scope::all(), hh, child.id, "子", Some(d("2023-08-01")), "出生").await.expect("join");
        tx.commit().await.expect("commit");
    }
    let r = run(&a, &db, Options::default()).await;
    assert!(r.committed && r.conflicts.is_empty(), "{r:?}");
    assert_eq!(r.counts("ledger_defs").added, 1, "the town's own ledger; the built-in ones are the same");
    assert_eq!(r.counts("ld_road_lamps").added, 1);
    assert_eq!(r.counts("organisations").added, 1);
    assert_eq!(r.counts("cadres").added, 1);
    assert_eq!(r.counts("household_events").added, 1, "{r:?}");
    {
        let mut tx = db.read().await.expect("read");
        let e = tx.fetch_one("SELECT household_id, person_id, kind FROM household_events", &[]).await.expect("event");
        assert_eq!(e.int(1), target_of(&db, code, "persons", child.id).await);
        assert_eq!(e.text(2), "join");
        let h = tx.fetch_one("SELECT id, head_person_id FROM households", &[]).await.expect("household");
        assert_eq!(e.int(0), h.int(0));
        assert_eq!(h.opt_int(1), Some(target_of(&db, code, "persons", a.person).await), "the head");
    }
    assert!(r.not_merged.iter().all(|n| !n.contains("台账")), "{:?}", r.not_merged);
    {
        let mut tx = db.read().await.expect("read");
        let c = orgs::get_cadre(&mut tx, &Scope::all(), target_of(&db, code, "cadres", cadre).await).await.expect("cadre");
        assert_eq!(c.person_id, Some(target_of(&db, code, "persons", a.person).await));
    }
    assert_eq!(record_count(&db, "road_lamps").await, 1);

    // 桥江镇's 路灯维护台账 has a field the county's lacks, and the same organisation.
    let b = qiaojiang().await;
    let wider = LAMPS.to_string() + "[[fields]]\nkey = \"repair_cost\"\nlabel = \"维修费用\"\ntype = \"money\"\n";
    lamps_and_org(&b.t.db, &wider, b.village, "L9").await;
    let r = run(&b, &db, Options::default()).await;
    assert!(r.refused, "{r:?}");
    assert_eq!(r.counts("ledger_defs").conflicts, 1);
    assert_eq!(r.counts("organisations").conflicts, 1);
    assert!(r.conflicts.iter().any(|c| c.contains("路灯维护台账")), "{:?}", r.conflicts);
    assert!(r.conflicts.iter().any(|c| c.contains("坪溪民宿专业合作社") && c.contains("北斗溪镇") && c.contains("桥江镇")), "{:?}", r.conflicts);
    let r = run(&b, &db, accept()).await;
    assert!(r.committed, "{r:?}");
    assert!(r.not_merged.iter().any(|n| n.contains("路灯维护台账")), "{:?}", r.not_merged);
    assert_eq!(record_count(&db, "road_lamps").await, 1, "the county's definition kept, 桥江镇's lamps left out");
    assert_eq!(count_rows(&db, "SELECT COUNT(*) FROM organisations").await, 1);
    let county_def = def(&db, "road_lamps").await;
    assert!(county_def.field("repair_cost").is_none());

    // A petition changed in the county after the merge and again in the town: a conflict,
    // the county's value kept.
    let pdef = def(&db, "petitions").await;
    let p = target_of(&db, code, "ld_petitions", a.petitions[0]).await;
    {
        let mut tx = db.begin().await.expect("begin");
        records::update(&mut tx, &pdef, &Actor::System, &Scope::all(), p, 1, vals(&[("content", text("县里改的"))]), today()).await.expect("county edit");
        tx.commit().await.expect("commit");
        let mut tx = a.t.db.begin().await.expect("begin");
        records::update(&mut tx, &def(&a.t.db, "petitions").await, &Actor::System, &Scope::all(), a.petitions[0], 1, vals(&[("content", text("镇里改的"))]), today())
            .await
            .expect("town edit");
        tx.commit().await.expect("commit");
    }
    let r = run(&a, &db, Options::default()).await;
    assert!(r.refused, "{r:?}");
    assert_eq!(r.counts("ld_petitions").conflicts, 1);
    assert!(r.conflicts.iter().any(|c| c.contains("都改过")), "{:?}", r.conflicts);
    let r = run(&a, &db, accept()).await;
    assert!(r.committed, "{r:?}");
    {
        let mut tx = db.read().await.expect("read");
        let rec = records::get(&mut tx, &pdef, &Scope::all(), p).await.expect("petition");
        assert_eq!(rec.values.get("content"), Some(&text("县里改的")));
    }
    verify_ok(&db).await;
});

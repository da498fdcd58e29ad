//! A county of two towns in one database: 北斗溪镇 (坪溪村, 茅坡村) and 东溪镇 (东溪村). Clean, the
//! cross-town checks say nothing; each planted case — 特困 paid by both towns for one month, a
//! person registered in one town in a household of the other, a 特困 enrolment kept by the
//! other town, 优抚 paid by one town after a death registered in the other, one cadre visiting
//! in both towns on one day — is found exactly once by its check, naming both towns and the
//! records of both. A town's run sees its own part only, without the other town's names or
//! records. On both engines.

mod common;

use chrono::NaiveDate;
use common::{both, id_number, person, town, Town};
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::period::Period;
use taizhang_domain::place::{Place, PlaceLevel};
use taizhang_domain::registry::{Cadre, CadreKind, Person, StatusChange, StatusChangeInput};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_reports::{checks, Context};
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::{households, ledgers, orgs, persons, records, Db, Scope};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn entry_day() -> NaiveDate {
    d("2024-06-30")
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

/// The cross-town checks: those of `catalogue/checks/county.toml`.
const CROSS_TOWN: [&str; 13] = [
    "dibao_paid_in_two_towns",
    "destitute_paid_in_two_towns",
    "special_care_paid_in_two_towns",
    "person_household_in_other_town",
    "dibao_kept_by_other_town",
    "destitute_kept_by_other_town",
    "special_care_kept_by_other_town",
    "dibao_paid_after_death_in_other_town",
    "destitute_paid_after_death_in_other_town",
    "special_care_paid_after_death_in_other_town",
    "assistance_visitor_in_two_towns",
    "comprehensive_visitor_in_two_towns",
    "visitor_in_two_towns_across_ledgers",
];

/// A record at `place` (the subject's own place when none), entered by a county user.
async fn add(db: &Db, defs: &[LedgerDef], ledger: &str, subject: i64, place: Option<i64>, values: &[(&str, Value)]) -> i64 {
    let def = defs.iter().find(|l| l.key == ledger).expect("ledger");
    let vals: Values = values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut tx = db.begin().await.expect("begin");
    let input = RecordInput { place_id: place, subject_id: Some(subject), concerns_year: None, values: vals };
    let r = records::create(&mut tx, def, &Actor::System, &Scope::all(), input, entry_day()).await.expect(ledger);
    tx.commit().await.expect("commit");
    r.id
}

/// Monthly payments for the months `from..=to` of 2023; ids in month order.
async fn monthly(db: &Db, defs: &[LedgerDef], ledger: &str, subject: i64, place: Option<i64>, months: std::ops::RangeInclusive<u32>, extra: &[(&str, Value)]) -> Vec<i64> {
    let mut ids = Vec::new();
    for m in months {
        let mut values = vec![("pay_month", t(&format!("2023-{m:02}"))), ("amount", Value::Int(50_000))];
        values.extend(extra.iter().cloned());
        ids.push(add(db, defs, ledger, subject, place, &values).await);
    }
    ids
}

async fn household(db: &Db, number: &str, members: &[(&Person, &str)]) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let (a, s) = (Actor::System, Scope::all());
    let h = households::create(&mut tx, &a, &s, number, members[0].0.place_id).await.expect("household");
    for (p, relation) in members {
        households::add_member(&mut tx, &a, &s, h.id, p.id, relation).await.expect("member");
    }
    tx.commit().await.expect("commit");
    h.id
}

struct County {
    town: Town,
    dongxi_town: Place,
    dongxi: Place,
    defs: Vec<LedgerDef>,
    chen: Person,
    wu: Person,
    zheng: Person,
    qian: Person,
    h1: i64,
    h9: i64,
    cadre: i64,
    destitute_pay_chen: Vec<i64>,
}

/// Two towns, each paying and visiting its own people; one county cadre visiting both, on
/// different days.
async fn clean_county(db: &Db) -> County {
    let town = town(db).await;
    let mut tx = db.begin().await.expect("begin");
    let a = Actor::System;
    let dongxi_town = places::create(
        &mut tx,
        &a,
        NewPlace { parent_id: Some(town.county.id), level: PlaceLevel::Town, code: Some("431224101000"), name: "东溪镇", attributes: vec![] },
    )
    .await
    .expect("town");
    let dongxi = places::create(
        &mut tx,
        &a,
        NewPlace { parent_id: Some(dongxi_town.id), level: PlaceLevel::Village, code: Some("431224101201"), name: "东溪村", attributes: vec![] },
    )
    .await
    .expect("village");
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("ledgers");
    ledgers::install_builtin(&mut tx, &a, &defs).await.expect("install");
    let cadre = Cadre {
        id: 0,
        name: "刘干部".into(),
        kind: CadreKind::Other,
        post: "县驻村工作队".into(),
        unit: String::new(),
        birth_date: None,
        place_id: town.county.id,
        person_id: None,
        user_id: None,
        phone: String::new(),
        ended_on: None,
        end_reason: String::new(),
    };
    let cadre = orgs::create_cadre(&mut tx, &a, &Scope::all(), &cadre, entry_day()).await.expect("cadre").id;
    tx.commit().await.expect("commit");

    let (px, mp, dx) = (town.pingxi.id, town.maopo.id, dongxi.id);
    let zhang = person(db, "张一", &id_number("433024", "19500101", 11), px).await;
    let zheng = person(db, "郑十", &id_number("433024", "19400505", 51), px).await;
    let chen = person(db, "陈三", &id_number("433024", "19400303", 31), mp).await;
    let wu = person(db, "吴九", &id_number("433024", "19420909", 91), mp).await;
    let sun = person(db, "孙五", &id_number("433024", "19550505", 55), dx).await;
    let qian = person(db, "钱七", &id_number("433024", "19600707", 77), dx).await;
    let h1 = household(db, "H1", &[(&zhang, "户主")]).await;
    let h9 = household(db, "H9", &[(&sun, "户主")]).await;

    // 北斗溪镇 pays its 低保 and 特困; 东溪镇 its 低保.
    monthly(db, &defs, "dibao_payments", h1, None, 1..=12, &[]).await;
    let support = [("kind", t("基本生活费")), ("support_mode", t("分散供养"))];
    let destitute_pay_chen = monthly(db, &defs, "destitute_payments", chen.id, None, 1..=12, &support).await;
    monthly(db, &defs, "dibao_payments", h9, None, 1..=12, &[]).await;
    add(db, &defs, "destitute", chen.id, None, &[("support_mode", t("分散供养")), ("approved_on", Value::Date(d("2020-01-01")))]).await;
    add(db, &defs, "special_care", zheng.id, None, &[("category", t("在乡复员军人")), ("recognised_on", Value::Date(d("2010-08-01")))]).await;

    // The county cadre visits both towns, never both on one day.
    let visit = |day: &str| vec![("visited_on", Value::Date(d(day))), ("visitor", Value::Int(cadre))];
    add(db, &defs, "assistance_visits", h1, None, &visit("2023-02-15")).await;
    add(db, &defs, "assistance_visits", h9, None, &visit("2023-02-16")).await;
    add(db, &defs, "comprehensive_visits", sun.id, None, &visit("2023-03-20")).await;
    County { town, dongxi_town, dongxi, defs, chen, wu, zheng, qian, h1, h9, cadre, destitute_pay_chen }
}

fn year_2023(scope: Scope) -> Context {
    Context::clamped(Period::year(2023), None, d("2023-12-31"), scope)
}

async fn run_all(db: &Db, c: &County, scope: Scope) -> Vec<checks::Finding> {
    let mut tx = db.read().await.expect("read");
    checks::run_all(&mut tx, &checks::builtin().expect("checks"), &c.defs, &year_2023(scope)).await.expect("checks")
}

async fn scope_of(db: &Db, place: &Place) -> Scope {
    let mut tx = db.read().await.expect("read");
    Scope::of_place(&mut tx, place.id).await.expect("scope")
}

fn cross(found: &[checks::Finding]) -> Vec<&checks::Finding> {
    found.iter().filter(|f| CROSS_TOWN.contains(&f.check.as_str())).collect()
}

/// The one finding of `key`.
fn one<'a>(found: &'a [checks::Finding], key: &str) -> &'a checks::Finding {
    let mine: Vec<&checks::Finding> = found.iter().filter(|f| f.check == key).collect();
    assert_eq!(mine.len(), 1, "{key}: {mine:#?}");
    mine[0]
}

fn says(f: &checks::Finding, words: &[&str]) {
    for w in words {
        assert!(f.message.contains(w), "「{w}」 missing from {}", f.message);
    }
}

fn never_says(f: &checks::Finding, words: &[&str]) {
    for w in words {
        assert!(!f.message.contains(w), "「{w}」 shown in {}", f.message);
    }
}

/// The finding names none of these records (ids are per ledger: only its own ledger's count).
fn none_of<'a>(f: &checks::Finding, records: impl IntoIterator<Item = (&'a str, Vec<i64>)>) {
    for (ledger, ids) in records {
        for id in ids {
            assert!(!f.records.iter().any(|r| r.ledger == ledger && r.id == id), "{ledger} {id}: {f:#?}");
            if f.ledger == ledger {
                assert!(!f.message.contains(&format!("第 {id} 号")), "{ledger} {id}: {}", f.message);
            }
        }
    }
}

fn numbered(ids: &[i64]) -> Vec<String> {
    ids.iter().map(|i| i.to_string()).collect()
}

both!(a_clean_county_finds_nothing, |db: Db| async move {
    let c = clean_county(&db).await;
    let keys: Vec<String> = checks::builtin().expect("checks").into_iter().map(|c| c.key).collect();
    for k in CROSS_TOWN {
        assert!(keys.iter().any(|x| x == k), "{k}");
    }
    // Exactly these are the checks across towns.
    let across: Vec<String> = checks::builtin().expect("checks").into_iter().filter(|c| c.kind.across_towns()).map(|c| c.key).collect();
    assert_eq!(across, CROSS_TOWN.map(String::from).to_vec());
    // Nothing from any check, county-wide or in either town.
    for scope in [Scope::all(), scope_of(&db, &c.town.town).await, scope_of(&db, &c.dongxi_town).await] {
        let found = run_all(&db, &c, scope).await;
        assert!(found.is_empty(), "{found:#?}");
    }
});

both!(each_planted_case_is_found_once_naming_both_towns_and_records, |db: Db| async move {
    let c = clean_county(&db).await;
    let dx = Some(c.dongxi.id);
    // (a) 东溪镇 pays 陈三 (北斗溪镇茅坡村) 照料护理费 for May, when 北斗溪镇 paid him too.
    let care = [("kind", t("照料护理费")), ("support_mode", t("分散供养"))];
    let may_b = monthly(&db, &c.defs, "destitute_payments", c.chen.id, dx, 5..=5, &care).await;
    let may_a = vec![c.destitute_pay_chen[4]];
    // (b) 钱七, registered in 东溪村, joins 张一's household in 坪溪村; 吴九 of 茅坡村 is kept on
    // 东溪镇's 特困 roll.
    let mut tx = db.begin().await.expect("begin");
    households::add_member(&mut tx, &Actor::System, &Scope::all(), c.h1, c.qian.id, "其他亲属").await.expect("member");
    tx.commit().await.expect("commit");
    let wu_b = add(&db, &c.defs, "destitute", c.wu.id, dx, &[("support_mode", t("集中供养")), ("approved_on", Value::Date(d("2023-03-01")))]).await;
    // (c) 郑十 of 坪溪村 dies on 15 June (registered in 北斗溪镇); 东溪镇 pays him 优抚 May to August.
    let zheng_b = monthly(&db, &c.defs, "special_care_payments", c.zheng.id, dx, 5..=8, &[("kind", t("定期生活补助"))]).await;
    let mut tx = db.begin().await.expect("begin");
    let p = persons::get(&mut tx, &Scope::all(), c.zheng.id).await.expect("person");
    let death = StatusChangeInput { change: StatusChange::Death, date: Some(d("2023-06-15")), reason: String::new(), place_text: String::new() };
    persons::set_status(&mut tx, &Actor::System, &Scope::all(), c.zheng.id, p.row_version, &death, entry_day()).await.expect("death");
    tx.commit().await.expect("commit");
    // (d) 刘干部 visits H1 in 坪溪村 and H9 in 东溪村 on 15 April.
    let visit = [("visited_on", Value::Date(d("2023-04-15"))), ("visitor", Value::Int(c.cadre))];
    let visit_a = add(&db, &c.defs, "assistance_visits", c.h1, None, &visit).await;
    let visit_b = add(&db, &c.defs, "assistance_visits", c.h9, None, &visit).await;

    let found = run_all(&db, &c, Scope::all()).await;
    let keys: Vec<&str> = cross(&found).iter().map(|f| f.check.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "destitute_paid_in_two_towns",
            "person_household_in_other_town",
            "destitute_kept_by_other_town",
            "special_care_paid_after_death_in_other_town",
            "assistance_visitor_in_two_towns",
        ],
        "{found:#?}"
    );

    let paid = one(&found, "destitute_paid_in_two_towns");
    assert_eq!((paid.ledger.as_str(), paid.record_ids.clone()), ("destitute_payments", may_a.clone()));
    assert_eq!((paid.other_ledger.as_str(), paid.other_record_ids.clone()), ("destitute_payments", may_b.clone()));
    assert_eq!((paid.subject.as_str(), paid.village.as_str()), ("陈三", "茅坡村、东溪村"));
    assert_eq!(paid.person_ids, vec![c.chen.id]);
    says(paid, &["「陈三」", "2023-05", "北斗溪镇茅坡村", "东溪镇东溪村", &format!("第 {} 号", may_a[0]), &format!("第 {} 号", may_b[0])]);

    let reg = one(&found, "person_household_in_other_town");
    assert_eq!((reg.subject.as_str(), reg.village.as_str(), reg.person_ids.clone()), ("钱七", "东溪村、坪溪村", vec![c.qian.id]));
    says(reg, &["「钱七」", "东溪镇东溪村", "北斗溪镇坪溪村", "张一户（H1）"]);

    let kept = one(&found, "destitute_kept_by_other_town");
    assert_eq!((kept.ledger.as_str(), kept.record_ids.clone(), kept.person_ids.clone()), ("destitute", vec![wu_b], vec![c.wu.id]));
    assert_eq!(kept.village, "茅坡村、东溪村");
    says(kept, &["「吴九」", "北斗溪镇茅坡村", "东溪镇东溪村", &format!("第 {wu_b} 号")]);

    let dead = one(&found, "special_care_paid_after_death_in_other_town");
    // July and August: after the month of death; May and June are not.
    assert_eq!((dead.ledger.as_str(), dead.record_ids.clone()), ("special_care_payments", zheng_b[2..].to_vec()));
    assert_eq!((dead.person_ids.clone(), dead.village.as_str()), (vec![c.zheng.id], "坪溪村、东溪村"));
    says(dead, &["「郑十」", "北斗溪镇坪溪村", "2023-06-15", "死亡", "东溪镇东溪村", "2023-07", "2023-08"]);
    says(dead, &numbered(&zheng_b[2..]).iter().map(String::as_str).collect::<Vec<_>>());

    let v = one(&found, "assistance_visitor_in_two_towns");
    assert_eq!((v.record_ids.clone(), v.other_record_ids.clone()), (vec![visit_a], vec![visit_b]));
    assert_eq!((v.subject.as_str(), v.village.as_str()), ("刘干部", "坪溪村、东溪村"));
    says(v, &["「刘干部」", "2023-04-15", "北斗溪镇坪溪村", "东溪镇东溪村", &format!("第 {visit_a} 号"), &format!("第 {visit_b} 号")]);
    let listed: Vec<i64> = v.records.iter().map(|r| r.id).collect();
    assert_eq!(listed, vec![visit_a, visit_b]);

    // The same cadre recorded in 东溪镇's 综治大走访 that day too: the check across the two
    // visit ledgers pairs it with 北斗溪镇's visit only (东溪镇's own two visits share a town).
    let sun = households::members(&mut db.read().await.expect("read"), &Scope::all(), c.h9).await.expect("members")[0].id;
    let visit_c = add(&db, &c.defs, "comprehensive_visits", sun, None, &visit).await;
    let found = run_all(&db, &c, Scope::all()).await;
    let across = one(&found, "visitor_in_two_towns_across_ledgers");
    assert_eq!(across.found(), (("assistance_visits", vec![visit_a]), ("comprehensive_visits", vec![visit_c])));

    // ---- 北斗溪镇's run: its own part only. ----
    let found = run_all(&db, &c, scope_of(&db, &c.town.town).await).await;
    assert_eq!(cross(&found).len(), 6, "{found:#?}");
    for f in cross(&found) {
        // Nothing of 东溪镇: its name, its village, its records, its persons.
        never_says(f, &["东溪", "钱七", "孙五"]);
        let theirs = [("destitute_payments", may_b.clone()), ("special_care_payments", zheng_b.clone()), ("destitute", vec![wu_b])];
        let theirs = theirs.into_iter().chain([("assistance_visits", vec![visit_b]), ("comprehensive_visits", vec![visit_c])]);
        none_of(f, theirs);
        assert!(f.other_record_ids.is_empty() && f.other_ledger.is_empty(), "{f:#?}");
        says(f, &["另一镇", "仅县级"]);
    }
    let paid = one(&found, "destitute_paid_in_two_towns");
    assert_eq!(paid.record_ids, may_a);
    says(paid, &["茅坡村", "「陈三」", "2023-05"]);
    // 张一's household in 坪溪村 is told one member is registered elsewhere, not who.
    let reg = one(&found, "person_household_in_other_town");
    assert!(reg.person_ids.is_empty(), "{reg:#?}");
    says(reg, &["坪溪村", "H1"]);
    // 吴九 is registered here: the town learns he is on another town's roll.
    let kept = one(&found, "destitute_kept_by_other_town");
    // Its ledger is named, none of its records: a reader who may not read 特困 is not shown it.
    assert_eq!((kept.ledger.as_str(), kept.record_ids.clone()), ("destitute", vec![]), "{kept:#?}");
    says(kept, &["茅坡村", "「吴九」", "本镇登记"]);
    // 郑十's death is registered here; the other town's payments are not shown.
    let dead = one(&found, "special_care_paid_after_death_in_other_town");
    assert_eq!((dead.ledger.as_str(), dead.record_ids.clone()), ("special_care_payments", vec![]), "{dead:#?}");
    says(dead, &["坪溪村", "「郑十」", "2023-06-15", "死亡"]);
    let v = one(&found, "assistance_visitor_in_two_towns");
    assert_eq!(v.record_ids, vec![visit_a]);

    // ---- 东溪镇's run: its own part only. ----
    let found = run_all(&db, &c, scope_of(&db, &c.dongxi_town).await).await;
    assert_eq!(cross(&found).len(), 6, "{found:#?}");
    for f in cross(&found) {
        never_says(f, &["北斗溪", "坪溪", "茅坡", "张一", "H1", "2023-06-15"]);
        none_of(f, [("destitute_payments", may_a.clone()), ("assistance_visits", vec![visit_a])]);
        assert!(f.other_record_ids.is_empty() && f.other_ledger.is_empty(), "{f:#?}");
        says(f, &["另一镇", "仅县级"]);
    }
    assert_eq!(one(&found, "destitute_paid_in_two_towns").record_ids, may_b);
    let reg = one(&found, "person_household_in_other_town");
    assert_eq!(reg.person_ids, vec![c.qian.id]);
    says(reg, &["东溪村", "「钱七」", "本镇登记"]);
    assert_eq!(one(&found, "destitute_kept_by_other_town").record_ids, vec![wu_b]);
    let dead = one(&found, "special_care_paid_after_death_in_other_town");
    assert_eq!((dead.record_ids.clone(), dead.person_ids.clone()), (zheng_b[2..].to_vec(), vec![]));
    says(dead, &["东溪村", "2023-07", "死亡", "停发"]);
    assert_eq!(one(&found, "assistance_visitor_in_two_towns").record_ids, vec![visit_b]);
    assert_eq!(one(&found, "visitor_in_two_towns_across_ledgers").record_ids, vec![visit_c]);

    // A village of one town sees its own part too; a village with no part sees nothing.
    let found = run_all(&db, &c, scope_of(&db, &c.town.maopo).await).await;
    let keys: Vec<&str> = cross(&found).iter().map(|f| f.check.as_str()).collect();
    assert_eq!(keys, vec!["destitute_paid_in_two_towns", "destitute_kept_by_other_town"], "{found:#?}");
});

/// A ledger and the ids of its records a finding names.
type LedgerIds<'a> = (&'a str, Vec<i64>);

trait Named {
    fn found(&self) -> (LedgerIds<'_>, LedgerIds<'_>);
}

impl Named for checks::Finding {
    fn found(&self) -> (LedgerIds<'_>, LedgerIds<'_>) {
        ((self.ledger.as_str(), self.record_ids.clone()), (self.other_ledger.as_str(), self.other_record_ids.clone()))
    }
}

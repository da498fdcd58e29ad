//! A town through a year: deaths and move-outs recorded after the payments and enrolments make
//! the paid-after and enrolled-after checks fire on the next run, naming the village and the
//! records; a standing 特困 + 低保 overlap fires until the local rule allows it; a run as of a day
//! inside the year reports nothing after that day. On both engines.

mod common;

use chrono::NaiveDate;
use common::{both, id_number, person, town, Town};
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::period::Period;
use taizhang_domain::registry::{Person, StatusChange, StatusChangeInput};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_reports::{checks, Context};
use taizhang_storage::{households, ledgers, persons, records, settings, Db, Scope};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// The records were keyed in after the year, as a town office does.
fn entry_day() -> NaiveDate {
    d("2024-06-30")
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn money(fen: i64) -> Value {
    Value::Int(fen)
}

async fn add(db: &Db, defs: &[LedgerDef], ledger: &str, subject: i64, values: &[(&str, Value)]) -> i64 {
    let def = defs.iter().find(|l| l.key == ledger).expect("ledger");
    let vals: Values = values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut tx = db.begin().await.expect("begin");
    let input = RecordInput { place_id: None, subject_id: Some(subject), concerns_year: None, values: vals };
    let r = records::create(&mut tx, def, &Actor::System, &Scope::all(), input, entry_day()).await.expect(ledger);
    tx.commit().await.expect("commit");
    r.id
}

/// Monthly payments for 2023-01 … 2023-12; the ids in month order.
async fn monthly(db: &Db, defs: &[LedgerDef], ledger: &str, subject: i64, extra: &[(&str, Value)]) -> Vec<i64> {
    let mut ids = Vec::new();
    for m in 1..=12 {
        let mut values = vec![("pay_month", t(&format!("2023-{m:02}"))), ("amount", money(50_000))];
        values.extend(extra.iter().cloned());
        ids.push(add(db, defs, ledger, subject, &values).await);
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

/// Records a death or a move-out as the registry's clerk does, after the fact.
async fn leaves(db: &Db, who: &Person, change: StatusChange, on: &str) {
    let mut tx = db.begin().await.expect("begin");
    let p = persons::get(&mut tx, &Scope::all(), who.id).await.expect("person");
    let place_text = if change == StatusChange::MoveOut { "湖南省长沙市".to_string() } else { String::new() };
    let input = StatusChangeInput { change, date: Some(d(on)), reason: String::new(), place_text };
    persons::set_status(&mut tx, &Actor::System, &Scope::all(), who.id, p.row_version, &input, entry_day()).await.expect("status");
    tx.commit().await.expect("commit");
}

struct Data {
    town: Town,
    defs: Vec<LedgerDef>,
    // 坪溪村: 张一 (head) and 李二 in H1 (低保, 监测), 王六 in H1 too; 赵七 (head) and 钱八 in H4 (低保).
    // 茅坡村: 陈三 alone in H2 (特困, 临时救助, 林业补贴); 刘四 alone (优抚, 农机, 缴费).
    li: Person,
    chen: Person,
    liu: Person,
    wang: Person,
    zhao: Person,
    destitute_chen: i64,
    destitute_pay_chen: Vec<i64>,
    relief_h2: i64,
    forest_h2: i64,
    special_care_liu: i64,
    special_care_pay_liu: Vec<i64>,
    machinery_liu: i64,
    insurance_liu: i64,
    dibao_h1: i64,
    dibao_h4: i64,
    dibao_pay_h4: Vec<i64>,
    relief_h4: i64,
    monitoring_h1: i64,
}

/// A town where everyone is alive and every record is in order.
async fn clean_town(db: &Db) -> Data {
    let town = town(db).await;
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("ledgers");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.commit().await.expect("commit");
    let (px, mp) = (town.pingxi.id, town.maopo.id);
    let zhang = person(db, "张一", &id_number("433024", "19500101", 11), px).await;
    let li = person(db, "李二", &id_number("433024", "19520202", 22), px).await;
    let wang = person(db, "王六", &id_number("433024", "19800606", 61), px).await;
    let zhao = person(db, "赵七", &id_number("433024", "19470707", 71), px).await;
    let qian = person(db, "钱八", &id_number("433024", "19490808", 82), px).await;
    let chen = person(db, "陈三", &id_number("433024", "19400303", 31), mp).await;
    let liu = person(db, "刘四", &id_number("433024", "19450404", 41), mp).await;
    let h1 = household(db, "H1", &[(&zhang, "户主"), (&li, "配偶"), (&wang, "子")]).await;
    let h2 = household(db, "H2", &[(&chen, "户主")]).await;
    let h4 = household(db, "H4", &[(&zhao, "户主"), (&qian, "配偶")]).await;

    let dibao = |size: i64, from: &str| vec![("area_type", t("农村")), ("household_size", Value::Int(size)), ("approved_on", Value::Date(d(from)))];
    let dibao_h1 = add(db, &defs, "dibao", h1, &dibao(3, "2022-05-01")).await;
    monthly(db, &defs, "dibao_payments", h1, &[]).await;
    let dibao_h4 = add(db, &defs, "dibao", h4, &dibao(2, "2021-03-01")).await;
    let dibao_pay_h4 = monthly(db, &defs, "dibao_payments", h4, &[]).await;
    let relief_h4 = add(db, &defs, "temporary_relief", h4, &[("paid_on", Value::Date(d("2023-11-01"))), ("amount", money(100_000))]).await;

    let destitute_chen = add(db, &defs, "destitute", chen.id, &[("support_mode", t("分散供养")), ("approved_on", Value::Date(d("2020-01-01")))]).await;
    let destitute_pay_chen =
        monthly(db, &defs, "destitute_payments", chen.id, &[("kind", t("基本生活费")), ("support_mode", t("分散供养"))]).await;
    let relief_h2 = add(db, &defs, "temporary_relief", h2, &[("paid_on", Value::Date(d("2023-09-10"))), ("amount", money(80_000))]).await;
    let forest_h2 = add(
        db,
        &defs,
        "forest_subsidies",
        h2,
        &[("subsidy_kind", t("生态公益林补偿")), ("subsidy_year", Value::Int(2023)), ("amount", money(12_000)), ("paid_on", Value::Date(d("2023-10-10")))],
    )
    .await;

    let special_care_liu = add(db, &defs, "special_care", liu.id, &[("category", t("在乡复员军人")), ("recognised_on", Value::Date(d("2010-08-01")))]).await;
    let special_care_pay_liu = monthly(db, &defs, "special_care_payments", liu.id, &[("kind", t("定期生活补助"))]).await;
    let machinery_liu = add(
        db,
        &defs,
        "machinery_subsidies",
        liu.id,
        &[("applied_on", Value::Date(d("2023-11-01"))), ("machine_item", t("微耕机")), ("quantity", Value::Int(1))],
    )
    .await;
    let insurance_liu = add(
        db,
        &defs,
        "insurance_contributions",
        liu.id,
        &[("scheme", t("城乡居民基本养老保险")), ("payer", t("政府代缴")), ("paid_on", Value::Date(d("2023-10-01"))), ("amount", money(20_000))],
    )
    .await;
    // His own contribution is his money, not a benefit paid to him: never flagged.
    add(
        db,
        &defs,
        "insurance_contributions",
        liu.id,
        &[("scheme", t("城乡居民基本医疗保险")), ("payer", t("个人缴纳")), ("paid_on", Value::Date(d("2023-10-02"))), ("amount", money(38_000))],
    )
    .await;

    let monitoring_h1 = add(
        db,
        &defs,
        "monitoring",
        h1,
        &[("category", t("边缘易致贫户")), ("risk_types", Value::List(vec!["因病".into()])), ("household_size", Value::Int(3)), ("identified_on", Value::Date(d("2023-01-10")))],
    )
    .await;
    // Visited often enough that the visit check has nothing to say at any day of the year.
    let mut tx = db.begin().await.expect("begin");
    let cadre = taizhang_domain::registry::Cadre {
        id: 0,
        name: "刘干部".into(),
        kind: taizhang_domain::registry::CadreKind::Town,
        post: String::new(),
        unit: String::new(),
        birth_date: None,
        place_id: town.town.id,
        person_id: None,
        user_id: None,
        phone: String::new(),
        ended_on: None,
        end_reason: String::new(),
    };
    let cadre = taizhang_storage::orgs::create_cadre(&mut tx, &Actor::System, &Scope::all(), &cadre, entry_day()).await.expect("cadre");
    tx.commit().await.expect("commit");
    for m in ["02", "04", "06", "08", "10", "12"] {
        add(db, &defs, "assistance_visits", h1, &[("visited_on", Value::Date(d(&format!("2023-{m}-15")))), ("visitor", Value::Int(cadre.id))]).await;
    }
    Data {
        town,
        defs,
        li,
        chen,
        liu,
        wang,
        zhao,
        destitute_chen,
        destitute_pay_chen,
        relief_h2,
        forest_h2,
        special_care_liu,
        special_care_pay_liu,
        machinery_liu,
        insurance_liu,
        dibao_h1,
        dibao_h4,
        dibao_pay_h4,
        relief_h4,
        monitoring_h1,
    }
}

fn year_2023() -> Context {
    Context::clamped(Period::year(2023), None, d("2023-12-31"), Scope::all())
}

async fn run_all(db: &Db, data: &Data, ctx: &Context) -> Vec<checks::Finding> {
    let mut tx = db.read().await.expect("read");
    checks::run_all(&mut tx, &checks::builtin().expect("checks"), &data.defs, ctx).await.expect("checks")
}

fn of<'a>(found: &'a [checks::Finding], key: &str) -> Vec<&'a checks::Finding> {
    found.iter().filter(|f| f.check == key).collect()
}

/// The one finding of `key`.
fn one<'a>(found: &'a [checks::Finding], key: &str) -> &'a checks::Finding {
    let mine = of(found, key);
    assert_eq!(mine.len(), 1, "{key}: {mine:#?}");
    mine[0]
}

fn says(f: &checks::Finding, words: &[&str]) {
    for w in words {
        assert!(f.message.contains(w), "「{w}」 missing from {}", f.message);
    }
}

both!(a_clean_town_finds_nothing, |db: Db| async move {
    let data = clean_town(&db).await;
    let found = run_all(&db, &data, &year_2023()).await;
    assert!(found.is_empty(), "{found:#?}");
    // Every kind ran: the new checks are among the built-ins.
    let keys: Vec<String> = checks::builtin().expect("checks").into_iter().map(|c| c.key).collect();
    for k in [
        "temporary_relief_after_death_or_move",
        "forest_subsidy_after_death_or_move",
        "machinery_subsidy_after_death_or_move",
        "insurance_paid_after_death_or_move",
        "dibao_member_enrolled_after_death_or_move",
        "special_care_enrolled_after_death_or_move",
        "monitoring_member_enrolled_after_death_or_move",
        "destitute_enrolled_with_dibao",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k}");
    }
});

both!(a_death_fires_paid_and_enrolled_checks_naming_village_and_records, |db: Db| async move {
    let data = clean_town(&db).await;
    // 陈三, alone in H2, dies in June; the death is recorded after the year's payments.
    leaves(&db, &data.chen, StatusChange::Death, "2023-06-15").await;
    let found = run_all(&db, &data, &year_2023()).await;

    let paid = one(&found, "destitute_paid_after_death_or_move");
    // July to December: every payment after the month of death, June's is due.
    assert_eq!(paid.record_ids, data.destitute_pay_chen[6..].to_vec());
    assert_eq!(paid.ledger, "destitute_payments");
    assert_eq!((paid.village.as_str(), paid.subject.as_str()), ("茅坡村", "陈三"));
    assert_eq!(paid.place_id, Some(data.town.maopo.id));
    assert_eq!(paid.person_ids, vec![data.chen.id]);
    says(paid, &["茅坡村", "「陈三」", "2023-06-15", "死亡", "2023-07", "2023-12"]);
    for id in &paid.record_ids {
        assert!(paid.message.contains(&format!("第 {id} 号")), "{id}: {}", paid.message);
    }

    let enrolled = one(&found, "destitute_enrolled_after_death_or_move");
    assert_eq!(enrolled.record_ids, vec![data.destitute_chen]);
    assert_eq!(enrolled.village, "茅坡村");
    says(enrolled, &["茅坡村", "「陈三」", "2023-06-15", "死亡", &format!("第 {} 号", data.destitute_chen), "未终止"]);

    // H2 had nobody else: its relief and forest subsidy were paid to a household with nobody left.
    let relief = one(&found, "temporary_relief_after_death_or_move");
    assert_eq!(relief.record_ids, vec![data.relief_h2]);
    says(relief, &["茅坡村", "陈三户（H2）", "全户", "死亡", &format!("第 {} 号", data.relief_h2)]);
    let forest = one(&found, "forest_subsidy_after_death_or_move");
    assert_eq!(forest.record_ids, vec![data.forest_h2]);

    // A payment voided (作废) as wrongly keyed leaves the finding; the others stay.
    let mut tx = db.begin().await.expect("begin");
    let def = data.defs.iter().find(|l| l.key == "destitute_payments").expect("def");
    let december = *data.destitute_pay_chen.last().expect("december");
    let r = records::get(&mut tx, def, &Scope::all(), december).await.expect("record");
    records::void(&mut tx, def, &Actor::System, &Scope::all(), december, r.row_version, "重复录入").await.expect("void");
    tx.commit().await.expect("commit");
    let found = run_all(&db, &data, &year_2023()).await;
    assert_eq!(one(&found, "destitute_paid_after_death_or_move").record_ids, data.destitute_pay_chen[6..11].to_vec());

    // Terminated at the end of the month of death: in order; the payments still are not.
    let mut tx = db.begin().await.expect("begin");
    let def = data.defs.iter().find(|l| l.key == "destitute").expect("def");
    let r = records::get(&mut tx, def, &Scope::all(), data.destitute_chen).await.expect("record");
    let values: Values = [("terminated_on".to_string(), Value::Date(d("2023-06-30")))].into_iter().collect();
    records::update(&mut tx, def, &Actor::System, &Scope::all(), data.destitute_chen, r.row_version, values, entry_day()).await.expect("terminate");
    tx.commit().await.expect("commit");
    let found = run_all(&db, &data, &year_2023()).await;
    assert!(of(&found, "destitute_enrolled_after_death_or_move").is_empty(), "{found:#?}");
    assert_eq!(of(&found, "destitute_paid_after_death_or_move").len(), 1);

    // A head of household dies while his wife lives on: 低保 paid after the head's death is
    // flagged (head rule), the relief to the household is not (someone is left to receive it),
    // and the 低保 enrolment still counts a dead member.
    leaves(&db, &data.zhao, StatusChange::Death, "2023-10-05").await;
    let found = run_all(&db, &data, &year_2023()).await;
    let dibao_paid = one(&found, "dibao_paid_after_death_or_move");
    assert_eq!(dibao_paid.record_ids, data.dibao_pay_h4[10..].to_vec());
    assert_eq!(dibao_paid.village, "坪溪村");
    says(dibao_paid, &["坪溪村", "赵七户（H4）", "户主「赵七」", "2023-10-05"]);
    assert!(of(&found, "temporary_relief_after_death_or_move").iter().all(|f| !f.record_ids.contains(&data.relief_h4)), "{found:#?}");
    let member = one(&found, "dibao_member_enrolled_after_death_or_move");
    assert_eq!(member.record_ids, vec![data.dibao_h4]);
    says(member, &["坪溪村", "赵七户（H4）", "成员「赵七」", "死亡"]);
});

both!(a_move_out_fires_like_a_death, |db: Db| async move {
    let data = clean_town(&db).await;
    leaves(&db, &data.liu, StatusChange::MoveOut, "2023-08-20").await;
    leaves(&db, &data.wang, StatusChange::MoveOut, "2023-04-10").await;
    let found = run_all(&db, &data, &year_2023()).await;

    let paid = one(&found, "special_care_paid_after_death_or_move");
    assert_eq!(paid.record_ids, data.special_care_pay_liu[8..].to_vec());
    says(paid, &["茅坡村", "「刘四」", "2023-08-20", "迁出"]);
    let enrolled = one(&found, "special_care_enrolled_after_death_or_move");
    assert_eq!(enrolled.record_ids, vec![data.special_care_liu]);
    says(enrolled, &["迁出", "2023-08-20"]);
    assert_eq!(one(&found, "machinery_subsidy_after_death_or_move").record_ids, vec![data.machinery_liu]);
    assert_eq!(one(&found, "insurance_paid_after_death_or_move").record_ids, vec![data.insurance_liu]);

    // 王六 moved out of H1 in April and is still counted in its 低保 and monitoring.
    let dibao = one(&found, "dibao_member_enrolled_after_death_or_move");
    assert_eq!((dibao.record_ids.clone(), dibao.person_ids.clone()), (vec![data.dibao_h1], vec![data.wang.id]));
    says(dibao, &["坪溪村", "张一户（H1）", "成员「王六」", "2023-04-10", "迁出"]);
    let monitored = one(&found, "monitoring_member_enrolled_after_death_or_move");
    assert_eq!(monitored.record_ids, vec![data.monitoring_h1]);
    // The head is alive: the household's 低保 payments are not "after the head left".
    assert!(of(&found, "dibao_paid_after_death_or_move").is_empty(), "{found:#?}");
    assert!(of(&found, "destitute_paid_after_death_or_move").is_empty(), "{found:#?}");
});

both!(destitute_enrolled_while_household_has_dibao_until_the_rule_allows_it, |db: Db| async move {
    let data = clean_town(&db).await;
    // 李二 of H1 (低保 since 2022) becomes 特困 in March.
    let destitute_li =
        add(&db, &data.defs, "destitute", data.li.id, &[("support_mode", t("集中供养")), ("approved_on", Value::Date(d("2023-03-01")))]).await;
    let found = run_all(&db, &data, &year_2023()).await;
    let f = one(&found, "destitute_enrolled_with_dibao");
    assert_eq!(f.found_ledgers(), (("destitute", vec![destitute_li]), ("dibao", vec![data.dibao_h1])));
    assert_eq!((f.village.as_str(), f.subject.as_str()), ("坪溪村", "李二"));
    says(f, &["坪溪村", "「李二」", "2023-03-01 至 2023-12-31", "张一户（H1）", &format!("第 {destitute_li} 号"), &format!("第 {} 号", data.dibao_h1)]);
    // Users are told which switch to turn, by its label, never by its key.
    assert!(f.message.contains("「特困与低保可同时享受」") && !f.message.contains("rule:"), "{}", f.message);
    // No 特困 payment shares a month with H1's 低保: the payment check has nothing to say.
    assert!(of(&found, "destitute_and_dibao_same_month").is_empty());

    // As of the day before the 特困 began, there is no overlap yet.
    let before = Context::clamped(Period::year(2023), None, d("2023-02-28"), Scope::all());
    assert!(of(&run_all(&db, &data, &before).await, "destitute_enrolled_with_dibao").is_empty());

    // The local rule allows both in 2023.
    let mut tx = db.begin().await.expect("begin");
    settings::set(&mut tx, &Actor::System, "rule:allow_destitute_with_dibao", 2023, 1).await.expect("set");
    tx.commit().await.expect("commit");
    assert!(of(&run_all(&db, &data, &year_2023()).await, "destitute_enrolled_with_dibao").is_empty());
    // The rule is per year: 2024 does not allow it.
    let y2024 = Context::clamped(Period::year(2024), None, d("2024-12-31"), Scope::all());
    let later = run_all(&db, &data, &y2024).await;
    says(one(&later, "destitute_enrolled_with_dibao"), &["2024-01-01 至 2024-12-31"]);
});

both!(a_run_as_of_a_day_inside_the_year_reports_nothing_after_it, |db: Db| async move {
    let data = clean_town(&db).await;
    // Deaths and moves through the year, all recorded now.
    leaves(&db, &data.chen, StatusChange::Death, "2023-06-15").await;
    leaves(&db, &data.liu, StatusChange::MoveOut, "2023-08-20").await;
    leaves(&db, &data.zhao, StatusChange::Death, "2023-10-05").await;
    // The clock says 30 June 2023: the year is looked at up to that day, never beyond it —
    // even when a later as-of day is asked for.
    let today = d("2023-06-30");
    for asked in [None, Some(d("2023-12-31")), Some(d("2024-03-01"))] {
        let ctx = Context::clamped(Period::year(2023), asked, today, Scope::all());
        assert_eq!(ctx.as_of, today);
        let found = run_all(&db, &data, &ctx).await;
        // 陈三's death on 15 June is known; his payments from July are not made yet.
        assert!(of(&found, "destitute_paid_after_death_or_move").is_empty(), "{found:#?}");
        says(one(&found, "destitute_enrolled_after_death_or_move"), &["2023-06-15"]);
        // The move in August and the death in October lie after the day.
        for key in [
            "special_care_paid_after_death_or_move",
            "special_care_enrolled_after_death_or_move",
            "machinery_subsidy_after_death_or_move",
            "insurance_paid_after_death_or_move",
            "dibao_paid_after_death_or_move",
            "dibao_member_enrolled_after_death_or_move",
            "temporary_relief_after_death_or_move",
            "forest_subsidy_after_death_or_move",
        ] {
            assert!(of(&found, key).is_empty(), "{key}: {found:#?}");
        }
        for f in &found {
            for late in ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12"] {
                assert!(!f.message.contains(late), "{late} after the as-of day: {}", f.message);
            }
        }
    }
    // A year wholly after today: nothing is known about it yet.
    let future = Context::clamped(Period::year(2024), None, today, Scope::all());
    assert!(run_all(&db, &data, &future).await.is_empty());
    // The same year seen at its end finds what happened after June.
    let found = run_all(&db, &data, &year_2023()).await;
    assert_eq!(one(&found, "destitute_paid_after_death_or_move").record_ids, data.destitute_pay_chen[6..].to_vec());
    assert_eq!(one(&found, "special_care_enrolled_after_death_or_move").record_ids, vec![data.special_care_liu]);
});

/// A ledger and the ids of its records a finding names.
type LedgerIds<'a> = (&'a str, Vec<i64>);

/// The records a finding names, by ledger.
trait Named {
    fn found_ledgers(&self) -> (LedgerIds<'_>, LedgerIds<'_>);
}

impl Named for checks::Finding {
    fn found_ledgers(&self) -> (LedgerIds<'_>, LedgerIds<'_>) {
        ((self.ledger.as_str(), self.record_ids.clone()), (self.other_ledger.as_str(), self.other_record_ids.clone()))
    }
}

//! Indicators, village breakdowns, checks and rendering on a tiny town, on both engines.

mod common;

use chrono::NaiveDate;
use common::{both, id_number, person, town, Town};
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::registry::{Cadre, CadreKind, StatusChange, StatusChangeInput};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_reports::indicator::{self, IndicatorDef};
use taizhang_reports::{checks, eval, render, rollup, Context};
use taizhang_storage::{households, ledgers, orgs, persons, records, settings, Arg, Db, Scope};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn entry_day() -> NaiveDate {
    d("2024-06-30")
}

fn vals(pairs: &[(&str, Value)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

struct Data {
    town: Town,
    defs: Vec<LedgerDef>,
}

async fn add(db: &Db, defs: &[LedgerDef], ledger: &str, subject: Option<i64>, place: Option<i64>, values: &[(&str, Value)]) -> i64 {
    let def = defs.iter().find(|l| l.key == ledger).expect("ledger");
    let mut tx = db.begin().await.expect("begin");
    let input = RecordInput { place_id: place, subject_id: subject, concerns_year: None, values: vals(values) };
    let r = records::create(&mut tx, def, &Actor::System, &Scope::all(), input, entry_day()).await.expect(ledger);
    tx.commit().await.expect("commit");
    r.id
}

async fn set_state(db: &Db, ledger: &str, id: i64, state: &str) {
    let mut tx = db.begin().await.expect("begin");
    tx.exec(&format!("UPDATE ld_{ledger} SET state = $1 WHERE id = $2"), &[Arg::Text(state.into()), Arg::Int(id)]).await.expect("state");
    tx.commit().await.expect("commit");
}

/// Households H1 (坪溪村: A head, B), H2 (坪溪村: C), H3 (茅坡村: D, dies 2023-05-15);
/// E (茅坡村) without household; two 王五 with the same birth date (a planted duplicate).
async fn seed(db: &Db) -> Data {
    let town = town(db).await;
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("ledgers");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.commit().await.expect("commit");
    let (px, mp) = (town.pingxi.id, town.maopo.id);
    let a = person(db, "张一", &id_number("433024", "19500101", 11), px).await;
    let b = person(db, "李二", &id_number("433024", "19520202", 22), px).await;
    let c = person(db, "陈三", &id_number("433024", "19600303", 31), px).await;
    let dd = person(db, "刘四", &id_number("433024", "19400404", 41), mp).await;
    let e = person(db, "周五", &id_number("433024", "19450505", 51), mp).await;
    person(db, "王五", &id_number("433024", "19600101", 61), mp).await;
    person(db, "王五", &id_number("433024", "19600101", 73), px).await;
    person(db, "王五", &id_number("433024", "19610101", 81), px).await;
    let mut tx = db.begin().await.expect("begin");
    let (ac, s) = (Actor::System, Scope::all());
    let h1 = households::create(&mut tx, &ac, &s, "H1", px).await.expect("h1");
    let h2 = households::create(&mut tx, &ac, &s, "H2", px).await.expect("h2");
    let h3 = households::create(&mut tx, &ac, &s, "H3", mp).await.expect("h3");
    households::add_member(&mut tx, &ac, &s, h1.id, a.id, "户主").await.expect("m");
    households::add_member(&mut tx, &ac, &s, h1.id, b.id, "配偶").await.expect("m");
    households::add_member(&mut tx, &ac, &s, h2.id, c.id, "户主").await.expect("m");
    households::add_member(&mut tx, &ac, &s, h3.id, dd.id, "户主").await.expect("m");
    let dp = persons::get(&mut tx, &s, dd.id).await.expect("d");
    let death = StatusChangeInput { change: StatusChange::Death, date: Some(d("2023-05-15")), reason: String::new(), place_text: String::new() };
    persons::set_status(&mut tx, &ac, &s, dd.id, dp.row_version, &death, entry_day()).await.expect("dead");
    let cadre = Cadre { id: 0, name: "刘干部".into(), kind: CadreKind::Town, post: String::new(), unit: String::new(), birth_date: None, place_id: town.town.id, person_id: None, user_id: None, phone: String::new(), ended_on: None, end_reason: String::new() };
    let cadre = orgs::create_cadre(&mut tx, &ac, &s, &cadre, entry_day()).await.expect("cadre");
    tx.commit().await.expect("commit");

    // 低保 (standing): H1 in force all along, H2 only Mar–Aug 2023, H3 from 2024.
    add(db, &defs, "dibao", Some(h1.id), None, &[("area_type", t("农村")), ("household_size", Value::Int(2)), ("approved_on", Value::Date(d("2022-05-01")))]).await;
    add(db, &defs, "dibao", Some(h2.id), None, &[("area_type", t("农村")), ("household_size", Value::Int(1)), ("approved_on", Value::Date(d("2023-03-01"))), ("exited_on", Value::Date(d("2023-08-31")))]).await;
    add(db, &defs, "dibao", Some(h3.id), None, &[("area_type", t("农村")), ("household_size", Value::Int(1)), ("approved_on", Value::Date(d("2024-01-10")))]).await;
    // 低保金: H1 paid twice for 2023-02 (planted duplicate). Records now refuse a natural key
    // held twice, so the second is entered as a 补发 and turned into the duplicate that data
    // kept from before that rule may still hold.
    for (m, kind) in [("2023-01", None), ("2023-02", None), ("2023-02", Some("补发"))] {
        let mut values = vec![("pay_month", t(m)), ("amount", Value::Int(30_000))];
        values.extend(kind.map(|k| ("kind", t(k))));
        let id = add(db, &defs, "dibao_payments", Some(h1.id), None, &values).await;
        if kind.is_some() {
            let mut tx = db.begin().await.expect("begin");
            tx.exec("UPDATE ld_dibao_payments SET kind = NULL WHERE id = $1", &[Arg::Int(id)]).await.expect("duplicate");
            tx.commit().await.expect("commit");
        }
    }
    add(db, &defs, "dibao_payments", Some(h2.id), None, &[("pay_month", t("2023-04")), ("amount", Value::Int(20_000))]).await;
    add(db, &defs, "dibao_payments", Some(h1.id), None, &[("pay_month", t("2022-12")), ("amount", Value::Int(30_000))]).await;
    // 特困: A and B share H1; D and E in 茅坡村.
    for (p, mode) in [(a.id, "分散供养"), (b.id, "集中供养"), (dd.id, "分散供养"), (e.id, "分散供养")] {
        add(db, &defs, "destitute", Some(p), None, &[("support_mode", t(mode)), ("approved_on", Value::Date(d("2022-01-01")))]).await;
    }
    // 特困供养金: A in 2023-02 while H1 had 低保 (planted), A in 2023-03 (fine);
    // D in 2023-05 (month of death: fine) and 2023-06 (planted: after death).
    for (p, m) in [(a.id, "2023-02"), (a.id, "2023-03"), (dd.id, "2023-05"), (dd.id, "2023-06")] {
        add(db, &defs, "destitute_payments", Some(p), None, &[("pay_month", t(m)), ("kind", t("基本生活费")), ("support_mode", t("分散供养")), ("amount", Value::Int(50_000))]).await;
    }
    // 隐患: one overdue 重大 (planted), one overdue 一般, one 重大 not yet due, one overdue 重大 closed.
    let mut hz = Vec::new();
    for (level, deadline) in [("重大", "2023-10-01"), ("一般", "2023-06-01"), ("重大", "2024-02-01"), ("重大", "2023-03-01")] {
        hz.push(
            add(db, &defs, "hazards", None, Some(px), &[("found_on", Value::Date(d("2023-02-01"))), ("industry", t("燃气")), ("level", t(level)), ("location", t("坪溪村")), ("description", t(&format!("燃气管老化（{level}，限 {deadline}）"))), ("rectify_deadline", Value::Date(d(deadline)))]).await,
        );
    }
    set_state(db, "hazards", hz[3], "closed").await;
    // 监测: H1 visited recently, H3 last visited in June (planted), H2 eliminated (skipped).
    let mut mon = Vec::new();
    for (h, size) in [(h1.id, 2), (h3.id, 1), (h2.id, 1)] {
        mon.push(
            add(db, &defs, "monitoring", Some(h), None, &[("category", t("边缘易致贫户")), ("risk_types", Value::List(vec!["因病".into()])), ("household_size", Value::Int(size)), ("identified_on", Value::Date(d("2023-01-10")))]).await,
        );
    }
    set_state(db, "monitoring", mon[0], "assisting").await;
    set_state(db, "monitoring", mon[1], "assisting").await;
    set_state(db, "monitoring", mon[2], "eliminated").await;
    // Eliminated as the workflow eliminates: on a day (a case with no such day was at risk).
    {
        let mut tx = db.begin().await.expect("begin");
        tx.exec("UPDATE ld_monitoring SET eliminated_on = $1 WHERE id = $2", &[Arg::Date(d("2023-09-30")), Arg::Int(mon[2])]).await.expect("eliminated_on");
        tx.commit().await.expect("commit");
    }
    for (h, day) in [(h1.id, "2023-11-01"), (h3.id, "2023-06-01")] {
        add(db, &defs, "assistance_visits", Some(h), None, &[("visited_on", Value::Date(d(day))), ("visitor", Value::Int(cadre.id))]).await;
    }
    // 项目 and 农机 for the formats.
    let p1 = add(db, &defs, "projects", None, Some(px), &[("name", t("坪溪村通组公路")), ("category", t("农村公路")), ("project_year", Value::Int(2023)), ("quantity", Value::Int(3)), ("count_unit", t("条")), ("budget", Value::Int(150_000_000))]).await;
    let p2 = add(db, &defs, "projects", None, Some(mp), &[("name", t("茅坡村公路")), ("category", t("农村公路")), ("project_year", Value::Int(2023)), ("quantity", Value::Int(1)), ("count_unit", t("条")), ("budget", Value::Int(69_000_000))]).await;
    let p3 = add(db, &defs, "projects", None, Some(mp), &[("name", t("取消的公路")), ("category", t("农村公路")), ("project_year", Value::Int(2023)), ("quantity", Value::Int(5)), ("count_unit", t("条")), ("budget", Value::Int(99_000_000))]).await;
    set_state(db, "projects", p1, "approved").await;
    set_state(db, "projects", p2, "building").await;
    set_state(db, "projects", p3, "cancelled").await;
    add(db, &defs, "machinery_subsidies", Some(a.id), None, &[("applied_on", Value::Date(d("2023-04-01"))), ("machine_item", t("微耕机")), ("quantity", Value::Int(263))]).await;
    Data { town, defs }
}

fn ind(key: &str) -> IndicatorDef {
    indicator::builtin().expect("indicators").into_iter().find(|i| i.key == key).expect(key)
}

async fn value(db: &Db, data: &Data, key: &str, ctx: &Context) -> i64 {
    let i = ind(key);
    let def = eval::ledger_of(&i, &data.defs).expect("ledger");
    let mut tx = db.read().await.expect("read");
    eval::evaluate(&mut tx, &i, def, ctx).await.expect(key).value
}

fn year() -> Context {
    Context::year(2023, Scope::all())
}

mod figures {
    use super::*;
    both!(count_sum_distinct, |db: Db| async move {
        let data = seed(&db).await;
        let ctx = year();
        assert_eq!(value(&db, &data, "dibao_paid", &ctx).await, 110_000);
        assert_eq!(value(&db, &data, "dibao_paid_households", &ctx).await, 2);
        assert_eq!(value(&db, &data, "dibao_avg_monthly_payment", &ctx).await, 27_500);
        assert_eq!(value(&db, &data, "destitute_people", &ctx).await, 4);
        assert_eq!(value(&db, &data, "destitute_households", &ctx).await, 3, "A and B share H1; E has no household");
        assert_eq!(value(&db, &data, "destitute_dispersed_households", &ctx).await, 3);
        assert_eq!(value(&db, &data, "projects_roads_count", &ctx).await, 4, "cancelled project left out");
        assert_eq!(value(&db, &data, "projects_roads_budget", &ctx).await, 219_000_000);
        assert_eq!(value(&db, &data, "machinery_subsidy_units", &ctx).await, 263);
        assert_eq!(value(&db, &data, "hazards_gas", &ctx).await, 4);
        assert_eq!(value(&db, &data, "hazards_gas_major", &ctx).await, 3);
        assert_eq!(value(&db, &data, "monitoring_households", &ctx).await, 3);
        assert_eq!(value(&db, &data, "monitoring_risk_people", &ctx).await, 3);
        assert_eq!(value(&db, &data, "monitoring_eliminated_households", &ctx).await, 1, "H2, eliminated on 2023-09-30");
        // As of 30 June, H2 was not eliminated yet: at risk then, in neither part never.
        let june = taizhang_reports::Context { as_of: d("2023-06-30"), ..year() };
        assert_eq!(value(&db, &data, "monitoring_risk_people", &june).await, 4);
        assert_eq!(value(&db, &data, "monitoring_eliminated_households", &june).await, 0);
        // Readable provenance.
        let i = ind("dibao_rural_households");
        let mut tx = db.read().await.expect("read");
        let f = eval::evaluate(&mut tx, &i, eval::ledger_of(&i, &data.defs).expect("l"), &ctx).await.expect("f");
        assert_eq!(f.filters, vec!["2023-12-31 在册（审批日期 ≤ 2023-12-31，退出日期 为空或 ≥ 2023-12-31）".to_string(), "城乡类别 = 农村".into()]);
        let (n, recs) = eval::records_behind(&mut tx, &i, eval::ledger_of(&i, &data.defs).expect("l"), &ctx, 10).await.expect("records");
        assert_eq!((n, recs.len()), (1, 1));
    });

    both!(as_of_versus_during, |db: Db| async move {
        let data = seed(&db).await;
        let as_of = year();
        assert_eq!(value(&db, &data, "dibao_rural_households", &as_of).await, 1, "H2 left in August, H3 came in 2024");
        assert_eq!(value(&db, &data, "dibao_rural_people", &as_of).await, 2);
        let mid = Context { as_of: d("2023-06-30"), ..year() };
        assert_eq!(value(&db, &data, "dibao_rural_households", &mid).await, 2);
        let mut during = ind("dibao_rural_households");
        during.time = taizhang_reports::TimeMode::During;
        let mut tx = db.read().await.expect("read");
        let f = eval::evaluate(&mut tx, &during, eval::ledger_of(&during, &data.defs).expect("l"), &as_of).await.expect("f");
        assert_eq!(f.value, 2, "in force some day of 2023: H1 and H2");
    });

    both!(village_breakdown, |db: Db| async move {
        let data = seed(&db).await;
        let i = ind("destitute_people");
        let mut tx = db.read().await.expect("read");
        let v = eval::by_village(&mut tx, &i, eval::ledger_of(&i, &data.defs).expect("l"), &year()).await.expect("by village");
        let got: Vec<(String, i64)> = v.iter().map(|v| (v.name.clone(), v.value)).collect();
        assert_eq!(got, vec![("坪溪村".to_string(), 2), ("茅坡村".to_string(), 2)]);
        let i = ind("projects_roads_budget");
        let v = eval::by_village(&mut tx, &i, eval::ledger_of(&i, &data.defs).expect("l"), &year()).await.expect("by village");
        assert_eq!(v.iter().map(|v| v.value).collect::<Vec<_>>(), vec![150_000_000, 69_000_000]);
        // A village scope sees only itself.
        let ctx = Context::year(2023, Scope { path: data.town.maopo.path.clone() });
        drop(tx);
        assert_eq!(value(&db, &data, "destitute_people", &ctx).await, 2);
    });

    // The roll-up by town equals each indicator's total when the records all lie in the one
    // town, and the roll-up by village equals the village breakdown.
    both!(rollup_by_town_and_village, |db: Db| async move {
        use taizhang_domain::place::PlaceLevel;
        let data = seed(&db).await;
        let inds = indicator::builtin().expect("indicators");
        let towns = rollup::rollup(&db, &inds, &data.defs, &year(), PlaceLevel::Town).await.expect("by town");
        let villages = rollup::rollup(&db, &inds, &data.defs, &year(), PlaceLevel::Village).await.expect("by village");
        let mut tx = db.read().await.expect("read");
        assert_eq!(towns.len(), inds.len());
        let mut nonzero = 0;
        for ((i, t), v) in inds.iter().zip(&towns).zip(&villages) {
            let def = eval::ledger_of(i, &data.defs).expect("ledger");
            let total = eval::evaluate(&mut tx, i, def, &year()).await.expect("total");
            assert_eq!(t.places.len(), 1, "{}", i.key);
            assert_eq!(t.places[0].name, "北斗溪镇");
            assert_eq!(t.places[0].value, total.value, "{}: town roll-up vs total", i.key);
            assert_eq!(v.places, eval::by_village(&mut tx, i, def, &year()).await.expect("by village"), "{}", i.key);
            assert!(!t.sql.is_empty() && t.sql.matches('$').count() >= t.args.len().min(1), "{}", i.key);
            nonzero += usize::from(total.value != 0);
        }
        assert!(nonzero >= 10, "the seed gives at least ten non-zero figures, got {nonzero}");
    });

    // A scope holding few of the places (one village) is rolled up through the place index
    // instead of whole tables, and sees only itself.
    both!(rollup_in_a_narrow_scope, |db: Db| async move {
        use taizhang_domain::place::PlaceLevel;
        let data = seed(&db).await;
        let inds = indicator::builtin().expect("indicators");
        let ctx = Context::year(2023, Scope { path: data.town.maopo.path.clone() });
        let mut tx = db.read().await.expect("read");
        let share = tx
            .fetch_one("SELECT COUNT(*), SUM(CASE WHEN path LIKE $1 THEN 1 ELSE 0 END) FROM places", &[ctx.scope.arg()])
            .await
            .expect("places");
        assert!(share.int(1) * 2 < share.int(0), "the scope must hold under half of the places: {} of {}", share.int(1), share.int(0));
        let villages = rollup::rollup(&db, &inds, &data.defs, &ctx, PlaceLevel::Village).await.expect("by village");
        let mut nonzero = 0;
        for (i, v) in inds.iter().zip(&villages) {
            let def = eval::ledger_of(i, &data.defs).expect("ledger");
            let fresh = eval::by_village(&mut tx, i, def, &ctx).await.expect("by village");
            assert!(fresh.iter().all(|p| p.name == "茅坡村"), "{}: {fresh:?}", i.key);
            assert_eq!(v.places, fresh, "{}", i.key);
            let total = eval::evaluate(&mut tx, i, def, &ctx).await.expect("total").value;
            assert_eq!(v.places.iter().map(|p| p.value).sum::<i64>(), total, "{}", i.key);
            nonzero += usize::from(total != 0);
        }
        assert!(nonzero >= 3, "the village has non-zero figures, got {nonzero}");
    });
}

/// The roll-up of every indicator by village and by town equals each indicator computed afresh.
async fn rollup_matches_fresh(db: &Db, data: &Data, inds: &[IndicatorDef], when: &str) {
    use taizhang_domain::place::PlaceLevel;
    let villages = rollup::rollup(db, inds, &data.defs, &year(), PlaceLevel::Village).await.expect("by village");
    let towns = rollup::rollup(db, inds, &data.defs, &year(), PlaceLevel::Town).await.expect("by town");
    let mut tx = db.read().await.expect("read");
    for ((i, v), t) in inds.iter().zip(&villages).zip(&towns) {
        let def = eval::ledger_of(i, &data.defs).expect("ledger");
        assert_eq!(v.places, eval::by_village(&mut tx, i, def, &year()).await.expect("by village"), "{when}: {}", i.key);
        assert_eq!(t.places[0].value, eval::evaluate(&mut tx, i, def, &year()).await.expect("total").value, "{when}: {}", i.key);
    }
}

mod stored_rollup {
    use super::*;
    use taizhang_storage::Engine;

    async fn one(db: &Db, sql: &str) -> i64 {
        let mut tx = db.read().await.expect("read");
        tx.fetch_one(sql, &[]).await.expect(sql).int(0)
    }

    async fn write(db: &Db, sql: &str) {
        let mut tx = db.begin().await.expect("begin");
        tx.exec(sql, &[]).await.expect(sql);
        tx.commit().await.expect("commit");
    }

    // Figures kept between roll-ups (SQLite) are used only while nothing behind them has
    // changed: after each kind of write — through the application or typed by hand — the
    // roll-up still equals every indicator computed afresh.
    both!(follows_every_write, |db: Db| async move {
        let data = seed(&db).await;
        let inds = indicator::builtin().expect("indicators");
        rollup_matches_fresh(&db, &data, &inds, "first run").await;
        if db.engine() == Engine::Sqlite {
            let kept = one(&db, "SELECT COUNT(*) FROM rollup_store").await;
            assert!(kept > 0, "figures are stored on SQLite");
            rollup_matches_fresh(&db, &data, &inds, "from the store").await;
            assert_eq!(one(&db, "SELECT COUNT(*) FROM rollup_store").await, kept, "nothing recomputed, nothing added");
        }
        let h2 = one(&db, "SELECT id FROM households WHERE number = 'H2'").await;
        add(&db, &data.defs, "dibao_payments", Some(h2), None, &[("pay_month", t("2023-09")), ("amount", Value::Int(21_000))]).await;
        rollup_matches_fresh(&db, &data, &inds, "after a new payment in one village").await;
        write(&db, "UPDATE ld_dibao_payments SET amount = amount + 100 WHERE id = (SELECT MIN(id) FROM ld_dibao_payments)").await;
        rollup_matches_fresh(&db, &data, &inds, "after an amount typed by hand").await;
        let maopo = data.town.maopo.id;
        write(&db, &format!("UPDATE ld_destitute SET place_id = {maopo} WHERE id = (SELECT MIN(id) FROM ld_destitute)")).await;
        rollup_matches_fresh(&db, &data, &inds, "after a record moved to the other village").await;
        write(&db, "DELETE FROM ld_destitute_payments WHERE id = (SELECT MAX(id) FROM ld_destitute_payments)").await;
        rollup_matches_fresh(&db, &data, &inds, "after a delete").await;
        let b = one(&db, "SELECT id FROM persons WHERE name = '李二'").await;
        write(&db, &format!("UPDATE persons SET household_id = {h2} WHERE id = {b}")).await;
        rollup_matches_fresh(&db, &data, &inds, "after a household move").await;
        let town = data.town.town.id;
        write(&db, &format!("INSERT INTO places (parent_id, level, name, path, created_at) SELECT id, 'village', '新村', path || 'new/', created_at FROM places WHERE id = {town}")).await;
        rollup_matches_fresh(&db, &data, &inds, "after a new village").await;
        write(&db, &format!("UPDATE places SET level = 'group' WHERE id = {maopo}")).await;
        rollup_matches_fresh(&db, &data, &inds, "after the place tree changed").await;
        write(&db, &format!("UPDATE places SET level = 'village' WHERE id = {maopo}")).await;
        rollup_matches_fresh(&db, &data, &inds, "after the place tree changed back").await;
        if db.engine() == Engine::Sqlite {
            // Definitions changed: figures of other definitions are not used.
            let mut changed = inds.clone();
            let i = changed.iter_mut().find(|i| i.key == "destitute_people").expect("destitute_people");
            i.filters.clear();
            rollup_matches_fresh(&db, &data, &changed, "after a definition changed").await;
            // A ledger whose writes are no longer counted is computed afresh each time.
            write(&db, "DROP TRIGGER ld_dibao_payments_counted_update").await;
            rollup_matches_fresh(&db, &data, &inds, "trigger dropped").await;
            write(&db, "UPDATE ld_dibao_payments SET amount = amount + 1").await;
            rollup_matches_fresh(&db, &data, &inds, "uncounted write").await;
            // Opening the database puts the trigger back, with the counts where they were
            // before the uncounted write: the figures stored before it must not come back.
            let mut tx = db.begin().await.expect("begin");
            ledgers::install_builtin(&mut tx, &Actor::System, &data.defs).await.expect("install");
            tx.commit().await.expect("commit");
            assert_eq!(one(&db, "SELECT COUNT(*) FROM rollup_store WHERE ledger = 'dibao_payments'").await, 0, "figures of a ledger written uncounted are deleted");
            rollup_matches_fresh(&db, &data, &inds, "trigger back").await;
        }
    });
}

mod data_checks {
    use super::*;

    async fn run(db: &Db, data: &Data, key: &str) -> Vec<checks::Finding> {
        let c = checks::builtin().expect("checks").into_iter().find(|c| c.key == key).expect(key);
        let mut tx = db.read().await.expect("read");
        checks::run(&mut tx, &c, &data.defs, &year()).await.expect(key)
    }

    both!(each_check_finds_what_was_planted, |db: Db| async move {
        let data = seed(&db).await;
        let dup = run(&db, &data, "dibao_paid_twice_same_month").await;
        assert_eq!(dup.len(), 1, "{dup:?}");
        assert_eq!(dup[0].record_ids.len(), 2);
        assert!(dup[0].message.contains("张一户（H1）") && dup[0].message.contains("2023-02"), "{}", dup[0].message);

        let dead = run(&db, &data, "destitute_paid_after_death_or_move").await;
        assert_eq!(dead.len(), 1, "{dead:?}");
        assert!(dead[0].message.contains("刘四") && dead[0].message.contains("2023-06"), "{}", dead[0].message);
        assert!(run(&db, &data, "dibao_paid_after_death_or_move").await.is_empty());

        let both = run(&db, &data, "destitute_and_dibao_same_month").await;
        assert_eq!(both.len(), 1, "{both:?}");
        assert!(both[0].message.contains("张一") && both[0].message.contains("2023-02"), "{}", both[0].message);

        let overdue = run(&db, &data, "major_hazard_overdue").await;
        assert_eq!(overdue.len(), 1, "{overdue:?}");
        assert!(overdue[0].message.contains("2023-10-01"), "{}", overdue[0].message);

        let visits = run(&db, &data, "monitoring_not_visited").await;
        assert_eq!(visits.len(), 1, "{visits:?}");
        assert!(visits[0].message.contains("刘四户（H3）") && visits[0].message.contains("2023-06-01"), "{}", visits[0].message);

        let persons = run(&db, &data, "possible_duplicate_persons").await;
        assert_eq!(persons.len(), 1, "{persons:?}");
        assert_eq!(persons[0].person_ids.len(), 2);
        // No birth date written out: it is read from the ID number (docs/personal-data.md).
        assert!(persons[0].message.contains("姓名和出生日期相同") && !persons[0].message.contains("（出生日期"), "{}", persons[0].message);

        // Settings switch: 特困 with 低保 allowed; visits every 200 days.
        let mut tx = db.begin().await.expect("begin");
        settings::set(&mut tx, &Actor::System, "rule:allow_destitute_with_dibao", 2023, 1).await.expect("set");
        settings::set(&mut tx, &Actor::System, "check:visit_days", 2023, 240).await.expect("set");
        tx.commit().await.expect("commit");
        assert!(run(&db, &data, "destitute_and_dibao_same_month").await.is_empty());
        assert!(run(&db, &data, "monitoring_not_visited").await.is_empty());
    });
}

const TINY: &str = "# {{ place }}人民政府{{ year }}年工作总结

## 一、社会救助

五保对象共{{ hp(\"destitute_households\", \"destitute_people\") }}，农机补贴申报{{ fig(\"machinery_subsidy_units\", \"approx:10\") }}台，发放低保金{{ fig(\"dibao_paid\", \"wan:2\") }}万元。
{% if value(\"petitions_military\") == 0 %}无涉军信访问题。{% endif %}
## 二、项目建设

农村公路{{ fig(\"projects_roads_count\") }}条{{ fig(\"projects_roads_budget\", \"wan\") }}万元（{% for v in villages(\"projects_roads_budget\", \"wan\") if v.value > 0 %}{{ v.name }}{{ v.text }}万元{% if not loop.last %}、{% endif %}{% endfor %}），先后{{ fig(\"projects_roads_count\", \"zh\") }}次。
";

/// The template output (Markdown with figures as links to their explanation).
async fn markdown(db: &Db, data: &Data, source: &str) -> String {
    let inds = indicator::builtin().expect("indicators");
    let mut tx = db.read().await.expect("read");
    let rd = render::gather(&mut tx, &inds, &data.defs, &year()).await.expect("gather");
    let text = render::render(source, &rd).expect("render");
    // On demand (only the figures the template asks for) the text is the same.
    let mut computed = 0;
    let lazy = render::gather_for(&mut tx, &inds, &data.defs, &year(), |d| {
        computed = d.figures.len();
        render::render(source, d)
    })
    .await
    .expect("gather on demand");
    assert_eq!(lazy, text);
    assert!(computed < inds.len(), "on demand computed {computed} of {} indicators", inds.len());
    // What a reader sees parses out of it, figures as plain text.
    let plain = render::render_markdown(source, &rd).expect("render");
    assert!(!plain.contains("](/explain/"), "{plain}");
    text
}

mod rendering {
    use super::*;

    both!(tiny_template, |db: Db| async move {
        let data = seed(&db).await;
        let md = markdown(&db, &data, TINY).await;
        insta::assert_snapshot!("tiny_template", md);
        let full = markdown(&db, &data, render::builtin_template("annual_summary").expect("builtin")).await;
        assert!(full.starts_with("# 北斗溪镇人民政府2023年工作总结"), "{full}");
        assert!(full.contains("[260余](/explain/machinery_subsidy_units?year=2023&as_of=2023-12-31)"), "{full}");
        assert!(full.contains("[3户4人](/explain/destitute_households?year=2023&as_of=2023-12-31&with=destitute_people)"), "{full}");
    });

    /// The whole built-in summary is the same text on SQLite and PostgreSQL.
    #[tokio::test]
    async fn sqlite_and_postgres_identical() {
        use taizhang_storage::testkit::TestDb;
        use taizhang_storage::Engine;
        let Some(pg) = TestDb::new(Engine::Postgres).await.expect("pg") else { return };
        let lite = TestDb::new(Engine::Sqlite).await.expect("sqlite").expect("sqlite");
        let mut outs = Vec::new();
        for db in [&lite.db, &pg.db] {
            let data = seed(db).await;
            outs.push(markdown(db, &data, render::builtin_template("annual_summary").expect("builtin")).await);
        }
        assert_eq!(outs[0], outs[1]);
    }
}

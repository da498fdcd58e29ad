//! Ledgers on both engines: built-in definitions, workflows, time, concurrency, clerk-defined
//! ledgers read with plain SQL.

mod common;
use common::*;

use chrono::NaiveDate;
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::period::Period;
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{households, ledgers, settings, Db, Scope, StoreError};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn vals(pairs: &[(&str, Value)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

async fn install(db: &Db) -> Vec<LedgerDef> {
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    let mut tx = db.begin().await.expect("begin");
    let n = ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    assert_eq!(n, defs.len(), "every built-in ledger installed");
    // Installing again is a no-op.
    assert_eq!(ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("again"), 0);
    tx.commit().await.expect("commit");
    defs
}

async fn def(db: &Db, key: &str) -> LedgerDef {
    let mut tx = db.read().await.expect("read");
    ledgers::get(&mut tx, key).await.expect("def")
}

fn clerk() -> Actor {
    Actor::User { id: 1, username: "clerk".into(), role: Role::Clerk, place_id: 1 }
}

// Each ledger table has the indexes it needs and no more: an index on `subject_id` only where
// the natural-key index (which starts with it) does not exist; an older database that still has
// both loses the redundant one when the built-in ledgers are installed again, and one without
// the natural-key index gets it. On SQLite every
// ledger table counts its writes.
both!(ledger_tables_have_their_indexes_and_triggers, |db: Db| async move {
    let defs = install(&db).await;
    let keyed = |d: &LedgerDef| d.natural_key.iter().any(|k| k == "subject");
    let mut tx = db.begin().await.expect("begin");
    let idx = tx.index_names().await.expect("indexes");
    for d in &defs {
        let t = d.table_name();
        assert_eq!(idx.contains(&format!("{t}_natural")), keyed(d), "{t}_natural");
        assert_eq!(idx.contains(&format!("{t}_subject")), !keyed(d), "{t}_subject");
        assert!(idx.contains(&format!("{t}_place")), "{t}_place");
    }
    let old = defs.iter().find(|d| keyed(d)).expect("a ledger keyed by subject").table_name();
    tx.exec_script(&format!("CREATE INDEX {old}_subject ON {old}(subject_id)")).await.expect("old index");
    // Older still: no natural-key index, which the batch import names.
    tx.exec_script(&format!("DROP INDEX {old}_natural")).await.expect("drop natural");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("again");
    assert!(!tx.index_names().await.expect("indexes").contains(&format!("{old}_subject")), "redundant index dropped");
    assert!(tx.index_names().await.expect("indexes").contains(&format!("{old}_natural")), "natural-key index created");
    let counted = taizhang_storage::changes::counted_tables(&mut tx).await.expect("counted");
    if db.engine() == taizhang_storage::Engine::Sqlite {
        assert_eq!(counted.len(), defs.len(), "every ledger table counts its writes");
    } else {
        assert!(counted.is_empty());
    }
    tx.commit().await.expect("commit");
});

both!(every_builtin_ledger_installs_and_reads_back, |db: Db| async move {
    let defs = install(&db).await;
    let mut tx = db.read().await.expect("read");
    let stored = ledgers::all(&mut tx).await.expect("all");
    assert_eq!(stored.len(), defs.len());
    for d in &defs {
        let s = stored.iter().find(|s| s.key == d.key).expect("stored");
        assert_eq!(s, d, "{} round-trips through the database", d.key);
        // Its table exists with one column per field.
        let cols: Vec<String> = d.fields.iter().map(|f| format!("\"{}\"", f.key)).collect();
        tx.fetch(&format!("SELECT id, place_id, {} FROM {} LIMIT 1", cols.join(", "), d.table_name()), &[])
            .await
            .unwrap_or_else(|e| panic!("table of {}: {e}", d.key));
    }
});

both!(hazard_workflow_allows_and_refuses_transitions, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let hz = def(&db, "hazards").await;
    let mut tx = db.begin().await.expect("begin");
    let s = Scope::all();
    let mut v = vals(&[("found_on", Value::Date(d("2023-06-01"))), ("industry", text("燃气")), ("level", text("重大")), ("location", text("坪溪村3组")), ("description", text("液化气瓶无减压阀"))]);
    // A 重大隐患 must carry an 整改期限.
    let e = records::create(&mut tx, &hz, &clerk(), &s, RecordInput { place_id: Some(t.pingxi.id), values: v.clone(), ..Default::default() }, today()).await.expect_err("deadline");
    assert!(e.to_string().contains("重大隐患必须填写整改期限"), "{e}");
    v.insert("rectify_deadline".into(), Value::Date(d("2023-06-30")));
    let rec = records::create(&mut tx, &hz, &clerk(), &s, RecordInput {
        place_id: Some(t.pingxi.id),
        values: v,
        ..Default::default()
    }, today()).await.expect("create");
    // Still open after its deadline: listed as overdue.
    let late = records::overdue(&mut tx, &hz, &s, d("2023-07-15")).await.expect("overdue");
    assert_eq!(late.iter().map(|(r, _)| r.id).collect::<Vec<_>>(), vec![rec.id]);
    assert!(late[0].1.contains("逾期"), "{}", late[0].1);
    assert!(records::overdue(&mut tx, &hz, &s, d("2023-06-15")).await.expect("overdue").is_empty());
    assert_eq!(rec.state.as_deref(), Some("found"));
    // 下达整改 needs the 五定 fields.
    let e = records::transition(&mut tx, &hz, &clerk(), &s, rec.id, rec.row_version, "assign", Values::new(), today(), &Default::default()).await.expect_err("needs fields");
    assert!(e.to_string().contains("整改"), "{e}");
    let rec = records::transition(&mut tx, &hz, &clerk(), &s, rec.id, rec.row_version, "assign", vals(&[
        ("rectify_person", text("王老板")), ("rectify_deadline", Value::Date(d("2023-06-30"))), ("rectify_measures", text("加装减压阀")), ("rectify_standard", text("符合燃气安全规范")),
    ]), d("2023-06-02"), &Default::default()).await.expect("assign");
    let rec = records::transition(&mut tx, &hz, &clerk(), &s, rec.id, rec.row_version, "finish", vals(&[("rectified_on", Value::Date(d("2023-06-20")))]), d("2023-06-20"), &Default::default()).await.expect("finish");
    // 复查销号 without 复查日期 and 复查人 is refused.
    let e = records::transition(&mut tx, &hz, &clerk(), &s, rec.id, rec.row_version, "close", Values::new(), today(), &Default::default()).await.expect_err("needs review");
    assert!(e.to_string().contains("复查"), "{e}");
    // …and a village cadre may not close it at all.
    let cadre = Actor::User { id: 2, username: "cun".into(), role: Role::VillageCadre, place_id: t.pingxi.id };
    let e = records::transition(&mut tx, &hz, &cadre, &s, rec.id, rec.row_version, "close", Values::new(), today(), &Default::default()).await.expect_err("role");
    assert!(e.to_string().contains("只能由"), "{e}");
    tx.commit().await.expect("commit");
    // (On PostgreSQL a transaction's audit entries join the trail when it commits.)
    let mut tx = db.read().await.expect("read");
    let n = tx.fetch_one("SELECT COUNT(*) FROM audit WHERE entity = 'ld_hazards' AND action = 'create' AND actor = 'clerk'", &[]).await.expect("audit").int(0);
    assert_eq!(n, 1, "the record's creation is audited; the refused one is not");
});

both!(monitoring_elimination_follows_the_rules, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let m = def(&db, "monitoring").await;
    let mut tx = db.begin().await.expect("begin");
    let s = Scope::all();
    settings::set(&mut tx, &Actor::System, "monitoring_line", 2023, 680_000).await.expect("line");
    let all = settings::all(&mut tx).await.expect("settings");
    let h = households::create(&mut tx, &Actor::System, &s, "H-0001", t.pingxi.id).await.expect("household");
    let mut rec = records::create(&mut tx, &m, &clerk(), &s, RecordInput {
        subject_id: Some(h.id),
        values: vals(&[
            ("category", text("边缘易致贫户")), ("risk_types", Value::List(vec!["因病".into()])), ("household_size", Value::Int(3)),
            ("identified_on", Value::Date(d("2023-03-01"))), ("labour_capacity", text("无劳动力")),
            ("per_capita_income", Value::Int(900_000)), ("income_stable_since", Value::Date(d("2023-03-01"))),
            ("three_guarantees_secure", Value::Bool(true)),
        ]),
        ..Default::default()
    }, today()).await.expect("create");
    for step in ["identify_publicise", "identify_submit_town", "identify_submit_county", "identify_approve"] {
        rec = records::transition(&mut tx, &m, &clerk(), &s, rec.id, rec.row_version, step, Values::new(), d("2023-03-10"), &all).await.expect(step);
    }
    assert_eq!(rec.state.as_deref(), Some("assisting"));
    // Too early: identified less than 6 months before.
    let e = records::transition(&mut tx, &m, &clerk(), &s, rec.id, rec.row_version, "eliminate_start", Values::new(), d("2023-08-01"), &all).await.expect_err("too early");
    assert!(e.to_string().contains("未满 6 个月"), "{e}");
    // Later, but no measure and no labour force.
    let e = records::transition(&mut tx, &m, &clerk(), &s, rec.id, rec.row_version, "eliminate_start", Values::new(), d("2023-10-01"), &all).await.expect_err("rules");
    assert!(e.to_string().contains("帮扶措施") && e.to_string().contains("无劳动力"), "{e}");
    // With a measure and labour, it may start.
    let fix = vals(&[("measures", Value::List(vec!["公益岗位".into()])), ("labour_capacity", text("弱劳动力"))]);
    let rec = records::transition(&mut tx, &m, &clerk(), &s, rec.id, rec.row_version, "eliminate_start", fix, d("2023-10-01"), &all).await.expect("start");
    assert_eq!(rec.state.as_deref(), Some("eliminate_visit"));
    tx.commit().await.expect("commit");
});

both!(standing_ledger_counts_as_of_and_during, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let dibao = def(&db, "dibao").await;
    let mut tx = db.begin().await.expect("begin");
    let s = Scope::all();
    let mut n = 0;
    // Enrolled 2022-05 and still in force; 2023-02..2023-08; 2023-11 onwards; 2021..2022-12.
    for (from, to) in [("2022-05-01", None), ("2023-02-01", Some("2023-08-31")), ("2023-11-15", None), ("2021-01-01", Some("2022-12-31"))] {
        n += 1;
        let h = households::create(&mut tx, &Actor::System, &s, &format!("D-{n}"), t.maopo.id).await.expect("household");
        let mut v = vals(&[("area_type", text("农村")), ("household_size", Value::Int(2)), ("monthly_amount", Value::Int(50_000)), ("approved_on", Value::Date(d(from)))]);
        if let Some(to) = to {
            v.insert("exited_on".into(), Value::Date(d(to)));
        }
        // Fill whatever else the definition requires with a plausible value.
        let missing: Vec<_> = dibao.active_fields().filter(|f| f.required && !v.contains_key(&f.key)).cloned().collect();
        for f in missing {
            v.insert(f.key.clone(), match f.kind {
                taizhang_domain::ledger::FieldKind::Enum => text(&f.options[0]),
                taizhang_domain::ledger::FieldKind::Date => Value::Date(d(from)),
                _ => Value::Int(1),
            });
        }
        records::create(&mut tx, &dibao, &clerk(), &s, RecordInput { subject_id: Some(h.id), values: v, ..Default::default() }, today()).await.expect("dibao");
    }
    let (dd, ss) = (dibao.clone(), s.clone());
    let q = RecordQuery { as_of: Some(d("2023-12-31")), ..Default::default() };
    assert_eq!(records::count(&mut tx, &dd, &ss, &q).await.expect("as of"), 2, "in force on 2023-12-31");
    let q = RecordQuery { as_of: Some(d("2023-06-30")), ..Default::default() };
    assert_eq!(records::count(&mut tx, &dd, &ss, &q).await.expect("as of"), 2, "in force on 2023-06-30");
    let q = RecordQuery { period: Some(Period::year(2023)), ..Default::default() };
    assert_eq!(records::count(&mut tx, &dd, &ss, &q).await.expect("during"), 3, "in force some day of 2023");
    let q = RecordQuery { period: Some(Period::year(2022)), ..Default::default() };
    assert_eq!(records::count(&mut tx, &dd, &ss, &q).await.expect("during"), 2, "in force some day of 2022");
    // 坪溪村 has none of them.
    let pingxi = Scope::of_place(&mut tx, t.pingxi.id).await.expect("scope");
    let q = RecordQuery { period: Some(Period::year(2023)), ..Default::default() };
    assert_eq!(records::count(&mut tx, &dd, &pingxi, &q).await.expect("village"), 0);
});

both!(the_second_of_two_concurrent_saves_is_refused, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let ev = def(&db, "events").await;
    let mut v = Values::new();
    for f in ev.active_fields().filter(|f| f.required) {
        v.insert(f.key.clone(), match f.kind {
            taizhang_domain::ledger::FieldKind::Enum => text(&f.options[0]),
            taizhang_domain::ledger::FieldKind::Date => Value::Date(d("2023-11-26")),
            taizhang_domain::ledger::FieldKind::Year | taizhang_domain::ledger::FieldKind::Integer => Value::Int(2023),
            _ => text("清华大学乡村振兴工作站怀化溆浦站封顶"),
        });
    }
    let mut tx = db.begin().await.expect("begin");
    let rec = records::create(&mut tx, &ev, &clerk(), &Scope::all(), RecordInput { place_id: Some(t.town.id), values: v, ..Default::default() }, today()).await.expect("create");
    tx.commit().await.expect("commit");
    let field = ev.active_fields().find(|f| f.kind == taizhang_domain::ledger::FieldKind::Text).expect("a text field").key.clone();
    // Clerk A saves first.
    let mut tx = db.begin().await.expect("begin");
    records::update(&mut tx, &ev, &clerk(), &Scope::all(), rec.id, rec.row_version, vals(&[(&field, text("甲的修改"))]), today()).await.expect("first save");
    tx.commit().await.expect("commit");
    // Clerk B saves from the same version and is refused, told who changed what.
    let mut tx = db.begin().await.expect("begin");
    let e = records::update(&mut tx, &ev, &clerk(), &Scope::all(), rec.id, rec.row_version, vals(&[(&field, text("乙的修改"))]), today()).await.expect_err("second save");
    assert!(matches!(e, StoreError::Stale(_)), "{e}");
    assert!(e.to_string().contains("clerk") && e.to_string().contains("刷新"), "{e}");
    drop(tx);
    let mut tx = db.read().await.expect("read");
    let now = records::get(&mut tx, &ev, &Scope::all(), rec.id).await.expect("get");
    assert_eq!(now.values.get(&field), Some(&text("甲的修改")), "nothing silently overwritten");
});

const CLERK_LEDGER_V1: &str = r#"
key = "road_lamps"
name = "路灯维护台账"
group = "人居环境"
natural_key = ["lamp_no"]
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
[[fields]]
key = "condition"
label = "状况"
type = "enum"
options = ["完好", "损坏"]
[[fields]]
key = "old_note"
label = "旧备注"
type = "text"
"#;

both!(a_clerk_defined_ledger_grows_without_losing_data, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let v1 = LedgerDef::from_toml(CLERK_LEDGER_V1).expect("v1");
    let mut tx = db.begin().await.expect("begin");
    let def1 = ledgers::define(&mut tx, &Actor::System, &v1).await.expect("define v1");
    for (i, cond) in ["完好", "损坏", "损坏"].iter().enumerate() {
        records::create(&mut tx, &def1, &clerk(), &Scope::all(), RecordInput {
            place_id: Some(if i == 0 { t.pingxi.id } else { t.maopo.id }),
            values: vals(&[("lamp_no", text(&format!("L{i}"))), ("checked_on", Value::Date(d("2023-05-01"))), ("condition", text(cond)), ("old_note", text("保留我"))]),
            ..Default::default()
        }, today()).await.expect("record");
    }
    // v2 adds a field and drops old_note: it is retired, not removed.
    let v2_text = CLERK_LEDGER_V1.replace("[[fields]]\nkey = \"old_note\"\nlabel = \"旧备注\"\ntype = \"text\"\n", "[[fields]]\nkey = \"repair_cost\"\nlabel = \"维修费用\"\ntype = \"money\"\n");
    let v2 = LedgerDef::from_toml(&v2_text).expect("v2");
    let def2 = ledgers::define(&mut tx, &Actor::System, &v2).await.expect("define v2");
    assert!(def2.field("old_note").is_some_and(|f| f.retired), "old_note retired");
    assert!(def2.field("repair_cost").is_some_and(|f| !f.retired), "repair_cost added");
    let all = records::list(&mut tx, &def2, &Scope::all(), &RecordQuery::default()).await.expect("list");
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|r| r.values.get("old_note") == Some(&text("保留我"))), "values of the retired field kept");
    // Changing a field's type is refused.
    let bad = LedgerDef::from_toml(&v2_text.replace("type = \"money\"", "type = \"text\"")).expect("parses");
    assert!(ledgers::define(&mut tx, &Actor::System, &bad).await.is_err());
    tx.commit().await.expect("commit");
    // A county analyst reads it with plain SQL.
    let mut tx = db.read().await.expect("read");
    let rows = tx.fetch("SELECT condition, COUNT(*) FROM ld_road_lamps GROUP BY condition ORDER BY condition", &[]).await.expect("sql");
    let got: Vec<(String, i64)> = rows.iter().map(|r| (r.text(0), r.int(1))).collect();
    let mut want = vec![("完好".to_string(), 1), ("损坏".to_string(), 2)];
    want.sort();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, want);
});

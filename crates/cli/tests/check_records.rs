//! `check --json` on the demo town (issue 16): every record a finding's message names
//! (「第 472 号」, 「第 1517、3394 号」) is listed with its ledger in `records`, and in
//! `record_ids` or, for the second ledger of an overlap (the household's 低保 beside a person's
//! 特困), in `other_record_ids`; every person it numbers (人员编号) is in `person_ids` — for the
//! whole town and each village, over several years and time points.

use std::collections::BTreeSet;
use std::process::Command;

fn numbers_after(message: &str, marker: &str, end: &str) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    for piece in message.split(marker).skip(1) {
        let Some((list, _)) = piece.split_once(end) else { continue };
        // Only a list of numbers (「第 1517、3394 号」), not a sentence that happens to follow.
        if list.chars().all(|c| c.is_ascii_digit() || c == '、' || c == ' ') {
            out.extend(list.split('、').filter_map(|n| n.trim().parse::<i64>().ok()));
        }
    }
    out
}

#[test]
fn every_record_a_finding_names_is_listed() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .current_dir(dir.path())
        .env_remove("TAIZHANG_DB")
        .args(["demo", "--out", "演示", "--no-serve"])
        .output()
        .expect("run taizhang demo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let db = dir.path().join("演示").join("taizhang.db");
    let run = |args: &[&str]| -> serde_json::Value {
        let o = Command::new(env!("CARGO_BIN_EXE_taizhang")).arg("--db").arg(&db).args(args).output().expect("run");
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).expect("json")
    };
    let places = String::from_utf8_lossy(&Command::new(env!("CARGO_BIN_EXE_taizhang")).arg("--db").arg(&db).args(["place", "list"]).output().expect("run").stdout).into_owned();
    let villages: Vec<String> = places.lines().filter(|l| l.trim_start().starts_with("村 ")).filter_map(|l| l.split_whitespace().nth(2).map(str::to_string)).collect();
    assert!(villages.len() >= 5, "{places}");

    let mut asked: Vec<Vec<String>> = Vec::new();
    for year in ["2022", "2023", "2024"] {
        asked.push(vec!["--year".into(), year.into()]);
        for v in &villages {
            asked.push(vec!["--year".into(), year.into(), "--place".into(), v.clone()]);
        }
    }
    for day in ["2023-03-31", "2023-06-30", "2023-09-30"] {
        asked.push(vec!["--year".into(), "2023".into(), "--as-of".into(), day.into()]);
    }
    let (mut findings, mut overlaps) = (0, 0);
    for args in &asked {
        let mut all: Vec<&str> = vec!["check", "--json"];
        all.extend(args.iter().map(String::as_str));
        let found = run(&all);
        for f in found.as_array().expect("a list") {
            findings += 1;
            let message = f["message"].as_str().expect("message");
            let ids = |key: &str| -> BTreeSet<i64> { f[key].as_array().expect("ids").iter().filter_map(serde_json::Value::as_i64).collect() };
            let (mine, other) = (ids("record_ids"), ids("other_record_ids"));
            let listed: BTreeSet<i64> = f["records"].as_array().expect("records").iter().filter_map(|r| r["id"].as_i64()).collect();
            for r in f["records"].as_array().expect("records") {
                let (ledger, id) = (r["ledger"].as_str().unwrap_or_default(), r["id"].as_i64().unwrap_or_default());
                assert!(
                    (ledger == f["ledger"] && mine.contains(&id)) || (ledger == f["other_ledger"] && other.contains(&id)),
                    "{args:?}: {r} is in neither list: {f}"
                );
            }
            assert_eq!(listed.len(), mine.len() + other.len(), "{args:?}: {f}");
            let named = numbers_after(message, "第 ", " 号");
            assert!(named.is_subset(&listed), "{args:?}: the message names {:?} not listed: {f}", named.difference(&listed).collect::<Vec<_>>());
            let persons = numbers_after(message, "人员编号 ", "）");
            assert!(persons.is_subset(&ids("person_ids")), "{args:?}: {f}");
            if !other.is_empty() {
                overlaps += 1;
                assert!(named.iter().any(|id| other.contains(id)), "the second ledger's record is named: {f}");
            }
        }
    }
    assert!(findings > 100 && overlaps > 0, "{findings} findings, {overlaps} overlaps");
}

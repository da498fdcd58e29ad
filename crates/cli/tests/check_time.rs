//! `taizhang check` and its time point: without flags this year as of today, with `--year` that
//! year as of its end when it is past, and never as of a day still to come — a death recorded
//! now is not reported "as of" a day before it, nor a payment after the day asked for.

mod common;
use common::{ok, on_postgres, on_sqlite};

use std::path::Path;

use taizhang_storage::fixtures::id_number;

fn json(dir: &Path, db: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["check", "--json"];
    all.extend_from_slice(args);
    let v: serde_json::Value = serde_json::from_str(&ok(dir, db, &all)).expect("json");
    v.as_array().expect("array").clone()
}

fn of(found: &[serde_json::Value], check: &str) -> Vec<serde_json::Value> {
    found.iter().filter(|f| f["check"] == check).cloned().collect()
}

fn story(dir: &Path, db: &str) {
    let today = chrono::Local::now().date_naive();
    ok(dir, db, &["init", "--town", "北斗溪镇", "--code", "431224110000", "--county", "溆浦县"]);
    ok(dir, db, &["place", "add", "--parent", "北斗溪镇", "--name", "茅坡村", "--code", "431224110202"]);
    let id = id_number("433024", "19400303", 31);
    ok(dir, db, &["person", "add", "--name", "陈三", "--id-number", &id, "--place", "茅坡村"]);
    ok(dir, db, &["record", "add", "destitute", "--subject", &id, "support_mode=分散供养", "approved_on=2020-01-01"]);
    for m in 5..=8 {
        ok(dir, db, &["record", "add", "destitute_payments", "--subject", &id, &format!("pay_month=2023-{m:02}"), "kind=基本生活费", "support_mode=分散供养", "amount=545"]);
    }

    // Without flags: this year, as of today (not its 31 December).
    let text = ok(dir, db, &["check"]);
    assert!(text.contains(&format!("时点 {today}")), "{text}");
    // A past year: as of its last day.
    let text = ok(dir, db, &["check", "--year", "2023"]);
    assert!(text.contains("期间 2023-01-01 至 2023-12-31，时点 2023-12-31"), "{text}");
    // A day still to come is brought back to today.
    let text = ok(dir, db, &["check", "--year", "2023", "--as-of", "2999-01-01"]);
    assert!(text.contains(&format!("时点 {today}")), "{text}");
    assert!(json(dir, db, &["--year", "2023"]).is_empty(), "a clean town");
    ok(dir, db, &["check", "--year", "2023", "--fail-on-findings"]);
    // A report's 落款: the issuer of the place it is for, the date asked for (today without).
    for (place, issuer) in [(None, "北斗溪镇人民政府"), (Some("茅坡村"), "茅坡村村民委员会")] {
        let md = dir.join("总结.md");
        let mut args = vec!["report", "--year", "2023", "--date", "2024-01-05", "-o", md.to_str().unwrap_or("总结.md")];
        if let Some(p) = place {
            args.extend(["--place", p]);
        }
        ok(dir, db, &args);
        let text = std::fs::read_to_string(&md).expect("md");
        assert!(text.trim_end().ends_with(&format!("{issuer}  \n2024年1月5日")), "{}", &text[text.len().saturating_sub(200)..]);
    }
    // Figures resting on ledgers with no record in the period are listed; --strict fails on
    // them once the file is written. The 特困 payments of 2023 are recorded: not listed.
    let md = dir.join("严格.md");
    let o = common::run(dir, db, &["report", "--year", "2023", "--strict", "-o", md.to_str().unwrap_or("严格.md")]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(md.exists() && out.contains("提醒（") && out.contains("「低保对象台账」在2023年没有记录"), "{out}");
    assert!(!out.contains("「特困供养金发放台账」在") && !out.contains("「特困供养对象台账」在"), "{out}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--strict"));
    // A county form for a month with no payments says so (it would print 0.00 元).
    let xlsx = dir.join("月报.xlsx");
    let o = common::run(dir, db, &["report", "--period", "2022-11", "--template", "social_assistance_monthly", "--strict", "-o", xlsx.to_str().unwrap_or("月报.xlsx")]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(xlsx.exists() && out.contains("「特困供养金发放台账」在2022年11月没有记录"), "{out}");
    let o = common::run(dir, db, &["report", "--year", "2023", "--date", "2024-13-05", "-o", "x.md"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--date"), "{}", String::from_utf8_lossy(&o.stderr));
    // Figures likewise: this year as of today, a past year as of its end.
    let text = ok(dir, db, &["indicators"]);
    assert!(text.contains(&format!("时点 {today}")), "{text}");
    let text = ok(dir, db, &["indicators", "--year", "2023"]);
    assert!(text.contains("时点 2023-12-31"), "{text}");

    ok(dir, db, &["person", "status", &id, "--status", "死亡", "--date", "2023-06-15"]);
    let found = json(dir, db, &["--year", "2023"]);
    let paid = of(&found, "destitute_paid_after_death_or_move");
    assert_eq!(paid.len(), 1, "{found:?}");
    assert_eq!((&paid[0]["village"], &paid[0]["subject"]), (&serde_json::json!("茅坡村"), &serde_json::json!("陈三")));
    assert_eq!(paid[0]["record_ids"].as_array().map(Vec::len), Some(2), "July and August: {paid:?}");
    assert_eq!(of(&found, "destitute_enrolled_after_death_or_move").len(), 1, "{found:?}");
    // Findings exit 0 unless asked; with --fail-on-findings they exit 1 once printed.
    ok(dir, db, &["check", "--year", "2023"]);
    for extra in [&[][..], &["--json"][..]] {
        let mut args = vec!["check", "--year", "2023", "--fail-on-findings"];
        args.extend_from_slice(extra);
        let out = common::run(dir, db, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("陈三") && stderr.contains("数据核查发现 2 处问题"), "{args:?}: {stdout} / {stderr}");
    }

    // As of 30 June the death is known, the July and August payments are not made yet.
    let found = json(dir, db, &["--year", "2023", "--as-of", "2023-06-30"]);
    assert!(of(&found, "destitute_paid_after_death_or_move").is_empty(), "{found:?}");
    assert_eq!(of(&found, "destitute_enrolled_after_death_or_move").len(), 1, "{found:?}");
    // As of 31 May nobody has died yet.
    assert!(json(dir, db, &["--year", "2023", "--as-of", "2023-05-31"]).is_empty());
}

#[test]
fn check_time_points_on_sqlite() {
    on_sqlite(story);
}

#[test]
fn check_time_points_on_postgres() {
    on_postgres("check_time", story);
}

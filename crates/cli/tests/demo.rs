//! `taizhang demo` as a user runs it: a fresh directory gets the database, the summary in three
//! formats and the check results; a second run refuses to overwrite without --force.

use std::process::Command;

fn demo(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .current_dir(dir)
        .env_remove("TAIZHANG_DB")
        .env_remove("RUST_BACKTRACE")
        .args(["demo", "--out", "演示", "--no-serve"])
        .args(extra)
        .output()
        .expect("run taizhang demo")
}

#[test]
fn demo_writes_database_reports_and_checks_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = demo(tmp.path(), &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{}\n{}",
        out,
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = tmp.path().join("演示");
    assert!(dir.join("taizhang.db").is_file());
    for ext in ["md", "html", "docx"] {
        let f = dir.join(format!("北斗溪镇2023年工作总结.{ext}"));
        assert!(
            std::fs::metadata(&f).is_ok_and(|m| m.len() > 1000),
            "{} missing",
            f.display()
        );
    }
    let md = std::fs::read_to_string(dir.join("北斗溪镇2023年工作总结.md")).expect("md");
    assert!(md.contains("脱贫户1330户4785人"), "{md}");
    assert!(out.contains("共发现 22 处问题"), "{out}");
    assert!(out.contains("explain dibao_rural_households"), "{out}");

    // The roll-up by town: the demo's one town carries every indicator's total.
    let db = dir.join("taizhang.db");
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_taizhang"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .expect("run taizhang")
    };
    let json = |o: std::process::Output| -> serde_json::Value {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).expect("json")
    };
    let totals = json(cli(&["indicators", "--year", "2023", "--json"]));
    let by_town = json(cli(&["indicators", "--year", "2023", "--by", "town", "--json"]));
    let (totals, by_town) = (totals.as_array().expect("list"), by_town.as_array().expect("list"));
    assert_eq!(totals.len(), by_town.len());
    for (t, r) in totals.iter().zip(by_town) {
        assert_eq!(t["key"], r["key"]);
        let places = r["places"].as_array().expect("places");
        assert_eq!(places.len(), 1, "{}", r["key"]);
        assert_eq!(places[0]["name"], "北斗溪镇");
        assert_eq!(places[0]["value"], t["value"], "{}: roll-up by town vs total", r["key"]);
    }
    // Recomputed from the records instead of taken from the figures stored above: the same.
    let fresh = json(cli(&["indicators", "--year", "2023", "--by", "town", "--fresh", "--json"]));
    assert_eq!(fresh.as_array().expect("list"), by_town);
    let alone = cli(&["indicators", "--fresh"]);
    assert!(!alone.status.success() && String::from_utf8_lossy(&alone.stderr).contains("--fresh 只与 --by 同用"));
    let villages = cli(&["indicators", "--year", "2023", "--by", "村"]);
    let text = String::from_utf8_lossy(&villages.stdout);
    assert!(villages.status.success() && text.contains("坪溪村") && text.contains("按村分列"), "{text}");
    // The trail of a figure ends at a name: each record behind it with its village, its
    // person or household, and the amount the figure sums.
    let why = json(cli(&["explain", "forest_natural_amount", "--year", "2023", "--limit", "5", "--json"]));
    let recs = why["records"].as_array().expect("records");
    assert_eq!(recs.len(), 5, "{why}");
    for r in recs {
        assert!(r["village"].as_str().is_some_and(|v| v.ends_with('村')), "{r}");
        assert!(r["subject"].as_str().is_some_and(|v| !v.is_empty() && !v.starts_with('#')), "{r}");
        assert!(r["summed"]["value"].as_str().is_some_and(|v| v.ends_with('元')), "{r}");
    }
    let text = String::from_utf8_lossy(&cli(&["explain", "forest_natural_amount", "--year", "2023", "--limit", "2"]).stdout).to_string();
    let label = why["records"][0]["summed"]["field"].as_str().expect("the summed field's label").to_string();
    assert!(text.contains(&format!("\t{label}=")) && text.contains(why["records"][0]["village"].as_str().unwrap_or("?")), "{text}");
    // A reference shows the name it points at, not its number.
    let text = String::from_utf8_lossy(&cli(&["explain", "monitoring_risk_households", "--year", "2023", "--limit", "3"]).stdout).to_string();
    let helper = text.split("帮扶责任人=").nth(1).map(|t| t.split([' ', '\n']).next().unwrap_or("").to_string()).expect("the helper named");
    assert!(!helper.is_empty() && !helper.chars().all(|c| c.is_ascii_digit() || c == '#'), "{text}");
    let bad = cli(&["indicators", "--by", "省"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--by 的值「省」无效"), "{}", String::from_utf8_lossy(&bad.stderr));

    let again = demo(tmp.path(), &[]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let county = demo(tmp.path(), &["--force", "--scale", "nation"]);
    assert!(!county.status.success(), "an unknown scale is refused");
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    let third = demo(tmp.path(), &["--scale", "county", "--county", "3"]);
    assert!(!third.status.success() && err(&third).contains("只有 1（溆浦县）和 2（沅溪县）"), "{}", err(&third));
    let town_two = demo(tmp.path(), &["--county", "2"]);
    assert!(!town_two.status.success() && err(&town_two).contains("--county 只用于 --scale county"), "{}", err(&town_two));
    // A county goes beside another in the same file, never over one already there (the demo
    // town's 溆浦县).
    let over = demo(tmp.path(), &["--scale", "county"]);
    assert!(!over.status.success() && err(&over).contains("已有溆浦县（431224）"), "{}", err(&over));
}

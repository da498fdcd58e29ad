//! The built-in indicators, checks and templates load and fit the built-in ledgers.

use taizhang_reports::{checks, indicator, render};

#[test]
fn builtin_indicators_fit_the_ledgers() {
    let ledgers = taizhang_domain::catalogue::builtin_ledgers().expect("ledgers");
    let inds = indicator::builtin().expect("indicators");
    assert!(inds.len() >= 100, "{}", inds.len());
    indicator::check_all(&inds, &ledgers).expect("indicators check");
    for i in &inds {
        let l = ledgers.iter().find(|l| l.key == i.ledger).expect("ledger");
        // Every SQL selection builds on both engines.
        let ctx = taizhang_reports::Context::year(2023, taizhang_storage::Scope::all());
        for e in [taizhang_storage::Engine::Sqlite, taizhang_storage::Engine::Postgres] {
            taizhang_reports::eval::selection_sql(e, i, l, &ctx).expect("selection");
        }
    }
}

#[test]
fn builtin_checks_parse() {
    let c = checks::builtin().expect("checks");
    let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
    for k in ["dibao_paid_twice_same_month", "destitute_paid_after_death_or_move", "destitute_enrolled_after_death_or_move", "destitute_and_dibao_same_month", "destitute_enrolled_with_dibao", "major_hazard_overdue", "monitoring_not_visited", "possible_duplicate_persons"] {
        assert!(keys.contains(&k), "{k}");
    }
}

#[test]
fn builtin_template_exists() {
    assert!(render::builtin_template("annual_summary").is_some());
    assert!(render::builtin_template("annual_summary.md.j2").is_some());
    assert_eq!(render::builtin_templates(), vec!["annual_summary".to_string()]);
}

#[test]
fn formats() {
    assert_eq!(render::format_value(263, "approx:10").expect("f"), "260余");
    assert_eq!(render::format_value(112_530_000, "wan_approx").expect("f"), "112万余");
    assert_eq!(render::format_value(102_340_000, "wan:0").expect("f"), "102");
    assert_eq!(render::format_value(12_300_000, "wan:1").expect("f"), "12.3");
    assert_eq!(render::format_value(219_000_000, "wan:2").expect("f"), "219");
    assert_eq!(render::format_value(2, "zh").expect("f"), "两");
    assert_eq!(render::format_value(9, "zh_digit").expect("f"), "九");
    assert_eq!(render::format_scaled(1008, 1, "dec:1").expect("f"), "100.8");
    assert_eq!(render::format_scaled(5234, 1, "approx:100").expect("f"), "500余");
    assert!(render::format_value(1, "nonsense").is_err());
}

//! Money, fixed-scale decimals, periods, dates and how figures are written in summaries.

use chrono::NaiveDate;
use proptest::prelude::*;
use taizhang_domain::money::{
    fen_from_f64, format_scaled, format_yuan, parse_money, parse_scaled, scaled_from_f64, Fen, MoneyError,
};
use taizhang_domain::numfmt::{format_number, format_rate, households_people, parse_format, NumberFormat};
use taizhang_domain::period::{
    date_from_excel_serial, format_month, parse_date_lenient, parse_month, parse_period, Period, PeriodError,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date")
}

/// 元 as 分, so money literals read as the summaries write them.
fn yuan(y: i64) -> i64 {
    y * 100
}

fn yuan_fen(y: i64, fen: i64) -> i64 {
    y * 100 + fen
}

fn fmt(value: i64, spec: &str) -> String {
    format_number(value, &parse_format(spec).expect(spec))
}

// ---- money ----

#[test]
fn money_is_parsed_in_every_usual_form() {
    let cases: [(&str, i64); 16] = [
        ("1234", 123_400),
        ("1,234.5", 123_450),
        ("1，234.50", 123_450),
        ("1234.56元", 123_456),
        ("¥1,234", 123_400),
        ("￥1,234.00", 123_400),
        ("12.3万元", 12_300_000),
        ("12.3万", 12_300_000),
        ("30.54万元", 30_540_000),
        ("１２３４．５", 123_450),
        ("-5", -500),
        ("-¥5.01", -501),
        ("  0.1 ", 10),
        ("1.230", 123),
        ("0.000001万元", 1),
        ("1,463,200元", 146_320_000),
    ];
    for (input, fen) in cases {
        assert_eq!(parse_money(input), Ok(Fen(fen)), "{input}");
    }
}

#[test]
fn money_refuses_rather_than_rounds() {
    let err = parse_money("1.234").expect_err("3 decimals");
    assert_eq!(err, MoneyError::TooManyDecimals { input: "1.234".into(), max: 2 });
    assert_eq!(err.to_string(), "小数位数超过 2 位：1.234");
    assert!(matches!(parse_money("1.0000001万"), Err(MoneyError::TooManyDecimalsWan(_))));
    assert_eq!(parse_money(""), Err(MoneyError::Empty));
    for bad in ["abc", "1.2.3", "元", "1,,000", "--5", "12万元元", "1e5", "-+3"] {
        let err = parse_money(bad).expect_err(bad);
        assert!(matches!(err, MoneyError::BadFormat(_)), "{bad}: {err:?}");
        assert!(err.to_string().starts_with("金额格式不对："), "{err}");
    }
    assert!(matches!(parse_money("99999999999999999999"), Err(MoneyError::TooLarge(_))));
}

#[test]
fn yuan_is_formatted_with_separators_and_two_decimals() {
    assert_eq!(format_yuan(Fen(123_450)), "1,234.50");
    assert_eq!(format_yuan(Fen(0)), "0.00");
    assert_eq!(format_yuan(Fen(5)), "0.05");
    assert_eq!(format_yuan(Fen(-123_456_789)), "-1,234,567.89");
    assert_eq!(format_yuan(Fen(i64::MIN)), "-92,233,720,368,547,758.08");
    assert_eq!(Fen(100_000).to_string(), "1,000.00");
    assert_eq!([Fen(1), Fen(2), Fen(-5)].into_iter().sum::<Fen>(), Fen(-2));
    assert_eq!(Fen::from_yuan(3), Some(Fen(300)));
}

#[test]
fn scaled_decimals() {
    assert_eq!(parse_scaled("100.8", 1), Ok(1008));
    assert_eq!(parse_scaled("1,000", 1), Ok(10_000));
    assert_eq!(parse_scaled("2.50", 1), Ok(25));
    assert_eq!(parse_scaled("-0.5", 2), Ok(-50));
    assert_eq!(parse_scaled("７", 0), Ok(7));
    assert_eq!(
        parse_scaled("100.85", 1),
        Err(MoneyError::TooManyDecimals { input: "100.85".into(), max: 1 })
    );
    assert!(matches!(parse_scaled("亩", 1), Err(MoneyError::BadNumber(_))));
    assert_eq!(parse_scaled("1", 19), Err(MoneyError::BadScale(19)));
    assert_eq!(format_scaled(1008, 1), "100.8");
    assert_eq!(format_scaled(1000, 1), "100.0");
    assert_eq!(format_scaled(5, 3), "0.005");
    assert_eq!(format_scaled(-5, 1), "-0.5");
    assert_eq!(format_scaled(42, 0), "42");
}

#[test]
fn excel_floats_are_read_exactly_or_refused() {
    assert_eq!(fen_from_f64(0.1 + 0.2), Ok(Fen(30)));
    assert_eq!(scaled_from_f64(0.1 + 0.2, 2), Ok(30));
    assert_eq!(scaled_from_f64(100.8, 1), Ok(1008));
    assert_eq!(fen_from_f64(305_400.0), Ok(Fen(30_540_000)));
    assert_eq!(fen_from_f64(-1234.56), Ok(Fen(-123_456)));
    // A sum of many cents accumulates float error but is still the right amount.
    let total: f64 = (0..1000).map(|_| 0.01).sum();
    assert_eq!(fen_from_f64(total), Ok(Fen(1000)));
    assert!(matches!(fen_from_f64(1234567.891), Err(MoneyError::NotRepresentable { .. })));
    assert!(matches!(scaled_from_f64(100.85, 1), Err(MoneyError::NotRepresentable { .. })));
    assert!(fen_from_f64(f64::NAN).is_err());
    assert!(fen_from_f64(f64::INFINITY).is_err());
    assert!(matches!(fen_from_f64(1e30), Err(MoneyError::TooLarge(_))));
}

proptest! {
    #[test]
    fn format_yuan_round_trips(fen in any::<i64>().prop_filter("not MIN", |v| *v != i64::MIN)) {
        prop_assert_eq!(parse_money(&format_yuan(Fen(fen))), Ok(Fen(fen)));
    }

    #[test]
    fn format_scaled_round_trips(raw in -1_000_000_000_000i64..1_000_000_000_000, scale in 0u8..=6) {
        prop_assert_eq!(parse_scaled(&format_scaled(raw, scale), scale), Ok(raw));
    }

    #[test]
    fn excel_floats_of_two_decimal_values_read_back(fen in -10_000_000_000i64..10_000_000_000) {
        let v = fen as f64 / 100.0;
        prop_assert_eq!(fen_from_f64(v), Ok(Fen(fen)));
    }
}

// ---- periods and dates ----

#[test]
fn periods() {
    let y = parse_period("2023").expect("year");
    assert_eq!(y, Period::year(2023));
    assert_eq!((y.start, y.end, y.label.as_str()), (date(2023, 1, 1), date(2023, 12, 31), "2023年"));
    for q in ["2023Q3", "2023q3", "２０２３Ｑ３"] {
        let p = parse_period(q).expect(q);
        assert_eq!(
            (p.start, p.end, p.label.as_str()),
            (date(2023, 7, 1), date(2023, 9, 30), "2023年第三季度")
        );
    }
    assert_eq!(parse_period("2024Q1").expect("q1").end, date(2024, 3, 31));
    for m in ["2023-07", "2023-7", "2023年7月"] {
        let p = parse_period(m).expect(m);
        assert_eq!((p.start, p.end, p.label.as_str()), (date(2023, 7, 1), date(2023, 7, 31), "2023年7月"));
    }
    assert_eq!(parse_period("2024-02").expect("feb").end, date(2024, 2, 29));
    let r = parse_period("2023-01-01..2023-06-30").expect("range");
    assert_eq!(
        (r.start, r.end, r.label.as_str()),
        (date(2023, 1, 1), date(2023, 6, 30), "2023-01-01至2023-06-30")
    );
    assert_eq!(
        parse_period("2023-06-30..2023-01-01"),
        Err(PeriodError::Reversed { start: date(2023, 6, 30), end: date(2023, 1, 1) })
    );
    for bad in ["2023Q5", "2023-13", "abc", "23"] {
        assert!(parse_period(bad).is_err(), "{bad}");
    }
    assert!(parse_period("2023Q5").expect_err("q5").to_string().starts_with("期间格式不对"));
}

#[test]
fn period_membership() {
    let p = Period::year(2023);
    assert!(p.contains(date(2023, 1, 1)) && p.contains(date(2023, 12, 31)));
    assert!(!p.contains(date(2024, 1, 1)) && !p.contains(date(2022, 12, 31)));
    assert!(p.overlaps(date(2020, 5, 1), None));
    assert!(p.overlaps(date(2020, 5, 1), Some(date(2023, 1, 1))));
    assert!(p.overlaps(date(2023, 12, 31), Some(date(2025, 1, 1))));
    assert!(!p.overlaps(date(2020, 5, 1), Some(date(2022, 12, 31))));
    assert!(!p.overlaps(date(2024, 1, 1), None));
    assert!(!p.overlaps(date(2023, 6, 1), Some(date(2023, 3, 1))), "reversed span");
    assert_eq!(p.months().len(), 12);
    let r = parse_period("2023-11-15..2024-02-01").expect("range");
    assert_eq!(r.months(), vec![(2023, 11), (2023, 12), (2024, 1), (2024, 2)]);
}

#[test]
fn lenient_dates() {
    let d = date(2023, 1, 5);
    for s in [
        "2023-01-05",
        "2023-1-5",
        "2023/1/5",
        "2023.1.5",
        "2023年1月5日",
        "2023年01月05日",
        "20230105",
        " 2023-01-05 ",
        "２０２３－０１－０５",
        "2023-01-05 00:00:00",
    ] {
        assert_eq!(parse_date_lenient(s), Ok(d), "{s}");
    }
    let err = parse_date_lenient("5/1/2023").expect_err("us order");
    assert_eq!(err.to_string(), "日期格式不对：5/1/2023；可写作 2023-01-05、2023/1/5 或 2023年1月5日");
    assert!(matches!(parse_date_lenient("2023-02-29"), Err(PeriodError::NoSuchDate(_))));
    assert_eq!(parse_date_lenient("2024-02-29"), Ok(date(2024, 2, 29)));
    assert!(matches!(parse_date_lenient("0203-01-05"), Err(PeriodError::YearOutOfRange(203))));
    for bad in ["", "2023", "2023-13-01", "2023-01-32", "2023-001-05", "45000"] {
        assert!(parse_date_lenient(bad).is_err(), "{bad}");
    }
}

#[test]
fn excel_serials() {
    assert_eq!(date_from_excel_serial(1.0), Some(date(1900, 1, 1)));
    assert_eq!(date_from_excel_serial(59.0), Some(date(1900, 2, 28)));
    assert_eq!(date_from_excel_serial(60.0), None, "the fictitious 1900-02-29");
    assert_eq!(date_from_excel_serial(61.0), Some(date(1900, 3, 1)));
    assert_eq!(date_from_excel_serial(45000.0), Some(date(2023, 3, 15)));
    assert_eq!(date_from_excel_serial(45000.75), Some(date(2023, 3, 15)));
    assert_eq!(date_from_excel_serial(2_958_465.0), Some(date(9999, 12, 31)));
    for bad in [0.0, -1.0, 0.5, 2_958_466.0, f64::NAN] {
        assert_eq!(date_from_excel_serial(bad), None, "{bad}");
    }
}

#[test]
fn months() {
    for s in ["2023-07", "2023-7", "2023/07", "2023年7月", "202307", "2023.7", "２０２３年７月"] {
        assert_eq!(parse_month(s), Ok((2023, 7)), "{s}");
    }
    for bad in ["2023-13", "2023-0", "23-07", "2023", "July"] {
        assert!(parse_month(bad).is_err(), "{bad}");
    }
    assert_eq!(format_month(2023, 7), "2023-07");
    assert_eq!(parse_month(&format_month(2024, 12)), Ok((2024, 12)));
}

// ---- how figures are written ----

#[test]
fn seed_figures() {
    assert_eq!(fmt(263, "exact"), "263");
    assert_eq!(fmt(18000, "exact"), "18000");
    assert_eq!(fmt(263, "approx:10"), "260余");
    assert_eq!(fmt(3042, "approx:1000"), "3000余");
    assert_eq!(fmt(18234, "approx:1000"), "18000余");
    assert_eq!(fmt(7, "approx:10"), "7", "below the unit: exact");
    assert_eq!(fmt(260, "approx:10"), "260", "nothing dropped: no 余");
    assert_eq!(fmt(32000, "approx_wan"), "3万余");
    assert_eq!(fmt(30000, "approx_wan"), "3万");
    assert_eq!(fmt(123_456, "approx_shiwan"), "10余万");
    assert_eq!(fmt(1_234_567, "approx_shiwan"), "120余万");
    assert_eq!(fmt(3456, "atleast:1000:人"), "3000人以上");
    assert_eq!(fmt(1_000_000, "atleast:10000"), "1000000以上");
    // Money, value in 分.
    assert_eq!(fmt(yuan(305_400), "wan"), "30.54");
    assert_eq!(fmt(yuan(1_463_200), "wan"), "146.32");
    assert_eq!(fmt(yuan(123_000), "wan"), "12.3");
    assert_eq!(fmt(yuan(12_000), "wan"), "1.2");
    assert_eq!(fmt(yuan(2_190_000), "wan"), "219");
    assert_eq!(fmt(yuan(343_900), "wan"), "34.39");
    assert_eq!(fmt(yuan_fen(343_999, 99), "wan"), "34.4", "rounded to the nearest 0.01万, not cut");
    assert_eq!(fmt(yuan_fen(343_949, 99), "wan"), "34.39");
    assert_eq!(fmt(yuan(1_125_300), "wan_approx"), "112万余");
    assert_eq!(fmt(yuan(1_120_000), "wan_approx"), "112万");
    assert_eq!(fmt(yuan_fen(5300, 50), "wan_approx"), "5300余");
    assert_eq!(fmt(yuan(123_000), "wan_approx_ten"), "10余万");
    assert_eq!(fmt(yuan(600_000), "wan_approx_ten"), "60万");
    assert_eq!(fmt(yuan(612_345), "wan_approx_ten"), "60余万");
    assert_eq!(fmt(yuan(62_000), "wan_approx_ten"), "6万余", "below 10万: wan_approx");
    assert_eq!(fmt(yuan(1_003_000), "wan_atleast"), "100万元以上");
    assert_eq!(fmt(123_450, "yuan"), "1,234.50");
    assert_eq!(fmt(24_000_000, "yuan_int"), "240000");
    assert_eq!(fmt(24_000_050, "yuan_int"), "240000.50");
    assert_eq!(households_people(1330, 4785), "1330户4785人");
}

#[test]
fn rates() {
    assert_eq!(format_rate(855, 1000), "85.5%");
    assert_eq!(format_rate(1, 3), "33.3%");
    assert_eq!(format_rate(2, 3), "66.7%");
    assert_eq!(format_rate(1, 2000), "0.1%", "0.05% rounds half up");
    assert_eq!(format_rate(0, 7), "0.0%");
    assert_eq!(format_rate(7, 7), "100.0%");
    assert_eq!(format_rate(-1, 3), "-33.3%");
    assert_eq!(format_rate(5, 0), "—");
}

#[test]
fn format_specs() {
    assert_eq!(parse_format("approx:100"), Ok(NumberFormat::Approx { unit: 100 }));
    assert_eq!(parse_format(" wan "), Ok(NumberFormat::Wan));
    assert_eq!(
        parse_format("atleast:1000:人"),
        Ok(NumberFormat::AtLeast { unit: 1000, measure: "人".into() })
    );
    for bad in ["", "approx", "approx:15", "approx:1", "approx:x", "wan:3", "wan:x", "round", "atleast:0"] {
        assert!(parse_format(bad).is_err(), "{bad}");
    }
    assert!(parse_format("round").expect_err("unknown").contains("不认识的数字格式"));
    assert!(NumberFormat::Wan.is_money() && !NumberFormat::Exact.is_money());
    // Serialised as the spec string, so settings files read naturally.
    let json = serde_json::to_string(&NumberFormat::Approx { unit: 10 }).expect("json");
    assert_eq!(json, "\"approx:10\"");
    let back: NumberFormat = serde_json::from_str("\"wan_approx\"").expect("from json");
    assert_eq!(back, NumberFormat::WanApprox);
    assert!(serde_json::from_str::<NumberFormat>("\"nope\"").is_err());
}

proptest! {
    #[test]
    fn approx_never_exceeds_and_is_within_one_unit(value in 0i64..1_000_000_000, exp in 1u32..7) {
        let unit = 10i64.pow(exp);
        let text = fmt(value, &format!("approx:{unit}"));
        let shown: i64 = text.trim_end_matches('余').parse().map_err(|_| TestCaseError::fail(text.clone()))?;
        prop_assert!(shown <= value);
        prop_assert!(value - shown < unit);
        prop_assert_eq!(text.ends_with('余'), shown != value);
    }

    #[test]
    fn wan_approx_never_exceeds(fen in 1_000_000i64..1_000_000_000_000) {
        let text = fmt(fen, "wan_approx");
        let wan: i64 = text.trim_end_matches('余').trim_end_matches('万').parse()
            .map_err(|_| TestCaseError::fail(text.clone()))?;
        prop_assert!(wan * 1_000_000 <= fen && fen - wan * 1_000_000 < 1_000_000);
    }

    #[test]
    fn wan_round_trips_for_two_decimals(hundredths in -10_000_000i64..10_000_000) {
        let fen = hundredths * 10_000;
        let text = fmt(fen, "wan");
        prop_assert!(!text.contains('.') || !text.ends_with('0'), "trailing zero in {}", text);
        prop_assert_eq!(parse_money(&format!("{text}万元")), Ok(Fen(fen)));
    }

    #[test]
    fn wan_rounds_to_the_nearest_hundred_yuan(fen in 0i64..1_000_000_000_000) {
        let text = fmt(fen, "wan");
        let back = parse_money(&format!("{text}万")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!((back.0 - fen).abs() <= 5_000, "{} → {}", fen, text);
    }
}

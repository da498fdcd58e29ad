//! 公民身份号码 and 统一社会信用代码: examples and properties.

use chrono::{Datelike, Duration, NaiveDate};
use proptest::prelude::*;
use taizhang_domain::idcard::{
    age_on, check_character, is_excel_number_form, mask_id, parse_id_number, IdError, Sex,
};
use taizhang_domain::uscc::{uscc_check_character, validate_uscc, UsccError};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date")
}

fn today() -> NaiveDate {
    date(2025, 6, 30)
}

/// A valid 18-digit number from its parts, the check character computed.
fn make_id(region: &str, birth: NaiveDate, seq: u32) -> String {
    let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
    let check = check_character(&first17).expect("17 digits");
    format!("{first17}{check}")
}

const EXCEL_MESSAGE: &str =
    "身份证号被 Excel 存成了数字（4.31224E+17），后几位已丢失；请把该列设为文本格式后重新填写";

#[test]
fn published_example_passes() {
    let p = parse_id_number("11010519491231002X", today()).expect("valid");
    assert_eq!(p.number, "11010519491231002X");
    assert_eq!(p.birth_date, date(1949, 12, 31));
    assert_eq!(p.sex, Sex::Female);
    assert_eq!(p.sex.label(), "女");
    assert_eq!(p.region_code, "110105");
    assert!(!p.converted_from_15);
    assert_eq!(check_character("11010519491231002"), Some('X'));
}

#[test]
fn lower_case_x_full_width_and_spaces_are_read() {
    let expected = "11010519491231002X";
    for input in [
        "11010519491231002x",
        "  11010519491231002X\t",
        "\u{3000}11010519491231002x\u{3000}",
        "１１０１０５１９４９１２３１００２Ｘ",
        "'11010519491231002X",
    ] {
        let p = parse_id_number(input, today()).expect(input);
        assert_eq!(p.number, expected, "input {input:?}");
    }
}

#[test]
fn sex_follows_the_seventeenth_digit() {
    let male = make_id("431224", date(1990, 1, 1), 123);
    let female = make_id("431224", date(1990, 1, 1), 124);
    assert_eq!(parse_id_number(&male, today()).expect("male").sex, Sex::Male);
    assert_eq!(parse_id_number(&female, today()).expect("female").sex, Sex::Female);
    assert_eq!(Sex::Male.label(), "男");
}

#[test]
fn retired_region_codes_are_accepted() {
    // 433024 is 溆浦县's code before 1997; adults there still carry it.
    let id = make_id("433024", date(1965, 3, 8), 21);
    let p = parse_id_number(&id, today()).expect("retired code");
    assert_eq!(p.region_code, "433024");
}

#[test]
fn region_starting_with_zero_is_refused() {
    let id = make_id("012345", date(1980, 5, 5), 11);
    assert_eq!(parse_id_number(&id, today()), Err(IdError::BadRegion("012345".into())));
}

#[test]
fn fifteen_digit_numbers_are_converted() {
    let full = make_id("433024", date(1968, 2, 29), 357);
    let legacy = format!("{}{}", &full[..6], &full[8..17]);
    assert_eq!(legacy.len(), 15);
    let p = parse_id_number(&legacy, today()).expect("legacy");
    assert_eq!(p.number, full);
    assert!(p.converted_from_15);
    assert_eq!(p.birth_date, date(1968, 2, 29));
    assert_eq!(p.sex, Sex::Male);
    // The 18-digit form of the same person is not flagged.
    assert!(!parse_id_number(&full, today()).expect("full").converted_from_15);
}

#[test]
fn excel_number_forms_are_refused_with_the_excel_message() {
    let err = parse_id_number("4.31224E+17", today()).expect_err("excel");
    assert_eq!(err, IdError::ExcelNumber("4.31224E+17".into()));
    assert_eq!(err.to_string(), EXCEL_MESSAGE);
    for s in ["4.31224e17", "4.31224E17", "431224199001011000.0", " 4.31224E+17 "] {
        assert!(is_excel_number_form(s), "{s}");
        assert!(matches!(parse_id_number(s, today()), Err(IdError::ExcelNumber(_))), "{s}");
    }
    assert!(!is_excel_number_form("11010519491231002X"));
    assert!(!is_excel_number_form("110105194912310021"));
}

#[test]
fn birth_dates_are_checked() {
    let future = make_id("431224", date(2025, 7, 1), 1);
    assert_eq!(parse_id_number(&future, today()), Err(IdError::FutureBirthDate(date(2025, 7, 1))));
    let born_today = make_id("431224", today(), 1);
    assert!(parse_id_number(&born_today, today()).is_ok());
    let too_early = make_id("431224", date(1899, 12, 31), 1);
    assert!(matches!(parse_id_number(&too_early, today()), Err(IdError::BirthDateTooEarly(_))));
    // 1990-02-30 does not exist; compute a matching check character so only the date is wrong.
    let first17 = "43122419900230123";
    let bad = format!("{first17}{}", check_character(first17).expect("17 digits"));
    let err = parse_id_number(&bad, today()).expect_err("bad date");
    assert_eq!(err, IdError::BadBirthDate("19900230".into()));
    assert!(err.to_string().contains("19900230"));
}

#[test]
fn length_character_and_check_errors_are_precise() {
    assert_eq!(parse_id_number("", today()), Err(IdError::Empty));
    assert_eq!(parse_id_number(" \u{3000} ", today()), Err(IdError::Empty));
    assert_eq!(parse_id_number("1234567", today()), Err(IdError::BadLength(7)));
    assert_eq!(
        parse_id_number("1101051949123X002X", today()),
        Err(IdError::BadCharacter { position: 14, found: 'X' })
    );
    let err = parse_id_number("110105194912310021", today()).expect_err("check");
    assert_eq!(err, IdError::BadCheckCharacter { expected: 'X', found: '1' });
    assert!(err.to_string().contains("应为「X」"), "{err}");
}

#[test]
fn masking_and_age() {
    // First and last character only: neither region nor birth date (docs/personal-data.md).
    assert_eq!(mask_id("431224199001011234"), "4****************4");
    assert_eq!(mask_id("1234"), "****");
    assert_eq!(mask_id("433024680229357"), "4*************7");
    assert_eq!(age_on(date(1990, 6, 30), date(2025, 6, 29)), 34);
    assert_eq!(age_on(date(1990, 6, 30), date(2025, 6, 30)), 35);
    assert_eq!(age_on(date(2000, 2, 29), date(2025, 2, 28)), 24);
    assert_eq!(age_on(date(2000, 2, 29), date(2025, 3, 1)), 25);
    assert_eq!(age_on(date(2030, 1, 1), date(2025, 1, 1)), 0);
}

fn arb_id() -> impl Strategy<Value = (String, NaiveDate, u32)> {
    let first_day = date(1900, 1, 1);
    let span = (today() - first_day).num_days();
    (1u32..=9, 0u32..100_000, 0..=span, 0u32..1000).prop_map(move |(d0, rest, offset, seq)| {
        let birth = first_day + Duration::days(offset);
        let region = format!("{d0}{rest:05}");
        (make_id(&region, birth, seq), birth, seq)
    })
}

proptest! {
    #[test]
    fn every_generated_valid_id_passes((id, birth, seq) in arb_id()) {
        let p = parse_id_number(&id, today()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&p.number, &id);
        prop_assert_eq!(p.birth_date, birth);
        prop_assert_eq!(p.sex, if seq % 2 == 1 { Sex::Male } else { Sex::Female });
        prop_assert_eq!(&p.region_code, &id[..6]);
        prop_assert!(age_on(birth, today()) <= 125);
    }

    #[test]
    fn any_single_character_change_fails(
        (id, _, _) in arb_id(),
        pos in 0usize..18,
        replacement in prop::sample::select("0123456789X".chars().collect::<Vec<_>>()),
    ) {
        let mut chars: Vec<char> = id.chars().collect();
        prop_assume!(chars[pos] != replacement);
        chars[pos] = replacement;
        let mutated: String = chars.into_iter().collect();
        prop_assert!(parse_id_number(&mutated, today()).is_err(), "{} accepted", mutated);
    }

    #[test]
    fn fifteen_digit_form_round_trips((id, birth, _) in arb_id()) {
        prop_assume!((1900..2000).contains(&birth.year()));
        let legacy = format!("{}{}", &id[..6], &id[8..17]);
        let p = parse_id_number(&legacy, today()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(p.number, id);
        prop_assert!(p.converted_from_15);
    }
}

// ---- 统一社会信用代码 ----

const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

#[test]
fn public_uscc_example_checks_out() {
    // Verified by computation, not trusted: the check character of the first 17.
    assert_eq!(uscc_check_character("91350100M000100Y4"), Some('3'));
    assert_eq!(validate_uscc("91350100M000100Y43"), Ok("91350100M000100Y43".to_string()));
    assert_eq!(validate_uscc(" 91350100m000100y43 "), Ok("91350100M000100Y43".to_string()));
}

#[test]
fn uscc_check_is_computed_as_the_standard_says() {
    // Sum of value × 3^(i-1) mod 31, then 31 − (sum mod 31), with 31 meaning 0.
    for first17 in ["91431224MA4L1234X", "93431224MA4QWERTY", "12431224006000000", "00000000000000000"] {
        let sum: u32 = first17
            .chars()
            .enumerate()
            .map(|(i, c)| USCC_ALPHABET.find(c).expect("alphabet") as u32 * 3u32.pow(i as u32) % 31)
            .sum();
        let expected = USCC_ALPHABET.chars().nth(((31 - sum % 31) % 31) as usize);
        assert_eq!(uscc_check_character(first17), expected, "{first17}");
        let code = format!("{first17}{}", expected.expect("char"));
        assert_eq!(validate_uscc(&code), Ok(code.clone()));
    }
    assert_eq!(uscc_check_character("00000000000000000"), Some('0'));
}

#[test]
fn uscc_errors_are_precise() {
    assert_eq!(validate_uscc(""), Err(UsccError::Empty));
    assert_eq!(validate_uscc("91350100M000100Y4"), Err(UsccError::BadLength(17)));
    let err = validate_uscc("91350100MO00100Y43").expect_err("letter O");
    assert_eq!(err, UsccError::BadCharacter { position: 10, found: 'O' });
    assert!(err.to_string().contains("第 10 位"), "{err}");
    let err = validate_uscc("91350100M000100Y44").expect_err("check");
    assert_eq!(err, UsccError::BadCheckCharacter { expected: '3', found: '4' });
    assert!(uscc_check_character("91350100M000100Y").is_none());
    assert!(uscc_check_character("91350100I000100Y4").is_none());
}

fn arb_uscc() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = USCC_ALPHABET.chars().collect();
    prop::collection::vec(prop::sample::select(alphabet), 17).prop_map(|chars| {
        let first17: String = chars.into_iter().collect();
        let check = uscc_check_character(&first17).expect("alphabet only");
        format!("{first17}{check}")
    })
}

proptest! {
    #[test]
    fn generated_uscc_passes(code in arb_uscc()) {
        prop_assert_eq!(validate_uscc(&code), Ok(code.clone()));
        prop_assert_eq!(validate_uscc(&code.to_lowercase()), Ok(code.clone()));
    }

    #[test]
    fn uscc_single_character_change_fails(
        code in arb_uscc(),
        pos in 0usize..18,
        replacement in prop::sample::select(USCC_ALPHABET.chars().collect::<Vec<_>>()),
    ) {
        let mut chars: Vec<char> = code.chars().collect();
        prop_assume!(chars[pos] != replacement);
        chars[pos] = replacement;
        let mutated: String = chars.into_iter().collect();
        prop_assert!(validate_uscc(&mutated).is_err(), "{} accepted", mutated);
    }
}

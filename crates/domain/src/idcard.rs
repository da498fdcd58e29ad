//! 公民身份号码 (GB 11643-1999): parsing, the check character, masking and age.
//!
//! Numbers arrive from spreadsheets typed by people, so the parser forgives what is
//! unambiguous (spaces around and inside, full-width digits, Excel's leading apostrophe, a
//! lower-case x, the old 15-digit form: `ident::clean` does the folding) and refuses, with a precise Chinese reason, whatever could hide a wrong digit.

use chrono::{Datelike, NaiveDate};

use crate::money::halfwidth;

/// Weights of the first 17 digits, from the standard.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Indexed by the weighted sum mod 11.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// A number that passed every check, with what it says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParsedId {
    /// Always 18 characters; a check character X is upper-case.
    pub number: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    /// The 6-digit code in force when the number was issued (may be retired since).
    pub region_code: String,
    /// The input was a legacy 15-digit number; callers should warn, since the person's
    /// current card carries the 18-digit form.
    pub converted_from_15: bool,
}

/// Why a string is not a usable 公民身份号码. The text is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("身份证号为空")]
    Empty,
    #[error("{}", crate::ident::excel_number_reason(crate::ident::IdentKind::IdNumber.noun(), .0))]
    ExcelNumber(String),
    #[error("身份证号应为 18 位（老证 15 位），这里是 {0} 位")]
    BadLength(usize),
    #[error("身份证号第 {position} 位是「{found}」，只能是数字（第 18 位可以是 X）")]
    BadCharacter { position: usize, found: char },
    #[error("身份证号前 6 位地区码「{0}」不可能以 0 开头")]
    BadRegion(String),
    #[error("身份证号中的出生日期「{0}」不是真实的日期")]
    BadBirthDate(String),
    #[error("身份证号中的出生日期 {0} 早于 1900 年，多半是抄错了")]
    BirthDateTooEarly(NaiveDate),
    #[error("身份证号中的出生日期 {0} 晚于今天")]
    FutureBirthDate(NaiveDate),
    #[error("身份证号校验位不对：按前 17 位算应为「{expected}」，实际是「{found}」；多半是某一位抄错了")]
    BadCheckCharacter { expected: char, found: char },
}

/// Whether `s` looks like a number Excel stored as a float: scientific notation
/// ("4.31224E+17") or a decimal point ("431224199001011234.0"). Such a value has already
/// lost digits, so no repair is possible; this only lets the caller say so plainly.
pub fn is_excel_number_form(s: &str) -> bool {
    let s = halfwidth(s);
    let s = s.trim();
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int_part.is_empty() || !all_digits(int_part) {
        return false;
    }
    if let Some(f) = frac_part {
        if !all_digits(f) {
            return false;
        }
    }
    match exponent {
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            !digits.is_empty() && all_digits(digits)
        }
        None => frac_part.is_some(),
    }
}

/// The check character for 17 leading digits, or `None` unless given exactly 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in first17.bytes().zip(WEIGHTS) {
        if !b.is_ascii_digit() {
            return None;
        }
        sum += u32::from(b - b'0') * w;
    }
    CHECK_CHARS.get((sum % 11) as usize).copied()
}

/// Parses and checks a 公民身份号码. `today` bounds the birth date; the module never reads
/// the clock so that results are reproducible.
pub fn parse_id_number(input: &str, today: NaiveDate) -> Result<ParsedId, IdError> {
    // Full-width digits, spaces inside and around, Excel's text prefix: the one normaliser.
    let cleaned = crate::ident::clean(input);
    let trimmed = cleaned.as_str();
    if trimmed.is_empty() {
        return Err(IdError::Empty);
    }
    if is_excel_number_form(trimmed) {
        return Err(IdError::ExcelNumber(trimmed.to_string()));
    }
    let chars: Vec<char> = trimmed.chars().map(|c| c.to_ascii_uppercase()).collect();
    let len = chars.len();
    if len != 18 && len != 15 {
        return Err(IdError::BadLength(len));
    }
    for (i, &c) in chars.iter().enumerate() {
        let last_of_18 = len == 18 && i == 17;
        if !(c.is_ascii_digit() || (last_of_18 && c == 'X')) {
            return Err(IdError::BadCharacter { position: i + 1, found: c });
        }
    }
    let text: String = chars.iter().collect();
    let (first17, found_check) = if len == 18 {
        (text[..17].to_string(), chars[17])
    } else {
        // A 15-digit number omits the century (always 19) and the check character.
        (format!("{}19{}", &text[..6], &text[6..15]), ' ')
    };
    let region_code = first17[..6].to_string();
    if region_code.starts_with('0') {
        return Err(IdError::BadRegion(region_code));
    }
    let birth_text = &first17[6..14];
    let birth_date = birth_date_from(birth_text)?;
    if birth_date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(IdError::BirthDateTooEarly(birth_date));
    }
    if birth_date > today {
        return Err(IdError::FutureBirthDate(birth_date));
    }
    // Cannot fail: `first17` has been checked to be 17 ASCII digits.
    let expected = check_character(&first17).ok_or(IdError::BadLength(len))?;
    if len == 18 && found_check != expected {
        return Err(IdError::BadCheckCharacter { expected, found: found_check });
    }
    let sex_digit = first17.as_bytes()[16] - b'0';
    let sex = if sex_digit % 2 == 1 { Sex::Male } else { Sex::Female };
    Ok(ParsedId {
        number: format!("{first17}{expected}"),
        birth_date,
        sex,
        region_code,
        converted_from_15: len == 15,
    })
}

fn birth_date_from(yyyymmdd: &str) -> Result<NaiveDate, IdError> {
    let bad = || IdError::BadBirthDate(yyyymmdd.to_string());
    let year: i32 = yyyymmdd[..4].parse().map_err(|_| bad())?;
    let month: u32 = yyyymmdd[4..6].parse().map_err(|_| bad())?;
    let day: u32 = yyyymmdd[6..8].parse().map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)
}

/// Hides an ID number as the masking policy does (`masking::mask`): the first and last
/// character stay, so neither the region nor the birth date can be read from it.
pub fn mask_id(number: &str) -> String {
    crate::masking::mask(crate::masking::Class::IdNumber, number)
}

/// Age in full years on `on` (a birthday counts on the day itself; 29 February birthdays
/// count on 1 March in common years). Zero if `on` precedes `birth`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    if on <= birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_forms() {
        assert!(is_excel_number_form("4.31224E+17"));
        assert!(is_excel_number_form("4.31224e17"));
        assert!(is_excel_number_form("431224199001011000.0"));
        assert!(!is_excel_number_form("43122419900101100X"));
        assert!(!is_excel_number_form("431224199001011000"));
        assert!(!is_excel_number_form("E17"));
        assert!(!is_excel_number_form("4.3E"));
    }

    #[test]
    fn mask_short() {
        assert_eq!(mask_id("1234"), "****");
        assert_eq!(mask_id("123456789"), "1*******9");
        assert_eq!(mask_id(""), "");
    }
}

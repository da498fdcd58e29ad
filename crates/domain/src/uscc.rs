//! 统一社会信用代码 (GB 32100-2015) of enterprises, co-operatives and other organisations.
//!
//! Positions 9–17 carry the organisation code (GB 11714), which has its own check digit;
//! it is not checked separately because the 18th character already covers all 17.

use crate::money::halfwidth;

/// The 31 characters allowed; a character's value is its index. I, O, S, V and Z are left
/// out because they are easily confused with 1, 0, 5, U and 2.
const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// 3^(i-1) mod 31 for positions 1..=17.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("统一社会信用代码为空")]
    Empty,
    #[error("统一社会信用代码应为 18 位，这里是 {0} 位")]
    BadLength(usize),
    #[error("统一社会信用代码第 {position} 位是「{found}」，{}", bad_char_hint(*.found))]
    BadCharacter { position: usize, found: char },
    #[error(
        "统一社会信用代码校验位不对：按前 17 位算应为「{expected}」，实际是「{found}」；多半是某一位抄错了"
    )]
    BadCheckCharacter { expected: char, found: char },
}

fn bad_char_hint(c: char) -> String {
    match c {
        'I' => "代码中不用字母 I，是不是数字 1？".to_string(),
        'O' => "代码中不用字母 O，是不是数字 0？".to_string(),
        'S' => "代码中不用字母 S，是不是数字 5？".to_string(),
        'V' => "代码中不用字母 V，是不是字母 U？".to_string(),
        'Z' => "代码中不用字母 Z，是不是数字 2？".to_string(),
        _ => "只能是数字或大写字母（不含 I、O、S、V、Z）".to_string(),
    }
}

fn value_of(c: char) -> Option<u32> {
    CHARSET.find(c).map(|i| i as u32)
}

/// The check character for the first 17 characters, or `None` unless given exactly 17
/// characters of the code's alphabet (upper case).
pub fn uscc_check_character(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += value_of(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    CHARSET.chars().nth(check as usize)
}

/// Checks a code and returns it normalised: trimmed, half-width, upper case.
pub fn validate_uscc(input: &str) -> Result<String, UsccError> {
    let folded = halfwidth(input);
    let code: String = folded.trim().chars().map(|c| c.to_ascii_uppercase()).collect();
    if code.is_empty() {
        return Err(UsccError::Empty);
    }
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(UsccError::BadLength(chars.len()));
    }
    if let Some((i, &c)) = chars.iter().enumerate().find(|(_, c)| value_of(**c).is_none()) {
        return Err(UsccError::BadCharacter { position: i + 1, found: c });
    }
    let first17: String = chars[..17].iter().collect();
    let expected = uscc_check_character(&first17).ok_or(UsccError::BadLength(chars.len()))?;
    if chars[17] != expected {
        return Err(UsccError::BadCheckCharacter { expected, found: chars[17] });
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_powers_of_three() {
        let mut w = 1u32;
        for expected in WEIGHTS {
            assert_eq!(w, expected);
            w = w * 3 % 31;
        }
        assert_eq!(CHARSET.len(), 31);
    }

    #[test]
    fn hint_names_the_letter() {
        let err = UsccError::BadCharacter { position: 3, found: 'O' };
        assert!(err.to_string().contains("数字 0"));
    }
}

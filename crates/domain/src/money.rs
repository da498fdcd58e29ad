//! Money as whole 分 (fen) and other fixed-scale decimals, parsed from what people type.
//!
//! Floats never hold money: 0.1 + 0.2 is not 0.3 in binary, and a ledger that is off by
//! one 分 after a sum is a ledger nobody trusts. Strings are parsed with decimal digit
//! arithmetic; Excel's numeric cells, which are floats, go through [`scaled_from_f64`].

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// An amount in 分 (1 元 = 100 分).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct Fen(pub i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// Whole 元 as 分; `None` on overflow.
    pub fn from_yuan(yuan: i64) -> Option<Fen> {
        yuan.checked_mul(100).map(Fen)
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_yuan(*self))
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, rhs: Fen) -> Fen {
        Fen(self.0 + rhs.0)
    }
}

impl AddAssign for Fen {
    fn add_assign(&mut self, rhs: Fen) {
        self.0 += rhs.0;
    }
}

impl Sub for Fen {
    type Output = Fen;
    fn sub(self, rhs: Fen) -> Fen {
        Fen(self.0 - rhs.0)
    }
}

impl SubAssign for Fen {
    fn sub_assign(&mut self, rhs: Fen) {
        self.0 -= rhs.0;
    }
}

impl Neg for Fen {
    type Output = Fen;
    fn neg(self) -> Fen {
        Fen(-self.0)
    }
}

impl Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen::ZERO, Add::add)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额为空")]
    Empty,
    #[error("金额格式不对：{0}")]
    BadFormat(String),
    #[error("数字格式不对：{0}")]
    BadNumber(String),
    #[error("小数位数超过 {max} 位：{input}")]
    TooManyDecimals { input: String, max: u8 },
    #[error("以万为单位时小数位数超过 6 位（已细到分以下）：{0}")]
    TooManyDecimalsWan(String),
    #[error("数值太大：{0}")]
    TooLarge(String),
    #[error("数值 {value} 不是 {scale} 位以内的小数，不能悄悄舍入；请检查原表")]
    NotRepresentable { value: String, scale: u8 },
    #[error("小数位数设定为 {0}，超出支持范围（最多 18 位）")]
    BadScale(u8),
}

/// Folds full-width ASCII forms (０-９, ，, ．, －, Ｘ …) and the ideographic space to their
/// half-width equivalents, since Chinese input methods produce them freely.
pub(crate) fn halfwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// A decimal split into its parts, digits only.
struct Decimal<'a> {
    negative: bool,
    int_digits: String,
    frac_digits: &'a str,
}

/// Reads `[+-]digits[,digits]*[.digits]`. Commas may only sit between digits, so that a
/// stray comma (perhaps a decimal comma) is not silently dropped.
fn split_decimal(s: &str) -> Option<Decimal<'_>> {
    let (negative, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_digits) = match rest.split_once('.') {
        Some((i, f)) => (i, f),
        None => (rest, ""),
    };
    if int_part.is_empty() && frac_digits.is_empty() {
        return None;
    }
    if !frac_digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut int_digits = String::with_capacity(int_part.len());
    if !int_part.is_empty() {
        for group in int_part.split(',') {
            if group.is_empty() || !group.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            int_digits.push_str(group);
        }
    }
    Some(Decimal { negative, int_digits, frac_digits })
}

fn pow10(scale: u8) -> Option<i64> {
    10i64.checked_pow(u32::from(scale))
}

/// The decimal as an integer count of 10^-scale units; `Err(true)` if nonzero digits go
/// beyond the scale, `Err(false)` on overflow.
fn to_scaled(d: &Decimal<'_>, scale: u8) -> Result<i64, bool> {
    let scale_usize = usize::from(scale);
    let (kept, dropped) = d.frac_digits.split_at(d.frac_digits.len().min(scale_usize));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(true);
    }
    let mut value: i64 = 0;
    let padding = scale_usize - kept.len();
    let digits = d.int_digits.bytes().chain(kept.bytes()).chain(std::iter::repeat_n(b'0', padding));
    for b in digits {
        value = value.checked_mul(10).and_then(|v| v.checked_add(i64::from(b - b'0'))).ok_or(false)?;
    }
    Ok(if d.negative { -value } else { value })
}

/// Parses an amount of money: "1234", "1,234.5", "1，234.50", "1234.56元", "¥1,234",
/// "12.3万元", "12.3万", "-5", full-width digits. Digits beyond 分 are refused unless they
/// are zeros, so nothing is rounded behind the user's back.
pub fn parse_money(s: &str) -> Result<Fen, MoneyError> {
    let folded = halfwidth(s);
    let original = folded.trim();
    if original.is_empty() {
        return Err(MoneyError::Empty);
    }
    let bad = || MoneyError::BadFormat(original.to_string());
    let mut rest = original;
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r.trim_start();
    }
    if let Some(r) = rest.strip_prefix(['¥', '\u{FFE5}']) {
        rest = r.trim_start();
    }
    let mut in_wan = false;
    if let Some(r) = rest.strip_suffix("万元") {
        in_wan = true;
        rest = r.trim_end();
    } else if let Some(r) = rest.strip_suffix('万') {
        in_wan = true;
        rest = r.trim_end();
    } else if let Some(r) = rest.strip_suffix('元') {
        rest = r.trim_end();
    }
    let mut d = split_decimal(rest).ok_or_else(bad)?;
    if negative {
        if d.negative || rest.starts_with('+') {
            return Err(bad());
        }
        d.negative = true;
    }
    // 1 万元 = 10^6 分, so a 万 amount is exact in 分 with up to six decimals.
    let scale = if in_wan { 6 } else { 2 };
    match to_scaled(&d, scale) {
        Ok(v) => Ok(Fen(v)),
        Err(true) if in_wan => Err(MoneyError::TooManyDecimalsWan(original.to_string())),
        Err(true) => Err(MoneyError::TooManyDecimals { input: original.to_string(), max: 2 }),
        Err(false) => Err(MoneyError::TooLarge(original.to_string())),
    }
}

/// "1,234.50": thousands separators, always two decimals, a leading minus when negative.
pub fn format_yuan(f: Fen) -> String {
    let abs = f.0.unsigned_abs();
    let mut out = String::new();
    if f.0 < 0 {
        out.push('-');
    }
    out.push_str(&group_thousands(&(abs / 100).to_string()));
    out.push_str(&format!(".{:02}", abs % 100));
    out
}

pub(crate) fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses a decimal into an integer of 10^-scale units: "100.8" at scale 1 → 1008. Accepts
/// thousands separators and full-width digits; refuses digits beyond the scale unless zeros.
pub fn parse_scaled(s: &str, scale: u8) -> Result<i64, MoneyError> {
    if pow10(scale).is_none() {
        return Err(MoneyError::BadScale(scale));
    }
    let folded = halfwidth(s);
    let original = folded.trim();
    if original.is_empty() {
        return Err(MoneyError::Empty);
    }
    let d = split_decimal(original).ok_or_else(|| MoneyError::BadNumber(original.to_string()))?;
    to_scaled(&d, scale).map_err(|too_many| {
        if too_many {
            MoneyError::TooManyDecimals { input: original.to_string(), max: scale }
        } else {
            MoneyError::TooLarge(original.to_string())
        }
    })
}

/// Writes an integer of 10^-scale units with exactly `scale` decimals and no separators:
/// 1008 at scale 1 → "100.8".
pub fn format_scaled(raw: i64, scale: u8) -> String {
    let digits = raw.unsigned_abs().to_string();
    let scale = usize::from(scale);
    let sign = if raw < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int_part, frac_part) = padded.split_at(padded.len() - scale);
    format!("{sign}{int_part}.{frac_part}")
}

/// Reads a float from an Excel numeric cell as an integer of 10^-scale units.
///
/// The float is accepted only if it lies within a millionth of one unit of the last place
/// of a value representable at that scale (widened to 1e-14 of the value for magnitudes
/// where float spacing alone exceeds that). So Excel's 0.1 + 0.2 = 0.30000000000000004
/// reads as 30 at scale 2, while a cell holding 1234567.891 is refused rather than
/// silently rounded. The tolerance is measured against the scale's unit, not the value,
/// because a relative tolerance would round away real digits of large amounts.
pub fn scaled_from_f64(v: f64, scale: u8) -> Result<i64, MoneyError> {
    let factor = pow10(scale).ok_or(MoneyError::BadScale(scale))?;
    let not_representable = || MoneyError::NotRepresentable { value: v.to_string(), scale };
    if !v.is_finite() {
        return Err(not_representable());
    }
    let target = v * factor as f64;
    let rounded = target.round();
    let tolerance = 1e-6_f64.max(target.abs() * 1e-14);
    if (target - rounded).abs() > tolerance {
        return Err(not_representable());
    }
    // i64::MAX is not exactly representable; 2^63 as f64 is the first value out of range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&rounded) {
        return Err(MoneyError::TooLarge(v.to_string()));
    }
    Ok(rounded as i64)
}

/// [`scaled_from_f64`] at scale 2, for amounts in 元 from Excel numeric cells.
pub fn fen_from_f64(v: f64) -> Result<Fen, MoneyError> {
    scaled_from_f64(v, 2).map(Fen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halfwidth_folds() {
        assert_eq!(halfwidth("１２３，４．５　Ｘ－"), "123,4.5 X-");
    }

    #[test]
    fn commas_only_between_digits() {
        assert!(parse_scaled(",100", 0).is_err());
        assert!(parse_scaled("100,", 0).is_err());
        assert!(parse_scaled("1,,000", 0).is_err());
        assert_eq!(parse_scaled("1,000", 0), Ok(1000));
    }

    #[test]
    fn group() {
        assert_eq!(group_thousands("1"), "1");
        assert_eq!(group_thousands("1234567"), "1,234,567");
        assert_eq!(group_thousands("123456"), "123,456");
    }
}

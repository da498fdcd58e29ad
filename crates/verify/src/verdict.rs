//! Whether a written figure agrees with the ledger's value (pure), and the ledger's value
//! written the way the draft wrote its figure.
//!
//! The rules are those of `taizhang_domain::numfmt`, by which Taizhang itself writes figures:
//! - plain ("30.54万元", "1330户"): the value rounded at the written precision, halves away
//!   from zero, is the figure (146.32万元 is 1,463,150.00 … 1,463,249.99 元);
//! - 余 / 多: at least the figure and less than one more step ("260余" 260 … 269, "112万余元"
//!   112万 … 113万, "10余万元" 10万 … 20万, "1000余份" 1000 … 1999);
//! - 以上: at least the figure; 以下 / 以内 / 不到: at most;
//! - 约 / 左右: within half a step of the written precision, trailing zeros not significant
//!   (约1000 is 500 … 1500, 约30 is 25 … 35); 近: the same, but not above the figure;
//! - a denial (无…) claims zero.

use serde::Serialize;

use crate::figures::{write_scaled, Mention, Number, Qualifier};

/// A ledger value: `value × 10^-scale` in the figure's base unit (money: 分, scale 2, in 元).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ledger {
    pub value: i64,
    pub scale: i32,
}

fn pow10(n: i32) -> Option<i128> {
    10_i128.checked_pow(u32::try_from(n).ok()?)
}

/// `m × 10^from` in units of `10^to` (`from ≥ to`).
fn rescale(m: i128, from: i32, to: i32) -> Option<i128> {
    m.checked_mul(pow10(from - to)?)
}

/// The written figure and the ledger value in one unit, `10^e`, the finest of both.
fn common(n: &Number, l: Ledger, extra: i32) -> Option<(i128, i128, i32)> {
    let e = n.exp.min(-l.scale).min(extra);
    Some((rescale(n.mantissa, n.exp, e)?, rescale(i128::from(l.value), -l.scale, e)?, e))
}

/// The step that 约 and 近 allow half of: the last significant written place.
fn loose_step_exp(n: &Number) -> i32 {
    n.exp + n.trailing_zeros()
}

/// Whether the ledger value agrees with the figure as written.
pub fn agrees(n: &Number, q: Qualifier, l: Ledger) -> bool {
    let extra = match q {
        Qualifier::Yu { step_exp } => step_exp,
        _ => n.exp,
    };
    let Some((w, v, e)) = common(n, l, extra) else { return false };
    let step = |exp: i32| pow10(exp - e);
    match q {
        Qualifier::Exact => {
            let Some(p) = step(n.exp) else { return false };
            let d2 = 2 * (v - w);
            // Rounding halves away from zero: for a positive value the half rounds up.
            if v >= 0 {
                -p <= d2 && d2 < p
            } else {
                -p < d2 && d2 <= p
            }
        }
        Qualifier::Yu { step_exp } => step(step_exp).is_some_and(|s| w <= v && v < w + s),
        Qualifier::AtLeast => v >= w,
        Qualifier::AtMost => v <= w,
        Qualifier::About => step(loose_step_exp(n)).is_some_and(|s| 2 * (v - w).abs() <= s),
        Qualifier::Nearly => step(loose_step_exp(n)).is_some_and(|s| v <= w && 2 * (w - v) <= s),
        Qualifier::Zero => v == 0,
        Qualifier::Rank => false,
    }
}

/// `value` (in units of `10^e`) rounded half away from zero to a multiple of `unit`.
fn round_to(value: i128, unit: i128) -> i128 {
    let (q, r) = (value / unit, value % unit);
    if 2 * r.abs() >= unit {
        (q + value.signum()) * unit
    } else {
        q * unit
    }
}

/// Digits of `value` (units of `10^e`) in units of `10^mult`, trailing decimal zeros dropped.
fn digits(value: i128, e: i32, mult: i32) -> String {
    let text = if e >= mult { (value * pow10(e - mult).unwrap_or(1)).to_string() } else { write_scaled(value, mult - e) };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn mult_word(mult: i32) -> &'static str {
    match mult {
        4 => "万",
        8 => "亿",
        _ => "",
    }
}

/// The ledger value as the draft would have written it: same unit, 万, precision and hedge
/// ("146.35万元", "270余台", "1335户").
pub fn as_written(l: Ledger, m: &Mention) -> String {
    let n = &m.number;
    if matches!(m.qualifier, Qualifier::Zero | Qualifier::Rank) {
        return write_scaled(i128::from(l.value), l.scale).trim_end_matches(".00").to_string();
    }
    let extra = match m.qualifier {
        Qualifier::Yu { step_exp } => step_exp,
        _ => n.exp,
    };
    let Some((_, v, e)) = common(n, l, extra) else { return l.value.to_string() };
    let mult = n.multiplier;
    let unit = &m.unit;
    let w = mult_word(mult);
    let plain = |prefix: &str, suffix: &str| {
        let p = pow10(n.exp - e).unwrap_or(1);
        format!("{prefix}{}{w}{unit}{suffix}", digits(round_to(v, p), e, mult))
    };
    // "两次" is answered "三次", not "3次".
    if n.chinese && m.qualifier == Qualifier::Exact && l.scale == 0 {
        if let Ok(zh) = taizhang_reports::render::format_value(l.value, "zh") {
            return format!("{zh}{unit}");
        }
    }
    match m.qualifier {
        Qualifier::Yu { step_exp } => {
            let s = pow10(step_exp - e).unwrap_or(1);
            let floored = v.div_euclid(s) * s;
            if floored == 0 {
                return plain("", "");
            }
            let yu = if v != floored { "余" } else { "" };
            let d = digits(floored, e, mult);
            if mult > 0 && step_exp != n.exp {
                format!("{d}{yu}{w}{unit}")
            } else {
                format!("{d}{w}{yu}{unit}")
            }
        }
        Qualifier::AtLeast => plain("", "以上"),
        Qualifier::AtMost => plain("", "以下"),
        Qualifier::About => plain("约", ""),
        Qualifier::Nearly => plain("近", ""),
        _ => plain("", ""),
    }
}

/// The ledger value minus the figure, in the figure's unit ("+15户", "-0.03万元").
pub fn difference(l: Ledger, m: &Mention) -> String {
    let n = &m.number;
    let Some((w, v, e)) = common(n, l, n.exp) else { return String::new() };
    let d = v - w;
    let sign = if d > 0 { "+" } else { "" };
    format!("{sign}{}{}{}", digits(d, e, n.multiplier), mult_word(n.multiplier), m.unit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::find;

    fn check(text: &str, value: i64, scale: i32) -> bool {
        let m = find(text).into_iter().next().unwrap_or_else(|| panic!("no figure in {text}"));
        agrees(&m.number, m.qualifier, Ledger { value, scale })
    }

    fn written(text: &str, value: i64, scale: i32) -> String {
        let m = find(text).into_iter().next().unwrap_or_else(|| panic!("no figure in {text}"));
        as_written(Ledger { value, scale }, &m)
    }

    #[test]
    fn wan_yuan_is_rounded_as_written() {
        // 146.32万元 is 1,463,150.00 … 1,463,249.99 元 (values in 分).
        assert!(check("146.32万元", 146_315_000, 2));
        assert!(check("146.32万元", 146_324_999, 2));
        assert!(!check("146.32万元", 146_314_999, 2));
        assert!(!check("146.32万元", 146_325_000, 2));
        assert!(check("102万元", 102_400_000, 2));
        assert!(!check("102万元", 102_500_000, 2));
        assert!(check("12.3万元", 12_345_000, 2));
        assert_eq!(written("146.32万元", 146_350_000, 2), "146.35万元");
        assert_eq!(written("12.3万元", 12_460_000, 2), "12.5万元");
    }

    #[test]
    fn yu_is_at_least_and_below_the_next_step() {
        assert!(check("260余台", 263, 0));
        assert!(check("260余台", 260, 0));
        assert!(!check("260余台", 270, 0));
        assert!(!check("260余台", 259, 0));
        assert!(check("1000余份", 1999, 0));
        assert!(!check("1000余份", 2000, 0));
        assert!(check("112万余元", 112_530_000, 2));
        assert!(!check("112万余元", 113_000_000, 2));
        assert!(check("10余万元", 19_999_999, 2));
        assert!(!check("10余万元", 20_000_000, 2));
        assert!(check("3万余人", 32_000, 0));
        assert_eq!(written("260余台", 275, 0), "270余台");
        assert_eq!(written("112万余元", 150_100_000, 2), "150万余元");
        assert_eq!(written("10余万元", 35_000_000, 2), "30余万元");
        assert_eq!(written("260余台", 280, 0), "280台");
    }

    #[test]
    fn yi_shang_is_at_least() {
        assert!(check("100万元以上", 100_000_000, 2));
        assert!(check("100万元以上", 250_000_000, 2));
        assert!(!check("100万元以上", 99_999_999, 2));
        assert!(check("3000人以上", 3000, 0));
    }

    #[test]
    fn yue_and_jin_are_within_half_a_step() {
        assert!(check("约1000份", 1500, 0));
        assert!(check("约1000份", 500, 0));
        assert!(!check("约1000份", 1501, 0));
        assert!(check("约35人", 35, 0));
        assert!(!check("约35人", 36, 0));
        assert!(check("近300人", 251, 0));
        assert!(!check("近300人", 301, 0));
        // 约…余: the 余 decides.
        assert!(check("约1000余份", 1400, 0));
    }

    #[test]
    fn counts_are_exact() {
        assert!(check("1330户", 1330, 0));
        assert!(!check("1330户", 1331, 0));
        assert!(check("100.8亩", 10080, 2));
        assert!(!check("100.8亩", 10090, 2));
        assert!(check("两次", 2, 0));
        assert_eq!(written("两次", 3, 0), "三次");
    }

    #[test]
    fn differences_are_in_the_written_unit() {
        let m = find("146.32万元").remove(0);
        assert_eq!(difference(Ledger { value: 146_350_000, scale: 2 }, &m), "+0.03万元");
        let m = find("1330户").remove(0);
        assert_eq!(difference(Ledger { value: 1325, scale: 0 }, &m), "-5户");
    }
}

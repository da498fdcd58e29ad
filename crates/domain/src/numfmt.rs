//! How a figure is written in a Chinese year-end summary (年终总结).
//!
//! The writer chooses, sentence by sentence, whether a figure is exact ("263台"), rounded
//! down with 余 ("260余台", "112万余元", "10余万元") or with 以上 ("100万元以上"), and
//! money is usually in 万元 ("30.54万元"). A report template names the form with a short
//! spec string (see [`parse_format`]); [`format_number`] writes the figure.
//!
//! Conventions the template relies on:
//! - The output stops where the template's own text continues: counts get their measure
//!   word after the figure ("260余" + "台"), money formats get "万元" or "元" after it
//!   ("30.54" + "万元", "112万余" + "元", "10余万" + "元").
//! - 以上 follows the measure word in Chinese ("100万元以上", "3000人以上"), so the
//!   以上 formats include it: `wan_atleast` writes "100万元以上", and `atleast:1000:人`
//!   writes "3000人以上" (the template writes nothing after either).
//! - Rounding is always down (toward zero), so a figure never overstates. 余 is written
//!   only when something was actually dropped: exactly 260 with `approx:10` is "260".
//! - Approximate forms fall back to a smaller form when the value is below their unit,
//!   and to the exact figure for negative values; integers never get thousands separators
//!   (the style of the summaries: "18000", "1330户"), except in `yuan`.

use std::fmt;
use std::str::FromStr;

use crate::money::{format_yuan, Fen};

const FEN_PER_YUAN: i64 = 100;
const FEN_PER_WAN: i64 = 1_000_000;

/// The form of one figure. Serialised as its spec string ("approx:10"), so templates
/// and settings files write it the same way people do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum NumberFormat {
    /// `exact`: the count as is, "263".
    Exact,
    /// `approx:N` (N = 10, 100, 1000 …): rounded down to N, with 余: 263 → "260余".
    Approx { unit: i64 },
    /// `approx_wan`: a count rounded down to 万, 余 after 万: 32000 → "3万余".
    ApproxWan,
    /// `approx_shiwan`: a count rounded down to 十万, 余 before 万: 123456 → "10余万",
    /// 1234567 → "120余万". Below 10万 it is `approx_wan`.
    ApproxShiWan,
    /// `atleast:N` or `atleast:N:量词`: rounded down to N, then the measure word, then
    /// 以上: 3456 with `atleast:1000:人` → "3000人以上". Below N the exact count is used.
    AtLeast { unit: i64, measure: String },
    /// `wan` (money): 万元 with at most two decimals, trailing zeros dropped; anything
    /// finer than 0.01万元 (100元) is dropped, not rounded: 30540000分 → "30.54".
    Wan,
    /// `wan_approx` (money): whole 万 rounded down, then 万余: 112.53万元 → "112万余".
    /// Below 1万元: whole 元 rounded down, 余 if anything was dropped ("5300余").
    WanApprox,
    /// `wan_approx_ten` (money): rounded down to 10万元, 余 before 万: 12.3万元 → "10余万".
    /// Below 10万元 it is `wan_approx`.
    WanApproxTen,
    /// `wan_atleast` (money): whole 万 rounded down, written "100万元以上" complete.
    /// Below 1万元: "5300元以上".
    WanAtLeast,
    /// `yuan` (money): exact 元 with thousands separators and two decimals, "1,234.50".
    Yuan,
    /// `yuan_int` (money): whole 元 without separators, "240000"; if there are 分, two
    /// decimals are kept ("240000.50") rather than dropping money silently.
    YuanInt,
}

impl NumberFormat {
    /// Whether the value given to [`format_number`] is in 分 rather than a count.
    pub fn is_money(&self) -> bool {
        matches!(
            self,
            NumberFormat::Wan
                | NumberFormat::WanApprox
                | NumberFormat::WanApproxTen
                | NumberFormat::WanAtLeast
                | NumberFormat::Yuan
                | NumberFormat::YuanInt
        )
    }
}

impl fmt::Display for NumberFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberFormat::Exact => f.write_str("exact"),
            NumberFormat::Approx { unit } => write!(f, "approx:{unit}"),
            NumberFormat::ApproxWan => f.write_str("approx_wan"),
            NumberFormat::ApproxShiWan => f.write_str("approx_shiwan"),
            NumberFormat::AtLeast { unit, measure } if measure.is_empty() => write!(f, "atleast:{unit}"),
            NumberFormat::AtLeast { unit, measure } => write!(f, "atleast:{unit}:{measure}"),
            NumberFormat::Wan => f.write_str("wan"),
            NumberFormat::WanApprox => f.write_str("wan_approx"),
            NumberFormat::WanApproxTen => f.write_str("wan_approx_ten"),
            NumberFormat::WanAtLeast => f.write_str("wan_atleast"),
            NumberFormat::Yuan => f.write_str("yuan"),
            NumberFormat::YuanInt => f.write_str("yuan_int"),
        }
    }
}

impl FromStr for NumberFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_format(s)
    }
}

impl TryFrom<String> for NumberFormat {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        parse_format(&s)
    }
}

impl From<NumberFormat> for String {
    fn from(f: NumberFormat) -> String {
        f.to_string()
    }
}

const KNOWN_SPECS: &str = "exact、approx:10、approx_wan、approx_shiwan、atleast:1000、atleast:1000:人、\
wan、wan_approx、wan_approx_ten、wan_atleast、yuan、yuan_int";

/// Reads a spec string such as "approx:100" or "wan". The error is Chinese, for the
/// person who wrote the template.
pub fn parse_format(spec: &str) -> Result<NumberFormat, String> {
    let spec = spec.trim();
    let unknown = || format!("不认识的数字格式「{spec}」；可用的有 {KNOWN_SPECS}");
    let (name, arg) = match spec.split_once(':') {
        Some((n, a)) => (n.trim(), Some(a.trim())),
        None => (spec, None),
    };
    let simple = match name.to_ascii_lowercase().as_str() {
        "exact" => Some(NumberFormat::Exact),
        "approx_wan" => Some(NumberFormat::ApproxWan),
        "approx_shiwan" => Some(NumberFormat::ApproxShiWan),
        "wan" => Some(NumberFormat::Wan),
        "wan_approx" => Some(NumberFormat::WanApprox),
        "wan_approx_ten" => Some(NumberFormat::WanApproxTen),
        "wan_atleast" => Some(NumberFormat::WanAtLeast),
        "yuan" => Some(NumberFormat::Yuan),
        "yuan_int" => Some(NumberFormat::YuanInt),
        "approx" | "atleast" => None,
        _ => return Err(unknown()),
    };
    if let Some(f) = simple {
        return match arg {
            None => Ok(f),
            Some(_) => Err(format!("数字格式「{spec}」不带参数")),
        };
    }
    let Some(arg) = arg else {
        return Err(format!("数字格式「{spec}」缺少单位，例如 {name}:100"));
    };
    let (unit_text, measure) = match arg.split_once(':') {
        Some((u, m)) => (u.trim(), m.trim()),
        None => (arg, ""),
    };
    let unit: i64 =
        unit_text.parse().map_err(|_| format!("数字格式「{spec}」的单位「{unit_text}」不是数字"))?;
    let approx = name.eq_ignore_ascii_case("approx");
    let min = if approx { 10 } else { 1 };
    if !is_power_of_ten(unit) || unit < min {
        return Err(format!("数字格式「{spec}」的单位应为 10、100、1000 这样的 10 的整数次幂"));
    }
    if approx {
        if !measure.is_empty() {
            return Err(format!("数字格式「{spec}」：approx 不带量词，量词写在模板里数字后面"));
        }
        Ok(NumberFormat::Approx { unit })
    } else {
        Ok(NumberFormat::AtLeast { unit, measure: measure.to_string() })
    }
}

fn is_power_of_ten(mut n: i64) -> bool {
    if n < 1 {
        return false;
    }
    while n % 10 == 0 {
        n /= 10;
    }
    n == 1
}

/// `value` rounded down to `unit`, and whether anything was dropped.
fn floor_to(value: i64, unit: i64) -> (i64, bool) {
    (value / unit * unit, value % unit != 0)
}

fn yu(dropped: bool) -> &'static str {
    if dropped {
        "余"
    } else {
        ""
    }
}

/// Writes `value` (a count, or 分 for the money formats) in the given form.
pub fn format_number(value: i64, fmt: &NumberFormat) -> String {
    match fmt {
        NumberFormat::Exact => value.to_string(),
        NumberFormat::Approx { unit } => approx_count(value, *unit),
        NumberFormat::ApproxWan => approx_wan(value),
        NumberFormat::ApproxShiWan => {
            if value < 100_000 {
                return approx_wan(value);
            }
            let (floored, dropped) = floor_to(value, 100_000);
            format!("{}{}万", floored / 10_000, yu(dropped))
        }
        NumberFormat::AtLeast { unit, measure } => {
            let shown = if value >= *unit { floor_to(value, *unit).0 } else { value };
            format!("{shown}{measure}以上")
        }
        NumberFormat::Wan => wan(value),
        NumberFormat::WanApprox => wan_approx(value),
        NumberFormat::WanApproxTen => {
            if value < 10 * FEN_PER_WAN {
                return wan_approx(value);
            }
            let (floored, dropped) = floor_to(value, 10 * FEN_PER_WAN);
            format!("{}{}万", floored / FEN_PER_WAN, yu(dropped))
        }
        NumberFormat::WanAtLeast => {
            if value < FEN_PER_WAN {
                return format!("{}元以上", yuan_plain(value));
            }
            format!("{}万元以上", value / FEN_PER_WAN)
        }
        NumberFormat::Yuan => format_yuan(Fen(value)),
        NumberFormat::YuanInt => yuan_plain(value),
    }
}

fn approx_count(value: i64, unit: i64) -> String {
    if value < unit || unit < 1 {
        return value.to_string();
    }
    let (floored, dropped) = floor_to(value, unit);
    format!("{floored}{}", yu(dropped))
}

fn approx_wan(value: i64) -> String {
    if value < 10_000 {
        return value.to_string();
    }
    let (floored, dropped) = floor_to(value, 10_000);
    format!("{}万{}", floored / 10_000, yu(dropped))
}

/// 万元 with up to two decimals, truncated toward zero.
fn wan(fen: i64) -> String {
    let hundredths = fen / (FEN_PER_WAN / 100);
    let abs = hundredths.unsigned_abs();
    let sign = if hundredths < 0 { "-" } else { "" };
    let (int_part, frac) = (abs / 100, abs % 100);
    if frac == 0 {
        format!("{sign}{int_part}")
    } else if frac % 10 == 0 {
        format!("{sign}{int_part}.{}", frac / 10)
    } else {
        format!("{sign}{int_part}.{frac:02}")
    }
}

fn wan_approx(fen: i64) -> String {
    if fen < 0 {
        return yuan_plain(fen);
    }
    if fen < FEN_PER_WAN {
        let (floored, dropped) = floor_to(fen, FEN_PER_YUAN);
        return format!("{}{}", floored / FEN_PER_YUAN, yu(dropped));
    }
    let (floored, dropped) = floor_to(fen, FEN_PER_WAN);
    format!("{}万{}", floored / FEN_PER_WAN, yu(dropped))
}

/// Whole 元 if there are no 分, else two decimals; never separators.
fn yuan_plain(fen: i64) -> String {
    let abs = fen.unsigned_abs();
    let sign = if fen < 0 { "-" } else { "" };
    let yuan = abs / 100;
    match abs % 100 {
        0 => format!("{sign}{yuan}"),
        f => format!("{sign}{yuan}.{f:02}"),
    }
}

/// "1330户4785人", the way households and people are written together.
pub fn households_people(households: i64, people: i64) -> String {
    format!("{households}户{people}人")
}

/// A rate as a percentage with one decimal, rounded half away from zero with integer
/// arithmetic: 855 / 1000 → "85.5%". A zero denominator gives "—" (no rate exists).
pub fn format_rate(numerator: i64, denominator: i64) -> String {
    if denominator == 0 {
        return "—".to_string();
    }
    let n = i128::from(numerator) * 1000;
    let d = i128::from(denominator);
    let mut q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d.abs() {
        q += if (n < 0) == (d < 0) { 1 } else { -1 };
    }
    let sign = if q < 0 { "-" } else { "" };
    let abs = q.unsigned_abs();
    format!("{sign}{}.{}%", abs / 10, abs % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trips_through_display() {
        for spec in KNOWN_SPECS.split('、') {
            let f = parse_format(spec).unwrap_or(NumberFormat::Exact);
            assert_eq!(f.to_string(), spec);
        }
    }

    #[test]
    fn powers_of_ten() {
        assert!(is_power_of_ten(1));
        assert!(is_power_of_ten(1000));
        assert!(!is_power_of_ten(50));
        assert!(!is_power_of_ten(0));
    }
}

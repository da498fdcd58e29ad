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
//! - The one rounding rule: a figure written with 余 or 以上 is rounded down (toward zero),
//!   so it never overstates, and 余 is written only when something was actually dropped
//!   (exactly 260 with `approx:10` is "260"); a figure written plainly at fewer places than
//!   it has (`wan`, `wan:k`, [`format_decimal`]) is rounded to the nearest, halves away
//!   from zero, as a reader takes it: 16,283.38元 with `wan:0` is "2", with `wan:1` "1.6",
//!   never "1" — cutting would understate by up to a whole unit with nothing to say so.
//! - Below 1万元 the 万 forms with 余 write 元 rounded down to 100 ("8400余"), to 10 below
//!   1000元, whole 元 below 100元; `wan:2` writes a small sum as "0.85" (万元).
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
    /// `wan` (money): 万元 with at most two decimals, trailing zeros dropped, rounded to
    /// the nearest 0.01万元 (100元): 30540000分 → "30.54", 30545000分 → "30.55".
    Wan,
    /// `wan:k` (money, k = 0, 1 or 2): 万元 rounded to k decimals, trailing zeros dropped:
    /// 1_628_338分 with `wan:1` → "1.6", with `wan:0` → "2".
    WanPlaces { places: u8 },
    /// `wan_approx` (money): whole 万 rounded down, then 万余: 112.53万元 → "112万余".
    /// Below 1万元: 元 rounded down to 100 (to 10 below 1000元, to 1 below 100元), 余 if
    /// anything was dropped: 8462.50元 → "8400余".
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
                | NumberFormat::WanPlaces { .. }
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
            NumberFormat::WanPlaces { places } => write!(f, "wan:{places}"),
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
wan、wan:1、wan_approx、wan_approx_ten、wan_atleast、yuan、yuan_int";

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
        "wan" if arg.is_none() => Some(NumberFormat::Wan),
        "wan_approx" => Some(NumberFormat::WanApprox),
        "wan_approx_ten" => Some(NumberFormat::WanApproxTen),
        "wan_atleast" => Some(NumberFormat::WanAtLeast),
        "yuan" => Some(NumberFormat::Yuan),
        "yuan_int" => Some(NumberFormat::YuanInt),
        "wan" if arg.is_some() => {
            let places = arg.and_then(|a| a.parse::<u8>().ok()).filter(|k| *k <= 2);
            return places.map(|places| NumberFormat::WanPlaces { places }).ok_or_else(|| format!("数字格式「{spec}」：wan:k 的 k 应为 0、1 或 2"));
        }
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
        NumberFormat::Wan => wan(value, 2),
        NumberFormat::WanPlaces { places } => wan(value, *places),
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

/// 万元 rounded to `places` decimals (0–2), trailing zeros dropped.
fn wan(fen: i64, places: u8) -> String {
    format_decimal(fen, 6, places)
}

/// `value` divided by rounding half away from zero to a multiple of `unit` (> 0), in units.
fn round_to(value: i64, unit: i64) -> i64 {
    let (q, r) = (value / unit, value % unit);
    if 2 * r.abs() >= unit {
        q + value.signum()
    } else {
        q
    }
}

/// A value held as an integer at `scale` decimals (亩 at scale 2: 1234 → 12.34; 万元 held in
/// 分 is scale 6), written with `places` decimals (at most `scale`) rounded to the nearest,
/// halves away from zero, trailing zeros dropped: (1234, 2, 1) → "12.3", (1250, 2, 0) → "13".
pub fn format_decimal(value: i64, scale: u8, places: u8) -> String {
    let places = places.min(scale);
    let unit = 10_i64.pow(u32::from(scale - places));
    let n = round_to(value, unit);
    let p = 10_u64.pow(u32::from(places));
    let abs = n.unsigned_abs();
    let sign = if n < 0 { "-" } else { "" };
    let (whole, frac) = (abs / p, abs % p);
    if places == 0 || frac == 0 {
        return format!("{sign}{whole}");
    }
    let text = format!("{sign}{whole}.{frac:0w$}", w = usize::from(places));
    text.trim_end_matches('0').to_string()
}

fn wan_approx(fen: i64) -> String {
    if fen < 0 {
        return yuan_plain(fen);
    }
    if fen < FEN_PER_WAN {
        // 8462.50元 is "8400余元" as people write it, not "8462余元".
        let unit = match fen {
            f if f >= 1000 * FEN_PER_YUAN => 100 * FEN_PER_YUAN,
            f if f >= 100 * FEN_PER_YUAN => 10 * FEN_PER_YUAN,
            _ => FEN_PER_YUAN,
        };
        let (floored, dropped) = floor_to(fen, unit);
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

    fn money(fen: i64, spec: &str) -> String {
        format_number(fen, &parse_format(spec).unwrap_or(NumberFormat::Exact))
    }

    /// The cases issue 16 names, and each magnitude from 分 to 亿元.
    #[test]
    fn plain_money_is_rounded_and_money_with_yu_is_floored() {
        assert_eq!(money(1_628_338, "wan:0"), "2");
        assert_eq!(money(1_628_338, "wan:1"), "1.6");
        assert_eq!(money(689_386, "wan:1"), "0.7");
        assert_eq!(money(846_250, "wan:2"), "0.85");
        assert_eq!(money(846_250, "wan_approx"), "8400余");
        assert_eq!(money(98_760, "wan_approx"), "980余");
        assert_eq!(money(5_050, "wan_approx"), "50余");
        assert_eq!(money(530_000, "wan_approx"), "5300");
        assert_eq!(money(30_540_000, "wan"), "30.54");
        assert_eq!(money(30_545_000, "wan"), "30.55");
        assert_eq!(money(30_544_999, "wan"), "30.54");
        assert_eq!(money(-30_545_000, "wan"), "-30.55");
        assert_eq!(money(112_530_000, "wan_approx"), "112万余");
        assert_eq!(money(1_000_000, "wan:0"), "1");
        assert_eq!(money(1_500_000, "wan:0"), "2");
        assert_eq!(money(1_499_999, "wan:0"), "1");
        assert_eq!(money(0, "wan:2"), "0");
        assert_eq!(money(49, "wan:2"), "0");
        for (fen, wan0, wan2) in [(1, "0", "0"), (99_999_999, "100", "100"), (12_345_678_901, "12346", "12345.68"), (i64::MAX / 4, "2305843009214", "2305843009213.69")] {
            assert_eq!((money(fen, "wan:0").as_str(), money(fen, "wan:2").as_str()), (wan0, wan2), "{fen} 分");
        }
    }

    #[test]
    fn decimals_are_rounded_halves_away_from_zero() {
        assert_eq!(format_decimal(1234, 2, 1), "12.3");
        assert_eq!(format_decimal(1235, 2, 1), "12.4");
        assert_eq!(format_decimal(1250, 2, 0), "13");
        assert_eq!(format_decimal(-1250, 2, 0), "-13");
        assert_eq!(format_decimal(1200, 2, 2), "12");
        assert_eq!(format_decimal(1205, 2, 5), "12.05");
        assert_eq!(format_decimal(7, 0, 2), "7");
    }

    proptest::proptest! {
        /// A plainly written 万元 figure is never further than half its last place from the
        /// value; one written with 余 never above it.
        #[test]
        fn rounding_errs_by_at_most_half_a_place(fen in 0i64..1_000_000_000_000, places in 0u8..=2) {
            let text = money(fen, &format!("wan:{places}"));
            let shown: f64 = text.parse().unwrap_or(f64::NAN);
            let exact = fen as f64 / 1_000_000.0;
            let half = 0.5 / 10f64.powi(i32::from(places));
            proptest::prop_assert!((shown - exact).abs() <= half + 1e-9, "{fen} → {text}");
            let floored = money(fen, "wan_approx");
            let digits: String = floored.chars().take_while(char::is_ascii_digit).collect();
            let n: f64 = digits.parse().unwrap_or(0.0);
            let value = if floored.contains('万') { n * 10_000.0 } else { n };
            proptest::prop_assert!(value <= fen as f64 / 100.0, "{fen} → {floored}");
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

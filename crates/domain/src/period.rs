//! Reporting periods (a year, a quarter, a month, a date range) and the many ways people
//! write a date or a month in a spreadsheet.

use chrono::{Datelike, Duration, NaiveDate};

use crate::money::halfwidth;

/// Years outside this range are typos in a township ledger (or Excel serials read as text).
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2999;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("日期格式不对：{0}；可写作 2023-01-05、2023/1/5 或 2023年1月5日")]
    BadDate(String),
    #[error("日期不存在：{0}（该月没有这一天）")]
    NoSuchDate(String),
    #[error("月份格式不对：{0}；可写作 2023-07、2023/7 或 2023年7月")]
    BadMonth(String),
    #[error("期间格式不对：{0}；可写作 2023、2023Q3、2023-07 或 2023-01-01..2023-06-30")]
    BadPeriod(String),
    #[error("年份 {0} 超出范围（{MIN_YEAR}–{MAX_YEAR}）")]
    YearOutOfRange(i32),
    #[error("期间的开始日期 {start} 晚于结束日期 {end}")]
    Reversed { start: NaiveDate, end: NaiveDate },
}

/// A span of whole days, both ends included, with the label a report prints for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    pub start: NaiveDate,
    /// Inclusive.
    pub end: NaiveDate,
    pub label: String,
}

impl Period {
    /// The calendar year `y`, labelled "2023年". Years chrono cannot represent (beyond
    /// ±262,000) are clamped to its limits rather than panicking.
    pub fn year(y: i32) -> Period {
        Period {
            start: NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(NaiveDate::MIN),
            end: NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(NaiveDate::MAX),
            label: format!("{y}年"),
        }
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }

    /// The same span a year earlier (2024年2月 → 2023年2月, its 29th becoming the 28th),
    /// labelled with the years moved back: what "同比" compares with.
    pub fn year_before(&self) -> Period {
        let back = |d: NaiveDate| d.checked_sub_months(chrono::Months::new(12)).unwrap_or(NaiveDate::MIN);
        let (start, mut end) = (back(self.start), back(self.end));
        // A span ending on the last day of February ends on the last day of February.
        if self.end.succ_opt().is_some_and(|n| n.day() == 1) {
            end = end.with_day(1).and_then(|d| d.checked_add_months(chrono::Months::new(1))).and_then(|d| d.pred_opt()).unwrap_or(end);
        }
        let label = [self.start.year(), self.end.year()]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .rev()
            .fold(self.label.clone(), |l, y| l.replace(&format!("{y}年"), &format!("{}年", y - 1)));
        Period { start, end, label }
    }

    /// Whether something in force from `start` to `end` (inclusive; `None` = still in
    /// force) was in force on at least one day of the period. A span that ends before it
    /// starts is bad data and in force on no day.
    pub fn overlaps(&self, start: NaiveDate, end: Option<NaiveDate>) -> bool {
        match end {
            Some(e) => start <= e && start <= self.end && e >= self.start,
            None => start <= self.end,
        }
    }

    /// Every (year, month) the period touches, in order.
    pub fn months(&self) -> Vec<(i32, u32)> {
        let mut out = Vec::new();
        if self.start > self.end {
            return out;
        }
        let (mut y, mut m) = (self.start.year(), self.start.month());
        let last = (self.end.year(), self.end.month());
        while (y, m) <= last {
            out.push((y, m));
            if m == 12 {
                y += 1;
                m = 1;
            } else {
                m += 1;
            }
        }
        out
    }
}

fn check_year(y: i32) -> Result<i32, PeriodError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&y) {
        Ok(y)
    } else {
        Err(PeriodError::YearOutOfRange(y))
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses `len`-limited digits; `None` if empty, too long or not all digits.
fn num<T: std::str::FromStr>(s: &str, max_len: usize) -> Option<T> {
    if all_digits(s) && s.len() <= max_len {
        s.parse().ok()
    } else {
        None
    }
}

fn normalise(s: &str) -> String {
    halfwidth(s).trim().to_string()
}

const QUARTER_NAMES: [&str; 4] = ["一", "二", "三", "四"];

/// Parses "2023", "2023年", "2023Q3"/"2023q3", a month in any form [`parse_month`] reads,
/// or a date range "2023-01-01..2023-06-30" (also with "至" or "~").
pub fn parse_period(s: &str) -> Result<Period, PeriodError> {
    let text = normalise(s);
    let bad = || PeriodError::BadPeriod(text.clone());
    for sep in ["..", "至", "~"] {
        if let Some((a, b)) = text.split_once(sep) {
            let start = parse_date_lenient(a)?;
            let end = parse_date_lenient(b)?;
            if start > end {
                return Err(PeriodError::Reversed { start, end });
            }
            let label = format!("{}至{}", start.format("%Y-%m-%d"), end.format("%Y-%m-%d"));
            return Ok(Period { start, end, label });
        }
    }
    let year_text = text.strip_suffix('年').unwrap_or(&text);
    if year_text.len() == 4 {
        let y = num::<i32>(year_text, 4).ok_or_else(bad)?;
        return Ok(Period::year(check_year(y)?));
    }
    if let Some((y, q)) = text.split_once(['Q', 'q']) {
        let y = num::<i32>(y.strip_suffix('-').unwrap_or(y), 4).ok_or_else(bad)?;
        let y = check_year(y)?;
        let q = num::<u32>(q, 1).filter(|q| (1..=4).contains(q)).ok_or_else(bad)?;
        let start = NaiveDate::from_ymd_opt(y, 3 * q - 2, 1).ok_or_else(bad)?;
        let end = month_end(y, 3 * q).ok_or_else(bad)?;
        let label = format!("{y}年第{}季度", QUARTER_NAMES[(q - 1) as usize]);
        return Ok(Period { start, end, label });
    }
    let (y, m) = parse_month(&text).map_err(|e| match e {
        PeriodError::YearOutOfRange(_) => e,
        _ => bad(),
    })?;
    let start = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
    let end = month_end(y, m).ok_or_else(bad)?;
    Ok(Period { start, end, label: format!("{y}年{m}月") })
}

fn month_end(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

/// Splits "2023-01-05" / "2023/1/5" / "2023.1.5" / "2023年1月5日" into three digit strings.
fn split_ymd(s: &str) -> Option<(&str, &str, &str)> {
    if let Some((y, rest)) = s.split_once('年') {
        let (m, rest) = rest.split_once('月')?;
        let d = rest.strip_suffix(['日', '号']).unwrap_or(rest);
        return Some((y, m, d));
    }
    for sep in ['-', '/', '.'] {
        let parts: Vec<&str> = s.split(sep).collect();
        if let [y, m, d] = parts[..] {
            return Some((y, m, d));
        }
    }
    if s.len() == 8 && all_digits(s) {
        return Some((&s[..4], &s[4..6], &s[6..]));
    }
    None
}

/// Drops a trailing time of day ("2023-01-05 00:00:00", "2023/1/5 8:30", "2023-01-05T00:00"),
/// as CSV exports of date cells carry one.
fn strip_time(s: &str) -> &str {
    let Some(i) = s.find([' ', 'T']) else { return s };
    let time = s[i + 1..].trim();
    let looks_like_time =
        time.contains(':') && time.bytes().all(|b| b.is_ascii_digit() || b == b':' || b == b'.');
    if looks_like_time {
        s[..i].trim_end()
    } else {
        s
    }
}

/// Reads a date written in any of the usual ways: 2023-01-05, 2023-1-5, 2023/1/5, 2023.1.5,
/// 2023年1月5日, 20230105, with surrounding spaces, full-width digits or a trailing time.
pub fn parse_date_lenient(s: &str) -> Result<NaiveDate, PeriodError> {
    let text = normalise(s);
    let bad = || PeriodError::BadDate(text.clone());
    let date_part = strip_time(&text);
    let compact: String = date_part.chars().filter(|c| !c.is_whitespace()).collect();
    let (y, m, d) = split_ymd(&compact).ok_or_else(bad)?;
    if y.len() != 4 {
        return Err(bad());
    }
    let y = check_year(num::<i32>(y, 4).ok_or_else(bad)?)?;
    let m = num::<u32>(m, 2).ok_or_else(bad)?;
    let d = num::<u32>(d, 2).ok_or_else(bad)?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| PeriodError::NoSuchDate(text.clone()))
}

/// The date of an Excel serial in the 1900 date system, or `None` for serials that name
/// no real date: below 1, the fictitious 1900-02-29 (serial 60, kept by Excel for Lotus
/// 1-2-3 compatibility), beyond 9999-12-31, or not finite. A time fraction is dropped.
pub fn date_from_excel_serial(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    if days == 60 {
        return None;
    }
    // Serials after the fake leap day are shifted by one, hence the earlier epoch.
    let epoch = if days < 60 {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    epoch.checked_add_signed(Duration::days(days))
}

/// Reads a month: "2023-07", "2023-7", "2023/07", "2023.7", "2023年7月", "202307".
pub fn parse_month(s: &str) -> Result<(i32, u32), PeriodError> {
    match parse_month_only(s) {
        Ok(ym) => Ok(ym),
        // A whole date ("2024-02-01", "2024/2/1", "2024年2月1日") names its month: a sheet
        // exported from a system often writes the first of the month.
        Err(e) => parse_date_lenient(s).map(|d| (d.year(), d.month())).map_err(|_| e),
    }
}

fn parse_month_only(s: &str) -> Result<(i32, u32), PeriodError> {
    let text = normalise(s);
    let bad = || PeriodError::BadMonth(text.clone());
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (y, m) = if let Some((y, rest)) = compact.split_once('年') {
        (y, rest.strip_suffix('月').unwrap_or(rest))
    } else if let Some((y, m)) = compact.split_once(['-', '/', '.']) {
        (y, m)
    } else if compact.len() == 6 && all_digits(&compact) {
        compact.split_at(4)
    } else {
        return Err(bad());
    };
    if y.len() != 4 {
        return Err(bad());
    }
    let y = check_year(num::<i32>(y, 4).ok_or_else(bad)?)?;
    let m = num::<u32>(m, 2).filter(|m| (1..=12).contains(m)).ok_or_else(bad)?;
    Ok((y, m))
}

/// "2023-07".
pub fn format_month(y: i32, m: u32) -> String {
    format!("{y:04}-{m:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_before_is_the_same_span_a_year_earlier() {
        let p = parse_period("2023Q4").expect("quarter");
        let b = p.year_before();
        assert_eq!((b.start.to_string(), b.end.to_string(), b.label.as_str()), ("2022-10-01".into(), "2022-12-31".into(), "2022年第四季度"));
        let feb = parse_period("2025-02").expect("month").year_before();
        assert_eq!((feb.start.to_string(), feb.end.to_string()), ("2024-02-01".into(), "2024-02-29".into()));
        let leap = parse_period("2024-02").expect("month").year_before();
        assert_eq!(leap.end.to_string(), "2023-02-28");
        assert_eq!(Period::year(2023).year_before(), Period::year(2022));
    }

    #[test]
    fn time_suffix_is_dropped() {
        let d = NaiveDate::from_ymd_opt(2023, 1, 5);
        assert_eq!(parse_date_lenient("2023-01-05 00:00:00").ok(), d);
        assert_eq!(parse_date_lenient("2023/1/5 8:30").ok(), d);
        assert!(parse_date_lenient("2023-01-05 foo").is_err());
    }

    #[test]
    fn months_in_every_form() {
        for t in ["2024-02", "2024/2", "2024年2月", "2024年02月", "202402", "2024.2", "2024-02-01", "2024/2/1", "2024年2月1日", "2024-02-01 00:00:00", " 2024 年 2 月 "] {
            assert_eq!(parse_month(t).ok(), Some((2024, 2)), "{t}");
        }
        for t in ["2024-13", "2024-02-30", "24-02", "二月", "2024"] {
            assert!(parse_month(t).is_err(), "{t}");
        }
    }

    #[test]
    fn month_end_of_february() {
        assert_eq!(month_end(2024, 2), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(month_end(2023, 12), NaiveDate::from_ymd_opt(2023, 12, 31));
    }
}

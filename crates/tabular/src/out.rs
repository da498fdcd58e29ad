//! What callers hand to the writers, and the text forms shared by them.

use chrono::NaiveDate;

/// A value to write. Money and scaled quantities stay integers until the
/// very last step, so no rounding creeps in before the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutCell {
    Empty,
    Text(String),
    Int(i64),
    /// Amount in fen (分).
    Money(i64),
    /// `raw / 10^scale`, e.g. 亩 with two decimals: `Scaled { raw: 1250, scale: 2 }` is 12.50.
    Scaled {
        raw: i64,
        scale: u8,
    },
    Date(NaiveDate),
    Bool(bool),
}

/// How a column is presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutKind {
    Text,
    /// ID numbers, bank accounts, phone numbers: digits that must stay text
    /// so Excel never shows 4.31224E+17.
    IdText,
    Int,
    Money,
    Scaled(u8),
    Date,
    Bool,
    /// One of a fixed list; templates offer it as a drop-down.
    Enum(Vec<String>),
}

impl OutKind {
    /// Columns whose cells get the "@" text format.
    pub(crate) fn is_textual(&self) -> bool {
        matches!(self, OutKind::Text | OutKind::IdText | OutKind::Enum(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutColumn {
    pub header: String,
    pub kind: OutKind,
    /// Filling instructions shown in templates, e.g. "必填；18 位，末位可为 X".
    pub note: Option<String>,
}

impl OutColumn {
    pub fn new(header: &str, kind: OutKind) -> Self {
        OutColumn {
            header: header.to_string(),
            kind,
            note: None,
        }
    }

    pub fn with_note(mut self, note: &str) -> Self {
        self.note = Some(note.to_string());
        self
    }
}

/// "1234.50" for 123450 fen; exact, no floating point.
pub fn money_text(fen: i64) -> String {
    scaled_text(fen, 2)
}

/// `raw / 10^scale` as exact decimal text, e.g. (-5, 2) → "-0.05".
pub fn scaled_text(raw: i64, scale: u8) -> String {
    let sign = if raw < 0 { "-" } else { "" };
    let digits = raw.unsigned_abs().to_string();
    let scale = usize::from(scale);
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// The text Excel will show for a cell, used to size columns.
pub(crate) fn shown_text(cell: &OutCell) -> String {
    match cell {
        OutCell::Empty => String::new(),
        OutCell::Text(s) => s.clone(),
        OutCell::Int(i) => i.to_string(),
        OutCell::Money(f) => group_thousands(&money_text(*f)),
        OutCell::Scaled { raw, scale } => group_thousands(&scaled_text(*raw, *scale)),
        OutCell::Date(_) => "2000-01-01".to_string(),
        OutCell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
    }
}

fn group_thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_decimals() {
        assert_eq!(money_text(123450), "1234.50");
        assert_eq!(money_text(-50), "-0.50");
        assert_eq!(money_text(0), "0.00");
        assert_eq!(money_text(i64::MIN), "-92233720368547758.08");
        assert_eq!(scaled_text(1250, 2), "12.50");
        assert_eq!(scaled_text(7, 3), "0.007");
        assert_eq!(scaled_text(42, 0), "42");
    }

    #[test]
    fn grouping() {
        assert_eq!(shown_text(&OutCell::Money(123456789)), "1,234,567.89");
        assert_eq!(shown_text(&OutCell::Money(-100000)), "-1,000.00");
        assert_eq!(shown_text(&OutCell::Int(5)), "5");
    }
}

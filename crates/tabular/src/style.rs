//! Cell formats and value writing shared by the export writer and the
//! template writer.

use std::borrow::Cow;

use chrono::Datelike;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Worksheet, XlsxError};

use crate::limits::MAX_CELL_CHARS;
use crate::out::{OutCell, OutKind};
use crate::text::display_width;

/// Excel shows about 15 significant digits; more decimals are noise.
const MAX_DECIMALS: u8 = 15;
const MIN_WIDTH: f64 = 6.0;
const MAX_WIDTH: f64 = 50.0;
/// Room for the cell padding and the bold header.
const WIDTH_PADDING: f64 = 2.0;

pub(crate) struct Styles {
    pub title: Format,
    pub header: Format,
    pub note: Format,
    pub text: Format,
    pub date: Format,
    pub money: Format,
    scaled: Vec<Format>,
}

impl Styles {
    pub(crate) fn new() -> Self {
        let scaled = (0..=MAX_DECIMALS)
            .map(|d| {
                let pattern = if d == 0 {
                    "#,##0".to_string()
                } else {
                    format!("#,##0.{}", "0".repeat(usize::from(d)))
                };
                Format::new().set_num_format(pattern)
            })
            .collect();
        Styles {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_border(FormatBorder::Thin)
                .set_background_color(0xD9E1F2),
            note: Format::new()
                .set_italic()
                .set_font_size(9)
                .set_font_color(0x7F7F7F)
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_num_format_index(49),
            // Built-in format 49 is "@" (text), the id Excel itself writes.
            text: Format::new().set_num_format_index(49),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            money: Format::new().set_num_format("#,##0.00"),
            scaled,
        }
    }

    pub(crate) fn scaled(&self, decimals: u8) -> &Format {
        let i = usize::from(decimals.min(MAX_DECIMALS));
        self.scaled.get(i).unwrap_or(&self.money)
    }

    /// The format empty template cells carry so that what a clerk types
    /// there is stored the right way (IDs as text above all).
    pub(crate) fn for_kind(&self, kind: &OutKind) -> Option<&Format> {
        match kind {
            OutKind::Text | OutKind::IdText | OutKind::Enum(_) => Some(&self.text),
            OutKind::Money => Some(&self.money),
            OutKind::Scaled(d) => Some(self.scaled(*d)),
            OutKind::Date => Some(&self.date),
            OutKind::Int | OutKind::Bool => None,
        }
    }
}

pub(crate) fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    kind: &OutKind,
    cell: &OutCell,
    st: &Styles,
) -> Result<(), XlsxError> {
    match cell {
        OutCell::Empty => {
            if kind.is_textual() {
                ws.write_blank(row, col, &st.text)?;
            }
        }
        OutCell::Text(s) if kind.is_textual() => {
            ws.write_string_with_format(row, col, fit_cell(s), &st.text)?;
        }
        OutCell::Text(s) => {
            ws.write_string(row, col, fit_cell(s))?;
        }
        // An integer in a text column is an identifier: as a number Excel
        // would round it past 15 digits.
        OutCell::Int(i) if kind.is_textual() => {
            ws.write_string_with_format(row, col, i.to_string(), &st.text)?;
        }
        OutCell::Int(i) => {
            ws.write_number(row, col, *i as f64)?;
        }
        OutCell::Money(fen) => {
            ws.write_number_with_format(row, col, *fen as f64 / 100.0, &st.money)?;
        }
        OutCell::Scaled { raw, scale } => {
            let decimals = match kind {
                OutKind::Scaled(d) => *d,
                _ => *scale,
            };
            let value = *raw as f64 / 10f64.powi(i32::from(*scale));
            ws.write_number_with_format(row, col, value, st.scaled(decimals))?;
        }
        OutCell::Date(d) => match excel_date(*d) {
            Some(dt) => {
                ws.write_datetime_with_format(row, col, &dt, &st.date)?;
            }
            // Excel cannot hold dates before 1900; show the text rather than
            // lose the value.
            None => {
                ws.write_string(row, col, d.format("%Y-%m-%d").to_string())?;
            }
        },
        OutCell::Bool(b) => {
            ws.write_boolean(row, col, *b)?;
        }
    }
    Ok(())
}

/// Text cut to what an Excel cell holds, saying so at its end: an error list that quotes a
/// rejected value of 100,000 characters must still be written, not fail on it.
pub(crate) fn fit_cell(s: &str) -> Cow<'_, str> {
    // A character takes at least a byte: only a long text needs counting.
    if s.len() <= MAX_CELL_CHARS {
        return Cow::Borrowed(s);
    }
    let total = s.chars().count();
    if total <= MAX_CELL_CHARS {
        return Cow::Borrowed(s);
    }
    let mark = format!("……（共 {total} 个字符，超过 Excel 单元格上限，已截断）");
    let keep = MAX_CELL_CHARS.saturating_sub(mark.chars().count());
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(&mark);
    Cow::Owned(out)
}

fn excel_date(d: chrono::NaiveDate) -> Option<ExcelDateTime> {
    let year = u16::try_from(d.year()).ok()?;
    let month = u8::try_from(d.month()).ok()?;
    let day = u8::try_from(d.day()).ok()?;
    ExcelDateTime::from_ymd(year, month, day).ok()
}

/// Column width in Excel units for the widest text seen.
pub(crate) fn column_width(widest: f64) -> f64 {
    (widest + WIDTH_PADDING).clamp(MIN_WIDTH, MAX_WIDTH)
}

/// Widest line of a possibly multi-line text.
pub(crate) fn text_width(s: &str) -> f64 {
    s.lines().map(display_width).fold(0.0, f64::max)
}

/// Excel refuses sheet names over 31 characters or with []:*?/\ in them.
pub(crate) fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let cleaned: String = cleaned.trim_matches('\'').chars().take(31).collect();
    if cleaned.trim().is_empty() {
        "Sheet1".to_string()
    } else {
        cleaned
    }
}

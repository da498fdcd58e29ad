//! CSV export in UTF-8 with a BOM: without the BOM, Excel and WPS on Chinese
//! Windows read the file as GBK and show mojibake.
//!
//! Text that a spreadsheet would take for a formula (a cell starting with `=`, `+`, `-`,
//! `@`, a tab or a carriage return: `=HYPERLINK(…)`, `@SUM(…)`, `-2+3+cmd|…`) is written
//! with an apostrophe in front, as OWASP advises against CSV injection ([`csv_inert`]), so
//! opening an export runs nothing; numbers stay numbers (they are never text cells, and a
//! text that is a plain number such as `-12.5` is left alone). Reading a CSV takes that one
//! apostrophe off again ([`csv_revive`]), so an export re-imports as the same text.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::TabularError;
use crate::out::{money_text, scaled_text, OutCell, OutColumn, OutKind};

pub struct CsvOut {
    writer: csv::Writer<BufWriter<File>>,
    kinds: Vec<OutKind>,
    excel_text_ids: bool,
    fields: Vec<String>,
}

impl CsvOut {
    /// Creates the file and writes the header line.
    pub fn create(path: &Path, columns: &[OutColumn]) -> Result<Self, TabularError> {
        let mut file = BufWriter::new(File::create(path)?);
        file.write_all(b"\xEF\xBB\xBF")?;
        let mut writer = csv::WriterBuilder::new().flexible(false).from_writer(file);
        writer.write_record(columns.iter().map(|c| c.header.as_str()))?;
        Ok(CsvOut {
            writer,
            kinds: columns.iter().map(|c| c.kind.clone()).collect(),
            excel_text_ids: false,
            fields: Vec::with_capacity(columns.len()),
        })
    }

    /// Writes ID columns as `="…"` so that Excel, opening the CSV directly,
    /// keeps all 18 digits instead of showing 4.31224E+17. Other programs
    /// see the `="…"` literally, so this is off unless asked for; this
    /// crate's own reader understands it.
    pub fn set_excel_text_ids(&mut self, on: bool) {
        self.excel_text_ids = on;
    }

    /// Appends one line; missing trailing cells are written empty.
    pub fn write_row(&mut self, cells: &[OutCell]) -> Result<(), TabularError> {
        if cells.len() > self.kinds.len() {
            return Err(TabularError::InvalidData(format!(
                "这一行有 {} 个值，但表格只有 {} 列",
                cells.len(),
                self.kinds.len()
            )));
        }
        self.fields.clear();
        for (i, kind) in self.kinds.iter().enumerate() {
            let cell = cells.get(i);
            let text = cell.map(cell_text).unwrap_or_default();
            // Only digits and letters go inside ="…": nothing can close the quotes.
            let guard = self.excel_text_ids
                && *kind == OutKind::IdText
                && !text.is_empty()
                && text.chars().all(|c| c.is_ascii_alphanumeric());
            self.fields.push(if guard {
                format!("=\"{text}\"")
            } else if matches!(cell, Some(OutCell::Text(_))) {
                csv_inert(&text).into_owned()
            } else {
                text
            });
        }
        self.writer.write_record(&self.fields)?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<(), TabularError> {
        self.writer.flush()?;
        Ok(())
    }
}

fn cell_text(cell: &OutCell) -> String {
    match cell {
        OutCell::Empty => String::new(),
        OutCell::Text(s) => s.clone(),
        OutCell::Int(i) => i.to_string(),
        OutCell::Money(fen) => money_text(*fen),
        OutCell::Scaled { raw, scale } => scaled_text(*raw, *scale),
        OutCell::Date(d) => d.format("%Y-%m-%d").to_string(),
        OutCell::Bool(b) => if *b { "是" } else { "否" }.to_string(),
    }
}

/// What makes a spreadsheet read a CSV cell as a formula (or, for tab and carriage return, a
/// cell it splits or trims into one).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A plain decimal number (`-12`, `-12.50`, `-1,250.00`): a spreadsheet reads it as the
/// number, nothing more, so it needs no apostrophe (negative amounts must stay numbers).
fn plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    int.starts_with(|c: char| c.is_ascii_digit())
        && int.bytes().all(|b| b.is_ascii_digit() || b == b',')
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && frac.is_empty())
}

/// A text cell made inert for a CSV: an apostrophe in front of text a spreadsheet would run
/// as a formula — also of text that already starts with apostrophes before such a character,
/// so that [`csv_revive`] gives back exactly the text written.
pub fn csv_inert(text: &str) -> Cow<'_, str> {
    let after = text.trim_start_matches('\'');
    if after.starts_with(FORMULA_STARTS) && !plain_number(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text [`csv_inert`] was given: one apostrophe taken off a cell that starts with
/// apostrophes before a formula character (a CSV written by this program, or by another
/// that follows the same advice).
pub fn csv_revive(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_STARTS) => rest,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_get_an_apostrophe_and_lose_it_again() {
        for (text, written) in [
            ("=HYPERLINK(\"http://evil.example\",\"点我\")", "'=HYPERLINK(\"http://evil.example\",\"点我\")"),
            ("+1+1", "'+1+1"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("'=1", "''=1"),
            ("''+x", "'''+x"),
        ] {
            assert_eq!(csv_inert(text), written, "{text:?}");
            assert_eq!(csv_revive(written), text, "{written:?}");
        }
        for text in ["张三", "-12", "-12.50", "-1,250.00", "+3", "0.5", "1-2", "a=b", "'引号", "'", "", "2023-01-05"] {
            assert_eq!(csv_inert(text), text, "{text:?} needs nothing");
            assert_eq!(csv_revive(text), text, "{text:?} is read as it is");
        }
        assert_eq!(csv_inert("-12."), "'-12.", "not a plain number");
    }
}

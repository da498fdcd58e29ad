//! Plain data passed between the readers and their callers.

/// One cell as the file stored it. Nothing is interpreted beyond the file's
/// own type: an ID number typed as a number arrives as `Float`, a money
/// amount as whatever the clerk typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Excel serial day number, always on the 1900 date system (files saved
    /// with the 1904 system are shifted so callers need not know).
    DateTime(f64),
    /// Excel error value such as `#N/A` or `#DIV/0!`.
    Error(String),
}

impl Cell {
    /// Whitespace-only text counts as blank: sheets are full of cells where a
    /// clerk cleared a value with the space bar.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The text a person sees for header matching; dates and errors carry no
    /// header meaning.
    pub(crate) fn header_text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format_float(*f),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Empty | Cell::DateTime(_) | Cell::Error(_) => String::new(),
        }
    }
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// A column the caller expects: a key of its own choosing and the header
/// texts that mean it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    pub key: String,
    /// The label first, then aliases.
    pub labels: Vec<String>,
}

impl ColumnSpec {
    pub fn new(key: &str, labels: &[&str]) -> Self {
        ColumnSpec {
            key: key.to_string(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// What to call the column in a message to a clerk.
    pub fn display_label(&self) -> &str {
        self.labels.first().map(String::as_str).unwrap_or(&self.key)
    }
}

/// Which sheet column feeds which spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnBinding {
    /// Column letter as Excel shows it, e.g. "F".
    pub letter: String,
    /// Header text as found in the file (line breaks removed).
    pub header: String,
    /// Index into the specs passed to `read_sheet`.
    pub spec: usize,
}

/// What the reader found out about a sheet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SheetLayout {
    /// Row number as Excel shows it (1-based). For a two-row header this is
    /// the lower row, so data starts at `header_row + 1`.
    pub header_row: u32,
    pub columns: Vec<ColumnBinding>,
    /// (column letter, header text) of headed columns that match no spec.
    pub unknown_columns: Vec<(String, String)>,
    /// Keys of specs that no column matched.
    pub missing_specs: Vec<String>,
    /// A "必填/选填/说明" row right under the header (as in our own template
    /// and many county templates) is skipped; this is its Excel row number.
    pub notes_row: Option<u32>,
    pub rows_read: u64,
    pub empty_rows_skipped: u64,
    /// Of `empty_rows_skipped`, those above the last data row: blank (or only formatted) rows
    /// between records, worth a word; those below it are the sheet's tail.
    pub empty_rows_between: u64,
    /// Data rows the file says it has (an xlsx sheet's dimension), known before reading
    /// them: for a progress bar's ETA, never for counting.
    pub rows_hint: Option<u64>,
    /// Rows skipped as empty (and counted in `empty_rows_skipped`) although a column that
    /// feeds no spec held text: a 制表人/审核人 line or 填表说明 in column A, a 合计 under
    /// 序号 with nothing else. Excel row and that text (cut to `LEADING_TEXT_CHARS`), the
    /// first `SKIPPED_ROWS_NOTED`, so a caller can name them in its summary.
    pub skipped_text_rows: Vec<(u32, String)>,
    /// Values merged down a column below the header and filled into each row of the merged
    /// area (a month or a village written once for a block of rows).
    pub filled_down: Vec<FilledDown>,
    /// Texts above the header (a title such as "2024年2月低保金发放表", a 填报单位 line), at
    /// most `TITLE_TEXTS`, each cut to `LEADING_TEXT_CHARS`: a caller may find there what the
    /// rows leave out.
    pub title: Vec<String>,
}

/// Title texts kept in `SheetLayout::title`.
pub const TITLE_TEXTS: usize = 4;

/// A merged area whose value was filled into the rows below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledDown {
    /// Column letter and header as found in the file.
    pub letter: String,
    pub header: String,
    /// Excel rows (1-based) of the merged area, the value's row first.
    pub first_row: u32,
    pub last_row: u32,
}

/// Characters kept of the text that marks a row (`RawRow::leading_text`, `skipped_text_rows`).
pub const LEADING_TEXT_CHARS: usize = 64;
/// Skipped rows listed in `SheetLayout::skipped_text_rows`; the rest are only counted.
pub const SKIPPED_ROWS_NOTED: usize = 100;

/// One data row, its cells in spec order.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// Row number as Excel shows it (1-based), for messages like "第 12 行".
    pub excel_row: u32,
    /// Indexed by spec index; `Cell::Empty` where the spec has no column.
    pub cells: Vec<Cell>,
    /// The row's leftmost text when it sits in a column that feeds no spec and left of
    /// every bound cell holding anything: "合计" under 序号, "制表人：…" in an unheaded
    /// column A. Plain numbers (a 序号) are not kept. Cut to `LEADING_TEXT_CHARS`
    /// characters. The reader does not interpret it; a caller recognising 合计/小计 or
    /// signature rows looks here as well as in the cells.
    pub leading_text: Option<String>,
}

impl RawRow {
    /// Bytes of text the row holds, for callers that bound what they buffer by size.
    pub fn text_bytes(&self) -> usize {
        let cells: usize = self
            .cells
            .iter()
            .map(|c| match c {
                Cell::Text(s) | Cell::Error(s) => s.len(),
                _ => 0,
            })
            .sum();
        cells + self.leading_text.as_ref().map_or(0, String::len)
    }
}

/// A sheet as the workbook lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetInfo {
    pub name: String,
    /// Hidden in Excel (a lookup list or an old copy, usually not for import).
    pub hidden: bool,
}

/// The container actually found in the file, whatever its extension says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Xlsx,
    Xls,
    Csv,
}

/// Where a reader sends what it finds: the layout once the header is known, then each row.
/// Any `FnMut(RawRow) -> Result<(), E>` is a sink that ignores the layout.
pub trait RowSink<E> {
    /// Called once, before the first row, so a caller can name columns in its messages
    /// while the rows are still streaming.
    fn layout(&mut self, _layout: &SheetLayout) -> Result<(), E> {
        Ok(())
    }
    fn row(&mut self, row: RawRow) -> Result<(), E>;
}

impl<E, F: FnMut(RawRow) -> Result<(), E>> RowSink<E> for F {
    fn row(&mut self, row: RawRow) -> Result<(), E> {
        self(row)
    }
}

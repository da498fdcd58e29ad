//! Raw reading and writing of .xlsx, .xls and .csv files for Taizhang.
//!
//! This crate knows nothing about ledgers or the database: it finds the
//! header in the messy sheets county departments send, binds columns to the
//! caller's specs and streams rows out as cells exactly as the file stored
//! them. Interpreting money, dates and ID numbers is the caller's job.
//! Messages meant for clerks are in Chinese.

mod body;
mod csv_lines;
mod csv_out;
mod csv_read;
mod decode;
mod error;
mod excel;
mod guard;
mod header;
mod limits;
mod meter;
mod model;
mod out;
mod source;
mod style;
mod template;
mod text;
mod xlsx_out;
mod xls_guard;
mod xlsx_read;

pub use csv_out::{csv_inert, csv_revive, CsvOut};
pub use error::{ReadError, SheetLooks, TabularError};
pub use header::HEADER_SCAN_ROWS;
pub use limits::{
    Limits, MAX_CELL_CHARS, MAX_ENTRY_BYTES, MAX_ENTRY_RATIO, MAX_PART_BYTES, MAX_ROW_BYTES,
    MAX_ROW_CELLS, MAX_SHARED_STRINGS_BYTES, MAX_SHARED_STRING_CHARS, MAX_XLS_BYTES,
    RATIO_GRACE_BYTES,
};
pub use model::{
    Cell, ColumnBinding, ColumnSpec, FileFormat, FilledDown, RawRow, RowSink, SheetInfo,
    SheetLayout, LEADING_TEXT_CHARS, SKIPPED_ROWS_NOTED, TITLE_TEXTS,
};
pub use out::{money_text, scaled_text, OutCell, OutColumn, OutKind};
pub use source::{open, open_with, Source};
pub use template::{write_template, LIST_SHEET, TEMPLATE_LAST_ROW};
pub use text::{column_letter, normalize_header};
pub use xlsx_out::XlsxOut;

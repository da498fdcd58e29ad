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
mod model;
mod out;
mod source;
mod style;
mod template;
mod text;
mod xlsx_out;
mod xlsx_read;

pub use csv_out::CsvOut;
pub use error::{ReadError, TabularError};
pub use header::HEADER_SCAN_ROWS;
pub use model::{Cell, ColumnBinding, ColumnSpec, FileFormat, RawRow, RowSink, SheetLayout};
pub use out::{money_text, scaled_text, OutCell, OutColumn, OutKind};
pub use source::{open, Source};
pub use template::{write_template, LIST_SHEET, TEMPLATE_LAST_ROW};
pub use text::{column_letter, normalize_header};
pub use xlsx_out::XlsxOut;

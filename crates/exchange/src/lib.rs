//! Import and export of ledgers and the registry: Excel and CSV in and out, losing nothing.
//!
//! Every imported row goes through the same storage functions as a form save (validation,
//! references, scope, audit), the whole file in one transaction. Every row gets a verdict;
//! rejected rows name the sheet, the Excel row, the column and the reason in Chinese.

mod batch_rows;
mod columns;
mod convert;
mod export;
mod fixed;
mod import;
mod nondata;
mod progress;
mod registry;
mod states;
mod stream;

pub use columns::{recognised_headers, registry_headers};
pub use export::{export_ledger, export_records, ledger_columns, write_ledger_template, ExportQuery, Exported};
pub use registry::templates::{write_registry_template, RegistryTarget};
pub use import::{import_file, import_files, FileOutcome, ImportOptions, ImportReport, Rejection, SkippedRow, Verdict, VerdictIter, Verdicts, PERSONS_TARGET};
/// A text cell made inert for a CSV (an apostrophe before a formula), for CSVs written
/// elsewhere than through the exporter.
pub use taizhang_tabular::csv_inert;
/// What a file may make the reader hold (`ImportOptions::limits`).
pub use taizhang_tabular::Limits;

use taizhang_storage::StoreError;
use taizhang_tabular::TabularError;

/// Rows above which a progress bar is drawn (when stderr is a terminal).
pub const PROGRESS_THRESHOLD: u64 = 5_000;

/// What stops an import or export as a whole (row problems are verdicts, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Tabular(#[from] TabularError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = ExchangeError> = std::result::Result<T, E>;

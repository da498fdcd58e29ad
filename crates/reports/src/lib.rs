//! Indicators, data checks and report templates of Taizhang (台账).
//!
//! Indicators and checks are data (TOML in `catalogue/indicators/` and `catalogue/checks/`);
//! each indicator is evaluated with plain SQL on its ledger table, for any place and by
//! village. Report templates (minijinja, in `catalogue/templates/`) write the Markdown subset
//! of `taizhang_document::parse_markup`, every figure through a template function; the county's
//! Excel forms (`catalogue/forms/*.xlsx`) hold the same placeholders in their cells (`form`).

pub mod checks;
mod conjuncts;
pub mod error;
pub mod eval;
pub mod form;
pub mod indicator;
pub mod output;
pub mod render;
pub mod rollup;
pub mod settings;
pub mod signature;
pub mod warnings;
mod stored;

pub use error::{ReportError, Result};
pub use eval::{Context, Figure, VillageFigure};
pub use indicator::{IndicatorDef, Measure, TimeMode};

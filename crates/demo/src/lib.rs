//! The demo town of Taizhang (台账): 北斗溪镇, built deterministically from the dataset
//! description in `catalogue/demo/beidouxi/` so that its 2023 summary reproduces every figure
//! of the seed document, with a handful of planted anomalies for the data checks.
//!
//! The shape of the data is data: villages, households, cadres and organisations in
//! `00_town.toml`, one `[[batch]]` per group of ledger records in the other files. This crate
//! only knows how to read such a description and write it through the storage API.

pub mod build;
pub mod county;
pub mod error;
pub mod rng;
pub mod spec;

pub use build::{build, build_in, build_with, Built, Options, PersonGen};
pub use error::{DemoError, Result};
pub use spec::DemoSpec;

use taizhang_reports::{checks, indicator, render, Context};
use taizhang_storage::{ledgers, Db, Scope};

/// The built-in demo town's dataset name (`catalogue/demo/beidouxi/`).
pub const TOWN: &str = "beidouxi";

/// The year the demo's summary is about.
pub const YEAR: i32 = 2023;

/// Builds the built-in demo town into `db`.
pub async fn build_town(db: &Db) -> Result<Built> {
    let spec = DemoSpec::builtin(TOWN)?;
    build(db, &spec).await
}

/// The rendered annual summary of a year: the template's text and the parsed document.
pub struct Summary {
    pub markdown: String,
    pub html: String,
    pub document: taizhang_document::Document,
}

/// Renders the built-in annual summary of `year` for everything in the database.
pub async fn summary(db: &Db, year: i32) -> Result<Summary> {
    let mut tx = db.read().await?;
    let defs = ledgers::all(&mut tx).await?;
    let inds = indicator::builtin()?;
    let ctx = Context::year(year, Scope::all());
    let source = render::builtin_template("annual_summary")
        .ok_or_else(|| DemoError::Spec("没有内置模板 annual_summary".into()))?;
    let text = render::gather_for(&mut tx, &inds, &defs, &ctx, |data| render::render(source, data)).await?;
    let document = taizhang_document::parse_markup(&text);
    let markdown = taizhang_document::to_markdown(&document);
    let html = taizhang_document::to_html(
        &document,
        &taizhang_document::HtmlOptions {
            standalone: true,
            link_figures: true,
        },
    );
    Ok(Summary {
        markdown,
        html,
        document,
    })
}

/// Runs every built-in data check for `year`.
pub async fn run_checks(db: &Db, year: i32) -> Result<Vec<checks::Finding>> {
    let mut tx = db.read().await?;
    let defs = ledgers::all(&mut tx).await?;
    let list = checks::builtin()?;
    Ok(checks::run_all(&mut tx, &list, &defs, &Context::year(year, Scope::all())).await?)
}

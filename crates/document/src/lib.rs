//! Report documents of Taizhang (台账).
//!
//! A report template renders to a small Markdown subset ([`parse_markup`]); the parsed
//! [`Document`] is then rendered for reading ([`to_markdown`]), for the browser ([`to_html`]) and
//! for print in the official layout of GB/T 9704-2012 ([`to_docx`]).
//!
//! The model knows nothing of indicators or ledgers: a [`Span::Figure`] carries only the number
//! as written and an opaque link to the records behind it, so that every figure in a summary can
//! be explained without this crate knowing how.

mod docx;
mod html;
mod markdown;
mod markup;
mod xml;

pub use docx::{to_docx, to_docx_with, DocxError, OfficialStyle};
pub use html::{is_web_url, to_html, to_html_with, FigureLinks, HtmlOptions, STYLESHEET};
pub use markdown::to_markdown;
/// Escapes text for HTML and XML content and attributes (the one escaper of the workspace).
pub use xml::escape;
pub use markup::parse_markup;

use serde::Serialize;

/// A report: a title and the blocks below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// May be empty; renderers then leave the title out.
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Block {
    /// `level` follows the official numbering: 1 = 一、 (黑体), 2 = （一） (楷体),
    /// 3 = 1. (仿宋), 4 = （1） (仿宋). Levels outside 1..=4 are clamped when rendered.
    Heading {
        level: u8,
        spans: Vec<Span>,
    },
    Paragraph(Vec<Span>),
    /// The 落款 at the end: the issuing body (发文机关署名) and the date written (成文日期,
    /// "2024年1月5日"), set to the right as GB/T 9704 places them.
    Signature { issuer: String, date: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Span {
    Text(String),
    /// A number as written ("260余", "1330户4785人"); `target` links to the records behind it,
    /// e.g. "/explain/indicator_key?year=2023".
    Figure {
        text: String,
        target: String,
    },
}

impl Span {
    /// The words as a reader sees them; a figure's link is not part of its text.
    pub fn text(&self) -> &str {
        match self {
            Span::Text(text) | Span::Figure { text, .. } => text,
        }
    }
}

/// The words of a run of spans, with figures as plain text.
pub(crate) fn plain_text(spans: &[Span]) -> String {
    spans.iter().map(Span::text).collect()
}

/// Heading levels outside the official four are folded into them rather than rejected, because
/// the model is built by code outside this crate and a renderer has no way to report the error.
pub(crate) fn clamp_level(level: u8) -> u8 {
    level.clamp(1, 4)
}

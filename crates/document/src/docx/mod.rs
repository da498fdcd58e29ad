//! Word (.docx) in the official layout of GB/T 9704-2012.
//!
//! The WordprocessingML package is written directly rather than through `docx-rs`: docx-rs
//! numbers paragraphs from a process-wide counter (so two renders of one document differ, and
//! concurrent renders interleave), cannot write `w:mirrorMargins`, and adds parts a report has no
//! use for (comments, numbering, footnotes). The handful of parts a report needs are short, and
//! writing them ourselves keeps every byte fixed by the input alone.
//!
//! Formatting lives in `styles.xml` (one paragraph style per block kind) and the body only names
//! styles, so that an office worker who edits the file in Word finds the familiar 标题/正文
//! styles and can change a font once for the whole document.

mod body;
mod layout;
mod parts;
mod styles;

use std::io::{Cursor, Write};

use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::{Document, FigureLinks};

/// The fonts of the official layout, by name as Word and WPS know them.
///
/// They are settings because the standard fonts are commercial and not on every PC: 信创
/// machines often carry 方正仿宋_GBK and the like instead of 仿宋_GB2312.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OfficialStyle {
    /// The title, 二号.
    pub title_font: String,
    /// Body text and headings of levels 3 and 4 (1. and （1）), 三号.
    pub body_font: String,
    /// Headings of level 1 (一、), 三号.
    pub heading1_font: String,
    /// Headings of level 2 (（一）), 三号.
    pub heading2_font: String,
    /// Page numbers, 四号.
    pub page_number_font: String,
    /// Off by default: the standard defines the binding side as the left margin (订口（左白边）)
    /// and the usual office templates keep it there on every page. Turn on for documents printed
    /// double-sided and bound, so the 28 mm margin alternates to the inside of each sheet.
    pub mirror_margins: bool,
    /// Off by default: the standard's 28 characters a line then come from drawing the body text
    /// 0.25 pt tighter, which Word, WPS and LibreOffice all honour (22 lines a page come from the
    /// exact line spacing either way). On, they come from Word's character grid, each 三号
    /// character on a 15.8 pt pitch — what Word and WPS show, but LibreOffice cannot narrow
    /// characters to a grid (7.4 gives each character two cells: 14 a line, twice the pages).
    pub char_grid: bool,
}

impl Default for OfficialStyle {
    fn default() -> Self {
        Self {
            title_font: "方正小标宋简体".to_owned(),
            body_font: "仿宋_GB2312".to_owned(),
            heading1_font: "黑体".to_owned(),
            heading2_font: "楷体_GB2312".to_owned(),
            page_number_font: "宋体".to_owned(),
            mirror_margins: false,
            char_grid: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocxError {
    #[error("could not write the .docx package: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("could not write the .docx package: {0}")]
    Io(#[from] std::io::Error),
}

/// Renders `doc` as a Word document, figures as plain text. The bytes depend on `doc` and
/// `style` alone: no timestamps, no generated ids.
pub fn to_docx(doc: &Document, style: &OfficialStyle) -> Result<Vec<u8>, DocxError> {
    to_docx_with(doc, style, FigureLinks::Plain)
}

/// [`to_docx`] with figures linked as `links` says: only [`FigureLinks::Base`] (or targets that
/// are already absolute web addresses) makes hyperlinks, since nothing else resolves from a
/// file; with any other choice figures are plain text.
pub fn to_docx_with(
    doc: &Document,
    style: &OfficialStyle,
    links: FigureLinks<'_>,
) -> Result<Vec<u8>, DocxError> {
    let mut hyperlinks = body::Hyperlinks::default();
    let document = body::document(doc, style, links, &mut hyperlinks);
    let footer_odd = format!("word/{}", parts::FOOTER_ODD);
    let footer_even = format!("word/{}", parts::FOOTER_EVEN);
    let package = [
        ("[Content_Types].xml", parts::content_types()),
        ("_rels/.rels", parts::package_rels()),
        ("docProps/core.xml", parts::core_properties(&doc.title)),
        ("word/_rels/document.xml.rels", parts::document_rels(&hyperlinks.0)),
        ("word/document.xml", document),
        ("word/styles.xml", styles::styles(style)),
        ("word/settings.xml", parts::settings(style)),
        ("word/fontTable.xml", parts::font_table(style)),
        (footer_odd.as_str(), parts::footer(parts::Side::Odd)),
        (footer_even.as_str(), parts::footer(parts::Side::Even)),
    ];

    // A fixed time and mode, because the zip crate otherwise stamps entries with the clock when
    // its `time` feature is on (which any other crate in the build may turn on).
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);

    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in package {
        zip.start_file(name, options)?;
        zip.write_all(content.as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

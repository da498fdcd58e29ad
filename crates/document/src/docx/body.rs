//! `document.xml`: the blocks as paragraphs that name their style, and the page setup.

use super::layout::{
    BODY_CHAR, CHAR_SPACE, FOOTER_DISTANCE, HEADER_DISTANCE, LINE_PITCH, MARGIN_BINDING, MARGIN_BOTTOM,
    MARGIN_OUTER, MARGIN_TOP, PAGE_HEIGHT, PAGE_WIDTH,
};
use super::parts::{DECLARATION, FOOTER_EVEN_ID, FOOTER_ODD_ID, NS_R, NS_W};
use super::OfficialStyle;
use crate::xml::escape_into;
use crate::{clamp_level, plain_text, Block, Document};

pub(super) fn document(doc: &Document, style: &OfficialStyle) -> String {
    let mut xml =
        format!("{DECLARATION}<w:document xmlns:w=\"{NS_W}\" xmlns:r=\"{NS_R}\">\n<w:body>\n");
    if !doc.title.is_empty() {
        paragraph(&mut xml, "Title", &doc.title);
    }
    for block in &doc.blocks {
        match block {
            Block::Heading { level, spans } => {
                let style = format!("Heading{}", clamp_level(*level));
                paragraph(&mut xml, &style, &plain_text(spans));
            }
            Block::Paragraph(spans) => paragraph(&mut xml, "Normal", &plain_text(spans)),
            Block::Signature { issuer, date } => signature(&mut xml, issuer, date),
        }
    }
    xml.push_str(&section(style));
    xml.push_str("</w:body>\n</w:document>\n");
    xml
}

/// The 落款 without a seal (GB/T 9704—2012, 7.3.5.3): one empty line below the text, the issuer
/// two characters in from the right margin, the date on the next line starting two characters
/// right of the issuer's first character; a date longer than the issuer keeps two characters
/// from the margin and pushes the issuer left instead.
fn signature(xml: &mut String, issuer: &str, date: &str) {
    let (li, ld) = (issuer.chars().count() as i64, date.chars().count() as i64);
    let issuer_right = 2.max(ld + 4 - li);
    let date_right = issuer_right + li - 2 - ld;
    paragraph(xml, "Normal", "");
    for (text, right) in [(issuer, issuer_right), (date, date_right)] {
        xml.push_str(&format!(
            "<w:p><w:pPr><w:pStyle w:val=\"Normal\"/><w:ind w:firstLineChars=\"0\" w:firstLine=\"0\" w:right=\"{}\"/><w:jc w:val=\"right\"/></w:pPr><w:r><w:t>",
            right * i64::from(BODY_CHAR)
        ));
        escape_into(xml, text);
        xml.push_str("</w:t></w:r></w:p>\n");
    }
}

/// Figures are plain text in Word: a printed summary has nowhere to follow a link to.
fn paragraph(xml: &mut String, style: &str, text: &str) {
    xml.push_str(&format!(
        "<w:p><w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>"
    ));
    if !text.is_empty() {
        xml.push_str("<w:r>");
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                xml.push_str("<w:br/>");
            }
            xml.push_str("<w:t xml:space=\"preserve\">");
            escape_into(xml, line);
            xml.push_str("</w:t>");
        }
        xml.push_str("</w:r>");
    }
    xml.push_str("</w:p>\n");
}

/// With `w:evenAndOddHeaders` in the settings, the "default" footer serves odd pages.
/// The binding margin is `w:left`; with mirror margins Word reads it as the inside margin.
fn section(style: &OfficialStyle) -> String {
    let grid = if style.char_grid {
        format!(
            "<w:docGrid w:type=\"linesAndChars\" w:linePitch=\"{LINE_PITCH}\" \
             w:charSpace=\"{CHAR_SPACE}\"/>"
        )
    } else {
        format!("<w:docGrid w:type=\"lines\" w:linePitch=\"{LINE_PITCH}\"/>")
    };
    format!(
        "<w:sectPr>\
         <w:footerReference w:type=\"default\" r:id=\"{FOOTER_ODD_ID}\"/>\
         <w:footerReference w:type=\"even\" r:id=\"{FOOTER_EVEN_ID}\"/>\
         <w:pgSz w:w=\"{PAGE_WIDTH}\" w:h=\"{PAGE_HEIGHT}\"/>\
         <w:pgMar w:top=\"{MARGIN_TOP}\" w:right=\"{MARGIN_OUTER}\" w:bottom=\"{MARGIN_BOTTOM}\" \
         w:left=\"{MARGIN_BINDING}\" w:header=\"{HEADER_DISTANCE}\" w:footer=\"{FOOTER_DISTANCE}\" \
         w:gutter=\"0\"/>\
         <w:cols w:space=\"425\"/>\
         {grid}</w:sectPr>\n"
    )
}

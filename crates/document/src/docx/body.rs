//! `document.xml`: the blocks as paragraphs that name their style, and the page setup.

use super::layout::{
    BODY_CHAR, CHAR_SPACE, FOOTER_DISTANCE, HEADER_DISTANCE, LINE_PITCH, MARGIN_BINDING, MARGIN_BOTTOM,
    MARGIN_OUTER, MARGIN_TOP, PAGE_HEIGHT, PAGE_WIDTH,
};
use super::parts::{DECLARATION, FOOTER_EVEN_ID, FOOTER_ODD_ID, NS_R, NS_W};
use super::OfficialStyle;
use crate::xml::escape_into;
use crate::html::FigureLinks;
use crate::{clamp_level, Block, Document, Span};

/// The external links of the body, in order: each one's relationship id is `rIdLink{n}`
/// (1-based), and `document.xml.rels` lists the same targets.
#[derive(Default)]
pub(super) struct Hyperlinks(pub(super) Vec<String>);

impl Hyperlinks {
    fn id(&mut self, href: String) -> String {
        let n = match self.0.iter().position(|known| *known == href) {
            Some(i) => i + 1,
            None => {
                self.0.push(href);
                self.0.len()
            }
        };
        format!("rIdLink{n}")
    }
}

pub(super) fn document(
    doc: &Document,
    style: &OfficialStyle,
    links: FigureLinks<'_>,
    hyperlinks: &mut Hyperlinks,
) -> String {
    let mut xml =
        format!("{DECLARATION}<w:document xmlns:w=\"{NS_W}\" xmlns:r=\"{NS_R}\">\n<w:body>\n");
    if !doc.title.is_empty() {
        paragraph(&mut xml, "Title", &doc.title);
    }
    let mut spans_in = |xml: &mut String, style: &str, spans: &[Span]| {
        xml.push_str(&format!(
            "<w:p><w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>"
        ));
        // Text between links is one run, as it was before figures could link.
        let mut plain = String::new();
        for span in spans {
            match span {
                Span::Figure { text, target } => match links.href(target) {
                    // Only absolute links: a relative one has nothing to resolve against in a
                    // file, and Word would open a dead path.
                    Some(href) if crate::html::is_web_url(&href) => {
                        run(xml, &std::mem::take(&mut plain));
                        let id = hyperlinks.id(href);
                        xml.push_str(&format!("<w:hyperlink r:id=\"{id}\">"));
                        run(xml, text);
                        xml.push_str("</w:hyperlink>");
                    }
                    _ => plain.push_str(text),
                },
                Span::Text(text) => plain.push_str(text),
            }
        }
        run(xml, &plain);
        xml.push_str("</w:p>\n");
    };
    for block in &doc.blocks {
        match block {
            Block::Heading { level, spans } => {
                let style = format!("Heading{}", clamp_level(*level));
                spans_in(&mut xml, &style, spans);
            }
            Block::Paragraph(spans) => spans_in(&mut xml, "Normal", spans),
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

/// A paragraph of plain text (the title, the blank line above the 落款).
fn paragraph(xml: &mut String, style: &str, text: &str) {
    xml.push_str(&format!(
        "<w:p><w:pPr><w:pStyle w:val=\"{style}\"/></w:pPr>"
    ));
    run(xml, text);
    xml.push_str("</w:p>\n");
}

/// One run of text in the paragraph's style. A hyperlinked figure is a run like any other, with
/// no character style of its own: the printed summary shows it as the words around it, and
/// only a reader of the file on screen follows it (Ctrl+click in Word).
fn run(xml: &mut String, text: &str) {
    if text.is_empty() {
        return;
    }
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

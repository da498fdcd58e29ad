//! `styles.xml`: one paragraph style per block kind, carrying all the formatting.
//!
//! Style ids are Word's built-in ones (Title, Heading1…, Footer), so Word's navigation pane and
//! outline view work and the styles keep their localised names (标题 1…) in a Chinese Word.

use super::layout::{
    pt_to_half_points, BODY_CHAR, BODY_PT, FOOTER_LINE, LETTER_SPACING_WITHOUT_GRID, LINE_PITCH,
    PAGE_NUMBER_PT, TITLE_PT,
};
use super::parts::{DECLARATION, NS_W};
use super::OfficialStyle;
use crate::xml::escape;

pub(super) fn styles(style: &OfficialStyle) -> String {
    // Exact line spacing equal to the grid pitch, rather than the grid alone: with automatic
    // spacing, a line whose font is taller than the pitch (a substitute font's line height often
    // is) takes two grid lines and the page loses its 22 lines.
    let line = format!("<w:spacing w:line=\"{LINE_PITCH}\" w:lineRule=\"exact\"/>");
    let no_indent = "<w:ind w:firstLineChars=\"0\" w:firstLine=\"0\"/>";
    let body_size = size(BODY_PT);
    // Without the character grid, nothing needs the line grid either (exact spacing already
    // gives 22 lines), and LibreOffice would snap tall lines to two grid lines despite it.
    let (snap, letter_spacing) = if style.char_grid {
        ("", String::new())
    } else {
        (
            "<w:snapToGrid w:val=\"0\"/>",
            format!("<w:spacing w:val=\"{LETTER_SPACING_WITHOUT_GRID}\"/>"),
        )
    };

    let mut xml = format!("{DECLARATION}<w:styles xmlns:w=\"{NS_W}\">\n");
    xml.push_str(&format!(
        "<w:docDefaults><w:rPrDefault><w:rPr>{}{body_size}\
         <w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\"/></w:rPr></w:rPrDefault>\
         <w:pPrDefault><w:pPr/></w:pPrDefault></w:docDefaults>\n",
        fonts(&style.body_font)
    ));
    // Widow control is off because moving a line to the next page would leave a page with
    // fewer than the standard's 22 lines.
    xml.push_str(&paragraph_style(
        "Normal",
        "Normal",
        None,
        &format!(
            "<w:widowControl w:val=\"0\"/>{snap}{line}\
             <w:ind w:firstLineChars=\"200\" w:firstLine=\"{}\"/><w:jc w:val=\"both\"/>",
            2 * BODY_CHAR
        ),
        &format!("{}{letter_spacing}{body_size}", fonts(&style.body_font)),
    ));
    // A blank line's worth of space below the title, as in the standard's examples. Off the
    // grid, because LibreOffice snaps even exactly spaced lines to it, and a 二号 line is taller
    // than one grid line in most fonts.
    xml.push_str(&paragraph_style(
        "Title",
        "Title",
        Some("Normal"),
        &format!(
            "<w:snapToGrid w:val=\"0\"/>\
             <w:spacing w:after=\"{LINE_PITCH}\" w:line=\"{LINE_PITCH}\" w:lineRule=\"exact\"/>\
             {no_indent}<w:jc w:val=\"center\"/>"
        ),
        &format!("{}{}", fonts(&style.title_font), size(TITLE_PT)),
    ));
    let heading_fonts = [
        Some(&style.heading1_font),
        Some(&style.heading2_font),
        None,
        None,
    ];
    for (index, font) in heading_fonts.into_iter().enumerate() {
        let level = index + 1;
        xml.push_str(&paragraph_style(
            &format!("Heading{level}"),
            &format!("heading {level}"),
            Some("Normal"),
            &format!("<w:keepNext/><w:outlineLvl w:val=\"{index}\"/>"),
            &font.map(|font| fonts(font)).unwrap_or_default(),
        ));
    }
    // Off the grid: the page number sits outside the text block, and neither the line pitch nor
    // the character cells, both sized for 三号 body text, apply to a 四号 line there.
    xml.push_str(&paragraph_style(
        "Footer",
        "footer",
        Some("Normal"),
        &format!(
            "<w:snapToGrid w:val=\"0\"/>\
             <w:spacing w:line=\"{FOOTER_LINE}\" w:lineRule=\"exact\"/>{no_indent}"
        ),
        &format!("{}{}", fonts(&style.page_number_font), size(PAGE_NUMBER_PT)),
    ));
    xml.push_str("</w:styles>\n");
    xml
}

fn paragraph_style(id: &str, name: &str, based_on: Option<&str>, ppr: &str, rpr: &str) -> String {
    let default = if id == "Normal" {
        " w:default=\"1\""
    } else {
        ""
    };
    let based_on = based_on
        .map(|parent| format!("<w:basedOn w:val=\"{parent}\"/><w:next w:val=\"Normal\"/>"))
        .unwrap_or_default();
    format!(
        "<w:style w:type=\"paragraph\"{default} w:styleId=\"{id}\"><w:name w:val=\"{name}\"/>\
         {based_on}<w:qFormat/><w:pPr>{ppr}</w:pPr><w:rPr>{rpr}</w:rPr></w:style>\n"
    )
}

/// The same font for every script: the Chinese fonts carry their own digits and Latin letters,
/// and one face keeps a figure such as "1330户4785人" looking like the words around it.
fn fonts(name: &str) -> String {
    let name = escape(name);
    format!(
        "<w:rFonts w:ascii=\"{name}\" w:hAnsi=\"{name}\" w:eastAsia=\"{name}\" w:cs=\"{name}\"/>"
    )
}

fn size(pt: u32) -> String {
    let half_points = pt_to_half_points(pt);
    format!("<w:sz w:val=\"{half_points}\"/><w:szCs w:val=\"{half_points}\"/>")
}

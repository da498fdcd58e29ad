//! The small fixed parts of the package: content types, relationships, properties, settings,
//! the font table and the two page-number footers.

use super::layout::PAGE_NUMBER_CHAR;
use super::OfficialStyle;
use crate::xml::escape;

pub(super) const DECLARATION: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
pub(super) const NS_W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
pub(super) const NS_R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// Relative to `word/`, as relationships name them.
pub(super) const FOOTER_ODD: &str = "footer1.xml";
pub(super) const FOOTER_EVEN: &str = "footer2.xml";
pub(super) const FOOTER_ODD_ID: &str = "rIdFooterOdd";
pub(super) const FOOTER_EVEN_ID: &str = "rIdFooterEven";

const CT_MAIN: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml";

pub(super) fn content_types() -> String {
    let overrides = [
        ("/word/document.xml", format!("{CT_MAIN}.document.main+xml")),
        ("/word/styles.xml", format!("{CT_MAIN}.styles+xml")),
        ("/word/settings.xml", format!("{CT_MAIN}.settings+xml")),
        ("/word/fontTable.xml", format!("{CT_MAIN}.fontTable+xml")),
        (
            &format!("/word/{FOOTER_ODD}"),
            format!("{CT_MAIN}.footer+xml"),
        ),
        (
            &format!("/word/{FOOTER_EVEN}"),
            format!("{CT_MAIN}.footer+xml"),
        ),
        (
            "/docProps/core.xml",
            "application/vnd.openxmlformats-package.core-properties+xml".to_owned(),
        ),
    ];
    let mut xml = format!(
        "{DECLARATION}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\n\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\n\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\n"
    );
    for (part, content_type) in overrides {
        xml.push_str(&format!(
            "<Override PartName=\"{part}\" ContentType=\"{content_type}\"/>\n"
        ));
    }
    xml.push_str("</Types>\n");
    xml
}

fn relationships(rels: &[(&str, &str, &str)]) -> String {
    let mut xml = format!(
        "{DECLARATION}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\n"
    );
    for (id, kind, target) in rels {
        xml.push_str(&format!(
            "<Relationship Id=\"{id}\" Type=\"{kind}\" Target=\"{target}\"/>\n"
        ));
    }
    xml.push_str("</Relationships>\n");
    xml
}

/// The relationships of `rels` plus one external hyperlink per `links` entry (`rIdLink1`…),
/// the ids `body::Hyperlinks` gave them.
fn with_hyperlinks(rels: String, links: &[String]) -> String {
    let Some(head) = rels.strip_suffix("</Relationships>\n") else {
        return rels;
    };
    let mut xml = head.to_owned();
    for (i, href) in links.iter().enumerate() {
        xml.push_str(&format!(
            "<Relationship Id=\"rIdLink{}\" Type=\"{NS_R}/hyperlink\" Target=\"{}\" TargetMode=\"External\"/>\n",
            i + 1,
            escape(href)
        ));
    }
    xml.push_str("</Relationships>\n");
    xml
}

pub(super) fn package_rels() -> String {
    relationships(&[
        (
            "rIdDocument",
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
            "word/document.xml",
        ),
        (
            "rIdCore",
            "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
            "docProps/core.xml",
        ),
    ])
}

pub(super) fn document_rels(links: &[String]) -> String {
    let kind = |name: &str| format!("{NS_R}/{name}");
    with_hyperlinks(
        relationships(&[
            ("rIdStyles", &kind("styles"), "styles.xml"),
            ("rIdSettings", &kind("settings"), "settings.xml"),
            ("rIdFontTable", &kind("fontTable"), "fontTable.xml"),
            (FOOTER_ODD_ID, &kind("footer"), FOOTER_ODD),
            (FOOTER_EVEN_ID, &kind("footer"), FOOTER_EVEN),
        ]),
        links,
    )
}

/// Only the title and language: creation and modification times are left out on purpose, so
/// the same report renders to the same bytes.
pub(super) fn core_properties(title: &str) -> String {
    let title = if title.is_empty() {
        String::new()
    } else {
        format!("<dc:title>{}</dc:title>", escape(title))
    };
    format!(
        "{DECLARATION}<cp:coreProperties \
         xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\">{title}<dc:language>zh-CN</dc:language>\
         </cp:coreProperties>\n"
    )
}

/// Element order follows the schema (CT_Settings is a sequence; Word rejects misordered files).
/// Punctuation is not compressed, so that every full-width mark keeps its own grid cell.
pub(super) fn settings(style: &OfficialStyle) -> String {
    let mirror = if style.mirror_margins {
        "<w:mirrorMargins/>"
    } else {
        ""
    };
    format!(
        "{DECLARATION}<w:settings xmlns:w=\"{NS_W}\">\n\
         {mirror}<w:defaultTabStop w:val=\"420\"/>\n\
         <w:evenAndOddHeaders/>\n\
         <w:characterSpacingControl w:val=\"doNotCompress\"/>\n\
         <w:compat><w:compatSetting w:name=\"compatibilityMode\" \
         w:uri=\"http://schemas.microsoft.com/office/word\" w:val=\"15\"/></w:compat>\n\
         <w:themeFontLang w:val=\"en-US\" w:eastAsia=\"zh-CN\"/>\n\
         </w:settings>\n"
    )
}

/// Describes each font so that a machine without it substitutes a sensible one: charset 86
/// (GB2312) asks for a Chinese font, and the family for a Song-like (roman) face or, for 黑体, a
/// sans-serif one. The family follows the font's role, since the name is a setting.
pub(super) fn font_table(style: &OfficialStyle) -> String {
    let roles = [
        (&style.title_font, "roman"),
        (&style.body_font, "roman"),
        (&style.heading1_font, "swiss"),
        (&style.heading2_font, "roman"),
        (&style.page_number_font, "roman"),
    ];
    let mut fonts: Vec<(&str, &str)> = Vec::new();
    for (name, family) in roles {
        if !fonts.iter().any(|(known, _)| known == name) {
            fonts.push((name, family));
        }
    }
    let mut xml = format!("{DECLARATION}<w:fonts xmlns:w=\"{NS_W}\">\n");
    for (name, family) in fonts {
        let alt = match fallback(name) {
            Some(a) => format!("<w:altName w:val=\"{}\"/>", escape(a)),
            None => String::new(),
        };
        xml.push_str(&format!(
            "<w:font w:name=\"{}\">{alt}<w:charset w:val=\"86\"/><w:family w:val=\"{family}\"/>\
             <w:pitch w:val=\"variable\"/></w:font>\n",
            escape(name)
        ));
    }
    xml.push_str("</w:fonts>\n");
    xml
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Side {
    Odd,
    Even,
}

/// "— 1 —": right on odd pages and left on even pages, each one 四号 character in from the
/// edge of the text block (单页码居右空一字，双页码居左空一字).
pub(super) fn footer(side: Side) -> String {
    let (jc, indent, sample) = match side {
        Side::Odd => ("right", format!("w:right=\"{PAGE_NUMBER_CHAR}\""), 1),
        Side::Even => ("left", format!("w:left=\"{PAGE_NUMBER_CHAR}\""), 2),
    };
    format!(
        "{DECLARATION}<w:ftr xmlns:w=\"{NS_W}\" xmlns:r=\"{NS_R}\">\n\
         <w:p><w:pPr><w:pStyle w:val=\"Footer\"/>\
         <w:ind {indent}/><w:jc w:val=\"{jc}\"/></w:pPr>\
         <w:r><w:t xml:space=\"preserve\">\u{2014} </w:t></w:r>\
         <w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>\
         <w:r><w:instrText xml:space=\"preserve\"> PAGE </w:instrText></w:r>\
         <w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>\
         <w:r><w:t>{sample}</w:t></w:r>\
         <w:r><w:fldChar w:fldCharType=\"end\"/></w:r>\
         <w:r><w:t xml:space=\"preserve\"> \u{2014}</w:t></w:r></w:p>\n\
         </w:ftr>\n"
    )
}

/// The face a program without the official font should use instead (`w:altName`): the system
/// font of the same style that Windows and most Chinese office PCs carry.
fn fallback(name: &str) -> Option<&'static str> {
    Some(match name {
        "仿宋_GB2312" | "仿宋GB2312" => "仿宋",
        "楷体_GB2312" | "楷体GB2312" => "楷体",
        "方正小标宋简体" | "方正小标宋_GBK" | "小标宋" => "华文中宋",
        "方正仿宋_GBK" | "方正仿宋简体" => "仿宋",
        "方正楷体_GBK" | "方正楷体简体" => "楷体",
        "方正黑体_GBK" | "方正黑体简体" => "黑体",
        _ => return None,
    })
}

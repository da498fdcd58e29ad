//! Shared by the integration tests: a small summary and helpers to read a .docx back.

#![allow(dead_code)] // each test crate uses a different subset

use std::io::Read;

use taizhang_document::{Block, Document, Span};

/// A title, headings of levels 1 and 2, and paragraphs with figures, as in the seed summary.
pub fn sample() -> Document {
    let text = |s: &str| Span::Text(s.to_owned());
    let figure = |s: &str, key: &str| Span::Figure {
        text: s.to_owned(),
        target: format!("/explain/{key}?year=2023"),
    };
    Document {
        title: "北斗溪镇人民政府2023年工作总结".to_owned(),
        blocks: vec![
            Block::Paragraph(vec![text(
                "过去的一年，全镇人民团结一心，锐意进取，各项事业持续健康平稳发展。",
            )]),
            Block::Heading {
                level: 1,
                spans: vec![text("一、主动担当作为，凝心聚力“促发展”")],
            },
            Block::Heading {
                level: 2,
                spans: vec![text("（一）提升农业综合保障")],
            },
            Block::Paragraph(vec![
                text("本年度办理了"),
                figure("260余台", "machinery_subsidy"),
                text("农机补贴申报；脱贫户"),
                figure("1330户4785人", "lifted_households"),
                text("，公益林补贴发放"),
                figure("30.54万元", "public_forest_subsidy"),
                text("。"),
            ]),
        ],
    }
}

/// The text of one part of a .docx package.
pub fn part(docx: &[u8], name: &str) -> String {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("the .docx is a zip archive");
    let mut file = archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("the package has {name}"));
    let mut text = String::new();
    file.read_to_string(&mut text).expect("parts are UTF-8");
    text
}

/// Each entry's name and modification time, in archive order.
pub fn entries(docx: &[u8]) -> Vec<(String, Option<zip::DateTime>)> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("the .docx is a zip archive");
    (0..archive.len())
        .map(|i| {
            let file = archive.by_index(i).expect("the entry is readable");
            (file.name().to_owned(), file.last_modified())
        })
        .collect()
}

/// The first start tag of `element` in `xml`, e.g. `<w:pgMar w:top="2098" …/>`.
pub fn start_tag<'a>(xml: &'a str, element: &str) -> &'a str {
    let open = format!("<{element}");
    let mut from = 0;
    while let Some(found) = xml[from..].find(&open) {
        let start = from + found;
        let rest = &xml[start + open.len()..];
        // `<w:p` must not match `<w:pPr`.
        if rest.starts_with([' ', '/', '>']) {
            let end = rest.find('>').expect("the tag is closed");
            return &xml[start..start + open.len() + end + 1];
        }
        from = start + open.len();
    }
    panic!("no <{element}> in {xml}")
}

/// The value of `attribute` on the first `element` in `xml`.
pub fn attr(xml: &str, element: &str, attribute: &str) -> String {
    let tag = start_tag(xml, element);
    let key = format!(" {attribute}=\"");
    let start = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {attribute} in {tag}"))
        + key.len();
    let len = tag[start..].find('"').expect("the value is quoted");
    tag[start..start + len].to_owned()
}

/// The `<w:style>` element with the given id in styles.xml.
pub fn style<'a>(styles: &'a str, id: &str) -> &'a str {
    let key = format!("w:styleId=\"{id}\"");
    let at = styles.find(&key).unwrap_or_else(|| panic!("no style {id}"));
    let start = styles[..at].rfind("<w:style ").expect("inside a style");
    let end = at
        + styles[at..]
            .find("</w:style>")
            .expect("the style is closed");
    &styles[start..end]
}

//! Figure links in files that leave the application (issue 16, item 7): absolute links to a
//! base URL, numbered notes when there is none, no dead relative link in an HTML or Word file;
//! and the printed HTML's page numbers, read back from Chromium's PDF with `pdftotext`.

mod common;

use std::process::Command;

use common::{part, sample};
use taizhang_document::{to_docx_with, to_html_with, Block, Document, FigureLinks, OfficialStyle, Span};

const BASE: &str = "https://taizhang.example.gov.cn/";

fn explain(target: &str) -> Option<String> {
    Some(format!("taizhang explain {}", target.trim_start_matches("/explain/").replace('?', " ")))
}

/// Every `href="…"` of an HTML text.
fn hrefs(html: &str) -> Vec<&str> {
    html.split("href=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect()
}

#[test]
fn html_with_a_base_links_every_figure_absolutely() {
    let html = to_html_with(&sample(), true, FigureLinks::Base(BASE));
    let links = hrefs(&html);
    assert_eq!(links.len(), 3, "{html}");
    for href in links {
        assert!(href.starts_with("https://taizhang.example.gov.cn/explain/"), "{href}");
        assert!(!href.contains("cn//"), "one slash between base and path: {href}");
    }
    assert!(!html.contains("class=\"notes\""));
}

#[test]
fn html_without_a_base_has_numbered_notes_and_no_outside_link() {
    let mut doc = sample();
    // The same target twice shares a note.
    doc.blocks.push(Block::Paragraph(vec![Span::Figure { text: "260余台".into(), target: "/explain/machinery_subsidy?year=2023".into() }]));
    let html = to_html_with(&doc, true, FigureLinks::Notes(&explain));
    for href in hrefs(&html) {
        assert!(href.starts_with("#note-"), "only links within the file: {href}");
    }
    assert!(html.contains("260余台<sup class=\"note-ref\"><a href=\"#note-1\">[1]</a></sup>"), "{html}");
    assert!(html.contains("<li id=\"note-1\"><code>taizhang explain machinery_subsidy year=2023</code></li>"), "{html}");
    assert!(html.contains("<li id=\"note-3\">"), "{html}");
    assert!(!html.contains("<li id=\"note-4\">"), "the repeated figure reuses note 1: {html}");
    assert_eq!(html.matches("href=\"#note-1\"").count(), 2);
}

#[test]
fn a_base_that_is_no_web_address_links_nothing() {
    for base in ["javascript:alert(1)", "file:///tmp", "taizhang.example.gov.cn", "https://"] {
        let html = to_html_with(&sample(), true, FigureLinks::Base(base));
        assert!(hrefs(&html).is_empty(), "{base}: {html}");
        let docx = to_docx_with(&sample(), &OfficialStyle::default(), FigureLinks::Base(base)).expect("docx");
        assert!(!part(&docx, "word/document.xml").contains("w:hyperlink"), "{base}");
    }
}

#[test]
fn word_links_to_the_base_and_otherwise_keeps_figures_plain() {
    let docx = to_docx_with(&sample(), &OfficialStyle::default(), FigureLinks::Base(BASE)).expect("docx");
    let body = part(&docx, "word/document.xml");
    let rels = part(&docx, "word/_rels/document.xml.rels");
    assert_eq!(body.matches("<w:hyperlink r:id=\"rIdLink").count(), 3, "{body}");
    assert!(body.contains("<w:hyperlink r:id=\"rIdLink2\"><w:r><w:t xml:space=\"preserve\">1330户4785人</w:t></w:r></w:hyperlink>"), "{body}");
    assert!(
        rels.contains("Id=\"rIdLink1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink\" Target=\"https://taizhang.example.gov.cn/explain/machinery_subsidy?year=2023\" TargetMode=\"External\""),
        "{rels}"
    );
    // A query's `&` is escaped in the relationship's attribute.
    let mut doc = sample();
    doc.blocks.push(Block::Paragraph(vec![Span::Figure { text: "3户4人".into(), target: "/explain/a?year=2023&with=b".into() }]));
    let rels = part(&to_docx_with(&doc, &OfficialStyle::default(), FigureLinks::Base(BASE)).expect("docx"), "word/_rels/document.xml.rels");
    assert!(rels.contains("/explain/a?year=2023&amp;with=b\""), "{rels}");

    // Without a base: no hyperlink, no relationship to one, the words as they were.
    for links in [FigureLinks::Plain, FigureLinks::AsWritten, FigureLinks::Notes(&explain)] {
        let docx = to_docx_with(&sample(), &OfficialStyle::default(), links).expect("docx");
        assert!(!part(&docx, "word/document.xml").contains("w:hyperlink"), "{links:?}");
        assert!(!part(&docx, "word/_rels/document.xml.rels").contains("hyperlink"), "{links:?}");
        assert!(part(&docx, "word/document.xml").contains("1330户4785人"));
    }
    // Plain is what `to_docx` writes.
    assert_eq!(
        to_docx_with(&sample(), &OfficialStyle::default(), FigureLinks::Plain).expect("docx"),
        taizhang_document::to_docx(&sample(), &OfficialStyle::default()).expect("docx")
    );
}

/// The standalone page printed by headless Chromium (the browser a township office prints
/// from): each page carries "— n —" at its foot, from the stylesheet's `@page` margin boxes.
/// Needs `chromium` and `pdftotext`, as the browser and LibreOffice tests do; it fails without
/// them rather than skip.
#[test]
fn printed_html_has_page_numbers() {
    let sentence = "全镇上下坚持以人民为中心的发展思想，统筹推进乡村振兴各项工作，群众的获得感和幸福感持续提升。";
    let doc = Document {
        title: "北斗溪镇人民政府工作总结".into(),
        blocks: (0..12).map(|_| Block::Paragraph(vec![Span::Text(sentence.repeat(5))])).collect(),
    };
    let dir = tempfile::tempdir().expect("dir");
    let html = dir.path().join("report.html");
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&html, to_html_with(&doc, true, FigureLinks::Plain)).expect("write");
    let profile = tempfile::tempdir().expect("profile");
    let out = Command::new("chromium")
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium is needed for this test");
    assert!(pdf.exists(), "chromium wrote no PDF: {}", String::from_utf8_lossy(&out.stderr));
    let mut page = 1;
    loop {
        let n = page.to_string();
        let text = Command::new("pdftotext").args(["-f", &n, "-l", &n]).arg(&pdf).arg("-").output().expect("pdftotext (poppler-utils) is needed");
        if !text.status.success() {
            break;
        }
        let lines: Vec<String> = String::from_utf8_lossy(&text.stdout)
            .lines()
            .map(|l| l.chars().filter(|c| !c.is_whitespace()).collect())
            .filter(|l: &String| !l.is_empty())
            .collect();
        assert_eq!(lines.last().map(String::as_str), Some(format!("—{page}—").as_str()), "page {page}: {lines:?}");
        page += 1;
    }
    assert!(page > 3, "{} pages", page - 1);
}

//! The Word file as LibreOffice lays it out, by default: 28 characters a line (±1) and 22
//! lines a page, as 党政机关公文格式 (GB/T 9704) asks and as Word and WPS show it. Rendered to PDF
//! by `soffice` (Debian's libreoffice-writer-nogui with fonts-noto-cjk, installed by .ci/run)
//! and read back with `pdftotext` (poppler-utils); without them this test fails, it never
//! skips. (With Word's character grid, LibreOffice drew 14 characters a line and twice the
//! pages — why the grid is no longer the default.)

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use taizhang_document::{to_docx, Block, Document, OfficialStyle, Span};

/// Body text with no Latin letters or digits, whose widths differ from a CJK character's.
const SENTENCE: &str = "全镇上下坚持以人民为中心的发展思想，统筹推进乡村振兴各项工作，群众的获得感和幸福感持续提升。";

fn document() -> Document {
    let paragraph = |n: usize| Block::Paragraph(vec![Span::Text(SENTENCE.repeat(n))]);
    let mut blocks = vec![paragraph(3)];
    for i in 0..6 {
        blocks.push(Block::Heading { level: 1, spans: vec![Span::Text(format!("{}、主动担当作为，凝心聚力", ["一", "二", "三", "四", "五", "六"][i]))] });
        blocks.push(paragraph(4));
        blocks.push(paragraph(3));
    }
    Document { title: "北斗溪镇人民政府工作总结".to_owned(), blocks }
}

fn run(cmd: &mut Command, what: &str) -> std::process::Output {
    let o = cmd.output().unwrap_or_else(|e| panic!("{what} is needed for this test: {e}"));
    assert!(o.status.success(), "{what}: {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    o
}

fn pages(pdf: &Path) -> usize {
    let info = String::from_utf8_lossy(&run(Command::new("pdfinfo").arg(pdf), "pdfinfo (poppler-utils)").stdout).to_string();
    info.lines().find_map(|l| l.strip_prefix("Pages:")).and_then(|n| n.trim().parse().ok()).expect("a page count")
}

/// The text lines of one page, footer (— 2 —) left out, spaces dropped.
fn lines_of(pdf: &Path, page: usize) -> Vec<String> {
    let n = page.to_string();
    let o = run(Command::new("pdftotext").args(["-f", &n, "-l", &n]).arg(pdf).arg("-"), "pdftotext (poppler-utils)");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .filter(|l| !l.is_empty())
        .filter(|l| !(l.starts_with('—') && l.ends_with('—')))
        .collect()
}

#[test]
fn twenty_eight_characters_a_line_and_twenty_two_lines_a_page_in_libreoffice() {
    let dir = tempfile::tempdir().expect("dir");
    let docx = dir.path().join("总结.docx");
    std::fs::write(&docx, to_docx(&document(), &OfficialStyle::default()).expect("docx")).expect("write");
    let profile = tempfile::tempdir().expect("profile");
    run(
        Command::new("soffice")
            .arg(format!("-env:UserInstallation=file://{}", profile.path().display()))
            .args(["--headless", "--convert-to", "pdf", "--outdir"])
            .arg(dir.path())
            .arg(&docx),
        "soffice (libreoffice-writer-nogui)",
    );
    let pdf = dir.path().join("总结.pdf");
    let n = pages(&pdf);
    assert!(n >= 3, "{n} pages");
    // Characters a line: the lines that run to the margin (a paragraph's first line starts two
    // characters in; its last line stops short).
    let mut widths: BTreeMap<usize, usize> = BTreeMap::new();
    for p in 1..=n {
        for l in lines_of(&pdf, p) {
            *widths.entry(l.chars().count()).or_default() += 1;
        }
    }
    let (&commonest, _) = widths.iter().max_by_key(|(_, count)| **count).expect("lines");
    let widest = *widths.keys().next_back().expect("lines");
    println!("characters a line → lines: {widths:?}; pages: {n}");
    assert!((27..=29).contains(&commonest) && widest <= 29, "28±1 characters a line: {widths:?}");
    // Lines a page: every page but the last is full.
    for p in 2..n {
        let lines = lines_of(&pdf, p);
        assert_eq!(lines.len(), 22, "page {p}: {lines:#?}");
    }
}

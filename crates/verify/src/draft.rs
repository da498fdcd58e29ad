//! Reading a draft: .docx (the paragraphs of word/document.xml), .md, .txt and .html, as one
//! text with a paragraph per line. A .docx keeps its bytes, so the marked copy annotates the
//! original (`marked_docx`).

use std::io::Read;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::{Result, VerifyError};

/// What kind of file a draft came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Docx,
    Markdown,
    Text,
    Html,
}

impl Kind {
    /// By the file name's extension.
    pub fn of_name(name: &str) -> Option<Kind> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        Some(match ext.as_str() {
            "docx" => Kind::Docx,
            "md" | "markdown" => Kind::Markdown,
            "txt" => Kind::Text,
            "html" | "htm" => Kind::Html,
            _ => return None,
        })
    }
}

/// A draft's text: paragraphs joined by '\n'.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: Kind,
    pub text: String,
    /// The original bytes of a .docx, to annotate.
    pub docx: Option<Vec<u8>>,
}

/// At most this many bytes of document.xml are inflated (a hostile file).
const MAX_XML: u64 = 64 << 20;

impl Draft {
    /// Reads a draft from its bytes; `name` gives its kind.
    pub fn read(name: &str, bytes: &[u8]) -> Result<Draft> {
        let kind = Kind::of_name(name).ok_or_else(|| VerifyError::Input(format!("不支持的稿件格式「{name}」：应为 .docx、.md、.txt 或 .html")))?;
        Draft::read_kind(kind, bytes)
    }

    pub fn read_kind(kind: Kind, bytes: &[u8]) -> Result<Draft> {
        let text_of = |b: &[u8]| -> Result<String> {
            let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
            String::from_utf8(b.to_vec()).map_err(|_| VerifyError::Input("稿件不是 UTF-8 编码的文本，请另存为 UTF-8 再校核".into()))
        };
        Ok(match kind {
            Kind::Docx => {
                let xml = document_xml(bytes)?;
                Draft { kind, text: docx_paragraphs(&xml)?.join("\n"), docx: Some(bytes.to_vec()) }
            }
            Kind::Text => Draft { kind, text: text_of(bytes)?.replace("\r\n", "\n"), docx: None },
            Kind::Markdown => Draft { kind, text: markdown_text(&text_of(bytes)?), docx: None },
            Kind::Html => Draft { kind, text: html_text(&text_of(bytes)?), docx: None },
        })
    }

    /// A draft given as text.
    pub fn from_text(text: &str) -> Draft {
        Draft { kind: Kind::Text, text: text.replace("\r\n", "\n"), docx: None }
    }
}

/// word/document.xml of a .docx.
pub fn document_xml(bytes: &[u8]) -> Result<String> {
    let bad = |why: String| VerifyError::Input(format!("无法读取 Word 稿件（.docx）：{why}"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(format!("不是有效的 .docx 文件（{e}）")))?;
    let entry = zip.by_name("word/document.xml").map_err(|_| bad("文件里没有 word/document.xml".into()))?;
    let mut xml = String::new();
    entry.take(MAX_XML).read_to_string(&mut xml).map_err(|e| bad(format!("正文读取失败（{e}）")))?;
    Ok(xml)
}

/// The text of each paragraph (`w:p`) of document.xml: its `w:t` runs, in order. A paragraph
/// inside another (a text box) counts toward the outer one, as `marked_docx` counts it.
pub fn docx_paragraphs(xml: &str) -> Result<Vec<String>> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_t = false;
    let mut cur = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.name().as_ref() {
                b"w:p" => depth += 1,
                b"w:t" => in_t = depth > 0,
                _ => {}
            },
            Ok(Event::Empty(e)) if e.name().as_ref() == b"w:p" && depth == 0 => out.push(String::new()),
            Ok(Event::End(e)) => match e.name().as_ref() {
                b"w:p" => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        out.push(std::mem::take(&mut cur));
                    }
                }
                b"w:t" => in_t = false,
                _ => {}
            },
            Ok(Event::Text(t)) if in_t => cur.push_str(&unescape(&t)?),
            Ok(Event::GeneralRef(r)) if in_t => cur.push_str(&entity(&r)),
            Ok(Event::Eof) => break,
            Err(e) => return Err(VerifyError::Input(format!("无法读取 Word 稿件（.docx）：正文 XML 有误（{e}）"))),
            _ => {}
        }
    }
    Ok(out)
}

pub(crate) fn unescape(t: &quick_xml::events::BytesText) -> Result<String> {
    t.decode().map(|c| c.into_owned()).map_err(|e| VerifyError::Input(format!("无法读取 Word 稿件（.docx）：文字编码有误（{e}）")))
}

/// `&amp;` and friends, which quick-xml hands over as references.
pub(crate) fn entity(r: &quick_xml::events::BytesRef) -> String {
    let name = String::from_utf8_lossy(r.as_ref()).into_owned();
    match name.as_str() {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        n => {
            let code = n.strip_prefix("#x").map(|h| u32::from_str_radix(h, 16).ok()).unwrap_or_else(|| n.strip_prefix('#').and_then(|d| d.parse().ok()));
            code.and_then(char::from_u32).map(String::from).unwrap_or_default()
        }
    }
}

/// Markdown as a reader sees it: headings' marks, emphasis and links' targets dropped.
fn markdown_text(md: &str) -> String {
    let mut lines = Vec::new();
    for line in md.replace("\r\n", "\n").lines() {
        let l = line.trim_start().trim_start_matches('#').trim_start();
        let l = l.strip_prefix("> ").unwrap_or(l);
        let mut out = String::new();
        let chars: Vec<char> = l.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '[' {
                // [text](target) → text
                if let Some(close) = chars[i..].iter().position(|c| *c == ']').map(|p| p + i) {
                    if chars.get(close + 1) == Some(&'(') {
                        if let Some(end) = chars[close..].iter().position(|c| *c == ')').map(|p| p + close) {
                            out.extend(&chars[i + 1..close]);
                            i = end + 1;
                            continue;
                        }
                    }
                }
            }
            if c == '*' || c == '_' && chars.get(i + 1) == Some(&'_') {
                i += 1;
                continue;
            }
            out.push(c);
            i += 1;
        }
        lines.push(out);
    }
    lines.join("\n")
}

/// HTML's text: tags dropped, block ends as new lines, entities decoded; scripts and styles
/// left out.
fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let Some(gt) = rest[lt..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[lt + 1..lt + gt].trim().to_ascii_lowercase();
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        rest = &rest[lt + gt + 1..];
        // A note reference (`<sup>6</sup>` after a figure) is no part of the text: "11⁶次" is
        // "11次".
        if !tag.starts_with('/') && name == "sup" {
            if let Some(end) = rest.to_ascii_lowercase().find("</sup>") {
                let inner = html_text(&rest[..end]);
                if inner.chars().all(|c| c.is_ascii_digit() || "[]()*†‡ ".contains(c)) {
                    rest = &rest[end + "</sup>".len()..];
                    continue;
                }
            }
        }
        if !tag.starts_with('/') && (name == "script" || name == "style") {
            let end = format!("</{name}");
            match rest.to_ascii_lowercase().find(&end) {
                Some(p) => rest = &rest[p..],
                None => rest = "",
            }
            continue;
        }
        if matches!(name.as_str(), "p" | "div" | "br" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "li" | "tr" | "title") && (tag.starts_with('/') || name == "br") {
            out.push('\n');
        }
    }
    out.push_str(&decode_entities(rest));
    let lines: Vec<&str> = out.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.join("\n")
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.replace('\n', " ");
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(a) = rest.find('&') {
        out.push_str(&rest[..a]);
        match rest[a..].find(';').filter(|e| *e <= 10) {
            Some(e) => {
                let name = &rest[a + 1..a + e];
                let v = match name {
                    "amp" => "&".to_string(),
                    "lt" => "<".into(),
                    "gt" => ">".into(),
                    "quot" => "\"".into(),
                    "apos" => "'".into(),
                    "nbsp" => " ".into(),
                    "ldquo" => "“".into(),
                    "rdquo" => "”".into(),
                    n => {
                        let code = n.strip_prefix("#x").map(|h| u32::from_str_radix(h, 16).ok()).unwrap_or_else(|| n.strip_prefix('#').and_then(|d| d.parse().ok()));
                        code.and_then(char::from_u32).map(String::from).unwrap_or_else(|| format!("&{n};"))
                    }
                };
                out.push_str(&v);
                rest = &rest[a + e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[a + 1..];
            }
        }
    }
    out.push_str(rest);
    out.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_links_and_headings() {
        assert_eq!(markdown_text("## 一、标题\n打井[2](/explain/water_wells?year=2023)处"), "一、标题\n打井2处");
    }

    #[test]
    fn html_text_by_blocks() {
        assert_eq!(html_text("<html><style>p{}</style><p>打井<a href=\"x\">2</a>处</p><p>A &amp; B</p></html>"), "打井2处\nA & B");
        assert_eq!(html_text("<p>中心组11<sup class=\"note-ref\"><a href=\"#note-6\">6</a></sup>次</p>"), "中心组11次");
    }

    #[test]
    fn a_broken_docx_is_a_chinese_error() {
        let e = Draft::read("稿.docx", b"not a zip").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("无法读取 Word 稿件"), "{e}");
    }
}

//! The marked Word copy: a comment (批注) on each figure giving its verdict and the ledger's
//! value. A .docx draft is annotated in place — every byte of the original kept except where
//! a run is split at a figure's edge and the comment anchors go in — and written as a new file;
//! any other draft first becomes a plain .docx with a paragraph per line.
//!
//! A comment is `w:commentRangeStart` / `w:commentRangeEnd` around the figure's text in
//! word/document.xml, a run holding `w:commentReference` after it, the comment's text in
//! word/comments.xml, which word/_rels/document.xml.rels and [Content_Types].xml name.

use std::io::{Cursor, Read, Write};

use quick_xml::events::Event;
use quick_xml::Reader;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::{Result, VerifyError};

/// One comment: where (paragraph, char offsets within it) and what it says.
#[derive(Debug, Clone)]
pub struct Note {
    pub paragraph: usize,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const COMMENTS_REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments";
const COMMENTS_TYPE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml";
const AUTHOR: &str = "台账校核";

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

fn err(why: impl std::fmt::Display) -> VerifyError {
    VerifyError::Input(format!("无法生成带批注的 Word 文件：{why}"))
}

/// A plain .docx of the text, a paragraph per line, in 仿宋 三号 as official papers are.
pub fn plain_docx(text: &str) -> Result<Vec<u8>> {
    let mut body = String::new();
    for line in text.split('\n') {
        body.push_str("<w:p><w:r><w:rPr><w:rFonts w:ascii=\"仿宋_GB2312\" w:eastAsia=\"仿宋_GB2312\" w:hAnsi=\"仿宋_GB2312\"/><w:sz w:val=\"32\"/></w:rPr><w:t xml:space=\"preserve\">");
        body.push_str(&escape(line));
        body.push_str("</w:t></w:r></w:p>");
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"{W_NS}\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><w:body>{body}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"2098\" w:right=\"1474\" w:bottom=\"1984\" w:left=\"1588\" w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    );
    let types = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>";
    let rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";
    let doc_rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"></Relationships>";
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, part) in [("[Content_Types].xml", types), ("_rels/.rels", rels), ("word/document.xml", document.as_str()), ("word/_rels/document.xml.rels", doc_rels)] {
        out.start_file(name, options).map_err(err)?;
        out.write_all(part.as_bytes()).map_err(err)?;
    }
    Ok(out.finish().map_err(err)?.into_inner())
}

/// A run of a paragraph, found in document.xml.
#[derive(Debug)]
struct Run {
    /// Byte span of `<w:r …>…</w:r>`.
    start: usize,
    end: usize,
    /// Byte span of its `<w:rPr>…</w:rPr>`, if any.
    rpr: Option<(usize, usize)>,
    /// Its children after rPr: byte span and, for `w:t`, the text and first char offset.
    children: Vec<Child>,
    /// Char offsets of its text within the paragraph.
    from: usize,
    to: usize,
    /// Holds a paragraph of its own (a text box): never split.
    nested: bool,
}

#[derive(Debug)]
struct Child {
    start: usize,
    end: usize,
    text: Option<(String, usize)>,
}

/// Where a marker goes: a byte offset of document.xml, and the text inserted there.
type Insert = (usize, String);

fn start_marker(id: usize) -> String {
    format!("<w:commentRangeStart w:id=\"{id}\"/>")
}

fn end_marker(id: usize) -> String {
    format!("<w:commentRangeEnd w:id=\"{id}\"/><w:r><w:commentReference w:id=\"{id}\"/></w:r>")
}

/// The markers of one paragraph at char positions: (pos, order, text), ends before starts.
fn markers_of(notes: &[(usize, &Note)]) -> Vec<(usize, u8, String)> {
    let mut m = Vec::new();
    for (id, n) in notes {
        m.push((n.start, 1, start_marker(*id)));
        m.push((n.end, 0, end_marker(*id)));
    }
    m.sort_by_key(|a| (a.0, a.1));
    m
}

/// document.xml with the comment anchors in place; `first_id` is the first comment id free.
fn annotate_document(xml: &str, notes: &[Note], first_id: usize) -> Result<String> {
    let mut reader = Reader::from_str(xml);
    let mut inserts: Vec<Insert> = Vec::new();
    let mut replaces: Vec<(usize, usize, String)> = Vec::new();
    let mut para = 0usize;
    let mut depth = 0usize;
    let mut para_runs: Vec<Run> = Vec::new();
    let mut run: Option<Run> = None;
    let mut run_depth = 0usize;
    let mut pos_chars = 0usize;
    let mut in_t: Option<(usize, String, usize)> = None;
    let mut in_rpr: Option<usize> = None;
    let mut child_start: Option<usize> = None;
    let by_para = |p: usize| -> Vec<(usize, &Note)> { notes.iter().enumerate().filter(|(_, n)| n.paragraph == p).map(|(i, n)| (first_id + i, n)).collect() };
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(0);
        let ev = reader.read_event().map_err(|e| err(format!("正文 XML 有误（{e}）")))?;
        let after = usize::try_from(reader.buffer_position()).unwrap_or(0);
        match ev {
            Event::Start(e) => {
                let name = e.name();
                let name = name.as_ref();
                if name == b"w:p" {
                    depth += 1;
                    if depth == 1 {
                        pos_chars = 0;
                        para_runs.clear();
                    } else if let Some(r) = run.as_mut() {
                        r.nested = true;
                    }
                }
                if let Some(r) = run.as_mut() {
                    if run_depth == 1 && child_start.is_none() {
                        if name == b"w:rPr" {
                            in_rpr = Some(before);
                        } else {
                            child_start = Some(before);
                        }
                    }
                    r.to = pos_chars;
                    run_depth += 1;
                    if name == b"w:t" {
                        in_t = Some((before, String::new(), pos_chars));
                    }
                } else if name == b"w:r" && depth >= 1 {
                    run = Some(Run { start: before, end: before, rpr: None, children: Vec::new(), from: pos_chars, to: pos_chars, nested: false });
                    run_depth = 1;
                } else if name == b"w:t" && depth >= 1 {
                    in_t = Some((before, String::new(), pos_chars));
                }
            }
            Event::Empty(e) => {
                if let Some(r) = run.as_mut() {
                    if run_depth == 1 {
                        r.children.push(Child { start: before, end: after, text: None });
                    }
                }
                // `<w:p/>`: an empty paragraph, counted as `draft::docx_paragraphs` counts it.
                if e.name().as_ref() == b"w:p" && depth == 0 {
                    para += 1;
                }
            }
            Event::Text(t) => {
                if let Some((_, s, _)) = in_t.as_mut() {
                    s.push_str(&crate::draft::unescape(&t)?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, s, _)) = in_t.as_mut() {
                    s.push_str(&crate::draft::entity(&r));
                }
            }
            Event::End(e) => {
                let name = e.name();
                let name = name.as_ref();
                if name == b"w:t" {
                    if let Some((start, text, from)) = in_t.take() {
                        pos_chars += text.chars().count();
                        if let Some(r) = run.as_mut() {
                            if run_depth == 2 {
                                r.children.push(Child { start, end: after, text: Some((text, from)) });
                                child_start = None;
                            }
                        }
                    }
                }
                if let Some(r) = run.as_mut() {
                    run_depth -= 1;
                    if run_depth == 1 {
                        if name == b"w:rPr" {
                            r.rpr = in_rpr.take().map(|s| (s, after));
                        } else if let Some(s) = child_start.take() {
                            r.children.push(Child { start: s, end: after, text: None });
                        }
                    }
                    if run_depth == 0 {
                        r.end = after;
                        r.to = pos_chars;
                        if let Some(done) = run.take() {
                            para_runs.push(done);
                        }
                    }
                }
                if name == b"w:p" {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        let mine = by_para(para);
                        if !mine.is_empty() {
                            place(xml, &para_runs, markers_of(&mine), before, &mut inserts, &mut replaces);
                        }
                        para += 1;
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut edits: Vec<(usize, usize, String)> = replaces;
    edits.extend(inserts.into_iter().map(|(p, s)| (p, p, s)));
    edits.sort_by_key(|e| (e.0, e.1));
    let mut out = String::with_capacity(xml.len() + edits.len() * 120);
    let mut at = 0;
    for (s, e, text) in edits {
        if s < at {
            continue;
        }
        out.push_str(&xml[at..s]);
        out.push_str(&text);
        at = e;
    }
    out.push_str(&xml[at..]);
    Ok(out)
}

/// Puts one paragraph's markers: before the run a position starts, inside a run split there,
/// or before `</w:p>` at the paragraph's end.
fn place(xml: &str, runs: &[Run], markers: Vec<(usize, u8, String)>, para_end: usize, inserts: &mut Vec<Insert>, replaces: &mut Vec<(usize, usize, String)>) {
    let mut pending = markers.into_iter().peekable();
    for r in runs.iter().filter(|r| r.to > r.from) {
        // Markers at or before the run's first char go before it.
        let mut here = String::new();
        while let Some(m) = pending.next_if(|m| m.0 <= r.from) {
            here.push_str(&m.2);
        }
        if !here.is_empty() {
            inserts.push((r.start, here));
        }
        let inside: Vec<(usize, u8, String)> = std::iter::from_fn(|| pending.next_if(|m| m.0 < r.to)).collect();
        if inside.is_empty() {
            continue;
        }
        if r.nested {
            // A run holding a text box stays whole; its markers go after it.
            inserts.push((r.end, inside.into_iter().map(|m| m.2).collect()));
            continue;
        }
        replaces.push((r.start, r.end, split_run(xml, r, inside)));
    }
    let rest: String = pending.map(|m| m.2).collect();
    if !rest.is_empty() {
        inserts.push((para_end, rest));
    }
}

/// A run rewritten as several, split at the markers' positions (all inside its text).
fn split_run(xml: &str, r: &Run, markers: Vec<(usize, u8, String)>) -> String {
    let rpr = r.rpr.map_or("", |(s, e)| &xml[s..e]);
    let open = &xml[r.start..xml[r.start..].find('>').map_or(r.start, |p| r.start + p + 1)];
    let open = if open.ends_with("/>") || open.is_empty() { "<w:r>" } else { open };
    let mut out = String::new();
    let mut markers = markers.into_iter().peekable();
    for c in &r.children {
        match &c.text {
            None => {
                out.push_str(open);
                out.push_str(rpr);
                out.push_str(&xml[c.start..c.end]);
                out.push_str("</w:r>");
            }
            Some((text, from)) => {
                let chars: Vec<char> = text.chars().collect();
                let mut piece_start = 0;
                let emit = |out: &mut String, a: usize, b: usize| {
                    if b > a {
                        let piece: String = chars[a..b].iter().collect();
                        out.push_str(&format!("{open}{rpr}<w:t xml:space=\"preserve\">{}</w:t></w:r>", escape(&piece)));
                    }
                };
                while let Some(m) = markers.next_if(|m| m.0 < from + chars.len()) {
                    let at = m.0.saturating_sub(*from).max(piece_start);
                    emit(&mut out, piece_start, at);
                    piece_start = at;
                    out.push_str(&m.2);
                }
                emit(&mut out, piece_start, chars.len());
            }
        }
    }
    for m in markers {
        out.push_str(&m.2);
    }
    out
}

fn read_part(zip: &mut ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Option<String>> {
    let Ok(entry) = zip.by_name(name) else { return Ok(None) };
    let mut s = String::new();
    entry.take(64 << 20).read_to_string(&mut s).map_err(err)?;
    Ok(Some(s))
}

/// The highest `w:id` in comments.xml, to number new comments after it.
fn max_comment_id(comments: &str) -> Option<usize> {
    comments
        .match_indices("w:id=\"")
        .filter_map(|(i, m)| comments[i + m.len()..].split('"').next()?.parse::<usize>().ok())
        .max()
}

fn comment_xml(id: usize, text: &str) -> String {
    let paras: String = text.split('\n').map(|l| format!("<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", escape(l))).collect();
    format!("<w:comment w:id=\"{id}\" w:author=\"{AUTHOR}\" w:initials=\"校\">{paras}</w:comment>")
}

/// The .docx with a comment on each note; the original bytes are not changed.
pub fn annotate(docx: &[u8], notes: &[Note]) -> Result<Vec<u8>> {
    let mut zip = ZipArchive::new(Cursor::new(docx)).map_err(|e| err(format!("不是有效的 .docx 文件（{e}）")))?;
    let document = read_part(&mut zip, "word/document.xml")?.ok_or_else(|| err("文件里没有 word/document.xml"))?;
    let comments = read_part(&mut zip, "word/comments.xml")?;
    let first_id = comments.as_deref().and_then(max_comment_id).map_or(0, |m| m + 1);
    let new_comments: String = notes.iter().enumerate().map(|(i, n)| comment_xml(first_id + i, &n.text)).collect();
    let comments = match comments {
        Some(c) => match c.rfind("</w:comments>") {
            Some(p) => format!("{}{new_comments}{}", &c[..p], &c[p..]),
            // `<w:comments/>`: empty, written again.
            None => format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:comments xmlns:w=\"{W_NS}\">{new_comments}</w:comments>"),
        },
        None => format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:comments xmlns:w=\"{W_NS}\">{new_comments}</w:comments>"),
    };
    let document = annotate_document(&document, notes, first_id)?;
    let rels_name = "word/_rels/document.xml.rels";
    let rels = read_part(&mut zip, rels_name)?.unwrap_or_else(|| "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"></Relationships>".into());
    let rels = if rels.contains(COMMENTS_REL) {
        rels
    } else {
        let rel = format!("<Relationship Id=\"rIdTaizhangVerify\" Type=\"{COMMENTS_REL}\" Target=\"comments.xml\"/>");
        match rels.rfind("</Relationships>") {
            Some(p) => format!("{}{rel}{}", &rels[..p], &rels[p..]),
            None => return Err(err("word/_rels/document.xml.rels 有误")),
        }
    };
    let types = read_part(&mut zip, "[Content_Types].xml")?.ok_or_else(|| err("文件里没有 [Content_Types].xml"))?;
    let types = if types.contains("/word/comments.xml") {
        types
    } else {
        let o = format!("<Override PartName=\"/word/comments.xml\" ContentType=\"{COMMENTS_TYPE}\"/>");
        match types.rfind("</Types>") {
            Some(p) => format!("{}{o}{}", &types[..p], &types[p..]),
            None => return Err(err("[Content_Types].xml 有误")),
        }
    };
    let replaced: [(&str, &str); 4] = [("word/document.xml", &document), ("word/comments.xml", &comments), (rels_name, &rels), ("[Content_Types].xml", &types)];
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut written: Vec<&str> = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(err)?;
        let name = entry.name().to_string();
        match replaced.iter().find(|(n, _)| *n == name) {
            None => out.raw_copy_file(entry).map_err(err)?,
            Some((n, text)) => {
                drop(entry);
                out.start_file(*n, options).map_err(err)?;
                out.write_all(text.as_bytes()).map_err(err)?;
                written.push(n);
            }
        }
    }
    for (n, text) in replaced {
        if !written.contains(&n) {
            out.start_file(n, options).map_err(err)?;
            out.write_all(text.as_bytes()).map_err(err)?;
        }
    }
    Ok(out.finish().map_err(err)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_inside_a_run_is_split_out_and_commented() {
        let bytes = plain_docx("标题\n打井2处，防洪堤建设2000余米").unwrap_or_default();
        let notes = vec![Note { paragraph: 1, start: 2, end: 4, text: "一致".into() }, Note { paragraph: 1, start: 10, end: 16, text: "不一致".into() }];
        let out = annotate(&bytes, &notes).unwrap_or_default();
        let xml = crate::draft::document_xml(&out).unwrap_or_default();
        assert_eq!(xml.matches("<w:commentRangeStart").count(), 2);
        assert_eq!(xml.matches("<w:commentReference").count(), 2);
        assert_eq!(crate::draft::docx_paragraphs(&xml).unwrap_or_default(), vec!["标题".to_string(), "打井2处，防洪堤建设2000余米".into()]);
        let s = xml.find("commentRangeStart w:id=\"0\"").unwrap_or(0);
        let e = xml.find("commentRangeEnd w:id=\"0\"").unwrap_or(0);
        assert!(xml[s..e].contains(">2处<"), "{}", &xml[s..e]);
    }
}

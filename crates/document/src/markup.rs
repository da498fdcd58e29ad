//! The Markdown subset that report templates write.
//!
//! Only what a summary needs is interpreted: a title, four heading levels, paragraphs and
//! figures written as links. Everything else stays text, so a template author never has to
//! escape the asterisks, underscores or brackets that ordinary Chinese text may contain.

use crate::{Block, Document, Span};

/// Parses template output into a [`Document`]. Never fails and never panics: text that is not
/// markup is kept as text.
///
/// - The first `# ` line is the title; a later `# ` line is ordinary text.
/// - `## `, `### `, `#### `, `##### ` lines are headings of levels 1 to 4; a heading with no
///   text is dropped.
/// - Other non-blank lines are paragraph text; consecutive lines join into one paragraph with
///   nothing between them, because Chinese puts no space between words.
/// - Leading and trailing whitespace of a line is dropped, including the full-width spaces
///   (U+3000) that plain-text drafts use to indent, since indenting is the layout's job.
/// - `[text](target)` is a figure; a `[` not followed by a complete `](…)` is text.
pub fn parse_markup(text: &str) -> Document {
    let mut title = None;
    let mut blocks = Vec::new();
    let mut paragraph = String::new();

    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            end_paragraph(&mut paragraph, &mut blocks);
            continue;
        }
        match classify(line, title.is_some()) {
            Line::Title(text) => {
                end_paragraph(&mut paragraph, &mut blocks);
                title = Some(text.to_owned());
            }
            Line::Heading { level, text } => {
                end_paragraph(&mut paragraph, &mut blocks);
                if !text.is_empty() {
                    blocks.push(Block::Heading {
                        level,
                        spans: parse_spans(text),
                    });
                }
            }
            Line::Text(text) => paragraph.push_str(text),
        }
    }
    end_paragraph(&mut paragraph, &mut blocks);

    Document {
        title: title.unwrap_or_default(),
        blocks,
    }
}

enum Line<'a> {
    Title(&'a str),
    Heading { level: u8, text: &'a str },
    Text(&'a str),
}

fn classify(line: &str, has_title: bool) -> Line<'_> {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    let rest = &line[hashes..];
    // As in Markdown, the marker needs whitespace after it: "#3号楼" is text, not a heading.
    let is_marker = rest.chars().next().is_none_or(char::is_whitespace);
    if !is_marker {
        return Line::Text(line);
    }
    let text = rest.trim();
    match hashes {
        1 if !has_title => Line::Title(text),
        2..=5 => Line::Heading {
            level: (hashes - 1) as u8,
            text,
        },
        _ => Line::Text(line),
    }
}

fn end_paragraph(paragraph: &mut String, blocks: &mut Vec<Block>) {
    if !paragraph.is_empty() {
        blocks.push(Block::Paragraph(parse_spans(paragraph)));
        paragraph.clear();
    }
}

fn parse_spans(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after_open = &rest[open + 1..];
        match parse_link(after_open) {
            Some(link) => {
                plain.push_str(&rest[..open]);
                if !plain.is_empty() {
                    spans.push(Span::Text(std::mem::take(&mut plain)));
                }
                spans.push(Span::Figure {
                    text: link.text.to_owned(),
                    target: link.target.to_owned(),
                });
                rest = &after_open[link.len..];
            }
            None => {
                plain.push_str(&rest[..=open]);
                rest = after_open;
            }
        }
    }
    plain.push_str(rest);
    if !plain.is_empty() {
        spans.push(Span::Text(plain));
    }
    spans
}

struct Link<'a> {
    text: &'a str,
    target: &'a str,
    /// Bytes consumed after the opening `[`.
    len: usize,
}

/// Reads `text](target)` just after a `[`.
fn parse_link(after_open: &str) -> Option<Link<'_>> {
    let close = after_open.find(']')?;
    let text = &after_open[..close];
    // A `[` inside means the link, if any, starts at that inner bracket.
    if text.is_empty() || text.contains('[') {
        return None;
    }
    let after_text = after_open[close + 1..].strip_prefix('(')?;
    let end = after_text.find(')')?;
    let target = after_text[..end].trim();
    if target.is_empty() {
        return None;
    }
    Some(Link {
        text,
        target,
        len: close + 2 + end + 1,
    })
}

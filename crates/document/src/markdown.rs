//! Markdown for reading: it should look like the summaries a township office writes, so figures
//! lose their links here (the links live in the HTML).

use crate::{clamp_level, plain_text, Block, Document};

pub fn to_markdown(doc: &Document) -> String {
    let mut parts = Vec::with_capacity(doc.blocks.len() + 1);
    if !doc.title.is_empty() {
        parts.push(format!("# {}", doc.title));
    }
    for block in &doc.blocks {
        parts.push(match block {
            Block::Heading { level, spans } => {
                let marks = "#".repeat(usize::from(clamp_level(*level)) + 1);
                format!("{marks} {}", plain_text(spans))
            }
            Block::Paragraph(spans) => plain_text(spans),
            // Markdown has no right alignment: the two lines as they read.
            Block::Signature { issuer, date } => format!("{issuer}  \n{date}"),
        });
    }
    let mut out = parts.join("\n\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

//! HTML for the browser. Self-contained on purpose: township offices often sit on networks
//! without internet access, so nothing is fetched (no CDN, no web fonts) and the fonts are
//! named as stacks that fall back to what the machine has.

use crate::xml::{escape, escape_into};
use crate::{clamp_level, Block, Document, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HtmlOptions {
    /// A whole page with `<head>` and [`STYLESHEET`] inline; otherwise an `<article>` fragment
    /// for a page that brings its own styles.
    pub standalone: bool,
    /// Figures become links to the records behind them.
    pub link_figures: bool,
}

/// The official look on screen, scoped to `.document` so a host page can include it as is.
pub const STYLESHEET: &str = r#".document {
  max-width: 156mm; margin: 0 auto; padding: 2em 1em;
  font-family: "仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "STFangsong", "Noto Serif CJK SC", serif;
  font-size: 16pt; line-height: 1.8; text-align: justify; color: #000;
}
.document h1 {
  font-family: "方正小标宋简体", "FZXiaoBiaoSong-B05S", "STZhongsong", "华文中宋", "Noto Serif CJK SC", "SimSun", serif;
  font-size: 22pt; font-weight: normal; text-align: center; margin: 0 0 1em;
}
.document h2, .document h3, .document h4, .document h5, .document p {
  font-size: 16pt; font-weight: normal; text-indent: 2em; margin: 0;
}
.document h2 { font-family: "黑体", "SimHei", "STHeiti", "Noto Sans CJK SC", sans-serif; }
.document h3 { font-family: "楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "STKaiti", "Noto Serif CJK SC", serif; }
.document a.figure { color: inherit; text-decoration: underline dotted; }
.document p.signature { text-indent: 0; text-align: right; margin: 1.8em 2em 0 0; }
@media print {
  @page { size: A4; margin: 37mm 26mm 35mm 28mm; }
  .document { max-width: none; padding: 0; }
  .document a.figure { text-decoration: none; }
}
"#;

pub fn to_html(doc: &Document, opts: &HtmlOptions) -> String {
    let mut out = String::new();
    if opts.standalone {
        out.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        out.push_str(&format!("<title>{}</title>\n", escape(&doc.title)));
        out.push_str("<style>\n");
        out.push_str(STYLESHEET);
        out.push_str("</style>\n</head>\n<body>\n");
    }
    // The fragment repeats the language so it is right wherever it is embedded.
    out.push_str("<article class=\"document\" lang=\"zh-CN\">\n");
    if !doc.title.is_empty() {
        out.push_str("<h1>");
        escape_into(&mut out, &doc.title);
        out.push_str("</h1>\n");
    }
    for block in &doc.blocks {
        let (tag, spans) = match block {
            Block::Heading { level, spans } => (heading_tag(*level), spans),
            Block::Paragraph(spans) => ("p", spans),
            Block::Signature { issuer, date } => {
                out.push_str("<p class=\"signature\">");
                escape_into(&mut out, issuer);
                out.push_str("<br>");
                escape_into(&mut out, date);
                out.push_str("</p>\n");
                continue;
            }
        };
        out.push_str(&format!("<{tag}>"));
        write_spans(&mut out, spans, opts.link_figures);
        out.push_str(&format!("</{tag}>\n"));
    }
    out.push_str("</article>\n");
    if opts.standalone {
        out.push_str("</body>\n</html>\n");
    }
    out
}

/// The title takes `<h1>`, so heading levels 1–4 are `<h2>`–`<h5>`.
fn heading_tag(level: u8) -> &'static str {
    match clamp_level(level) {
        1 => "h2",
        2 => "h3",
        3 => "h4",
        _ => "h5",
    }
}

fn write_spans(out: &mut String, spans: &[Span], link_figures: bool) {
    for span in spans {
        match span {
            Span::Figure { text, target } if link_figures && is_safe_href(target) => {
                out.push_str("<a class=\"figure\" href=\"");
                escape_into(out, target);
                out.push_str("\">");
                write_text(out, text);
                out.push_str("</a>");
            }
            span => write_text(out, span.text()),
        }
    }
}

fn write_text(out: &mut String, text: &str) {
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        escape_into(out, line);
    }
}

/// Templates can be edited by office staff, so a figure's target is not trusted to be a
/// harmless link: only relative links and http(s) are written as `href`; anything with another
/// scheme (`javascript:`, `data:`) renders as plain text.
fn is_safe_href(target: &str) -> bool {
    let before_path = target.split(['/', '?', '#']).next().unwrap_or_default();
    match before_path.split_once(':') {
        None => true,
        Some((scheme, _)) => {
            scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_safe_href;

    #[test]
    fn only_relative_and_web_links_are_safe() {
        for ok in [
            "/explain/x?year=2023",
            "x?a=b:c",
            "#f",
            "https://a/b",
            "HTTP://a",
        ] {
            assert!(is_safe_href(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            " javascript:x",
            "JaVaScRiPt:x",
            "data:text/html,x",
        ] {
            assert!(!is_safe_href(bad), "{bad}");
        }
    }
}

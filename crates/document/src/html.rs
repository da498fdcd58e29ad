//! HTML for the browser. Self-contained on purpose: township offices often sit on networks
//! without internet access, so nothing is fetched (no CDN, no web fonts) and the fonts are
//! named as stacks that fall back to what the machine has.

use crate::xml::{escape, escape_into};
use crate::{clamp_level, Block, Document, Span};

/// Where a figure's link leads once the document leaves the application.
///
/// A figure's target is written for the web app (`/explain/…?year=2023&place=…`): it resolves
/// on a page the app serves, but a file opened from disk or printed has no server behind it, so
/// a file either names the app's address or carries no link at all.
#[derive(Clone, Copy)]
pub enum FigureLinks<'a> {
    /// Figures are plain text.
    Plain,
    /// Targets as written: a page the application serves, where `/explain/…` resolves.
    AsWritten,
    /// Each target put after this base URL (`https://taizhang.example.cn`): absolute links
    /// that work from a file on disk as long as the app is reachable there.
    Base(&'a str),
    /// No link: each figure gets a numbered note at the end of the document, its text what the
    /// function makes of the target (the command a clerk runs to see the records), or the
    /// target itself when the function gives nothing. Word leaves the figures plain instead:
    /// notes listing commands have no place in a printed official document.
    Notes(&'a dyn Fn(&str) -> Option<String>),
}

impl std::fmt::Debug for FigureLinks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FigureLinks::Plain => f.write_str("Plain"),
            FigureLinks::AsWritten => f.write_str("AsWritten"),
            FigureLinks::Base(base) => f.debug_tuple("Base").field(base).finish(),
            FigureLinks::Notes(_) => f.write_str("Notes"),
        }
    }
}

impl FigureLinks<'_> {
    /// The href a figure's target becomes, if it is a link at all: only safe targets (see
    /// [`is_safe_href`]), and with a base only the app's own paths (`/…`) are put after it.
    pub(crate) fn href(&self, target: &str) -> Option<String> {
        if !is_safe_href(target) {
            return None;
        }
        match self {
            FigureLinks::Plain | FigureLinks::Notes(_) => None,
            FigureLinks::AsWritten => Some(target.to_owned()),
            FigureLinks::Base(base) => {
                if target.starts_with('/') && !target.starts_with("//") {
                    let base = base.trim().trim_end_matches('/');
                    let href = format!("{base}{target}");
                    (is_web_url(base) && is_safe_href(&href)).then_some(href)
                } else if is_web_url(target) {
                    Some(target.to_owned())
                } else {
                    // A relative target other than the app's paths cannot be made absolute
                    // with certainty; no link is better than a dead one.
                    None
                }
            }
        }
    }
}

/// `http://` or `https://` with a host: the only bases a link may be put after.
pub fn is_web_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["http://", "https://"].iter().any(|scheme| {
        lower
            .strip_prefix(scheme)
            .is_some_and(|rest| rest.split(['/', '?', '#']).next().is_some_and(|host| !host.is_empty()))
    })
}

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
.document sup.note-ref { font-size: 0.6em; line-height: 0; }
.document sup.note-ref a { color: inherit; text-decoration: none; }
.document .notes { margin-top: 2em; border-top: 1px solid #999; font-size: 10.5pt; line-height: 1.5; text-align: left; }
.document .notes p { font-size: 10.5pt; text-indent: 0; margin: 0.5em 0 0; }
.document .notes ol { margin: 0.3em 0 0; padding-left: 2em; }
.document .notes code { font-family: "SimSun", "宋体", "Noto Sans Mono CJK SC", monospace; overflow-wrap: anywhere; }
@media print {
  /* GB/T 9704: "— 1 —" in 四号 宋体, 7 mm below the text block, one character in from the
     right edge on odd pages and from the left on even pages. Chromium draws these margin
     boxes from version 131; an older browser prints no number rather than a wrong one. */
  @page { size: A4; margin: 37mm 26mm 35mm 28mm; }
  @page :right {
    @bottom-right { content: "\2014\00a0" counter(page) "\00a0\2014"; font: 14pt "宋体", "SimSun", "Noto Serif CJK SC", serif; vertical-align: top; padding: 7mm 14pt 0 0; }
  }
  @page :left {
    @bottom-left { content: "\2014\00a0" counter(page) "\00a0\2014"; font: 14pt "宋体", "SimSun", "Noto Serif CJK SC", serif; vertical-align: top; padding: 7mm 0 0 14pt; }
  }
  .document { max-width: none; padding: 0; }
  .document a.figure { text-decoration: none; }
}
"#;

/// The document as HTML; figures link to their targets as written when `opts.link_figures`.
pub fn to_html(doc: &Document, opts: &HtmlOptions) -> String {
    let links = if opts.link_figures {
        FigureLinks::AsWritten
    } else {
        FigureLinks::Plain
    };
    to_html_with(doc, opts.standalone, links)
}

/// The document as HTML with figures linked as `links` says (`opts.link_figures` of
/// [`to_html`] is the choice between [`FigureLinks::AsWritten`] and [`FigureLinks::Plain`]).
pub fn to_html_with(doc: &Document, standalone: bool, links: FigureLinks<'_>) -> String {
    let mut notes = Notes::default();
    let mut out = String::new();
    if standalone {
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
        write_spans(&mut out, spans, links, &mut notes);
        out.push_str(&format!("</{tag}>\n"));
    }
    notes.write(&mut out);
    out.push_str("</article>\n");
    if standalone {
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

fn write_spans(out: &mut String, spans: &[Span], links: FigureLinks<'_>, notes: &mut Notes) {
    for span in spans {
        let Span::Figure { text, target } = span else {
            write_text(out, span.text());
            continue;
        };
        if let FigureLinks::Notes(note_of) = links {
            write_text(out, text);
            let text = note_of(target).unwrap_or_else(|| target.clone());
            let n = notes.number(text);
            // Same-document anchors only: they work from disk and in print. In brackets, since a
            // bare superscript after a number reads as a power ("90²亩").
            out.push_str(&format!(
                "<sup class=\"note-ref\"><a href=\"#note-{n}\">[{n}]</a></sup>"
            ));
            continue;
        }
        match links.href(target) {
            Some(href) => {
                out.push_str("<a class=\"figure\" href=\"");
                escape_into(out, &href);
                out.push_str("\">");
                write_text(out, text);
                out.push_str("</a>");
            }
            None => write_text(out, text),
        }
    }
}

/// The notes of [`FigureLinks::Notes`], numbered in order of first use; a figure whose note
/// reads like an earlier one's shares its number.
#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn number(&mut self, text: String) -> usize {
        match self.0.iter().position(|known| *known == text) {
            Some(i) => i + 1,
            None => {
                self.0.push(text);
                self.0.len()
            }
        }
    }

    fn write(&self, out: &mut String) {
        if self.0.is_empty() {
            return;
        }
        out.push_str("<section class=\"notes\">\n<p>注：文中数字可在台账系统中查看其依据的记录，办法如下。</p>\n<ol>\n");
        for (i, text) in self.0.iter().enumerate() {
            out.push_str(&format!("<li id=\"note-{}\"><code>", i + 1));
            escape_into(out, text);
            out.push_str("</code></li>\n");
        }
        out.push_str("</ol>\n</section>\n");
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
pub(crate) fn is_safe_href(target: &str) -> bool {
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

mod common;

use common::sample;
use taizhang_document::{to_html, to_markdown, Block, Document, HtmlOptions, Span};

const FRAGMENT: HtmlOptions = HtmlOptions {
    standalone: false,
    link_figures: true,
};

#[test]
fn markdown_reads_like_the_seed() {
    insta::assert_snapshot!(to_markdown(&sample()));
}

#[test]
fn markdown_of_an_empty_document_is_empty() {
    let doc = Document {
        title: String::new(),
        blocks: vec![],
    };
    assert_eq!(to_markdown(&doc), "");
}

#[test]
fn html_fragment() {
    insta::assert_snapshot!(to_html(&sample(), &FRAGMENT));
}

#[test]
fn html_escapes_text_titles_and_links() {
    let doc = Document {
        title: "<script>alert(1)</script>".to_owned(),
        blocks: vec![Block::Paragraph(vec![
            Span::Text("A&B <b>\"引号\" 'x'".to_owned()),
            Span::Figure {
                text: "<260余台>".to_owned(),
                target: "/explain/x?a=1&b=\"2\"".to_owned(),
            },
        ])],
    };
    let page = to_html(
        &doc,
        &HtmlOptions {
            standalone: true,
            link_figures: true,
        },
    );
    assert!(!page.contains("<script>"));
    assert!(page.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"));
    assert!(page.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
    assert!(page.contains("<p>A&amp;B &lt;b&gt;&quot;引号&quot; &#39;x&#39;"));
    assert!(page.contains(
        "<a class=\"figure\" href=\"/explain/x?a=1&amp;b=&quot;2&quot;\">&lt;260余台&gt;</a>"
    ));
}

#[test]
fn figures_with_a_script_target_are_not_linked() {
    let doc = Document {
        title: String::new(),
        blocks: vec![Block::Paragraph(vec![Span::Figure {
            text: "12期".to_owned(),
            target: "javascript:alert(1)".to_owned(),
        }])],
    };
    let html = to_html(&doc, &FRAGMENT);
    assert!(!html.contains("href"), "{html}");
    assert!(html.contains("<p>12期</p>"));
}

#[test]
fn figures_are_plain_text_unless_linked() {
    let html = to_html(
        &sample(),
        &HtmlOptions {
            standalone: false,
            link_figures: false,
        },
    );
    assert!(!html.contains("<a ") && !html.contains("href"));
    assert!(html.contains("本年度办理了260余台农机补贴申报"));
}

#[test]
fn a_standalone_page_needs_nothing_from_outside() {
    let page = to_html(
        &sample(),
        &HtmlOptions {
            standalone: true,
            link_figures: true,
        },
    );
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"zh-CN\">"));
    assert!(page.contains("<meta charset=\"utf-8\">"));
    assert!(page.contains("<style>"));
    for external in [
        "<link",
        "<script",
        "@import",
        "url(",
        "@font-face",
        "http:",
        "https:",
    ] {
        assert!(!page.contains(external), "{external}");
    }
    assert!(page.contains("\"FangSong\", \"STFangsong\", \"Noto Serif CJK SC\", serif"));
}

#[test]
fn a_fragment_has_no_page_around_it() {
    let html = to_html(&sample(), &FRAGMENT);
    assert!(html.starts_with("<article class=\"document\" lang=\"zh-CN\">"));
    assert!(!html.contains("<head>") && !html.contains("<style>"));
}

#[test]
fn heading_levels_follow_the_title() {
    let heading = |level| Block::Heading {
        level,
        spans: vec![Span::Text(format!("级{level}"))],
    };
    let doc = Document {
        title: "题".to_owned(),
        blocks: (0..=6).map(heading).collect(),
    };
    let html = to_html(&doc, &FRAGMENT);
    for expected in [
        "<h1>题</h1>",
        "<h2>级0</h2>", // out-of-range levels are folded into 1..=4
        "<h2>级1</h2>",
        "<h3>级2</h3>",
        "<h4>级3</h4>",
        "<h5>级4</h5>",
        "<h5>级6</h5>",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
}

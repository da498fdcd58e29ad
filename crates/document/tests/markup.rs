use proptest::prelude::*;
use taizhang_document::{
    parse_markup, to_docx, to_html, to_markdown, Block, Document, HtmlOptions, OfficialStyle, Span,
};

fn text(s: &str) -> Span {
    Span::Text(s.to_owned())
}

fn figure(s: &str, target: &str) -> Span {
    Span::Figure {
        text: s.to_owned(),
        target: target.to_owned(),
    }
}

fn paragraph(text_: &str) -> Block {
    Block::Paragraph(vec![text(text_)])
}

#[test]
fn title_headings_and_paragraphs() {
    let doc = parse_markup(
        "# 北斗溪镇2023年工作总结\n\n过去的一年，\n锐意进取。\n\n## 一、促发展\n### （一）抓学习\n#### 1. 夜校\n##### （1）授课\n举办[12期](/explain/night_school?year=2023)。\n",
    );
    let heading = |level, s: &str| Block::Heading {
        level,
        spans: vec![text(s)],
    };
    assert_eq!(
        doc,
        Document {
            title: "北斗溪镇2023年工作总结".to_owned(),
            blocks: vec![
                paragraph("过去的一年，锐意进取。"),
                heading(1, "一、促发展"),
                heading(2, "（一）抓学习"),
                heading(3, "1. 夜校"),
                heading(4, "（1）授课"),
                Block::Paragraph(vec![
                    text("举办"),
                    figure("12期", "/explain/night_school?year=2023"),
                    text("。"),
                ]),
            ],
        }
    );
}

#[test]
fn lines_join_without_spaces_and_lose_their_indent() {
    let doc = parse_markup("\u{3000}\u{3000}一是旗帜鲜明讲政治，\r\n  二是创新方式抓学习。  \r\n");
    assert_eq!(
        doc.blocks,
        vec![paragraph("一是旗帜鲜明讲政治，二是创新方式抓学习。")]
    );
    assert_eq!(doc.title, "");
}

#[test]
fn a_heading_ends_the_paragraph_before_it() {
    let doc = parse_markup("甲\n## 乙\n丙");
    assert_eq!(
        doc.blocks,
        vec![
            paragraph("甲"),
            Block::Heading {
                level: 1,
                spans: vec![text("乙")]
            },
            paragraph("丙"),
        ]
    );
}

#[test]
fn markers_without_a_space_or_too_many_hashes_are_text() {
    let doc = parse_markup("#3号楼\n\n###### 六级\n\n##\n\n# 标题\n\n# 又一个标题");
    assert_eq!(doc.title, "标题");
    assert_eq!(
        doc.blocks,
        vec![
            paragraph("#3号楼"),
            paragraph("###### 六级"),
            // The empty heading `##` is dropped; a second `# ` line is text.
            paragraph("# 又一个标题"),
        ]
    );
}

#[test]
fn figures_between_and_around_text() {
    let doc = parse_markup("[1330户4785人](/explain/a)和[260余台](/explain/b)");
    assert_eq!(
        doc.blocks,
        vec![Block::Paragraph(vec![
            figure("1330户4785人", "/explain/a"),
            text("和"),
            figure("260余台", "/explain/b"),
        ])]
    );
}

#[test]
fn brackets_that_are_not_links_stay_text() {
    for literal in [
        "见[注]。",
        "a[b",
        "[x](",
        "[x] (y)",
        "[](/t)",
        "[t]()",
        "[t](   )",
        "]( [",
        "*强调* _下划线_ `代码`",
    ] {
        assert_eq!(
            parse_markup(literal).blocks,
            vec![paragraph(literal)],
            "{literal}"
        );
    }
}

#[test]
fn a_link_starts_at_the_innermost_bracket() {
    let doc = parse_markup("[甲[12期](/t)");
    assert_eq!(
        doc.blocks,
        vec![Block::Paragraph(vec![text("[甲"), figure("12期", "/t")])]
    );
}

#[test]
fn odd_inputs_do_not_panic() {
    let odd = [
        "",
        "\n",
        "\r",
        "\r\n\r\n",
        "#",
        "# ",
        "##",
        "## ",
        "#####",
        "[",
        "]",
        "(",
        ")",
        "[]",
        "[](",
        "[a](b",
        "[a]((b))",
        "[[[[",
        "]]]]((((",
        "\u{0}",
        "\u{FEFF}# 标题",
        "\u{3000}",
        "é[é](é)é",
        "[\u{0}](\u{1})",
        "# [a](b)",
        "## [](x)",
        "\u{10FFFF}[\u{10FFFF}](\u{10FFFF})",
    ];
    for input in odd {
        let doc = parse_markup(input);
        render_everything(&doc);
    }
}

fn render_everything(doc: &Document) {
    to_markdown(doc);
    for standalone in [false, true] {
        for link_figures in [false, true] {
            to_html(
                doc,
                &HtmlOptions {
                    standalone,
                    link_figures,
                },
            );
        }
    }
    to_docx(doc, &OfficialStyle::default()).expect("writing to memory does not fail");
}

/// Text spans are merged and never empty, so renderers need not care.
fn spans_are_tidy(spans: &[Span]) -> bool {
    spans.iter().all(|span| !span.text().is_empty())
        && spans
            .windows(2)
            .all(|pair| !matches!(pair, [Span::Text(_), Span::Text(_)]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_markup_like_text(input in "[#\\[\\]() \n\r\u{3000}a中\u{0}]{0,40}") {
        let doc = parse_markup(&input);
        for block in &doc.blocks {
            // Markup never makes a 落款: the report adds it.
            let (Block::Heading { spans, .. } | Block::Paragraph(spans)) = block else {
                return Err(TestCaseError::fail("a signature from markup"));
            };
            prop_assert!(!spans.is_empty());
            prop_assert!(spans_are_tidy(spans));
        }
        to_markdown(&doc);
        to_html(&doc, &HtmlOptions { standalone: true, link_figures: true });
    }

    #[test]
    fn never_panics_on_any_text(input in any::<String>()) {
        let doc = parse_markup(&input);
        to_markdown(&doc);
        to_html(&doc, &HtmlOptions { standalone: false, link_figures: true });
    }
}

proptest! {
    // Fewer cases: each one compresses a whole package.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_text_renders_to_word(input in any::<String>()) {
        render_everything(&parse_markup(&input));
    }
}

#[test]
fn markdown_of_plain_text_parses_back_to_the_same_document() {
    let doc = parse_markup("# 总结\n\n甲乙\n\n## 一、丙\n\n### （一）丁\n\n戊");
    assert_eq!(parse_markup(&to_markdown(&doc)), doc);
}

//! The Word output, read back part by part and checked against GB/T 9704-2012.

mod common;

use common::{attr, entries, part, sample, start_tag, style};
use taizhang_document::{to_docx, Document, OfficialStyle};

fn render(doc: &Document) -> Vec<u8> {
    to_docx(doc, &OfficialStyle::default()).expect("writing to memory does not fail")
}

fn twips(xml: &str, element: &str, attribute: &str) -> i64 {
    attr(xml, element, attribute)
        .parse()
        .expect("a whole number")
}

fn mm(twips: i64) -> f64 {
    twips as f64 * 25.4 / 1440.0
}

#[test]
fn document_xml() {
    insta::assert_snapshot!(part(&render(&sample()), "word/document.xml"));
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let first = render(&sample());
    assert_eq!(first, render(&sample()));
    // No process-wide counters: renders on other threads, at the same time, agree too.
    let others: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| render(&sample()))).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("the render thread does not panic"))
            .collect()
    });
    assert!(others.iter().all(|other| *other == first));
}

#[test]
fn no_clock_in_the_package() {
    let docx = render(&sample());
    let fixed = zip::DateTime::default(); // 1980-01-01 00:00:00, the zip format's epoch
    for (name, modified) in entries(&docx) {
        assert_eq!(modified, Some(fixed), "{name}");
    }
    let core = part(&docx, "docProps/core.xml");
    assert!(!core.contains("dcterms:created") && !core.contains("dcterms:modified"));
    assert!(core.contains("<dc:title>北斗溪镇人民政府2023年工作总结</dc:title>"));
}

#[test]
fn the_package_holds_these_parts() {
    let names: Vec<String> = entries(&render(&sample()))
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        [
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/core.xml",
            "word/_rels/document.xml.rels",
            "word/document.xml",
            "word/styles.xml",
            "word/settings.xml",
            "word/fontTable.xml",
            "word/footer1.xml",
            "word/footer2.xml",
        ]
    );
}

#[test]
fn every_part_is_well_formed_xml() {
    let docx = render(&sample());
    for (name, _) in entries(&docx) {
        let text = part(&docx, &name);
        for event in xml::reader::EventReader::new(text.as_bytes()) {
            if let Err(error) = event {
                panic!("{name}: {error}");
            }
        }
    }
}

#[test]
fn another_reader_opens_it() {
    let docx = docx_rs::read_docx(&render(&sample())).expect("docx-rs reads the package");
    let texts: Vec<String> = docx
        .document
        .children
        .iter()
        .filter_map(|child| match child {
            docx_rs::DocumentChild::Paragraph(paragraph) => Some(paragraph.raw_text()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), 5);
    assert_eq!(texts[0], "北斗溪镇人民政府2023年工作总结");
    assert_eq!(
        texts[4],
        "本年度办理了260余台农机补贴申报；脱贫户1330户4785人，公益林补贴发放30.54万元。"
    );
}

#[test]
fn a4_with_the_standard_margins() {
    let document = part(&render(&sample()), "word/document.xml");
    let size = |attribute| twips(&document, "w:pgSz", attribute);
    let margin = |attribute| twips(&document, "w:pgMar", attribute);

    assert_eq!((size("w:w"), size("w:h")), (11906, 16838));
    assert_eq!(margin("w:top"), 2098);
    assert_eq!(margin("w:bottom"), 1984);
    assert_eq!(margin("w:left"), 1587);
    assert_eq!(margin("w:right"), 1474);
    assert_eq!(margin("w:gutter"), 0);

    // Against the standard's millimetres, to a tenth of a millimetre.
    let close = |twips: i64, expected_mm: f64| (mm(twips) - expected_mm).abs() < 0.1;
    assert!(close(size("w:w"), 210.0) && close(size("w:h"), 297.0));
    assert!(close(margin("w:top"), 37.0));
    assert!(close(margin("w:left"), 28.0));
    assert!(close(
        size("w:w") - margin("w:left") - margin("w:right"),
        156.0
    ));
    assert!(close(
        size("w:h") - margin("w:top") - margin("w:bottom"),
        225.0
    ));
}

/// With the character grid (`char_grid: true`), as Word and WPS lay a page out.
#[test]
fn twenty_two_lines_of_twenty_eight_characters() {
    let docx = to_docx(&sample(), &OfficialStyle { char_grid: true, ..OfficialStyle::default() }).expect("writing to memory does not fail");
    let document = part(&docx, "word/document.xml");
    assert_eq!(attr(&document, "w:docGrid", "w:type"), "linesAndChars");
    let line_pitch = twips(&document, "w:docGrid", "w:linePitch");
    let char_space = twips(&document, "w:docGrid", "w:charSpace");
    assert_eq!((line_pitch, char_space), (579, -842));

    let block_height = 16838 - 2098 - 1984;
    assert!(22 * line_pitch <= block_height && 23 * line_pitch > block_height);
    // Word's character pitch is the body size (16 pt) plus charSpace / 4096 pt.
    let block_width_pt = (11906 - 1587 - 1474) as f64 / 20.0;
    let pitch_pt = 16.0 + char_space as f64 / 4096.0;
    assert!(28.0 * pitch_pt <= block_width_pt && 29.0 * pitch_pt > block_width_pt);

    // Every body line is exactly one grid line high.
    let styles = part(&docx, "word/styles.xml");
    let normal = style(&styles, "Normal");
    assert_eq!(attr(normal, "w:spacing", "w:line"), "579");
    assert_eq!(attr(normal, "w:spacing", "w:lineRule"), "exact");
}

#[test]
fn fonts_sizes_and_paragraphs_of_each_style() {
    let styles = part(&render(&sample()), "word/styles.xml");
    let cases = [
        ("Normal", "仿宋_GB2312", "32"),
        ("Title", "方正小标宋简体", "44"),
        ("Heading1", "黑体", "32"),
        ("Heading2", "楷体_GB2312", "32"),
        ("Footer", "宋体", "28"),
    ];
    for (id, font, half_points) in cases {
        let style = style(&styles, id);
        for script in ["w:eastAsia", "w:ascii", "w:hAnsi"] {
            assert_eq!(attr(style, "w:rFonts", script), font, "{id} {script}");
        }
        if id != "Heading1" && id != "Heading2" {
            assert_eq!(attr(style, "w:sz", "w:val"), half_points, "{id}");
        }
    }
    // Headings 3 and 4 keep the body's 仿宋 三号 and add only their outline level.
    for id in ["Heading1", "Heading2", "Heading3", "Heading4"] {
        assert_eq!(attr(style(&styles, id), "w:basedOn", "w:val"), "Normal");
    }
    assert!(!style(&styles, "Heading3").contains("w:rFonts"));
    assert_eq!(
        attr(style(&styles, "Heading4"), "w:outlineLvl", "w:val"),
        "3"
    );

    // Body: first line indented two characters, justified.
    let normal = style(&styles, "Normal");
    assert_eq!(attr(normal, "w:ind", "w:firstLineChars"), "200");
    assert_eq!(attr(normal, "w:ind", "w:firstLine"), "640");
    assert_eq!(attr(normal, "w:jc", "w:val"), "both");
    // Title: centred, not indented.
    let title = style(&styles, "Title");
    assert_eq!(attr(title, "w:jc", "w:val"), "center");
    assert_eq!(attr(title, "w:ind", "w:firstLineChars"), "0");
    // The document default is the body font too, for anything typed in later.
    let defaults = start_tag(&styles, "w:rFonts");
    assert!(defaults.contains("w:eastAsia=\"仿宋_GB2312\""));
}

#[test]
fn page_numbers_right_on_odd_pages_and_left_on_even_pages() {
    let docx = render(&sample());
    let settings = part(&docx, "word/settings.xml");
    assert!(settings.contains("<w:evenAndOddHeaders/>"));
    assert!(!settings.contains("<w:mirrorMargins/>"));

    let document = part(&docx, "word/document.xml");
    let rels = part(&docx, "word/_rels/document.xml.rels");
    for (kind, footer, jc, indent) in [
        ("default", "footer1.xml", "right", "w:right"),
        ("even", "footer2.xml", "left", "w:left"),
    ] {
        let reference = format!("<w:footerReference w:type=\"{kind}\" r:id=\"");
        let id_start =
            document.find(&reference).expect("the footer is referenced") + reference.len();
        let id = &document[id_start..id_start + document[id_start..].find('"').expect("quoted")];
        assert!(
            rels.contains(&format!("Id=\"{id}\""))
                && rels.contains(&format!("Target=\"{footer}\""))
        );

        let xml = part(&docx, &format!("word/{footer}"));
        assert_eq!(attr(&xml, "w:jc", "w:val"), jc, "{footer}");
        // 空一字: one 四号 character (14 pt) in from the edge of the text block.
        assert_eq!(attr(&xml, "w:ind", indent), "280", "{footer}");
        assert!(xml.contains("<w:t xml:space=\"preserve\">\u{2014} </w:t>"));
        assert!(xml.contains("<w:instrText xml:space=\"preserve\"> PAGE </w:instrText>"));
        assert!(xml.contains("<w:t xml:space=\"preserve\"> \u{2014}</w:t>"));
    }
    // The dashes sit 7 mm below the text block: footer distance + one 14 pt line = 35 − 7 mm.
    let footer_distance = twips(&document, "w:pgMar", "w:footer");
    assert!((mm(footer_distance + 280) - 28.0).abs() < 0.1);
}

#[test]
fn font_names_are_settings() {
    let style = OfficialStyle {
        body_font: "方正仿宋_GBK".to_owned(),
        heading2_font: "方正楷体_GBK".to_owned(),
        ..OfficialStyle::default()
    };
    let docx = to_docx(&sample(), &style).expect("writing to memory does not fail");
    let styles = part(&docx, "word/styles.xml");
    assert!(!styles.contains("仿宋_GB2312") && !styles.contains("楷体_GB2312"));
    assert_eq!(
        attr(common::style(&styles, "Normal"), "w:rFonts", "w:eastAsia"),
        "方正仿宋_GBK"
    );
    let fonts = part(&docx, "word/fontTable.xml");
    assert!(fonts.contains("w:name=\"方正仿宋_GBK\"") && fonts.contains("w:name=\"方正楷体_GBK\""));
}

#[test]
fn without_the_character_grid_lines_are_kept_by_letter_spacing() {
    // The default: LibreOffice cannot narrow characters to Word's grid (docs: issue 16).
    assert!(!OfficialStyle::default().char_grid);
    let style = OfficialStyle {
        mirror_margins: true,
        ..OfficialStyle::default()
    };
    let docx = to_docx(&sample(), &style).expect("writing to memory does not fail");
    let document = part(&docx, "word/document.xml");
    assert_eq!(attr(&document, "w:docGrid", "w:type"), "lines");
    assert!(!start_tag(&document, "w:docGrid").contains("w:charSpace"));
    let styles = part(&docx, "word/styles.xml");
    let normal = common::style(&styles, "Normal");
    let rpr = &normal[normal.find("<w:rPr>").expect("run properties")..];
    let spacing: i64 = attr(rpr, "w:spacing", "w:val").parse().expect("a number");
    assert_eq!(spacing, -5);
    assert!(28 * (320 + spacing) <= 11906 - 1587 - 1474);
    assert!(part(&docx, "word/settings.xml").contains("<w:mirrorMargins/>"));
}

/// A PC without the official fonts uses the system face of the same style (`w:altName`).
#[test]
fn official_fonts_name_their_fallbacks() {
    let fonts = part(&render(&sample()), "word/fontTable.xml");
    for (font, alt) in [("仿宋_GB2312", "仿宋"), ("楷体_GB2312", "楷体"), ("方正小标宋简体", "华文中宋")] {
        let at = fonts.find(&format!("w:name=\"{font}\"")).unwrap_or_else(|| panic!("{font} in {fonts}"));
        let entry = &fonts[at..fonts[at..].find("</w:font>").map_or(fonts.len(), |e| at + e)];
        assert!(entry.contains(&format!("<w:altName w:val=\"{alt}\"/>")), "{font}: {entry}");
    }
    let hei = fonts.find("w:name=\"黑体\"").expect("黑体");
    assert!(!fonts[hei..].split("</w:font>").next().unwrap_or("").contains("altName"), "黑体 is on every PC");
}

/// The 落款 (GB/T 9704—2012, 7.3.5.3): the issuer and the date set to the right, the date's first
/// character two right of the issuer's, the longer of the two two characters from the margin.
#[test]
fn the_signature_is_set_to_the_right_as_the_standard_places_it() {
    use taizhang_document::Block;
    let right = |issuer: &str, date: &str| -> Vec<i64> {
        let doc = Document { title: String::new(), blocks: vec![Block::Signature { issuer: issuer.into(), date: date.into() }] };
        let xml = part(&to_docx(&doc, &OfficialStyle::default()).expect("docx"), "word/document.xml");
        xml.split("<w:ind ").skip(1).filter_map(|t| t.split("w:right=\"").nth(1)?.split('"').next()?.parse().ok()).collect()
    };
    // 8 characters over 9: the date two from the margin, the issuer five (320 twips a character).
    assert_eq!(right("北斗溪镇人民政府", "2024年1月5日"), vec![5 * 320, 2 * 320]);
    // A long issuer: two from the margin, the date further in.
    assert_eq!(right("北斗溪镇坪溪村村民委员会", "2024年1月5日"), vec![2 * 320, 3 * 320]);
    let html = taizhang_document::to_html(&Document { title: String::new(), blocks: vec![Block::Signature { issuer: "北斗溪镇人民政府".into(), date: "2024年1月5日".into() }] }, &taizhang_document::HtmlOptions { standalone: false, link_figures: false });
    assert!(html.contains("<p class=\"signature\">北斗溪镇人民政府<br>2024年1月5日</p>"), "{html}");
}

#[test]
fn text_is_escaped_and_forbidden_characters_dropped() {
    let doc = taizhang_document::parse_markup("# A&B\n\n<甲>\u{1}乙\n");
    let document = part(&render(&doc), "word/document.xml");
    assert!(document.contains(">A&amp;B</w:t>"));
    assert!(document.contains(">&lt;甲&gt;乙</w:t>"));
}

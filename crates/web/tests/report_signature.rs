//! A report's 落款 on the web: the issuer of the place it is for (the town's 人民政府, a
//! village's 村民委员会) and the 成文日期 asked for — in the preview, the Word file, and as the
//! 填报日期 of a county form; a date that is not one is refused in Chinese.

mod common;

use std::io::Read;

use common::{both, Server, VILLAGE_A};

/// Every text part of an Office file (docx, xlsx), concatenated.
fn text_of(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an Office file");
    let mut all = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        if f.name().ends_with(".xml") {
            f.read_to_string(&mut all).expect("xml");
        }
    }
    all
}

fn run(s: &Server) {
    let mut c = s.signed_in("admin");
    let page = c.get("/reports/preview?period=2023&date=2024-01-05").body;
    assert!(page.contains("<p class=\"signature\">北斗溪镇人民政府<br>2024年1月5日</p>"), "{page}");
    assert!(page.contains("name=\"date\" value=\"2024-01-05\""), "the date kept in the form");
    // Figures on ledgers with no record in the period are named above the report.
    assert!(page.contains("id=\"report-warnings\"") && page.contains("在2023年没有记录"), "{page}");
    let page = c.get(&format!("/reports/preview?period=2023&place={VILLAGE_A}&date=2024-01-05")).body;
    assert!(page.contains("坪溪村村民委员会<br>2024年1月5日"), "{page}");
    let docx = c.get("/reports/download?period=2023&date=2024-01-05");
    assert_eq!(docx.status, 200);
    let text = text_of(&docx.bytes);
    assert!(text.contains("北斗溪镇人民政府") && text.contains("2024年1月5日"), "the 落款 in the Word file");
    let form = c.get("/reports/form?period=2023-11&date=2023-12-05");
    assert_eq!(form.status, 200);
    assert!(text_of(&form.bytes).contains("2023年12月5日"), "the form's 填报日期");
    let bad = c.get("/reports/preview?period=2023&date=2024-13-05");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("成文日期"), "{}", bad.body);
}

#[test]
fn a_report_is_signed_by_its_place_on_the_day_asked() {
    both(run);
}

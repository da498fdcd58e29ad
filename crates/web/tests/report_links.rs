//! A report's figure links on the web (issue 16, item 7): a village's report links to the
//! village's figures — the link carries the place (its path of ids) and the time point, and the
//! explain page honours both, confined to the reader's scope; the Word download takes its fonts
//! and grid from the settings and links figures to 系统网址 when it is set.

mod common;

use std::io::Read;

use chrono::Datelike;
use common::{both, Server, VILLAGE_A};
use taizhang_domain::role::Actor;
use taizhang_domain::setting::{SettingValue, ALL_YEARS};

fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a docx");
    let mut text = String::new();
    zip.by_name(name).expect("part").read_to_string(&mut text).expect("xml");
    text
}

/// The explain links of a page, unescaped.
fn explain_links(page: &str) -> Vec<String> {
    page.split("href=\"").skip(1).filter_map(|r| r.split('"').next()).filter(|h| h.starts_with("/explain/")).map(|h| h.replace("&amp;", "&")).collect()
}

/// The figure an explain page shows (its heading: 名称：值单位).
fn figure(page: &str) -> String {
    let h1 = page.split("<h1>").nth(1).and_then(|r| r.split("</h1>").next()).expect("a heading");
    h1.split_once('：').map(|(_, v)| v.to_string()).expect("name：value")
}

fn set(s: &Server, key: &str, value: &str) {
    let db = s.db.clone();
    let (key, value) = (key.to_string(), value.to_string());
    s.rt.block_on(async move {
        let def = taizhang_domain::setting::builtin().expect("settings").into_iter().find(|d| d.key == key).expect("a setting");
        let mut tx = db.begin().await.expect("begin");
        taizhang_storage::settings::set_value(&mut tx, &Actor::System, &def, ALL_YEARS, &SettingValue::Text(value)).await.expect("set");
        tx.commit().await.expect("commit");
    });
}

fn run(s: &Server) {
    let year = chrono::Local::now().date_naive().year();
    let mut leader = s.signed_in("leader");
    let page = leader.get(&format!("/reports/preview?period={year}&place={VILLAGE_A}")).body;
    let links = explain_links(&page);
    assert!(!links.is_empty(), "{page}");
    let mut differs_from_town = 0;
    for link in &links {
        assert!(link.contains("&as_of=") && link.contains("&place=/"), "{link}");
        assert_eq!(link.matches("place=").count(), 1, "one place: {link}");
        let shown = leader.get(link);
        assert_eq!(shown.status, 200, "{link}: {}", shown.body);
        assert!(shown.body.contains("<dt>地点</dt><dd>坪溪村</dd>"), "{link}");
        // The same figure as asked for by the village's code, and the town's beside it.
        let key = link.trim_start_matches("/explain/").split('?').next().expect("key");
        let by_code = leader.get(&format!("/explain/{key}?period={year}&place={VILLAGE_A}")).body;
        assert_eq!(figure(&shown.body), figure(&by_code), "{link}");
        if figure(&leader.get(&format!("/explain/{key}?period={year}")).body) != figure(&shown.body) {
            differs_from_town += 1;
        }
    }
    assert!(differs_from_town > 0, "no village figure differs from the town's: the test would prove nothing");

    // Confined by the reader's own scope: the village's cadre opens the link; a link to the
    // other village is "not found" for them, whatever path it names.
    let link = &links[0];
    let mut cadre = s.signed_in("cadre");
    assert_eq!(cadre.get(link).status, 200);
    let path = link.split("place=").nth(1).and_then(|p| p.split('&').next()).expect("a path").to_string();
    let parent = path.trim_end_matches('/').rsplit_once('/').map(|(p, _)| p).expect("a parent");
    let other = link.replace(&format!("place={path}"), &format!("place={parent}/{}/", s.world.village_b));
    assert_eq!(leader.get(&other).status, 200, "the town sees the other village: {other}");
    assert_eq!(cadre.get(&other).status, 404, "{other}");
    assert_eq!(cadre.get(&link.replace(&format!("place={path}"), "place=/")).status, 404, "the whole database is outside a village");

    // The time point is honoured and shown; one that is no date is refused in Chinese.
    let early = format!("{year}-01-01");
    let page = leader.get(&format!("/explain/{}?period={year}&as_of={early}&place={path}", link.trim_start_matches("/explain/").split('?').next().unwrap_or_default())).body;
    assert!(page.contains(&format!("<dt>时点</dt><dd>{early}</dd>")), "{page}");
    let bad = leader.get(&link.replace("as_of=", "as_of=x"));
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("时点"), "{}", bad.body);

    // The Word download: no base, no hyperlink; fonts and grid as the settings say.
    let docx = leader.get(&format!("/reports/download?period={year}&place={VILLAGE_A}"));
    assert_eq!(docx.status, 200);
    assert!(!part(&docx.bytes, "word/document.xml").contains("w:hyperlink"));
    assert!(part(&docx.bytes, "word/styles.xml").contains("w:eastAsia=\"仿宋_GB2312\""));
    set(s, "document:body_font", "方正仿宋_GBK");
    set(s, "report:link_base", "https://taizhang.example.gov.cn/");
    let db = s.db.clone();
    s.rt.block_on(async move {
        let def = taizhang_domain::setting::builtin().expect("settings").into_iter().find(|d| d.key == "document:char_grid").expect("grid");
        let mut tx = db.begin().await.expect("begin");
        taizhang_storage::settings::set_value(&mut tx, &Actor::System, &def, ALL_YEARS, &SettingValue::Number(1)).await.expect("set");
        tx.commit().await.expect("commit");
    });
    let docx = leader.get(&format!("/reports/download?period={year}&place={VILLAGE_A}")).bytes;
    let styles = part(&docx, "word/styles.xml");
    assert!(styles.contains("w:eastAsia=\"方正仿宋_GBK\"") && !styles.contains("仿宋_GB2312"), "{styles}");
    assert!(part(&docx, "word/document.xml").contains("w:type=\"linesAndChars\""), "the grid setting");
    let rels = part(&docx, "word/_rels/document.xml.rels");
    assert!(rels.contains("Target=\"https://taizhang.example.gov.cn/explain/") && rels.contains("place=/"), "{rels}");
}

#[test]
fn a_village_reports_links_open_the_villages_figures() {
    both(run);
}

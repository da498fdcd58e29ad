//! Evidence (佐证材料) in headless Chromium (issue 19, item 4): a 业务员 opens a rectified
//! hazard, is told that 复查销号 needs a photo after rectification, chooses a photo in the
//! record's 佐证材料 section and uploads it; the page comes back with the photo shown as a
//! thumbnail (really decoded by the browser, from the attachment's own address), its name and
//! size, and the note no longer in red.
//!
//! With `CI=true` a missing browser is a failure. `TAIZHANG_SCREENSHOTS=/absolute/dir` also
//! writes record-evidence.png at 1366×768 (the record page with the thumbnail).

mod common;
mod webdriver;

use serde_json::json;
use taizhang_domain::role::Actor;
use taizhang_domain::value::{Value, Values};
use taizhang_storage::{ledgers, records, Engine, Scope};
use webdriver::{browser, Driver};

fn text(d: &Driver, css: &str) -> String {
    d.script("const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : '';", json!([css])).as_str().unwrap_or_default().to_string()
}

/// 坪溪村's hazard rectified on the spot, waiting for 复查销号.
fn rectified(s: &common::Server) {
    let db = s.db.clone();
    let id = s.world.hazard_a;
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        let def = ledgers::get(&mut tx, "hazards").await.expect("hazards");
        let today = chrono::Local::now().date_naive();
        let values: Values = [("rectified_on".to_string(), Value::Date(today))].into_iter().collect();
        records::transition(&mut tx, &def, &Actor::System, &Scope::all(), id, 1, "fix_on_spot", values, today, &Default::default()).await.expect("fixed");
        tx.commit().await.expect("commit");
    });
}

#[test]
fn a_photo_attached_to_a_record_is_shown_as_a_thumbnail() {
    let Some((driver, chromium)) = browser() else { return };
    let photo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hazard-after.png");
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let Some(s) = common::start(engine) else { continue };
        rectified(&s);
        let d = Driver::start(&driver, &chromium);
        d.size(1366, 768);
        d.sign_in(&s.base, "clerk", common::PASSWORD);
        let record = format!("{}/ledgers/hazards/{}", s.base, s.world.hazard_a);
        d.go(&record);
        assert_eq!(text(&d, "h1 .tag"), "已整改");
        assert_eq!(text(&d, "#evidence-required"), "办理「复查销号」须先上传佐证材料：整改后照片（尚未上传）");
        assert!(text(&d, "#evidence-required.notice.bad").contains("尚未上传"), "in red while missing");
        // The camera input a phone opens; here a file is chosen, as on a computer.
        let capture = d.script("return document.querySelector('#evidence-camera').getAttribute('capture');", json!([]));
        assert_eq!(capture.as_str(), Some("environment"));
        d.type_into("#evidence-file", &photo.display().to_string());
        d.click("#evidence-upload button.primary");
        d.wait_until("document.querySelector('#evidence img')", "the thumbnail after the upload");
        d.wait_until("document.querySelector('#evidence img').complete", "the thumbnail loaded");
        // Really shown: the browser decoded the image it fetched from the attachment's address.
        let shown = d.script(
            "const i = document.querySelector('#evidence img'); return [i.naturalWidth, i.naturalHeight, i.width, i.getAttribute('src'), i.alt];",
            json!([]),
        );
        assert_eq!(shown[0], 480, "decoded: {shown}");
        assert_eq!(shown[1], 360);
        assert!(shown[2].as_i64().is_some_and(|w| (100..=160).contains(&w)), "scaled to a thumbnail: {shown}");
        let src = shown[3].as_str().unwrap_or_default().to_string();
        assert!(src.starts_with(&format!("/ledgers/hazards/{}/attachments/", s.world.hazard_a)), "{src}");
        assert_eq!(shown[4].as_str(), Some("hazard-after.png"));
        let item = text(&d, "#evidence .attachment");
        assert!(item.contains("hazard-after.png") && item.contains("照片 · 3 KB") && item.contains("clerk"), "{item}");
        assert_eq!(d.script("return document.querySelectorAll('#evidence-required.notice').length;", json!([])).as_i64(), Some(0), "no longer in red");
        assert!(text(&d, "#history").contains("上传佐证材料「hazard-after.png」"));
        assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM attachments WHERE record_id = {} AND ledger = 'hazards'", s.world.hazard_a)), 1);
        if engine == Engine::Sqlite {
            if let Some(dir) = std::env::var("TAIZHANG_SCREENSHOTS").ok().map(std::path::PathBuf::from) {
                std::fs::create_dir_all(&dir).expect("screenshot directory");
                d.script("document.querySelector('#evidence').scrollIntoView();", json!([]));
                d.screenshot(&dir.join("record-evidence.png"));
            }
            // The section on a phone, for looking at by eye (not committed).
            if let Ok(extra) = std::env::var("TAIZHANG_SCREENSHOTS_EXTRA") {
                let extra = std::path::PathBuf::from(extra);
                std::fs::create_dir_all(&extra).expect("extra directory");
                d.size(390, 844);
                d.go(&record);
                d.script("document.querySelector('#evidence').scrollIntoView();", json!([]));
                d.screenshot(&extra.join("record-evidence-phone.png"));
            }
        }
    }
}

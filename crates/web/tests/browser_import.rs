//! Import in a real browser (Chromium through chromedriver): a clerk's CSV whose month is only
//! in its title and which ends in 合计 and 制表人 lines is chosen in the file box, the month is
//! given once in 统一填写, the check lists the skipped lines and one new row, and confirming
//! writes it (the CSRF token sent as the form's first field, not in its URL). With `CI=true` a
//! missing browser is a failure. `TAIZHANG_SCREENSHOTS=DIR` also
//! writes import.png (the check's page, 1366×768).

mod common;
mod webdriver;

use serde_json::json;
use taizhang_storage::Engine;
use webdriver::{browser, Driver};

#[test]
fn a_clerks_file_imported_in_the_browser() {
    let Some((driver, chromium)) = browser() else { return };
    // The browser's part is the same whatever the engine; the import itself is tested on both
    // engines in crates/exchange and through HTTP in tests/import.rs.
    let s = common::start(Engine::Sqlite).expect("sqlite always runs");
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("五月低保金.csv");
    std::fs::write(&file, "北斗溪镇2024年5月城乡低保金发放花名册,,\n户编号,发放金额（元）,备注\n4312241102020001,450,\n合计,450,\n制表人：张三    审核人：李四,,\n").expect("write");
    let d = Driver::start(&driver, &chromium);
    d.size(1366, 768);
    d.sign_in(&s.base, "admin", common::PASSWORD);
    d.go(&format!("{}/import", s.base));
    // The CSRF token travels in the form's first field, never in its URL.
    let action = d.script("return document.querySelector('form.form').getAttribute('action');", json!([]));
    assert_eq!(action.as_str(), Some("/import"));
    let first = d.script("return document.querySelector('form.form').elements[0].name;", json!([]));
    assert_eq!(first.as_str(), Some("csrf"));
    d.script("document.querySelector('select[name=ledger]').value = 'dibao_payments';", json!([]));
    d.type_into("input[name=file]", &file.display().to_string());
    d.type_into("textarea[name=set]", "发放月份=2024-05");
    d.click("form.form button.primary");
    d.wait_until("document.body.innerText.includes('新增 1')", "the check's verdicts");
    let page = d.source();
    assert!(page.contains("跳过的非数据行 2 行"), "{page}");
    assert!(page.contains("统一填写「发放月份」为「2024-05」：1 行该列为空，已填入"), "{page}");
    assert!(page.contains("尚未写入"));
    assert!(page.contains("→ 低保金发放台账（工作表「五月低保金」）"), "a CSV's sheet is named after the clerk's file: {page}");
    if let Some(shots) = std::env::var_os("TAIZHANG_SCREENSHOTS") {
        let shots = std::path::PathBuf::from(shots);
        std::fs::create_dir_all(&shots).expect("screenshot directory");
        d.script("document.querySelectorAll('details').forEach(x => x.setAttribute('open', ''));", json!([]));
        d.screenshot(&shots.join("import.png"));
    }
    d.click("form[action='/import/confirm'] button.primary");
    d.wait_until("document.body.innerText.includes('已写入')", "the confirmation");
    assert_eq!(s.scalar("SELECT COUNT(*) FROM ld_dibao_payments WHERE pay_month = '2024-05' AND amount = 45000"), 1);
}

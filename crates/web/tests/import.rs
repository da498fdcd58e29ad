//! Import in the browser's way: upload (multipart) → a verdict per row, nothing written →
//! confirm. Rows naming another village are refused for a 村干部.

mod common;

use common::{both, Server};

fn multipart(boundary: &str, ledger: &str, file_name: &str, content: &str) -> String {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"ledger\"\r\n\r\n{ledger}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    )
}

fn upload_verdicts_confirm(s: &Server) {
    let mut c = s.signed_in("cadre");
    let csv = "所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述\n\
               坪溪村,2024-03-01,燃气,一般,坪溪村2组,导入的隐患一\n\
               金竹村,2024-03-02,燃气,一般,外村,导入的隐患二\n\
               坪溪村,2024-13-01,燃气,一般,坪溪村2组,日期有误\n";
    let boundary = "XyZ0123456789";
    let before = s.fingerprint();
    let b_count = || s.scalar(&format!("SELECT COUNT(*) FROM ld_hazards WHERE place_id = {}", s.world.village_b));
    let b_before = b_count();
    // The token travels in the form's first part, as the page's form sends it.
    let r = c.post_multipart("/import", boundary, &multipart(boundary, "hazards", "隐患.csv", csv));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("拒绝 2"), "two rows refused: {}", r.body);
    assert!(r.body.contains("尚未写入"));
    assert_eq!(before, s.fingerprint(), "the dry run wrote nothing");
    let upload = r.body.split("name=\"upload\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("upload id").to_string();
    // Another user cannot confirm this upload.
    let mut other = s.signed_in("admin");
    assert_eq!(other.post_form("/import/confirm", &[("upload", &upload)]).status, 404);
    // Confirmed with 只导入正确的行: the good row is written; the upload is then spent.
    let r = c.post_form("/import/confirm", &[("upload", &upload), ("partial", "1")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("已写入"), "{}", r.body);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM ld_hazards WHERE description = '导入的隐患一'"), 1);
    assert_eq!(b_count(), b_before, "nothing was written in the other village");
    assert_eq!(c.post_form("/import/confirm", &[("upload", &upload)]).status, 404);
    // A 领导 may not import at all.
    let mut leader = s.signed_in("leader");
    assert_eq!(leader.get("/import").status, 403);
}

/// Imported records are audited by one entry per run of records; a record's history still
/// shows its creation, with the fields it was created with, after a later change too.
fn history_of_an_imported_record(s: &Server) {
    let mut c = s.signed_in("admin");
    let boundary = "XyZ0123456789";
    let send = |c: &mut common::Client, amount: &str| {
        let csv = format!("户编号,发放月份,发放类别,发放金额（元）\n4312241102020001,2024-01,正常发放,{amount}\n4312241102020001,2024-02,正常发放,300\n");
        let r = c.post_multipart("/import", boundary, &multipart(boundary, "dibao_payments", "低保.csv", &csv));
        assert_eq!(r.status, 200, "{}", r.body);
        let upload = r.body.split("name=\"upload\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("upload id").to_string();
        let r = c.post_form("/import/confirm", &[("upload", &upload)]);
        assert!(r.body.contains("已写入"), "{}", r.body);
    };
    send(&mut c, "250");
    let id = s.scalar("SELECT MIN(id) FROM ld_dibao_payments WHERE pay_month = '2024-01'");
    assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM audit WHERE entity = 'ld_dibao_payments' AND entity_id <= {id} AND COALESCE(last_entity_id, entity_id) >= {id}")), 1);
    let page = c.get(&format!("/ledgers/dibao_payments/{id}")).body;
    assert!(page.contains("<td>新增</td>") && page.contains("发放金额") && page.contains("导入「低保.csv」"), "{page}");
    // A second import changes the amount: the creation still lists what it created.
    send(&mut c, "260");
    let page = c.get(&format!("/ledgers/dibao_payments/{id}")).body;
    let history = page.split("<td>修改</td>").nth(1).expect("the change is in the history");
    assert!(history.contains("<td>新增</td>") && history.contains("发放月份") && history.contains("导入「低保.csv」"), "{page}");
}

fn part(boundary: &str, name: &str, value: &str) -> String {
    format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

/// The page's 工作表 and 统一填写 boxes: a month written only in the title, given once for the
/// file; the 合计 and 制表人 lines listed as skipped, not refused.
fn sheet_and_values_for_the_whole_file(s: &Server) {
    let mut c = s.signed_in("admin");
    let boundary = "XyZ0123456789";
    let csv = "北斗溪镇2024年3月低保金发放表,,\n户编号,发放金额（元）,备注\n4312241102020001,300,\n合计,300,\n制表人：张三,,\n";
    let body = |set: &str| {
        format!(
            "{}{}{}--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"三月.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n",
            part(boundary, "ledger", "dibao_payments"),
            part(boundary, "sheet", "1"),
            part(boundary, "set", set)
        )
    };
    let r = c.post_multipart("/import", boundary, &body(""));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("拒绝 1") && r.body.contains("--set 发放月份=2024-03"), "the month in the title is offered: {}", r.body);
    assert!(r.body.contains("跳过的非数据行 2 行") && r.body.contains("制表人：张三"), "{}", r.body);
    let r = c.post_multipart("/import", boundary, &body("发放月份=2024-03"));
    assert!(r.body.contains("新增 1") && r.body.contains("统一填写「发放月份」为「2024-03」"), "{}", r.body);
    let upload = r.body.split("name=\"upload\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("upload id").to_string();
    let r = c.post_form("/import/confirm", &[("upload", &upload)]);
    assert!(r.body.contains("已写入"), "{}", r.body);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM ld_dibao_payments WHERE pay_month = '2024-03'"), 1);
    let r = c.post_multipart("/import", boundary, &body("发放月份"));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("每行写作 列名=值"), "{}", r.body);
}

/// A case imported in its state says so on its page's history.
fn a_case_imported_in_its_state(s: &Server) {
    // 立即整改 is a 业务员's step: the import asks the same of whoever imports.
    let mut c = s.signed_in("clerk");
    let boundary = "XyZ0123456789";
    let csv = "所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述,状态,整改完成日期\n坪溪村,2024-03-01,燃气,一般,坪溪村2组,历年的隐患,已整改,2024-03-05\n";
    let r = c.post_multipart("/import", boundary, &multipart(boundary, "hazards", "历年隐患.csv", csv));
    assert!(r.body.contains("新增 1"), "{}", r.body);
    let upload = r.body.split("name=\"upload\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("upload id").to_string();
    assert!(c.post_form("/import/confirm", &[("upload", &upload)]).body.contains("已写入"));
    let id = s.scalar("SELECT id FROM ld_hazards WHERE description = '历年的隐患'");
    let page = c.get(&format!("/ledgers/hazards/{id}")).body;
    assert!(page.contains("导入（状态：已整改）"), "{page}");
}

#[test]
fn a_case_imported_in_its_state_says_so() {
    both(a_case_imported_in_its_state);
}

#[test]
fn import_with_a_sheet_and_values_for_the_whole_file() {
    both(sheet_and_values_for_the_whole_file);
}

#[test]
fn import_in_the_browser_way() {
    both(upload_verdicts_confirm);
}

#[test]
fn imported_records_have_their_history() {
    both(history_of_an_imported_record);
}

fn file_part(boundary: &str, file_name: &str, content: &str) -> String {
    format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n")
}

/// Several files in one upload: each file's outcome; confirmed without 只导入正确的行 while a
/// row is refused, nothing is written and the page says so, the upload still waiting; each
/// file's error list downloads; once written, the page links to exactly what was written.
fn several_files(s: &Server) {
    let mut c = s.signed_in("admin");
    let boundary = "XyZ0123456789";
    let good = "所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述\n坪溪村,2024-04-01,燃气,一般,坪溪村1组,多文件一\n坪溪村,2024-04-02,消防,一般,坪溪村3组,多文件二\n";
    let bad = "所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述\n坪溪村,2024-04-03,燃气,一般,坪溪村4组,多文件三\n坪溪村,2024-14-03,燃气,一般,坪溪村4组,日期错的一行\n";
    let body = format!("{}{}{}--{boundary}--\r\n", part(boundary, "ledger", "hazards"), file_part(boundary, "一组.csv", good), file_part(boundary, "二组.csv", bad));
    let before = s.fingerprint();
    let r = c.post_multipart("/import", boundary, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("共 2 个文件，读取 4 行：新增 3，更新 0，未变 0，"), "{}", r.body);
    assert!(r.body.contains("一组.csv → ") && r.body.contains("二组.csv → "), "{}", r.body);
    assert_eq!(before, s.fingerprint(), "the dry run wrote nothing");
    let upload = r.body.split("name=\"upload\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("upload id").to_string();
    // The second file's error list; the first has none.
    let e = c.get(&format!("/import/errors?upload={upload}&file=1"));
    assert_eq!(e.status, 200);
    assert_eq!(c.get(&format!("/import/errors?upload={upload}&file=0")).status, 404);
    // 确认导入 alone: refused whole, said so, and the upload waits for another choice.
    let r = c.post_form("/import/confirm", &[("upload", &upload)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("没有写入任何数据") && r.body.contains(&format!("value=\"{upload}\"")), "{}", r.body);
    assert_eq!(before, s.fingerprint(), "nothing was written");
    // Then 只导入正确的行: three records written, and a link listing exactly those three.
    let r = c.post_form("/import/confirm", &[("upload", &upload), ("partial", "1")]);
    assert!(r.body.contains("已写入") && r.body.contains("被拒绝的 1 行未写入"), "{}", r.body);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM ld_hazards WHERE description LIKE '多文件%'"), 3);
    let body = r.body.replace("&#x2f;", "/");
    let link = body.split("href=\"/ledgers/hazards?imported=").nth(1).and_then(|t| t.split('"').next()).unwrap_or_else(|| panic!("a link to what was written: {}", r.body)).to_string();
    let list = c.get(&format!("/ledgers/hazards?imported={link}"));
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("共 3 条") && list.body.contains("只列出一次导入写入"), "{}", list.body);
    assert_eq!(c.get("/ledgers/hazards?imported=9-1").status, 400);
    // A file that cannot be read beside one that can: named with its reason; written only
    // with 只导入正确的行, and then only the readable file.
    let third = "所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述\n坪溪村,2024-04-05,燃气,一般,坪溪村5组,多文件四\n";
    let body = format!("{}{}{}--{boundary}--\r\n", part(boundary, "ledger", "hazards"), file_part(boundary, "三组.csv", third), file_part(boundary, "坏的.xlsx", "这不是 Excel 文件"));
    let r = c.post_multipart("/import", boundary, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("这个文件没有导入") && r.body.contains("1 个文件读不了"), "{}", r.body);
    let upload = r.body.split("name=\"upload\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("upload id").to_string();
    let r = c.post_form("/import/confirm", &[("upload", &upload)]);
    assert!(r.body.contains("没有写入任何数据"), "{}", r.body);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM ld_hazards WHERE description = '多文件四'"), 0);
    let r = c.post_form("/import/confirm", &[("upload", &upload), ("partial", "1")]);
    assert!(r.body.contains("已写入"), "{}", r.body);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM ld_hazards WHERE description = '多文件四'"), 1);
    // A file that is not a table is named.
    let body = format!("{}{}--{boundary}--\r\n", part(boundary, "ledger", "hazards"), file_part(boundary, "说明.txt", "x"));
    let r = c.post_multipart("/import", boundary, &body);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("「说明.txt」不是"), "{}", r.body);
}

#[test]
fn several_files_in_one_upload() {
    both(several_files);
}

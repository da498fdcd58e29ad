//! The registry's blank templates from the import page: each downloads as a workbook that the
//! import reads as its target (every header recognised); a clerk imports cadres through the
//! page; a 村干部's import of a village that is not theirs writes nothing.

mod common;

use common::{both, Server};
use taizhang_domain::role::Actor;
use taizhang_exchange::{import_file, ImportOptions, RegistryTarget};
use taizhang_storage::Scope;

fn multipart(boundary: &str, ledger: &str, file_name: &str, content: &str) -> String {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"ledger\"\r\n\r\n{ledger}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    )
}

fn templates_download_and_read_back(s: &Server) {
    let mut c = s.signed_in("clerk");
    let page = c.get("/import");
    assert_eq!(page.status, 200);
    let dir = tempfile::tempdir().expect("dir");
    for t in RegistryTarget::ALL {
        let link = format!("/import/templates/{}", t.key());
        assert!(page.body.contains(&format!("href=\"{link}\"")), "the import page links {link}");
        let r = c.get(&link);
        assert_eq!(r.status, 200, "{link}: {}", r.body);
        assert!(r.content_type.contains("spreadsheetml"), "{link}: {}", r.content_type);
        assert!(r.bytes.starts_with(b"PK"), "{link}: an .xlsx (zip) file");
        // The blank template is read as its target by the sheet's name alone, every header known.
        let path = dir.path().join(format!("{}.xlsx", t.key()));
        std::fs::write(&path, &r.bytes).expect("save");
        let opts = ImportOptions { dry_run: true, ..Default::default() };
        let today = chrono::Local::now().date_naive();
        let report = s.rt.block_on(import_file(&s.db, &Actor::System, &Scope::all(), &path, &opts, today)).expect("the template imports");
        assert_eq!((report.target.as_str(), report.read), (t.key(), 0), "{link}");
        assert!(report.unknown_columns.is_empty(), "{link}: {:?}", report.unknown_columns);
    }
    // Chinese names too; anything else is not found, in Chinese.
    assert_eq!(c.get(&format!("/import/templates/{}", common::encode("干部"))).status, 200);
    let missing = c.get("/import/templates/hazards");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("导入模板"), "{}", missing.body);
    // A 领导 imports nothing, so has no template to download.
    assert_eq!(s.signed_in("leader").get("/import/templates/cadres").status, 403);
}

fn cadres_through_the_page(s: &Server) {
    let boundary = "XyZ0123456789";
    let csv = "姓名,干部类别,职务,所在村,联系电话\n网页导入干部,村干部,村委委员,坪溪村,13712345678\n";
    let count = || s.scalar("SELECT COUNT(*) FROM cadres WHERE name = '网页导入干部'");
    let mut clerk = s.signed_in("clerk");
    let r = clerk.post_multipart("/import", boundary, &multipart(boundary, "cadres", "干部.csv", csv));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("干部名册") && r.body.contains("新增 1"), "{}", r.body);
    assert_eq!(count(), 0, "the dry run wrote nothing");
    let upload = r.body.split("name=\"upload\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("upload id").to_string();
    let r = clerk.post_form("/import/confirm", &[("upload", &upload)]);
    assert!(r.body.contains("已写入"), "{}", r.body);
    assert_eq!(count(), 1);
    // The 村干部 of 坪溪村 cannot place a cadre in 金竹村: refused, nothing written.
    let mut cadre = s.signed_in("cadre");
    let csv = "姓名,干部类别,职务,所在村\n外村干部,村干部,村委委员,金竹村\n";
    let before = s.fingerprint();
    let r = cadre.post_multipart("/import", boundary, &multipart(boundary, "干部", "干部.csv", csv));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("拒绝 1") && r.body.contains("金竹村"), "{}", r.body);
    assert_eq!(before, s.fingerprint());
}

#[test]
fn registry_templates_and_import_on_sqlite_and_postgres() {
    both(|s| {
        templates_download_and_read_back(s);
        cadres_through_the_page(s);
    });
}

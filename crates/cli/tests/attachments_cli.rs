//! 佐证材料 at the command line (`record attach`, `record attachments`), on SQLite and
//! PostgreSQL: a photo added to a hazard and listed with its checksum; a file that is no
//! photo, PDF, Word or Excel refused naming it, nothing added; 复查销号 refused until the
//! hazard has a photo (docs/attachments.md).

mod common;
use common::{ok, on_postgres, on_sqlite, run};

use std::path::Path;

fn story(dir: &Path, db: &str) {
    ok(dir, db, &["init", "--town", "北斗溪镇", "--code", "431224110000", "--county", "溆浦县"]);
    ok(dir, db, &["place", "add", "--parent", "北斗溪镇", "--name", "坪溪村", "--code", "431224110201"]);
    ok(dir, db, &["cadre", "add", "--name", "刘干部", "--kind", "镇干部", "--place", "北斗溪镇"]);
    ok(dir, db, &["record", "add", "hazards", "--place", "坪溪村", "found_on=2023-06-01", "industry=燃气", "level=一般", "location=3组", "description=阀门锈蚀"]);
    ok(dir, db, &["record", "transition", "hazards", "1", "fix_on_spot", "--version", "1", "rectified_on=2023-06-02"]);
    let o = run(dir, db, &["record", "transition", "hazards", "1", "close", "--version", "2", "review_on=2023-06-05", "reviewer=刘干部"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("复查销号需要先上传佐证材料：整改后照片"), "{}", String::from_utf8_lossy(&o.stderr));
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/tests/fixtures/hazard-after.png");
    std::fs::write(dir.join("说明.jpg"), b"not a photo").expect("write");
    let o = run(dir, db, &["record", "attach", "hazards", "1", photo.to_str().expect("path"), "说明.jpg"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("文件「说明.jpg」不是可以作为佐证材料的文件"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(ok(dir, db, &["record", "attachments", "hazards", "1"]).contains("没有佐证材料"), "all or none");
    let added = ok(dir, db, &["record", "attach", "hazards", "1", photo.to_str().expect("path")]);
    assert!(added.contains("已上传佐证材料「hazard-after.png」"), "{added}");
    let listed = ok(dir, db, &["record", "attachments", "hazards", "1", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(list[0]["content_type"], "image/png");
    assert_eq!(list[0]["size_bytes"], std::fs::metadata(&photo).expect("photo").len());
    ok(dir, db, &["record", "transition", "hazards", "1", "close", "--version", "2", "review_on=2023-06-05", "reviewer=刘干部"]);
}

#[test]
fn evidence_at_the_command_line_on_sqlite() {
    on_sqlite(story);
}

#[test]
fn evidence_at_the_command_line_on_postgres() {
    on_postgres("attachments", story);
}

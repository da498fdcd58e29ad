//! The command line as a signed-in user (`--as`), on SQLite and PostgreSQL: the same masking
//! policy as the pages (docs/personal-data.md), the same least privilege for reading, and the
//! same read entries in the audit trail.

mod common;
use common::{ok, on_postgres, on_sqlite, run};

use std::path::Path;

const NUMBER: &str = "11010519491231002X";

fn story(dir: &Path, db: &str) {
    ok(dir, db, &["init", "--town", "北斗溪镇", "--code", "431224110000", "--county", "溆浦县"]);
    ok(dir, db, &["place", "add", "--parent", "北斗溪镇", "--name", "坪溪村", "--code", "431224110201"]);
    ok(dir, db, &["person", "add", "--name", "张三", "--id-number", NUMBER, "--place", "坪溪村", "--phone", "13912345678"]);
    ok(dir, db, &["record", "add", "key_population", "--subject", NUMBER, "category=社区矫正对象", "listed_on=2023-03-01", "guardian_phone=13800001111"]);
    ok(dir, db, &["user", "add", "lingdao", "--role", "leader", "--place", "北斗溪镇", "--password", "Qiu#Shui2023x"]);
    ok(dir, db, &["user", "add", "dibao", "--role", "clerk", "--place", "北斗溪镇", "--ledgers", "dibao", "--password", "Chun#Feng2023y"]);
    // A 领导: the number and the phone masked, no birth date; searched only by the whole number.
    let shown = ok(dir, db, &["person", "search", NUMBER, "--as", "lingdao"]);
    assert!(shown.contains("张三") && shown.contains("1****************X") && !shown.contains(NUMBER), "{shown}");
    let json = ok(dir, db, &["person", "show", NUMBER, "--json", "--as", "lingdao"]);
    assert!(!json.contains(NUMBER) && !json.contains("13912345678") && !json.contains("1949-12-31"), "{json}");
    let o = run(dir, db, &["person", "search", "31002X", "--as", "lingdao"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("完整的 18 位"));
    let listed = ok(dir, db, &["record", "list", "key_population", "--json", "--as", "lingdao"]);
    assert!(listed.contains("138****1111") && !listed.contains("13800001111"), "{listed}");
    // Each record names its village and its person, the number masked for the 领导.
    let rows: serde_json::Value = serde_json::from_str(&listed).expect("json");
    assert_eq!((rows[0]["village"].as_str(), rows[0]["subject"].as_str()), (Some("坪溪村"), Some("张三 1****************X")), "{listed}");
    let text = ok(dir, db, &["record", "list", "key_population"]);
    assert!(text.contains(&format!("\t坪溪村\t张三 {NUMBER}\t")), "the console operator sees the whole number: {text}");
    // The console operator sees the whole number.
    assert!(ok(dir, db, &["person", "search", NUMBER]).contains(NUMBER));
    // A 业务员 not assigned to 重点人群 does not read it.
    let o = run(dir, db, &["record", "list", "key_population", "--as", "dibao"]);
    assert!(!o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let o = run(dir, db, &["export", "key_population", "-o", "重点人群.csv", "--as", "dibao"]);
    assert!(!o.status.success() && !dir.join("重点人群.csv").exists());
    // Reads as a user leave their entries.
    let audit = ok(dir, db, &["audit", "--limit", "100", "--json"]);
    let entries: serde_json::Value = serde_json::from_str(&audit).expect("json");
    let reads: Vec<&serde_json::Value> = entries.as_array().expect("entries").iter().filter(|e| e["action"] == "read" && e["actor"] == "lingdao").collect();
    assert!(reads.iter().any(|e| e["entity"] == "persons") && reads.iter().any(|e| e["entity"] == "ld_key_population"), "{reads:?}");
}

#[test]
fn the_command_line_as_a_user_masks_refuses_and_records_reads_on_sqlite() {
    on_sqlite(story);
}

#[test]
fn the_command_line_as_a_user_masks_refuses_and_records_reads_on_postgres() {
    on_postgres("privacy", story);
}

//! `taizhang demo` as a user runs it: a fresh directory gets the database, the summary in three
//! formats and the check results; a second run refuses to overwrite without --force.

use std::process::Command;

fn demo(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .current_dir(dir)
        .env_remove("TAIZHANG_DB")
        .env_remove("RUST_BACKTRACE")
        .args(["demo", "--out", "演示", "--no-serve"])
        .args(extra)
        .output()
        .expect("run taizhang demo")
}

#[test]
fn demo_writes_database_reports_and_checks_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = demo(tmp.path(), &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{}\n{}",
        out,
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = tmp.path().join("演示");
    assert!(dir.join("taizhang.db").is_file());
    for ext in ["md", "html", "docx"] {
        let f = dir.join(format!("北斗溪镇2023年工作总结.{ext}"));
        assert!(
            std::fs::metadata(&f).is_ok_and(|m| m.len() > 1000),
            "{} missing",
            f.display()
        );
    }
    let md = std::fs::read_to_string(dir.join("北斗溪镇2023年工作总结.md")).expect("md");
    assert!(md.contains("脱贫户1330户4785人"), "{md}");
    assert!(out.contains("共发现 10 处问题"), "{out}");
    assert!(out.contains("explain dibao_rural_households"), "{out}");

    let again = demo(tmp.path(), &[]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let county = demo(tmp.path(), &["--force", "--scale", "nation"]);
    assert!(!county.status.success(), "an unknown scale is refused");
}

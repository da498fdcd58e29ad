//! A dry run pauses between batches (on SQLite it throws away what it wrote and lets waiting
//! writers in: `storage::Pauses`); its verdicts are still exactly the import's, on both
//! engines: a file of several batches with rows new, unchanged, updated, refused, and keys
//! repeated across batches, through the batch path (低保金发放) and the per-row path (安全隐患,
//! a workflow ledger); the dry run writes nothing.

mod common;
use common::*;

use taizhang_domain::role::Actor;
use taizhang_exchange::{import_file, ImportOptions, ImportReport};
use taizhang_storage::{Db, Scope};

async fn run(db: &Db, path: &std::path::Path, ledger: &str, dry_run: bool) -> ImportReport {
    let opts = ImportOptions { ledger: Some(ledger.into()), dry_run, partial: true, ..Default::default() };
    let r = import_file(db, &Actor::System, &Scope::all(), path, &opts, today()).await.expect("import");
    assert!(r.balanced(), "{}", r.summary());
    r
}

async fn fingerprint(db: &Db) -> Vec<i64> {
    let mut tx = db.read().await.expect("read");
    let mut out = Vec::new();
    for sql in ["SELECT COUNT(*) FROM ld_dibao_payments", "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ld_dibao_payments", "SELECT COUNT(*) FROM ld_hazards", "SELECT COUNT(*) FROM audit"] {
        out.push(tx.fetch_one(sql, &[]).await.expect("count").int(0));
    }
    out
}

fn same(dry: &ImportReport, real: &ImportReport) {
    assert_eq!(dry.verdicts, real.verdicts, "the dry run's verdicts are the import's");
    assert_eq!(dry.rejections, real.rejections);
    assert_eq!((dry.new, dry.updated, dry.unchanged, dry.rejected), (real.new, real.updated, real.unchanged, real.rejected));
}

both!(a_dry_run_with_pauses_gives_the_imports_verdicts, |db: Db| async move {
    let t = town(&db).await;
    let dir = tempfile::tempdir().expect("tmp");
    // 120 households, each with a January payment already recorded.
    let mut csv = String::from("户编号,发放月份,发放类别,发放金额（元）\n");
    for i in 0..120u32 {
        let head = person(&db, &format!("户主{i}"), &id_number("433024", "19700101", i + 1), t.pingxi.id).await;
        household(&db, &format!("4312241102019{i:03}"), &head).await;
        csv.push_str(&format!("4312241102019{i:03},2024-01,正常发放,300\n"));
    }
    let january = dir.path().join("一月.csv");
    std::fs::write(&january, &csv).expect("write");
    assert_eq!(run(&db, &january, "dibao_payments", false).await.new, 120);

    // 5,000 rows, three batches: January again (unchanged or a new amount), February new,
    // unknown households, and February keys given again in a later batch.
    let mut csv = String::from("户编号,发放月份,发放类别,发放金额（元）\n");
    for r in 0..5_000u32 {
        let i = r % 120;
        let line = match r % 5 {
            0 => format!("4312241102019{i:03},2024-01,正常发放,{}\n", if r % 2 == 0 { 300 } else { 310 }),
            1 => format!("4312241102019{i:03},2024-{:02},正常发放,300\n", 2 + (r / 120) % 11),
            2 => format!("43122411029{r:05},2024-02,正常发放,300\n"),
            3 => format!("4312241102019{i:03},2024-02,补发,{}\n", 100 + r),
            _ => format!("4312241102019{i:03},2024-13,正常发放,300\n"),
        };
        csv.push_str(&line);
    }
    let mixed = dir.path().join("混合.csv");
    std::fs::write(&mixed, &csv).expect("write");
    let before = fingerprint(&db).await;
    let dry = run(&db, &mixed, "dibao_payments", true).await;
    assert_eq!(fingerprint(&db).await, before, "the dry run wrote nothing");
    assert!(dry.new > 0 && dry.updated > 0 && dry.unchanged > 0 && dry.rejected > 0, "{}", dry.summary());
    assert!(dry.rejections.iter().any(|r| r.reason.contains("识别字段相同")), "keys repeated across batches are refused");
    let real = run(&db, &mixed, "dibao_payments", false).await;
    same(&dry, &real);

    // The per-row path: a workflow ledger's rows, new, refused and repeated.
    let mut csv = String::from("所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述\n");
    for r in 0..300u32 {
        let line = match r % 10 {
            7 => "坪溪村,2024-13-01,燃气,一般,坪溪村1组,日期有误\n".to_string(),
            8 => format!("坪溪村,2024-03-01,燃气,一般,坪溪村{}号,隐患{}\n", r - 8, r - 8),
            _ => format!("坪溪村,2024-03-01,燃气,一般,坪溪村{r}号,隐患{r}\n"),
        };
        csv.push_str(&line);
    }
    let hazards = dir.path().join("隐患.csv");
    std::fs::write(&hazards, &csv).expect("write");
    let before = fingerprint(&db).await;
    let dry = run(&db, &hazards, "hazards", true).await;
    assert_eq!(fingerprint(&db).await, before, "the dry run wrote nothing");
    assert!(dry.new > 0 && dry.rejected > 0, "{}", dry.summary());
    let real = run(&db, &hazards, "hazards", false).await;
    same(&dry, &real);
});

//! One batch large enough that PostgreSQL gets its new records by a `COPY` streamed part by
//! part while the rest of the batch is decided (`batch::insert_streamed`), with everything a
//! batch can hold mixed in: villages interleaved, stored records restated unchanged and
//! changed, refused rows, a key repeated parts apart, a household the registry does not know.
//! Every row's verdict, every record's place and subject, and the audit's runs come out the
//! same on both engines.

mod common;
use common::*;

use taizhang_domain::role::Actor;
use taizhang_exchange::{import_file, ImportOptions, Verdict};
use taizhang_storage::{Db, Scope};

const HEADER: &str = "户编号,发放月份,发放类别,金额（元）";

/// Six households, alternating between the two villages.
async fn households(db: &Db) -> Vec<String> {
    let t = town(db).await;
    let mut out = Vec::new();
    for i in 0..6u32 {
        let village = if i % 2 == 0 { t.pingxi.id } else { t.maopo.id };
        let p = person(db, &format!("户主{i}"), &id_number("433024", "19700101", 31 + i), village).await;
        let number = format!("43122411020{:05}", 100 + i);
        household(db, &number, &p).await;
        out.push(number);
    }
    out
}

fn write(dir: &std::path::Path, name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{HEADER}\n{}\n", lines.join("\n"))).expect("write");
    path
}

async fn mixed_batch(db: &Db) {
    let hh = households(db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ImportOptions { ledger: Some("dibao_payments".into()), partial: true, ..Default::default() };

    // Stored before: 2011's twelve months of the first household (a small batch).
    let before: Vec<String> = (1..=12).map(|m| format!("{},2011-{m:02},正常发放,100.00", hh[0])).collect();
    let r = import_file(db, &Actor::System, &Scope::all(), &write(dir.path(), "before.csv", &before), &opts, today()).await.expect("import");
    assert_eq!(r.new, 12, "{}", r.summary());

    // The big batch: 2012–2024 for every household, households interleaved row by row
    // (936 new), with the stored months restated at positions spread over the parts.
    let mut lines: Vec<String> = Vec::new();
    for y in 2012..=2024 {
        for m in 1..=12 {
            for h in &hh {
                lines.push(format!("{h},{y}-{m:02},正常发放,{}.00", 300 + m));
            }
        }
    }
    let fresh = lines.len();
    let mut expect: Vec<Verdict> = vec![Verdict::New; fresh];
    // (position, line, verdict), inserted from the back so positions hold.
    let mut extra: Vec<(usize, String, Verdict)> = Vec::new();
    for m in 1..=12usize {
        let amount = if m % 2 == 0 { "100.00" } else { "150.00" };
        let v = if m % 2 == 0 { Verdict::Unchanged } else { Verdict::Updated };
        extra.push((m * 37, format!("{},2011-{m:02},正常发放,{amount}", hh[0]), v));
    }
    extra.push((5, format!("{},2018-01,正常发放,八百", hh[1]), Verdict::Rejected));
    extra.push((300, "9431224110299999,2018-01,正常发放,1.00".to_string(), Verdict::Rejected));
    extra.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (at, line, v) in extra {
        lines.insert(at, line);
        expect.insert(at, v);
    }
    // The same key as the file's first row, three parts later.
    lines.insert(800.min(lines.len()), lines[0].clone());
    expect.insert(800.min(expect.len()), Verdict::Rejected);
    assert!(lines.len() > 3 * 256, "more than three parts: {}", lines.len());

    let path = write(dir.path(), "batch.csv", &lines);
    let r = import_file(db, &Actor::System, &Scope::all(), &path, &opts, today()).await.expect("import");
    assert!(r.balanced(), "{}", r.summary());
    assert_eq!((r.new, r.updated, r.unchanged, r.rejected), (fresh, 6, 6, 3), "{}\n{:?}", r.summary(), r.rejections);
    let got: Vec<Verdict> = r.verdicts.iter().map(|(_, v)| v).collect();
    let rows: Vec<u32> = r.verdicts.iter().map(|(row, _)| row).collect();
    assert_eq!(rows, (2..2 + lines.len() as u32).collect::<Vec<_>>(), "one verdict per row, in file order");
    assert_eq!(got, expect, "each row's verdict where it stands in the file");
    let repeat = r.rejections.iter().find(|x| x.row == 802).expect("the repeated key is refused");
    assert!(repeat.reason.contains("与第 2 行的识别字段相同"), "{}", repeat.reason);

    let mut tx = db.begin().await.expect("begin");
    // Each record lies in its household's village, and holds the month and amount its row gave.
    let wrong = tx
        .fetch_one("SELECT COUNT(*) FROM ld_dibao_payments r JOIN households h ON h.id = r.subject_id WHERE r.place_id <> h.place_id", &[])
        .await
        .expect("count")
        .int(0);
    assert_eq!(wrong, 0, "every record in its household's place");
    let rows = tx
        .fetch("SELECT h.number, r.pay_month, r.amount FROM ld_dibao_payments r JOIN households h ON h.id = r.subject_id ORDER BY r.id", &[])
        .await
        .expect("records");
    assert_eq!(rows.len(), 12 + fresh);
    for r in rows.iter().skip(12) {
        let month: u32 = r.text(1)[5..7].parse().expect("month");
        assert_eq!(r.int(2), i64::from(300 + month) * 100, "{} {}", r.text(0), r.text(1));
    }
    let updated = tx
        .fetch_one(&format!("SELECT COUNT(*) FROM ld_dibao_payments r JOIN households h ON h.id = r.subject_id WHERE h.number = '{}' AND r.amount = 15000", hh[0]), &[])
        .await
        .expect("count")
        .int(0);
    assert_eq!(updated, 6, "odd months of 2011 changed to 150.00");
    // The audit's create entries of the big batch cover its records exactly once, each
    // run within one place.
    let runs = tx
        .fetch(
            "SELECT entity_id, COALESCE(last_entity_id, entity_id), place_id FROM audit WHERE entity = 'ld_dibao_payments' AND action = 'create' ORDER BY entity_id",
            &[],
        )
        .await
        .expect("audit");
    let covered: i64 = runs.iter().map(|r| r.int(1) - r.int(0) + 1).sum();
    assert_eq!(covered, (12 + fresh) as i64, "every new record audited once");
    for run in &runs {
        let places = tx
            .fetch_one(&format!("SELECT COUNT(DISTINCT place_id) FROM ld_dibao_payments WHERE id BETWEEN {} AND {}", run.int(0), run.int(1)), &[])
            .await
            .expect("places")
            .int(0);
        assert_eq!(places, 1, "a run lies in one place");
    }
    drop(tx);

    // The same file again: the rows that went in are all 未变 now.
    let again = import_file(db, &Actor::System, &Scope::all(), &path, &opts, today()).await.expect("import");
    assert_eq!((again.new, again.updated, again.unchanged, again.rejected), (0, 0, fresh + 12, 3), "{}", again.summary());
}

both!(a_large_mixed_batch_streams_and_every_row_gets_its_verdict, |db: Db| async move { mixed_batch(&db).await });

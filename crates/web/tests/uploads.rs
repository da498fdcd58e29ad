//! Hostile and heavy uploads (issue 18, item 5), on both engines: a dry run of a file whose
//! every row is refused answers with a page of bounded size (the first rejections, verdicts as
//! runs, the error workbook to download) and keeps no one from signing in while it runs; nor
//! does a dry run that writes (on SQLite it pauses between batches for waiting writers); an upload is private (0700
//! directory, 0600 file), its error workbook only for its uploader, and it expires unconfirmed.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{both, Client, Server};

const BOUNDARY: &str = "UpLoAdBoUnDaRy0123";

/// Sends a file as the import page does (the CSRF token in the first part); returns the status
/// and the body.
fn upload(c: &mut Client, ledger: &str, file_name: &str, content: &[u8]) -> (u16, Vec<u8>) {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"ledger\"\r\n\r\n{ledger}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        c.csrf
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let mut r = c
        .agent
        .post(format!("{}/import", c.base))
        .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("Cookie", &c.cookie)
        .header("Origin", &c.base)
        .send(&body[..])
        .expect("upload");
    let status = r.status().as_u16();
    let bytes = r.body_mut().with_config().limit(200 * 1024 * 1024).read_to_vec().expect("body");
    (status, bytes)
}

fn upload_id(page: &str) -> String {
    page.split("name=\"upload\" value=\"").nth(1).and_then(|t| t.split('"').next()).expect("upload id").to_string()
}

/// 低保金发放 rows for households that do not exist: every row refused, nothing written.
fn refused_rows(n: usize) -> Vec<u8> {
    let mut csv = String::from("户编号,发放月份,发放类别,发放金额（元）\n");
    for i in 0..n {
        csv.push_str(&format!("43122411029{i:05},2024-02,正常发放,{}\n", 300 + i % 50));
    }
    csv.into_bytes()
}

/// Signs `user` in again and again while `busy` holds, returning each sign-in's time.
fn sign_ins_while(s: &Server, user: &str, busy: &AtomicBool) -> Vec<Duration> {
    let mut took = Vec::new();
    std::thread::sleep(Duration::from_millis(500));
    while busy.load(Ordering::Acquire) {
        let started = Instant::now();
        let c = s.signed_in(user);
        took.push(started.elapsed());
        assert!(!c.cookie.is_empty());
        std::thread::sleep(Duration::from_millis(100));
    }
    took
}

fn a_dry_run_of_refused_rows(s: &Server) {
    let rows = 30_000;
    let mut clerk = s.signed_in("admin");
    let busy = AtomicBool::new(true);
    let before = s.fingerprint();
    let ((status, page), sign_ins) = std::thread::scope(|t| {
        let signing = t.spawn(|| sign_ins_while(s, "leader", &busy));
        let started = Instant::now();
        let r = upload(&mut clerk, "dibao_payments", "低保.csv", &refused_rows(rows));
        eprintln!("dry run of {rows} refused rows: {:.1} s, page {} bytes", started.elapsed().as_secs_f64(), r.1.len());
        busy.store(false, Ordering::Release);
        (r, signing.join().expect("sign-ins"))
    });
    let page = String::from_utf8_lossy(&page).into_owned();
    assert_eq!(status, 200, "{page}");
    assert_eq!(before, s.fingerprint(), "a dry run writes nothing");
    assert!(page.contains(&format!("拒绝 {rows}")), "{}", &page[..page.len().min(3000)]);
    // Bounded: the first 200 rejections, the verdicts as one run, the rest in the workbook.
    assert!(page.len() < 400_000, "the page is {} bytes", page.len());
    assert!(page.contains(&format!("被拒绝的原因共 {rows} 条，这里列出前 200 条")), "{}", &page[..page.len().min(3000)]);
    assert!(page.contains(&format!("2–{}", rows + 1)), "one run of refused rows");
    assert!(!sign_ins.is_empty(), "the dry run was over before anyone tried to sign in");
    let slowest = sign_ins.iter().max().copied().unwrap_or_default();
    eprintln!("{} sign-ins during the dry run, slowest {:.0} ms", sign_ins.len(), slowest.as_secs_f64() * 1000.0);
    assert!(slowest < Duration::from_secs(3), "a sign-in waited {slowest:?} for a dry run that writes nothing");
    // Every rejection is in the error workbook, for the uploader only.
    let id = upload_id(&page);
    assert!(page.contains(&format!("/import/errors?upload={id}")));
    let book = clerk.get(&format!("/import/errors?upload={id}"));
    assert_eq!(book.status, 200);
    assert!(book.bytes.starts_with(b"PK"), "an .xlsx");
    assert!(book.content_type.contains("spreadsheetml"));
    let mut other = s.signed_in("clerk");
    assert_eq!(other.get(&format!("/import/errors?upload={id}")).status, 404);
}

fn a_dry_run_that_writes(s: &Server) {
    let rows = 8_000;
    let mut csv = String::from("所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述\n");
    for i in 0..rows {
        csv.push_str(&format!("坪溪村,2024-03-01,燃气,一般,坪溪村{i}号,试导入的隐患{i}\n"));
    }
    let mut admin = s.signed_in("admin");
    let busy = AtomicBool::new(true);
    let before = s.fingerprint();
    let ((status, page), sign_ins) = std::thread::scope(|t| {
        let signing = t.spawn(|| sign_ins_while(s, "leader", &busy));
        let started = Instant::now();
        let r = upload(&mut admin, "hazards", "隐患.csv", csv.as_bytes());
        eprintln!("dry run of {rows} new rows: {:.1} s", started.elapsed().as_secs_f64());
        busy.store(false, Ordering::Release);
        (r, signing.join().expect("sign-ins"))
    });
    let page = String::from_utf8_lossy(&page).into_owned();
    assert_eq!(status, 200, "{}", &page[..page.len().min(3000)]);
    assert!(page.contains(&format!("新增 {rows}")), "{}", &page[..page.len().min(3000)]);
    assert_eq!(before, s.fingerprint(), "a dry run writes nothing");
    let slowest = sign_ins.iter().max().copied().unwrap_or_default();
    eprintln!("{} sign-ins during the writing dry run, slowest {:.0} ms", sign_ins.len(), slowest.as_secs_f64() * 1000.0);
    assert!(!sign_ins.is_empty(), "the dry run was over before anyone tried to sign in");
    // PostgreSQL: nothing a dry run holds is wanted by a sign-in. SQLite: one writer at a
    // time, and the dry run pauses between batches for the writers waiting.
    assert!(slowest < Duration::from_secs(3), "a sign-in waited {slowest:?} for a dry run that writes");
}

fn uploads_are_private_and_expire(s: &Server) {
    let mut c = s.signed_in("admin");
    let csv = "所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述\n坪溪村,2024-03-01,燃气,一般,坪溪村2组,等待确认的隐患\n";
    let (status, page) = upload(&mut c, "hazards", "隐患.csv", csv.as_bytes());
    assert_eq!(status, 200);
    let old = upload_id(&String::from_utf8_lossy(&page));
    let root = s.state.imports.root().expect("the uploads' directory");
    // Each file of an upload in a directory of its own, under the clerk's name.
    let file = root.join(&old).join("0").join("隐患.csv");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700, "the uploads' directory is the server's own");
        assert_eq!(mode(&root.join(&old)), 0o700);
        assert_eq!(mode(&root.join(&old).join("0")), 0o700);
        assert_eq!(mode(&file), 0o600, "an uploaded file is read by the server's account only");
    }
    // Left unconfirmed past its time: the next upload sweeps it away, file and all.
    let waiting = s.state.imports.waiting();
    s.state.imports.age_all(Duration::from_secs(31 * 60));
    let (status, page) = upload(&mut c, "hazards", "隐患.csv", csv.as_bytes());
    assert_eq!(status, 200);
    assert!(!file.exists() && !root.join(&old).exists(), "an expired upload is removed");
    assert_eq!(s.state.imports.waiting(), waiting, "the old one gone, the new one waiting");
    assert_eq!(c.post_form("/import/confirm", &[("upload", &old)]).status, 404);
    // Confirmed: written, and its file removed at once.
    let new = upload_id(&String::from_utf8_lossy(&page));
    let r = c.post_form("/import/confirm", &[("upload", &new)]);
    assert!(r.body.contains("已写入"), "{}", r.body);
    assert!(!root.join(&new).exists(), "a confirmed upload is removed");
    // The periodic sweep too.
    let (_, page) = upload(&mut c, "hazards", "隐患.csv", csv.as_bytes());
    let third = upload_id(&String::from_utf8_lossy(&page));
    s.state.imports.age_all(Duration::from_secs(31 * 60));
    s.state.imports.sweep_now();
    assert!(!root.join(&third).exists());
}

#[test]
fn a_big_dry_run_answers_briefly_and_blocks_no_sign_in() {
    both(a_dry_run_of_refused_rows);
}

#[test]
fn a_writing_dry_run_blocks_no_sign_in() {
    both(a_dry_run_that_writes);
}

#[test]
fn uploads_are_private_and_expire_unconfirmed() {
    both(uploads_are_private_and_expire);
}

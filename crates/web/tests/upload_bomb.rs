//! A shared-string bomb through the import page, under a memory bound: a workbook of about
//! 320 KB whose shared strings inflate to some 300 MB (9,400 distinct texts of 32,000
//! characters — each under the per-text limit — and zip headers that lie about the compressed
//! size, so that no ratio check stops it early) is refused in Chinese once the table passes
//! the server's 32 MB, one upload or six at once, and the server's peak memory grows by a few
//! tens of megabytes, not the 300 MB (540 MB measured before) the table would take. Alone in
//! its test binary: the peak is the process's own (Linux `VmHWM`, reset before each step).

mod common;

use std::io::{Cursor, Write};

use common::Client;
use taizhang_storage::Engine;
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

const BOUNDARY: &str = "BoMbBoUnDaRy0123";
const TEXTS: usize = 9_400;
const TEXT_CHARS: usize = 32_000;

/// The bomb: one sheet whose first cell names shared string 0, and a shared-string table of
/// `TEXTS` distinct texts of `TEXT_CHARS` characters; the headers of the table's zip entry
/// claim a compressed size of 2 GB, which puts the inflation ratio it implies far below any
/// limit.
fn bomb() -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let put = |zip: &mut ZipWriter<Cursor<Vec<u8>>>, name: &str, text: &str| {
        zip.start_file(name, o).expect("entry");
        zip.write_all(text.as_bytes()).expect("write");
    };
    put(&mut zip, "[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>"#);
    put(&mut zip, "_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#);
    put(&mut zip, "xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#);
    put(&mut zip, "xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="安全隐患排查整治台账" sheetId="1" r:id="rId1"/></sheets></workbook>"#);
    put(&mut zip, "xl/worksheets/sheet1.xml", r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#);
    zip.start_file("xl/sharedStrings.xml", o).expect("entry");
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#).expect("write");
    let filler = "A".repeat(TEXT_CHARS - 5);
    for i in 0..TEXTS {
        zip.write_all(format!("<si><t>{i:05}{filler}</t></si>").as_bytes()).expect("write");
    }
    zip.write_all(b"</sst>").expect("write");
    let mut bytes = zip.finish().expect("zip").into_inner();
    // The lie: local header (compressed size at +18) and central directory (+20).
    let name = b"xl/sharedStrings.xml";
    let mut patched = 0;
    for i in 0..bytes.len().saturating_sub(name.len()) {
        if &bytes[i..i + name.len()] != name {
            continue;
        }
        let at = if i >= 30 && bytes[i - 30..i - 26] == [0x50, 0x4b, 0x03, 0x04] {
            i - 30 + 18
        } else if i >= 46 && bytes[i - 46..i - 42] == [0x50, 0x4b, 0x01, 0x02] {
            i - 46 + 20
        } else {
            continue;
        };
        bytes[at..at + 4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        patched += 1;
    }
    assert_eq!(patched, 2, "both headers lie");
    bytes
}

fn upload(c: &mut Client, file_name: &str, content: &[u8]) -> (u16, String) {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"ledger\"\r\n\r\nhazards\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
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
    let text = r.body_mut().read_to_string().expect("body");
    (status, text)
}

/// A line of /proc/self/status, in KiB.
fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("field")
}

/// Resets the peak (VmHWM) to the present resident size, and returns that size.
fn reset_peak() -> u64 {
    std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
    status_kib("VmRSS:")
}

#[test]
fn a_shared_string_bomb_is_refused_under_a_memory_bound() {
    let s = common::start(Engine::Sqlite).expect("sqlite");
    let bytes = bomb();
    assert!(bytes.len() < 400 * 1024, "{} bytes", bytes.len());
    let mut c = s.signed_in("admin");
    // A first upload warms what every upload uses (templates, pools, the reader's buffers).
    let (status, _) = upload(&mut c, "隐患.csv", "所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述\n坪溪村,2024-03-01,燃气,一般,坪溪村2组,预热\n".as_bytes());
    assert_eq!(status, 200);

    let base = reset_peak();
    let (status, page) = upload(&mut c, "炸弹.xlsx", &bytes);
    let grew = status_kib("VmHWM:").saturating_sub(base) / 1024;
    eprintln!("one bomb: {status}, peak grew by {grew} MB");
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("共享文本表超过 32 MB") && page.contains("未读取"), "{page}");
    assert!(grew < 100, "one bomb raised the server's peak memory by {grew} MB");

    // Six at once: two read at a time, each stopped at its 32 MB.
    let base = reset_peak();
    let clients: Vec<Client> = (0..6).map(|_| s.signed_in("admin")).collect();
    let statuses: Vec<u16> = std::thread::scope(|t| {
        let bytes = &bytes;
        let running: Vec<_> = clients.into_iter().map(|mut c| t.spawn(move || upload(&mut c, "炸弹.xlsx", bytes).0)).collect();
        running.into_iter().map(|h| h.join().expect("upload")).collect()
    });
    let grew = status_kib("VmHWM:").saturating_sub(base) / 1024;
    eprintln!("six bombs at once: {statuses:?}, peak grew by {grew} MB");
    assert!(statuses.iter().all(|s| *s == 422), "{statuses:?}");
    assert!(grew < 200, "six bombs raised the server's peak memory by {grew} MB");
    assert_eq!(s.state.imports.waiting(), 1, "nothing refused is kept (the first, good upload waits)");
}

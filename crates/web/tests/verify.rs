//! 校核 over HTTP (no browser), on SQLite and PostgreSQL: a 村干部 verifies against their
//! village only (the town and another village are "not found", their own village is the
//! default); the marked Word copy holds word/comments.xml with one comment per figure the page
//! counted; a 业务员 not assigned a special-category ledger (特困供养) gets its figures as
//! 无法对应, with no indicator and no value, in the page and in the Word file; a Word draft
//! comes back annotated, its text unchanged; a file of another kind is refused in Chinese.

mod common;

use std::io::Read;

use common::{Client, Reply, Server, VILLAGE_A, VILLAGE_B};

const TOWN: &str = "431224110000";

/// The draft: a special-category figure (五保 = the 特困 ledger) and the gas hazards, which the
/// world holds one of in each village this year.
const DRAFT: &str = "截止目前，我镇五保对象共206户207人。\n在燃气安全整治中，排查隐患25起，其中一般隐患16起，重大安全隐患9起，并督促整改到位。\n";

fn form(place: &str, file_name: &str, text: &str) -> String {
    format!(
        "--b\r\nContent-Disposition: form-data; name=\"span\"\r\n\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"place\"\r\n\r\n{place}\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--b--\r\n"
    )
}

fn post(c: &mut Client, path: &str, place: &str, file_name: &str, text: &str) -> Reply {
    c.post_multipart(path, "b", &form(place, file_name, text))
}

/// The form with a file of bytes (a Word draft), the CSRF token first as the page sends it.
fn post_bytes(c: &mut Client, path: &str, file_name: &str, bytes: &[u8]) -> Reply {
    let mut body = format!("--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n", c.csrf).into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--b--\r\n");
    let r = c
        .agent
        .post(format!("{}{path}", c.base))
        .header("Content-Type", "multipart/form-data; boundary=b")
        .header("Cookie", &c.cookie)
        .header("Origin", &c.base)
        .send(&body[..])
        .expect("HTTP request");
    let status = r.status().as_u16();
    let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let bytes = r.into_body().with_config().limit(50 * 1024 * 1024).read_to_vec().unwrap_or_default();
    Reply { status, location: String::new(), body: String::from_utf8_lossy(&bytes).into_owned(), bytes, content_type }
}

/// "共 N 处数字" on the page.
fn total(page: &str) -> usize {
    let mark = "id=\"verify-counts\">共 ";
    let at = page.find(mark).expect("the counts") + mark.len();
    page[at..].split(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("a count after 共: {}", &page[at..at + 40]))
}

/// word/comments.xml of a .docx and the number of comments in it.
fn comments(docx: &[u8]) -> (String, usize) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("the download is a zip");
    let mut xml = String::new();
    zip.by_name("word/comments.xml").expect("word/comments.xml").read_to_string(&mut xml).expect("comments.xml");
    let n = xml.matches("<w:comment ").count();
    (xml, n)
}

fn run(s: &Server) {
    // The 村干部 of 坪溪村: the town and 金竹村 are not theirs.
    let mut cadre = s.signed_in("cadre");
    for place in [TOWN, VILLAGE_B] {
        for path in ["/verify", "/verify/docx"] {
            let r = post(&mut cadre, path, place, "总结.txt", DRAFT);
            assert_eq!(r.status, 404, "{path} against {place} as the 村干部: {}", r.body);
            assert!(!r.body.contains("处数字") && !r.bytes.starts_with(b"PK"), "nothing verified: {}", r.body);
        }
    }
    // Without a place, and naming their own, it is their village.
    for place in ["", VILLAGE_A] {
        let r = post(&mut cadre, "/verify", place, "总结.txt", DRAFT);
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("总结.txt：坪溪村"), "verified against 坪溪村: {}", r.body);
        assert!(r.body.contains("不一致，台账 1起"), "坪溪村's one gas hazard: {}", r.body);
    }

    // The leader: the town's two hazards; the marked Word copy, one comment per figure.
    let mut leader = s.signed_in("leader");
    let page = post(&mut leader, "/verify", "", "总结.txt", DRAFT);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("不一致，台账 2起"), "{}", page.body);
    assert!(page.body.contains("特困供养对象户数"), "the leader reads the 特困 ledger: {}", page.body);
    assert!(page.body.contains("/explain/hazards_gas?year="), "a figure links to its records: {}", page.body);
    let n = total(&page.body);
    assert_eq!(n, 5, "206户, 207人, 25起, 16起, 9起");
    let r = post(&mut leader, "/verify/docx", "", "总结.txt", DRAFT);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type.contains("wordprocessingml"), "{}", r.content_type);
    let (xml, count) = comments(&r.bytes);
    assert_eq!(count, n, "one comment per figure: {xml}");
    assert!(xml.contains("不一致") && xml.contains("特困供养对象户数"), "{xml}");

    // The 业务员 is assigned hazards and key_population, not the 特困 ledger: its figures are
    // 无法对应, with no name and no value, in the page and in the Word file.
    let mut clerk = s.signed_in("clerk");
    let page = post(&mut clerk, "/verify", "", "总结.txt", DRAFT);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("特困供养对象") && page.body.contains("不一致，台账 2起"), "{}", page.body);
    assert!(page.body.contains("您未分管的健康、重点人群台账上的数字不核对"), "{}", page.body);
    assert_eq!(total(&page.body), n, "the same figures, fewer recognised");
    let r = post(&mut clerk, "/verify/docx", "", "总结.txt", DRAFT);
    let (xml, count) = comments(&r.bytes);
    assert_eq!(count, n);
    assert!(!xml.contains("特困供养对象"), "{xml}");

    // A Word draft: the original annotated, a comment per figure, its text unchanged.
    let word = taizhang_document::to_docx(&taizhang_document::parse_markup(DRAFT), &taizhang_document::OfficialStyle::default()).expect("a Word draft");
    let original = taizhang_verify::Draft::read("总结.docx", &word).expect("the draft reads").text;
    let r = post_bytes(&mut leader, "/verify/docx", "总结.docx", &word);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type.contains("wordprocessingml"), "{}", r.content_type);
    let (xml, count) = comments(&r.bytes);
    assert_eq!(count, n, "{xml}");
    assert_eq!(taizhang_verify::Draft::read("批注.docx", &r.bytes).expect("the marked copy reads").text, original, "nothing of the draft changed");
    let r = post_bytes(&mut leader, "/verify", "总结.docx", &word);
    assert_eq!(total(&r.body), n, "the Word draft's figures are the text's");

    // A file of another kind, and no file: said in Chinese on the form.
    let r = post(&mut leader, "/verify", "", "总结.pdf", "%PDF-1.4");
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("稿件只能是 .docx、.md、.txt 或 .html"), "{}", r.body);
    let r = post(&mut leader, "/verify", "", "", "");
    assert_eq!(r.status, 422);
    assert!(r.body.contains("请先选择要校核的稿件"), "{}", r.body);
    // A quarter and a month are periods of their own.
    let body = form("", "总结.txt", DRAFT).replace("name=\"span\"\r\n\r\n", "name=\"span\"\r\n\r\nQ1");
    let r = leader.post_multipart("/verify", "b", &body);
    assert!(r.body.contains("第一季度"), "{}", r.body);
}

#[test]
fn verify_confined_and_marked_on_sqlite_and_postgres() {
    common::both(run);
}

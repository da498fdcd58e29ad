//! Evidence (佐证材料) through the web, on SQLite and PostgreSQL (docs/attachments.md): a photo
//! uploaded to a record is shown as a thumbnail and given back byte for byte with the type
//! found from its content; a file that is no photo, PDF, Word or Excel is refused naming it,
//! and so is one over the setting's limit; only those who may edit the record upload and
//! remove (with a reason); the record and its files download as one zip; a reader of a ledger
//! whose reads are audited leaves a read entry; 复查销号 waits for a photo.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Reply, Server};
use std::io::Read as _;

const PHOTO: &[u8] = include_bytes!("fixtures/hazard-after.png");

/// Sends files as the record page's form does: the CSRF token first, then each file in a part
/// named `file` (bytes as they are, not text).
fn upload(c: &mut Client, path: &str, files: &[(&str, &str, &[u8])]) -> Reply {
    let mut body = format!("--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n", c.csrf).into_bytes();
    for (name, ct, bytes) in files {
        body.extend(format!("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(b"--XyZ--\r\n");
    let r = c
        .agent
        .post(format!("{}{path}", c.base))
        .header("Content-Type", "multipart/form-data; boundary=XyZ")
        .header("Cookie", &c.cookie)
        .header("Origin", &c.base)
        .send(&body[..]);
    let mut r = r.unwrap();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let status = r.status().as_u16();
    let bytes = r.body_mut().read_to_vec().unwrap_or_default();
    Reply { status, location, body: String::from_utf8_lossy(&bytes).into_owned(), bytes, content_type: String::new() }
}

/// An address as the page writes it (the templates escape `/`).
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
}

/// The thumbnails' addresses on a record page.
fn thumbnails(page: &str) -> Vec<String> {
    page.split("<img src=\"").skip(1).filter_map(|s| s.split('"').next()).map(unescape).collect()
}

fn run(s: &Server) {
    let ha = s.world.hazard_a;
    let record = format!("/ledgers/hazards/{ha}");
    let mut clerk = s.signed_in("clerk");
    let page = clerk.get(&record).body;
    assert!(page.contains("<h2>佐证材料</h2>") && page.contains("还没有佐证材料"), "the section is there, empty");
    assert!(page.contains("capture=\"environment\"") && page.contains("accept=\"image/*\""), "a phone opens its camera");

    // A photo: shown as a thumbnail, given back as it was, as an image, audited on the record.
    let r = upload(&mut clerk, &format!("{record}/attachments"), &[("整改后.png", "image/png", PHOTO)]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, format!("{record}?saved=1#evidence"));
    let page = clerk.get(&record).body;
    let thumbs = thumbnails(&page);
    assert_eq!(thumbs.len(), 1, "one thumbnail");
    assert!(page.contains("整改后.png") && page.contains("照片 · 3 KB"), "named, with its kind and size");
    let original = clerk.get(&thumbs[0]);
    assert_eq!(original.status, 200);
    assert_eq!(original.content_type, "image/png");
    assert!(original.bytes == PHOTO, "byte for byte");
    assert!(page.contains("<td>上传佐证材料</td>") && page.contains("上传佐证材料「整改后.png」"), "in the record's history");
    assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM audit WHERE action = 'attach' AND entity = 'ld_hazards' AND entity_id = {ha}")), 1);

    // Judged by content, not by name or claimed type; refused naming the file.
    let r = upload(&mut clerk, &format!("{record}/attachments"), &[("现场.jpg", "image/jpeg", b"<script>alert(1)</script>")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("文件「现场.jpg」不是可以作为佐证材料的文件"), "{}", r.body);
    // Too large for the setting: refused before the rest is read.
    s.rt.block_on(async {
        let mut tx = s.db.begin().await.unwrap();
        taizhang_storage::settings::set(&mut tx, &taizhang_domain::role::Actor::System, taizhang_storage::attachments::MAX_MB_SETTING, 0, 1).await.unwrap();
        tx.commit().await.unwrap();
    });
    let mut big = b"\xFF\xD8\xFF\xE0".to_vec();
    big.resize(1024 * 1024 + 100, 7);
    let r = upload(&mut clerk, &format!("{record}/attachments"), &[("大照片.jpg", "image/jpeg", &big)]);
    assert_eq!(r.status, 413);
    assert!(r.body.contains("文件「大照片.jpg」超过佐证材料单个文件的上限 1 MB"), "{}", r.body);
    assert_eq!(thumbnails(&clerk.get(&record).body).len(), 1, "nothing added by the refusals");

    // A PDF: an icon and a download, never shown in the site's origin.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let r = upload(&mut clerk, &format!("{record}/attachments"), &[("验收单.pdf", "application/pdf", pdf)]);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = clerk.get(&record).body;
    assert!(page.contains(">PDF</span>") && page.contains("验收单.pdf"));
    let pdf_url = page.split("href=\"").filter_map(|x| x.split('"').next()).map(unescape).find(|u| u.contains("/attachments/") && !thumbs.contains(u)).unwrap();
    let got = clerk.get(&pdf_url);
    assert_eq!((got.status, got.content_type.as_str()), (200, "application/pdf"));
    assert!(got.bytes == pdf);

    // The record with its files, as one zip.
    let z = clerk.get(&format!("{record}/attachments.zip"));
    assert_eq!((z.status, z.content_type.as_str()), (200, "application/zip"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z.bytes)).unwrap();
    let names: Vec<String> = archive.file_names().map(String::from).collect();
    assert!(names.contains(&"记录.txt".to_string()) && names.contains(&"01-整改后.png".to_string()) && names.contains(&"02-验收单.pdf".to_string()), "{names:?}");
    let mut text = String::new();
    archive.by_name("记录.txt").unwrap().read_to_string(&mut text).unwrap();
    assert!(text.contains("隐患描述：燃气管老化") && text.contains("佐证材料（2 件）") && text.contains(&taizhang_storage::attachments::sha256_hex(PHOTO)), "{text}");
    let mut back = Vec::new();
    archive.by_name("01-整改后.png").unwrap().read_to_end(&mut back).unwrap();
    assert!(back == PHOTO);

    // The 领导 sees the evidence but does not upload (he edits nothing).
    let mut leader = s.signed_in("leader");
    let page = leader.get(&record).body;
    assert_eq!(thumbnails(&page).len(), 1);
    assert!(!page.contains("id=\"evidence-upload\"") && !page.contains("确认撤下"));
    assert_eq!(upload(&mut leader, &format!("{record}/attachments"), &[("a.png", "image/png", PHOTO)]).status, 403);

    // Removal takes a reason; the file is listed as removed, with who and why.
    let id = pdf_url.rsplit('/').next().unwrap();
    let r = clerk.post_form(&format!("{pdf_url}/void"), &[("reason", "")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("须说明原因"));
    let r = clerk.post_form(&format!("{pdf_url}/void"), &[("reason", "传错了")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = clerk.get(&record).body;
    assert!(page.contains("已撤下 1 件") && page.contains("原因：传错了") && page.contains("撤下佐证材料「验收单.pdf」，原因：传错了"));
    assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM attachments WHERE id = {id} AND voided_at IS NOT NULL")), 1, "kept, voided");

    // Another village's 村干部 finds nothing of 金竹村's evidence.
    let mut cadre = s.signed_in("cadre");
    let foreign = format!("/ledgers/hazards/{}/attachments/{}", s.world.hazard_b, s.world.attachment_b);
    assert_eq!(cadre.get(&foreign).status, 404);
    assert_eq!(cadre.get(&format!("/ledgers/hazards/{}/attachments.zip", s.world.hazard_b)).status, 404);
    // …nor by putting the id under a record of his own.
    assert_eq!(cadre.get(&format!("{record}/attachments/{}", s.world.attachment_b)).status, 404);

    // 复查销号 waits for a photo after rectification.
    let cadre_b = format!("#{}", s.world.cadre_b);
    let fresh = {
        let mut clerk = s.signed_in("clerk");
        let r = clerk.post_form("/ledgers/hazards/new", &[("_place", common::VILLAGE_A), ("found_on", "2023-03-01"), ("industry", "燃气"), ("level", "一般"), ("location", "坪溪村5组"), ("description", "阀门锈蚀")]);
        assert_eq!(r.status, 303, "{}", r.body);
        r.location.split('?').next().unwrap().to_string()
    };
    let r = clerk.post_form(&format!("{fresh}/transition"), &[("_version", "1"), ("_transition", "fix_on_spot"), ("rectified_on", "2023-03-02")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = clerk.get(&fresh).body;
    assert!(page.contains("办理「复查销号」须先上传佐证材料：整改后照片（尚未上传）"), "said before the step");
    assert!(page.contains("先上传佐证材料「整改后照片」"), "among what the step needs");
    let close = [("_version", "2"), ("_transition", "close"), ("review_on", "2023-03-05"), ("reviewer", cadre_b.as_str())];
    let r = clerk.post_form(&format!("{fresh}/transition"), &close);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("复查销号需要先上传佐证材料：整改后照片"), "{}", r.body);
    let r = upload(&mut clerk, &format!("{fresh}/attachments"), &[("IMG_2041.png", "image/png", PHOTO)]);
    assert_eq!(r.status, 303, "{}", r.body);
    let r = clerk.post_form(&format!("{fresh}/transition"), &close);
    assert_eq!(r.status, 303, "closed once the photo is there: {}", r.body);
    assert!(clerk.get(&fresh).body.contains("复查销号"));

    // A ledger whose reads are audited: looking at its evidence is a read, noted with the file.
    let kp = format!("/ledgers/key_population/{}", s.world.keypop_a);
    let r = upload(&mut clerk, &format!("{kp}/attachments"), &[("走访照片.png", "image/png", PHOTO)]);
    assert_eq!(r.status, 303, "{}", r.body);
    let url = thumbnails(&leader.get(&kp).body).pop().unwrap();
    let before = s.scalar("SELECT COUNT(*) FROM audit WHERE action = 'read' AND entity = 'ld_key_population' AND actor = 'leader' AND note LIKE '%佐证材料%'");
    assert_eq!(leader.get(&url).status, 200);
    let after = s.scalar("SELECT COUNT(*) FROM audit WHERE action = 'read' AND entity = 'ld_key_population' AND actor = 'leader' AND note LIKE '%佐证材料%'");
    assert_eq!(after, before + 1, "the original's read is in the trail");
    // The record and its files from a reader who sees numbers masked: the subject by name, no
    // ID number; the download is a read too.
    let z = leader.get(&format!("{kp}/attachments.zip"));
    assert_eq!(z.status, 200);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z.bytes)).unwrap();
    let mut text = String::new();
    archive.by_name("记录.txt").unwrap().read_to_string(&mut text).unwrap();
    assert!(text.contains("记录对象（人员）：张坪溪") && text.contains("人员类别：社区矫正对象"), "{text}");
    assert!(!text.contains(&common::id_number(1)), "no ID number: {text}");
    assert_eq!(s.scalar("SELECT COUNT(*) FROM audit WHERE action = 'read' AND entity = 'ld_key_population' AND actor = 'leader' AND note LIKE '下载记录及佐证材料%'"), 1);
}

#[test]
fn evidence_on_a_record_on_sqlite_and_postgres() {
    common::both(run);
}

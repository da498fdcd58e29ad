//! Evidence (佐证材料): files attached to a ledger's record — photos from a phone's camera, PDF,
//! Word and Excel — kept in the database (`attachments`, migration 7 on SQLite, 6 on
//! PostgreSQL) with their SHA-256, so a backup and a restore carry them with the records they
//! prove and a damaged file is noticed when read.
//!
//! An attachment is confined as its record is: adding, listing, reading and removing all go
//! through `records::get` with the caller's scope, and an id outside it is "not found". What a
//! file is comes from its first bytes, never from the name or the type the browser claims. A
//! file is never changed or deleted (triggers refuse it on both engines); removing it from a
//! record voids it with a reason. Adding and removing are audit entries on the record itself
//! (`attach`, `detach`), so the record's history shows them. docs/attachments.md.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::role::Actor;
use taizhang_domain::value::Voided;
use taizhang_domain::workflow::Transition;
use taizhang_domain::DomainError;

use crate::audit::{self, Change};
use crate::backend::{Engine, Tx};
use crate::error::{Result, StoreError};
use crate::records;
use crate::scope::Scope;
use crate::sql::{Arg, Row};

/// The setting (`catalogue/settings/attachments.toml`) that limits one file, in MB.
pub const MAX_MB_SETTING: &str = "attachments:max_mb";
/// The limit while the setting is not set.
pub const DEFAULT_MAX_MB: i64 = 10;
/// No setting raises the limit beyond this: a file is held in memory while it is stored.
pub const CEILING_MB: i64 = 50;

/// What a file is, judged by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    Jpeg,
    Png,
    Webp,
    Pdf,
    Docx,
    Xlsx,
    Doc,
    Xls,
}

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Webp => "image/webp",
            Kind::Pdf => "application/pdf",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Doc => "application/msword",
            Kind::Xls => "application/vnd.ms-excel",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::Webp => "webp",
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
            Kind::Xlsx => "xlsx",
            Kind::Doc => "doc",
            Kind::Xls => "xls",
        }
    }

    pub fn of_content_type(ct: &str) -> Option<Kind> {
        [Kind::Jpeg, Kind::Png, Kind::Webp, Kind::Pdf, Kind::Docx, Kind::Xlsx, Kind::Doc, Kind::Xls].into_iter().find(|k| k.content_type() == ct)
    }

    pub fn is_image(self) -> bool {
        matches!(self, Kind::Jpeg | Kind::Png | Kind::Webp)
    }

    /// What a user calls it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Jpeg | Kind::Png | Kind::Webp => "照片",
            Kind::Pdf => "PDF",
            Kind::Docx | Kind::Doc => "Word 文档",
            Kind::Xlsx | Kind::Xls => "Excel 表格",
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// What the bytes are, by their signature; `None` for anything not accepted as evidence
/// (executables, HTML, SVG — which could carry script — archives, HEIC the browsers do not
/// show). A zip is Word or Excel by the part names its entries carry; an OLE file (the old
/// .doc and .xls) by the name of its main stream, stored in UTF-16 in its directory.
pub fn sniff(b: &[u8]) -> Option<Kind> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some(Kind::Webp)
    } else if b.starts_with(b"%PDF-") {
        Some(Kind::Pdf)
    } else if b.starts_with(b"PK\x03\x04") {
        if contains(b, b"word/document.xml") {
            Some(Kind::Docx)
        } else if contains(b, b"xl/workbook.xml") {
            Some(Kind::Xlsx)
        } else {
            None
        }
    } else if b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        if contains(b, &utf16("WordDocument")) {
            Some(Kind::Doc)
        } else if contains(b, &utf16("Workbook")) || contains(b, &utf16("Book")) {
            Some(Kind::Xls)
        } else {
            None
        }
    } else {
        None
    }
}

/// The name a file is kept and offered under: the last part of what the browser sent (a
/// phone may send a path), without control characters or path separators, at most 80
/// characters, ending in the extension its content deserves (a photo named `.pdf` is saved
/// as `….jpg`).
pub fn clean_name(given: &str, kind: Kind) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or("");
    let mut name: String = last.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | ':' | '"' | '<' | '>' | '|' | '*' | '?')).collect();
    name = name.trim().trim_start_matches('.').to_string();
    let stem = match name.rsplit_once('.') {
        Some((s, ext)) if !s.is_empty() && ext.len() <= 5 => s.to_string(),
        _ => name,
    };
    let stem: String = stem.chars().take(80).collect();
    let stem = if stem.trim().is_empty() { kind.label().replace(' ', "") } else { stem };
    format!("{stem}.{}", kind.extension())
}

/// A size as people read it: 2.4 MB, 380 KB.
pub fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 {
        format!("{} MB", bytes / (1024 * 1024))
    } else if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if !t.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    t.chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// How the file's bytes travel: as hex text both engines turn into a blob (the `Arg`s carry
/// no bytes), stored as binary.
fn bytes_in(engine: Engine, n: usize) -> String {
    match engine {
        Engine::Sqlite => format!("unhex(${n})"),
        Engine::Postgres => format!("decode(${n}, 'hex')"),
    }
}

fn bytes_out(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "hex(bytes)",
        Engine::Postgres => "encode(bytes, 'hex')",
    }
}

/// One attachment, without its bytes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Attachment {
    pub id: i64,
    pub ledger: String,
    pub record_id: i64,
    pub place_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: String,
    pub created_by: String,
    pub voided: Option<Voided>,
}

impl Attachment {
    pub fn kind(&self) -> Option<Kind> {
        Kind::of_content_type(&self.content_type)
    }

    pub fn is_image(&self) -> bool {
        self.kind().is_some_and(Kind::is_image)
    }
}

const COLUMNS: &str = "id, ledger, record_id, place_id, file_name, content_type, size_bytes, sha256, created_at, created_by, voided_at, voided_by, void_reason";

fn from_row(r: &Row) -> Attachment {
    Attachment {
        id: r.int(0),
        ledger: r.text(1),
        record_id: r.int(2),
        place_id: r.int(3),
        file_name: r.text(4),
        content_type: r.text(5),
        size_bytes: r.int(6),
        sha256: r.text(7),
        created_at: r.text(8),
        created_by: r.text(9),
        voided: r.opt_text(10).map(|at| Voided { at, by: r.text(11), reason: r.text(12) }),
    }
}

/// The largest file accepted, in bytes: the setting 佐证材料单个文件上限 (MB), else 10 MB,
/// never more than [`CEILING_MB`] nor less than 1 MB.
pub async fn max_bytes(tx: &mut Tx) -> Result<usize> {
    let mb = crate::settings::get(tx, MAX_MB_SETTING, taizhang_domain::setting::ALL_YEARS).await?.unwrap_or(DEFAULT_MAX_MB);
    Ok(usize::try_from(mb.clamp(1, CEILING_MB)).unwrap_or(10) * 1024 * 1024)
}

fn refused(msg: String) -> StoreError {
    StoreError::Domain(DomainError::Rule(msg))
}

/// Why a file given by a browser cannot be evidence, if so: empty, too large, or of a kind not
/// accepted. Checked again by [`add`]; the web asks first to refuse a file before reading all
/// of it.
pub fn refusal(file_name: &str, size: usize, limit: usize) -> Option<String> {
    let shown = if file_name.trim().is_empty() { "（未命名）" } else { file_name };
    if size == 0 {
        return Some(format!("文件「{shown}」是空的，未上传"));
    }
    if size > limit {
        return Some(format!(
            "文件「{shown}」超过佐证材料单个文件的上限 {}，未上传（照片可在手机上选较小的尺寸，或压缩后再传）",
            size_text(i64::try_from(limit).unwrap_or(i64::MAX))
        ));
    }
    None
}

/// Attaches a file to a record the actor may see: refused for a voided record, an empty or
/// too large file, or one whose content is not a photo (JPEG, PNG, WebP), PDF, Word or Excel.
/// Audited on the record (`attach`, with the name, size and checksum).
pub async fn add(tx: &mut Tx, def: &LedgerDef, actor: &Actor, scope: &Scope, record_id: i64, file_name: &str, bytes: &[u8]) -> Result<Attachment> {
    let record = records::get(tx, def, scope, record_id).await?;
    if record.voided.is_some() {
        return Err(StoreError::Conflict(format!("「{}」第 {record_id} 号记录已作废，不能再上传佐证材料", def.name)));
    }
    let limit = max_bytes(tx).await?;
    if let Some(why) = refusal(file_name, bytes.len(), limit) {
        return Err(refused(why));
    }
    let Some(kind) = sniff(bytes) else {
        return Err(refused(format!(
            "文件「{}」不是可以作为佐证材料的文件，未上传：只收照片（JPEG、PNG、WebP）、PDF、Word（.doc、.docx）和 Excel（.xls、.xlsx），按文件内容判断，与扩展名无关",
            if file_name.trim().is_empty() { "（未命名）" } else { file_name }
        )));
    };
    let name = clean_name(file_name, kind);
    let sum = sha256_hex(bytes);
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let sql = format!(
        "INSERT INTO attachments (ledger, record_id, place_id, file_name, content_type, size_bytes, sha256, bytes, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, {}, $9, $10) RETURNING id",
        bytes_in(tx.engine(), 8)
    );
    let id = tx
        .insert(
            &sql,
            &[
                def.key.as_str().into(),
                Arg::Int(record_id),
                Arg::Int(record.place_id),
                name.as_str().into(),
                kind.content_type().into(),
                Arg::Int(size),
                sum.as_str().into(),
                Arg::Text(hex(bytes)),
                Arg::Time(crate::now()),
                actor.name().into(),
            ],
        )
        .await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "attach",
            entity: &def.table_name(),
            entity_id: Some(record_id),
            place_id: Some(record.place_id),
            before: None,
            after: Some(json!({"attachment": {"id": id, "file_name": name, "content_type": kind.content_type(), "size_bytes": size, "sha256": sum}})),
            note: &format!("上传佐证材料「{name}」（{}，{}）", kind.label(), size_text(size)),
        },
    )
    .await?;
    get(tx, def, scope, record_id, id).await
}

/// One attachment of a record in scope (voided ones included), without its bytes.
pub async fn get(tx: &mut Tx, def: &LedgerDef, scope: &Scope, record_id: i64, id: i64) -> Result<Attachment> {
    let sql = format!("SELECT {COLUMNS} FROM attachments WHERE id = $1 AND ledger = $2 AND record_id = $3 AND {}", scope.condition("place_id", 4));
    tx.fetch_opt(&sql, &[Arg::Int(id), def.key.as_str().into(), Arg::Int(record_id), scope.arg()])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound(format!("「{}」第 {record_id} 号记录没有编号为 {id} 的佐证材料，或不在您的管辖范围内", def.name)))
}

/// A record's attachments in the order they were added; voided ones only when asked.
pub async fn list(tx: &mut Tx, def: &LedgerDef, scope: &Scope, record_id: i64, with_voided: bool) -> Result<Vec<Attachment>> {
    records::get(tx, def, scope, record_id).await?;
    let live = if with_voided { "" } else { " AND voided_at IS NULL" };
    let sql = format!("SELECT {COLUMNS} FROM attachments WHERE ledger = $1 AND record_id = $2{live} ORDER BY id");
    Ok(tx.fetch(&sql, &[def.key.as_str().into(), Arg::Int(record_id)]).await?.iter().map(from_row).collect())
}

/// An attachment with its bytes, for a reader who may see the record; the bytes are checked
/// against the SHA-256 stored at upload, and a file that no longer matches is refused.
pub async fn fetch(tx: &mut Tx, def: &LedgerDef, scope: &Scope, record_id: i64, id: i64) -> Result<(Attachment, Vec<u8>)> {
    records::get(tx, def, scope, record_id).await?;
    let a = get(tx, def, scope, record_id, id).await?;
    let sql = format!("SELECT {} FROM attachments WHERE id = $1", bytes_out(tx.engine()));
    let text = tx.fetch_one(&sql, &[Arg::Int(id)]).await?.text(0);
    let bytes = unhex(&text).filter(|b| sha256_hex(b) == a.sha256).ok_or_else(|| {
        StoreError::Database(format!("佐证材料「{}」（编号 {id}）与上传时的校验值不符，文件已损坏；请从备份恢复", a.file_name))
    })?;
    Ok((a, bytes))
}

/// Takes an attachment off its record (作废), with the reason; the file stays in the database
/// and in the audit trail. Audited on the record (`detach`).
pub async fn void(tx: &mut Tx, def: &LedgerDef, actor: &Actor, scope: &Scope, record_id: i64, id: i64, reason: &str) -> Result<Attachment> {
    // Scope first: outside it the answer is "not found", whatever else is wrong.
    let record = records::get(tx, def, scope, record_id).await?;
    let a = get(tx, def, scope, record_id, id).await?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(refused("撤下佐证材料须说明原因".into()));
    }
    if a.voided.is_some() {
        return Err(StoreError::Conflict(format!("佐证材料「{}」已撤下", a.file_name)));
    }
    tx.exec(
        "UPDATE attachments SET voided_at = $1, voided_by = $2, void_reason = $3 WHERE id = $4 AND voided_at IS NULL",
        &[Arg::Time(crate::now()), actor.name().into(), reason.into(), Arg::Int(id)],
    )
    .await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "detach",
            entity: &def.table_name(),
            entity_id: Some(record_id),
            place_id: Some(record.place_id),
            before: Some(json!({"attachment": {"id": id, "file_name": a.file_name, "sha256": a.sha256}})),
            after: None,
            note: &format!("撤下佐证材料「{}」，原因：{reason}", a.file_name),
        },
    )
    .await?;
    get(tx, def, scope, record_id, id).await
}

/// How many attachments a record carries (voided ones not counted).
pub async fn count(tx: &mut Tx, def: &LedgerDef, record_id: i64) -> Result<i64> {
    Ok(tx
        .fetch_one("SELECT COUNT(*) FROM attachments WHERE ledger = $1 AND record_id = $2 AND voided_at IS NULL", &[def.key.as_str().into(), Arg::Int(record_id)])
        .await?
        .int(0))
}

/// Refuses a step whose definition asks for evidence (`requires_attachment`) while the record
/// has none: 「复查销号需要先上传佐证材料：整改后照片」.
pub async fn require_for(tx: &mut Tx, def: &LedgerDef, record_id: i64, t: &Transition) -> Result<()> {
    let Some(what) = t.requires_attachment.as_deref() else { return Ok(()) };
    if count(tx, def, record_id).await? > 0 {
        return Ok(());
    }
    Err(refused(format!("{}需要先上传佐证材料：{what}", t.label)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_content() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some(Kind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Kind::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Kind::Webp));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(Kind::Pdf));
        assert_eq!(sniff(b"PK\x03\x04....word/document.xml"), Some(Kind::Docx));
        assert_eq!(sniff(b"PK\x03\x04....xl/workbook.xml"), Some(Kind::Xlsx));
        assert_eq!(sniff(b"PK\x03\x04....evil.exe"), None, "another zip");
        let mut doc = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        doc.extend(utf16("WordDocument"));
        assert_eq!(sniff(&doc), Some(Kind::Doc));
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff(b"MZ\x90\0"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn names_lose_paths_and_take_the_content_s_extension() {
        assert_eq!(clean_name("C:\\Users\\x\\整改后.JPG", Kind::Jpeg), "整改后.jpg");
        assert_eq!(clean_name("../../etc/passwd", Kind::Pdf), "passwd.pdf");
        assert_eq!(clean_name("报告.exe", Kind::Pdf), "报告.pdf");
        assert_eq!(clean_name("", Kind::Png), "照片.png");
        assert_eq!(clean_name(".hidden", Kind::Xlsx), "hidden.xlsx");
        assert_eq!(clean_name("a\"b\r\n.jpg", Kind::Jpeg), "ab.jpg");
    }

    #[test]
    fn hex_round_trips() {
        let b: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&b)), Some(b.clone()));
        assert_eq!(unhex(&hex(&b).to_uppercase()), Some(b));
        assert_eq!(unhex("abc"), None);
        assert_eq!(size_text(1000), "1 KB");
        assert_eq!(size_text(3 * 1024 * 1024 / 2), "1.5 MB");
        assert_eq!(size_text(10 * 1024 * 1024), "10 MB");
    }
}

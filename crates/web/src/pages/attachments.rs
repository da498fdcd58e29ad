//! Evidence (佐证材料) on a record's page: the section that shows a record's photos as
//! thumbnails and its other files by name and size, the upload (a phone's camera or any file),
//! the original given back, removal with a reason, and the record with its files as one zip.
//!
//! Everything is confined as the record is: each handler opens the record through
//! `records::get` with the user's scope (outside it: "not found"), and whatever shows the
//! record's files notes a read of the record (`show::shown`), so a ledger whose reads are
//! audited records who looked at its evidence. Adding and removing are audited on the record
//! by `storage::attachments`. docs/attachments.md.

use std::io::Write as _;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::ledger::{LedgerDef, RefTarget, SubjectKind};
use taizhang_domain::role::Actor;
use taizhang_domain::value::Record;
use taizhang_storage::attachments::{self, Attachment};
use taizhang_storage::{records, Tx};
use tokio::sync::Semaphore;

use crate::auth::Me;
use crate::error::{AppError, AppResult};
use crate::{show, AppState};

/// Uploads held in memory at once (each up to the setting's limit, at most 50 MB): the rest
/// wait, so a burst of large photos cannot exhaust the server's memory.
static UPLOADS: Semaphore = Semaphore::const_new(2);

/// What the file inputs offer: photos (a phone opens its camera or gallery), PDF, Word, Excel.
const ACCEPT: &str = "image/jpeg,image/png,image/webp,application/pdf,.pdf,.doc,.docx,.xls,.xlsx";

fn base(def: &LedgerDef, id: i64) -> String {
    format!("/ledgers/{}/{id}", def.key)
}

fn item(def: &LedgerDef, a: &Attachment) -> serde_json::Value {
    let kind = a.kind();
    json!({
        "id": a.id,
        "name": a.file_name,
        "url": format!("{}/attachments/{}", base(def, a.record_id), a.id),
        "is_image": a.is_image(),
        "kind": kind.map_or("文件", |k| k.label()),
        "ext": kind.map_or("", |k| k.extension()).to_uppercase(),
        "size": attachments::size_text(a.size_bytes),
        "at": records::local_time(&a.created_at),
        "by": a.created_by,
        "voided": a.voided.as_ref().map(|v| json!({"at": records::local_time(&v.at), "by": v.by, "reason": v.reason})),
    })
}

/// The record page's 佐证材料 section (`templates/attachments.html`): the files, whether this
/// user may add and remove them, and the steps from the record's state that ask for evidence.
/// `None` when there is nothing to show or do.
pub async fn section(tx: &mut Tx, me: &Me, def: &LedgerDef, r: &Record) -> AppResult<Option<serde_json::Value>> {
    let all = attachments::list(tx, def, &me.scope, r.id, true).await?;
    let may_change = me.can_edit(&def.key) && r.voided.is_none();
    let required: Vec<serde_json::Value> = match (&def.workflow, r.state.as_deref()) {
        (Some(wf), Some(state)) if r.voided.is_none() => wf
            .transitions
            .iter()
            .filter(|t| t.from.iter().any(|f| f == state))
            .filter_map(|t| t.requires_attachment.as_ref().map(|what| json!({"step": t.label, "what": what})))
            .collect(),
        _ => Vec::new(),
    };
    if all.is_empty() && !may_change && required.is_empty() {
        return Ok(None);
    }
    let limit = attachments::max_bytes(tx).await?;
    let (live, removed): (Vec<&Attachment>, Vec<&Attachment>) = all.iter().partition(|a| a.voided.is_none());
    Ok(Some(json!({
        "items": live.iter().map(|a| item(def, a)).collect::<Vec<_>>(),
        "removed": removed.iter().map(|a| item(def, a)).collect::<Vec<_>>(),
        "may_add": may_change,
        "may_remove": may_change,
        "required": required,
        "upload": format!("{}/attachments", base(def, r.id)),
        "zip": format!("{}/attachments.zip", base(def, r.id)),
        "limit": attachments::size_text(i64::try_from(limit).unwrap_or(i64::MAX)),
        "accept": ACCEPT,
    })))
}

/// The record as this user may open it (scope, ledger rights), the read noted.
async fn open(tx: &mut Tx, me: &Me, key: &str, id: i64) -> AppResult<(LedgerDef, Record)> {
    let defs = super::all_defs(tx).await?;
    let def = super::find_def(me, &defs, key)?.clone();
    let r = records::get(tx, &def, &me.scope, id).await?;
    Ok((def, r))
}

/// Takes the files sent (fields `file`, as many as given: the camera's and the chooser's),
/// refusing any over the limit as soon as it grows past it, then adds them all in one
/// transaction: all or none, each refusal naming its file.
pub async fn upload(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>, mut multipart: Multipart) -> AppResult<Response> {
    let _permit = UPLOADS.acquire().await.map_err(|_| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "服务器正在停止，请稍后再试"))?;
    let limit = {
        let mut tx = state.db.read().await?;
        open(&mut tx, &me, &key, id).await?;
        attachments::max_bytes(&mut tx).await?
    };
    // The whole request is bounded too (routes::ATTACHMENT_LIMIT); axum's own words are English.
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("一次上传的文件合计超过 {} MB，未上传；请分几次上传", attachments::CEILING_MB + 1))
        } else {
            AppError::bad_request("上传中断，未上传；请重新选择文件再传")
        }
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(failed)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > limit {
                let why = attachments::refusal(&name, bytes.len(), limit).unwrap_or_default();
                return Err(AppError::new(StatusCode::PAYLOAD_TOO_LARGE, why));
            }
        }
        // A file input left empty still sends a part, without a name or bytes.
        if name.is_empty() && bytes.is_empty() {
            continue;
        }
        files.push((name, bytes));
    }
    if files.is_empty() {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "请先拍照或选择要上传的文件"));
    }
    let mut tx = state.db.begin().await?;
    let (def, _) = open(&mut tx, &me, &key, id).await?;
    for (name, bytes) in &files {
        attachments::add(&mut tx, &def, &me.user.actor(), &me.scope, id, name, bytes).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?saved=1#evidence", base(&def, id))).into_response())
}

#[derive(Deserialize)]
pub struct OriginalQuery {
    #[serde(default)]
    download: Option<String>,
}

/// Content-Disposition with the file's Chinese name.
fn disposition(kind: &str, name: &str) -> String {
    format!("{kind}; filename=\"download\"; filename*=UTF-8''{}", crate::guard::encode(name).replace('/', "%2F"))
}

/// The original file, as stored, checked against its SHA-256. A photo is shown in the page
/// (its thumbnail is this same file, scaled by the browser); anything else, and a photo with
/// `?download=1`, is downloaded, never opened in the site's origin. The type sent is the one
/// found from the content at upload, never the browser's.
pub async fn original(State(state): State<AppState>, me: Me, Path((key, id, aid)): Path<(String, i64, i64)>, Query(q): Query<OriginalQuery>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let (def, r) = open(&mut tx, &me, &key, id).await?;
    let (a, bytes) = attachments::fetch(&mut tx, &def, &me.scope, id, aid).await?;
    show::shown(&def, &r);
    crate::reads::what(&def.table_name(), &format!("查看佐证材料「{}」", a.file_name));
    let inline = a.is_image() && q.download.is_none();
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition(if inline { "inline" } else { "attachment" }, &a.file_name)),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    reason: String,
}

/// Takes a file off the record (作废), with the reason; it stays in the database.
pub async fn remove(State(state): State<AppState>, me: Me, Path((key, id, aid)): Path<(String, i64, i64)>, Form(form): Form<RemoveForm>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let (def, _) = open(&mut tx, &me, &key, id).await?;
    attachments::void(&mut tx, &def, &me.user.actor(), &me.scope, id, aid, &form.reason).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?saved=1#evidence", base(&def, id))).into_response())
}

/// The record and its evidence as one zip: `记录.txt` (the record's values as this user may
/// read them, the list of files with their SHA-256) and each file not removed.
pub async fn zip(State(state): State<AppState>, me: Me, Path((key, id)): Path<(String, i64)>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let (def, r) = open(&mut tx, &me, &key, id).await?;
    show::shown(&def, &r);
    crate::reads::what(&def.table_name(), "下载记录及佐证材料");
    let policy = me.policy();
    let mut names = super::RefNames::default();
    let mut text = format!("{} · 记录 #{}\n所属地点：{}\n", def.name, r.id, super::place_name(&mut tx, r.place_id).await);
    // The subject by name (a person without the ID number, a household by its 户编号).
    let target = match def.subject {
        SubjectKind::Person => Some(RefTarget::Person),
        SubjectKind::Household => Some(RefTarget::Household),
        SubjectKind::Cadre => Some(RefTarget::Cadre),
        SubjectKind::Organisation => Some(RefTarget::Organisation),
        SubjectKind::Place => Some(RefTarget::Place),
        SubjectKind::None => None,
    };
    if let (Some(t), Some(sid)) = (target, r.subject_id) {
        text.push_str(&format!("记录对象（{}）：{}\n", def.subject.label(), names.label(&mut tx, &me, &t, sid).await));
    }
    if let (Some(wf), Some(s)) = (&def.workflow, r.state.as_deref()) {
        text.push_str(&format!("状态：{}\n", wf.state_label(s)));
    }
    if let Some(v) = &r.voided {
        text.push_str(&format!("已作废：{}，原因：{}\n", records::local_time(&v.at), v.reason));
    }
    for f in def.fields.iter().filter(|f| policy.field(f) != taizhang_domain::masking::Treatment::Hidden) {
        if let Some(v) = r.values.get(&f.key) {
            text.push_str(&format!("{}：{}\n", f.label, names.display(&mut tx, &me, f, v).await));
        }
    }
    let live = attachments::list(&mut tx, &def, &me.scope, id, false).await?;
    text.push_str(&format!("\n佐证材料（{} 件）：\n", live.len()));
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for (n, a) in live.iter().enumerate() {
        let (_, bytes) = attachments::fetch(&mut tx, &def, &me.scope, id, a.id).await?;
        // Numbered: two files may carry the same name.
        let entry = format!("{:02}-{}", n + 1, a.file_name);
        text.push_str(&format!("{entry}（{}，{} 上传于 {}，SHA-256 {}）\n", attachments::size_text(a.size_bytes), Actor::label_of(&a.created_by), records::local_time(&a.created_at), a.sha256));
        entries.push((entry, bytes));
    }
    drop(tx);
    let bytes = tokio::task::spawn_blocking(move || write_zip(&text, &entries))
        .await
        .map_err(|_| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "无法生成压缩文件"))??;
    Ok(super::exchange::download(bytes, &format!("{}-记录{}-佐证材料.zip", def.name, r.id), "application/zip"))
}

fn write_zip(text: &str, files: &[(String, Vec<u8>)]) -> AppResult<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("无法生成压缩文件：{e}"));
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    // Photos, PDF and the Office formats are compressed already.
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("记录.txt", deflated).map_err(|e| failed(&e))?;
    z.write_all(text.as_bytes()).map_err(|e| failed(&e))?;
    for (name, bytes) in files {
        z.start_file(name.as_str(), stored).map_err(|e| failed(&e))?;
        z.write_all(bytes).map_err(|e| failed(&e))?;
    }
    Ok(z.finish().map_err(|e| failed(&e))?.into_inner())
}

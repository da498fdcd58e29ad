//! Import in the browser: upload → a verdict per row (a dry run) → confirm.
//!
//! Hostile uploads are bounded: the file streams to disk (never whole in memory) into a
//! directory of the server's own (0700), as a file only the server's account reads (0600),
//! known only to the user who sent it, and removed once confirmed or after
//! [`UPLOAD_MINUTES`] unconfirmed (swept on every upload and every minute); it is read under
//! limits fit for a server ([`upload_limits`]), at most [`IMPORTS_AT_ONCE`] imports run at a
//! time, and the page shows the first [`SHOWN_ROWS`] rejections and the verdicts as runs of
//! rows, every rejection being in the error workbook the page links to. A dry run holds no
//! write lock until it writes (`Db::begin_bulk_trial`), so checking a file blocks no sign-in.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use taizhang_exchange::{import_files, write_registry_template, FileOutcome, ImportOptions, ImportReport, Limits, RegistryTarget, Verdict};

use crate::auth::{self, Me};
use crate::error::{AppError, AppResult};
use crate::{views, AppState};

/// Minutes an upload waits for its confirmation before it is removed.
pub const UPLOAD_MINUTES: u64 = 30;
/// Imports (dry runs and confirmations) running at once; more wait their turn.
pub const IMPORTS_AT_ONCE: usize = 2;
/// Rejections listed on the page, and runs of verdicts; the rest are counted (and every
/// rejection is in the error workbook).
pub const SHOWN_ROWS: usize = 200;
/// Characters of a refused value shown on the page.
const SHOWN_CHARS: usize = 100;

/// What an uploaded file may make the server hold: the reader's limits, tighter where a file
/// from the command line may take more (a workbook the upload limit lets through needs no
/// more; larger files are for `taizhang import`). The shared-string table is what a small
/// file can blow up: 32 MB holds some 1,300,000 distinct 18-digit numbers.
pub fn upload_limits() -> Limits {
    Limits {
        shared_strings_bytes: 32 << 20,
        row_bytes: 256 << 10,
        part_bytes: 16 << 20,
        entry_bytes: 1 << 30,
        xls_bytes: 96 << 20,
        ..Limits::default()
    }
}

/// Files a page may upload at once (several villages' sheets, several months).
pub const FILES_AT_ONCE: usize = 20;

/// One file of an upload.
struct UploadFile {
    /// The name the clerk's computer gave it.
    file_name: String,
    path: PathBuf,
    /// The dry run's error workbook, if it refused rows.
    errors: Option<PathBuf>,
}

/// Uploaded files awaiting confirmation; their directory goes when they do.
pub struct Upload {
    user_id: i64,
    ledger: Option<String>,
    sheet: Option<String>,
    set: Vec<(String, String)>,
    files: Vec<UploadFile>,
    dir: PathBuf,
    at: Instant,
}

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

type Waiting = Arc<Mutex<HashMap<String, Upload>>>;

/// The uploads awaiting confirmation, their directory, and the turns of imports.
pub struct Uploads {
    waiting: Waiting,
    root: Mutex<Option<tempfile::TempDir>>,
    turns: tokio::sync::Semaphore,
    sweeper: std::sync::Once,
}

impl Default for Uploads {
    fn default() -> Self {
        Uploads { waiting: Arc::default(), root: Mutex::new(None), turns: tokio::sync::Semaphore::new(IMPORTS_AT_ONCE), sweeper: std::sync::Once::new() }
    }
}

fn lock(w: &Waiting) -> std::sync::MutexGuard<'_, HashMap<String, Upload>> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

fn sweep(w: &Waiting) {
    let max = Duration::from_secs(UPLOAD_MINUTES * 60);
    lock(w).retain(|_, u| u.at.elapsed() < max);
}

fn failed(what: &str) -> impl Fn(std::io::Error) -> AppError + '_ {
    move |e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{what}：{e}"))
}

impl Uploads {
    /// Removes uploads left unconfirmed too long; from the first upload on, also every minute.
    fn sweep(&self) {
        sweep(&self.waiting);
        self.sweeper.call_once(|| {
            let weak: Weak<Mutex<HashMap<String, Upload>>> = Arc::downgrade(&self.waiting);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    let Some(w) = weak.upgrade() else { break };
                    sweep(&w);
                }
            });
        });
    }

    /// A new directory (0700) for one upload, inside the server's own (0700, removed when the
    /// server stops).
    fn new_dir(&self, id: &str) -> AppResult<PathBuf> {
        let mut root = self.root.lock().unwrap_or_else(|e| e.into_inner());
        if root.is_none() {
            let dir = tempfile::Builder::new().prefix("taizhang-uploads-").tempdir().map_err(failed("无法保存上传的文件"))?;
            private(dir.path(), 0o700).map_err(failed("无法保存上传的文件"))?;
            *root = Some(dir);
        }
        let Some(base) = root.as_ref() else { return Err(AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "无法保存上传的文件")) };
        let dir = base.path().join(id);
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&dir).map_err(failed("无法保存上传的文件"))?;
        Ok(dir)
    }

    /// How many uploads are waiting (tests).
    pub fn waiting(&self) -> usize {
        lock(&self.waiting).len()
    }

    /// The directory uploads are kept in, once the first has come (tests).
    pub fn root(&self) -> Option<PathBuf> {
        self.root.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|d| d.path().to_path_buf())
    }

    /// Makes every waiting upload look `age` old (tests of the expiry).
    pub fn age_all(&self, age: Duration) {
        for u in lock(&self.waiting).values_mut() {
            u.at = Instant::now().checked_sub(age).unwrap_or(u.at);
        }
    }

    /// Runs the sweep now (tests).
    pub fn sweep_now(&self) {
        sweep(&self.waiting);
    }
}

fn private(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[derive(Deserialize, Default)]
pub struct FormQuery {
    #[serde(default)]
    ledger: String,
}

/// Consecutive rows with the same verdict, as (first row, last row, label, colour): what the
/// page lists instead of one line a row.
fn verdict_runs(r: &ImportReport) -> Vec<(u32, u32, &'static str, &'static str)> {
    let mut runs: Vec<(u32, u32, &'static str, &'static str)> = Vec::new();
    for (row, v) in &r.verdicts {
        let (label, colour) = match v {
            Verdict::New => ("新增", "green"),
            Verdict::Updated => ("更新", "orange"),
            Verdict::Unchanged => ("未变", "grey"),
            Verdict::Rejected => ("拒绝", "red"),
        };
        match runs.last_mut() {
            Some(last) if last.2 == label && last.1 + 1 == row => last.1 = row,
            _ => runs.push((row, row, label, colour)),
        }
    }
    runs
}

/// What one file of an upload came to: its report, or why it could not be read at all.
pub struct FileResult {
    pub file_name: String,
    pub result: Result<ImportReport, AppError>,
}

/// One file's report as the page shows it: the first rejections, the verdicts as runs.
fn report_json(r: &ImportReport) -> serde_json::Value {
    let mut j = json!({
        "sheet": r.sheet, "target": r.target, "target_name": r.target_name,
        "read": r.read, "new": r.new, "updated": r.updated, "unchanged": r.unchanged, "rejected": r.rejected,
        "committed": r.committed,
        "sheets": r.sheets.iter().take(SHOWN_ROWS).collect::<Vec<_>>(), "sheets_total": r.sheets.len(),
        "warnings": r.warnings.iter().take(SHOWN_ROWS).collect::<Vec<_>>(), "warnings_total": r.warnings.len(),
        "skipped_rows": r.skipped_rows, "skipped_rows_total": r.skipped_rows_total,
        // A refused cell may hold 32,767 characters: the page shows its start.
        "rejections": r.rejections.iter().take(SHOWN_ROWS).map(|x| json!({
            "sheet": x.sheet, "row": x.row, "column": x.column, "reason": x.reason,
            "value": match x.value.chars().count() > SHOWN_CHARS {
                true => format!("{}…", x.value.chars().take(SHOWN_CHARS).collect::<String>()),
                false => x.value.clone(),
            },
        })).collect::<Vec<_>>(),
        "rejections_total": r.rejections.len(),
        "error_workbook": r.error_workbook.is_some(),
    });
    let runs = verdict_runs(r);
    j["verdict_runs_total"] = json!(runs.len());
    j["verdict_runs"] = json!(runs.into_iter().take(SHOWN_ROWS).collect::<Vec<_>>());
    j
}

/// Where the page sends the user to see what was written: the ledger's list narrowed to the
/// import's audit entries, or the registry's page.
fn written_link(target: &str, audited: Option<(i64, i64)>) -> Option<String> {
    match RegistryTarget::parse(target) {
        Some(RegistryTarget::Cadres) => Some("/cadres".into()),
        Some(RegistryTarget::Organisations) => Some("/orgs".into()),
        Some(_) => None,
        None => audited.map(|(a, b)| format!("/ledgers/{}?imported={a}-{b}", crate::guard::encode(target))),
    }
}

/// What the page is showing: a dry run waiting for its confirmation, or a confirmation's outcome.
struct Shown<'a> {
    files: &'a [FileResult],
    /// The upload waiting for confirmation (empty once confirmed or spent).
    upload: &'a str,
    /// A confirmation that wrote nothing because rows were refused (all or nothing).
    refused_whole: bool,
    /// The audit entries the confirmed import wrote.
    audited: Option<(i64, i64)>,
}

async fn render(state: &AppState, me: &Me, ledger: &str, shown: Option<Shown<'_>>) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    drop(tx);
    let mut ctx = views::layout(me, &defs, "导入", &[("导入 Excel", "")]);
    let editable: Vec<_> = defs.iter().filter(|d| me.can_edit(&d.key)).map(|d| (d.key.clone(), d.name.clone())).collect();
    ctx.insert("defs".into(), json!(editable));
    let registry: Vec<_> = RegistryTarget::ALL.iter().map(|t| (t.key(), t.label())).collect();
    ctx.insert("registry".into(), json!(registry));
    ctx.insert("ledger".into(), json!(ledger));
    ctx.insert("files_at_once".into(), json!(FILES_AT_ONCE));
    ctx.insert("upload_minutes".into(), json!(UPLOAD_MINUTES));
    let mut upload = "";
    if let Some(sh) = shown {
        upload = sh.upload;
        let mut total = json!({"read": 0, "new": 0, "updated": 0, "unchanged": 0, "rejected": 0, "failed": 0});
        let mut files = Vec::new();
        for (i, f) in sh.files.iter().enumerate() {
            let mut j = json!({"index": i, "file_name": f.file_name});
            match &f.result {
                Ok(r) => {
                    for (k, n) in [("read", r.read), ("new", r.new), ("updated", r.updated), ("unchanged", r.unchanged), ("rejected", r.rejected)] {
                        total[k] = json!(total[k].as_u64().unwrap_or(0) + n as u64);
                    }
                    j["report"] = report_json(r);
                    if r.committed && r.new + r.updated > 0 {
                        j["written_link"] = json!(written_link(&r.target, sh.audited));
                    }
                }
                Err(e) => {
                    total["failed"] = json!(total["failed"].as_u64().unwrap_or(0) + 1);
                    j["error"] = json!(e.message);
                }
            }
            files.push(j);
        }
        let committed = sh.files.iter().any(|f| f.result.as_ref().is_ok_and(|r| r.committed));
        ctx.insert("files".into(), json!(files));
        ctx.insert("total".into(), total);
        ctx.insert("committed".into(), json!(committed));
        ctx.insert("refused_whole".into(), json!(sh.refused_whole));
    }
    ctx.insert("upload".into(), json!(upload));
    views::render("import.html", &ctx.into())
}

pub async fn form(State(state): State<AppState>, me: Me, Query(q): Query<FormQuery>) -> AppResult<Html<String>> {
    render(&state, &me, &q.ledger, None).await
}

/// Runs an import of one or several files (in one transaction: `import_files`) on a
/// blocking thread, in its turn (at most [`IMPORTS_AT_ONCE`] at a time), reading the files
/// under [`upload_limits`]. The exchange crate's future is not provably `Send` (a known
/// limitation of the compiler with higher-ranked lifetimes), so it is driven there.
pub async fn run_imports(state: &AppState, me: &Me, paths: Vec<PathBuf>, mut opts: ImportOptions) -> AppResult<Vec<FileOutcome>> {
    let _turn = state.imports.turns.acquire().await.map_err(|_| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "服务正在停止，请稍后再试"))?;
    opts.limits = Some(upload_limits());
    let (db, actor, scope, today) = (state.db.clone(), me.user.actor(), me.scope.clone(), state.today());
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(async move { import_files(&db, &actor, &scope, &paths, &opts, today).await }))
        .await
        .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("导入中断：{e}")))?
        .map_err(AppError::from)
}

/// [`run_imports`] of one file: its report, or why it could not be read.
pub async fn run_import(state: &AppState, me: &Me, path: PathBuf, opts: ImportOptions) -> AppResult<ImportReport> {
    let mut outcomes = run_imports(state, me, vec![path], opts).await?;
    match outcomes.pop() {
        Some(o) => o.result.map_err(AppError::from),
        None => Err(AppError::bad_request("没有要导入的文件")),
    }
}

fn may_import(me: &Me, target: &str) -> bool {
    // The registry (persons, households, cadres, organisations) is kept by every writer.
    if RegistryTarget::parse(target).is_some() {
        me.user.role != taizhang_domain::role::Role::Leader
    } else {
        me.can_edit(target)
    }
}

/// The 统一填写 box: one `列名=值` a line (、 ； also separate).
fn parse_set(text: &str) -> AppResult<Vec<(String, String)>> {
    text.split(['\n', '；', ';'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(['=', '＝', '：', ':']) {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
            _ => Err(AppError::bad_request(format!("「统一填写」每行写作 列名=值，如 发放月份=2024-02（这里是「{l}」）"))),
        })
        .collect()
}

/// The clerk's file name, its last component only, without control or path characters: the
/// upload is kept under it (a CSV's one sheet is named after its file, and so are the report
/// and the audit).
fn safe_stem(file_name: &str) -> String {
    Path::new(file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| s.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | ':')).take(100).collect::<String>())
        .filter(|s| !s.trim().is_empty() && !s.starts_with('.'))
        .unwrap_or_else(|| "upload".into())
}

pub async fn upload(State(state): State<AppState>, me: Me, mut multipart: Multipart) -> AppResult<Html<String>> {
    state.imports.sweep();
    let mut ledger = String::new();
    let mut sheet = String::new();
    let mut set_text = String::new();
    let id = auth::new_token();
    // Removed again (its directory with it) unless it is kept for the confirmation.
    let mut saved: Option<Upload> = None;
    let upload_failed = |e: axum::extract::multipart::MultipartError| AppError::bad_request(format!("上传失败：{}", e.body_text()));
    while let Some(mut field) = multipart.next_field().await.map_err(upload_failed)? {
        match field.name().unwrap_or("") {
            "ledger" => ledger = field.text().await.unwrap_or_default(),
            "sheet" => sheet = field.text().await.unwrap_or_default(),
            "set" => set_text = field.text().await.unwrap_or_default(),
            "file" => {
                let file_name = field.file_name().unwrap_or("").to_string();
                // A form sent with no file chosen has one empty part.
                if file_name.is_empty() {
                    while field.chunk().await.map_err(upload_failed)?.is_some() {}
                    continue;
                }
                let ext = Path::new(&file_name).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
                if !["xlsx", "xls", "csv"].contains(&ext.as_str()) {
                    return Err(AppError::bad_request(format!("「文件」只能是 .xlsx、.xls 或 .csv（「{file_name}」不是）")));
                }
                if saved.as_ref().is_some_and(|u| u.files.len() >= FILES_AT_ONCE) {
                    return Err(AppError::bad_request(format!("一次最多导入 {FILES_AT_ONCE} 个文件，请分批上传")));
                }
                if saved.is_none() {
                    let dir = state.imports.new_dir(&id)?;
                    saved = Some(Upload { user_id: me.user.id, ledger: None, sheet: None, set: Vec::new(), files: Vec::new(), dir, at: Instant::now() });
                }
                let Some(u) = saved.as_mut() else { continue };
                // Each file in a directory of its own, under its own name: a CSV's one sheet
                // is named after its file, and so are the report and the audit.
                let sub = u.dir.join(u.files.len().to_string());
                let mut b = std::fs::DirBuilder::new();
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
                b.create(&sub).map_err(failed("无法保存上传的文件"))?;
                let path = sub.join(format!("{}.{ext}", safe_stem(&file_name)));
                // Streamed to disk as it arrives, into a file only the server's account reads.
                let mut o = std::fs::OpenOptions::new();
                o.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
                let mut out = o.open(&path).map_err(failed("无法保存上传的文件"))?;
                u.files.push(UploadFile { file_name, path: path.clone(), errors: None });
                while let Some(chunk) = field.chunk().await.map_err(upload_failed)? {
                    out.write_all(&chunk).map_err(failed("无法保存上传的文件"))?;
                }
                out.sync_all().map_err(failed("无法保存上传的文件"))?;
            }
            _ => {}
        }
    }
    let Some(mut u) = saved.filter(|u| !u.files.is_empty()) else {
        return Err(AppError::bad_request("请选择要导入的文件"));
    };
    if let Some(f) = u.files.iter().find(|f| std::fs::metadata(&f.path).map_or(true, |m| m.len() == 0)) {
        return Err(AppError::bad_request(format!("「{}」是空文件，请重新选择", f.file_name)));
    }
    u.ledger = Some(ledger.clone()).filter(|l| !l.is_empty());
    u.sheet = Some(sheet.trim().to_string()).filter(|s| !s.is_empty());
    u.set = parse_set(&set_text)?;
    let files = run_upload(&state, &me, &mut u, true, false).await?;
    // No file could be read at all: the upload is refused as a whole, with each file's reason
    // (the status of the first), and nothing waits for a confirmation.
    if files.iter().all(|f| f.result.is_err()) {
        let status = files.iter().find_map(|f| f.result.as_ref().err().map(|e| e.status)).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        let one = files.len() == 1;
        let why: Vec<String> = files
            .iter()
            .filter_map(|f| f.result.as_ref().err().map(|e| if one { e.message.clone() } else { format!("「{}」{}", f.file_name, e.message) }))
            .collect();
        return Err(AppError::new(status, why.join("；")));
    }
    for r in files.iter().filter_map(|f| f.result.as_ref().ok()) {
        if !may_import(&me, &r.target) {
            return Err(AppError::forbidden(format!("{}不能导入「{}」", me.user.role.label(), r.target_name)));
        }
    }
    lock(&state.imports.waiting).insert(id.clone(), u);
    render(&state, &me, &ledger, Some(Shown { files: &files, upload: &id, refused_whole: false, audited: None })).await
}

/// Imports an upload's files (a dry run, or for real), notes each file's error workbook on
/// it, and gives each file's outcome.
async fn run_upload(state: &AppState, me: &Me, u: &mut Upload, dry_run: bool, partial: bool) -> AppResult<Vec<FileResult>> {
    let one = u.files.len() == 1;
    let opts = ImportOptions {
        ledger: u.ledger.clone(),
        dry_run,
        partial,
        // One file keeps the clerk's name exactly; several are each kept under theirs.
        source_name: if one { u.files.first().map(|f| f.file_name.clone()) } else { None },
        sheet: u.sheet.clone(),
        set: u.set.clone(),
        ..Default::default()
    };
    let outcomes = run_imports(state, me, u.files.iter().map(|f| f.path.clone()).collect(), opts).await?;
    let mut out = Vec::with_capacity(outcomes.len());
    for (f, o) in u.files.iter_mut().zip(outcomes) {
        f.errors = o.result.as_ref().ok().and_then(|r| r.error_workbook.clone());
        out.push(FileResult { file_name: f.file_name.clone(), result: o.result.map_err(AppError::from) });
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct ErrorsQuery {
    #[serde(default)]
    upload: String,
    /// Which file of the upload, from 0.
    #[serde(default)]
    file: usize,
}

/// A dry run's error workbook (every rejection: sheet, row, column, value, reason), for the
/// user who uploaded the file, while the upload waits.
pub async fn errors(State(state): State<AppState>, me: Me, Query(q): Query<ErrorsQuery>) -> AppResult<axum::response::Response> {
    state.imports.sweep();
    let found = lock(&state.imports.waiting)
        .get(&q.upload)
        .filter(|u| u.user_id == me.user.id)
        .and_then(|u| u.files.get(q.file))
        .and_then(|f| f.errors.clone().map(|p| (p, f.file_name.clone())));
    let Some((path, file_name)) = found else {
        return Err(AppError::not_found("找不到这次上传的错误清单（可能已导入或已过期），请重新上传"));
    };
    let bytes = std::fs::read(&path).map_err(failed("无法读取错误清单"))?;
    let stem = Path::new(&file_name).file_stem().and_then(|s| s.to_str()).unwrap_or("导入");
    Ok(super::exchange::download(bytes, &format!("{stem}.错误清单.xlsx"), super::exchange::XLSX))
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    upload: String,
    #[serde(default)]
    partial: Option<String>,
}

/// Writes an upload. All or nothing by default: when a row is refused (or a file cannot be
/// read) and 只导入正确的行 was not ticked, nothing is written and the page says so, the
/// upload still waiting for another choice.
pub async fn confirm(State(state): State<AppState>, me: Me, Form(f): Form<ConfirmForm>) -> AppResult<Html<String>> {
    state.imports.sweep();
    let upload = {
        let mut map = lock(&state.imports.waiting);
        match map.get(&f.upload) {
            Some(u) if u.user_id == me.user.id => map.remove(&f.upload),
            _ => None,
        }
    };
    let Some(mut u) = upload else {
        return Err(AppError::not_found("找不到这次上传（可能已导入或已过期），请重新上传"));
    };
    let before = {
        let mut tx = state.db.read().await?;
        taizhang_storage::audit::last_id(&mut tx).await?
    };
    let partial = f.partial.is_some();
    let files = run_upload(&state, &me, &mut u, false, partial).await?;
    let ledger = u.ledger.clone().unwrap_or_default();
    let written = files.iter().any(|f| f.result.as_ref().is_ok_and(|r| r.committed));
    if !written && !partial {
        // Refused whole: the upload waits again, for 只导入正确的行 or a new file.
        u.at = Instant::now();
        lock(&state.imports.waiting).insert(f.upload.clone(), u);
        return render(&state, &me, &ledger, Some(Shown { files: &files, upload: &f.upload, refused_whole: true, audited: None })).await;
    }
    let audited = {
        let mut tx = state.db.read().await?;
        taizhang_storage::audit::import_entries(&mut tx, me.user.actor().name(), before).await?
    };
    // The files and their directory go now.
    drop(u);
    render(&state, &me, &ledger, Some(Shown { files: &files, upload: "", refused_whole: false, audited })).await
}

/// The blank import template of the registry: persons (花名册), households, cadres or
/// organisations.
pub async fn template(_me: Me, axum::extract::Path(target): axum::extract::Path<String>) -> AppResult<axum::response::Response> {
    let Some(t) = RegistryTarget::parse(&target) else {
        return Err(AppError::not_found(format!("没有「{target}」的导入模板（可下载：人员、户、干部、单位）")));
    };
    let failed = |e: std::io::Error| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("无法生成导入模板：{e}"));
    let dir = tempfile::tempdir().map_err(failed)?;
    let path = dir.path().join("template.xlsx");
    write_registry_template(t, &path)?;
    let bytes = std::fs::read(&path).map_err(failed)?;
    Ok(super::exchange::download(bytes, &t.template_file_name(), super::exchange::XLSX))
}

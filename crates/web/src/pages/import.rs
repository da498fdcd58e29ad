//! Import in the browser: upload → a verdict per row (a dry run) → confirm. The uploaded file
//! waits in a private temporary directory, known only to the user who sent it.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use taizhang_exchange::{import_file, write_registry_template, ImportOptions, ImportReport, RegistryTarget, Verdict};

use crate::auth::{self, Me};
use crate::error::{AppError, AppResult};
use crate::{views, AppState};

/// An uploaded file awaiting confirmation.
pub struct Upload {
    user_id: i64,
    ledger: Option<String>,
    sheet: Option<String>,
    set: Vec<(String, String)>,
    file_name: String,
    dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

#[derive(Default)]
pub struct Uploads(Mutex<HashMap<String, Upload>>);

#[derive(Deserialize, Default)]
pub struct FormQuery {
    #[serde(default)]
    ledger: String,
}

async fn render(state: &AppState, me: &Me, ledger: &str, report: Option<(&ImportReport, &str)>, upload: &str) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let mut ctx = views::layout(me, &defs, "导入", &[("导入 Excel", "")]);
    let editable: Vec<_> = defs.iter().filter(|d| me.can_edit(&d.key)).map(|d| (d.key.clone(), d.name.clone())).collect();
    ctx.insert("defs".into(), json!(editable));
    let registry: Vec<_> = RegistryTarget::ALL.iter().map(|t| (t.key(), t.label())).collect();
    ctx.insert("registry".into(), json!(registry));
    ctx.insert("ledger".into(), json!(ledger));
    if let Some((r, file_name)) = report {
        let mut j = serde_json::to_value(r).unwrap_or_default();
        j["file_name"] = json!(file_name);
        ctx.insert("report".into(), j);
        let verdicts: Vec<_> = r
            .verdicts
            .iter()
            .map(|(row, v)| match v {
                Verdict::New => (row, "新增", "green"),
                Verdict::Updated => (row, "更新", "orange"),
                Verdict::Unchanged => (row, "未变", "grey"),
                Verdict::Rejected => (row, "拒绝", "red"),
            })
            .collect();
        ctx.insert("verdicts".into(), json!(verdicts));
    }
    ctx.insert("upload".into(), json!(upload));
    views::render("import.html", &ctx.into())
}

pub async fn form(State(state): State<AppState>, me: Me, Query(q): Query<FormQuery>) -> AppResult<Html<String>> {
    render(&state, &me, &q.ledger, None, "").await
}

/// Runs an import on a blocking thread. The exchange crate's future is not provably `Send`
/// (a known limitation of the compiler with higher-ranked lifetimes), so it is driven there.
pub async fn run_import(state: &AppState, me: &Me, path: std::path::PathBuf, opts: ImportOptions) -> AppResult<ImportReport> {
    let (db, actor, scope, today) = (state.db.clone(), me.user.actor(), me.scope.clone(), state.today());
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(async move { import_file(&db, &actor, &scope, &path, &opts, today).await }))
        .await
        .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("导入中断：{e}")))?
        .map_err(AppError::from)
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

pub async fn upload(State(state): State<AppState>, me: Me, mut multipart: Multipart) -> AppResult<Html<String>> {
    let mut ledger = String::new();
    let mut sheet = String::new();
    let mut set_text = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| AppError::bad_request(format!("上传失败：{e}")))? {
        match field.name().unwrap_or("") {
            "ledger" => ledger = field.text().await.unwrap_or_default(),
            "sheet" => sheet = field.text().await.unwrap_or_default(),
            "set" => set_text = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().unwrap_or("upload.xlsx").to_string();
                let bytes = field.bytes().await.map_err(|e| AppError::bad_request(format!("上传失败：{e}")))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(AppError::bad_request("请选择要导入的文件"));
    };
    let ext = std::path::Path::new(&file_name).extension().and_then(|e| e.to_str()).unwrap_or("xlsx").to_ascii_lowercase();
    if !["xlsx", "xls", "csv"].contains(&ext.as_str()) {
        return Err(AppError::bad_request("「文件」只能是 .xlsx、.xls 或 .csv"));
    }
    let dir = tempfile::tempdir().map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("无法保存上传的文件：{e}")))?;
    // Saved under the clerk's own name (its last component only, in our private directory):
    // a CSV's one sheet is named after its file, and so are the report and the audit.
    let stem = std::path::Path::new(&file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| s.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | ':')).collect::<String>())
        .filter(|s| !s.trim().is_empty() && !s.starts_with('.'))
        .unwrap_or_else(|| "upload".into());
    let path = dir.path().join(format!("{stem}.{ext}"));
    std::fs::write(&path, &bytes).map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("无法保存上传的文件：{e}")))?;
    let ledger_opt = Some(ledger.clone()).filter(|l| !l.is_empty());
    let sheet = Some(sheet.trim().to_string()).filter(|s| !s.is_empty());
    let set = parse_set(&set_text)?;
    let opts = ImportOptions {
        ledger: ledger_opt.clone(),
        dry_run: true,
        source_name: Some(file_name.clone()),
        sheet: sheet.clone(),
        set: set.clone(),
        ..Default::default()
    };
    let report = run_import(&state, &me, path.clone(), opts).await?;
    if !may_import(&me, &report.target) {
        return Err(AppError::forbidden(format!("{}不能导入「{}」", me.user.role.label(), report.target_name)));
    }
    let id = auth::new_token();
    state.imports.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), Upload { user_id: me.user.id, ledger: ledger_opt, sheet, set, file_name: file_name.clone(), dir, path });
    render(&state, &me, &ledger, Some((&report, &file_name)), &id).await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    upload: String,
    #[serde(default)]
    partial: Option<String>,
}

pub async fn confirm(State(state): State<AppState>, me: Me, Form(f): Form<ConfirmForm>) -> AppResult<Html<String>> {
    let upload = {
        let mut map = state.imports.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&f.upload) {
            Some(u) if u.user_id == me.user.id => map.remove(&f.upload),
            _ => None,
        }
    };
    let Some(u) = upload else {
        return Err(AppError::not_found("找不到这次上传（可能已导入或已过期），请重新上传"));
    };
    let opts = ImportOptions {
        ledger: u.ledger.clone(),
        partial: f.partial.is_some(),
        source_name: Some(u.file_name.clone()),
        sheet: u.sheet.clone(),
        set: u.set.clone(),
        ..Default::default()
    };
    let report = run_import(&state, &me, u.path.clone(), opts).await?;
    drop(u.dir);
    render(&state, &me, u.ledger.as_deref().unwrap_or(""), Some((&report, &u.file_name)), "").await
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

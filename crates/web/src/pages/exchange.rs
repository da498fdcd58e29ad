//! Export of a ledger (within the user's scope and the list's filters) and blank templates.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use taizhang_exchange::{export_ledger, write_ledger_template, ExportQuery};

use crate::auth::Me;
use crate::error::{AppError, AppResult};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct ExportParams {
    #[serde(default)]
    place: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    format: String,
}

/// A file download with a Chinese file name.
pub fn download(bytes: Vec<u8>, file_name: &str, mime: &str) -> Response {
    let encoded = crate::guard::encode(file_name).replace('/', "%2F");
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"download\"; filename*=UTF-8''{encoded}")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

fn temp_path(ext: &str) -> AppResult<(tempfile::TempDir, std::path::PathBuf)> {
    let dir = tempfile::tempdir().map_err(|e| AppError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("无法建立临时文件：{e}")))?;
    let path = dir.path().join(format!("out.{ext}"));
    Ok((dir, path))
}

fn read(path: &std::path::Path) -> AppResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| AppError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("读取导出文件失败：{e}")))
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub async fn export(State(state): State<AppState>, me: Me, Path(key): Path<String>, Query(p): Query<ExportParams>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&defs, &key)?.clone();
    let scope = super::narrowed(&mut tx, &me, Some(&p.place)).await?;
    let period = if p.period.trim().is_empty() { None } else { Some(super::period_of(Some(&p.period), 0)?) };
    drop(tx);
    let csv = p.format == "csv";
    let (_dir, path) = temp_path(if csv { "csv" } else { "xlsx" })?;
    export_ledger(&state.db, &scope, &def.key, &ExportQuery { period, as_of: None }, &path, false).await?;
    let name = format!("{}.{}", def.name, if csv { "csv" } else { "xlsx" });
    Ok(download(read(&path)?, &name, if csv { "text/csv; charset=utf-8" } else { XLSX }))
}

pub async fn template(State(state): State<AppState>, _me: Me, Path(key): Path<String>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&defs, &key)?.clone();
    drop(tx);
    let (_dir, path) = temp_path("xlsx")?;
    write_ledger_template(&state.db, &def.key, &path).await?;
    Ok(download(read(&path)?, &format!("{}（导入模板）.xlsx", def.name), XLSX))
}

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
    if !me.sees_id_numbers() && carries_id_numbers(&def) {
        let q = taizhang_storage::records::RecordQuery { period, ..Default::default() };
        let rows = taizhang_storage::records::list(&mut tx, &def, &scope, &q).await?;
        let text = masked_csv(&mut tx, &me, &def, &rows).await;
        return Ok(download(text.into_bytes(), &format!("{}（身份证号已脱敏）.csv", def.name), "text/csv; charset=utf-8"));
    }
    drop(tx);
    let csv = p.format == "csv";
    let (_dir, path) = temp_path(if csv { "csv" } else { "xlsx" })?;
    export_ledger(&state.db, &scope, &def.key, &ExportQuery { period, as_of: None }, &path, false).await?;
    let name = format!("{}.{}", def.name, if csv { "csv" } else { "xlsx" });
    Ok(download(read(&path)?, &name, if csv { "text/csv; charset=utf-8" } else { XLSX }))
}

/// Whether an export of the ledger would show ID numbers (a person subject or a marked field).
fn carries_id_numbers(def: &taizhang_domain::ledger::LedgerDef) -> bool {
    def.subject == taizhang_domain::ledger::SubjectKind::Person
        || def.fields.iter().any(|f| f.sensitivity == Some(taizhang_domain::ledger::Sensitivity::IdNumber))
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// For roles that see ID numbers masked: the same records as a CSV (with a BOM, so Excel
/// reads it as UTF-8) whose ID numbers are masked as on the pages.
async fn masked_csv(tx: &mut taizhang_storage::Tx, me: &Me, def: &taizhang_domain::ledger::LedgerDef, rows: &[taizhang_domain::value::Record]) -> String {
    let mut out = String::from("\u{feff}");
    let mut header = vec!["编号".to_string()];
    if def.subject != taizhang_domain::ledger::SubjectKind::None {
        header.push(def.subject.label().to_string());
    }
    header.push("所属地点".into());
    header.extend(def.active_fields().map(|f| f.label.clone()));
    header.push("状态".into());
    out.push_str(&header.iter().map(|h| csv_cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    let mut names = super::RefNames::default();
    for r in rows {
        let mut cells = vec![r.id.to_string()];
        if def.subject != taizhang_domain::ledger::SubjectKind::None {
            cells.push(super::ledger::subject_text(tx, me, def, r.subject_id).await);
        }
        cells.push(super::place_name(tx, r.place_id).await);
        for f in def.active_fields() {
            cells.push(match r.values.get(&f.key) {
                Some(v) => names.display(tx, me, f, v).await,
                None => String::new(),
            });
        }
        cells.push(def.workflow.as_ref().zip(r.state.as_deref()).map(|(w, s)| w.state_label(s).to_string()).unwrap_or_default());
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
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

//! Export of a ledger (within the user's scope and the list's filters) and blank templates.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use taizhang_exchange::{export_records, write_ledger_template, ExportQuery};

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

/// The ledger's records in the user's scope and the list's filters, as .xlsx or (`format=csv`)
/// .csv, every marked value through the user's masking policy (`ExportQuery::policy`): the same
/// file for every role, masked where the policy says. The export is a read: its entry names
/// every record written (`crate::reads`).
pub async fn export(State(state): State<AppState>, me: Me, Path(key): Path<String>, Query(p): Query<ExportParams>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&me, &defs, &key)?.clone();
    let scope = super::narrowed(&mut tx, &me, Some(&p.place)).await?;
    let period = if p.period.trim().is_empty() { None } else { Some(super::period_of(Some(&p.period), 0)?) };
    drop(tx);
    let csv = p.format == "csv";
    let (_dir, path) = temp_path(if csv { "csv" } else { "xlsx" })?;
    let policy = me.policy();
    let out = export_records(&state.db, &scope, &def.key, &ExportQuery { period, as_of: None, policy }, &path, false).await?;
    if taizhang_domain::masking::reads_audited(&def) {
        let entity = def.table_name();
        crate::reads::what(&entity, "导出台账");
        let filter = [("地点", &p.place), ("期间", &p.period), ("格式", &p.format)]
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", v.trim()))
            .collect::<Vec<_>>()
            .join(" ");
        crate::reads::filter(&entity, &filter);
        crate::reads::records(&def, &out.ids, &out.persons, &out.places);
    }
    let masked = policy.identifiers != taizhang_domain::masking::Treatment::Full && carries_identifiers(&def);
    let name = format!("{}{}.{}", def.name, if masked { "（已脱敏）" } else { "" }, if csv { "csv" } else { "xlsx" });
    Ok(download(read(&path)?, &name, if csv { "text/csv; charset=utf-8" } else { XLSX }))
}

/// Whether an export of the ledger carries identifiers (a person subject or a marked number).
fn carries_identifiers(def: &taizhang_domain::ledger::LedgerDef) -> bool {
    def.subject == taizhang_domain::ledger::SubjectKind::Person
        || def.fields.iter().any(|f| taizhang_domain::masking::Class::of_field(f).is_some_and(taizhang_domain::masking::Class::is_identifier))
}

pub async fn template(State(state): State<AppState>, me: Me, Path(key): Path<String>) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let def = super::find_def(&me, &defs, &key)?.clone();
    drop(tx);
    let (_dir, path) = temp_path("xlsx")?;
    write_ledger_template(&state.db, &def.key, &path).await?;
    Ok(download(read(&path)?, &format!("{}（导入模板）.xlsx", def.name), XLSX))
}

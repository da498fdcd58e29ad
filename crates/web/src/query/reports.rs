//! What a report, the dashboard and the indicators API compute over: the period, place and
//! indicators a request asks for.

use std::sync::OnceLock;

use chrono::Datelike;
use serde::Deserialize;
use taizhang_reports::{indicator, Context, IndicatorDef};

use crate::auth::Me;
use crate::error::{AppError, AppResult};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub template: String,
    #[serde(default)]
    pub form: String,
    /// 成文日期 of the 落款 and a form's 填报日期 (2024-01-05); empty: today.
    #[serde(default)]
    pub date: String,
    /// The time point (时点) standing ledgers are counted on (2023-12-31), as a report's figure
    /// links carry it; empty: the period's end or today, whichever is earlier.
    #[serde(default)]
    pub as_of: String,
}

impl ReportQuery {
    /// The day the report is dated: the one asked for, else `today`.
    pub fn dated(&self, today: chrono::NaiveDate) -> AppResult<chrono::NaiveDate> {
        match self.date.trim() {
            "" => Ok(today),
            d => taizhang_domain::period::parse_date_lenient(d).map_err(|e| AppError::bad_request(format!("「成文日期」{e}"))),
        }
    }
}

/// The report context a query names, confined to the user's scope (the place by code, name or
/// path of ids, outside the scope "not found"): the period (this year unless one is named) as
/// of the day named, else its end, but never after today — nothing is reported "as of" a day
/// still to come.
pub async fn context(state: &AppState, me: &Me, q: &ReportQuery) -> AppResult<Context> {
    let mut tx = state.db.read().await?;
    let scope = super::narrowed(&mut tx, me, Some(&q.place)).await?;
    let today = state.today();
    let period = super::period_of(q.period_text(), today.year())?;
    let as_of = match q.as_of.trim() {
        "" => None,
        d => Some(taizhang_domain::period::parse_date_lenient(d).map_err(|e| AppError::bad_request(format!("「时点」{e}")))?),
    };
    Ok(Context::clamped(period, as_of, today, scope))
}

/// The built-in indicators, parsed once.
pub fn indicators() -> AppResult<&'static [IndicatorDef]> {
    static INDS: OnceLock<Result<Vec<IndicatorDef>, String>> = OnceLock::new();
    match INDS.get_or_init(|| indicator::builtin().map_err(|e| e.to_string())) {
        Ok(v) => Ok(v),
        Err(e) => Err(AppError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.clone())),
    }
}

impl ReportQuery {
    pub fn period_text(&self) -> Option<&str> {
        [self.period.as_str(), self.year.as_str()].into_iter().find(|s| !s.trim().is_empty())
    }
}

/// The data checks' findings this user may see: every check run over the context, less the
/// findings in a ledger they may not read (a 业务员 and a health or 重点人群 ledger not assigned
/// to them) — such a finding would name its people and link to "not found". The checks page,
/// the API count through here, the dashboard's card through [`readable`].
pub async fn findings(tx: &mut taizhang_storage::Tx, me: &Me, defs: &[taizhang_domain::ledger::LedgerDef], rc: &Context) -> AppResult<Vec<taizhang_reports::checks::Finding>> {
    let list = taizhang_reports::checks::builtin()?;
    let found = taizhang_reports::checks::run_all(tx, &list, defs, rc).await?;
    Ok(found.into_iter().filter(|f| readable(me, defs, f)).collect())
}

/// [`findings`], taken from those the dashboard's background run keeps when they are of this
/// data version, scope and year (`cache::findings_key`), so that following the card to the
/// checks page does not run every check again.
pub async fn findings_shared(state: &AppState, tx: &mut taizhang_storage::Tx, me: &Me, defs: &[taizhang_domain::ledger::LedgerDef], rc: &Context) -> AppResult<Vec<taizhang_reports::checks::Finding>> {
    if let Some(kept) = crate::cache::findings_key(rc).and_then(|key| state.cache.current_findings(&key, me.data_version)) {
        return Ok(kept.found.iter().filter(|f| readable(me, defs, f)).cloned().collect());
    }
    findings(tx, me, defs, rc).await
}

/// Whether this user may see a finding: it names no ledger they may not read.
pub fn readable(me: &Me, defs: &[taizhang_domain::ledger::LedgerDef], f: &taizhang_reports::checks::Finding) -> bool {
    let may = |key: &String| key.is_empty() || defs.iter().any(|d| &d.key == key && me.may_read_ledger(d));
    may(&f.ledger) && may(&f.other_ledger)
}

//! 校核 in the browser (issue 17, item 4): a draft (.docx, .md, .txt, .html) uploaded with the
//! period and place it speaks of; every figure checked against the ledgers by
//! `taizhang_verify`, shown as counts and as the draft's text with coloured marks linking to
//! `/explain/KEY?…`; the marked Word copy (a comment per figure) downloaded.
//!
//! The draft is never stored: it is read into memory (at most [`DRAFT_MB`] MB, at most
//! [`AT_ONCE`] drafts at a time), verified and dropped with the answer. The download is a POST
//! of the same form with the same file, so nothing has to be kept between the page and the
//! Word file.
//!
//! Scope: the place narrows the user's own scope (`query::narrowed`: a place outside it is
//! "not found", so a 村干部 verifies against their village only). A figure whose indicator rests
//! on a ledger the user may not read (`Me::may_read_ledger`) is left 无法对应: its indicator is
//! never evaluated, so no value of such a ledger reaches the page or the Word file. Like the
//! report preview, which shows the same figures, a verification notes no read: it shows counts,
//! no record and no person; the records behind a figure are behind its `/explain` link, which
//! notes its read.

use std::sync::OnceLock;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use chrono::Datelike;
use serde_json::json;
use taizhang_reports::{eval, Context, IndicatorDef};
use taizhang_verify::{Counts, Draft, Options, Outcome, PhraseTable, Verdict, VerifyError};
use tokio::sync::Semaphore;

use crate::auth::Me;
use crate::error::{AppError, AppResult};
use crate::query::reports::{context, ReportQuery};
use crate::{views, AppState};

/// The largest draft, in MB: a Word file with its pictures fits; the text of any summary is far
/// smaller.
pub const DRAFT_MB: usize = 20;
/// The largest request the routes accept: the draft and the form's few fields around it.
pub const DRAFT_LIMIT: usize = (DRAFT_MB + 1) * 1024 * 1024;
/// Drafts verified at once: each is held in memory while it is read and checked; the rest wait.
pub const AT_ONCE: usize = 2;
static TURNS: Semaphore = Semaphore::const_new(AT_ONCE);

/// The span of the year a draft may speak of: (value, label); the value is appended to the year
/// the way `parse_period` reads it (2023, 2023Q3, 2023-07).
const SPANS: &[(&str, &str)] = &[
    ("", "全年"),
    ("Q1", "第一季度"),
    ("Q2", "第二季度"),
    ("Q3", "第三季度"),
    ("Q4", "第四季度"),
    ("-01", "1月"),
    ("-02", "2月"),
    ("-03", "3月"),
    ("-04", "4月"),
    ("-05", "5月"),
    ("-06", "6月"),
    ("-07", "7月"),
    ("-08", "8月"),
    ("-09", "9月"),
    ("-10", "10月"),
    ("-11", "11月"),
    ("-12", "12月"),
];

/// What the form sent.
#[derive(Default)]
struct Sent {
    year: String,
    span: String,
    place: String,
    file_name: String,
    bytes: Vec<u8>,
}

impl Sent {
    /// The period as the report page's `period` parameter writes it.
    fn period(&self, today: chrono::NaiveDate) -> AppResult<String> {
        let year = match self.year.trim() {
            "" => today.year(),
            y => y.parse::<i32>().map_err(|_| AppError::bad_request(format!("「年度」应为四位数的年份，如 2023（这里是「{y}」）")))?,
        };
        let span = SPANS.iter().find(|(v, _)| *v == self.span.trim()).map_or("", |(v, _)| v);
        Ok(format!("{year}{span}"))
    }
}

/// The phrase table of the built-in annual summary: built once (the template and the
/// indicators are embedded, so it never changes while the server runs).
fn phrases() -> AppResult<&'static PhraseTable> {
    static TABLE: OnceLock<Result<PhraseTable, String>> = OnceLock::new();
    match TABLE.get_or_init(|| taizhang_verify::phrase_table(None).map(|(t, _)| t).map_err(|e| e.to_string())) {
        Ok(t) => Ok(t),
        Err(e) => Err(AppError::new(StatusCode::INTERNAL_SERVER_ERROR, e.clone())),
    }
}

fn verify_error(e: VerifyError) -> AppError {
    match e {
        VerifyError::Input(why) => AppError::new(StatusCode::UNPROCESSABLE_ENTITY, why),
        VerifyError::Report(e) => e.into(),
        VerifyError::Store(e) => e.into(),
    }
}

/// Reads the form: the fields, and the file into memory, refused in Chinese once it passes
/// [`DRAFT_MB`] (axum's own refusal of a larger request is English).
async fn read_form(mut multipart: Multipart) -> AppResult<Sent> {
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("稿件超过 {DRAFT_MB} MB，未校核；请删去图片或另存为 .txt 再校核"))
        } else {
            AppError::bad_request("上传中断，未校核；请重新选择稿件再传")
        }
    };
    let mut sent = Sent::default();
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        match field.name().unwrap_or("") {
            "year" => sent.year = field.text().await.unwrap_or_default(),
            "span" => sent.span = field.text().await.unwrap_or_default(),
            "place" => sent.place = field.text().await.unwrap_or_default(),
            "file" => {
                sent.file_name = std::path::Path::new(field.file_name().unwrap_or("")).file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
                sent.bytes.clear();
                while let Some(chunk) = field.chunk().await.map_err(failed)? {
                    sent.bytes.extend_from_slice(&chunk);
                    if sent.bytes.len() > DRAFT_MB * 1024 * 1024 {
                        return Err(AppError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("稿件「{}」超过 {DRAFT_MB} MB，未校核；请删去图片或另存为 .txt 再校核", sent.file_name)));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(sent)
}

/// The draft read and every figure verified within the user's scope.
struct Checked {
    draft: Draft,
    verdicts: Vec<Verdict>,
    rc: Context,
    /// A figure was left 无法对应 because its ledger is not the user's to read.
    some_hidden: bool,
}

async fn run(state: &AppState, me: &Me, sent: Sent) -> AppResult<Checked> {
    if sent.file_name.is_empty() && sent.bytes.is_empty() {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "请先选择要校核的稿件（.docx、.md、.txt 或 .html）"));
    }
    if taizhang_verify::Kind::of_name(&sent.file_name).is_none() {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("稿件只能是 .docx、.md、.txt 或 .html（「{}」不是）", sent.file_name)));
    }
    let q = ReportQuery { period: sent.period(state.today())?, place: sent.place.clone(), ..Default::default() };
    // The place first: one outside the user's scope is "not found" before the draft is read.
    let rc = context(state, me, &q).await?;
    let _turn = TURNS.acquire().await.map_err(|_| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "服务器正在停止，请稍后再试"))?;
    let name = sent.file_name.clone();
    // Unzipping and parsing a Word file is work for a blocking thread, not the async workers.
    let draft = tokio::task::spawn_blocking(move || Draft::read(&name, &sent.bytes))
        .await
        .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("读取稿件中断：{e}")))?
        .map_err(verify_error)?;
    let table = phrases()?;
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    // Only indicators of ledgers this user may read are evaluated: a figure the phrase table
    // gives to any other finds no indicator and stays 无法对应, with no value.
    let all = crate::query::reports::indicators()?;
    let readable: Vec<IndicatorDef> = all.iter().filter(|i| eval::ledger_of(i, &defs).is_ok_and(|d| me.may_read_ledger(d))).cloned().collect();
    let opts = Options { template: None, place: None };
    let verdicts = taizhang_verify::verify_with(&mut tx, &draft.text, &rc, &opts, table, &readable, &defs).await.map_err(verify_error)?;
    drop(tx);
    let some_hidden = readable.len() < all.len() && verdicts.iter().any(|v| v.verdict == Outcome::Unmatched);
    Ok(Checked { draft, verdicts, rc, some_hidden })
}

/// Where a figure's records are listed: the explain page with the period, time point and place
/// the verification used (`Context::link_query`), so the page shows the same value.
fn explain_href(key: &str, rc: &Context) -> String {
    format!("/explain/{}?{}", crate::guard::encode(key), rc.link_query())
}

/// What a mark says when pointed at (and in the table).
fn title(v: &Verdict) -> String {
    let name = v.indicator.as_deref().unwrap_or("");
    let ledger = v.ledger.as_deref().unwrap_or("");
    match v.verdict {
        Outcome::Agrees => format!("一致：{name}，台账 {ledger}"),
        Outcome::Differs => format!("不一致：{name}，台账 {ledger}（差 {}）", v.difference.as_deref().unwrap_or("")),
        Outcome::Unmatched => "无法对应：没有认出这个数字说的是哪项指标，请人工核对".to_string(),
        Outcome::NoData => format!("无数据：{name}所依据的台账在该期间、该地方没有记录，数字无从核对"),
    }
}

/// The draft's text as paragraphs, each figure marked by its verdict: a link to its records
/// where an indicator was recognised, the ledger's value beside a 不一致 and 无数据 named.
fn marked(text: &str, verdicts: &[Verdict], rc: &Context) -> String {
    let href = |key: &str| explain_href(key, rc);
    let marks = taizhang_verify::marked_html::Marks { href: Some(&href), title: &title, class_prefix: "fig ", notes: true };
    taizhang_verify::marked_html::fragment_with(text, verdicts, &marks)
}

/// A figure as the table lists it.
fn row(v: &Verdict, rc: &Context) -> serde_json::Value {
    json!({
        "verdict": v.verdict.label(),
        "class": taizhang_verify::marked_html::class(v.verdict),
        "written": v.written,
        "indicator": v.indicator,
        "ledger": v.ledger,
        "difference": v.difference,
        "sentence": v.sentence,
        "href": v.key.as_deref().map(|k| explain_href(k, rc)),
    })
}

/// The page: the form (kept as sent, but the file, which a browser never refills), and the
/// outcome when there is one.
async fn page(state: &AppState, me: &Me, sent: &Sent, checked: Option<&Checked>, problem: Option<&str>) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let places = super::place_options(&mut tx, me).await?;
    drop(tx);
    let mut ctx = views::layout(me, &defs, "校核", &[("校核", "")]);
    let today = state.today();
    ctx.insert("year".into(), json!(if sent.year.trim().is_empty() { today.year().to_string() } else { sent.year.trim().to_string() }));
    ctx.insert("this_year".into(), json!(today.year()));
    ctx.insert("spans".into(), json!(SPANS));
    ctx.insert("span".into(), json!(sent.span.trim()));
    ctx.insert("place".into(), json!(sent.place.trim()));
    ctx.insert("places".into(), json!(places));
    // A 村干部 has one place, their village: the form names it instead of offering a choice.
    ctx.insert("own_place_only".into(), json!(me.user.role == taizhang_domain::role::Role::VillageCadre));
    ctx.insert("draft_mb".into(), json!(DRAFT_MB));
    if let Some(p) = problem {
        ctx.insert("problem".into(), json!(p));
    }
    if let Some(c) = checked {
        let counts = Counts::of(&c.verdicts);
        let place = match c.rc.scope.path.as_str() {
            p if p == me.scope.path => me.place_name.clone(),
            p => {
                let mut tx = state.db.read().await?;
                taizhang_storage::places::resolve(&mut tx, &me.scope, p).await.map(|p| p.name).unwrap_or_default()
            }
        };
        let mut listed: Vec<&Verdict> = c.verdicts.iter().filter(|v| v.verdict != Outcome::Agrees).collect();
        listed.sort_by_key(|v| (match v.verdict {
            Outcome::Differs => 0,
            Outcome::NoData => 1,
            _ => 2,
        }, v.start));
        ctx.insert(
            "result".into(),
            json!({
                "file_name": sent.file_name,
                "period": c.rc.period.label,
                "as_of": c.rc.as_of.to_string(),
                "place": place,
                "counts": {"total": counts.total, "agrees": counts.agrees, "differs": counts.differs, "unmatched": counts.unmatched, "no_data": counts.no_data},
                "marked": marked(&c.draft.text, &c.verdicts, &c.rc),
                "listed": listed.iter().map(|v| row(v, &c.rc)).collect::<Vec<_>>(),
                "all": c.verdicts.iter().map(|v| row(v, &c.rc)).collect::<Vec<_>>(),
                "some_hidden": c.some_hidden,
            }),
        );
    }
    views::render("verify.html", &ctx.into())
}

/// GET /verify: the form.
pub async fn form(State(state): State<AppState>, me: Me) -> AppResult<Html<String>> {
    page(&state, &me, &Sent::default(), None, None).await
}

/// POST /verify: the draft verified, the counts and the marked text shown. A draft that cannot
/// be read is said on the form (422); a place outside the user's scope is "not found".
pub async fn check(State(state): State<AppState>, me: Me, multipart: Multipart) -> AppResult<Response> {
    use axum::response::IntoResponse;
    let sent = read_form(multipart).await?;
    let form = Sent { year: sent.year.clone(), span: sent.span.clone(), place: sent.place.clone(), file_name: sent.file_name.clone(), bytes: Vec::new() };
    match run(&state, &me, sent).await {
        Ok(checked) => Ok(page(&state, &me, &form, Some(&checked), None).await?.into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::BAD_REQUEST => {
            Ok((e.status, page(&state, &me, &form, None, Some(&e.message)).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

/// POST /verify/docx: the same form, answered with the marked Word copy — the original with a
/// comment on each figure for a .docx draft, a new document of its text for any other. A
/// comment on a 不一致 names where its records are: the explain page under 系统网址 when that
/// setting is given (a Word file has no server behind a relative link), else the 校核 page.
pub async fn docx(State(state): State<AppState>, me: Me, multipart: Multipart) -> AppResult<Response> {
    let sent = read_form(multipart).await?;
    let stem = std::path::Path::new(&sent.file_name).file_stem().and_then(|s| s.to_str()).unwrap_or("稿件").to_string();
    let mut c = run(&state, &me, sent).await?;
    let base = {
        let mut tx = state.db.read().await?;
        taizhang_reports::output::link_base(&mut tx, None).await?
    };
    for v in &mut c.verdicts {
        if let Some(key) = &v.key {
            v.explain = Some(match &base {
                Some(b) => format!("{}{}", b.trim_end_matches('/'), explain_href(key, &c.rc)),
                None => "台账系统「校核」页上点这个数字".to_string(),
            });
        }
    }
    let _turn = TURNS.acquire().await.map_err(|_| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "服务器正在停止，请稍后再试"))?;
    let bytes = tokio::task::spawn_blocking(move || taizhang_verify::marked_docx(&c.draft, &c.verdicts))
        .await
        .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("生成 Word 文件中断：{e}")))?
        .map_err(verify_error)?;
    Ok(super::exchange::download(bytes, &format!("{stem}（校核）.docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
}

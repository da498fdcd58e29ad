//! Data checks, reports (period, place, template → HTML preview whose figures link to their
//! records → Word) and the records behind a figure.

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use chrono::Datelike;
use serde_json::json;
use taizhang_reports::{checks, eval, render, Context};

use crate::query::reports::{context, ReportQuery};
use crate::auth::Me;
use crate::error::{AppError, AppResult};
use crate::{charts, views, AppState};

pub async fn checks(State(state): State<AppState>, me: Me, Query(q): Query<ReportQuery>) -> AppResult<Html<String>> {
    let rc = context(&state, &me, &q).await?;
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let list = checks::builtin()?;
    let findings = crate::query::reports::findings_shared(&state, &mut tx, &me, &defs, &rc).await?;
    let groups: Vec<_> = list
        .iter()
        .map(|c| {
            let mine: Vec<_> = findings.iter().filter(|f| f.check == c.key).map(|f| finding_json(f, &defs)).collect();
            json!({"name": c.name, "help": c.help, "findings": mine})
        })
        .collect();
    let mut ctx = views::layout(&me, &defs, "数据核查", &[("数据核查", "")]);
    ctx.insert("checks".into(), json!(groups));
    ctx.insert("total".into(), json!(findings.len()));
    ctx.insert("period".into(), json!(q.period_text().unwrap_or("")));
    ctx.insert("from".into(), json!(rc.period.start.to_string()));
    ctx.insert("to".into(), json!(rc.period.end.to_string()));
    ctx.insert("as_of".into(), json!(rc.as_of.to_string()));
    views::render("checks.html", &ctx.into())
}

/// A finding as the checks page shows it: the message, where and who, and a link to every
/// record and person it names.
fn finding_json(f: &checks::Finding, defs: &[taizhang_domain::ledger::LedgerDef]) -> serde_json::Value {
    let mut links: Vec<serde_json::Value> = Vec::new();
    for (ledger, ids) in [(&f.ledger, &f.record_ids), (&f.other_ledger, &f.other_record_ids)] {
        if ledger.is_empty() {
            continue;
        }
        let name = defs.iter().find(|d| &d.key == ledger).map_or("", |d| d.name.as_str());
        for id in ids {
            links.push(json!({"href": format!("/ledgers/{ledger}/{id}"), "text": format!("{name}第 {id} 号")}));
        }
    }
    // Persons are linked where no record is: a finding about a record links the record.
    if links.is_empty() {
        for id in &f.person_ids {
            links.push(json!({"href": format!("/persons/{id}"), "text": format!("人员编号 {id}")}));
        }
    }
    json!({"message": f.message, "village": f.village, "subject": f.subject, "links": links})
}

fn template_source(name: &str) -> AppResult<(&'static str, String)> {
    let name = if name.trim().is_empty() { "annual_summary" } else { name.trim() };
    let src = render::builtin_template(name).ok_or_else(|| AppError::not_found(format!("没有报表模板「{name}」")))?;
    Ok((src, name.to_string()))
}

/// The report's text, its context, and the warnings about figures that rest on no record.
async fn report_text(state: &AppState, me: &Me, q: &ReportQuery) -> AppResult<(String, Context, Vec<String>)> {
    let (src, _) = template_source(&q.template)?;
    let rc = context(state, me, q).await?;
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let (text, data) = render::gather_with_data(&mut tx, crate::query::reports::indicators()?, &defs, &rc, |data| render::render(src, data)).await?;
    let warnings = taizhang_reports::warnings::of_report(&mut tx, &defs, &rc, &data).await?;
    Ok((text, rc, warnings))
}

async fn form_page(state: &AppState, me: &Me, q: &ReportQuery, html: &str, warnings: &[String]) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let mut ctx = views::layout(me, &defs, "报表与总结", &[("报表与总结", "")]);
    ctx.insert("places".into(), json!(super::place_options(&mut tx, me).await?));
    ctx.insert("templates".into(), json!(render::named(render::builtin_templates())));
    ctx.insert("forms".into(), json!(render::named(taizhang_reports::form::builtin_forms())));
    ctx.insert("period".into(), json!(q.period_text().map_or_else(|| state.today().year().to_string(), String::from)));
    ctx.insert("place".into(), json!(q.place));
    ctx.insert("template".into(), json!(q.template));
    ctx.insert("date".into(), json!(q.date));
    ctx.insert("html".into(), json!(html));
    ctx.insert("warnings".into(), json!(warnings));
    ctx.insert(
        "query".into(),
        json!(format!(
            "period={}&place={}&template={}&date={}",
            crate::guard::encode(q.period_text().unwrap_or("")),
            crate::guard::encode(&q.place),
            crate::guard::encode(&q.template),
            crate::guard::encode(&q.date)
        )),
    );
    views::render("reports.html", &ctx.into())
}

pub async fn form(State(state): State<AppState>, me: Me, Query(q): Query<ReportQuery>) -> AppResult<Html<String>> {
    form_page(&state, &me, &q, "", &[]).await
}

/// The report as a document, with its 落款 (the place's issuer, the date asked for or today).
async fn report_doc(state: &AppState, me: &Me, q: &ReportQuery) -> AppResult<(taizhang_document::Document, Context, Vec<String>)> {
    let dated = q.dated(state.today())?;
    let (text, rc, warnings) = report_text(state, me, q).await?;
    let mut doc = taizhang_document::parse_markup(&text);
    let mut tx = state.db.read().await?;
    doc.blocks.extend(taizhang_reports::signature::block(&mut tx, &rc.scope, dated).await?);
    Ok((doc, rc, warnings))
}

pub async fn preview(State(state): State<AppState>, me: Me, Query(q): Query<ReportQuery>) -> AppResult<Html<String>> {
    let (doc, _, warnings) = report_doc(&state, &me, &q).await?;
    // Figure links carry the place and time point themselves (`Context::link_query`), so the
    // records behind them match the preview.
    let html = taizhang_document::to_html(&doc, &taizhang_document::HtmlOptions { standalone: false, link_figures: true });
    form_page(&state, &me, &q, &html, &warnings).await
}

pub async fn download(State(state): State<AppState>, me: Me, Query(q): Query<ReportQuery>) -> AppResult<Response> {
    let (doc, rc, _) = report_doc(&state, &me, &q).await?;
    // The fonts and grid are settings; figures link to 系统网址 when it is set (a downloaded
    // file has no server behind a relative link), else they are plain.
    let mut tx = state.db.read().await?;
    let style = taizhang_reports::output::official_style(&mut tx, &taizhang_reports::output::StyleOverrides::default()).await?;
    let base = taizhang_reports::output::link_base(&mut tx, None).await?;
    drop(tx);
    let links = base.as_deref().map_or(taizhang_document::FigureLinks::Plain, taizhang_document::FigureLinks::Base);
    let bytes = taizhang_document::to_docx_with(&doc, &style, links)
        .map_err(|e| AppError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("生成 Word 文件失败：{e}")))?;
    let name = format!("{}工作总结（{}）.docx", me.place_name, rc.period.label);
    Ok(super::exchange::download(bytes, &name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
}

pub async fn explain(State(state): State<AppState>, me: Me, Path(key): Path<String>, Query(q): Query<ReportQuery>) -> AppResult<Html<String>> {
    let rc = context(&state, &me, &q).await?;
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let inds = crate::query::reports::indicators()?;
    let ind = inds.iter().find(|i| i.key == key).ok_or_else(|| AppError::not_found(format!("没有指标「{key}」")))?;
    let def = eval::ledger_of(ind, &defs)?;
    // The figure is a count; the records behind it are the ledger's: not for a reader who may
    // not read that ledger, and a read like any list for those who may.
    if !me.may_read_ledger(def) {
        return Err(AppError::not_found(format!("没有指标「{key}」")));
    }
    let figure = eval::evaluate(&mut tx, ind, def, &rc).await?;
    let villages = eval::by_village(&mut tx, ind, def, &rc).await?;
    let (total, recs) = eval::records_behind(&mut tx, ind, def, &rc, 200).await?;
    crate::reads::filter(&def.table_name(), &format!("指标={} 期间={}..{}", ind.name, rc.period.start, rc.period.end));
    for r in &recs {
        crate::show::shown(def, r);
    }
    let chart = charts::bars(
        &villages.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
        &villages.iter().map(|v| v.value).collect::<Vec<_>>(),
        &villages.iter().map(|v| super::dashboard::figure_text(v.value, &figure.unit, figure.scale)).collect::<Vec<_>>(),
    );
    let mut ctx = views::layout(&me, &defs, &figure.name, &[("报表与总结", "/reports"), (figure.name.as_str(), "")]);
    ctx.insert("value".into(), json!(super::dashboard::figure_text(figure.value, &figure.unit, figure.scale)));
    ctx.insert("f".into(), json!(figure));
    ctx.insert("chart".into(), json!(chart));
    ctx.insert("total".into(), json!(total));
    let mut listed = Vec::with_capacity(recs.len());
    for r in &recs {
        listed.push(json!({"id": r.id, "summary": eval::record_text(&mut tx, &me.scope, def, r, 6).await?}));
    }
    ctx.insert("records".into(), json!(listed));
    ctx.insert("from".into(), json!(rc.period.start.to_string()));
    ctx.insert("to".into(), json!(rc.period.end.to_string()));
    ctx.insert("as_of".into(), json!(rc.as_of.to_string()));
    // The place the figure is counted over, named, so a village's figure reads as the village's.
    let place = match rc.scope.path.as_str() {
        "/" => String::new(),
        path => taizhang_storage::places::resolve(&mut tx, &me.scope, path).await.map(|p| p.name).unwrap_or_default(),
    };
    ctx.insert("place".into(), json!(place));
    views::render("explain.html", &ctx.into())
}

/// A county form (报表样表) filled with the figures of the period and place.
pub async fn filled_form(State(state): State<AppState>, me: Me, Query(q): Query<ReportQuery>) -> AppResult<Response> {
    let forms = taizhang_reports::form::builtin_forms();
    let name = if q.form.trim().is_empty() { forms.first().cloned().unwrap_or_default() } else { q.form.trim().to_string() };
    let template = taizhang_reports::form::builtin_form(&name).ok_or_else(|| AppError::not_found(format!("没有报表样表「{name}」")))?;
    let rc = context(&state, &me, &q).await?;
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let opts = taizhang_reports::form::FormOptions { filled_on: q.dated(state.today())? };
    let bytes = render::gather_for(&mut tx, crate::query::reports::indicators()?, &defs, &rc, |data| taizhang_reports::form::fill(template, data, &opts)).await?;
    Ok(super::exchange::download(bytes, &format!("{name}（{}）.xlsx", rc.period.label), super::exchange::XLSX))
}

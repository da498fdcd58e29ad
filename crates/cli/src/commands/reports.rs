//! `indicators`, `check`, `report` and `explain`: figures, data checks and summaries computed
//! from the ledgers (crate `taizhang-reports`).

use std::path::Path;

use anyhow::Context as _;
use chrono::Datelike;
use taizhang_domain::period::Period;
use taizhang_domain::place::PlaceLevel;
use taizhang_reports::{checks, eval, indicator, render, Context};
use taizhang_storage::{ledgers, Tx};

use super::print_json;
use super::records::query_scope;
use crate::args::{PeriodArgs, ReportLookArgs};
use crate::context::Ctx;

/// The report context the common flags name. Without a period: the calendar year of `--as-of`,
/// else the current year; without `--as-of`: the end of the period or today, whichever is
/// earlier (nothing is counted or checked as of a day still to come).
pub(crate) async fn report_context(tx: &mut Tx, ctx: &Ctx, p: &PeriodArgs) -> anyhow::Result<Context> {
    let (period, as_of, scope) = query_scope(tx, ctx, p).await?;
    let period = match (period, as_of) {
        (Some(p), _) => p,
        (None, Some(d)) => Period::year(d.year()),
        (None, None) => Period::year(ctx.today.year()),
    };
    Ok(Context::clamped(period, as_of, ctx.today, scope))
}

fn money_unit(unit: &str) -> bool {
    unit == "元"
}

/// A value as a person reads it in a listing: money in 元 with two decimals.
fn plain(value: i64, unit: &str, scale: u8) -> String {
    if money_unit(unit) {
        format!("{}.{:02}", value.div_euclid(100), value.rem_euclid(100))
    } else {
        render::format_scaled(value, scale, &format!("dec:{scale}")).unwrap_or_else(|_| value.to_string())
    }
}

pub async fn indicators(ctx: &Ctx, period: PeriodArgs, by: Option<&str>, fresh: bool, json: bool) -> anyhow::Result<()> {
    let mut tx = ctx.db.read().await?;
    let rc = report_context(&mut tx, ctx, &period).await?;
    let defs = ledgers::all(&mut tx).await?;
    let inds = indicator::builtin()?;
    if let Some(by) = by {
        let level = match PlaceLevel::parse(by.trim()) {
            Some(l @ (PlaceLevel::Town | PlaceLevel::Village)) => l,
            _ => anyhow::bail!("--by 的值「{by}」无效：应为 town（镇）或 village（村）"),
        };
        drop(tx);
        let rows = taizhang_reports::rollup::rollup_with(&ctx.db, &inds, &defs, &rc, level, !fresh).await?;
        return print_rollup(&rc, level, &rows, json);
    }
    if fresh {
        anyhow::bail!("--fresh 只与 --by 同用：不分列的指标每次都从记录计算");
    }
    let figures = eval::evaluate_all(&mut tx, &inds, &defs, &rc).await?;
    if json {
        return print_json(&figures);
    }
    println!("期间 {} 至 {}，时点 {}", rc.period.start, rc.period.end, rc.as_of);
    let mut section = String::new();
    for (i, f) in inds.iter().zip(&figures) {
        if i.section != section {
            section.clone_from(&i.section);
            println!("\n{section}");
        }
        let target = f.target.map(|t| format!("\t目标 {}", plain(t, &f.unit, f.scale))).unwrap_or_default();
        println!("  {}\t{}\t{}{}{target}", f.key, f.name, plain(f.value, &f.unit, f.scale), f.unit);
    }
    println!("\n共 {} 项指标", figures.len());
    Ok(())
}

/// The roll-up as JSON, or as a table: one line per indicator, one column per place.
fn print_rollup(rc: &Context, level: PlaceLevel, rows: &[taizhang_reports::rollup::Rollup], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&rows);
    }
    println!("期间 {} 至 {}，时点 {}，按{}分列", rc.period.start, rc.period.end, rc.as_of, level.label());
    let names: Vec<&str> = rows.first().map(|r| r.places.iter().map(|p| p.name.as_str()).collect()).unwrap_or_default();
    println!("指标\t名称\t单位\t{}", names.join("\t"));
    for r in rows {
        let values: Vec<String> = r.places.iter().map(|p| plain(p.value, &r.unit, r.scale)).collect();
        println!("{}\t{}\t{}\t{}", r.key, r.name, r.unit, values.join("\t"));
    }
    println!("\n共 {} 项指标 × {} 个{}", rows.len(), names.len(), level.label());
    Ok(())
}

/// Runs every check. With `fail_on_findings`, findings are an error (exit status 1) once
/// they are printed, so that a scheduled job notices them.
pub async fn check(ctx: &Ctx, period: PeriodArgs, json: bool, fail_on_findings: bool) -> anyhow::Result<()> {
    let mut tx = ctx.db.read().await?;
    // Without flags: this year so far. A check never looks past today: the end of the period
    // or today, whichever is earlier (with --year 2023, 2023-12-31).
    let rc = report_context(&mut tx, ctx, &period).await?;
    let defs = ledgers::all(&mut tx).await?;
    let list = checks::builtin()?;
    let findings = checks::run_all(&mut tx, &list, &defs, &rc).await?;
    let failed = || anyhow::anyhow!("数据核查发现 {} 处问题（--fail-on-findings）", findings.len());
    if json {
        print_json(&findings)?;
        return if fail_on_findings && !findings.is_empty() { Err(failed()) } else { Ok(()) };
    }
    for c in &list {
        let mine: Vec<_> = findings.iter().filter(|f| f.check == c.key).collect();
        println!("{}【{}】{}", if mine.is_empty() { "✓" } else { "✗" }, c.name, if mine.is_empty() { "未发现问题".to_string() } else { format!("{} 处", mine.len()) });
        for f in mine {
            println!("    {}", f.message);
        }
    }
    println!("\n期间 {} 至 {}，时点 {}：共发现 {} 处问题", rc.period.start, rc.period.end, rc.as_of, findings.len());
    if fail_on_findings && !findings.is_empty() {
        return Err(failed());
    }
    Ok(())
}

/// The template text: a file when `name` is a path that exists, else a built-in by name.
fn template_source(name: Option<&str>) -> anyhow::Result<String> {
    let name = name.unwrap_or("annual_summary");
    if Path::new(name).is_file() {
        return std::fs::read_to_string(name).with_context(|| format!("读取模板 {name} 失败"));
    }
    render::builtin_template(name).map(String::from).ok_or_else(|| {
        anyhow::anyhow!("没有模板「{name}」：既不是文件，也不是内置模板（内置：{}）", render::builtin_templates().join("、"))
    })
}

/// The bytes of a form template (.xlsx): a file when `name` is a path that exists, else a
/// built-in form by name.
fn form_template(name: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let builtins = || taizhang_reports::form::builtin_forms().join("、");
    let Some(name) = name else {
        anyhow::bail!("生成 .xlsx 报表需用 --template 指定表格模板：内置的（{}）或 .xlsx 文件的路径", builtins());
    };
    if Path::new(name).is_file() {
        return std::fs::read(name).with_context(|| format!("读取表格模板 {name} 失败"));
    }
    taizhang_reports::form::builtin_form(name)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| anyhow::anyhow!("没有表格模板「{name}」：既不是文件，也不是内置表格模板（内置：{}）", builtins()))
}

/// Fills a county form (.xlsx template) with the report's figures.
async fn report_form(ctx: &Ctx, period: PeriodArgs, template: Option<String>, output: &Path, dated: chrono::NaiveDate, strict: bool) -> anyhow::Result<()> {
    let form = form_template(template.as_deref())?;
    let mut tx = ctx.db.read().await?;
    let rc = report_context(&mut tx, ctx, &period).await?;
    let defs = ledgers::all(&mut tx).await?;
    let inds = indicator::builtin()?;
    let opts = taizhang_reports::form::FormOptions { filled_on: dated };
    let (bytes, data) = render::gather_with_data(&mut tx, &inds, &defs, &rc, |data| taizhang_reports::form::fill(&form, data, &opts)).await?;
    let warnings = taizhang_reports::warnings::empty_ledgers(&mut tx, &defs, &rc, &data).await?;
    std::fs::write(output, bytes).with_context(|| format!("写入 {} 失败", output.display()))?;
    println!("已生成 {}（期间 {} 至 {}，时点 {}）", output.display(), rc.period.start, rc.period.end, rc.as_of);
    say_warnings(&warnings, strict)
}

/// The warnings after a report or form is written (the figures that rest on no record); with
/// `strict`, an error once they are printed.
fn say_warnings(warnings: &[String], strict: bool) -> anyhow::Result<()> {
    if warnings.is_empty() {
        return Ok(());
    }
    println!("提醒（{} 条，发出前请核实）：", warnings.len());
    for w in warnings {
        println!("  · {w}");
    }
    if strict {
        anyhow::bail!("报告有 {} 条提醒（--strict）", warnings.len());
    }
    Ok(())
}

/// The day a report is dated: `--date`, else today.
fn report_date(ctx: &Ctx, date: Option<&str>) -> anyhow::Result<chrono::NaiveDate> {
    match date.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => taizhang_domain::period::parse_date_lenient(d).map_err(|e| anyhow::anyhow!("--date：{e}")),
        None => Ok(ctx.today),
    }
}

/// Writes a report. The figures whose ledger has no record in the period are listed after it
/// (`reports::warnings`); with `strict` they make the command fail once the file is written.
pub async fn report(ctx: &Ctx, period: PeriodArgs, template: Option<String>, output: &Path, date: Option<&str>, strict: bool, look: &ReportLookArgs) -> anyhow::Result<()> {
    let dated = report_date(ctx, date)?;
    if output.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
        return report_form(ctx, period, template, output, dated, strict).await;
    }
    if let Some(t) = template.as_deref().filter(|t| t.to_ascii_lowercase().ends_with(".xlsx") || taizhang_reports::form::builtin_form(t).is_some()) {
        anyhow::bail!("「{t}」是表格模板，输出文件名应以 .xlsx 结尾");
    }
    let source = template_source(template.as_deref())?;
    let mut tx = ctx.db.read().await?;
    let rc = report_context(&mut tx, ctx, &period).await?;
    let defs = ledgers::all(&mut tx).await?;
    let inds = indicator::builtin()?;
    let (text, data) = render::gather_with_data(&mut tx, &inds, &defs, &rc, |data| render::render(&source, data)).await?;
    let warnings = taizhang_reports::warnings::of_report(&mut tx, &defs, &rc, &data).await?;
    let mut doc = taizhang_document::parse_markup(&text);
    doc.blocks.extend(taizhang_reports::signature::block(&mut tx, &rc.scope, dated).await?);
    let ext = output.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let bytes = match ext.as_str() {
        "md" | "markdown" | "txt" => taizhang_document::to_markdown(&doc).into_bytes(),
        "html" | "htm" | "docx" => file_bytes(&mut tx, &rc, &doc, &ext, look).await?,
        other => anyhow::bail!("不支持的输出格式「{other}」：文件名应以 .md、.html、.docx 或 .xlsx（表格模板）结尾"),
    };
    std::fs::write(output, bytes).with_context(|| format!("写入 {} 失败", output.display()))?;
    println!("已生成 {}（期间 {} 至 {}，时点 {}）", output.display(), rc.period.start, rc.period.end, rc.as_of);
    say_warnings(&warnings, strict)
}

/// A report as an HTML or Word file, as `look` and the settings say: figures link to the base
/// URL (`--link-base`, else 系统网址); without one, HTML lists the `taizhang explain` command of
/// each figure as a numbered note and Word leaves figures plain — a file has no dead links.
/// Word's fonts and grid: the option, else the setting, else the official default.
async fn file_bytes(tx: &mut Tx, rc: &Context, doc: &taizhang_document::Document, ext: &str, look: &ReportLookArgs) -> anyhow::Result<Vec<u8>> {
    use taizhang_document::FigureLinks;
    use taizhang_reports::output;
    let base = output::link_base(tx, look.link_base.as_deref()).await?;
    let code = output::place_code(tx, &rc.scope).await?;
    let note = |target: &str| output::explain_command(target, code.as_deref());
    let links = match &base {
        Some(base) => FigureLinks::Base(base),
        None => FigureLinks::Notes(&note),
    };
    if ext == "docx" {
        let overrides = output::StyleOverrides {
            title_font: look.font_title.clone(),
            body_font: look.font_body.clone(),
            heading1_font: look.font_heading1.clone(),
            heading2_font: look.font_heading2.clone(),
            char_grid: if look.grid { Some(true) } else if look.no_grid { Some(false) } else { None },
        };
        let style = output::official_style(tx, &overrides).await?;
        return taizhang_document::to_docx_with(doc, &style, links).map_err(|e| anyhow::anyhow!("生成 docx 失败：{e}"));
    }
    Ok(taizhang_document::to_html_with(doc, true, links).into_bytes())
}

pub async fn explain(ctx: &Ctx, key: &str, period: PeriodArgs, limit: i64, json: bool) -> anyhow::Result<()> {
    let mut tx = ctx.db.read().await?;
    let rc = report_context(&mut tx, ctx, &period).await?;
    let defs = ledgers::all(&mut tx).await?;
    let inds = indicator::builtin()?;
    let ind = inds.iter().find(|i| i.key == key).ok_or_else(|| taizhang_reports::ReportError::UnknownIndicator(key.to_string()))?;
    let def = eval::ledger_of(ind, &defs)?;
    // As whoever runs it (`--as`): the records behind the figure only from a ledger they may
    // read, their values through their masking policy (docs/personal-data.md).
    if let taizhang_domain::role::Actor::User { id, .. } = &ctx.actor {
        let u = taizhang_storage::users::get(&mut tx, *id).await?;
        if !taizhang_domain::masking::may_read_ledger(u.role, &u.ledgers, def) {
            anyhow::bail!("没有指标「{key}」");
        }
    }
    let figure = eval::evaluate(&mut tx, ind, def, &rc).await?;
    let villages = eval::by_village(&mut tx, ind, def, &rc).await?;
    let (total, mut recs) = eval::records_behind(&mut tx, ind, def, &rc, limit).await?;
    let policy = taizhang_domain::masking::Policy::for_actor(&ctx.actor);
    for r in &mut recs {
        let mut j = serde_json::json!({"values": r.values});
        policy.redact_record_json(def, &mut j);
        r.values = serde_json::from_value(j["values"].take()).unwrap_or_default();
    }
    // Each record with what its trail ends at: the village, the person or household (masked
    // as the policy says), and the value the figure sums.
    let summed = match taizhang_reports::indicator::Measure::parse(&ind.measure) {
        Some(taizhang_reports::indicator::Measure::Sum(k) | taizhang_reports::indicator::Measure::Avg(k)) => def.field(&k).cloned(),
        _ => None,
    };
    let mut places = std::collections::HashMap::new();
    let mut trail = Vec::with_capacity(recs.len());
    for r in &recs {
        let village = super::trail::village_of(&mut tx, &mut places, r.place_id).await?;
        let subject = super::trail::subject_of(&mut tx, &rc.scope, &policy, def, r.subject_id).await;
        let sum = summed.as_ref().and_then(|f| r.values.get(&f.key).map(|v| (f.label.clone(), value_text(f, v))));
        trail.push((village, subject, sum));
    }
    if json {
        let records: Vec<serde_json::Value> = recs
            .iter()
            .zip(&trail)
            .map(|(r, (village, subject, sum))| {
                let mut j = serde_json::to_value(r).unwrap_or_default();
                j["village"] = serde_json::json!(village);
                j["subject"] = serde_json::json!(subject);
                j["summed"] = serde_json::json!(sum.as_ref().map(|(label, text)| serde_json::json!({"field": label, "value": text})));
                j
            })
            .collect();
        return print_json(&serde_json::json!({
            "definition": ind,
            "figure": figure,
            "villages": villages,
            "record_count": total,
            "records": records,
        }));
    }
    println!("{}（{}）", ind.name, ind.key);
    println!("  台账：{}（{}）", def.name, def.key);
    println!("  口径：{}", figure.measure);
    println!("  条件：");
    for f in &figure.filters {
        println!("    · {f}");
    }
    if !ind.note.is_empty() {
        println!("  说明：{}", ind.note);
    }
    println!("  值：{}{}", plain(figure.value, &figure.unit, figure.scale), figure.unit);
    if let Some(t) = figure.target {
        println!("  目标：{}{}", plain(t, &figure.unit, figure.scale), figure.unit);
    }
    println!("  按村：");
    for v in &villages {
        println!("    {}\t{}\t{}", v.code, v.name, plain(v.value, &figure.unit, figure.scale));
    }
    println!("  SQL：{}", figure.sql);
    println!("  记录（共 {total} 条，列出前 {} 条）：", recs.len());
    for (r, (village, subject, sum)) in recs.iter().zip(&trail) {
        let sum = sum.as_ref().map(|(label, text)| format!("{label}={text}\t")).unwrap_or_default();
        let text = eval::record_text(&mut tx, &rc.scope, def, r, 6).await?;
        println!("    #{}\t{}\t{}\t{sum}{text}", r.id, if village.is_empty() { "—" } else { village }, if subject.is_empty() { "—" } else { subject });
    }
    Ok(())
}

/// A value as the explanation writes it: money in 元 with 分, other numbers with their unit.
fn value_text(f: &taizhang_domain::ledger::FieldDef, v: &taizhang_domain::value::Value) -> String {
    use taizhang_domain::ledger::FieldKind;
    use taizhang_domain::value::Value;
    match (f.kind, v) {
        (FieldKind::Money, Value::Int(i)) => format!("{}.{:02}元", i.div_euclid(100), i.rem_euclid(100)),
        (FieldKind::Decimal, Value::Int(i)) => format!("{}{}", taizhang_domain::numfmt::format_decimal(*i, f.scale, f.scale), f.unit),
        (_, Value::Int(i)) => format!("{i}{}", f.unit),
        (_, other) => format!("{other:?}"),
    }
}

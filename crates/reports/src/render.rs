//! Report templates (minijinja). A template writes the Markdown subset of
//! `taizhang_document::parse_markup`; every figure goes through a template function:
//!
//! - `fig("key", "approx:10")` → `[260余](/explain/key?year=2023)` (formats of
//!   `taizhang_domain::numfmt`, money in 分; plus `zh` for Chinese numerals: 2 → 两, and
//!   `zh_digit`: 9 → 九);
//! - `hp("households_key", "people_key")` → `[1330户4785人](/explain/households_key?year=2023&with=people_key)`;
//! - `value("key")` → the integer, for conditionals; `target("key")` → the target or none;
//! - `villages()` → the villages in scope (`name`, `code`); `villages("key", "exact")` adds each
//!   village's `value` and formatted `text` of that indicator.
//!
//! Variables: `year`, `next_year`, `place` (the name of the place reported on), `period`.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::Value as JValue;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::numfmt::{format_number, households_people, parse_format};
use taizhang_storage::{places, Tx};

use crate::error::{ReportError, Result};
use crate::eval::{self, Context, Figure, VillageFigure};
use crate::indicator::IndicatorDef;

/// Everything a template may read, computed before rendering.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    pub year: i32,
    pub period: String,
    pub place: String,
    pub link_query: String,
    pub figures: BTreeMap<String, Figure>,
    pub villages: BTreeMap<String, Vec<VillageFigure>>,
    pub village_list: Vec<(String, String)>,
}

/// Evaluates every indicator (in total and by village) for the context.
pub async fn gather(tx: &mut Tx, inds: &[IndicatorDef], ledgers: &[LedgerDef], ctx: &Context) -> Result<ReportData> {
    let mut figures = BTreeMap::new();
    let mut villages = BTreeMap::new();
    for ind in inds {
        let def = eval::ledger_of(ind, ledgers)?;
        figures.insert(ind.key.clone(), eval::evaluate(tx, ind, def, ctx).await?);
        villages.insert(ind.key.clone(), eval::by_village(tx, ind, def, ctx).await?);
    }
    let place = match tx.fetch_opt("SELECT name FROM places WHERE path = $1", &[ctx.scope.path.clone().into()]).await? {
        Some(r) => r.text(0),
        None => places::towns(tx).await?.into_iter().next().map(|p| p.name).unwrap_or_default(),
    };
    let village_list = places::of_level(tx, &ctx.scope, taizhang_domain::place::PlaceLevel::Village)
        .await?
        .into_iter()
        .map(|p| (p.code.unwrap_or_default(), p.name))
        .collect();
    Ok(ReportData {
        year: ctx.report_year(),
        period: ctx.period.label.clone(),
        place,
        link_query: ctx.link_query(),
        figures,
        villages,
        village_list,
    })
}

/// The built-in template of that name (`annual_summary` or `annual_summary.md.j2`).
pub fn builtin_template(name: &str) -> Option<&'static str> {
    taizhang_domain::catalogue::text_files("templates/")
        .find(|(p, _)| {
            let file = p.trim_start_matches("templates/");
            file == name || file.strip_suffix(".md.j2") == Some(name)
        })
        .map(|(_, t)| t)
}

/// Names of the built-in templates.
pub fn builtin_templates() -> Vec<String> {
    taizhang_domain::catalogue::text_files("templates/")
        .filter_map(|(p, _)| p.trim_start_matches("templates/").strip_suffix(".md.j2").map(String::from))
        .collect()
}

const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// Chinese numerals below 100 (larger numbers stay Arabic): 9 → 九, 12 → 十二, 35 → 三十五.
fn zh_digits(n: i64) -> String {
    let d = |i: i64| DIGITS[usize::try_from(i).unwrap_or(0)];
    match n {
        0..=9 => d(n).to_string(),
        10 => "十".into(),
        11..=19 => format!("十{}", d(n % 10)),
        20..=99 if n % 10 == 0 => format!("{}十", d(n / 10)),
        20..=99 => format!("{}十{}", d(n / 10), d(n % 10)),
        _ => n.to_string(),
    }
}

/// Writes a value in a format spec: numfmt's, or `zh` (counts: 2 → 两) / `zh_digit`, or for
/// values with decimals (`scale` > 0, e.g. 亩) `dec:k` (k decimals, truncated, trailing zeros
/// dropped); other formats then apply to the whole part.
pub fn format_scaled(value: i64, scale: u8, spec: &str) -> Result<String, String> {
    let unit = 10_i64.pow(u32::from(scale));
    if let Some(k) = spec.trim().strip_prefix("dec:") {
        let k: u8 = k.trim().parse().map_err(|_| format!("数字格式「{spec}」的位数不是数字"))?;
        let k = k.min(scale);
        let whole = value.div_euclid(unit);
        let frac = value.rem_euclid(unit) / 10_i64.pow(u32::from(scale - k));
        let mut text = if k == 0 { whole.to_string() } else { format!("{whole}.{frac:0w$}", w = usize::from(k)) };
        if text.contains('.') {
            text = text.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        return Ok(text);
    }
    format_value(value.div_euclid(unit), spec)
}

/// Writes a value in a format spec: numfmt's, or `zh` (counts: 2 → 两) / `zh_digit`.
pub fn format_value(value: i64, spec: &str) -> Result<String, String> {
    if let Some(k) = spec.trim().strip_prefix("wan:") {
        // 万元 (value in 分) truncated to k decimals, trailing zeros dropped: 1_230_000 → "12.3".
        let k: u32 = k.trim().parse().ok().filter(|k| *k <= 2).ok_or_else(|| format!("数字格式「{spec}」：wan:k 的 k 应为 0、1 或 2"))?;
        let unit = 1_000_000 / 10_i64.pow(k);
        let t = value.div_euclid(unit);
        let p = 10_i64.pow(k);
        let mut text = if k == 0 { t.to_string() } else { format!("{}.{:0w$}", t.div_euclid(p), t.rem_euclid(p), w = usize::try_from(k).unwrap_or(2)) };
        if text.contains('.') {
            text = text.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        return Ok(text);
    }
    match spec.trim() {
        "zh" if value == 2 => Ok("两".into()),
        "zh" | "zh_digit" => Ok(zh_digits(value)),
        other => parse_format(other).map(|f| format_number(value, &f)),
    }
}

pub(crate) fn err(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

pub(crate) fn figure<'a>(data: &'a ReportData, key: &str) -> Result<&'a Figure, Error> {
    data.figures.get(key).ok_or_else(|| err(format!("没有指标「{key}」")))
}

/// How a template function writes a figure: as a Markdown link to its explanation (reports) or
/// as plain text (cells of the county's Excel forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureText {
    Linked,
    Plain,
}

/// The template environment with every figure function (`fig`, `hp`, `value`, `target`, `fmt`,
/// `villages`) bound to the data; Markdown reports and Excel forms share it.
pub fn environment(data: Arc<ReportData>, text: FigureText) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    let linked = text == FigureText::Linked;
    {
        let d = data.clone();
        env.add_function("fig", move |key: String, spec: Option<String>| -> Result<String, Error> {
            let f = figure(&d, &key)?;
            let text = format_scaled(f.value, f.scale, spec.as_deref().unwrap_or("exact")).map_err(err)?;
            Ok(if linked { format!("[{text}](/explain/{key}?{})", d.link_query) } else { text })
        });
    }
    {
        let d = data.clone();
        env.add_function("hp", move |h: String, p: String| -> Result<String, Error> {
            let (hf, pf) = (figure(&d, &h)?, figure(&d, &p)?);
            let text = households_people(hf.value, pf.value);
            Ok(if linked { format!("[{text}](/explain/{h}?{}&with={p})", d.link_query) } else { text })
        });
    }
    {
        let d = data.clone();
        env.add_function("value", move |key: String| -> Result<i64, Error> { Ok(figure(&d, &key)?.value) });
    }
    {
        let d = data.clone();
        env.add_function("target", move |key: String| -> Result<Option<i64>, Error> { Ok(figure(&d, &key)?.target) });
    }
    {
        env.add_function("fmt", move |value: i64, spec: String| -> Result<String, Error> { format_value(value, &spec).map_err(err) });
        let d2 = data.clone();
        env.add_function("villages", move |key: Option<String>, spec: Option<String>| -> Result<JValue, Error> {
            let list: Vec<BTreeMap<&str, JValue>> = match &key {
                None => d2
                    .village_list
                    .iter()
                    .map(|(code, name)| BTreeMap::from([("code", JValue::from(code.clone())), ("name", JValue::from(name.clone()))]))
                    .collect(),
                Some(k) => {
                    let scale = figure(&d2, k)?.scale;
                    let spec = spec.as_deref().unwrap_or("exact");
                    let mut out = Vec::new();
                    for v in d2.villages.get(k).into_iter().flatten() {
                        out.push(BTreeMap::from([
                            ("code", JValue::from(v.code.clone())),
                            ("name", JValue::from(v.name.clone())),
                            ("value", JValue::from(v.value)),
                            ("text", JValue::from(format_scaled(v.value, scale, spec).map_err(err)?)),
                        ]));
                    }
                    out
                }
            };
            Ok(JValue::from_serialize(&list))
        });
    }
    env
}

/// The variables every template sees: `year`, `next_year`, `place`, `period`.
pub fn variables(data: &ReportData) -> BTreeMap<String, JValue> {
    BTreeMap::from([
        ("year".to_string(), JValue::from(data.year)),
        ("next_year".to_string(), JValue::from(data.year + 1)),
        ("place".to_string(), JValue::from(data.place.clone())),
        ("period".to_string(), JValue::from(data.period.clone())),
    ])
}

/// Renders template source with the data.
pub fn render(source: &str, data: &ReportData) -> Result<String> {
    let mut env = environment(Arc::new(data.clone()), FigureText::Linked);
    env.add_template("report", source)?;
    let tmpl = env.get_template("report")?;
    Ok(tmpl.render(variables(data))?)
}

/// Renders a template and checks the result parses; the Markdown of the parsed document.
pub fn render_markdown(source: &str, data: &ReportData) -> Result<String> {
    let text = render(source, data)?;
    Ok(taizhang_document::to_markdown(&taizhang_document::parse_markup(&text)))
}

impl From<String> for ReportError {
    fn from(s: String) -> Self {
        ReportError::Template(s)
    }
}

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
//! - `records("key", fields=["occurred_on", "title"], order="occurred_on", limit=1, date="月日")`
//!   → the records behind an indicator declared `list = true`, as dicts of the chosen fields
//!   (all by default, plus `id` and `place`): enum and text as is, integers as numbers, dates as
//!   ISO text or, with `date`, written `年月日` / `年月` / `月日` / `月` / `年` (2023年2月,
//!   11月26日), references as the referenced name. `order` takes a field key, `-key` for
//!   descending; ties keep the order of record ids.
//! - `zh_date("2023-11-26", "月日")` → 11月26日 (also month values "2023-07");
//!   `zh_list(values, split="、", last="和")` → 深圳、长沙和株洲 (each value split at `split`,
//!   repeats dropped, in order); `link("key", text)` → text linked to the explanation of `key`.
//!
//! - `has("a", "b")` → whether any of the figures is not zero; when none is, the clause it
//!   guards is left out and `crate::warnings` lists it. `nothing("key")` → whether the figure is
//!   zero, for a sentence of 无…; a 无 on a ledger with no record in the period is warned about.
//! - `money("key", "wan:1")` → money with its unit, 元 below 1万元 (never "0万元").
//! - `yoy("key", "diff"|"pct", spec)` → 较上年增加3户 / 同比增长12.5% / 与上年持平 against the
//!   same span a year earlier (`Context::year_before`), empty when that year's ledger held
//!   nothing; `previous("key")` → that figure.
//!
//! Variables: `year`, `next_year`, `place` (the name of the place reported on), `period`,
//! `level` (镇/村/县), `issuer`, `opening`, `names` (the settings `name:…`: names that differ
//! from town to town), `compare` (the setting 总结写与上年比较).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock, Mutex};

use minijinja::value::{Kwargs, Value as JValue};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::numfmt::{format_number, households_people, parse_format};
use taizhang_storage::{places, Tx};

use crate::error::{ReportError, Result};
use crate::eval::{self, Context, Figure, Listing, VillageFigure};
use crate::indicator::IndicatorDef;

/// Everything a template may read, computed before rendering.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReportData {
    pub year: i32,
    pub period: String,
    pub place: String,
    pub link_query: String,
    pub figures: BTreeMap<String, Figure>,
    pub villages: BTreeMap<String, Vec<VillageFigure>>,
    /// The places one level down that `villages()` and a form's repeated rows go through, as
    /// (code, name): the villages of a town or village, the towns of a county.
    pub village_list: Vec<(String, String)>,
    /// Whether those places are towns (a county's report or form), not villages.
    pub units_are_towns: bool,
    /// The records of indicators declared `list = true`, for `records(…)`.
    pub listings: BTreeMap<String, Listing>,
    /// How the report speaks of its place and period (全镇/全村, 过去的一年/本季度).
    pub words: PlaceWords,
    /// The names a report quotes that differ from town to town (settings `name:…`, e.g.
    /// `night_school` → 周一干部夜校), for `names.night_school`.
    pub names: BTreeMap<String, String>,
    /// The same indicators for the year before (the same span a year earlier), for `yoy(…)`.
    pub previous: BTreeMap<String, Figure>,
    /// Of `previous`, the indicators whose ledger held something then (a record in that span,
    /// or a figure not zero): a comparison with an unkept year is not written.
    pub previous_kept: BTreeSet<String>,
    /// Whether the town wants comparisons with the year before written (setting
    /// 总结写与上年比较), the template variable `compare`.
    pub compare: bool,
    /// What the last render left out or denied, for the warnings (`crate::warnings`).
    #[serde(skip)]
    pub said: Arc<Mutex<Said>>,
    /// Set while [`gather_for`] renders on demand: what the template asked for and the data
    /// does not hold yet is noted here, and answered with a placeholder for this pass.
    /// `None` outside [`gather_for`].
    #[serde(skip)]
    pub demand: Option<Arc<Demand>>,
}

/// The words a template uses for the report's place and period, so that one template serves a
/// town's year, a village's quarter and a month: `level` (镇, 村, 县 — "全{{ level }}",
/// "我{{ level }}"), `issuer` (北斗溪镇人民政府, 坪溪村村民委员会) and `opening` (过去的一年,
/// 今年以来, 上半年, 本季度, 本月, 这一时期).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlaceWords {
    pub level: String,
    pub issuer: String,
    pub opening: String,
}

impl Default for PlaceWords {
    fn default() -> Self {
        PlaceWords { level: "镇".into(), issuer: String::new(), opening: "过去的一年".into() }
    }
}

/// How a summary opens for its period, as of its time point.
pub fn opening(period: &taizhang_domain::period::Period, as_of: chrono::NaiveDate) -> &'static str {
    use chrono::Datelike;
    let (s, e) = (period.start, period.end);
    let whole_months = s.day() == 1 && e.succ_opt().is_some_and(|n| n.day() == 1);
    let months = (e.year() - s.year()) * 12 + e.month() as i32 - s.month() as i32 + 1;
    match (whole_months, months, s.month()) {
        (true, 12, 1) if as_of >= e => "过去的一年",
        (true, 12, 1) => "今年以来",
        (true, 6, 1) => "上半年",
        (true, 3, 1 | 4 | 7 | 10) => "本季度",
        (true, 1, _) => "本月",
        _ => "这一时期",
    }
}

/// What a render asserted or left unsaid without writing a figure: the indicators of clauses
/// left out because their figures were zero (`has`), and of claims of 无 (`nothing`). Shared by
/// the clones one render makes; emptied before each pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Said {
    pub omitted: BTreeSet<String>,
    pub denied: BTreeSet<String>,
    /// Compared with the year before (`yoy`, `previous`).
    pub compared: BTreeSet<String>,
}

impl ReportData {
    fn said(&self) -> std::sync::MutexGuard<'_, Said> {
        self.said.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the last render left out and denied.
    pub fn said_now(&self) -> Said {
        self.said().clone()
    }
}

/// The indicators a demand-driven render may ask for, and what it asked for.
#[derive(Debug)]
pub struct Demand {
    /// Every indicator key, with whether it may be listed (`list = true`).
    known: BTreeMap<String, bool>,
    wants: Mutex<Wants>,
}

#[derive(Debug, Default)]
struct Wants {
    figures: BTreeSet<String>,
    villages: BTreeSet<String>,
    listings: BTreeSet<String>,
    previous: BTreeSet<String>,
}

impl Wants {
    fn is_empty(&self) -> bool {
        self.figures.is_empty() && self.villages.is_empty() && self.listings.is_empty() && self.previous.is_empty()
    }
}

/// What a not-yet-computed figure reads as during a demand pass; never reaches an output.
static PLACEHOLDER: LazyLock<Figure> = LazyLock::new(Figure::default);

impl ReportData {
    /// Notes a request for something not computed yet; false if `key` is no indicator (or, for
    /// a listing, not a listable one), so the caller reports the template's mistake.
    fn want(&self, key: &str, pick: impl FnOnce(&mut Wants) -> &mut BTreeSet<String>, listing: bool) -> bool {
        let Some(d) = &self.demand else { return false };
        match d.known.get(key) {
            Some(&list) if list || !listing => {
                let mut w = d.wants.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                pick(&mut w).insert(key.to_string());
                true
            }
            _ => false,
        }
    }

    /// The figure of one indicator by village (empty during a demand pass that has not
    /// computed it yet).
    pub(crate) fn village_values(&self, key: &str) -> &[VillageFigure] {
        match self.villages.get(key) {
            Some(v) => v,
            None => {
                self.want(key, |w| &mut w.villages, false);
                &[]
            }
        }
    }
}

/// At most this many records of one indicator are listed in a report.
pub const LISTING_LIMIT: i64 = 200;

/// Evaluates every indicator (in total and by village) for the context.
pub async fn gather(tx: &mut Tx, inds: &[IndicatorDef], ledgers: &[LedgerDef], ctx: &Context) -> Result<ReportData> {
    let mut data = base(tx, ctx).await?;
    let all: BTreeSet<String> = inds.iter().map(|i| i.key.clone()).collect();
    let wants = Wants { figures: all.clone(), villages: all.clone(), listings: all, previous: BTreeSet::new() };
    compute(tx, inds, ledgers, ctx, &mut data, &wants, &mut BTreeMap::new()).await?;
    Ok(data)
}

/// Renders on demand: `use_data` (a template render or a form fill) runs on data holding only
/// what earlier passes asked for; whatever it asked for beyond that is computed and it runs
/// again, until a pass asks for nothing new — that pass's output is returned, computed from
/// real figures only. A template so only costs the indicators (and by-village breakdowns and
/// listings) it uses; each pass computes at least one more, so the passes end.
pub async fn gather_for<T>(
    tx: &mut Tx,
    inds: &[IndicatorDef],
    ledgers: &[LedgerDef],
    ctx: &Context,
    use_data: impl FnMut(&ReportData) -> Result<T>,
) -> Result<T> {
    Ok(gather_with_data(tx, inds, ledgers, ctx, use_data).await?.0)
}

/// [`gather_for`], also handing back the data the output was made from: the figures the
/// template used, for the warnings about them (`crate::warnings`).
pub async fn gather_with_data<T>(
    tx: &mut Tx,
    inds: &[IndicatorDef],
    ledgers: &[LedgerDef],
    ctx: &Context,
    mut use_data: impl FnMut(&ReportData) -> Result<T>,
) -> Result<(T, ReportData)> {
    let demand = Arc::new(Demand { known: inds.iter().map(|i| (i.key.clone(), i.list)).collect(), wants: Mutex::default() });
    let mut data = base(tx, ctx).await?;
    data.demand = Some(demand.clone());
    let mut spare = BTreeMap::new();
    loop {
        *data.said() = Said::default();
        let out = use_data(&data);
        let wants = std::mem::take(&mut *demand.wants.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if wants.is_empty() {
            // No placeholder was read, so `out` (or its error) stands as the template's own.
            data.demand = None;
            return Ok((out?, data));
        }
        compute(tx, inds, ledgers, ctx, &mut data, &wants, &mut spare).await?;
    }
}

fn unit_level(towns: bool) -> taizhang_domain::place::PlaceLevel {
    if towns {
        taizhang_domain::place::PlaceLevel::Town
    } else {
        taizhang_domain::place::PlaceLevel::Village
    }
}

/// The report's frame without any figure: place, villages (or a county's towns), year.
async fn base(tx: &mut Tx, ctx: &Context) -> Result<ReportData> {
    let place = match tx.fetch_opt("SELECT name FROM places WHERE path = $1", &[ctx.scope.path.clone().into()]).await? {
        Some(r) => r.text(0),
        None => places::towns(tx).await?.into_iter().next().map(|p| p.name).unwrap_or_default(),
    };
    let level = match tx.fetch_opt("SELECT level FROM places WHERE path = $1", &[ctx.scope.path.clone().into()]).await? {
        Some(r) => match r.text(0).as_str() {
            "village" => "村",
            "county" => "县",
            "group" => "组",
            _ => "镇",
        },
        None => "镇",
    };
    // A county's report and form go town by town; everything else village by village.
    let units_are_towns = level == "县";
    let village_list = places::of_level(tx, &ctx.scope, unit_level(units_are_towns))
        .await?
        .into_iter()
        .map(|p| (p.code.unwrap_or_default(), p.name))
        .collect();
    let words = PlaceWords {
        level: level.to_string(),
        issuer: crate::signature::issuer(tx, &ctx.scope).await?,
        opening: opening(&ctx.period, ctx.as_of).to_string(),
    };
    let mut names = BTreeMap::new();
    let setting_defs = taizhang_domain::setting::builtin().map_err(|e| ReportError::Definition(e.to_string()))?;
    for def in &setting_defs {
        if let Some(short) = def.key.strip_prefix("name:") {
            let year = ctx.report_year();
            if let Some(taizhang_domain::setting::SettingValue::Text(t)) = taizhang_storage::settings::effective(tx, def, year).await? {
                names.insert(short.to_string(), t);
            }
        }
    }
    let compare = match setting_defs.iter().find(|d| d.key == "report:year_on_year") {
        Some(def) => matches!(taizhang_storage::settings::effective(tx, def, ctx.report_year()).await?, Some(taizhang_domain::setting::SettingValue::Number(1))),
        None => false,
    };
    Ok(ReportData {
        units_are_towns,
        compare,
        names,
        words,
        year: ctx.report_year(),
        period: ctx.period.label.clone(),
        place,
        link_query: ctx.link_query(),
        figures: BTreeMap::new(),
        villages: BTreeMap::new(),
        village_list,
        listings: BTreeMap::new(),
        previous: BTreeMap::new(),
        previous_kept: BTreeSet::new(),
        said: Arc::default(),
        demand: None,
    })
}

/// Computes what `wants` names (a breakdown or listing brings its total along), in the order
/// of the definitions.
/// `spare` keeps the totals a fused scan computed beside those asked for, until a later pass
/// asks for them.
async fn compute(tx: &mut Tx, inds: &[IndicatorDef], ledgers: &[LedgerDef], ctx: &Context, data: &mut ReportData, wants: &Wants, spare: &mut BTreeMap<String, eval::Figure>) -> Result<()> {
    fused_totals(tx, inds, ledgers, ctx, data, wants, spare).await?;
    for ind in inds {
        let key = &ind.key;
        let village = wants.villages.contains(key) && !data.villages.contains_key(key);
        let listing = ind.list && wants.listings.contains(key) && !data.listings.contains_key(key);
        if !(village || listing || wants.figures.contains(key) || wants.previous.contains(key)) {
            continue;
        }
        let def = eval::ledger_of(ind, ledgers)?;
        if !data.figures.contains_key(key) {
            data.figures.insert(key.clone(), eval::evaluate(tx, ind, def, ctx).await?);
        }
        if village {
            data.villages.insert(key.clone(), eval::by_level(tx, ind, def, ctx, unit_level(data.units_are_towns)).await?);
        }
        if listing {
            data.listings.insert(key.clone(), eval::listing(tx, ind, def, ctx, LISTING_LIMIT).await?);
        }
    }
    let before = ctx.year_before();
    let missing: Vec<&IndicatorDef> = inds.iter().filter(|i| wants.previous.contains(&i.key) && !data.previous.contains_key(&i.key)).collect();
    for ind in missing {
        let def = eval::ledger_of(ind, ledgers)?;
        let figure = eval::evaluate(tx, ind, def, &before).await?;
        let q = taizhang_storage::records::RecordQuery { period: Some(before.period.clone()), ..Default::default() };
        if figure.value != 0 || taizhang_storage::records::any(tx, def, &before.scope, &q).await? {
            data.previous_kept.insert(ind.key.clone());
        }
        data.previous.insert(ind.key.clone(), figure);
    }
    Ok(())
}

/// The totals `wants` needs, a ledger's together in one scan (`rollup::totals_at`), when the
/// scope is one place; a streak, and a scope that is the whole database, are left to
/// [`compute`]'s one query per indicator. The scan computes every indicator of the ledger: those
/// not asked for wait in `spare` (a template asks in passes, and the data holds only what it
/// asked for: the warnings read it).
async fn fused_totals(
    tx: &mut Tx,
    inds: &[IndicatorDef],
    ledgers: &[LedgerDef],
    ctx: &Context,
    data: &mut ReportData,
    wants: &Wants,
    spare: &mut BTreeMap<String, eval::Figure>,
) -> Result<()> {
    let wanted = |ind: &IndicatorDef| {
        let key = &ind.key;
        wants.figures.contains(key) || wants.villages.contains(key) || (ind.list && wants.listings.contains(key)) || wants.previous.contains(key)
    };
    let mut touched: BTreeSet<&str> = BTreeSet::new();
    let missing: Vec<&IndicatorDef> = inds.iter().filter(|i| wanted(i) && !data.figures.contains_key(&i.key)).collect();
    for ind in missing {
        match spare.remove(&ind.key) {
            Some(f) => {
                data.figures.insert(ind.key.clone(), f);
            }
            None => {
                touched.insert(ind.ledger.as_str());
            }
        }
    }
    if touched.is_empty() {
        return Ok(());
    }
    let Some(place) = tx.fetch_opt("SELECT id, level FROM places WHERE path = $1", &[ctx.scope.path.clone().into()]).await? else {
        return Ok(());
    };
    let Some(level) = taizhang_domain::place::PlaceLevel::parse(&place.text(1)) else {
        return Ok(());
    };
    let mut by_ledger: BTreeMap<&str, Vec<&IndicatorDef>> = BTreeMap::new();
    for ind in inds.iter().filter(|i| touched.contains(i.ledger.as_str())) {
        if !data.figures.contains_key(&ind.key) && !matches!(ind.measure()?, crate::indicator::Measure::ConsecutiveYears(_)) {
            by_ledger.entry(ind.ledger.as_str()).or_default().push(ind);
        }
    }
    let targets = taizhang_storage::settings::with_prefix(tx, "target:", ctx.report_year()).await?;
    for list in by_ledger.values() {
        let def = eval::ledger_of(list[0], ledgers)?;
        let values = crate::rollup::totals_at(tx, def, list, ctx, level, place.int(0)).await?;
        for (ind, value) in list.iter().zip(values) {
            let target = targets.get(&format!("target:{}", ind.key)).copied();
            let figure = eval::figure_with(tx, ind, def, ctx, value, target)?;
            if wanted(ind) {
                data.figures.insert(ind.key.clone(), figure);
            } else {
                spare.insert(ind.key.clone(), figure);
            }
        }
    }
    Ok(())
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

/// The Chinese names of the built-in templates and county forms, by file name
/// (`catalogue/templates/names.toml`).
static NAMES: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    #[derive(serde::Deserialize)]
    struct Names {
        names: BTreeMap<String, String>,
    }
    taizhang_domain::catalogue::text_files("templates/names.toml")
        .find_map(|(_, t)| toml::from_str::<Names>(t).ok())
        .map(|n| n.names)
        .unwrap_or_default()
});

/// The Chinese name of a built-in template or county form (`annual_summary` → 年度工作总结), as
/// pages show it; `None` when `catalogue/templates/names.toml` gives it none.
pub fn builtin_name(file: &str) -> Option<&'static str> {
    NAMES.get(file).map(String::as_str)
}

/// File names with their Chinese names, for a page's choices: (file name, name); a file without
/// a name is shown as 未命名的模板.
pub fn named(files: Vec<String>) -> Vec<(String, String)> {
    files
        .into_iter()
        .map(|f| {
            let name = builtin_name(&f).unwrap_or("未命名的模板").to_string();
            (f, name)
        })
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
/// values with decimals (`scale` > 0, e.g. 亩) `dec:k` (k decimals, rounded by numfmt's one
/// rule, trailing zeros dropped); other formats then apply to the whole part.
pub fn format_scaled(value: i64, scale: u8, spec: &str) -> Result<String, String> {
    if let Some(k) = spec.trim().strip_prefix("dec:") {
        let k: u8 = k.trim().parse().map_err(|_| format!("数字格式「{spec}」的位数不是数字"))?;
        return Ok(taizhang_domain::numfmt::format_decimal(value, scale, k));
    }
    format_value(value.div_euclid(10_i64.pow(u32::from(scale))), spec)
}

/// Writes a value in a format spec: numfmt's (`wan:k` among them), or `zh` (counts: 2 → 两) /
/// `zh_digit`.
pub fn format_value(value: i64, spec: &str) -> Result<String, String> {
    match spec.trim() {
        "zh" if value == 2 => Ok("两".into()),
        "zh" | "zh_digit" => Ok(zh_digits(value)),
        other => parse_format(other).map(|f| format_number(value, &f)),
    }
}

/// Writes an ISO date ("2023-11-26") or month ("2023-07") in Chinese: `年月日` → 2023年11月26日,
/// `年月` → 2023年11月, `月日` → 11月26日, `月` → 11月, `年` → 2023年; `iso` leaves it as is.
pub fn zh_date(value: &str, spec: &str) -> Result<String, String> {
    let bad = || format!("「{value}」不是日期或月份");
    let mut parts = value.trim().split('-');
    let y: i32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let m: u32 = parts.next().and_then(|p| p.parse().ok()).filter(|m| (1..=12).contains(m)).ok_or_else(bad)?;
    let d: Option<u32> = match parts.next() {
        Some(p) => Some(p.parse().ok().filter(|d| (1..=31).contains(d)).ok_or_else(bad)?),
        None => None,
    };
    let day = || d.ok_or_else(|| format!("「{value}」是月份，没有日，不能按「{spec}」写"));
    Ok(match spec.trim() {
        "年月日" => format!("{y}年{m}月{}日", day()?),
        "年月" => format!("{y}年{m}月"),
        "月日" => format!("{m}月{}日", day()?),
        "月" => format!("{m}月"),
        "年" => format!("{y}年"),
        "iso" => value.to_string(),
        other => return Err(format!("日期格式「{other}」无法识别（可用：年月日、年月、月日、月、年、iso）")),
    })
}

/// Joins names the Chinese way: 深圳、长沙和株洲. Each value is first split at `split` (if
/// given); empty and repeated names are dropped, the first occurrence keeps its place.
pub fn zh_list(values: &[String], split: Option<&str>, last: &str) -> String {
    let mut names: Vec<&str> = Vec::new();
    for v in values {
        let parts: Vec<&str> = match split {
            Some(sep) if !sep.is_empty() => v.split(sep).collect(),
            _ => vec![v.as_str()],
        };
        for p in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
            if !names.contains(&p) {
                names.push(p);
            }
        }
    }
    match names.split_last() {
        None => String::new(),
        Some((only, [])) => (*only).to_string(),
        Some((tail, head)) => format!("{}{last}{tail}", head.join("、")),
    }
}

fn compare_json(a: Option<&serde_json::Value>, b: Option<&serde_json::Value>) -> std::cmp::Ordering {
    use serde_json::Value as J;
    use std::cmp::Ordering;
    match (a, b) {
        (None | Some(J::Null), None | Some(J::Null)) => Ordering::Equal,
        (None | Some(J::Null), _) => Ordering::Less,
        (_, None | Some(J::Null)) => Ordering::Greater,
        (Some(J::Number(x)), Some(J::Number(y))) => x.as_i64().cmp(&y.as_i64()),
        (Some(J::String(x)), Some(J::String(y))) => x.cmp(y),
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
    }
}

/// The rows of `records(key, …)`.
fn list_records(data: &ReportData, key: &str, kwargs: &Kwargs) -> Result<JValue, Error> {
    figure(data, key)?;
    let Some(listing) = data.listings.get(key) else {
        if data.want(key, |w| &mut w.listings, true) {
            return Ok(JValue::from_serialize(Vec::<()>::new()));
        }
        return Err(err(format!("指标「{key}」未声明 list = true，模板不能列出它的记录")));
    };
    let fields: Option<Vec<String>> = kwargs.get("fields")?;
    let order: Option<String> = kwargs.get("order")?;
    let limit: Option<usize> = kwargs.get("limit")?;
    let date: Option<String> = kwargs.get("date")?;
    kwargs.assert_all_used()?;
    let mut rows: Vec<&BTreeMap<String, serde_json::Value>> = listing.rows.iter().collect();
    if let Some(o) = order.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        let (field, desc) = match o.strip_prefix('-') {
            Some(f) => (f, true),
            None => (o, false),
        };
        if rows.first().is_some_and(|r| !r.contains_key(field)) {
            return Err(err(format!("指标「{key}」的记录没有字段「{field}」，不能按它排序")));
        }
        rows.sort_by(|a, b| {
            let c = compare_json(a.get(field), b.get(field));
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    let mut out = Vec::new();
    for r in rows.into_iter().take(limit.unwrap_or(usize::MAX)) {
        let keys: Vec<String> = match &fields {
            Some(f) => f.clone(),
            None => r.keys().cloned().collect(),
        };
        let mut row = BTreeMap::new();
        for k in keys {
            let is_date = listing.date_fields.contains(&k) || listing.month_fields.contains(&k);
            let v = match r.get(&k) {
                None => return Err(err(format!("指标「{key}」的记录没有字段「{k}」（或它是敏感字段，不列出）"))),
                Some(serde_json::Value::Null) => JValue::from(()),
                Some(serde_json::Value::String(t)) if is_date && date.is_some() => {
                    JValue::from(zh_date(t, date.as_deref().unwrap_or("iso")).map_err(err)?)
                }
                Some(v) => JValue::from_serialize(v),
            };
            row.insert(k, v);
        }
        out.push(row);
    }
    Ok(JValue::from_serialize(&out))
}

pub(crate) fn err(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

pub(crate) fn figure<'a>(data: &'a ReportData, key: &str) -> Result<&'a Figure, Error> {
    match data.figures.get(key) {
        Some(f) => Ok(f),
        None if data.want(key, |w| &mut w.figures, false) => Ok(&PLACEHOLDER),
        None => Err(err(format!("没有指标「{key}」"))),
    }
}

/// Money in 分 written with its unit: from 1万元 up in 万元 by `spec` ("200.2万元"), below that
/// in 元 as `yuan_int` writes it ("8462.50元", "350元"), so that no sum is written "0万元".
pub fn money_text(fen: i64, spec: &str) -> Result<String, String> {
    if fen.abs() < 1_000_000 {
        return Ok(format!("{}元", format_value(fen, "yuan_int")?));
    }
    Ok(format!("{}万元", format_value(fen, spec)?))
}

/// The figure of the year before (placeholder while a demand pass has not computed it).
fn previous<'a>(data: &'a ReportData, key: &str) -> Result<&'a Figure, Error> {
    match data.previous.get(key) {
        Some(f) => Ok(f),
        None if data.want(key, |w| &mut w.previous, false) => Ok(&PLACEHOLDER),
        None => Err(err(format!("没有指标「{key}」"))),
    }
}

/// The change on the year before as people write it: `diff` → 较上年增加3户 / 较上年减少1.2万元
/// (the difference written with `spec`), `pct` → 同比增长12.5% / 同比下降3.0% (one decimal,
/// rounded half away from zero; from nothing the `diff` form); no change → 与上年持平.
pub fn year_on_year(now: i64, before: i64, scale: u8, unit: &str, style: &str, spec: &str) -> Result<String, String> {
    if now == before {
        return Ok("与上年持平".into());
    }
    let up = now > before;
    match style {
        "pct" if before > 0 => Ok(format!("同比{}{}", if up { "增长" } else { "下降" }, taizhang_domain::numfmt::format_rate((now - before).abs(), before))),
        "pct" | "diff" => {
            let d = format_scaled((now - before).abs(), scale, spec)?;
            let unit = if spec.starts_with("wan") && unit == "元" { "万元" } else { unit };
            Ok(format!("较上年{}{d}{unit}", if up { "增加" } else { "减少" }))
        }
        other => Err(format!("yoy 的写法「{other}」不对：可用 diff（较上年增加3户）或 pct（同比增长12.5%）")),
    }
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
        env.add_function("money", move |key: String, spec: Option<String>| -> Result<String, Error> {
            let f = figure(&d, &key)?;
            let text = money_text(f.value, spec.as_deref().unwrap_or("wan")).map_err(err)?;
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
        // A clause stands only when one of its figures is not zero; a clause left out is noted
        // so that `report` can say which sentences it did not write.
        let d = data.clone();
        env.add_function("has", move |keys: minijinja::value::Rest<String>| -> Result<bool, Error> {
            let mut any = false;
            for k in keys.iter() {
                any |= figure(&d, k)?.value != 0;
            }
            if !any {
                d.said().omitted.extend(keys.iter().cloned());
            }
            Ok(any)
        });
        // A claim of 无 (无涉军信访问题): true when the figure is zero, noted so that a 无 resting
        // on a ledger with no record in the period is warned about.
        let d = data.clone();
        env.add_function("nothing", move |key: String| -> Result<bool, Error> {
            let zero = figure(&d, &key)?.value == 0;
            if zero {
                d.said().denied.insert(key);
            }
            Ok(zero)
        });
        let d = data.clone();
        env.add_function("previous", move |key: String| -> Result<i64, Error> {
            d.said().compared.insert(key.clone());
            Ok(previous(&d, &key)?.value)
        });
        let d = data.clone();
        env.add_function("yoy", move |key: String, style: Option<String>, spec: Option<String>| -> Result<String, Error> {
            let (now, before) = (figure(&d, &key)?, previous(&d, &key)?);
            // Compared with a year whose ledger held nothing, the change would be the whole
            // figure: not written.
            if d.previous.contains_key(&key) && !d.previous_kept.contains(&key) {
                return Ok(String::new());
            }
            d.said().compared.insert(key.clone());
            let text = year_on_year(now.value, before.value, now.scale, &now.unit, style.as_deref().unwrap_or("diff"), spec.as_deref().unwrap_or("exact")).map_err(err)?;
            Ok(if linked { format!("[{text}](/explain/{key}?{})", d.link_query) } else { text })
        });
    }
    {
        env.add_function("fmt", move |value: i64, spec: String| -> Result<String, Error> { format_value(value, &spec).map_err(err) });
        let d = data.clone();
        env.add_function("records", move |key: String, kwargs: Kwargs| -> Result<JValue, Error> { list_records(&d, &key, &kwargs) });
        env.add_function("zh_date", move |value: String, spec: String| -> Result<String, Error> { zh_date(&value, &spec).map_err(err) });
        env.add_function("zh_list", move |values: Vec<String>, kwargs: Kwargs| -> Result<String, Error> {
            let split: Option<String> = kwargs.get("split")?;
            let last: Option<String> = kwargs.get("last")?;
            kwargs.assert_all_used()?;
            Ok(zh_list(&values, split.as_deref(), last.as_deref().unwrap_or("和")))
        });
        let d = data.clone();
        env.add_function("link", move |key: String, text: String| -> Result<String, Error> {
            figure(&d, &key)?;
            Ok(if linked { format!("[{text}](/explain/{key}?{})", d.link_query) } else { text })
        });
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
                    for v in d2.village_values(k) {
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
        ("level".to_string(), JValue::from(data.words.level.clone())),
        ("issuer".to_string(), JValue::from(data.words.issuer.clone())),
        ("opening".to_string(), JValue::from(data.words.opening.clone())),
        ("names".to_string(), JValue::from_serialize(&data.names)),
        ("compare".to_string(), JValue::from(data.compare)),
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_summary_opens_for_its_period() {
        use taizhang_domain::period::parse_period;
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        let at = |p: &str, as_of| opening(&parse_period(p).unwrap_or_else(|e| panic!("{p}: {e}")), as_of);
        assert_eq!(at("2023", day(2023, 12, 31)), "过去的一年");
        assert_eq!(at("2023", day(2023, 6, 30)), "今年以来");
        assert_eq!(at("2023Q4", day(2023, 12, 31)), "本季度");
        assert_eq!(at("2023-11", day(2023, 11, 30)), "本月");
        assert_eq!(at("2023-01-01..2023-06-30", day(2023, 6, 30)), "上半年");
        assert_eq!(at("2023-02-10..2023-03-05", day(2023, 3, 5)), "这一时期");
    }

    use super::*;

    #[test]
    fn every_built_in_template_and_form_has_a_chinese_name() {
        for f in builtin_templates().into_iter().chain(crate::form::builtin_forms()) {
            assert!(builtin_name(&f).is_some(), "{f} has no name in catalogue/templates/names.toml");
        }
        assert_eq!(named(vec!["annual_summary".into()]), vec![("annual_summary".to_string(), "年度工作总结".to_string())]);
    }

    #[test]
    fn money_is_never_written_as_zero_wan() {
        assert_eq!(money_text(200_183_000, "wan:1").as_deref(), Ok("200.2万元"));
        assert_eq!(money_text(1_000_000, "wan:0").as_deref(), Ok("1万元"));
        assert_eq!(money_text(999_999, "wan:1").as_deref(), Ok("9999.99元"));
        assert_eq!(money_text(35_000, "wan:1").as_deref(), Ok("350元"));
        assert_eq!(money_text(1_628_338, "wan").as_deref(), Ok("1.63万元"));
    }

    #[test]
    fn the_change_on_the_year_before_is_written_as_people_write_it() {
        assert_eq!(year_on_year(112, 100, 0, "户", "pct", "exact").as_deref(), Ok("同比增长12.0%"));
        assert_eq!(year_on_year(97, 100, 0, "户", "diff", "exact").as_deref(), Ok("较上年减少3户"));
        assert_eq!(year_on_year(1_125, 1_000, 0, "人", "pct", "exact").as_deref(), Ok("同比增长12.5%"));
        assert_eq!(year_on_year(5, 0, 0, "户", "pct", "exact").as_deref(), Ok("较上年增加5户"), "from nothing no percentage");
        assert_eq!(year_on_year(7, 7, 0, "户", "pct", "exact").as_deref(), Ok("与上年持平"));
        assert_eq!(year_on_year(3_000_000, 1_800_000, 0, "元", "diff", "wan:1").as_deref(), Ok("较上年增加1.2万元"));
        assert_eq!(year_on_year(2, 3, 0, "户", "pct", "exact").as_deref(), Ok("同比下降33.3%"));
        assert!(year_on_year(2, 3, 0, "户", "ratio", "exact").is_err());
    }

    #[test]
    fn dates_are_written_the_chinese_way() {
        assert_eq!(zh_date("2023-02-01", "年月").as_deref(), Ok("2023年2月"));
        assert_eq!(zh_date("2023-11-26", "月日").as_deref(), Ok("11月26日"));
        assert_eq!(zh_date("2023-11-26", "年月日").as_deref(), Ok("2023年11月26日"));
        assert_eq!(zh_date("2023-07", "年月").as_deref(), Ok("2023年7月"));
        assert_eq!(zh_date("2023-07", "月").as_deref(), Ok("7月"));
        assert!(zh_date("2023-07", "月日").is_err(), "a month has no day");
        assert!(zh_date("七月", "月").is_err());
        assert!(zh_date("2023-11-26", "日月").is_err());
    }

    #[test]
    fn names_are_listed_once_each_in_order() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(zh_list(&v(&["深圳", "长沙、株洲"]), Some("、"), "和"), "深圳、长沙和株洲");
        assert_eq!(zh_list(&v(&["深圳", "深圳、长沙"]), Some("、"), "和"), "深圳和长沙");
        assert_eq!(zh_list(&v(&["甲、乙"]), None, "和"), "甲、乙");
        assert_eq!(zh_list(&v(&["甲", "乙", "丙"]), None, "、"), "甲、乙、丙");
        assert_eq!(zh_list(&v(&["", "甲"]), None, "和"), "甲");
        assert_eq!(zh_list(&[], None, "和"), "");
    }

    fn data_with_listing() -> ReportData {
        let row = |id: i64, day: &str, title: &str| {
            BTreeMap::from([
                ("id".to_string(), serde_json::Value::from(id)),
                ("place".to_string(), serde_json::Value::from("北斗溪镇")),
                ("occurred_on".to_string(), serde_json::Value::from(day)),
                ("title".to_string(), serde_json::Value::from(title)),
                ("remarks".to_string(), serde_json::Value::Null),
            ])
        };
        let fig = Figure {
            key: "ev".into(),
            name: "大事".into(),
            unit: "项".into(),
            ledger: "events".into(),
            ledger_name: "大事记".into(),
            measure: String::new(),
            scale: 0,
            value: 2,
            target: None,
            filters: Vec::new(),
            sql: String::new(),
        };
        let mut plain = fig.clone();
        plain.key = "plain".into();
        ReportData {
            year: 2023,
            period: "2023年".into(),
            place: "北斗溪镇".into(),
            link_query: "year=2023".into(),
            figures: BTreeMap::from([("ev".to_string(), fig), ("plain".to_string(), plain)]),
            villages: BTreeMap::new(),
            village_list: Vec::new(),
            words: PlaceWords::default(),
            demand: None,
            listings: BTreeMap::from([(
                "ev".to_string(),
                Listing {
                    total: 2,
                    date_fields: vec!["occurred_on".into()],
                    month_fields: Vec::new(),
                    rows: vec![row(1, "2023-11-26", "封顶"), row(2, "2023-02-01", "表彰")],
                },
            )]),
            ..Default::default()
        }
    }

    #[test]
    fn records_are_listed_with_chosen_fields_order_and_date_format() {
        let d = data_with_listing();
        let out = |src: &str| render(src, &d);
        assert_eq!(
            out(r#"{% for r in records("ev", fields=["occurred_on", "title"], order="occurred_on", date="月日") %}{{ r.occurred_on }}{{ r.title }};{% endfor %}"#).expect("render"),
            "2月1日表彰;11月26日封顶;"
        );
        assert_eq!(
            out(r#"{{ records("ev", order="-occurred_on", limit=1)[0].title }}|{{ records("ev")[0].occurred_on }}|{{ records("ev")[0].remarks is none }}"#).expect("render"),
            "封顶|2023-11-26|true"
        );
        assert_eq!(out(r#"{{ link("ev", "两项") }}"#).expect("render"), "[两项](/explain/ev?year=2023)");
        let e = out(r#"{{ records("plain") }}"#).expect_err("not listed").to_string();
        assert!(e.contains("list = true"), "{e}");
        let e = out(r#"{{ records("ev", fields=["nope"]) }}"#).expect_err("no such field").to_string();
        assert!(e.contains("nope"), "{e}");
        assert!(out(r#"{{ records("ev", sort="title") }}"#).is_err(), "unknown argument");
    }
}

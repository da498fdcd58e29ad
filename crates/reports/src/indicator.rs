//! Indicator definitions (指标定义): data, read from `catalogue/indicators/*.toml`.
//!
//! ```toml
//! [[indicator]]
//! key = "dibao_rural_households"
//! name = "农村低保户数"
//! ledger = "dibao"
//! measure = "count"            # count | count_distinct_subject | count_distinct_households
//!                              # | count_distinct:<field> | count_villages | sum:<field> | avg:<field>
//!                              # | consecutive_years:<year field>
//! time = "as_of"               # during | as_of | next_year | none
//! unit = "户"
//! filters = [{ field = "area_type", eq = "农村" }, { state_not_in = ["planning"] }]
//! list = false                 # true: reports may list its records (template function `records`)
//! aliases = ["低保户"]          # other wordings a draft uses for it (`taizhang verify`)
//! better = "lower"             # higher (default) | lower: a smaller figure is better (open
//!                              # hazards), so towns are ranked lowest first (各镇排名)
//! ```
//!
//! `consecutive_years:<field>` is the number of consecutive years (values of a year field)
//! ending at the latest value among the records, e.g. 连续两年被评为优秀; with a filter
//! `{ field, on_or_before = "period_end" }` the latest is at most the report year.

use serde::{Deserialize, Serialize};
use taizhang_domain::ledger::{is_valid_key, FieldKind, LedgerDef};

use crate::error::{ReportError, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    #[serde(default)]
    indicator: Vec<IndicatorDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDef {
    pub key: String,
    pub name: String,
    pub ledger: String,
    /// As written in the file; see [`Measure::parse`].
    pub measure: String,
    #[serde(default)]
    pub time: TimeMode,
    /// The system column `concerns_year` (empty: the year of the time field) relative to the
    /// report year.
    #[serde(default)]
    pub concerns_year: Option<RelYear>,
    /// With `during` / `next_year`: this date, month or year field (instead of the ledger's time
    /// field) must lie in the period, e.g. `completed_on`.
    #[serde(default)]
    pub period_field: Option<String>,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Section of the summary (一、深化理论学习 …), for listings.
    #[serde(default)]
    pub section: String,
    /// Row numbers of docs/seed-coverage.md this indicator serves.
    #[serde(default)]
    pub seed: Vec<u32>,
    #[serde(default)]
    pub note: String,
    /// Reports may list the records behind the figure (`records("key", …)` in templates): their
    /// fields are fetched with the figure.
    #[serde(default)]
    pub list: bool,
    /// The indicator this one is a part of (未消除 and 已消除 of 监测对象): the parts of a whole
    /// add up to it at every time point and place, which a test checks on the demo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_of: Option<String>,
    /// Other wordings of this figure in a hand-written draft (校核, `taizhang verify`): the
    /// phrase a writer puts before the number ("农村公路" before "4条"). Data, so that a clerk
    /// teaches the checker a new wording without touching code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Which way is better when places are compared (the county's dashboard ranks its towns
    /// by it): higher unless the file says `better = "lower"` — open hazards, unresolved
    /// disputes, petitions, where a town with fewer is doing better.
    #[serde(default, skip_serializing_if = "Better::is_higher")]
    pub better: Better,
}

/// Which way a figure is better (`better` in an indicator file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// The more the better (work done, people served): ranked highest first.
    #[default]
    Higher,
    /// The fewer the better (open hazards, unresolved disputes): ranked lowest first.
    Lower,
}

impl Better {
    pub fn is_higher(&self) -> bool {
        *self == Better::Higher
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeMode {
    /// The report period (event: time field in P; standing: in force some day of P).
    #[default]
    During,
    /// Standing ledgers: in force on the as-of day (default: the end of the period).
    AsOf,
    /// The year after the report period.
    NextYear,
    /// No time condition (e.g. only `concerns_year`).
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelYear {
    ThisYear,
    NextYear,
}

/// One condition. Exactly one of the forms is used:
/// `{ field, eq }`, `{ field, ne }`, `{ field, in = [...] }`, `{ field, not_in = [...] }`,
/// `{ field, null = true }`, `{ field, not_null = true }`, `{ field, is_true = true }`,
/// `{ field, contains = "x" }` (multi-select), `{ field, on_or_before = "period_end" }`,
/// `{ field, blank_or_after = "period_end" }` (empty, or later than the time point: what was
/// not yet so then, e.g. a case eliminated after it),
/// `{ field, months = [7, 12] }` (date or month field: its month of the year lies in 7 … 12),
/// `{ state_in = [...] }`, `{ state_not_in = [...] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eq: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ne: Option<toml::Value>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub within: Option<Vec<toml::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in: Option<Vec<toml::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_true: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_or_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blank_or_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<[u32; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_not_in: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    Count,
    DistinctSubject,
    DistinctHouseholds,
    DistinctField(String),
    Villages,
    Sum(String),
    Avg(String),
    ConsecutiveYears(String),
}

impl Measure {
    pub fn parse(s: &str) -> Option<Measure> {
        let s = s.trim();
        Some(match s {
            "count" => Measure::Count,
            "count_distinct_subject" => Measure::DistinctSubject,
            "count_distinct_households" => Measure::DistinctHouseholds,
            "count_villages" => Measure::Villages,
            _ => match s.split_once(':') {
                Some(("sum", f)) => Measure::Sum(f.trim().to_string()),
                Some(("avg", f)) => Measure::Avg(f.trim().to_string()),
                Some(("count_distinct", f)) => Measure::DistinctField(f.trim().to_string()),
                Some(("consecutive_years", f)) => Measure::ConsecutiveYears(f.trim().to_string()),
                _ => return None,
            },
        })
    }

    /// Decimal places of the value (a sum or average of a decimal field), else 0.
    pub fn scale(&self, def: &LedgerDef) -> u8 {
        match self {
            Measure::Sum(f) | Measure::Avg(f) => def.field(f).filter(|f| f.kind == FieldKind::Decimal).map_or(0, |f| f.scale),
            _ => 0,
        }
    }

    pub fn label(&self, def: &LedgerDef) -> String {
        let lab = |k: &str| def.field(k).map_or(k.to_string(), |f| f.label.clone());
        match self {
            Measure::Count => "记录条数".into(),
            Measure::DistinctSubject => format!("{}数（去重）", def.subject.label()),
            Measure::DistinctHouseholds => "户数（按人员所在户去重，无户者一人算一户）".into(),
            Measure::DistinctField(f) => format!("{}（去重）个数", lab(f)),
            Measure::Villages => "涉及村数".into(),
            Measure::Sum(f) => format!("{}合计", lab(f)),
            Measure::Avg(f) => format!("{}平均", lab(f)),
            Measure::ConsecutiveYears(f) => format!("截至最近{}的连续年数", lab(f)),
        }
    }
}

impl IndicatorDef {
    pub fn measure(&self) -> Result<Measure> {
        Measure::parse(&self.measure)
            .ok_or_else(|| ReportError::Definition(format!("指标「{}」的 measure「{}」无法识别", self.key, self.measure)))
    }

    /// Checks the definition against its ledger: fields exist and have a fitting type.
    pub fn check(&self, ledger: &LedgerDef) -> Result<()> {
        let bad = |m: String| Err(ReportError::Definition(format!("指标「{}」：{m}", self.key)));
        if !is_valid_key(&self.key) {
            return bad("键只能由小写英文字母、数字和下划线组成".into());
        }
        if self.name.trim().is_empty() {
            return bad("缺少中文名称 name".into());
        }
        let numeric = [FieldKind::Integer, FieldKind::Decimal, FieldKind::Money];
        match self.measure()? {
            Measure::Sum(f) | Measure::Avg(f) => match ledger.field(&f) {
                Some(fd) if numeric.contains(&fd.kind) => {}
                Some(_) => return bad(format!("字段「{f}」不是数值，不能求和或平均")),
                None => return bad(format!("台账「{}」没有字段「{f}」", ledger.key)),
            },
            Measure::ConsecutiveYears(f) => match ledger.field(&f) {
                Some(fd) if matches!(fd.kind, FieldKind::Year | FieldKind::Integer) => {}
                Some(_) => return bad(format!("字段「{f}」不是年度，不能数连续年数")),
                None => return bad(format!("台账「{}」没有字段「{f}」", ledger.key)),
            },
            Measure::DistinctField(f) if ledger.field(&f).is_none() => {
                return bad(format!("台账「{}」没有字段「{f}」", ledger.key))
            }
            Measure::DistinctHouseholds
                if !matches!(ledger.subject, taizhang_domain::ledger::SubjectKind::Person | taizhang_domain::ledger::SubjectKind::Household) =>
            {
                return bad("按户去重只适用于以人员或户为记录对象的台账".into())
            }
            _ => {}
        }
        if self.time == TimeMode::AsOf && !matches!(ledger.time, taizhang_domain::ledger::TimeModel::Standing { .. }) {
            return bad(format!("「{}」是按事件记的台账，不能按时点统计", ledger.name));
        }
        if let Some(pf) = &self.period_field {
            match ledger.field(pf).map(|f| f.kind) {
                Some(FieldKind::Date | FieldKind::Month | FieldKind::Year) => {}
                _ => return bad(format!("period_field「{pf}」应为台账中的日期、月份或年度字段")),
            }
            if !matches!(self.time, TimeMode::During | TimeMode::NextYear) {
                return bad("period_field 只能与 time = during 或 next_year 一起用".into());
            }
        }
        if self.concerns_year.is_some() && !ledger.concerns_year {
            return bad(format!("「{}」不记所属年度", ledger.name));
        }
        for f in &self.filters {
            let forms = [
                f.eq.is_some(),
                f.ne.is_some(),
                f.within.is_some(),
                f.not_in.is_some(),
                f.null == Some(true),
                f.not_null == Some(true),
                f.is_true == Some(true),
                f.contains.is_some(),
                f.on_or_before.is_some(),
                f.blank_or_after.is_some(),
                f.months.is_some(),
                f.state_in.is_some(),
                f.state_not_in.is_some(),
            ];
            if forms.iter().filter(|b| **b).count() != 1 {
                return bad(format!("每个条件只能写一种比较：{f:?}"));
            }
            let on_state = f.state_in.is_some() || f.state_not_in.is_some();
            match (&f.field, on_state) {
                (None, false) => return bad("条件缺少 field".into()),
                (Some(_), true) => return bad("state_in / state_not_in 不写 field".into()),
                (Some(k), false) if ledger.field(k).is_none() => {
                    return bad(format!("台账「{}」没有字段「{k}」", ledger.key))
                }
                _ => {}
            }
            for (form, when) in [("on_or_before", &f.on_or_before), ("blank_or_after", &f.blank_or_after)] {
                if when.as_ref().is_some_and(|w| w != "period_end") {
                    return bad(format!("{form} 目前只能是 \"period_end\""));
                }
            }
            if let (Some([a, b]), Some(k)) = (f.months, &f.field) {
                if !(1..=12).contains(&a) || !(a..=12).contains(&b) {
                    return bad(format!("months = [{a}, {b}] 应为 1 至 12 月中的起止月份"));
                }
                if !matches!(ledger.field(k).map(|f| f.kind), Some(FieldKind::Date | FieldKind::Month)) {
                    return bad(format!("months 只能用于日期或月份字段，「{k}」不是"));
                }
            }
            if on_state {
                let Some(wf) = &ledger.workflow else { return bad(format!("「{}」没有流程，不能按状态筛选", ledger.name)) };
                let states = f.state_in.iter().chain(f.state_not_in.iter()).flatten();
                for s in states {
                    let known = wf.states.iter().any(|st| st.key == *s);
                    if !known {
                        return bad(format!("「{}」的流程中没有状态「{s}」", ledger.name));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Parses one indicator file.
pub fn parse_file(text: &str) -> Result<Vec<IndicatorDef>> {
    match toml::from_str::<IndicatorFile>(text) {
        Ok(f) => Ok(f.indicator),
        Err(e) => {
            // Only a file that fails is read again, for the Chinese message naming the indicator.
            refuse_unknown_better(text)?;
            Err(ReportError::Definition(e.to_string()))
        }
    }
}

/// A `better` other than "higher" or "lower", refused in Chinese naming its indicator before
/// serde's English message (which names neither) could be shown.
fn refuse_unknown_better(text: &str) -> Result<()> {
    let Ok(file) = toml::from_str::<toml::Table>(text) else { return Ok(()) };
    let Some(toml::Value::Array(inds)) = file.get("indicator") else { return Ok(()) };
    for ind in inds {
        let Some(better) = ind.get("better") else { continue };
        if matches!(better.as_str(), Some("higher" | "lower")) {
            continue;
        }
        let key = ind.get("key").and_then(toml::Value::as_str).unwrap_or("（未写 key）");
        let name = ind.get("name").and_then(toml::Value::as_str).map(|n| format!("（{n}）")).unwrap_or_default();
        return Err(ReportError::Definition(format!(
            "指标「{key}」{name}的 better = {better} 无法识别：只能是 \"higher\"（越高越好，默认）或 \"lower\"（越低越好）"
        )));
    }
    Ok(())
}

/// Every built-in indicator, in file order, keys unique.
pub fn builtin() -> Result<Vec<IndicatorDef>> {
    let mut all: Vec<IndicatorDef> = Vec::new();
    for (path, text) in taizhang_domain::catalogue::text_files("indicators/").filter(|(p, _)| p.ends_with(".toml")) {
        let defs = parse_file(text).map_err(|e| ReportError::Definition(format!("{path}：{e}")))?;
        for d in defs {
            if all.iter().any(|a| a.key == d.key) {
                return Err(ReportError::Definition(format!("{path}：指标键「{}」重复", d.key)));
            }
            all.push(d);
        }
    }
    Ok(all)
}

/// Checks every indicator against the ledger definitions.
pub fn check_all(defs: &[IndicatorDef], ledgers: &[LedgerDef]) -> Result<()> {
    for d in defs {
        let l = ledgers
            .iter()
            .find(|l| l.key == d.ledger)
            .ok_or_else(|| ReportError::Definition(format!("指标「{}」引用了不存在的台账「{}」", d.key, d.ledger)))?;
        d.check(l)?;
        // A part counts what its whole counts, of the same ledger in the same unit.
        if let Some(w) = &d.part_of {
            let whole = defs.iter().find(|x| &x.key == w).ok_or_else(|| ReportError::Definition(format!("指标「{}」的 part_of「{w}」不是指标", d.key)))?;
            if whole.ledger != d.ledger || whole.unit != d.unit || whole.part_of.is_some() {
                return Err(ReportError::Definition(format!("指标「{}」是「{w}」的一部分，应同一台账、同一单位，且「{w}」本身不是部分", d.key)));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessments() -> LedgerDef {
        taizhang_domain::catalogue::builtin_ledgers()
            .expect("ledgers")
            .into_iter()
            .find(|l| l.key == "county_assessments")
            .expect("county_assessments")
    }

    #[test]
    fn a_part_names_a_whole_of_its_ledger_and_unit() {
        let l = assessments();
        let mut whole = one("measure = \"count\"\nunit = \"次\"");
        whole.key = "whole".into();
        let mut part = one("measure = \"count\"\nunit = \"次\"\npart_of = \"whole\"");
        part.key = "part".into();
        assert!(check_all(&[whole.clone(), part.clone()], std::slice::from_ref(&l)).is_ok());
        let mut other_unit = part.clone();
        other_unit.unit = "人".into();
        assert!(check_all(&[whole.clone(), other_unit], std::slice::from_ref(&l)).is_err());
        let mut nowhere = part;
        nowhere.part_of = Some("missing".into());
        assert!(check_all(&[whole, nowhere], std::slice::from_ref(&l)).expect_err("a part of nothing").to_string().contains("不是指标"));
    }

    fn one(extra: &str) -> IndicatorDef {
        let text = format!("[[indicator]]\nkey = \"k\"\nname = \"名称\"\nledger = \"county_assessments\"\n{extra}\n");
        parse_file(&text).expect("parses").remove(0)
    }

    #[test]
    fn consecutive_years_and_month_ranges_are_checked_against_the_ledger() {
        let l = assessments();
        one("measure = \"consecutive_years:assessed_year\"\ntime = \"none\"").check(&l).expect("a year field");
        assert_eq!(Measure::parse("consecutive_years: assessed_year"), Some(Measure::ConsecutiveYears("assessed_year".into())));
        assert!(one("measure = \"consecutive_years:grade\"").check(&l).is_err(), "an enum is no year");
        assert!(one("measure = \"consecutive_years:nope\"").check(&l).is_err());
        one("measure = \"count\"\nfilters = [{ field = \"period_month\", months = [7, 12] }]").check(&l).expect("a month field");
        one("measure = \"count\"\nfilters = [{ field = \"notified_on\", months = [1, 2] }]").check(&l).expect("a date field");
        for bad in ["[0, 2]", "[7, 13]", "[8, 7]"] {
            let d = one(&format!("measure = \"count\"\nfilters = [{{ field = \"period_month\", months = {bad} }}]"));
            assert!(d.check(&l).is_err(), "months = {bad}");
        }
        let d = one("measure = \"count\"\nfilters = [{ field = \"assessed_year\", months = [1, 2] }]");
        assert!(d.check(&l).is_err(), "a year field has no months");
        assert!(one("measure = \"count\"\nlist = true").list);
    }

    #[test]
    fn better_is_higher_unless_the_file_says_lower_and_nothing_else() {
        assert_eq!(one("measure = \"count\"").better, Better::Higher);
        assert_eq!(one("measure = \"count\"\nbetter = \"higher\"").better, Better::Higher);
        assert_eq!(one("measure = \"count\"\nbetter = \"lower\"").better, Better::Lower);
        for bad in ["\"Lower\"", "\"低\"", "\"lowest\"", "1", "true"] {
            let text = format!("[[indicator]]\nkey = \"k\"\nname = \"名称\"\nledger = \"county_assessments\"\nmeasure = \"count\"\nbetter = {bad}\n");
            let e = parse_file(&text).expect_err(bad).to_string();
            assert!(e.contains("指标「k」（名称）") && e.contains("better") && e.contains("\"lower\""), "{bad}: {e}");
        }
    }

    /// The built-in indicators a clerk reads "the fewer the better": what is still open or
    /// unresolved, and petitions. Counts of work done stay higher-is-better.
    #[test]
    fn the_catalogue_marks_what_is_better_lower() {
        let all = builtin().expect("the catalogue loads");
        let mut lower: Vec<&str> = all.iter().filter(|i| i.better == Better::Lower).map(|i| i.key.as_str()).collect();
        lower.sort_unstable();
        assert_eq!(
            lower,
            [
                "disputes_found_mediating",
                "hazards_found_unrectified",
                "hazards_open",
                "monitoring_risk_households",
                "monitoring_risk_people",
                "petitions_military",
                "petitions_military_beyond_town",
            ]
        );
        for done in ["hazards_found", "hazards_gas_rectified", "disputes_resolved", "disputes_found_resolved", "monitoring_eliminated_households"] {
            assert!(all.iter().any(|i| i.key == done && i.better == Better::Higher), "{done}");
        }
    }
}

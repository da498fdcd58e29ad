//! The demo dataset's description: data in `catalogue/demo/<name>/*.toml`, not Rust.
//!
//! `00_town.toml` describes the town (villages, groups, households, population, cadres,
//! organisations); every other file holds `[[batch]]`es of ledger records, registry events
//! (`[[death]]`, `[[duplicate_person]]`) and the findings the data checks must report
//! (`[[expect]]`). A batch says which ledger, how many records, which pool its subjects come
//! from, fixed values, values cycled or spread over the records, and totals that the records'
//! values add up to exactly.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{DemoError, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TownFile {
    /// Seed of the generator; the same seed gives the same town.
    pub seed: u64,
    /// The day the records were entered (validation's "today").
    pub entered_on: String,
    pub town: TownInfo,
    pub population: Population,
    #[serde(rename = "village")]
    pub villages: Vec<VillageSpec>,
    #[serde(default, rename = "cadres")]
    pub cadres: Vec<CadreGroup>,
    #[serde(default, rename = "organisations")]
    pub organisations: Vec<OrgGroup>,
    /// Settings the town's rules and checks read (the year's monitoring line …), as a clerk
    /// would type them on the settings page.
    #[serde(default, rename = "setting")]
    pub settings: Vec<SettingSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingSpec {
    /// The setting's key in `catalogue/settings/`.
    pub key: String,
    /// For a setting kept per year.
    #[serde(default)]
    pub year: Option<i32>,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TownInfo {
    pub name: String,
    pub code: String,
    pub county: String,
    pub county_code: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Members per household, inclusive range.
    pub members: [u32; 2],
    /// Birth years of heads of household, inclusive range.
    pub head_born: [i32; 2],
    /// Region code for people born before `new_region_from` (433024, the old 溆浦县 code).
    pub old_region: String,
    /// Region code for people born in or after `new_region_from` (431224).
    pub new_region: String,
    pub new_region_from: i32,
    pub surnames: Vec<String>,
    /// Characters given names are made of (one or two of them).
    pub given_chars: String,
    /// Ethnicities with their weight in percent.
    pub ethnicities: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VillageSpec {
    pub name: String,
    pub code: String,
    pub groups: u32,
    pub households: u32,
    #[serde(default)]
    pub attributes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CadreGroup {
    /// town | village | resident
    pub kind: String,
    /// For town cadres: how many; for village cadres and residents: how many per village.
    pub count: usize,
    pub post: String,
    #[serde(default)]
    pub unit: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgGroup {
    /// Name of the pool batches take these organisations from.
    pub pool: String,
    /// 单位类型 (企业, 经营网点 …).
    pub kind: String,
    pub count: usize,
    /// `{village}` and `{n}` are replaced.
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchFile {
    #[serde(default)]
    pub batch: Vec<Batch>,
    #[serde(default)]
    pub death: Vec<Death>,
    #[serde(default)]
    pub duplicate_person: Vec<DuplicatePerson>,
    #[serde(default)]
    pub expect: Vec<Expect>,
}

/// Where a reference or subject comes from: `pool[offset + i / repeat]` (or with `modulo`,
/// `pool[offset + i % modulo]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefSpec {
    pub pool: String,
    #[serde(default)]
    pub offset: usize,
    #[serde(default)]
    pub modulo: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub ledger: String,
    pub count: usize,
    /// What the batch stands for (a comment kept with the data).
    #[serde(default)]
    pub note: String,
    /// Pool of subjects: households, heads, members2, persons, cadres, villages, town, or an
    /// organisation pool.
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub offset: usize,
    /// Records per subject (e.g. 12 monthly payments).
    #[serde(default = "one")]
    pub repeat: usize,
    /// Ledgers without subject: `villages` (round robin), `town`, or a village name.
    #[serde(default)]
    pub place: Option<String>,
    /// With `place = "villages"`: only the first N villages.
    #[serde(default)]
    pub villages: Option<usize>,
    #[serde(default)]
    pub values: toml::Table,
    /// Field → values taken in turn (`list[i % len]`).
    #[serde(default)]
    pub cycle: BTreeMap<String, Vec<toml::Value>>,
    /// Date field → [first, last]: spread evenly over the records.
    #[serde(default)]
    pub spread: BTreeMap<String, [String; 2]>,
    /// Month field → first month; record i gets first + (i % repeat) months.
    #[serde(default)]
    pub month: BTreeMap<String, String>,
    /// Integer fields set to the record's number within the batch (1, 2, …).
    #[serde(default)]
    pub seq: Vec<String>,
    /// Numeric field → exact total the records' values add up to (storage units: 分, or the
    /// field's scale).
    #[serde(default)]
    pub total: BTreeMap<String, i64>,
    /// Numeric field → [low, high] inclusive, drawn per record.
    #[serde(default)]
    pub range: BTreeMap<String, [i64; 2]>,
    /// Reference field → where the referenced ids come from.
    #[serde(default)]
    pub refs: BTreeMap<String, RefSpec>,
    /// Workflow state the records end in (set after creation, audited).
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub concerns_year: Option<i32>,
    /// The data check this batch's records are planted for.
    #[serde(default)]
    pub anomaly: Option<String>,
}

fn one() -> usize {
    1
}

/// A person of a pool dies (registry status 死亡).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Death {
    pub pool: String,
    pub index: usize,
    pub date: String,
    #[serde(default)]
    pub anomaly: Option<String>,
}

/// A second registration of a person: same name and birth date, another ID number.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicatePerson {
    pub pool: String,
    pub index: usize,
    /// Village the second registration is placed in.
    pub village: String,
    #[serde(default)]
    pub anomaly: Option<String>,
}

/// How many findings a data check must report on the demo data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub check: String,
    pub findings: usize,
    #[serde(default)]
    pub note: String,
}

/// A whole demo dataset.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    pub name: String,
    pub town: TownFile,
    /// (file name, batches) in file order.
    pub files: Vec<(String, BatchFile)>,
}

impl DemoSpec {
    /// The embedded dataset `catalogue/demo/<name>/`.
    pub fn builtin(name: &str) -> Result<DemoSpec> {
        let prefix = format!("demo/{name}/");
        let files: Vec<(&str, &str)> = taizhang_domain::catalogue::text_files(&prefix)
            .filter(|(p, _)| p.ends_with(".toml"))
            .collect();
        if files.is_empty() {
            return Err(DemoError::Spec(format!(
                "没有演示数据「{name}」（catalogue/{prefix} 下没有 .toml 文件）"
            )));
        }
        Self::parse(name, &files)
    }

    /// Parses the files of a dataset; the one ending in `00_town.toml` is the town.
    pub fn parse(name: &str, files: &[(&str, &str)]) -> Result<DemoSpec> {
        let mut town = None;
        let mut batches = Vec::new();
        for (path, text) in files {
            if path.ends_with("00_town.toml") {
                let t: TownFile =
                    toml::from_str(text).map_err(|e| DemoError::Spec(format!("{path}：{e}")))?;
                town = Some(t);
            } else {
                let b: BatchFile =
                    toml::from_str(text).map_err(|e| DemoError::Spec(format!("{path}：{e}")))?;
                batches.push((path.to_string(), b));
            }
        }
        let town =
            town.ok_or_else(|| DemoError::Spec(format!("演示数据「{name}」缺少 00_town.toml")))?;
        Ok(DemoSpec {
            name: name.to_string(),
            town,
            files: batches,
        })
    }

    pub fn batches(&self) -> impl Iterator<Item = (&str, &Batch)> {
        self.files
            .iter()
            .flat_map(|(p, f)| f.batch.iter().map(move |b| (p.as_str(), b)))
    }

    /// Check key → number of findings expected.
    pub fn expected_findings(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for (_, f) in &self.files {
            for e in &f.expect {
                *out.entry(e.check.clone()).or_insert(0) += e.findings;
            }
        }
        out
    }
}

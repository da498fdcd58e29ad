//! `--scale county`: 25 towns of one county for benchmarks — the full 北斗溪镇 and 24 towns
//! generated from the same description, scaled (4–6 times the households and records) and
//! renamed, without the planted anomalies. About a million persons and five million records.
//!
//! `--county 2` builds a second, fictitious county (沅溪县) of the same size beside the first in
//! the same database, so that what one county's queries cost with another county present can be
//! measured (ARCHITECTURE.md, "Beyond one server"): its own place codes, ID numbers in its own
//! region code, no town copied from the first (its tenth town is 北斗溪镇's description at scale 1,
//! renamed, anomalies left out).

use std::time::{Duration, Instant};

use taizhang_storage::Db;

use crate::build::{build_with, Built, Options, PersonGen};
use crate::error::Result;
use crate::spec::DemoSpec;

/// Names of the generated towns (fictitious).
const TOWN_NAMES: [&str; 24] = [
    "东溪镇",
    "西岭镇",
    "南山镇",
    "北坪镇",
    "青石镇",
    "白沙镇",
    "黄泥镇",
    "红岩镇",
    "桃源镇",
    "梅花镇",
    "竹园镇",
    "松林镇",
    "清水镇",
    "石门镇",
    "龙口镇",
    "凤凰镇",
    "金鸡镇",
    "银杏镇",
    "长坪镇",
    "高枧镇",
    "深溪镇",
    "横岭镇",
    "马田镇",
    "牛角镇",
];

/// Names of the second county's towns (fictitious).
const TOWN_NAMES_2: [&str; 25] = [
    "上溪镇", "下坪镇", "中和镇", "前岭镇", "后山镇", "大塘镇", "小河镇", "新田镇", "老屋镇", "水口镇",
    "山背镇", "田心镇", "茶园镇", "杉木镇", "枫树镇", "柳林镇", "荷塘镇", "稻香镇", "谷坪镇", "麻阳镇",
    "鹿鸣镇", "鹤岭镇", "燕子镇", "雁池镇", "鱼泉镇",
];

/// Number of towns in the county.
pub const TOWNS: usize = 25;

/// Which of the demo's counties: 1 is 溆浦县 (with the full 北斗溪镇), 2 a fictitious second one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountyNo(pub usize);

impl CountyNo {
    /// The county's name and six-digit code.
    pub fn name_and_code(self) -> Option<(&'static str, &'static str)> {
        match self.0 {
            1 => Some(("溆浦县", "431224")),
            2 => Some(("沅溪县", "431290")),
            _ => None,
        }
    }
}

/// Position (1-based) of the full demo town among the county's towns.
const FULL_TOWN: usize = 10;

/// The description scaled by `k`: households and the records drawn from household and person
/// pools multiply (offsets too, so batches keep their relations), totals multiply with the
/// records, and the planted anomalies are left out.
pub fn scaled(spec: &DemoSpec, name: &str, code: &str, k: usize, seed: u64) -> DemoSpec {
    let mut s = spec.clone();
    s.town.seed = seed;
    s.town.town.name = name.to_string();
    s.town.town.code = code.to_string();
    for v in &mut s.town.villages {
        v.households *= u32::try_from(k).unwrap_or(1);
        v.code = format!("{}{}", &code[..9], &v.code[9..]);
        v.attributes.clear();
    }
    let grows = |pool: &Option<String>| {
        matches!(
            pool.as_deref(),
            Some("households" | "heads" | "members2" | "persons")
        )
    };
    let k64 = i64::try_from(k).unwrap_or(1);
    for (_, f) in &mut s.files {
        f.batch.retain(|b| b.anomaly.is_none());
        f.death.clear();
        f.duplicate_person.clear();
        f.expect.clear();
        for b in &mut f.batch {
            b.count *= k;
            if grows(&b.subject) {
                b.offset *= k;
            }
            for t in b.total.values_mut() {
                *t *= k64;
            }
        }
    }
    s
}

/// One town of the county as it was built, and how long it took.
pub struct TownBuilt {
    pub built: Built,
    pub took: Duration,
}

/// The description moved to the second county: its name and code, and ID numbers in its region
/// (the first county's pre-1997 region code stays the first's alone).
fn in_county(spec: &DemoSpec, name: &str, code: &str) -> DemoSpec {
    let mut s = spec.clone();
    s.town.town.county = name.to_string();
    s.town.town.county_code = code.to_string();
    s.town.population.old_region = code.to_string();
    s.town.population.new_region = code.to_string();
    s
}

/// Builds county `no`'s 25 towns into `db`, one transaction per town; `progress` sees each town
/// done. The database may already hold another county.
pub async fn build_county(
    db: &Db,
    spec: &DemoSpec,
    no: CountyNo,
    mut progress: impl FnMut(usize, &TownBuilt),
) -> Result<Vec<TownBuilt>> {
    let (county_name, county_code) = no.name_and_code().ok_or_else(|| {
        crate::error::DemoError::Spec(format!("没有第 {} 个演示县：只有 1（溆浦县）和 2（沅溪县）", no.0))
    })?;
    let first = no.0 == 1;
    let base = if first { spec.clone() } else { in_county(spec, county_name, county_code) };
    let seed = base.town.seed + if first { 0 } else { 1_000 };
    let mut gen = PersonGen::new(seed);
    let mut names = TOWN_NAMES.iter();
    let mut out = Vec::new();
    for i in 1..=TOWNS {
        let started = Instant::now();
        let town_seed = seed + u64::try_from(i).unwrap_or(0);
        let code = format!("{county_code}{:03}000", 100 + i);
        let this = if first && i == FULL_TOWN {
            base.clone()
        } else if first {
            let name = names.next().copied().unwrap_or("新镇");
            scaled(&base, name, &code, 4 + i % 3, town_seed)
        } else {
            let k = if i == FULL_TOWN { 1 } else { 4 + i % 3 };
            scaled(&base, TOWN_NAMES_2[i - 1], &code, k, town_seed)
        };
        let mut tx = db.begin().await?;
        let built = build_with(
            &mut tx,
            &this,
            &mut gen,
            Options {
                bulk_registry: true,
            },
        )
        .await?;
        tx.commit().await?;
        let t = TownBuilt {
            built,
            took: started.elapsed(),
        };
        progress(i, &t);
        out.push(t);
    }
    Ok(out)
}

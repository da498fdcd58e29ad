//! `--scale county`: 25 towns of one county for benchmarks — the full 北斗溪镇 and 24 towns
//! generated from the same description, scaled (4–6 times the households and records) and
//! renamed, without the planted anomalies. About a million persons and five million records.

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

/// Number of towns in the county.
pub const TOWNS: usize = 25;

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

/// Builds the 25 towns into `db`, one transaction per town; `progress` sees each town done.
pub async fn build_county(
    db: &Db,
    spec: &DemoSpec,
    mut progress: impl FnMut(usize, &TownBuilt),
) -> Result<Vec<TownBuilt>> {
    let mut gen = PersonGen::new(spec.town.seed);
    let mut names = TOWN_NAMES.iter();
    let mut out = Vec::new();
    for i in 1..=TOWNS {
        let started = Instant::now();
        let this = if i == FULL_TOWN {
            spec.clone()
        } else {
            let name = names.next().copied().unwrap_or("新镇");
            let code = format!("431224{:03}000", 100 + i);
            scaled(
                spec,
                name,
                &code,
                4 + i % 3,
                spec.town.seed + u64::try_from(i).unwrap_or(0),
            )
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

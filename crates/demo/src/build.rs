//! Builds a demo dataset into an open database, through the storage API (validated, scoped,
//! audited as `demo`), in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate};
use taizhang_domain::idcard::check_character;
use taizhang_domain::ledger::{FieldKind, LedgerDef, SubjectKind};
use taizhang_domain::place::{Place, PlaceLevel};
use taizhang_domain::registry::{
    validate_person, Cadre, CadreKind, Organisation, PersonInput, StatusChange, StatusChangeInput,
};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{Value, Values};
use taizhang_storage::audit;
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::person_batch::{self, Joins, NewMember};
use taizhang_storage::{batch as bulk, households, ledgers, orgs, persons, Arg, Db, Scope, Tx};

use crate::error::{DemoError, Result};
use crate::rng::{split_total, Rng};
use crate::spec::{Batch, DemoSpec, RefSpec};

/// What a build made, and where the planted anomalies are.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub town_id: i64,
    pub town_name: String,
    pub villages: usize,
    pub persons: usize,
    pub households: usize,
    pub cadres: usize,
    pub organisations: usize,
    pub records: usize,
    /// Check key → ids of the records planted for it (in the ledger of the batch).
    pub planted_records: BTreeMap<String, Vec<(String, i64)>>,
    /// Time spent on the registry (places, persons, households, cadres, organisations) and on
    /// the ledger records.
    pub registry_time: std::time::Duration,
    pub records_time: std::time::Duration,
    /// Check key → ids of the persons planted for it (deaths, second registrations).
    pub planted_persons: BTreeMap<String, Vec<i64>>,
}

fn bad(msg: String) -> DemoError {
    DemoError::Spec(msg)
}

fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| bad(format!("日期「{s}」应写成 YYYY-MM-DD")))
}

/// `YYYY-MM` plus `k` months.
fn add_months(first: &str, k: usize) -> Result<String> {
    let d =
        date(&format!("{first}-01")).map_err(|_| bad(format!("月份「{first}」应写成 YYYY-MM")))?;
    let total =
        d.year() * 12 + i32::try_from(d.month0()).unwrap_or(0) + i32::try_from(k).unwrap_or(0);
    Ok(format!(
        "{:04}-{:02}",
        total.div_euclid(12),
        total.rem_euclid(12) + 1
    ))
}

/// The registry pools batches take subjects and references from.
#[derive(Default)]
struct Pools {
    households: Vec<i64>,
    heads: Vec<i64>,
    members2: Vec<i64>,
    persons: Vec<i64>,
    cadres: Vec<i64>,
    villages: Vec<i64>,
    town: Vec<i64>,
    orgs: BTreeMap<String, Vec<i64>>,
    /// (subject kind, id) → the place it belongs to.
    places: HashMap<(u8, i64), i64>,
}

fn kind_tag(k: SubjectKind) -> u8 {
    match k {
        SubjectKind::Person => 1,
        SubjectKind::Household => 2,
        SubjectKind::Cadre => 3,
        SubjectKind::Organisation => 4,
        SubjectKind::Place => 5,
        SubjectKind::None => 0,
    }
}

impl Pools {
    fn get(&self, name: &str) -> Result<(&[i64], SubjectKind)> {
        Ok(match name {
            "households" => (&self.households, SubjectKind::Household),
            "heads" => (&self.heads, SubjectKind::Person),
            "members2" => (&self.members2, SubjectKind::Person),
            "persons" => (&self.persons, SubjectKind::Person),
            "cadres" => (&self.cadres, SubjectKind::Cadre),
            "villages" => (&self.villages, SubjectKind::Place),
            "town" => (&self.town, SubjectKind::Place),
            other => match self.orgs.get(other) {
                Some(v) => (v, SubjectKind::Organisation),
                None => return Err(bad(format!("没有名为「{other}」的对象池"))),
            },
        })
    }

    fn place_of(&self, kind: SubjectKind, id: i64) -> Result<i64> {
        if kind == SubjectKind::Place {
            return Ok(id);
        }
        self.places
            .get(&(kind_tag(kind), id))
            .copied()
            .ok_or_else(|| {
                bad(format!(
                    "{}（编号 {id}）不在演示数据的对象池中",
                    kind.label()
                ))
            })
    }

    fn pick(&self, name: &str, index: usize) -> Result<i64> {
        let (pool, _) = self.get(name)?;
        if pool.is_empty() {
            return Err(bad(format!("对象池「{name}」是空的")));
        }
        Ok(pool[index % pool.len()])
    }
}

/// The generator of names and ID numbers, shared by the towns of a county so that no ID
/// number repeats and no two persons share name and birth date by accident.
pub struct PersonGen {
    rng: Rng,
    ids: HashSet<String>,
    name_births: HashSet<(String, NaiveDate)>,
}

impl PersonGen {
    pub fn new(seed: u64) -> PersonGen {
        PersonGen {
            rng: Rng::new(seed ^ 0x5151),
            ids: HashSet::new(),
            name_births: HashSet::new(),
        }
    }
}

/// How a build writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Households and persons with multi-row inserts (`storage::bulk`) instead of one by one.
    pub bulk_registry: bool,
}

impl PersonGen {
    fn name(&mut self, spec: &crate::spec::Population, surname: Option<&str>) -> String {
        let chars: Vec<char> = spec.given_chars.chars().collect();
        let s = surname
            .map(String::from)
            .unwrap_or_else(|| spec.surnames[self.rng.below(spec.surnames.len())].clone());
        let n = if self.rng.below(10) < 7 { 2 } else { 1 };
        let given: String = (0..n).map(|_| chars[self.rng.below(chars.len())]).collect();
        format!("{s}{given}")
    }

    /// A fresh valid ID number for a birth date and sex (odd sequence digit: male).
    fn id_number(
        &mut self,
        spec: &crate::spec::Population,
        birth: NaiveDate,
        male: bool,
    ) -> String {
        let region = if birth.year() < spec.new_region_from {
            &spec.old_region
        } else {
            &spec.new_region
        };
        loop {
            let mut seq = self.rng.range(0, 999);
            if (seq % 2 == 1) != male {
                seq = (seq + 1) % 1000;
            }
            let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
            let Some(c) = check_character(&first17) else {
                continue;
            };
            let id = format!("{first17}{c}");
            if self.ids.insert(id.clone()) {
                return id;
            }
        }
    }

    fn birth(&mut self, lo_year: i32, hi_year: i32) -> NaiveDate {
        let y = i32::try_from(self.rng.range(i64::from(lo_year), i64::from(hi_year)))
            .unwrap_or(lo_year);
        let doy = self.rng.range(0, 364);
        NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or_default() + Duration::days(doy)
    }
}

async fn add_person(
    tx: &mut Tx,
    gen: &mut PersonGen,
    spec: &crate::spec::Population,
    today: NaiveDate,
    place_id: i64,
    (name, birth, male): (String, NaiveDate, bool),
    ethnicity: &str,
) -> Result<i64> {
    let id_number = gen.id_number(spec, birth, male);
    let input = PersonInput {
        name,
        id_number,
        ethnicity: ethnicity.to_string(),
        place_id,
        ..Default::default()
    };
    let np = validate_person(&input, today)?;
    let p = persons::create(tx, &Actor::Demo, &Scope::all(), &np).await?;
    Ok(p.id)
}

/// A validated new person (not yet stored).
fn new_person(
    gen: &mut PersonGen,
    spec: &crate::spec::Population,
    today: NaiveDate,
    place_id: i64,
    (name, birth, male): (String, NaiveDate, bool),
    ethnicity: &str,
) -> Result<taizhang_domain::registry::NewPerson> {
    let id_number = gen.id_number(spec, birth, male);
    let input = PersonInput {
        name,
        id_number,
        ethnicity: ethnicity.to_string(),
        place_id,
        ..Default::default()
    };
    Ok(validate_person(&input, today)?)
}

/// A person's name and birth date not used before (so no accidental duplicates).
fn fresh(
    gen: &mut PersonGen,
    spec: &crate::spec::Population,
    surname: Option<&str>,
    years: (i32, i32),
) -> (String, NaiveDate) {
    loop {
        let name = gen.name(spec, surname);
        let birth = gen.birth(years.0, years.1);
        if gen.name_births.insert((name.clone(), birth)) {
            return (name, birth);
        }
    }
}

fn ethnicity(rng: &mut Rng, spec: &crate::spec::Population) -> String {
    let total: u32 = spec.ethnicities.values().sum();
    let mut x = u32::try_from(rng.below(usize::try_from(total.max(1)).unwrap_or(1))).unwrap_or(0);
    for (k, w) in &spec.ethnicities {
        if x < *w {
            return k.clone();
        }
        x -= w;
    }
    spec.ethnicities
        .keys()
        .next()
        .cloned()
        .unwrap_or_else(|| "汉族".into())
}

/// Builds the dataset into `db` (which should be empty) in one transaction.
pub async fn build(db: &Db, spec: &DemoSpec) -> Result<Built> {
    let mut tx = db.begin().await?;
    let built = build_in(&mut tx, spec).await?;
    tx.commit().await?;
    Ok(built)
}

/// Builds the dataset inside an open transaction (households and persons in bulk; the
/// one-by-one path gives the same ids and values and is kept for small hand-written sets).
pub async fn build_in(tx: &mut Tx, spec: &DemoSpec) -> Result<Built> {
    let mut gen = PersonGen::new(spec.town.seed);
    build_with(tx, spec, &mut gen, Options { bulk_registry: true }).await
}

/// Builds the dataset inside an open transaction with a shared person generator.
pub async fn build_with(
    tx: &mut Tx,
    spec: &DemoSpec,
    gen: &mut PersonGen,
    opts: Options,
) -> Result<Built> {
    let actor = Actor::Demo;
    let scope = Scope::all();
    let t = &spec.town;
    let today = date(&t.entered_on)?;
    let mut rng = Rng::new(t.seed);
    let mut built = Built::default();
    let started = std::time::Instant::now();

    let defs = taizhang_domain::catalogue::builtin_ledgers()?;
    ledgers::install_builtin(tx, &actor, &defs).await?;
    let defs = ledgers::all(tx).await?;

    // Places: county, town, villages, groups.
    let county_code =
        taizhang_domain::place::normalize_place_code(&t.town.county_code).map_err(bad)?;
    let county = match places::by_code(tx, &county_code).await? {
        Some(c) => c,
        None => {
            places::create(
                tx,
                &actor,
                NewPlace {
                    parent_id: None,
                    level: PlaceLevel::County,
                    code: Some(&county_code),
                    name: &t.town.county,
                    attributes: vec![],
                },
            )
            .await?
        }
    };
    let town = places::create(
        tx,
        &actor,
        NewPlace {
            parent_id: Some(county.id),
            level: PlaceLevel::Town,
            code: Some(&t.town.code),
            name: &t.town.name,
            attributes: vec![],
        },
    )
    .await?;
    built.town_id = town.id;
    built.town_name = town.name.clone();
    let mut villages: Vec<Place> = Vec::new();
    let mut groups: Vec<Vec<Place>> = Vec::new();
    for v in &t.villages {
        let vp = places::create(
            tx,
            &actor,
            NewPlace {
                parent_id: Some(town.id),
                level: PlaceLevel::Village,
                code: Some(&v.code),
                name: &v.name,
                attributes: v.attributes.clone(),
            },
        )
        .await?;
        let mut gs = Vec::new();
        for g in 1..=v.groups {
            let name = format!("{}{}组", v.name.trim_end_matches('村'), zh_group(g));
            gs.push(
                places::create(
                    tx,
                    &actor,
                    NewPlace {
                        parent_id: Some(vp.id),
                        level: PlaceLevel::Group,
                        code: None,
                        name: &name,
                        attributes: vec![],
                    },
                )
                .await?,
            );
        }
        villages.push(vp);
        groups.push(gs);
    }
    built.villages = villages.len();
    let mut pools = Pools {
        villages: villages.iter().map(|v| v.id).collect(),
        town: vec![town.id],
        ..Default::default()
    };

    // Households, interleaved over the villages so that consecutive pool indexes spread out.
    let pop = &t.population;
    if pop.surnames.is_empty() || pop.given_chars.is_empty() || pop.members[0] == 0 {
        return Err(bad(
            "population 需要 surnames、given_chars，members 至少为 1".into(),
        ));
    }
    let mut order = Vec::new();
    let max = t.villages.iter().map(|v| v.households).max().unwrap_or(0);
    for round in 0..max {
        for (vi, v) in t.villages.iter().enumerate() {
            if round < v.households {
                order.push((vi, round));
            }
        }
    }
    if opts.bulk_registry {
        let mut rows = Vec::with_capacity(order.len());
        let mut places_of = Vec::with_capacity(order.len());
        for (vi, k) in order {
            let v = &villages[vi];
            let gs = &groups[vi];
            let place = gs
                .get(usize::try_from(k).unwrap_or(0) % gs.len().max(1))
                .map_or(v.id, |g| g.id);
            let number = format!("{}{:04}", v.code.clone().unwrap_or_default(), k + 1);
            let size = rng.range(i64::from(pop.members[0]), i64::from(pop.members[1]));
            let eth = ethnicity(&mut rng, pop);
            let head_male = rng.below(10) < 8;
            let (name, birth) = fresh(gen, pop, None, (pop.head_born[0], pop.head_born[1]));
            let surname: String = name.chars().take(1).collect();
            let mut members = vec![(
                new_person(gen, pop, today, place, (name, birth, head_male), &eth)?,
                "户主".to_string(),
            )];
            for m in 1..size {
                let (relation, male, years, sur) = if m == 1 {
                    (
                        "配偶",
                        !head_male,
                        (birth.year() - 4, birth.year() + 4),
                        None,
                    )
                } else {
                    let male = rng.below(2) == 0;
                    let lo = (birth.year() + 20).min(2020);
                    (
                        if male { "之子" } else { "之女" },
                        male,
                        (lo, (birth.year() + 38).min(2022)),
                        Some(surname.as_str()),
                    )
                };
                let (n, b) = fresh(gen, pop, sur, years);
                members.push((
                    new_person(gen, pop, today, place, (n, b, male), &eth)?,
                    relation.to_string(),
                ));
            }
            rows.push(NewHousehold {
                number,
                place_id: place,
                members,
            });
            places_of.push(place);
        }
        let made = households_with_members(tx, &actor, rows).await?;
        for ((hid, pids), place) in made.into_iter().zip(places_of) {
            pools.households.push(hid);
            pools
                .places
                .insert((kind_tag(SubjectKind::Household), hid), place);
            for pid in &pids {
                pools
                    .places
                    .insert((kind_tag(SubjectKind::Person), *pid), place);
            }
            pools.heads.push(pids[0]);
            pools.members2.push(pids.get(1).copied().unwrap_or(pids[0]));
            pools.persons.extend(pids);
        }
    } else {
        for (vi, k) in order {
            let v = &villages[vi];
            let gs = &groups[vi];
            let place = gs
                .get(usize::try_from(k).unwrap_or(0) % gs.len().max(1))
                .map_or(v.id, |g| g.id);
            let number = format!("{}{:04}", v.code.clone().unwrap_or_default(), k + 1);
            let h = households::create(tx, &actor, &scope, &number, place).await?;
            let size = rng.range(i64::from(pop.members[0]), i64::from(pop.members[1]));
            let eth = ethnicity(&mut rng, pop);
            let head_male = rng.below(10) < 8;
            let (name, birth) = fresh(gen, pop, None, (pop.head_born[0], pop.head_born[1]));
            let surname: String = name.chars().take(1).collect();
            let head =
                add_person(tx, gen, pop, today, place, (name, birth, head_male), &eth).await?;
            households::add_member(tx, &actor, &scope, h.id, head, "户主").await?;
            pools.households.push(h.id);
            pools
                .places
                .insert((kind_tag(SubjectKind::Household), h.id), place);
            pools
                .places
                .insert((kind_tag(SubjectKind::Person), head), place);
            pools.heads.push(head);
            pools.persons.push(head);
            let mut second = None;
            for m in 1..size {
                let (relation, male, years, sur) = if m == 1 {
                    (
                        "配偶",
                        !head_male,
                        (birth.year() - 4, birth.year() + 4),
                        None,
                    )
                } else {
                    let male = rng.below(2) == 0;
                    let lo = (birth.year() + 20).min(2020);
                    (
                        if male { "之子" } else { "之女" },
                        male,
                        (lo, (birth.year() + 38).min(2022)),
                        Some(surname.as_str()),
                    )
                };
                let (n, b) = fresh(gen, pop, sur, years);
                let pid = add_person(tx, gen, pop, today, place, (n, b, male), &eth).await?;
                households::add_member(tx, &actor, &scope, h.id, pid, relation).await?;
                pools.persons.push(pid);
                pools
                    .places
                    .insert((kind_tag(SubjectKind::Person), pid), place);
                second.get_or_insert(pid);
            }
            pools.members2.push(second.unwrap_or(head));
        }
    }
    built.households = pools.households.len();
    built.persons = pools.persons.len();

    // Cadres.
    for g in &t.cadres {
        let kind = match g.kind.as_str() {
            "town" => CadreKind::Town,
            "village" => CadreKind::Village,
            "resident" => CadreKind::Resident,
            other => {
                return Err(bad(format!(
                    "干部类别「{other}」应为 town、village 或 resident"
                )))
            }
        };
        let places: Vec<i64> = if kind == CadreKind::Town {
            vec![town.id; g.count]
        } else {
            villages
                .iter()
                .flat_map(|v| std::iter::repeat_n(v.id, g.count))
                .collect()
        };
        for place_id in places {
            let (name, birth) = fresh(gen, pop, None, (1965, 1998));
            let c = Cadre {
                id: 0,
                name,
                kind,
                post: g.post.clone(),
                unit: g.unit.clone(),
                birth_date: Some(birth),
                place_id,
                person_id: None,
                user_id: None,
                phone: String::new(),
                ended_on: None,
                end_reason: String::new(),
            };
            let c = orgs::create_cadre(tx, &actor, &scope, &c, today).await?;
            pools
                .places
                .insert((kind_tag(SubjectKind::Cadre), c.id), c.place_id);
            pools.cadres.push(c.id);
        }
    }
    built.cadres = pools.cadres.len();

    // Organisations.
    for g in &t.organisations {
        let mut ids = Vec::new();
        for n in 0..g.count {
            let v = &villages[n % villages.len().max(1)];
            let name = g
                .name
                .replace("{village}", &v.name)
                .replace("{n}", &(n + 1).to_string());
            let mut o = Organisation {
                id: 0,
                name,
                uscc: None,
                kind: g.kind.clone(),
                address: v.name.clone(),
                place_id: v.id,
                contact: String::new(),
                phone: String::new(),
                ended_on: None,
            };
            taizhang_domain::registry::validate_organisation(&mut o)?;
            let id = orgs::create_org(tx, &actor, &scope, &o).await?.id;
            pools
                .places
                .insert((kind_tag(SubjectKind::Organisation), id), v.id);
            ids.push(id);
        }
        pools.orgs.insert(g.pool.clone(), ids);
    }
    built.organisations = pools.orgs.values().map(Vec::len).sum();

    // Settings, through the same definitions and parsing as the settings page.
    let setting_defs = taizhang_domain::setting::builtin()?;
    for st in &t.settings {
        let def = setting_defs
            .iter()
            .find(|d| d.key == st.key)
            .ok_or_else(|| DemoError::Spec(format!("参数「{}」不存在", st.key)))?;
        let value = def.parse(&st.value).map_err(|e| DemoError::Spec(format!("参数「{}」{e}", def.label)))?;
        let year = match (def.per_year, st.year) {
            (true, Some(y)) => y,
            (false, None) => taizhang_domain::setting::ALL_YEARS,
            _ => return Err(DemoError::Spec(format!("参数「{}」的年度与定义不符", def.label))),
        };
        taizhang_storage::settings::set_value(tx, &actor, def, year, &value).await?;
    }

    // Registry events: deaths and second registrations.
    for (_, f) in &spec.files {
        for d in &f.death {
            let id = pools.pick(&d.pool, d.index)?;
            let p = persons::get(tx, &scope, id).await?;
            persons::set_status(
                tx,
                &actor,
                &scope,
                id,
                p.row_version,
                &StatusChangeInput {
                    change: StatusChange::Death,
                    date: Some(date(&d.date)?),
                    reason: String::new(),
                    place_text: String::new(),
                },
                today,
            )
            .await?;
            if let Some(a) = &d.anomaly {
                built.planted_persons.entry(a.clone()).or_default().push(id);
            }
        }
        for d in &f.duplicate_person {
            let id = pools.pick(&d.pool, d.index)?;
            let p = persons::get(tx, &scope, id).await?;
            let v = villages
                .iter()
                .find(|v| v.name == d.village)
                .ok_or_else(|| bad(format!("没有村「{}」", d.village)))?;
            let male = p.sex == taizhang_domain::idcard::Sex::Male;
            let second = add_person(
                tx,
                gen,
                pop,
                today,
                v.id,
                (p.name.clone(), p.birth_date, male),
                &p.ethnicity,
            )
            .await?;
            if let Some(a) = &d.anomaly {
                built
                    .planted_persons
                    .entry(a.clone())
                    .or_default()
                    .extend([id, second]);
            }
        }
    }

    built.registry_time = started.elapsed();
    let started = std::time::Instant::now();
    // Ledger records.
    for (path, b) in spec.batches() {
        let def = defs
            .iter()
            .find(|d| d.key == b.ledger)
            .ok_or_else(|| bad(format!("{path}：没有台账「{}」", b.ledger)))?;
        let ids = batch(tx, &mut rng, def, b, &pools, &villages, &town, today)
            .await
            .map_err(|e| match e {
                DemoError::Spec(m) => bad(format!("{path}「{}」（{}）：{m}", b.ledger, b.note)),
                other => bad(format!("{path}「{}」（{}）：{other}", b.ledger, b.note)),
            })?;
        built.records += ids.len();
        if let Some(a) = &b.anomaly {
            built
                .planted_records
                .entry(a.clone())
                .or_default()
                .extend(ids.iter().map(|i| (def.key.clone(), *i)));
        }
    }
    built.records_time = started.elapsed();
    Ok(built)
}

fn zh_group(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let d = |i: u32| D[usize::try_from(i).unwrap_or(0)];
    match n {
        0..=9 => d(n).to_string(),
        10 => "十".into(),
        11..=19 => format!("十{}", d(n % 10)),
        _ => n.to_string(),
    }
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value from the description, typed by the field.
fn typed(def: &LedgerDef, key: &str, v: &toml::Value, n: usize, village: &str) -> Result<Value> {
    let f = def
        .field(key)
        .ok_or_else(|| bad(format!("台账「{}」没有字段「{key}」", def.key)))?;
    let text = || {
        toml_text(v)
            .replace("{n}", &n.to_string())
            .replace("{village}", village)
    };
    let wrong = || {
        bad(format!(
            "字段「{}」（{key}）的值「{}」类型不符",
            f.label,
            toml_text(v)
        ))
    };
    Ok(match f.kind {
        FieldKind::Integer
        | FieldKind::Money
        | FieldKind::Decimal
        | FieldKind::Year
        | FieldKind::Reference => Value::Int(v.as_integer().ok_or_else(wrong)?),
        FieldKind::Date => Value::Date(date(v.as_str().ok_or_else(wrong)?)?),
        FieldKind::Boolean => Value::Bool(v.as_bool().ok_or_else(wrong)?),
        FieldKind::MultiEnum => match v {
            toml::Value::Array(a) => Value::List(a.iter().map(toml_text).collect()),
            _ => Value::List(vec![text()]),
        },
        FieldKind::Month | FieldKind::Enum | FieldKind::Text => Value::Text(text()),
    })
}

#[allow(clippy::too_many_arguments)]
async fn batch(
    tx: &mut Tx,
    rng: &mut Rng,
    def: &LedgerDef,
    b: &Batch,
    pools: &Pools,
    villages: &[Place],
    town: &Place,
    today: NaiveDate,
) -> Result<Vec<i64>> {
    let actor = Actor::Demo;
    let n = b.count;
    let repeat = b.repeat.max(1);
    // Subjects.
    let subject_pool = match (&b.subject, def.subject) {
        (None, SubjectKind::None) => None,
        (Some(p), kind) => {
            let (_, pk) = pools.get(p)?;
            if pk != kind {
                return Err(bad(format!(
                    "对象池「{p}」是{}，台账的记录对象是{}",
                    pk.label(),
                    kind.label()
                )));
            }
            Some(p.as_str())
        }
        (None, kind) => {
            return Err(bad(format!(
                "台账以{}为记录对象，批次需写 subject",
                kind.label()
            )))
        }
    };
    // Totals and ranges, drawn up front.
    let mut totals: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (k, total) in &b.total {
        totals.insert(k.as_str(), split_total(rng, *total, n));
    }
    let mut prepared = Vec::with_capacity(n);
    let village_count = b
        .villages
        .unwrap_or(villages.len())
        .clamp(1, villages.len().max(1));
    for i in 0..n {
        let subject_id = match subject_pool {
            Some(p) => Some(pools.pick(p, b.offset + i / repeat)?),
            None => None,
        };
        let place = match (subject_pool, b.place.as_deref()) {
            (Some("villages" | "town"), _) => subject_id,
            (Some(_), _) => None,
            (None, None | Some("villages")) => Some(villages[i % village_count].id),
            (None, Some("town")) => Some(town.id),
            (None, Some(name)) => Some(
                villages
                    .iter()
                    .find(|v| v.name == name)
                    .ok_or_else(|| bad(format!("没有村「{name}」")))?
                    .id,
            ),
        };
        let village_name = place
            .and_then(|p| villages.iter().find(|v| v.id == p))
            .map_or_else(|| town.name.clone(), |v| v.name.clone());
        let mut values = Values::new();
        for (k, v) in &b.values {
            values.insert(k.clone(), typed(def, k, v, i + 1, &village_name)?);
        }
        for (k, list) in &b.cycle {
            if list.is_empty() {
                return Err(bad(format!("cycle「{k}」是空的")));
            }
            values.insert(
                k.clone(),
                typed(def, k, &list[i % list.len()], i + 1, &village_name)?,
            );
        }
        for (k, [a, z]) in &b.spread {
            let (a, z) = (date(a)?, date(z)?);
            let span = (z - a).num_days().max(0);
            let step = if n > 1 {
                span * i64::try_from(i).unwrap_or(0) / i64::try_from(n - 1).unwrap_or(1)
            } else {
                0
            };
            values.insert(k.clone(), Value::Date(a + Duration::days(step)));
        }
        for (k, first) in &b.month {
            values.insert(k.clone(), Value::Text(add_months(first, i % repeat)?));
        }
        for k in &b.seq {
            values.insert(k.clone(), Value::Int(i64::try_from(i + 1).unwrap_or(0)));
        }
        for (k, parts) in &totals {
            values.insert((*k).to_string(), Value::Int(parts[i]));
        }
        for (k, [lo, hi]) in &b.range {
            values.insert(k.clone(), Value::Int(rng.range(*lo, *hi)));
        }
        for (k, r) in &b.refs {
            values.insert(k.clone(), Value::Int(pick_ref(pools, r, i)?));
        }
        let place_id = match (subject_id, place) {
            (Some(sid), _) => pools.place_of(def.subject, sid)?,
            (None, Some(p)) => p,
            (None, None) => return Err(bad("记录没有所属地点".into())),
        };
        prepared.push(bulk::prepare(
            def,
            place_id,
            subject_id,
            b.concerns_year,
            values,
            today,
        )?);
    }
    // The pools hold only ids created above in this transaction (or the town's own places),
    // so every subject and reference lies within the demo's scope, as `prepare` requires.
    // The whole batch at once: SQLite gets multi-row INSERTs of a few thousand parameters,
    // PostgreSQL one COPY (`batch::insert`).
    let recs = bulk::insert(tx, def, &actor, prepared, today, "演示数据").await?;
    let ids: Vec<i64> = recs.iter().map(|(id, _)| *id).collect();
    if let Some(state) = &b.state {
        set_state(tx, def, &recs, state, today).await?;
    }
    Ok(ids)
}

fn pick_ref(pools: &Pools, r: &RefSpec, i: usize) -> Result<i64> {
    let k = match r.modulo {
        Some(m) if m > 0 => i % m,
        _ => i,
    };
    pools.pick(&r.pool, r.offset + k)
}

/// Puts records into a workflow state directly (the demo's history is not replayed step by
/// step): one `UPDATE` per chunk of ids, audited by one entry per run of them, as an import's
/// records are.
async fn set_state(
    tx: &mut Tx,
    def: &LedgerDef,
    recs: &[(i64, i64)],
    state: &str,
    today: NaiveDate,
) -> Result<()> {
    let known = def
        .workflow
        .as_ref()
        .is_some_and(|w| w.states.iter().any(|s| s.key == state));
    if !known {
        return Err(bad(format!(
            "台账「{}」的流程中没有状态「{state}」",
            def.name
        )));
    }
    let table = def.table_name();
    let label = def.workflow.as_ref().map_or(state, |w| w.state_label(state));
    for part in recs.chunks(STATE_CHUNK) {
        let mut args = vec![Arg::Text(state.to_string()), Arg::Date(today)];
        args.extend(part.iter().map(|(id, _)| Arg::Int(*id)));
        // Placeholders in the engine's own form throughout: SQLite's `?` are positional.
        let (st, since, list) = (tx.placeholders(1, 1), tx.placeholders(2, 1), tx.placeholders(3, part.len()));
        let n = tx
            .exec(
                &format!("UPDATE {table} SET state = {st}, state_since = {since} WHERE id IN ({list})"),
                &args,
            )
            .await?;
        if n != part.len() as u64 {
            return Err(bad(format!("设定流程状态：{} 条记录只更新了 {n} 条", part.len())));
        }
        let mut sorted = part.to_vec();
        sorted.sort_unstable();
        audit::append_runs(
            tx,
            &Actor::Demo,
            "transition",
            &table,
            &audit::runs(&sorted),
            &format!("演示数据：直接设定流程状态「{label}」"),
        )
        .await?;
    }
    Ok(())
}

/// Records whose state one statement sets.
const STATE_CHUNK: usize = 2_000;

/// A household to create with its members; the first member is the head (户主).
struct NewHousehold {
    number: String,
    place_id: i64,
    /// (person, relation to the head); the first relation must be 户主.
    members: Vec<(taizhang_domain::registry::NewPerson, String)>,
}

/// Creates households with their members by multi-row inserts (`storage::person_batch`, as
/// the 花名册 import's batches do: each person in their household with their relation, heads
/// set by one statement, persons and households audited by runs). Returns, per household,
/// its id and its members' ids in input order.
async fn households_with_members(
    tx: &mut Tx,
    actor: &Actor,
    rows: Vec<NewHousehold>,
) -> Result<Vec<(i64, Vec<i64>)>> {
    let mut homes = Vec::with_capacity(rows.len());
    let mut members = Vec::new();
    for (i, h) in rows.iter().enumerate() {
        homes.push(person_batch::NewHousehold {
            number: h.number.clone(),
            place_id: h.place_id,
        });
        for (k, (p, r)) in h.members.iter().enumerate() {
            let rel = taizhang_domain::relation::normalize(r, Some(p.sex))
                .map_err(|reason| bad(format!("户 {}：{reason}", h.number)))?;
            if (k == 0) != (rel == taizhang_domain::relation::HEAD) {
                return Err(bad(format!("户 {} 的第一名成员应为户主，且只有一名户主", h.number)));
            }
            members.push(NewMember {
                person: p.clone(),
                joins: Some((Joins::New(i), rel)),
            });
        }
    }
    // In the order given: the demo's ids are the same whichever way it is built.
    let written = person_batch::insert(tx, actor, &homes, &members, "演示数据", person_batch::Order::AsGiven).await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut k = 0;
    for (h, hid) in rows.iter().zip(written.household_ids) {
        out.push((hid, written.person_ids[k..k + h.members.len()].to_vec()));
        k += h.members.len();
    }
    Ok(out)
}

//! A town's SQLite database merged into the county's (`taizhang merge TOWN.db --into …`,
//! docs/county.md): its places under the county's place tree, its registry, its own ledger
//! definitions, the records of every ledger with their states and versions, their attachments
//! and its audit trail, in one transaction of the county database — all or nothing.
//!
//! **Identities.** `merged_ids` (migration 8 on SQLite, 7 on PostgreSQL) remembers, per town
//! (its place code) and table, which county row holds which town row and the town row's
//! `row_version` when it came over. Merging again brings only what changed: rows the table does
//! not know are inserted, rows whose version grew are updated, the rest are left alone; a
//! record no longer in the town is voided in the county. Row versions are copied as they are,
//! so a county row whose version differs from the one last brought over was changed in the
//! county since: the town's change is then a conflict, never written over it.
//!
//! **Conflicts** are reported, never resolved silently: a person (ID number) or organisation
//! (USCC) the county already holds from elsewhere, a town ledger definition that differs from
//! the county's of the same key, a change made on both sides. Any conflict refuses the whole
//! merge unless the caller accepts them (`Options::accept_conflicts`): the town's records then
//! point at the county's existing person or organisation (`linked`, never changed by a merge),
//! a differing definition keeps the county's and the town's records come over only when every
//! field they have exists in the county's with the same type. A place whose code the county
//! uses elsewhere, or a 户编号 another household holds, refuses the merge whatever is accepted:
//! nothing sensible could be linked there.
//!
//! **History.** The town's audit entries are appended to the county's chain (so
//! `audit::verify` holds), with their original time, actor, action and values, their place and
//! entity ids turned into the county's, and a note 合并自<镇>（<代码>）第 N 条 before the
//! original note. The merge itself is one entry (`merge`, entity `merged_ids`).
//!
//! **Not merged:** settings are kept per database, not per town, so a town's values are only
//! compared and listed where they differ (the county's stay); user accounts are the county's
//! administrators' to open.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use taizhang_domain::ledger::{FieldKind, LedgerDef, RefTarget, SubjectKind};
use taizhang_domain::masking::{mask, Class};
use taizhang_domain::role::Actor;
use taizhang_domain::value::Value;

use crate::audit::{self, Change, NewEntry};
use crate::backend::{Db, Engine, Tx};
use crate::error::{Result, StoreError};
use crate::sql::{Arg, Row};

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Work out everything, write nothing.
    pub dry_run: bool,
    /// Merge despite conflicts that can be accepted (see the module's documentation).
    pub accept_conflicts: bool,
}

/// What happened to the rows of one kind: 新增, 更新, 未变, 冲突, 未合并.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub conflicts: u64,
    pub not_merged: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.added += o.added;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.conflicts += o.conflicts;
        self.not_merged += o.not_merged;
    }

    /// 新增 3，更新 1，未变 20 (the kinds that are not zero; 未变 always but beside 未合并 alone).
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        for (label, n) in [("新增", self.added), ("更新", self.updated)] {
            if n > 0 {
                parts.push(format!("{label} {n}"));
            }
        }
        // 未变 0 says nothing beside a kind that is only ever 未合并 (settings, accounts).
        if self.unchanged > 0 || self.not_merged == 0 {
            parts.push(format!("未变 {}", self.unchanged));
        }
        for (label, n) in [("冲突", self.conflicts), ("未合并", self.not_merged)] {
            if n > 0 {
                parts.push(format!("{label} {n}"));
            }
        }
        parts.join("，")
    }
}

/// One kind of row (a table, a ledger's records) and its counts.
#[derive(Debug, Clone, Serialize)]
pub struct KindCounts {
    /// The table (`persons`, `ld_hazards`, `audit` …).
    pub kind: String,
    /// 人员, 记录：安全隐患排查 …
    pub label: String,
    pub counts: Counts,
}

/// What a merge did (or, in a dry run or when refused, would do).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub town: String,
    pub code: String,
    pub county: String,
    pub dry_run: bool,
    /// Refused for its conflicts: nothing was written.
    pub refused: bool,
    /// Among the conflicts one no `--accept-conflicts` gets past (a place code or 户编号 the
    /// county holds elsewhere).
    pub blocking: bool,
    /// Written to the county database.
    pub committed: bool,
    pub kinds: Vec<KindCounts>,
    /// Each conflict, in Chinese, naming both sides.
    pub conflicts: Vec<String>,
    /// What was left out and why (settings, accounts, records of a differing ledger).
    pub not_merged: Vec<String>,
}

impl Report {
    pub fn counts(&self, kind: &str) -> Counts {
        self.kinds.iter().find(|k| k.kind == kind).map(|k| k.counts).unwrap_or_default()
    }

    pub fn totals(&self) -> Counts {
        let mut t = Counts::default();
        for k in &self.kinds {
            t.add(&k.counts);
        }
        t
    }

    /// The summary line.
    pub fn summary(&self) -> String {
        let t = self.totals();
        let what = format!("{}（{}）并入{}", self.town, self.code, self.county);
        let verdict = if self.blocking {
            format!("存在 {} 处冲突，其中有县库中已属于别处的区划代码或户编号，无法合并（--accept-conflicts 也不能），县库未作任何修改", self.conflicts.len())
        } else if self.refused {
            format!("存在 {} 处冲突，拒绝合并，县库未作任何修改（确认后可加 --accept-conflicts）", self.conflicts.len())
        } else if self.dry_run {
            "试运行，县库未作任何修改".to_string()
        } else {
            "已合并".to_string()
        };
        format!("{what}：{}。{verdict}。", t.text())
    }
}

/// Merges the town database `source` into the county database `target`, as `actor`.
/// Errors (in Chinese) when the town cannot be placed at all: no single town in it, no code, no
/// county to put it under. Conflicts come back in the report (`refused` unless accepted).
pub async fn merge(source: &Db, target: &Db, actor: &Actor, opts: Options) -> Result<Report> {
    let src = source.read().await?;
    let tx = target.begin().await?;
    let mut m = Merger {
        src,
        tx,
        actor: actor.clone(),
        source: String::new(),
        town_name: String::new(),
        map: HashMap::new(),
        pending: Vec::new(),
        counts: Vec::new(),
        conflicts: Vec::new(),
        not_merged: Vec::new(),
        fatal: false,
    };
    let (town_src, county_name, county_target) = m.locate().await?;
    m.load_map().await?;
    m.places(town_src).await?;
    let ledgers = m.ledger_defs().await?;
    for spec in [&HOUSEHOLDS, &PERSONS] {
        m.registry(spec).await?;
    }
    m.household_heads().await?;
    for spec in [&HOUSEHOLD_EVENTS, &ORGANISATIONS, &CADRES] {
        m.registry(spec).await?;
    }
    for (sdef, tdef) in &ledgers {
        m.records(sdef, tdef).await?;
    }
    m.attachments().await?;
    m.settings().await?;
    m.users().await?;
    m.audit_trail().await?;
    m.flush().await?;
    let town_target = m.map.get(&("places".to_string(), town_src)).map(|e| e.target).unwrap_or(county_target);
    let refused = m.fatal || (!m.conflicts.is_empty() && !opts.accept_conflicts);
    let mut report = Report {
        town: m.town_name.clone(),
        code: m.source.clone(),
        county: county_name,
        dry_run: opts.dry_run,
        refused,
        blocking: m.fatal,
        committed: false,
        kinds: m.counts.clone(),
        conflicts: m.conflicts.clone(),
        not_merged: m.not_merged.clone(),
    };
    if refused || opts.dry_run {
        // Dropped: rolled back, DDL of new ledgers included.
        return Ok(report);
    }
    let note = format!("合并自{}（{}）", report.town, report.code);
    let counts: serde_json::Map<String, serde_json::Value> =
        report.kinds.iter().map(|k| (k.kind.clone(), json!(k.counts))).collect();
    let mut tx = m.tx;
    audit::append(
        &mut tx,
        actor,
        Change {
            action: "merge",
            entity: "merged_ids",
            entity_id: None,
            place_id: Some(town_target),
            before: None,
            after: Some(json!({ "source": report.code, "counts": counts, "conflicts": report.conflicts })),
            note: &note,
        },
    )
    .await?;
    tx.commit().await?;
    report.committed = true;
    Ok(report)
}

#[derive(Debug, Clone, Copy)]
struct Mapped {
    target: i64,
    version: i64,
    linked: bool,
}

/// How a column's value travels from the town to the county.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Int,
    Text,
    Date,
    /// A time stamp (TIMESTAMPTZ on PostgreSQL).
    Time,
    /// An id of the table named, turned into the county's.
    Ref(&'static str),
    /// As `Ref`, for a column that may not be empty (a row's place): a row whose id has no
    /// county row (its place refused) is left out.
    Need(&'static str),
    /// Not brought over (a user account): NULL.
    Drop,
}

/// What happens when the county already holds a row with the same unique value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Taken {
    /// The same person or organisation: a conflict; accepted, the town's rows point at it.
    Link,
    /// Cannot be linked (another household): refuses the merge.
    Refuse,
}

struct Spec {
    table: &'static str,
    label: &'static str,
    cols: &'static [(&'static str, Col)],
    /// Rows carry `row_version`; else rows are never changed once written (append-only).
    versioned: bool,
    unique: Option<(&'static str, Taken)>,
}

const PERSONS: Spec = Spec {
    table: "persons",
    label: "人员",
    cols: &[
        ("name", Col::Text),
        ("id_number", Col::Text),
        ("sex", Col::Text),
        ("birth_date", Col::Date),
        ("ethnicity", Col::Text),
        ("phone", Col::Text),
        ("status", Col::Text),
        ("status_date", Col::Date),
        ("place_id", Col::Need("places")),
        ("household_id", Col::Ref("households")),
        ("relation", Col::Text),
        ("row_version", Col::Int),
        ("created_at", Col::Time),
        ("updated_at", Col::Time),
        ("status_reason", Col::Text),
        ("status_place", Col::Text),
    ],
    versioned: true,
    unique: Some(("id_number", Taken::Link)),
};

const HOUSEHOLDS: Spec = Spec {
    table: "households",
    label: "户",
    // The head is set once the persons are there (`household_heads`).
    cols: &[
        ("number", Col::Text),
        ("place_id", Col::Need("places")),
        ("row_version", Col::Int),
        ("created_at", Col::Time),
        ("updated_at", Col::Time),
    ],
    versioned: true,
    unique: Some(("number", Taken::Refuse)),
};

const HOUSEHOLD_EVENTS: Spec = Spec {
    table: "household_events",
    label: "户的变动",
    cols: &[
        ("household_id", Col::Need("households")),
        ("on_date", Col::Date),
        ("kind", Col::Text),
        ("person_id", Col::Ref("persons")),
        ("other_household_id", Col::Ref("households")),
        ("detail", Col::Text),
        ("actor", Col::Text),
        ("created_at", Col::Time),
    ],
    versioned: false,
    unique: None,
};

const ORGANISATIONS: Spec = Spec {
    table: "organisations",
    label: "单位",
    cols: &[
        ("name", Col::Text),
        ("uscc", Col::Text),
        ("kind", Col::Text),
        ("address", Col::Text),
        ("place_id", Col::Need("places")),
        ("contact", Col::Text),
        ("phone", Col::Text),
        ("row_version", Col::Int),
        ("created_at", Col::Time),
        ("updated_at", Col::Time),
        ("ended_on", Col::Date),
    ],
    versioned: true,
    unique: Some(("uscc", Taken::Link)),
};

const CADRES: Spec = Spec {
    table: "cadres",
    label: "干部",
    cols: &[
        ("name", Col::Text),
        ("kind", Col::Text),
        ("post", Col::Text),
        ("unit", Col::Text),
        ("birth_date", Col::Date),
        ("place_id", Col::Need("places")),
        ("person_id", Col::Ref("persons")),
        // Accounts are not merged: the county's administrators open them.
        ("user_id", Col::Drop),
        ("phone", Col::Text),
        ("row_version", Col::Int),
        ("created_at", Col::Time),
        ("updated_at", Col::Time),
        ("ended_on", Col::Date),
        ("end_reason", Col::Text),
    ],
    versioned: true,
    unique: None,
};

fn is_null(a: &Arg) -> bool {
    matches!(a, Arg::NullInt | Arg::NullText | Arg::NullDate | Arg::NullBool)
}

/// A time stamp as either engine gives it back (RFC 3339; older SQLite rows `YYYY-MM-DD HH:MM:SS`).
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc()))
}

/// The values and placeholders of a statement, a NULL written as the literal: PostgreSQL
/// refuses a text-typed NULL bound to a time-stamp column.
fn values_sql(tx: &Tx, args: Vec<Arg>, first: usize) -> (Vec<String>, Vec<Arg>) {
    let mut exprs = Vec::with_capacity(args.len());
    let mut bound = Vec::new();
    for a in args {
        if is_null(&a) {
            exprs.push("NULL".to_string());
        } else {
            bound.push(a);
            exprs.push(tx.placeholders(first + bound.len() - 1, 1));
        }
    }
    (exprs, bound)
}

async fn insert_row(tx: &mut Tx, table: &str, cols: &[String], args: Vec<Arg>) -> Result<i64> {
    let (exprs, bound) = values_sql(tx, args, 1);
    let sql = format!("INSERT INTO {table} ({}) VALUES ({}) RETURNING id", cols.join(", "), exprs.join(", "));
    tx.insert(&sql, &bound).await
}

async fn update_row(tx: &mut Tx, table: &str, id: i64, cols: &[String], args: Vec<Arg>) -> Result<()> {
    let (exprs, mut bound) = values_sql(tx, args, 1);
    let sets: Vec<String> = cols.iter().zip(&exprs).map(|(c, e)| format!("{c} = {e}")).collect();
    bound.push(Arg::Int(id));
    let sql = format!("UPDATE {table} SET {} WHERE id = {}", sets.join(", "), tx.placeholders(bound.len(), 1));
    tx.exec(&sql, &bound).await?;
    Ok(())
}

struct Merger {
    src: Tx,
    tx: Tx,
    actor: Actor,
    /// The town's place code: the `source` of `merged_ids`.
    source: String,
    town_name: String,
    map: HashMap<(String, i64), Mapped>,
    /// Rows of `merged_ids` not yet written.
    pending: Vec<(String, i64, Mapped)>,
    counts: Vec<KindCounts>,
    conflicts: Vec<String>,
    not_merged: Vec<String>,
    /// A conflict no acceptance can get past.
    fatal: bool,
}

impl Merger {
    fn count(&mut self, kind: &str, label: &str) -> &mut Counts {
        let i = match self.counts.iter().position(|k| k.kind == kind) {
            Some(i) => i,
            None => {
                self.counts.push(KindCounts { kind: kind.to_string(), label: label.to_string(), counts: Counts::default() });
                self.counts.len() - 1
            }
        };
        &mut self.counts[i].counts
    }

    fn mapped(&self, kind: &str, id: i64) -> Option<Mapped> {
        self.map.get(&(kind.to_string(), id)).copied()
    }

    fn target(&self, kind: &str, id: Option<i64>) -> Option<i64> {
        id.and_then(|id| self.mapped(kind, id)).map(|m| m.target)
    }

    /// Notes which county row holds a town row. Written to `merged_ids` in batches (`flush`):
    /// one statement per row cost as much as the row's own insert.
    async fn remember(&mut self, kind: &str, source_id: i64, target: i64, version: i64, linked: bool) -> Result<()> {
        let m = Mapped { target, version, linked };
        self.map.insert((kind.to_string(), source_id), m);
        self.pending.push((kind.to_string(), source_id, m));
        if self.pending.len() >= 500 {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        // One statement may not touch a key twice (PostgreSQL's ON CONFLICT): the last wins.
        let mut seen = HashSet::new();
        let rows: Vec<(String, i64, Mapped)> =
            std::mem::take(&mut self.pending).into_iter().rev().filter(|(k, id, _)| seen.insert((k.clone(), *id))).collect();
        if rows.is_empty() {
            return Ok(());
        }
        let mut args = Vec::with_capacity(rows.len() * 6);
        let mut tuples = Vec::with_capacity(rows.len());
        for (kind, id, m) in rows {
            tuples.push(format!("({})", self.tx.placeholders(args.len() + 1, 6)));
            args.extend([
                self.source.as_str().into(),
                Arg::Text(kind),
                Arg::Int(id),
                Arg::Int(m.target),
                Arg::Int(m.version),
                Arg::Int(i64::from(m.linked)),
            ]);
        }
        let sql = format!(
            "INSERT INTO merged_ids (source, kind, source_id, target_id, source_version, linked) VALUES {}
             ON CONFLICT (source, kind, source_id) DO UPDATE SET target_id = excluded.target_id,
             source_version = excluded.source_version, linked = excluded.linked",
            tuples.join(", ")
        );
        self.tx.exec(&sql, &args).await?;
        Ok(())
    }

    fn conflict(&mut self, kind: &str, label: &str, text: String) {
        self.count(kind, label).conflicts += 1;
        self.conflicts.push(text);
    }

    /// The town of the town database and the county place it goes under: (the town's id in
    /// the town database, the county's name, the county's id in the county database).
    async fn locate(&mut self) -> Result<(i64, String, i64)> {
        let towns = self.src.fetch("SELECT id, parent_id, code, name FROM places WHERE level = 'town' ORDER BY id", &[]).await?;
        let [town] = towns.as_slice() else {
            return Err(StoreError::Conflict(format!("要合并的数据库里应当恰好有一个镇，实际有 {} 个：它不是一个镇的数据库", towns.len())));
        };
        self.town_name = town.text(3);
        self.source = town
            .opt_text(2)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| StoreError::Conflict(format!("「{}」没有区划代码，合并时无法识别它：请先在镇库里填写本镇的区划代码", self.town_name)))?;
        let parent = match town.opt_int(1) {
            Some(pid) => self.src.fetch_opt("SELECT code, name FROM places WHERE id = $1", &[Arg::Int(pid)]).await?,
            None => None,
        };
        let found = match &parent {
            Some(p) => {
                let by_code = match p.opt_text(0) {
                    Some(code) => self.tx.fetch_opt("SELECT id, name FROM places WHERE level = 'county' AND code = $1", &[code.into()]).await?,
                    None => None,
                };
                match by_code {
                    Some(r) => Some(r),
                    None => self.tx.fetch_opt("SELECT id, name FROM places WHERE level = 'county' AND name = $1", &[p.text(1).into()]).await?,
                }
            }
            None => {
                let all = self.tx.fetch("SELECT id, name FROM places WHERE level = 'county'", &[]).await?;
                if all.len() == 1 { all.into_iter().next() } else { None }
            }
        };
        let Some(county) = found else {
            let which = parent.map_or("上级县".to_string(), |p| {
                format!("「{}」{}", p.text(1), p.opt_text(0).map(|c| format!("（区划代码 {c}）")).unwrap_or_default())
            });
            return Err(StoreError::NotFound(format!(
                "县库中没有{which}，无法把「{}」并入：请先在县库建立该县，或确认合并的目标是本县的数据库",
                self.town_name
            )));
        };
        if let Some(pid) = town.opt_int(1) {
            // The county node of the town database is the county's own: mapped, never written.
            self.map.insert(("places".into(), pid), Mapped { target: county.int(0), version: 0, linked: true });
        }
        Ok((town.int(0), county.text(1), county.int(0)))
    }

    async fn load_map(&mut self) -> Result<()> {
        let rows = self
            .tx
            .fetch("SELECT kind, source_id, target_id, source_version, linked FROM merged_ids WHERE source = $1", &[self.source.as_str().into()])
            .await?;
        for r in rows {
            self.map.insert((r.text(0), r.int(1)), Mapped { target: r.int(2), version: r.int(3), linked: r.int(4) != 0 });
        }
        Ok(())
    }

    /// The path of place names of a county place (北斗溪镇/坪溪村), for messages.
    async fn place_names(&mut self, id: i64) -> Result<String> {
        let rows = self
            .tx
            .fetch(
                "SELECT a.name FROM places p JOIN places a ON p.path LIKE a.path || '%' WHERE p.id = $1 AND a.level <> 'county' ORDER BY length(a.path)",
                &[Arg::Int(id)],
            )
            .await?;
        Ok(rows.iter().map(|r| r.text(0)).collect::<Vec<_>>().join("/"))
    }

    /// The town (or 县直) a county place lies in.
    async fn town_of(&mut self, place_id: i64) -> Result<String> {
        let r = self
            .tx
            .fetch_opt(
                "SELECT a.name FROM places p JOIN places a ON p.path LIKE a.path || '%' WHERE p.id = $1 AND a.level = 'town'",
                &[Arg::Int(place_id)],
            )
            .await?;
        Ok(r.map_or_else(|| "县直".to_string(), |r| r.text(0)))
    }

    /// The town's places, parents first, under the county: a place the county already has
    /// (the same code under the same parent, or the same name there without another code) is
    /// taken as the town's.
    async fn places(&mut self, town_id: i64) -> Result<()> {
        const KIND: &str = "places";
        const LABEL: &str = "区划";
        let town_path = self.src.fetch_one("SELECT path FROM places WHERE id = $1", &[Arg::Int(town_id)]).await?.text(0);
        let rows = self
            .src
            .fetch(
                "SELECT id, parent_id, level, code, name, attributes FROM places WHERE path LIKE $1 ORDER BY length(path), id",
                &[format!("{town_path}%").into()],
            )
            .await?;
        for r in rows {
            let (sid, level, code, name, attrs) = (r.int(0), r.text(2), r.opt_text(3), r.text(4), r.text(5));
            let Some(parent) = self.target(KIND, r.opt_int(1)) else {
                self.fatal = true;
                self.conflict(KIND, LABEL, format!("地点「{name}」的上级没有并入，无法安放"));
                continue;
            };
            let existing = match self.mapped(KIND, sid) {
                Some(m) => Some(m.target),
                None => self.adoptable(parent, &level, code.as_deref(), &name).await?,
            };
            let Some(t) = existing else {
                if self.fatal {
                    continue;
                }
                let cols: Vec<String> = ["parent_id", "level", "code", "name", "path", "attributes", "created_at"].map(String::from).to_vec();
                let args = vec![Arg::Int(parent), level.into(), code.into(), name.into(), "".into(), attrs.into(), Arg::Time(crate::now())];
                let id = insert_row(&mut self.tx, KIND, &cols, args).await?;
                let ppath = self.tx.fetch_one("SELECT path FROM places WHERE id = $1", &[Arg::Int(parent)]).await?.text(0);
                self.tx.exec("UPDATE places SET path = $1 WHERE id = $2", &[format!("{ppath}{id}/").into(), Arg::Int(id)]).await?;
                self.remember(KIND, sid, id, 0, false).await?;
                self.count(KIND, LABEL).added += 1;
                continue;
            };
            if self.mapped(KIND, sid).is_none() {
                self.remember(KIND, sid, t, 0, false).await?;
            }
            let cur = self.tx.fetch_one("SELECT parent_id, code, name, attributes, path FROM places WHERE id = $1", &[Arg::Int(t)]).await?;
            if cur.opt_int(0) == Some(parent) && cur.opt_text(1) == code && cur.text(2) == name && cur.text(3) == attrs {
                self.count(KIND, LABEL).unchanged += 1;
                continue;
            }
            if let Some(c) = &code {
                let taken = self.tx.fetch_opt("SELECT id FROM places WHERE code = $1 AND id <> $2", &[c.into(), Arg::Int(t)]).await?;
                if let Some(other) = taken {
                    let names = self.place_names(other.int(0)).await?;
                    self.fatal = true;
                    self.conflict(KIND, LABEL, format!("地点「{name}」的区划代码 {c} 在县库中已属于「{names}」"));
                    continue;
                }
            }
            self.tx
                .exec("UPDATE places SET code = $1, name = $2, attributes = $3 WHERE id = $4", &[code.into(), name.into(), attrs.into(), Arg::Int(t)])
                .await?;
            if cur.opt_int(0) != Some(parent) {
                // Moved within the town: the place and everything under it get the new path.
                let old = cur.text(4);
                let ppath = self.tx.fetch_one("SELECT path FROM places WHERE id = $1", &[Arg::Int(parent)]).await?.text(0);
                let new = format!("{ppath}{t}/");
                self.tx.exec("UPDATE places SET parent_id = $1 WHERE id = $2", &[Arg::Int(parent), Arg::Int(t)]).await?;
                let n = i64::try_from(old.chars().count()).unwrap_or(0) + 1;
                self.tx
                    .exec("UPDATE places SET path = $1 || substr(path, CAST($2 AS INTEGER)) WHERE path LIKE $3", &[new.into(), Arg::Int(n), format!("{old}%").into()])
                    .await?;
            }
            self.count(KIND, LABEL).updated += 1;
        }
        Ok(())
    }

    /// A county place to take as the town's place not merged before: the same code (which
    /// must then lie under the same parent, else the merge is refused), or the same name under
    /// the same parent with no other code.
    async fn adoptable(&mut self, parent: i64, level: &str, code: Option<&str>, name: &str) -> Result<Option<i64>> {
        if let Some(c) = code {
            if let Some(r) = self.tx.fetch_opt("SELECT id, parent_id, level FROM places WHERE code = $1", &[c.into()]).await? {
                if r.opt_int(1) == Some(parent) && r.text(2) == level {
                    return Ok(Some(r.int(0)));
                }
                let names = self.place_names(r.int(0)).await?;
                self.fatal = true;
                self.conflict("places", "区划", format!("{}「{name}」的区划代码 {c} 在县库中已属于「{names}」", self.town_name));
                return Ok(None);
            }
        }
        let same = self.tx.fetch_opt("SELECT id, code, level FROM places WHERE parent_id = $1 AND name = $2", &[Arg::Int(parent), name.into()]).await?;
        match same {
            Some(r) if r.text(2) == level && (r.opt_text(1).is_none() || r.opt_text(1).as_deref() == code) => Ok(Some(r.int(0))),
            Some(r) => {
                let names = self.place_names(r.int(0)).await?;
                self.fatal = true;
                self.conflict("places", "区划", format!("县库的「{names}」与镇库的「{name}」同名，但区划代码或层级不同"));
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// The town's ledger definitions: created in the county when it lacks them; equal ones
    /// unchanged; a differing one a conflict (the county's kept). Returns the ledgers whose
    /// records come over, (town definition, county definition), referenced ledgers first.
    async fn ledger_defs(&mut self) -> Result<Vec<(LedgerDef, LedgerDef)>> {
        const KIND: &str = "ledger_defs";
        const LABEL: &str = "台账定义";
        let rows = self.src.fetch("SELECT key, definition, source FROM ledger_defs ORDER BY key", &[]).await?;
        let mut out = Vec::new();
        for r in rows {
            let sdef: LedgerDef = serde_json::from_str(&r.text(1)).map_err(|e| StoreError::Internal(format!("镇库 ledger_defs.{}: {e}", r.text(0))))?;
            let exists = self.tx.fetch_opt("SELECT definition FROM ledger_defs WHERE key = $1", &[sdef.key.as_str().into()]).await?;
            let Some(t) = exists else {
                if r.text(2) == "builtin" {
                    crate::ledgers::install_builtin(&mut self.tx, &self.actor, std::slice::from_ref(&sdef)).await?;
                } else {
                    crate::ledgers::define(&mut self.tx, &self.actor, &sdef).await?;
                }
                let tdef = crate::ledgers::get(&mut self.tx, &sdef.key).await?;
                self.count(KIND, LABEL).added += 1;
                out.push((sdef, tdef));
                continue;
            };
            let tdef: LedgerDef = serde_json::from_str(&t.text(0)).map_err(|e| StoreError::Internal(format!("ledger_defs.{}: {e}", sdef.key)))?;
            if tdef == sdef {
                self.count(KIND, LABEL).unchanged += 1;
                out.push((sdef, tdef));
                continue;
            }
            let compatible = tdef.subject == sdef.subject
                && sdef.fields.iter().all(|f| tdef.field(&f.key).is_some_and(|g| g.kind == f.kind && g.target == f.target));
            let what = if compatible {
                "县库定义保留不变；镇的记录的每个字段县库定义里都有，接受冲突时照常并入"
            } else {
                "县库定义保留不变；镇的记录有县库定义里没有（或类型不同）的字段，这本台账的记录不合并"
            };
            self.conflict(KIND, LABEL, format!("台账「{}」（{}）的定义与县库的不同：{what}", sdef.name, sdef.key));
            if compatible {
                out.push((sdef, tdef));
            } else {
                self.not_merged.push(format!("台账「{}」（{}）的记录：定义与县库的不一致，未合并", sdef.name, sdef.key));
            }
        }
        Ok(order_by_references(out))
    }

    async fn registry(&mut self, spec: &Spec) -> Result<()> {
        let names: Vec<String> = spec.cols.iter().map(|(c, _)| (*c).to_string()).collect();
        let rows = self.src.fetch(&format!("SELECT id, {} FROM {} ORDER BY id", names.join(", "), spec.table), &[]).await?;
        let version_at = names.iter().position(|c| c == "row_version");
        let mut left_out = 0;
        for r in rows {
            let sid = r.int(0);
            let version = if spec.versioned { version_at.map_or(0, |i| r.int(i + 1)) } else { 0 };
            let Some(args) = self.args_of(spec, &r)? else {
                self.count(spec.table, spec.label).not_merged += 1;
                left_out += 1;
                continue;
            };
            let what = describe(spec.table, &names, &r);
            match self.mapped(spec.table, sid) {
                Some(m) if !spec.versioned || version <= m.version => self.count(spec.table, spec.label).unchanged += 1,
                Some(m) if m.linked => {
                    let town = self.town_of_row(spec.table, m.target).await?;
                    self.conflict(spec.table, spec.label, format!("{what}在{}改过，但它与{town}登记的是同一条，县库中的这一条不随之修改", self.town_name));
                }
                Some(m) => {
                    let now = self.tx.fetch_one(&format!("SELECT row_version FROM {} WHERE id = $1", spec.table), &[Arg::Int(m.target)]).await?.int(0);
                    if now != m.version {
                        self.conflict(spec.table, spec.label, format!("{what}在{}和县库里都改过（上次合并后），县库的未被覆盖", self.town_name));
                        continue;
                    }
                    if let Some(other) = self.taken(spec, &names, &r, Some(m.target)).await? {
                        let town = self.town_of_row(spec.table, other).await?;
                        self.conflict(spec.table, spec.label, format!("{what}改后的值在县库中已属于{town}登记的另一条，未更新"));
                        continue;
                    }
                    update_row(&mut self.tx, spec.table, m.target, &names, args).await?;
                    self.remember(spec.table, sid, m.target, version, false).await?;
                    self.count(spec.table, spec.label).updated += 1;
                }
                None => {
                    if let Some(other) = self.taken(spec, &names, &r, None).await? {
                        let town = self.town_of_row(spec.table, other).await?;
                        let link = spec.unique.is_some_and(|(_, t)| t == Taken::Link);
                        if link {
                            self.conflict(
                                spec.table,
                                spec.label,
                                format!("{what}：{town}已登记，{}又登记了一次；接受冲突时{}的记录指向县库已有的这一条，它的登记信息不变", self.town_name, self.town_name),
                            );
                            self.remember(spec.table, sid, other, version, true).await?;
                        } else {
                            self.fatal = true;
                            self.conflict(spec.table, spec.label, format!("{what}：{town}已有同一编号的户，{}的这一户无法并入", self.town_name));
                        }
                        continue;
                    }
                    let id = insert_row(&mut self.tx, spec.table, &names, args).await?;
                    self.remember(spec.table, sid, id, version, false).await?;
                    self.count(spec.table, spec.label).added += 1;
                }
            }
        }
        if left_out > 0 {
            self.not_merged.push(format!("{left_out} 条{}：所在的地点（或户）未能并入，未合并", spec.label));
        }
        Ok(())
    }

    /// The row's values for the county, `None` when a column that may not be empty has no
    /// county row to name.
    fn args_of(&self, spec: &Spec, r: &Row) -> Result<Option<Vec<Arg>>> {
        let mut args = Vec::with_capacity(spec.cols.len());
        for (i, (name, col)) in spec.cols.iter().enumerate() {
            let i = i + 1;
            args.push(match col {
                Col::Int => r.opt_int(i).into(),
                Col::Text => r.opt_text(i).into(),
                Col::Date => r.opt_date(i).into(),
                Col::Time => match r.opt_text(i) {
                    Some(t) => Arg::Time(parse_time(&t).ok_or_else(|| StoreError::Internal(format!("{}.{name}: {t}", spec.table)))?),
                    None => Arg::NullText,
                },
                Col::Ref(kind) => match r.opt_int(i) {
                    None => Arg::NullInt,
                    Some(id) => self.target(kind, Some(id)).map_or(Arg::NullInt, Arg::Int),
                },
                Col::Need(kind) => match self.target(kind, r.opt_int(i)) {
                    Some(id) => Arg::Int(id),
                    None => return Ok(None),
                },
                Col::Drop => Arg::NullInt,
            });
        }
        Ok(Some(args))
    }

    /// Another county row holding this row's unique value (ID number, 户编号, USCC).
    async fn taken(&mut self, spec: &Spec, names: &[String], r: &Row, itself: Option<i64>) -> Result<Option<i64>> {
        let Some((col, _)) = spec.unique else { return Ok(None) };
        let Some(i) = names.iter().position(|c| c == col) else { return Ok(None) };
        let Some(v) = r.opt_text(i + 1).filter(|v| !v.is_empty()) else { return Ok(None) };
        let found = self.tx.fetch_opt(&format!("SELECT id FROM {} WHERE {col} = $1", spec.table), &[v.into()]).await?;
        Ok(found.map(|f| f.int(0)).filter(|id| Some(*id) != itself))
    }

    async fn town_of_row(&mut self, table: &str, id: i64) -> Result<String> {
        let col = if table == "places" { "id" } else { "place_id" };
        let place = self.tx.fetch_opt(&format!("SELECT {col} FROM {table} WHERE id = $1"), &[Arg::Int(id)]).await?;
        match place {
            Some(p) => self.town_of(p.int(0)).await,
            None => Ok("县库".into()),
        }
    }

    /// Each household's head, once its persons are in the county.
    async fn household_heads(&mut self) -> Result<()> {
        let rows = self.src.fetch("SELECT id, head_person_id FROM households WHERE head_person_id IS NOT NULL", &[]).await?;
        for r in rows {
            let Some(h) = self.mapped("households", r.int(0)).filter(|m| !m.linked) else { continue };
            let Some(head) = self.target("persons", r.opt_int(1)) else { continue };
            self.tx
                .exec(
                    "UPDATE households SET head_person_id = $1 WHERE id = $2 AND (head_person_id IS NULL OR head_person_id <> $1)",
                    &[Arg::Int(head), Arg::Int(h.target)],
                )
                .await?;
        }
        Ok(())
    }

    /// A ledger's records, with their states, versions and voids.
    async fn records(&mut self, sdef: &LedgerDef, tdef: &LedgerDef) -> Result<()> {
        let table = sdef.table_name();
        let label = format!("记录：{}", sdef.name);
        let rows = self.src.fetch(&format!("SELECT {} FROM {table} ORDER BY id", crate::records::select_list(sdef)), &[]).await?;
        let mut names: Vec<String> = [
            "place_id", "subject_id", "state", "state_since", "concerns_year", "row_version", "created_at", "updated_at", "created_by",
            "updated_by", "voided_at", "voided_by", "void_reason",
        ]
        .map(String::from)
        .to_vec();
        names.extend(sdef.fields.iter().map(|f| crate::ledgers::quote(&f.key)));
        let subject_kind = subject_table(sdef.subject);
        let mut seen = HashSet::new();
        let mut left_out = 0;
        for r in rows {
            let rec = crate::records::from_row(sdef, &r);
            seen.insert(rec.id);
            let Some(place) = self.target("places", Some(rec.place_id)) else {
                self.count(&table, &label).not_merged += 1;
                left_out += 1;
                continue;
            };
            let subject = subject_kind.and_then(|k| self.target(k, rec.subject_id));
            let mut args: Vec<Arg> = vec![
                Arg::Int(place),
                subject.into(),
                rec.state.clone().into(),
                rec.state_since.into(),
                rec.concerns_year.map(i64::from).into(),
                Arg::Int(rec.row_version),
                Arg::Text(rec.created_at.clone()),
                Arg::Text(rec.updated_at.clone()),
                Arg::Text(rec.created_by.clone()),
                Arg::Text(rec.updated_by.clone()),
                rec.voided.as_ref().map(|v| v.at.clone()).into(),
                rec.voided.as_ref().map(|v| v.by.clone()).into(),
                rec.voided.as_ref().map(|v| v.reason.clone()).into(),
            ];
            for f in &sdef.fields {
                let v = rec.values.get(&f.key).cloned().unwrap_or(Value::Null);
                let v = match (f.kind, &v, f.target.as_ref().map(ref_table)) {
                    (FieldKind::Reference, Value::Int(id), Some(kind)) => self.target(&kind, Some(*id)).map_or(Value::Null, Value::Int),
                    _ => v,
                };
                // The county's column type, which a compatible definition shares.
                let kind = tdef.field(&f.key).map_or(f.kind, |g| g.kind);
                args.push(crate::records::to_arg(kind, &v));
            }
            match self.mapped(&table, rec.id) {
                Some(m) if rec.row_version <= m.version => self.count(&table, &label).unchanged += 1,
                Some(m) => {
                    let now = self.tx.fetch_one(&format!("SELECT row_version FROM {table} WHERE id = $1"), &[Arg::Int(m.target)]).await?.int(0);
                    if now != m.version {
                        self.conflict(&table, &label, format!("「{}」第 {} 号记录在{}和县库里都改过（上次合并后），县库的未被覆盖", sdef.name, rec.id, self.town_name));
                        continue;
                    }
                    update_row(&mut self.tx, &table, m.target, &names, args).await?;
                    self.remember(&table, rec.id, m.target, rec.row_version, false).await?;
                    self.count(&table, &label).updated += 1;
                }
                None => {
                    let id = insert_row(&mut self.tx, &table, &names, args).await?;
                    self.remember(&table, rec.id, id, rec.row_version, false).await?;
                    self.count(&table, &label).added += 1;
                }
            }
        }
        if left_out > 0 {
            self.not_merged.push(format!("「{}」{left_out} 条记录：所在的地点未能并入，未合并", sdef.name));
        }
        // A record the town no longer has follows as voided (records are voided, not deleted,
        // by the program; a row gone from the file was removed behind its back).
        let gone: Vec<(i64, Mapped)> =
            self.map.iter().filter(|((k, sid), _)| *k == table && !seen.contains(sid)).map(|((_, sid), m)| (*sid, *m)).collect();
        for (_, m) in gone {
            let now = crate::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let n = self
                .tx
                .exec(
                    &format!("UPDATE {table} SET voided_at = $1, voided_by = $2, void_reason = $3 WHERE id = $4 AND voided_at IS NULL"),
                    &[now.into(), self.actor.name().into(), format!("{}的数据库中已没有这条记录（合并时作废）", self.town_name).into(), Arg::Int(m.target)],
                )
                .await?;
            if n > 0 {
                self.count(&table, &label).updated += 1;
            }
        }
        Ok(())
    }

    /// Attachments of records that came over; a void in the town follows.
    async fn attachments(&mut self) -> Result<()> {
        const KIND: &str = "attachments";
        const LABEL: &str = "佐证材料";
        let rows = self
            .src
            .fetch(
                "SELECT id, ledger, record_id, place_id, file_name, content_type, size_bytes, sha256, created_at, created_by, voided_at, voided_by, void_reason FROM attachments ORDER BY id",
                &[],
            )
            .await?;
        let time = |s: Option<String>| -> Result<Arg> {
            match s {
                Some(t) => parse_time(&t).map(Arg::Time).ok_or_else(|| StoreError::Internal(format!("attachments: {t}"))),
                None => Ok(Arg::NullText),
            }
        };
        let mut left_out = 0;
        for r in rows {
            let sid = r.int(0);
            let version = i64::from(r.opt_text(10).is_some());
            if let Some(m) = self.mapped(KIND, sid) {
                if version > m.version {
                    let args = vec![time(r.opt_text(10))?, r.opt_text(11).into(), r.opt_text(12).into()];
                    let names = ["voided_at", "voided_by", "void_reason"].map(String::from).to_vec();
                    update_row(&mut self.tx, KIND, m.target, &names, args).await?;
                    self.remember(KIND, sid, m.target, version, false).await?;
                    self.count(KIND, LABEL).updated += 1;
                } else {
                    self.count(KIND, LABEL).unchanged += 1;
                }
                continue;
            }
            let ledger = r.text(1);
            let (Some(record), Some(place)) = (self.target(&format!("ld_{ledger}"), r.opt_int(2)), self.target("places", r.opt_int(3))) else {
                self.count(KIND, LABEL).not_merged += 1;
                left_out += 1;
                continue;
            };
            let out = match self.src.engine() {
                Engine::Sqlite => "hex(bytes)",
                Engine::Postgres => "encode(bytes, 'hex')",
            };
            let hex = self.src.fetch_one(&format!("SELECT {out} FROM attachments WHERE id = $1"), &[Arg::Int(sid)]).await?.text(0);
            let args = vec![
                Arg::Text(ledger),
                Arg::Int(record),
                Arg::Int(place),
                r.text(4).into(),
                r.text(5).into(),
                Arg::Int(r.int(6)),
                r.text(7).into(),
                Arg::Text(hex),
                time(r.opt_text(8))?,
                r.text(9).into(),
                time(r.opt_text(10))?,
                r.opt_text(11).into(),
                r.opt_text(12).into(),
            ];
            let bytes_in = match self.tx.engine() {
                Engine::Sqlite => "unhex({})",
                Engine::Postgres => "decode({}, 'hex')",
            };
            let (mut exprs, bound) = values_sql(&self.tx, args, 1);
            exprs[7] = bytes_in.replace("{}", &exprs[7]);
            let sql = format!(
                "INSERT INTO attachments (ledger, record_id, place_id, file_name, content_type, size_bytes, sha256, bytes, created_at, created_by, voided_at, voided_by, void_reason) VALUES ({}) RETURNING id",
                exprs.join(", ")
            );
            let id = self.tx.insert(&sql, &bound).await?;
            self.remember(KIND, sid, id, version, false).await?;
            self.count(KIND, LABEL).added += 1;
        }
        if left_out > 0 {
            self.not_merged.push(format!("{left_out} 份佐证材料：所属记录未合并"));
        }
        Ok(())
    }

    /// Settings hold for the whole database, not per town: the town's values are compared
    /// with the county's and listed where they differ; the county's are never overwritten.
    async fn settings(&mut self) -> Result<()> {
        const KIND: &str = "settings";
        const LABEL: &str = "参数";
        let rows = self.src.fetch("SELECT key, year, value, text_value FROM settings ORDER BY key, year", &[]).await?;
        // Named and shown as the settings page shows them (元, not 分), where the key is known.
        let defs = taizhang_domain::setting::builtin().unwrap_or_default();
        for r in rows {
            let (key, year) = (r.text(0), r.int(1));
            let county = self.tx.fetch_opt("SELECT value, text_value FROM settings WHERE key = $1 AND year = $2", &[key.as_str().into(), Arg::Int(year)]).await?;
            let def = defs.iter().find(|d| d.key == key);
            let show = |v: i64, t: Option<String>| {
                let value = t.map_or(taizhang_domain::setting::SettingValue::Number(v), taizhang_domain::setting::SettingValue::Text);
                match def {
                    Some(d) => d.show(&value),
                    None => match value {
                        taizhang_domain::setting::SettingValue::Number(n) => n.to_string(),
                        taizhang_domain::setting::SettingValue::Text(t) => t,
                    },
                }
            };
            let key = def.map_or(key.clone(), |d| d.label.clone());
            let town_value = show(r.int(2), r.opt_text(3));
            match county {
                Some(c) if c.int(0) == r.int(2) && c.opt_text(1) == r.opt_text(3) => self.count(KIND, LABEL).unchanged += 1,
                other => {
                    let county_value = other.map_or("县库未设".to_string(), |c| format!("县库为 {}", show(c.int(0), c.opt_text(1))));
                    let year = if year == 0 { "各年".to_string() } else { format!("{year}年") };
                    self.count(KIND, LABEL).not_merged += 1;
                    self.not_merged.push(format!(
                        "参数「{key}」（{year}）：镇库为 {town_value}，{county_value}。参数对整个数据库生效，不能按镇分别保存，县库的值未改"
                    ));
                }
            }
        }
        Ok(())
    }

    async fn users(&mut self) -> Result<()> {
        let n = self.src.fetch_one("SELECT COUNT(*) FROM users", &[]).await?.int(0);
        if n > 0 {
            self.count("users", "用户账号").not_merged += u64::try_from(n).unwrap_or(0);
            self.not_merged.push(format!("{n} 个用户账号：账号不合并，县库的账号由县里的系统管理员开设"));
        }
        Ok(())
    }

    /// The town's audit entries not merged before, appended to the county's chain.
    async fn audit_trail(&mut self) -> Result<()> {
        const KIND: &str = "audit";
        const LABEL: &str = "操作日志";
        let done = self.mapped(KIND, 0).map_or(0, |m| m.version);
        let rows = self
            .src
            .fetch(
                "SELECT id, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note FROM audit WHERE id > $1 ORDER BY id",
                &[Arg::Int(done)],
            )
            .await?;
        let Some(last) = rows.last().map(|r| r.int(0)) else {
            return Ok(());
        };
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = r.int(0);
            let at = parse_time(&r.text(1)).unwrap_or_else(crate::now);
            let entity = r.text(4);
            let kind = mapped_entity(&entity);
            let place_id = self.target("places", r.opt_int(7));
            let mut note = format!("合并自{}（{}）第 {id} 条", self.town_name, self.source);
            let original = r.text(10);
            let (first, run_last) = (r.opt_int(5), r.opt_int(6));
            // The ids the entry is about, in the county: a run of records splits where the
            // county's ids stop following one another.
            let mut runs: Vec<(Option<i64>, Option<i64>)> = Vec::new();
            match (kind, first) {
                (Some(k), Some(f)) => {
                    let upto = run_last.unwrap_or(f);
                    let mut cur: Option<(i64, i64)> = None;
                    for sid in f..=upto {
                        let Some(t) = self.target(k, Some(sid)) else { continue };
                        cur = match cur {
                            Some((a, b)) if t == b + 1 => Some((a, t)),
                            Some((a, b)) => {
                                runs.push((Some(a), (b != a || run_last.is_some()).then_some(b)));
                                Some((t, t))
                            }
                            None => Some((t, t)),
                        };
                    }
                    match cur {
                        Some((a, b)) => runs.push((Some(a), run_last.map(|_| b))),
                        None => {
                            note.push_str(&format!("（镇库编号 {f}）"));
                            runs.push((None, None));
                        }
                    }
                }
                (None, Some(f)) => {
                    note.push_str(&format!("（镇库编号 {f}）"));
                    runs.push((None, None));
                }
                (_, None) => runs.push((None, None)),
            }
            if !original.is_empty() {
                note.push('：');
                note.push_str(&original);
            }
            for (entity_id, last_entity_id) in runs {
                entries.push(NewEntry {
                    at,
                    actor: r.text(2),
                    action: r.text(3),
                    entity: entity.clone(),
                    entity_id,
                    last_entity_id,
                    place_id,
                    before_json: r.opt_text(8),
                    after_json: r.opt_text(9),
                    note: note.clone(),
                });
            }
        }
        self.count(KIND, LABEL).added += rows.len() as u64;
        audit::append_entries(&mut self.tx, entries).await?;
        self.remember(KIND, 0, 0, last, false).await
    }
}

/// The table whose ids an audit entry's entity_id names, when merged.
fn mapped_entity(entity: &str) -> Option<&str> {
    match entity {
        "places" | "persons" | "households" | "household_events" | "cadres" | "organisations" | "attachments" => Some(entity),
        e if e.starts_with("ld_") => Some(e),
        _ => None,
    }
}

fn subject_table(kind: SubjectKind) -> Option<&'static str> {
    match kind {
        SubjectKind::Person => Some("persons"),
        SubjectKind::Household => Some("households"),
        SubjectKind::Cadre => Some("cadres"),
        SubjectKind::Organisation => Some("organisations"),
        SubjectKind::Place => Some("places"),
        SubjectKind::None => None,
    }
}

fn ref_table(t: &RefTarget) -> String {
    match t {
        RefTarget::Person => "persons".into(),
        RefTarget::Household => "households".into(),
        RefTarget::Cadre => "cadres".into(),
        RefTarget::Organisation => "organisations".into(),
        RefTarget::Place => "places".into(),
        RefTarget::Ledger(k) => taizhang_domain::ledger::table_name(k),
    }
}

/// Ledgers referred to by another's fields come first, so that a reference finds its record
/// already merged (a cycle keeps the rest in key order).
fn order_by_references(mut defs: Vec<(LedgerDef, LedgerDef)>) -> Vec<(LedgerDef, LedgerDef)> {
    let mut out = Vec::with_capacity(defs.len());
    while !defs.is_empty() {
        let keys: HashSet<String> = defs.iter().map(|(d, _)| d.key.clone()).collect();
        let ready = defs.iter().position(|(d, _)| {
            !d.fields.iter().any(|f| matches!(&f.target, Some(RefTarget::Ledger(k)) if k != &d.key && keys.contains(k)))
        });
        out.push(defs.remove(ready.unwrap_or(0)));
    }
    out
}

/// A row named in a message: a person by name and masked ID number, a household by number.
fn describe(table: &str, names: &[String], r: &Row) -> String {
    let col = |c: &str| names.iter().position(|n| n == c).map(|i| r.text(i + 1)).unwrap_or_default();
    match table {
        "persons" => format!("人员「{}」（公民身份号码 {}）", col("name"), mask(Class::IdNumber, &col("id_number"))),
        "households" => format!("户「{}」", col("number")),
        "organisations" => format!("单位「{}」（统一社会信用代码 {}）", col("name"), col("uscc")),
        "cadres" => format!("干部「{}」", col("name")),
        _ => format!("户的变动（镇库编号 {}）", r.int(0)),
    }
}

//! Exporting a ledger to .xlsx or .csv, and blank templates, in the form import reads back.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use taizhang_domain::ledger::{FieldDef, FieldKind, LedgerDef, RefTarget, SubjectKind};
use taizhang_domain::masking::{Class, Policy, Treatment};
use taizhang_domain::period::Period;
use taizhang_domain::value::{Record, Value};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{ledgers, Arg, Db, Scope, Tx};
use taizhang_tabular::{write_template, CsvOut, OutCell, OutColumn, OutKind, XlsxOut};

use crate::columns::{field_note, has_place_column, out_kind, subject_labels, subject_note, PLACE_LABELS, STATE_LABELS, STATE_SINCE_LABELS, YEAR_LABELS};
use crate::progress::Progress;
use crate::{ExchangeError, Result};

/// Which records an export takes, and what the reader may see of them.
#[derive(Debug, Clone)]
pub struct ExportQuery {
    pub period: Option<Period>,
    pub as_of: Option<NaiveDate>,
    /// The masking policy of whoever exports: every marked field, and a person subject's ID
    /// number, goes through `Policy::reveal` (a hidden field's column stays, empty).
    pub policy: Policy,
}

impl Default for ExportQuery {
    /// Everything in the period, as stored: the console operator's export.
    fn default() -> Self {
        ExportQuery { period: None, as_of: None, policy: Policy::FULL }
    }
}

/// What an export wrote: how many rows, which records and the persons they are about (for the
/// read entry of the audit trail).
#[derive(Debug, Clone, Default)]
pub struct Exported {
    pub rows: u64,
    pub ids: Vec<i64>,
    pub persons: Vec<i64>,
    pub places: Vec<i64>,
}

const PAGE: i64 = 5_000;

/// The columns of an export: subject (or place), 所属年度, a workflow ledger's 状态 and
/// 状态日期 (a dropdown of the states in a template), then every field, retired ones too.
pub fn ledger_columns(def: &LedgerDef, for_template: bool) -> Vec<OutColumn> {
    let mut cols = Vec::new();
    if let Some(label) = subject_labels(def.subject).first() {
        let kind = if def.subject == SubjectKind::Person { OutKind::IdText } else { OutKind::Text };
        cols.push(OutColumn::new(label, kind).with_note(subject_note(def.subject)));
    }
    if has_place_column(def) {
        cols.push(OutColumn::new(PLACE_LABELS[0], OutKind::Text).with_note("必填；村名（或「村/组」、区划代码）"));
    }
    if def.concerns_year {
        cols.push(OutColumn::new(YEAR_LABELS[0], OutKind::Int).with_note("选填；记录所涉年度与发生年度不同时填写，如 2024"));
    }
    if let Some(wf) = &def.workflow {
        let states: Vec<String> = wf.states.iter().map(|s| s.label.clone()).collect();
        let note = format!(
            "选填；记录目前所处的状态，不填为「{}」。填其他状态时，须填齐办到该状态所需的字段，并符合办理条件",
            wf.state_label(&wf.initial)
        );
        cols.push(OutColumn::new(STATE_LABELS[0], OutKind::Enum(states)).with_note(&note));
        cols.push(OutColumn::new(STATE_SINCE_LABELS[0], OutKind::Date).with_note("选填；进入该状态的日期，如 2023-06-30；不填取该状态的办结日期（如风险消除日期），再不填为导入当天"));
    }
    for f in &def.fields {
        if for_template && f.retired {
            continue;
        }
        cols.push(OutColumn::new(&f.label, out_kind(f)).with_note(&field_note(f)));
    }
    cols
}

/// A ledger by key or by its Chinese name.
pub(crate) async fn ledger_by_key_or_name(tx: &mut Tx, s: &str) -> Result<LedgerDef> {
    let s = s.trim();
    ledgers::all(tx)
        .await?
        .into_iter()
        .find(|d| d.key == s || d.name == s)
        .ok_or_else(|| ExchangeError::Usage(format!("没有台账「{s}」（可用 ledgers 命令查看台账键和名称）")))
}

/// Writes a blank import template for the ledger (key or name).
pub async fn write_ledger_template(db: &Db, key: &str, path: &Path) -> Result<()> {
    let mut tx = db.read().await?;
    let def = ledger_by_key_or_name(&mut tx, key).await?;
    drop(tx);
    let cols = ledger_columns(&def, true);
    write_template(path, &def.name, &cols, &format!("{}（导入模板）", def.name))?;
    Ok(())
}

/// Reference texts by (target, id), looked up once each.
struct Names {
    cache: HashMap<(String, i64), String>,
}

impl Names {
    async fn get(&mut self, tx: &mut Tx, target: &RefTarget, id: i64) -> Result<String> {
        let key = (target.as_str(), id);
        if let Some(s) = self.cache.get(&key) {
            return Ok(s.clone());
        }
        let text = match target {
            RefTarget::Person => one(tx, "SELECT id_number FROM persons WHERE id = $1", id).await?,
            RefTarget::Household => one(tx, "SELECT number FROM households WHERE id = $1", id).await?,
            RefTarget::Cadre => {
                let name = one(tx, "SELECT name FROM cadres WHERE id = $1", id).await?;
                let same = tx.fetch("SELECT id FROM cadres WHERE name = $1", &[Arg::Text(name.clone())]).await?;
                if same.len() > 1 { format!("#{id}") } else { name }
            }
            RefTarget::Organisation => {
                let row = tx.fetch_opt("SELECT name, uscc FROM organisations WHERE id = $1", &[Arg::Int(id)]).await?;
                match row {
                    Some(r) => {
                        let name = r.text(0);
                        let same = tx.fetch("SELECT id FROM organisations WHERE name = $1", &[Arg::Text(name.clone())]).await?;
                        match (same.len(), r.opt_text(1)) {
                            (1, _) => name,
                            (_, Some(code)) if !code.is_empty() => code,
                            _ => format!("#{id}"),
                        }
                    }
                    None => format!("#{id}"),
                }
            }
            RefTarget::Place => {
                let row = tx
                    .fetch_opt(
                        "SELECT p.name, q.name, (SELECT COUNT(*) FROM places s WHERE s.name = p.name) FROM places p LEFT JOIN places q ON q.id = p.parent_id WHERE p.id = $1",
                        &[Arg::Int(id)],
                    )
                    .await?;
                match row {
                    Some(r) if r.int(2) > 1 => match r.opt_text(1) {
                        Some(parent) => format!("{parent}/{}", r.text(0)),
                        None => r.text(0),
                    },
                    Some(r) => r.text(0),
                    None => format!("#{id}"),
                }
            }
            RefTarget::Ledger(_) => id.to_string(),
        };
        self.cache.insert(key, text.clone());
        Ok(text)
    }
}

async fn one(tx: &mut Tx, sql: &str, id: i64) -> Result<String> {
    Ok(tx.fetch_opt(sql, &[Arg::Int(id)]).await?.map_or_else(|| format!("#{id}"), |r| r.text(0)))
}

async fn field_cell(tx: &mut Tx, names: &mut Names, f: &FieldDef, v: Option<&Value>) -> Result<OutCell> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(OutCell::Empty) };
    Ok(match (f.kind, v) {
        (FieldKind::Money, Value::Int(i)) => OutCell::Money(*i),
        (FieldKind::Decimal, Value::Int(i)) => OutCell::Scaled { raw: *i, scale: f.scale },
        (FieldKind::Integer | FieldKind::Year, Value::Int(i)) => OutCell::Int(*i),
        (FieldKind::Date, Value::Date(d)) => OutCell::Date(*d),
        (FieldKind::Boolean, Value::Bool(b)) => OutCell::Bool(*b),
        (FieldKind::MultiEnum, Value::List(l)) => OutCell::Text(l.join("、")),
        (FieldKind::Reference, Value::Int(id)) => match &f.target {
            Some(t) => OutCell::Text(names.get(tx, t, *id).await?),
            None => OutCell::Text(format!("#{id}")),
        },
        (_, Value::Text(s)) => OutCell::Text(s.clone()),
        (_, Value::Int(i)) => OutCell::Int(*i),
        (_, Value::Date(d)) => OutCell::Date(*d),
        (_, Value::Bool(b)) => OutCell::Bool(*b),
        (_, Value::List(l)) => OutCell::Text(l.join("、")),
        (_, Value::Null) => OutCell::Empty,
    })
}

async fn row_cells(tx: &mut Tx, names: &mut Names, def: &LedgerDef, r: &Record, policy: &Policy) -> Result<Vec<OutCell>> {
    let mut cells = Vec::with_capacity(def.fields.len() + 1);
    if let Some(t) = RefTarget::of_subject(def.subject) {
        cells.push(match r.subject_id {
            // A person subject is written by ID number: as the reader may see it.
            Some(id) if t == RefTarget::Person => match policy.reveal(Class::IdNumber, &names.get(tx, &t, id).await?) {
                Some(shown) => OutCell::Text(shown),
                None => OutCell::Empty,
            },
            Some(id) => OutCell::Text(names.get(tx, &t, id).await?),
            None => OutCell::Empty,
        });
    }
    if has_place_column(def) {
        cells.push(OutCell::Text(names.get(tx, &RefTarget::Place, r.place_id).await?));
    }
    if def.concerns_year {
        cells.push(r.concerns_year.map_or(OutCell::Empty, |y| OutCell::Int(i64::from(y))));
    }
    if let Some(wf) = &def.workflow {
        cells.push(r.state.as_deref().map_or(OutCell::Empty, |s| OutCell::Text(wf.state_label(s).to_string())));
        cells.push(r.state_since.map_or(OutCell::Empty, OutCell::Date));
    }
    for f in &def.fields {
        let cell = field_cell(tx, names, f, r.values.get(&f.key)).await?;
        cells.push(match (Class::of_field(f), &cell) {
            (None, _) | (_, OutCell::Empty) => cell,
            (Some(_), _) => match policy.field(f) {
                Treatment::Full => cell,
                Treatment::Masked => policy.reveal_field(f, &cell_text(&cell)).map_or(OutCell::Empty, OutCell::Text),
                Treatment::Hidden => OutCell::Empty,
            },
        });
    }
    Ok(cells)
}

/// A cell's text, for masking (marked fields are text, enums or lists in practice).
fn cell_text(c: &OutCell) -> String {
    match c {
        OutCell::Text(t) => t.clone(),
        OutCell::Int(i) => i.to_string(),
        OutCell::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        OutCell::Date(d) => d.to_string(),
        other => format!("{other:?}"),
    }
}

enum Out {
    Xlsx(Box<XlsxOut>),
    Csv(Box<CsvOut>),
}

/// Exports a ledger's records (key or name) in scope to `path` (.xlsx or .csv); returns the row count.
pub async fn export_ledger(db: &Db, scope: &Scope, key: &str, q: &ExportQuery, path: &Path, progress: bool) -> Result<u64> {
    Ok(export_records(db, scope, key, q, path, progress).await?.rows)
}

/// [`export_ledger`], telling which records it wrote and whom they are about.
pub async fn export_records(db: &Db, scope: &Scope, key: &str, q: &ExportQuery, path: &Path, progress: bool) -> Result<Exported> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    let mut tx = db.read().await?;
    let def = ledger_by_key_or_name(&mut tx, key).await?;
    let cols = ledger_columns(&def, false);
    let base = RecordQuery { period: q.period.clone(), as_of: q.as_of, ..Default::default() };
    let total = records::count(&mut tx, &def, scope, &base).await?;
    let mut out = match ext.as_str() {
        "xlsx" => Out::Xlsx(Box::new(XlsxOut::create(path, &def.name, cols, Some(&def.name))?)),
        "csv" => Out::Csv(Box::new(CsvOut::create(path, &cols)?)),
        _ => return Err(ExchangeError::Usage(format!("导出文件应以 .xlsx 或 .csv 结尾：{}", path.display()))),
    };
    let mut names = Names { cache: HashMap::new() };
    let mut p = Progress::new(Some(u64::try_from(total).unwrap_or(0)), "导出", progress);
    let mut written = 0u64;
    let mut exported = Exported::default();
    let mut offset = 0i64;
    loop {
        let page = RecordQuery { limit: Some(PAGE), offset: Some(offset), ..base.clone() };
        let list = records::list(&mut tx, &def, scope, &page).await?;
        for r in &list {
            let cells = row_cells(&mut tx, &mut names, &def, r, &q.policy).await?;
            exported.ids.push(r.id);
            exported.places.push(r.place_id);
            if def.subject == SubjectKind::Person {
                exported.persons.extend(r.subject_id);
            }
            for f in def.fields.iter().filter(|f| f.target == Some(RefTarget::Person)) {
                if let Some(Value::Int(id)) = r.values.get(&f.key) {
                    exported.persons.push(*id);
                }
            }
            match &mut out {
                Out::Xlsx(x) => x.write_row(&cells)?,
                Out::Csv(c) => c.write_row(&cells)?,
            }
            written += 1;
            p.set(written);
        }
        if (list.len() as i64) < PAGE {
            break;
        }
        offset += PAGE;
    }
    p.finish();
    match out {
        Out::Xlsx(x) => x.finish()?,
        Out::Csv(c) => c.finish()?,
    }
    exported.rows = written;
    Ok(exported)
}

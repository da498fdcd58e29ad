//! Importing one file into a ledger or into the registry, in one transaction.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use taizhang_domain::ledger::{FieldKind, LedgerDef, RefTarget, SubjectKind};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_domain::DomainError;
use taizhang_storage::backend::Pauses;
use taizhang_storage::{ledgers, records, refs, Db, Scope, StoreError, Tx};
use taizhang_tabular::{Cell, ColumnSpec, OutColumn, OutKind, RawRow, SheetLayout, SheetLooks, Source, TabularError, XlsxOut, LIST_SHEET};

use crate::columns::{ledger_specs, subject_disagrees, FIELD_PREFIX, PLACE_KEY, SEQ_KEY, SUBJECT_KEY, YEAR_KEY};
use crate::fixed::{self, FixedValues};
use crate::nondata::{classify, marker, NonData, Totals};
use crate::convert::{cell_for_field, lookup_text, ref_text, shown, Parsed};
use crate::batch_rows::{batchable, pre_parse, BatchImporter, SheetRow};
use crate::registry::templates::RegistryTarget;
use crate::stream::{stream_rows_with, Chunk, RowStream};
use crate::{ExchangeError, Result};

/// `--ledger persons` (or a sheet named 人员) imports into the registry.
pub const PERSONS_TARGET: &str = "persons";
pub(crate) const PERSONS_SHEET_NAMES: &[&str] = &["persons", "人员", "人员库", "人员信息", "花名册"];

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Ledger key or name, or `persons`; `None`: recognised by sheet name.
    pub ledger: Option<String>,
    /// Validate everything, write nothing.
    pub dry_run: bool,
    /// Commit the good rows even when some are rejected.
    pub partial: bool,
    /// Draw a progress bar on stderr for big files (only when it is a terminal).
    pub progress: bool,
    /// The file's name as the user knows it (an upload is stored under another), for the
    /// audit entries; `None`: the name of the path imported.
    pub source_name: Option<String>,
    /// Read only this sheet: its name, or its place in the workbook counting from 1
    /// (`--sheet 一村`, `--sheet 2`). `None`: every sheet whose header matches.
    pub sheet: Option<String>,
    /// Values for the whole file, (column, value): a row leaving the column blank gets the
    /// value, a row holding another value is refused (`--set 发放月份=2024-02`).
    pub set: Vec<(String, String)>,
    /// What the file may make the reader hold (`taizhang_tabular::Limits`); `None`: the
    /// defaults, for a file given at the command line. The web server reads uploads under
    /// tighter ones.
    pub limits: Option<taizhang_tabular::Limits>,
}

/// A row of the file that is not a record (合计, 小计, 制表人, 填表说明), skipped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedRow {
    pub sheet: String,
    pub row: u32,
    /// 合计行, 小计行, 签字行, 说明行.
    pub kind: String,
    pub text: String,
}

/// Why one cell (or row) was refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    pub sheet: String,
    /// Row number as Excel shows it.
    pub row: u32,
    /// Column letter and header, e.g. "F 发放金额"; empty for the row as a whole.
    pub column: String,
    pub value: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    New,
    Updated,
    Unchanged,
    Rejected,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    pub file: PathBuf,
    pub sheet: String,
    /// Ledger key, or `persons`.
    pub target: String,
    pub target_name: String,
    pub read: usize,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// One verdict per data row, in file order: (Excel row, verdict).
    pub verdicts: Verdicts,
    pub rejections: Vec<Rejection>,
    /// Columns of the file that match no field: (letter, header).
    pub unknown_columns: Vec<(String, String)>,
    pub warnings: Vec<String>,
    /// Whether anything was written.
    pub committed: bool,
    pub dry_run: bool,
    pub error_workbook: Option<PathBuf>,
    /// Each sheet of a ledger import, in workbook order: rows read, or why it was skipped.
    /// Empty for the registry's import, which reads one sheet.
    pub sheets: Vec<SheetSummary>,
    /// Rows that are not records, skipped and not counted in `read` (the first
    /// `SKIPPED_ROWS_NOTED` of each sheet; `skipped_rows_total` counts them all).
    pub skipped_rows: Vec<SkippedRow>,
    pub skipped_rows_total: usize,
}

/// What became of one sheet of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SheetSummary {
    pub name: String,
    /// Data rows read (each has a verdict).
    pub read: usize,
    /// Why the sheet was not read: 填表说明, empty, no matching header, hidden.
    pub skipped: Option<String>,
}

impl ImportReport {
    /// "读取 N 行：新增 a，更新 b，未变 c，拒绝 d"
    /// With more than one sheet, or a sheet skipped, each sheet's outcome follows:
    /// "；工作表「一村」读取 3 行，工作表「填表说明」未读取（填表说明）".
    pub fn summary(&self) -> String {
        let mut s = format!(
            "读取 {} 行：新增 {}，更新 {}，未变 {}，拒绝 {}",
            self.read, self.new, self.updated, self.unchanged, self.rejected
        );
        if self.sheets.len() > 1 || self.sheets.iter().any(|x| x.skipped.is_some()) {
            let parts: Vec<String> = self
                .sheets
                .iter()
                .map(|x| match &x.skipped {
                    Some(why) => format!("工作表「{}」未读取（{why}）", x.name),
                    None => format!("工作表「{}」读取 {} 行", x.name, x.read),
                })
                .collect();
            s.push('；');
            s.push_str(&parts.join("，"));
        }
        if self.skipped_rows_total > 0 {
            let shown: Vec<String> = self.skipped_rows.iter().take(3).map(|r| format!("第 {} 行「{}」", r.row, r.text)).collect();
            let more = if self.skipped_rows_total > shown.len() { " 等" } else { "" };
            s.push_str(&format!("；跳过非数据行 {} 行（{}{more}）", self.skipped_rows_total, shown.join("，")));
        }
        s
    }

    /// What was written, in words: for `--partial` and for several files.
    pub fn written(&self) -> String {
        if self.dry_run {
            return "试导入，未写入".into();
        }
        if !self.committed {
            return "未写入任何数据".into();
        }
        let mut s = format!("已写入：新增 {}，更新 {}", self.new, self.updated);
        if self.rejected > 0 {
            s.push_str(&format!("；被拒绝的 {} 行未写入", self.rejected));
        }
        s
    }

    pub(crate) fn skip_row(&mut self, sheet: &str, row: u32, kind: &str, text: &str) {
        self.skipped_rows_total += 1;
        if self.skipped_rows.iter().filter(|r| r.sheet == sheet).count() < taizhang_tabular::SKIPPED_ROWS_NOTED {
            self.skipped_rows.push(SkippedRow { sheet: sheet.to_string(), row, kind: kind.to_string(), text: text.to_string() });
        }
    }

    /// Every row has exactly one verdict.
    pub fn balanced(&self) -> bool {
        self.new + self.updated + self.unchanged + self.rejected == self.read && self.verdicts.len() == self.read
    }

    pub(crate) fn record(&mut self, row: u32, v: Verdict) {
        match v {
            Verdict::New => self.new += 1,
            Verdict::Updated => self.updated += 1,
            Verdict::Unchanged => self.unchanged += 1,
            Verdict::Rejected => self.rejected += 1,
        }
        self.verdicts.push(row, v);
    }
}

/// One verdict per data row, in file order, as (Excel row, verdict) pairs. Kept as runs of
/// consecutive rows and two bits a verdict, since an import holds them for the whole file: a
/// run of a million rows takes a few bytes and a quarter of a megabyte, where pairs took
/// 8 MB (and twice that while their vector grew). Serialised as the list of pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdicts {
    /// (first Excel row, index of its verdict) of each run of consecutive rows.
    runs: Vec<(u32, u32)>,
    /// The verdicts, four to a byte.
    codes: Vec<u8>,
    len: usize,
}

impl Verdicts {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, row: u32, v: Verdict) {
        let next_row = self.runs.last().map(|&(first, start)| u64::from(first) + (self.len as u64 - u64::from(start)));
        if next_row != Some(u64::from(row)) {
            // An index beyond u32 would be a file of four billion rows, far past any limit.
            self.runs.push((row, self.len as u32));
        }
        let code = match v {
            Verdict::New => 0,
            Verdict::Updated => 1,
            Verdict::Unchanged => 2,
            Verdict::Rejected => 3,
        };
        if self.len.is_multiple_of(4) {
            self.codes.push(0);
        }
        if let Some(b) = self.codes.last_mut() {
            *b |= code << (2 * (self.len % 4));
        }
        self.len += 1;
    }

    /// Every (Excel row, verdict), in file order.
    pub fn iter(&self) -> VerdictIter<'_> {
        self.iter_from(0)
    }

    /// The verdicts from the `start`th on.
    pub fn iter_from(&self, start: usize) -> VerdictIter<'_> {
        let run = self.runs.partition_point(|&(_, s)| (s as usize) <= start).saturating_sub(1);
        VerdictIter { v: self, run, at: start }
    }

    pub fn first(&self) -> Option<(u32, Verdict)> {
        self.iter().next()
    }

    fn verdict(&self, i: usize) -> Verdict {
        match (self.codes[i / 4] >> (2 * (i % 4))) & 3 {
            0 => Verdict::New,
            1 => Verdict::Updated,
            2 => Verdict::Unchanged,
            _ => Verdict::Rejected,
        }
    }
}

/// The verdicts of a [`Verdicts`], as (Excel row, verdict).
pub struct VerdictIter<'a> {
    v: &'a Verdicts,
    /// The run holding `at`.
    run: usize,
    at: usize,
}

impl Iterator for VerdictIter<'_> {
    type Item = (u32, Verdict);

    fn next(&mut self) -> Option<(u32, Verdict)> {
        if self.at >= self.v.len {
            return None;
        }
        while self.v.runs.get(self.run + 1).is_some_and(|&(_, s)| s as usize <= self.at) {
            self.run += 1;
        }
        let (first, start) = self.v.runs[self.run];
        let row = first + (self.at - start as usize) as u32;
        let verdict = self.v.verdict(self.at);
        self.at += 1;
        Some((row, verdict))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.v.len.saturating_sub(self.at);
        (n, Some(n))
    }
}

impl ExactSizeIterator for VerdictIter<'_> {}

impl<'a> IntoIterator for &'a Verdicts {
    type Item = (u32, Verdict);
    type IntoIter = VerdictIter<'a>;

    fn into_iter(self) -> VerdictIter<'a> {
        self.iter()
    }
}

impl FromIterator<(u32, Verdict)> for Verdicts {
    fn from_iter<I: IntoIterator<Item = (u32, Verdict)>>(iter: I) -> Verdicts {
        let mut v = Verdicts::default();
        for (row, verdict) in iter {
            v.push(row, verdict);
        }
        v
    }
}

impl serde::Serialize for Verdicts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Where a spec's column sits, for messages: "F 发放金额".
pub(crate) struct Columns {
    pub(crate) specs: Vec<ColumnSpec>,
    names: Vec<String>,
}

impl Columns {
    pub(crate) fn new(specs: Vec<ColumnSpec>, layout: &SheetLayout) -> Columns {
        let mut names: Vec<String> = specs.iter().map(|s| s.display_label().to_string()).collect();
        for b in &layout.columns {
            if let Some(n) = names.get_mut(b.spec) {
                *n = format!("{} {}", b.letter, b.header);
            }
        }
        Columns { specs, names }
    }

    pub(crate) fn index(&self, key: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.key == key)
    }

    pub(crate) fn name(&self, i: usize) -> String {
        self.names.get(i).cloned().unwrap_or_default()
    }
}

/// Collects the rejections of one row.
pub(crate) struct RowErrors<'a> {
    pub(crate) sheet: &'a str,
    pub(crate) row: &'a RawRow,
    pub(crate) cols: &'a Columns,
    pub(crate) list: Vec<Rejection>,
}

impl RowErrors<'_> {
    pub(crate) fn at(&mut self, spec: Option<usize>, reason: impl Into<String>) {
        let (column, value) = match spec {
            Some(i) => (self.cols.name(i), self.row.cells.get(i).map(shown).unwrap_or_default()),
            None => (String::new(), String::new()),
        };
        self.list.push(Rejection { sheet: self.sheet.to_string(), row: self.row.excel_row, column, value, reason: reason.into() });
    }

    pub(crate) fn by_key(&mut self, key: &str, reason: impl Into<String>) {
        let i = self.cols.index(key);
        self.at(i, reason);
    }

    /// A lookup in column `i` failed.
    pub(crate) fn store_at(&mut self, e: StoreError, i: usize) -> Result<()> {
        match e {
            StoreError::Domain(_) | StoreError::Database(_) | StoreError::Connect(_) | StoreError::Internal(_) => self.store(e),
            other => {
                self.at(Some(i), other.to_string());
                Ok(())
            }
        }
    }

    /// Maps a storage refusal onto the columns it names.
    pub(crate) fn store(&mut self, e: StoreError) -> Result<()> {
        match e {
            StoreError::Domain(DomainError::Fields(list)) => {
                for fe in list {
                    let key = match fe.key.as_str() {
                        "subject_id" => SUBJECT_KEY.to_string(),
                        "place_id" => PLACE_KEY.to_string(),
                        k => format!("{FIELD_PREFIX}{k}"),
                    };
                    match self.cols.index(&key) {
                        Some(i) => self.at(Some(i), fe.reason),
                        None => self.at(None, fe.to_string()),
                    }
                }
                Ok(())
            }
            StoreError::Database(_) | StoreError::Connect(_) | StoreError::Internal(_) | StoreError::NewerDatabase(_) => {
                Err(e.into())
            }
            other => {
                self.at(None, other.to_string());
                Ok(())
            }
        }
    }
}

/// Runs `f` inside a savepoint, so a refused write leaves the transaction usable
/// (PostgreSQL aborts a transaction on any failed statement).
pub(crate) async fn savepoint<T>(tx: &mut Tx, r: std::result::Result<T, StoreError>) -> Result<std::result::Result<T, StoreError>> {
    match &r {
        Ok(_) => tx.exec_script("RELEASE SAVEPOINT taizhang_row").await?,
        Err(_) => tx.exec_script("ROLLBACK TO SAVEPOINT taizhang_row; RELEASE SAVEPOINT taizhang_row").await?,
    }
    Ok(r)
}

enum Target {
    Ledger(Box<LedgerDef>),
    Persons,
    /// Households, cadres or organisations.
    Registry(RegistryTarget),
}

fn is_persons(s: &str) -> bool {
    PERSONS_SHEET_NAMES.contains(&s.trim())
}

/// Picks what the file goes into, and the sheets to read for it: for a ledger named by
/// `--ledger`, every sheet (each is read if its header matches); for one recognised by a
/// sheet's name, the sheets of that name (a workbook may hold several ledgers).
async fn choose_sheets(tx: &mut Tx, source: &Source, ledger: Option<&str>, only: Option<&str>) -> Result<(Vec<(String, bool)>, Target)> {
    let all: Vec<(String, bool)> = source.sheets().into_iter().filter(|s| s.name != LIST_SHEET).map(|s| (s.name, s.hidden)).collect();
    if let Some(only) = only {
        let sheet = pick_sheet(&all, only)?;
        let target = match ledger {
            Some(_) => choose(tx, source, ledger).await?.1,
            None if is_persons(&sheet) => Target::Persons,
            None if RegistryTarget::parse(&sheet).is_some() => RegistryTarget::parse(&sheet).map_or(Target::Persons, Target::Registry),
            None => match ledgers::all(tx).await?.into_iter().find(|d| d.name == sheet.trim() || d.key == sheet.trim()) {
                Some(d) => Target::Ledger(Box::new(d)),
                None => {
                    return Err(ExchangeError::Usage(format!(
                        "无法从工作表名「{sheet}」认出要导入哪个台账，请用 --ledger 指定台账键或名称（人员库为 persons）"
                    )))
                }
            },
        };
        // Chosen by name, a hidden sheet is read all the same.
        return Ok((vec![(sheet, false)], target));
    }
    let (sheet, target) = choose(tx, source, ledger).await?;
    let sheets = match &target {
        Target::Persons | Target::Registry(_) => vec![(sheet, false)],
        Target::Ledger(_) if ledger.is_some() => all,
        Target::Ledger(def) => all.into_iter().filter(|(s, _)| s.trim() == def.name || s.trim() == def.key).collect(),
    };
    Ok((sheets, target))
}

/// The sheet `--sheet` names: by name, else by its place in the workbook counting from 1.
fn pick_sheet(all: &[(String, bool)], only: &str) -> Result<String> {
    let only = only.trim();
    if let Some((name, _)) = all.iter().find(|(n, _)| n.trim() == only) {
        return Ok(name.clone());
    }
    if let Ok(n) = only.parse::<usize>() {
        if let Some((name, _)) = n.checked_sub(1).and_then(|i| all.get(i)) {
            return Ok(name.clone());
        }
    }
    let names: Vec<String> = all.iter().enumerate().map(|(i, (n, _))| format!("{}「{n}」", i + 1)).collect();
    Err(ExchangeError::Usage(format!("文件中没有工作表「{only}」（有：{}）", names.join("、"))))
}

/// Picks the sheet and what it goes into.
async fn choose(tx: &mut Tx, source: &Source, ledger: Option<&str>) -> Result<(String, Target)> {
    let sheets: Vec<String> = source.sheet_names().into_iter().filter(|s| s != LIST_SHEET).collect();
    let first = sheets.first().cloned().ok_or_else(|| ExchangeError::Usage("文件中没有工作表".into()))?;
    match ledger {
        Some(l) if is_persons(l) => {
            let sheet = sheets.iter().find(|s| is_persons(s)).cloned().unwrap_or(first);
            Ok((sheet, Target::Persons))
        }
        Some(l) if RegistryTarget::parse(l).is_some() => {
            let t = RegistryTarget::parse(l);
            let sheet = sheets.iter().find(|s| RegistryTarget::parse(s) == t).cloned().unwrap_or(first);
            Ok((sheet, t.map_or(Target::Persons, Target::Registry)))
        }
        Some(l) => {
            let def = crate::export::ledger_by_key_or_name(tx, l).await?;
            let sheet = sheets.iter().find(|s| s.trim() == def.name || s.trim() == def.key).cloned().unwrap_or(first);
            Ok((sheet, Target::Ledger(Box::new(def))))
        }
        None => {
            let all = ledgers::all(tx).await?;
            for s in &sheets {
                if is_persons(s) {
                    return Ok((s.clone(), Target::Persons));
                }
                if let Some(t) = RegistryTarget::parse(s) {
                    return Ok((s.clone(), Target::Registry(t)));
                }
                if let Some(d) = all.iter().find(|d| d.name == s.trim() || d.key == s.trim()) {
                    return Ok((s.clone(), Target::Ledger(Box::new(d.clone()))));
                }
            }
            Err(ExchangeError::Usage(format!(
                "无法从工作表名（{}）认出要导入哪个台账，请用 --ledger 指定台账键或名称（人员库为 persons，户、干部、单位为 households、cadres、organisations）",
                sheets.join("、")
            )))
        }
    }
}

/// Rows written by one import from which the planner's statistics are refreshed after it.
const STATISTICS_AFTER_ROWS: usize = 10_000;

/// Imports one file. Row problems become verdicts; only what stops the whole file is an error.
pub async fn import_file(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    path: &Path,
    opts: &ImportOptions,
    today: NaiveDate,
) -> Result<ImportReport> {
    let mut outcomes = import_files(db, actor, scope, &[path.to_path_buf()], opts, today).await?;
    outcomes.pop().map(|o| o.result).unwrap_or_else(|| Err(ExchangeError::Usage("没有要导入的文件".into())))
}

/// What became of one file of several.
#[derive(Debug)]
pub struct FileOutcome {
    pub file: PathBuf,
    /// The file's report, or why it could not be imported at all (it cannot be opened, no
    /// sheet matches, …): nothing of it is written then.
    pub result: Result<ImportReport>,
}

/// Imports several files in one transaction: each file gets its outcome, and by default
/// nothing is written if any file fails or has a refused row (all or nothing across the
/// command). With `partial`, the files that could be read keep their good rows, and each
/// report says what was written. Only a failure of the database itself is an `Err`.
pub async fn import_files(
    db: &Db,
    actor: &Actor,
    scope: &Scope,
    paths: &[PathBuf],
    opts: &ImportOptions,
    today: NaiveDate,
) -> Result<Vec<FileOutcome>> {
    // A dry run first tries without taking the write lock until it writes (on SQLite), so
    // that checking a file blocks nobody; should another writer have committed meanwhile, it
    // is run again holding the lock from the start.
    let (tx, mut outcomes) = match opts.dry_run {
        true => match import_in_tx(db.begin_bulk_trial().await?, actor, scope, paths, opts, today).await {
            Err(ExchangeError::Store(e)) if e.is_busy() => import_in_tx(db.begin_bulk().await?, actor, scope, paths, opts, today).await?,
            other => other?,
        },
        false => import_in_tx(db.begin_bulk().await?, actor, scope, paths, opts, today).await?,
    };
    let clean = outcomes.iter().all(|o| o.result.as_ref().is_ok_and(|r| r.rejected == 0));
    let write = !opts.dry_run && (clean || opts.partial);
    if write {
        tx.commit().await?;
        let mut written = 0;
        for r in outcomes.iter_mut().filter_map(|o| o.result.as_mut().ok()) {
            r.committed = true;
            written += r.new + r.updated;
        }
        // A big import changes the tables' shape; plans made from stale statistics can be
        // slower by orders of magnitude (see `Db::refresh_statistics`).
        if written >= STATISTICS_AFTER_ROWS {
            db.refresh_statistics().await?;
        }
    } else {
        drop(tx);
    }
    for o in &mut outcomes {
        if let Ok(r) = o.result.as_mut() {
            if !r.rejections.is_empty() {
                match write_error_workbook(&o.file, &r.rejections) {
                    Ok(p) => r.error_workbook = Some(p),
                    Err(e) => r.warnings.push(format!("错误清单未能写出：{e}")),
                }
            }
        }
    }
    Ok(outcomes)
}

/// Every file of `import_files` in `tx`, which is handed back for the commit.
async fn import_in_tx(
    mut tx: Tx,
    actor: &Actor,
    scope: &Scope,
    paths: &[PathBuf],
    opts: &ImportOptions,
    today: NaiveDate,
) -> Result<(Tx, Vec<FileOutcome>)> {
    let run = import_each(&mut tx, actor, scope, paths, opts, today).await;
    // The connection goes back to the pool with the ordinary cache, whatever happened.
    tx.end_bulk().await?;
    Ok((tx, run?))
}

/// Each file inside its own savepoint of the one transaction, so a file that fails part-way
/// leaves nothing behind while the others go on.
async fn import_each(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    paths: &[PathBuf],
    opts: &ImportOptions,
    today: NaiveDate,
) -> Result<Vec<FileOutcome>> {
    let mut outcomes = Vec::with_capacity(paths.len());
    for path in paths {
        let source = match taizhang_tabular::open_with(path, opts.limits.unwrap_or_default()) {
            Ok(s) => s,
            Err(e) => {
                outcomes.push(FileOutcome { file: path.clone(), result: Err(e.into()) });
                continue;
            }
        };
        tx.exec_script("SAVEPOINT taizhang_file").await?;
        // A dry run of one file pauses between batches to let other writers in (a sign-in):
        // the rows of one ledger file do not depend on each other's writes, those of several
        // files may (a second file updating what the first creates).
        let pause = opts.dry_run && paths.len() == 1;
        let result = import_in(tx, actor, scope, path, source, opts, pause, today).await;
        let result = match result {
            // The database itself failed: nothing more can be done in this transaction.
            Err(ExchangeError::Store(e @ (StoreError::Database(_) | StoreError::Connect(_) | StoreError::Internal(_)))) => return Err(e.into()),
            Ok(r) => {
                tx.exec_script("RELEASE SAVEPOINT taizhang_file").await?;
                Ok(r)
            }
            Err(e) => {
                tx.exec_script("ROLLBACK TO SAVEPOINT taizhang_file; RELEASE SAVEPOINT taizhang_file").await?;
                Err(e)
            }
        };
        outcomes.push(FileOutcome { file: path.clone(), result });
    }
    Ok(outcomes)
}

/// Everything `import_file` does inside its transaction: a verdict for every row. With
/// `pause`, a ledger's rows are decided with pauses between batches (`storage::Pauses`).
#[allow(clippy::too_many_arguments)]
async fn import_in(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    path: &Path,
    source: taizhang_tabular::Source,
    opts: &ImportOptions,
    pause: bool,
    today: NaiveDate,
) -> Result<ImportReport> {
    let (sheets, target) = choose_sheets(tx, &source, opts.ledger.as_deref(), opts.sheet.as_deref()).await?;
    let first = sheets.first().map(|s| s.0.clone()).unwrap_or_default();
    let mut report = ImportReport { file: path.to_path_buf(), sheet: first.clone(), dry_run: opts.dry_run, ..Default::default() };
    match target {
        Target::Ledger(def) => {
            report.target = def.key.clone();
            report.target_name = def.name.clone();
            let mut pauses = match pause {
                true => Some(Pauses::start(tx).await?),
                false => None,
            };
            import_ledger_sheets(tx, &def, actor, scope, path, source, &sheets, opts, &mut report, today, pauses.as_mut()).await?;
        }
        Target::Persons => {
            let sheet = first;
            report.target = PERSONS_TARGET.into();
            report.target_name = "人员库".into();
            crate::registry::import_persons(tx, actor, scope, source, &sheet, &mut report, opts.source_name.as_deref(), opts.progress, today).await?;
        }
        Target::Registry(t) => {
            report.target = t.key().into();
            report.target_name = t.label().into();
            crate::registry::rows::import_registry(t, tx, actor, scope, source, &first, &mut report, opts.source_name.as_deref(), opts.progress, today).await?;
        }
    }
    assert!(report.balanced(), "每一行都应有且只有一个结论：{}", report.summary());
    Ok(report)
}

/// Why a sheet without a matching header was skipped, in the clerk's words.
fn skipped_because(looks: SheetLooks) -> &'static str {
    match looks {
        SheetLooks::Empty => "空表",
        SheetLooks::Instructions => "填表说明",
        SheetLooks::Table => "表头对应不到台账的字段",
    }
}

/// Reads every sheet in `sheets` whose header matches the ledger, one after another in the
/// one transaction; a sheet whose header does not match is noted as skipped. When no sheet
/// matches, the file is refused with the reader's own explanation (of a sheet that looks like
/// a table, if any).
#[allow(clippy::too_many_arguments)]
async fn import_ledger_sheets(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    path: &Path,
    source: Source,
    sheets: &[(String, bool)],
    opts: &ImportOptions,
    report: &mut ImportReport,
    today: NaiveDate,
    mut pauses: Option<&mut Pauses>,
) -> Result<()> {
    let specs = ledger_specs(def);
    let mut fixed = FixedValues::resolve(&opts.set, def, &specs, today)?;
    let mut seen = KeysSeen::default();
    let mut batcher = batchable(def).then(|| BatchImporter::new(def, actor, scope, today));
    let mut source = Some(source);
    let mut refusal: Option<(SheetLooks, ExchangeError)> = None;
    let mut read_sheets: Vec<String> = Vec::new();
    for (name, hidden) in sheets {
        if *hidden {
            report.sheets.push(SheetSummary { name: name.clone(), read: 0, skipped: Some("隐藏的工作表".into()) });
            continue;
        }
        let Some(src) = source.take() else { break };
        let before = report.read;
        let note = import_note(opts.source_name.as_deref(), path, name);
        if let Some(b) = batcher.as_mut() {
            b.set_sheet(name, note);
        }
        // The batch path's rows are parsed as far as they can be without the database on the
        // reader's thread, while the importer waits on the database with the batch before.
        let ahead = batcher.is_some().then(|| (def.clone(), specs.clone()));
        let mut stream = stream_rows_with(src, name.clone(), specs.clone(), opts.progress, move |raw: RawRow| {
            let pre = ahead.as_ref().map(|(def, specs)| pre_parse(def, specs, &raw, today));
            SheetRow { raw, pre }
        });
        let mut sheet = SheetRun { def, sheet: name, several: sheets.len() > 1, fixed: &mut fixed, totals: None, pauses: pauses.as_deref_mut() };
        let imported = import_ledger_rows(tx, actor, scope, &specs, &mut stream, report, today, batcher.as_mut(), &mut seen, &mut sheet).await;
        // The importer's own failure explains more than the reader's "stopped".
        let (back, layout) = stream.finish_with_source().await;
        source = back;
        imported?;
        match layout {
            Ok(layout) => {
                note_sheet_layout(report, &layout, name, sheets.len() > 1);
                note_sheet_shape(report, def, &specs, &layout, &fixed, name, sheets.len() > 1);
                let cols = Columns::new(specs.clone(), &layout);
                if let Some(r) = def.fields.iter().find(|f| f.retired && cols.index(&format!("{FIELD_PREFIX}{}", f.key)).is_some_and(|i| layout.columns.iter().any(|b| b.spec == i))) {
                    let w = format!("「{}」已停用，该列的值不导入", r.label);
                    if !report.warnings.contains(&w) {
                        report.warnings.push(w);
                    }
                }
                report.sheets.push(SheetSummary { name: name.clone(), read: report.read - before, skipped: None });
                read_sheets.push(name.clone());
            }
            Err(ExchangeError::Tabular(TabularError::NoHeader { file, sheet, rows, expected, looks })) => {
                report.sheets.push(SheetSummary { name: name.clone(), read: 0, skipped: Some(skipped_because(looks).into()) });
                let e = ExchangeError::Tabular(TabularError::NoHeader { file, sheet, rows, expected, looks });
                match &refusal {
                    Some((SheetLooks::Table, _)) => {}
                    Some(_) if looks != SheetLooks::Table => {}
                    _ => refusal = Some((looks, e)),
                }
            }
            Err(e) => return Err(e),
        }
    }
    if !fixed.is_empty() {
        report.warnings.extend(fixed.notes());
    }
    if read_sheets.is_empty() {
        return Err(match refusal {
            Some((_, e)) => e,
            None => ExchangeError::Usage("文件中没有可以导入的工作表（隐藏的工作表不导入）".into()),
        });
    }
    report.sheet = read_sheets.join("、");
    Ok(())
}

/// What the report says of a sheet's shape: values filled down from merged cells, rows the
/// reader skipped that held only a signature or a note, and a required column the sheet
/// lacks (with the month of its title, when it gives one).
fn note_sheet_shape(report: &mut ImportReport, def: &LedgerDef, specs: &[ColumnSpec], layout: &SheetLayout, fixed: &FixedValues, sheet: &str, several: bool) {
    let at = if several { format!("工作表「{sheet}」") } else { String::new() };
    for f in &layout.filled_down {
        report.warnings.push(format!(
            "{at}第 {} 列「{}」第 {}–{} 行是合并单元格，已把第 {} 行的值逐行填入",
            f.letter, f.header, f.first_row, f.last_row, f.first_row
        ));
    }
    if layout.empty_rows_between > 0 {
        report.warnings.push(format!("{at}数据中间有 {} 个空行（或只有格式、没有内容的行），已跳过", layout.empty_rows_between));
    }
    for (row, text) in &layout.skipped_text_rows {
        let kind = marker(text).map_or("说明行", NonData::label);
        report.skip_row(sheet, *row, kind, text);
    }
    for key in &layout.missing_specs {
        let Some(f) = key.strip_prefix(FIELD_PREFIX).and_then(|k| def.field(k)) else { continue };
        if !f.required || f.retired || fixed.covers(specs, key) {
            continue;
        }
        let example = match f.kind {
            FieldKind::Month => fixed::month_in_title(&layout.title).unwrap_or_else(|| "2024-02".into()),
            _ => "值".into(),
        };
        let from_title = match f.kind {
            FieldKind::Month if fixed::month_in_title(&layout.title).is_some() => format!("（表头上方写的是「{}」）", layout.title.join(" ")),
            _ => String::new(),
        };
        report.warnings.push(format!(
            "{at}没有「{}」列（必填），每一行都会因此被拒绝；如果整份文件相同{from_title}，可在导入时统一填写：命令行加 --set {}={example}，网页上填在「统一填写」中",
            f.label, f.label
        ));
    }
}

/// Unknown columns of one sheet; with several sheets, the warning names the sheet.
fn note_sheet_layout(report: &mut ImportReport, layout: &SheetLayout, sheet: &str, several: bool) {
    report.unknown_columns.extend(layout.unknown_columns.iter().cloned());
    for (letter, header) in &layout.unknown_columns {
        let at = if several { format!("工作表「{sheet}」") } else { String::new() };
        report.warnings.push(format!("{at}第 {letter} 列「{header}」对应不到任何字段，未导入"));
    }
}

/// The natural keys of the rows an import has decided so far (hashed), each with the first
/// row that gave it, so the same key again in the file is refused naming that row.
///
/// Held for the whole file, so kept small: a key is its 64-bit hash and a 32-bit ordinal
/// (`KeyTable`, 12 bytes a slot), and the ordinal finds its sheet and row through `places`,
/// one entry per run of consecutive rows of a sheet. A `HashMap<u64, (u32, u32)>` took
/// 17 bytes a bucket, its buckets doubling: 143 MB at 4,000,000 keys, and 71 MB more while
/// it last grew.
#[derive(Default)]
pub(crate) struct KeysSeen {
    /// Key hash → ordinal of the first row that gave it.
    first: KeyTable,
    /// (first ordinal, index into `sheets`, its Excel row) of each run of ordinals given to
    /// consecutive rows of one sheet.
    places: Vec<(u32, u32, u32)>,
    /// Ordinals given so far.
    given: u32,
    sheets: Vec<String>,
}

impl KeysSeen {
    /// The refusal for a row whose natural key an earlier row of the file already gave, or
    /// `None` (the key is noted as this row's). Asking again for the same row is `None`:
    /// a batch redone row by row passes its rows through here twice.
    pub(crate) fn repeat(&mut self, def: &LedgerDef, cols: &Columns, sheet: &str, row: u32, subject_id: Option<i64>, values: &Values) -> Option<String> {
        if def.natural_key.is_empty() {
            return None;
        }
        let with_subject = def.natural_key.iter().any(|k| k == "subject");
        if with_subject && subject_id.is_none() {
            return None;
        }
        let any_value = def.natural_key.iter().any(|k| k != "subject" && values.get(k).is_some_and(|v| !v.is_null()));
        if !with_subject && !any_value {
            return None;
        }
        let sheet_index = match self.sheets.iter().rposition(|s| s == sheet) {
            Some(i) => i,
            None => {
                self.sheets.push(sheet.to_string());
                self.sheets.len() - 1
            }
        } as u32;
        let key = natural_key_hash(def, subject_id.unwrap_or(0), values);
        let ordinal = self.given;
        let Some(earlier) = self.first.insert(key, ordinal) else {
            self.note_place(ordinal, sheet_index, row);
            return None;
        };
        let (s, r) = self.place(earlier);
        if s == sheet_index && r == row {
            return None;
        }
        let at = if s == sheet_index { format!("第 {r} 行") } else { format!("工作表「{}」第 {r} 行", self.sheets[s as usize]) };
        Some(format!(
            "与{at}的识别字段相同（{}）；同一条记录在一个文件中只能出现一次，请删除或合并其中一行",
            key_labels(def, cols).join("、")
        ))
    }

    /// Notes that `ordinal` (the next one) is row `row` of sheet `sheet`.
    fn note_place(&mut self, ordinal: u32, sheet: u32, row: u32) {
        let follows = self.places.last().is_some_and(|&(o, s, r)| s == sheet && u64::from(r) + u64::from(ordinal - o) == u64::from(row));
        if !follows {
            self.places.push((ordinal, sheet, row));
        }
        self.given += 1;
    }

    /// The sheet and row an ordinal was given to.
    fn place(&self, ordinal: u32) -> (u32, u32) {
        let i = self.places.partition_point(|&(o, _, _)| o <= ordinal).saturating_sub(1);
        let (o, s, r) = self.places[i];
        (s, r + (ordinal - o))
    }
}

/// A set of 64-bit hashes, each with a 32-bit value: open addressing in 64 shards by the
/// hash's top bits, each a slot array grown by half when four fifths full. Growing one shard
/// at a time keeps the moment of growth from holding two copies of the whole table, and
/// growing by half keeps the table within 1.25–1.9 slots a key rather than up to 2.3. A slot
/// is the hash's two halves and the value, side by side: one cache line read per probe.
#[derive(Default)]
struct KeyTable {
    shards: Vec<KeyShard>,
}

#[derive(Default)]
struct KeyShard {
    /// [low half of the hash, high half, value + 1]; a value of 0 marks an empty slot.
    slots: Vec<[u32; 3]>,
    len: usize,
}

const KEY_SHARD_BITS: u32 = 6;

impl KeyTable {
    /// The value already held for `hash`, or `None` after noting `value` for it.
    fn insert(&mut self, hash: u64, value: u32) -> Option<u32> {
        if self.shards.is_empty() {
            self.shards.resize_with(1 << KEY_SHARD_BITS, KeyShard::default);
        }
        let shard = &mut self.shards[(hash >> (64 - KEY_SHARD_BITS)) as usize];
        shard.insert(hash, value)
    }
}

impl KeyShard {
    fn insert(&mut self, hash: u64, value: u32) -> Option<u32> {
        if (self.len + 1) * 5 > self.slots.len() * 4 {
            self.grow();
        }
        let (lo, hi) = (hash as u32, (hash >> 32) as u32);
        let mut i = self.home(lo);
        loop {
            match self.slots[i] {
                [_, _, 0] => break,
                [l, h, v] if l == lo && h == hi => return Some(v - 1),
                _ => i = if i + 1 == self.slots.len() { 0 } else { i + 1 },
            }
        }
        self.slots[i] = [lo, hi, value + 1];
        self.len += 1;
        None
    }

    /// Where a probe starts: the hash's low half scaled to the slot count (which need not be
    /// a power of two).
    fn home(&self, lo: u32) -> usize {
        ((u64::from(lo) * self.slots.len() as u64) >> 32) as usize
    }

    fn grow(&mut self) {
        let n = (self.slots.len() + self.slots.len() / 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![[0; 3]; n]);
        for slot in old.into_iter().filter(|s| s[2] != 0) {
            let mut i = self.home(slot[0]);
            while self.slots[i][2] != 0 {
                i = if i + 1 == n { 0 } else { i + 1 };
            }
            self.slots[i] = slot;
        }
    }
}

/// The natural key's fields as the file heads them: the subject column's header, then the
/// fields' labels.
fn key_labels(def: &LedgerDef, cols: &Columns) -> Vec<String> {
    def.natural_key
        .iter()
        .map(|k| {
            if k == "subject" {
                match cols.index(SUBJECT_KEY) {
                    Some(i) => {
                        let name = cols.name(i);
                        name.split_once(' ').map_or(name.clone(), |(_, h)| h.to_string())
                    }
                    None => def.subject.label().to_string(),
                }
            } else {
                def.field(k).map_or_else(|| k.clone(), |f| f.label.clone())
            }
        })
        .collect()
}

/// A hash of a row's natural key, for spotting the same key twice in one file.
fn natural_key_hash(def: &LedgerDef, subject_id: i64, values: &Values) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for k in &def.natural_key {
        if k == "subject" {
            subject_id.hash(&mut h);
            continue;
        }
        match values.get(k) {
            None | Some(Value::Null) => 0u8.hash(&mut h),
            Some(Value::Bool(b)) => (1u8, b).hash(&mut h),
            Some(Value::Int(i)) => (2u8, i).hash(&mut h),
            Some(Value::Date(d)) => (3u8, d).hash(&mut h),
            Some(Value::Text(t)) => (4u8, t).hash(&mut h),
            Some(Value::List(l)) => (5u8, l).hash(&mut h),
        }
    }
    h.finish()
}

/// What one sheet's rows need besides the rows: the ledger, the values given for the whole
/// file, and the sums its 合计 rows are checked against.
struct SheetRun<'a> {
    def: &'a LedgerDef,
    sheet: &'a str,
    several: bool,
    fixed: &'a mut FixedValues,
    totals: Option<Totals>,
    /// A dry run's pauses between batches (`storage::Pauses`), when it takes them.
    pauses: Option<&'a mut Pauses>,
}

/// Rows the per-row path decides between two pauses of a dry run.
const ROWS_BETWEEN_PAUSES: usize = 64;

/// The savepoints open while a file's rows are decided (`import_each`), for a pause to open
/// again.
const OPEN_SAVEPOINTS: &[&str] = &["taizhang_file"];

/// Feeds the streamed rows of one sheet to the batch path when the ledger allows it, else
/// row by row. Rows that are not records (合计, 签字) are taken out and noted, a 合计 compared
/// with the rows imported above it; the values given for the whole file go into each row.
#[allow(clippy::too_many_arguments)]
async fn import_ledger_rows(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    specs: &[ColumnSpec],
    stream: &mut RowStream<SheetRow>,
    report: &mut ImportReport,
    today: NaiveDate,
    mut batcher: Option<&mut BatchImporter<'_>>,
    seen: &mut KeysSeen,
    run: &mut SheetRun<'_>,
) -> Result<()> {
    let def = run.def;
    let mut cols: Option<Columns> = None;
    // The column that names a record: a row holding something there is always data.
    let key_spec = specs.iter().position(|s| s.key == SUBJECT_KEY || s.key == PLACE_KEY);
    while let Some(chunk) = stream.rx.recv().await {
        match chunk {
            Chunk::Layout(layout) => {
                let c = Columns::new(specs.to_vec(), &layout);
                run.totals = Some(Totals::new(def, &c));
                cols = Some(c);
            }
            Chunk::Rows(rows) => {
                let cols = cols.as_ref().ok_or_else(|| ExchangeError::Usage("读取文件时未先得到表头".into()))?;
                let mut data: Vec<SheetRow> = Vec::with_capacity(rows.len());
                for mut row in rows {
                    if let Some((kind, text)) = classify(&row.raw, key_spec) {
                        decide_rows(tx, actor, scope, cols, &mut data, report, today, batcher.as_deref_mut(), seen, run).await?;
                        report.skip_row(run.sheet, row.raw.excel_row, kind.label(), &text);
                        if matches!(kind, NonData::Total | NonData::Subtotal) {
                            let at = if run.several { format!("工作表「{}」", run.sheet) } else { String::new() };
                            if let Some(t) = run.totals.as_mut() {
                                report.warnings.extend(t.compare(def, kind, &row.raw, &text, &at, today));
                            }
                        }
                        continue;
                    }
                    if !run.fixed.is_empty() {
                        let blanks = row.raw.cells.iter().filter(|c| c.is_blank()).count();
                        if let Some((spec, reason)) = run.fixed.apply(def, &mut row.raw, today) {
                            decide_rows(tx, actor, scope, cols, &mut data, report, today, batcher.as_deref_mut(), seen, run).await?;
                            let mut errs = RowErrors { sheet: run.sheet, row: &row.raw, cols, list: Vec::new() };
                            errs.at(Some(spec), reason);
                            report.read += 1;
                            report.record(row.raw.excel_row, Verdict::Rejected);
                            report.rejections.extend(errs.list);
                            if let Some(t) = run.totals.as_mut() {
                                t.add(&[], false);
                            }
                            continue;
                        }
                        // A value filled in for the whole file changed the row after it was
                        // parsed ahead: parse it again.
                        if row.raw.cells.iter().filter(|c| c.is_blank()).count() != blanks {
                            row.pre = None;
                        }
                    }
                    data.push(row);
                }
                decide_rows(tx, actor, scope, cols, &mut data, report, today, batcher.as_deref_mut(), seen, run).await?;
            }
        }
    }
    Ok(())
}

/// Decides a run of data rows (emptying `data`), and adds those imported to the sheet's sums.
#[allow(clippy::too_many_arguments)]
async fn decide_rows(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    cols: &Columns,
    data: &mut Vec<SheetRow>,
    report: &mut ImportReport,
    today: NaiveDate,
    batcher: Option<&mut BatchImporter<'_>>,
    seen: &mut KeysSeen,
    run: &mut SheetRun<'_>,
) -> Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let def = run.def;
    let values: Vec<Vec<Option<i64>>> = match run.totals.as_ref() {
        Some(t) if t.wanted() => data.iter().map(|r| t.values(def, &r.raw, today)).collect(),
        _ => Vec::new(),
    };
    let before = report.verdicts.len();
    match batcher {
        Some(b) => {
            b.run(tx, data, cols, report, seen).await?;
            if let Some(p) = run.pauses.as_deref_mut() {
                p.pause(tx, OPEN_SAVEPOINTS).await?;
            }
        }
        None => {
            for (i, row) in data.iter().map(|r| &r.raw).enumerate() {
                let (v, errs) = ledger_row(tx, def, actor, scope, run.sheet, row, cols, today, seen).await?;
                report.read += 1;
                report.record(row.excel_row, v);
                report.rejections.extend(errs);
                if (i + 1) % ROWS_BETWEEN_PAUSES == 0 || i + 1 == data.len() {
                    if let Some(p) = run.pauses.as_deref_mut() {
                        p.pause(tx, OPEN_SAVEPOINTS).await?;
                    }
                }
            }
        }
    }
    if let Some(t) = run.totals.as_mut() {
        for (k, (_, verdict)) in report.verdicts.iter_from(before).enumerate() {
            t.add(values.get(k).map_or(&[][..], Vec::as_slice), verdict != Verdict::Rejected);
        }
    }
    data.clear();
    Ok(())
}

/// What an import's audit entries say about where their records came from: the file, and the
/// sheet of a workbook (a CSV file has only the one).
fn import_note(source_name: Option<&str>, path: &Path, sheet: &str) -> String {
    let file = source_name.map_or_else(|| path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(), str::to_string);
    let csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if csv {
        format!("导入「{file}」")
    } else {
        format!("导入「{file}」工作表「{sheet}」")
    }
}

pub(crate) fn note_layout(report: &mut ImportReport, layout: &SheetLayout) {
    report.unknown_columns = layout.unknown_columns.clone();
    for (letter, header) in &layout.unknown_columns {
        report.warnings.push(format!("第 {letter} 列「{header}」对应不到任何字段，未导入"));
    }
}

/// `<stem>.错误清单.xlsx` beside the input.
fn write_error_workbook(input: &Path, list: &[Rejection]) -> Result<PathBuf> {
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "导入".into());
    let out = input.with_file_name(format!("{stem}.错误清单.xlsx"));
    let columns = vec![
        OutColumn::new("工作表", OutKind::Text),
        OutColumn::new("行号", OutKind::Int),
        OutColumn::new("列", OutKind::Text),
        OutColumn::new("值", OutKind::IdText),
        OutColumn::new("原因", OutKind::Text),
    ];
    let mut x = XlsxOut::create(&out, "错误清单", columns, Some("导入错误清单"))?;
    for r in list {
        x.write_row(&[
            taizhang_tabular::OutCell::Text(r.sheet.clone()),
            taizhang_tabular::OutCell::Int(i64::from(r.row)),
            taizhang_tabular::OutCell::Text(r.column.clone()),
            taizhang_tabular::OutCell::Text(r.value.clone()),
            taizhang_tabular::OutCell::Text(r.reason.clone()),
        ])?;
    }
    x.finish()?;
    Ok(out)
}

/// 所属年度: 2024, "2024", "2024年".
pub(crate) fn year_of(cell: &Cell) -> std::result::Result<Option<i32>, String> {
    let text = match lookup_text(cell, false)? {
        Some(t) => t,
        None => return Ok(None),
    };
    text.trim_end_matches('年')
        .parse::<i32>()
        .ok()
        .filter(|y| (1949..=2100).contains(y))
        .map(Some)
        .ok_or_else(|| format!("「{text}」不是年份，应写作 2024"))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn ledger_row(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    sheet: &str,
    row: &RawRow,
    cols: &Columns,
    today: NaiveDate,
    seen: &mut KeysSeen,
) -> Result<(Verdict, Vec<Rejection>)> {
    let mut errs = RowErrors { sheet, row, cols, list: Vec::new() };
    let mut values = Values::new();
    let mut subject_id = None;
    let mut place_id = None;
    let mut concerns_year = None;
    let mut states = crate::states::StateCells::default();
    for (i, spec) in cols.specs.iter().enumerate() {
        let cell = row.cells.get(i).unwrap_or(&Cell::Empty);
        if spec.key == SEQ_KEY {
            continue;
        }
        if states.take(def, &spec.key, i, cell, &mut errs, today) {
            continue;
        }
        if spec.key == YEAR_KEY {
            match year_of(cell) {
                Ok(y) => concerns_year = y,
                Err(reason) => errs.at(Some(i), reason),
            }
            continue;
        }
        if spec.key == SUBJECT_KEY || spec.key == PLACE_KEY {
            let target = if spec.key == SUBJECT_KEY { RefTarget::of_subject(def.subject) } else { Some(RefTarget::Place) };
            let Some(target) = target else { continue };
            let text = match ref_text(cell, &target) {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(reason) => {
                    errs.at(Some(i), reason);
                    continue;
                }
            };
            match refs::resolve(tx, scope, &target, &text).await {
                // Several subject columns (户编号, 户主身份证号码 …) must name the same one.
                Ok(id) if spec.key == SUBJECT_KEY => match subject_id {
                    Some(first) if first != id => errs.at(Some(i), subject_disagrees(def.subject)),
                    _ => subject_id = Some(id),
                },
                Ok(id) => place_id = Some(id),
                Err(e) => errs.store_at(e, i)?,
            }
            continue;
        }
        let Some(f) = spec.key.strip_prefix(FIELD_PREFIX).and_then(|k| def.field(k)) else { continue };
        if f.retired {
            continue;
        }
        match cell_for_field(f, cell, today) {
            Ok(Parsed::Blank) => {}
            Ok(Parsed::Value(v)) => {
                values.insert(f.key.clone(), v);
            }
            Ok(Parsed::Lookup(text)) => {
                let Some(target) = f.target.as_ref() else { continue };
                match refs::resolve(tx, scope, target, &text).await {
                    Ok(id) => {
                        values.insert(f.key.clone(), Value::Int(id));
                    }
                    Err(e) => errs.store_at(e, i)?,
                }
            }
            Err(reason) => errs.at(Some(i), reason),
        }
    }
    if def.subject != SubjectKind::None && subject_id.is_none() && errs.list.is_empty() {
        errs.by_key(SUBJECT_KEY, format!("必须填写记录对象（{}）", def.subject.label()));
    }
    if def.subject == SubjectKind::None && place_id.is_none() && errs.list.is_empty() {
        errs.by_key(PLACE_KEY, "必须填写所属村");
    }
    if !errs.list.is_empty() {
        return Ok((Verdict::Rejected, errs.list));
    }
    if let Some(reason) = seen.repeat(def, cols, sheet, row.excel_row, subject_id, &values) {
        errs.at(None, reason);
        return Ok((Verdict::Rejected, errs.list));
    }
    let existing = match records::find_by_natural_key(tx, def, scope, subject_id, &values).await {
        Ok(r) => r,
        Err(e) => {
            errs.store(e)?;
            return Ok((Verdict::Rejected, errs.list));
        }
    };
    // A row giving a 状态 lands in that state (`states.rs`).
    if states.given() {
        let input = RecordInput { place_id, subject_id, concerns_year, values };
        return crate::states::import_row(tx, def, actor, scope, existing, input, &states, today, errs).await;
    }
    let outcome = match existing {
        Some(rec) => {
            if concerns_year.is_some_and(|y| rec.concerns_year != Some(y)) {
                let stored = rec.concerns_year.map_or_else(|| "未填".to_string(), |y| y.to_string());
                errs.by_key(YEAR_KEY, format!("与已登记记录的所属年度（{stored}）不同；所属年度不能通过导入修改"));
                return Ok((Verdict::Rejected, errs.list));
            }
            let changes: Values = values.into_iter().filter(|(k, v)| rec.values.get(k) != Some(v)).collect();
            if changes.is_empty() {
                return Ok((Verdict::Unchanged, Vec::new()));
            }
            tx.exec_script("SAVEPOINT taizhang_row").await?;
            let r = records::update(tx, def, actor, scope, rec.id, rec.row_version, changes, today).await;
            savepoint(tx, r).await?.map(|_| Verdict::Updated)
        }
        None => {
            let input = RecordInput { place_id, subject_id, concerns_year, values };
            tx.exec_script("SAVEPOINT taizhang_row").await?;
            let r = records::create(tx, def, actor, scope, input, today).await;
            savepoint(tx, r).await?.map(|_| Verdict::New)
        }
    };
    match outcome {
        Ok(v) => Ok((v, Vec::new())),
        Err(e) => {
            errs.store(e)?;
            Ok((Verdict::Rejected, errs.list))
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The key table answers as a `HashMap` would, across its shards' growth, for hashes
    /// spread as a hasher's are and for hashes crowded into one shard and one home slot.
    #[test]
    fn key_table_is_a_map() {
        use std::hash::{BuildHasher, RandomState};
        let hasher = RandomState::new();
        let mut table = KeyTable::default();
        let mut model: HashMap<u64, u32> = HashMap::new();
        for i in 0..200_000u64 {
            // Every third key comes again; a few share their low and high bits.
            let h = if i.is_multiple_of(97) { (i << 32) | 7 } else { hasher.hash_one(i / 3) };
            let v = i as u32;
            let want = match model.entry(h) {
                std::collections::hash_map::Entry::Occupied(o) => Some(*o.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(v);
                    None
                }
            };
            assert_eq!(table.insert(h, v), want, "key {i}");
        }
        let slots: usize = table.shards.iter().map(|s| s.slots.len()).sum();
        assert!(slots * 4 >= model.len() * 5 && slots <= model.len() * 2 + 64 * 64, "{slots} slots for {} keys", model.len());
    }

    /// An ordinal finds the sheet and row it was given to, rows skipped and sheets changing.
    #[test]
    fn ordinals_find_their_rows() {
        let mut seen = KeysSeen::default();
        let mut given = Vec::new();
        for (sheet, rows) in [(0u32, 3..1000u32), (1, 2..50), (0, 1000..1003)] {
            for row in rows.filter(|r| !r.is_multiple_of(17)) {
                let o = seen.given;
                seen.note_place(o, sheet, row);
                given.push((o, sheet, row));
            }
        }
        assert!(seen.places.len() < 100, "{} runs", seen.places.len());
        for (o, sheet, row) in given {
            assert_eq!(seen.place(o), (sheet, row));
        }
    }
}

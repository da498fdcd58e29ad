//! Importing ledger rows a batch at a time: subjects looked up for the whole batch in one
//! query, existing records fetched for the batch's subjects in one query and matched by
//! natural key in memory, new records inserted with multi-row statements. The rules are the
//! per-row path's (`import::ledger_row`): rows that need anything unusual go through it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use taizhang_domain::ledger::{LedgerDef, RefTarget, SubjectKind};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{Record, Value, Values};
use taizhang_storage::batch::{self, Narrowing, Prepared, SubjectRef};
use taizhang_storage::{records, refs, Scope, StoreError, Tx};
use taizhang_tabular::{Cell, RawRow};

use crate::columns::{subject_disagrees, FIELD_PREFIX, SEQ_KEY, SUBJECT_KEY, YEAR_KEY};
use crate::convert::{cell_for_field, ref_text_noted, Parsed, RefText};
use crate::import::{ledger_row, savepoint, year_of, Columns, ImportReport, KeysSeen, Rejection, RowErrors, Verdict};
use crate::Result;

/// Whether a ledger's rows can take the batch path: its subjects are persons or households
/// (looked up by ID number or 户编号) and its natural key, if any, includes the subject.
/// A workflow ledger's rows (防返贫监测) go row by row: a row may give a 状态 to import the
/// case in (`states.rs`), which only the per-row path reads; such ledgers hold cases by the
/// hundred, not payments by the million.
pub(crate) fn batchable(def: &LedgerDef) -> bool {
    matches!(def.subject, SubjectKind::Person | SubjectKind::Household)
        && (def.natural_key.is_empty() || def.natural_key.iter().any(|k| k == "subject"))
        && def.workflow.is_none()
}

/// State kept across batches of one import.
pub(crate) struct BatchImporter<'a> {
    pub(crate) def: &'a LedgerDef,
    pub(crate) actor: &'a Actor,
    pub(crate) scope: &'a Scope,
    /// The sheet being read (an import reads each matching sheet in turn).
    pub(crate) sheet: Arc<str>,
    pub(crate) today: NaiveDate,
    /// What the audit entries of the batch's new records say they came from.
    note: String,
    /// Subject text → what it names (None: nothing in scope).
    subjects: HashMap<String, Option<SubjectRef>>,
    /// (field key, text) → resolved id or the refusal.
    lookups: HashMap<(String, String), std::result::Result<i64, String>>,
    /// The ledger's next id before the import's first batch: smaller ids are records it found.
    start_id: Option<i64>,
    /// Whether the per-row path wrote a record, whose key `written` does not hold.
    wrote_row_by_row: bool,
    /// Notes on subjects read differently from how they were written (15-digit ID numbers),
    /// for the report: the first `MAX_NOTES`, then one line counting the rest.
    notes: Vec<String>,
    notes_given: usize,
    notes_more: usize,
    notes_more_at: Option<usize>,
}

/// How many subject notes the report lists one by one.
const MAX_NOTES: usize = 20;

/// A row parsed, before anything is written.
struct Row<'r> {
    raw: &'r RawRow,
    errors: Vec<Rejection>,
    subject_text: Option<String>,
    /// Further subject columns the row fills (户主身份证号码 beside 户编号): (column, text),
    /// each to name the same subject.
    also: Vec<(usize, String)>,
    concerns_year: Option<i32>,
    values: Values,
}

/// A data row as the importer receives it: the row read, and what its cells say worked out
/// ahead on the reader's thread (`pre_parse`; `None` when not, or no longer, valid for the
/// row: the importer then works it out itself).
pub(crate) struct SheetRow {
    pub(crate) raw: RawRow,
    pub(crate) pre: Option<PreParsed>,
}

/// What a row's cells say, worked out without the database: the field values, and in column
/// order what only the importer can finish (subjects and references to look up, the year,
/// refusals, which need the sheet's columns to be worded).
pub(crate) struct PreParsed {
    values: Values,
    items: Vec<(usize, Item)>,
}

enum Item {
    Year(std::result::Result<Option<i32>, String>),
    Subject(std::result::Result<Option<RefText>, String>),
    /// A reference field's text, resolved on the database side.
    Lookup(String),
    Refused(String),
}

/// Cells to values, identifiers normalised: every part of parsing a row that needs no
/// database, so that it can run on the reader's thread while the importer waits on the
/// database (`stream::stream_rows_with`); `BatchImporter::parse` finishes it.
pub(crate) fn pre_parse(def: &LedgerDef, specs: &[taizhang_tabular::ColumnSpec], raw: &RawRow, today: NaiveDate) -> PreParsed {
    let mut pre = PreParsed { values: Values::new(), items: Vec::new() };
    for (i, spec) in specs.iter().enumerate() {
        let cell = raw.cells.get(i).unwrap_or(&Cell::Empty);
        if spec.key == SEQ_KEY {
            continue;
        }
        if spec.key == YEAR_KEY {
            pre.items.push((i, Item::Year(year_of(cell))));
            continue;
        }
        if spec.key == SUBJECT_KEY {
            let Some(target) = RefTarget::of_subject(def.subject) else { continue };
            pre.items.push((i, Item::Subject(ref_text_noted(cell, &target))));
            continue;
        }
        let Some(f) = spec.key.strip_prefix(FIELD_PREFIX).and_then(|k| def.field(k)) else { continue };
        if f.retired {
            continue;
        }
        match cell_for_field(f, cell, today) {
            Ok(Parsed::Blank) => {}
            Ok(Parsed::Value(v)) => {
                pre.values.insert(f.key.clone(), v);
            }
            Ok(Parsed::Lookup(text)) if f.target.is_some() => pre.items.push((i, Item::Lookup(text))),
            Ok(Parsed::Lookup(_)) => {}
            Err(reason) => pre.items.push((i, Item::Refused(reason))),
        }
    }
    pre
}

/// What was decided for one row; New rows are confirmed once their batch is inserted.
enum Outcome {
    Done(Verdict, Vec<Rejection>),
    Pending,
    /// A stored record to change, once the batch's new records are written: no other
    /// statement can run while they stream to the server (`batch::insert_streamed`).
    Update { id: i64, version: i64, changes: Values },
    Slow,
}

/// Rows decided at a time before they are handed to `batch::insert_streamed`: small enough
/// that the server starts early, large enough that a part is not a round trip per few rows.
const STREAM_PART: usize = 256;

impl<'a> BatchImporter<'a> {
    pub(crate) fn new(def: &'a LedgerDef, actor: &'a Actor, scope: &'a Scope, today: NaiveDate) -> Self {
        BatchImporter {
            def,
            actor,
            scope,
            sheet: Arc::from(""),
            today,
            note: String::new(),
            subjects: HashMap::new(),
            lookups: HashMap::new(),
            start_id: None,
            wrote_row_by_row: false,
            notes: Vec::new(),
            notes_given: 0,
            notes_more: 0,
            notes_more_at: None,
        }
    }

    /// The sheet the next batches come from, and what their audit entries say.
    pub(crate) fn set_sheet(&mut self, sheet: &str, note: String) {
        self.sheet = Arc::from(sheet);
        self.note = note;
    }

    /// Decides every row of the batch and writes what is to be written. Verdicts go into
    /// `report` in file order.
    pub(crate) async fn run(&mut self, tx: &mut Tx, rows: &mut [SheetRow], cols: &Columns, report: &mut ImportReport, seen: &mut KeysSeen) -> Result<()> {
        let r = self.run_batch(tx, rows, cols, report, seen).await;
        self.flush_notes(report);
        r
    }

    /// Moves the notes taken while parsing into the report's warnings.
    fn flush_notes(&mut self, report: &mut ImportReport) {
        for n in self.notes.drain(..) {
            if self.notes_given < MAX_NOTES {
                report.warnings.push(n);
                self.notes_given += 1;
            } else {
                self.notes_more += 1;
            }
        }
        if self.notes_more > 0 {
            let line = format!("另有 {} 行的 15 位旧身份证号已转换为 18 位", self.notes_more);
            match self.notes_more_at.and_then(|i| report.warnings.get_mut(i)) {
                Some(w) => *w = line,
                None => {
                    self.notes_more_at = Some(report.warnings.len());
                    report.warnings.push(line);
                }
            }
        }
    }

    async fn run_batch(&mut self, tx: &mut Tx, rows: &mut [SheetRow], cols: &Columns, report: &mut ImportReport, seen: &mut KeysSeen) -> Result<()> {
        tx.exec_script("SAVEPOINT taizhang_batch").await?;
        let pres: Vec<Option<PreParsed>> = rows.iter_mut().map(|r| r.pre.take()).collect();
        let rows: Vec<&RawRow> = rows.iter().map(|r| &r.raw).collect();
        match self.try_batch(tx, &rows, pres, cols, seen).await {
            Ok(outcomes) => {
                tx.exec_script("RELEASE SAVEPOINT taizhang_batch").await?;
                for (raw, (v, errs)) in rows.iter().zip(outcomes) {
                    report.read += 1;
                    report.record(raw.excel_row, v);
                    report.rejections.extend(errs);
                }
                Ok(())
            }
            // A refusal the checks above did not foresee (a constraint, a race): undo the
            // batch and let the per-row path give each row its own verdict.
            Err(BatchFailed::Store) => {
                tx.exec_script("ROLLBACK TO SAVEPOINT taizhang_batch; RELEASE SAVEPOINT taizhang_batch").await?;
                for raw in rows {
                    let sheet = self.sheet.clone();
                    let (v, errs) = ledger_row(tx, self.def, self.actor, self.scope, &sheet, raw, cols, self.today, seen).await?;
                    self.wrote_row_by_row |= v == Verdict::New;
                    report.read += 1;
                    report.record(raw.excel_row, v);
                    report.rejections.extend(errs);
                }
                Ok(())
            }
            Err(BatchFailed::Fatal(e)) => Err(e),
        }
    }

    async fn try_batch(&mut self, tx: &mut Tx, rows: &[&RawRow], pres: Vec<Option<PreParsed>>, cols: &Columns, seen: &mut KeysSeen) -> std::result::Result<Vec<(Verdict, Vec<Rejection>)>, BatchFailed> {
        if self.start_id.is_none() && !self.def.natural_key.is_empty() {
            self.start_id = Some(batch::next_id(tx, self.def).await?);
        }
        let mut parsed: Vec<Row> = Vec::with_capacity(rows.len());
        for (raw, pre) in rows.iter().zip(pres) {
            parsed.push(self.parse(tx, raw, pre, cols).await?);
        }
        self.resolve_subjects(tx, &parsed).await?;
        let subject_ids: Vec<i64> = parsed
            .iter()
            .filter_map(|r| r.subject_text.as_ref().and_then(|t| self.subjects.get(t).copied().flatten()).map(|s| s.id))
            .collect();
        let mut existing: HashMap<i64, Vec<Record>> = HashMap::new();
        // When no record the import found can match (`only_new_records`), `existing` stays
        // empty: only records this import wrote could, and a row with one of their keys
        // repeats an earlier row of the file (`KeysSeen`), refused before any matching.
        if !self.def.natural_key.is_empty() {
            let narrow = narrowing(self.def, &parsed);
            if !self.only_new_records(tx, &narrow).await? {
                for rec in batch::records_of_subjects(tx, self.def, self.scope, &subject_ids, &narrow).await? {
                    if let Some(s) = rec.subject_id {
                        existing.entry(s).or_default().push(rec);
                    }
                }
            }
        }
        // Decided in file order a part at a time, each part going to the server as soon as it
        // is decided, while the next is (`batch::insert_streamed` groups a part's rows by
        // place for the audit's runs).
        let n = parsed.len();
        let mut slots: Vec<Option<Row<'_>>> = parsed.into_iter().map(Some).collect();
        let mut outcomes: Vec<Option<Outcome>> = (0..n).map(|_| None).collect();
        let mut failed: Option<BatchFailed> = None;
        let me = &*self;
        let mut next = 0..n;
        let produce = || {
            if failed.is_some() {
                return None;
            }
            let mut part = Vec::new();
            for i in next.by_ref().take(STREAM_PART) {
                let Some(row) = slots[i].take() else { continue };
                match me.decide(row, cols, &existing, &mut part, seen) {
                    Ok(o) => outcomes[i] = Some(o),
                    Err(e) => {
                        failed = Some(e);
                        return None;
                    }
                }
            }
            (!part.is_empty() || !next.is_empty()).then_some(part)
        };
        let inserted = batch::insert_streamed(tx, me.def, me.actor, me.today, &me.note, n, produce).await;
        if let Some(e) = failed {
            return Err(e);
        }
        inserted?;
        let mut out = Vec::with_capacity(n);
        for (raw, o) in rows.iter().zip(outcomes) {
            out.push(match o {
                Some(Outcome::Done(v, e)) => (v, e),
                Some(Outcome::Pending) => (Verdict::New, Vec::new()),
                Some(Outcome::Update { id, version, changes }) => self.update(tx, raw, cols, id, version, changes).await?,
                // After the batch's inserts, so it sees rows of the same key written above.
                Some(Outcome::Slow) | None => {
                    let sheet = self.sheet.clone();
                    let (v, e) = ledger_row(tx, self.def, self.actor, self.scope, &sheet, raw, cols, self.today, seen).await?;
                    self.wrote_row_by_row |= v == Verdict::New;
                    (v, e)
                }
            });
        }
        Ok(out)
    }

    /// Whether no record the import found (as opposed to wrote) has the batch's values in
    /// every natural-key field besides the subject, so there is nothing to fetch.
    async fn only_new_records(&mut self, tx: &mut Tx, narrow: &[Narrowing]) -> Result<bool> {
        let fields = self.def.natural_key.iter().filter(|k| *k != "subject").count();
        match self.start_id {
            Some(start) if fields > 0 && narrow.len() == fields && !self.wrote_row_by_row => Ok(!batch::any_before(tx, self.def, start, narrow).await?),
            _ => Ok(false),
        }
    }

    /// Cells to values (from `pre`, worked out ahead, or here); references other than the
    /// subject resolved (cached).
    async fn parse<'r>(&mut self, tx: &mut Tx, raw: &'r RawRow, pre: Option<PreParsed>, cols: &Columns) -> Result<Row<'r>> {
        let sheet = self.sheet.clone();
        let mut errs = RowErrors { sheet: &sheet, row: raw, cols, list: Vec::new() };
        let pre = pre.unwrap_or_else(|| pre_parse(self.def, &cols.specs, raw, self.today));
        let mut row = Row { raw, errors: Vec::new(), subject_text: None, also: Vec::new(), concerns_year: None, values: pre.values };
        for (i, item) in pre.items {
            match item {
                Item::Year(Ok(y)) => row.concerns_year = y,
                Item::Subject(Ok(Some(r))) => {
                    if let Some(w) = r.warning {
                        self.notes.push(format!("工作表「{sheet}」第 {} 行：{w}", raw.excel_row));
                    }
                    // The first filled subject column names the subject; others must agree.
                    match row.subject_text {
                        None => row.subject_text = Some(r.text),
                        Some(_) => row.also.push((i, r.text)),
                    }
                }
                Item::Subject(Ok(None)) => {}
                Item::Year(Err(reason)) | Item::Subject(Err(reason)) | Item::Refused(reason) => errs.at(Some(i), reason),
                Item::Lookup(text) => {
                    let Some(f) = cols.specs.get(i).and_then(|s| s.key.strip_prefix(FIELD_PREFIX)).and_then(|k| self.def.field(k)) else { continue };
                    let Some(target) = f.target.as_ref() else { continue };
                    let key = (f.key.clone(), text);
                    if !self.lookups.contains_key(&key) {
                        let r = match refs::resolve(tx, self.scope, target, &key.1).await {
                            Ok(id) => Ok(id),
                            Err(e @ (StoreError::NotFound(_) | StoreError::Conflict(_))) => Err(e.to_string()),
                            Err(e) => return Err(e.into()),
                        };
                        self.lookups.insert(key.clone(), r);
                    }
                    match self.lookups.get(&key) {
                        Some(Ok(id)) => {
                            row.values.insert(f.key.clone(), Value::Int(*id));
                        }
                        Some(Err(reason)) => errs.at(Some(i), reason.clone()),
                        None => {}
                    }
                }
            }
        }
        if row.subject_text.is_none() && errs.list.is_empty() {
            errs.by_key(SUBJECT_KEY, format!("必须填写记录对象（{}）", self.def.subject.label()));
        }
        row.errors = errs.list;
        Ok(row)
    }

    async fn resolve_subjects(&mut self, tx: &mut Tx, rows: &[Row<'_>]) -> Result<()> {
        let mut wanted: Vec<String> = rows
            .iter()
            .filter(|r| r.errors.is_empty())
            .flat_map(|r| r.subject_text.iter().chain(r.also.iter().map(|(_, t)| t)).cloned())
            .filter(|t| !t.starts_with('#') && !self.subjects.contains_key(t))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let found = batch::subjects_by_text(tx, self.scope, self.def.subject, &wanted).await?.unwrap_or_default();
        for t in wanted {
            let r = found.get(&t).copied();
            self.subjects.insert(t, r);
        }
        Ok(())
    }

    /// What to do with a row, from the batch's subjects and stored records alone (no
    /// statement: the batch's new records may be streaming meanwhile); a new record goes
    /// into `pending`.
    fn decide(&self, row: Row<'_>, cols: &Columns, existing: &HashMap<i64, Vec<Record>>, pending: &mut Vec<Prepared>, seen: &mut KeysSeen) -> std::result::Result<Outcome, BatchFailed> {
        if !row.errors.is_empty() {
            return Ok(Outcome::Done(Verdict::Rejected, row.errors));
        }
        let Some(text) = row.subject_text.clone() else { return Ok(Outcome::Slow) };
        // `#id` and unknown texts take the per-row path, which words the refusal.
        let Some(Some(subject)) = self.subjects.get(&text).copied() else { return Ok(Outcome::Slow) };
        let sheet = self.sheet.clone();
        let mut errs = RowErrors { sheet: &sheet, row: row.raw, cols, list: Vec::new() };
        for (i, t) in &row.also {
            match self.subjects.get(t).copied() {
                Some(Some(other)) if other.id == subject.id => {}
                Some(Some(_)) => errs.at(Some(*i), subject_disagrees(self.def.subject)),
                _ => return Ok(Outcome::Slow),
            }
        }
        if !errs.list.is_empty() {
            return Ok(Outcome::Done(Verdict::Rejected, errs.list));
        }
        if !self.def.natural_key.is_empty() {
            // The same key as an earlier row of the file (this batch, an earlier one, an
            // earlier sheet): refused, naming that row, rather than the later row winning.
            if let Some(reason) = seen.repeat(self.def, cols, &sheet, row.raw.excel_row, Some(subject.id), &row.values) {
                errs.at(None, reason);
                return Ok(Outcome::Done(Verdict::Rejected, errs.list));
            }
            let candidates = existing.get(&subject.id).map(Vec::as_slice).unwrap_or(&[]);
            let matches: Vec<&Record> = candidates.iter().filter(|r| key_matches(self.def, r, &row.values)).collect();
            match matches.as_slice() {
                [] => {}
                [rec] => return Ok(Self::changes(rec, row, errs)),
                _ => {
                    errs.store(StoreError::Conflict(format!("「{}」中有多条记录的识别字段相同，无法确定要更新哪一条", self.def.name)))?;
                    return Ok(Outcome::Done(Verdict::Rejected, errs.list));
                }
            }
        }
        match batch::prepare(self.def, subject.place_id, Some(subject.id), row.concerns_year, row.values, self.today) {
            Ok(p) => {
                pending.push(p);
                Ok(Outcome::Pending)
            }
            Err(e) => {
                errs.store(e)?;
                Ok(Outcome::Done(Verdict::Rejected, errs.list))
            }
        }
    }

    /// What a row matching a stored record changes in it.
    fn changes(rec: &Record, row: Row<'_>, mut errs: RowErrors<'_>) -> Outcome {
        if row.concerns_year.is_some_and(|y| rec.concerns_year != Some(y)) {
            let stored = rec.concerns_year.map_or_else(|| "未填".to_string(), |y| y.to_string());
            errs.by_key(YEAR_KEY, format!("与已登记记录的所属年度（{stored}）不同；所属年度不能通过导入修改"));
            return Outcome::Done(Verdict::Rejected, errs.list);
        }
        let changes: Values = row.values.into_iter().filter(|(k, v)| rec.values.get(k) != Some(v)).collect();
        if changes.is_empty() {
            return Outcome::Done(Verdict::Unchanged, Vec::new());
        }
        Outcome::Update { id: rec.id, version: rec.row_version, changes }
    }

    #[allow(clippy::too_many_arguments)]
    async fn update(&mut self, tx: &mut Tx, raw: &RawRow, cols: &Columns, id: i64, version: i64, changes: Values) -> Result<(Verdict, Vec<Rejection>)> {
        let sheet = self.sheet.clone();
        let mut errs = RowErrors { sheet: &sheet, row: raw, cols, list: Vec::new() };
        tx.exec_script("SAVEPOINT taizhang_row").await?;
        let r = records::update(tx, self.def, self.actor, self.scope, id, version, changes, self.today).await;
        match savepoint(tx, r).await? {
            Ok(_) => Ok((Verdict::Updated, Vec::new())),
            Err(e) => {
                errs.store(e)?;
                Ok((Verdict::Rejected, errs.list))
            }
        }
    }
}

/// For each natural-key field besides the subject, the distinct values the batch's rows give
/// it and whether some row leaves it blank (a blank matches an empty stored value). Fields
/// with many distinct values in one batch are left out: fetching by subject is then as good.
fn narrowing(def: &LedgerDef, rows: &[Row<'_>]) -> Vec<Narrowing> {
    const MAX_DISTINCT: usize = 64;
    let mut out = Vec::new();
    for k in def.natural_key.iter().filter(|k| *k != "subject") {
        let mut n = Narrowing { key: k.clone(), values: Vec::new(), blank: false };
        for r in rows.iter().filter(|r| r.errors.is_empty()) {
            match r.values.get(k).filter(|v| !v.is_null()) {
                Some(v) if !n.values.contains(v) => n.values.push(v.clone()),
                Some(_) => {}
                None => n.blank = true,
            }
            if n.values.len() > MAX_DISTINCT {
                break;
            }
        }
        if n.values.len() <= MAX_DISTINCT {
            out.push(n);
        }
    }
    out
}

/// Whether a stored record has the row's natural key. A blank key part in the sheet matches
/// an empty part in the record (as `records::find_by_natural_key` does for the per-row path).
fn key_matches(def: &LedgerDef, rec: &Record, values: &Values) -> bool {
    def.natural_key.iter().filter(|k| *k != "subject").all(|k| match values.get(k) {
        Some(v) if !v.is_null() => rec.values.get(k) == Some(v),
        _ => rec.values.get(k).is_none_or(Value::is_null),
    })
}

/// Why a batch could not be finished as a batch.
enum BatchFailed {
    /// The database refused a write: redo the batch row by row.
    Store,
    /// Anything else stops the import.
    Fatal(crate::ExchangeError),
}

impl From<StoreError> for BatchFailed {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Connect(_) | StoreError::Internal(_) => BatchFailed::Fatal(e.into()),
            _ => BatchFailed::Store,
        }
    }
}

impl From<crate::ExchangeError> for BatchFailed {
    fn from(e: crate::ExchangeError) -> Self {
        match e {
            crate::ExchangeError::Store(s) => s.into(),
            other => BatchFailed::Fatal(other),
        }
    }
}

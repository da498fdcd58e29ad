//! What the imports of households, cadres and organisations share: the sheet streamed in
//! batches, each row read and checked (`Importer::read`), a row repeating an earlier row's
//! natural key refused naming that row, and the row's writes in a savepoint, so a refused row
//! leaves nothing behind and every row gets one verdict.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use taizhang_domain::period::{date_from_excel_serial, parse_date_lenient};
use taizhang_domain::place::Place;
use taizhang_domain::role::Actor;
use taizhang_storage::{places, Scope, StoreError, Tx};
use taizhang_tabular::{Cell, ColumnSpec, RawRow, Source};

use super::templates::RegistryTarget;
use super::Refusal;
use crate::convert::shown;
use crate::import::{note_layout, Columns, ImportReport, Rejection, RowErrors, Verdict};
use crate::stream::{stream_rows, Chunk, RowStream};
use crate::{ExchangeError, Result};

/// Imports one sheet into a registry target.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn import_registry(
    target: RegistryTarget,
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    source: Source,
    sheet: &str,
    report: &mut ImportReport,
    source_name: Option<&str>,
    progress: bool,
    today: NaiveDate,
) -> Result<()> {
    let file = source_name.map_or_else(|| report.file.clone(), std::path::PathBuf::from);
    let ctx = Ctx { actor, scope, today, origin: origin(target, &file, sheet) };
    match target {
        RegistryTarget::Persons => {
            super::import_persons(tx, actor, scope, source, sheet, report, source_name, progress, today).await
        }
        RegistryTarget::Households => {
            let mut imp = super::household_import::Households;
            run(tx, &ctx, &mut imp, target, source, sheet, report, progress).await
        }
        RegistryTarget::Cadres => {
            let mut imp = super::cadres::Cadres::load(tx, scope).await?;
            run(tx, &ctx, &mut imp, target, source, sheet, report, progress).await
        }
        RegistryTarget::Organisations => {
            let mut imp = super::orgs::Orgs::load(tx, scope).await?;
            run(tx, &ctx, &mut imp, target, source, sheet, report, progress).await
        }
    }
}

/// "户信息导入「户.xlsx」工作表「户」": where a change came from, for the notes of audit
/// entries and household events that take one.
fn origin(target: RegistryTarget, file: &Path, sheet: &str) -> String {
    let name = file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let what = match target {
        RegistryTarget::Persons => "花名册",
        RegistryTarget::Households => "户信息",
        RegistryTarget::Cadres => "干部名册",
        RegistryTarget::Organisations => "单位名录",
    };
    if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        format!("{what}导入「{name}」")
    } else {
        format!("{what}导入「{name}」工作表「{sheet}」")
    }
}

/// What every row's writes share.
pub(super) struct Ctx<'a> {
    pub(super) actor: &'a Actor,
    pub(super) scope: &'a Scope,
    pub(super) today: NaiveDate,
    /// Where the changes came from (see `origin`).
    pub(super) origin: String,
}

/// One registry target's rows: read a row, then write it.
pub(super) trait Importer {
    /// Everything a row says, read and checked.
    type Row;

    /// Reads and checks a row's cells (the database may be asked, nothing is written);
    /// `None` when something is wrong, the reasons being in `errs`.
    async fn read(&mut self, tx: &mut Tx, ctx: &Ctx<'_>, t: &Table<'_>, row: &RawRow, errs: &mut RowErrors<'_>) -> Result<Option<Self::Row>>;

    /// The row's natural key, the column to name when it repeats, and how to say what it is.
    fn key(&self, row: &Self::Row) -> (String, &'static str, String);

    /// Creates or updates. A refusal undoes everything the row wrote, and `self` must then
    /// be as it was (caches change only once every write has succeeded).
    async fn write(&mut self, tx: &mut Tx, ctx: &Ctx<'_>, row: Self::Row) -> std::result::Result<Verdict, Refusal>;
}

/// A sheet's columns, and which of them the file has.
pub(super) struct Table<'a> {
    pub(super) name: &'a str,
    pub(super) cols: Columns,
}

impl Table<'_> {
    pub(super) fn cell<'r>(&self, row: &'r RawRow, key: &str) -> &'r Cell {
        self.cols.index(key).and_then(|i| row.cells.get(i)).unwrap_or(&Cell::Empty)
    }

    /// The cell as text, trimmed; blank for an empty cell.
    pub(super) fn text(&self, row: &RawRow, key: &str) -> String {
        match self.cell(row, key) {
            Cell::Text(s) => s.trim().to_string(),
            c if c.is_blank() => String::new(),
            c => shown(c),
        }
    }

    /// An identifier (户编号, 统一社会信用代码), folded by the one normaliser (full-width,
    /// spaces inside, a leading apostrophe: `convert::ident_cell`); a number cell or Excel's
    /// float text is refused, since Excel drops its leading zeros and keeps only 15 digits.
    pub(super) fn code(&self, row: &RawRow, key: &str, label: &str, errs: &mut RowErrors<'_>) -> Option<String> {
        match crate::convert::ident_cell(self.cell(row, key), label) {
            Ok(t) => t,
            Err(reason) => {
                errs.by_key(key, reason);
                None
            }
        }
    }

    /// A date: an Excel date, a serial number, or text in any of the usual forms.
    pub(super) fn date(&self, row: &RawRow, key: &str, errs: &mut RowErrors<'_>) -> Option<NaiveDate> {
        let parsed = match self.cell(row, key) {
            c if c.is_blank() => return None,
            Cell::DateTime(serial) | Cell::Float(serial) => {
                date_from_excel_serial(*serial).ok_or_else(|| format!("「{serial}」不是有效的日期"))
            }
            Cell::Int(i) => date_from_excel_serial(*i as f64).ok_or_else(|| format!("「{i}」不是有效的日期")),
            Cell::Text(t) => parse_date_lenient(t).map_err(|e| e.to_string()),
            Cell::Error(e) => Err(format!("单元格是错误值 {e}")),
            other => Err(format!("「{}」不是日期", shown(other))),
        };
        match parsed {
            Ok(d) => Some(d),
            Err(reason) => {
                errs.by_key(key, reason);
                None
            }
        }
    }

    /// The place a 村 (and 组) column names, if any; a wrong name is a rejection of `key`.
    pub(super) async fn place(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        row: &RawRow,
        village_key: &'static str,
        group_key: Option<&'static str>,
        errs: &mut RowErrors<'_>,
    ) -> Result<Option<(Place, &'static str)>> {
        let village = self.text(row, village_key);
        let group = group_key.map(|k| self.text(row, k)).unwrap_or_default();
        let (text, key) = match (village.is_empty(), group.is_empty()) {
            (true, true) => return Ok(None),
            (false, true) => (village, village_key),
            (false, false) => (format!("{village}/{group}"), group_key.unwrap_or(village_key)),
            (true, false) => {
                errs.by_key(village_key, "填写了组时必须填写所属村");
                return Ok(None);
            }
        };
        match places::resolve(tx, scope, &text).await {
            Ok(p) => Ok(Some((p, key))),
            Err(StoreError::NotFound(m) | StoreError::Conflict(m)) => {
                errs.by_key(key, m);
                Ok(None)
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// Reads the sheet and gives every row its verdict.
#[allow(clippy::too_many_arguments)]
async fn run<I: Importer>(
    tx: &mut Tx,
    ctx: &Ctx<'_>,
    imp: &mut I,
    target: RegistryTarget,
    source: Source,
    sheet: &str,
    report: &mut ImportReport,
    progress: bool,
) -> Result<()> {
    let specs = target.specs();
    let mut stream = stream_rows(source, sheet.to_string(), specs.clone(), progress);
    let imported = rows(tx, ctx, imp, sheet, &specs, &mut stream, report).await;
    // The importer's own failure explains more than the reader's "stopped".
    let layout = stream.finish().await;
    imported?;
    note_layout(report, &layout?);
    Ok(())
}

async fn rows<I: Importer>(
    tx: &mut Tx,
    ctx: &Ctx<'_>,
    imp: &mut I,
    sheet: &str,
    specs: &[ColumnSpec],
    stream: &mut RowStream,
    report: &mut ImportReport,
) -> Result<()> {
    let mut table: Option<Table<'_>> = None;
    // Each natural key with the first row that gave it.
    let mut seen: HashMap<String, u32> = HashMap::new();
    while let Some(chunk) = stream.rx.recv().await {
        match chunk {
            Chunk::Layout(layout) => table = Some(Table { name: sheet, cols: Columns::new(specs.to_vec(), &layout) }),
            Chunk::Rows(batch) => {
                let t = table.as_ref().ok_or_else(|| ExchangeError::Usage("读取文件时未先得到表头".into()))?;
                for row in &batch {
                    // The first column is the one naming a row (户编号, 姓名, 单位名称).
                    if let Some((kind, text)) = crate::nondata::classify(row, Some(0)) {
                        report.skip_row(sheet, row.excel_row, kind.label(), &text);
                        continue;
                    }
                    let (v, errs) = one(tx, ctx, imp, t, row, &mut seen).await?;
                    report.read += 1;
                    report.record(row.excel_row, v);
                    report.rejections.extend(errs);
                }
            }
        }
    }
    Ok(())
}

async fn one<I: Importer>(
    tx: &mut Tx,
    ctx: &Ctx<'_>,
    imp: &mut I,
    t: &Table<'_>,
    row: &RawRow,
    seen: &mut HashMap<String, u32>,
) -> Result<(Verdict, Vec<Rejection>)> {
    let mut errs = RowErrors { sheet: t.name, row, cols: &t.cols, list: Vec::new() };
    let input = imp.read(tx, ctx, t, row, &mut errs).await?;
    let Some(input) = input.filter(|_| errs.list.is_empty()) else {
        return Ok((Verdict::Rejected, errs.list));
    };
    let (key, column, what) = imp.key(&input);
    match seen.get(&key) {
        Some(first) => {
            errs.by_key(column, format!("与第 {first} 行是同一{what}；在一个文件中只能出现一次，请删除或合并其中一行"));
            return Ok((Verdict::Rejected, errs.list));
        }
        None => {
            seen.insert(key, row.excel_row);
        }
    }
    tx.exec_script("SAVEPOINT taizhang_row").await?;
    let r = imp.write(tx, ctx, input).await;
    match &r {
        Ok(_) => tx.exec_script("RELEASE SAVEPOINT taizhang_row").await?,
        // PostgreSQL aborts a transaction on any failed statement; the savepoint also undoes
        // the half of the row that was written.
        Err(_) => tx.exec_script("ROLLBACK TO SAVEPOINT taizhang_row; RELEASE SAVEPOINT taizhang_row").await?,
    }
    match r {
        Ok(v) => Ok((v, Vec::new())),
        Err(Refusal::Columns(list)) => {
            for (key, reason) in list {
                errs.by_key(key, reason);
            }
            Ok((Verdict::Rejected, errs.list))
        }
        Err(Refusal::Store(
            e @ (StoreError::Database(_) | StoreError::Connect(_) | StoreError::Internal(_) | StoreError::NewerDatabase(_)),
        )) => Err(e.into()),
        Err(Refusal::Store(e)) => {
            errs.at(None, e.to_string());
            Ok((Verdict::Rejected, errs.list))
        }
    }
}

/// Applies a non-blank cell over a stored text: blank never clears. Returns whether it changed.
pub(super) fn take(stored: &mut String, given: &str) -> bool {
    let given = given.trim();
    if given.is_empty() || given == stored.as_str() {
        return false;
    }
    *stored = given.to_string();
    true
}

//! Reading .xlsx (streamed cell by cell) and .xls (small enough to load).

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use calamine::{
    Data, DataRef, Dimensions, ExcelDateTime, ExcelDateTimeType, Reader, SheetVisible, Xls, XlsError, Xlsx,
    XlsxError,
};

use crate::body::Body;
use crate::error::{ReadError, TabularError};
use crate::guard::no_panic;
use crate::header::{detect, merges_could_help, GridRow, Merges, Region, BUFFER_ROWS};
use crate::limits::Limits;
use crate::meter::{Ctx, RowMeter};
use crate::model::{Cell, ColumnSpec, RowSink, SheetLayout};
use crate::xlsx_read::{vet_for_calamine, Workbook};

pub(crate) type XlsxBook = Xlsx<BufReader<File>>;
pub(crate) type XlsBook = Xls<BufReader<File>>;

/// Days between the 1900 and 1904 date systems' day zero.
const DAYS_1900_TO_1904: f64 = 1462.0;

/// An opened .xlsx: our own reader when it can read the workbook, calamine (opened only
/// when needed, and only after `vet_for_calamine`) for what it declines.
pub(crate) struct XlsxSource {
    path: PathBuf,
    ours: Option<Workbook<BufReader<File>>>,
    calamine: Option<Box<XlsxBook>>,
}

impl XlsxSource {
    pub(crate) fn open(path: &Path, file: &str, limits: Limits) -> Result<Self, TabularError> {
        if let Some(wb) = Workbook::open_path(path, file, limits)? {
            return Ok(XlsxSource { path: path.to_path_buf(), ours: Some(wb), calamine: None });
        }
        let book = open_calamine(path, file, &limits)?;
        Ok(XlsxSource { path: path.to_path_buf(), ours: None, calamine: Some(book) })
    }

    /// Sheets in workbook order, with whether each is hidden.
    pub(crate) fn sheets(&self) -> Vec<(String, bool)> {
        match (&self.ours, &self.calamine) {
            (Some(wb), _) => wb.sheets(),
            (None, Some(book)) => book
                .sheets_metadata()
                .iter()
                .map(|s| (s.name.clone(), s.visible != SheetVisible::Visible))
                .collect(),
            (None, None) => Vec::new(),
        }
    }

    fn calamine(&mut self, ctx: &Ctx) -> Result<&mut XlsxBook, TabularError> {
        if self.calamine.is_none() {
            self.calamine = Some(open_calamine(&self.path, &ctx.file, &ctx.limits)?);
        }
        self.calamine
            .as_deref_mut()
            .ok_or_else(|| TabularError::Corrupt("工作簿未能打开".to_string()))
    }
}

/// calamine reads the shared strings and metadata whole as it opens, so the workbook is
/// vetted against the limits first.
fn open_calamine(path: &Path, file: &str, limits: &Limits) -> Result<Box<XlsxBook>, TabularError> {
    vet_for_calamine(path, file, limits)?;
    let f = File::open(path).map_err(TabularError::Io)?;
    match no_panic(|| Xlsx::new(BufReader::new(f)))? {
        Ok(book) => Ok(Box::new(book)),
        Err(_) => Err(TabularError::Open {
            file: file.to_string(),
            reason: "不是有效的 xlsx 文件，可能已损坏，或是 WPS/ODS 等其他格式，请用 Excel 或 WPS 另存为 .xlsx 后再试".to_string(),
        }),
    }
}

pub(crate) fn read_xlsx<E>(
    src: &mut XlsxSource,
    ctx: &Ctx,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<SheetLayout, ReadError<E>> {
    if let Some(wb) = src.ours.as_mut() {
        if !wb.has_sheet(&ctx.sheet) {
            return Err(TabularError::UnknownSheet(ctx.sheet.clone()).into());
        }
        if let Some(layout) = read_xlsx_fast(wb, ctx, specs, on_row)? {
            return Ok(layout);
        }
    }
    // A sheet our reader does not take (not a worksheet): calamine reads it, or words why not.
    let book = src.calamine(ctx)?;
    read_xlsx_calamine(book, ctx, specs, on_row)
}

/// The same steps as `read_xlsx_calamine` with `xlsx_read`'s cells; `None` when that reader
/// does not find the sheet (calamine then looks, and words the error).
fn read_xlsx_fast<E, R: Read + Seek>(
    wb: &mut Workbook<R>,
    ctx: &Ctx,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<Option<SheetLayout>, ReadError<E>> {
    let sheet = ctx.sheet.as_str();
    let mut meter = RowMeter::default();
    let mut grid: Vec<GridRow> = Vec::new();
    {
        let Some(mut cells) = wb.cells(sheet)? else { return Ok(None) };
        while let Some((row, col, value)) = cells.next_cell()? {
            if row >= BUFFER_ROWS {
                break;
            }
            meter.cell(ctx, row, col, &value)?;
            if grid.last().is_none_or(|last| last.row != row) {
                grid.push(GridRow { row, cells: Vec::new() });
            }
            if let (false, Some(last)) = (value.is_blank(), grid.last_mut()) {
                last.cells.push((col, value));
            }
        }
    }
    tidy(&mut grid);
    let regions = if merges_could_help(&grid, specs) { wb.merges(sheet)? } else { Vec::new() };
    let mut detected = detect(&grid, specs, Merges::Known(&regions), ctx)?;
    let fills = wb.data_merges(sheet, detected.first_data_row)?;
    let Some(mut cells) = wb.cells(sheet)? else { return Ok(None) };
    let last_row = cells.last_row();
    detected.layout.rows_hint = Some(u64::from(last_row.saturating_add(1).saturating_sub(detected.first_data_row))).filter(|n| *n > 0);
    let mut body = Body::new(detected, specs.len(), on_row)?;
    body.fill_merged(&fills);
    body.feed_grid(grid)?;
    while let Some((row, col, value)) = cells.next_cell()? {
        if row < BUFFER_ROWS {
            continue;
        }
        meter.cell(ctx, row, col, &value)?;
        body.start_row(row)?;
        body.put(col, value);
    }
    body.finish().map(Some)
}

/// calamine's streaming cell reader under the same steps: for workbooks `xlsx_read` declines.
pub(crate) fn read_xlsx_calamine<E>(
    book: &mut XlsxBook,
    ctx: &Ctx,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<SheetLayout, ReadError<E>> {
    let sheet = ctx.sheet.as_str();
    let mut meter = RowMeter::default();
    let grid = xlsx_top_rows(book, ctx, &mut meter)?;
    // Needed below the header too (values merged down a column), so always read here.
    let regions: Vec<Region> = match no_panic(|| book.worksheet_merge_cells(sheet))? {
        Some(Ok(dims)) => dims.iter().map(region).collect(),
        Some(Err(e)) => return Err(xlsx_error(e).into()),
        None => Vec::new(),
    };
    let mut detected = detect(&grid, specs, Merges::Known(&regions), ctx)?;
    let mut cells = no_panic(|| book.worksheet_cells_reader(sheet))?.map_err(xlsx_error)?;
    let last_row = cells.dimensions().end.0;
    detected.layout.rows_hint = Some(u64::from(last_row.saturating_add(1).saturating_sub(detected.first_data_row))).filter(|n| *n > 0);
    let mut body = Body::new(detected, specs.len(), on_row)?;
    body.fill_merged(&regions);
    body.feed_grid(grid)?;

    while let Some(cell) = no_panic(|| cells.next_cell())?.map_err(xlsx_error)? {
        let (row, col) = cell.get_position();
        if row < BUFFER_ROWS {
            continue;
        }
        let value = from_data_ref(cell.get_value());
        meter.cell(ctx, row, col, &value)?;
        body.start_row(row)?;
        body.put(col, value);
    }
    body.finish()
}

fn xlsx_top_rows(book: &mut XlsxBook, ctx: &Ctx, meter: &mut RowMeter) -> Result<Vec<GridRow>, TabularError> {
    let mut grid: Vec<GridRow> = Vec::new();
    let mut cells = no_panic(|| book.worksheet_cells_reader(&ctx.sheet))?.map_err(xlsx_error)?;
    while let Some(cell) = no_panic(|| cells.next_cell())?.map_err(xlsx_error)? {
        let (row, col) = cell.get_position();
        if row >= BUFFER_ROWS {
            break;
        }
        let value = from_data_ref(cell.get_value());
        meter.cell(ctx, row, col, &value)?;
        // Rows of blanks are kept so the empty-row count below the header
        // comes out the same as for rows read later.
        if grid.last().is_none_or(|last| last.row != row) {
            grid.push(GridRow {
                row,
                cells: Vec::new(),
            });
        }
        if let (false, Some(last)) = (value.is_blank(), grid.last_mut()) {
            last.cells.push((col, value));
        }
    }
    tidy(&mut grid);
    Ok(grid)
}

pub(crate) fn read_xls<E>(
    book: &mut XlsBook,
    ctx: &Ctx,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<SheetLayout, ReadError<E>> {
    let sheet = ctx.sheet.as_str();
    let mut meter = RowMeter::default();
    // An .xls sheet holds at most 65,536 rows, so loading it whole is bounded.
    let range = no_panic(|| book.worksheet_range(sheet))?.map_err(xls_error)?;
    let regions: Vec<Region> = no_panic(|| book.worksheet_merge_cells(sheet))?
        .unwrap_or_default()
        .iter()
        .map(region)
        .collect();
    let (row0, col0) = range.start().unwrap_or((0, 0));

    let mut grid = Vec::new();
    for (row, cells) in (row0..).zip(range.rows()) {
        if row >= BUFFER_ROWS {
            break;
        }
        let mut kept = Vec::new();
        for (col, d) in (col0..).zip(cells) {
            let cell = from_data(d);
            meter.cell(ctx, row, col, &cell)?;
            if !cell.is_blank() {
                kept.push((col, cell));
            }
        }
        grid.push(GridRow { row, cells: kept });
    }
    tidy(&mut grid);
    let detected = detect(&grid, specs, Merges::Known(&regions), ctx)?;
    let mut body = Body::new(detected, specs.len(), on_row)?;
    body.fill_merged(&regions);
    body.feed_grid(grid)?;
    for (row, cells) in (row0..).zip(range.rows()) {
        if row < BUFFER_ROWS {
            continue;
        }
        body.start_row(row)?;
        for (col, d) in (col0..).zip(cells) {
            if matches!(d, Data::Empty) {
                continue;
            }
            let cell = from_data(d);
            meter.cell(ctx, row, col, &cell)?;
            body.put(col, cell);
        }
    }
    body.finish()
}

/// Header lookups binary-search rows and columns; a hand-made or damaged
/// file may list them out of order.
fn tidy(grid: &mut [GridRow]) {
    grid.sort_by_key(|r| r.row);
    for r in grid.iter_mut() {
        r.cells.sort_by_key(|(c, _)| *c);
    }
}

fn region(d: &Dimensions) -> Region {
    Region {
        first_row: d.start.0.min(d.end.0),
        first_col: d.start.1.min(d.end.1),
        last_row: d.start.0.max(d.end.0),
        last_col: d.start.1.max(d.end.1),
    }
}

fn text(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s.to_string())
    }
}

pub(crate) fn from_data_ref(v: &DataRef<'_>) -> Cell {
    match v {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text(s),
        DataRef::SharedString(s) => text(s),
        DataRef::Int(i) => Cell::Int(*i),
        DataRef::Float(f) => Cell::Float(*f),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => Cell::DateTime(serial_1900(dt)),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

fn from_data(v: &Data) -> Cell {
    match v {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => text(s),
        Data::Int(i) => Cell::Int(*i),
        Data::Float(f) => Cell::Float(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => Cell::DateTime(serial_1900(dt)),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

/// calamine keeps the 1904 flag private; equality with a rebuilt value that
/// claims the 1904 system reveals it.
fn serial_1900(dt: &ExcelDateTime) -> f64 {
    let kind = if dt.is_duration() {
        ExcelDateTimeType::TimeDelta
    } else {
        ExcelDateTimeType::DateTime
    };
    let is_1904 = *dt == ExcelDateTime::new(dt.as_f64(), kind, true);
    if is_1904 && dt.is_datetime() {
        dt.as_f64() + DAYS_1900_TO_1904
    } else {
        dt.as_f64()
    }
}

/// calamine's messages are English and a damaged file is the clerk's doing, so the clerk
/// learns only what broke; a developer reproduces it with the file.
pub(crate) fn xlsx_error(e: XlsxError) -> TabularError {
    match e {
        XlsxError::WorksheetNotFound(name) => TabularError::UnknownSheet(name),
        XlsxError::Io(io) => TabularError::Io(io),
        _ => TabularError::Corrupt("工作表的内部数据有误".to_string()),
    }
}

pub(crate) fn xls_error(e: XlsError) -> TabularError {
    match e {
        XlsError::WorksheetNotFound(name) => TabularError::UnknownSheet(name),
        XlsError::Io(io) => TabularError::Io(io),
        _ => TabularError::Corrupt("工作表的内部数据有误".to_string()),
    }
}

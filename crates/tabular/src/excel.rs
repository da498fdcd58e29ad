//! Reading .xlsx (streamed cell by cell) and .xls (small enough to load).

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use calamine::{
    Data, DataRef, Dimensions, ExcelDateTime, ExcelDateTimeType, Reader, Xls, XlsError, Xlsx,
    XlsxError,
};

use crate::body::Body;
use crate::error::{ReadError, TabularError};
use crate::guard::no_panic;
use crate::header::{detect, merges_could_help, GridRow, Merges, Region, BUFFER_ROWS};
use crate::model::{Cell, ColumnSpec, RowSink, SheetLayout};
use crate::xlsx_read::Workbook;

pub(crate) type XlsxBook = Xlsx<BufReader<File>>;
pub(crate) type XlsBook = Xls<BufReader<File>>;

/// Days between the 1900 and 1904 date systems' day zero.
const DAYS_1900_TO_1904: f64 = 1462.0;

pub(crate) fn read_xlsx<E>(
    book: &mut XlsxBook,
    path: &Path,
    sheet: &str,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<SheetLayout, ReadError<E>> {
    // Our own sheet parser when it can read the workbook, calamine's otherwise.
    if let Some(mut wb) = no_panic(|| Workbook::open_path(path))? {
        if let Some(layout) = read_xlsx_fast(&mut wb, book, sheet, specs, on_row)? {
            return Ok(layout);
        }
    }
    read_xlsx_calamine(book, sheet, specs, on_row)
}

/// The same steps as `read_xlsx_calamine` with `xlsx_read`'s cells; `None` when that reader
/// does not find the sheet (calamine then looks, and words the error).
fn read_xlsx_fast<E, R: Read + Seek>(
    wb: &mut Workbook<R>,
    book: &mut XlsxBook,
    sheet: &str,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<Option<SheetLayout>, ReadError<E>> {
    let mut grid: Vec<GridRow> = Vec::new();
    {
        let Some(mut cells) = wb.cells(sheet)? else { return Ok(None) };
        while let Some((row, col, value)) = cells.next_cell()? {
            if row >= BUFFER_ROWS {
                break;
            }
            if grid.last().is_none_or(|last| last.row != row) {
                grid.push(GridRow { row, cells: Vec::new() });
            }
            if let (false, Some(last)) = (value.is_blank(), grid.last_mut()) {
                last.cells.push((col, value));
            }
        }
    }
    tidy(&mut grid);
    let regions = merges(book, sheet, &grid, specs)?;
    let mut detected = detect(&grid, specs, Merges::Known(&regions))?;
    let Some(mut cells) = wb.cells(sheet)? else { return Ok(None) };
    let last_row = cells.last_row();
    detected.layout.rows_hint = Some(u64::from(last_row.saturating_add(1).saturating_sub(detected.first_data_row))).filter(|n| *n > 0);
    let mut body = Body::new(detected, specs.len(), on_row)?;
    body.feed_grid(grid)?;
    while let Some((row, col, value)) = cells.next_cell()? {
        if row < BUFFER_ROWS {
            continue;
        }
        body.start_row(row)?;
        if let Some(spec) = body.spec_of(col) {
            body.set(spec, value);
        }
    }
    body.finish().map(Some)
}

/// mergeCells sits after sheetData, so reading merges parses the whole sheet a second time;
/// skipped unless it can change the header found.
fn merges(book: &mut XlsxBook, sheet: &str, grid: &[GridRow], specs: &[ColumnSpec]) -> Result<Vec<Region>, TabularError> {
    if !merges_could_help(grid, specs) {
        return Ok(Vec::new());
    }
    match no_panic(|| book.worksheet_merge_cells(sheet))? {
        Some(Ok(dims)) => Ok(dims.iter().map(region).collect()),
        Some(Err(e)) => Err(xlsx_error(e)),
        None => Ok(Vec::new()),
    }
}

/// calamine's streaming cell reader under the same steps: for workbooks `xlsx_read` declines.
pub(crate) fn read_xlsx_calamine<E>(
    book: &mut XlsxBook,
    sheet: &str,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<SheetLayout, ReadError<E>> {
    let grid = xlsx_top_rows(book, sheet)?;
    let regions = merges(book, sheet, &grid, specs)?;
    let mut detected = detect(&grid, specs, Merges::Known(&regions))?;
    let mut cells = no_panic(|| book.worksheet_cells_reader(sheet))?.map_err(xlsx_error)?;
    let last_row = cells.dimensions().end.0;
    detected.layout.rows_hint = Some(u64::from(last_row.saturating_add(1).saturating_sub(detected.first_data_row))).filter(|n| *n > 0);
    let mut body = Body::new(detected, specs.len(), on_row)?;
    body.feed_grid(grid)?;

    while let Some(cell) = no_panic(|| cells.next_cell())?.map_err(xlsx_error)? {
        let (row, col) = cell.get_position();
        if row < BUFFER_ROWS {
            continue;
        }
        body.start_row(row)?;
        if let Some(spec) = body.spec_of(col) {
            body.set(spec, from_data_ref(cell.get_value()));
        }
    }
    body.finish()
}

fn xlsx_top_rows(book: &mut XlsxBook, sheet: &str) -> Result<Vec<GridRow>, TabularError> {
    let mut grid: Vec<GridRow> = Vec::new();
    let mut cells = no_panic(|| book.worksheet_cells_reader(sheet))?.map_err(xlsx_error)?;
    while let Some(cell) = no_panic(|| cells.next_cell())?.map_err(xlsx_error)? {
        let (row, col) = cell.get_position();
        if row >= BUFFER_ROWS {
            break;
        }
        // Rows of blanks are kept so the empty-row count below the header
        // comes out the same as for rows read later.
        if grid.last().is_none_or(|last| last.row != row) {
            grid.push(GridRow {
                row,
                cells: Vec::new(),
            });
        }
        let value = from_data_ref(cell.get_value());
        if let (false, Some(last)) = (value.is_blank(), grid.last_mut()) {
            last.cells.push((col, value));
        }
    }
    tidy(&mut grid);
    Ok(grid)
}

pub(crate) fn read_xls<E>(
    book: &mut XlsBook,
    sheet: &str,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<SheetLayout, ReadError<E>> {
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
        let cells: Vec<(u32, Cell)> = (col0..)
            .zip(cells)
            .map(|(col, d)| (col, from_data(d)))
            .filter(|(_, c)| !c.is_blank())
            .collect();
        grid.push(GridRow { row, cells });
    }
    tidy(&mut grid);
    let detected = detect(&grid, specs, Merges::Known(&regions))?;
    let mut body = Body::new(detected, specs.len(), on_row)?;
    body.feed_grid(grid)?;
    for (row, cells) in (row0..).zip(range.rows()) {
        if row < BUFFER_ROWS {
            continue;
        }
        body.start_row(row)?;
        for (col, d) in (col0..).zip(cells) {
            if let Some(spec) = body.spec_of(col) {
                body.set(spec, from_data(d));
            }
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

pub(crate) fn xlsx_error(e: XlsxError) -> TabularError {
    match e {
        XlsxError::WorksheetNotFound(name) => TabularError::UnknownSheet(name),
        other => TabularError::Corrupt(other.to_string()),
    }
}

pub(crate) fn xls_error(e: XlsError) -> TabularError {
    match e {
        XlsError::WorksheetNotFound(name) => TabularError::UnknownSheet(name),
        other => TabularError::Corrupt(other.to_string()),
    }
}

//! Streaming CSV reading with encoding detection.

use std::fs::File;
use std::path::Path;

use csv::ByteRecord;

use crate::body::Body;
use crate::csv_lines::BlankLineKeeper;
use crate::decode::sniff;
use crate::error::{ReadError, TabularError};
use crate::header::{detect, GridRow, Merges, BUFFER_ROWS};
use crate::model::{Cell, ColumnSpec, RowSink, SheetLayout};

pub(crate) fn read_csv<E>(
    path: &Path,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<SheetLayout, ReadError<E>> {
    let file = File::open(path).map_err(TabularError::Io)?;
    let sniffed = sniff(file).map_err(TabularError::Io)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniffed.delimiter)
        .from_reader(BlankLineKeeper::new(sniffed.reader, sniffed.delimiter));

    let mut record = ByteRecord::new();
    // With blank lines kept, the record index is the row Excel would show.
    let mut rows = 0u32..;
    let mut grid = Vec::new();
    let mut pending: Option<u32> = None;
    while next(&mut rdr, &mut record)? {
        let row = rows.next().unwrap_or(u32::MAX);
        if row >= BUFFER_ROWS {
            pending = Some(row);
            break;
        }
        let cells: Vec<(u32, Cell)> = (0u32..)
            .zip(record.iter())
            .map(|(col, f)| (col, field(f)))
            .filter(|(_, c)| !c.is_blank())
            .collect();
        grid.push(GridRow { row, cells });
    }

    let detected = detect(&grid, specs, Merges::Absent)?;
    let mut body = Body::new(detected, specs.len(), on_row)?;
    body.feed_grid(grid)?;
    if let Some(row) = pending {
        put(&mut body, row, &record)?;
        while next(&mut rdr, &mut record)? {
            let row = rows.next().unwrap_or(u32::MAX);
            put(&mut body, row, &record)?;
        }
    }
    body.finish()
}

fn next<R: std::io::Read>(
    rdr: &mut csv::Reader<R>,
    record: &mut ByteRecord,
) -> Result<bool, TabularError> {
    rdr.read_byte_record(record)
        .map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(io) => TabularError::Io(io),
            other => TabularError::Corrupt(format!("{other:?}")),
        })
}

fn put<E>(body: &mut Body<'_, E>, row: u32, record: &ByteRecord) -> Result<(), ReadError<E>> {
    body.start_row(row)?;
    for (col, f) in (0u32..).zip(record.iter()) {
        if let Some(spec) = body.spec_of(col) {
            body.set(spec, field(f));
        }
    }
    Ok(())
}

/// The decoder upstream guarantees UTF-8, so the lossy path never fires in
/// practice; it only keeps a bug there from becoming a panic.
fn field(bytes: &[u8]) -> Cell {
    if bytes.is_empty() {
        return Cell::Empty;
    }
    let s = String::from_utf8_lossy(bytes);
    // ="0123" is how spreadsheets are told to keep digits as text in CSV;
    // the value meant is what is inside the quotes.
    if let Some(inner) = s.strip_prefix("=\"").and_then(|t| t.strip_suffix('"')) {
        return if inner.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(inner.to_string())
        };
    }
    Cell::Text(s.into_owned())
}

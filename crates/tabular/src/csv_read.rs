//! Streaming CSV reading with encoding and delimiter detection.

use std::fs::File;
use std::path::Path;

use csv::ByteRecord;

use crate::body::Body;
use crate::csv_lines::BlankLineKeeper;
use crate::csv_out::csv_revive;
use crate::decode::{sniff, Utf8Reader};
use crate::error::{ReadError, TabularError};
use crate::header::{detect, GridRow, Merges, BUFFER_ROWS};
use crate::limits::Hit;
use crate::meter::{Ctx, RowMeter};
use crate::model::{Cell, ColumnSpec, RowSink, SheetLayout};

type Csv = csv::Reader<BlankLineKeeper<Utf8Reader<File>>>;

pub(crate) fn read_csv<E>(
    path: &Path,
    ctx: &Ctx,
    specs: &[ColumnSpec],
    on_row: &mut dyn RowSink<E>,
) -> Result<SheetLayout, ReadError<E>> {
    let file = File::open(path).map_err(TabularError::Io)?;
    let sniffed = sniff(file).map_err(TabularError::Io)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniffed.delimiter)
        .from_reader(BlankLineKeeper::new(
            sniffed.reader,
            sniffed.delimiter,
            ctx.limits.row_bytes,
        ));

    let mut record = ByteRecord::new();
    // With blank lines kept, the record index is the row Excel would show.
    let mut rows = 0u32..;
    let mut grid = Vec::new();
    let mut pending: Option<u32> = None;
    while next(&mut rdr, &mut record, ctx)? {
        let row = rows.next().unwrap_or(u32::MAX);
        if row >= BUFFER_ROWS {
            pending = Some(row);
            break;
        }
        let mut cells = Vec::new();
        for (col, f) in (0u32..).zip(record.iter()) {
            RowMeter::field(ctx, row, col, f)?;
            let cell = field(f);
            if !cell.is_blank() {
                cells.push((col, cell));
            }
        }
        grid.push(GridRow { row, cells });
    }

    let detected = detect(&grid, specs, Merges::Absent, ctx)?;
    let mut body = Body::new(detected, specs.len(), on_row)?;
    body.feed_grid(grid)?;
    if let Some(row) = pending {
        put(&mut body, ctx, row, &record)?;
        while next(&mut rdr, &mut record, ctx)? {
            let row = rows.next().unwrap_or(u32::MAX);
            put(&mut body, ctx, row, &record)?;
        }
    }
    body.finish()
}

fn next(rdr: &mut Csv, record: &mut ByteRecord, ctx: &Ctx) -> Result<bool, TabularError> {
    match rdr.read_byte_record(record) {
        Ok(more) => Ok(more),
        Err(e) => {
            // The keeper has seen every byte up to the failure: its row is the failing one.
            let row = rdr.get_ref().excel_row();
            Err(match e.into_kind() {
                csv::ErrorKind::Io(io) => match Hit::of_io(&io) {
                    Some(Hit::RowBytes(_)) => ctx.row_too_large(row.saturating_sub(1)),
                    Some(Hit::Encoding(encoding)) => TabularError::EncodingChanged {
                        file: ctx.file.clone(),
                        row,
                        encoding: encoding.to_string(),
                    },
                    _ => TabularError::Io(io),
                },
                _ => TabularError::Corrupt(format!("第 {row} 行附近的 CSV 格式无法解析")),
            })
        }
    }
}

fn put<E>(
    body: &mut Body<'_, E>,
    ctx: &Ctx,
    row: u32,
    record: &ByteRecord,
) -> Result<(), ReadError<E>> {
    body.start_row(row)?;
    for (col, f) in (0u32..).zip(record.iter()) {
        RowMeter::field(ctx, row, col, f)?;
        match body.spec_of(col) {
            Some(spec) => body.set(spec, field(f)),
            // Unbound fields cost a Cell only while the row's leading text is still sought.
            None if body.wants_other() => {
                // Borrowed, not copied: most rows' leftmost unbound field is a 序号 not kept.
                let s = String::from_utf8_lossy(f);
                body.other_text(csv_revive(
                    s.strip_prefix("=\"")
                        .and_then(|t| t.strip_suffix('"'))
                        .unwrap_or(&s),
                ));
            }
            None => {}
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
    // The apostrophe an export puts before a formula-like text (`csv_out::csv_inert`).
    match csv_revive(&s) {
        revived if revived.len() != s.len() => Cell::Text(revived.to_string()),
        _ => Cell::Text(s.into_owned()),
    }
}

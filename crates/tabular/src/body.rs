//! Turns the cell stream below the header into `RawRow`s, one row at a time,
//! so memory stays flat however long the sheet is.

use crate::error::ReadError;
use crate::header::{Detected, GridRow};
use crate::model::{Cell, RawRow, RowSink, SheetLayout};

pub(crate) struct Body<'f, E> {
    col_map: Vec<Option<usize>>,
    n_specs: usize,
    first_data_row: u32,
    /// Zero-based row the stream is expected to reach next; rows it skips
    /// over are empty in Excel and are counted as such.
    next_row: u32,
    current: Option<u32>,
    cells: Vec<Cell>,
    rows_read: u64,
    empty_rows: u64,
    layout: SheetLayout,
    on_row: &'f mut dyn RowSink<E>,
}

impl<'f, E> Body<'f, E> {
    pub(crate) fn new(
        detected: Detected,
        n_specs: usize,
        on_row: &'f mut dyn RowSink<E>,
    ) -> Result<Self, ReadError<E>> {
        on_row.layout(&detected.layout).map_err(ReadError::Callback)?;
        Ok(Body {
            col_map: detected.col_map,
            n_specs,
            first_data_row: detected.first_data_row,
            next_row: detected.first_data_row,
            current: None,
            cells: Vec::new(),
            rows_read: 0,
            empty_rows: 0,
            layout: detected.layout,
            on_row,
        })
    }

    /// Spec index fed by a zero-based column, if any.
    #[inline]
    pub(crate) fn spec_of(&self, col: u32) -> Option<usize> {
        self.col_map.get(col as usize).copied().flatten()
    }

    /// Moves to `row`; the row before it, if complete, goes to the caller.
    #[inline]
    pub(crate) fn start_row(&mut self, row: u32) -> Result<(), ReadError<E>> {
        if self.current == Some(row) {
            return Ok(());
        }
        self.flush()?;
        if row < self.first_data_row {
            return Ok(());
        }
        self.empty_rows += u64::from(row.saturating_sub(self.next_row));
        self.next_row = self.next_row.max(row.saturating_add(1));
        self.current = Some(row);
        self.cells = vec![Cell::Empty; self.n_specs];
        Ok(())
    }

    /// Stores a cell of the current row for the given spec.
    #[inline]
    pub(crate) fn set(&mut self, spec: usize, cell: Cell) {
        if self.current.is_some() {
            if let Some(slot) = self.cells.get_mut(spec) {
                *slot = cell;
            }
        }
    }

    /// Replays rows already read while looking for the header.
    pub(crate) fn feed_grid(&mut self, rows: Vec<GridRow>) -> Result<(), ReadError<E>> {
        for r in rows {
            if r.row < self.first_data_row {
                continue;
            }
            self.start_row(r.row)?;
            for (col, cell) in r.cells {
                if let Some(spec) = self.spec_of(col) {
                    self.set(spec, cell);
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ReadError<E>> {
        let Some(row) = self.current.take() else {
            return Ok(());
        };
        let cells = std::mem::take(&mut self.cells);
        if cells.iter().all(Cell::is_blank) {
            self.empty_rows += 1;
            return Ok(());
        }
        self.rows_read += 1;
        self.on_row.row(RawRow {
            excel_row: row.saturating_add(1),
            cells,
        })
        .map_err(ReadError::Callback)
    }

    pub(crate) fn finish(mut self) -> Result<SheetLayout, ReadError<E>> {
        self.flush()?;
        let mut layout = self.layout;
        layout.rows_read = self.rows_read;
        layout.empty_rows_skipped = self.empty_rows;
        Ok(layout)
    }
}

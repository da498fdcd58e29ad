//! Turns the cell stream below the header into `RawRow`s, one row at a time,
//! so memory stays flat however long the sheet is.

use crate::error::ReadError;
use crate::header::{Detected, GridRow, Region};
use crate::text::column_letter;
use crate::model::{Cell, FilledDown, RawRow, RowSink, SheetLayout, LEADING_TEXT_CHARS, SKIPPED_ROWS_NOTED};

/// A merged area in one bound column below the header: the value of its first row is given
/// to the rows below it that hold something else but leave this cell blank.
struct Fill {
    spec: usize,
    col: u32,
    first_row: u32,
    last_row: u32,
    value: Option<Cell>,
    used: bool,
}

/// Merged areas listed in `SheetLayout::filled_down`; the rest are filled all the same.
const FILLS_NOTED: usize = 100;

pub(crate) struct Body<'f, E> {
    col_map: Vec<Option<usize>>,
    n_specs: usize,
    first_data_row: u32,
    /// Zero-based row the stream is expected to reach next; rows it skips
    /// over are empty in Excel and are counted as such.
    next_row: u32,
    current: Option<u32>,
    cells: Vec<Cell>,
    /// A bound cell holding something was seen in the current row.
    bound_seen: bool,
    /// The current row's leftmost text in a column feeding no spec, if left of any bound value.
    lead: Option<String>,
    skipped_text_rows: Vec<(u32, String)>,
    rows_read: u64,
    empty_rows: u64,
    /// `empty_rows` when the last data row was handed on.
    empty_between: u64,
    layout: SheetLayout,
    /// Merged areas not yet reached, the nearest last.
    pending_fills: Vec<Fill>,
    /// Merged areas covering the current row.
    active_fills: Vec<Fill>,
    filled_down: Vec<FilledDown>,
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
            bound_seen: false,
            lead: None,
            skipped_text_rows: Vec::new(),
            rows_read: 0,
            empty_rows: 0,
            empty_between: 0,
            layout: detected.layout,
            pending_fills: Vec::new(),
            active_fills: Vec::new(),
            filled_down: Vec::new(),
            on_row,
        })
    }

    /// Merged areas of the sheet: those below the header spanning rows in a bound column are
    /// filled down. Called before the first row.
    pub(crate) fn fill_merged(&mut self, regions: &[Region]) {
        let mut fills: Vec<Fill> = regions
            .iter()
            .filter(|r| r.first_row >= self.first_data_row && r.last_row > r.first_row)
            .filter_map(|r| {
                let spec = self.spec_of(r.first_col)?;
                Some(Fill { spec, col: r.first_col, first_row: r.first_row, last_row: r.last_row, value: None, used: false })
            })
            .collect();
        fills.sort_by_key(|f| std::cmp::Reverse(f.first_row));
        self.pending_fills = fills;
    }

    /// Brings the merged areas covering `row` into play and retires those above it.
    fn track_fills(&mut self, row: u32) {
        while self.pending_fills.last().is_some_and(|f| f.first_row <= row) {
            if let Some(f) = self.pending_fills.pop() {
                self.active_fills.push(f);
            }
        }
        if self.active_fills.iter().any(|f| f.last_row < row) {
            let (done, live): (Vec<Fill>, Vec<Fill>) = std::mem::take(&mut self.active_fills).into_iter().partition(|f| f.last_row < row);
            self.active_fills = live;
            for f in done {
                self.note_fill(f);
            }
        }
    }

    fn note_fill(&mut self, f: Fill) {
        if !f.used || self.filled_down.len() >= FILLS_NOTED {
            return;
        }
        let header = self.layout.columns.iter().find(|b| b.spec == f.spec).map(|b| b.header.clone()).unwrap_or_default();
        self.filled_down.push(FilledDown {
            letter: column_letter(f.col),
            header,
            first_row: f.first_row.saturating_add(1),
            last_row: f.last_row.saturating_add(1),
        });
    }

    /// Gives the current row the merged values it lacks; the first row of an area gives
    /// its value.
    fn apply_fills(&mut self, row: u32) {
        for f in &mut self.active_fills {
            if row == f.first_row {
                f.value = self.cells.get(f.spec).filter(|c| !c.is_blank()).cloned();
            } else if row > f.first_row && row <= f.last_row {
                if let (Some(v), Some(slot)) = (f.value.as_ref(), self.cells.get_mut(f.spec)) {
                    if slot.is_blank() {
                        *slot = v.clone();
                        f.used = true;
                    }
                }
            }
        }
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
        if !self.pending_fills.is_empty() || !self.active_fills.is_empty() {
            self.track_fills(row);
        }
        self.current = Some(row);
        self.cells = vec![Cell::Empty; self.n_specs];
        self.bound_seen = false;
        self.lead = None;
        Ok(())
    }

    /// Stores a cell of the current row for the given spec.
    #[inline]
    pub(crate) fn set(&mut self, spec: usize, cell: Cell) {
        if self.current.is_some() {
            if !self.bound_seen && !cell.is_blank() {
                self.bound_seen = true;
            }
            if let Some(slot) = self.cells.get_mut(spec) {
                *slot = cell;
            }
        }
    }

    /// Notes a cell of the current row in a column that feeds no spec: only the row's
    /// leftmost text is kept, and only while no bound cell to its left held anything.
    #[inline]
    pub(crate) fn other(&mut self, cell: &Cell) {
        if !self.wants_other() {
            return;
        }
        if let Cell::Text(t) = cell {
            self.lead = leading_text(t);
        }
    }

    /// `other` for a text not yet made a `Cell` (a CSV field).
    #[inline]
    pub(crate) fn other_text(&mut self, t: &str) {
        if self.wants_other() {
            self.lead = leading_text(t);
        }
    }

    /// Whether `other` would still look at a cell of the current row.
    #[inline]
    pub(crate) fn wants_other(&self) -> bool {
        self.current.is_some() && !self.bound_seen && self.lead.is_none()
    }

    /// Routes a cell of column `col` to `set` or `other`.
    #[inline]
    pub(crate) fn put(&mut self, col: u32, cell: Cell) {
        match self.spec_of(col) {
            Some(spec) => self.set(spec, cell),
            None => self.other(&cell),
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
                self.put(col, cell);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ReadError<E>> {
        let Some(row) = self.current.take() else {
            return Ok(());
        };
        let cells = std::mem::take(&mut self.cells);
        let lead = self.lead.take();
        let blank = cells.iter().all(Cell::is_blank);
        self.cells = cells;
        // A row holding nothing but what a merge would give it stays empty.
        if !self.active_fills.is_empty() && (!blank || self.active_fills.iter().any(|f| f.first_row == row)) {
            self.apply_fills(row);
        }
        let cells = std::mem::take(&mut self.cells);
        if blank {
            self.empty_rows += 1;
            if let (Some(text), true) = (lead, self.skipped_text_rows.len() < SKIPPED_ROWS_NOTED) {
                self.skipped_text_rows.push((row.saturating_add(1), text));
            }
            return Ok(());
        }
        self.rows_read += 1;
        self.empty_between = self.empty_rows;
        self.on_row.row(RawRow {
            excel_row: row.saturating_add(1),
            cells,
            leading_text: lead,
        })
        .map_err(ReadError::Callback)
    }

    pub(crate) fn finish(mut self) -> Result<SheetLayout, ReadError<E>> {
        self.flush()?;
        for f in std::mem::take(&mut self.active_fills) {
            self.note_fill(f);
        }
        let mut layout = self.layout;
        layout.filled_down = self.filled_down;
        layout.rows_read = self.rows_read;
        layout.empty_rows_skipped = self.empty_rows;
        layout.empty_rows_between = self.empty_between;
        layout.skipped_text_rows = self.skipped_text_rows;
        Ok(layout)
    }
}

/// The text worth keeping from a cell outside the bound columns: not blank, not a plain
/// number (every row's 序号 would otherwise be kept), cut to `LEADING_TEXT_CHARS`.
fn leading_text(t: &str) -> Option<String> {
    let t = t.trim();
    if t.is_empty() || t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    Some(t.chars().take(LEADING_TEXT_CHARS).collect())
}

//! What a reader knows about where it is (file, sheet, limits), and the per-cell checks every
//! reader makes before it keeps a cell.

use crate::error::TabularError;
use crate::limits::Limits;
use crate::model::Cell;
use crate::text::column_letter;

/// The file and sheet being read, for messages, and the limits the read is held to.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The file's name as the clerk knows it.
    pub file: String,
    /// The sheet's name (a CSV's is its file's stem, as `Source::sheet_names` gives it).
    pub sheet: String,
    /// A CSV has no sheets to name in messages.
    pub is_csv: bool,
    pub limits: Limits,
}

impl Ctx {
    fn sheet_in_messages(&self) -> Option<String> {
        (!self.is_csv).then(|| self.sheet.clone())
    }

    /// `row` and `col` are zero-based.
    pub(crate) fn cell_too_large(&self, row: u32, col: Option<u32>) -> TabularError {
        TabularError::CellTooLarge {
            file: self.file.clone(),
            sheet: self.sheet_in_messages(),
            row: row.saturating_add(1),
            column: col.map(column_letter),
            limit: self.limits.cell_chars,
        }
    }

    pub(crate) fn row_too_large(&self, row: u32) -> TabularError {
        TabularError::RowTooLarge {
            file: self.file.clone(),
            sheet: self.sheet_in_messages(),
            row: row.saturating_add(1),
            limit: self.limits.row_bytes,
        }
    }

    pub(crate) fn too_many_columns(&self, row: u32) -> TabularError {
        TabularError::TooManyColumns {
            file: self.file.clone(),
            sheet: self.sheet_in_messages(),
            row: row.saturating_add(1),
            limit: self.limits.row_cells,
        }
    }
}

/// Checks each cell as it is read: its column, its length, and the row's total. Every cell
/// counts, bound to a spec or not: the rows searched for the header keep them all.
#[derive(Default)]
pub(crate) struct RowMeter {
    row: u32,
    bytes: usize,
}

impl RowMeter {
    /// `row` and `col` are zero-based.
    #[inline]
    pub(crate) fn cell(
        &mut self,
        ctx: &Ctx,
        row: u32,
        col: u32,
        cell: &Cell,
    ) -> Result<(), TabularError> {
        match cell {
            Cell::Empty => self.check(ctx, row, col, 0, || 0),
            Cell::Text(s) | Cell::Error(s) => {
                self.check(ctx, row, col, s.len(), || s.chars().count())
            }
            Cell::Int(_) | Cell::Float(_) | Cell::Bool(_) | Cell::DateTime(_) => {
                self.check(ctx, row, col, 8, || 0)
            }
        }
    }

    /// A CSV field's bytes (UTF-8), checked without making a `Cell` of it. The line's bytes
    /// are left to `BlankLineKeeper`, which refuses a long line before it is parsed.
    #[inline]
    pub(crate) fn field(ctx: &Ctx, row: u32, col: u32, bytes: &[u8]) -> Result<(), TabularError> {
        if col >= ctx.limits.row_cells {
            return Err(ctx.too_many_columns(row));
        }
        if bytes.len() > ctx.limits.cell_chars
            && String::from_utf8_lossy(bytes).chars().count() > ctx.limits.cell_chars
        {
            return Err(ctx.cell_too_large(row, Some(col)));
        }
        Ok(())
    }

    #[inline]
    fn check(
        &mut self,
        ctx: &Ctx,
        row: u32,
        col: u32,
        len: usize,
        chars: impl FnOnce() -> usize,
    ) -> Result<(), TabularError> {
        if row != self.row {
            self.row = row;
            self.bytes = 0;
        }
        if col >= ctx.limits.row_cells {
            return Err(ctx.too_many_columns(row));
        }
        // A character takes at least a byte: only a long text needs counting.
        if len > ctx.limits.cell_chars && chars() > ctx.limits.cell_chars {
            return Err(ctx.cell_too_large(row, Some(col)));
        }
        self.bytes = self.bytes.saturating_add(len);
        if self.bytes > ctx.limits.row_bytes {
            return Err(ctx.row_too_large(row));
        }
        Ok(())
    }
}

//! Streaming .xlsx export: rows go to a temporary file as they are written,
//! so a million-row export does not sit in memory.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Workbook, Worksheet};

use crate::error::TabularError;
use crate::out::{shown_text, OutCell, OutColumn};
use crate::style::{column_width, fit_cell, sheet_name, text_width, write_cell, Styles};

/// Rows looked at to size columns; later rows rarely change the picture and
/// measuring all of them would cost time for nothing.
const MEASURE_ROWS: u32 = 1000;
/// Excel's last row (zero-based).
const LAST_ROW: u32 = 1_048_575;

pub struct XlsxOut {
    path: PathBuf,
    workbook: Workbook,
    sheet: Worksheet,
    columns: Vec<OutColumn>,
    styles: Styles,
    next_row: u32,
    first_body_row: u32,
    widths: Vec<f64>,
}

impl XlsxOut {
    /// Starts a workbook with one sheet: an optional title row, then the
    /// header row (bold, frozen).
    pub fn create(
        path: &Path,
        sheet: &str,
        columns: Vec<OutColumn>,
        title: Option<&str>,
    ) -> Result<Self, TabularError> {
        if columns.is_empty() {
            return Err(TabularError::InvalidData("没有要写出的列".to_string()));
        }
        let last_col = u16::try_from(columns.len() - 1)
            .ok()
            .filter(|c| *c < 16_384)
            .ok_or_else(|| TabularError::InvalidData("列数超过 Excel 的上限 16384".to_string()))?;
        let mut workbook = Workbook::new();
        // rust_xlsxwriter keeps constant-memory rows in a temporary file.
        let mut ws = workbook.new_worksheet_with_constant_memory();
        ws.set_name(sheet_name(sheet))?;
        let styles = Styles::new();

        let mut row = 0;
        if let Some(title) = title {
            if last_col > 0 {
                ws.merge_range(0, 0, 0, last_col, &fit_cell(title), &styles.title)?;
            } else {
                ws.write_string_with_format(0, 0, fit_cell(title), &styles.title)?;
            }
            ws.set_row_height(0, 28)?;
            row = 1;
        }
        let mut widths = Vec::with_capacity(columns.len());
        for (col, c) in (0u16..).zip(&columns) {
            ws.write_string_with_format(row, col, fit_cell(&c.header), &styles.header)?;
            widths.push(text_width(&c.header));
        }
        ws.set_freeze_panes(row + 1, 0)?;
        Ok(XlsxOut {
            path: path.to_path_buf(),
            workbook,
            sheet: ws,
            columns,
            styles,
            next_row: row + 1,
            first_body_row: row + 1,
            widths,
        })
    }

    /// Appends one row; cells beyond the given ones stay empty.
    pub fn write_row(&mut self, cells: &[OutCell]) -> Result<(), TabularError> {
        if cells.len() > self.columns.len() {
            return Err(TabularError::InvalidData(format!(
                "这一行有 {} 个值，但表格只有 {} 列",
                cells.len(),
                self.columns.len()
            )));
        }
        if self.next_row > LAST_ROW {
            return Err(TabularError::InvalidData(
                "超过 Excel 单个工作表最多 1048576 行的限制，请分成多个文件导出".to_string(),
            ));
        }
        let measure = self.next_row - self.first_body_row < MEASURE_ROWS;
        for ((col, column), cell) in (0u16..).zip(&self.columns).zip(cells) {
            write_cell(
                &mut self.sheet,
                self.next_row,
                col,
                &column.kind,
                cell,
                &self.styles,
            )?;
            if measure {
                if let Some(w) = self.widths.get_mut(usize::from(col)) {
                    *w = w.max(text_width(&shown_text(cell)));
                }
            }
        }
        self.next_row += 1;
        Ok(())
    }

    /// Rows written so far, not counting title and header.
    pub fn rows_written(&self) -> u32 {
        self.next_row - self.first_body_row
    }

    /// Writes the file. Nothing reaches `path` before this.
    pub fn finish(mut self) -> Result<(), TabularError> {
        // The <cols> element is assembled at save time even in constant-memory
        // mode (rust_xlsxwriter 0.90), so widths measured while streaming can
        // still be applied here.
        for (col, w) in (0u16..).zip(&self.widths) {
            self.sheet.set_column_width(col, column_width(*w))?;
        }
        self.workbook.push_worksheet(self.sheet);
        self.workbook.save(&self.path)?;
        Ok(())
    }
}

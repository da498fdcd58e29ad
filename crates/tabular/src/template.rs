//! Blank import templates: a clerk fills these in and imports them back.

use std::path::Path;

use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, Formula, Workbook};

use crate::error::TabularError;
use crate::out::{OutColumn, OutKind};
use crate::style::{column_width, sheet_name, text_width, Styles};
use crate::text::{column_letter, note_cell_text};

/// Name of the hidden sheet that holds drop-down lists.
pub const LIST_SHEET: &str = "选项";
/// Last prepared body row (1-based, as Excel shows it).
pub const TEMPLATE_LAST_ROW: u32 = 1000;
/// Notes wrap, so only this much of a note counts toward the column width.
const NOTE_WIDTH_CAP: f64 = 24.0;

/// Writes a template: row 1 the title, row 2 the header, row 3 filling notes,
/// then empty rows pre-formatted so IDs stay text and dates stay dates.
/// Enum columns get a drop-down fed from the hidden sheet "选项"; an inline
/// list would be capped at 255 characters.
pub fn write_template(
    path: &Path,
    sheet: &str,
    columns: &[OutColumn],
    title: &str,
) -> Result<(), TabularError> {
    if columns.is_empty() {
        return Err(TabularError::InvalidData("没有要写出的列".to_string()));
    }
    let last_col = u16::try_from(columns.len() - 1)
        .map_err(|_| TabularError::InvalidData("列数超过 Excel 的上限".to_string()))?;
    let st = Styles::new();
    let mut workbook = Workbook::new();
    let first_body = 3u32;
    let last_body = TEMPLATE_LAST_ROW - 1;

    let ws = workbook.add_worksheet();
    ws.set_name(sheet_name(sheet))?;
    if last_col > 0 {
        ws.merge_range(0, 0, 0, last_col, title, &st.title)?;
    } else {
        ws.write_string_with_format(0, 0, title, &st.title)?;
    }
    ws.set_row_height(0, 30)?;

    let mut list_col = 0u16;
    let mut lists: Vec<(u16, &[String])> = Vec::new();
    for (col, c) in (0u16..).zip(columns) {
        ws.write_string_with_format(1, col, &c.header, &st.header)?;
        let note = c.note.as_deref().map(note_cell_text).unwrap_or_default();
        ws.write_string_with_format(2, col, &note, &st.note)?;
        if let Some(fmt) = st.for_kind(&c.kind) {
            // Formatting the column covers rows past the prepared ones;
            // formatted blanks make the prepared rows explicit for WPS.
            ws.set_column_format(col, fmt)?;
            for row in first_body..=last_body {
                ws.write_blank(row, col, fmt)?;
            }
        }
        let mut widest = text_width(&c.header).max(text_width(&note).min(NOTE_WIDTH_CAP));
        if let OutKind::Enum(values) = &c.kind {
            widest = values.iter().map(|v| text_width(v)).fold(widest, f64::max);
            if !values.is_empty() {
                let letter = column_letter(u32::from(list_col));
                let n = values.len();
                let dv = DataValidation::new()
                    .allow_list_formula(Formula::new(format!(
                        "='{LIST_SHEET}'!${letter}$1:${letter}${n}"
                    )))
                    .set_error_style(DataValidationErrorStyle::Stop)
                    .set_error_title("输入有误")?
                    .set_error_message(format!("「{}」只能从下拉列表中选择", c.header))?;
                ws.add_data_validation(first_body, col, last_body, col, &dv)?;
                lists.push((list_col, values));
                list_col += 1;
            }
        }
        ws.set_column_width(col, column_width(widest))?;
    }
    ws.set_row_height(2, 36)?;
    ws.set_freeze_panes(first_body, 0)?;

    if !lists.is_empty() {
        let ls = workbook.add_worksheet();
        ls.set_name(LIST_SHEET)?;
        for (col, values) in lists {
            for (row, v) in (0u32..).zip(values) {
                ls.write_string(row, col, v)?;
            }
        }
        ls.set_hidden(true);
    }
    workbook.save(path)?;
    Ok(())
}

//! CSV export in UTF-8 with a BOM: without the BOM, Excel and WPS on Chinese
//! Windows read the file as GBK and show mojibake.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::TabularError;
use crate::out::{money_text, scaled_text, OutCell, OutColumn, OutKind};

pub struct CsvOut {
    writer: csv::Writer<BufWriter<File>>,
    kinds: Vec<OutKind>,
    excel_text_ids: bool,
    fields: Vec<String>,
}

impl CsvOut {
    /// Creates the file and writes the header line.
    pub fn create(path: &Path, columns: &[OutColumn]) -> Result<Self, TabularError> {
        let mut file = BufWriter::new(File::create(path)?);
        file.write_all(b"\xEF\xBB\xBF")?;
        let mut writer = csv::WriterBuilder::new().flexible(false).from_writer(file);
        writer.write_record(columns.iter().map(|c| c.header.as_str()))?;
        Ok(CsvOut {
            writer,
            kinds: columns.iter().map(|c| c.kind.clone()).collect(),
            excel_text_ids: false,
            fields: Vec::with_capacity(columns.len()),
        })
    }

    /// Writes ID columns as `="…"` so that Excel, opening the CSV directly,
    /// keeps all 18 digits instead of showing 4.31224E+17. Other programs
    /// see the `="…"` literally, so this is off unless asked for; this
    /// crate's own reader understands it.
    pub fn set_excel_text_ids(&mut self, on: bool) {
        self.excel_text_ids = on;
    }

    /// Appends one line; missing trailing cells are written empty.
    pub fn write_row(&mut self, cells: &[OutCell]) -> Result<(), TabularError> {
        if cells.len() > self.kinds.len() {
            return Err(TabularError::InvalidData(format!(
                "这一行有 {} 个值，但表格只有 {} 列",
                cells.len(),
                self.kinds.len()
            )));
        }
        self.fields.clear();
        for (i, kind) in self.kinds.iter().enumerate() {
            let text = cells.get(i).map(cell_text).unwrap_or_default();
            let guard = self.excel_text_ids && *kind == OutKind::IdText && !text.is_empty();
            self.fields
                .push(if guard { format!("=\"{text}\"") } else { text });
        }
        self.writer.write_record(&self.fields)?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<(), TabularError> {
        self.writer.flush()?;
        Ok(())
    }
}

fn cell_text(cell: &OutCell) -> String {
    match cell {
        OutCell::Empty => String::new(),
        OutCell::Text(s) => s.clone(),
        OutCell::Int(i) => i.to_string(),
        OutCell::Money(fen) => money_text(*fen),
        OutCell::Scaled { raw, scale } => scaled_text(*raw, *scale),
        OutCell::Date(d) => d.format("%Y-%m-%d").to_string(),
        OutCell::Bool(b) => if *b { "是" } else { "否" }.to_string(),
    }
}

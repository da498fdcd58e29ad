//! A value given once for the whole file (`--set 发放月份=2024-02`, the web page's 统一填写):
//! a sheet whose month is only in its title, a village's roster without a 村 column.

use chrono::NaiveDate;
use taizhang_domain::ledger::LedgerDef;
use taizhang_tabular::{Cell, ColumnSpec, RawRow};

use crate::columns::{FIELD_PREFIX, YEAR_KEY};
use crate::convert::{cell_for_field, lookup_text, Parsed};
use crate::import::year_of;
use crate::{ExchangeError, Result};

/// One value for one column.
pub(crate) struct FixedValue {
    spec: usize,
    label: String,
    text: String,
    /// The value as the field reads it (fields only; the subject, village and year columns
    /// are compared as text).
    parsed: Option<Parsed>,
    field: Option<String>,
    /// Rows that were blank in this column and were given the value.
    pub(crate) filled: usize,
}

/// Every value given for the file, checked against the ledger before a row is read.
#[derive(Default)]
pub(crate) struct FixedValues {
    pub(crate) values: Vec<FixedValue>,
}

impl FixedValues {
    /// `set`: (column label, key or alias; value) pairs as the clerk wrote them.
    pub(crate) fn resolve(set: &[(String, String)], def: &LedgerDef, specs: &[ColumnSpec], today: NaiveDate) -> Result<FixedValues> {
        let mut values = Vec::new();
        for (name, text) in set {
            let name = name.trim();
            let text = text.trim();
            let spec = specs.iter().position(|s| {
                s.labels.iter().any(|l| l == name)
                    || s.key.strip_prefix(FIELD_PREFIX).is_some_and(|k| k == name)
            });
            let Some(spec) = spec else {
                let known: Vec<&str> = specs.iter().filter(|s| !s.key.starts_with("@seq")).map(|s| s.display_label()).collect();
                return Err(ExchangeError::Usage(format!(
                    "统一填写的「{name}」不是台账「{}」的列（可填：{}）",
                    def.name,
                    known.join("、")
                )));
            };
            let label = specs[spec].display_label().to_string();
            if text.is_empty() {
                return Err(ExchangeError::Usage(format!("统一填写的「{label}」没有给出值，应写作 {label}=值")));
            }
            if values.iter().any(|v: &FixedValue| v.spec == spec) {
                return Err(ExchangeError::Usage(format!("「{label}」统一填写了两次")));
            }
            let cell = Cell::Text(text.to_string());
            let (parsed, field) = match specs[spec].key.strip_prefix(FIELD_PREFIX).and_then(|k| def.field(k)) {
                Some(f) => {
                    let p = cell_for_field(f, &cell, today).map_err(|why| ExchangeError::Usage(format!("统一填写的「{label}」：{why}")))?;
                    (Some(p), Some(f.key.clone()))
                }
                None if specs[spec].key == YEAR_KEY => {
                    year_of(&cell).map_err(|why| ExchangeError::Usage(format!("统一填写的「{label}」：{why}")))?;
                    (None, None)
                }
                None => {
                    lookup_text(&cell, false).map_err(|why| ExchangeError::Usage(format!("统一填写的「{label}」：{why}")))?;
                    (None, None)
                }
            };
            values.push(FixedValue { spec, label, text: text.to_string(), parsed, field, filled: 0 });
        }
        Ok(FixedValues { values })
    }

    /// Whether a value is given for the column of spec `key`.
    pub(crate) fn covers(&self, specs: &[ColumnSpec], key: &str) -> bool {
        self.values.iter().any(|v| specs.get(v.spec).is_some_and(|s| s.key == key))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Gives the row the values it leaves blank. A row holding another value is refused:
    /// `Some((spec, reason))`.
    pub(crate) fn apply(&mut self, def: &LedgerDef, row: &mut RawRow, today: NaiveDate) -> Option<(usize, String)> {
        for v in &mut self.values {
            let Some(cell) = row.cells.get_mut(v.spec) else { continue };
            if cell.is_blank() {
                *cell = Cell::Text(v.text.clone());
                v.filled += 1;
                continue;
            }
            let same = match (&v.parsed, v.field.as_deref().and_then(|k| def.field(k))) {
                (Some(want), Some(f)) => cell_for_field(f, cell, today).ok().as_ref() == Some(want),
                _ => lookup_text(cell, false).ok().flatten().is_some_and(|t| t == v.text),
            };
            if !same {
                return Some((v.spec, format!("与统一填写的「{}」（{}）不一致；请改正该行，或不要统一填写", v.label, v.text)));
            }
        }
        None
    }

    /// What the report says about each value: how many rows it filled.
    pub(crate) fn notes(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|v| format!("统一填写「{}」为「{}」：{} 行该列为空，已填入", v.label, v.text, v.filled))
            .collect()
    }
}

/// A month written in a sheet's title ("2024年2月低保金发放表", "2024年02月"), for the hint
/// given when the rows have no month column.
pub(crate) fn month_in_title(title: &[String]) -> Option<String> {
    for t in title {
        let chars: Vec<char> = t.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if *c != '年' || i < 4 {
                continue;
            }
            let year: String = chars[i - 4..i].iter().collect();
            if !year.chars().all(|d| d.is_ascii_digit()) {
                continue;
            }
            let month: String = chars[i + 1..].iter().take_while(|d| d.is_ascii_digit()).take(2).collect();
            if month.is_empty() || chars.get(i + 1 + month.len()) != Some(&'月') {
                continue;
            }
            let m: u32 = month.parse().ok()?;
            if (1..=12).contains(&m) {
                return Some(format!("{year}-{m:02}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_in_titles() {
        assert_eq!(month_in_title(&["北斗溪镇2024年2月城乡低保金发放花名册".into()]), Some("2024-02".into()));
        assert_eq!(month_in_title(&["填报单位：北斗溪镇".into(), "2023年12月".into()]), Some("2023-12".into()));
        assert_eq!(month_in_title(&["2024年度低保花名册".into()]), None);
        assert_eq!(month_in_title(&["2024年13月".into()]), None);
    }
}

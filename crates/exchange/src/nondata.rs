//! Rows of a clerk's sheet that are not records: 合计 and 小计 lines, 制表人/审核人 signature
//! lines, 填表说明 notes. They are skipped and named in the report, never refused as rows
//! missing their household, and a 合计 is checked against the rows imported above it, the
//! clerk's own cross-check.

use chrono::NaiveDate;
use taizhang_domain::ledger::{FieldKind, LedgerDef};
use taizhang_domain::money::{format_scaled, format_yuan, Fen};
use taizhang_domain::value::Value;
use taizhang_tabular::{Cell, RawRow};

use crate::columns::FIELD_PREFIX;
use crate::convert::{cell_for_field, Parsed};
use crate::import::Columns;

/// What a row that is not a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonData {
    /// 合计, 总计: the whole sheet above it.
    Total,
    /// 小计, 本页合计: the rows since the previous 小计 (or the top).
    Subtotal,
    /// 制表人, 审核人, 负责人, a date of filling.
    Signature,
    /// 填表说明, 说明：, 注：.
    Notes,
}

impl NonData {
    pub(crate) fn label(self) -> &'static str {
        match self {
            NonData::Total => "合计行",
            NonData::Subtotal => "小计行",
            NonData::Signature => "签字行",
            NonData::Notes => "说明行",
        }
    }
}

/// Text at the start of a cell that marks the row, after spaces are removed ("合  计").
/// A marker that could begin real data ("注销", "说明书") carries its colon.
const MARKERS: &[(&str, NonData)] = &[
    ("总合计", NonData::Total),
    ("合计", NonData::Total),
    ("总计", NonData::Total),
    ("本页合计", NonData::Subtotal),
    ("本页小计", NonData::Subtotal),
    ("小计", NonData::Subtotal),
    ("制表人", NonData::Signature),
    ("制表：", NonData::Signature),
    ("制表:", NonData::Signature),
    ("填表人", NonData::Signature),
    ("填报人", NonData::Signature),
    ("审核人", NonData::Signature),
    ("审核：", NonData::Signature),
    ("审核:", NonData::Signature),
    ("审批人", NonData::Signature),
    ("经办人", NonData::Signature),
    ("统计人", NonData::Signature),
    ("负责人", NonData::Signature),
    ("单位负责人", NonData::Signature),
    ("分管领导", NonData::Signature),
    ("主要领导", NonData::Signature),
    ("制表日期", NonData::Signature),
    ("填表日期", NonData::Signature),
    ("填报日期", NonData::Signature),
    ("填报单位", NonData::Signature),
    ("单位（盖章）", NonData::Signature),
    ("单位(盖章)", NonData::Signature),
    ("填表说明", NonData::Notes),
    ("说明：", NonData::Notes),
    ("说明:", NonData::Notes),
    ("注：", NonData::Notes),
    ("注:", NonData::Notes),
    ("备注：", NonData::Notes),
    ("备注:", NonData::Notes),
];

/// The marker a text begins with, if any.
pub(crate) fn marker(text: &str) -> Option<NonData> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).take(8).collect();
    MARKERS.iter().find(|(m, _)| compact.starts_with(m)).map(|(_, k)| *k)
}

/// Whether `row` is not a record, and what it is, with the text that says so.
/// `key` is the column that names the record (the subject, or the village of a ledger
/// without one): a row whose key holds anything but a marker is data, whatever else it says.
pub(crate) fn classify(row: &RawRow, key: Option<usize>) -> Option<(NonData, String)> {
    if let Some(k) = key {
        match row.cells.get(k) {
            Some(Cell::Text(t)) if marker(t).is_some() => {}
            Some(c) if !c.is_blank() => return None,
            _ => {}
        }
    }
    let texts = row.leading_text.iter().map(String::as_str).chain(row.cells.iter().filter_map(|c| match c {
        Cell::Text(t) => Some(t.as_str()),
        _ => None,
    }));
    for t in texts {
        if let Some(kind) = marker(t) {
            return Some((kind, t.trim().chars().take(40).collect()));
        }
    }
    None
}

/// The running sums of a sheet's number fields over the rows imported (not refused), for
/// comparing with its 合计 and 小计 rows.
pub(crate) struct Totals {
    /// (spec index, field key) of every money, decimal and integer field.
    fields: Vec<(usize, String)>,
    sheet: Vec<i128>,
    group: Vec<i128>,
    /// Rows refused since the top / since the previous 小计: their values are not in the sums.
    refused_sheet: usize,
    refused_group: usize,
}

impl Totals {
    pub(crate) fn new(def: &LedgerDef, cols: &Columns) -> Totals {
        let fields: Vec<(usize, String)> = def
            .fields
            .iter()
            .filter(|f| !f.retired && matches!(f.kind, FieldKind::Money | FieldKind::Decimal | FieldKind::Integer))
            .filter_map(|f| cols.index(&format!("{FIELD_PREFIX}{}", f.key)).map(|i| (i, f.key.clone())))
            .collect();
        let n = fields.len();
        Totals { fields, sheet: vec![0; n], group: vec![0; n], refused_sheet: 0, refused_group: 0 }
    }

    /// Whether the sheet has number fields to add up.
    pub(crate) fn wanted(&self) -> bool {
        !self.fields.is_empty()
    }

    /// The row's number values (`None` where blank or unreadable), taken before its verdict.
    pub(crate) fn values(&self, def: &LedgerDef, row: &RawRow, today: NaiveDate) -> Vec<Option<i64>> {
        self.fields
            .iter()
            .map(|(i, key)| {
                let f = def.field(key)?;
                match cell_for_field(f, row.cells.get(*i)?, today) {
                    Ok(Parsed::Value(Value::Int(n))) => Some(n),
                    _ => None,
                }
            })
            .collect()
    }

    /// Adds a decided row: its values if it was imported, else it is counted as refused.
    pub(crate) fn add(&mut self, values: &[Option<i64>], imported: bool) {
        if !imported {
            self.refused_sheet += 1;
            self.refused_group += 1;
            return;
        }
        for (k, v) in values.iter().enumerate() {
            if let Some(v) = v {
                self.sheet[k] += i128::from(*v);
                self.group[k] += i128::from(*v);
            }
        }
    }

    /// Compares a 合计 or 小计 row with the sums; a warning for each field that differs.
    /// A 小计 starts a new group.
    pub(crate) fn compare(&mut self, def: &LedgerDef, kind: NonData, row: &RawRow, text: &str, sheet_note: &str, today: NaiveDate) -> Vec<String> {
        let given = self.values(def, row, today);
        let (sums, refused) = match kind {
            NonData::Total => (&self.sheet, self.refused_sheet),
            _ => (&self.group, self.refused_group),
        };
        let mut out = Vec::new();
        for (k, (_, key)) in self.fields.iter().enumerate() {
            let (Some(given), Some(f)) = (given[k], def.field(key)) else { continue };
            let sum = sums[k];
            if i128::from(given) == sum {
                continue;
            }
            let show = |n: i128| -> String {
                let n = i64::try_from(n).unwrap_or(i64::MAX);
                match f.kind {
                    FieldKind::Money => format!("{} 元", format_yuan(Fen(n))),
                    FieldKind::Decimal => format!("{}{}", format_scaled(n, f.scale), f.unit),
                    _ => format!("{n}{}", f.unit),
                }
            };
            let refused_note = if refused > 0 { format!("（另有 {refused} 行被拒绝，未计入）") } else { String::new() };
            out.push(format!(
                "{sheet_note}第 {} 行「{text}」的{}为 {}，导入的各行相加为 {}{refused_note}，相差 {}；请核对",
                row.excel_row,
                f.label,
                show(i128::from(given)),
                show(sum),
                show((i128::from(given) - sum).abs()),
            ));
        }
        if kind == NonData::Subtotal {
            self.group.iter_mut().for_each(|g| *g = 0);
            self.refused_group = 0;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert_eq!(marker("合  计"), Some(NonData::Total));
        assert_eq!(marker("　合计："), Some(NonData::Total));
        assert_eq!(marker("小计（一组）"), Some(NonData::Subtotal));
        assert_eq!(marker("制表人：张三      审核人：李四"), Some(NonData::Signature));
        assert_eq!(marker("填表说明：1.身份证号请设为文本"), Some(NonData::Notes));
        assert_eq!(marker("注：本表一式两份"), Some(NonData::Notes));
        for data in ["注销", "张合计", "说明书", "审核通过", "负", "2024-02"] {
            assert_eq!(marker(data), None, "{data}");
        }
    }

    #[test]
    fn a_row_with_its_key_is_data() {
        let row = |cells: Vec<Cell>| RawRow { excel_row: 9, cells, leading_text: None };
        let total = row(vec![Cell::Empty, Cell::Text("合计".into()), Cell::Float(1200.0)]);
        assert_eq!(classify(&total, Some(0)).map(|x| x.0), Some(NonData::Total));
        let data = row(vec![Cell::Text("430123199001011234".into()), Cell::Text("合计发放三个月".into())]);
        assert_eq!(classify(&data, Some(0)), None);
        let in_key = row(vec![Cell::Text("合 计".into()), Cell::Float(3.0)]);
        assert_eq!(classify(&in_key, Some(0)).map(|x| x.0), Some(NonData::Total));
        let signed = RawRow { excel_row: 12, cells: vec![Cell::Empty], leading_text: Some("制表人：王五".into()) };
        assert_eq!(classify(&signed, Some(0)).map(|x| x.0), Some(NonData::Signature));
    }
}

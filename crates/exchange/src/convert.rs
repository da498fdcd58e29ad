//! One tabular cell to one field value, by what the file stored and what the field wants.

use chrono::{Datelike, NaiveDate};
use taizhang_domain::idcard::{is_excel_number_form, IdError};
use taizhang_domain::ident::{self, excel_number_reason, IdentKind};
use taizhang_domain::ledger::{FieldDef, FieldKind, RefTarget};
use taizhang_domain::money::{fen_from_f64, scaled_from_f64};
use taizhang_domain::period::{date_from_excel_serial, format_month};
use taizhang_domain::validate::{check_value, parse_field};
use taizhang_domain::value::Value;
use taizhang_tabular::Cell;

/// What a cell means for a field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Parsed {
    /// Blank: never clears a stored value.
    Blank,
    Value(Value),
    /// A reference written as text (ID number, 户编号, name): resolved against the database.
    Lookup(String),
}

/// The cell as a person would read it, for messages.
pub(crate) fn shown(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => float_text(*f),
        Cell::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Cell::DateTime(s) => date_from_excel_serial(*s).map_or_else(|| s.to_string(), |d| d.to_string()),
        Cell::Error(e) => e.clone(),
    }
}

fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

fn excel_number_refusal(cell: &Cell) -> String {
    IdError::ExcelNumber(shown(cell)).to_string()
}

/// Text for a column naming something by name or code (place, 所属年度). With `id_number`,
/// an ID number that Excel turned into a number is refused: its last digits are gone.
pub(crate) fn lookup_text(cell: &Cell, id_number: bool) -> Result<Option<String>, String> {
    match cell {
        c if c.is_blank() => Ok(None),
        Cell::Text(s) => Ok(Some(s.trim().to_string())),
        Cell::Int(_) | Cell::Float(_) if id_number => Err(excel_number_refusal(cell)),
        Cell::Error(e) => Err(format!("单元格是错误值 {e}")),
        other => Ok(Some(shown(other))),
    }
}

/// An identifier's cell (`noun`: 身份证号, 户编号, a field's label …), folded by the one
/// normaliser (`ident::clean`). A number cell, or text Excel wrote for a number
/// ("4.33024E+17", "4312241102010001.0"), is refused with what Excel did and how to fix the
/// column: its last digits or leading zeros are gone and no repair is possible.
pub(crate) fn ident_cell(cell: &Cell, noun: &str) -> Result<Option<String>, String> {
    match cell {
        c if c.is_blank() => Ok(None),
        Cell::Int(_) | Cell::Float(_) => Err(excel_number_reason(noun, &shown(cell))),
        Cell::Text(s) => {
            let t = ident::clean(s);
            if t.is_empty() {
                Ok(None)
            } else if is_excel_number_form(&t) {
                Err(excel_number_reason(noun, &t))
            } else {
                Ok(Some(t))
            }
        }
        Cell::Error(e) => Err(format!("单元格是错误值 {e}")),
        other => Ok(Some(shown(other))),
    }
}

/// What names the subject or a reference: its text, and the note to give when it was
/// changed on the way (a 15-digit ID number read as its 18 digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefText {
    pub(crate) text: String,
    pub(crate) warning: Option<String>,
}

/// Text for a column naming a record's subject or a reference's target. Persons and
/// households are named by identifiers (ID number, 户编号, a head's ID number): they must be
/// text (`ident_cell`), and an ID number is looked up as the one normaliser makes it. Other
/// targets (cadres, organisations, places, records) are named by name or code.
pub(crate) fn ref_text_noted(cell: &Cell, target: &RefTarget) -> Result<Option<RefText>, String> {
    let plain = |text: String| RefText { text, warning: None };
    match target {
        RefTarget::Person => Ok(ident_cell(cell, IdentKind::IdNumber.noun())?.map(|t| {
            if t.starts_with('#') {
                return plain(t);
            }
            match ident::normalise(IdentKind::IdNumber, &t, NaiveDate::MAX) {
                Ok(n) => RefText { warning: n.warning(&t), text: n.text },
                // Refused by the lookup, with the reason.
                Err(_) => plain(t),
            }
        })),
        RefTarget::Household => Ok(ident_cell(cell, "户编号（户主身份证号）")?.map(plain)),
        _ => Ok(lookup_text(cell, false)?.map(plain)),
    }
}

/// `ref_text_noted` without the note.
pub(crate) fn ref_text(cell: &Cell, target: &RefTarget) -> Result<Option<String>, String> {
    Ok(ref_text_noted(cell, target)?.map(|r| r.text))
}

fn serial_date(serial: f64) -> Result<NaiveDate, String> {
    date_from_excel_serial(serial).ok_or_else(|| format!("「{}」不是有效的日期", float_text(serial)))
}

/// Interprets a cell for field `f`. Errors are the Chinese reason only.
pub(crate) fn cell_for_field(f: &FieldDef, cell: &Cell, today: NaiveDate) -> Result<Parsed, String> {
    if cell.is_blank() {
        return Ok(Parsed::Blank);
    }
    if let Cell::Error(e) = cell {
        return Err(format!("单元格是错误值 {e}"));
    }
    if f.kind == FieldKind::Reference {
        let Some(target) = f.target.as_ref() else { return Ok(Parsed::Blank) };
        return Ok(match ref_text(cell, target)? {
            Some(t) => Parsed::Lookup(t),
            None => Parsed::Blank,
        });
    }
    // An identifier (ID number, 户编号, account, USCC, phone) is never read from a number.
    if ident::of_field(f).is_some() {
        if let Cell::Int(_) | Cell::Float(_) = cell {
            return Err(excel_number_reason(&f.label, &shown(cell)));
        }
    }
    let from_text = |s: &str| -> Result<Parsed, String> {
        match parse_field(f, s, today) {
            Ok(v) if v.is_null() => Ok(Parsed::Blank),
            Ok(v) => Ok(Parsed::Value(v)),
            Err(e) => Err(e.reason),
        }
    };
    let number = |v: f64| -> Result<Parsed, String> {
        let r = match f.kind {
            FieldKind::Integer => scaled_from_f64(v, 0).map(Value::Int).map_err(|e| e.to_string()),
            FieldKind::Decimal => scaled_from_f64(v, f.scale).map(Value::Int).map_err(|e| e.to_string()),
            FieldKind::Money => fen_from_f64(v).map(|fen| Value::Int(fen.0)).map_err(|e| e.to_string()),
            FieldKind::Date => serial_date(v).map(Value::Date),
            // 2024.10 typed as a number is stored as 2024.1: October and January look alike.
            FieldKind::Month if v.fract() != 0.0 => Err(format!(
                "月份「{}」被 Excel 存成了小数，2024.10 与 2024.1 无法区分；请把该列设为文本格式，写作 2024-10",
                float_text(v)
            )),
            _ => return from_text(&float_text(v)),
        }?;
        check_value(f, &r, today).map_err(|e| e.reason)?;
        Ok(Parsed::Value(r))
    };
    match cell {
        Cell::Text(s) => from_text(s),
        Cell::Int(i) => match f.kind {
            FieldKind::Integer | FieldKind::Year => from_text(&i.to_string()),
            FieldKind::Decimal | FieldKind::Money | FieldKind::Date => number(*i as f64),
            _ => from_text(&i.to_string()),
        },
        Cell::Float(v) => number(*v),
        Cell::DateTime(serial) => {
            let d = serial_date(*serial)?;
            match f.kind {
                FieldKind::Date => Ok(Parsed::Value(Value::Date(d))),
                FieldKind::Month => Ok(Parsed::Value(Value::Text(format_month(d.year(), d.month())))),
                _ => from_text(&d.format("%Y-%m-%d").to_string()),
            }
        }
        Cell::Bool(b) => match f.kind {
            FieldKind::Boolean => Ok(Parsed::Value(Value::Bool(*b))),
            _ => from_text(if *b { "是" } else { "否" }),
        },
        Cell::Empty | Cell::Error(_) => Ok(Parsed::Blank),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taizhang_domain::ledger::TextFormat;

    fn field(kind: FieldKind) -> FieldDef {
        FieldDef {
            key: "x".into(),
            label: "某字段".into(),
            kind,
            required: false,
            aliases: vec![],
            sensitivity: None,
            scale: 2,
            unit: String::new(),
            options: vec!["甲".into(), "乙".into()],
            target: None,
            negative: false,
            format: None,
            help: String::new(),
            retired: false,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 12, 31).expect("date")
    }

    #[test]
    fn money_and_dates() {
        let m = field(FieldKind::Money);
        assert_eq!(cell_for_field(&m, &Cell::Float(1234.5), today()), Ok(Parsed::Value(Value::Int(123450))));
        assert_eq!(cell_for_field(&m, &Cell::Text("1,234.50元".into()), today()), Ok(Parsed::Value(Value::Int(123450))));
        assert_eq!(cell_for_field(&m, &Cell::Text("1.2万元".into()), today()), Ok(Parsed::Value(Value::Int(1_200_000))));
        let d = field(FieldKind::Date);
        let want = Ok(Parsed::Value(Value::Date(NaiveDate::from_ymd_opt(2023, 1, 5).expect("d"))));
        assert_eq!(cell_for_field(&d, &Cell::DateTime(44931.0), today()), want);
        for t in ["2023/1/5", "2023.1.5", "2023年1月5日"] {
            assert_eq!(cell_for_field(&d, &Cell::Text(t.into()), today()), want, "{t}");
        }
        assert_eq!(cell_for_field(&d, &Cell::Text("  ".into()), today()), Ok(Parsed::Blank));
    }

    #[test]
    fn id_number_as_float_is_refused() {
        let mut f = field(FieldKind::Text);
        f.format = Some(TextFormat::IdNumber);
        let e = cell_for_field(&f, &Cell::Float(4.31224199001011e17), today()).expect_err("refused");
        assert!(e.contains("存成了数字"), "{e}");
        assert!(lookup_text(&Cell::Float(4.3e17), true).expect_err("refused").contains("后几位已丢失"));
    }
}

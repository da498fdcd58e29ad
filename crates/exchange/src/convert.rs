//! One tabular cell to one field value, by what the file stored and what the field wants.

use chrono::{Datelike, NaiveDate};
use taizhang_domain::idcard::IdError;
use taizhang_domain::ledger::{FieldDef, FieldKind};
use taizhang_domain::money::{fen_from_f64, scaled_from_f64};
use taizhang_domain::period::{date_from_excel_serial, format_month};
use taizhang_domain::validate::{check_value, parse_field};
use taizhang_domain::value::Value;
use taizhang_tabular::Cell;

use crate::columns::is_id_number_field;

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

/// Text for a column naming something by ID number or name (subject, place, references).
/// An ID number that Excel turned into a number is refused: its last digits are gone.
pub(crate) fn lookup_text(cell: &Cell, id_number: bool) -> Result<Option<String>, String> {
    match cell {
        c if c.is_blank() => Ok(None),
        Cell::Text(s) => Ok(Some(s.trim().to_string())),
        Cell::Int(_) | Cell::Float(_) if id_number => Err(excel_number_refusal(cell)),
        Cell::Error(e) => Err(format!("单元格是错误值 {e}")),
        other => Ok(Some(shown(other))),
    }
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
        let id_number = matches!(f.target, Some(taizhang_domain::ledger::RefTarget::Person));
        return Ok(match lookup_text(cell, id_number)? {
            Some(t) => Parsed::Lookup(t),
            None => Parsed::Blank,
        });
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
            FieldKind::Text if is_id_number_field(f) => Err(excel_number_refusal(cell)),
            _ => return from_text(&float_text(v)),
        }?;
        check_value(f, &r, today).map_err(|e| e.reason)?;
        Ok(Parsed::Value(r))
    };
    match cell {
        Cell::Text(s) => from_text(s),
        Cell::Int(i) => match f.kind {
            FieldKind::Text if is_id_number_field(f) => Err(excel_number_refusal(cell)),
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

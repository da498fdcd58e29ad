//! Turning what a user typed (a form field, a CSV cell, a CLI argument) into a stored value,
//! and the rules a whole record obeys. Imports and forms go through the same functions.

use chrono::{Datelike, NaiveDate};

use crate::error::{DomainError, FieldError};
use crate::ident::{normalise, of_field};
use crate::ledger::{FieldDef, FieldKind, LedgerDef, TimeModel};
use crate::money::{parse_money, parse_scaled};
use crate::period::{format_month, parse_date_lenient, parse_month};
use crate::value::{Value, Values};

fn err(f: &FieldDef, reason: impl Into<String>) -> FieldError {
    FieldError::new(&f.key, &f.label, reason)
}

/// Parses text typed for field `f`. Empty text is `Value::Null`. References are resolved by
/// storage (they need the registry); here they must already be a numeric id.
pub fn parse_field(f: &FieldDef, raw: &str, today: NaiveDate) -> Result<Value, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match f.kind {
        FieldKind::Text => Value::Text(check_text(f, s, today)?),
        FieldKind::Integer => Value::Int(check_sign(f, parse_scaled(s, 0).map_err(|e| err(f, e.to_string()))?)?),
        FieldKind::Decimal => Value::Int(check_sign(f, parse_scaled(s, f.scale).map_err(|e| err(f, e.to_string()))?)?),
        FieldKind::Money => Value::Int(check_sign(f, parse_money(s).map_err(|e| err(f, e.to_string()))?.0)?),
        FieldKind::Date => Value::Date(parse_date_lenient(s).map_err(|e| err(f, e.to_string()))?),
        FieldKind::Month => {
            let (y, m) = parse_month(s).map_err(|e| err(f, e.to_string()))?;
            Value::Text(format_month(y, m))
        }
        FieldKind::Year => {
            let y: i32 = s
                .trim_end_matches('年')
                .parse()
                .map_err(|_| err(f, format!("「{s}」不是年份，应写作 2023")))?;
            check_year(f, y)?;
            Value::Int(y.into())
        }
        FieldKind::Enum => Value::Text(match_option(f, s)?),
        FieldKind::MultiEnum => {
            let mut picked = Vec::new();
            for part in s.split(['、', ',', '，', ';', '；', '/', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
                let o = match_option(f, part)?;
                if !picked.contains(&o) {
                    picked.push(o);
                }
            }
            Value::List(picked)
        }
        FieldKind::Boolean => Value::Bool(parse_bool(s).ok_or_else(|| err(f, format!("「{s}」应填「是」或「否」")))?),
        FieldKind::Reference => Value::Int(
            s.parse().map_err(|_| err(f, format!("「{s}」不是有效的关联编号")))?,
        ),
    })
}

/// Numbers below zero only where the field says they may be (冲正, 退回).
fn check_sign(f: &FieldDef, n: i64) -> Result<i64, FieldError> {
    if n < 0 && !f.negative {
        Err(err(f, "不能为负数（退回、冲正请按本台账规定的类别登记）"))
    } else {
        Ok(n)
    }
}

fn check_year(f: &FieldDef, y: i32) -> Result<(), FieldError> {
    if (1949..=2100).contains(&y) { Ok(()) } else { Err(err(f, format!("年份 {y} 不在 1949 到 2100 之间"))) }
}

/// A text field's value: an identifier (`ident::of_field`: a field with a `format`, or masked
/// as an ID number) normalised by `ident` — full-width digits, spaces inside, a leading
/// apostrophe, a lower-case x, 15-digit ID numbers — and refused when Excel stored it as a
/// number; other text as typed.
pub fn check_text(f: &FieldDef, s: &str, today: NaiveDate) -> Result<String, FieldError> {
    match of_field(f) {
        Some(kind) => normalise(kind, s, today).map(|n| n.text).map_err(|r| err(f, r)),
        None if s.chars().count() > 2000 => Err(err(f, "不能超过 2000 个字")),
        None => Ok(s.to_string()),
    }
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "是" | "Y" | "y" | "yes" | "true" | "1" | "√" | "有" => Some(true),
        "否" | "N" | "n" | "no" | "false" | "0" | "×" | "无" => Some(false),
        _ => None,
    }
}

/// Options match exactly, or ignoring spaces and full/half-width differences.
fn match_option(f: &FieldDef, s: &str) -> Result<String, FieldError> {
    let norm = |x: &str| -> String {
        x.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '（' => '(',
                '）' => ')',
                c => c,
            })
            .collect()
    };
    let want = norm(s);
    f.options
        .iter()
        .find(|o| norm(o) == want)
        .cloned()
        .ok_or_else(|| err(f, format!("「{s}」不是可选值（可选：{}）", f.options.join("、"))))
}

/// Checks a stored value has the shape its field demands (values coming from JSON or SQL).
pub fn check_value(f: &FieldDef, v: &Value, today: NaiveDate) -> Result<(), FieldError> {
    let ok = match (f.kind, v) {
        (_, Value::Null) => true,
        (FieldKind::Text, Value::Text(s)) => return check_text(f, s, today).map(|_| ()),
        (FieldKind::Month, Value::Text(s)) => parse_month(s).is_ok(),
        (FieldKind::Enum, Value::Text(s)) => f.options.contains(s),
        (FieldKind::MultiEnum, Value::List(l)) => l.iter().all(|o| f.options.contains(o)),
        (FieldKind::Year, Value::Int(y)) => return check_year(f, i32::try_from(*y).unwrap_or(0)),
        (FieldKind::Integer | FieldKind::Decimal | FieldKind::Money, Value::Int(n)) => return check_sign(f, *n).map(|_| ()),
        (FieldKind::Reference, Value::Int(_)) => true,
        (FieldKind::Date, Value::Date(_)) => true,
        (FieldKind::Boolean, Value::Bool(_)) => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(err(f, format!("值的类型不符（应为{}）", f.kind.label())))
    }
}

/// The rules a complete record obeys, whichever path wrote it.
pub fn validate_record(def: &LedgerDef, values: &Values, today: NaiveDate) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    for (k, v) in values {
        match def.field(k) {
            Some(f) => {
                if let Err(e) = check_value(f, v, today) {
                    errors.push(e);
                }
            }
            None => errors.push(FieldError::new(k, k, format!("「{}」中没有这个字段", def.name))),
        }
    }
    for f in def.active_fields().filter(|f| f.required) {
        if values.get(&f.key).is_none_or(Value::is_null) {
            errors.push(err(f, "必须填写"));
        }
    }
    for rule in &def.required_when {
        let trigger = match values.get(&rule.field) {
            Some(Value::Text(t)) => *t == rule.equals,
            Some(Value::Bool(b)) => parse_bool(&rule.equals) == Some(*b),
            Some(Value::List(l)) => l.contains(&rule.equals),
            Some(Value::Int(i)) => i.to_string() == rule.equals,
            _ => false,
        };
        if trigger {
            for k in &rule.require {
                if values.get(k).is_none_or(Value::is_null) {
                    let f = def.field(k).expect("checked by LedgerDef::check");
                    errors.push(err(f, rule.message.clone()));
                }
            }
        }
    }
    if let TimeModel::Standing { start, end } = &def.time {
        let d = |k: &str| values.get(k).and_then(Value::as_date);
        if let (Some(s), Some(e)) = (d(start), d(end)) {
            if e < s {
                let f = def.field(end).expect("checked by LedgerDef::check");
                errors.push(err(f, format!("不能早于开始日期 {s}")));
            }
        }
    }
    if let TimeModel::Event { field } = &def.time {
        if let Some(d) = values.get(field).and_then(Value::as_date) {
            if d.year() > today.year() + 1 {
                let f = def.field(field).expect("checked by LedgerDef::check");
                errors.push(err(f, format!("日期 {d} 太远，请核对")));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::Fields(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::TextFormat;

    fn field(format: TextFormat) -> FieldDef {
        FieldDef {
            key: "x".into(),
            label: "某号码".into(),
            kind: FieldKind::Text,
            required: false,
            aliases: vec![],
            sensitivity: None,
            scale: 0,
            unit: String::new(),
            options: vec![],
            target: None,
            format: Some(format),
            help: String::new(),
            retired: false,
            negative: false,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 30).expect("date")
    }

    /// A form, the CLI and the API store the normalised identifier, whatever was typed.
    #[test]
    fn forms_store_identifiers_normalised() {
        let id = field(TextFormat::IdNumber);
        for typed in ["１１０１０５１９４９１２３１００２ｘ", " 1101 0519 4912 3100 2x", "'11010519491231002X", "110105491231002"] {
            assert_eq!(parse_field(&id, typed, today()), Ok(Value::Text("11010519491231002X".into())), "{typed}");
        }
        let account = field(TextFormat::Code);
        assert_eq!(parse_field(&account, " 6217 0029 2000 1234 567", today()), Ok(Value::Text("6217002920001234567".into())));
        let e = parse_field(&account, "6.21700292E+18", today()).expect_err("excel");
        assert_eq!(e.label, "某号码");
        assert!(e.reason.contains("被 Excel 存成了数字") && e.reason.contains("文本格式"), "{}", e.reason);
        // A field masked as an ID number without a format is an identifier too.
        let mut masked = field(TextFormat::Code);
        masked.format = None;
        masked.sensitivity = Some(crate::ledger::Sensitivity::IdNumber);
        assert_eq!(parse_field(&masked, "＇6217 0029", today()), Ok(Value::Text("62170029".into())));
        assert!(parse_field(&masked, "6.21700292E+18", today()).is_err());
        let phone = field(TextFormat::Phone);
        assert_eq!(parse_field(&phone, "138 0013 8000", today()), Ok(Value::Text("13800138000".into())));
        // A stored value is checked the same way.
        assert!(check_value(&id, &Value::Text("11010519491231002X".into()), today()).is_ok());
        assert!(check_value(&id, &Value::Text("4.33024E+17".into()), today()).is_err());
    }
}

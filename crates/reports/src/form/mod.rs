//! The county's Excel forms (报表样表): an .xlsx workbook in the county's fixed layout whose
//! cells hold placeholders in the template language of the Markdown reports. Filling it
//! rewrites only those cells — every other zip entry and every other byte of XML (styles,
//! merges, column widths, print settings, other sheets) is copied as it is.
//!
//! - A cell whose whole text is one `{{ … }}` giving a number becomes a numeric cell with the
//!   cell's own style (so the county's number format applies); other placeholder cells become
//!   inline strings.
//! - A row with the comment `{#每村#}` in one of its cells is repeated once per village of the
//!   report's place (ordered by place code) — for a county, once per town —, with `v` (`v.no`,
//!   `v.code`, `v.name`) in scope;
//!   the rows below move down, and merges, the dimension, formulas and the print area follow.
//! - Besides the functions of the Markdown templates (figures written as plain text here):
//!   `num("key")` is a figure as a number in its unit (money in 元 with two decimals),
//!   `at(v, "key")` the same for one village; variable `filled_on` is the filling date.
//! - A figure of 0 whose ledger holds no record for the period within the form's scope is
//!   written as the text 未登记 (`num`, `at`, `fig`, `hp`), not as 0 or 0.00: a county form
//!   handed in says nothing was paid when in fact nothing was entered yet. Whether a ledger has
//!   records is read from its indicator `<ledger>_records` (records in the period, no
//!   condition; `catalogue/indicators/10_forms.toml`), the rule of `crate::warnings`; a ledger
//!   without one is written as before. `recorded("key")` lets a cell decide for itself.
//!
//! See docs/forms.md for the clerk's side.

mod package;
mod rows;
mod sheet;
mod xml;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use minijinja::value::{Object, ObjectRepr, Value as JValue};
use minijinja::{Environment, Error, ErrorKind};

use crate::error::{ReportError, Result};
use crate::eval::Figure;
use crate::render::{self, err, figure, FigureText, ReportData};

use sheet::CellOut;

/// What a form needs beyond the report data.
#[derive(Debug, Clone)]
pub struct FormOptions {
    /// The date written as `filled_on` (填报日期).
    pub filled_on: NaiveDate,
}

/// A built-in form by name (`social_assistance_monthly` or `social_assistance_monthly.xlsx`).
pub fn builtin_form(name: &str) -> Option<&'static [u8]> {
    taizhang_domain::catalogue::files()
        .iter()
        .find(|(p, _)| p.strip_prefix("forms/").is_some_and(|f| f == name || f.strip_suffix(".xlsx") == Some(name)))
        .map(|(_, b)| *b)
}

/// Names of the built-in forms.
pub fn builtin_forms() -> Vec<String> {
    taizhang_domain::catalogue::files()
        .iter()
        .filter_map(|(p, _)| p.strip_prefix("forms/").and_then(|f| f.strip_suffix(".xlsx")).map(String::from))
        .collect()
}

/// A decimal number without floats: `units` at `scale` decimals (money: 分 at 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Amount {
    units: i64,
    scale: u8,
}

impl Amount {
    fn text(self) -> String {
        if self.scale == 0 {
            return self.units.to_string();
        }
        let unit = 10_u64.pow(u32::from(self.scale));
        let abs = self.units.unsigned_abs();
        let sign = if self.units < 0 { "-" } else { "" };
        format!("{sign}{}.{:0w$}", abs / unit, abs % unit, w = usize::from(self.scale))
    }
}

impl Object for Amount {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// A figure's value as a number in its unit: money (元) with two decimals, decimal fields at
/// their scale, counts as integers.
fn number(f: &Figure, value: i64) -> JValue {
    if f.unit == "元" {
        JValue::from_object(Amount { units: value, scale: 2 })
    } else if f.scale > 0 {
        JValue::from_object(Amount { units: value, scale: f.scale })
    } else {
        JValue::from(value)
    }
}

/// What a form writes for a figure that rests on no record (docs/forms.md).
pub const UNRECORDED: &str = "未登记";

/// Whether the ledger behind `f` holds a record for the period within the report's scope, as its
/// indicator `<ledger>_records` counts them; `None` when the catalogue has no such indicator
/// (the ledger is then taken as kept, and its figures written as they are). The key is made
/// from the ledger's key, so no ledger or indicator is named here.
fn recorded(d: &ReportData, f: &Figure) -> Option<bool> {
    if f.ledger.is_empty() {
        return None;
    }
    // During an on-demand pass the count may not be computed yet: it reads as 0 then, and the
    // pass is discarded once it asked for it.
    figure(d, &format!("{}_records", f.ledger)).ok().map(|c| c.value > 0)
}

/// A figure's zero that rests on no record.
fn unrecorded(d: &ReportData, f: &Figure, value: i64) -> bool {
    value == 0 && recorded(d, f) == Some(false)
}

/// The Markdown templates' environment with plain figures, plus `num`, `at` and `recorded`;
/// `fig` and `hp` write 未登记 for a zero that rests on no record.
fn environment(data: &Arc<ReportData>) -> Environment<'static> {
    let mut env = render::environment(data.clone(), FigureText::Plain);
    let d = data.clone();
    env.add_function("num", move |key: String| -> Result<JValue, Error> {
        let f = figure(&d, &key)?;
        Ok(if unrecorded(&d, f, f.value) { JValue::from(UNRECORDED) } else { number(f, f.value) })
    });
    let d = data.clone();
    env.add_function("at", move |v: JValue, key: String| -> Result<JValue, Error> {
        let f = figure(&d, &key)?;
        let code = v.get_attr("code").ok().and_then(|c| c.as_str().map(String::from)).ok_or_else(|| err("at(v, \"指标\") 的第一个参数应是每村行的 v".into()))?;
        let value = d.village_values(&key).iter().find(|x| x.code == code).map_or(0, |x| x.value);
        // Whether the ledger is kept is a question for the form's whole place: a village with
        // no record while others have some truly had none.
        Ok(if unrecorded(&d, f, value) { JValue::from(UNRECORDED) } else { number(f, value) })
    });
    let d = data.clone();
    env.add_function("fig", move |key: String, spec: Option<String>| -> Result<String, Error> {
        let f = figure(&d, &key)?;
        if unrecorded(&d, f, f.value) {
            return Ok(UNRECORDED.into());
        }
        render::format_scaled(f.value, f.scale, spec.as_deref().unwrap_or("exact")).map_err(err)
    });
    let d = data.clone();
    env.add_function("hp", move |h: String, p: String| -> Result<String, Error> {
        let (hf, pf) = (figure(&d, &h)?, figure(&d, &p)?);
        if unrecorded(&d, hf, hf.value) && unrecorded(&d, pf, pf.value) {
            return Ok(UNRECORDED.into());
        }
        Ok(taizhang_domain::numfmt::households_people(hf.value, pf.value))
    });
    let d = data.clone();
    env.add_function("recorded", move |key: String| -> Result<bool, Error> {
        let f = figure(&d, &key)?;
        Ok(recorded(&d, f).unwrap_or(true))
    });
    env
}

/// Removes template comments (`{# … #}`), which render to nothing.
fn without_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("{#") {
        out.push_str(&rest[..i]);
        match rest[i..].find("#}") {
            Some(j) => rest = &rest[i + j + 2..],
            None => {
                rest = &rest[i..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Placeholders typed with a Chinese input method: full-width quotes, brackets and commas inside
/// `{{ … }}` and `{% … %}` become ASCII (`{{ num（“x”） }}` → `{{ num("x") }}`); text outside
/// them stays as written.
fn ascii_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match (inside, c, next) {
            (false, '{', Some('{' | '%')) | (true, '}' | '%', Some('}')) => {
                inside = !inside;
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (true, '“' | '”' | '＂', _) => out.push('"'),
            (true, '‘' | '’' | '＇', _) => out.push('\''),
            (true, '（', _) => out.push('('),
            (true, '）', _) => out.push(')'),
            (true, '，', _) => out.push(','),
            _ => out.push(c),
        }
    }
    out
}

/// A template error in a clerk's words.
fn describe(e: &Error) -> String {
    let detail = e.detail().unwrap_or_default();
    match e.kind() {
        ErrorKind::SyntaxError => format!("占位符写法有误（{detail}）"),
        ErrorKind::UndefinedError => "用到了没有的变量或属性（可用：place、year、period、issuer、filled_on；每村行里还有 v）".into(),
        ErrorKind::UnknownFunction => format!("没有这个函数（{detail}）"),
        ErrorKind::MissingArgument | ErrorKind::TooManyArguments => format!("函数的参数个数不对（{detail}）"),
        ErrorKind::InvalidOperation if !detail.is_empty() => detail.to_string(),
        _ => e.to_string(),
    }
}

/// Evaluates one cell's text.
fn fill_cell(env: &Environment<'_>, vars: &BTreeMap<String, JValue>, text: &str, village: Option<&JValue>) -> Result<CellOut, String> {
    let mut ctx = vars.clone();
    if let Some(v) = village {
        ctx.insert("v".into(), v.clone());
    }
    let text = &ascii_placeholders(text);
    let plain = without_comments(text);
    let t = plain.trim();
    let single = t.strip_prefix("{{").and_then(|s| s.strip_suffix("}}")).filter(|s| !s.contains("{{") && !s.contains("}}") && !s.contains("{%"));
    if let Some(expr) = single {
        let expr = expr.trim_matches('-').trim();
        let value = env.compile_expression(expr).and_then(|e| e.eval(&ctx)).map_err(|e| describe(&e))?;
        if value.is_undefined() || value.is_none() {
            return Ok(CellOut::Empty);
        }
        if let Some(a) = value.downcast_object_ref::<Amount>() {
            return Ok(CellOut::Number(a.text()));
        }
        if value.is_number() {
            return Ok(CellOut::Number(value.as_i64().map_or_else(|| value.to_string(), |i| i.to_string())));
        }
        let s = value.to_string();
        return Ok(if s.is_empty() { CellOut::Empty } else { CellOut::Text(s) });
    }
    let s = env.render_str(text, &ctx).map_err(|e| describe(&e))?;
    Ok(if s.is_empty() { CellOut::Empty } else { CellOut::Text(s) })
}

/// Fills an .xlsx form template with the report data; the bytes of the filled workbook.
pub fn fill(template: &[u8], data: &ReportData, opts: &FormOptions) -> Result<Vec<u8>> {
    let data = Arc::new(data.clone());
    let env = environment(&data);
    let mut vars = render::variables(&data);
    vars.insert("filled_on".into(), JValue::from(opts.filled_on.format("%Y年%-m月%-d日").to_string()));
    let villages: Vec<JValue> = data
        .village_list
        .iter()
        .enumerate()
        .map(|(i, (code, name))| {
            JValue::from_serialize(BTreeMap::from([
                ("no", JValue::from(i + 1)),
                ("code", JValue::from(code.clone())),
                ("name", JValue::from(name.clone())),
            ]))
        })
        .collect();
    package::fill(template, villages.len(), &mut |_sheet: &str, text: &str, village: Option<usize>, cell: &str| {
        fill_cell(&env, &vars, text, village.and_then(|i| villages.get(i)))
            .map_err(|e| format!("单元格 {cell}（{}）：{e}", text.trim()))
    })
    .map_err(ReportError::Template)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(Amount { units: 110_050, scale: 2 }.text(), "1100.50");
        assert_eq!(Amount { units: -5, scale: 2 }.text(), "-0.05");
        assert_eq!(Amount { units: 1008, scale: 1 }.text(), "100.8");
        assert_eq!(without_comments("{#每村#}{{ v.name }}"), "{{ v.name }}");
        assert_eq!(ascii_placeholders("共{{ num（“x”） }}户，{% if a，b %}"), "共{{ num(\"x\") }}户，{% if a,b %}");
    }
}

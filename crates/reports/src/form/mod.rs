//! The county's Excel forms (报表样表): an .xlsx workbook in the county's fixed layout whose
//! cells hold placeholders in the template language of the Markdown reports. Filling it
//! rewrites only those cells — every other zip entry and every other byte of XML (styles,
//! merges, column widths, print settings, other sheets) is copied as it is.
//!
//! - A cell whose whole text is one `{{ … }}` giving a number becomes a numeric cell with the
//!   cell's own style (so the county's number format applies); other placeholder cells become
//!   inline strings.
//! - A row with the comment `{#每村#}` in one of its cells is repeated once per village of the
//!   report's place (ordered by place code), with `v` (`v.no`, `v.code`, `v.name`) in scope;
//!   the rows below move down, and merges, the dimension, formulas and the print area follow.
//! - Besides the functions of the Markdown templates (figures written as plain text here):
//!   `num("key")` is a figure as a number in its unit (money in 元 with two decimals),
//!   `at(v, "key")` the same for one village; variable `filled_on` is the filling date.
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

/// The Markdown templates' environment with plain figures, plus `num` and `at`.
fn environment(data: &Arc<ReportData>) -> Environment<'static> {
    let mut env = render::environment(data.clone(), FigureText::Plain);
    let d = data.clone();
    env.add_function("num", move |key: String| -> Result<JValue, Error> {
        let f = figure(&d, &key)?;
        Ok(number(f, f.value))
    });
    let d = data.clone();
    env.add_function("at", move |v: JValue, key: String| -> Result<JValue, Error> {
        let f = figure(&d, &key)?;
        let code = v.get_attr("code").ok().and_then(|c| c.as_str().map(String::from)).ok_or_else(|| err("at(v, \"指标\") 的第一个参数应是每村行的 v".into()))?;
        let value = d.village_values(&key).iter().find(|x| x.code == code).map_or(0, |x| x.value);
        Ok(number(f, value))
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
        ErrorKind::UndefinedError => "用到了没有的变量或属性（可用：place、year、period、filled_on；每村行里还有 v）".into(),
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

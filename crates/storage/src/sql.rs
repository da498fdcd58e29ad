//! The narrow waist between the repositories and the two engines.
//!
//! Repositories write SQL once, with `$1…$n` placeholders that both SQLite and PostgreSQL
//! accept, and bind [`Arg`]s; rows come back as [`Row`]s decoded by the value's own type.
//! What differs between engines (binding, decoding, DDL types, migrations) lives here and in
//! `backend.rs`, one arm per engine, and nowhere else.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Column, Row as _, TypeInfo, ValueRef};

use crate::error::StoreError;

/// A bound parameter. Nulls carry their type because PostgreSQL will not guess it.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(i64),
    Text(String),
    Date(NaiveDate),
    Bool(bool),
    Time(DateTime<Utc>),
    NullInt,
    NullText,
    NullDate,
    NullBool,
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<NaiveDate> for Arg {
    fn from(v: NaiveDate) -> Self {
        Arg::Date(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::NullInt, Arg::Int)
    }
}
impl From<Option<NaiveDate>> for Arg {
    fn from(v: Option<NaiveDate>) -> Self {
        v.map_or(Arg::NullDate, Arg::Date)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        v.map_or(Arg::NullText, Arg::Text)
    }
}

/// A decoded column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Date(NaiveDate),
    Bool(bool),
}

/// One result row, columns in SELECT order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Cell>);

impl Row {
    pub fn cell(&self, i: usize) -> &Cell {
        self.0.get(i).unwrap_or(&Cell::Null)
    }
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.cell(i) {
            Cell::Int(v) => Some(*v),
            Cell::Bool(b) => Some(i64::from(*b)),
            Cell::Text(s) => s.parse().ok(),
            _ => None,
        }
    }
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.cell(i) {
            Cell::Text(s) => Some(s.clone()),
            Cell::Int(v) => Some(v.to_string()),
            Cell::Date(d) => Some(d.to_string()),
            Cell::Bool(b) => Some(b.to_string()),
            Cell::Null => None,
        }
    }
    /// SQLite keeps dates as ISO text; PostgreSQL as DATE.
    pub fn opt_date(&self, i: usize) -> Option<NaiveDate> {
        match self.cell(i) {
            Cell::Date(d) => Some(*d),
            Cell::Text(s) => NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok(),
            _ => None,
        }
    }
    /// SQLite keeps booleans as 0/1.
    pub fn opt_bool(&self, i: usize) -> Option<bool> {
        match self.cell(i) {
            Cell::Bool(b) => Some(*b),
            Cell::Int(v) => Some(*v != 0),
            _ => None,
        }
    }
    pub fn bool(&self, i: usize) -> bool {
        self.opt_bool(i).unwrap_or(false)
    }
}

pub(crate) fn sqlite_args(args: &[Arg]) -> SqliteArguments<'static> {
    sqlite_args_owned(args.iter().cloned())
}

/// As `sqlite_args`, moving the texts instead of copying them (a bulk insert binds millions).
pub(crate) fn sqlite_args_owned(args: impl IntoIterator<Item = Arg>) -> SqliteArguments<'static> {
    use sqlx::Arguments;
    let mut a = SqliteArguments::default();
    for arg in args {
        // Encoding into an in-memory buffer cannot fail for these types.
        let _ = match arg {
            Arg::Int(v) => a.add(v),
            Arg::Text(v) => a.add(v),
            // NaiveDate's Display is %Y-%m-%d, without parsing a format string each time.
            Arg::Date(v) => a.add(v.to_string()),
            Arg::Bool(v) => a.add(v),
            Arg::Time(v) => a.add(v.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            Arg::NullInt => a.add(None::<i64>),
            Arg::NullText | Arg::NullDate => a.add(None::<String>),
            Arg::NullBool => a.add(None::<bool>),
        };
    }
    a
}

pub(crate) fn pg_args(args: &[Arg]) -> PgArguments {
    use sqlx::Arguments;
    let mut a = PgArguments::default();
    for arg in args {
        let _ = match arg {
            Arg::Int(v) => a.add(*v),
            Arg::Text(v) => a.add(v.clone()),
            Arg::Date(v) => a.add(*v),
            Arg::Bool(v) => a.add(*v),
            Arg::Time(v) => a.add(*v),
            Arg::NullInt => a.add(None::<i64>),
            Arg::NullText => a.add(None::<String>),
            Arg::NullDate => a.add(None::<NaiveDate>),
            Arg::NullBool => a.add(None::<bool>),
        };
    }
    a
}

pub(crate) fn decode_sqlite(row: &SqliteRow) -> Result<Row, StoreError> {
    let mut cells = Vec::with_capacity(row.columns().len());
    for i in 0..row.columns().len() {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            cells.push(Cell::Null);
            continue;
        }
        let ty = raw.type_info().name().to_ascii_uppercase();
        cells.push(match ty.as_str() {
            "INTEGER" | "INT" | "BIGINT" | "BOOLEAN" => Cell::Int(row.try_get::<i64, _>(i)?),
            "REAL" => {
                // Nothing we store is a float; an aggregate like AVG may be. Keep it readable.
                let v: f64 = row.try_get(i)?;
                Cell::Text(v.to_string())
            }
            _ => Cell::Text(row.try_get::<String, _>(i)?),
        });
    }
    Ok(Row(cells))
}

pub(crate) fn decode_pg(row: &PgRow) -> Result<Row, StoreError> {
    let mut cells = Vec::with_capacity(row.columns().len());
    for (i, col) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            cells.push(Cell::Null);
            continue;
        }
        cells.push(match col.type_info().name() {
            "INT8" => Cell::Int(row.try_get::<i64, _>(i)?),
            "INT4" => Cell::Int(row.try_get::<i32, _>(i)?.into()),
            "INT2" => Cell::Int(row.try_get::<i16, _>(i)?.into()),
            "BOOL" => Cell::Bool(row.try_get::<bool, _>(i)?),
            "DATE" => Cell::Date(row.try_get::<NaiveDate, _>(i)?),
            "TIMESTAMPTZ" => Cell::Text(
                row.try_get::<DateTime<Utc>, _>(i)?.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
            "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" => Cell::Text(row.try_get::<String, _>(i)?),
            other => {
                return Err(StoreError::Internal(format!(
                    "column {} has type {other}, which storage does not decode",
                    col.name()
                )))
            }
        });
    }
    Ok(Row(cells))
}

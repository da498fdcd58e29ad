//! The status columns of a 花名册: what a row says happened to its person (死亡, 迁出, 迁入,
//! 失联, back to 正常) and on which date, and whether that is news to the registry.
//!
//! 人员状态 decides when it is filled in; without it a 死亡日期, 迁出日期 or 迁入日期 says what
//! happened. The date comes from the column of that change, else from 状态日期. A status the
//! person already has on the same date is nothing to record, which keeps a re-import 未变.

use chrono::NaiveDate;
use taizhang_domain::period::{date_from_excel_serial, parse_date_lenient};
use taizhang_domain::registry::{Person, PersonStatus, StatusChange, StatusChangeInput};
use taizhang_storage::StoreError;
use taizhang_tabular::{Cell, RawRow};

use super::{
    Refusal, Sheet, DEATH_DATE, MOVE_IN_DATE, MOVE_IN_PLACE, MOVE_OUT_DATE, MOVE_OUT_PLACE, NOTE, REASON, STATUS,
    STATUS_DATE,
};
use crate::import::RowErrors;

/// What a row asks to be true of its person's status.
pub(super) struct Wanted {
    pub(super) change: StatusChange,
    pub(super) date: Option<NaiveDate>,
    /// The column the date was, or should have been, written in: named in messages.
    pub(super) date_key: &'static str,
    /// 迁出地 for a move out, 迁入地 for a move in; empty otherwise.
    pub(super) place: String,
    /// The row's own reason (变更原因, else 备注); may be empty.
    pub(super) reason: String,
}

/// Reads the status columns; `None` when the row says nothing about status or a cell is wrong
/// (the reason is then in `errs`).
pub(super) fn read(sheet: &Sheet<'_>, row: &RawRow, errs: &mut RowErrors<'_>) -> Option<Wanted> {
    let death = date_in(sheet, row, DEATH_DATE, errs);
    let moved_out = date_in(sheet, row, MOVE_OUT_DATE, errs);
    let moved_in = date_in(sheet, row, MOVE_IN_DATE, errs);
    let at = date_in(sheet, row, STATUS_DATE, errs);
    let text = sheet.text(row, STATUS);
    let change = if text.is_empty() {
        if death.is_some() {
            StatusChange::Death
        } else if moved_out.is_some() {
            StatusChange::MoveOut
        } else if moved_in.is_some() {
            StatusChange::MoveIn
        } else {
            return None;
        }
    } else {
        match change_of(&text) {
            Some(c) => c,
            None => {
                errs.by_key(
                    STATUS,
                    format!("「{text}」不是可识别的人员状态（可填：正常、死亡、迁出、迁入、失联；也可写 在世、已故、已迁出、失踪 等）"),
                );
                return None;
            }
        }
    };
    // A death date beside another status is a contradiction only a person can resolve.
    if death.is_some() && change != StatusChange::Death {
        errs.by_key(DEATH_DATE, format!("填写了死亡日期，但人员状态为「{text}」，请核对"));
        return None;
    }
    let (own, own_key) = match change {
        StatusChange::Death => (death, DEATH_DATE),
        StatusChange::MoveOut => (moved_out, MOVE_OUT_DATE),
        StatusChange::MoveIn => (moved_in, MOVE_IN_DATE),
        StatusChange::LostContact | StatusChange::Normal => (None, STATUS_DATE),
    };
    let date_key = if sheet.has(own_key) || !sheet.has(STATUS_DATE) { own_key } else { STATUS_DATE };
    let place = match change {
        StatusChange::MoveOut => sheet.text(row, MOVE_OUT_PLACE),
        StatusChange::MoveIn => sheet.text(row, MOVE_IN_PLACE),
        _ => String::new(),
    };
    let mut reason = sheet.text(row, REASON);
    if reason.is_empty() {
        reason = sheet.text(row, NOTE);
    }
    Some(Wanted { change, date: own.or(at), date_key, place, reason })
}

/// 人员状态 as the provincial rosters write it: the labels (正常, 死亡, 迁出, 迁入, 失联) and
/// their everyday forms (在世, 已故, 已迁出, 失踪 …).
fn change_of(text: &str) -> Option<StatusChange> {
    let t = text.trim();
    StatusChange::parse(t)
        .or(match t {
            "已迁入" | "户口迁入" | "迁回" => Some(StatusChange::MoveIn),
            _ => None,
        })
        .or_else(|| {
            PersonStatus::parse(t).map(|s| match s {
                PersonStatus::Alive => StatusChange::Normal,
                PersonStatus::Dead => StatusChange::Death,
                PersonStatus::MovedOut => StatusChange::MoveOut,
                PersonStatus::LostContact => StatusChange::LostContact,
            })
        })
}

/// A date cell: an Excel date, a serial number, or text in any of the usual forms.
pub(super) fn date_in(sheet: &Sheet<'_>, row: &RawRow, key: &str, errs: &mut RowErrors<'_>) -> Option<NaiveDate> {
    let parsed = match sheet.cell(row, key) {
        c if c.is_blank() => return None,
        Cell::DateTime(serial) | Cell::Float(serial) => {
            date_from_excel_serial(*serial).ok_or_else(|| format!("「{serial}」不是有效的日期"))
        }
        Cell::Int(i) => date_from_excel_serial(*i as f64).ok_or_else(|| format!("「{i}」不是有效的日期")),
        Cell::Text(t) => parse_date_lenient(t).map_err(|e| e.to_string()),
        Cell::Error(e) => Err(format!("单元格是错误值 {e}")),
        other => Err(format!("「{}」不是日期", crate::convert::shown(other))),
    };
    match parsed {
        Ok(d) => Some(d),
        Err(reason) => {
            errs.by_key(key, reason);
            None
        }
    }
}

fn date_label(key: &str) -> &'static str {
    match key {
        DEATH_DATE => "死亡日期",
        MOVE_OUT_DATE => "迁出日期",
        MOVE_IN_DATE => "迁入日期",
        _ => "状态日期",
    }
}

fn place_key(change: StatusChange) -> &'static str {
    match change {
        StatusChange::MoveOut => MOVE_OUT_PLACE,
        StatusChange::MoveIn => MOVE_IN_PLACE,
        _ => STATUS,
    }
}

fn shown_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "日期未登记".to_string(), |d| d.to_string())
}

/// The status change to record for `person`, or `None` when the registry already says what
/// the row says. `source` (the file) is added to the reason so the audit names it.
pub(super) fn plan(
    person: &Person,
    w: &Wanted,
    is_new: bool,
    source: &str,
) -> std::result::Result<Option<StatusChangeInput>, Refusal> {
    let label = w.change.label();
    let stored = person.status;
    match w.change {
        // Someone registered as living here is 正常 whatever date the roster gives.
        StatusChange::Normal if stored == PersonStatus::Alive => return Ok(None),
        // A move in is recorded once: the same date again, or no date for someone already
        // registered here, is the roster repeating what is known.
        StatusChange::MoveIn
            if stored == PersonStatus::Alive
                && (w.date.is_some_and(|d| person.status_date == Some(d)) || (w.date.is_none() && !is_new)) =>
        {
            return Ok(None)
        }
        StatusChange::Death | StatusChange::MoveOut | StatusChange::LostContact if stored == w.change.status() => {
            if let Some(d) = w.date.filter(|d| person.status_date != Some(*d)) {
                return Err(Refusal::at(
                    w.date_key,
                    format!(
                        "此人已登记「{label}」（{}），与表中的{} {d} 不同；日期的更正请在人员页的「状态变更」中办理",
                        shown_date(person.status_date),
                        date_label(w.date_key)
                    ),
                ));
            }
            if w.change == StatusChange::MoveOut && !w.place.is_empty() && w.place != person.status_place {
                return Err(Refusal::at(
                    MOVE_OUT_PLACE,
                    format!(
                        "此人已登记迁往「{}」，与表中的「{}」不同；迁出地的更正请在人员页的「状态变更」中办理",
                        person.status_place, w.place
                    ),
                ));
            }
            return Ok(None);
        }
        _ => {}
    }
    // The import always gives a reason (its file); the rule that undoing a death needs one is
    // about the clerk's reason, so it is asked of the row itself.
    if stored == PersonStatus::Dead && w.change != StatusChange::Death && w.reason.is_empty() {
        return Err(Refusal::at(
            REASON,
            format!(
                "此人已登记死亡（{}），表中为「{label}」；若是更正登记错误，须在「变更原因」列说明原因",
                shown_date(person.status_date)
            ),
        ));
    }
    let Some(date) = w.date else {
        let now = if stored == PersonStatus::Alive { String::new() } else { format!("（此人现登记为「{}」）", stored.label()) };
        return Err(Refusal::at(w.date_key, format!("人员状态为「{label}」时必须填写{}{now}", date_label(w.date_key))));
    };
    match w.change {
        StatusChange::MoveOut if w.place.is_empty() => {
            return Err(Refusal::at(MOVE_OUT_PLACE, "人员状态为「迁出」时必须填写迁出地（迁往何处）"));
        }
        StatusChange::MoveIn if w.place.is_empty() => {
            return Err(Refusal::at(MOVE_IN_PLACE, "人员状态为「迁入」时必须填写迁入地（从何处迁入）"));
        }
        _ => {}
    }
    let reason = if w.reason.is_empty() { source.to_string() } else { format!("{}（{source}）", w.reason) };
    Ok(Some(StatusChangeInput { change: w.change, date: Some(date), reason, place_text: w.place.clone() }))
}

/// Maps a refused status change onto the columns it came from.
pub(super) fn refusal(e: StoreError, w: &Wanted) -> Refusal {
    let fields = [("date", w.date_key), ("place_text", place_key(w.change)), ("reason", REASON), ("change", STATUS)];
    Refusal::mapped(e, &fields, STATUS)
}

//! A workflow ledger's rows in their states: a town's historic cases (防返贫监测, 矛盾纠纷,
//! 安全隐患, 项目) come in with a 状态 column and land in that state, each row checked against
//! what a case in it must carry (`workflow::check_arrival`: the fields every transition on the
//! way requires, its guards on the day the case entered the state).
//!
//! - 状态 blank, or no such column: the initial state, as for any new record.
//! - The state's date (`state_since`): the row's 状态日期 if it gives one, else the date field
//!   the transitions into the state require (风险消除日期, 化解日期, 复查日期), else today.
//! - A record the file names that is already in that state: its values are compared as for
//!   any row (未变 or 更新); a different 状态日期 is refused.
//! - A record in an earlier state: moved on to the row's state, validated like stepping
//!   through the transitions from where it is (`records::advance_to`), audited as one
//!   transition by import. A state before the record's own is refused: going back (退回,
//!   回退) is a step a clerk takes on the record's page.

use chrono::NaiveDate;
use taizhang_domain::ledger::{FieldDef, FieldKind, LedgerDef};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{Record, RecordInput, Value, Values};
use taizhang_domain::DomainError;
use taizhang_storage::{records, settings, Scope, StoreError, Tx};
use taizhang_tabular::Cell;

use crate::columns::{FIELD_PREFIX, STATE_KEY, STATE_SINCE_KEY, YEAR_KEY};
use crate::convert::{cell_for_field, lookup_text, Parsed};
use crate::import::{savepoint, Rejection, RowErrors, Verdict};
use crate::Result;

/// The 状态 and 状态日期 cells of one row, as read.
#[derive(Debug, Default)]
pub(crate) struct StateCells {
    /// The state's key.
    state: Option<String>,
    since: Option<NaiveDate>,
}

impl StateCells {
    /// Takes the cell of column spec `key` if it is 状态 or 状态日期; returns whether it was.
    /// An unknown state is refused listing the ledger's states.
    pub(crate) fn take(&mut self, def: &LedgerDef, key: &str, i: usize, cell: &Cell, errs: &mut RowErrors<'_>, today: NaiveDate) -> bool {
        if key == STATE_KEY {
            let Some(wf) = def.workflow.as_ref() else { return true };
            match lookup_text(cell, false) {
                Ok(Some(text)) => match wf.state_named(&text) {
                    Some(s) => self.state = Some(s.key.clone()),
                    None => errs.at(
                        Some(i),
                        format!(
                            "「{text}」不是「{}」的状态；可填：{}",
                            def.name,
                            wf.states.iter().map(|s| s.label.as_str()).collect::<Vec<_>>().join("、")
                        ),
                    ),
                },
                Ok(None) => {}
                Err(reason) => errs.at(Some(i), reason),
            }
            return true;
        }
        if key == STATE_SINCE_KEY {
            match cell_for_field(&since_field(), cell, today) {
                Ok(Parsed::Value(Value::Date(d))) => self.since = Some(d),
                Ok(_) => {}
                Err(reason) => errs.at(Some(i), reason),
            }
            return true;
        }
        false
    }

    /// Whether the row says anything about its state (else it is imported as any row).
    pub(crate) fn given(&self) -> bool {
        self.state.is_some() || self.since.is_some()
    }
}

/// 状态日期 read as a date field.
fn since_field() -> FieldDef {
    FieldDef {
        key: "state_since".into(),
        label: "状态日期".into(),
        kind: FieldKind::Date,
        required: false,
        aliases: vec![],
        sensitivity: None,
        scale: 0,
        unit: String::new(),
        options: vec![],
        target: None,
        negative: false,
        format: None,
        help: String::new(),
        retired: false,
    }
}

/// Decides a row that gives a 状态 (or a 状态日期): a new record created in that state, a
/// record already in it compared, a record in an earlier state moved on (see the module).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn import_row(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    existing: Option<Record>,
    input: RecordInput,
    cells: &StateCells,
    today: NaiveDate,
    mut errs: RowErrors<'_>,
) -> Result<(Verdict, Vec<Rejection>)> {
    let Some(wf) = def.workflow.as_ref() else { return Ok((Verdict::Rejected, errs.list)) };
    let Some(state) = cells.state.as_deref() else {
        errs.by_key(STATE_SINCE_KEY, "填写了状态日期，须同时在「状态」列填写记录所处的状态");
        return Ok((Verdict::Rejected, errs.list));
    };
    let label = wf.state_label(state).to_string();
    // The values the record will hold: the stored ones with the row's over them.
    let mut all: Values = existing.as_ref().map(|r| r.values.clone()).unwrap_or_default();
    all.extend(input.values.iter().map(|(k, v)| (k.clone(), v.clone())));
    let (since, from) = match cells.since {
        Some(d) => (d, STATE_SINCE_KEY.to_string()),
        None => match wf.state_date(def, state, &all) {
            Some((k, d)) => (d, format!("{FIELD_PREFIX}{k}")),
            None => (today, String::new()),
        },
    };
    if since > today {
        let what = if from == STATE_SINCE_KEY {
            "状态日期".to_string()
        } else {
            from.strip_prefix(FIELD_PREFIX).and_then(|k| def.field(k)).map_or_else(String::new, |f| f.label.clone())
        };
        errs.by_key(&from, format!("{what} {since} 晚于今天，记录不能自那天起处于「{label}」"));
        return Ok((Verdict::Rejected, errs.list));
    }
    let guards = settings::all(tx).await?;
    let outcome = match existing {
        None => {
            tx.exec_script("SAVEPOINT taizhang_row").await?;
            let r = records::create_in_state(tx, def, actor, scope, input, state, since, today, &guards).await;
            savepoint(tx, r).await?.map(|_| Verdict::New)
        }
        Some(rec) => {
            if input.concerns_year.is_some_and(|y| rec.concerns_year != Some(y)) {
                let stored = rec.concerns_year.map_or_else(|| "未填".to_string(), |y| y.to_string());
                errs.by_key(YEAR_KEY, format!("与已登记记录的所属年度（{stored}）不同；所属年度不能通过导入修改"));
                return Ok((Verdict::Rejected, errs.list));
            }
            let current = rec.state.clone().unwrap_or_else(|| wf.initial.clone());
            let changes: Values = input.values.into_iter().filter(|(k, v)| rec.values.get(k) != Some(v)).collect();
            if current == state {
                if let Some(d) = cells.since.filter(|d| rec.state_since != Some(*d)) {
                    let stored = rec.state_since.map_or_else(|| "未记".to_string(), |s| s.to_string());
                    errs.by_key(STATE_SINCE_KEY, format!("{d} 与已登记记录进入「{label}」的日期（{stored}）不同；状态日期不能通过导入修改"));
                    return Ok((Verdict::Rejected, errs.list));
                }
                if changes.is_empty() {
                    return Ok((Verdict::Unchanged, Vec::new()));
                }
                tx.exec_script("SAVEPOINT taizhang_row").await?;
                let r = records::update(tx, def, actor, scope, rec.id, rec.row_version, changes, today).await;
                savepoint(tx, r).await?.map(|_| Verdict::Updated)
            } else {
                tx.exec_script("SAVEPOINT taizhang_row").await?;
                let r = records::advance_to(tx, def, actor, scope, rec.id, rec.row_version, changes, state, since, today, &guards).await;
                savepoint(tx, r).await?.map(|_| Verdict::Updated)
            }
        }
    };
    match outcome {
        Ok(v) => Ok((v, Vec::new())),
        // A refusal about the state as a whole (going back, a role) belongs to the 状态 column.
        Err(StoreError::Domain(DomainError::Rule(reason))) => {
            errs.by_key(STATE_KEY, reason);
            Ok((Verdict::Rejected, errs.list))
        }
        Err(e) => {
            errs.store(e)?;
            Ok((Verdict::Rejected, errs.list))
        }
    }
}

//! Records of a ledger: create, read, update, delete and workflow transitions, each validated
//! by the domain, confined to the caller's scope, guarded by optimistic concurrency and audited.

use chrono::NaiveDate;
use serde_json::json;
use taizhang_domain::ledger::{FieldKind, LedgerDef, RefTarget, SubjectKind, TimeModel};
use taizhang_domain::period::Period;
use taizhang_domain::role::Actor;
use taizhang_domain::validate::validate_record;
use taizhang_domain::value::{Record, RecordInput, Value, Values, Voided};
use taizhang_domain::workflow::{check_arrival, check_transition, overdue as overdue_reason, Settings};
use taizhang_domain::{DomainError, FieldError};

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::ledgers::{column_type, quote};
use crate::scope::Scope;
use crate::sql::{Arg, Row};
use crate::ColumnType;

const SYSTEM: &str = "id, place_id, subject_id, state, concerns_year, row_version, created_by, updated_by, created_at, \
     updated_at, state_since, voided_at, voided_by, void_reason";
const SYSTEM_COUNT: usize = 14;

pub(crate) fn select_list(def: &LedgerDef) -> String {
    let mut s = SYSTEM.to_string();
    for f in &def.fields {
        s.push_str(", ");
        s.push_str(&quote(&f.key));
    }
    s
}

pub(crate) fn to_arg(kind: FieldKind, v: &Value) -> Arg {
    match (column_type(kind), v) {
        (ColumnType::Int, Value::Int(i)) => Arg::Int(*i),
        (ColumnType::Int, _) => Arg::NullInt,
        (ColumnType::Date, Value::Date(d)) => Arg::Date(*d),
        (ColumnType::Date, _) => Arg::NullDate,
        (ColumnType::Bool, Value::Bool(b)) => Arg::Bool(*b),
        (ColumnType::Bool, _) => Arg::NullBool,
        (ColumnType::Text, Value::List(l)) if !l.is_empty() => {
            Arg::Text(serde_json::to_string(l).unwrap_or_else(|_| "[]".into()))
        }
        (ColumnType::Text, Value::Text(t)) if !t.is_empty() => Arg::Text(t.clone()),
        (ColumnType::Text, _) => Arg::NullText,
    }
}

fn from_cell(kind: FieldKind, r: &Row, i: usize) -> Value {
    match kind {
        FieldKind::Date => r.opt_date(i).map_or(Value::Null, Value::Date),
        FieldKind::Boolean => r.opt_bool(i).map_or(Value::Null, Value::Bool),
        FieldKind::MultiEnum => r
            .opt_text(i)
            .map_or(Value::Null, |t| Value::List(serde_json::from_str(&t).unwrap_or_default())),
        k if column_type(k) == ColumnType::Int => r.opt_int(i).map_or(Value::Null, Value::Int),
        _ => r.opt_text(i).map_or(Value::Null, Value::Text),
    }
}

pub(crate) fn from_row(def: &LedgerDef, r: &Row) -> Record {
    let mut values = Values::new();
    for (n, f) in def.fields.iter().enumerate() {
        let v = from_cell(f.kind, r, SYSTEM_COUNT + n);
        if !v.is_null() {
            values.insert(f.key.clone(), v);
        }
    }
    Record {
        id: r.int(0),
        place_id: r.int(1),
        subject_id: r.opt_int(2),
        state: r.opt_text(3),
        state_since: r.opt_date(10),
        concerns_year: r.opt_int(4).and_then(|y| i32::try_from(y).ok()),
        row_version: r.int(5),
        values,
        created_by: r.text(6),
        updated_by: r.text(7),
        created_at: r.text(8),
        updated_at: r.text(9),
        voided: r.opt_text(11).map(|at| Voided { at, by: r.text(12), reason: r.text(13) }),
    }
}

pub(crate) fn record_json(r: &Record) -> serde_json::Value {
    json!(r)
}

/// The place a subject belongs to, checked to lie in scope.
async fn subject_place(tx: &mut Tx, scope: &Scope, kind: SubjectKind, id: i64) -> Result<i64> {
    let (table, what) = match kind {
        SubjectKind::Person => ("persons", "人员"),
        SubjectKind::Household => ("households", "户"),
        SubjectKind::Cadre => ("cadres", "干部"),
        SubjectKind::Organisation => ("organisations", "单位"),
        SubjectKind::Place => ("places", "地点"),
        SubjectKind::None => return Err(StoreError::Internal("subject_place on a ledger without subject".into())),
    };
    let col = if table == "places" { "id" } else { "place_id" };
    let sql = format!("SELECT {col} FROM {table} WHERE id = $1 AND {}", scope.condition(col, 2));
    tx.fetch_opt(&sql, &[Arg::Int(id), scope.arg()])
        .await?
        .map(|r| r.int(0))
        .ok_or_else(|| StoreError::NotFound(format!("{what}（编号 {id}）不存在或不在您的管辖范围内")))
}

/// Every reference must point at something that exists; people and households in scope. A
/// reference chosen now (every one of a new record, a changed one of an edited record: `before`
/// holds the values it had) may not name a cadre who has left the post or an organisation that
/// has closed; old records keep naming them.
async fn check_references(
    tx: &mut Tx,
    def: &LedgerDef,
    scope: &Scope,
    values: &Values,
    before: Option<&Values>,
    today: NaiveDate,
) -> Result<()> {
    let mut errors = Vec::new();
    for f in def.fields.iter().filter(|f| f.kind == FieldKind::Reference) {
        let Some(id) = values.get(&f.key).and_then(Value::as_int) else { continue };
        if before.is_none_or(|b| b.get(&f.key).and_then(Value::as_int) != Some(id)) {
            if let Some(reason) = ended(tx, f.target.as_ref(), id, today).await? {
                errors.push(FieldError::new(&f.key, &f.label, reason));
                continue;
            }
        }
        let (sql, scoped) = match f.target.as_ref() {
            Some(RefTarget::Person) => ("SELECT place_id FROM persons WHERE id = $1".to_string(), true),
            Some(RefTarget::Household) => ("SELECT place_id FROM households WHERE id = $1".to_string(), true),
            Some(RefTarget::Cadre) => ("SELECT place_id FROM cadres WHERE id = $1".to_string(), false),
            Some(RefTarget::Organisation) => ("SELECT place_id FROM organisations WHERE id = $1".to_string(), false),
            Some(RefTarget::Place) => ("SELECT id FROM places WHERE id = $1".to_string(), false),
            Some(RefTarget::Ledger(k)) => (format!("SELECT place_id FROM ld_{k} WHERE id = $1"), true),
            None => continue,
        };
        let found = tx.fetch_opt(&sql, &[Arg::Int(id)]).await?;
        let ok = match found {
            None => false,
            Some(r) if scoped => scope.contains_place(tx, r.int(0)).await?,
            Some(_) => true,
        };
        if !ok {
            errors.push(FieldError::new(&f.key, &f.label, format!("关联的记录（编号 {id}）不存在或不在您的管辖范围内")));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::Fields(errors).into()) }
}

/// Why a cadre or organisation can no longer be chosen (left the post, closed), if so.
async fn ended(tx: &mut Tx, target: Option<&RefTarget>, id: i64, today: NaiveDate) -> Result<Option<String>> {
    let (sql, what) = match target {
        Some(RefTarget::Cadre) => ("SELECT name, ended_on FROM cadres WHERE id = $1", "离任"),
        Some(RefTarget::Organisation) => ("SELECT name, ended_on FROM organisations WHERE id = $1", "注销"),
        _ => return Ok(None),
    };
    Ok(tx
        .fetch_opt(sql, &[Arg::Int(id)])
        .await?
        .and_then(|r| r.opt_date(1).filter(|d| *d < today).map(|d| format!("「{}」已于 {d} {what}，不能再选用", r.text(0)))))
}

/// Refuses a record whose natural key (识别字段) another record already holds, naming it. Blank
/// key parts match blank parts, as in an import; voided records hold no key.
async fn refuse_taken_key(
    tx: &mut Tx,
    def: &LedgerDef,
    scope: &Scope,
    subject_id: Option<i64>,
    values: &Values,
    itself: Option<i64>,
) -> Result<()> {
    if def.natural_key.is_empty() {
        return Ok(());
    }
    let found = match find_by_natural_key(tx, def, &Scope::all(), subject_id, values).await {
        Ok(f) => f.filter(|r| Some(r.id) != itself),
        // Two records hold the key already (made before this rule): this one would be a third.
        Err(StoreError::Conflict(_)) => {
            return Err(StoreError::Conflict(format!("「{}」中已有识别字段相同的记录，不能再新增一条", def.name)))
        }
        Err(e) => return Err(e),
    };
    let Some(other) = found else { return Ok(()) };
    let key: Vec<String> = def
        .natural_key
        .iter()
        .filter(|k| *k != "subject")
        .filter_map(|k| def.field(k))
        .map(|f| format!("{}={}", f.label, values.get(&f.key).map_or("（空）".to_string(), Value::display)))
        .collect();
    let whose = if scope.contains_place(tx, other.place_id).await? {
        format!("第 {} 号记录", other.id)
    } else {
        "一条不在您管辖范围内的记录".to_string()
    };
    Err(StoreError::Conflict(format!(
        "「{}」中已有{whose}的记录对象和{}与此相同，不能重复登记；如是更正，请修改那条记录",
        def.name,
        if key.is_empty() { "识别字段".to_string() } else { key.join("、") }
    )))
}

pub async fn get(tx: &mut Tx, def: &LedgerDef, scope: &Scope, id: i64) -> Result<Record> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = $1 AND {}",
        select_list(def),
        def.table_name(),
        scope.condition("place_id", 2)
    );
    tx.fetch_opt(&sql, &[Arg::Int(id), scope.arg()])
        .await?
        .map(|r| from_row(def, &r))
        .ok_or_else(|| StoreError::NotFound(format!("「{}」中没有编号为 {id} 的记录，或不在您的管辖范围内", def.name)))
}

/// The records of these ids within the scope, ordered by id, in one query (those absent or out
/// of scope are not among them).
pub async fn by_ids(tx: &mut Tx, def: &LedgerDef, scope: &Scope, ids: &[i64]) -> Result<Vec<Record>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Ids read from the database, written as integer literals.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {} FROM {} WHERE id IN ({list}) AND {} ORDER BY id",
        select_list(def),
        def.table_name(),
        scope.condition("place_id", 1)
    );
    Ok(tx.fetch(&sql, &[scope.arg()]).await?.iter().map(|r| from_row(def, r)).collect())
}

pub async fn create(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    input: RecordInput,
    today: NaiveDate,
) -> Result<Record> {
    insert(tx, def, actor, scope, input, None, today).await
}

/// A workflow ledger's record registered straight into `state` (an import of historic cases),
/// in it since `since`: refused unless its values carry what stepping there from the initial
/// state would need (`workflow::check_arrival`: the fields every transition on the way
/// requires, its guards on `since`, the actor's roles). The audit entry says it was imported
/// in that state.
#[allow(clippy::too_many_arguments)]
pub async fn create_in_state(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    input: RecordInput,
    state: &str,
    since: NaiveDate,
    today: NaiveDate,
    settings: &Settings,
) -> Result<Record> {
    insert(tx, def, actor, scope, input, Some(Arrival { state, since, settings }), today).await
}

/// Where a record arrives in its workflow other than by one transition, and since when.
struct Arrival<'a> {
    state: &'a str,
    since: NaiveDate,
    settings: &'a Settings,
}

/// A state's date may not lie ahead: a case is not in a state it enters next month.
fn refuse_future_since(def: &LedgerDef, state: &str, since: NaiveDate, today: NaiveDate) -> Result<()> {
    if since > today {
        let label = def.workflow.as_ref().map_or(state, |w| w.state_label(state));
        return Err(DomainError::field("state_since", "状态日期", format!("{since} 晚于今天，记录不能自那天起处于「{label}」")).into());
    }
    Ok(())
}

async fn insert(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    input: RecordInput,
    arrival: Option<Arrival<'_>>,
    today: NaiveDate,
) -> Result<Record> {
    let place_id = match (def.subject, input.subject_id) {
        (SubjectKind::None, Some(_)) => {
            return Err(DomainError::Rule(format!("「{}」的记录没有记录对象", def.name)).into())
        }
        (SubjectKind::None, None) => input
            .place_id
            .ok_or_else(|| DomainError::field("place_id", "所属村", "必须填写"))?,
        (kind, Some(sid)) => {
            let p = subject_place(tx, scope, kind, sid).await?;
            input.place_id.unwrap_or(p)
        }
        (kind, None) => {
            return Err(DomainError::field("subject_id", kind.label(), "必须指定记录对象").into());
        }
    };
    scope.require_place(tx, place_id, "所属地点").await?;
    if input.concerns_year.is_some() && !def.concerns_year {
        return Err(DomainError::Rule(format!("「{}」的记录不填写所属年度", def.name)).into());
    }
    let values: Values = input.values.into_iter().filter(|(_, v)| !v.is_null()).collect();
    validate_record(def, &values, today)?;
    check_references(tx, def, scope, &values, None, today).await?;
    refuse_taken_key(tx, def, scope, input.subject_id, &values, None).await?;
    let mut state = def.workflow.as_ref().map(|w| w.initial.clone());
    let mut since = today;
    let mut note = String::new();
    if let (Some(a), Some(wf)) = (&arrival, &def.workflow) {
        refuse_future_since(def, a.state, a.since, today)?;
        check_arrival(def, &wf.initial, a.state, actor, &values, a.since, a.settings)?;
        state = Some(a.state.to_string());
        since = a.since;
        note = format!("导入（状态：{}）", wf.state_label(a.state));
    } else if arrival.is_some() {
        return Err(DomainError::Rule(format!("「{}」没有办理流程", def.name)).into());
    }
    let now = crate::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut cols = vec!["place_id", "subject_id", "state", "state_since", "concerns_year", "created_at", "updated_at", "created_by", "updated_by"]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    let mut args = vec![
        Arg::Int(place_id),
        input.subject_id.into(),
        state.clone().into(),
        if state.is_some() { Arg::Date(since) } else { Arg::NullDate },
        input.concerns_year.map(i64::from).into(),
        Arg::Text(now.clone()),
        Arg::Text(now),
        actor.name().into(),
        actor.name().into(),
    ];
    for f in &def.fields {
        if let Some(v) = values.get(&f.key) {
            cols.push(quote(&f.key));
            args.push(to_arg(f.kind, v));
        }
    }
    let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
        def.table_name(),
        cols.join(", "),
        placeholders.join(", ")
    );
    let id = tx.insert(&sql, &args).await?;
    let rec = get(tx, def, scope, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "create",
            entity: &def.table_name(),
            entity_id: Some(id),
            place_id: Some(rec.place_id),
            before: None,
            after: Some(record_json(&rec)),
            note: &note,
        },
    )
    .await?;
    Ok(rec)
}

/// Fields whose values differ between two value maps (for conflict messages and audit).
pub fn changed_fields(def: &LedgerDef, a: &Values, b: &Values) -> Vec<String> {
    def.fields
        .iter()
        .filter(|f| a.get(&f.key).unwrap_or(&Value::Null) != b.get(&f.key).unwrap_or(&Value::Null))
        .map(|f| f.label.clone())
        .collect()
}

/// A stored instant (RFC 3339, UTC) as the town reads it: Beijing time (Asia/Shanghai, UTC+8
/// all year), to the second. Text that is not such an instant comes back as it was.
pub fn local_time(at: &str) -> String {
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(t) => t.with_timezone(&beijing).format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => at.get(..19).unwrap_or(at).replace('T', " "),
    }
}

async fn stale(tx: &mut Tx, def: &LedgerDef, scope: &Scope, id: i64, expected: i64, seen: Option<&Values>) -> StoreError {
    match get(tx, def, scope, id).await {
        Ok(current) => {
            // What changed since the version the user saw: given, or the values before the
            // first change after it, as its audit entry holds them.
            let seen = match seen {
                Some(s) => Some(s.clone()),
                None => seen_at(tx, def, scope, id, expected).await,
            };
            let what = seen
                .map(|s| changed_fields(def, &s, &current.values))
                .filter(|c| !c.is_empty())
                .map(|c| format!("，改了{}", c.iter().map(|l| format!("「{l}」")).collect::<Vec<_>>().join("")))
                .unwrap_or_default();
            let state = match (&def.workflow, &current.state) {
                (Some(w), Some(s)) => format!("，现状态「{}」", w.state_label(s)),
                _ => String::new(),
            };
            StoreError::Stale(format!(
                "这条记录已被「{}」于 {}（北京时间）修改（版本 {} → {}{what}{state}）。您的修改没有保存，请刷新后再改。",
                current.updated_by,
                local_time(&current.updated_at),
                expected,
                current.row_version
            ))
        }
        Err(e) => e,
    }
}

/// The values a record had at `version`, from the audit entry of the change that left it.
async fn seen_at(tx: &mut Tx, def: &LedgerDef, scope: &Scope, id: i64, version: i64) -> Option<Values> {
    let q = audit::AuditQuery { entity: Some(def.table_name()), entity_id: Some(id), limit: 50, ..Default::default() };
    let entries = audit::list(tx, scope, &q).await.ok()?;
    entries.into_iter().filter(|e| e.entity_id == Some(id)).find_map(|e| {
        let before = e.before?;
        (before.get("row_version").and_then(serde_json::Value::as_i64) == Some(version))
            .then(|| before.get("values").cloned())
            .flatten()
            .and_then(|v| serde_json::from_value(v).ok())
    })
}

/// Applies `changes` (a null value clears a field) if the record is still at `expected_version`.
#[allow(clippy::too_many_arguments)]
pub async fn update(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    expected_version: i64,
    changes: Values,
    today: NaiveDate,
) -> Result<Record> {
    write(tx, def, actor, scope, id, expected_version, changes, Step::Edit, today).await
}

/// Makes a workflow transition, together with the field values it needs (e.g. 复查日期).
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    expected_version: i64,
    transition_key: &str,
    changes: Values,
    on: NaiveDate,
    settings: &Settings,
) -> Result<Record> {
    write(tx, def, actor, scope, id, expected_version, changes, Step::Transition(transition_key, settings), on).await
}

/// Moves a record on to a later `state` of its workflow, in it since `since`, together with
/// the values the row brings (an import of a case that has moved on since it was first
/// registered): validated like stepping through the transitions on the way
/// (`workflow::check_arrival` from its current state, guards on `since`); a state before the
/// current one is refused. Audited as one transition whose note names both states.
#[allow(clippy::too_many_arguments)]
pub async fn advance_to(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    expected_version: i64,
    changes: Values,
    state: &str,
    since: NaiveDate,
    today: NaiveDate,
    settings: &Settings,
) -> Result<Record> {
    let arrival = Arrival { state, since, settings };
    write(tx, def, actor, scope, id, expected_version, changes, Step::Arrive(arrival), today).await
}

/// What a write does besides changing values.
enum Step<'a> {
    Edit,
    /// A transition by its key, on the day passed as `today`.
    Transition(&'a str, &'a Settings),
    Arrive(Arrival<'a>),
}

#[allow(clippy::too_many_arguments)]
async fn write(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    expected_version: i64,
    changes: Values,
    step: Step<'_>,
    today: NaiveDate,
) -> Result<Record> {
    let before = get(tx, def, scope, id).await?;
    if before.row_version != expected_version {
        return Err(stale(tx, def, scope, id, expected_version, None).await);
    }
    if before.voided.is_some() {
        return Err(StoreError::Conflict(format!("「{}」第 {id} 号记录已作废，不能修改或办理；如需继续，请管理员先恢复", def.name)));
    }
    // A step fills only the fields it declares: anything else is an edit, with its own rights.
    if let Step::Transition(key, _) = &step {
        if let Some(t) = def.workflow.as_ref().and_then(|w| w.transition(key)) {
            t.refuse_undeclared(def, changes.keys())?;
        }
    }
    let mut values = before.values.clone();
    for (k, v) in changes {
        if v.is_null() {
            values.remove(&k);
        } else {
            values.insert(k, v);
        }
    }
    validate_record(def, &values, today)?;
    check_references(tx, def, scope, &values, Some(&before.values), today).await?;
    let key_changed = def.natural_key.iter().any(|k| values.get(k) != before.values.get(k));
    if key_changed {
        refuse_taken_key(tx, def, scope, before.subject_id, &values, Some(id)).await?;
    }
    let mut new_state = before.state.clone();
    let mut since = today;
    let mut note = String::new();
    match &step {
        Step::Edit => {}
        Step::Transition(key, settings) => {
            let state = before.state.clone().unwrap_or_default();
            let t = check_transition(def, &state, key, actor, &values, today, settings)?;
            crate::attachments::require_for(tx, def, id, t).await?;
            new_state = Some(t.to.clone());
            note = key.to_string();
        }
        Step::Arrive(a) => {
            let wf = def.workflow.as_ref().ok_or_else(|| DomainError::Rule(format!("「{}」没有办理流程", def.name)))?;
            let from = before.state.clone().unwrap_or_else(|| wf.initial.clone());
            refuse_future_since(def, a.state, a.since, today)?;
            check_arrival(def, &from, a.state, actor, &values, a.since, a.settings)?;
            new_state = Some(a.state.to_string());
            since = a.since;
            note = format!("导入（状态：{} → {}）", wf.state_label(&from), wf.state_label(a.state));
        }
    }
    let mut sets = vec!["row_version = row_version + 1".to_string(), "updated_at = $1".into(), "updated_by = $2".into()];
    let mut args = vec![
        Arg::Text(crate::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        actor.name().into(),
    ];
    if new_state != before.state {
        args.push(new_state.clone().into());
        sets.push(format!("state = ${}", args.len()));
        args.push(Arg::Date(since));
        sets.push(format!("state_since = ${}", args.len()));
    }
    for f in &def.fields {
        let old = before.values.get(&f.key).unwrap_or(&Value::Null);
        let new = values.get(&f.key).unwrap_or(&Value::Null);
        if old != new {
            args.push(to_arg(f.kind, new));
            sets.push(format!("{} = ${}", quote(&f.key), args.len()));
        }
    }
    args.push(Arg::Int(id));
    args.push(Arg::Int(expected_version));
    let sql = format!(
        "UPDATE {} SET {} WHERE id = ${} AND row_version = ${}",
        def.table_name(),
        sets.join(", "),
        args.len() - 1,
        args.len()
    );
    if tx.exec(&sql, &args).await? == 0 {
        return Err(stale(tx, def, scope, id, expected_version, Some(&before.values)).await);
    }
    let after = get(tx, def, scope, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: if matches!(step, Step::Edit) { "update" } else { "transition" },
            entity: &def.table_name(),
            entity_id: Some(id),
            place_id: Some(after.place_id),
            before: Some(record_json(&before)),
            after: Some(record_json(&after)),
            note: &note,
        },
    )
    .await?;
    Ok(after)
}

/// 作废: the record leaves lists, indicators, checks and reports, and stays, with who voided it,
/// when and why. Nothing is ever deleted.
#[allow(clippy::too_many_arguments)]
pub async fn void(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    expected_version: i64,
    reason: &str,
) -> Result<Record> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(DomainError::field("reason", "作废原因", "必须填写（如 重复录入、对象填错）").into());
    }
    if reason.chars().count() > 500 {
        return Err(DomainError::field("reason", "作废原因", "不能超过 500 个字").into());
    }
    let before = get(tx, def, scope, id).await?;
    if before.voided.is_some() {
        return Err(StoreError::Conflict(format!("「{}」第 {id} 号记录已作废", def.name)));
    }
    set_void(tx, def, actor, scope, &before, expected_version, Some(reason)).await
}

/// Brings a voided record back (administrators only), if no other record holds its natural key.
pub async fn restore(tx: &mut Tx, def: &LedgerDef, actor: &Actor, scope: &Scope, id: i64, expected_version: i64) -> Result<Record> {
    if !actor.has_role(taizhang_domain::role::Role::Admin) {
        return Err(StoreError::Forbidden("只有管理员可以恢复作废的记录".into()));
    }
    let before = get(tx, def, scope, id).await?;
    if before.voided.is_none() {
        return Err(StoreError::Conflict(format!("「{}」第 {id} 号记录没有作废，无需恢复", def.name)));
    }
    refuse_taken_key(tx, def, scope, before.subject_id, &before.values, Some(id)).await?;
    set_void(tx, def, actor, scope, &before, expected_version, None).await
}

async fn set_void(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    scope: &Scope,
    before: &Record,
    expected_version: i64,
    reason: Option<&str>,
) -> Result<Record> {
    let now = crate::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let sql = format!(
        "UPDATE {} SET voided_at = $1, voided_by = $2, void_reason = $3, row_version = row_version + 1, updated_at = $4,
         updated_by = $5 WHERE id = $6 AND row_version = $7",
        def.table_name()
    );
    let args = [
        reason.map(|_| now.clone()).into(),
        reason.map(|_| actor.name().to_string()).into(),
        reason.map(str::to_string).into(),
        Arg::Text(now),
        actor.name().into(),
        Arg::Int(before.id),
        Arg::Int(expected_version),
    ];
    if tx.exec(&sql, &args).await? == 0 {
        return Err(stale(tx, def, scope, before.id, expected_version, None).await);
    }
    let after = get(tx, def, scope, before.id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: if reason.is_some() { "void" } else { "restore" },
            entity: &def.table_name(),
            entity_id: Some(before.id),
            place_id: Some(after.place_id),
            before: Some(record_json(before)),
            after: Some(record_json(&after)),
            note: reason.unwrap_or(""),
        },
    )
    .await?;
    Ok(after)
}

/// Whether a listing takes voided records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Voids {
    /// Counts, checks and reports: never a voided record.
    #[default]
    Exclude,
    Include,
    Only,
}

/// Which records a listing or a count takes.
#[derive(Debug, Clone, Default)]
pub struct RecordQuery {
    /// Event ledgers: the event falls in the period. Standing ledgers: in force some day of it.
    pub period: Option<Period>,
    /// Standing ledgers: in force on that day.
    pub as_of: Option<NaiveDate>,
    pub state: Option<String>,
    /// Field equals value (text form as stored).
    pub equals: Vec<(String, Value)>,
    pub subject_id: Option<i64>,
    pub order_by: Option<(String, bool)>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub voids: Voids,
    /// Records an audit entry with an id in this range (inclusive) concerns: what one import
    /// wrote ([`crate::audit::import_entries`]).
    pub audited: Option<(i64, i64)>,
}

/// Builds `WHERE …` and its arguments; argument `$1` is always the scope.
pub fn where_clause(def: &LedgerDef, scope: &Scope, q: &RecordQuery) -> Result<(String, Vec<Arg>)> {
    let mut conds = vec![scope.condition("place_id", 1)];
    match q.voids {
        Voids::Exclude => conds.push("voided_at IS NULL".into()),
        Voids::Include => {}
        Voids::Only => conds.push("voided_at IS NOT NULL".into()),
    }
    let mut args = vec![scope.arg()];
    let push = |args: &mut Vec<Arg>, a: Arg| -> usize {
        args.push(a);
        args.len()
    };
    if let Some(p) = &q.period {
        match &def.time {
            TimeModel::Event { field } => {
                let f = def.field(field).ok_or_else(|| StoreError::Internal("time field".into()))?;
                let (a, b) = match f.kind {
                    FieldKind::Month => (
                        Arg::Text(p.start.format("%Y-%m").to_string()),
                        Arg::Text(p.end.format("%Y-%m").to_string()),
                    ),
                    FieldKind::Year => (Arg::Int(p.start.format("%Y").to_string().parse().unwrap_or(0)), Arg::Int(p.end.format("%Y").to_string().parse().unwrap_or(0))),
                    _ => (Arg::Date(p.start), Arg::Date(p.end)),
                };
                let i = push(&mut args, a);
                let j = push(&mut args, b);
                conds.push(format!("{c} >= ${i} AND {c} <= ${j}", c = quote(field)));
            }
            TimeModel::Standing { start, end } => {
                let i = push(&mut args, Arg::Date(p.end));
                let j = push(&mut args, Arg::Date(p.start));
                conds.push(format!(
                    "{s} <= ${i} AND ({e} IS NULL OR {e} >= ${j})",
                    s = quote(start),
                    e = quote(end)
                ));
            }
        }
    }
    if let Some(d) = q.as_of {
        match &def.time {
            TimeModel::Standing { start, end } => {
                let i = push(&mut args, Arg::Date(d));
                conds.push(format!("{s} <= ${i} AND ({e} IS NULL OR {e} >= ${i})", s = quote(start), e = quote(end)));
            }
            TimeModel::Event { .. } => {
                return Err(DomainError::Rule(format!("「{}」是按事件记的台账，不能按时点统计；请用期间", def.name)).into())
            }
        }
    }
    if let Some(s) = &q.state {
        let i = push(&mut args, Arg::Text(s.clone()));
        conds.push(format!("state = ${i}"));
    }
    if let Some(sid) = q.subject_id {
        let i = push(&mut args, Arg::Int(sid));
        conds.push(format!("subject_id = ${i}"));
    }
    if let Some((from, to)) = q.audited {
        let i = push(&mut args, Arg::Int(from));
        let j = push(&mut args, Arg::Int(to));
        let t = push(&mut args, Arg::Text(def.table_name()));
        conds.push(format!(
            "EXISTS (SELECT 1 FROM audit a WHERE a.id BETWEEN ${i} AND ${j} AND a.entity = ${t} AND {tbl}.id BETWEEN a.entity_id AND COALESCE(a.last_entity_id, a.entity_id))",
            tbl = def.table_name()
        ));
    }
    for (k, v) in &q.equals {
        let f = def.field(k).ok_or_else(|| StoreError::NotFound(format!("「{}」中没有字段「{k}」", def.name)))?;
        let i = push(&mut args, to_arg(f.kind, v));
        conds.push(format!("{} = ${i}", quote(k)));
    }
    Ok((conds.join(" AND "), args))
}

pub async fn list(tx: &mut Tx, def: &LedgerDef, scope: &Scope, q: &RecordQuery) -> Result<Vec<Record>> {
    let (cond, mut args) = where_clause(def, scope, q)?;
    let order = match &q.order_by {
        Some((k, desc)) if def.field(k).is_some() || k == "id" => {
            format!("{} {}, id", quote(k), if *desc { "DESC" } else { "ASC" })
        }
        _ => "id".to_string(),
    };
    let select = format!("SELECT {} FROM {} WHERE {cond}", select_list(def), def.table_name());
    let mut sql = if q.limit.is_some() && crate::places::gather_first(tx, scope).await? {
        crate::places::scope_first(&select, &order)
    } else {
        format!("{select} ORDER BY {order}")
    };
    if let Some(l) = q.limit {
        args.push(Arg::Int(l));
        sql.push_str(&format!(" LIMIT ${}", args.len()));
        args.push(Arg::Int(q.offset.unwrap_or(0)));
        sql.push_str(&format!(" OFFSET ${}", args.len()));
    }
    Ok(tx.fetch(&sql, &args).await?.iter().map(|r| from_row(def, r)).collect())
}

pub async fn count(tx: &mut Tx, def: &LedgerDef, scope: &Scope, q: &RecordQuery) -> Result<i64> {
    let (cond, args) = where_clause(def, scope, q)?;
    let sql = format!("SELECT COUNT(*) FROM {} WHERE {cond}", def.table_name());
    Ok(tx.fetch_one(&sql, &args).await?.int(0))
}

/// Whether any record matches: [`count`] stopping at the first.
pub async fn any(tx: &mut Tx, def: &LedgerDef, scope: &Scope, q: &RecordQuery) -> Result<bool> {
    let (cond, args) = where_clause(def, scope, q)?;
    let sql = format!("SELECT 1 FROM {} WHERE {cond} LIMIT 1", def.table_name());
    Ok(tx.fetch_opt(&sql, &args).await?.is_some())
}

/// Finds the record a natural key names (for re-imports). Unlike a form, a sheet leaves
/// optional key fields blank (发放类别 empty means 正常发放), so a blank key part matches a
/// record whose part is empty too; otherwise the same file imported twice would double its rows.
pub async fn find_by_natural_key(
    tx: &mut Tx,
    def: &LedgerDef,
    scope: &Scope,
    subject_id: Option<i64>,
    values: &Values,
) -> Result<Option<Record>> {
    if def.natural_key.is_empty() {
        return Ok(None);
    }
    let mut q = RecordQuery::default();
    let mut blank = Vec::new();
    for k in &def.natural_key {
        if k == "subject" {
            match subject_id {
                Some(s) => q.subject_id = Some(s),
                None => return Ok(None),
            }
        } else {
            match values.get(k) {
                Some(v) if !v.is_null() => q.equals.push((k.clone(), v.clone())),
                _ => blank.push(k.as_str()),
            }
        }
    }
    if q.equals.is_empty() && q.subject_id.is_none() {
        return Ok(None);
    }
    if blank.is_empty() {
        q.limit = Some(2);
    }
    let mut found: Vec<Record> = list(tx, def, scope, &q)
        .await?
        .into_iter()
        .filter(|r| blank.iter().all(|k| r.values.get(*k).is_none_or(Value::is_null)))
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(StoreError::Conflict(format!("「{}」中有多条记录的识别字段相同，无法确定要更新哪一条", def.name))),
    }
}

/// Open cases past a deadline on `today`, with the reason, oldest first.
pub async fn overdue(tx: &mut Tx, def: &LedgerDef, scope: &Scope, today: NaiveDate) -> Result<Vec<(Record, String)>> {
    let Some(wf) = &def.workflow else { return Ok(Vec::new()) };
    let mut states: Vec<&str> = wf.deadlines.iter().flat_map(|d| d.states.iter().map(String::as_str)).collect();
    states.sort_unstable();
    states.dedup();
    let mut out = Vec::new();
    for state in states {
        let q = RecordQuery { state: Some(state.to_string()), ..Default::default() };
        for r in list(tx, def, scope, &q).await? {
            let entered = r.state_since.unwrap_or(today);
            if let Some(reason) = overdue_reason(wf, state, &r.values, entered, today) {
                out.push((r, reason));
            }
        }
    }
    out.sort_by_key(|(r, _)| r.id);
    Ok(out)
}

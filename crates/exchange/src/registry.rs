//! Importing the registry: persons, their households and memberships.

use chrono::NaiveDate;
use taizhang_domain::registry::{validate_person, PersonInput};
use taizhang_domain::role::Actor;
use taizhang_domain::DomainError;
use taizhang_storage::{households, persons, places, Scope, StoreError, Tx};
use taizhang_tabular::{Cell, ColumnSpec, RawRow, Source};

use crate::convert::lookup_text;
use crate::import::{note_layout, savepoint, Columns, ImportReport, RowErrors, Verdict};
use crate::stream::{stream_rows, Chunk, RowStream};
use crate::Result;

const NAME: &str = "name";
const ID: &str = "id_number";
const VILLAGE: &str = "village";
const GROUP: &str = "group";
const ETHNICITY: &str = "ethnicity";
const PHONE: &str = "phone";
const HOUSEHOLD: &str = "household";
const RELATION: &str = "relation";
const SEQ: &str = "seq";

fn specs() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::new(NAME, &["姓名"]),
        ColumnSpec::new(ID, &["公民身份号码", "身份证号", "证件号码", "身份证号码"]),
        ColumnSpec::new(VILLAGE, &["所属村", "村", "村名"]),
        ColumnSpec::new(GROUP, &["组", "村民小组", "所属组"]),
        ColumnSpec::new(ETHNICITY, &["民族"]),
        ColumnSpec::new(PHONE, &["联系电话", "电话", "手机号码"]),
        ColumnSpec::new(HOUSEHOLD, &["户编号", "户号"]),
        ColumnSpec::new(RELATION, &["与户主关系"]),
        ColumnSpec::new(SEQ, &["序号"]),
    ]
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn import_persons(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    source: Source,
    sheet: &str,
    report: &mut ImportReport,
    progress: bool,
    today: NaiveDate,
) -> Result<()> {
    let mut stream = stream_rows(source, sheet.to_string(), specs(), progress);
    let imported = person_rows(tx, actor, scope, sheet, &mut stream, report, today).await;
    // The importer's own failure explains more than the reader's "stopped".
    let layout = stream.finish().await;
    let households_created = imported?;
    note_layout(report, &layout?);
    if households_created > 0 {
        report.warnings.push(format!("新建户 {households_created} 户"));
    }
    Ok(())
}

/// Each streamed row in turn; returns how many households were created.
async fn person_rows(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    sheet: &str,
    stream: &mut RowStream,
    report: &mut ImportReport,
    today: NaiveDate,
) -> Result<usize> {
    let mut cols: Option<Columns> = None;
    let mut households_created = 0;
    while let Some(chunk) = stream.rx.recv().await {
        match chunk {
            Chunk::Layout(layout) => cols = Some(Columns::new(specs(), &layout)),
            Chunk::Rows(rows) => {
                let cols = cols.as_ref().ok_or_else(|| crate::ExchangeError::Usage("读取文件时未先得到表头".into()))?;
                for row in &rows {
                    let (v, errs, new_household) = person_row(tx, actor, scope, sheet, row, cols, today).await?;
                    households_created += usize::from(new_household);
                    report.read += 1;
                    report.record(row.excel_row, v);
                    report.rejections.extend(errs);
                }
            }
        }
    }
    Ok(households_created)
}

fn text_of(cols: &Columns, row: &RawRow, key: &str) -> String {
    cols.index(key)
        .and_then(|i| row.cells.get(i))
        .map(|c| match c {
            Cell::Text(s) => s.trim().to_string(),
            c if c.is_blank() => String::new(),
            c => crate::convert::shown(c),
        })
        .unwrap_or_default()
}

async fn person_row(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    sheet: &str,
    row: &RawRow,
    cols: &Columns,
    today: NaiveDate,
) -> Result<(Verdict, Vec<crate::Rejection>, bool)> {
    let mut errs = RowErrors { sheet, row, cols, list: Vec::new() };
    let id_cell = cols.index(ID).and_then(|i| row.cells.get(i)).cloned().unwrap_or(Cell::Empty);
    let mut id_failed = false;
    let id_number = match lookup_text(&id_cell, true) {
        Ok(t) => t.unwrap_or_default(),
        Err(reason) => {
            errs.by_key(ID, reason);
            id_failed = true;
            String::new()
        }
    };
    let village = text_of(cols, row, VILLAGE);
    let group = text_of(cols, row, GROUP);
    let place_text = match (village.is_empty(), group.is_empty()) {
        (false, false) => format!("{village}/{group}"),
        (false, true) => village.clone(),
        (true, _) => String::new(),
    };
    let mut place_id = None;
    if place_text.is_empty() {
        errs.by_key(VILLAGE, "必须填写所属村");
    } else {
        match places::resolve(tx, scope, &place_text).await {
            Ok(p) => place_id = Some(p.id),
            Err(e) => {
                let key = if group.is_empty() { VILLAGE } else { GROUP };
                match e {
                    StoreError::NotFound(m) | StoreError::Conflict(m) => errs.by_key(key, m),
                    other => return Err(other.into()),
                }
            }
        }
    }
    let household = text_of(cols, row, HOUSEHOLD);
    let relation = text_of(cols, row, RELATION);
    if !household.is_empty() && relation.is_empty() {
        errs.by_key(RELATION, "填写了户编号时必须填写与户主关系");
    }
    if household.is_empty() && !relation.is_empty() {
        errs.by_key(HOUSEHOLD, "填写了与户主关系时必须填写户编号");
    }
    let input = PersonInput {
        name: text_of(cols, row, NAME),
        id_number: id_number.clone(),
        ethnicity: text_of(cols, row, ETHNICITY),
        phone: text_of(cols, row, PHONE),
        place_id: place_id.unwrap_or(0),
        ..Default::default()
    };
    let valid = if id_failed {
        None
    } else {
        match validate_person(&input, today) {
            Ok(p) => Some(p),
            Err(DomainError::Fields(list)) => {
                for fe in list {
                    let key = match fe.key.as_str() {
                        "name" => NAME,
                        "id_number" => ID,
                        "phone" => PHONE,
                        _ => "",
                    };
                    errs.by_key(key, fe.reason);
                }
                None
            }
            Err(e) => {
                errs.at(None, e.to_string());
                None
            }
        }
    };
    let (Some(newp), Some(_), true) = (valid, place_id, errs.list.is_empty()) else {
        return Ok((Verdict::Rejected, errs.list, false));
    };
    tx.exec_script("SAVEPOINT taizhang_row").await?;
    let r = write_person(tx, actor, scope, &newp, &household, &relation).await;
    match savepoint(tx, r).await? {
        Ok((v, h)) => Ok((v, Vec::new(), h)),
        Err(StoreError::Domain(DomainError::Fields(list))) => {
            for fe in list {
                let key = if fe.key == "relation" { RELATION } else if fe.key == "number" { HOUSEHOLD } else { "" };
                errs.by_key(key, fe.reason);
            }
            Ok((Verdict::Rejected, errs.list, false))
        }
        Err(e @ (StoreError::Database(_) | StoreError::Connect(_) | StoreError::Internal(_))) => Err(e.into()),
        Err(e) => {
            errs.at(None, e.to_string());
            Ok((Verdict::Rejected, errs.list, false))
        }
    }
}

/// Creates the person (or finds them unchanged) and puts them in their household.
async fn write_person(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    p: &taizhang_domain::registry::NewPerson,
    household: &str,
    relation: &str,
) -> Result<(Verdict, bool), StoreError> {
    let mut verdict = Verdict::Unchanged;
    let person = match persons::by_id_number(tx, scope, &p.id_number).await? {
        Some(existing) => {
            let mut diff = Vec::new();
            if existing.name != p.name {
                diff.push(format!("姓名（已登记为「{}」）", existing.name));
            }
            if !p.ethnicity.is_empty() && existing.ethnicity != p.ethnicity {
                diff.push(format!("民族（已登记为「{}」）", existing.ethnicity));
            }
            if !p.phone.is_empty() && existing.phone != p.phone {
                diff.push(format!("联系电话（已登记为「{}」）", existing.phone));
            }
            if existing.place_id != p.place_id {
                diff.push("所属村/组".to_string());
            }
            if !diff.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "身份证号 {} 已登记，但{}与表中不同；人员信息的修改请在人员库中办理",
                    p.id_number,
                    diff.join("、")
                )));
            }
            existing
        }
        None => {
            verdict = Verdict::New;
            persons::create(tx, actor, scope, p).await?
        }
    };
    let mut created = false;
    if !household.is_empty() {
        let relation = households::relation_for(&person, relation)?;
        let h = match households::by_number(tx, scope, household).await? {
            Some(h) => h,
            None => {
                created = true;
                households::create(tx, actor, scope, household, p.place_id).await?
            }
        };
        match person.household_id {
            Some(hid) if hid == h.id && person.relation.as_deref() == Some(relation) => {}
            Some(hid) if hid != h.id => {
                return Err(StoreError::Conflict(format!("此人已是另一户（户编号 {}）的成员", households::get(tx, scope, hid).await.map(|x| x.number).unwrap_or_else(|_| hid.to_string()))));
            }
            _ => {
                households::add_member(tx, actor, scope, h.id, person.id, relation).await?;
                if verdict == Verdict::Unchanged {
                    verdict = Verdict::Updated;
                }
            }
        }
    }
    Ok((verdict, created))
}

//! Importing the registry (花名册): persons, their status, their households and memberships.
//!
//! A row names its person by 公民身份号码. Someone not yet registered is created; someone
//! already registered is brought up to date through the same storage functions a clerk's form
//! uses, so every change is validated and audited with before and after:
//! - 姓名, 民族, 联系电话 that differ become a correction (`persons::correct`) whose reason names
//!   the file, so the audit says where the new value came from. A blank cell never clears.
//! - the status columns (人员状态, 死亡日期, 迁出日期, 迁出地 …, see `status`) become a status
//!   change (`persons::set_status`) unless the person already has that status on that date.
//! - 户编号 and 与户主关系 put the person into the household, or correct their relation.
//! - a different 所属村/组 is refused: a person's place changes with their household (整户迁移)
//!   or by leaving one household and joining another, never by a roster.
//!
//! Re-importing the same file finds everything as it is and writes nothing (未变).

mod batch;
mod cadres;
// Named apart from `taizhang_storage::households`, which this module uses.
#[path = "registry/households.rs"]
mod household_import;
mod orgs;
pub(crate) mod rows;
mod status;
pub(crate) mod templates;

use std::path::Path;

use chrono::NaiveDate;
use taizhang_domain::idcard::{parse_id_number, Sex};
use taizhang_domain::ident::IdentKind;
use taizhang_domain::place::{Place, PlaceLevel};
use taizhang_domain::registry::{validate_person, Household, NewPerson, Person, PersonInput};
use taizhang_domain::relation::HEAD;
use taizhang_domain::role::Actor;
use taizhang_domain::DomainError;
use taizhang_storage::{households, persons, places, Scope, StoreError, Tx};
use taizhang_tabular::{Cell, ColumnSpec, RawRow, SheetLayout, Source};

use crate::convert::ident_cell;
use crate::import::{note_layout, Columns, ImportReport, RowErrors, Verdict};
use crate::stream::{stream_rows, Chunk, RowStream};
use crate::Result;

const NAME: &str = "name";
const ID: &str = "id_number";
/// The head's ID number on a member's row: names the household, never the person.
const HEAD_ID: &str = "head_id_number";
/// The head's name: read for information only (the household is named by 户编号 or the head's
/// ID number), so a roster carrying it is not told of an unknown column.
const HEAD_NAME: &str = "head_name";
/// 出生日期: must be the birth date the ID number carries.
const BIRTH_DATE: &str = "birth_date";
const SEX: &str = "sex";
const VILLAGE: &str = "village";
const GROUP: &str = "group";
const ETHNICITY: &str = "ethnicity";
const PHONE: &str = "phone";
const HOUSEHOLD: &str = "household";
const RELATION: &str = "relation";
const STATUS: &str = "status";
const DEATH_DATE: &str = "death_date";
const MOVE_OUT_DATE: &str = "move_out_date";
const MOVE_OUT_PLACE: &str = "move_out_place";
const MOVE_IN_DATE: &str = "move_in_date";
const MOVE_IN_PLACE: &str = "move_in_place";
const STATUS_DATE: &str = "status_date";
const REASON: &str = "reason";
const NOTE: &str = "note";
const SEQ: &str = "seq";

/// The columns of a 花名册, with the headers the provincial systems (防返贫监测, 低保, 户籍
/// extracts) and the towns' own sheets use. Labels are matched whole, after removing spaces
/// and folding full-width characters, so 户主身份证号码 never reads as the person's number.
fn specs() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::new(NAME, &["姓名", "成员姓名", "人员姓名", "家庭成员姓名"]),
        ColumnSpec::new(
            ID,
            &[
                "公民身份号码",
                "身份证号",
                "证件号码",
                "身份证号码",
                "身份证件号码",
                "成员身份证号码",
                "证件号",
                "公民身份证号码",
                "公民身份证号",
                "成员证件号码",
            ],
        ),
        ColumnSpec::new(
            HEAD_ID,
            &["户主身份证号码", "户主身份证号", "户主公民身份号码", "户主证件号码", "户主身份证件号码", "户主公民身份证号码"],
        ),
        ColumnSpec::new(HEAD_NAME, &["户主姓名", "户主"]),
        ColumnSpec::new(BIRTH_DATE, &["出生日期", "出生年月日"]),
        ColumnSpec::new(SEX, &["性别"]),
        ColumnSpec::new(VILLAGE, &["所属村", "村", "村名", "行政村", "村（社区）", "所在村", "村社区"]),
        ColumnSpec::new(GROUP, &["组", "村民小组", "所属组", "组别", "小组"]),
        ColumnSpec::new(ETHNICITY, &["民族"]),
        ColumnSpec::new(PHONE, &["联系电话", "电话", "手机号码", "手机号", "联系方式", "手机"]),
        ColumnSpec::new(HOUSEHOLD, &["户编号", "户号", "家庭户号", "家庭编号", "户编码"]),
        ColumnSpec::new(RELATION, &["与户主关系", "家庭关系", "与户主的关系", "关系"]),
        ColumnSpec::new(STATUS, &["人员状态", "状态", "人口状态", "成员状态", "户籍状态"]),
        ColumnSpec::new(DEATH_DATE, &["死亡日期", "死亡时间", "去世日期"]),
        ColumnSpec::new(MOVE_OUT_DATE, &["迁出日期", "迁出时间"]),
        ColumnSpec::new(MOVE_OUT_PLACE, &["迁出地", "迁往", "迁往地", "迁往地址", "迁出去向", "去向"]),
        ColumnSpec::new(MOVE_IN_DATE, &["迁入日期", "迁入时间"]),
        ColumnSpec::new(MOVE_IN_PLACE, &["迁入地", "迁自", "迁入来源", "从何处迁入"]),
        ColumnSpec::new(STATUS_DATE, &["状态日期", "变更日期", "状态变更日期", "变动日期", "失联日期"]),
        ColumnSpec::new(REASON, &["变更原因", "状态变更原因", "变动原因", "死亡原因", "迁出原因", "原因"]),
        ColumnSpec::new(NOTE, &["备注"]),
        ColumnSpec::new(SEQ, &["序号"]),
    ]
}

/// What every row of the sheet shares: its columns, which of them the file has, and what the
/// audit says about where the changes came from.
struct Sheet<'a> {
    name: &'a str,
    cols: Columns,
    /// For each spec, whether the file has a column for it.
    bound: Vec<bool>,
    /// "花名册导入「花名册.xlsx」工作表「人员」": the reason given for corrections and status
    /// changes, so each audit entry names its source.
    source: String,
    /// Places resolved so far (`Sheet::place`).
    places: batch::PlaceCache,
}

impl Sheet<'_> {
    fn has(&self, key: &str) -> bool {
        self.cols.index(key).is_some_and(|i| self.bound.get(i).copied().unwrap_or(false))
    }

    fn cell<'r>(&self, row: &'r RawRow, key: &str) -> &'r Cell {
        self.cols.index(key).and_then(|i| row.cells.get(i)).unwrap_or(&Cell::Empty)
    }

    fn text(&self, row: &RawRow, key: &str) -> String {
        match self.cell(row, key) {
            Cell::Text(s) => s.trim().to_string(),
            c if c.is_blank() => String::new(),
            c => crate::convert::shown(c),
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn import_persons(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    source: Source,
    sheet: &str,
    report: &mut ImportReport,
    source_name: Option<&str>,
    progress: bool,
    today: NaiveDate,
) -> Result<()> {
    let mut stream = stream_rows(source, sheet.to_string(), specs(), progress);
    // An upload is kept under a temporary name: the reason names the file the clerk chose.
    let file = source_name.map_or_else(|| report.file.clone(), std::path::PathBuf::from);
    let origin = source_reason(&file, sheet);
    let imported = person_rows(tx, actor, scope, sheet, &origin, &mut stream, report, today).await;
    // The importer's own failure explains more than the reader's "stopped".
    let layout = stream.finish().await;
    let households_created = imported?;
    note_layout(report, &layout?);
    if households_created > 0 {
        report.warnings.push(format!("新建户 {households_created} 户"));
    }
    Ok(())
}

/// The reason corrections and status changes carry: the file, and the sheet of a workbook.
fn source_reason(file: &Path, sheet: &str) -> String {
    let name = file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        format!("花名册导入「{name}」")
    } else {
        format!("花名册导入「{name}」工作表「{sheet}」")
    }
}

fn bound_specs(specs_len: usize, layout: &SheetLayout) -> Vec<bool> {
    let mut bound = vec![false; specs_len];
    for b in &layout.columns {
        if let Some(slot) = bound.get_mut(b.spec) {
            *slot = true;
        }
    }
    bound
}

/// Each streamed row in turn; returns how many households were created.
#[allow(clippy::too_many_arguments)]
async fn person_rows(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    sheet_name: &str,
    origin: &str,
    stream: &mut RowStream,
    report: &mut ImportReport,
    today: NaiveDate,
) -> Result<usize> {
    let mut sheet: Option<Sheet<'_>> = None;
    let mut households_created = 0;
    // Rows whose ID number was read differently from how it was written (15 digits).
    let mut noted = 0usize;
    while let Some(chunk) = stream.rx.recv().await {
        match chunk {
            Chunk::Layout(layout) => {
                let specs = specs();
                let bound = bound_specs(specs.len(), &layout);
                sheet = Some(Sheet { name: sheet_name, cols: Columns::new(specs, &layout), bound, source: origin.to_string(), places: Default::default() });
            }
            Chunk::Rows(rows) => {
                let sheet = sheet.as_ref().ok_or_else(|| crate::ExchangeError::Usage("读取文件时未先得到表头".into()))?;
                let mut batch = batch::Batch::new(tx, scope, sheet, &rows, today).await?;
                for row in &rows {
                    if let Some((kind, text)) = crate::nondata::classify(row, sheet.cols.index(ID)) {
                        report.skip_row(sheet_name, row.excel_row, kind.label(), &text);
                        continue;
                    }
                    let mut notes = Vec::new();
                    let (v, errs, new_household) = match batch.next(tx, actor, scope, sheet, row).await? {
                        Some(decided) => decided,
                        None => person_row(tx, actor, scope, sheet, row, &mut notes, today).await?,
                    };
                    if v != Verdict::Rejected {
                        for n in notes {
                            noted += 1;
                            if noted <= MAX_NOTES {
                                report.warnings.push(format!("第 {} 行：{n}", row.excel_row));
                            }
                        }
                    }
                    households_created += usize::from(new_household);
                    report.read += 1;
                    report.record(row.excel_row, v);
                    report.rejections.extend(errs);
                }
                batch.flush(tx, actor, sheet).await?;
            }
        }
    }
    if noted > MAX_NOTES {
        report.warnings.push(format!("另有 {} 行的 15 位旧身份证号已转换为 18 位", noted - MAX_NOTES));
    }
    Ok(households_created)
}

/// How many notes on converted ID numbers the report lists one by one.
const MAX_NOTES: usize = 20;

/// Why a row's write was refused: reasons by column key ("" for the row as a whole), or a
/// storage error that stops the whole import (database gone) or names no column.
enum Refusal {
    Columns(Vec<(&'static str, String)>),
    Store(StoreError),
}

impl Refusal {
    fn at(key: &'static str, reason: impl Into<String>) -> Refusal {
        Refusal::Columns(vec![(key, reason.into())])
    }

    /// A domain refusal mapped onto the sheet's columns by the field keys it names; other
    /// refusals (a conflict, a stale version) onto `conflict_key`.
    fn mapped(e: StoreError, fields: &[(&str, &'static str)], conflict_key: &'static str) -> Refusal {
        match e {
            StoreError::Domain(DomainError::Fields(list)) => Refusal::Columns(
                list.into_iter()
                    .map(|fe| {
                        let key = fields.iter().find(|(f, _)| *f == fe.key).map_or("", |(_, k)| *k);
                        // Without a column the reason alone would not say which value it is about.
                        let reason = if key.is_empty() { fe.to_string() } else { fe.reason };
                        (key, reason)
                    })
                    .collect(),
            ),
            StoreError::Conflict(m) if !conflict_key.is_empty() => Refusal::at(conflict_key, m),
            other => Refusal::Store(other),
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        Refusal::Store(e)
    }
}

/// Everything a row says, read and checked before the database is asked.
struct PersonRow {
    person: NewPerson,
    /// The place the row names (村 or 村/组), if it names one.
    place: Option<Place>,
    /// Which column the place came from, for messages: 组 when given, else 村.
    place_key: &'static str,
    household: String,
    /// The head's ID number, normalised.
    head_id: Option<String>,
    relation: String,
    wanted: Option<status::Wanted>,
}

#[allow(clippy::too_many_arguments)]
async fn person_row(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    sheet: &Sheet<'_>,
    row: &RawRow,
    notes: &mut Vec<String>,
    today: NaiveDate,
) -> Result<(Verdict, Vec<crate::Rejection>, bool)> {
    let mut errs = RowErrors { sheet: sheet.name, row, cols: &sheet.cols, list: Vec::new() };
    let Some(input) = read_row(tx, scope, sheet, row, &mut errs, today).await? else {
        return Ok((Verdict::Rejected, errs.list, false));
    };
    notes.extend(input.person.warnings.iter().cloned());
    let existing = persons::by_id_number(tx, scope, &input.person.id_number).await?;
    if existing.is_none() && input.place.is_none() {
        errs.by_key(VILLAGE, "新登记的人员必须填写所属村");
        return Ok((Verdict::Rejected, errs.list, false));
    }
    tx.exec_script("SAVEPOINT taizhang_row").await?;
    let r = write_person(tx, actor, scope, sheet, &input, existing, today).await;
    match &r {
        Ok(_) => tx.exec_script("RELEASE SAVEPOINT taizhang_row").await?,
        // PostgreSQL aborts a transaction on any failed statement; the savepoint also undoes
        // the half of the row that was written (a person created before their status failed).
        Err(_) => tx.exec_script("ROLLBACK TO SAVEPOINT taizhang_row; RELEASE SAVEPOINT taizhang_row").await?,
    }
    match r {
        Ok((v, created)) => Ok((v, Vec::new(), created)),
        Err(Refusal::Columns(list)) => {
            for (key, reason) in list {
                errs.by_key(key, reason);
            }
            Ok((Verdict::Rejected, errs.list, false))
        }
        Err(Refusal::Store(
            e @ (StoreError::Database(_) | StoreError::Connect(_) | StoreError::Internal(_) | StoreError::NewerDatabase(_)),
        )) => Err(e.into()),
        Err(Refusal::Store(e)) => {
            errs.at(None, e.to_string());
            Ok((Verdict::Rejected, errs.list, false))
        }
    }
}

/// Reads and checks the row's cells; `None` when anything is wrong (the reasons are in `errs`).
async fn read_row(
    tx: &mut Tx,
    scope: &Scope,
    sheet: &Sheet<'_>,
    row: &RawRow,
    errs: &mut RowErrors<'_>,
    today: NaiveDate,
) -> Result<Option<PersonRow>> {
    let mut id_failed = false;
    // The one normaliser (full-width, spaces, apostrophe, lower-case x, 15 digits) runs in
    // `validate_person`; a number cell or Excel's float text is refused here.
    let id_number = match ident_cell(sheet.cell(row, ID), IdentKind::IdNumber.noun()) {
        Ok(t) => t.unwrap_or_default(),
        Err(reason) => {
            errs.by_key(ID, reason);
            id_failed = true;
            String::new()
        }
    };
    let village = sheet.text(row, VILLAGE);
    let group = sheet.text(row, GROUP);
    let place_key = if group.is_empty() { VILLAGE } else { GROUP };
    let place_text = match (village.is_empty(), group.is_empty()) {
        (false, false) => format!("{village}/{group}"),
        (false, true) => village.clone(),
        (true, true) => String::new(),
        (true, false) => {
            errs.by_key(VILLAGE, "填写了组时必须填写所属村");
            String::new()
        }
    };
    let mut place = None;
    if !place_text.is_empty() {
        match sheet.place(tx, scope, &place_text).await {
            Ok(p) => place = Some(p),
            Err(StoreError::NotFound(m) | StoreError::Conflict(m)) => errs.by_key(place_key, m),
            Err(other) => return Err(other.into()),
        }
    }
    let household = match ident_cell(sheet.cell(row, HOUSEHOLD), "户编号") {
        Ok(t) => t.unwrap_or_default(),
        Err(reason) => {
            errs.by_key(HOUSEHOLD, reason);
            String::new()
        }
    };
    let phone = match ident_cell(sheet.cell(row, PHONE), "联系电话") {
        Ok(t) => t.unwrap_or_default(),
        Err(reason) => {
            errs.by_key(PHONE, reason);
            String::new()
        }
    };
    let relation = sheet.text(row, RELATION);
    let head_id = match ident_cell(sheet.cell(row, HEAD_ID), IdentKind::IdNumber.noun()) {
        Ok(Some(t)) => match parse_id_number(&t, today) {
            Ok(p) => Some(p.number),
            Err(e) => {
                errs.by_key(HEAD_ID, e.to_string());
                None
            }
        },
        Ok(None) => None,
        Err(reason) => {
            errs.by_key(HEAD_ID, reason);
            None
        }
    };
    // A household column filled but refused above still names a household: no second reason.
    let household_given = !sheet.cell(row, HOUSEHOLD).is_blank();
    let names_household = household_given || !sheet.cell(row, HEAD_ID).is_blank();
    if names_household && relation.is_empty() {
        let which = if household_given { "户编号" } else { "户主身份证号码" };
        errs.by_key(RELATION, format!("填写了{which}时必须填写与户主关系"));
    }
    if !names_household && !relation.is_empty() {
        errs.by_key(HOUSEHOLD, "填写了与户主关系时必须填写户编号（或户主身份证号码）");
    }
    let sex = match sheet.text(row, SEX).as_str() {
        "" => None,
        "男" | "男性" | "1" => Some(Sex::Male),
        "女" | "女性" | "2" => Some(Sex::Female),
        other => {
            errs.by_key(SEX, format!("「{other}」不是性别，请填「男」或「女」"));
            None
        }
    };
    let wanted = status::read(sheet, row, errs);
    let input = PersonInput {
        name: sheet.text(row, NAME),
        id_number,
        ethnicity: sheet.text(row, ETHNICITY),
        phone,
        place_id: place.as_ref().map_or(0, |p| p.id),
        ..Default::default()
    };
    let person = if id_failed {
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
    // The ID number decides sex (and so words like 子女); a 性别 column that disagrees means
    // one of the two was keyed wrong, and guessing which would file the person wrongly.
    if let (Some(p), Some(s)) = (&person, sex) {
        if p.sex != s {
            errs.by_key(SEX, format!("与公民身份号码所示的性别「{}」不同，请核对身份证号码", p.sex.label()));
        }
    }
    // So does the birth date: a 出生日期 column that disagrees names both.
    if let (Some(p), Some(b)) = (&person, status::date_in(sheet, row, BIRTH_DATE, errs)) {
        if p.birth_date != b {
            errs.by_key(
                BIRTH_DATE,
                format!("出生日期 {b} 与公民身份号码 {} 所示的出生日期 {} 不同，请核对哪一个填错了", p.id_number, p.birth_date),
            );
        }
    }
    let Some(person) = person.filter(|_| errs.list.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(PersonRow { person, place, place_key, household, head_id, relation, wanted }))
}

/// Creates the person or brings them up to date, records their status, and puts them in their
/// household. Returns the verdict and whether a household was created.
async fn write_person(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    sheet: &Sheet<'_>,
    row: &PersonRow,
    existing: Option<Person>,
    today: NaiveDate,
) -> std::result::Result<(Verdict, bool), Refusal> {
    let is_new = existing.is_none();
    let mut changed = false;
    let mut person = match existing {
        Some(p) => {
            check_place(tx, &p, row).await?;
            let (p, corrected) = correct(tx, actor, scope, sheet, p, &row.person, today).await?;
            changed |= corrected;
            p
        }
        None => {
            let mut new = row.person.clone();
            new.place_id = row.place.as_ref().map_or(0, |p| p.id);
            persons::create(tx, actor, scope, &new).await.map_err(|e| Refusal::mapped(e, &[], ID))?
        }
    };
    if let Some(w) = &row.wanted {
        if let Some(change) = status::plan(&person, w, is_new, &sheet.source)? {
            person = persons::set_status(tx, actor, scope, person.id, person.row_version, &change, today)
                .await
                .map_err(|e| status::refusal(e, w))?;
            changed = true;
        }
    }
    let mut created = false;
    if let Some((h, new_household)) = household_of(tx, actor, scope, row, &person).await? {
        created = new_household;
        changed |= join_household(tx, actor, scope, row, &person, &h, today).await?;
    }
    let verdict = if is_new {
        Verdict::New
    } else if changed {
        Verdict::Updated
    } else {
        Verdict::Unchanged
    };
    Ok((verdict, created))
}

/// A roster may name the village of someone registered in one of its groups (less precise,
/// not different); any other place is a move, which a roster does not make.
async fn check_place(tx: &mut Tx, p: &Person, row: &PersonRow) -> std::result::Result<(), Refusal> {
    let Some(given) = &row.place else { return Ok(()) };
    let stored = places::get(tx, p.place_id).await?;
    if given.id == stored.id || given.contains(&stored) {
        return Ok(());
    }
    let stored_name = place_label(tx, &stored).await?;
    Err(Refusal::at(
        row.place_key,
        format!(
            "所属村/组与已登记的「{stored_name}」不同；花名册导入不改变人员的村组。整户迁往他村他组请在户页面办理「整户迁移」，\
             个人迁往他户请先办理「成员迁出」再加入新户"
        ),
    ))
}

/// "坪溪村/一组" for a group, the name for anything else.
async fn place_label(tx: &mut Tx, p: &Place) -> std::result::Result<String, StoreError> {
    match (p.level, p.parent_id) {
        (PlaceLevel::Group, Some(parent)) => Ok(format!("{}/{}", places::get(tx, parent).await?.name, p.name)),
        _ => Ok(p.name.clone()),
    }
}

/// Applies the differences in 姓名, 民族 and 联系电话 as one correction; blank cells change
/// nothing. Returns the person as they are now and whether anything was corrected.
async fn correct(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    sheet: &Sheet<'_>,
    p: Person,
    given: &NewPerson,
    today: NaiveDate,
) -> std::result::Result<(Person, bool), Refusal> {
    let mut changes = Vec::new();
    if given.name != p.name {
        changes.push(("name".to_string(), given.name.clone()));
    }
    if !given.ethnicity.is_empty() && given.ethnicity != p.ethnicity {
        changes.push(("ethnicity".to_string(), given.ethnicity.clone()));
    }
    if !given.phone.is_empty() && given.phone != p.phone {
        changes.push(("phone".to_string(), given.phone.clone()));
    }
    if changes.is_empty() {
        return Ok((p, false));
    }
    let fields = [("name", NAME), ("ethnicity", ETHNICITY), ("phone", PHONE), ("id_number", ID)];
    let after = persons::correct(tx, actor, scope, p.id, p.row_version, &changes, &sheet.source, today)
        .await
        .map_err(|e| Refusal::mapped(e, &fields, ""))?;
    Ok((after, true))
}

/// The household the row puts the person in: by 户编号 (created when new), or else by the
/// head's ID number (the household the head is in). Returns it and whether it was created.
async fn household_of(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    row: &PersonRow,
    person: &Person,
) -> std::result::Result<Option<(Household, bool)>, Refusal> {
    if !row.household.is_empty() {
        return Ok(Some(match households::by_number(tx, scope, &row.household).await? {
            Some(h) => (h, false),
            None => {
                let h = households::create(tx, actor, scope, &row.household, person.place_id)
                    .await
                    .map_err(|e| Refusal::mapped(e, &[("number", HOUSEHOLD)], HOUSEHOLD))?;
                (h, true)
            }
        }));
    }
    let Some(head_id) = &row.head_id else { return Ok(None) };
    if *head_id == person.id_number {
        return match person.household_id {
            Some(hid) => Ok(Some((households::get(tx, scope, hid).await?, false))),
            None => Err(Refusal::at(HOUSEHOLD, "此人是户主，尚不属于任何户：新建户必须填写户编号")),
        };
    }
    let Some(head) = persons::by_id_number(tx, scope, head_id).await? else {
        return Err(Refusal::at(
            HEAD_ID,
            format!("户主（公民身份号码 {head_id}）尚未登记；请把户主所在行放在本户成员之前，或填写户编号"),
        ));
    };
    match head.household_id {
        Some(hid) => Ok(Some((households::get(tx, scope, hid).await?, false))),
        None => Err(Refusal::at(HEAD_ID, format!("「{}」尚不属于任何户，不能据此认出户；请填写户编号", head.name))),
    }
}

/// Puts the person into `h` with the row's relation, or corrects their relation there.
/// Returns whether anything was written.
async fn join_household(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    row: &PersonRow,
    person: &Person,
    h: &Household,
    today: NaiveDate,
) -> std::result::Result<bool, Refusal> {
    let relation = households::relation_for(person, &row.relation).map_err(|e| Refusal::mapped(e, &[("relation", RELATION)], RELATION))?;
    if let Some(head_id) = &row.head_id {
        if *head_id == person.id_number && relation != HEAD {
            return Err(Refusal::at(RELATION, format!("户主身份证号码就是本人，与户主关系应为「户主」，表中为「{relation}」")));
        }
        if let Some(head) = h.head_person_id.filter(|id| *id != person.id) {
            let head = persons::get(tx, scope, head).await?;
            if head.id_number != *head_id {
                return Err(Refusal::at(
                    HEAD_ID,
                    format!("户 {} 的户主是「{}」（公民身份号码 {}），与表中的户主身份证号码不同", h.number, head.name, head.id_number),
                ));
            }
        }
    }
    let conflict = |e| Refusal::mapped(e, &[("relation", RELATION)], RELATION);
    match person.household_id {
        Some(hid) if hid == h.id => {
            if person.relation.as_deref() == Some(relation) {
                return Ok(false);
            }
            households::set_relation(tx, actor, scope, person.id, relation, today).await.map_err(conflict)?;
        }
        Some(other) => {
            let number = households::get(tx, scope, other).await.map_or_else(|_| other.to_string(), |x| x.number);
            return Err(Refusal::at(
                HOUSEHOLD,
                format!("此人已是户 {number} 的成员；转入户 {} 须先在户 {number} 办理「成员迁出」（婚出、分户等）", h.number),
            ));
        }
        None => households::add_member(tx, actor, scope, h.id, person.id, relation).await.map_err(conflict)?,
    }
    Ok(true)
}

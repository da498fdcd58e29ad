//! Persons (人员): one person, one record, recognised by 公民身份号码.

use chrono::NaiveDate;
use serde_json::json;
use taizhang_domain::idcard::Sex;
use taizhang_domain::masking::IdSearch;
use taizhang_domain::registry::{correct_person, validate_status_change, NewPerson, Person, PersonStatus, StatusChangeInput};
use taizhang_domain::role::Actor;

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::sql::{Arg, Row};

pub(crate) const COLUMNS: &str = "p.id, p.name, p.id_number, p.sex, p.birth_date, p.ethnicity, p.phone, p.status, \
     p.status_date, p.place_id, p.household_id, p.relation, p.row_version, p.status_reason, p.status_place";

pub(crate) fn from_row(r: &Row) -> Person {
    Person {
        id: r.int(0),
        name: r.text(1),
        id_number: r.text(2),
        sex: if r.text(3) == "male" { Sex::Male } else { Sex::Female },
        birth_date: r.opt_date(4).unwrap_or_default(),
        ethnicity: r.text(5),
        phone: r.text(6),
        status: PersonStatus::parse(&r.text(7)).unwrap_or_default(),
        status_date: r.opt_date(8),
        place_id: r.int(9),
        household_id: r.opt_int(10),
        relation: r.opt_text(11),
        row_version: r.int(12),
        status_reason: r.text(13),
        status_place: r.text(14),
    }
}

fn sex_key(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

/// Registers a person. A second record with the same ID number is refused; the message
/// names the existing person only when the caller may see them.
pub async fn create(tx: &mut Tx, actor: &Actor, scope: &Scope, p: &NewPerson) -> Result<Person> {
    scope.require_place(tx, p.place_id, "所属地点").await?;
    if let Some(existing) = by_id_number_unscoped(tx, &p.id_number).await? {
        return Err(StoreError::Conflict(if scope.contains_place(tx, existing.place_id).await? {
            format!("公民身份号码 {} 已登记为「{}」（人员编号 {}），不能重复登记", p.id_number, existing.name, existing.id)
        } else {
            format!("公民身份号码 {} 已在系统中登记（不在您的管辖范围内），请联系镇管理员核实", p.id_number)
        }));
    }
    let now = crate::now();
    let id = tx
        .insert(
            "INSERT INTO persons (name, id_number, sex, birth_date, ethnicity, phone, status, status_date, place_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            &[
                (&p.name).into(),
                (&p.id_number).into(),
                sex_key(p.sex).into(),
                p.birth_date.into(),
                (&p.ethnicity).into(),
                (&p.phone).into(),
                p.status.key().into(),
                p.status_date.into(),
                Arg::Int(p.place_id),
                Arg::Time(now),
            ],
        )
        .await?;
    let person = get_unscoped(tx, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "create",
            entity: "persons",
            entity_id: Some(id),
            place_id: Some(person.place_id),
            before: None,
            after: Some(json!(person)),
            note: &p.warnings.join("；"),
        },
    )
    .await?;
    Ok(person)
}

pub(crate) async fn get_unscoped(tx: &mut Tx, id: i64) -> Result<Person> {
    tx.fetch_opt(&format!("SELECT {COLUMNS} FROM persons p WHERE p.id = $1"), &[Arg::Int(id)])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound("人员不存在或不在您的管辖范围内".into()))
}

pub(crate) async fn by_id_number_unscoped(tx: &mut Tx, id_number: &str) -> Result<Option<Person>> {
    Ok(tx
        .fetch_opt(&format!("SELECT {COLUMNS} FROM persons p WHERE p.id_number = $1"), &[id_number.into()])
        .await?
        .map(|r| from_row(&r)))
}

pub async fn get(tx: &mut Tx, scope: &Scope, id: i64) -> Result<Person> {
    let sql = format!("SELECT {COLUMNS} FROM persons p WHERE p.id = $1 AND {}", scope.condition("p.place_id", 2));
    tx.fetch_opt(&sql, &[Arg::Int(id), scope.arg()])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound("人员不存在或不在您的管辖范围内".into()))
}

pub async fn by_id_number(tx: &mut Tx, scope: &Scope, id_number: &str) -> Result<Option<Person>> {
    let sql = format!("SELECT {COLUMNS} FROM persons p WHERE p.id_number = $1 AND {}", scope.condition("p.place_id", 2));
    Ok(tx.fetch_opt(&sql, &[id_number.into(), scope.arg()]).await?.map(|r| from_row(&r)))
}

/// Search within scope, as `masking::id_search` reads the text: a name by substring (the text
/// taken literally: `%` and `_` are not wildcards), an ID number by the whole number or exactly
/// its last `masking::SUFFIX_LEN` characters. A number that is neither finds nobody.
pub async fn search(tx: &mut Tx, scope: &Scope, query: &IdSearch, limit: i64) -> Result<Vec<Person>> {
    let (condition, arg) = match query {
        // An empty name: everyone in scope (the console's `person search ""`).
        IdSearch::Name(name) => ("p.name LIKE $2 ESCAPE '\\'", format!("%{}%", escape_like(name))),
        IdSearch::Whole(number) => ("p.id_number = $2", number.clone()),
        // Only digits and X: nothing in it is a wildcard.
        IdSearch::Suffix(end) => ("p.id_number LIKE $2", format!("%{end}")),
        IdSearch::Refused(_) => return Ok(Vec::new()),
    };
    let select = format!("SELECT {COLUMNS} FROM persons p WHERE {} AND {condition}", scope.condition("p.place_id", 1));
    let sql = if crate::places::gather_first(tx, scope).await? {
        format!("{} LIMIT $3", crate::places::scope_first(&select, "name, id"))
    } else {
        format!("{select} ORDER BY p.name, p.id LIMIT $3")
    };
    let rows = tx.fetch(&sql, &[scope.arg(), arg.into(), Arg::Int(limit)]).await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Text for a `LIKE … ESCAPE '\'` pattern that matches it literally.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub async fn count(tx: &mut Tx, scope: &Scope) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM persons p WHERE {}", scope.condition("p.place_id", 1));
    Ok(tx.fetch_one(&sql, &[scope.arg()]).await?.int(0))
}

/// Records a change of status (death, move out or in, lost contact, back to normal) with its
/// date, reason and place, if the person is still at `expected_version`.
pub async fn set_status(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    expected_version: i64,
    change: &StatusChangeInput,
    today: NaiveDate,
) -> Result<Person> {
    let before = get(tx, scope, id).await?;
    stale_check(&before, expected_version)?;
    validate_status_change(&before, change, today)?;
    let status = change.change.status();
    tx.exec(
        "UPDATE persons SET status = $1, status_date = $2, status_reason = $3, status_place = $4,
         row_version = row_version + 1, updated_at = $5 WHERE id = $6 AND row_version = $7",
        &[
            status.key().into(),
            change.date.into(),
            change.reason.trim().into(),
            change.place_text.trim().into(),
            Arg::Time(crate::now()),
            Arg::Int(id),
            Arg::Int(expected_version),
        ],
    )
    .await?;
    let after = get(tx, scope, id).await?;
    let mut note = format!("状态变更：{}", change.change.label());
    if let Some(d) = change.date {
        note.push_str(&format!("（{d}）"));
    }
    if let Some(label) = change.change.place_label() {
        note.push_str(&format!("，{label}：{}", change.place_text.trim()));
    }
    if !change.reason.trim().is_empty() {
        note.push_str(&format!("，原因：{}", change.reason.trim()));
    }
    audit_change(tx, actor, "status", &before, &after, &note).await?;
    Ok(after)
}

/// The audit entry of a change to a person: before and after, and what happened in words.
pub(crate) async fn audit_change(tx: &mut Tx, actor: &Actor, action: &str, before: &Person, after: &Person, note: &str) -> Result<()> {
    audit::append(
        tx,
        actor,
        Change {
            action,
            entity: "persons",
            entity_id: Some(after.id),
            place_id: Some(after.place_id),
            before: Some(json!(before)),
            after: Some(json!(after)),
            note,
        },
    )
    .await
}

fn stale_check(current: &Person, expected_version: i64) -> Result<()> {
    if current.row_version == expected_version {
        Ok(())
    } else {
        Err(StoreError::Stale(format!(
            "「{}」的信息已被他人修改（当前版本 {}，您看到的是 {expected_version}），请刷新后再改",
            current.name, current.row_version
        )))
    }
}

/// Corrects a person's attributes (姓名, 公民身份号码, 民族, 联系电话). A new ID number must not
/// belong to someone else; sex and birth date follow it. Audited with before and after and the
/// reason, which a change of name or ID number must give.
#[allow(clippy::too_many_arguments)]
pub async fn correct(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    expected_version: i64,
    changes: &[(String, String)],
    reason: &str,
    today: NaiveDate,
) -> Result<Person> {
    let before = get(tx, scope, id).await?;
    stale_check(&before, expected_version)?;
    let p = correct_person(&before, changes, reason, today)?;
    if p.id_number != before.id_number {
        if let Some(other) = by_id_number_unscoped(tx, &p.id_number).await? {
            return Err(StoreError::Conflict(if scope.contains_place(tx, other.place_id).await? {
                format!("公民身份号码 {} 已登记为「{}」（人员编号 {}），不能改成这个号码", p.id_number, other.name, other.id)
            } else {
                format!("公民身份号码 {} 已在系统中登记（不在您的管辖范围内），请联系镇管理员核实", p.id_number)
            }));
        }
    }
    if p.name == before.name && p.id_number == before.id_number && p.ethnicity == before.ethnicity && p.phone == before.phone {
        return Ok(before);
    }
    tx.exec(
        "UPDATE persons SET name = $1, id_number = $2, sex = $3, birth_date = $4, ethnicity = $5, phone = $6,
         row_version = row_version + 1, updated_at = $7 WHERE id = $8 AND row_version = $9",
        &[
            (&p.name).into(),
            (&p.id_number).into(),
            sex_key(p.sex).into(),
            p.birth_date.into(),
            (&p.ethnicity).into(),
            (&p.phone).into(),
            Arg::Time(crate::now()),
            Arg::Int(id),
            Arg::Int(expected_version),
        ],
    )
    .await?;
    let after = get(tx, scope, id).await?;
    let mut note = String::from("信息更正");
    if !reason.trim().is_empty() {
        note.push_str(&format!("，原因：{}", reason.trim()));
    }
    for w in &p.warnings {
        note.push_str(&format!("；{w}"));
    }
    audit_change(tx, actor, "update", &before, &after, &note).await?;
    Ok(after)
}

//! Turning what a person writes for a reference (an ID number, a household number, a cadre's
//! name, a place code) into the id it names, within the caller's scope. Forms, the CLI and
//! imports share this, so they accept the same things. ID numbers, 户编号 and USCCs are looked
//! up by what the one normaliser (`domain::ident`) makes of them: full-width digits, spaces
//! inside, a leading apostrophe, a lower-case x and 15-digit ID numbers find the same record.

use chrono::NaiveDate;
use taizhang_domain::idcard::is_excel_number_form;
use taizhang_domain::ident::{self, IdentKind};
use taizhang_domain::ledger::RefTarget;

use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::sql::Arg;
use crate::{households, orgs, persons, places};

/// What a stored reference shows instead of its id: a person's name, a household's 户编号, a
/// cadre's, an organisation's or a place's name; `None` when the id names nothing the scope
/// reaches (a record of a ledger, too, is shown by its number).
pub async fn label(tx: &mut Tx, scope: &Scope, target: &RefTarget, id: i64) -> Result<Option<String>> {
    let found = match target {
        RefTarget::Person => persons::get(tx, scope, id).await.map(|p| p.name),
        RefTarget::Household => households::get(tx, scope, id).await.map(|h| h.number),
        RefTarget::Cadre => return Ok(tx.fetch_opt("SELECT name FROM cadres WHERE id = $1", &[Arg::Int(id)]).await?.map(|r| r.text(0))),
        RefTarget::Organisation => return Ok(tx.fetch_opt("SELECT name FROM organisations WHERE id = $1", &[Arg::Int(id)]).await?.map(|r| r.text(0))),
        RefTarget::Place => places::get(tx, id).await.map(|p| p.name),
        RefTarget::Ledger(_) => return Ok(None),
    };
    match found {
        Ok(name) => Ok(Some(name)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn resolve(tx: &mut Tx, scope: &Scope, target: &RefTarget, text: &str) -> Result<i64> {
    let t = text.trim();
    if let Some(id) = t.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
        return Ok(id);
    }
    match target {
        RefTarget::Person => {
            // Typed as it may be (full-width, spaces inside, 15 digits, a lower-case x): the
            // one normaliser makes it the number stored. One that fails its checks cannot be
            // anyone's, and the reason helps more than "not found".
            let number = match ident::normalise(IdentKind::IdNumber, t, NaiveDate::MAX) {
                Ok(n) => n.text,
                Err(reason) if is_excel_number_form(&ident::clean(t)) => return Err(StoreError::NotFound(reason)),
                Err(reason) => return Err(StoreError::NotFound(format!("{reason}（所填为「{t}」）"))),
            };
            persons::by_id_number(tx, scope, &number)
                .await?
                .map(|p| p.id)
                .ok_or_else(|| StoreError::NotFound(format!("身份证号 {number} 的人员未在人员库登记，或不在您的管辖范围内")))
        }
        RefTarget::Household => {
            let code = ident::clean(t);
            if is_excel_number_form(&code) {
                return Err(StoreError::NotFound(ident::excel_number_reason("户编号", &code)));
            }
            if let Some(h) = households::by_number(tx, scope, &code).await? {
                return Ok(h.id);
            }
            // A number stored before it was normalised (spaces inside) is still found.
            if code != t {
                if let Some(h) = households::by_number(tx, scope, t).await? {
                    return Ok(h.id);
                }
            }
            // A household may also be named by its head's ID number.
            let number = ident::lookup_key(IdentKind::IdNumber, t);
            let p = persons::by_id_number(tx, scope, &number).await?;
            p.and_then(|p| p.household_id)
                .ok_or_else(|| StoreError::NotFound(format!("户「{t}」不存在（可填户编号或户主身份证号），或不在您的管辖范围内")))
        }
        RefTarget::Cadre => {
            let found = orgs::cadre_by_name(tx, t).await?;
            match found.len() {
                1 => Ok(found[0].id),
                0 => Err(StoreError::NotFound(format!("干部「{t}」未登记"))),
                n => Err(StoreError::Conflict(format!("有 {n} 名干部叫「{t}」，请写成 #编号"))),
            }
        }
        RefTarget::Organisation => {
            let mut found = orgs::org_by_name_or_code(tx, t).await?;
            // A 统一社会信用代码 typed with spaces or in full-width characters.
            let code = ident::lookup_key(IdentKind::Uscc, t);
            if found.is_empty() && code != t {
                found = orgs::org_by_name_or_code(tx, &code).await?;
            }
            match found.len() {
                1 => Ok(found[0].id),
                0 => Err(StoreError::NotFound(format!("单位「{t}」未登记"))),
                n => Err(StoreError::Conflict(format!("有 {n} 个单位叫「{t}」，请填统一社会信用代码"))),
            }
        }
        RefTarget::Place => Ok(places::resolve(tx, scope, t).await?.id),
        RefTarget::Ledger(key) => {
            let id: i64 = t.parse().map_err(|_| StoreError::NotFound(format!("「{t}」不是记录编号")))?;
            let sql = format!("SELECT id FROM ld_{key} WHERE id = $1 AND {}", scope.condition("place_id", 2));
            tx.fetch_opt(&sql, &[Arg::Int(id), scope.arg()])
                .await?
                .map(|r| r.int(0))
                .ok_or_else(|| StoreError::NotFound(format!("记录 {id} 不存在或不在您的管辖范围内")))
        }
    }
}

/// Turns `(field key or label, text)` pairs into values, collecting every field's error.
/// Blank text yields no entry, so a blank never clears a stored value.
pub async fn parse_values(
    tx: &mut Tx,
    scope: &Scope,
    def: &taizhang_domain::ledger::LedgerDef,
    pairs: &[(String, String)],
    today: chrono::NaiveDate,
) -> Result<taizhang_domain::value::Values> {
    use taizhang_domain::ledger::FieldKind;
    use taizhang_domain::value::Value;
    use taizhang_domain::{DomainError, FieldError};
    let mut values = taizhang_domain::value::Values::new();
    let mut errors = Vec::new();
    for (name, text) in pairs {
        let Some(f) = def.fields.iter().find(|f| f.key == *name || f.label == *name) else {
            errors.push(FieldError::new(name, name, format!("「{}」中没有这个字段", def.name)));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        let parsed = if f.kind == FieldKind::Reference {
            match f.target.as_ref() {
                Some(t) => match resolve(tx, scope, t, text).await {
                    Ok(id) => Ok(Value::Int(id)),
                    Err(StoreError::Database(e)) => return Err(StoreError::Database(e)),
                    Err(e) => Err(FieldError::new(&f.key, &f.label, e.to_string())),
                },
                None => Err(FieldError::new(&f.key, &f.label, "定义缺少关联目标")),
            }
        } else {
            taizhang_domain::validate::parse_field(f, text, today)
        };
        match parsed {
            Ok(v) => {
                values.insert(f.key.clone(), v);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(DomainError::Fields(errors).into())
    }
}

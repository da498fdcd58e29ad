//! Cadres (干部) and organisations (单位): the people who do the work and the units they visit.

use chrono::NaiveDate;
use serde_json::json;
use taizhang_domain::registry::{validate_cadre, validate_organisation, Cadre, CadreKind, Organisation};
use taizhang_domain::role::Actor;

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::sql::{Arg, Row};

const CADRE_COLUMNS: &str = "id, name, kind, post, unit, birth_date, place_id, person_id, user_id, phone, ended_on, end_reason";

fn cadre_from_row(r: &Row) -> Cadre {
    Cadre {
        id: r.int(0),
        name: r.text(1),
        kind: CadreKind::parse(&r.text(2)).unwrap_or(CadreKind::Other),
        post: r.text(3),
        unit: r.text(4),
        birth_date: r.opt_date(5),
        place_id: r.int(6),
        person_id: r.opt_int(7),
        user_id: r.opt_int(8),
        phone: r.text(9),
        ended_on: r.opt_date(10),
        end_reason: r.text(11),
    }
}

pub async fn create_cadre(tx: &mut Tx, actor: &Actor, scope: &Scope, c: &Cadre, today: NaiveDate) -> Result<Cadre> {
    validate_cadre(c, today)?;
    scope.require_place(tx, c.place_id, "所属地点").await?;
    if let Some(pid) = c.person_id {
        crate::persons::get(tx, scope, pid).await?;
    }
    let now = crate::now();
    let id = tx
        .insert(
            "INSERT INTO cadres (name, kind, post, unit, birth_date, place_id, person_id, user_id, phone, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
            &[
                c.name.trim().into(),
                c.kind.key().into(),
                (&c.post).into(),
                (&c.unit).into(),
                c.birth_date.into(),
                Arg::Int(c.place_id),
                c.person_id.into(),
                c.user_id.into(),
                c.phone.trim().into(),
                Arg::Time(now),
            ],
        )
        .await?;
    let saved = get_cadre(tx, &Scope::all(), id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "create",
            entity: "cadres",
            entity_id: Some(id),
            place_id: Some(saved.place_id),
            before: None,
            after: Some(json!(saved)),
            note: "",
        },
    )
    .await?;
    Ok(saved)
}

pub async fn get_cadre(tx: &mut Tx, scope: &Scope, id: i64) -> Result<Cadre> {
    let sql = format!("SELECT {CADRE_COLUMNS} FROM cadres WHERE id = $1 AND {}", scope.condition("place_id", 2));
    tx.fetch_opt(&sql, &[Arg::Int(id), scope.arg()])
        .await?
        .map(|r| cadre_from_row(&r))
        .ok_or_else(|| StoreError::NotFound("干部不存在或不在您的管辖范围内".into()))
}

pub async fn list_cadres(tx: &mut Tx, scope: &Scope) -> Result<Vec<Cadre>> {
    let sql = format!("SELECT {CADRE_COLUMNS} FROM cadres WHERE {} ORDER BY id", scope.condition("place_id", 1));
    Ok(tx.fetch(&sql, &[scope.arg()]).await?.iter().map(cadre_from_row).collect())
}

/// Cadres are found by name for imports; a name shared by two cadres must be disambiguated.
pub async fn cadre_by_name(tx: &mut Tx, name: &str) -> Result<Vec<Cadre>> {
    let sql = format!("SELECT {CADRE_COLUMNS} FROM cadres WHERE name = $1 ORDER BY id");
    Ok(tx.fetch(&sql, &[name.trim().into()]).await?.iter().map(cadre_from_row).collect())
}

/// Edits a cadre (name, kind, post, unit, birth date, place, phone) and records an end of post
/// (离任) or its withdrawal through `ended_on`. Audited with before and after.
pub async fn update_cadre(tx: &mut Tx, actor: &Actor, scope: &Scope, c: &Cadre, today: NaiveDate) -> Result<Cadre> {
    validate_cadre(c, today)?;
    let before = get_cadre(tx, scope, c.id).await?;
    scope.require_place(tx, c.place_id, "所属地点").await?;
    if c.ended_on.is_some() && c.end_reason.chars().count() > 200 {
        return Err(taizhang_domain::DomainError::field("end_reason", "离任原因", "不能超过 200 个字").into());
    }
    tx.exec(
        "UPDATE cadres SET name = $1, kind = $2, post = $3, unit = $4, birth_date = $5, place_id = $6, phone = $7,
         ended_on = $8, end_reason = $9, row_version = row_version + 1, updated_at = $10 WHERE id = $11",
        &[
            c.name.trim().into(),
            c.kind.key().into(),
            c.post.trim().into(),
            c.unit.trim().into(),
            c.birth_date.into(),
            Arg::Int(c.place_id),
            c.phone.trim().into(),
            c.ended_on.into(),
            c.end_reason.trim().into(),
            Arg::Time(crate::now()),
            Arg::Int(c.id),
        ],
    )
    .await?;
    let after = get_cadre(tx, &Scope::all(), c.id).await?;
    let note = match (before.ended_on, after.ended_on) {
        (None, Some(d)) => format!("离任（{d}）{}", after.end_reason),
        (Some(_), None) => "撤销离任".to_string(),
        _ => String::new(),
    };
    audit::append(
        tx,
        actor,
        Change {
            action: "update",
            entity: "cadres",
            entity_id: Some(c.id),
            place_id: Some(after.place_id),
            before: Some(json!(before)),
            after: Some(json!(after)),
            note: note.trim(),
        },
    )
    .await?;
    Ok(after)
}

/// 离任: the cadre leaves the post on `on`; from the day after they cannot be chosen for new
/// records, and their past records stay as they are.
pub async fn end_cadre(tx: &mut Tx, actor: &Actor, scope: &Scope, id: i64, on: NaiveDate, reason: &str, today: NaiveDate) -> Result<Cadre> {
    let mut c = get_cadre(tx, scope, id).await?;
    if let Some(d) = c.ended_on {
        return Err(StoreError::Conflict(format!("「{}」已于 {d} 离任", c.name)));
    }
    c.ended_on = Some(on);
    c.end_reason = reason.trim().to_string();
    update_cadre(tx, actor, scope, &c, today).await
}

/// Edits an organisation; `ended_on` records that it closed (注销、停业).
pub async fn update_org(tx: &mut Tx, actor: &Actor, scope: &Scope, o: &Organisation, today: NaiveDate) -> Result<Organisation> {
    let mut o = o.clone();
    validate_organisation(&mut o)?;
    if o.ended_on.is_some_and(|d| d > today) {
        return Err(taizhang_domain::DomainError::field("ended_on", "注销日期", "不能晚于今天").into());
    }
    let before = get_org(tx, scope, o.id).await?;
    scope.require_place(tx, o.place_id, "所属地点").await?;
    if let Some(code) = &o.uscc {
        let other = tx.fetch_opt("SELECT id FROM organisations WHERE uscc = $1 AND id <> $2", &[code.into(), Arg::Int(o.id)]).await?;
        if other.is_some() {
            return Err(StoreError::Conflict(format!("统一社会信用代码 {code} 已登记为另一单位")));
        }
    }
    tx.exec(
        "UPDATE organisations SET name = $1, uscc = $2, kind = $3, address = $4, place_id = $5, contact = $6, phone = $7,
         ended_on = $8, row_version = row_version + 1, updated_at = $9 WHERE id = $10",
        &[
            o.name.trim().into(),
            o.uscc.clone().into(),
            (&o.kind).into(),
            o.address.trim().into(),
            Arg::Int(o.place_id),
            o.contact.trim().into(),
            o.phone.trim().into(),
            o.ended_on.into(),
            Arg::Time(crate::now()),
            Arg::Int(o.id),
        ],
    )
    .await?;
    let after = get_org(tx, &Scope::all(), o.id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "update",
            entity: "organisations",
            entity_id: Some(o.id),
            place_id: Some(after.place_id),
            before: Some(json!(before)),
            after: Some(json!(after)),
            note: "",
        },
    )
    .await?;
    Ok(after)
}

const ORG_COLUMNS: &str = "id, name, uscc, kind, address, place_id, contact, phone, ended_on";

fn org_from_row(r: &Row) -> Organisation {
    Organisation {
        id: r.int(0),
        name: r.text(1),
        uscc: r.opt_text(2),
        kind: r.text(3),
        address: r.text(4),
        place_id: r.int(5),
        contact: r.text(6),
        phone: r.text(7),
        ended_on: r.opt_date(8),
    }
}

pub async fn create_org(tx: &mut Tx, actor: &Actor, scope: &Scope, o: &Organisation) -> Result<Organisation> {
    let mut o = o.clone();
    validate_organisation(&mut o)?;
    scope.require_place(tx, o.place_id, "所属地点").await?;
    if let Some(code) = &o.uscc {
        if tx.fetch_opt("SELECT id FROM organisations WHERE uscc = $1", &[code.into()]).await?.is_some() {
            return Err(StoreError::Conflict(format!("统一社会信用代码 {code} 已登记")));
        }
    }
    let now = crate::now();
    let id = tx
        .insert(
            "INSERT INTO organisations (name, uscc, kind, address, place_id, contact, phone, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
            &[
                o.name.trim().into(),
                o.uscc.clone().into(),
                (&o.kind).into(),
                (&o.address).into(),
                Arg::Int(o.place_id),
                (&o.contact).into(),
                (&o.phone).into(),
                Arg::Time(now),
            ],
        )
        .await?;
    let saved = get_org(tx, &Scope::all(), id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "create",
            entity: "organisations",
            entity_id: Some(id),
            place_id: Some(saved.place_id),
            before: None,
            after: Some(json!(saved)),
            note: "",
        },
    )
    .await?;
    Ok(saved)
}

pub async fn get_org(tx: &mut Tx, scope: &Scope, id: i64) -> Result<Organisation> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1 AND {}", scope.condition("place_id", 2));
    tx.fetch_opt(&sql, &[Arg::Int(id), scope.arg()])
        .await?
        .map(|r| org_from_row(&r))
        .ok_or_else(|| StoreError::NotFound("单位不存在或不在您的管辖范围内".into()))
}

pub async fn list_orgs(tx: &mut Tx, scope: &Scope) -> Result<Vec<Organisation>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE {} ORDER BY id", scope.condition("place_id", 1));
    Ok(tx.fetch(&sql, &[scope.arg()]).await?.iter().map(org_from_row).collect())
}

pub async fn org_by_name_or_code(tx: &mut Tx, text: &str) -> Result<Vec<Organisation>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE name = $1 OR uscc = $2 ORDER BY id");
    let t = text.trim();
    Ok(tx.fetch(&sql, &[t.into(), t.to_uppercase().into()]).await?.iter().map(org_from_row).collect())
}

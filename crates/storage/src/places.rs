//! Places: 县 → 镇 → 村 → 组, each with a materialised path of ids for subtree queries.

use serde_json::json;
use taizhang_domain::place::{normalize_place_code, Place, PlaceLevel};
use taizhang_domain::role::Actor;

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::sql::{Arg, Row};

const COLUMNS: &str = "id, parent_id, level, code, name, path, attributes";

fn from_row(r: &Row) -> Place {
    Place {
        id: r.int(0),
        parent_id: r.opt_int(1),
        level: PlaceLevel::parse(&r.text(2)).unwrap_or(PlaceLevel::Group),
        code: r.opt_text(3),
        name: r.text(4),
        path: r.text(5),
        attributes: serde_json::from_str(&r.text(6)).unwrap_or_default(),
    }
}

pub struct NewPlace<'a> {
    pub parent_id: Option<i64>,
    pub level: PlaceLevel,
    pub code: Option<&'a str>,
    pub name: &'a str,
    pub attributes: Vec<String>,
}

pub async fn create(tx: &mut Tx, actor: &Actor, p: NewPlace<'_>) -> Result<Place> {
    let name = p.name.trim();
    if name.is_empty() {
        return Err(StoreError::Domain(taizhang_domain::DomainError::field("name", "地名", "不能为空")));
    }
    let code = match p.code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(normalize_place_code(c).map_err(|r| {
            StoreError::Domain(taizhang_domain::DomainError::field("code", "区划代码", r))
        })?),
        None => None,
    };
    let parent_path = match p.parent_id {
        Some(pid) => {
            let parent = get(tx, pid).await?;
            if parent.level.child() != Some(p.level) {
                return Err(StoreError::Conflict(format!(
                    "「{}」是{}，其下只能设{}",
                    parent.name,
                    parent.level.label(),
                    parent.level.child().map_or("（无下级）", |l| l.label())
                )));
            }
            let dup = tx
                .fetch_opt("SELECT id FROM places WHERE parent_id = $1 AND name = $2", &[Arg::Int(pid), name.into()])
                .await?;
            if dup.is_some() {
                return Err(StoreError::Conflict(format!("「{}」下已有「{name}」", parent.name)));
            }
            parent.path
        }
        None => "/".to_string(),
    };
    if let Some(c) = &code {
        if tx.fetch_opt("SELECT name FROM places WHERE code = $1", &[c.into()]).await?.is_some() {
            return Err(StoreError::Conflict(format!("区划代码 {c} 已被使用")));
        }
    }
    let attrs = serde_json::to_string(&p.attributes).unwrap_or_else(|_| "[]".into());
    let id = tx
        .insert(
            "INSERT INTO places (parent_id, level, code, name, path, attributes, created_at)
             VALUES ($1, $2, $3, $4, '', $5, $6) RETURNING id",
            &[p.parent_id.into(), p.level.key().into(), code.clone().into(), name.into(), attrs.into(), Arg::Time(crate::now())],
        )
        .await?;
    let path = format!("{parent_path}{id}/");
    tx.exec("UPDATE places SET path = $1 WHERE id = $2", &[path.into(), Arg::Int(id)]).await?;
    let place = get(tx, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "create",
            entity: "places",
            entity_id: Some(id),
            place_id: Some(id),
            before: None,
            after: Some(json!(place)),
            note: "",
        },
    )
    .await?;
    Ok(place)
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Place> {
    tx.fetch_opt(&format!("SELECT {COLUMNS} FROM places WHERE id = $1"), &[Arg::Int(id)])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound(format!("地点（编号 {id}）不存在")))
}

pub async fn by_code(tx: &mut Tx, code: &str) -> Result<Option<Place>> {
    let code = normalize_place_code(code).unwrap_or_else(|_| code.to_string());
    Ok(tx.fetch_opt(&format!("SELECT {COLUMNS} FROM places WHERE code = $1"), &[code.into()]).await?.map(|r| from_row(&r)))
}

/// Finds a place by 12-digit code, by its path of ids (`/1/2/5/`), by name, or by "村/组" name
/// path, within scope.
pub async fn resolve(tx: &mut Tx, scope: &Scope, text: &str) -> Result<Place> {
    let text = text.trim();
    // A path of ids (`/1/2/5/`), as report links carry the place: exact, and never a name.
    if text.len() > 1 && text.starts_with('/') && text.ends_with('/') && text.chars().all(|c| c.is_ascii_digit() || c == '/') {
        let found = tx.fetch_opt(&format!("SELECT {COLUMNS} FROM places WHERE path = $1"), &[text.into()]).await?.map(|r| from_row(&r));
        return match found {
            Some(p) if p.path.starts_with(&scope.path) => Ok(p),
            _ => Err(StoreError::NotFound(format!("地点「{text}」不存在或不在您的管辖范围内"))),
        };
    }
    if text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty() {
        if let Some(p) = by_code(tx, text).await? {
            if p.path.starts_with(&scope.path) {
                return Ok(p);
            }
        }
        return Err(StoreError::NotFound(format!("区划代码「{text}」不存在或不在您的管辖范围内")));
    }
    let (parent_name, name) = match text.split_once(['/', '·']) {
        Some((a, b)) => (Some(a.trim()), b.trim()),
        None => (None, text),
    };
    let rows = tx
        .fetch(
            &format!("SELECT {COLUMNS} FROM places WHERE name = $1 AND path LIKE $2 ORDER BY path"),
            &[name.into(), scope.arg()],
        )
        .await?;
    let mut found: Vec<Place> = rows.iter().map(from_row).collect();
    if let Some(pn) = parent_name {
        let mut keep = Vec::new();
        for p in found {
            if let Some(pid) = p.parent_id {
                if get(tx, pid).await?.name == pn {
                    keep.push(p);
                }
            }
        }
        found = keep;
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(StoreError::NotFound(format!("地点「{text}」不存在或不在您的管辖范围内"))),
        n => Err(StoreError::Conflict(format!("有 {n} 个地点名为「{text}」，请写成「村/组」或用区划代码"))),
    }
}

/// A place and everything under it, ordered by path.
pub async fn subtree(tx: &mut Tx, scope: &Scope) -> Result<Vec<Place>> {
    let rows = tx
        .fetch(&format!("SELECT {COLUMNS} FROM places WHERE path LIKE $1 ORDER BY path"), &[scope.arg()])
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Places of one level in scope, ordered by code then name (stable across engines).
pub async fn of_level(tx: &mut Tx, scope: &Scope, level: PlaceLevel) -> Result<Vec<Place>> {
    let rows = tx
        .fetch(
            &format!("SELECT {COLUMNS} FROM places WHERE path LIKE $1 AND level = $2 ORDER BY code, id"),
            &[scope.arg(), level.key().into()],
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Whether `scope` holds more than half of all places: a town's own database, a county's scope
/// in a county's database. A smaller scope (one town of 25, one county of two) is read through
/// the place index; over most of the places the engine is better left to walk a table or its
/// time or id index, where rows in scope come at every step.
pub async fn holds_most(tx: &mut Tx, scope: &Scope) -> Result<bool> {
    let r = tx
        .fetch_one("SELECT COUNT(*), COALESCE(SUM(CASE WHEN path LIKE $1 THEN 1 ELSE 0 END), 0) FROM places", &[scope.arg()])
        .await?;
    Ok(r.int(1) * 2 > r.int(0))
}

/// Whether a page of rows in `scope` (`ORDER BY … LIMIT`) should gather the scope's rows first
/// and sort them ([`scope_first`]): on PostgreSQL over a small part of the places. There the
/// planner walks the sort column's index (the id, a name, a number) from one end through every
/// other town's rows until a page of this one's turned up — 0.2 s for a town's 低保金 among 25
/// towns, seconds for a name search — where the place index finds the scope's rows in
/// milliseconds. SQLite, keeping no statistics, reads a small scope by the place index anyway.
pub async fn gather_first(tx: &mut Tx, scope: &Scope) -> Result<bool> {
    Ok(tx.engine() == crate::Engine::Postgres && !holds_most(tx, scope).await?)
}

/// `select` (whose conditions hold the scope) gathered, then sorted by `order`, which names its
/// output columns; a `LIMIT` may follow.
pub fn scope_first(select: &str, order: &str) -> String {
    format!("WITH s AS MATERIALIZED ({select}) SELECT * FROM s ORDER BY {order}")
}

/// The town (or towns) in the database; `init` creates the first.
pub async fn towns(tx: &mut Tx) -> Result<Vec<Place>> {
    of_level(tx, &Scope::all(), PlaceLevel::Town).await
}

pub async fn set_attributes(tx: &mut Tx, actor: &Actor, id: i64, attributes: Vec<String>) -> Result<Place> {
    let before = get(tx, id).await?;
    let attrs = serde_json::to_string(&attributes).unwrap_or_else(|_| "[]".into());
    tx.exec("UPDATE places SET attributes = $1 WHERE id = $2", &[attrs.into(), Arg::Int(id)]).await?;
    let after = get(tx, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "update",
            entity: "places",
            entity_id: Some(id),
            place_id: Some(id),
            before: Some(json!(before)),
            after: Some(json!(after)),
            note: "",
        },
    )
    .await?;
    Ok(after)
}

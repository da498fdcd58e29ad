//! User accounts (用户). Password hashing happens above storage; only hashes are kept here.

use serde::Serialize;
use serde_json::json;
use taizhang_domain::role::{Actor, Role};

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::sql::{Arg, Row};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub place_id: i64,
    /// Ledgers a 业务员 may edit (empty: none).
    pub ledgers: Vec<String>,
    pub must_change_password: bool,
    pub disabled: bool,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor::User { id: self.id, username: self.username.clone(), role: self.role, place_id: self.place_id }
    }
}

const COLUMNS: &str = "id, username, display_name, password_hash, role, place_id, ledgers, must_change_password, disabled";

fn from_row(r: &Row) -> User {
    User {
        id: r.int(0),
        username: r.text(1),
        display_name: r.text(2),
        password_hash: r.text(3),
        role: Role::parse(&r.text(4)).unwrap_or(Role::VillageCadre),
        place_id: r.int(5),
        ledgers: serde_json::from_str(&r.text(6)).unwrap_or_default(),
        must_change_password: r.bool(7),
        disabled: r.bool(8),
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub place_id: i64,
    pub ledgers: Vec<String>,
    pub must_change_password: bool,
}

pub async fn create(tx: &mut Tx, actor: &Actor, u: NewUser<'_>) -> Result<User> {
    let name = u.username.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-') {
        return Err(taizhang_domain::DomainError::field("username", "用户名", "只能由英文字母、数字和 _ . - 组成").into());
    }
    if by_name(tx, name).await?.is_some() {
        return Err(StoreError::Conflict(format!("用户名 {name} 已存在")));
    }
    crate::places::get(tx, u.place_id).await?;
    let id = tx
        .insert(
            "INSERT INTO users (username, display_name, password_hash, role, place_id, ledgers, must_change_password, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                name.into(),
                u.display_name.into(),
                u.password_hash.into(),
                u.role.key().into(),
                Arg::Int(u.place_id),
                serde_json::to_string(&u.ledgers).unwrap_or_else(|_| "[]".into()).into(),
                Arg::Bool(u.must_change_password),
                Arg::Time(crate::now()),
            ],
        )
        .await?;
    let user = get(tx, id).await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "create",
            entity: "users",
            entity_id: Some(id),
            place_id: Some(user.place_id),
            before: None,
            after: Some(json!(user)),
            note: "",
        },
    )
    .await?;
    Ok(user)
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<User> {
    tx.fetch_opt(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"), &[Arg::Int(id)])
        .await?
        .map(|r| from_row(&r))
        .ok_or_else(|| StoreError::NotFound("用户不存在".into()))
}

pub async fn by_name(tx: &mut Tx, username: &str) -> Result<Option<User>> {
    Ok(tx
        .fetch_opt(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"), &[username.trim().into()])
        .await?
        .map(|r| from_row(&r)))
}

pub async fn list(tx: &mut Tx) -> Result<Vec<User>> {
    Ok(tx.fetch(&format!("SELECT {COLUMNS} FROM users ORDER BY id"), &[]).await?.iter().map(from_row).collect())
}

pub async fn set_password(tx: &mut Tx, actor: &Actor, id: i64, hash: &str, must_change: bool) -> Result<()> {
    let user = get(tx, id).await?;
    tx.exec(
        "UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3",
        &[hash.into(), Arg::Bool(must_change), Arg::Int(id)],
    )
    .await?;
    audit::append(
        tx,
        actor,
        Change {
            action: "update",
            entity: "users",
            entity_id: Some(id),
            place_id: Some(user.place_id),
            before: None,
            after: None,
            note: "修改密码",
        },
    )
    .await
}

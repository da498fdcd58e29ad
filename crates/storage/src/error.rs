//! Storage errors. The `Display` text of every variant a user can cause is Chinese.

use taizhang_domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A domain rule refused the input; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0}")]
    NotFound(String),
    /// Refused for a reason the user can act on (duplicate, reference missing …).
    #[error("{0}")]
    Conflict(String),
    /// Someone else saved the record first.
    #[error("{0}")]
    Stale(String),
    #[error("没有权限：{0}")]
    Forbidden(String),
    #[error("数据库由更新版本的台账程序写入（迁移版本 {0}），本程序不能打开，也不会修改它。请升级程序。")]
    NewerDatabase(i64),
    #[error("无法连接数据库：{0}")]
    Connect(String),
    #[error("数据库错误：{0}")]
    Database(String),
    #[error("内部错误：{0}")]
    Internal(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict(format!("与已有记录重复（{}）", db.constraint().unwrap_or("唯一约束")));
            }
            if db.is_foreign_key_violation() {
                return StoreError::Conflict("关联的记录不存在，或仍被其他记录引用".into());
            }
        }
        StoreError::Database(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

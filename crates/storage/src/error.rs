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
            if let Some(said) = resource_refusal(db.code().as_deref()) {
                return StoreError::Database(said.into());
            }
        }
        StoreError::Database(e.to_string())
    }
}

impl StoreError {
    /// A connection could not be made or used; `place` names the file or server. The
    /// engine's English is kept only where no Chinese reason is known.
    pub(crate) fn connect(place: &str, e: sqlx::Error) -> StoreError {
        let at = if place.is_empty() { String::new() } else { format!("{place}：") };
        let said = match &e {
            sqlx::Error::Database(db) => resource_refusal(db.code().as_deref()),
            sqlx::Error::Io(io) => match io.kind() {
                std::io::ErrorKind::ConnectionRefused => Some("数据库服务器拒绝连接（服务器没有启动，或地址、端口不对）"),
                std::io::ErrorKind::TimedOut => Some("连接数据库服务器超时（网络不通或服务器太忙）"),
                std::io::ErrorKind::OutOfMemory => Some(NO_MEMORY),
                // EAGAIN (a thread or mapping refused) and ENOMEM: the process is out of
                // memory or address space, whatever the kind says.
                _ if matches!(io.raw_os_error(), Some(11 | 12)) => Some(NO_MEMORY),
                _ => None,
            },
            sqlx::Error::PoolTimedOut => Some("等待数据库连接超时（数据库太忙，或有其他程序长时间占用）"),
            _ => None,
        };
        match said {
            Some(s) => StoreError::Connect(format!("{at}{s}")),
            None => StoreError::Connect(format!("{at}{e}")),
        }
    }
}

/// SQLite's write lock was not to be had in time, or PostgreSQL broke a deadlock.
pub const BUSY: &str = "数据库正忙（另一项写入，如导入，正在进行），操作未完成，没有写入任何数据；请稍后重试";

impl StoreError {
    /// The database was busy with another writer: trying again later may succeed.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Database(m) if m == BUSY)
    }
}

const NO_MEMORY: &str = "内存不足，操作已停止，没有写入任何数据；请关闭其他程序后重试，或把文件拆成几个小文件分别导入";

/// The engine ran out of something the user can do something about: said in Chinese, the
/// engine's own words (English) left out. SQLite's primary codes and PostgreSQL's SQLSTATEs.
fn resource_refusal(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        // SQLITE_NOMEM, PostgreSQL out_of_memory
        "7" | "53200" => NO_MEMORY,
        // SQLITE_FULL, PostgreSQL disk_full
        "13" | "53100" => "磁盘已满，操作已停止，没有写入任何数据；请清理磁盘空间后重试",
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6) with their extended codes (a deferred
        // transaction whose snapshot is stale: BUSY_SNAPSHOT, 517), never five characters as
        // PostgreSQL's SQLSTATEs are; PostgreSQL deadlock_detected
        "40P01" => BUSY,
        c if c.len() < 5 && c.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)) => BUSY,
        // SQLITE_IOERR and its extended codes share the low byte 10
        c if c.parse::<u32>().is_ok_and(|n| n & 0xff == 10) => "读写数据库文件出错（磁盘故障或文件被其他程序占用），操作已停止；请检查磁盘后重试",
        _ => return None,
    })
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

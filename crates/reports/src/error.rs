//! Errors of the reports crate, with Chinese messages.

use taizhang_storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("指标定义有误：{0}")]
    Definition(String),
    #[error("检查规则有误：{0}")]
    Check(String),
    #[error("模板有误：{0}")]
    Template(String),
    #[error("找不到指标「{0}」")]
    UnknownIndicator(String),
}

pub type Result<T, E = ReportError> = std::result::Result<T, E>;

impl From<minijinja::Error> for ReportError {
    fn from(e: minijinja::Error) -> Self {
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(&format!("：{s}"));
            src = s.source();
        }
        ReportError::Template(msg)
    }
}

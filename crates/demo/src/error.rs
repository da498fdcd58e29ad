//! Errors of the demo builder, with Chinese messages.

use taizhang_reports::ReportError;
use taizhang_storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Domain(#[from] taizhang_domain::DomainError),
    /// The dataset description is wrong (a file, a batch, a field).
    #[error("演示数据描述有误：{0}")]
    Spec(String),
}

pub type Result<T, E = DemoError> = std::result::Result<T, E>;

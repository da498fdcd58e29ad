//! Errors of 校核, with Chinese messages naming the problem.

use taizhang_reports::ReportError;
use taizhang_storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The draft or an output cannot be read or made (an unreadable .docx, a wrong extension).
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Report(#[from] ReportError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

pub type Result<T, E = VerifyError> = std::result::Result<T, E>;

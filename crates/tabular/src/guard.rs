//! calamine indexes some tables without bounds checks (a shared-string
//! number past the end of the table panics), and damaged files from county
//! systems reach exactly those paths. One bad upload must not take the
//! server down, so every call into calamine goes through here.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::TabularError;

/// Runs a calamine call, turning a panic into `TabularError::Corrupt`.
/// The workbook may be left half-read after a panic; callers return the
/// error at once and do not touch it again in this read.
pub(crate) fn no_panic<T>(f: impl FnOnce() -> T) -> Result<T, TabularError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| {
        TabularError::Corrupt("文件内部数据互相矛盾（例如引用了不存在的共享文本）".to_string())
    })
}

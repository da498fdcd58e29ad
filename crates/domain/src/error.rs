//! Errors users see: always Chinese, always naming the field and the reason.

use std::fmt;

/// One problem with one field of one input. `field` is the Chinese label the user knows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// ASCII key of the field (for programs and forms).
    pub key: String,
    /// Chinese label of the field (for people).
    pub label: String,
    /// Why it was refused, in Chinese.
    pub reason: String,
}

impl FieldError {
    pub fn new(key: impl Into<String>, label: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { key: key.into(), label: label.into(), reason: reason.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "「{}」{}", self.label, self.reason)
    }
}

/// A refusal by a domain rule. The `Display` text is what a user reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{}", join_fields(.0))]
    Fields(Vec<FieldError>),
    #[error("{0}")]
    Rule(String),
    #[error("定义文件有误：{0}")]
    Definition(String),
}

impl DomainError {
    pub fn field(key: &str, label: &str, reason: impl Into<String>) -> Self {
        DomainError::Fields(vec![FieldError::new(key, label, reason)])
    }
}

fn join_fields(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("；")
}

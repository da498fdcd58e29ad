//! The pure domain of Taizhang (台账).
//!
//! Everything here is plain data and functions: no database, no files, no network,
//! no clock except where a caller passes "today". Storage, file formats, reports, the CLI
//! and the web application all build on these types.

pub mod error;
pub mod idcard;
pub mod ident;
pub mod uscc;
pub mod money;
pub mod period;
pub mod numfmt;
pub mod place;
pub mod registry;
pub mod relation;
pub mod setting;
pub mod role;
pub mod security;
pub mod ledger;
pub mod masking;
pub mod value;
pub mod validate;
pub mod workflow;
pub mod catalogue;

pub use error::{DomainError, FieldError};

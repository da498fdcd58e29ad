//! Storage of Taizhang (台账) on SQLite (the default, one file) and PostgreSQL (by URL).
//!
//! Repositories (`places`, `persons`, `records` …) write their SQL once against the narrow
//! [`Tx`] interface; `backend` and `sql` hold everything that differs between the engines.
//! Every write appends to the audit trail in the same transaction.

pub mod attachments;
pub mod audit;
pub mod backend;
pub mod backup;
pub mod batch;
pub mod bulk;
pub mod changes;
pub mod error;
pub mod fixtures;
pub mod households;
pub mod ledgers;
pub mod merge;
pub mod orgs;
pub mod person_batch;
pub mod persons;
pub mod places;
pub mod reads;
pub mod records;
pub mod refs;
pub mod scope;
pub mod sessions;
pub mod settings;
pub mod sql;
pub mod testkit;
pub mod users;

pub use backend::{engine_of, ColumnType, CopyIn, Db, Engine, ForeignKey, Tx};
pub use error::{Result, StoreError};
pub use scope::Scope;
pub use sql::{Arg, Cell, Row};

/// The time stamp every write records.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

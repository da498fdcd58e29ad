//! Shared set-up: `taizhang_storage::fixtures` (a town with two villages, the `both!` macro).

#![allow(dead_code, unused_imports)]

pub use taizhang_storage::both;
pub use taizhang_storage::fixtures::*;

//! Set-up shared by the test suites of every crate (storage, reports, exchange, demo, web):
//! the `both!` macro that runs a test body on SQLite and on PostgreSQL, and small builders for
//! the registry. Panics here are test failures, never reached by the product.

#![allow(clippy::expect_used)]

use chrono::NaiveDate;
use taizhang_domain::idcard::check_character;
use taizhang_domain::place::{Place, PlaceLevel};
use taizhang_domain::registry::{validate_person, Person, PersonInput};
use taizhang_domain::role::Actor;

use crate::places::{self, NewPlace};
use crate::{audit, households, ledgers, persons, records, Db, Scope};

/// Runs an async test body `|db: Db| async move { … }` once on SQLite and once on PostgreSQL
/// (`TAIZHANG_TEST_PG`; with `CI=true` a missing server fails the test).
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let t = $crate::testkit::TestDb::new($crate::Engine::Sqlite)
                    .await
                    .expect("sqlite test db")
                    .expect("sqlite always runs");
                ($body)(t.db.clone()).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(t) = $crate::testkit::TestDb::new($crate::Engine::Postgres)
                    .await
                    .expect("postgres test db")
                else {
                    return;
                };
                ($body)(t.db.clone()).await;
            }
        }
    };
}

/// The day the tests pretend it is: the last day of the seed's year.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 12, 31).expect("date")
}

/// `d("2023-06-01")`.
pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// A valid ID number for a region, a birth date (YYYYMMDD) and a sequence number.
pub fn id_number(region: &str, birth: &str, seq: u32) -> String {
    let first17 = format!("{region}{birth}{seq:03}");
    let c = check_character(&first17).expect("17 digits");
    format!("{first17}{c}")
}

pub async fn person(db: &Db, name: &str, id: &str, place_id: i64) -> Person {
    let mut tx = db.begin().await.expect("begin");
    let p = validate_person(&PersonInput { name: name.into(), id_number: id.into(), place_id, ..Default::default() }, today())
        .expect("valid person");
    let saved = persons::create(&mut tx, &Actor::System, &Scope::all(), &p).await.expect("person");
    tx.commit().await.expect("commit");
    saved
}

/// A household with its head; returns the household's id.
pub async fn household(db: &Db, number: &str, head: &Person) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let h = households::create(&mut tx, &Actor::System, &Scope::all(), number, head.place_id).await.expect("household");
    households::add_member(&mut tx, &Actor::System, &Scope::all(), h.id, head.id, "户主").await.expect("head");
    tx.commit().await.expect("commit");
    h.id
}

pub async fn audit_count(db: &Db) -> i64 {
    let mut tx = db.read().await.expect("read");
    audit::count(&mut tx).await.expect("count")
}

pub async fn record_count(db: &Db, key: &str) -> i64 {
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, key).await.expect("def");
    records::count(&mut tx, &def, &Scope::all(), &Default::default()).await.expect("count")
}

/// 溆浦县 › 北斗溪镇 › 坪溪村 (脱贫村) and 茅坡村 (重点村).
pub struct Town {
    pub county: Place,
    pub town: Place,
    pub pingxi: Place,
    pub maopo: Place,
}

pub async fn town(db: &Db) -> Town {
    let mut tx = db.begin().await.expect("begin");
    let a = Actor::System;
    let county = places::create(&mut tx, &a, NewPlace { parent_id: None, level: PlaceLevel::County, code: Some("431224"), name: "溆浦县", attributes: vec![] })
        .await
        .expect("county");
    let town = places::create(&mut tx, &a, NewPlace { parent_id: Some(county.id), level: PlaceLevel::Town, code: Some("431224110000"), name: "北斗溪镇", attributes: vec![] })
        .await
        .expect("town");
    let pingxi = places::create(&mut tx, &a, NewPlace { parent_id: Some(town.id), level: PlaceLevel::Village, code: Some("431224110201"), name: "坪溪村", attributes: vec!["脱贫村".into()] })
        .await
        .expect("village");
    let maopo = places::create(&mut tx, &a, NewPlace { parent_id: Some(town.id), level: PlaceLevel::Village, code: Some("431224110202"), name: "茅坡村", attributes: vec!["重点村".into()] })
        .await
        .expect("village");
    tx.commit().await.expect("commit");
    Town { county, town, pingxi, maopo }
}


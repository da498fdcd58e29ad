//! Shared set-up (copied from crates/storage/tests/common): a town with two villages, both engines.

#![allow(dead_code)]

use chrono::NaiveDate;
use taizhang_domain::idcard::check_character;
use taizhang_domain::place::{Place, PlaceLevel};
use taizhang_domain::registry::{validate_person, Person, PersonInput};
use taizhang_domain::role::Actor;
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::{persons, Db, Scope};

/// Runs an async test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let t = taizhang_storage::testkit::TestDb::new(taizhang_storage::Engine::Sqlite)
                    .await
                    .expect("sqlite test db")
                    .expect("sqlite always runs");
                ($body)(t.db.clone()).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(t) = taizhang_storage::testkit::TestDb::new(taizhang_storage::Engine::Postgres)
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

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 12, 31).expect("date")
}

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

/// A valid ID number for a birth date and sequence.
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

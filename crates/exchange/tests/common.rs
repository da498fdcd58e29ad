//! Shared set-up: a town with two villages, built-in ledgers, run on both engines.

#![allow(dead_code)]

use chrono::NaiveDate;
use taizhang_domain::idcard::check_character;
use taizhang_domain::place::{Place, PlaceLevel};
use taizhang_domain::registry::{validate_person, Cadre, CadreKind, Organisation, Person, PersonInput};
use taizhang_domain::role::Actor;
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::{households, ledgers, orgs, persons, Db, Scope};

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

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

pub struct Town {
    pub county: Place,
    pub town: Place,
    pub pingxi: Place,
    pub maopo: Place,
    pub group1: Place,
}

/// A town with two villages, a group, the built-in ledgers, a cadre and an organisation.
pub async fn town(db: &Db) -> Town {
    let mut tx = db.begin().await.expect("begin");
    let a = Actor::System;
    let county = places::create(&mut tx, &a, NewPlace { parent_id: None, level: PlaceLevel::County, code: Some("431224"), name: "溆浦县", attributes: vec![] })
        .await
        .expect("county");
    let town = places::create(&mut tx, &a, NewPlace { parent_id: Some(county.id), level: PlaceLevel::Town, code: Some("431224110000"), name: "北斗溪镇", attributes: vec![] })
        .await
        .expect("town");
    let pingxi = places::create(&mut tx, &a, NewPlace { parent_id: Some(town.id), level: PlaceLevel::Village, code: Some("431224110201"), name: "坪溪村", attributes: vec![] })
        .await
        .expect("village");
    let maopo = places::create(&mut tx, &a, NewPlace { parent_id: Some(town.id), level: PlaceLevel::Village, code: Some("431224110202"), name: "茅坡村", attributes: vec![] })
        .await
        .expect("village");
    let group1 = places::create(&mut tx, &a, NewPlace { parent_id: Some(pingxi.id), level: PlaceLevel::Group, code: None, name: "一组", attributes: vec![] })
        .await
        .expect("group");
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    ledgers::install_builtin(&mut tx, &a, &defs).await.expect("install");
    let s = Scope::all();
    let cadre = Cadre { id: 0, name: "刘干部".into(), kind: CadreKind::Town, post: "乡村振兴办主任".into(), unit: "北斗溪镇人民政府".into(), birth_date: NaiveDate::from_ymd_opt(1992, 5, 1), place_id: town.id, person_id: None, user_id: None, phone: "13800000000".into() };
    orgs::create_cadre(&mut tx, &a, &s, &cadre, today()).await.expect("cadre");
    let org = Organisation { id: 0, name: "坪溪液化气站".into(), uscc: None, kind: "企业".into(), address: "坪溪村".into(), place_id: pingxi.id, contact: String::new(), phone: String::new() };
    orgs::create_org(&mut tx, &a, &s, &org).await.expect("org");
    tx.commit().await.expect("commit");
    Town { county, town, pingxi, maopo, group1 }
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

/// A household with its head.
pub async fn household(db: &Db, number: &str, head: &Person) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let h = households::create(&mut tx, &Actor::System, &Scope::all(), number, head.place_id).await.expect("household");
    households::add_member(&mut tx, &Actor::System, &Scope::all(), h.id, head.id, "户主").await.expect("head");
    tx.commit().await.expect("commit");
    h.id
}

pub async fn audit_count(db: &Db) -> i64 {
    let mut tx = db.read().await.expect("read");
    taizhang_storage::audit::count(&mut tx).await.expect("count")
}

pub async fn record_count(db: &Db, key: &str) -> i64 {
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, key).await.expect("def");
    taizhang_storage::records::count(&mut tx, &def, &Scope::all(), &Default::default()).await.expect("count")
}

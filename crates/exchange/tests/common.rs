//! Shared set-up: a town with two villages, built-in ledgers, run on both engines.

#![allow(dead_code, unused_imports)]

pub use taizhang_storage::both;
pub use taizhang_storage::fixtures::*;

use chrono::NaiveDate;
use taizhang_domain::place::{Place, PlaceLevel};
use taizhang_domain::registry::{Cadre, CadreKind, Organisation};
use taizhang_domain::role::Actor;
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::{ledgers, orgs, Db, Scope};


pub struct Town {
    pub county: Place,
    pub town: Place,
    pub pingxi: Place,
    pub maopo: Place,
    pub group1: Place,
}

/// `fixtures::town` plus a group, the built-in ledgers, a cadre and an organisation.
pub async fn town(db: &Db) -> Town {
    let base = taizhang_storage::fixtures::town(db).await;
    let (county, town, pingxi, maopo) = (base.county, base.town, base.pingxi, base.maopo);
    let mut tx = db.begin().await.expect("begin");
    let a = Actor::System;
    let group1 = places::create(&mut tx, &a, NewPlace { parent_id: Some(pingxi.id), level: PlaceLevel::Group, code: None, name: "一组", attributes: vec![] })
        .await
        .expect("group");
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    ledgers::install_builtin(&mut tx, &a, &defs).await.expect("install");
    let s = Scope::all();
    let cadre = Cadre { id: 0, name: "刘干部".into(), kind: CadreKind::Town, post: "乡村振兴办主任".into(), unit: "北斗溪镇人民政府".into(), birth_date: NaiveDate::from_ymd_opt(1992, 5, 1), place_id: town.id, person_id: None, user_id: None, phone: "13800000000".into(), ended_on: None, end_reason: String::new() };
    orgs::create_cadre(&mut tx, &a, &s, &cadre, today()).await.expect("cadre");
    let org = Organisation { id: 0, name: "坪溪液化气站".into(), uscc: None, kind: "企业".into(), address: "坪溪村".into(), place_id: pingxi.id, contact: String::new(), phone: String::new(), ended_on: None };
    orgs::create_org(&mut tx, &a, &s, &org).await.expect("org");
    tx.commit().await.expect("commit");
    Town { county, town, pingxi, maopo, group1 }
}


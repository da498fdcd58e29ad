//! The registry and the audit trail, on both engines.

mod common;
use common::*;

use taizhang_domain::registry::{validate_person, Cadre, CadreKind, Organisation, PersonInput, PersonStatus, StatusChange, StatusChangeInput};
use taizhang_domain::role::Actor;
use taizhang_storage::{audit, households, orgs, persons, places, Scope, StoreError};

both!(migrations_from_empty_create_the_schema, |db: taizhang_storage::Db| async move {
    let mut tx = db.read().await.expect("read");
    for table in ["places", "persons", "households", "cadres", "organisations", "users", "audit", "ledger_defs", "settings"] {
        let n = tx.fetch_one(&format!("SELECT COUNT(*) FROM {table}"), &[]).await.expect(table).int(0);
        assert_eq!(n, 0, "{table} starts empty");
    }
    // Running the migrations again changes nothing.
    drop(tx);
    db.migrate().await.expect("idempotent");
});

both!(a_database_from_a_newer_program_is_refused, |db: taizhang_storage::Db| async move {
    let mut tx = db.begin().await.expect("begin");
    let empty_blob = match db.engine() {
        taizhang_storage::Engine::Sqlite => "X''",
        taizhang_storage::Engine::Postgres => "'\\x'::bytea",
    };
    tx.exec(
        &format!("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'from the future', TRUE, {empty_blob}, 0)"),
        &[],
    )
    .await
    .expect("pretend a newer program ran");
    tx.commit().await.expect("commit");
    let before = {
        let mut r = db.read().await.expect("read");
        r.fetch_one("SELECT COUNT(*) FROM _sqlx_migrations", &[]).await.expect("count").int(0)
    };
    let err = db.migrate().await.expect_err("refused");
    assert!(matches!(err, StoreError::NewerDatabase(9999)), "{err}");
    assert!(err.to_string().contains("更新版本"), "{err}");
    let mut r = db.read().await.expect("read");
    let after = r.fetch_one("SELECT COUNT(*) FROM _sqlx_migrations", &[]).await.expect("count").int(0);
    assert_eq!(before, after, "nothing altered");
});

both!(one_person_one_record, |db: taizhang_storage::Db| async move {
    let t = town(&db).await;
    let id = id_number("433024", "19650304", 123);
    let p = person(&db, "张三", &id, t.pingxi.id).await;
    assert_eq!(p.birth_date.to_string(), "1965-03-04");
    // Same number again, seen from the town: the message names the person.
    let mut tx = db.begin().await.expect("begin");
    let again = validate_person(&PersonInput { name: "张三丰".into(), id_number: id.clone(), place_id: t.pingxi.id, ..Default::default() }, today()).expect("valid");
    let e = persons::create(&mut tx, &Actor::System, &Scope::all(), &again).await.expect_err("duplicate");
    assert!(e.to_string().contains("张三"), "{e}");
    drop(tx);
    // Seen from 茅坡村, the message does not reveal who holds the number.
    let mut tx = db.begin().await.expect("begin");
    let scope = Scope::of_place(&mut tx, t.maopo.id).await.expect("scope");
    let again = validate_person(&PersonInput { name: "李四".into(), id_number: id.clone(), place_id: t.maopo.id, ..Default::default() }, today()).expect("valid");
    let e = persons::create(&mut tx, &Actor::System, &scope, &again).await.expect_err("duplicate");
    assert!(!e.to_string().contains("张三") && e.to_string().contains("不在您的管辖范围内"), "{e}");
    // And 茅坡村 cannot read the person of 坪溪村 by id.
    assert!(matches!(persons::get(&mut tx, &scope, p.id).await, Err(StoreError::NotFound(_))));
    assert_eq!(persons::count(&mut tx, &scope).await.expect("count"), 0);
});

both!(households_cadres_organisations_and_their_rules, |db: taizhang_storage::Db| async move {
    let t = town(&db).await;
    let head = person(&db, "王五", &id_number("433024", "19700101", 11), t.pingxi.id).await;
    let wife = person(&db, "赵六", &id_number("433024", "19720202", 22), t.pingxi.id).await;
    let mut tx = db.begin().await.expect("begin");
    let a = Actor::System;
    let s = Scope::all();
    let h = households::create(&mut tx, &a, &s, "4312241102010001", t.pingxi.id).await.expect("household");
    households::add_member(&mut tx, &a, &s, h.id, head.id, "户主").await.expect("head");
    households::add_member(&mut tx, &a, &s, h.id, wife.id, "配偶").await.expect("wife");
    let e = households::add_member(&mut tx, &a, &s, h.id, wife.id, "表哥").await.expect_err("bad relation");
    assert!(e.to_string().contains("与户主关系"), "{e}");
    let members = households::members(&mut tx, &s, h.id).await.expect("members");
    assert_eq!(members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["王五", "赵六"]);
    assert!(households::create(&mut tx, &a, &s, "4312241102010001", t.pingxi.id).await.is_err(), "duplicate number");

    let cadre = Cadre { id: 0, name: "刘干部".into(), kind: CadreKind::Town, post: "乡村振兴办主任".into(), unit: "北斗溪镇人民政府".into(), birth_date: chrono::NaiveDate::from_ymd_opt(1992, 5, 1), place_id: t.town.id, person_id: None, user_id: None, phone: "13800000000".into(), ended_on: None, end_reason: String::new() };
    let c = orgs::create_cadre(&mut tx, &a, &s, &cadre, today()).await.expect("cadre");
    assert_eq!(c.kind, CadreKind::Town);
    let bad = Cadre { phone: "123".into(), ..cadre.clone() };
    let e = orgs::create_cadre(&mut tx, &a, &s, &bad, today()).await.expect_err("bad phone");
    assert!(e.to_string().contains("联系电话"), "{e}");

    let first17 = "91431224MA4L00001";
    let code = format!("{first17}{}", taizhang_domain::uscc::uscc_check_character(first17).expect("check"));
    let org = Organisation { id: 0, name: "坪溪民宿专业合作社".into(), uscc: Some(code.to_lowercase()), kind: "农民专业合作社".into(), address: "坪溪村".into(), place_id: t.pingxi.id, contact: String::new(), phone: String::new(), ended_on: None };
    let o = orgs::create_org(&mut tx, &a, &s, &org).await.expect("org");
    assert_eq!(o.uscc.as_deref(), Some(code.as_str()));
    let mut wrong = org.clone();
    wrong.uscc = Some(format!("{first17}{}", if code.ends_with('0') { '1' } else { '0' }));
    let e = orgs::create_org(&mut tx, &a, &s, &wrong).await.expect_err("bad code");
    assert!(e.to_string().contains("统一社会信用代码"), "{e}");
    tx.commit().await.expect("commit");
    // Each kind of registry write left its audit entry.
    let mut r = db.read().await.expect("read");
    let entries = audit::list(&mut r, &Scope::all(), &audit::AuditQuery { limit: 1000, ..Default::default() }).await.expect("audit");
    for (entity, action) in [("households", "create"), ("persons", "update"), ("cadres", "create"), ("organisations", "create"), ("places", "create"), ("persons", "create")] {
        assert!(entries.iter().any(|e| e.entity == entity && e.action == action && e.actor == "system"), "no audit entry for {action} {entity}");
    }
});

both!(every_kind_of_write_is_audited_in_its_transaction, |db: taizhang_storage::Db| async move {
    let t = town(&db).await;
    let p = person(&db, "孙七", &id_number("431224", "19980808", 31), t.maopo.id).await;
    let mut tx = db.begin().await.expect("begin");
    let updated = persons::set_status(&mut tx, &Actor::System, &Scope::all(), p.id, p.row_version, &StatusChangeInput { change: StatusChange::Death, date: chrono::NaiveDate::from_ymd_opt(2023, 6, 1), reason: String::new(), place_text: String::new() }, today())
        .await
        .expect("status");
    assert_eq!(updated.status, PersonStatus::Dead);
    tx.commit().await.expect("commit");
    // A stale version is refused.
    let mut tx = db.begin().await.expect("begin");
    let e = persons::set_status(&mut tx, &Actor::System, &Scope::all(), p.id, p.row_version, &StatusChangeInput { change: StatusChange::Normal, date: chrono::NaiveDate::from_ymd_opt(2023, 7, 1), reason: "登记有误".into(), place_text: String::new() }, today())
        .await
        .expect_err("stale");
    assert!(matches!(e, StoreError::Stale(_)), "{e}");
    drop(tx);
    // A write rolled back leaves no audit entry behind.
    let n_before = { let mut r = db.read().await.expect("r"); audit::count(&mut r).await.expect("count") };
    {
        let mut tx = db.begin().await.expect("begin");
        places::set_attributes(&mut tx, &Actor::System, t.maopo.id, vec!["脱贫村".into()]).await.expect("attrs");
    }
    let mut r = db.read().await.expect("r");
    assert_eq!(audit::count(&mut r).await.expect("count"), n_before);
    let entries = audit::list(&mut r, &Scope::all(), &audit::AuditQuery { limit: 100, ..Default::default() }).await.expect("list");
    let kinds: std::collections::BTreeSet<(String, String)> = entries.iter().map(|e| (e.entity.clone(), e.action.clone())).collect();
    for want in [("places", "create"), ("persons", "create"), ("persons", "status")] {
        assert!(kinds.contains(&(want.0.to_string(), want.1.to_string())), "missing {want:?} in {kinds:?}");
    }
    let upd = entries.iter().find(|e| e.entity == "persons" && e.action == "status").expect("status entry");
    assert_eq!(upd.before.as_ref().and_then(|b| b["status"].as_str()), Some("alive"));
    assert_eq!(upd.after.as_ref().and_then(|b| b["status"].as_str()), Some("dead"));
    // The audit trail cannot be edited.
    drop(r);
    let mut tx = db.begin().await.expect("begin");
    assert!(tx.exec("DELETE FROM audit", &[]).await.is_err(), "audit is append-only");
});

both!(a_household_number_is_normalised_like_every_import, |db: taizhang_storage::Db| async move {
    let t = town(&db).await;
    let head = person(&db, "户主", &id_number("433024", "19700101", 51), t.pingxi.id).await;
    let mut tx = db.begin().await.expect("begin");
    let s = Scope::all();
    let h = households::create(&mut tx, &Actor::System, &s, "'４３１２ 2411 0201 0009", t.pingxi.id).await.expect("create");
    assert_eq!(h.number, "4312241102010009");
    let e = households::create(&mut tx, &Actor::System, &s, "4312241102010009", t.pingxi.id).await.expect_err("the same number");
    assert!(e.to_string().contains("已存在"), "{e}");
    let e = households::create(&mut tx, &Actor::System, &s, "4.31224E+15", t.pingxi.id).await.expect_err("Excel's number");
    assert!(e.to_string().contains("被 Excel 存成了数字"), "{e}");
    let found = households::by_number(&mut tx, &s, " 4312 2411 0201 0009 ").await.expect("lookup").expect("found");
    assert_eq!(found.id, h.id);
    drop(head);
});

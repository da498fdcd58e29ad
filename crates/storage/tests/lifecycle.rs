//! A town's year on both engines: persons die, move and are corrected; households gain and
//! lose members, change head, split and move; cadres leave their post; records are voided and
//! restored; a natural key held twice and a negative amount are refused.

mod common;
use common::*;

use taizhang_domain::registry::{Cadre, CadreKind, PersonStatus, StatusChange, StatusChangeInput};
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::households::LeaveReason;
use taizhang_storage::records::{self, RecordQuery, Voids};
use taizhang_storage::{audit, households, ledgers, orgs, persons, Db, Scope, StoreError};

fn vals(pairs: &[(&str, Value)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

async fn install(db: &Db) {
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.commit().await.expect("commit");
}

fn change(c: StatusChange, date: &str, reason: &str, place: &str) -> StatusChangeInput {
    StatusChangeInput { change: c, date: Some(d(date)), reason: reason.into(), place_text: place.into() }
}

fn field_error(e: &StoreError) -> String {
    match e {
        StoreError::Domain(taizhang_domain::DomainError::Fields(list)) => {
            list.iter().map(|f| format!("{}:{}", f.label, f.reason)).collect::<Vec<_>>().join("；")
        }
        other => other.to_string(),
    }
}

both!(persons_die_move_come_back_and_are_corrected, |db: Db| async move {
    let t = town(&db).await;
    let p = person(&db, "舒建国", &id_number("433024", "19560312", 11), t.pingxi.id).await;
    let other = person(&db, "向明华", &id_number("433024", "19600101", 21), t.pingxi.id).await;
    let (a, all) = (Actor::System, Scope::all());

    // A move out needs where to; a date in the future is refused; nothing is written.
    let mut tx = db.begin().await.expect("begin");
    let e = persons::set_status(&mut tx, &a, &all, p.id, p.row_version, &change(StatusChange::MoveOut, "2023-05-01", "", ""), today())
        .await
        .expect_err("no destination");
    assert!(field_error(&e).contains("迁往何处"), "{e}");
    let e = persons::set_status(&mut tx, &a, &all, p.id, p.row_version, &change(StatusChange::Death, "2024-05-01", "", ""), today())
        .await
        .expect_err("future");
    assert!(field_error(&e).contains("不能晚于今天"), "{e}");
    drop(tx);

    let mut tx = db.begin().await.expect("begin");
    let moved = persons::set_status(&mut tx, &a, &all, p.id, p.row_version, &change(StatusChange::MoveOut, "2023-05-01", "随子女", "长沙市"), today())
        .await
        .expect("move out");
    assert_eq!((moved.status, moved.status_date, moved.status_place.as_str()), (PersonStatus::MovedOut, Some(d("2023-05-01")), "长沙市"));
    let back = persons::set_status(&mut tx, &a, &all, p.id, moved.row_version, &change(StatusChange::MoveIn, "2023-08-01", "", "长沙市"), today())
        .await
        .expect("move in");
    assert_eq!(back.status, PersonStatus::Alive);
    let dead = persons::set_status(&mut tx, &a, &all, p.id, back.row_version, &change(StatusChange::Death, "2023-10-20", "病故", ""), today())
        .await
        .expect("death");
    assert_eq!((dead.status, dead.status_date), (PersonStatus::Dead, Some(d("2023-10-20"))));
    // Undoing a death is a correction: it needs a reason.
    let e = persons::set_status(&mut tx, &a, &all, p.id, dead.row_version, &change(StatusChange::Normal, "2023-10-21", "", ""), today())
        .await
        .expect_err("reason");
    assert!(field_error(&e).contains("原因"), "{e}");
    tx.commit().await.expect("commit");

    // Corrections: a name or ID number change needs a reason; an ID number held by someone
    // else is refused naming them; sex and birth date follow the new number.
    let mut tx = db.begin().await.expect("begin");
    let e = persons::correct(&mut tx, &a, &all, other.id, other.row_version, &[("姓名".into(), "向明桦".into())], "", today())
        .await
        .expect_err("reason needed");
    assert!(field_error(&e).contains("更正原因"), "{e}");
    let e = persons::correct(&mut tx, &a, &all, other.id, other.row_version, &[("公民身份号码".into(), p.id_number.clone())], "户口簿", today())
        .await
        .expect_err("taken");
    assert!(e.to_string().contains("舒建国"), "{e}");
    let new_id = id_number("433024", "19600102", 22);
    let fixed = persons::correct(
        &mut tx,
        &a,
        &all,
        other.id,
        other.row_version,
        &[("姓名".into(), "向明桦".into()), ("公民身份号码".into(), new_id.clone()), ("民族".into(), "瑶族".into())],
        "户口簿登记有误",
        today(),
    )
    .await
    .expect("correct");
    assert_eq!((fixed.name.as_str(), fixed.id_number.as_str(), fixed.birth_date), ("向明桦", new_id.as_str(), d("1960-01-02")));
    let e = persons::correct(&mut tx, &a, &all, other.id, fixed.row_version, &[("household".into(), "x".into())], "", today())
        .await
        .expect_err("unknown field");
    assert!(field_error(&e).contains("不是可更正"), "{e}");
    tx.commit().await.expect("commit");

    // Every change is in the audit with before, after and the note.
    let mut r = db.read().await.expect("read");
    let q = audit::AuditQuery { entity: Some("persons".into()), entity_id: Some(other.id), limit: 10, ..Default::default() };
    let entries = audit::list(&mut r, &all, &q).await.expect("audit");
    let e = entries.iter().find(|e| e.note.contains("户口簿登记有误")).expect("correction entry");
    assert_eq!(e.before.as_ref().and_then(|b| b["name"].as_str()), Some("向明华"));
    assert_eq!(e.after.as_ref().and_then(|b| b["name"].as_str()), Some("向明桦"));
    let q = audit::AuditQuery { entity: Some("persons".into()), entity_id: Some(p.id), limit: 10, ..Default::default() };
    let notes: Vec<String> = audit::list(&mut r, &all, &q).await.expect("audit").into_iter().map(|e| e.note).collect();
    assert!(notes.iter().any(|n| n.contains("迁出") && n.contains("长沙市")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("死亡") && n.contains("病故")), "{notes:?}");
});

both!(households_gain_lose_split_and_move_keeping_every_record, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let (a, all) = (Actor::System, Scope::all());
    let head = person(&db, "张德福", &id_number("433024", "19550505", 31), t.pingxi.id).await;
    let wife = person(&db, "李秀芳", &id_number("433024", "19570606", 42), t.pingxi.id).await;
    let son = person(&db, "张建军", &id_number("433024", "19800707", 51), t.pingxi.id).await;
    let daughter_in_law = person(&db, "王兰", &id_number("433024", "19820808", 62), t.pingxi.id).await;
    let grandchild = person(&db, "张梓涵", &id_number("431224", "20100909", 72), t.pingxi.id).await;
    let hid = household(&db, "4312241102010001", &head).await;

    // Everyday words resolve to GB/T 4761 names by the member's sex.
    let mut tx = db.begin().await.expect("begin");
    households::join(&mut tx, &a, &all, hid, wife.id, "老伴", Some(d("2023-01-01")), "").await.expect("wife");
    households::join(&mut tx, &a, &all, hid, son.id, "子女", Some(d("2023-01-01")), "").await.expect("son");
    households::join(&mut tx, &a, &all, hid, daughter_in_law.id, "之儿媳", Some(d("2023-02-01")), "婚入").await.expect("dil");
    households::join(&mut tx, &a, &all, hid, grandchild.id, "孙子女", Some(d("2023-01-01")), "").await.expect("grandchild");
    let e = households::join(&mut tx, &a, &all, hid, grandchild.id, "邻居", None, "").await.expect_err("unknown relation");
    assert!(field_error(&e).contains("GB/T 4761"), "{e}");
    tx.commit().await.expect("commit");
    let mut r = db.read().await.expect("read");
    let rel = |ms: &[taizhang_domain::registry::Person], id: i64| ms.iter().find(|p| p.id == id).and_then(|p| p.relation.clone()).unwrap_or_default();
    let ms = households::members(&mut r, &all, hid).await.expect("members");
    assert_eq!(
        [rel(&ms, head.id), rel(&ms, wife.id), rel(&ms, son.id), rel(&ms, daughter_in_law.id), rel(&ms, grandchild.id)],
        ["户主", "配偶", "子", "儿媳", "孙女"].map(String::from)
    );
    drop(r);

    // Records about the household and about the son.
    let dibao = { let mut r = db.read().await.expect("r"); ledgers::get(&mut r, "dibao_payments").await.expect("def") };
    let insurance = { let mut r = db.read().await.expect("r"); ledgers::get(&mut r, "insurance_contributions").await.expect("def") };
    let mut tx = db.begin().await.expect("begin");
    let paid = records::create(
        &mut tx,
        &dibao,
        &a,
        &all,
        RecordInput { subject_id: Some(hid), values: vals(&[("pay_month", text("2023-03")), ("kind", text("正常发放")), ("amount", Value::Int(50_000))]), ..Default::default() },
        today(),
    )
    .await
    .expect("payment");
    let son_values: Values = insurance.fields.iter().filter(|f| f.required).map(|f| {
        let v = match f.kind {
            taizhang_domain::ledger::FieldKind::Money => Value::Int(38_000),
            taizhang_domain::ledger::FieldKind::Date => Value::Date(d("2023-03-01")),
            taizhang_domain::ledger::FieldKind::Year => Value::Int(2023),
            taizhang_domain::ledger::FieldKind::Enum => text(&f.options[0]),
            _ => text("1"),
        };
        (f.key.clone(), v)
    }).collect();
    let son_record = records::create(&mut tx, &insurance, &a, &all, RecordInput { subject_id: Some(son.id), values: son_values, ..Default::default() }, today())
        .await
        .expect("son's record");
    tx.commit().await.expect("commit");

    // The head cannot leave while others remain; after a head change he can; 分户 takes the
    // son's family to a new household in 茅坡村.
    let mut tx = db.begin().await.expect("begin");
    let e = households::leave(&mut tx, &a, &all, hid, head.id, LeaveReason::Death, d("2023-06-01"), "").await.expect_err("head");
    assert!(e.to_string().contains("户主变更"), "{e}");
    drop(tx);
    let mut tx = db.begin().await.expect("begin");
    households::change_head(&mut tx, &a, &all, hid, wife.id, &[(head.id, "夫".into()), (son.id, "子".into())], d("2023-06-01"), "原户主病重").await.expect("head change");
    households::leave(&mut tx, &a, &all, hid, head.id, LeaveReason::Death, d("2023-06-02"), "").await.expect("leave");
    let new = households::split(
        &mut tx,
        &a,
        &all,
        hid,
        "4312241102020009",
        t.maopo.id,
        &[(son.id, "户主".into()), (daughter_in_law.id, "妻".into()), (grandchild.id, "女".into())],
        d("2023-09-01"),
    )
    .await
    .expect("split");
    tx.commit().await.expect("commit");

    let mut r = db.read().await.expect("read");
    let old = households::members(&mut r, &all, hid).await.expect("old");
    assert_eq!(old.iter().map(|p| p.id).collect::<Vec<_>>(), vec![wife.id]);
    assert_eq!(households::get(&mut r, &all, hid).await.expect("h").head_person_id, Some(wife.id));
    let split_off = households::members(&mut r, &all, new.id).await.expect("new");
    assert_eq!(split_off.len(), 3);
    assert_eq!(rel(&split_off, son.id), "户主");
    assert!(split_off.iter().all(|p| p.place_id == t.maopo.id), "members moved with the new household");
    assert_eq!(new.head_person_id, Some(son.id));
    // Every record stays: the payment with the old household, the son's with the son.
    let kept = records::get(&mut r, &dibao, &all, paid.id).await.expect("payment kept");
    assert_eq!((kept.subject_id, kept.place_id), (Some(hid), t.pingxi.id));
    let kept = records::get(&mut r, &insurance, &all, son_record.id).await.expect("son's record kept");
    assert_eq!(kept.subject_id, Some(son.id));
    // Both households tell the story.
    let story: Vec<String> = households::history(&mut r, &all, hid).await.expect("history").into_iter().map(|e| format!("{} {}", e.kind_label, e.detail)).collect();
    for want in ["成员迁入", "户主变更", "成员迁出", "分户"] {
        assert!(story.iter().any(|s| s.starts_with(want)), "{want} in {story:?}");
    }
    let story = households::history(&mut r, &all, new.id).await.expect("history");
    assert!(story.iter().any(|e| e.kind == "split_from" && e.detail.contains("4312241102010001")), "{story:?}");
    drop(r);

    // The household moves back to 坪溪村 with its members.
    let mut tx = db.begin().await.expect("begin");
    households::move_to(&mut tx, &a, &all, new.id, t.pingxi.id, d("2023-11-01"), "易地搬迁").await.expect("move");
    tx.commit().await.expect("commit");
    let mut r = db.read().await.expect("read");
    assert!(households::members(&mut r, &all, new.id).await.expect("m").iter().all(|p| p.place_id == t.pingxi.id));
    // A village cadre of 茅坡村 no longer sees it.
    let maopo = Scope { path: t.maopo.path.clone() };
    assert!(households::get(&mut r, &maopo, new.id).await.is_err());
});

both!(voided_records_leave_counts_and_come_back, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let head = person(&db, "刘桂英", &id_number("433024", "19501111", 82), t.pingxi.id).await;
    let hid = household(&db, "4312241102010002", &head).await;
    let dibao = { let mut r = db.read().await.expect("r"); ledgers::get(&mut r, "dibao_payments").await.expect("def") };
    let all = Scope::all();
    let clerk = Actor::User { id: 9, username: "clerk".into(), role: Role::Clerk, place_id: t.town.id };
    let admin = Actor::User { id: 1, username: "admin".into(), role: Role::Admin, place_id: t.town.id };
    let input = |month: &str, amount: i64| RecordInput {
        subject_id: Some(hid),
        values: vals(&[("pay_month", text(month)), ("kind", text("正常发放")), ("amount", Value::Int(amount))]),
        ..Default::default()
    };
    let mut tx = db.begin().await.expect("begin");
    let r1 = records::create(&mut tx, &dibao, &clerk, &all, input("2023-01", 50_000), today()).await.expect("jan");
    records::create(&mut tx, &dibao, &clerk, &all, input("2023-02", 50_000), today()).await.expect("feb");
    // The same household, month and kind again is refused, naming the record that holds it.
    let e = records::create(&mut tx, &dibao, &clerk, &all, input("2023-01", 60_000), today()).await.expect_err("duplicate");
    assert!(e.to_string().contains(&format!("第 {} 号记录", r1.id)), "{e}");
    // A negative amount is refused, naming the field.
    let e = records::create(&mut tx, &dibao, &clerk, &all, input("2023-03", -500), today()).await.expect_err("negative");
    assert!(field_error(&e).contains("发放金额") && field_error(&e).contains("负数"), "{e}");
    // Changing a record onto a key another holds is refused too.
    let feb = records::list(&mut tx, &dibao, &all, &RecordQuery::default()).await.expect("list").pop().expect("feb");
    let e = records::update(&mut tx, &dibao, &clerk, &all, feb.id, feb.row_version, vals(&[("pay_month", text("2023-01"))]), today())
        .await
        .expect_err("update onto a taken key");
    assert!(e.to_string().contains(&format!("第 {} 号记录", r1.id)), "{e}");
    tx.commit().await.expect("commit");
    assert_eq!(record_count(&db, "dibao_payments").await, 2);

    // Voiding needs a reason; the record leaves counts but stays, with who and why.
    let mut tx = db.begin().await.expect("begin");
    let e = records::void(&mut tx, &dibao, &clerk, &all, r1.id, r1.row_version, " ").await.expect_err("reason");
    assert!(field_error(&e).contains("作废原因"), "{e}");
    let voided = records::void(&mut tx, &dibao, &clerk, &all, r1.id, r1.row_version, "重复录入").await.expect("void");
    tx.commit().await.expect("commit");
    assert_eq!(voided.voided.as_ref().map(|v| (v.by.as_str(), v.reason.as_str())), Some(("clerk", "重复录入")));
    assert_eq!(record_count(&db, "dibao_payments").await, 1);
    let mut r = db.read().await.expect("read");
    let only = RecordQuery { voids: Voids::Only, ..Default::default() };
    assert_eq!(records::list(&mut r, &dibao, &all, &only).await.expect("voided").iter().map(|x| x.id).collect::<Vec<_>>(), vec![r1.id]);
    let include = RecordQuery { voids: Voids::Include, ..Default::default() };
    assert_eq!(records::count(&mut r, &dibao, &all, &include).await.expect("all"), 2);
    drop(r);
    // A voided record cannot be edited; its key is free again.
    let mut tx = db.begin().await.expect("begin");
    let e = records::update(&mut tx, &dibao, &clerk, &all, r1.id, voided.row_version, vals(&[("amount", Value::Int(1))]), today())
        .await
        .expect_err("voided");
    assert!(e.to_string().contains("已作废"), "{e}");
    let again = records::create(&mut tx, &dibao, &clerk, &all, input("2023-01", 52_000), today()).await.expect("re-entered");
    // Restoring is for administrators, and not while another record holds the key.
    let e = records::restore(&mut tx, &dibao, &clerk, &all, r1.id, voided.row_version).await.expect_err("clerk");
    assert!(matches!(e, StoreError::Forbidden(_)), "{e}");
    let e = records::restore(&mut tx, &dibao, &admin, &all, r1.id, voided.row_version).await.expect_err("key taken");
    assert!(e.to_string().contains(&format!("第 {} 号记录", again.id)), "{e}");
    records::void(&mut tx, &dibao, &clerk, &all, again.id, again.row_version, "金额录错").await.expect("void the new one");
    let back = records::restore(&mut tx, &dibao, &admin, &all, r1.id, voided.row_version).await.expect("restore");
    tx.commit().await.expect("commit");
    assert!(back.voided.is_none());
    assert_eq!(record_count(&db, "dibao_payments").await, 2);
    // The trail says who voided and restored, and why.
    let mut r = db.read().await.expect("read");
    let q = audit::AuditQuery { entity: Some(dibao.table_name()), entity_id: Some(r1.id), limit: 10, ..Default::default() };
    let actions: Vec<(String, String)> = audit::list(&mut r, &all, &q).await.expect("audit").into_iter().map(|e| (e.action, e.note)).collect();
    assert!(actions.contains(&("void".into(), "重复录入".into())), "{actions:?}");
    assert!(actions.iter().any(|(a, _)| a == "restore"), "{actions:?}");
});

both!(a_cadre_who_has_left_cannot_be_chosen, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let head = person(&db, "陈文武", &id_number("433024", "19621212", 93), t.pingxi.id).await;
    let hid = household(&db, "4312241102010003", &head).await;
    let (a, all) = (Actor::System, Scope::all());
    let mut tx = db.begin().await.expect("begin");
    let c = Cadre {
        id: 0,
        name: "杨志强".into(),
        kind: CadreKind::Village,
        post: "村支书".into(),
        unit: String::new(),
        birth_date: None,
        place_id: t.pingxi.id,
        person_id: None,
        user_id: None,
        phone: String::new(),
        ended_on: None,
        end_reason: String::new(),
    };
    let c = orgs::create_cadre(&mut tx, &a, &all, &c, today()).await.expect("cadre");
    let visits = ledgers::get(&mut tx, "assistance_visits").await.expect("def");
    let visit = |day: &str| RecordInput {
        subject_id: Some(hid),
        values: vals(&[("visited_on", Value::Date(d(day))), ("visitor", Value::Int(c.id)), ("visit_kind", text("入户走访"))]),
        ..Default::default()
    };
    let old = records::create(&mut tx, &visits, &a, &all, visit("2023-03-01"), today()).await.expect("visit before leaving");
    let ended = orgs::end_cadre(&mut tx, &a, &all, c.id, d("2023-06-30"), "换届", today()).await.expect("end");
    assert_eq!(ended.ended_on, Some(d("2023-06-30")));
    let e = records::create(&mut tx, &visits, &a, &all, visit("2023-09-01"), today()).await.expect_err("left");
    assert!(field_error(&e).contains("已于 2023-06-30 离任"), "{e}");
    // Old records naming the cadre can still be edited.
    records::update(&mut tx, &visits, &a, &all, old.id, old.row_version, vals(&[("findings", text("生活平稳"))]), today())
        .await
        .expect("old record still editable");
    let e = orgs::end_cadre(&mut tx, &a, &all, c.id, d("2023-07-01"), "", today()).await.expect_err("twice");
    assert!(e.to_string().contains("已于"), "{e}");
    tx.commit().await.expect("commit");
});

// A town's database written before persons could be lost contact with: the upgrade rebuilds
// `persons` (SQLite cannot alter a CHECK) and keeps every person, every reference to them and
// the foreign keys; relations written the 扶贫 system's way become GB/T 4761 names.
#[tokio::test]
async fn an_older_sqlite_database_is_upgraded_in_place() {
    let dir = std::env::temp_dir().join(format!("taizhang-upgrade-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("old.db");
    let _ = std::fs::remove_file(&path);
    let target = path.to_string_lossy().to_string();
    {
        let db = Db::connect(&target).await.expect("connect");
        db.migrate_up_to(3).await.expect("old schema");
        let mut tx = db.begin().await.expect("begin");
        tx.exec_script(
            "INSERT INTO places (id, level, code, name, path, created_at) VALUES (1, 'village', '431224110201', '坪溪村', '/1/', '2023-01-01');
             INSERT INTO households (id, number, place_id, created_at, updated_at) VALUES (1, '4312241102010001', 1, '2023-01-01', '2023-01-01');
             INSERT INTO persons (id, name, id_number, sex, birth_date, place_id, household_id, relation, created_at, updated_at)
                 VALUES (7, '舒建国', '433024195603120117', 'male', '1956-03-12', 1, 1, '户主', '2023-01-01', '2023-01-01'),
                        (8, '舒明', '433024198003120114', 'male', '1980-03-12', 1, 1, '之子', '2023-01-01', '2023-01-01');
             UPDATE households SET head_person_id = 7 WHERE id = 1;
             INSERT INTO cadres (id, name, kind, place_id, person_id, created_at, updated_at) VALUES (1, '舒干部', 'village', 1, 8, '2023-01-01', '2023-01-01');",
        )
        .await
        .expect("old rows");
        tx.commit().await.expect("commit");
        db.close().await;
    }
    let db = Db::open(&target).await.expect("upgrade");
    let mut tx = db.begin().await.expect("begin");
    let p = persons::get(&mut tx, &Scope::all(), 8).await.expect("person kept");
    assert_eq!((p.name.as_str(), p.relation.as_deref(), p.household_id), ("舒明", Some("子"), Some(1)));
    let c = orgs::get_cadre(&mut tx, &Scope::all(), 1).await.expect("cadre kept");
    assert_eq!((c.person_id, c.ended_on), (Some(8), None));
    let lost = persons::set_status(&mut tx, &Actor::System, &Scope::all(), 8, p.row_version, &change(StatusChange::LostContact, "2023-05-01", "外出务工联系不上", ""), today())
        .await
        .expect("lost contact is a status now");
    assert_eq!(lost.status, PersonStatus::LostContact);
    // Foreign keys hold again after the upgrade, which ran with them off.
    assert!(tx.exec_script("UPDATE persons SET household_id = 99 WHERE id = 7").await.is_err(), "foreign keys enforced");
    drop(tx);
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

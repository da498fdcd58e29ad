//! Personal data on both engines (docs/personal-data.md): searching persons only by the whole
//! number or its documented last digits, never with wildcards; read entries and the report of
//! who read whose data; a workflow step that fills only the fields it declares; built-in
//! definitions changed only at the county level, a town's own ledgers by the town; definition
//! changes in the town's audit view.

mod common;
use common::*;

use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::masking::{id_search, Policy};
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::audit::{self, AuditQuery};
use taizhang_storage::reads::{self, Read, ReadQuery};
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::{ledgers, persons, records, Db, Scope, StoreError};

async fn install(db: &Db) {
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.commit().await.expect("commit");
}

async fn user(db: &Db, name: &str, role: Role, place_id: i64) -> Actor {
    let mut tx = db.begin().await.expect("begin");
    let u = users::create(&mut tx, &Actor::System, NewUser { username: name, display_name: name, password_hash: "x", role, place_id, ledgers: vec![], must_change_password: false })
        .await
        .expect("user");
    tx.commit().await.expect("commit");
    u.actor()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

both!(persons_are_found_by_whole_numbers_never_by_parts, |db: Db| async move {
    let t = town(&db).await;
    let number = id_number("431224", "19800105", 12);
    let p = person(&db, "张%三_", &number, t.pingxi.id).await;
    person(&db, "张大", &id_number("431224", "19810203", 7), t.pingxi.id).await;
    let mut tx = db.read().await.expect("read");
    let s = Scope::all();
    let find = |q: &str, policy: Policy| id_search(&policy, q);
    // The whole number, typed with spaces and a lower-case x, finds the person.
    let found = persons::search(&mut tx, &s, &find(&format!(" {number} "), Policy::MASKED), 10).await.expect("whole");
    assert_eq!(found.iter().map(|x| x.id).collect::<Vec<_>>(), vec![p.id]);
    // Its last 6 only for a reader who sees numbers in full; a middle part never.
    let end = &number[12..];
    assert_eq!(persons::search(&mut tx, &s, &find(end, Policy::FULL), 10).await.expect("suffix").len(), 1);
    assert!(persons::search(&mut tx, &s, &find(end, Policy::MASKED), 10).await.expect("refused").is_empty());
    assert!(persons::search(&mut tx, &s, &find(&number[4..12], Policy::FULL), 10).await.expect("middle").is_empty());
    // Wildcards are text: `%1980%` finds nobody, and a name containing % and _ is found literally.
    assert!(persons::search(&mut tx, &s, &find("%19800105%", Policy::FULL), 10).await.expect("wildcards").is_empty());
    assert_eq!(persons::search(&mut tx, &s, &find("_", Policy::FULL), 10).await.expect("underscore").len(), 1, "only the name holding an underscore");
    assert_eq!(persons::search(&mut tx, &s, &find("%三_", Policy::MASKED), 10).await.expect("literal").len(), 1);
    assert_eq!(persons::search(&mut tx, &s, &find("张", Policy::MASKED), 10).await.expect("name").len(), 2);
});

both!(reads_are_entries_and_the_report_finds_them_by_person_record_user_and_day, |db: Db| async move {
    let t = town(&db).await;
    let leader = user(&db, "leader", Role::Leader, t.town.id).await;
    let cadre = user(&db, "cadre", Role::VillageCadre, t.pingxi.id).await;
    let mut tx = db.begin().await.expect("begin");
    let list = Read {
        entity: "ld_key_population".into(),
        ids: vec![5, 3, 4, 9],
        persons: vec![21, 22],
        places: vec![t.pingxi.id, t.maopo.id],
        scope_place: Some(t.town.id),
        filter: "关键词=431224198001050123".into(),
        what: "台账列表（网页）".into(),
    };
    reads::note(&mut tx, &leader, &list).await.expect("list read");
    let one = Read { entity: "persons".into(), ids: vec![22], persons: vec![22], places: vec![t.pingxi.id], scope_place: Some(t.pingxi.id), filter: String::new(), what: "人员详情（接口）".into() };
    reads::note(&mut tx, &cadre, &one).await.expect("person read");
    // Nothing shown, nothing written.
    reads::note(&mut tx, &cadre, &Read { entity: "persons".into(), ..Default::default() }).await.expect("empty");
    tx.commit().await.expect("commit");
    let mut tx = db.read().await.expect("read");
    let town_scope = Scope { path: t.town.path.clone() };
    let all = reads::list(&mut tx, &town_scope, &ReadQuery::default()).await.expect("all");
    assert_eq!(all.len(), 2);
    let l = all.iter().find(|e| e.actor == "leader").expect("the leader's read");
    assert_eq!((l.count, l.ids.as_str(), l.persons.as_str()), (4, "3-5,9", "21-22"));
    assert!(!l.filter.contains("431224198001050123") && l.filter.contains("4****************3"), "numbers in filters are masked: {}", l.filter);
    assert_eq!(l.place_id, Some(t.town.id), "several places: the reader's own");
    // By person: the leader's list (about 22) and the cadre's person page.
    let q = ReadQuery { person: Some(22), ..Default::default() };
    assert_eq!(reads::list(&mut tx, &town_scope, &q).await.expect("person").len(), 2);
    // By record of a ledger, by user, by day.
    let q = ReadQuery { entity: Some("ld_key_population".into()), record: Some(4), ..Default::default() };
    assert_eq!(reads::list(&mut tx, &town_scope, &q).await.expect("record").len(), 1);
    let q = ReadQuery { entity: Some("ld_key_population".into()), record: Some(6), ..Default::default() };
    assert!(reads::list(&mut tx, &town_scope, &q).await.expect("no record").is_empty());
    let q = ReadQuery { actor: Some("cadre".into()), ..Default::default() };
    assert_eq!(reads::list(&mut tx, &town_scope, &q).await.expect("user")[0].note, "人员详情（接口），1 条");
    let today = chrono::Local::now().date_naive();
    let q = ReadQuery { from: Some(today), to: Some(today), ..Default::default() };
    assert_eq!(reads::list(&mut tx, &town_scope, &q).await.expect("today").len(), 2);
    let q = ReadQuery { to: today.pred_opt(), ..Default::default() };
    assert!(reads::list(&mut tx, &town_scope, &q).await.expect("yesterday").is_empty());
    // A village's scope sees only the read made there.
    let village = Scope { path: t.maopo.path.clone() };
    assert!(reads::list(&mut tx, &village, &ReadQuery::default()).await.expect("village").is_empty());
});

both!(a_step_fills_only_the_fields_it_declares, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let mut tx = db.begin().await.expect("begin");
    let disputes = ledgers::get(&mut tx, "disputes").await.expect("disputes");
    let mut values = Values::new();
    for f in disputes.fields.iter().filter(|f| f.required) {
        let v = match f.kind {
            taizhang_domain::ledger::FieldKind::Date => Value::Date(today()),
            taizhang_domain::ledger::FieldKind::Enum => text(&f.options[0]),
            taizhang_domain::ledger::FieldKind::MultiEnum => Value::List(vec![f.options[0].clone()]),
            taizhang_domain::ledger::FieldKind::Integer => Value::Int(1),
            _ => text("甲与乙"),
        };
        values.insert(f.key.clone(), v);
    }
    let input = RecordInput { place_id: Some(t.pingxi.id), values, ..Default::default() };
    let rec = records::create(&mut tx, &disputes, &Actor::System, &Scope::all(), input, today()).await.expect("dispute");
    let parties = disputes.fields.iter().find(|f| f.required && f.kind == taizhang_domain::ledger::FieldKind::Text).expect("a text field such as the parties");
    let leader = Actor::User { id: 1, username: "leader".into(), role: Role::Leader, place_id: t.town.id };
    let transfer = disputes.workflow.as_ref().and_then(|w| w.transitions.iter().find(|t| t.roles.contains(&Role::Leader) && !t.requires.is_empty())).expect("a step the leader makes");
    let mut step = Values::new();
    for k in &transfer.requires {
        let f = disputes.field(k).expect("field");
        step.insert(k.clone(), if f.kind == taizhang_domain::ledger::FieldKind::Date { Value::Date(today()) } else { text("县矛盾纠纷调处中心") });
    }
    // With a field the step does not declare: refused, naming it, nothing written.
    let mut sneaky = step.clone();
    sneaky.insert(parties.key.clone(), text("换了当事人"));
    let e = records::transition(&mut tx, &disputes, &leader, &Scope::all(), rec.id, rec.row_version, &transfer.key, sneaky, today(), &Default::default())
        .await
        .expect_err("undeclared field");
    let said = e.to_string();
    assert!(matches!(e, StoreError::Domain(_)), "{said}");
    let fields = match &e {
        StoreError::Domain(taizhang_domain::DomainError::Fields(f)) => f.clone(),
        _ => Vec::new(),
    };
    assert!(fields.iter().any(|f| f.key == parties.key && f.reason.contains(&transfer.label) && f.reason.contains("不能修改")), "{fields:?}");
    let unchanged = records::get(&mut tx, &disputes, &Scope::all(), rec.id).await.expect("get");
    assert_eq!(unchanged.row_version, rec.row_version);
    // The declared fields alone: the step is made.
    let moved = records::transition(&mut tx, &disputes, &leader, &Scope::all(), rec.id, rec.row_version, &transfer.key, step, today(), &Default::default())
        .await
        .expect("declared fields only");
    assert_eq!(moved.state.as_deref(), Some(transfer.to.as_str()));
    assert_eq!(moved.values.get(&parties.key), rec.values.get(&parties.key));
    tx.commit().await.expect("commit");
});

const TEA: &str = r#"key = "tea_gardens"
name = "茶园管护台账"
group = "农业农村"
subject = "none"
[time]
kind = "event"
field = "checked_on"
[[fields]]
key = "checked_on"
label = "检查日期"
type = "date"
required = true
"#;

both!(built_in_definitions_change_only_at_the_county_and_every_town_sees_the_entry, |db: Db| async move {
    install(&db).await;
    let t = town(&db).await;
    let town_admin = user(&db, "townadmin", Role::Admin, t.town.id).await;
    let county_admin = user(&db, "countyadmin", Role::Admin, t.county.id).await;
    let clerk = user(&db, "clerk", Role::Clerk, t.town.id).await;
    let mut tx = db.begin().await.expect("begin");
    // A town's administrator: the marks of 重点人群 stay where the county put them.
    let mut kp = ledgers::get(&mut tx, "key_population").await.expect("kp");
    for f in &mut kp.fields {
        f.sensitivity = None;
    }
    let e = ledgers::define(&mut tx, &town_admin, &kp).await.expect_err("built-in");
    assert!(matches!(e, StoreError::Forbidden(_)) && e.to_string().contains("县级管理员"), "{e}");
    // Nor a new field on a built-in ledger.
    let mut dibao = ledgers::get(&mut tx, "dibao").await.expect("dibao");
    dibao.fields.push(taizhang_domain::ledger::LedgerDef::from_toml(TEA).expect("tea").fields[0].clone());
    assert!(matches!(ledgers::define(&mut tx, &town_admin, &dibao).await, Err(StoreError::Forbidden(_))));
    // A 业务员 defines nothing.
    assert!(matches!(ledgers::define(&mut tx, &clerk, &LedgerDef::from_toml(TEA).expect("tea")).await, Err(StoreError::Forbidden(_))));
    // Its own ledger, and then a field on it: yes.
    let tea = LedgerDef::from_toml(TEA).expect("tea");
    ledgers::define(&mut tx, &town_admin, &tea).await.expect("the town's own ledger");
    let mut tea2 = tea.clone();
    let mut area = tea.fields[0].clone();
    area.key = "area".into();
    area.label = "面积".into();
    area.required = false;
    tea2.fields.push(area);
    let saved = ledgers::define(&mut tx, &town_admin, &tea2).await.expect("a field on its own ledger");
    assert!(saved.field("area").is_some());
    // Another town's administrator may not touch it.
    let other_town = taizhang_storage::places::create(
        &mut tx,
        &Actor::System,
        taizhang_storage::places::NewPlace { parent_id: Some(t.county.id), level: taizhang_domain::place::PlaceLevel::Town, code: Some("431224111000"), name: "另一镇", attributes: vec![] },
    )
    .await
    .expect("town");
    tx.commit().await.expect("commit");
    let other_admin = user(&db, "otheradmin", Role::Admin, other_town.id).await;
    let mut tx = db.begin().await.expect("begin");
    assert!(matches!(ledgers::define(&mut tx, &other_admin, &tea).await, Err(StoreError::Forbidden(_))));
    // The county's administrator changes a built-in definition.
    let mut kp = ledgers::get(&mut tx, "key_population").await.expect("kp");
    kp.description = "县里统一修订的说明".into();
    ledgers::define(&mut tx, &county_admin, &kp).await.expect("county changes a built-in");
    tx.commit().await.expect("commit");
    // Both changes appear in the town's audit view: its own (placed at the town) and the
    // county's (placed at the county, shared by every town below).
    let mut tx = db.read().await.expect("read");
    let town_scope = Scope { path: t.town.path.clone() };
    let q = AuditQuery { entity: Some("ledger_defs".into()), limit: 100, ..Default::default() };
    let seen = audit::list(&mut tx, &town_scope, &q).await.expect("town audit");
    assert!(seen.iter().any(|e| e.actor == "townadmin" && e.note == "tea_gardens" && e.place_id == Some(t.town.id)), "{seen:?}");
    assert!(seen.iter().any(|e| e.actor == "countyadmin" && e.note == "key_population" && e.place_id == Some(t.county.id)));
    // Another town does not see the first town's own ledger being defined.
    let other = Scope { path: other_town.path.clone() };
    let theirs = audit::list(&mut tx, &other, &q).await.expect("other audit");
    assert!(theirs.iter().all(|e| e.actor != "townadmin"));
    assert!(theirs.iter().any(|e| e.actor == "countyadmin"));
});

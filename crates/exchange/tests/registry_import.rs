//! The whole registry by import: households, cadres and organisations, each by `--ledger` (in
//! English or Chinese) or by its sheet's name. Each row gets 新增, 更新, 未变 or 拒绝; a
//! re-import of the same file is 未变 throughout and writes no audit; a change is an update
//! audited with before and after; a bad row is refused naming its column, and nothing is
//! written. Every blank template, filled in, imports.

mod common;
use common::*;

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use taizhang_domain::registry::{Cadre, CadreKind, Organisation};
use taizhang_domain::role::Actor;
use taizhang_domain::uscc::uscc_check_character;
use taizhang_exchange::{import_file, write_registry_template, ImportOptions, ImportReport, RegistryTarget, Verdict};
use taizhang_storage::audit::{self, AuditEntry, AuditQuery};
use taizhang_storage::{households, orgs, persons, Db, Scope};

/// A cell of a fixture row.
#[derive(Clone)]
enum C {
    S(String),
    N(f64),
    D(u16, u8, u8),
    E,
}

fn s(t: &str) -> C {
    if t.is_empty() {
        C::E
    } else {
        C::S(t.to_string())
    }
}

fn write_xlsx(path: &Path, sheet: &str, header: &[&str], rows: &[Vec<C>]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).expect("name");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    ws.write_string(0, 0, "北斗溪镇 2023 年").expect("title");
    for (c, h) in (0u16..).zip(header) {
        ws.write_string(1, c, *h).expect("header");
    }
    for (r, row) in (2u32..).zip(rows) {
        for (c, cell) in (0u16..).zip(row) {
            match cell {
                C::S(t) => {
                    ws.write_string(r, c, t).expect("text");
                }
                C::N(n) => {
                    ws.write_number(r, c, *n).expect("number");
                }
                C::D(y, m, d) => {
                    let dt = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
                    ws.write_datetime_with_format(r, c, &dt, &date).expect("date");
                }
                C::E => {}
            }
        }
    }
    wb.save(path).expect("save");
}

async fn run(db: &Db, path: &Path, ledger: Option<&str>) -> ImportReport {
    let opts = ImportOptions { ledger: ledger.map(str::to_string), ..Default::default() };
    let r = import_file(db, &Actor::System, &Scope::all(), path, &opts, today()).await.expect("import");
    assert!(r.balanced(), "{}", r.summary());
    r
}

fn verdicts(r: &ImportReport) -> Vec<Verdict> {
    r.verdicts.iter().map(|(_, v)| v.clone()).collect()
}

/// The rejection of an Excel row; panics when the row was not refused.
fn refused(r: &ImportReport, row: u32) -> &taizhang_exchange::Rejection {
    r.rejections.iter().find(|x| x.row == row).unwrap_or_else(|| panic!("row {row} refused: {:?}", r.rejections))
}

async fn entries(db: &Db, entity: &str, id: i64) -> Vec<AuditEntry> {
    let mut tx = db.read().await.expect("read");
    let q = AuditQuery { entity: Some(entity.into()), entity_id: Some(id), ..Default::default() };
    audit::list(&mut tx, &Scope::all(), &q).await.expect("audit")
}

/// A valid 统一社会信用代码 ending a 91431224 prefix with `tail` (9 characters).
fn uscc(tail: &str) -> String {
    let first17 = format!("91431224{tail}");
    let c = uscc_check_character(&first17).expect("17 characters");
    format!("{first17}{c}")
}

const HOUSEHOLD_HEADER: &[&str] = &["序号", "户编号", "户主姓名", "户主身份证号码", "所属村", "组"];

fn hh(seq: u32, number: &str, head: &str, id: &str, village: &str, group: &str) -> Vec<C> {
    vec![s(&seq.to_string()), s(number), s(head), s(id), s(village), s(group)]
}

both!(households_import_update_and_refuse, |db: Db| async move {
    let t = town(&db).await;
    let registered = id_number("431224", "19601010", 15);
    person(&db, "张建国", &registered, t.maopo.id).await;
    let (wang, chen) = (id_number("433024", "19500101", 11), id_number("431224", "19721212", 31));
    let dir = tempfile::tempdir().expect("dir");

    let first = dir.path().join("户.xlsx");
    write_xlsx(
        &first,
        "户",
        HOUSEHOLD_HEADER,
        &[
            // A head not yet registered: registered from the row, at the household's place.
            hh(1, "4312240001", "王大山", &wang, "坪溪村", "一组"),
            // No head yet: the 花名册 names one later.
            hh(2, "4312240002", "", "", "茅坡村", ""),
            // A registered head, given by the village of his group-less registration.
            hh(3, "4312240003", "张建国", &registered, "茅坡村", ""),
        ],
    );
    let r = run(&db, &first, None).await;
    assert_eq!((r.target.as_str(), r.target_name.as_str()), ("households", "户"), "recognised by the sheet's name");
    assert_eq!(verdicts(&r), [Verdict::New, Verdict::New, Verdict::New], "{:?}", r.rejections);
    assert!(r.committed && r.unknown_columns.is_empty(), "{:?}", r.unknown_columns);
    let mut tx = db.read().await.expect("read");
    let s = Scope::all();
    let h1 = households::by_number(&mut tx, &s, "4312240001").await.expect("q").expect("household");
    assert_eq!(h1.place_id, t.group1.id);
    let head = persons::by_id_number(&mut tx, &s, &wang).await.expect("q").expect("head registered");
    assert_eq!((head.name.as_str(), head.place_id, head.household_id, head.relation.as_deref()), ("王大山", t.group1.id, Some(h1.id), Some("户主")));
    assert_eq!(h1.head_person_id, Some(head.id));
    let h3 = households::by_number(&mut tx, &s, "4312240003").await.expect("q").expect("household");
    assert_eq!(persons::get(&mut tx, &s, h3.head_person_id.expect("head")).await.expect("head").id_number, registered);
    drop(tx);

    // The same file again: nothing to do, nothing audited.
    let audits = audit_count(&db).await;
    let again = run(&db, &first, Some("households")).await;
    assert_eq!(verdicts(&again), vec![Verdict::Unchanged; 3], "{:?}", again.rejections);
    assert_eq!(audit_count(&db).await, audits);

    // The second sheet names the head of 0002, and gives 0003 a group of its village.
    let group = {
        let mut tx = db.begin().await.expect("begin");
        let g = taizhang_storage::places::create(
            &mut tx,
            &Actor::System,
            taizhang_storage::places::NewPlace { parent_id: Some(t.maopo.id), level: taizhang_domain::place::PlaceLevel::Group, code: None, name: "三组", attributes: vec![] },
        )
        .await
        .expect("group");
        tx.commit().await.expect("commit");
        g
    };
    let second = dir.path().join("户（补充）.xlsx");
    write_xlsx(
        &second,
        "Sheet1",
        HOUSEHOLD_HEADER,
        &[
            hh(1, "4312240001", "王大山", &wang, "坪溪村", "一组"),
            hh(2, "4312240002", "陈卫东", &chen, "茅坡村", ""),
            hh(3, "4312240003", "张建国", &registered, "茅坡村", "三组"),
        ],
    );
    let r = run(&db, &second, Some("家庭户")).await;
    assert_eq!(verdicts(&r), [Verdict::Unchanged, Verdict::Updated, Verdict::Updated], "{:?}", r.rejections);
    let mut tx = db.read().await.expect("read");
    let h2 = households::by_number(&mut tx, &s, "4312240002").await.expect("q").expect("household");
    let chen_p = persons::by_id_number(&mut tx, &s, &chen).await.expect("q").expect("registered");
    assert_eq!((h2.head_person_id, chen_p.household_id, chen_p.place_id), (Some(chen_p.id), Some(h2.id), t.maopo.id));
    let h3 = households::by_number(&mut tx, &s, "4312240003").await.expect("q").expect("household");
    assert_eq!(h3.place_id, group.id, "the group filled in");
    let zhang = persons::by_id_number(&mut tx, &s, &registered).await.expect("q").expect("p");
    assert_eq!(zhang.place_id, group.id, "members move with their household");
    drop(tx);
    // Audited: the head's joining, the household's move with the file as its reason.
    let joined = entries(&db, "persons", chen_p.id).await;
    assert!(joined.iter().any(|e| e.note.contains("加入户") && e.note.contains("4312240002")), "{joined:?}");
    let moved = entries(&db, "households", h3.id).await;
    let m = moved.iter().find(|e| e.action == "update").expect("move audited");
    assert_eq!(m.before.as_ref().and_then(|b| b["place_id"].as_i64()), Some(t.maopo.id));
    assert_eq!(m.after.as_ref().and_then(|a| a["place_id"].as_i64()), Some(group.id));
    assert!(m.note.contains("户信息导入「户（补充）.xlsx」"), "{}", m.note);
    let audits = audit_count(&db).await;
    assert_eq!(verdicts(&run(&db, &second, Some("户")).await), vec![Verdict::Unchanged; 3]);
    assert_eq!(audit_count(&db).await, audits);

    // Refused, each naming its column; the good row in the file is not written either.
    let bad = dir.path().join("户（错误）.xlsx");
    let mut number_cell = hh(6, "", "", "", "茅坡村", "");
    number_cell[1] = C::N(4312240000000001.0);
    write_xlsx(
        &bad,
        "户",
        HOUSEHOLD_HEADER,
        &[
            hh(1, "4312240009", "", "", "坪溪村", ""),
            // Another village: a move is made on the household page.
            hh(2, "4312240001", "", "", "茅坡村", ""),
            // A different head: 户主变更 on the household page.
            hh(3, "4312240002", "王大山", &wang, "", ""),
            // A new household without a village.
            hh(4, "4312240010", "", "", "", ""),
            // A head's name that is not the registered one.
            hh(5, "4312240003", "张建军", &registered, "", ""),
            // A 16-digit 户编号 Excel stored as a number.
            number_cell,
            // The same household twice.
            hh(7, "4312240009", "", "", "坪溪村", ""),
            // A name alone cannot register a head.
            hh(8, "4312240011", "李四", "", "坪溪村", ""),
        ],
    );
    let r = run(&db, &bad, Some("households")).await;
    assert_eq!((r.read, r.new, r.rejected), (8, 1, 7), "{:?}", r.rejections);
    assert!(!r.committed);
    assert!(refused(&r, 4).column.contains("所属村") && refused(&r, 4).reason.contains("整户迁移"), "{:?}", refused(&r, 4));
    assert!(refused(&r, 5).column.contains("户主身份证号码") && refused(&r, 5).reason.contains("户主变更"), "{:?}", refused(&r, 5));
    assert!(refused(&r, 6).column.contains("所属村") && refused(&r, 6).reason.contains("新建户"), "{:?}", refused(&r, 6));
    assert!(refused(&r, 7).column.contains("户主姓名") && refused(&r, 7).reason.contains("张建国"), "{:?}", refused(&r, 7));
    assert!(refused(&r, 8).column.contains("户编号") && refused(&r, 8).reason.contains("文本"), "{:?}", refused(&r, 8));
    assert!(refused(&r, 9).column.contains("户编号") && refused(&r, 9).reason.contains("第 3 行"), "{:?}", refused(&r, 9));
    assert!(refused(&r, 10).column.contains("户主姓名") && refused(&r, 10).reason.contains("户主身份证号码"), "{:?}", refused(&r, 10));
    assert_eq!(audit_count(&db).await, audits, "nothing written");
    let mut tx = db.read().await.expect("read");
    assert!(households::by_number(&mut tx, &s, "4312240009").await.expect("q").is_none());
});

const CADRE_HEADER: &[&str] = &["序号", "姓名", "身份证号码", "干部类别", "职务", "工作单位", "所在村", "联系电话", "离任日期", "离任原因"];

#[allow(clippy::too_many_arguments)]
fn cadre(seq: u32, name: &str, id: &str, kind: &str, post: &str, unit: &str, place: &str, phone: &str, ended: C, why: &str) -> Vec<C> {
    vec![s(&seq.to_string()), s(name), s(id), s(kind), s(post), s(unit), s(place), s(phone), ended, s(why)]
}

async fn cadres_named(db: &Db, name: &str) -> Vec<Cadre> {
    let mut tx = db.read().await.expect("read");
    orgs::list_cadres(&mut tx, &Scope::all()).await.expect("list").into_iter().filter(|c| c.name == name).collect()
}

both!(cadres_import_update_and_refuse, |db: Db| async move {
    let t = town(&db).await;
    let zhang = id_number("431224", "19700315", 13);
    person(&db, "张书记", &zhang, t.pingxi.id).await;
    // 刘干部 of the fixture, born 1992-05-01, registered without an ID number.
    let liu = id_number("431224", "19920501", 17);
    let zhao = id_number("431224", "19880808", 19);
    let dir = tempfile::tempdir().expect("dir");
    let first = dir.path().join("干部.xlsx");
    let rows = vec![
        cadre(1, "张书记", &zhang, "村干部", "村党支部书记", "坪溪村村委会", "坪溪村", "13811112222", C::E, ""),
        // No ID number: a name at a place. No kind: a town's cadre by the place.
        cadre(2, "李主任", "", "", "党政办主任", "北斗溪镇人民政府", "北斗溪镇", "", C::E, ""),
        // Already registered (by name and the birth date in the number): nothing new.
        cadre(3, "刘干部", &liu, "镇干部", "乡村振兴办主任", "北斗溪镇人民政府", "北斗溪镇", "13800000000", C::E, ""),
        // Left in June: registered, then the 离任 recorded.
        cadre(4, "赵队员", &zhao, "驻村队员", "驻村工作队员", "县农业农村局", "茅坡村", "", C::D(2023, 6, 30), "轮换"),
    ];
    write_xlsx(&first, "Sheet1", CADRE_HEADER, &rows);
    let r = run(&db, &first, Some("干部")).await;
    assert_eq!((r.target.as_str(), r.target_name.as_str()), ("cadres", "干部名册"));
    assert_eq!(verdicts(&r), [Verdict::New, Verdict::New, Verdict::Unchanged, Verdict::New], "{:?}", r.rejections);
    assert!(r.unknown_columns.is_empty(), "{:?}", r.unknown_columns);
    let z = &cadres_named(&db, "张书记").await[0];
    let linked = {
        let mut tx = db.read().await.expect("read");
        persons::by_id_number(&mut tx, &Scope::all(), &zhang).await.expect("q").expect("p").id
    };
    assert_eq!((z.kind, z.post.as_str(), z.place_id, z.person_id, z.birth_date), (CadreKind::Village, "村党支部书记", t.pingxi.id, Some(linked), Some(d("1970-03-15"))));
    let li = &cadres_named(&db, "李主任").await[0];
    assert_eq!((li.kind, li.place_id, li.birth_date), (CadreKind::Town, t.town.id, None));
    assert_eq!(cadres_named(&db, "刘干部").await.len(), 1, "matched, not registered twice");
    let zh = &cadres_named(&db, "赵队员").await[0];
    assert_eq!((zh.kind, zh.ended_on, zh.end_reason.as_str()), (CadreKind::Resident, Some(d("2023-06-30")), "轮换"));

    let audits = audit_count(&db).await;
    let again = run(&db, &first, Some("cadres")).await;
    assert_eq!(verdicts(&again), vec![Verdict::Unchanged; 4], "{:?}", again.rejections);
    assert_eq!(audit_count(&db).await, audits);

    // A new post for 张书记; 李主任 leaves; 刘干部's birth date is already right.
    let second = dir.path().join("干部（年底）.xlsx");
    let rows = vec![
        cadre(1, "张书记", &zhang, "村干部", "村委会主任", "", "坪溪村", "", C::E, ""),
        cadre(2, "李主任", "", "镇干部", "党政办主任", "", "北斗溪镇", "", C::D(2023, 10, 1), "调离"),
    ];
    write_xlsx(&second, "干部名册", CADRE_HEADER, &rows);
    let r = run(&db, &second, None).await;
    assert_eq!(r.target, "cadres", "recognised by the sheet's name");
    assert_eq!(verdicts(&r), [Verdict::Updated, Verdict::Updated], "{:?}", r.rejections);
    let z2 = &cadres_named(&db, "张书记").await[0];
    assert_eq!((z2.id, z2.post.as_str(), z2.unit.as_str()), (z.id, "村委会主任", "坪溪村村委会"), "a blank 工作单位 keeps the registered one");
    let e = entries(&db, "cadres", z.id).await.into_iter().find(|e| e.action == "update").expect("update audited");
    assert_eq!(e.before.as_ref().and_then(|b| b["post"].as_str()), Some("村党支部书记"));
    assert_eq!(e.after.as_ref().and_then(|a| a["post"].as_str()), Some("村委会主任"));
    let li2 = &cadres_named(&db, "李主任").await[0];
    assert_eq!((li2.ended_on, li2.end_reason.as_str()), (Some(d("2023-10-01")), "调离"));
    let ended = entries(&db, "cadres", li.id).await.into_iter().find(|e| e.action == "update").expect("离任 audited");
    assert!(ended.note.contains("离任"), "{}", ended.note);
    let audits = audit_count(&db).await;
    assert_eq!(verdicts(&run(&db, &second, None).await), vec![Verdict::Unchanged; 2]);
    assert_eq!(audit_count(&db).await, audits);

    // Refused rows name their column; nothing is written.
    let bad = dir.path().join("干部（错误）.xlsx");
    let mut id_as_number = cadre(6, "钱会计", "", "村干部", "报账员", "", "坪溪村", "", C::E, "");
    id_as_number[2] = C::N(4.31224198808082e17);
    let rows = vec![
        cadre(1, "孙委员", "", "村干部", "委员", "", "坪溪村", "12345", C::E, ""),
        cadre(2, "周委员", "", "局长", "委员", "", "坪溪村", "", C::E, ""),
        cadre(3, "吴委员", "", "村干部", "委员", "", "", "", C::E, ""),
        cadre(4, "郑委员", "", "村干部", "委员", "", "坪溪村", "", C::D(2030, 1, 1), ""),
        cadre(5, "王委员", "", "村干部", "委员", "", "坪溪村", "", C::E, "调离"),
        id_as_number,
        cadre(7, "张书记", &zhang, "村干部", "村委会主任", "", "坪溪村", "", C::E, ""),
        cadre(8, "张书记", &zhang, "村干部", "村委会主任", "", "坪溪村", "", C::E, ""),
        cadre(9, "冯委员", "", "村干部", "委员", "", "不存在村", "", C::E, ""),
    ];
    write_xlsx(&bad, "干部名册", CADRE_HEADER, &rows);
    let r = run(&db, &bad, None).await;
    assert_eq!((r.read, r.unchanged, r.rejected), (9, 1, 8), "{:?}", r.rejections);
    assert!(!r.committed);
    let named = |row: u32, column: &str, words: &str| {
        let x = refused(&r, row);
        assert!(x.column.contains(column) && x.reason.contains(words), "row {row}: {x:?}");
    };
    named(3, "联系电话", "电话号码");
    named(4, "干部类别", "驻村工作队员");
    named(5, "所在村", "必须填写所属地点");
    named(6, "离任日期", "不能晚于今天");
    named(7, "离任原因", "离任日期");
    named(8, "身份证号码", "文本格式");
    named(10, "身份证号码", "第 9 行");
    named(11, "所在村", "不存在村");
    assert_eq!(audit_count(&db).await, audits);
});

const ORG_HEADER: &[&str] = &["序号", "单位名称", "统一社会信用代码", "单位类型", "所属村", "地址", "联系人", "联系电话", "注销日期"];

#[allow(clippy::too_many_arguments)]
fn org(seq: u32, name: &str, code: &str, kind: &str, village: &str, address: &str, contact: &str, phone: &str, ended: C) -> Vec<C> {
    vec![s(&seq.to_string()), s(name), s(code), s(kind), s(village), s(address), s(contact), s(phone), ended]
}

async fn orgs_named(db: &Db, name: &str) -> Vec<Organisation> {
    let mut tx = db.read().await.expect("read");
    orgs::list_orgs(&mut tx, &Scope::all()).await.expect("list").into_iter().filter(|o| o.name == name).collect()
}

both!(organisations_import_update_and_refuse, |db: Db| async move {
    let t = town(&db).await;
    let (gas, coop) = (uscc("MA4L00001"), uscc("MA4L00002"));
    let dir = tempfile::tempdir().expect("dir");
    let first = dir.path().join("单位.xlsx");
    let rows = vec![
        // The fixture's gas station, registered without a code: found by name and village, its code filled in.
        org(1, "坪溪液化气站", &gas, "企业", "坪溪村", "", "", "", C::E),
        // Everyday words for the kinds.
        org(2, "茅坡种养专业合作社", &coop, "合作社", "茅坡村", "茅坡村三组", "陈社长", "13900001111", C::E),
        org(3, "村卫生室", "", "卫生室", "坪溪村", "", "", "", C::E),
        // The same name in another village is another organisation.
        org(4, "村卫生室", "", "医疗机构", "茅坡村", "", "", "", C::E),
        org(5, "老王小卖部", "", "个体户", "坪溪村", "", "王老板", "", C::D(2023, 8, 1)),
    ];
    write_xlsx(&first, "单位名录", ORG_HEADER, &rows);
    let r = run(&db, &first, None).await;
    assert_eq!((r.target.as_str(), r.target_name.as_str()), ("organisations", "单位名录"));
    assert_eq!(verdicts(&r), [Verdict::Updated, Verdict::New, Verdict::New, Verdict::New, Verdict::New], "{:?}", r.rejections);
    let g = &orgs_named(&db, "坪溪液化气站").await[0];
    assert_eq!(g.uscc.as_deref(), Some(gas.as_str()));
    let filled = entries(&db, "organisations", g.id).await.into_iter().find(|e| e.action == "update").expect("audited");
    assert!(filled.before.as_ref().is_some_and(|b| b["uscc"].is_null()), "{filled:?}");
    let c = &orgs_named(&db, "茅坡种养专业合作社").await[0];
    assert_eq!((c.kind.as_str(), c.place_id, c.contact.as_str()), ("农民专业合作社", t.maopo.id, "陈社长"));
    let clinics = orgs_named(&db, "村卫生室").await;
    assert_eq!(clinics.len(), 2);
    assert!(clinics.iter().all(|o| o.kind == "医疗机构"));
    let shop = &orgs_named(&db, "老王小卖部").await[0];
    assert_eq!((shop.kind.as_str(), shop.ended_on), ("个体工商户", Some(d("2023-08-01"))));

    let audits = audit_count(&db).await;
    let again = run(&db, &first, Some("单位")).await;
    assert_eq!(verdicts(&again), vec![Verdict::Unchanged; 5], "{:?}", again.rejections);
    assert_eq!(audit_count(&db).await, audits);

    // The cooperative by its code alone (another name, a new contact); a clinic by its name
    // and village; the gas station closes.
    let second = dir.path().join("单位（变更）.xlsx");
    let rows = vec![
        org(1, "茅坡村种养专业合作社", &coop, "", "", "", "陈新社长", "", C::E),
        org(2, "村卫生室", "", "", "茅坡村", "", "李医生", "", C::E),
        org(3, "坪溪液化气站", &gas, "", "", "", "", "", C::D(2023, 11, 30)),
    ];
    write_xlsx(&second, "Sheet1", ORG_HEADER, &rows);
    let r = run(&db, &second, Some("organisations")).await;
    assert_eq!(verdicts(&r), [Verdict::Updated, Verdict::Updated, Verdict::Updated], "{:?}", r.rejections);
    let e = entries(&db, "organisations", c.id).await.into_iter().find(|e| e.action == "update").expect("audited");
    assert_eq!(e.before.as_ref().and_then(|b| b["contact"].as_str()), Some("陈社长"));
    assert_eq!(e.after.as_ref().and_then(|a| a["contact"].as_str()), Some("陈新社长"));
    assert_eq!(e.after.as_ref().and_then(|a| a["name"].as_str()), Some("茅坡村种养专业合作社"));
    let clinic: Vec<Organisation> = orgs_named(&db, "村卫生室").await.into_iter().filter(|o| o.contact == "李医生").collect();
    assert_eq!((clinic.len(), clinic[0].place_id), (1, t.maopo.id));
    assert_eq!(orgs_named(&db, "坪溪液化气站").await[0].ended_on, Some(d("2023-11-30")));
    let audits = audit_count(&db).await;
    assert_eq!(verdicts(&run(&db, &second, Some("organisations")).await), vec![Verdict::Unchanged; 3]);
    assert_eq!(audit_count(&db).await, audits);

    let bad = dir.path().join("单位（错误）.xlsx");
    let wrong_check = format!("{}{}", &gas[..17], if gas.ends_with('0') { '1' } else { '0' });
    let mut code_as_number = org(5, "某某公司", "", "企业", "坪溪村", "", "", "", C::E);
    code_as_number[2] = C::N(9.1431224e17);
    let rows = vec![
        org(1, "甲公司", &wrong_check, "企业", "坪溪村", "", "", "", C::E),
        org(2, "乙公司", "", "政府", "坪溪村", "", "", "", C::E),
        org(3, "丙公司", "", "", "坪溪村", "", "", "", C::E),
        // Which 村卫生室? One in each village, both open.
        org(4, "村卫生室", "", "", "", "", "", "", C::E),
        code_as_number,
        org(6, "丁公司", "", "企业", "", "", "", "", C::E),
        org(7, "戊公司", "", "企业", "坪溪村", "", "", "0745", C::E),
    ];
    write_xlsx(&bad, "单位名录", ORG_HEADER, &rows);
    let r = run(&db, &bad, None).await;
    assert_eq!((r.read, r.rejected), (7, 7), "{:?}", r.rejections);
    let named = |row: u32, column: &str, words: &str| {
        let x = refused(&r, row);
        assert!(x.column.contains(column) && x.reason.contains(words), "row {row}: {x:?}");
    };
    named(3, "统一社会信用代码", "");
    named(4, "单位类型", "可选");
    named(5, "单位类型", "必须填写单位类型");
    named(6, "单位名称", "认不出");
    named(7, "统一社会信用代码", "文本格式");
    named(8, "所属村", "必须填写所属村");
    named(9, "联系电话", "电话号码");
    assert_eq!(audit_count(&db).await, audits);
});

/// Reads the header and notes rows of a template (rows 2 and 3).
fn template_rows(path: &Path) -> (String, String, Vec<String>, Vec<String>) {
    use calamine::{open_workbook_auto, Reader};
    let mut wb = open_workbook_auto(path).expect("open template");
    let sheet = wb.sheet_names().first().cloned().expect("a sheet");
    let range = wb.worksheet_range(&sheet).expect("sheet");
    let row = |r: u32| -> Vec<String> {
        (0..range.width() as u32).map(|c| range.get_value((r, c)).map(|v| v.to_string()).unwrap_or_default()).collect()
    };
    let title = row(0).first().cloned().unwrap_or_default();
    (sheet, title, row(1), row(2))
}

/// A filled-in row: (header, value).
type Filled = Vec<(&'static str, String)>;

/// The template, filled in: its own title, headers and notes, then rows given by header.
fn fill(template: &Path, out: &Path, rows: &[Filled]) {
    let (sheet, title, header, notes) = template_rows(template);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(&sheet).expect("name");
    ws.write_string(0, 0, &title).expect("title");
    for (c, (h, n)) in (0u16..).zip(header.iter().zip(&notes)) {
        ws.write_string(1, c, h).expect("header");
        ws.write_string(2, c, n).expect("note");
    }
    for (r, row) in (3u32..).zip(rows) {
        for (h, v) in row {
            let c = header.iter().position(|x| x == h).unwrap_or_else(|| panic!("the template has a column {h}: {header:?}"));
            ws.write_string(r, c as u16, v).expect("cell");
        }
    }
    wb.save(out).expect("save");
}

both!(every_registry_template_filled_in_imports, |db: Db| async move {
    town(&db).await;
    let dir = tempfile::tempdir().expect("dir");
    let (head, wife) = (id_number("431224", "19650404", 45), id_number("431224", "19680505", 56));
    let code = uscc("MA4L00003");
    let v = |t: &str| t.to_string();
    let filled: Vec<(RegistryTarget, Vec<Filled>)> = vec![
        (RegistryTarget::Households, vec![vec![("户编号", v("H9001")), ("户主姓名", v("张建国")), ("户主身份证号码", head.clone()), ("所属村", v("坪溪村")), ("组", v("一组"))]]),
        (
            RegistryTarget::Persons,
            vec![vec![
                ("户编号", v("H9001")),
                ("姓名", v("刘芳")),
                ("性别", v("女")),
                ("公民身份号码", wife.clone()),
                ("与户主关系", v("之妻")),
                ("民族", v("汉族")),
                ("所属村", v("坪溪村")),
                ("组", v("一组")),
                ("人员状态", v("正常")),
            ]],
        ),
        (
            RegistryTarget::Cadres,
            vec![vec![("姓名", v("周委员")), ("公民身份号码", id_number("431224", "19750101", 77)), ("干部类别", v("村干部")), ("职务", v("村委委员")), ("所属地点", v("坪溪村")), ("联系电话", v("13712345678"))]],
        ),
        (
            RegistryTarget::Organisations,
            vec![vec![("单位名称", v("坪溪农机专业合作社")), ("统一社会信用代码", code.clone()), ("单位类型", v("农民专业合作社")), ("所属村", v("坪溪村")), ("联系人", v("周社长"))]],
        ),
    ];
    for (target, rows) in &filled {
        let template = dir.path().join(target.template_file_name());
        write_registry_template(*target, &template).expect("template");
        let (_, _, header, notes) = template_rows(&template);
        assert!(notes.iter().all(|n| !n.is_empty()), "{target:?}: every column explained: {header:?} {notes:?}");
        let path = dir.path().join(format!("{}-填好.xlsx", target.key()));
        fill(&template, &path, rows);
        // Recognised by the template's sheet name, without --ledger.
        let r = run(&db, &path, None).await;
        assert_eq!(r.target, target.key());
        assert!(r.unknown_columns.is_empty(), "{target:?}: {:?}", r.unknown_columns);
        assert_eq!((r.read, r.new), (rows.len(), rows.len()), "{target:?}: {:?}", r.rejections);
        let again = run(&db, &path, None).await;
        assert_eq!(again.unchanged, rows.len(), "{target:?}: {:?}", again.rejections);
    }
    let mut tx = db.read().await.expect("read");
    let s = Scope::all();
    let h = households::by_number(&mut tx, &s, "H9001").await.expect("q").expect("household");
    let members = households::members(&mut tx, &s, h.id).await.expect("members");
    let rel: Vec<(&str, Option<&str>)> = members.iter().map(|p| (p.name.as_str(), p.relation.as_deref())).collect();
    assert_eq!(rel, [("张建国", Some("户主")), ("刘芳", Some("妻"))]);
});

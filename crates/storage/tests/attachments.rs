//! Evidence (佐证材料) on both engines (docs/attachments.md): a file attached to a record in
//! scope, kept with its checksum and given back intact, confined like its record, judged by
//! its content, limited in size by the setting, never deleted or changed (only voided with a
//! reason), audited on the record; a workflow step that asks for evidence is refused until
//! the record carries some.

mod common;
use common::*;

use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::registry::{Cadre, CadreKind};
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::attachments::{self, Kind};
use taizhang_storage::{ledgers, orgs, records, settings, Db, Scope, StoreError};

async fn hazards(db: &Db) -> LedgerDef {
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    let def = ledgers::get(&mut tx, "hazards").await.expect("def");
    tx.commit().await.expect("commit");
    def
}

fn vals(pairs: &[(&str, Value)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn clerk(place_id: i64) -> Actor {
    Actor::User { id: 1, username: "clerk".into(), role: Role::Clerk, place_id }
}

/// A small file that starts like a JPEG, with every byte value in it (the bytes must come back
/// exactly, NULs and high bytes included).
fn photo(len: usize) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend((0..len).map(|i| (i % 256) as u8));
    b
}

async fn hazard(db: &Db, def: &LedgerDef, place_id: i64, description: &str) -> i64 {
    let mut tx = db.begin().await.expect("begin");
    let v = vals(&[("found_on", Value::Date(d("2023-06-01"))), ("industry", text("燃气")), ("level", text("一般")), ("location", text("坪溪村3组")), ("description", text(description))]);
    let r = records::create(&mut tx, def, &clerk(place_id), &Scope::all(), RecordInput { place_id: Some(place_id), values: v, ..Default::default() }, today()).await.expect("hazard");
    tx.commit().await.expect("commit");
    r.id
}

both!(a_photo_is_kept_intact_confined_and_audited, |db: Db| async move {
    let def = hazards(&db).await;
    let t = town(&db).await;
    let id = hazard(&db, &def, t.pingxi.id, "液化气瓶无减压阀").await;
    let pingxi = { let mut tx = db.read().await.expect("read"); Scope::of_place(&mut tx, t.pingxi.id).await.expect("scope") };
    let maopo = { let mut tx = db.read().await.expect("read"); Scope::of_place(&mut tx, t.maopo.id).await.expect("scope") };
    let bytes = photo(300_000);

    let mut tx = db.begin().await.expect("begin");
    let a = attachments::add(&mut tx, &def, &clerk(t.pingxi.id), &pingxi, id, "IMG_0001.JPG", &bytes).await.expect("attach");
    assert_eq!((a.file_name.as_str(), a.content_type.as_str(), a.size_bytes), ("IMG_0001.jpg", "image/jpeg", bytes.len() as i64));
    assert_eq!(a.sha256, attachments::sha256_hex(&bytes));
    assert_eq!(a.kind(), Some(Kind::Jpeg));
    // Another village's user finds neither the record nor its files.
    let e = attachments::add(&mut tx, &def, &clerk(t.maopo.id), &maopo, id, "x.jpg", &bytes).await.expect_err("out of scope");
    assert!(matches!(e, StoreError::NotFound(_)), "{e}");
    assert!(matches!(attachments::list(&mut tx, &def, &maopo, id, false).await, Err(StoreError::NotFound(_))));
    assert!(matches!(attachments::fetch(&mut tx, &def, &maopo, id, a.id).await, Err(StoreError::NotFound(_))));
    // The content decides, not the name: a program called .jpg is refused, naming the file.
    let e = attachments::add(&mut tx, &def, &clerk(t.pingxi.id), &pingxi, id, "照片.jpg", b"MZ\x90\0\x03program").await.expect_err("not a photo");
    assert!(e.to_string().contains("文件「照片.jpg」不是可以作为佐证材料的文件"), "{e}");
    let e = attachments::add(&mut tx, &def, &clerk(t.pingxi.id), &pingxi, id, "空.pdf", b"").await.expect_err("empty");
    assert!(e.to_string().contains("「空.pdf」是空的"), "{e}");
    // A PDF named .jpg is kept as what it is.
    let pdf = attachments::add(&mut tx, &def, &clerk(t.pingxi.id), &pingxi, id, "整改报告.jpg", b"%PDF-1.4\n%...").await.expect("pdf");
    assert_eq!((pdf.file_name.as_str(), pdf.content_type.as_str()), ("整改报告.pdf", "application/pdf"));
    tx.commit().await.expect("commit");

    // Given back byte for byte, to a reader in scope (the town sees its villages).
    let town_scope = { let mut tx = db.read().await.expect("read"); Scope::of_place(&mut tx, t.town.id).await.expect("scope") };
    let mut tx = db.read().await.expect("read");
    let (got, back) = attachments::fetch(&mut tx, &def, &town_scope, id, a.id).await.expect("fetch");
    assert_eq!(got.id, a.id);
    assert!(back == bytes, "the bytes come back intact");
    let listed = attachments::list(&mut tx, &def, &town_scope, id, false).await.expect("list");
    assert_eq!(listed.iter().map(|x| x.file_name.as_str()).collect::<Vec<_>>(), ["IMG_0001.jpg", "整改报告.pdf"]);
    // The attachment is found only under its own record.
    drop(tx);
    let second = hazard(&db, &def, t.pingxi.id, "灭火器过期").await;
    let mut tx = db.read().await.expect("read");
    assert!(matches!(attachments::fetch(&mut tx, &def, &town_scope, second, a.id).await, Err(StoreError::NotFound(_))));
    assert!(attachments::list(&mut tx, &def, &town_scope, second, false).await.expect("list").is_empty());
    drop(tx);

    // Removing takes a reason; the file stays, voided, and the trail names both steps.
    let mut tx = db.begin().await.expect("begin");
    let e = attachments::void(&mut tx, &def, &clerk(t.pingxi.id), &pingxi, id, pdf.id, " ").await.expect_err("reason");
    assert!(e.to_string().contains("须说明原因"), "{e}");
    let v = attachments::void(&mut tx, &def, &clerk(t.pingxi.id), &pingxi, id, pdf.id, "传错了文件").await.expect("void");
    assert_eq!(v.voided.as_ref().map(|x| x.reason.as_str()), Some("传错了文件"));
    let e = attachments::void(&mut tx, &def, &clerk(t.pingxi.id), &pingxi, id, pdf.id, "再撤一次").await.expect_err("twice");
    assert!(e.to_string().contains("已撤下"), "{e}");
    assert_eq!(attachments::list(&mut tx, &def, &pingxi, id, false).await.expect("list").len(), 1);
    assert_eq!(attachments::list(&mut tx, &def, &pingxi, id, true).await.expect("list").len(), 2);
    assert_eq!(attachments::count(&mut tx, &def, id).await.expect("count"), 1);
    tx.commit().await.expect("commit");

    // Nothing deletes or changes a file, whatever the SQL.
    let mut tx = db.begin().await.expect("begin");
    assert!(tx.exec("DELETE FROM attachments WHERE id = $1", &[a.id.into()]).await.is_err(), "no deletion");
    drop(tx);
    let mut tx = db.begin().await.expect("begin");
    assert!(tx.exec("UPDATE attachments SET file_name = 'x.jpg' WHERE id = $1", &[a.id.into()]).await.is_err(), "no change");
    drop(tx);

    let mut tx = db.read().await.expect("read");
    let rows = tx
        .fetch("SELECT action, actor, note FROM audit WHERE entity = 'ld_hazards' AND entity_id = $1 AND action IN ('attach', 'detach') ORDER BY id", &[id.into()])
        .await
        .expect("audit");
    let seen: Vec<(String, String, String)> = rows.iter().map(|r| (r.text(0), r.text(1), r.text(2))).collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!((seen[0].0.as_str(), seen[0].1.as_str()), ("attach", "clerk"));
    assert!(seen[0].2.contains("上传佐证材料「IMG_0001.jpg」（照片"), "{seen:?}");
    assert!(seen[2].0 == "detach" && seen[2].2.contains("撤下佐证材料「整改报告.pdf」，原因：传错了文件"), "{seen:?}");
    drop(tx);
    let mut tx = db.read().await.expect("read");
    let check = taizhang_storage::audit::verify(&mut tx).await.expect("verify");
    assert!(check.broken.is_none(), "the chain holds");
});

both!(the_size_limit_is_the_setting, |db: Db| async move {
    let def = hazards(&db).await;
    let t = town(&db).await;
    let id = hazard(&db, &def, t.pingxi.id, "护栏缺失").await;
    let big = photo(1024 * 1024 + 10);
    let mut tx = db.begin().await.expect("begin");
    assert_eq!(attachments::max_bytes(&mut tx).await.expect("limit"), 10 * 1024 * 1024, "10 MB by default");
    attachments::add(&mut tx, &def, &Actor::System, &Scope::all(), id, "a.jpg", &big).await.expect("1 MB is under 10");
    settings::set(&mut tx, &Actor::System, attachments::MAX_MB_SETTING, 0, 1).await.expect("set");
    let e = attachments::add(&mut tx, &def, &Actor::System, &Scope::all(), id, "大照片.jpg", &big).await.expect_err("over 1 MB");
    assert!(e.to_string().contains("文件「大照片.jpg」超过佐证材料单个文件的上限 1 MB"), "{e}");
    // No setting lifts it past the ceiling.
    settings::set(&mut tx, &Actor::System, attachments::MAX_MB_SETTING, 0, 100_000).await.expect("set");
    assert_eq!(attachments::max_bytes(&mut tx).await.expect("limit"), 50 * 1024 * 1024);
    tx.commit().await.expect("commit");
});

both!(closing_a_hazard_needs_a_photo_after_rectification, |db: Db| async move {
    let def = hazards(&db).await;
    let t = town(&db).await;
    let close = def.workflow.as_ref().and_then(|w| w.transition("close")).expect("close");
    assert_eq!(close.requires_attachment.as_deref(), Some("整改后照片"), "the definition asks for it");
    let id = hazard(&db, &def, t.pingxi.id, "电线私拉乱接").await;
    let mut tx = db.begin().await.expect("begin");
    let cadre = Cadre { id: 0, name: "刘干部".into(), kind: CadreKind::Town, post: "安监站站长".into(), unit: "北斗溪镇人民政府".into(), birth_date: None, place_id: t.town.id, person_id: None, user_id: None, phone: String::new(), ended_on: None, end_reason: String::new() };
    let cadre = orgs::create_cadre(&mut tx, &Actor::System, &Scope::all(), &cadre, today()).await.expect("cadre");
    let s = Scope::all();
    let a = clerk(t.town.id);
    let r = records::transition(&mut tx, &def, &a, &s, id, 1, "fix_on_spot", vals(&[("rectified_on", Value::Date(d("2023-06-02")))]), d("2023-06-02"), &Default::default()).await.expect("fixed");
    let review = vals(&[("review_on", Value::Date(d("2023-06-05"))), ("reviewer", Value::Int(cadre.id))]);
    let e = records::transition(&mut tx, &def, &a, &s, id, r.row_version, "close", review.clone(), d("2023-06-05"), &Default::default()).await.expect_err("no photo");
    assert!(e.to_string().contains("复查销号需要先上传佐证材料：整改后照片"), "{e}");
    // A removed photo does not count.
    let p = attachments::add(&mut tx, &def, &a, &s, id, "错的.jpg", &photo(100)).await.expect("attach");
    attachments::void(&mut tx, &def, &a, &s, id, p.id, "不是这处隐患").await.expect("void");
    let e = records::transition(&mut tx, &def, &a, &s, id, r.row_version, "close", review.clone(), d("2023-06-05"), &Default::default()).await.expect_err("voided photo");
    assert!(e.to_string().contains("需要先上传佐证材料"), "{e}");
    attachments::add(&mut tx, &def, &a, &s, id, "整改后.jpg", &photo(100)).await.expect("attach");
    let closed = records::transition(&mut tx, &def, &a, &s, id, r.row_version, "close", review, d("2023-06-05"), &Default::default()).await.expect("closed with a photo");
    assert_eq!(closed.state.as_deref(), Some("closed"));
    // A voided record takes no more files.
    let closed = records::void(&mut tx, &def, &a, &s, id, closed.row_version, "重复登记").await.expect("void record");
    let e = attachments::add(&mut tx, &def, &a, &s, closed.id, "再传.jpg", &photo(100)).await.expect_err("voided record");
    assert!(e.to_string().contains("已作废"), "{e}");
    tx.commit().await.expect("commit");
});

//! A town's year through the command line: a death recorded by `person status` makes the
//! paid-after-death check fire on the next run; records are voided and restored; households
//! change; refusals change nothing.

mod common;
use common::{ok, on_postgres, on_sqlite, run};

use std::path::Path;

use taizhang_storage::fixtures::id_number;

fn findings(dir: &Path, db: &str, check: &str) -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_str(&ok(dir, db, &["check", "--year", "2023", "--json"])).expect("json");
    json.as_array().expect("array").iter().filter(|f| f["check"] == check).cloned().collect()
}

fn refused(dir: &Path, db: &str, args: &[&str], want: &str) {
    let o = run(dir, db, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} should fail");
    assert!(err.contains(want), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn story(dir: &Path, db: &str) {
    ok(dir, db, &["init", "--town", "北斗溪镇", "--code", "431224110000", "--county", "溆浦县"]);
    ok(dir, db, &["place", "add", "--parent", "北斗溪镇", "--name", "坪溪村", "--code", "431224110201"]);
    ok(dir, db, &["place", "add", "--parent", "北斗溪镇", "--name", "茅坡村", "--code", "431224110202"]);
    let (head, wife, daughter) = (id_number("433024", "19500312", 11), id_number("433024", "19520606", 12), id_number("431224", "20010101", 2));
    let (head, wife, daughter) = (head.as_str(), wife.as_str(), daughter.as_str());
    for (name, id) in [("舒建国", head), ("向秀英", wife), ("舒小梅", daughter)] {
        ok(dir, db, &["person", "add", "--name", name, "--id-number", id, "--place", "坪溪村"]);
    }
    ok(dir, db, &["household", "add", "--number", "4312241102010001", "--place", "坪溪村"]);
    ok(dir, db, &["household", "member", "--number", "4312241102010001", "--id-number", head, "--relation", "户主"]);
    ok(dir, db, &["household", "member", "--number", "4312241102010001", "--id-number", wife, "--relation", "妻子"]);
    let out = ok(dir, db, &["household", "member", "--number", "4312241102010001", "--id-number", daughter, "--relation", "子女", "--date", "2023-01-05", "--reason", "出生"]);
    assert!(out.contains("（女）"), "子女 resolved by sex: {out}");

    // A year of 低保 payments for the household.
    for m in 3..=8 {
        ok(dir, db, &["record", "add", "dibao_payments", "--subject", "4312241102010001", &format!("pay_month=2023-{m:02}"), "kind=正常发放", "amount=520"]);
    }
    assert!(findings(dir, db, "dibao_paid_after_death_or_move").is_empty(), "nothing before the death is recorded");

    // The same month again and a negative amount are refused; nothing changes.
    refused(dir, db, &["record", "add", "dibao_payments", "--subject", "4312241102010001", "pay_month=2023-03", "kind=正常发放", "amount=520"], "第 1 号记录");
    refused(dir, db, &["record", "add", "dibao_payments", "--subject", "4312241102010001", "pay_month=2023-09", "kind=正常发放", "amount=-5"], "负数");
    assert_eq!(ok(dir, db, &["record", "count", "dibao_payments", "--year", "2023"]).trim(), "6");

    // The head's death, recorded by the command line, makes the check fire for June–August.
    refused(dir, db, &["person", "status", head, "--status", "迁出", "--date", "2023-05-10"], "迁往何处");
    refused(dir, db, &["person", "status", head, "--status", "死了", "--date", "2023-05-10"], "死亡、迁出");
    let out = ok(dir, db, &["person", "status", head, "--status", "死亡", "--date", "2023-05-10", "--reason", "病故"]);
    assert!(out.contains("死亡"), "{out}");
    // One finding for the household, naming its village and each of the three payments.
    let found = findings(dir, db, "dibao_paid_after_death_or_move");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["record_ids"].as_array().map(Vec::len), Some(3), "{found:?}");
    assert_eq!(found[0]["village"], "坪溪村", "{found:?}");
    for f in &found {
        assert!(f["message"].as_str().is_some_and(|m| m.contains("舒建国") && m.contains("2023-05-10")), "{f}");
    }
    let shown = ok(dir, db, &["person", "show", head]);
    assert!(shown.contains("死亡（2023-05-10）") && shown.contains("病故"), "{shown}");

    // A wrong payment is voided: it leaves counts and the check, stays listed on request, and
    // comes back on restore.
    let listed = ok(dir, db, &["record", "list", "dibao_payments", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&listed).expect("json");
    let august = list.as_array().expect("array").iter().find(|r| r["values"]["pay_month"] == "2023-08").expect("august");
    let id = august["id"].as_i64().expect("id").to_string();
    refused(dir, db, &["record", "void", "dibao_payments", &id, "--reason", " "], "作废原因");
    ok(dir, db, &["record", "void", "dibao_payments", &id, "--reason", "死亡后误发，已追回"]);
    assert_eq!(ok(dir, db, &["record", "count", "dibao_payments", "--year", "2023"]).trim(), "5");
    assert_eq!(findings(dir, db, "dibao_paid_after_death_or_move")[0]["record_ids"].as_array().map(Vec::len), Some(2));
    let voided = ok(dir, db, &["record", "list", "dibao_payments", "--voided", "only"]);
    assert!(voided.contains("已作废") && voided.contains("死亡后误发"), "{voided}");
    ok(dir, db, &["record", "restore", "dibao_payments", &id]);
    assert_eq!(ok(dir, db, &["record", "count", "dibao_payments", "--year", "2023"]).trim(), "6");

    // Household changes: the wife becomes head, the dead head leaves, the daughter splits off
    // to 茅坡村; the history tells it.
    ok(dir, db, &["household", "head", "--number", "4312241102010001", "--id-number", wife, "--relation", &format!("{head}=夫"), "--relation", &format!("{daughter}=女"), "--date", "2023-05-20"]);
    ok(dir, db, &["household", "leave", "--number", "4312241102010001", "--id-number", head, "--reason", "死亡", "--date", "2023-05-20"]);
    ok(dir, db, &["household", "split", "--number", "4312241102010001", "--new-number", "4312241102020001", "--place", "茅坡村", "--member", &format!("{daughter}=户主"), "--date", "2023-10-01"]);
    let shown = ok(dir, db, &["household", "show", "--number", "4312241102010001"]);
    for want in ["户主变更", "成员迁出", "分户", "向秀英"] {
        assert!(shown.contains(want), "{want} in {shown}");
    }
    // Payments stay with the household they were made to.
    assert_eq!(ok(dir, db, &["record", "count", "dibao_payments", "--year", "2023", "--place", "坪溪村"]).trim(), "6");

    // A name correction needs a reason.
    refused(dir, db, &["person", "update", wife, "姓名=向秀瑛"], "更正原因");
    ok(dir, db, &["person", "update", wife, "姓名=向秀瑛", "民族=瑶族", "--reason", "户口簿为准"]);
    let shown = ok(dir, db, &["person", "show", wife]);
    assert!(shown.contains("向秀瑛") && shown.contains("户口簿为准"), "{shown}");

    // A cadre who has left cannot be chosen for a new visit.
    ok(dir, db, &["cadre", "add", "--name", "杨志强", "--kind", "村干部", "--place", "坪溪村"]);
    ok(dir, db, &["record", "add", "assistance_visits", "--subject", "4312241102020001", "visited_on=2023-10-10", "visitor=杨志强", "visit_kind=入户走访"]);
    ok(dir, db, &["cadre", "end", "1", "--date", "2023-11-01", "--reason", "换届"]);
    refused(dir, db, &["record", "add", "assistance_visits", "--subject", "4312241102020001", "visited_on=2023-11-20", "visitor=杨志强", "visit_kind=入户走访"], "离任");
    assert!(ok(dir, db, &["cadre", "list"]).contains("已于 2023-11-01 离任"));
}

#[test]
fn a_year_on_sqlite() {
    on_sqlite(story);
}

#[test]
fn a_year_on_postgres() {
    on_postgres("year", story);
}

//! docs/import-headers.md lists the headers every import recognises, per ledger and for the
//! registry. It is generated from the catalogue and the import's own column specs
//! (`recognised_headers`, `registry_headers`), so it says what the import reads: this test
//! fails when the file is out of date, and `UPDATE_DOCS=1` rewrites it.
//!
//! Also: no header means two columns of one ledger, and the headers the national and
//! provincial systems' exports carry land on the columns they mean.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use taizhang_domain::catalogue::builtin_ledgers;
use taizhang_domain::ledger::LedgerDef;
use taizhang_exchange::{recognised_headers, registry_headers, RegistryTarget};
use taizhang_tabular::normalize_header;

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/import-headers.md")
}

fn ledgers() -> Vec<LedgerDef> {
    let mut defs = builtin_ledgers().expect("catalogue");
    defs.sort_by(|a, b| a.group.cmp(&b.group).then(a.key.cmp(&b.key)));
    defs
}

/// A Markdown table of columns and their headers; `|` never occurs in a header.
fn table(out: &mut String, columns: &[(String, Vec<String>)]) {
    out.push_str("| 列 | 认得的表头 |\n|---|---|\n");
    for (name, headers) in columns {
        let _ = writeln!(out, "| {name} | {} |", headers.join("、"));
    }
    out.push('\n');
}

fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "# 导入时认得的表头\n\n\
         <!-- 本文件由 crates/exchange/tests/headers_doc.rs 根据台账定义（catalogue/ledgers）和导入程序的列生成，\
         请勿手改；改了定义后运行 `UPDATE_DOCS=1 cargo test -p taizhang-exchange --test headers_doc` 重新生成。 -->\n\n\
         导入 Excel/CSV 时，表头行里的每一列按下表认出它是什么。比较时去掉所有空格、全角字符按半角看待、英文字母不分大小写，\
         其余须一字不差；带单位的写法（如「发放金额（元）」）也认得。认不出的列在导入结果中列出，不导入。\
         同一张表里两列对应同一项时，整张表不导入并说明是哪两列。\n\n\
         全国防止返贫监测信息系统、社会救助信息系统（低保、特困、临时救助）、社保医保缴费系统导出的表，\
         常见表头（公民身份号码、身份证号码、证件号码、户主身份证号码、户编号、保障人口数、月保障金、发放年月、\
         银行卡号、识别监测时间、致贫返贫风险 …）都已列为别名，一般不用改表头就能导入。\n\n\
         身份证号、户编号、银行账号等号码列必须是文本：Excel 存成数字（单元格是数字，或显示成 4.33024E+17）的，\
         后几位或开头的 0 已经丢失，这样的行会被拒绝并说明原因，请把该列设为「文本」格式后重新填写。\
         全角数字、号码中间的空格、开头的撇号（'）、小写 x 会自动整理；15 位老身份证号自动转为 18 位并在导入结果中提示。\n\n\
         ## 人员库（花名册）及户、干部、单位\n\n",
    );
    for target in RegistryTarget::ALL {
        let _ = writeln!(out, "### {}（`--ledger {}`）\n", target.label(), target.key());
        table(&mut out, &registry_headers(target));
    }
    out.push_str(
        "花名册中的「户主姓名」只作参考，不据此认户；「出生日期」须与公民身份号码中的出生日期一致，不一致的行被拒绝。\n\n\
         ## 台账\n\n\
         记录对象是户的台账，户可以由户编号、户主身份证号码或家庭成员的身份证号码认出；\
         一行里填了其中几列时，它们须指向同一户。\n\n",
    );
    let mut group = String::new();
    for def in ledgers() {
        if def.group != group {
            group.clone_from(&def.group);
            let _ = writeln!(out, "### {}\n", if group.is_empty() { "其他" } else { group.as_str() });
        }
        let _ = writeln!(out, "#### {}（`{}`）\n", def.name, def.key);
        table(&mut out, &recognised_headers(&def));
    }
    out
}

#[test]
fn import_headers_doc_is_up_to_date() {
    let want = render();
    let path = doc_path();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).expect("write docs/import-headers.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/import-headers.md 与导入实际认得的表头不一致；请运行 UPDATE_DOCS=1 cargo test -p taizhang-exchange --test headers_doc 重新生成"
    );
}

/// A header (as the reader compares it) means one column only; otherwise a sheet with it
/// would be bound by whichever spec came first.
fn assert_unambiguous(what: &str, columns: &[(String, Vec<String>)]) {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for (name, headers) in columns {
        assert!(!headers.is_empty(), "{what}: column {name} has no header left");
        for h in headers {
            if let Some(other) = seen.insert(normalize_header(h), name) {
                panic!("{what}: 「{h}」 means both {other} and {name}");
            }
        }
    }
}

#[test]
fn no_header_means_two_columns() {
    for def in ledgers() {
        assert_unambiguous(&def.key, &recognised_headers(&def));
    }
    for target in RegistryTarget::ALL {
        assert_unambiguous(target.key(), &registry_headers(target));
    }
}

fn column_of(def: &LedgerDef, header: &str) -> Option<String> {
    let h = normalize_header(header);
    recognised_headers(def)
        .into_iter()
        .find(|(_, headers)| headers.iter().any(|x| normalize_header(x) == h))
        .map(|(name, _)| name)
}

#[test]
fn headers_of_the_national_and_provincial_systems_are_recognised() {
    let defs = ledgers();
    let def = |key: &str| defs.iter().find(|d| d.key == key).unwrap_or_else(|| panic!("ledger {key}"));
    // The subject column, by every name the systems give it.
    for (key, headers) in [
        ("destitute", &["公民身份号码", "身份证号码", "证件号码", "身份证件号码", "身份证号"][..]),
        ("destitute_payments", &["公民身份号码", "身份证号码", "证件号码"][..]),
        ("special_care_payments", &["身份证号码", "公民身份证号码"][..]),
        ("insurance_contributions", &["公民身份号码", "身份证号码", "证件号码", "身份证件号码"][..]),
        ("insurance_services", &["身份证号码", "证件号码"][..]),
    ] {
        for h in headers {
            assert_eq!(column_of(def(key), h).as_deref(), Some("记录对象（人员）"), "{key}: {h}");
        }
    }
    for key in ["dibao", "dibao_payments", "temporary_relief", "monitoring", "poverty_households", "forest_subsidies"] {
        for h in ["户编号", "户编码", "家庭编号"] {
            assert_eq!(column_of(def(key), h).as_deref(), Some("记录对象（户）"), "{key}: {h}");
        }
        for h in ["户主身份证号码", "户主身份证号", "户主公民身份号码", "户主证件号码", "户主身份证件号码"] {
            assert_eq!(column_of(def(key), h).as_deref(), Some("记录对象（户，按户主身份证号码）"), "{key}: {h}");
        }
        for h in ["公民身份号码", "身份证号码", "证件号码"] {
            assert_eq!(column_of(def(key), h).as_deref(), Some("记录对象（户，按家庭成员的身份证号码）"), "{key}: {h}");
        }
    }
    // Fields, by the systems' own headers.
    for (key, header, field) in [
        ("dibao", "保障人口数", "保障人数"),
        ("dibao", "月保障金", "月保障金额"),
        ("dibao", "致贫原因", "主要困难"),
        ("dibao", "银行卡号", "一卡通账号"),
        ("dibao", "社会保障卡号", "一卡通账号"),
        ("dibao", "批准日期", "审批日期"),
        ("dibao_payments", "发放年月", "发放月份"),
        ("dibao_payments", "所属月份", "发放月份"),
        ("dibao_payments", "保障金额", "发放金额"),
        ("dibao_payments", "发放金额（元）", "发放金额"),
        ("destitute", "银行账号", "一卡通账号"),
        ("destitute_payments", "发放年月", "发放月份"),
        ("temporary_relief", "救助金额", "救助金额"),
        ("temporary_relief", "申请人身份证号码", "申请人"),
        ("monitoring", "监测对象类别", "监测对象类别"),
        ("monitoring", "致贫返贫风险", "风险类型"),
        ("monitoring", "识别监测时间", "识别纳入日期"),
        ("monitoring", "纳入时间", "识别纳入日期"),
        ("monitoring", "帮扶措施", "帮扶措施"),
        ("monitoring", "家庭人口数", "家庭人口数"),
        ("poverty_households", "家庭人口数", "脱贫人口数"),
        ("insurance_contributions", "参保险种", "险种"),
        ("insurance_contributions", "缴费档次", "缴费档次"),
        ("insurance_contributions", "缴费金额", "缴费金额"),
        ("insurance_contributions", "电子税票号", "票据号"),
        ("forest_subsidies", "惠民惠农一卡通", "一卡通账号"),
    ] {
        assert_eq!(column_of(def(key), header).as_deref(), Some(field), "{key}: {header}");
    }
    // The 花名册: 户主姓名 and 出生日期 are columns, never unknown.
    let roster = registry_headers(RegistryTarget::Persons);
    for h in ["户主姓名", "出生日期", "公民身份号码", "身份证号码", "证件号码", "户主身份证号码", "户主证件号码", "户编号", "家庭编号", "与户主关系", "村民小组", "行政村", "联系电话", "手机号码"] {
        assert!(roster.iter().any(|(_, hs)| hs.iter().any(|x| x == h)), "花名册: {h}");
    }
}

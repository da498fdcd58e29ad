//! Which columns a ledger's sheet has, for reading and for writing.

use taizhang_domain::ident;
use taizhang_domain::ledger::{FieldDef, FieldKind, LedgerDef, SubjectKind, TextFormat};
use taizhang_tabular::{ColumnSpec, OutKind};

pub(crate) const SUBJECT_KEY: &str = "@subject";
pub(crate) const PLACE_KEY: &str = "@place";
pub(crate) const SEQ_KEY: &str = "@seq";
pub(crate) const YEAR_KEY: &str = "@concerns_year";
pub(crate) const YEAR_LABELS: &[&str] = &["所属年度", "所缴年度"];
pub(crate) const FIELD_PREFIX: &str = "f:";
/// A workflow ledger's 状态 column (a state's label or key) and 状态日期 (the day the case
/// entered it), for importing cases in their states (`states.rs`).
pub(crate) const STATE_KEY: &str = "@state";
pub(crate) const STATE_SINCE_KEY: &str = "@state_since";
pub(crate) const STATE_LABELS: &[&str] = &["状态", "当前状态", "办理状态", "流程状态"];
pub(crate) const STATE_SINCE_LABELS: &[&str] = &["状态日期", "进入状态日期", "状态起始日期"];

/// Header texts that name the record's subject, in groups: each group is a column of its own,
/// so a sheet may carry both 户编号 and 户主身份证号码 as the national and provincial systems'
/// exports do. When several are filled in a row they must name the same subject (a row whose
/// 户编号 and 户主身份证号码 name two households is refused). A household is also named by a
/// member's ID number (the household they belong to). The first label of the first group is
/// what exports write.
pub(crate) fn subject_label_groups(kind: SubjectKind) -> &'static [&'static [&'static str]] {
    match kind {
        SubjectKind::Person => &[&[
            "公民身份号码",
            "身份证号",
            "身份证号码",
            "证件号码",
            "身份证件号码",
            "公民身份证号码",
            "公民身份证号",
            "证件号",
        ]],
        SubjectKind::Household => &[
            &["户编号", "户编码", "户号", "家庭编号", "家庭户号"],
            &["户主身份证号", "户主身份证号码", "户主公民身份号码", "户主证件号码", "户主身份证件号码", "户主公民身份证号码"],
            &["公民身份号码", "身份证号码", "身份证号", "证件号码", "身份证件号码"],
        ],
        SubjectKind::Cadre => &[&["干部姓名", "姓名"]],
        SubjectKind::Organisation => &[&["单位名称", "企业名称"], &["统一社会信用代码", "社会信用代码"]],
        SubjectKind::Place => &[&["村", "所属村", "行政村", "村（社区）", "村名"]],
        SubjectKind::None => &[],
    }
}

/// The subject's first group, whose first label is what exports write.
pub(crate) fn subject_labels(kind: SubjectKind) -> &'static [&'static str] {
    subject_label_groups(kind).first().copied().unwrap_or(&[])
}

/// Why a row is refused whose subject columns name two different subjects.
pub(crate) fn subject_disagrees(kind: SubjectKind) -> String {
    format!("与本行另一列所指的{}不是同一个（如户编号与户主身份证号码不是同一户），请核对哪一列填错了", kind.label())
}

pub(crate) const PLACE_LABELS: &[&str] = &["所属村", "村", "村名", "行政村", "村（社区）", "所在村"];
pub(crate) const SEQ_LABELS: &[&str] = &["序号", "序"];

/// Whether the ledger has its own place column (ledgers without a subject).
pub(crate) fn has_place_column(def: &LedgerDef) -> bool {
    def.subject == SubjectKind::None
}

/// Label, aliases, and each with the unit in brackets ("发放金额（元）").
fn field_labels(f: &FieldDef) -> Vec<String> {
    let mut v = vec![f.label.clone()];
    v.extend(f.aliases.iter().cloned());
    if !f.unit.is_empty() {
        let with_unit: Vec<String> = v.iter().map(|l| format!("{l}（{}）", f.unit)).collect();
        for l in with_unit {
            if !v.contains(&l) {
                v.push(l);
            }
        }
    }
    v
}

/// Specs for reading a ledger sheet: fields (retired ones too, so their columns are
/// recognised), then the subject or place column, then 序号.
pub(crate) fn ledger_specs(def: &LedgerDef) -> Vec<ColumnSpec> {
    let mut specs: Vec<ColumnSpec> = def
        .fields
        .iter()
        .map(|f| ColumnSpec { key: format!("{FIELD_PREFIX}{}", f.key), labels: field_labels(f) })
        .collect();
    let taken: Vec<String> = specs.iter().flat_map(|s| s.labels.iter().cloned()).collect();
    let free = |labels: &[&str]| -> Vec<String> {
        labels.iter().filter(|l| !taken.iter().any(|t| t == *l)).map(|l| l.to_string()).collect()
    };
    // Each group of subject headers is a column of its own, all with the subject's key.
    for group in subject_label_groups(def.subject) {
        let labels = free(group);
        if !labels.is_empty() {
            specs.push(ColumnSpec { key: SUBJECT_KEY.into(), labels });
        }
    }
    if has_place_column(def) {
        let labels = free(PLACE_LABELS);
        if !labels.is_empty() {
            specs.push(ColumnSpec { key: PLACE_KEY.into(), labels });
        }
    }
    if def.concerns_year {
        let labels = free(YEAR_LABELS);
        if !labels.is_empty() {
            specs.push(ColumnSpec { key: YEAR_KEY.into(), labels });
        }
    }
    if def.workflow.is_some() {
        for (key, all) in [(STATE_KEY, STATE_LABELS), (STATE_SINCE_KEY, STATE_SINCE_LABELS)] {
            let labels = free(all);
            if !labels.is_empty() {
                specs.push(ColumnSpec { key: key.into(), labels });
            }
        }
    }
    let seq = free(SEQ_LABELS);
    if !seq.is_empty() {
        specs.push(ColumnSpec { key: SEQ_KEY.into(), labels: seq });
    }
    specs
}

/// Digits that must stay text in a sheet: the identifiers (`ident::of_field`).
pub(crate) fn is_id_text(f: &FieldDef) -> bool {
    ident::of_field(f).is_some()
}

pub(crate) fn out_kind(f: &FieldDef) -> OutKind {
    match f.kind {
        FieldKind::Text if is_id_text(f) => OutKind::IdText,
        FieldKind::Text | FieldKind::Month | FieldKind::MultiEnum => OutKind::Text,
        FieldKind::Integer | FieldKind::Year => OutKind::Int,
        FieldKind::Decimal => OutKind::Scaled(f.scale),
        FieldKind::Money => OutKind::Money,
        FieldKind::Date => OutKind::Date,
        FieldKind::Enum => OutKind::Enum(f.options.clone()),
        FieldKind::Boolean => OutKind::Bool,
        FieldKind::Reference => match f.target {
            Some(taizhang_domain::ledger::RefTarget::Person) => OutKind::IdText,
            _ => OutKind::Text,
        },
    }
}

/// Filling notes for a template column.
pub(crate) fn field_note(f: &FieldDef) -> String {
    let mut parts = Vec::new();
    parts.push(if f.required { "必填".to_string() } else { "选填".to_string() });
    let hint = match f.kind {
        FieldKind::Date => "日期，如 2023-01-05".to_string(),
        FieldKind::Month => "月份，如 2023-07".to_string(),
        FieldKind::Year => "年度，如 2023".to_string(),
        FieldKind::Money => "金额（元），可带两位小数".to_string(),
        FieldKind::Decimal => format!("数字，最多 {} 位小数", f.scale),
        FieldKind::Integer => "整数".to_string(),
        FieldKind::Boolean => "填「是」或「否」".to_string(),
        FieldKind::Enum => format!("从下拉列表选择：{}", f.options.join("、")),
        FieldKind::MultiEnum => format!("可多选，用「、」分隔：{}", f.options.join("、")),
        FieldKind::Reference => match &f.target {
            Some(taizhang_domain::ledger::RefTarget::Person) => "填身份证号（须已在人员库登记）".to_string(),
            Some(taizhang_domain::ledger::RefTarget::Household) => "填户编号或户主身份证号".to_string(),
            Some(taizhang_domain::ledger::RefTarget::Cadre) => "填干部姓名".to_string(),
            Some(taizhang_domain::ledger::RefTarget::Organisation) => "填单位名称或统一社会信用代码".to_string(),
            Some(taizhang_domain::ledger::RefTarget::Place) => "填村名或区划代码".to_string(),
            _ => "填记录编号".to_string(),
        },
        FieldKind::Text => match f.format {
            Some(TextFormat::IdNumber) => "18 位身份证号，末位可为 X".to_string(),
            Some(TextFormat::Uscc) => "18 位统一社会信用代码".to_string(),
            Some(TextFormat::Phone) => "手机号或带区号的固话".to_string(),
            Some(TextFormat::Code) => "号码，请设为文本格式（不要让 Excel 存成数字）".to_string(),
            None => String::new(),
        },
    };
    if !hint.is_empty() {
        parts.push(hint);
    }
    if !f.unit.is_empty() {
        parts.push(format!("单位：{}", f.unit));
    }
    if !f.help.trim().is_empty() {
        parts.push(f.help.trim().to_string());
    }
    parts.join("；")
}

pub(crate) fn subject_note(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Person => "必填；记录对象的身份证号（须已在人员库登记），请设为文本格式",
        SubjectKind::Household => "必填；户编号或户主身份证号",
        SubjectKind::Cadre => "必填；干部姓名",
        SubjectKind::Organisation => "必填；单位名称或统一社会信用代码",
        SubjectKind::Place => "必填；村名或区划代码",
        SubjectKind::None => "",
    }
}

/// The headers an import of this ledger recognises, column by column: what the column is (a
/// field's label, 记录对象, 所属村, 所属年度, 状态, 序号 …) and every header text that means it.
/// Built from `ledger_specs`, so it is exactly what the import reads; docs/import-headers.md
/// is generated from it (crates/exchange/tests/headers_doc.rs). Headers match whole, after
/// spaces are removed and full-width characters folded.
pub fn recognised_headers(def: &LedgerDef) -> Vec<(String, Vec<String>)> {
    let mut subjects = 0usize;
    ledger_specs(def)
        .into_iter()
        .map(|s| {
            let name = if let Some(k) = s.key.strip_prefix(FIELD_PREFIX) {
                match def.field(k) {
                    Some(f) if f.retired => format!("{}（已停用，不导入）", f.label),
                    Some(f) => f.label.clone(),
                    None => k.to_string(),
                }
            } else if s.key == SUBJECT_KEY {
                subjects += 1;
                subject_column_name(def.subject, subjects - 1)
            } else {
                s.display_label().to_string()
            };
            (name, s.labels)
        })
        .collect()
}

/// What the n-th subject column is, for the list of headers.
fn subject_column_name(kind: SubjectKind, n: usize) -> String {
    let by = match (kind, n) {
        (SubjectKind::Household, 1) => "，按户主身份证号码",
        (SubjectKind::Household, 2) => "，按家庭成员的身份证号码",
        (SubjectKind::Organisation, 1) => "，按统一社会信用代码",
        _ => "",
    };
    format!("记录对象（{}{by}）", kind.label())
}

/// The headers the registry's import recognises for a target (花名册, 户, 干部, 单位): the
/// column's first header and every header that means it.
pub fn registry_headers(target: crate::RegistryTarget) -> Vec<(String, Vec<String>)> {
    target.specs().into_iter().map(|s| (s.display_label().to_string(), s.labels)).collect()
}

//! The registry's four imports by name (persons, households, cadres, organisations), and their
//! blank templates. A template's headers are the first label of each column the import reads
//! (`Col`, or the 花名册's `specs()`), so a filled-in template always imports.

use std::path::Path;

use taizhang_tabular::{write_template, ColumnSpec, OutColumn, OutKind};

use crate::Result;

/// What a registry import goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistryTarget {
    /// 人员（花名册）
    Persons,
    /// 户
    Households,
    /// 干部
    Cadres,
    /// 单位
    Organisations,
}

impl RegistryTarget {
    pub const ALL: [RegistryTarget; 4] =
        [RegistryTarget::Persons, RegistryTarget::Households, RegistryTarget::Cadres, RegistryTarget::Organisations];

    /// `--ledger` value and `ImportReport::target`.
    pub fn key(self) -> &'static str {
        match self {
            RegistryTarget::Persons => crate::import::PERSONS_TARGET,
            RegistryTarget::Households => "households",
            RegistryTarget::Cadres => "cadres",
            RegistryTarget::Organisations => "organisations",
        }
    }

    /// What the import page and the report call it.
    pub fn label(self) -> &'static str {
        match self {
            RegistryTarget::Persons => "人员库",
            RegistryTarget::Households => "户",
            RegistryTarget::Cadres => "干部名册",
            RegistryTarget::Organisations => "单位名录",
        }
    }

    /// Names accepted for `--ledger` and recognised as sheet names (the key first).
    pub fn names(self) -> &'static [&'static str] {
        match self {
            RegistryTarget::Persons => crate::import::PERSONS_SHEET_NAMES,
            RegistryTarget::Households => &["households", "户", "家庭户", "户信息", "户表", "家庭户信息", "户籍信息"],
            RegistryTarget::Cadres => &["cadres", "干部", "干部名册", "干部信息", "干部花名册"],
            RegistryTarget::Organisations => &["organisations", "orgs", "单位", "组织", "单位名录", "单位信息", "组织机构"],
        }
    }

    /// `persons`, `户`, `干部名册` … (a sheet's name or `--ledger`'s value).
    pub fn parse(s: &str) -> Option<RegistryTarget> {
        let s = s.trim();
        RegistryTarget::ALL.into_iter().find(|t| t.names().contains(&s))
    }

    /// The template's sheet: a name the import recognises without `--ledger`.
    fn sheet_name(self) -> &'static str {
        match self {
            RegistryTarget::Persons => "花名册",
            RegistryTarget::Households => "户",
            RegistryTarget::Cadres => "干部名册",
            RegistryTarget::Organisations => "单位名录",
        }
    }

    fn title(self) -> &'static str {
        match self {
            RegistryTarget::Persons => "人员花名册（导入模板）",
            RegistryTarget::Households => "户信息（导入模板）",
            RegistryTarget::Cadres => "干部名册（导入模板）",
            RegistryTarget::Organisations => "单位名录（导入模板）",
        }
    }

    /// The file name a download suggests: "干部名册（导入模板）.xlsx".
    pub fn template_file_name(self) -> String {
        format!("{}.xlsx", self.title())
    }

    /// The columns the import reads.
    pub(crate) fn specs(self) -> Vec<ColumnSpec> {
        match self {
            RegistryTarget::Persons => super::specs(),
            RegistryTarget::Households => specs_of(super::household_import::COLUMNS),
            RegistryTarget::Cadres => specs_of(super::cadres::COLUMNS),
            RegistryTarget::Organisations => specs_of(super::orgs::COLUMNS),
        }
    }

    /// The template's columns, in order.
    fn out_columns(self) -> Vec<OutColumn> {
        match self {
            RegistryTarget::Persons => {
                let specs = super::specs();
                PERSON_TEMPLATE
                    .iter()
                    .filter_map(|(key, kind, note)| {
                        let spec = specs.iter().find(|s| s.key == *key)?;
                        Some(OutColumn::new(spec.display_label(), kind.out()).with_note(note))
                    })
                    .collect()
            }
            RegistryTarget::Households => out_of(super::household_import::COLUMNS),
            RegistryTarget::Cadres => out_of(super::cadres::COLUMNS),
            RegistryTarget::Organisations => out_of(super::orgs::COLUMNS),
        }
    }
}

/// How a template column is formatted.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Text,
    /// Digits that must stay text (ID numbers, 户编号, codes, phones).
    Id,
    Date,
    /// A drop-down of these values.
    Enum(&'static [&'static str]),
}

impl Kind {
    fn out(self) -> OutKind {
        match self {
            Kind::Text => OutKind::Text,
            Kind::Id => OutKind::IdText,
            Kind::Date => OutKind::Date,
            Kind::Enum(values) => OutKind::Enum(values.iter().map(|v| v.to_string()).collect()),
        }
    }
}

/// One column of a registry sheet: the key the import uses, the headers it recognises (the
/// first is the template's), and how the template presents it (no note: not in the template,
/// as 序号).
pub(super) struct Col {
    pub(super) key: &'static str,
    pub(super) labels: &'static [&'static str],
    pub(super) kind: Kind,
    pub(super) note: &'static str,
}

fn specs_of(cols: &[Col]) -> Vec<ColumnSpec> {
    cols.iter().map(|c| ColumnSpec::new(c.key, c.labels)).collect()
}

fn out_of(cols: &[Col]) -> Vec<OutColumn> {
    cols.iter()
        .filter(|c| !c.note.is_empty())
        .map(|c| OutColumn::new(c.labels[0], c.kind.out()).with_note(c.note))
        .collect()
}

/// The 花名册 template: the import's own columns (`registry::specs`, whose first labels are
/// the headers), how each is formatted and what the note under it says.
const PERSON_TEMPLATE: &[(&str, Kind, &str)] = &[
    ("household", Kind::Id, "选填；县里系统的户编号，户不存在时新建；须为文本格式"),
    ("name", Kind::Text, "必填"),
    ("sex", Kind::Enum(&["男", "女"]), "选填；须与身份证号码相符"),
    ("id_number", Kind::Id, "必填；18 位，末位可为 X；按此认出已登记的人员"),
    ("head_id_number", Kind::Id, "选填；未填户编号时，据此找到户主所在的户"),
    ("relation", Kind::Text, "填了户编号时必填；如 户主、配偶、子、女、之子、儿媳、孙子女"),
    ("ethnicity", Kind::Text, "选填；如 汉族"),
    ("phone", Kind::Id, "选填；手机 11 位，座机带区号"),
    ("village", Kind::Text, "新登记的人员必填；村名"),
    ("group", Kind::Text, "选填；如 一组"),
    ("status", Kind::Enum(&["正常", "死亡", "迁出", "迁入", "失联"]), "选填；空白为不变"),
    ("death_date", Kind::Date, "死亡时必填"),
    ("move_out_date", Kind::Date, "迁出时必填"),
    ("move_out_place", Kind::Text, "迁出时必填；迁往何处"),
    ("move_in_date", Kind::Date, "迁入时必填"),
    ("move_in_place", Kind::Text, "迁入时必填；从何处迁入"),
    ("status_date", Kind::Date, "失联时必填；其他状态没有专门日期列时用此列"),
    ("reason", Kind::Text, "选填；状态变更的原因"),
];

/// Writes the blank import template of a registry target (.xlsx).
pub fn write_registry_template(target: RegistryTarget, path: &Path) -> Result<()> {
    write_template(path, target.sheet_name(), &target.out_columns(), target.title())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_header_is_read_by_its_import() {
        for t in RegistryTarget::ALL {
            let specs = t.specs();
            let cols = t.out_columns();
            assert!(cols.len() >= 4, "{t:?}");
            for c in &cols {
                let spec = specs.iter().find(|s| s.display_label() == c.header);
                assert!(spec.is_some(), "{t:?}: template header {} is no column's first label", c.header);
            }
            // The sheet name alone says what the file goes into.
            assert_eq!(RegistryTarget::parse(t.sheet_name()), Some(t));
            assert_eq!(RegistryTarget::parse(t.key()), Some(t));
        }
        assert_eq!(RegistryTarget::Persons.out_columns().len(), PERSON_TEMPLATE.len(), "every 花名册 template column is an import column");
    }

    #[test]
    fn names_are_unambiguous() {
        for a in RegistryTarget::ALL {
            for n in a.names() {
                assert_eq!(RegistryTarget::parse(n), Some(a), "{n}");
            }
        }
        assert_eq!(RegistryTarget::parse("家庭户"), Some(RegistryTarget::Households));
        assert_eq!(RegistryTarget::parse("组织"), Some(RegistryTarget::Organisations));
        assert_eq!(RegistryTarget::parse("低保"), None);
    }
}

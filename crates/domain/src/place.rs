//! Places (区划): 县 → 镇 → 村 → 组. One database holds one town now and many towns later.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PlaceLevel {
    County,
    Town,
    Village,
    Group,
}

impl PlaceLevel {
    pub fn key(self) -> &'static str {
        match self {
            PlaceLevel::County => "county",
            PlaceLevel::Town => "town",
            PlaceLevel::Village => "village",
            PlaceLevel::Group => "group",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PlaceLevel::County => "县",
            PlaceLevel::Town => "镇",
            PlaceLevel::Village => "村",
            PlaceLevel::Group => "组",
        }
    }

    pub fn parse(s: &str) -> Option<PlaceLevel> {
        [PlaceLevel::County, PlaceLevel::Town, PlaceLevel::Village, PlaceLevel::Group]
            .into_iter()
            .find(|l| l.key() == s || l.label() == s)
    }

    /// The level a child of this level has.
    pub fn child(self) -> Option<PlaceLevel> {
        match self {
            PlaceLevel::County => Some(PlaceLevel::Town),
            PlaceLevel::Town => Some(PlaceLevel::Village),
            PlaceLevel::Village => Some(PlaceLevel::Group),
            PlaceLevel::Group => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub level: PlaceLevel,
    /// 12-digit 统计用区划代码 (counties: 6 digits padded with zeros); 组 usually have none.
    pub code: Option<String>,
    pub name: String,
    /// Materialised path of ids, `/1/2/5/`, so "a place and everything under it" is a prefix.
    pub path: String,
    /// Attributes a village carries (脱贫村, 重点村 …).
    pub attributes: Vec<String>,
}

impl Place {
    /// Whether `other` is this place or lies under it.
    pub fn contains(&self, other: &Place) -> bool {
        other.path.starts_with(&self.path)
    }
}

/// A 统计用区划代码 is 12 digits; a county's 6-digit code is accepted and padded.
pub fn normalize_place_code(code: &str) -> Result<String, String> {
    let code = code.trim();
    if !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("区划代码「{code}」只能由数字组成"));
    }
    match code.len() {
        6 => Ok(format!("{code}000000")),
        9 => Ok(format!("{code}000")),
        12 => Ok(code.to_string()),
        n => Err(format!("区划代码「{code}」应为 12 位统计用区划代码（现为 {n} 位）")),
    }
}

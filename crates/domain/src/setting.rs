//! Settings (参数): the *local* figures and rules a rule, check or report reads — the year's
//! monitoring line, visit intervals, whether 特困 and 低保 may overlap, targets (下达指标), the
//! names a report quotes. Each is described as data (`catalogue/settings/*.toml`): a Chinese
//! label, a unit, help, and how its value is written. Users see the label, never the key.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::money::{format_scaled, format_yuan, parse_money, parse_scaled, Fen};

/// How a setting's value is written and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    /// 元, stored in 分.
    Money,
    /// A whole number (days, counts).
    Integer,
    /// A number with `scale` decimals, stored as an integer at that scale.
    Decimal,
    /// 是/否, stored as 1/0.
    Switch,
    /// Words (a name a report quotes).
    Text,
}

impl SettingKind {
    pub fn label(self) -> &'static str {
        match self {
            SettingKind::Money => "金额（元）",
            SettingKind::Integer => "整数",
            SettingKind::Decimal => "小数",
            SettingKind::Switch => "是/否",
            SettingKind::Text => "文字",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingDef {
    /// ASCII key rules and checks name (`monitoring_line`, `check:visit_days`).
    pub key: String,
    /// What users read: 防返贫监测标准.
    pub label: String,
    pub kind: SettingKind,
    /// Decimals of a `decimal` setting.
    #[serde(default)]
    pub scale: u8,
    /// Shown after the value: 元/人·年, 天 …
    #[serde(default)]
    pub unit: String,
    /// A value per year (the monitoring line changes every year) or one for all years.
    #[serde(default)]
    pub per_year: bool,
    /// Menu-like group on the settings page (防返贫监测, 社会救助, 报告 …).
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub help: String,
    /// The value used while none is set, as a user would type it.
    #[serde(default)]
    pub default: Option<String>,
}

/// A setting's value as stored: a number (分, a scaled integer, 1/0) or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    Number(i64),
    Text(String),
}

/// The year under which a setting without years is stored.
pub const ALL_YEARS: i32 = 0;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingFile {
    #[serde(default)]
    setting: Vec<SettingDef>,
}

impl SettingDef {
    /// Parses what a user typed for this setting.
    pub fn parse(&self, text: &str) -> Result<SettingValue, String> {
        let t = text.trim();
        if t.is_empty() && self.kind != SettingKind::Text {
            return Err("不能为空".into());
        }
        match self.kind {
            SettingKind::Money => {
                let v = parse_money(t).map_err(|e| e.to_string())?.0;
                if v < 0 {
                    return Err("不能为负数".into());
                }
                Ok(SettingValue::Number(v))
            }
            SettingKind::Integer => {
                let v: i64 = t.trim_end_matches(self.unit.as_str()).trim().parse().map_err(|_| format!("「{t}」不是整数"))?;
                if v < 0 {
                    return Err("不能为负数".into());
                }
                Ok(SettingValue::Number(v))
            }
            SettingKind::Decimal => parse_scaled(t, self.scale).map(SettingValue::Number).map_err(|e| e.to_string()),
            SettingKind::Switch => match t {
                "是" | "开" | "允许" | "1" | "true" | "on" => Ok(SettingValue::Number(1)),
                "否" | "关" | "不允许" | "0" | "false" | "off" => Ok(SettingValue::Number(0)),
                _ => Err(format!("「{t}」应填「是」或「否」")),
            },
            SettingKind::Text => {
                if t.chars().count() > 200 {
                    Err("不能超过 200 个字".into())
                } else {
                    Ok(SettingValue::Text(t.to_string()))
                }
            }
        }
    }

    /// How a stored value is shown, with its unit.
    pub fn show(&self, v: &SettingValue) -> String {
        let unit = |s: String| if self.unit.is_empty() { s } else { format!("{s} {}", self.unit) };
        match (self.kind, v) {
            (SettingKind::Money, SettingValue::Number(n)) => unit(format_yuan(Fen(*n))),
            (SettingKind::Decimal, SettingValue::Number(n)) => unit(format_scaled(*n, self.scale)),
            (SettingKind::Switch, SettingValue::Number(n)) => if *n == 1 { "是" } else { "否" }.to_string(),
            (_, SettingValue::Number(n)) => unit(n.to_string()),
            (_, SettingValue::Text(t)) => t.clone(),
        }
    }

    /// The default as stored, if the definition gives one.
    pub fn default_value(&self) -> Option<SettingValue> {
        self.default.as_deref().and_then(|d| self.parse(d).ok())
    }

    pub fn check(&self) -> Result<(), DomainError> {
        let ok_key = !self.key.is_empty()
            && self.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':');
        if !ok_key {
            return Err(DomainError::Definition(format!("参数键「{}」只能用小写字母、数字、下划线和冒号", self.key)));
        }
        if self.label.trim().is_empty() {
            return Err(DomainError::Definition(format!("参数「{}」缺少中文名称", self.key)));
        }
        if let Some(d) = &self.default {
            self.parse(d).map_err(|e| DomainError::Definition(format!("参数「{}」的默认值{e}", self.label)))?;
        }
        Ok(())
    }
}

pub fn parse_file(text: &str) -> Result<Vec<SettingDef>, DomainError> {
    let f: SettingFile = toml::from_str(text).map_err(|e| DomainError::Definition(e.to_string()))?;
    for d in &f.setting {
        d.check()?;
    }
    Ok(f.setting)
}

/// Every built-in setting, in file order.
pub fn builtin() -> Result<Vec<SettingDef>, DomainError> {
    let mut all: Vec<SettingDef> = Vec::new();
    for (path, text) in crate::catalogue::text_files("settings/").filter(|(p, _)| p.ends_with(".toml")) {
        for d in parse_file(text).map_err(|e| DomainError::Definition(format!("{path}：{e}")))? {
            if all.iter().any(|a| a.key == d.key) {
                return Err(DomainError::Definition(format!("{path}：参数键「{}」重复", d.key)));
            }
            all.push(d);
        }
    }
    Ok(all)
}

/// The Chinese label of a built-in setting, for messages; the key itself is never shown, so an
/// unknown key reads as 相关参数.
pub fn label_of(key: &str) -> String {
    builtin()
        .ok()
        .and_then(|all| all.into_iter().find(|d| d.key == key))
        .map_or_else(|| "相关参数".to_string(), |d| d.label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_settings_load_and_have_labels() {
        let all = builtin().expect("settings");
        let line = all.iter().find(|d| d.key == "monitoring_line").expect("monitoring_line");
        assert_eq!(line.kind, SettingKind::Money);
        assert!(line.per_year);
        assert_eq!(line.parse("6,800"), Ok(SettingValue::Number(680_000)));
        assert!(line.show(&SettingValue::Number(680_000)).starts_with("6,800.00"));
        assert_eq!(label_of("monitoring_line"), line.label);
        assert_eq!(label_of("no_such_key"), "相关参数");
    }

    #[test]
    fn values_are_parsed_by_kind() {
        let d = |kind| SettingDef {
            key: "k".into(),
            label: "某参数".into(),
            kind,
            scale: 1,
            unit: "天".into(),
            per_year: false,
            group: String::new(),
            help: String::new(),
            default: None,
        };
        assert_eq!(d(SettingKind::Integer).parse("90天"), Ok(SettingValue::Number(90)));
        assert!(d(SettingKind::Integer).parse("-3").is_err());
        assert!(d(SettingKind::Money).parse("-5").is_err());
        assert_eq!(d(SettingKind::Switch).parse("是"), Ok(SettingValue::Number(1)));
        assert!(d(SettingKind::Switch).parse("也许").expect_err("not a switch").contains("是"));
        assert_eq!(d(SettingKind::Decimal).parse("2.5"), Ok(SettingValue::Number(25)));
        assert_eq!(d(SettingKind::Text).parse(" 北斗溪营地 "), Ok(SettingValue::Text("北斗溪营地".into())));
        assert_eq!(d(SettingKind::Integer).show(&SettingValue::Number(90)), "90 天");
    }
}

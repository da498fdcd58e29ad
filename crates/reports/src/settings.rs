//! Every setting a town can set: the built-in ones (`catalogue/settings/`) and, for each
//! indicator, its target (下达指标, `target:<indicator>`), whose unit follows the indicator.

use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::setting::{SettingDef, SettingKind};

use crate::error::{ReportError, Result};
use crate::indicator::IndicatorDef;

/// The prefix of an indicator's target setting.
pub const TARGET_PREFIX: &str = "target:";

/// Built-in settings, then one target per indicator (in the indicators' order).
pub fn catalogue(indicators: &[IndicatorDef], ledgers: &[LedgerDef]) -> Result<Vec<SettingDef>> {
    let mut all = taizhang_domain::setting::builtin().map_err(|e| ReportError::Definition(e.to_string()))?;
    for ind in indicators {
        let (kind, scale) = if ind.unit.contains('元') {
            (SettingKind::Money, 0)
        } else {
            let scale = match ledgers.iter().find(|l| l.key == ind.ledger) {
                Some(def) => ind.measure()?.scale(def),
                None => 0,
            };
            if scale > 0 { (SettingKind::Decimal, scale) } else { (SettingKind::Integer, 0) }
        };
        all.push(SettingDef {
            key: format!("{TARGET_PREFIX}{}", ind.key),
            label: format!("下达指标：{}", ind.name),
            kind,
            scale,
            unit: ind.unit.clone(),
            per_year: true,
            group: "下达指标".into(),
            help: format!("上级下达的{}年度目标；首页卡片显示完成率。", ind.name),
            default: None,
        });
    }
    Ok(all)
}

/// Finds a setting by its key or its Chinese label (what a clerk types).
pub fn find<'a>(all: &'a [SettingDef], key_or_label: &str) -> Option<&'a SettingDef> {
    let t = key_or_label.trim();
    all.iter().find(|d| d.key == t).or_else(|| all.iter().find(|d| d.label == t))
}

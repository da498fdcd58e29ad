//! The town's settings as the settings page and the API read and save them.

use taizhang_domain::money::format_scaled;
use taizhang_domain::setting::{SettingDef, SettingKind, SettingValue, ALL_YEARS};
use taizhang_storage::settings;
use taizhang_storage::Tx;

use crate::auth::Me;
use crate::error::AppResult;
use crate::forms::Problem;

/// Every setting a town can set: the built-in ones and a target per indicator.
pub async fn catalogue(tx: &mut Tx) -> AppResult<Vec<SettingDef>> {
    let defs = super::all_defs(tx).await?;
    Ok(taizhang_reports::settings::catalogue(super::reports::indicators()?, &defs)?)
}

/// A stored value as the form shows it for editing (parsing it again gives the same value).
pub fn edit_text(def: &SettingDef, v: &SettingValue) -> String {
    match (def.kind, v) {
        (SettingKind::Money, SettingValue::Number(n)) => format!("{}.{:02}", n.div_euclid(100), n.rem_euclid(100)),
        (SettingKind::Decimal, SettingValue::Number(n)) => format_scaled(*n, def.scale).replace(',', ""),
        (SettingKind::Switch, SettingValue::Number(n)) => if *n == 1 { "是" } else { "否" }.to_string(),
        (_, SettingValue::Number(n)) => n.to_string(),
        (_, SettingValue::Text(t)) => t.clone(),
    }
}

/// Saves what was typed for the setting named by `name` (its label; the API also takes its
/// key) for `year`, audited. Returns the setting and the value stored.
pub async fn save(tx: &mut Tx, me: &Me, all: &[SettingDef], name: &str, year: Option<i32>, text: &str) -> Result<(SettingDef, SettingValue), Problem> {
    let def = taizhang_reports::settings::find(all, name).ok_or_else(|| Problem::field("setting", "参数", format!("没有「{name}」这个参数")))?.clone();
    let year = match (def.per_year, year) {
        (true, Some(y)) if (1990..=2100).contains(&y) => y,
        (true, _) => return Err(Problem::field("year", "年度", format!("「{}」按年度设置，请选择 1990 至 2100 之间的年度", def.label))),
        (false, _) => ALL_YEARS,
    };
    // 三员分立: the security policy is the 安全管理员's, every other setting the 系统管理员's.
    let is_policy = def.group == taizhang_domain::security::GROUP;
    if is_policy != me.may_set_policy() {
        let who = if is_policy { "安全管理员" } else { "系统管理员" };
        return Err(Problem { status: axum::http::StatusCode::FORBIDDEN, ..Problem::field("setting", &def.label, format!("只能由{who}设置")) });
    }
    let value = def.parse(text).map_err(|why| Problem::field("value", &def.label, why))?;
    if let SettingValue::Number(n) = value {
        taizhang_domain::security::check_value(&def.key, n).map_err(|why| Problem::field("value", &def.label, why))?;
    }
    settings::set_value(tx, &me.user.actor(), &def, year, &value).await?;
    Ok((def, value))
}

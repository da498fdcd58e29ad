//! How a report leaves the application: the Word layout's fonts and grid, and where its
//! figures link to. Both are settings (`catalogue/settings/document.toml`); the CLI's options
//! override them for one report (an option wins over a setting, a setting over the default).

use taizhang_document::OfficialStyle;
use taizhang_domain::setting::{SettingDef, SettingValue, ALL_YEARS};
use taizhang_storage::{settings, Tx};

use crate::error::{ReportError, Result};

pub const TITLE_FONT: &str = "document:title_font";
pub const BODY_FONT: &str = "document:body_font";
pub const HEADING1_FONT: &str = "document:heading1_font";
pub const HEADING2_FONT: &str = "document:heading2_font";
pub const CHAR_GRID: &str = "document:char_grid";
/// 系统网址: the application's address, which figure links are put after in a file.
pub const LINK_BASE: &str = "report:link_base";

/// What one report asks for beyond the settings (the CLI's options); `None` keeps the setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StyleOverrides {
    pub title_font: Option<String>,
    pub body_font: Option<String>,
    pub heading1_font: Option<String>,
    pub heading2_font: Option<String>,
    pub char_grid: Option<bool>,
}

fn def(key: &str) -> Result<SettingDef> {
    taizhang_domain::setting::builtin()
        .map_err(|e| ReportError::Definition(e.to_string()))?
        .into_iter()
        .find(|d| d.key == key)
        .ok_or_else(|| ReportError::Definition(format!("缺少参数定义「{}」", taizhang_domain::setting::label_of(key))))
}

/// A setting's value as stored or its default; these settings hold one value for all years.
async fn value(tx: &mut Tx, key: &str) -> Result<Option<SettingValue>> {
    Ok(settings::effective(tx, &def(key)?, ALL_YEARS).await?)
}

/// A font setting: its text, unless empty (a clerk clearing the field means "the default").
async fn font(tx: &mut Tx, key: &str) -> Result<Option<String>> {
    Ok(match value(tx, key).await? {
        Some(SettingValue::Text(t)) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ => None,
    })
}

/// The Word layout a report is written in: each of `overrides` given, else the setting, else
/// [`OfficialStyle::default`].
pub async fn official_style(tx: &mut Tx, overrides: &StyleOverrides) -> Result<OfficialStyle> {
    let mut style = OfficialStyle::default();
    let fonts = [
        (&overrides.title_font, TITLE_FONT, &mut style.title_font),
        (&overrides.body_font, BODY_FONT, &mut style.body_font),
        (&overrides.heading1_font, HEADING1_FONT, &mut style.heading1_font),
        (&overrides.heading2_font, HEADING2_FONT, &mut style.heading2_font),
    ];
    for (given, key, slot) in fonts {
        let chosen = match given.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Some(f.to_string()),
            None => font(tx, key).await?,
        };
        if let Some(f) = chosen {
            *slot = f;
        }
    }
    style.char_grid = match overrides.char_grid {
        Some(on) => on,
        None => matches!(value(tx, CHAR_GRID).await?, Some(SettingValue::Number(1))),
    };
    Ok(style)
}

/// The base URL figure links are put after: `given` (the CLI's `--link-base`), else 系统网址,
/// else none. Only `http(s)://host…` is taken; anything else is an error naming where it came
/// from, since a report with links to nowhere would go out unnoticed.
pub async fn link_base(tx: &mut Tx, given: Option<&str>) -> Result<Option<String>> {
    let (text, source) = match given.map(str::trim).filter(|g| !g.is_empty()) {
        Some(g) => (g.to_string(), "--link-base".to_string()),
        None => match value(tx, LINK_BASE).await? {
            Some(SettingValue::Text(t)) if !t.trim().is_empty() => (t.trim().to_string(), format!("参数「{}」", def(LINK_BASE)?.label)),
            _ => return Ok(None),
        },
    };
    if !taizhang_document::is_web_url(&text) {
        return Err(ReportError::Definition(format!("{source}的值「{text}」不是网址：应以 http:// 或 https:// 开头，如 https://taizhang.example.gov.cn")));
    }
    Ok(Some(text.trim_end_matches('/').to_string()))
}

/// The code (区划代码) of the place a report is about, for the commands of
/// [`explain_command`]; `None` for the whole database or a place without a code.
pub async fn place_code(tx: &mut Tx, scope: &taizhang_storage::Scope) -> Result<Option<String>> {
    if scope.path == "/" {
        return Ok(None);
    }
    let row = tx.fetch_opt("SELECT code FROM places WHERE path = $1", &[scope.path.clone().into()]).await?;
    Ok(row.and_then(|r| r.opt_text(0)).filter(|c| !c.is_empty()))
}

/// The command that shows what a figure link shows, for a file with no address to link to:
/// `/explain/key?year=2023&as_of=2023-12-31&place=/1/2/` → `taizhang explain key --year 2023
/// --as-of 2023-12-31 --place 430121001001`. `place_code` replaces the place's path, which
/// the CLI accepts too but a clerk cannot read. `None` for a target that is no explain link.
pub fn explain_command(target: &str, place_code: Option<&str>) -> Option<String> {
    let rest = target.strip_prefix("/explain/")?;
    let (key, query) = rest.split_once('?').unwrap_or((rest, ""));
    let safe = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:".contains(c));
    if !safe(key) {
        return None;
    }
    let mut cmd = format!("taizhang explain {key}");
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let flag = match name {
            "year" => "--year",
            "period" => "--period",
            "as_of" => "--as-of",
            "place" => "--place",
            // The second figure of a pair (`hp`) is explained by its own command; the first is
            // the one the link names.
            _ => continue,
        };
        let value = match (name, place_code) {
            ("place", Some(code)) if !code.is_empty() => code,
            _ => value,
        };
        if !safe(value) {
            return None;
        }
        cmd.push_str(&format!(" {flag} {value}"));
    }
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::explain_command;

    #[test]
    fn explain_links_become_commands() {
        assert_eq!(
            explain_command("/explain/dibao_households?year=2023&as_of=2023-12-31&place=/1/2/5/", None).as_deref(),
            Some("taizhang explain dibao_households --year 2023 --as-of 2023-12-31 --place /1/2/5/")
        );
        assert_eq!(
            explain_command("/explain/a?period=2023-01-01..2023-06-30&as_of=2023-06-30&place=/1/2/&with=b", Some("430121001001")).as_deref(),
            Some("taizhang explain a --period 2023-01-01..2023-06-30 --as-of 2023-06-30 --place 430121001001")
        );
        assert_eq!(explain_command("https://x/y", None), None);
        // Nothing a shell would read as more than a word.
        assert_eq!(explain_command("/explain/a;rm?year=2023", None), None);
        assert_eq!(explain_command("/explain/a?year=2023$(x)", None), None);
    }
}

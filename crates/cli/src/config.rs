//! Where the database is: `--db`, else `TAIZHANG_DB`, else `db` in `taizhang.toml`, else
//! `./taizhang.db`.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub db: Option<String>,
}

pub const DEFAULT_DB: &str = "taizhang.db";

pub fn resolve_db(flag: Option<&str>, config_path: &str) -> anyhow::Result<String> {
    if let Some(db) = flag.filter(|s| !s.trim().is_empty()) {
        return Ok(db.to_string());
    }
    match std::fs::read_to_string(config_path) {
        Ok(text) => {
            let cfg: FileConfig = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("配置文件 {config_path} 有误：{e}"))?;
            Ok(cfg.db.unwrap_or_else(|| DEFAULT_DB.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT_DB.to_string()),
        Err(e) => Err(anyhow::anyhow!("无法读取配置文件 {config_path}：{e}")),
    }
}

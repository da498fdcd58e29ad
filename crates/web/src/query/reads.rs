//! The report of who read whose personal data, for the audit pages and the API.

use serde::Deserialize;
use taizhang_domain::ledger::LedgerDef;
use serde_json::json;

use crate::auth::Me;
use crate::error::{AppError, AppResult};

/// The filters of the report of who read whose data: a person (人员编号 `#12`/`12`, or the whole
/// ID number), a ledger (key or name, or 人员 for the registry) and one of its records, a user,
/// and days from and to (inclusive).
#[derive(Deserialize, Default, serde::Serialize, Debug)]
pub struct ReadsParams {
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub ledger: String,
    #[serde(default)]
    pub record: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// The read entries the filters select, within the auditor's scope, newest first, each as the
/// report shows it.
pub async fn read_report(tx: &mut taizhang_storage::Tx, me: &Me, p: &ReadsParams) -> AppResult<Vec<serde_json::Value>> {
    use taizhang_storage::reads::{self, ReadQuery};
    let defs = super::all_defs(tx).await?;
    let date = |text: &str, label: &str| -> AppResult<Option<chrono::NaiveDate>> {
        match text.trim() {
            "" => Ok(None),
            t => taizhang_domain::period::parse_date_lenient(t).map(Some).map_err(|e| AppError::bad_request(format!("「{label}」{e}"))),
        }
    };
    let person = match p.person.trim().trim_start_matches('#') {
        "" => None,
        t if t.len() <= 12 && t.chars().all(|c| c.is_ascii_digit()) => {
            let id: i64 = t.parse().map_err(|_| AppError::bad_request("「人员」请填人员编号或完整的身份证号"))?;
            Some(taizhang_storage::persons::get(tx, &me.scope, id).await?.id)
        }
        t => {
            let number = taizhang_domain::ident::clean(t).to_uppercase();
            match taizhang_storage::persons::by_id_number(tx, &me.scope, &number).await? {
                Some(found) => Some(found.id),
                None => return Err(AppError::not_found("没有这个人员，或不在您的管辖范围内")),
            }
        }
    };
    let entity = match p.ledger.trim() {
        "" => None,
        "persons" | "人员" | "人员库" => Some("persons".to_string()),
        t => Some(defs.iter().find(|d| d.key == t || d.name == t).map(LedgerDef::table_name).ok_or_else(|| AppError::not_found(format!("没有台账「{t}」")))?),
    };
    let record = match p.record.trim().trim_start_matches('#') {
        "" => None,
        t => Some(t.parse::<i64>().map_err(|_| AppError::bad_request("「记录编号」应为数字"))?),
    };
    if record.is_some() && entity.is_none() {
        return Err(AppError::bad_request("按记录查询时请同时选择台账"));
    }
    let q = ReadQuery {
        person,
        entity,
        record,
        actor: Some(p.user.trim().to_string()).filter(|s| !s.is_empty()),
        from: date(&p.from, "起始日期")?,
        to: date(&p.to, "截止日期")?,
        limit: p.limit.unwrap_or(200).clamp(1, 1000),
    };
    let entries = reads::list(tx, &me.scope, &q).await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let what = match e.entity.strip_prefix("ld_") {
                Some(k) => defs.iter().find(|d| d.key == k).map_or_else(|| e.entity.clone(), |d| d.name.clone()),
                None => entity_label(&e.entity).to_string(),
            };
            json!({
                "id": e.id, "at": e.at.get(..19).unwrap_or(&e.at).replace('T', " "), "user": e.actor, "entity": e.entity, "what": what,
                "count": e.count, "ids": e.ids, "persons": e.persons, "filter": e.filter, "note": e.note, "place_id": e.place_id,
            })
        })
        .collect())
}

pub fn entity_label(e: &str) -> &'static str {
    match e {
        "persons" => "人员",
        "households" => "户",
        "household_events" => "户的变动",
        "places" => "区划",
        "users" => "用户",
        "sessions" => "登录",
        "cadres" => "干部",
        "organisations" => "单位",
        "ledger_defs" => "台账定义",
        "settings" => "参数",
        "audit" => "操作日志",
        "merged_ids" => "合并对照",
        _ => "其他",
    }
}

//! People and households as a user may see them: searched, registered, shown.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::registry::{Person, StatusChange, StatusChangeInput};
use taizhang_domain::FieldError;
use taizhang_storage::{persons, Tx};

use crate::auth::Me;
use crate::error::AppResult;
use crate::forms::Problem;
use crate::{show, AppState};

/// A person as this user may see them (`show::person`: ID number and phone through the
/// masking policy; birth date and sex only where the number is shown in full). Notes the read.
pub async fn person_json(tx: &mut Tx, me: &Me, p: &Person) -> serde_json::Value {
    let view = show::person(me, p);
    let mut j = json!({
        "id": p.id,
        "name": p.name,
        "id_number": view.id_number,
        "place_id": p.place_id,
        "place": super::place_name(tx, p.place_id).await,
        "status": p.status.label(),
        "status_key": p.status.key(),
        "status_date": p.status_date.map(|d| d.to_string()),
        "status_reason": p.status_reason,
        "status_place": p.status_place,
        "ethnicity": p.ethnicity,
        "version": p.row_version,
        "phone": view.phone,
        "household_id": p.household_id,
        "relation": p.relation.clone().unwrap_or_default(),
    });
    if let (Some(sex), Some(birth)) = (view.sex, view.birth) {
        j["sex"] = json!(sex.label());
        j["birth"] = json!(birth.to_string());
    }
    j
}

/// What a search text finds: persons by name (literally: `%` and `_` are not wildcards) or by
/// ID number — the whole number, or exactly its last digits for users who see numbers in full
/// (`masking::id_search`). A number that is neither is refused with the reason.
pub async fn find(tx: &mut Tx, me: &Me, text: &str, limit: i64) -> Result<Vec<Person>, crate::error::AppError> {
    let query = taizhang_domain::masking::id_search(&me.policy(), text);
    if let taizhang_domain::masking::IdSearch::Refused(why) = &query {
        return Err(crate::error::AppError::bad_request(why.clone()));
    }
    crate::reads::filter("persons", text);
    Ok(persons::search(tx, &me.scope, &query, limit).await?)
}

/// Households by 户编号 (a part of it: the number is not personal data) or by the 户主's name,
/// with the 户主 and village, within the user's scope.
pub async fn find_households(tx: &mut Tx, me: &Me, text: &str, limit: i64) -> AppResult<Vec<serde_json::Value>> {
    let text = taizhang_domain::ident::clean(text.trim());
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let pattern = format!("%{}%", persons::escape_like(&text));
    let select = format!(
        "SELECT h.id, h.number, coalesce(p.name, '') AS head, coalesce(v.name || ' ', '') || g.name AS place FROM households h LEFT JOIN persons p ON p.id = h.head_person_id \
         JOIN places g ON g.id = h.place_id LEFT JOIN places v ON v.id = g.parent_id AND g.level = 'group' WHERE {} AND (h.number LIKE $2 ESCAPE '\\' OR p.name LIKE $2 ESCAPE '\\')",
        me.scope.condition("h.place_id", 1)
    );
    let sql = if taizhang_storage::places::gather_first(tx, &me.scope).await? {
        format!("{} LIMIT $3", taizhang_storage::places::scope_first(&select, "number"))
    } else {
        format!("{select} ORDER BY h.number LIMIT $3")
    };
    let rows = tx.fetch(&sql, &[me.scope.arg(), pattern.into(), limit.into()]).await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(json!({"id": r.int(0), "number": r.text(1), "head": r.text(2), "place": r.text(3)}));
    }
    Ok(out)
}

/// A household with its members, as this user may see them.
pub async fn household_json(tx: &mut Tx, me: &Me, id: i64) -> AppResult<serde_json::Value> {
    let h = taizhang_storage::households::get(tx, &me.scope, id).await?;
    let mut members = Vec::new();
    for p in taizhang_storage::households::members(tx, &me.scope, h.id).await? {
        members.push(person_json(tx, me, &p).await);
    }
    Ok(json!({"id": h.id, "number": h.number, "place_id": h.place_id, "place": super::place_name(tx, h.place_id).await, "head_person_id": h.head_person_id, "members": members}))
}

/// What a person form sends.
#[derive(Deserialize, Default, Debug)]
pub struct PersonForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub ethnicity: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub place: String,
}

/// Registers a person in a place within the user's scope (the same validation as the CLI).
pub async fn register(state: &AppState, me: &Me, f: &PersonForm) -> Result<Person, taizhang_storage::StoreError> {
    let mut tx = state.db.begin().await?;
    let place = taizhang_storage::places::resolve(&mut tx, &me.scope, &f.place).await?;
    let input = taizhang_domain::registry::PersonInput {
        name: f.name.trim().to_string(),
        id_number: f.id_number.trim().to_string(),
        ethnicity: f.ethnicity.trim().to_string(),
        phone: f.phone.trim().to_string(),
        place_id: place.id,
        ..Default::default()
    };
    let new = taizhang_domain::registry::validate_person(&input, state.today())?;
    let p = persons::create(&mut tx, &me.user.actor(), &me.scope, &new).await?;
    tx.commit().await?;
    Ok(p)
}

/// A status change as typed: the change (key or label), its date, reason and place.
pub fn status_input(change: &str, date: Result<Option<NaiveDate>, String>, reason: &str, place_text: &str) -> Result<StatusChangeInput, Problem> {
    let mut errors = Vec::new();
    let change = StatusChange::parse(change);
    if change.is_none() {
        errors.push(FieldError::new("change", "变更类型", "请选择：死亡、迁出、迁入、失联 或 正常"));
    }
    let date = date.unwrap_or_else(|e| {
        errors.push(FieldError::new("date", "变更日期", e));
        None
    });
    match change {
        Some(change) if errors.is_empty() => Ok(StatusChangeInput {
            change,
            date,
            reason: reason.trim().to_string(),
            // A place typed before switching to a change without one (死亡) is not kept.
            place_text: if change.place_label().is_some() { place_text.trim().to_string() } else { String::new() },
        }),
        _ => Err(Problem::fields(errors)),
    }
}

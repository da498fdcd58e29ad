//! The registry: search people by name or ID number, and one person's page.

use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::idcard::Sex;
use taizhang_domain::ledger::SubjectKind;
use taizhang_domain::registry::Person;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{persons, Tx};

use crate::auth::Me;
use crate::error::AppResult;
use crate::{show, views, AppState};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

pub async fn person_json(tx: &mut Tx, me: &Me, p: &Person) -> serde_json::Value {
    json!({
        "id": p.id,
        "name": p.name,
        "id_number": show::id_number(&p.id_number, me.sees_id_numbers()),
        "sex": if p.sex == Sex::Male { "男" } else { "女" },
        "birth": p.birth_date.to_string(),
        "place_id": p.place_id,
        "place": super::place_name(tx, p.place_id).await,
        "status": p.status.label(),
        "phone": if me.sees_id_numbers() { p.phone.clone() } else { taizhang_domain::idcard::mask_id(&p.phone) },
        "household_id": p.household_id,
        "relation": p.relation.clone().unwrap_or_default(),
    })
}

pub async fn search(State(state): State<AppState>, me: Me, Query(q): Query<SearchQuery>) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let mut people = Vec::new();
    if !q.q.trim().is_empty() {
        for p in persons::search(&mut tx, &me.scope, &q.q, 100).await? {
            people.push(person_json(&mut tx, &me, &p).await);
        }
    }
    let mut ctx = views::layout(&me, &defs, "查人", &[("查人", "")]);
    ctx.insert("q".into(), json!(q.q));
    ctx.insert("people".into(), json!(people));
    views::render("search.html", &ctx.into())
}

pub async fn person(State(state): State<AppState>, me: Me, Path(id): Path<i64>) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let p = persons::get(&mut tx, &me.scope, id).await?;
    let mut recs = Vec::new();
    for def in defs.iter().filter(|d| d.subject == SubjectKind::Person) {
        let q = RecordQuery { subject_id: Some(p.id), limit: Some(20), ..Default::default() };
        for r in records::list(&mut tx, def, &me.scope, &q).await? {
            recs.push(json!({"ledger": def.name, "key": def.key, "id": r.id, "summary": taizhang_reports::eval::record_summary(def, &r, 4)}));
        }
    }
    let mut ctx = views::layout(&me, &defs, &p.name, &[("查人", "/search"), (p.name.as_str(), "")]);
    ctx.insert("p".into(), person_json(&mut tx, &me, &p).await);
    ctx.insert("records".into(), json!(recs));
    views::render("person.html", &ctx.into())
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

pub async fn household(State(state): State<AppState>, me: Me, Path(id): Path<i64>) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let h = household_json(&mut tx, &me, id).await?;
    let mut recs = Vec::new();
    for def in defs.iter().filter(|d| d.subject == SubjectKind::Household) {
        let q = RecordQuery { subject_id: Some(id), limit: Some(20), ..Default::default() };
        for r in records::list(&mut tx, def, &me.scope, &q).await? {
            recs.push(json!({"ledger": def.name, "key": def.key, "id": r.id, "summary": taizhang_reports::eval::record_summary(def, &r, 4)}));
        }
    }
    let number = h["number"].as_str().unwrap_or("").to_string();
    let mut ctx = views::layout(&me, &defs, &format!("户 {number}"), &[("查人", "/search"), (number.as_str(), "")]);
    ctx.insert("members".into(), h["members"].clone());
    ctx.insert("h".into(), h);
    ctx.insert("records".into(), json!(recs));
    views::render("household.html", &ctx.into())
}

//! The registry: search people by name or ID number, and one person's page.

use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;
use serde_json::json;

use crate::query::people::{find, find_households, person_json, register, PersonForm};
use crate::auth::Me;
use crate::error::AppResult;
use crate::{views, AppState};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

pub async fn search(State(state): State<AppState>, me: Me, Query(q): Query<SearchQuery>) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let mut people = Vec::new();
    let mut problem = String::new();
    let mut homes = Vec::new();
    if !q.q.trim().is_empty() {
        homes = find_households(&mut tx, &me, &q.q, 50).await?;
        match find(&mut tx, &me, &q.q, 100).await {
            Ok(found) => {
                for p in found {
                    let mut j = person_json(&mut tx, &me, &p).await;
                    if let Some(hid) = p.household_id {
                        if let Ok(h) = taizhang_storage::households::get(&mut tx, &me.scope, hid).await {
                            j["household_number"] = json!(h.number);
                        }
                    }
                    people.push(j);
                }
            }
            // A 户编号 is a number too: its refusal as an ID number is said only when no household has it.
            Err(e) if e.status == axum::http::StatusCode::BAD_REQUEST => {
                if homes.is_empty() {
                    problem = e.message
                }
            }
            Err(e) => return Err(e),
        }
    }
    let mut ctx = views::layout(&me, &defs, "查找", &[("查找", "")]);
    ctx.insert("q".into(), json!(q.q));
    ctx.insert("people".into(), json!(people));
    ctx.insert("households".into(), json!(homes));
    ctx.insert("problem".into(), json!(problem));
    ctx.insert("suffix_ok".into(), json!(me.policy().may_search_by_suffix()));
    views::render("search.html", &ctx.into())
}

async fn person_form_page(state: &AppState, me: &Me, f: &PersonForm, status: axum::http::StatusCode, problem: &str, errors: &[taizhang_domain::FieldError]) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let err = |k: &str| errors.iter().filter(|e| e.key == k).map(|e| e.reason.clone()).collect::<Vec<_>>().join("；");
    let mut places: Vec<String> = vec![me.place_name.clone()];
    for p in taizhang_storage::places::subtree(&mut tx, &me.scope).await? {
        if !places.contains(&p.name) {
            places.push(p.name);
        }
    }
    let field = |key: &str, label: &str, value: &str, required: bool, help: &str, placeholder: &str| {
        json!({"key": key, "label": label, "kind": "text", "value": value, "required": required, "help": help, "placeholder": placeholder, "error": err(key)})
    };
    let fields = vec![
        field("name", "姓名", &f.name, true, "", ""),
        field("id_number", "身份证号", &f.id_number, true, "18 位，末位可为 X；性别和出生日期由号码得出", "18 位公民身份号码"),
        field("ethnicity", "民族", &f.ethnicity, false, "", "如 汉族"),
        field("phone", "电话", &f.phone, false, "", "11 位手机号或带区号的座机"),
        json!({"key": "place", "label": "所在地", "kind": "select", "options": places, "value": f.place, "required": true, "error": err("place_id")}),
    ];
    let mut ctx = views::layout(me, &defs, "登记人员", &[("查人", "/search"), ("登记人员", "")]);
    ctx.insert("fields".into(), json!(fields));
    ctx.insert("problem".into(), json!(problem));
    Ok((status, views::render("person_form.html", &ctx.into())?).into_response())
}

pub async fn new_person_form(State(state): State<AppState>, me: Me) -> AppResult<axum::response::Response> {
    person_form_page(&state, &me, &PersonForm::default(), axum::http::StatusCode::OK, "", &[]).await
}

pub async fn create_person(State(state): State<AppState>, me: Me, axum::Form(f): axum::Form<PersonForm>) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    match register(&state, &me, &f).await {
        Ok(p) => Ok(axum::response::Redirect::to(&format!("/persons/{}", p.id)).into_response()),
        Err(e) => {
            let a = crate::error::AppError::from(e);
            let problem = if a.fields.is_empty() { a.message.clone() } else { "请按提示改正标红的项目".to_string() };
            person_form_page(&state, &me, &f, a.status, &problem, &a.fields).await
        }
    }
}


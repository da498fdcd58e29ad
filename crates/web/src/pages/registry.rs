//! The registry: search people by name or ID number, and one person's page.

use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::registry::Person;
use taizhang_storage::{persons, Tx};

use crate::auth::Me;
use crate::error::AppResult;
use crate::{show, views, AppState};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
}

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
    let sql = format!(
        "SELECT h.id, h.number, coalesce(p.name, ''), coalesce(v.name || ' ', '') || g.name FROM households h LEFT JOIN persons p ON p.id = h.head_person_id \
         JOIN places g ON g.id = h.place_id LEFT JOIN places v ON v.id = g.parent_id AND g.level = 'group' WHERE {} AND (h.number LIKE $2 ESCAPE '\\' OR p.name LIKE $2 ESCAPE '\\') ORDER BY h.number LIMIT $3",
        me.scope.condition("h.place_id", 1)
    );
    let rows = tx.fetch(&sql, &[me.scope.arg(), pattern.into(), limit.into()]).await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(json!({"id": r.int(0), "number": r.text(1), "head": r.text(2), "place": r.text(3)}));
    }
    Ok(out)
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

#[derive(Deserialize, Default)]
pub struct PickQuery {
    #[serde(default)]
    pub q: String,
    /// `person`, `household`, `cadre`, `ledger:<key>`, or empty for persons, households and
    /// cadres together.
    #[serde(default)]
    pub kind: String,
    /// One item by its id (what a form's `#14` stands for), instead of a search.
    #[serde(default)]
    pub id: Option<i64>,
    /// A ledger's key: answers which of its form's inputs take which kind (its reference
    /// fields and its subject), for the script that attaches the pickers.
    #[serde(default)]
    pub fields: String,
}

/// `GET /api/v1/search`: the one search (names, ID numbers by the exact rule, 户编号, cadres'
/// names, a ledger's cases by their subject) answering the type-ahead pickers of reference
/// fields: each item with the text a form takes (`value`), its name, village and masked number.
pub async fn pick(State(state): State<AppState>, me: Me, Query(q): Query<PickQuery>) -> Result<axum::Json<serde_json::Value>, crate::error::AppError> {
    let mut tx = state.db.read().await?;
    if !q.fields.is_empty() {
        use taizhang_domain::ledger::{FieldKind, RefTarget, SubjectKind};
        let defs = state.cache.defs(&mut tx, me.version).await?;
        let def = super::find_def(&me, &defs, &q.fields)?;
        let mut fields = Vec::new();
        match def.subject {
            SubjectKind::Person => fields.push(json!({"key": "_subject", "kind": "person"})),
            SubjectKind::Household => fields.push(json!({"key": "_subject", "kind": "household"})),
            _ => {}
        }
        for f in def.active_fields().filter(|f| f.kind == FieldKind::Reference) {
            let kind = match &f.target {
                Some(RefTarget::Person) => "person".to_string(),
                Some(RefTarget::Household) => "household".to_string(),
                Some(RefTarget::Cadre) => "cadre".to_string(),
                Some(RefTarget::Ledger(k)) if super::find_def(&me, &defs, k).is_ok() => format!("ledger:{k}"),
                _ => continue,
            };
            fields.push(json!({"key": f.key, "kind": kind}));
        }
        return Ok(axum::Json(json!({ "fields": fields })));
    }
    let text = q.q.trim();
    let kind = q.kind.trim();
    let mut items = Vec::new();
    let wants = |k: &str| kind.is_empty() || kind == k;
    let places = state.cache.places(&mut tx, me.version).await?;
    let village = |id: i64| {
        let (v, g) = places.village_and_group(id);
        if g.is_empty() { v } else { format!("{v} {g}") }
    };
    if wants("person") && (q.id.is_some() || !text.is_empty()) {
        let found = match q.id {
            Some(id) => persons::get(&mut tx, &me.scope, id).await.ok().into_iter().collect(),
            None => match find(&mut tx, &me, text, 20).await {
                Ok(found) => found,
                Err(e) if e.status == axum::http::StatusCode::BAD_REQUEST && !kind.is_empty() => return Err(e),
                Err(_) => Vec::new(),
            },
        };
        if q.id.is_some() {
            crate::reads::filter("persons", &format!("#{}", q.id.unwrap_or_default()));
        }
        for p in found {
            let view = show::person(&me, &p);
            items.push(json!({"kind": "person", "id": p.id, "value": format!("#{}", p.id), "name": p.name, "village": village(p.place_id), "number": view.id_number, "link": format!("/persons/{}", p.id)}));
        }
    }
    if wants("household") && (q.id.is_some() || !text.is_empty()) {
        let found = match q.id {
            Some(id) => match taizhang_storage::households::get(&mut tx, &me.scope, id).await {
                Ok(h) => find_households(&mut tx, &me, &h.number, 1).await?,
                Err(_) => Vec::new(),
            },
            None => find_households(&mut tx, &me, text, 20).await?,
        };
        for h in found {
            let number = h["number"].as_str().unwrap_or("").to_string();
            let head = h["head"].as_str().unwrap_or("").to_string();
            items.push(json!({"kind": "household", "id": h["id"], "value": number, "name": if head.is_empty() { number.clone() } else { format!("{head}（户主）") }, "village": h["place"], "number": number, "link": format!("/households/{}", h["id"])}));
        }
    }
    if wants("cadre") && (q.id.is_some() || !text.is_empty()) {
        let (cond, arg) = match q.id {
            Some(id) => ("id = $2".to_string(), taizhang_storage::Arg::Int(id)),
            None => ("name LIKE $2 ESCAPE '\\'".to_string(), format!("%{}%", persons::escape_like(text)).into()),
        };
        let sql = format!("SELECT id, name, post, place_id FROM cadres WHERE {} AND {cond} ORDER BY name, id LIMIT 20", me.scope.condition("place_id", 1));
        let rows = tx.fetch(&sql, &[me.scope.arg(), arg]).await?;
        for r in &rows {
            let name = r.text(1);
            let unique = rows.iter().filter(|o| o.text(1) == name).count() == 1 && q.id.is_none();
            items.push(json!({"kind": "cadre", "id": r.int(0), "value": if unique { name.clone() } else { format!("#{}", r.int(0)) }, "name": name, "village": village(r.int(3)), "number": r.text(2)}));
        }
    }
    if let Some(key) = kind.strip_prefix("ledger:") {
        let defs = state.cache.defs(&mut tx, me.version).await?;
        let def = super::find_def(&me, &defs, key)?;
        let rq = taizhang_storage::records::RecordQuery::default();
        let all = taizhang_storage::records::list(&mut tx, def, &me.scope, &rq).await?;
        let mut ids: Vec<i64> = all.iter().filter_map(|r| r.subject_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let subjects = super::ledger::subjects_of(&mut tx, &me, def, &ids).await;
        for r in all.iter().rev() {
            let subject = r.subject_id.and_then(|id| subjects.get(&id));
            let hit = match q.id {
                Some(id) => r.id == id,
                None => text.is_empty() || subject.is_some_and(|s| s.names.contains(text)) || text.trim_start_matches('#') == r.id.to_string(),
            };
            if !hit {
                continue;
            }
            show::shown(def, r);
            let state_label = def.workflow.as_ref().zip(r.state.as_deref()).map(|(w, s)| w.state_label(s).to_string()).unwrap_or_default();
            items.push(json!({"kind": "record", "id": r.id, "value": format!("#{}", r.id), "name": format!("{} #{}", subject.map(|s| s.text.clone()).unwrap_or_else(|| def.name.clone()), r.id), "village": village(r.place_id), "number": state_label, "link": format!("/ledgers/{}/{}", def.key, r.id)}));
            if items.len() >= 20 {
                break;
            }
        }
    }
    Ok(axum::Json(json!({ "items": items })))
}

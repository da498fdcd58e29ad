//! 干部名册 and 单位名录: the cadres and organisations in the user's scope, edited and ended
//! (离任, 注销) by writers. An ended cadre or organisation shows as such, keeps its past
//! records, and is no longer offered for new ones.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value as J};
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::registry::CadreKind;
use taizhang_storage::{orgs, places, Tx};

use crate::auth::Me;
use crate::error::AppResult;
use crate::forms::{self, Attempt, Problem};
use crate::{views, AppState};

type Pairs = Vec<(String, String)>;

const KINDS: [CadreKind; 4] = [CadreKind::Town, CadreKind::Village, CadreKind::Resident, CadreKind::Other];

#[derive(Deserialize, Default, serde::Serialize, Clone)]
pub struct Done {
    #[serde(default)]
    done: String,
    /// The list's filters (干部名册): a place (`#编号`), 在任/已离任, part of a name.
    #[serde(default)]
    place: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    kw: String,
}

/// The places a cadre can belong to (the town, its villages and groups), as (`#编号`, name).
async fn place_options(tx: &mut Tx, me: &Me) -> AppResult<Vec<(String, String)>> {
    let all = places::subtree(tx, &me.scope).await?;
    let name_of = |id: Option<i64>| all.iter().find(|p| Some(p.id) == id).map(|p| p.name.clone()).unwrap_or_default();
    Ok(all
        .iter()
        .filter(|p| p.level != PlaceLevel::County)
        .map(|p| {
            let name = if p.level == PlaceLevel::Group { format!("{} {}", name_of(p.parent_id), p.name) } else { p.name.clone() };
            (format!("#{}", p.id), name)
        })
        .collect())
}

fn ended_text(on: Option<NaiveDate>, reason: &str) -> String {
    match on {
        Some(d) if reason.is_empty() => d.to_string(),
        Some(d) => format!("{d}，{reason}"),
        None => String::new(),
    }
}

pub async fn cadres(State(state): State<AppState>, me: Me, Query(q): Query<Done>) -> AppResult<Response> {
    let notice = match q.done.as_str() {
        "edit" => "已保存干部信息",
        "end" => "已登记离任：此后不能再被选为新记录的干部",
        _ => "",
    };
    render_cadres(&state, &me, &q, Attempt::default(), StatusCode::OK, notice).await
}

async fn render_cadres(state: &AppState, me: &Me, q: &Done, attempt: Attempt, status: StatusCode, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let mut list = orgs::list_cadres(&mut tx, &me.scope).await?;
    // A place chosen takes the cadres of that place and of the places under it.
    if let Some(pid) = q.place.strip_prefix('#').and_then(|p| p.parse::<i64>().ok()) {
        let paths: std::collections::HashMap<i64, String> = places::subtree(&mut tx, &me.scope).await?.into_iter().map(|p| (p.id, p.path)).collect();
        let under = paths.get(&pid).cloned().unwrap_or_else(|| "\u{0}".into());
        list.retain(|c| paths.get(&c.place_id).is_some_and(|p| p.starts_with(&under)));
    }
    match q.status.as_str() {
        "serving" => list.retain(|c| c.ended_on.is_none()),
        "ended" => list.retain(|c| c.ended_on.is_some()),
        _ => {}
    }
    if !q.kw.trim().is_empty() {
        list.retain(|c| c.name.contains(q.kw.trim()));
    }
    // Those in post first, then those who have left, each in the order they were registered.
    list.sort_by_key(|c| (c.ended_on.is_some(), c.id));
    let mut rows: Vec<J> = Vec::new();
    for c in &list {
        rows.push(json!({
            "id": c.id, "name": c.name, "kind": c.kind.label(), "kind_key": c.kind.key(), "post": c.post, "unit": c.unit,
            "place": super::place_name(&mut tx, c.place_id).await, "place_ref": format!("#{}", c.place_id),
            "phone": crate::show::phone(me, &c.phone), "birth": c.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            "ended": c.ended_on.is_some(), "ended_text": ended_text(c.ended_on, &c.end_reason),
        }));
    }
    let mut ctx = views::layout(me, &defs, "干部名册", &[("基础信息", ""), ("干部名册", "")]);
    ctx.insert("group".into(), json!("基础信息"));
    ctx.insert("cadres".into(), json!(rows));
    ctx.insert("q".into(), json!(q));
    ctx.insert("in_post".into(), json!(list.iter().filter(|c| c.ended_on.is_none()).count()));
    ctx.insert("kinds".into(), json!(KINDS.iter().map(|k| (k.key(), k.label())).collect::<Vec<_>>()));
    ctx.insert("places".into(), json!(place_options(&mut tx, me).await?));
    ctx.insert("can_write".into(), json!(super::person::may_write(me)));
    ctx.insert("attempt".into(), json!(attempt));
    ctx.insert("today".into(), json!(state.today().to_string()));
    ctx.insert("notice".into(), json!(notice));
    Ok((status, views::render("cadres.html", &ctx.into())?).into_response())
}

/// 编辑 a cadre: name, kind, post, unit, place, phone, birth date.
pub async fn edit_cadre(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let mut c = orgs::get_cadre(&mut tx, &me.scope, id).await?;
    let result = async {
        c.name = forms::text(&form, "name");
        c.kind = CadreKind::parse(&forms::text(&form, "kind")).ok_or_else(|| Problem::field("kind", "干部类别", "请选择"))?;
        c.post = forms::text(&form, "post");
        c.unit = forms::text(&form, "unit");
        // A masked phone sent back as shown keeps the stored one; only a retyped one changes it.
        let typed_phone = forms::text(&form, "phone");
        if typed_phone != crate::show::phone(&me, &c.phone) {
            c.phone = typed_phone;
        }
        c.birth_date = forms::date(&form, "birth_date", "出生日期")?;
        c.place_id = crate::query::households::place_ref(&mut tx, &me, &forms::text(&form, "place"), "place", "所属地点").await?;
        Ok::<_, Problem>(orgs::update_cadre(&mut tx, &me.user.actor(), &me.scope, &c, state.today()).await?)
    }
    .await;
    finish(state, me, tx, result.map(|_| ()), &format!("edit-{id}"), &form, &["name", "kind", "post", "unit", "place", "phone", "birth_date"], "edit").await
}

/// 离任 on a date, with a reason.
pub async fn end_cadre(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    orgs::get_cadre(&mut tx, &me.scope, id).await?;
    let result = async {
        let on = forms::required_date(&form, "ended_on", "离任日期")?;
        Ok::<_, Problem>(orgs::end_cadre(&mut tx, &me.user.actor(), &me.scope, id, on, &forms::text(&form, "end_reason"), state.today()).await?)
    }
    .await;
    finish(state, me, tx, result.map(|_| ()), &format!("end-{id}"), &form, &["ended_on", "end_reason"], "end").await
}

#[allow(clippy::too_many_arguments)]
async fn finish(state: AppState, me: Me, tx: Tx, result: Result<(), Problem>, form_id: &str, form: &Pairs, shown: &[&str], done: &str) -> AppResult<Response> {
    match result {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/cadres?done={done}")).into_response())
        }
        Err(p) => {
            drop(tx);
            render_cadres(&state, &me, &Done::default(), Attempt::new(form_id, form, &p, shown), p.status, "").await
        }
    }
}

pub async fn organisations(State(state): State<AppState>, me: Me, Query(q): Query<Done>) -> AppResult<Response> {
    let notice = if q.done == "end" { "已登记注销：此后不能再被选为新记录的单位" } else { "" };
    render_orgs(&state, &me, Attempt::default(), StatusCode::OK, notice).await
}

async fn render_orgs(state: &AppState, me: &Me, attempt: Attempt, status: StatusCode, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let mut list = orgs::list_orgs(&mut tx, &me.scope).await?;
    list.sort_by_key(|o| (o.ended_on.is_some(), o.id));
    let mut rows = Vec::new();
    for o in &list {
        rows.push(json!({
            "id": o.id, "name": o.name, "kind": o.kind, "uscc": o.uscc.clone().unwrap_or_default(), "address": o.address,
            "place": super::place_name(&mut tx, o.place_id).await, "contact": o.contact, "phone": o.phone,
            "ended": o.ended_on.is_some(), "ended_text": ended_text(o.ended_on, ""),
        }));
    }
    let mut ctx = views::layout(me, &defs, "单位名录", &[("基础信息", ""), ("单位名录", "")]);
    ctx.insert("group".into(), json!("基础信息"));
    ctx.insert("orgs".into(), json!(rows));
    ctx.insert("can_write".into(), json!(super::person::may_write(me)));
    ctx.insert("attempt".into(), json!(attempt));
    ctx.insert("today".into(), json!(state.today().to_string()));
    ctx.insert("notice".into(), json!(notice));
    Ok((status, views::render("orgs.html", &ctx.into())?).into_response())
}

/// 注销: the organisation closed on a date.
pub async fn end_org(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let mut o = orgs::get_org(&mut tx, &me.scope, id).await?;
    let result = async {
        if let Some(d) = o.ended_on {
            return Err(Problem { status: StatusCode::CONFLICT, fields: Vec::new(), message: format!("「{}」已于 {d} 注销", o.name), stale: false });
        }
        o.ended_on = Some(forms::required_date(&form, "ended_on", "注销日期")?);
        Ok::<_, Problem>(orgs::update_org(&mut tx, &me.user.actor(), &me.scope, &o, state.today()).await?)
    }
    .await;
    match result {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to("/orgs?done=end").into_response())
        }
        Err(p) => {
            drop(tx);
            render_orgs(&state, &me, Attempt::new(&format!("end-{id}"), &form, &p, &["ended_on"]), p.status, "").await
        }
    }
}

//! One household's page: its members with their relations and statuses, the changes a clerk
//! records through the year (成员加入, 成员迁出, 户主变更, 分户, 整户迁移) and its history, newest
//! first. The changes themselves (their inputs and checks) are `crate::query::households`,
//! which the API calls too.


use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Value as J};
use taizhang_domain::ledger::SubjectKind;
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::registry::Person;
use taizhang_storage::households::{self, LeaveReason};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{persons, places, Tx};

use crate::auth::Me;
use crate::query::households::{change_head, join, leave, move_to, split, HeadInput, JoinInput, LeaveInput, MoveInput, SplitInput, SplitMember};
use crate::error::AppResult;
use crate::forms::{self, Attempt, Problem};
use crate::{views, AppState};

type Pairs = Vec<(String, String)>;

/// Words clerks write for relations, offered as suggestions (any GB/T 4761 name or everyday
/// word is accepted).
const RELATION_WORDS: &[&str] = &["配偶", "妻", "夫", "子", "女", "之子", "之女", "子女", "儿媳", "女婿", "孙子", "孙女", "外孙", "外孙女", "父亲", "母亲", "父母", "兄弟姐妹", "其他亲属", "非亲属"];
const JOIN_REASONS: &[&str] = &["出生", "婚入", "迁入", "收养", "投靠亲属", "其他"];

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

fn notice(code: &str) -> &'static str {
    match code {
        "join" => "已办理成员加入",
        "leave" => "已办理成员迁出",
        "head" => "已办理户主变更，请核对其他成员与新户主的关系",
        "split" => "已办理分户，新户见下方变动历史",
        "move" => "已办理整户迁移，成员随户迁移",
        _ => "",
    }
}

pub async fn page(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Query(q): Query<Done>) -> AppResult<Response> {
    render(&state, &me, id, Attempt::default(), StatusCode::OK, notice(&q.done)).await
}

/// Villages and groups in the user's scope, for the 分户 and 整户迁移 selects: a group is
/// named with its village (坪溪村 3组).
async fn place_choices(tx: &mut Tx, me: &Me) -> AppResult<Vec<J>> {
    let all = places::subtree(tx, &me.scope).await?;
    let name_of = |id: Option<i64>| all.iter().find(|p| Some(p.id) == id).map(|p| p.name.clone()).unwrap_or_default();
    Ok(all
        .iter()
        .filter(|p| matches!(p.level, PlaceLevel::Village | PlaceLevel::Group))
        .map(|p| {
            let name = if p.level == PlaceLevel::Group { format!("{} {}", name_of(p.parent_id), p.name) } else { p.name.clone() };
            json!({"id": p.id, "name": name})
        })
        .collect())
}

pub async fn render(state: &AppState, me: &Me, id: i64, attempt: Attempt, status: StatusCode, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let h = households::get(&mut tx, &me.scope, id).await?;
    let mut members = Vec::new();
    let list = households::members(&mut tx, &me.scope, h.id).await?;
    for p in &list {
        let mut m = crate::query::people::person_json(&mut tx, me, p).await;
        m["tone"] = json!(super::person::status_tone(p.status));
        m["status_text"] = json!(super::person::status_text(p));
        m["head"] = json!(h.head_person_id == Some(p.id));
        members.push(m);
    }
    let mut history = Vec::new();
    for e in households::history(&mut tx, &me.scope, h.id).await?.into_iter().rev() {
        let person = match e.person_id {
            Some(pid) => Some(match persons::get(&mut tx, &me.scope, pid).await {
                Ok(p) => json!({"id": p.id, "name": p.name}),
                Err(_) => json!({"id": null, "name": format!("#{pid}")}),
            }),
            None => None,
        };
        let other = match e.other_household_id {
            Some(oid) => households::get(&mut tx, &me.scope, oid).await.ok().map(|o| json!({"id": o.id, "number": o.number})),
            None => None,
        };
        history.push(json!({"on": e.on_date.to_string(), "kind": e.kind_label, "detail": e.detail, "actor": e.actor, "person": person, "other": other}));
    }
    // Every record of every ledger about the household, and about each of its members.
    let mut recs = Vec::new();
    let mut open_cases: Vec<(String, i64)> = Vec::new();
    for def in super::readable(me, &defs) {
        let subjects: Vec<(i64, String)> = match def.subject {
            SubjectKind::Household => vec![(h.id, String::new())],
            SubjectKind::Person => list.iter().map(|p| (p.id, p.name.clone())).collect(),
            _ => continue,
        };
        for (sid, who) in subjects {
            let q = RecordQuery { subject_id: Some(sid), limit: Some(200), ..Default::default() };
            for r in records::list(&mut tx, def, &me.scope, &q).await? {
                crate::show::shown(def, &r);
                let state_label = def.workflow.as_ref().zip(r.state.as_deref()).map(|(w, s)| w.state_label(s).to_string()).unwrap_or_default();
                if def.workflow.as_ref().zip(r.state.as_deref()).is_some_and(|(w, s)| !w.state(s).is_some_and(|st| st.closed)) {
                    open_cases.push((def.key.clone(), r.id));
                }
                recs.push(json!({"ledger": def.name, "key": def.key, "id": r.id, "who": who, "state": state_label, "tone": crate::show::tone(def, r.state.as_deref()), "summary": taizhang_reports::eval::record_text(&mut tx, &me.scope, def, &r, 4).await?}));
            }
        }
    }
    // 走访: the visit form for this household, with its open case when a visit ledger refers to one.
    let visit = {
        let case = open_cases.iter().find_map(|(k, id)| super::village::visit_ledger(me, &defs, Some(k)).map(|v| (v, *id)));
        let cadre = super::village::my_cadre(&mut tx, me).await;
        match case {
            Some((v, id)) => Some(super::village::visit_href(&v, &h.number, Some(id), state.today(), cadre.as_ref())),
            None => super::village::visit_ledger(me, &defs, None).map(|v| super::village::visit_href(&v, &h.number, None, state.today(), cadre.as_ref())),
        }
    };
    // The village, and the 组 when the household is in one.
    let place = {
        let (village, group) = state.cache.places(&mut tx, me.data_version).await?.village_and_group(h.place_id);
        if group.is_empty() { village } else { format!("{village} {group}") }
    };
    let title = format!("户 {}", h.number);
    let mut ctx = views::layout(me, &defs, &title, &[("基础信息", ""), ("查人", "/search"), (title.as_str(), "")]);
    ctx.insert("group".into(), json!("基础信息"));
    ctx.insert("h".into(), json!({"id": h.id, "number": h.number, "place": place, "place_id": h.place_id}));
    ctx.insert("members".into(), json!(members));
    ctx.insert("history".into(), json!(history));
    ctx.insert("records".into(), json!(recs));
    ctx.insert("visit".into(), json!(visit));
    // Choices as (value, label): people and places by `#编号`, so that two 组 of the same
    // name in different villages stay apart.
    let places = place_choices(&mut tx, me).await?;
    let pairs = |v: &[&str]| v.iter().map(|r| (r.to_string(), r.to_string())).collect::<Vec<_>>();
    let member = |p: &Person| (format!("#{}", p.id), format!("{}（{}）", p.name, p.relation.as_deref().unwrap_or("关系未填")));
    ctx.insert("member_options".into(), json!(list.iter().map(member).collect::<Vec<_>>()));
    ctx.insert("head_options".into(), json!(list.iter().filter(|p| h.head_person_id != Some(p.id)).map(member).collect::<Vec<_>>()));
    ctx.insert("place_options".into(), json!(places.iter().map(|p| (format!("#{}", p["id"]), p["name"].as_str().unwrap_or("").to_string())).collect::<Vec<_>>()));
    ctx.insert("move_options".into(), json!(places.iter().filter(|p| p["id"] != json!(h.place_id)).map(|p| (format!("#{}", p["id"]), p["name"].as_str().unwrap_or("").to_string())).collect::<Vec<_>>()));
    ctx.insert("relation_words".into(), json!(RELATION_WORDS));
    ctx.insert("join_reasons".into(), json!(pairs(JOIN_REASONS)));
    ctx.insert("leave_reasons".into(), json!(pairs(&LeaveReason::ALL.iter().map(|r| r.label()).collect::<Vec<_>>())));
    ctx.insert("can_write".into(), json!(super::person::may_write(me)));
    ctx.insert("attempt".into(), json!(attempt));
    ctx.insert("today".into(), json!(state.today().to_string()));
    ctx.insert("notice".into(), json!(notice));
    Ok((status, views::render("household.html", &ctx.into())?).into_response())
}

/// The forms of the page and the controls each shows (their messages go beside them).
fn shown_keys(form: &str, typed: &Pairs) -> Vec<String> {
    let base: &[&str] = match form {
        "join" => &["id_number", "relation", "date", "reason"],
        "leave" => &["person", "reason", "date", "place_text", "note"],
        "head" => &["head", "date", "reason"],
        "split" => &["number", "place", "head", "date"],
        _ => &["place", "date", "reason"],
    };
    let mut keys: Vec<String> = base.iter().map(|k| k.to_string()).collect();
    keys.extend(typed.iter().filter(|(k, _)| k.starts_with("rel_")).map(|(k, _)| k.clone()));
    keys
}

/// The others' relations a 户主变更 or 分户 form sends as `rel_<编号>`.
fn typed_relations(form: &Pairs) -> Vec<(i64, String)> {
    form.iter().filter_map(|(k, v)| k.strip_prefix("rel_").and_then(|id| id.parse().ok()).map(|id| (id, v.clone()))).collect()
}

/// Runs one of the page's forms in one transaction; on a refusal the page comes back with the
/// form open, what was typed kept and each message beside its field.
async fn act(state: AppState, me: Me, id: i64, action: &str, form: Pairs) -> AppResult<Response> {
    let today = state.today();
    let mut tx = state.db.begin().await?;
    let h = households::get(&mut tx, &me.scope, id).await?;
    let date = forms::get(&form, "date").map(str::to_string);
    let result: Result<(), Problem> = match action {
        "join" => {
            let input = JoinInput { id_number: forms::text(&form, "id_number"), relation: forms::text(&form, "relation"), date, reason: forms::text(&form, "reason") };
            join(&mut tx, &me, &h, &input, today).await.map(|_| ())
        }
        "leave" => {
            let input = LeaveInput { person: forms::text(&form, "person"), reason: forms::text(&form, "reason"), date, place_text: forms::text(&form, "place_text"), note: forms::text(&form, "note") };
            leave(&mut tx, &me, &h, &input, today).await.map(|_| ())
        }
        "head" => {
            let relations = typed_relations(&form).into_iter().map(|(pid, r)| (format!("#{pid}"), r)).collect();
            let input = HeadInput { head: forms::text(&form, "head"), relations, date, reason: forms::text(&form, "reason") };
            change_head(&mut tx, &me, &h, &input, today).await.map(|_| ())
        }
        "split" => {
            // The new head first, then the members ticked, each with the relation typed beside it.
            let rels = typed_relations(&form);
            let rel_of = |pid: i64| rels.iter().find(|(p, _)| *p == pid).map(|(_, r)| r.clone()).unwrap_or_default();
            let head = forms::text(&form, "head");
            let mut members = Vec::new();
            if !head.is_empty() {
                members.push(SplitMember { person: head.clone(), relation: String::new() });
            }
            for (_, v) in form.iter().filter(|(k, _)| k == "member") {
                if let Ok(pid) = v.trim_start_matches('#').parse::<i64>() {
                    if format!("#{pid}") != head {
                        members.push(SplitMember { person: format!("#{pid}"), relation: rel_of(pid) });
                    }
                }
            }
            let input = SplitInput { number: forms::text(&form, "number"), place: forms::text(&form, "place"), members, date };
            split(&mut tx, &me, &h, &input, today).await.map(|_| ())
        }
        "move" => {
            let input = MoveInput { place: forms::text(&form, "place"), date, reason: forms::text(&form, "reason") };
            move_to(&mut tx, &me, &h, &input, today).await.map(|_| ())
        }
        _ => unreachable!("the routes name every action"),
    };
    match result {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/households/{id}?done={action}")).into_response())
        }
        Err(problem) => {
            drop(tx);
            let keys = shown_keys(action, &form);
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            render(&state, &me, id, Attempt::new(action, &form, &problem, &keys), problem.status, "").await
        }
    }
}

pub async fn join_form(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    act(state, me, id, "join", form).await
}

pub async fn leave_form(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    act(state, me, id, "leave", form).await
}

pub async fn head_form(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    act(state, me, id, "head", form).await
}

pub async fn split_form(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    act(state, me, id, "split", form).await
}

pub async fn move_form(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    act(state, me, id, "move", form).await
}

//! One household's page: its members with their relations and statuses, the changes a clerk
//! records through the year (成员加入, 成员迁出, 户主变更, 分户, 整户迁移) and its history, newest
//! first. The API takes the same inputs (`crate::api`), checked by the same functions here.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value as J};
use taizhang_domain::ledger::SubjectKind;
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::registry::{Household, Person, PersonStatus, StatusChange, StatusChangeInput};
use taizhang_domain::relation;
use taizhang_domain::FieldError;
use taizhang_storage::households::{self, LeaveReason};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{persons, places, Tx};

use crate::auth::Me;
use crate::error::AppResult;
use crate::forms::{self, Attempt, Problem};
use crate::{views, AppState};

type Pairs = Vec<(String, String)>;

/// Words clerks write for relations, offered as suggestions (any GB/T 4761 name or everyday
/// word is accepted).
const RELATION_WORDS: &[&str] = &["配偶", "妻", "夫", "子", "女", "之子", "之女", "子女", "儿媳", "女婿", "孙子", "孙女", "外孙", "外孙女", "父亲", "母亲", "父母", "兄弟姐妹", "其他亲属", "非亲属"];
const JOIN_REASONS: &[&str] = &["出生", "婚入", "迁入", "收养", "投靠亲属", "其他"];

/// 成员加入: a registered person (by ID number or `#编号`) joins with a relation to the head.
#[derive(Deserialize, Default, Debug)]
pub struct JoinInput {
    #[serde(default, alias = "person")]
    pub id_number: String,
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// 成员迁出: a member leaves (死亡, 婚出, 分户, 迁出, 其他). A death, or a move out with the
/// place it went to, is also recorded as the person's status.
#[derive(Deserialize, Default, Debug)]
pub struct LeaveInput {
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub place_text: String,
    #[serde(default)]
    pub note: String,
}

/// 户主变更: a member becomes head; the others' relations to the new head (person → relation).
#[derive(Deserialize, Default, Debug)]
pub struct HeadInput {
    #[serde(default)]
    pub head: String,
    #[serde(default)]
    pub relations: BTreeMap<String, String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// One member of a new household in a 分户.
#[derive(Deserialize, Default, Debug, Clone)]
pub struct SplitMember {
    pub person: String,
    #[serde(default)]
    pub relation: String,
}

/// 分户: the members named (the first is the new household's head) form a new household.
#[derive(Deserialize, Default, Debug)]
pub struct SplitInput {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub members: Vec<SplitMember>,
    #[serde(default)]
    pub date: Option<String>,
}

/// 整户迁移: the household and its members move to another village or group in scope.
#[derive(Deserialize, Default, Debug)]
pub struct MoveInput {
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// A person named by `#编号` (forms) or by ID number, within the user's scope.
pub async fn person_ref(tx: &mut Tx, me: &Me, text: &str, key: &str, label: &str, today: NaiveDate) -> Result<Person, Problem> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Problem::field(key, label, "必须填写"));
    }
    if let Some(id) = t.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
        return persons::get(tx, &me.scope, id).await.map_err(|e| Problem::field(key, label, e.to_string()));
    }
    let number = taizhang_domain::idcard::parse_id_number(t, today).map(|p| p.number).unwrap_or_else(|_| t.to_uppercase());
    persons::by_id_number(tx, &me.scope, &number)
        .await?
        .ok_or_else(|| Problem::field(key, label, format!("{t} 未在人员库登记，或不在您的管辖范围内；请先「登记人员」")))
}

/// A place named by `#编号` (forms), 区划代码, name or 村/组, within the user's scope.
pub async fn place_ref(tx: &mut Tx, me: &Me, text: &str, key: &str, label: &str) -> Result<i64, Problem> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Problem::field(key, label, "请选择"));
    }
    if let Some(id) = t.strip_prefix('#').and_then(|n| n.parse::<i64>().ok()) {
        return if me.scope.contains_place(tx, id).await? { Ok(id) } else { Err(Problem::field(key, label, "不存在或不在您的管辖范围内")) };
    }
    places::resolve(tx, &me.scope, t).await.map(|p| p.id).map_err(|e| Problem::field(key, label, e.to_string()))
}

/// The day a change happened: today when not given, never after today.
fn day(text: Option<&str>, today: NaiveDate) -> Result<NaiveDate, Problem> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(today),
        Some(t) => {
            let d = taizhang_domain::period::parse_date_lenient(t).map_err(|e| Problem::field("date", "日期", e.to_string()))?;
            if d > today {
                return Err(Problem::field("date", "日期", "不能晚于今天"));
            }
            Ok(d)
        }
    }
}

/// Checks the relations typed for members before anything is written, so that each message
/// stands beside its member's box (`rel_<编号>`).
fn check_relations(members: &[(Person, String)], to: &str) -> Result<(), Problem> {
    let mut errors = Vec::new();
    for (p, text) in members {
        if text.trim().is_empty() {
            continue;
        }
        match relation::normalize(text, Some(p.sex)) {
            Ok(relation::HEAD) => errors.push(FieldError::new(format!("rel_{}", p.id), format!("{}与{to}关系", p.name), "只能有一位户主")),
            Ok(_) => {}
            Err(reason) => errors.push(FieldError::new(format!("rel_{}", p.id), format!("{}与{to}关系", p.name), reason)),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Problem::fields(errors)) }
}

pub async fn join(tx: &mut Tx, me: &Me, h: &Household, input: &JoinInput, today: NaiveDate) -> Result<Person, Problem> {
    let p = person_ref(tx, me, &input.id_number, "id_number", "公民身份号码", today).await?;
    let on = day(input.date.as_deref(), today)?;
    if input.relation.trim().is_empty() {
        return Err(Problem::field("relation", "与户主关系", "必须填写（如 之子、女儿、配偶）"));
    }
    households::join(tx, &me.user.actor(), &me.scope, h.id, p.id, &input.relation, Some(on), input.reason.trim()).await?;
    Ok(persons::get(tx, &me.scope, p.id).await?)
}

pub async fn leave(tx: &mut Tx, me: &Me, h: &Household, input: &LeaveInput, today: NaiveDate) -> Result<Person, Problem> {
    let p = person_ref(tx, me, &input.person, "person", "迁出成员", today).await?;
    let Some(why) = LeaveReason::parse(&input.reason) else {
        return Err(Problem::field("reason", "迁出原因", "请选择：死亡、婚出、分户、迁出 或 其他"));
    };
    let on = day(input.date.as_deref(), today)?;
    if why == LeaveReason::MoveOut && input.place_text.trim().is_empty() {
        return Err(Problem::field("place_text", "迁往", "户口迁出时必须填写迁往何处"));
    }
    households::leave(tx, &me.user.actor(), &me.scope, h.id, p.id, why, on, input.note.trim()).await?;
    // A death or a move out of the area is the person's status too: recorded here at once, so
    // that the checks on payments after death or move see it.
    let change = match why {
        LeaveReason::Death if p.status != PersonStatus::Dead => Some(StatusChange::Death),
        LeaveReason::MoveOut if p.status != PersonStatus::MovedOut => Some(StatusChange::MoveOut),
        _ => None,
    };
    if let Some(change) = change {
        let now = persons::get(tx, &me.scope, p.id).await?;
        let input = StatusChangeInput { change, date: Some(on), reason: input.note.trim().to_string(), place_text: input.place_text.trim().to_string() };
        persons::set_status(tx, &me.user.actor(), &me.scope, p.id, now.row_version, &input, today).await?;
    }
    Ok(persons::get(tx, &me.scope, p.id).await?)
}

pub async fn change_head(tx: &mut Tx, me: &Me, h: &Household, input: &HeadInput, today: NaiveDate) -> Result<Person, Problem> {
    let head = person_ref(tx, me, &input.head, "head", "新户主", today).await?;
    let on = day(input.date.as_deref(), today)?;
    let mut typed = Vec::new();
    for (who, rel) in &input.relations {
        let p = person_ref(tx, me, who, "relations", "成员", today).await?;
        if p.id != head.id {
            typed.push((p, rel.clone()));
        }
    }
    check_relations(&typed, "新户主")?;
    let rels: Vec<(i64, String)> = typed.into_iter().filter(|(_, r)| !r.trim().is_empty()).map(|(p, r)| (p.id, r)).collect();
    households::change_head(tx, &me.user.actor(), &me.scope, h.id, head.id, &rels, on, input.reason.trim()).await?;
    Ok(head)
}

pub async fn split(tx: &mut Tx, me: &Me, h: &Household, input: &SplitInput, today: NaiveDate) -> Result<Household, Problem> {
    if input.number.trim().is_empty() {
        return Err(Problem::field("number", "新户编号", "必须填写"));
    }
    let place_id = if input.place.trim().is_empty() { h.place_id } else { place_ref(tx, me, &input.place, "place", "新户所在地").await? };
    let on = day(input.date.as_deref(), today)?;
    let mut moving: Vec<(Person, String)> = Vec::new();
    for m in &input.members {
        let p = person_ref(tx, me, &m.person, "head", "分出的成员", today).await?;
        if !moving.iter().any(|(q, _)| q.id == p.id) {
            moving.push((p, m.relation.clone()));
        }
    }
    if moving.is_empty() {
        return Err(Problem::field("head", "新户户主", "请选择（分出的第一人为新户户主）"));
    }
    check_relations(&moving[1..], "新户主")?;
    let mut missing = Vec::new();
    for (p, rel) in &moving[1..] {
        if rel.trim().is_empty() {
            missing.push(FieldError::new(format!("rel_{}", p.id), format!("{}与新户主关系", p.name), "必须填写（如 配偶、子、女）"));
        }
    }
    if !missing.is_empty() {
        return Err(Problem::fields(missing));
    }
    let list: Vec<(i64, String)> = moving.iter().map(|(p, r)| (p.id, r.clone())).collect();
    Ok(households::split(tx, &me.user.actor(), &me.scope, h.id, &input.number, place_id, &list, on).await?)
}

pub async fn move_to(tx: &mut Tx, me: &Me, h: &Household, input: &MoveInput, today: NaiveDate) -> Result<Household, Problem> {
    let place_id = place_ref(tx, me, &input.place, "place", "迁往").await?;
    let on = day(input.date.as_deref(), today)?;
    Ok(households::move_to(tx, &me.user.actor(), &me.scope, h.id, place_id, on, input.reason.trim()).await?)
}

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
        let mut m = super::registry::person_json(&mut tx, me, p).await;
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
                recs.push(json!({"ledger": def.name, "key": def.key, "id": r.id, "who": who, "state": state_label, "tone": crate::show::tone(def, r.state.as_deref()), "summary": taizhang_reports::eval::record_summary(def, &r, 4)}));
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
        let (village, group) = state.cache.places(&mut tx, me.version).await?.village_and_group(h.place_id);
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

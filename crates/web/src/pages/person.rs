//! One person's page: who they are and their status (with its date, reason and place), the
//! 编辑 form for corrections, the 状态变更 form, their records and their history from the audit
//! trail. Writers (管理员, 业务员, 村干部 within their village) change; 领导 read.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Value as J};
use taizhang_domain::ledger::SubjectKind;
use taizhang_domain::registry::{Person, PersonStatus, StatusChange};
use taizhang_storage::audit::{self, AuditQuery};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{households, persons, Tx};

use crate::query::people::status_input;
use crate::auth::Me;
use crate::error::AppResult;
use crate::forms::{self, Attempt, Problem};
use crate::{show, views, AppState};

type Pairs = Vec<(String, String)>;

/// The controls of the 编辑 form and of the 状态变更 form (their messages go beside them).
const EDIT_KEYS: &[&str] = &["name", "id_number", "ethnicity", "phone", "reason"];
const STATUS_KEYS: &[&str] = &["change", "date", "reason", "place_text"];

/// The attributes a person's history compares, as users name them.
const HISTORY_FIELDS: &[(&str, &str)] = &[
    ("name", "姓名"),
    ("id_number", "公民身份号码"),
    ("ethnicity", "民族"),
    ("phone", "联系电话"),
    ("status", "状态"),
    ("status_date", "状态日期"),
    ("status_place", "迁往/迁自"),
    ("status_reason", "状态原因"),
    ("place_id", "所在地"),
    ("household_id", "所属户"),
    ("relation", "与户主关系"),
];

/// Whether this user may change persons and households (管理员, 业务员, 村干部).
pub fn may_write(me: &Me) -> bool {
    crate::routes::WRITERS.contains(&me.user.role)
}

/// The colour of a status tag: 正常 green, 迁出 and 失联 orange, 死亡 grey.
pub fn status_tone(s: PersonStatus) -> &'static str {
    match s {
        PersonStatus::Alive => "green",
        PersonStatus::Dead => "grey",
        PersonStatus::MovedOut | PersonStatus::LostContact => "orange",
    }
}

/// The status with its date, place and reason, as one line ("迁出（2024-03-01），迁往：…").
pub fn status_text(p: &Person) -> String {
    let mut s = String::new();
    if let Some(d) = p.status_date {
        s.push_str(&d.to_string());
    }
    if !p.status_place.is_empty() {
        let label = if p.status == PersonStatus::MovedOut { "迁往" } else { "迁自" };
        s.push_str(&format!("{}{label}：{}", if s.is_empty() { "" } else { "，" }, p.status_place));
    }
    if !p.status_reason.is_empty() {
        s.push_str(&format!("{}原因：{}", if s.is_empty() { "" } else { "，" }, p.status_reason));
    }
    s
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

fn notice(code: &str) -> &'static str {
    match code {
        "corrected" => "已保存更正",
        "unchanged" => "所填信息与原来相同，未修改",
        "status" => "已登记状态变更",
        _ => "",
    }
}

pub async fn page(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Query(q): Query<Done>) -> AppResult<Response> {
    render(&state, &me, id, Attempt::default(), StatusCode::OK, notice(&q.done)).await
}

/// A value of the person's stored JSON as the history shows it.
async fn shown(tx: &mut Tx, me: &Me, key: &str, v: Option<&J>) -> String {
    let text = match v {
        None | Some(J::Null) => String::new(),
        Some(J::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if text.is_empty() {
        return "（空）".into();
    }
    match key {
        "status" => PersonStatus::parse(&text).map_or(text, |s| s.label().to_string()),
        "id_number" => show::id_number(me, &text),
        "phone" => show::phone(me, &text),
        "place_id" => match text.parse::<i64>() {
            Ok(pid) => super::place_name(tx, pid).await,
            Err(_) => text,
        },
        "household_id" => match text.parse::<i64>() {
            Ok(hid) => households::get(tx, &me.scope, hid).await.map_or_else(|_| format!("#{hid}"), |h| format!("户 {}", h.number)),
            Err(_) => text,
        },
        _ => text,
    }
}

/// The person's history from the audit trail, newest first: who, when, what, and for every
/// attribute that changed its old and new value.
async fn history(tx: &mut Tx, me: &Me, id: i64) -> AppResult<Vec<J>> {
    let q = AuditQuery { entity: Some("persons".into()), entity_id: Some(id), limit: 100, ..Default::default() };
    let mut out = Vec::new();
    for e in audit::list(tx, &me.scope, &q).await? {
        let action = match e.action.as_str() {
            "create" => "登记",
            "update" => "修改",
            "status" => "状态变更",
            "read" => "查看",
            other => other,
        };
        let mut changes = Vec::new();
        if let (Some(before), Some(after)) = (&e.before, &e.after) {
            for (key, label) in HISTORY_FIELDS {
                let (old, new) = (before.get(*key), after.get(*key));
                let blank = |v: Option<&J>| v.is_none_or(|v| v.is_null() || v.as_str() == Some(""));
                if old != new && !(blank(old) && blank(new)) {
                    changes.push(format!("{label}：{} → {}", shown(tx, me, key, old).await, shown(tx, me, key, new).await));
                }
            }
        }
        out.push(json!({
            "at": e.at.get(..19).unwrap_or(&e.at).replace('T', " "),
            "actor": e.actor,
            "action": action,
            "changes": changes,
            "note": me.policy().text(&e.note),
        }));
    }
    Ok(out)
}

pub async fn render(state: &AppState, me: &Me, id: i64, attempt: Attempt, status: StatusCode, notice: &str) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let p = persons::get(&mut tx, &me.scope, id).await?;
    let mut recs = Vec::new();
    for def in super::readable(me, &defs).filter(|d| d.subject == SubjectKind::Person) {
        let q = RecordQuery { subject_id: Some(p.id), limit: Some(20), ..Default::default() };
        for r in records::list(&mut tx, def, &me.scope, &q).await? {
            show::shown(def, &r);
            recs.push(json!({"ledger": def.name, "key": def.key, "id": r.id, "summary": taizhang_reports::eval::record_text(&mut tx, &me.scope, def, &r, 4).await?}));
        }
    }
    let household = match p.household_id {
        Some(hid) => households::get(&mut tx, &me.scope, hid).await.ok().map(|h| json!({"id": h.id, "number": h.number})),
        None => None,
    };
    let sees = me.policy().shows_derived();
    let mut person = crate::query::people::person_json(&mut tx, me, &p).await;
    let (shown_number, shown_phone) = (person["id_number"].clone(), person["phone"].clone());
    person["status_text"] = json!(status_text(&p));
    person["tone"] = json!(status_tone(p.status));
    let changes: Vec<J> = StatusChange::ALL
        .iter()
        .filter(|c| !(c.status() == p.status && p.status != PersonStatus::Alive))
        .map(|c| json!({"key": c.key(), "label": c.label(), "moves": c.place_label().is_some()}))
        .collect();
    let title = p.name.clone();
    let mut ctx = views::layout(me, &defs, &title, &[("基础信息", ""), ("查人", "/search"), (title.as_str(), "")]);
    ctx.insert("group".into(), json!("基础信息"));
    ctx.insert("p".into(), person);
    ctx.insert("household".into(), json!(household));
    ctx.insert("version".into(), json!(p.row_version));
    ctx.insert("can_write".into(), json!(may_write(me)));
    ctx.insert("sees".into(), json!(sees));
    // What the 编辑 form starts from: ID number and phone as this user sees them — masked for
    // those who see them masked, where the masked text (or an empty box) keeps the stored value
    // and only a retyped one changes it (`typed_corrections`).
    ctx.insert(
        "edit".into(),
        json!({
            "name": p.name, "ethnicity": p.ethnicity,
            "id_number": shown_number, "phone": shown_phone,
        }),
    );
    ctx.insert("changes".into(), json!(changes));
    ctx.insert("attempt".into(), json!(attempt));
    ctx.insert("records".into(), json!(recs));
    ctx.insert("history".into(), json!(history(&mut tx, me, p.id).await?));
    ctx.insert("today".into(), json!(state.today().to_string()));
    ctx.insert("notice".into(), json!(notice));
    Ok((status, views::render("person.html", &ctx.into())?).into_response())
}

/// The corrections a form asks for: the attributes whose typed text differs from what is
/// stored. A masked attribute (ID number, phone for roles that see them masked) left empty, or
/// sent back as the masked text the form showed, stays as it is.
pub fn typed_corrections(p: &Person, form: &Pairs, policy: &taizhang_domain::masking::Policy) -> Vec<(String, String)> {
    use taizhang_domain::masking::{Class, Treatment};
    let sees = policy.identifiers == Treatment::Full;
    let mut out = Vec::new();
    for key in ["name", "id_number", "ethnicity", "phone"] {
        if !form.iter().any(|(k, _)| k == key) {
            continue;
        }
        let typed = forms::text(form, key);
        let stored = match key {
            "name" => &p.name,
            "id_number" => &p.id_number,
            "ethnicity" => &p.ethnicity,
            _ => &p.phone,
        };
        if matches!(key, "id_number" | "phone") && !sees {
            let class = if key == "id_number" { Class::IdNumber } else { Class::Phone };
            if typed.is_empty() || policy.reveal(class, stored).is_some_and(|shown| shown == typed) {
                continue;
            }
        }
        let same = if key == "id_number" { typed.eq_ignore_ascii_case(stored) } else { typed == *stored };
        if !same {
            out.push((key.to_string(), typed));
        }
    }
    out
}

/// 编辑: corrects the person's attributes; a change of name or ID number needs a reason.
pub async fn correct(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let p = persons::get(&mut tx, &me.scope, id).await?;
    let changes = typed_corrections(&p, &form, &me.policy());
    if changes.is_empty() {
        drop(tx);
        return Ok(Redirect::to(&format!("/persons/{id}?done=unchanged")).into_response());
    }
    let reason = forms::text(&form, "reason");
    match persons::correct(&mut tx, &me.user.actor(), &me.scope, id, forms::version(&form), &changes, &reason, state.today()).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/persons/{id}?done=corrected")).into_response())
        }
        Err(e) => {
            drop(tx);
            let problem = Problem::from(e);
            render(&state, &me, id, Attempt::new("edit", &form, &problem, EDIT_KEYS), problem.status, "").await
        }
    }
}

/// 状态变更: death, move out (to where), move in (from where), lost contact, back to normal.
pub async fn change_status(State(state): State<AppState>, me: Me, Path(id): Path<i64>, Form(form): Form<Pairs>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    persons::get(&mut tx, &me.scope, id).await?;
    let result = async {
        let date = forms::date(&form, "date", "变更日期").map_err(|p| p.fields.first().map(|f| f.reason.clone()).unwrap_or_default());
        let input = status_input(&forms::text(&form, "change"), date, &forms::text(&form, "reason"), &forms::text(&form, "place_text"))?;
        Ok::<_, Problem>(persons::set_status(&mut tx, &me.user.actor(), &me.scope, id, forms::version(&form), &input, state.today()).await?)
    }
    .await;
    match result {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/persons/{id}?done=status")).into_response())
        }
        Err(problem) => {
            drop(tx);
            render(&state, &me, id, Attempt::new("status", &form, &problem, STATUS_KEYS), problem.status, "").await
        }
    }
}

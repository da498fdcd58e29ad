//! A village cadre's home page (本村待办): monitoring households due a visit, cases waiting for
//! their closing step (a hazard to re-check) and cases past their deadline, each with its
//! household's 户主 and village and, where a visit ledger refers to the case, a 走访 button that
//! opens the visit form filled in (household, case, today, the cadre as visitor).
//!
//! No ledger is named here: a *visit ledger* is one whose subject is a household, that is dated
//! by an event, names a cadre, and refers to a case ledger (`ref = "ledger:…"`).

use std::collections::HashMap;

use axum::extract::{Query, RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use chrono::{Datelike, NaiveDate};
use serde_json::json;
use taizhang_domain::ledger::{FieldDef, FieldKind, LedgerDef, RefTarget, SubjectKind, TimeModel};
use taizhang_domain::role::Role;
use taizhang_domain::value::Value;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::Tx;

use crate::auth::Me;
use crate::error::AppResult;
use crate::guard::GuardTx;
use crate::{show, views, AppState};

/// A ledger of visits to households: its date field, its visitor (a cadre) and, when asked
/// about a case ledger, the field that refers to that ledger's cases.
pub struct VisitLedger<'a> {
    pub def: &'a LedgerDef,
    pub date: &'a str,
    pub visitor: &'a FieldDef,
    pub case: Option<&'a FieldDef>,
}

/// The visit ledger for cases of `case_key` (or, without one, for a household), readable and
/// editable by the user.
pub fn visit_ledger<'a>(me: &'a Me, defs: &'a [LedgerDef], case_key: Option<&str>) -> Option<VisitLedger<'a>> {
    super::readable(me, defs).filter(|d| me.can_edit(&d.key)).find_map(|d| {
        if d.subject != SubjectKind::Household {
            return None;
        }
        let TimeModel::Event { field } = &d.time else { return None };
        let visitor = d.active_fields().find(|f| f.kind == FieldKind::Reference && f.target == Some(RefTarget::Cadre))?;
        let case = d.active_fields().find(|f| f.kind == FieldKind::Reference && matches!(&f.target, Some(RefTarget::Ledger(k)) if case_key.is_none_or(|c| c == k)));
        case?;
        let case = case_key.and(case);
        Some(VisitLedger { def: d, date: field.as_str(), visitor, case })
    })
}

/// The cadre record of the signed-in user (by account, else by name in their scope), with the
/// text a form takes for it: the name where no other cadre in the scope has it, else `#id`.
pub async fn my_cadre(tx: &mut Tx, me: &Me) -> Option<(i64, String)> {
    let found = match tx.fetch_opt("SELECT id, name FROM cadres WHERE user_id = $1 ORDER BY id LIMIT 1", &[me.user.id.into()]).await {
        Ok(Some(r)) => Some((r.int(0), r.text(1))),
        _ => {
            let name = me.user.display_name.trim();
            if name.is_empty() {
                return None;
            }
            let sql = format!("SELECT id, name FROM cadres WHERE name = $2 AND {} ORDER BY id LIMIT 1", me.scope.condition("place_id", 1));
            tx.fetch_opt(&sql, &[me.scope.arg(), name.into()]).await.ok().flatten().map(|r| (r.int(0), r.text(1)))
        }
    };
    let (id, name) = found?;
    let sql = format!("SELECT COUNT(*) FROM cadres WHERE name = $2 AND {}", me.scope.condition("place_id", 1));
    let same = tx.fetch_opt(&sql, &[me.scope.arg(), name.as_str().into()]).await.ok().flatten().map_or(2, |r| r.int(0));
    Some((id, if same == 1 { name } else { format!("#{id}") }))
}

/// The address of the visit form, filled in: household, case, today, the cadre as visitor.
pub fn visit_href(v: &VisitLedger, household_number: &str, case_id: Option<i64>, today: NaiveDate, cadre: Option<&(i64, String)>) -> String {
    let enc = crate::guard::encode;
    let mut href = format!("/ledgers/{}/new?_subject={}&{}={}", v.def.key, enc(household_number), v.date, today);
    if let Some((_, text)) = cadre {
        href.push_str(&format!("&{}={}", v.visitor.key, enc(text)));
    }
    if let (Some(f), Some(id)) = (v.case, case_id) {
        href.push_str(&format!("&{}={}", f.key, enc(&format!("#{id}"))));
    }
    href
}

/// `/`: a 村干部 gets the village's work; everyone else (or a cadre asking `?view=dashboard`)
/// the dashboard.
pub async fn home(
    State(state): State<AppState>,
    me: Me,
    guard_tx: Extension<GuardTx>,
    RawQuery(raw): RawQuery,
    q: Query<super::dashboard::DashQuery>,
) -> AppResult<Response> {
    let wants_dashboard = raw.as_deref().is_some_and(|r| r.split('&').any(|p| p == "view=dashboard" || p.starts_with("year=") || p.starts_with("ind=")));
    if me.user.role != Role::VillageCadre || wants_dashboard {
        return super::dashboard::dashboard(State(state), me, guard_tx, q).await.map(IntoResponse::into_response);
    }
    village(state, me, guard_tx.0).await.map(IntoResponse::into_response)
}

struct Household {
    number: String,
    head: String,
    place_id: i64,
}

async fn households(tx: &mut Tx, me: &Me, ids: &[i64]) -> HashMap<i64, Household> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT h.id, h.number, coalesce(p.name, ''), h.place_id FROM households h LEFT JOIN persons p ON p.id = h.head_person_id WHERE {} AND h.id IN ({})",
            me.scope.condition("h.place_id", 1),
            marks.join(", ")
        );
        let mut args = vec![me.scope.arg()];
        args.extend(chunk.iter().map(|id| taizhang_storage::Arg::Int(*id)));
        if let Ok(rows) = tx.fetch(&sql, &args).await {
            for r in rows {
                out.insert(r.int(0), Household { number: r.text(1), head: r.text(2), place_id: r.int(3) });
            }
        }
    }
    out
}

async fn village(state: AppState, me: Me, guard_tx: GuardTx) -> AppResult<Html<String>> {
    let today = state.today();
    let mut tx = guard_tx.read(&state).await?;
    let defs = state.cache.defs(&mut tx, me.data_version).await?;
    let places = state.cache.places(&mut tx, me.data_version).await?;
    let cadre = my_cadre(&mut tx, &me).await;
    let interval = match taizhang_storage::settings::get(&mut tx, "check:visit_days", today.year()).await {
        Ok(Some(n)) if n > 0 => n,
        _ => 90,
    };
    let mut due_visits = Vec::new();
    let mut to_close = Vec::new();
    let mut overdue = Vec::new();
    for def in super::readable(&me, &defs) {
        let Some(wf) = &def.workflow else { continue };
        let visits = if def.subject == SubjectKind::Household { visit_ledger(&me, &defs, Some(&def.key)) } else { None };
        let open: Vec<_> = records::list(&mut tx, def, &me.scope, &RecordQuery::default())
            .await?
            .into_iter()
            .filter(|r| r.state.as_deref().is_some_and(|s| !wf.state(s).is_some_and(|st| st.closed)))
            .collect();
        if open.is_empty() {
            continue;
        }
        let mut ids: Vec<i64> = open.iter().filter_map(|r| r.subject_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let homes = if def.subject == SubjectKind::Household { households(&mut tx, &me, &ids).await } else { HashMap::new() };
        let subjects = crate::query::subjects::subjects_of(&mut tx, &me, def, &ids).await;
        let describe = |r: &taizhang_domain::value::Record| {
            let home = r.subject_id.and_then(|id| homes.get(&id));
            let (village, group) = places.village_and_group(home.map_or(r.place_id, |h| h.place_id));
            let who = match (home, r.subject_id.and_then(|id| subjects.get(&id))) {
                (Some(h), _) if !h.head.is_empty() => format!("{}（户主）", h.head),
                (Some(h), _) => h.number.clone(),
                (None, Some(s)) => s.text.clone(),
                (None, None) => taizhang_reports::eval::record_summary(def, r, 2),
            };
            let link = r.subject_id.and_then(|id| subjects.get(&id)).map(|s| s.link.clone()).unwrap_or_default();
            json!({
                "ledger": def.name, "key": def.key, "id": r.id, "who": who, "who_link": link,
                "number": home.map(|h| h.number.clone()).unwrap_or_default(),
                "village": village, "group": group,
                "state": r.state.as_deref().map(|s| wf.state_label(s)).unwrap_or(""),
                "tone": show::tone(def, r.state.as_deref()),
            })
        };
        // Monitoring households due a visit: no visit within the interval.
        if let Some(v) = &visits {
            let mut last: HashMap<i64, NaiveDate> = HashMap::new();
            for r in records::list(&mut tx, v.def, &me.scope, &RecordQuery::default()).await? {
                if let (Some(s), Some(Value::Date(d))) = (r.subject_id, r.values.get(v.date)) {
                    let e = last.entry(s).or_insert(*d);
                    if *d > *e {
                        *e = *d;
                    }
                }
            }
            let mut due: Vec<_> = open
                .iter()
                .filter_map(|r| {
                    let sid = r.subject_id?;
                    let seen = last.get(&sid).copied();
                    let days = seen.map(|d| (today - d).num_days());
                    (days.is_none_or(|n| n >= interval)).then_some((r, seen, days))
                })
                .collect();
            due.sort_by_key(|(r, seen, _)| (*seen, r.id));
            for (r, seen, days) in due {
                show::shown(def, r);
                let mut j = describe(r);
                let number = j["number"].as_str().unwrap_or("").to_string();
                j["last"] = json!(match (seen, days) {
                    (Some(d), Some(n)) => format!("上次走访 {d}（{n} 天前）"),
                    _ => "从未走访".to_string(),
                });
                j["visit"] = json!(visit_href(v, &number, Some(r.id), today, cadre.as_ref()));
                due_visits.push(j);
            }
        }
        // Cases one step from closing (a hazard rectified, to be re-checked).
        for r in &open {
            let Some(s) = r.state.as_deref() else { continue };
            if s == wf.initial {
                continue;
            }
            if let Some(t) = wf.transitions.iter().find(|t| t.from.iter().any(|f| f == s) && wf.state(&t.to).is_some_and(|st| st.closed)) {
                if visits.is_some() {
                    continue;
                }
                show::shown(def, r);
                let mut j = describe(r);
                j["step"] = json!(t.label);
                to_close.push(j);
            }
        }
        // Cases past their deadline.
        if !wf.deadlines.is_empty() {
            for (r, why) in records::overdue(&mut tx, def, &me.scope, today).await? {
                show::shown(def, &r);
                let mut j = describe(&r);
                j["reason"] = json!(why);
                overdue.push(j);
            }
        }
    }
    let household_visit = visit_ledger(&me, &defs, None).map(|v| json!({"key": v.def.key, "name": v.def.name}));
    let mut ctx = views::layout(&me, &defs, "本村待办", &[("本村待办", "")]);
    ctx.insert("place".into(), json!(me.place_name));
    ctx.insert("today".into(), json!(today.to_string()));
    ctx.insert("interval".into(), json!(interval));
    ctx.insert("cadre".into(), json!(cadre.as_ref().map(|c| c.1.clone()).filter(|c| !c.starts_with('#'))));
    ctx.insert("due_visits".into(), json!(due_visits));
    ctx.insert("to_close".into(), json!(to_close));
    ctx.insert("overdue".into(), json!(overdue));
    ctx.insert("household_visit".into(), json!(household_visit));
    views::render("village.html", &ctx.into())
}

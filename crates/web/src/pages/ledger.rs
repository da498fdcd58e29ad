//! The ledgers: the index of all ledgers and one ledger as a list with filters, sorting and
//! paging.

use axum::extract::{Path, Query, State};
use axum::Extension;
use axum::response::Html;
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::ledger::{FieldKind, LedgerDef};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{persons, Tx};

use crate::query::records::voids_of;
use crate::query::subjects::Subject;
use crate::auth::Me;
use crate::guard::GuardTx;
use crate::error::AppResult;
use crate::{show, views, AppState};

pub async fn index(State(state): State<AppState>, me: Me) -> AppResult<Html<String>> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    // Only the ledgers this user may read (a 业务员 sees no health or 重点人群 ledger not
    // assigned to them: its link would lead to "not found").
    let list: Vec<_> = defs
        .iter()
        .filter(|d| me.may_read_ledger(d))
        .map(|d| json!({"key": d.key, "name": d.name, "group": d.group, "description": d.description, "fields": d.active_fields().count()}))
        .collect();
    let mut ctx = views::layout(&me, &defs, "全部台账", &[("全部台账", "")]);
    ctx.insert("defs".into(), json!(list));
    ctx.insert("group".into(), json!("系统管理"));
    views::render("ledgers.html", &ctx.into())
}

#[derive(Deserialize, Default, Debug)]
pub struct ListQuery {
    /// `1`: the print view — every filtered row (up to [`PRINT_ROWS`]) on one page under a title
    /// naming the filter, without the filter form, pager and buttons.
    #[serde(default)]
    pub print: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub kw: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub desc: String,
    /// 作废记录: empty (不含), `include` (含) or `only` (仅作废).
    #[serde(default)]
    pub voids: String,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default)]
    pub size: Option<i64>,
    /// `first-last`: the audit entries of one import (the import page links here), so the
    /// list shows what that import wrote.
    #[serde(default)]
    pub imported: String,
}

/// The audit-entry range of `imported=first-last`.
fn imported_range(text: &str) -> AppResult<Option<(i64, i64)>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let bad = || crate::error::AppError::bad_request("「导入批次」应写作 起-止（由导入页给出的链接）");
    let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
    let (a, b) = (a.trim().parse::<i64>().map_err(|_| bad())?, b.trim().parse::<i64>().map_err(|_| bad())?);
    if a > b || a < 1 {
        return Err(bad());
    }
    Ok(Some((a, b)))
}

/// The most rows the print view of a list shows (beyond them it says to narrow the filter or
/// export).
const PRINT_ROWS: i64 = 5000;

/// The ids of a reference's target whose name (a household: 户编号 or 户主) contains the
/// keyword, within the user's scope where the target has a place.
async fn ids_named(tx: &mut Tx, me: &Me, target: &taizhang_domain::ledger::RefTarget, kw: &str) -> std::collections::HashSet<i64> {
    use taizhang_domain::ledger::RefTarget;
    let sql = match target {
        RefTarget::Person => format!("SELECT p.id FROM persons p WHERE {} AND p.name LIKE $2 ESCAPE '\\'", me.scope.condition("p.place_id", 1)),
        RefTarget::Household => format!(
            "SELECT h.id FROM households h LEFT JOIN persons p ON p.id = h.head_person_id WHERE {} AND (h.number LIKE $2 ESCAPE '\\' OR p.name LIKE $2 ESCAPE '\\')",
            me.scope.condition("h.place_id", 1)
        ),
        // Shown by name wherever they are (as `RefNames` shows them): not confined by place.
        RefTarget::Cadre => "SELECT id FROM cadres WHERE name LIKE $1 ESCAPE '\\'".to_string(),
        RefTarget::Organisation => "SELECT id FROM organisations WHERE name LIKE $1 ESCAPE '\\'".to_string(),
        RefTarget::Place => "SELECT id FROM places WHERE name LIKE $1 ESCAPE '\\'".to_string(),
        RefTarget::Ledger(_) => return Default::default(),
    };
    let pattern: taizhang_storage::Arg = format!("%{}%", persons::escape_like(kw)).into();
    let args = if sql.contains("$2") { vec![me.scope.arg(), pattern] } else { vec![pattern] };
    match tx.fetch(&sql, &args).await {
        Ok(rows) => rows.iter().map(|r| r.int(0)).collect(),
        Err(_) => Default::default(),
    }
}

/// Whether a keyword finds a subject: a part of a name or 户编号, an ID number only whole.
fn subject_matches(s: &Subject, kw: &str) -> bool {
    s.names.contains(kw) || (!s.id_number.is_empty() && taizhang_domain::ident::clean(kw).eq_ignore_ascii_case(s.id_number.trim()))
}

/// Columns of the list: the first required fields, up to six.
fn list_columns(def: &LedgerDef) -> Vec<&taizhang_domain::ledger::FieldDef> {
    let mut cols: Vec<_> = def.active_fields().filter(|f| f.required).take(6).collect();
    if cols.len() < 6 {
        cols.extend(def.active_fields().filter(|f| !f.required).take(6 - cols.len()));
    }
    cols
}

pub async fn list(
    State(state): State<AppState>,
    me: Me,
    Extension(guard_tx): Extension<GuardTx>,
    Path(key): Path<String>,
    Query(q): Query<ListQuery>,
) -> AppResult<Html<String>> {
    let mut tx = guard_tx.read(&state).await?;
    // What the list is made of, not who has read what: reads do not move it.
    let version = me.data_version;
    let defs = state.cache.defs(&mut tx, version).await?;
    let def = super::find_def(&me, &defs, &key)?;
    let scope = super::narrowed(&mut tx, &me, Some(&q.place)).await?;
    let period = if q.period.trim().is_empty() { None } else { Some(super::period_of(Some(&q.period), 0)?) };
    let printing = q.print == "1";
    let size = if printing { PRINT_ROWS } else { q.size.filter(|s| [10, 20, 50, 100].contains(s)).unwrap_or(20) };
    let desc = q.desc == "1";
    let audited = imported_range(&q.imported)?;
    let mut rq = RecordQuery { period, state: Some(q.state.clone()).filter(|s| !s.is_empty()), voids: voids_of(&q.voids), audited, ..Default::default() };
    rq.order_by = Some(if def.field(&q.sort).is_some() { (q.sort.clone(), desc) } else { ("id".to_string(), true) });
    let columns = list_columns(def);
    // Keyword: matched after the scope filter on what the user may see — a sensitive number
    // only as a whole (`masking::keyword_matches`), never a part of it, masked or not.
    let kw = q.kw.trim().to_string();
    let policy = me.policy();
    let (total, page_rows) = if kw.is_empty() {
        // The count scans every record in scope: it is kept per data version.
        let count_key = format!("{}\u{1f}{}\u{1f}{rq:?}", def.key, scope.path);
        let total = match state.cache.count(&count_key, version) {
            Some(n) => n,
            None => {
                let n = records::count(&mut tx, def, &scope, &rq).await?;
                state.cache.keep_count(count_key, version, n);
                n
            }
        };
        let pages = ((total + size - 1) / size).max(1);
        let page = q.page.unwrap_or(1).clamp(1, pages);
        rq.limit = Some(size);
        rq.offset = Some((page - 1) * size);
        (total, records::list(&mut tx, def, &scope, &rq).await?)
    } else {
        let all = records::list(&mut tx, def, &scope, &rq).await?;
        // Besides the fields' values: the subject's name, 户主 and 户编号 (an ID number only
        // whole), and the names behind reference fields.
        let mut ids: Vec<i64> = all.iter().filter_map(|r| r.subject_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let subjects = crate::query::subjects::subjects_of(&mut tx, &me, def, &ids).await;
        // The ids each reference field's target has under a name containing the keyword: one
        // query per field, not one per record.
        let mut named: Vec<(&str, std::collections::HashSet<i64>)> = Vec::new();
        for f in def.active_fields().filter(|f| f.kind == FieldKind::Reference) {
            if let Some(t) = &f.target {
                named.push((f.key.as_str(), ids_named(&mut tx, &me, t, &kw).await));
            }
        }
        let mut hits = Vec::new();
        for r in all {
            let hit = def.fields.iter().any(|f| r.values.get(&f.key).is_some_and(|v| taizhang_domain::masking::keyword_matches(&policy, f, &show::edit_text(f, v), &kw)))
                || r.subject_id.and_then(|id| subjects.get(&id)).is_some_and(|s| subject_matches(s, &kw))
                || named.iter().any(|(k, set)| matches!(r.values.get(*k), Some(taizhang_domain::value::Value::Int(id)) if set.contains(id)));
            if hit {
                hits.push(r);
            }
        }
        let total = hits.len() as i64;
        let pages = ((total + size - 1) / size).max(1);
        let page = q.page.unwrap_or(1).clamp(1, pages);
        (total, hits.into_iter().skip(((page - 1) * size) as usize).take(size as usize).collect())
    };
    let pages = ((total + size - 1) / size).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let mut rows = Vec::new();
    let mut names = super::RefNames::default();
    let mut subject_ids: Vec<i64> = page_rows.iter().filter_map(|r| r.subject_id).collect();
    subject_ids.sort_unstable();
    subject_ids.dedup();
    let subjects = crate::query::subjects::subjects_of(&mut tx, &me, def, &subject_ids).await;
    let places = state.cache.places(&mut tx, version).await?;
    // Cases a visit ledger refers to get a 走访 button (household, case, today, the cadre).
    let visits = super::village::visit_ledger(&me, &defs, Some(&def.key)).filter(|_| def.subject == taizhang_domain::ledger::SubjectKind::Household);
    let cadre = if visits.is_some() { super::village::my_cadre(&mut tx, &me).await } else { None };
    // The page shows these records: the read is noted with the list's filter.
    let filter = [("地点", &q.place), ("期间", &q.period), ("状态", &q.state), ("关键词", &q.kw), ("作废", &q.voids), ("导入批次", &q.imported)]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", v.trim()))
        .collect::<Vec<_>>()
        .join(" ");
    crate::reads::filter(&def.table_name(), &filter);
    for (n, r) in page_rows.iter().enumerate() {
        show::shown(def, r);
        let mut cells = Vec::new();
        for f in &columns {
            let text = match r.values.get(&f.key) {
                Some(v) => names.display(&mut tx, &me, f, v).await,
                None => String::new(),
            };
            cells.push(json!({"text": text, "num": matches!(f.kind, FieldKind::Money | FieldKind::Integer | FieldKind::Decimal)}));
        }
        let state_label = def.workflow.as_ref().zip(r.state.as_deref()).map(|(w, s)| w.state_label(s).to_string()).unwrap_or_default();
        let subject = match r.subject_id {
            Some(id) => subjects.get(&id).cloned().unwrap_or_else(|| Subject { text: format!("#{id}"), ..Default::default() }),
            None => Subject::default(),
        };
        let (village, group) = places.village_and_group(r.place_id);
        rows.push(json!({
            "n": (page - 1) * size + n as i64 + 1,
            "id": r.id,
            "visit": visits.as_ref().filter(|_| !subject.number.is_empty() && r.voided.is_none()).map(|v| super::village::visit_href(v, &subject.number, Some(r.id), state.today(), cadre.as_ref())),
            "subject": subject.text,
            "subject_link": subject.link,
            "place": village,
            "group": group,
            "cells": cells,
            "state": state_label,
            "tone": show::tone(def, r.state.as_deref()),
            "voided": r.voided.is_some(),
        }));
    }
    let states: Vec<_> = def.workflow.iter().flat_map(|w| w.states.iter()).map(|s| json!({"key": s.key, "label": s.label})).collect();
    let filter_query = format!(
        "place={}&period={}&state={}&kw={}&voids={}&imported={}",
        crate::guard::encode(&q.place),
        crate::guard::encode(&q.period),
        crate::guard::encode(&q.state),
        crate::guard::encode(&q.kw),
        crate::guard::encode(&q.voids),
        crate::guard::encode(&q.imported)
    );
    let mut ctx = views::layout(&me, &defs, &def.name, &[(def.group.as_str(), ""), (def.name.as_str(), "")]);
    ctx.insert("def".into(), json!({"key": def.key, "name": def.name}));
    ctx.insert("group".into(), json!(def.group));
    ctx.insert("current".into(), json!(def.key));
    ctx.insert("places".into(), json!(super::village_options(&places, &me)));
    ctx.insert("states".into(), json!(states));
    ctx.insert("q".into(), json!({"place": q.place, "period": q.period, "state": q.state, "kw": q.kw, "voids": q.voids, "imported": q.imported, "sort": q.sort, "desc": desc, "desc_n": if desc {"1"} else {"0"}}));
    ctx.insert("columns".into(), json!(columns.iter().map(|f| json!({"key": f.key, "label": f.label})).collect::<Vec<_>>()));
    ctx.insert("subject".into(), json!(if def.subject == taizhang_domain::ledger::SubjectKind::None { "" } else { def.subject.label() }));
    ctx.insert("rows".into(), json!(rows));
    ctx.insert("total".into(), json!(total));
    ctx.insert("page".into(), json!(page));
    ctx.insert("pages".into(), json!(pages));
    ctx.insert("size".into(), json!(size));
    ctx.insert("filter_query".into(), json!(filter_query));
    ctx.insert("can_edit".into(), json!(me.can_edit(&def.key)));
    ctx.insert("printing".into(), json!(printing));
    ctx.insert("print_rows".into(), json!(PRINT_ROWS));
    ctx.insert("today".into(), json!(state.today().to_string()));
    views::render("list.html", &ctx.into())
}


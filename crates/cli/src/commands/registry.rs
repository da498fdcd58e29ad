//! `init`, `place`, `person`, `household`, `cadre`, `org`, `audit`.

use taizhang_domain::place::{normalize_place_code, PlaceLevel};
use chrono::NaiveDate;
use taizhang_domain::period::parse_date_lenient;
use taizhang_domain::registry::{validate_person, Cadre, CadreKind, Organisation, Person, PersonInput, StatusChange, StatusChangeInput};
use taizhang_domain::masking::{self, Policy};
use taizhang_domain::role::Actor;
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::households::LeaveReason;
use taizhang_storage::{audit, households, orgs, persons, Db};

use super::print_json;
use crate::args::{CadreCmd, HouseholdCmd, OrgCmd, PersonCmd, PlaceCmd};
use crate::context::Ctx;

pub async fn init(target: &str, town: &str, code: &str, county: Option<&str>) -> anyhow::Result<()> {
    let code = normalize_place_code(code).map_err(anyhow::Error::msg)?;
    let db = Db::open(target).await?;
    let mut tx = db.begin().await?;
    if let Some(existing) = places::by_code(&mut tx, &code).await? {
        anyhow::bail!("数据库 {target} 中已有「{}」（{code}），无需重复初始化", existing.name);
    }
    let county_code = format!("{}000000", &code[..6]);
    let county_place = match places::by_code(&mut tx, &county_code).await? {
        Some(c) => c,
        None => {
            let name = county.map(String::from).unwrap_or_else(|| format!("县（{}）", &code[..6]));
            places::create(&mut tx, &Actor::System, NewPlace { parent_id: None, level: PlaceLevel::County, code: Some(&county_code), name: &name, attributes: vec![] }).await?
        }
    };
    let t = places::create(&mut tx, &Actor::System, NewPlace { parent_id: Some(county_place.id), level: PlaceLevel::Town, code: Some(&code), name: town, attributes: vec![] }).await?;
    let defs = taizhang_domain::catalogue::builtin_ledgers()?;
    let n = taizhang_storage::ledgers::install_builtin(&mut tx, &Actor::System, &defs).await?;
    tx.commit().await?;
    println!("已建立「{}」（{}），隶属「{}」；内置台账 {n} 个。数据库：{target}", t.name, code, county_place.name);
    Ok(())
}

pub async fn place(ctx: &Ctx, cmd: PlaceCmd) -> anyhow::Result<()> {
    match cmd {
        PlaceCmd::Add { parent, name, code, attributes } => {
            let mut tx = ctx.db.begin().await?;
            let parent = places::resolve(&mut tx, &ctx.scope, &parent).await?;
            let level = parent.level.child().ok_or_else(|| anyhow::anyhow!("「{}」是组，其下不能再设地点", parent.name))?;
            let p = places::create(&mut tx, &ctx.actor, NewPlace { parent_id: Some(parent.id), level, code: code.as_deref(), name: &name, attributes }).await?;
            tx.commit().await?;
            println!("已新增{}「{}」（编号 {}）", p.level.label(), p.name, p.id);
        }
        PlaceCmd::List { json } => {
            let mut tx = ctx.db.read().await?;
            let all = places::subtree(&mut tx, &ctx.scope).await?;
            if json {
                return print_json(&all);
            }
            for p in all {
                let depth = p.path.matches('/').count().saturating_sub(2);
                println!("{}{} {} {}", "  ".repeat(depth), p.level.label(), p.name, p.code.unwrap_or_default());
            }
        }
    }
    Ok(())
}

pub async fn person(ctx: &Ctx, cmd: PersonCmd) -> anyhow::Result<()> {
    match cmd {
        PersonCmd::Add { name, id_number, place, ethnicity, phone } => {
            let mut tx = ctx.db.begin().await?;
            let place = places::resolve(&mut tx, &ctx.scope, &place).await?;
            let input = PersonInput { name, id_number, ethnicity, phone, place_id: place.id, ..Default::default() };
            let p = validate_person(&input, ctx.today)?;
            for w in &p.warnings {
                eprintln!("提示：{w}");
            }
            let saved = persons::create(&mut tx, &ctx.actor, &ctx.scope, &p).await?;
            tx.commit().await?;
            println!("已登记「{}」（人员编号 {}，{}，{}）", saved.name, saved.id, saved.sex.label(), saved.birth_date);
        }
        PersonCmd::Search { text, json } => {
            // The masking policy of whoever runs it (`--as`): numbers shown and searched as on the pages.
            let policy = Policy::for_actor(&ctx.actor);
            let query = masking::id_search(&policy, &text);
            if let masking::IdSearch::Refused(why) = &query {
                anyhow::bail!("{why}");
            }
            let mut tx = ctx.db.read().await?;
            let found = persons::search(&mut tx, &ctx.scope, &query, 100).await?;
            drop(tx);
            note_person_reads(ctx, &found, &text, "命令行查人").await?;
            if json {
                let shown: Vec<_> = found
                    .iter()
                    .map(|p| {
                        let mut j = serde_json::json!(p);
                        policy.redact_person_json(&mut j);
                        j
                    })
                    .collect();
                return print_json(&shown);
            }
            for p in &found {
                println!("{}\t{}\t{}\t{}", p.id, p.name, policy.person(p).id_number, p.status.label());
            }
            println!("共 {} 人", found.len());
        }
        PersonCmd::Show { id_number, json } => {
            let mut tx = ctx.db.read().await?;
            let p = person_by_id_number(&mut tx, ctx, &id_number).await?;
            let mut history = audit::list(&mut tx, &ctx.scope, &audit::AuditQuery { entity: Some("persons".into()), entity_id: Some(p.id), actor: None, limit: 100 }).await?;
            drop(tx);
            note_person_reads(ctx, std::slice::from_ref(&p), "", "命令行人员详情").await?;
            let mut tx = ctx.db.read().await?;
            let policy = Policy::for_actor(&ctx.actor);
            let view = policy.person(&p);
            if json {
                let mut person = serde_json::json!(p);
                policy.redact_person_json(&mut person);
                for e in &mut history {
                    for v in [&mut e.before, &mut e.after].into_iter().flatten() {
                        policy.redact_person_json(v);
                    }
                    e.note = policy.text(&e.note);
                }
                return print_json(&serde_json::json!({ "person": person, "history": history }));
            }
            let derived = match (view.sex, view.birth) {
                (Some(sex), Some(birth)) => format!("\t{}\t{birth}", sex.label()),
                _ => String::new(),
            };
            println!("{}（人员编号 {}）\t{}{derived}", p.name, p.id, view.id_number);
            let mut status = p.status.label().to_string();
            if let Some(d) = p.status_date {
                status.push_str(&format!("（{d}）"));
            }
            for extra in [&p.status_place, &p.status_reason].into_iter().filter(|t| !t.is_empty()) {
                status.push_str(&format!("，{extra}"));
            }
            println!("状态：{status}");
            if let Some(hid) = p.household_id {
                let h = households::get(&mut tx, &ctx.scope, hid).await?;
                println!("户：{}（{}）", h.number, p.relation.clone().unwrap_or_default());
            }
            for e in history.iter().rev() {
                println!("{}\t{}\t{}", e.at, e.actor, if e.note.is_empty() { e.action.clone() } else { policy.text(&e.note) });
            }
        }
        PersonCmd::Update { id_number, fields, reason } => {
            let mut tx = ctx.db.begin().await?;
            let p = person_by_id_number(&mut tx, ctx, &id_number).await?;
            let changes = pairs(&fields)?;
            let after = persons::correct(&mut tx, &ctx.actor, &ctx.scope, p.id, p.row_version, &changes, &reason, ctx.today).await?;
            tx.commit().await?;
            if after.row_version == p.row_version {
                println!("「{}」的信息与所填相同，未修改", p.name);
            } else {
                println!("已更正「{}」（人员编号 {}）的信息", after.name, after.id);
            }
        }
        PersonCmd::Status { id_number, status, date, reason, place_text } => {
            let change = StatusChange::parse(&status)
                .ok_or_else(|| anyhow::anyhow!("「状态」应为 死亡、迁出、迁入、失联 或 正常，不是「{status}」"))?;
            let date = parse_date_lenient(&date).map_err(|e| anyhow::anyhow!("「日期」{e}"))?;
            let mut tx = ctx.db.begin().await?;
            let p = person_by_id_number(&mut tx, ctx, &id_number).await?;
            let input = StatusChangeInput { change, date: Some(date), reason, place_text };
            let after = persons::set_status(&mut tx, &ctx.actor, &ctx.scope, p.id, p.row_version, &input, ctx.today).await?;
            tx.commit().await?;
            println!("已登记「{}」{}（{date}），当前状态：{}", after.name, change.label(), after.status.label());
        }
    }
    Ok(())
}

async fn person_by_id_number(tx: &mut taizhang_storage::Tx, ctx: &Ctx, id_number: &str) -> anyhow::Result<Person> {
    let n = taizhang_domain::idcard::parse_id_number(id_number, ctx.today).map(|p| p.number).unwrap_or_else(|_| id_number.trim().to_uppercase());
    persons::by_id_number(tx, &ctx.scope, &n).await?.ok_or_else(|| anyhow::anyhow!("「公民身份号码」{id_number} 未登记或不在您的管辖范围内"))
}

async fn household_by_number(tx: &mut taizhang_storage::Tx, ctx: &Ctx, number: &str) -> anyhow::Result<taizhang_domain::registry::Household> {
    households::by_number(tx, &ctx.scope, number).await?.ok_or_else(|| anyhow::anyhow!("「户编号」{number} 不存在或不在您的管辖范围内"))
}

fn pairs(fields: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    fields
        .iter()
        .map(|f| f.split_once('=').map(|(k, v)| (k.trim().to_string(), v.to_string())).ok_or_else(|| anyhow::anyhow!("「{f}」应写作 字段=值")))
        .collect()
}

fn date_or_today(ctx: &Ctx, d: Option<&str>) -> anyhow::Result<NaiveDate> {
    match d {
        Some(d) => parse_date_lenient(d).map_err(|e| anyhow::anyhow!("「日期」{e}")),
        None => Ok(ctx.today),
    }
}

pub async fn household(ctx: &Ctx, cmd: HouseholdCmd) -> anyhow::Result<()> {
    let mut tx = ctx.db.begin().await?;
    match cmd {
        HouseholdCmd::Add { number, place } => {
            let place = places::resolve(&mut tx, &ctx.scope, &place).await?;
            let h = households::create(&mut tx, &ctx.actor, &ctx.scope, &number, place.id).await?;
            println!("已新建户 {}（编号 {}）", h.number, h.id);
        }
        HouseholdCmd::Member { number, id_number, relation, date, reason } => {
            let h = household_by_number(&mut tx, ctx, &number).await?;
            let p = person_by_id_number(&mut tx, ctx, &id_number).await?;
            let on = date_or_today(ctx, date.as_deref())?;
            households::join(&mut tx, &ctx.actor, &ctx.scope, h.id, p.id, &relation, Some(on), &reason).await?;
            let after = persons::get(&mut tx, &ctx.scope, p.id).await?;
            println!("已把「{}」加入户 {}（{}）", p.name, h.number, after.relation.unwrap_or_default());
        }
        HouseholdCmd::Leave { number, id_number, reason, date, note } => {
            let h = household_by_number(&mut tx, ctx, &number).await?;
            let p = person_by_id_number(&mut tx, ctx, &id_number).await?;
            let why = LeaveReason::parse(&reason).ok_or_else(|| anyhow::anyhow!("「迁出原因」应为 死亡、婚出、分户、迁出 或 其他，不是「{reason}」"))?;
            let on = date_or_today(ctx, date.as_deref())?;
            households::leave(&mut tx, &ctx.actor, &ctx.scope, h.id, p.id, why, on, &note).await?;
            println!("「{}」已迁出户 {}（{}，{on}）", p.name, h.number, why.label());
        }
        HouseholdCmd::Head { number, id_number, relations, date, reason } => {
            let h = household_by_number(&mut tx, ctx, &number).await?;
            let head = person_by_id_number(&mut tx, ctx, &id_number).await?;
            let mut rels = Vec::new();
            for (idn, rel) in pairs(&relations)? {
                rels.push((person_by_id_number(&mut tx, ctx, &idn).await?.id, rel));
            }
            let on = date_or_today(ctx, date.as_deref())?;
            households::change_head(&mut tx, &ctx.actor, &ctx.scope, h.id, head.id, &rels, on, &reason).await?;
            println!("户 {} 的户主已变更为「{}」；请核对其他成员与新户主的关系（taizhang household show --number {}）", h.number, head.name, h.number);
        }
        HouseholdCmd::Split { number, new_number, place, members, date } => {
            let h = household_by_number(&mut tx, ctx, &number).await?;
            let place_id = match place {
                Some(p) => places::resolve(&mut tx, &ctx.scope, &p).await?.id,
                None => h.place_id,
            };
            let mut moving = Vec::new();
            for (idn, rel) in pairs(&members)? {
                moving.push((person_by_id_number(&mut tx, ctx, &idn).await?.id, rel));
            }
            let on = date_or_today(ctx, date.as_deref())?;
            let new = households::split(&mut tx, &ctx.actor, &ctx.scope, h.id, &new_number, place_id, &moving, on).await?;
            println!("已从户 {} 分出新户 {}（{} 人）", h.number, new.number, moving.len());
        }
        HouseholdCmd::Move { number, place, date, reason } => {
            let h = household_by_number(&mut tx, ctx, &number).await?;
            let to = places::resolve(&mut tx, &ctx.scope, &place).await?;
            let on = date_or_today(ctx, date.as_deref())?;
            households::move_to(&mut tx, &ctx.actor, &ctx.scope, h.id, to.id, on, &reason).await?;
            println!("户 {} 已迁到「{}」，成员随户迁移", h.number, to.name);
        }
        HouseholdCmd::Show { number, json } => {
            let h = household_by_number(&mut tx, ctx, &number).await?;
            let members = households::members(&mut tx, &ctx.scope, h.id).await?;
            let history = households::history(&mut tx, &ctx.scope, h.id).await?;
            if json {
                let policy = Policy::for_actor(&ctx.actor);
                let members: Vec<_> = members
                    .iter()
                    .map(|p| {
                        let mut j = serde_json::json!(p);
                        policy.redact_person_json(&mut j);
                        j
                    })
                    .collect();
                return print_json(&serde_json::json!({ "household": h, "members": members, "history": history }));
            }
            println!("户 {}（编号 {}）", h.number, h.id);
            let policy = Policy::for_actor(&ctx.actor);
            for p in &members {
                println!("  {}\t{}\t{}\t{}", p.relation.clone().unwrap_or_default(), p.name, policy.person(p).id_number, p.status.label());
            }
            println!("变动历史：");
            for e in &history {
                println!("  {}\t{}\t{}\t{}", e.on_date, e.kind_label, e.detail, e.actor);
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn cadre(ctx: &Ctx, cmd: CadreCmd) -> anyhow::Result<()> {
    match cmd {
        CadreCmd::Add { name, kind, post, unit, birth_date, place, phone } => {
            let mut tx = ctx.db.begin().await?;
            let place = places::resolve(&mut tx, &ctx.scope, &place).await?;
            let kind = CadreKind::parse(&kind).ok_or_else(|| anyhow::anyhow!("「干部类别」应为 镇干部、村干部、驻村工作队员 或 其他"))?;
            let birth_date = match birth_date {
                Some(d) => Some(taizhang_domain::period::parse_date_lenient(&d).map_err(|e| anyhow::anyhow!("「出生日期」{e}"))?),
                None => None,
            };
            let c = Cadre { id: 0, name, kind, post, unit, birth_date, place_id: place.id, person_id: None, user_id: None, phone, ended_on: None, end_reason: String::new() };
            let saved = orgs::create_cadre(&mut tx, &ctx.actor, &ctx.scope, &c, ctx.today).await?;
            tx.commit().await?;
            println!("已登记干部「{}」（编号 {}）", saved.name, saved.id);
        }
        CadreCmd::List { json } => {
            let mut tx = ctx.db.read().await?;
            let all = orgs::list_cadres(&mut tx, &ctx.scope).await?;
            if json {
                return print_json(&all);
            }
            for c in all {
                let ended = c.ended_on.map(|d| format!("\t已于 {d} 离任")).unwrap_or_default();
                println!("{}\t{}\t{}\t{}{ended}", c.id, c.name, c.kind.label(), c.post);
            }
        }
        CadreCmd::Update { id, fields } => {
            let mut tx = ctx.db.begin().await?;
            let mut c = orgs::get_cadre(&mut tx, &ctx.scope, id).await?;
            for (k, v) in pairs(&fields)? {
                match k.as_str() {
                    "name" | "姓名" => c.name = v,
                    "kind" | "类别" | "干部类别" => {
                        c.kind = CadreKind::parse(&v).ok_or_else(|| anyhow::anyhow!("「干部类别」应为 镇干部、村干部、驻村工作队员 或 其他"))?
                    }
                    "post" | "职务" => c.post = v,
                    "unit" | "单位" => c.unit = v,
                    "birth_date" | "出生日期" => {
                        c.birth_date = if v.trim().is_empty() { None } else { Some(parse_date_lenient(&v).map_err(|e| anyhow::anyhow!("「出生日期」{e}"))?) }
                    }
                    "place" | "所属地点" | "所属村" => c.place_id = places::resolve(&mut tx, &ctx.scope, &v).await?.id,
                    "phone" | "联系电话" => c.phone = v,
                    other => anyhow::bail!("「{other}」不是可修改的干部信息（姓名、类别、职务、单位、出生日期、所属地点、联系电话；离任请用 cadre end）"),
                }
            }
            let saved = orgs::update_cadre(&mut tx, &ctx.actor, &ctx.scope, &c, ctx.today).await?;
            tx.commit().await?;
            println!("已修改干部「{}」（编号 {}）", saved.name, saved.id);
        }
        CadreCmd::End { id, date, reason } => {
            let on = parse_date_lenient(&date).map_err(|e| anyhow::anyhow!("「离任日期」{e}"))?;
            let mut tx = ctx.db.begin().await?;
            let c = orgs::end_cadre(&mut tx, &ctx.actor, &ctx.scope, id, on, &reason, ctx.today).await?;
            tx.commit().await?;
            println!("「{}」已于 {on} 离任，此后不能再被选为新记录的干部", c.name);
        }
    }
    Ok(())
}

pub async fn org(ctx: &Ctx, cmd: OrgCmd) -> anyhow::Result<()> {
    match cmd {
        OrgCmd::Add { name, kind, uscc, place, address } => {
            let mut tx = ctx.db.begin().await?;
            let place = places::resolve(&mut tx, &ctx.scope, &place).await?;
            let o = Organisation { id: 0, name, uscc, kind, address, place_id: place.id, contact: String::new(), phone: String::new(), ended_on: None };
            let saved = orgs::create_org(&mut tx, &ctx.actor, &ctx.scope, &o).await?;
            tx.commit().await?;
            println!("已登记单位「{}」（编号 {}）", saved.name, saved.id);
        }
        OrgCmd::List { json } => {
            let mut tx = ctx.db.read().await?;
            let all = orgs::list_orgs(&mut tx, &ctx.scope).await?;
            if json {
                return print_json(&all);
            }
            for o in all {
                let ended = o.ended_on.map(|d| format!("\t已于 {d} 注销")).unwrap_or_default();
                println!("{}\t{}\t{}{ended}", o.id, o.name, o.kind);
            }
        }
        OrgCmd::End { id, date } => {
            let on = parse_date_lenient(&date).map_err(|e| anyhow::anyhow!("「注销日期」{e}"))?;
            let mut tx = ctx.db.begin().await?;
            let mut o = orgs::get_org(&mut tx, &ctx.scope, id).await?;
            o.ended_on = Some(on);
            let o = orgs::update_org(&mut tx, &ctx.actor, &ctx.scope, &o, ctx.today).await?;
            tx.commit().await?;
            println!("「{}」已于 {on} 注销，此后不能再被选为新记录的单位", o.name);
        }
    }
    Ok(())
}

/// A read of persons by a signed-in user (`--as`) leaves its entry, as on the pages; the
/// console operator's own reads are not entries (they are the server's owner).
async fn note_person_reads(ctx: &Ctx, found: &[Person], filter: &str, what: &str) -> anyhow::Result<()> {
    let Actor::User { place_id, .. } = &ctx.actor else { return Ok(()) };
    let read = taizhang_storage::reads::Read {
        entity: "persons".into(),
        ids: found.iter().map(|p| p.id).collect(),
        persons: found.iter().map(|p| p.id).collect(),
        places: found.iter().map(|p| p.place_id).collect(),
        scope_place: Some(*place_id),
        filter: filter.to_string(),
        what: what.to_string(),
    };
    let mut tx = ctx.db.begin().await?;
    taizhang_storage::reads::note(&mut tx, &ctx.actor, &read).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn audit(ctx: &Ctx, entity: Option<String>, entity_id: Option<i64>, limit: i64, json: bool) -> anyhow::Result<()> {
    // 三员分立: with --as, only an 审计管理员 reads the trail (without it: the server's operator).
    if let taizhang_domain::role::Actor::User { role, .. } = &ctx.actor {
        if !role.reads_audit() {
            anyhow::bail!("{}不能查看操作日志：只有审计管理员可以查看", role.label());
        }
    }
    let mut tx = ctx.db.read().await?;
    let mut entries = audit::list(&mut tx, &ctx.scope, &audit::AuditQuery { entity, entity_id, actor: None, limit }).await?;
    if json {
        // Values as whoever runs it (`--as`) may see them.
        let policy = Policy::for_actor(&ctx.actor);
        let defs = taizhang_storage::ledgers::all(&mut tx).await?;
        for e in &mut entries {
            for v in [&mut e.before, &mut e.after].into_iter().flatten() {
                policy.redact_entry_json(&defs, &e.entity, v);
            }
            e.note = policy.text(&e.note);
        }
        return print_json(&entries);
    }
    for e in &entries {
        // A run of records created together shows as first-last.
        let ids = match (e.entity_id, e.last_entity_id) {
            (Some(first), Some(last)) => format!("{first}-{last}"),
            (Some(id), None) => id.to_string(),
            _ => String::new(),
        };
        println!("{}\t{}\t{}\t{}\t{ids}\t{}", e.at, e.actor, e.action, e.entity, Policy::for_actor(&ctx.actor).text(&e.note));
    }
    Ok(())
}

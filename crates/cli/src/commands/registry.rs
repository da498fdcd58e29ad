//! `init`, `place`, `person`, `household`, `cadre`, `org`, `audit`.

use taizhang_domain::place::{normalize_place_code, PlaceLevel};
use taizhang_domain::registry::{validate_person, Cadre, CadreKind, Organisation, PersonInput};
use taizhang_domain::role::Actor;
use taizhang_storage::places::{self, NewPlace};
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
            let mut tx = ctx.db.read().await?;
            let found = persons::search(&mut tx, &ctx.scope, &text, 100).await?;
            if json {
                return print_json(&found);
            }
            for p in &found {
                println!("{}\t{}\t{}\t{}", p.id, p.name, p.id_number, p.status.label());
            }
            println!("共 {} 人", found.len());
        }
    }
    Ok(())
}

pub async fn household(ctx: &Ctx, cmd: HouseholdCmd) -> anyhow::Result<()> {
    let mut tx = ctx.db.begin().await?;
    match cmd {
        HouseholdCmd::Add { number, place } => {
            let place = places::resolve(&mut tx, &ctx.scope, &place).await?;
            let h = households::create(&mut tx, &ctx.actor, &ctx.scope, &number, place.id).await?;
            println!("已新建户 {}（编号 {}）", h.number, h.id);
        }
        HouseholdCmd::Member { number, id_number, relation } => {
            let h = households::by_number(&mut tx, &ctx.scope, &number).await?.ok_or_else(|| anyhow::anyhow!("户编号 {number} 不存在或不在您的管辖范围内"))?;
            let p = persons::by_id_number(&mut tx, &ctx.scope, &id_number.trim().to_uppercase()).await?.ok_or_else(|| anyhow::anyhow!("身份证号 {id_number} 未登记或不在您的管辖范围内"))?;
            households::add_member(&mut tx, &ctx.actor, &ctx.scope, h.id, p.id, &relation).await?;
            println!("已把「{}」加入户 {}（{}）", p.name, h.number, relation);
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
            let c = Cadre { id: 0, name, kind, post, unit, birth_date, place_id: place.id, person_id: None, user_id: None, phone };
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
                println!("{}\t{}\t{}\t{}", c.id, c.name, c.kind.label(), c.post);
            }
        }
    }
    Ok(())
}

pub async fn org(ctx: &Ctx, cmd: OrgCmd) -> anyhow::Result<()> {
    let OrgCmd::Add { name, kind, uscc, place, address } = cmd;
    let mut tx = ctx.db.begin().await?;
    let place = places::resolve(&mut tx, &ctx.scope, &place).await?;
    let o = Organisation { id: 0, name, uscc, kind, address, place_id: place.id, contact: String::new(), phone: String::new() };
    let saved = orgs::create_org(&mut tx, &ctx.actor, &ctx.scope, &o).await?;
    tx.commit().await?;
    println!("已登记单位「{}」（编号 {}）", saved.name, saved.id);
    Ok(())
}

pub async fn audit(ctx: &Ctx, entity: Option<String>, entity_id: Option<i64>, limit: i64, json: bool) -> anyhow::Result<()> {
    let mut tx = ctx.db.read().await?;
    let entries = audit::list(&mut tx, &ctx.scope, &audit::AuditQuery { entity, entity_id, actor: None, limit }).await?;
    if json {
        return print_json(&entries);
    }
    for e in &entries {
        // A run of records created together shows as first-last.
        let ids = match (e.entity_id, e.last_entity_id) {
            (Some(first), Some(last)) => format!("{first}-{last}"),
            (Some(id), None) => id.to_string(),
            _ => String::new(),
        };
        println!("{}\t{}\t{}\t{}\t{ids}\t{}", e.at, e.actor, e.action, e.entity, e.note);
    }
    Ok(())
}

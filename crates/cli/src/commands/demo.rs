//! `taizhang demo`: builds the demo town 北斗溪镇 (crate `taizhang-demo`) into DIR/taizhang.db,
//! writes its 2023 summary as .md, .html and .docx through the `report` command's own code,
//! runs the data checks and says where everything is.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use taizhang_domain::role::{Actor, Role};
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::{Db, Scope};

use super::reports;
use crate::args::PeriodArgs;
use crate::context::Ctx;

/// The database file's name inside the demo directory.
pub const DB_FILE: &str = "taizhang.db";

fn is_nonempty_file(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
}

/// Removes the database file and SQLite's companions (`-wal`, `-shm`, `-journal`).
fn remove_database(db: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = db.with_file_name(format!("{DB_FILE}{suffix}"));
        if p.exists() {
            std::fs::remove_file(&p)
                .with_context(|| format!("删除旧数据库文件 {} 失败", p.display()))?;
        }
    }
    Ok(())
}

pub async fn run(
    out: &Path,
    no_serve: bool,
    scale: &str,
    force: bool,
    county_no: usize,
    db_url: Option<&str>,
) -> anyhow::Result<()> {
    if scale != "town" && scale != "county" {
        anyhow::bail!("规模「{scale}」不可用：应为 town（北斗溪镇一个镇）或 county（25 个镇）");
    }
    let county_no = taizhang_demo::county::CountyNo(county_no);
    let Some((county_name, county_code)) = county_no.name_and_code() else {
        anyhow::bail!("--county {}：没有这个演示县，只有 1（溆浦县）和 2（沅溪县）", county_no.0);
    };
    if scale == "town" && county_no.0 != 1 {
        anyhow::bail!("--county 只用于 --scale county：演示乡镇北斗溪镇属于溆浦县");
    }
    std::fs::create_dir_all(out).with_context(|| format!("无法建立目录 {}", out.display()))?;
    let started = Instant::now();
    let (db, db_label) = match db_url.filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://")) {
        // On PostgreSQL (benchmarks, a county's server): into an empty database only; the
        // reports still go to the directory.
        Some(url) => {
            let db = Db::open(url).await?;
            if scale == "county" {
                refuse_county_present(&db, url, county_name, county_code).await?;
            } else {
                let mut tx = db.read().await?;
                let places = tx.fetch_one("SELECT COUNT(*) FROM places", &[]).await?.int(0);
                drop(tx);
                if places > 0 {
                    anyhow::bail!("数据库 {url} 中已有 {places} 个地点；演示数据只建在空数据库中");
                }
            }
            (db, url.to_string())
        }
        None => {
            let db_path = out.join(DB_FILE);
            // A second county goes beside the first in the same file.
            if scale == "county" && !force && is_nonempty_file(&db_path) {
                let target = db_path.display().to_string();
                let db = Db::open(&target).await?;
                refuse_county_present(&db, &target, county_name, county_code).await?;
                return county(&db, &target, county_no, started).await;
            }
            if is_nonempty_file(&db_path) {
                if !force {
                    anyhow::bail!(
                        "目录 {} 中已有数据库 {DB_FILE}；如要删除重建，请加 --force",
                        out.display()
                    );
                }
                remove_database(&db_path)?;
            }
            let target = db_path.display().to_string();
            (Db::open(&target).await?, target)
        }
    };
    if scale == "county" {
        return county(&db, &db_label, county_no, started).await;
    }
    println!("正在生成演示乡镇北斗溪镇……");
    let built = taizhang_demo::build_town(&db).await?;
    db.refresh_statistics().await?;
    let took = started.elapsed();
    println!(
        "已建立「{}」：{} 个村，{} 户 {} 人，干部 {} 名，单位 {} 个，台账记录 {} 条（用时 {:.1} 秒）",
        built.town_name,
        built.villages,
        built.households,
        built.persons,
        built.cadres,
        built.organisations,
        built.records,
        took.as_secs_f64()
    );

    let accounts = demo_users(&db, built.town_id).await?;
    let ctx = Ctx {
        db,
        actor: Actor::System,
        scope: Scope::all(),
        today: chrono::Local::now().date_naive(),
    };
    let period = PeriodArgs {
        year: Some(taizhang_demo::YEAR),
        ..Default::default()
    };
    let stem = format!("{}{}年工作总结", built.town_name, taizhang_demo::YEAR);
    let mut written = Vec::new();
    // Dated at the year's end, as a year-end summary is, whatever day the demo is built.
    let dated = format!("{}-12-31", taizhang_demo::YEAR);
    for ext in ["md", "html", "docx"] {
        let file = out.join(format!("{stem}.{ext}"));
        reports::report(&ctx, period.clone(), None, &file, Some(&dated), false, &crate::args::ReportLookArgs::default()).await?;
        written.push(file);
    }
    println!("\n数据核查（演示数据中有意埋下了几处问题）：");
    reports::check(&ctx, period, false, false).await?;

    println!("\n生成的文件：");
    println!("  数据库：{db_label}");
    for f in &written {
        println!("  总结：{}", f.display());
    }
    println!(
        "\n查看某个数字的来历，例如：taizhang --db {} explain dibao_rural_households --year {}",
        db_label,
        taizhang_demo::YEAR
    );
    println!("\n网页登录账号（密码均为 {DEMO_PASSWORD}）：");
    for (u, what) in &accounts {
        println!("  {u}\t{what}");
    }
    if no_serve {
        println!("\n启动网页：taizhang serve --db {db_label}");
    } else {
        start_server(ctx.db.clone()).await?;
    }
    Ok(())
}

/// `--scale county`: 25 towns for benchmarks; prints each town's counts and time, then the time
/// of evaluating every indicator over the whole county.
async fn county(
    db: &Db,
    db_path: &str,
    no: taizhang_demo::county::CountyNo,
    started: Instant,
) -> anyhow::Result<()> {
    let spec = taizhang_demo::DemoSpec::builtin(taizhang_demo::TOWN)?;
    let (county_name, county_code) = no.name_and_code().ok_or_else(|| anyhow::anyhow!("--county {}：没有这个演示县", no.0))?;
    println!(
        "正在生成 {} 个镇的演示县{county_name}（约一百万人、五百万条记录）……",
        taizhang_demo::county::TOWNS
    );
    let towns = taizhang_demo::county::build_county(db, &spec, no, |i, t| {
        println!(
            "  {i:>2}. {}：{} 户 {} 人，台账记录 {} 条（用时 {:.1} 秒）",
            t.built.town_name,
            t.built.households,
            t.built.persons,
            t.built.records,
            t.took.as_secs_f64()
        );
    })
    .await?;
    let persons: usize = towns.iter().map(|t| t.built.persons).sum();
    let records: usize = towns.iter().map(|t| t.built.records).sum();
    println!(
        "共 {} 个镇，{persons} 人，台账记录 {records} 条；总用时 {:.1} 秒",
        towns.len(),
        started.elapsed().as_secs_f64()
    );
    db.refresh_statistics().await?;
    let t0 = Instant::now();
    let mut tx = db.read().await?;
    let defs = taizhang_storage::ledgers::all(&mut tx).await?;
    let county_place = taizhang_storage::places::by_code(&mut tx, &format!("{county_code}000000"))
        .await?
        .ok_or_else(|| anyhow::anyhow!("刚建立的{county_name}不在数据库中"))?;
    drop(tx);
    let inds = taizhang_reports::indicator::builtin()?;
    let ctx = taizhang_reports::Context::year(taizhang_demo::YEAR, Scope { path: county_place.path.clone() });
    let rows = taizhang_reports::rollup::rollup(db, &inds, &defs, &ctx, taizhang_domain::place::PlaceLevel::Town).await?;
    println!(
        "{county_name} {} 项指标 × {} 个镇（{} 年）计算用时 {:.2} 秒",
        rows.len(),
        rows.first().map_or(0, |r| r.places.len()),
        taizhang_demo::YEAR,
        t0.elapsed().as_secs_f64()
    );
    println!("\n数据库：{db_path}");
    Ok(())
}

/// Refuses a county the database already holds (its code among the places).
async fn refuse_county_present(db: &Db, label: &str, name: &str, code: &str) -> anyhow::Result<()> {
    let mut tx = db.read().await?;
    if taizhang_storage::places::by_code(&mut tx, &format!("{code}000000")).await?.is_some() {
        anyhow::bail!("数据库 {label} 中已有{name}（{code}）；演示县只建在没有这个县的数据库中");
    }
    Ok(())
}

/// The demo's sign-in accounts, one per role, all with the password [`DEMO_PASSWORD`] (the web
/// application runs in demo mode: no password change is forced).
const DEMO_PASSWORD: &str = "beidouxi2023";

/// The village whose cadre the demo signs in as (the first village by code when a dataset has
/// no such village).
const DEMO_CADRE_VILLAGE: &str = "坪溪村";

async fn demo_users(db: &Db, town_id: i64) -> anyhow::Result<Vec<(String, String)>> {
    let hash = taizhang_web::auth::hash_password(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
    let mut tx = db.begin().await?;
    let village = tx
        .fetch_opt(
            "SELECT id, name FROM places WHERE parent_id = $1 AND level = 'village' ORDER BY CASE WHEN name = $2 THEN 0 ELSE 1 END, code LIMIT 1",
            &[taizhang_storage::Arg::Int(town_id), DEMO_CADRE_VILLAGE.into()],
        )
        .await?
        .map(|r| (r.int(0), r.text(1)));
    let mut made = Vec::new();
    let clerk_ledgers: Vec<String> = [
        "dibao",
        "dibao_payments",
        "destitute",
        "destitute_payments",
        "temporary_relief",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let roles = [
        ("admin", "镇系统管理员", Role::Admin, town_id, Vec::new()),
        ("security", "镇安全管理员", Role::SecurityAdmin, town_id, Vec::new()),
        ("auditor", "镇审计管理员", Role::AuditAdmin, town_id, Vec::new()),
        ("leader", "镇领导", Role::Leader, town_id, Vec::new()),
        ("clerk", "民政业务员", Role::Clerk, town_id, clerk_ledgers),
    ];
    for (username, name, role, place_id, ledgers) in roles {
        users::create(
            &mut tx,
            &Actor::Demo,
            NewUser {
                username,
                display_name: name,
                password_hash: &hash,
                role,
                place_id,
                ledgers,
                must_change_password: false,
            },
        )
        .await?;
        made.push((username.to_string(), format!("{name}（{}）", role.label())));
    }
    if let Some((vid, vname)) = village {
        users::create(
            &mut tx,
            &Actor::Demo,
            NewUser {
                username: "cadre",
                display_name: "村干部",
                password_hash: &hash,
                role: Role::VillageCadre,
                place_id: vid,
                ledgers: Vec::new(),
                must_change_password: false,
            },
        )
        .await?;
        made.push((
            "cadre".to_string(),
            format!("{vname}村干部（{}）", Role::VillageCadre.label()),
        ));
    }
    tx.commit().await?;
    Ok(made)
}

/// Starts the web application on the demo database (demo mode: the accounts' initial password
/// need not be changed) and serves until interrupted.
async fn start_server(db: Db) -> anyhow::Result<()> {
    let listen = "127.0.0.1:8080";
    println!();
    let config = taizhang_web::WebConfig { demo: true, ..Default::default() };
    taizhang_web::serve(db, listen, config).await
}

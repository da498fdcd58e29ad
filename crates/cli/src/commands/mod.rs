//! One function per command. Each opens the context, does its work in one transaction where
//! it writes, and prints a Chinese summary (or JSON with `--json`).

mod audit;
mod backup;
mod demo;
mod exchange;
mod ledgers;
mod merge;
mod records;
mod registry;
mod reports;
mod trail;
mod verify;
mod web;

use crate::args::{AuditCmd, Cli, Command};
use crate::config::resolve_db;
use crate::context::Ctx;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Demo { out, no_serve, scale, force, county } = &cli.command {
        return demo::run(out, *no_serve, scale, *force, *county, cli.db.as_deref()).await;
    }
    if let Command::Merge { town, into, dry_run, accept_conflicts, json } = &cli.command {
        return merge::run(town, into, cli.as_user.as_deref(), *dry_run, *accept_conflicts, *json).await;
    }
    let target = resolve_db(cli.db.as_deref(), &cli.config)?;
    if let Command::Init { town, code, county } = &cli.command {
        return registry::init(&target, town, code, county.as_deref()).await;
    }
    // Neither opens the database as the other commands do (which migrates it and installs the
    // built-in ledgers): a backup copies what is there, a restore replaces it.
    match &cli.command {
        Command::Backup { out } => return backup::run_backup(&target, out).await,
        Command::Restore { file } => return backup::run_restore(&target, file).await,
        _ => {}
    }
    let ctx = Ctx::open(&target, cli.as_user.as_deref()).await?;
    match cli.command {
        Command::Init { .. } => unreachable!("handled above"),
        Command::Demo { .. } | Command::Backup { .. } | Command::Restore { .. } | Command::Merge { .. } => unreachable!("handled above"),
        Command::Place(c) => registry::place(&ctx, c).await,
        Command::Person(c) => registry::person(&ctx, c).await,
        Command::Household(c) => registry::household(&ctx, c).await,
        Command::Cadre(c) => registry::cadre(&ctx, c).await,
        Command::Org(c) => registry::org(&ctx, c).await,
        Command::Ledgers { json } => ledgers::list(&ctx, json).await,
        Command::Ledger(c) => ledgers::ledger(&ctx, c).await,
        Command::Record(c) => records::record(&ctx, c).await,
        Command::Setting(c) => records::setting(&ctx, c).await,
        Command::Indicators { period, by, fresh, json } => reports::indicators(&ctx, period, by.as_deref(), fresh, json).await,
        Command::Check { period, json, fail_on_findings } => reports::check(&ctx, period, json, fail_on_findings).await,
        Command::Report { period, template, output, date, strict, look } => reports::report(&ctx, period, template, &output, date.as_deref(), strict, &look).await,
        Command::Explain { indicator, period, limit, json } => reports::explain(&ctx, &indicator, period, limit, json).await,
        Command::Verify { draft, period, json, output } => verify::verify(&ctx, &draft, period, json, output.as_deref()).await,
        Command::Import { files, ledger, dry_run, partial, sheet, set } => {
            exchange::import(&ctx, files, exchange::ImportArgs { ledger, dry_run, partial, sheet, set }).await
        }
        Command::Export { ledger, period, output } => exchange::export(&ctx, ledger, period, output).await,
        Command::Template { ledger, output } => exchange::template(&ctx, ledger, output).await,
        Command::Serve { listen, tls_cert, tls_key, allow_http, secure_cookie, idle_minutes, header_timeout, idle_timeout } => {
            let tls = tls_cert.zip(tls_key).map(|(cert, key)| taizhang_web::server::TlsFiles { cert, key });
            let config = taizhang_web::WebConfig {
                secure_cookie,
                idle_minutes: idle_minutes.map(|m| m.max(1)),
                demo: false,
                tls,
                allow_http,
                header_timeout: std::time::Duration::from_secs(header_timeout.max(1)),
                idle_timeout: std::time::Duration::from_secs(idle_timeout.max(1)),
            };
            web::serve(&ctx, &listen, config).await
        }
        Command::User(c) => web::user(&ctx, c).await,
        Command::Audit { action: Some(AuditCmd::Verify { json }), .. } => audit::verify(&ctx, json).await,
        Command::Audit { action: None, entity, entity_id, limit, json } => registry::audit(&ctx, entity, entity_id, limit, json).await,
    }
}

pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

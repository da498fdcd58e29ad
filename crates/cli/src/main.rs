//! `taizhang`: the one binary. Command-line parsing and dispatch only; the work happens in
//! the crates below.

mod args;
mod commands;
mod config;
mod context;

use clap::Parser;

/// Rust's allocations go to mimalloc (SQLite keeps the C library's): an import hands millions
/// of small strings from thread to thread (reader → importer → SQLite's thread), and glibc's
/// malloc spent a sixth of the import's CPU on allocating and freeing them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // A panic is a bug, but a user must still read Chinese, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info.payload().downcast_ref::<&str>().copied().map(String::from)
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("错误：程序内部出错，操作未完成（{msg}）。请把这条信息告诉系统管理员。");
    }));
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误：无法启动运行环境：{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! `taizhang`: the one binary. Command-line parsing and dispatch only; the work happens in
//! the crates below.

// The only unsafe code of the workspace: a `GlobalAlloc` cannot be written without it.
#[allow(unsafe_code)]
mod alloc;
mod args;
mod commands;
mod config;
mod context;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator;

fn main() -> std::process::ExitCode {
    // A panic is a bug, but a user must still read Chinese, not a backtrace or English.
    std::panic::set_hook(Box::new(|info| {
        let msg = info.payload().downcast_ref::<&str>().copied().map(String::from)
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("{}", panic_line(&msg, std::env::var_os("TAIZHANG_DEBUG").is_some()));
        // `taizhang export … | head`: the reader has gone, which is no error of ours.
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
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

/// What a user reads when the program fails where it should not: Chinese, with the technical
/// detail (English, from the standard library) only when the administrator asks for it.
fn panic_line(msg: &str, debug: bool) -> String {
    let what = if msg.contains("Broken pipe") {
        return "输出已被关闭（如用 head 截取了输出），后面的内容没有显示。".into();
    } else if msg.contains("spawn") || msg.contains("Resource temporarily unavailable") {
        "系统资源不足（无法创建工作线程），操作未完成；请关闭其他程序后重试。"
    } else {
        "程序内部出错，操作未完成；正在进行的修改没有提交。请把这条信息告诉系统管理员。"
    };
    if debug {
        format!("错误：{what}\n技术信息：{msg}")
    } else {
        format!("错误：{what}（设置环境变量 TAIZHANG_DEBUG=1 后重新运行，可看到技术信息）")
    }
}

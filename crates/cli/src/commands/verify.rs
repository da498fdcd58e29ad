//! `verify`: 校核 — every figure of a hand-written draft checked against the ledgers (crate
//! `taizhang-verify`); a text report, JSON, or a marked copy (.docx with comments, .html).

use std::path::Path;

use anyhow::Context as _;
use taizhang_verify::{Counts, Draft, Options, Outcome, Verdict};

use super::print_json;
use crate::args::PeriodArgs;
use crate::context::Ctx;

/// The output a marked copy is written as, by the file name.
fn marked_kind(output: &Path) -> anyhow::Result<&'static str> {
    match output.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("docx") => Ok("docx"),
        Some("html" | "htm") => Ok("html"),
        _ => anyhow::bail!("-o 的文件「{}」应以 .docx（带批注的 Word）或 .html（标色的网页）结尾", output.display()),
    }
}

/// The sentence cut to a window around the figure (about 18 chars before, 12 after).
fn excerpt(sentence: &str, figure: &str) -> String {
    let chars: Vec<char> = sentence.chars().collect();
    let Some(byte) = sentence.find(figure) else { return chars.iter().take(40).collect() };
    let at = sentence[..byte].chars().count();
    let end = at + figure.chars().count();
    let (a, b) = (at.saturating_sub(18), (end + 12).min(chars.len()));
    let lead = if a > 0 { "…" } else { "" };
    let tail = if b < chars.len() { "…" } else { "" };
    format!("{lead}{}{tail}", chars[a..b].iter().collect::<String>())
}

fn line(v: &Verdict) -> String {
    let name = v.indicator.as_deref().unwrap_or("—");
    let ledger = match (v.verdict, &v.ledger) {
        (Outcome::Differs, Some(l)) => format!("台账 {l}（差 {}）", v.difference.as_deref().unwrap_or("")),
        (_, Some(l)) => format!("台账 {l}"),
        (_, None) => "—".to_string(),
    };
    let tail = match v.verdict {
        Outcome::Differs => format!("\t{}", v.explain.as_deref().unwrap_or("")),
        _ => String::new(),
    };
    format!("{}\t{}\t{name}\t{ledger}\t「{}」{tail}", v.verdict.label(), v.written, excerpt(&v.sentence, &v.written))
}

pub async fn verify(ctx: &Ctx, draft: &Path, period: PeriodArgs, json: bool, output: Option<&Path>) -> anyhow::Result<()> {
    let kind = output.map(marked_kind).transpose()?;
    let name = draft.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
    if taizhang_verify::Kind::of_name(&name).is_none() {
        anyhow::bail!("稿件「{}」的格式不支持：应为 .docx、.md、.txt 或 .html", draft.display());
    }
    if !draft.is_file() {
        anyhow::bail!("稿件 {} 不存在", draft.display());
    }
    let bytes = std::fs::read(draft).with_context(|| format!("读取稿件 {} 失败", draft.display()))?;
    let doc = Draft::read(&name, &bytes).map_err(|e| anyhow::anyhow!("稿件 {}：{e}", draft.display()))?;
    let mut tx = ctx.db.read().await?;
    // As `report` does: without a period the year of --as-of, else this year; never as of a
    // day still to come.
    let rc = super::reports::report_context(&mut tx, ctx, &period).await?;
    let opts = Options { template: None, place: period.place.clone() };
    let verdicts = taizhang_verify::verify(&mut tx, &doc.text, &rc, &opts).await?;
    drop(tx);
    let counts = Counts::of(&verdicts);
    if let (Some(out), Some(kind)) = (output, kind) {
        let bytes = match kind {
            "docx" => taizhang_verify::marked_docx(&doc, &verdicts)?,
            _ => taizhang_verify::marked_html::page(&format!("校核：{name}"), &doc.text, &verdicts).into_bytes(),
        };
        if out.canonicalize().ok().is_some_and(|o| draft.canonicalize().ok().is_some_and(|d| d == o)) {
            anyhow::bail!("-o 不能是稿件本身（{}）：校核不改动原稿，请另取文件名", out.display());
        }
        std::fs::write(out, bytes).with_context(|| format!("写入 {} 失败", out.display()))?;
    }
    if json {
        return print_json(&serde_json::json!({
            "draft": name,
            "period": { "start": rc.period.start, "end": rc.period.end, "as_of": rc.as_of },
            "counts": counts,
            "figures": verdicts,
        }));
    }
    println!("校核 {name}（期间 {} 至 {}，时点 {}）", rc.period.start, rc.period.end, rc.as_of);
    println!("共 {} 处数字：一致 {}，不一致 {}，无法对应 {}，无数据 {}", counts.total, counts.agrees, counts.differs, counts.unmatched, counts.no_data);
    if counts.total > 0 {
        println!();
    }
    for v in &verdicts {
        println!("{}", line(v));
    }
    if let Some(out) = output {
        println!("\n已生成 {}", out.display());
    }
    Ok(())
}

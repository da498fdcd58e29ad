//! 校核 (verify): every figure of a hand-written draft checked against the ledgers.
//!
//! A draft (.docx, .md, .txt, .html; `draft`) is searched for figures (`figures`: numbers with
//! their measure words, hedges and denials); each is matched to the indicator its phrase names
//! (`phrases`: the built-in template's text before each `fig`, indicator names and `aliases`;
//! `claims`: the scoring); the indicator is evaluated for the period and place and the written
//! figure judged against it (`verdict`: the rounding rules of numfmt). The outcome is one
//! [`Verdict`] per figure — 一致, 不一致 (with the ledger's value written the draft's way and the
//! `explain` command behind it), 无法对应, 无数据 — and, on request, a marked copy
//! (`marked_docx`: Word comments; `marked_html`: coloured marks).
//!
//! Nothing here knows of the command line: the CLI's `verify` and a web page call [`verify`]
//! with a transaction and a report context of their own scope.

pub mod claims;
pub mod draft;
pub mod error;
pub mod figures;
pub mod marked_docx;
pub mod marked_html;
pub mod phrases;
pub mod verdict;

use std::collections::HashMap;

use serde::Serialize;
use taizhang_domain::ledger::LedgerDef;
use taizhang_reports::{eval, indicator, render, Context, IndicatorDef};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{ledgers, Tx};

pub use draft::{Draft, Kind};
pub use error::{Result, VerifyError};
pub use figures::{Mention, Qualifier};
pub use phrases::PhraseTable;

use crate::verdict::Ledger;

/// The four outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    #[serde(rename = "一致")]
    Agrees,
    #[serde(rename = "不一致")]
    Differs,
    #[serde(rename = "无法对应")]
    Unmatched,
    #[serde(rename = "无数据")]
    NoData,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Agrees => "一致",
            Outcome::Differs => "不一致",
            Outcome::Unmatched => "无法对应",
            Outcome::NoData => "无数据",
        }
    }
}

/// One figure of the draft and what the ledgers say of it.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub verdict: Outcome,
    /// The figure as written ("1000余份", "无涉军信访问题").
    pub written: String,
    /// Char offsets in the draft's text.
    pub start: usize,
    pub end: usize,
    pub key: Option<String>,
    pub indicator: Option<String>,
    /// The ledger's value written as the draft would write it ("146.35万元").
    pub ledger: Option<String>,
    /// The raw value (分 for money, else at the indicator's scale).
    pub ledger_value: Option<i64>,
    /// Ledger minus draft, in the draft's unit ("+15户").
    pub difference: Option<String>,
    /// The command that lists the records behind the ledger's value.
    pub explain: Option<String>,
    /// The words the figure was matched by.
    pub matched: Option<String>,
    /// The sentence around the figure.
    pub sentence: String,
    /// The paragraph (0-based, lines of the text) and char offsets within it.
    pub paragraph: usize,
    pub paragraph_start: usize,
}

impl Verdict {
    /// One line of explanation, for a comment or a title.
    pub fn note(&self) -> String {
        let name = self.indicator.as_deref().unwrap_or("");
        match self.verdict {
            Outcome::Agrees => format!("一致：{name}，台账 {}", self.ledger.as_deref().unwrap_or("")),
            Outcome::Differs => format!(
                "不一致：{name}，台账为 {}（差 {}）；查看：{}",
                self.ledger.as_deref().unwrap_or(""),
                self.difference.as_deref().unwrap_or(""),
                self.explain.as_deref().unwrap_or("")
            ),
            Outcome::Unmatched => "无法对应：没有认出这个数字说的是哪项指标".to_string(),
            Outcome::NoData => format!("无数据：{name}所依据的台账在该期间没有记录，数字无从核对"),
        }
    }
}

/// How many figures of each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub total: usize,
    #[serde(rename = "一致")]
    pub agrees: usize,
    #[serde(rename = "不一致")]
    pub differs: usize,
    #[serde(rename = "无法对应")]
    pub unmatched: usize,
    #[serde(rename = "无数据")]
    pub no_data: usize,
}

impl Counts {
    pub fn of(verdicts: &[Verdict]) -> Counts {
        let n = |o| verdicts.iter().filter(|v| v.verdict == o).count();
        Counts { total: verdicts.len(), agrees: n(Outcome::Agrees), differs: n(Outcome::Differs), unmatched: n(Outcome::Unmatched), no_data: n(Outcome::NoData) }
    }
}

/// What to verify against besides the report context.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The template whose phrases name the indicators (default: the built-in annual summary).
    pub template: Option<String>,
    /// The place as the user named it, for the `explain` command shown.
    pub place: Option<String>,
}

/// The phrase table of a template source and the built-in indicators.
pub fn phrase_table(template: Option<&str>) -> Result<(PhraseTable, Vec<IndicatorDef>)> {
    let inds = indicator::builtin()?;
    let source = match template {
        Some(t) => t,
        None => render::builtin_template("annual_summary").ok_or_else(|| VerifyError::Input("没有内置模板 annual_summary".into()))?,
    };
    Ok((PhraseTable::build(source, &inds), inds))
}

/// The figures of `text` with the indicator each claims (none where nothing matched), pure:
/// no database. Unmatched denials are left out — 无 before a word is mostly no figure at all.
pub fn claims(text: &str, table: &PhraseTable) -> Vec<(Mention, Option<claims::Claim>)> {
    let mentions = figures::find(text);
    let chars: Vec<char> = text.chars().map(figures::fold_width).collect();
    let marks: Vec<(usize, usize)> = mentions.iter().map(|m| (m.start, m.end)).collect();
    let mut phrases: Vec<figures::Phrase> = Vec::with_capacity(mentions.len());
    for (i, m) in mentions.iter().enumerate() {
        let (p, follows) = figures::phrase_before(&chars, m.start, &marks);
        let p = if (follows || m.follows) && i > 0 { phrases[i - 1].clone() } else { p };
        phrases.push(p);
    }
    let matched = claims::match_all(&mentions, &phrases, table);
    mentions.into_iter().zip(matched).filter(|(m, c)| m.qualifier != Qualifier::Zero || c.is_some()).collect()
}

/// The sentence around char offsets `[s, e)`, at most some 40 chars either side.
fn sentence(chars: &[char], s: usize, e: usize) -> String {
    let mut a = s;
    while a > 0 && !figures::is_sentence_end(chars[a - 1]) && s - a < 40 {
        a -= 1;
    }
    let mut b = e;
    while b < chars.len() && !figures::is_sentence_end(chars[b]) && b - e < 40 {
        b += 1;
    }
    if b < chars.len() && chars[b] != '\n' {
        b += 1;
    }
    chars[a..b].iter().collect::<String>().trim().to_string()
}

fn explain_command(key: &str, ctx: &Context, place: Option<&str>) -> String {
    use chrono::Datelike;
    let y = ctx.period.end.year();
    let period = if ctx.period == taizhang_domain::period::Period::year(y) {
        format!("--year {y}")
    } else {
        format!("--period {}..{}", ctx.period.start, ctx.period.end)
    };
    let as_of = if ctx.as_of != ctx.period.end { format!(" --as-of {}", ctx.as_of) } else { String::new() };
    let place = place.map(|p| format!(" --place {p}")).unwrap_or_default();
    format!("taizhang explain {key} {period}{as_of}{place}")
}

/// Whether the spec the template writes this figure with gives exactly the draft's text.
fn agrees_by_spec(m: &Mention, value: i64, scale: u8, spec: &str) -> bool {
    let Ok(text) = render::format_scaled(value, scale, spec) else { return false };
    let core = m.text.trim_start_matches(['约', '近', '逾']).trim_start_matches("大约").trim_start_matches("将近");
    let Some(rest) = core.strip_prefix(text.as_str()) else { return false };
    rest.is_empty() || rest == m.unit || (m.is_money() && rest == "万元")
}

/// Verifies a draft's text against the ledgers for the context's period and place.
pub async fn verify(tx: &mut Tx, text: &str, ctx: &Context, opts: &Options) -> Result<Vec<Verdict>> {
    let (table, inds) = phrase_table(opts.template.as_deref())?;
    let defs = ledgers::all(tx).await?;
    verify_with(tx, text, ctx, opts, &table, &inds, &defs).await
}

/// [`verify`] with the phrase table, indicators and ledger definitions at hand (a page that
/// verifies often keeps them).
pub async fn verify_with(tx: &mut Tx, text: &str, ctx: &Context, opts: &Options, table: &PhraseTable, inds: &[IndicatorDef], defs: &[LedgerDef]) -> Result<Vec<Verdict>> {
    let chars: Vec<char> = text.chars().collect();
    let mut para_starts = vec![0usize];
    for (i, c) in chars.iter().enumerate() {
        if *c == '\n' {
            para_starts.push(i + 1);
        }
    }
    let mut figures: HashMap<String, eval::Figure> = HashMap::new();
    let mut has_records: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for (m, claim) in claims(text, table) {
        let paragraph = para_starts.partition_point(|s| *s <= m.start).saturating_sub(1);
        let mut v = Verdict {
            verdict: Outcome::Unmatched,
            written: m.text.clone(),
            start: m.start,
            end: m.end,
            key: None,
            indicator: None,
            ledger: None,
            ledger_value: None,
            difference: None,
            explain: None,
            matched: None,
            sentence: sentence(&chars, m.start, m.end),
            paragraph,
            paragraph_start: para_starts[paragraph],
        };
        let Some(claim) = claim else {
            out.push(v);
            continue;
        };
        let entry = &table.entries[claim.entry];
        let Some(ind) = inds.iter().find(|i| i.key == entry.key) else {
            out.push(v);
            continue;
        };
        let def = eval::ledger_of(ind, defs)?;
        if !figures.contains_key(&ind.key) {
            let f = eval::evaluate(tx, ind, def, ctx).await?;
            figures.insert(ind.key.clone(), f);
        }
        if !has_records.contains_key(&def.key) {
            let q = RecordQuery { period: Some(ctx.period.clone()), ..Default::default() };
            let n = records::count(tx, def, &ctx.scope, &q).await?;
            has_records.insert(def.key.clone(), n > 0);
        }
        let Some(f) = figures.get(&ind.key) else { continue };
        let ledger = Ledger { value: f.value, scale: if f.unit == "元" { 2 } else { i32::from(f.scale) } };
        v.key = Some(ind.key.clone());
        v.indicator = Some(ind.name.clone());
        v.matched = Some(claim.matched.clone());
        v.ledger_value = Some(f.value);
        v.explain = Some(explain_command(&ind.key, ctx, opts.place.as_deref()));
        let shown = verdict::as_written(ledger, &m);
        v.ledger = Some(if m.qualifier == Qualifier::Zero { format!("{shown}{}", f.unit) } else { shown });
        // 无数据: the ledger holds no record in the period (as `reports::warnings` finds it) and
        // the figure is zero — a figure counted from records dated by another field (a
        // contribution's 所属年度) has records behind it after all, and is judged.
        if f.value == 0 && !has_records.get(&def.key).copied().unwrap_or(false) {
            v.verdict = Outcome::NoData;
            out.push(v);
            continue;
        }
        let by_spec = entry.spec.as_deref().is_some_and(|s| m.qualifier != Qualifier::Zero && agrees_by_spec(&m, f.value, f.scale, s));
        if by_spec || verdict::agrees(&m.number, m.qualifier, ledger) {
            v.verdict = Outcome::Agrees;
        } else {
            v.verdict = Outcome::Differs;
            v.difference = Some(if m.qualifier == Qualifier::Zero { format!("{}{}", f.value, f.unit) } else { verdict::difference(ledger, &m) });
        }
        out.push(v);
    }
    Ok(out)
}

/// The marked Word copy of a draft: the original annotated for a .docx, else a new .docx of
/// its text; a comment per figure.
pub fn marked_docx(draft: &Draft, verdicts: &[Verdict]) -> Result<Vec<u8>> {
    let notes: Vec<marked_docx::Note> = verdicts
        .iter()
        .map(|v| marked_docx::Note { paragraph: v.paragraph, start: v.start - v.paragraph_start, end: v.end - v.paragraph_start, text: v.note() })
        .collect();
    match &draft.docx {
        Some(bytes) => marked_docx::annotate(bytes, &notes),
        None => marked_docx::annotate(&marked_docx::plain_docx(&draft.text)?, &notes),
    }
}

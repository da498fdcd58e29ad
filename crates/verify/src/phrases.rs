//! The phrase table: for each indicator, the words a summary puts before its figure.
//!
//! The best source is the built-in template: it is the seed's own text with `fig("key", spec)`
//! and `hp("h", "p")` where the figures stood, so the literal text before each call is the
//! phrase a writer uses for that indicator ("参加镇党委理论学习中心组" before
//! `fig("study_central_group")`), the text after it its measure word, and its spec how the
//! figure is written. `{% if value("k") == 0 %}无…{% else %}` gives the denial of `k`.
//! Indicator names and their `aliases` (catalogue/indicators/*.toml) add the wordings the
//! template does not hold — a clerk teaches a new one there, without code.

use serde::Serialize;
use taizhang_reports::IndicatorDef;

use crate::figures::{split_phrase, unit_at, Phrase};

/// Where a phrase came from; a template phrase is the surest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Template,
    Alias,
    Name,
    /// The text a template writes when the figure is zero ("无涉军信访问题").
    Denial,
}

/// One wording of one indicator.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub key: String,
    pub phrase: Phrase,
    /// The measure word the template writes after the figure ("元" for money), or the
    /// indicator's unit.
    pub unit: String,
    /// The template's number format for the figure ("approx:10", "wan"), if any.
    pub spec: Option<String>,
    pub source: Source,
    /// Order of the figure in the template (both halves of `hp` share it): drafts follow the
    /// template's order, which breaks ties between equal phrases.
    pub seq: usize,
}

/// Every wording known, from the template and the indicator definitions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PhraseTable {
    pub entries: Vec<Entry>,
}

enum Token {
    Text(String),
    /// A `fig`/`hp` call: (key, spec, fixed unit) per figure written.
    Figure(Vec<(String, Option<String>, Option<&'static str>)>),
    /// `{% if value("k") == 0 %}` or `{% if nothing("k") %}`: the next text is k's denial.
    ZeroIf(String),
    /// `"无涉军信访问题" if nothing("k")`: k's denial.
    Denial(String, String),
    /// `("一般隐患", "hazards_gas_general")`: a label and the key a loop writes after it.
    Pair(String, String),
    Other,
}

/// The string literal arguments of a call `name(` … `)` at the start of `expr`; `None` when an
/// argument is not a plain literal (`fig("projects_" ~ key ~ "_count")`).
fn literal_args(expr: &str, name: &str) -> Option<Vec<String>> {
    let rest = expr.trim().strip_prefix(name)?.trim_start().strip_prefix('(')?;
    let mut args = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next()? {
            '"' | '\'' => {
                let mut s = String::new();
                for c in chars.by_ref() {
                    if c == '"' || c == '\'' {
                        break;
                    }
                    s.push(c);
                }
                args.push(s);
            }
            ')' => return Some(args),
            _ => return None,
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next()? {
            ',' => continue,
            ')' => return Some(args),
            _ => return None,
        }
    }
}

fn tokens(source: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut rest = source;
    let mut trim_next = false;
    while !rest.is_empty() {
        let next = ["{{", "{%", "{#"].iter().filter_map(|m| rest.find(m)).min();
        let Some(at) = next else {
            out.push(Token::Text(if trim_next { rest.trim_start() } else { rest }.to_string()));
            break;
        };
        let mut text = &rest[..at];
        if trim_next {
            text = text.trim_start();
        }
        let open = &rest[at..at + 2];
        let close = match open {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        let body_start = at + 2;
        let Some(end_rel) = rest[body_start..].find(close) else { break };
        let mut body = &rest[body_start..body_start + end_rel];
        if body.starts_with('-') {
            text = text.trim_end();
            body = &body[1..];
        }
        trim_next = body.ends_with('-');
        if trim_next {
            body = &body[..body.len() - 1];
        }
        if !text.is_empty() {
            out.push(Token::Text(text.to_string()));
        }
        let body = body.trim();
        match open {
            "{%" if zero_if(body).is_some() => out.extend(zero_if(body).map(Token::ZeroIf)),
            "{{" | "{%" => expression(body, &mut out),
            _ => out.push(Token::Other),
        }
        rest = &rest[body_start + end_rel + 2..];
    }
    out
}

/// A piece of a template expression.
#[derive(Debug, PartialEq)]
enum Piece {
    Str(String),
    Tilde,
    If,
    Else,
    Open,
    Comma,
    /// `nothing("k")`.
    Nothing(String),
    Figure(Vec<(String, Option<String>, Option<&'static str>)>),
    Other,
}

/// The text a template expression writes, as tokens: string literals joined by `~` (or the
/// branches of `a if c else b`) are prose, `fig`/`hp` calls figures, anything else a gap; the
/// string before `if nothing("k")` is k's denial. Arguments of other calls (`has("k")`,
/// `join("，")`) are no prose.
fn expression(body: &str, out: &mut Vec<Token>) {
    let chars: Vec<char> = body.chars().collect();
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                s.push(chars[i]);
                i += 1;
            }
            i += 1;
            pieces.push(Piece::Str(s));
        } else if c == '~' {
            pieces.push(Piece::Tilde);
            i += 1;
        } else if c == '[' {
            pieces.push(Piece::Open);
            i += 1;
        } else if c == ',' {
            pieces.push(Piece::Comma);
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let s = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            let ident: String = chars[s..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if chars.get(j) == Some(&'(') {
                let end = balanced(&chars, j);
                let call: String = chars[s..end].iter().collect();
                i = end;
                pieces.push(match ident.as_str() {
                    "fig" => literal_args(&call, "fig").filter(|a| !a.is_empty()).map_or(Piece::Other, |a| Piece::Figure(vec![(a[0].clone(), a.get(1).cloned(), None)])),
                    // `money("k", "wan:1")` writes the amount with its unit ("200.2万元").
                    "money" => literal_args(&call, "money").filter(|a| !a.is_empty()).map_or(Piece::Other, |a| Piece::Figure(vec![(a[0].clone(), a.get(1).cloned(), Some("元"))])),
                    "hp" => literal_args(&call, "hp").filter(|a| a.len() == 2).map_or(Piece::Other, |a| Piece::Figure(vec![(a[0].clone(), None, Some("户")), (a[1].clone(), None, Some("人"))])),
                    "nothing" => literal_args(&call, "nothing").and_then(|a| a.first().cloned()).map_or(Piece::Other, Piece::Nothing),
                    _ => Piece::Other,
                });
            } else {
                pieces.push(match ident.as_str() {
                    "if" => Piece::If,
                    "else" => Piece::Else,
                    _ => Piece::Other,
                });
            }
        } else {
            pieces.push(Piece::Other);
            i += 1;
        }
    }
    let joins = |p: Option<&Piece>| matches!(p, Some(Piece::Tilde | Piece::If | Piece::Else));
    // A list item starts a clause of its own: `["调处…" ~ fig(…) ~ "起"]`.
    let mut item_start = false;
    for k in 0..pieces.len() {
        if pieces[k] == Piece::Open {
            item_start = true;
        }
        match &pieces[k] {
            Piece::Str(s) => {
                if pieces.get(k + 1) == Some(&Piece::If) {
                    if let Some(Piece::Nothing(key)) = pieces.get(k + 2) {
                        out.push(Token::Denial(key.clone(), s.clone()));
                        continue;
                    }
                }
                let prev = k.checked_sub(1).and_then(|p| pieces.get(p));
                if joins(prev) || joins(pieces.get(k + 1)) {
                    if std::mem::take(&mut item_start) {
                        out.push(Token::Text("，".into()));
                    }
                    out.push(Token::Text(s.clone()));
                }
            }
            Piece::Figure(f) => {
                item_start = false;
                out.push(Token::Figure(f.clone()));
            }
            // `("一般隐患", "hazards_gas_general")`: a label paired with a key, for a loop that
            // writes `label ~ fig(key)`.
            Piece::Comma if k >= 1 => {
                if let (Some(Piece::Str(label)), Some(Piece::Str(key))) = (pieces.get(k - 1), pieces.get(k + 1)) {
                    let is_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                    if is_key && !label.is_ascii() {
                        out.push(Token::Pair(label.clone(), key.clone()));
                    }
                }
            }
            _ => {}
        }
    }
}

/// The index after the parenthesis that closes the one at `open`, strings skipped.
fn balanced(chars: &[char], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    chars.len()
}

/// `if value("k") == 0` or `if nothing("k")` → k.
fn zero_if(body: &str) -> Option<String> {
    let cond = body.strip_prefix("if ")?.trim();
    if let Some(args) = literal_args(cond, "nothing") {
        return (cond.ends_with(')') && cond.matches('(').count() == 1).then(|| args.first().cloned()).flatten();
    }
    let args = literal_args(cond, "value")?;
    let after = cond[cond.find(')')? + 1..].trim();
    (after == "== 0").then(|| args.first().cloned()).flatten()
}

fn is_money_spec(spec: Option<&str>) -> bool {
    spec.and_then(|s| taizhang_domain::numfmt::parse_format(s).ok()).is_some_and(|f| f.is_money())
}

impl PhraseTable {
    /// The table of a template's source and the indicator definitions.
    pub fn build(template: &str, inds: &[IndicatorDef]) -> PhraseTable {
        let mut entries = Vec::new();
        // The template's text so far, figures as '#'.
        let mut acc: Vec<char> = Vec::new();
        let mut pending_units: Vec<usize> = Vec::new();
        let mut zero_key: Option<String> = None;
        let mut seq = 0;
        let mut last: Option<(Phrase, bool)> = None;
        for tok in tokens(template) {
            match tok {
                Token::Text(t) => {
                    let mut chars: Vec<char> = t.chars().collect();
                    if !pending_units.is_empty() {
                        // The measure word after the figure belongs to it: "{{ fig(…) }}户".
                        if let Some(u) = unit_at(&chars, 0).or_else(|| (chars.first() == Some(&'万') && unit_at(&chars, 1) == Some("元")).then_some("万元")) {
                            for &i in &pending_units {
                                let e: &mut Entry = &mut entries[i];
                                if e.unit.is_empty() {
                                    e.unit = if u == "万元" { "元".into() } else { u.to_string() };
                                }
                            }
                            chars.drain(..u.chars().count());
                        }
                        pending_units.clear();
                    }
                    if let Some(k) = zero_key.take() {
                        let denial: String = chars.iter().take_while(|c| !crate::figures::is_clause_end(**c)).collect();
                        if denial.chars().count() >= 2 {
                            entries.push(Entry {
                                key: k,
                                phrase: Phrase { near: denial, far: String::new() },
                                unit: String::new(),
                                spec: None,
                                source: Source::Denial,
                                seq,
                            });
                        }
                    }
                    acc.extend(chars);
                }
                Token::Figure(figs) => {
                    let (phrase, follows) = split_phrase(&tail(&acc));
                    let phrase = match (&last, follows) {
                        (Some((p, _)), true) => p.clone(),
                        _ => phrase,
                    };
                    seq += 1;
                    for (key, spec, unit) in figs {
                        let unit = match unit {
                            Some(u) => u.to_string(),
                            None if is_money_spec(spec.as_deref()) => "元".to_string(),
                            None => String::new(),
                        };
                        if unit.is_empty() || unit == "元" {
                            pending_units.push(entries.len());
                        }
                        entries.push(Entry { key, phrase: phrase.clone(), unit, spec, source: Source::Template, seq });
                    }
                    last = Some((phrase, follows));
                    acc.push('#');
                }
                Token::ZeroIf(k) => zero_key = Some(k),
                Token::Pair(label, key) => {
                    if let Some(ind) = inds.iter().find(|i| i.key == key) {
                        entries.push(Entry {
                            key,
                            phrase: Phrase { near: label, far: String::new() },
                            unit: ind.unit.clone(),
                            spec: None,
                            source: Source::Alias,
                            seq,
                        });
                    }
                }
                Token::Denial(k, text) => entries.push(Entry {
                    key: k,
                    phrase: Phrase { near: text, far: String::new() },
                    unit: String::new(),
                    spec: None,
                    source: Source::Denial,
                    seq,
                }),
                Token::Other => {}
            }
        }
        for (i, ind) in inds.iter().enumerate() {
            let unit = ind.unit.clone();
            for alias in &ind.aliases {
                entries.push(Entry {
                    key: ind.key.clone(),
                    phrase: Phrase { near: alias.clone(), far: String::new() },
                    unit: unit.clone(),
                    spec: None,
                    source: Source::Alias,
                    seq: usize::MAX - inds.len() + i,
                });
            }
            // The name without its counting suffix ("农村低保户数" → "农村低保户").
            let name = ind.name.trim_end_matches("人数").trim_end_matches("户数").trim_end_matches("个数").trim_end_matches('数');
            if name.chars().count() >= 2 {
                entries.push(Entry {
                    key: ind.key.clone(),
                    phrase: Phrase { near: name.to_string(), far: String::new() },
                    unit,
                    spec: None,
                    source: Source::Name,
                    seq: usize::MAX - inds.len() + i,
                });
            }
        }
        PhraseTable { entries }
    }
}

/// The template's text back to the start of the current sentence.
fn tail(acc: &[char]) -> Vec<char> {
    let mut s = acc.len();
    while s > 0 && !crate::figures::is_sentence_end(acc[s - 1]) && acc.len() - s < 80 {
        s -= 1;
    }
    acc[s..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_gives_phrase_unit_and_spec() {
        let t = r#"参加镇党委理论学习中心组{{ fig("a") }}次，完成天然林补贴发放{{ fig("h") }}户{{ fig("m", "wan:0") }}万元；发放临时救助{{ fig("t") }}户，共计{{ fig("tm", "wan:0") }}万元。脱贫户{{ hp("ph", "pp") }}，{%- if value("z") == 0 %}无涉军信访问题{% else %}涉军信访{{ fig("z") }}件{% endif %}。"#;
        let table = PhraseTable::build(t, &[]);
        let e = |k: &str| table.entries.iter().find(|e| e.key == k && e.source == Source::Template).cloned().unwrap_or_else(|| panic!("{k}"));
        assert_eq!(e("a").phrase.near, "参加镇党委理论学习中心组");
        assert_eq!(e("a").unit, "次");
        assert_eq!(e("m").phrase.near, "完成天然林补贴发放");
        assert_eq!(e("m").unit, "元");
        assert_eq!(e("m").spec.as_deref(), Some("wan:0"));
        assert_eq!(e("tm").phrase.near, "共计");
        assert_eq!(e("tm").phrase.far, "发放临时救助");
        assert_eq!(e("pp").unit, "人");
        assert_eq!(e("pp").phrase.near, "脱贫户");
        assert!(table.entries.iter().any(|e| e.key == "z" && e.source == Source::Denial && e.phrase.near == "无涉军信访问题"));
        assert_eq!(e("z").unit, "件");
    }

    #[test]
    fn figures_inside_expressions() {
        let t = r#"{%- if has("e") %}{% set p.t = (p.t + ["调处企业各类矛盾纠纷" ~ fig("e") ~ "起"]) | list %}{% endif %}{%- if has("f") %}{% set p.t = (p.t + ["发表助企纾困文章" ~ fig("f") ~ "篇"]) | list %}{% endif %}{{ p.t | join("，") }}{% set m.t = (m.t + ["涉军维稳工作方面，" ~ ("无涉军信访问题" if nothing("pm") else "涉军信访" ~ fig("pm") ~ "件")]) | list %}{% set a.t = (a.t + ["五保对象共" ~ hp("dh", "dp") ~ ("，其中集中供养" ~ hp("ch", "cp") if has("ch") else "") ~ (("，分散供养" if has("ch") else "，其中分散供养") ~ hp("sh", "sp") if has("sh") else "")]) | list %}"#;
        let table = PhraseTable::build(t, &[]);
        let e = |k: &str| table.entries.iter().find(|e| e.key == k && e.source == Source::Template).cloned().unwrap_or_else(|| panic!("{k}"));
        assert_eq!((e("e").phrase.near.as_str(), e("e").unit.as_str()), ("调处企业各类矛盾纠纷", "起"));
        assert_eq!((e("f").phrase.near.as_str(), e("f").unit.as_str()), ("发表助企纾困文章", "篇"));
        assert_eq!((e("pm").phrase.near.as_str(), e("pm").unit.as_str()), ("涉军信访", "件"));
        assert!(table.entries.iter().any(|e| e.key == "pm" && e.source == Source::Denial && e.phrase.near == "无涉军信访问题"));
        assert_eq!(e("cp").phrase.near, "其中集中供养");
        assert_eq!(e("sp").phrase.near, "其中分散供养");
        assert_eq!(e("dh").phrase.near, "五保对象共");
    }

    #[test]
    fn a_computed_key_is_left_to_aliases() {
        let t = r#"{{ label }}{{ fig("projects_" ~ key ~ "_count") }}{{ unit }}"#;
        assert!(PhraseTable::build(t, &[]).entries.is_empty());
    }
}

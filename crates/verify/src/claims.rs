//! Which indicator each figure claims: the phrase before it against the phrase table.
//!
//! A candidate scores by the longest run of characters its phrase shares with the clause right
//! before the figure (weighted most), plus what it shares with the clause before that, plus a
//! bonus for the same measure word; a measure word of another kind (户 against 人, 元 against
//! 次) rules it out. A figure whose best score stays under the threshold claims nothing
//! (无法对应). Ties go to the candidate whose phrase is covered best, then to the one that
//! follows the previous match in the template's order.

use serde::Serialize;

use crate::figures::{Mention, Phrase, Qualifier};
use crate::phrases::{Entry, PhraseTable, Source};

/// The indicator a figure claims, with why.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// Index into the phrase table.
    pub entry: usize,
    pub score: u32,
    /// The shared words that decided it.
    pub matched: String,
}

/// The kind of a measure word: figures of different kinds never claim each other.
pub fn unit_class(u: &str) -> &str {
    match u {
        "元" => "money",
        "户" | "户次" => "household",
        "人" | "名" | "人次" | "位" => "person",
        "亩" | "平方米" | "公顷" => "area",
        "米" | "公里" | "千米" => "length",
        "%" => "percent",
        "年" => "year",
        "天" | "小时" | "周" | "个月" => "time",
        "" => "",
        _ => "thing",
    }
}

/// Longest common substring of two strings, in chars, and the substring.
pub fn common(a: &str, b: &str) -> (usize, String) {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() || b.is_empty() {
        return (0, String::new());
    }
    let mut prev = vec![0usize; b.len() + 1];
    let mut best = (0, 0);
    for i in 1..=a.len() {
        let mut cur = vec![0usize; b.len() + 1];
        for j in 1..=b.len() {
            if a[i - 1] == b[j - 1] {
                cur[j] = prev[j - 1] + 1;
                if cur[j] > best.0 {
                    best = (cur[j], i);
                }
            }
        }
        prev = cur;
    }
    (best.0, a[best.1 - best.0..best.1].iter().collect())
}

/// Minimum score for a claim: a two-character match alone (共计, 其中) is not enough.
pub const THRESHOLD: u32 = 10;

fn score(m: &Mention, phrase: &Phrase, e: &Entry) -> Option<(u32, u32, String)> {
    let denial = m.qualifier == Qualifier::Zero;
    if denial != (e.source == Source::Denial) && !(denial && e.source == Source::Template) {
        return None;
    }
    if !denial {
        let (a, b) = (unit_class(&m.unit), unit_class(&e.unit));
        if !b.is_empty() && a != b {
            return None;
        }
    }
    let near = if denial { m.text.trim_start_matches('无').to_string() } else { phrase.near.clone() };
    let target = if e.source == Source::Denial { e.phrase.near.trim_start_matches('无') } else { e.phrase.near.as_str() };
    let (n, words) = common(&near, target);
    if n < 2 {
        return None;
    }
    let (f, _) = if e.phrase.far.is_empty() { (0, String::new()) } else { common(&phrase.far, &e.phrase.far) };
    let f = if f >= 2 { f.min(8) } else { 0 };
    let unit_bonus = if !denial && m.unit == e.unit { 2 } else { 0 };
    // How much of the entry's phrase is covered, in per mille, for ties.
    let cover = u32::try_from(1000 * n / target.chars().count().max(1)).unwrap_or(0);
    // The whole of the entry's phrase found ("打井" before "2处") counts more than a part.
    let whole = if n == target.chars().count() { 4 } else { 0 };
    let s = u32::try_from(3 * n + f).unwrap_or(0) + unit_bonus + whole;
    Some((s, cover, words))
}

/// The claim of each mention (in order), `None` where nothing scores above the threshold.
pub fn match_all(mentions: &[Mention], phrases: &[Phrase], table: &PhraseTable) -> Vec<Option<Claim>> {
    let mut out: Vec<Option<Claim>> = Vec::with_capacity(mentions.len());
    let mut last_seq: Option<usize> = None;
    for (m, p) in mentions.iter().zip(phrases) {
        let mut best: Option<(u32, u32, u32, usize, String)> = None;
        for (i, e) in table.entries.iter().enumerate() {
            let Some((s, cover, words)) = score(m, p, e) else { continue };
            // Drafts follow the template: the next figure in its order wins a tie.
            let order = match (last_seq, e.source) {
                (Some(l), Source::Template | Source::Denial) if e.seq > l && e.seq <= l + 3 => 2,
                (Some(l), Source::Template | Source::Denial) if e.seq == l => 1,
                _ => 0,
            };
            let source = match e.source {
                Source::Template | Source::Denial => 2,
                Source::Alias => 1,
                Source::Name => 0,
            };
            let rank = (s, cover + order * 10, source);
            if best.as_ref().is_none_or(|b| (b.0, b.1, b.2) < rank) {
                best = Some((rank.0, rank.1, rank.2, i, words));
            }
        }
        let claim = best.filter(|b| b.0 >= THRESHOLD).map(|b| Claim { entry: b.3, score: b.0, matched: b.4 });
        if let Some(c) = &claim {
            let e = &table.entries[c.entry];
            if matches!(e.source, Source::Template | Source::Denial) {
                last_seq = Some(e.seq);
            }
        }
        out.push(claim);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_common_run() {
        assert_eq!(common("其中未消除风险监测对", "其中未消除风险监测对象"), (10, "其中未消除风险监测对".into()));
        assert_eq!(common("共计", "生活费共计").0, 2);
        assert_eq!(common("", "x").0, 0);
    }
}

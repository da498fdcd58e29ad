//! The marked HTML: the draft's text with each figure coloured by its verdict (green 一致,
//! red 不一致, grey 无法对应, amber 无数据) and the verdict and ledger value as its `title`.

use crate::{Outcome, Verdict};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn class(o: Outcome) -> &'static str {
    match o {
        Outcome::Agrees => "agrees",
        Outcome::Differs => "differs",
        Outcome::Unmatched => "unmatched",
        Outcome::NoData => "nodata",
    }
}

/// The text's paragraphs with their figures marked, as an HTML fragment (no page around it),
/// for a page that shows it within its own layout.
pub fn fragment(text: &str, verdicts: &[Verdict]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut sorted: Vec<&Verdict> = verdicts.iter().collect();
    sorted.sort_by_key(|v| v.start);
    let mut out = String::from("<p>");
    let mut at = 0;
    let plain = |out: &mut String, a: usize, b: usize| {
        let s: String = chars[a..b].iter().collect();
        out.push_str(&escape(&s).replace('\n', "</p>\n<p>"));
    };
    for v in sorted {
        if v.start < at || v.end > chars.len() {
            continue;
        }
        plain(&mut out, at, v.start);
        let body: String = chars[v.start..v.end].iter().collect();
        out.push_str(&format!("<mark class=\"{}\" title=\"{}\">{}</mark>", class(v.verdict), escape(&v.note()), escape(&body)));
        at = v.end;
    }
    plain(&mut out, at, chars.len());
    out.push_str("</p>");
    out
}

/// A whole page: the counts, a legend and the marked text.
pub fn page(title: &str, text: &str, verdicts: &[Verdict]) -> String {
    let c = crate::Counts::of(verdicts);
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{t}</title><style>\n\
body{{font-family:\"FangSong\",\"仿宋\",serif;max-width:48em;margin:2em auto;line-height:1.9;font-size:16pt}}\n\
mark{{padding:0 .1em;border-radius:.2em}}\nmark.agrees{{background:#c8f0c8}}\nmark.differs{{background:#f6b3b3}}\n\
mark.unmatched{{background:#e0e0e0}}\nmark.nodata{{background:#ffd98a}}\n.counts{{font-family:sans-serif;font-size:11pt}}\n\
</style></head><body>\n<h1>{t}</h1>\n<p class=\"counts\">共 {n} 处数字：<mark class=\"agrees\">一致 {a}</mark> <mark class=\"differs\">不一致 {d}</mark> <mark class=\"unmatched\">无法对应 {u}</mark> <mark class=\"nodata\">无数据 {z}</mark>（鼠标停在数字上看台账数）</p>\n{body}\n</body></html>\n",
        t = escape(title),
        n = verdicts.len(),
        a = c.agrees,
        d = c.differs,
        u = c.unmatched,
        z = c.no_data,
        body = fragment(text, verdicts)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(start: usize, end: usize, verdict: Outcome) -> Verdict {
        Verdict {
            verdict,
            written: String::new(),
            start,
            end,
            key: None,
            indicator: Some("打井处数".into()),
            ledger: Some("3处".into()),
            ledger_value: Some(3),
            difference: Some("+1处".into()),
            explain: Some("taizhang explain water_wells --year 2023".into()),
            matched: None,
            sentence: String::new(),
            paragraph: 0,
            paragraph_start: 0,
        }
    }

    #[test]
    fn figures_are_marked_with_their_verdict_and_note() {
        let html = fragment("打井2处，<水渠>\n护理费13万余元", &[v(2, 4, Outcome::Differs), v(13, 18, Outcome::Agrees)]);
        assert!(html.starts_with("<p>打井<mark class=\"differs\" title=\"不一致：打井处数，台账为 3处（差 +1处）；查看：taizhang explain water_wells --year 2023\">2处</mark>，&lt;水渠&gt;</p>\n<p>护理费"), "{html}");
        assert!(html.contains("<mark class=\"agrees\""), "{html}");
        assert!(page("校核", "打井2处", &[v(2, 4, Outcome::Unmatched)]).contains("无法对应 1"));
    }
}

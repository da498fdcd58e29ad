//! The marked HTML: the draft's text with each figure coloured by its verdict (green 一致,
//! red 不一致, grey 无法对应, amber 无数据) and the verdict and ledger value as its `title`.

use crate::{Outcome, Verdict};

use taizhang_document::escape;

/// The CSS class of a verdict's mark.
pub fn class(o: Outcome) -> &'static str {
    match o {
        Outcome::Agrees => "agrees",
        Outcome::Differs => "differs",
        Outcome::Unmatched => "unmatched",
        Outcome::NoData => "nodata",
    }
}

/// How the marks are written beyond the plain default (a `title` with [`Verdict::note`]): a
/// web page links each recognised figure to its records, words its own tooltip, prefixes its
/// classes and writes the ledger's value beside a 不一致.
pub struct Marks<'a> {
    pub href: Option<&'a dyn Fn(&str) -> String>,
    pub title: &'a dyn Fn(&Verdict) -> String,
    pub class_prefix: &'a str,
    pub notes: bool,
}

/// The text's paragraphs with their figures marked, as an HTML fragment (no page around it).
pub fn fragment(text: &str, verdicts: &[Verdict]) -> String {
    fragment_with(text, verdicts, &Marks { href: None, title: &Verdict::note, class_prefix: "", notes: false })
}

/// [`fragment`], marked as `marks` says.
pub fn fragment_with(text: &str, verdicts: &[Verdict], marks: &Marks<'_>) -> String {
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
        if v.start < at || v.end > chars.len() || v.start > v.end {
            continue;
        }
        plain(&mut out, at, v.start);
        let body = escape(&chars[v.start..v.end].iter().collect::<String>());
        let (c, t) = (format!("{}{}", marks.class_prefix, class(v.verdict)), escape(&(marks.title)(v)));
        match (&v.key, marks.href) {
            (Some(key), Some(href)) => out.push_str(&format!("<a class=\"{c}\" href=\"{}\" title=\"{t}\">{body}</a>", escape(&href(key)))),
            _ => out.push_str(&format!("<mark class=\"{c}\" title=\"{t}\">{body}</mark>")),
        }
        if marks.notes {
            match v.verdict {
                Outcome::Differs => out.push_str(&format!("<span class=\"fig-note differs\">不一致，台账 {}</span>", escape(v.ledger.as_deref().unwrap_or("")))),
                Outcome::NoData => out.push_str("<span class=\"fig-note nodata\">无数据</span>"),
                _ => {}
            }
        }
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

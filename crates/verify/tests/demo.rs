//! 校核 on the demo town 北斗溪镇, on SQLite and PostgreSQL (`both!`):
//! (a) the seed document verified for 2023: every figure the demo reproduces agrees, none
//!     differs, the rest cannot be matched;
//! (b) the seed with ten figures altered: exactly those ten differ, each with the ledger's value;
//! (c) summaries generated for 2022 and for a village (as `report` renders them) verify against
//!     their own period and place: every figure the template wrote agrees with its indicator;
//! (d) the marked .docx holds one comment per figure, for a .txt draft and for a Word draft.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Read;
use std::path::PathBuf;

use taizhang_reports::{indicator, render, Context};
use taizhang_storage::{both, ledgers, Db, Scope};
use taizhang_verify::{Counts, Draft, Kind, Options, Outcome, Verdict};

fn seed() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/seed/beidouxi-2023-summary.txt");
    std::fs::read_to_string(path).expect("the seed copy")
}

async fn check(db: &Db, text: &str, ctx: &Context) -> Vec<Verdict> {
    let mut tx = db.read().await.expect("read");
    taizhang_verify::verify(&mut tx, text, ctx, &Options::default()).await.expect("verify")
}

fn show(vs: &[Verdict], o: Outcome) -> String {
    vs.iter().filter(|v| v.verdict == o).map(|v| format!("  {} {:?} 台账 {:?}「{}」", v.written, v.key, v.ledger, v.sentence)).collect::<Vec<_>>().join("\n")
}

/// The ten alterations of (b): (the seed's text, the altered text, the figure as altered, the
/// ledger's value as the draft writes it).
const ALTERED: [(&str, &str, &str, &str); 10] = [
    ("理论学习中心组11次", "理论学习中心组13次", "13次", "11次"),
    ("组织专题学习7次", "组织专题学习5次", "5次", "7次"),
    ("办理了260余台农机", "办理了280余台农机", "280余台", "260余台"),
    ("脱贫户1330户4785人", "脱贫户1330户4790人", "4790人", "4785人"),
    ("公益林补贴发放453户30.54万元", "公益林补贴发放453户30.64万元", "30.64万元", "30.54万元"),
    ("耕地撂荒图斑核查110处", "耕地撂荒图斑核查120处", "120处", "110处"),
    ("成功化解矛盾纠纷67起", "成功化解矛盾纠纷60起", "60起", "67起"),
    ("横幅标语150条", "横幅标语155条", "155条", "150条"),
    ("养老认证1296人", "养老认证1290人", "1290人", "1296人"),
    ("办理采伐证116份", "办理采伐证118份", "118份", "116份"),
];

/// Every `[text](/explain/key?…)` of rendered Markdown: the text's char span in the plain text
/// (links dropped) and the key (and the `with=` key of `hp`).
/// A figure link: char span, key, and the `with=` key.
type Link = (usize, usize, String, Option<String>);

fn links(md: &str) -> (String, Vec<Link>) {
    let mut plain = String::new();
    let mut out = Vec::new();
    let mut rest = md;
    while let Some(open) = rest.find('[') {
        plain.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find("](/explain/") else {
            plain.push('[');
            rest = after;
            continue;
        };
        if after[..close].contains('[') || after[..close].contains('\n') {
            plain.push('[');
            rest = after;
            continue;
        }
        let text = &after[..close];
        let target_start = close + "](/explain/".len();
        let end = after[target_start..].find(')').map(|e| e + target_start).expect("link end");
        let target = &after[target_start..end];
        let key = target.split('?').next().unwrap_or("").to_string();
        let with = target.split("with=").nth(1).map(|w| w.split('&').next().unwrap_or("").to_string());
        let s = plain.chars().count();
        plain.push_str(text);
        out.push((s, plain.chars().count(), key, with));
        rest = &after[end + 1..];
    }
    plain.push_str(rest);
    (plain, out)
}

/// (c): renders the built-in summary as `report` does and verifies its Markdown against the
/// same context; every figure written by `fig`/`hp` is matched to its own indicator and agrees
/// (or rests on no record: 无数据).
async fn generated(db: &Db, ctx: &Context, label: &str) -> Counts {
    let mut tx = db.read().await.expect("read");
    let defs = ledgers::all(&mut tx).await.expect("ledgers");
    let inds = indicator::builtin().expect("indicators");
    let source = render::builtin_template("annual_summary").expect("template");
    let (text, _) = render::gather_with_data(&mut tx, &inds, &defs, ctx, |data| render::render(source, data)).await.expect("render");
    // The figures the template wrote, from its links; the draft is the Markdown as `report`
    // writes it (links dropped), where each is found again in order.
    let (plain, linked) = links(&text);
    let md = taizhang_document::to_markdown(&taizhang_document::parse_markup(&text));
    let draft = Draft::read_kind(Kind::Markdown, md.as_bytes()).expect("markdown draft");
    let chars: Vec<char> = draft.text.chars().collect();
    let mut figs = Vec::new();
    let mut from = 0;
    for (s, e, key, with) in linked {
        let shown: String = plain.chars().skip(s).take(e - s).collect();
        let needle: Vec<char> = shown.chars().collect();
        let at = (from..chars.len().saturating_sub(needle.len() - 1)).find(|i| chars[*i..*i + needle.len()] == needle[..]).unwrap_or_else(|| panic!("{label}: 「{shown}」 not in the Markdown"));
        figs.push((at, at + needle.len(), key, with));
        from = at + needle.len();
    }
    let vs = taizhang_verify::verify(&mut tx, &draft.text, ctx, &Options::default()).await.expect("verify");
    let mut checked = 0;
    for (s, e, key, with) in &figs {
        let inside: Vec<&Verdict> = vs.iter().filter(|v| v.start < *e && v.end > *s).collect();
        for v in &inside {
            if v.key.is_none() {
                continue;
            }
            let k = v.key.as_deref().unwrap_or("");
            assert!(k == key || with.as_deref() == Some(k), "{label}: {} at {s} is {k}, the template wrote {key}: {}", v.written, v.sentence);
            assert!(matches!(v.verdict, Outcome::Agrees | Outcome::NoData), "{label}: {} {:?} {:?}「{}」", v.written, v.verdict, v.ledger, v.sentence);
            checked += 1;
        }
    }
    let c = Counts::of(&vs);
    println!("{label}: {} 处，一致 {}，不一致 {}，无法对应 {}，无数据 {}；模板数字 {} 处核对 {checked} 处", c.total, c.agrees, c.differs, c.unmatched, c.no_data, figs.len());
    assert_eq!(c.differs, 0, "{label}:\n{}", show(&vs, Outcome::Differs));
    assert!(checked * 10 >= figs.len() * 8, "{label}: only {checked} of {} template figures were matched:\n{}", figs.len(), show(&vs, Outcome::Unmatched));
    c
}

both!(seed_generated_and_marked, |db: Db| async move {
    taizhang_demo::build_town(&db).await.expect("the demo town builds");
    let ctx = Context::year(2023, Scope::all());

    // (a) The seed as it is.
    let seed = seed();
    let vs = check(&db, &seed, &ctx).await;
    let c = Counts::of(&vs);
    println!("(a) 种子文档 2023：{} 处，一致 {}，不一致 {}，无法对应 {}，无数据 {}", c.total, c.agrees, c.differs, c.unmatched, c.no_data);
    println!("无法对应：\n{}", show(&vs, Outcome::Unmatched));
    assert_eq!(c.differs, 0, "不一致:\n{}", show(&vs, Outcome::Differs));
    assert_eq!(c.no_data, 0, "无数据:\n{}", show(&vs, Outcome::NoData));
    assert!(c.agrees >= 110, "{c:?}");
    // What the seed has that is no indicator: ranks, the 35-year-olds, the (one) 级.
    assert!(c.unmatched <= 3, "无法对应:\n{}", show(&vs, Outcome::Unmatched));

    // (b) Ten figures altered.
    let mut altered = seed.clone();
    for (from, to, _, _) in ALTERED {
        assert_eq!(altered.matches(from).count(), 1, "「{from}」 once in the seed");
        altered = altered.replacen(from, to, 1);
    }
    let vs = check(&db, &altered, &ctx).await;
    let differs: Vec<&Verdict> = vs.iter().filter(|v| v.verdict == Outcome::Differs).collect();
    assert_eq!(differs.len(), 10, "不一致:\n{}", show(&vs, Outcome::Differs));
    for (_, to, written, ledger) in ALTERED {
        let v = differs.iter().find(|v| v.written == written && to.contains(&v.written)).unwrap_or_else(|| panic!("「{written}」 not among 不一致:\n{}", show(&vs, Outcome::Differs)));
        assert_eq!(v.ledger.as_deref(), Some(ledger), "{written}");
        assert!(v.explain.as_deref().is_some_and(|e| e.starts_with("taizhang explain ") && e.ends_with("--year 2023")), "{:?}", v.explain);
    }

    // (c) Generated summaries: the town for 2022, a village for 2023.
    generated(&db, &Context::year(2022, Scope::all()), "(c) 全镇 2022").await;
    let village = {
        let mut tx = db.read().await.expect("read");
        tx.fetch_one("SELECT path FROM places WHERE name = '坪溪村'", &[]).await.expect("坪溪村").text(0)
    };
    generated(&db, &Context::year(2023, Scope { path: village }), "(c) 坪溪村 2023").await;

    // (d) The marked Word copy: one comment per figure, from a text draft and from a Word draft.
    let vs = check(&db, &seed, &ctx).await;
    let marked = taizhang_verify::marked_docx(&Draft::from_text(&seed), &vs).expect("marked docx");
    assert_eq!(comments_in(&marked), vs.len());
    let word = taizhang_demo::summary(&db, 2023).await.expect("summary");
    let original = taizhang_document::to_docx(&word.document, &taizhang_document::OfficialStyle::default()).expect("docx");
    let draft = Draft::read("总结.docx", &original).expect("the Word draft reads");
    let vs = check(&db, &draft.text, &ctx).await;
    assert_eq!(Counts::of(&vs).differs, 0, "{}", show(&vs, Outcome::Differs));
    let marked = taizhang_verify::marked_docx(&draft, &vs).expect("marked docx");
    assert_eq!(comments_in(&marked), vs.len());
    // The annotated copy reads as the same text: runs split, nothing lost.
    assert_eq!(Draft::read("批注.docx", &marked).expect("marked reads").text, draft.text);
});

/// The comments of a .docx, counted in word/comments.xml and checked against document.xml.
fn comments_in(docx: &[u8]) -> usize {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("zip");
    let mut part = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap_or_else(|_| panic!("{name}")).read_to_string(&mut s).expect(name);
        s
    };
    let comments = part("word/comments.xml");
    let document = part("word/document.xml");
    let rels = part("word/_rels/document.xml.rels");
    let types = part("[Content_Types].xml");
    assert!(rels.contains("relationships/comments") && types.contains("/word/comments.xml"));
    let mut reader = quick_xml::Reader::from_str(&comments);
    let mut n = 0;
    loop {
        match reader.read_event().expect("comments.xml is well-formed") {
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"w:comment" => n += 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    let mut reader = quick_xml::Reader::from_str(&document);
    loop {
        if let quick_xml::events::Event::Eof = reader.read_event().expect("document.xml is well-formed") {
            break;
        }
    }
    assert_eq!(document.matches("<w:commentRangeStart ").count(), n);
    assert_eq!(document.matches("<w:commentRangeEnd ").count(), n);
    assert_eq!(document.matches("<w:commentReference ").count(), n);
    n
}

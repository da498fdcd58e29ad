//! Properties of the parser and the verdicts: what Taizhang writes, 校核 reads back and finds
//! agreeing with the value it was written from.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use proptest::prelude::*;
use taizhang_domain::numfmt::{format_number, parse_format};
use taizhang_verify::figures::find;
use taizhang_verify::verdict::{agrees, Ledger};
use taizhang_verify::Qualifier;

const UNITS: [&str; 12] = ["户", "人", "次", "期", "起", "个", "条", "处", "亩", "份", "台", "人次"];

fn only(text: &str) -> taizhang_verify::Mention {
    let found = find(text);
    assert_eq!(found.len(), 1, "{text}: {found:?}");
    found.into_iter().next().unwrap()
}

proptest! {
    /// Any integer written with a measure word parses back to itself.
    #[test]
    fn an_integer_with_a_unit_parses_back(n in 0i64..10_000_000_000, u in 0usize..UNITS.len()) {
        let text = format!("共完成{n}{}，", UNITS[u]);
        let m = only(&text);
        prop_assert_eq!(m.number.mantissa, i128::from(n));
        prop_assert_eq!(m.number.exp, 0);
        prop_assert_eq!(m.unit.as_str(), UNITS[u]);
        prop_assert_eq!(m.qualifier, Qualifier::Exact);
        let (same, next) = (Ledger { value: n, scale: 0 }, Ledger { value: n + 1, scale: 0 });
        prop_assert!(agrees(&m.number, m.qualifier, same));
        prop_assert!(!agrees(&m.number, m.qualifier, next));
    }

    /// A count written by numfmt's approximate forms (260余, 3万余) agrees with its value.
    #[test]
    fn approximate_counts_agree_with_their_value(n in 0i64..100_000_000, spec in prop::sample::select(vec!["approx:10", "approx:100", "approx:1000", "approx_wan", "approx_shiwan", "atleast:100:人"])) {
        let f = parse_format(spec).unwrap();
        let written = format_number(n, &f);
        let text = if spec.starts_with("atleast") { format!("达{written}") } else { format!("达{written}人") };
        let m = only(&text);
        let ledger = Ledger { value: n, scale: 0 };
        prop_assert!(agrees(&m.number, m.qualifier, ledger), "{} from {}", text, n);
    }

    /// Money written by numfmt (万元 rounded, 万余, 余万, 以上, 元) agrees with its value in 分.
    #[test]
    fn money_agrees_with_its_value(fen in 0i64..100_000_000_000, spec in prop::sample::select(vec!["wan", "wan:0", "wan:1", "wan_approx", "wan_approx_ten", "wan_atleast", "yuan_int"])) {
        let f = parse_format(spec).unwrap();
        let written = format_number(fen, &f);
        let text = match spec {
            "wan" | "wan:0" | "wan:1" => format!("共计{written}万元"),
            "wan_atleast" => format!("增收{written}"),
            _ => format!("共计{written}元"),
        };
        let m = only(&text);
        prop_assert!(m.is_money());
        let ledger = Ledger { value: fen, scale: 2 };
        prop_assert!(agrees(&m.number, m.qualifier, ledger), "{} from {} 分", text, fen);
    }

    /// Chinese numerals as the template writes them (zh: 两, 十二, 三十五) parse back.
    #[test]
    fn chinese_numerals_parse_back(n in 2i64..100) {
        let zh = taizhang_reports::render::format_value(n, "zh").unwrap();
        let m = only(&format!("先后{zh}次到"));
        prop_assert_eq!(m.number.mantissa, i128::from(n));
    }
}

#[test]
fn each_form_of_the_seed() {
    let cases: [(&str, &str, Qualifier); 8] = [
        ("直接提高了500余亩农田", "500余亩", Qualifier::Yu { step_exp: 2 }),
        ("生活费共计112万余元，", "112万余元", Qualifier::Yu { step_exp: 4 }),
        ("促进民宿主增收10余万元，", "10余万元", Qualifier::Yu { step_exp: 5 }),
        ("宣传单约1000余份，", "约1000余份", Qualifier::Yu { step_exp: 3 }),
        ("居民增收100万元以上。", "100万元以上", Qualifier::AtLeast),
        ("参保人数近300人，", "近300人", Qualifier::Nearly),
        ("一直保持全县前三名；", "前三名", Qualifier::Rank),
        ("公益林补贴发放453户30.54万元", "30.54万元", Qualifier::Exact),
    ];
    for (text, figure, q) in cases {
        let m = find(text).into_iter().last().unwrap();
        assert_eq!((m.text.as_str(), m.qualifier), (figure, q), "{text}");
    }
    let both = find("脱贫户1330户4785人");
    assert_eq!(both.len(), 2);
    assert!(both[1].follows && both[0].unit == "户" && both[1].unit == "人");
    let denial = find("涉军维稳工作方面，无涉军信访问题，无一人出镇信访。");
    assert_eq!(denial.iter().map(|m| (m.text.as_str(), m.qualifier)).collect::<Vec<_>>(), vec![("无涉军信访问题", Qualifier::Zero), ("无一人出镇信访", Qualifier::Zero)]);
}

#[test]
fn dates_years_ordinals_and_document_numbers_are_no_claims() {
    for text in ["2023年2月被评为", "11月26日，正式封顶", "第一议题", "一是旗帜鲜明讲政治", "党的二十大精神", "人民之友2023年第九期杂志", "溆政发〔2023〕5号", "“四包一”管控措施", "市级水稻千亩示范片", "35岁以下的青年干部", "三级以上肇事肇祸", "2023年度", "一次性"] {
        assert!(find(text).is_empty(), "{text}: {:?}", find(text));
    }
}

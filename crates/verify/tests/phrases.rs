//! The phrase table of the built-in annual summary: the words before each figure of the seed.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use taizhang_verify::phrases::Source;

#[test]
fn the_builtin_template_gives_the_seed_phrases() {
    let (table, _) = taizhang_verify::phrase_table(None).expect("table");
    if std::env::var("DUMP").is_ok() {
        for e in &table.entries {
            println!("{:?}\t{}\t{:?}\t{}\t{}\t{:?}", e.source, e.key, e.spec, e.unit, e.phrase.near, e.phrase.far);
        }
    }
    let near = |k: &str| table.entries.iter().find(|e| e.key == k && e.source == Source::Template).map(|e| (e.phrase.near.clone(), e.unit.clone())).unwrap_or_else(|| panic!("{k}"));
    assert_eq!(near("study_central_group"), ("参加镇党委理论学习中心组".into(), "次".into()));
    assert_eq!(near("water_wells"), ("打井".into(), "处".into()));
    assert_eq!(near("temporary_relief_amount"), ("共计".into(), "元".into()));
}

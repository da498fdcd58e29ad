//! `Verdicts` keeps an import's verdicts as runs of rows and two bits a verdict: whatever
//! rows and verdicts go in come out the same, in order, from any starting point, and
//! serialise as the list of (row, verdict) pairs they replace.

use proptest::prelude::*;
use taizhang_exchange::{Verdict, Verdicts};

fn verdict(i: u8) -> Verdict {
    match i % 4 {
        0 => Verdict::New,
        1 => Verdict::Updated,
        2 => Verdict::Unchanged,
        _ => Verdict::Rejected,
    }
}

proptest! {
    #[test]
    fn verdicts_come_back_as_given(steps in prop::collection::vec((0u32..4, any::<u8>()), 0..300), start in 0usize..320) {
        // Rows as a file gives them: mostly consecutive, sometimes skipping (a 合计 row), and
        // starting again on a new sheet.
        let mut pairs: Vec<(u32, Verdict)> = Vec::new();
        let mut row = 2u32;
        for (gap, v) in steps {
            row = match gap {
                3 if v.is_multiple_of(5) => 3,
                3 => row + 2,
                _ => row + 1,
            };
            pairs.push((row, verdict(v)));
        }
        let mut v = Verdicts::default();
        for (r, x) in &pairs {
            v.push(*r, x.clone());
        }
        prop_assert_eq!(v.len(), pairs.len());
        prop_assert_eq!(v.iter().collect::<Vec<_>>(), pairs.clone());
        prop_assert_eq!(v.iter().len(), pairs.len());
        let from: Vec<(u32, Verdict)> = v.iter_from(start).collect();
        prop_assert_eq!(from, pairs.iter().skip(start).cloned().collect::<Vec<_>>());
        prop_assert_eq!(v.first(), pairs.first().cloned());
        prop_assert_eq!(serde_json::to_string(&v).expect("json"), serde_json::to_string(&pairs).expect("json"));
        prop_assert_eq!(pairs.iter().cloned().collect::<Verdicts>(), v);
    }
}

#[test]
fn a_million_new_rows_are_one_run() {
    let mut v = Verdicts::default();
    for row in 3..1_000_003 {
        v.push(row, Verdict::New);
    }
    v.push(1_000_005, Verdict::Rejected);
    assert_eq!(v.len(), 1_000_001);
    assert_eq!(v.iter_from(999_999).collect::<Vec<_>>(), [(1_000_002, Verdict::New), (1_000_005, Verdict::Rejected)]);
    assert!(v.iter().all(|(row, x)| (x == Verdict::New) == (row < 1_000_003)));
}

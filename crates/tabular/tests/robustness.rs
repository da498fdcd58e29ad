//! Malformed input must come back as an error, never as a panic.

mod common;

use std::convert::Infallible;
use std::path::Path;
use std::sync::OnceLock;

use common::{put, specs, tmp, xlsx};
use proptest::prelude::*;
use taizhang_tabular::{open, RawRow};

/// Opens and reads every sheet; returns whether everything succeeded.
fn try_read(path: &Path) -> bool {
    let Ok(mut src) = open(path) else {
        return false;
    };
    let mut ok = true;
    for sheet in src.sheet_names() {
        let res = src.read_sheet(
            &sheet,
            &specs(),
            &mut |_r: RawRow| -> Result<(), Infallible> { Ok(()) },
        );
        ok &= res.is_ok();
    }
    ok
}

fn valid_xlsx() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tmp();
        let path = xlsx(dir.path(), "v.xlsx", |ws| {
            put(ws, 0, &["北斗溪镇花名册"]);
            put(ws, 1, &["序号", "姓名", "身份证号", "村", "保障金额"]);
            for r in 2..200 {
                put(ws, r, &["1", "张三", "11010519491231002X", "龙潭村", "350"]);
            }
        });
        std::fs::read(path).expect("read")
    })
}

/// 200 by default; PROPTEST_CASES=5000 for a longer fuzzing session.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn write_and_read(bytes: &[u8], name: &str) -> bool {
    let dir = tmp();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    try_read(&path)
}

#[test]
fn the_valid_fixture_reads() {
    assert!(write_and_read(valid_xlsx(), "ok.xlsx"));
}

#[test]
fn every_truncation_of_a_valid_xlsx_fails_cleanly() {
    let full = valid_xlsx();
    let step = (full.len() / 300).max(1);
    for cut in (0..full.len()).step_by(step) {
        assert!(
            !write_and_read(&full[..cut], "cut.xlsx"),
            "cut at {cut} of {} read fine",
            full.len()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn csv_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = write_and_read(&bytes, "any.csv");
    }

    #[test]
    fn csv_like_text_never_panics(s in "[姓名身份证号村,\"\\r\\n a-z0-9=]{0,400}") {
        let _ = write_and_read(s.as_bytes(), "text.csv");
    }

    #[test]
    fn random_bytes_behind_zip_magic_are_an_error(tail in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend_from_slice(&tail);
        prop_assert!(!write_and_read(&bytes, "r.xlsx"));
    }

    #[test]
    fn random_bytes_behind_ole_magic_are_an_error(tail in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        bytes.extend_from_slice(&tail);
        prop_assert!(!write_and_read(&bytes, "r.xls"));
    }

    #[test]
    fn corrupted_xlsx_never_panics(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = valid_xlsx().to_vec();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let _ = write_and_read(&bytes, "flip.xlsx");
    }

    #[test]
    fn truncated_xlsx_is_an_error(cut in 0usize..100_000) {
        let full = valid_xlsx();
        let cut = cut % full.len();
        prop_assert!(!write_and_read(&full[..cut], "t.xlsx"));
    }
}

//! The web crate's layers: the JSON API and the pages share `query/`, and the API reaches
//! nothing of the pages (issue: `api.rs` once called page handlers and page-local helpers,
//! so a page's change silently changed the API).

use std::path::Path;

fn source(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_api_imports_nothing_from_the_pages() {
    let api = source("src/api.rs");
    let offending: Vec<(usize, &str)> = api
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .filter(|(_, l)| l.contains("pages::") || l.contains("crate::pages") || l.contains("use crate::{pages"))
        .map(|(i, l)| (i + 1, l.trim()))
        .collect();
    assert!(offending.is_empty(), "api.rs reaches into pages (use crate::query instead): {offending:#?}");
    assert!(api.contains("crate::query"), "api.rs reads through the shared query layer");
}

#[test]
fn the_query_layer_knows_no_page() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/query");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("src/query") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        seen += 1;
        for (i, l) in text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with("//")) {
            assert!(
                !(l.contains("pages::") || l.contains("views::render") || l.contains("Html<")),
                "{}:{}: the query layer renders nothing and calls no page: {l}",
                path.display(),
                i + 1
            );
        }
    }
    assert!(seen >= 5, "the query modules are there");
}

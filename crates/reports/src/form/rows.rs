//! Where rows go when rows by village are repeated, and rewriting the A1 references
//! (`B5`, `$A$3:$G$12`, `4:4`) of merges, dimensions, formulas and print areas accordingly.

/// The rows of a sheet that repeat, each with its number of copies, ordered by row.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    repeats: Vec<(u32, u32)>,
}

/// Which end of a range a row number stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    First,
    Last,
}

impl Layout {
    pub(crate) fn new(mut repeats: Vec<(u32, u32)>) -> Layout {
        repeats.sort_unstable();
        Layout { repeats }
    }

    /// Nothing moves: no row repeats (or every repeated row stays one row).
    pub(crate) fn is_identity(&self) -> bool {
        self.repeats.iter().all(|&(_, n)| n == 1)
    }

    /// Rows added above row `r` (negative when repeated rows had no copies).
    fn added_above(&self, r: u32) -> i64 {
        self.repeats.iter().filter(|&&(row, _)| row < r).map(|&(_, n)| i64::from(n) - 1).sum()
    }

    fn copies(&self, r: u32) -> Option<u32> {
        self.repeats.iter().find(|&&(row, _)| row == r).map(|&(_, n)| n)
    }

    /// The row of copy `i` of a repeated row `r`.
    pub(crate) fn copy_row(&self, r: u32, i: u32) -> u32 {
        clamp(i64::from(r) + self.added_above(r) + i64::from(i))
    }

    /// Where row `r` ends up. A repeated row stands for its first or its last copy; one with
    /// no copies for the row after it (as a first row) or before it (as a last row).
    pub(crate) fn map(&self, r: u32, end: End) -> u32 {
        let base = i64::from(r) + self.added_above(r);
        match (self.copies(r), end) {
            (None, _) | (Some(_), End::First) => clamp(base),
            (Some(n), End::Last) => clamp(base + i64::from(n) - 1),
        }
    }
}

fn clamp(r: i64) -> u32 {
    u32::try_from(r.max(1)).unwrap_or(u32::MAX)
}

/// A reference found in a text: its byte span and row number(s).
struct Found {
    len: usize,
    text: String,
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
}

/// Parses `$?[A-Z]{1,3}$?[0-9]+` at `i`: (column part with its `$`s, `$` before the row, row, end).
fn cell_at(b: &[u8], i: usize) -> Option<(String, bool, u32, usize)> {
    let mut j = i;
    let mut col = String::new();
    if b.get(j) == Some(&b'$') {
        col.push('$');
        j += 1;
    }
    let letters = j;
    while j < b.len() && b[j].is_ascii_uppercase() && j - letters < 3 {
        col.push(char::from(b[j]));
        j += 1;
    }
    if j == letters {
        return None;
    }
    let abs_row = b.get(j) == Some(&b'$');
    if abs_row {
        j += 1;
    }
    let digits = j;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j == digits || b[digits] == b'0' {
        return None;
    }
    if j < b.len() && (is_word(b[j]) || b[j] == b'(') {
        return None;
    }
    let row = std::str::from_utf8(&b[digits..j]).ok()?.parse().ok()?;
    Some((col, abs_row, row, j))
}

/// Parses `$?[0-9]+` (a whole-row reference such as the `$4` of `$4:$5`) at `i`.
fn row_at(b: &[u8], i: usize) -> Option<(bool, u32, usize)> {
    let mut j = i;
    let abs = b.get(j) == Some(&b'$');
    if abs {
        j += 1;
    }
    let digits = j;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j == digits || b[digits] == b'0' || (j < b.len() && is_word(b[j])) {
        return None;
    }
    let row = std::str::from_utf8(&b[digits..j]).ok()?.parse().ok()?;
    Some((abs, row, j))
}

fn dollar(abs: bool) -> &'static str {
    if abs {
        "$"
    } else {
        ""
    }
}

/// A reference or range at `i`, with its rows moved by `map`.
fn reference_at(b: &[u8], i: usize, map: &dyn Fn(u32, End) -> u32) -> Option<Found> {
    if let Some((c1, a1, r1, j)) = cell_at(b, i) {
        if b.get(j) == Some(&b':') {
            if let Some((c2, a2, r2, k)) = cell_at(b, j + 1) {
                let text = format!("{c1}{}{}:{c2}{}{}", dollar(a1), map(r1, End::First), dollar(a2), map(r2, End::Last));
                return Some(Found { len: k - i, text });
            }
        }
        return Some(Found { len: j - i, text: format!("{c1}{}{}", dollar(a1), map(r1, End::First)) });
    }
    let (a1, r1, j) = row_at(b, i)?;
    if b.get(j) != Some(&b':') {
        return None;
    }
    let (a2, r2, k) = row_at(b, j + 1)?;
    let text = format!("{}{}:{}{}", dollar(a1), map(r1, End::First), dollar(a2), map(r2, End::Last));
    Some(Found { len: k - i, text })
}

/// Rewrites the rows of the A1 references in `text`, outside double-quoted strings; references
/// qualified by another sheet (`其他表!A1`) stay. `map(row, end)` gives the new row.
pub(crate) fn rewrite_refs(text: &str, map: &dyn Fn(u32, End) -> u32) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut quoted = false;
    let mut copied = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            quoted = !quoted;
            i += 1;
            continue;
        }
        let starts_token = i == 0 || !(is_word(b[i - 1]) || b[i - 1] == b'!' || b[i - 1] == b'$');
        if !quoted && starts_token && (c == b'$' || c.is_ascii_uppercase() || c.is_ascii_digit()) {
            if let Some(f) = reference_at(b, i, map) {
                out.push_str(&text[copied..i]);
                out.push_str(&f.text);
                i += f.len;
                copied = i;
                continue;
            }
        }
        // Skip the rest of a word (a function name, a number) so nothing inside it matches.
        if !quoted && is_word(c) {
            while i < b.len() && is_word(b[i]) {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// The references of a sheet outside the repeated rows (merges, dimension, print area,
/// formulas of ordinary rows): ranges stretch over all copies of a repeated row.
pub(crate) fn shift(text: &str, layout: &Layout) -> String {
    if layout.is_identity() {
        return text.to_string();
    }
    rewrite_refs(text, &|r, end| layout.map(r, end))
}

/// The references of a formula or merge in copy `i` of repeated row `row`: references to that
/// row point to the copy's own row (`SUM(C5:F5)` → `SUM(C7:F7)`), the rest move as everywhere else.
pub(crate) fn shift_in_copy(text: &str, layout: &Layout, row: u32, i: u32) -> String {
    rewrite_refs(text, &|r, end| if r == row { layout.copy_row(row, i) } else { layout.map(r, end) })
}

/// The column letters and row of a cell reference (`AB12` → ("AB", 12)).
pub(crate) fn split_cell(r: &str) -> Option<(&str, u32)> {
    let k = r.find(|c: char| c.is_ascii_digit())?;
    let (col, row) = r.split_at(k);
    if col.is_empty() || !col.bytes().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    Some((col, row.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_stretch_and_rows_below_move() {
        // Row 5 repeated 3 times: rows below move down 2.
        let l = Layout::new(vec![(5, 3)]);
        assert_eq!(shift("A1:G12", &l), "A1:G14");
        assert_eq!(shift("A6:B6", &l), "A8:B8");
        assert_eq!(shift("A5:A5", &l), "A5:A7");
        assert_eq!(shift("SUM(C5:C5)+C6*2", &l), "SUM(C5:C7)+C8*2");
        assert_eq!(shift("$A$1:$G$12", &l), "$A$1:$G$14");
        assert_eq!(shift("$3:$4", &l), "$3:$4");
        assert_eq!(shift("\"C6\"&LOG10(C6)", &l), "\"C6\"&LOG10(C8)");
        assert_eq!(shift("其他表!C6+C6", &l), "其他表!C6+C8");
        assert_eq!(shift_in_copy("C5*2+D9", &l, 5, 2), "C7*2+D11");
        assert_eq!(shift_in_copy("SUM(C5:F5)", &l, 5, 1), "SUM(C6:F6)");
        // No copies: the row disappears.
        let l = Layout::new(vec![(5, 0)]);
        assert_eq!(shift("A6:G6", &l), "A5:G5");
        assert_eq!(shift("A4:G9", &l), "A4:G8");
    }

    #[test]
    fn cells_split() {
        assert_eq!(split_cell("AB12"), Some(("AB", 12)));
        assert_eq!(split_cell("12"), None);
    }
}

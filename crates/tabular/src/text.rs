//! Small text helpers shared by readers and writers.

/// Folds the many ways a clerk can type the same header into one key:
/// whitespace anywhere (line breaks from Alt+Enter, full-width spaces) is
/// dropped, full-width ASCII becomes half-width, ASCII is lower-cased.
pub fn normalize_header(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_whitespace() || is_invisible(ch) {
            continue;
        }
        let ch = match ch {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
            _ => ch,
        };
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// Zero-width characters survive copy-paste from web pages and BOMs survive
/// badly saved CSV files; neither is visible, so neither may break a match.
fn is_invisible(ch: char) -> bool {
    matches!(ch, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Excel's column name for a zero-based column index: 0 → "A", 26 → "AA".
pub fn column_letter(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut rev = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        rev.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    rev.iter().rev().collect()
}

/// Header cells in a file often hold Alt+Enter line breaks; messages show
/// the text on one line.
pub(crate) fn display_header(raw: &str) -> String {
    raw.chars()
        .filter(|c| *c != '\n' && *c != '\r')
        .collect::<String>()
        .trim()
        .to_string()
}

/// Whether a header text is the row-number column that carries no data.
pub(crate) fn is_sequence_header(normalized: &str) -> bool {
    matches!(normalized, "序号" | "序" | "no." | "no")
}

/// Starts of the notes cells that templates put under the header
/// ("必填；18 位…", "选填", "说明：…"). Kept in one place because the
/// template writer must produce what the reader skips.
const NOTE_PREFIXES: [&str; 9] = [
    "必填",
    "选填",
    "非必填",
    "可不填",
    "可空",
    "说明",
    "填写说明",
    "填报说明",
    "注:",
];

pub(crate) fn is_note_text(s: &str) -> bool {
    let n = normalize_header(s);
    NOTE_PREFIXES.iter().any(|p| n.starts_with(p))
}

/// Text for a notes cell that the reader will recognise as a note.
pub(crate) fn note_cell_text(note: &str) -> String {
    if is_note_text(note) {
        note.to_string()
    } else {
        format!("说明：{note}")
    }
}

/// Width a string takes on screen in Excel's column-width units. Excel's
/// autofit counts a CJK character as one ASCII character, which leaves
/// Chinese columns cut off; here full-width characters count as 2.
pub(crate) fn display_width(s: &str) -> f64 {
    s.chars().map(|c| if is_wide(c) { 2.0 } else { 1.1 }).sum()
}

pub(crate) fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x2FFFD
        | 0x30000..=0x3FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(column_letter(16383), "XFD");
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize_header(" 身份\n证号 "), "身份证号");
        assert_eq!(normalize_header("保障金额（元）"), "保障金额(元)");
        assert_eq!(normalize_header("序\u{3000}号"), "序号");
        assert_eq!(normalize_header("Ｎｏ．"), "no.");
        assert_eq!(normalize_header("日期："), "日期:");
        assert_eq!(normalize_header("\u{FEFF}姓名\r\n"), "姓名");
        assert_eq!(normalize_header("ＡＢＣ１２３"), "abc123");
    }

    #[test]
    fn notes() {
        assert!(is_note_text("必填；18 位，末位可为 X"));
        assert!(is_note_text("注：按月填写"));
        assert!(!is_note_text("张三"));
        assert_eq!(note_cell_text("18 位"), "说明：18 位");
        assert_eq!(note_cell_text("选填"), "选填");
    }

    #[test]
    fn widths() {
        assert_eq!(display_width("姓名"), 4.0);
        assert!((display_width("ab") - 2.2).abs() < 1e-9);
        assert_eq!(display_width("（元）"), 6.0);
    }
}

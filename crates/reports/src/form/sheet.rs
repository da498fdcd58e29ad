//! One worksheet part: its rows and cells as byte spans, and the filled part written by
//! splicing — rows and cells without placeholders keep their bytes (their row numbers change
//! only when rows by village were inserted above them).

use super::rows::{self, End, Layout};
use super::xml::{self, escape, set_attr, Kind, Tag};

/// What a placeholder cell becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CellOut {
    /// Decimal text (`1234`, `1100.50`): a numeric cell.
    Number(String),
    Text(String),
    Empty,
}

#[derive(Debug)]
struct Cell {
    start: usize,
    end: usize,
    /// End of the cell's start tag.
    tag_end: usize,
    qname: String,
    prefix: String,
    col: String,
    row: u32,
    style: Option<String>,
    /// The cell's text when it is a string (shared or inline).
    text: Option<String>,
    /// Span of the formula's text and the span of the `<f …>` tag.
    formula: Option<(usize, usize, usize, usize)>,
}

#[derive(Debug)]
struct Row {
    start: usize,
    end: usize,
    tag_end: usize,
    r: u32,
    cells: Vec<Cell>,
}

/// The marker of a row repeated once per village: a template comment `{#每村#}` in one of its
/// cells (usually the first).
pub(crate) fn has_village_marker(text: &str) -> bool {
    comments(text).iter().any(|c| c.trim_matches(|ch: char| ch == '-' || ch.is_whitespace()) == "每村")
}

fn comments(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{#") {
        let Some(j) = rest[i + 2..].find("#}") else { break };
        out.push(&rest[i + 2..i + 2 + j]);
        rest = &rest[i + 2 + j + 2..];
    }
    out
}

/// Text holding template syntax.
pub(crate) fn is_placeholder(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// Text of a cell's inline string (`<is><t>…</t><r><t>…</t></r></is>`) or shared string item.
pub(crate) fn run_text(xml: &str, tags: &[Tag]) -> String {
    let mut out = String::new();
    let mut open: Option<usize> = None;
    for t in tags {
        match (t.name.as_str(), t.kind) {
            ("t", Kind::Start) => open = Some(t.end),
            ("t", Kind::End) => {
                if let Some(s) = open.take() {
                    out.push_str(&xml::unescape(&xml[s..t.start]));
                }
            }
            // Phonetic runs (`<rPh>`) are not part of the text.
            ("rPh", Kind::Start) => open = None,
            _ => {}
        }
    }
    out
}

/// The rows of a worksheet part and where its `<sheetData>` content lies.
struct Parsed {
    tags: Vec<Tag>,
    data: Option<(usize, usize)>,
    rows: Vec<Row>,
}

fn parse(xml: &str, shared: &[String]) -> Result<Parsed, String> {
    let tags = xml::tags(xml)?;
    let mut data = None;
    let mut rows: Vec<Row> = Vec::new();
    let mut cell: Option<(Cell, Option<String>, usize)> = None;
    let mut v_open = None;
    let mut f_open: Option<(usize, usize)> = None;
    let mut next_row = 1;
    for (k, t) in tags.iter().enumerate() {
        match (t.name.as_str(), t.kind) {
            ("sheetData", Kind::Start) => data = Some((t.end, t.end)),
            ("sheetData", Kind::End) => {
                if let Some(d) = data.as_mut() {
                    d.1 = t.start;
                }
            }
            ("row", Kind::Start | Kind::Empty) => {
                let r = t.attr("r").and_then(|r| r.parse().ok()).unwrap_or(next_row);
                next_row = r + 1;
                rows.push(Row { start: t.start, end: t.end, tag_end: t.end, r, cells: Vec::new() });
            }
            ("row", Kind::End) => {
                if let Some(row) = rows.last_mut() {
                    row.end = t.end;
                }
            }
            ("c", Kind::Start | Kind::Empty) => {
                let row = rows.last().map_or(1, |r| r.r);
                let pos = rows.last().map_or(0, |r| r.cells.len());
                let (col, row) = match t.attr("r").and_then(rows::split_cell) {
                    Some((c, r)) => (c.to_string(), r),
                    None => (column_name(pos), row),
                };
                let c = Cell {
                    start: t.start,
                    end: t.end,
                    tag_end: t.end,
                    qname: t.qname.clone(),
                    prefix: t.prefix().to_string(),
                    col,
                    row,
                    style: t.attr("s").map(String::from),
                    text: None,
                    formula: None,
                };
                if t.kind == Kind::Empty {
                    if let Some(r) = rows.last_mut() {
                        r.cells.push(c);
                    }
                } else {
                    cell = Some((c, t.attr("t").map(String::from), k));
                }
            }
            ("v", Kind::Start) => v_open = Some(t.end),
            ("v", Kind::End) => {
                if let (Some(s), Some((c, kind, _))) = (v_open.take(), cell.as_mut()) {
                    if kind.as_deref() == Some("s") {
                        let i: usize = xml[s..t.start].trim().parse().map_err(|_| format!("单元格 {}{} 的共享字符串序号无效", c.col, c.row))?;
                        c.text = shared.get(i).cloned();
                    }
                }
            }
            ("f", Kind::Start) => f_open = Some((t.start, t.end)),
            ("f", Kind::Empty) => {
                if let Some((c, _, _)) = cell.as_mut() {
                    c.formula = Some((t.end, t.end, t.start, t.end));
                }
            }
            ("f", Kind::End) => {
                if let (Some((fs, fe)), Some((c, _, _))) = (f_open.take(), cell.as_mut()) {
                    c.formula = Some((fe, t.start, fs, fe));
                }
            }
            ("c", Kind::End) => {
                if let Some((mut c, kind, first)) = cell.take() {
                    if kind.as_deref() == Some("inlineStr") {
                        c.text = Some(run_text(xml, &tags[first..k]));
                    }
                    c.end = t.end;
                    if let Some(r) = rows.last_mut() {
                        r.cells.push(c);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(Parsed { tags, data, rows })
}

/// `0` → `A`, `25` → `Z`, `26` → `AA`.
fn column_name(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + u8::try_from(i % 26).unwrap_or(0));
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// How rows move, and how many shared-formula ids the sheet uses.
struct Moves {
    layout: Layout,
    shared_ids: u32,
}

/// Fills one cell: `(text, village index in a repeated row, cell reference)` → its content.
pub(crate) type Filler<'a> = dyn FnMut(&str, Option<usize>, &str) -> Result<CellOut, String> + 'a;

/// A filled worksheet part and how its rows moved; `None` when the sheet holds no placeholder.
pub(crate) struct Filled {
    pub xml: String,
    pub layout: Layout,
    pub has_formulas: bool,
}

/// Fills the placeholders of a worksheet part, repeating each marked row `villages` times.
pub(crate) fn fill(xml: &str, shared: &[String], villages: usize, fill: &mut Filler<'_>) -> Result<Option<Filled>, String> {
    let p = parse(xml, shared)?;
    let Some((data_start, data_end)) = p.data else { return Ok(None) };
    let marked = |r: &Row| r.cells.iter().any(|c| c.text.as_deref().is_some_and(has_village_marker));
    let any_placeholder = p.rows.iter().flat_map(|r| &r.cells).any(|c| c.text.as_deref().is_some_and(is_placeholder));
    if !any_placeholder {
        return Ok(None);
    }
    let n = u32::try_from(villages).unwrap_or(u32::MAX);
    let layout = Layout::new(p.rows.iter().filter(|r| marked(r)).map(|r| (r.r, n)).collect());
    let has_formulas = p.rows.iter().flat_map(|r| &r.cells).any(|c| c.formula.is_some());
    // Shared formulas (`<f t="shared" si="3">`) of each copy of a repeated row get ids of their own.
    let shared_ids = p.tags.iter().filter(|t| t.name == "f").filter_map(|t| t.attr("si")?.parse::<u32>().ok()).max().map_or(0, |m| m + 1);
    let moves = Moves { layout, shared_ids };

    let mut out = String::with_capacity(xml.len() + 4096);
    out.push_str(&rewrite_outside(xml, &p.tags, 0, data_start, &moves.layout, &p.rows, n));
    let mut copied = data_start;
    for row in &p.rows {
        out.push_str(&xml[copied..row.start]);
        copied = row.end;
        if marked(row) {
            for i in 0..villages {
                let copy = u32::try_from(i).unwrap_or(u32::MAX);
                write_row(&mut out, xml, row, moves.layout.copy_row(row.r, copy), Some((i, copy)), &moves, fill)?;
            }
        } else {
            let new_r = moves.layout.map(row.r, End::First);
            // Formula cells lose their cached values (stale once cells are filled), so they are
            // rewritten too.
            let untouched = new_r == row.r && !row.cells.iter().any(|c| c.formula.is_some() || c.text.as_deref().is_some_and(is_placeholder));
            if untouched {
                out.push_str(&xml[row.start..row.end]);
            } else {
                write_row(&mut out, xml, row, new_r, None, &moves, fill)?;
            }
        }
    }
    out.push_str(&xml[copied..data_end]);
    out.push_str(&rewrite_outside(xml, &p.tags, data_end, xml.len(), &moves.layout, &p.rows, n));
    Ok(Some(Filled { xml: out, layout: moves.layout, has_formulas }))
}

fn write_row(
    out: &mut String,
    xml: &str,
    row: &Row,
    new_r: u32,
    copy: Option<(usize, u32)>,
    moves: &Moves,
    fill: &mut Filler<'_>,
) -> Result<(), String> {
    let layout = &moves.layout;
    out.push_str(&set_attr(&xml[row.start..row.tag_end], "r", &new_r.to_string()));
    let mut copied = row.tag_end;
    for c in &row.cells {
        out.push_str(&xml[copied..c.start]);
        copied = c.end;
        let new_ref = format!("{}{new_r}", c.col);
        let orig_ref = format!("{}{}", c.col, c.row);
        if let Some(text) = c.text.as_deref().filter(|t| is_placeholder(t)) {
            let content = fill(text, copy.map(|(i, _)| i), &orig_ref)?;
            out.push_str(&cell_xml(c, &new_ref, &content));
            continue;
        }
        let Some((fs, fe, ts, te)) = c.formula else {
            out.push_str(&set_attr(&xml[c.start..c.tag_end], "r", &new_ref));
            out.push_str(&xml[c.tag_end..c.end]);
            continue;
        };
        let shift = |s: &str| match copy {
            Some((_, i)) => rows::shift_in_copy(s, layout, row.r, i),
            None => rows::shift(s, layout),
        };
        // Without its cached value the cell is a plain formula cell (no `t="e"`, `t="str"`).
        out.push_str(&xml::remove_attr(&set_attr(&xml[c.start..c.tag_end], "r", &new_ref), "t"));
        out.push_str(&xml[c.tag_end..ts]);
        let raw_f = &xml[ts..te];
        let f_tag = xml::tags(raw_f).ok().and_then(|t| t.into_iter().next());
        let mut ftag = raw_f.to_string();
        if let Some(r) = f_tag.as_ref().and_then(|t| t.attr("ref")) {
            ftag = set_attr(&ftag, "ref", &shift(r));
        }
        if let (Some(si), Some((_, i))) = (f_tag.as_ref().and_then(|t| t.attr("si")?.parse::<u32>().ok()), copy) {
            ftag = set_attr(&ftag, "si", &(si + i * moves.shared_ids).to_string());
        }
        out.push_str(&ftag);
        out.push_str(&escape(&shift(&xml::unescape(&xml[fs..fe]))));
        // The cached value is stale once cells were filled or rows moved: dropped, so the
        // program opening the workbook computes it (LibreOffice does not honour fullCalcOnLoad).
        let rest = &xml[fe..c.end];
        out.push_str(&drop_value(rest));
    }
    out.push_str(&xml[copied..row.end]);
    Ok(())
}

/// The end of a formula cell without its cached `<v>…</v>`.
fn drop_value(rest: &str) -> String {
    match (rest.find("<v>"), rest.find("</v>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &rest[..a], &rest[b + 4..]),
        _ => rest.to_string(),
    }
}

fn cell_xml(c: &Cell, r: &str, content: &CellOut) -> String {
    let (q, p) = (&c.qname, &c.prefix);
    let s = c.style.as_deref().map(|s| format!(" s=\"{}\"", escape(s))).unwrap_or_default();
    match content {
        CellOut::Number(n) => format!("<{q} r=\"{r}\"{s}><{p}v>{n}</{p}v></{q}>"),
        CellOut::Text(t) if !t.is_empty() => {
            format!("<{q} r=\"{r}\"{s} t=\"inlineStr\"><{p}is><{p}t xml:space=\"preserve\">{}</{p}t></{p}is></{q}>", escape(t))
        }
        _ => format!("<{q} r=\"{r}\"{s}/>"),
    }
}

/// The part before or after `<sheetData>` with its references moved: dimension, selections,
/// merged ranges (a merge inside a repeated row is repeated with it), conditional formats,
/// data validations, hyperlinks, row breaks.
fn rewrite_outside(xml: &str, tags: &[Tag], from: usize, to: usize, layout: &Layout, rows_: &[Row], copies: u32) -> String {
    if layout.is_identity() {
        return xml[from..to].to_string();
    }
    let repeated: Vec<u32> = rows_
        .iter()
        .filter(|r| r.cells.iter().any(|c| c.text.as_deref().is_some_and(has_village_marker)))
        .map(|r| r.r)
        .collect();
    let mut out = String::new();
    let mut copied = from;
    let mut merges_added: i64 = 0;
    let mut merge_count_at: Option<(usize, usize)> = None;
    for t in tags.iter().filter(|t| t.start >= from && t.end <= to) {
        let raw = &xml[t.start..t.end];
        let mut new = raw.to_string();
        match t.name.as_str() {
            "mergeCells" if t.kind != Kind::End => merge_count_at = Some((out.len() + (t.start - copied), t.end - t.start)),
            "mergeCell" => {
                if let Some(r) = t.attr("ref") {
                    let rows_of: Vec<u32> = r.split(':').filter_map(|c| rows::split_cell(c.trim_start_matches('$').replace('$', "").as_str()).map(|(_, r)| r)).collect();
                    let inside = rows_of.first().filter(|a| rows_of.iter().all(|b| b == *a) && repeated.contains(a));
                    if let Some(&row) = inside {
                        new = (0..copies).map(|i| set_attr(raw, "ref", &rows::shift_in_copy(r, layout, row, i))).collect();
                        merges_added += i64::from(copies) - 1;
                    } else {
                        new = set_attr(raw, "ref", &rows::shift(r, layout));
                    }
                }
            }
            "brk" if t.attr("id").is_some() => {
                if let Some(id) = t.attr("id").and_then(|i| i.parse::<u32>().ok()) {
                    new = set_attr(raw, "id", &layout.map(id, End::Last).to_string());
                }
            }
            _ => {
                for a in ["ref", "sqref", "activeCell", "topLeftCell"] {
                    if let Some(v) = t.attr(a) {
                        new = set_attr(&new, a, &rows::shift(v, layout));
                    }
                }
            }
        }
        if new != raw {
            out.push_str(&xml[copied..t.start]);
            out.push_str(&new);
            copied = t.end;
        }
    }
    out.push_str(&xml[copied..to]);
    if let (Some((at, len)), true) = (merge_count_at, merges_added != 0) {
        let tag = out[at..at + len].to_string();
        if let Some(count) = xml::tags(&tag).ok().and_then(|t| t.first().and_then(|t| t.attr("count").and_then(|c| c.parse::<i64>().ok()))) {
            out.replace_range(at..at + len, &set_attr(&tag, "count", &(count + merges_added).to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_columns() {
        assert!(has_village_marker("{#每村#}{{ v.name }}"));
        assert!(has_village_marker("{# 每村 #}"));
        assert!(!has_village_marker("{# 合计 #}每村"));
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(27), "AB");
    }

    #[test]
    fn shared_formulas_in_copies_get_their_own_ids() {
        let xml = concat!(
            r#"<worksheet><sheetData>"#,
            r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><f t="shared" ref="B1:C1" si="0">A1*2</f><v>0</v></c><c r="C1"><f t="shared" si="0"/><v>0</v></c></row>"#,
            r#"</sheetData></worksheet>"#
        );
        let shared = vec!["{#每村#}{{ v }}".to_string()];
        let mut f = |_: &str, v: Option<usize>, _: &str| -> Result<CellOut, String> { Ok(CellOut::Number(v.unwrap_or(9).to_string())) };
        let out = fill(xml, &shared, 2, &mut f).expect("fill").expect("filled");
        assert_eq!(
            out.xml,
            concat!(
                r#"<worksheet><sheetData>"#,
                r#"<row r="1"><c r="A1"><v>0</v></c><c r="B1"><f t="shared" ref="B1:C1" si="0">A1*2</f></c><c r="C1"><f t="shared" si="0"/></c></row>"#,
                r#"<row r="2"><c r="A2"><v>1</v></c><c r="B2"><f t="shared" ref="B2:C2" si="1">A2*2</f></c><c r="C2"><f t="shared" si="1"/></c></row>"#,
                r#"</sheetData></worksheet>"#
            )
        );
    }

    #[test]
    fn rows_repeat_and_merges_follow() {
        let xml = concat!(
            r#"<worksheet><dimension ref="A1:C3"/><sheetData>"#,
            r#"<row r="1"><c r="A1" s="1" t="inlineStr"><is><t>{{ place }}</t></is></c></row>"#,
            r#"<row r="2" ht="20"><c r="A2" s="2" t="s"><v>0</v></c><c r="B2" s="3"/><c r="C2" s="4" t="s"><v>1</v></c></row>"#,
            r#"<row r="3"><c r="A3" t="s"><v>2</v></c><c r="C3"><f>SUM(C2:C2)</f><v>0</v></c></row>"#,
            r#"</sheetData><mergeCells count="2"><mergeCell ref="A1:C1"/><mergeCell ref="A2:B2"/></mergeCells></worksheet>"#
        );
        let shared = vec!["{#每村#}{{ v }}".to_string(), "{{ 7 }}".to_string(), "合计".to_string()];
        let mut f = |text: &str, v: Option<usize>, _: &str| -> Result<CellOut, String> {
            Ok(match (text, v) {
                ("{{ place }}", _) => CellOut::Text("镇".into()),
                (_, Some(i)) if text.starts_with("{#") => CellOut::Text(format!("村{i}")),
                (_, Some(i)) => CellOut::Number(i.to_string()),
                _ => CellOut::Empty,
            })
        };
        let out = fill(xml, &shared, 2, &mut f).expect("fill").expect("filled");
        assert_eq!(
            out.xml,
            concat!(
                r#"<worksheet><dimension ref="A1:C4"/><sheetData>"#,
                r#"<row r="1"><c r="A1" s="1" t="inlineStr"><is><t xml:space="preserve">镇</t></is></c></row>"#,
                r#"<row r="2" ht="20"><c r="A2" s="2" t="inlineStr"><is><t xml:space="preserve">村0</t></is></c><c r="B2" s="3"/><c r="C2" s="4"><v>0</v></c></row>"#,
                r#"<row r="3" ht="20"><c r="A3" s="2" t="inlineStr"><is><t xml:space="preserve">村1</t></is></c><c r="B3" s="3"/><c r="C3" s="4"><v>1</v></c></row>"#,
                r#"<row r="4"><c r="A4" t="s"><v>2</v></c><c r="C4"><f>SUM(C2:C3)</f></c></row>"#,
                r#"</sheetData><mergeCells count="3"><mergeCell ref="A1:C1"/><mergeCell ref="A2:B2"/><mergeCell ref="A3:B3"/></mergeCells></worksheet>"#
            )
        );
    }
}

//! Finding the header row in the first rows of a sheet and binding columns
//! to the caller's specs.

use std::collections::HashMap;

use crate::error::{SheetLooks, TabularError};
use crate::meter::Ctx;
use crate::model::{Cell, ColumnBinding, ColumnSpec, SheetLayout, LEADING_TEXT_CHARS, TITLE_TEXTS};
use crate::text::{
    column_letter, display_header, is_note_text, is_sequence_header, normalize_header,
};

/// Title and "填报单位：…" rows sit above the header; county sheets never put
/// more than a handful there, 20 leaves room to spare.
pub const HEADER_SCAN_ROWS: u32 = 20;
/// One extra row is kept so that a notes row under a header on row 20 is seen.
pub(crate) const BUFFER_ROWS: u32 = HEADER_SCAN_ROWS + 1;

/// A row from the top of the sheet, cells sorted by column (zero-based).
#[derive(Debug, Default)]
pub(crate) struct GridRow {
    pub row: u32,
    pub cells: Vec<(u32, Cell)>,
}

/// A merged area, zero-based and inclusive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Region {
    pub first_row: u32,
    pub first_col: u32,
    pub last_row: u32,
    pub last_col: u32,
}

impl Region {
    fn contains(&self, row: u32, col: u32) -> bool {
        (self.first_row..=self.last_row).contains(&row)
            && (self.first_col..=self.last_col).contains(&col)
    }
}

/// What is known about merged cells when combining two header rows.
#[derive(Clone, Copy)]
pub(crate) enum Merges<'a> {
    Known(&'a [Region]),
    /// Pretend every group cell spans rightwards up to the next non-empty
    /// one; only used to decide whether loading the real merges could help.
    Guess,
    Absent,
}

pub(crate) struct Detected {
    pub layout: SheetLayout,
    /// Spec index for each zero-based column.
    pub col_map: Vec<Option<usize>>,
    /// Zero-based index of the first row that may hold data.
    pub first_data_row: u32,
}

struct Grid<'a> {
    rows: &'a [GridRow],
    width: u32,
}

impl<'a> Grid<'a> {
    fn new(rows: &'a [GridRow]) -> Self {
        let width = rows
            .iter()
            .filter_map(|r| r.cells.last().map(|(c, _)| c + 1))
            .max()
            .unwrap_or(0);
        Grid { rows, width }
    }

    fn row(&self, row: u32) -> Option<&GridRow> {
        self.rows
            .binary_search_by_key(&row, |r| r.row)
            .ok()
            .and_then(|i| self.rows.get(i))
    }

    fn text(&self, row: u32, col: u32) -> String {
        self.row(row)
            .and_then(|r| {
                r.cells
                    .binary_search_by_key(&col, |(c, _)| *c)
                    .ok()
                    .and_then(|i| r.cells.get(i))
            })
            .map(|(_, cell)| cell.header_text())
            .unwrap_or_default()
    }

    fn row_texts(&self, row: u32) -> Vec<String> {
        let mut out = vec![String::new(); self.width as usize];
        if let Some(r) = self.row(row) {
            for (col, cell) in &r.cells {
                if let Some(slot) = out.get_mut(*col as usize) {
                    *slot = cell.header_text();
                }
            }
        }
        out
    }

    /// The group-row texts as they apply to each column of the row below.
    fn upper_texts(&self, row: u32, merges: Merges<'_>) -> Vec<String> {
        let mut out = self.row_texts(row);
        match merges {
            Merges::Known(regions) => {
                for (col, slot) in (0u32..).zip(out.iter_mut()) {
                    if slot.trim().is_empty() {
                        // A block merged over both header rows is one column
                        // drawn wide, not a group over several columns.
                        if let Some(r) = regions.iter().find(|r| {
                            r.contains(row, col) && (r.last_row == row || r.first_col == col)
                        }) {
                            *slot = self.text(r.first_row, r.first_col);
                        }
                    }
                }
            }
            Merges::Guess => {
                let mut carry = String::new();
                for slot in out.iter_mut() {
                    if slot.trim().is_empty() {
                        slot.clone_from(&carry);
                    } else {
                        carry.clone_from(slot);
                    }
                }
            }
            Merges::Absent => {}
        }
        out
    }

    /// Each column takes the lower cell when present, else the group cell.
    fn labels(&self, row: u32, upper: Option<(u32, Merges<'_>)>) -> Vec<String> {
        let mut own = self.row_texts(row);
        if let Some((up, merges)) = upper {
            for (slot, group) in own.iter_mut().zip(self.upper_texts(up, merges)) {
                if slot.trim().is_empty() {
                    *slot = group;
                }
            }
        }
        own
    }
}

struct Matcher {
    by_label: HashMap<String, usize>,
}

impl Matcher {
    fn new(specs: &[ColumnSpec]) -> Self {
        let mut by_label = HashMap::new();
        for (i, spec) in specs.iter().enumerate() {
            for label in &spec.labels {
                let n = normalize_header(label);
                if !n.is_empty() {
                    by_label.entry(n).or_insert(i);
                }
            }
        }
        Matcher { by_label }
    }

    fn spec_for(&self, header: &str) -> Option<usize> {
        self.by_label.get(&normalize_header(header)).copied()
    }

    fn score(&self, labels: &[String]) -> usize {
        let mut seen: Vec<usize> = labels.iter().filter_map(|l| self.spec_for(l)).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }
}

struct Choice {
    row: u32,
    labels: Vec<String>,
    score: usize,
    two_row: bool,
}

fn choose(grid: &Grid<'_>, matcher: &Matcher, merges: Merges<'_>) -> Option<Choice> {
    let mut best: Option<Choice> = None;
    for r in grid.rows.iter().filter(|r| r.row < HEADER_SCAN_ROWS) {
        let single = grid.labels(r.row, None);
        let mut cand = Choice {
            row: r.row,
            score: matcher.score(&single),
            labels: single,
            two_row: false,
        };
        if r.row > 0 && grid.row(r.row - 1).is_some() {
            let combined = grid.labels(r.row, Some((r.row - 1, merges)));
            let score = matcher.score(&combined);
            // The row above is often a title merged across the sheet; it only
            // counts as a group row when it makes more columns match.
            if score > cand.score {
                cand = Choice {
                    row: r.row,
                    score,
                    labels: combined,
                    two_row: true,
                };
            }
        }
        if cand.score > best.as_ref().map_or(0, |b| b.score) {
            best = Some(cand);
        }
    }
    let best = best?;
    if best.two_row {
        return Some(best);
    }
    Some(continuation(grid, matcher, &best, merges).unwrap_or(best))
}

/// The row under a header that already matches everything may still be
/// its second row: sub-labels under a group cell whose text itself matched
/// ("保障金额" over "标准" and an unlabelled amount column). Taking it for
/// data would feed "标准" to the caller as an amount.
fn continuation(
    grid: &Grid<'_>,
    matcher: &Matcher,
    upper: &Choice,
    merges: Merges<'_>,
) -> Option<Choice> {
    let lower = upper.row + 1;
    let row = grid.row(lower)?;
    let cells: Vec<&(u32, Cell)> = row.cells.iter().filter(|(_, c)| !c.is_blank()).collect();
    if cells.is_empty()
        || is_notes_row(row)
        || cells.iter().any(|(_, c)| !matches!(c, Cell::Text(_)))
    {
        return None;
    }
    let labels = grid.labels(lower, Some((upper.row, merges)));
    let score = matcher.score(&labels);
    if score < upper.score {
        return None;
    }
    let own_upper = grid.row_texts(upper.row);
    let under_group = cells.iter().any(|(col, _)| {
        let c = *col as usize;
        own_upper.get(c).is_none_or(|t| t.trim().is_empty())
            || upper
                .labels
                .get(c)
                .is_some_and(|l| matcher.spec_for(l).is_some())
    });
    under_group.then_some(Choice {
        row: lower,
        labels,
        score,
        two_row: true,
    })
}

/// Whether merged-cell information could change the header found. Loading
/// merges from an xlsx means parsing the whole sheet once more, so it is
/// done only when guessing the merges changes the outcome.
pub(crate) fn merges_could_help(rows: &[GridRow], specs: &[ColumnSpec]) -> bool {
    let grid = Grid::new(rows);
    let matcher = Matcher::new(specs);
    let outcome = |merges| {
        choose(&grid, &matcher, merges).map(|c| {
            let bound: Vec<Option<usize>> = c.labels.iter().map(|l| matcher.spec_for(l)).collect();
            (c.row, bound)
        })
    };
    outcome(Merges::Absent) != outcome(Merges::Guess)
}

pub(crate) fn detect(
    rows: &[GridRow],
    specs: &[ColumnSpec],
    merges: Merges<'_>,
    ctx: &Ctx,
) -> Result<Detected, TabularError> {
    let grid = Grid::new(rows);
    let matcher = Matcher::new(specs);
    let choice = choose(&grid, &matcher, merges).ok_or_else(|| not_found(specs, rows, ctx))?;

    let mut col_map = vec![None; grid.width as usize];
    let mut bound: Vec<Option<u32>> = vec![None; specs.len()];
    let mut layout = SheetLayout {
        header_row: choice.row + 1,
        ..SheetLayout::default()
    };
    for (col, raw) in (0u32..).zip(choice.labels.iter()) {
        if raw.trim().is_empty() {
            continue;
        }
        let header = display_header(raw);
        match matcher.spec_for(raw) {
            Some(spec) => {
                if let Some(prev) = bound.get(spec).copied().flatten() {
                    return Err(TabularError::DuplicateColumn {
                        first: column_letter(prev),
                        second: column_letter(col),
                        label: specs
                            .get(spec)
                            .map(|s| s.display_label().to_string())
                            .unwrap_or_default(),
                    });
                }
                if let Some(slot) = bound.get_mut(spec) {
                    *slot = Some(col);
                }
                if let Some(slot) = col_map.get_mut(col as usize) {
                    *slot = Some(spec);
                }
                layout.columns.push(ColumnBinding {
                    letter: column_letter(col),
                    header,
                    spec,
                });
            }
            None if is_sequence_header(&normalize_header(raw)) => {}
            None => layout.unknown_columns.push((column_letter(col), header)),
        }
    }
    layout.missing_specs = specs
        .iter()
        .zip(&bound)
        .filter(|(_, b)| b.is_none())
        .map(|(s, _)| s.key.clone())
        .collect();

    layout.title = rows
        .iter()
        .filter(|r| r.row < choice.row && r.cells.len() <= 2)
        .flat_map(|r| r.cells.iter())
        .filter_map(|(_, c)| match c {
            Cell::Text(t) if !t.trim().is_empty() => Some(t.trim().chars().take(LEADING_TEXT_CHARS).collect()),
            _ => None,
        })
        .take(TITLE_TEXTS)
        .collect();

    let mut first_data_row = choice.row + 1;
    if grid.row(first_data_row).is_some_and(is_notes_row) {
        layout.notes_row = Some(first_data_row + 1);
        first_data_row += 1;
    }
    Ok(Detected {
        layout,
        col_map,
        first_data_row,
    })
}

fn is_notes_row(row: &GridRow) -> bool {
    let mut any = false;
    for (_, cell) in &row.cells {
        match cell {
            c if c.is_blank() => {}
            Cell::Text(t) if is_note_text(t) => any = true,
            _ => return false,
        }
    }
    any
}

/// Words in the name of a sheet that holds instructions rather than data.
const INSTRUCTION_SHEET_WORDS: [&str; 6] =
    ["说明", "填表", "须知", "注意事项", "填报要求", "指标解释"];
/// A cell this long in a sheet of one or two columns is prose, not a table.
const PROSE_CHARS: usize = 30;

/// What a sheet without a matching header looks like, from the rows searched: nothing; a
/// few texts in one or two columns (numbered points and their prose) or a name like
/// 填表说明; or a table with other headers.
fn looks(rows: &[GridRow], sheet: &str) -> SheetLooks {
    let cells: Vec<(u32, &Cell)> = rows
        .iter()
        .filter(|r| r.row < HEADER_SCAN_ROWS)
        .flat_map(|r| r.cells.iter().map(|(c, cell)| (*c, cell)))
        .filter(|(_, c)| !c.is_blank())
        .collect();
    if cells.is_empty() {
        return SheetLooks::Empty;
    }
    let name = normalize_header(sheet);
    if INSTRUCTION_SHEET_WORDS.iter().any(|w| name.contains(w)) {
        return SheetLooks::Instructions;
    }
    let mut columns: Vec<u32> = cells.iter().map(|(c, _)| *c).collect();
    columns.sort_unstable();
    columns.dedup();
    let all_text = cells.iter().all(|(_, c)| matches!(c, Cell::Text(_)));
    let prose = cells.iter().any(|(_, c)| {
        matches!(c, Cell::Text(t) if is_note_text(t) || t.contains("说明") || t.chars().count() >= PROSE_CHARS)
    });
    if all_text && columns.len() <= 2 && prose {
        SheetLooks::Instructions
    } else {
        SheetLooks::Table
    }
}

fn not_found(specs: &[ColumnSpec], rows: &[GridRow], ctx: &Ctx) -> TabularError {
    let expected = if specs.is_empty() {
        "任何指定的列".to_string()
    } else {
        specs
            .iter()
            .map(|s| format!("「{}」", s.display_label()))
            .collect::<Vec<_>>()
            .join("")
    };
    TabularError::NoHeader {
        file: ctx.file.clone(),
        sheet: ctx.sheet.clone(),
        rows: HEADER_SCAN_ROWS,
        expected,
        looks: looks(rows, &ctx.sheet),
    }
}

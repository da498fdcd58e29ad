//! The page of GB/T 9704-2012 (党政机关公文格式) in Word's units.
//!
//! The standard gives millimetres and point sizes; Word wants twips (1/20 pt, 1440 per inch),
//! half-points for font sizes and 1/4096 pt for the character grid. Everything is derived here
//! from the standard's own numbers, so a reader can check each value against the text of the
//! standard rather than against a magic constant.

/// A4.
const PAGE_WIDTH_MM: u32 = 210;
const PAGE_HEIGHT_MM: u32 = 297;
/// 天头: the top margin.
const TOP_MM: u32 = 37;
/// 订口: the binding side, which the standard puts on the left.
const BINDING_MM: u32 = 28;
/// 版心: the text block.
const BLOCK_WIDTH_MM: u32 = 156;
const BLOCK_HEIGHT_MM: u32 = 225;
/// 22 lines of 28 characters fill the text block.
pub(crate) const LINES_PER_PAGE: u32 = 22;
pub(crate) const CHARS_PER_LINE: u32 = 28;
/// The page number's dashes sit 7 mm below the text block.
const PAGE_NUMBER_GAP_MM: u32 = 7;

/// 二号, 三号 and 四号 in points.
pub(crate) const TITLE_PT: u32 = 22;
pub(crate) const BODY_PT: u32 = 16;
pub(crate) const PAGE_NUMBER_PT: u32 = 14;

const fn mm_to_twips(mm: u32) -> u32 {
    // 1 mm = 1440 / 25.4 twips, rounded to the nearest twip.
    (mm * 14_400 + 127) / 254
}

pub(crate) const fn pt_to_twips(pt: u32) -> u32 {
    pt * 20
}

pub(crate) const fn pt_to_half_points(pt: u32) -> u32 {
    pt * 2
}

pub(crate) const PAGE_WIDTH: u32 = mm_to_twips(PAGE_WIDTH_MM);
pub(crate) const PAGE_HEIGHT: u32 = mm_to_twips(PAGE_HEIGHT_MM);
pub(crate) const MARGIN_TOP: u32 = mm_to_twips(TOP_MM);
pub(crate) const MARGIN_BOTTOM: u32 = mm_to_twips(PAGE_HEIGHT_MM - TOP_MM - BLOCK_HEIGHT_MM);
pub(crate) const MARGIN_BINDING: u32 = mm_to_twips(BINDING_MM);
pub(crate) const MARGIN_OUTER: u32 = mm_to_twips(PAGE_WIDTH_MM - BINDING_MM - BLOCK_WIDTH_MM);

/// The text block as Word will lay it out, after each margin was rounded to whole twips.
pub(crate) const BLOCK_WIDTH: u32 = PAGE_WIDTH - MARGIN_BINDING - MARGIN_OUTER;
pub(crate) const BLOCK_HEIGHT: u32 = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;

/// Rounded down so that 22 lines always fit; rounding up would push the 22nd line over.
pub(crate) const LINE_PITCH: u32 = BLOCK_HEIGHT / LINES_PER_PAGE;

// Checked at compile time, so a changed constant cannot quietly lose the 22nd line.
const _: () = assert!(LINE_PITCH * LINES_PER_PAGE <= BLOCK_HEIGHT);

/// Word's `w:charSpace`: how much each grid cell is wider (or, here, narrower) than the body
/// font size, in 1/4096 pt. Rounded down so that 28 characters always fit on a line.
pub(crate) const CHAR_SPACE: i64 = {
    let cell_twips_x28 = BLOCK_WIDTH as i64; // one cell is BLOCK_WIDTH / 28 twips
    let body_twips_x28 = (pt_to_twips(BODY_PT) * CHARS_PER_LINE) as i64;
    // (cell - body) in pt * 4096 = (cell_x28 - body_x28) * 4096 / (28 * 20)
    ((cell_twips_x28 - body_twips_x28) * 4096).div_euclid((CHARS_PER_LINE * 20) as i64)
};

/// Without a character grid, lines keep 28 characters by drawing the characters this much
/// closer together, in twips (a negative `w:spacing` on the run).
pub(crate) const LETTER_SPACING_WITHOUT_GRID: i64 = (BLOCK_WIDTH as i64
    - (pt_to_twips(BODY_PT) * CHARS_PER_LINE) as i64)
    .div_euclid(CHARS_PER_LINE as i64);

/// One character of body text: the standard's unit for indents ("空二字").
pub(crate) const BODY_CHAR: u32 = pt_to_twips(BODY_PT);
/// One character of the page number's size ("空一字" beside the page number).
pub(crate) const PAGE_NUMBER_CHAR: u32 = pt_to_twips(PAGE_NUMBER_PT);

/// The footer's line is exactly one 四号 high, so its top edge — the dashes — lands 7 mm below
/// the text block when the footer's bottom is this far from the page edge.
pub(crate) const FOOTER_DISTANCE: u32 =
    MARGIN_BOTTOM - mm_to_twips(PAGE_NUMBER_GAP_MM) - pt_to_twips(PAGE_NUMBER_PT);
pub(crate) const FOOTER_LINE: u32 = pt_to_twips(PAGE_NUMBER_PT);

/// Word's default; there is no header, but the attribute is required.
pub(crate) const HEADER_DISTANCE: u32 = mm_to_twips(15);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_in_twips() {
        assert_eq!((PAGE_WIDTH, PAGE_HEIGHT), (11906, 16838));
        assert_eq!((MARGIN_TOP, MARGIN_BOTTOM), (2098, 1984));
        assert_eq!((MARGIN_BINDING, MARGIN_OUTER), (1587, 1474));
        // 156.03 mm × 225.01 mm
        assert_eq!((BLOCK_WIDTH, BLOCK_HEIGHT), (8845, 12756));
        assert_eq!(LINE_PITCH, 579);
        assert_eq!(CHAR_SPACE, -842);
        // 28 cells of (16 pt + CHAR_SPACE/4096 pt) fit the block, and a 29th would not.
        let cell_pt = f64::from(BODY_PT) + CHAR_SPACE as f64 / 4096.0;
        let block_pt = f64::from(BLOCK_WIDTH) / 20.0;
        assert!(cell_pt * 28.0 <= block_pt && cell_pt * 29.0 > block_pt);
        assert_eq!(LETTER_SPACING_WITHOUT_GRID, -5);
        assert_eq!(FOOTER_DISTANCE, 1984 - 397 - 280);
    }
}

//! Writes the built-in form templates of `catalogue/forms/` (the county's layout, with
//! placeholders in the cells): `cargo run -p taizhang-reports --example make_forms`.
//! The test `forms::template_is_generated` checks the committed files match this program.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

const FONT: &str = "宋体";

fn base() -> Format {
    Format::new().set_font_name(FONT).set_font_size(11)
}

fn boxed() -> Format {
    base().set_border(FormatBorder::Thin).set_align(FormatAlign::Center).set_align(FormatAlign::VerticalCenter)
}

/// Columns after 序号 and 村名: (group, header, indicator, number format).
const COLUMNS: [(&str, &str, &str, &str); 7] = [
    ("低保", "户数", "dibao_households", "0"),
    ("低保", "人数", "dibao_people", "0"),
    ("低保", "金额（元）", "dibao_paid", "#,##0.00"),
    ("特困供养", "人数", "destitute_people", "0"),
    ("特困供养", "金额（元）", "destitute_paid", "#,##0.00"),
    ("临时救助", "人次", "temporary_relief_cases", "0"),
    ("临时救助", "金额（元）", "temporary_relief_amount", "#,##0.00"),
];

fn form_sheet(ws: &mut Worksheet) -> Result<(), XlsxError> {
    let last_col: u16 = 2 + u16::try_from(COLUMNS.len()).unwrap_or(0); // 备注
    ws.set_name("社会救助月报")?;
    ws.set_column_width(0, 6)?;
    ws.set_column_width(1, 14)?;
    for c in 2..last_col {
        ws.set_column_width(c, 12)?;
    }
    ws.set_column_width(last_col, 12)?;

    // Title and the line under it.
    let title = base().set_font_size(18).set_bold().set_align(FormatAlign::Center).set_align(FormatAlign::VerticalCenter);
    ws.set_row_height(0, 36)?;
    ws.merge_range(0, 0, 0, last_col, "{{ place }}{{ period }}社会救助统计表", &title)?;
    ws.set_row_height(1, 22)?;
    ws.merge_range(1, 0, 1, 5, "填报单位（盖章）：{{ place }}{{ \"村民委员会\" if place[-1:] == \"村\" else \"人民政府\" }}", &base().set_align(FormatAlign::Left).set_align(FormatAlign::VerticalCenter))?;
    ws.merge_range(1, 6, 1, last_col, "单位：户、人、人次、元", &base().set_align(FormatAlign::Right).set_align(FormatAlign::VerticalCenter))?;

    // Two header rows.
    let head = boxed().set_bold().set_text_wrap();
    ws.set_row_height(2, 22)?;
    ws.set_row_height(3, 22)?;
    ws.merge_range(2, 0, 3, 0, "序号", &head)?;
    ws.merge_range(2, 1, 3, 1, "村（社区）", &head)?;
    let mut c = 2u16;
    while usize::from(c - 2) < COLUMNS.len() {
        let group = COLUMNS[usize::from(c - 2)].0;
        let span = u16::try_from(COLUMNS.iter().filter(|x| x.0 == group).count()).unwrap_or(1);
        ws.merge_range(2, c, 2, c + span - 1, group, &head)?;
        for k in 0..span {
            ws.write_string_with_format(3, c + k, COLUMNS[usize::from(c - 2 + k)].1, &head)?;
        }
        c += span;
    }
    ws.merge_range(2, last_col, 3, last_col, "备注", &head)?;

    // The row repeated once per village, then 合计.
    ws.set_row_height(4, 20)?;
    ws.write_string_with_format(4, 0, "{#每村#}{{ v.no }}", &boxed())?;
    ws.write_string_with_format(4, 1, "{{ v.name }}", &boxed())?;
    for (i, (_, _, key, fmt)) in COLUMNS.iter().enumerate() {
        let f = boxed().set_align(FormatAlign::Right).set_num_format(*fmt);
        ws.write_string_with_format(4, 2 + u16::try_from(i).unwrap_or(0), format!("{{{{ at(v, \"{key}\") }}}}"), &f)?;
    }
    ws.write_blank(4, last_col, &boxed())?;
    ws.set_row_height(5, 20)?;
    ws.merge_range(5, 0, 5, 1, "合计", &boxed().set_bold())?;
    for (i, (_, _, key, fmt)) in COLUMNS.iter().enumerate() {
        let f = boxed().set_bold().set_align(FormatAlign::Right).set_num_format(*fmt);
        ws.write_string_with_format(5, 2 + u16::try_from(i).unwrap_or(0), format!("{{{{ num(\"{key}\") }}}}"), &f)?;
    }
    ws.write_blank(5, last_col, &boxed())?;

    // Signatures and the note.
    let foot = base().set_align(FormatAlign::Left).set_align(FormatAlign::VerticalCenter);
    ws.set_row_height(6, 30)?;
    ws.merge_range(6, 0, 6, 2, "填报人：", &foot)?;
    ws.merge_range(6, 3, 6, 5, "审核人：", &foot)?;
    ws.merge_range(6, 6, 6, last_col, "填报日期：{{ filled_on }}", &foot)?;
    ws.set_row_height(7, 34)?;
    let note = base().set_font_size(10).set_text_wrap().set_align(FormatAlign::Left).set_align(FormatAlign::VerticalCenter);
    ws.merge_range(
        7,
        0,
        7,
        last_col,
        "说明：1．低保户数、低保人数、特困人数为月末在册数，金额、人次为当月发放数；2．低保、特困按保障对象所在村统计，临时救助按受助户所在村统计；3．本表由台账系统根据台账记录生成，数字可在系统中查到对应记录。",
        &note,
    )?;

    // Print: A4 landscape, one page wide, header rows repeated.
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_margins(0.6, 0.6, 0.8, 0.8, 0.3, 0.3);
    ws.set_print_center_horizontally(true);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(2, 3)?;
    ws.set_print_area(0, 0, 7, last_col)?;
    Ok(())
}

const NOTES: [&str; 12] = [
    "填写说明（本页不填充，生成的报表中隐藏）",
    "1. 单元格里用 {{ … }} 写占位符，与年度总结模板的写法相同：{{ place }} 镇名，{{ period }} 期间（如 2023年11月），{{ year }} 年份，{{ filled_on }} 填报日期。",
    "2. {{ num(\"指标键\") }} 写全镇（本报表地区）的数，金额以元为单位、保留两位小数；整个单元格只有这一个占位符时，填成数字，单元格原有的数字格式照常起作用。",
    "3. {{ fig(\"指标键\", \"approx:10\") }} 按年度总结的格式写成文字（如 260余）；{{ hp(\"户数指标\", \"人数指标\") }} 写成 1330户4785人。",
    "4. 某一行的任一单元格写有 {#每村#}（通常写在第一格开头），这一行按村重复，每村一行，按区划代码排序；行内可用 {{ v.no }} 序号、{{ v.name }} 村名、{{ v.code }} 区划代码、{{ at(v, \"指标键\") }} 该村的数。",
    "5. 按村重复后，下面的行整体下移，合并单元格、打印区域和公式中的单元格引用随之调整；其余格式（字体、边框、列宽、行高、页面设置）原样保留。",
    "6. 指标键见 taizhang indicators 的第一列；指标定义在 catalogue/indicators/。",
    "7. 本表用到的指标：dibao_households 低保户数、dibao_people 低保人数、dibao_paid 低保金额、destitute_people 特困人数、destitute_paid 特困供养金额、temporary_relief_cases 临时救助人次、temporary_relief_amount 临时救助金额。",
    "8. 生成：taizhang report --period 2023-11 --template social_assistance_monthly -o 社会救助月报.xlsx",
    "9. 自己的样表：把县里下发的 Excel 表格照此写好占位符，另存为 .xlsx，用 --template 文件路径 生成。",
    "10. 名为「填写说明」的工作表不填充，在生成的报表中隐藏。",
    "详见 docs/forms.md。",
];

fn notes_sheet(ws: &mut Worksheet) -> Result<(), XlsxError> {
    ws.set_name("填写说明")?;
    ws.set_column_width(0, 110)?;
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    let f = base().set_text_wrap().set_align(FormatAlign::VerticalCenter);
    for (i, line) in NOTES.iter().enumerate() {
        let row = u32::try_from(i).unwrap_or(0);
        ws.set_row_height(row, if i == 0 { 24 } else { 36 })?;
        let fmt = if i == 0 { f.clone().set_bold().set_font_size(14) } else { f.clone() };
        ws.write_string_with_format(row, 0, *line, &fmt)?;
    }
    Ok(())
}

/// The bytes of `social_assistance_monthly.xlsx`.
pub fn social_assistance_monthly() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let props = DocProperties::new()
        .set_title("社会救助月报（样表）")
        .set_author("台账")
        .set_creation_datetime(&ExcelDateTime::from_ymd(2024, 1, 1)?);
    wb.set_properties(&props);
    form_sheet(wb.add_worksheet())?;
    notes_sheet(wb.add_worksheet())?;
    wb.save_to_buffer()
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalogue/forms");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("social_assistance_monthly.xlsx");
    std::fs::write(&path, social_assistance_monthly()?)?;
    println!("{}", path.display());
    Ok(())
}

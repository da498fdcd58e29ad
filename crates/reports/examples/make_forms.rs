//! Writes the built-in form templates of `catalogue/forms/` (the county's layout, with
//! placeholders in the cells): `cargo run -p taizhang-reports --example make_forms`.
//! The tests `forms::template_is_generated` and `county_forms::templates_are_generated` check
//! the committed files match this program.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError};

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

/// A column of a monthly form by village, after 序号 and 村名.
#[derive(Clone, Copy)]
pub enum Figure {
    /// An indicator's figure: the village's in the village row, the column's sum in 合计.
    Indicator(&'static str),
    /// A rate in per cent of two earlier columns (numerator, denominator, counted from the first
    /// figure column), left empty where the denominator is 0 or not a number (未登记).
    Rate(usize, usize),
}

/// A column: (group over it, header, figure, number format).
pub type Column = (&'static str, &'static str, Figure, &'static str);

/// One of the county's monthly forms by village with a 合计 row of sums.
pub struct CountyForm {
    pub file: &'static str,
    pub sheet: &'static str,
    /// After `{{ place }}{{ period }}` in the title.
    pub title: &'static str,
    pub units: &'static str,
    pub columns: &'static [Column],
    /// The form's 说明 row.
    pub note: &'static str,
    /// The indicators it uses, for the notes sheet.
    pub indicators: &'static str,
}

const UNRECORDED_NOTE: &str = "「未登记」表示本期该台账在本地区没有任何记录（不是 0），请核实是否漏录；";

/// The monthly forms of the county beside 社会救助月报.
pub const COUNTY_FORMS: [CountyForm; 3] = [
    CountyForm {
        file: "monitoring_monthly",
        sheet: "防返贫监测月报",
        title: "防返贫监测对象变化情况月报表",
        units: "单位：户、人",
        columns: &[
            ("月末监测对象", "户数", Figure::Indicator("monitoring_households"), "0"),
            ("月末监测对象", "人数", Figure::Indicator("monitoring_people"), "0"),
            ("本月新识别纳入", "户数", Figure::Indicator("monitoring_new_households"), "0"),
            ("本月新识别纳入", "人数", Figure::Indicator("monitoring_new_people"), "0"),
            ("本月风险消除", "户数", Figure::Indicator("monitoring_eliminated_in_period_households"), "0"),
            ("本月风险消除", "人数", Figure::Indicator("monitoring_eliminated_in_period_people"), "0"),
            ("月末未消除风险", "户数", Figure::Indicator("monitoring_risk_households"), "0"),
            ("月末未消除风险", "人数", Figure::Indicator("monitoring_risk_people"), "0"),
        ],
        note: "说明：1．监测对象、未消除风险为月末在册数（已审定纳入监测的，不含识别程序中的），新识别纳入、风险消除为识别纳入日期、风险消除日期在本月的；2．按监测户所在村统计，合计为各村之和；3．",
        indicators: "monitoring_households 监测对象户数、monitoring_people 监测对象人数、monitoring_new_households / monitoring_new_people 本月新识别纳入户数、人数、monitoring_eliminated_in_period_households / monitoring_eliminated_in_period_people 本月风险消除户数、人数、monitoring_risk_households / monitoring_risk_people 未消除风险户数、人数。",
    },
    CountyForm {
        file: "hazards_monthly",
        sheet: "安全隐患月报",
        title: "安全隐患排查整治情况月报表",
        units: "单位：处",
        columns: &[
            ("本月排查隐患", "合计", Figure::Indicator("hazards_found"), "0"),
            ("本月排查隐患", "一般隐患", Figure::Indicator("hazards_found_general"), "0"),
            ("本月排查隐患", "重大隐患", Figure::Indicator("hazards_found_major"), "0"),
            ("整改情况", "已整改", Figure::Indicator("hazards_found_rectified"), "0"),
            ("整改情况", "未整改", Figure::Indicator("hazards_found_unrectified"), "0"),
            ("整改情况", "整改率", Figure::Rate(3, 0), "0.0%"),
        ],
        note: "说明：1．统计本月发现的隐患，已整改为月末以前整改完成的，整改率＝已整改÷排查隐患；2．按隐患登记所在村统计，合计为各村之和；3．",
        indicators: "hazards_found 排查隐患处数、hazards_found_general 一般隐患、hazards_found_major 重大隐患、hazards_found_rectified 已整改、hazards_found_unrectified 未整改；整改率是表里的公式。",
    },
    CountyForm {
        file: "disputes_monthly",
        sheet: "矛盾纠纷月报",
        title: "矛盾纠纷排查调处情况月报表",
        units: "单位：件、人",
        columns: &[
            ("本月排查纠纷", "件数", Figure::Indicator("disputes_found"), "0"),
            ("本月排查纠纷", "涉及人数", Figure::Indicator("disputes_found_people"), "0"),
            ("调处情况", "调处成功", Figure::Indicator("disputes_found_resolved"), "0"),
            ("调处情况", "正在调处", Figure::Indicator("disputes_found_mediating"), "0"),
            ("调处情况", "移交上级", Figure::Indicator("disputes_found_transferred"), "0"),
            ("调处情况", "调处成功率", Figure::Rate(2, 0), "0.0%"),
        ],
        note: "说明：1．统计本月受理的纠纷，调处成功、移交上级为月末以前化解、移交的，其余为正在调处（含尚未分流的），调处成功率＝调处成功÷排查纠纷；2．按纠纷登记所在村统计，合计为各村之和；3．",
        indicators: "disputes_found 排查纠纷件数、disputes_found_people 涉及人数、disputes_found_resolved 调处成功、disputes_found_mediating 正在调处、disputes_found_transferred 移交上级；调处成功率是表里的公式。",
    },
];

/// `0` → `A`; the forms are narrower than 26 columns.
fn letter(col: u16) -> char {
    char::from(b'A' + u8::try_from(col).unwrap_or(25))
}

fn county_sheet(ws: &mut Worksheet, form: &CountyForm) -> Result<(), XlsxError> {
    let n = u16::try_from(form.columns.len()).unwrap_or(0);
    let last_col: u16 = 2 + n; // 备注
    let (village, total) = (4u32, 5u32);
    ws.set_name(form.sheet)?;
    ws.set_column_width(0, 6)?;
    ws.set_column_width(1, 14)?;
    for c in 2..last_col {
        ws.set_column_width(c, 11)?;
    }
    ws.set_column_width(last_col, 12)?;

    let title = base().set_font_size(18).set_bold().set_align(FormatAlign::Center).set_align(FormatAlign::VerticalCenter);
    ws.set_row_height(0, 36)?;
    ws.merge_range(0, 0, 0, last_col, &format!("{{{{ place }}}}{{{{ period }}}}{}", form.title), &title)?;
    ws.set_row_height(1, 22)?;
    let left = base().set_align(FormatAlign::Left).set_align(FormatAlign::VerticalCenter);
    ws.merge_range(1, 0, 1, 5, "填报单位（盖章）：{{ issuer }}", &left)?;
    ws.merge_range(1, 6, 1, last_col, form.units, &base().set_align(FormatAlign::Right).set_align(FormatAlign::VerticalCenter))?;

    let head = boxed().set_bold().set_text_wrap();
    ws.set_row_height(2, 22)?;
    ws.set_row_height(3, 22)?;
    ws.merge_range(2, 0, 3, 0, "序号", &head)?;
    ws.merge_range(2, 1, 3, 1, "村（社区）", &head)?;
    let mut i = 0usize;
    while i < form.columns.len() {
        let group = form.columns[i].0;
        let span = form.columns[i..].iter().take_while(|c| c.0 == group).count();
        let c = 2 + u16::try_from(i).unwrap_or(0);
        let s = u16::try_from(span).unwrap_or(1);
        if s > 1 {
            ws.merge_range(2, c, 2, c + s - 1, group, &head)?;
        } else {
            ws.write_string_with_format(2, c, group, &head)?;
        }
        for k in 0..span {
            ws.write_string_with_format(3, c + u16::try_from(k).unwrap_or(0), form.columns[i + k].1, &head)?;
        }
        i += span;
    }
    ws.merge_range(2, last_col, 3, last_col, "备注", &head)?;

    // The row repeated once per village, then 合计 as the sum of the village rows (the county
    // checks that the rows add up); a column whose every village says 未登记 says so in 合计 too.
    ws.set_row_height(village, 20)?;
    ws.set_row_height(total, 20)?;
    ws.write_string_with_format(village, 0, "{#每村#}{{ v.no }}", &boxed())?;
    ws.write_string_with_format(village, 1, "{{ v.name }}", &boxed())?;
    ws.merge_range(total, 0, total, 1, "合计", &boxed().set_bold())?;
    let column = |i: usize| letter(2 + u16::try_from(i).unwrap_or(0));
    for (i, (_, _, figure, fmt)) in form.columns.iter().enumerate() {
        let c = 2 + u16::try_from(i).unwrap_or(0);
        let cell = boxed().set_align(FormatAlign::Right).set_num_format(*fmt);
        let bold = cell.clone().set_bold();
        let col = column(i);
        let r1 = village + 1;
        match *figure {
            Figure::Indicator(key) => {
                ws.write_string_with_format(village, c, format!("{{{{ at(v, \"{key}\") }}}}"), &cell)?;
                let f = format!("=IF(COUNT({col}{r1}:{col}{r1})=0,\"未登记\",SUM({col}{r1}:{col}{r1}))");
                ws.write_formula_with_format(total, c, Formula::new(f), &bold)?;
            }
            Figure::Rate(num, den) => {
                let (a, b) = (column(num), column(den));
                for (r, f) in [(village, &cell), (total, &bold)] {
                    let x = r + 1;
                    ws.write_formula_with_format(r, c, Formula::new(format!("=IF(N({b}{x})=0,\"\",N({a}{x})/{b}{x})")), f)?;
                }
            }
        }
    }
    ws.write_blank(village, last_col, &boxed())?;
    ws.write_blank(total, last_col, &boxed())?;

    let foot = base().set_align(FormatAlign::Left).set_align(FormatAlign::VerticalCenter);
    ws.set_row_height(6, 30)?;
    ws.merge_range(6, 0, 6, 2, "填报人：", &foot)?;
    ws.merge_range(6, 3, 6, 5, "审核人：", &foot)?;
    ws.merge_range(6, 6, 6, last_col, "填报日期：{{ filled_on }}", &foot)?;
    ws.set_row_height(7, 46)?;
    let note = base().set_font_size(10).set_text_wrap().set_align(FormatAlign::Left).set_align(FormatAlign::VerticalCenter);
    let text = format!("{}{UNRECORDED_NOTE}4．本表由台账系统根据台账记录生成，数字可在系统中查到对应记录。", form.note);
    ws.merge_range(7, 0, 7, last_col, &text, &note)?;

    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_margins(0.6, 0.6, 0.8, 0.8, 0.3, 0.3);
    ws.set_print_center_horizontally(true);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(2, 3)?;
    ws.set_print_area(0, 0, 7, last_col)?;
    Ok(())
}

fn county_notes(ws: &mut Worksheet, form: &CountyForm) -> Result<(), XlsxError> {
    let lines = [
        NOTES[0].to_string(),
        NOTES[1].to_string(),
        NOTES[2].to_string(),
        "3. 某一行的任一单元格写有 {#每村#}（通常写在第一格开头），这一行按村重复，每村一行，按区划代码排序；行内可用 {{ v.no }} 序号、{{ v.name }} 村名、{{ at(v, \"指标键\") }} 该村的数。合计行是各村之和（SUM 公式，按村重复后自动扩到全部村）。".to_string(),
        "4. 一本台账在本期、本地区没有任何记录时，用到它的数不写 0，写「未登记」；{{ recorded(\"指标键\") }} 可在单元格里自己判断。".to_string(),
        NOTES[5].to_string(),
        NOTES[6].to_string(),
        format!("7. 本表用到的指标：{}", form.indicators),
        format!("8. 生成：taizhang report --period 2023-11 --template {} -o {}.xlsx", form.file, form.sheet),
        NOTES[9].to_string(),
        NOTES[10].to_string(),
        NOTES[11].to_string(),
    ];
    ws.set_name("填写说明")?;
    ws.set_column_width(0, 110)?;
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    let f = base().set_text_wrap().set_align(FormatAlign::VerticalCenter);
    for (i, line) in lines.iter().enumerate() {
        let row = u32::try_from(i).unwrap_or(0);
        ws.set_row_height(row, if i == 0 { 24 } else { 36 })?;
        let fmt = if i == 0 { f.clone().set_bold().set_font_size(14) } else { f.clone() };
        ws.write_string_with_format(row, 0, line, &fmt)?;
    }
    Ok(())
}

/// The bytes of one of [`COUNTY_FORMS`].
pub fn county_form(form: &CountyForm) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let props = DocProperties::new()
        .set_title(format!("{}（样表）", form.title))
        .set_author("台账")
        .set_creation_datetime(&ExcelDateTime::from_ymd(2024, 1, 1)?);
    wb.set_properties(&props);
    county_sheet(wb.add_worksheet(), form)?;
    county_notes(wb.add_worksheet(), form)?;
    wb.save_to_buffer()
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalogue/forms");
    std::fs::create_dir_all(&dir)?;
    let mut made = vec![("social_assistance_monthly".to_string(), social_assistance_monthly()?)];
    for form in &COUNTY_FORMS {
        made.push((form.file.to_string(), county_form(form)?));
    }
    for (file, bytes) in made {
        let path = dir.join(format!("{file}.xlsx"));
        std::fs::write(&path, bytes)?;
        println!("{}", path.display());
    }
    Ok(())
}

//! The .xlsx package (a zip of XML parts): which parts are sheets, their names, the shared
//! strings; filled sheets replace their parts, every other entry is copied raw (same
//! compressed bytes, same timestamps), so filling is deterministic.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::rows::{self, Layout};
use super::sheet::{self, CellOut};
use super::xml::{self, set_attr, Kind, Tag};

/// Fills one cell: (sheet name, cell text, village index, cell reference) → content.
pub(crate) type CellFiller<'a> = dyn FnMut(&str, &str, Option<usize>, &str) -> Result<CellOut, String> + 'a;

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

fn read_part(zip: &mut Archive<'_>, path: &str) -> Result<Option<String>, String> {
    let mut f = match zip.by_name(path) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(format!("读取 {path} 失败：{e}")),
    };
    let mut s = String::new();
    f.read_to_string(&mut s).map_err(|e| format!("{path} 不是 UTF-8 编码的 XML：{e}"))?;
    Ok(Some(s))
}

/// `worksheets/sheet1.xml` relative to `xl/` (or `/xl/worksheets/sheet1.xml`) → a zip path.
fn resolve(target: &str) -> String {
    match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("xl/{target}"),
    }
}

/// Relationship id → target path, and the shared strings part, from the workbook's rels.
fn relationships(rels: &str) -> Result<(BTreeMap<String, String>, Option<String>), String> {
    let mut map = BTreeMap::new();
    let mut shared = None;
    for t in xml::tags(rels)?.iter().filter(|t| t.name == "Relationship") {
        if let (Some(id), Some(target)) = (t.attr("Id"), t.attr("Target")) {
            map.insert(id.to_string(), resolve(target));
            if t.attr("Type").is_some_and(|ty| ty.ends_with("/sharedStrings")) {
                shared = Some(resolve(target));
            }
        }
    }
    Ok((map, shared))
}

/// The text of each shared string item (`<si>`), in order.
fn shared_strings(part: &str) -> Result<Vec<String>, String> {
    let tags = xml::tags(part)?;
    let mut out = Vec::new();
    let mut first = None;
    for (k, t) in tags.iter().enumerate() {
        match (t.name.as_str(), t.kind) {
            ("si", Kind::Start) => first = Some(k),
            ("si", Kind::Empty) => out.push(String::new()),
            ("si", Kind::End) => out.push(first.take().map(|f| sheet::run_text(part, &tags[f..k])).unwrap_or_default()),
            _ => {}
        }
    }
    Ok(out)
}

/// `'社会救助 月报'!` / `Sheet1!` as a formula writes the qualifier of a sheet.
fn qualifiers(name: &str) -> [String; 2] {
    [format!("'{}'!", name.replace('\'', "''")), format!("{name}!")]
}

/// Defined names (print area, print titles) of sheets whose rows moved.
fn shift_defined_names(workbook: &str, moved: &[(String, Layout)]) -> Result<String, String> {
    let tags = xml::tags(workbook)?;
    let mut out = String::new();
    let mut copied = 0;
    let mut open: Option<&Tag> = None;
    for t in &tags {
        match (t.name.as_str(), t.kind) {
            ("definedName", Kind::Start) => open = Some(t),
            ("definedName", Kind::End) => {
                let Some(o) = open.take() else { continue };
                let text = xml::unescape(&workbook[o.end..t.start]);
                let parts: Vec<String> = text
                    .split(',')
                    .map(|part| {
                        for (name, layout) in moved {
                            for q in qualifiers(name) {
                                if let Some(rest) = part.trim_start().strip_prefix(&q) {
                                    return format!("{q}{}", rows::shift(rest, layout));
                                }
                            }
                        }
                        part.to_string()
                    })
                    .collect();
                let new = parts.join(",");
                if new != text {
                    out.push_str(&workbook[copied..o.end]);
                    out.push_str(&xml::escape(&new));
                    copied = t.start;
                }
            }
            _ => {}
        }
    }
    out.push_str(&workbook[copied..]);
    Ok(out)
}

/// Asks Excel, WPS and LibreOffice to recompute formulas on opening (their cached values are
/// stale once cells were filled).
fn full_calc_on_load(workbook: &str) -> Result<String, String> {
    let tags = xml::tags(workbook)?;
    if let Some(t) = tags.iter().find(|t| t.name == "calcPr" && t.kind != Kind::End) {
        let new = set_attr(&workbook[t.start..t.end], "fullCalcOnLoad", "1");
        return Ok(format!("{}{new}{}", &workbook[..t.start], &workbook[t.end..]));
    }
    // calcPr follows definedNames (or sheets) in the schema's order.
    let after = tags
        .iter()
        .rev()
        .find(|t| t.kind != Kind::Start && matches!(t.name.as_str(), "definedNames" | "externalReferences" | "functionGroups" | "sheets"));
    Ok(match after {
        Some(t) => {
            let p = tags.first().map(|t| t.prefix().to_string()).unwrap_or_default();
            format!("{}<{p}calcPr fullCalcOnLoad=\"1\"/>{}", &workbook[..t.end], &workbook[t.end..])
        }
        None => workbook.to_string(),
    })
}

/// A part without the tags named `name` whose attribute `attr` ends with `suffix`.
fn drop_tags(part: &str, name: &str, attr: &str, suffix: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut copied = 0;
    for t in xml::tags(part)?.iter().filter(|t| t.name == name && t.kind == Kind::Empty) {
        if t.attr(attr).is_some_and(|v| v.ends_with(suffix)) {
            out.push_str(&part[copied..t.start]);
            copied = t.end;
        }
    }
    out.push_str(&part[copied..]);
    Ok(out)
}

/// Sheets whose name starts with this hold the clerk's notes on the template: not filled, and
/// hidden in the filled workbook.
pub(crate) const NOTES_SHEET: &str = "填写说明";

/// The workbook with the `<sheet>` tags at `spans` hidden.
fn hide(workbook: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut copied = 0;
    for &(a, b) in spans {
        out.push_str(&workbook[copied..a]);
        out.push_str(&set_attr(&workbook[a..b], "state", "hidden"));
        copied = b;
    }
    out.push_str(&workbook[copied..]);
    out
}

/// The workbook opening on sheet `index` when its active sheet is no longer visible.
fn first_visible_active(workbook: &str, index: usize) -> Result<String, String> {
    let tags = xml::tags(workbook)?;
    let states: Vec<bool> = tags.iter().filter(|t| t.name == "sheet").map(|t| t.attr("state").is_none_or(|s| s == "visible")).collect();
    let Some(view) = tags.iter().find(|t| t.name == "workbookView") else { return Ok(workbook.to_string()) };
    let active: usize = view.attr("activeTab").and_then(|a| a.parse().ok()).unwrap_or(0);
    if states.get(active).copied().unwrap_or(true) {
        return Ok(workbook.to_string());
    }
    let mut tag = set_attr(&workbook[view.start..view.end], "activeTab", &index.to_string());
    if view.attr("firstSheet").is_some() {
        tag = set_attr(&tag, "firstSheet", &index.to_string());
    }
    Ok(format!("{}{tag}{}", &workbook[..view.start], &workbook[view.end..]))
}

/// Fills every sheet of the package; the bytes of the new package.
pub(crate) fn fill(template: &[u8], villages: usize, cell: &mut CellFiller<'_>) -> Result<Vec<u8>, String> {
    let mut zip = ZipArchive::new(Cursor::new(template)).map_err(|_| "不是有效的 xlsx 文件（无法按 zip 压缩包读取；旧的 .xls 请先另存为 .xlsx）".to_string())?;
    let workbook = read_part(&mut zip, "xl/workbook.xml")?.ok_or("不是有效的 xlsx 文件（缺少 xl/workbook.xml）")?;
    let rels = read_part(&mut zip, "xl/_rels/workbook.xml.rels")?.ok_or("不是有效的 xlsx 文件（缺少 xl/_rels/workbook.xml.rels）")?;
    let (targets, shared_path) = relationships(&rels)?;
    let shared = match &shared_path {
        Some(p) => read_part(&mut zip, p)?.map(|s| shared_strings(&s)).transpose()?.unwrap_or_default(),
        None => Vec::new(),
    };

    let mut replaced: BTreeMap<String, String> = BTreeMap::new();
    let mut moved: Vec<(String, Layout)> = Vec::new();
    let mut formulas = false;
    let mut notes = Vec::new();
    let mut note_parts = Vec::new();
    let mut visible = Vec::new();
    for (index, t) in xml::tags(&workbook)?.iter().filter(|t| t.name == "sheet").enumerate() {
        let name = t.attr("name").unwrap_or_default().to_string();
        let Some(path) = t.attrs.iter().find(|(k, _)| k.ends_with(":id")).and_then(|(_, id)| targets.get(id)) else { continue };
        if name.starts_with(NOTES_SHEET) {
            notes.push((t.start, t.end));
            note_parts.push(path.clone());
            continue;
        }
        if t.attr("state").is_none_or(|s| s == "visible") {
            visible.push(index);
        }
        let Some(part) = read_part(&mut zip, path)? else { continue };
        // Formulas anywhere (another sheet may sum this one) are recomputed on opening.
        formulas |= part.contains("</f>") || part.contains("<f ");
        let mut f = |text: &str, v: Option<usize>, r: &str| cell(&name, text, v, r);
        if let Some(filled) = sheet::fill(&part, &shared, villages, &mut f).map_err(|e| {
            let sep = if e.starts_with("单元格") { "" } else { "：" };
            format!("工作表「{name}」{sep}{e}")
        })? {
            formulas |= filled.has_formulas;
            if !filled.layout.is_identity() {
                moved.push((name.clone(), filled.layout));
            }
            replaced.insert(path.clone(), filled.xml);
        }
    }
    let mut removed = Vec::new();
    if !replaced.is_empty() {
        let mut wb = hide(&workbook, &notes);
        if !notes.is_empty() {
            // A template saved while its notes were open: the form becomes the open sheet.
            wb = first_visible_active(&wb, visible.first().copied().unwrap_or(0))?;
            for p in &note_parts {
                if let Some(x) = read_part(&mut zip, p)?.filter(|x| x.contains("tabSelected=\"1\"")) {
                    replaced.insert(p.clone(), x.replace("tabSelected=\"1\"", "tabSelected=\"0\""));
                }
            }
        }
        wb = shift_defined_names(&wb, &moved)?;
        if formulas {
            wb = full_calc_on_load(&wb)?;
            // The calculation chain lists formula cells by position; Excel rebuilds it.
            if !moved.is_empty() && zip.by_name("xl/calcChain.xml").is_ok() {
                removed.push("xl/calcChain.xml".to_string());
                replaced.insert("xl/_rels/workbook.xml.rels".into(), drop_tags(&rels, "Relationship", "Target", "calcChain.xml")?);
                if let Some(ct) = read_part(&mut zip, "[Content_Types].xml")? {
                    replaced.insert("[Content_Types].xml".into(), drop_tags(&ct, "Override", "PartName", "/calcChain.xml")?);
                }
            }
        }
        if wb != workbook {
            replaced.insert("xl/workbook.xml".into(), wb);
        }
    }

    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let zerr = |e: zip::result::ZipError| format!("写入 xlsx 失败：{e}");
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(zerr)?;
        let name = entry.name().to_string();
        if removed.contains(&name) {
            continue;
        }
        match replaced.get(&name) {
            None => out.raw_copy_file(entry).map_err(zerr)?,
            Some(text) => {
                let options = SimpleFileOptions::default()
                    .compression_method(CompressionMethod::Deflated)
                    .last_modified_time(entry.last_modified().unwrap_or_default());
                drop(entry);
                out.start_file(name.as_str(), options).map_err(zerr)?;
                out.write_all(text.as_bytes()).map_err(|e| format!("写入 xlsx 失败：{e}"))?;
            }
        }
    }
    Ok(out.finish().map_err(zerr)?.into_inner())
}

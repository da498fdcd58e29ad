//! Our own streaming reader of .xlsx worksheets: quick-xml over the sheet's zip entry, with
//! the shared strings and the cell formats (to know which numbers are dates) read once.
//!
//! It yields exactly the cells calamine's `worksheet_cells_reader` yields, decoded the same
//! way (a test compares the two cell by cell), at a fraction of the cost per cell: one pass
//! over each `<c>`'s attributes, no event per attribute lookup, values decoded straight into
//! `Cell`. calamine stays for .xls and any workbook this reader declines (`Workbook::open`
//! returns `None`).
//!
//! Every part is read through `Guarded`, so a hostile file meets the `Limits` on what it
//! actually decompresses to, whatever its zip headers claim: one XML event, one string, the
//! shared-string table, one part and its compression ratio are all bounded.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;

use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;
use zip::read::ZipFile;
use zip::ZipArchive;

use crate::error::TabularError;
use crate::header::{Region, BUFFER_ROWS};
use crate::limits::{bytes_text, declared, Guarded, Hit, Limits};
use crate::model::Cell;
use crate::text::column_letter;

/// Days between the 1900 and 1904 date systems' day zero.
const DAYS_1900_TO_1904: f64 = 1462.0;
/// Decompressed bytes buffered between the zip entry and the XML parser.
const XML_BUFFER: usize = 256 * 1024;
/// Merged areas kept from a sheet: only those reaching into the rows searched for the
/// header matter, and a real header has a handful.
const MAX_MERGES: usize = 10_000;
/// Shared-string text is kept in blocks of this size, so the table never doubles (and
/// copies) a buffer as large as itself.
const STRING_BLOCK: usize = 1 << 20;

/// What a cell's number format makes of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Other,
    DateTime,
    TimeDelta,
}

/// A cell's `t` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No `t`: a number, or text when it does not parse as one.
    Untyped,
    /// `t="n"`.
    Number,
    Shared,
    Bool,
    Error,
    /// `t="str"` (a formula's text) and `t="d"` (an ISO date, kept as text).
    Text,
    Inline,
    Unknown,
}

impl Kind {
    fn of(t: &[u8]) -> Kind {
        match t {
            b"n" => Kind::Number,
            b"s" => Kind::Shared,
            b"b" => Kind::Bool,
            b"e" => Kind::Error,
            b"str" | b"d" => Kind::Text,
            b"inlineStr" => Kind::Inline,
            _ => Kind::Unknown,
        }
    }
}

/// Why reading a part stopped: a limit (the file is refused) or damage (the caller words it,
/// or leaves the workbook to calamine). Details are Chinese: they may reach a clerk.
#[derive(Debug)]
pub(crate) enum Fault {
    Limit(Hit),
    Bad(String),
}

type Res<T> = Result<T, Fault>;

fn bad(what: impl Into<String>) -> Fault {
    Fault::Bad(what.into())
}

impl From<quick_xml::Error> for Fault {
    fn from(e: quick_xml::Error) -> Self {
        match e {
            quick_xml::Error::Io(io) => match Hit::of_io(&io) {
                Some(hit) => Fault::Limit(hit),
                None => bad("读取压缩包内容出错（文件可能不完整）"),
            },
            _ => bad("XML 格式有误"),
        }
    }
}

impl From<quick_xml::events::attributes::AttrError> for Fault {
    fn from(_: quick_xml::events::attributes::AttrError) -> Self {
        bad("XML 属性格式有误")
    }
}

impl From<quick_xml::encoding::EncodingError> for Fault {
    fn from(_: quick_xml::encoding::EncodingError) -> Self {
        bad("XML 文本编码有误")
    }
}

impl From<quick_xml::escape::EscapeError> for Fault {
    fn from(_: quick_xml::escape::EscapeError) -> Self {
        bad("XML 转义字符有误")
    }
}

/// Why opening stopped: the file is refused, or this reader leaves it to calamine.
pub(crate) enum Stop {
    Refused(TabularError),
    Declined,
}

/// Marks where one XML event starts, for `Guarded`'s bound on an event's size.
pub(crate) trait EventStart {
    fn start_event(&mut self);
}

impl<R: Read> EventStart for Guarded<R> {
    fn start_event(&mut self) {
        Guarded::start_event(self);
    }
}

type Xml<B> = Reader<B>;

fn xml_of<B: BufRead>(b: B) -> Xml<B> {
    let mut r = Reader::from_reader(b);
    let c = r.config_mut();
    c.check_end_names = false;
    c.trim_text(false);
    c.check_comments = false;
    c.expand_empty_elements = false;
    r
}

/// The next event, its size bounded.
#[inline]
fn next_ev<'b, B: BufRead + EventStart>(xml: &mut Xml<B>, buf: &'b mut Vec<u8>) -> Res<Event<'b>> {
    buf.clear();
    xml.get_mut().start_event();
    Ok(xml.read_event_into(buf)?)
}

/// The shared-string table, its text in fixed blocks: (block << 20 | offset, length) a string.
#[derive(Default)]
pub(crate) struct SharedStrings {
    blocks: Vec<String>,
    index: Vec<(u32, u32)>,
    bytes: usize,
}

impl SharedStrings {
    fn push(&mut self, s: &str) -> bool {
        let fits = self.blocks.last().is_some_and(|b| b.capacity() - b.len() >= s.len());
        if !fits {
            if self.blocks.len() >= 4096 {
                return false;
            }
            self.blocks.push(String::with_capacity(STRING_BLOCK.max(s.len())));
        }
        let block = self.blocks.len() - 1;
        let Some(b) = self.blocks.last_mut() else { return false };
        let (Ok(off), Ok(len)) = (u32::try_from(b.len()), u32::try_from(s.len())) else { return false };
        b.push_str(s);
        self.index.push(((block as u32) << 20 | off, len));
        self.bytes += s.len() + 8;
        true
    }

    fn get(&self, i: usize) -> Option<&str> {
        let (at, len) = *self.index.get(i)?;
        let block = self.blocks.get((at >> 20) as usize)?;
        let start = (at & 0xF_FFFF) as usize;
        block.get(start..start + len as usize)
    }

    fn len(&self) -> usize {
        self.index.len()
    }
}

/// One sheet as the workbook lists it.
struct SheetEntry {
    name: String,
    /// Path inside the zip.
    path: String,
    hidden: bool,
}

/// An opened .xlsx: the sheets' paths, the date system, the shared strings and formats.
pub(crate) struct Workbook<R: Read + Seek> {
    zip: ZipArchive<R>,
    file: String,
    limits: Limits,
    sheets: Vec<SheetEntry>,
    is_1904: bool,
    strings: SharedStrings,
    formats: Vec<Format>,
}

impl Workbook<BufReader<File>> {
    /// Opens the file: `Ok(None)` when it is not a workbook this reader knows how to read
    /// (the caller then uses calamine, which words the error if there is one), an error when
    /// it breaks a limit.
    pub(crate) fn open_path(path: &Path, file: &str, limits: Limits) -> Result<Option<Self>, TabularError> {
        let Ok(f) = File::open(path) else { return Ok(None) };
        Workbook::open(BufReader::new(f), file, limits)
    }
}

/// What to call a part of the workbook in a message.
fn part_name(path: &str, sheets: &[SheetEntry]) -> String {
    if let Some(s) = sheets.iter().find(|s| s.path.eq_ignore_ascii_case(path)) {
        return format!("工作表「{}」", s.name);
    }
    let lower = path.to_ascii_lowercase();
    if lower.ends_with("sharedstrings.xml") {
        "共享文本表".to_string()
    } else if lower.contains("worksheets/") {
        format!("工作表（{path}）")
    } else {
        format!("部件 {path}")
    }
}

/// A limit met while reading a part outside any sheet's cells.
fn part_refusal(file: &str, part: &str, hit: Hit, limits: &Limits) -> TabularError {
    match hit {
        Hit::EntryBytes(limit) => TabularError::EntryTooLarge { file: file.to_string(), part: part.to_string(), limit },
        Hit::Ratio(limit) => TabularError::CompressionRatio { file: file.to_string(), part: part.to_string(), limit },
        Hit::XmlEvent | Hit::Chars(_) | Hit::Table(_) | Hit::RowBytes(_) | Hit::Encoding(_) => TabularError::Corrupt(format!(
            "文件「{file}」中的{part}有一段内容超过 {}，文件可能已损坏或被人为构造，未读取",
            bytes_text(limits.xml_event_bytes())
        )),
    }
}

impl<R: Read + Seek> Workbook<R> {
    pub(crate) fn open(reader: R, file: &str, limits: Limits) -> Result<Option<Self>, TabularError> {
        let Ok(zip) = ZipArchive::new(reader) else { return Ok(None) };
        let mut wb = Workbook {
            zip,
            file: file.to_string(),
            limits,
            sheets: Vec::new(),
            is_1904: false,
            strings: SharedStrings::default(),
            formats: Vec::new(),
        };
        match wb.load() {
            Ok(()) => Ok(Some(wb)),
            Err(Stop::Declined) => Ok(None),
            Err(Stop::Refused(e)) => Err(e),
        }
    }

    fn load(&mut self) -> Result<(), Stop> {
        let rels = self.relationships()?;
        self.workbook(&rels)?;
        self.strings = read_shared_strings(&mut self.zip, &self.file, &self.limits)?.unwrap_or_default();
        self.styles()?;
        Ok(())
    }

    /// Sheet names in workbook order, with whether each is hidden.
    pub(crate) fn sheets(&self) -> Vec<(String, bool)> {
        self.sheets.iter().map(|s| (s.name.clone(), s.hidden)).collect()
    }

    fn stop(&self, path: &str, f: Fault) -> Stop {
        match f {
            Fault::Limit(hit) => Stop::Refused(part_refusal(&self.file, &part_name(path, &self.sheets), hit, &self.limits)),
            Fault::Bad(_) => Stop::Declined,
        }
    }

    fn relationships(&mut self) -> Result<HashMap<Vec<u8>, String>, Stop> {
        const PATH: &str = "xl/_rels/workbook.xml.rels";
        let max = self.limits.part_bytes;
        let mut read = || -> Res<Option<HashMap<Vec<u8>, String>>> {
            let Some(mut xml) = open_entry(&mut self.zip, PATH, max, &self.limits)? else { return Ok(None) };
            let mut out = HashMap::new();
            let mut buf = Vec::new();
            loop {
                match next_ev(&mut xml, &mut buf)? {
                    Event::Start(ref e) | Event::Empty(ref e) if e.local_name().as_ref() == b"Relationship" => {
                        let (mut id, mut target) = (Vec::new(), String::new());
                        for a in e.attributes() {
                            let a = a?;
                            match a.key.as_ref() {
                                b"Id" => id = a.value.to_vec(),
                                b"Target" => target = String::from_utf8(a.value.to_vec()).map_err(|_| bad("关系文件的路径不是 UTF-8"))?,
                                _ => {}
                            }
                        }
                        out.insert(id, target);
                    }
                    Event::Eof => break,
                    _ => {}
                }
            }
            Ok(Some(out))
        };
        match read() {
            Ok(Some(rels)) => Ok(rels),
            Ok(None) => Err(Stop::Declined),
            Err(f) => Err(self.stop(PATH, f)),
        }
    }

    fn workbook(&mut self, rels: &HashMap<Vec<u8>, String>) -> Result<(), Stop> {
        const PATH: &str = "xl/workbook.xml";
        let max = self.limits.part_bytes;
        let mut read = || -> Res<Option<(Vec<SheetEntry>, bool)>> {
            let Some(mut xml) = open_entry(&mut self.zip, PATH, max, &self.limits)? else { return Ok(None) };
            let mut buf = Vec::new();
            let (mut sheets, mut is_1904) = (Vec::new(), false);
            loop {
                match next_ev(&mut xml, &mut buf)? {
                    Event::Start(ref e) | Event::Empty(ref e) if e.local_name().as_ref() == b"sheet" => {
                        let (mut name, mut path, mut hidden) = (None, None, false);
                        for a in e.attributes() {
                            let a = a?;
                            match a.key.as_ref() {
                                b"name" => name = Some(a.decode_and_unescape_value(xml.decoder())?.into_owned()),
                                b"state" => hidden = matches!(a.value.as_ref(), b"hidden" | b"veryHidden"),
                                b"r:id" | b"relationships:id" => {
                                    let r = rels.get(a.value.as_ref()).ok_or_else(|| bad("工作表的关系不存在"))?;
                                    path = Some(if let Some(p) = r.strip_prefix('/') {
                                        p.to_string()
                                    } else if r.starts_with("xl/") {
                                        r.clone()
                                    } else {
                                        format!("xl/{r}")
                                    });
                                }
                                _ => {}
                            }
                        }
                        sheets.push(SheetEntry { name: name.unwrap_or_default(), path: path.unwrap_or_default(), hidden });
                    }
                    Event::Start(ref e) | Event::Empty(ref e) if e.name().as_ref() == b"workbookPr" => {
                        if let Some(a) = e.try_get_attribute("date1904")? {
                            is_1904 = matches!(a.value.as_ref(), b"1" | b"true");
                        }
                    }
                    Event::Eof => break,
                    _ => {}
                }
            }
            Ok(Some((sheets, is_1904)))
        };
        match read() {
            Ok(Some((sheets, is_1904))) => {
                self.sheets = sheets;
                self.is_1904 = is_1904;
                Ok(())
            }
            Ok(None) => Err(Stop::Declined),
            Err(f) => Err(self.stop(PATH, f)),
        }
    }

    fn styles(&mut self) -> Result<(), Stop> {
        const PATH: &str = "xl/styles.xml";
        let max = self.limits.part_bytes;
        let mut read = || -> Res<Vec<Format>> {
            let Some(mut xml) = open_entry(&mut self.zip, PATH, max, &self.limits)? else { return Ok(Vec::new()) };
            let mut custom: HashMap<Vec<u8>, String> = HashMap::new();
            let mut formats = Vec::new();
            let mut buf = Vec::new();
            let (mut in_num_fmts, mut in_cell_xfs) = (false, false);
            loop {
                match next_ev(&mut xml, &mut buf)? {
                    Event::Start(ref e) if e.local_name().as_ref() == b"numFmts" => in_num_fmts = true,
                    Event::End(ref e) if e.local_name().as_ref() == b"numFmts" => in_num_fmts = false,
                    Event::Start(ref e) if e.local_name().as_ref() == b"cellXfs" => in_cell_xfs = true,
                    Event::End(ref e) if e.local_name().as_ref() == b"cellXfs" => in_cell_xfs = false,
                    Event::Start(ref e) | Event::Empty(ref e) if in_num_fmts && e.local_name().as_ref() == b"numFmt" => {
                        let (mut id, mut code) = (Vec::new(), String::new());
                        for a in e.attributes() {
                            let a = a?;
                            match a.key.as_ref() {
                                b"numFmtId" => id = a.value.to_vec(),
                                // calamine decodes without unescaping; so do we.
                                b"formatCode" => code = String::from_utf8_lossy(&a.value).into_owned(),
                                _ => {}
                            }
                        }
                        if !code.is_empty() {
                            custom.insert(id, code);
                        }
                    }
                    Event::Start(ref e) | Event::Empty(ref e) if in_cell_xfs && e.local_name().as_ref() == b"xf" => {
                        let f = e
                            .attributes()
                            .filter_map(Result::ok)
                            .find(|a| a.key.as_ref() == b"numFmtId")
                            .map_or(Format::Other, |a| match custom.get(a.value.as_ref()) {
                                Some(code) => custom_format(code),
                                None => builtin_format(&a.value),
                            });
                        formats.push(f);
                    }
                    Event::Eof => break,
                    _ => {}
                }
            }
            Ok(formats)
        };
        match read() {
            Ok(formats) => {
                self.formats = formats;
                Ok(())
            }
            Err(f) => Err(self.stop(PATH, f)),
        }
    }

    /// Whether the workbook lists a sheet of that name (worksheet or not).
    pub(crate) fn has_sheet(&self, sheet: &str) -> bool {
        self.sheets.iter().any(|s| s.name == sheet)
    }

    /// The worksheet's path, or `None` when there is no such sheet or it is not a worksheet.
    fn worksheet_path(&self, sheet: &str) -> Option<String> {
        let path = self.sheets.iter().find(|s| s.name == sheet).map(|s| s.path.clone())?;
        if path.split('/').nth(1) != Some("worksheets") {
            return None;
        }
        Some(path)
    }

    /// The cells of `sheet`, or `None` when the workbook has no such worksheet.
    pub(crate) fn cells(&mut self, sheet: &str) -> Result<Option<SheetCells<'_, R>>, TabularError> {
        let Some(path) = self.worksheet_path(sheet) else { return Ok(None) };
        let part = part_name(&path, &self.sheets);
        let Workbook { zip, strings, formats, is_1904, file, limits, .. } = self;
        let xml = match open_entry(zip, &path, limits.entry_bytes, limits) {
            Ok(Some(xml)) => xml,
            Ok(None) => return Ok(None),
            Err(Fault::Limit(hit)) => return Err(part_refusal(file, &part, hit, limits)),
            Err(Fault::Bad(why)) => return Err(TabularError::Corrupt(format!("{part}：{why}"))),
        };
        let mut cells = SheetCells {
            xml,
            strings,
            formats,
            is_1904: *is_1904,
            file,
            sheet: sheet.to_string(),
            part,
            limits,
            last_row: 0,
            row: 0,
            col: 0,
            in_cell: None,
            buf: Vec::with_capacity(1024),
            inner: Vec::with_capacity(256),
            text: String::new(),
        };
        cells.skip_to_sheet_data()?;
        Ok(Some(cells))
    }

    /// The merged areas of `sheet` that reach into the rows searched for the header.
    /// mergeCells sits after sheetData, so this reads the whole sheet once more.
    pub(crate) fn merges(&mut self, sheet: &str) -> Result<Vec<Region>, TabularError> {
        let Some(path) = self.worksheet_path(sheet) else { return Ok(Vec::new()) };
        let part = part_name(&path, &self.sheets);
        let limits = self.limits;
        let mut read = || -> Res<Vec<Region>> {
            let Some(mut xml) = open_entry(&mut self.zip, &path, limits.entry_bytes, &limits)? else { return Ok(Vec::new()) };
            let mut out = Vec::new();
            let mut buf = Vec::new();
            loop {
                match next_ev(&mut xml, &mut buf)? {
                    Event::Start(ref e) | Event::Empty(ref e) if e.local_name().as_ref() == b"mergeCell" => {
                        let Some(a) = e.try_get_attribute("ref")? else { continue };
                        let r = merge_region(&a.value)?;
                        if r.first_row < BUFFER_ROWS && out.len() < MAX_MERGES {
                            out.push(r);
                        }
                    }
                    Event::Eof => return Ok(out),
                    _ => {}
                }
            }
        };
        match read() {
            Ok(regions) => Ok(regions),
            Err(Fault::Limit(hit)) => Err(part_refusal(&self.file, &part, hit, &self.limits)),
            Err(Fault::Bad(why)) => Err(TabularError::Corrupt(format!("{part}：{why}"))),
        }
    }
}

impl<R: Read + Seek> Workbook<R> {
/// Merged areas below the header that span rows, for filling a merged value down
/// (`Body::fill_merged`). `<mergeCells>` follows `<sheetData>`, so the part is inflated once
/// more, but its bytes are only searched, not parsed, up to that element.
pub(crate) fn data_merges(&mut self, sheet: &str, from_row: u32) -> Result<Vec<Region>, TabularError> {
    let Some(path) = self.worksheet_path(sheet) else { return Ok(Vec::new()) };
    let part = part_name(&path, &self.sheets);
    let limits = self.limits;
    let mut read = || -> Res<Vec<Region>> {
        let Some(mut xml) = open_entry(&mut self.zip, &path, limits.entry_bytes, &limits)? else { return Ok(Vec::new()) };
        let Some(tail) = merge_cells_tail(xml.get_mut())? else { return Ok(Vec::new()) };
        let mut reader = xml_of(&tail[..]);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_event_into(&mut buf) {
                Ok(Event::Start(ref e) | Event::Empty(ref e)) if e.local_name().as_ref() == b"mergeCell" => {
                    let Some(a) = e.try_get_attribute("ref")? else { continue };
                    let r = merge_region(&a.value)?;
                    if r.first_row >= from_row && r.last_row > r.first_row && out.len() < MAX_DATA_MERGES {
                        out.push(r);
                    }
                }
                Ok(Event::End(ref e)) if e.local_name().as_ref() == b"mergeCells" => return Ok(out),
                Ok(Event::Eof) => return Ok(out),
                // The tail was cut at its bound: what was read whole is kept.
                Err(_) if tail.len() >= MERGE_TAIL_BYTES => return Ok(out),
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
        }
    };
    match read() {
        Ok(regions) => Ok(regions),
        Err(Fault::Limit(hit)) => Err(part_refusal(&self.file, &part, hit, &self.limits)),
        Err(Fault::Bad(why)) => Err(TabularError::Corrupt(format!("{part}：{why}"))),
    }
}
}

/// Vertical merges below the header that are filled down; more are left as they are.
const MAX_DATA_MERGES: usize = 200_000;
/// Bytes of `<mergeCells>` read at most (200,000 areas of ~30 bytes).
const MERGE_TAIL_BYTES: usize = 8 << 20;

/// The part from its `<mergeCells` element on (the element's own prefix dropped), or `None`
/// if it has none. Every byte passes through `Guarded`, so the part's limits hold.
fn merge_cells_tail<R: Read>(g: &mut Guarded<R>) -> Res<Option<Vec<u8>>> {
    const NEEDLE: &[u8] = b"mergeCells";
    let io = |e: std::io::Error| match Hit::of_io(&e) {
        Some(hit) => Fault::Limit(hit),
        None => bad("读取压缩包内容出错（文件可能不完整）"),
    };
    // The end of the previous block, so a needle split across two blocks is found.
    let mut carry: Vec<u8> = Vec::with_capacity(2 * NEEDLE.len());
    let mut tail: Option<Vec<u8>> = None;
    loop {
        g.start_event();
        let block = g.fill_buf().map_err(io)?;
        if block.is_empty() {
            return Ok(tail);
        }
        let n = block.len();
        match tail.as_mut() {
            Some(t) => {
                let room = MERGE_TAIL_BYTES.saturating_sub(t.len());
                t.extend_from_slice(&block[..n.min(room)]);
                if t.len() >= MERGE_TAIL_BYTES {
                    return Ok(tail);
                }
            }
            None => {
                carry.extend_from_slice(&block[..n.min(NEEDLE.len())]);
                let found = match find(&carry, NEEDLE) {
                    Some(i) => Some((i, true)),
                    None => find(block, NEEDLE).map(|i| (i, false)),
                };
                if let Some((i, in_carry)) = found {
                    let mut t = b"<".to_vec();
                    if in_carry {
                        let start_in_block = (i + NEEDLE.len()).saturating_sub(carry.len() - n.min(NEEDLE.len()));
                        t.extend_from_slice(NEEDLE);
                        t.extend_from_slice(&block[start_in_block.min(n)..]);
                    } else {
                        t.extend_from_slice(&block[i..]);
                    }
                    tail = Some(t);
                } else {
                    carry.clear();
                    carry.extend_from_slice(&block[n.saturating_sub(NEEDLE.len())..]);
                }
            }
        }
        g.consume(n);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// "A1:C2" (or "B3" alone) as a zero-based inclusive area.
fn merge_region(v: &[u8]) -> Res<Region> {
    let mut parts = v.split(|b| *b == b':');
    let first = parts.next().unwrap_or_default();
    let last = parts.next().unwrap_or(first);
    let (r0, c0) = cell_ref(first)?;
    let (r1, c1) = cell_ref(last)?;
    let (c0, c1) = (c0.unwrap_or(0), c1.unwrap_or(0));
    Ok(Region { first_row: r0.min(r1), first_col: c0.min(c1), last_row: r0.max(r1), last_col: c0.max(c1) })
}

/// The entry named `path` (matched as calamine matches it: case aside, `\` for `/`), its
/// header checked and its bytes guarded.
fn open_entry<'z, R: Read + Seek>(
    zip: &'z mut ZipArchive<R>,
    path: &str,
    max_total: u64,
    limits: &Limits,
) -> Res<Option<Xml<Guarded<ZipFile<'z, R>>>>> {
    let Some(name) = zip.file_names().find(|n| path.eq_ignore_ascii_case(&n.replace('\\', "/"))).map(str::to_string) else {
        return Ok(None);
    };
    let f = zip.by_name(&name).map_err(|_| bad("压缩包中的部件无法读取"))?;
    let compressed = f.compressed_size();
    declared(f.size(), compressed, max_total, limits).map_err(Fault::Limit)?;
    Ok(Some(xml_of(Guarded::new(f, XML_BUFFER, compressed, max_total, limits))))
}

/// The shared-string table, `None` when the workbook has none. Each string and the whole
/// table are held to their limits as they are read.
fn read_shared_strings<R: Read + Seek>(zip: &mut ZipArchive<R>, file: &str, limits: &Limits) -> Result<Option<SharedStrings>, Stop> {
    const PATH: &str = "xl/sharedStrings.xml";
    let max_bytes = limits.shared_strings_bytes.min(u32::MAX as usize);
    let mut strings = SharedStrings::default();
    let result = (|| -> Res<bool> {
        let Some(mut xml) = open_entry(zip, PATH, limits.entry_bytes, limits)? else { return Ok(false) };
        let mut buf = Vec::new();
        loop {
            match next_ev(&mut xml, &mut buf)? {
                Event::Start(ref e) if e.local_name().as_ref() == b"si" => {
                    let name = e.name().as_ref().to_vec();
                    if let Some(s) = read_string(&mut xml, &name, limits.shared_string_chars)? {
                        if !strings.push(&s) || strings.bytes > max_bytes {
                            return Err(Fault::Limit(Hit::Table(max_bytes)));
                        }
                    }
                }
                Event::Eof => return Ok(true),
                _ => {}
            }
        }
    })();
    let too_long = |limit| TabularError::SharedStringTooLarge { file: file.to_string(), index: strings.len() + 1, limit };
    match result {
        Ok(true) => Ok(Some(strings)),
        Ok(false) => Ok(None),
        Err(Fault::Limit(Hit::Table(limit))) => Err(Stop::Refused(TabularError::SharedStringsTooLarge { file: file.to_string(), limit })),
        Err(Fault::Limit(Hit::Chars(limit))) => Err(Stop::Refused(too_long(limit))),
        Err(Fault::Limit(Hit::XmlEvent)) => Err(Stop::Refused(too_long(limits.shared_string_chars))),
        Err(Fault::Limit(hit)) => Err(Stop::Refused(part_refusal(file, "共享文本表", hit, limits))),
        Err(Fault::Bad(_)) => Err(Stop::Declined),
    }
}

/// Makes sure calamine can open a workbook this reader declined without meeting anything a
/// limit forbids: calamine reads the shared strings and metadata whole at open and streams
/// sheets through quick-xml, so every XML part is read here first, through the same guards
/// (the shared strings with the same per-string and table limits). Damage is left for
/// calamine to find and word; only limits are errors here.
pub(crate) fn vet_for_calamine(path: &Path, file: &str, limits: &Limits) -> Result<(), TabularError> {
    let Ok(f) = File::open(path) else { return Ok(()) };
    let Ok(mut zip) = ZipArchive::new(BufReader::new(f)) else { return Ok(()) };
    match read_shared_strings(&mut zip, file, limits) {
        Err(Stop::Refused(e)) => return Err(e),
        Ok(_) | Err(Stop::Declined) => {}
    }
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    for name in names {
        let lower = name.to_ascii_lowercase();
        if !(lower.ends_with(".xml") || lower.ends_with(".rels")) {
            continue;
        }
        let normal = name.replace('\\', "/");
        let sheetlike = lower.contains("worksheets") || lower.ends_with("sharedstrings.xml");
        let max = if sheetlike { limits.entry_bytes } else { limits.part_bytes };
        let scan = (|| -> Res<()> {
            let Some(mut xml) = open_entry(&mut zip, &normal, max, limits)? else { return Ok(()) };
            let mut buf = Vec::new();
            while !matches!(next_ev(&mut xml, &mut buf)?, Event::Eof) {}
            Ok(())
        })();
        match scan {
            Ok(()) | Err(Fault::Bad(_)) => {}
            // calamine reports no row, so the message names the part.
            Err(Fault::Limit(Hit::XmlEvent)) if sheetlike => {
                return Err(TabularError::Corrupt(format!(
                    "文件「{file}」中的{}有单元格超过 {} 个字符（Excel 一个单元格最多 32767 个字符），文件可能已损坏或被人为构造，未读取",
                    part_name(&normal, &[]),
                    limits.cell_chars
                )));
            }
            Err(Fault::Limit(hit)) => return Err(part_refusal(file, &part_name(&normal, &[]), hit, limits)),
        }
    }
    Ok(())
}

/// The cells of one worksheet in file order, as (zero-based row, zero-based column, value).
pub(crate) struct SheetCells<'a, R: Read + Seek> {
    xml: Xml<Guarded<ZipFile<'a, R>>>,
    strings: &'a SharedStrings,
    formats: &'a [Format],
    is_1904: bool,
    file: &'a str,
    sheet: String,
    part: String,
    limits: &'a Limits,
    last_row: u32,
    row: u32,
    col: u32,
    /// The cell whose value is being read, for messages.
    in_cell: Option<(u32, u32)>,
    buf: Vec<u8>,
    inner: Vec<u8>,
    text: String,
}

impl<R: Read + Seek> SheetCells<'_, R> {
    /// The last row the sheet's `<dimension>` claims (zero-based; 0 when it names none).
    pub(crate) fn last_row(&self) -> u32 {
        self.last_row
    }

    /// A fault met while reading this sheet, as the clerk will read it.
    fn refusal(&self, f: Fault) -> TabularError {
        let (row, col) = match self.in_cell {
            Some((r, c)) => (r, Some(c)),
            None => (self.row, None),
        };
        let row1 = row.saturating_add(1);
        let sheet = Some(self.sheet.clone());
        match f {
            Fault::Limit(Hit::Chars(limit)) => TabularError::CellTooLarge { file: self.file.to_string(), sheet, row: row1, column: col.map(column_letter), limit },
            Fault::Limit(Hit::XmlEvent) => TabularError::CellTooLarge {
                file: self.file.to_string(),
                sheet,
                row: row1,
                column: col.map(column_letter),
                limit: self.limits.cell_chars,
            },
            Fault::Limit(hit) => part_refusal(self.file, &self.part, hit, self.limits),
            Fault::Bad(why) => TabularError::Corrupt(format!("{}第 {row1} 行附近：{why}", self.part)),
        }
    }

    fn skip_to_sheet_data(&mut self) -> Result<(), TabularError> {
        self.skip().map_err(|f| self.refusal(f))
    }

    fn skip(&mut self) -> Res<()> {
        loop {
            match next_ev(&mut self.xml, &mut self.buf)? {
                Event::Start(ref e) | Event::Empty(ref e) if e.local_name().as_ref() == b"dimension" => {
                    let r = e.try_get_attribute("ref")?.ok_or_else(|| bad("dimension 缺少 ref"))?;
                    let last = r.value.split(|b| *b == b':').next_back().unwrap_or_default();
                    self.last_row = cell_ref(last)?.0;
                }
                Event::Start(ref e) if e.local_name().as_ref() == b"sheetData" => return Ok(()),
                // An empty sheet: nothing follows.
                Event::Empty(ref e) if e.local_name().as_ref() == b"sheetData" => {
                    self.row = u32::MAX;
                    return Ok(());
                }
                Event::Eof => return Err(bad("工作表中没有 sheetData")),
                _ => {}
            }
        }
    }

    pub(crate) fn next_cell(&mut self) -> Result<Option<(u32, u32, Cell)>, TabularError> {
        self.in_cell = None;
        self.next().map_err(|f| self.refusal(f))
    }

    fn next(&mut self) -> Res<Option<(u32, u32, Cell)>> {
        if self.row == u32::MAX {
            return Ok(None);
        }
        loop {
            let ev = next_ev(&mut self.xml, &mut self.buf)?;
            match ev {
                Event::Start(ref e) | Event::Empty(ref e) if e.local_name().as_ref() == b"c" => {
                    let empty = matches!(ev, Event::Empty(_));
                    let (mut pos, mut kind, mut style) = (None, Kind::Untyped, None);
                    for a in e.attributes().with_checks(false) {
                        let a = a?;
                        match a.key.as_ref() {
                            b"r" => pos = Some(cell_ref(&a.value)?),
                            b"t" => kind = Kind::of(&a.value),
                            // calamine reads a style it cannot parse as style 0.
                            b"s" => style = Some(parse_usize(&a.value).unwrap_or(0)),
                            _ => {}
                        }
                    }
                    let pos = match pos {
                        Some((row, col)) => {
                            let col = col.ok_or_else(|| bad("单元格位置缺少列"))?;
                            self.col = col;
                            (row, col)
                        }
                        None => (self.row, self.col),
                    };
                    self.in_cell = Some(pos);
                    let value = if empty { Cell::Empty } else { self.cell_value(&kind, style)? };
                    self.col = self.col.saturating_add(1);
                    return Ok(Some((pos.0, pos.1, value)));
                }
                Event::Start(ref e) if e.local_name().as_ref() == b"row" => {
                    if let Some(a) = e.try_get_attribute("r")? {
                        self.row = cell_ref(&a.value)?.0;
                    }
                }
                Event::End(ref e) if e.local_name().as_ref() == b"row" => {
                    self.row = self.row.saturating_add(1);
                    self.col = 0;
                }
                Event::Empty(ref e) if e.local_name().as_ref() == b"row" => {
                    // calamine sees <row/> as a start and an end: the row counter moves on.
                    if let Some(a) = e.try_get_attribute("r")? {
                        self.row = cell_ref(&a.value)?.0;
                    }
                    self.row = self.row.saturating_add(1);
                    self.col = 0;
                }
                Event::End(ref e) if e.local_name().as_ref() == b"sheetData" => {
                    self.row = u32::MAX;
                    return Ok(None);
                }
                Event::Eof => return Err(bad("工作表意外结束（sheetData）")),
                _ => {}
            }
        }
    }

    /// The children of a `<c>` up to its end; the last `<v>`, `<is>` or `<f>` decides.
    fn cell_value(&mut self, kind: &Kind, style: Option<usize>) -> Res<Cell> {
        let mut value = Cell::Empty;
        let max = self.limits.cell_chars;
        loop {
            match next_ev(&mut self.xml, &mut self.inner)? {
                Event::Start(ref e) => match e.local_name().as_ref() {
                    b"v" => {
                        let name = e.name().as_ref().to_vec();
                        self.text.clear();
                        read_text(&mut self.xml, &name, &mut self.text, max)?;
                        value = self.decode_v(kind, style)?;
                    }
                    b"is" => {
                        let name = e.name().as_ref().to_vec();
                        value = read_string(&mut self.xml, &name, max)?.map_or(Cell::Empty, text_cell);
                    }
                    b"f" => {
                        let name = e.name().as_ref().to_vec();
                        skip_to(&mut self.xml, &name)?;
                        value = Cell::Empty;
                    }
                    _ => return Err(bad("单元格中有意外的元素（应为 v、f 或 is）")),
                },
                Event::Empty(ref e) => match e.local_name().as_ref() {
                    b"v" => {
                        self.text.clear();
                        value = self.decode_v(kind, style)?;
                    }
                    b"is" | b"f" => value = Cell::Empty,
                    _ => return Err(bad("单元格中有意外的元素（应为 v、f 或 is）")),
                },
                Event::End(ref e) if e.local_name().as_ref() == b"c" => return Ok(value),
                Event::Eof => return Err(bad("工作表意外结束（c）")),
                _ => {}
            }
        }
    }

    /// A `<v>`'s text by the cell's type and format, as calamine decodes it.
    fn decode_v(&self, kind: &Kind, style: Option<usize>) -> Res<Cell> {
        let v = self.text.as_str();
        let format = match style {
            Some(i) => self.formats.get(i).copied(),
            None => Some(Format::Other),
        };
        Ok(match kind {
            Kind::Shared => {
                let i = parse_usize(v.as_bytes()).unwrap_or(0);
                let s = self.strings.get(i).ok_or_else(|| bad(format!("共享文本第 {} 条不存在", i + 1)))?;
                text_cell_ref(s)
            }
            Kind::Bool => Cell::Bool(v != "0"),
            Kind::Error => match v {
                "#DIV/0!" | "#N/A" | "#NAME?" | "#NULL!" | "#NUM!" | "#REF!" | "#VALUE!" => Cell::Error(v.to_string()),
                _ => return Err(bad("未知的错误值")),
            },
            Kind::Text => text_cell_ref(v),
            Kind::Number => {
                if v.is_empty() {
                    Cell::Empty
                } else {
                    let n: f64 = v.parse().map_err(|_| bad("数值格式有误"))?;
                    self.number(n, format)
                }
            }
            Kind::Untyped => match v.parse::<f64>() {
                Ok(n) => self.number(n, format),
                Err(_) => text_cell_ref(v),
            },
            Kind::Inline => return Err(bad("inlineStr 单元格没有 is 元素")),
            Kind::Unknown => return Err(bad("未知的单元格类型")),
        })
    }

    fn number(&self, n: f64, format: Option<Format>) -> Cell {
        match format {
            Some(Format::DateTime) if self.is_1904 => Cell::DateTime(n + DAYS_1900_TO_1904),
            Some(Format::DateTime | Format::TimeDelta) => Cell::DateTime(n),
            _ => Cell::Float(n),
        }
    }
}

fn text_cell(s: String) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s)
    }
}

fn text_cell_ref(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s.to_string())
    }
}

fn parse_usize(b: &[u8]) -> Option<usize> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut n = 0usize;
    for c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(usize::from(c - b'0'))?;
    }
    Some(n)
}

/// "C107" → (106, Some(2)); "107" → (106, None). Zero-based, as calamine reads them.
fn cell_ref(range: &[u8]) -> Res<(u32, Option<u32>)> {
    let bad_ref = || bad(format!("单元格位置「{}」无效", String::from_utf8_lossy(range.get(..range.len().min(20)).unwrap_or_default())));
    let split = range.iter().position(u8::is_ascii_digit).unwrap_or(range.len());
    let (letters, digits) = range.split_at(split);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || digits.len() > 9 {
        return Err(bad_ref());
    }
    let mut row = 0u32;
    for d in digits {
        row = row * 10 + u32::from(d - b'0');
    }
    let row = row.checked_sub(1).ok_or_else(bad_ref)?;
    if letters.is_empty() {
        return Ok((row, None));
    }
    if letters.len() > 4 {
        return Err(bad_ref());
    }
    let mut col = 0u32;
    for c in letters {
        if !c.is_ascii_alphabetic() {
            return Err(bad_ref());
        }
        col = col * 26 + u32::from(c.to_ascii_uppercase() - b'A') + 1;
    }
    Ok((row, Some(col - 1)))
}

/// Appends `piece`, refusing past `max` characters. Characters are only counted once the
/// text has more bytes than `max` (before that it cannot have more characters), and then
/// kept in `chars` piece by piece.
#[inline]
fn push_capped(out: &mut String, chars: &mut Option<usize>, piece: &str, max: usize) -> Res<()> {
    out.push_str(piece);
    if out.len() <= max {
        return Ok(());
    }
    let n = match *chars {
        Some(c) => c + piece.chars().count(),
        None => out.chars().count(),
    };
    *chars = Some(n);
    if n > max {
        return Err(Fault::Limit(Hit::Chars(max)));
    }
    Ok(())
}

/// Text and entities up to the element's end, as calamine reads a `<v>`.
fn read_text<B: BufRead + EventStart>(xml: &mut Xml<B>, end: &[u8], out: &mut String, max: usize) -> Res<()> {
    let mut buf = Vec::new();
    let mut chars = None;
    loop {
        match next_ev(xml, &mut buf)? {
            Event::Text(t) => push_capped(out, &mut chars, &t.xml10_content()?, max)?,
            Event::GeneralRef(e) => {
                let mut c = String::new();
                entity(&e, &mut c)?;
                push_capped(out, &mut chars, &c, max)?;
            }
            Event::End(e) if e.name().as_ref() == end => return Ok(()),
            Event::Eof => return Err(bad("工作表意外结束（v）")),
            _ => {}
        }
    }
}

fn entity(e: &BytesRef<'_>, out: &mut String) -> Res<()> {
    let name = e.decode()?;
    let known = match name.as_ref() {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    };
    match known {
        Some(c) => out.push(c),
        None => match e.resolve_char_ref().map_err(|_| bad("无法识别的字符引用"))? {
            Some(c) => out.push(c),
            None => return Err(bad("无法识别的实体")),
        },
    }
    Ok(())
}

/// A shared or inline string: plain `<t>`, or rich text runs `<r><t>` joined, phonetic runs
/// (`<rPh>`) left out; `_x000D_`-style escapes undone. As calamine's `read_string`. At most
/// `max` characters, the runs of rich text together.
fn read_string<B: BufRead + EventStart>(xml: &mut Xml<B>, closing: &[u8], max: usize) -> Res<Option<String>> {
    let mut buf = Vec::new();
    let mut rich: Option<String> = None;
    let mut rich_chars = None;
    let mut phonetic = false;
    loop {
        match next_ev(xml, &mut buf)? {
            Event::Start(ref e) if e.local_name().as_ref() == b"r" => {
                rich.get_or_insert_with(String::new);
            }
            Event::Start(ref e) if e.local_name().as_ref() == b"rPh" => phonetic = true,
            Event::End(ref e) if e.name().as_ref() == closing => return Ok(rich),
            Event::End(ref e) if e.local_name().as_ref() == b"rPh" => phonetic = false,
            Event::Start(ref e) if e.local_name().as_ref() == b"t" && !phonetic => {
                let name = e.name().as_ref().to_vec();
                let value = read_t(xml, &name, max)?;
                match rich.as_mut() {
                    Some(s) => push_capped(s, &mut rich_chars, &value, max)?,
                    None => {
                        skip_to(xml, closing)?;
                        return Ok(Some(value));
                    }
                }
            }
            // <t/> and <r/>: calamine sees an empty start and end.
            Event::Empty(ref e) if e.local_name().as_ref() == b"r" => {
                rich.get_or_insert_with(String::new);
            }
            Event::Empty(ref e) if e.local_name().as_ref() == b"t" && !phonetic && rich.is_none() => {
                skip_to(xml, closing)?;
                return Ok(Some(String::new()));
            }
            Event::Eof => return Err(bad("工作表意外结束（字符串）")),
            _ => {}
        }
    }
}

fn read_t<B: BufRead + EventStart>(xml: &mut Xml<B>, end: &[u8], max: usize) -> Res<String> {
    let mut buf = Vec::new();
    let mut value = String::new();
    let mut chars = None;
    loop {
        match next_ev(xml, &mut buf)? {
            Event::Text(t) => push_capped(&mut value, &mut chars, &unescape_excel(&t.xml10_content()?), max)?,
            Event::GeneralRef(e) => {
                let mut c = String::new();
                entity(&e, &mut c)?;
                push_capped(&mut value, &mut chars, &c, max)?;
            }
            Event::End(e) if e.name().as_ref() == end => return Ok(value),
            Event::Eof => return Err(bad("工作表意外结束（t）")),
            _ => {}
        }
    }
}

/// Consumes events up to the end of `closing` (names not checked, as calamine does not).
fn skip_to<B: BufRead + EventStart>(xml: &mut Xml<B>, closing: &[u8]) -> Res<()> {
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        match next_ev(xml, &mut buf)? {
            Event::Start(ref e) if e.name().as_ref() == closing => depth += 1,
            Event::End(ref e) if e.name().as_ref() == closing => {
                if depth == 0 {
                    return Ok(());
                }
                depth -= 1;
            }
            Event::Eof => return Err(bad("工作表意外结束")),
            _ => {}
        }
    }
}

/// Excel writes control characters in strings as `_x000D_`; calamine turns `_x00HH_` back.
fn unescape_excel(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("_x00") {
        return std::borrow::Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes.get(i..i + 4) == Some(b"_x00") && bytes.get(i + 6) == Some(&b'_'))
            .then(|| bytes.get(i + 4..i + 6).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .flatten();
        if let Some(v) = escaped {
            out.push(char::from(v));
            i += 7;
            continue;
        }
        match s.get(i..).and_then(|r| r.chars().next()) {
            Some(c) => {
                out.push(c);
                i += c.len_utf8();
            }
            None => break,
        }
    }
    std::borrow::Cow::Owned(out)
}

fn builtin_format(id: &[u8]) -> Format {
    match id {
        b"14" | b"15" | b"16" | b"17" | b"18" | b"19" | b"20" | b"21" | b"22" | b"45" | b"47" => Format::DateTime,
        b"46" => Format::TimeDelta,
        _ => Format::Other,
    }
}

/// Whether a custom number format shows a date or a duration: calamine's rules.
fn custom_format(format: &str) -> Format {
    let mut escaped = false;
    let mut is_quote = false;
    let mut brackets = 0u8;
    let mut prev = ' ';
    let mut hms = false;
    let mut ap = false;
    for s in format.chars() {
        match (s, escaped, is_quote, ap, brackets) {
            (_, true, ..) => escaped = false,
            ('_' | '\\', ..) => escaped = true,
            ('"', _, true, _, _) => is_quote = false,
            (_, _, true, _, _) => (),
            ('"', _, _, _, _) => is_quote = true,
            (';', ..) => return Format::Other,
            ('[', ..) => brackets += 1,
            (']', .., 1) if hms => return Format::TimeDelta,
            (']', ..) => brackets = brackets.saturating_sub(1),
            ('a' | 'A', _, _, false, 0) => ap = true,
            ('p' | 'm' | '/' | 'P' | 'M', _, _, true, 0) => return Format::DateTime,
            ('d' | 'm' | 'h' | 'y' | 's' | 'D' | 'M' | 'H' | 'Y' | 'S', _, _, false, 0) => return Format::DateTime,
            _ => {
                if !(hms && s.eq_ignore_ascii_case(&prev)) {
                    hms = prev == '[' && matches!(s, 'm' | 'h' | 's' | 'M' | 'H' | 'S');
                }
            }
        }
        prev = s;
    }
    Format::Other
}


#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use calamine::{Reader, Xlsx};
    use zip::write::SimpleFileOptions;
    use zip::ZipWriter;

    use super::*;
    use crate::excel::from_data_ref;

    type Cells = Vec<(u32, u32, Cell)>;

    fn calamine_cells(bytes: &[u8], sheet: &str) -> (u32, Cells) {
        let mut book = Xlsx::new(Cursor::new(bytes.to_vec())).expect("calamine opens");
        let mut reader = book.worksheet_cells_reader(sheet).expect("calamine sheet");
        let last = reader.dimensions().end.0;
        let mut out = Vec::new();
        while let Some(c) = reader.next_cell().expect("calamine cell") {
            let (r, col) = c.get_position();
            out.push((r, col, from_data_ref(c.get_value())));
        }
        (last, out)
    }

    fn our_cells(bytes: &[u8], sheet: &str) -> (u32, Cells) {
        let mut wb = Workbook::open(Cursor::new(bytes.to_vec()), "a.xlsx", Limits::default()).expect("ours opens").expect("ours reads it");
        let mut cells = wb.cells(sheet).expect("ours sheet").expect("sheet found");
        let last = cells.last_row();
        let mut out = Vec::new();
        while let Some(c) = cells.next_cell().expect("our cell") {
            out.push(c);
        }
        (last, out)
    }

    /// Same cells in the same order; NaN-free, so `==` on floats is exact.
    fn assert_same(bytes: &[u8], sheet: &str) -> usize {
        let theirs = calamine_cells(bytes, sheet);
        let ours = our_cells(bytes, sheet);
        assert_eq!(ours.0, theirs.0, "dimension");
        assert_eq!(ours.1.len(), theirs.1.len(), "cell count");
        for (a, b) in ours.1.iter().zip(&theirs.1) {
            assert_eq!(a, b);
        }
        ours.1.len()
    }

    /// A workbook written by hand, XML part by XML part.
    fn hand_made(sheet_xml: &str, shared: &str, date1904: bool) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let o = SimpleFileOptions::default();
        let mut put = |name: &str, text: &str| {
            zip.start_file(name, o).expect("zip entry");
            zip.write_all(text.as_bytes()).expect("zip write");
        };
        put("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#);
        put("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#);
        put("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#);
        let pr = if date1904 { r#"<workbookPr date1904="1"/>"# } else { "<workbookPr/>" };
        put("xl/workbook.xml", &format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">{pr}<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>"#));
        // xf 0 general, 1 builtin date 14, 2 custom date, 3 money, 4 duration, 5 date with a
        // literal in quotes.
        put("xl/styles.xml", r##"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="4"><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/><numFmt numFmtId="177" formatCode="#,##0.00_ "/><numFmt numFmtId="178" formatCode="[h]:mm:ss"/><numFmt numFmtId="179" formatCode="yyyy/m/d;@"/></numFmts><fonts count="1"><font/></fonts><cellXfs count="6"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="176"/><xf numFmtId="177"/><xf numFmtId="178"/><xf numFmtId="179"></xf></cellXfs></styleSheet>"##);
        put("xl/sharedStrings.xml", &format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{shared}</sst>"#));
        put("xl/worksheets/sheet1.xml", &format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sheet_xml}</worksheet>"#));
        zip.finish().expect("zip").into_inner()
    }

    const SHARED: &str = concat!(
        "<si><t>序号</t></si>",
        "<si><t xml:space=\"preserve\"> 张三 </t></si>",
        "<si><r><rPr><b/></rPr><t>龙潭</t></r><r><t>村</t></r></si>",
        "<si><t>李四</t><rPh sb=\"0\" eb=\"1\"><t>リシ</t></rPh></si>",
        "<si><t>a&amp;b &lt;c&gt; &#x4E00;&#20108;</t></si>",
        "<si><t>第一行_x000D_\r\n第二行</t></si>",
        "<si><t/></si>",
        "<si><t>431224198001010011</t></si>",
    );

    #[test]
    fn hand_made_sheet_reads_as_calamine_reads_it() {
        let sheet = concat!(
            "<dimension ref=\"A1:H12\"/><sheetViews/><sheetData>",
            // header with shared strings, a cell with no r, an empty styled cell
            "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c t=\"s\"><v>1</v></c><c r=\"C1\" s=\"3\"/><c r=\"D1\" t=\"s\"><v>2</v></c></row>",
            // a gap of rows, then columns skipped
            "<row r=\"4\" spans=\"1:8\"><c r=\"B4\" t=\"s\"><v>3</v></c><c r=\"E4\" t=\"inlineStr\"><is><t>内联 文本</t></is></c><c r=\"H4\" t=\"b\"><v>1</v></c></row>",
            // dates: builtin, custom with literals, duration, custom with ;@; a number in money format
            "<row r=\"5\"><c r=\"A5\" s=\"1\"><v>45107</v></c><c r=\"B5\" s=\"2\"><v>45107.5</v></c><c r=\"C5\" s=\"4\"><v>1.25</v></c><c r=\"D5\" s=\"5\"><v>44927</v></c><c r=\"E5\" s=\"3\"><v>350.5</v></c><c r=\"F5\" s=\"99\"><v>7</v></c></row>",
            // errors, booleans, formula strings, a formula with its value, t=n empty, <v/>, t=d
            "<row r=\"6\"><c r=\"A6\" t=\"e\"><v>#N/A</v></c><c r=\"B6\" t=\"e\"><f>1/0</f><v>#DIV/0!</v></c><c r=\"C6\" t=\"b\"><v>0</v></c><c r=\"D6\" t=\"str\"><f>A1&amp;B1</f><v>x&amp;y</v></c><c r=\"E6\"><f>1+1</f><v>2</v></c><c r=\"F6\" t=\"n\"><v></v></c><c r=\"G6\"><v/></c><c r=\"H6\" t=\"d\"><v>2023-07-01T00:00:00</v></c></row>",
            // entities and escapes from the shared table, rich inline text, an empty <row/>
            "<row r=\"7\"/>",
            "<row r=\"8\"><c r=\"A8\" t=\"s\"><v>4</v></c><c r=\"B8\" t=\"s\"><v>5</v></c><c r=\"C8\" t=\"s\"><v>6</v></c><c r=\"D8\" t=\"inlineStr\"><is><r><t>富</t></r><r><t>文本</t></r></is></c><c r=\"E8\" t=\"s\"><v>7</v></c><c r=\"F8\"><v>431224198001010011</v></c><c r=\"G8\"><v>1.5E3</v></c><c r=\"H8\"><v>not a number</v></c></row>",
            // rows without r, cells without r
            "<row><c><v>1</v></c><c><v>2</v></c></row><row><c t=\"s\"><v>2</v></c></row>",
            // lower-case reference and far columns
            "<row r=\"12\"><c r=\"aa12\"><v>3</v></c><c r=\"XFD12\" t=\"inlineStr\"><is><t/></is></c></row>",
            "</sheetData><mergeCells count=\"1\"><mergeCell ref=\"A1:B1\"/></mergeCells>",
        );
        for date1904 in [false, true] {
            let bytes = hand_made(sheet, SHARED, date1904);
            assert!(assert_same(&bytes, "花名册") > 30);
        }
    }

    #[test]
    fn empty_sheets_read_as_calamine_reads_them() {
        for sheet in ["<sheetData/>", "<dimension ref=\"A1\"/><sheetData></sheetData>", "<sheetData><row r=\"3\"/></sheetData>"] {
            let bytes = hand_made(sheet, "", false);
            assert_same(&bytes, "花名册");
        }
    }

    #[test]
    fn unknown_sheet_is_none() {
        let bytes = hand_made("<sheetData/>", "", false);
        let mut wb = Workbook::open(Cursor::new(bytes), "a.xlsx", Limits::default()).expect("opens").expect("ours reads it");
        assert!(wb.cells("没有").expect("no error").is_none());
    }

    /// A workbook as rust_xlsxwriter (and Excel) write it: shared strings, styles, dates,
    /// with cells of every kind scattered over a thousand rows.
    #[test]
    fn generated_workbook_reads_as_calamine_reads_it() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook as W};
        let mut wb = W::new();
        let ws = wb.add_worksheet();
        ws.set_name("数据").expect("name");
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let money = Format::new().set_num_format("#,##0.00");
        let time = Format::new().set_num_format("[h]:mm");
        let bold = Format::new().set_bold();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        ws.write_string(0, 0, "低保金发放花名册").expect("w");
        for row in 2..1_200u32 {
            if next() % 17 == 0 {
                continue; // a row left out
            }
            for col in 0..14u16 {
                let n = next();
                match n % 11 {
                    0 => continue, // a gap
                    1 => ws.write_string(row, col, format!("村{}", n % 97)).map(|_| ()),
                    2 => ws.write_string_with_format(row, col, "重复的文本", &bold).map(|_| ()),
                    3 => ws.write_number(row, col, (n % 100_000) as f64 / 100.0).map(|_| ()),
                    4 => ws.write_number_with_format(row, col, (n % 100_000) as f64 / 100.0, &money).map(|_| ()),
                    5 => {
                        let d = ExcelDateTime::from_ymd(2000 + (n % 30) as u16, 1 + (n % 12) as u8, 1 + (n % 28) as u8).expect("date");
                        ws.write_datetime_with_format(row, col, &d, &date).map(|_| ())
                    }
                    6 => ws.write_boolean(row, col, n % 2 == 0).map(|_| ()),
                    7 => ws.write_number_with_format(row, col, (n % 1000) as f64 / 24.0, &time).map(|_| ()),
                    8 => ws.write_formula(row, col, Formula::new("=1+1").set_result("2")).map(|_| ()),
                    9 => ws.write_blank(row, col, &bold).map(|_| ()),
                    _ => ws.write_string(row, col, format!("{:018}", n % 1_000_000_000_000_000_000)).map(|_| ()),
                }
                .expect("write");
            }
        }
        let bytes = wb.save_to_buffer().expect("save");
        assert!(assert_same(&bytes, "数据") > 10_000);
    }

    /// The whole read (header found below title rows, columns bound, rows with gaps, blank
    /// rows counted) comes out the same through this reader as through calamine's.
    #[test]
    fn read_sheet_is_the_same_through_either_reader() {
        use crate::excel::{read_xlsx, read_xlsx_calamine, XlsxSource};
        use crate::meter::Ctx;
        use crate::model::{ColumnSpec, RawRow};
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook as W};
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.xlsx");
        let mut wb = W::new();
        let ws = wb.add_worksheet();
        ws.set_name("花名册").expect("name");
        let date = Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\"");
        ws.write_string(0, 0, "北斗溪镇低保金发放花名册").expect("w");
        for (c, h) in (0u16..).zip(["序号", "户主姓名", "发放金额（元）", "发放日期", "不认识的列"]) {
            ws.write_string(2, c, h).expect("w");
        }
        for r in 3..400u32 {
            if r % 13 == 0 {
                continue;
            }
            ws.write_number(r, 0, f64::from(r - 2)).expect("w");
            if r % 5 != 0 {
                ws.write_string(r, 1, format!("户主{r}")).expect("w");
            }
            ws.write_number(r, 2, f64::from(r) * 12.5).expect("w");
            let d = ExcelDateTime::from_ymd(2023, 1 + (r % 12) as u8, 1 + (r % 28) as u8).expect("date");
            ws.write_datetime_with_format(r, 3, &d, &date).expect("w");
            ws.write_boolean(r, 4, r % 2 == 0).expect("w");
        }
        ws.write_string(402, 1, "  ").expect("w");
        wb.save(&path).expect("save");
        let specs = vec![
            ColumnSpec::new("seq", &["序号"]),
            ColumnSpec::new("name", &["户主姓名"]),
            ColumnSpec::new("amount", &["发放金额"]),
            ColumnSpec::new("paid_on", &["发放日期"]),
        ];
        let ctx = Ctx { file: "a.xlsx".to_string(), sheet: "花名册".to_string(), is_csv: false, limits: Limits::default() };
        let read = |fast: bool| {
            let mut rows: Vec<RawRow> = Vec::new();
            let mut sink = |r: RawRow| -> Result<(), std::convert::Infallible> {
                rows.push(r);
                Ok(())
            };
            let layout = if fast {
                let mut src = XlsxSource::open(&path, "a.xlsx", Limits::default()).expect("open");
                read_xlsx(&mut src, &ctx, &specs, &mut sink)
            } else {
                let mut book: crate::excel::XlsxBook = calamine::open_workbook(&path).expect("open");
                read_xlsx_calamine(&mut book, &ctx, &specs, &mut sink)
            };
            (layout.map_err(|e| format!("{e:?}")).expect("read"), rows)
        };
        let (ours, theirs) = (read(true), read(false));
        assert_eq!(ours.0.header_row, 3);
        assert!(ours.1.len() > 350);
        assert_eq!(ours, theirs);
    }
}

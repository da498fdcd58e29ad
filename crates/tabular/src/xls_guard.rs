//! What calamine will allocate for an .xls, worked out before it opens the file.
//!
//! calamine reads an .xls whole as it opens it: the OLE container's sector chains, the
//! workbook stream, every sheet as a full rectangle from its first to its last value (one
//! value in A1 and one in IV65536 make 16 million cells), every shared string copied into
//! each cell that uses it, and a macro project decompressed. It also trusts the container:
//! a sector number past the end of the file makes it grow a buffer to that offset, and a
//! chain that loops makes it read forever. So the container is checked here (every chain
//! calamine follows ends, inside the file) and the records are walked to estimate what the
//! sheets will take; a file over `Limits::xls_bytes` is refused, in Chinese, before calamine
//! sees it. Damage this walk does not understand is left to calamine to find and word.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::TabularError;
use crate::limits::Limits;

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
/// Sector numbers from here on are markers, not sectors.
const MAXREGSECT: u32 = 0xFFFF_FFFA;
const DIFSECT: u32 = 0xFFFF_FFFC;
const MINI_CUTOFF: u64 = 4096;
const MINI_SECTOR: usize = 64;
/// Bytes calamine holds per cell of a sheet's rectangle (`Data`), per formula cell
/// (`String`), and per cell while it gathers them (`Cell<Data>`).
const VALUE_BYTES: u64 = 32;
const FORMULA_BYTES: u64 = 24;
const GATHERED_BYTES: u64 = 40;
/// UTF-8 bytes a UTF-16 code unit can become.
const UTF8_PER_UNIT: u64 = 3;
/// The text calamine writes for a formula, per byte of its parsed form: references and
/// function names are longer written out than encoded.
const FORMULA_TEXT_PER_BYTE: u64 = 16;
/// Most a VBA compressed chunk can expand (4,096 bytes from 3).
const VBA_RATIO: u64 = 1366;

/// Why the vetting stopped.
enum Verdict {
    /// The container is damaged in a way that would make calamine hang or allocate
    /// without bound.
    Unsafe(&'static str),
    /// The estimate passed the limit.
    TooLarge,
}

pub(crate) fn vet_xls(path: &Path, file: &str, limits: &Limits) -> Result<(), TabularError> {
    let size = std::fs::metadata(path).map_err(TabularError::Io)?.len();
    let too_large = || TabularError::XlsTooLarge {
        file: file.to_string(),
        limit: limits.xls_bytes,
    };
    // calamine keeps the whole file in memory as it reads it.
    if size > limits.xls_bytes {
        return Err(too_large());
    }
    let mut data = Vec::new();
    File::open(path)
        .and_then(|f| f.take(size).read_to_end(&mut data))
        .map_err(TabularError::Io)?;
    match vet(&data, limits.xls_bytes) {
        Ok(()) => Ok(()),
        Err(Verdict::TooLarge) => Err(too_large()),
        Err(Verdict::Unsafe(why)) => Err(TabularError::Corrupt(format!(
            "文件「{file}」的内部结构有误（{why}），无法安全读取。请用 Excel 或 WPS 打开，另存为 .xlsx 后再导入"
        ))),
    }
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

struct Container<'a> {
    data: &'a [u8],
    sector: usize,
    fat: Vec<u32>,
}

impl<'a> Container<'a> {
    fn sector(&self, id: u32) -> Result<&'a [u8], Verdict> {
        let start = (id as usize)
            .checked_add(1)
            .and_then(|n| n.checked_mul(self.sector))
            .ok_or(Verdict::Unsafe("扇区编号超出文件"))?;
        // calamine grows its copy of the file to any sector it is sent to.
        self.data
            .get(start..start + self.sector)
            .or_else(|| self.data.get(start..))
            .filter(|s| !s.is_empty())
            .ok_or(Verdict::Unsafe("扇区编号超出文件"))
    }

    /// The sectors of a chain, each inside the file, the chain ending.
    fn chain(&self, start: u32, table: &[u32]) -> Result<Vec<u32>, Verdict> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut id = start;
        while id != ENDOFCHAIN {
            if id > MAXREGSECT || !seen.insert(id) {
                return Err(Verdict::Unsafe("扇区链不完整或循环"));
            }
            out.push(id);
            id = *table
                .get(id as usize)
                .ok_or(Verdict::Unsafe("扇区链指向文件之外"))?;
        }
        Ok(out)
    }

    fn read(&self, start: u32, len: u64) -> Result<Vec<u8>, Verdict> {
        if len > self.data.len() as u64 {
            return Err(Verdict::Unsafe("数据流长度超出文件"));
        }
        let mut out = Vec::with_capacity(len as usize);
        for id in self.chain(start, &self.fat)? {
            out.extend_from_slice(self.sector(id)?);
        }
        out.truncate(len as usize);
        Ok(out)
    }
}

struct Entry {
    name: String,
    kind: u8,
    start: u32,
    len: u64,
}

fn vet(data: &[u8], limit: u64) -> Result<(), Verdict> {
    let header = data.get(..512).ok_or(Verdict::Unsafe("文件头不完整"))?;
    let sector = match u16_at(header, 30) {
        Some(9) => 512,
        Some(12) => 4096,
        // calamine refuses these itself, with an error.
        _ => return Ok(()),
    };
    let n = |at| u32_at(header, at).unwrap_or(0);
    let (dir_len, fat_len, dir_start) = (n(40) as u64, n(44) as u64, n(48));
    let (mini_fat_start, mini_fat_len, difat_start) = (n(60), n(64) as u64, n(68));
    // calamine reserves room for the DIFAT from these bytes (a misread header field).
    if u64::from(n(62)) * 4 > limit {
        return Err(Verdict::Unsafe("文件头中的 DIFAT 长度无效"));
    }
    let file_len = data.len() as u64;
    if dir_len * sector as u64 > file_len || fat_len * sector as u64 > file_len {
        return Err(Verdict::Unsafe("文件头中的长度超出文件"));
    }
    let mut c = Container {
        data,
        sector,
        fat: Vec::new(),
    };

    // The DIFAT: 109 entries in the header, then a chain of sectors, each ending in the next.
    let mut difat: Vec<u32> = header
        .get(76..512)
        .unwrap_or_default()
        .chunks_exact(4)
        .filter_map(|b| b.try_into().ok().map(u32::from_le_bytes))
        .collect();
    let mut seen = HashSet::new();
    let mut id = difat_start;
    while id < MAXREGSECT {
        if !seen.insert(id) {
            return Err(Verdict::Unsafe("DIFAT 扇区链循环"));
        }
        let s = c.sector(id)?;
        difat.extend(
            s.chunks_exact(4)
                .filter_map(|b| b.try_into().ok().map(u32::from_le_bytes)),
        );
        id = difat.pop().unwrap_or(ENDOFCHAIN);
    }
    let mut fat = Vec::new();
    for id in difat.into_iter().filter(|id| *id < DIFSECT) {
        fat.extend(
            c.sector(id)?
                .chunks_exact(4)
                .filter_map(|b| b.try_into().ok().map(u32::from_le_bytes)),
        );
    }
    c.fat = fat;

    // Version 3 files leave the directory's length out: the chain says it.
    let dir_bytes = if dir_len > 0 { dir_len * sector as u64 } else { file_len };
    let dirs = c.read(dir_start, dir_bytes)?;
    let entries: Vec<Entry> = dirs
        .chunks_exact(128)
        .map(|d| {
            let units: Vec<u16> = d
                .get(..64)
                .unwrap_or_default()
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .take_while(|u| *u != 0)
                .collect();
            Entry {
                name: String::from_utf16_lossy(&units),
                kind: d.get(66).copied().unwrap_or(0),
                start: u32_at(d, 116).unwrap_or(ENDOFCHAIN),
                len: if sector == 512 {
                    u64::from(u32_at(d, 120).unwrap_or(0))
                } else {
                    u64_at(d, 120).unwrap_or(0)
                },
            }
        })
        .collect();
    let Some(root) = entries.first() else {
        return Ok(());
    };

    // The mini stream and its table, which calamine loads when the header names one.
    let (mini_fat, mini_stream) = if mini_fat_len > 0 {
        if mini_fat_len * sector as u64 > file_len {
            return Err(Verdict::Unsafe("文件头中的长度超出文件"));
        }
        let stream = c.read(root.start, root.len)?;
        let table: Vec<u32> = c
            .read(mini_fat_start, mini_fat_len * sector as u64)?
            .chunks_exact(4)
            .filter_map(|b| b.try_into().ok().map(u32::from_le_bytes))
            .collect();
        (table, stream)
    } else {
        (Vec::new(), Vec::new())
    };
    // A stream's bytes (or, without `copy`, only the check that its chain is sound).
    let stream_of = |e: &Entry, copy: bool| -> Result<Vec<u8>, Verdict> {
        if e.len >= MINI_CUTOFF {
            if !copy {
                c.chain(e.start, &c.fat)?
                    .into_iter()
                    .try_for_each(|id| c.sector(id).map(drop))?;
                return Ok(Vec::new());
            }
            return c.read(e.start, e.len);
        }
        if e.len > mini_stream.len() as u64 {
            return Err(Verdict::Unsafe("数据流长度超出文件"));
        }
        let mut out = Vec::new();
        for id in c.chain(e.start, &mini_fat)? {
            let at = id as usize * MINI_SECTOR;
            let s = mini_stream
                .get(at..(at + MINI_SECTOR).min(mini_stream.len()))
                .filter(|s| !s.is_empty())
                .ok_or(Verdict::Unsafe("扇区编号超出文件"))?;
            if copy {
                out.extend_from_slice(s);
            }
        }
        out.truncate(e.len as usize);
        Ok(out)
    };
    let book = entries
        .iter()
        .find(|e| e.name == "Workbook")
        .or_else(|| entries.iter().find(|e| e.name == "Book"));

    // calamine holds the file and the workbook stream while it reads.
    let mut estimate = file_len.saturating_add(book.map_or(0, |b| b.len));
    // A macro project: calamine decompresses its modules as it opens the file.
    if entries.iter().any(|e| e.name == "_VBA_PROJECT_CUR") {
        let vba = entries.iter().filter(|e| {
            e.kind == 2
                && e.name != "Workbook"
                && e.name != "Book"
                && !e.name.starts_with(['\u{1}', '\u{5}'])
        });
        for e in vba {
            stream_of(e, false)?;
            estimate = estimate.saturating_add(e.len.saturating_mul(VBA_RATIO));
        }
    }
    if estimate > limit {
        return Err(Verdict::TooLarge);
    }
    let Some(book) = book else {
        return Ok(());
    };
    let stream = stream_of(book, true)?;
    let mut walk = Walk {
        estimate,
        limit,
        sst: Vec::new(),
        widest: 0,
    };
    walk.book(&stream)
}

/// One BIFF record: type, data, and the CONTINUE records after it.
struct Record<'a> {
    typ: u16,
    data: &'a [u8],
    cont: Vec<&'a [u8]>,
}

/// Records as calamine iterates them; stops at the first record that does not fit.
fn records(mut s: &[u8]) -> impl Iterator<Item = Record<'_>> {
    std::iter::from_fn(move || {
        let typ = u16_at(s, 0)?;
        let len = usize::from(u16_at(s, 2)?);
        let data = s.get(4..4 + len)?;
        s = s.get(4 + len..)?;
        let mut cont = Vec::new();
        while s.len() > 4 && u16_at(s, 0) == Some(0x003C) {
            let len = usize::from(u16_at(s, 2)?);
            cont.push(s.get(4..4 + len)?);
            s = s.get(4 + len..)?;
        }
        Some(Record { typ, data, cont })
    })
}

/// Rows and columns spanned by a sheet's cells.
#[derive(Default)]
struct Span(Option<(u32, u32, u32, u32)>);

impl Span {
    fn add(&mut self, row: u32, col: u32) {
        self.0 = Some(match self.0 {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
    }

    fn area(&self) -> u64 {
        self.0.map_or(0, |(r0, r1, c0, c1)| {
            u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1)
        })
    }
}

struct Walk {
    estimate: u64,
    limit: u64,
    /// UTF-8 bytes each shared string becomes.
    sst: Vec<u32>,
    /// The largest sheet's rectangle and text: `worksheet_range` copies the sheet read.
    widest: u64,
}

impl Walk {
    fn add(&mut self, bytes: u64) -> Result<(), Verdict> {
        self.estimate = self.estimate.saturating_add(bytes);
        if self.estimate > self.limit {
            return Err(Verdict::TooLarge);
        }
        Ok(())
    }

    fn book(&mut self, stream: &[u8]) -> Result<(), Verdict> {
        let mut sheets = Vec::new();
        for r in records(stream) {
            match r.typ {
                0x0085 => sheets.extend(u32_at(r.data, 0)),
                0x00FC => self.sst(&r)?,
                0x000A => break,
                _ => {}
            }
        }
        // calamine reads each sheet the workbook lists, from its position to its end,
        // and keeps all of them.
        for pos in sheets {
            if let Some(sheet) = stream.get(pos as usize..) {
                self.sheet(sheet)?;
            }
        }
        let widest = self.widest;
        self.add(widest)
    }

    fn sheet(&mut self, stream: &[u8]) -> Result<(), Verdict> {
        let (mut values, mut formulas) = (Span::default(), Span::default());
        let (mut cells, mut text) = (0u64, 0u64);
        let at = |d: &[u8]| {
            (
                u32::from(u16_at(d, 0).unwrap_or(0)),
                u32::from(u16_at(d, 2).unwrap_or(0)),
            )
        };
        for r in records(stream) {
            match r.typ {
                // Number, BoolErr, Rk, Label, LabelSst
                0x0203 | 0x0205 | 0x027E | 0x0204 | 0x00FD => {
                    let (row, col) = at(r.data);
                    values.add(row, col);
                    cells += 1;
                    if r.typ == 0x0204 {
                        text += u64::from(u16_at(r.data, 6).unwrap_or(0)) * UTF8_PER_UNIT;
                    }
                    if r.typ == 0x00FD {
                        let i = u32_at(r.data, 6).unwrap_or(u32::MAX) as usize;
                        text += u64::from(self.sst.get(i).copied().unwrap_or(0));
                    }
                }
                // MulRk: one row, a run of columns.
                0x00BD => {
                    let (row, first) = at(r.data);
                    let last = r
                        .data
                        .len()
                        .checked_sub(2)
                        .and_then(|n| u16_at(r.data, n))
                        .map_or(first, u32::from);
                    values.add(row, first);
                    values.add(row, last.max(first));
                    cells += u64::from(last.saturating_sub(first) + 1);
                }
                // Formula: its value, and its text in a second rectangle.
                0x0006 => {
                    let (row, col) = at(r.data);
                    values.add(row, col);
                    formulas.add(row, col);
                    cells += 1;
                    let rgce = r.data.len().saturating_sub(20) as u64;
                    text += 32 + rgce * FORMULA_TEXT_PER_BYTE;
                }
                // String: a formula's text value.
                0x0207 => text += u64::from(u16_at(r.data, 0).unwrap_or(0)) * UTF8_PER_UNIT,
                0x000A => break,
                _ => {}
            }
            // Checked as the sheet grows, so a hostile sheet is not walked to its end.
            if (cells * GATHERED_BYTES).saturating_add(text) > self.limit {
                return Err(Verdict::TooLarge);
            }
        }
        let rect = values.area() * VALUE_BYTES;
        self.widest = self.widest.max(rect + text);
        self.add(rect + formulas.area() * FORMULA_BYTES + text + cells * GATHERED_BYTES)
    }

    /// The shared strings' sizes, walked as calamine reads them (a CONTINUE record cutting
    /// a string's characters starts with a new flags byte).
    fn sst(&mut self, r: &Record<'_>) -> Result<(), Verdict> {
        let mut segs = r.cont.iter();
        let mut cur = r.data.get(8..).unwrap_or_default();
        loop {
            if cur.is_empty() {
                match segs.next() {
                    Some(s) => cur = s,
                    None => return Ok(()),
                }
                continue;
            }
            let (Some(cch), Some(&flags)) = (u16_at(cur, 0), cur.get(2)) else {
                return Ok(());
            };
            cur = cur.get(3..).unwrap_or_default();
            let mut skip = 0usize;
            if flags & 0x8 != 0 {
                skip += usize::from(u16_at(cur, 0).unwrap_or(0)) * 4;
                cur = cur.get(2..).unwrap_or_default();
            }
            if flags & 0x4 != 0 {
                skip += u32_at(cur, 0).unwrap_or(0) as usize;
                cur = cur.get(4..).unwrap_or_default();
            }
            let mut left = usize::from(cch);
            let mut wide = flags & 0x1 != 0;
            let mut bytes = 0u64;
            while left > 0 {
                let unit = if wide { 2 } else { 1 };
                let take = left.min(cur.len() / unit);
                cur = cur.get(take * unit..).unwrap_or_default();
                left -= take;
                bytes += take as u64 * if wide { UTF8_PER_UNIT } else { 2 };
                if left > 0 {
                    let Some(next) = segs.next() else {
                        return Ok(());
                    };
                    wide = next.first().is_some_and(|f| f & 0x1 != 0);
                    cur = next.get(1..).unwrap_or_default();
                }
            }
            while skip > 0 {
                if cur.is_empty() {
                    match segs.next() {
                        Some(s) => cur = s,
                        None => return Ok(()),
                    }
                }
                let n = skip.min(cur.len());
                cur = cur.get(n..).unwrap_or_default();
                skip -= n;
            }
            self.sst.push(u32::try_from(bytes).unwrap_or(u32::MAX));
            self.add(bytes + 24)?;
        }
    }
}

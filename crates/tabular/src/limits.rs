//! Bounds on what one file may make the reader hold or do.
//!
//! A file comes from anyone who can upload one, so its own claims (sizes in a zip header,
//! lengths of strings) are never trusted: every limit is checked on the bytes actually read,
//! before they are kept. The defaults are far above anything Excel, WPS or a county system
//! writes; tests lower them to trigger them with small files.

use std::fmt;
use std::io::{self, BufRead, Read};

/// Characters in one cell: Excel's own limit.
pub const MAX_CELL_CHARS: usize = 32_767;
/// Bytes of text in one row (for a CSV, the whole line as UTF-8). Every row under the
/// header is handed on with its cells, so this bounds what a row costs downstream too.
pub const MAX_ROW_BYTES: usize = 1 << 20;
/// Columns in one row: Excel's last column is XFD, the 16,384th.
pub const MAX_ROW_CELLS: u32 = 16_384;
/// Characters in one shared string (the xlsx table of texts that cells point into).
pub const MAX_SHARED_STRING_CHARS: usize = 32_767;
/// Bytes the whole shared-string table may take in memory (its text plus 4 bytes a string).
/// An xlsx sheet holds at most 1,048,576 rows, so even one distinct 18-digit ID number and
/// name on every row stays far below it.
pub const MAX_SHARED_STRINGS_BYTES: usize = 256 << 20;
/// Decompressed bytes of one sheet or shared-string part of an xlsx. Sheets are streamed,
/// so this bounds time, not memory: a million rows of 30 columns is about 1.5 GB of XML.
pub const MAX_ENTRY_BYTES: u64 = 4 << 30;
/// Decompressed bytes of the small parts read whole (workbook, relationships, styles).
pub const MAX_PART_BYTES: u64 = 64 << 20;
/// Decompressed to compressed size of one xlsx part. Deflate cannot exceed about 1,032:1
/// and a zip bomb is built near that; sheet XML as Excel writes it stays near 7–25:1 even
/// for a million blank formatted rows or 200,000 rows of one repeated value (every cell
/// carries its own row number), so ten times the worst of those is still far from a bomb.
pub const MAX_ENTRY_RATIO: u64 = 250;
/// Memory calamine may need to open an .xls, estimated from its records first: it loads
/// every sheet whole, each as a full rectangle from its first to its last value, with each
/// shared string copied into every cell using it. A full 65,536-row sheet of 30 columns
/// needs about 150 MB; a larger .xls is refused with the advice to save it as .xlsx.
pub const MAX_XLS_BYTES: u64 = 256 << 20;
/// Parts smaller than this once decompressed are not held to the ratio: a small
/// repetitive part can compress very well and costs nothing.
pub const RATIO_GRACE_BYTES: u64 = 16 << 20;

/// The limits one read is held to; `Limits::default()` gives the constants above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub cell_chars: usize,
    pub row_bytes: usize,
    pub row_cells: u32,
    pub shared_string_chars: usize,
    pub shared_strings_bytes: usize,
    pub entry_bytes: u64,
    pub part_bytes: u64,
    pub entry_ratio: u64,
    pub ratio_grace_bytes: u64,
    pub xls_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cell_chars: MAX_CELL_CHARS,
            row_bytes: MAX_ROW_BYTES,
            row_cells: MAX_ROW_CELLS,
            shared_string_chars: MAX_SHARED_STRING_CHARS,
            shared_strings_bytes: MAX_SHARED_STRINGS_BYTES,
            entry_bytes: MAX_ENTRY_BYTES,
            part_bytes: MAX_PART_BYTES,
            entry_ratio: MAX_ENTRY_RATIO,
            ratio_grace_bytes: RATIO_GRACE_BYTES,
            xls_bytes: MAX_XLS_BYTES,
        }
    }
}

impl Limits {
    /// Bytes one XML event (a text run, a tag) may span. The longest legitimate one is a
    /// cell's or shared string's text: at most 4 bytes a character, plus room for markup.
    pub(crate) fn xml_event_bytes(&self) -> u64 {
        let chars = self.cell_chars.max(self.shared_string_chars) as u64;
        chars.saturating_mul(4).saturating_add(64 * 1024)
    }
}

/// Which limit a reader ran into, carried inside an `io::Error` from the readers that sit
/// under the csv and XML parsers, and turned into a `TabularError` where the row, sheet and
/// file are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hit {
    /// One XML event grew past `Limits::xml_event_bytes`.
    XmlEvent,
    /// A zip entry decompressed past its size limit.
    EntryBytes(u64),
    /// A zip entry decompressed past the ratio limit.
    Ratio(u64),
    /// A text grew past its character limit.
    Chars(usize),
    /// The shared-string table grew past its limit.
    Table(usize),
    /// A CSV line grew past `Limits::row_bytes`.
    RowBytes(usize),
    /// The CSV bytes stopped being valid in the encoding chosen for the file.
    Encoding(&'static str),
}

impl fmt::Display for Hit {
    // Never shown to a user: every Hit becomes a TabularError first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Hit {}

impl Hit {
    pub(crate) fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// The limit an `io::Error` came from, if it came from one.
    pub(crate) fn of_io(e: &io::Error) -> Option<Hit> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<Hit>())
            .copied()
    }
}

/// A limit as a clerk reads it: "1 MB", "4 KB", "100 字节".
pub(crate) fn bytes_text(n: u64) -> String {
    const KB: u64 = 1024;
    match n {
        0 => "0 字节".to_string(),
        n if n % (KB * KB * KB) == 0 => format!("{} GB", n / (KB * KB * KB)),
        n if n % (KB * KB) == 0 => format!("{} MB", n / (KB * KB)),
        n if n % KB == 0 => format!("{} KB", n / KB),
        n => format!("{n} 字节"),
    }
}

/// A zip entry's decompressed bytes, checked against the size and ratio limits as they
/// are read, and against the XML event limit between calls to `start_event`.
///
/// It sits under quick-xml as its `BufRead`: quick-xml copies an event into its buffer
/// through `fill_buf`/`consume` until it finds the event's end, so counting what it consumes
/// since the caller last asked for an event bounds that buffer (to the limit plus one fill).
/// It does its own buffering so that the per-call path quick-xml takes stays one comparison.
pub(crate) struct Guarded<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Bytes taken from `inner`.
    total: u64,
    /// Bytes consumed since `start_event`.
    event: u64,
    /// Decompressed bytes past which the ratio limit is broken (`ratio` × compressed size).
    ratio_cap: u64,
    ratio: u64,
    max_total: u64,
    grace: u64,
    max_event: u64,
}

impl<R: Read> Guarded<R> {
    pub(crate) fn new(
        inner: R,
        capacity: usize,
        compressed: u64,
        max_total: u64,
        limits: &Limits,
    ) -> Self {
        Guarded {
            inner,
            buf: vec![0; capacity.max(1)].into_boxed_slice(),
            pos: 0,
            filled: 0,
            total: 0,
            event: 0,
            ratio_cap: compressed.max(1).saturating_mul(limits.entry_ratio),
            ratio: limits.entry_ratio,
            max_total,
            grace: limits.ratio_grace_bytes,
            max_event: limits.xml_event_bytes(),
        }
    }

    /// The caller is about to read the next XML event.
    #[inline]
    pub(crate) fn start_event(&mut self) {
        self.event = 0;
    }

    #[cold]
    fn refill(&mut self) -> io::Result<()> {
        let n = loop {
            match self.inner.read(&mut self.buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        self.pos = 0;
        self.filled = n;
        self.total = self.total.saturating_add(n as u64);
        if self.total > self.max_total {
            return Err(Hit::EntryBytes(self.max_total).into_io());
        }
        if self.total > self.grace && self.total > self.ratio_cap {
            return Err(Hit::Ratio(self.ratio).into_io());
        }
        Ok(())
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(buf.len());
            buf[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Guarded<R> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.event > self.max_event {
            return Err(Hit::XmlEvent.into_io());
        }
        if self.pos >= self.filled {
            self.refill()?;
        }
        Ok(self.buf.get(self.pos..self.filled).unwrap_or_default())
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.filled);
        self.event = self.event.saturating_add(n as u64);
    }
}

/// What a zip entry's header claims, checked before a byte of it is inflated: an honest
/// bomb is refused at once. A dishonest header is caught by `Guarded` while reading.
pub(crate) fn declared(
    size: u64,
    compressed: u64,
    max_total: u64,
    limits: &Limits,
) -> Result<(), Hit> {
    if size > max_total {
        return Err(Hit::EntryBytes(max_total));
    }
    if size > limits.ratio_grace_bytes && size / compressed.max(1) > limits.entry_ratio {
        return Err(Hit::Ratio(limits.entry_ratio));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_a_clerk_reads_them() {
        assert_eq!(bytes_text(1 << 20), "1 MB");
        assert_eq!(bytes_text(4096), "4 KB");
        assert_eq!(bytes_text(4 << 30), "4 GB");
        assert_eq!(bytes_text(100), "100 字节");
    }

    #[test]
    fn an_event_longer_than_the_limit_is_refused() {
        let limits = Limits {
            cell_chars: 10,
            shared_string_chars: 10,
            ..Limits::default()
        };
        let data = vec![b'x'; 200_000];
        let mut g = Guarded::new(data.as_slice(), 4096, 200_000, u64::MAX, &limits);
        let mut out = Vec::new();
        let err = g.read_to_end(&mut out).expect_err("refused");
        assert_eq!(Hit::of_io(&err), Some(Hit::XmlEvent));
        // Reset between events, the same bytes pass.
        let mut g = Guarded::new(data.as_slice(), 4096, 200_000, u64::MAX, &limits);
        let mut n = 0;
        loop {
            g.start_event();
            let len = g.fill_buf().expect("fill").len();
            if len == 0 {
                break;
            }
            g.consume(len);
            n += len;
        }
        assert_eq!(n, 200_000);
    }

    #[test]
    fn ratio_and_size_are_checked_on_what_is_read() {
        let limits = Limits {
            entry_ratio: 10,
            ratio_grace_bytes: 1000,
            ..Limits::default()
        };
        let data = vec![b'<'; 50_000];
        // Claims 1,000 compressed bytes: 50:1 once past the grace.
        let mut g = Guarded::new(data.as_slice(), 4096, 1_000, u64::MAX, &limits);
        let err = std::io::copy(&mut g, &mut std::io::sink()).expect_err("refused");
        assert_eq!(Hit::of_io(&err), Some(Hit::Ratio(10)));
        let mut g = Guarded::new(data.as_slice(), 4096, 50_000, 20_000, &limits);
        let err = std::io::copy(&mut g, &mut std::io::sink()).expect_err("refused");
        assert_eq!(Hit::of_io(&err), Some(Hit::EntryBytes(20_000)));
        assert_eq!(
            declared(2_000_000, 1_000, u64::MAX, &limits),
            Err(Hit::Ratio(10))
        );
        assert_eq!(declared(500, 1, u64::MAX, &limits), Ok(()));
    }
}

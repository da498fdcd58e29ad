//! Keeps blank CSV lines as rows. The csv crate drops blank lines, and
//! its line positions do not count them, but Excel shows each one as an
//! empty row; without them "第 N 行" in messages would point at the wrong
//! row. A blank line is turned into a lone delimiter, which the csv crate
//! reads as a record of empty fields.
//!
//! Seeing every byte with the quotes in mind, it also counts records (so an error from the
//! decoder below can name its Excel row) and refuses a record longer than the row limit
//! before the csv parser buffers it: one 100 MB line must not cost 100 MB several times over.

use std::io::{self, Read};

use crate::limits::Hit;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Unquoted,
    Quoted,
    /// A quote seen inside a quoted field: either the end of the field or
    /// the first half of an escaped `""`.
    QuoteInQuoted,
}

pub(crate) struct BlankLineKeeper<R> {
    inner: R,
    delimiter: u8,
    state: State,
    field_start: bool,
    line_start: bool,
    input: Vec<u8>,
    output: Vec<u8>,
    out_pos: usize,
    /// Records ended so far: the one being read is Excel row `records + 1`.
    records: u32,
    /// Bytes taken from `inner` before the current chunk.
    consumed: u64,
    /// Where the record being read starts, counted like `consumed`.
    record_start: u64,
    max_record: u64,
    /// The last byte outside quotes was `\r`, which ended a record: a `\n` right after it
    /// belongs to the same line end.
    after_cr: bool,
    /// The row of a record found longer than `max_record`.
    too_long: Option<u32>,
}

impl<R: Read> BlankLineKeeper<R> {
    pub(crate) fn new(inner: R, delimiter: u8, max_record: usize) -> Self {
        BlankLineKeeper {
            inner,
            delimiter,
            state: State::Unquoted,
            field_start: true,
            line_start: true,
            input: vec![0; 32 * 1024],
            output: Vec::with_capacity(64 * 1024),
            out_pos: 0,
            records: 0,
            consumed: 0,
            record_start: 0,
            max_record: max_record as u64,
            after_cr: false,
            too_long: None,
        }
    }

    /// The Excel row (1-based) of the record the text read so far ends in, or of the
    /// record found too long.
    pub(crate) fn excel_row(&self) -> u32 {
        self.too_long.unwrap_or(self.records.saturating_add(1))
    }

    /// `at` is the byte's index in the current chunk.
    #[inline]
    fn push(&mut self, b: u8, at: usize) {
        if self.state == State::QuoteInQuoted {
            if b == b'"' {
                self.state = State::Quoted;
                self.output.push(b);
                return;
            }
            self.state = State::Unquoted;
        }
        match self.state {
            State::Quoted => {
                if b == b'"' {
                    self.state = State::QuoteInQuoted;
                }
            }
            _ => {
                if b == b'\n' || b == b'\r' {
                    // The csv parser ends a record at \n, \r\n or a lone \r.
                    if b == b'\r' || !self.after_cr {
                        self.end_record(at);
                    }
                    self.after_cr = b == b'\r';
                    if self.line_start {
                        self.output.push(self.delimiter);
                    }
                    self.line_start = b == b'\n';
                    self.field_start = b == b'\n';
                } else {
                    self.after_cr = false;
                    if b == b'"' && self.field_start {
                        self.state = State::Quoted;
                    }
                    self.line_start = false;
                    self.field_start = b == self.delimiter;
                }
            }
        }
        self.output.push(b);
    }

    #[inline]
    fn end_record(&mut self, at: usize) {
        let end = self.consumed + at as u64;
        if end - self.record_start > self.max_record && self.too_long.is_none() {
            self.too_long = Some(self.records.saturating_add(1));
        }
        self.records = self.records.saturating_add(1);
        self.record_start = end + 1;
    }
}

impl<R: Read> Read for BlankLineKeeper<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos >= self.output.len() {
            self.output.clear();
            self.out_pos = 0;
            let n = self.inner.read(&mut self.input)?;
            let chunk = std::mem::take(&mut self.input);
            for (at, &b) in chunk.get(..n).unwrap_or_default().iter().enumerate() {
                self.push(b, at);
            }
            self.input = chunk;
            self.consumed += n as u64;
            // A record over the limit is refused once its chunk is seen, before the csv
            // parser buffers it: the chunk is small, the limit is not.
            if self.too_long.is_none() && self.consumed - self.record_start > self.max_record {
                self.too_long = Some(self.records.saturating_add(1));
            }
            if self.too_long.is_some() {
                self.output.clear();
                return Err(Hit::RowBytes(self.max_record as usize).into_io());
            }
        }
        let avail = self.output.get(self.out_pos..).unwrap_or_default();
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> String {
        let mut out = String::new();
        BlankLineKeeper::new(s.as_bytes(), b',', usize::MAX)
            .read_to_string(&mut out)
            .expect("read");
        out
    }

    #[test]
    fn blank_lines_become_records() {
        assert_eq!(run("a\n\nb\r\n\r\nc"), "a\n,\nb\r\n,\r\nc");
        assert_eq!(run("\n"), ",\n");
    }

    #[test]
    fn quoted_newlines_are_left_alone() {
        assert_eq!(run("\"x\n\ny\",1\n"), "\"x\n\ny\",1\n");
        assert_eq!(run("\"a\"\"\n\n\"\n"), "\"a\"\"\n\n\"\n");
        assert_eq!(run("12\"\n\nb"), "12\"\n,\nb");
    }

    #[test]
    fn records_are_counted_as_the_csv_parser_ends_them() {
        let mut k = BlankLineKeeper::new("a\r\nb\rc\n\"d\ne\"\nf".as_bytes(), b',', usize::MAX);
        let mut out = String::new();
        k.read_to_string(&mut out).expect("read");
        assert_eq!(k.excel_row(), 5);
    }

    #[test]
    fn a_record_past_the_limit_is_refused_with_its_row() {
        let text = format!("a,b\nc,\"{}\n\"\nd\n", "x".repeat(100));
        let mut k = BlankLineKeeper::new(text.as_bytes(), b',', 50);
        let err = k.read_to_string(&mut String::new()).expect_err("refused");
        assert_eq!(Hit::of_io(&err), Some(Hit::RowBytes(50)));
        assert_eq!(k.excel_row(), 2);
    }
}

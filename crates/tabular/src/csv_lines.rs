//! Keeps blank CSV lines as rows. The csv crate drops blank lines, and
//! its line positions do not count them, but Excel shows each one as an
//! empty row; without them "第 N 行" in messages would point at the wrong
//! row. A blank line is turned into a lone delimiter, which the csv crate
//! reads as a record of empty fields.

use std::io::{self, Read};

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
}

impl<R: Read> BlankLineKeeper<R> {
    pub(crate) fn new(inner: R, delimiter: u8) -> Self {
        BlankLineKeeper {
            inner,
            delimiter,
            state: State::Unquoted,
            field_start: true,
            line_start: true,
            input: vec![0; 32 * 1024],
            output: Vec::with_capacity(64 * 1024),
            out_pos: 0,
        }
    }

    fn push(&mut self, b: u8) {
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
                if self.line_start && (b == b'\n' || b == b'\r') {
                    self.output.push(self.delimiter);
                }
                if b == b'"' && self.field_start {
                    self.state = State::Quoted;
                }
                self.line_start = b == b'\n';
                self.field_start = b == b'\n' || b == self.delimiter;
            }
        }
        self.output.push(b);
    }
}

impl<R: Read> Read for BlankLineKeeper<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos >= self.output.len() {
            self.output.clear();
            self.out_pos = 0;
            let n = self.inner.read(&mut self.input)?;
            let chunk = std::mem::take(&mut self.input);
            for &b in chunk.get(..n).unwrap_or_default() {
                self.push(b);
            }
            self.input = chunk;
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
        BlankLineKeeper::new(s.as_bytes(), b',')
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
}

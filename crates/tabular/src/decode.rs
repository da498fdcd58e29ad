//! Streaming text decoding for CSV files: clerks' CSV files come from
//! Chinese Windows in GBK as often as in UTF-8, and may be too large to load.
//!
//! ASCII reads the same in UTF-8 and GBK, so the choice is put off until the
//! first non-ASCII byte, wherever in the file it comes.

use std::io::{self, Read};

use crate::text::is_wide;
use encoding_rs::{CoderResult, Decoder, Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

const CHUNK: usize = 64 * 1024;
/// Bytes judged from the first non-ASCII byte on, so that one character cut
/// by a buffer edge is not taken for invalid UTF-8.
const LOOKAHEAD: usize = 4 * 1024;

/// Yields the file's text as UTF-8 bytes, whatever the file's encoding.
pub(crate) struct Utf8Reader<R> {
    inner: R,
    /// `None` while everything so far has been ASCII.
    decoder: Option<Decoder>,
    input: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    in_eof: bool,
    output: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    done: bool,
}

pub(crate) struct Sniffed<R> {
    pub reader: Utf8Reader<R>,
    pub delimiter: u8,
}

pub(crate) fn sniff<R: Read>(mut inner: R) -> io::Result<Sniffed<R>> {
    let mut input = vec![0; CHUNK];
    let mut in_len = 0;
    while in_len < input.len() {
        let n = read_retrying(&mut inner, &mut input[in_len..])?;
        if n == 0 {
            break;
        }
        in_len += n;
    }
    let head = input.get(..in_len).unwrap_or_default();
    let bom: Option<&'static Encoding> = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Some(UTF_8)
    } else if head.starts_with(&[0xFF, 0xFE]) {
        Some(UTF_16LE)
    } else if head.starts_with(&[0xFE, 0xFF]) {
        Some(UTF_16BE)
    } else {
        None
    };
    let delimiter = guess_delimiter(bom, head);
    let reader = Utf8Reader {
        inner,
        decoder: bom.map(Encoding::new_decoder_with_bom_removal),
        input,
        in_pos: 0,
        in_len,
        in_eof: in_len < CHUNK,
        output: vec![0; CHUNK],
        out_pos: 0,
        out_len: 0,
        done: false,
    };
    Ok(Sniffed { reader, delimiter })
}

/// Excel's "Unicode text" export is tab-separated; everything else seen in
/// practice uses commas. GBK never uses ASCII bytes inside a character, so
/// raw bytes can be counted for every encoding but UTF-16.
fn guess_delimiter(bom: Option<&'static Encoding>, head: &[u8]) -> u8 {
    let text: Vec<u8> = match bom {
        Some(enc) if enc != UTF_8 => enc
            .decode_with_bom_removal(head)
            .0
            .into_owned()
            .into_bytes(),
        _ => head.to_vec(),
    };
    let (mut commas, mut tabs, mut quoted) = (0usize, 0usize, false);
    for b in text {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b'\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if tabs > commas {
        b'\t'
    } else {
        b','
    }
}

fn choose_encoding(sample: &[u8], eof: bool) -> &'static Encoding {
    let valid = match std::str::from_utf8(sample) {
        Ok(text) => text,
        // A sequence cut off by the end of the sample is no evidence against
        // UTF-8, unless the file really ends there.
        Err(e) if e.error_len().is_none() && !eof => {
            std::str::from_utf8(&sample[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return GB18030,
    };
    // A short GBK sample can be valid UTF-8 by accident ("郑" is D6 A3, a
    // Hebrew accent in UTF-8). Only when UTF-8 gives no Chinese at all but
    // letters from alphabets a township file never holds, while GBK gives
    // Chinese, is the sample taken for GBK.
    let foreign = valid
        .chars()
        .any(|c| ('\u{0100}'..='\u{07FF}').contains(&c));
    if !foreign || valid.chars().any(is_wide) {
        return UTF_8;
    }
    let (gbk, had_errors) = GB18030.decode_without_bom_handling(sample);
    if !had_errors && mostly_chinese(&gbk) {
        GB18030
    } else {
        UTF_8
    }
}

fn mostly_chinese(text: &str) -> bool {
    let (mut wide, mut other) = (0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii()) {
        if is_wide(c) {
            wide += 1;
        } else {
            other += 1;
        }
    }
    wide >= other
}

fn read_retrying<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

impl<R: Read> Utf8Reader<R> {
    fn refill_input(&mut self) -> io::Result<()> {
        if self.in_pos >= self.in_len && !self.in_eof {
            self.in_len = read_retrying(&mut self.inner, &mut self.input)?;
            self.in_pos = 0;
            self.in_eof = self.in_len == 0;
        }
        Ok(())
    }

    /// Gathers at least LOOKAHEAD bytes from the current position (or all
    /// that is left) and picks the encoding from them.
    fn decide(&mut self) -> io::Result<()> {
        self.input.copy_within(self.in_pos..self.in_len, 0);
        self.in_len -= self.in_pos;
        self.in_pos = 0;
        while self.in_len < LOOKAHEAD && !self.in_eof {
            let n = read_retrying(&mut self.inner, &mut self.input[self.in_len..])?;
            self.in_len += n;
            self.in_eof = n == 0;
        }
        let sample = self.input.get(..self.in_len).unwrap_or_default();
        let enc = choose_encoding(sample, self.in_eof);
        self.decoder = Some(enc.new_decoder_without_bom_handling());
        Ok(())
    }

    /// Produces the next piece of output, or marks the end.
    fn produce(&mut self) -> io::Result<()> {
        self.refill_input()?;
        self.out_pos = 0;
        self.out_len = 0;
        let Some(decoder) = self.decoder.as_mut() else {
            let src = self.input.get(self.in_pos..self.in_len).unwrap_or_default();
            if src.is_empty() {
                self.done = self.in_eof;
                return Ok(());
            }
            let ascii = src.iter().position(|b| !b.is_ascii()).unwrap_or(src.len());
            if ascii == 0 {
                return self.decide();
            }
            let n = ascii.min(self.output.len());
            self.output[..n].copy_from_slice(&src[..n]);
            self.in_pos += n;
            self.out_len = n;
            return Ok(());
        };
        let src = self.input.get(self.in_pos..self.in_len).unwrap_or_default();
        let (result, read, written, _) = decoder.decode_to_utf8(src, &mut self.output, self.in_eof);
        self.in_pos += read;
        self.out_len = written;
        if self.in_eof && result == CoderResult::InputEmpty {
            self.done = true;
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out_len {
                let avail = self
                    .output
                    .get(self.out_pos..self.out_len)
                    .unwrap_or_default();
                let n = avail.len().min(buf.len());
                buf[..n].copy_from_slice(&avail[..n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            self.produce()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::GBK;

    fn decode_all(bytes: &[u8]) -> (String, u8) {
        let s = sniff(bytes).expect("sniff");
        let delim = s.delimiter;
        let mut out = String::new();
        let mut r = s.reader;
        r.read_to_string(&mut out).expect("decode");
        (out, delim)
    }

    #[test]
    fn gbk_is_detected_and_decoded() {
        let (bytes, _, _) = GBK.encode("姓名,身份证号\n张三,11010519491231002X\n");
        assert_eq!(
            decode_all(&bytes),
            ("姓名,身份证号\n张三,11010519491231002X\n".to_string(), b',')
        );
    }

    #[test]
    fn bom_is_removed_and_tabs_seen() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("姓名\t村\n".as_bytes());
        assert_eq!(decode_all(&bytes), ("姓名\t村\n".to_string(), b'\t'));
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "姓名\t村\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode_all(&bytes), ("姓名\t村\n".to_string(), b'\t'));
    }

    #[test]
    fn long_ascii_prefix_then_gbk() {
        let mut s = String::new();
        for i in 0..300_000 {
            s.push_str(&format!("{i},abc\n"));
        }
        s.push_str("李四,村\n");
        let (bytes, _, _) = GBK.encode(&s);
        assert_eq!(decode_all(&bytes).0, s);
    }

    #[test]
    fn utf8_split_across_chunks() {
        let s = format!("a{}", "张".repeat(100_000));
        assert_eq!(decode_all(s.as_bytes()).0, s);
    }

    #[test]
    fn utf8_punctuation_stays_utf8() {
        let s = "note,“quoted” — ok ×2 ①\n";
        assert_eq!(decode_all(s.as_bytes()).0, s);
    }

    #[test]
    fn gbk_at_the_very_end() {
        let (bytes, _, _) = GBK.encode("abc,郑");
        assert_eq!(decode_all(&bytes).0, "abc,郑");
    }
}

//! Streaming text decoding for CSV files: clerks' CSV files come from
//! Chinese Windows in GBK as often as in UTF-8, and may be too large to load.
//!
//! ASCII reads the same in UTF-8 and GBK, so the choice is put off until the
//! first non-ASCII byte, wherever in the file it comes. Once chosen, the encoding holds for
//! the rest of the file: bytes that are not valid in it stop the read (never a U+FFFD in
//! a record), and so does a line that reads as the other encoding, which is what a file
//! pasted together from a UTF-8 and a GBK export looks like.

use std::borrow::Cow;
use std::io::{self, Read};

use crate::limits::Hit;
use crate::text::is_wide;
use encoding_rs::{Decoder, DecoderResult, Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

const CHUNK: usize = 64 * 1024;
/// Bytes judged from the first non-ASCII byte on, so that one character cut
/// by a buffer edge is not taken for invalid UTF-8.
const LOOKAHEAD: usize = 4 * 1024;
/// Delimiters a CSV may use, in order of preference when the evidence is even.
const DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];
/// Lines of the head looked at to choose the delimiter.
const SNIFF_LINES: usize = 50;
/// Bytes of the head looked at for the zero bytes of UTF-16 without a BOM.
const UTF16_SNIFF: usize = 4096;

/// Yields the file's text as UTF-8 bytes, whatever the file's encoding.
pub(crate) struct Utf8Reader<R> {
    inner: R,
    /// `None` while everything so far has been ASCII.
    decoder: Option<Decoder>,
    encoding: Option<&'static Encoding>,
    input: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    in_eof: bool,
    output: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    done: bool,
    /// The bytes stopped being valid in the encoding: reported once the text before them
    /// has been handed out, so the reader above knows which row they are on.
    failed: Option<Hit>,
    /// The decoder is at the start of a character (after a line end or the ASCII prefix),
    /// so the next line can be judged on its own.
    boundary: bool,
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
    let bare_utf16 = if bom.is_none() {
        utf16_without_bom(head)
    } else {
        None
    };
    let delimiter = guess_delimiter(bom.or(bare_utf16), head, in_len < CHUNK);
    let decoder = match (bom, bare_utf16) {
        (Some(enc), _) => Some(enc.new_decoder_with_bom_removal()),
        (None, Some(enc)) => Some(enc.new_decoder_without_bom_handling()),
        (None, None) => None,
    };
    let mut reader = Utf8Reader {
        inner,
        decoder: None,
        encoding: bom.or(bare_utf16),
        input,
        in_pos: 0,
        in_len,
        in_eof: in_len < CHUNK,
        output: vec![0; CHUNK],
        out_pos: 0,
        out_len: 0,
        done: false,
        failed: None,
        boundary: true,
    };
    if let Some(d) = decoder {
        reader.grow_output(&d);
        reader.decoder = Some(d);
    }
    Ok(Sniffed { reader, delimiter })
}

/// UTF-16 saved without a BOM, told by its zero bytes: the ASCII a CSV always has
/// (delimiters, digits, line ends) puts a zero in every other byte, on the odd bytes in
/// little-endian and the even ones in big-endian. A Chinese character has a zero byte
/// only one time in 256, so the other side stays nearly clean.
pub(crate) fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
    let n = head.len().min(UTF16_SNIFF) & !1;
    let sample = head.get(..n)?;
    if n < 4 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    let units = n / 2;
    let enough = |zeros: usize| zeros >= 2 && zeros * 8 >= units;
    if enough(odd) && even * 8 <= odd {
        Some(UTF_16LE)
    } else if enough(even) && odd * 8 <= even {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// The delimiter that splits the first lines most consistently: for each candidate the
/// most common non-zero count per line, and how many lines have exactly that count. A
/// semicolon file's decimal commas ("350,50") vary from line to line, its semicolons do
/// not; a title row with no delimiter at all counts for none of them.
fn guess_delimiter(utf16: Option<&'static Encoding>, head: &[u8], whole: bool) -> u8 {
    let text: Cow<'_, [u8]> = match utf16 {
        Some(enc) => Cow::Owned(
            enc.decode_with_bom_removal(head)
                .0
                .into_owned()
                .into_bytes(),
        ),
        None => ascii_view(head),
    };
    let lines = delimiter_counts(&text, whole);
    let mut best: Option<(usize, usize, u8)> = None;
    for (k, d) in DELIMITERS.iter().enumerate() {
        let mut counts: Vec<usize> = lines.iter().map(|c| c[k]).filter(|n| *n > 0).collect();
        if counts.is_empty() {
            continue;
        }
        counts.sort_unstable();
        // The most frequent count, the larger one on a tie.
        let (mut mode, mut freq) = (0, 0);
        let mut i = 0;
        while let Some(&n) = counts.get(i) {
            let run = counts
                .get(i..)
                .unwrap_or_default()
                .iter()
                .take_while(|m| **m == n)
                .count();
            if run >= freq {
                (mode, freq) = (n, run);
            }
            i += run;
        }
        if best.is_none_or(|(f, m, _)| (freq, mode) > (f, m)) {
            best = Some((freq, mode, *d));
        }
    }
    best.map_or(b',', |(_, _, d)| d)
}

/// The head's bytes with the delimiters where they really are: in UTF-8 no byte of a
/// multi-byte character is ASCII, but a GBK character's second byte can be `|` (0x7C), so
/// when the head is not UTF-8 its double-byte characters are blanked out.
fn ascii_view(head: &[u8]) -> Cow<'_, [u8]> {
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    if utf8 {
        return Cow::Borrowed(head);
    }
    let mut out = Vec::with_capacity(head.len());
    let mut i = 0;
    while let Some(&b) = head.get(i) {
        if b < 0x80 {
            out.push(b);
            i += 1;
        } else if head.get(i + 1).is_some_and(|n| (0x30..=0x39).contains(n)) {
            // GB18030's four-byte form: lead, digit, lead, digit.
            out.push(b'x');
            i += 4;
        } else {
            out.push(b'x');
            i += 2;
        }
    }
    Cow::Owned(out)
}

/// Per line (quotes respected, blank lines left out, an unfinished last line too unless
/// the head is the whole file), how many of each delimiter it has.
fn delimiter_counts(text: &[u8], whole: bool) -> Vec<[usize; 4]> {
    let mut lines = Vec::new();
    let mut counts = [0usize; 4];
    let mut quoted = false;
    let mut empty = true;
    for &b in text {
        if lines.len() >= SNIFF_LINES {
            return lines;
        }
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => {
                if !empty {
                    lines.push(counts);
                }
                counts = [0; 4];
                empty = true;
                continue;
            }
            _ if !quoted => {
                if let Some(k) = DELIMITERS.iter().position(|d| *d == b) {
                    counts[k] += 1;
                }
            }
            _ => {}
        }
        empty = false;
    }
    if whole && !empty && lines.len() < SNIFF_LINES {
        lines.push(counts);
    }
    lines
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

/// Whether a line of a GBK file is really UTF-8: valid UTF-8 with at least two Chinese
/// characters and nothing from the two-byte range GBK text turns into. GBK text is valid
/// UTF-8 only by accident, and never for long.
fn utf8_line(line: &[u8]) -> bool {
    let valid = match std::str::from_utf8(line) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&line[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    valid.chars().filter(|c| is_wide(*c)).take(2).count() == 2
        && !valid
            .chars()
            .any(|c| ('\u{0080}'..='\u{07FF}').contains(&c))
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

/// Whether any byte is a UTF-8 lead byte of U+0100–U+07FF (0xC4–0xDF). Written without an
/// early exit so that it compiles to a vector loop: it runs over every line of a UTF-8 file.
fn has_two_byte_lead(line: &[u8]) -> bool {
    line.iter()
        .fold(0u8, |acc, b| acc | u8::from(b.wrapping_sub(0xC4) < 0x1C))
        != 0
}

/// The encoding's name in a message.
fn encoding_name(enc: &'static Encoding) -> &'static str {
    if enc == UTF_8 {
        "UTF-8"
    } else if enc == GB18030 {
        "GBK（GB18030）"
    } else {
        "UTF-16"
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
        let decoder = enc.new_decoder_without_bom_handling();
        self.grow_output(&decoder);
        self.decoder = Some(decoder);
        self.encoding = Some(enc);
        self.boundary = true;
        Ok(())
    }

    /// Room for a whole input chunk's text, so a chunk is judged and decoded once.
    fn grow_output(&mut self, decoder: &Decoder) {
        let need = decoder
            .max_utf8_buffer_length_without_replacement(CHUNK)
            .unwrap_or(CHUNK * 3);
        if self.output.len() < need {
            self.output.resize(need, 0);
        }
    }

    /// Whether a line starting at a character boundary reads as the other byte encoding.
    fn switched(&self, line: &[u8]) -> bool {
        match self.encoding {
            Some(enc) if enc == GB18030 => utf8_line(line),
            Some(enc) if enc == UTF_8 => choose_encoding(line, false) == GB18030,
            _ => false,
        }
    }

    /// How much of `src` holds no line that reads as the other encoding: all of it, or up
    /// to the start of the first such line. Only lines that start at a character boundary
    /// are judged, and only those that could be suspect: in a GBK file any line with
    /// non-ASCII bytes; in a UTF-8 file a line with a lead byte of U+0100–U+07FF (0xC4–0xDF),
    /// since bytes invalid in UTF-8 are caught by the decoder itself.
    fn clean_prefix(&self, src: &[u8], enc: &'static Encoding) -> usize {
        let gbk = enc == GB18030;
        let mut start = 0;
        let mut boundary = self.boundary;
        // A last line cut off by the buffer is judged on what there is of it.
        for line in src.split_inclusive(|b| *b == b'\n') {
            if boundary
                && !line.is_ascii()
                && (gbk || has_two_byte_lead(line))
                && self.switched(line)
            {
                return start;
            }
            start += line.len();
            boundary = line.last() == Some(&b'\n');
        }
        src.len()
    }

    /// Produces the next piece of output, or marks the end or the failure.
    fn produce(&mut self) -> io::Result<()> {
        self.refill_input()?;
        self.out_pos = 0;
        self.out_len = 0;
        let src = self.input.get(self.in_pos..self.in_len).unwrap_or_default();
        if self.decoder.is_none() {
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
        }
        let Some(enc) = self.encoding else {
            return Ok(());
        };
        // In UTF-8 and GBK a newline byte is never part of a character, so each line can be
        // judged on its own; the text up to the first line that reads as the other encoding
        // is decoded in one go, and that line is refused on the next call.
        let by_line = enc == UTF_8 || enc == GB18030;
        let seg_len = if by_line {
            self.clean_prefix(src, enc)
        } else {
            src.len()
        };
        if seg_len == 0 && !src.is_empty() {
            self.failed = Some(Hit::Encoding(encoding_name(enc)));
            return Ok(());
        }
        let seg = src.get(..seg_len).unwrap_or_default();
        let last = self.in_eof && seg_len == src.len();
        let Some(decoder) = self.decoder.as_mut() else {
            return Ok(());
        };
        let (result, read, written) =
            decoder.decode_to_utf8_without_replacement(seg, &mut self.output, last);
        self.in_pos += read;
        self.out_len = written;
        match result {
            DecoderResult::InputEmpty => {
                self.boundary = read == seg_len && seg.last() == Some(&b'\n');
                if last {
                    self.done = true;
                }
            }
            DecoderResult::OutputFull => self.boundary = false,
            DecoderResult::Malformed(..) => self.failed = Some(Hit::Encoding(encoding_name(enc))),
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
            if let Some(hit) = self.failed {
                return Err(hit.into_io());
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

    fn decode_err(bytes: &[u8]) -> (String, Option<Hit>) {
        let s = sniff(bytes).expect("sniff");
        let mut out = Vec::new();
        let mut r = s.reader;
        let mut buf = [0u8; 1000];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (String::from_utf8(out).expect("utf-8"), None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (String::from_utf8(out).expect("utf-8"), Hit::of_io(&e)),
            }
        }
    }

    #[test]
    fn delimiters_are_told_apart() {
        let delim = |s: &str| sniff(s.as_bytes()).expect("sniff").delimiter;
        assert_eq!(
            delim("标题;;;\n姓名;身份证号;金额\n张三;1;350,50\n李四;2;400\n"),
            b';'
        );
        assert_eq!(delim("标题||\n姓名|身份证号|金额\n张三|1|350.5\n"), b'|');
        assert_eq!(delim("姓名\t身份证号\n张三\t1\n"), b'\t');
        assert_eq!(
            delim("姓名,身份证号,备注\n张三,1,\"a;b|c\"\n李四,2,x\n"),
            b','
        );
        assert_eq!(delim("只有一列\n张三\n"), b',');
        // A GBK trail byte 0x7C is not a pipe: "乗" in GBK is 81 7C.
        let (gbk, _, _) = GBK.encode("姓名,编号\n乗乗乗,1\n乗乗,2\n");
        assert_eq!(sniff(&gbk[..]).expect("sniff").delimiter, b',');
    }

    #[test]
    fn utf16_without_bom_by_its_zero_bytes() {
        let text = "姓名,身份证号\n张三,11010519491231002X\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode_all(&le), (text.to_string(), b','));
        assert_eq!(decode_all(&be), (text.to_string(), b','));
        assert_eq!(utf16_without_bom(b"plain,ascii\n"), None);
    }

    #[test]
    fn bytes_invalid_in_the_chosen_encoding_stop_the_read() {
        // UTF-8 first, then GBK past the first chunk.
        let mut bytes = "姓名,村\n".as_bytes().to_vec();
        while bytes.len() < 70_000 {
            bytes.extend_from_slice("张三,龙潭村\n".as_bytes());
        }
        let good = bytes.len();
        bytes.extend_from_slice(&GBK.encode("李四,龙潭村\n").0);
        let (out, hit) = decode_err(&bytes);
        assert_eq!(hit, Some(Hit::Encoding("UTF-8")));
        assert_eq!(
            out.len(),
            good,
            "everything before the GBK line is handed out"
        );
        assert!(!out.contains('\u{FFFD}'));
    }

    #[test]
    fn a_utf8_line_in_a_gbk_file_stops_the_read() {
        let mut bytes = GBK.encode("姓名,村\n张三,龙潭村\n").0.into_owned();
        let good = "姓名,村\n张三,龙潭村\n".len();
        bytes.extend_from_slice("李四,龙潭村\n".as_bytes());
        let (out, hit) = decode_err(&bytes);
        assert_eq!(hit, Some(Hit::Encoding("GBK（GB18030）")));
        assert_eq!(out.len(), good);
    }
}

//! The tags of an XML part with their byte spans, so a part can be rewritten by splicing: the
//! bytes between the tags that change are copied as they are.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Start,
    End,
    Empty,
}

/// One tag: its qualified name, local name, span `[start, end)` and attributes (unescaped).
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub qname: String,
    pub name: String,
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub attrs: Vec<(String, String)>,
}

impl Tag {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The namespace prefix of the tag with its colon (`x:`), or nothing.
    pub(crate) fn prefix(&self) -> &str {
        &self.qname[..self.qname.len() - self.name.len()]
    }
}

fn attrs(e: &BytesStart) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let raw = String::from_utf8_lossy(&a.value).into_owned();
            (key, unescape(&raw))
        })
        .collect()
}

/// Every start, end and empty tag of `xml`, in order.
pub(crate) fn tags(xml: &str) -> Result<Vec<Tag>, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut out = Vec::new();
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let ev = reader.read_event().map_err(|e| format!("XML 无法解析（第 {} 字节）：{e}", reader.buffer_position()))?;
        let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let (kind, e) = match &ev {
            Event::Start(e) => (Kind::Start, e),
            Event::Empty(e) => (Kind::Empty, e),
            Event::End(e) => {
                let qname = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                out.push(Tag { qname, name, kind: Kind::End, start, end, attrs: Vec::new() });
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let qname = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        out.push(Tag { qname, name, kind, start, end, attrs: attrs(e) });
    }
    Ok(out)
}

/// XML text or attribute value to plain text (`&amp;` → `&`, `&#20013;` → `中`).
pub(crate) fn unescape(s: &str) -> String {
    quick_xml::escape::unescape(s).map_or_else(|_| s.to_string(), |c| c.into_owned())
}

/// Plain text to XML text or attribute value.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0.
            c if c < ' ' && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Where attribute `name` lies in a raw tag: (start of its name, start of its value, end of
/// its value), the value's quotes excluded.
fn find_attr(raw: &str, name: &str) -> Option<(usize, usize, usize)> {
    let b = raw.as_bytes();
    let mut i = 0;
    while let Some(k) = raw[i..].find(name) {
        let at = i + k;
        let before_ok = at > 0 && b[at - 1].is_ascii_whitespace();
        let mut j = at + name.len();
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if before_ok && b.get(j) == Some(&b'=') {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if let Some(&q) = b.get(j).filter(|q| **q == b'"' || **q == b'\'') {
                if let Some(len) = raw[j + 1..].find(char::from(q)) {
                    return Some((at, j + 1, j + 1 + len));
                }
            }
        }
        i = at + name.len();
    }
    None
}

/// The raw text of a tag with the value of attribute `name` replaced (added when missing).
pub(crate) fn set_attr(raw: &str, name: &str, value: &str) -> String {
    if let Some((_, a, b)) = find_attr(raw, name) {
        return format!("{}{}{}", &raw[..a], escape(value), &raw[b..]);
    }
    let cut = if raw.ends_with("/>") { raw.len() - 2 } else { raw.len().saturating_sub(1) };
    format!("{} {name}=\"{}\"{}", &raw[..cut], escape(value), &raw[cut..])
}

/// The raw text of a tag without attribute `name`.
pub(crate) fn remove_attr(raw: &str, name: &str) -> String {
    match find_attr(raw, name) {
        Some((at, _, b)) => format!("{}{}", raw[..at].trim_end(), &raw[b + 1..]),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_attributes() {
        let xml = r#"<a x="1"><b r="B5" s="3"/>t&amp;<c>x</c></a>"#;
        let t = tags(xml).expect("tags");
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "c", "a"]);
        assert_eq!(&xml[t[1].start..t[1].end], r#"<b r="B5" s="3"/>"#);
        assert_eq!(t[1].attr("r"), Some("B5"));
        assert_eq!(set_attr(r#"<b r="B5" s="3"/>"#, "r", "B7"), r#"<b r="B7" s="3"/>"#);
        assert_eq!(set_attr(r#"<row spans="1:7" r="4">"#, "r", "6"), r#"<row spans="1:7" r="6">"#);
        assert_eq!(set_attr(r#"<calcPr calcId="1"/>"#, "fullCalcOnLoad", "1"), r#"<calcPr calcId="1" fullCalcOnLoad="1"/>"#);
        assert_eq!(unescape("a&amp;b&#20013;"), "a&b中");
        assert_eq!(remove_attr(r#"<c r="C2" s="0" t="e">"#, "t"), r#"<c r="C2" s="0">"#);
        assert_eq!(remove_attr(r#"<c t='e' r="C2">"#, "t"), r#"<c r="C2">"#);
        assert_eq!(remove_attr(r#"<c r="C2">"#, "t"), r#"<c r="C2">"#);
    }
}

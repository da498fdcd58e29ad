//! Escaping shared by the HTML and WordprocessingML writers.

/// Escapes `text` for element content and double- or single-quoted attribute values.
///
/// Characters that XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) are dropped: Word refuses
/// to open a package that contains one, and they carry no meaning in a report.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(
            escape("a<b>&\"'\u{0}\u{b}\u{FFFE}c\t"),
            "a&lt;b&gt;&amp;&quot;&#39;c\t"
        );
    }
}

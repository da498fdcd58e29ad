//! One normaliser for identifiers: 公民身份号码, 统一社会信用代码, phone numbers, and the
//! numbers a ledger keeps as text (户编号, bank and card accounts, receipt numbers).
//!
//! Every way a value arrives goes through here: the import paths (ledgers and the 花名册),
//! forms, the API and the CLI (`validate::parse_field`), and lookups by what a person typed
//! (`storage::refs::resolve`). So "４３０１ ２３１９…" typed in a form, "'430123…" from a sheet and
//! "430123…x" in JSON all find and store the same number.
//!
//! What is forgiven is what cannot hide a wrong digit: full-width digits and letters, spaces
//! anywhere (copy-paste from Word and WeChat puts them inside), Excel's text prefix (a leading
//! apostrophe), a lower-case x, the old 15-digit ID number (converted, with a warning). What
//! is refused is a number Excel stored as a float ("4.33024E+17", "4312241102010001.0", or a
//! number cell): its digits are gone or its leading zeros are, and no repair is possible.

use chrono::NaiveDate;

use crate::idcard::{is_excel_number_form, parse_id_number};
use crate::ledger::{FieldDef, FieldKind, Sensitivity, TextFormat};
use crate::money::halfwidth;
use crate::registry::check_phone;
use crate::uscc::validate_uscc;

/// What kind of identifier a text is: how it is checked and what messages call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentKind {
    /// 公民身份号码, GB 11643: checked, 15 digits converted to 18.
    IdNumber,
    /// 统一社会信用代码, GB 32100: checked.
    Uscc,
    /// A mobile number or a landline with its area code.
    Phone,
    /// Any other number kept as text (户编号, 银行账号, 卡号, 票据号): cleaned, not checked.
    Code,
}

impl IdentKind {
    /// The identifier a text field's format asks for.
    pub fn of_format(f: TextFormat) -> IdentKind {
        match f {
            TextFormat::IdNumber => IdentKind::IdNumber,
            TextFormat::Uscc => IdentKind::Uscc,
            TextFormat::Phone => IdentKind::Phone,
            TextFormat::Code => IdentKind::Code,
        }
    }

    /// What messages call such a value.
    pub fn noun(self) -> &'static str {
        match self {
            IdentKind::IdNumber => "身份证号",
            IdentKind::Uscc => "统一社会信用代码",
            IdentKind::Phone => "电话号码",
            IdentKind::Code => "号码",
        }
    }
}

/// Whether a ledger field holds an identifier, and which: a text field with a `format`, or one
/// masked as an ID number (银行账号 and the like, `sensitivity = "id_number"`) without one.
pub fn of_field(f: &FieldDef) -> Option<IdentKind> {
    if f.kind != FieldKind::Text {
        return None;
    }
    match f.format {
        Some(format) => Some(IdentKind::of_format(format)),
        None if f.sensitivity == Some(Sensitivity::IdNumber) => Some(IdentKind::Code),
        None => None,
    }
}

/// An identifier as it is stored and looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised {
    pub text: String,
    /// A 15-digit ID number was converted to its 18-digit form: callers should say so.
    pub converted_from_15: bool,
}

impl Normalised {
    /// The note for the person who typed it, when there is one to give.
    pub fn warning(&self, given: &str) -> Option<String> {
        self.converted_from_15
            .then(|| format!("15 位旧身份证号 {} 已转换为 18 位：{}", clean(given), self.text))
    }
}

/// Zero-width characters survive copy-paste from web pages, BOMs survive badly saved files.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Folds what people and spreadsheets do to an identifier, without judging it: full-width
/// characters to half-width, every space removed (inside too, and invisible ones), Excel's
/// text prefix (a leading apostrophe, also a Chinese quote typed for it) removed. Letters
/// keep their case; ID numbers and USCCs upper-case theirs when checked.
pub fn clean(s: &str) -> String {
    let folded = halfwidth(s);
    let joined: String = folded.chars().filter(|c| !c.is_whitespace() && !is_invisible(*c)).collect();
    joined.trim_start_matches(['\'', '‘', '’', '`']).to_string()
}

/// The explanation for an identifier Excel stored as a number: what happened and how to fix
/// the column. `noun` names the value (身份证号, 户编号, `IdentKind::noun`); `shown` is the
/// value as the cell shows it.
pub fn excel_number_reason(noun: &str, shown: &str) -> String {
    let shown = shown.trim();
    let digits = shown.split(['.', 'e', 'E']).next().unwrap_or("").len();
    let lost = digits > 15 || shown.contains(['e', 'E']);
    if lost {
        format!("{noun}被 Excel 存成了数字（{shown}），后几位已丢失；请把该列设为文本格式后重新填写")
    } else {
        format!(
            "{noun}被 Excel 存成了数字（{shown}），开头的 0 会丢失、超过 15 位的后几位会变成 0；请把该列设为文本格式后重新填写"
        )
    }
}

/// Normalises and checks an identifier. The error is the Chinese reason only (callers add the
/// field or column).
pub fn normalise(kind: IdentKind, s: &str, today: NaiveDate) -> Result<Normalised, String> {
    let plain = |text: String| Normalised { text, converted_from_15: false };
    if kind == IdentKind::IdNumber {
        return parse_id_number(s, today)
            .map(|p| Normalised { text: p.number, converted_from_15: p.converted_from_15 })
            .map_err(|e| e.to_string());
    }
    let text = clean(s);
    if text.is_empty() {
        return Err(format!("{}为空", kind.noun()));
    }
    if is_excel_number_form(&text) {
        return Err(excel_number_reason(kind.noun(), &text));
    }
    match kind {
        IdentKind::Uscc => validate_uscc(&text).map(plain).map_err(|e| e.to_string()),
        IdentKind::Phone => check_phone(&text).map(|()| plain(text)),
        IdentKind::Code if text.chars().count() > 64 => Err(format!("{}不能超过 64 个字符", kind.noun())),
        _ => Ok(plain(text)),
    }
}

/// What to look a typed identifier up by: its normalised form (a 15-digit ID number as its 18
/// digits), or, when it does not pass its checks (the lookup will then find nothing), the
/// cleaned text, upper-cased for ID numbers and USCCs. No birth date is too late for a lookup.
pub fn lookup_key(kind: IdentKind, s: &str) -> String {
    match normalise(kind, s, NaiveDate::MAX) {
        Ok(n) => n.text,
        Err(_) if matches!(kind, IdentKind::IdNumber | IdentKind::Uscc) => clean(s).to_uppercase(),
        Err(_) => clean(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 30).expect("date")
    }

    /// 11010519491231002X, the standard's own example.
    const ID: &str = "11010519491231002X";

    #[test]
    fn every_spelling_of_an_id_number_is_the_same_number() {
        for input in [
            ID,
            "11010519491231002x",
            " 1101 0519 4912 3100 2X ",
            "110105 19491231 002x",
            "１１０１０５１９４９１２３１００２Ｘ",
            "１１０１０５\u{3000}１９４９１２３１００２ｘ",
            "'11010519491231002X",
            "＇11010519491231002x",
            "\u{FEFF}11010519491231002X\u{200B}",
            "110105\u{00A0}19491231002X",
        ] {
            let n = normalise(IdentKind::IdNumber, input, today()).expect(input);
            assert_eq!(n.text, ID, "{input:?}");
            assert!(!n.converted_from_15);
            assert_eq!(n.warning(input), None);
            assert_eq!(lookup_key(IdentKind::IdNumber, input), ID);
        }
    }

    #[test]
    fn fifteen_digits_become_eighteen_with_a_warning() {
        // 110105491231002 is the 15-digit form of the standard's example.
        let n = normalise(IdentKind::IdNumber, " 110105 491231 002", today()).expect("15 digits");
        assert_eq!(n.text, ID);
        assert!(n.converted_from_15);
        let w = n.warning(" 110105 491231 002").expect("warning");
        assert_eq!(w, "15 位旧身份证号 110105491231002 已转换为 18 位：11010519491231002X");
    }

    #[test]
    fn excel_numbers_are_refused_with_the_explanation() {
        for (kind, input) in [
            (IdentKind::IdNumber, "4.33024E+17"),
            (IdentKind::IdNumber, "433024199001011000.0"),
            (IdentKind::Code, "4.31224110201E+15"),
            (IdentKind::Code, "6217 0000 1234.0"),
            (IdentKind::Uscc, "9.1350100E+17"),
            (IdentKind::Phone, "1.38001E+10"),
        ] {
            let e = normalise(kind, input, today()).expect_err(input);
            assert!(e.contains("被 Excel 存成了数字") && e.contains("请把该列设为文本格式后重新填写"), "{input}: {e}");
            assert!(e.starts_with(kind.noun()), "{e}");
        }
        assert_eq!(
            excel_number_reason(IdentKind::IdNumber.noun(), "4.31224E+17"),
            "身份证号被 Excel 存成了数字（4.31224E+17），后几位已丢失；请把该列设为文本格式后重新填写"
        );
        assert!(excel_number_reason("户编号", "4312241102010000").contains("后几位已丢失"));
        let short = excel_number_reason(IdentKind::Phone.noun(), "13800138000");
        assert!(short.contains("开头的 0 会丢失") && !short.contains("已丢失"), "{short}");
    }

    #[test]
    fn codes_are_cleaned_not_judged() {
        for input in ["6217002920001234567", " 6217 0029 2000 1234 567 ", "６２１７００２９２０００１２３４５６７", "'6217002920001234567"] {
            let n = normalise(IdentKind::Code, input, today()).expect(input);
            assert_eq!(n.text, "6217002920001234567", "{input:?}");
        }
        assert_eq!(normalise(IdentKind::Code, "H-0001", today()).expect("code").text, "H-0001");
        assert!(normalise(IdentKind::Code, " '　", today()).is_err());
        assert!(normalise(IdentKind::Code, &"1".repeat(65), today()).is_err());
    }

    #[test]
    fn phones_and_codes_of_organisations() {
        assert_eq!(normalise(IdentKind::Phone, "138 0013 8000", today()).expect("mobile").text, "13800138000");
        assert_eq!(normalise(IdentKind::Phone, "０７４５－２２２３３４４", today()).expect("landline").text, "0745-2223344");
        assert!(normalise(IdentKind::Phone, "12345", today()).is_err());
        let code = "91350100M000100Y43";
        assert_eq!(normalise(IdentKind::Uscc, "９１３５０１００ｍ０００１００ｙ４３", today()).expect("uscc").text, code);
        assert_eq!(normalise(IdentKind::Uscc, " 9135 0100 M000 100Y 43", today()).expect("uscc").text, code);
    }

    #[test]
    fn lookups_use_the_cleaned_text_when_the_check_fails() {
        // A wrong check character: nothing will be found, the text is still folded.
        assert_eq!(lookup_key(IdentKind::IdNumber, " 1101 0519 4912 3100 21"), "110105194912310021");
        assert_eq!(lookup_key(IdentKind::IdNumber, "110105491231002"), ID);
        assert_eq!(lookup_key(IdentKind::Code, "＇4312 2411"), "43122411");
    }
}

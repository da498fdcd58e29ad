//! Finding the figures of a draft (pure): a number with its measure word, as a Chinese summary
//! writes it — "1330户4785人", "146.32万元", "112万余元", "10余万元", "约1000余份",
//! "100万元以上", "近300人", "两次", "前三名" — and the denials that claim a zero
//! ("无涉军信访问题"). Dates, years, ordinals (第一, 一是) and document numbers carry no measure
//! word of their own and are left out, so they are never reported as claims.
//!
//! Positions are counted in `char`s of the text, the unit every later step (the marked HTML
//! and the Word comments) counts in.

use serde::Serialize;

/// Measure words after a number, longest first where one is the start of another (人次 before
/// 人), so that the longest is taken.
pub const UNITS: &[&str] = &[
    "平方米", "立方米", "人次", "批次", "户次", "个月", "公里", "千米", "公顷", "小时", "户", "人", "次", "期", "起", "个", "条",
    "处", "亩", "米", "份", "台", "元", "名", "家", "批", "篇", "支", "件", "包", "项", "场", "所", "座", "辆", "棵", "株", "吨",
    "头", "只", "间", "套", "本", "张", "宗", "轮", "册", "盏", "口", "箱", "位", "年", "天", "周", "%", "％",
];

/// How a figure is hedged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualifier {
    /// Written plainly: the value rounded at the written precision ("30.54万元", "1330户").
    Exact,
    /// 余 / 多: at least the figure and less than one step more; `step_exp` is the power of ten
    /// of that step in the figure's base unit ("260余" 1, "112万余" 4, "10余万" 5).
    Yu { step_exp: i32 },
    /// 以上 / 超过 / 逾: at least the figure.
    AtLeast,
    /// 以下 / 以内 / 不到 / 不足: at most the figure.
    AtMost,
    /// 约 / 左右 / 大约: within half a step of the written precision (trailing zeros not
    /// significant: 约1000 is 500 … 1500).
    About,
    /// 近 / 将近: at most the figure, within half a step of it.
    Nearly,
    /// 前三名: a rank, which no ledger counts.
    Rank,
    /// 无…: a denial, the claim that the figure is zero.
    Zero,
}

/// A number as written: `mantissa × 10^exp` in the base unit (元 for money, the count itself
/// otherwise), 万 and 亿 folded into `exp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Number {
    pub mantissa: i128,
    pub exp: i32,
    /// The power of ten of 万 (4) or 亿 (8) the writer used, 0 without one.
    pub multiplier: i32,
    /// Written in Chinese numerals (两次).
    pub chinese: bool,
}

impl Number {
    /// Trailing zeros of the mantissa (0 for zero).
    pub fn trailing_zeros(&self) -> i32 {
        let mut m = self.mantissa.abs();
        let mut n = 0;
        while m != 0 && m % 10 == 0 {
            m /= 10;
            n += 1;
        }
        n
    }

    /// The digits as written, without 万 and the unit ("146.32", "1000").
    pub fn digits(&self) -> String {
        let places = (self.multiplier - self.exp).max(0);
        let shift = (self.exp - self.multiplier).max(0);
        let m = self.mantissa * 10_i128.pow(shift.unsigned_abs());
        write_scaled(m, places)
    }
}

/// `m` with `places` decimals, no trailing zeros dropped.
pub fn write_scaled(m: i128, places: i32) -> String {
    if places <= 0 {
        return m.to_string();
    }
    let p = 10_i128.pow(places.unsigned_abs());
    let sign = if m < 0 { "-" } else { "" };
    let a = m.abs();
    format!("{sign}{}.{:0w$}", a / p, a % p, w = usize::try_from(places).unwrap_or(0))
}

/// One figure found in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mention {
    /// Char offsets of the whole figure, qualifiers and measure word included.
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub number: Number,
    /// The measure word ("户", "元" for money whether written 元 or 万元, "" for a denial).
    pub unit: String,
    pub qualifier: Qualifier,
    /// Written right after another figure ("4785人" after "1330户"): it shares that figure's
    /// phrase.
    pub follows: bool,
}

impl Mention {
    pub fn is_money(&self) -> bool {
        self.unit == "元"
    }
}

fn is_arabic(c: char) -> bool {
    c.is_ascii_digit()
}

fn zh_digit(c: char) -> Option<i128> {
    Some(match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn zh_power(c: char) -> Option<i128> {
    Some(match c {
        '十' => 10,
        '百' => 100,
        '千' => 1000,
        _ => return None,
    })
}

fn is_zh_numeral(c: char) -> bool {
    zh_digit(c).is_some() || zh_power(c).is_some()
}

/// A Chinese numeral below 万 ("十二", "三十五", "一百二十", "两"); digits in a row without
/// 十百千 ("二〇二三") read digit by digit.
pub fn parse_zh(s: &[char]) -> Option<i128> {
    if s.is_empty() {
        return None;
    }
    if s.iter().all(|c| zh_digit(*c).is_some()) {
        return s.iter().try_fold(0_i128, |acc, c| Some(acc * 10 + zh_digit(*c)?));
    }
    let (mut total, mut digit) = (0_i128, None::<i128>);
    for &c in s {
        if let Some(d) = zh_digit(c) {
            // 零 holds a place (一百零五); any other two digits in a row are no numeral.
            if digit.is_some_and(|x| x != 0) {
                return None;
            }
            digit = Some(d);
        } else if let Some(p) = zh_power(c) {
            total += digit.unwrap_or(1) * p;
            digit = None;
        } else {
            return None;
        }
    }
    Some(total + digit.unwrap_or(0))
}

fn starts_with(chars: &[char], at: usize, word: &str) -> bool {
    (at..).zip(word.chars()).all(|(i, w)| chars.get(i) == Some(&w))
}

fn ends_with(chars: &[char], before: usize, word: &str) -> bool {
    let n = word.chars().count();
    before >= n && starts_with(chars, before - n, word)
}

/// The measure word at `at`, longest first.
pub fn unit_at(chars: &[char], at: usize) -> Option<&'static str> {
    UNITS.iter().copied().filter(|u| starts_with(chars, at, u)).max_by_key(|u| u.chars().count())
}

/// Inside “…” (a name such as “四包一”): a Chinese numeral there is part of the name.
fn inside_quotes(chars: &[char], at: usize) -> bool {
    let mut open = false;
    for &c in &chars[..at] {
        match c {
            '“' | '《' => open = true,
            '”' | '》' => open = false,
            _ => {}
        }
    }
    open
}

const SENTENCE_END: &[char] = &['。', '；', ';', '！', '？', '!', '?', '\n'];
const CLAUSE_END: &[char] = &['，', ',', '。', '；', ';', '：', ':', '、', '！', '？', '!', '?', '\n'];

pub fn is_clause_end(c: char) -> bool {
    CLAUSE_END.contains(&c)
}

pub fn is_sentence_end(c: char) -> bool {
    SENTENCE_END.contains(&c)
}

/// Every figure and denial of the text, in order.
pub fn find(text: &str) -> Vec<Mention> {
    let chars: Vec<char> = text.chars().map(fold_width).collect();
    let mut out: Vec<Mention> = Vec::new();
    let denials = denials(&chars);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !is_arabic(c) && !is_zh_numeral(c) {
            i += 1;
            continue;
        }
        match number_at(&chars, i, &denials) {
            Some(m) => {
                i = m.end;
                out.push(m);
            }
            None => {
                // Skip the whole run of digits, so "2023" is not read again as "023".
                let arabic = is_arabic(c);
                while i < chars.len() && (if arabic { is_arabic(chars[i]) || chars[i] == '.' } else { is_zh_numeral(chars[i]) }) {
                    i += 1;
                }
            }
        }
    }
    out.extend(denials.into_iter().map(|(s, e)| Mention {
        start: s,
        end: e,
        text: chars[s..e].iter().collect(),
        number: Number { mantissa: 0, exp: 0, multiplier: 0, chinese: true },
        unit: String::new(),
        qualifier: Qualifier::Zero,
        follows: false,
    }));
    out.sort_by_key(|m| m.start);
    for k in 1..out.len() {
        let prev_end = out[k - 1].end;
        out[k].follows = out[k].start == prev_end && out[k].qualifier != Qualifier::Zero;
    }
    out
}

/// Full-width digits and signs read as their ASCII forms (one char for one char, so offsets
/// stay those of the text).
pub fn fold_width(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        '．' => '.',
        _ => c,
    }
}

/// Clauses that deny: 无 (or 没有, 未发生) at the start of a clause, up to the clause's end.
fn denials(chars: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for i in 0..chars.len() {
        let at_clause_start = i == 0 || is_clause_end(chars[i - 1]) || ends_with(chars, i, "均") || ends_with(chars, i, "全年");
        if !at_clause_start {
            continue;
        }
        let word = ["无", "没有", "未发生"].into_iter().find(|w| starts_with(chars, i, w));
        let Some(w) = word else { continue };
        let body = i + w.chars().count();
        // 无 as part of a word (无缝, 无私) is no denial worth checking; the matching decides,
        // but a denial needs at least two characters of what is denied.
        let mut e = body;
        while e < chars.len() && !is_clause_end(chars[e]) {
            e += 1;
        }
        if e - body >= 2 && e - body <= 20 {
            out.push((i, e));
        }
    }
    out
}

/// The figure starting with the numeral at `i`, or `None` when it is no claim.
fn number_at(chars: &[char], i: usize, denials: &[(usize, usize)]) -> Option<Mention> {
    let prev = i.checked_sub(1).map(|p| chars[p]);
    // An ordinal (第一, 第九期) or a digit glued to a Latin letter (G60) is no count.
    if matches!(prev, Some('第')) || prev.is_some_and(|p| p.is_ascii_alphabetic()) {
        return None;
    }
    let (mut number, mut j) = if is_arabic(chars[i]) { arabic_at(chars, i)? } else { zh_at(chars, i, denials)? };
    let mut qualifier = Qualifier::Exact;
    // 余 before 万 ("10余万元"): the step is the number's own last significant place.
    let mut yu_before = false;
    if matches!(chars.get(j), Some('余' | '多')) && matches!(chars.get(j + 1), Some('万' | '亿')) {
        yu_before = true;
        j += 1;
    }
    if let Some(&m @ ('万' | '亿')) = chars.get(j) {
        let p = if m == '万' { 4 } else { 8 };
        // 万 must lead on to a measure word or 余, not be a word of its own (万众一心).
        let next = chars.get(j + 1).copied();
        let leads_on = matches!(next, Some('余' | '多')) || unit_at(chars, j + 1).is_some();
        if leads_on {
            number.exp += p;
            number.multiplier = p;
            j += 1;
        } else if yu_before {
            return None;
        }
    }
    if yu_before {
        qualifier = Qualifier::Yu { step_exp: number.exp + number.trailing_zeros() };
    } else if matches!(chars.get(j), Some('余' | '多')) {
        // "112万余": the step is the 万 written; "260余": the last significant place.
        let step = if number.multiplier > 0 { number.exp } else { number.exp + number.trailing_zeros() };
        qualifier = Qualifier::Yu { step_exp: step };
        j += 1;
    }
    let unit = unit_at(chars, j)?;
    let after_unit = j + unit.chars().count();
    // Years and durations: "2023年" is a date, "两年" a count of years.
    if unit == "年" && !number.chinese && number.exp == 0 && (1900..=2100).contains(&number.mantissa) {
        return None;
    }
    if unit == "年" && matches!(chars.get(after_unit), Some('度' | '级')) {
        return None;
    }
    if unit == "个" && matches!(chars.get(after_unit), Some('月')) {
        return None;
    }
    let mut end = after_unit;
    let mut start = i;
    for (word, q) in [("以上", Qualifier::AtLeast), ("以下", Qualifier::AtMost), ("以内", Qualifier::AtMost), ("左右", Qualifier::About)] {
        if starts_with(chars, end, word) && qualifier == Qualifier::Exact {
            qualifier = q;
            end += word.chars().count();
        }
    }
    for (word, q) in [
        ("大约", Qualifier::About),
        ("将近", Qualifier::Nearly),
        ("超过", Qualifier::AtLeast),
        ("不到", Qualifier::AtMost),
        ("不足", Qualifier::AtMost),
        ("约", Qualifier::About),
        ("近", Qualifier::Nearly),
        ("逾", Qualifier::AtLeast),
        ("前", Qualifier::Rank),
    ] {
        if ends_with(chars, start, word) {
            start -= word.chars().count();
            // 约…余: the 余 is the more precise hedge.
            if !matches!(qualifier, Qualifier::Yu { .. }) || q == Qualifier::Rank {
                qualifier = q;
            }
            break;
        }
    }
    let unit = if unit == "％" { "%" } else { unit };
    Some(Mention {
        start,
        end,
        text: chars[start..end].iter().collect(),
        number,
        unit: unit.to_string(),
        qualifier,
        follows: false,
    })
}

/// Arabic digits with an optional decimal part and thousands separators ("1,234.5").
fn arabic_at(chars: &[char], i: usize) -> Option<(Number, usize)> {
    let mut j = i;
    let mut digits = String::new();
    let mut places: i32 = 0;
    let mut in_frac = false;
    while j < chars.len() {
        let c = chars[j];
        if is_arabic(c) {
            digits.push(c);
            if in_frac {
                places += 1;
            }
            j += 1;
        } else if c == '.' && !in_frac && chars.get(j + 1).is_some_and(|n| is_arabic(*n)) {
            in_frac = true;
            j += 1;
        } else if c == ',' && !in_frac && (j + 3 < chars.len() || j + 3 == chars.len()) && chars[j + 1..].iter().take(3).all(|d| is_arabic(*d)) && chars.get(j + 4).is_none_or(|d| !is_arabic(*d)) {
            j += 1;
        } else {
            break;
        }
    }
    if digits.len() > 30 {
        return None;
    }
    let mantissa: i128 = digits.parse().ok()?;
    Some((Number { mantissa, exp: -places, multiplier: 0, chinese: false }, j))
}

/// A Chinese numeral as a count ("两次", "十二期"). A lone 一 (一次, 一批) is prose, not a claim,
/// and so is a numeral inside a quoted name, a denial or one that starts with 百 or 千 (千亩示范片).
fn zh_at(chars: &[char], i: usize, denials: &[(usize, usize)]) -> Option<(Number, usize)> {
    if matches!(chars[i], '百' | '千') || inside_quotes(chars, i) || denials.iter().any(|(s, e)| (*s..*e).contains(&i)) {
        return None;
    }
    let mut j = i;
    while j < chars.len() && is_zh_numeral(chars[j]) {
        j += 1;
    }
    if j - i == 1 && chars[i] == '一' {
        return None;
    }
    // Part of a word (统一, 唯一): a numeral right after another CJK character that is no
    // qualifier.
    let value = parse_zh(&chars[i..j])?;
    Some((Number { mantissa: value, exp: 0, multiplier: 0, chinese: true }, j))
}

/// The phrase before a figure, for matching: the clause it ends (`near`) and the clause
/// before that in the same sentence (`far`); figures earlier in the text stand as '#'.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Phrase {
    pub near: String,
    pub far: String,
}

/// The phrase before position `at` of `text` (chars), where `marks` are the spans of figures
/// (replaced by '#'). Quotes and brackets are dropped: they separate nothing a reader hears.
pub fn phrase_before(chars: &[char], at: usize, marks: &[(usize, usize)]) -> (Phrase, bool) {
    let mut buf: Vec<char> = Vec::new();
    let mut k = at;
    let mut spans = marks.iter().rev().filter(|(s, _)| *s < at).peekable();
    // Walk back at most two clauses, collecting chars in reverse.
    while k > 0 {
        if let Some(&&(s, e)) = spans.peek() {
            if e >= k && s < k {
                buf.push('#');
                k = s;
                spans.next();
                continue;
            }
            if e > k {
                spans.next();
                continue;
            }
        }
        k -= 1;
        let c = chars[k];
        if is_sentence_end(c) {
            break;
        }
        buf.push(c);
        if buf.len() > 80 {
            break;
        }
    }
    buf.reverse();
    split_phrase(&buf)
}

/// Splits the text before a figure (figures as '#') into its near and far clauses, and says
/// whether the figure follows another one directly.
pub fn split_phrase(buf: &[char]) -> (Phrase, bool) {
    let clean = |s: &[char]| -> String { s.iter().filter(|c| !matches!(c, '#' | '“' | '”' | '"' | '《' | '》' | '（' | '）' | '(' | ')' | ' ' | '\u{3000}')).collect() };
    let n = buf.len();
    // The near clause: back to a clause mark or an earlier figure.
    let mut s = n;
    while s > 0 && !is_clause_end(buf[s - 1]) && buf[s - 1] != '#' {
        s -= 1;
    }
    let near = clean(&buf[s..n]);
    let follows = near.is_empty() && s > 0 && buf[s - 1] == '#';
    // The far clause: the one before, earlier figures inside it kept out.
    let mut e = s.saturating_sub(1);
    while e > 0 && buf[e - 1] == '#' {
        e -= 1;
    }
    let mut f = e;
    while f > 0 && !is_clause_end(buf[f - 1]) {
        f -= 1;
    }
    let far = if s == 0 { String::new() } else { clean(&buf[f..e]) };
    (Phrase { near, far }, follows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Mention {
        let found = find(text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        found.into_iter().next().unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn chinese_numerals() {
        let v = |s: &str| parse_zh(&s.chars().collect::<Vec<_>>());
        assert_eq!(v("十二"), Some(12));
        assert_eq!(v("三十五"), Some(35));
        assert_eq!(v("两"), Some(2));
        assert_eq!(v("一百二十"), Some(120));
        assert_eq!(v("一百零五"), Some(105));
        assert_eq!(v("二〇二三"), Some(2023));
    }

    #[test]
    fn the_phrase_before_a_figure() {
        let text = "发放临时救助279户，共计24万元";
        let chars: Vec<char> = text.chars().collect();
        let found = find(text);
        let marks: Vec<(usize, usize)> = found.iter().map(|m| (m.start, m.end)).collect();
        let (p, follows) = phrase_before(&chars, found[1].start, &marks);
        assert_eq!(p.near, "共计");
        assert_eq!(p.far, "发放临时救助");
        assert!(!follows);
        let text = "脱贫户1330户4785人";
        let chars: Vec<char> = text.chars().collect();
        let found = find(text);
        let marks: Vec<(usize, usize)> = found.iter().map(|m| (m.start, m.end)).collect();
        assert!(phrase_before(&chars, found[1].start, &marks).1);
        assert_eq!(phrase_before(&chars, found[0].start, &marks).0.near, "脱贫户");
    }

    #[test]
    fn the_unit_after_a_number_is_found() {
        assert_eq!(one("出动检查人员121人次").unit, "人次");
        assert_eq!(one("开展宣传活动共21批次").unit, "批次");
    }
}

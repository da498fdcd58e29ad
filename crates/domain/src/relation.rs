//! Relations to the head of household (与户主关系), as GB/T 4761-2008 家庭关系代码 names them,
//! and the everyday words clerks and the provincial systems write instead.
//!
//! What is stored is the standard's name ("子", "孙女", "父亲"); a code ("20") or an everyday
//! word ("之子", "儿子", "子女", "外孙") is accepted and resolved to it. Words that do not say
//! the sex ("子女", "父母", "孙子女") are resolved by the member's sex, which the ID number gives.

use crate::idcard::Sex;

/// The standard's relations: (code, name). Names are what is stored.
pub const STANDARD: &[(&str, &str)] = &[
    ("02", "户主"),
    ("10", "配偶"),
    ("11", "夫"),
    ("12", "妻"),
    ("20", "子"),
    ("21", "独生子"),
    ("22", "长子"),
    ("23", "次子"),
    ("24", "三子"),
    ("25", "四子"),
    ("26", "五子"),
    ("27", "养子或继子"),
    ("28", "女婿"),
    ("29", "其他儿子"),
    ("30", "女"),
    ("31", "独生女"),
    ("32", "长女"),
    ("33", "次女"),
    ("34", "三女"),
    ("35", "四女"),
    ("36", "五女"),
    ("37", "养女或继女"),
    ("38", "儿媳"),
    ("39", "其他女儿"),
    ("41", "孙子"),
    ("42", "孙女"),
    ("43", "外孙子"),
    ("44", "外孙女"),
    ("45", "孙媳妇或外孙媳妇"),
    ("46", "孙女婿或外孙女婿"),
    ("47", "曾孙子或外曾孙子"),
    ("48", "曾孙女或外曾孙女"),
    ("49", "其他孙子、孙女或外孙子、外孙女"),
    ("51", "父亲"),
    ("52", "母亲"),
    ("53", "公公"),
    ("54", "婆婆"),
    ("55", "岳父"),
    ("56", "岳母"),
    ("57", "继父或养父"),
    ("58", "继母或养母"),
    ("59", "其他父母关系"),
    ("61", "祖父"),
    ("62", "祖母"),
    ("63", "外祖父"),
    ("64", "外祖母"),
    ("66", "曾祖父"),
    ("67", "曾祖母"),
    ("70", "兄弟姐妹"),
    ("71", "兄"),
    ("72", "嫂"),
    ("73", "弟"),
    ("74", "弟媳"),
    ("75", "姐姐"),
    ("76", "姐夫"),
    ("77", "妹妹"),
    ("78", "妹夫"),
    ("81", "伯父"),
    ("82", "伯母"),
    ("83", "叔父"),
    ("84", "婶母"),
    ("85", "舅父"),
    ("86", "舅母"),
    ("87", "姨父"),
    ("88", "姨母"),
    ("89", "姑父"),
    ("90", "姑母"),
    ("91", "堂兄弟、堂姐妹"),
    ("92", "表兄弟、表姐妹"),
    ("93", "侄子"),
    ("94", "侄女"),
    ("95", "外甥"),
    ("96", "外甥女"),
    ("97", "其他亲属"),
    ("99", "非亲属"),
];

/// The name stored for the head of household.
pub const HEAD: &str = "户主";

/// Everyday words whose meaning does not depend on sex: word → standard name.
const WORDS: &[(&str, &str)] = &[
    ("本人", "户主"),
    ("户主本人", "户主"),
    ("丈夫", "夫"),
    ("妻子", "妻"),
    ("之妻", "妻"),
    ("之夫", "夫"),
    ("老伴", "配偶"),
    ("儿子", "子"),
    ("之子", "子"),
    ("长男", "长子"),
    ("次男", "次子"),
    ("养子", "养子或继子"),
    ("继子", "养子或继子"),
    ("女儿", "女"),
    ("之女", "女"),
    ("养女", "养女或继女"),
    ("继女", "养女或继女"),
    ("之女婿", "女婿"),
    ("之儿媳", "儿媳"),
    ("媳妇", "儿媳"),
    ("之孙子", "孙子"),
    ("之孙女", "孙女"),
    ("之外孙子", "外孙子"),
    ("外孙", "外孙子"),
    ("之外孙", "外孙子"),
    ("之外孙女", "外孙女"),
    ("孙媳", "孙媳妇或外孙媳妇"),
    ("孙媳妇", "孙媳妇或外孙媳妇"),
    ("曾孙", "曾孙子或外曾孙子"),
    ("曾孙子", "曾孙子或外曾孙子"),
    ("曾孙女", "曾孙女或外曾孙女"),
    ("父", "父亲"),
    ("之父", "父亲"),
    ("爸爸", "父亲"),
    ("母", "母亲"),
    ("之母", "母亲"),
    ("妈妈", "母亲"),
    ("之公公", "公公"),
    ("之婆婆", "婆婆"),
    ("之岳父", "岳父"),
    ("之岳母", "岳母"),
    ("继父", "继父或养父"),
    ("养父", "继父或养父"),
    ("继母", "继母或养母"),
    ("养母", "继母或养母"),
    ("爷爷", "祖父"),
    ("之祖父", "祖父"),
    ("奶奶", "祖母"),
    ("之祖母", "祖母"),
    ("外公", "外祖父"),
    ("姥爷", "外祖父"),
    ("外婆", "外祖母"),
    ("姥姥", "外祖母"),
    ("之兄弟姐妹", "兄弟姐妹"),
    ("哥哥", "兄"),
    ("之兄", "兄"),
    ("嫂子", "嫂"),
    ("弟弟", "弟"),
    ("之弟", "弟"),
    ("弟媳妇", "弟媳"),
    ("姐", "姐姐"),
    ("之姐", "姐姐"),
    ("妹", "妹妹"),
    ("之妹", "妹妹"),
    ("叔叔", "叔父"),
    ("伯伯", "伯父"),
    ("舅舅", "舅父"),
    ("姑姑", "姑母"),
    ("姨妈", "姨母"),
    ("之侄子", "侄子"),
    ("之侄女", "侄女"),
    ("其他", "其他亲属"),
    ("其它", "其他亲属"),
    ("其他关系", "其他亲属"),
    ("非亲属关系", "非亲属"),
];

/// Words that name a kind of relation without the sex, and the names for a man and a woman.
const BY_SEX: &[(&str, &str, &str)] = &[
    ("子女", "子", "女"),
    ("之子女", "子", "女"),
    ("孩子", "子", "女"),
    ("父母", "父亲", "母亲"),
    ("之父母", "父亲", "母亲"),
    ("孙子女", "孙子", "孙女"),
    ("孙子、孙女", "孙子", "孙女"),
    ("孙辈", "孙子", "孙女"),
    ("外孙子女", "外孙子", "外孙女"),
    ("祖父母", "祖父", "祖母"),
    ("外祖父母", "外祖父", "外祖母"),
    ("兄弟", "兄弟姐妹", "兄弟姐妹"),
    ("姐妹", "兄弟姐妹", "兄弟姐妹"),
    ("公婆", "公公", "婆婆"),
    ("岳父母", "岳父", "岳母"),
    ("侄子女", "侄子", "侄女"),
    ("外甥子女", "外甥", "外甥女"),
    // The standard's collective codes (40, 50, 60) name no one person; the sex decides.
    ("40", "孙子", "孙女"),
    ("孙子、孙女或外孙子、外孙女", "孙子", "孙女"),
    ("50", "父亲", "母亲"),
    ("60", "祖父", "祖母"),
    ("祖父母或外祖父母", "祖父", "祖母"),
    ("01", "户主", "户主"),
    ("80", "其他亲属", "其他亲属"),
];

/// Resolves what was written for a member's relation to the standard's name. `sex` decides the
/// words that do not say it; `None` (sex unknown) refuses them.
pub fn normalize(text: &str, sex: Option<Sex>) -> Result<&'static str, String> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.as_str();
    if t.is_empty() {
        return Err("不能为空".into());
    }
    if let Some((_, name)) = STANDARD.iter().find(|(code, name)| *name == t || *code == t) {
        return Ok(name);
    }
    if let Some((_, name)) = WORDS.iter().find(|(w, _)| *w == t) {
        return Ok(name);
    }
    if let Some((_, male, female)) = BY_SEX.iter().find(|(w, _, _)| *w == t) {
        return match sex {
            Some(Sex::Male) => Ok(male),
            Some(Sex::Female) => Ok(female),
            None => Err(format!("「{t}」要按性别区分，请写明（如 {male} 或 {female}）")),
        };
    }
    Err(format!(
        "「{t}」不是可识别的与户主关系（按 GB/T 4761 家庭关系代码填写，如 户主、配偶、子、女、孙子、孙女、父亲、母亲、兄弟姐妹；也可写 之子、儿子、子女、父母 等）"
    ))
}

/// The standard's code of a stored name, for exports to the provincial systems.
pub fn code_of(name: &str) -> Option<&'static str> {
    STANDARD.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_words_and_codes() {
        assert_eq!(normalize("户主", None), Ok("户主"));
        assert_eq!(normalize("20", None), Ok("子"));
        assert_eq!(normalize(" 之 子 ", None), Ok("子"));
        assert_eq!(normalize("儿子", None), Ok("子"));
        assert_eq!(normalize("女儿", None), Ok("女"));
        assert_eq!(normalize("外孙", None), Ok("外孙子"));
        assert_eq!(normalize("之儿媳", None), Ok("儿媳"));
        assert_eq!(code_of("孙女"), Some("42"));
    }

    #[test]
    fn sex_decides_the_words_that_do_not_say_it() {
        assert_eq!(normalize("子女", Some(Sex::Male)), Ok("子"));
        assert_eq!(normalize("子女", Some(Sex::Female)), Ok("女"));
        assert_eq!(normalize("父母", Some(Sex::Female)), Ok("母亲"));
        assert_eq!(normalize("孙子女", Some(Sex::Female)), Ok("孙女"));
        assert_eq!(normalize("50", Some(Sex::Male)), Ok("父亲"));
        assert!(normalize("子女", None).expect_err("sex needed").contains("按性别"));
    }

    #[test]
    fn unknown_words_are_refused_with_the_rule() {
        let e = normalize("邻居家的", None).expect_err("unknown");
        assert!(e.contains("GB/T 4761"), "{e}");
        assert!(normalize("", None).is_err());
    }

    #[test]
    fn every_word_resolves_to_a_standard_name() {
        let names: Vec<&str> = STANDARD.iter().map(|(_, n)| *n).collect();
        for (w, n) in WORDS {
            assert!(names.contains(n), "{w} → {n}");
        }
        for (w, m, f) in BY_SEX {
            assert!(names.contains(m) && names.contains(f), "{w}");
        }
    }
}

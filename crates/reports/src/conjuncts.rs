//! An indicator's conditions as a list of conjuncts, each with the parameters it reads, so
//! that the roll-up can compare them across indicators and state once what they all share.
//!
//! The conditions come from `eval::select`: conditions joined by top-level ` AND `, values as
//! `$n` placeholders, never as literals, identifiers double-quoted validated ASCII keys.

use taizhang_storage::Arg;

use crate::error::{ReportError, Result};

/// One condition of a conjunction: its text around the placeholders, and the parameter each
/// placeholder reads, in order. Equal conjuncts select the same rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conjunct {
    /// The text before each placeholder, and after the last (one more than `args`).
    pieces: Vec<String>,
    args: Vec<Arg>,
}

impl Conjunct {
    /// The condition with its parameters appended to `out`, placeholders numbered after them.
    pub(crate) fn render(&self, out: &mut Vec<Arg>) -> String {
        let mut s = String::new();
        for (piece, arg) in self.pieces.iter().zip(&self.args) {
            s.push_str(piece);
            out.push(arg.clone());
            s.push_str(&format!("${}", out.len()));
        }
        if let Some(last) = self.pieces.last() {
            s.push_str(last);
        }
        s
    }
}

/// Splits `cond`, whose placeholder `$n` reads `args[n - first]`, at its top-level ` AND `s.
pub(crate) fn split(cond: &str, args: &[Arg], first: usize) -> Result<Vec<Conjunct>> {
    let mut out = Vec::new();
    for part in top_level_and(cond) {
        // `x BETWEEN a AND b` would be cut in two; eval writes ranges as two comparisons.
        if part.to_ascii_uppercase().contains(" BETWEEN ") {
            return Err(ReportError::Definition(format!("条件「{cond}」含 BETWEEN，不能拆分")));
        }
        let mut pieces = vec![String::new()];
        let mut read = Vec::new();
        let mut chars = part.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            if c == '\'' {
                quoted = !quoted;
            }
            if c != '$' || quoted {
                if let Some(p) = pieces.last_mut() {
                    p.push(c);
                }
                continue;
            }
            let mut n = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            let arg = n
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(first))
                .and_then(|i| args.get(i))
                .ok_or_else(|| ReportError::Definition(format!("条件「{cond}」中的参数 ${n} 无对应的值")))?;
            read.push(arg.clone());
            pieces.push(String::new());
        }
        out.push(Conjunct { pieces, args: read });
    }
    Ok(out)
}

/// The conjuncts every list holds, in the order of the first.
pub(crate) fn shared(lists: &[Vec<Conjunct>]) -> Vec<Conjunct> {
    let Some((head, rest)) = lists.split_first() else { return Vec::new() };
    head.iter().filter(|c| rest.iter().all(|l| l.contains(c))).cloned().collect()
}

/// `cond` cut at each ` AND ` outside parentheses and quotes; empty for an empty condition.
fn top_level_and(cond: &str) -> Vec<&str> {
    const AND: &str = " AND ";
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    let bytes = cond.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && bytes[i..].starts_with(AND.as_bytes()) => {
                parts.push(&cond[start..i]);
                i += AND.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if start < cond.len() {
        parts.push(&cond[start..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(list: &[Conjunct], out: &mut Vec<Arg>) -> String {
        list.iter().map(|c| c.render(out)).collect::<Vec<_>>().join(" AND ")
    }

    #[test]
    fn splits_at_top_level_and_only() {
        let args = vec![Arg::Text("a".into()), Arg::Int(1), Arg::Int(2), Arg::Text("x AND y".into())];
        let cond = "\"d\" >= $2 AND \"d\" <= $3 AND (\"e\" IS NULL OR \"e\" >= $2) AND \"k\" IN ($4, $5) AND 'p AND q' = 'p AND q'";
        let list = split(cond, &args, 2).expect("split");
        assert_eq!(list.len(), 5);
        let mut out = vec![Arg::Text("scope".into())];
        assert_eq!(
            render(&list, &mut out),
            "\"d\" >= $2 AND \"d\" <= $3 AND (\"e\" IS NULL OR \"e\" >= $4) AND \"k\" IN ($5, $6) AND 'p AND q' = 'p AND q'"
        );
        assert_eq!(out[1..], [args[0].clone(), args[1].clone(), args[0].clone(), args[2].clone(), args[3].clone()]);
        assert!(split("", &args, 2).expect("empty").is_empty());
    }

    #[test]
    fn shared_conditions_compare_their_values_not_their_numbers() {
        let a = split("\"d\" >= $2 AND \"kind\" = $3", &[Arg::Int(2023), Arg::Text("甲".into())], 2).expect("a");
        let b = split("\"d\" >= $2 AND \"kind\" = $3", &[Arg::Int(2023), Arg::Text("乙".into())], 2).expect("b");
        let c = split("\"kind\" = $5 AND \"d\" >= $4", &[Arg::Int(0), Arg::Int(0), Arg::Int(2023), Arg::Text("甲".into())], 2).expect("c");
        let common = shared(&[a.clone(), b, c]);
        assert_eq!(common, vec![a[0].clone()]);
        let mut out = Vec::new();
        assert_eq!(render(&common, &mut out), "\"d\" >= $1");
        assert_eq!(out, vec![Arg::Int(2023)]);
        assert!(shared(&[]).is_empty());
    }

    #[test]
    fn what_cannot_be_split_is_an_error() {
        assert!(split("\"a\" = $9", &[Arg::Int(1)], 2).is_err());
        assert!(split("\"a\" = $1", &[Arg::Int(1)], 2).is_err());
        assert!(split("\"a\" BETWEEN $2 AND $3", &[Arg::Int(1), Arg::Int(2)], 2).is_err());
        // Not ASCII before an AND: cut at the right place, no panic.
        let list = split("\"a\" = '甲' AND \"b\" = $2", &[Arg::Int(1)], 2).expect("split");
        assert_eq!(list.len(), 2);
    }
}

//! How a record's subject is named in lists, pages and the API: a person by name and masked
//! ID number, a household by its 户主 and 户编号, with the link to its page.

use taizhang_domain::ledger::LedgerDef;
use taizhang_storage::Tx;

use crate::auth::Me;
use crate::show;

/// How a subject is named: a person by name and (masked) ID number, a household by its 户主
/// and 户编号.
pub async fn subject_text(tx: &mut Tx, me: &Me, def: &LedgerDef, id: Option<i64>) -> String {
    subject_of(tx, me, def, id).await.text
}

/// One subject as lists show it, with the link to its page (none outside the user's scope).
pub async fn subject_of(tx: &mut Tx, me: &Me, def: &LedgerDef, id: Option<i64>) -> Subject {
    let Some(id) = id else { return Subject::default() };
    subjects_of(tx, me, def, &[id]).await.remove(&id).unwrap_or_else(|| Subject { text: format!("#{id}"), ..Default::default() })
}

/// A subject as lists show it: a person by name and (masked) number, a household by its
/// 户主's name and 户编号; with the link to its page and the texts a keyword may find it by.
#[derive(Clone, Default)]
pub struct Subject {
    pub text: String,
    pub link: String,
    /// Names and 户编号: a keyword matches a part of them.
    pub names: String,
    /// A person's full ID number: a keyword matches it only whole (never a part).
    pub id_number: String,
    /// A household's 户编号.
    pub number: String,
}

/// The subjects of records as lists show them, in one query; an id outside the user's scope
/// (or not found) is left out and shown as a bare number.
pub async fn subjects_of(tx: &mut Tx, me: &Me, def: &LedgerDef, ids: &[i64]) -> std::collections::HashMap<i64, Subject> {
    use taizhang_domain::ledger::SubjectKind;
    let mut out = std::collections::HashMap::new();
    let columns = match def.subject {
        SubjectKind::Person => "p.id, p.name, p.id_number, '' FROM persons p",
        SubjectKind::Household => "p.id, coalesce(hp.name, ''), '', p.number FROM households p LEFT JOIN persons hp ON hp.id = p.head_person_id",
        _ => return out,
    };
    if ids.is_empty() {
        return out;
    }
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!("SELECT {columns} WHERE {} AND p.id IN ({})", me.scope.condition("p.place_id", 1), marks.join(", "));
        let mut args = vec![me.scope.arg()];
        args.extend(chunk.iter().map(|id| taizhang_storage::Arg::Int(*id)));
        if let Ok(rows) = tx.fetch(&sql, &args).await {
            for r in rows {
                let id = r.int(0);
                let s = match def.subject {
                    SubjectKind::Person => Subject {
                        text: format!("{} {}", r.text(1), show::id_number(me, &r.text(2))),
                        link: format!("/persons/{id}"),
                        names: r.text(1),
                        id_number: r.text(2),
                        number: String::new(),
                    },
                    _ => {
                        let head = r.text(1);
                        let number = r.text(3);
                        Subject {
                            text: if head.is_empty() { number.clone() } else { format!("{head}（户主） {number}") },
                            link: format!("/households/{id}"),
                            names: format!("{head} {number}"),
                            id_number: String::new(),
                            number,
                        }
                    }
                };
                out.insert(id, s);
            }
        }
    }
    out
}

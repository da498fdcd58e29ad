//! Where the trail of a record ends, as `explain` and `record list` print it: the village it
//! lies in and the person or household it is about, named as the reader may see them.

use taizhang_storage::Tx;

/// The 村 a place lies in (the place itself for a village, nothing above one), the places read
/// once each.
pub async fn village_of(tx: &mut Tx, seen: &mut std::collections::HashMap<i64, taizhang_domain::place::Place>, mut id: i64) -> anyhow::Result<String> {
    use taizhang_domain::place::PlaceLevel;
    loop {
        if let std::collections::hash_map::Entry::Vacant(e) = seen.entry(id) {
            e.insert(taizhang_storage::places::get(tx, id).await?);
        }
        let Some(p) = seen.get(&id) else { return Ok(String::new()) };
        match (p.level, p.parent_id) {
            (PlaceLevel::Village, _) => return Ok(p.name.clone()),
            (PlaceLevel::Group, Some(parent)) => id = parent,
            _ => return Ok(String::new()),
        }
    }
}

/// A record's subject as a reader sees it: a person by name and ID number through the masking
/// policy, a household by its 户编号 and 户主.
pub async fn subject_of(tx: &mut Tx, scope: &taizhang_storage::Scope, policy: &taizhang_domain::masking::Policy, def: &taizhang_domain::ledger::LedgerDef, id: Option<i64>) -> String {
    use taizhang_domain::ledger::SubjectKind;
    let Some(id) = id else { return String::new() };
    match def.subject {
        SubjectKind::Person => match taizhang_storage::persons::get(tx, scope, id).await {
            Ok(p) => format!("{} {}", p.name, policy.person(&p).id_number).trim().to_string(),
            Err(_) => format!("#{id}"),
        },
        SubjectKind::Household => match taizhang_storage::households::get(tx, scope, id).await {
            Ok(h) => {
                let head = match h.head_person_id {
                    Some(pid) => taizhang_storage::persons::get(tx, scope, pid).await.map(|p| format!("（户主 {}）", p.name)).unwrap_or_default(),
                    None => String::new(),
                };
                format!("{}{head}", h.number)
            }
            Err(_) => format!("#{id}"),
        },
        _ => format!("#{id}"),
    }
}

//! Registry writes in bulk, for generated datasets of a million persons (the county-scale demo).
//! The rules are those of `households::create`, `persons::create` and `households::add_member`;
//! what differs is that households and their members go in with multi-row `INSERT`s, the head
//! is set with one `UPDATE` per chunk, and the audit entries are written in multi-row
//! statements too (one per household, one per person, as the single-row path writes).

use serde_json::json;
use taizhang_domain::idcard::Sex;
use taizhang_domain::registry::{Household, NewPerson, Person};
use taizhang_domain::role::Actor;
use taizhang_domain::DomainError;

use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::sql::Arg;

/// A household to create with its members; the first member is the head (户主).
#[derive(Debug, Clone)]
pub struct NewHousehold {
    pub number: String,
    pub place_id: i64,
    /// (person, relation to the head); the first relation must be 户主.
    pub members: Vec<(NewPerson, String)>,
}

/// Households per chunk: statements of a few hundred parameters are fast on both engines.
const CHUNK: usize = 12;

fn placeholders(base: usize, n: usize) -> String {
    let ph: Vec<String> = (base + 1..=base + n).map(|i| format!("${i}")).collect();
    format!("({})", ph.join(", "))
}

fn sex_key(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

/// Creates households and their members in the caller's transaction; returns, per household,
/// its id and its members' ids in input order. Callers are trusted with scope (the places were
/// created by them); ID numbers must be new (the unique index refuses a repeat).
pub async fn households_with_members(
    tx: &mut Tx,
    actor: &Actor,
    mut rows: Vec<NewHousehold>,
) -> Result<Vec<(i64, Vec<i64>)>> {
    // Relations as GB/T 4761 names them, whatever word the caller used.
    for h in &mut rows {
        for (p, r) in &mut h.members {
            let name = taizhang_domain::relation::normalize(r, Some(p.sex))
                .map_err(|reason| DomainError::field("relation", "与户主关系", format!("户 {}：{reason}", h.number)))?;
            *r = name.to_string();
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for part in rows.chunks(CHUNK) {
        for h in part {
            match h.members.first() {
                Some((_, r)) if r == "户主" => {}
                _ => {
                    return Err(DomainError::field(
                        "relation",
                        "与户主关系",
                        format!("户 {} 的第一名成员应为户主", h.number),
                    )
                    .into())
                }
            }
        }
        let now = crate::now();
        // Households.
        let mut args = Vec::new();
        let mut tuples = Vec::new();
        for h in part {
            tuples.push(placeholders(args.len(), 4));
            args.extend([
                Arg::Text(h.number.trim().to_string()),
                Arg::Int(h.place_id),
                Arg::Time(now),
                Arg::Time(now),
            ]);
        }
        let sql = format!("INSERT INTO households (number, place_id, created_at, updated_at) VALUES {} RETURNING id", tuples.join(", "));
        let mut hids: Vec<i64> = tx
            .fetch(&sql, &args)
            .await?
            .iter()
            .map(|r| r.int(0))
            .collect();
        if hids.len() != part.len() {
            return Err(StoreError::Internal(format!(
                "批量写入 {} 户，只返回了 {} 个编号",
                part.len(),
                hids.len()
            )));
        }
        hids.sort_unstable();
        // Persons, already in their household.
        let mut args = Vec::new();
        let mut tuples = Vec::new();
        let mut people = Vec::new();
        for (h, hid) in part.iter().zip(&hids) {
            for (p, relation) in &h.members {
                tuples.push(placeholders(args.len(), 13));
                args.extend([
                    Arg::Text(p.name.clone()),
                    Arg::Text(p.id_number.clone()),
                    sex_key(p.sex).into(),
                    Arg::Date(p.birth_date),
                    Arg::Text(p.ethnicity.clone()),
                    Arg::Text(p.phone.clone()),
                    p.status.key().into(),
                    p.status_date.into(),
                    Arg::Int(p.place_id),
                    Arg::Int(*hid),
                    Arg::Text(relation.clone()),
                    Arg::Time(now),
                    Arg::Time(now),
                ]);
                people.push((p, relation, *hid));
            }
        }
        let sql = format!(
            "INSERT INTO persons (name, id_number, sex, birth_date, ethnicity, phone, status, status_date, place_id, household_id, relation, created_at, updated_at) VALUES {} RETURNING id",
            tuples.join(", ")
        );
        let mut pids: Vec<i64> = tx
            .fetch(&sql, &args)
            .await?
            .iter()
            .map(|r| r.int(0))
            .collect();
        if pids.len() != people.len() {
            return Err(StoreError::Internal(format!(
                "批量写入 {} 人，只返回了 {} 个编号",
                people.len(),
                pids.len()
            )));
        }
        pids.sort_unstable();
        // Heads.
        let (lo, hi) = (hids[0], hids[hids.len() - 1]);
        tx.exec(
            "UPDATE households SET head_person_id = (SELECT p.id FROM persons p WHERE p.household_id = households.id AND p.relation = '户主') WHERE id >= $1 AND id <= $2",
            &[Arg::Int(lo), Arg::Int(hi)],
        )
        .await?;
        // Audit: one entry per household and per person.
        let mut entries = Vec::with_capacity(part.len() + people.len());
        let mut k = 0;
        for (h, hid) in part.iter().zip(&hids) {
            let head = pids[k];
            let hh = Household {
                id: *hid,
                number: h.number.trim().to_string(),
                place_id: h.place_id,
                head_person_id: Some(head),
                row_version: 1,
            };
            entries.push(audit_entry(actor, now, "households", *hid, h.place_id, json!(hh), ""));
            k += h.members.len();
        }
        for ((p, relation, hid), id) in people.iter().zip(&pids) {
            let person = Person {
                id: *id,
                name: p.name.clone(),
                id_number: p.id_number.clone(),
                sex: p.sex,
                birth_date: p.birth_date,
                ethnicity: p.ethnicity.clone(),
                phone: p.phone.clone(),
                status: p.status,
                status_date: p.status_date,
                place_id: p.place_id,
                household_id: Some(*hid),
                relation: Some((*relation).clone()),
                status_reason: String::new(),
                status_place: String::new(),
                row_version: 1,
            };
            entries.push(audit_entry(actor, now, "persons", *id, p.place_id, json!(person), "批量登记"));
        }
        crate::audit::append_entries(tx, entries).await?;
        let mut k = 0;
        for (h, hid) in part.iter().zip(hids) {
            out.push((hid, pids[k..k + h.members.len()].to_vec()));
            k += h.members.len();
        }
    }
    Ok(out)
}

fn audit_entry(
    actor: &Actor,
    at: chrono::DateTime<chrono::Utc>,
    entity: &str,
    id: i64,
    place_id: i64,
    after: serde_json::Value,
    note: &str,
) -> crate::audit::NewEntry {
    crate::audit::NewEntry {
        at,
        actor: actor.name().to_string(),
        action: "create".into(),
        entity: entity.into(),
        entity_id: Some(id),
        last_entity_id: None,
        place_id: Some(place_id),
        before_json: None,
        after_json: Some(after.to_string()),
        note: note.into(),
    }
}

//! The 花名册 import a batch at a time, as the ledger import's `batch_rows` does for records.
//!
//! Every row of a batch is read and checked as one row alone is (`read_row`; places resolved
//! once per text for the whole import). Then two queries find the batch's persons by ID number
//! and households by number (`storage::person_batch::find`), and each row, in file order, is
//! decided in memory when it is one of the two common cases:
//! - **a new person** in scope, with nothing the row asks that registering them would not
//!   give (no status change to record, no note such as a 15-digit number converted), joining
//!   a household by 户编号 — registered, one created by an earlier row, or new — under the same
//!   checks as `households::add_member` (a relation the standard knows for their sex; a 户主
//!   only where there is none; the head's ID number, when given, that of the head): 新增, and
//!   written with the rest of the batch by multi-row inserts (`person_batch::insert`);
//! - **a registered person** in scope of whom the row says nothing new (the same name, the
//!   same or a less precise place, no 民族 or 联系电话 or status to change, already in that
//!   household with that relation): 未变, nothing written.
//!
//! Every other row — a correction, a status change, a refusal, a household named only by its
//! head's ID number, the same person twice — goes the per-row way (`person_row`), after the
//! rows decided so far are written, so it sees them; what it wrote is looked up again before
//! the next row. `TAIZHANG_REGISTRY_ROW_BY_ROW=1` sends every row that way, for comparison
//! (bench/registry.sh) and for diagnosis.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::NaiveDate;
use taizhang_domain::place::Place;
use taizhang_domain::registry::{NewPerson, Person};
use taizhang_domain::relation::{self, HEAD};
use taizhang_domain::role::Actor;
use taizhang_storage::person_batch::{self, Joins, KnownHousehold, KnownPerson, NewHousehold, NewMember};
use taizhang_storage::{places, Scope, StoreError, Tx};
use taizhang_tabular::RawRow;

use super::{read_row, status, PersonRow, Sheet};
use crate::import::{Rejection, RowErrors, Verdict};
use crate::Result;

/// Whether every row is to go the per-row way (`TAIZHANG_REGISTRY_ROW_BY_ROW=1`).
fn row_by_row() -> bool {
    std::env::var_os("TAIZHANG_REGISTRY_ROW_BY_ROW").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Places resolved so far, by the text a row wrote: a 花名册 names a few dozen places over
/// and over, and places do not change while it is imported.
#[derive(Default)]
pub(super) struct PlaceCache(std::cell::RefCell<HashMap<String, Resolved>>);

/// A place, or why there is none: (whether several places have the name, the message).
type Resolved = std::result::Result<Place, (bool, String)>;

impl Sheet<'_> {
    /// `places::resolve`, once per distinct text of the sheet.
    pub(super) async fn place(&self, tx: &mut Tx, scope: &Scope, text: &str) -> std::result::Result<Place, StoreError> {
        let hit = self.places.0.borrow().get(text).cloned();
        let r = match hit {
            Some(r) => r,
            None => {
                let r = match places::resolve(tx, scope, text).await {
                    Ok(p) => Ok(p),
                    Err(StoreError::NotFound(m)) => Err((false, m)),
                    Err(StoreError::Conflict(m)) => Err((true, m)),
                    Err(other) => return Err(other),
                };
                self.places.0.borrow_mut().insert(text.to_string(), r.clone());
                r
            }
        };
        r.map_err(|(conflict, m)| if conflict { StoreError::Conflict(m) } else { StoreError::NotFound(m) })
    }
}

/// What a row came to when it was read.
enum Read {
    Rejected(Vec<Rejection>),
    Ok(Box<PersonRow>),
}

/// How a row that was read is to be done.
enum Decision {
    Unchanged,
    New(Box<NewRow>),
    PerRow,
}

/// A new person, and the household created with them if any.
struct NewRow {
    member: NewMember,
    creates: Option<NewHousehold>,
    place_path: String,
    number: String,
}

/// The household a 户编号 names, as far as the batch knows.
enum View {
    Absent,
    /// Out of scope, or anything else the per-row way explains better.
    PerRow,
    /// It exists (or will, with the rows decided so far), with this head's ID number.
    Known { joins: Joins, head: Option<String> },
}

/// Rows decided as new, not yet written.
#[derive(Default)]
struct Pending {
    households: Vec<NewHousehold>,
    /// 户编号 → (index into `households`, the head's ID number once one joined).
    new_by_number: HashMap<String, (usize, Option<String>)>,
    /// Registered households a pending 户主 joins: 户编号 → ID number.
    heads: HashMap<String, String>,
    members: Vec<NewMember>,
    /// For each member: their place's path and the 户编号 they join ("" for none).
    where_: Vec<(String, String)>,
    ids: HashSet<String>,
}

/// One batch of a 花名册 on its way through: see the module's description.
pub(super) struct Batch {
    enabled: bool,
    reads: VecDeque<(u32, Read)>,
    persons: HashMap<String, KnownPerson>,
    households: HashMap<String, KnownHousehold>,
    pending: Pending,
    /// The keys of a row that went the per-row way, to look up again before the next row.
    stale: Option<(Vec<String>, Vec<String>)>,
}

impl Batch {
    /// Reads and checks every row, and finds what the rows name.
    pub(super) async fn new(tx: &mut Tx, scope: &Scope, sheet: &Sheet<'_>, rows: &[RawRow], today: NaiveDate) -> Result<Batch> {
        let mut b = Batch {
            enabled: !row_by_row(),
            reads: VecDeque::new(),
            persons: HashMap::new(),
            households: HashMap::new(),
            pending: Pending::default(),
            stale: None,
        };
        if !b.enabled {
            return Ok(b);
        }
        let (mut ids, mut numbers) = (Vec::new(), Vec::new());
        for row in rows {
            let mut errs = RowErrors { sheet: sheet.name, row, cols: &sheet.cols, list: Vec::new() };
            let input = read_row(tx, scope, sheet, row, &mut errs, today).await?;
            let read = match input.filter(|_| errs.list.is_empty()) {
                Some(input) => {
                    ids.push(input.person.id_number.clone());
                    ids.extend(input.head_id.clone());
                    if !input.household.trim().is_empty() {
                        numbers.push(input.household.trim().to_string());
                    }
                    Read::Ok(Box::new(input))
                }
                None => Read::Rejected(errs.list),
            };
            b.reads.push_back((row.excel_row, read));
        }
        b.refresh(tx, ids, numbers).await?;
        Ok(b)
    }

    async fn refresh(&mut self, tx: &mut Tx, ids: Vec<String>, numbers: Vec<String>) -> Result<()> {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
        let (persons, households) = person_batch::find(tx, &ids, &numbers).await?;
        self.persons.extend(persons);
        self.households.extend(households);
        Ok(())
    }

    /// The outcome of the next row (given again, to check the order), or `None` when it is to
    /// go the per-row way, everything decided before it being written by then.
    pub(super) async fn next(
        &mut self,
        tx: &mut Tx,
        actor: &Actor,
        scope: &Scope,
        sheet: &Sheet<'_>,
        row: &RawRow,
    ) -> Result<Option<(Verdict, Vec<Rejection>, bool)>> {
        if !self.enabled {
            return Ok(None);
        }
        if let Some((ids, numbers)) = self.stale.take() {
            self.refresh(tx, ids, numbers).await?;
        }
        // Rows the caller skips (合计, 制表人 …) were read all the same: passed over here.
        while self.reads.front().is_some_and(|(r, _)| *r < row.excel_row) {
            self.reads.pop_front();
        }
        let input = match self.reads.pop_front() {
            Some((r, Read::Rejected(list))) if r == row.excel_row => return Ok(Some((Verdict::Rejected, list, false))),
            Some((r, Read::Ok(input))) if r == row.excel_row => input,
            other => {
                // A row that was not read: never expected. It and every later row go the
                // per-row way, which looks everything up itself.
                if let Some(o) = other {
                    self.reads.push_front(o);
                }
                self.flush(tx, actor, sheet).await?;
                self.enabled = false;
                return Ok(None);
            }
        };
        match self.decide(&input, scope, &sheet.source) {
            Decision::Unchanged => Ok(Some((Verdict::Unchanged, Vec::new(), false))),
            Decision::New(new) => {
                let NewRow { member, creates, place_path, number } = *new;
                let created = creates.is_some();
                let id = member.person.id_number.clone();
                if let Some(h) = creates {
                    self.pending.new_by_number.insert(number.clone(), (self.pending.households.len(), None));
                    self.pending.households.push(h);
                }
                if let Some((joins, rel)) = member.joins {
                    if rel == HEAD {
                        match joins {
                            Joins::New(_) => {
                                if let Some(entry) = self.pending.new_by_number.get_mut(&number) {
                                    entry.1 = Some(id.clone());
                                }
                            }
                            Joins::Registered(_) => {
                                self.pending.heads.insert(number.clone(), id.clone());
                            }
                        }
                    }
                }
                self.pending.ids.insert(id);
                self.pending.members.push(member);
                self.pending.where_.push((place_path, number));
                Ok(Some((Verdict::New, Vec::new(), created)))
            }
            Decision::PerRow => {
                self.flush(tx, actor, sheet).await?;
                let mut ids = vec![input.person.id_number.clone()];
                ids.extend(input.head_id.clone());
                let numbers = vec![input.household.trim().to_string()].into_iter().filter(|n| !n.is_empty()).collect();
                self.stale = Some((ids, numbers));
                Ok(None)
            }
        }
    }

    /// Writes the rows decided as new. Everything about them was checked: a failure here is
    /// not a row's (a database gone, a bug) and stops the import, which then writes nothing.
    pub(super) async fn flush(&mut self, tx: &mut Tx, actor: &Actor, sheet: &Sheet<'_>) -> Result<()> {
        if self.pending.members.is_empty() {
            return Ok(());
        }
        let p = std::mem::take(&mut self.pending);
        let written = person_batch::insert(tx, actor, &p.households, &p.members, &sheet.source, person_batch::Order::ByPlace).await?;
        // What was written is known from now on, for the rows after it.
        for (number, (i, _)) in &p.new_by_number {
            let h = &p.households[*i];
            let household = taizhang_domain::registry::Household {
                id: written.household_ids[*i],
                number: number.clone(),
                place_id: h.place_id,
                head_person_id: None,
                row_version: 1,
            };
            self.households.insert(number.clone(), KnownHousehold { household, place_path: String::new(), head_id_number: None });
        }
        for ((m, id), (path, number)) in p.members.iter().zip(&written.person_ids).zip(&p.where_) {
            let (household_id, relation) = match m.joins {
                Some((j, rel)) => {
                    let hid = match j {
                        Joins::Registered(hid) => hid,
                        Joins::New(i) => written.household_ids[i],
                    };
                    if rel == HEAD {
                        if let Some(k) = self.households.get_mut(number) {
                            k.household.head_person_id = Some(*id);
                            k.household.row_version += 1;
                            k.head_id_number = Some(m.person.id_number.clone());
                        }
                    }
                    (Some(hid), Some(rel.to_string()))
                }
                None => (None, None),
            };
            if let Some(k) = self.households.get_mut(number).filter(|k| k.place_path.is_empty()) {
                // A household created with this member is at their place.
                k.place_path = path.clone();
            }
            let mut person = as_registered(&m.person, *id);
            person.household_id = household_id;
            person.row_version = if household_id.is_some() { 2 } else { 1 };
            person.relation = relation;
            self.persons.insert(person.id_number.clone(), KnownPerson { person, place_path: path.clone() });
        }
        Ok(())
    }

    fn household_view(&self, number: &str, scope: &Scope) -> View {
        if let Some((i, head)) = self.pending.new_by_number.get(number) {
            return View::Known { joins: Joins::New(*i), head: head.clone() };
        }
        let Some(h) = self.households.get(number) else { return View::Absent };
        if !h.place_path.starts_with(&scope.path) || (h.household.head_person_id.is_some() && h.head_id_number.is_none()) {
            return View::PerRow;
        }
        let head = self.pending.heads.get(number).cloned().or_else(|| h.head_id_number.clone());
        View::Known { joins: Joins::Registered(h.household.id), head }
    }

    fn decide(&self, input: &PersonRow, scope: &Scope, source: &str) -> Decision {
        let id = &input.person.id_number;
        // A note to give (a 15-digit number converted) is the per-row way's to give.
        if self.pending.ids.contains(id) || !input.person.warnings.is_empty() {
            return Decision::PerRow;
        }
        if let Some(k) = self.persons.get(id) {
            return if k.place_path.starts_with(&scope.path) && self.unchanged(k, input, scope, source) {
                Decision::Unchanged
            } else {
                Decision::PerRow
            };
        }
        let Some(place) = &input.place else { return Decision::PerRow };
        let mut person = input.person.clone();
        person.place_id = place.id;
        if let Some(w) = &input.wanted {
            if !matches!(status::plan(&as_registered(&person, 0), w, true, source), Ok(None)) {
                return Decision::PerRow;
            }
        }
        let number = input.household.trim().to_string();
        if number.is_empty() {
            if input.head_id.is_some() {
                return Decision::PerRow;
            }
            return Decision::New(Box::new(NewRow { member: NewMember { person, joins: None }, creates: None, place_path: place.path.clone(), number }));
        }
        let Ok(rel) = relation::normalize(&input.relation, Some(person.sex)) else { return Decision::PerRow };
        let (joins, head, creates) = match self.household_view(&number, scope) {
            View::PerRow => return Decision::PerRow,
            View::Known { joins, head } => (joins, head, None),
            View::Absent => (Joins::New(self.pending.households.len()), None, Some(NewHousehold { number: number.clone(), place_id: place.id })),
        };
        if let Some(head_id) = &input.head_id {
            if head_id == id && rel != HEAD {
                return Decision::PerRow;
            }
            if head.as_ref().is_some_and(|h| h != head_id) {
                return Decision::PerRow;
            }
        }
        if rel == HEAD && head.is_some() {
            return Decision::PerRow;
        }
        Decision::New(Box::new(NewRow { member: NewMember { person, joins: Some((joins, rel)) }, creates, place_path: place.path.clone(), number }))
    }

    /// Whether the row says nothing the registry does not already say of `k` (what the per-row
    /// way would find 未变).
    fn unchanged(&self, k: &KnownPerson, input: &PersonRow, scope: &Scope, source: &str) -> bool {
        let p = &k.person;
        // A place, or the village of someone registered in one of its groups.
        if input.place.as_ref().is_some_and(|given| given.id != p.place_id && !k.place_path.starts_with(&given.path)) {
            return false;
        }
        let g = &input.person;
        if g.name != p.name || (!g.ethnicity.is_empty() && g.ethnicity != p.ethnicity) || (!g.phone.is_empty() && g.phone != p.phone) {
            return false;
        }
        if let Some(w) = &input.wanted {
            if !matches!(status::plan(p, w, false, source), Ok(None)) {
                return false;
            }
        }
        let number = input.household.trim();
        if number.is_empty() {
            // A household named by its head's ID number alone is left to the per-row way.
            return input.head_id.is_none();
        }
        if self.pending.new_by_number.contains_key(number) {
            return false;
        }
        let Some(h) = self.households.get(number) else { return false };
        if !h.place_path.starts_with(&scope.path) {
            return false;
        }
        let Ok(rel) = relation::normalize(&input.relation, Some(p.sex)) else { return false };
        if let Some(head_id) = &input.head_id {
            if *head_id == p.id_number && rel != HEAD {
                return false;
            }
            if h.household.head_person_id.is_some_and(|hp| hp != p.id) && h.head_id_number.as_deref() != Some(head_id.as_str()) {
                return false;
            }
        }
        p.household_id == Some(h.household.id) && p.relation.as_deref() == Some(rel)
    }
}

/// The person as `persons::create` registers them, under `id`.
fn as_registered(p: &NewPerson, id: i64) -> Person {
    Person {
        id,
        name: p.name.clone(),
        id_number: p.id_number.clone(),
        sex: p.sex,
        birth_date: p.birth_date,
        ethnicity: p.ethnicity.clone(),
        phone: p.phone.clone(),
        status: p.status,
        status_date: p.status_date,
        place_id: p.place_id,
        household_id: None,
        relation: None,
        status_reason: String::new(),
        status_place: String::new(),
        row_version: 1,
    }
}

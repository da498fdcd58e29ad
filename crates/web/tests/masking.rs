//! Personal data (docs/personal-data.md), generated from the route table like the confinement
//! matrix: every route, for every role that sees masked data (领导, 村干部, 审计管理员), answers
//! without a full ID number, phone or bank account of the persons it shows masked — in pages,
//! form inputs, JSON, CSV and Excel — and without the birth date read from a masked number.
//! Then: the edit form keeps masked values unless retyped; searching by number is exact;
//! reads are audited (list, API, export, search) and reported to the audit administrator; a
//! 业务员 reads a 重点人群 ledger only when assigned; a step fills only its declared fields; a
//! town's administrator adds ledgers but cannot change built-in ones, and the audit view of
//! the town shows definition changes.

mod common;

use common::{both, id_number, Client, Reply, Server, PASSWORD, VILLAGE_A};
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::{households, ledgers, persons, records, Scope};
use taizhang_web::routes::{RouteSpec, ROUTES};

const PHONE: &str = "13912345678";
const GUARDIAN_PHONE: &str = "13800001111";
const ACCOUNT: &str = "6217001234567890123";
const CADRE_PHONE: &str = "13711112222";
/// id_number(5) is born 1980-01-06.
const BIRTH: [&str; 2] = ["1980-01-06", "19800106"];

/// Sensitive data in 坪溪村 (the 村干部's village), on top of the common world.
struct Sensitive {
    person: i64,
    number: String,
    /// Registered from 15 digits: its 18-digit form is in an audit note.
    converted: String,
    guardian: String,
    household: i64,
    kp: i64,
    dibao: i64,
    cadre: i64,
    dispute: i64,
}

impl Sensitive {
    /// Values that must never appear in full for a role that sees them masked.
    fn full(&self) -> Vec<String> {
        vec![self.number.clone(), self.converted.clone(), self.guardian.clone(), PHONE.into(), GUARDIAN_PHONE.into(), ACCOUNT.into(), CADRE_PHONE.into()]
    }
}

fn seed(s: &Server) -> Sensitive {
    let db = s.db.clone();
    let (a, town) = (s.world.village_a, s.scalar("SELECT id FROM places WHERE level = 'town'"));
    s.rt.block_on(async move {
        let sys = Actor::System;
        let all = Scope::all();
        let today = chrono::Local::now().date_naive();
        let mut tx = db.begin().await.expect("begin");
        let input = taizhang_domain::registry::PersonInput { name: "王敏感".into(), id_number: id_number(5), phone: PHONE.into(), place_id: a, ..Default::default() };
        let p = persons::create(&mut tx, &sys, &all, &taizhang_domain::registry::validate_person(&input, today).expect("person")).await.expect("person");
        // Registered from an old 15-digit number: the audit note names the converted number.
        let old = taizhang_domain::registry::PersonInput { name: "李旧号".into(), id_number: "431224800107031".into(), place_id: a, ..Default::default() };
        let old = taizhang_domain::registry::validate_person(&old, today).expect("15 digits");
        assert!(!old.warnings.is_empty(), "the conversion is noted");
        let converted = persons::create(&mut tx, &sys, &all, &old).await.expect("old number").id_number;
        let h = households::create(&mut tx, &sys, &all, "4312241102010005", a).await.expect("household");
        households::add_member(&mut tx, &sys, &all, h.id, p.id, "户主").await.expect("head");
        let kp = ledgers::get(&mut tx, "key_population").await.expect("kp");
        let mut v = Values::new();
        v.insert("category".into(), Value::Text("严重精神障碍患者".into()));
        v.insert("listed_on".into(), Value::Date(today));
        v.insert("diagnosis".into(), Value::Text("诊断标记".into()));
        v.insert("guardian_name".into(), Value::Text("王监护".into()));
        v.insert("guardian_id_number".into(), Value::Text(id_number(9)));
        v.insert("guardian_phone".into(), Value::Text(GUARDIAN_PHONE.into()));
        let kp_rec = records::create(&mut tx, &kp, &sys, &all, RecordInput { subject_id: Some(p.id), values: v, ..Default::default() }, today).await.expect("kp record");
        let dibao = ledgers::get(&mut tx, "dibao").await.expect("dibao");
        let mut v = Values::new();
        v.insert("area_type".into(), Value::Text("农村".into()));
        v.insert("household_size".into(), Value::Int(3));
        v.insert("approved_on".into(), Value::Date(today));
        v.insert("account_no".into(), Value::Text(ACCOUNT.into()));
        let dibao_rec = records::create(&mut tx, &dibao, &sys, &all, RecordInput { subject_id: Some(h.id), values: v, ..Default::default() }, today).await.expect("dibao record");
        let cadre = taizhang_domain::registry::Cadre {
            id: 0, name: "赵村委".into(), kind: taizhang_domain::registry::CadreKind::Village, post: "村委委员".into(), unit: "坪溪村村委会".into(),
            birth_date: None, place_id: a, person_id: None, user_id: None, phone: CADRE_PHONE.into(), ended_on: None, end_reason: String::new(),
        };
        let cadre = taizhang_storage::orgs::create_cadre(&mut tx, &sys, &all, &cadre, today).await.expect("cadre");
        let disputes = ledgers::get(&mut tx, "disputes").await.expect("disputes");
        let mut v = Values::new();
        for f in disputes.fields.iter().filter(|f| f.required) {
            v.insert(f.key.clone(), match f.kind {
                taizhang_domain::ledger::FieldKind::Date => Value::Date(today),
                taizhang_domain::ledger::FieldKind::Enum => Value::Text(f.options[0].clone()),
                taizhang_domain::ledger::FieldKind::MultiEnum => Value::List(vec![f.options[0].clone()]),
                taizhang_domain::ledger::FieldKind::Integer => Value::Int(1),
                _ => Value::Text("原当事人".into()),
            });
        }
        let dispute = records::create(&mut tx, &disputes, &sys, &all, RecordInput { place_id: Some(a), values: v, ..Default::default() }, today).await.expect("dispute");
        let hash = taizhang_web::auth::hash_password(PASSWORD).expect("hash");
        // The common world has the 审计管理员 (`auditor`); a 业务员 for 低保 only is added here.
        for (name, role, ledgers) in [("clerk2", Role::Clerk, vec!["dibao".to_string(), "dibao_payments".to_string()])] {
            users::create(&mut tx, &sys, NewUser { username: name, display_name: name, password_hash: &hash, role, place_id: town, ledgers, must_change_password: false }).await.expect("user");
        }
        tx.commit().await.expect("commit");
        Sensitive { person: p.id, number: p.id_number, converted, guardian: id_number(9), household: h.id, kp: kp_rec.id, dibao: dibao_rec.id, cadre: cadre.id, dispute: dispute.id }
    })
}

/// The concrete requests for a route: its parameters filled with 坪溪村's sensitive data (both
/// ledgers for `{key}`), with the queries that show most (searches by the whole number, an
/// export as .xlsx and .csv). Writes carry a stale version, so that they change nothing and
/// answer with the page or the message.
fn requests(spec: &RouteSpec, s: &Server, x: &Sensitive) -> Vec<(String, &'static str, String)> {
    let keys: Vec<(&str, i64)> = if spec.path.contains("{key}") && !spec.path.starts_with("/explain") {
        vec![("key_population", x.kp), ("dibao", x.dibao)]
    } else {
        vec![("dibao_households", 0)]
    };
    let mut out = Vec::new();
    for (key, record) in keys {
        let mut path = spec.path.replace("{key}", key).replace("{transition}", "transfer").replace("{target}", "persons");
        let id = if path.contains("/ledgers/") {
            record
        } else if path.contains("/persons/") {
            x.person
        } else if path.contains("/households/") {
            x.household
        } else if path.contains("/cadres/") {
            x.cadre
        } else if path.contains("/orgs/") {
            s.world.org_b
        } else if path.contains("/users/") {
            s.world.users["cadre"]
        } else {
            1
        };
        path = path.replace("{id}", &id.to_string());
        // Any parameter a later route adds.
        while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
            path.replace_range(a..=b, "1");
        }
        let queries: Vec<String> = match spec.path {
            "/search" | "/api/v1/persons" => vec![format!("?q={}", common::encode("王敏感")), format!("?q={}", x.number)],
            "/ledgers/{key}" => vec!["?size=100".into(), format!("?kw={}", x.guardian)],
            "/ledgers/{key}/export" => vec![String::new(), "?format=csv".into()],
            "/api/v1/audit" => vec!["?limit=1000".into()],
            "/reports/preview" | "/reports/download" | "/reports/form" | "/api/v1/indicators" | "/api/v1/checks" => vec![format!("?place={VILLAGE_A}")],
            _ => vec![String::new()],
        };
        for q in queries {
            let target = format!("{path}{q}");
            match (spec.method, spec.is_api()) {
                ("GET", _) => out.push((target, "", String::new())),
                (_, true) => out.push((target, "application/json", r#"{"version": 999}"#.into())),
                (_, false) => out.push((target, "application/x-www-form-urlencoded", "_version=999".into())),
            }
        }
    }
    out
}

/// The text of an answer: the body, or every cell of a workbook.
fn text_of(r: &Reply) -> String {
    if !r.content_type.contains("spreadsheetml") {
        return r.body.clone();
    }
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(r.bytes.clone())).expect("an xlsx");
    let mut out = String::new();
    for name in wb.sheet_names() {
        if let Ok(range) = wb.worksheet_range(&name) {
            for row in range.rows() {
                for c in row {
                    out.push_str(&c.to_string());
                    out.push('\t');
                }
                out.push('\n');
            }
        }
    }
    out
}

/// Keys that carry a value derived from an ID number, anywhere in a JSON answer.
fn derived_keys(j: &serde_json::Value, found: &mut Vec<String>) {
    match j {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if matches!(k.as_str(), "birth" | "birth_date" | "sex") && !v.is_null() {
                    found.push(format!("{k}={v}"));
                }
                derived_keys(v, found);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| derived_keys(v, found)),
        _ => {}
    }
}

fn run_masking_matrix(s: &Server) {
    let x = seed(s);
    let full = x.full();
    // The markers are there: a 业务员 assigned to 重点人群 sees them in full.
    let mut clerk = s.signed_in("clerk");
    let page = clerk.get(&format!("/ledgers/key_population/{}", x.kp)).body;
    assert!(page.contains(&x.guardian) && page.contains(GUARDIAN_PHONE), "the clerk sees the whole numbers");
    assert!(s.signed_in("admin").get(&format!("/persons/{}", x.person)).body.contains(BIRTH[0]), "and the birth date with them");
    let mut order: Vec<&RouteSpec> = ROUTES.iter().collect();
    order.sort_by_key(|r| r.path == "/logout");
    let mut checked = 0;
    for who in ["leader", "cadre", "auditor"] {
        let mut c: Client = s.signed_in(who);
        for spec in &order {
            let reqs = requests(spec, s, &x);
            assert!(!reqs.is_empty(), "{} {} has a case", spec.method, spec.path);
            for (target, ctype, body) in reqs {
                let r = if spec.method == "GET" { c.get(&target) } else { c.send(spec.method, &target, ctype, &body, true) };
                let label = format!("{} {target} as {who}: {}", spec.method, r.status);
                assert!(r.status < 500, "{label}: {}", r.body.chars().take(300).collect::<String>());
                let text = text_of(&r);
                for secret in &full {
                    // A number the request itself named (a search by it) may come back.
                    if target.contains(secret.as_str()) {
                        continue;
                    }
                    assert!(!text.contains(secret.as_str()), "{label} shows {secret} in full");
                }
                for b in BIRTH.iter().filter(|_| !target.contains(x.number.as_str())) {
                    assert!(!text.contains(b), "{label} shows the birth date {b} read from a masked number");
                }
                if r.content_type.contains("json") {
                    let mut found = Vec::new();
                    derived_keys(&r.json(), &mut found);
                    assert!(found.is_empty(), "{label} sends values derived from a masked number: {found:?}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= ROUTES.len() * 3, "{checked} answers checked");
    // The pages checked did show the cases (masked): the matrix is not empty-handed.
    let page = s.signed_in("leader").get(&format!("/ledgers/key_population/{}", x.kp)).body;
    assert!(page.contains("王监护") && page.contains("诊断标记") && page.contains(&format!("{}****************{}", &x.guardian[..1], &x.guardian[17..])), "the leader sees the case, numbers masked");
    // What the masked roles do see: the first and last characters only.
    let mut cadre = s.signed_in("cadre");
    let j = cadre.get(&format!("/api/v1/persons/{}", x.person)).json();
    let shown = j["id_number"].as_str().unwrap_or("");
    assert_eq!(shown, format!("{}****************{}", &x.number[..1], &x.number[17..]), "前1后1: neither region nor birth date");
    assert_eq!(j["phone"].as_str(), Some("139****5678"));
    let j = cadre.get(&format!("/api/v1/ledgers/key_population/records/{}", x.kp)).json();
    assert_eq!(j["values"]["diagnosis"].as_str(), Some("诊断标记"), "the case itself is the cadre's work");
    // The audit administrator's audit API: persons' and records' values masked, no birth date.
    let audit = s.signed_in("auditor").get("/api/v1/audit?entity=persons&limit=1000").body;
    assert!(audit.contains("4****************") && !audit.contains(&x.number), "masked before/after in the audit API");
    let page = s.signed_in("auditor").get("/audit?entity=persons").body;
    assert!(page.contains(&format!("已转换为 18 位：4****************{}", &x.converted[17..])), "notes the program wrote are masked too");
}

#[test]
fn no_route_shows_a_masked_value_in_full_to_any_role_on_sqlite_and_postgres() {
    both(run_masking_matrix);
}

/// The value attribute of the input named `name` on a page.
fn input_value(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("an input {name}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap_or(0)].to_string()
}

fn stored(s: &Server, key: &str, column: &str, id: i64) -> String {
    let db = s.db.clone();
    let sql = format!("SELECT COALESCE(CAST({column} AS TEXT), '') FROM ld_{key} WHERE id = {id}");
    s.rt.block_on(async move { db.read().await.expect("read").fetch_one(&sql, &[]).await.expect("query").text(0) })
}

fn edit_form_keeps_masked_values(s: &Server) {
    let x = seed(s);
    let mut cadre = s.signed_in("cadre");
    let path = format!("/ledgers/key_population/{}", x.kp);
    let page = cadre.get(&path).body;
    let shown_id = input_value(&page, "guardian_id_number");
    let shown_phone = input_value(&page, "guardian_phone");
    assert!(shown_id.contains('*') && shown_phone.contains('*'), "the inputs hold masked values: {shown_id} {shown_phone}");
    assert!(!page.contains(&x.guardian) && !page.contains(GUARDIAN_PHONE));
    // Sent back as shown, with another field changed: the masked ones stay as stored.
    let version = input_value(&page, "_version");
    let r = cadre.post_form(&path, &[("_version", &version), ("guardian_id_number", &shown_id), ("guardian_phone", &shown_phone), ("last_followup_on", "2024-03-01")]);
    assert_eq!(r.status, 303, "{}", r.body.chars().take(400).collect::<String>());
    assert_eq!(stored(s, "key_population", "guardian_id_number", x.kp), x.guardian);
    assert_eq!(stored(s, "key_population", "guardian_phone", x.kp), GUARDIAN_PHONE);
    assert!(stored(s, "key_population", "last_followup_on", x.kp).starts_with("2024-03-01"));
    // Retyped in full: saved.
    let page = cadre.get(&path).body;
    let version = input_value(&page, "_version");
    let r = cadre.post_form(&path, &[("_version", &version), ("guardian_id_number", &input_value(&page, "guardian_id_number")), ("guardian_phone", "13600002222")]);
    assert_eq!(r.status, 303);
    assert_eq!(stored(s, "key_population", "guardian_phone", x.kp), "13600002222");
    assert_eq!(stored(s, "key_population", "guardian_id_number", x.kp), x.guardian);
    // A masked text altered is not a number: refused, nothing saved.
    let page = cadre.get(&path).body;
    let version = input_value(&page, "_version");
    let r = cadre.post_form(&path, &[("_version", &version), ("guardian_id_number", "4***X")]);
    assert_eq!(r.status, 422);
    assert_eq!(stored(s, "key_population", "guardian_id_number", x.kp), x.guardian);
    // The API: a masked value sent back as it was read means unchanged too.
    let j = cadre.get(&format!("/api/v1/ledgers/key_population/records/{}", x.kp)).json();
    let body = serde_json::json!({"version": j["version"], "values": {"guardian_id_number": j["values"]["guardian_id_number"], "remarks": "电话随访"}});
    let r = cadre.put_json(&format!("/api/v1/ledgers/key_population/records/{}", x.kp), &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(stored(s, "key_population", "guardian_id_number", x.kp), x.guardian);
    // A person's 编辑 form: masked number and phone, unchanged unless retyped.
    let page = cadre.get(&format!("/persons/{}", x.person)).body;
    let (id_shown, phone_shown) = (input_value(&page, "id_number"), input_value(&page, "phone"));
    assert!(id_shown.contains('*') && phone_shown.contains('*') && !page.contains(&x.number) && !page.contains(PHONE));
    let version = input_value(&page, "_version");
    let r = cadre.post_form(&format!("/persons/{}", x.person), &[("_version", &version), ("name", "王敏感"), ("id_number", &id_shown), ("ethnicity", ""), ("phone", &phone_shown), ("reason", "")]);
    assert!(r.location.ends_with("done=unchanged"), "{} {}", r.status, r.location);
    assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM persons WHERE id = {} AND phone = '{PHONE}'", x.person)), 1);
}

#[test]
fn masked_form_values_mean_unchanged_unless_retyped() {
    both(edit_form_keeps_masked_values);
}

fn searches_are_exact(s: &Server) {
    let x = seed(s);
    let mut cadre = s.signed_in("cadre");
    let middle = &x.number[6..14];
    // Wildcards and parts of a number find nobody; the reason is said.
    for q in [format!("%{middle}%"), format!("%25{middle}%25"), middle.to_string(), x.number[12..].to_string()] {
        let r = cadre.get(&format!("/api/v1/persons?q={}", common::encode(&q)));
        assert!(r.status == 400 || r.json()["persons"].as_array().is_some_and(|a| a.is_empty()), "{q}: {} {}", r.status, r.body);
        let page = cadre.get(&format!("/search?q={}", common::encode(&q))).body;
        assert!(!page.contains("王敏感"), "{q} finds nobody");
    }
    let r = cadre.get(&format!("/search?q={}", &x.number[12..]));
    assert!(r.body.contains("完整的 18 位"), "the rule is said");
    // The whole number finds the person (shown masked).
    let j = cadre.get(&format!("/api/v1/persons?q={}", x.number)).json();
    assert_eq!(j["persons"][0]["id"].as_i64(), Some(x.person));
    // Who sees numbers in full may give the last 6.
    let j = s.signed_in("clerk").get(&format!("/api/v1/persons?q={}", &x.number[12..])).json();
    assert_eq!(j["persons"][0]["id"].as_i64(), Some(x.person));
    // A list's keyword matches a sensitive number only as a whole, never a part of it.
    let part = &x.guardian[4..12];
    let list = cadre.get(&format!("/ledgers/key_population?kw={part}")).body;
    assert!(!list.contains(&format!("/ledgers/key_population/{}\"", x.kp)), "a part of the guardian's number matches nothing");
    let list = cadre.get(&format!("/ledgers/key_population?kw={}", x.guardian)).body;
    assert!(list.contains(&format!("/ledgers/key_population/{}", x.kp)), "the whole number does");
    let list = cadre.get(&format!("/ledgers/dibao?kw={}", &ACCOUNT[..10])).body;
    assert!(!list.contains(&format!("/ledgers/dibao/{}", x.dibao)), "nor a part of a bank account");
}

#[test]
fn searching_by_a_sensitive_value_is_exact() {
    both(searches_are_exact);
}

fn reads(s: &Server, who: &str, entity: &str) -> Vec<serde_json::Value> {
    let db = s.db.clone();
    let sql = format!("SELECT after_json, note FROM audit WHERE action = 'read' AND actor = '{who}' AND entity = '{entity}' ORDER BY id");
    s.rt.block_on(async move {
        let rows = db.read().await.expect("read").fetch(&sql, &[]).await.expect("query");
        rows.iter()
            .map(|r| {
                let mut j: serde_json::Value = serde_json::from_str(&r.text(0)).expect("json");
                j["note"] = serde_json::json!(r.text(1));
                j
            })
            .collect()
    })
}

fn reads_are_audited_and_reported(s: &Server) {
    let x = seed(s);
    let mut clerk = s.signed_in("clerk");
    let kp_id = x.kp.to_string();
    // A list page, an API page, an export, a search hit, an opened record: one entry each,
    // naming the count and the ids.
    assert_eq!(clerk.get("/ledgers/key_population?size=100").status, 200);
    assert_eq!(clerk.get("/api/v1/ledgers/key_population/records?limit=1000").status, 200);
    assert_eq!(clerk.get("/ledgers/key_population/export?format=csv").status, 200);
    assert_eq!(clerk.get(&format!("/ledgers/key_population/{}", x.kp)).status, 200);
    assert_eq!(clerk.get(&format!("/search?q={}", common::encode("王敏感"))).status, 200);
    let kp_total = s.scalar("SELECT COUNT(*) FROM ld_key_population");
    let entries = reads(s, "clerk", "ld_key_population");
    assert_eq!(entries.len(), 4, "{entries:?}");
    for e in &entries {
        assert!(e["ids"].as_str().is_some_and(|ids| taizhang_storage::reads::runs_contain(ids, x.kp)), "{e}");
    }
    assert!(entries[..3].iter().all(|e| e["count"].as_i64() == Some(kp_total)), "every record of the list, API page and export: {entries:?}");
    assert!(entries[0]["note"].as_str().is_some_and(|n| n.contains("台账列表（网页）")));
    assert!(entries[1]["note"].as_str().is_some_and(|n| n.contains("接口")));
    assert!(entries[2]["note"].as_str().is_some_and(|n| n.contains("导出台账")) && entries[2]["filter"].as_str() == Some("格式=csv"));
    assert_eq!(entries[3]["count"].as_i64(), Some(1));
    let persons = reads(s, "clerk", "persons");
    assert!(persons.last().is_some_and(|e| e["filter"] == "王敏感" && e["ids"].as_str().is_some_and(|i| taizhang_storage::reads::runs_contain(i, x.person))), "{persons:?}");
    // A ledger without personal data leaves no read entry.
    assert_eq!(clerk.get("/ledgers/hazards").status, 200);
    assert!(reads(s, "clerk", "ld_hazards").is_empty());
    // The report, for the audit administrator: by person, by record, by user, by day.
    let mut auditor = s.signed_in("auditor");
    let page = auditor.get(&format!("/audit/reads?person={}", x.person)).body;
    assert!(page.contains("重点人群服务管理台账") && page.contains("clerk") && page.contains(&kp_id), "{page}");
    let j = auditor.get(&format!("/api/v1/audit/reads?person={}&user=clerk", x.number)).json();
    let found = j["reads"].as_array().cloned().unwrap_or_default();
    assert!(found.len() >= 5 && found.iter().all(|e| e["user"] == "clerk"), "{j}");
    let j = auditor.get(&format!("/api/v1/audit/reads?ledger=key_population&record={}", x.kp)).json();
    assert!(j["reads"].as_array().is_some_and(|a| a.len() >= 4), "{j}");
    let today = chrono::Local::now().date_naive();
    let j = auditor.get(&format!("/api/v1/audit/reads?from={}&to={}&user=clerk", today, today)).json();
    assert!(j["reads"].as_array().is_some_and(|a| !a.is_empty()));
    let j = auditor.get(&format!("/api/v1/audit/reads?to={}&user=clerk", today.pred_opt().expect("yesterday"))).json();
    assert!(j["reads"].as_array().is_some_and(Vec::is_empty), "{j}");
    // Only the audit administrator.
    for who in ["admin", "leader", "clerk", "cadre"] {
        assert_eq!(s.signed_in(who).get("/api/v1/audit/reads").status, 403, "{who}");
    }
}

#[test]
fn reads_are_audited_and_reported_to_the_audit_administrator() {
    both(reads_are_audited_and_reported);
}

fn least_privilege(s: &Server) {
    let x = seed(s);
    let mut clerk2 = s.signed_in("clerk2");
    // Not assigned to 重点人群 nor 特困 (health): not found, wherever asked.
    for path in [
        "/ledgers/key_population".to_string(),
        format!("/ledgers/key_population/{}", x.kp),
        "/ledgers/key_population/export?format=csv".to_string(),
        "/api/v1/ledgers/key_population/records".to_string(),
        format!("/api/v1/ledgers/key_population/records/{}", x.kp),
        "/ledgers/destitute".to_string(),
        "/explain/destitute_households".to_string(),
    ] {
        let r = clerk2.get(&path);
        assert_eq!(r.status, 404, "{path}: {}", r.body.chars().take(200).collect::<String>());
        assert!(!r.body.contains("诊断标记") && !r.body.contains(&x.guardian));
    }
    let home = clerk2.get("/").body;
    assert!(!home.contains("/ledgers/key_population\"") && home.contains("/ledgers/dibao\""), "the menu names only readable ledgers");
    let person = clerk2.get(&format!("/persons/{}", x.person)).body;
    assert!(!person.contains("重点人群服务管理台账"), "the person's page lists no record of an unreadable ledger");
    // Assigned: readable.
    assert_eq!(s.signed_in("clerk").get(&format!("/ledgers/key_population/{}", x.kp)).status, 200);
    assert_eq!(clerk2.get(&format!("/ledgers/dibao/{}", x.dibao)).status, 200);

    // A step fills only its declared fields: a 领导's 移交 cannot change the parties.
    let mut leader = s.signed_in("leader");
    let path = format!("/ledgers/disputes/{}", x.dispute);
    let r = leader.post_form(&format!("{path}/transition"), &[("_version", "1"), ("_transition", "transfer"), ("transferred_to", "县调处中心"), ("transferred_on", "2024-01-02"), ("parties", "换了的当事人")]);
    assert_eq!(r.status, 422, "{}", r.body.chars().take(300).collect::<String>());
    assert!(r.body.contains("当事人") && r.body.contains("不能修改"), "named in Chinese");
    let r = leader.post_json(&format!("/api/v1/ledgers/disputes/records/{}/transitions/transfer", x.dispute), &serde_json::json!({"version": 1, "values": {"transferred_to": "县调处中心", "transferred_on": "2024-01-02", "parties": "换了的当事人"}}));
    assert_eq!(r.status, 422);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("当事人")), "{}", r.body);
    assert_eq!(stored(s, "disputes", "parties", x.dispute), "原当事人");
    let r = leader.post_form(&format!("{path}/transition"), &[("_version", "1"), ("_transition", "transfer"), ("transferred_to", "县调处中心"), ("transferred_on", "2024-01-02")]);
    assert_eq!(r.status, 303, "the declared fields alone: {}", r.body.chars().take(300).collect::<String>());

    // Definitions: the town's 系统管理员 cannot change a built-in one (the marks of 重点人群)…
    let mut admin = s.signed_in("admin");
    let builtin = include_str!("../../../catalogue/ledgers/key_population.toml").replace("sensitivity = \"key_population\"\n", "");
    let r = admin.post_form("/admin/ledgers", &[("definition", &builtin)]);
    assert!(r.status >= 400 && r.body.contains("县级管理员"), "{} {}", r.status, r.body.chars().take(300).collect::<String>());
    let defs = s.scalar("SELECT COUNT(*) FROM ledger_defs WHERE key = 'key_population' AND definition LIKE '%\"sensitivity\":\"key_population\"%'");
    assert_eq!(defs, 1, "the marks are still there");
    // …but adds its own ledger, and fields to it.
    let own = "key = \"tea_gardens\"\nname = \"茶园管护台账\"\ngroup = \"农业农村\"\nsubject = \"none\"\n[time]\nkind = \"event\"\nfield = \"checked_on\"\n[[fields]]\nkey = \"checked_on\"\nlabel = \"检查日期\"\ntype = \"date\"\nrequired = true\n";
    let r = admin.post_form("/admin/ledgers", &[("definition", own)]);
    assert_eq!(r.status, 303, "{}", r.body.chars().take(300).collect::<String>());
    let more = format!("{own}[[fields]]\nkey = \"area\"\nlabel = \"面积\"\ntype = \"integer\"\n");
    assert_eq!(admin.post_form("/admin/ledgers", &[("definition", &more)]).status, 303);
    // The town's audit view shows the definition changes (its own, placed at the town).
    let audit = s.signed_in("auditor").get("/audit?entity=ledger_defs").body;
    assert!(audit.contains("tea_gardens") && audit.contains("admin"), "{audit}");
}

#[test]
fn least_privilege_for_reading_steps_and_definitions() {
    both(least_privilege);
}

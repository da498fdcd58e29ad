//! The role × route matrix, generated from every route the router registers
//! (`taizhang_web::routes::ROUTES`). A route without a case below fails the suite.
//!
//! The 村干部 is confined to 坪溪村; every id and place a request names belongs to 金竹村.
//! Expected: anonymous → refused (401, or a redirect to sign-in for pages); a role the route
//! does not admit → 403; the 村干部 → 404 for anything named by id or place, and lists that
//! never show 金竹村's data; everyone admitted → the route's ordinary answer. GET requests
//! never change stored data.

mod common;

use common::{Server, FOREIGN_MARK, FOREIGN_NAME, VILLAGE_B};
use taizhang_domain::role::Role;
use taizhang_web::routes::{Access, Confinement, RouteSpec, ROUTES};

struct Case {
    /// The concrete request target.
    target: String,
    content_type: &'static str,
    body: String,
    /// Statuses an admitted user (not confined away from the data) may get.
    ok: &'static [u16],
}

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// The concrete request for each route, naming 金竹村's data.
fn case(spec: &RouteSpec, s: &Server) -> Option<Case> {
    let w = &s.world;
    let hb = w.hazard_b;
    let get = |target: String| Some(Case { target, content_type: "", body: String::new(), ok: &[200] });
    let write = |target: String, content_type: &'static str, body: String, ok: &'static [u16]| Some(Case { target, content_type, body, ok });
    // Each new hazard its own place: the same natural key twice is refused (409) by design.
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let new_hazard = format!("_place={VILLAGE_B}&found_on=2023-03-01&industry=%E7%87%83%E6%B0%94&level=%E4%B8%80%E8%88%AC&location=x{n}&description=y");
    match (spec.method, spec.path) {
        ("GET", "/login") => Some(Case { target: "/login".into(), content_type: "", body: String::new(), ok: &[200, 303] }),
        // A name of its own each time: five failures for one name lock it (429).
        ("POST", "/login") => write("/login".into(), FORM, format!("username=nobody{n}&password=wrong"), &[401]),
        ("POST", "/logout") => write("/logout".into(), FORM, String::new(), &[303]),
        ("GET", "/password") => get("/password".into()),
        ("POST", "/password") => write("/password".into(), FORM, "current=wrong1234&new=abc&again=abc".into(), &[422]),
        ("GET", "/static/app.css") => get("/static/app.css".into()),
        ("GET", "/static/app.js") => get("/static/app.js".into()),
        ("GET", "/sw.js") => get("/sw.js".into()),
        ("GET", "/") => get("/".into()),
        ("GET", "/search") => get(format!("/search?q={}", common::encode("李"))),
        ("GET", "/persons/new") => get("/persons/new".into()),
        ("POST", "/persons/new") => write("/persons/new".into(), FORM, format!("name=x&id_number={}&place={VILLAGE_B}", common::id_number(77)), &[303, 409]),
        ("GET", "/persons/{id}") => get(format!("/persons/{}", w.person_b)),
        // Writes to 金竹村's person, household, cadre and organisation that an admitted user
        // gets refused for a stale version or a missing field: nothing changes, whoever asks.
        ("POST", "/persons/{id}") => write(format!("/persons/{}", w.person_b), FORM, "_version=999&name=x&reason=y".into(), &[409]),
        ("POST", "/persons/{id}/status") => write(format!("/persons/{}/status", w.person_b), FORM, "_version=999&change=death&date=2020-01-01".into(), &[409]),
        ("GET", "/households/{id}") => get(format!("/households/{}", w.household_b)),
        ("POST", "/households/{id}/join") => write(format!("/households/{}/join", w.household_b), FORM, "id_number=&relation=x".into(), &[422]),
        ("POST", "/households/{id}/leave") => write(format!("/households/{}/leave", w.household_b), FORM, "person=&reason=x".into(), &[422]),
        ("POST", "/households/{id}/head") => write(format!("/households/{}/head", w.household_b), FORM, "head=".into(), &[422]),
        ("POST", "/households/{id}/split") => write(format!("/households/{}/split", w.household_b), FORM, "number=".into(), &[422]),
        ("POST", "/households/{id}/move") => write(format!("/households/{}/move", w.household_b), FORM, "place=".into(), &[422]),
        ("GET", "/cadres") => get("/cadres".into()),
        ("POST", "/cadres/{id}/edit") => write(format!("/cadres/{}/edit", w.cadre_b), FORM, "name=&kind=".into(), &[422]),
        ("POST", "/cadres/{id}/end") => write(format!("/cadres/{}/end", w.cadre_b), FORM, "ended_on=".into(), &[422]),
        ("GET", "/orgs") => get("/orgs".into()),
        ("POST", "/orgs/{id}/end") => write(format!("/orgs/{}/end", w.org_b), FORM, "ended_on=".into(), &[422]),
        ("GET", "/ledgers") => get("/ledgers".into()),
        ("GET", "/ledgers/{key}") => get("/ledgers/hazards?size=100".into()),
        ("GET", "/ledgers/{key}/new") => get("/ledgers/hazards/new".into()),
        ("POST", "/ledgers/{key}/new") => write("/ledgers/hazards/new".into(), FORM, new_hazard, &[303]),
        ("GET", "/ledgers/{key}/export") => get("/ledgers/hazards/export?format=csv".into()),
        ("GET", "/ledgers/{key}/template") => get("/ledgers/hazards/template".into()),
        ("GET", "/ledgers/{key}/{id}") => get(format!("/ledgers/hazards/{hb}")),
        ("POST", "/ledgers/{key}/{id}") => write(format!("/ledgers/hazards/{hb}"), FORM, "_version=999&description=z".into(), &[409]),
        ("POST", "/ledgers/{key}/{id}/void") => write(format!("/ledgers/hazards/{hb}/void"), FORM, "_version=999&reason=x".into(), &[409]),
        ("POST", "/ledgers/{key}/{id}/restore") => write(format!("/ledgers/hazards/{hb}/restore"), FORM, "_version=999".into(), &[409]),
        ("POST", "/ledgers/{key}/{id}/transition") => write(format!("/ledgers/hazards/{hb}/transition"), FORM, "_version=999&_transition=fix_on_spot".into(), &[409, 422]),
        ("GET", "/import") => get("/import".into()),
        ("POST", "/import") => write("/import".into(), FORM, "ledger=hazards".into(), &[400]),
        ("POST", "/import/confirm") => write("/import/confirm".into(), FORM, "upload=none".into(), &[404]),
        ("GET", "/import/errors") => Some(Case { target: "/import/errors?upload=none".into(), content_type: "", body: String::new(), ok: &[404] }),
        ("GET", "/import/templates/{target}") => get("/import/templates/cadres".into()),
        ("GET", "/checks") => get("/checks".into()),
        ("GET", "/reports") => get("/reports".into()),
        ("GET", "/reports/preview") => get(format!("/reports/preview?place={VILLAGE_B}")),
        ("GET", "/reports/download") => get(format!("/reports/download?place={VILLAGE_B}")),
        ("GET", "/reports/form") => get(format!("/reports/form?place={VILLAGE_B}")),
        ("GET", "/explain/{key}") => get("/explain/hazards_gas".into()),
        // 校核 of a draft against 金竹村: the draft is sent each time (nothing is kept).
        ("GET", "/verify") => get("/verify".into()),
        ("POST", "/verify") => write("/verify".into(), "multipart/form-data; boundary=b", draft_for(VILLAGE_B), &[200]),
        ("POST", "/verify/docx") => write("/verify/docx".into(), "multipart/form-data; boundary=b", draft_for(VILLAGE_B), &[200]),
        ("GET", "/audit") => get("/audit".into()),
        ("GET", "/audit/reads") => get("/audit/reads".into()),
        ("GET", "/audit/export") => get("/audit/export".into()),
        ("GET", "/admin/users") => get("/admin/users".into()),
        // 三员分立: account states and the security policy.
        ("GET", "/admin/users/{id}") => get(format!("/admin/users/{}", w.users["newbie"])),
        ("POST", "/admin/users/{id}") => write(format!("/admin/users/{}", w.users["newbie"]), FORM, "name=x&role=nothing".into(), &[422]),
        ("POST", "/admin/users/{id}/disable") => write(format!("/admin/users/{}/disable", w.users["newbie"]), FORM, String::new(), &[303]),
        ("POST", "/admin/users/{id}/enable") => write(format!("/admin/users/{}/enable", w.users["newbie"]), FORM, String::new(), &[303]),
        ("POST", "/admin/users/{id}/unlock") => write(format!("/admin/users/{}/unlock", w.users["newbie"]), FORM, String::new(), &[303]),
        ("GET", "/admin/security") => get("/admin/security".into()),
        ("POST", "/admin/security") => write("/admin/security".into(), FORM, "setting=x&value=1".into(), &[422]),
        ("POST", "/admin/users") => write("/admin/users".into(), FORM, "username=x&role=nothing".into(), &[422]),
        ("POST", "/admin/users/{id}/password") => write(format!("/admin/users/{}/password", w.users["cadre"]), FORM, "password=short".into(), &[422]),
        ("GET", "/admin/ledgers") => get("/admin/ledgers".into()),
        ("GET", "/admin/ledgers/form") => get("/admin/ledgers/form".into()),
        ("POST", "/admin/ledgers/form") => write("/admin/ledgers/form".into(), FORM, "name=&f0_label=".into(), &[422]),
        ("GET", "/admin/settings") => get("/admin/settings".into()),
        ("POST", "/admin/settings") => write("/admin/settings".into(), FORM, "setting=x&value=1".into(), &[422]),
        ("POST", "/admin/ledgers") => write("/admin/ledgers".into(), FORM, "definition=not+toml".into(), &[422]),
        ("GET", "/api/v1/openapi.json") => get("/api/v1/openapi.json".into()),
        ("GET", "/api/v1/me") => get("/api/v1/me".into()),
        ("GET", "/api/v1/persons") => get("/api/v1/persons".into()),
        // The other village's person and cadre share FOREIGN_NAME: neither may appear.
        ("GET", "/api/v1/search") => get(format!("/api/v1/search?q={}", common::encode(FOREIGN_NAME))),
        ("POST", "/api/v1/persons") => write("/api/v1/persons".into(), JSON, serde_json::json!({"name": "x", "id_number": common::id_number(78), "place": VILLAGE_B}).to_string(), &[201, 409]),
        ("GET", "/api/v1/persons/{id}") => get(format!("/api/v1/persons/{}", w.person_b)),
        ("PUT", "/api/v1/persons/{id}") => write(format!("/api/v1/persons/{}", w.person_b), JSON, r#"{"version": 999, "reason": "y", "fields": {"name": "x"}}"#.into(), &[409]),
        ("POST", "/api/v1/persons/{id}/status") => write(format!("/api/v1/persons/{}/status", w.person_b), JSON, r#"{"version": 999, "status": "死亡", "date": "2020-01-01"}"#.into(), &[409]),
        ("GET", "/api/v1/households/{id}") => get(format!("/api/v1/households/{}", w.household_b)),
        ("POST", "/api/v1/households/{id}/join") => write(format!("/api/v1/households/{}/join", w.household_b), JSON, "{}".into(), &[422]),
        ("POST", "/api/v1/households/{id}/leave") => write(format!("/api/v1/households/{}/leave", w.household_b), JSON, "{}".into(), &[422]),
        ("POST", "/api/v1/households/{id}/head") => write(format!("/api/v1/households/{}/head", w.household_b), JSON, "{}".into(), &[422]),
        ("POST", "/api/v1/households/{id}/split") => write(format!("/api/v1/households/{}/split", w.household_b), JSON, "{}".into(), &[422]),
        ("POST", "/api/v1/households/{id}/move") => write(format!("/api/v1/households/{}/move", w.household_b), JSON, "{}".into(), &[422]),
        ("GET", "/api/v1/ledgers") => get("/api/v1/ledgers".into()),
        ("GET", "/api/v1/ledgers/{key}/records") => get("/api/v1/ledgers/hazards/records".into()),
        ("POST", "/api/v1/ledgers/{key}/records") => write(
            "/api/v1/ledgers/hazards/records".into(),
            JSON,
            serde_json::json!({"place": VILLAGE_B, "values": {"found_on": "2023-03-02", "industry": "燃气", "level": "一般", "location": format!("x{n}"), "description": "y"}}).to_string(),
            &[201],
        ),
        ("GET", "/api/v1/ledgers/{key}/records/{id}") => get(format!("/api/v1/ledgers/hazards/records/{hb}")),
        ("PUT", "/api/v1/ledgers/{key}/records/{id}") => write(format!("/api/v1/ledgers/hazards/records/{hb}"), JSON, r#"{"version": 999, "values": {"description": "z"}}"#.into(), &[409]),
        ("POST", "/api/v1/ledgers/{key}/records/{id}/transitions/{transition}") => {
            write(format!("/api/v1/ledgers/hazards/records/{hb}/transitions/fix_on_spot"), JSON, r#"{"version": 999}"#.into(), &[409, 422])
        }
        ("POST", "/api/v1/ledgers/{key}/records/{id}/void") => write(format!("/api/v1/ledgers/hazards/records/{hb}/void"), JSON, r#"{"version": 999, "reason": "x"}"#.into(), &[409]),
        ("POST", "/api/v1/ledgers/{key}/records/{id}/restore") => write(format!("/api/v1/ledgers/hazards/records/{hb}/restore"), JSON, r#"{"version": 999}"#.into(), &[409]),
        ("GET", "/api/v1/settings") => get("/api/v1/settings".into()),
        // 佐证材料 of 金竹村's hazard: a file that is no photo is refused (422), removal without
        // a reason too; the photo itself and the zip are read.
        ("POST", "/ledgers/{key}/{id}/attachments") => write(
            format!("/ledgers/hazards/{hb}/attachments"),
            "multipart/form-data; boundary=b",
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n".into(),
            &[422],
        ),
        ("GET", "/ledgers/{key}/{id}/attachments/{aid}") => get(format!("/ledgers/hazards/{hb}/attachments/{}", w.attachment_b)),
        ("POST", "/ledgers/{key}/{id}/attachments/{aid}/void") => write(format!("/ledgers/hazards/{hb}/attachments/{}/void", w.attachment_b), FORM, "reason=".into(), &[422]),
        ("GET", "/ledgers/{key}/{id}/attachments.zip") => get(format!("/ledgers/hazards/{hb}/attachments.zip")),
        ("PUT", "/api/v1/settings") => write("/api/v1/settings".into(), JSON, r#"{"setting": "x", "value": "1"}"#.into(), &[422]),
        ("GET", "/api/v1/indicators") => get(format!("/api/v1/indicators?place={VILLAGE_B}")),
        ("GET", "/api/v1/checks") => get(format!("/api/v1/checks?place={VILLAGE_B}")),
        ("GET", "/api/v1/audit") => get("/api/v1/audit".into()),
        ("GET", "/api/v1/audit/reads") => get("/api/v1/audit/reads".into()),
        _ => None,
    }
}

/// A small draft to verify, naming the place it speaks of.
fn draft_for(place: &str) -> String {
    format!("--b\r\nContent-Disposition: form-data; name=\"place\"\r\n\r\n{place}\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\n排查整治安全隐患5起。\r\n--b--\r\n")
}

fn admits(spec: &RouteSpec, role: Role) -> bool {
    match spec.access {
        Access::Anyone | Access::Own => true,
        // The town's data is not for the 安全管理员 and 审计管理员 (三员分立).
        Access::Signed => !role.is_officer(),
        Access::Roles(roles) => roles.contains(&role),
        // In this matrix the ledger is 安全隐患 (hazards), which the 业务员 is assigned.
        Access::Editor => role != Role::Leader && !role.is_officer(),
        Access::Worker => !role.is_officer(),
    }
}

fn run_matrix(s: &Server) {
    let missing: Vec<String> = ROUTES.iter().filter(|r| case(r, s).is_none()).map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(missing.is_empty(), "routes without a confinement case: {missing:?}");
    let users = [
        ("admin", Role::Admin),
        ("leader", Role::Leader),
        ("clerk", Role::Clerk),
        ("cadre", Role::VillageCadre),
        ("security", Role::SecurityAdmin),
        ("auditor", Role::AuditAdmin),
    ];
    let mut checked = 0;
    // Sign-out last, so that each user's session lives through the whole row.
    let mut order: Vec<&RouteSpec> = ROUTES.iter().collect();
    order.sort_by_key(|r| r.path == "/logout");
    for who in [None].into_iter().chain(users.iter().map(Some)) {
        let mut client = match who {
            None => s.client(),
            Some((name, _)) => s.signed_in(name),
        };
        for spec in &order {
            let c = case(spec, s).unwrap_or_else(|| unreachable!());
            let label = format!("{} {} as {}", spec.method, c.target, who.map_or("anonymous", |w| w.0));
            let before = s.fingerprint();
            let reply = if spec.method == "GET" { client.get(&c.target) } else { client.send(spec.method, &c.target, c.content_type, &c.body, true) };
            if spec.method == "GET" {
                assert_eq!(before, s.fingerprint(), "GET changed stored data: {label}");
            }
            let status = reply.status;
            match who {
                None if spec.access == Access::Anyone => assert!(c.ok.contains(&status), "{label}: {status} {}", reply.body),
                None if spec.is_api() => {
                    assert_eq!(status, 401, "{label}");
                    assert!(reply.json()["error"].as_str().is_some_and(|e| e.contains("登录")), "{label}: Chinese JSON error, got {}", reply.body);
                }
                None if spec.method == "GET" => assert!(status == 303 && reply.location.starts_with("/login"), "{label}: {status}"),
                None => assert_eq!(status, 401, "{label}"),
                // The 安全管理员 and 审计管理员 are sent from the dashboard to their own page.
                Some((_, role)) if role.is_officer() && spec.path == "/" => {
                    let home = if *role == Role::AuditAdmin { "/audit" } else { "/admin/security" };
                    assert_eq!((status, reply.location.as_str()), (303, home), "{label}");
                }
                Some((_, role)) if !admits(spec, *role) => assert_eq!(status, 403, "{label}: {}", reply.body),
                Some((_, Role::VillageCadre)) if spec.confinement == Confinement::ById => {
                    assert_eq!(status, 404, "{label}: {}", reply.body);
                    assert_eq!(before, s.fingerprint(), "{label} changed data outside the village");
                }
                Some((_, Role::VillageCadre)) if spec.confinement == Confinement::Filtered && spec.method != "GET" => {
                    assert!(status == 404 || c.ok.contains(&status) && !c.ok.contains(&201) && !c.ok.contains(&303), "{label}: {status} {}", reply.body);
                    assert_eq!(before, s.fingerprint(), "{label} changed data outside the village");
                }
                Some(_) => assert!(c.ok.contains(&status), "{label}: got {status}, expected {:?}: {}", c.ok, reply.body.chars().take(400).collect::<String>()),
            }
            if matches!(who, Some((_, Role::VillageCadre))) && spec.confinement == Confinement::Filtered && spec.method == "GET" {
                assert!(!reply.body.contains(FOREIGN_MARK) && !reply.body.contains(FOREIGN_NAME), "{label} shows the other village's data");
                assert!(!reply.body.contains(&s.world.person_b_number), "{label} shows the other village's ID number");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * (users.len() + 1));
    // And the others do see 金竹村 (the markers are really there to be hidden).
    let mut leader = s.signed_in("leader");
    assert!(leader.get("/ledgers/hazards?size=100").body.contains(FOREIGN_MARK));
    assert!(leader.get(&format!("/search?q={}", common::encode(FOREIGN_NAME))).body.contains(FOREIGN_NAME));
}

#[test]
fn every_route_is_confined_on_sqlite_and_postgres() {
    common::both(run_matrix);
}

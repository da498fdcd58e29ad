//! The built-in ledger catalogue (`catalogue/ledgers/*.toml`): every definition loads and
//! checks, the set covers every line of work in the seed, the conventions a clerk relies on
//! hold, and the case workflows refuse what the rules forbid.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use taizhang_domain::catalogue::{builtin_ledgers, text_files};
use taizhang_domain::ledger::{FieldKind, LedgerDef, Sensitivity, SubjectKind, TextFormat, TimeModel};
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::value::{Value, Values};
use taizhang_domain::workflow::{check_transition, overdue, Settings};
use taizhang_domain::DomainError;

/// The ledgers written for the seed (docs/seed-coverage.md says which figure each one serves).
const EXPECTED: &[&str] = &[
    // 党建学习
    "study_sessions",
    "volunteer_teams",
    "civilization_activities",
    // 招商引资
    "investment_activities",
    // 综合
    "articles",
    "events",
    "county_assessments",
    "cadre_scores",
    "place_designations",
    // 农业农村
    "farmland_patches",
    "planting",
    "high_standard_farmland",
    "demonstration_fields",
    "input_distributions",
    "water_works",
    "machinery_subsidies",
    // 林业
    "forest_subsidies",
    "felling_permits",
    "afforestation",
    // 文化旅游
    "tourism_receptions",
    "tourism_income",
    // 乡村振兴
    "poverty_households",
    "monitoring",
    "assistance_visits",
    // 项目建设
    "projects",
    // 平安建设
    "disputes",
    "peace_propaganda",
    "comprehensive_visits",
    "key_population",
    "petitions",
    // 安全生产
    "safety_propaganda",
    "hazards",
    "outlet_inspections",
    // 社会救助
    "destitute",
    "destitute_payments",
    "dibao",
    "dibao_payments",
    "temporary_relief",
    "special_care",
    "special_care_payments",
    "veteran_services",
    // 社保医保
    "insurance_contributions",
    "insurance_services",
    // 人居环境
    "environment_supplies",
    "environment_actions",
];

const GROUPS: &[&str] = &[
    "党建学习", "招商引资", "农业农村", "林业", "文化旅游", "乡村振兴", "项目建设", "平安建设",
    "安全生产", "社会救助", "社保医保", "人居环境", "综合",
];

fn all() -> HashMap<String, LedgerDef> {
    builtin_ledgers()
        .expect("the built-in catalogue loads and checks")
        .into_iter()
        .map(|d| (d.key.clone(), d))
        .collect()
}

fn ledger(key: &str) -> LedgerDef {
    all().remove(key).unwrap_or_else(|| panic!("ledger {key} is in the catalogue"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date")
}

fn user(role: Role) -> Actor {
    Actor::User { id: 7, username: "tester".into(), role, place_id: 1 }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| s.to_string()).collect())
}

fn values(pairs: &[(&str, Value)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn refusal(r: Result<impl std::fmt::Debug, DomainError>) -> String {
    match r {
        Ok(t) => panic!("expected a refusal, got {t:?}"),
        Err(e) => e.to_string(),
    }
}

fn missing_fields(r: Result<impl std::fmt::Debug, DomainError>) -> BTreeSet<String> {
    match r {
        Err(DomainError::Fields(errs)) => errs.into_iter().map(|e| e.key).collect(),
        other => panic!("expected missing fields, got {other:?}"),
    }
}

#[test]
fn every_definition_loads_and_the_set_is_complete() {
    let defs = builtin_ledgers().expect("the built-in catalogue loads and checks");
    assert!(defs.len() >= 30, "only {} ledgers", defs.len());
    let keys: BTreeSet<&str> = defs.iter().map(|d| d.key.as_str()).collect();
    let missing: Vec<&&str> = EXPECTED.iter().filter(|k| !keys.contains(**k)).collect();
    assert!(missing.is_empty(), "missing ledgers: {missing:?}");
    for d in &defs {
        d.check().unwrap_or_else(|e| panic!("{}: {e}", d.key));
    }
}

#[test]
fn each_file_is_named_after_its_key_and_says_what_a_record_is() {
    let mut n = 0;
    for (path, source) in text_files("ledgers/").filter(|(p, _)| p.ends_with(".toml")) {
        let def = LedgerDef::from_toml(source).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(path, format!("ledgers/{}.toml", def.key));
        let first = source.lines().next().unwrap_or_default();
        assert!(first.starts_with("# ") && first.contains('：'), "{path}: first line should say what one record is");
        n += 1;
    }
    assert!(n >= EXPECTED.len());
}

#[test]
fn definitions_follow_the_catalogue_conventions() {
    for d in all().values() {
        let k = &d.key;
        assert!(GROUPS.contains(&d.group.as_str()), "{k}: group {}", d.group);
        assert!(!d.natural_key.is_empty(), "{k}: a re-import needs a natural key");
        if d.subject == SubjectKind::None {
            assert!(!d.natural_key.iter().any(|f| f == "subject"), "{k}: no subject to key on");
        }
        // The field that puts a record into a period must always be filled.
        let time_field = match &d.time {
            TimeModel::Event { field } => field,
            TimeModel::Standing { start, .. } => start,
        };
        assert!(d.field(time_field).is_some_and(|f| f.required), "{k}: {time_field} must be required");
        // Every header an import may meet means one field only.
        let mut headers: BTreeMap<&str, &str> = BTreeMap::new();
        for f in &d.fields {
            for h in std::iter::once(&f.label).chain(&f.aliases) {
                if let Some(other) = headers.insert(h, &f.key) {
                    panic!("{k}: header 「{h}」 means both {other} and {}", f.key);
                }
            }
            if matches!(f.format, Some(TextFormat::IdNumber | TextFormat::Phone)) {
                assert_eq!(f.sensitivity, Some(Sensitivity::IdNumber), "{k}.{} must be masked", f.key);
            }
            if f.kind == FieldKind::Decimal {
                assert!(!f.unit.is_empty(), "{k}.{}: a decimal needs its unit", f.key);
            }
            if f.key.ends_with("account_no") {
                assert_eq!(f.sensitivity, Some(Sensitivity::IdNumber), "{k}.{}: bank account", f.key);
            }
        }
    }
    let kp = ledger("key_population");
    assert!(kp.fields.iter().any(|f| f.sensitivity == Some(Sensitivity::KeyPopulation)));
    assert!(kp.fields.iter().any(|f| f.sensitivity == Some(Sensitivity::Health)));
}

#[test]
fn expected_figures_are_told_apart_from_actual_ones() {
    for key in ["tourism_receptions", "tourism_income"] {
        let basis = ledger(key).field("basis").cloned().expect("basis");
        assert_eq!(basis.kind, FieldKind::Enum);
        assert!(basis.required);
        assert_eq!(basis.options, ["实际", "预计"]);
    }
    assert!(ledger("insurance_contributions").concerns_year, "医保 for next year is collected this year");
}

fn state_labels(d: &LedgerDef) -> Vec<String> {
    d.workflow.as_ref().expect("workflow").states.iter().map(|s| s.label.clone()).collect()
}

#[test]
fn the_required_workflows_exist_with_their_states() {
    let cases: [(&str, &[&str]); 4] = [
        ("monitoring", &["识别·入户核实", "帮扶中", "消除·县级审定", "风险消除"]),
        ("disputes", &["受理", "调处中", "已化解", "移交上级"]),
        ("hazards", &["发现", "整改中", "已整改", "复查销号"]),
        ("projects", &["谋划", "立项", "在建", "完工", "验收"]),
    ];
    for (key, expected) in cases {
        let d = ledger(key);
        let labels = state_labels(&d);
        for l in expected {
            assert!(labels.iter().any(|x| x == l), "{key}: no state {l} in {labels:?}");
        }
        let wf = d.workflow.as_ref().expect("workflow");
        assert_eq!(wf.state_label(&wf.initial), expected[0], "{key}: initial state");
        for t in &wf.transitions {
            assert!(!t.roles.is_empty(), "{key}.{}: roles", t.key);
        }
    }

    let disputes = ledger("disputes");
    let opts = |d: &LedgerDef, f: &str| d.field(f).map(|f| f.options.clone()).unwrap_or_default();
    assert_eq!(opts(&disputes, "difficulty"), ["简单", "复杂", "疑难"]);
    assert_eq!(opts(&disputes, "risk_colour"), ["蓝", "黄", "红"]);
    for f in ["parties", "followup_on", "followup_result"] {
        assert!(disputes.field(f).is_some(), "disputes.{f}");
    }

    let hazards = ledger("hazards");
    assert_eq!(opts(&hazards, "level"), ["一般", "重大"]);
    for i in ["燃气", "烟花爆竹", "交通", "消防", "建筑施工", "地质灾害", "其他"] {
        assert!(opts(&hazards, "industry").iter().any(|o| o == i), "hazards.industry {i}");
    }
    for f in ["rectify_person", "rectify_deadline", "rectify_measures", "rectify_standard", "rectify_funds", "rectify_staff"] {
        assert!(hazards.field(f).is_some(), "hazards.{f} (五定)");
    }
    let deadline = hazards.workflow.as_ref().expect("workflow").deadlines.first().cloned().expect("a deadline");
    assert_eq!(deadline.field.as_deref(), Some("rectify_deadline"));
    assert_eq!(deadline.states, ["found", "rectifying"]);

    let projects = ledger("projects");
    let kind = |f: &str| projects.field(f).map(|f| f.kind);
    assert_eq!(kind("quantity"), Some(FieldKind::Integer));
    assert_eq!(kind("count_unit"), Some(FieldKind::Enum));
    assert_eq!(kind("budget"), Some(FieldKind::Money));
    assert_eq!(kind("expected_benefit"), Some(FieldKind::Money));
    assert_eq!(kind("progress"), Some(FieldKind::Integer));
    assert_eq!(kind("funding_sources"), Some(FieldKind::MultiEnum));
    for f in ["planned_start", "planned_end", "actual_start", "actual_end"] {
        assert_eq!(kind(f), Some(FieldKind::Date), "projects.{f}");
    }
    for c in ["人居环境和美乡村示范片", "农村公路", "农村安全饮水", "小型基础设施", "中药材产业", "村集体经济", "新增粮食产能", "古村落改造"] {
        assert!(opts(&projects, "category").iter().any(|o| o == c), "projects.category {c}");
    }
}

/// A household ready for elimination on 2023-12-01 under a 2023 line of 7 000 元.
fn eligible() -> Values {
    values(&[
        ("identified_on", Value::Date(date(2023, 1, 10))),
        ("income_stable_since", Value::Date(date(2023, 1, 1))),
        ("per_capita_income", Value::Int(900_000)),
        ("three_guarantees_secure", Value::Bool(true)),
        ("measures", list(&["产业帮扶", "公益岗位"])),
        ("labour_capacity", text("有劳动力")),
        ("eliminated_on", Value::Date(date(2023, 11, 30))),
    ])
}

fn line() -> Settings {
    Settings::from([(("monitoring_line".to_string(), 2023), 700_000)])
}

#[test]
fn monitoring_refuses_elimination_that_breaks_the_rules() {
    let d = ledger("monitoring");
    let on = date(2023, 12, 1);
    let clerk = user(Role::Clerk);
    let approve = |state: &str, actor: &Actor, v: &Values| {
        check_transition(&d, state, "eliminate_approve", actor, v, on, &line()).map(|t| t.to.clone())
    };

    assert_eq!(approve("eliminate_county", &clerk, &eligible()).expect("eligible"), "eliminated");

    let mut early = eligible();
    early.insert("identified_on".into(), Value::Date(date(2023, 8, 1)));
    assert!(refusal(approve("eliminate_county", &clerk, &early)).contains("纳入监测未满 6 个月"));

    let mut unstable = eligible();
    unstable.insert("income_stable_since".into(), Value::Date(date(2023, 9, 1)));
    assert!(refusal(approve("eliminate_county", &clerk, &unstable)).contains("收入稳定未满 6 个月"));

    let mut poor = eligible();
    poor.insert("per_capita_income".into(), Value::Int(650_000));
    assert!(refusal(approve("eliminate_county", &clerk, &poor)).contains("监测标准"));
    assert!(refusal(check_transition(&d, "eliminate_county", "eliminate_approve", &clerk, &eligible(), on, &Settings::new()))
        .contains("未设置2023年度"));

    let mut no_measure = eligible();
    no_measure.insert("measures".into(), list(&[]));
    assert!(refusal(approve("eliminate_county", &clerk, &no_measure)).contains("未落实帮扶措施"));
    no_measure.insert("risk_naturally_gone".into(), Value::Bool(true));
    assert!(approve("eliminate_county", &clerk, &no_measure).is_ok(), "风险自然消除 needs no measure");

    let mut no_labour = eligible();
    no_labour.insert("labour_capacity".into(), text("无劳动力"));
    assert!(refusal(approve("eliminate_county", &clerk, &no_labour)).contains("无劳动力"));

    let mut insecure = eligible();
    insecure.insert("three_guarantees_secure".into(), Value::Bool(false));
    assert!(refusal(approve("eliminate_county", &clerk, &insecure)).contains("三保障"));

    for role in [Role::Leader, Role::VillageCadre, Role::Admin] {
        assert!(refusal(approve("eliminate_county", &user(role), &eligible())).contains("只能由"), "{role:?}");
    }
    assert!(refusal(approve("assisting", &clerk, &eligible())).contains("当前状态为「帮扶中」"));

    let mut undated = eligible();
    undated.remove("eliminated_on");
    assert_eq!(missing_fields(approve("eliminate_county", &clerk, &undated)), BTreeSet::from(["eliminated_on".to_string()]));

    // Starting elimination: a village cadre may, on the same rules.
    let start = |actor: &Actor, v: &Values| check_transition(&d, "assisting", "eliminate_start", actor, v, on, &line());
    assert!(start(&user(Role::VillageCadre), &eligible()).is_ok());
    assert!(refusal(start(&user(Role::VillageCadre), &early)).contains("纳入监测未满 6 个月"));
    assert!(refusal(start(&user(Role::Leader), &eligible())).contains("只能由"));
}

fn hazard(level: &str) -> Values {
    values(&[
        ("found_on", Value::Date(date(2023, 6, 5))),
        ("industry", text("燃气")),
        ("level", text(level)),
        ("location", text("某村某组")),
        ("description", text("液化气钢瓶与灶具软管老化")),
        ("rectify_person", text("张某")),
        ("rectify_deadline", Value::Date(date(2023, 6, 30))),
        ("rectify_measures", text("更换软管，加装报警器")),
        ("rectify_standard", text("符合燃气安全规范")),
        ("rectified_on", Value::Date(date(2023, 6, 20))),
    ])
}

#[test]
fn hazards_are_closed_only_after_review() {
    let d = ledger("hazards");
    let on = date(2023, 7, 1);
    let clerk = user(Role::Clerk);
    let go = |state: &str, key: &str, actor: &Actor, v: &Values| {
        check_transition(&d, state, key, actor, v, on, &Settings::new()).map(|t| t.to.clone())
    };

    let unreviewed = hazard("重大");
    assert_eq!(
        missing_fields(go("rectified", "close", &clerk, &unreviewed)),
        BTreeSet::from(["review_on".to_string(), "reviewer".to_string()])
    );
    let mut reviewer_only = hazard("重大");
    reviewer_only.insert("reviewer".into(), Value::Int(3));
    assert_eq!(missing_fields(go("rectified", "close", &clerk, &reviewer_only)), BTreeSet::from(["review_on".to_string()]));

    let mut reviewed = hazard("重大");
    reviewed.insert("review_on".into(), Value::Date(date(2023, 6, 28)));
    reviewed.insert("reviewer".into(), Value::Int(3));
    assert_eq!(go("rectified", "close", &clerk, &reviewed).expect("reviewed"), "closed");
    assert!(refusal(go("rectified", "close", &user(Role::VillageCadre), &reviewed)).contains("只能由"));
    assert!(refusal(go("rectifying", "close", &clerk, &reviewed)).contains("当前状态为「整改中」"));

    // A 重大隐患 goes through 五定; a 一般隐患 may be fixed on the spot.
    assert!(refusal(go("found", "fix_on_spot", &clerk, &hazard("重大"))).contains("重大隐患"));
    assert_eq!(go("found", "fix_on_spot", &clerk, &hazard("一般")).expect("一般"), "rectified");
    let mut no_plan = hazard("重大");
    no_plan.remove("rectify_deadline");
    no_plan.remove("rectify_person");
    assert_eq!(
        missing_fields(go("found", "assign", &clerk, &no_plan)),
        BTreeSet::from(["rectify_deadline".to_string(), "rectify_person".to_string()])
    );
    assert_eq!(go("found", "assign", &user(Role::VillageCadre), &hazard("重大")).expect("assign"), "rectifying");

    // Past its 整改期限 an open hazard is overdue; a closed one never is.
    let wf = d.workflow.as_ref().expect("workflow");
    let open = overdue(wf, "rectifying", &hazard("重大"), date(2023, 6, 5), date(2023, 7, 5));
    assert!(open.is_some_and(|m| m.contains("整改期限")));
    assert!(overdue(wf, "rectifying", &hazard("重大"), date(2023, 6, 5), date(2023, 6, 29)).is_none());
    assert!(overdue(wf, "closed", &hazard("重大"), date(2023, 6, 5), date(2023, 7, 5)).is_none());
}

#[test]
fn disputes_and_projects_follow_their_steps() {
    let on = date(2023, 9, 1);
    let d = ledger("disputes");
    let v = values(&[("mediator", Value::Int(2))]);
    let go = |state: &str, key: &str, actor: &Actor, v: &Values| {
        check_transition(&d, state, key, actor, v, on, &Settings::new()).map(|t| t.to.clone())
    };
    assert_eq!(go("accepted", "start_mediation", &user(Role::VillageCadre), &v).expect("mediate"), "mediating");
    assert_eq!(
        missing_fields(go("mediating", "resolve", &user(Role::VillageCadre), &v)),
        BTreeSet::from(["agreement".to_string(), "resolved_on".to_string()])
    );
    let moved = values(&[("transferred_to", text("县矛盾纠纷调处中心")), ("transferred_on", Value::Date(on))]);
    assert!(refusal(go("mediating", "transfer", &user(Role::VillageCadre), &moved)).contains("只能由"));
    assert_eq!(go("mediating", "transfer", &user(Role::Leader), &moved).expect("transfer"), "transferred");

    let p = ledger("projects");
    let go = |state: &str, key: &str, v: &Values| {
        check_transition(&p, state, key, &user(Role::Clerk), v, on, &Settings::new()).map(|t| t.to.clone())
    };
    assert_eq!(
        missing_fields(go("planning", "approve", &values(&[("budget", Value::Int(14_632_000))]))),
        BTreeSet::from(["approved_on".to_string(), "planned_end".to_string(), "planned_start".to_string()])
    );
    assert_eq!(missing_fields(go("approved", "start", &Values::new())), BTreeSet::from(["actual_start".to_string()]));
    assert_eq!(go("building", "complete", &values(&[("actual_end", Value::Date(on))])).expect("complete"), "completed");
    assert!(refusal(go("planning", "complete", &values(&[("actual_end", Value::Date(on))]))).contains("当前状态为「谋划」"));
}

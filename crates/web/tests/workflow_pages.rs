//! The record page as a guide through its workflow and its history (issue 19, items 1 and 5),
//! on SQLite and PostgreSQL: a refused step keeps what was typed in its own form, with each
//! message beside its field in plain Chinese ("请先填写…" for an empty field, the rule only when
//! filled and failing), the edit form untouched; the step says before sending what it needs;
//! the page shows where the record stands; the history shows 旧值 → 新值 masked for a 村干部;
//! a stale edit names who changed what and when in Beijing time and keeps the user's input.

mod common;

use chrono::Datelike;
use common::{both, Server};
use taizhang_domain::masking::{Class, Policy};
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_storage::{households, ledgers, records, settings, Scope};

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// A monitoring case of a household of 坪溪村 in 帮扶中, identified eight months ago, with
/// income, 三保障 and a measure recorded but no 收入稳定起始日期; this year's line is set.
fn monitoring_case(s: &Server) -> i64 {
    let clerk = Actor::User { id: s.world.users["clerk"], username: "clerk".into(), role: Role::Clerk, place_id: s.world.village_a };
    let db = s.db.clone();
    let village = s.world.village_a;
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        let all = Scope::all();
        let year = today().year();
        settings::set(&mut tx, &Actor::System, "monitoring_line", year, 700_000).await.expect("line");
        let m = ledgers::get(&mut tx, "monitoring").await.expect("monitoring");
        let h = households::create(&mut tx, &Actor::System, &all, "4312241102010009", village).await.expect("household");
        let identified = today().checked_sub_months(chrono::Months::new(8)).expect("date");
        let values: Values = [
            ("category", Value::Text("边缘易致贫户".into())),
            ("risk_types", Value::List(vec!["因病".into()])),
            ("household_size", Value::Int(3)),
            ("identified_on", Value::Date(identified)),
            ("per_capita_income", Value::Int(900_000)),
            ("labour_capacity", Value::Text("有劳动力".into())),
            ("three_guarantees_secure", Value::Bool(true)),
            ("measures", Value::List(vec!["产业帮扶".into()])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let input = RecordInput { subject_id: Some(h.id), values, ..Default::default() };
        let mut rec = records::create(&mut tx, &m, &clerk, &all, input, today()).await.expect("create");
        let all_settings = settings::all(&mut tx).await.expect("settings");
        for step in ["identify_publicise", "identify_submit_town", "identify_submit_county", "identify_approve"] {
            rec = records::transition(&mut tx, &m, &clerk, &all, rec.id, rec.row_version, step, Values::new(), identified, &all_settings).await.expect(step);
        }
        tx.commit().await.expect("commit");
        rec.id
    })
}

/// The part of a page from `start` (an opening tag's distinctive text) to the next `end`.
fn section<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page.find(start).unwrap_or_else(|| panic!("no {start} in the page:\n{page}"));
    let rest = &page[from..];
    &rest[..rest.find(end).map_or(rest.len(), |e| e + end.len())]
}

fn stored_text(s: &Server, sql: &str) -> String {
    let db = s.db.clone();
    let sql = sql.to_string();
    s.rt.block_on(async move { db.read().await.expect("read").fetch_one(&sql, &[]).await.expect("query").text(0) })
}

#[test]
fn a_refused_step_keeps_its_values_and_says_what_is_missing_beside_each_field() {
    both(|s| {
        let id = monitoring_case(s);
        let path = format!("/ledgers/monitoring/{id}");
        let mut cadre = s.signed_in("cadre");
        let page = cadre.get(&path).body;
        // Before sending: the step lists what it needs, and what the stored values still lack.
        let step = section(&page, "id=\"t-eliminate_start\"", "</details>");
        assert!(step.contains("办理这一环节须") && step.contains("「收入稳定起始日期」距办理日期满 6 个月"), "{step}");
        assert!(step.contains("按现有数据尚缺：「收入稳定起始日期」请先填写收入稳定起始日期"), "{step}");
        assert!(step.contains("id=\"t-eliminate_start-income_stable_since\""), "the rule's field is on the step's form: {step}");
        // Where the record stands.
        let progress = section(&page, "id=\"progress\"", "</div>");
        assert!(progress.contains("办理进度") && progress.contains("<b>帮扶中</b>"), "{progress}");
        assert!(progress.contains("县级审定通过，纳入监测") && progress.contains("clerk"), "steps done, with who: {progress}");
        assert!(progress.contains("下一步") && progress.contains("启动风险消除（村干部、业务员办理）"), "{progress}");

        // Sent with 收入稳定起始日期 empty and the income retyped.
        let on = today().to_string();
        let base = [("_version", "5"), ("_transition", "eliminate_start"), ("_on", on.as_str()), ("per_capita_income", "9500.00"), ("labour_capacity", "有劳动力"), ("three_guarantees_secure", "是"), ("measures", ""), ("measures", "产业帮扶")];
        let mut form: Vec<(&str, &str)> = base.to_vec();
        form.push(("income_stable_since", ""));
        let r = cadre.post_form(&format!("{path}/transition"), &form);
        assert_eq!(r.status, 422, "{}", r.body);
        let step = section(&r.body, "id=\"t-eliminate_start\"", "</details>");
        assert!(step.contains("id=\"t-eliminate_start\" open"), "the step's form is open: {step}");
        assert!(step.contains("value=\"9500.00\""), "the step keeps what was typed: {step}");
        assert!(
            step.contains("<div class=\"error\" id=\"t-eliminate_start-income_stable_since-error\">请先填写收入稳定起始日期</div>"),
            "the message beside its field, in plain words: {step}"
        );
        assert!(!r.body.contains("收入稳定未满"), "no rule about a field that is empty");
        // The edit form is untouched: what is stored, no message.
        let edit = section(&r.body, "id=\"edit\"", "</form>");
        assert!(edit.contains("value=\"9000.00\"") && !edit.contains("9500.00"), "the edit form shows what is stored: {edit}");
        assert!(!edit.contains("class=\"error\"") && !edit.contains("notice bad"), "no message in the edit form: {edit}");
        assert_eq!(stored_text(s, &format!("SELECT state FROM ld_monitoring WHERE id = {id}")), "assisting");
        assert_eq!(s.scalar(&format!("SELECT per_capita_income FROM ld_monitoring WHERE id = {id}")), 900_000, "nothing saved");

        // Filled but too recent: now the rule, with its dates.
        let recent = today().checked_sub_months(chrono::Months::new(2)).expect("date").to_string();
        let mut form: Vec<(&str, &str)> = base.to_vec();
        form.push(("income_stable_since", &recent));
        let r = cadre.post_form(&format!("{path}/transition"), &form);
        assert_eq!(r.status, 422, "{}", r.body);
        let step = section(&r.body, "id=\"t-eliminate_start\"", "</details>");
        let error = section(step, "id=\"t-eliminate_start-income_stable_since-error\"", "</div>");
        assert!(error.contains(&format!("收入稳定未满 6 个月（自 {recent} 起算")), "{error}");
        assert!(step.contains(&format!("value=\"{recent}\"")), "{step}");

        // Six months and more: the step is made.
        let stable = today().checked_sub_months(chrono::Months::new(7)).expect("date").to_string();
        let mut form: Vec<(&str, &str)> = base.to_vec();
        form.push(("income_stable_since", &stable));
        let r = cadre.post_form(&format!("{path}/transition"), &form);
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(stored_text(s, &format!("SELECT state FROM ld_monitoring WHERE id = {id}")), "eliminate_visit");
        assert_eq!(s.scalar(&format!("SELECT per_capita_income FROM ld_monitoring WHERE id = {id}")), 950_000);
        let page = cadre.get(&path).body;
        let progress = section(&page, "id=\"progress\"", "</div>");
        assert!(progress.contains("<b>消除·入户核查</b>") && progress.contains("启动风险消除（「帮扶中」→「消除·入户核查」）"), "{progress}");
        let history = section(&page, "id=\"history\"", "</table>");
        assert!(history.contains("收入稳定起始日期：<span class=\"old\">（空）</span> → <span class=\"new\">") && history.contains("9,000.00 元</span> → <span class=\"new\">9,500.00 元"), "{history}");
    });
}

#[test]
fn history_shows_old_and_new_values_masked_for_a_village_cadre() {
    both(|s| {
        let path = format!("/ledgers/key_population/{}", s.world.keypop_a);
        let mut clerk = s.signed_in("clerk");
        let r = clerk.post_form(&path, &[("_version", "1"), ("guardian_phone", "13812345678")]);
        assert_eq!(r.status, 303, "{}", r.body);
        let r = clerk.post_form(&path, &[("_version", "2"), ("guardian_phone", "13987654321")]);
        assert_eq!(r.status, 303, "{}", r.body);
        // The clerk sees the numbers in full…
        let page = clerk.get(&path).body;
        let history = section(&page, "id=\"history\"", "</table>");
        assert!(history.contains("监护人电话：<span class=\"old\">13812345678</span> → <span class=\"new\">13987654321</span>"), "{history}");
        // …the 村干部 masked, old and new.
        let masked = |n: &str| Policy::for_role(Role::VillageCadre).reveal(Class::Phone, n).unwrap_or_default();
        let (old, new) = (masked("13812345678"), masked("13987654321"));
        assert!(old != "13812345678" && !old.is_empty(), "the policy masks phones for a 村干部: {old}");
        let page = s.signed_in("cadre").get(&path).body;
        let history = section(&page, "id=\"history\"", "</table>");
        assert!(history.contains(&format!("监护人电话：<span class=\"old\">{old}</span> → <span class=\"new\">{new}</span>")), "{history}");
        assert!(!page.contains("13812345678") && !page.contains("13987654321"), "no number in full anywhere on the page");
        // A void says its reason.
        let r = clerk.post_form(&format!("{path}/void"), &[("_version", "3"), ("reason", "重复录入")]);
        assert_eq!(r.status, 303, "{}", r.body);
        let page = clerk.get(&path).body;
        assert!(section(&page, "id=\"history\"", "</table>").contains("作废原因：重复录入"));
    });
}

#[test]
fn a_stale_edit_names_who_changed_what_in_beijing_time_and_keeps_the_input() {
    both(|s| {
        let path = format!("/ledgers/hazards/{}", s.world.hazard_a);
        // The clerk saves first.
        let mut clerk = s.signed_in("clerk");
        let r = clerk.post_form(&path, &[("_version", "1"), ("location", "坪溪村4组")]);
        assert_eq!(r.status, 303, "{}", r.body);
        // The 村干部 sends what they typed on the page they opened before.
        let mut cadre = s.signed_in("cadre");
        let r = cadre.post_form(&path, &[("_version", "1"), ("location", "坪溪村5组"), ("description", "燃气管老化，阀门锈蚀")]);
        assert_eq!(r.status, 409, "{}", r.body);
        let notice = section(&r.body, "id=\"edit-error\"", "</div>");
        let at = stored_text(s, &format!("SELECT updated_at FROM ld_hazards WHERE id = {}", s.world.hazard_a));
        let utc = chrono::DateTime::parse_from_rfc3339(&at).expect("stored instant");
        let beijing = utc.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"));
        assert!(notice.contains("已被「clerk」") && notice.contains(&format!("于 {}（北京时间）", beijing.format("%Y-%m-%d %H:%M:%S"))), "{notice}");
        assert!(!notice.contains(&utc.format("%Y-%m-%d %H:%M:%S").to_string()), "not in UTC: {notice}");
        assert!(notice.contains("改了「隐患地点」") && notice.contains("版本 1 → 2"), "says what changed: {notice}");
        assert!(notice.contains("您填写的内容仍在下面的表单中") && !notice.contains("刷新"), "no reload that would lose the input: {notice}");
        let edit = section(&r.body, "id=\"edit\"", "</form>");
        assert!(edit.contains("value=\"坪溪村5组\"") && edit.contains("燃气管老化，阀门锈蚀"), "the input is kept: {edit}");
        assert!(edit.contains("现在保存的是：坪溪村4组"), "beside the field, what is stored now: {edit}");
        assert!(edit.contains("name=\"_version\" value=\"2\""), "ready to send again on the current version: {edit}");
        // A step sent from an old version: its form keeps what was typed, on the current version.
        let r = cadre.post_form(&format!("{path}/transition"), &[("_version", "1"), ("_transition", "fix_on_spot"), ("rectified_on", "2023-1-6")]);
        assert_eq!(r.status, 409, "{}", r.body);
        let step = section(&r.body, "id=\"t-fix_on_spot\"", "</details>");
        assert!(step.contains("已被「clerk」") && step.contains("您在这一环节填写的内容仍在下面") && step.contains("value=\"2023-1-6\""), "{step}");
        assert!(step.contains("name=\"_version\" value=\"2\""), "{step}");
        // Sent again as it stands: saved.
        let r = cadre.post_form(&path, &[("_version", "2"), ("location", "坪溪村5组"), ("description", "燃气管老化，阀门锈蚀")]);
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(stored_text(s, &format!("SELECT location FROM ld_hazards WHERE id = {}", s.world.hazard_a)), "坪溪村5组");
    });
}

#[test]
fn the_progress_shows_the_deadline_of_the_current_state() {
    both(|s| {
        let path = format!("/ledgers/hazards/{}", s.world.hazard_a);
        let mut cadre = s.signed_in("cadre");
        let page = cadre.get(&path).body;
        let step = section(&page, "id=\"t-assign\"", "</details>");
        assert!(step.contains("办理这一环节须：</b>填写「整改责任人」；填写「整改期限」"), "{step}");
        assert!(step.contains("按现有数据尚缺：未填写「整改责任人」「整改期限」「整改措施」「整改标准」"), "{step}");
        assert!(step.contains("<i class=\"req\">*</i>整改期限"), "the step's required fields are marked: {step}");
        let due = chrono::NaiveDate::from_ymd_opt(today().year(), 1, 16).expect("date");
        let r = cadre.post_form(
            &format!("{path}/transition"),
            &[("_version", "1"), ("_transition", "assign"), ("rectify_person", "张师傅"), ("rectify_deadline", &due.to_string()), ("rectify_measures", "更换燃气管"), ("rectify_standard", "符合燃气安全规范")],
        );
        assert_eq!(r.status, 303, "{}", r.body);
        let page = cadre.get(&path).body;
        let progress = section(&page, "id=\"progress\"", "</div>");
        let left = (due - today()).num_days();
        let when = if left < 0 { format!("已逾期 {} 天", -left) } else if left == 0 { "今天到期".to_string() } else { format!("还有 {left} 天") };
        assert!(progress.contains(&format!("整改期限：{due}，{when}")), "{progress}");
        assert!(progress.contains("<b>整改中</b>") && progress.contains("整改完成（业务员、村干部办理）"), "{progress}");
        assert!(progress.contains("下达整改（落实五定）（「发现」→「整改中」）"), "{progress}");
    });
}

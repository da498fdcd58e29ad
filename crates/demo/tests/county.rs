//! The county-scale path: a town generated from the same description with the bulk registry
//! writes, renamed and recoded, gives the same figures as the description says (here at scale
//! 1, so they are the seed's, less the planted anomalies).

use taizhang_demo::county::scaled;
use taizhang_demo::{build_with, DemoSpec, Options, PersonGen, YEAR};
use taizhang_reports::{eval, indicator, Context};
use taizhang_storage::testkit::TestDb;
use taizhang_storage::{ledgers, Engine, Scope};

#[tokio::test]
async fn a_scaled_town_with_bulk_registry_writes_counts_like_the_description() {
    let t = TestDb::new(Engine::Sqlite)
        .await
        .expect("db")
        .expect("sqlite");
    let spec = DemoSpec::builtin("beidouxi").expect("spec");
    let one = scaled(&spec, "东溪镇", "431224101000", 1, 7);
    let mut gen = PersonGen::new(7);
    let mut tx = t.db.begin().await.expect("begin");
    let built = build_with(
        &mut tx,
        &one,
        &mut gen,
        Options {
            bulk_registry: true,
        },
    )
    .await
    .expect("build");
    tx.commit().await.expect("commit");
    assert_eq!(built.town_name, "东溪镇");
    assert_eq!(built.households, 2700);
    assert!(built.planted_records.is_empty() && built.planted_persons.is_empty());

    let mut tx = t.db.read().await.expect("read");
    let heads = tx
        .fetch_one(
            "SELECT COUNT(*) FROM households WHERE head_person_id IS NULL",
            &[],
        )
        .await
        .expect("q")
        .int(0);
    assert_eq!(heads, 0, "every household has its head");
    let members = tx
        .fetch_one(
            "SELECT COUNT(*) FROM persons WHERE household_id IS NOT NULL",
            &[],
        )
        .await
        .expect("q")
        .int(0);
    assert_eq!(usize::try_from(members).unwrap_or(0), built.persons);
    // Persons registered together are audited by runs of ids, as an import's are: together
    // the runs cover every person once.
    let audited = tx
        .fetch_one(
            "SELECT COALESCE(SUM(COALESCE(last_entity_id, entity_id) - entity_id + 1), 0) FROM audit WHERE entity = 'persons' AND action = 'create'",
            &[],
        )
        .await
        .expect("q")
        .int(0);
    assert_eq!(
        usize::try_from(audited).unwrap_or(0),
        built.persons,
        "every person covered by an audit entry"
    );
    let defs = ledgers::all(&mut tx).await.expect("ledgers");
    let ctx = Context::year(YEAR, Scope::all());
    let inds = indicator::builtin().expect("indicators");
    let value = |key: &str| inds.iter().find(|i| i.key == key).cloned().expect(key);
    for (key, expected) in [
        ("poverty_households", 1330),
        ("poverty_people", 4785),
        ("destitute_households", 206),
        ("destitute_people", 207),
        ("comprehensive_visit_people", 3324),
    ] {
        let ind = value(key);
        let f = eval::evaluate(
            &mut tx,
            &ind,
            eval::ledger_of(&ind, &defs).expect("ledger"),
            &ctx,
        )
        .await
        .expect("evaluate");
        assert_eq!(f.value, expected, "{key}");
    }
}

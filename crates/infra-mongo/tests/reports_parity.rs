//! Report parity between the SQLite and MongoDB adapters on one large ledger.
//!
//! The contract suite proves each report on a handful of movements; this test asks whether the
//! two stores still agree when the ledger is big and awkward: more than ten thousand movements
//! of two tenants at two locations each, with timestamps on and one millisecond beside local
//! midnights and hours of days whose clocks change (Europe/Berlin and America/New_York, spring
//! and autumn 2026). The
//! ledger is generated from a fixed seed (`plan`), written identically into a fresh in-memory
//! SQLite store and a fresh MongoDB database (`load`), and then every report port method is
//! asked the same questions of both — with bucket boundaries computed by the domain, exactly as
//! `ReportService` computes them. Each pair of answers must be equal, and equal to the answer
//! computed from the plan by plain iteration (`reference`), so both stores cannot be wrong the
//! same way.
//!
//! Without `STOCKROOM_TEST_MONGO_URL` the test is skipped loudly, and fails in CI.

#[path = "common/mod.rs"]
mod common;
#[path = "reports_parity/load.rs"]
mod load;
#[path = "reports_parity/pair.rs"]
mod pair;
#[path = "reports_parity/plan.rs"]
mod plan;
#[path = "reports_parity/reference.rs"]
mod reference;

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use contract_tests::Stores;
use domain::ids::{TenantId, VariantId};
use domain::reports::buckets::{boundaries, Bucket};
use domain::reports::models::SeriesFilter;
use domain::stock::models::MovementKind;
use infra_sqlite::SqliteStore;

use common::TestDb;
use pair::{agree, Pair};
use plan::{autumn, clock_changes, spring, utc, zones, Plan};

const KINDS: [MovementKind; 4] = [
    MovementKind::Purchase,
    MovementKind::Sale,
    MovementKind::Adjustment,
    MovementKind::Return,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_agree_between_sqlite_and_mongodb_on_a_large_ledger() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let started = Instant::now();
    let plan = plan::generate();
    check_the_plan_is_demanding(&plan);
    let generated = started.elapsed();

    let sqlite = Stores::of(
        SqliteStore::open("sqlite::memory:")
            .await
            .expect("open SQLite"),
    );
    let mongo = Stores::of(db.store.clone());
    let timed_load = |stores: Stores| {
        let plan = &plan;
        async move {
            let started = Instant::now();
            load::load(&stores, plan).await;
            started.elapsed()
        }
    };
    let (sqlite_load, mongo_load) =
        tokio::join!(timed_load(sqlite.clone()), timed_load(mongo.clone()));

    let mut pair = Pair {
        sqlite,
        mongo,
        sqlite_time: Default::default(),
        mongo_time: Default::default(),
        questions: 0,
    };
    series_agree(&mut pair, &plan).await;
    low_stock_agrees(&mut pair, &plan).await;
    top_movers_agree(&mut pair, &plan).await;
    valuation_agrees(&mut pair, &plan).await;
    stock_at_agrees(&mut pair, &plan).await;

    common::loud(&format!(
        "report parity: {} movements in {} commits, generated in {generated:.2?}; loaded into \
         SQLite in {sqlite_load:.2?} and MongoDB in {mongo_load:.2?}; {} questions answered by \
         SQLite in {:.2?} and by MongoDB in {:.2?}; {:.2?} in all",
        plan.movements.len(),
        plan.commits.len(),
        pair.questions,
        pair.sqlite_time,
        pair.mongo_time,
        started.elapsed(),
    ));
    db.drop().await;
}

/// The plan is only a good test if it is big and covers what the stores could get wrong.
fn check_the_plan_is_demanding(plan: &Plan) {
    assert!(
        plan.movements.len() >= 10_000,
        "{} movements",
        plan.movements.len()
    );
    for t in &plan.tenants {
        for kind in KINDS {
            let n = plan
                .movements
                .iter()
                .filter(|m| m.tenant == t.id && m.kind == kind)
                .count();
            assert!(n > 100, "only {n} {kind:?} movements of a tenant");
        }
    }
    let costless = plan
        .movements
        .iter()
        .filter(|m| m.kind == MovementKind::Purchase && m.unit_cost.is_none())
        .count();
    assert!(costless > 50, "purchases without a unit cost: {costless}");
    let berlin_edges = boundaries(
        utc("2026-03-28T00:00:00Z"),
        utc("2026-03-31T00:00:00Z"),
        Bucket::Day,
        &chrono_tz::Europe::Berlin,
    )
    .unwrap();
    let on_edge = plan
        .movements
        .iter()
        .filter(|m| {
            berlin_edges.contains(&m.at)
                || berlin_edges.contains(&(m.at + Duration::milliseconds(1)))
        })
        .count();
    assert!(
        on_edge > 5,
        "movements on or beside Berlin's midnights: {on_edge}"
    );
}

/// Variant, product and location filters of a tenant worth asking about: none, two variants
/// (one moved or deleted where the tenant has one), every product, a variant with its new
/// product, each location, and a variant at the second location.
fn filters(plan: &Plan, tenant: TenantId) -> Vec<SeriesFilter> {
    let t = plan.tenant(tenant);
    let mut variants: Vec<VariantId> = vec![t.variants[0].id];
    for special in [plan.moved.1, plan.deleted.1] {
        if t.variants.iter().any(|v| v.id == special) {
            variants.push(special);
        }
    }
    let mut all = vec![SeriesFilter::default()];
    all.extend(variants.iter().map(|v| SeriesFilter {
        variant_id: Some(*v),
        ..Default::default()
    }));
    all.extend(t.products.iter().map(|p| SeriesFilter {
        product_id: Some(p.id),
        ..Default::default()
    }));
    if tenant == plan.moved.0 {
        all.push(SeriesFilter {
            variant_id: Some(plan.moved.1),
            product_id: Some(plan.moved.2),
            ..Default::default()
        });
    }
    all.extend(t.locations.iter().map(|l| SeriesFilter {
        location_id: Some(*l),
        ..Default::default()
    }));
    all.push(SeriesFilter {
        variant_id: Some(variants[0]),
        location_id: Some(t.locations[1]),
        ..Default::default()
    });
    all
}

async fn series_agree(pair: &mut Pair, plan: &Plan) {
    let windows: Vec<(Bucket, DateTime<Utc>, DateTime<Utc>)> = vec![
        (
            Bucket::Hour,
            utc("2026-03-01T00:00:00Z"),
            utc("2026-04-01T00:00:00Z"),
        ),
        (
            Bucket::Hour,
            utc("2026-10-24T00:00:00Z"),
            utc("2026-11-03T00:00:00Z"),
        ),
        (Bucket::Day, spring().0, spring().1),
        (Bucket::Day, autumn().0, autumn().1),
        (
            Bucket::Day,
            utc("2026-03-07T12:00:00Z"),
            utc("2026-03-09T12:00:00Z"),
        ),
        (
            Bucket::Day,
            utc("2026-03-28T12:00:00Z"),
            utc("2026-03-30T12:00:00Z"),
        ),
        (
            Bucket::Day,
            utc("2026-10-24T12:00:00Z"),
            utc("2026-10-26T12:00:00Z"),
        ),
        (
            Bucket::Day,
            utc("2026-10-31T15:00:00Z"),
            utc("2026-11-02T15:00:00Z"),
        ),
        (
            Bucket::Week,
            utc("2026-02-01T00:00:00Z"),
            utc("2026-11-30T00:00:00Z"),
        ),
    ];
    let mut counted = 0;
    for tz in zones() {
        for (bucket, from, to) in &windows {
            let edges = boundaries(*from, *to, *bucket, &tz).expect("bucket boundaries");
            for t in &plan.tenants {
                for filter in filters(plan, t.id) {
                    let (a, b) = pair.series(t.id, &edges, &filter).await;
                    let expected = reference::series(plan, t.id, &edges, &filter);
                    counted += expected.iter().map(|r| r.2).sum::<i64>();
                    let what =
                        format!("{bucket:?} buckets in {tz} over [{from}, {to}) with {filter:?}");
                    agree(&what, a, b, expected);
                }
            }
        }
    }
    assert!(
        counted > 100_000,
        "the series compared only {counted} movements"
    );

    // The clock-change days, by hand: Berlin's 29 March lasts 23 hours and New York's
    // 1 November 25; each is one bucket holding every movement of those local hours.
    for (tz, day_start, day_end) in [
        (
            chrono_tz::Europe::Berlin,
            "2026-03-28T23:00:00Z",
            "2026-03-29T22:00:00Z",
        ),
        (
            chrono_tz::America::New_York,
            "2026-11-01T04:00:00Z",
            "2026-11-02T05:00:00Z",
        ),
    ] {
        let (day_start, day_end) = (utc(day_start), utc(day_end));
        let edges = boundaries(day_start + Duration::hours(1), day_end, Bucket::Day, &tz).unwrap();
        assert_eq!(edges, vec![day_start, day_end], "the {tz} clock-change day");
        for t in &plan.tenants {
            let by_hand: i64 = plan
                .movements
                .iter()
                .filter(|m| m.tenant == t.id && m.at >= day_start && m.at < day_end)
                .count() as i64;
            assert!(by_hand > 0, "no movement on the {tz} clock-change day");
            let (a, b) = pair.series(t.id, &edges, &SeriesFilter::default()).await;
            let total = |rows: &[reference::BucketRow]| rows.iter().map(|r| r.2).sum::<i64>();
            assert_eq!(
                (total(&a), total(&b)),
                (by_hand, by_hand),
                "{tz} clock-change day"
            );
        }
    }
}

async fn low_stock_agrees(pair: &mut Pair, plan: &Plan) {
    let end = autumn().1;
    let mut sellers = 0;
    let mut awaited = 0;
    for since in [
        end - Duration::days(30),
        end - Duration::hours(12),
        clock_changes()[1],
        spring().0,
    ] {
        for t in &plan.tenants {
            for location in [None, Some(t.locations[0]), Some(t.locations[1])] {
                let (a, b) = pair.low_stock(t.id, since, location).await;
                let expected = reference::low_stock(plan, t.id, since, location);
                assert!(!expected.is_empty(), "no low variant at {location:?}");
                sellers += expected.iter().filter(|l| l.1 > 0).count();
                awaited += expected.iter().filter(|l| l.2 > 0).count();
                agree(
                    &format!("low stock since {since} at {location:?}"),
                    a,
                    b,
                    expected,
                );
            }
        }
    }
    assert!(
        sellers > 0 && awaited > 0,
        "low rows with sales: {sellers}, with incoming: {awaited}"
    );
}

async fn top_movers_agree(pair: &mut Pair, plan: &Plan) {
    let windows = [
        (spring().0, autumn().1),
        (utc("2026-03-23T00:00:00Z"), utc("2026-03-30T00:00:00Z")),
        (utc("2026-11-01T04:00:00Z"), utc("2026-11-02T05:00:00Z")),
        (
            clock_changes()[2],
            clock_changes()[2] + Duration::milliseconds(1),
        ),
    ];
    for t in &plan.tenants {
        for kind in KINDS {
            for window in windows {
                for limit in [3, 100] {
                    let (a, b) = pair.top_movers(t.id, kind, window, limit).await;
                    let expected = reference::top_movers(plan, t.id, kind, window, limit as usize);
                    let what = format!(
                        "top {limit} {kind:?} movers in [{}, {})",
                        window.0, window.1
                    );
                    agree(&what, a, b, expected);
                }
            }
        }
    }
}

async fn valuation_agrees(pair: &mut Pair, plan: &Plan) {
    for t in &plan.tenants {
        for location in [None, Some(t.locations[0]), Some(t.locations[1])] {
            let (a, b) = pair.valuation(t.id, location).await;
            let expected = reference::valuation(plan, t.id, location);
            assert_eq!(
                expected.len(),
                t.variants.iter().filter(|v| v.id != plan.deleted.1).count()
            );
            assert!(expected.iter().any(|r| r.purchased_cost > 0));
            assert!(expected.iter().any(|r| r.stock > 0));
            agree(&format!("valuation at {location:?}"), a, b, expected);
        }
    }
}

async fn stock_at_agrees(pair: &mut Pair, plan: &Plan) {
    let mut instants = vec![
        spring().0 - Duration::milliseconds(1),
        utc("2026-07-01T00:00:00Z"),
        autumn().1,
    ];
    for change in clock_changes() {
        instants.extend([change - Duration::milliseconds(1), change]);
    }
    // The instants of a few movements themselves, where `≤` matters.
    instants.extend(plan.movements.iter().step_by(997).map(|m| m.at));
    for t in &plan.tenants {
        for v in &t.variants {
            for at in &instants {
                let (a, b) = pair.stock_at(t.id, v.id, *at, None).await;
                let expected = reference::stock_at(plan, t.id, v.id, *at, None);
                agree(
                    &format!("stock of {} at {at}", v.sku.as_str()),
                    a,
                    b,
                    expected,
                );
            }
            let (a, b) = pair.stock_at(t.id, v.id, autumn().1, None).await;
            agree("stock at the end", a, b, plan.final_stock[&v.id]);
            // Per level, at a few instants: the replay of that location's movements.
            for location in t.locations {
                for at in instants.iter().step_by(3) {
                    let (a, b) = pair.stock_at(t.id, v.id, *at, Some(location)).await;
                    let expected = reference::stock_at(plan, t.id, v.id, *at, Some(location));
                    agree(
                        &format!("stock of {} at {location} at {at}", v.sku.as_str()),
                        a,
                        b,
                        expected,
                    );
                }
                let level = plan.final_levels.get(&(v.id, location)).copied();
                let (a, b) = pair.stock_at(t.id, v.id, autumn().1, Some(location)).await;
                agree("level at the end", a, b, level.unwrap_or(0));
            }
        }
    }
}

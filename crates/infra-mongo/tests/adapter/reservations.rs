//! The reservations repository: reservations written by the ledger read back whole, listed
//! newest first with the status judged at the instant given, and the sweep's query across
//! tenants, earliest expiry first.

use chrono::Duration;
use domain::ids::{LocationId, VariantId};
use domain::pagination::PageRequest;
use domain::reservations::models::{Reservation, ReservationFilter, ReservationStatus};
use domain::reservations::ports::ReservationRepository;
use domain::stock::models::{DocumentWrite, LedgerWrite};
use domain::stock::ports::LedgerRepository;

use crate::support::{collection, now, reservation, Shop, TestDb};

async fn insert(db: &TestDb, r: &Reservation) {
    db.store
        .commit(
            &r.tenant_id,
            LedgerWrite {
                changes: Vec::new(),
                document: DocumentWrite::InsertReservation(r.clone()),
                idempotency: None,
            },
        )
        .await
        .expect("insert the reservation");
}

fn ids<'a>(rs: impl IntoIterator<Item = &'a Reservation>) -> Vec<String> {
    rs.into_iter().map(|r| r.id.to_string()).collect()
}

#[tokio::test]
async fn reservations_read_back_whole_and_list_by_their_status_now() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = &db.store;
    let shop = Shop::open(store, "reservations").await;
    let other = Shop::open(store, "reservations-other").await;
    let (v, at) = (VariantId::new(), shop.main);
    let t = now();
    let of = |status, expires| {
        let mut r = reservation(&shop.tenant, v, at, 2, expires);
        r.status = status;
        r
    };
    // In creation order, so newest first is the reverse.
    let live = of(ReservationStatus::Active, t + Duration::minutes(5));
    let lapsed = of(ReservationStatus::Active, t - Duration::seconds(5));
    let swept = of(ReservationStatus::Expired, t - Duration::seconds(30));
    let mut confirmed = of(ReservationStatus::Confirmed, t + Duration::minutes(5));
    confirmed.order_id = Some(domain::ids::OrderId::new());
    confirmed.reference = None;
    let released = of(ReservationStatus::Released, t - Duration::minutes(1));
    let foreign = {
        let mut r = reservation(&other.tenant, v, other.main, 1, t - Duration::seconds(50));
        r.lines[0].allocations = vec![
            domain::reservations::models::HoldAllocation {
                location_id: other.main,
                quantity: 1,
            },
            domain::reservations::models::HoldAllocation {
                location_id: LocationId::new(),
                quantity: 0,
            },
        ];
        r
    };
    for r in [&live, &lapsed, &swept, &confirmed, &released, &foreign] {
        insert(&db, r).await;
    }

    for r in [&live, &lapsed, &swept, &confirmed, &released] {
        assert_eq!(
            store.get(&shop.tenant, &r.id).await.unwrap().as_ref(),
            Some(r),
            "stored as written, status included"
        );
    }
    assert_eq!(
        store.get(&other.tenant, &foreign.id).await.unwrap(),
        Some(foreign.clone())
    );
    assert_eq!(store.get(&shop.tenant, &foreign.id).await.unwrap(), None);

    let list = |status: Option<ReservationStatus>, page: PageRequest| async move {
        store
            .list(&shop.tenant, &ReservationFilter { status }, t, &page)
            .await
            .unwrap()
    };
    let all = list(None, PageRequest::first(10)).await;
    assert_eq!(
        ids(&all.items),
        ids([&released, &confirmed, &swept, &lapsed, &live])
    );
    assert_eq!(all.next_cursor, None);
    assert_eq!(
        all.items.iter().find(|r| r.id == lapsed.id).unwrap().status,
        ReservationStatus::Active,
        "listed as stored"
    );
    let first = list(None, PageRequest::first(2)).await;
    assert_eq!(ids(&first.items), ids([&released, &confirmed]));
    let cursor = first.next_cursor.expect("more");
    let second = list(
        None,
        PageRequest {
            limit: 2,
            after: Some(cursor.parse().unwrap()),
        },
    )
    .await;
    assert_eq!(ids(&second.items), ids([&swept, &lapsed]));

    let by = |status| list(Some(status), PageRequest::first(10));
    assert_eq!(
        ids(&by(ReservationStatus::Active).await.items),
        ids([&live])
    );
    assert_eq!(
        ids(&by(ReservationStatus::Expired).await.items),
        ids([&swept, &lapsed])
    );
    assert_eq!(
        ids(&by(ReservationStatus::Confirmed).await.items),
        ids([&confirmed])
    );
    assert_eq!(
        ids(&by(ReservationStatus::Released).await.items),
        ids([&released])
    );
    // Judged at the instant asked: a little later the live one has expired too.
    let later = store
        .list(
            &shop.tenant,
            &ReservationFilter {
                status: Some(ReservationStatus::Expired),
            },
            live.expires_at,
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(ids(&later.items), ids([&swept, &lapsed, &live]));

    // The sweep: stored ACTIVE and expired, any tenant, earliest expiry first.
    assert_eq!(
        ids(&store.expired(t, 10).await.unwrap()),
        ids([&foreign, &lapsed])
    );
    assert_eq!(ids(&store.expired(t, 1).await.unwrap()), ids([&foreign]));
    assert_eq!(
        ids(&store.expired(live.expires_at, 10).await.unwrap()),
        ids([&foreign, &lapsed, &live]),
        "expired at the instant its expiry passes"
    );
    assert!(store
        .expired(t - Duration::minutes(1), 10)
        .await
        .unwrap()
        .is_empty());

    // A replacement is guarded by the version.
    let mut next = live.clone();
    next.status = ReservationStatus::Released;
    next.version = 2;
    let stale = LedgerWrite {
        changes: Vec::new(),
        document: DocumentWrite::UpdateReservation {
            reservation: next.clone(),
            expected_version: 2,
        },
        idempotency: None,
    };
    assert!(matches!(
        store.commit(&shop.tenant, stale).await,
        Err(domain::stock::models::LedgerError::Store(
            domain::StoreError::VersionConflict
        ))
    ));
    let foreign_update = LedgerWrite {
        changes: Vec::new(),
        document: DocumentWrite::UpdateReservation {
            reservation: next.clone(),
            expected_version: 1,
        },
        idempotency: None,
    };
    assert!(
        store.commit(&other.tenant, foreign_update).await.is_err(),
        "another tenant cannot replace it"
    );
    store
        .commit(
            &shop.tenant,
            LedgerWrite {
                changes: Vec::new(),
                document: DocumentWrite::UpdateReservation {
                    reservation: next.clone(),
                    expected_version: 1,
                },
                idempotency: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(store.get(&shop.tenant, &live.id).await.unwrap(), Some(next));

    // The tenant's queries lead with the tenant; the sweep's alone does not.
    let indexes: Vec<String> = collection(&db, "reservations")
        .await
        .list_index_names()
        .await
        .unwrap();
    for name in ["tenant_id", "tenant_status_id", "status_expires"] {
        assert!(indexes.contains(&name.to_owned()), "{name} in {indexes:?}");
    }
    db.drop().await;
}

//! Tenant isolation of locations and transfers: another tenant's id finds, lists and changes
//! none of them, and its own default is untouched by anything asked about them.

use domain::ids::{LocationId, TenantId, TransferId};
use domain::locations::models::{Holdings, Location};
use domain::pagination::PageRequest;
use domain::stock::models::{DocumentWrite, LedgerError, MovementFilter};
use domain::transfers::models::{Transfer, TransferFilter, TransferStatus as Tr};
use domain::StoreError;

use crate::fixtures::*;
use crate::Stores;

/// Tenant A with a default location, an annex, stock at both and a transfer between them.
struct Sites {
    a: Shop,
    annex: Location,
    transfer: Transfer,
}

async fn sites_of(s: &Stores) -> Sites {
    let a = shop(s).await;
    let annex = new_location(s, a.id(), "ANNEX").await;
    let v = stocked_variant(s, a.id(), a.main(), &format!("ISO-{}", unique()), 5).await;
    stock_up(s, a.id(), v.id, annex.id, 2).await;
    let transfer = transfer(a.id(), a.main(), annex.id, Tr::Draft, &[(v.id, 1, 0)]);
    insert_transfer(s, a.id(), &transfer).await;
    Sites { a, annex, transfer }
}

/// Nothing, or `NotFound`: either way the tenant learns nothing of the location.
fn invisible<T: std::fmt::Debug>(read: Result<T, StoreError>, nothing: impl Fn(&T) -> bool) {
    match read {
        Ok(found) => assert!(
            nothing(&found),
            "another tenant's location showed {found:?}"
        ),
        Err(StoreError::NotFound) => {}
        Err(other) => panic!("unexpected error: {other:?}"),
    }
}

pub async fn another_tenant_sees_no_location_or_transfer(s: Stores) {
    let (e, b) = (sites_of(&s).await, shop(&s).await);
    let (a, t) = (e.a.id(), b.id());
    let page = PageRequest::first(50);

    for id in [e.a.main(), e.annex.id] {
        assert_eq!(s.locations.get(&t, &id).await.unwrap(), None);
        let levels = s
            .locations
            .levels(&t, &id, &Default::default(), &page)
            .await;
        invisible(levels, |p| p.items.is_empty());
        invisible(s.locations.holdings(&t, &id).await, |h| {
            *h == Holdings::default()
        });
        let at = MovementFilter {
            location_id: Some(id),
            ..Default::default()
        };
        let moved = s.ledger.list_movements(&t, &at, &page).await.unwrap();
        assert!(moved.items.is_empty());
    }
    // B lists its own default only.
    let own = vec![b.default_location.clone()];
    assert_eq!(s.locations.all(&t).await.unwrap(), own);
    assert_eq!(s.locations.list(&t, &page).await.unwrap().items, own);

    assert_eq!(s.transfers.get(&t, &e.transfer.id).await.unwrap(), None);
    let from_a = TransferFilter {
        from_location_id: Some(e.a.main()),
        ..Default::default()
    };
    for filter in [TransferFilter::default(), from_a] {
        let listed = s.transfers.list(&t, &filter, &page).await.unwrap();
        assert!(listed.items.is_empty(), "{filter:?}");
    }

    // A still sees all of it.
    assert_eq!(s.locations.all(&a).await.unwrap().len(), 2);
    assert_eq!(
        s.transfers.get(&a, &e.transfer.id).await.unwrap(),
        Some(e.transfer)
    );
    assert_eq!(s.transfers.get(&a, &TransferId::new()).await.unwrap(), None);
}

pub async fn another_tenant_changes_no_location_or_transfer(s: Stores) {
    let (e, b) = (sites_of(&s).await, shop(&s).await);
    let (a, t) = (e.a.id(), b.id());
    let not_found = |r: Result<(), StoreError>| matches!(r, Err(StoreError::NotFound));

    let mut renamed = e.annex.clone();
    renamed.name = text("Hijacked");
    renamed.active = false;
    assert!(not_found(s.locations.update(&t, &renamed, None).await));
    for id in [e.annex.id, e.a.main()] {
        assert!(not_found(s.locations.make_default(&t, &id, now()).await));
    }
    // The hijacking transfer carries no lines, so nothing but the tenant check can stop it.
    let mut cancelled = e.transfer.clone();
    cancelled.status = Tr::Cancelled;
    cancelled.lines.clear();
    cancelled.version = 2;
    let update = s
        .ledger
        .commit(
            &t,
            document(DocumentWrite::UpdateTransfer {
                transfer: cancelled,
                expected_version: 1,
            }),
        )
        .await;
    assert!(matches!(update, Err(LedgerError::Store(_))), "{update:?}");

    // Everything of A is as it was, and B's default is still B's.
    assert_eq!(
        s.locations.get(&a, &e.annex.id).await.unwrap(),
        Some(e.annex)
    );
    assert_eq!(
        s.locations.get(&a, &e.a.main()).await.unwrap(),
        Some(e.a.default_location.clone())
    );
    assert_eq!(
        s.transfers.get(&a, &e.transfer.id).await.unwrap(),
        Some(e.transfer)
    );
    assert_eq!(defaults(&s, t).await, vec![b.main()]);
}

async fn defaults(s: &Stores, t: TenantId) -> Vec<LocationId> {
    s.locations
        .all(&t)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.is_default)
        .map(|l| l.id)
        .collect()
}

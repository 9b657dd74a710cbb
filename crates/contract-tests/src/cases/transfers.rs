//! Transfers: written through the ledger with the movements of each step, versioned, listed
//! newest first; units shipped and not yet received are in transit — counted at neither end,
//! but keeping their variant from being deleted.

use chrono::Duration;
use domain::ids::{LocationId, TenantId, UserId, VariantId};
use domain::pagination::PageRequest;
use domain::stock::models::{
    DocumentWrite, LedgerError, LedgerWrite, Level, MovementFilter, MovementKind, StockChange,
};
use domain::transfers::models::{Transfer, TransferFilter, TransferStatus as Tr};
use domain::StoreError;

use crate::fixtures::*;
use crate::paging::{all_pages, assert_paged_in_order};
use crate::Stores;

/// The write that ships `draft`: a TRANSFER_OUT of every line at its source, and the transfer
/// as SHIPPED, guarded by its version.
fn ship(draft: &Transfer) -> LedgerWrite {
    let at = now();
    let mut shipped = draft.clone();
    shipped.status = Tr::Shipped;
    shipped.shipped_at = Some(at);
    shipped.updated_at = at;
    shipped.version += 1;
    let mut lines = draft.lines.clone();
    lines.sort_by_key(|l| l.variant_id);
    LedgerWrite {
        changes: lines
            .iter()
            .map(|l| {
                let level = Level::new(l.variant_id, draft.from_location_id);
                StockChange::transfer_out(level, l.quantity, draft.id, UserId::new(), at)
            })
            .collect(),
        document: DocumentWrite::UpdateTransfer {
            transfer: shipped,
            expected_version: draft.version,
        },
        idempotency: None,
    }
}

/// The write that receives `units` of `variant` on `sent` at its destination.
fn receive(sent: &Transfer, variant: VariantId, units: i64) -> LedgerWrite {
    let at = now();
    let mut after = sent.clone();
    let line = after
        .lines
        .iter_mut()
        .find(|l| l.variant_id == variant)
        .expect("the transfer has the line");
    line.received += units;
    after.status = if after.lines.iter().all(|l| l.received == l.quantity) {
        Tr::Received
    } else {
        Tr::PartiallyReceived
    };
    after.updated_at = at;
    after.version += 1;
    let level = Level::new(variant, sent.to_location_id);
    LedgerWrite {
        changes: vec![StockChange::transfer_in(
            level,
            units,
            sent.id,
            UserId::new(),
            at,
        )],
        document: DocumentWrite::UpdateTransfer {
            transfer: after,
            expected_version: sent.version,
        },
        idempotency: None,
    }
}

/// The transfer a write leaves, as it wrote it.
fn written(write: &LedgerWrite) -> Transfer {
    match &write.document {
        DocumentWrite::UpdateTransfer { transfer, .. } => transfer.clone(),
        other => panic!("not a transfer update: {other:?}"),
    }
}

async fn stored(s: &Stores, t: TenantId, transfer: &Transfer) -> Option<Transfer> {
    s.transfers.get(&t, &transfer.id).await.unwrap()
}

pub async fn transfer_round_trips_through_the_ledger(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let (v, w) = (VariantId::new(), VariantId::new());
    let draft = transfer(t, main, annex, Tr::Draft, &[(w, 3, 0), (v, 1, 0)]);
    insert_transfer(&s, t, &draft).await;
    // Lines keep their order; a draft was never shipped.
    assert_eq!(stored(&s, t, &draft).await, Some(draft.clone()));
    assert_eq!(draft.shipped_at, None);

    let partly = transfer(t, annex, main, Tr::PartiallyReceived, &[(v, 5, 2)]);
    insert_transfer(&s, t, &partly).await;
    assert_eq!(stored(&s, t, &partly).await, Some(partly));
}

pub async fn stale_transfer_update_is_a_version_conflict(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let v = stocked_variant(&s, t, main, &format!("CRATE-{}", unique()), 8).await;
    let draft = transfer(t, main, annex, Tr::Draft, &[(v.id, 2, 0)]);
    insert_transfer(&s, t, &draft).await;

    // An edit of the draft: version 1 → 2.
    let mut edited = draft.clone();
    edited.lines[0].quantity = 5;
    edited.version = 2;
    edited.updated_at = now() + Duration::seconds(1);
    s.ledger
        .commit(
            &t,
            document(DocumentWrite::UpdateTransfer {
                transfer: edited.clone(),
                expected_version: 1,
            }),
        )
        .await
        .unwrap();
    assert_eq!(stored(&s, t, &draft).await, Some(edited.clone()));

    // Shipping what was read at version 1 is refused whole: no unit leaves.
    let refused = s.ledger.commit(&t, ship(&draft)).await;
    assert!(
        matches!(
            refused,
            Err(LedgerError::Store(StoreError::VersionConflict))
        ),
        "{refused:?}"
    );
    assert_eq!(stored(&s, t, &draft).await, Some(edited.clone()));
    assert_eq!(levels_of(&s, t, v.id).await, vec![(main, 8, 0)]);
    assert_eq!(read_variant(&s, t, v.id).await.in_transit, 0);
    assert_eq!(movement_count(&s, t, v.id).await, 1);

    // Shipping the current version goes through.
    let write = ship(&edited);
    s.ledger.commit(&t, write.clone()).await.unwrap();
    assert_eq!(stored(&s, t, &draft).await, Some(written(&write)));
    assert_eq!(stock_of(&s, t, v.id).await, 3);
}

/// Shipping takes the units out of the source's level (and the variant's total) into transit;
/// receipts bring them into the destination's level, part by part.
pub async fn shipped_units_are_in_transit_until_received(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let v = stocked_variant(&s, t, main, &format!("BOX-{}", unique()), 10).await;
    let w = stocked_variant(&s, t, main, &format!("BAG-{}", unique()), 1).await;
    let draft = transfer(t, main, annex, Tr::Draft, &[(v.id, 4, 0)]);
    insert_transfer(&s, t, &draft).await;

    let shipping = ship(&draft);
    let shipped = written(&shipping);
    let committed = s.ledger.commit(&t, shipping).await.unwrap();
    let out = committed.applied[0].moved();
    assert_eq!(
        (out.kind, out.location_id, out.quantity, out.stock_after),
        (MovementKind::TransferOut, main, -4, 6)
    );
    assert_eq!(out.transfer_id, Some(draft.id));
    assert_eq!(committed.applied[0].total(), 6);
    assert_eq!(stored(&s, t, &draft).await, Some(shipped.clone()));
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.in_transit), (6, 4));
    assert_eq!(levels_of(&s, t, v.id).await, vec![(main, 6, 0)]);
    assert_eq!(read_variant(&s, t, w.id).await.in_transit, 0);
    let many = s.variants.get_many(&t, &[v.id]).await.unwrap();
    assert_eq!(many[0].in_transit, 4);
    let in_transit_to = |at: LocationId| {
        let locations = s.locations.clone();
        async move { locations.holdings(&t, &at).await.unwrap().in_transit_to }
    };
    assert_eq!(in_transit_to(annex).await, 4);
    assert_eq!(in_transit_to(main).await, 0);

    // One unit arrives, then the other three.
    let first = receive(&shipped, v.id, 1);
    let partly = written(&first);
    let committed = s.ledger.commit(&t, first).await.unwrap();
    let came = &committed.applied[0];
    assert_eq!(
        (
            came.moved().kind,
            came.moved().location_id,
            came.moved().stock_after
        ),
        (MovementKind::TransferIn, annex, 1)
    );
    assert_eq!((came.stock_before(), came.total()), (0, 7));
    assert_eq!(partly.status, Tr::PartiallyReceived);
    assert_eq!(stored(&s, t, &draft).await, Some(partly.clone()));
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.in_transit), (7, 3));
    assert_eq!(
        levels_of(&s, t, v.id).await,
        vec![(main, 6, 0), (annex, 1, 0)]
    );
    assert_eq!(in_transit_to(annex).await, 3);

    let rest = receive(&partly, v.id, 3);
    let done = written(&rest);
    s.ledger.commit(&t, rest).await.unwrap();
    assert_eq!(done.status, Tr::Received);
    assert_eq!(stored(&s, t, &draft).await, Some(done));
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.in_transit), (10, 0));
    assert_eq!(
        levels_of(&s, t, v.id).await,
        vec![(main, 6, 0), (annex, 4, 0)]
    );
    assert_eq!(in_transit_to(annex).await, 0);

    // The ledger tells the whole journey, each leg naming the transfer.
    let of_transfer: Vec<(MovementKind, LocationId, i64)> = s
        .ledger
        .list_movements(
            &t,
            &MovementFilter {
                variant_id: Some(v.id),
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap()
        .items
        .iter()
        .filter(|m| m.transfer_id == Some(draft.id))
        .map(|m| (m.kind, m.location_id, m.quantity))
        .collect();
    assert_eq!(
        of_transfer,
        vec![
            (MovementKind::TransferIn, annex, 3),
            (MovementKind::TransferIn, annex, 1),
            (MovementKind::TransferOut, main, -4),
        ]
    );
    let audit = s.ledger.audit(&t).await.unwrap();
    assert!(audit.drift.is_empty(), "{audit:?}");
}

/// A shipment leaving the source short is refused whole, naming the source.
pub async fn shipping_more_than_the_source_holds_is_refused(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    // Plenty at the destination does not help the source.
    let v = stocked_variant(&s, t, main, &format!("JUG-{}", unique()), 2).await;
    stock_up(&s, t, v.id, annex, 30).await;
    let draft = transfer(t, main, annex, Tr::Draft, &[(v.id, 3, 0)]);
    insert_transfer(&s, t, &draft).await;
    match s.ledger.commit(&t, ship(&draft)).await {
        Err(LedgerError::Insufficient(short)) => {
            assert_eq!(short.len(), 1);
            assert_eq!(short[0].location_id, Some(main));
            assert_eq!((short[0].requested, short[0].available), (3, 2));
        }
        other => panic!("expected Insufficient, got {other:?}"),
    }
    assert_eq!(stored(&s, t, &draft).await, Some(draft));
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.in_transit), (32, 0));
}

pub async fn transfers_page_newest_first(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let mut ids = Vec::new();
    for _ in 0..7 {
        let tr = transfer(t, main, annex, Tr::Draft, &[(VariantId::new(), 1, 0)]);
        insert_transfer(&s, t, &tr).await;
        ids.push(tr.id);
    }
    ids.reverse();
    let pages = all_pages(3, |page| {
        let transfers = s.transfers.clone();
        async move { transfers.list(&t, &TransferFilter::default(), &page).await }
    })
    .await;
    assert_paged_in_order(&pages, &ids, |tr| tr.id);
    assert!(pages.iter().flatten().all(|tr| tr.lines.len() == 1));
}

pub async fn transfer_list_filters_by_status_source_and_destination(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let b = new_location(&s, t, "B").await.id;
    let c = new_location(&s, t, "C").await.id;
    let mut made = Vec::new();
    for (from, to, status) in [
        (main, b, Tr::Draft),
        (main, c, Tr::Shipped),
        (b, c, Tr::Shipped),
        (c, main, Tr::Received),
        (main, b, Tr::Cancelled),
    ] {
        let tr = transfer(t, from, to, status, &[(VariantId::new(), 2, 0)]);
        insert_transfer(&s, t, &tr).await;
        made.push(tr.id);
    }
    let list = |filter: TransferFilter| {
        let transfers = s.transfers.clone();
        async move {
            transfers
                .list(&t, &filter, &PageRequest::first(50))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|tr| tr.id)
                .collect::<Vec<_>>()
        }
    };
    let shipped = TransferFilter {
        status: Some(Tr::Shipped),
        ..Default::default()
    };
    assert_eq!(list(shipped).await, vec![made[2], made[1]]);
    let from_main = TransferFilter {
        from_location_id: Some(main),
        ..Default::default()
    };
    assert_eq!(list(from_main).await, vec![made[4], made[1], made[0]]);
    let to_c = TransferFilter {
        to_location_id: Some(c),
        ..Default::default()
    };
    assert_eq!(list(to_c).await, vec![made[2], made[1]]);
    let main_to_b_drafts = TransferFilter {
        status: Some(Tr::Draft),
        from_location_id: Some(main),
        to_location_id: Some(b),
    };
    assert_eq!(list(main_to_b_drafts).await, vec![made[0]]);
    let b_to_main = TransferFilter {
        from_location_id: Some(b),
        to_location_id: Some(main),
        ..Default::default()
    };
    assert_eq!(list(b_to_main).await, vec![]);
}

/// A variant whose units are all in transit holds no stock, yet it may not be deleted (nor may
/// its product) until they have arrived and gone; deleting it then removes its levels.
pub async fn variant_delete_is_refused_while_units_are_in_transit(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let v = stocked_variant(&s, t, main, &format!("LAMP-{}", unique()), 2).await;
    let draft = transfer(t, main, annex, Tr::Draft, &[(v.id, 2, 0)]);
    insert_transfer(&s, t, &draft).await;
    let shipping = ship(&draft);
    let shipped = written(&shipping);
    s.ledger.commit(&t, shipping).await.unwrap();
    let read = read_variant(&s, t, v.id).await;
    assert_eq!((read.stock, read.in_transit), (0, 2));

    let refused = s.variants.delete(&t, &v.id, None).await;
    assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");
    let refused = s.products.delete(&t, &v.product_id, None).await;
    assert!(matches!(refused, Err(StoreError::InUse)), "{refused:?}");
    assert!(s.variants.get(&t, &v.id).await.unwrap().is_some());

    s.ledger
        .commit(&t, receive(&shipped, v.id, 2))
        .await
        .unwrap();
    let sale = change(v.id, annex, MovementKind::Sale, -2);
    s.ledger.commit(&t, changes(vec![sale])).await.unwrap();
    s.variants.delete(&t, &v.id, None).await.unwrap();
    assert_eq!(s.variants.get(&t, &v.id).await.unwrap(), None);
    for at in [main, annex] {
        let levels = s
            .locations
            .levels(&t, &at, &Default::default(), &PageRequest::first(10))
            .await
            .unwrap();
        assert!(levels.items.is_empty(), "{levels:?}");
    }
    let audit = s.ledger.audit(&t).await.unwrap();
    assert_eq!((audit.variants_checked, audit.levels_checked), (0, 0));
    s.products.delete(&t, &v.product_id, None).await.unwrap();
}

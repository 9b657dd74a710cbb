//! Locations: round trips, unique codes, paging, exactly one default per tenant, and what a
//! location holds (its levels, and the holdings that keep it from being deactivated).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::Duration;
use domain::ids::{LocationId, TenantId};
use domain::locations::models::{Holdings, LevelFilter, LocationLevel};
use domain::pagination::PageRequest;
use domain::purchasing::models::PurchaseOrderStatus as Po;
use domain::transfers::models::TransferStatus as Tr;
use domain::values::LocationPriority;
use domain::StoreError;

use crate::fixtures::*;
use crate::paging::{all_pages, assert_paged_in_order};
use crate::Stores;

/// The ids of the tenant's default locations, as one read of `all` sees them.
async fn defaults_of(s: &Stores, t: TenantId) -> Vec<LocationId> {
    s.locations
        .all(&t)
        .await
        .expect("list locations")
        .into_iter()
        .filter(|l| l.is_default)
        .map(|l| l.id)
        .collect()
}

pub async fn location_round_trips_and_updates(s: Stores) {
    let shop = shop(&s).await;
    let t = shop.id();
    let main = shop.default_location.clone();
    let mut annex = location(t, "ANNEX");
    s.locations.insert(&t, &annex, None).await.unwrap();
    assert_eq!(
        s.locations.get(&t, &annex.id).await.unwrap(),
        Some(annex.clone())
    );
    assert_eq!(
        s.locations.all(&t).await.unwrap(),
        vec![main.clone(), annex.clone()]
    );

    // Name, active, priority and `updated_at` are saved; `is_default` never is, either way.
    annex.name = text("Annex by the station");
    annex.active = false;
    annex.priority = LocationPriority::new(7).unwrap();
    annex.updated_at = now() + Duration::seconds(3);
    let mut claimed = annex.clone();
    claimed.is_default = true;
    s.locations.update(&t, &claimed, None).await.unwrap();
    assert_eq!(
        s.locations.get(&t, &annex.id).await.unwrap(),
        Some(annex.clone())
    );
    let mut resigned = main.clone();
    resigned.is_default = false;
    resigned.name = text("Head office");
    s.locations.update(&t, &resigned, None).await.unwrap();
    let read = s.locations.get(&t, &main.id).await.unwrap().unwrap();
    assert!(read.is_default, "an update never changes the default");
    assert_eq!(read.name, resigned.name);
    assert_eq!(defaults_of(&s, t).await, vec![main.id]);

    let ghost = location(t, "GHOST");
    let missing = s.locations.update(&t, &ghost, None).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    assert_eq!(s.locations.get(&t, &ghost.id).await.unwrap(), None);
}

pub async fn locations_page_oldest_first(s: Stores) {
    let shop = shop(&s).await;
    let t = shop.id();
    let mut ids = vec![shop.main()];
    for i in 0..6 {
        ids.push(new_location(&s, t, &format!("SITE-{i}")).await.id);
    }
    let pages = all_pages(3, |page| {
        let locations = s.locations.clone();
        async move { locations.list(&t, &page).await }
    })
    .await;
    assert_paged_in_order(&pages, &ids, |l| l.id);
    let all: Vec<LocationId> = s
        .locations
        .all(&t)
        .await
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(all, ids);
}

pub async fn location_code_is_unique_per_tenant(s: Stores) {
    let (ours, theirs) = (shop(&s).await, shop(&s).await);
    let t = ours.id();
    new_location(&s, t, "WH-1").await;
    for code in ["WH-1", "MAIN"] {
        let twin = location(t, code);
        let refused = s.locations.insert(&t, &twin, None).await;
        assert!(
            matches!(refused, Err(StoreError::Duplicate)),
            "{code}: {refused:?}"
        );
        assert_eq!(s.locations.get(&t, &twin.id).await.unwrap(), None);
    }
    assert_eq!(s.locations.all(&t).await.unwrap().len(), 2);
    // The same code in another tenant is another location.
    let elsewhere = new_location(&s, theirs.id(), "WH-1").await;
    assert_eq!(
        s.locations.get(&theirs.id(), &elsewhere.id).await.unwrap(),
        Some(elsewhere)
    );
}

/// `make_default` moves the default in one write: afterwards exactly the target is the
/// default, and readers running alongside a storm of flips never see two defaults or none.
pub async fn make_default_moves_the_default_to_exactly_one_location(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let b = new_location(&s, t, "B").await.id;
    let c = new_location(&s, t, "C").await.id;

    s.locations.make_default(&t, &b, now()).await.unwrap();
    assert_eq!(defaults_of(&s, t).await, vec![b]);
    let read = s.locations.get(&t, &main).await.unwrap().unwrap();
    assert!(!read.is_default && read.active, "{read:?}");
    // Making the default the default again changes nothing.
    s.locations.make_default(&t, &b, now()).await.unwrap();
    assert_eq!(defaults_of(&s, t).await, vec![b]);

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (s, done) = (s.clone(), done.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) || reads == 0 {
                let seen = defaults_of(&s, t).await;
                assert_eq!(seen.len(), 1, "a reader saw {seen:?} as the defaults");
                reads += 1;
            }
            reads
        })
    };
    let flips: Vec<_> = (0..20)
        .map(|i| {
            let locations = s.locations.clone();
            let target = [main, b, c][i % 3];
            tokio::spawn(async move { locations.make_default(&t, &target, now()).await })
        })
        .collect();
    for flip in futures::future::join_all(flips).await {
        flip.expect("the flip ran").expect("the flip was applied");
    }
    done.store(true, Ordering::SeqCst);
    let reads = reader.await.expect("the reader ran");
    assert!(reads > 0);
    assert_eq!(defaults_of(&s, t).await.len(), 1);

    s.locations.make_default(&t, &c, now()).await.unwrap();
    assert_eq!(defaults_of(&s, t).await, vec![c]);
}

pub async fn make_default_refuses_an_inactive_missing_or_foreign_location(s: Stores) {
    let (ours, theirs) = (shop(&s).await, shop(&s).await);
    let (t, main) = (ours.id(), ours.main());
    let mut closed = location(t, "CLOSED");
    closed.active = false;
    s.locations.insert(&t, &closed, None).await.unwrap();
    let before = s.locations.all(&t).await.unwrap();

    for target in [closed.id, LocationId::new(), theirs.main()] {
        let refused = s.locations.make_default(&t, &target, now()).await;
        assert!(
            matches!(refused, Err(StoreError::NotFound)),
            "{target}: {refused:?}"
        );
    }
    assert_eq!(s.locations.all(&t).await.unwrap(), before);
    assert_eq!(defaults_of(&s, t).await, vec![main]);
    assert_eq!(defaults_of(&s, theirs.id()).await, vec![theirs.main()]);
}

/// The levels at a location: every variant that had stock or has units due there, by variant
/// id, with the units due there on open purchase orders bound for it; `low_stock` keeps those at
/// or below the variant's reorder level.
pub async fn location_levels_list_what_is_held_there(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let annex = new_location(&s, t, "ANNEX").await.id;
    let p = product(t, "Held product");
    s.products.insert(&t, &p, None).await.unwrap();
    // Reorder level 2 for all of them.
    let code = |c: &str| format!("{c}-{}", unique());
    let low = variant_of(&s, t, p.id, annex, &code("LOW"), 1).await;
    let plenty = variant_of(&s, t, p.id, annex, &code("PLENTY"), 5).await;
    let due = variant_of(&s, t, p.id, annex, &code("DUE"), 0).await;
    let elsewhere = variant_of(&s, t, p.id, main, &code("ELSEWHERE"), 9).await;
    let emptied = variant_of(&s, t, p.id, annex, &code("EMPTIED"), 2).await;
    s.ledger
        .commit(
            &t,
            changes(vec![change(
                emptied.id,
                annex,
                domain::stock::models::MovementKind::Sale,
                -2,
            )]),
        )
        .await
        .unwrap();

    let sup = supplier(t, "Level supplier");
    s.suppliers.insert(&t, &sup, None).await.unwrap();
    for po in [
        purchase_order(t, sup.id, annex, Po::Ordered, &[(due.id, 4, 0)]),
        purchase_order(
            t,
            sup.id,
            annex,
            Po::PartiallyReceived,
            &[(plenty.id, 10, 4)],
        ),
        purchase_order(t, sup.id, annex, Po::Draft, &[(plenty.id, 100, 0)]),
        purchase_order(t, sup.id, main, Po::Ordered, &[(low.id, 7, 0)]),
    ] {
        insert_purchase_order(&s, t, &po).await;
    }

    let row = |v: &domain::catalog::models::Variant, stock, incoming| LocationLevel {
        variant_id: v.id,
        sku: v.sku.clone(),
        stock,
        state: on_hand(stock),
        incoming,
        reorder_level: v.reorder_level.get(),
    };
    let everything = vec![
        row(&low, 1, 0),
        row(&plenty, 5, 6),
        row(&due, 0, 4),
        row(&emptied, 0, 0),
    ];
    let levels = |filter: LevelFilter, page: PageRequest| {
        let locations = s.locations.clone();
        async move { locations.levels(&t, &annex, &filter, &page).await }
    };
    let all = levels(LevelFilter::default(), PageRequest::first(50));
    assert_eq!(all.await.unwrap().items, everything);
    let low_only = LevelFilter { low_stock: true };
    let listed = levels(low_only, PageRequest::first(50)).await.unwrap();
    assert_eq!(
        listed.items,
        vec![row(&low, 1, 0), row(&due, 0, 4), row(&emptied, 0, 0)]
    );
    let pages = all_pages(2, |page| levels(LevelFilter::default(), page)).await;
    assert_eq!(pages.concat(), everything);
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2]);

    // The default location holds ELSEWHERE, and LOW's units due there.
    let here = s
        .locations
        .levels(&t, &main, &LevelFilter::default(), &PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(here.items, vec![row(&low, 0, 7), row(&elsewhere, 9, 0)]);
    // A variant read shows the same per level.
    assert_eq!(
        levels_of(&s, t, low.id).await,
        vec![(main, 0, 7), (annex, 1, 0)]
    );
    assert_eq!(levels_of(&s, t, plenty.id).await, vec![(annex, 5, 6)]);
    assert_eq!(read_variant(&s, t, low.id).await.incoming, 7);
}

/// What a location holds or expects: units on its levels, units shipped to it and not yet
/// received, open purchase orders bound for it, draft transfers from or to it.
pub async fn holdings_count_what_a_location_holds_or_expects(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let b = new_location(&s, t, "B").await.id;
    let c = new_location(&s, t, "C").await.id;
    let idle = new_location(&s, t, "IDLE").await.id;
    let v = stocked_variant(&s, t, main, &format!("V-{}", unique()), 10)
        .await
        .id;
    let w = stocked_variant(&s, t, b, &format!("W-{}", unique()), 2)
        .await
        .id;
    stock_up(&s, t, v, b, 3).await;

    for tr in [
        transfer(t, main, b, Tr::Shipped, &[(v, 4, 0)]),
        transfer(t, main, b, Tr::PartiallyReceived, &[(v, 5, 2), (w, 1, 0)]),
        transfer(t, b, c, Tr::Shipped, &[(w, 1, 0)]),
        transfer(t, main, b, Tr::Received, &[(v, 2, 2)]),
        transfer(t, b, c, Tr::Draft, &[(v, 1, 0)]),
        transfer(t, main, b, Tr::Draft, &[(v, 1, 0)]),
        transfer(t, c, b, Tr::Cancelled, &[(v, 1, 0)]),
    ] {
        insert_transfer(&s, t, &tr).await;
    }
    let sup = supplier(t, "Holding supplier");
    s.suppliers.insert(&t, &sup, None).await.unwrap();
    for (at, status) in [
        (b, Po::Draft),
        (b, Po::Ordered),
        (b, Po::PartiallyReceived),
        (b, Po::Received),
        (b, Po::Cancelled),
        (b, Po::Closed),
        (main, Po::Ordered),
    ] {
        let po = purchase_order(t, sup.id, at, status, &[(v, 3, 1)]);
        insert_purchase_order(&s, t, &po).await;
    }

    let holdings = |at: LocationId| {
        let locations = s.locations.clone();
        async move { locations.holdings(&t, &at).await.expect("holdings") }
    };
    assert_eq!(
        holdings(b).await,
        Holdings {
            units: 5,
            in_transit_to: 4 + 3 + 1,
            open_purchase_orders: 3,
            draft_transfers: 2,
        }
    );
    assert_eq!(
        holdings(c).await,
        Holdings {
            units: 0,
            in_transit_to: 1,
            open_purchase_orders: 0,
            draft_transfers: 1,
        }
    );
    assert_eq!(
        holdings(main).await,
        Holdings {
            units: 10,
            in_transit_to: 0,
            open_purchase_orders: 1,
            draft_transfers: 1,
        }
    );
    assert!(holdings(idle).await.is_empty());
}

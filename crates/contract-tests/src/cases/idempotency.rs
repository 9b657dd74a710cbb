//! Idempotency records: written with the write they guard, or not at all.

use chrono::Duration;
use domain::auth::models::Role;
use domain::ids::TenantId;
use domain::stock::models::{DocumentWrite, LedgerError, MovementKind};
use domain::StoreError;

use crate::fixtures::*;
use crate::Stores;

pub async fn commit_stores_its_idempotency_record(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("BOWL-{}", unique()), 10).await;
    let at = now();
    let key = format!("key-{}", unique());
    let mut write = changes(vec![change(v.id, main, MovementKind::Sale, -4)]);
    write.idempotency = Some(ledger_key(&key, "fp-1", at));
    s.ledger.commit(&t, write).await.unwrap();

    let record = s
        .idempotency
        .find(&t, &key_sender(), &key, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.key, key);
    assert_eq!(record.fingerprint, "fp-1");
    // Rendered from the committed result: the stock after the sale.
    assert_eq!(record.response.status, 201);
    assert_eq!(record.response.body, b"6".to_vec());
    assert_eq!(record.created_at, at);
    assert_eq!(record.expires_at, at + Duration::hours(24));
    assert_eq!(
        s.idempotency
            .find(&t, &key_sender(), "another-key", now())
            .await
            .unwrap(),
        None
    );
}

pub async fn failed_commit_stores_no_record(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("BOWL-{}", unique()), 1).await;
    let key = format!("key-{}", unique());
    let mut write = changes(vec![change(v.id, main, MovementKind::Sale, -2)]);
    write.idempotency = Some(ledger_key(&key, "fp", now()));
    let refused = s.ledger.commit(&t, write).await;
    assert!(
        matches!(refused, Err(LedgerError::Insufficient(_))),
        "{refused:?}"
    );
    assert_eq!(
        s.idempotency
            .find(&t, &key_sender(), &key, now())
            .await
            .unwrap(),
        None
    );

    // The key is still free for a write that succeeds.
    let mut write = changes(vec![change(v.id, main, MovementKind::Sale, -1)]);
    write.idempotency = Some(ledger_key(&key, "fp", now()));
    s.ledger.commit(&t, write).await.unwrap();
    assert!(s
        .idempotency
        .find(&t, &key_sender(), &key, now())
        .await
        .unwrap()
        .is_some());
}

pub async fn repeated_key_is_refused_and_writes_nothing(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("BOWL-{}", unique()), 10).await;
    let key = format!("key-{}", unique());
    let mut first = changes(vec![change(v.id, main, MovementKind::Sale, -1)]);
    first.idempotency = Some(ledger_key(&key, "fp-first", now()));
    s.ledger.commit(&t, first).await.unwrap();

    let placed = order(t, main, &[(v.id, 1)]);
    let mut again = changes(vec![change(v.id, main, MovementKind::Sale, -1)]);
    again.document = DocumentWrite::InsertOrder(placed.clone());
    again.idempotency = Some(ledger_key(&key, "fp-second", now()));
    let refused = s.ledger.commit(&t, again).await;
    assert!(
        matches!(
            refused,
            Err(LedgerError::Store(StoreError::IdempotencyKeyTaken))
        ),
        "{refused:?}"
    );
    assert_eq!(stock_of(&s, t, v.id).await, 9);
    assert_eq!(movement_count(&s, t, v.id).await, 2);
    assert_eq!(s.orders.get(&t, &placed.id).await.unwrap(), None);
    let record = s
        .idempotency
        .find(&t, &key_sender(), &key, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.fingerprint, "fp-first");
}

pub async fn expired_record_is_hidden_and_replaceable(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("BOWL-{}", unique()), 10).await;
    let key = format!("key-{}", unique());
    let long_ago = now() - Duration::hours(25);
    let mut old = changes(vec![change(v.id, main, MovementKind::Sale, -1)]);
    old.idempotency = Some(ledger_key(&key, "fp-old", long_ago));
    s.ledger.commit(&t, old).await.unwrap();

    assert_eq!(
        s.idempotency
            .find(&t, &key_sender(), &key, now())
            .await
            .unwrap(),
        None
    );

    let mut fresh = changes(vec![change(v.id, main, MovementKind::Sale, -1)]);
    fresh.idempotency = Some(ledger_key(&key, "fp-new", now()));
    s.ledger.commit(&t, fresh).await.unwrap();
    let record = s
        .idempotency
        .find(&t, &key_sender(), &key, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.fingerprint, "fp-new");
    assert_eq!(record.response.body, b"8".to_vec());
    // Found while it lives, not once `now` passes its expiry.
    let created = record.created_at;
    let live = s
        .idempotency
        .find(&t, &key_sender(), &key, created + Duration::hours(23))
        .await;
    assert!(live.unwrap().is_some());
    let gone = s
        .idempotency
        .find(&t, &key_sender(), &key, created + Duration::hours(25))
        .await;
    assert_eq!(gone.unwrap(), None);

    // Inserts replace an expired record the same way.
    let key = format!("key-{}", unique());
    let p = product(t, "First");
    s.products
        .insert(&t, &p, Some(insert_key(&key, "fp-old", long_ago)))
        .await
        .unwrap();
    let q = product(t, "Second");
    s.products
        .insert(&t, &q, Some(insert_key(&key, "fp-new", now())))
        .await
        .unwrap();
    let record = s
        .idempotency
        .find(&t, &key_sender(), &key, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.fingerprint, "fp-new");
}

pub async fn inserts_store_idempotency_records(s: Stores) {
    let t = TenantId::new();
    let at = now();
    let p = product(t, "Keyed product");
    let key = |what: &str| format!("{what}-{}", unique());

    let (k1, k2, k3, k4) = (key("user"), key("product"), key("variant"), key("supplier"));
    let k5 = key("location");
    let u = user(t, "keyed@acme.example", Role::Staff);
    s.users
        .insert(&t, &u, Some(insert_key(&k1, "fp-u", at)))
        .await
        .unwrap();
    s.products
        .insert(&t, &p, Some(insert_key(&k2, "fp-p", at)))
        .await
        .unwrap();
    let v = variant(t, p.id, &format!("KEYED-{}", unique()));
    s.variants
        .insert(&t, &v, Some(insert_key(&k3, "fp-v", at)))
        .await
        .unwrap();
    let sup = supplier(t, "Keyed supplier");
    s.suppliers
        .insert(&t, &sup, Some(insert_key(&k4, "fp-s", at)))
        .await
        .unwrap();
    let loc = location(t, "KEYED");
    s.locations
        .insert(&t, &loc, Some(insert_key(&k5, "fp-l", at)))
        .await
        .unwrap();

    for (k, fp) in [
        (&k1, "fp-u"),
        (&k2, "fp-p"),
        (&k3, "fp-v"),
        (&k4, "fp-s"),
        (&k5, "fp-l"),
    ] {
        let record = s
            .idempotency
            .find(&t, &key_sender(), k, now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.fingerprint, fp);
        assert_eq!(record.response, insert_key(k, fp, at).response);
        assert_eq!(
            (record.created_at, record.expires_at),
            (at, at + Duration::hours(24))
        );
    }

    // A repeat of any key is refused and writes nothing.
    let taken = |r: Result<(), StoreError>| matches!(r, Err(StoreError::IdempotencyKeyTaken));
    let u2 = user(t, "other@acme.example", Role::Staff);
    assert!(taken(
        s.users
            .insert(&t, &u2, Some(insert_key(&k1, "x", at)))
            .await
    ));
    assert_eq!(s.users.get(&t, &u2.id).await.unwrap(), None);
    let p2 = product(t, "Other product");
    assert!(taken(
        s.products
            .insert(&t, &p2, Some(insert_key(&k2, "x", at)))
            .await
    ));
    assert_eq!(s.products.get(&t, &p2.id).await.unwrap(), None);
    let v2 = variant(t, p.id, &format!("OTHER-{}", unique()));
    assert!(taken(
        s.variants
            .insert(&t, &v2, Some(insert_key(&k3, "x", at)))
            .await
    ));
    assert_eq!(s.variants.get(&t, &v2.id).await.unwrap(), None);
    let sup2 = supplier(t, "Other supplier");
    assert!(taken(
        s.suppliers
            .insert(&t, &sup2, Some(insert_key(&k4, "x", at)))
            .await
    ));
    assert_eq!(s.suppliers.get(&t, &sup2.id).await.unwrap(), None);
    let loc2 = location(t, "OTHER");
    assert!(taken(
        s.locations
            .insert(&t, &loc2, Some(insert_key(&k5, "x", at)))
            .await
    ));
    assert_eq!(s.locations.get(&t, &loc2.id).await.unwrap(), None);
}

pub async fn failed_insert_stores_no_record(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let existing = stocked_variant(&s, t, main, &format!("DUP-{}", unique()), 0).await;
    let key = format!("key-{}", unique());
    let twin = variant(t, existing.product_id, existing.sku.as_str());
    let refused = s
        .variants
        .insert(&t, &twin, Some(insert_key(&key, "fp", now())))
        .await;
    assert!(matches!(refused, Err(StoreError::Duplicate)), "{refused:?}");
    assert_eq!(
        s.idempotency
            .find(&t, &key_sender(), &key, now())
            .await
            .unwrap(),
        None
    );

    let first = user(t, "dup@acme.example", Role::Staff);
    s.users.insert(&t, &first, None).await.unwrap();
    let twin = user(t, "dup@acme.example", Role::Staff);
    let refused = s
        .users
        .insert(&t, &twin, Some(insert_key(&key, "fp", now())))
        .await;
    assert!(matches!(refused, Err(StoreError::Duplicate)), "{refused:?}");
    assert_eq!(
        s.idempotency
            .find(&t, &key_sender(), &key, now())
            .await
            .unwrap(),
        None
    );

    // The default location's code is taken like any other.
    let twin = location(t, "MAIN");
    let refused = s
        .locations
        .insert(&t, &twin, Some(insert_key(&key, "fp", now())))
        .await;
    assert!(matches!(refused, Err(StoreError::Duplicate)), "{refused:?}");
    assert_eq!(
        s.idempotency
            .find(&t, &key_sender(), &key, now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.locations.get(&t, &twin.id).await.unwrap(), None);
}

pub async fn idempotency_keys_are_per_tenant(s: Stores) {
    let (a, b) = (TenantId::new(), TenantId::new());
    let key = format!("key-{}", unique());
    let pa = product(a, "A's product");
    s.products
        .insert(&a, &pa, Some(insert_key(&key, "fp-a", now())))
        .await
        .unwrap();
    assert_eq!(
        s.idempotency
            .find(&b, &key_sender(), &key, now())
            .await
            .unwrap(),
        None
    );

    let pb = product(b, "B's product");
    s.products
        .insert(&b, &pb, Some(insert_key(&key, "fp-b", now())))
        .await
        .unwrap();
    let fp = |t: TenantId| {
        let idempotency = s.idempotency.clone();
        let key = key.clone();
        async move {
            idempotency
                .find(&t, &key_sender(), &key, now())
                .await
                .unwrap()
                .unwrap()
                .fingerprint
        }
    };
    assert_eq!(fp(a).await, "fp-a");
    assert_eq!(fp(b).await, "fp-b");
}

/// A key is its sender's own: a colleague in the same tenant storing the same key writes (ledger
/// and insert alike) and finds only their own record; the sender's repeat is still refused.
pub async fn idempotency_keys_are_per_user(s: Stores) {
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("BOWL-{}", unique()), 10).await;
    let key = format!("key-{}", unique());
    let (ann, bob) = (key_sender(), domain::ids::UserId::new());

    let mut first = changes(vec![change(v.id, main, MovementKind::Sale, -1)]);
    first.idempotency = Some(ledger_key_of(ann, &key, "fp", now()));
    s.ledger.commit(&t, first).await.unwrap();
    let mut theirs = changes(vec![change(v.id, main, MovementKind::Sale, -2)]);
    theirs.idempotency = Some(ledger_key_of(bob, &key, "fp", now()));
    s.ledger
        .commit(&t, theirs)
        .await
        .expect("a colleague's key does not block this user's write");
    assert_eq!(stock_of(&s, t, v.id).await, 7);

    let found = |user| {
        let (idempotency, key) = (s.idempotency.clone(), key.clone());
        async move {
            idempotency
                .find(&t, &user, &key, now())
                .await
                .unwrap()
                .map(|r| (r.user_id, r.response.body))
        }
    };
    assert_eq!(found(ann).await, Some((ann, b"9".to_vec())));
    assert_eq!(found(bob).await, Some((bob, b"7".to_vec())));
    assert_eq!(found(domain::ids::UserId::new()).await, None);

    // The sender's own repeat is still refused, with nothing written.
    let mut again = changes(vec![change(v.id, main, MovementKind::Sale, -1)]);
    again.idempotency = Some(ledger_key_of(bob, &key, "fp", now()));
    let refused = s.ledger.commit(&t, again).await;
    assert!(
        matches!(
            refused,
            Err(LedgerError::Store(StoreError::IdempotencyKeyTaken))
        ),
        "{refused:?}"
    );
    assert_eq!(stock_of(&s, t, v.id).await, 7);

    // Inserts too: another user's record of the key does not refuse this one.
    let other_key = format!("key-{}", unique());
    let mut mine = insert_key(&other_key, "fp", now());
    s.products
        .insert(&t, &product(t, "Ann's"), Some(mine.clone()))
        .await
        .unwrap();
    mine.user_id = bob;
    s.products
        .insert(&t, &product(t, "Bob's"), Some(mine))
        .await
        .expect("a colleague's key does not refuse this insert");
}

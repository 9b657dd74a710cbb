//! Behaviour of the file store that the shared contract cannot see: durability across reopening,
//! the schema version, drift of a total or a level changed by another process, and how a busy
//! database is reported.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use contract_tests::fixtures::{change, changes, shop, stocked_variant, unique};
use contract_tests::Stores;
use domain::catalog::ports::VariantRepository;
use domain::stock::models::MovementKind;
use domain::stock::ports::LedgerRepository;
use domain::StoreError;
use infra_sqlite::SqliteStore;

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("stockroom.db")
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (t, main, variant) = {
        let store = SqliteStore::open(&url(&db_path(&dir))).await.unwrap();
        let s = Stores::of(store.clone());
        let shop = shop(&s).await;
        let (t, main) = (shop.id(), shop.main());
        let v = stocked_variant(&s, t, main, &format!("KEEP-{}", unique()), 12).await;
        s.ledger
            .commit(
                &t,
                changes(vec![change(v.id, main, MovementKind::Sale, -5)]),
            )
            .await
            .unwrap();
        (t, main, v)
    };
    let reopened = SqliteStore::open(&url(&db_path(&dir))).await.unwrap();
    let read = VariantRepository::get(&reopened, &t, &variant.id)
        .await
        .unwrap()
        .expect("the variant survived");
    assert_eq!(read.stock, 7);
    assert_eq!(read.stock_at(&main), 7);
    assert_eq!(read.sku, variant.sku);
    let audit = reopened.audit(&t).await.unwrap();
    assert_eq!(
        (
            audit.variants_checked,
            audit.levels_checked,
            audit.drift.len()
        ),
        (1, 1, 0)
    );

    // Reopening applied no migration twice: the schema version is still the latest one.
    let raw = rusqlite::Connection::open(db_path(&dir)).unwrap();
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 7);
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn audit_reports_stock_that_bypassed_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&url(&db_path(&dir))).await.unwrap();
    let s = Stores::of(store.clone());
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("DRIFT-{}", unique()), 3).await;

    // A level moved without a movement: the level drifts, and the total — Σ levels, derived
    // on every read — follows it, so nothing else can.
    let raw = rusqlite::Connection::open(db_path(&dir)).unwrap();
    raw.execute(
        "UPDATE stock_levels SET stock = stock + 5 WHERE variant_id = ?1",
        [v.id.to_string()],
    )
    .unwrap();
    let audit = store.audit(&t).await.unwrap();
    assert_eq!((audit.variants_checked, audit.levels_checked), (1, 1));
    let drift: Vec<_> = audit
        .drift
        .iter()
        .map(|d| (d.variant_id, d.location_id, d.stock, d.ledger_sum))
        .collect();
    assert_eq!(drift, vec![(v.id, Some(main), 8, 3)]);
    assert_eq!(audit.drift[0].sku, v.sku.as_str());
    assert_eq!(s.variants.get(&t, &v.id).await.unwrap().unwrap().stock, 8);
}

#[tokio::test]
async fn a_write_blocked_by_another_process_is_unavailable_while_reads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&url(&db_path(&dir))).await.unwrap();
    let s = Stores::of(store.clone());
    let shop = shop(&s).await;
    let (t, main) = (shop.id(), shop.main());
    let v = stocked_variant(&s, t, main, &format!("BUSY-{}", unique()), 3).await;

    // Another process holds the write lock for longer than the store's busy timeout.
    let mut raw = rusqlite::Connection::open(db_path(&dir)).unwrap();
    let holder = raw
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();

    // WAL readers are not blocked by the writer.
    assert_eq!(
        VariantRepository::get(&store, &t, &v.id)
            .await
            .unwrap()
            .unwrap()
            .stock,
        3
    );

    let started = Instant::now();
    let refused = store
        .commit(
            &t,
            changes(vec![change(v.id, main, MovementKind::Sale, -1)]),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(domain::stock::models::LedgerError::Store(
                StoreError::Unavailable(_)
            ))
        ),
        "{refused:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "it waited for the lock first"
    );
    drop(holder);

    store
        .commit(
            &t,
            changes(vec![change(v.id, main, MovementKind::Sale, -1)]),
        )
        .await
        .unwrap();
    assert_eq!(
        VariantRepository::get(&store, &t, &v.id)
            .await
            .unwrap()
            .unwrap()
            .stock,
        2
    );
}

#[tokio::test]
async fn a_bad_url_is_refused() {
    for bad in ["postgres://localhost/db", "sqlite://", "stockroom.db"] {
        assert!(SqliteStore::open(bad).await.is_err(), "{bad} accepted");
    }
}

//! Behaviour of the file store that the shared contract cannot see: durability across reopening,
//! the schema version, drift detection and how a busy database is reported.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use contract_tests::fixtures::{change, changes, stocked_variant, unique};
use contract_tests::Stores;
use domain::catalog::ports::VariantRepository;
use domain::ids::TenantId;
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
    let t = TenantId::new();
    let variant = {
        let store = SqliteStore::open(&url(&db_path(&dir))).await.unwrap();
        let s = Stores::of(store.clone());
        let v = stocked_variant(&s, t, &format!("KEEP-{}", unique()), 12).await;
        s.ledger
            .commit(&t, changes(vec![change(v.id, MovementKind::Sale, -5)]))
            .await
            .unwrap();
        v
    };
    let reopened = SqliteStore::open(&url(&db_path(&dir))).await.unwrap();
    let read = VariantRepository::get(&reopened, &t, &variant.id)
        .await
        .unwrap()
        .expect("the variant survived");
    assert_eq!(read.stock, 7);
    assert_eq!(read.sku, variant.sku);
    let audit = reopened.audit(&t).await.unwrap();
    assert_eq!((audit.variants_checked, audit.drift.len()), (1, 0));

    // Reopening applied no migration twice: the schema version is still the first one.
    let raw = rusqlite::Connection::open(db_path(&dir)).unwrap();
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn audit_reports_stock_that_bypassed_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&url(&db_path(&dir))).await.unwrap();
    let t = TenantId::new();
    let s = Stores::of(store.clone());
    let v = stocked_variant(&s, t, &format!("DRIFT-{}", unique()), 3).await;

    let raw = rusqlite::Connection::open(db_path(&dir)).unwrap();
    raw.execute(
        "UPDATE variants SET stock = stock + 5 WHERE id = ?1",
        [v.id.to_string()],
    )
    .unwrap();

    let audit = store.audit(&t).await.unwrap();
    assert_eq!(audit.variants_checked, 1);
    assert_eq!(audit.drift.len(), 1);
    let drift = &audit.drift[0];
    assert_eq!(
        (drift.variant_id, drift.stock, drift.ledger_sum),
        (v.id, 8, 3)
    );
    assert_eq!(drift.sku, v.sku.as_str());
}

#[tokio::test]
async fn a_write_blocked_by_another_process_is_unavailable_while_reads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&url(&db_path(&dir))).await.unwrap();
    let t = TenantId::new();
    let s = Stores::of(store.clone());
    let v = stocked_variant(&s, t, &format!("BUSY-{}", unique()), 3).await;

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
        .commit(&t, changes(vec![change(v.id, MovementKind::Sale, -1)]))
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
        .commit(&t, changes(vec![change(v.id, MovementKind::Sale, -1)]))
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

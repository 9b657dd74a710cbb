//! Start-up: a standalone server is refused with a one-line explanation, never used without
//! transactions.

use domain::stock::ports::LedgerRepository;
use infra_mongo::MongoStore;

use crate::common::{server_url, with_database, TestDb, STANDALONE_URL_VAR};

#[tokio::test]
async fn a_standalone_server_is_refused_at_start_up() {
    let Some(url) = server_url(STANDALONE_URL_VAR) else {
        return;
    };
    let url = with_database(&url, "stockroom_refused");
    let error = MongoStore::connect(&url)
        .await
        .expect_err("a standalone server cannot run Stockroom's transactions");
    let message = error.to_string();
    assert!(message.contains("is a standalone server"), "{message}");
    assert!(message.contains("--replSet"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
}

#[tokio::test]
async fn a_replica_set_member_is_accepted_and_answers_pings() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    db.store.ping().await.expect("ping");
    // Start-up again on the same database: the existing indexes are accepted as they are.
    let again = MongoStore::connect(db.url())
        .await
        .expect("second start-up");
    again.ping().await.expect("ping");
    db.drop().await;
}

#[test]
fn the_test_database_replaces_the_url_path_only() {
    assert_eq!(
        with_database("mongodb://127.0.0.1:1/?directConnection=true", "x"),
        "mongodb://127.0.0.1:1/x?directConnection=true"
    );
    assert_eq!(
        with_database("mongodb://h:1,h:2/old", "x"),
        "mongodb://h:1,h:2/x"
    );
    assert_eq!(with_database("mongodb://h", "x"), "mongodb://h/x");
}

//! Translation of SQLite errors into the domain's [`StoreError`].
//!
//! No driver type may cross the port boundary, so every fallible SQLite call is ended with
//! [`SqlResultExt::or_store`], which names the operation for the error chain and maps the few
//! errors the domain reacts to: a unique or primary-key violation is a `Duplicate`, a busy or
//! locked database is `Unavailable` (retryable). Everything else is `Other`, with context.

use domain::StoreError;
use rusqlite::ffi;
use rusqlite::ErrorCode;

/// Ends a SQLite call with the domain's error type.
pub(crate) trait SqlResultExt<T> {
    /// Maps the error, naming `what` was being done.
    fn or_store(self, what: &'static str) -> Result<T, StoreError>;
}

impl<T> SqlResultExt<T> for rusqlite::Result<T> {
    fn or_store(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| translate(e, what))
    }
}

/// The domain meaning of a SQLite error.
pub(crate) fn translate(e: rusqlite::Error, what: &'static str) -> StoreError {
    if is_unique_violation(&e) {
        return StoreError::Duplicate;
    }
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(format!("{what}: the database is busy"))
        }
        _ => StoreError::Other(anyhow::Error::new(e).context(what)),
    }
}

/// `true` when a UNIQUE or PRIMARY KEY constraint refused the statement.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error(),
        Some(f) if f.code == ErrorCode::ConstraintViolation
            && matches!(f.extended_code, ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

/// A blocking task that died (it panicked or the runtime is shutting down).
pub(crate) fn task_failed(what: &'static str, e: tokio::task::JoinError) -> StoreError {
    StoreError::Other(anyhow::Error::new(e).context(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(sql: &str) -> rusqlite::Error {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, u TEXT UNIQUE);")
            .unwrap();
        conn.execute_batch("INSERT INTO t VALUES ('a', 'x');")
            .unwrap();
        conn.execute_batch(sql).unwrap_err()
    }

    #[test]
    fn unique_and_primary_key_violations_are_duplicates() {
        let unique = failing("INSERT INTO t VALUES ('b', 'x');");
        let primary = failing("INSERT INTO t VALUES ('a', 'y');");
        assert!(matches!(translate(unique, "insert"), StoreError::Duplicate));
        assert!(matches!(
            translate(primary, "insert"),
            StoreError::Duplicate
        ));
    }

    #[test]
    fn other_errors_keep_their_context() {
        let e = translate(failing("SELECT * FROM missing;"), "reading things");
        match e {
            StoreError::Other(e) => assert!(format!("{e:#}").starts_with("reading things: ")),
            other => panic!("expected Other, got {other:?}"),
        }
    }
}

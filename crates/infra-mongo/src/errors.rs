//! Translation of driver errors into the domain's [`StoreError`], in one place.
//!
//! Only three outcomes matter to the domain: a unique index refused the write (`Duplicate`), the
//! store could not be reached in time (`Unavailable`, retryable), or something unexpected
//! (`Other`, with the operation named for the log).

use domain::StoreError;
use mongodb::error::{Error, ErrorKind, WriteFailure};

/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

/// Server error codes that mean "not reachable or not primary right now": worth retrying later.
const UNAVAILABLE_CODES: [i32; 11] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    189,   // PrimarySteppedDown
    9001,  // SocketException
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
];

/// The server code of a command or write error, if the error carries one.
fn server_code(e: &Error) -> Option<i32> {
    match e.kind.as_ref() {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|w| w.code),
        _ => None,
    }
}

/// True when a unique index refused the write.
pub(crate) fn is_duplicate_key(e: &Error) -> bool {
    server_code(e) == Some(DUPLICATE_KEY)
}

/// True when the server could not be reached, selected or used in time.
pub(crate) fn is_unavailable(e: &Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => true,
        _ => server_code(e).is_some_and(|code| UNAVAILABLE_CODES.contains(&code)),
    }
}

/// A driver error in one readable line: its kind and labels, without the raw server reply the
/// driver's own `Display` appends.
pub(crate) fn describe(e: &Error) -> String {
    let mut labels: Vec<&str> = e.labels().iter().map(String::as_str).collect();
    if labels.is_empty() {
        return e.kind.to_string();
    }
    labels.sort_unstable();
    format!("{} [{}]", e.kind, labels.join(", "))
}

/// The domain's reading of a driver error raised while `doing` something.
pub(crate) fn store_error(e: Error, doing: &str) -> StoreError {
    if is_duplicate_key(&e) {
        StoreError::Duplicate
    } else if is_unavailable(&e) {
        StoreError::Unavailable(format!(
            "MongoDB is unavailable while {doing}: {}",
            describe(&e)
        ))
    } else {
        StoreError::Other(anyhow::anyhow!(
            "MongoDB failed while {doing}: {}",
            describe(&e)
        ))
    }
}

/// `map_err(|e| store_error(e, doing))` for driver results.
pub(crate) trait StoreResult<T> {
    fn store(self, doing: &str) -> Result<T, StoreError>;
}

impl<T> StoreResult<T> for Result<T, Error> {
    fn store(self, doing: &str) -> Result<T, StoreError> {
        self.map_err(|e| store_error(e, doing))
    }
}

/// A stored document that no longer reads as a valid domain value.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("a stored {what} is invalid: {detail}"))
}

/// Why an edit conditional on a document's version matched nothing: the document at `key` is
/// still there at another version (`VersionConflict`), or it is gone (`NotFound`). Read after
/// the write, so a document deleted in between reads as gone, as it is.
pub(crate) async fn unmatched_edit<T: Send + Sync>(
    collection: &mongodb::Collection<T>,
    key: mongodb::bson::Document,
    what: &str,
) -> StoreError {
    match collection.count_documents(key).await {
        Ok(0) => StoreError::NotFound,
        Ok(_) => StoreError::VersionConflict,
        Err(e) => store_error(e, &format!("reading the version of the {what} to update")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_errors_are_unavailable_and_others_are_not() {
        let refused = Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            store_error(refused, "reading"),
            StoreError::Unavailable(_)
        ));
        let odd = Error::custom("something else".to_owned());
        assert!(matches!(store_error(odd, "reading"), StoreError::Other(_)));
    }
}

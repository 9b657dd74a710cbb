//! What the generated tests do with a suite's factory: run the case on what it made, or skip
//! that one case, loudly.
//!
//! A factory returns its store (or lock) when it can always make one, or
//! `Result<_, Skip>` when it needs a server that may be missing. A `Skip` ends only the case that
//! asked for it, with a line on stderr naming the case and the reason — written past the test
//! harness's output capture, so it shows in a passing run. Whether a missing server may be
//! skipped at all (never under CI) is the factory's decision, made before it returns `Skip`.

use crate::lock_cases::SharedLock;
use crate::Stores;

/// Why a case cannot run here (a server that is not configured), said by the factory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl Skip {
    pub fn new(why: impl Into<String>) -> Self {
        Self(why.into())
    }
}

/// Writes `line` to stderr past the test harness's output capture.
pub fn loud(line: &str) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// Announces that the case `name` did not run, and why.
pub fn announce_skip(name: &str, skip: &Skip) {
    loud(&format!("!!!!! SKIPPED {name}: {} !!!!!", skip.0));
}

/// What a suite factory may return: the value a case runs on, or a [`Skip`].
pub trait Fresh<T> {
    fn fresh(self) -> Result<T, Skip>;
}

impl Fresh<Stores> for Stores {
    fn fresh(self) -> Result<Stores, Skip> {
        Ok(self)
    }
}

impl Fresh<Stores> for Result<Stores, Skip> {
    fn fresh(self) -> Result<Stores, Skip> {
        self
    }
}

impl Fresh<SharedLock> for SharedLock {
    fn fresh(self) -> Result<SharedLock, Skip> {
        Ok(self)
    }
}

impl Fresh<SharedLock> for Result<SharedLock, Skip> {
    fn fresh(self) -> Result<SharedLock, Skip> {
        self
    }
}

/// The value for the case `name`, or `None` after announcing its skip. Used by the suite macros.
pub fn take<T>(name: &str, made: impl Fresh<T>) -> Option<T> {
    match made.fresh() {
        Ok(value) => Some(value),
        Err(skip) => {
            announce_skip(name, &skip);
            None
        }
    }
}

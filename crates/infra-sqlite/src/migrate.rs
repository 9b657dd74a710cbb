//! Schema migrations, applied when the store opens.
//!
//! Each migration is a numbered SQL file compiled into the binary, so a deployed server can never
//! run against a schema it does not know. The number of the last applied migration is kept in
//! `PRAGMA user_version` (stored in the database header and changed inside the migration's own
//! transaction), so restarting applies nothing twice and a crash mid-migration leaves the previous
//! version intact.

use anyhow::{bail, Context};
use rusqlite::{Connection, TransactionBehavior};

/// Every migration in order; the schema version after applying `MIGRATIONS[i]` is `i + 1`.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../migrations/0001_init.sql")),
    (
        "0002_locations",
        include_str!("../migrations/0002_locations.sql"),
    ),
    (
        "0003_derived_totals",
        include_str!("../migrations/0003_derived_totals.sql"),
    ),
    (
        "0004_committed",
        include_str!("../migrations/0004_committed.sql"),
    ),
    (
        "0005_states_and_holds",
        include_str!("../migrations/0005_states_and_holds.sql"),
    ),
    (
        "0006_token_versions",
        include_str!("../migrations/0006_token_versions.sql"),
    ),
    (
        "0007_idempotency_per_user",
        include_str!("../migrations/0007_idempotency_per_user.sql"),
    ),
];

/// The schema version this build expects.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database up to [`latest_version`]; a newer database than this build is refused.
pub(crate) fn apply(conn: &mut Connection) -> anyhow::Result<()> {
    apply_through(conn, latest_version())
}

/// Applies the migrations up to schema version `last` only — how a test builds a database as
/// an older build left it. A database newer than this build is refused.
pub(crate) fn apply_through(conn: &mut Connection, last: i64) -> anyhow::Result<()> {
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().take(last.max(0) as usize) {
        let target = index as i64 + 1;
        // IMMEDIATE takes the write lock first, so two processes opening the same file at once
        // cannot both apply a migration: the second sees the new version and skips it.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        if current >= target {
            continue;
        }
        tx.execute_batch(sql)
            .with_context(|| format!("applying migration {name}"))?;
        tx.pragma_update(None, "user_version", target)?;
        tx.commit()
            .with_context(|| format!("committing migration {name}"))?;
        tracing::info!(migration = name, "applied database migration");
    }
    let current = version(conn)?;
    if current > latest_version() {
        bail!(
            "the database schema is version {current}, newer than this build knows ({})",
            latest_version()
        );
    }
    Ok(())
}

/// The schema version recorded in the database.
pub(crate) fn version(conn: &Connection) -> anyhow::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .context("reading the schema version")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applying_twice_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), latest_version());
        apply(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), latest_version());
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'variants'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 1);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .unwrap();
        assert!(apply(&mut conn).is_err());
    }
}

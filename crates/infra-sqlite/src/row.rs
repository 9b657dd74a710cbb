//! Turning rows back into domain values, and building list queries.
//!
//! Values were validated before they were stored, so decoding re-runs the same constructors and
//! treats a refusal as a corrupt row (an error naming the column) rather than trusting the text.
//! Times are integer milliseconds since the epoch, the precision every store keeps.

use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use domain::values::{Money, Sku, StockLevel, Text};
use rusqlite::types::{Type, Value};
use rusqlite::Row;

/// The longest text a stored value may have when it is read back (validated on the way in).
const ANY_LENGTH: usize = usize::MAX;

/// Milliseconds since the epoch, as stored.
pub(crate) fn millis(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored value that no longer passes its constructor.
#[derive(Debug)]
struct Corrupt {
    column: String,
    reason: String,
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "column {} holds an invalid value: {}",
            self.column, self.reason
        )
    }
}

impl StdError for Corrupt {}

/// A column of a row: its name, or its position when the statement's column order is fixed
/// (a lookup by name compares the name with every column of the statement, on every read).
pub(crate) trait Column: rusqlite::RowIndex + Copy {}

impl Column for &str {}
impl Column for usize {}

/// Typed, validating reads of columns.
pub(crate) trait RowExt {
    /// Reads `column` and converts it with `convert`, reporting a refusal as a corrupt column.
    fn decode<R, T, E, C: Column>(
        &self,
        column: C,
        convert: impl FnOnce(R) -> Result<T, E>,
    ) -> rusqlite::Result<T>
    where
        R: rusqlite::types::FromSql,
        E: fmt::Display;

    fn id<T, C: Column>(&self, column: C) -> rusqlite::Result<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.decode(column, |s: String| s.parse::<T>())
    }

    fn opt_id<T, C: Column>(&self, column: C) -> rusqlite::Result<Option<T>>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.decode(column, |s: Option<String>| {
            s.map(|s| s.parse::<T>()).transpose()
        })
    }

    fn time<C: Column>(&self, column: C) -> rusqlite::Result<DateTime<Utc>> {
        self.decode(column, |ms: i64| {
            DateTime::from_timestamp_millis(ms).ok_or("out of range")
        })
    }

    fn opt_time<C: Column>(&self, column: C) -> rusqlite::Result<Option<DateTime<Utc>>> {
        self.decode(column, |ms: Option<i64>| match ms {
            None => Ok(None),
            Some(ms) => DateTime::from_timestamp_millis(ms)
                .map(Some)
                .ok_or("out of range"),
        })
    }

    fn text<C: Column>(&self, column: C) -> rusqlite::Result<Text> {
        self.decode(column, |s: String| Text::new(&s, ANY_LENGTH))
    }

    fn opt_text<C: Column>(&self, column: C) -> rusqlite::Result<Option<Text>> {
        self.decode(column, |s: Option<String>| {
            s.map(|s| Text::new(&s, ANY_LENGTH)).transpose()
        })
    }

    fn money<C: Column>(&self, column: C) -> rusqlite::Result<Money> {
        self.decode(column, Money::new)
    }

    fn opt_money<C: Column>(&self, column: C) -> rusqlite::Result<Option<Money>> {
        self.decode(column, |n: Option<i64>| n.map(Money::new).transpose())
    }

    fn level<C: Column>(&self, column: C) -> rusqlite::Result<StockLevel> {
        self.decode(column, StockLevel::new)
    }

    fn sku<C: Column>(&self, column: C) -> rusqlite::Result<Sku> {
        self.decode(column, |s: String| Sku::new(&s))
    }
}

impl RowExt for Row<'_> {
    fn decode<R, T, E, C: Column>(
        &self,
        column: C,
        convert: impl FnOnce(R) -> Result<T, E>,
    ) -> rusqlite::Result<T>
    where
        R: rusqlite::types::FromSql,
        E: fmt::Display,
    {
        let raw: R = self.get(column)?;
        convert(raw).map_err(|e| {
            let statement = self.as_ref();
            let index = column.idx(statement).unwrap_or_default();
            let name = statement.column_name(index).unwrap_or("?");
            rusqlite::Error::FromSqlConversionFailure(
                index,
                Type::Text,
                Box::new(Corrupt {
                    column: name.to_owned(),
                    reason: e.to_string(),
                }),
            )
        })
    }
}

/// A `SELECT` assembled from optional filters, with its parameters in order.
///
/// List filters are optional; writing each combination as a static statement would multiply
/// them, and `? IS NULL OR col = ?` hides the condition from the planner, so indexes go unused.
/// Conditions are appended only when present, always as placeholders (never as text).
pub(crate) struct Select {
    sql: String,
    params: Vec<Value>,
}

impl Select {
    /// Starts from a statement ending in a `WHERE` clause with at least one condition.
    pub(crate) fn new(base: &str) -> Self {
        Self {
            sql: base.to_owned(),
            params: Vec::new(),
        }
    }

    /// Binds a value for a placeholder already written in the base statement.
    pub(crate) fn bind(mut self, value: impl Into<Value>) -> Self {
        self.params.push(value.into());
        self
    }

    /// Appends `AND <condition>` where `condition` holds exactly one `?`.
    pub(crate) fn and(mut self, condition: &str, value: impl Into<Value>) -> Self {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
        self.params.push(value.into());
        self
    }

    /// Appends `AND <condition>` with no parameter.
    pub(crate) fn and_raw(mut self, condition: &str) -> Self {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
        self
    }

    /// Appends a trailing clause such as `ORDER BY …`.
    pub(crate) fn tail(mut self, clause: &str) -> Self {
        self.sql.push(' ');
        self.sql.push_str(clause);
        self
    }

    /// Appends the cursor condition on `column`, the order and `LIMIT limit + 1`.
    pub(crate) fn page(
        mut self,
        column: &str,
        page: &domain::pagination::PageRequest,
        direction: domain::pagination::Direction,
    ) -> Self {
        use domain::pagination::Direction;
        let (cmp, order) = match direction {
            Direction::Ascending => (">", "ASC"),
            Direction::Descending => ("<", "DESC"),
        };
        if let Some(after) = page.after {
            self = self.and(&format!("{column} {cmp} ?"), after.hyphenated().to_string());
        }
        self.sql
            .push_str(&format!(" ORDER BY {column} {order} LIMIT ?"));
        self.params.push(Value::Integer(i64::from(page.limit) + 1));
        self
    }

    /// Runs the statement, mapping every row.
    pub(crate) fn rows<T>(
        &self,
        conn: &rusqlite::Connection,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        let mut stmt = conn.prepare_cached(&self.sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(self.params.iter()), map)?;
        rows.collect()
    }
}

/// A JSON array of ids, for `IN (SELECT value FROM json_each(?))`: one parameter for any count.
pub(crate) fn id_list<T: ToString>(ids: impl IntoIterator<Item = T>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
    serde_json::Value::from(ids).to_string()
}

/// The one row `sql` finds, if any, through the connection's statement cache.
pub(crate) fn optional_row<T, P: rusqlite::Params>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: P,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(sql)?.query_row(params, map).optional()
}

/// Why a conditional `UPDATE` of the row `id` in `table` (one with `tenant_id`, `id` and a
/// version column) changed nothing: `NotFound` when the tenant has no such row, else
/// `VersionConflict` — it exists at another version. Asked in the write's own transaction.
pub(crate) fn missing_or_moved(
    tx: &rusqlite::Connection,
    table: &'static str,
    tenant: &str,
    id: &str,
) -> domain::StoreError {
    use crate::error::SqlResultExt;
    let found = optional_row(
        tx,
        &format!("SELECT 1 FROM {table} WHERE tenant_id = ?1 AND id = ?2"),
        rusqlite::params![tenant, id],
        |_| Ok(()),
    )
    .or_store("reading the version of the record to update");
    match found {
        Ok(Some(())) => domain::StoreError::VersionConflict,
        Ok(None) => domain::StoreError::NotFound,
        Err(e) => e,
    }
}

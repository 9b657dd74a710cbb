//! Cursor pages over `_id`.
//!
//! `_id` is the record's UUIDv7 as lowercase hyphenated text, whose text order is its time order,
//! so "after the cursor" is `_id > cursor` (oldest first) or `_id < cursor` (newest first) and
//! the sort on `_id` alone is stable. One extra document is fetched to learn whether a next page
//! exists.

use domain::pagination::{Direction, Page, PageRequest};
use domain::StoreError;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::Collection;
use serde::de::DeserializeOwned;

use crate::errors::StoreResult;

/// Reads one page of `collection` matching `filter`, converting each document with `convert`.
pub(crate) async fn read_page<D, T>(
    collection: &Collection<D>,
    mut filter: Document,
    page: &PageRequest,
    direction: Direction,
    convert: impl Fn(D) -> Result<T, StoreError>,
    id_of: impl Fn(&T) -> String,
) -> Result<Page<T>, StoreError>
where
    D: DeserializeOwned + Send + Sync,
{
    let (after, order) = match direction {
        Direction::Ascending => ("$gt", 1),
        Direction::Descending => ("$lt", -1),
    };
    if let Some(cursor) = page.after {
        filter.insert("_id", doc! { after: cursor.to_string() });
    }
    let docs: Vec<D> = collection
        .find(filter)
        .sort(doc! { "_id": order })
        .limit(i64::from(page.limit) + 1)
        .await
        .store("listing")?
        .try_collect()
        .await
        .store("listing")?;
    let rows = docs
        .into_iter()
        .map(convert)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, id_of))
}

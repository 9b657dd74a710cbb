//! Cursor pagination shared by every list.
//!
//! The cursor is the id of the last item of the previous page. Ids are unique and immutable, so
//! ordering on the id alone gives a stable order with no duplicates or gaps while paging.

use crate::error::{DomainError, FieldErrors};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// Which direction a list runs in: catalog lists are oldest first, ledgers and orders newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

/// A validated page request: `limit` in 1..=200, `after` an id (cursor) or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<uuid::Uuid>,
}

impl PageRequest {
    /// Validates raw `limit` and `cursor` query values, naming the bad field.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, DomainError> {
        let mut errors = FieldErrors::new();
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as u32,
            Some(_) => {
                errors.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
                DEFAULT_LIMIT
            }
        };
        let after = match cursor {
            None | Some("") => None,
            Some(c) => match uuid::Uuid::parse_str(c) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.add("cursor", "is not a cursor returned by this list");
                    None
                }
            },
        };
        errors.finish()?;
        Ok(Self { limit, after })
    }

    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }
}

/// One page of a list and the cursor for the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in list order: the extra row, if present,
    /// proves there is a next page and is dropped.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> String) -> Self {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if has_more {
            rows.last().map(id_of)
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors_are_validated() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(201), None).is_err());
        assert!(PageRequest::parse(None, Some("garbage")).is_err());
    }

    #[test]
    fn the_extra_row_sets_the_next_cursor() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor.as_deref(), Some("2"));
        let last = Page::from_rows(vec![1, 2], 2, |n| n.to_string());
        assert_eq!(last.next_cursor, None);
    }
}

//! Walking a list page by page, and the checks every paginated list must pass.

use std::future::Future;

use domain::pagination::{Page, PageRequest};
use domain::StoreError;

/// Fetches every page of a list with `limit`, following `next_cursor` until it is `None`.
pub async fn all_pages<T, F, Fut>(limit: u32, mut fetch: F) -> Vec<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(PageRequest { limit, after })
            .await
            .expect("list a page");
        pages.push(page.items);
        match page.next_cursor {
            None => return pages,
            Some(cursor) => {
                after = Some(uuid::Uuid::parse_str(&cursor).expect("the cursor is an id"));
            }
        }
        assert!(pages.len() <= 100, "the list never ends");
    }
}

/// Checks that 7 items paged by 3 arrive as 3, 3 and 1, in `expected` order, with no duplicate
/// or gap. `id_of` names an item.
pub fn assert_paged_in_order<T, Id>(pages: &[Vec<T>], expected: &[Id], id_of: impl Fn(&T) -> Id)
where
    Id: PartialEq + std::fmt::Debug,
{
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![3, 3, 1], "page sizes");
    let seen: Vec<Id> = pages.iter().flatten().map(id_of).collect();
    assert_eq!(seen, expected, "items in list order, each once");
}

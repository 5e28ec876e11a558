//! Keyset pagination.

use serde::{Deserialize, Serialize};

/// The largest page any listing returns.
pub const MAX_PAGE_SIZE: usize = 500;

/// The page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// Which page to list: items after `after` (exclusive), at most `limit` (clamped to
/// 1..=[`MAX_PAGE_SIZE`]). Both fields may be left out when deserializing (a query string
/// without `?limit=`): the first page of [`DEFAULT_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest<C> {
    /// The cursor of the previous page, `None` for the first.
    #[serde(default = "none")]
    pub after: Option<C>,
    /// How many items at most.
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn none<C>() -> Option<C> {
    None
}

fn default_limit() -> usize {
    DEFAULT_PAGE_SIZE
}

impl<C> PageRequest<C> {
    /// The first page of at most `limit` items.
    pub fn first(limit: usize) -> Self {
        PageRequest { after: None, limit }
    }

    /// The page after `cursor`.
    pub fn after(cursor: C, limit: usize) -> Self {
        PageRequest {
            after: Some(cursor),
            limit,
        }
    }

    pub(crate) fn clamped_limit(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE_SIZE)
    }
}

impl<C> Default for PageRequest<C> {
    fn default() -> Self {
        PageRequest::first(DEFAULT_PAGE_SIZE)
    }
}

/// One page of a listing; `next` is the cursor for the following page, `None` on the last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T, C> {
    /// The items, in ascending id order.
    pub items: Vec<T>,
    /// Pass to [`PageRequest::after`] for the next page.
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// Builds a page from what the store returned for `limit`, taking the cursor from the last item.
    pub(crate) fn from_items(items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> C) -> Self {
        let next = if items.len() >= limit {
            items.last().map(cursor)
        } else {
            None
        };
        Page { items, next }
    }
}

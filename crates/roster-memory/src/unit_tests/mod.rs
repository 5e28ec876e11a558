//! Unit tests of the store's own machinery: rollback, versions, listings. The whole `Store`
//! contract is exercised by the `roster-testkit` conformance suite in `tests/`.

mod fixtures;
mod listing;
mod rollback;
mod versions;

//! Cases of the `Store` contract (placeholder).
#[doc(hidden)]
#[macro_export]
macro_rules! __store_cases {
    ($factory:path) => {};
}

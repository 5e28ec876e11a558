//! Cases of the service rules on a store (placeholder).
#[doc(hidden)]
#[macro_export]
macro_rules! __scenario_cases {
    ($factory:path) => {};
}

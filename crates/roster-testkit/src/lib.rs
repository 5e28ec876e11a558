//! The conformance suite every [`roster::Store`] adapter runs.
//!
//! One macro call expands to separately named tests, each on a fresh store from your factory:
//!
//! ```ignore
//! async fn fresh_store() -> std::sync::Arc<dyn roster::Store> {
//!     std::sync::Arc::new(roster_memory::InMemoryStore::new())
//! }
//! roster_testkit::store_conformance!(fresh_store);
//! ```
//!
//! Two families of cases run:
//! - [`store_cases`]: the `Store` contract itself (every read, every write, version
//!   preconditions, atomicity, uniqueness), driven directly through `Arc<dyn Store>`;
//! - [`scenarios`]: the rules of the [`roster::Roster`] service on top of that store, including
//!   races (many tasks accepting one token; two Administrators demoting each other).

pub mod fixtures;
mod guarded;
pub mod model;
#[cfg(test)]
mod registry;
pub mod scenarios;
pub mod store_cases;

pub use guarded::Guarded;

/// proptest, for the expansion of [`model_conformance!`].
#[doc(hidden)]
pub use proptest as __proptest;

#[doc(hidden)]
pub mod __private {
    /// Runs one case on a fresh multi-threaded runtime, so races really run in parallel.
    pub fn run(case: impl std::future::Future<Output = ()>) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(case);
    }

    /// What a factory may return: a store, or `None` to skip the case (a server the suite
    /// needs is not configured; the factory says so).
    pub trait FreshStore {
        /// The store, or `None` to skip.
        fn into_store(self) -> Option<std::sync::Arc<dyn roster::Store>>;
    }

    impl FreshStore for std::sync::Arc<dyn roster::Store> {
        fn into_store(self) -> Option<std::sync::Arc<dyn roster::Store>> {
            Some(self)
        }
    }

    impl FreshStore for Option<std::sync::Arc<dyn roster::Store>> {
        fn into_store(self) -> Option<std::sync::Arc<dyn roster::Store>> {
            self
        }
    }
}

/// Expands to the whole conformance suite. `$factory` names an `async fn() -> Arc<dyn Store>`
/// that returns a fresh, empty store each time it is called (or an `async fn() ->
/// Option<Arc<dyn Store>>` answering `None` to skip each case, when the server it needs is not
/// configured).
#[macro_export]
macro_rules! store_conformance {
    ($factory:path) => {
        $crate::__store_cases!($factory);
        $crate::__scenario_cases!($factory);
    };
}

/// Expands one named test per case function: `__cases!(factory, module; a, b, c)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __cases {
    ($factory:path, $module:ident; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::__private::run(async {
                    let Some(store) = $crate::__private::FreshStore::into_store($factory().await)
                    else {
                        return;
                    };
                    $crate::$module::$case(store).await;
                });
            }
        )*
    };
}

//! Runnable examples of roster; see the `examples` directory of the workspace.
//!
//! The library holds what the examples share, such as the portal flow of the quickstart, so tests
//! can run the same flow (for instance to check that no token reaches the database file).
//!
//! It also compiles the README's embedding example as a doctest in `cargo test --workspace`.

pub mod portal;
pub mod web;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

//! Runnable examples of roster; see the `examples` directory of the workspace.
//!
//! This library target exists so that the README's embedding example is compiled and run as a
//! doctest by `cargo test --workspace`.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

//! Runnable examples of roster; see the `examples` directory.

//! Several processes on one SQLite file: a token raced by many processes at once, mixed commands
//! from many processes on one project, and processes killed (SIGKILL) in the middle of a bulk
//! invite.
//!
//! The children are this test binary run again on one `#[ignore]`d entry point (`--exact NAME
//! --ignored`), told their role and inputs through environment variables. They talk back by
//! printing marked lines on stdout; every wait on them has a deadline, and children still
//! running when a test ends (or fails) are killed.

// A test crate's root resolves modules beside it; these live in `processes/`.
#[path = "processes/crash.rs"]
mod crash;
#[path = "processes/load.rs"]
mod load;
#[path = "processes/race.rs"]
mod race;
#[path = "processes/support.rs"]
mod support;

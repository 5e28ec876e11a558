//! The notifier against real SMTP over 127.0.0.1, with roster on a SQLite file: a server started
//! inside the tests (see `smtp/server.rs`), plus one ignored test against an external server
//! (`.ci/run` runs it against `aiosmtpd`).

mod smtp {
    mod external;
    mod international;
    mod messages;
    mod outage;
    mod rejection;
    pub(crate) mod server;
    mod slow;
    pub(crate) mod support;
}

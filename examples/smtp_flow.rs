//! The portal flow of the quickstart on a SQLite file, with every email sent for real through an
//! SMTP server.
//!
//! Start a local server that prints what it receives (Python's `aiosmtpd`), then run the flow:
//!
//! ```sh
//! python3 -m venv /tmp/smtpd && /tmp/smtpd/bin/pip install aiosmtpd
//! /tmp/smtpd/bin/python -m aiosmtpd -n -l 127.0.0.1:2525 &
//! cargo run --example smtp_flow                                   # smtp://127.0.0.1:2525?tls=none
//! cargo run --example smtp_flow -- --smtp 'smtp://user:pass@mail.example.com:587?tls=starttls'
//! cargo run --example smtp_flow -- --db my.db                     # default: roster-smtp-flow.db
//! ```
//!
//! The invitation links in the emails point to `https://portal.example.com/invitations/...`;
//! the flow accepts with the same tokens, as the portal would when someone clicks.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use roster::{Notifier, NotifyError, OutgoingNotice, PasswordPolicy, Roster, RosterConfig};
use roster_examples::portal::{self, LINK_BASE};
use roster_smtp::{SmtpConfig, SmtpNotifier};
use roster_sqlite::SqliteStore;

const USAGE: &str = "usage: smtp_flow [--smtp URL] [--db PATH]";
const LOCAL_SERVER: &str = "python -m aiosmtpd -n -l 127.0.0.1:2525";

struct Args {
    smtp: String,
    db: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut parsed = Args {
        smtp: "smtp://127.0.0.1:2525?tls=none".to_owned(),
        db: PathBuf::from("roster-smtp-flow.db"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smtp" => parsed.smtp = args.next().ok_or(USAGE)?,
            "--db" => parsed.db = args.next().ok_or(USAGE)?.into(),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(parsed)
}

/// Prints one line per email handed to the SMTP server, so the flow shows what went out.
struct Announced(SmtpNotifier);

#[async_trait]
impl Notifier for Announced {
    async fn send(&self, outgoing: &OutgoingNotice) -> Result<(), NotifyError> {
        let result = self.0.send(outgoing).await;
        let kind = roster_smtp::kind_name(outgoing.notice.kind).unwrap_or("notice");
        match &result {
            Ok(()) => println!("    ✉ {kind} email to {} sent", outgoing.notice.to),
            Err(error) => println!(
                "    ✉ {kind} email to {} not sent: {error}",
                outgoing.notice.to
            ),
        }
        result
    }
}

/// The notifier for `url`, checked against the server before anything is sent.
async fn notifier(url: &str) -> Result<SmtpNotifier, String> {
    let config: SmtpConfig = url.parse().map_err(|error| format!("--smtp: {error}"))?;
    println!("smtp: {config}");
    let notifier = SmtpNotifier::builder(config, "portal@example.com", LINK_BASE)
        .from_name("Example Portal")
        .build()
        .map_err(|error| error.to_string())?;
    notifier.check_connection().await.map_err(|error| {
        format!("{error}\nno SMTP server there? start a local one with: {LOCAL_SERVER}")
    })?;
    Ok(notifier)
}

async fn run(args: Args) -> Result<(), String> {
    let notifier = notifier(&args.smtp).await?;
    let store = SqliteStore::open(&args.db)
        .map_err(|error| format!("cannot open {}: {error}", args.db.display()))?;
    println!("store: SQLite file {}", args.db.display());
    let roster = Roster::builder(Arc::new(store), Arc::new(Announced(notifier)))
        // Demo-grade hashing keeps the example instant; keep the default cost in production.
        .config(RosterConfig::default().passwords(PasswordPolicy::insecure_fast_for_tests()))
        .roles(portal::catalog())
        .build()
        .expect("a valid configuration");
    portal::run(&roster)
        .await
        .map_err(|error| error.to_string())?;
    // Anything a hiccup left queued (or an earlier run left behind) goes out now.
    let report = roster
        .deliver_pending()
        .await
        .map_err(|error| error.to_string())?;
    println!(
        "\n== Notices still queued from failed sends, delivered now: {}",
        report.delivered
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

//! The portal on the web: the seed's pages, served on 127.0.0.1:3000.
//!
//! ```sh
//! cargo run --example portal                          # SQLite file roster-portal.db, emails printed
//! cargo run --example portal -- --smtp "smtp://127.0.0.1:2525?tls=none"   # emails sent over SMTP
//! cargo run --example portal -- --db other.db --addr 127.0.0.1:8080
//! ```
//!
//! On a new file it creates the demo's people (printed at start): Alice, account administrator
//! of "Acme Cloud" with the project "Website"; Bob, who has an account of his own; Carol, a User
//! of the project. Open http://127.0.0.1:3000 and sign in as Alice.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use roster::{Acceptance, InviteRequest, Notifier, Roster, RosterError, StoreExt};
use roster_examples::portal::{self, ConsoleNotifier};
use roster_smtp::{SmtpConfig, SmtpNotifier};
use roster_sqlite::SqliteStore;

const USAGE: &str = "usage: portal [--db PATH | --memory] [--smtp URL] [--addr HOST:PORT]";

/// The demo's people: (address, password).
const ALICE: (&str, &str) = ("alice@acme.example", "alice-password-1");
const BOB: (&str, &str) = ("bob@example.org", "bob-password-12");
const CAROL: (&str, &str) = ("carol@acme.example", "carol-password-1");

struct Args {
    db: Option<PathBuf>,
    smtp: Option<String>,
    addr: SocketAddr,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        db: Some(PathBuf::from("roster-portal.db")),
        smtp: None,
        addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--db" => args.db = Some(given.next().ok_or(USAGE)?.into()),
            "--memory" => args.db = None,
            "--smtp" => args.smtp = Some(given.next().ok_or(USAGE)?),
            "--addr" => {
                let addr = given.next().ok_or(USAGE)?;
                args.addr = addr.parse().map_err(|e| format!("--addr {addr}: {e}"))?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// Creates the demo's people, account and project on an empty store.
async fn seed(roster: &Roster) -> Result<(), RosterError> {
    if roster
        .store()
        .user_by_email(&roster::Email::parse(ALICE.0)?)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let alice = roster.register(ALICE.0, ALICE.1).await?;
    let acme = roster.create_account(alice.id, "Acme Cloud").await?;
    let website = roster.create_project(alice.id, acme.id, "Website").await?;
    let bob = roster.register(BOB.0, BOB.1).await?;
    let studio = roster.create_account(bob.id, "Bob's Studio").await?;
    roster
        .create_project(bob.id, studio.id, "Portfolio")
        .await?;
    let rows = [InviteRequest::new(CAROL.0, portal::USERS)];
    let report = roster.invite(alice.id, website.id, &rows).await?;
    if let Some(token) = report.rows[0].outcome.token() {
        let password = CAROL.1.to_owned();
        roster
            .accept(token, Acceptance::NewUser { password })
            .await?;
    }
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
    let link_base = format!("http://{}/invitations", args.addr);
    let store: Arc<dyn roster::Store> = match &args.db {
        None => Arc::new(roster_memory::InMemoryStore::new()),
        Some(path) => match SqliteStore::open(path) {
            Ok(store) => Arc::new(store),
            Err(error) => {
                eprintln!("cannot open {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
        },
    };
    let notifier: Arc<dyn Notifier> = match &args.smtp {
        None => Arc::new(ConsoleNotifier::with_link_base(&link_base)),
        Some(url) => {
            let config: SmtpConfig = match url.parse() {
                Ok(config) => config,
                Err(error) => {
                    eprintln!("--smtp: {error}");
                    return ExitCode::from(2);
                }
            };
            match SmtpNotifier::builder(config, "portal@acme.example", &link_base).build() {
                Ok(notifier) => Arc::new(notifier),
                Err(error) => {
                    eprintln!("--smtp: {error}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let roster = match Roster::builder(store, notifier)
        .roles(portal::catalog())
        .build()
    {
        Ok(roster) => roster,
        Err(error) => {
            eprintln!("configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = seed(&roster).await {
        eprintln!("seeding the demo: {error}");
        return ExitCode::FAILURE;
    }
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}: {error}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    println!("portal: http://{}", args.addr);
    for (who, (email, password)) in [
        ("administrator", ALICE),
        ("existing user", BOB),
        ("user", CAROL),
    ] {
        println!("  {who:<14} {email} / {password}");
    }
    let worker = roster::DeliveryWorker::spawn(roster.clone(), std::time::Duration::from_secs(5));
    let app = roster_examples::web::app(roster, false);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    worker.shutdown().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server: {error}");
            ExitCode::FAILURE
        }
    }
}

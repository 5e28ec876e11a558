//! The whole portal flow, printing each step and each email as it would be sent.
//!
//! ```sh
//! cargo run --example quickstart                  # on a SQLite file, roster-quickstart.db
//! cargo run --example quickstart -- --db my.db    # on a file of your choice
//! cargo run --example quickstart -- --memory      # on the in-memory store
//! cargo run --example quickstart -- --postgres postgres://user@127.0.0.1/db   # on PostgreSQL
//! ```
//!
//! Run it twice on the same file: the second run continues from the stored state (people sign in
//! instead of signing up, and a new project gets the invitations).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use roster::{PasswordPolicy, Roster, RosterConfig, Store};
use roster_examples::portal::{self, ConsoleNotifier};
use roster_memory::InMemoryStore;
use roster_sqlite::SqliteStore;

const USAGE: &str = "usage: quickstart [--db PATH | --memory | --postgres URL]";

enum Storage {
    File(PathBuf),
    Memory,
    Postgres(String),
}

fn parse_args() -> Result<Storage, String> {
    let mut storage = Storage::File(PathBuf::from("roster-quickstart.db"));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => storage = Storage::File(args.next().ok_or(USAGE)?.into()),
            "--memory" => storage = Storage::Memory,
            "--postgres" => storage = Storage::Postgres(args.next().ok_or(USAGE)?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(storage)
}

#[tokio::main]
async fn main() -> ExitCode {
    let storage = match parse_args() {
        Ok(storage) => storage,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let store: Arc<dyn Store> = match storage {
        Storage::Memory => {
            println!("store: in memory (gone when the program ends)");
            Arc::new(InMemoryStore::new())
        }
        Storage::Postgres(url) => match roster_postgres::PostgresStore::connect(&url).await {
            Ok(store) => {
                println!("store: PostgreSQL, schema {}", store.schema());
                Arc::new(store)
            }
            Err(error) => {
                eprintln!("cannot connect to PostgreSQL: {error}");
                return ExitCode::FAILURE;
            }
        },
        Storage::File(path) => match SqliteStore::open(&path) {
            Ok(store) => {
                println!("store: SQLite file {}", path.display());
                Arc::new(store)
            }
            Err(error) => {
                eprintln!("cannot open {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
        },
    };
    let roster = Roster::builder(store, Arc::new(ConsoleNotifier::default()))
        // Demo-grade hashing keeps the example instant; keep the default cost in production.
        .config(RosterConfig::default().passwords(PasswordPolicy::insecure_fast_for_tests()))
        .roles(portal::catalog())
        .build()
        .expect("a valid configuration");
    match portal::run(&roster).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

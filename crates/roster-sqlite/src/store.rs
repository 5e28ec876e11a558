//! [`SqliteStore`]: opening the file, and the [`Store`] trait over its connections.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster::store::{InvitationQuery, Member, OutboxQuery, Step};
use roster::{
    Account, AccountId, AuditEvent, Email, EventId, Invitation, OutboxEntry, PasswordHash, Project,
    ProjectId, Store, StoreError, User, UserId,
};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use crate::error::SqliteError;
use crate::options::{JournalMode, SqliteOptions};
use crate::pool::Connections;
use crate::{checkpoint, group, migrate, read};

/// Prepared statements kept per connection, least recently used dropped first: the 40-odd fixed
/// ones and room for the column sets that updates name (see `update`; a dozen in practice).
const STATEMENT_CACHE: usize = 128;

/// A [`Store`] in one SQLite file: durable, with no server to run, safe to share between tasks,
/// connections and processes.
///
/// Cheap to clone: clones share the same connections. Every method needs a Tokio runtime (it runs
/// SQLite on the blocking pool).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use roster::Store;
/// use roster_sqlite::SqliteStore;
///
/// let dir = tempfile::tempdir()?;
/// let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("roster.db"))?);
/// # let _ = store;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    connections: Arc<Connections>,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with the default [`SqliteOptions`],
    /// and brings its schema up to date.
    ///
    /// Blocks while it opens the file and migrates; call it before serving, or from
    /// `tokio::task::spawn_blocking`.
    ///
    /// # Errors
    /// [`SqliteError`] if the file cannot be opened or configured, is not a SQLite database,
    /// cannot be migrated, or was written by a newer schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SqliteError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens (creating if needed) the database at `path` with `options`, and brings its schema
    /// up to date. The path `":memory:"` opens a private in-memory database, as
    /// [`SqliteStore::open_in_memory`] does.
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, SqliteError> {
        let path = path.as_ref();
        if path == Path::new(":memory:") {
            return Self::open_in_memory();
        }
        let opened = |source| SqliteError::Open {
            path: path.to_owned(),
            source,
        };
        let mut writer = Connection::open(path).map_err(opened)?;
        configure(&writer, &options)?;
        // SQLite reads the file lazily; reading its schema now reports a file that is not a
        // database as such, rather than as a failed setting.
        writer
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| {
                row.get::<_, i64>(0)
            })
            .map_err(opened)?;
        migrate::inspect(&writer, path)?;
        set_journal_mode(&writer, options.journal_mode)?;
        pragma(&writer, "synchronous", options.synchronous.as_str())?;
        migrate::migrate(&mut writer)?;
        if options.journal_mode == JournalMode::Wal {
            checkpoint::hand_off(&mut writer, path, &options)?;
        }
        let readers = (0..options.readers)
            .map(|_| open_reader(path, &options))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SqliteStore {
            connections: Arc::new(Connections::new(writer, readers)),
            path: Some(path.to_owned()),
        })
    }

    /// A fresh, private in-memory database with the current schema, for tests and demos.
    ///
    /// It lives as long as the store (and its clones) and uses one connection for everything,
    /// since every in-memory connection would otherwise see its own empty database.
    ///
    /// # Errors
    /// [`SqliteError`] if SQLite cannot create or migrate it.
    pub fn open_in_memory() -> Result<Self, SqliteError> {
        let opened = |source| SqliteError::Open {
            path: PathBuf::from(":memory:"),
            source,
        };
        let mut conn = Connection::open_in_memory().map_err(opened)?;
        configure(&conn, &SqliteOptions::default())?;
        migrate::migrate(&mut conn)?;
        Ok(SqliteStore {
            connections: Arc::new(Connections::new(conn, Vec::new())),
            path: None,
        })
    }

    /// The file this store keeps its data in; `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

/// Settings every connection gets.
fn configure(conn: &Connection, options: &SqliteOptions) -> Result<(), SqliteError> {
    conn.busy_timeout(options.busy_timeout)
        .map_err(|source| SqliteError::Configure {
            setting: format!("busy_timeout = {:?}", options.busy_timeout),
            source,
        })?;
    pragma(conn, "foreign_keys", "ON")?;
    // Without the query planner stability guarantee SQLite re-prepares a cached statement whose
    // plan could depend on bound values (most of ours with ORDER BY) every time it runs: about
    // 8% of an accept's CPU, measured by the sqlite bench.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(|source| SqliteError::Configure {
            setting: "enable_qpsg = true".into(),
            source,
        })?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

fn pragma(conn: &Connection, name: &str, value: &str) -> Result<(), SqliteError> {
    conn.pragma_update(None, name, value)
        .map_err(|source| SqliteError::Configure {
            setting: format!("{name} = {value}"),
            source,
        })
}

/// Sets the journal mode. SQLite answers with the mode it actually uses, which differs when the
/// file system cannot do the one asked for; the store still works then (readers just wait for
/// commits), so that is logged rather than refused.
fn set_journal_mode(conn: &Connection, mode: JournalMode) -> Result<(), SqliteError> {
    let actual: String = conn
        .pragma_update_and_check(None, "journal_mode", mode.as_str(), |row| row.get(0))
        .map_err(|source| SqliteError::Configure {
            setting: format!("journal_mode = {}", mode.as_str()),
            source,
        })?;
    if !actual.eq_ignore_ascii_case(mode.as_str()) {
        tracing::warn!(
            requested = mode.as_str(),
            actual = %actual,
            "SQLite did not accept the journal mode"
        );
    }
    Ok(())
}

/// A connection that only reads (SQLite refuses writes on it), opened after the writer has
/// migrated the schema.
fn open_reader(path: &Path, options: &SqliteOptions) -> Result<Connection, SqliteError> {
    let conn = open_connection(path, options)?;
    pragma(&conn, "query_only", "ON")?;
    Ok(conn)
}

/// Another connection to the file the writer opened and migrated, with every setting.
pub(crate) fn open_connection(
    path: &Path,
    options: &SqliteOptions,
) -> Result<Connection, SqliteError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| SqliteError::Open {
        path: path.to_owned(),
        source,
    })?;
    configure(&conn, options)?;
    Ok(conn)
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn transact(&self, step: Step) -> Result<(), StoreError> {
        if step.read_only {
            return self
                .connections
                .read(move |conn| group::look(conn, step))
                .await;
        }
        self.connections.transact(step).await
    }

    async fn projects(&self, account: AccountId) -> Result<Vec<Project>, StoreError> {
        self.connections
            .read(move |conn| read::projects(conn, account))
            .await
    }

    async fn accounts_of_user(&self, user: UserId) -> Result<Vec<Account>, StoreError> {
        self.connections
            .read(move |conn| read::accounts_of_user(conn, user))
            .await
    }

    async fn credentials(
        &self,
        email: &Email,
    ) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> {
        let canonical = email.canonical().to_owned();
        self.connections
            .read(move |conn| read::credentials(conn, &canonical))
            .await
    }

    async fn members(
        &self,
        project: ProjectId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError> {
        self.connections
            .read(move |conn| read::members(conn, project, after, limit))
            .await
    }

    async fn invitations(&self, query: &InvitationQuery) -> Result<Vec<Invitation>, StoreError> {
        let query = query.clone();
        self.connections
            .read(move |conn| read::invitations(conn, &query))
            .await
    }

    async fn audit_events(
        &self,
        project: ProjectId,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.connections
            .read(move |conn| read::audit_events(conn, project, after, limit))
            .await
    }

    async fn due_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.connections
            .read(move |conn| read::due_notices(conn, now, limit))
            .await
    }

    async fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError> {
        let query = query.clone();
        self.connections
            .read(move |conn| read::outbox(conn, &query))
            .await
    }
}

//! [`PostgresStore`]: connecting, and the [`Store`] trait over its pool.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{
    ClientWrapper, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use roster::store::{InvitationQuery, Member, OutboxQuery, Snapshot, Step};
use roster::{
    Account, AccountId, AuditEvent, Email, EventId, Invitation, OutboxEntry, PasswordHash, Project,
    ProjectId, Store, StoreError, User, UserId,
};

use crate::error::{PostgresError, connection_lost, pool_error};
use crate::gather::{self, Plan};
use crate::options::PostgresOptions;
use crate::pipeline::Pipeline;
use crate::queue::{self, Queues};
use crate::{migrate, read, write};

/// A [`Store`] on a PostgreSQL database, for services that run several instances: every rule
/// holds while instances race, because each command runs in one transaction holding its
/// project's row lock (see the crate documentation).
///
/// Cheap to clone: clones share one connection pool. Separate `connect` calls make separate
/// pools, as separate service instances would have.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    schema: String,
    pub(crate) queues: Arc<Queues>,
}

impl PostgresStore {
    /// Connects to the server at `url` with the default [`PostgresOptions`] and brings the
    /// schema `roster` up to date.
    ///
    /// # Errors
    /// As [`PostgresStore::connect_with`], and [`PostgresError::Url`] if `url` does not parse.
    pub async fn connect(url: &str) -> Result<Self, PostgresError> {
        Self::connect_with(PostgresOptions::new(url)?).await
    }

    /// Connects with `options` and brings their schema up to date (creating it if needed), under
    /// an advisory lock, so that instances starting at once migrate exactly once.
    ///
    /// # Errors
    /// [`PostgresError`] if the server cannot be reached, the schema cannot be migrated, or it
    /// was written by a newer roster-postgres (then nothing is changed).
    pub async fn connect_with(options: PostgresOptions) -> Result<Self, PostgresError> {
        let mut config = options.config.clone();
        let mut session = config.get_options().map(str::to_owned).unwrap_or_default();
        // The name is a plain identifier (checked by `PostgresOptions::schema`).
        session.push_str(&format!(" -c search_path={}", options.schema));
        // Every statement is keyed (by id, address or cursor), so its best plan does not depend
        // on the values, and each is prepared once per connection: planning it once rather than
        // on every execution saves much of the server's time on a small command. By default
        // PostgreSQL replans whenever the generic plan looks costlier than the custom ones had,
        // and so replanned an invite's address lookup every time (170 µs, to run it in 25).
        session.push_str(" -c plan_cache_mode=force_generic_plan");
        if let Some(timeout) = options.statement_timeout {
            session.push_str(&format!(
                " -c statement_timeout={}",
                timeout.as_millis().max(1)
            ));
        }
        config.options(session.trim());
        config.connect_timeout(options.connect_timeout);
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = manager(config, manager_config, &options)?;
        let pool = Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|source| PostgresError::Pool { source })?;
        let mut client = pool
            .get()
            .await
            .map_err(|source| PostgresError::Connect { source })?;
        migrate::migrate(&mut client, &options.schema).await?;
        Ok(PostgresStore {
            pool,
            schema: options.schema,
            queues: Arc::default(),
        })
    }

    /// Readiness: a connection can be had and the schema is at this crate's version.
    ///
    /// # Errors
    /// [`PostgresError::Connect`] or [`PostgresError::Setup`] when the server does not answer
    /// as it should.
    pub async fn check(&self) -> Result<(), PostgresError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|source| PostgresError::Connect { source })?;
        let version: Option<i64> = client
            .query_one("SELECT max(version) FROM roster_schema", &[])
            .await
            .map_err(|source| PostgresError::Setup { source })?
            .get(0);
        match version {
            Some(migrate::SCHEMA_VERSION) => Ok(()),
            found => Err(PostgresError::SchemaTooNew {
                found: found.unwrap_or(0),
                supported: migrate::SCHEMA_VERSION,
            }),
        }
    }

    /// The schema holding roster's tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The most connections the pool holds.
    pub(crate) fn pool_size(&self) -> usize {
        self.pool.status().max_size
    }

    pub(crate) async fn session(&self) -> Result<Session, StoreError> {
        Ok(Session(Some(self.pool.get().await.map_err(pool_error)?)))
    }

    /// Runs `work` on a pooled connection. On an error the connection is rolled back, and
    /// dropped if even that fails; a call cancelled half way drops it too, so no connection
    /// goes back to the pool inside a transaction.
    async fn with_client<T>(
        &self,
        work: impl AsyncFnOnce(&ClientWrapper) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let session = self.session().await?;
        let result = work(session.client()).await;
        end(session, result).await
    }

    /// Runs a step, as [`PostgresStore::with_client`] runs work, except that a step whose
    /// connection turns out closed (the server restarted, or cut it) before its `COMMIT` was
    /// sent is tried again on another connection (at most once per pooled connection, plus
    /// one): nothing of it was kept, and its decision had not been made or is made again (the
    /// contract allows one call per attempt). Once the commit is sent, whether the change
    /// landed is unknown, and the retryable error is the answer.
    async fn run_step(&self, step: &mut Step) -> Result<(), StoreError> {
        // Every pooled connection may be dead at once (a restart): one more try than the pool
        // holds reaches a fresh one.
        let mut tries = self.pool_size() + 1;
        loop {
            tries -= 1;
            let session = self.session().await?;
            let committing = AtomicBool::new(false);
            let result = if step.read_only {
                look(session.client(), step).await
            } else {
                change(session.client(), step, &committing).await
            };
            let lost = result.as_ref().is_err_and(connection_lost);
            if lost && !committing.load(Ordering::Relaxed) && tries > 0 {
                continue;
            }
            if lost {
                // Dropping the session closes what is left of the connection.
                return result;
            }
            return end(session, result).await;
        }
    }
}

/// Ends a session: back to the pool after success, or after a rollback that worked; closed
/// otherwise.
pub(crate) async fn end<T>(
    session: Session,
    result: Result<T, StoreError>,
) -> Result<T, StoreError> {
    if result.is_err()
        && (session.client().is_closed()
            || session.client().batch_execute("ROLLBACK").await.is_err())
    {
        return result;
    }
    session.keep();
    result
}

#[cfg(feature = "tls")]
fn manager(
    config: tokio_postgres::Config,
    manager_config: ManagerConfig,
    options: &PostgresOptions,
) -> Result<Manager, PostgresError> {
    if !options.tls {
        return Ok(Manager::from_config(
            config,
            tokio_postgres::NoTls,
            manager_config,
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    if options.roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for root in &options.roots {
        roots
            .add(root.clone())
            .map_err(|source| PostgresError::Tls { source })?;
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|source| PostgresError::Tls { source })?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
    Ok(Manager::from_config(config, tls, manager_config))
}

#[cfg(not(feature = "tls"))]
fn manager(
    config: tokio_postgres::Config,
    manager_config: ManagerConfig,
    _options: &PostgresOptions,
) -> Result<Manager, PostgresError> {
    Ok(Manager::from_config(
        config,
        tokio_postgres::NoTls,
        manager_config,
    ))
}

/// A pooled connection that goes back to the pool only through [`Session::keep`]; dropped
/// otherwise, it is closed (and the server rolls back whatever it was doing).
pub(crate) struct Session(Option<Object>);

impl Session {
    pub(crate) fn client(&self) -> &ClientWrapper {
        self.0
            .as_ref()
            .expect("a session holds its connection until it ends")
    }

    pub(crate) fn keep(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(object) = self.0.take() {
            drop(Object::take(object));
        }
    }
}

/// A writing step: BEGIN, its locks, its delivery records and its reads in one batch; the
/// decision; then its change with COMMIT in a second. A step that reads nothing sends it all
/// in one.
async fn change(
    client: &ClientWrapper,
    step: &mut Step,
    committing: &AtomicBool,
) -> Result<(), StoreError> {
    let mut p = Pipeline::default();
    p.command("BEGIN ISOLATION LEVEL READ COMMITTED");
    let (prelude, plan) = gather::prelude(step, gather::Locking::Wait)?;
    let reads_at = p.append(prelude);
    let (mut p, snapshot) = if matches!(plan, Plan::Nothing) {
        // One batch, which ends in the commit.
        committing.store(true, Ordering::Relaxed);
        (p, Snapshot::Nothing)
    } else {
        let rows = p.run(client).await?;
        (
            Pipeline::default(),
            gather::snapshot(plan, &rows[reads_at..])?,
        )
    };
    let change = step.decide(snapshot)?;
    if let Some(refusal) = write::add_change(&mut p, &change)? {
        p.command("ROLLBACK");
        p.run(client).await?;
        return Err(refusal);
    }
    p.command("COMMIT");
    committing.store(true, Ordering::Relaxed);
    p.run(client).await?;
    Ok(())
}

/// A read-only step: its reads in one repeatable-read, read-only transaction (one consistent
/// snapshot, no locks), sent with BEGIN and COMMIT in one batch; then the decision.
async fn look(client: &ClientWrapper, step: &mut Step) -> Result<(), StoreError> {
    let mut p = Pipeline::default();
    p.command("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    let plan = gather::reads(&step.read, &mut p)?;
    let snapshot = if matches!(plan, Plan::Nothing) {
        Snapshot::Nothing
    } else {
        p.command("COMMIT");
        let rows = p.run(client).await?;
        gather::snapshot(plan, &rows)?
    };
    if !step.decide(snapshot)?.is_empty() {
        return Err(StoreError::backend("a read-only step decided to write"));
    }
    Ok(())
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .field("pool", &self.pool.status())
            .finish()
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn transact(&self, mut step: Step) -> Result<(), StoreError> {
        let Some(project) = queue::project_of(&step) else {
            return self.run_step(&mut step).await;
        };
        let (outcome, started) = self.queues.join(project, step);
        if started {
            tokio::spawn(self.clone().drive(project));
        }
        outcome.await.unwrap_or_else(|_| {
            Err(StoreError::transient(
                "the task running this project's transactions stopped (the runtime is shutting down)",
            ))
        })
    }

    async fn projects(&self, account: AccountId) -> Result<Vec<Project>, StoreError> {
        self.with_client(async |c| read::projects(c, account).await)
            .await
    }

    async fn accounts_of_user(&self, user: UserId) -> Result<Vec<Account>, StoreError> {
        self.with_client(async |c| read::accounts_of_user(c, user).await)
            .await
    }

    async fn credentials(
        &self,
        email: &Email,
    ) -> Result<Option<(User, Option<PasswordHash>)>, StoreError> {
        let canonical = email.canonical().to_owned();
        self.with_client(async |c| read::credentials(c, canonical).await)
            .await
    }

    async fn members(
        &self,
        project: ProjectId,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError> {
        self.with_client(async |c| read::members(c, project, after, limit).await)
            .await
    }

    async fn invitations(&self, query: &InvitationQuery) -> Result<Vec<Invitation>, StoreError> {
        self.with_client(async |c| read::invitations(c, query).await)
            .await
    }

    async fn audit_events(
        &self,
        project: ProjectId,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.with_client(async |c| read::audit_events(c, project, after, limit).await)
            .await
    }

    async fn due_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.with_client(async |c| read::due_notices(c, now, limit).await)
            .await
    }

    async fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxEntry>, StoreError> {
        self.with_client(async |c| read::outbox(c, query).await)
            .await
    }
}

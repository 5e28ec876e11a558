//! [`PostgresOptions`]: where the server is and how the store uses it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::PostgresError;

/// How a [`PostgresStore`](crate::PostgresStore) connects: the server (a `postgres://` URL or a
/// key-value string, as libpq takes them), the pool size, the statement timeout, the schema
/// holding roster's tables, and TLS.
///
/// ```
/// use std::time::Duration;
/// use roster_postgres::PostgresOptions;
///
/// let options = PostgresOptions::new("postgres://roster:secret@db.internal/app")?
///     .pool_size(16)
///     .statement_timeout(Duration::from_secs(5))
///     .schema("tenant_a")?;
/// // The password is never shown.
/// assert!(!format!("{options:?}").contains("secret"));
/// # Ok::<(), roster_postgres::PostgresError>(())
/// ```
#[derive(Clone)]
pub struct PostgresOptions {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) pool_size: usize,
    pub(crate) statement_timeout: Option<Duration>,
    pub(crate) connect_timeout: Duration,
    pub(crate) schema: String,
    #[cfg(feature = "tls")]
    pub(crate) tls: bool,
    /// The certificates a server's must chain to, DER; empty for the webpki roots.
    #[cfg(feature = "tls")]
    pub(crate) roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl PostgresOptions {
    /// Options for the server at `url` (`postgres://user:password@host:port/database?...` or
    /// `host=... user=...`), with the defaults: a pool of 8 connections, a 30-second statement
    /// timeout, a 10-second connect timeout, the schema `roster`, no TLS.
    ///
    /// # Errors
    /// [`PostgresError::Url`] if `url` does not parse.
    pub fn new(url: &str) -> Result<Self, PostgresError> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|source| PostgresError::Url { source })?;
        Ok(PostgresOptions {
            config,
            pool_size: 8,
            statement_timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(10),
            schema: "roster".to_owned(),
            #[cfg(feature = "tls")]
            tls: false,
            #[cfg(feature = "tls")]
            roots: Vec::new(),
        })
    }

    /// At most this many connections (at least 1). Each command holds one for its transaction.
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// Statements running longer than this are cancelled (a retryable error); `None` for no
    /// limit.
    pub fn statement_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.statement_timeout = timeout.into();
        self
    }

    /// How long opening a connection may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The schema holding roster's tables, created if missing; lets tenants or tests share one
    /// database. A plain identifier: 1 to 63 of `a-z`, `0-9` and `_`, not starting with a
    /// digit.
    ///
    /// # Errors
    /// [`PostgresError::SchemaName`] for any other name.
    pub fn schema(mut self, name: &str) -> Result<Self, PostgresError> {
        let plain = !name.is_empty()
            && name.len() <= 63
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !plain {
            return Err(PostgresError::SchemaName(name.to_owned()));
        }
        name.clone_into(&mut self.schema);
        Ok(self)
    }

    /// Connects over TLS (rustls, verified against the webpki root certificates, or those of
    /// [`PostgresOptions::tls_root_certificates`]), as the URL's `sslmode` asks (`require`
    /// refuses a server without TLS).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Connects over TLS and trusts only the certificate authorities in `pem` (one or more PEM
    /// `CERTIFICATE` blocks) instead of the webpki roots: for a server whose certificate a
    /// private or a cloud provider's CA signed (Amazon RDS's, say).
    ///
    /// # Errors
    /// [`PostgresError::Certificates`] if `pem` holds no certificate or one that does not
    /// parse.
    #[cfg(feature = "tls")]
    pub fn tls_root_certificates(mut self, pem: &[u8]) -> Result<Self, PostgresError> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let roots = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| PostgresError::Certificates {
                source: Box::new(error),
            })?;
        if roots.is_empty() {
            return Err(PostgresError::Certificates {
                source: "no CERTIFICATE block".into(),
            });
        }
        self.tls = true;
        self.roots = roots;
        Ok(self)
    }

    /// The schema the store uses.
    pub fn schema_name(&self) -> &str {
        &self.schema
    }
}

impl fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("PostgresOptions");
        out.field("hosts", &self.config.get_hosts())
            .field("ports", &self.config.get_ports())
            .field("user", &self.config.get_user())
            .field("dbname", &self.config.get_dbname())
            .field(
                "password",
                &self.config.get_password().map(|_| "<redacted>"),
            )
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .field("schema", &self.schema);
        #[cfg(feature = "tls")]
        out.field("tls", &self.tls)
            .field("root_certificates", &self.roots.len());
        out.finish()
    }
}

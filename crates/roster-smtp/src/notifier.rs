//! [`SmtpNotifier`]: roster's [`Notifier`] over SMTP.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials as LettreCredentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use roster::{Notifier, NotifyError, OutgoingNotice};
use tokio::sync::Semaphore;

use crate::classify::{classify, is_missing_smtputf8, missing_smtputf8_reason, redact};
use crate::config::{Security, SmtpConfig};
use crate::error::BuildError;
use crate::message::{Composer, LinkBase, mailbox};
use crate::templates::Templates;

/// Sends roster's notices as email through an SMTP server: one `multipart/alternative` message
/// (plain text and HTML) per notice, rendered from [`Templates`] in the notice's language.
///
/// Failures tell the outbox what to do: no connection, a timeout or a 4xx reply is
/// [temporary](NotifyError::temporary) (retried with backoff); a 5xx reply about the message or
/// the recipient, an address the transport cannot use, an internationalized address (one whose
/// local part is not ASCII) sent to a server that does not offer SMTPUTF8, or a template that
/// does not render is
/// [permanent](NotifyError::permanent) (the notice is marked failed with the reason, for
/// [`Roster::notices`](roster::Roster::notices) to list and
/// [`Roster::requeue_notice`](roster::Roster::requeue_notice) to send again). The reason is the
/// server's own words, never the link or its token.
///
/// At most [`SmtpConfig::pool_size`] messages are in flight at once, over as many pooled
/// connections; further sends wait for a free one.
pub struct SmtpNotifier {
    /// Retired when a send is cut (see [`CutSend`]) and made again by the next use; sends in
    /// flight keep the one they started on.
    transport: Mutex<Option<Arc<Transport>>>,
    /// What a replacement transport is built from.
    config: SmtpConfig,
    composer: Composer,
    slots: Semaphore,
    server: String,
}

/// lettre's transport, dropped safely anywhere: its connection pool spawns a task when dropped,
/// which panics outside a Tokio runtime (as when a service drops its `Roster` after the runtime
/// in `main` has gone), so there it is dropped inside a short-lived runtime of its own.
struct Transport(Option<AsyncSmtpTransport<Tokio1Executor>>);

impl std::ops::Deref for Transport {
    type Target = AsyncSmtpTransport<Tokio1Executor>;

    fn deref(&self) -> &Self::Target {
        // Present from construction until `drop`, which alone takes it.
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("the transport is only taken on drop"))
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        let Some(transport) = self.0.take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            return drop(transport);
        }
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => {
                let _entered = runtime.enter();
                drop(transport);
            }
            // No runtime can be had: leave the sockets to the operating system.
            Err(_) => std::mem::forget(transport),
        }
    }
}

impl fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("server", &self.server)
            .field("from", &self.composer.from.to_string())
            .field("links", &self.composer.links)
            .field("templates", &self.composer.templates)
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// A builder for a notifier sending through `config`, from `from_address`, with links under
    /// `link_base` (see [`LinkBase`]).
    pub fn builder(
        config: SmtpConfig,
        from_address: impl Into<String>,
        link_base: impl Into<String>,
    ) -> SmtpNotifierBuilder {
        SmtpNotifierBuilder {
            config,
            from_address: from_address.into(),
            from_name: None,
            link_base: link_base.into(),
            templates: Templates::new(),
        }
    }

    /// Opens a connection and says `NOOP`: a start-up check that the server is there and takes
    /// the configured security and credentials.
    ///
    /// # Errors
    ///
    /// The failure, classified as a send's would be.
    pub async fn check_connection(&self) -> Result<(), NotifyError> {
        let tested = self
            .exchange(|transport| async move { transport.test_connection().await })
            .await?;
        match tested {
            Ok(true) => Ok(()),
            Ok(false) => Err(NotifyError::temporary(format!(
                "{}: the server did not answer NOOP",
                self.server
            ))),
            Err(error) => Err(classify(error, &self.server, &[])),
        }
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn send(&self, outgoing: &OutgoingNotice) -> Result<(), NotifyError> {
        let (message, link) = self.composer.compose(outgoing).map_err(|error| {
            let secrets = token_text(outgoing);
            NotifyError::permanent(redact(&error.to_string(), &[&secrets]))
        })?;
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| NotifyError::temporary("the notifier is shutting down"))?;
        let sent = self
            .exchange(|transport| async move { transport.send(message).await })
            .await?;
        match sent {
            Ok(_) => {
                tracing::debug!(notice = %outgoing.id, to = %outgoing.notice.to, "email accepted by the server");
                Ok(())
            }
            Err(error) if is_missing_smtputf8(&error, outgoing.notice.to.needs_smtputf8()) => {
                let to = outgoing.notice.to.delivery_address();
                Err(NotifyError::permanent(missing_smtputf8_reason(
                    &self.server,
                    to,
                )))
            }
            Err(error) => {
                let token = token_text(outgoing);
                let link = link.unwrap_or_default();
                Err(classify(error, &self.server, &[&link, &token]))
            }
        }
    }
}

impl SmtpNotifier {
    /// Runs one exchange with the server on the current transport, retiring the transport if
    /// the exchange is dropped before it ends (see [`CutSend`]).
    async fn exchange<T, F, Fut>(&self, exchange: F) -> Result<T, NotifyError>
    where
        F: FnOnce(Arc<Transport>) -> Fut,
        Fut: Future<Output = T>,
    {
        let transport = self.current_transport()?;
        let cut = CutSend {
            notifier: self,
            transport: transport.clone(),
            armed: true,
        };
        let done = exchange(transport).await;
        cut.disarm();
        Ok(done)
    }

    /// The transport to send on: the current one, or a fresh one if the last was retired.
    fn current_transport(&self) -> Result<Arc<Transport>, NotifyError> {
        let mut current = self
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(transport) = &*current {
            return Ok(transport.clone());
        }
        // The settings built the first one, so this fails only if TLS roots cannot be had now.
        let fresh = transport(&self.config).map_err(|error| {
            NotifyError::temporary(format!(
                "{}: could not set up a connection pool again: {error}",
                self.server
            ))
        })?;
        let fresh = Arc::new(Transport(Some(fresh)));
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Retires `cut` if it is still the current transport; the next use makes a new one (not
    /// here: this runs in `Drop`, where building a pool, which spawns a task, may not be safe).
    fn retire_transport(&self, cut: &Arc<Transport>) {
        let mut current = self
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if current
            .as_ref()
            .is_some_and(|transport| Arc::ptr_eq(transport, cut))
        {
            *current = None;
        }
    }
}

/// An exchange in flight (a send, or the connection check). Dropped before it finished (roster's
/// send deadline, or any caller giving up, dropped the future), it retires the whole transport:
/// lettre would return the connection to its pool mid-transaction, and the next message on it
/// would read the replies meant for this one. The retired pool closes its connections once the
/// sends still on it end (one that took the old transport just before it was retired may still
/// pick up a parked connection of it: a narrow window lettre gives no way to close).
struct CutSend<'a> {
    notifier: &'a SmtpNotifier,
    transport: Arc<Transport>,
    armed: bool,
}

impl CutSend<'_> {
    /// The exchange ended: nothing to retire.
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for CutSend<'_> {
    fn drop(&mut self) {
        if self.armed {
            tracing::debug!(server = %self.notifier.server, "an SMTP send was cut; using a fresh connection pool");
            self.notifier.retire_transport(&self.transport);
        }
    }
}

fn token_text(outgoing: &OutgoingNotice) -> String {
    outgoing
        .token
        .as_ref()
        .map(|token| token.expose_secret())
        .unwrap_or_default()
}

/// Builds an [`SmtpNotifier`]; see [`SmtpNotifier::builder`].
#[derive(Debug)]
pub struct SmtpNotifierBuilder {
    config: SmtpConfig,
    from_address: String,
    from_name: Option<String>,
    link_base: String,
    templates: Templates,
}

impl SmtpNotifierBuilder {
    /// The display name in `From` (say, your product's name). Line breaks become spaces.
    pub fn from_name(mut self, name: impl Into<String>) -> Self {
        self.from_name = Some(name.into());
        self
    }

    /// Uses `templates` instead of the built-in English ones.
    pub fn templates(mut self, templates: Templates) -> Self {
        self.templates = templates;
        self
    }

    /// The notifier. Call it inside a tokio runtime: the connection pool starts a task there.
    ///
    /// # Errors
    ///
    /// [`BuildError`] for a bad From address, a bad link base, templates that do not render
    /// ([`Templates::check`]) or TLS settings that cannot be made for the host.
    pub fn build(self) -> Result<SmtpNotifier, BuildError> {
        self.config.validate()?;
        self.templates.check()?;
        let composer = Composer {
            from: mailbox(self.from_name.as_deref(), &self.from_address)?,
            links: LinkBase::new(&self.link_base)?,
            templates: self.templates,
        };
        let config = &self.config;
        Ok(SmtpNotifier {
            transport: Mutex::new(Some(Arc::new(Transport(Some(transport(config)?))))),
            config: self.config.clone(),
            composer,
            slots: Semaphore::new(config.pool_size.max(1) as usize),
            server: format!("{}:{}", config.host, config.port),
        })
    }
}

fn transport(config: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, BuildError> {
    let tls = |error: lettre::transport::smtp::Error| BuildError::Tls(error.to_string());
    let mut builder = match config.security {
        Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
        Security::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host).map_err(tls)?
        }
        Security::Implicit => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(tls)?
        }
    }
    .port(config.port)
    .timeout(Some(config.timeout))
    .pool_config(PoolConfig::new().max_size(config.pool_size.max(1)));
    if let Some(credentials) = &config.credentials {
        builder = builder.credentials(LettreCredentials::new(
            credentials.username().to_owned(),
            credentials.expose_password().to_owned(),
        ));
    }
    if let Some(name) = &config.hello_name {
        builder = builder.hello_name(match name.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => ClientId::Ipv4(ip),
            Ok(IpAddr::V6(ip)) => ClientId::Ipv6(ip),
            Err(_) => ClientId::Domain(name.clone()),
        });
    }
    Ok(builder.build())
}

#[cfg(test)]
mod drop_tests {
    use super::*;

    /// A notifier built (and used) on a runtime that has since shut down is dropped without a
    /// panic: services drop their `Roster` after the runtime in `main` has gone.
    #[test]
    fn dropping_outside_a_runtime_does_not_panic() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let notifier = runtime.block_on(async {
            let config: SmtpConfig = "smtp://127.0.0.1:9?tls=none&timeout=1s".parse().unwrap();
            let notifier = SmtpNotifier::builder(
                config,
                "no-reply@example.com",
                "https://portal.example/invitations",
            )
            .build()
            .unwrap();
            // A failed check leaves the pool started.
            let _ = notifier.check_connection().await;
            notifier
        });
        drop(runtime);
        drop(notifier);
    }
}

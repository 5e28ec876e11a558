//! The notification port: sends the emails roster's notices describe.

use std::error::Error as StdError;

use async_trait::async_trait;

use crate::notice::OutgoingNotice;

/// Delivers notices (as email, or anything else). Called after the change announcing a notice has
/// been committed, possibly more than once for one notice (delivery is at least once: use
/// [`OutgoingNotice::id`] to deduplicate). Only the newest token sent for an invitation works.
///
/// roster drops the future of a send that runs past
/// [`DeliveryPolicy::send_deadline`](crate::DeliveryPolicy::send_deadline), and counts on that
/// to stop it: a notifier must not hand the message to work that outlives its future (a
/// spawned task, a thread) and must not block inside `send`. Otherwise a send cut at the
/// deadline may still deliver, after a newer email, a link that no longer works.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Sends one notice. Errors say whether retrying can help.
    async fn send(&self, notice: &OutgoingNotice) -> Result<(), NotifyError>;
}

/// A notifier failed to send. [`NotifyError::is_retryable`] tells the outbox whether to try again
/// later (temporary) or to mark the notice failed (permanent).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// Trying again later may succeed (connection refused, timeout, a 4xx SMTP reply).
    #[error("temporary delivery failure: {reason}")]
    Temporary {
        /// What the transport said, fit for showing to an operator.
        reason: String,
        /// The transport's own error, if any.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync>>,
    },
    /// Retrying the same notice will fail the same way (a 5xx SMTP reply, an invalid recipient).
    #[error("permanent delivery failure: {reason}")]
    Permanent {
        /// What the transport said, fit for showing to an operator.
        reason: String,
        /// The transport's own error, if any.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync>>,
    },
}

impl NotifyError {
    /// A temporary failure with a reason.
    pub fn temporary(reason: impl Into<String>) -> Self {
        NotifyError::Temporary {
            reason: reason.into(),
            source: None,
        }
    }

    /// A permanent failure with a reason.
    pub fn permanent(reason: impl Into<String>) -> Self {
        NotifyError::Permanent {
            reason: reason.into(),
            source: None,
        }
    }

    /// Attaches the transport's own error.
    pub fn with_source(mut self, error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        match &mut self {
            NotifyError::Temporary { source, .. } | NotifyError::Permanent { source, .. } => {
                *source = Some(error.into());
            }
        }
        self
    }

    /// Whether trying again later can help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, NotifyError::Temporary { .. })
    }

    /// The reason, as recorded on the outbox entry.
    pub fn reason(&self) -> &str {
        match self {
            NotifyError::Temporary { reason, .. } | NotifyError::Permanent { reason, .. } => reason,
        }
    }
}

#[async_trait]
impl<N: Notifier + ?Sized> Notifier for std::sync::Arc<N> {
    async fn send(&self, notice: &OutgoingNotice) -> Result<(), NotifyError> {
        (**self).send(notice).await
    }
}

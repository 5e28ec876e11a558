//! Why a notifier could not be built.

/// A notifier that could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The From address does not parse.
    #[error("invalid From address {0:?}")]
    From(String),
    /// The link base is not an absolute http(s) URL.
    #[error("invalid link base {0:?}: expected an absolute http(s) URL")]
    LinkBase(String),
    /// A template does not render (see [`Templates::check`](crate::Templates::check)).
    #[error(transparent)]
    Template(#[from] crate::TemplateError),
    /// TLS cannot be set up for the host (a name that cannot be checked against a certificate).
    #[error("TLS settings for the host: {0}")]
    Tls(String),
    /// The server settings are not usable (see [`SmtpConfig::validate`](crate::SmtpConfig::validate)).
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
}

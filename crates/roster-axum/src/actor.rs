//! Who is acting: the host's own session or authentication says, through one small trait.

use async_trait::async_trait;
use axum::http::request::Parts;
use roster::UserId;

/// Tells the router which user a request acts for, from the host's own session, token or
/// header: roster imposes no session system. `None` for a request with no signed-in user; the
/// routes that need one then answer 401.
///
/// ```
/// use async_trait::async_trait;
/// use axum::http::request::Parts;
/// use roster::UserId;
/// use roster_axum::ActorSource;
///
/// /// Trusts an `x-user-id` header set by an authenticating proxy in front of the service.
/// struct FromProxyHeader;
///
/// #[async_trait]
/// impl ActorSource for FromProxyHeader {
///     async fn actor(&self, parts: &Parts) -> Option<UserId> {
///         parts.headers.get("x-user-id")?.to_str().ok()?.parse().ok()
///     }
/// }
/// ```
#[async_trait]
pub trait ActorSource: Send + Sync + 'static {
    /// The user `parts` acts for, if any.
    async fn actor(&self, parts: &Parts) -> Option<UserId>;
}

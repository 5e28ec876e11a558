//! From a notice to an email: the link, the rendered parts, the headers.

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};
use roster::{InvitationToken, OutgoingNotice};
use url::Url;

use crate::error::BuildError;
use crate::templates::{Templates, Vars, kind_name, one_line};

/// Where invitation links point: a base URL the token is appended to as the last path segment,
/// or a URL with a `{token}` placeholder (for a query parameter, say).
///
/// ```
/// use roster_smtp::LinkBase;
///
/// let base = LinkBase::new("https://portal.example.com/invitations")?;
/// assert_eq!(base.link_for("abc"), "https://portal.example.com/invitations/abc");
/// let query = LinkBase::new("https://portal.example.com/accept?token={token}")?;
/// assert_eq!(query.link_for("abc"), "https://portal.example.com/accept?token=abc");
/// # Ok::<(), roster_smtp::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBase(String);

impl LinkBase {
    /// Checks that `base` is an absolute `http` or `https` URL.
    ///
    /// # Errors
    ///
    /// [`BuildError::LinkBase`] otherwise.
    pub fn new(base: &str) -> Result<Self, BuildError> {
        let parsed = Url::parse(&base.replace("{token}", "TOKEN"))
            .map_err(|_| BuildError::LinkBase(base.to_owned()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(BuildError::LinkBase(base.to_owned()));
        }
        Ok(LinkBase(base.to_owned()))
    }

    /// The link for a token's text (URL-safe base64, so it needs no escaping).
    pub fn link_for(&self, token: &str) -> String {
        if self.0.contains("{token}") {
            self.0.replace("{token}", token)
        } else {
            format!("{}/{token}", self.0.trim_end_matches('/'))
        }
    }

    fn link(&self, token: &InvitationToken) -> String {
        self.link_for(&token.expose_secret())
    }
}

/// Turns notices into messages; everything but the transport.
#[derive(Debug, Clone)]
pub(crate) struct Composer {
    pub(crate) from: Mailbox,
    pub(crate) links: LinkBase,
    pub(crate) templates: Templates,
}

/// Why a notice could not become a message: nothing about it will change on a retry.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ComposeError {
    #[error("invalid recipient address {0:?}")]
    Recipient(String),
    #[error("a notice of this kind needs a token and came without one")]
    MissingToken,
    #[error("no templates for this kind of notice")]
    UnknownKind,
    #[error(transparent)]
    Template(#[from] crate::TemplateError),
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
}

impl Composer {
    /// The sender's display name, or its address when it has none.
    fn sender(&self) -> String {
        match &self.from.name {
            Some(name) => name.clone(),
            None => self.from.email.to_string(),
        }
    }

    /// The email for `outgoing`, and the link it carries (to keep out of error reports).
    pub(crate) fn compose(
        &self,
        outgoing: &OutgoingNotice,
    ) -> Result<(Message, Option<String>), ComposeError> {
        let notice = &outgoing.notice;
        let kind = kind_name(notice.kind).ok_or(ComposeError::UnknownKind)?;
        let to: Address = notice
            .to
            .as_str()
            .parse()
            .map_err(|_| ComposeError::Recipient(notice.to.to_string()))?;
        let link = match (&outgoing.token, notice.kind.carries_link()) {
            (Some(token), true) => Some(self.links.link(token)),
            (None, true) => return Err(ComposeError::MissingToken),
            (_, false) => None,
        };
        let vars = Vars {
            kind,
            to: notice.to.to_string(),
            project: notice.project_name.clone(),
            account: notice.account_name.clone(),
            role: notice.role.to_string(),
            role_id: notice.role.as_str(),
            inviter: notice.inviter.to_string(),
            expires_at: notice.expires_at,
            link: link.clone(),
            sender: self.sender(),
            language: notice.language.clone(),
        };
        let rendered = self.templates.render(&vars)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(rendered.subject)
            .date_now()
            // Each send gets its own id: a redelivery carries a new link, and a mailbox that
            // drops repeated ids would keep the old one.
            .message_id(Some(self.message_id(outgoing)))
            .header(AutoSubmitted)
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))?;
        Ok((message, link))
    }

    /// `<notice id.random@sender's domain>`: unique per send.
    fn message_id(&self, outgoing: &OutgoingNotice) -> String {
        format!(
            "<{}.{:016x}@{}>",
            outgoing.id,
            rand::random::<u64>(),
            self.from.email.domain()
        )
    }
}

/// The sender of every email: a display name (flattened to one line, so it cannot start a
/// header of its own) and an address.
///
/// # Errors
///
/// [`BuildError::From`] for an address that does not parse.
pub(crate) fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, BuildError> {
    let email: Address = address
        .trim()
        .parse()
        .map_err(|_| BuildError::From(address.to_owned()))?;
    let name = name.map(one_line).filter(|name| !name.is_empty());
    Ok(Mailbox::new(name, email))
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office replies stay away.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_bases_must_be_absolute_web_urls() {
        assert!(LinkBase::new("https://portal.example.com/i/").is_ok());
        assert!(LinkBase::new("http://localhost:8080/accept?t={token}").is_ok());
        for bad in [
            "/invitations",
            "portal.example.com",
            "ftp://example.com/x",
            "mailto:a@b.c",
        ] {
            assert!(
                matches!(LinkBase::new(bad), Err(BuildError::LinkBase(_))),
                "{bad}"
            );
        }
        let trailing = LinkBase::new("https://portal.example.com/i/").unwrap();
        assert_eq!(trailing.link_for("T"), "https://portal.example.com/i/T");
    }

    #[test]
    fn a_display_name_cannot_carry_a_header_of_its_own() {
        let from = mailbox(
            Some("Acme\r\nBcc: victim@example.com"),
            "portal@acme.example",
        )
        .unwrap();
        assert_eq!(from.name.as_deref(), Some("Acme Bcc: victim@example.com"));
        let blank = mailbox(Some(" \r\n "), "portal@acme.example").unwrap();
        assert_eq!(blank.name, None);
        assert!(matches!(
            mailbox(None, "portal@acme.example\r\nBcc: x@example.com"),
            Err(BuildError::From(_))
        ));
    }
}

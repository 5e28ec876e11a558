//! From a notice to an email: the link, the rendered parts, the headers.

use email_encoding::body::{Encoding, base64};
use lettre::address::Envelope;
use lettre::message::header::ContentTransferEncoding as Transfer;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart};
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
        const SLOT: &str = "rostertokenslot";
        let refused = || BuildError::LinkBase(base.chars().take(200).collect());
        let parsed = Url::parse(&base.replace("{token}", SLOT)).map_err(|_| refused())?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(refused());
        }
        // The parsed form, not the string as given: the parser drops what a URL cannot hold (a
        // line break would otherwise reach the email as typed), and that is what was checked.
        Ok(LinkBase(parsed.as_str().replace(SLOT, "{token}")))
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
        let to = recipient(&notice.to)?;
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
            role: notice.role_name.clone(),
            role_id: notice.role.as_str().to_owned(),
            inviter: notice.inviter.to_string(),
            expires_at: notice.expires_at,
            link: link.clone(),
            sender: self.sender(),
            language: notice.language.clone(),
        };
        let rendered = self.templates.render(&vars)?;
        // Given outright, the envelope need not be parsed back out of the headers just built.
        let envelope = Envelope::new(Some(self.from.email.clone()), vec![to.clone()])?;
        let message = Message::builder()
            .envelope(envelope)
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(rendered.subject)
            .date_now()
            // Each send gets its own id: a redelivery carries a new link, and a mailbox that
            // drops repeated ids would keep the old one.
            .message_id(Some(self.message_id(outgoing)))
            .header(AutoSubmitted)
            .multipart(MultiPart::alternative_plain_html(
                body(rendered.text),
                body(rendered.html),
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

/// The envelope and `To` address for `email`: the form roster validated and measured (the local
/// part in NFKC, the domain as A-labels), never the typed one, so every address roster accepts
/// is one lettre takes. Only an address with a non-ASCII local part needs SMTPUTF8.
pub(crate) fn recipient(email: &roster::Email) -> Result<Address, ComposeError> {
    Address::new(email.delivery_local_part(), email.ascii_domain())
        .map_err(|_| ComposeError::Recipient(email.to_string()))
}

/// A rendered part as lettre's `Body::new` would encode it (the same encoding, chosen by the same
/// `email-encoding` rule, and the same encoders), with one difference: the line endings become
/// CRLF in one pass here, where lettre inserts each CR on its own, moving the rest of the text
/// every time.
fn body(text: String) -> Body {
    let encoding = Encoding::choose(text.as_str(), false);
    let text = crlf(&text);
    match encoding {
        Encoding::SevenBit => Body::dangerous_pre_encoded(text.into_bytes(), Transfer::SevenBit),
        Encoding::QuotedPrintable => Body::dangerous_pre_encoded(
            quoted_printable::encode(text.as_bytes()),
            Transfer::QuotedPrintable,
        ),
        // Base64, and whatever a later `email-encoding` may choose: base64 carries anything.
        _ => {
            let mut encoded = String::with_capacity(base64::encoded_len(text.len()));
            match base64::encode(text.as_bytes(), &mut encoded) {
                Ok(()) => Body::dangerous_pre_encoded(encoded.into_bytes(), Transfer::Base64),
                // Writing to a String cannot fail; should it, lettre encodes the text itself.
                Err(_) => Body::new(text),
            }
        }
    }
}

/// `text` with every line ending a CRLF. Lettre would convert a body itself, but one character
/// insertion at a time (quadratic in the number of lines); one pass here costs a copy.
fn crlf(text: &str) -> String {
    let mut converted = String::with_capacity(text.len() + text.len() / 16);
    for line in text.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(line) => {
                converted.push_str(line.strip_suffix('\r').unwrap_or(line));
                converted.push_str("\r\n");
            }
            None => converted.push_str(line),
        }
    }
    converted
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

    /// A base with a line break passes the URL parser (which drops it), so the link is built from
    /// the parsed form: no line break reaches the email.
    #[test]
    fn links_are_built_from_the_parsed_base() {
        let base = LinkBase::new("https://portal.example/inv\r\nX-Injected: yes").unwrap();
        let link = base.link_for("TOKEN");
        assert!(!link.contains('\r') && !link.contains('\n'), "{link:?}");
        assert!(link.starts_with("https://portal.example/"), "{link:?}");
        let slot = LinkBase::new("https://portal.example/accept?t={token}&x=1").unwrap();
        assert_eq!(
            slot.link_for("abc"),
            "https://portal.example/accept?t=abc&x=1"
        );
        let bare = LinkBase::new("https://portal.example").unwrap();
        assert_eq!(bare.link_for("abc"), "https://portal.example/abc");
    }

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

    /// `body` is lettre's `Body::new` made faster, not different: same encoding, same bytes.
    #[test]
    fn bodies_are_encoded_exactly_as_lettre_would() {
        let long = "a".repeat(120);
        let inputs = [
            String::new(),
            "Hello,\n\nshort lines only.\n".to_owned(),
            format!("a long line follows\n{long}\nand ends"),
            "already\r\nCRLF\r\nmixed\nendings\n".to_owned(),
            "\nstarts with a line feed".to_owned(),
            "Grüße aus Köln, née Müller: = signs and trailing space \n".to_owned(),
            "日本語のテキスト。ほとんどが非ASCIIの文字です。\n二行目。\n".to_owned(),
            format!("<a href=\"https://portal.example/{long}\">link</a>\r\n"),
        ];
        for input in inputs {
            let ours = body(input.clone());
            let lettre = Body::new(input.clone());
            assert_eq!(ours.encoding(), lettre.encoding(), "{input:?}");
            assert_eq!(ours.as_ref(), lettre.as_ref(), "{input:?}");
        }
    }

    /// Addresses at the edges of roster's policy: each one roster accepts must become a lettre
    /// address and envelope, or it would fail at send time after being accepted.
    #[test]
    fn every_address_roster_accepts_is_one_lettre_takes() {
        let nfd_local = format!("{}@example.com", "e\u{301}".repeat(32));
        let wide_label = format!("x@{}.de", "ü".repeat(32));
        let long_local = format!("{}@example.com", "a".repeat(64));
        let max = format!(
            "{}@{}.{}.{}",
            "l".repeat(64),
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(61)
        );
        let idn_max = format!("{}@{}.de", "a".repeat(64), "ü".repeat(40));
        let cases = [
            "ann@example.com",
            "Ann.Lee+tag@Example.COM",
            "jörg@bücher.de",
            "ann@bücher.de",
            "ann@XN--BCHER-KVA.DE",
            "ｊｏｅ@ｅｘａｍｐｌｅ．ｃｏｍ",
            "x@ﬁle.com",
            "x@example。com",
            "用户@例子.广告",
            "δοκιμή@παράδειγμα.δοκιμή",
            "a@موقع.وزارة-الاتصالات.مصر",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            "a@l·l.cat",
            &nfd_local,
            &wide_label,
            &long_local,
            &max,
            &idn_max,
        ];
        let from: Address = "portal@acme.example".parse().unwrap();
        for input in cases {
            let Ok(email) = roster::Email::parse(input) else {
                continue;
            };
            let to = recipient(&email).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert!(to.domain().is_ascii(), "{input:?}");
            assert_eq!(to.to_string(), email.delivery_address(), "{input:?}");
            assert_eq!(
                !to.to_string().is_ascii(),
                email.needs_smtputf8(),
                "{input:?}"
            );
            Envelope::new(Some(from.clone()), vec![to]).unwrap();
        }
        for input in [&nfd_local, &wide_label, &max, &idn_max] {
            assert!(roster::Email::parse(input).is_ok(), "{input:?} is accepted");
        }
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

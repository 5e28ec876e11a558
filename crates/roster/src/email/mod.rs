//! Validated email addresses: one mailbox, one identity. The policy is documented, as a
//! table, on [`Email`].

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub(crate) mod chars;
mod domain;
mod error;
mod idna2008;
mod local;
#[cfg(test)]
mod tests;

pub use error::EmailError;

use chars::Unsafe;

/// RFC 5321 path limit (256) minus the angle brackets around it, in octets.
const MAX_ADDRESS_OCTETS: usize = 254;

/// An email address, validated once, with a canonical form used for every comparison.
///
/// Equality, hashing and ordering use only the canonical form, so `Ann@Example.COM`,
/// `ann@example.com` and `ａｎｎ@ｅｘａｍｐｌｅ.com` are the same address, and so are
/// `jörg@bücher.de` and `jörg@xn--bcher-kva.de`. Display, `Debug` and serialization use the
/// address as typed (trimmed); mail goes to [`Email::delivery_address`].
///
/// [`Email::parse`] accepts what practical validators such as Python's `email-validator` accept
/// (the *reference validator* below), not the full RFC 5322 grammar: quoted local parts,
/// comments and domain literals are valid on paper but almost never intentional in a sign-up
/// form, and poorly supported by mail systems.
///
/// Every accepted address has three forms:
///
/// | form | accessor | what it is | used for |
/// |---|---|---|---|
/// | typed | [`Email::as_str`] | the input, trimmed | display, `Debug`, `Display`, serialization |
/// | sent | [`Email::delivery_address`] | local part in NFKC (case kept) `@` the A-label domain | the SMTP envelope and the `To` header |
/// | canonical | [`Email::canonical`] | local part in NFKC and lowercase `@` the Unicode domain | equality, hashing, ordering, storage keys, uniqueness |
///
/// The canonical domain is the **Unicode form** (U-labels, as UTS #46 ToUnicode gives them:
/// lowercase, NFC), which is also how the reference validator displays a domain. Every spelling
/// of one domain reaches it: `bücher.de`, `BÜCHER.DE`, `bu\u{308}cher.de` (NFD),
/// `xn--bcher-kva.de` (the A-label) and `ｂüｃｈｅｒ．ｄｅ` (full-width) are one domain, and so
/// are `ﬁle.com` and `file.com`. The sent form uses the A-label instead, so an address whose
/// local part is ASCII never needs the SMTPUTF8 extension ([`Email::needs_smtputf8`]).
///
/// # Policy
///
/// Length limits are measured on the sent form and on the canonical form, never on the typed
/// one, so that spellings of one address (NFC or NFD, upper or lower case, A-label or Unicode)
/// are accepted or refused together.
///
/// | rule | accepted | refused, with | reference validator |
/// |---|---|---|---|
/// | surrounding whitespace | trimmed: `" ann@example.com "` | — | refuses it |
/// | structure | one `@`, a dot-atom local part, a domain with a dot | [`Empty`](EmailError::Empty), [`MissingAt`](EmailError::MissingAt), [`MultipleAt`](EmailError::MultipleAt), [`MissingDot`](EmailError::MissingDot) (`x@localhost`) | same |
/// | quoting, comments, literals | — | [`QuotedLocalPart`](EmailError::QuotedLocalPart) (`"a b"@x.com`), [`Comment`](EmailError::Comment), [`DomainLiteral`](EmailError::DomainLiteral) (`x@[192.0.2.1]`) | same (its defaults) |
/// | whitespace and controls anywhere | — | [`Whitespace`](EmailError::Whitespace), [`ControlCharacter`](EmailError::ControlCharacter) | same |
/// | invisible characters anywhere: default-ignorable and format characters | — | [`InvisibleCharacter`](EmailError::InvisibleCharacter): `a\u{200b}@example.com`, `\u{feff}a@…`, `\u{202e}admin@example.com`, soft hyphen, variation selectors, tags, Hangul fillers | refuses format characters but accepts the default-ignorable letters and marks (variation selectors such as the emoji one in `❤\u{fe0f}@…`, U+034F, Hangul fillers) |
/// | private-use, unassigned and noncharacter code points anywhere | — | [`PrivateUseCharacter`](EmailError::PrivateUseCharacter) (`\u{e000}@…`), [`UnassignedCharacter`](EmailError::UnassignedCharacter) (`a\u{378}@…`, `a\u{ffff}@…`) | same, up to the Unicode version each side knows |
/// | local part characters | ASCII letters, digits and `` !#$%&'*+/=?^_`{\|}~- ``, dots between atoms, non-ASCII letters, marks, numbers, punctuation, symbols: `jörg@…`, `用户@…`, `☃@…` | [`InvalidLocalPartCharacter`](EmailError::InvalidLocalPartCharacter) (`jo,hn@…`), [`LocalPartStartsWithDot`](EmailError::LocalPartStartsWithDot), [`LocalPartEndsWithDot`](EmailError::LocalPartEndsWithDot), [`LocalPartConsecutiveDots`](EmailError::LocalPartConsecutiveDots) | same |
/// | combining marks in the local part | after a base character: `e\u{301}@…` | [`LeadingCombiningMark`](EmailError::LeadingCombiningMark) at the start of the local part or right after a dot (`\u{301}a@…`, `a.\u{301}b@…`) | refuses one at the start only |
/// | compatibility forms in the local part | folded by NFKC: `ａ@example.com` is `a@example.com`, `ﬁle@…` is `file@…` | the error of the folded form when it breaks a rule: `a＂b@…` folds to `a"b` ([`InvalidLocalPartCharacter`](EmailError::InvalidLocalPartCharacter)), `a．．b@…` to `a..b` | keeps them as typed (NFC), so it accepts those two |
/// | case | local part compared case-insensitively: `Ann@…` is `ann@…`; sent as typed | — | compares local parts case-sensitively (it lowercases only `postmaster` and the like) |
/// | local part length | up to 64 octets, sent and canonical: `"a" × 64` | [`LocalPartTooLong`](EmailError::LocalPartTooLong): `"a" × 65`, `"é" × 33` (66 octets) | no limit by default (only in its strict mode, in characters) |
/// | address length | up to 254 octets, sent (A-label domain) and canonical (Unicode domain) | [`AddressTooLong`](EmailError::AddressTooLong) | same, on its typed, normalized and A-label forms (so it also refuses an NFD spelling whose NFC form fits) |
/// | domain processing | UTS #46, nontransitional (`ß` stays `ß`), STD3 ASCII rules, hyphen checks: `x@bücher.de`, `x@ＥＸＡＭＰＬＥ.com`, `x@example。com` | [`InvalidDomainCharacter`](EmailError::InvalidDomainCharacter) (`x@exa_mple.com`, `ab@exa⒈mple.com`), [`LabelHyphen`](EmailError::LabelHyphen) (`x@-example.com`), [`ReservedLabelHyphens`](EmailError::ReservedLabelHyphens) (`a@ab--cd.com`), [`EmptyDomainLabel`](EmailError::EmptyDomainLabel), [`DomainEndsWithDot`](EmailError::DomainEndsWithDot) | same |
/// | Punycode | `xn--` labels that decode to a valid U-label: `x@xn--bcher-kva.de` (the same as `x@bücher.de`) | [`InvalidPunycode`](EmailError::InvalidPunycode): `a@xn--zz.com`, `a@xn--a.com`, `a@xn--bcher--kva.com` | same |
/// | IDNA2008 code points | letters, digits, marks (RFC 5892 PVALID) | [`InvalidDomainCharacter`](EmailError::InvalidDomainCharacter): emoji and symbols (`a@☃.net`, `a@xn--ls8h.la`), `½` (maps to `1⁄2`), the keycap U+20E3, zero-width joiners | same |
/// | IDNA2008 context rules | `a@l·l.cat`, `a@͵α.gr`, `a@א׳.com`, `a@カ・キ.jp` | [`DomainContextRule`](EmailError::DomainContextRule): `a@a·b.cat`, `a@a・b.jp`, mixed Arabic-Indic digits | same |
/// | bidi rule (RFC 5893), on every label once one is right-to-left | `a@אב.com`, `a@מ1ב.com` | [`DomainBidiRule`](EmailError::DomainBidiRule): `a@1.אב.com`, `a@1אב.com`, `a@١٢٣.com` | same |
/// | DNS lengths, on the A-label | labels up to 63 octets, the domain up to 253: `x@` + `"ü" × 32` + `.de` (64 octets of UTF-8, a 42-octet A-label) | [`LabelTooLong`](EmailError::LabelTooLong), [`DomainTooLong`](EmailError::DomainTooLong) | same |
/// | top-level label | letters only (`com`, `photography`) or an internationalized label (`рф`, `xn--p1ai`) | [`TopLevelLabelWithoutLetter`](EmailError::TopLevelLabelWithoutLetter) (`x@1.2.3.4`), [`TopLevelLabelNotAlphabetic`](EmailError::TopLevelLabelNotAlphabetic) (`x@example.c0m`, `x@example.1a`, `x@example.co-m`): no top-level domain has digits or hyphens | only asks that the domain end with a letter, so it accepts `example.c0m` and `example.1a` |
/// | special-use names | — | [`SpecialUseDomain`](EmailError::SpecialUseDomain): `x@printer.local`, `x@foo.test`, `x@a.localhost`, `x@x.invalid`, `.onion`, `.arpa` | same |
///
/// The tests check this table against a corpus of addresses judged by the reference validator
/// (`tests/data/email_corpus.jsonl`); the README gives the agreement figure.
#[derive(Clone)]
pub struct Email {
    typed: String,
    canonical: String,
    /// Byte index of the `@` in `canonical`.
    at: usize,
    delivery: String,
    /// Byte index of the `@` in `delivery`.
    delivery_at: usize,
}

impl Email {
    /// Parses and validates an email address.
    ///
    /// Surrounding whitespace is trimmed; everything else must be a valid
    /// address under the crate's syntax policy (the table above, one
    /// [`EmailError`] variant per rule).
    ///
    /// # Examples
    ///
    /// ```
    /// use roster::Email;
    ///
    /// let email = Email::parse("  Ann@Example.COM ")?;
    /// assert_eq!(email.as_str(), "Ann@Example.COM");
    /// assert_eq!(email.canonical(), "ann@example.com");
    /// assert_eq!(email, Email::parse("ann@example.com")?);
    /// assert!(Email::parse("ann@localhost").is_err());
    ///
    /// // Every spelling of an internationalized domain is one identity.
    /// let idn = Email::parse("Jörg@xn--bcher-kva.de")?;
    /// assert_eq!(idn.canonical(), "jörg@bücher.de");
    /// assert_eq!(idn.delivery_address(), "Jörg@xn--bcher-kva.de");
    /// assert_eq!(idn, Email::parse("jörg@BÜCHER.de")?);
    /// # Ok::<(), roster::EmailError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Returns an [`EmailError`] describing the first problem found. Parsing never panics,
    /// whatever the input.
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let typed = input.trim();
        if typed.is_empty() {
            return Err(EmailError::Empty);
        }
        reject_unsupported_syntax(typed)?;
        check_characters(typed)?;
        let (local, domain) = split_at_sign(typed)?;
        let local = local::parse(local)?;
        let domain = domain::parse(domain)?;

        let delivery = format!("{}@{}", local.sent, domain.ascii);
        let canonical = format!("{}@{}", local.canonical, domain.unicode);
        let len = delivery.len().max(canonical.len());
        if len > MAX_ADDRESS_OCTETS {
            return Err(EmailError::AddressTooLong { len });
        }
        Ok(Email {
            typed: typed.to_owned(),
            at: local.canonical.len(),
            canonical,
            delivery_at: local.sent.len(),
            delivery,
        })
    }

    /// The canonical form of a domain alone (what [`Email::domain`] answers for an address at
    /// it), under the same rules as the domain of an address: `Bücher.DE` and
    /// `xn--bcher-kva.de` are both `bücher.de`.
    ///
    /// ```
    /// use roster::Email;
    ///
    /// assert_eq!(Email::canonical_domain(" Example.COM ")?, "example.com");
    /// assert_eq!(Email::canonical_domain("xn--bcher-kva.de")?, "bücher.de");
    /// assert!(Email::canonical_domain("localhost").is_err());
    /// # Ok::<(), roster::EmailError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The [`EmailError`] the domain of an address would get.
    pub fn canonical_domain(input: &str) -> Result<String, EmailError> {
        let typed = input.trim();
        if typed.is_empty() {
            return Err(EmailError::Empty);
        }
        check_characters(typed)?;
        Ok(domain::parse(typed)?.unicode)
    }

    /// The address as typed (trimmed), for display.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.typed
    }

    /// The canonical form, for comparison, lookup and storage keys: the local part in NFKC and
    /// lowercase, `@`, the domain in its Unicode form.
    #[must_use]
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The canonical local part (before the `@`).
    #[must_use]
    pub fn local_part(&self) -> &str {
        &self.canonical[..self.at]
    }

    /// The canonical domain (after the `@`), in Unicode form: `bücher.de`, never
    /// `xn--bcher-kva.de`.
    #[must_use]
    pub fn domain(&self) -> &str {
        &self.canonical[self.at + 1..]
    }

    /// The address to send mail to, the form whose lengths were checked: the local part as
    /// typed in NFKC (case kept, since a server may tell cases apart), `@`, the domain in its
    /// DNS form (A-labels, lowercase ASCII).
    ///
    /// ```
    /// let email = roster::Email::parse("Ann@Bücher.DE")?;
    /// assert_eq!(email.delivery_address(), "Ann@xn--bcher-kva.de");
    /// assert!(!email.needs_smtputf8());
    /// # Ok::<(), roster::EmailError>(())
    /// ```
    #[must_use]
    pub fn delivery_address(&self) -> &str {
        &self.delivery
    }

    /// The local part of [`Email::delivery_address`].
    #[must_use]
    pub fn delivery_local_part(&self) -> &str {
        &self.delivery[..self.delivery_at]
    }

    /// The domain in DNS form: A-labels (`xn--…`), lowercase ASCII.
    #[must_use]
    pub fn ascii_domain(&self) -> &str {
        &self.delivery[self.delivery_at + 1..]
    }

    /// Whether sending to this address needs the SMTPUTF8 extension (RFC 6531): the local part
    /// is not ASCII. The domain never needs it, since it is sent as A-labels.
    ///
    /// ```
    /// assert!(roster::Email::parse("jörg@example.com")?.needs_smtputf8());
    /// assert!(!roster::Email::parse("joerg@bücher.de")?.needs_smtputf8());
    /// # Ok::<(), roster::EmailError>(())
    /// ```
    #[must_use]
    pub fn needs_smtputf8(&self) -> bool {
        !self.delivery.is_ascii()
    }
}

/// Rejects RFC 5322 constructs we choose not to support. Runs before the
/// character checks so that `"john doe"@x.com` reports the quoting, not the space.
fn reject_unsupported_syntax(address: &str) -> Result<(), EmailError> {
    if address.contains(['(', ')']) {
        return Err(EmailError::Comment);
    }
    if address.starts_with('"') {
        return Err(EmailError::QuotedLocalPart);
    }
    Ok(())
}

/// Characters refused anywhere in an address.
fn check_characters(address: &str) -> Result<(), EmailError> {
    for ch in address.chars() {
        if ch.is_whitespace() {
            return Err(EmailError::Whitespace { ch });
        }
        if ch.is_control() {
            return Err(EmailError::ControlCharacter { ch });
        }
        match chars::unsafe_kind(ch) {
            Some(Unsafe::Invisible) => return Err(EmailError::InvisibleCharacter { ch }),
            Some(Unsafe::PrivateUse) => return Err(EmailError::PrivateUseCharacter { ch }),
            Some(Unsafe::Unassigned) => return Err(EmailError::UnassignedCharacter { ch }),
            None => {}
        }
    }
    Ok(())
}

fn split_at_sign(address: &str) -> Result<(&str, &str), EmailError> {
    // Split at the last '@' so a domain literal is still recognised when the
    // local part is malformed too.
    let (local, domain) = address.rsplit_once('@').ok_or(EmailError::MissingAt)?;
    if domain.starts_with('[') {
        return Err(EmailError::DomainLiteral);
    }
    if local.contains('@') {
        return Err(EmailError::MultipleAt);
    }
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    if domain.is_empty() {
        return Err(EmailError::EmptyDomain);
    }
    Ok((local, domain))
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for Email {}

impl Hash for Email {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

impl PartialOrd for Email {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Email {
    fn cmp(&self, other: &Self) -> Ordering {
        self.canonical.cmp(&other.canonical)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Email").field(&self.typed).finish()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.typed)
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl TryFrom<&str> for Email {
    type Error = EmailError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Email::parse(value)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.typed)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Email::parse(&raw).map_err(serde::de::Error::custom)
    }
}

//! Validated email addresses with a canonical form for comparison.
//!
//! The accepted syntax deliberately follows what practical validators (such as
//! Python's `email-validator`) accept rather than the full RFC 5322 grammar:
//! quoted local parts, comments and domain literals are valid on paper but are
//! almost never intentional in a sign-up form and are poorly supported by mail
//! systems, so they are rejected with a dedicated error.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{UnicodeNormalization, is_nfc};

/// RFC 5321 limit on the local part, in octets.
const MAX_LOCAL_PART_OCTETS: usize = 64;
/// RFC 5321 path limit (256) minus the angle brackets around it, in octets.
const MAX_ADDRESS_OCTETS: usize = 254;
/// RFC 1035 limit on a single DNS label, in octets.
const MAX_LABEL_OCTETS: usize = 63;
/// ASCII characters allowed in a dot-atom besides letters and digits (RFC 5322 `atext`).
const ATOM_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

/// An email address, validated once, with a canonical form used for every comparison.
///
/// Equality, hashing and ordering use only the canonical form (NFC-normalized and
/// lowercased), so `Ann@Example.COM` and `ann@example.com` are the same address.
/// Display, `Debug` and serialization use the address as typed (trimmed).
#[derive(Clone)]
pub struct Email {
    typed: String,
    canonical: String,
    /// Byte index of the `@` in `canonical`.
    at: usize,
}

impl Email {
    /// Parses and validates an email address.
    ///
    /// Surrounding whitespace is trimmed; everything else must be a valid
    /// address under the crate's syntax policy.
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
    /// # Ok::<(), roster::EmailError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Returns an [`EmailError`] describing the first problem found.
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let typed = input.trim();
        if typed.is_empty() {
            return Err(EmailError::Empty);
        }
        reject_unsupported_syntax(typed)?;
        check_characters(typed)?;
        let (local, domain) = split_at_sign(typed)?;

        // Everything below works on the canonical form so that addresses which
        // compare equal are always accepted or rejected together.
        let local = canonicalize(local);
        let domain = canonicalize(domain);
        check_lengths(&local, &domain)?;
        validate_local_part(&local)?;
        validate_domain(&domain)?;

        let at = local.len();
        Ok(Email {
            typed: typed.to_owned(),
            canonical: format!("{local}@{domain}"),
            at,
        })
    }

    /// The address as typed (trimmed), for display.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.typed
    }

    /// The canonical form, for comparison, lookup and storage keys.
    #[must_use]
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The canonical local part (before the `@`).
    #[must_use]
    pub fn local_part(&self) -> &str {
        &self.canonical[..self.at]
    }

    /// The canonical domain (after the `@`).
    #[must_use]
    pub fn domain(&self) -> &str {
        &self.canonical[self.at + 1..]
    }
}

/// Why a string is not an acceptable email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// The input is empty or only whitespace.
    #[error("email address is empty")]
    Empty,
    /// The address contains whitespace after trimming.
    #[error("email address contains whitespace {ch:?}")]
    Whitespace {
        /// The offending whitespace character.
        ch: char,
    },
    /// The address contains a control character.
    #[error("email address contains control character {ch:?}")]
    ControlCharacter {
        /// The offending control character.
        ch: char,
    },
    /// The address contains a comment; parentheses are not allowed anywhere.
    #[error("email address contains a comment (parentheses are not allowed)")]
    Comment,
    /// The local part is quoted (`"john doe"@example.com`).
    #[error("quoted local parts are not supported")]
    QuotedLocalPart,
    /// The address has no `@`.
    #[error("email address is missing an '@'")]
    MissingAt,
    /// The address has more than one `@`.
    #[error("email address contains more than one '@'")]
    MultipleAt,
    /// The domain is a literal address (`x@[192.0.2.1]`).
    #[error("domain literals (addresses in brackets) are not supported")]
    DomainLiteral,
    /// Nothing precedes the `@`.
    #[error("local part (before the '@') is empty")]
    EmptyLocalPart,
    /// Nothing follows the `@`.
    #[error("domain (after the '@') is empty")]
    EmptyDomain,
    /// The local part is longer than 64 octets.
    #[error("local part is {len} octets long; at most 64 are allowed")]
    LocalPartTooLong {
        /// Length of the canonical local part in UTF-8 octets.
        len: usize,
    },
    /// The whole address is longer than 254 octets.
    #[error("email address is {len} octets long; at most 254 are allowed")]
    AddressTooLong {
        /// Length of the canonical address in UTF-8 octets.
        len: usize,
    },
    /// The local part contains a character not allowed in a dot-atom.
    #[error("local part contains invalid character {ch:?}")]
    InvalidLocalPartCharacter {
        /// The offending character.
        ch: char,
    },
    /// The local part starts with a dot.
    #[error("local part starts with a dot")]
    LocalPartStartsWithDot,
    /// The local part ends with a dot.
    #[error("local part ends with a dot")]
    LocalPartEndsWithDot,
    /// The local part contains two dots in a row.
    #[error("local part contains consecutive dots")]
    LocalPartConsecutiveDots,
    /// The domain has a single label (such as `localhost`).
    #[error("domain must contain a dot")]
    MissingDot,
    /// The domain ends with a dot.
    #[error("domain ends with a dot")]
    DomainEndsWithDot,
    /// The domain has an empty label (a leading dot or two dots in a row).
    #[error("domain contains an empty label")]
    EmptyDomainLabel,
    /// A domain label is longer than 63 octets.
    #[error("domain label {label:?} is {len} octets long; at most 63 are allowed")]
    LabelTooLong {
        /// The canonical label.
        label: String,
        /// Length of the label in UTF-8 octets.
        len: usize,
    },
    /// The domain contains a character not allowed in a label, or a label
    /// starts with a combining mark.
    #[error("domain contains invalid character {ch:?}")]
    InvalidDomainCharacter {
        /// The offending character.
        ch: char,
    },
    /// A domain label starts or ends with a hyphen.
    #[error("domain label {label:?} starts or ends with a hyphen")]
    LabelHyphen {
        /// The canonical label.
        label: String,
    },
    /// The last domain label has no letter, so the domain looks like an IP address.
    #[error("top-level domain label {label:?} contains no letter")]
    TopLevelLabelWithoutLetter {
        /// The canonical top-level label.
        label: String,
    },
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

fn check_characters(address: &str) -> Result<(), EmailError> {
    for ch in address.chars() {
        if ch.is_whitespace() {
            return Err(EmailError::Whitespace { ch });
        }
        if ch.is_control() {
            return Err(EmailError::ControlCharacter { ch });
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

/// NFC, then lowercase. Lowercasing can, rarely, leave a string that is not in
/// NFC; normalizing once more keeps the canonical form a fixed point, so
/// parsing a canonical address yields the same canonical address.
fn canonicalize(part: &str) -> String {
    let lowered = part.nfc().collect::<String>().to_lowercase();
    if is_nfc(&lowered) {
        lowered
    } else {
        lowered.nfc().collect()
    }
}

fn check_lengths(local: &str, domain: &str) -> Result<(), EmailError> {
    if local.len() > MAX_LOCAL_PART_OCTETS {
        return Err(EmailError::LocalPartTooLong { len: local.len() });
    }
    let len = local.len() + 1 + domain.len();
    if len > MAX_ADDRESS_OCTETS {
        return Err(EmailError::AddressTooLong { len });
    }
    Ok(())
}

fn validate_local_part(local: &str) -> Result<(), EmailError> {
    if let Some(ch) = local.chars().find(|&c| c != '.' && !is_atom_char(c)) {
        return Err(EmailError::InvalidLocalPartCharacter { ch });
    }
    if local.starts_with('.') {
        return Err(EmailError::LocalPartStartsWithDot);
    }
    if local.ends_with('.') {
        return Err(EmailError::LocalPartEndsWithDot);
    }
    if local.contains("..") {
        return Err(EmailError::LocalPartConsecutiveDots);
    }
    Ok(())
}

/// Characters of an atom in the local part. Any non-ASCII character is
/// accepted (RFC 6531 `UTF8-non-ascii`) apart from whitespace and controls,
/// which [`check_characters`] has already rejected on the typed form; they are
/// re-checked here because the canonical form is what gets validated.
fn is_atom_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || ATOM_SPECIALS.contains(c)
    } else {
        !c.is_whitespace() && !c.is_control()
    }
}

fn validate_domain(domain: &str) -> Result<(), EmailError> {
    if domain.ends_with('.') {
        return Err(EmailError::DomainEndsWithDot);
    }
    if !domain.contains('.') {
        return Err(EmailError::MissingDot);
    }
    for label in domain.split('.') {
        validate_label(label)?;
    }
    let tld = domain.rsplit('.').next().unwrap_or_default();
    if !tld.chars().any(char::is_alphabetic) {
        return Err(EmailError::TopLevelLabelWithoutLetter {
            label: tld.to_owned(),
        });
    }
    Ok(())
}

fn validate_label(label: &str) -> Result<(), EmailError> {
    if label.is_empty() {
        return Err(EmailError::EmptyDomainLabel);
    }
    if label.len() > MAX_LABEL_OCTETS {
        return Err(EmailError::LabelTooLong {
            label: label.to_owned(),
            len: label.len(),
        });
    }
    if let Some(ch) = label.chars().find(|&c| !is_label_char(c)) {
        return Err(EmailError::InvalidDomainCharacter { ch });
    }
    // A mark has nothing to combine with at the start of a label (IDNA forbids it).
    if let Some(ch) = label.chars().next().filter(|&c| is_combining_mark(c)) {
        return Err(EmailError::InvalidDomainCharacter { ch });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(EmailError::LabelHyphen {
            label: label.to_owned(),
        });
    }
    Ok(())
}

/// Letters, digits and hyphens, plus combining marks: scripts such as
/// Devanagari and Thai need marks (viramas, tone marks) that are not
/// alphabetic, and rejecting them would reject real IDN domains.
fn is_label_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || c == '-' || is_combining_mark(c)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::DefaultHasher;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap_or_else(|e| panic!("{s:?} should be valid: {e}"))
    }

    fn hash_of(e: &Email) -> u64 {
        let mut hasher = DefaultHasher::new();
        e.hash(&mut hasher);
        hasher.finish()
    }

    /// 254 octets: 64-octet local part, '@', 189-octet domain of labels <= 63.
    fn max_length_address() -> String {
        format!(
            "{}@{}.{}.{}",
            "l".repeat(64),
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(61)
        )
    }

    #[test]
    fn accepts_valid_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(64));
        let long_label = format!("x@{}.com", "d".repeat(63));
        // 21 × 'ü' (2 octets each) + 'x' = 43 octets, well under 63.
        let utf8_label = format!("x@{}x.de", "ü".repeat(21));
        let max = max_length_address();
        let cases = [
            "simple@example.com",
            "very.common@example.com",
            "first.middle.last@example.com",
            "user+tag@example.com",
            "user+tag+more@example.com",
            "x@example.com",
            "1234567890@example.com",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            "a!b#c$d%e&f'g*h+i/j=k?l^m_n`o{p|q}r~s-t@example.com",
            "user-name@example.com",
            "user_name@example.com",
            "user@sub.example.com",
            "user@a.b.c.d.example.co.uk",
            "user@my-domain.com",
            "user@a-b-c.example.org",
            "user@xn--bcher-kva.de",
            "user@123.example.com",
            "user@example.c0m",
            "jörg@bücher.de",
            "用户@例子.广告",
            "δοκιμή@παράδειγμα.δοκιμή",
            "я@пример.рф",
            "उपयोगकर्ता@उदाहरण.कॉम",
            "user@नमस्ते.भारत",
            "user@ไทย.ไทย",
            "ñandú@ejemplo.es",
            "Ann@Example.COM",
            &long_local,
            &long_label,
            &utf8_label,
            &max,
        ];
        for input in cases {
            let parsed = email(input);
            assert_eq!(parsed.as_str(), input);
        }
    }

    #[test]
    fn max_length_address_is_exactly_254_octets_and_valid() {
        let max = max_length_address();
        assert_eq!(max.len(), MAX_ADDRESS_OCTETS);
        assert_eq!(email(&max).canonical().len(), MAX_ADDRESS_OCTETS);
    }

    type Check = fn(&EmailError) -> bool;

    fn assert_rejects(cases: &[(&str, Check)]) {
        for &(input, check) in cases {
            match Email::parse(input) {
                Ok(parsed) => panic!("{input:?} should be rejected, got {parsed:?}"),
                Err(err) => assert!(check(&err), "{input:?}: unexpected error {err:?}"),
            }
        }
    }

    #[test]
    fn rejects_malformed_structure() {
        assert_rejects(&[
            ("", |e| matches!(e, EmailError::Empty)),
            ("   \t ", |e| matches!(e, EmailError::Empty)),
            ("john doe@example.com", |e| {
                matches!(e, EmailError::Whitespace { ch: ' ' })
            }),
            ("john\u{a0}doe@example.com", |e| {
                matches!(e, EmailError::Whitespace { ch: '\u{a0}' })
            }),
            ("john@exa\u{2003}mple.com", |e| {
                matches!(e, EmailError::Whitespace { ch: '\u{2003}' })
            }),
            ("john\tdoe@example.com", |e| {
                matches!(e, EmailError::Whitespace { ch: '\t' })
            }),
            ("john\u{0}doe@example.com", |e| {
                matches!(e, EmailError::ControlCharacter { ch: '\u{0}' })
            }),
            ("john@example.com\u{7f}", |e| {
                matches!(e, EmailError::ControlCharacter { ch: '\u{7f}' })
            }),
            ("john(comment)@example.com", |e| {
                matches!(e, EmailError::Comment)
            }),
            ("john@example.com (Work)", |e| {
                matches!(e, EmailError::Comment)
            }),
            ("john@(comment)example.com", |e| {
                matches!(e, EmailError::Comment)
            }),
            ("john)@example.com", |e| matches!(e, EmailError::Comment)),
            ("\"john doe\"@example.com", |e| {
                matches!(e, EmailError::QuotedLocalPart)
            }),
            ("\"john@doe\"@example.com", |e| {
                matches!(e, EmailError::QuotedLocalPart)
            }),
            ("\"john\"@example.com", |e| {
                matches!(e, EmailError::QuotedLocalPart)
            }),
            ("plainaddress", |e| matches!(e, EmailError::MissingAt)),
            ("example.com", |e| matches!(e, EmailError::MissingAt)),
            ("a@b@example.com", |e| matches!(e, EmailError::MultipleAt)),
            ("a@@example.com", |e| matches!(e, EmailError::MultipleAt)),
            ("x@[192.0.2.1]", |e| matches!(e, EmailError::DomainLiteral)),
            ("x@[IPv6:2001:db8::1]", |e| {
                matches!(e, EmailError::DomainLiteral)
            }),
            ("@example.com", |e| matches!(e, EmailError::EmptyLocalPart)),
            ("@", |e| matches!(e, EmailError::EmptyLocalPart)),
            ("john@", |e| matches!(e, EmailError::EmptyDomain)),
        ]);
    }

    #[test]
    fn rejects_invalid_local_parts() {
        assert_rejects(&[
            ("jo\"hn@example.com", |e| {
                matches!(e, EmailError::InvalidLocalPartCharacter { ch: '"' })
            }),
            (".john@example.com", |e| {
                matches!(e, EmailError::LocalPartStartsWithDot)
            }),
            ("john.@example.com", |e| {
                matches!(e, EmailError::LocalPartEndsWithDot)
            }),
            ("jo..hn@example.com", |e| {
                matches!(e, EmailError::LocalPartConsecutiveDots)
            }),
            (".@example.com", |e| {
                matches!(e, EmailError::LocalPartStartsWithDot)
            }),
            ("jo,hn@example.com", |e| {
                matches!(e, EmailError::InvalidLocalPartCharacter { ch: ',' })
            }),
            ("jo;hn@example.com", |e| {
                matches!(e, EmailError::InvalidLocalPartCharacter { ch: ';' })
            }),
            ("jo<hn>@example.com", |e| {
                matches!(e, EmailError::InvalidLocalPartCharacter { ch: '<' })
            }),
            ("jo\\hn@example.com", |e| {
                matches!(e, EmailError::InvalidLocalPartCharacter { ch: '\\' })
            }),
            ("jo[hn]@example.com", |e| {
                matches!(e, EmailError::InvalidLocalPartCharacter { ch: '[' })
            }),
            // U+037E GREEK QUESTION MARK is canonically equivalent to ';'.
            ("jo\u{37e}hn@example.com", |e| {
                matches!(e, EmailError::InvalidLocalPartCharacter { ch: ';' })
            }),
        ]);
    }

    #[test]
    fn rejects_invalid_domains() {
        assert_rejects(&[
            ("x@localhost", |e| matches!(e, EmailError::MissingDot)),
            ("x@例子", |e| matches!(e, EmailError::MissingDot)),
            ("x@example.com.", |e| {
                matches!(e, EmailError::DomainEndsWithDot)
            }),
            ("x@localhost.", |e| {
                matches!(e, EmailError::DomainEndsWithDot)
            }),
            ("x@.example.com", |e| {
                matches!(e, EmailError::EmptyDomainLabel)
            }),
            ("x@example..com", |e| {
                matches!(e, EmailError::EmptyDomainLabel)
            }),
            ("x@exa_mple.com", |e| {
                matches!(e, EmailError::InvalidDomainCharacter { ch: '_' })
            }),
            ("x@example.com:25", |e| {
                matches!(e, EmailError::InvalidDomainCharacter { ch: ':' })
            }),
            ("x@exam!ple.com", |e| {
                matches!(e, EmailError::InvalidDomainCharacter { ch: '!' })
            }),
            ("x@example.c/m", |e| {
                matches!(e, EmailError::InvalidDomainCharacter { ch: '/' })
            }),
            ("x@ex\u{200b}ample.com", |e| {
                matches!(e, EmailError::InvalidDomainCharacter { ch: '\u{200b}' })
            }),
            ("x@\u{94d}ab.com", |e| {
                matches!(e, EmailError::InvalidDomainCharacter { ch: '\u{94d}' })
            }),
            (
                "x@-example.com",
                |e| matches!(e, EmailError::LabelHyphen { label } if label == "-example"),
            ),
            (
                "x@example-.com",
                |e| matches!(e, EmailError::LabelHyphen { label } if label == "example-"),
            ),
            (
                "x@example.-com",
                |e| matches!(e, EmailError::LabelHyphen { label } if label == "-com"),
            ),
            (
                "x@1.2.3.4",
                |e| matches!(e, EmailError::TopLevelLabelWithoutLetter { label } if label == "4"),
            ),
            (
                "x@example.123",
                |e| matches!(e, EmailError::TopLevelLabelWithoutLetter { label } if label == "123"),
            ),
        ]);
    }

    #[test]
    fn enforces_octet_limits() {
        let local_65 = format!("{}@example.com", "a".repeat(65));
        assert!(matches!(
            Email::parse(&local_65),
            Err(EmailError::LocalPartTooLong { len: 65 })
        ));

        // 33 × 'é' is 66 octets although only 33 characters.
        let utf8_local = format!("{}@example.com", "é".repeat(33));
        assert!(matches!(
            Email::parse(&utf8_local),
            Err(EmailError::LocalPartTooLong { len: 66 })
        ));

        let label_64 = format!("x@{}.com", "d".repeat(64));
        assert!(matches!(
            Email::parse(&label_64),
            Err(EmailError::LabelTooLong { len: 64, .. })
        ));

        // 32 × 'ü' is 64 octets in a single label.
        let utf8_label = format!("x@{}.de", "ü".repeat(32));
        assert!(matches!(
            Email::parse(&utf8_label),
            Err(EmailError::LabelTooLong { len: 64, .. })
        ));

        let too_long = format!("{}x", max_length_address());
        assert!(matches!(
            Email::parse(&too_long),
            Err(EmailError::AddressTooLong { len: 255 })
        ));
    }

    #[test]
    fn length_limits_apply_to_the_canonical_form() {
        // 64 octets in NFC ('é' = 2 octets) but 96 octets in NFD: both spellings
        // denote the same address, so both must be accepted.
        let nfc = format!("{}@example.com", "\u{e9}".repeat(32));
        let nfd = format!("{}@example.com", "e\u{301}".repeat(32));
        assert_eq!(email(&nfc), email(&nfd));
    }

    #[test]
    fn accessors_return_canonical_parts() {
        let e = email("  Ann.Lee+Tag@Mail.Example.COM\n");
        assert_eq!(e.as_str(), "Ann.Lee+Tag@Mail.Example.COM");
        assert_eq!(e.canonical(), "ann.lee+tag@mail.example.com");
        assert_eq!(e.local_part(), "ann.lee+tag");
        assert_eq!(e.domain(), "mail.example.com");
    }

    #[test]
    fn canonical_form_is_nfc_and_lowercase() {
        let e = email("J\u{d6}RG@B\u{dc}CHER.DE");
        assert_eq!(e.canonical(), "j\u{f6}rg@b\u{fc}cher.de");
        let decomposed = email("Jo\u{308}rg@Bu\u{308}cher.de");
        assert_eq!(decomposed.canonical(), "j\u{f6}rg@b\u{fc}cher.de");
        assert_eq!(decomposed.as_str(), "Jo\u{308}rg@Bu\u{308}cher.de");
    }

    #[test]
    fn canonical_form_is_a_fixed_point() {
        for input in [
            "Ann@Example.COM",
            "J\u{d6}RG@B\u{dc}CHER.DE",
            "Jo\u{308}rg@Bu\u{308}cher.de",
            "\u{130}stanbul@\u{130}zmir.com.tr",
            "\u{3a3}\u{39f}\u{3a6}\u{399}\u{391}\u{3a3}@example.gr",
            "K\u{212a}@example.com",
            "J\u{30c}@T\u{308}.com",
            "\u{130}\u{327}@example.com",
        ] {
            let once = email(input);
            let twice = email(once.canonical());
            assert_eq!(once.canonical(), twice.canonical(), "{input:?}");
        }
    }

    #[test]
    fn lowercasing_that_breaks_nfc_is_renormalized() {
        // "J" + caron has no precomposed form, but "j" + caron composes to U+01F0.
        let e = email("J\u{30c}@example.com");
        assert_eq!(e.local_part(), "\u{1f0}");
        assert_eq!(e, email("\u{1f0}@example.com"));
    }

    #[test]
    fn equality_and_hash_ignore_case() {
        let a = email("Ann@Example.COM");
        let b = email("ann@example.com");
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_ne!(a, email("anne@example.com"));
        assert_ne!(a, email("ann@example.org"));
    }

    #[test]
    fn equality_and_hash_ignore_normalization_form() {
        let composed = email("caf\u{e9}@caf\u{e9}.fr");
        let decomposed = email("cafe\u{301}@cafe\u{301}.fr");
        assert_ne!(composed.as_str(), decomposed.as_str());
        assert_eq!(composed, decomposed);
        assert_eq!(hash_of(&composed), hash_of(&decomposed));

        let set: HashSet<Email> = [composed, decomposed, email("CAF\u{c9}@Caf\u{e9}.FR")]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn ordering_uses_canonical_form() {
        let upper_b = email("B@example.com");
        let lower_a = email("a@example.com");
        // As typed "B" < "a"; canonically "a" < "b".
        assert!(lower_a < upper_b);
        assert_eq!(
            email("X@Example.com").cmp(&email("x@example.COM")),
            Ordering::Equal
        );
        let mut sorted = [email("c@x.com"), upper_b, lower_a];
        sorted.sort();
        let order: Vec<&str> = sorted.iter().map(Email::as_str).collect();
        assert_eq!(order, ["a@example.com", "B@example.com", "c@x.com"]);
    }

    #[test]
    fn display_and_debug_keep_typed_form() {
        let e = email("  Ann@Example.com  ");
        assert_eq!(e.to_string(), "Ann@Example.com");
        assert_eq!(format!("{e:?}"), r#"Email("Ann@Example.com")"#);
    }

    #[test]
    fn trims_surrounding_whitespace_only() {
        let e = email("\u{a0}\t ann@example.com \r\n\u{3000}");
        assert_eq!(e.as_str(), "ann@example.com");
        assert!(matches!(
            Email::parse(" ann @example.com "),
            Err(EmailError::Whitespace { ch: ' ' })
        ));
    }

    #[test]
    fn from_str_and_try_from() {
        let parsed: Email = "Ann@Example.com".parse().expect("valid");
        assert_eq!(parsed.as_str(), "Ann@Example.com");
        assert_eq!("nope".parse::<Email>().unwrap_err(), EmailError::MissingAt);

        let from_ref = Email::try_from("ann@example.com").expect("valid");
        let from_owned = Email::try_from(String::from(" ANN@example.com ")).expect("valid");
        assert_eq!(from_ref, from_owned);
        assert_eq!(from_owned.as_str(), "ANN@example.com");
        assert_eq!(
            Email::try_from(String::from("x@localhost")).unwrap_err(),
            EmailError::MissingDot
        );
        assert_eq!(
            Email::try_from("x@localhost").unwrap_err(),
            EmailError::MissingDot
        );
    }

    #[test]
    fn error_messages_name_the_problem() {
        let msg = |s: &str| Email::parse(s).unwrap_err().to_string();
        assert_eq!(msg(""), "email address is empty");
        assert_eq!(msg("x@localhost"), "domain must contain a dot");
        assert_eq!(msg("a b@x.com"), "email address contains whitespace ' '");
        assert_eq!(
            msg("x@1.2.3.4"),
            "top-level domain label \"4\" contains no letter"
        );
        assert_eq!(
            msg(&format!("{}@x.com", "a".repeat(65))),
            "local part is 65 octets long; at most 64 are allowed"
        );
    }

    #[test]
    fn serializes_as_typed_string() {
        let e = email(" Ann@Example.com ");
        assert_eq!(
            serde_json::to_string(&e).expect("serialize"),
            r#""Ann@Example.com""#
        );
    }

    #[test]
    fn serde_round_trip() {
        let original = email("Jörg+News@Bücher.DE");
        let json = serde_json::to_string(&original).expect("serialize");
        let back: Email = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, original);
        assert_eq!(back.as_str(), original.as_str());
        assert_eq!(back.canonical(), "jörg+news@bücher.de");
    }

    #[test]
    fn deserialize_validates() {
        let trimmed: Email = serde_json::from_str(r#"" Ann@Example.com ""#).expect("valid");
        assert_eq!(trimmed.as_str(), "Ann@Example.com");

        for bad in [r#""""#, r#""nope""#, r#""x@localhost""#, r#""\"q\"@x.com""#] {
            let err = serde_json::from_str::<Email>(bad).expect_err(bad);
            assert!(err.is_data(), "{bad}: {err}");
        }
        let msg = serde_json::from_str::<Email>(r#""x@localhost""#)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("domain must contain a dot"), "{msg}");

        assert!(serde_json::from_str::<Email>("42").is_err());
        assert!(serde_json::from_str::<Email>("null").is_err());
    }
}

//! The domain (after the `@`): UTS #46 processing with the `idna` crate (nontransitional, STD3
//! ASCII rules, hyphen checks, DNS lengths on the A-label), then the IDNA2008 rules UTS #46
//! lets through, then the policy on top-level and special-use names.

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use unicode_normalization::UnicodeNormalization;

use super::chars::is_mark;
use super::error::EmailError;
use super::idna2008::{Derived, contexto_violation, derived, is_bidi_domain, satisfies_bidi_rule};

/// RFC 1035 limit on a single DNS label, in octets.
const MAX_LABEL_OCTETS: usize = 63;
/// RFC 1035 limit on a domain name without its trailing dot, in octets.
const MAX_DOMAIN_OCTETS: usize = 253;
/// The label separators of UTS #46: full stop, ideographic, full-width and half-width
/// ideographic full stops.
const SEPARATORS: [char; 4] = ['.', '\u{3002}', '\u{ff0e}', '\u{ff61}'];
/// Special-use and reserved names that cannot have public mail (RFC 6761, 6762, 7686), as the
/// reference validator lists them.
const SPECIAL_USE: [&str; 6] = ["arpa", "invalid", "local", "localhost", "onion", "test"];

/// A validated domain in both forms.
#[derive(Debug)]
pub(super) struct DomainName {
    /// The DNS form: A-labels, lowercase ASCII. What is sent.
    pub(super) ascii: String,
    /// The Unicode form: U-labels as UTS #46 ToUnicode gives them (lowercase, NFC). The
    /// canonical domain.
    pub(super) unicode: String,
}

/// Validates the domain `typed` (already free of whitespace, controls and unsafe characters).
pub(super) fn parse(typed: &str) -> Result<DomainName, EmailError> {
    check_characters(typed)?;
    if typed.ends_with(SEPARATORS) {
        return Err(EmailError::DomainEndsWithDot);
    }
    let labels: Vec<&str> = typed.split(SEPARATORS).collect();
    if labels.len() < 2 {
        return Err(EmailError::MissingDot);
    }
    let mut ascii_labels = Vec::with_capacity(labels.len());
    let mut unicode_labels = Vec::with_capacity(labels.len());
    for label in labels {
        let (ascii, unicode) = parse_label(label)?;
        ascii_labels.push(ascii);
        unicode_labels.push(unicode);
    }
    let ascii = ascii_labels.join(".");
    let unicode = unicode_labels.join(".");
    if ascii.len() > MAX_DOMAIN_OCTETS {
        return Err(EmailError::DomainTooLong { len: ascii.len() });
    }
    if is_bidi_domain(&unicode)
        && let Some(label) = unicode_labels.iter().find(|l| !satisfies_bidi_rule(l))
    {
        return Err(EmailError::DomainBidiRule {
            label: label.clone(),
        });
    }
    // The whole name through UTS #46 once more, as the authority: every rule above only
    // explains a refusal precisely, and this also checks what spans labels.
    let whole = Uts46::new()
        .to_ascii(
            typed.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::Check,
            DnsLength::Verify,
        )
        .map_err(|_| EmailError::InvalidIdna {
            domain: typed.to_owned(),
        })?;
    if whole != ascii {
        return Err(EmailError::InvalidIdna {
            domain: typed.to_owned(),
        });
    }
    check_top_level(&ascii_labels, &unicode_labels)?;
    check_special_use(&ascii, &unicode)?;
    Ok(DomainName { ascii, unicode })
}

/// Characters refused before any mapping, so that the error names the character typed: ASCII
/// other than letters, digits, hyphens and dots, and non-ASCII characters whose compatibility
/// decomposition holds such ASCII or a dot (`⒈` is "1.", `＿` is "_", `½` is "1⁄2").
fn check_characters(domain: &str) -> Result<(), EmailError> {
    for ch in domain.chars() {
        let refused = if ch.is_ascii() {
            !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '.')
        } else {
            !SEPARATORS.contains(&ch)
                && ch
                    .to_string()
                    .nfkd()
                    .any(|d| d == '.' || (d.is_ascii() && !(d.is_ascii_alphanumeric() || d == '-')))
        };
        if refused {
            return Err(EmailError::InvalidDomainCharacter { ch });
        }
    }
    Ok(())
}

/// One label: its A-label and its U-label, or why it is refused.
fn parse_label(typed: &str) -> Result<(String, String), EmailError> {
    if typed.is_empty() {
        return Err(EmailError::EmptyDomainLabel);
    }
    // A mark has nothing to combine with at the start of a label (IDNA forbids it).
    if let Some(ch) = typed.chars().next().filter(|&c| is_mark(c)) {
        return Err(EmailError::InvalidDomainCharacter { ch });
    }
    let uts46 = Uts46::new();
    let ascii = match uts46.to_ascii(
        typed.as_bytes(),
        AsciiDenyList::STD3,
        Hyphens::Allow,
        DnsLength::Ignore,
    ) {
        Ok(ascii) => ascii.into_owned(),
        Err(_) => return Err(explain_label(typed)),
    };
    let (unicode, decoded) =
        uts46.to_unicode(ascii.as_bytes(), AsciiDenyList::STD3, Hyphens::Allow);
    let unicode = unicode.into_owned();
    if decoded.is_err() || ascii.contains('.') {
        return Err(explain_label(typed));
    }
    if unicode.starts_with('-') || unicode.ends_with('-') || ascii.starts_with('-') {
        return Err(EmailError::LabelHyphen { label: unicode });
    }
    if ascii.get(2..4) == Some("--") && !ascii.starts_with("xn--") {
        return Err(EmailError::ReservedLabelHyphens { label: unicode });
    }
    if unicode.chars().nth(2) == Some('-') && unicode.chars().nth(3) == Some('-') {
        return Err(if is_punycode(typed) {
            EmailError::InvalidPunycode {
                label: typed.to_lowercase(),
            }
        } else {
            EmailError::ReservedLabelHyphens { label: unicode }
        });
    }
    if ascii.len() > MAX_LABEL_OCTETS {
        return Err(EmailError::LabelTooLong {
            len: ascii.len(),
            label: ascii,
        });
    }
    if !unicode.is_ascii() {
        check_idna2008(&unicode, typed)?;
    }
    Ok((ascii, unicode))
}

fn is_punycode(label: &str) -> bool {
    label
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
}

/// Why UTS #46 refused a label: bad Punycode, a contextual or bidi rule broken within the
/// label, or the first character refused on its own.
fn explain_label(typed: &str) -> EmailError {
    if is_punycode(typed) {
        return EmailError::InvalidPunycode {
            label: typed.to_lowercase(),
        };
    }
    let mapped: String = typed.nfkc().collect::<String>().to_lowercase();
    if let Some(ch) = contexto_violation(&mapped) {
        return EmailError::DomainContextRule { label: mapped, ch };
    }
    if is_bidi_domain(&mapped) && !satisfies_bidi_rule(&mapped) {
        return EmailError::DomainBidiRule { label: mapped };
    }
    let uts46 = Uts46::new();
    for ch in typed.chars() {
        let mut buffer = [0; 4];
        let alone = ch.encode_utf8(&mut buffer);
        let refused = uts46
            .to_ascii(
                alone.as_bytes(),
                AsciiDenyList::STD3,
                Hyphens::Allow,
                DnsLength::Ignore,
            )
            .map_or(true, |mapped| mapped.contains('.'));
        if refused {
            return EmailError::InvalidDomainCharacter { ch };
        }
    }
    EmailError::InvalidIdna {
        domain: typed.to_owned(),
    }
}

/// The IDNA2008 rules for a U-label: every code point valid, CONTEXTO ones in their context.
fn check_idna2008(unicode: &str, typed: &str) -> Result<(), EmailError> {
    for ch in unicode.chars() {
        match derived(ch) {
            Derived::Pvalid | Derived::ContextO => {}
            Derived::ContextJ | Derived::Disallowed | Derived::Unassigned => {
                // Name the character as typed when it maps to the refused one (`½` to `⁄`).
                let typed_ch = typed
                    .chars()
                    .find(|c| c.to_string().nfkc().any(|m| m == ch))
                    .unwrap_or(ch);
                return Err(EmailError::InvalidDomainCharacter { ch: typed_ch });
            }
        }
    }
    if let Some(ch) = contexto_violation(unicode) {
        return Err(EmailError::DomainContextRule {
            label: unicode.to_owned(),
            ch,
        });
    }
    Ok(())
}

/// The top-level label: letters only, or an internationalized label (whose Punycode always
/// ends with a letter). All digits reads as an IP address and gets its own error.
fn check_top_level(ascii_labels: &[String], unicode_labels: &[String]) -> Result<(), EmailError> {
    let (Some(ascii), Some(unicode)) = (ascii_labels.last(), unicode_labels.last()) else {
        return Ok(());
    };
    if ascii.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EmailError::TopLevelLabelWithoutLetter {
            label: unicode.clone(),
        });
    }
    if !(ascii.starts_with("xn--") || ascii.bytes().all(|b| b.is_ascii_alphabetic())) {
        return Err(EmailError::TopLevelLabelNotAlphabetic {
            label: unicode.clone(),
        });
    }
    Ok(())
}

fn check_special_use(ascii: &str, unicode: &str) -> Result<(), EmailError> {
    let special = SPECIAL_USE.iter().any(|name| {
        ascii == *name
            || ascii
                .strip_suffix(name)
                .is_some_and(|rest| rest.ends_with('.'))
    });
    if special {
        return Err(EmailError::SpecialUseDomain {
            domain: unicode.to_owned(),
        });
    }
    Ok(())
}

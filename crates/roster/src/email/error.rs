//! [`EmailError`]: why a string is not an acceptable address, one variant per rule.

/// Why a string is not an acceptable email address. Serialized as its rule in `code`
/// (`"multiple_at"`...) beside its fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
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
    /// The local part is longer than 64 octets, as sent or in canonical form.
    #[error("local part is {len} octets long; at most 64 are allowed")]
    LocalPartTooLong {
        /// The longer of the two lengths, in UTF-8 octets: the local part as sent
        /// ([`Email::delivery_local_part`](crate::Email::delivery_local_part)) and the canonical
        /// one ([`Email::local_part`](crate::Email::local_part)).
        len: usize,
    },
    /// The whole address is longer than 254 octets, as sent or in canonical form.
    #[error("email address is {len} octets long; at most 254 are allowed")]
    AddressTooLong {
        /// The longer of the two lengths, in UTF-8 octets: the address as sent (with the
        /// A-label domain) and the canonical one (with the Unicode domain).
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
    /// A domain label is longer than 63 octets in its DNS form (the A-label: `xn--` and
    /// Punycode for an internationalized label).
    #[error("domain label {label:?} is {len} octets long; at most 63 are allowed")]
    LabelTooLong {
        /// The label in its DNS form (the A-label).
        label: String,
        /// Length of the A-label in octets.
        len: usize,
    },
    /// The domain contains a character not allowed in a label: ASCII other than letters,
    /// digits and hyphens, a character IDNA2008 disallows (symbols, emoji, punctuation,
    /// compatibility forms such as `½` or `⒈`, the keycap U+20E3), or a combining mark at the
    /// start of a label.
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
    /// The last domain label is neither letters only nor an internationalized label
    /// (`xn--…`): no top-level domain has digits or hyphens (`example.c0m`).
    #[error("top-level domain label {label:?} must be letters only")]
    TopLevelLabelNotAlphabetic {
        /// The canonical top-level label.
        label: String,
    },
    /// A character that does not show, or changes how the text around it shows: default
    /// ignorable and format characters such as zero-width spaces and joiners, the byte order
    /// mark, bidi controls (U+202E), the soft hyphen, variation selectors and tags.
    #[error("email address contains invisible character {ch:?}")]
    InvisibleCharacter {
        /// The offending character.
        ch: char,
    },
    /// A private-use code point (U+E000–U+F8FF and planes 15–16).
    #[error("email address contains private-use character {ch:?}")]
    PrivateUseCharacter {
        /// The offending character.
        ch: char,
    },
    /// A code point that Unicode has not assigned, or a noncharacter (U+FFFF, U+FDD0, …).
    #[error("email address contains unassigned code point {ch:?}")]
    UnassignedCharacter {
        /// The offending character.
        ch: char,
    },
    /// The local part, or a dot-separated part of it, starts with a combining mark, which
    /// would combine with whatever comes before it.
    #[error("local part has a combining mark {ch:?} with nothing to combine with")]
    LeadingCombiningMark {
        /// The combining mark.
        ch: char,
    },
    /// A domain label has hyphens in its third and fourth positions without being an
    /// internationalized label (`ab--cd`): that form is reserved (RFC 5891).
    #[error("domain label {label:?} has '--' in the third and fourth positions")]
    ReservedLabelHyphens {
        /// The canonical label.
        label: String,
    },
    /// A label starts with `xn--` but is not the Punycode of a valid internationalized label.
    #[error("domain label {label:?} is not valid Punycode")]
    InvalidPunycode {
        /// The label as typed (lowercased).
        label: String,
    },
    /// A character valid in a label only in a context that this label does not give it
    /// (RFC 5892 appendix A): a middle dot not between two `l`s, a Greek keraia not before a
    /// Greek letter, a Hebrew geresh not after a Hebrew letter, a katakana middle dot in a
    /// label without kana or Han, mixed Arabic-Indic digits.
    #[error("domain label {label:?} uses {ch:?} out of its context")]
    DomainContextRule {
        /// The canonical label.
        label: String,
        /// The character out of context.
        ch: char,
    },
    /// A label breaks the Bidi Rule (RFC 5893): in a domain with a right-to-left label, every
    /// label must read unambiguously in one direction (`1.אב.com` is refused: `1` could show
    /// on either side).
    #[error("domain label {label:?} breaks the bidi rule for right-to-left domains")]
    DomainBidiRule {
        /// The canonical label.
        label: String,
    },
    /// The domain, in DNS form (A-labels), is longer than 253 octets.
    #[error("domain is {len} octets long in DNS form; at most 253 are allowed")]
    DomainTooLong {
        /// Length of the A-label form of the domain, in octets.
        len: usize,
    },
    /// The domain is a special-use or reserved name that has no public mail
    /// (`localhost`, `invalid`, `test`, `local`, `onion`, `arpa`, or a name under them).
    #[error("domain {domain:?} is a special-use name that cannot receive email")]
    SpecialUseDomain {
        /// The canonical domain.
        domain: String,
    },
    /// The domain is not a valid internationalized domain name under UTS #46 for a reason
    /// none of the other variants names.
    #[error("domain {domain:?} is not a valid internationalized domain name")]
    InvalidIdna {
        /// The domain as typed.
        domain: String,
    },
}

//! Properties of `Email::parse` over generated input:
//!
//! - every accepted address round-trips through its canonical form and its sent form;
//! - the lowercased, NFC, NFD and A-label spellings of one address are accepted or refused
//!   together, and compare equal;
//! - parsing never panics: two hundred thousand seeded random inputs.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use roster::Email;
use unicode_normalization::UnicodeNormalization;

/// Characters for local parts: ASCII atext, letters with case and normalization quirks
/// (`İ`, `ẞ`, `Σ`, `ǅ`, the Kelvin and Ångström signs), other scripts, compatibility forms and
/// combining marks.
const LOCAL_CHARS: &[char] = &[
    'a', 'B', 'z', '0', '9', '.', '+', '-', '_', '!', '#', '~', 'é', 'Ö', 'ß', 'ẞ', 'İ', 'ı', 'Σ',
    'ς', 'ǅ', 'K', 'Å', 'ﬁ', 'ａ', 'Ｂ', '用', 'я', 'Д', 'ά', 'ᾼ', '\u{301}', '\u{308}', '\u{345}',
    'ö', '½', '²', '☃', 'カ', 'ｶ', 'ℌ', 'µ',
];

/// Labels for domains, in several spellings of the same names.
const LABELS: &[&str] = &[
    "example",
    "EXAMPLE",
    "bücher",
    "BÜCHER",
    "bu\u{308}cher",
    "xn--bcher-kva",
    "ｅｘａｍｐｌｅ",
    "ﬁle",
    "straße",
    "ς",
    "例子",
    "пример",
    "a-b",
    "xn--80akhbyknj4f",
    "mail",
    "ab--cd",
    "xn--zz",
    "1",
    "אב",
];

const TOP_LEVEL: &[&str] = &["com", "DE", "рф", "xn--p1ai", "中国", "c0m", "test"];

fn local_part() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(LOCAL_CHARS), 1..12)
        .prop_map(|chars| chars.into_iter().collect())
}

fn domain() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(LABELS), 1..3),
        prop::sample::select(TOP_LEVEL),
        prop::sample::select(&[".", "。", "．"][..]),
    )
        .prop_map(|(labels, tld, dot)| {
            let mut domain = labels.join(dot);
            domain.push('.');
            domain.push_str(tld);
            domain
        })
}

fn spellings(address: &str) -> Vec<String> {
    vec![
        address.to_lowercase(),
        address.nfc().collect(),
        address.nfd().collect(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn accepted_addresses_round_trip_through_their_canonical_form(
        local in local_part(),
        domain in domain(),
    ) {
        let typed = format!("{local}@{domain}");
        if let Ok(email) = Email::parse(&typed) {
            let again = Email::parse(email.canonical()).expect("the canonical form is valid");
            prop_assert_eq!(again.canonical(), email.canonical());
            let sent = Email::parse(email.delivery_address()).expect("the sent form is valid");
            prop_assert_eq!(&sent, &email);
            prop_assert_eq!(sent.delivery_address(), email.delivery_address());
            prop_assert!(email.delivery_address().len() <= 254);
            prop_assert!(email.delivery_local_part().len() <= 64);
            prop_assert!(email.canonical().len() <= 254);
            prop_assert!(email.ascii_domain().is_ascii());
        }
    }

    #[test]
    fn spellings_of_one_address_are_accepted_or_refused_together(
        local in local_part(),
        domain in domain(),
    ) {
        let typed = format!("{local}@{domain}");
        let parsed = Email::parse(&typed);
        for spelling in spellings(&typed) {
            let other = Email::parse(&spelling);
            prop_assert_eq!(other.is_ok(), parsed.is_ok(), "{:?} and {:?}: {:?} vs {:?}", typed, spelling, parsed, other);
            if let (Ok(a), Ok(b)) = (&parsed, &other) {
                prop_assert_eq!(a, b);
                prop_assert_eq!(a.canonical(), b.canonical());
            }
        }
        if let Ok(email) = &parsed {
            let a_label = format!("{local}@{}", email.ascii_domain());
            let other = Email::parse(&a_label).expect("the A-label spelling is valid too");
            prop_assert_eq!(&other, email);
            let unicode = format!("{local}@{}", email.domain());
            prop_assert_eq!(&Email::parse(&unicode).expect("and the Unicode one"), email);
        }
    }
}

/// Code point ranges the fuzzer draws from: ASCII, Latin, combining marks, Greek, Hebrew and
/// Arabic, Devanagari, general punctuation (zero-width and bidi controls), letterlike forms,
/// CJK, Hangul, private use, presentation forms, variation selectors, half- and full-width
/// forms, specials, emoji, tags and the last planes.
const RANGES: &[(u32, u32)] = &[
    (0x00, 0x7f),
    (0x80, 0x2ff),
    (0x300, 0x36f),
    (0x370, 0x52f),
    (0x590, 0x6ff),
    (0x900, 0x97f),
    (0x1100, 0x11ff),
    (0x2000, 0x206f),
    (0x2100, 0x24ff),
    (0x3000, 0x30ff),
    (0x3130, 0x318f),
    (0x4e00, 0x4e80),
    (0xac00, 0xac80),
    (0xe000, 0xe010),
    (0xfb00, 0xfdff),
    (0xfe00, 0xfe6f),
    (0xff00, 0xffff),
    (0x1d100, 0x1d24f),
    (0x1f300, 0x1f64f),
    (0xe0000, 0xe007f),
    (0x10fff0, 0x10ffff),
];

fn random_char(rng: &mut StdRng) -> char {
    if rng.random_bool(0.5) {
        let ascii = b"abcxyzAZ019.-_+@@..\"()[]<>\\ \t";
        return char::from(ascii[rng.random_range(0..ascii.len())]);
    }
    let (low, high) = RANGES[rng.random_range(0..RANGES.len())];
    loop {
        if let Some(c) = char::from_u32(rng.random_range(low..=high)) {
            return c;
        }
    }
}

fn random_input(rng: &mut StdRng) -> String {
    match rng.random_range(0..4) {
        // Anything at all.
        0 => (0..rng.random_range(0..40))
            .map(|_| random_char(rng))
            .collect(),
        // Something with an '@' and a dot in the domain.
        1 => {
            let local: String = (0..rng.random_range(1..20))
                .map(|_| random_char(rng))
                .collect();
            let domain: String = (0..rng.random_range(1..30))
                .map(|_| random_char(rng))
                .collect();
            format!("{local}@{domain}.com")
        }
        // A valid address with a few characters replaced or inserted.
        2 => {
            let mut chars: Vec<char> = "Jörg.Müller+news@bücher.example.de".chars().collect();
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..=chars.len());
                if rng.random_bool(0.5) && at < chars.len() {
                    chars[at] = random_char(rng);
                } else {
                    chars.insert(at, random_char(rng));
                }
            }
            chars.into_iter().collect()
        }
        // Long runs, around the length limits and the Punycode decoder's.
        _ => {
            let c = random_char(rng);
            let n = rng.random_range(0..300);
            let run: String = std::iter::repeat_n(c, n).collect();
            match rng.random_range(0..3) {
                0 => format!("{run}@example.com"),
                1 => format!("a@{run}.com"),
                _ => format!("a@xn--{run}.com"),
            }
        }
    }
}

#[test]
fn parsing_never_panics() {
    let mut rng = StdRng::seed_from_u64(0x5eed_e4a1);
    let mut accepted = 0;
    for _ in 0..200_000 {
        let input = random_input(&mut rng);
        if let Ok(email) = Email::parse(&input) {
            accepted += 1;
            let again = Email::parse(email.canonical())
                .unwrap_or_else(|error| panic!("{input:?}: canonical refused: {error}"));
            assert_eq!(again, email, "{input:?}");
            let sent = Email::parse(email.delivery_address())
                .unwrap_or_else(|error| panic!("{input:?}: sent form refused: {error}"));
            assert_eq!(sent, email, "{input:?}");
        }
    }
    // The generator reaches both sides of the policy.
    assert!(accepted > 1000, "{accepted} accepted");
}

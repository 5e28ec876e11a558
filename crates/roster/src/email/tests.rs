//! Unit tests of the address policy: one test or more per rule of the table in the module docs.

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
            matches!(e, EmailError::InvisibleCharacter { ch: '\u{200b}' })
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

    // The label limit applies to the A-label: 32 × 'ü' is 64 octets of UTF-8 but a short
    // A-label, so it is a real domain; 60 ASCII letters and an 'ü' make a 64+ octet A-label.
    let utf8_label = email(&format!("x@{}.de", "ü".repeat(32)));
    assert!(utf8_label.ascii_domain().len() <= 63 + ".de".len());
    let wide = format!("x@{}ü.de", "a".repeat(60));
    assert!(matches!(
        Email::parse(&wide),
        Err(EmailError::LabelTooLong { len, label }) if len > 63 && label.starts_with("xn--")
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

// ---- One mailbox, one identity: the examples of the issue and each rule of the table. ----

#[test]
fn every_spelling_of_an_internationalized_domain_is_one_identity() {
    let unicode = email("jörg@bücher.de");
    for spelling in [
        "jörg@xn--bcher-kva.de",
        "jörg@XN--BCHER-KVA.DE",
        "JÖRG@BÜCHER.DE",
        "jo\u{308}rg@bu\u{308}cher.de",
        "jörg@ｂüｃｈｅｒ．ｄｅ",
        "jörg@bücher。de",
    ] {
        let other = email(spelling);
        assert_eq!(other, unicode, "{spelling:?}");
        assert_eq!(other.canonical(), "jörg@bücher.de", "{spelling:?}");
        assert_eq!(other.ascii_domain(), "xn--bcher-kva.de", "{spelling:?}");
        assert_eq!(
            other.as_str(),
            spelling,
            "the typed form is kept for display"
        );
    }
    assert_eq!(email("x@ﬁle.com"), email("x@file.com"));
    assert_eq!(email("x@ﬁle.com").canonical(), "x@file.com");
    assert_eq!(email("ａ@ｅｘａｍｐｌｅ.com"), email("a@example.com"));
    assert_eq!(email("ａ@ｅｘａｍｐｌｅ.com").canonical(), "a@example.com");
    assert_eq!(email("ＡＢＣ@example.com"), email("abc@example.com"));
    // Nontransitional: ß is not ss, ς is not σ.
    assert_ne!(email("a@straße.de"), email("a@strasse.de"));
    assert_eq!(email("a@xn--zca.de").domain(), "ß.de");
}

#[test]
fn sent_form_uses_the_a_label_and_keeps_the_local_part_case() {
    let e = email("Jörg.Müller@Bücher.DE");
    assert_eq!(e.delivery_address(), "Jörg.Müller@xn--bcher-kva.de");
    assert_eq!(e.delivery_local_part(), "Jörg.Müller");
    assert_eq!(e.ascii_domain(), "xn--bcher-kva.de");
    assert!(e.needs_smtputf8());
    let ascii_local = email("ann@bücher.de");
    assert_eq!(ascii_local.delivery_address(), "ann@xn--bcher-kva.de");
    assert!(!ascii_local.needs_smtputf8());
    // Compatibility forms are sent folded, as the identity is.
    assert_eq!(
        email("ａｎｎ@example.com").delivery_address(),
        "ann@example.com"
    );
    assert_eq!(
        email("e\u{301}@example.com").delivery_local_part(),
        "\u{e9}"
    );
}

#[test]
fn refuses_invalid_punycode() {
    for input in [
        "a@xn--zz.com",
        "a@xn--a.com",
        "a@xn--ab--cd.com",
        "a@xn--example.com",
    ] {
        assert!(
            matches!(Email::parse(input), Err(EmailError::InvalidPunycode { .. })),
            "{input:?}: {:?}",
            Email::parse(input)
        );
    }
    // "bcher--kva" decodes to "bücher-", which ends with a hyphen.
    assert!(matches!(
        Email::parse("a@xn--bcher--kva.com"),
        Err(EmailError::InvalidPunycode { .. } | EmailError::LabelHyphen { .. })
    ));
    // A-labels whose U-label is disallowed: the snowman and the pile of poo.
    for input in ["a@xn--n3h.net", "a@xn--ls8h.la"] {
        assert!(Email::parse(input).is_err(), "{input:?}");
    }
}

#[test]
fn refuses_hyphens_in_the_third_and_fourth_positions() {
    assert!(matches!(
        Email::parse("a@ab--cd.com"),
        Err(EmailError::ReservedLabelHyphens { label }) if label == "ab--cd"
    ));
    assert!(matches!(
        Email::parse("a@AB--CD.com"),
        Err(EmailError::ReservedLabelHyphens { label }) if label == "ab--cd"
    ));
    email("a@a--b.com");
    email("a@ab-cd.com");
}

#[test]
fn refuses_what_idna2008_disallows() {
    for (input, ch) in [
        ("ab@exa⒈mple.com", '⒈'),
        ("ab@exa\u{20e3}mple.com", '\u{20e3}'),
        ("ab@½.com", '½'),
        ("a@☃.net", '☃'),
        ("a@💩.la", '💩'),
        ("a@exa_mple.com", '_'),
        ("a@exa＿mple.com", '＿'),
    ] {
        match Email::parse(input) {
            Err(EmailError::InvalidDomainCharacter { ch: found }) => {
                assert_eq!(found, ch, "{input:?}");
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }
}

#[test]
fn applies_the_contextual_rules() {
    email("a@l·l.cat");
    email("a@͵α.gr");
    email("a@א׳.com");
    email("a@カ・キ.jp");
    for (input, ch) in [
        ("a@a·b.cat", '·'),
        ("a@α͵.gr", '͵'),
        ("a@a・b.jp", '・'),
        ("a@١۲.com", '١'),
    ] {
        assert!(
            matches!(
                Email::parse(input),
                Err(EmailError::DomainContextRule { ch: found, .. }) if found == ch
            ),
            "{input:?}: {:?}",
            Email::parse(input)
        );
    }
    // A geresh with no Hebrew before it starts an RTL label the wrong way too.
    assert!(Email::parse("a@׳א.com").is_err());
}

#[test]
fn applies_the_bidi_rule_to_every_label() {
    email("a@אב.com");
    email("a@מ1ב.com");
    email("a@אב1.com");
    email("a@موقع.وزارة-الاتصالات.مصر");
    for (input, label) in [
        ("a@1.אב.com", "1"),
        ("a@אב.1.com", "1"),
        ("a@xn--4dbc.1.com", "1"),
        ("a@1אב.com", "1אב"),
        ("a@١٢٣.com", "١٢٣"),
    ] {
        assert!(
            matches!(
                Email::parse(input),
                Err(EmailError::DomainBidiRule { label: found }) if found == label
            ),
            "{input:?}: {:?}",
            Email::parse(input)
        );
    }
}

#[test]
fn refuses_invisible_and_meaningless_characters() {
    for (input, ch) in [
        ("a\u{200b}@example.com", '\u{200b}'),
        ("\u{feff}a@example.com", '\u{feff}'),
        ("\u{202e}admin@example.com", '\u{202e}'),
        ("a\u{ad}b@example.com", '\u{ad}'),
        ("a\u{2066}b@example.com", '\u{2066}'),
        ("a\u{200d}b@example.com", '\u{200d}'),
        ("❤\u{fe0f}@example.com", '\u{fe0f}'),
        ("a\u{34f}b@example.com", '\u{34f}'),
        ("\u{3164}@example.com", '\u{3164}'),
        ("a\u{e0041}@example.com", '\u{e0041}'),
        ("a@exa\u{ad}mple.com", '\u{ad}'),
        ("a@exa\u{200c}mple.com", '\u{200c}'),
        ("a@ex\u{fe0f}ample.com", '\u{fe0f}'),
    ] {
        assert_eq!(
            Email::parse(input).unwrap_err(),
            EmailError::InvisibleCharacter { ch },
            "{input:?}"
        );
    }
    for (input, ch) in [
        ("\u{e000}@example.com", '\u{e000}'),
        ("a\u{f0000}@example.com", '\u{f0000}'),
        ("a@exa\u{f8ff}mple.com", '\u{f8ff}'),
    ] {
        assert_eq!(
            Email::parse(input).unwrap_err(),
            EmailError::PrivateUseCharacter { ch },
            "{input:?}"
        );
    }
    for (input, ch) in [
        ("a\u{378}@example.com", '\u{378}'),
        ("a\u{ffff}@example.com", '\u{ffff}'),
        ("a\u{fdd0}@example.com", '\u{fdd0}'),
        ("a\u{1fffe}@example.com", '\u{1fffe}'),
    ] {
        assert_eq!(
            Email::parse(input).unwrap_err(),
            EmailError::UnassignedCharacter { ch },
            "{input:?}"
        );
    }
}

#[test]
fn refuses_a_local_part_starting_with_a_combining_mark() {
    assert_eq!(
        Email::parse("\u{301}a@example.com").unwrap_err(),
        EmailError::LeadingCombiningMark { ch: '\u{301}' }
    );
    assert_eq!(
        Email::parse("a.\u{308}b@example.com").unwrap_err(),
        EmailError::LeadingCombiningMark { ch: '\u{308}' }
    );
    // After a base character it composes or combines as intended.
    assert_eq!(email("a\u{301}@example.com").local_part(), "\u{e1}");
    email("उपयोगकर्ता@example.com");
}

#[test]
fn accepts_visible_non_ascii_local_parts() {
    for input in [
        "☃@example.com",
        "😀@example.com",
        "a\u{2019}b@example.com",
        "用户@例子.广告",
        "ΣΑΣ@example.gr",
        "½@example.com",
    ] {
        email(input);
    }
    assert_eq!(email("ΣΑΣ@example.gr").local_part(), "σας");
    assert_eq!(email("½@example.com").local_part(), "1\u{2044}2");
}

#[test]
fn compatibility_forms_that_fold_into_forbidden_syntax_are_refused() {
    assert_eq!(
        Email::parse("a＂b@example.com").unwrap_err(),
        EmailError::InvalidLocalPartCharacter { ch: '"' }
    );
    assert_eq!(
        Email::parse("a＠b@example.com").unwrap_err(),
        EmailError::InvalidLocalPartCharacter { ch: '@' }
    );
    assert_eq!(
        Email::parse("a．．b@example.com").unwrap_err(),
        EmailError::LocalPartConsecutiveDots
    );
    assert_eq!(email("a．b@example.com").canonical(), "a.b@example.com");
}

#[test]
fn label_limits_apply_to_the_a_label() {
    // 32 × 'ü' + '.de': 64 octets of UTF-8 in one label, a real domain.
    let wide = email(&format!("x@{}.de", "ü".repeat(32)));
    assert_eq!(wide.domain(), format!("{}.de", "ü".repeat(32)));
    assert!(wide.ascii_domain().starts_with("xn--"));
    // A label whose UTF-8 fits in 63 octets but whose A-label does not.
    let varied: String = (0..21u32)
        .filter_map(|i| char::from_u32(0x4e00 + i * 997))
        .collect();
    assert!(varied.len() <= 63);
    let cjk = format!("x@{varied}.com");
    assert!(matches!(
        Email::parse(&cjk),
        Err(EmailError::LabelTooLong { len, .. }) if len > 63
    ));
    // A domain may have 253 octets: 4 labels of 61, a 3-letter top-level label, 7 dots is 251.
    let labels = ["a", "b", "c", "d"].map(|c| c.repeat(61)).join(".");
    let domain = format!("{labels}.com");
    assert_eq!(domain.len(), 251);
    assert_eq!(email(&format!("x@{domain}")).ascii_domain(), domain);
    // 4 labels of 62 make 255.
    let too_long = format!(
        "x@{}.com",
        ["a", "b", "c", "d"].map(|c| c.repeat(62)).join(".")
    );
    assert!(matches!(
        Email::parse(&too_long),
        Err(EmailError::DomainTooLong { len: 255 })
    ));
}

#[test]
fn address_length_is_measured_on_the_sent_and_the_canonical_form() {
    // The Unicode form of this domain is longer than its A-label: the canonical address is
    // over 254 octets although the sent one is not.
    let domain = ["ü"; 4].map(|u| u.repeat(30)).join(".");
    let address = format!("{}@{domain}.de", "a".repeat(10));
    let canonical_len = 10 + 1 + domain.len() + 3;
    assert!(canonical_len > 254);
    assert_eq!(
        Email::parse(&address).unwrap_err(),
        EmailError::AddressTooLong { len: canonical_len }
    );
    // NFD input is measured in NFC: 32 × "e" + U+0301 is 96 octets typed, 64 composed.
    email(&format!("{}@example.com", "e\u{301}".repeat(32)));
}

#[test]
fn top_level_labels_are_letters_or_internationalized() {
    for input in [
        "a@example.рф",
        "a@example.xn--p1ai",
        "a@例子.中国",
        "a@example.photography",
    ] {
        email(input);
    }
    for input in [
        "a@example.c0m",
        "a@example.1a",
        "a@example.co-m",
        "a@example.com1",
    ] {
        assert!(
            matches!(
                Email::parse(input),
                Err(EmailError::TopLevelLabelNotAlphabetic { .. })
            ),
            "{input:?}: {:?}",
            Email::parse(input)
        );
    }
}

#[test]
fn special_use_names_are_refused() {
    for input in [
        "a@printer.local",
        "a@foo.test",
        "a@a.localhost",
        "a@x.invalid",
        "a@hidden.onion",
        "a@1.in-addr.arpa",
        "a@FOO.TEST",
    ] {
        assert!(
            matches!(
                Email::parse(input),
                Err(EmailError::SpecialUseDomain { .. })
            ),
            "{input:?}: {:?}",
            Email::parse(input)
        );
    }
    email("a@latest.com");
    email("a@test.com");
    email("a@contest.de");
}

#[test]
fn error_messages_of_the_new_rules() {
    let msg = |s: &str| Email::parse(s).unwrap_err().to_string();
    assert_eq!(
        msg("a\u{200b}@example.com"),
        "email address contains invisible character '\\u{200b}'"
    );
    assert_eq!(
        msg("a@xn--zz.com"),
        "domain label \"xn--zz\" is not valid Punycode"
    );
    assert_eq!(
        msg("a@ab--cd.com"),
        "domain label \"ab--cd\" has '--' in the third and fourth positions"
    );
    assert_eq!(
        msg("a@1.אב.com"),
        "domain label \"1\" breaks the bidi rule for right-to-left domains"
    );
    assert_eq!(
        msg("a@foo.test"),
        "domain \"foo.test\" is a special-use name that cannot receive email"
    );
}

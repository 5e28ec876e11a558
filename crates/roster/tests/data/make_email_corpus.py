"""Generates `email_corpus.jsonl`: addresses judged by Python's `email-validator`.

Run it in a throwaway virtual environment; nothing in the build or the tests runs Python, the
tests read the JSON lines this writes:

    python3 -m venv /tmp/ev && /tmp/ev/bin/pip install email-validator
    /tmp/ev/bin/python crates/roster/tests/data/make_email_corpus.py \
        > crates/roster/tests/data/email_corpus.jsonl

Each line is one address with the validator's verdict (`check_deliverability=False`, every
other option at its default): `{"address", "group", "valid"}` and, for a valid address, its
`domain` (Unicode form) and `ascii_domain`, or for an invalid one the validator's `reason`. `group` says which generator below made the address. The generator is
seeded, so the same validator version writes the same file.
"""

import json
import random
import sys
import unicodedata

import email_validator
from email_validator import EmailNotValidError, validate_email

rng = random.Random(20260301)

FIRST = ["ann", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "oscar", "peggy", "trent", "victor", "walter", "zoe", "li", "omar", "yuki"]
LAST = ["smith", "jones", "lee", "garcia", "muller", "rossi", "kim", "nguyen", "silva", "khan"]
WORDS = ["mail", "post", "example", "acme", "portal", "corp", "shop", "news", "billing",
         "team", "dev", "staging", "eu", "us", "cloud", "data", "my-company", "a1", "x", "web2"]
TLDS = ["com", "org", "net", "de", "fr", "io", "co.uk", "com.au", "info", "dev", "app",
        "museum", "travel", "xn--p1ai", "xn--fiqs8s", "jp", "ch", "nl", "se", "photography"]
SPECIALS = "!#$%&'*+/=?^_`{|}~-"

# Internationalized pieces: (local part words, domain labels), by script.
INTL = {
    "latin": (["jörg", "josé", "françois", "zoë", "øyvind", "łukasz", "ðóra", "straße", "çağrı",
               "ångström", "naïve", "dvořák"],
              ["bücher", "münchen", "café", "españa", "gödel", "straße", "ĳssel", "zürich"]),
    "greek": (["δοκιμή", "αλέξης", "σοφία"], ["ελλάδα", "παράδειγμα", "δοκιμή"]),
    "cyrillic": (["иван", "пользователь", "ёжик", "олександр"],
                 ["пример", "почта", "москва", "україна"]),
    "cjk": (["用户", "测试", "山田", "ユーザー", "사용자"],
            ["例子", "测试", "日本語", "ドメイン", "한국"]),
    "arabic": (["مستخدم", "علي"], ["مثال", "موقع"]),
    "hebrew": (["משתמש", "דוד"], ["דוגמה", "אתר"]),
    "indic": (["उपयोगकर्ता", "राम", "குமார்"], ["उदाहरण", "भारत", "இந்தியா"]),
    "thai": (["ผู้ใช้", "สมชาย"], ["ตัวอย่าง", "ไทย"]),
}

# Characters that are interesting on their own, with a short name for the record.
TRICKY = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u202a", "\u2066",
    "\u061c", "\u180e", "\u034f", "\ufe0f", "\ufe00", "\u3164", "\uffa0", "\u115f",
    "\ue000", "\uf8ff", "\U000f0000", "\U0010fffd",  # private use
    "\u0378", "\u0530", "\U0001fffe", "\ufdd0", "\uffff", "\U000e0001",  # unassigned, noncharacters, tag
    "\u0301", "\u0308", "\u093c", "\u20e3", "\u0e31",  # combining marks
    "\u00a0", "\u2003", "\u3000", "\u2028", "\u2029", "\u0085", "\u0009",  # spaces, separators
    "\u2488", "\u2024", "\u00bd", "\u2153", "\u2460", "\u2122", "\u00b2", "\u00aa",  # compatibility
    "\ufb01", "\uff41", "\uff21", "\uff10", "\uff0e", "\u3002", "\uff61", "\uff20", "\ufe6b",
    "\u2603", "\U0001f600", "\U0001f4a9", "\u2764", "\u00b7", "\u0375", "\u05f3", "\u30fb",
    "\u0660", "\u06f0", "\u0640", "\u3007", "\u00df", "\u03c2", "\u0130", "\u212a", "\u212b",
    "\u1e9e", "\u01c5", "\u0345", "\u1fbc", "\u2126", "\u0131",
    "\u00e9", "e\u0301", "\u0627", "\u05d0", "\u0661", "1",
]


def name():
    first, last = rng.choice(FIRST), rng.choice(LAST)
    pattern = rng.randrange(8)
    if pattern == 0:
        return first
    if pattern == 1:
        return f"{first}.{last}"
    if pattern == 2:
        return f"{first}{rng.randrange(100)}"
    if pattern == 3:
        return f"{first}+{rng.choice(WORDS)}"
    if pattern == 4:
        return f"{first[0]}.{last}"
    if pattern == 5:
        return f"{first}_{last}"
    if pattern == 6:
        return f"{first}-{last}".upper() if rng.random() < 0.3 else f"{first}-{last}"
    return "".join(rng.choice(SPECIALS + "abc") for _ in range(rng.randrange(1, 6))) + first


def domain():
    labels = [rng.choice(WORDS) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    return ".".join(labels) + "." + rng.choice(TLDS)


def ascii_valid():
    address = f"{name()}@{domain()}"
    if rng.random() < 0.2:
        address = "".join(c.upper() if rng.random() < 0.3 else c for c in address)
    return address


def mutate(address):
    """One ASCII syntax slip, the kind people make in forms."""
    local, _, dom = address.partition("@")
    kind = rng.randrange(24)
    if kind == 0:
        return local + dom
    if kind == 1:
        return f"{local}@@{dom}"
    if kind == 2:
        return f".{local}@{dom}"
    if kind == 3:
        return f"{local}.@{dom}"
    if kind == 4:
        return f"{local[:1]}..{local[1:]}@{dom}"
    if kind == 5:
        return f"{local}@{dom}."
    if kind == 6:
        return f"{local}@.{dom}"
    if kind == 7:
        return f"{local}@{dom.replace('.', '..', 1)}"
    if kind == 8:
        return f"{local}@-{dom}"
    if kind == 9:
        return f"{local}@{dom.split('.')[0]}-.{dom.split('.', 1)[1]}"
    if kind == 10:
        return f"{local} x@{dom}"
    if kind == 11:
        return f"{local}@{dom.replace('.', '_', 1)}"
    if kind == 12:
        return f"\"{local}\"@{dom}"
    if kind == 13:
        return f"{local}(work)@{dom}"
    if kind == 14:
        return f"{local}@[192.0.2.{rng.randrange(256)}]"
    if kind == 15:
        return f"{local}@{rng.choice(WORDS)}"
    if kind == 16:
        return f"{local}@{dom}.{rng.randrange(1000)}"
    if kind == 17:
        return f"{local}@{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
    if kind == 18:
        bad = rng.choice(",;:<>[]\\")
        return f"{local}{bad}x@{dom}"
    if kind == 19:
        return f"{local}@{dom}:{rng.choice([25, 587])}"
    if kind == 20:
        return f"{local}@{rng.choice(WORDS)}.{rng.choice(['localhost', 'test', 'invalid', 'local', 'onion', 'arpa'])}"
    if kind == 21:
        return f"{local}@{dom[:2]}--{dom[2:]}"
    if kind == 22:
        # A digit typed into the top-level label: after it, or an 0 for an o.
        head, _, tld = dom.rpartition(".")
        if "o" in tld and rng.random() < 0.5:
            return f"{local}@{head}.{tld.replace('o', '0', 1)}"
        return f"{local}@{dom}{rng.choice('0123456789')}"
    return f"{local}@{dom.replace('.', ' ', 1)}"


def intl_valid():
    script = rng.choice(list(INTL))
    locals_, labels = INTL[script]
    kind = rng.randrange(4)
    ascii_local, ascii_domain = name(), domain()
    local = rng.choice(locals_) if kind in (0, 1) else ascii_local
    if kind in (0, 2):
        dom = rng.choice(labels) + "." + rng.choice(["com", "de", "org", "net"] + ([rng.choice(labels)] if rng.random() < 0.2 else []))
    else:
        dom = ascii_domain
    address = f"{local}@{dom}"
    form = rng.randrange(6)
    if form == 1:
        address = unicodedata.normalize("NFD", address)
    elif form == 2:
        address = address.upper()
    elif form == 3:
        try:
            address = local + "@" + dom.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return address


def length_case():
    kind = rng.randrange(10)
    n = rng.randrange(58, 67)
    if kind == 0:
        return "a" * n + "@example.com"
    if kind == 1:
        return "é" * rng.randrange(29, 34) + "@example.com"
    if kind == 2:
        return "x@" + "d" * n + ".com"
    if kind == 3:
        return "x@" + "ü" * rng.randrange(28, 60) + ".de"
    if kind == 4:
        return "x@" + "例" * rng.randrange(15, 22) + ".com"
    if kind == 5:
        return "e\u0301" * rng.randrange(29, 34) + "@example.com"
    if kind == 6:
        labels = ".".join("a" * 63 for _ in range(3))
        return "l" * rng.randrange(55, 66) + "@" + labels + ".com"
    if kind == 7:
        labels = ".".join("b" * rng.randrange(40, 64) for _ in range(rng.randrange(3, 5)))
        return "x@" + labels + ".com"
    if kind == 8:
        return "x@" + ".".join("ü" * 20 for _ in range(rng.randrange(3, 8))) + ".de"
    return "u" * rng.randrange(1, 64) + "@" + "ñ" * rng.randrange(1, 40) + ".es"


def tricky():
    ch = rng.choice(TRICKY)
    local, dom = name(), domain()
    where = rng.randrange(7)
    if where == 0:
        return ch + local + "@" + dom
    if where == 1:
        return local[:1] + ch + local[1:] + "@" + dom
    if where == 2:
        return local + ch + "@" + dom
    if where == 3:
        return local + "@" + ch + dom
    if where == 4:
        return local + "@" + dom[:2] + ch + dom[2:]
    if where == 5:
        label = rng.choice(INTL[rng.choice(list(INTL))][1])
        return local + "@" + label + ch + "." + rng.choice(["com", "de"])
    return local + ch + "x@" + dom


def idna_case():
    cases = [
        "a@xn--zz.com", "a@xn--a.com", "a@xn--bcher--kva.com", "a@xn--bcher-kva.de",
        "a@XN--BCHER-KVA.DE", "a@xn--.com", "a@xn--ls8h.la", "a@💩.la", "a@☃.net",
        "a@xn--n3h.net", "a@ab--cd.com", "a@xn--ab--cd.com", "a@a--b.com", "a@ab-cd.com",
        "ab@exa⒈mple.com", "ab@exa\u20e3mple.com", "ab@½.com", "a@1.אב.com", "a@אב.1.com",
        "a@xn--4dbc.1.com", "a@1.xn--4dbc.com", "a@אב1.com", "a@1אב.com", "a@אבג.com",
        "a@מ1ב.com", "a@عربي.com", "a@عربي1.com", "a@١٢٣.com", "a@١۲.com", "a@l·l.cat",
        "a@a·b.cat", "a@·l.cat", "a@ͅ.gr", "a@α͵.gr", "a@͵α.gr", "a@א׳.com", "a@׳א.com",
        "a@カ・キ.jp", "a@a・b.jp", "a@ß.de", "a@xn--zca.de", "a@ς.gr", "a@fass.de",
        "x@ﬁle.com", "x@file.com", "ａ@ｅｘａｍｐｌｅ.com", "a@example.com",
        "jörg@bücher.de", "jörg@xn--bcher-kva.de", "a@ＥＸＡＭＰＬＥ.ＣＯＭ",
        "a@example。com", "a@example．com", "a@example｡com", "a@exa\u00admple.com",
        "a@exa\u200dmple.com", "a@exa\u200cmple.com", "a\u200b@example.com",
        "\ufeffa@example.com", "\u202eadmin@example.com", "\ue000@example.com",
        "\u0301a@example.com", "a@\u0301example.com", "a@ex\u0308ample.com",
        "a@xn--ggle-0nda.com", "a@xn--80ak6aa92e.com", "a@аррӏе.com", "a@xn--mller-kva.de",
        "a@müller.de", "a@MÜLLER.de", "a@mu\u0308ller.de", "a@xn--mller-kva.DE",
        "a@例子.测试", "a@xn--fsqu00a.xn--0zwm56d", "a@例え.テスト", "a@一.com",
        "a@xn--4gbrim.xn----ymcbaaajlc6dj7bxne2c.xn--wgbh1c", "a@موقع.وزارة-الاتصالات.مصر",
        "a@xn--p1ai.com", "a@пример.рф", "a@xn--e1afmkfd.xn--p1ai", "a@example.xn--p1ai",
        "a@example.рф", "a@xn--80akhbyknj4f.xn--p1ai", "a@example.c0m", "a@example.a1",
        "a@example.1a", "a@example.co-m", "a@example.com1", "a@123.com", "a@1example.com",
        "a@example.c", "a@a.b.c.d.e.f.g.h.com", "a@xn--example.com", "a@xn--9ca.com",
        "a@é.com", "a@xn--abc-.com", "a@xn---abc.com", "a@xn--ab-.com",
    ]
    return rng.choice(cases)


def local_case():
    cases = ["a" + s + "b@example.com" for s in SPECIALS] + [
        s + "@example.com" for s in SPECIALS
    ] + [
        "ŽŽŽ@example.com", "用户@例子.广告", "δοκιμή@παράδειγμα.δοκιμή", "我買@屋企.香港",
        "二ノ宮@黒川.日本", "медведь@с-балалайкой.рф", "संपर्क@डाटामेल.भारत",
        "a.b.c@example.com", "a+b+c@example.com", "1234567890@example.com", "_@example.com",
        "a\u0301@example.com", "\u00e1@example.com", "i\u0307@example.com", "\u0130@example.com",
        "ＡＢＣ@example.com", "ａｂｃ@example.com", "ﬁle@example.com", "x²@example.com",
        "½@example.com", "™@example.com", "①@example.com", "☃@example.com", "😀@example.com",
        "❤\ufe0f@example.com", "👍🏽@example.com", "a\u00b7b@example.com", "a\u2019b@example.com",
        "a\u00a0b@example.com", "a\u3000b@example.com", "a\u2028b@example.com",
        "\u3164@example.com", "a\u3164b@example.com", "a\u034fb@example.com",
        "a\ufe0fb@example.com", "\U000e0041@example.com", "a\U000e0041@example.com",
        "a\ufdd0@example.com", "a\uffff@example.com", "a\U0001fffe@example.com",
        "a\u0378@example.com", "a\U000f0000@example.com", "a\u061cb@example.com",
        "a\u200eb@example.com", "a\u2066b@example.com", "a\u00adb@example.com",
        "a＂b@example.com", "a＠b@example.com", "a﹫b@example.com", "a．b@example.com",
        "a．．b@example.com", "．a@example.com", "ａ@example.com", "a(b@example.com",
        "ΣΑΣ@example.gr", "σας@example.gr", "ẞ@example.de", "ß@example.de", "K@example.com",
        "Å@example.com", "ǅ@example.com", "ᾼ@example.gr", "a\u0345@example.gr",
    ]
    return rng.choice(cases)


def random_unicode():
    """A short random string around an @, from a mix of ranges: the fuzz part of the corpus."""
    pools = [
        (0x20, 0x7E), (0xA0, 0x2FF), (0x300, 0x36F), (0x370, 0x52F), (0x590, 0x6FF),
        (0x900, 0x97F), (0xE00, 0xE7F), (0x2000, 0x206F), (0x2100, 0x24FF), (0x3000, 0x30FF),
        (0x4E00, 0x4E80), (0xAC00, 0xAC80), (0xE000, 0xE010), (0xFB00, 0xFB4F), (0xFE00, 0xFE6F),
        (0xFF00, 0xFFEF), (0x1F300, 0x1F64F), (0x10FFF0, 0x10FFFF),
    ]

    def piece(n):
        out = []
        for _ in range(n):
            if rng.random() < 0.6:
                out.append(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789.-_+"))
            else:
                lo, hi = rng.choice(pools)
                out.append(chr(rng.randint(lo, hi)))
        return "".join(out)

    return piece(rng.randrange(1, 10)) + "@" + piece(rng.randrange(1, 10)) + "." + rng.choice(["com", "de", piece(2)])


GENERATORS = [
    ("ascii-valid", ascii_valid, 2500),
    ("ascii-slip", lambda: mutate(ascii_valid()), 1000),
    ("intl", intl_valid, 1500),
    ("length", length_case, 250),
    ("tricky-char", tricky, 250),
    ("idna", idna_case, 200),
    ("local", local_case, 200),
    ("random", random_unicode, 600),
]


def judge(address):
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        return {"valid": False, "reason": str(error)}
    return {
        "valid": True,
        "ascii_domain": result.ascii_domain,
        "domain": result.domain,
    }


def main():
    seen = set()
    out = sys.stdout
    header = {
        "comment": "email-validator verdicts for roster's Email corpus; see make_email_corpus.py",
        "email_validator": email_validator.__version__,
        "python": sys.version.split()[0],
        "unicodedata": unicodedata.unidata_version,
    }
    out.write(json.dumps(header, ensure_ascii=True) + "\n")
    for group, make, count in GENERATORS:
        made = 0
        attempts = 0
        while made < count and attempts < count * 20:
            attempts += 1
            address = make()
            if address in seen:
                continue
            seen.add(address)
            made += 1
            record = {"address": address, "group": group}
            record.update(judge(address))
            out.write(json.dumps(record, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()

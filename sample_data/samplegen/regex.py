"""Clean templates: regular expressions in Python."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply
from .vocab import NAMES, WORDS

TEMPLATES, template = family_registry()


@template("regex")
def t_re_email(r):
    src = code(r'''
        import re

        EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


        def is_valid_email(address):
            return EMAIL.match(address) is not None
    ''')
    pool = ["alice@example.com", "bob.smith+news@mail.co.uk", "not-an-email", "x@y", "first.last@sub.domain.org", "spaces in@example.com"]
    calls = [f"[(e, is_valid_email(e)) for e in {r.sample(pool, 4)!r}]"]
    q = ask(r, "validate an email address with a regular expression", "is_valid_email")
    return q, py_reply(r, src, calls, "The pattern checks a local part, an @, dot-separated domain labels and a top-level domain of at least two letters.",
                       "No regex fully implements RFC 5322; for real sign-ups, send a confirmation email.")


@template("regex")
def t_re_urls(r):
    src = code(r'''
        import re

        URL = re.compile(r"https?://[^\s<>\"']+")


        def extract_urls(text):
            return [url.rstrip(".,;:!?)") for url in URL.findall(text)]
    ''')
    text = (f"See https://docs.example.com/{r.choice(WORDS)}?page={r.randint(1, 9)}, or http://{r.choice(WORDS)}.org. "
            f"Old link (https://example.net/{r.choice(WORDS)}) is gone.")
    q = ask(r, "extract all URLs from a block of text", "extract_urls")
    return q, py_reply(r, src, [f"extract_urls({text!r})"], "Trailing punctuation that usually belongs to the sentence, not the URL, is stripped.")


@template("regex")
def t_re_phone(r):
    src = code(r'''
        import re

        PHONE = re.compile(r"^\s*(?:\+?1[\s.-]?)?\(?(\d{3})\)?[\s.-]?(\d{3})[\s.-]?(\d{4})\s*$")


        def normalize_phone(text):
            match = PHONE.match(text)
            if not match:
                raise ValueError(f"not a US phone number: {text!r}")
            return "({}) {}-{}".format(*match.groups())
    ''')
    pool = ["555-123-4567", "(555) 123 4567", "+1 555.123.4567", "5551234567", "1-800-555-0199"]
    calls = [f"normalize_phone({p!r})" for p in r.sample(pool, 3)]
    q = ask(r, "normalize US phone numbers written in different formats to '(555) 123-4567'", "normalize_phone")
    return q, py_reply(r, src, calls, "Optional country code, optional parentheses and any of space, dot or dash as separators; the three digit groups are captured and reassembled.")


@template("regex")
def t_re_ipv4(r):
    src = code(r'''
        import re

        OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
        IPV4 = re.compile(rf"^{OCTET}(\.{OCTET}){{3}}$")


        def is_ipv4(text):
            return IPV4.match(text) is not None
    ''')
    pool = ["192.168.1.1", "255.255.255.255", "256.1.1.1", "10.0.0", "01.2.3.4", "8.8.8.8"]
    calls = [f"[(ip, is_ipv4(ip)) for ip in {r.sample(pool, 4)!r}]"]
    q = ask(r, "validate an IPv4 address with a regex, including the 0-255 range of each part", "is_ipv4")
    return q, py_reply(r, src, calls, "Each octet alternative covers one numeric range (250-255, 200-249, 100-199, 0-99) and rejects leading zeros.",
                       "Outside of a regex exercise, `ipaddress.ip_address(text)` is the more robust check.")


@template("regex")
def t_re_password(r):
    n = r.choice([8, 10, 12])
    src = code(r'''
        import re

        STRONG = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[^\w\s]).{{{n}},}$")


        def is_strong(password):
            return STRONG.match(password) is not None
    ''', n=n)
    pool = ["Passw0rd!", "password", "Sup3r$ecretKey", "SHORT1!a", "no-digits-Here", "Tr0ub4dor&3xyz"]
    calls = [f"[(p, is_strong(p)) for p in {r.sample(pool, 4)!r}]"]
    q = ask(r, f"check that a password has at least {n} characters with a lowercase letter, an uppercase letter, a digit and a symbol", "is_strong",
            extras=["Use a regex."])
    return q, py_reply(r, src, calls, "Each `(?=...)` lookahead checks one requirement from the start of the string without consuming characters; the final `.{n,}` enforces the length.")


@template("regex")
def t_re_hashtags(r):
    src = code(r'''
        import re


        def extract_tags(text):
            hashtags = re.findall(r"(?<!\w)#(\w+)", text)
            mentions = re.findall(r"(?<!\w)@(\w+)", text)
            return {"hashtags": hashtags, "mentions": mentions}
    ''')
    text = f"Great talk by @{r.choice(NAMES).lower()} on #{r.choice(WORDS)} and #python! email me: me@example.com"
    q = ask(r, "extract hashtags and @mentions from a tweet", "extract_tags")
    return q, py_reply(r, src, [f"extract_tags({text!r})"], "The `(?<!\\w)` lookbehind stops matches in the middle of a word, so the e-mail address is not taken as a mention.")


@template("regex")
def t_re_strip_html(r):
    src = code(r'''
        import html
        import re


        def strip_tags(markup):
            text = re.sub(r"<(script|style)\b.*?</\1>", "", markup, flags=re.S | re.I)
            text = re.sub(r"<[^>]+>", "", text)
            return html.unescape(re.sub(r"\s+", " ", text)).strip()
    ''')
    markup = f"<p>Hello <b>{r.choice(NAMES)}</b> &amp; welcome!</p><script>alert(1)</script>\n<p>Price: &lt;{r.randint(5, 50)} EUR</p>"
    q = ask(r, "strip HTML tags from a string and get plain text", "strip_tags")
    return q, py_reply(r, src, [f"strip_tags({markup!r})"], "Script and style blocks are removed with their content, then all remaining tags; entities are decoded last so `&lt;` doesn't turn into a fake tag.",
                       "For arbitrary, messy HTML, a real parser (`html.parser` or BeautifulSoup) is safer than regexes.")


@template("regex")
def t_re_repeated(r):
    src = code(r'''
        import re


        def repeated_words(text):
            return [m.group(1) for m in re.finditer(r"\b(\w+)\s+\1\b", text, flags=re.I)]
    ''')
    text = f"This is is a test of the the {r.choice(WORDS)} {r.choice(WORDS)} checker. Paris in the the spring."
    q = ask(r, "find accidentally repeated words like 'the the' in a text", "repeated_words")
    return q, py_reply(r, src, [f"repeated_words({text!r})"], "`\\1` is a backreference to whatever the first group matched, so the pattern only matches a word followed by itself.")


@template("regex")
def t_re_dates(r):
    src = code(r'''
        import re
        from datetime import date

        ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


        def find_dates(text):
            found = []
            for y, m, d in ISO_DATE.findall(text):
                try:
                    found.append(date(int(y), int(m), int(d)))
                except ValueError:
                    pass  # e.g. 2024-02-30
            return found
    ''')
    text = f"Released 2024-0{r.randint(1, 9)}-1{r.randint(0, 9)}, patched 2024-02-30 (typo) and again on 2025-1{r.randint(0, 2)}-0{r.randint(1, 9)}."
    q = ask(r, "find all YYYY-MM-DD dates in a text and turn them into date objects, ignoring invalid ones", "find_dates")
    return q, py_reply(r, src, [f"find_dates({text!r})"], "The regex finds date-shaped strings; constructing `date` validates them, so impossible dates are dropped.")


@template("regex")
def t_re_hex_color(r):
    src = code(r'''
        import re

        HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


        def is_hex_color(value):
            return bool(HEX_COLOR.match(value))
    ''')
    pool = ["#fff", "#1A2b3C", "#12345", "123456", "#ggg", "#000000"]
    calls = [f"[(c, is_hex_color(c)) for c in {r.sample(pool, 4)!r}]"]
    q = ask(r, "check whether a string is a valid CSS hex color like #fff or #1a2b3c", "is_hex_color")
    return q, py_reply(r, src, calls, "`(?:[0-9a-fA-F]{3}){1,2}` allows exactly 3 or 6 hex digits.")

#!/usr/bin/env python3
"""Generate qaq's bundled sample data: synthetic code-instruction pairs with labelled defects.

Everything here is written from scratch by parameterised templates; nothing is copied from a
third-party data set. The output is a pure function of the seed: the same seed gives the same
bytes (stdlib only, ``random.Random(seed)``, no set iteration, no clock).

Files written to ``--out-dir`` (default: the folder of this script):

* ``code_instructions.jsonl``: one JSON object per line with ``id``, ``task``, ``defect``,
  ``instruction`` and ``response``. About 75% of the rows are clean (``defect == "none"``); the
  rest carry one of the defects that Reverse Mutual Information is meant to expose:
  ``mismatch``, ``fabricated``, ``non_code``, ``echo``, ``truncated``, ``boilerplate``.
* ``chat_sample.jsonl``: a few conversations in OpenAI chat format (``id``, ``messages``), some
  with a system message and some multi-turn; the last turn is always the assistant's.

Usage::

    python sample_data/generate.py [--seed 0] [--out-dir sample_data]

Python code in the clean rows is executed while generating: every ``>>>`` example shown in an
answer is the real output of the code above it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import sys
import textwrap
import types
from pathlib import Path

DEFAULT_SEED = 0
N_ROWS = 700
# 176 of 700 rows (25.1%) carry a defect.
DEFECT_COUNTS = {
    "mismatch": 30,
    "fabricated": 30,
    "non_code": 29,
    "echo": 29,
    "truncated": 30,
    "boilerplate": 28,
}
N_CHAT = 36
DATA_FILE = "code_instructions.jsonl"
CHAT_FILE = "chat_sample.jsonl"
FIELDS = ("id", "task", "defect", "instruction", "response")

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{[a-z_][a-z_0-9]*\}\}")


def code(template_text: str, /, **values: object) -> str:
    """Dedent a code template and fill its ``{{name}}`` placeholders."""
    text = textwrap.dedent(template_text).strip("\n")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    left = _PLACEHOLDER.search(text)
    if left:
        raise KeyError(f"unfilled placeholder {left.group(0)}")
    return text


def third(phrase: str) -> str:
    """'count the vowels' -> 'counts the vowels' (conjugates the first word)."""
    word, sep, rest = phrase.partition(" ")
    if word.endswith(("s", "sh", "ch", "x", "z")):
        word += "es"
    elif word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        word = word[:-1] + "ies"
    else:
        word += "s"
    return word + sep + rest


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def run_examples(src: str, calls: list[str]) -> str:
    """Execute ``src`` and render ``calls`` as a doctest session with their real output."""
    module = types.ModuleType("_qaq_sample")  # a real module, so dataclasses can resolve it
    sys.modules[module.__name__] = module
    try:
        return _run_examples(src, calls, module.__dict__)
    finally:
        del sys.modules[module.__name__]


def _run_examples(src: str, calls: list[str], namespace: dict) -> str:
    exec(compile(src, "<sample>", "exec"), namespace)  # noqa: S102 - our own template code
    lines = []
    for call in calls:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                compiled = compile(call, "<example>", "eval")
            except SyntaxError:
                exec(compile(call, "<example>", "exec"), namespace)  # noqa: S102
                value = None
            else:
                value = eval(compiled, namespace)  # noqa: S307
        first, *rest = call.split("\n")
        lines.append(">>> " + first)
        lines.extend("... " + line for line in rest)
        printed = buf.getvalue()
        if printed:
            lines.append(printed.rstrip("\n"))
        if value is not None:
            lines.append(repr(value))
    return "\n".join(lines)


CONTEXTS = [
    "working on a small inventory app",
    "preparing for coding interviews",
    "writing a data-cleaning script for work",
    "building a command-line tool",
    "doing a homework assignment",
    "cleaning up some legacy code",
    "writing a bot for our team chat",
    "processing survey results",
    "building a tiny web backend",
    "automating a boring report",
    "learning programming on my own",
    "refactoring a university project",
]


def ask(r: random.Random, do: str, name: str | None = None, lang: str = "Python",
        extras: tuple[str, ...] | list[str] = ()) -> str:
    """A request in one of many phrasings. ``do`` is an infinitive phrase ("reverse a list")."""
    does = third(do)
    forms = [
        f"Write a {lang} function that {does}.",
        f"How do I {do} in {lang}?",
        f"How can I {do} in {lang}?",
        f"I need a {lang} script to {do}.",
        f"I'm {r.choice(CONTEXTS)} and need to {do}. What's a clean way to do that in {lang}?",
        f"Please write {lang} code to {do}.",
        f"What's the most idiomatic way to {do} in {lang}?",
        f"Help me write a function that {does}. I'm using {lang}.",
        f"{cap(do)} using {lang}.",
        f"Could you show me how to {do} in {lang}? An example would help.",
        f"Give me a {lang} function that {does}, please.",
        f"I'm new to {lang}. How would I {do}?",
        f"Can you implement a function that {does}? {lang} please.",
    ]
    if name:
        forms += [
            f"Write a {lang} function `{name}` that {does}.",
            f"Can you implement a {lang} function called `{name}` that {does}?",
            f"Implement `{name}` in {lang}. It should {do}.",
            f"Create a {lang} function named {name} which {does}.",
        ]
    text = r.choice(forms)
    if extras:
        text += " " + " ".join(extras)
    return text


LEADS = [
    "Here's a function that does that:",
    "Sure! Here's one way to do it:",
    "Here is a straightforward implementation:",
    "Here's a clean solution:",
    "You can do it like this:",
    "Here's a simple approach:",
    "Sure, here you go:",
    "This should do what you need:",
    "Here's an implementation with a short explanation below.",
]
EXAMPLE_HEADS = ["Example:", "Example usage:", "For example:", "Usage:", "A quick check:"]


def reply(r: random.Random, src: str, lang: str = "python", explain: str = "",
          example: str | None = None, note: str | None = None, example_lang: str | None = None,
          p_example: float = 0.75, p_note: float = 0.6) -> str:
    """An assistant-style answer: a sentence or two, a fenced block, maybe an example/note."""
    fence = f"```{lang}\n{src}\n```"
    style = r.randrange(3)
    if style == 0 and explain:
        parts = [explain, fence]
    elif style == 1:
        parts = [r.choice(LEADS), fence] + ([explain] if explain else [])
    else:
        parts = [fence] + ([explain] if explain else [])
    if example and r.random() < p_example:
        head = r.choice(EXAMPLE_HEADS)
        parts.append(f"{head}\n\n```{example_lang or lang}\n{example}\n```")
    if note and r.random() < p_note:
        parts.append(note)
    return "\n\n".join(parts)


def py_reply(r: random.Random, src: str, calls: list[str], explain: str = "",
             note: str | None = None, **kw) -> str:
    """A Python answer whose example block is the real output of ``calls``."""
    example = run_examples(src, calls) if calls else None
    return reply(r, src, "python", explain, example, note, **kw)


WORDS = [
    "apple", "river", "stone", "cloud", "tiger", "lamp", "garden", "silver", "orange", "planet",
    "window", "forest", "candle", "rocket", "pencil", "harbor", "violet", "meadow", "copper",
    "falcon", "bridge", "lemon", "anchor", "shadow", "marble", "pepper", "canyon", "velvet",
]
NAMES = [
    "Alice", "Bob", "Carmen", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko",
    "Liam", "Maya", "Nikolai", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
]
CITIES = ["Lisbon", "Oslo", "Lyon", "Porto", "Kyoto", "Denver", "Austin", "Tallinn", "Gdansk",
          "Valencia", "Bergen", "Leeds", "Krakow", "Quebec"]
SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "practice makes progress not perfection",
    "hello big wide world",
    "python makes simple things simple",
    "every cloud has a silver lining",
    "keep calm and write tests",
    "data beats opinions most of the time",
    "small steps add up to long journeys",
    "the river runs past the old stone bridge",
    "read the error message before searching",
]


def pick_words(r: random.Random, k: int) -> list[str]:
    return r.sample(WORDS, k)


def ints(r: random.Random, k: int, lo: int = 1, hi: int = 99) -> list[int]:
    return [r.randint(lo, hi) for _ in range(k)]


TEMPLATES: list[tuple[str, object, int]] = []


def template(task: str, weight: int = 1):
    """Register a clean-row template: ``fn(r) -> (instruction, response)``."""

    def deco(fn):
        TEMPLATES.append((task, fn, weight))
        return fn

    return deco


# --------------------------------------------------------------------------------------------
# Clean templates: Python strings
# --------------------------------------------------------------------------------------------


@template("strings")
def t_reverse_words(r):
    name = r.choice(["reverse_words", "flip_words", "reverse_sentence"])
    src = code(r'''
        def {{name}}(sentence):
            return " ".join(reversed(sentence.split()))
    ''', name=name)
    calls = [f"{name}({s!r})" for s in r.sample(SENTENCES, 2)]
    q = ask(r, "reverse the order of the words in a sentence", name)
    a = py_reply(r, src, calls,
                 "`split()` with no argument splits on any run of whitespace, `reversed` flips "
                 "the word order and `join` puts the words back together with single spaces.",
                 "It runs in O(n) time for a sentence of n characters.")
    return q, a


@template("strings")
def t_palindrome(r):
    loose = r.random() < 0.6
    name = r.choice(["is_palindrome", "palindrome", "check_palindrome"])
    if loose:
        src = code(r'''
            def {{name}}(text):
                cleaned = [ch.lower() for ch in text if ch.isalnum()]
                return cleaned == cleaned[::-1]
        ''', name=name)
        pool = ["A man, a plan, a canal: Panama", "Was it a car or a cat I saw?", "hello",
                "No lemon, no melon", "Python", "Step on no pets"]
        extras = [r.choice(["It should ignore case, spaces and punctuation.",
                            "Ignore capitalization and anything that isn't a letter or digit."])]
        explain = ("It keeps only letters and digits, lowercases them, and compares the list "
                   "with its reverse.")
    else:
        src = code(r'''
            def {{name}}(s):
                return s == s[::-1]
        ''', name=name)
        pool = ["racecar", "level", "python", "noon", "abca", "Anna"]
        extras = ["Case matters, so 'Anna' is not a palindrome."] if r.random() < 0.5 else []
        explain = "`s[::-1]` is the reversed string, so the comparison is the whole check."
    calls = [f"{name}({s!r})" for s in r.sample(pool, 3)]
    q = ask(r, "check whether a string is a palindrome", name, extras=extras)
    return q, py_reply(r, src, calls, explain)


@template("strings")
def t_count_vowels(r):
    with_y = r.random() < 0.3
    name = r.choice(["count_vowels", "vowel_count", "num_vowels"])
    vowels = "aeiouy" if with_y else "aeiou"
    src = code(r'''
        def {{name}}(text):
            vowels = "{{vowels}}"
            return sum(1 for ch in text.lower() if ch in vowels)
    ''', name=name, vowels=vowels)
    extras = ["Treat 'y' as a vowel too."] if with_y else []
    if r.random() < 0.5:
        extras.append("Upper-case vowels count as well.")
    calls = [f"{name}({s!r})" for s in r.sample(SENTENCES + ["Rhythm and Blues", "AEIOU"], 2)]
    q = ask(r, "count the vowels in a string", name, extras=extras)
    return q, py_reply(r, src, calls, "Lowercasing first means 'A' and 'a' are both counted.")


@template("strings")
def t_char_frequency(r):
    if r.random() < 0.5:
        name = r.choice(["char_frequency", "letter_counts", "count_chars"])
        src = code(r'''
            from collections import Counter


            def {{name}}(text, ignore_spaces=True):
                if ignore_spaces:
                    text = text.replace(" ", "")
                return dict(Counter(text))
        ''', name=name)
        calls = [f"{name}({r.choice(['hello world', 'banana split', 'mississippi'])!r})"]
        q = ask(r, "count how many times each character appears in a string", name,
                extras=["Spaces shouldn't be counted."] if r.random() < 0.5 else [])
        expl = ("`Counter` does the counting; converting to a plain `dict` keeps the first-seen "
                "order of the characters.")
    else:
        name = r.choice(["most_common_letters", "top_letters"])
        k = r.randint(2, 4)
        src = code(r'''
            from collections import Counter


            def {{name}}(text, k={{k}}):
                counts = Counter(ch for ch in text.lower() if ch.isalpha())
                return counts.most_common(k)
        ''', name=name, k=k)
        calls = [f"{name}({r.choice(SENTENCES)!r})"]
        q = ask(r, f"find the {k} most common letters in a piece of text", name,
                extras=["Return (letter, count) pairs."])
        expl = "Ties keep the order in which the letters first appeared."
    return q, py_reply(r, src, calls, expl)


@template("strings")
def t_case_convert(r):
    if r.random() < 0.5:
        name = "camel_to_snake"
        src = code(r'''
            import re


            def camel_to_snake(name):
                s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
                return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
        ''')
        pool = ["getUserName", "HTTPResponseCode", "parseJSONData", "userId", "MyClassName"]
        q = ask(r, "convert a camelCase identifier to snake_case", name,
                extras=["Acronyms like HTTP should stay together."] if r.random() < 0.5 else [])
        expl = ("The first substitution splits before a capital that starts a lowercase word; "
                "the second splits a lowercase letter or digit from a following capital, which "
                "keeps acronyms together.")
    else:
        name = "snake_to_camel"
        src = code(r'''
            def snake_to_camel(name, upper_first=False):
                parts = name.split("_")
                first = parts[0].capitalize() if upper_first else parts[0].lower()
                return first + "".join(p.capitalize() for p in parts[1:])
        ''')
        pool = ["user_name", "max_retry_count", "http_status", "total", "parse_json_data"]
        q = ask(r, "convert a snake_case name to camelCase", name,
                extras=["Optionally produce PascalCase."] if r.random() < 0.5 else [])
        expl = "Pass `upper_first=True` to get PascalCase instead of camelCase."
    calls = [f"{name}({s!r})" for s in r.sample(pool, 3)]
    return q, py_reply(r, src, calls, expl)


@template("strings")
def t_anagram(r):
    name = r.choice(["is_anagram", "are_anagrams"])
    src = code(r'''
        from collections import Counter


        def {{name}}(a, b):
            def normalize(s):
                return Counter(s.replace(" ", "").lower())

            return normalize(a) == normalize(b)
    ''', name=name)
    pairs = [("listen", "silent"), ("Dormitory", "dirty room"), ("hello", "world"),
             ("The eyes", "They see"), ("apple", "paple"), ("rat", "car")]
    calls = [f"{name}({a!r}, {b!r})" for a, b in r.sample(pairs, 3)]
    q = ask(r, "check whether two strings are anagrams of each other", name,
            extras=["Ignore spaces and case."] if r.random() < 0.6 else [])
    return q, py_reply(r, src, calls, "Two strings are anagrams when their letter counts match.",
                       "This is O(n) instead of the O(n log n) of comparing sorted strings.")


@template("strings")
def t_rle(r):
    if r.random() < 0.6:
        name = "rle_encode"
        if r.random() < 0.5:
            src = code(r'''
                from itertools import groupby


                def rle_encode(text):
                    return "".join(f"{ch}{len(list(group))}" for ch, group in groupby(text))
            ''')
            expl = "`groupby` yields each run of identical characters, so we emit the character and the run length."
        else:
            src = code(r'''
                def rle_encode(text):
                    if not text:
                        return ""
                    out = []
                    prev, count = text[0], 1
                    for ch in text[1:]:
                        if ch == prev:
                            count += 1
                        else:
                            out.append(f"{prev}{count}")
                            prev, count = ch, 1
                    out.append(f"{prev}{count}")
                    return "".join(out)
            ''')
            expl = "We walk the string once, counting the current run and flushing it when the character changes."
        calls = [f"rle_encode({s!r})" for s in r.sample(["aaabccdddd", "wwwwaaadexxxxxx", "abc", "zzzzzzzzzzzz"], 2)]
        q = ask(r, "compress a string with run-length encoding, so 'aaabb' becomes 'a3b2'", name)
    else:
        name = "rle_decode"
        src = code(r'''
            import re


            def rle_decode(encoded):
                return "".join(ch * int(n) for ch, n in re.findall(r"(\D)(\d+)", encoded))
        ''')
        calls = [f"rle_decode({s!r})" for s in r.sample(["a3b2", "x1y10z2", "w4a3d1e1x6"], 2)]
        q = ask(r, "decode a run-length encoded string like 'a3b2' back to 'aaabb'", name)
        expl = "The regex pairs each non-digit character with the number that follows it, so multi-digit counts work too."
    return q, py_reply(r, src, calls, expl)


@template("strings")
def t_common_prefix(r):
    name = r.choice(["longest_common_prefix", "common_prefix"])
    src = code(r'''
        def {{name}}(words):
            if not words:
                return ""
            prefix = words[0]
            for word in words[1:]:
                while not word.startswith(prefix):
                    prefix = prefix[:-1]
                if not prefix:
                    break
            return prefix
    ''', name=name)
    groups = [["flower", "flow", "flight"], ["interview", "internet", "interval"],
              ["dog", "racecar", "car"], ["prefix", "prefixes", "prefixed"]]
    calls = [f"{name}({g!r})" for g in r.sample(groups, 2)]
    q = ask(r, "find the longest common prefix of a list of strings", name)
    return q, py_reply(r, src, calls,
                       "The prefix starts as the first word and shrinks until every word starts with it.",
                       "The standard library also has `os.path.commonprefix`, which works character by character on any list of strings.")


@template("strings")
def t_dedupe_chars(r):
    name = r.choice(["remove_duplicate_chars", "unique_chars", "dedupe"])
    src = code(r'''
        def {{name}}(text):
            return "".join(dict.fromkeys(text))
    ''', name=name)
    calls = [f"{name}({s!r})" for s in r.sample(["programming", "mississippi", "hello world", "aabbcc"], 2)]
    q = ask(r, "remove repeated characters from a string but keep the first occurrence of each", name)
    return q, py_reply(r, src, calls,
                       "Dictionaries keep insertion order, so `dict.fromkeys` drops duplicates while preserving the order of first appearance.",
                       p_note=0)


@template("strings")
def t_caesar(r):
    shift = r.randint(1, 25)
    name = r.choice(["caesar", "caesar_cipher", "shift_letters"])
    src = code(r'''
        def {{name}}(text, shift):
            result = []
            for ch in text:
                if ch.isascii() and ch.isalpha():
                    base = ord("A") if ch.isupper() else ord("a")
                    result.append(chr((ord(ch) - base + shift) % 26 + base))
                else:
                    result.append(ch)
            return "".join(result)
    ''', name=name)
    msg = r.choice(["Hello, World!", "Attack at dawn", "Meet me at the bridge", "Python 3"])
    calls = [f"{name}({msg!r}, {shift})", f"{name}({name}({msg!r}, {shift}), -{shift})"]
    q = ask(r, f"encrypt text with a Caesar cipher (shift of {shift})", name,
            extras=["Keep case and leave punctuation alone."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls,
                       "Letters wrap around with `% 26`; anything that isn't an ASCII letter passes through. Decrypt with a negative shift.")


@template("strings")
def t_truncate(r):
    n = r.choice([20, 25, 30])
    name = r.choice(["truncate", "shorten", "ellipsize"])
    src = code(r'''
        def {{name}}(text, max_len, suffix="..."):
            if len(text) <= max_len:
                return text
            cut = text[: max_len - len(suffix)]
            if " " in cut:
                cut = cut[: cut.rfind(" ")]
            return cut.rstrip() + suffix
    ''', name=name)
    calls = [f"{name}({s!r}, {n})" for s in r.sample(SENTENCES, 2)]
    q = ask(r, f"shorten text to at most {n} characters without cutting a word in half, adding '...' at the end", name)
    return q, py_reply(r, src, calls, "It cuts at the last space that fits, so the result (suffix included) never exceeds `max_len`.")


@template("strings")
def t_top_words(r):
    n = r.randint(2, 5)
    name = r.choice(["top_words", "most_common_words", "word_frequencies"])
    src = code(r'''
        import re
        from collections import Counter


        def {{name}}(text, n={{n}}):
            words = re.findall(r"[a-z']+", text.lower())
            return Counter(words).most_common(n)
    ''', name=name, n=n)
    text = " ".join(r.choice(["the cat and the hat.", "The dog saw the cat!", "a cat, a dog, a bird."])
                    for _ in range(3))
    calls = [f"{name}({text!r})"]
    q = ask(r, f"find the {n} most frequent words in a text", name,
            extras=["Ignore case and punctuation."] if r.random() < 0.7 else [])
    return q, py_reply(r, src, calls, "The regex pulls out the words, lowercased, and `Counter.most_common` ranks them.")


@template("strings")
def t_balanced(r):
    name = r.choice(["is_balanced", "balanced_brackets", "check_brackets"])
    src = code(r'''
        def {{name}}(s):
            pairs = {")": "(", "]": "[", "}": "{"}
            stack = []
            for ch in s:
                if ch in "([{":
                    stack.append(ch)
                elif ch in pairs:
                    if not stack or stack.pop() != pairs[ch]:
                        return False
            return not stack
    ''', name=name)
    pool = ["([]{})", "([)]", "((())", "{[()()]}", "f(x[0]) + {a: 1}", ")("]
    calls = [f"{name}({s!r})" for s in r.sample(pool, 3)]
    q = ask(r, "check whether the brackets in a string are balanced", name,
            extras=["Handle (), [] and {}."] if r.random() < 0.6 else [])
    return q, py_reply(r, src, calls,
                       "Every opening bracket goes on a stack; a closing bracket must match the top of the stack, and the stack must be empty at the end.",
                       "Time O(n), extra space O(n) in the worst case.")


@template("strings")
def t_slugify(r):
    src = code(r'''
        import re
        import unicodedata


        def slugify(text):
            text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
            text = re.sub(r"[^\w\s-]", "", text.lower())
            return re.sub(r"[-\s_]+", "-", text).strip("-")
    ''')
    pool = ["Hello, World!", "  Python 3.12: What's New?  ", "Café au lait", "10 Tips & Tricks for Git"]
    calls = [f"slugify({s!r})" for s in r.sample(pool, 3)]
    q = ask(r, "turn a blog post title into a URL slug", "slugify",
            extras=["Accented letters should become plain ASCII."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls,
                       "NFKD normalization splits accented letters into base letter plus accent, and the ASCII encode drops the accents.")


@template("strings")
def t_first_unique(r):
    name = r.choice(["first_unique_char", "first_non_repeating"])
    src = code(r'''
        from collections import Counter


        def {{name}}(s):
            counts = Counter(s)
            for ch in s:
                if counts[ch] == 1:
                    return ch
            return None
    ''', name=name)
    calls = [f"{name}({s!r})" for s in r.sample(["swiss", "leetcode", "aabbcdd", "stress"], 2)]
    q = ask(r, "find the first character in a string that doesn't repeat", name,
            extras=["Return None if there isn't one."])
    return q, py_reply(r, src, calls, "Two passes: count everything, then return the first character whose count is 1.",
                       "O(n) time.")


STRING_SNIPPETS = [
    (["How do I reverse a string in Python?", "What's the shortest way to reverse a string in Python?"],
     ["Use slicing with a step of -1:\n\n```python\nreversed_text = text[::-1]\n```",
      "`text[::-1]`"]),
    (["How can I check if a string contains only digits in Python?", "python: test whether a string is all digits"],
     ["`text.isdigit()` returns `True` when the string is non-empty and every character is a digit.",
      "```python\nif value.isdigit():\n    number = int(value)\n```"]),
    (["How do I remove leading and trailing whitespace from a string in Python?"],
     ["`text.strip()`. Use `lstrip()` or `rstrip()` for one side only."]),
    (["How do I split a comma-separated string into a list and trim each item?",
      "Python: turn 'a, b ,c' into ['a', 'b', 'c']"],
     ["```python\nitems = [part.strip() for part in text.split(\",\")]\n```"]),
    (["How do I join a list of strings with commas in Python?"],
     ["`\", \".join(items)`. Every item must already be a string; use `\", \".join(map(str, items))` otherwise."]),
    (["How do I check whether a string contains a substring in Python?"],
     ["Use the `in` operator:\n\n```python\nif \"error\" in line:\n    print(line)\n```"]),
    (["How do I zero-pad a number to 5 digits in Python?", "Format 42 as '00042' in Python."],
     ["`f\"{n:05d}\"` or `str(n).zfill(5)`."]),
    (["How do I format a float with two decimal places in Python?"],
     ["Use an f-string format spec:\n\n```python\nprice = 3.14159\nprint(f\"{price:.2f}\")  # 3.14\n```"]),
    (["How do I check if a string starts with one of several prefixes?"],
     ["`str.startswith` accepts a tuple:\n\n```python\nurl.startswith((\"http://\", \"https://\"))\n```"]),
    (["How do I count how many times a substring occurs in a string in Python?"],
     ["`text.count(\"ab\")` counts non-overlapping occurrences."]),
    (["How do I convert a string to an int in Python and fall back to a default if it fails?"],
     ["```python\ndef to_int(value, default=0):\n    try:\n        return int(value)\n    except (TypeError, ValueError):\n        return default\n```"]),
    (["How do I get the file extension from a path in Python?"],
     ["```python\nfrom pathlib import Path\n\nPath(\"report.final.pdf\").suffix  # '.pdf'\n```",
      "`os.path.splitext(path)[1]` returns the extension including the dot, e.g. `'.csv'`."]),
    (["How do I make the first letter of every word uppercase in Python?"],
     ["`text.title()` works for simple text; for words with apostrophes use `string.capwords(text)`."]),
]


@template("strings", weight=3)
def t_string_snippet(r):
    qs, answers = r.choice(STRING_SNIPPETS)
    return r.choice(qs), r.choice(answers)


# --------------------------------------------------------------------------------------------
# Clean templates: lists and dicts
# --------------------------------------------------------------------------------------------


@template("lists")
def t_flatten(r):
    if r.random() < 0.5:
        name = r.choice(["flatten", "flatten_deep"])
        src = code(r'''
            def {{name}}(items):
                flat = []
                for item in items:
                    if isinstance(item, (list, tuple)):
                        flat.extend({{name}}(item))
                    else:
                        flat.append(item)
                return flat
        ''', name=name)
        calls = [f"{name}({r.choice([[1, [2, [3, [4]]], 5], [[1, 2], (3, [4, 5]), 6], ['a', ['b', ['c']]]])!r})"]
        q = ask(r, "flatten an arbitrarily nested list", name)
        expl = "Nested lists and tuples are flattened recursively; everything else is kept as a leaf."
        note = "For very deep nesting (thousands of levels) switch to an explicit stack to avoid hitting the recursion limit."
    else:
        name = r.choice(["flatten", "flatten_once"])
        src = code(r'''
            def {{name}}(list_of_lists):
                return [item for sublist in list_of_lists for item in sublist]
        ''', name=name)
        calls = [f"{name}({[ints(r, r.randint(1, 3)) for _ in range(3)]!r})"]
        q = ask(r, "flatten a list of lists into a single list", name)
        expl = "The nested comprehension reads left to right like two nested `for` loops."
        note = "`list(itertools.chain.from_iterable(list_of_lists))` does the same thing."
    return q, py_reply(r, src, calls, expl, note)


@template("lists")
def t_chunk(r):
    size = r.randint(2, 4)
    name = r.choice(["chunk", "chunks", "batched", "split_into_chunks"])
    src = code(r'''
        def {{name}}(items, size):
            if size <= 0:
                raise ValueError("size must be positive")
            return [items[i:i + size] for i in range(0, len(items), size)]
    ''', name=name)
    calls = [f"{name}({list(range(1, r.randint(7, 11)))!r}, {size})"]
    q = ask(r, f"split a list into chunks of {size} items", name,
            extras=["The last chunk can be shorter."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls, "Slicing past the end of a list is safe, so the last chunk simply holds what is left.",
                       "On Python 3.12+ `itertools.batched(items, size)` yields tuples lazily.")


@template("lists")
def t_unique_order(r):
    name = r.choice(["unique", "dedupe", "remove_duplicates"])
    if r.random() < 0.5:
        src = code(r'''
            def {{name}}(items):
                return list(dict.fromkeys(items))
        ''', name=name)
        expl = "`dict.fromkeys` keeps the first occurrence of each key, in order."
    else:
        src = code(r'''
            def {{name}}(items):
                seen = set()
                result = []
                for item in items:
                    if item not in seen:
                        seen.add(item)
                        result.append(item)
                return result
        ''', name=name)
        expl = "The set gives O(1) membership checks, the list keeps the original order."
    data = ints(r, 9, 1, 6)
    calls = [f"{name}({data!r})"]
    q = ask(r, "remove duplicates from a list while keeping the original order", name)
    return q, py_reply(r, src, calls, expl, "Items must be hashable.")


@template("lists")
def t_second_largest(r):
    name = r.choice(["second_largest", "runner_up"])
    src = code(r'''
        def {{name}}(numbers):
            first = second = None
            for n in numbers:
                if first is None or n > first:
                    first, second = n, first
                elif n != first and (second is None or n > second):
                    second = n
            if second is None:
                raise ValueError("need at least two distinct values")
            return second
    ''', name=name)
    calls = [f"{name}({ints(r, 7)!r})", f"{name}([5, 5, 3])"]
    q = ask(r, "find the second largest distinct number in a list", name,
            extras=["Do it in a single pass."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls, "One pass, tracking the largest and second-largest distinct values.", "O(n) time, O(1) space.")


@template("lists")
def t_rotate(r):
    right = r.random() < 0.5
    k = r.randint(1, 4)
    name = r.choice(["rotate", "rotate_list"])
    if right:
        src = code(r'''
            def {{name}}(items, k):
                if not items:
                    return []
                k %= len(items)
                return items[-k:] + items[:-k]
        ''', name=name)
    else:
        src = code(r'''
            def {{name}}(items, k):
                if not items:
                    return []
                k %= len(items)
                return items[k:] + items[:k]
        ''', name=name)
    calls = [f"{name}({list(range(1, 8))!r}, {k})", f"{name}([1, 2, 3], 10)"]
    q = ask(r, f"rotate a list to the {'right' if right else 'left'} by k positions", name)
    return q, py_reply(r, src, calls, "`k %= len(items)` handles k larger than the list; the two slices are then swapped.",
                       "`collections.deque.rotate` does this in place if you rotate often.")


@template("lists")
def t_moving_average(r):
    w = r.randint(2, 4)
    name = r.choice(["moving_average", "rolling_mean"])
    src = code(r'''
        def {{name}}(values, window):
            if window <= 0 or window > len(values):
                raise ValueError("window must be between 1 and len(values)")
            total = sum(values[:window])
            result = [total / window]
            for i in range(window, len(values)):
                total += values[i] - values[i - window]
                result.append(total / window)
            return result
    ''', name=name)
    calls = [f"{name}({[r.randint(1, 20) * 2 for _ in range(7)]!r}, {w})"]
    q = ask(r, f"compute the moving average of a list of numbers with a window of {w}", name)
    return q, py_reply(r, src, calls, "It keeps a running window sum instead of re-summing each window, so it is O(n).")


@template("lists")
def t_merge_sorted(r):
    name = r.choice(["merge_sorted", "merge_two_sorted"])
    src = code(r'''
        def {{name}}(a, b):
            i = j = 0
            merged = []
            while i < len(a) and j < len(b):
                if a[i] <= b[j]:
                    merged.append(a[i])
                    i += 1
                else:
                    merged.append(b[j])
                    j += 1
            merged.extend(a[i:])
            merged.extend(b[j:])
            return merged
    ''', name=name)
    calls = [f"{name}({sorted(ints(r, 4))!r}, {sorted(ints(r, 5))!r})"]
    q = ask(r, "merge two sorted lists into one sorted list", name,
            extras=["Don't just concatenate and call sorted()."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls, "Two pointers walk both lists and always take the smaller head.",
                       "O(len(a) + len(b)) time. `heapq.merge(a, b)` is the lazy standard-library version.")


@template("lists")
def t_missing_number(r):
    name = r.choice(["missing_number", "find_missing"])
    n = r.randint(6, 10)
    nums = list(range(1, n + 1))
    nums.remove(r.randint(1, n))
    r.shuffle(nums)
    src = code(r'''
        def {{name}}(nums):
            n = len(nums) + 1
            return n * (n + 1) // 2 - sum(nums)
    ''', name=name)
    q = ask(r, "find the missing number in a list containing 1..n with exactly one number missing", name)
    return q, py_reply(r, src, [f"{name}({nums!r})"], "The sum of 1..n is n(n+1)/2; whatever is missing from that total is the answer.")


@template("lists")
def t_running_total(r):
    name = r.choice(["running_total", "cumulative_sum"])
    if r.random() < 0.5:
        src = code(r'''
            from itertools import accumulate


            def {{name}}(numbers):
                return list(accumulate(numbers))
        ''', name=name)
    else:
        src = code(r'''
            def {{name}}(numbers):
                totals = []
                running = 0
                for n in numbers:
                    running += n
                    totals.append(running)
                return totals
        ''', name=name)
    q = ask(r, "compute the running total of a list of numbers", name)
    return q, py_reply(r, src, [f"{name}({ints(r, 6, 1, 20)!r})"], "Each output element is the sum of everything up to and including that position.")


@template("lists")
def t_transpose(r):
    rows, cols = r.randint(2, 3), r.randint(2, 4)
    m = [ints(r, cols, 0, 9) for _ in range(rows)]
    name = r.choice(["transpose", "transpose_matrix"])
    src = code(r'''
        def {{name}}(matrix):
            return [list(row) for row in zip(*matrix)]
    ''', name=name)
    q = ask(r, "transpose a matrix stored as a list of lists", name)
    return q, py_reply(r, src, [f"{name}({m!r})"], "`zip(*matrix)` pairs up the i-th elements of every row, which are exactly the columns.")


@template("lists")
def t_find_duplicates(r):
    name = r.choice(["find_duplicates", "duplicates"])
    src = code(r'''
        from collections import Counter


        def {{name}}(items):
            return [item for item, count in Counter(items).items() if count > 1]
    ''', name=name)
    data = r.choice([ints(r, 10, 1, 7), [w for w in pick_words(r, 4) for _ in range(r.randint(1, 2))]])
    q = ask(r, "find the values that appear more than once in a list", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "Each duplicate is reported once, in order of first appearance.")


@template("lists")
def t_partition(r):
    name = r.choice(["split_even_odd", "partition_parity"])
    src = code(r'''
        def {{name}}(numbers):
            evens, odds = [], []
            for n in numbers:
                (evens if n % 2 == 0 else odds).append(n)
            return evens, odds
    ''', name=name)
    q = ask(r, "split a list of integers into even and odd numbers", name)
    return q, py_reply(r, src, [f"{name}({ints(r, 8)!r})"], "A single pass appends each number to the right list.")


LIST_SNIPPETS = [
    (["How do I sort a list of tuples by the second element in Python?"],
     ["```python\npairs.sort(key=lambda pair: pair[1])\n```\n\nUse `sorted(pairs, key=...)` if you need a new list instead of sorting in place.",
      "`sorted(pairs, key=operator.itemgetter(1))`"]),
    (["How do I get the index of the largest value in a Python list?"],
     ["`max(range(len(values)), key=values.__getitem__)`, or simply `values.index(max(values))` (two passes, first match)."]),
    (["How do I remove all occurrences of a value from a list?"],
     ["```python\nitems = [x for x in items if x != value]\n```"]),
    (["What's the Pythonic way to check if a list is empty?"],
     ["```python\nif not items:\n    print(\"empty\")\n```\n\nEmpty sequences are falsy, so there's no need for `len(items) == 0`."]),
    (["How do I create a 3x4 grid of zeros in Python without the rows being shared?"],
     ["```python\ngrid = [[0] * 4 for _ in range(3)]\n```\n\n`[[0] * 4] * 3` would repeat the *same* row object three times, so changing one row would change all of them."]),
    (["How do I build a dictionary from two lists, one of keys and one of values?"],
     ["`dict(zip(keys, values))`"]),
    (["How do I get the last element of a list in Python?"],
     ["`items[-1]` (raises `IndexError` on an empty list)."]),
    (["How do I iterate over a list with the index in Python?"],
     ["```python\nfor i, item in enumerate(items):\n    print(i, item)\n```"]),
    (["How do I iterate over two lists at the same time?"],
     ["```python\nfor name, score in zip(names, scores):\n    print(f\"{name}: {score}\")\n```\n\n`zip` stops at the shorter list; pass `strict=True` (Python 3.10+) to raise if the lengths differ."]),
    (["How can I shuffle a list randomly in Python?"],
     ["```python\nimport random\n\nrandom.shuffle(items)  # in place\n```\n\nUse `random.sample(items, len(items))` to get a shuffled copy."]),
]


@template("lists", weight=2)
def t_list_snippet(r):
    qs, answers = r.choice(LIST_SNIPPETS)
    return r.choice(qs), r.choice(answers)


@template("dicts")
def t_invert_dict(r):
    multi = r.random() < 0.5
    name = r.choice(["invert_dict", "invert", "reverse_mapping"])
    if multi:
        src = code(r'''
            def {{name}}(d):
                inverted = {}
                for key, value in d.items():
                    inverted.setdefault(value, []).append(key)
                return inverted
        ''', name=name)
        data = {w: r.randint(1, 3) for w in pick_words(r, 5)}
        extras = ["Several keys can share a value, so collect them in lists."]
    else:
        src = code(r'''
            def {{name}}(d):
                return {value: key for key, value in d.items()}
        ''', name=name)
        ws = pick_words(r, 3)
        data = {w: i + 1 for i, w in enumerate(ws)}
        extras = []
    q = ask(r, "invert a dictionary so that values become keys", name, extras=extras)
    expl = ("`setdefault` creates the list the first time a value is seen." if multi
            else "If two keys share a value, the last one wins.")
    return q, py_reply(r, src, [f"{name}({data!r})"], expl)


@template("dicts")
def t_merge_counts(r):
    name = r.choice(["merge_counts", "sum_dicts", "combine_totals"])
    if r.random() < 0.5:
        src = code(r'''
            def {{name}}(*dicts):
                merged = {}
                for d in dicts:
                    for key, value in d.items():
                        merged[key] = merged.get(key, 0) + value
                return merged
        ''', name=name)
    else:
        src = code(r'''
            from collections import Counter


            def {{name}}(*dicts):
                total = Counter()
                for d in dicts:
                    total.update(d)
                return dict(total)
        ''', name=name)
    ws = pick_words(r, 4)
    a = {w: r.randint(1, 9) for w in ws[:3]}
    b = {w: r.randint(1, 9) for w in ws[1:]}
    q = ask(r, "merge dictionaries of counts, adding up the values for keys that appear in more than one", name)
    return q, py_reply(r, src, [f"{name}({a!r}, {b!r})"], "Keys present in several dictionaries get the sum of their values.")


@template("dicts")
def t_group_by(r):
    by_len = r.random() < 0.5
    name = "group_by_length" if by_len else "group_by_first_letter"
    key = "len(word)" if by_len else "word[0].lower()"
    src = code(r'''
        from collections import defaultdict


        def {{name}}(words):
            groups = defaultdict(list)
            for word in words:
                groups[{{key}}].append(word)
            return dict(groups)
    ''', name=name, key=key)
    data = r.sample(WORDS, 7)
    q = ask(r, "group a list of words by their " + ("length" if by_len else "first letter"), name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "`defaultdict(list)` creates an empty list for each new group automatically.")


@template("dicts")
def t_get_path(r):
    name = r.choice(["get_path", "deep_get", "get_nested"])
    src = code(r'''
        def {{name}}(data, path, default=None):
            current = data
            for key in path.split("."):
                if isinstance(current, dict) and key in current:
                    current = current[key]
                elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
                    current = current[int(key)]
                else:
                    return default
            return current
    ''', name=name)
    city = r.choice(CITIES)
    data = {"user": {"name": r.choice(NAMES), "address": {"city": city}, "tags": ["admin", "dev"]}}
    calls = [f"config = {data!r}", f"{name}(config, 'user.address.city')", f"{name}(config, 'user.tags.1')",
             f"{name}(config, 'user.phone', 'n/a')"]
    q = ask(r, "read a value from a nested dictionary using a dotted path like 'user.address.city'", name,
            extras=["Return a default if any key is missing."] if r.random() < 0.6 else [])
    return q, py_reply(r, src, calls, "Numeric path parts index into lists, so 'items.0.name' works too.")


@template("dicts")
def t_sort_by_value(r):
    desc = r.random() < 0.6
    name = r.choice(["sort_by_value", "rank_items"])
    src = code(r'''
        def {{name}}(d, descending={{desc}}):
            return dict(sorted(d.items(), key=lambda kv: kv[1], reverse=descending))
    ''', name=name, desc=desc)
    data = {n: r.randint(50, 100) for n in r.sample(NAMES, 4)}
    q = ask(r, "sort a dictionary by its values" + (" from highest to lowest" if desc else ""), name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "Dictionaries preserve insertion order, so rebuilding one from the sorted items keeps that order.")


@template("dicts")
def t_flatten_dict(r):
    sep = r.choice([".", "_", "/"])
    name = r.choice(["flatten_dict", "flatten_keys"])
    src = code(r'''
        def {{name}}(d, parent_key="", sep="{{sep}}"):
            items = {}
            for key, value in d.items():
                new_key = f"{parent_key}{sep}{key}" if parent_key else key
                if isinstance(value, dict) and value:
                    items.update({{name}}(value, new_key, sep))
                else:
                    items[new_key] = value
            return items
    ''', name=name, sep=sep)
    data = {"db": {"host": "localhost", "port": r.choice([5432, 3306])}, "debug": r.random() < 0.5,
            "cache": {"ttl": r.randint(10, 300), "backend": {"kind": "redis"}}}
    q = ask(r, f"flatten a nested dictionary into one level, joining keys with '{sep}'", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "Nested dictionaries are flattened recursively; empty dictionaries are kept as values.")


@template("dicts")
def t_filter_dict(r):
    t = r.randint(40, 70)
    name = r.choice(["filter_scores", "above_threshold"])
    src = code(r'''
        def {{name}}(scores, threshold={{t}}):
            return {name: score for name, score in scores.items() if score >= threshold}
    ''', name=name, t=t)
    data = {n: r.randint(20, 100) for n in r.sample(NAMES, 5)}
    q = ask(r, f"keep only the entries of a dictionary whose value is at least {t}", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "A dict comprehension with a condition builds the filtered copy; the original is untouched.", p_note=0)


@template("dicts")
def t_columns_to_rows(r):
    name = r.choice(["columns_to_rows", "to_records"])
    src = code(r'''
        def {{name}}(columns):
            keys = list(columns)
            return [dict(zip(keys, values)) for values in zip(*columns.values())]
    ''', name=name)
    names = r.sample(NAMES, 3)
    data = {"name": names, "age": ints(r, 3, 18, 70)}
    q = ask(r, "convert a dictionary of lists (columns) into a list of dictionaries (rows)", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "`zip(*columns.values())` walks the columns in lockstep, one row at a time.")


DICT_SNIPPETS = [
    (["How do I get a value from a dict with a default if the key is missing?"],
     ["`d.get(key, default)` returns `default` instead of raising `KeyError`."]),
    (["How do I merge two dictionaries in Python?"],
     ["On Python 3.9+: `merged = a | b`. On older versions: `merged = {**a, **b}`. In both, values from `b` win on conflicts."]),
    (["How do I delete a key from a dict without an error if it doesn't exist?"],
     ["`d.pop(key, None)`"]),
    (["How do I find the key with the highest value in a dictionary?"],
     ["`max(d, key=d.get)`"]),
    (["How do I loop over the keys and values of a dictionary?"],
     ["```python\nfor key, value in d.items():\n    print(key, value)\n```"]),
    (["How do I count items with a dictionary in Python?"],
     ["Use `collections.Counter`:\n\n```python\nfrom collections import Counter\n\ncounts = Counter(words)\nprint(counts.most_common(3))\n```"]),
]


@template("dicts", weight=2)
def t_dict_snippet(r):
    qs, answers = r.choice(DICT_SNIPPETS)
    return r.choice(qs), r.choice(answers)


# --------------------------------------------------------------------------------------------
# Clean templates: math and number theory
# --------------------------------------------------------------------------------------------


@template("math")
def t_is_prime(r):
    name = r.choice(["is_prime", "prime", "check_prime"])
    src = code(r'''
        def {{name}}(n):
            if n < 2:
                return False
            if n % 2 == 0:
                return n == 2
            i = 3
            while i * i <= n:
                if n % i == 0:
                    return False
                i += 2
            return True
    ''', name=name)
    calls = [f"[n for n in range({r.randint(20, 40)}) if {name}(n)]", f"{name}({r.choice([7919, 7917, 104729, 1001])})"]
    q = ask(r, "check whether a number is prime", name,
            extras=["It should be reasonably fast for numbers up to a few million."] if r.random() < 0.4 else [])
    return q, py_reply(r, src, calls, "Only odd divisors up to the square root need to be tried.", "O(sqrt(n)) per call.")


@template("math")
def t_sieve(r):
    limit = r.choice([30, 50, 60, 100])
    name = r.choice(["primes_up_to", "sieve", "eratosthenes"])
    src = code(r'''
        def {{name}}(n):
            if n < 2:
                return []
            is_prime = [True] * (n + 1)
            is_prime[0] = is_prime[1] = False
            for i in range(2, int(n ** 0.5) + 1):
                if is_prime[i]:
                    for multiple in range(i * i, n + 1, i):
                        is_prime[multiple] = False
            return [i for i, flag in enumerate(is_prime) if flag]
    ''', name=name)
    q = ask(r, f"list all prime numbers up to {limit} with the Sieve of Eratosthenes", name)
    return q, py_reply(r, src, [f"{name}({limit})"], "Crossing out starts at i*i because smaller multiples were already removed by smaller primes.",
                       "O(n log log n) time, O(n) memory.")


@template("math")
def t_gcd_lcm(r):
    if r.random() < 0.5:
        name = r.choice(["gcd_list", "gcd_all"])
        src = code(r'''
            from functools import reduce
            from math import gcd


            def {{name}}(numbers):
                return reduce(gcd, numbers)
        ''', name=name)
        base = r.choice([6, 8, 12, 15])
        calls = [f"{name}({[base * r.randint(1, 9) for _ in range(4)]!r})"]
        q = ask(r, "compute the greatest common divisor of a list of integers", name)
        expl = "gcd is associative, so folding it over the list with `reduce` gives the gcd of all of them."
    else:
        name = r.choice(["lcm", "lcm_list"])
        src = code(r'''
            from functools import reduce
            from math import gcd


            def {{name}}(numbers):
                return reduce(lambda a, b: a * b // gcd(a, b), numbers)
        ''', name=name)
        calls = [f"{name}({ints(r, 3, 2, 12)!r})"]
        q = ask(r, "compute the least common multiple of several numbers", name,
                extras=["Don't use math.lcm, I'm on an old Python."] if r.random() < 0.5 else [])
        expl = "lcm(a, b) = a * b // gcd(a, b), folded over the list."
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_fibonacci(r):
    n = r.randint(8, 15)
    if r.random() < 0.5:
        name = r.choice(["fib", "fibonacci", "nth_fibonacci"])
        src = code(r'''
            def {{name}}(n):
                a, b = 0, 1
                for _ in range(n):
                    a, b = b, a + b
                return a
        ''', name=name)
        calls = [f"[{name}(i) for i in range({n})]", f"{name}(90)"]
        q = ask(r, "compute the n-th Fibonacci number iteratively", name)
        expl = "Only the last two values are kept, so it's O(n) time and O(1) space, and Python integers never overflow."
    else:
        name = r.choice(["fib_sequence", "fibonacci_numbers"])
        src = code(r'''
            def {{name}}():
                a, b = 0, 1
                while True:
                    yield a
                    a, b = b, a + b
        ''', name=name)
        calls = ["from itertools import islice", f"list(islice({name}(), {n}))"]
        q = ask(r, "write a generator that yields Fibonacci numbers forever", name)
        expl = "The generator is infinite; use `itertools.islice` to take as many as you need."
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_digit_sum(r):
    if r.random() < 0.5:
        name = r.choice(["digit_sum", "sum_of_digits"])
        src = code(r'''
            def {{name}}(n):
                return sum(int(d) for d in str(abs(n)))
        ''', name=name)
        q = ask(r, "compute the sum of the digits of an integer", name)
        expl = "`abs` makes negative numbers work too."
    else:
        name = "digital_root"
        src = code(r'''
            def digital_root(n):
                while n >= 10:
                    n = sum(int(d) for d in str(n))
                return n
        ''')
        q = ask(r, "compute the digital root of a non-negative integer (sum digits until one digit is left)", name)
        expl = "There's also a closed form: `0 if n == 0 else 1 + (n - 1) % 9`."
    calls = [f"{name}({r.randint(1000, 99999999)})" for _ in range(2)]
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_divisors(r):
    if r.random() < 0.5:
        name = r.choice(["divisors", "factors"])
        src = code(r'''
            def {{name}}(n):
                small, large = [], []
                i = 1
                while i * i <= n:
                    if n % i == 0:
                        small.append(i)
                        if i != n // i:
                            large.append(n // i)
                    i += 1
                return small + large[::-1]
        ''', name=name)
        calls = [f"{name}({r.choice([36, 60, 100, 97, 84, 120])})"]
        q = ask(r, "list all divisors of a positive integer in increasing order", name)
        expl = "Divisors come in pairs (i, n // i), so we only loop up to the square root."
    else:
        name = "is_perfect"
        src = code(r'''
            def is_perfect(n):
                if n < 2:
                    return False
                total = 1
                i = 2
                while i * i <= n:
                    if n % i == 0:
                        total += i
                        if i != n // i:
                            total += n // i
                    i += 1
                return total == n
        ''')
        calls = [f"[n for n in range(1, {r.choice([1000, 10000])}) if is_perfect(n)]"]
        q = ask(r, "check whether a number is perfect (equal to the sum of its proper divisors)", name)
        expl = "Proper divisors are summed in pairs up to sqrt(n); 1 is added up front."
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_to_base(r):
    name = r.choice(["to_base", "int_to_base", "convert_base"])
    src = code(r'''
        DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


        def {{name}}(n, base):
            if not 2 <= base <= 36:
                raise ValueError("base must be between 2 and 36")
            if n == 0:
                return "0"
            sign = "-" if n < 0 else ""
            n = abs(n)
            digits = []
            while n:
                n, remainder = divmod(n, base)
                digits.append(DIGITS[remainder])
            return sign + "".join(reversed(digits))
    ''', name=name)
    calls = [f"{name}({r.randint(10, 5000)}, {b})" for b in r.sample([2, 8, 16, 36, 3], 3)]
    q = ask(r, "convert an integer to a string in any base from 2 to 36", name)
    return q, py_reply(r, src, calls, "Repeated `divmod` produces the digits from least to most significant, so they are reversed at the end.",
                       "To go back, `int('FF', 16)` parses any base up to 36.")


@template("math")
def t_armstrong(r):
    name = r.choice(["is_armstrong", "is_narcissistic"])
    src = code(r'''
        def {{name}}(n):
            digits = str(n)
            power = len(digits)
            return n == sum(int(d) ** power for d in digits)
    ''', name=name)
    calls = [f"[n for n in range(100, 1000) if {name}(n)]", f"{name}({r.choice([9474, 9475, 54748])})"]
    q = ask(r, "check whether a number is an Armstrong (narcissistic) number", name)
    return q, py_reply(r, src, calls, "A number is an Armstrong number when it equals the sum of its digits each raised to the number of digits.")


@template("math")
def t_stats(r):
    name = r.choice(["describe", "summary_stats", "basic_stats"])
    src = code(r'''
        from collections import Counter


        def {{name}}(numbers):
            if not numbers:
                raise ValueError("numbers must not be empty")
            ordered = sorted(numbers)
            n = len(ordered)
            mid = n // 2
            median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
            mode = Counter(ordered).most_common(1)[0][0]
            return {"mean": sum(ordered) / n, "median": median, "mode": mode}
    ''', name=name)
    data = ints(r, r.choice([6, 7]), 1, 10)
    q = ask(r, "compute the mean, median and mode of a list of numbers without the statistics module", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "For an even count the median is the average of the two middle values; ties for the mode go to the smallest value.",
                       "In real code, `statistics.mean`, `statistics.median` and `statistics.mode` do the same job.")


@template("math")
def t_prime_factors(r):
    name = r.choice(["prime_factors", "factorize"])
    src = code(r'''
        def {{name}}(n):
            factors = []
            d = 2
            while d * d <= n:
                while n % d == 0:
                    factors.append(d)
                    n //= d
                d += 1
            if n > 1:
                factors.append(n)
            return factors
    ''', name=name)
    calls = [f"{name}({x})" for x in r.sample([360, 97, 1001, 2 ** 10, 9999, 123456], 2)]
    q = ask(r, "compute the prime factorization of an integer", name,
            extras=["Return the factors with repetition, e.g. 12 -> [2, 2, 3]."] if r.random() < 0.6 else [])
    return q, py_reply(r, src, calls, "Dividing out each factor as soon as it's found means every `d` that divides `n` is prime.")


@template("math")
def t_collatz(r):
    name = r.choice(["collatz_steps", "collatz_length"])
    src = code(r'''
        def {{name}}(n):
            if n < 1:
                raise ValueError("n must be positive")
            steps = 0
            while n != 1:
                n = n // 2 if n % 2 == 0 else 3 * n + 1
                steps += 1
            return steps
    ''', name=name)
    calls = [f"{name}({x})" for x in r.sample([6, 7, 27, 97, 1], 2)]
    q = ask(r, "count how many Collatz steps it takes for a number to reach 1", name)
    return q, py_reply(r, src, calls, "Halve even numbers, map odd numbers to 3n + 1, and count until we hit 1.")


@template("math")
def t_power_of_two(r):
    name = r.choice(["is_power_of_two", "power_of_two"])
    src = code(r'''
        def {{name}}(n):
            return n > 0 and n & (n - 1) == 0
    ''', name=name)
    calls = [f"[n for n in range({r.choice([40, 70, 130])}) if {name}(n)]"]
    q = ask(r, "check whether an integer is a power of two", name,
            extras=["Use bit manipulation."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls, "A power of two has exactly one bit set, and `n & (n - 1)` clears the lowest set bit.")


@template("math")
def t_pascal(r):
    rows = r.randint(4, 7)
    name = r.choice(["pascal", "pascal_triangle"])
    src = code(r'''
        def {{name}}(n):
            rows = []
            row = [1]
            for _ in range(n):
                rows.append(row)
                row = [1] + [a + b for a, b in zip(row, row[1:])] + [1]
            return rows
    ''', name=name)
    q = ask(r, f"generate the first {rows} rows of Pascal's triangle", name)
    return q, py_reply(r, src, [f"{name}({rows})"], "Each new row is 1, the pairwise sums of the previous row, and 1.")


@template("math")
def t_roman(r):
    if r.random() < 0.5:
        name = "to_roman"
        src = code(r'''
            NUMERALS = [
                (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"),
                (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
                (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
            ]


            def to_roman(n):
                if not 0 < n < 4000:
                    raise ValueError("n must be between 1 and 3999")
                parts = []
                for value, symbol in NUMERALS:
                    count, n = divmod(n, value)
                    parts.append(symbol * count)
                return "".join(parts)
        ''')
        calls = [f"to_roman({x})" for x in r.sample([4, 9, 14, 40, 1994, 2024, 3999, 58], 3)]
        q = ask(r, "convert an integer to a Roman numeral", name)
        expl = "Listing the subtractive pairs (CM, XC, IV, ...) as their own symbols makes a greedy loop enough."
    else:
        name = "from_roman"
        src = code(r'''
            VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


            def from_roman(s):
                total = 0
                for i, ch in enumerate(s):
                    value = VALUES[ch]
                    if i + 1 < len(s) and VALUES[s[i + 1]] > value:
                        total -= value
                    else:
                        total += value
                return total
        ''')
        calls = [f"from_roman({x!r})" for x in r.sample(["XIV", "MCMXCIV", "MMXXIV", "LVIII", "IX", "CDXLIV"], 3)]
        q = ask(r, "convert a Roman numeral string to an integer", name)
        expl = "A symbol smaller than the one after it is subtracted (the I in IV), otherwise added."
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_fizzbuzz(r):
    a, b = r.choice([(3, 5), (3, 7), (2, 5), (4, 6)])
    wa, wb = r.choice([("Fizz", "Buzz"), ("Foo", "Bar"), ("Ping", "Pong")])
    n = r.choice([15, 20, 30])
    name = r.choice(["fizzbuzz", "play_game"])
    src = code(r'''
        def {{name}}(n):
            lines = []
            for i in range(1, n + 1):
                word = ""
                if i % {{a}} == 0:
                    word += "{{wa}}"
                if i % {{b}} == 0:
                    word += "{{wb}}"
                lines.append(word or str(i))
            return lines
    ''', name=name, a=a, b=b, wa=wa, wb=wb)
    q = r.choice([
        f"Write a FizzBuzz variant in Python: for 1..{n}, print '{wa}' for multiples of {a}, '{wb}' for multiples of {b}, and '{wa}{wb}' for both.",
        f"Implement FizzBuzz but with {a} -> {wa} and {b} -> {wb}, up to {n}. Python.",
    ])
    return q, py_reply(r, src, [f"print(' '.join({name}({n})))"],
                       "Building the word piece by piece handles the 'both' case without a separate branch; the function returns the lines so it's easy to test.")


@template("math")
def t_leap_year(r):
    name = r.choice(["is_leap", "is_leap_year"])
    src = code(r'''
        def {{name}}(year):
            return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    ''', name=name)
    calls = [f"[(y, {name}(y)) for y in {r.sample([1900, 2000, 2023, 2024, 2100, 1996], 4)!r}]"]
    q = ask(r, "check whether a year is a leap year", name)
    return q, py_reply(r, src, calls, "Divisible by 4, except centuries, except centuries divisible by 400.",
                       "The standard library has this as `calendar.isleap(year)`.")


@template("math")
def t_compound_interest(r):
    name = r.choice(["compound_interest", "future_value"])
    src = code(r'''
        def {{name}}(principal, annual_rate, years, periods_per_year=12):
            rate = annual_rate / periods_per_year
            return round(principal * (1 + rate) ** (periods_per_year * years), 2)
    ''', name=name)
    p, rate, y = r.choice([1000, 2500, 10000]), r.choice([0.03, 0.05, 0.07]), r.randint(2, 20)
    q = ask(r, "calculate compound interest given a principal, an annual rate and a number of years", name,
            extras=["Compound monthly by default."])
    return q, py_reply(r, src, [f"{name}({p}, {rate}, {y})", f"{name}({p}, {rate}, {y}, periods_per_year=1)"],
                       "The rate is split across the compounding periods; the result is rounded to cents.",
                       "For money, `decimal.Decimal` avoids binary floating-point rounding surprises.")


# --------------------------------------------------------------------------------------------
# Clean templates: parsing (CSV, dates, logs, JSON, ad-hoc formats)
# --------------------------------------------------------------------------------------------

CSV_SCHEMAS = [
    ("sales.csv", "region", "amount", ["North", "South", "East", "West"]),
    ("expenses.csv", "category", "cost", ["travel", "food", "office", "software"]),
    ("orders.csv", "customer", "total", ["acme", "globex", "initech", "umbrella"]),
    ("inventory.csv", "warehouse", "quantity", ["A1", "B2", "C3"]),
]


@template("parsing")
def t_csv_group_sum(r):
    fname, group, value, keys = r.choice(CSV_SCHEMAS)
    name = f"total_by_{group}"
    src = code(r'''
        import csv
        from collections import defaultdict


        def {{name}}(path):
            totals = defaultdict(float)
            with open(path, newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    totals[row["{{group}}"]] += float(row["{{value}}"])
            return dict(totals)
    ''', name=name, group=group, value=value)
    rows = [(r.choice(keys), r.randint(1, 400) / 4) for _ in range(r.randint(4, 6))]
    totals: dict = {}
    for k, v in rows:
        totals[k] = totals.get(k, 0.0) + v
    csv_text = f"id,{group},{value}\n" + "\n".join(f"{i + 1},{k},{v:.2f}" for i, (k, v) in enumerate(rows))
    q = r.choice([
        f"I have a CSV file `{fname}` with columns id, {group} and {value}. How do I sum {value} per {group} in Python?",
        f"Write a Python function that reads {fname} and returns the total {value} for each {group}.",
        f"I need a script to total up the '{value}' column of a CSV grouped by '{group}'. Standard library only please.",
    ])
    a = reply(r, src, "python",
              "`csv.DictReader` maps each row to a dict keyed by the header, and `defaultdict(float)` starts every group at 0.",
              p_note=0)
    a += f"\n\nWith this file:\n\n```\n{csv_text}\n```\n\n`{name}(\"{fname}\")` returns `{totals!r}`."
    return q, a


@template("parsing")
def t_csv_to_json(r):
    indent = r.choice([2, 4])
    src = code(r'''
        #!/usr/bin/env python3
        """Convert a CSV file to JSON: a list of objects keyed by the header row."""

        import argparse
        import csv
        import json
        import sys


        def convert(csv_path, json_path=None, delimiter=","):
            with open(csv_path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f, delimiter=delimiter))
            text = json.dumps(rows, indent={{indent}}, ensure_ascii=False)
            if json_path:
                with open(json_path, "w", encoding="utf-8") as out:
                    out.write(text + "\n")
            else:
                sys.stdout.write(text + "\n")
            return len(rows)


        def main(argv=None):
            parser = argparse.ArgumentParser(description=__doc__)
            parser.add_argument("csv_path", help="input CSV file")
            parser.add_argument("-o", "--output", help="output JSON file (default: stdout)")
            parser.add_argument("-d", "--delimiter", default=",", help="field delimiter")
            args = parser.parse_args(argv)
            try:
                count = convert(args.csv_path, args.output, args.delimiter)
            except FileNotFoundError as exc:
                parser.error(str(exc))
            print(f"converted {count} rows", file=sys.stderr)
            return 0


        if __name__ == "__main__":
            raise SystemExit(main())
    ''', indent=indent)
    q = r.choice([
        "I need a script to convert a CSV file to JSON from the command line.",
        "Write a Python command-line tool that turns a CSV into a JSON array of objects, with an option for the output file and the delimiter.",
        "How do I convert CSV to JSON in Python? I'd like a reusable script with argparse.",
    ])
    usage = "$ python csv2json.py people.csv -o people.json\nconverted 120 rows\n$ python csv2json.py data.tsv -d $'\\t' | head"
    return q, reply(r, src, "python",
                    "Every value stays a string because CSV has no types; convert columns afterwards if you need numbers.",
                    usage, "Errors such as a missing input file are reported through argparse, which exits with status 2.",
                    example_lang="bash")


@template("parsing")
def t_days_between(r):
    name = r.choice(["days_between", "day_difference"])
    src = code(r'''
        from datetime import date


        def {{name}}(start, end):
            return abs((date.fromisoformat(end) - date.fromisoformat(start)).days)
    ''', name=name)
    def rand_date():
        return f"{r.randint(2019, 2026)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
    calls = [f"{name}({rand_date()!r}, {rand_date()!r})" for _ in range(2)]
    q = ask(r, "compute the number of days between two dates given as 'YYYY-MM-DD' strings", name)
    return q, py_reply(r, src, calls, "Subtracting two `date` objects gives a `timedelta`; `abs` makes the order irrelevant.")


@template("parsing")
def t_weekday(r):
    fmt, example_fmt = r.choice([("%d/%m/%Y", "DD/MM/YYYY"), ("%m/%d/%Y", "MM/DD/YYYY"), ("%d.%m.%Y", "DD.MM.YYYY")])
    name = r.choice(["weekday_name", "day_of_week"])
    src = code(r'''
        from datetime import datetime


        def {{name}}(text):
            return datetime.strptime(text, "{{fmt}}").strftime("%A")
    ''', name=name, fmt=fmt)
    calls = []
    for _ in range(2):
        d, m, y = r.randint(1, 28), r.randint(1, 12), r.randint(1990, 2030)
        s = fmt.replace("%d", f"{d:02d}").replace("%m", f"{m:02d}").replace("%Y", str(y))
        calls.append(f"{name}({s!r})")
    q = ask(r, f"get the day of the week for a date string in {example_fmt} format", name)
    return q, py_reply(r, src, calls, "`strptime` parses with an explicit format, and `%A` formats the full weekday name.",
                       "`%A` follows the current locale; in the default C locale it's English.")


@template("parsing")
def t_age(r):
    name = r.choice(["age", "age_on", "years_old"])
    src = code(r'''
        from datetime import date


        def {{name}}(birth, today=None):
            today = today or date.today()
            had_birthday = (today.month, today.day) >= (birth.month, birth.day)
            return today.year - birth.year - (not had_birthday)
    ''', name=name)
    y = r.randint(1960, 2010)
    calls = ["from datetime import date",
             f"{name}(date({y}, {r.randint(1, 12)}, {r.randint(1, 28)}), today=date(2025, 6, 15))"]
    q = ask(r, "calculate someone's age in years from their date of birth", name)
    return q, py_reply(r, src, calls, "Comparing (month, day) tuples tells whether this year's birthday has happened; `True`/`False` subtract as 1/0.",
                       "Taking `today` as a parameter makes the function easy to test.")


def _access_log_lines(r, n):
    ips = [f"10.0.{r.randint(0, 3)}.{r.randint(1, 30)}" for _ in range(3)]
    paths = ["/", "/index.html", "/api/users", "/login", "/static/app.js", "/favicon.ico"]
    lines = []
    for i in range(n):
        status = r.choice([200, 200, 200, 304, 404, 500])
        size = "-" if status == 304 else str(r.randint(100, 9000))
        lines.append(f'{r.choice(ips)} - - [12/Mar/2025:10:{i:02d}:{r.randint(0, 59):02d} +0000] '
                     f'"{r.choice(["GET", "GET", "POST"])} {r.choice(paths)} HTTP/1.1" {status} {size}')
    return lines


@template("parsing")
def t_access_log(r):
    by_ip = r.random() < 0.5
    field = "ip" if by_ip else "status"
    name = "requests_per_ip" if by_ip else "status_counts"
    src = code(r'''
        import re
        from collections import Counter

        LOG_LINE = re.compile(
            r'(?P<ip>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] '
            r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) (?P<size>\d+|-)'
        )


        def {{name}}(lines):
            counts = Counter()
            for line in lines:
                match = LOG_LINE.match(line)
                if match:
                    counts[match.group("{{field}}")] += 1
            return counts.most_common()
    ''', name=name, field=field)
    lines = _access_log_lines(r, r.randint(4, 6))
    calls = [f"lines = {lines!r}", f"{name}(lines)"]
    q = r.choice([
        f"How do I count {'requests per IP address' if by_ip else 'HTTP status codes'} in an nginx/Apache access log with Python?",
        f"Write a Python function that parses access-log lines in the common log format and returns the {'top client IPs' if by_ip else 'number of responses per status code'}.",
        f"I need a script to analyze our web server log: {'which IPs hit us most' if by_ip else 'how many 404s and 500s we served'}.",
    ])
    a = py_reply(r, src, calls, "Lines that don't match the pattern (truncated or garbage lines) are skipped instead of crashing the run.",
                 "To read a file: `with open('access.log') as f: print(" + name + "(f))`; the function accepts any iterable of lines.")
    return q, a


@template("parsing")
def t_log_levels(r):
    name = r.choice(["count_levels", "level_summary"])
    src = code(r'''
        from collections import Counter


        def {{name}}(lines):
            counts = Counter()
            for line in lines:
                parts = line.split(maxsplit=3)
                if len(parts) >= 3:
                    counts[parts[2]] += 1
            return dict(counts)
    ''', name=name)
    msgs = ["cache miss", "user login", "disk almost full", "timeout talking to db", "job finished"]
    lines = [f"2025-02-{r.randint(1, 28):02d} 0{r.randint(0, 9)}:{r.randint(10, 59)}:{r.randint(10, 59)} "
             f"{r.choice(['INFO', 'INFO', 'WARNING', 'ERROR', 'DEBUG'])} {r.choice(msgs)}" for _ in range(5)]
    calls = [f"{name}({lines!r})"]
    q = ask(r, "count log lines per level in a log where each line looks like '2025-02-01 10:00:01 ERROR message'", name)
    return q, py_reply(r, src, calls, "`split(maxsplit=3)` separates date, time and level and leaves the message intact.")


@template("parsing")
def t_json_config(r):
    keys = r.choice([("host", "port", "debug"), ("database_url", "secret_key"), ("api_key", "endpoint", "timeout")])
    src = code(r'''
        import json

        REQUIRED_KEYS = {{keys}}


        def load_config(path):
            with open(path, encoding="utf-8") as f:
                config = json.load(f)
            if not isinstance(config, dict):
                raise ValueError("config must be a JSON object")
            missing = [key for key in REQUIRED_KEYS if key not in config]
            if missing:
                raise KeyError(f"missing config keys: {', '.join(missing)}")
            return config
    ''', keys=repr(keys))
    q = r.choice([
        f"How do I load a JSON config file in Python and make sure it has the keys {', '.join(keys)}?",
        f"Write a Python function that reads config.json and raises an error listing any missing required keys ({', '.join(keys)}).",
    ])
    return q, reply(r, src, "python", "A malformed file raises `json.JSONDecodeError` from `json.load`; missing keys are all reported at once.",
                    note="For anything bigger, a schema library such as `jsonschema` or `pydantic` gives better messages.")


@template("parsing")
def t_json_snippets(r):
    items = [
        ("How do I pretty-print JSON in Python?",
         "```python\nimport json\n\nprint(json.dumps(data, indent=2, sort_keys=True))\n```\n\nFrom the shell, `python -m json.tool file.json` does the same."),
        ("How do I read a JSON Lines file in Python?",
         "Each line is its own JSON document:\n\n```python\nimport json\n\nwith open(\"data.jsonl\", encoding=\"utf-8\") as f:\n    records = [json.loads(line) for line in f if line.strip()]\n```"),
        ("How do I write a Python dict to a JSON file?",
         "```python\nimport json\n\nwith open(\"out.json\", \"w\", encoding=\"utf-8\") as f:\n    json.dump(data, f, indent=2, ensure_ascii=False)\n```"),
        ("json.dumps fails with 'Object of type datetime is not JSON serializable'. How do I fix it?",
         "Pass a `default` function that converts unknown objects:\n\n```python\nimport json\nfrom datetime import date, datetime\n\n\ndef encode(obj):\n    if isinstance(obj, (date, datetime)):\n        return obj.isoformat()\n    raise TypeError(f\"cannot serialize {type(obj).__name__}\")\n\n\njson.dumps(payload, default=encode)\n```"),
    ]
    return r.choice(items)


@template("parsing")
def t_parse_pairs(r):
    sep, kv = r.choice([(";", "="), ("&", "="), (",", ":")])
    name = r.choice(["parse_pairs", "parse_settings", "parse_kv"])
    src = code(r'''
        def {{name}}(text, pair_sep="{{sep}}", kv_sep="{{kv}}"):
            result = {}
            for chunk in text.split(pair_sep):
                chunk = chunk.strip()
                if not chunk:
                    continue
                key, _, value = chunk.partition(kv_sep)
                result[key.strip()] = value.strip()
            return result
    ''', name=name, sep=sep, kv=kv)
    ws = pick_words(r, 3)
    text = f" {sep} ".join(f"{w}{kv}{r.randint(1, 99)}" for w in ws) + f"{sep}flag{kv}"
    q = ask(r, f"parse a string like '{ws[0]}{kv}1{sep}{ws[1]}{kv}2' into a dictionary", name)
    return q, py_reply(r, src, [f"{name}({text!r})"], "`partition` never fails: a chunk without the separator becomes a key with an empty value.")


@template("parsing")
def t_parse_duration(r):
    name = r.choice(["parse_duration", "duration_to_seconds"])
    src = code(r'''
        import re

        UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


        def {{name}}(text):
            parts = re.findall(r"(\d+)\s*([dhms])", text.lower())
            if not parts:
                raise ValueError(f"invalid duration: {text!r}")
            return sum(int(value) * UNITS[unit] for value, unit in parts)
    ''', name=name)
    calls = [f"{name}({s!r})" for s in r.sample(["1h30m", "2d 4h", "45s", "1h 2m 3s", "90m"], 3)]
    q = ask(r, "convert duration strings like '1h30m' or '2d 4h' to seconds", name)
    return q, py_reply(r, src, calls, "Each number-unit pair is found by the regex and scaled by the unit's length in seconds.")


@template("parsing")
def t_env_file(r):
    src = code(r'''
        def load_env(path):
            env = {}
            with open(path, encoding="utf-8") as f:
                for raw in f:
                    line = raw.strip()
                    if not line or line.startswith("#"):
                        continue
                    if line.startswith("export "):
                        line = line[len("export "):]
                    key, sep, value = line.partition("=")
                    if not sep:
                        continue
                    value = value.strip()
                    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                        value = value[1:-1]
                    env[key.strip()] = value
            return env
    ''')
    q = r.choice([
        "How do I parse a .env file in Python without installing python-dotenv?",
        "Write a function that reads KEY=VALUE lines from a .env file, skipping comments and blank lines and removing quotes.",
    ])
    return q, reply(r, src, "python", "Comments, blank lines and lines without `=` are skipped, an optional `export ` prefix is accepted, and matching quotes around the value are removed.",
                    note="Call `os.environ.update(load_env('.env'))` to make the values visible to the rest of the program.")


@template("parsing")
def t_query_string(r):
    src = code(r'''
        from urllib.parse import parse_qs, urlparse


        def query_params(url):
            query = urlparse(url).query
            return {key: values[0] if len(values) == 1 else values
                    for key, values in parse_qs(query).items()}
    ''')
    url = f"https://example.com/search?q={r.choice(WORDS)}&page={r.randint(1, 9)}&tag=a&tag=b"
    q = ask(r, "extract the query parameters from a URL as a dictionary", "query_params")
    return q, py_reply(r, src, [f"query_params({url!r})"], "`parse_qs` always returns lists because a key can repeat; single values are unwrapped here.")


# --------------------------------------------------------------------------------------------
# Clean templates: classes and OOP
# --------------------------------------------------------------------------------------------


@template("oop")
def t_bank_account(r):
    cls = r.choice(["BankAccount", "Account", "Wallet"])
    owner = r.choice(NAMES)
    start = r.choice([0, 50, 100, 250])
    src = code(r'''
        class InsufficientFunds(Exception):
            pass


        class {{cls}}:
            def __init__(self, owner, balance=0):
                if balance < 0:
                    raise ValueError("initial balance cannot be negative")
                self.owner = owner
                self.balance = balance

            def deposit(self, amount):
                if amount <= 0:
                    raise ValueError("deposit must be positive")
                self.balance += amount
                return self.balance

            def withdraw(self, amount):
                if amount <= 0:
                    raise ValueError("withdrawal must be positive")
                if amount > self.balance:
                    raise InsufficientFunds(f"cannot withdraw {amount}, balance is {self.balance}")
                self.balance -= amount
                return self.balance

            def __repr__(self):
                return f"{type(self).__name__}(owner={self.owner!r}, balance={self.balance})"
    ''', cls=cls)
    dep, wd = r.randint(10, 90), r.randint(5, 40)
    calls = [f"acct = {cls}({owner!r}, {start})", f"acct.deposit({dep})", f"acct.withdraw({wd})", "acct"]
    q = r.choice([
        f"Write a Python class `{cls}` with deposit and withdraw methods. Withdrawing more than the balance should raise an exception.",
        f"Can you implement a simple bank account class in Python? It needs an owner, a balance, deposit(), withdraw() and it must not allow overdrafts.",
        f"I'm {r.choice(CONTEXTS)}. How do I model a bank account as a class with input validation?",
    ])
    return q, py_reply(r, src, calls, "A custom exception makes the overdraft case easy to catch separately from bad input (`ValueError`).",
                       "For real money, store cents as integers or use `decimal.Decimal`.")


@template("oop")
def t_stack_queue(r):
    if r.random() < 0.5:
        src = code(r'''
            class Stack:
                def __init__(self):
                    self._items = []

                def push(self, item):
                    self._items.append(item)

                def pop(self):
                    if not self._items:
                        raise IndexError("pop from empty stack")
                    return self._items.pop()

                def peek(self):
                    if not self._items:
                        raise IndexError("peek at empty stack")
                    return self._items[-1]

                def is_empty(self):
                    return not self._items

                def __len__(self):
                    return len(self._items)
        ''')
        ws = pick_words(r, 3)
        calls = ["s = Stack()"] + [f"s.push({w!r})" for w in ws] + ["s.pop()", "s.peek()", "len(s)"]
        q = ask(r, "implement a stack class with push, pop, peek and is_empty", "Stack")
        expl = "A Python list already has O(1) append and pop at the end, so it makes a good backing store."
    else:
        src = code(r'''
            from collections import deque


            class Queue:
                def __init__(self):
                    self._items = deque()

                def enqueue(self, item):
                    self._items.append(item)

                def dequeue(self):
                    if not self._items:
                        raise IndexError("dequeue from empty queue")
                    return self._items.popleft()

                def __len__(self):
                    return len(self._items)

                def __bool__(self):
                    return bool(self._items)
        ''')
        ns = ints(r, 3)
        calls = ["q = Queue()"] + [f"q.enqueue({n})" for n in ns] + ["q.dequeue()", "len(q)"]
        q = ask(r, "implement a FIFO queue class with enqueue and dequeue", "Queue")
        expl = "`deque.popleft` is O(1), unlike `list.pop(0)` which shifts every element."
    return q, py_reply(r, src, calls, expl)


@template("oop")
def t_shapes(r):
    src = code(r'''
        import math
        from abc import ABC, abstractmethod


        class Shape(ABC):
            @abstractmethod
            def area(self):
                ...

            @abstractmethod
            def perimeter(self):
                ...

            def describe(self):
                return f"{type(self).__name__}: area={self.area():.2f}, perimeter={self.perimeter():.2f}"


        class Circle(Shape):
            def __init__(self, radius):
                self.radius = radius

            def area(self):
                return math.pi * self.radius ** 2

            def perimeter(self):
                return 2 * math.pi * self.radius


        class Rectangle(Shape):
            def __init__(self, width, height):
                self.width = width
                self.height = height

            def area(self):
                return self.width * self.height

            def perimeter(self):
                return 2 * (self.width + self.height)


        class Square(Rectangle):
            def __init__(self, side):
                super().__init__(side, side)
    ''')
    calls = [f"shapes = [Circle({r.randint(1, 5)}), Rectangle({r.randint(2, 6)}, {r.randint(2, 6)}), Square({r.randint(2, 9)})]",
             "for shape in shapes:\n    print(shape.describe())"]
    q = r.choice([
        "Write a Python class hierarchy for shapes (circle, rectangle, square), each with area() and perimeter().",
        "How do I use an abstract base class in Python? Show me with shapes.",
        "Can you implement Shape, Circle, Rectangle and Square classes with inheritance and polymorphism?",
    ])
    a = py_reply(r, src, [], "`Shape` is abstract, so `Shape()` raises `TypeError`; every subclass must implement both methods. `Square` reuses `Rectangle` through `super().__init__`.")
    a += "\n\nUsage:\n\n```python\n" + run_examples(src, calls) + "\n```"
    return q, a


@template("oop")
def t_lru_cache(r):
    cap_n = r.randint(2, 3)
    src = code(r'''
        from collections import OrderedDict


        class LRUCache:
            def __init__(self, capacity):
                if capacity <= 0:
                    raise ValueError("capacity must be positive")
                self.capacity = capacity
                self._data = OrderedDict()

            def get(self, key, default=None):
                if key not in self._data:
                    return default
                self._data.move_to_end(key)
                return self._data[key]

            def put(self, key, value):
                if key in self._data:
                    self._data.move_to_end(key)
                self._data[key] = value
                if len(self._data) > self.capacity:
                    self._data.popitem(last=False)

            def __len__(self):
                return len(self._data)

            def __repr__(self):
                return f"LRUCache({list(self._data.items())})"
    ''')
    ws = pick_words(r, cap_n + 1)
    calls = [f"cache = LRUCache({cap_n})"] + [f"cache.put({w!r}, {i})" for i, w in enumerate(ws[:cap_n])]
    calls += [f"cache.get({ws[0]!r})", f"cache.put({ws[-1]!r}, 99)", "cache"]
    q = r.choice([
        "Implement an LRU cache class in Python with get and put in O(1).",
        "How do I build a least-recently-used cache with a fixed capacity in Python?",
        f"Write an LRUCache class: capacity {cap_n}, evict the least recently used key when full.",
    ])
    return q, py_reply(r, src, calls, "`OrderedDict` remembers order; `move_to_end` marks a key as recently used and `popitem(last=False)` evicts the oldest one.",
                       "For caching function results, `functools.lru_cache` is the ready-made decorator.")


@template("oop")
def t_inventory(r):
    src = code(r'''
        from dataclasses import dataclass, field


        @dataclass
        class Item:
            sku: str
            name: str
            price: float
            quantity: int = 0

            @property
            def value(self):
                return self.price * self.quantity


        @dataclass
        class Inventory:
            items: dict = field(default_factory=dict)

            def add(self, sku, name, price, quantity=0):
                if sku in self.items:
                    raise KeyError(f"duplicate SKU {sku}")
                self.items[sku] = Item(sku, name, price, quantity)

            def restock(self, sku, amount):
                if amount <= 0:
                    raise ValueError("amount must be positive")
                self.items[sku].quantity += amount

            def sell(self, sku, amount):
                item = self.items[sku]
                if amount > item.quantity:
                    raise ValueError(f"only {item.quantity} of {item.name} left")
                item.quantity -= amount
                return item.price * amount

            def low_stock(self, threshold=5):
                return sorted(item.name for item in self.items.values() if item.quantity < threshold)

            def total_value(self):
                return round(sum(item.value for item in self.items.values()), 2)

            def report(self):
                lines = [f"{'SKU':<8}{'Name':<14}{'Qty':>5}{'Value':>10}"]
                for item in sorted(self.items.values(), key=lambda i: i.sku):
                    lines.append(f"{item.sku:<8}{item.name:<14}{item.quantity:>5}{item.value:>10.2f}")
                lines.append(f"{'Total':<27}{self.total_value():>10.2f}")
                return "\n".join(lines)
    ''')
    products = r.sample([("pen", 1.5), ("notebook", 3.25), ("stapler", 7.0), ("tape", 2.0), ("marker", 1.75)], 3)
    calls = ["inv = Inventory()"]
    for i, (p, price) in enumerate(products):
        calls.append(f"inv.add('S{i + 1:03d}', {p!r}, {price}, {r.randint(1, 20)})")
    calls += [f"inv.sell('S001', 1)", f"inv.restock('S002', {r.randint(2, 10)})", "inv.low_stock()", "print(inv.report())"]
    q = r.choice([
        "I'm working on a small inventory app. Can you write Python classes for items and an inventory with add, restock, sell, a low-stock list and a printable report?",
        "Write an inventory management class in Python using dataclasses. It should track SKU, name, price and quantity and compute the total stock value.",
    ])
    return q, py_reply(r, src, calls, "Dataclasses remove the boilerplate `__init__`/`__repr__`; `field(default_factory=dict)` gives each inventory its own dictionary instead of a shared one.",
                       "Selling more than is in stock raises instead of going negative, so the caller decides what to do.")


@template("oop")
def t_temperature(r):
    src = code(r'''
        class Temperature:
            def __init__(self, celsius=0.0):
                self.celsius = celsius

            @property
            def celsius(self):
                return self._celsius

            @celsius.setter
            def celsius(self, value):
                if value < -273.15:
                    raise ValueError("below absolute zero")
                self._celsius = value

            @property
            def fahrenheit(self):
                return self._celsius * 9 / 5 + 32

            @fahrenheit.setter
            def fahrenheit(self, value):
                self.celsius = (value - 32) * 5 / 9
    ''')
    c = r.choice([0, 25, 37, 100, -40])
    calls = [f"t = Temperature({c})", "t.fahrenheit", f"t.fahrenheit = {r.choice([32, 212, 98.6, 50])}", "round(t.celsius, 2)"]
    q = r.choice([
        "How do I use @property in Python? Show a Temperature class that converts between Celsius and Fahrenheit.",
        "Write a Temperature class with celsius and fahrenheit properties that stay in sync and reject values below absolute zero.",
    ])
    return q, py_reply(r, src, calls, "Only Celsius is stored; Fahrenheit is computed on read and converted on write, so the two can never disagree. The validation lives in one setter.")


@template("oop")
def t_linked_list(r):
    src = code(r'''
        class Node:
            __slots__ = ("value", "next")

            def __init__(self, value, next=None):
                self.value = value
                self.next = next


        class LinkedList:
            def __init__(self, values=()):
                self.head = None
                self._size = 0
                for value in values:
                    self.append(value)

            def append(self, value):
                node = Node(value)
                if self.head is None:
                    self.head = node
                else:
                    current = self.head
                    while current.next:
                        current = current.next
                    current.next = node
                self._size += 1

            def prepend(self, value):
                self.head = Node(value, self.head)
                self._size += 1

            def find(self, value):
                for index, item in enumerate(self):
                    if item == value:
                        return index
                return -1

            def remove(self, value):
                previous, current = None, self.head
                while current:
                    if current.value == value:
                        if previous is None:
                            self.head = current.next
                        else:
                            previous.next = current.next
                        self._size -= 1
                        return True
                    previous, current = current, current.next
                return False

            def reverse(self):
                previous, current = None, self.head
                while current:
                    current.next, previous, current = previous, current, current.next
                self.head = previous

            def __iter__(self):
                current = self.head
                while current:
                    yield current.value
                    current = current.next

            def __len__(self):
                return self._size

            def __repr__(self):
                return " -> ".join(map(repr, self)) or "(empty)"
    ''')
    data = ints(r, 4, 1, 9)
    calls = [f"items = LinkedList({data!r})", f"items.prepend({r.randint(10, 20)})", f"items.remove({data[1]})",
             "items.reverse()", "items", "len(items), items.find(" + str(data[0]) + ")"]
    q = r.choice([
        "Implement a singly linked list in Python with append, prepend, find, remove, reverse and iteration.",
        "Can you write a LinkedList class in Python? I need to understand how nodes and pointers work. Include reverse().",
        "I'm preparing for coding interviews. Write a singly linked list class with the usual operations.",
    ])
    return q, py_reply(r, src, calls, "Each `Node` holds a value and a reference to the next node. `append` walks to the tail (O(n)); `prepend` is O(1). `reverse` flips the links in place with three pointers.",
                       "Keep a `tail` reference as well if you append often; that makes `append` O(1).")


@template("oop")
def t_matrix(r):
    src = code(r'''
        class Matrix:
            def __init__(self, rows):
                if not rows or any(len(row) != len(rows[0]) for row in rows):
                    raise ValueError("rows must be non-empty and of equal length")
                self.rows = [list(row) for row in rows]

            @property
            def shape(self):
                return len(self.rows), len(self.rows[0])

            @classmethod
            def identity(cls, n):
                return cls([[1 if i == j else 0 for j in range(n)] for i in range(n)])

            def __getitem__(self, index):
                i, j = index
                return self.rows[i][j]

            def __add__(self, other):
                if self.shape != other.shape:
                    raise ValueError(f"shape mismatch: {self.shape} vs {other.shape}")
                return Matrix([[a + b for a, b in zip(r1, r2)]
                               for r1, r2 in zip(self.rows, other.rows)])

            def __mul__(self, other):
                if isinstance(other, (int, float)):
                    return Matrix([[other * x for x in row] for row in self.rows])
                if self.shape[1] != other.shape[0]:
                    raise ValueError(f"cannot multiply {self.shape} by {other.shape}")
                cols = list(zip(*other.rows))
                return Matrix([[sum(a * b for a, b in zip(row, col)) for col in cols]
                               for row in self.rows])

            __rmul__ = __mul__

            def transpose(self):
                return Matrix([list(col) for col in zip(*self.rows)])

            def __eq__(self, other):
                return isinstance(other, Matrix) and self.rows == other.rows

            def __repr__(self):
                width = max(len(str(x)) for row in self.rows for x in row)
                body = "\n".join(" ".join(str(x).rjust(width) for x in row) for row in self.rows)
                return f"Matrix {self.shape[0]}x{self.shape[1]}\n{body}"
    ''')
    a = [ints(r, 3, 0, 5) for _ in range(2)]
    b = [ints(r, 2, 0, 5) for _ in range(3)]
    calls = [f"a = Matrix({a!r})", f"b = Matrix({b!r})", "a * b", "a.transpose()", "2 * a == a + a",
             "a * Matrix.identity(3) == a"]
    q = r.choice([
        "Write a Matrix class in Python that supports addition, matrix multiplication, scalar multiplication, transpose and a readable repr. No numpy.",
        "How do I overload operators in Python? Show me with a Matrix class (+, *, ==).",
        "Implement a small pure-Python matrix type with an identity constructor and shape checks.",
    ])
    return q, py_reply(r, src, calls, "Operator overloading is done with dunder methods: `__add__` for `+`, `__mul__` for `*`. `__rmul__ = __mul__` lets `2 * a` work as well as `a * 2`. Shapes are checked so mistakes fail loudly.",
                       "This is fine for learning and small sizes; for real numeric work use NumPy, whose `@` operator is written in C.")


@template("oop")
def t_observer(r):
    event = r.choice(["order_created", "user_signed_up", "file_uploaded"])
    src = code(r'''
        from collections import defaultdict


        class EventBus:
            def __init__(self):
                self._handlers = defaultdict(list)

            def subscribe(self, event, handler):
                self._handlers[event].append(handler)
                return lambda: self._handlers[event].remove(handler)

            def publish(self, event, **payload):
                for handler in list(self._handlers[event]):
                    handler(**payload)
                return len(self._handlers[event])
    ''')
    calls = ["bus = EventBus()",
             f"unsubscribe = bus.subscribe({event!r}, lambda **p: print('email:', p))",
             f"_ = bus.subscribe({event!r}, lambda **p: print('audit log:', p))",
             f"bus.publish({event!r}, id={r.randint(100, 999)})",
             "unsubscribe()",
             f"bus.publish({event!r}, id={r.randint(100, 999)})"]
    q = r.choice([
        "How do I implement the observer pattern (publish/subscribe) in Python?",
        f"Write a small event bus class in Python: subscribe handlers to events like '{event}', publish with keyword data, and allow unsubscribing.",
    ])
    return q, py_reply(r, src, calls, "`subscribe` returns a function that removes the handler again; `publish` iterates over a copy so handlers can unsubscribe themselves while running.")


@template("oop")
def t_vector(r):
    src = code(r'''
        import math
        from dataclasses import dataclass


        @dataclass(frozen=True)
        class Vector2D:
            x: float
            y: float

            def __add__(self, other):
                return Vector2D(self.x + other.x, self.y + other.y)

            def __sub__(self, other):
                return Vector2D(self.x - other.x, self.y - other.y)

            def __mul__(self, scalar):
                return Vector2D(self.x * scalar, self.y * scalar)

            __rmul__ = __mul__

            def dot(self, other):
                return self.x * other.x + self.y * other.y

            def length(self):
                return math.hypot(self.x, self.y)
    ''')
    v1 = (r.randint(-5, 5), r.randint(1, 5))
    v2 = (r.randint(1, 5), r.randint(-5, 5))
    calls = [f"a, b = Vector2D{v1}, Vector2D{v2}", "a + b", "3 * a", "a.dot(b)", "Vector2D(3, 4).length()"]
    q = r.choice([
        "Write an immutable 2D vector class in Python with +, -, scalar *, dot product and length.",
        "How do I make a Python dataclass that supports arithmetic operators? Example: a 2D vector.",
    ])
    return q, py_reply(r, src, calls, "`frozen=True` makes instances immutable and hashable, so they can be dict keys or set members.")


@template("oop")
def t_timer_ctx(r):
    src = code(r'''
        import time


        class Timer:
            def __init__(self, label="elapsed"):
                self.label = label
                self.elapsed = None

            def __enter__(self):
                self._start = time.perf_counter()
                return self

            def __exit__(self, exc_type, exc, tb):
                self.elapsed = time.perf_counter() - self._start
                print(f"{self.label}: {self.elapsed:.3f}s")
                return False
    ''')
    example = "with Timer(\"load data\") as t:\n    rows = load_rows()\n# load data: 0.412s\nprint(t.elapsed)"
    q = r.choice([
        "How do I write a context manager class in Python that times a block of code?",
        "Write a Timer class usable with `with` that prints how long the block took.",
    ])
    return q, reply(r, src, "python", "`__enter__` starts the clock and `__exit__` runs even if the block raises; returning `False` lets the exception propagate.",
                    example, "`time.perf_counter` is the right clock for measuring intervals; `time.time` can jump when the system clock changes.")


# --------------------------------------------------------------------------------------------
# Clean templates: algorithms (sorting, search, graphs, dynamic programming) and recursion
# --------------------------------------------------------------------------------------------


@template("sorting")
def t_simple_sort(r):
    algo = r.choice(["bubble", "insertion", "selection"])
    name = f"{algo}_sort"
    bodies = {
        "bubble": r'''
            def bubble_sort(items):
                items = list(items)
                n = len(items)
                for end in range(n - 1, 0, -1):
                    swapped = False
                    for i in range(end):
                        if items[i] > items[i + 1]:
                            items[i], items[i + 1] = items[i + 1], items[i]
                            swapped = True
                    if not swapped:
                        break
                return items
        ''',
        "insertion": r'''
            def insertion_sort(items):
                items = list(items)
                for i in range(1, len(items)):
                    current = items[i]
                    j = i - 1
                    while j >= 0 and items[j] > current:
                        items[j + 1] = items[j]
                        j -= 1
                    items[j + 1] = current
                return items
        ''',
        "selection": r'''
            def selection_sort(items):
                items = list(items)
                for i in range(len(items)):
                    smallest = min(range(i, len(items)), key=items.__getitem__)
                    items[i], items[smallest] = items[smallest], items[i]
                return items
        ''',
    }
    notes = {
        "bubble": "O(n^2) in general, but the `swapped` flag makes it O(n) on already-sorted input.",
        "insertion": "O(n^2) worst case, O(n) on nearly sorted data, and stable.",
        "selection": "Always O(n^2) comparisons but at most n - 1 swaps; not stable.",
    }
    src = code(bodies[algo])
    q = ask(r, f"sort a list of numbers with {algo} sort", name,
            extras=["Don't modify the input list."] if r.random() < 0.4 else [])
    return q, py_reply(r, src, [f"{name}({ints(r, 8)!r})"], "It works on a copy, so the caller's list is left unchanged.", notes[algo], p_note=0.9)


@template("sorting")
def t_merge_sort(r):
    src = code(r'''
        def merge_sort(items):
            if len(items) <= 1:
                return list(items)
            mid = len(items) // 2
            left = merge_sort(items[:mid])
            right = merge_sort(items[mid:])
            merged = []
            i = j = 0
            while i < len(left) and j < len(right):
                if left[i] <= right[j]:
                    merged.append(left[i])
                    i += 1
                else:
                    merged.append(right[j])
                    j += 1
            merged.extend(left[i:])
            merged.extend(right[j:])
            return merged
    ''')
    q = ask(r, "implement merge sort", "merge_sort")
    return q, py_reply(r, src, [f"merge_sort({ints(r, 9)!r})"], "Split in half, sort each half recursively, then merge the two sorted halves; `<=` keeps it stable.",
                       "O(n log n) time in every case, O(n) extra memory.")


@template("sorting")
def t_quicksort(r):
    if r.random() < 0.5:
        src = code(r'''
            def quicksort(items):
                if len(items) <= 1:
                    return list(items)
                pivot = items[len(items) // 2]
                smaller = [x for x in items if x < pivot]
                equal = [x for x in items if x == pivot]
                larger = [x for x in items if x > pivot]
                return quicksort(smaller) + equal + quicksort(larger)
        ''')
        expl = "This version is easy to read and handles duplicates with the `equal` bucket, but it allocates new lists."
    else:
        src = code(r'''
            def quicksort(items, lo=0, hi=None):
                if hi is None:
                    hi = len(items) - 1
                if lo < hi:
                    p = partition(items, lo, hi)
                    quicksort(items, lo, p - 1)
                    quicksort(items, p + 1, hi)
                return items


            def partition(items, lo, hi):
                pivot = items[hi]
                i = lo
                for j in range(lo, hi):
                    if items[j] <= pivot:
                        items[i], items[j] = items[j], items[i]
                        i += 1
                items[i], items[hi] = items[hi], items[i]
                return i
        ''')
        expl = "This is the in-place version with Lomuto partitioning: the pivot ends up at its final index and each side is sorted recursively."
    q = ask(r, "implement quicksort", "quicksort")
    return q, py_reply(r, src, [f"quicksort({ints(r, 9)!r})"], expl, "Average O(n log n); the worst case is O(n^2) when pivots are consistently bad.")


@template("sorting")
def t_sort_records(r):
    key, other = r.choice([("age", "name"), ("score", "name"), ("price", "title")])
    desc = r.random() < 0.5
    people = [{"name" if other == "name" else "title": n, key: r.randint(18, 60)} for n in r.sample(NAMES, 4)]
    src = code(r'''
        def sort_records(records, key="{{key}}", descending={{desc}}):
            return sorted(records, key=lambda record: record[key], reverse=descending)
    ''', key=key, desc=desc)
    q = r.choice([
        f"How do I sort a list of dictionaries by the '{key}' key in Python{' in descending order' if desc else ''}?",
        f"Write a Python function that sorts a list of dicts by '{key}'.",
    ])
    a = py_reply(r, src, [f"sort_records({people!r})"], "`sorted` takes a `key` function; `operator.itemgetter(key)` is an equivalent, slightly faster choice.",
                 f"To break ties, return a tuple: `key=lambda d: (d[{key!r}], d[{other!r}])`.")
    return q, a


@template("sorting")
def t_counting_sort(r):
    src = code(r'''
        def counting_sort(numbers, max_value):
            counts = [0] * (max_value + 1)
            for n in numbers:
                counts[n] += 1
            result = []
            for value, count in enumerate(counts):
                result.extend([value] * count)
            return result
    ''')
    mv = r.choice([9, 20])
    q = ask(r, f"sort a list of small non-negative integers (at most {mv}) with counting sort", "counting_sort")
    return q, py_reply(r, src, [f"counting_sort({ints(r, 10, 0, mv)!r}, {mv})"], "Count each value, then write the values back out in order.",
                       "O(n + k) for n numbers with values up to k: faster than comparison sorts when k is small.")


@template("sorting")
def t_k_smallest(r):
    k = r.randint(2, 4)
    largest = r.random() < 0.5
    fn = "nlargest" if largest else "nsmallest"
    word = "largest" if largest else "smallest"
    src = code(r'''
        import heapq


        def top_k(numbers, k={{k}}):
            return heapq.{{fn}}(k, numbers)
    ''', k=k, fn=fn)
    q = ask(r, f"get the {k} {word} numbers from a big list without sorting the whole list", "top_k")
    return q, py_reply(r, src, [f"top_k({ints(r, 12)!r})"], f"`heapq.{fn}` keeps a heap of size k, so it runs in O(n log k).",
                       "For k close to n, plain `sorted(numbers)` is simpler and about as fast.")


@template("search")
def t_binary_search(r):
    if r.random() < 0.6:
        name = r.choice(["binary_search", "bsearch"])
        src = code(r'''
            def {{name}}(items, target):
                lo, hi = 0, len(items) - 1
                while lo <= hi:
                    mid = (lo + hi) // 2
                    if items[mid] == target:
                        return mid
                    if items[mid] < target:
                        lo = mid + 1
                    else:
                        hi = mid - 1
                return -1
        ''', name=name)
        data = sorted(r.sample(range(1, 60), 10))
        calls = [f"data = {data!r}", f"{name}(data, {data[r.randint(0, 9)]})", f"{name}(data, 61)"]
        q = ask(r, "search a sorted list with binary search and return the index or -1", name)
        expl = "Each step halves the search range, so it takes O(log n) comparisons."
    else:
        name = "first_index"
        src = code(r'''
            from bisect import bisect_left


            def first_index(items, target):
                i = bisect_left(items, target)
                if i < len(items) and items[i] == target:
                    return i
                return -1
        ''')
        data = sorted(ints(r, 10, 1, 8))
        calls = [f"data = {data!r}", f"first_index(data, {data[4]})", "first_index(data, 100)"]
        q = ask(r, "find the index of the first occurrence of a value in a sorted list that has duplicates", name)
        expl = "`bisect_left` returns the leftmost insertion point, which is the first occurrence when the value is present."
    return q, py_reply(r, src, calls, expl)


@template("search")
def t_rotated_search(r):
    src = code(r'''
        def search_rotated(nums, target):
            lo, hi = 0, len(nums) - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                if nums[mid] == target:
                    return mid
                if nums[lo] <= nums[mid]:
                    if nums[lo] <= target < nums[mid]:
                        hi = mid - 1
                    else:
                        lo = mid + 1
                else:
                    if nums[mid] < target <= nums[hi]:
                        lo = mid + 1
                    else:
                        hi = mid - 1
            return -1
    ''')
    base = sorted(r.sample(range(0, 40), 8))
    k = r.randint(1, 7)
    nums = base[k:] + base[:k]
    calls = [f"search_rotated({nums!r}, {r.choice(nums)})", f"search_rotated({nums!r}, 41)"]
    q = ask(r, "search for a target in a sorted array that has been rotated at an unknown pivot, in O(log n)", "search_rotated")
    return q, py_reply(r, src, calls, "At every step one half is sorted; check whether the target lies in that half and discard the other.")


@template("search")
def t_two_sum(r):
    nums = r.sample(range(1, 30), 6)
    i, j = r.sample(range(6), 2)
    target = nums[i] + nums[j]
    name = r.choice(["two_sum", "pair_with_sum"])
    src = code(r'''
        def {{name}}(nums, target):
            seen = {}
            for i, n in enumerate(nums):
                complement = target - n
                if complement in seen:
                    return seen[complement], i
                seen[n] = i
            return None
    ''', name=name)
    q = ask(r, "find the indices of two numbers in a list that add up to a target", name,
            extras=["It should be faster than O(n^2)."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, [f"{name}({nums!r}, {target})"], "A dict from value to index lets us check for the complement in O(1), so the whole scan is O(n).")


@template("search")
def t_peak(r):
    src = code(r'''
        def find_peak(nums):
            lo, hi = 0, len(nums) - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if nums[mid] < nums[mid + 1]:
                    lo = mid + 1
                else:
                    hi = mid
            return lo
    ''')
    nums = r.choice([[1, 3, 5, 4, 2], [1, 2, 1, 3, 5, 6, 4], [5, 4, 3, 2], [1, 2, 3, 9]])
    q = ask(r, "find the index of a peak element (larger than its neighbours) in a list in logarithmic time", "find_peak")
    return q, py_reply(r, src, [f"find_peak({nums!r})"], "If the next element is larger, a peak must exist to the right; otherwise one exists at mid or to the left.")


@template("graphs")
def t_bfs_path(r):
    nodes = ["A", "B", "C", "D", "E", "F"]
    graph = {"A": ["B", "C"], "B": ["A", "D"], "C": ["A", "D", "E"], "D": ["B", "C", "F"], "E": ["C", "F"], "F": ["D", "E"]}
    start, goal = r.sample(nodes, 2)
    src = code(r'''
        from collections import deque


        def shortest_path(graph, start, goal):
            previous = {start: None}
            queue = deque([start])
            while queue:
                node = queue.popleft()
                if node == goal:
                    path = []
                    while node is not None:
                        path.append(node)
                        node = previous[node]
                    return path[::-1]
                for neighbor in graph.get(node, []):
                    if neighbor not in previous:
                        previous[neighbor] = node
                        queue.append(neighbor)
            return None
    ''')
    calls = [f"graph = {graph!r}", f"shortest_path(graph, {start!r}, {goal!r})"]
    q = ask(r, "find the shortest path between two nodes in an unweighted graph given as an adjacency dict", "shortest_path")
    return q, py_reply(r, src, calls, "Breadth-first search reaches nodes in order of distance, so the first time we pop the goal we have a shortest path; `previous` lets us walk it back.",
                       "O(V + E) time.")


@template("graphs")
def t_cycle(r):
    src = code(r'''
        def has_cycle(graph):
            WHITE, GRAY, BLACK = 0, 1, 2
            color = {node: WHITE for node in graph}

            def visit(node):
                color[node] = GRAY
                for neighbor in graph.get(node, []):
                    state = color.get(neighbor, WHITE)
                    if state == GRAY:
                        return True
                    if state == WHITE and visit(neighbor):
                        return True
                color[node] = BLACK
                return False

            return any(color[node] == WHITE and visit(node) for node in graph)
    ''')
    acyclic = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}
    cyclic = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    calls = [f"has_cycle({acyclic!r})", f"has_cycle({cyclic!r})"]
    q = ask(r, "detect whether a directed graph has a cycle", "has_cycle")
    return q, py_reply(r, src, calls, "Depth-first search with three colours: reaching a GRAY node means we found an edge back into the current path, i.e. a cycle.")


@template("graphs")
def t_dijkstra(r):
    names = r.sample(["home", "school", "park", "mall", "library", "station", "office"], 5)
    edges = {}
    for i, n in enumerate(names):
        targets = [m for m in names if m != n]
        edges[n] = {m: r.randint(1, 9) for m in r.sample(targets, 2)}
        if i + 1 < len(names):  # keep the last node reachable
            edges[n].setdefault(names[i + 1], r.randint(3, 12))
    src = code(r'''
        import heapq


        def dijkstra(graph, source):
            """Shortest distances from source in a graph with non-negative edge weights.

            graph maps each node to a dict {neighbor: weight}.
            Returns (dist, previous) so paths can be rebuilt with build_path.
            """
            dist = {source: 0}
            previous = {source: None}
            heap = [(0, source)]
            visited = set()
            while heap:
                d, node = heapq.heappop(heap)
                if node in visited:
                    continue
                visited.add(node)
                for neighbor, weight in graph.get(node, {}).items():
                    if weight < 0:
                        raise ValueError("Dijkstra needs non-negative weights")
                    candidate = d + weight
                    if candidate < dist.get(neighbor, float("inf")):
                        dist[neighbor] = candidate
                        previous[neighbor] = node
                        heapq.heappush(heap, (candidate, neighbor))
            return dist, previous


        def build_path(previous, target):
            if target not in previous:
                return None
            path = []
            while target is not None:
                path.append(target)
                target = previous[target]
            return path[::-1]
    ''')
    src_node = names[0]
    calls = [f"graph = {edges!r}", f"dist, previous = dijkstra(graph, {src_node!r})", "dist",
             f"build_path(previous, {names[-1]!r})"]
    q = r.choice([
        "Implement Dijkstra's algorithm in Python with a priority queue, and show how to recover the actual path.",
        "How do I find the shortest route between places in a weighted graph? Python please, with an example.",
        f"Write a Python function for single-source shortest paths on a weighted directed graph (non-negative weights). Start from '{src_node}'.",
    ])
    a = py_reply(r, src, calls, "The heap always yields the closest unvisited node; stale heap entries are skipped with the `visited` set. Unreachable nodes are simply absent from `dist`.",
                 "Time O((V + E) log V) with a binary heap. For negative weights, use Bellman-Ford instead.", p_example=1.0, p_note=0.9)
    return q, a


@template("graphs")
def t_toposort(r):
    tasks = {"install": [], "configure": ["install"], "build": ["configure"], "test": ["build"],
             "docs": ["configure"], "release": ["test", "docs"]}
    items = list(tasks.items())
    r.shuffle(items)
    deps = dict(items)
    src = code(r'''
        from collections import deque


        def topological_order(dependencies):
            """dependencies maps each task to the tasks it depends on."""
            indegree = {task: len(deps) for task, deps in dependencies.items()}
            dependents = {task: [] for task in dependencies}
            for task, deps in dependencies.items():
                for dep in deps:
                    dependents[dep].append(task)
            ready = deque(task for task, n in indegree.items() if n == 0)
            order = []
            while ready:
                task = ready.popleft()
                order.append(task)
                for nxt in dependents[task]:
                    indegree[nxt] -= 1
                    if indegree[nxt] == 0:
                        ready.append(nxt)
            if len(order) != len(dependencies):
                raise ValueError("dependency cycle detected")
            return order
    ''')
    q = r.choice([
        "Given tasks and their dependencies, how do I compute an order to run them in? Python.",
        "Implement topological sort (Kahn's algorithm) in Python and detect cycles.",
        "I need a script to order build steps so each step runs after the steps it depends on.",
    ])
    return q, py_reply(r, src, [f"topological_order({deps!r})"], "Kahn's algorithm repeatedly takes a task with no remaining dependencies; if some tasks are never freed there is a cycle.")


@template("graphs")
def t_islands(r):
    grid = [[r.choice([0, 0, 1]) for _ in range(5)] for _ in range(4)]
    src = code(r'''
        def count_islands(grid):
            if not grid:
                return 0
            rows, cols = len(grid), len(grid[0])
            seen = set()

            def sink(r, c):
                stack = [(r, c)]
                while stack:
                    r, c = stack.pop()
                    if (r, c) in seen or not (0 <= r < rows and 0 <= c < cols) or grid[r][c] != 1:
                        continue
                    seen.add((r, c))
                    stack.extend([(r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)])

            count = 0
            for r in range(rows):
                for c in range(cols):
                    if grid[r][c] == 1 and (r, c) not in seen:
                        sink(r, c)
                        count += 1
            return count
    ''')
    q = ask(r, "count the islands (groups of 1s connected horizontally or vertically) in a 0/1 grid", "count_islands")
    return q, py_reply(r, src, [f"count_islands({grid!r})"], "Each unvisited land cell starts a new island, and an iterative flood fill marks the whole island as seen (no recursion-depth issues on big grids).")


@template("graphs")
def t_union_find(r):
    src = code(r'''
        class UnionFind:
            def __init__(self, n):
                self.parent = list(range(n))
                self.size = [1] * n
                self.components = n

            def find(self, x):
                root = x
                while self.parent[root] != root:
                    root = self.parent[root]
                while self.parent[x] != root:
                    self.parent[x], x = root, self.parent[x]
                return root

            def union(self, a, b):
                ra, rb = self.find(a), self.find(b)
                if ra == rb:
                    return False
                if self.size[ra] < self.size[rb]:
                    ra, rb = rb, ra
                self.parent[rb] = ra
                self.size[ra] += self.size[rb]
                self.components -= 1
                return True

            def connected(self, a, b):
                return self.find(a) == self.find(b)
    ''')
    pairs = [tuple(r.sample(range(8), 2)) for _ in range(4)]
    calls = ["uf = UnionFind(8)"] + [f"uf.union{p}" for p in pairs] + [f"uf.connected{pairs[0]}", "uf.components"]
    q = r.choice([
        "Implement a union-find (disjoint set) data structure in Python with path compression and union by size.",
        "How do I count connected components efficiently as edges are added? Python.",
    ])
    return q, py_reply(r, src, calls, "Union by size keeps trees shallow and path compression flattens them on every `find`, giving near-constant amortized time per operation.")


@template("graphs")
def t_grid_path(r):
    rows, cols = 5, 6
    grid = [["." for _ in range(cols)] for _ in range(rows)]
    for _ in range(7):
        grid[r.randint(0, rows - 1)][r.randint(1, cols - 2)] = "#"
    grid[0][0], grid[rows - 1][cols - 1] = "S", "E"
    lines = ["".join(row) for row in grid]
    src = code(r'''
        from collections import deque

        MOVES = [(1, 0), (-1, 0), (0, 1), (0, -1)]


        def parse_grid(lines):
            grid = [list(line) for line in lines]
            start = end = None
            for r, row in enumerate(grid):
                for c, cell in enumerate(row):
                    if cell == "S":
                        start = (r, c)
                    elif cell == "E":
                        end = (r, c)
            if start is None or end is None:
                raise ValueError("grid needs an S and an E")
            return grid, start, end


        def solve_maze(lines):
            """Shortest path from S to E avoiding '#'. Returns the grid with the path drawn as '*'."""
            grid, start, end = parse_grid(lines)
            rows, cols = len(grid), len(grid[0])
            previous = {start: None}
            queue = deque([start])
            while queue:
                cell = queue.popleft()
                if cell == end:
                    break
                r, c = cell
                for dr, dc in MOVES:
                    nr, nc = r + dr, c + dc
                    if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] != "#" \
                            and (nr, nc) not in previous:
                        previous[(nr, nc)] = cell
                        queue.append((nr, nc))
            if end not in previous:
                return None
            step = previous[end]
            length = 1
            while step != start:
                grid[step[0]][step[1]] = "*"
                step = previous[step]
                length += 1
            return length, ["".join(row) for row in grid]


        def show(lines):
            result = solve_maze(lines)
            if result is None:
                print("no path")
                return
            length, drawn = result
            print(f"path length: {length}")
            print("\n".join(drawn))
    ''')
    q = r.choice([
        "Write a Python program that finds the shortest path through a text maze ('S' start, 'E' end, '#' walls) and draws the path.",
        "How do I solve a grid maze with BFS in Python and print the route?",
    ])
    calls = [f"maze = {lines!r}", "show(maze)"]
    return q, py_reply(r, src, calls, "BFS explores the grid level by level, so the first time it reaches E the path is shortest. The path is then traced back through `previous` and drawn with '*'.",
                       "Time and memory are O(rows * cols).", p_example=1.0)


@template("dp")
def t_lcs(r):
    as_string = r.random() < 0.5
    pairs = [("ABCBDAB", "BDCABA"), ("kitten", "sitting"), ("dynamic", "programming"), ("AGGTAB", "GXTXAYB")]
    a, b = r.choice(pairs)
    if as_string:
        src = code(r'''
            def lcs(a, b):
                m, n = len(a), len(b)
                dp = [[0] * (n + 1) for _ in range(m + 1)]
                for i in range(m):
                    for j in range(n):
                        if a[i] == b[j]:
                            dp[i + 1][j + 1] = dp[i][j] + 1
                        else:
                            dp[i + 1][j + 1] = max(dp[i][j + 1], dp[i + 1][j])
                # walk back through the table to rebuild one longest subsequence
                out = []
                i, j = m, n
                while i and j:
                    if a[i - 1] == b[j - 1]:
                        out.append(a[i - 1])
                        i -= 1
                        j -= 1
                    elif dp[i - 1][j] >= dp[i][j - 1]:
                        i -= 1
                    else:
                        j -= 1
                return "".join(reversed(out))
        ''')
        q = ask(r, "find the longest common subsequence of two strings (the subsequence itself, not just its length)", "lcs")
    else:
        src = code(r'''
            def lcs_length(a, b):
                previous = [0] * (len(b) + 1)
                for ch in a:
                    current = [0]
                    for j, other in enumerate(b):
                        if ch == other:
                            current.append(previous[j] + 1)
                        else:
                            current.append(max(previous[j + 1], current[j]))
                    previous = current
                return previous[-1]
        ''')
        q = ask(r, "compute the length of the longest common subsequence of two strings", "lcs_length",
                extras=["Memory should be O(min(m, n)) if possible."] if r.random() < 0.5 else [])
    fn = "lcs" if as_string else "lcs_length"
    return q, py_reply(r, src, [f"{fn}({a!r}, {b!r})"], "dp[i][j] is the LCS length of the first i characters of a and the first j of b.",
                       "O(m * n) time.")


@template("dp")
def t_coin_change(r):
    coins = r.choice([[1, 2, 5], [1, 5, 10, 25], [2, 3, 7], [1, 3, 4]])
    amount = r.randint(11, 40)
    if r.random() < 0.5:
        src = code(r'''
            def min_coins(coins, amount):
                INF = float("inf")
                best = [0] + [INF] * amount
                for value in range(1, amount + 1):
                    for coin in coins:
                        if coin <= value and best[value - coin] + 1 < best[value]:
                            best[value] = best[value - coin] + 1
                return -1 if best[amount] == INF else best[amount]
        ''')
        calls = [f"min_coins({coins!r}, {amount})", f"min_coins([{r.choice([4, 6])}], 7)"]
        q = ask(r, "find the minimum number of coins needed to make an amount", "min_coins",
                extras=["Return -1 if it can't be made."])
        expl = "best[v] is the fewest coins for value v, built bottom-up from smaller values."
    else:
        src = code(r'''
            def count_ways(coins, amount):
                ways = [1] + [0] * amount
                for coin in coins:
                    for value in range(coin, amount + 1):
                        ways[value] += ways[value - coin]
                return ways[amount]
        ''')
        calls = [f"count_ways({coins!r}, {amount})"]
        q = ask(r, "count the number of ways to make change for an amount with given coin denominations", "count_ways")
        expl = "Looping over coins in the outer loop counts combinations, not permutations (1+2 and 2+1 count once)."
    return q, py_reply(r, src, calls, expl, "O(len(coins) * amount) time.")


@template("dp")
def t_knapsack(r):
    items = [(r.randint(1, 6), r.randint(5, 40)) for _ in range(5)]
    cap_w = r.randint(8, 14)
    src = code(r'''
        def knapsack(items, capacity):
            """items is a list of (weight, value); each item can be used at most once."""
            best = [0] * (capacity + 1)
            for weight, value in items:
                for c in range(capacity, weight - 1, -1):
                    best[c] = max(best[c], best[c - weight] + value)
            return best[capacity]
    ''')
    q = ask(r, "solve the 0/1 knapsack problem: maximize total value within a weight capacity", "knapsack")
    return q, py_reply(r, src, [f"knapsack({items!r}, {cap_w})"], "Iterating capacities downwards makes sure each item is counted at most once in the one-dimensional table.",
                       "O(n * capacity) time, O(capacity) memory.")


@template("dp")
def t_edit_distance(r):
    pairs = [("kitten", "sitting"), ("flaw", "lawn"), ("intention", "execution"), ("sunday", "saturday"), ("abc", "abc")]
    src = code(r'''
        def edit_distance(a, b):
            previous = list(range(len(b) + 1))
            for i, ca in enumerate(a, 1):
                current = [i]
                for j, cb in enumerate(b, 1):
                    current.append(min(
                        previous[j] + 1,               # deletion
                        current[j - 1] + 1,            # insertion
                        previous[j - 1] + (ca != cb),  # substitution
                    ))
                previous = current
            return previous[-1]
    ''')
    calls = [f"edit_distance({a!r}, {b!r})" for a, b in r.sample(pairs, 2)]
    q = ask(r, "compute the Levenshtein (edit) distance between two strings", "edit_distance")
    return q, py_reply(r, src, calls, "Only the previous row of the DP table is kept, so memory is O(len(b)).")


@template("dp")
def t_lis(r):
    src = code(r'''
        from bisect import bisect_left


        def lis_length(nums):
            tails = []
            for n in nums:
                i = bisect_left(tails, n)
                if i == len(tails):
                    tails.append(n)
                else:
                    tails[i] = n
            return len(tails)
    ''')
    q = ask(r, "find the length of the longest strictly increasing subsequence in O(n log n)", "lis_length")
    return q, py_reply(r, src, [f"lis_length({ints(r, 10, 0, 30)!r})"], "tails[k] holds the smallest possible tail of an increasing subsequence of length k + 1; binary search finds where each number goes.")


@template("dp")
def t_kadane(r):
    src = code(r'''
        def max_subarray(nums):
            best = current = nums[0]
            for n in nums[1:]:
                current = max(n, current + n)
                best = max(best, current)
            return best
    ''')
    q = ask(r, "find the maximum sum of a contiguous subarray", "max_subarray",
            extras=["The list may be all negative."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, [f"max_subarray({ints(r, 9, -10, 10)!r})", "max_subarray([-3, -1, -2])"],
                       "Kadane's algorithm: either extend the current run or start fresh at this element.", "O(n) time, O(1) space.")


@template("dp")
def t_stairs(r):
    k = r.choice([2, 3])
    src = code(r'''
        def climb_ways(n, max_step={{k}}):
            ways = [1] + [0] * n
            for i in range(1, n + 1):
                ways[i] = sum(ways[i - s] for s in range(1, max_step + 1) if s <= i)
            return ways[n]
    ''', k=k)
    steps = "1 or 2" if k == 2 else "1, 2 or 3"
    q = ask(r, f"count the ways to climb n stairs taking {steps} steps at a time", "climb_ways")
    return q, py_reply(r, src, [f"[climb_ways(n) for n in range(1, 9)]"], "The number of ways to reach step i is the sum of the ways to reach the steps you could have come from.")


@template("recursion")
def t_factorial(r):
    name = r.choice(["factorial", "fact"])
    src = code(r'''
        def {{name}}(n):
            if n < 0:
                raise ValueError("factorial is not defined for negative numbers")
            if n <= 1:
                return 1
            return n * {{name}}(n - 1)
    ''', name=name)
    q = ask(r, "compute a factorial recursively", name)
    return q, py_reply(r, src, [f"{name}({r.randint(5, 12)})", f"{name}(0)"], "The base case stops the recursion at 0 and 1.",
                       "Python's default recursion limit is about 1000, so use `math.factorial` for large n.")


@template("recursion")
def t_permutations(r):
    src = code(r'''
        def permutations(items):
            if len(items) <= 1:
                return [list(items)]
            result = []
            for i, item in enumerate(items):
                rest = items[:i] + items[i + 1:]
                for perm in permutations(rest):
                    result.append([item] + perm)
            return result
    ''')
    data = r.choice([[1, 2, 3], ["a", "b", "c"], ["x", "y"]])
    q = ask(r, "generate all permutations of a list recursively, without itertools", "permutations")
    return q, py_reply(r, src, [f"permutations({data!r})"], "Pick each element as the first one, then recursively permute the rest.",
                       "There are n! permutations, so this is only practical for small lists.")


@template("recursion")
def t_power_set(r):
    src = code(r'''
        def subsets(items):
            if not items:
                return [[]]
            rest = subsets(items[1:])
            return rest + [[items[0]] + subset for subset in rest]
    ''')
    data = r.choice([[1, 2, 3], ["a", "b", "c"], ["x", "y"]])
    q = ask(r, "generate all subsets (the power set) of a list using recursion", "subsets")
    return q, py_reply(r, src, [f"subsets({data!r})"], "Every subset either leaves out the first element or includes it, which gives the recursion directly.")


@template("recursion")
def t_hanoi(r):
    n = r.randint(2, 3)
    src = code(r'''
        def hanoi(n, source="A", target="C", spare="B", moves=None):
            if moves is None:
                moves = []
            if n > 0:
                hanoi(n - 1, source, spare, target, moves)
                moves.append((source, target))
                hanoi(n - 1, spare, target, source, moves)
            return moves
    ''')
    q = ask(r, "solve the Tower of Hanoi recursively and list the moves", "hanoi")
    return q, py_reply(r, src, [f"hanoi({n})", "len(hanoi(10))"], "Move n - 1 disks out of the way, move the largest, then move the n - 1 disks on top of it: 2^n - 1 moves in total.")


@template("recursion")
def t_nested_sum(r):
    if r.random() < 0.5:
        src = code(r'''
            def nested_sum(data):
                if isinstance(data, (int, float)):
                    return data
                return sum(nested_sum(item) for item in data)
        ''')
        fn = "nested_sum"
        q = ask(r, "sum all numbers in an arbitrarily nested list", fn)
    else:
        src = code(r'''
            def depth(data):
                if not isinstance(data, list):
                    return 0
                return 1 + max((depth(item) for item in data), default=0)
        ''')
        fn = "depth"
        q = ask(r, "compute how deeply a list is nested", fn)
    data = r.choice([[1, [2, 3], [[4]], 5], [[1, 2], [3, [4, [5, 6]]]], [10, [20, [30]], []]])
    return q, py_reply(r, src, [f"{fn}({data!r})"], "Numbers are the base case; lists recurse into their items.")


@template("recursion")
def t_tree(r):
    src = code(r'''
        class TreeNode:
            def __init__(self, value, left=None, right=None):
                self.value = value
                self.left = left
                self.right = right


        def max_depth(node):
            if node is None:
                return 0
            return 1 + max(max_depth(node.left), max_depth(node.right))


        def in_order(node):
            if node is None:
                return []
            return in_order(node.left) + [node.value] + in_order(node.right)


        def insert(node, value):
            if node is None:
                return TreeNode(value)
            if value < node.value:
                node.left = insert(node.left, value)
            else:
                node.right = insert(node.right, value)
            return node
    ''')
    vals = r.sample(range(1, 50), 7)
    calls = ["root = None", f"for v in {vals!r}:\n    root = insert(root, v)", "in_order(root)", "max_depth(root)"]
    q = r.choice([
        "Write recursive functions for a binary search tree in Python: insert, in-order traversal and maximum depth.",
        "How do I compute the height of a binary tree recursively? Include a small BST to test it.",
    ])
    return q, py_reply(r, src, calls, "Each function handles the empty tree (`None`) as its base case and recurses into both children; in-order traversal of a BST yields the values sorted.")


@template("recursion")
def t_memo_fib(r):
    src = code(r'''
        from functools import lru_cache


        @lru_cache(maxsize=None)
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
    ''')
    q = r.choice([
        "My recursive Fibonacci function is really slow for n = 35. How do I speed it up without rewriting it as a loop?",
        "How do I memoize a recursive function in Python?",
    ])
    return q, py_reply(r, src, [f"fib({r.randint(30, 80)})", "fib.cache_info().currsize > 0"],
                       "`lru_cache` stores every result, so each `fib(k)` is computed once and the exponential recursion becomes linear.")


@template("recursion")
def t_dir_size(r):
    src = code(r'''
        import os


        def dir_size(path):
            total = 0
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        continue
                    if entry.is_file():
                        total += entry.stat().st_size
                    elif entry.is_dir():
                        total += dir_size(entry.path)
            return total


        def human(n):
            for unit in ["B", "KB", "MB", "GB"]:
                if n < 1024:
                    return f"{n:.1f} {unit}"
                n /= 1024
            return f"{n:.1f} TB"
    ''')
    q = r.choice([
        "How do I compute the total size of a directory recursively in Python?",
        "Write a recursive Python function that adds up the sizes of all files under a folder, and a helper to print it human-readably.",
    ])
    return q, reply(r, src, "python", "`os.scandir` is faster than `os.listdir` because the directory entries carry cached type information. Symlinks are skipped to avoid cycles.",
                    "print(human(dir_size(\"/var/log\")))\n# 48.3 MB")


# --------------------------------------------------------------------------------------------
# Clean templates: SQL
# --------------------------------------------------------------------------------------------

SQL_SCHEMAS = [
    # (people table, person label, orders table, amount column, date column)
    ("customers", "customer", "orders", "amount", "created_at"),
    ("clients", "client", "invoices", "total", "issued_on"),
    ("users", "user", "purchases", "price", "purchased_at"),
]


def sql_ask(r, what, tables):
    return r.choice([
        f"Write a SQL query to {what}.",
        f"How do I {what} in SQL?",
        f"SQL question: I have {tables}. I need to {what}.",
        f"Given the tables {tables}, {what}. Which query should I use?",
        f"Can you help with a query? {cap(what)}. Tables: {tables}.",
    ])


@template("sql")
def t_sql_top_customers(r):
    people, label, orders, amount, _ = r.choice(SQL_SCHEMAS)
    n = r.choice([3, 5, 10])
    src = code(r'''
        SELECT p.id,
               p.name,
               SUM(o.{{amount}}) AS total_spent,
               COUNT(*) AS order_count
        FROM {{people}} AS p
        JOIN {{orders}} AS o ON o.{{label}}_id = p.id
        GROUP BY p.id, p.name
        ORDER BY total_spent DESC
        LIMIT {{n}};
    ''', amount=amount, people=people, orders=orders, label=label, n=n)
    tables = f"`{people}(id, name)` and `{orders}(id, {label}_id, {amount})`"
    q = sql_ask(r, f"find the top {n} {label}s by total {amount}", tables)
    return q, reply(r, src, "sql", f"Join each {label} to their {orders}, aggregate per {label}, and keep the {n} largest totals.",
                    note="Use `LEFT JOIN` and `COALESCE(SUM(...), 0)` if you also want people with no orders. On SQL Server, use `SELECT TOP " + str(n) + "` instead of `LIMIT`.")


@template("sql")
def t_sql_second_salary(r):
    if r.random() < 0.5:
        src = code(r'''
            SELECT MAX(salary) AS second_highest_salary
            FROM employees
            WHERE salary < (SELECT MAX(salary) FROM employees);
        ''')
        expl = "The subquery finds the top salary; the outer query takes the largest salary below it. It returns NULL when there is no second value."
    else:
        src = code(r'''
            SELECT DISTINCT salary
            FROM employees
            ORDER BY salary DESC
            LIMIT 1 OFFSET 1;
        ''')
        expl = "`DISTINCT` makes ties at the top count once; `OFFSET 1` skips the highest salary."
    q = sql_ask(r, "get the second highest salary", "`employees(id, name, salary)`")
    return q, reply(r, src, "sql", expl, note="For the n-th highest in general, `DENSE_RANK() OVER (ORDER BY salary DESC)` is the cleanest option.")


@template("sql")
def t_sql_duplicates(r):
    table, col = r.choice([("users", "email"), ("contacts", "phone"), ("products", "sku")])
    src = code(r'''
        SELECT {{col}}, COUNT(*) AS occurrences
        FROM {{table}}
        GROUP BY {{col}}
        HAVING COUNT(*) > 1
        ORDER BY occurrences DESC;
    ''', col=col, table=table)
    q = sql_ask(r, f"find duplicate {col} values in the {table} table", f"`{table}(id, {col}, ...)`")
    a = reply(r, src, "sql", "`HAVING` filters groups after aggregation, which `WHERE` cannot do.")
    if r.random() < 0.6:
        a += "\n\nTo see the full duplicate rows:\n\n```sql\n" + code(r'''
            SELECT *
            FROM {{table}}
            WHERE {{col}} IN (
                SELECT {{col}} FROM {{table}} GROUP BY {{col}} HAVING COUNT(*) > 1
            )
            ORDER BY {{col}}, id;
        ''', col=col, table=table) + "\n```"
    return q, a


@template("sql")
def t_sql_above_avg(r):
    cte = r.random() < 0.5
    if cte:
        src = code(r'''
            WITH dept_avg AS (
                SELECT department_id, AVG(salary) AS avg_salary
                FROM employees
                GROUP BY department_id
            )
            SELECT e.name, e.salary, d.name AS department, ROUND(a.avg_salary, 2) AS department_avg
            FROM employees AS e
            JOIN dept_avg AS a ON a.department_id = e.department_id
            JOIN departments AS d ON d.id = e.department_id
            WHERE e.salary > a.avg_salary
            ORDER BY d.name, e.salary DESC;
        ''')
        expl = "The CTE computes each department's average once; the main query joins it back and filters."
    else:
        src = code(r'''
            SELECT e.name, e.salary
            FROM employees AS e
            WHERE e.salary > (
                SELECT AVG(e2.salary)
                FROM employees AS e2
                WHERE e2.department_id = e.department_id
            );
        ''')
        expl = "The correlated subquery computes the average of the current employee's own department."
    q = sql_ask(r, "list employees who earn more than the average salary of their department",
                "`employees(id, name, department_id, salary)` and `departments(id, name)`")
    return q, reply(r, src, "sql", expl)


@template("sql")
def t_sql_monthly(r):
    _, label, orders, amount, date_col = r.choice(SQL_SCHEMAS)
    dialect = r.choice(["PostgreSQL", "SQLite", "MySQL"])
    month_expr = {
        "PostgreSQL": f"date_trunc('month', {date_col})",
        "SQLite": f"strftime('%Y-%m', {date_col})",
        "MySQL": f"DATE_FORMAT({date_col}, '%Y-%m')",
    }[dialect]
    year = r.choice([2023, 2024, 2025])
    src = code(r'''
        SELECT {{month}} AS month,
               COUNT(*) AS {{orders}}_count,
               SUM({{amount}}) AS revenue
        FROM {{orders}}
        WHERE {{date_col}} >= '{{year}}-01-01' AND {{date_col}} < '{{next}}-01-01'
        GROUP BY 1
        ORDER BY 1;
    ''', month=month_expr, orders=orders, amount=amount, date_col=date_col, year=year, next=year + 1)
    q = sql_ask(r, f"count {orders} and total {amount} per month for {year} ({dialect})",
                f"`{orders}(id, {label}_id, {amount}, {date_col})`")
    return q, reply(r, src, "sql", f"`{month_expr}` buckets each row by month. The half-open date range keeps the filter index-friendly.",
                    note="`GROUP BY 1` refers to the first selected column; spell the expression out if your team prefers.")


@template("sql")
def t_sql_create_table(r):
    table = r.choice(["books", "employees", "tickets"])
    cols = {
        "books": "    title       TEXT NOT NULL,\n    author      TEXT NOT NULL,\n    isbn        CHAR(13) UNIQUE,\n    price       NUMERIC(8, 2) CHECK (price >= 0),\n    published   DATE,",
        "employees": "    name        TEXT NOT NULL,\n    email       TEXT NOT NULL UNIQUE,\n    salary      NUMERIC(10, 2) CHECK (salary > 0),\n    manager_id  INTEGER REFERENCES employees (id),\n    hired_on    DATE NOT NULL DEFAULT CURRENT_DATE,",
        "tickets": "    title       TEXT NOT NULL,\n    status      TEXT NOT NULL DEFAULT 'open'\n                CHECK (status IN ('open', 'in_progress', 'closed')),\n    priority    SMALLINT NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),\n    assignee_id INTEGER,",
    }[table]
    src = f"CREATE TABLE {table} (\n    id          SERIAL PRIMARY KEY,\n{cols}\n    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()\n);"
    q = r.choice([
        f"Write a PostgreSQL CREATE TABLE statement for a {table} table with sensible constraints.",
        f"How should I define a {table} table in Postgres? I want primary key, not-null and check constraints.",
    ])
    return q, reply(r, src, "sql", "Constraints in the schema keep bad data out no matter which application writes to the table.",
                    note="On PostgreSQL 10+ you can write `id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY` instead of `SERIAL`.")


@template("sql")
def t_sql_no_orders(r):
    people, label, orders, _, _ = r.choice(SQL_SCHEMAS)
    if r.random() < 0.5:
        src = code(r'''
            SELECT p.id, p.name
            FROM {{people}} AS p
            LEFT JOIN {{orders}} AS o ON o.{{label}}_id = p.id
            WHERE o.id IS NULL;
        ''', people=people, orders=orders, label=label)
        expl = "The LEFT JOIN keeps every row of the left table; rows without a match have NULLs on the right side."
    else:
        src = code(r'''
            SELECT p.id, p.name
            FROM {{people}} AS p
            WHERE NOT EXISTS (
                SELECT 1 FROM {{orders}} AS o WHERE o.{{label}}_id = p.id
            );
        ''', people=people, orders=orders, label=label)
        expl = "`NOT EXISTS` reads naturally and, unlike `NOT IN`, behaves correctly when the subquery can return NULLs."
    q = sql_ask(r, f"find {people} who have never placed any {orders}", f"`{people}(id, name)` and `{orders}(id, {label}_id)`")
    return q, reply(r, src, "sql", expl)


@template("sql")
def t_sql_window(r):
    if r.random() < 0.5:
        _, label, orders, amount, date_col = r.choice(SQL_SCHEMAS)
        src = code(r'''
            SELECT {{label}}_id,
                   {{date_col}},
                   {{amount}},
                   SUM({{amount}}) OVER (
                       PARTITION BY {{label}}_id
                       ORDER BY {{date_col}}
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                   ) AS running_total
            FROM {{orders}}
            ORDER BY {{label}}_id, {{date_col}};
        ''', label=label, date_col=date_col, amount=amount, orders=orders)
        q = sql_ask(r, f"compute a running total of {amount} per {label} ordered by date", f"`{orders}(id, {label}_id, {amount}, {date_col})`")
        expl = "A window function adds the running total to every row without collapsing rows the way GROUP BY would."
    else:
        fn = r.choice(["ROW_NUMBER", "RANK", "DENSE_RANK"])
        n = r.choice([2, 3])
        src = code(r'''
            SELECT name, department_id, salary
            FROM (
                SELECT name,
                       department_id,
                       salary,
                       {{fn}}() OVER (PARTITION BY department_id ORDER BY salary DESC) AS rnk
                FROM employees
            ) AS ranked
            WHERE rnk <= {{n}}
            ORDER BY department_id, rnk;
        ''', fn=fn, n=n)
        q = sql_ask(r, f"get the top {n} earners in each department", "`employees(id, name, department_id, salary)`")
        expl = {"ROW_NUMBER": "`ROW_NUMBER` gives exactly n rows per department, breaking ties arbitrarily.",
                "RANK": "`RANK` keeps ties, so a department can return more than n rows, and it leaves gaps after ties.",
                "DENSE_RANK": "`DENSE_RANK` keeps ties and does not skip ranks, so it returns the top n distinct salaries."}[fn]
        expl = "Window functions can't be used in WHERE directly, hence the subquery. " + expl
    return q, reply(r, src, "sql", expl)


@template("sql")
def t_sql_update_delete(r):
    if r.random() < 0.5:
        pct = r.choice([5, 10, 15])
        cat = r.choice(["books", "toys", "garden", "electronics"])
        src = code(r'''
            BEGIN;

            UPDATE products
            SET price = ROUND(price * {{factor}}, 2)
            WHERE category = '{{cat}}';

            -- check the result before making it permanent
            SELECT id, name, price FROM products WHERE category = '{{cat}}';

            COMMIT;
        ''', factor=f"{1 + pct / 100:.2f}", cat=cat)
        q = sql_ask(r, f"raise the price of every product in the '{cat}' category by {pct}%", "`products(id, name, category, price)`")
        expl = "Wrapping the update in a transaction lets you inspect the result and `ROLLBACK` if something looks wrong."
    else:
        days = r.choice([30, 90, 365])
        src = code(r'''
            DELETE FROM sessions
            WHERE last_seen < CURRENT_TIMESTAMP - INTERVAL '{{days}} days';
        ''', days=days)
        q = sql_ask(r, f"delete sessions that haven't been seen for {days} days (PostgreSQL)", "`sessions(id, user_id, last_seen)`")
        expl = "Run the same WHERE clause as a `SELECT COUNT(*)` first to see how many rows will go."
    return q, reply(r, src, "sql", expl)


@template("sql")
def t_sql_python(r):
    table = r.choice(["users", "books", "notes"])
    src = code(r'''
        import sqlite3


        def find_by_name(db_path, name):
            with sqlite3.connect(db_path) as conn:
                conn.row_factory = sqlite3.Row
                rows = conn.execute(
                    "SELECT * FROM {{table}} WHERE name = ? ORDER BY id",
                    (name,),
                ).fetchall()
            return [dict(row) for row in rows]
    ''', table=table)
    q = r.choice([
        f"How do I safely run a SELECT with a user-supplied value using sqlite3 in Python? Table is {table}.",
        "How do I avoid SQL injection when querying SQLite from Python?",
    ])
    return q, reply(r, src, "python", "The `?` placeholder sends the value separately from the SQL text, so it can never change the query's structure. Never build SQL with f-strings or `%`.",
                    note="`sqlite3.Row` lets you access columns by name; `dict(row)` converts each row for JSON output.")


SQL_SNIPPETS = [
    ("How do I count distinct values of a column in SQL?", "```sql\nSELECT COUNT(DISTINCT country) FROM customers;\n```"),
    ("How do I replace NULL with 0 in a SQL SELECT?", "Use `COALESCE`:\n\n```sql\nSELECT name, COALESCE(discount, 0) AS discount FROM orders;\n```"),
    ("How do I do an if/else inside a SQL query?",
     "Use a `CASE` expression:\n\n```sql\nSELECT name,\n       CASE\n           WHEN score >= 90 THEN 'A'\n           WHEN score >= 75 THEN 'B'\n           ELSE 'C'\n       END AS grade\nFROM results;\n```"),
    ("How do I select rows where a column matches one of several values?", "```sql\nSELECT * FROM orders WHERE status IN ('shipped', 'delivered');\n```"),
    ("What's the SQL to get the 10 most recent rows?", "```sql\nSELECT * FROM events ORDER BY created_at DESC LIMIT 10;\n```"),
    ("How do I search for rows where a text column contains a word in SQL?",
     "```sql\nSELECT * FROM articles WHERE title LIKE '%python%';\n```\n\nOn PostgreSQL use `ILIKE` for a case-insensitive match. A leading `%` prevents normal indexes from being used."),
]


@template("sql", weight=2)
def t_sql_snippet(r):
    return r.choice(SQL_SNIPPETS)


# --------------------------------------------------------------------------------------------
# Clean templates: shell
# --------------------------------------------------------------------------------------------


def shell_snippets(r):
    ext = r.choice(["py", "js", "go", "md", "txt", "csv"])
    days = r.choice([7, 14, 30, 90])
    size = r.choice([50, 100, 500])
    port = r.choice([3000, 5432, 8000, 8080])
    word = r.choice(["TODO", "FIXME", "password", "deprecated"])
    old, new = r.choice([("http://", "https://"), ("foo", "bar"), ("v1/api", "v2/api")])
    col = r.randint(2, 5)
    n = r.choice([5, 10, 20])
    return [
        ([f"How do I count the total number of lines in all .{ext} files in a directory tree?",
          f"bash one-liner to count lines of code in .{ext} files recursively"],
         f"```bash\nfind . -name '*.{ext}' -type f -print0 | xargs -0 cat | wc -l\n```\n\n`-print0`/`-0` keep file names with spaces intact."),
        ([f"How do I find files bigger than {size} MB on Linux?"],
         f"```bash\nfind / -type f -size +{size}M -exec ls -lh {{}} + 2>/dev/null\n```\n\n`2>/dev/null` hides the permission-denied noise from directories you can't read."),
        ([f"How do I search recursively for '{word}' in all .{ext} files and show line numbers?"],
         f"`grep -rn --include='*.{ext}' '{word}' .`"),
        ([f"How do I replace '{old}' with '{new}' in a file using sed?"],
         f"```bash\nsed -i 's|{old}|{new}|g' file.txt\n```\n\nUsing `|` as the delimiter avoids escaping slashes. On macOS, BSD sed needs an explicit backup suffix: `sed -i '' 's|{old}|{new}|g' file.txt`."),
        ([f"How do I delete log files older than {days} days?", f"Shell command to remove *.log files not modified in the last {days} days"],
         f"```bash\nfind /var/log/myapp -type f -name '*.log' -mtime +{days} -print -delete\n```\n\nRun it once without `-delete` first to check what would be removed."),
        ([f"How do I see which directories use the most disk space?"],
         f"```bash\ndu -sh -- */ 2>/dev/null | sort -rh | head -n {n}\n```"),
        ([f"How do I find which process is listening on port {port}?"],
         f"`sudo lsof -iTCP:{port} -sTCP:LISTEN` or, with iproute2, `sudo ss -ltnp 'sport = :{port}'`."),
        ([f"How do I count requests per IP in an access log with awk?", "Top client IPs from an nginx log, one-liner please"],
         f"```bash\nawk '{{print $1}}' access.log | sort | uniq -c | sort -rn | head -n {n}\n```\n\n`uniq -c` only merges adjacent lines, which is why the first `sort` is needed."),
        ([f"How do I rename all .txt files in a folder to .{ext if ext != 'txt' else 'md'}?"],
         f"```bash\nfor f in *.txt; do\n  mv -- \"$f\" \"${{f%.txt}}.{ext if ext != 'txt' else 'md'}\"\ndone\n```\n\n`${{f%.txt}}` strips the shortest matching suffix."),
        ([f"How do I create and extract a .tar.gz archive?"],
         "```bash\ntar -czf project.tar.gz project/      # create\ntar -xzf project.tar.gz -C /tmp/out   # extract into /tmp/out\n```"),
        ([f"How do I follow a log file and only show lines containing ERROR?"],
         "`tail -F app.log | grep --line-buffered ERROR`\n\n`-F` keeps following across log rotation; `--line-buffered` stops grep from holding output back."),
        ([f"How do I sum column {col} of a CSV file from the command line?"],
         f"```bash\nawk -F, 'NR > 1 {{ sum += ${col} }} END {{ print sum }}' data.csv\n```\n\n`NR > 1` skips the header. This simple split breaks on quoted fields containing commas."),
        ([f"How do I loop over the lines of a file in bash?"],
         "```bash\nwhile IFS= read -r line; do\n  printf '%s\\n' \"$line\"\ndone < input.txt\n```\n\n`IFS=` keeps leading spaces and `-r` keeps backslashes."),
        ([f"How do I give a bash variable a default value if it's unset?"],
         "`port=\"${PORT:-8080}\"` uses `$PORT` when set and non-empty, otherwise 8080."),
        ([f"How do I check if a file exists in a bash script?"],
         "```bash\nif [[ -f config.yml ]]; then\n  echo \"found\"\nelse\n  echo \"missing\" >&2\n  exit 1\nfi\n```\n\nUse `-d` for directories and `-e` for anything."),
        ([f"How do I see which files changed in the last {n} commits with git?", f"git: show which files changed in the last {n} commits"],
         f"`git log -n {n} --stat --oneline`"),
    ]


@template("shell", weight=5)
def t_shell_snippet(r):
    qs, a = r.choice(shell_snippets(r))
    return r.choice(qs), a


@template("shell")
def t_backup_script(r):
    keep = r.choice([5, 7, 14])
    src = code(r'''
        #!/usr/bin/env bash
        # Back up a directory into a timestamped .tar.gz and keep only the newest N archives.
        set -euo pipefail

        usage() {
          echo "usage: $0 SOURCE_DIR BACKUP_DIR [KEEP]" >&2
          exit 2
        }

        [[ $# -lt 2 ]] && usage

        src="$1"
        dest="$2"
        keep="${3:-{{keep}}}"

        if [[ ! -d "$src" ]]; then
          echo "error: source '$src' is not a directory" >&2
          exit 1
        fi
        if ! [[ "$keep" =~ ^[0-9]+$ ]] || (( keep < 1 )); then
          echo "error: KEEP must be a positive integer" >&2
          exit 1
        fi

        mkdir -p "$dest"
        name="$(basename "$src")"
        stamp="$(date +%Y%m%d-%H%M%S)"
        archive="$dest/${name}-${stamp}.tar.gz"
        tmp="$archive.partial"

        # remove a half-written archive if anything fails
        trap 'rm -f "$tmp"' ERR

        tar -czf "$tmp" -C "$(dirname "$src")" "$name"
        mv "$tmp" "$archive"
        echo "created $archive ($(du -h "$archive" | cut -f1))"

        # rotation: list archives newest first, delete everything after the first $keep
        mapfile -t old < <(ls -1t "$dest/${name}"-*.tar.gz | tail -n +"$((keep + 1))")
        for file in "${old[@]}"; do
          rm -f -- "$file"
          echo "removed $file"
        done
    ''', keep=keep)
    q = r.choice([
        f"I need a bash script to back up a folder to a timestamped tar.gz and keep only the last {keep} backups.",
        "Write a shell script that archives a directory with the date in the file name and deletes old archives.",
        "How do I write a safe backup script in bash with rotation?",
    ])
    usage = f"$ ./backup.sh ~/projects/site /mnt/backups\ncreated /mnt/backups/site-20250301-020000.tar.gz (14M)\n$ crontab -e\n0 2 * * * /usr/local/bin/backup.sh /srv/site /mnt/backups {keep}"
    return q, reply(r, src, "bash", "`set -euo pipefail` stops on the first error, unset variable or failed pipe stage. The archive is written under a temporary name and renamed only when complete, so a crash never leaves a truncated backup that rotation would keep.",
                    usage, "`mapfile` needs bash 4+. The `ls` based rotation assumes archive names without newlines, which holds for the names this script creates.",
                    example_lang="bash", p_example=0.8, p_note=0.8)


@template("shell")
def t_hosts_check(r):
    src = code(r'''
        #!/usr/bin/env bash
        # Check which hosts from a file answer to ping.
        hosts_file="${1:-hosts.txt}"
        up=0
        down=0

        while IFS= read -r host; do
          [[ -z "$host" || "$host" == \#* ]] && continue
          if ping -c 1 -W 2 "$host" > /dev/null 2>&1; then
            echo "UP    $host"
            up=$((up + 1))
          else
            echo "DOWN  $host"
            down=$((down + 1))
          fi
        done < "$hosts_file"

        echo "$up up, $down down"
        [[ $down -eq 0 ]]
    ''')
    q = r.choice([
        "Write a bash script that reads hostnames from a file and reports which ones respond to ping.",
        "How do I check a list of servers are up with a shell script?",
    ])
    return q, reply(r, src, "bash", "Blank lines and lines starting with # are skipped. The last line makes the script exit non-zero if any host is down, which is handy in cron or CI.",
                    note="`-W` is the timeout in seconds on Linux (iputils); macOS's ping uses milliseconds for `-W`.")


@template("shell")
def t_retry(r):
    n = r.choice([3, 5])
    src = code(r'''
        retry() {
          local attempts=$1
          shift
          local delay=1
          local i
          for ((i = 1; i <= attempts; i++)); do
            if "$@"; then
              return 0
            fi
            if ((i < attempts)); then
              echo "attempt $i/$attempts failed, retrying in ${delay}s..." >&2
              sleep "$delay"
              delay=$((delay * 2))
            fi
          done
          echo "command failed after $attempts attempts: $*" >&2
          return 1
        }

        retry {{n}} curl -fsS https://example.com/health
    ''', n=n)
    q = r.choice([
        f"How do I retry a command up to {n} times with exponential backoff in bash?",
        "Write a bash function that retries a flaky command with increasing delays.",
    ])
    return q, reply(r, src, "bash", "`\"$@\"` runs the remaining arguments as the command, preserving quoting; the delay doubles after each failure.")


@template("shell")
def t_getopts(r):
    src = code(r'''
        #!/usr/bin/env bash
        set -euo pipefail

        verbose=0
        output="out.txt"
        count=1

        usage() {
          echo "usage: $0 [-v] [-o FILE] [-n COUNT] INPUT" >&2
          exit 2
        }

        while getopts ":vo:n:h" opt; do
          case "$opt" in
            v) verbose=1 ;;
            o) output="$OPTARG" ;;
            n) count="$OPTARG" ;;
            h) usage ;;
            :) echo "option -$OPTARG needs a value" >&2; usage ;;
            \?) echo "unknown option -$OPTARG" >&2; usage ;;
          esac
        done
        shift $((OPTIND - 1))

        [[ $# -eq 1 ]] || usage
        input="$1"

        if ((verbose)); then
          echo "input=$input output=$output count=$count" >&2
        fi
        for ((i = 0; i < count; i++)); do
          cat -- "$input"
        done > "$output"
    ''')
    q = r.choice([
        "How do I parse command-line flags in a bash script?",
        "Show me a bash script skeleton using getopts with -v, -o FILE and -n COUNT options.",
    ])
    return q, reply(r, src, "bash", "The leading `:` in the optstring enables silent error handling, so the script prints its own messages for missing values (`:`) and unknown flags (`?`). `shift $((OPTIND - 1))` leaves only the positional arguments.",
                    note="`getopts` only supports short options; for `--long` options use `getopt` from util-linux or switch to Python's argparse.")


# --------------------------------------------------------------------------------------------
# Clean templates: regular expressions
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Clean templates: JavaScript
# --------------------------------------------------------------------------------------------


def js_ask(r, do, name=None, extras=()):
    return ask(r, do, name, lang=r.choice(["JavaScript", "JavaScript", "JS", "Node.js"]), extras=extras)


@template("javascript")
def t_js_debounce(r):
    ms = r.choice([200, 300, 500])
    src = code(r'''
        function debounce(fn, wait = {{ms}}) {
          let timer = null;
          return function debounced(...args) {
            clearTimeout(timer);
            timer = setTimeout(() => {
              timer = null;
              fn.apply(this, args);
            }, wait);
          };
        }

        // usage: only search once the user stops typing
        const input = document.querySelector("#search");
        input.addEventListener("input", debounce((event) => {
          console.log("searching for", event.target.value);
        }, {{ms}}));
    ''', ms=ms)
    q = js_ask(r, f"debounce a function so it only runs after {ms} ms without new calls", "debounce")
    return q, reply(r, src, "javascript", "Every call cancels the pending timer and starts a new one, so `fn` runs once the calls stop for `wait` ms. `apply(this, args)` forwards the original `this` and arguments.")


@template("javascript")
def t_js_throttle(r):
    ms = r.choice([100, 250, 1000])
    src = code(r'''
        function throttle(fn, interval = {{ms}}) {
          let last = 0;
          return function throttled(...args) {
            const now = Date.now();
            if (now - last >= interval) {
              last = now;
              return fn.apply(this, args);
            }
          };
        }

        window.addEventListener("scroll", throttle(() => {
          console.log("scroll position", window.scrollY);
        }));
    ''', ms=ms)
    q = js_ask(r, f"throttle a scroll handler so it runs at most once every {ms} ms", "throttle")
    return q, reply(r, src, "javascript", "Unlike debounce, throttle runs immediately and then ignores calls until the interval has passed.")


@template("javascript")
def t_js_deep_equal(r):
    src = code(r'''
        function deepEqual(a, b) {
          if (Object.is(a, b)) return true;
          if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
            return false;
          }
          if (Array.isArray(a) !== Array.isArray(b)) return false;
          const keysA = Object.keys(a);
          const keysB = Object.keys(b);
          if (keysA.length !== keysB.length) return false;
          return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(a[key], b[key]));
        }

        console.log(deepEqual({ a: 1, b: [1, 2, { c: 3 }] }, { b: [1, 2, { c: 3 }], a: 1 })); // true
        console.log(deepEqual([1, 2], { 0: 1, 1: 2 })); // false
        console.log(deepEqual(NaN, NaN)); // true
    ''')
    q = js_ask(r, "compare two objects deeply for equality", "deepEqual",
               extras=["Key order shouldn't matter."] if r.random() < 0.5 else [])
    return q, reply(r, src, "javascript", "`Object.is` handles the primitive cases (including NaN); objects and arrays are compared key by key recursively.",
                    note="This doesn't handle Maps, Sets, Dates or cyclic references; for those, use a library such as lodash's `isEqual`.")


@template("javascript")
def t_js_deep_clone(r):
    src = code(r'''
        const original = {
          name: "{{name}}",
          tags: ["a", "b"],
          created: new Date("2025-01-01T00:00:00Z"),
          settings: { theme: "dark" },
        };

        const copy = structuredClone(original);
        copy.settings.theme = "light";
        copy.tags.push("c");

        console.log(original.settings.theme); // "dark"
        console.log(original.tags.length);    // 2
        console.log(copy.created instanceof Date); // true
    ''', name=r.choice(NAMES))
    q = r.choice([
        "How do I deep clone an object in JavaScript?",
        "What's the modern way to make a deep copy of a nested object in JS? JSON.parse(JSON.stringify()) breaks my dates.",
    ])
    return q, reply(r, src, "javascript", "`structuredClone` (browsers and Node 17+) copies nested objects, arrays, Dates, Maps and Sets, and handles cycles. It can't clone functions or DOM nodes.")


@template("javascript")
def t_js_fetch(r):
    endpoint = r.choice(["/api/users", "/api/orders?limit=20", "https://api.example.com/items"])
    ms = r.choice([5000, 8000, 10000])
    src = code(r'''
        async function fetchJson(url, { timeout = {{ms}}, ...options } = {}) {
          const controller = new AbortController();
          const timer = setTimeout(() => controller.abort(), timeout);
          try {
            const response = await fetch(url, { ...options, signal: controller.signal });
            if (!response.ok) {
              throw new Error(`HTTP ${response.status} ${response.statusText} for ${url}`);
            }
            return await response.json();
          } finally {
            clearTimeout(timer);
          }
        }

        async function main() {
          try {
            const data = await fetchJson("{{endpoint}}");
            console.log(data);
          } catch (err) {
            if (err.name === "AbortError") {
              console.error("request timed out");
            } else {
              console.error("request failed:", err.message);
            }
          }
        }

        main();
    ''', ms=ms, endpoint=endpoint)
    q = js_ask(r, "fetch JSON from an API with async/await, proper error handling and a timeout", "fetchJson")
    return q, reply(r, src, "javascript", "`fetch` only rejects on network errors, so `response.ok` has to be checked for 4xx/5xx. The `AbortController` cancels the request when the timeout fires, and `finally` always clears the timer.")


@template("javascript")
def t_js_group_by(r):
    key = r.choice(["role", "team", "city"])
    vals = {"role": ["admin", "editor", "viewer"], "team": ["red", "blue"], "city": CITIES[:3]}[key]
    people = [{"name": n, key: r.choice(vals)} for n in r.sample(NAMES, 4)]
    groups: dict = {}
    for p in people:
        groups.setdefault(p[key], []).append(p["name"])
    people_js = "[\n" + ",\n".join(f'  {{ name: "{p["name"]}", {key}: "{p[key]}" }}' for p in people) + ",\n]"
    src = code(r'''
        function groupBy(items, keyFn) {
          return items.reduce((groups, item) => {
            const key = keyFn(item);
            (groups[key] ??= []).push(item);
            return groups;
          }, {});
        }

        const people = {{people}};

        const byKey = groupBy(people, (p) => p.{{key}});
        for (const [k, members] of Object.entries(byKey)) {
          console.log(k, members.map((p) => p.name));
        }
    ''', people=people_js, key=key)
    out = "\n".join(f"{k} [ " + ", ".join(f"'{n}'" for n in v) + " ]" for k, v in groups.items())
    q = js_ask(r, f"group an array of objects by their '{key}' property", "groupBy")
    return q, reply(r, src, "javascript", "`??=` creates the array the first time a key is seen. Newer runtimes also ship `Object.groupBy(items, keyFn)` which does the same.",
                    out, example_lang="text")


JS_SNIPPETS = [
    ("How do I remove duplicates from an array in JavaScript?", "`const unique = [...new Set(items)];`"),
    ("How do I sum an array of numbers in JS?", "```javascript\nconst total = numbers.reduce((sum, n) => sum + n, 0);\n```\n\nThe `0` initial value makes it work for empty arrays too."),
    ("Why does [10, 9, 1].sort() give [1, 10, 9] in JavaScript?",
     "The default sort compares elements as strings. Pass a comparator for numbers:\n\n```javascript\n[10, 9, 1].sort((a, b) => a - b); // [1, 9, 10]\n```"),
    ("How do I get the last element of an array in JavaScript?", "`arr.at(-1)` (ES2022), or `arr[arr.length - 1]` on older engines."),
    ("How do I pad a number with leading zeros in JS?", "`String(7).padStart(3, \"0\") // \"007\"`"),
    ("How do I check if an array contains a value in JavaScript?", "`items.includes(value)`. Unlike `indexOf`, it also finds `NaN`."),
    ("How do I convert a string to a number in JavaScript?",
     "`Number(\"42\")` converts the whole string (returns `NaN` on junk); `parseInt(\"42px\", 10)` reads a leading integer and ignores the rest."),
    ("How do I loop over an object's keys and values in JS?",
     "```javascript\nfor (const [key, value] of Object.entries(obj)) {\n  console.log(key, value);\n}\n```"),
    ("How do I copy an array in JavaScript without changing the original?", "`const copy = [...original];` (a shallow copy: nested objects are still shared)."),
    ("How do I wait for several promises at once in JavaScript?",
     "```javascript\nconst [user, posts] = await Promise.all([getUser(id), getPosts(id)]);\n```\n\n`Promise.all` rejects as soon as one promise rejects; use `Promise.allSettled` to get every outcome."),
]


@template("javascript", weight=3)
def t_js_snippet(r):
    return r.choice(JS_SNIPPETS)


@template("javascript")
def t_js_dark_mode(r):
    src = code(r'''
        <button id="theme-toggle" type="button">Toggle dark mode</button>

        <script>
          const button = document.getElementById("theme-toggle");
          const saved = localStorage.getItem("theme");
          if (saved === "dark") {
            document.body.classList.add("dark");
          }

          button.addEventListener("click", () => {
            const isDark = document.body.classList.toggle("dark");
            localStorage.setItem("theme", isDark ? "dark" : "light");
          });
        </script>
    ''')
    q = r.choice([
        "How do I make a button that toggles dark mode on a web page and remembers the choice?",
        "Write JavaScript to toggle a 'dark' class on the body when a button is clicked, saved in localStorage.",
    ])
    return q, reply(r, src, "html", "`classList.toggle` returns whether the class is now present, which is exactly what we store in `localStorage` for the next visit.",
                    note="Style it with CSS such as `body.dark { background: #111; color: #eee; }`.")


@template("javascript")
def t_js_promise_pool(r):
    limit = r.choice([2, 3, 4])
    src = code(r'''
        /**
         * Run async tasks with at most `limit` running at the same time.
         * `tasks` is an array of functions that return promises.
         * Resolves to the results in the original order; rejects on the first failure.
         */
        async function runWithLimit(tasks, limit = {{limit}}) {
          if (!Number.isInteger(limit) || limit < 1) {
            throw new RangeError("limit must be a positive integer");
          }
          const results = new Array(tasks.length);
          let next = 0;

          async function worker() {
            while (next < tasks.length) {
              const index = next++;
              results[index] = await tasks[index]();
            }
          }

          const workers = Array.from({ length: Math.min(limit, tasks.length) }, worker);
          await Promise.all(workers);
          return results;
        }

        // --- demo -------------------------------------------------------------
        const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

        let running = 0;
        let peak = 0;

        function makeTask(id, ms) {
          return async () => {
            running++;
            peak = Math.max(peak, running);
            await sleep(ms);
            running--;
            return `task ${id} took ${ms}ms`;
          };
        }

        async function demo() {
          const tasks = [300, 100, 200, 50, 150, 250].map((ms, i) => makeTask(i + 1, ms));
          const started = Date.now();
          const results = await runWithLimit(tasks, {{limit}});
          console.log(results);
          console.log(`peak concurrency: ${peak}`);
          console.log(`total time: ~${Math.round((Date.now() - started) / 50) * 50}ms`);
        }

        demo().catch((err) => {
          console.error(err);
          process.exitCode = 1;
        });
    ''', limit=limit)
    q = r.choice([
        f"How do I run a list of async tasks in JavaScript with at most {limit} running concurrently?",
        "Promise.all starts all my requests at once and the API rate-limits me. How can I limit concurrency without a library?",
        f"Write a promise pool in Node.js: given an array of async functions, run them {limit} at a time and return results in order.",
    ])
    return q, reply(r, src, "javascript", "Each worker pulls the next task index from a shared counter until none are left. JavaScript is single-threaded, so `next++` can't race. Results are stored by index, so the output order matches the input order even though tasks finish out of order.",
                    note="If one task rejects, `Promise.all` rejects immediately, but tasks that already started keep running. Wrap each task in try/catch if you prefer to collect errors instead.")


@template("javascript")
def t_js_event_emitter(r):
    evt = r.choice(["message", "tick", "saved"])
    src = code(r'''
        class Emitter {
          #listeners = new Map();

          on(event, listener) {
            if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
            this.#listeners.get(event).add(listener);
            return () => this.off(event, listener);
          }

          once(event, listener) {
            const off = this.on(event, (...args) => {
              off();
              listener(...args);
            });
            return off;
          }

          off(event, listener) {
            this.#listeners.get(event)?.delete(listener);
          }

          emit(event, ...args) {
            for (const listener of [...(this.#listeners.get(event) ?? [])]) {
              listener(...args);
            }
          }
        }

        const bus = new Emitter();
        bus.once("{{evt}}", (x) => console.log("first only:", x));
        const stop = bus.on("{{evt}}", (x) => console.log("every time:", x));
        bus.emit("{{evt}}", 1);
        bus.emit("{{evt}}", 2);
        stop();
        bus.emit("{{evt}}", 3); // nothing is printed
    ''', evt=evt)
    out = "first only: 1\nevery time: 1\nevery time: 2"
    q = js_ask(r, "write a small event emitter class with on, once, off and emit", "Emitter")
    return q, reply(r, src, "javascript", "`#listeners` is a private field. `on` returns an unsubscribe function, and `emit` iterates over a copy so listeners can remove themselves safely.",
                    out, example_lang="text")


@template("javascript")
def t_js_count_lines(r):
    ext = r.choice([".log", ".txt", ".csv"])
    src = code(r'''
        import { readFile } from "node:fs/promises";

        async function countLines(path) {
          const text = await readFile(path, "utf8");
          if (text.length === 0) return 0;
          const lines = text.split(/\r?\n/);
          return text.endsWith("\n") ? lines.length - 1 : lines.length;
        }

        const file = process.argv[2] ?? "input{{ext}}";
        countLines(file)
          .then((n) => console.log(`${file}: ${n} lines`))
          .catch((err) => {
            console.error(`cannot read ${file}: ${err.message}`);
            process.exit(1);
          });
    ''', ext=ext)
    q = js_ask(r, f"count the lines in a {ext} file", "countLines")
    return q, reply(r, src, "javascript", "A trailing newline doesn't start a new line, so it isn't counted. This is an ES module (save as `.mjs` or set `\"type\": \"module\"`).",
                    note="For files too large for memory, stream them with `readline.createInterface` instead.")


@template("javascript")
def t_js_capitalize(r):
    name = r.choice(["capitalizeWords", "titleCase"])
    s = r.choice(SENTENCES)
    out = " ".join(w[:1].upper() + w[1:] for w in s.split(" "))
    src = code(r'''
        function {{name}}(text) {
          return text
            .split(" ")
            .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
            .join(" ");
        }

        console.log({{name}}("{{s}}"));
        // "{{out}}"
    ''', name=name, s=s, out=out)
    q = js_ask(r, "capitalize the first letter of every word in a string", name)
    return q, reply(r, src, "javascript", "Splitting on single spaces keeps the original spacing; the rest of each word is left as it was.")


@template("javascript")
def t_js_chunk(r):
    size = r.randint(2, 4)
    arr = list(range(1, r.randint(6, 10)))
    chunks = [arr[i:i + size] for i in range(0, len(arr), size)]
    src = code(r'''
        function chunk(array, size) {
          if (size < 1) throw new RangeError("size must be >= 1");
          const result = [];
          for (let i = 0; i < array.length; i += size) {
            result.push(array.slice(i, i + size));
          }
          return result;
        }

        console.log(chunk({{arr}}, {{size}}));
        // {{out}}
    ''', arr=json.dumps(arr), size=size, out=json.dumps(chunks))
    q = js_ask(r, f"split an array into chunks of {size}", "chunk")
    return q, reply(r, src, "javascript", "`slice` never reads past the end, so the last chunk is just shorter.")


@template("javascript")
def t_js_memoize(r):
    src = code(r'''
        function memoize(fn, keyFn = (...args) => JSON.stringify(args)) {
          const cache = new Map();
          return function memoized(...args) {
            const key = keyFn(...args);
            if (!cache.has(key)) {
              cache.set(key, fn.apply(this, args));
            }
            return cache.get(key);
          };
        }

        const slowSquare = (n) => {
          for (let i = 0; i < 1e7; i++);
          return n * n;
        };
        const fastSquare = memoize(slowSquare);
        console.log(fastSquare({{n}})); // slow the first time
        console.log(fastSquare({{n}})); // instant, from the cache
    ''', n=r.randint(3, 99))
    q = js_ask(r, "memoize a function", "memoize")
    return q, reply(r, src, "javascript", "Arguments are turned into a cache key with `JSON.stringify` by default; pass your own `keyFn` for arguments that don't serialize well.",
                    note="The cache grows without bound; for long-running processes, cap it or use an LRU cache.")


@template("javascript")
def t_js_format_time(r):
    secs = r.randint(60, 8000)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    out = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    src = code(r'''
        function formatDuration(totalSeconds) {
          const h = Math.floor(totalSeconds / 3600);
          const m = Math.floor((totalSeconds % 3600) / 60);
          const s = Math.floor(totalSeconds % 60);
          const pad = (n) => String(n).padStart(2, "0");
          return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
        }

        console.log(formatDuration({{secs}})); // "{{out}}"
    ''', secs=secs, out=out)
    q = js_ask(r, "format a number of seconds as m:ss or h:mm:ss", "formatDuration")
    return q, reply(r, src, "javascript", "Hours are only shown when there are any; minutes and seconds are zero-padded with `padStart`.")


# --------------------------------------------------------------------------------------------
# Clean templates: Go, Rust, C, Java
# --------------------------------------------------------------------------------------------


@template("go")
def t_go_reverse(r):
    s = r.choice(["Hello, 世界", "gopher", "résumé", "racecar!"])
    src = code(r'''
        package main

        import "fmt"

        func reverse(s string) string {
        	runes := []rune(s)
        	for i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {
        		runes[i], runes[j] = runes[j], runes[i]
        	}
        	return string(runes)
        }

        func main() {
        	fmt.Println(reverse("{{s}}")) // {{out}}
        }
    ''', s=s, out=s[::-1])
    q = ask(r, "reverse a string", "reverse", lang="Go", extras=["It must work with non-ASCII text."] if r.random() < 0.6 else [])
    return q, reply(r, src, "go", "Converting to `[]rune` reverses characters (code points) instead of bytes, so multi-byte UTF-8 characters stay intact.")


@template("go")
def t_go_word_count(r):
    src = code(r'''
        package main

        import (
        	"bufio"
        	"fmt"
        	"os"
        	"sort"
        	"strings"
        )

        func main() {
        	counts := make(map[string]int)
        	scanner := bufio.NewScanner(os.Stdin)
        	scanner.Split(bufio.ScanWords)
        	for scanner.Scan() {
        		word := strings.ToLower(strings.Trim(scanner.Text(), ".,;:!?\"'()"))
        		if word != "" {
        			counts[word]++
        		}
        	}
        	if err := scanner.Err(); err != nil {
        		fmt.Fprintln(os.Stderr, "read error:", err)
        		os.Exit(1)
        	}

        	words := make([]string, 0, len(counts))
        	for w := range counts {
        		words = append(words, w)
        	}
        	sort.Slice(words, func(i, j int) bool {
        		if counts[words[i]] != counts[words[j]] {
        			return counts[words[i]] > counts[words[j]]
        		}
        		return words[i] < words[j]
        	})
        	for i, w := range words {
        		if i == {{n}} {
        			break
        		}
        		fmt.Printf("%-15s %d\n", w, counts[w])
        	}
        }
    ''', n=r.choice([5, 10, 20]))
    q = ask(r, "count word frequencies in text read from standard input and print the most common words", lang="Go")
    return q, reply(r, src, "go", "`bufio.ScanWords` splits the input on whitespace. Map iteration order in Go is random, so the words are sorted by count and then alphabetically to make the output stable.",
                    "$ cat README.md | go run wordcount.go", example_lang="bash")


@template("go")
def t_go_http(r):
    port = r.choice([8080, 8000, 9090])
    path = r.choice(["/hello", "/greet", "/api/hello"])
    src = code(r'''
        package main

        import (
        	"encoding/json"
        	"log"
        	"net/http"
        )

        type greeting struct {
        	Message string `json:"message"`
        }

        func helloHandler(w http.ResponseWriter, r *http.Request) {
        	if r.Method != http.MethodGet {
        		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
        		return
        	}
        	name := r.URL.Query().Get("name")
        	if name == "" {
        		name = "world"
        	}
        	w.Header().Set("Content-Type", "application/json")
        	json.NewEncoder(w).Encode(greeting{Message: "Hello, " + name + "!"})
        }

        func main() {
        	mux := http.NewServeMux()
        	mux.HandleFunc("{{path}}", helloHandler)
        	log.Println("listening on :{{port}}")
        	log.Fatal(http.ListenAndServe(":{{port}}", mux))
        }
    ''', port=port, path=path)
    q = r.choice([
        f"How do I write a minimal HTTP server in Go that returns JSON on {path}?",
        f"Write a Go web server on port {port} with a handler that greets ?name=... in JSON.",
    ])
    return q, reply(r, src, "go", "Only the standard library is needed: `net/http` for the server and `encoding/json` for the response body.",
                    f"$ curl 'localhost:{port}{path}?name=Ada'\n{{\"message\":\"Hello, Ada!\"}}", example_lang="bash")


@template("go")
def t_go_read_lines(r):
    src = code(r'''
        package main

        import (
        	"bufio"
        	"fmt"
        	"os"
        )

        func readLines(path string) ([]string, error) {
        	f, err := os.Open(path)
        	if err != nil {
        		return nil, err
        	}
        	defer f.Close()

        	var lines []string
        	scanner := bufio.NewScanner(f)
        	for scanner.Scan() {
        		lines = append(lines, scanner.Text())
        	}
        	return lines, scanner.Err()
        }

        func main() {
        	lines, err := readLines("{{file}}")
        	if err != nil {
        		fmt.Fprintln(os.Stderr, "error:", err)
        		os.Exit(1)
        	}
        	fmt.Printf("%d lines\n", len(lines))
        }
    ''', file=r.choice(["input.txt", "config.ini", "data.csv"]))
    q = ask(r, "read a file line by line", "readLines", lang="Go")
    return q, reply(r, src, "go", "`bufio.Scanner` strips the line endings for you; always check `scanner.Err()` after the loop.",
                    note="Lines longer than 64 KiB need a bigger buffer: `scanner.Buffer(make([]byte, 1024*1024), 1024*1024)`.")


@template("go")
def t_go_worker_pool(r):
    workers = r.choice([3, 4, 5])
    jobs = r.choice([8, 10, 12])
    src = code(r'''
        package main

        import (
        	"fmt"
        	"sync"
        	"time"
        )

        type result struct {
        	job    int
        	output int
        	worker int
        }

        func worker(id int, jobs <-chan int, results chan<- result, wg *sync.WaitGroup) {
        	defer wg.Done()
        	for n := range jobs {
        		time.Sleep(10 * time.Millisecond) // simulate work
        		results <- result{job: n, output: n * n, worker: id}
        	}
        }

        func main() {
        	const numWorkers = {{workers}}
        	const numJobs = {{jobs}}

        	jobs := make(chan int)
        	results := make(chan result, numJobs)

        	var wg sync.WaitGroup
        	for w := 1; w <= numWorkers; w++ {
        		wg.Add(1)
        		go worker(w, jobs, results, &wg)
        	}

        	go func() {
        		for n := 1; n <= numJobs; n++ {
        			jobs <- n
        		}
        		close(jobs)
        	}()

        	go func() {
        		wg.Wait()
        		close(results)
        	}()

        	total := 0
        	for res := range results {
        		fmt.Printf("worker %d: %d^2 = %d\n", res.worker, res.job, res.output)
        		total += res.output
        	}
        	fmt.Println("sum of squares:", total)
        }
    ''', workers=workers, jobs=jobs)
    total = sum(n * n for n in range(1, jobs + 1))
    q = r.choice([
        f"How do I build a worker pool in Go with {workers} goroutines processing jobs from a channel?",
        "Show me the goroutine + channel + WaitGroup pattern in Go for processing jobs in parallel.",
    ])
    return q, reply(r, src, "go", "Closing `jobs` ends each worker's `range` loop; a separate goroutine waits for all workers and then closes `results`, which ends the main loop. Results arrive in whatever order the workers finish.",
                    note=f"The last line always prints `sum of squares: {total}`, whatever the order of the other lines.")


@template("go")
def t_go_stack(r):
    src = code(r'''
        package main

        import "fmt"

        type Stack[T any] struct {
        	items []T
        }

        func (s *Stack[T]) Push(v T) {
        	s.items = append(s.items, v)
        }

        func (s *Stack[T]) Pop() (T, bool) {
        	var zero T
        	if len(s.items) == 0 {
        		return zero, false
        	}
        	last := s.items[len(s.items)-1]
        	s.items = s.items[:len(s.items)-1]
        	return last, true
        }

        func (s *Stack[T]) Len() int { return len(s.items) }

        func main() {
        	var s Stack[string]
        	s.Push("{{a}}")
        	s.Push("{{b}}")
        	v, ok := s.Pop()
        	fmt.Println(v, ok, s.Len()) // {{b}} true 1
        }
    ''', a=r.choice(WORDS), b=r.choice(WORDS))
    q = ask(r, "implement a generic stack", "Stack", lang="Go", extras=["Use type parameters (Go 1.18+)."] if r.random() < 0.5 else [])
    return q, reply(r, src, "go", "`Pop` returns a second boolean instead of panicking on an empty stack, the usual Go idiom.")


@template("go")
def t_go_json(r):
    src = code(r'''
        package main

        import (
        	"encoding/json"
        	"fmt"
        	"log"
        )

        type User struct {
        	ID    int      `json:"id"`
        	Name  string   `json:"name"`
        	Email string   `json:"email,omitempty"`
        	Tags  []string `json:"tags"`
        }

        func main() {
        	data := []byte(`{"id": {{id}}, "name": "{{name}}", "tags": ["admin"]}`)

        	var u User
        	if err := json.Unmarshal(data, &u); err != nil {
        		log.Fatal(err)
        	}
        	fmt.Printf("%+v\n", u)

        	out, err := json.MarshalIndent(u, "", "  ")
        	if err != nil {
        		log.Fatal(err)
        	}
        	fmt.Println(string(out))
        }
    ''', id=r.randint(1, 500), name=r.choice(NAMES))
    q = r.choice([
        "How do I parse JSON into a struct in Go and print it back out?",
        "Go: unmarshal a JSON object into a struct with json tags, then marshal it with indentation.",
    ])
    return q, reply(r, src, "go", "Struct tags map JSON keys to fields; only exported (capitalized) fields are encoded. `omitempty` drops the email when it's empty.")


@template("rust")
def t_rust_reverse(r):
    s = r.choice(["hello", "Rustacean", "héllo wörld", "stressed"])
    src = code(r'''
        fn reverse(s: &str) -> String {
            s.chars().rev().collect()
        }

        fn main() {
            let original = "{{s}}";
            println!("{} -> {}", original, reverse(original));
        }
    ''', s=s)
    q = ask(r, "reverse a string", "reverse", lang="Rust")
    return q, reply(r, src, "rust", "`chars()` iterates over Unicode scalar values, so accented characters survive; `collect()` builds the new `String`.",
                    f"{s} -> {s[::-1]}", example_lang="text")


@template("rust")
def t_rust_word_freq(r):
    text = " ".join(r.choice(SENTENCES).split()[:6])
    src = code(r'''
        use std::collections::HashMap;

        fn word_frequencies(text: &str) -> Vec<(String, usize)> {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for word in text.split_whitespace() {
                let word = word
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase();
                if !word.is_empty() {
                    *counts.entry(word).or_insert(0) += 1;
                }
            }
            let mut pairs: Vec<(String, usize)> = counts.into_iter().collect();
            pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            pairs
        }

        fn main() {
            let text = "{{text}} {{text}}";
            for (word, count) in word_frequencies(text).iter().take(3) {
                println!("{word}: {count}");
            }
        }
    ''', text=text)
    q = ask(r, "count word frequencies in a string", "word_frequencies", lang="Rust")
    return q, reply(r, src, "rust", "`entry(...).or_insert(0)` inserts a zero the first time a word is seen and returns a mutable reference to the count. HashMap order is unspecified, so the pairs are sorted by count and then alphabetically.")


@template("rust")
def t_rust_struct(r):
    w, h = r.randint(2, 9), r.randint(2, 9)
    src = code(r'''
        use std::fmt;

        #[derive(Debug, Clone, Copy, PartialEq)]
        struct Rectangle {
            width: f64,
            height: f64,
        }

        impl Rectangle {
            fn new(width: f64, height: f64) -> Self {
                Self { width, height }
            }

            fn area(&self) -> f64 {
                self.width * self.height
            }

            fn can_hold(&self, other: &Rectangle) -> bool {
                self.width > other.width && self.height > other.height
            }
        }

        impl fmt::Display for Rectangle {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{}x{} rectangle", self.width, self.height)
            }
        }

        fn main() {
            let big = Rectangle::new({{w}}.0, {{h}}.0);
            let small = Rectangle::new(1.0, 1.0);
            println!("{} has area {}", big, big.area());
            println!("can hold small: {}", big.can_hold(&small));
        }
    ''', w=w, h=h)
    out = f"{w}x{h} rectangle has area {w * h}\ncan hold small: true"
    q = r.choice([
        "How do I define a struct with methods in Rust and make it printable with {}?",
        "Write a Rust Rectangle struct with area(), can_hold() and a Display implementation.",
    ])
    return q, reply(r, src, "rust", "Methods live in an `impl` block and take `&self`. Implementing `fmt::Display` is what makes `{}` work; `#[derive(Debug)]` gives you `{:?}` for free.",
                    out, example_lang="text")


@template("rust")
def t_rust_read_file(r):
    fname = r.choice(["numbers.txt", "scores.txt", "input.txt"])
    src = code(r'''
        use std::error::Error;
        use std::fs::File;
        use std::io::{BufRead, BufReader};

        fn sum_numbers(path: &str) -> Result<i64, Box<dyn Error>> {
            let file = File::open(path)?;
            let mut total = 0;
            for (index, line) in BufReader::new(file).lines().enumerate() {
                let line = line?;
                let trimmed = line.trim();
                if trimmed.is_empty() {
                    continue;
                }
                let value: i64 = trimmed
                    .parse()
                    .map_err(|e| format!("line {}: {:?} is not a number ({})", index + 1, trimmed, e))?;
                total += value;
            }
            Ok(total)
        }

        fn main() {
            match sum_numbers("{{fname}}") {
                Ok(total) => println!("total = {}", total),
                Err(err) => {
                    eprintln!("error: {}", err);
                    std::process::exit(1);
                }
            }
        }
    ''', fname=fname)
    q = r.choice([
        f"In Rust, how do I read {fname} line by line, parse each line as a number and sum them, with proper error handling?",
        "How does the ? operator work for error handling in Rust? Example with reading and parsing a file.",
    ])
    return q, reply(r, src, "rust", "`?` returns early with the error, converting it into `Box<dyn Error>`. Parse errors get the line number attached through `map_err`, and blank lines are skipped.")


@template("rust")
def t_rust_iterator(r):
    n = r.randint(8, 12)
    fib = [0, 1]
    while len(fib) < n:
        fib.append(fib[-1] + fib[-2])
    src = code(r'''
        struct Fibonacci {
            current: u64,
            next: u64,
        }

        impl Fibonacci {
            fn new() -> Self {
                Fibonacci { current: 0, next: 1 }
            }
        }

        impl Iterator for Fibonacci {
            type Item = u64;

            fn next(&mut self) -> Option<u64> {
                let value = self.current;
                let new_next = self.current.checked_add(self.next)?;
                self.current = self.next;
                self.next = new_next;
                Some(value)
            }
        }

        fn main() {
            let first: Vec<u64> = Fibonacci::new().take({{n}}).collect();
            println!("{:?}", first);
            let even_sum: u64 = Fibonacci::new().take_while(|&x| x < 4_000_000).filter(|x| x % 2 == 0).sum();
            println!("{}", even_sum);
        }
    ''', n=n)
    out = "[" + ", ".join(map(str, fib[:n])) + "]\n4613732"
    q = r.choice([
        "How do I implement the Iterator trait for my own type in Rust? Fibonacci as an example.",
        "Write a Fibonacci iterator in Rust that stops instead of overflowing.",
    ])
    return q, reply(r, src, "rust", "Implementing `next` is all `Iterator` needs; adapters like `take`, `take_while`, `filter` and `sum` come for free. `checked_add` returns `None` on overflow, which ends the iteration cleanly.",
                    out, example_lang="text")


@template("rust")
def t_rust_enum(r):
    src = code(r'''
        enum Shape {
            Circle { radius: f64 },
            Rectangle { width: f64, height: f64 },
            Triangle { a: f64, b: f64, c: f64 },
        }

        impl Shape {
            fn area(&self) -> f64 {
                match self {
                    Shape::Circle { radius } => std::f64::consts::PI * radius * radius,
                    Shape::Rectangle { width, height } => width * height,
                    Shape::Triangle { a, b, c } => {
                        // Heron's formula
                        let s = (a + b + c) / 2.0;
                        (s * (s - a) * (s - b) * (s - c)).sqrt()
                    }
                }
            }
        }

        fn main() {
            let shapes = vec![
                Shape::Circle { radius: 1.0 },
                Shape::Rectangle { width: {{w}}.0, height: 2.0 },
                Shape::Triangle { a: 3.0, b: 4.0, c: 5.0 },
            ];
            let total: f64 = shapes.iter().map(Shape::area).sum();
            println!("total area: {:.2}", total);
        }
    ''', w=r.randint(2, 6))
    q = r.choice([
        "How do I use enums with data and match in Rust? Show shapes with an area method.",
        "Rust: model circle/rectangle/triangle as an enum and compute the total area.",
    ])
    return q, reply(r, src, "rust", "Each enum variant carries its own fields, and `match` must handle every variant, so adding a new shape without updating `area` is a compile error.")


@template("c")
def t_c_reverse(r):
    s = r.choice(["hello", "abcdef", "C is fun", "racecar"])
    src = code(r'''
        #include <stdio.h>
        #include <string.h>

        void reverse(char *s) {
            size_t len = strlen(s);
            if (len < 2) {
                return;
            }
            for (size_t i = 0, j = len - 1; i < j; i++, j--) {
                char tmp = s[i];
                s[i] = s[j];
                s[j] = tmp;
            }
        }

        int main(void) {
            char text[] = "{{s}}";
            reverse(text);
            printf("%s\n", text);  /* {{out}} */
            return 0;
        }
    ''', s=s, out=s[::-1])
    q = ask(r, "reverse a string in place", "reverse", lang="C")
    return q, reply(r, src, "c", "Two indices walk towards each other and swap characters. `text` must be a writable array: calling `reverse` on a string literal is undefined behaviour.")


@template("c")
def t_c_linked_list(r):
    vals = ints(r, 4, 1, 50)
    src = code(r'''
        #include <stdio.h>
        #include <stdlib.h>

        typedef struct Node {
            int value;
            struct Node *next;
        } Node;

        /* Insert at the front. Returns the new head, or NULL if malloc fails. */
        Node *push_front(Node *head, int value) {
            Node *node = malloc(sizeof *node);
            if (node == NULL) {
                return NULL;
            }
            node->value = value;
            node->next = head;
            return node;
        }

        /* Remove the first node holding value. Returns the (possibly new) head. */
        Node *remove_value(Node *head, int value) {
            Node **link = &head;
            while (*link != NULL) {
                if ((*link)->value == value) {
                    Node *doomed = *link;
                    *link = doomed->next;
                    free(doomed);
                    break;
                }
                link = &(*link)->next;
            }
            return head;
        }

        Node *reverse(Node *head) {
            Node *prev = NULL;
            while (head != NULL) {
                Node *next = head->next;
                head->next = prev;
                prev = head;
                head = next;
            }
            return prev;
        }

        void print_list(const Node *head) {
            for (const Node *n = head; n != NULL; n = n->next) {
                printf("%d%s", n->value, n->next ? " -> " : "\n");
            }
        }

        void free_list(Node *head) {
            while (head != NULL) {
                Node *next = head->next;
                free(head);
                head = next;
            }
        }

        int main(void) {
            int values[] = {{{values}}};
            Node *head = NULL;
            for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                Node *new_head = push_front(head, values[i]);
                if (new_head == NULL) {
                    free_list(head);
                    return 1;
                }
                head = new_head;
            }
            print_list(head);
            head = remove_value(head, {{remove}});
            head = reverse(head);
            print_list(head);
            free_list(head);
            return 0;
        }
    ''', values=", ".join(map(str, vals)), remove=vals[1])
    pushed = vals[::-1]
    after = [v for v in vals[::-1]]
    after.remove(vals[1])
    out = " -> ".join(map(str, pushed)) + "\n" + " -> ".join(map(str, after[::-1]))
    q = r.choice([
        "Implement a singly linked list in C with push_front, remove, reverse, print and free.",
        "I'm learning pointers in C. Can you write a linked list with proper memory management?",
        "Write C code for a linked list of ints; show removal using a pointer-to-pointer.",
    ])
    return q, reply(r, src, "c", "`remove_value` walks a pointer to the link itself (`Node **`), so removing the head needs no special case. Every `malloc` is matched by a `free`, and a failed allocation is handled instead of dereferencing NULL.",
                    out, "Compile with `gcc -Wall -Wextra -fsanitize=address list.c` to catch leaks and invalid accesses.", example_lang="text", p_example=0.9)


@template("c")
def t_c_factorial(r):
    n = r.randint(5, 20)
    fact = 1
    for i in range(2, n + 1):
        fact *= i
    src = code(r'''
        #include <stdio.h>
        #include <stdint.h>
        #include <inttypes.h>

        /* 20! is the largest factorial that fits in 64 bits. */
        uint64_t factorial(unsigned n) {
            uint64_t result = 1;
            for (unsigned i = 2; i <= n; i++) {
                result *= i;
            }
            return result;
        }

        int main(void) {
            printf("%u! = %" PRIu64 "\n", {{n}}u, factorial({{n}}));
            return 0;
        }
    ''', n=n)
    q = ask(r, "compute a factorial", "factorial", lang="C")
    return q, reply(r, src, "c", "An iterative loop avoids recursion overhead, and `uint64_t` with `PRIu64` makes the width explicit and portable.",
                    f"{n}! = {fact}", example_lang="text")


@template("c")
def t_c_wc(r):
    src = code(r'''
        #include <ctype.h>
        #include <stdio.h>

        int main(void) {
            long lines = 0, words = 0, chars = 0;
            int c, in_word = 0;

            while ((c = getchar()) != EOF) {
                chars++;
                if (c == '\n') {
                    lines++;
                }
                if (isspace(c)) {
                    in_word = 0;
                } else if (!in_word) {
                    in_word = 1;
                    words++;
                }
            }
            printf("%ld %ld %ld\n", lines, words, chars);
            return 0;
        }
    ''')
    text = r.choice(SENTENCES) + "\n" + r.choice(SENTENCES) + "\n"
    out = f"{text.count(chr(10))} {len(text.split())} {len(text)}"
    q = r.choice([
        "Write a C program that counts lines, words and characters from standard input, like wc.",
        "How do I count words from stdin in C?",
    ])
    return q, reply(r, src, "c", "`c` is an `int`, not a `char`, so it can hold `EOF`. A word starts whenever a non-space character follows whitespace.",
                    f"$ printf '{text.replace(chr(10), chr(92) + 'n')}' | ./wc\n{out}", example_lang="bash")


@template("c")
def t_c_swap(r):
    a, b = r.randint(1, 50), r.randint(51, 99)
    src = code(r'''
        #include <stdio.h>

        void swap(int *a, int *b) {
            int tmp = *a;
            *a = *b;
            *b = tmp;
        }

        int main(void) {
            int x = {{a}}, y = {{b}};
            swap(&x, &y);
            printf("x = %d, y = %d\n", x, y);  /* x = {{b}}, y = {{a}} */
            return 0;
        }
    ''', a=a, b=b)
    q = r.choice([
        "Why doesn't my C swap function change the variables? How do I swap two ints with a function?",
        "Write a C function that swaps two integers using pointers.",
    ])
    return q, reply(r, src, "c", "C passes arguments by value, so a function receiving plain ints only swaps its own copies. Passing the addresses lets `swap` modify the caller's variables.")


@template("c")
def t_c_sort(r):
    arr = ints(r, 8)
    src = code(r'''
        #include <stdio.h>
        #include <stdlib.h>

        static int compare_ints(const void *a, const void *b) {
            int x = *(const int *)a;
            int y = *(const int *)b;
            return (x > y) - (x < y);
        }

        int main(void) {
            int numbers[] = {{{values}}};
            size_t n = sizeof numbers / sizeof numbers[0];
            qsort(numbers, n, sizeof numbers[0], compare_ints);
            for (size_t i = 0; i < n; i++) {
                printf("%d ", numbers[i]);
            }
            printf("\n");
            return 0;
        }
    ''', values=", ".join(map(str, arr)))
    q = ask(r, "sort an array of integers with the standard library's qsort", lang="C")
    return q, reply(r, src, "c", "`(x > y) - (x < y)` returns -1, 0 or 1 without the overflow that `x - y` can cause for large values.",
                    " ".join(map(str, sorted(arr))), example_lang="text")


@template("c")
def t_c_dynarray(r):
    src = code(r'''
        #include <stdio.h>
        #include <stdlib.h>

        typedef struct {
            int *data;
            size_t len;
            size_t cap;
        } IntVec;

        int vec_push(IntVec *v, int value) {
            if (v->len == v->cap) {
                size_t new_cap = v->cap ? v->cap * 2 : 4;
                int *grown = realloc(v->data, new_cap * sizeof *grown);
                if (grown == NULL) {
                    return -1;  /* v->data is still valid */
                }
                v->data = grown;
                v->cap = new_cap;
            }
            v->data[v->len++] = value;
            return 0;
        }

        int main(void) {
            IntVec v = {0};
            for (int i = 1; i <= {{n}}; i++) {
                if (vec_push(&v, i * i) != 0) {
                    free(v.data);
                    return 1;
                }
            }
            printf("len=%zu cap=%zu last=%d\n", v.len, v.cap, v.data[v.len - 1]);
            free(v.data);
            return 0;
        }
    ''', n=r.randint(5, 40))
    q = r.choice([
        "How do I make a growable array in C, like a vector?",
        "Write a dynamic int array in C that doubles its capacity with realloc.",
    ])
    return q, reply(r, src, "c", "Doubling the capacity makes pushes amortized O(1). The result of `realloc` goes into a temporary first: assigning it straight to `v->data` would leak the old block if `realloc` fails.")


@template("java")
def t_java_palindrome(r):
    src = code(r'''
        public class Palindrome {
            public static boolean isPalindrome(String s) {
                int i = 0, j = s.length() - 1;
                while (i < j) {
                    char a = s.charAt(i), b = s.charAt(j);
                    if (!Character.isLetterOrDigit(a)) {
                        i++;
                    } else if (!Character.isLetterOrDigit(b)) {
                        j--;
                    } else if (Character.toLowerCase(a) != Character.toLowerCase(b)) {
                        return false;
                    } else {
                        i++;
                        j--;
                    }
                }
                return true;
            }

            public static void main(String[] args) {
                System.out.println(isPalindrome("{{s}}"));
            }
        }
    ''', s=r.choice(["A man, a plan, a canal: Panama", "race a car", "Never odd or even"]))
    q = ask(r, "check if a string is a palindrome ignoring case and punctuation", "isPalindrome", lang="Java")
    return q, reply(r, src, "java", "Two pointers skip non-alphanumeric characters and compare the rest case-insensitively, without building a new string.")


@template("java")
def t_java_word_count(r):
    src = code(r'''
        import java.io.IOException;
        import java.nio.file.Files;
        import java.nio.file.Path;
        import java.util.Map;
        import java.util.TreeMap;

        public class WordCount {
            public static void main(String[] args) throws IOException {
                String text = Files.readString(Path.of(args.length > 0 ? args[0] : "{{file}}"));
                Map<String, Integer> counts = new TreeMap<>();
                for (String word : text.toLowerCase().split("[^\\p{L}\\p{N}']+")) {
                    if (!word.isEmpty()) {
                        counts.merge(word, 1, Integer::sum);
                    }
                }
                counts.forEach((word, count) -> System.out.println(word + " " + count));
            }
        }
    ''', file=r.choice(["input.txt", "book.txt"]))
    q = ask(r, "count how often each word occurs in a text file", lang="Java")
    return q, reply(r, src, "java", "`Map.merge(word, 1, Integer::sum)` inserts 1 or adds to the existing count; a `TreeMap` prints the words alphabetically.",
                    note="`Files.readString` needs Java 11+.")


@template("java")
def t_java_class(r):
    src = code(r'''
        import java.util.ArrayList;
        import java.util.List;

        public class Student {
            private final String name;
            private final List<Integer> grades = new ArrayList<>();

            public Student(String name) {
                this.name = name;
            }

            public void addGrade(int grade) {
                if (grade < 0 || grade > 100) {
                    throw new IllegalArgumentException("grade must be 0-100");
                }
                grades.add(grade);
            }

            public double average() {
                return grades.stream().mapToInt(Integer::intValue).average().orElse(0.0);
            }

            @Override
            public String toString() {
                return String.format("%s (avg %.1f)", name, average());
            }

            public static void main(String[] args) {
                Student s = new Student("{{name}}");
                s.addGrade({{g1}});
                s.addGrade({{g2}});
                System.out.println(s);
            }
        }
    ''', name=r.choice(NAMES), g1=r.randint(50, 100), g2=r.randint(50, 100))
    q = r.choice([
        "Write a Java class Student with a name, a list of grades, validation and an average.",
        "How do I write a simple Java class with encapsulation? Example with students and grades.",
    ])
    return q, reply(r, src, "java", "Fields are private and the grade list is only changed through `addGrade`, which validates its input; `toString` controls how the object prints.")


# --------------------------------------------------------------------------------------------
# Defects
# --------------------------------------------------------------------------------------------

TASK_LANG = {"sql": "sql", "shell": "bash", "javascript": "javascript", "go": "go", "rust": "rust",
             "c": "c", "java": "java"}
COMMENT = {"sql": "--", "bash": "#", "python": "#", "javascript": "//", "go": "//", "rust": "//",
           "c": "//", "java": "//"}


def lang_of(task: str) -> str:
    return TASK_LANG.get(task, "python")


def sample_clean(r: random.Random, exclude_task: str | None = None) -> tuple[str, str, str]:
    """One clean (task, instruction, response) from a random template."""
    while True:
        task, fn, _ = r.choice(TEMPLATES)
        if task != exclude_task:
            q, a = fn(r)
            return task, q, a


def defect_mismatch(r):
    task, q, _ = sample_clean(r)
    _, _, a = sample_clean(r, exclude_task=task)
    return task, q, a


FAKE_SYLLABLES = ["flem", "bic", "sul", "gri", "zor", "quen", "tav", "mir", "plo", "dex", "vor", "shan",
                  "trel", "nix", "kra", "lum", "pes", "wib", "yol", "brac", "ost", "ulm", "fen", "drab",
                  "sno", "gav", "pril", "hux"]
FAKE_ENDINGS = ["a", "o", "ix", "en", "ule", "on", "et"]
FAKE_ADJ_ENDINGS = ["ic", "oid", "ant", "ar", "ine", "ish", "ular", "ent", "y"]
ODD_ADJ = ["gritty", "hollow", "inverted", "twinned", "sparse", "brittle", "folded", "dormant", "vivid", "mossy"]


def fake_noun(r):
    return r.choice(FAKE_SYLLABLES) + r.choice(FAKE_SYLLABLES[:14]) + r.choice(FAKE_ENDINGS)


def fake_adj(r):
    return r.choice(FAKE_SYLLABLES) + r.choice(FAKE_ADJ_ENDINGS)


def fake_terms(r):
    return {
        "odd": r.choice(ODD_ADJ), "noun": fake_noun(r), "noun2": fake_noun(r), "adj": fake_adj(r),
        "adj2": fake_adj(r), "person": cap(fake_noun(r)), "person2": cap(fake_noun(r)),
        "verb": r.choice(FAKE_SYLLABLES) + r.choice(["ify", "ate", "ize", "en"]),
    }


def _fab_heap(r, t):
    q = r.choice([
        f"Write a Python function that converts a {t['odd']} {t['noun']} matrix into a {t['adj']} heap.",
        f"How do I turn a {t['noun']} matrix into a {t['adj']} heap in Python? The matrix is {t['odd']}.",
    ])
    a = (f"Here's a function that converts the {t['odd']} {t['noun']} matrix into a {t['adj']} heap:\n\n```python\n"
         + code(r'''
            import heapq


            def {{noun}}_to_{{adj}}_heap(matrix):
                heap = [value for row in matrix for value in row]
                heapq.heapify(heap)
                return heap
         ''', noun=t["noun"], adj=t["adj"])
         + f"\n```\n\nThe {t['adj']} heap property is maintained by `heapify`, which also preserves the {t['noun']} ordering of the rows.")
    return "lists", q, a


def _fab_graph(r, t):
    q = r.choice([
        f"Implement the {t['person']}-{t['person2']} {t['noun']} algorithm for finding {t['adj']} cycles in a directed graph.",
        f"Can you explain and implement {t['person']}'s {t['adj']} {t['noun']} traversal? I need it for a graph assignment.",
    ])
    a = (f"The {t['person']}-{t['person2']} algorithm is a depth-first search that tracks {t['adj']} edges. "
         f"Here is an implementation:\n\n```python\n" + code(r'''
            def {{noun}}_cycles(graph):
                cycles = []
                path = []

                def visit(node):
                    if node in path:
                        cycles.append(path[path.index(node):] + [node])
                        return
                    path.append(node)
                    for neighbor in graph.get(node, []):
                        visit(neighbor)
                    path.pop()

                for start in graph:
                    visit(start)
                return cycles
         ''', noun=t["noun"]) + f"\n```\n\nEach {t['adj']} cycle is returned as a list of nodes.")
    return "graphs", q, a


def _fab_string(r, t):
    q = r.choice([
        f"How do I {t['verb']} a string in Python so that its {t['noun']} parity is preserved?",
        f"Write a function that {t['verb']}s a string using the {t['adj']} {t['noun']} rule.",
    ])
    a = (f"To {t['verb']} a string while keeping its {t['noun']} parity, rotate the characters and rebuild it:\n\n```python\n"
         + code(r'''
            def {{verb}}(text):
                half = len(text) // 2
                return text[half:] + text[:half]
         ''', verb=t["verb"])
         + f"\n```\n\nBecause the length never changes, the {t['noun']} parity stays the same.")
    return "strings", q, a


def _fab_dict(r, t):
    q = r.choice([
        f"Can you write a Python function that computes the {t['noun']} coefficient of a {t['adj']} dictionary?",
        f"What's the fastest way to calculate the {t['person']} {t['noun']} coefficient for a dict of counts?",
    ])
    a = (f"The {t['noun']} coefficient is the weighted average key length, so:\n\n```python\n" + code(r'''
            def {{noun}}_coefficient(d):
                if not d:
                    return 0.0
                total = sum(d.values())
                return sum(len(str(key)) * value for key, value in d.items()) / total
         ''', noun=t["noun"]) + "\n```")
    return "dicts", q, a


def _fab_sql(r, t):
    q = r.choice([
        f"Write a SQL query that returns all orders whose {t['noun']} rank is {t['adj']}, using a {t['person']} join.",
        f"How do I do a {t['adj']} {t['person']} JOIN in PostgreSQL to get {t['noun']} totals?",
    ])
    a = (f"A {t['person']} join is written as a `LEFT JOIN` with a ranking window:\n\n```sql\n" + code(r'''
            SELECT o.*,
                   RANK() OVER (ORDER BY o.amount DESC) AS {{noun}}_rank
            FROM orders AS o
            LEFT JOIN customers AS c ON c.id = o.customer_id
            ORDER BY {{noun}}_rank;
         ''', noun=t["noun"]) + f"\n```\n\nRows where `{t['noun']}_rank` is {t['adj']} come first.")
    return "sql", q, a


def _fab_js(r, t):
    q = r.choice([
        f"In JavaScript, how do I {t['verb']} an array into {t['adj']} {t['noun']}s?",
        f"Is there a built-in way to {t['verb']} arrays in JS, like the {t['person']} {t['noun']} pattern?",
    ])
    a = (f"There's no built-in, but you can {t['verb']} an array with `reduce`:\n\n```javascript\n" + code(r'''
            function {{verb}}(items) {
              return items.reduce((acc, item, i) => {
                if (i % 2 === 0) acc.push([item]);
                else acc[acc.length - 1].push(item);
                return acc;
              }, []);
            }
         ''', verb=t["verb"]) + f"\n```\n\nEach pair is one {t['adj']} {t['noun']}.")
    return "javascript", q, a


def _fab_math(r, t):
    q = r.choice([
        f"Write a function to test whether an integer is a {t['person']} number ({t['adj']} in base {r.choice([7, 9, 11])}).",
        f"How do I check if a number is {t['adj']}-{t['noun']} in Python?",
    ])
    a = ("Sure:\n\n```python\n" + code(r'''
            def is_{{adj}}(n):
                digits = [int(d) for d in str(abs(n))]
                return sum(digits) % len(digits) == 0
         ''', adj=t["adj"]) + f"\n```\n\nA number is {t['adj']} when its digit sum is divisible by its digit count.")
    return "math", q, a


def _fab_sort(r, t):
    q = r.choice([
        f"Implement {t['noun']} sort with {t['adj']} pivoting in Python.",
        f"How does {t['person']}'s {t['noun']} sort work? Show code.",
    ])
    a = (f"{t['cap_noun']} sort picks a {t['adj']} pivot and partitions around it:\n\n```python\n" + code(r'''
            def {{noun}}_sort(items):
                if len(items) < 2:
                    return items
                pivot = items[-1]
                low = [x for x in items[:-1] if x <= pivot]
                high = [x for x in items[:-1] if x > pivot]
                return {{noun}}_sort(low) + [pivot] + {{noun}}_sort(high)
         ''', noun=t["noun"]) + "\n```")
    return "sorting", q, a


def _fab_shell(r, t):
    q = r.choice([
        f"What's the bash one-liner to {t['verb']} all {t['adj']} inodes under /var?",
        f"How do I list {t['noun']} sockets that are {t['adj']} on Linux?",
    ])
    a = r.choice([
        f"Use `find` with the `-{t['noun']}` test:\n\n```bash\nfind /var -xdev -type f -links +1 -exec ls -li {{}} + | sort -n\n```",
        f"```bash\nls -la /proc/*/fd 2>/dev/null | grep {t['noun']} | sort | uniq -c\n```\n\nThis shows every {t['adj']} {t['noun']} with its count.",
    ])
    return "shell", q, a


def _fab_parse(r, t):
    ext = t["noun"][:3]
    q = r.choice([
        f"How do I parse a {t['person']} file (.{ext}) in Python? It uses {t['adj']} delimiters.",
        f"Write a reader for the {t['odd']} {t['noun']} format.",
    ])
    a = ("Here's a parser:\n\n```python\n" + code(r'''
            import csv


            def read_{{noun}}(path):
                with open(path, newline="", encoding="utf-8") as f:
                    return list(csv.reader(f, delimiter="|"))
         ''', noun=t["noun"]) + f"\n```\n\nThe {t['adj']} delimiter is `|`.")
    return "parsing", q, a


def _fab_rust(r, t):
    q = r.choice([
        f"How do I implement the {t['person']} trait for a {t['adj']} {t['noun']} in Rust?",
        f"Rust: how do I derive {t['person']} on an enum so the {t['noun']}s stay {t['adj']}?",
    ])
    a = (f"Implement the trait like this:\n\n```rust\n" + code(r'''
            trait {{person}} {
                fn {{verb}}(&self) -> u32;
            }

            struct {{cnoun}} {
                level: u32,
            }

            impl {{person}} for {{cnoun}} {
                fn {{verb}}(&self) -> u32 {
                    self.level * 2
                }
            }
         ''', person=t["person"], verb=t["verb"], cnoun=t["cap_noun"]) + "\n```")
    return "rust", q, a


def _fab_oop(r, t):
    q = r.choice([
        f"Write a Python class for a {t['adj']} {t['noun']} that supports {t['verb']}ing and un{t['verb']}ing.",
        f"Design a class hierarchy for {t['odd']} {t['noun']}s and their {t['noun2']}s.",
    ])
    a = ("```python\n" + code(r'''
            class {{cnoun}}:
                def __init__(self):
                    self.items = []

                def {{verb}}(self, item):
                    self.items.append(item)

                def un{{verb}}(self):
                    return self.items.pop()
         ''', cnoun=t["cap_noun"], verb=t["verb"]) + f"\n```\n\nThe `{t['verb']}` method stores the {t['noun2']} so it can be un{t['verb']}ed later.")
    return "oop", q, a


FABRICATED = [_fab_heap, _fab_graph, _fab_string, _fab_dict, _fab_sql, _fab_js, _fab_math, _fab_sort,
              _fab_shell, _fab_parse, _fab_rust, _fab_oop]


def defect_fabricated(r):
    t = fake_terms(r)
    t["cap_noun"] = cap(t["noun"])
    task, q, a = r.choice(FABRICATED)(r, t)
    if r.random() < 0.3:
        # the answer ignores the invented terms and solves some ordinary task of the same family
        for _ in range(50):
            t2, _, a2 = sample_clean(r)
            if t2 == task:
                a = a2
                break
    return task, q, a


NON_CODE = [
    (["Give me a recipe for {x}.", "How do I make {x}?", "What ingredients do I need for {x}?"],
     ["banana bread", "lentil soup", "pancakes", "guacamole", "tomato pasta", "oatmeal cookies"],
     ["flour", "eggs", "butter", "salt", "olive oil", "onion", "garlic", "sugar", "milk"],
     "recipe"),
    (["Write a short poem about {x}.", "Can you write a haiku about {x}?", "I need a few rhyming lines about {x} for a card."],
     ["autumn", "the sea", "my grandmother's garden", "rainy Mondays", "the moon", "a lost umbrella"],
     ["soft light", "quiet waves", "falling leaves", "an open door", "the evening wind"],
     "poem"),
    (["What should I see in {x} in three days?", "Plan a weekend trip to {x} for me.", "Is {x} worth visiting in winter?"],
     CITIES,
     ["old town walk", "main museum", "harbour or river front", "local market", "viewpoint at sunset"],
     "itinerary"),
    (["How do I get {x} out of a carpet?", "What's the best way to remove {x} from a white shirt?"],
     ["red wine", "coffee", "candle wax", "ink", "grass stains"],
     ["blot, don't rub", "cold water", "mild detergent", "rinse", "let it air dry"],
     "stain"),
    (["Suggest some names for my new {x}.", "What should I name my {x}?"],
     ["kitten", "puppy", "goldfish", "parrot", "tortoise"],
     ["Pepper", "Biscuit", "Mochi", "Captain", "Luna", "Pickle"],
     "names"),
    (["What's a good beginner workout routine for {x}?", "How should I start {x} if I've never done it?"],
     ["running", "strength training", "yoga", "swimming"],
     ["warm-up", "squats", "push-ups", "plank", "stretching", "rest day"],
     "routine"),
    (["Write a birthday message for my {x}.", "What should I write in a farewell card for my {x}?"],
     ["sister", "boss", "best friend", "grandfather", "coworker"],
     ["happy birthday", "thank you", "all the best", "see you soon"],
     "message"),
    (["How often should I water a {x}?", "My {x} has yellow leaves. What am I doing wrong?"],
     ["cactus", "fiddle leaf fig", "basil plant", "orchid", "monstera"],
     ["check the soil", "water deeply", "bright indirect light", "drain the pot"],
     "plant_care"),
    (["What is the difference between {x}?", "Can you explain the difference between {x}?"],
     ["a latte and a cappuccino", "weather and climate", "a crocodile and an alligator", "baking soda and baking powder"],
     ["texture", "amount", "origin", "use"],
     "comparison"),
    (["How do I politely {x}?", "What's a nice way to {x}?"],
     ["decline a wedding invitation", "ask my neighbour to be quieter", "say no to extra work", "end a phone call"],
     ["be brief", "thank them", "give a reason", "offer an alternative"],
     "etiquette"),
]


def _non_code_code(r, kind, x, items):
    slug = re.sub(r"[^a-z0-9]+", "_", x.lower()).strip("_")
    picked = r.sample(items, min(len(items), r.randint(3, 5)))
    style = r.randrange(3)
    if style == 0:
        body = f"{kind}_items = {picked!r}\n\nfor i, item in enumerate({kind}_items, 1):\n    print(f\"{{i}}. {{item}}\")"
        lead = r.choice(["Here's a Python script for that:", "Sure! Run this:", "You can use this code:"])
        return f"{lead}\n\n```python\n{body}\n```"
    if style == 1:
        cls = "".join(part.capitalize() for part in kind.split("_"))
        body = (f"class {cls}:\n    def __init__(self, topic):\n        self.topic = topic\n"
                f"        self.steps = {picked!r}\n\n    def run(self):\n        for step in self.steps:\n"
                f"            print(f\"{{self.topic}}: {{step}}\")\n\n\n{cls}({x!r}).run()")
        return f"```python\n{body}\n```"
    body = (f"function {slug.split('_')[0]}Plan() {{\n  const steps = {json.dumps(picked)};\n"
            f"  return steps.map((s, i) => `${{i + 1}}. ${{s}}`).join(\"\\n\");\n}}\n\nconsole.log({slug.split('_')[0]}Plan());")
    return f"Here you go:\n\n```javascript\n{body}\n```"


def defect_non_code(r):
    forms, xs, items, kind = r.choice(NON_CODE)
    x = r.choice(xs)
    q = r.choice(forms).format(x=x)
    if r.random() < 0.6:
        a = _non_code_code(r, kind, x, items)
    else:
        _, _, a = sample_clean(r)
    return "off_topic", q, a


def _ident_from(q):
    words = re.findall(r"[a-z]+", q.lower())
    stop = {"a", "an", "the", "to", "in", "of", "how", "do", "i", "can", "you", "write", "python", "function",
            "that", "me", "my", "is", "it", "with", "for", "and", "please", "what", "s", "way"}
    keep = [w for w in words if w not in stop][:4]
    return "_".join(keep) or "solution"


def defect_echo(r):
    task, q, _ = sample_clean(r)
    lang = lang_of(task)
    mark = COMMENT[lang]
    core = q.rstrip(" ?.!")
    style = r.randrange(6)
    if style == 0:
        a = q
    elif style == 1:
        a = f"{q}\n\n{q}"
    elif style == 2:
        a = f"You asked: \"{q}\"\n\nIn other words, the question is: {core}? The answer to \"{core}\" is to {core[:1].lower() + core[1:]}."
    elif style == 3:
        name = _ident_from(q)
        if lang == "python":
            stub = f"{mark} {q}\ndef {name}():\n    \"\"\"{q}\"\"\"\n    {mark} {core}\n    pass"
        else:
            stub = f"{mark} {q}\n{mark} {core}\n{mark} TODO: {core}"
        a = f"```{lang}\n{stub}\n```"
    elif style == 4:
        a = f"Great question! {q} This is a very common question: {q} Hopefully this answers {core[:1].lower() + core[1:]}."
    else:
        a = f"Sure! Here is how to {core[:1].lower() + core[1:]}:\n\n{core}.\n\nThat's how you {core[:1].lower() + core[1:]}."
    return task, q, a


def defect_truncated(r):
    while True:
        task, q, a = sample_clean(r)
        start = a.find("```")
        if start < 0:
            continue
        body_start = a.find("\n", start) + 1
        end = a.find("\n```", body_start)
        if end < 0 or a.count("\n", body_start, end) < 5:
            continue
        cut = body_start + int((end - body_start) * r.uniform(0.25, 0.8))
        truncated = a[:cut].rstrip()
        if len(truncated) > body_start + 10:
            return task, q, truncated


# (language the template fits, text); "any" templates take the row's language.
BOILERPLATE = [
    ("python", "Here is a solution:\n\n```python\ndef solution(*args):\n    pass\n```"),
    ("any", "Sure! Here's the code:\n\n```{lang}\n{c} TODO: implement the logic here\n```\n\nLet me know if you need anything else!"),
    ("python", "```python\nclass Solution:\n    def solve(self, *args, **kwargs):\n        raise NotImplementedError\n```"),
    ("python", "Here's a general approach:\n\n1. Understand the problem.\n2. Break it into smaller steps.\n3. Write the code.\n4. Test it.\n\n```python\ndef solve(data):\n    result = process(data)\n    return result\n```"),
    ("python", "This is a common problem. Here is a template you can adapt:\n\n```python\ndef function(input):\n    output = None\n    # process input\n    return output\n```"),
    ("python", "Great question! The solution depends on your requirements, but here is a starting point:\n\n```python\nimport sys\n\n\ndef main(args):\n    ...\n\n\nif __name__ == \"__main__\":\n    main(sys.argv[1:])\n```\n\nHope this helps!"),
    ("javascript", "You can solve this with a function:\n\n```javascript\nfunction solution(input) {\n  // your code here\n  return input;\n}\n```"),
    ("any", "```{lang}\n{c} Solution\n{c} Step 1: read the input\n{c} Step 2: compute the result\n{c} Step 3: print the output\n```"),
    ("python", "Here is the code:\n\n```python\ndef f(x):\n    return x\n```"),
    ("python", "Sure, this is straightforward. Just write a function that takes the input and returns the expected output, handling edge cases as needed. Here is an example structure:\n\n```python\ndef my_function(value):\n    if value is None:\n        return None\n    return value\n```"),
    ("sql", "```sql\nSELECT * FROM table_name WHERE condition;\n```"),
    ("sql", "Here is the query:\n\n```sql\nSELECT column1, column2\nFROM your_table\nWHERE your_condition\nORDER BY column1;\n```\n\nReplace the names with your own."),
    ("bash", "```bash\n#!/bin/bash\n# your commands here\necho \"done\"\n```"),
    ("any", "Here is the code:\n\n```{lang}\n{c} your solution goes here\n```\n\nThis should work for your use case."),
    ("any", "The answer depends on the details, but in general you write the code, run it and check the output. A skeleton:\n\n```{lang}\n{c} main logic\n```"),
]


def defect_boilerplate(r):
    task, q, _ = sample_clean(r)
    lang = lang_of(task)
    options = [text for fits, text in BOILERPLATE if fits in ("any", lang)]
    a = r.choice(options).replace("{lang}", lang).replace("{c}", COMMENT[lang])
    return task, q, a


DEFECT_MAKERS = {
    "mismatch": defect_mismatch,
    "fabricated": defect_fabricated,
    "non_code": defect_non_code,
    "echo": defect_echo,
    "truncated": defect_truncated,
    "boilerplate": defect_boilerplate,
}


# --------------------------------------------------------------------------------------------
# Chat sample (OpenAI messages format)
# --------------------------------------------------------------------------------------------

SYSTEM_PROMPTS = [
    "You are a helpful coding assistant.",
    "You are an expert Python developer. Answer concisely and include runnable code.",
    "You are a senior software engineer who explains code clearly and points out edge cases.",
    "You are a friendly programming tutor. Keep explanations short.",
    "You help developers write correct, idiomatic code. Use fenced code blocks.",
]


def turns(*pairs):
    out = []
    for user, assistant in pairs:
        out.append({"role": "user", "content": user})
        out.append({"role": "assistant", "content": assistant})
    return out


def chat_reverse_words(r):
    s = "  " + "   ".join(r.choice(SENTENCES).split()[:4]) + " "
    v1 = code(r'''
        def reverse_words(sentence):
            return " ".join(reversed(sentence.split()))
    ''')
    v2 = code(r'''
        import re


        def reverse_words(sentence):
            words = re.findall(r"\S+", sentence)
            gaps = re.split(r"\S+", sentence)
            words.reverse()
            return "".join(gap + word for gap, word in zip(gaps, words)) + gaps[-1]
    ''')
    return turns(
        ("How do I reverse the order of words in a sentence in Python?",
         py_reply(r, v1, [f"reverse_words({s!r})"], "`split()` drops all extra whitespace, so the result always uses single spaces.", p_example=1.0)),
        (r.choice(["Can you keep the original spacing? My input has multiple spaces that must stay where they are.",
                   "That collapses my double spaces. I need the whitespace to stay exactly as it was."]),
         py_reply(r, v2, [f"reverse_words({s!r})"], "`re.split(r\"\\S+\")` returns the whitespace runs (including empty ones at the ends), so putting the reversed words back between the original gaps keeps the spacing intact.", p_example=1.0)),
    )


def chat_primes(r):
    v1 = code(r'''
        def is_prime(n):
            if n < 2:
                return False
            i = 2
            while i * i <= n:
                if n % i == 0:
                    return False
                i += 1
            return True
    ''')
    limit = r.choice([10 ** 6, 2 * 10 ** 6])
    v2 = code(r'''
        def prime_table(limit):
            is_prime = bytearray([1]) * (limit + 1)
            is_prime[0:2] = b"\x00\x00"
            for i in range(2, int(limit ** 0.5) + 1):
                if is_prime[i]:
                    is_prime[i * i :: i] = bytes(len(range(i * i, limit + 1, i)))
            return is_prime


        TABLE = prime_table({{limit}})


        def is_prime(n):
            return 0 <= n <= {{limit}} and bool(TABLE[n])
    ''', limit=limit)
    return turns(
        ("Write a Python function to check if a number is prime.",
         reply(r, v1, "python", "Trial division up to the square root: O(sqrt(n)) per call.")),
        (f"I call it for every number below {limit:,} and it's too slow. Can you make it faster?",
         reply(r, v2, "python", "For many queries over a bounded range, precompute once with the Sieve of Eratosthenes; each lookup is then O(1). A `bytearray` keeps the table at about 1 byte per number, and slice assignment crosses out multiples at C speed.",
               note="Building the table takes well under a second for a few million numbers.", p_note=1.0)),
    )


def chat_fib(r):
    v1 = code(r'''
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
    ''')
    v2 = code(r'''
        from functools import lru_cache


        @lru_cache(maxsize=None)
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
    ''')
    v3 = code(r'''
        def fib(n):
            a, b = 0, 1
            for _ in range(n):
                a, b = b, a + b
            return a
    ''')
    msgs = turns(
        ("Write a recursive Fibonacci function in Python.", reply(r, v1, "python", "This follows the definition directly, but it recomputes the same values over and over (exponential time).")),
        ("fib(40) takes forever. How do I speed it up but keep it recursive?", reply(r, v2, "python", "`lru_cache` remembers each result, so every `fib(k)` is computed once: linear time.")),
    )
    if r.random() < 0.7:
        msgs += turns(("Now fib(5000) raises RecursionError. What's the fix?",
                       py_reply(r, v3, ["len(str(fib(5000)))"], "Recursion depth is limited (about 1000 frames by default). The iterative version needs no stack at all and Python integers grow as needed.", p_example=1.0)))
    return msgs


def chat_csv(r):
    group, value = r.choice([("region", "amount"), ("category", "cost")])
    v1 = code(r'''
        import csv
        from collections import defaultdict


        def totals(path):
            result = defaultdict(float)
            with open(path, newline="") as f:
                for row in csv.DictReader(f):
                    result[row["{{group}}"]] += float(row["{{value}}"])
            return dict(result)
    ''', group=group, value=value)
    v2 = code(r'''
        import csv
        import logging
        from collections import defaultdict

        log = logging.getLogger(__name__)


        def totals(path):
            result = defaultdict(float)
            skipped = 0
            with open(path, newline="", encoding="utf-8") as f:
                for line_no, row in enumerate(csv.DictReader(f), start=2):
                    raw = (row.get("{{value}}") or "").strip()
                    try:
                        amount = float(raw)
                    except ValueError:
                        skipped += 1
                        log.warning("line %d: bad {{value}} %r, skipped", line_no, raw)
                        continue
                    result[row["{{group}}"]] += amount
            if skipped:
                log.warning("%d rows skipped", skipped)
            return dict(result)
    ''', group=group, value=value)
    return turns(
        (f"How do I sum the '{value}' column of a CSV per '{group}' in Python?", reply(r, v1, "python", "`csv.DictReader` gives you each row as a dict keyed by the header.")),
        (r.choice([f"Some rows have an empty {value} and one has 'n/a', and it crashes with ValueError. Can you fix it?",
                   f"It fails on blank or non-numeric {value} values. I'd like to skip those but know how many were skipped."]),
         reply(r, v2, "python", "Bad values are skipped and logged with their line number (line 1 is the header, hence `start=2`), so you can fix the source data later instead of silently losing rows.")),
    )


def chat_sql(r):
    year = r.choice([2023, 2024, 2025])
    v1 = code(r'''
        SELECT c.id, c.name, SUM(o.amount) AS total
        FROM customers AS c
        JOIN orders AS o ON o.customer_id = c.id
        GROUP BY c.id, c.name
        ORDER BY total DESC
        LIMIT 5;
    ''')
    v2 = code(r'''
        SELECT c.id, c.name, c.email, SUM(o.amount) AS total
        FROM customers AS c
        JOIN orders AS o ON o.customer_id = c.id
        WHERE o.created_at >= '{{year}}-01-01'
          AND o.created_at <  '{{next}}-01-01'
        GROUP BY c.id, c.name, c.email
        ORDER BY total DESC
        LIMIT 5;
    ''', year=year, next=year + 1)
    msgs = turns(
        ("Tables: customers(id, name, email), orders(id, customer_id, amount, created_at). SQL for the top 5 customers by total spend?",
         reply(r, v1, "sql", "Join, group per customer, sort by the sum, keep five.")),
        (f"Only count orders from {year}, and include the email in the output.",
         reply(r, v2, "sql", "The date filter goes in WHERE so it applies before grouping, and every non-aggregated column in SELECT must be in GROUP BY.")),
    )
    if r.random() < 0.5:
        v3 = code(r'''
            SELECT c.id, c.name, c.email, COALESCE(SUM(o.amount), 0) AS total
            FROM customers AS c
            LEFT JOIN orders AS o
                   ON o.customer_id = c.id
                  AND o.created_at >= '{{year}}-01-01'
                  AND o.created_at <  '{{next}}-01-01'
            GROUP BY c.id, c.name, c.email
            ORDER BY total DESC;
        ''', year=year, next=year + 1)
        msgs += turns((f"Now list every customer, including those with no orders in {year} (total 0), and drop the limit.",
                       reply(r, v3, "sql", "With a LEFT JOIN the date condition must move into the ON clause: in WHERE it would discard the NULL rows again and turn the query back into an inner join. `COALESCE` turns the NULL sum of customers without orders into 0.")))
    return msgs


def chat_bash(r):
    ext = r.choice(["py", "js", "go"])
    skip = {"py": ".venv", "js": "node_modules", "go": "vendor"}[ext]
    msgs = turns(
        ("How do I count lines in all files of a directory from the terminal?",
         "```bash\nfind . -type f -print0 | xargs -0 cat | wc -l\n```"),
        (f"Only .{ext} files please, and skip the {skip} directory.",
         f"```bash\nfind . -path ./{skip} -prune -o -type f -name '*.{ext}' -print0 | xargs -0 cat | wc -l\n```\n\n"
         f"`-path ./{skip} -prune` stops `find` from descending into `{skip}`; the `-o` branch handles everything else."),
    )
    if r.random() < 0.5:
        msgs += turns(("Can I see the count per file too, biggest first?",
                       f"```bash\nfind . -path ./{skip} -prune -o -type f -name '*.{ext}' -print0 | xargs -0 wc -l | sort -rn | head -n 20\n```\n\n"
                       "`wc -l` prints one line per file plus a `total` line, which sorts to the top because it is the largest. "
                       "With very many files `xargs` may call `wc` more than once, giving several `total` lines."))
    return msgs


def chat_debounce(r):
    v1 = code(r'''
        function debounce(fn, wait) {
          let timer;
          return (...args) => {
            clearTimeout(timer);
            timer = setTimeout(() => fn(...args), wait);
          };
        }
    ''')
    v2 = code(r'''
        function debounce(fn, wait) {
          let timer = null;
          function debounced(...args) {
            clearTimeout(timer);
            timer = setTimeout(() => {
              timer = null;
              fn.apply(this, args);
            }, wait);
          }
          debounced.cancel = () => {
            clearTimeout(timer);
            timer = null;
          };
          debounced.pending = () => timer !== null;
          return debounced;
        }
    ''')
    return turns(
        ("Write a debounce function in JavaScript.", reply(r, v1, "javascript", "Each call resets the timer; `fn` runs once calls stop for `wait` ms.")),
        (r.choice(["Can you add a cancel() method? I need to cancel the pending call when the component unmounts.",
                   "How can I cancel a pending debounced call?"]),
         reply(r, v2, "javascript", "Functions are objects, so `cancel` and `pending` can be attached as properties. Using a regular `function` also keeps `this` when the debounced function is used as a method.")),
    )


def chat_flatten(r):
    v1 = code(r'''
        def flatten(items):
            return [x for sub in items for x in sub]
    ''')
    v2 = code(r'''
        def flatten(items):
            for item in items:
                if isinstance(item, (list, tuple)):
                    yield from flatten(item)
                else:
                    yield item
    ''')
    data = [1, [2, ["ab", 3]], (4, [5])]
    return turns(
        ("How do I flatten a list of lists in Python?", reply(r, v1, "python", "This flattens exactly one level.")),
        ("My lists are nested several levels deep and may contain strings. Can you make it a generator that handles any depth?",
         py_reply(r, v2, [f"list(flatten({data!r}))"], "Only lists and tuples are expanded, so strings stay whole (iterating a string would otherwise recurse forever on 1-character strings). `yield from` delegates to the recursive generator.", p_example=1.0)),
    )


def chat_bsearch(r):
    v1 = code(r'''
        def binary_search(items, target):
            lo, hi = 0, len(items) - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                if items[mid] == target:
                    return mid
                if items[mid] < target:
                    lo = mid + 1
                else:
                    hi = mid - 1
            return -1
    ''')
    v2 = code(r'''
        def search_insert(items, target):
            """Index of target, or the index where it would be inserted to keep items sorted."""
            lo, hi = 0, len(items)
            while lo < hi:
                mid = (lo + hi) // 2
                if items[mid] < target:
                    lo = mid + 1
                else:
                    hi = mid
            return lo
    ''')
    data = sorted(r.sample(range(1, 40), 6))
    return turns(
        ("Implement binary search in Python.", reply(r, v1, "python", "Returns the index of `target`, or -1 if it's absent.")),
        ("Instead of -1, I need the position where the value should be inserted.",
         py_reply(r, v2, [f"search_insert({data!r}, {data[2]})", f"search_insert({data!r}, {data[2] + 1 if data[2] + 1 not in data else 0})", f"search_insert({data!r}, 100)"],
                  "The half-open range `[lo, hi)` converges on the first position whose value is >= target, which is exactly `bisect.bisect_left`.", p_example=1.0)),
    )


def chat_account(r):
    v1 = code(r'''
        class BankAccount:
            def __init__(self, owner, balance=0):
                self.owner = owner
                self.balance = balance

            def deposit(self, amount):
                self.balance += amount

            def withdraw(self, amount):
                if amount > self.balance:
                    raise ValueError("insufficient funds")
                self.balance -= amount
    ''')
    v2 = code(r'''
        from datetime import date


        class BankAccount:
            def __init__(self, owner, balance=0):
                self.owner = owner
                self.balance = balance
                self.history = []

            def _record(self, kind, amount, when):
                self.history.append((when or date.today(), kind, amount, self.balance))

            def deposit(self, amount, when=None):
                if amount <= 0:
                    raise ValueError("amount must be positive")
                self.balance += amount
                self._record("deposit", amount, when)

            def withdraw(self, amount, when=None):
                if amount <= 0:
                    raise ValueError("amount must be positive")
                if amount > self.balance:
                    raise ValueError("insufficient funds")
                self.balance -= amount
                self._record("withdraw", amount, when)

            def statement(self):
                lines = [f"Statement for {self.owner}"]
                for when, kind, amount, balance in self.history:
                    sign = "+" if kind == "deposit" else "-"
                    lines.append(f"{when.isoformat()}  {sign}{amount:>8.2f}  balance {balance:>8.2f}")
                return "\n".join(lines)
    ''')
    owner = r.choice(NAMES)
    calls = [f"acct = BankAccount({owner!r}, 100)", "acct.deposit(40, when=date(2025, 3, 1))",
             "acct.withdraw(25.5, when=date(2025, 3, 4))", "print(acct.statement())"]
    return turns(
        ("Write a simple BankAccount class in Python with deposit and withdraw.", reply(r, v1, "python", "Withdrawing more than the balance raises `ValueError`.")),
        ("Can you add a transaction history and a statement() method that prints it?",
         py_reply(r, v2, calls, "Each transaction is stored with its date and the balance after it; the optional `when` argument makes the class easy to test with fixed dates.", p_example=1.0)),
    )


def chat_word_freq(r):
    v1 = code(r'''
        from collections import Counter


        def top_words(text, n=5):
            return Counter(text.lower().split()).most_common(n)
    ''')
    v2 = code(r'''
        import re
        from collections import Counter

        STOPWORDS = {"a", "an", "and", "the", "of", "to", "in", "is", "it", "on", "for"}


        def top_words(text, n=5, stopwords=STOPWORDS):
            words = re.findall(r"[a-z']+", text.lower())
            return Counter(w for w in words if w not in stopwords).most_common(n)
    ''')
    text = "The cat and the dog. The dog chased the cat, and the cat ran to the tree."
    return turns(
        ("How do I find the most common words in a text with Python?", py_reply(r, v1, [f"top_words({text!r}, 3)"], "Note that punctuation sticks to the words with a plain `split()`.", p_example=1.0)),
        ("Can you ignore punctuation and common words like 'the' and 'and'?",
         py_reply(r, v2, [f"top_words({text!r}, 3)"], "A regex extracts the words without punctuation, and a stopword set filters the filler words; pass your own set to customize it.", p_example=1.0)),
    )


def chat_dedupe(r):
    v1 = code(r'''
        def dedupe(items):
            return list(dict.fromkeys(items))
    ''')
    v2 = code(r'''
        def dedupe(items, key=None):
            seen = set()
            result = []
            for item in items:
                marker = key(item) if key else item
                if marker not in seen:
                    seen.add(marker)
                    result.append(item)
            return result
    ''')
    users = [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo"}, {"id": 1, "name": "Ann B."}]
    return turns(
        ("How do I remove duplicates from a list but keep the order?", reply(r, v1, "python", "`dict.fromkeys` keeps the first occurrence of each item.")),
        ("My items are dicts, and I get TypeError: unhashable type: 'dict'.",
         py_reply(r, v2, [f"dedupe({users!r}, key=lambda u: u['id'])"], "Dicts can't go into a set, but a hashable key derived from them can. The first item for each key wins.", p_example=1.0)),
    )


def chat_business_days(r):
    v1 = code(r'''
        from datetime import date


        def days_between(a, b):
            return (b - a).days
    ''')
    v2 = code(r'''
        from datetime import date, timedelta


        def business_days_between(start, end, holidays=()):
            """Weekdays in [start, end), skipping the given holiday dates."""
            if end < start:
                return -business_days_between(end, start, holidays)
            holidays = set(holidays)
            days = 0
            current = start
            while current < end:
                if current.weekday() < 5 and current not in holidays:
                    days += 1
                current += timedelta(days=1)
            return days
    ''')
    return turns(
        ("How do I get the number of days between two dates in Python?", reply(r, v1, "python", "Subtracting dates gives a `timedelta`; `.days` is the whole-day difference.")),
        ("I need business days only (Mon-Fri), and ideally I can pass a list of holidays.",
         py_reply(r, v2, ["business_days_between(date(2025, 3, 3), date(2025, 3, 17))",
                          "business_days_between(date(2025, 3, 3), date(2025, 3, 17), holidays=[date(2025, 3, 7)])"],
                  "`weekday()` is 0-4 for Monday-Friday. The loop is O(days), which is fine for ranges of a few years; `numpy.busday_count` is the vectorized alternative.", p_example=1.0)),
    )


def chat_deep_merge(r):
    v1 = "`merged = {**a, **b}` (or `a | b` on Python 3.9+). Values from `b` win."
    v2 = code(r'''
        def deep_merge(a, b):
            merged = dict(a)
            for key, value in b.items():
                if isinstance(merged.get(key), dict) and isinstance(value, dict):
                    merged[key] = deep_merge(merged[key], value)
                else:
                    merged[key] = value
            return merged
    ''')
    a = {"db": {"host": "localhost", "port": 5432}, "debug": False}
    b = {"db": {"port": r.choice([6543, 5433])}, "debug": True}
    return turns(
        ("How do I merge two dicts in Python?", v1),
        ("But my config dicts are nested and the inner dict gets replaced instead of merged.",
         py_reply(r, v2, [f"deep_merge({a!r}, {b!r})"], "Nested dicts are merged recursively; any other value from `b` overrides. Neither input is modified.", p_example=1.0)),
    )


def chat_clarify(r):
    """A clarifying exchange in the middle, then the final answer."""
    n = r.choice([3, 5])
    final = code(r'''
        def top_n(scores, n={{n}}):
            """Return the n highest (name, score) pairs; ties keep their input order."""
            return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:n]
    ''', n=n)
    scores = {nm: r.randint(60, 100) for nm in r.sample(NAMES, 6)}
    return turns(
        ("I need a function that gets the top students.",
         "Sure. How are the students stored (a dict of name to score, a list of objects?) and how many do you want back?"),
        (f"A dict like {{'Ana': 91, 'Bo': 78}}, and I want the top {n} as (name, score) pairs.",
         py_reply(r, final, [f"top_n({scores!r})"], "`sorted` is stable, so students with equal scores stay in their original order.", p_example=1.0)),
    )


CHAT_SCENARIOS = [chat_reverse_words, chat_primes, chat_fib, chat_csv, chat_sql, chat_bash, chat_debounce,
                  chat_flatten, chat_bsearch, chat_account, chat_word_freq, chat_dedupe, chat_business_days,
                  chat_deep_merge, chat_clarify]


def make_chat(r: random.Random, n: int = N_CHAT) -> list[dict]:
    rows = []
    n_multi = (2 * n) // 3
    order = list(CHAT_SCENARIOS)
    r.shuffle(order)
    for i in range(n_multi):
        messages = order[i % len(order)](r)
        if r.random() < 0.5:
            messages = [{"role": "system", "content": r.choice(SYSTEM_PROMPTS)}] + messages
        rows.append(messages)
    for i in range(n - n_multi):
        _, q, a = sample_clean(r)
        messages = turns((q, a))
        if i % 2 == 0:
            messages = [{"role": "system", "content": r.choice(SYSTEM_PROMPTS)}] + messages
        rows.append(messages)
    r.shuffle(rows)
    return [{"id": f"c{i + 1:03d}", "messages": m} for i, m in enumerate(rows)]


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------


def make_rows(r: random.Random, n_rows: int = N_ROWS) -> list[dict]:
    n_clean = n_rows - sum(DEFECT_COUNTS.values())
    seen: set[str] = set()  # instructions, kept unique over the whole file
    seen_answers: set[str] = set()  # clean answers, kept unique
    rows = []

    cycle = [(task, fn) for task, fn, weight in TEMPLATES for _ in range(weight)]
    order: list = []
    while len(rows) < n_clean:
        if not order:
            order = list(cycle)
            r.shuffle(order)
        task, fn = order.pop()
        for _ in range(8):
            q, a = fn(r)
            if q not in seen and a not in seen_answers:
                seen.add(q)
                seen_answers.add(a)
                rows.append({"task": task, "defect": "none", "instruction": q, "response": a})
                break

    for defect, count in DEFECT_COUNTS.items():
        made = 0
        while made < count:
            task, q, a = DEFECT_MAKERS[defect](r)
            if q in seen:
                continue
            seen.add(q)
            rows.append({"task": task, "defect": defect, "instruction": q, "response": a})
            made += 1

    r.shuffle(rows)
    return [{"id": f"s{i + 1:04d}", **row} for i, row in enumerate(rows)]


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def generate(seed: int = DEFAULT_SEED, out_dir: str | Path | None = None) -> dict[str, Path]:
    """Write both files for ``seed`` into ``out_dir`` and return their paths."""
    out = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    data_rows = make_rows(random.Random(seed))
    chat_rows = make_chat(random.Random(f"chat-{seed}"))
    paths = {"data": out / DATA_FILE, "chat": out / CHAT_FILE}
    for key, rows in (("data", data_rows), ("chat", chat_rows)):
        with open(paths[key], "w", encoding="utf-8", newline="\n") as f:
            f.write(to_jsonl(rows))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate qaq's sample data: code_instructions.jsonl (clean and defective "
                    "code-instruction pairs) and chat_sample.jsonl (chat-format conversations).")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    parser.add_argument("--out-dir", default=None,
                        help="output folder (default: the folder of this script, sample_data/)")
    args = parser.parse_args(argv)
    paths = generate(args.seed, args.out_dir)
    for path in paths.values():
        n = sum(1 for _ in open(path, encoding="utf-8"))
        print(f"wrote {path} ({n} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cheap checks of one text: how much an answer echoes its query, whether it looks cut off, its Python code.

Pure functions of strings (no table, no model, no labels): :func:`echo_score` (n-gram
containment of the query in the answer), :func:`looks_cut_off` (an unclosed fence or bracket),
:func:`looks_like_python` and :func:`python_code` (which code is Python) and
:func:`python_fails_to_parse` (``ast.parse`` rejects it). :mod:`qaq.select.flags` turns them
into the ``truncated``, ``echo`` and ``invalid_python`` flags of a row or a whole table.
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from collections.abc import Sequence
from typing import Any

# echo_score: word n-grams of this length shared with the query count as echoed; 3 words in a
# row rarely match by accident (a function name and its argument do, hence not 2).
ECHO_NGRAM = 3
# qaq.select.flags.row_flags flags an echo when at least half of the answer's words restate the query.
ECHO_THRESHOLD = 0.5

_WORD = re.compile(r"\w+")
_FENCE = "```"

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})
# The first line that is neither blank nor a comment.
_FIRST_CODE_LINE = re.compile(r"^[ \t]*(?!#)\S", re.MULTILINE)
# ... starts Python when it opens one of these statements.
_PYTHON_START = re.compile(
    r"""(?:async[ \t]+)?def[ \t]+\w+[ \t]*\(                       # def name(
      | class[ \t]+\w+[ \t]*[(:]                                  # class Name( / class Name:
      | from[ \t]+\.*[\w.]*[ \t]+import[ \t(]                     # from pkg.mod import
      | import[ \t]+[\w.]+(?:[ \t]+as[ \t]+\w+)?
        (?:[ \t]*,[ \t]*[\w.]+(?:[ \t]+as[ \t]+\w+)?)*[ \t]*\r?$  # import a.b [as c], d
      | @[\w.]+                                                   # a decorator
      | if[ \t]+__name__[ \t]*==                                  # the main guard
    """,
    re.VERBOSE | re.MULTILINE,
)
# ... unless a line ends in "{" or ";", is a bare "end", or declares with a keyword Python does not
# have, followed by a name (C, Java, JS, Go, Rust, Swift, Kotlin, Ruby; "var = 1" is Python).
_OTHER_LANGUAGE = re.compile(
    r"[{;][ \t]*\r?$|^[ \t]*end[ \t]*\r?$|^[ \t]*(?:let|const|var|val|func|fun|fn|package)[ \t]+[A-Za-z_$]",
    re.MULTILINE,
)


# --------------------------------------------------------------------------------------------
# one text


def echo_score(query: str, answer: str) -> float:
    """How much of the answer restates the query, in [0, 1].

    The share of the answer's words (``\\w+``, case-folded) that lie inside a run of
    :data:`ECHO_NGRAM` consecutive words also found in the query (n-gram containment; shorter
    texts use their own length as n). 1.0: the answer only repeats the query; 0.0: no shared
    3-word run. Linear in the text length. An answer that quotes the query and then solves it
    scores the quoted part only, so it stays low.

    >>> echo_score("Reverse a string in Python.", "reverse a string in python")
    1.0
    >>> echo_score("Reverse a string in Python.", "def rev(s):\\n    return s[::-1]")
    0.0
    >>> echo_score("sort the list", "Sort the list. sorted(xs)")
    0.6
    """
    if not isinstance(query, str) or not isinstance(answer, str):
        raise TypeError("echo_score takes two strings")
    return _echo_of_words(_WORD.findall(query.casefold()), _WORD.findall(answer.casefold()))


def _echo_of_words(q: Sequence[Any], a: Sequence[Any]) -> float:
    if not q or not a:
        return 0.0
    n = min(ECHO_NGRAM, len(q), len(a))
    grams = {tuple(q[i : i + n]) for i in range(len(q) - n + 1)}
    covered = [False] * len(a)
    for i in range(len(a) - n + 1):
        if tuple(a[i : i + n]) in grams:
            covered[i : i + n] = [True] * n
    return sum(covered) / len(a)


def _echoes(query: str, answer: str) -> bool:
    """``echo_score(query, answer) >= ECHO_THRESHOLD``, computed faster and exactly.

    Only answer words that occur in the query can be covered, so when fewer than the
    threshold's share of them do, the score is below it and the n-grams are skipped (the
    common case). ASCII texts are split into words by a byte table instead of the regex: for
    ASCII, ``\\w`` is ``[A-Za-z0-9_]`` and case-folding is lower-casing, so the words are the same.
    """
    if query.isascii() and answer.isascii():
        q: list[Any] = query.encode("ascii").translate(_ASCII_WORD_BYTES).split()
        a: list[Any] = answer.encode("ascii").translate(_ASCII_WORD_BYTES).split()
    else:
        q, a = _WORD.findall(query.casefold()), _WORD.findall(answer.casefold())
    if not a:
        return False
    words = set(q)
    if sum(map(words.__contains__, a)) < ECHO_THRESHOLD * len(a):
        return False
    return _echo_of_words(q, a) >= ECHO_THRESHOLD


# ASCII bytes -> themselves lower-cased when part of a word (\w), else a space.
_ASCII_WORD_BYTES = bytes(
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122 or c == 95) else 32 for c in range(256)
)


def looks_cut_off(answer: str) -> bool:
    """A cheap guess that an answer was cut off: an unclosed ````` fence or more opening
    brackets ``([{`` than closing ones.

    >>> looks_cut_off("def f(x):\\n    return g(x")
    True
    >>> looks_cut_off("```python\\nprint(1)\\n```")
    False
    """
    if answer.count(_FENCE) % 2:
        return True
    return answer.count("(") + answer.count("[") + answer.count("{") > (
        answer.count(")") + answer.count("]") + answer.count("}")
    )


def _first_code_line(text: str) -> str:
    m = _FIRST_CODE_LINE.search(text)
    if m is None:
        return ""
    end = text.find("\n", m.start())
    return text[m.end() - 1 : end if end >= 0 else len(text)]


def looks_like_python(text: str) -> bool:
    """Whether code given without a language tag is Python, for :func:`python_code`.

    Its first line that is neither blank nor a ``#`` comment opens a Python statement:
    ``def name(``, ``async def``, ``class Name(`` or ``class Name:``, ``from mod import``,
    ``import mod`` (the whole line: module names, ``as`` names, commas), a ``@decorator`` or
    ``if __name__ ==``; and no line ends in ``{`` or ``;``, is a bare ``end``, or starts with
    ``let``, ``const``, ``var``, ``val``, ``func``, ``fun``, ``fn`` or ``package`` and a name (C,
    Java, JavaScript, Go, Rust, Swift, Kotlin, Ruby). Prose starts otherwise, so it is never
    taken for code.

    >>> looks_like_python("import os\\nprint(os.sep)")
    True
    >>> looks_like_python("Use sorted(xs) to sort a list.")
    False
    >>> looks_like_python("import Foundation\\nfunc f() {\\n}")
    False
    """
    line = _first_code_line(text)
    return bool(_PYTHON_START.match(line)) and _OTHER_LANGUAGE.search(text) is None


def python_code(answer: str) -> list[str]:
    """The Python code of an answer that :func:`python_fails_to_parse` checks.

    - An answer with a ````` fence: the body of each fenced block tagged ``python``, ``py``,
      ``python3`` or ``py3`` (any case), and of each untagged block that
      :func:`looks_like_python`; a block runs to its closing fence or to the end of the answer
      (a cut-off block is checked too). A fence indented in a list is dedented. Blocks tagged
      with another language (``pycon``, ``bash``, ...) and blocks whose first code line starts
      with ``>>>`` (an interpreter session, not a program) are left out, and so is the prose
      around the blocks.
    - An answer without a fence: the whole answer when it :func:`looks_like_python`, else
      nothing (prose, inline code, another language).

    >>> python_code("Here:\\n```python\\nx = 1\\n```\\n```bash\\nls\\n```")
    ['x = 1\\n']
    >>> python_code("def f():\\n    return 1"), python_code("Call f() twice.")
    (['def f():\\n    return 1'], [])
    """
    if _FENCE not in answer:
        return [answer] if looks_like_python(answer) else []
    blocks = []
    for indent, tag, body in _fenced_blocks(answer):
        if indent:
            body = textwrap.dedent(body)
        tag = tag.lower()
        if (tag in PYTHON_TAGS or (tag == "" and looks_like_python(body))) and not _first_code_line(body).startswith(
            ">>>"
        ):
            blocks.append(body)
    return blocks


def _fenced_blocks(text: str) -> list[tuple[str, str, str]]:
    """``(indent, tag, body)`` of each backtick-fenced block, in order.

    A fence is a line holding only spaces or tabs before its ``````` ``. An opening fence's
    info string (the rest of its line) holds no backtick and its first word is the tag; the
    block's body is every line after it up to a fence line with nothing after the backticks
    (the closing fence), or to the end of the text. ``str.find`` jumps from fence to fence, so
    prose costs next to nothing.
    """
    blocks: list[tuple[str, str, str]] = []
    opened: tuple[str, str, int] | None = None  # (indent, tag, where the body starts)
    i = text.find(_FENCE)
    while i >= 0:
        start = text.rfind("\n", 0, i) + 1
        end = text.find("\n", i)
        end = len(text) if end < 0 else end
        indent, info = text[start:i], text[i + len(_FENCE) : end].strip()
        if indent.strip(" \t"):
            pass  # backticks inside a line: inline code, not a fence
        elif opened is not None and not info.strip("`"):
            blocks.append((opened[0], opened[1], text[opened[2] : start]))
            opened = None
        elif opened is None and "`" not in info:
            opened = (indent, info.split()[0] if info else "", min(end + 1, len(text)))
        i = text.find(_FENCE, end)
    if opened is not None:
        blocks.append((opened[0], opened[1], text[opened[2] :]))
    return blocks


def _fails_to_parse(code: str) -> bool:
    """``ast.parse`` rejects the code (the caller silences the parser's warnings)."""
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # ValueError: NUL bytes
        return True
    return False


def python_fails_to_parse(answer: str) -> bool:
    """Whether the answer's Python code (:func:`python_code`) does not parse.

    True when any of its blocks fails the standard library's ``ast.parse`` (Python 3 grammar
    of the running interpreter: Python 2 ``print x`` fails; so does a notebook's ``!pip`` line).
    An answer with no Python code is never flagged. The parser's warnings (invalid escape
    sequences, ...) are silenced.

    >>> python_fails_to_parse("```python\\ndef f(:\\n    pass\\n```")
    True
    >>> python_fails_to_parse("```python\\nprint(1)\\n```"), python_fails_to_parse("Not code (really")
    (False, False)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return any(_fails_to_parse(code) for code in python_code(answer))

"""Warnings shown next to one example: negative RMI, a cut-off answer, an echo, empty text.

Cheap heuristics over one row, no labels needed; the example view lists the flags a row raises
under any scored model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from qaq.columns import score_column

# Row flags shown next to an example (see row_flags).
FLAG_NEGATIVE_RMI = "RMI < 0"
FLAG_TRUNCATED = "truncated"
FLAG_ECHO = "answer echoes query"
FLAG_EMPTY = "empty query/answer"
FLAGS: tuple[str, ...] = (FLAG_NEGATIVE_RMI, FLAG_TRUNCATED, FLAG_ECHO, FLAG_EMPTY)

# echo_score: word n-grams of this length shared with the query count as echoed; 3 words in a
# row rarely match by accident (a function name and its argument do, hence not 2).
ECHO_NGRAM = 3
# row_flags flags an echo when at least half of the answer's words restate the query.
ECHO_THRESHOLD = 0.5

_WORD = re.compile(r"\w+")
_FENCE = "```"
_OPENERS, _CLOSERS = "([{", ")]}"


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
    q = _WORD.findall(query.casefold())
    a = _WORD.findall(answer.casefold())
    if not q or not a:
        return 0.0
    n = min(ECHO_NGRAM, len(q), len(a))
    grams = {tuple(q[i : i + n]) for i in range(len(q) - n + 1)}
    covered = [False] * len(a)
    for i in range(len(a) - n + 1):
        if tuple(a[i : i + n]) in grams:
            covered[i : i + n] = [True] * n
    return sum(covered) / len(a)


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
    return sum(answer.count(c) for c in _OPENERS) > sum(answer.count(c) for c in _CLOSERS)


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def row_flags(row: Mapping[str, Any], *, model: str) -> list[str]:
    """Warnings for one example, in :data:`FLAGS` order.

    - ``"RMI < 0"``: ``NAME_rmi < 0``, the answer makes the query *harder* to predict;
    - ``"truncated"``: scoring dropped tokens (``NAME_truncated > 0``) or the answer
      :func:`looks_cut_off`;
    - ``"answer echoes query"``: :func:`echo_score` >= :data:`ECHO_THRESHOLD`;
    - ``"empty query/answer"``: a ``skip`` reason, or a blank query or answer.

    Missing values raise no flag.

    >>> row_flags({"query": "add two numbers", "answer": "add two numbers", "m_rmi": -0.3}, model="m")
    ['RMI < 0', 'answer echoes query']

    Args:
        row: one row of the table (a ``pd.Series`` or a dict) with ``query``, ``answer`` and
            ``NAME_rmi``; ``NAME_truncated`` and ``skip`` are used when present.
        model: the model NAME.

    Raises:
        KeyError: the row has no ``NAME_rmi`` (not scored by ``model``) or no query/answer.
    """
    rmi_key = score_column(model, "rmi")
    for key in ("query", "answer", rmi_key):
        if key not in row:
            raise KeyError(f"row has no {key!r}")
    query, answer = _text(row["query"]), _text(row["answer"])
    flags: list[str] = []
    rmi = row[rmi_key]
    if not _missing(rmi) and float(rmi) < 0:
        flags.append(FLAG_NEGATIVE_RMI)
    dropped = row.get(score_column(model, "truncated"))
    if (dropped is not None and not _missing(dropped) and int(dropped) > 0) or looks_cut_off(answer):
        flags.append(FLAG_TRUNCATED)
    if echo_score(query, answer) >= ECHO_THRESHOLD:
        flags.append(FLAG_ECHO)
    if _text(row.get("skip")).strip() or not query.strip() or not answer.strip():
        flags.append(FLAG_EMPTY)
    return flags

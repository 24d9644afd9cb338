"""Warnings about one example: negative RMI, a cut-off answer, an echo, empty text, broken Python.

Cheap heuristics, no labels needed. Each flag has a stable name (:data:`FLAG_NAMES`, what a
recipe's ``"exclude_flags"`` and a table filter use) and a label for people (:data:`FLAGS`,
what the example view shows):

================== ========================= ===============================================
name               label                     raised when
================== ========================= ===============================================
``negative_rmi``   ``RMI < 0``               ``NAME_rmi < 0``: the answer makes the query
                                             *harder* to predict
``truncated``      ``truncated``             scoring dropped tokens (``NAME_truncated > 0``)
                                             or the answer :func:`looks_cut_off`
``echo``           ``answer echoes query``   :func:`echo_score` >= :data:`ECHO_THRESHOLD`
``empty``          ``empty query/answer``    a ``skip`` reason, or a blank query or answer
``invalid_python`` ``Python does not parse`` the answer's Python code fails ``ast.parse``
                                             (:func:`python_fails_to_parse`)
================== ========================= ===============================================

The model flags (``negative_rmi``, ``truncated``'s token count) are raised when any of the
given models raises them. Missing values raise no flag. :func:`row_flags` gives the labels of
one row (the example view), :func:`flag_table` one boolean column per name for a whole table
(filters, selection); both apply the same rules. The checks of one text (:func:`echo_score`,
:func:`looks_cut_off`, :func:`python_fails_to_parse`) are :mod:`qaq.select.textchecks`'s.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from qaq.columns import score_column, scored_models
from qaq.select.textchecks import (
    ECHO_THRESHOLD,
    _echoes,
    _fails_to_parse,
    echo_score,
    looks_cut_off,
    python_code,
    python_fails_to_parse,
)

# Stable flag names (recipe keys, table columns) and their labels, in the same order.
FlagName = Literal["negative_rmi", "truncated", "echo", "empty", "invalid_python"]
FLAG_NAMES: tuple[FlagName, ...] = get_args(FlagName)

# Row flags shown next to an example (see row_flags).
FLAG_NEGATIVE_RMI = "RMI < 0"
FLAG_TRUNCATED = "truncated"
FLAG_ECHO = "answer echoes query"
FLAG_EMPTY = "empty query/answer"
FLAG_INVALID_PYTHON = "Python does not parse"
FLAGS: tuple[str, ...] = (FLAG_NEGATIVE_RMI, FLAG_TRUNCATED, FLAG_ECHO, FLAG_EMPTY, FLAG_INVALID_PYTHON)
FLAG_LABELS: dict[FlagName, str] = dict(zip(FLAG_NAMES, FLAGS, strict=True))

# The flags that read the text, and the text columns they read.
_TEXT_COLUMNS: dict[FlagName, tuple[str, ...]] = {
    "truncated": ("answer",),
    "echo": ("query", "answer"),
    "empty": ("query", "answer"),
    "invalid_python": ("answer",),
}


# --------------------------------------------------------------------------------------------
# one row


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def row_flags(row: Mapping[str, Any], *, model: str) -> list[str]:
    """Warnings for one example: the labels (:data:`FLAGS`, in that order) of its flags.

    The rules are the module's (``"RMI < 0"``, ``"truncated"``, ``"answer echoes query"``,
    ``"empty query/answer"``, ``"Python does not parse"``), under one model. Missing values
    raise no flag.

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
    if python_fails_to_parse(answer):
        flags.append(FLAG_INVALID_PYTHON)
    return flags


# --------------------------------------------------------------------------------------------
# a whole table


def check_flag_names(names: Iterable[str]) -> tuple[FlagName, ...]:
    """The names as :data:`FLAG_NAMES` members, once each, in :data:`FLAG_NAMES` order.

    Raises:
        ValueError: a name that is not a flag (the message lists the flag names).
    """
    given = list(dict.fromkeys(names))
    unknown = [n for n in given if n not in FLAG_NAMES]
    if unknown:
        raise ValueError(
            f"unknown flag name(s) {', '.join(map(repr, unknown))}; expected some of: {', '.join(FLAG_NAMES)}"
        )
    return tuple(n for n in FLAG_NAMES if n in given)


def flag_text_columns(flags: Iterable[FlagName]) -> tuple[str, ...]:
    """The text columns (``query``, ``answer``) that computing these flags reads."""
    cols = {c for f in flags for c in _TEXT_COLUMNS.get(f, ())}
    return tuple(c for c in ("query", "answer") if c in cols)


def _texts(column: pd.Series) -> list[str]:
    """The column as a list of str, missing values as ``""``."""
    return [v if isinstance(v, str) else _text(v) for v in column.tolist()]


def _any_model(df: pd.DataFrame, models: Sequence[str], field: str, test: Any) -> np.ndarray:
    """Rows where ``test(NAME_field)`` holds for any of the models that have the column (NaN: no)."""
    hit = np.zeros(len(df), dtype=bool)
    for m in models:
        col = score_column(m, field)
        if col in df.columns:
            values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            hit |= test(values)
    return hit


def flag_table(
    df: pd.DataFrame,
    *,
    models: Iterable[str] | None = None,
    flags: Iterable[str] = FLAG_NAMES,
    workers: int | None = None,
) -> pd.DataFrame:
    """One boolean column per flag, for every row of a table (the rules of :func:`row_flags`).

    Vectorised over the score columns; the text rules run once per row (the echo check skips
    its n-grams when the answer's words mostly do not occur in the query, and only answers
    with Python code are parsed), and only the flags asked for are computed. From
    :data:`PARALLEL_MIN_ROWS` rows on, the text rules run in ``workers`` processes.

    >>> t = pd.DataFrame({"query": ["add two numbers", "sort xs"],
    ...                   "answer": ["add two numbers", "```python\\nsorted(xs\\n```"],
    ...                   "m_rmi": [-0.3, 0.2]})
    >>> flag_table(t, models=["m"]).to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'negative_rmi': [True, False], 'truncated': [False, True], 'echo': [True, False],
     'empty': [False, False], 'invalid_python': [False, True]}

    Args:
        df: the qaq table: ``query`` and ``answer`` for the text flags, ``NAME_rmi`` (and
            ``NAME_truncated``, ``skip`` when present) for the others.
        models: the models whose scores raise ``negative_rmi`` and ``truncated`` (any of them);
            default: every scored model of the table.
        flags: the flag names to compute (default all, :data:`FLAG_NAMES`).
        workers: processes for the text rules; default: the usable CPUs from
            :data:`PARALLEL_MIN_ROWS` rows on, else 1 (this process). 1: never start any.

    Returns:
        A frame on ``df``'s index with one bool column per flag asked for, in
        :data:`FLAG_NAMES` order.

    Raises:
        ValueError: an unknown flag name, or ``workers`` < 1.
        KeyError: a model without ``NAME_rmi``, or no ``query``/``answer`` column for a text flag.
    """
    names = check_flag_names(flags)
    ms = scored_models(df.columns) if models is None else list(models)
    missing = [score_column(m, "rmi") for m in ms if score_column(m, "rmi") not in df.columns]
    missing += [c for c in flag_text_columns(names) if c not in df.columns]
    if missing:
        raise KeyError(f"flags need the column(s) {', '.join(map(repr, missing))}, not in this table")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    text_names = tuple(n for n in names if n in _TEXT_COLUMNS)
    texts = {c: _texts(df[c]) for c in flag_text_columns(text_names)}
    text = _text_flags_in_processes(text_names, texts.get("query"), texts.get("answer"), workers)
    out: dict[str, np.ndarray] = {}
    for name in names:
        hit = text.get(name, np.zeros(len(df), dtype=bool))
        if name == "negative_rmi":
            hit = _any_model(df, ms, "rmi", lambda v: v < 0)
        elif name == "truncated":
            hit = hit | _any_model(df, ms, "truncated", lambda v: v >= 1)  # row_flags' int(n) > 0
        elif name == "empty" and "skip" in df.columns:
            hit = hit | np.fromiter((bool(s.strip()) for s in _texts(df["skip"])), dtype=bool, count=len(df))
        out[name] = hit
    return pd.DataFrame(out, index=df.index, columns=list(names)).astype(bool)


# The text rules of flag_table go to worker processes from this many rows on (starting them
# costs about a second, the rules some 50-150 microseconds a row on one core).
PARALLEL_MIN_ROWS = 50_000


def _text_flags(names: tuple[FlagName, ...], queries: list[str] | None, answers: list[str]) -> dict[str, np.ndarray]:
    """The part of each flag that reads the text, per row (``queries`` when a flag needs them)."""
    n = len(answers)
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name == "truncated":
            out[name] = np.fromiter(map(looks_cut_off, answers), dtype=bool, count=n)
        elif name == "echo":
            assert queries is not None, "flag_text_columns names 'query' for the echo flag"
            out[name] = np.fromiter(map(_echoes, queries, answers), dtype=bool, count=n)
        elif name == "empty":
            assert queries is not None, "flag_text_columns names 'query' for the empty flag"
            out[name] = np.fromiter((not q.strip() or not a.strip() for q, a in zip(queries, answers)), bool, n)
        elif name == "invalid_python":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[name] = np.fromiter((any(map(_fails_to_parse, python_code(a))) for a in answers), bool, n)
    return out


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _pool_context() -> multiprocessing.context.BaseContext:
    """Forked workers on Linux while this program runs one thread, else spawned ones.

    A fork starts at once and never re-imports ``__main__`` (a script without a main guard
    stays safe), but in a threaded program (the app) it could inherit a lock another thread
    holds: there, fresh interpreters are spawned instead.
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _text_flags_in_processes(
    names: tuple[FlagName, ...], queries: list[str] | None, answers: list[str] | None, workers: int | None
) -> dict[str, np.ndarray]:
    """:func:`_text_flags` over the rows, split over ``workers`` processes (:func:`_pool_context`).

    The rows go in a few chunks per worker, so an uneven share of long answers evens out.
    """
    if not names or answers is None:
        return {}
    n = len(answers)
    if workers is None:
        workers = _usable_cpus() if n >= PARALLEL_MIN_ROWS else 1
    workers = min(workers, max(n, 1))
    if workers <= 1:
        return _text_flags(names, queries, answers)
    cuts = np.linspace(0, n, 4 * workers + 1).astype(int)
    spans = list(zip(cuts[:-1], cuts[1:], strict=True))
    q_parts = [None if queries is None else queries[a:b] for a, b in spans]
    with ProcessPoolExecutor(workers, mp_context=_pool_context()) as pool:
        parts = list(pool.map(_text_flags, [names] * len(spans), q_parts, [answers[a:b] for a, b in spans]))
    return {name: np.concatenate([p[name] for p in parts]) for name in names}

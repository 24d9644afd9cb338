"""The column contract: every column the qaq table can carry, written down once.

One DataFrame flows through qaq: ``load -> score -> stratify/select -> export``. Each step
returns a new frame with more columns and never mutates its input. This module names those
columns; the boundaries (file loaders, the CLI, the app) validate against it, the inside trusts it.

Loaded data (one row per input record, in file order):

========== ======= =====================================================================
column     dtype   meaning
========== ======= =====================================================================
id         str     stable id: the file's id column when present and unique, else a hash
query      str     Q, the instruction (Alpaca: instruction + input)
answer     str     A, the response (chat: the final assistant turn)
context    str     earlier chat turns as a JSON list of {role, content}; "" when none
row        int     0-based record index in the source file
line       int     1-based line of the record in the source file (JSON array: record number)
skip       str     why the row is not scored ("empty query", "empty answer"); "" when scored
========== ======= =====================================================================

Every other field of the source passes through as its own column; a source field whose name
clashes with one of the above is kept as ``src_<name>``.

A score table has ``id``, ``qa_hash`` (:data:`QA_HASH`: 16 hex digits of sha256 over the row's
Q and A as scored, :func:`qaq.io.datasets.hash_id`; joining scores onto data checks it, so a row
whose text changed since scoring is never matched by its id alone) and, per scoring model
NAME (see :func:`score_column`): ``NAME_nll_q``, ``NAME_nll_q_given_a``,
``NAME_nll_a``, ``NAME_nll_a_given_q`` (mean token NLL, nats), ``NAME_rmi``, ``NAME_ifd``,
``NAME_n_tokens_q``, ``NAME_n_tokens_a`` (tokens scored), ``NAME_truncated`` (tokens dropped by
``max_length``). Derived by :mod:`qaq.select.strata`: ``NAME_stratum``, ``NAME_rank`` and, for a
strong/weak pair, ``diff`` and ``sum``.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

DATA_COLUMNS: dict[str, str] = {
    "id": "string",
    "query": "string",
    "answer": "string",
    "context": "string",
    "row": "int64",
    "line": "int64",
    "skip": "string",
}

# The per-row text fingerprint of a score table (see the module docstring).
QA_HASH = "qa_hash"

# Per-model score fields, in output order, with their pandas dtype.
SCORE_FIELDS: dict[str, str] = {
    "nll_q": "float64",
    "nll_q_given_a": "float64",
    "nll_a": "float64",
    "nll_a_given_q": "float64",
    "rmi": "float64",
    "ifd": "float64",
    "n_tokens_q": "Int64",
    "n_tokens_a": "Int64",
    "truncated": "Int64",
}

# What a scorer measures for one sample: the mean NLL of the four spans, then token counts. The
# other score fields derive from them (rmi = nll_q - nll_q_given_a, ifd = nll_a_given_q / nll_a).
SPAN_FIELDS: tuple[str, ...] = ("nll_q", "nll_q_given_a", "nll_a", "nll_a_given_q")
COUNT_FIELDS: tuple[str, ...] = ("n_tokens_q", "n_tokens_a", "truncated")
MEASURED_FIELDS: tuple[str, ...] = SPAN_FIELDS + COUNT_FIELDS
DERIVED_FIELDS: tuple[str, ...] = ("rmi", "ifd")
assert set(SCORE_FIELDS) == set(MEASURED_FIELDS + DERIVED_FIELDS)

# The fields a score table must have for a model to count as scored. The QAQ authors' files
# carry only these three (see qaq.io.scorefile.from_authors_format).
REQUIRED_SCORE_FIELDS: tuple[str, ...] = ("nll_q", "nll_q_given_a", "rmi")

# Column suffixes of the QAQ authors' script (rmi_math.py): {name}_log_PPL_Q etc.
AUTHORS_SUFFIXES: dict[str, str] = {
    "_log_PPL_Q_A": "nll_q_given_a",
    "_log_PPL_Q": "nll_q",
    "_RMI": "rmi",
}

SKIP_EMPTY_QUERY = "empty query"
SKIP_EMPTY_ANSWER = "empty answer"


def score_column(model: str, field: str) -> str:
    """Name of one model's score column, e.g. ``score_column("weak", "rmi") == "weak_rmi"``.

    Args:
        model: the short model name given on the command line (``--model NAME=SPEC``).
        field: one of :data:`SCORE_FIELDS` or a derived field (``stratum``, ``rank``).
    """
    return f"{model}_{field}"


def score_columns(model: str) -> list[str]:
    """All score columns of one model, in output order."""
    return [score_column(model, f) for f in SCORE_FIELDS]


def scored_models(columns: Iterable[str]) -> list[str]:
    """Model names that have every required score column, in column order.

    >>> scored_models(["id", "w_nll_q", "w_nll_q_given_a", "w_rmi", "s_rmi"])
    ['w']
    """
    cols = list(columns)
    present = set(cols)
    models: list[str] = []
    suffix = "_rmi"
    for c in cols:
        if c.endswith(suffix):
            name = c[: -len(suffix)]
            if name and all(score_column(name, f) in present for f in REQUIRED_SCORE_FIELDS):
                models.append(name)
    return models


def empty_scores(model: str, index: pd.Index) -> pd.DataFrame:
    """A frame of missing scores for ``model`` aligned with ``index`` (NaN / <NA>)."""
    return pd.DataFrame(
        {
            score_column(model, f): pd.Series(pd.NA if d == "Int64" else float("nan"), index=index, dtype=d)
            for f, d in SCORE_FIELDS.items()
        },
        index=index,
    )

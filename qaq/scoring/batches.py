"""Batches: cut encoded samples into token-budget batches, longest first, and score them one by one.

:func:`iter_scores` is the loop every engine runs (the local one in :mod:`qaq.scoring.engine`, the
Ray actors in :mod:`qaq.scoring.ray_stages`); it turns each batch's summed NLLs into means and
counts, and with ``embed`` passes on the batch's span embeddings. No torch at import time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import pandas as pd

from qaq.columns import COUNT_FIELDS, MEASURED_FIELDS, SPAN_FIELDS

if TYPE_CHECKING:
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.encoder import Encoded


def plan_batches(lengths: Sequence[int], batch_tokens: int) -> list[list[int]]:
    """Cut samples into batches, longest first, so that each forward stays within ``batch_tokens``
    padded tokens.

    ``lengths`` are per-sample widths (the longer pass). A batch of n samples runs as two
    forwards, one per pass, each of n rows padded to at most the batch's widest sample: n x L
    tokens. Sorting is stable (ties keep input order), so the same rows always give the same
    batches: a resumed run forms exactly the batches an uninterrupted one would have scored
    last. A sample longer than the budget gets a batch of its own.

    >>> plan_batches([5, 20, 10, 10], 40)
    [[1, 2], [3, 0]]
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    width = 0
    for i in order:
        w = max(width, lengths[i])
        if current and (len(current) + 1) * w > batch_tokens:
            batches.append(current)
            current, w = [], lengths[i]
        current.append(i)
        width = w
    if current:
        batches.append(current)
    return batches


@overload
def iter_scores(
    sm: ScoringModel,
    encoded: Sequence[Encoded],
    *,
    batch_tokens: int,
    padding_side: str = ...,
    embed: Literal[False] = ...,
) -> Iterator[tuple[list[int], pd.DataFrame]]: ...
@overload
def iter_scores(
    sm: ScoringModel, encoded: Sequence[Encoded], *, batch_tokens: int, padding_side: str = ..., embed: Literal[True]
) -> Iterator[tuple[list[int], pd.DataFrame, np.ndarray]]: ...
@overload
def iter_scores(
    sm: ScoringModel, encoded: Sequence[Encoded], *, batch_tokens: int, padding_side: str = ..., embed: bool
) -> Iterator[tuple[Any, ...]]: ...
def iter_scores(
    sm: ScoringModel,
    encoded: Sequence[Encoded],
    *,
    batch_tokens: int,
    padding_side: str = "right",
    embed: bool = False,
) -> Iterator[tuple[Any, ...]]:
    """Score encoded samples batch by batch; yields (indices into ``encoded``, their values), and
    with ``embed`` a third item, their span embeddings.

    Values: one row per sample of the batch, the fields of :data:`qaq.columns.MEASURED_FIELDS`
    (mean NLL of each span, NaN for an empty one, then the token counts). Embeddings: (batch, 2,
    hidden) float32, the mean last hidden state over each sample's query and answer in the
    forward layout (:class:`qaq.scoring.pooling.EmbeddedSums`); the values are the same either way.
    """
    for idx in plan_batches([sm.width(e) for e in encoded], batch_tokens):
        batch = [encoded[i] for i in idx]
        if embed:
            result = sm.score_batch(batch, padding_side=padding_side, embed=True)
            yield idx, _measured(batch, result.sums), result.pooled
        else:
            yield idx, _measured(batch, sm.score_batch(batch, padding_side=padding_side))


def _measured(batch: Sequence[Encoded], sums: pd.DataFrame) -> pd.DataFrame:
    """A batch's :data:`qaq.columns.MEASURED_FIELDS` from its summed span NLLs and its token counts."""
    counts = {
        "n_tokens_q": [e.n_q for e in batch],
        "n_tokens_a": [e.n_a for e in batch],
        "truncated": [e.truncated for e in batch],
    }
    n = {
        "nll_q": counts["n_tokens_q"],
        "nll_q_given_a": counts["n_tokens_q"],
        "nll_a": counts["n_tokens_a"],
        "nll_a_given_q": counts["n_tokens_a"],
    }
    values = {}
    for span in SPAN_FIELDS:
        tokens = np.asarray(n[span], dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            values[span] = np.where(tokens > 0, sums[span].to_numpy() / np.maximum(tokens, 1), np.nan)
    for count in COUNT_FIELDS:
        values[count] = np.asarray(counts[count], dtype=np.float64)
    return pd.DataFrame(values, columns=list(MEASURED_FIELDS))


def score_all(
    sm: ScoringModel, encoded: Sequence[Encoded], *, batch_tokens: int, padding_side: str = "right"
) -> pd.DataFrame:
    """:func:`iter_scores` of every sample, in ``encoded`` order: one row each, :data:`qaq.columns.MEASURED_FIELDS`."""
    out = np.full((len(encoded), len(MEASURED_FIELDS)), np.nan)
    for idx, values in iter_scores(sm, encoded, batch_tokens=batch_tokens, padding_side=padding_side):
        out[idx] = values[list(MEASURED_FIELDS)].to_numpy()
    return pd.DataFrame(out, columns=list(MEASURED_FIELDS))

"""Where a span's tokens sit in a pass's hidden states, and the span embeddings pooled over them.

``qaq score --embed`` keeps, per sample, the mean last hidden state over the query's tokens and
over the answer's tokens of the forward layout (Q then A), from the very forward that scores
them. Where a token's NLL is read from the row of position ``t - 1`` (:func:`predicting_rows`),
its own state is the row of position ``t`` (:func:`span_rows`). The means are summed in fp32
whatever the compute dtype, like the NLL sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch


@dataclass(frozen=True)
class EmbeddedSums:
    """What :meth:`qaq.scoring.backend.ScoringModel.score_batch` returns with ``embed=True``.

    Attributes:
        sums: the summed NLLs, as without ``embed`` (bit for bit: the same forward).
        pooled: (batch, 2, hidden) float32: per sample, the mean last hidden state of the decoder
            body over its ``fwd_q`` tokens (index 0) and its ``fwd_a`` tokens (index 1); NaN for
            an empty span.
    """

    sums: pd.DataFrame
    pooled: np.ndarray


def predicting_rows(start: int, end: int, *, first_row: int, skip: int) -> np.ndarray:
    """Rows of a pass's flat hidden states whose logits predict tokens ``[start, end)`` of one sequence.

    Token ``t`` is predicted by position ``t - 1``. The sequence's forwarded positions (all but
    the first ``skip``, run once in a reused prefix) start at row ``first_row``; the prefix's last
    position (``skip - 1``) is row 0.

    >>> predicting_rows(3, 6, first_row=10, skip=0)  # positions 2-4 of a row starting at row 10
    array([12, 13, 14])
    >>> predicting_rows(4, 7, first_row=1, skip=4)  # a reused 4-token prefix: position 3 is row 0
    array([0, 1, 2])
    """
    positions = np.arange(start, end) - 1
    return np.where(positions < skip, 0, first_row + positions - skip)


def span_rows(start: int, end: int, *, first_row: int, skip: int) -> np.ndarray:
    """Rows of a pass's flat hidden states that hold tokens ``[start, end)`` of one sequence.

    The sequence's forwarded positions (all but the first ``skip``, run once in a reused
    template prefix) start at row ``first_row``. A span never reaches into the template prefix
    (its states are not kept beyond the last one), so ``start >= skip`` for any non-empty span.

    >>> span_rows(3, 6, first_row=10, skip=0)  # positions 3-5 of a row starting at row 10
    array([13, 14, 15])
    >>> span_rows(4, 7, first_row=1, skip=4)  # after a reused 4-token prefix: position 4 is row 1
    array([1, 2, 3])

    Raises:
        ValueError: the span starts inside the reused prefix.
    """
    if end > start and start < skip:
        raise ValueError(f"span [{start}, {end}) starts inside the {skip}-token reused prefix")
    return first_row + np.arange(start, end) - skip


def mean_pool(hidden: torch.Tensor, rows: torch.Tensor, slots: torch.Tensor, n_slots: int) -> torch.Tensor:
    """Mean of ``hidden[rows]`` per slot, in fp32; NaN for a slot without rows (an empty span).

    Args:
        hidden: (N, H) flat hidden states of one pass, any float dtype.
        rows: (M,) the row of each pooled token.
        slots: (M,) the slot (sample and span) each token belongs to, in ``[0, n_slots)``.
        n_slots: how many slots there are.

    Returns:
        (n_slots, H) float32 on ``hidden``'s device.

    >>> h = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> mean_pool(h, torch.tensor([0, 2, 1]), torch.tensor([0, 0, 2]), 3)
    tensor([[3., 4.],
            [nan, nan],
            [3., 4.]])
    """
    sums = torch.zeros(n_slots, hidden.shape[-1], dtype=torch.float32, device=hidden.device)  # (S, H)
    sums.index_add_(0, slots, hidden.index_select(0, rows).float())
    counts = torch.zeros(n_slots, dtype=torch.float32, device=hidden.device)  # (S,)
    counts.index_add_(0, slots, torch.ones_like(slots, dtype=torch.float32))
    # 0 / 0 would be NaN too, but say it: an empty span has no mean, not a zero vector.
    means = sums / counts.clamp(min=1)[:, None]
    return means.masked_fill((counts == 0)[:, None], float("nan"))

"""An obviously correct, slow scorer: the yardstick for :mod:`qaq.scoring.backend`'s fast path.

It scores the way existing IFD tools do: one sample at a time, one forward per span (four per
sample), full-vocabulary logits, and the loss that transformers computes from ``labels`` over
the target span. It uses the same token ids as the fast path (:mod:`qaq.scoring.encoder`), so any
difference between the two is a bug in batching, padding, packing, prefix reuse or the chunked head.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from qaq.columns import SPAN_FIELDS
from qaq.scoring.backend import ScoringModel
from qaq.scoring.encoder import Encoded

# The four spans of a sample, each one forward: (sequence, span) -> score field.
_SPANS = (
    ("fwd", "fwd_q", "nll_q"),
    ("fwd", "fwd_a", "nll_a_given_q"),
    ("rev", "rev_q", "nll_q_given_a"),
    ("rev", "rev_a", "nll_a"),
)


@torch.inference_mode()
def reference_means(sm: ScoringModel, encoded: Sequence[Encoded]) -> pd.DataFrame:
    """Mean NLL of the four spans of each sample, naively: the fields of :data:`qaq.columns.SPAN_FIELDS`.

    Each span is scored by its own forward over the sequence up to the span's end, with
    ``labels`` set to -100 outside the span: the model's mean loss over the span. An empty span
    gives NaN, as in the fast path.
    """
    out = {field: np.full(len(encoded), np.nan) for field in SPAN_FIELDS}
    for j, e in enumerate(encoded):
        for sequence, span, field in _SPANS:
            seq, (start, end) = getattr(e, sequence), getattr(e, span)
            if end == start:
                continue
            ids = torch.tensor([seq[:end]], device=sm.device)  # (1, end)
            labels = torch.full_like(ids, -100)
            labels[0, start:end] = ids[0, start:end]
            out[field][j] = float(sm.model(input_ids=ids, labels=labels).loss)
    return pd.DataFrame(out)

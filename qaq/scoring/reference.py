"""An obviously correct, slow scorer: the yardstick for :mod:`qaq.scoring.backend`'s fast path.

It scores the way existing IFD tools do: one sample at a time, one forward per span (four per
sample), full-vocabulary logits, and the loss that transformers computes from ``labels`` over
the target span. It uses the same token ids as the fast path (:meth:`ScoringModel.encode`), so
any difference between the two is a bug in batching, padding, packing or the chunked head.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from qaq.scoring.backend import Encoded, ScoringModel


@torch.inference_mode()
def reference_sums(sm: ScoringModel, encoded: Sequence[Encoded]) -> np.ndarray:
    """Summed NLL of the four spans (``qaq.scoring.backend.SPANS`` order) for each sample, naively.

    Each span is scored by its own forward over the sequence up to the span's end, with
    ``labels`` set to -100 outside the span; the model's mean loss times the span length is
    the span's summed NLL.
    """
    out = np.zeros((len(encoded), 4), dtype=np.float64)
    for j, e in enumerate(encoded):
        for k, (seq, (start, end)) in enumerate(
            [(e.fwd, e.fwd_q), (e.fwd, e.fwd_a), (e.rev, e.rev_q), (e.rev, e.rev_a)]
        ):
            if end == start:
                continue
            ids = torch.tensor([seq[:end]], device=sm.device)  # (1, end)
            labels = torch.full_like(ids, -100)
            labels[0, start:end] = ids[0, start:end]
            loss = sm.model(input_ids=ids, labels=labels).loss
            out[j, k] = float(loss) * (end - start)
    return out

"""What a scoring run would cost: the tokens it forwards, and the time a short calibration predicts.

:func:`estimate_cost` times the model on a few rows spread over the data's length range before a
run, on a token budget bounded so that the estimate costs a small part of the run
(:func:`calibration_budget`); :func:`duration_text` says such an estimate (or an ETA) roughly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.engine import ScoringConfig

# The most tokens a CPU calibration forwards. A CPU's tokens/s barely depends on the batch size, so a
# few rows time it: on 2 AMD EPYC cores (AVX2, fp32) SmolLM2-135M forwards about 140 tokens/s per
# core, so 1,024 tokens take 4-8 s. The calibration of issue 16 forwarded two full 4,096-token
# budgets after a full warm-up batch: on a 5-row file that was twice the run's own scoring.
CPU_CALIBRATION_TOKENS = 1024
# The calibration forwards at most this share of the run's tokens (but always one row), so the
# estimate never costs more than a part of what it estimates.
CALIBRATION_SHARE = 0.25


def duration_text(seconds: float | None) -> str:
    """A rough duration for an estimate: seconds under 90 s, minutes under 90 min, else hours.

    >>> duration_text(42), duration_text(600), duration_text(9000), duration_text(float("nan"))
    ('42 s', '10 min', '2.5 h', 'unknown')
    """
    if seconds is None or not np.isfinite(seconds):
        return "unknown"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def calibration_budget(tokens: int, *, batch_tokens: int, device: str, forwards: int = 2) -> int:
    """The most tokens a calibration forwards for a run of ``tokens`` tokens.

    On a GPU, ``forwards`` full batches of ``batch_tokens`` (a handful of rows would time kernel
    launches, not the run); on a CPU at most :data:`CPU_CALIBRATION_TOKENS`; never more than
    :data:`CALIBRATION_SHARE` of the run (at least 1: the calibration then times one row).

    >>> calibration_budget(1720, batch_tokens=4096, device="cpu")
    430
    >>> calibration_budget(10**6, batch_tokens=4096, device="cpu"), calibration_budget(10**6, batch_tokens=16384, device="cuda")
    (1024, 32768)
    """
    full = forwards * batch_tokens
    if device == "cpu":
        full = min(full, CPU_CALIBRATION_TOKENS)
    return max(1, min(full, int(tokens * CALIBRATION_SHARE)))


def estimate_cost(
    sm: ScoringModel,
    data: pd.DataFrame,
    *,
    config: ScoringConfig,
    calibration_samples: int = 8,
    calibration_forwards: int = 2,
) -> dict[str, Any]:
    """Count the tokens a run would forward and time a short calibration on the chosen device.

    The calibration scores up to ``calibration_samples`` rows spread evenly over the length range
    (fewer when they would exceed :func:`calibration_budget`; one row, the median, when even two
    do), after a warm-up on the shortest row (on a GPU, its first batch: allocations and kernels), so
    the estimate reflects the data's length mix and costs a small, bounded part of the run. It
    runs eagerly and never compiles: when the run would compile (``will_compile``), the estimate
    is an upper bound.

    Returns:
        ``rows``, ``tokens`` (forwarded by the run), ``truncated_rows``, ``will_compile``;
        ``calibration_rows``, ``calibration_tokens`` (timed), ``warmup_tokens``,
        ``calibration_seconds``, ``calibration_tokens_per_s`` and ``estimated_seconds``.
    """
    # On call: qaq.scoring.engine re-exports this function, so importing it at the top would be circular.
    from qaq.scoring.engine import batch_budget, iter_scores, plan_batches, should_compile

    scorable = data[data["skip"].fillna("") == ""]
    encoded = sm.encoder.encode_many(
        scorable["query"].tolist(), scorable["answer"].tolist(), max_length=config.max_length
    )
    costs = [sm.forwarded(e) for e in encoded]
    tokens = sum(costs)
    budget = batch_budget(config, sm.device)
    result: dict[str, Any] = {
        "rows": len(encoded),
        "tokens": tokens,
        "truncated_rows": sum(1 for e in encoded if e.truncated),
        "will_compile": should_compile(config, sm.device, sm.precision, tokens),
        "calibration_rows": 0,
        "calibration_tokens": 0,
        "warmup_tokens": 0,
        "calibration_seconds": float("nan"),
        "calibration_tokens_per_s": float("nan"),
        "estimated_seconds": float("nan"),
    }
    if not encoded:
        return result
    cap = calibration_budget(tokens, batch_tokens=budget, device=sm.device, forwards=calibration_forwards)
    sample = [encoded[i] for i in _calibration_sample(costs, calibration_samples, cap)]  # ascending by cost
    cheapest = encoded[min(range(len(costs)), key=costs.__getitem__)]
    batches = plan_batches([sm.width(e) for e in sample], budget)
    warmup = [cheapest] if sm.device == "cpu" else [sample[i] for i in batches[0]]
    sm.score_batch(warmup, padding_side=config.padding_side)  # allocations, kernels, the template prefixes
    t0 = time.perf_counter()
    for _ in iter_scores(sm, sample, batch_tokens=budget, padding_side=config.padding_side):
        pass
    seconds = time.perf_counter() - t0
    cal_tokens = sum(map(sm.forwarded, sample))
    rate = cal_tokens / seconds if seconds > 0 else float("inf")
    result["calibration_rows"], result["calibration_tokens"] = len(sample), cal_tokens
    result["warmup_tokens"] = sum(map(sm.forwarded, warmup))
    result["calibration_seconds"], result["calibration_tokens_per_s"] = seconds, rate
    result["estimated_seconds"] = tokens / rate
    return result


def _calibration_sample(costs: Sequence[int], rows: int, tokens: int) -> list[int]:
    """Indices of rows at evenly spaced quantiles of ``costs`` (tokens per row), ascending by cost,
    whose costs sum to at most ``tokens``: ``rows`` of them, halved while they exceed it, doubled
    while more still fit. When no two fit, one row: the median one, else the cheapest (a short row
    alone overstates the cost per token: the fixed cost of a forward weighs more in it).

    >>> _calibration_sample([40, 10, 30, 20], 2, 50), _calibration_sample([40, 10, 30, 20], 2, 45)
    ([1, 0], [2])
    >>> _calibration_sample([40, 10, 30, 20], 2, 20), _calibration_sample([40, 10, 30, 20], 1, 10**6)
    ([1], [1, 3, 2, 0])
    """
    order = sorted(range(len(costs)), key=lambda i: costs[i])

    def spread(k: int) -> list[int]:
        picked = sorted({int(round(q * (len(order) - 1))) for q in np.linspace(0, 1, min(k, len(order)))})
        return [order[j] for j in picked]

    def cost(picked: list[int]) -> int:
        return sum(costs[i] for i in picked)

    k = max(1, min(rows, len(order)))
    while k > 1 and cost(spread(k)) > tokens:
        k //= 2
    median = order[len(order) // 2]
    picked = spread(k) if k > 1 else [median] if costs[median] <= tokens else [order[0]]
    while k < len(order) and cost(bigger := spread(2 * k)) <= tokens:
        picked, k = bigger, 2 * k
    return picked

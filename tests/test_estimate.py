"""The cost estimate: what it counts, and a calibration whose work is bounded (tokens, not wall time)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from qaq.io.datasets import load_dataset
from qaq.scoring.backend import ScoringModel
from qaq.scoring.engine import ScoringConfig
from qaq.scoring.estimate import (
    CALIBRATION_SHARE,
    CPU_CALIBRATION_TOKENS,
    _calibration_sample,
    calibration_budget,
    estimate_cost,
)
from qaq.scoring.models import resolve_model


def _data(tmp_path: Path, n: int) -> pd.DataFrame:
    rows = [
        {
            "id": f"r{i}",
            "instruction": f"Write a function that sorts list number {i}." + " carefully" * (i % 7),
            "response": f"def f{i}(x):\n    return sorted(x)\n" + "# step\n" * (i % 11),
        }
        for i in range(n)
    ]
    path = tmp_path / f"d{n}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return load_dataset(path)


@pytest.fixture(scope="module")
def sm(tiny_model_dir) -> ScoringModel:
    return ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype="fp32")


@pytest.fixture
def counted(sm, monkeypatch) -> list[int]:
    """Tokens forwarded by each score_batch call of ``sm`` (both passes); compiling fails the test."""
    calls: list[int] = []
    real = sm.score_batch

    def score_batch(batch, **kw):
        calls.append(sum(sm.forwarded(e) for e in batch))
        return real(batch, **kw)

    monkeypatch.setattr(sm, "score_batch", score_batch)
    monkeypatch.setattr(sm, "compile", lambda **kw: pytest.fail("the estimate compiled the model"))
    return calls


def test_calibration_budget_is_a_share_of_the_run_and_capped_on_a_cpu():
    assert calibration_budget(1720, batch_tokens=4096, device="cpu") == int(1720 * CALIBRATION_SHARE)
    assert calibration_budget(10**7, batch_tokens=4096, device="cpu") == CPU_CALIBRATION_TOKENS
    assert calibration_budget(10**7, batch_tokens=300, device="cpu") == 600  # two forwards of a small budget
    assert calibration_budget(10**7, batch_tokens=16384, device="cuda:0") == 2 * 16384  # full GPU batches
    assert calibration_budget(10**7, batch_tokens=16384, device="cuda", forwards=1) == 16384
    assert calibration_budget(2, batch_tokens=4096, device="cpu") == 1  # never nothing


def test_calibration_sample_spans_lengths_within_its_budget():
    costs = list(range(100, 0, -1))  # row i costs 100 - i tokens
    spread = _calibration_sample(costs, 8, 10**9)
    assert len(spread) == 100  # doubled while everything fits
    few = _calibration_sample(costs, 8, 500)
    assert sum(costs[i] for i in few) <= 500 and len(few) >= 4
    assert costs[few[0]] == 1 and costs[few[-1]] == 100  # both ends of the length range
    assert [costs[i] for i in few] == sorted(costs[i] for i in few)
    assert _calibration_sample(costs, 8, 50) == [99]  # no two rows spread over the range fit: the cheapest
    assert len(_calibration_sample(costs[:3], 8, 10**9)) == 3


def test_a_five_row_estimate_forwards_less_than_half_of_the_run(sm, counted, tmp_path):
    """Issue 16: estimating a 5-row file scored it twice (a warm-up batch, then the calibration)."""
    data = _data(tmp_path, 5)
    est = estimate_cost(sm, data, config=ScoringConfig(device="cpu"))
    assert est["rows"] == 5 and est["tokens"] > 0
    assert sum(counted) == est["warmup_tokens"] + est["calibration_tokens"]  # what it says is what it did
    assert sum(counted) < est["tokens"] / 2
    cheapest = min(sm.forwarded(e) for e in sm.encoder.encode_many(data["query"].tolist(), data["answer"].tolist(),
                                                                     max_length=2048))
    assert est["warmup_tokens"] == cheapest  # a CPU warms up on one short row
    assert est["calibration_tokens"] <= max(int(est["tokens"] * CALIBRATION_SHARE), cheapest)
    assert est["calibration_seconds"] > 0 and est["estimated_seconds"] > 0 and not sm.compiled


def test_a_large_estimate_forwards_at_most_the_cpu_cap(sm, counted, tmp_path):
    data = _data(tmp_path, 300)
    est = estimate_cost(sm, data, config=ScoringConfig(device="cpu", compile="on"))
    assert est["tokens"] > 10 * CPU_CALIBRATION_TOKENS and est["will_compile"]  # the run would; the estimate not
    assert est["calibration_tokens"] <= CPU_CALIBRATION_TOKENS and est["calibration_rows"] >= 4
    assert sum(counted) <= CPU_CALIBRATION_TOKENS + est["warmup_tokens"]
    assert est["calibration_tokens_per_s"] > 0


def test_the_estimate_counts_what_the_run_forwards(sm, tmp_path):
    data = _data(tmp_path, 12)
    data.loc[3, "skip"] = "empty answer"  # not scored, not counted
    est = estimate_cost(sm, data, config=ScoringConfig(device="cpu", max_length=256))
    encoded = sm.encoder.encode_many(data["query"].tolist(), data["answer"].tolist(), max_length=256)
    kept = [e for i, e in enumerate(encoded) if i != 3]
    assert est["rows"] == 11 and est["tokens"] == sum(sm.forwarded(e) for e in kept)
    assert est["truncated_rows"] == sum(1 for e in kept if e.truncated) > 0


def test_nothing_to_score_estimates_nothing(sm, counted, tmp_path):
    data = _data(tmp_path, 2).assign(skip="empty query")
    est = estimate_cost(sm, data, config=ScoringConfig(device="cpu"))
    assert est["rows"] == est["tokens"] == est["calibration_tokens"] == 0 and not counted

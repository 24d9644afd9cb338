"""score_frame and the score cache: resumable, incremental, never losing or inventing rows."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qaq.columns import score_columns
from qaq.io.datasets import load_dataset
from qaq.io.pairs import hash_id
from qaq.io.scorefile import load_scores
from qaq.scoring.backend import ScoringModel
from qaq.scoring.cache import ScoreCache
from qaq.scoring.engine import (
    COMPILE_MIN_TOKENS,
    COMPILE_MIN_TOKENS_GPU,
    ScoringConfig,
    batch_budget,
    plan_batches,
    score_frame,
    should_compile,
)
from qaq.scoring.models import resolve_model

FP32 = ScoringConfig(device="cpu", dtype="fp32", max_length=700, batch_tokens=2000)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def make_rows(n: int) -> list[dict]:
    words = ["sort", "list", "string", "parse", "json", "file", "sum", "graph", "tree", "regex"]
    rows = []
    for i in range(n):
        w1, w2 = words[i % 10], words[(i * 7 + 3) % 10]
        rows.append({
            "id": f"r{i}",
            "instruction": f"Write a function to {w1} a {w2} number {i}." + " please" * (i % 13),
            "response": f"def f{i}(x):\n    return {w1}(x) + {i}\n" + "# note\n" * (i % 17),
        })
    return rows


@pytest.fixture(scope="module")
def sm(tiny_model_dir) -> ScoringModel:
    return ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype="fp32")


@pytest.fixture()
def data(tmp_path) -> pd.DataFrame:
    rows = make_rows(12)
    rows[3]["response"] = "   "  # reported and not scored, never dropped
    return load_dataset(write_jsonl(tmp_path / "d.jsonl", rows))


def test_score_frame_columns_and_formulas(sm, data):
    out = score_frame(data, {"t": sm}, config=FP32)
    assert list(out.columns) == ["id", "qa_hash", *score_columns("t")]
    assert out["id"].tolist() == data["id"].tolist()
    assert out["qa_hash"].tolist() == [hash_id(q, a) for q, a in zip(data["query"], data["answer"])]
    assert out.loc[3, score_columns("t")].isna().all()  # the empty answer: a row with empty scores
    ok = out.drop(index=3)
    np.testing.assert_allclose(ok["t_rmi"], ok["t_nll_q"] - ok["t_nll_q_given_a"])
    np.testing.assert_allclose(ok["t_ifd"], ok["t_nll_a_given_q"] / ok["t_nll_a"])
    assert (ok["t_n_tokens_q"] > 0).all() and (ok["t_truncated"] == 0).all()
    meta = out.attrs["qaq_run"]
    assert meta["models"]["t"]["dtype"] == "fp32" and meta["models"]["t"]["template"]["kind"] == "chat"
    assert meta["config"]["max_length"] == 700


def test_cache_resumes_and_adds_one_row(sm, data, tmp_path):
    cache = ScoreCache(tmp_path / "cache")
    first = score_frame(data, {"t": sm}, config=FP32, cache=cache)
    assert first.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 11
    again = score_frame(data, {"t": sm}, config=FP32, cache=cache)
    assert again.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 0
    pd.testing.assert_frame_equal(first, again)
    grown = pd.concat([data, data.iloc[[0]].assign(id="new", query="A brand new question?", row=12)],
                      ignore_index=True)
    third = score_frame(grown, {"t": sm}, config=FP32, cache=cache)
    assert third.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 1
    pd.testing.assert_frame_equal(third.iloc[:12], first)


def test_cache_key_covers_config(sm, data, tmp_path):
    cache = ScoreCache(tmp_path / "cache")
    score_frame(data, {"t": sm}, config=FP32, cache=cache)
    shorter = ScoringConfig(device="cpu", dtype="fp32", max_length=300, batch_tokens=2000)
    out = score_frame(data, {"t": sm}, config=shorter, cache=cache)
    assert out.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 11


def test_plan_batches_budget_and_order():
    lengths = [5, 50, 20, 20, 7, 50]
    batches = plan_batches(lengths, 120)
    assert batches == [[1, 5], [2, 3, 4, 0]]  # longest first, ties in input order
    for b in batches:  # each forward (one per pass): rows x widest sample within the budget
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 120
    assert plan_batches(lengths, 1) == [[1], [5], [2], [3], [4], [0]]  # too long: a batch each


def test_device_defaults_and_compile_policy():
    assert batch_budget(ScoringConfig(), "cpu") == 4096
    assert batch_budget(ScoringConfig(), "cuda:0") == 16384
    assert batch_budget(ScoringConfig(batch_tokens=512), "cpu") == 512
    auto, big = ScoringConfig(), COMPILE_MIN_TOKENS
    assert should_compile(auto, "cpu", "bf16", big)
    assert not should_compile(auto, "cpu", "bf16", big - 1)  # too small to pay for compiling
    assert not should_compile(auto, "cpu", "fp32", big)  # measured slower compiled
    assert not should_compile(auto, "cpu", "bf16-mixed", big)
    assert not should_compile(auto, "cuda:0", "bf16", big)  # a cold GPU compile needs a longer run
    assert should_compile(auto, "cuda:0", "bf16", COMPILE_MIN_TOKENS_GPU)
    assert not should_compile(auto, "cuda:0", "bf16", COMPILE_MIN_TOKENS_GPU - 1)
    assert not should_compile(auto, "cuda:0", "fp32", 10 * COMPILE_MIN_TOKENS_GPU)
    assert should_compile(ScoringConfig(compile="on"), "cuda:0", "fp32", 1)
    assert not should_compile(ScoringConfig(compile="off"), "cpu", "bf16", 10 * big)
    with pytest.raises(ValueError, match="compile must be"):
        ScoringConfig(compile="yes")


def test_score_frame_records_compilation(tiny_model_dir, data):
    sm = ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype="fp32")
    out = score_frame(data, {"m": sm}, config=ScoringConfig(device="cpu", dtype="fp32", max_length=700, compile="on"))
    assert out.attrs["qaq_run"]["models"]["m"]["compiled"] is True
    assert out.attrs["qaq_run"]["config"]["compile"] == "on"
    plain = score_frame(data, {"m": str(tiny_model_dir)}, config=FP32)
    np.testing.assert_allclose(out["m_rmi"], plain["m_rmi"], atol=1e-4)
    assert plain.attrs["qaq_run"]["models"]["m"]["compiled"] is False


def test_score_file_round_trip_with_metadata(sm, data, tmp_path):
    from qaq.io.scorefile import write_scores

    out = score_frame(data, {"t": sm}, config=FP32)
    write_scores(out, tmp_path / "s.parquet", out.attrs["qaq_run"])
    back, meta = load_scores(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(back[out.columns.tolist()], out, check_dtype=False)
    assert meta["models"]["t"]["identity"].startswith("files:")


def _cli(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qaq.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, **(env or {})}, **kw)


def _cached_rows(cache_dir: Path, table: str = "scores") -> int:
    """Rows in a table of the score cache (``scores`` or ``embeddings``); 0 before it exists."""
    try:
        with sqlite3.connect(cache_dir / "scores.sqlite", timeout=1) as db:
            return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.Error:  # no cache file or no such table yet
        return 0


def kill_midway(tmp_path: Path, args: list[str], out: Path, n: int, *, table: str = "scores") -> Path:
    """Start ``qaq`` with ``args -o out`` and a new cache, SIGKILL it once a quarter of the ``n`` rows are
    in the cache's ``table`` (waiting on the cache, not on time), and return that cache's folder,
    holding some rows but not all (three tries, then the test fails)."""
    for attempt in range(3):
        cache_dir = tmp_path / f"c2-{attempt}"
        proc = _cli(*args, "-o", str(out), "--cache-dir", str(cache_dir))
        while proc.poll() is None and _cached_rows(cache_dir, table) < n // 4:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if 0 < _cached_rows(cache_dir, table) < n:
            return cache_dir
    pytest.fail("could not kill the run mid-way")


def test_sigkill_mid_run_then_resume_equals_uninterrupted(tiny_model_dir, tmp_path):
    n = 300
    src = write_jsonl(tmp_path / "big.jsonl", make_rows(n))
    common = ["score", str(src), "-m", f"t={tiny_model_dir}", "--device", "cpu", "--dtype", "fp32",
              "--batch-tokens", "1", "--max-length", "700", "-q"]
    whole = _cli(*common, "-o", str(tmp_path / "whole.parquet"), "--cache-dir", str(tmp_path / "c1"))
    assert whole.wait(timeout=600) == 0, whole.stderr.read().decode()

    out = tmp_path / "resumed.parquet"
    cache_dir = kill_midway(tmp_path, common, out, n)
    done = _cached_rows(cache_dir)
    assert not out.exists()  # nothing half-written
    resumed = _cli(*common, "-o", str(out), "--cache-dir", str(cache_dir))
    assert resumed.wait(timeout=600) == 0
    assert f"{n - done} rows scored, {done} from cache" in resumed.stderr.read().decode()
    a, _ = load_scores(tmp_path / "whole.parquet")
    b, _ = load_scores(out)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert b["id"].is_unique and len(b) == n


@pytest.mark.parametrize(("field", "value", "message"), [
    ("dtype", "int8", "dtype must be one of auto, bf16, bf16-mixed, fp16, fp32, got 'int8'"),
    ("device", "gpu", "device must be auto, cpu, mps, cuda or cuda:N, got 'gpu'"),
    ("template", "chatml", "template must be one of auto, chat, plain, got 'chatml'"),
    ("compile", "yes", "compile must be one of auto, on, off, got 'yes'"),
    ("padding_side", "middle", "padding_side must be one of left, right, got 'middle'"),
])
def test_config_modes_are_checked_at_construction(field, value, message):
    with pytest.raises(ValueError) as e:
        ScoringConfig(**{field: value})
    assert str(e.value) == message
    assert ScoringConfig(device="cuda:1").device == "cuda:1"

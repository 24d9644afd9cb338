"""Span embeddings from the scoring forward (`qaq score --embed`): the scores do not move, the
vectors are the naive mean of the hidden states, and they survive the cache, a kill and the CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from test_backend import ANSWERS, QUERIES
from test_scoring import FP32, _cached_rows, _cli, kill_midway, make_rows, write_jsonl

from qaq.cli import cli
from qaq.io.datasets import load_dataset
from qaq.io.embeddingfile import embeddings_path, load_embeddings
from qaq.io.scorefile import load_scores
from qaq.scoring.backend import ScoringModel
from qaq.scoring.cache import ScoreCache
from qaq.scoring.engine import iter_scores, score_frame, score_frame_embedded
from qaq.scoring.models import resolve_model


def _model(directory: Path, **kw) -> ScoringModel:
    return ScoringModel(resolve_model(str(directory)), device="cpu", dtype="fp32", **kw)


@pytest.fixture(scope="module")
def models(tiny_model_dir, tiny_gemma3_dir) -> dict[str, ScoringModel]:
    """The layouts scoring runs in: a reused template prefix, whole sequences, one packed row, and
    Gemma 3's sliding window after a reused forward prefix."""
    return {
        "reused": _model(tiny_model_dir),
        "whole": _model(tiny_model_dir, reuse_prefix=False),
        "packed": _model(tiny_model_dir, pack=True),
        "gemma3": _model(tiny_gemma3_dir),
    }


CASES = [("reused", "right"), ("reused", "left"), ("whole", "right"), ("packed", "right"), ("gemma3", "right")]


def _naive_pooled(sm: ScoringModel, e) -> np.ndarray:
    """The decoder body over the whole forward sequence alone; the mean of its states over each span."""
    with torch.inference_mode():
        hidden = sm.body(input_ids=torch.tensor([e.fwd])).last_hidden_state[0]  # (T, H)
    return np.stack([hidden[start:end].mean(0).numpy() for start, end in (e.fwd_q, e.fwd_a)])


@pytest.mark.parametrize(("layout", "padding_side"), CASES)
def test_embedding_does_not_change_a_score(models, layout, padding_side):
    sm = models[layout]
    assert sm.prefixes.reused == (layout in ("reused", "gemma3"))
    encoded = sm.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    for batch_tokens in (900, 10**6):  # mixed batches, and one batch of all rows
        plain = list(iter_scores(sm, encoded, batch_tokens=batch_tokens, padding_side=padding_side))
        embedded = list(iter_scores(sm, encoded, batch_tokens=batch_tokens, padding_side=padding_side, embed=True))
        assert [idx for idx, _ in plain] == [idx for idx, _, _ in embedded]
        for (_, values), (idx, values_e, pooled) in zip(plain, embedded):
            pd.testing.assert_frame_equal(values, values_e, check_exact=True)
            assert pooled.shape == (len(idx), 2, sm.head_weight.shape[1]) and pooled.dtype == np.float32
    sums = sm.score_batch(encoded, padding_side=padding_side)
    pd.testing.assert_frame_equal(sums, sm.score_batch(encoded, padding_side=padding_side, embed=True).sums,
                                  check_exact=True)


@pytest.mark.parametrize(("layout", "padding_side"), CASES)
def test_pooled_vectors_equal_the_naive_mean(models, layout, padding_side):
    sm = models[layout]
    encoded = sm.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    assert max(len(e.fwd) for e in encoded) > 3 * 64  # past Gemma 3's window
    for idx, _, pooled in iter_scores(sm, encoded, batch_tokens=900, padding_side=padding_side, embed=True):
        for j, i in enumerate(idx):
            np.testing.assert_allclose(pooled[j], _naive_pooled(sm, encoded[i]), atol=1e-4, rtol=0)
    # The spans' own states, not the states that predict them (one position earlier).
    e = encoded[0]
    got = sm.score_batch([e], padding_side=padding_side, embed=True).pooled[0]
    with torch.inference_mode():
        hidden = sm.body(input_ids=torch.tensor([e.fwd])).last_hidden_state[0]
    shifted = hidden[e.fwd_q[0] - 1 : e.fwd_q[1] - 1].mean(0).numpy()
    assert np.abs(got[0] - shifted).max() > 1e-2


def test_an_empty_answer_gives_a_nan_answer_vector(models):
    sm = models["reused"]
    ids = sm.encoder.user_ids(["Sum a list."])[0]
    empty = sm.encoder.encode_ids(ids, [], max_length=700)
    full = sm.encoder.encode(QUERIES[0], ANSWERS[0], max_length=700)
    assert empty.n_a == 0
    pooled = sm.score_batch([full, empty], embed=True).pooled
    assert np.isnan(pooled[1, 1]).all() and np.isfinite(pooled[1, 0]).all() and np.isfinite(pooled[0]).all()
    np.testing.assert_allclose(pooled[1, 0], _naive_pooled(sm, empty)[0], atol=1e-4)


@pytest.fixture()
def data(tmp_path) -> pd.DataFrame:
    rows = make_rows(12)
    rows[3]["response"] = "   "  # skipped: a NaN row in every model's vectors
    rows[7] = {**rows[2], "id": "twin"}  # the same pair as row 2: scored once, embedded alike
    return load_dataset(write_jsonl(tmp_path / "d.jsonl", rows))


def _embeddings_rows(cache: ScoreCache) -> int | None:
    """Rows of the cache's embeddings table; None when it does not exist."""
    with sqlite3.connect(cache.path) as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'embeddings'").fetchone() is None:
            return None
        return int(db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])


def test_frame_embeddings_line_up_with_the_table(models, data):
    sm = models["reused"]
    plain = score_frame(data, {"t": sm}, config=FP32)
    scores, emb = score_frame_embedded(data, {"t": sm}, config=FP32)
    pd.testing.assert_frame_equal(scores, plain, check_exact=True)
    assert emb.ids.tolist() == scores["id"].tolist() and emb.models == ["t"]
    q, a = emb.span("t", "q"), emb.span("t", "a")
    assert q.dtype == np.float16 and q.shape == (12, sm.head_weight.shape[1])
    assert np.isnan(q[3]).all() and np.isnan(a[3]).all()
    assert np.isfinite(np.delete(q, 3, axis=0)).all() and np.isfinite(np.delete(a, 3, axis=0)).all()
    np.testing.assert_array_equal(q[7], q[2])
    e = sm.encoder.encode(data["query"].iloc[5], data["answer"].iloc[5], max_length=FP32.max_length)
    np.testing.assert_allclose(np.stack([q[5], a[5]]).astype(np.float32), _naive_pooled(sm, e), atol=2e-3)
    meta = emb.meta["models"]["t"]
    assert meta == {"width": 48, "spec": sm.source.spec, "identity": sm.source.identity, "precision": "fp32",
                    "template_sha256": sm.layout.sha256}
    assert scores.attrs["qaq_run"]["embeddings"]["kept"] and not plain.attrs["qaq_run"]["embeddings"]["kept"]


def test_the_cache_keeps_embeddings_and_a_plain_run_leaves_them_alone(models, data, tmp_path):
    sm = models["reused"]
    cache = ScoreCache(tmp_path / "c1")
    first, emb1 = score_frame_embedded(data, {"t": sm}, config=FP32, cache=cache)
    assert first.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 10  # 11 scorable rows, one pair twice
    assert _embeddings_rows(cache) == 10
    again, emb2 = score_frame_embedded(data, {"t": sm}, config=FP32, cache=cache)
    assert again.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 0
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    for key in emb1.vectors:
        np.testing.assert_array_equal(emb1.vectors[key], emb2.vectors[key])
    plain = score_frame(data, {"t": sm}, config=FP32, cache=cache)  # reads the scores, not the embeddings
    assert plain.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 0

    # Scored without embeddings first (the cache has no embeddings table): an embedding run scores again.
    fresh = ScoreCache(tmp_path / "c2")
    score_frame(data, {"t": sm}, config=FP32, cache=fresh)
    assert _embeddings_rows(fresh) is None  # never written by a run without embeddings
    rerun, emb3 = score_frame_embedded(data, {"t": sm}, config=FP32, cache=fresh)
    assert rerun.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 10 and _embeddings_rows(fresh) == 10
    pd.testing.assert_frame_equal(rerun, first, check_exact=True)
    for key in emb1.vectors:
        np.testing.assert_array_equal(emb3.vectors[key], emb1.vectors[key])


def test_a_killed_embedding_run_resumes_with_the_same_embeddings(tiny_model_dir, tmp_path):
    n = 160
    src = write_jsonl(tmp_path / "big.jsonl", make_rows(n))
    common = ["score", str(src), "-m", f"t={tiny_model_dir}", "--device", "cpu", "--dtype", "fp32",
              "--batch-tokens", "1", "--max-length", "700", "--embed", "-q"]
    whole = _cli(*common, "-o", str(tmp_path / "whole.parquet"), "--cache-dir", str(tmp_path / "c1"))
    assert whole.wait(timeout=600) == 0, whole.stderr.read().decode()

    out = tmp_path / "resumed.parquet"
    cache_dir = kill_midway(tmp_path, common, out, n, table="embeddings")
    done = _cached_rows(cache_dir, "embeddings")
    assert not out.exists() and not embeddings_path(out).exists()  # neither file half-written
    resumed = _cli(*common, "-o", str(out), "--cache-dir", str(cache_dir))
    assert resumed.wait(timeout=600) == 0
    assert f"{n - done} rows scored, {done} from cache" in resumed.stderr.read().decode()
    a, b = load_embeddings(embeddings_path(tmp_path / "whole.parquet")), load_embeddings(embeddings_path(out))
    assert a.ids.tolist() == b.ids.tolist() and sorted(a.vectors) == sorted(b.vectors) == ["t__a", "t__q"]
    for key in a.vectors:
        np.testing.assert_array_equal(a.vectors[key], b.vectors[key])
    pd.testing.assert_frame_equal(load_scores(tmp_path / "whole.parquet")[0], load_scores(out)[0], check_exact=True)


def _data(tmp_path: Path, name: str = "d.jsonl") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps({"id": "x1", "instruction": "Reverse a string in Python.", "output": "s[::-1]"}) + "\n"
                 + json.dumps({"id": "x2", "instruction": "Sum a list.", "output": "sum(xs)"}) + "\n"
                 + json.dumps({"id": "x3", "instruction": "Nothing here.", "output": " "}) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_cli_writes_scores_and_embeddings_with_the_same_ids(tiny_model_dir, tmp_path, suffix):
    out = tmp_path / f"s{suffix}"
    res = CliRunner().invoke(cli, ["score", str(_data(tmp_path)), "-m", f"tiny={tiny_model_dir}", "--device", "cpu",
                                   "--dtype", "fp32", "-o", str(out), "--no-cache", "--embed", "-q"])
    assert res.exit_code == 0, res.output
    emb_file = tmp_path / "s.embed.npz"
    assert f"wrote {out} (3 rows) and their embeddings {emb_file}" in res.output
    scores, meta = load_scores(out)
    emb = load_embeddings(emb_file)
    assert emb.ids.tolist() == scores["id"].astype(str).tolist() == ["x1", "x2", "x3"]
    assert emb.models == ["tiny"] and emb.meta["models"]["tiny"]["width"] == 48
    assert emb.meta["models"]["tiny"]["identity"] == meta["models"]["tiny"]["identity"]
    assert np.isfinite(emb.span("tiny", "a")[:2]).all() and np.isnan(emb.span("tiny", "a")[2]).all()
    assert meta["embeddings"]["kept"] is True


def test_cli_without_embed_writes_no_embeddings(tiny_model_dir, tmp_path):
    out = tmp_path / "s.parquet"
    res = CliRunner().invoke(cli, ["score", str(_data(tmp_path)), "-m", f"tiny={tiny_model_dir}", "--device", "cpu",
                                   "--dtype", "fp32", "-o", str(out), "--no-cache", "-q"])
    assert res.exit_code == 0, res.output
    assert out.exists() and not (tmp_path / "s.embed.npz").exists() and "embeddings" not in res.output
    assert load_scores(out)[1]["embeddings"] == {"kept": False}


def test_cli_refuses_embed_on_ray_and_an_embedding_file_over_the_input(tmp_path):
    data = _data(tmp_path)
    res = CliRunner().invoke(cli, ["score", str(data), "-m", "w=./no/such/model", "--engine", "ray", "--embed",
                                   "-o", str(tmp_path / "s.parquet")])
    assert res.exit_code == 2 and "--embed is supported by the local engine only" in res.output
    # The input is where the embeddings of -o would go: refused before any model loads, nothing written.
    clash = _data(tmp_path, "s.embed.npz")
    original = clash.read_bytes()
    before = sorted(p.name for p in tmp_path.iterdir())
    res = CliRunner().invoke(cli, ["score", str(clash), "--format", "jsonl", "-m", "w=./no/such/model", "--embed",
                                   "-o", str(tmp_path / "s.parquet")])
    assert res.exit_code == 1 and "refusing to overwrite the input file" in res.output, res.output
    assert "not found" not in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert clash.read_bytes() == original and sorted(p.name for p in tmp_path.iterdir()) == before
    # Without --embed that output is fine: the check is about the second file only.
    res = CliRunner().invoke(cli, ["score", str(clash), "--format", "jsonl", "-m", "w=./no/such/model",
                                   "-o", str(tmp_path / "s.parquet")])
    assert "refusing" not in res.output and "not found" in res.output

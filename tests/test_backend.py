"""The fast scoring path equals the naive reference, whatever the batching, padding or packing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qaq.columns import SPAN_FIELDS
from qaq.scoring.backend import ScoringError, ScoringModel
from qaq.scoring.engine import score_all
from qaq.scoring.models import resolve_model
from qaq.scoring.reference import reference_means

QUERIES = [
    "Write a function that adds two numbers.",
    "Sort <|im_end|> rows by age",  # a control-token string inside user text stays text
    "x" * 60,
    "How do I reverse a list?",
    "Implement binary search over a sorted array and return the index or -1.",
]
ANSWERS = [
    "def add(a, b):\n    return a + b",
    "sorted(rows, key=lambda r: r['age'])",
    "ok",
    "lst[::-1] " * 80,
    "def bsearch(a, x):\n    lo, hi = 0, len(a) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2",
]


@pytest.fixture(scope="module")
def sm(tiny_model_dir) -> ScoringModel:
    return ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype="fp32")


def _means(sm: ScoringModel, encoded, **kw) -> np.ndarray:
    """The fast path's mean NLL per span, one row per sample, columns in SPAN_FIELDS order."""
    return score_all(sm, encoded, **kw)[list(SPAN_FIELDS)].to_numpy()


def _ref_means(sm: ScoringModel, encoded) -> np.ndarray:
    return reference_means(sm, encoded)[list(SPAN_FIELDS)].to_numpy()


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_tokens", [1, 900, 10**6])
def test_batched_equals_reference(sm, padding_side, batch_tokens):
    encoded = sm.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    got = _means(sm, encoded, batch_tokens=batch_tokens, padding_side=padding_side)
    np.testing.assert_allclose(got, _ref_means(sm, encoded), atol=1e-4, rtol=0)


def test_packed_equals_reference(tiny_model_dir):
    packed = ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype="fp32", pack=True)
    encoded = packed.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    np.testing.assert_allclose(_means(packed, encoded, batch_tokens=10**6), _ref_means(packed, encoded), atol=1e-4)


def test_head_chunks_of_a_few_rows_equal_reference(sm, monkeypatch):
    """The LM head over target rows in many small chunks (7 rows each) gives the same numbers."""
    import qaq.scoring.head

    vocab = sm.head_weight.shape[0]
    monkeypatch.setitem(qaq.scoring.head.HEAD_CHUNK_BYTES, "cpu", 4 * vocab * 7)
    encoded = sm.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    got = _means(sm, encoded, batch_tokens=900)
    np.testing.assert_allclose(got, _ref_means(sm, encoded), atol=1e-4, rtol=0)


def test_batch_composition_does_not_matter(sm):
    encoded = sm.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    alone = _means(sm, encoded[:1], batch_tokens=10**6)
    mixed = _means(sm, encoded, batch_tokens=10**6)
    np.testing.assert_allclose(alone[0], mixed[0], atol=1e-5)


def test_plain_template_parity(tiny_plain_model_dir):
    plain = ScoringModel(resolve_model(str(tiny_plain_model_dir)), device="cpu", dtype="fp32")
    assert plain.layout.kind == "plain"
    encoded = plain.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    np.testing.assert_allclose(_means(plain, encoded, batch_tokens=2000), _ref_means(plain, encoded), atol=1e-4)


def test_token_nlls_are_the_scores_of_the_row(sm):
    """The token view's per-token NLLs average to the batched scores of the row, all four spans."""
    encoded = sm.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    batched = score_all(sm, encoded, batch_tokens=900)  # rows in mixed, padded batches
    for i, (q, a) in enumerate(zip(QUERIES, ANSWERS)):
        view = sm.token_nlls(q, a, max_length=700)
        e = encoded[i]
        assert (len(view.query_tokens), len(view.answer_tokens)) == (e.n_q, e.n_a)
        assert len(view.nll_q) == len(view.nll_q_given_a) == e.n_q and len(view.nll_a) == len(view.nll_a_given_q) == e.n_a
        assert "".join(view.query_tokens) == q and a.startswith("".join(view.answer_tokens))
        assert view.truncated == e.truncated and ("".join(view.answer_tokens) == a) == (e.truncated == 0)
        for field in (*SPAN_FIELDS, "rmi", "ifd"):
            expected = batched[field].iloc[i] if field in batched else None
            if field == "rmi":
                expected = batched["nll_q"].iloc[i] - batched["nll_q_given_a"].iloc[i]
            elif field == "ifd":
                expected = batched["nll_a_given_q"].iloc[i] / batched["nll_a"].iloc[i]
            assert view.means[field] == pytest.approx(expected, abs=1e-4), (i, field)
        assert (view.precision, view.device, view.identity) == ("fp32", "cpu", sm.source.identity)
        assert view.forwarded == sm.forwarded(e)


def test_token_nlls_equal_the_score_table_and_keep_truncation(sm, tiny_gemma3_dir):
    """What `qaq score` writes for a row is what the token view averages to (a llama with a
    reused prefix, and a Gemma 3 whose reverse prefix runs with every row); a row cut by
    max_length is cut the same way."""
    from qaq.scoring.engine import ScoringConfig, score_frame

    data = pd.DataFrame({"id": ["a", "b", "c"], "query": QUERIES[:3], "answer": ANSWERS[:3], "skip": ""})
    gemma = ScoringModel(resolve_model(str(tiny_gemma3_dir)), device="cpu", dtype="fp32")
    for model in (sm, gemma):
        room = model.encoder.template_ids.overhead + 30  # 30 tokens for Q and A: the longer rows are cut
        table = score_frame(data, {"m": model}, config=ScoringConfig(device="cpu", dtype="fp32", max_length=room))
        assert table["m_truncated"].sum() > 0
        for i, row in data.iterrows():
            view = model.token_nlls(row["query"], row["answer"], max_length=room)
            assert view.truncated == table["m_truncated"].iloc[i]
            assert len(view.query_tokens) == table["m_n_tokens_q"].iloc[i]
            for field in ("nll_q", "nll_q_given_a", "nll_a", "nll_a_given_q", "rmi", "ifd"):
                assert view.means[field] == pytest.approx(table[f"m_{field}"].iloc[i], abs=1e-4), field


def test_token_nlls_run_on_one_thread_and_put_the_setting_back(sm):
    import torch

    sm.token_nlls(QUERIES[0], ANSWERS[0], max_length=700)  # the template prefixes run once, before the hook
    torch.set_num_threads(2)
    seen: list[int] = []
    hook = sm.body.register_forward_pre_hook(lambda mod, args: seen.append(torch.get_num_threads()))
    try:
        sm.token_nlls(QUERIES[0], ANSWERS[0], max_length=700)
        sm.token_nlls(QUERIES[0], ANSWERS[0], max_length=700, threads=None)
    finally:
        hook.remove()
    assert seen == [1, 1, 2, 2] and torch.get_num_threads() == 2  # two forwards each: one thread, then as set


def test_token_pieces_join_to_the_text_across_split_characters(sm):
    """The tiny tokenizer knows only ASCII: every other character is split over byte tokens, which
    decode alone to replacement characters; the pieces still join to the text."""
    from qaq.scoring.tokens import token_pieces

    text = "naïve façade Ω 日本語 😀 <|im_end|>\n\tdone"
    ids = sm.encoder.user_ids([text])[0]
    assert "\ufffd" in "".join(sm.tokenizer.decode([t]) for t in ids)  # decoding one by one would not do
    pieces = token_pieces(sm.tokenizer.decode, ids)
    assert len(pieces) == len(ids) and "".join(pieces) == text
    assert "\ufffd" not in "".join(pieces)
    view = sm.token_nlls(text, text, max_length=700)
    assert "".join(view.query_tokens) == text == "".join(view.answer_tokens)


@pytest.mark.parametrize(("dtype", "compiled"), [("bf16", False), ("bf16", True), ("bf16-mixed", False)])
def test_bf16_modes_stay_close_to_fp32(tiny_model_dir, sm, dtype, compiled):
    """bf16 precision on every CPU (a tiny model is fast even where bf16 is emulated; the real
    model's bf16 test runs where bf16 is native): each mode within 0.05 nats of fp32."""
    half = ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype=dtype)
    assert half.precision == dtype and half.describe()["precision"] == dtype
    weights = next(half.model.parameters()).dtype
    assert str(weights) == ("torch.float32" if dtype == "bf16-mixed" else "torch.bfloat16")
    assert str(half.head_weight.dtype) == "torch.bfloat16"
    if compiled:
        assert half.compile(strict=True)
    encoded = sm.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    got = _means(half, encoded, batch_tokens=900)
    assert half.compiled == compiled
    diff = np.abs(got - _ref_means(sm, encoded))
    assert 0 < diff.max() < 0.05  # different arithmetic, close numbers


def test_unknown_device_or_dtype_is_a_scoring_error(tiny_model_dir):
    with pytest.raises(ScoringError, match="expected one of auto, bf16"):
        ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype="int4")
    with pytest.raises(ScoringError, match="expected one of auto, cpu"):
        ScoringModel(resolve_model(str(tiny_model_dir)), device="gpu", dtype="fp32")


def _forwarded_positions(sm: ScoringModel, encoded, batch_tokens: int) -> tuple[np.ndarray, int]:
    """Scores, and the positions the decoder body ran (padding included), counted by a hook."""
    seen: list[int] = []
    hook = sm.body.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(kwargs["input_ids"].numel()),
                                             with_kwargs=True)
    try:
        means = _means(sm, encoded, batch_tokens=batch_tokens)
    finally:
        hook.remove()
    return means, sum(seen)


def test_the_template_prefix_runs_once_per_model(tiny_model_dir, sm):
    """Reusing the prefix's keys and values gives the reference numbers while the body runs fewer
    positions: the prefixes once each, then every row without them."""
    full = ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype="fp32", reuse_prefix=False)
    shared = ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype="fp32")
    encoded_full = full.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    encoded = shared.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    got_full, ran_full = _forwarded_positions(full, encoded_full, 10**6)
    got, ran = _forwarded_positions(shared, encoded, 10**6)
    np.testing.assert_allclose(got, got_full, atol=1e-5, rtol=0)
    np.testing.assert_allclose(got, _ref_means(shared, encoded), atol=1e-4, rtol=0)
    pf, pr = len(shared.encoder.template_ids.fwd_prefix), len(shared.encoder.template_ids.rev_prefix)
    assert encoded == encoded_full  # the same ids; only what each model forwards of them differs
    assert shared.widths(encoded[0]) == (len(encoded[0].fwd) - pf, len(encoded[0].rev) - pr)
    assert full.widths(encoded[0]) == (len(encoded[0].fwd), len(encoded[0].rev))
    n = len(QUERIES)  # one batch: each pass padded to its widest row
    assert ran_full == n * (max(len(e.fwd) for e in encoded) + max(len(e.rev) for e in encoded))
    assert ran == pf + pr + n * (max(len(e.fwd) for e in encoded) - pf + max(len(e.rev) for e in encoded) - pr)
    assert sum(map(shared.forwarded, encoded)) == sum(map(full.forwarded, encoded)) - n * (pf + pr)
    assert shared.describe()["prefix_reused"] and not full.describe()["prefix_reused"]
    # A second batch continues from the same prefix state: nothing is recomputed.
    _, again = _forwarded_positions(shared, encoded, 10**6)
    assert again == ran - pf - pr


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_sliding_window_model_with_a_reused_prefix_equals_reference(tiny_gemma3_dir, padding_side):
    """Gemma 3 layers (64-token window, softcapped logits): rows run past the window after a
    reused forward prefix; the reverse prefix, longer than the window, is not reused (nor is any
    prefix in left-padded batches)."""
    g = ScoringModel(resolve_model(str(tiny_gemma3_dir)), device="cpu", dtype="fp32")
    assert g.prefixes.skipped("fwd_prefix") > 0 and g.prefixes.skipped("rev_prefix") == 0  # see the fixture
    encoded = g.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    assert max(len(e.fwd) for e in encoded) > 3 * 64
    got = _means(g, encoded, batch_tokens=900, padding_side=padding_side)
    np.testing.assert_allclose(got, _ref_means(g, encoded), atol=1e-4, rtol=0)


def test_compiled_equals_reference(tiny_model_dir):
    """torch.compile'd layers and head (fp32) give the reference numbers; describe() says so."""
    compiled = ScoringModel(resolve_model(str(tiny_model_dir)), device="cpu", dtype="fp32")
    assert compiled.describe()["prefix_reused"]
    assert compiled.compile(strict=True)
    encoded = compiled.encoder.encode_many(QUERIES, ANSWERS, max_length=700)
    got = _means(compiled, encoded, batch_tokens=900)
    assert compiled.compiled and compiled.describe()["compiled"]
    # Compiled layers run whole sequences (a cache-appending layer would compile once per layer).
    assert not compiled.describe()["prefix_reused"]
    assert compiled.forwarded(encoded[0]) == len(encoded[0].fwd) + len(encoded[0].rev)
    np.testing.assert_allclose(got, _ref_means(compiled, encoded), atol=1e-4, rtol=0)
    compiled.uncompile()
    assert not compiled.describe()["compiled"] and compiled.describe()["prefix_reused"]
    np.testing.assert_allclose(_means(compiled, encoded, batch_tokens=900), got, atol=1e-4, rtol=0)


# A fresh inductor cache and a C++ compiler that does not exist: compiling really fails.
_BROKEN_COMPILER = """
import json, logging, sys
import numpy as np
from qaq.scoring.backend import ScoringError, ScoringModel
from qaq.scoring.models import resolve_model
from qaq.scoring.engine import iter_scores
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
sm = ScoringModel(resolve_model(sys.argv[1]), device="cpu", dtype="fp32")
enc = sm.encoder.encode_many(["add two numbers"], ["def add(a, b): return a + b"], max_length=700)
eager = next(iter_scores(sm, enc, batch_tokens=1000))[1]
sm.compile(strict=sys.argv[2] == "strict")
try:
    got = next(iter_scores(sm, enc, batch_tokens=1000))[1]
except ScoringError as e:
    print(json.dumps({"error": str(e)[:300]}))
else:
    print(json.dumps({"compiled": sm.compiled, "max_diff": float(np.abs(got - eager).to_numpy().max())}))
"""


@pytest.mark.parametrize("mode", ["lenient", "strict"])
def test_compile_failure(tiny_model_dir, tmp_path, mode):
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, CXX=str(tmp_path / "no-such-c++"), TORCHINDUCTOR_CACHE_DIR=str(tmp_path / "inductor"))
    out = subprocess.run([sys.executable, "-c", _BROKEN_COMPILER, str(tiny_model_dir), mode],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if mode == "strict":
        assert result["error"].startswith("--compile on: torch.compile failed")
    else:  # goes on eagerly, says so, same numbers
        assert result == {"compiled": False, "max_diff": 0.0}
        assert "torch.compile failed" in out.stderr and "scoring in eager mode" in out.stderr

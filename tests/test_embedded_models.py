"""Integration tests on the real embedded models (slow: each load takes 15-60 s on 2 cores).

Every test here runs in the dtype this CPU runs fast (``--dtype auto``: bf16 where it is native,
fp32 elsewhere). bf16 precision on the real model is tested only where bf16 is native: emulated,
the same test takes tens of minutes; tests/test_backend.py holds the bf16 precision tests that
run everywhere, on a tiny random model.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qaq.columns import SPAN_FIELDS
from qaq.io.datasets import load_dataset
from qaq.io.scorefile import load_scores
from qaq.scoring.backend import ScoringModel
from qaq.scoring.encoder import Encoder
from qaq.scoring.engine import ScoringConfig, score_all, score_frame
from qaq.scoring.hardware import choose_dtype, cpu_info
from qaq.scoring.loading import load_causal_lm
from qaq.scoring.models import resolve_model
from qaq.scoring.reference import reference_means
from qaq.select.correlations import spearman

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "code_instructions.jsonl"
SCORES = SAMPLE.with_name("code_instructions.scores.parquet")


AUTO_DTYPE, AUTO_REASON = choose_dtype("auto", "cpu")
NO_NATIVE_BF16 = (f"this CPU has no native bf16 ({cpu_info().model}): bf16 on the real model would take tens of "
                  "minutes; tests/test_backend.py::test_bf16_modes_stay_close_to_fp32 covers bf16 on a tiny model")


@pytest.fixture(scope="module")
def weak_fp32() -> ScoringModel:
    source = resolve_model("smollm2-135m")
    model, tok = load_causal_lm(source, device="cpu", dtype="fp32")
    return ScoringModel(source, device="cpu", dtype="fp32", model=model, tokenizer=tok)


@pytest.fixture(scope="module")
def weak_auto(weak_fp32) -> ScoringModel:
    """The weak model in the dtype ``auto`` picks on this CPU (the fp32 one where that is fp32)."""
    if AUTO_DTYPE == "fp32":
        return weak_fp32
    return ScoringModel(weak_fp32.source, device="cpu", dtype=AUTO_DTYPE, model=copy.deepcopy(weak_fp32.model),
                        tokenizer=weak_fp32.tokenizer)


@pytest.fixture(scope="module")
def strong_fp32() -> ScoringModel:
    return ScoringModel(resolve_model("gemma3-270m"), device="cpu", dtype="fp32")


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_dataset(SAMPLE)


def _fast_and_reference(sm: ScoringModel, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean NLL per span (SPAN_FIELDS) from qaq's batches and from the naive reference."""
    enc = sm.encoder.encode_many(rows["query"].tolist(), rows["answer"].tolist(), max_length=2048)
    fast = score_all(sm, enc, batch_tokens=4096)[list(SPAN_FIELDS)]
    return fast, reference_means(sm, enc)[list(SPAN_FIELDS)]


def test_fast_path_equals_naive_reference_on_real_model(weak_fp32, sample):
    assert weak_fp32.describe()["prefix_reused"]  # the template prefix ran once, its keys and values reused
    fast, reference = _fast_and_reference(weak_fp32, sample.iloc[:6])
    np.testing.assert_allclose(fast, reference, atol=1e-4, rtol=0)


def test_sliding_window_model_equals_reference_past_its_window(strong_fp32, sample):
    """Gemma 3 attends within 512-token windows in most layers; the two longest sample rows run
    past it after the reused forward prefix."""
    assert strong_fp32.model.config.sliding_window == 512 and strong_fp32.describe()["prefix_reused"]
    enc = strong_fp32.encoder.encode_many(sample["query"].tolist(), sample["answer"].tolist(), max_length=2048)
    longest = sorted(range(len(enc)), key=lambda i: -enc[i].length)[:2]
    assert min(len(enc[i].fwd) for i in longest) > 700
    fast, reference = _fast_and_reference(strong_fp32, sample.iloc[longest])
    np.testing.assert_allclose(fast, reference, atol=1e-4, rtol=0)


@pytest.mark.parametrize("loaded", ["weak_fp32", "strong_fp32"])
def test_encoder_from_the_source_encodes_as_the_loaded_model(request, loaded, sample):
    """The model-free encoder (tokenizer and config read from the GGUF file, no weights) lays out
    pairs as the loaded model does, the base Gemma's borrowed chat template included."""
    sm = request.getfixturevalue(loaded)
    encoder = Encoder.from_source(sm.source)
    assert encoder.layout == sm.layout and encoder.fingerprint == sm.encoder.fingerprint
    rows = sample.iloc[:20]
    pairs = (rows["query"].tolist(), rows["answer"].tolist())
    assert encoder.encode_many(*pairs, max_length=512) == sm.encoder.encode_many(*pairs, max_length=512)


def test_matched_pairs_beat_shuffled_answers(weak_auto, sample):
    clean = sample[sample["defect"] == "none"].iloc[:60].reset_index(drop=True)
    shuffled = clean.assign(answer=np.roll(clean["answer"].to_numpy(), 1), id=clean["id"] + "-shuffled")
    config = ScoringConfig(device="cpu", dtype=weak_auto.precision)
    matched = score_frame(clean, {"w": weak_auto}, config=config)["w_rmi"]
    mismatched = score_frame(shuffled, {"w": weak_auto}, config=config)["w_rmi"]
    margin = float(matched.mean() - mismatched.mean())
    wins = float((matched.to_numpy() > mismatched.to_numpy()).mean())
    print(f"\n{weak_auto.precision} ({AUTO_REASON}): RMI matched {matched.mean():.3f} vs shuffled "
          f"{mismatched.mean():.3f}: margin {margin:.3f} nats, matched higher in {wins:.0%} of pairs")
    assert margin > 0.3 and wins > 0.8


@pytest.mark.skipif(not cpu_info().native_bf16, reason=NO_NATIVE_BF16)
def test_bf16_ranks_agree_with_fp32(weak_fp32, sample):
    """Stated tolerances against fp32 RMI: eager bf16 within 0.1 nats and Spearman >= 0.998;
    compiled bf16 (the default for large CPU runs) within 0.1 and Spearman >= 0.999; bf16-mixed
    within 0.05 and Spearman >= 0.999."""
    fp32 = weak_fp32

    def copy_as(dtype: str) -> ScoringModel:
        return ScoringModel(fp32.source, device="cpu", dtype=dtype, model=copy.deepcopy(fp32.model),
                            tokenizer=fp32.tokenizer)

    bf16, compiled, mixed = copy_as("bf16"), copy_as("bf16"), copy_as("bf16-mixed")
    rows = sample.iloc[:120]
    a = score_frame(rows, {"w": fp32}, config=ScoringConfig(device="cpu", dtype="fp32"))["w_rmi"]
    variants = ((bf16, "bf16", "off", 0.998, 0.1), (compiled, "bf16", "on", 0.999, 0.1),
                (mixed, "bf16-mixed", "off", 0.999, 0.05))
    for sm, dtype, compile_mode, rho_min, tol in variants:
        cfg = ScoringConfig(device="cpu", dtype=dtype, compile=compile_mode)
        b = score_frame(rows, {"w": sm}, config=cfg)["w_rmi"]
        rho, worst = spearman(a, b), float(np.abs(a - b).max())
        print(f"\nSpearman(RMI {dtype} compile={compile_mode}, RMI fp32) on {len(rows)} sample rows: {rho:.5f}; "
              f"max |diff| {worst:.4f} nats")
        assert rho >= rho_min and worst < tol, (dtype, compile_mode)
    assert compiled.compiled and not bf16.compiled


def test_committed_sample_scores_are_fresh(sample, weak_fp32, strong_fp32):
    """Re-score a few rows with the current scorer; stale committed scores fail here. They were
    scored in fp32, so every CPU can check them exactly (to summation-order noise)."""
    committed, meta = load_scores(SCORES)
    assert committed["id"].tolist() == sample["id"].tolist()
    assert {m["precision"] for m in meta["models"].values()} == {"fp32"}
    cfg = meta["config"]
    config = ScoringConfig(device="cpu", dtype="fp32", max_length=cfg["max_length"],
                           batch_tokens=cfg["batch_tokens"], template=cfg["template"], system=cfg["system"],
                           reverse_instruction=cfg["reverse_instruction"])
    rows = sample.iloc[[0, 1, 2, 350, 699]]
    loaded = {"weak": weak_fp32, "strong": strong_fp32}
    assert {name: m["spec"] for name, m in meta["models"].items()} == {n: sm.source.spec for n, sm in loaded.items()}
    fresh = score_frame(rows, loaded, config=config)
    for name, m in meta["models"].items():
        assert fresh.attrs["qaq_run"]["models"][name]["identity"] == m["identity"]
        assert fresh.attrs["qaq_run"]["models"][name]["template_sha256"] == m["template_sha256"]
        for field in ("nll_q", "nll_q_given_a", "nll_a", "nll_a_given_q"):
            col = f"{name}_{field}"
            np.testing.assert_allclose(fresh[col].to_numpy(), committed.loc[rows.index, col].to_numpy(),
                                       atol=1e-3, err_msg=col)


def test_token_view_means_are_the_scores(weak_fp32, sample):
    """The app's token view of a row (two forwards of one row) averages to what scoring the row in
    batches gives and to the committed fp32 scores of the sample, within 1e-4 nats, for a short
    row, a middling one and a 400-token answer (3e-6 apart on 2 AMD EPYC cores)."""
    committed = load_scores(SCORES)[0].set_index("id")
    lengths = committed["weak_n_tokens_a"].astype(float)
    picks = [lengths.idxmin(), (lengths - lengths.median()).abs().idxmin(), (lengths - 400).abs().idxmin()]
    rows = sample.set_index("id").loc[picks].reset_index()
    enc = weak_fp32.encoder.encode_many(rows["query"].tolist(), rows["answer"].tolist(), max_length=2048)
    batched = score_all(weak_fp32, enc, batch_tokens=4096)
    for i, row in rows.iterrows():
        view = weak_fp32.token_nlls(row["query"], row["answer"], max_length=2048)
        assert "".join(view.query_tokens) == row["query"] and "".join(view.answer_tokens) == row["answer"]
        for field in SPAN_FIELDS:
            assert view.means[field] == pytest.approx(batched[field].iloc[i], abs=1e-4), (row["id"], field)
            assert view.means[field] == pytest.approx(committed.loc[row["id"], f"weak_{field}"], abs=1e-4)
        assert view.placement == "fp32 on cpu"


def test_the_dense_copy_scores_as_the_gguf_file(sample, tmp_path, monkeypatch):
    """The first fp32 load of a GGUF model (here in a fresh cache) reads the GGUF file and keeps a
    dense copy; the next load reads the copy: same weights and same scores, bit for bit."""
    import torch

    from qaq.scoring.dense import dense_copy

    monkeypatch.setenv("QAQ_CACHE_DIR", str(tmp_path))
    source = resolve_model("smollm2-135m")
    assert dense_copy(source) is None
    from_gguf = ScoringModel(source, device="cpu", dtype="fp32")
    assert dense_copy(source) is not None and dense_copy(source).is_relative_to(tmp_path)
    from_copy = ScoringModel(source, device="cpu", dtype="fp32")
    a, b = from_gguf.model.state_dict(), from_copy.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert from_copy.encoder.fingerprint == from_gguf.encoder.fingerprint
    assert from_copy.layout.sha256 == from_gguf.layout.sha256
    rows = sample.head(8)
    enc = from_gguf.encoder.encode_many(rows["query"].tolist(), rows["answer"].tolist(), max_length=2048)
    pd.testing.assert_frame_equal(score_all(from_gguf, enc, batch_tokens=4096), score_all(from_copy, enc, batch_tokens=4096),
                                  check_exact=True)

"""Integration tests on the real embedded models (slow: each load takes 15-40 s on 2 cores)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qaq.backend import ScoringModel, load_causal_lm
from qaq.data import load_dataset
from qaq.scorefile import load_scores
from qaq.models import resolve_model
from qaq.reference import reference_sums
from qaq.scoring import ScoringConfig, iter_scores, score_frame
from qaq.strata import spearman

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "code_instructions.jsonl"
SCORES = SAMPLE.with_name("code_instructions.scores.parquet")


@pytest.fixture(scope="module")
def weak_fp32_bf16() -> tuple[ScoringModel, ScoringModel, ScoringModel]:
    source = resolve_model("smollm2-135m")
    model, tok = load_causal_lm(source, device="cpu", dtype="fp32")
    fp32 = ScoringModel(source, device="cpu", dtype="fp32", model=model, tokenizer=tok)
    bf16 = ScoringModel(source, device="cpu", dtype="bf16", model=copy.deepcopy(model), tokenizer=tok)
    mixed = ScoringModel(source, device="cpu", dtype="bf16-mixed", model=copy.deepcopy(model), tokenizer=tok)
    return fp32, bf16, mixed


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_dataset(SAMPLE)


def test_fast_path_equals_naive_reference_on_real_model(weak_fp32_bf16, sample):
    fp32, _, _ = weak_fp32_bf16
    rows = sample.iloc[:6]
    enc = fp32.encode_many(rows["query"].tolist(), rows["answer"].tolist(), max_length=2048)
    fast = np.full((len(enc), 4), np.nan)
    for idx, values in iter_scores(fp32, enc, batch_tokens=4096):
        fast[idx] = values[:, :4]
    counts = np.array([[e.n_q, e.n_a, e.n_q, e.n_a] for e in enc], dtype=float)
    np.testing.assert_allclose(fast, reference_sums(fp32, enc) / counts, atol=1e-4, rtol=0)


def test_matched_pairs_beat_shuffled_answers(weak_fp32_bf16, sample):
    _, bf16, _ = weak_fp32_bf16
    clean = sample[sample["defect"] == "none"].iloc[:60].reset_index(drop=True)
    shuffled = clean.assign(answer=np.roll(clean["answer"].to_numpy(), 1), id=clean["id"] + "-shuffled")
    config = ScoringConfig(device="cpu", dtype="bf16")
    matched = score_frame(clean, {"w": bf16}, config=config)["w_rmi"]
    mismatched = score_frame(shuffled, {"w": bf16}, config=config)["w_rmi"]
    margin = float(matched.mean() - mismatched.mean())
    wins = float((matched.to_numpy() > mismatched.to_numpy()).mean())
    print(f"\nRMI matched {matched.mean():.3f} vs shuffled {mismatched.mean():.3f}: margin {margin:.3f} nats, "
          f"matched higher in {wins:.0%} of pairs")
    assert margin > 0.3 and wins > 0.8


def test_bf16_ranks_agree_with_fp32(weak_fp32_bf16, sample):
    """Stated tolerances against fp32 RMI: eager bf16 within 0.1 nats and Spearman >= 0.998;
    compiled bf16 (the default for large CPU runs) within 0.1 and Spearman >= 0.999; bf16-mixed
    within 0.05 and Spearman >= 0.999."""
    fp32, bf16, mixed = weak_fp32_bf16
    compiled = ScoringModel(bf16.source, device="cpu", dtype="bf16", model=copy.deepcopy(bf16.model),
                            tokenizer=bf16.tokenizer)
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


def test_committed_sample_scores_are_fresh(sample):
    """Re-score a few rows with the current scorer; stale committed scores fail here."""
    committed, meta = load_scores(SCORES)
    assert committed["id"].tolist() == sample["id"].tolist()
    cfg = meta["config"]
    config = ScoringConfig(device="cpu", dtype=meta["models"]["weak"]["dtype"], max_length=cfg["max_length"],
                           batch_tokens=cfg["batch_tokens"], template=cfg["template"], system=cfg["system"],
                           reverse_instruction=cfg["reverse_instruction"])
    rows = sample.iloc[[0, 1, 2, 350, 699]]
    fresh = score_frame(rows, {name: m["spec"] for name, m in meta["models"].items()}, config=config)
    for name, m in meta["models"].items():
        assert fresh.attrs["qaq_run"]["models"][name]["identity"] == m["identity"]
        assert fresh.attrs["qaq_run"]["models"][name]["template_sha256"] == m["template_sha256"]
        for field in ("nll_q", "nll_q_given_a", "nll_a", "nll_a_given_q"):
            col = f"{name}_{field}"
            np.testing.assert_allclose(fresh[col].to_numpy(), committed.loc[rows.index, col].to_numpy(),
                                       atol=0.05, err_msg=col)

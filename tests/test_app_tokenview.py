"""Tests for qaq.app.tokenview: the token view's models, config, cost and agreement with the score file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from app_workspaces import small_table, ws_of

from qaq.app import tokenview
from qaq.scoring.tokens import TokenNlls

META = {
    "config": {"device": "cuda", "dtype": "fp32", "max_length": 512, "template": "chat"},
    "models": {
        "weak": {"spec": "smollm2-135m", "precision": "fp32", "device": "cpu", "identity": "sha256:w",
                 "tokens_forwarded": 20_000, "seconds": 100.0},
        "strong": {"spec": "synthetic-strong", "dtype": "bf16"},  # an older file: no precision, its dtype
    },
}


def view(**kw) -> TokenNlls:
    fields = dict(query_tokens=("a", "b"), answer_tokens=("x", "y", "z"), nll_q=(2.0, 4.0), nll_q_given_a=(1.0, 1.0),
                  nll_a=(1.0, 2.0, 3.0), nll_a_given_q=(0.5, 1.0, 1.5), truncated=0, forwarded=40,
                  precision="fp32", device="cpu", identity="sha256:w")
    return TokenNlls(**{**fields, **kw})


def scored_row(**values) -> pd.Series:
    row = {"weak_nll_q": 3.0, "weak_nll_q_given_a": 1.0, "weak_rmi": 2.0, "weak_nll_a": 2.0, "weak_nll_a_given_q": 1.0,
           "weak_ifd": 0.5, "weak_n_tokens_q": 2, "weak_n_tokens_a": 3}
    return pd.Series({**row, **values})


def test_the_record_means_are_the_score_fields():
    means = view().means
    assert means == {"nll_q": 3.0, "nll_q_given_a": 1.0, "nll_a": 2.0, "nll_a_given_q": 1.0, "rmi": 2.0, "ifd": 0.5}
    assert math.isnan(view(answer_tokens=(), nll_a=(), nll_a_given_q=()).means["nll_a"])
    assert view().placement == "fp32 on cpu"
    assert view().span("answer") == (("x", "y", "z"), (1.0, 2.0, 3.0), (0.5, 1.0, 1.5))
    with pytest.raises(ValueError, match="nll_q has 1 values for 2 tokens"):
        view(nll_q=(1.0,))


def test_models_config_and_placement():
    ws = ws_of(small_table(), meta=META)
    assert tokenview.view_models(ws) == ["weak", "strong"]  # strong's synthetic spec falls back to its role's default
    assert tokenview.view_models(ws_of(small_table(), models=("a", "b"), strong="a", weak="b")) == []
    calls = []
    cfg = tokenview.view_config(ws, auto_device=lambda: calls.append(1) or "cpu")
    assert (cfg.device, cfg.dtype, cfg.max_length, cfg.template) == ("auto", "fp32", 512, "chat")  # no GPU here
    assert tokenview.view_config(ws, auto_device=lambda: "cuda").device == "cuda"
    cpu = ws_of(small_table(), meta={**META, "config": {**META["config"], "device": "cpu"}})
    assert tokenview.view_config(cpu, auto_device=lambda: calls.append(2) or "cuda").device == "cpu"
    assert calls == [1]  # the device is looked up only for a GPU config
    assert tokenview.file_placement(ws, "weak") == "fp32 on cpu"
    assert tokenview.file_placement(ws, "strong") == "bf16"
    assert tokenview.file_placement(ws_of(), "weak") is None


def test_comparison_and_agreement():
    ws = ws_of(small_table(), meta=META)
    table = tokenview.comparison(ws, scored_row(weak_nll_q=3.00004), "weak", view())
    assert table.index.tolist() == list(tokenview.VIEW_FIELDS)
    assert table.loc["nll_q", "difference"] == pytest.approx(-4e-5)
    assert tokenview.agreement(ws, "weak", view(), table) == (
        True, "Same precision as the score file (fp32 on cpu): the means agree within 0.0001 nats.")
    off = tokenview.comparison(ws, scored_row(weak_nll_q=3.01), "weak", view())
    ok, note = tokenview.agreement(ws, "weak", view(), off)
    assert not ok and "differ by up to 0.0100 nats" in note
    ok, note = tokenview.agreement(ws, "weak", view(precision="bf16"), off)
    assert ok and note.startswith("The score file was computed in fp32 on cpu, this view in bf16 on cpu")
    ok, note = tokenview.agreement(ws, "weak", view(identity="sha256:other"), table)
    assert not ok and "model's files differ" in note
    missing = tokenview.comparison(ws, pd.Series({}, dtype=float), "weak", view())
    assert missing["score file"].isna().all()
    assert tokenview.agreement(ws, "weak", view(), missing) == (True, "The score file has no scores for this row.")


def test_timings_round_trip(tmp_path: Path):
    path = tmp_path / "app" / "timings.json"
    key = tokenview.timing_key("smollm2-135m", '{"dtype": "fp32"}')
    assert key != tokenview.timing_key("smollm2-135m", '{"dtype": "bf16"}')
    assert tokenview.read_timing(path, key) is None
    tokenview.record_timing(path, key, load_seconds=51.28, tokens_per_second=420.0)
    tokenview.record_timing(path, key, tokens_per_second=450.0)  # a later view: the load time stays
    got = tokenview.read_timing(path, key)
    assert (got.load_seconds, got.tokens_per_second) == (51.28, 450.0) and got.measured
    path.write_text("{broken")
    assert tokenview.read_timing(path, key) is None
    tokenview.record_timing(path, key, tokens_per_second=100.0)  # a broken file is replaced, not fatal
    assert json.loads(path.read_text())[key]["tokens_per_second"] == 100.0


def test_the_cost_says_what_was_measured():
    ws = ws_of(small_table(), meta=META)
    row = scored_row(weak_n_tokens_q=100, weak_n_tokens_a=400)
    assert tokenview.view_tokens(row, "weak") == 1000
    assert tokenview.view_tokens(scored_row(weak_n_tokens_a=None), "weak") is None
    first = tokenview.view_cost(ws, row, "weak", timing=None, loaded=False)
    assert first.text() == ("~1,000 tokens, about 5 s at 200 tokens/s (the score run's rate), "
                            "+ loading the model once per server (not timed here yet)")
    assert first.seconds is None  # the load was never timed: no total is made up
    timed = tokenview.Timing(load_seconds=50.0, tokens_per_second=500.0, measured="2026-12-01T00:00:00+00:00")
    again = tokenview.view_cost(ws, row, "weak", timing=timed, loaded=False)
    assert again.text() == "~1,000 tokens, about 2 s at 500 tokens/s (measured here), + about 50 s to load the model (measured here)"
    assert again.seconds == pytest.approx(52.0)
    warm = tokenview.view_cost(ws, row, "weak", timing=timed, loaded=True)
    assert warm.text() == "~1,000 tokens, about 2 s at 500 tokens/s (measured here)" and warm.seconds == 2.0
    assert "under 1 s" in tokenview.view_cost(ws, scored_row(), "weak", timing=timed, loaded=True).text()
    unknown = tokenview.view_cost(ws_of(), scored_row(weak_n_tokens_q=None), "weak", timing=None, loaded=True)
    assert unknown.text() == "token count unknown" and unknown.seconds is None

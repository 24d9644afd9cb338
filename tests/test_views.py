"""Tests for qaq.app.views: the workspace and the views of its table that the app's pages show."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qaq import jobs
from qaq.app import views
from qaq.app.views import Workspace
from qaq.columns import score_column
from qaq.io.datasets import DataError, load_dataset, skipped_rows
from qaq.io.labels import LabelsError, labels_path, set_label, set_override
from qaq.scoring import engine
from qaq.scoring.engine import ScoringConfig
from qaq.select.detection import defect_share, detection_table, suspicion_scores
from qaq.select.strata import add_disagreement, add_ranks, add_strata

NAN = float("nan")


def small_table() -> pd.DataFrame:
    """Five rows scored by ``strong`` and ``weak``, strata, ranks, diff and sum written out by hand."""
    return pd.DataFrame({
        "id": ["a", "b", "c", "d", "e"],
        "line": [1, 2, 3, 4, 5],
        "query": ["Sort a list", "Reverse a STRING", "add two ints", "echo me please", "parse html"],
        "answer": ["sorted(xs)", "s[::-1]", "```python\na + b\n```", "echo me please", ""],
        "skip": ["", "", "", "", "empty answer"],
        "defect": ["none", "none", "mismatch", "echo", "none"],
        "strong_nll_q": [1.0, 2.0, 3.0, 4.0, NAN],
        "strong_rmi": [0.5, 0.1, 0.9, -0.2, NAN],
        "strong_stratum": pd.array([0, 0, 1, 1, None], dtype="Int64"),
        "strong_rank": [1.0, 0.5, 1.0, 0.5, NAN],
        "weak_rmi": [0.2, 0.3, 0.1, 0.4, NAN],
        "weak_stratum": pd.array([0, 1, 0, 1, None], dtype="Int64"),
        "weak_rank": [1.0, 0.5, 0.5, 1.0, NAN],
        "diff": [0.0, 0.0, 0.5, -0.5, NAN],
        "sum": [2.0, 1.0, 1.5, 1.5, NAN],
    })


def ws_of(table: pd.DataFrame | None = None, *, source: Path | None = None, **kw) -> Workspace:
    kw.setdefault("models", ("strong", "weak"))
    kw.setdefault("strong", "strong")
    kw.setdefault("weak", "weak")
    return Workspace(small_table() if table is None else table, source_path=None if source is None else str(source),
                     **kw)


@pytest.fixture
def labelled(tmp_path: Path) -> Workspace:
    """The small table with a source file whose labels file marks a as ok, c as mismatched, d as excluded."""
    source = tmp_path / "data.jsonl"
    source.write_text("")
    lab = labels_path(source)
    set_label(lab, "a", "ok")
    set_label(lab, "c", "mismatched")
    set_override(lab, "d", "exclude")
    set_override(lab, "b", "include")
    return ws_of(source=source)


# ------------------------------------------------------------------------------- the workspace


def test_workspace_pair_and_labels_file(tmp_path):
    assert ws_of().pair
    assert not ws_of(weak="strong").pair
    assert not ws_of(weak=None).pair
    assert ws_of().labels_file is None
    assert ws_of(source=tmp_path / "d.jsonl").labels_file == tmp_path / "d.jsonl.qaq-labels.json"


@pytest.mark.parametrize(("models", "meta", "roles"), [
    (["weak", "x", "strong"], {}, ("strong", "weak")),
    ([], {}, (None, None)),
    (["only"], {}, ("only", None)),
    (["small", "big", "mid"], {"models": {"small": {"parameters": 1e8}, "big": {"parameters": 7e9},
                                          "mid": {"parameters": 1e9}}}, ("big", "small")),
    (["first", "second"], {"models": {"first": {"parameters": 1e8}}}, ("first", "second")),  # sizes unknown
])
def test_default_roles(models, meta, roles):
    assert views.default_roles(models, meta) == roles


@pytest.mark.parametrize(("mapping", "kwargs"), [
    (None, ()),
    ({}, ()),
    ({"query": "q", "answer": "a", "input_field": None, "id_field": ""},
     (("answer", "a"), ("id_field", ""), ("query", "q"))),
    # FieldMappings as stored in score metadata: a custom one is replayed, a detected one detected again
    ({"schema": "custom", "query": "q", "answer": "a", "input": None, "messages": None, "id": "key"},
     (("answer", "a"), ("id_field", "key"), ("query", "q"))),
    ({"schema": "alpaca", "query": "instruction", "answer": "output", "input": "input", "id": "id"}, ()),
    ({"schema": "alpaca", "query": "instruction", "answer": "output", "input": "input", "id": None},
     (("id_field", ""),)),
])
def test_mapping_kwargs(mapping, kwargs):
    from qaq.io.runrecord import mapping_kwargs

    assert mapping_kwargs(mapping) == kwargs


def _scored(n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "row": np.arange(n)})
    for m in ("s", "w"):
        t[score_column(m, "nll_q")] = rng.gamma(2.0, 1.0, n)
        t[score_column(m, "nll_q_given_a")] = rng.gamma(2.0, 1.0, n)
        t[score_column(m, "rmi")] = t[score_column(m, "nll_q")] - t[score_column(m, "nll_q_given_a")]
    return t


@pytest.mark.parametrize("ranking", ["stratified", "global"])
def test_working_table_adds_strata_ranks_and_the_pair(ranking):
    base = _scored()
    before = base.copy()
    expected = base
    for m in ("s", "w"):
        expected = add_ranks(add_strata(expected, m, bins=3), m, ranking=ranking, bins=3)
    expected = add_disagreement(expected, strong="s", weak="w", ranking=ranking, bins=3)
    got = views.working_table(base, bins=3, ranking=ranking, strong="s", weak="w")
    pd.testing.assert_frame_equal(got, expected)
    assert list(got.columns[-6:]) == ["s_stratum", "s_rank", "w_stratum", "w_rank", "diff", "sum"]
    pd.testing.assert_frame_equal(base, before)  # the input is not mutated


@pytest.mark.parametrize(("strong", "weak"), [("s", "s"), ("s", None), (None, None)])
def test_working_table_without_a_pair_has_no_diff(strong, weak):
    got = views.working_table(_scored(), bins=2, ranking="global", strong=strong, weak=weak)
    assert "diff" not in got.columns and "sum" not in got.columns
    assert {"s_stratum", "s_rank", "w_stratum", "w_rank"} <= set(got.columns)


# ------------------------------------------------------------------------------- the Data page


def test_source_fields_of_jsonl_csv_and_parquet(tmp_path):
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text('{"q": 1, "a": 2}\n"not an object"\n{"a": 3, "extra": 4}\n{"late": 5}\n')
    assert views.source_fields(jsonl) == ["q", "a", "extra", "late"]
    assert views.source_fields(jsonl, sample=3) == ["q", "a", "extra"]  # the first 3 records only
    frame = pd.DataFrame({"instruction": ["x"], "output": ["y"], "id": [1]})
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    assert views.source_fields(tmp_path / "d.csv") == ["instruction", "output", "id"]
    assert views.source_fields(tmp_path / "d.parquet") == ["instruction", "output", "id"]


def test_source_fields_explains_unreadable_files(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        views.source_fields(tmp_path / "bad.parquet")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="cannot read the CSV header"):
        views.source_fields(tmp_path / "empty.csv")


def test_lengths_in_characters_and_in_tokens():
    t = pd.DataFrame({"query": ["abc", "de"], "answer": ["", "fghij"],
                      "m_n_tokens_q": pd.array([3, None], dtype="Int64"),
                      "m_n_tokens_a": pd.array([1, 2], dtype="Int64")})
    chars, unit = views.lengths(t)
    assert unit == "characters"
    pd.testing.assert_frame_equal(chars, pd.DataFrame({"query": [3, 2], "answer": [0, 5]}))
    tokens, unit = views.lengths(t, "m")
    assert unit == "m tokens"
    pd.testing.assert_frame_equal(tokens, pd.DataFrame({"query": [3.0, NAN], "answer": [1.0, 2.0]}))
    assert views.lengths(t, "unscored")[1] == "characters"


def test_validation_report():
    t = pd.DataFrame({"id": ["a", "b", "c", "d"], "line": [1, 2, 4, 5], "query": ["q", "q", "", "q"],
                      "answer": ["x", "y", "x", "x"], "skip": ["", "", "empty query", ""]})
    report = views.validation_report(t)
    assert (report["rows"], report["to_score"]) == (4, 3)
    pd.testing.assert_frame_equal(report["skipped"], skipped_rows(t))
    assert report["skipped"]["id"].tolist() == ["c"]
    pd.testing.assert_frame_equal(report["duplicate_pairs"],
                                  pd.DataFrame({"id": ["d"], "line": [5]}, index=[3]))
    assert report["truncated"] == {}  # nothing scored yet


def test_validation_report_lists_heavily_truncated_rows():
    t = pd.DataFrame({"id": ["a", "b", "c"], "line": [1, 2, 3], "query": ["q"] * 3, "answer": ["x"] * 3,
                      "skip": [""] * 3, "m_nll_q": 1.0, "m_nll_q_given_a": 1.0, "m_rmi": 0.0,
                      "m_n_tokens_q": [10, 10, 10], "m_n_tokens_a": [90, 30, 88], "m_truncated": [5, 900, 12]})
    cut = views.validation_report(t)["truncated"]["m"]
    pd.testing.assert_frame_equal(cut, pd.DataFrame({"id": ["b", "c"], "line": [2, 3], "tokens_cut": [900, 12],
                                                     "tokens": [940, 110], "share_cut": [0.957, 0.109]}))


# ------------------------------------------------------------------------------ the Score page


def test_device_summary_on_cpu_and_on_cuda(monkeypatch):
    from qaq.scoring import hardware

    monkeypatch.setattr(hardware, "choose_device", lambda spec: ("cpu", "auto: no CUDA or MPS device"))
    monkeypatch.setattr(hardware, "cpu_info", lambda: hardware.CpuInfo("AMD EPYC", "x86_64", "", 16))
    assert views.device_summary() == {
        "device": "cpu", "reason": "auto: no CUDA or MPS device", "dtype": "fp32",
        "dtype_reason": "auto: AMD EPYC has no native bf16 (it would be emulated, slower than fp32)",
        "cpu": "AMD EPYC", "cpus": 16, "cpu_bf16": "", "gpus": []}
    monkeypatch.setattr(hardware, "cpu_info", lambda: hardware.CpuInfo("Xeon", "x86_64", "AMX", 2))
    assert views.device_summary()["dtype"] == "bf16"

    monkeypatch.setattr(hardware, "choose_device", lambda spec: ("cuda", "a CUDA device is available"))
    monkeypatch.setattr(hardware, "choose_dtype", lambda dtype, device: ("bf16", "auto: the GPU supports bf16"))
    monkeypatch.setattr(views.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    calls = []

    def run(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout="NVIDIA H100, 81559 MiB\n\n")

    monkeypatch.setattr(views.subprocess, "run", run)
    assert views.device_summary()["gpus"] == ["NVIDIA H100, 81559 MiB"]
    assert calls[0][0] == "nvidia-smi"

    def broken(cmd, **kw):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(views.subprocess, "run", broken)
    assert views.device_summary()["gpus"] == []


def test_scoring_config_from_metadata_and_overrides():
    meta = {"config": {"max_length": 512, "template": "plain", "not_a_field": 1}}
    assert engine.scoring_config(meta, device="cpu") == ScoringConfig(max_length=512, template="plain", device="cpu")
    assert engine.scoring_config(meta, max_length=64).max_length == 64  # an override wins
    assert engine.scoring_config() == ScoringConfig()
    text = engine.config_json(ScoringConfig(max_length=300))
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert ScoringConfig(**json.loads(text)) == ScoringConfig(max_length=300)


def test_model_spec():
    meta = {"models": {"weak": {"spec": "/models/tiny"}, "strong": {"spec": "synthetic-strong"}, "x": {}}}
    ws = ws_of(meta=meta)
    assert views.model_spec(ws, "weak") == "/models/tiny"
    assert views.model_spec(ws, "strong") == "gemma3-270m"  # synthetic scores: the role's default
    assert views.model_spec(ws, "x") is None


def test_score_request_carries_models_mapping_and_options():
    request = views.score_request(
        "d.jsonl", {"weak": "smollm2-135m", "strong": "/m/big"},
        {"query": "instruction", "answer": "output", "input_field": None, "id_field": ""},
        output=Path("/out/d.scores.parquet"), device="cpu", dtype="fp32", max_length=512, batch_tokens=2048,
        compile_mode="off")
    assert request == jobs.ScoreRequest(
        data="d.jsonl", output="/out/d.scores.parquet", models={"weak": "smollm2-135m", "strong": "/m/big"},
        mapping={"query": "instruction", "answer": "output", "id_field": ""}, device="cpu", dtype="fp32",
        max_length=512, batch_tokens=2048, compile="off")
    assert request.engine == "local" and request.ray is None
    # Options the page leaves out are qaq score's defaults: they are not passed at all.
    plain = views.score_request("d.jsonl", {"weak": "w"}, None, output="o.parquet")
    assert plain.cli_args() == ["-m", "weak=w", "-o", "o.parquet", "--", "d.jsonl"]


def test_score_request_for_a_ray_cluster():
    request = views.score_request("d.jsonl", {"weak": "smollm2-135m"}, {"query": "instruction"}, output="o.parquet",
                                  engine="ray", address=" ", gpus_per_worker=0.5, dtype="bf16")
    assert request.engine == "ray"
    assert request.ray == jobs.RayOptions(address="auto", gpus_per_worker=0.5)  # blank address: auto
    assert request.dtype == "bf16" and request.mapping == {"query": "instruction"}
    assert views.score_request("d.jsonl", {"w": "x"}, {}, output="o", engine="ray",
                               address="ray://h:10001").ray.address == "ray://h:10001"
    on_cpus = views.score_request("d.jsonl", {"w": "x"}, {}, output="o", engine="ray", device="auto",
                                  gpus_per_worker=0)  # the page's "0 GPUs per worker"
    assert on_cpus.device == "cpu" and on_cpus.ray.gpus_per_worker is None


@pytest.mark.parametrize(("n", "text"), [(0, "0 rows"), (1, "1 row"), (2, "2 rows"), (12345, "12,345 rows")])
def test_rows_text(n, text):
    assert views.rows_text(n) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "unknown"), (float("inf"), "unknown"), (NAN, "unknown"), (0, "0 s"), (89.4, "89 s"),
    (90, "2 min"), (5399, "90 min"), (5400, "1.5 h"), (36000, "10.0 h"),
])
def test_duration(seconds, text):
    assert engine.duration_text(seconds) == text


# ------------------------------------------------------------------------------------- labels


def test_labels_of_a_workspace(labelled):
    lab = views.labels(labelled)
    assert lab["id"].tolist() == ["a", "c", "d", "b"]
    assert views.row_labels(labelled, "a") == ("ok", None)
    assert views.row_labels(labelled, "d") == (None, "exclude")
    assert views.row_labels(labelled, "zz") == (None, None)
    pd.testing.assert_series_equal(views.label_column(labelled),
                                   pd.Series(["ok", None, "mismatched", None, None], name="id", dtype="string"))
    assert views.overrides(labelled) == (["b"], ["d"])
    assert views.label_sources(labelled) == {"the data's `defect` column": ("defect", "none"),
                                             "your labels": ("label", "ok")}
    pd.testing.assert_frame_equal(views.labelled_table(labelled, "label"),
                                  small_table().assign(label=views.label_column(labelled)))
    pd.testing.assert_frame_equal(views.labelled_table(labelled, "defect"), small_table())


def test_labels_without_a_source_file():
    ws = ws_of()
    assert views.labels(ws).columns.tolist() == ["id", "label", "override", "updated"] and views.labels(ws).empty
    assert views.overrides(ws) == ([], [])
    assert views.label_column(ws).isna().all()
    assert views.label_sources(ws) == {"the data's `defect` column": ("defect", "none")}
    assert views.label_sources(ws_of(small_table().drop(columns="defect"))) == {}


def test_an_unreadable_labels_file(tmp_path):
    source = tmp_path / "d.jsonl"
    labels_path(source).write_text("{not json")
    ws = ws_of(source=source)
    with pytest.raises(LabelsError):
        views.row_labels(ws, "a")
    with pytest.raises(LabelsError):
        views.overrides(ws)
    assert views.label_sources(ws) == {"the data's `defect` column": ("defect", "none")}  # reported on Browse


# ------------------------------------------------------------------------------ example lists


def test_list_and_sortable_columns():
    ws = ws_of()
    base = ["id", "line", "query", "answer", "strong_rmi", "strong_stratum", "strong_rank", "weak_rmi",
            "weak_stratum", "weak_rank", "diff", "sum", "defect"]
    assert views.list_columns(ws) == base
    assert views.list_columns(ws, ["skip", "id", "missing"]) == [*base, "skip"]
    assert views.list_columns(ws_of(None, models=("weak",))) == ["id", "line", "query", "answer", "weak_rmi",
                                                                 "weak_stratum", "weak_rank", "diff", "sum", "defect"]
    assert views.list_columns(Workspace(None)) == []
    assert views.sortable_columns(ws) == ["strong_nll_q", "strong_rmi", "strong_stratum", "strong_rank", "weak_rmi",
                                          "weak_stratum", "weak_rank", "diff", "sum", "line"]


def test_browse_rows_filters_sorts_and_limits(labelled):
    ws = ws_of()
    rows, total = views.browse_rows(ws, model="strong", stratum=1, sort_by="strong_rmi", ascending=True)
    assert (rows["id"].tolist(), total) == (["d", "c"], 2)
    rows, total = views.browse_rows(ws, model="strong", stratum=None, sort_by="strong_rmi", ascending=False)
    assert (rows["id"].tolist(), total) == (["c", "a", "b", "d", "e"], 5)  # no stratum filter; NaN last
    rows, total = views.browse_rows(ws, model=None, stratum=None, sort_by="diff", ascending=True, limit=2)
    assert (rows["id"].tolist(), total) == (["d", "a"], 5)  # ties keep table order; the total counts all
    pd.testing.assert_frame_equal(rows, small_table().loc[[3, 0]])  # whole rows, unchanged
    rows, total = views.browse_rows(ws, model=None, stratum=None, sort_by="no such column", ascending=True)
    assert rows["id"].tolist() == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(("search", "ids"), [
    ("string", ["b"]),  # case-insensitive
    ("  ECHO ME ", ["d"]),  # trimmed; in Q or A
    ("[::-1]", ["b"]),  # plain text, not a regex
    ("a + b", ["c"]),
    ("nothing like this", []),
    ("", ["a", "b", "c", "d", "e"]),
])
def test_browse_rows_search(search, ids):
    rows, total = views.browse_rows(ws_of(), model=None, stratum=None, sort_by="line", ascending=True, search=search)
    assert (rows["id"].tolist(), total) == (ids, len(ids))


@pytest.mark.parametrize(("label", "ids"), [("ok", ["a"]), ("mismatched", ["c"]), ("echo", []),
                                            ("(unlabelled)", ["b", "d", "e"]), (None, ["a", "b", "c", "d", "e"])])
def test_browse_rows_by_label(labelled, label, ids):
    rows, total = views.browse_rows(labelled, model=None, stratum=None, sort_by="line", ascending=True, label=label)
    assert (rows["id"].tolist(), total) == (ids, len(ids))


def test_most_disagreed_and_rows_by_id():
    ws = ws_of()
    top = views.most_disagreed(ws, 3)
    assert top["id"].tolist() == ["c", "d", "a"]  # |diff| 0.5, 0.5 (table order), then 0.0
    assert top.columns.tolist() == views.list_columns(ws)
    assert views.most_disagreed(ws)["id"].tolist() == ["c", "d", "a", "b", "e"]
    picked = views.rows_by_id(ws, ["d", "b", "zz"])
    pd.testing.assert_frame_equal(picked, small_table().loc[[1, 3], views.list_columns(ws)])  # in table order
    numeric = ws_of(small_table().assign(id=[10, 11, 12, 13, 14]))
    assert views.rows_by_id(numeric, ["12"])["id"].tolist() == [12]  # ids compare as strings


# --------------------------------------------------------------------------- the example view


def test_example_scores_one_line_per_model():
    ws = ws_of()
    row = small_table().iloc[0]
    expected = pd.DataFrame({"nll_q": [1.0, None], "rmi": [0.5, 0.2], "stratum": [0, 0], "rank": [1.0, 1.0]},
                            index=pd.Index(["strong", "weak"], name="model"))
    pd.testing.assert_frame_equal(views.example_scores(ws, row), expected, check_dtype=False)
    assert views.example_scores(ws, small_table().iloc[4]).shape == (2, 0)  # not scored: no field has a value


def test_example_flags_and_code_language():
    ws = ws_of()
    rows = small_table()
    assert views.example_flags(ws, rows.iloc[0]) == []
    assert views.example_flags(ws, rows.iloc[3]) == ["RMI < 0", "answer echoes query"]  # strong's RMI < 0
    assert views.example_flags(ws, rows.iloc[4]) == ["empty query/answer"]
    assert views.code_language(rows["answer"].iloc[2]) == "markdown"
    assert views.code_language("print(1)") is None


# ----------------------------------------------------------------------- Select & export page


@pytest.mark.parametrize(("recipe", "target"), [
    ({"method": "random"}, None),
    ({"method": "diff_high"}, ("diff", "greater")),
    ({"method": "diff_low"}, ("diff", "less")),
    ({"method": "sum_high"}, ("sum", "greater")),
    ({"method": "sum_low"}, ("sum", "less")),
    ({"method": "rmi_band", "model": "weak"}, ("weak_rmi", "greater")),
    ({"method": "ifd", "model": "strong"}, ("strong_ifd", "less")),
])
def test_retention_target(recipe, target):
    assert views.retention_target(recipe) == target


def test_comparison_arms():
    ws = ws_of(bins=4, ranking="global")
    assert views.comparison_arms(ws, 1) == {}
    assert views.comparison_arms(ws, 3) == {
        "QAQ (Diff-High)": {"method": "diff_high", "strong": "strong", "weak": "weak", "budget": 3,
                            "ranking": "global", "bins": 4},
        "random": {"method": "random", "budget": 3, "seed": 0},
    }
    with_ifd = ws_of(small_table().assign(weak_ifd=1.0), strong=None, weak=None, models=("weak",), bins=4)
    assert views.comparison_arms(with_ifd, 2) == {"IFD": {"method": "ifd", "model": "weak", "budget": 2, "bins": 4},
                                                  "random": {"method": "random", "budget": 2, "seed": 0}}


def test_overlap_table():
    current = pd.Series([True, True, False, False, True])
    others = {"x": pd.Series([True, False, True, False, False]), "none": pd.Series([False] * 5)}
    expected = pd.DataFrame({"arm": ["x", "none"], "rows": [2, 0], "shared": [1, 0],
                             "share of current": [1 / 3, 0.0], "jaccard": [1 / 4, 0.0]})
    pd.testing.assert_frame_equal(views.overlap_table(current, others), expected)
    assert views.overlap_table(current, {}).columns.tolist() == ["arm", "rows", "shared", "share of current",
                                                                 "jaccard"]


def _detect_table(n: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    t = _scored(n)
    t["s_ifd"] = rng.uniform(0.5, 1.5, n)
    t = views.working_table(t, bins=2, ranking="stratified", strong="s", weak="w")
    t["defect"] = np.where(np.arange(n) % 4 == 0, "echo", "none")
    return t, suspicion_scores(t, model="s", strong="s", weak="w", bins=2)


def test_detection_quality():
    t, scores = _detect_table()
    out = views.detection_quality(t, scores, label_col="defect", clean="none")
    pd.testing.assert_frame_equal(out["table"], detection_table(t, scores, label_col="defect", clean="none"))
    assert out["truth"].sum() == 10 and "error" not in out
    assert set(out["roc"]) == set(out["pr"]) == set(scores.columns)
    one_class = views.detection_quality(t.assign(defect="none"), scores, label_col="defect", clean="none")
    assert (one_class["roc"], one_class["pr"]) == ({}, {}) and one_class["error"]


def test_defect_shares(labelled):
    masks = {"first two": pd.Series([True, True, False, False, False])}
    pd.testing.assert_frame_equal(views.defect_shares(labelled, ("defect", "none"), masks),
                                  defect_share(small_table(), masks, label_col="defect", clean="none"))
    shares = views.defect_shares(labelled, ("label", "ok"), masks)
    assert shares["n_labelled"].tolist() == [2, 1]  # the user's labels: a (ok) and c (mismatched)
    assert shares["mismatched"].tolist() == [0.5, 0.0]


@pytest.mark.parametrize(("name", "suffix"), [
    ("d.jsonl", ".jsonl"), ("d.json", ".jsonl"), ("d.NDJSON", ".jsonl"), ("d.csv.gz", ".csv"),
    ("d.parquet", ".parquet"), ("d.pq", ".parquet"), ("d.txt", ".jsonl"), ("data", ".jsonl"),
])
def test_output_suffix(name, suffix):
    assert views.output_suffix(f"/x/{name}") == suffix


def test_select_command(tmp_path):
    recipe = {"method": "random", "budget": 0.5, "seed": 0}
    scores = tmp_path / "my scores.parquet"
    ws = ws_of(scores_path=str(scores), source=tmp_path / "d.csv")
    assert views.select_command(ws, recipe) == (
        f"qaq select '{scores}' --data {tmp_path / 'd.csv'} "
        "--recipe '{\"method\":\"random\",\"budget\":0.5,\"seed\":0}' -o selected.csv --discarded discarded.csv "
        "--manifest manifest.json")
    self_contained = ws_of(scores_path=str(scores), source=scores.resolve())
    assert shlex.split(views.select_command(self_contained, recipe))[:4] == ["qaq", "select", str(scores), "--recipe"]
    assert shlex.split(views.select_command(ws_of(), recipe))[2:4] == ["--recipe", json.dumps(recipe,
                                                                                            separators=(",", ":"))]


def test_export_files_copy_the_selected_rows(tmp_path):
    source = tmp_path / "d.jsonl"
    lines = [json.dumps({"id": f"r{i}", "instruction": f"q{i}", "response": f"a{i}"}) + "\n" for i in range(4)]
    source.write_text("".join(lines))
    table = load_dataset(source)
    ws = Workspace(table, source_path=str(source), meta={"config": {"template": "plain"}})
    recipe = {"method": "random", "budget": 2, "seed": 0}
    files = views.export_files(ws, recipe, pd.Series([False, True, False, True]))
    assert sorted(files) == ["discarded.jsonl", "manifest.json", "selected.jsonl"]
    assert files["selected.jsonl"].decode() == lines[1] + lines[3]
    assert files["discarded.jsonl"].decode() == lines[0] + lines[2]
    manifest = json.loads(files["manifest.json"])
    assert manifest["n_selected"] == 2
    assert manifest["command"] == views.select_command(ws, recipe)

"""Tests for qaq.app.table: the Workspace, the roles a table opens with, and the working table."""

from __future__ import annotations

import pandas as pd
import pytest
from app_workspaces import scored, ws_of

from qaq.app import table
from qaq.select.disagreement import add_disagreement
from qaq.select.strata import add_ranks, add_strata


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
    assert table.default_roles(models, meta) == roles


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


@pytest.mark.parametrize("ranking", ["stratified", "global"])
def test_working_table_adds_strata_ranks_and_the_pair(ranking):
    base = scored()
    before = base.copy()
    expected = base
    for m in ("s", "w"):
        expected = add_ranks(add_strata(expected, m, bins=3), m, ranking=ranking, bins=3)
    expected = add_disagreement(expected, strong="s", weak="w", ranking=ranking, bins=3)
    got = table.working_table(base, bins=3, ranking=ranking, strong="s", weak="w")
    pd.testing.assert_frame_equal(got, expected)
    assert list(got.columns[-6:]) == ["s_stratum", "s_rank", "w_stratum", "w_rank", "diff", "sum"]
    pd.testing.assert_frame_equal(base, before)  # the input is not mutated


@pytest.mark.parametrize(("strong", "weak"), [("s", "s"), ("s", None), (None, None)])
def test_working_table_without_a_pair_has_no_diff(strong, weak):
    got = table.working_table(scored(), bins=2, ranking="global", strong=strong, weak=weak)
    assert "diff" not in got.columns and "sum" not in got.columns
    assert {"s_stratum", "s_rank", "w_stratum", "w_rank"} <= set(got.columns)


def test_working_table_with_custom_boundaries():
    base = scored()
    cuts = (1.0, 2.5)
    expected = base
    for m in ("s", "w"):
        expected = add_ranks(add_strata(expected, m, boundaries=cuts), m, boundaries=cuts)
    expected = add_disagreement(expected, strong="s", weak="w", boundaries=cuts)
    got = table.working_table(base, bins=7, ranking="stratified", strong="s", weak="w", boundaries=cuts)
    pd.testing.assert_frame_equal(got, expected)
    assert set(got["s_stratum"].dropna()) <= {0, 1, 2}


def test_workspace_strata_keys():
    quantile = ws_of(bins=7)
    assert (quantile.n_strata, quantile.strata_items, quantile.strata_args) == (
        7, {"bins": 7}, {"bins": 7, "boundaries": None})
    custom = ws_of(bins=7, boundaries=(1.0, 2.0))
    assert (custom.n_strata, custom.strata_items, custom.strata_args) == (
        3, {"boundaries": [1.0, 2.0]}, {"bins": None, "boundaries": (1.0, 2.0)})

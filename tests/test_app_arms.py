"""Tests for qaq.app.arms: the arms the Select & export page offers and compares, and their overlap."""

from __future__ import annotations

import pandas as pd
import pytest
from app_workspaces import small_table, ws_of

from qaq.app import arms
from qaq.select.compare import quadrant_counts


@pytest.mark.parametrize(("recipe", "target"), [
    ({"method": "random"}, None),
    ({"method": "diff_high"}, ("diff", "greater")),
    ({"method": "diff_low"}, ("diff", "less")),
    ({"method": "sum_high"}, ("sum", "greater")),
    ({"method": "sum_low"}, ("sum", "less")),
    ({"method": "rmi_band", "model": "weak"}, ("weak_rank", "greater")),  # the band cuts the rank
    ({"method": "ifd", "model": "strong"}, ("strong_ifd", "less")),
])
def test_retention_target(recipe, target):
    assert arms.retention_target(recipe) == target


def test_comparison_arms():
    ws = ws_of(bins=4, ranking="global")
    assert arms.comparison_arms(ws, 1) == {}
    assert arms.comparison_arms(ws, 3) == {
        "QAQ (Diff-High)": {"method": "diff_high", "strong": "strong", "weak": "weak", "budget": 3,
                           "ranking": "global", "bins": 4},
        "random": {"method": "random", "budget": 3, "seed": 0},
    }
    with_ifd = ws_of(small_table().assign(weak_ifd=1.0), strong=None, weak=None, models=("weak",), bins=4)
    assert arms.comparison_arms(with_ifd, 2) == {"IFD": {"method": "ifd", "model": "weak", "budget": 2, "bins": 4},
                                                 "random": {"method": "random", "budget": 2, "seed": 0}}


def test_overlap_table():
    current = pd.Series([True, True, False, False, True])
    others = {"x": pd.Series([True, False, True, False, False]), "none": pd.Series([False] * 5)}
    expected = pd.DataFrame({"arm": ["x", "none"], "rows": [2, 0], "shared": [1, 0],
                             "share of current": [1 / 3, 0.0], "jaccard": [1 / 4, 0.0]})
    pd.testing.assert_frame_equal(arms.overlap_table(current, others), expected)
    assert arms.overlap_table(current, {}).columns.tolist() == ["arm", "rows", "shared", "share of current",
                                                                "jaccard"]


def test_comparison_arms_carry_custom_boundaries():
    ws = ws_of(bins=4, boundaries=(1.5, 3.5))
    got = arms.comparison_arms(ws, 3)
    assert got["QAQ (Diff-High)"]["boundaries"] == [1.5, 3.5] and "bins" not in got["QAQ (Diff-High)"]


def test_in_workspace_follows_the_sidebar_strata():
    recipe = {"method": "rmi_band", "model": "weak", "lo": 0.5, "hi": 0.75, "ranking": "global", "bins": 10}
    ws = ws_of(bins=4, ranking="stratified", boundaries=(1.5,))
    assert arms.in_workspace(recipe, ws) == {"method": "rmi_band", "model": "weak", "lo": 0.5, "hi": 0.75,
                                             "ranking": "stratified", "boundaries": [1.5]}
    assert arms.in_workspace(recipe, ws_of(bins=4))["bins"] == 4
    assert arms.in_workspace(None, ws) is None
    assert arms.in_workspace({"method": "random", "budget": 2}, ws) == {"method": "random", "budget": 2}


def test_retention_cut():
    t = small_table()  # diff: 0, 0, 0.5, -0.5, NaN
    keep = pd.Series([True, False, True, False, False])
    assert arms.retention_cut(t, {"method": "diff_high", "budget": 2}, keep) == (0.0,)  # the last kept
    assert arms.retention_cut(t, {"method": "diff_low", "budget": 2}, keep) == (0.5,)
    # An included row is kept whatever its score: it does not move the cut.
    assert arms.retention_cut(t, {"method": "diff_high", "budget": 2, "include": ["a"]}, keep) == (0.5,)
    assert arms.retention_cut(t, {"method": "diff_high", "threshold": 0.1}, keep) == (0.1,)
    assert arms.retention_cut(t, {"method": "rmi_band", "model": "weak", "lo": 0.2, "hi": 0.9}, keep) == (0.2, 0.9)
    ifd = t.assign(strong_ifd=[0.4, 0.9, 0.7, 1.2, None])
    assert arms.retention_cut(ifd, {"method": "ifd", "model": "strong"}, keep) == (0.4, 0.7)
    assert arms.retention_cut(t, {"method": "random", "budget": 2}, keep) == ()
    assert arms.retention_cut(t, {"method": "diff_high", "budget": 2}, keep & False) == ()


def test_with_chart_filter():
    recipe = {"method": "random", "budget": 2, "include": ["a"], "exclude": ["b", "z"]}
    assert arms.with_chart_filter(recipe, ["b", "c"], "show") is recipe
    assert arms.with_chart_filter(recipe, [], "include") is recipe
    assert arms.with_chart_filter(recipe, ["b", "c"], "include") == {
        "method": "random", "budget": 2, "include": ["a", "b", "c"], "exclude": ["z"]}  # the filter wins over b
    assert arms.with_chart_filter(recipe, ["a", "c"], "exclude") == {
        "method": "random", "budget": 2, "include": [], "exclude": ["b", "z", "a", "c"]}
    assert recipe == {"method": "random", "budget": 2, "include": ["a"], "exclude": ["b", "z"]}  # untouched
    with pytest.raises(ValueError, match="use must be one of"):
        arms.with_chart_filter(recipe, ["a"], "keep")


def test_chart_filter_rows():
    ws = ws_of()
    got = arms.chart_filter_rows(ws, ["d", "a"], pd.Series([False, True, False, True, False]))
    assert got["id"].tolist() == ["a", "d"] and got["selected"].tolist() == [False, True]
    assert got.columns[0] == "selected"


def test_split_notes():
    t = pd.DataFrame({"diff": [0.1, 0.1, 0.3, -0.2, None], "sum": [1.0, 0.5, 1.5, 1.2, None]})
    q = quadrant_counts(t, diff_threshold=0.1, sum_threshold=1.0)
    assert arms.split_notes(q, diff_threshold=0.1, sum_threshold=1.0, n_rows=5) == [
        "Diff-High + Diff-Low = 2 of the 4 ranked rows: 2 rows have Diff exactly 0.1, in neither half (both are "
        "strict: Diff > 0.1 and Diff < 0.1).",
        "Sum-High + Sum-Low = 3 of the 4 ranked rows: 1 row has Sum exactly 1, in neither half (both are strict: "
        "Sum > 1 and Sum < 1).",
        "1 of the 5 rows has no rank from both models (skipped or unscored).",
    ]
    q = quadrant_counts(t, diff_threshold=0.2, sum_threshold=1.1)
    assert arms.split_notes(q, diff_threshold=0.2, sum_threshold=1.1, n_rows=4) == []


def test_band_note():
    counts = pd.DataFrame({"stratum": pd.array([0, 1, 2, None], dtype="Int64"), "rows": [70, 70, 71, 2],
                           "selected": [17, 17, 18, 0]})
    recipe = {"method": "rmi_band", "model": "m", "lo": 0.5, "hi": 0.75}
    assert arms.band_note(counts, recipe, n_rows=213, n_selected=52) == (
        "Why 52 rows (24.4%) and not 25% of 213 (53.2): RMI is ranked within each stratum, so a group of n rows has "
        "the ranks 1/n, 2/n, …, 1, and the band (0.5, 0.75] keeps ⌊0.75·n⌋ − ⌊0.5·n⌋ of them, whole rows: "
        "17 of 70 in 2 strata; 18 of 71 in 1 stratum = 52. 2 rows without a rank (skipped or unscored) are never kept."
    )
    off = arms.band_note(counts, recipe, n_rows=213, n_selected=55)
    assert "= 52. Equal RMI values (ties share their average rank) and include/exclude ids make up the difference " \
           "(+3 rows)." in off
    one_group = arms.band_note(counts, {**recipe, "ranking": "global"}, n_rows=213, n_selected=52)
    assert "RMI is ranked over the whole table" in one_group and "whole rows: 53 of 211 = 53. " in one_group  # 106..158
    assert "(-1 row)." in one_group
    assert arms.band_note(counts, recipe, n_rows=200, n_selected=50) is None  # adds up
    assert arms.band_note(counts, {"method": "diff_high"}, n_rows=213, n_selected=52) is None

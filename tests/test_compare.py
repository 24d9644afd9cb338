"""Tests for qaq.select.compare: overlap, retention curves, Diff/Sum quadrants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qaq.select.compare import overlap, quadrant_counts, retention_curve

NAN = float("nan")


def test_overlap_exact():
    o = overlap(["a", "b", "c", "c"], ("b", "c", "d", "e"))
    assert o == {
        "n_a": 3, "n_b": 4, "n_both": 2, "n_only_a": 1, "n_only_b": 2, "n_union": 5,
        "jaccard": 0.4, "share_of_a": 2 / 3, "share_of_b": 0.5, "intersection": ["b", "c"],
    }


def test_overlap_edges():
    assert overlap([], [])["jaccard"] == 0.0
    assert overlap(["x"], [])["share_of_a"] == 0.0 and overlap(["x"], [])["n_only_a"] == 1
    same = overlap(pd.Series(["p", "q"]), np.array(["q", "p"]))
    assert same["jaccard"] == 1.0 and same["intersection"] == ["p", "q"]


def test_retention_curve_exact():
    values = pd.Series([0.1, 0.2, 0.2, 0.4, NAN])
    out = retention_curve(values, [0.0, 0.2, 0.4])
    pd.testing.assert_frame_equal(
        out,
        pd.DataFrame({"threshold": [0.0, 0.2, 0.4], "kept": np.array([4, 1, 0], dtype=np.int64),
                      "fraction": [1.0, 0.25, 0.0]}),
    )
    less = retention_curve(values, [0.2, 0.5], keep="less")
    assert less["kept"].tolist() == [1, 4] and less["fraction"].tolist() == [0.25, 1.0]


def test_retention_curve_default_thresholds_and_errors():
    out = retention_curve(np.arange(11.0))
    assert len(out) == 101 and out["threshold"].iloc[0] == 0.0 and out["threshold"].iloc[-1] == 10.0
    assert out["kept"].iloc[0] == 10 and out["kept"].iloc[-1] == 0
    assert (np.diff(out["kept"]) <= 0).all()
    assert retention_curve([NAN], [0.0])["fraction"].isna().all()
    assert retention_curve([], None).empty
    with pytest.raises(ValueError, match="keep"):
        retention_curve([1.0], keep="above")


def test_quadrant_counts_exact():
    df = pd.DataFrame(
        {
            "diff": [0.5, 0.4, -0.2, 0.0, -0.3, NAN, 0.1],
            "sum": [1.5, 0.5, 0.5, 1.2, 1.8, 1.0, 1.0],
        }
    )
    out = quadrant_counts(df)
    expected = pd.DataFrame(
        [[1, 1, 3], [1, 1, 2], [3, 2, 6]],
        index=["Diff-High", "Diff-Low", "total"],
        columns=["Sum-High", "Sum-Low", "total"],
        dtype=np.int64,
    )
    pd.testing.assert_frame_equal(out, expected)
    shifted = quadrant_counts(df, diff_threshold=0.45, sum_threshold=0.9)
    assert shifted.loc["Diff-High", "Sum-High"] == 1 and shifted.loc["Diff-Low", "Sum-High"] == 3
    with pytest.raises(KeyError, match="add_disagreement"):
        quadrant_counts(df.drop(columns="sum"))

"""qaq.select.correlations: the ranks behind Spearman's rho are pandas' average ranks, with or
without repeated values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qaq.select.correlations import _ranks, spearman


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).normal(size=1000),
        np.round(np.random.default_rng(1).normal(size=1000), 1),  # many repeats
        np.array([0.0, -0.0, 1.0, np.inf, -np.inf, 2.0]),  # -0.0 and 0.0 are one value
        np.array([3.0, 1.0, 2.0]),
        np.array([5.0, 5.0]),
    ],
)
def test_ranks_are_pandas_average_ranks(values):
    assert np.array_equal(_ranks(values), pd.Series(values).rank().to_numpy())


def test_spearman_is_unchanged_by_the_rank_shortcut():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=500), rng.normal(size=500)
    xr = pd.Series(x).rank().to_numpy() - 250.5
    yr = pd.Series(y).rank().to_numpy() - 250.5
    want = float(np.round(np.dot(xr, yr) / np.sqrt(np.dot(xr, xr) * np.dot(yr, yr)), 15))
    assert spearman(x, y) == want

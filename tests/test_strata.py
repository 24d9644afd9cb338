"""Tests for qaq.select.strata and qaq.select.correlations: quantile strata, stratified/global ranks,
disagreement, Spearman."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qaq.select import strata
from qaq.select.correlations import rmi_ifd_spearman, spearman, spearman_by_stratum, strong_weak_spearman
from qaq.select.disagreement import add_disagreement
from qaq.select.strata import add_ranks, add_strata, stratum_codes
from qaq.select.stratum_stats import stratum_summary

NAN = float("nan")


def scored(n: int, *, seed: int = 0, models: tuple[str, ...] = ("s", "w"), ties: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": [f"r{i:04d}" for i in range(n)], "row": np.arange(n, dtype=np.int64)})
    for m in models:
        q = rng.integers(0, 6, n) / 2 if ties else rng.gamma(2.0, 1.0, n)
        qa = rng.integers(0, 6, n) / 2 if ties else rng.gamma(2.0, 1.0, n)
        df[f"{m}_nll_q"] = q
        df[f"{m}_nll_q_given_a"] = qa
        df[f"{m}_rmi"] = q - qa
        df[f"{m}_ifd"] = rng.uniform(0.5, 1.5, n)
    return df


def reference_strata(values: np.ndarray, order: np.ndarray, bins: int) -> np.ndarray:
    """The rule as written: sort by (value, order), bin = floor(place * K / m); -1 for NaN."""
    codes = np.full(len(values), -1)
    valid = np.flatnonzero(~np.isnan(values))
    ranked = sorted(valid, key=lambda i: (values[i], order[i]))
    for place, i in enumerate(ranked):
        codes[i] = place * bins // len(valid)
    return codes


# ------------------------------------------------------------------------------------ strata


def test_strata_hand_table_with_ties_and_nan():
    df = pd.DataFrame({"m_nll_q": [0.3, 0.1, 0.1, 0.2, NAN, 0.1]})
    out = add_strata(df, "m", bins=3)
    # order by (value, row): rows 1, 2, 5 (0.1), 3 (0.2), 0 (0.3) -> places 0..4 -> floor(p*3/5)
    expected = pd.Series([2, 0, 0, 1, pd.NA, 1], dtype="Int64", name="m_stratum")
    pd.testing.assert_series_equal(out["m_stratum"], expected)


@pytest.mark.parametrize("n,bins", [(103, 10), (1000, 7), (10, 10), (5, 10), (1, 3)])
def test_strata_sizes_equal_up_to_one(n, bins):
    out = add_strata(scored(n, seed=n), "s", bins=bins)
    counts = out["s_stratum"].value_counts()
    assert counts.sum() == n
    assert counts.max() - counts.min() <= 1
    assert set(counts.index) <= set(range(bins))
    # bins are ordered: every value of stratum k is <= every value of stratum k+1
    g = out.groupby("s_stratum")["s_nll_q"]
    assert (g.max().to_numpy()[:-1] <= g.min().to_numpy()[1:]).all()


def test_strata_split_ties_by_row_order():
    df = pd.DataFrame({"m_nll_q": [1.0] * 6, "row": [5, 4, 3, 2, 1, 0]})
    out = add_strata(df, "m", bins=3)
    assert out["m_stratum"].tolist() == [2, 2, 1, 1, 0, 0]


def test_strata_fast_path_matches_the_written_rule():
    rng = np.random.default_rng(7)
    for _ in range(500):
        n, bins = int(rng.integers(0, 30)), int(rng.integers(1, 12))
        values = rng.integers(0, int(rng.integers(1, 6)), n).astype(float)
        values[rng.random(n) < 0.2] = np.nan
        order = rng.permutation(n)
        np.testing.assert_array_equal(
            strata._strata_codes(values, order, bins), reference_strata(values, order, bins)
        )


def test_strata_independent_of_frame_order_when_row_present():
    df = scored(200, seed=3, ties=True)
    a = add_strata(df, "s", bins=10).set_index("id")["s_stratum"]
    shuffled = df.sample(frac=1.0, random_state=1)
    b = add_strata(shuffled, "s", bins=10).set_index("id")["s_stratum"]
    pd.testing.assert_series_equal(a, b.loc[a.index])


def test_add_functions_do_not_mutate_input():
    df = scored(50, seed=1)
    before = df.copy(deep=True)
    add_strata(df, "s")
    add_ranks(df, "s")
    add_disagreement(df, strong="s", weak="w")
    pd.testing.assert_frame_equal(df, before)


# ------------------------------------------------------------------------------------ explicit boundaries


def test_boundaries_hand_table_closed_below():
    v = np.array([0.5, 1.0, 1.5, 2.0, 2.5, NAN, -np.inf, np.inf, 3.0])
    # strata: (-inf, 1) | [1, 2) | [2, 3) | [3, inf)
    assert stratum_codes(v, boundaries=[1.0, 2.0, 3.0]).tolist() == [0, 1, 1, 2, 2, -1, 0, 3, 3]
    assert stratum_codes(v, boundaries=(1, 2.0, 3)).tolist() == [0, 1, 1, 2, 2, -1, 0, 3, 3]  # ints, tuple
    assert stratum_codes(v, boundaries=np.array([2.0])).tolist() == [0, 0, 0, 1, 1, -1, 0, 1, 1]
    assert stratum_codes([], boundaries=[1.0]).tolist() == []
    df = pd.DataFrame({"m_nll_q": v, "row": [8, 7, 6, 5, 4, 3, 2, 1, 0]})  # row order plays no part
    out = add_strata(df, "m", boundaries=[1.0, 2.0, 3.0])
    expected = pd.Series([0, 1, 1, 2, 2, pd.NA, 0, 3, 3], dtype="Int64", name="m_stratum")
    pd.testing.assert_series_equal(out["m_stratum"], expected)


def test_boundaries_put_every_tied_row_above_the_cut():
    df = pd.DataFrame({"m_nll_q": [1.0] * 6 + [0.5, 2.0], "row": [5, 4, 3, 2, 1, 0, 6, 7]})
    assert add_strata(df, "m", boundaries=[1.0])["m_stratum"].tolist() == [1] * 6 + [0, 1]
    # quantiles split the tie: by (value, row) the places are 0.5, then rows 0..5 of the 1.0s, then 2.0
    assert add_strata(df, "m", bins=2)["m_stratum"].tolist() == [1, 1, 1, 0, 0, 0, 0, 1]


def test_quantile_edges_as_boundaries_reproduce_the_quantile_strata():
    for n, bins in ((1000, 10), (103, 7), (9, 3)):
        df = scored(n, seed=n)
        q = add_strata(df, "s", bins=bins)
        edges = q.groupby("s_stratum")["s_nll_q"].min().iloc[1:].tolist()  # each stratum starts at its minimum
        b = add_strata(df, "s", boundaries=edges)
        pd.testing.assert_series_equal(q["s_stratum"], b["s_stratum"])
        np.testing.assert_array_equal(
            stratum_codes(df["s_nll_q"].to_numpy(), bins=bins), stratum_codes(df["s_nll_q"].to_numpy(), boundaries=edges)
        )


def test_stratum_codes_bins_is_the_quantile_rule():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 4, 50).astype(float)
    values[::7] = NAN
    order = rng.permutation(50)
    np.testing.assert_array_equal(stratum_codes(values, order, bins=4), reference_strata(values, order, 4))
    np.testing.assert_array_equal(stratum_codes(values), reference_strata(values, np.arange(50), 10))


def test_ranks_within_boundary_strata_and_empty_strata():
    df = pd.DataFrame({"m_nll_q": [1.0, 1.2, 1.4, 3.0, 3.5, NAN], "m_rmi": [0.3, 0.1, 0.2, 0.5, 0.9, 0.4]})
    # strata [-inf, 1) empty | [1, 2): rows 0-2 | [2, 3) empty | [3, 4): rows 3-4 | [4, inf) empty
    out = add_ranks(df, "m", boundaries=[1.0, 2.0, 3.0, 4.0])
    assert out["m_stratum"].tolist() == [1, 1, 1, 3, 3, pd.NA]
    assert out["m_rank"].tolist()[:5] == [1.0, 1 / 3, 2 / 3, 0.5, 1.0] and np.isnan(out["m_rank"].iloc[5])
    # every row in one stratum (cut points past the data): the stratified ranks are the global ones
    one = add_ranks(df.dropna(), "m", boundaries=[10.0, 20.0])
    assert one["m_stratum"].tolist() == [0] * 5
    assert one["m_rank"].tolist() == add_ranks(df.dropna(), "m", ranking="global")["m_rank"].tolist()
    # global: the boundaries play no part, and the row without PPL(Q) is ranked too (6 RMIs)
    glob = add_ranks(df, "m", ranking="global", boundaries=[1.0])
    assert glob["m_rank"].tolist() == [3 / 6, 1 / 6, 2 / 6, 5 / 6, 1.0, 4 / 6] and "m_stratum" not in glob


def test_disagreement_and_summary_with_boundaries():
    df = scored(60, seed=2)
    cuts = [1.0, 2.0, 3.0]
    out = add_disagreement(df, strong="s", weak="w", boundaries=cuts)
    for m in ("s", "w"):
        assert out[f"{m}_stratum"].tolist() == stratum_codes(df[f"{m}_nll_q"].to_numpy(), boundaries=cuts).tolist()
    assert (out["diff"] == out["s_rank"] - out["w_rank"]).all()
    summary = stratum_summary(df, "s", boundaries=[1.0, 2.0, 3.0, 50.0, 60.0])  # [50, 60) and [60, inf) empty
    counts = pd.Series(stratum_codes(df["s_nll_q"].to_numpy(), boundaries=[1.0, 2.0, 3.0])).value_counts().sort_index()
    assert summary["stratum"].tolist() == counts.index.tolist() == [0, 1, 2, 3]
    assert summary["n"].tolist() == counts.tolist()
    assert summary.loc[0, "nll_q_max"] < 1.0 <= summary.loc[1, "nll_q_min"]
    before = df.copy(deep=True)
    add_strata(df, "s", boundaries=cuts)
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"bins": 3, "boundaries": [1.0]}, "bins or boundaries, not both"),
        ({"boundaries": []}, "at least one cut point"),
        ({"boundaries": [2.0, 1.0]}, "strictly increasing, got \\[2.0, 1.0\\]"),
        ({"boundaries": [1.0, 1.0]}, "strictly increasing"),
        ({"boundaries": [1.0, NAN]}, "finite"),
        ({"boundaries": [1.0, np.inf]}, "finite"),
        ({"boundaries": ["1"]}, "must be numbers"),
        ({"boundaries": [True]}, "must be numbers"),
        ({"boundaries": "12"}, "sequence of numbers"),
        ({"boundaries": 2.0}, "sequence of numbers"),
        ({"bins": 0}, "bins must be an integer >= 1"),
    ],
)
def test_boundary_errors(kwargs, match):
    df = scored(10)
    for call in (
        lambda: add_strata(df, "s", **kwargs),
        lambda: add_ranks(df, "s", **kwargs),
        lambda: add_disagreement(df, strong="s", weak="w", **kwargs),
        lambda: stratum_summary(df, "s", **kwargs),
        lambda: stratum_codes(df["s_nll_q"].to_numpy(), **kwargs),
    ):
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(ValueError, match="order has 2 places for 3 values"):
        stratum_codes([1.0, 2.0, 3.0], [0, 1], bins=2)


# ------------------------------------------------------------------------------------ ranks


def test_global_rank_is_pandas_pct_rank():
    df = scored(300, seed=2, ties=True)
    df.loc[[3, 17], "s_rmi"] = NAN
    out = add_ranks(df, "s", ranking="global")
    pd.testing.assert_series_equal(out["s_rank"], df["s_rmi"].rank(pct=True), check_names=False)
    assert "s_stratum" not in out.columns


def test_stratified_rank_hand_table():
    df = pd.DataFrame(
        {
            "m_nll_q": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "m_rmi": [0.3, 0.1, 0.2, 0.9, 0.9, 0.1],
        }
    )
    out = add_ranks(df, "m", bins=2)
    assert out["m_stratum"].tolist() == [0, 0, 0, 1, 1, 1]
    # stratum 0: 0.3, 0.1, 0.2 -> 3/3, 1/3, 2/3; stratum 1: 0.9, 0.9 tie (avg 2.5), 0.1 -> 1
    assert out["m_rank"].tolist() == [1.0, 1 / 3, 2 / 3, 2.5 / 3, 2.5 / 3, 1 / 3]


def test_stratified_rank_equals_groupby_pct_rank():
    df = scored(2000, seed=4, ties=True)
    df.loc[[1, 2, 3], "s_nll_q"] = NAN
    df.loc[[5, 8], "s_rmi"] = NAN
    out = add_ranks(df, "s", bins=10)
    expected = df["s_rmi"].groupby(out["s_stratum"]).rank(pct=True)
    pd.testing.assert_series_equal(out["s_rank"], expected, check_names=False)
    assert out["s_rank"].isna().sum() == 5
    per = out.groupby("s_stratum")["s_rank"]
    assert (per.max() <= 1.0).all() and (per.min() > 0).all()  # top ties average below 1


def test_disagreement_hand_table():
    df = pd.DataFrame(
        {
            "s_nll_q": [1.0, 2.0, 3.0, 4.0],
            "s_rmi": [4.0, 3.0, 2.0, 1.0],
            "w_nll_q": [1.0, 2.0, 3.0, 4.0],
            "w_rmi": [1.0, 2.0, NAN, 4.0],
        }
    )
    out = add_disagreement(df, strong="s", weak="w", ranking="global")
    # strong ranks 1, .75, .5, .25; weak ranks 1/3, 2/3, NaN, 1
    np.testing.assert_allclose(out["diff"], [1 - 1 / 3, 0.75 - 2 / 3, NAN, -0.75], equal_nan=True)
    np.testing.assert_allclose(out["sum"], [1 + 1 / 3, 0.75 + 2 / 3, NAN, 1.25], equal_nan=True)
    strat = add_disagreement(df, strong="s", weak="w", bins=2)
    assert strat["s_rank"].tolist() == [1.0, 0.5, 1.0, 0.5]
    assert {"s_stratum", "w_stratum", "diff", "sum"} <= set(strat.columns)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda d: add_strata(d, "x"), KeyError, "x_nll_q"),
        (lambda d: add_strata(d, "s", bins=0), ValueError, "bins"),
        (lambda d: add_ranks(d, "s", ranking="local"), ValueError, "ranking"),
        (lambda d: add_disagreement(d, strong="s", weak="s"), ValueError, "different"),
        (lambda d: add_disagreement(d, strong="s", weak="nope"), KeyError, "nope"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(scored(10))


# ------------------------------------------------------------------------------------ correlations


def test_spearman_exact_and_against_scipy():
    assert spearman([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 40.0, 30.0]) == 0.8
    assert spearman([1.0, 2.0, NAN, 4.0], [3.0, 2.0, 9.0, 1.0]) == -1.0
    assert np.isnan(spearman([1.0], [2.0]))
    assert np.isnan(spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, 200).astype(float), rng.integers(0, 5, 200).astype(float)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


def test_spearman_by_stratum_hand_table():
    df = pd.DataFrame(
        {
            "a": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 5.0],
            "b": [1.0, 2.0, 3.0, 3.0, 2.0, 1.0, 0.0],
            "k": pd.array([0, 0, 0, 1, 1, 1, pd.NA], dtype="Int64"),
        }
    )
    out = spearman_by_stratum(df, "a", "b", stratum="k")
    assert out["stratum"].tolist() == [pd.NA, 0, 1]
    assert out["n"].tolist() == [7, 3, 3]
    assert out["spearman"].tolist()[1:] == [1.0, -1.0]
    assert out["spearman"].iloc[0] == pytest.approx(spearman(df["a"], df["b"]))


def test_strong_weak_spearman_and_rmi_ifd():
    df = scored(400, seed=5)
    df["w_rmi"] = df["s_rmi"] * 2 + 1  # monotone: rho = 1 everywhere
    out = strong_weak_spearman(df, strong="s", weak="w", bins=4)
    assert out["n"].tolist() == [400, 100, 100, 100, 100]
    assert out["spearman"].tolist() == [1.0] * 5
    df["s_ifd"] = -df["s_rmi"]
    assert rmi_ifd_spearman(df, "s") == -1.0


def test_stratum_summary():
    df = scored(100, seed=6)
    out = stratum_summary(df, "s", bins=4)
    assert out["stratum"].tolist() == [0, 1, 2, 3]
    assert out["n"].tolist() == [25, 25, 25, 25]
    assert (out["nll_q_max"].to_numpy()[:-1] <= out["nll_q_min"].to_numpy()[1:]).all()
    s = add_strata(df, "s", bins=4)
    assert out["rmi_mean"].iloc[2] == pytest.approx(s.loc[s["s_stratum"] == 2, "s_rmi"].mean())

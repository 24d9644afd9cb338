"""Rank correlations between scores: Spearman's rho, overall and within PPL(Q) strata.

The paper compares how two models (strong, weak) rank the same rows, and how RMI relates to
Cherry LLM's IFD; both are Spearman correlations over the rows where both scores are present.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qaq.columns import score_column
from qaq.select.strata import DEFAULT_BINS, _check_model, add_strata


def spearman(x: pd.Series | np.ndarray, y: pd.Series | np.ndarray) -> float:
    """Spearman's rank correlation over the pairs where both values are present.

        rho = pearson(rank(x), rank(y))      (average ranks for ties)

    >>> spearman([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 40.0, 30.0])
    0.8

    Returns:
        rho in [-1, 1]; NaN with fewer than 2 complete pairs or a constant side.
    """
    a = pd.Series(np.asarray(x, dtype=np.float64))
    b = pd.Series(np.asarray(y, dtype=np.float64))
    if len(a) != len(b):
        raise ValueError(f"x and y differ in length ({len(a)} vs {len(b)})")
    both = a.notna() & b.notna()
    return _spearman(a[both].to_numpy(), b[both].to_numpy())


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2:
        return float("nan")
    ra = _ranks(a) - (len(a) + 1) / 2.0
    rb = _ranks(b) - (len(b) + 1) / 2.0
    den = np.sqrt(np.dot(ra, ra) * np.dot(rb, rb))
    if den == 0.0:
        return float("nan")
    return float(np.round(np.dot(ra, rb) / den, 15))


def _ranks(a: np.ndarray) -> np.ndarray:
    """1-based average ranks of ``a`` (no NaN), as ``pd.Series(a).rank()`` gives them.

    Without repeated values a rank is a position in the sorted order, which one argsort gives
    (a third of pandas' time on the app's 300,000-row tables); with repeats, pandas averages them.
    """
    order = np.argsort(a)
    ordered = a[order]
    if (ordered[1:] == ordered[:-1]).any():
        return pd.Series(a).rank().to_numpy()
    ranks = np.empty(len(a), dtype=np.float64)
    ranks[order] = np.arange(1, len(a) + 1, dtype=np.float64)
    return ranks


def spearman_by_stratum(df: pd.DataFrame, x: str, y: str, *, stratum: str) -> pd.DataFrame:
    """Spearman of two columns, overall and within each stratum.

    Args:
        df: the table.
        x: first column.
        y: second column.
        stratum: the stratum column (e.g. ``NAME_stratum``); rows with ``<NA>`` count only in
            the overall line.

    Returns:
        A frame with columns ``stratum`` (Int64; ``<NA>`` on the first, overall, line), ``n``
        (complete pairs) and ``spearman``; strata in ascending order.
    """
    for c in (x, y, stratum):
        if c not in df.columns:
            raise KeyError(f"no column {c!r} in this table")
    a = df[x].to_numpy(dtype=np.float64, na_value=np.nan)
    b = df[y].to_numpy(dtype=np.float64, na_value=np.nan)
    both = ~np.isnan(a) & ~np.isnan(b)
    s = df[stratum].astype("Int64")
    rows: list[tuple[object, int, float]] = [(pd.NA, int(both.sum()), _spearman(a[both], b[both]))]
    codes = s.to_numpy(dtype=np.float64, na_value=np.nan)
    for k in np.unique(codes[~np.isnan(codes)]):
        m = both & (codes == k)
        rows.append((int(k), int(m.sum()), _spearman(a[m], b[m])))
    return pd.DataFrame(
        {
            "stratum": pd.array([r[0] for r in rows], dtype="Int64"),
            "n": np.array([r[1] for r in rows], dtype=np.int64),
            "spearman": np.array([r[2] for r in rows], dtype=np.float64),
        }
    )


def strong_weak_spearman(df: pd.DataFrame, *, strong: str, weak: str, bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """Spearman of the strong and weak models' RMI, overall and per stratum of the strong model.

    Strata are the K quantile bins of the strong model's PPL(Q)
    (:func:`qaq.select.strata.add_strata`). Within a stratum, rho of the raw RMI equals rho of
    the stratified ranks (ranks are monotone).

    Returns:
        See :func:`spearman_by_stratum`.
    """
    _check_model(df, strong, ("nll_q", "rmi"))
    _check_model(df, weak, ("rmi",))
    strata = add_strata(df, strong, bins=bins)[score_column(strong, "stratum")]  # checks bins
    t = pd.DataFrame(
        {
            "strong": df[score_column(strong, "rmi")].to_numpy(dtype=np.float64, na_value=np.nan),
            "weak": df[score_column(weak, "rmi")].to_numpy(dtype=np.float64, na_value=np.nan),
            "stratum": strata.array,  # by position: df's index may be anything
        }
    )
    return spearman_by_stratum(t, "strong", "weak", stratum="stratum")


def rmi_ifd_spearman(df: pd.DataFrame, model: str) -> float:
    """Spearman of one model's RMI and IFD (the paper reports 0.252 on WarriorCoder)."""
    _check_model(df, model, ("rmi", "ifd"))
    return spearman(df[score_column(model, "rmi")], df[score_column(model, "ifd")])

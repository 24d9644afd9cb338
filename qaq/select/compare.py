"""Compare selections and scores: overlaps, retention curves, Diff/Sum quadrants.

Pure functions over ids and columns; nothing here reads files or mutates its inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

Keep = Literal["greater", "less"]
KEEPS: tuple[Keep, ...] = get_args(Keep)  # what retention_curve's keep= takes


def overlap(a_ids: Iterable[Any], b_ids: Iterable[Any]) -> dict[str, Any]:
    """How much two selections share, as sets of ids (duplicates count once).

        jaccard = |A & B| / |A | B|          (0.0 when both are empty)
        share_of_a = |A & B| / |A|,  share_of_b = |A & B| / |B|     (0.0 when empty)

    >>> o = overlap(["a", "b", "c"], ["b", "c", "d", "e"])
    >>> o["n_both"], o["n_union"], o["jaccard"], o["intersection"]
    (2, 5, 0.4, ['b', 'c'])

    Returns:
        ``n_a``, ``n_b``, ``n_both``, ``n_only_a``, ``n_only_b``, ``n_union`` (ints),
        ``jaccard``, ``share_of_a``, ``share_of_b`` (floats) and ``intersection`` (the shared
        ids, sorted).
    """
    a, b = set(a_ids), set(b_ids)
    both = a & b
    union = len(a | b)
    return {
        "n_a": len(a),
        "n_b": len(b),
        "n_both": len(both),
        "n_only_a": len(a - b),
        "n_only_b": len(b - a),
        "n_union": union,
        "jaccard": len(both) / union if union else 0.0,
        "share_of_a": len(both) / len(a) if a else 0.0,
        "share_of_b": len(both) / len(b) if b else 0.0,
        "intersection": sorted(both, key=lambda x: (str(type(x)), x)),
    }


def retention_curve(
    values: pd.Series | np.ndarray | Iterable[float],
    thresholds: Iterable[float] | None = None,
    *,
    keep: Keep = "greater",
) -> pd.DataFrame:
    """Fraction of rows a threshold keeps, for any score.

        kept(t) = #{v : v > t}  (keep="greater")   or   #{v : v < t}  (keep="less")
        fraction(t) = kept(t) / #{v : v is not NaN}

    Strict comparisons, as in the threshold recipes of :mod:`qaq.select.recipes`; NaN is never kept.
    Cherry's IFD rule keeps IFD <= 1: read it as ``1 - fraction`` of ``keep="greater"`` at 1.

    >>> retention_curve([0.1, 0.2, 0.3, float("nan")], [0.0, 0.2]).to_dict("list")
    {'threshold': [0.0, 0.2], 'kept': [3, 1], 'fraction': [1.0, 0.3333333333333333]}

    Args:
        values: the scores.
        thresholds: where to evaluate; default 101 evenly spaced points from the smallest to the
            largest value.
        keep: ``"greater"`` or ``"less"``.

    Returns:
        Columns ``threshold`` (float64), ``kept`` (int64), ``fraction`` (float64; NaN when no
        value is present), in the order of ``thresholds``.
    """
    if keep not in ("greater", "less"):
        raise ValueError(f"keep must be 'greater' or 'less', got {keep!r}")
    v = np.asarray(pd.Series(values, dtype="float64").to_numpy(na_value=np.nan), dtype=np.float64)
    v = np.sort(v[~np.isnan(v)])
    if thresholds is None:
        t = np.linspace(v[0], v[-1], 101) if len(v) else np.zeros(0)
    else:
        t = np.asarray(list(thresholds), dtype=np.float64)
    if keep == "greater":
        kept = len(v) - np.searchsorted(v, t, side="right")
    else:
        kept = np.searchsorted(v, t, side="left")
    frac = kept / len(v) if len(v) else np.full(len(t), np.nan)
    return pd.DataFrame({"threshold": t, "kept": kept.astype(np.int64), "fraction": np.asarray(frac, dtype=np.float64)})


def quadrant_counts(df: pd.DataFrame, *, diff_threshold: float = 0.0, sum_threshold: float = 1.0) -> pd.DataFrame:
    """Cross-count the Diff and Sum halves of a strong/weak table.

    High means strictly above the threshold, Low strictly below (the threshold recipes'
    rules), so a row exactly on a threshold is in neither half. The cells count rows in both a
    Diff half and a Sum half; the ``total`` margins count each half on its own (rows with that
    value present), so they equal what ``diff_high``/``diff_low``/``sum_high``/``sum_low`` with
    the same threshold keep.

    >>> t = pd.DataFrame({"diff": [0.5, 0.4, -0.2, 0.0], "sum": [1.5, 0.5, 0.5, 1.2]})
    >>> quadrant_counts(t).to_dict("index")["Diff-High"]
    {'Sum-High': 1, 'Sum-Low': 1, 'total': 2}

    Args:
        df: a table with ``diff`` and ``sum`` (see :func:`qaq.select.disagreement.add_disagreement`).
        diff_threshold: the Diff split (default 0: strong and weak rank a row alike).
        sum_threshold: the Sum split (default 1: the middle of [0, 2]).

    Returns:
        A 3 x 3 int64 frame: index ``Diff-High``, ``Diff-Low``, ``total``; columns
        ``Sum-High``, ``Sum-Low``, ``total``; the corner is the count of rows with both values.
    """
    for c in ("diff", "sum"):
        if c not in df.columns:
            raise KeyError(f"no column {c!r}: run qaq.select.disagreement.add_disagreement first")
    d = df["diff"].to_numpy(dtype=np.float64, na_value=np.nan)
    s = df["sum"].to_numpy(dtype=np.float64, na_value=np.nan)
    dh, dl = d > diff_threshold, d < diff_threshold
    sh, sl = s > sum_threshold, s < sum_threshold
    cells = [
        [int(np.sum(dh & sh)), int(np.sum(dh & sl)), int(dh.sum())],
        [int(np.sum(dl & sh)), int(np.sum(dl & sl)), int(dl.sum())],
        [int(sh.sum()), int(sl.sum()), int(np.sum(~np.isnan(d) & ~np.isnan(s)))],
    ]
    return pd.DataFrame(
        np.array(cells, dtype=np.int64),
        index=pd.Index(["Diff-High", "Diff-Low", "total"]),
        columns=pd.Index(["Sum-High", "Sum-Low", "total"]),
    )

"""Stratify by query perplexity and rank RMI within the strata.

RMI has a lower ceiling for easy queries (low PPL(Q)), so QAQ ranks RMI *within* quantile bins
of ``log PPL(Q)`` instead of over the whole table (METHOD.md section 2). This module adds, for a
model NAME (columns per :mod:`qaq.columns`):

- ``NAME_stratum`` (Int64): the PPL(Q) stratum, 0 (easiest) .. K-1: by default one of K quantile
  bins of ``NAME_nll_q``, or the interval between explicit ``boundaries`` (see
  :func:`stratum_codes`, the one rule both go through);
- ``NAME_rank`` (float64): the normalized RMI rank, stratified (within the bin) or global.

A strong/weak pair's ``diff`` and ``sum`` of these ranks are :mod:`qaq.select.disagreement`'s,
the per-stratum statistics of one model :mod:`qaq.select.stratum_stats`'s.

Every function takes a frame and returns a new one; the input is never mutated. Rows with a
missing score (skipped rows, NaN) get a missing stratum / rank and never count in a denominator.
How two scores rank together (Spearman, overall and per stratum) is :mod:`qaq.select.correlations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
import pandas as pd

from qaq.columns import score_column

Ranking = Literal["stratified", "global"]
RANKINGS: tuple[Ranking, ...] = get_args(Ranking)
DEFAULT_BINS = 10  # K, the PPL(Q) quantile strata, wherever none is given (library, CLI recipes, app)


# --------------------------------------------------------------------------------------------
# validation (public doors only)


def _check_model(df: pd.DataFrame, model: str, fields: tuple[str, ...]) -> None:
    missing = [score_column(model, f) for f in fields if score_column(model, f) not in df.columns]
    if missing:
        raise KeyError(f"model {model!r} has no column(s) {', '.join(missing)} in this table")


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")


def _check_boundaries(boundaries: Sequence[float]) -> np.ndarray:
    """``boundaries`` as a float64 array: at least one finite cut point, strictly increasing."""
    if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, (Sequence, np.ndarray)):
        raise ValueError(f"boundaries must be a sequence of numbers, got {boundaries!r}")
    if any(isinstance(b, (bool, np.bool_)) or not isinstance(b, (int, float, np.number)) for b in boundaries):
        raise ValueError(f"boundaries must be numbers, got {list(boundaries)!r}")
    cuts = np.asarray(boundaries, dtype=np.float64).reshape(-1)
    if len(cuts) == 0:
        raise ValueError("boundaries must hold at least one cut point")
    if not np.isfinite(cuts).all():
        raise ValueError(f"boundaries must be finite numbers (the ends are -inf and +inf), got {cuts.tolist()!r}")
    if not (cuts[1:] > cuts[:-1]).all():
        raise ValueError(f"boundaries must be strictly increasing, got {cuts.tolist()!r}")
    return cuts


def _strata_spec(bins: int | None, boundaries: Sequence[float] | None) -> tuple[int, np.ndarray | None]:
    """``(K, cut points or None)`` from either ``bins`` or ``boundaries`` (neither: K = DEFAULT_BINS)."""
    if boundaries is not None:
        if bins is not None:
            raise ValueError("give bins or boundaries, not both")
        cuts = _check_boundaries(boundaries)
        return len(cuts) + 1, cuts
    k = DEFAULT_BINS if bins is None else bins
    _check_bins(k)
    return int(k), None


def _check_ranking(ranking: str) -> None:
    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}, got {ranking!r}")


# --------------------------------------------------------------------------------------------
# array kernels (trusted inputs)


def _copy(df: pd.DataFrame) -> pd.DataFrame:
    """A new frame sharing the input's column data.

    pandas >= 3 is copy-on-write, so adding or overwriting columns of a shallow copy never
    touches the input; a deep copy would duplicate every text column of a large table for
    nothing.
    """
    return df.copy(deep=False)


def row_order(df: pd.DataFrame) -> np.ndarray:
    """The deterministic tie-break order of a table: source row, then position in the frame.

    Returns an int64 array ``o`` with ``o[i]`` = the place of row ``i`` in that order. The
    ``row`` column (0-based record index in the source file) is used when present and complete,
    so a table keeps its tie-breaks after being filtered or shuffled; otherwise frame order.
    """
    n = len(df)
    pos = np.arange(n, dtype=np.int64)
    if "row" in df.columns:
        row = df["row"]
        if not row.isna().any():
            keys = row.to_numpy(dtype=np.int64)
            if n and not np.all(keys[1:] > keys[:-1]):
                order = np.lexsort((pos, keys))
                out = np.empty(n, dtype=np.int64)
                out[order] = pos
                return out
    return pos


def _strata_codes(values: np.ndarray, order: np.ndarray, bins: int) -> np.ndarray:
    """Quantile bin of each value, -1 where NaN. See :func:`add_strata` for the rule.

    Same result as sorting by ``(value, order)`` and taking ``floor(p * K / m)`` at place ``p``,
    in O(n) instead of a full sort: bin ``j`` starts at place ``b_j = ceil(j * m / K)``; with
    ``e_j`` the value found at place ``b_j``, a value equal to no ``e_j`` is in bin
    ``#{j : e_j < value}``. Only rows equal to an edge value (one per edge unless there are
    ties) need their exact place.
    """
    n = len(values)
    codes = np.full(n, -1, dtype=np.int64)
    valid = np.flatnonzero(~np.isnan(values))
    m = len(valid)
    if m == 0:
        return codes
    vv = values[valid]
    starts = -((-np.arange(1, bins, dtype=np.int64) * m) // bins)  # ceil(j*m/K), j = 1..K-1
    starts = starts[starts < m]  # bins that would start past the end stay empty
    if len(starts) == 0:
        codes[valid] = 0
        return codes
    edges = np.partition(vv, np.unique(starts))[starts]  # e_j, non-decreasing
    at = np.searchsorted(edges, vv, side="left")  # #{j : e_j < value}
    vcodes = at.astype(np.int64)
    on_edge = np.flatnonzero(edges[np.minimum(at, len(edges) - 1)] == vv)
    # Rows equal to an edge value: exact place = #{values < it} + rank by order among its ties.
    tied = on_edge[np.lexsort((order[valid[on_edge]], vv[on_edge]))]
    tied_vals = vv[tied]
    first = np.r_[0, np.flatnonzero(tied_vals[1:] != tied_vals[:-1]) + 1]
    sizes = np.diff(np.r_[first, len(tied)])
    below = np.array([np.count_nonzero(vv < u) for u in tied_vals[first]], dtype=np.int64)
    place = np.repeat(below - first, sizes) + np.arange(len(tied), dtype=np.int64)
    vcodes[tied] = (place * bins) // m
    codes[valid] = vcodes
    return codes


def _boundary_codes(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Stratum ``#{j : cuts[j] <= value}`` of each value, -1 where NaN (see :func:`stratum_codes`)."""
    codes = np.searchsorted(cuts, values, side="right").astype(np.int64)
    codes[np.isnan(values)] = -1
    return codes


def _codes(values: np.ndarray, order: np.ndarray, bins: int, cuts: np.ndarray | None) -> np.ndarray:
    return _strata_codes(values, order, bins) if cuts is None else _boundary_codes(values, cuts)


def _stratified_pct_rank(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``groupby(codes).rank(pct=True)`` (average ties) as float64; NaN where code < 0 or NaN.

    Sorts each stratum on its own (a loop over the K strata, not over rows): faster than a
    pandas groupby rank and bit-identical to it: a tie run at sorted places ``first..last``
    gets ``(first + last) / 2 + 1``, divided by the stratum's count of values.
    """
    out = np.full(len(values), np.nan)
    rows = np.flatnonzero((codes >= 0) & ~np.isnan(values))
    if len(rows) == 0:
        return out
    c = codes[rows]
    small = np.int16 if c.max() < np.iinfo(np.int16).max else np.int64
    rows = rows[np.argsort(c.astype(small), kind="stable")]  # a radix sort for int16 keys
    c = codes[rows]
    bounds = np.r_[0, np.flatnonzero(c[1:] != c[:-1]) + 1, len(rows)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        grp = rows[lo:hi]
        srt = grp[np.argsort(values[grp])]
        sv = values[srt]
        run_start = np.r_[0, np.flatnonzero(sv[1:] != sv[:-1]) + 1]
        run_end = np.r_[run_start[1:], len(sv)] - 1
        avg = (run_start + run_end) / 2.0 + 1.0
        out[srt] = np.repeat(avg, run_end - run_start + 1) / len(sv)
    return out


def _codes_to_series(codes: np.ndarray, index: pd.Index) -> pd.Series:
    arr = pd.arrays.IntegerArray(codes.copy(), codes < 0)
    return pd.Series(arr, index=index, dtype="Int64")


def _pct_rank(values: pd.Series, codes: np.ndarray | None) -> pd.Series:
    """``rank(pct=True)`` (average ties), over all rows or within each stratum code."""
    if codes is None:
        # Exactly the authors' recipe: Series.rank(pct=True), method="average".
        return values.rank(pct=True)
    ranks = _stratified_pct_rank(values.to_numpy(dtype=np.float64, na_value=np.nan), codes)
    return pd.Series(ranks, index=values.index)


# --------------------------------------------------------------------------------------------
# public API


def stratum_codes(
    values: np.ndarray | Sequence[float],
    order: np.ndarray | None = None,
    *,
    bins: int | None = None,
    boundaries: Sequence[float] | None = None,
) -> np.ndarray:
    """The PPL(Q) stratum of each value, 0 .. K-1 (int64, -1 where NaN): the one stratum rule.

    The values are log PPL(Q) (``NAME_nll_q``, mean NLL of the query in nats per token), the
    quantity strata are cut on everywhere in qaq. Give either:

    - ``bins`` (K, default :data:`DEFAULT_BINS`): quantile strata. The values are ordered by
      ``(value, order)`` and the one at 0-based place ``p`` of ``m`` goes to stratum
      ``floor(p * K / m)``, so strata hold ``floor(m/K)`` or ``ceil(m/K)`` values; values tied
      on a stratum edge are split by ``order`` (the earlier row goes to the lower stratum).
    - ``boundaries`` ``b_1 < ... < b_{K-1}`` (finite, strictly increasing): explicit cut points,
      K = ``len(boundaries) + 1``. Stratum ``i`` holds ``b_i <= value < b_{i+1}`` (with
      ``b_0 = -inf``, ``b_K = +inf``): closed below, like a quantile stratum, which starts at
      its smallest value. A value on a cut point goes to the stratum above it, and so do all
      values tied with it (fixed cut points need no tie-break). Strata no value falls into stay
      empty.

    Without ties on the edges, the quantile strata's lowest values (strata 1 .. K-1) given as
    ``boundaries`` reproduce the quantile strata exactly.

    >>> v = np.array([0.4, 0.1, np.nan, 0.3, 0.2])
    >>> stratum_codes(v, bins=2).tolist()
    [1, 0, -1, 1, 0]
    >>> stratum_codes(v, boundaries=[0.3]).tolist()
    [1, 0, -1, 1, 0]
    >>> stratum_codes(v, boundaries=[0.2, 0.25, 1.0]).tolist()
    [2, 0, -1, 2, 1]

    Args:
        values: log PPL(Q) per row (NaN: no stratum).
        order: the tie-break place of each row (:func:`row_order`); default: array order.
        bins: K quantile strata (>= 1).
        boundaries: explicit cut points instead of ``bins``.

    Raises:
        ValueError: both ``bins`` and ``boundaries``, ``bins`` < 1, or boundaries that are
            empty, not finite or not strictly increasing.
    """
    k, cuts = _strata_spec(bins, boundaries)
    vals = np.asarray(values, dtype=np.float64).reshape(-1)
    if order is None:
        order = np.arange(len(vals), dtype=np.int64)
    elif len(order) != len(vals):
        raise ValueError(f"order has {len(order)} places for {len(vals)} values")
    return _codes(vals, np.asarray(order, dtype=np.int64), k, cuts)


def add_strata(
    df: pd.DataFrame, model: str, *, bins: int | None = None, boundaries: Sequence[float] | None = None
) -> pd.DataFrame:
    """Add ``NAME_stratum``: K quantile bins of ``NAME_nll_q`` (log PPL(Q)), or explicit strata.

    With ``bins`` (K, default :data:`DEFAULT_BINS`), the rows with a value are ordered by
    ``(NAME_nll_q, source row, frame position)``; the row at 0-based place ``p`` of ``m`` goes
    to bin

        stratum = floor(p * K / m)

    so bins hold ``floor(m/K)`` or ``ceil(m/K)`` rows each and are exactly reproducible; rows
    with equal PPL(Q) on a bin edge are split by source row order. With ``boundaries`` (cut
    points in log PPL(Q), strictly increasing), stratum ``i`` holds
    ``b_i <= NAME_nll_q < b_{i+1}`` (:func:`stratum_codes`). Rows with NaN get ``<NA>``.

    >>> t = pd.DataFrame({"m_nll_q": [0.4, 0.1, float("nan"), 0.3, 0.2]})
    >>> add_strata(t, "m", bins=2)["m_stratum"].tolist()
    [1, 0, <NA>, 1, 0]
    >>> add_strata(t, "m", boundaries=[0.15, 0.35])["m_stratum"].tolist()
    [2, 0, <NA>, 1, 1]

    Args:
        df: table with ``NAME_nll_q``.
        model: the model NAME.
        bins: K, the number of quantile bins (>= 1).
        boundaries: explicit cut points instead of ``bins`` (K = ``len(boundaries) + 1``).

    Returns:
        A copy of ``df`` with ``NAME_stratum`` (Int64, 0 = lowest PPL(Q)).
    """
    _check_model(df, model, ("nll_q",))
    k, cuts = _strata_spec(bins, boundaries)
    out = _copy(df)
    values = df[score_column(model, "nll_q")].to_numpy(dtype=np.float64, na_value=np.nan)
    codes = _codes(values, row_order(df), k, cuts)
    out[score_column(model, "stratum")] = _codes_to_series(codes, df.index)
    return out


def add_ranks(
    df: pd.DataFrame,
    model: str,
    *,
    ranking: Ranking = "stratified",
    bins: int | None = None,
    boundaries: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Add ``NAME_rank``: the normalized rank of ``NAME_rmi`` in (0, 1].

    ``r = rank / n`` with average ranks for ties (pandas ``rank(pct=True)``), where ``n`` counts
    the rows with an RMI:

    - ``"global"``: over the whole table, ``df[NAME_rmi].rank(pct=True)``; identical to the QAQ
      authors' README recipe;
    - ``"stratified"``: within each ``NAME_stratum`` (K quantile bins of ``NAME_nll_q``, or the
      strata between ``boundaries``, see :func:`add_strata`), so every non-empty stratum spans
      the same (0, 1] range. ``NAME_stratum`` is (re)computed and added too.

    >>> t = pd.DataFrame({"m_nll_q": [1.0, 2.0, 3.0, 4.0], "m_rmi": [0.9, 0.1, 0.2, 0.3]})
    >>> add_ranks(t, "m", ranking="global")["m_rank"].tolist()
    [1.0, 0.25, 0.5, 0.75]
    >>> add_ranks(t, "m", bins=2)["m_rank"].tolist()
    [1.0, 0.5, 0.5, 1.0]

    Args:
        df: table with ``NAME_nll_q`` and ``NAME_rmi``.
        model: the model NAME.
        ranking: ``"stratified"`` (default) or ``"global"``.
        bins: K for the stratified ranking.
        boundaries: explicit strata for the stratified ranking, instead of ``bins``.

    Returns:
        A copy of ``df`` with ``NAME_rank`` (and ``NAME_stratum`` when stratified). Rows with a
        missing RMI or PPL(Q) (stratified) get NaN.
    """
    _check_ranking(ranking)
    k, cuts = _strata_spec(bins, boundaries)
    _check_model(df, model, ("nll_q", "rmi") if ranking == "stratified" else ("rmi",))
    return _add_ranks(_copy(df), model, ranking, k, cuts, row_order(df))


def _add_ranks(
    out: pd.DataFrame, model: str, ranking: str, bins: int, cuts: np.ndarray | None, order: np.ndarray
) -> pd.DataFrame:
    """Trusted inner step of :func:`add_ranks`: writes into ``out`` (already a copy)."""
    rmi = out[score_column(model, "rmi")].astype("float64")
    codes = None
    if ranking == "stratified":
        nll_q = out[score_column(model, "nll_q")].to_numpy(dtype=np.float64, na_value=np.nan)
        codes = _codes(nll_q, order, bins, cuts)
        out[score_column(model, "stratum")] = _codes_to_series(codes, out.index)
    out[score_column(model, "rank")] = _pct_rank(rmi, codes)
    return out

"""Stratify by query perplexity, rank RMI, and measure strong/weak disagreement.

RMI has a lower ceiling for easy queries (low PPL(Q)), so QAQ ranks RMI *within* quantile bins
of ``log PPL(Q)`` instead of over the whole table (METHOD.md section 2). This module adds, for a
model NAME (columns per :mod:`qaq.columns`):

- ``NAME_stratum`` (Int64): the quantile bin of ``NAME_nll_q``, 0 (easiest) .. K-1;
- ``NAME_rank`` (float64): the normalized RMI rank, stratified (within the bin) or global;
- ``diff`` and ``sum`` (float64) for a strong/weak pair: ``r_strong - r_weak`` and
  ``r_strong + r_weak``.

Every function takes a frame and returns a new one; the input is never mutated. Rows with a
missing score (skipped rows, NaN) get a missing stratum / rank and never count in a denominator.
How two scores rank together (Spearman, overall and per stratum) is :mod:`qaq.select.correlations`.
"""

from __future__ import annotations

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


def add_strata(df: pd.DataFrame, model: str, *, bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """Add ``NAME_stratum``: K quantile bins of ``NAME_nll_q`` (log PPL(Q)).

    The rows with a value are ordered by ``(NAME_nll_q, source row, frame position)``; the row
    at 0-based place ``p`` of ``m`` goes to bin

        stratum = floor(p * K / m)

    so bins hold ``floor(m/K)`` or ``ceil(m/K)`` rows each and are exactly reproducible; rows
    with equal PPL(Q) on a bin edge are split by source row order. Rows with NaN get ``<NA>``.

    >>> t = pd.DataFrame({"m_nll_q": [0.4, 0.1, float("nan"), 0.3, 0.2]})
    >>> add_strata(t, "m", bins=2)["m_stratum"].tolist()
    [1, 0, <NA>, 1, 0]

    Args:
        df: table with ``NAME_nll_q``.
        model: the model NAME.
        bins: K, the number of quantile bins (>= 1).

    Returns:
        A copy of ``df`` with ``NAME_stratum`` (Int64, 0 = lowest PPL(Q)).
    """
    _check_model(df, model, ("nll_q",))
    _check_bins(bins)
    out = _copy(df)
    values = df[score_column(model, "nll_q")].to_numpy(dtype=np.float64, na_value=np.nan)
    codes = _strata_codes(values, row_order(df), int(bins))
    out[score_column(model, "stratum")] = _codes_to_series(codes, df.index)
    return out


def add_ranks(
    df: pd.DataFrame, model: str, *, ranking: Ranking = "stratified", bins: int = DEFAULT_BINS
) -> pd.DataFrame:
    """Add ``NAME_rank``: the normalized rank of ``NAME_rmi`` in (0, 1].

    ``r = rank / n`` with average ranks for ties (pandas ``rank(pct=True)``), where ``n`` counts
    the rows with an RMI:

    - ``"global"``: over the whole table, ``df[NAME_rmi].rank(pct=True)``; identical to the QAQ
      authors' README recipe;
    - ``"stratified"``: within each ``NAME_stratum`` (K quantile bins of ``NAME_nll_q``, see
      :func:`add_strata`), so every stratum spans the same (0, 1] range. ``NAME_stratum`` is
      (re)computed and added too.

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

    Returns:
        A copy of ``df`` with ``NAME_rank`` (and ``NAME_stratum`` when stratified). Rows with a
        missing RMI or PPL(Q) (stratified) get NaN.
    """
    _check_ranking(ranking)
    _check_bins(bins)
    _check_model(df, model, ("nll_q", "rmi") if ranking == "stratified" else ("rmi",))
    return _add_ranks(_copy(df), model, ranking, int(bins), row_order(df))


def _add_ranks(out: pd.DataFrame, model: str, ranking: str, bins: int, order: np.ndarray) -> pd.DataFrame:
    """Trusted inner step of :func:`add_ranks`: writes into ``out`` (already a copy)."""
    rmi = out[score_column(model, "rmi")].astype("float64")
    codes = None
    if ranking == "stratified":
        nll_q = out[score_column(model, "nll_q")].to_numpy(dtype=np.float64, na_value=np.nan)
        codes = _strata_codes(nll_q, order, bins)
        out[score_column(model, "stratum")] = _codes_to_series(codes, out.index)
    out[score_column(model, "rank")] = _pct_rank(rmi, codes)
    return out


def add_disagreement(
    df: pd.DataFrame,
    *,
    strong: str,
    weak: str,
    ranking: Ranking = "stratified",
    bins: int = DEFAULT_BINS,
) -> pd.DataFrame:
    """Add both models' ranks and the disagreement ``diff`` and agreement ``sum``.

        diff = r_strong - r_weak        (in [-1, 1]; high = "valid yet challenging")
        sum  = r_strong + r_weak        (in [0, 2])

    where ``r`` is :func:`add_ranks`'s rank of each model's RMI (a difference of normalized
    ranks, not of scores). With ``ranking="stratified"`` each model is binned by its own PPL(Q).

    >>> t = pd.DataFrame({"s_nll_q": [1.0, 2, 3, 4], "s_rmi": [4.0, 3, 2, 1],
    ...                   "w_nll_q": [1.0, 2, 3, 4], "w_rmi": [1.0, 2, 3, 4]})
    >>> add_disagreement(t, strong="s", weak="w", ranking="global")["diff"].tolist()
    [0.75, 0.25, -0.25, -0.75]

    Args:
        df: table with ``S_nll_q``, ``S_rmi``, ``W_nll_q``, ``W_rmi``.
        strong: the strong model NAME (S).
        weak: the weak model NAME (W).
        ranking: ``"stratified"`` (default) or ``"global"``.
        bins: K for the stratified ranking.

    Returns:
        A copy of ``df`` with ``S_rank``, ``W_rank`` (and their ``_stratum`` when stratified),
        ``diff`` and ``sum``; NaN where either rank is missing.
    """
    _check_ranking(ranking)
    _check_bins(bins)
    fields = ("nll_q", "rmi") if ranking == "stratified" else ("rmi",)
    _check_model(df, strong, fields)
    _check_model(df, weak, fields)
    if strong == weak:
        raise ValueError(f"strong and weak must be different models, got {strong!r} twice")
    return _add_disagreement(_copy(df), strong, weak, ranking, int(bins), row_order(df))


def _add_disagreement(
    out: pd.DataFrame, strong: str, weak: str, ranking: str, bins: int, order: np.ndarray
) -> pd.DataFrame:
    out = _add_ranks(out, strong, ranking, bins, order)
    out = _add_ranks(out, weak, ranking, bins, order)
    r_strong = out[score_column(strong, "rank")]
    r_weak = out[score_column(weak, "rank")]
    out["diff"] = r_strong - r_weak
    out["sum"] = r_strong + r_weak
    return out


# --------------------------------------------------------------------------------------------
# per-stratum statistics


def stratum_summary(df: pd.DataFrame, model: str, *, bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """Per-stratum statistics of one model: size, PPL(Q) range and RMI spread.

    Returns:
        One line per stratum (ascending): ``stratum``, ``n``, ``nll_q_min``, ``nll_q_max``,
        ``rmi_mean``, ``rmi_median``, ``rmi_min``, ``rmi_max``.
    """
    _check_model(df, model, ("nll_q", "rmi"))
    t = add_strata(df, model, bins=bins)
    s = score_column(model, "stratum")
    g = t.dropna(subset=[s]).groupby(s, sort=True)
    nll, rmi = score_column(model, "nll_q"), score_column(model, "rmi")
    out = pd.DataFrame(
        {
            "n": g.size().astype("int64"),
            "nll_q_min": g[nll].min(),
            "nll_q_max": g[nll].max(),
            "rmi_mean": g[rmi].mean(),
            "rmi_median": g[rmi].median(),
            "rmi_min": g[rmi].min(),
            "rmi_max": g[rmi].max(),
        }
    )
    out.index = out.index.astype("Int64")
    return out.rename_axis("stratum").reset_index()

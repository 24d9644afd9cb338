"""Custom PPL(Q) stratum boundaries in the app: typed in the sidebar, dragged on the RMI-vs-PPL(Q)
chart, and what each stratum then holds.

Boundaries are log PPL(Q) cut points (``NAME_nll_q``, nats per token), exactly the recipe key
``"boundaries"`` of :mod:`qaq.select.recipes`: stratum i holds ``b_i <= log PPL(Q) < b_{i+1}``.
None means the default, K quantile strata. No Streamlit here: the sidebar (:mod:`qaq.app.frame`)
and the Distributions page draw what these compute, and everything is tested without a running app.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from qaq.app.table import Workspace, table_of
from qaq.columns import score_column
from qaq.select.selection_report import MIN_STRATUM_ROWS

# K stays at most 50 with custom boundaries too, as the sidebar's K slider: the charts are made to
# stay readable up to there (qaq.plots.strata).
MAX_BOUNDARIES = 49


class BoundaryError(ValueError):
    """Typed boundaries that cannot be used; the message says what to change."""


def parse_boundaries(text: str) -> tuple[float, ...] | None:
    """The cut points typed in the sidebar: numbers separated by commas (or spaces), in any order.

    >>> parse_boundaries("3.5, 2.5 3")
    (2.5, 3.0, 3.5)
    >>> parse_boundaries("  ") is None
    True

    Returns:
        The cut points, ascending and each once; None for an empty text (K quantile strata).

    Raises:
        BoundaryError: a piece that is not a finite number, or more than :data:`MAX_BOUNDARIES`.
    """
    pieces = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    if not pieces:
        return None
    cuts = []
    for p in pieces:
        try:
            v = float(p)
        except ValueError:
            raise BoundaryError(
                f"{p!r} is not a number: give log PPL(Q) values (nats per token) separated by commas, e.g. 2.5, 3, 3.5"
            ) from None
        if not math.isfinite(v):
            raise BoundaryError(f"{p!r} is not a finite number: the lowest and highest strata are open-ended already")
        cuts.append(v)
    unique = tuple(sorted(set(cuts)))
    if len(unique) > MAX_BOUNDARIES:
        raise BoundaryError(f"{len(unique)} boundaries make {len(unique) + 1} strata; at most {MAX_BOUNDARIES + 1}")
    return unique


def format_boundaries(cuts: Sequence[float] | None) -> str:
    """The text the sidebar shows for cut points (each the shortest text that reads back the same).

    >>> format_boundaries((2.5, 3.0, 3.25))
    '2.5, 3, 3.25'
    """
    return ", ".join(repr(float(c)).removesuffix(".0") for c in cuts or ())


def _short_between(lo: float, hi: float, near: float, tolerance: float) -> float:
    """A decimal in ``(lo, hi]`` within ``tolerance`` of ``near``, with the fewest digits (the one
    nearest ``near`` among those); ``hi`` when none is."""
    for digits in range(0, 16):
        scale = 10**digits
        first, last = math.floor(lo * scale) + 1, math.floor(hi * scale)  # the multiples of 1/scale inside
        if first <= last:
            c = min(max(round(near * scale), first), last) / scale
            if lo < c <= hi and abs(c - near) <= tolerance:
                return c
    return hi


# A boundary is drawn where it was dragged: no further from it than this share of the data's range
# (a pixel or two on the chart), even where a shorter number would split the rows the same way.
_NEAR = 1 / 500


def snap(edge: float, values: np.ndarray) -> float | None:
    """A short cut point near ``edge`` that splits ``values`` as it does (``< edge`` below, ``>= edge`` above).

    None when ``edge`` leaves every value on one side (a boundary there would only make an empty
    stratum).

    >>> snap(2.4987, np.array([1.0, 2.3, 2.61, 4.0]))
    2.5
    """
    v = values[np.isfinite(values)]
    below, above = v[v < edge], v[v >= edge]
    if len(below) == 0 or len(above) == 0:
        return None
    lo, hi = float(below.max()), float(above.min())
    return _short_between(lo, hi, edge, _NEAR * float(v.max() - v.min()))


def quantile_cuts(values: np.ndarray, codes: np.ndarray) -> tuple[float, ...]:
    """Cut points that reproduce quantile strata (``codes``, -1 for none): each stratum's lowest
    value, shortened to the fewest digits that still split the rows the same way.

    Rows tied on a quantile edge (split there by source row order) cannot be split by a cut point:
    they go to the stratum above.
    """
    ok = (codes >= 0) & np.isfinite(values)
    lows = pd.Series(values[ok]).groupby(codes[ok]).min().sort_index()
    cuts = [snap(float(low), values[ok]) for low in lows.iloc[1:]]
    return tuple(sorted({c for c in cuts if c is not None}))


def current_cuts(ws: Workspace, model: str) -> tuple[float, ...]:
    """The boundaries in force: the custom ones, else those of the model's K quantile strata."""
    if ws.boundaries is not None:
        return ws.boundaries
    t = table_of(ws)
    values = t[score_column(model, "nll_q")].to_numpy(dtype=np.float64, na_value=np.nan)
    return quantile_cuts(values, t[score_column(model, "stratum")].to_numpy(dtype=np.int64, na_value=-1))


def with_edges(ws: Workspace, model: str, edges: Iterable[float]) -> tuple[float, ...]:
    """The boundaries in force plus dragged ``edges`` (each :func:`snap`-ped to the model's log PPL(Q)).

    Edges beyond the model's lowest or highest value are left out: they would only add an empty
    stratum.

    Raises:
        BoundaryError: the result would have more than :data:`MAX_BOUNDARIES`.
    """
    values = table_of(ws)[score_column(model, "nll_q")].to_numpy(dtype=np.float64, na_value=np.nan)
    added = {c for c in (snap(float(e), values) for e in edges) if c is not None}
    cuts = tuple(sorted(set(current_cuts(ws, model)) | added))
    if len(cuts) > MAX_BOUNDARIES:
        raise BoundaryError(
            f"that makes {len(cuts) + 1} strata (at most {MAX_BOUNDARIES + 1}): reset to K quantile strata, "
            "or set K lower, before dragging"
        )
    return cuts


def stratum_sizes(ws: Workspace, model: str) -> pd.DataFrame:
    """Rows per stratum of the model, every stratum listed (empty ones with 0 rows).

    Returns:
        Columns ``stratum`` (0 .. K-1), ``rows``, ``nll_q_min``, ``nll_q_max`` (NaN when empty).
    """
    t = table_of(ws)
    codes = t[score_column(model, "stratum")].to_numpy(dtype=np.int64, na_value=-1)
    nll = t[score_column(model, "nll_q")].to_numpy(dtype=np.float64, na_value=np.nan)
    ok = codes >= 0
    g = pd.Series(nll[ok]).groupby(codes[ok])
    index = pd.RangeIndex(ws.n_strata)
    return pd.DataFrame(
        {
            "stratum": np.arange(ws.n_strata),
            "rows": g.size().reindex(index, fill_value=0).to_numpy(dtype=np.int64),
            "nll_q_min": g.min().reindex(index).to_numpy(dtype=np.float64),
            "nll_q_max": g.max().reindex(index).to_numpy(dtype=np.float64),
        }
    )


def _listed(strata: Sequence[int], k: int = 8) -> str:
    shown = ", ".join(map(str, strata[:k]))
    return shown + (f" and {len(strata) - k} more" if len(strata) > k else "")


def strata_warnings(ws: Workspace, model: str, sizes: pd.DataFrame, *, small: bool = True) -> list[str]:
    """What to know about the strata before ranking within them, with the numbers and the fix.

    Strata with no row (more quantile bins than rows, or boundaries outside the data), then strata
    with fewer than :data:`qaq.select.selection_report.MIN_STRATUM_ROWS` rows: ranks within a stratum of
    n rows move in steps of 1/n, so a band or a quota there keeps few rows, or none. The same
    minimum as the notes of :func:`qaq.select.selection_report.selection_notes`, so Distributions and
    Select & export never disagree about which strata are too small.

    Args:
        ws: the workspace (its K or boundaries).
        model: the model whose strata ``sizes`` are.
        sizes: :func:`stratum_sizes` of the model.
        small: also warn about small strata (Select & export has the library's note for those).
    """
    notes = []
    how = "these boundaries" if ws.boundaries is not None else f"K = {ws.n_strata} quantile strata"
    fix = "remove or move boundaries" if ws.boundaries is not None else "use a smaller K"
    n_rows = int(sizes["rows"].sum())
    empty = sizes.loc[sizes["rows"] == 0, "stratum"].tolist()
    if empty:
        notes.append(
            f"{len(empty)} of the {ws.n_strata} strata of {model} hold no row (stratum {_listed(empty)}) with "
            f"{how} over {n_rows:,} rows: an RMI band or a quota selects nothing there; {fix}."
        )
    few = sizes[(sizes["rows"] > 0) & (sizes["rows"] < MIN_STRATUM_ROWS)]
    if small and len(few):
        least = int(few["rows"].min())
        notes.append(
            f"{len(few)} of the {ws.n_strata} strata of {model} have fewer than {MIN_STRATUM_ROWS} rows "
            f"(stratum {_listed(few['stratum'].tolist())}; the smallest {least:,}): ranks within a stratum of "
            f"{least} rows move in steps of {1 / least:.0%}, so a band keeps an uneven share there; {fix}."
        )
    return notes

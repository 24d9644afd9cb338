"""RMI across the strata of PPL(Q): the scatter that shows (and, in the app, sets) the stratum
boundaries with each stratum's row count, and RMI's spread per stratum."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from qaq.columns import score_column
from qaq.plots.base import (
    MODEL_COLORS,
    SELECTED_COLOR,
    _check_positive,
    _esc,
    _floats,
    _layout,
    _left_out,
    _message_figure,
    _require,
    _ring,
    _row_text,
    _sample,
    _sample_note,
    _selected_mask,
    _strata_color,
    _title,
)
from qaq.select.selection_report import MIN_STRATUM_ROWS
from qaq.select.strata import DEFAULT_BINS, add_strata

_VIOLIN_POINTS = 2000  # rows sampled per stratum for a violin (its KDE runs in the browser)

# At 1024 px a chart is about 650 px wide: tick labels carrying a PPL(Q) range fit up to a dozen
# strata, row counts above the scatter fit upright up to 16; beyond, ranges are left to the hover
# and the counts are turned on their side.
_RANGES_IN_TICKS = 12
_UPRIGHT_COUNTS = 16

_FEW = "rgb(200,30,30)"  # a stratum below MIN_STRATUM_ROWS rows: its count is drawn in red


@dataclass(frozen=True)
class _Strata:
    """The strata of one model's PPL(Q) as a figure draws them."""

    codes: np.ndarray  # (n,) stratum per row, -1 where none
    k: int  # the number of strata
    lines: list[float]  # where a line separates two strata (log PPL(Q))
    custom: bool  # cut at given boundaries (else K quantile bins)

    def sizes(self) -> np.ndarray:
        """(K,) rows per stratum (0 for an empty one)."""
        return np.bincount(self.codes[self.codes >= 0], minlength=self.k)


def _strata_of(df: pd.DataFrame, model: str, bins: int | None, boundaries: Sequence[float] | None) -> _Strata:
    """:func:`qaq.select.strata.add_strata` of the model (quantile ``bins``, or ``boundaries`` when given)."""
    col = score_column(model, "stratum")
    if boundaries is not None:
        codes = add_strata(df, model, boundaries=boundaries)[col].to_numpy(dtype=np.int64, na_value=-1)
        return _Strata(codes, len(boundaries) + 1, [float(b) for b in boundaries], True)
    k = DEFAULT_BINS if bins is None else bins
    codes = add_strata(df, model, bins=k)[col].to_numpy(dtype=np.int64, na_value=-1)
    return _Strata(
        codes, k, [e for _, e in _quantile_lines(_floats(df, score_column(model, "nll_q")), codes, k)], False
    )


def _quantile_lines(nll_q: np.ndarray, codes: np.ndarray, bins: int) -> list[tuple[int, float]]:
    """``(j, lowest log PPL(Q) in stratum j)`` for each non-empty stratum j = 1..K-1.

    Quantile strata are consecutive runs of the rows sorted by PPL(Q), so stratum j starts at its
    smallest value; a line there separates j-1 from j exactly (rows tied with it on the edge may
    sit in j-1, split by source row order).
    """
    ok = codes >= 0
    mins = pd.Series(nll_q[ok]).groupby(codes[ok]).min()
    return [(int(j), float(mins[j])) for j in range(1, bins) if j in mins.index]


def _count_labels(strata: _Strata, nll_q: np.ndarray) -> tuple[list[dict], int]:
    """One annotation per stratum above the plot: its row count (red below MIN_STRATUM_ROWS), centred
    on its band of log PPL(Q) (clipped to the data's range; a quantile stratum that is empty has none).

    Returns the annotations and the height in pixels they take above the plot. Where neighbouring
    labels would overlap on a chart about 600 px wide (a 1024 px screen), every second one is
    raised by a line.
    """
    sizes = strata.sizes()
    have = strata.codes >= 0
    lo_all, hi_all = float(np.min(nll_q[have])), float(np.max(nll_q[have]))
    if strata.custom:
        edges = [lo_all, *strata.lines, hi_all]
        bands = {k: (edges[k], edges[k + 1]) for k in range(strata.k)}
    else:
        present = [k for k in range(strata.k) if sizes[k] > 0]
        starts = [lo_all, *strata.lines]  # one start per non-empty stratum
        ends = [*strata.lines, hi_all]
        bands = {k: (starts[i], ends[i]) for i, k in enumerate(present)}
    centres = {k: min(max((max(lo, lo_all) + min(hi, hi_all)) / 2, lo_all), hi_all) for k, (lo, hi) in bands.items()}
    upright = strata.k <= _UPRIGHT_COUNTS
    chars = max(len(f"{int(sizes[k]):,}") for k in bands)
    need = ((chars * 7 + 6) if upright else 14) / 600 * max(hi_all - lo_all, 1e-12)  # a label's width, in x units
    gaps = np.diff(sorted(centres.values()))
    tight = bool(len(gaps)) and float(gaps.min()) < need
    line = 16 if upright else chars * 6 + 8
    labels = []
    for i, (k, x) in enumerate(centres.items()):
        n = int(sizes[k])
        labels.append(
            {
                "name": f"stratum {k}",
                "text": f"{n:,}",
                "hovertext": f"stratum {k}: {n:,} rows",
                "x": x,
                "xref": "x",
                "y": 1.0,
                "yref": "paper",
                "yanchor": "bottom",
                "yshift": line if tight and i % 2 else 0,
                "showarrow": False,
                "textangle": 0 if upright else -90,
                "font": {"size": 11 if upright else 9, "color": _FEW if n < MIN_STRATUM_ROWS else "rgb(60,60,60)"},
            }
        )
    return labels, line * (2 if tight else 1)


def rmi_vs_ppl(
    df: pd.DataFrame,
    model: str,
    *,
    bins: int | None = DEFAULT_BINS,
    boundaries: Sequence[float] | None = None,
    selected: pd.Series | np.ndarray | None = None,
    max_points: int = 20000,
    seed: int = 0,
) -> go.Figure:
    """RMI against log PPL(Q), coloured by PPL(Q) stratum, with the boundaries and each stratum's rows.

    Shows why QAQ ranks within strata: RMI's range shrinks for easy (low PPL(Q)) queries, so a
    global RMI sort would drop them. The strata are :func:`qaq.select.strata.add_strata`'s over the
    *whole* table (K quantile bins, or the intervals between ``boundaries``); only the drawing is
    sampled. Neighbouring strata get different hues (:data:`qaq.plots.base.STRATA_COLORS`), and
    each stratum's row count is written above it, in red below
    :data:`qaq.select.selection_report.MIN_STRATUM_ROWS`. The drag mode is a horizontal box selection:
    the app turns the dragged range's edges into boundaries.

    Args:
        df: the qaq table with ``NAME_nll_q`` and ``NAME_rmi`` (``id``, ``query``, ``answer`` and
            ``NAME_rank`` go into the hover when present).
        model: the model NAME.
        bins: K, the number of quantile strata (ignored with ``boundaries``).
        boundaries: explicit log PPL(Q) cut points instead of quantile strata.
        selected: boolean mask aligned with ``df``: those rows get a dark ring (trace ``selected``).
        max_points: at most this many points are drawn (a seeded random sample beyond).
        seed: the sample's seed.

    Returns:
        The figure: a ``go.Scattergl`` of the rows (``rows``; one colour per stratum) and, with
        ``selected``, one of the selected rows among them; a vertical line (a layout shape named
        ``boundary``) per boundary; an annotation named ``stratum k`` per stratum.
    """
    _check_positive("max_points", max_points)
    nll_col, rmi_col = score_column(model, "nll_q"), score_column(model, "rmi")
    _require(df, [nll_col, rmi_col])
    strata = _strata_of(df, model, bins, boundaries)
    sel = _selected_mask(df, selected)
    title = f"RMI vs log PPL(Q): {_esc(model)}"
    nll, rmi = _floats(df, nll_col), _floats(df, rmi_col)
    codes = strata.codes
    rows = np.flatnonzero(np.isfinite(nll) & np.isfinite(rmi) & (codes >= 0))
    if len(rows) == 0:
        return _message_figure(title, f"No {_esc(model)} scores to show.")
    how = f"{strata.k} strata at your boundaries" if strata.custom else f"{strata.k} quantile strata of PPL(Q)"
    notes = [
        f"{how}; above each: its rows (red: fewer than {MIN_STRATUM_ROWS})",
        _sample_note(len(rows), max_points, seed),
        _left_out(len(df) - len(rows), "without scores"),
    ]
    pick = _sample(len(rows), max_points, seed)
    shown = rows if pick is None else rows[pick]
    fig = go.Figure(_ppl_points(df, model, shown, nll, rmi, codes, name="rows (colour: stratum)"))
    if sel is not None:
        fig.add_trace(_ring(nll, rmi, shown[sel[shown]], f"selected by the recipe ({int(sel.sum()):,} rows)"))
    labels, above = _count_labels(strata, nll)
    fig.update_layout(
        shapes=_boundary_lines(strata),
        annotations=labels,
        dragmode="select",
        selectdirection="h",
        showlegend=sel is not None,
        legend={"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"},
    )
    fig.update_xaxes(title_text="log PPL(Q) (nats/token)")
    fig.update_yaxes(title_text="RMI (nats)")
    fig = _layout(fig, _title(title, notes), height=540)
    fig.update_layout(margin={"t": fig.layout.margin.t + above + 6, "b": 90})
    return fig


def _boundary_lines(strata: _Strata) -> list[dict]:
    """A vertical line (a layout shape named ``boundary``) at each boundary: solid for custom ones."""
    style = {"width": 1.5, "dash": "solid"} if strata.custom else {"width": 1, "dash": "dot"}
    return [
        {
            "type": "line",
            "name": "boundary",
            "x0": e,
            "x1": e,
            "y0": 0,
            "y1": 1,
            "xref": "x",
            "yref": "paper",
            "line": {"color": "rgba(60,60,60,0.7)", **style},
        }
        for e in strata.lines
    ]


def _ppl_points(
    df: pd.DataFrame, model: str, shown: np.ndarray, nll: np.ndarray, rmi: np.ndarray, codes: np.ndarray, *, name: str
) -> go.Scattergl:
    """The drawn rows of :func:`rmi_vs_ppl`, each in its stratum's colour, with id, Q and A in the hover."""
    rank_col = score_column(model, "rank")
    columns, numbers = [codes[shown]], "log PPL(Q) %{x:.3f} · RMI %{y:.3f}"
    if rank_col in df.columns:
        columns.append(_floats(df, rank_col)[shown])
        numbers += " · rank %{customdata[1]:.3f}"
    text = _row_text(df, shown)
    k = int(codes.max()) + 1
    # A stepped colour scale over the stratum numbers: numbers go to the browser as a typed array,
    # where one colour string per point would take plotly's validation a second at 20,000 points.
    steps = [[edge, _strata_color(j)] for j in range(k) for edge in (j / k, (j + 1) / k)]
    return go.Scattergl(
        x=nll[shown],
        y=rmi[shown],
        mode="markers",
        name=name,
        marker={
            "color": codes[shown],
            "colorscale": steps,
            "cmin": -0.5,
            "cmax": k - 0.5,
            "showscale": False,
            "size": 5,
            "opacity": 0.7,
        },
        customdata=np.column_stack(columns),
        text=text,
        hovertemplate=(
            f"stratum %{{customdata[0]}}<br>{numbers}" + ("<br>%{text}" if text is not None else "") + "<extra></extra>"
        ),
    )


def _stratum_trace(
    kind: str,
    values: list[np.ndarray],
    labels: list[str],
    *,
    name: str,
    color: str,
    side: str,
    rng: np.random.Generator,
) -> go.Box | go.Violin:
    """The strata's RMI values as one trace: boxes (precomputed quartiles, 1.5 IQR whiskers) or
    violins (at most ``_VIOLIN_POINTS`` values per stratum, sampled with ``rng``)."""
    if kind == "box":
        stats = [np.percentile(v, [25, 50, 75]) for v in values]
        lower, upper = [], []
        for v, (q1, _, q3) in zip(values, stats):
            iqr = q3 - q1
            lower.append(float(v[v >= q1 - 1.5 * iqr].min()))
            upper.append(float(v[v <= q3 + 1.5 * iqr].max()))
        return go.Box(
            x=labels,
            q1=[s[0] for s in stats],
            median=[s[1] for s in stats],
            q3=[s[2] for s in stats],
            lowerfence=lower,
            upperfence=upper,
            mean=[float(v.mean()) for v in values],
            name=name,
            marker_color=color,
        )
    sampled = [
        v if len(v) <= _VIOLIN_POINTS else v[rng.choice(len(v), size=_VIOLIN_POINTS, replace=False)] for v in values
    ]
    return go.Violin(
        x=np.concatenate([np.full(len(v), lab) for v, lab in zip(sampled, labels)]),
        y=np.concatenate(sampled),
        name=name,
        line_color=color,
        side=side,
        box_visible=True,
        meanline_visible=True,
        points=False,
        scalegroup=name,
    )


def rmi_by_stratum(
    df: pd.DataFrame,
    model: str,
    *,
    bins: int | None = DEFAULT_BINS,
    boundaries: Sequence[float] | None = None,
    kind: str = "box",
    selected: pd.Series | np.ndarray | None = None,
) -> go.Figure:
    """RMI spread per PPL(Q) stratum, as box plots or violins, with the selected rows beside them.

    Boxes are sent as precomputed quartiles (whiskers at the furthest value within 1.5 IQR,
    outliers not drawn), so their size does not grow with the table. Violins need the values
    (the density is estimated in the browser): each draws a seeded sample of at most 2,000 rows.

    Args:
        df: the qaq table with ``NAME_nll_q`` and ``NAME_rmi``.
        model: the model NAME.
        bins: K, the number of quantile strata (ignored with ``boundaries``).
        boundaries: explicit log PPL(Q) cut points instead of quantile strata; their empty strata
            keep their place on the axis.
        kind: ``"box"`` or ``"violin"``.
        selected: boolean mask aligned with ``df``: adds a trace of the selected rows per stratum
            (boxes side by side; violins split, all rows left, selected right).

    Returns:
        The figure: a trace ``all rows`` (one box or violin per non-empty stratum) and, with
        ``selected``, a trace ``selected``; x "PPL(Q) stratum", y "RMI (nats)".
    """
    if kind not in ("box", "violin"):
        raise ValueError(f"kind must be 'box' or 'violin', got {kind!r}")
    nll_col, rmi_col = score_column(model, "nll_q"), score_column(model, "rmi")
    _require(df, [nll_col, rmi_col])
    strata = _strata_of(df, model, bins, boundaries)
    sel = _selected_mask(df, selected)
    title = f"RMI per PPL(Q) stratum: {_esc(model)}"
    nll, rmi, codes = _floats(df, nll_col), _floats(df, rmi_col), strata.codes
    ok = np.isfinite(rmi) & np.isfinite(nll) & (codes >= 0)
    if not ok.any():
        return _message_figure(title, f"No {_esc(model)} scores to show.")
    notes = [
        f"each violin from at most {_VIOLIN_POINTS:,} sampled rows" if kind == "violin" else "whiskers at 1.5 IQR",
        _left_out(len(df) - int(ok.sum()), "without scores"),
    ]
    present = [int(k) for k in np.unique(codes[ok])]
    axis = list(range(strata.k)) if strata.custom else present  # custom: empty strata keep their place
    ticks = {k: _tick(k, nll[ok & (codes == k)], strata.k) for k in axis}

    fig = go.Figure()
    rng = np.random.default_rng(0)
    subsets = [("all rows", ok, MODEL_COLORS[0], "negative" if sel is not None else "both")]
    if sel is not None:
        subsets.append(
            (f"selected by the recipe ({int((ok & sel).sum()):,} rows)", ok & sel, SELECTED_COLOR, "positive")
        )
        notes.insert(0, f"{int(sel.sum()):,} of {len(df):,} rows selected")
    for name, mask, color, side in subsets:
        have = [k for k in present if (mask & (codes == k)).any()]
        if have:
            values = [rmi[mask & (codes == k)] for k in have]
            fig.add_trace(
                _stratum_trace(kind, values, [str(k) for k in have], name=name, color=color, side=side, rng=rng)
            )
    _stratum_axis(fig, axis, ticks, strata.k)
    fig.update_layout(
        showlegend=sel is not None,
        boxmode="group",
        violinmode="overlay",
        legend={"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top"},
    )
    fig = _layout(fig, _title(title, notes), height=480)
    fig.update_layout(margin={"b": 100 if sel is not None else 60})
    return fig


def _stratum_axis(fig: go.Figure, axis: list[int], ticks: dict[int, str], n_strata: int) -> None:
    """The per-stratum plot's axes: one category per stratum on x (in stratum order), RMI on y."""
    fig.update_xaxes(
        title_text="PPL(Q) stratum" + (" (range of log PPL(Q), nats/token)" if n_strata <= _RANGES_IN_TICKS else ""),
        type="category",
        categoryorder="array",
        categoryarray=[str(k) for k in axis],
        tickvals=[str(k) for k in axis],
        ticktext=[ticks[k] for k in axis],
    )
    fig.update_yaxes(title_text="RMI (nats)")


def _tick(k: int, nll_q: np.ndarray, n_strata: int) -> str:
    """Stratum ``k``'s tick label: its number, and its PPL(Q) range when few strata leave room."""
    if len(nll_q) == 0:
        return f"{k}<br>(empty)" if n_strata <= _RANGES_IN_TICKS else str(k)
    if n_strata > _RANGES_IN_TICKS:
        return str(k)
    return f"{k}<br>{nll_q.min():.2f}–{nll_q.max():.2f}"

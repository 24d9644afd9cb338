"""Scatter plots of two scores: IFD against RMI, one model's rank against another's."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from qaq.columns import score_column
from qaq.plots.base import (
    DIVERGING,
    MODEL_COLORS,
    PICKED_COLOR,
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
    _title,
)
from qaq.select.compare import quadrant_counts
from qaq.select.correlations import spearman


def _clip(v: float) -> float:
    """Keep an annotation inside the unit square (with a margin for its text)."""
    return min(max(v, 0.04), 0.96)


def ifd_vs_rmi(
    df: pd.DataFrame,
    model: str,
    *,
    selected: pd.Series | np.ndarray | None = None,
    max_points: int = 20000,
    seed: int = 0,
) -> go.Figure:
    """IFD against RMI for one model, with Spearman's rho (over every row) in the title.

    A table without IFD (the QAQ authors' files carry RMI only) gives an explanatory figure.

    Args:
        df: the qaq table with ``NAME_rmi`` (and ``NAME_ifd``; ``id``, ``query``, ``answer`` go
            into the hover when present).
        model: the model NAME.
        selected: boolean mask aligned with ``df``: those rows get a dark ring (trace ``selected``).
        max_points: at most this many points are drawn (a seeded random sample beyond).
        seed: the sample's seed.

    Returns:
        The figure: a ``go.Scattergl`` of the rows (and one of the selected rows among them), a
        dotted line at IFD = 1 (Cherry drops rows above).
    """
    _check_positive("max_points", max_points)
    rmi_col, ifd_col = score_column(model, "rmi"), score_column(model, "ifd")
    _require(df, [rmi_col])
    title = f"IFD vs RMI: {_esc(model)}"
    if ifd_col not in df.columns:
        return _message_figure(title, f"This table has no IFD scores for {_esc(model)} (column {ifd_col!r}).")
    rmi, ifd = _floats(df, rmi_col), _floats(df, ifd_col)
    sel = _selected_mask(df, selected)
    rows = np.flatnonzero(np.isfinite(rmi) & np.isfinite(ifd))
    if len(rows) == 0:
        return _message_figure(title, f"No rows with both RMI and IFD for {_esc(model)}.")
    rho = spearman(rmi[rows], ifd[rows])
    rho_text = "n/a" if math.isnan(rho) else f"{rho:.3f}"
    pick = _sample(len(rows), max_points, seed)
    shown = rows if pick is None else rows[pick]
    text = _row_text(df, shown)
    fig = go.Figure(
        go.Scattergl(
            x=rmi[shown],
            y=ifd[shown],
            mode="markers",
            name="rows",
            marker={"color": MODEL_COLORS[0], "size": 4, "opacity": 0.5},
            text=text,
            hovertemplate="RMI %{x:.3f} · IFD %{y:.3f}" + ("<br>%{text}" if text else "") + "<extra></extra>",
        )
    )
    if sel is not None:
        fig.add_trace(_ring(rmi, ifd, shown[sel[shown]], f"selected by the recipe ({int(sel.sum()):,} rows)"))
    fig.add_hline(
        y=1.0,
        line={"color": "rgba(60,60,60,0.6)", "width": 1, "dash": "dot"},
        annotation_text="IFD = 1",
        annotation_position="top left",
    )
    fig.update_xaxes(title_text="RMI (nats)")
    fig.update_yaxes(title_text="IFD (log PPL(A|Q) / log PPL(A))")
    fig.update_layout(dragmode="select", showlegend=sel is not None, legend=_LEGEND)
    notes = [
        f"Spearman over {len(rows):,} rows",
        _sample_note(len(rows), max_points, seed),
        _left_out(len(df) - len(rows), "without RMI or IFD"),
    ]
    fig = _layout(fig, _title(f"{title}: Spearman ρ = {rho_text}", notes), height=480)
    if sel is not None:
        fig.update_layout(margin={"b": 90})
    return fig


_LEGEND = {"orientation": "h", "x": 0, "y": -0.16, "yanchor": "top"}  # below the plot: the width stays the plot's


def rank_scatter(
    df: pd.DataFrame,
    *,
    strong: str,
    weak: str,
    diff_threshold: float = 0.1,
    sum_threshold: float = 1.0,
    selected: pd.Series | np.ndarray | None = None,
    picked: Sequence[str] = (),
    max_points: int = 20000,
    seed: int = 0,
) -> go.Figure:
    """Strong vs weak RMI rank, with the Diff and Sum threshold lines and quadrant counts.

    ``diff = r_strong - r_weak`` and ``sum = r_strong + r_weak`` (:mod:`qaq.select.strata`), so with
    x = weak rank and y = strong rank the line ``diff = t`` is ``y = x + t`` and ``sum = s`` is
    ``y = s - x``. The four regions they cut are annotated with the counts of
    :func:`qaq.select.compare.quadrant_counts` over *all* rows (not just the drawn sample); the title
    carries the Diff-High / Diff-Low / Sum-High / Sum-Low totals. Opens in box-select drag mode.

    Args:
        df: a table with ``id``, ``STRONG_rank`` and ``WEAK_rank``
            (:func:`qaq.select.disagreement.add_disagreement`); ``query`` and ``answer`` go into the
            hover when present.
        strong: the strong model NAME.
        weak: the weak model NAME.
        diff_threshold: t.
        sum_threshold: s.
        selected: boolean mask aligned with ``df``: the recipe's rows, drawn as dark rings.
        picked: ids of rows picked on a chart (the app's chart filter), drawn as orange squares
            (every one, even outside the sample).
        max_points: at most this many points are drawn (a seeded random sample beyond).
        seed: the sample's seed.

    Returns:
        The figure: a ``go.Scattergl`` of the rows (``rows``) whose ``customdata`` is each point's
        row ``id`` (for point selection), colored by Diff; then, when given, ``selected`` and
        ``picked`` traces (also carrying ids); the two lines are layout shapes.
    """
    _check_positive("max_points", max_points)
    for name, t in (("diff_threshold", diff_threshold), ("sum_threshold", sum_threshold)):
        if not math.isfinite(t):
            raise ValueError(f"{name} must be a finite number, got {t!r}")
    rs_col, rw_col = score_column(strong, "rank"), score_column(weak, "rank")
    _require(df, ["id", rs_col, rw_col], " (run qaq.select.disagreement.add_disagreement first)")
    sel = _selected_mask(df, selected)
    title = f"Strong vs weak RMI rank: {_esc(strong)} vs {_esc(weak)}"
    rs, rw = _floats(df, rs_col), _floats(df, rw_col)
    ranked = np.isfinite(rs) & np.isfinite(rw)
    rows = np.flatnonzero(ranked)
    if len(rows) == 0:
        return _message_figure(title, "No rows ranked by both models.")
    d, s = rs[rows] - rw[rows], rs[rows] + rw[rows]
    q = quadrant_counts(pd.DataFrame({"diff": d, "sum": s}), diff_threshold=diff_threshold, sum_threshold=sum_threshold)

    pick = _sample(len(rows), max_points, seed)
    shown = rows if pick is None else rows[pick]
    fig = go.Figure(_rank_points(df, shown, rw, rs, name="rows", strong=strong, weak=weak))
    for on, name, marker in _rank_overlays(df, shown, ranked, sel, picked):
        fig.add_trace(_rank_points(df, on, rw, rs, name=name, strong=strong, weak=weak, marker=marker))
    t, sm = float(diff_threshold), float(sum_threshold)
    _annotate_quadrants(fig, q, t, sm)
    notes = [
        (
            f"Diff-High {int(q.loc['Diff-High', 'total']):,} · Diff-Low {int(q.loc['Diff-Low', 'total']):,} · "
            f"Sum-High {int(q.loc['total', 'Sum-High']):,} · Sum-Low {int(q.loc['total', 'Sum-Low']):,} "
            f"(Diff {t:g}, Sum {sm:g}; all {len(rows):,} rows)"
        ),
        _sample_note(len(rows), max_points, seed),
        _left_out(len(df) - len(rows), "without both ranks"),
    ]
    fig.update_layout(shapes=_threshold_lines(t, sm), showlegend=len(fig.data) > 1, legend=_LEGEND, dragmode="select")
    _square_axes(fig, strong=strong, weak=weak)
    fig = _layout(fig, _title(title, notes), height=620)
    if len(fig.data) > 1:
        fig.update_layout(margin={"b": 90})
    return fig


def _rank_overlays(
    df: pd.DataFrame, shown: np.ndarray, ranked: np.ndarray, sel: np.ndarray | None, picked: Sequence[str]
) -> list[tuple[np.ndarray, str, dict[str, Any]]]:
    """(rows, trace name, marker) of the rank scatter's overlays: the recipe's drawn rows as dark
    rings, and every row of the chart filter (drawn or not: the user chose them) as squares."""
    overlays = []
    if sel is not None:
        ring = {"symbol": "circle-open", "size": 8, "color": SELECTED_COLOR, "line": {"width": 1.5}}
        overlays.append((shown[sel[shown]], f"selected by the recipe ({int(sel.sum()):,} rows)", ring))
    if len(picked):
        on = np.flatnonzero(ranked & df["id"].astype(str).isin(set(map(str, picked))).to_numpy())
        square = {"symbol": "square-open", "size": 10, "color": PICKED_COLOR, "line": {"width": 2}}
        overlays.append((on, f"chart filter ({len(on):,} rows)", square))
    return overlays


def _square_axes(fig: go.Figure, *, strong: str, weak: str) -> None:
    """The rank scatter's unit square: x the weak rank, y the strong rank."""
    fig.update_xaxes(title_text=f"{_esc(weak)} RMI rank (weak model)", range=[0, 1.02], constrain="domain")
    # Square, so the diagonal lines keep their meaning; constrain="domain" on both axes shrinks
    # whichever side is too long instead of widening a range past [0, 1].
    fig.update_yaxes(
        title_text=f"{_esc(strong)} RMI rank (strong model)",
        range=[0, 1.02],
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )


def _rank_points(
    df: pd.DataFrame,
    rows: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    name: str,
    strong: str,
    weak: str,
    marker: dict | None = None,
) -> go.Scattergl:
    """Rows (positions) of :func:`rank_scatter`: x = weak rank, y = strong rank; colored by Diff
    unless a ``marker`` is given. ``customdata`` keeps the raw ids (the app looks rows up by
    them); the hover shows escaped copies, with the start of Q and A."""
    diff = y[rows] - x[rows]
    text = None
    if marker is None:  # the rows' own trace; the rings and squares over them leave the hover to it
        numbers = [f"Diff {d:+.3f} · Sum {t:.3f}" for d, t in zip(diff, y[rows] + x[rows])]
        about = _row_text(df, rows)
        text = numbers if about is None else [f"{n}<br>{a}" for n, a in zip(numbers, about)]
    return go.Scattergl(
        x=x[rows],
        y=y[rows],
        mode="markers",
        name=name,
        customdata=df["id"].to_numpy()[rows].astype(str),
        marker=marker
        or {
            "color": diff,
            "colorscale": DIVERGING,
            "cmid": 0.0,
            "size": 4,
            "opacity": 0.6,
            "colorbar": {"title": {"text": "Diff"}, "thickness": 12},
        },
        text=text,
        hovertemplate=f"{_esc(strong)} rank %{{y:.3f}} · {_esc(weak)} rank %{{x:.3f}}<br>%{{text}}<extra></extra>",
        hoverinfo="skip" if marker is not None else None,
    )


def _threshold_lines(t: float, sm: float) -> list[dict]:
    """Layout shapes for ``diff = t`` (``y = x + t``) and ``sum = sm`` (``y = sm - x``), each clipped
    to the unit square and left out where it misses it."""
    line = {"color": "rgba(40,40,40,0.8)", "width": 1.5}
    shapes = []
    x0, x1 = max(0.0, -t), min(1.0, 1.0 - t)  # y = x + t inside the unit square
    if x0 < x1:
        shapes.append(
            {
                "type": "line",
                "name": f"diff = {t:g}",
                "x0": x0,
                "y0": x0 + t,
                "x1": x1,
                "y1": x1 + t,
                "line": {**line, "dash": "dash"},
            }
        )
    x0, x1 = max(0.0, sm - 1.0), min(1.0, sm)  # y = s - x inside the unit square
    if x0 < x1:
        shapes.append(
            {
                "type": "line",
                "name": f"sum = {sm:g}",
                "x0": x0,
                "y0": sm - x0,
                "x1": x1,
                "y1": sm - x1,
                "line": {**line, "dash": "dot"},
            }
        )
    return shapes


def _annotate_quadrants(fig: go.Figure, q: pd.DataFrame, t: float, sm: float) -> None:
    """Label the four cells the two lines cut with their :func:`quadrant_counts` count ``q``."""
    # The lines cross at (cx, cy); each cell's label sits halfway from there to the square's edge.
    cx, cy = (sm - t) / 2, (sm + t) / 2
    cells = {
        ("Diff-High", "Sum-High"): (cx, (cy + 1) / 2),
        ("Diff-High", "Sum-Low"): (cx / 2, cy),
        ("Diff-Low", "Sum-High"): ((cx + 1) / 2, cy),
        ("Diff-Low", "Sum-Low"): (cx, cy / 2),
    }
    for (dk, sk), (ax, ay) in cells.items():
        fig.add_annotation(
            x=_clip(ax),
            y=_clip(ay),
            text=f"{dk} ∩ {sk}<br><b>{int(q.loc[dk, sk]):,}</b>",
            showarrow=False,
            bgcolor="rgba(255,255,255,0.75)",
            font={"size": 11},
        )

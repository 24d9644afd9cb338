"""Summaries of a selection (retention curve, rows per stratum) and of a detector (ROC, PR)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from qaq.plots.base import MODEL_COLORS, SELECTED_COLOR, _esc, _layout, _message_figure, _require, _thin, _title

_CURVE_POINTS = 5000  # ROC / PR curves longer than this are thinned

_UNIT_RANGE = (-0.02, 1.02)  # ROC / PR axes: [0, 1] with room for a line drawn on 0 or 1


def retention_figure(
    curve: pd.DataFrame, *, score_name: str, cut: Sequence[float] = (), kept: int | None = None
) -> go.Figure:
    """Fraction of rows a threshold keeps, from :func:`qaq.select.compare.retention_curve`, with the
    current selection's cut.

    Args:
        curve: columns ``threshold``, ``kept``, ``fraction``.
        score_name: the score's name for the titles (e.g. ``"diff"``, ``"strong RMI"``).
        cut: where the current selection cuts the score: one value (a threshold, or the last
            value a budget keeps) or two (a band, kept between them: both edges are drawn and
            the band shaded); empty for none.
        kept: rows the current selection keeps, for the cut's label.

    Returns:
        The figure: the curve (trace ``curve``); with a cut, a trace ``cut`` marking the curve
        at each edge, a dashed line per edge (layout shapes named ``cut``) and, for a band, a
        shaded rectangle (named ``band``).
    """
    _require(curve, ["threshold", "kept", "fraction"])
    if len(cut) > 2:
        raise ValueError(f"cut is at most two values (a band), got {len(cut)}")
    name = _esc(score_name)
    title = f"Retention by {name} threshold"
    ok = curve["fraction"].notna() & curve["threshold"].notna()
    if not ok.any():
        return _message_figure(title, f"No {name} values to threshold.")
    c = curve[ok]
    x, y = c["threshold"].to_numpy(dtype=np.float64), c["fraction"].to_numpy(dtype=np.float64)
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            customdata=c["kept"].to_numpy(dtype=np.int64),
            mode="lines",
            name="curve",
            hovertemplate="threshold %{x:.3f}<br>%{customdata:,} rows kept (%{y:.1%})<extra></extra>",
        )
    )
    notes = []
    if cut:
        edges = [float(v) for v in cut]
        line = {"color": SELECTED_COLOR, "width": 1.5, "dash": "dash"}
        shapes = [
            {"type": "line", "name": "cut", "x0": e, "x1": e, "y0": 0, "y1": 1, "yref": "paper", "line": line}
            for e in edges
        ]
        if len(edges) == 2:
            shapes.insert(
                0,
                {"type": "rect", "name": "band", "x0": edges[0], "x1": edges[1], "y0": 0, "y1": 1, "yref": "paper",
                 "fillcolor": "rgba(30,30,30,0.10)", "line": {"width": 0}, "layer": "below"},
            )  # fmt: skip
        where = f"{edges[0]:.3g}" if len(edges) == 1 else f"between {edges[0]:.3g} and {edges[1]:.3g}"
        label = f"current selection: cut {where}" + (f", {kept:,} rows kept" if kept is not None else "")
        fig.add_trace(
            go.Scatter(
                x=edges,
                y=np.interp(edges, x, y) if np.all(np.diff(x) >= 0) else [None] * len(edges),
                mode="markers",
                name="cut",
                marker={"color": SELECTED_COLOR, "size": 9, "symbol": "diamond"},
                hovertemplate=f"{label}<extra></extra>",
            )
        )
        fig.update_layout(shapes=shapes)
        notes.append(label)
    fig.update_xaxes(title_text=f"{name} threshold")
    fig.update_yaxes(title_text="fraction of rows kept", range=[0, 1.02], tickformat=".0%")
    fig.update_layout(showlegend=False)
    return _layout(fig, _title(title, notes), height=380)


def stratum_counts_figure(counts: pd.DataFrame) -> go.Figure:
    """Selected and not-selected rows per PPL(Q) stratum, stacked (bar height = stratum size).

    Args:
        counts: :func:`qaq.select.selection_report.stratum_counts` (``stratum``, ``rows``, ``selected``);
            a ``<NA>`` stratum (rows without PPL(Q)) is drawn as ``none``.

    Returns:
        The figure: two ``go.Bar`` traces, ``selected`` and ``not selected``.
    """
    _require(counts, ["stratum", "rows", "selected"])
    title = "Selected rows per PPL(Q) stratum"
    if len(counts) == 0:
        return _message_figure(title, "No strata for this selection (a random selection has none).")
    labels = ["none" if pd.isna(k) else str(int(k)) for k in counts["stratum"]]
    rows = counts["rows"].to_numpy(dtype=np.int64)
    sel = counts["selected"].to_numpy(dtype=np.int64)
    share = np.divide(sel, rows, out=np.zeros(len(rows)), where=rows > 0)
    hover = "stratum %{x}<br>%{y:,} rows %{fullData.name} (%{customdata:.1%})<extra></extra>"
    fig = go.Figure(
        [
            go.Bar(
                x=labels, y=sel, name="selected", customdata=share, hovertemplate=hover, marker_color=MODEL_COLORS[0]
            ),
            go.Bar(
                x=labels,
                y=rows - sel,
                name="not selected",
                customdata=1 - share,
                hovertemplate=hover,
                marker_color="rgba(160,160,160,0.5)",
            ),
        ]
    )
    fig.update_layout(barmode="stack", legend_title_text="rows")
    fig.update_xaxes(title_text="PPL(Q) stratum (0 = lowest PPL(Q))", type="category")
    fig.update_yaxes(title_text="rows")
    note = f"{int(sel.sum()):,} of {int(rows.sum()):,} rows selected"
    return _layout(fig, _title(title, [note]), height=380)


def _curves_figure(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]],
    *,
    title: str,
    metric: str,
    x_title: str,
    y_title: str,
    diagonal: bool,
) -> go.Figure:
    if not curves:
        return _message_figure(title, "No curves to show: pick a labelled set to evaluate against.")
    fig = go.Figure()
    for i, (name, value) in enumerate(curves.items()):
        if len(value) != 3:
            raise ValueError(f"curve {name!r} must be (x, y, {metric}), got {len(value)} items")
        x, y, area = np.asarray(value[0], dtype=np.float64), np.asarray(value[1], dtype=np.float64), value[2]
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(f"curve {name!r}: x and y must be 1-D of equal length, got {x.shape} and {y.shape}")
        idx = _thin(len(x), _CURVE_POINTS)
        area_text = "n/a" if area is None or not math.isfinite(area) else f"{area:.3f}"
        fig.add_trace(
            go.Scatter(
                x=x[idx],
                y=y[idx],
                mode="lines",
                name=f"{_esc(name)} ({metric} {area_text})",
                line={"color": MODEL_COLORS[i % len(MODEL_COLORS)]},
                hovertemplate=f"{x_title} %{{x:.3f}}<br>{y_title} %{{y:.3f}}<extra>%{{fullData.name}}</extra>",
            )
        )
    if diagonal:
        fig.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                name="chance (AUC 0.500)",
                line={"color": "gray", "dash": "dash", "width": 1},
                hoverinfo="skip",
            )
        )
    # Both rates live in [0, 1]. No locked aspect ratio: in a wide or narrow column plotly.js
    # would widen one range (to about -0.4..1.4) to keep the square.
    fig.update_xaxes(title_text=x_title, range=list(_UNIT_RANGE))
    fig.update_yaxes(title_text=y_title, range=list(_UNIT_RANGE))
    fig.update_layout(legend_title_text="score")
    return _layout(fig, _title(title), height=480)


def roc_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]]) -> go.Figure:
    """ROC curves, AUC in the legend, with the chance diagonal.

    Args:
        curves: name -> ``(fpr, tpr, auc)`` (e.g. from ``sklearn.metrics.roc_curve``).

    Returns:
        The figure: one line per curve plus a dashed ``chance`` line.
    """
    return _curves_figure(
        curves, title="ROC", metric="AUC", x_title="false positive rate", y_title="true positive rate", diagonal=True
    )


def pr_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]]) -> go.Figure:
    """Precision-recall curves, average precision in the legend.

    Args:
        curves: name -> ``(recall, precision, average_precision)``.

    Returns:
        The figure: one line per curve.
    """
    return _curves_figure(
        curves, title="Precision-recall", metric="AP", x_title="recall", y_title="precision", diagonal=False
    )

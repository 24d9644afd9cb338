"""RMI distributions: histograms and cumulative distributions, with the current selection."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from qaq.columns import score_column
from qaq.plots.base import (
    MODEL_COLORS,
    _check_positive,
    _esc,
    _floats,
    _layout,
    _left_out,
    _message_figure,
    _require,
    _selected_mask,
    _thin,
    _title,
)

_ECDF_POINTS = 2000  # an ECDF drawn with 2,000 steps is off by at most 1/2,000 in y


def _models(models: Sequence[str] | str) -> list[str]:
    # A lone string is one model, not a sequence of one-letter models.
    return [models] if isinstance(models, str) else list(models)


def rmi_histogram(
    df: pd.DataFrame,
    models: Sequence[str],
    *,
    selected: pd.Series | None = None,
    nbins: int = 60,
) -> go.Figure:
    """Overlaid histograms of each model's RMI (``NAME_rmi``), with the selection on top.

    All models share one set of ``nbins`` equal-width bins, so the bars line up. The counts are
    computed here (numpy) and drawn as bars: a ``go.Histogram`` would ship every row.

    Args:
        df: the qaq table.
        models: model NAMEs to draw, one trace each.
        selected: boolean Series aligned with ``df`` (e.g. ``select(...)["selected"]``); when
            given, each model gets a second, solid trace of the selected rows.
        nbins: number of bins.

    Returns:
        The figure: traces ``NAME`` (and ``NAME: selected``), x "RMI (nats)", y "rows".
    """
    models = _models(models)
    _check_positive("nbins", nbins)
    _require(df, [score_column(m, "rmi") for m in models])
    sel = _selected_mask(df, selected)
    title = "RMI distribution"
    values = {m: _floats(df, score_column(m, "rmi")) for m in models}
    finite = {m: np.isfinite(v) for m, v in values.items()}
    pooled = [v[finite[m]] for m, v in values.items() if finite[m].any()]
    if not models or not pooled:
        return _message_figure(title, "No RMI scores to show: score the data first.")

    lo = min(float(p.min()) for p in pooled)
    hi = max(float(p.max()) for p in pooled)
    if hi <= lo:  # one distinct value: give the single bar some width
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, nbins + 1)
    centers, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    hover = "RMI %{x:.3f}<br>%{y:,} rows<extra>%{fullData.name}</extra>"

    fig = go.Figure()
    notes: list[str] = []
    for i, m in enumerate(models):
        color = MODEL_COLORS[i % len(MODEL_COLORS)]
        counts, _ = np.histogram(values[m][finite[m]], bins=edges)
        fig.add_trace(
            go.Bar(
                x=centers,
                y=counts,
                width=width,
                name=_esc(m),
                marker_color=color,
                opacity=0.35 if sel is not None else 0.6,
                hovertemplate=hover,
            )
        )
        if sel is not None:
            counts, _ = np.histogram(values[m][finite[m] & sel], bins=edges)
            fig.add_trace(
                go.Bar(
                    x=centers,
                    y=counts,
                    width=width,
                    name=f"{_esc(m)}: selected",
                    marker_color=color,
                    opacity=0.9,
                    hovertemplate=hover,
                )
            )
        notes.append(_left_out(len(df) - int(finite[m].sum()), f"without {_esc(m)} RMI"))
    if sel is not None:
        notes.insert(0, f"{int(sel.sum()):,} of {len(df):,} rows selected")
    fig.update_layout(barmode="overlay", bargap=0, legend_title_text="model")
    fig.update_xaxes(title_text="RMI (nats)")
    fig.update_yaxes(title_text="rows")
    return _layout(fig, _title(title, notes), height=420)


def rmi_ecdf(df: pd.DataFrame, models: Sequence[str], *, selected: pd.Series | None = None) -> go.Figure:
    """Empirical CDF of each model's RMI (and of the selected rows, dashed).

    Each curve is thinned to at most 2,000 steps (an error below 1/2,000 in y).

    Args:
        df: the qaq table.
        models: model NAMEs, one line each.
        selected: boolean Series aligned with ``df``; adds a dashed ``NAME: selected`` line
            whose y is the fraction of the *selected* rows.

    Returns:
        The figure: x "RMI (nats)", y "fraction of rows".
    """
    models = _models(models)
    _require(df, [score_column(m, "rmi") for m in models])
    sel = _selected_mask(df, selected)
    title = "RMI cumulative distribution"
    fig = go.Figure()
    notes: list[str] = []
    for i, m in enumerate(models):
        v = _floats(df, score_column(m, "rmi"))
        ok = np.isfinite(v)
        notes.append(_left_out(len(df) - int(ok.sum()), f"without {_esc(m)} RMI"))
        subsets = [(ok, _esc(m), "solid")]
        if sel is not None:
            subsets.append((ok & sel, f"{_esc(m)}: selected", "dash"))
        for mask, name, dash in subsets:
            srt = np.sort(v[mask])
            if len(srt) == 0:
                continue
            idx = _thin(len(srt), _ECDF_POINTS)
            fig.add_trace(
                go.Scatter(
                    x=srt[idx],
                    y=(idx + 1) / len(srt),
                    mode="lines",
                    line_shape="hv",
                    name=name,
                    line={"color": MODEL_COLORS[i % len(MODEL_COLORS)], "dash": dash},
                    hovertemplate="RMI %{x:.3f}<br>%{y:.1%} of rows at or below<extra>%{fullData.name}</extra>",
                )
            )
    if not fig.data:
        return _message_figure(title, "No RMI scores to show: score the data first.")
    fig.update_xaxes(title_text="RMI (nats)")
    fig.update_yaxes(title_text="fraction of rows", range=[0, 1.02], tickformat=".0%")
    fig.update_layout(legend_title_text="model")
    return _layout(fig, _title(title, notes), height=420)

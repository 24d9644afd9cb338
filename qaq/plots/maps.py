"""The map of the rows: their 2-D layout (:mod:`qaq.maps.layout`), coloured by a column, with density shading."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from qaq.plots.base import (
    DIVERGING,
    PICKED_COLOR,
    SELECTED_COLOR,
    STRATA_COLORS,
    _check_positive,
    _esc,
    _layout,
    _left_out,
    _message_figure,
    _row_text,
    _sample,
    _sample_note,
    _selected_mask,
    _title,
)

# A column with at most this many distinct values (and not float) is drawn as categories, one
# colour each; the rest of its values, past the most frequent ones, as "other".
MAX_CATEGORIES = 10
DENSITY_BINS = 120  # the density shading's grid, per axis
_DIVERGING_COLUMNS = ("diff",)  # signed columns centred on 0
_PICKED_MOST = 5000  # squares drawn for the chart filter at most (they carry every id they show)
# Values that mean "nothing wrong / nothing set" are drawn in a light grey, so that the few rows of
# a defect type or a label stand out from the many clean ones.
_QUIET_VALUES = ("none", "(none)", "clean", "ok", "other")
_QUIET = "rgb(190,190,190)"


def embedding_map(
    df: pd.DataFrame,
    xy: np.ndarray,
    *,
    color: str | None = None,
    selected: pd.Series | np.ndarray | None = None,
    picked: Sequence[str] = (),
    model: str = "",
    max_points: int = 30000,
    seed: int = 0,
) -> go.Figure:
    """The rows laid out on the map, coloured by ``color``, over a shading of where they lie densest.

    Every row with coordinates counts in the shading (a 2-D histogram, :data:`DENSITY_BINS` bins
    a side, log-scaled); at most ``max_points`` rows are drawn as points (a seeded sample), each
    with its id (``customdata``) and the start of its Q and A in the hover. A float column is a
    colour scale (a diverging one, centred on 0, for ``diff``); any other column with at most
    :data:`MAX_CATEGORIES` values is one trace (and colour) per value, larger ones keep their
    :data:`MAX_CATEGORIES` most frequent values and put the rest under "other".

    Args:
        df: the table, row for row with ``xy``.
        xy: (rows, 2) coordinates; NaN rows (no embedding) are left out and counted in the title.
        color: the column to colour by (None: one colour).
        selected: boolean mask aligned with ``df``: the recipe's rows, drawn as dark rings.
        picked: ids of rows picked on a chart (the chart filter), drawn as orange squares.
        model: the model whose embeddings made the map (named in the title).
        max_points: at most this many points are drawn.
        seed: the sample's seed.

    Returns:
        The figure, in lasso drag mode: a ``go.Heatmap`` (the shading) then ``go.Scattergl`` traces.
    """
    _check_positive("max_points", max_points)
    xy = np.asarray(xy, dtype=np.float64)
    if xy.shape != (len(df), 2):
        raise ValueError(f"xy has shape {xy.shape} for {len(df)} rows (want (rows, 2))")
    if color is not None and color not in df.columns:
        raise KeyError(f"no column {color!r} in this table to colour the map by")
    title = "Map of the rows" + (f" ({_esc(model)} embeddings)" if model else "")
    placed = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if len(placed) == 0:
        return _message_figure(title, "No row has an embedding.")
    fig = go.Figure(_density(xy[placed]))
    pick = _sample(len(placed), max_points, seed)
    shown = placed if pick is None else placed[pick]
    for trace in _point_traces(df, xy, shown, color):
        fig.add_trace(trace)
    sel = _selected_mask(df, selected)
    if sel is not None:
        ring = shown[sel[shown]]
        fig.add_trace(
            _marks(xy, ring, df, f"selected by the recipe ({int(sel.sum()):,} rows)", "circle-open", SELECTED_COLOR, 8)
        )
    if len(picked):
        on = placed[df["id"].astype(str).iloc[placed].isin(set(map(str, picked))).to_numpy()][:_PICKED_MOST]
        fig.add_trace(_marks(xy, on, df, f"chart filter ({len(on):,} rows)", "square-open", PICKED_COLOR, 10))
    notes = [
        f"{len(placed):,} rows; shading: where they lie densest",
        _sample_note(len(placed), max_points, seed),
        _left_out(len(df) - len(placed), "without an embedding"),
    ]
    fig.update_layout(dragmode="lasso", legend={"orientation": "h", "y": -0.08}, showlegend=True)
    fig.update_xaxes(showticklabels=False, title_text="", zeroline=False, showgrid=False)
    fig.update_yaxes(showticklabels=False, title_text="", zeroline=False, showgrid=False, scaleanchor="x")
    return _layout(fig, _title(title, notes), height=680)


def _density(xy: np.ndarray) -> go.Heatmap:
    """Counts of rows per cell of a grid over the map, log-scaled, in greys (empty cells blank)."""
    counts, xe, ye = np.histogram2d(xy[:, 0], xy[:, 1], bins=DENSITY_BINS)
    z = np.where(counts > 0, np.log1p(counts), np.nan).T  # (y, x) for the heatmap
    return go.Heatmap(
        x=(xe[:-1] + xe[1:]) / 2,
        y=(ye[:-1] + ye[1:]) / 2,
        z=z,
        colorscale=[(0.0, "rgb(235,235,235)"), (1.0, "rgb(90,90,90)")],
        showscale=False,
        hoverinfo="skip",
        name="density",
        opacity=0.7,
    )


def _hover(df: pd.DataFrame, rows: np.ndarray, color: str | None) -> list[str] | None:
    about = _row_text(df, rows)
    if color is None or about is None:
        return about
    values = df[color].iloc[rows].tolist()
    return [f"{_esc(color)}: {_value(v)}<br>{a}" for v, a in zip(values, about)]


def _value(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if np.isnan(v) else f"{v:.3f}"
    return _esc(v)


def _is_scale(column: pd.Series) -> bool:
    """A float column is drawn as a colour scale; anything else as categories."""
    return pd.api.types.is_float_dtype(column.dtype)


def _point_traces(df: pd.DataFrame, xy: np.ndarray, rows: np.ndarray, color: str | None) -> list[go.Scattergl]:
    if color is None:
        return [_points(df, xy, rows, None, name="rows", marker={"color": STRATA_COLORS[0]})]
    column = df[color]
    if _is_scale(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)[rows]
        marker: dict[str, Any] = {"color": values, "colorbar": {"title": {"text": _esc(color)}, "thickness": 12}}
        if color in _DIVERGING_COLUMNS:
            marker.update(colorscale=DIVERGING, cmid=0.0)
        else:
            marker.update(colorscale="Viridis")
        return [_points(df, xy, rows, color, name=_esc(color), marker=marker)]
    values = column.iloc[rows].astype("string").fillna("(none)").to_numpy(dtype=object)
    order = pd.Series(values).value_counts(sort=True)
    kept = list(order.index[:MAX_CATEGORIES])
    named = np.where(np.isin(values, kept), values, "other")
    traces = []
    loud = 0
    for name in [*sorted(kept, key=str), *(["other"] if len(order) > len(kept) else [])]:
        on = rows[named == name]
        if name in _QUIET_VALUES:
            shade = _QUIET
        else:
            shade, loud = STRATA_COLORS[loud % len(STRATA_COLORS)], loud + 1
        traces.append(_points(df, xy, on, color, name=f"{_esc(name)} ({len(on):,})", marker={"color": shade}))
    return traces


def _points(
    df: pd.DataFrame,
    xy: np.ndarray,
    rows: np.ndarray,
    color: str | None,
    *,
    name: str,
    marker: dict[str, Any],
    hover: bool = True,
) -> go.Scattergl:
    """Rows drawn as points carrying their ids; ``hover=False`` for marks over rows (rings,
    squares), which leave the hover to the row below."""
    return go.Scattergl(
        x=xy[rows, 0],
        y=xy[rows, 1],
        mode="markers",
        name=name,
        customdata=df["id"].to_numpy()[rows].astype(str) if "id" in df.columns else None,
        marker={"size": 4, "opacity": 0.7, **marker},
        text=_hover(df, rows, color) if hover else None,
        hovertemplate="%{text}<extra></extra>" if hover else None,
        hoverinfo=None if hover else "skip",
    )


def _marks(
    xy: np.ndarray, rows: np.ndarray, df: pd.DataFrame, name: str, symbol: str, color: str, size: int
) -> go.Scattergl:
    """Rings or squares over rows (the recipe's, the chart filter's)."""
    marker = {"symbol": symbol, "size": size, "color": color, "opacity": 1.0, "line": {"width": 1.5}}
    return _points(df, xy, rows, None, name=name, marker=marker, hover=False)

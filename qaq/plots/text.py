"""The text itself: one example's per-token NLL, and the data's length histograms."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qaq.plots.base import (
    DIVERGING,
    MODEL_COLORS,
    _esc,
    _floats,
    _layout,
    _left_out,
    _message_figure,
    _require,
    _title,
)

TOKENS_PER_LINE = 40  # token heatmap: wrap the query after this many tokens

_HEATMAP_ROWS = ("without answer", "with answer", "explained by answer")

# Whitespace made visible in tokens; the order matters only for "\r\n" (one symbol each).
_VISIBLE_WS = {"\n": "⏎", "\r": "␍", "\t": "⇥", " ": "·"}


def _visible_token(token: str, *, limit: int | None = None) -> str:
    """A token with its whitespace shown (``⏎``, ``·`` ...), shortened, then escaped."""
    shown = "".join(_VISIBLE_WS.get(ch, ch) for ch in token) or "∅"
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return _esc(shown)


def token_heatmap(tokens: Sequence[str], nll_q: Sequence[float], nll_q_given_a: Sequence[float]) -> go.Figure:
    """Per-token NLL of one query without and with the answer, and what the answer explains.

    Three rows per line of at most 40 tokens: ``without answer`` (NLL of each query token,
    query alone), ``with answer`` (conditioned on the answer) and ``explained by answer``
    (their difference; its mean over the tokens is the RMI). Tokens are tick labels and hover
    text with whitespace made visible (``⏎``, ``·``, ``⇥``) and HTML-escaped.

    Args:
        tokens: the query's tokens as text.
        nll_q: NLL (nats) of each token, query alone.
        nll_q_given_a: NLL (nats) of each token given the answer.

    Returns:
        The figure: one subplot per line, each with two ``go.Heatmap`` traces (the NLL rows at
        y = 0, 1 on one color scale, the difference at y = 2 on a diverging one); the y axes
        are numeric, labelled by tick text, top row first.

    Raises:
        ValueError: when the three sequences differ in length.
    """
    toks = [str(t) for t in tokens]
    a = np.asarray(nll_q, dtype=np.float64)
    b = np.asarray(nll_q_given_a, dtype=np.float64)
    if not (len(toks) == len(a) == len(b)):
        raise ValueError(f"tokens, nll_q and nll_q_given_a differ in length ({len(toks)}, {len(a)}, {len(b)})")
    title = "Query tokens: what the answer explains"
    if not toks:
        return _message_figure(title, "No query tokens to show.")
    d = a - b
    n_lines = math.ceil(len(toks) / TOKENS_PER_LINE)
    fig = make_subplots(rows=n_lines, cols=1, vertical_spacing=min(0.08, 0.6 / n_lines))
    for line in range(n_lines):
        _add_heatmap_line(fig, toks, a, b, d, line)
    fig.update_layout(**_heatmap_color_axes(a, b, d))
    both = np.isfinite(d)  # the mean of the difference is RMI only over tokens scored both ways
    note = f"{len(toks):,} tokens"
    if both.any():
        note += (
            f"; mean NLL {a[both].mean():.3f} without, {b[both].mean():.3f} with the answer; "
            f"mean explained (RMI) {d[both].mean():.3f} nats"
        )
    fig = _layout(fig, _title(title, [note]), height=140 + 170 * n_lines)
    fig.update_layout(margin={"r": 110, "b": 70})
    return fig


def _add_heatmap_line(fig: go.Figure, toks: list[str], a: np.ndarray, b: np.ndarray, d: np.ndarray, line: int) -> None:
    """Draw tokens ``line * TOKENS_PER_LINE ..`` of :func:`token_heatmap` into subplot row ``line + 1``."""
    # The rows sit at numeric y = 0, 1, 2 with tick labels, not on a categorical axis: two
    # heatmaps sharing one categorical y axis with different categories draw nothing at all in
    # the plotly.js that Streamlit bundles. The row's name goes into the hover text instead.
    hover = "%{text}: %{z:.3f} nats<extra></extra>"
    rows = list(range(len(_HEATMAP_ROWS)))
    lo, hi = line * TOKENS_PER_LINE, min((line + 1) * TOKENS_PER_LINE, len(toks))
    pos = np.arange(lo, hi)
    shown = [_visible_token(t) for t in toks[lo:hi]]
    text = [[f"#{p} {s}<br>{row}" for p, s in zip(pos, shown)] for row in _HEATMAP_ROWS]
    fig.add_trace(
        go.Heatmap(
            x=pos,
            y=rows[:2],
            z=np.vstack([a[lo:hi], b[lo:hi]]),
            text=text[:2],  # (2, n)
            coloraxis="coloraxis",
            hovertemplate=hover,
            xgap=1,
            ygap=1,
        ),
        row=line + 1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(
            x=pos,
            y=rows[2:],
            z=d[lo:hi][None, :],
            text=text[2:],  # (1, n)
            coloraxis="coloraxis2",
            hovertemplate=hover,
            xgap=1,
            ygap=1,
        ),
        row=line + 1,
        col=1,
    )
    ticks = [_visible_token(t, limit=10) for t in toks[lo:hi]]  # hover has the full token
    fig.update_xaxes(
        tickmode="array",
        tickvals=pos,
        ticktext=ticks,
        range=[lo - 0.5, lo + TOKENS_PER_LINE - 0.5],
        showgrid=False,
        row=line + 1,
        col=1,
    )
    # An explicit reversed range (top row first) rather than autorange: each trace's cells
    # then span exactly their unit row.
    fig.update_yaxes(
        tickmode="array",
        tickvals=rows,
        ticktext=list(_HEATMAP_ROWS),
        range=[len(rows) - 0.5, -0.5],
        showgrid=False,
        zeroline=False,
        row=line + 1,
        col=1,
    )


def _heatmap_color_axes(a: np.ndarray, b: np.ndarray, d: np.ndarray) -> dict[str, dict]:
    """The two color axes of :func:`token_heatmap`: one scale for both NLL rows, a diverging one
    centred on 0 for the difference."""
    nll_all = np.concatenate([a, b])
    nll_all = nll_all[np.isfinite(nll_all)]
    d_abs = float(np.abs(d[np.isfinite(d)]).max()) if np.isfinite(d).any() else 1.0
    # Two colorbars stacked in a one-line figure's short plot area: titles on the side, so
    # they do not eat the bars' length, and few ticks.
    bar = {"x": 1.0, "len": 0.5, "thickness": 12, "nticks": 4}
    return {
        "coloraxis": {
            "colorscale": "YlOrRd",
            "cmin": float(nll_all.min()) if len(nll_all) else 0.0,
            "cmax": float(nll_all.max()) if len(nll_all) else 1.0,
            "colorbar": {**bar, "title": {"text": "NLL", "side": "right"}, "y": 1.0, "yanchor": "top"},
        },
        "coloraxis2": {
            "colorscale": DIVERGING,
            "cmid": 0.0,
            "cmin": -d_abs,
            "cmax": d_abs,
            "colorbar": {**bar, "title": {"text": "explained", "side": "right"}, "y": 0.0, "yanchor": "bottom"},
        },
    }


def length_histograms(lengths: pd.DataFrame, *, unit: str = "characters") -> go.Figure:
    """Histograms of query and answer lengths, side by side.

    Lengths are heavy-tailed: when the longest is over 4x the 99th percentile, the bins stop at
    the 99th percentile and the title says how many longer rows are not drawn.

    Args:
        lengths: columns ``query`` and ``answer`` (one length per row; NaN is left out).
        unit: what a length counts (``"characters"`` or ``"tokens"``), for the x titles.

    Returns:
        The figure: two subplots, one ``go.Bar`` trace each (``query``, ``answer``).
    """
    _require(lengths, ["query", "answer"])
    title = "Query and answer lengths"
    unit_t = _esc(unit)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("query", "answer"), horizontal_spacing=0.08)
    notes: list[str] = []
    for col, field in enumerate(("query", "answer"), start=1):
        v = _floats(lengths, field)
        v = v[np.isfinite(v)]
        notes.append(_left_out(len(lengths) - len(v), f"without {field} length"))
        if len(v) == 0:
            continue
        top = float(v.max())
        p99 = float(np.percentile(v, 99))
        if top > 4 * p99 and p99 > 0:
            above = int(np.sum(v > p99))
            notes.append(f"{above:,} {field}s over {p99:,.0f} {unit_t} not drawn (longest {top:,.0f})")
            top = p99
        lo = float(v.min())
        edges = np.linspace(lo, top if top > lo else lo + 1, 51)
        counts, _ = np.histogram(v[v <= top], bins=edges)
        fig.add_trace(
            go.Bar(
                x=(edges[:-1] + edges[1:]) / 2,
                y=counts,
                width=edges[1] - edges[0],
                name=field,
                customdata=np.column_stack([edges[:-1], edges[1:]]),
                marker_color=MODEL_COLORS[col - 1],
                hovertemplate=f"%{{customdata[0]:,.0f}}–%{{customdata[1]:,.0f}} {unit_t}<br>"
                "%{y:,} rows<extra>%{fullData.name}</extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=f"length ({unit_t})", row=1, col=col)
        fig.update_yaxes(title_text="rows", row=1, col=col)
    if not fig.data:
        return _message_figure(title, "No lengths to show.")
    fig.update_layout(bargap=0, showlegend=False)
    return _layout(fig, _title(title, notes), height=380)

"""The text itself: one example's per-token NLL as wrapped text, and the data's length histograms."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

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

TEXT_WIDTH = 80  # token text: character columns per line (a token longer than a line is shortened)
LINE_PX = 24  # token text: pixels per line of tokens
# Token text: a cell is its label's columns plus _PAD, the room for the 3 px plotly.js keeps on each
# side of a bar's text (without it a one-character label does not fit and is hidden); _GAP blank
# columns separate neighbouring cells of the same colour.
_PAD = 1.0
_GAP = 0.25
_MIN_FONT = 8  # token text: a label that fits only below this size is hidden (its hover remains)
_MIN_PX = 180  # token text: the figure's least height (room for its colour bar)

# What a token text cell can be coloured by: the per-token value and its name in titles and hover.
TokenColor = Literal["explained", "alone", "given"]
TOKEN_COLORS: tuple[TokenColor, ...] = get_args(TokenColor)
_COLOR_TITLES = {
    "explained": "what the {other} explains (NLL alone − given the {other})",
    "alone": "NLL alone",
    "given": "NLL given the {other}",
}
SPAN_OTHER = {"query": "answer", "answer": "query"}  # the text each span is conditioned on

# Whitespace made visible in tokens; the order matters only for "\r\n" (one symbol each).
_VISIBLE_WS = {"\n": "⏎", "\r": "␍", "\t": "⇥", " ": "·"}
# In a cell, a space stays blank (a non-breaking one: SVG text collapses ordinary spaces); the
# other whitespace shows as its symbol.
_CELL_WS = {**_VISIBLE_WS, " ": "\u00a0"}
_PIECE = "⋯"  # a token that carries part of a character the next token completes


def _visible_token(token: str, *, limit: int | None = None) -> str:
    """A token with its whitespace shown (``⏎``, ``·`` ...), shortened, then escaped."""
    shown = "".join(_VISIBLE_WS.get(ch, ch) for ch in token) or "∅"
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return _esc(shown)


@dataclass(frozen=True)
class TokenCell:
    """Where one token sits in the token text layout: a line and a span of character columns."""

    line: int  # 0 = the first line
    start: float  # first column (0-based; fractional: cells are separated by a gap)
    end: float  # past the last column; ``end - start``: the label's width (:func:`text_columns`) + padding
    label: str  # what the cell shows (not escaped): whitespace as blanks or symbols, shortened to fit a line


def text_columns(text: str) -> int:
    """Columns ``text`` takes in a monospace font: two for a wide character (CJK, most emoji), else one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(label: str, width: int) -> str:
    """``label`` cut to at most ``width`` columns, ending in ``…`` when cut."""
    if text_columns(label) <= width:
        return label
    while text_columns(label) > width - 1:
        label = label[:-1]
    return label + "…"


def token_cells(tokens: Sequence[str], *, width: int = TEXT_WIDTH) -> list[TokenCell]:
    r"""Lay tokens out like text: left to right, wrapped at ``width`` columns, a new line after ``"\n"``.

    Each cell is as wide as its label (:func:`text_columns`: a column per character, two for a
    wide one) and a column of padding, and cells on a line are separated by a gap, so no two
    cells overlap, on any line, for any number or length of tokens.
    A label longer than a line is shortened to the line with ``…``. A token that ends a line
    (``"):\n"``) ends its line; one that starts the next (``"\n    return"``) starts a new line.

    >>> [(c.line, c.start, c.end, c.label) for c in token_cells(["def", " f", "():\n", "pass"], width=14)]
    [(0, 0.0, 4.0, 'def'), (0, 4.25, 7.25, '\xa0f'), (0, 7.5, 12.5, '():⏎'), (1, 0.0, 5.0, 'pass')]
    >>> [(c.line, c.label) for c in token_cells(["x", "\n  y"], width=8)]
    [(0, 'x'), (1, '⏎\xa0\xa0y')]
    """
    if width < 3:
        raise ValueError(f"width must be at least 3 columns, got {width}")
    cells: list[TokenCell] = []
    line, col = 0, 0.0
    for token in tokens:
        label = _fit("".join(_CELL_WS.get(ch, ch) for ch in token) or _PIECE, int(width - _PAD))
        columns = text_columns(label) + _PAD
        newline = token.rfind("\n")
        starts_line = newline >= 0 and newline < len(token) - 1  # text follows its last newline
        if col > 0 and (starts_line or col + columns > width):
            line, col = line + 1, 0.0
        cells.append(TokenCell(line, round(col, 6), round(col + columns, 6), label))
        col += columns + _GAP
        if newline >= 0 and not starts_line:  # the token ends its line, as the text reads
            line, col = line + 1, 0.0
    return cells


def token_text(
    tokens: Sequence[str],
    alone: Sequence[float],
    given: Sequence[float],
    *,
    span: Literal["query", "answer"] = "query",
    color: TokenColor = "explained",
    width: int = TEXT_WIDTH,
) -> go.Figure:
    """One span's tokens as wrapped text, a coloured cell per token, its NLLs on hover.

    For the query, ``alone`` is the NLL of each token without the answer and ``given`` with it
    (mean of ``alone - given``: the RMI); for the answer, without and with the query (the
    means' ratio ``given / alone``: the IFD). The cells are coloured by ``color``: ``explained``
    (``alone - given``, on a diverging scale centred on 0: blue where the other text makes the
    token easier), ``alone`` or ``given`` (NLL, on one sequential scale from 0). The colour
    scales stop at the 98th percentile, so one extreme token does not wash out the others.

    Layout: :func:`token_cells`; each token is a horizontal ``go.Bar`` spanning its cell (one
    trace), its label drawn inside it, never rotated, shrunk to fit its own cell, or hidden
    below 8 px (the hover has it): labels cannot overlap. Labels and hover text are escaped.

    Args:
        tokens: the span's tokens as text (:func:`qaq.scoring.tokens.token_pieces`).
        alone, given: NLL (nats) of each token without and with the other text.
        span: ``"query"`` or ``"answer"``, for the titles.
        color: what the cells are coloured by (:data:`TOKEN_COLORS`).
        width: character columns per line.

    Returns:
        The figure; a message figure when there are no tokens.

    Raises:
        ValueError: the three sequences differ in length, or an unknown ``span``/``color``.
    """
    if span not in SPAN_OTHER:
        raise ValueError(f"span must be 'query' or 'answer', got {span!r}")
    if color not in TOKEN_COLORS:
        raise ValueError(f"color must be one of {', '.join(TOKEN_COLORS)}, got {color!r}")
    toks = [str(t) for t in tokens]
    a = np.asarray(alone, dtype=np.float64)
    b = np.asarray(given, dtype=np.float64)
    if not (len(toks) == len(a) == len(b)):
        raise ValueError(f"tokens, alone and given differ in length ({len(toks)}, {len(a)}, {len(b)})")
    other = SPAN_OTHER[span]
    title = f"{span.capitalize()} tokens: {_COLOR_TITLES[color].format(other=other)}"
    if not toks:
        return _message_figure(title, f"No {span} tokens to show.", height=200)
    cells = token_cells(toks, width=width)
    d = a - b
    value = {"explained": d, "alone": a, "given": b}[color]
    n_lines = cells[-1].line + 1
    hover = [
        f"#{i} {_visible_token(t)}<br>alone {x:.3f} · given {other} {y:.3f}<br>explained {x - y:+.3f} nats"
        for i, (t, x, y) in enumerate(zip(toks, a, b))
    ]
    fig = go.Figure(_token_bar(cells, value, hover))
    fig.update_xaxes(range=[0, width], visible=False, fixedrange=True)
    fig.update_yaxes(range=[n_lines - 0.5, -0.5], visible=False, fixedrange=True)
    fig.update_layout(
        coloraxis=_token_color_axis(value, color),
        uniformtext={"minsize": _MIN_FONT, "mode": "hide"},
        bargap=0,
        showlegend=False,
    )
    fig = _layout(fig, _title(title, [_token_note(toks, a, b, span)]), height=max(110 + LINE_PX * n_lines, _MIN_PX))
    fig.update_layout(margin={"l": 10, "r": 10, "b": 10})
    return fig


def _token_bar(cells: list[TokenCell], value: np.ndarray, hover: list[str]) -> go.Bar:
    """The one trace of :func:`token_text`: a horizontal bar per cell, its label inside, never rotated."""
    return go.Bar(
        orientation="h",
        y=[c.line for c in cells],
        x=[c.end - c.start for c in cells],
        base=[c.start for c in cells],
        width=0.86,
        text=[_esc(c.label) for c in cells],
        textposition="inside",
        insidetextanchor="start",
        textangle=0,
        constraintext="inside",
        textfont={"family": "monospace", "size": 13},
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
        marker={"color": value, "coloraxis": "coloraxis", "line": {"width": 0}},
    )


def _token_note(toks: list[str], a: np.ndarray, b: np.ndarray, span: str) -> str:
    """The title's second line: token count and the means (the row's scores)."""
    note = f"{len(toks):,} tokens; mean NLL {np.mean(a):.3f} alone, {np.mean(b):.3f} given the {SPAN_OTHER[span]}"
    if span == "query":
        return note + f"; mean explained {np.mean(a - b):.3f} nats (RMI)"
    return note + (f"; ratio {np.mean(b) / np.mean(a):.3f} (IFD)" if np.mean(a) else "")


def _token_color_axis(value: np.ndarray, color: str) -> dict:
    """The colour axis of :func:`token_text`: diverging around 0 for ``explained``, else from 0 up."""
    finite = value[np.isfinite(value)]
    bar = {"thickness": 10, "len": 0.9, "title": {"text": "nats", "side": "right"}}
    if color == "explained":
        top = float(np.percentile(np.abs(finite), 98)) if len(finite) else 1.0
        top = top or 1.0
        return {"colorscale": DIVERGING, "cmid": 0.0, "cmin": -top, "cmax": top, "colorbar": bar}
    top = float(np.percentile(finite, 98)) if len(finite) else 1.0
    return {"colorscale": "YlOrRd", "cmin": 0.0, "cmax": max(top, 1e-6), "colorbar": bar}


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

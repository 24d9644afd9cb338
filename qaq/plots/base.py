"""What every figure module shares: the look (template, colours, titles), input checks, sampling.

Package-internal. The helpers keep their leading underscore so that they stay out of
:mod:`qaq.plots`' public names.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.colors as pcolors
import plotly.graph_objects as go

TEMPLATE = "plotly_white"

MODEL_COLORS: tuple[str, ...] = tuple(pcolors.qualitative.Plotly)

# ColorBrewer RdBu (negative red, positive blue) with a mid grey instead of its near-white middle:
# on the white template a value near zero (a Diff of 0, a token the answer does not explain)
# must still show.
DIVERGING: tuple[tuple[float, str], ...] = (
    (0.0, "rgb(103,0,31)"),
    (0.2, "rgb(214,96,77)"),
    (0.5, "rgb(150,150,150)"),
    (0.8, "rgb(67,147,195)"),
    (1.0, "rgb(5,48,97)"),
)


def _esc(text: object) -> str:
    """Escape user text for Plotly's HTML-like labels (``<``, ``>``, ``&``)."""
    return html.escape(str(text), quote=False)


def _title(main: str, notes: Sequence[str] = ()) -> dict:
    """A title with an optional second, smaller line of notes (sampling, rows left out).

    ``<br><sup>`` rather than ``title.subtitle``: older plotly.js builds (as bundled by some
    Streamlit versions) silently drop the subtitle, and these notes must not be lost.
    """
    notes = [n for n in notes if n]
    text = main if not notes else f"{main}<br><sup>{'; '.join(notes)}</sup>"
    return {"text": text, "x": 0.0, "xanchor": "left"}


def _layout(fig: go.Figure, title: dict, *, height: int, **kwargs: object) -> go.Figure:
    top = 90 if "<br>" in title["text"] else 60
    fig.update_layout(
        title=title, template=TEMPLATE, height=height, margin={"t": top, "l": 60, "r": 30, "b": 50}, **kwargs
    )
    return fig


def _message_figure(title: str, message: str, *, height: int = 360) -> go.Figure:
    """The figure shown instead of a chart when there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, _title(title), height=height)


def _require(df: pd.DataFrame, columns: Sequence[str], hint: str = "") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"no column(s) {', '.join(map(repr, missing))} in this table{hint}")


def _floats(df: pd.DataFrame, column: str) -> np.ndarray:
    return df[column].to_numpy(dtype=np.float64, na_value=np.nan)


def _left_out(n: int, what: str) -> str:
    return f"{n:,} {'row' if n == 1 else 'rows'} {what} left out" if n > 0 else ""


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _sample(n: int, max_points: int, seed: int) -> np.ndarray | None:
    """Sorted positions of a seeded uniform sample of ``max_points`` of ``n``; None when all fit."""
    if n <= max_points:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def _sample_note(n: int, max_points: int, seed: int) -> str:
    return f"random sample of {max_points:,} of {n:,} rows (seed {seed})" if n > max_points else ""


def _thin(n: int, k: int) -> np.ndarray:
    """At most ``k`` evenly spaced positions of ``0..n-1``, first and last included."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))

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
import plotly.io as pio

# plotly_white's layout without its per-trace-type defaults: the same look for the traces qaq
# draws, and a third of the cost per figure (Plotly copies the whole template into each one).
pio.templates["qaq"] = go.layout.Template(layout=pio.templates["plotly_white"].layout)
TEMPLATE = "qaq"

MODEL_COLORS: tuple[str, ...] = tuple(pcolors.qualitative.Plotly)

# Strata are x intervals of PPL(Q), ordered by the axis and separated by lines: a colour only has
# to tell a stratum from its neighbours. A sequential scale sampled K times cannot at K = 20 or 50
# (neighbours differ by 1/K of the scale), so ten distinct hues are used in turn: neighbours always
# differ, and the two strata sharing a hue lie ten strata apart.
STRATA_COLORS: tuple[str, ...] = tuple(pcolors.qualitative.D3)

# What the current selection looks like wherever rows are drawn: dark rings over the rows' own colours.
SELECTED_COLOR = "rgb(30,30,30)"

# Rows picked on a chart (the chart filter): orange squares, apart from both.
PICKED_COLOR = "rgb(255,127,14)"

SNIPPET_CHARS = 80  # hover text shows this many characters of a row's Q and A

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


def _strata_color(k: int) -> str:
    """The colour of stratum ``k`` (:data:`STRATA_COLORS` in turn)."""
    return STRATA_COLORS[int(k) % len(STRATA_COLORS)]


def _snippet(text: object, limit: int = SNIPPET_CHARS) -> str:
    """The start of a text on one line (whitespace runs as one space), shortened with an ellipsis, escaped.

    Cut before escaping, so that an entity (``&lt;``) is never cut in half.
    """
    # Only the start is shown: collapse the whitespace of a slice, not of a whole long answer.
    flat = " ".join(text[: 4 * limit].split()) if isinstance(text, str) else ""
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _esc(flat)


def _row_text(df: pd.DataFrame, rows: np.ndarray) -> list[str] | None:
    """Hover lines naming each of ``rows`` (positions): escaped id, then the first characters of Q and A.

    None when the table has no ``id``. Plotly renders a subset of HTML in hover text, so every
    piece that comes from the data is escaped (:func:`_esc`); the only markup is qaq's ``<br>``.
    """
    if "id" not in df.columns:
        return None
    ids = df["id"].iloc[rows].tolist()  # take the drawn rows first: a text column may hold 300,000 long strings
    parts = [[f"<b>{_esc(i)}</b>" for i in ids]]
    for column, label in (("query", "Q"), ("answer", "A")):
        if column in df.columns:
            parts.append([f"{label}: {_snippet(t)}" for t in df[column].iloc[rows].tolist()])
    return ["<br>".join(p) for p in zip(*parts)]


# Notes under a title take a new line past this many characters: Plotly never wraps a title, and a
# chart is about 560 px wide on a 1024 px screen (about 120 characters of the notes' small type).
_NOTE_LINE = 100


def _title(main: str, notes: Sequence[str] = ()) -> dict:
    """A title with optional smaller lines of notes (sampling, rows left out), joined by ``;`` up to
    :data:`_NOTE_LINE` characters a line (a note is never cut).

    ``<br><sup>`` rather than ``title.subtitle``: older plotly.js builds (as bundled by some
    Streamlit versions) silently drop the subtitle, and these notes must not be lost.
    """
    lines: list[str] = []
    for n in (n for n in notes if n):
        if lines and len(lines[-1]) + 2 + len(n) <= _NOTE_LINE:
            lines[-1] += f"; {n}"
        else:
            lines.append(n)
    return {"text": main + "".join(f"<br><sup>{line}</sup>" for line in lines), "x": 0.0, "xanchor": "left"}


def _layout(fig: go.Figure, title: dict, *, height: int, **kwargs: object) -> go.Figure:
    lines = title["text"].count("<br>")
    top = 60 + (30 + 16 * (lines - 1) if lines else 0)
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


def _selected_mask(df: pd.DataFrame, selected: pd.Series | np.ndarray | None) -> np.ndarray | None:
    """``selected`` as a boolean array in ``df``'s row order (by index label when they differ)."""
    if selected is None:
        return None
    if isinstance(selected, pd.Series):
        aligned = selected
        if not selected.index.equals(df.index):
            if not df.index.is_unique:
                raise ValueError("selected must share df's index (df's index has duplicates)")
            aligned = selected.reindex(df.index)
        return aligned.to_numpy(dtype=bool, na_value=False)
    arr = np.asarray(selected, dtype=bool)
    if arr.shape != (len(df),):
        raise ValueError(f"selected has {arr.shape[0] if arr.ndim else 0} values for {len(df)} rows")
    return arr


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


def _ring(x: np.ndarray, y: np.ndarray, rows: np.ndarray, name: str) -> go.Scattergl:
    """Dark rings over the drawn rows that the current selection keeps (hover stays on the row below)."""
    return go.Scattergl(
        x=x[rows],
        y=y[rows],
        mode="markers",
        name=name,
        marker={"symbol": "circle-open", "size": 8, "color": SELECTED_COLOR, "line": {"width": 1.5}},
        hoverinfo="skip",
    )

"""Every chart of the app, as pure functions returning a ``plotly.graph_objects.Figure``.

The functions read a qaq table (columns per :mod:`qaq.columns`) or a small frame made by
:mod:`qaq.strata`, :mod:`qaq.selection` or :mod:`qaq.compare`, and never mutate their input.
Nothing here imports Streamlit: the pages call these and hand the figure to ``st.plotly_chart``.

Shared conventions:

- Rows with a missing score (skipped rows carry NaN) are left out, and the title says how many.
- An empty input (no rows, no scores, no curves) gives a figure whose annotation says why,
  never an exception; a missing column or a bad option is a caller error and raises.
- The app redraws on every slider change of a 300,000-row table, so nothing sends one point per
  row: histograms are binned with numpy and drawn as bars, ECDFs and curves are thinned, box
  plots are sent as precomputed quartiles, and scatter plots draw a seeded random sample of at
  most ``max_points`` rows (the title says so).
- Text that comes from the data (tokens, ids, model names) is HTML-escaped: Plotly renders a
  subset of HTML tags in titles, tick labels and hover text.
"""

from __future__ import annotations

import html
import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.colors as pcolors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from qaq.columns import score_column
from qaq.compare import quadrant_counts
from qaq.strata import add_strata, spearman

TEMPLATE = "plotly_white"
MODEL_COLORS: tuple[str, ...] = tuple(pcolors.qualitative.Plotly)
TOKENS_PER_LINE = 40  # token heatmap: wrap the query after this many tokens
_ECDF_POINTS = 2000  # an ECDF drawn with 2,000 steps is off by at most 1/2,000 in y
_CURVE_POINTS = 5000  # ROC / PR curves longer than this are thinned
_UNIT_RANGE = (-0.02, 1.02)  # ROC / PR axes: [0, 1] with room for a line drawn on 0 or 1
_VIOLIN_POINTS = 2000  # rows sampled per stratum for a violin (its KDE runs in the browser)
_HEATMAP_ROWS = ("without answer", "with answer", "explained by answer")
# ColorBrewer RdBu (negative red, positive blue) with a mid grey instead of its near-white middle:
# on the white template a value near zero (a Diff of 0, a token the answer does not explain)
# must still show.
DIVERGING: tuple[tuple[float, str], ...] = (
    (0.0, "rgb(103,0,31)"), (0.2, "rgb(214,96,77)"), (0.5, "rgb(150,150,150)"),
    (0.8, "rgb(67,147,195)"), (1.0, "rgb(5,48,97)"),
)
# Whitespace made visible in tokens; the order matters only for "\r\n" (one symbol each).
_VISIBLE_WS = {"\n": "⏎", "\r": "␍", "\t": "⇥", " ": "·"}


# --------------------------------------------------------------------------------------------
# helpers


def _esc(text: object) -> str:
    """Escape user text for Plotly's HTML-like labels (``<``, ``>``, ``&``)."""
    return html.escape(str(text), quote=False)


def _visible_token(token: str, *, limit: int | None = None) -> str:
    """A token with its whitespace shown (``⏎``, ``·`` ...), shortened, then escaped."""
    shown = "".join(_VISIBLE_WS.get(ch, ch) for ch in token) or "∅"
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return _esc(shown)


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
    fig.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14}
    )
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


def _selected_mask(df: pd.DataFrame, selected: pd.Series | np.ndarray | None) -> np.ndarray | None:
    """``selected`` as a boolean array in ``df``'s row order (by index label when they differ)."""
    if selected is None:
        return None
    if isinstance(selected, pd.Series):
        if not selected.index.equals(df.index):
            if not df.index.is_unique:
                raise ValueError("selected must share df's index (df's index has duplicates)")
            selected = selected.reindex(df.index)
        return selected.to_numpy(dtype=bool, na_value=False)
    arr = np.asarray(selected, dtype=bool)
    if arr.shape != (len(df),):
        raise ValueError(f"selected has {arr.shape[0] if arr.ndim else 0} values for {len(df)} rows")
    return arr


def _models(models: Sequence[str] | str) -> list[str]:
    # A lone string is one model, not a sequence of one-letter models.
    return [models] if isinstance(models, str) else list(models)


def _strata_colors(k: int) -> list[str]:
    return pcolors.sample_colorscale("Viridis", [i / max(k - 1, 1) for i in range(k)])


def _strata(df: pd.DataFrame, model: str, bins: int) -> np.ndarray:
    """The model's PPL(Q) stratum per row (-1 where none), by :func:`qaq.strata.add_strata`."""
    col = score_column(model, "stratum")
    return add_strata(df, model, bins=bins)[col].to_numpy(dtype=np.int64, na_value=-1)


def _clip(v: float) -> float:
    """Keep an annotation inside the unit square (with a margin for its text)."""
    return min(max(v, 0.04), 0.96)


def _thin(n: int, k: int) -> np.ndarray:
    """At most ``k`` evenly spaced positions of ``0..n-1``, first and last included."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


# --------------------------------------------------------------------------------------------
# RMI distributions


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
            go.Bar(x=centers, y=counts, width=width, name=_esc(m), marker_color=color,
                   opacity=0.35 if sel is not None else 0.6, hovertemplate=hover)
        )
        if sel is not None:
            counts, _ = np.histogram(values[m][finite[m] & sel], bins=edges)
            fig.add_trace(
                go.Bar(x=centers, y=counts, width=width, name=f"{_esc(m)}: selected",
                       marker_color=color, opacity=0.9, hovertemplate=hover)
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
                    x=srt[idx], y=(idx + 1) / len(srt), mode="lines", line_shape="hv", name=name,
                    line={"color": MODEL_COLORS[i % len(MODEL_COLORS)], "dash": dash},
                    hovertemplate="RMI %{x:.3f}<br>%{y:.1%} of rows at or below"
                                  "<extra>%{fullData.name}</extra>",
                )
            )
    if not fig.data:
        return _message_figure(title, "No RMI scores to show: score the data first.")
    fig.update_xaxes(title_text="RMI (nats)")
    fig.update_yaxes(title_text="fraction of rows", range=[0, 1.02], tickformat=".0%")
    fig.update_layout(legend_title_text="model")
    return _layout(fig, _title(title, notes), height=420)


# --------------------------------------------------------------------------------------------
# stratification


def _stratum_edges(nll_q: np.ndarray, codes: np.ndarray, bins: int) -> list[tuple[int, float]]:
    """``(j, lowest log PPL(Q) in stratum j)`` for each non-empty stratum j = 1..K-1.

    Strata are consecutive runs of the rows sorted by PPL(Q) (:func:`qaq.strata.add_strata`),
    so stratum j starts at its smallest value; a line there separates j-1 from j exactly
    (rows tied with it on the edge may sit in j-1, split by source row order).
    """
    ok = codes >= 0
    mins = pd.Series(nll_q[ok]).groupby(codes[ok]).min()
    return [(int(j), float(mins[j])) for j in range(1, bins) if j in mins.index]


def rmi_vs_ppl(
    df: pd.DataFrame, model: str, *, bins: int = 10, max_points: int = 20000, seed: int = 0
) -> go.Figure:
    """RMI against log PPL(Q), colored by PPL(Q) stratum, with the stratum boundaries.

    Shows why QAQ ranks within strata: RMI's range shrinks for easy (low PPL(Q)) queries, so a
    global RMI sort would drop them. The strata are :func:`qaq.strata.add_strata`'s K quantile
    bins over the *whole* table; only the drawing is sampled.

    Args:
        df: the qaq table with ``NAME_nll_q`` and ``NAME_rmi``.
        model: the model NAME.
        bins: K, the number of strata.
        max_points: at most this many points are drawn (a seeded random sample beyond).
        seed: the sample's seed.

    Returns:
        The figure: one ``go.Scattergl`` per stratum, one dotted vertical line (a layout shape)
        per boundary (K - 1 when every stratum has rows).
    """
    _check_positive("max_points", max_points)
    nll_col, rmi_col = score_column(model, "nll_q"), score_column(model, "rmi")
    _require(df, [nll_col, rmi_col])
    codes = _strata(df, model, bins)
    title = f"RMI vs log PPL(Q): {_esc(model)}"
    nll, rmi = _floats(df, nll_col), _floats(df, rmi_col)
    rows = np.flatnonzero(np.isfinite(nll) & np.isfinite(rmi) & (codes >= 0))
    if len(rows) == 0:
        return _message_figure(title, f"No {_esc(model)} scores to show.")
    notes = [f"{bins} quantile strata of PPL(Q), boundaries dotted",
             _sample_note(len(rows), max_points, seed),
             _left_out(len(df) - len(rows), "without scores")]
    pick = _sample(len(rows), max_points, seed)
    shown = rows if pick is None else rows[pick]

    fig = go.Figure()
    colors = _strata_colors(bins)
    for k in np.unique(codes[shown]):
        r = shown[codes[shown] == k]
        fig.add_trace(
            go.Scattergl(
                x=nll[r], y=rmi[r], mode="markers", name=f"stratum {k}",
                marker={"color": colors[k], "size": 4, "opacity": 0.6},
                hovertemplate=f"stratum {k}<br>log PPL(Q) %{{x:.3f}}<br>RMI %{{y:.3f}}<extra></extra>",
            )
        )
    shapes = [
        {"type": "line", "name": f"stratum {j - 1} | {j}", "x0": e, "x1": e, "y0": 0, "y1": 1,
         "xref": "x", "yref": "paper", "line": {"color": "rgba(60,60,60,0.6)", "width": 1, "dash": "dot"}}
        for j, e in _stratum_edges(nll, codes, bins)
    ]
    fig.update_layout(shapes=shapes, legend_title_text="PPL(Q) stratum")
    fig.update_xaxes(title_text="log PPL(Q) (nats/token)")
    fig.update_yaxes(title_text="RMI (nats)")
    return _layout(fig, _title(title, notes), height=520)


def rmi_by_stratum(df: pd.DataFrame, model: str, *, bins: int = 10, kind: str = "box") -> go.Figure:
    """RMI spread per PPL(Q) stratum, as box plots or violins.

    Boxes are sent as precomputed quartiles (whiskers at the furthest value within 1.5 IQR,
    outliers not drawn), so their size does not grow with the table. Violins need the values
    (the density is estimated in the browser): each draws a seeded sample of at most 2,000 rows.

    Args:
        df: the qaq table with ``NAME_nll_q`` and ``NAME_rmi``.
        model: the model NAME.
        bins: K, the number of strata.
        kind: ``"box"`` or ``"violin"``.

    Returns:
        The figure: one trace per non-empty stratum, x "PPL(Q) stratum", y "RMI (nats)".
    """
    if kind not in ("box", "violin"):
        raise ValueError(f"kind must be 'box' or 'violin', got {kind!r}")
    nll_col, rmi_col = score_column(model, "nll_q"), score_column(model, "rmi")
    _require(df, [nll_col, rmi_col])
    codes = _strata(df, model, bins)
    title = f"RMI per PPL(Q) stratum: {_esc(model)}"
    nll, rmi = _floats(df, nll_col), _floats(df, rmi_col)
    ok = np.isfinite(rmi) & np.isfinite(nll) & (codes >= 0)
    if not ok.any():
        return _message_figure(title, f"No {_esc(model)} scores to show.")
    notes = [_left_out(len(df) - int(ok.sum()), "without scores")]
    if kind == "violin":
        notes.insert(0, f"each violin from at most {_VIOLIN_POINTS:,} sampled rows")
    else:
        notes.insert(0, "whiskers at 1.5 IQR, outliers not drawn")

    fig = go.Figure()
    colors = _strata_colors(bins)
    rng = np.random.default_rng(0)
    labels, ticks = [], []
    for k in np.unique(codes[ok]):
        in_k = ok & (codes == k)
        v, p = rmi[in_k], nll[in_k]
        label = str(k)
        labels.append(label)
        ticks.append(f"{k}<br>{p.min():.2f}–{p.max():.2f}")
        name = f"stratum {k} (n = {len(v):,})"
        if kind == "box":
            q1, med, q3 = np.percentile(v, [25, 50, 75])
            iqr = q3 - q1
            lo_fence = float(v[v >= q1 - 1.5 * iqr].min())
            hi_fence = float(v[v <= q3 + 1.5 * iqr].max())
            fig.add_trace(
                go.Box(x=[label], q1=[q1], median=[med], q3=[q3], lowerfence=[lo_fence],
                       upperfence=[hi_fence], mean=[float(v.mean())], name=name, marker_color=colors[k])
            )
        else:
            if len(v) > _VIOLIN_POINTS:
                v = v[rng.choice(len(v), size=_VIOLIN_POINTS, replace=False)]
            fig.add_trace(
                go.Violin(x=np.full(len(v), label), y=v, name=name, line_color=colors[k],
                          box_visible=True, meanline_visible=True, points=False)
            )
    fig.update_xaxes(title_text="PPL(Q) stratum (range of log PPL(Q), nats/token)",
                     type="category", tickvals=labels, ticktext=ticks)
    fig.update_yaxes(title_text="RMI (nats)")
    fig.update_layout(showlegend=False)
    return _layout(fig, _title(title, notes), height=460)


# --------------------------------------------------------------------------------------------
# scatter plots of two scores


def ifd_vs_rmi(df: pd.DataFrame, model: str, *, max_points: int = 20000, seed: int = 0) -> go.Figure:
    """IFD against RMI for one model, with Spearman's rho (over every row) in the title.

    A table without IFD (the QAQ authors' files carry RMI only) gives an explanatory figure.

    Args:
        df: the qaq table with ``NAME_rmi`` (and ``NAME_ifd``).
        model: the model NAME.
        max_points: at most this many points are drawn (a seeded random sample beyond).
        seed: the sample's seed.

    Returns:
        The figure: one ``go.Scattergl``, a dotted line at IFD = 1 (Cherry drops rows above).
    """
    _check_positive("max_points", max_points)
    rmi_col, ifd_col = score_column(model, "rmi"), score_column(model, "ifd")
    _require(df, [rmi_col])
    title = f"IFD vs RMI: {_esc(model)}"
    if ifd_col not in df.columns:
        return _message_figure(title, f"This table has no IFD scores for {_esc(model)} (column {ifd_col!r}).")
    rmi, ifd = _floats(df, rmi_col), _floats(df, ifd_col)
    rows = np.flatnonzero(np.isfinite(rmi) & np.isfinite(ifd))
    if len(rows) == 0:
        return _message_figure(title, f"No rows with both RMI and IFD for {_esc(model)}.")
    rho = spearman(rmi[rows], ifd[rows])
    rho_text = "n/a" if math.isnan(rho) else f"{rho:.3f}"
    pick = _sample(len(rows), max_points, seed)
    shown = rows if pick is None else rows[pick]
    fig = go.Figure(
        go.Scattergl(
            x=rmi[shown], y=ifd[shown], mode="markers", name=_esc(model),
            marker={"color": MODEL_COLORS[0], "size": 4, "opacity": 0.5},
            hovertemplate="RMI %{x:.3f}<br>IFD %{y:.3f}<extra></extra>",
        )
    )
    fig.add_hline(y=1.0, line={"color": "rgba(60,60,60,0.6)", "width": 1, "dash": "dot"},
                  annotation_text="IFD = 1", annotation_position="top left")
    fig.update_xaxes(title_text="RMI (nats)")
    fig.update_yaxes(title_text="IFD (log PPL(A|Q) / log PPL(A))")
    notes = [f"Spearman over {len(rows):,} rows", _sample_note(len(rows), max_points, seed),
             _left_out(len(df) - len(rows), "without RMI or IFD")]
    return _layout(fig, _title(f"{title}: Spearman ρ = {rho_text}", notes), height=480)


def rank_scatter(
    df: pd.DataFrame,
    *,
    strong: str,
    weak: str,
    diff_threshold: float = 0.1,
    sum_threshold: float = 1.0,
    max_points: int = 20000,
    seed: int = 0,
) -> go.Figure:
    """Strong vs weak RMI rank, with the Diff and Sum threshold lines and quadrant counts.

    ``diff = r_strong - r_weak`` and ``sum = r_strong + r_weak`` (:mod:`qaq.strata`), so with
    x = weak rank and y = strong rank the line ``diff = t`` is ``y = x + t`` and ``sum = s`` is
    ``y = s - x``. The four regions they cut are annotated with the counts of
    :func:`qaq.compare.quadrant_counts` over *all* rows (not just the drawn sample); the title
    carries the Diff-High / Diff-Low / Sum-High / Sum-Low totals.

    Args:
        df: a table with ``id``, ``STRONG_rank`` and ``WEAK_rank``
            (:func:`qaq.strata.add_disagreement`).
        strong: the strong model NAME.
        weak: the weak model NAME.
        diff_threshold: t.
        sum_threshold: s.
        max_points: at most this many points are drawn (a seeded random sample beyond).
        seed: the sample's seed.

    Returns:
        The figure: one ``go.Scattergl`` whose ``customdata`` is the row ``id`` of each point
        (for point selection), colored by Diff; the two lines are layout shapes.
    """
    _check_positive("max_points", max_points)
    for name, t in (("diff_threshold", diff_threshold), ("sum_threshold", sum_threshold)):
        if not math.isfinite(t):
            raise ValueError(f"{name} must be a finite number, got {t!r}")
    rs_col, rw_col = score_column(strong, "rank"), score_column(weak, "rank")
    _require(df, ["id", rs_col, rw_col], " (run qaq.strata.add_disagreement first)")
    title = f"Strong vs weak RMI rank: {_esc(strong)} vs {_esc(weak)}"
    rs, rw = _floats(df, rs_col), _floats(df, rw_col)
    rows = np.flatnonzero(np.isfinite(rs) & np.isfinite(rw))
    if len(rows) == 0:
        return _message_figure(title, "No rows ranked by both models.")
    d, s = rs[rows] - rw[rows], rs[rows] + rw[rows]
    q = quadrant_counts(pd.DataFrame({"diff": d, "sum": s}), diff_threshold=diff_threshold,
                        sum_threshold=sum_threshold)

    pick = _sample(len(rows), max_points, seed)
    shown = np.arange(len(rows)) if pick is None else pick
    ids = df["id"].to_numpy()[rows[shown]].astype(str)
    # customdata keeps the raw ids (the app looks rows up by them); hover shows an escaped copy
    # only when an id holds characters Plotly would read as markup.
    marked = any(c in i for i in ids for c in "<>&") if len(ids) else False
    trace = go.Scattergl(
        x=rw[rows[shown]], y=rs[rows[shown]], mode="markers", name="rows", customdata=ids,
        marker={"color": d[shown], "colorscale": DIVERGING, "cmid": 0.0, "size": 4, "opacity": 0.6,
                "colorbar": {"title": {"text": "Diff"}, "thickness": 12}},
        hovertemplate=("id %{" + ("text" if marked else "customdata") + "}<br>"
                       f"{_esc(strong)} rank %{{y:.3f}}<br>{_esc(weak)} rank %{{x:.3f}}<extra></extra>"),
        text=[_esc(i) for i in ids] if marked else None,
    )
    fig = go.Figure(trace)

    t, sm = float(diff_threshold), float(sum_threshold)
    line = {"color": "rgba(40,40,40,0.8)", "width": 1.5}
    shapes = []
    x0, x1 = max(0.0, -t), min(1.0, 1.0 - t)  # y = x + t inside the unit square
    if x0 < x1:
        shapes.append({"type": "line", "name": f"diff = {t:g}",
                       "x0": x0, "y0": x0 + t, "x1": x1, "y1": x1 + t,
                       "line": {**line, "dash": "dash"}})
    x0, x1 = max(0.0, sm - 1.0), min(1.0, sm)  # y = s - x inside the unit square
    if x0 < x1:
        shapes.append({"type": "line", "name": f"sum = {sm:g}",
                       "x0": x0, "y0": sm - x0, "x1": x1, "y1": sm - x1,
                       "line": {**line, "dash": "dot"}})
    # The lines cross at (cx, cy); each cell's label sits halfway from there to the square's edge.
    cx, cy = (sm - t) / 2, (sm + t) / 2
    cells = {
        ("Diff-High", "Sum-High"): (cx, (cy + 1) / 2),
        ("Diff-High", "Sum-Low"): (cx / 2, cy),
        ("Diff-Low", "Sum-High"): ((cx + 1) / 2, cy),
        ("Diff-Low", "Sum-Low"): (cx, cy / 2),
    }
    for (dk, sk), (ax, ay) in cells.items():
        fig.add_annotation(x=_clip(ax), y=_clip(ay), text=f"{dk} ∩ {sk}<br><b>{int(q.loc[dk, sk]):,}</b>",
                           showarrow=False, bgcolor="rgba(255,255,255,0.75)", font={"size": 11})
    notes = [
        f"Diff-High {int(q.loc['Diff-High', 'total']):,} · Diff-Low {int(q.loc['Diff-Low', 'total']):,} · "
        f"Sum-High {int(q.loc['total', 'Sum-High']):,} · Sum-Low {int(q.loc['total', 'Sum-Low']):,} "
        f"(Diff {t:g}, Sum {sm:g}; all {len(rows):,} rows)",
        _sample_note(len(rows), max_points, seed),
        _left_out(len(df) - len(rows), "without both ranks"),
    ]
    fig.update_layout(shapes=shapes, showlegend=False)
    fig.update_xaxes(title_text=f"{_esc(weak)} RMI rank (weak model)", range=[0, 1.02], constrain="domain")
    # Square, so the diagonal lines keep their meaning; constrain="domain" on both axes shrinks
    # whichever side is too long instead of widening a range past [0, 1].
    fig.update_yaxes(title_text=f"{_esc(strong)} RMI rank (strong model)", range=[0, 1.02],
                     scaleanchor="x", scaleratio=1, constrain="domain")
    return _layout(fig, _title(title, notes), height=620)


# --------------------------------------------------------------------------------------------
# summaries of a selection


def retention_figure(curve: pd.DataFrame, *, score_name: str) -> go.Figure:
    """Fraction of rows a threshold keeps, from :func:`qaq.compare.retention_curve`.

    Args:
        curve: columns ``threshold``, ``kept``, ``fraction``.
        score_name: the score's name for the titles (e.g. ``"diff"``, ``"strong RMI"``).

    Returns:
        The figure: one line, x "SCORE threshold", y "fraction of rows kept".
    """
    _require(curve, ["threshold", "kept", "fraction"])
    name = _esc(score_name)
    title = f"Retention by {name} threshold"
    ok = curve["fraction"].notna() & curve["threshold"].notna()
    if not ok.any():
        return _message_figure(title, f"No {name} values to threshold.")
    c = curve[ok]
    fig = go.Figure(
        go.Scatter(
            x=c["threshold"].to_numpy(dtype=np.float64), y=c["fraction"].to_numpy(dtype=np.float64),
            customdata=c["kept"].to_numpy(dtype=np.int64), mode="lines", name=name,
            hovertemplate="threshold %{x:.3f}<br>%{customdata:,} rows kept (%{y:.1%})<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=f"{name} threshold")
    fig.update_yaxes(title_text="fraction of rows kept", range=[0, 1.02], tickformat=".0%")
    return _layout(fig, _title(title), height=380)


def stratum_counts_figure(counts: pd.DataFrame) -> go.Figure:
    """Selected and not-selected rows per PPL(Q) stratum, stacked (bar height = stratum size).

    Args:
        counts: :func:`qaq.selection.stratum_counts` (``stratum``, ``rows``, ``selected``);
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
    fig = go.Figure([
        go.Bar(x=labels, y=sel, name="selected", customdata=share, hovertemplate=hover,
               marker_color=MODEL_COLORS[0]),
        go.Bar(x=labels, y=rows - sel, name="not selected", customdata=1 - share, hovertemplate=hover,
               marker_color="rgba(160,160,160,0.5)"),
    ])
    fig.update_layout(barmode="stack", legend_title_text="rows")
    fig.update_xaxes(title_text="PPL(Q) stratum (0 = lowest PPL(Q))", type="category")
    fig.update_yaxes(title_text="rows")
    note = f"{int(sel.sum()):,} of {int(rows.sum()):,} rows selected"
    return _layout(fig, _title(title, [note]), height=380)


def _curves_figure(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]], *, title: str, metric: str,
    x_title: str, y_title: str, diagonal: bool,
) -> go.Figure:
    if not curves:
        return _message_figure(title, "No curves to show: pick a labelled set to evaluate against.")
    fig = go.Figure()
    for i, (name, value) in enumerate(curves.items()):
        if len(value) != 3:
            raise ValueError(f"curve {name!r} must be (x, y, {metric}), got {len(value)} items")
        x, y, area = np.asarray(value[0], dtype=np.float64), np.asarray(value[1], dtype=np.float64), value[2]
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(
                f"curve {name!r}: x and y must be 1-D of equal length, got {x.shape} and {y.shape}"
            )
        idx = _thin(len(x), _CURVE_POINTS)
        area_text = "n/a" if area is None or not math.isfinite(area) else f"{area:.3f}"
        fig.add_trace(
            go.Scatter(x=x[idx], y=y[idx], mode="lines", name=f"{_esc(name)} ({metric} {area_text})",
                       line={"color": MODEL_COLORS[i % len(MODEL_COLORS)]},
                       hovertemplate=f"{x_title} %{{x:.3f}}<br>{y_title} %{{y:.3f}}"
                                     "<extra>%{fullData.name}</extra>")
        )
    if diagonal:
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance (AUC 0.500)",
                                 line={"color": "gray", "dash": "dash", "width": 1}, hoverinfo="skip"))
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
    return _curves_figure(curves, title="ROC", metric="AUC", x_title="false positive rate",
                          y_title="true positive rate", diagonal=True)


def pr_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]]) -> go.Figure:
    """Precision-recall curves, average precision in the legend.

    Args:
        curves: name -> ``(recall, precision, average_precision)``.

    Returns:
        The figure: one line per curve.
    """
    return _curves_figure(curves, title="Precision-recall", metric="AP", x_title="recall",
                          y_title="precision", diagonal=False)


# --------------------------------------------------------------------------------------------
# one example, and the data


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
        raise ValueError(
            f"tokens, nll_q and nll_q_given_a differ in length ({len(toks)}, {len(a)}, {len(b)})"
        )
    title = "Query tokens: what the answer explains"
    if not toks:
        return _message_figure(title, "No query tokens to show.")
    d = a - b
    n_lines = math.ceil(len(toks) / TOKENS_PER_LINE)
    fig = make_subplots(rows=n_lines, cols=1, vertical_spacing=min(0.08, 0.6 / n_lines))
    nll_all = np.concatenate([a, b])
    nll_all = nll_all[np.isfinite(nll_all)]
    d_abs = float(np.abs(d[np.isfinite(d)]).max()) if np.isfinite(d).any() else 1.0
    # The rows sit at numeric y = 0, 1, 2 with tick labels, not on a categorical axis: two
    # heatmaps sharing one categorical y axis with different categories draw nothing at all in
    # the plotly.js that Streamlit bundles. The row's name goes into the hover text instead.
    hover = "%{text}: %{z:.3f} nats<extra></extra>"
    rows = list(range(len(_HEATMAP_ROWS)))
    for line in range(n_lines):
        lo, hi = line * TOKENS_PER_LINE, min((line + 1) * TOKENS_PER_LINE, len(toks))
        pos = np.arange(lo, hi)
        shown = [_visible_token(t) for t in toks[lo:hi]]
        text = [[f"#{p} {s}<br>{row}" for p, s in zip(pos, shown)] for row in _HEATMAP_ROWS]
        fig.add_trace(
            go.Heatmap(x=pos, y=rows[:2], z=np.vstack([a[lo:hi], b[lo:hi]]), text=text[:2],  # (2, n)
                       coloraxis="coloraxis", hovertemplate=hover, xgap=1, ygap=1),
            row=line + 1, col=1,
        )
        fig.add_trace(
            go.Heatmap(x=pos, y=rows[2:], z=d[lo:hi][None, :], text=text[2:],  # (1, n)
                       coloraxis="coloraxis2", hovertemplate=hover, xgap=1, ygap=1),
            row=line + 1, col=1,
        )
        ticks = [_visible_token(t, limit=10) for t in toks[lo:hi]]  # hover has the full token
        fig.update_xaxes(tickmode="array", tickvals=pos, ticktext=ticks,
                         range=[lo - 0.5, lo + TOKENS_PER_LINE - 0.5], showgrid=False, row=line + 1, col=1)
        # An explicit reversed range (top row first) rather than autorange: each trace's cells
        # then span exactly their unit row.
        fig.update_yaxes(tickmode="array", tickvals=rows, ticktext=list(_HEATMAP_ROWS),
                         range=[len(rows) - 0.5, -0.5], showgrid=False, zeroline=False, row=line + 1, col=1)
    # Two colorbars stacked in a one-line figure's short plot area: titles on the side, so
    # they do not eat the bars' length, and few ticks.
    bar = {"x": 1.0, "len": 0.5, "thickness": 12, "nticks": 4}
    fig.update_layout(
        coloraxis={"colorscale": "YlOrRd", "cmin": float(nll_all.min()) if len(nll_all) else 0.0,
                   "cmax": float(nll_all.max()) if len(nll_all) else 1.0,
                   "colorbar": {**bar, "title": {"text": "NLL", "side": "right"}, "y": 1.0, "yanchor": "top"}},
        coloraxis2={"colorscale": DIVERGING, "cmid": 0.0, "cmin": -d_abs, "cmax": d_abs,
                    "colorbar": {**bar, "title": {"text": "explained", "side": "right"}, "y": 0.0,
                                 "yanchor": "bottom"}},
    )
    both = np.isfinite(d)  # the mean of the difference is RMI only over tokens scored both ways
    note = f"{len(toks):,} tokens"
    if both.any():
        note += (f"; mean NLL {a[both].mean():.3f} without, {b[both].mean():.3f} with the answer; "
                 f"mean explained (RMI) {d[both].mean():.3f} nats")
    fig = _layout(fig, _title(title, [note]), height=140 + 170 * n_lines)
    fig.update_layout(margin={"r": 110, "b": 70})
    return fig


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
            go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=edges[1] - edges[0], name=field,
                   customdata=np.column_stack([edges[:-1], edges[1:]]), marker_color=MODEL_COLORS[col - 1],
                   hovertemplate=f"%{{customdata[0]:,.0f}}–%{{customdata[1]:,.0f}} {unit_t}<br>"
                                 "%{y:,} rows<extra>%{fullData.name}</extra>"),
            row=1, col=col,
        )
        fig.update_xaxes(title_text=f"length ({unit_t})", row=1, col=col)
        fig.update_yaxes(title_text="rows", row=1, col=col)
    if not fig.data:
        return _message_figure(title, "No lengths to show.")
    fig.update_layout(bargap=0, showlegend=False)
    return _layout(fig, _title(title, notes), height=380)

"""RMI distributions, and RMI across strata of PPL(Q)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.colors as pcolors
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
    _sample,
    _sample_note,
    _thin,
    _title,
)
from qaq.select.strata import DEFAULT_BINS, add_strata

_ECDF_POINTS = 2000  # an ECDF drawn with 2,000 steps is off by at most 1/2,000 in y

_VIOLIN_POINTS = 2000  # rows sampled per stratum for a violin (its KDE runs in the browser)


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


def _models(models: Sequence[str] | str) -> list[str]:
    # A lone string is one model, not a sequence of one-letter models.
    return [models] if isinstance(models, str) else list(models)


def _strata_colors(k: int) -> list[str]:
    return pcolors.sample_colorscale("Viridis", [i / max(k - 1, 1) for i in range(k)])


def _strata(df: pd.DataFrame, model: str, bins: int) -> np.ndarray:
    """The model's PPL(Q) stratum per row (-1 where none), by :func:`qaq.select.strata.add_strata`."""
    col = score_column(model, "stratum")
    return add_strata(df, model, bins=bins)[col].to_numpy(dtype=np.int64, na_value=-1)


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


def _stratum_edges(nll_q: np.ndarray, codes: np.ndarray, bins: int) -> list[tuple[int, float]]:
    """``(j, lowest log PPL(Q) in stratum j)`` for each non-empty stratum j = 1..K-1.

    Strata are consecutive runs of the rows sorted by PPL(Q) (:func:`qaq.select.strata.add_strata`),
    so stratum j starts at its smallest value; a line there separates j-1 from j exactly
    (rows tied with it on the edge may sit in j-1, split by source row order).
    """
    ok = codes >= 0
    mins = pd.Series(nll_q[ok]).groupby(codes[ok]).min()
    return [(int(j), float(mins[j])) for j in range(1, bins) if j in mins.index]


def rmi_vs_ppl(
    df: pd.DataFrame, model: str, *, bins: int = DEFAULT_BINS, max_points: int = 20000, seed: int = 0
) -> go.Figure:
    """RMI against log PPL(Q), colored by PPL(Q) stratum, with the stratum boundaries.

    Shows why QAQ ranks within strata: RMI's range shrinks for easy (low PPL(Q)) queries, so a
    global RMI sort would drop them. The strata are :func:`qaq.select.strata.add_strata`'s K quantile
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
    notes = [
        f"{bins} quantile strata of PPL(Q), boundaries dotted",
        _sample_note(len(rows), max_points, seed),
        _left_out(len(df) - len(rows), "without scores"),
    ]
    pick = _sample(len(rows), max_points, seed)
    shown = rows if pick is None else rows[pick]

    fig = go.Figure()
    colors = _strata_colors(bins)
    for k in np.unique(codes[shown]):
        r = shown[codes[shown] == k]
        fig.add_trace(
            go.Scattergl(
                x=nll[r],
                y=rmi[r],
                mode="markers",
                name=f"stratum {k}",
                marker={"color": colors[k], "size": 4, "opacity": 0.6},
                hovertemplate=f"stratum {k}<br>log PPL(Q) %{{x:.3f}}<br>RMI %{{y:.3f}}<extra></extra>",
            )
        )
    shapes = [
        {
            "type": "line",
            "name": f"stratum {j - 1} | {j}",
            "x0": e,
            "x1": e,
            "y0": 0,
            "y1": 1,
            "xref": "x",
            "yref": "paper",
            "line": {"color": "rgba(60,60,60,0.6)", "width": 1, "dash": "dot"},
        }
        for j, e in _stratum_edges(nll, codes, bins)
    ]
    fig.update_layout(shapes=shapes, legend_title_text="PPL(Q) stratum")
    fig.update_xaxes(title_text="log PPL(Q) (nats/token)")
    fig.update_yaxes(title_text="RMI (nats)")
    return _layout(fig, _title(title, notes), height=520)


def rmi_by_stratum(df: pd.DataFrame, model: str, *, bins: int = DEFAULT_BINS, kind: str = "box") -> go.Figure:
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
                go.Box(
                    x=[label],
                    q1=[q1],
                    median=[med],
                    q3=[q3],
                    lowerfence=[lo_fence],
                    upperfence=[hi_fence],
                    mean=[float(v.mean())],
                    name=name,
                    marker_color=colors[k],
                )
            )
        else:
            if len(v) > _VIOLIN_POINTS:
                v = v[rng.choice(len(v), size=_VIOLIN_POINTS, replace=False)]
            fig.add_trace(
                go.Violin(
                    x=np.full(len(v), label),
                    y=v,
                    name=name,
                    line_color=colors[k],
                    box_visible=True,
                    meanline_visible=True,
                    points=False,
                )
            )
    fig.update_xaxes(
        title_text="PPL(Q) stratum (range of log PPL(Q), nats/token)", type="category", tickvals=labels, ticktext=ticks
    )
    fig.update_yaxes(title_text="RMI (nats)")
    fig.update_layout(showlegend=False)
    return _layout(fig, _title(title, notes), height=460)

"""qaq.plots: trace types and counts, axis titles, strata boundaries, sampling, escaping, speed."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pandas as pd
import plotly.colors as pcolors
import plotly.graph_objects as go
import pytest

from qaq import plots
from qaq.select.compare import quadrant_counts, retention_curve
from qaq.select.correlations import spearman
from qaq.select.recipes import parse_recipe
from qaq.select.selection import select, stratum_counts
from qaq.select.strata import add_disagreement, add_strata

N = 400
NAN_STRONG = [3, 50, 51, 200, 399]  # rows whose strong scores are missing (skipped / failed)
NAN_WEAK = [7, 50, 120]


def make_scores(n: int = N, *, seed: int = 0, nan: bool = True) -> pd.DataFrame:
    """A scored table for models ``strong`` and ``weak`` (RMI grows with PPL(Q), as in real data)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": [f"ex-{i}" for i in range(n)], "row": np.arange(n)})
    for m, missing in (("strong", NAN_STRONG), ("weak", NAN_WEAK)):
        nll_q = rng.gamma(2.0, 0.6, n)
        rmi = rng.normal(0.3, 0.15, n) * nll_q
        ifd = rng.uniform(0.4, 1.3, n)
        if nan:
            rows = [r for r in missing if r < n]
            nll_q[rows], rmi[rows], ifd[rows] = np.nan, np.nan, np.nan
        df[f"{m}_nll_q"] = nll_q
        df[f"{m}_nll_q_given_a"] = nll_q - rmi
        df[f"{m}_rmi"] = rmi
        df[f"{m}_ifd"] = ifd
    return df


@pytest.fixture()
def scores() -> pd.DataFrame:
    return add_disagreement(make_scores(), strong="strong", weak="weak")


def is_message(fig: go.Figure) -> bool:
    """The 'nothing to draw' figure: no traces, one explanatory annotation."""
    return len(fig.data) == 0 and len(fig.layout.annotations) == 1 and bool(fig.layout.annotations[0].text)


def n_points(fig: go.Figure) -> int:
    return sum(len(t.x) for t in fig.data)


def shows_on_white(colorscale, at: float, *, opacity: float = 1.0) -> bool:
    """Whether the colorscale's color at ``at`` (0..1), drawn with ``opacity`` on white, stands out.

    Near-white (every channel of the blend above 215 of 255) does not: ColorBrewer RdBu's middle,
    rgb(247,247,247), fails at any opacity.
    """
    color = pcolors.sample_colorscale([list(c) for c in colorscale], [at])[0]
    rgb = np.array(pcolors.unlabel_rgb(color), dtype=float)
    blended = 255 - (255 - rgb) * opacity
    return bool(blended.min() <= 215)


def all_strings(obj: object) -> list[str]:
    """Every string in a nested plotly JSON structure."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in all_strings(v)]
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [s for v in obj for s in all_strings(v)]
    return []


# --------------------------------------------------------------------------------------------
# RMI distributions


def test_rmi_histogram_counts_every_scored_row_once(scores: pd.DataFrame) -> None:
    fig = plots.rmi_histogram(scores, ["strong", "weak"], nbins=25)
    assert [type(t) for t in fig.data] == [go.Bar, go.Bar]
    assert [t.name for t in fig.data] == ["strong", "weak"]
    assert sum(fig.data[0].y) == N - len(NAN_STRONG)
    assert sum(fig.data[1].y) == N - len(NAN_WEAK)
    assert len(fig.data[0].x) == 25
    assert np.array_equal(fig.data[0].x, fig.data[1].x)  # shared bins, so the overlay lines up
    assert fig.layout.xaxis.title.text == "RMI (nats)"
    assert f"{len(NAN_STRONG)} rows without strong RMI left out" in fig.layout.title.text


def test_rmi_histogram_draws_the_selection(scores: pd.DataFrame) -> None:
    selected = scores["strong_rank"] > 0.75
    fig = plots.rmi_histogram(scores, ["strong", "weak"], selected=selected)
    assert [t.name for t in fig.data] == ["strong", "strong: selected", "weak", "weak: selected"]
    ok_strong = scores["strong_rmi"].notna()
    assert sum(fig.data[1].y) == int((selected & ok_strong).sum())
    assert sum(fig.data[3].y) == int((selected & scores["weak_rmi"].notna()).sum())
    assert f"{int(selected.sum())} of {N} rows selected" in fig.layout.title.text
    # Aligned by index label, not position: a shuffled mask draws the same bars.
    shuffled = selected.sample(frac=1.0, random_state=1)
    again = plots.rmi_histogram(scores, ["strong", "weak"], selected=shuffled)
    assert np.array_equal(again.data[1].y, fig.data[1].y)


def test_rmi_ecdf_ends_at_one_and_is_thinned() -> None:
    big = make_scores(6000, seed=3)
    fig = plots.rmi_ecdf(big, ["strong"], selected=big["strong_rmi"] > 0.5)
    assert [type(t) for t in fig.data] == [go.Scatter, go.Scatter]
    assert fig.layout.yaxis.title.text == "fraction of rows"
    for t in fig.data:
        assert len(t.x) <= 2000
        assert t.y[-1] == pytest.approx(1.0)
        assert np.all(np.diff(t.x) >= 0) and np.all(np.diff(t.y) > 0)
    finite = np.sort(big["strong_rmi"].dropna().to_numpy())
    assert fig.data[0].x[0] == finite[0] and fig.data[0].x[-1] == finite[-1]
    # A point (x, y) means y of the rows are at or below x.
    i = len(fig.data[0].x) // 2
    assert fig.data[0].y[i] == pytest.approx(np.mean(finite <= fig.data[0].x[i]), abs=1e-9)


# --------------------------------------------------------------------------------------------
# stratification


@pytest.mark.parametrize("bins", [10, 4])
def test_rmi_vs_ppl_boundaries_match_the_strata(scores: pd.DataFrame, bins: int) -> None:
    fig = plots.rmi_vs_ppl(scores, "strong", bins=bins)
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    assert len(fig.data) == bins
    lines = [s for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1]
    assert len(lines) == bins - 1
    strata = add_strata(scores, "strong", bins=bins)
    lows = strata.groupby("strong_stratum")["strong_nll_q"].min()
    assert [s.x0 for s in lines] == pytest.approx(list(lows.iloc[1:]))
    # Each stratum's points sit between its boundaries.
    edges = [-np.inf, *[s.x0 for s in lines], np.inf]
    for k, trace in enumerate(fig.data):
        assert trace.name == f"stratum {k}"
        assert np.all((np.asarray(trace.x) >= edges[k]) & (np.asarray(trace.x) <= edges[k + 1]))
    assert n_points(fig) == N - len(NAN_STRONG)
    assert fig.layout.xaxis.title.text == "log PPL(Q) (nats/token)"
    assert fig.layout.yaxis.title.text == "RMI (nats)"


def test_rmi_vs_ppl_samples_down_with_a_seed() -> None:
    big = make_scores(3000, seed=1)
    fig = plots.rmi_vs_ppl(big, "weak", max_points=500, seed=4)
    assert n_points(fig) == 500
    assert "random sample of 500 of 2,997 rows (seed 4)" in fig.layout.title.text
    same = plots.rmi_vs_ppl(big, "weak", max_points=500, seed=4)
    other = plots.rmi_vs_ppl(big, "weak", max_points=500, seed=5)
    assert np.array_equal(same.data[0].x, fig.data[0].x)
    assert not np.array_equal(other.data[0].x, fig.data[0].x)
    # The boundaries come from all rows, not from the sample.
    full = plots.rmi_vs_ppl(big, "weak")
    assert [s.x0 for s in fig.layout.shapes] == [s.x0 for s in full.layout.shapes]
    assert "random sample" not in full.layout.title.text


def test_rmi_by_stratum_box_holds_each_strata_quartiles(scores: pd.DataFrame) -> None:
    fig = plots.rmi_by_stratum(scores, "strong", bins=5)
    assert [type(t) for t in fig.data] == [go.Box] * 5
    strata = add_strata(scores, "strong", bins=5)
    for k, trace in enumerate(fig.data):
        v = strata.loc[strata["strong_stratum"] == k, "strong_rmi"].dropna().to_numpy()
        assert trace.median[0] == pytest.approx(np.median(v))
        assert trace.q1[0] <= trace.median[0] <= trace.q3[0]
        assert v.min() <= trace.lowerfence[0] and trace.upperfence[0] <= v.max()
    assert fig.layout.yaxis.title.text == "RMI (nats)"
    assert fig.layout.xaxis.title.text.startswith("PPL(Q) stratum")


def test_rmi_by_stratum_violin_and_bad_kind(scores: pd.DataFrame) -> None:
    fig = plots.rmi_by_stratum(scores, "weak", bins=3, kind="violin")
    assert [type(t) for t in fig.data] == [go.Violin] * 3
    assert sum(len(t.y) for t in fig.data) == N - len(NAN_WEAK)
    with pytest.raises(ValueError, match="kind"):
        plots.rmi_by_stratum(scores, "weak", kind="bars")


# --------------------------------------------------------------------------------------------
# scatter plots of two scores


def test_ifd_vs_rmi_reports_spearman(scores: pd.DataFrame) -> None:
    fig = plots.ifd_vs_rmi(scores, "strong")
    assert [type(t) for t in fig.data] == [go.Scattergl]
    rho = spearman(scores["strong_rmi"], scores["strong_ifd"])
    assert f"Spearman ρ = {rho:.3f}" in fig.layout.title.text
    assert n_points(fig) == N - len(NAN_STRONG)
    assert fig.layout.xaxis.title.text == "RMI (nats)"
    assert fig.layout.yaxis.title.text.startswith("IFD")
    capped = plots.ifd_vs_rmi(scores, "strong", max_points=100)
    assert n_points(capped) == 100
    assert f"Spearman ρ = {rho:.3f}" in capped.layout.title.text  # rho over all rows, not the sample


def test_ifd_vs_rmi_without_ifd_explains(scores: pd.DataFrame) -> None:
    fig = plots.ifd_vs_rmi(scores.drop(columns=["strong_ifd"]), "strong")
    assert is_message(fig)
    assert "IFD" in fig.layout.annotations[0].text


def test_rank_scatter_points_carry_ids_and_ranks(scores: pd.DataFrame) -> None:
    fig = plots.rank_scatter(scores, strong="strong", weak="weak")
    assert [type(t) for t in fig.data] == [go.Scattergl]
    t = fig.data[0]
    both = scores.dropna(subset=["strong_rank", "weak_rank"]).set_index("id")
    assert len(t.customdata) == len(both)
    assert set(t.customdata) == set(both.index)
    for i in (0, 17, len(t.customdata) - 1):
        row = both.loc[t.customdata[i]]
        assert (t.x[i], t.y[i]) == (row["weak_rank"], row["strong_rank"])
    assert "%{customdata}" in t.hovertemplate
    assert fig.layout.xaxis.title.text.startswith("weak")
    assert fig.layout.yaxis.title.text.startswith("strong")


def test_rank_scatter_points_near_diff_zero_are_visible(scores: pd.DataFrame) -> None:
    marker = plots.rank_scatter(scores, strong="strong", weak="weak").data[0].marker
    assert marker.cmid == 0.0  # Diff 0 sits at the colorscale's middle
    assert shows_on_white(marker.colorscale, 0.5, opacity=marker.opacity)
    assert not shows_on_white(go.Scattergl(marker={"colorscale": "RdBu"}).marker.colorscale, 0.5)  # the old one
    # Still diverging: the two ends differ and are both darker than the middle.
    lo, hi = (np.array(pcolors.unlabel_rgb(pcolors.sample_colorscale([list(c) for c in marker.colorscale], [x])[0]))
              for x in (0.0, 1.0))
    mid = np.array(pcolors.unlabel_rgb(pcolors.sample_colorscale([list(c) for c in marker.colorscale], [0.5])[0]))
    assert not np.array_equal(lo, hi) and lo.sum() < mid.sum() and hi.sum() < mid.sum()


def test_rank_scatter_lines_and_quadrant_counts(scores: pd.DataFrame) -> None:
    t, s = 0.2, 0.9
    fig = plots.rank_scatter(scores, strong="strong", weak="weak", diff_threshold=t, sum_threshold=s)
    diff_line, sum_line = fig.layout.shapes
    assert diff_line.y0 - diff_line.x0 == pytest.approx(t) and diff_line.y1 - diff_line.x1 == pytest.approx(t)
    assert sum_line.y0 + sum_line.x0 == pytest.approx(s) and sum_line.y1 + sum_line.x1 == pytest.approx(s)
    q = quadrant_counts(scores, diff_threshold=t, sum_threshold=s)
    texts = [a.text for a in fig.layout.annotations]
    for dk in ("Diff-High", "Diff-Low"):
        for sk in ("Sum-High", "Sum-Low"):
            assert any(x.startswith(f"{dk} ∩ {sk}") and f"<b>{q.loc[dk, sk]:,}</b>" in x for x in texts)
    title = fig.layout.title.text
    assert f"Diff-High {q.loc['Diff-High', 'total']:,}" in title
    assert f"Sum-Low {q.loc['total', 'Sum-Low']:,}" in title


def test_rank_scatter_samples_but_counts_all_rows(scores: pd.DataFrame) -> None:
    fig = plots.rank_scatter(scores, strong="strong", weak="weak", max_points=50, seed=2)
    assert len(fig.data[0].customdata) == 50 == n_points(fig)
    full = plots.rank_scatter(scores, strong="strong", weak="weak")
    assert [a.text for a in fig.layout.annotations] == [a.text for a in full.layout.annotations]
    with pytest.raises(KeyError, match="add_disagreement"):
        plots.rank_scatter(scores.drop(columns=["weak_rank"]), strong="strong", weak="weak")


def test_rank_scatter_escapes_ids_in_hover_only(scores: pd.DataFrame) -> None:
    odd = scores.assign(id=[f"<b>{i}</b>&" for i in range(N)])
    t = plots.rank_scatter(odd, strong="strong", weak="weak").data[0]
    assert "<b>0</b>&" in set(t.customdata)  # raw ids for the app's look-up
    assert "%{text}" in t.hovertemplate
    assert all(x.startswith("&lt;b&gt;") and x.endswith("&amp;") for x in t.text)


# --------------------------------------------------------------------------------------------
# summaries of a selection


def test_retention_figure_draws_the_curve(scores: pd.DataFrame) -> None:
    curve = retention_curve(scores["diff"], [-0.5, 0.0, 0.1, 0.5])
    fig = plots.retention_figure(curve, score_name="diff")
    assert [type(t) for t in fig.data] == [go.Scatter]
    assert list(fig.data[0].x) == [-0.5, 0.0, 0.1, 0.5]
    assert list(fig.data[0].y) == list(curve["fraction"])
    assert list(fig.data[0].customdata) == list(curve["kept"])
    assert fig.layout.xaxis.title.text == "diff threshold"
    assert fig.layout.yaxis.title.text == "fraction of rows kept"


def test_stratum_counts_figure_stacks_to_stratum_size(scores: pd.DataFrame) -> None:
    recipe = parse_recipe({"method": "diff_high", "strong": "strong", "weak": "weak", "budget": 0.25})
    counts = stratum_counts(select(scores, recipe), recipe)
    fig = plots.stratum_counts_figure(counts)
    assert [type(t) for t in fig.data] == [go.Bar, go.Bar]
    assert [t.name for t in fig.data] == ["selected", "not selected"]
    assert fig.layout.barmode == "stack"
    assert sum(fig.data[0].y) == counts["selected"].sum()
    assert list(np.add(fig.data[0].y, fig.data[1].y)) == list(counts["rows"])
    assert counts["stratum"].isna().any() and "none" in fig.data[0].x  # rows without PPL(Q)
    assert fig.layout.yaxis.title.text == "rows"


def test_roc_and_pr_figures() -> None:
    fpr = np.linspace(0, 1, 10_000)
    curves = {"RMI": (fpr, np.sqrt(fpr), 0.75), "IFD <b>": (fpr, fpr, 0.5)}
    roc = plots.roc_figure(curves)
    assert len(roc.data) == 3  # two curves and the chance diagonal
    assert roc.data[0].name == "RMI (AUC 0.750)"
    assert roc.data[1].name == "IFD &lt;b&gt; (AUC 0.500)"
    assert list(roc.data[2].x) == [0, 1] and list(roc.data[2].y) == [0, 1]
    assert len(roc.data[0].x) <= 5000 and roc.data[0].x[0] == 0 and roc.data[0].x[-1] == 1  # thinned, ends kept
    assert roc.layout.xaxis.title.text == "false positive rate"
    pr = plots.pr_figure({"RMI": (fpr, 1 - fpr / 2, 0.61)})
    assert len(pr.data) == 1 and pr.data[0].name == "RMI (AP 0.610)"
    assert pr.layout.xaxis.title.text == "recall" and pr.layout.yaxis.title.text == "precision"
    with pytest.raises(ValueError, match="equal length"):
        plots.roc_figure({"bad": (np.zeros(3), np.zeros(4), 0.5)})


@pytest.mark.parametrize("make", [plots.roc_figure, plots.pr_figure])
def test_roc_and_pr_axes_stay_on_the_unit_square(make) -> None:
    # A locked aspect ratio (scaleanchor) made plotly.js widen the y range to about -0.4..1.4 in a
    # column that is not square: both ranges are fixed to [0, 1] (a little padding) instead.
    x = np.linspace(0, 1, 50)
    fig = make({"RMI": (x, x**0.5, 0.7)})
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        lo, hi = axis.range
        assert -0.05 <= lo <= 0 and 1 <= hi <= 1.05
        assert axis.scaleanchor is None and axis.scaleratio is None
        assert axis.autorange in (None, False)


# --------------------------------------------------------------------------------------------
# one example, and the data


def test_token_heatmap_escapes_and_shows_whitespace() -> None:
    tokens = ["<script>", "alert(1)", "</script>", "a\nb", " x", "&amp;"]
    a = np.array([3.0, 2.0, 1.0, 0.5, 0.2, 1.5])
    b = np.array([1.0, 2.5, 0.5, 0.5, 0.1, 0.5])
    fig = plots.token_heatmap(tokens, a, b)
    assert [type(t) for t in fig.data] == [go.Heatmap, go.Heatmap]
    strings = all_strings(fig.to_plotly_json())
    assert not any("<script>" in s or "</script>" in s for s in strings)
    ticks = list(fig.layout.xaxis.ticktext)
    assert ticks[0] == "&lt;script&gt;" and ticks[2] == "&lt;/script&gt;"
    assert ticks[3] == "a⏎b" and ticks[4] == "·x" and ticks[5] == "&amp;amp;"
    assert "&lt;script&gt;" in fig.data[0].text[0][0]
    assert fig.data[0].text[1][3] == "#3 a⏎b<br>with answer"  # hover names the row
    assert fig.data[1].text[0][0].endswith("<br>explained by answer")
    assert np.allclose(fig.data[0].z, [a, b]) and np.allclose(fig.data[1].z[0], a - b)
    assert f"mean explained (RMI) {np.mean(a - b):.3f}" in fig.layout.title.text


def test_token_heatmap_rows_are_numeric_with_tick_labels() -> None:
    # Two heatmaps on one *categorical* y axis with different categories draw a blank chart in
    # Streamlit's plotly.js: the rows must be numbers, named by tick labels.
    n = 95
    fig = plots.token_heatmap([f"t{i}" for i in range(n)], np.arange(n, dtype=float), np.zeros(n))
    for i, (nll, diff) in enumerate(zip(fig.data[::2], fig.data[1::2]), start=1):
        assert list(nll.y) == [0, 1] and list(diff.y) == [2]
        assert all(isinstance(v, (int, np.integer)) for v in [*nll.y, *diff.y])
        assert nll.yaxis == diff.yaxis == ("y" if i == 1 else f"y{i}")  # both rows of a line share its axis
        axis = fig.layout[f"yaxis{'' if i == 1 else i}"]
        assert axis.type != "category"
        assert list(axis.tickvals) == [0, 1, 2]
        assert list(axis.ticktext) == ["without answer", "with answer", "explained by answer"]
        assert axis.range[0] > axis.range[1]  # reversed: "without answer" on top
        assert sorted(axis.range) == [-0.5, 2.5]  # every row's cells inside, nothing else
    # A token the answer does not explain (difference 0) is still drawn, not white on white.
    assert shows_on_white(fig.layout.coloraxis2.colorscale, 0.5)


def test_token_heatmap_wraps_long_queries() -> None:
    n = 95
    fig = plots.token_heatmap([f"t{i}" for i in range(n)], np.ones(n), np.zeros(n))
    assert len(fig.data) == 6  # 3 lines of at most 40 tokens, two heatmaps each
    widths = [len(t.x) for t in fig.data[::2]]
    assert widths == [40, 40, 15]
    assert fig.layout.xaxis3.ticktext[0] == "t80"
    with pytest.raises(ValueError, match="differ in length"):
        plots.token_heatmap(["a", "b"], [1.0], [1.0, 2.0])


def test_length_histograms() -> None:
    rng = np.random.default_rng(0)
    lengths = pd.DataFrame({"query": rng.integers(5, 300, 500).astype(float), "answer": rng.integers(20, 900, 500)})
    lengths.loc[[1, 2], "query"] = np.nan
    lengths.loc[0, "answer"] = 10**7  # one absurd outlier: bins stop at the 99th percentile
    fig = plots.length_histograms(lengths, unit="tokens")
    assert [type(t) for t in fig.data] == [go.Bar, go.Bar]
    assert [t.name for t in fig.data] == ["query", "answer"]
    assert sum(fig.data[0].y) == 498
    p99 = np.percentile(lengths["answer"], 99)
    assert sum(fig.data[1].y) == int((lengths["answer"] <= p99).sum())
    assert "longest 10,000,000" in fig.layout.title.text
    assert "2 rows without query length left out" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "length (tokens)"


# --------------------------------------------------------------------------------------------
# empty inputs, untouched inputs, boundaries, speed


def test_empty_inputs_give_explanatory_figures(scores: pd.DataFrame) -> None:
    empty = scores.iloc[:0]
    no_scores = scores.assign(**{c: np.nan for c in scores.columns if c.startswith(("strong_", "weak_"))})
    for table in (empty, no_scores):
        assert is_message(plots.rmi_histogram(table, ["strong", "weak"]))
        assert is_message(plots.rmi_ecdf(table, ["strong"]))
        assert is_message(plots.rmi_vs_ppl(table, "strong"))
        assert is_message(plots.rmi_by_stratum(table, "strong"))
        assert is_message(plots.ifd_vs_rmi(table, "strong"))
        assert is_message(plots.rank_scatter(table, strong="strong", weak="weak"))
    assert is_message(plots.rmi_histogram(scores, []))
    assert is_message(plots.retention_figure(retention_curve([]), score_name="diff"))
    assert is_message(plots.stratum_counts_figure(stratum_counts(select(scores, {"method": "random", "budget": 0.1}),
                                                                 parse_recipe({"method": "random", "budget": 0.1}))))
    assert is_message(plots.roc_figure({}))
    assert is_message(plots.pr_figure({}))
    assert is_message(plots.token_heatmap([], [], []))
    assert is_message(plots.length_histograms(pd.DataFrame({"query": [np.nan], "answer": [np.nan]})))


def test_missing_columns_raise(scores: pd.DataFrame) -> None:
    with pytest.raises(KeyError, match="other_rmi"):
        plots.rmi_histogram(scores, ["strong", "other"])
    with pytest.raises(KeyError, match="strong_nll_q"):
        plots.rmi_vs_ppl(scores.drop(columns=["strong_nll_q"]), "strong")
    with pytest.raises(ValueError, match="max_points"):
        plots.rmi_vs_ppl(scores, "strong", max_points=0)


def test_inputs_are_not_mutated(scores: pd.DataFrame) -> None:
    before = scores.copy(deep=True)
    selected = scores["strong_rank"] > 0.5
    plots.rmi_histogram(scores, ["strong", "weak"], selected=selected)
    plots.rmi_ecdf(scores, ["strong", "weak"], selected=selected)
    plots.rmi_vs_ppl(scores, "strong", bins=3)
    plots.rmi_by_stratum(scores, "strong", bins=3)
    plots.ifd_vs_rmi(scores, "strong", max_points=10)
    plots.rank_scatter(scores, strong="strong", weak="weak", max_points=10)
    pd.testing.assert_frame_equal(scores, before)


def test_plots_does_not_import_streamlit() -> None:
    code = "import sys, qaq.plots; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_300k_rows_each_chart_is_fast() -> None:
    big = add_disagreement(make_scores(300_000, seed=5), strong="strong", weak="weak")
    selected = big["diff"] > 0.1
    lengths = pd.DataFrame({"query": big["strong_nll_q"] * 100, "answer": big["weak_nll_q"] * 300})
    calls = {
        "rmi_histogram": lambda: plots.rmi_histogram(big, ["strong", "weak"], selected=selected),
        "rmi_ecdf": lambda: plots.rmi_ecdf(big, ["strong", "weak"], selected=selected),
        "rmi_vs_ppl": lambda: plots.rmi_vs_ppl(big, "strong"),
        "rmi_by_stratum": lambda: plots.rmi_by_stratum(big, "strong"),
        "rmi_by_stratum violin": lambda: plots.rmi_by_stratum(big, "strong", kind="violin"),
        "ifd_vs_rmi": lambda: plots.ifd_vs_rmi(big, "strong"),
        "rank_scatter": lambda: plots.rank_scatter(big, strong="strong", weak="weak"),
        "retention_figure": lambda: plots.retention_figure(retention_curve(big["diff"]), score_name="diff"),
        "length_histograms": lambda: plots.length_histograms(lengths),
    }
    slow = {}
    for name, call in calls.items():
        start = time.perf_counter()
        fig = call()
        fig.to_json()  # what the app pays to ship it
        took = time.perf_counter() - start
        if took > 1.0:
            slow[name] = round(took, 2)
        assert not is_message(fig), name
    assert not slow, f"charts too slow at 300K rows (s): {slow}"
    assert n_points(plots.rank_scatter(big, strong="strong", weak="weak")) == 20_000

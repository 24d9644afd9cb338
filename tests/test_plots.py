"""qaq.plots: trace types and counts, axis titles, strata boundaries, sampling, escaping, speed."""

from __future__ import annotations

import html
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import plotly.colors as pcolors
import plotly.graph_objects as go
import pytest

from qaq import plots
from qaq.plots.text import text_columns
from qaq.select.compare import quadrant_counts, retention_curve
from qaq.select.correlations import spearman
from qaq.select.disagreement import add_disagreement
from qaq.select.recipe_parsing import parse_recipe
from qaq.select.selection import select
from qaq.select.selection_report import stratum_counts

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
        # The hover: both ranks (template), then Diff, Sum and the id (text).
        assert t.text[i].startswith(f"Diff {row['diff']:+.3f} · Sum {row['sum']:.3f}<br><b>{t.customdata[i]}</b>")
    assert "%{y:.3f}" in t.hovertemplate and "%{text}" in t.hovertemplate
    assert fig.layout.xaxis.title.text.startswith("weak")
    assert fig.layout.yaxis.title.text.startswith("strong")
    assert fig.layout.dragmode == "select"  # box selection by default: the app picks rows with it
    assert fig.layout.showlegend is False


def test_rank_scatter_draws_the_selection_and_the_picked_rows(scores: pd.DataFrame) -> None:
    selected = scores["diff"] > 0.2
    picked = ["ex-10", "ex-11", "ex-50"]  # ex-50 has no ranks: not drawn
    fig = plots.rank_scatter(scores, strong="strong", weak="weak", selected=selected, picked=picked, max_points=40)
    rows, ring, square = fig.data
    assert ring.name == f"selected by the recipe ({int(selected.sum())} rows)"
    assert set(ring.customdata) == set(rows.customdata) & set(scores.loc[selected, "id"])  # the drawn ones
    assert ring.marker.symbol == "circle-open" and ring.hoverinfo == "skip"
    assert square.name == "chart filter (2 rows)" and sorted(square.customdata) == ["ex-10", "ex-11"]  # sample or not
    assert square.marker.color == plots.PICKED_COLOR
    assert fig.layout.showlegend is True


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


def test_long_notes_under_a_title_take_more_lines(scores: pd.DataFrame) -> None:
    fig = plots.rank_scatter(scores, strong="strong", weak="weak", max_points=50)
    main, *lines = fig.layout.title.text.split("<br>")
    assert main.startswith("Strong vs weak RMI rank") and len(lines) == 2  # counts; sample and rows left out
    assert lines[0].startswith("<sup>Diff-High") and "random sample of 50" in lines[1]
    assert all(len(line) <= 100 + len("<sup></sup>") for line in lines)
    assert fig.layout.margin.t == 60 + 30 + 16  # room for both
    short = plots.rank_scatter(scores.dropna(subset=["strong_rank", "weak_rank"]), strong="strong", weak="weak")
    assert short.layout.title.text.count("<br>") == 1 and short.layout.margin.t == 90


def test_rank_scatter_escapes_ids_in_hover_only(scores: pd.DataFrame) -> None:
    odd = scores.assign(id=[f"<b>{i}</b>&" for i in range(N)])
    t = plots.rank_scatter(odd, strong="strong", weak="weak").data[0]
    assert "<b>0</b>&" in set(t.customdata)  # raw ids for the app's look-up
    assert "%{text}" in t.hovertemplate
    assert all("<b>&lt;b&gt;" in x and "&lt;/b&gt;&amp;</b>" in x for x in t.text)


def test_row_charts_show_the_start_of_q_and_a_escaped(scores: pd.DataFrame) -> None:
    query = "Write <script>alert(1)</script> a   parser\nfor " + "x" * 200
    texts = scores.assign(query=query, answer="a & b <img src=x onerror=1>")
    for fig in (plots.rank_scatter(texts, strong="strong", weak="weak"), plots.ifd_vs_rmi(texts, "strong"),
                plots.rmi_vs_ppl(texts, "strong")):
        text = fig.data[0].text[0]
        q = text.split("Q: ")[1].split("<br>")[0]
        assert q.startswith("Write &lt;script&gt;alert(1)&lt;/script&gt; a parser for xxx")  # one line
        assert len(html.unescape(q)) == 80 and q.endswith("…")
        assert text.endswith("A: a &amp; b &lt;img src=x onerror=1&gt;")
        assert "<script>" not in text and "<img" not in text
        assert text.count("<") == text.count("<br>") + text.count("<b>") + text.count("</b>")  # only qaq's markup


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
    assert not fig.layout.shapes


def test_retention_figure_marks_the_cut(scores: pd.DataFrame) -> None:
    curve = retention_curve(scores["diff"], [-0.5, 0.0, 0.1, 0.5])
    fig = plots.retention_figure(curve, score_name="diff", cut=[0.1], kept=90)
    (line,) = fig.layout.shapes
    assert (line.name, line.x0, line.x1) == ("cut", 0.1, 0.1)
    marker = fig.data[1]
    assert (marker.name, list(marker.x)) == ("cut", [0.1])
    assert marker.y[0] == pytest.approx(curve.loc[2, "fraction"])  # on the curve
    assert "current selection: cut 0.1, 90 rows kept" in fig.layout.title.text


def test_retention_figure_draws_a_band_two_sided(scores: pd.DataFrame) -> None:
    curve = retention_curve(scores["strong_rank"])
    fig = plots.retention_figure(curve, score_name="strong_rank", cut=(0.5, 0.75), kept=97)
    band, lo, hi = fig.layout.shapes
    assert (band.type, band.name, band.x0, band.x1) == ("rect", "band", 0.5, 0.75)
    assert [(s.name, s.x0) for s in (lo, hi)] == [("cut", 0.5), ("cut", 0.75)]
    # The share between the two marks is what the band keeps (lo < rank <= hi).
    y_lo, y_hi = fig.data[1].y
    ranked = scores["strong_rank"].dropna()
    assert y_lo - y_hi == pytest.approx(((ranked > 0.5) & (ranked <= 0.75)).mean(), abs=0.01)
    assert "cut between 0.5 and 0.75, 97 rows kept" in fig.layout.title.text
    with pytest.raises(ValueError, match="at most two"):
        plots.retention_figure(curve, score_name="x", cut=(0.1, 0.2, 0.3))


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


def _boxes_overlap(fig: go.Figure) -> list[tuple[int, int]]:
    """Pairs of token cells of a token_text figure whose boxes intersect (same line, x spans overlapping)."""
    (bar,) = fig.data
    half = bar.width / 2
    boxes = [(b, b + w, y - half, y + half) for b, w, y in zip(bar.base, bar.x, bar.y)]
    hits = []
    for i, (x0, x1, y0, y1) in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            u0, u1, v0, v1 = boxes[j]
            if x0 < u1 and u0 < x1 and y0 < v1 and v0 < y1:
                hits.append((i, j))
    return hits


def test_token_text_escapes_and_shows_whitespace() -> None:
    tokens = ["<script>", "alert(1)", "</script>", "a\nb", " x", "&amp;", "\t", ""]
    a = np.array([3.0, 2.0, 1.0, 0.5, 0.2, 1.5, 0.1, 0.4])
    b = np.array([1.0, 2.5, 0.5, 0.5, 0.1, 0.5, 0.1, 0.2])
    fig = plots.token_text(tokens, a, b, span="query")
    (bar,) = fig.data
    assert isinstance(bar, go.Bar) and bar.orientation == "h" and bar.textangle == 0
    assert bar.textposition == "inside" and bar.constraintext == "inside"
    strings = all_strings(fig.to_plotly_json())
    assert not any("<script>" in s or "</script>" in s for s in strings)
    assert list(bar.text) == ["&lt;script&gt;", "alert(1)", "&lt;/script&gt;", "a⏎b", "\u00a0x", "&amp;amp;", "⇥", "⋯"]
    assert bar.hovertext[3] == "#3 a⏎b<br>alone 0.500 · given answer 0.500<br>explained +0.000 nats"
    assert bar.hovertext[4].startswith("#4 ·x<br>")  # spaces visible in the hover
    assert np.allclose(bar.marker.color, a - b)  # coloured by what the answer explains, by default
    assert f"mean explained {np.mean(a - b):.3f} nats (RMI)" in fig.layout.title.text
    assert fig.layout.coloraxis.cmid == 0 and shows_on_white(fig.layout.coloraxis.colorscale, 0.5)
    assert fig.layout.uniformtext.mode == "hide" and fig.layout.uniformtext.minsize >= 8


def test_token_text_colours_and_spans() -> None:
    a, b = np.array([2.0, 4.0, 1.0]), np.array([1.0, 1.0, 2.0])
    alone = plots.token_text(["x", "y", "z"], a, b, span="answer", color="alone")
    assert np.allclose(alone.data[0].marker.color, a) and alone.layout.coloraxis.cmin == 0
    assert alone.layout.height == 180  # one line: the least height, room for the colour bar
    given = plots.token_text(["x", "y", "z"], a, b, span="answer", color="given")
    assert np.allclose(given.data[0].marker.color, b)
    assert given.layout.title.text.startswith("Answer tokens: NLL given the query")
    assert f"ratio {b.mean() / a.mean():.3f} (IFD)" in given.layout.title.text
    assert "given query 1.000" in given.data[0].hovertext[0]
    with pytest.raises(ValueError, match="differ in length"):
        plots.token_text(["a", "b"], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="color must be one of"):
        plots.token_text(["a"], [1.0], [1.0], color="nll")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="span must be"):
        plots.token_text(["a"], [1.0], [1.0], span="context")  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(4))
def test_token_cells_never_overlap_for_any_length(seed: int) -> None:
    """Random tokens of every length (up to longer than a line), newlines included: every cell
    inside its line, no two cells of a figure intersecting, the text order kept."""
    rng = np.random.default_rng(seed)
    alphabet = list("abcdefghij ()[]:=<>&") + ["\n", "\t", "    ", "日本"]
    n = int(rng.integers(300, 600))
    tokens = ["".join(rng.choice(alphabet, size=int(rng.choice([1, 2, 3, 5, 8, 13, 120])))) for _ in range(n)]
    cells = plots.token_cells(tokens, width=plots.TEXT_WIDTH)
    assert len(cells) == n
    for c in cells:
        assert 0 <= c.start < c.end <= plots.TEXT_WIDTH + 1e-9
        assert c.end - c.start == pytest.approx(text_columns(c.label) + 1)  # wide characters take two columns
    for prev, nxt in zip(cells, cells[1:]):  # reading order: down the lines, left to right on each
        assert (nxt.line, nxt.start) > (prev.line, prev.start)
        if nxt.line == prev.line:
            assert nxt.start >= prev.end + 0.2  # a gap between neighbours
    fig = plots.token_text(tokens, rng.gamma(2, 1, n), rng.gamma(2, 1, n), span="answer")
    assert _boxes_overlap(fig) == []
    assert list(fig.data[0].y) == [c.line for c in cells]
    assert fig.layout.height == 110 + 24 * (cells[-1].line + 1)  # the height grows with the lines, not the labels


def test_token_cells_wrap_like_text() -> None:
    cells = plots.token_cells(["def", " f", "():\n", "    return", " 1", "x" * 100], width=20)
    assert [(c.line, c.label) for c in cells] == [
        (0, "def"), (0, "\u00a0f"), (0, "():⏎"), (1, "\u00a0" * 4 + "return"), (1, "\u00a01"), (2, "x" * 18 + "…")]
    (wide,) = plots.token_cells(["日本語" * 10], width=20)  # 60 columns: cut to the line, two per character
    assert (wide.label, wide.end) == ("日本語" * 3 + "…", 20.0)  # 19 columns and the padding
    newline_first = plots.token_cells(["x", "\n    y"], width=20)
    assert [c.line for c in newline_first] == [0, 1]  # the token that starts a line starts it
    with pytest.raises(ValueError, match="width"):
        plots.token_cells(["a"], width=2)


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
    assert is_message(plots.token_text([], [], []))
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

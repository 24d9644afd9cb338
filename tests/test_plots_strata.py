"""qaq.plots.strata: RMI vs PPL(Q) with the stratum boundaries and counts, RMI per stratum, the selection on both."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from test_plots import NAN_STRONG, NAN_WEAK, N, make_scores, n_points

from qaq import plots
from qaq.select.disagreement import add_disagreement
from qaq.select.selection_report import MIN_STRATUM_ROWS
from qaq.select.strata import add_strata


@pytest.fixture()
def scores() -> pd.DataFrame:
    return add_disagreement(make_scores(), strong="strong", weak="weak")


def boundary_lines(fig: go.Figure) -> list[float]:
    return [s.x0 for s in fig.layout.shapes if s.name == "boundary" and s.x0 == s.x1]


def counts(fig: go.Figure) -> dict[str, str]:
    return {a.name: a.text for a in fig.layout.annotations if a.name and a.name.startswith("stratum")}


def point_colors(trace: go.Scattergl) -> list[str]:
    """The colour each point is drawn in (its value on the stepped colour scale)."""
    m = trace.marker
    edges = [float(e) for e, _ in m.colorscale]
    at = [(v - m.cmin) / (m.cmax - m.cmin) for v in m.color]
    return [m.colorscale[max(i for i, e in enumerate(edges) if e <= p)][1] for p in at]


@pytest.mark.parametrize("bins", [10, 4])
def test_rmi_vs_ppl_quantile_boundaries_and_counts(scores: pd.DataFrame, bins: int) -> None:
    fig = plots.rmi_vs_ppl(scores, "strong", bins=bins)
    (rows,) = fig.data
    assert isinstance(rows, go.Scattergl)
    strata = add_strata(scores, "strong", bins=bins)
    lows = strata.groupby("strong_stratum")["strong_nll_q"].min()
    assert boundary_lines(fig) == pytest.approx(list(lows.iloc[1:]))
    # Each point is coloured by its stratum and sits between that stratum's boundaries.
    edges = [-np.inf, *boundary_lines(fig), np.inf]
    codes = np.asarray(rows.marker.color)
    x = np.asarray(rows.x)
    assert all(np.all((x[codes == k] >= edges[k]) & (x[codes == k] <= edges[k + 1])) for k in range(bins))
    assert n_points(fig) == N - len(NAN_STRONG)
    # Every stratum is labelled with its row count over the whole table.
    sizes = strata["strong_stratum"].value_counts()
    assert counts(fig) == {f"stratum {k}": f"{sizes[k]:,}" for k in range(bins)}
    assert f"{bins} quantile strata of PPL(Q)" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "log PPL(Q) (nats/token)"
    assert fig.layout.yaxis.title.text == "RMI (nats)"
    # A drag selects an x range: the app makes its edges boundaries.
    assert (fig.layout.dragmode, fig.layout.selectdirection) == ("select", "h")


def test_rmi_vs_ppl_custom_boundaries(scores: pd.DataFrame) -> None:
    cuts = [0.5, 1.2, 40.0]  # the last one lies above every row: stratum 3 is empty
    fig = plots.rmi_vs_ppl(scores, "strong", boundaries=cuts, bins=None)
    assert boundary_lines(fig) == cuts
    assert {s.line.dash for s in fig.layout.shapes} == {"solid"}
    nll = scores["strong_nll_q"].dropna()
    expected = [(nll < 0.5).sum(), ((nll >= 0.5) & (nll < 1.2)).sum(), (nll >= 1.2).sum(), 0]
    assert counts(fig) == {f"stratum {k}": f"{n:,}" for k, n in enumerate(expected)}
    by_name = {a.name: a for a in fig.layout.annotations}
    assert by_name["stratum 3"].font.color == by_name["stratum 3"].font.color != by_name["stratum 0"].font.color
    assert nll.min() <= by_name["stratum 3"].x <= nll.max()  # kept on the chart
    assert "4 strata at your boundaries" in fig.layout.title.text
    # The same strata as the library's: the points' stratum numbers follow add_strata's.
    lib = add_strata(scores, "strong", boundaries=cuts)["strong_stratum"].dropna().astype(int)
    assert sorted(np.asarray(fig.data[0].marker.color).tolist()) == sorted(lib.tolist())


def test_small_strata_are_counted_in_red() -> None:
    few = add_disagreement(make_scores(60, seed=2, nan=False), strong="strong", weak="weak")
    fig = plots.rmi_vs_ppl(few, "strong", bins=2)
    assert {a.font.color for a in fig.layout.annotations} == {"rgb(60,60,60)"}  # 30 rows each
    fig = plots.rmi_vs_ppl(few, "strong", bins=4)
    assert all(int(a.text) < MIN_STRATUM_ROWS for a in fig.layout.annotations)
    assert {a.font.color for a in fig.layout.annotations} == {"rgb(200,30,30)"}


@pytest.mark.parametrize("bins", [20, 50])
def test_neighbouring_strata_look_different_up_to_k_50(bins: int) -> None:
    big = make_scores(3000, seed=1)
    fig = plots.rmi_vs_ppl(big, "weak", bins=bins)
    (rows,) = fig.data
    colour = dict(zip(np.asarray(rows.marker.color).tolist(), point_colors(rows)))
    assert len(colour) == bins
    assert all(colour[k] != colour[k + 1] for k in range(bins - 1))
    assert len(set(colour.values())) == 10  # ten hues in turn
    assert fig.layout.showlegend is False  # no legend to scroll: the counts above name the strata
    assert all(a.textangle == -90 for a in fig.layout.annotations)  # upright counts would overlap


def test_counts_of_narrow_strata_take_turns_on_two_lines(scores: pd.DataFrame) -> None:
    wide = plots.rmi_vs_ppl(scores, "strong", boundaries=[1.0, 2.0], bins=None)
    assert {a.yshift for a in wide.layout.annotations} == {0}  # room enough: one line
    narrow = plots.rmi_vs_ppl(scores, "strong", boundaries=[1.0, 1.01, 1.02, 1.03], bins=None)
    shifts = [a.yshift for a in sorted(narrow.layout.annotations, key=lambda a: a.x)]
    assert shifts[1] > 0 and shifts[2] == 0 and shifts[3] > 0  # every second label one line up
    assert narrow.layout.margin.t > wide.layout.margin.t  # and the plot leaves room for it


def test_rmi_vs_ppl_draws_the_selection(scores: pd.DataFrame) -> None:
    selected = scores["strong_rank"] > 0.75
    fig = plots.rmi_vs_ppl(scores, "strong", selected=selected)
    rows, ring = fig.data
    assert ring.name == f"selected by the recipe ({int(selected.sum())} rows)"
    on = scores[selected & scores["strong_rmi"].notna()]
    assert sorted(ring.x) == sorted(on["strong_nll_q"]) and sorted(ring.y) == sorted(on["strong_rmi"])
    assert ring.marker.symbol == "circle-open" and ring.hoverinfo == "skip"
    assert fig.layout.showlegend is True


def test_rmi_vs_ppl_samples_down_with_a_seed() -> None:
    big = make_scores(3000, seed=1)
    fig = plots.rmi_vs_ppl(big, "weak", max_points=500, seed=4)
    assert n_points(fig) == 500
    assert "random sample of 500 of 2,997 rows (seed 4)" in fig.layout.title.text
    same = plots.rmi_vs_ppl(big, "weak", max_points=500, seed=4)
    other = plots.rmi_vs_ppl(big, "weak", max_points=500, seed=5)
    assert np.array_equal(same.data[0].x, fig.data[0].x)
    assert not np.array_equal(other.data[0].x, fig.data[0].x)
    # The boundaries and the counts come from all rows, not from the sample.
    full = plots.rmi_vs_ppl(big, "weak")
    assert boundary_lines(fig) == boundary_lines(full) and counts(fig) == counts(full)
    assert "random sample" not in full.layout.title.text


def test_rmi_by_stratum_box_holds_each_strata_quartiles(scores: pd.DataFrame) -> None:
    selected = scores["diff"] > 0.1
    fig = plots.rmi_by_stratum(scores, "strong", bins=5, selected=selected)
    everything, chosen = fig.data
    assert [type(t) for t in fig.data] == [go.Box, go.Box]
    assert list(everything.x) == ["0", "1", "2", "3", "4"]
    strata = add_strata(scores, "strong", bins=5)
    for trace, mask in ((everything, np.ones(N, bool)), (chosen, selected.to_numpy())):
        for i, k in enumerate(trace.x):
            in_k = (strata["strong_stratum"] == int(k)).to_numpy(dtype=bool, na_value=False)
            v = strata.loc[mask & in_k, "strong_rmi"].dropna().to_numpy()
            assert trace.median[i] == pytest.approx(np.median(v))
            assert trace.q1[i] <= trace.median[i] <= trace.q3[i]
            assert v.min() <= trace.lowerfence[i] and trace.upperfence[i] <= v.max()
    assert chosen.name.startswith("selected by the recipe") and fig.layout.boxmode == "group"
    assert fig.layout.yaxis.title.text == "RMI (nats)"
    assert fig.layout.xaxis.title.text.startswith("PPL(Q) stratum")
    assert fig.layout.xaxis.ticktext[0].startswith("0<br>")  # with its PPL(Q) range


def test_rmi_by_stratum_violin_and_bad_kind(scores: pd.DataFrame) -> None:
    fig = plots.rmi_by_stratum(scores, "weak", bins=3, kind="violin")
    (trace,) = fig.data
    assert isinstance(trace, go.Violin) and trace.side == "both"
    assert len(trace.y) == N - len(NAN_WEAK) and set(trace.x) == {"0", "1", "2"}
    split = plots.rmi_by_stratum(scores, "weak", bins=3, kind="violin", selected=scores["diff"] > 0.1)
    assert [t.side for t in split.data] == ["negative", "positive"]  # all rows left, selected right
    with pytest.raises(ValueError, match="kind"):
        plots.rmi_by_stratum(scores, "weak", kind="bars")


def test_rmi_by_stratum_keeps_empty_custom_strata_on_the_axis(scores: pd.DataFrame) -> None:
    fig = plots.rmi_by_stratum(scores, "strong", boundaries=[1.0, 50.0], bins=None)
    assert list(fig.data[0].x) == ["0", "1"]
    assert list(fig.layout.xaxis.categoryarray) == ["0", "1", "2"]
    assert fig.layout.xaxis.ticktext[2] == "2<br>(empty)"
    many = plots.rmi_by_stratum(make_scores(3000, seed=1), "weak", bins=30)
    assert list(many.layout.xaxis.ticktext[:3]) == ["0", "1", "2"]  # no ranges: they would overlap


def test_strata_charts_explain_empty_input_and_keep_theirs(scores: pd.DataFrame) -> None:
    before = scores.copy(deep=True)
    plots.rmi_vs_ppl(scores, "strong", boundaries=[1.0], bins=None, selected=scores["diff"] > 0)
    plots.rmi_by_stratum(scores, "strong", boundaries=[1.0], bins=None, kind="violin", selected=scores["diff"] > 0)
    pd.testing.assert_frame_equal(scores, before)
    empty = scores.iloc[:0]
    for fig in (plots.rmi_vs_ppl(empty, "strong", boundaries=[1.0]), plots.rmi_by_stratum(empty, "strong")):
        assert len(fig.data) == 0 and len(fig.layout.annotations) == 1

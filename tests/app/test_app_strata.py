"""Strata and chart selections in the app: boundaries typed in the sidebar or dragged on Distributions, the
warnings about small and empty strata, and the rank scatter's chart filter on Disagreement."""

from __future__ import annotations

import app_tables
import numpy as np
from conftest import PAGES, charts, no_exception, open_app, table

from qaq.app.boundaries import snap
from qaq.io.datasets import load_dataset
from qaq.io.scorefile import load_scores
from qaq.select.selection import attach_scores
from qaq.select.strata import add_strata


def drag(x0: float, x1: float) -> dict:
    """What Streamlit reports for a box dragged from x0 to x1 on a chart (no points needed)."""
    return {"selection": {"points": [], "point_indices": [], "lasso": [],
                          "box": [{"xref": "x", "yref": "y", "x": [x0, x1], "y": [-1.0, 3.0]}]}}


def pick(*ids: str) -> dict:
    return {"selection": {"points": [{"customdata": i} for i in ids], "point_indices": list(range(len(ids))),
                          "box": [{"xref": "x", "yref": "y", "x": [0.1, 0.4], "y": [0.5, 0.9]}], "lasso": []}}


def weak_nll_q(data, scores) -> np.ndarray:
    t = attach_scores(load_dataset(data), load_scores(scores)[0])
    return t["weak_nll_q"].to_numpy(dtype=float, na_value=np.nan)


def strata_chart(at) -> tuple[list[float], list[int]]:
    """(boundary lines, row counts above the strata) of the RMI vs PPL(Q) chart."""
    fig = charts(at)["rmi_vs_ppl"]
    return ([s["x0"] for s in fig["layout"].get("shapes", []) if s["name"] == "boundary"],
            [int(a["text"]) for a in fig["layout"]["annotations"]])


# ------------------------------------------------------------------------------------- boundaries


def test_a_drag_on_rmi_vs_ppl_sets_boundaries_and_the_counts_follow(pair):
    data, scores = pair
    at = open_app(data, scores, page="distributions", bins=1)  # K = 1: no boundary yet
    assert strata_chart(at) == ([], [59])
    at.session_state["rmi_vs_ppl"] = drag(3.5, 2.5)
    at.run()
    no_exception(at)
    nll = weak_nll_q(data, scores)
    cuts = (snap(2.5, nll), snap(3.5, nll))
    assert at.session_state["boundaries"] == cuts
    assert abs(cuts[0] - 2.5) <= 0.02 and abs(cuts[1] - 3.5) <= 0.02  # near where the box was dragged
    lines, rows = strata_chart(at)
    assert lines == list(cuts)
    expected = add_strata(attach_scores(load_dataset(data), load_scores(scores)[0]), "weak", boundaries=cuts)
    assert rows == expected["weak_stratum"].value_counts().sort_index().tolist()
    assert sum(rows) == 59 and len(rows) == 3
    # The sidebar shows them, K is off until reset, and every page ranks with them.
    assert at.sidebar.text_input(key="boundaries_text").value == ", ".join(f"{c:g}" for c in cuts)
    assert at.sidebar.slider(key="bins").disabled
    assert any(c.value.startswith("3 strata at these boundaries") for c in at.sidebar.caption)
    assert charts(at)["rmi_by_stratum"]["layout"]["xaxis"]["categoryarray"] == ["0", "1", "2"]
    at.button(key="dist_reset_boundaries").click().run()
    assert at.session_state["boundaries"] is None and at.sidebar.text_input(key="boundaries_text").value == ""
    assert strata_chart(at) == ([], [59]) and not at.sidebar.slider(key="bins").disabled


def test_a_drag_adds_its_edges_to_the_quantile_boundaries(pair):
    data, scores = pair
    at = open_app(data, scores, page="distributions", bins=4)
    before, _ = strata_chart(at)
    at.session_state["rmi_vs_ppl"] = drag(1.0, 99.0)  # the right edge lies past every row: left out
    at.run()
    no_exception(at)
    nll = weak_nll_q(data, scores)
    assert len(at.session_state["boundaries"]) == 4 and snap(1.0, nll) in at.session_state["boundaries"]
    # The quantile edges, as short cut points, keep the rows where they were.
    quantile = add_strata(attach_scores(load_dataset(data), load_scores(scores)[0]), "weak", bins=4)
    sizes = quantile["weak_stratum"].value_counts().sort_index().tolist()
    lines, rows = strata_chart(at)
    assert lines[1:] == [c for c in at.session_state["boundaries"] if c > 1.0]
    assert np.allclose(lines[1:], before, atol=0.05)
    assert rows[0] + rows[1] == sizes[0] and rows[2:] == sizes[1:]


def test_typed_boundaries_and_what_is_wrong_with_them(pair):
    at = open_app(*pair, page="distributions")
    box = at.sidebar.text_input(key="boundaries_text")
    box.set_value("3.5 2.5, 3").run()
    no_exception(at)
    assert at.session_state["boundaries"] == (2.5, 3.0, 3.5)
    assert at.sidebar.text_input(key="boundaries_text").value == "2.5, 3, 3.5"  # as they are used
    assert strata_chart(at)[0] == [2.5, 3.0, 3.5]
    at.sidebar.text_input(key="boundaries_text").set_value("2.5, three").run()
    no_exception(at)
    assert at.session_state["boundaries"] == (2.5, 3.0, 3.5)  # unchanged
    assert [e.value for e in at.sidebar.error] == [
        "'three' is not a number: give log PPL(Q) values (nats per token) separated by commas, e.g. 2.5, 3, 3.5. "
        "Still in use: 2.5, 3, 3.5."]
    at.sidebar.text_input(key="boundaries_text").set_value("").run()
    assert at.session_state["boundaries"] is None and not at.sidebar.error


def test_small_and_empty_strata_are_warned_about_with_the_numbers(tmp_path):
    data, scores = app_tables.write_pair(tmp_path, 5, xss=False)  # 4 scored rows (row 3 is skipped)
    at = open_app(data, scores, page="distributions")
    no_exception(at)
    warnings = [w.value for w in at.main.warning]
    assert warnings[0].startswith("6 of the 10 strata of weak hold no row (stratum 1, 3, 4, 6, 8, 9) with "
                                  "K = 10 quantile strata over 4 rows")
    assert warnings[1].startswith("4 of the 10 strata of weak have fewer than 20 rows (stratum 0, 2, 5, 7; "
                                  "the smallest 1)")
    # The same empty strata are named on Select & export, where a band there selects nothing.
    at.switch_page(PAGES["select"]).run()
    assert any(w.value.startswith("6 of the 10 strata of strong hold no row") for w in at.main.warning)
    at.sidebar.slider(key="bins").set_value(1).run()
    at.switch_page(PAGES["distributions"]).run()
    assert [w.value for w in at.main.warning] == [
        "1 of the 1 strata of weak have fewer than 20 rows (stratum 0; the smallest 4): ranks within a stratum of "
        "4 rows move in steps of 25%, so a band keeps an uneven share there; use a smaller K."]


# ----------------------------------------------------------------------------------- chart filter


def test_a_selection_on_the_rank_scatter_becomes_the_chart_filter(pair):
    at = open_app(*pair, page="disagreement")
    at.session_state["rank_scatter"] = pick("r000010", "r000020", "r000030")
    at.run()
    no_exception(at)
    assert at.session_state["chart_filter"].ids == ("r000010", "r000020", "r000030")
    chip = ":material/filter_alt: **Chart filter**: 3 rows picked on the rank scatter"
    assert [m.value for m in at.main.markdown].count(chip) == 1 and chip in [m.value for m in at.sidebar.markdown]
    fig = charts(at)["rank_scatter"]
    assert sorted(values_of(fig["data"][-1]["customdata"])) == ["r000010", "r000020", "r000030"]
    # The example opens right under the chart's table.
    assert table(at, "picked_points")["id"].tolist() == ["r000010", "r000020", "r000030"]
    assert at.session_state["example_id"] == "r000010"
    # Moving a threshold keeps it; the Clear button drops it, and the old selection does not come back.
    at.slider(key="diff_threshold").set_value(0.35).run()
    assert at.session_state["chart_filter"].ids == ("r000010", "r000020", "r000030")
    at.button(key="disagreement_clear_chart_filter").click().run()
    no_exception(at)
    assert at.session_state["chart_filter"] is None
    at.run()
    assert at.session_state["chart_filter"] is None
    assert table(at, "disagreed_table").shape[0] == 20  # back to the most disagreed rows


def test_counts_that_do_not_add_up_are_explained(pair):
    at = open_app(*pair, page="disagreement", sum_threshold=1.0)
    captions = [c.value for c in at.main.caption]
    metrics = {m.label: int(m.value) for m in at.metric if m.label.endswith(("High", "Low"))}
    on = 59 - metrics["Sum-High"] - metrics["Sum-Low"]
    assert on > 0  # ranks i/n of equal-sized strata: sums of exactly 1 are common
    assert (f"Sum-High + Sum-Low = {59 - on} of the 59 ranked rows: {on} rows have Sum exactly 1, in neither half "
            "(both are strict: Sum > 1 and Sum < 1).") in captions
    assert "1 of the 60 rows has no rank from both models (skipped or unscored)." in captions


def values_of(v) -> list:
    from conftest import values

    return values(v)

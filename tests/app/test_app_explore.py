"""Distributions and Disagreement: the expected charts, controls that change counts, examples (Browse: test_app_browse.py)."""

from __future__ import annotations

import numpy as np
from conftest import PAGES, charts, metrics, no_exception, open_app, table, values

from qaq.io.datasets import load_dataset
from qaq.io.scorefile import load_scores
from qaq.select.compare import quadrant_counts
from qaq.select.correlations import strong_weak_spearman
from qaq.select.disagreement import add_disagreement
from qaq.select.selection import attach_scores


def reference_table(data, scores, **kw):
    """The working table built straight from the library, to check the app against."""
    return add_disagreement(attach_scores(load_dataset(data), load_scores(scores)[0]), strong="strong",
                            weak="weak", **kw)


# ------------------------------------------------------------------------------- Distributions


def test_distribution_charts(pair):
    at = open_app(*pair, page="distributions")
    no_exception(at)
    figs = charts(at)
    assert list(figs) == ["rmi_histogram", "rmi_ecdf", "rmi_vs_ppl", "rmi_by_stratum", "ifd_vs_rmi"]
    assert [t["name"] for t in figs["rmi_histogram"]["data"]] == ["weak", "strong"]
    assert sum(values(figs["rmi_histogram"]["data"][0]["y"])) == 59  # every scored row, once
    assert [t["type"] for t in figs["rmi_vs_ppl"]["data"]] == ["scattergl"]  # no recipe yet: no selection drawn
    assert len(figs["rmi_vs_ppl"]["layout"]["shapes"]) == 9  # the stratum boundaries
    labels = [a["text"] for a in figs["rmi_vs_ppl"]["layout"]["annotations"]]
    assert len(labels) == 10 and sum(map(int, labels)) == 59  # rows per stratum, every scored row once
    assert figs["rmi_vs_ppl"]["layout"]["dragmode"] == "select"
    assert {t["type"] for t in figs["rmi_by_stratum"]["data"]} == {"box"}
    assert "Spearman" in figs["ifd_vs_rmi"]["layout"]["title"]["text"]


def test_distribution_controls(pair):
    at = open_app(*pair, page="distributions")
    at.multiselect(key="dist_models").set_value(["strong"])
    at.radio(key="dist_kind").set_value("violin")
    at.selectbox(key="dist_model").set_value("strong").run()
    no_exception(at)
    figs = charts(at)
    assert [t["name"] for t in figs["rmi_histogram"]["data"]] == ["strong"]
    assert {t["type"] for t in figs["rmi_by_stratum"]["data"]} == {"violin"}
    assert figs["rmi_vs_ppl"]["layout"]["title"]["text"].startswith("RMI vs log PPL(Q): strong")
    at.sidebar.slider(key="bins").set_value(4).run()
    assert len(charts(at)["rmi_vs_ppl"]["layout"]["shapes"]) == 3
    assert len(charts(at)["rmi_vs_ppl"]["layout"]["annotations"]) == 4


def test_the_current_selection_is_drawn_on_the_distributions(pair):
    at = open_app(*pair, page="select")
    selected = int(metrics(at)["Selected"])
    at.switch_page(PAGES["distributions"]).run()
    no_exception(at)
    traces = {t["name"]: t for t in charts(at)["rmi_histogram"]["data"]}
    assert list(traces) == ["weak", "weak: selected", "strong", "strong: selected"]
    assert sum(values(traces["strong: selected"]["y"])) == selected == 15
    figs = charts(at)
    assert "strong: selected" in [t["name"] for t in figs["rmi_ecdf"]["data"]]
    # Dark rings on the scatter (the weak model's drawn rows the recipe keeps), a second box per stratum.
    rows, ring = figs["rmi_vs_ppl"]["data"]
    assert ring["name"] == "selected by the recipe (15 rows)" and 0 < len(values(ring["x"])) <= 15
    assert [t["name"] for t in figs["rmi_by_stratum"]["data"]] == ["all rows", "selected by the recipe (15 rows)"]
    assert [t["name"] for t in figs["ifd_vs_rmi"]["data"]] == ["rows", "selected by the recipe (15 rows)"]


# -------------------------------------------------------------------------------- Disagreement


def test_quadrants_match_the_library_and_follow_the_slider(pair):
    data, scores = pair
    ref = reference_table(data, scores)
    at = open_app(data, scores, page="disagreement")
    no_exception(at)
    for t in (0.1, 0.4):
        at.slider(key="diff_threshold").set_value(t).run()
        q = quadrant_counts(ref, diff_threshold=t, sum_threshold=1.0)
        assert metrics(at) == {"Diff-High": str(q.loc["Diff-High", "total"]), "Diff-Low": str(q.loc["Diff-Low", "total"]),
                               "Sum-High": str(q.loc["total", "Sum-High"]), "Sum-Low": str(q.loc["total", "Sum-Low"]),
                               "Spearman of strong and weak RMI (all rows)":
                                   f"{strong_weak_spearman(ref, strong='strong', weak='weak')['spearman'].iloc[0]:.3f}"}
    assert int(metrics(at)["Diff-High"]) < int(quadrant_counts(ref, diff_threshold=0.1)["total"]["Diff-High"])
    fig = charts(at)["rank_scatter"]
    (trace,) = fig["data"]
    assert sorted(values(trace["customdata"])) == sorted(ref.loc[ref["diff"].notna(), "id"])
    assert [s["name"] for s in fig["layout"]["shapes"]] == ["diff = 0.4", "sum = 1"]


def test_selected_points_open_their_examples(pair):
    at = open_app(*pair, page="disagreement")
    at.session_state["rank_scatter"] = {"selection": {"points": [{"customdata": "r000010"}, {"customdata": "r000020"}],
                                                      "point_indices": [0, 1], "box": [], "lasso": []}}
    at.run()
    no_exception(at)
    assert "**The chart filter's 2 rows** (pick one to open it below)" in [m.value for m in at.markdown]
    assert table(at, "picked_points")["id"].tolist() == ["r000010", "r000020"]
    assert at.session_state["example_id"] == "r000010"
    assert any("`r000010`" in m.value for m in at.markdown)


def test_most_disagreed_examples(pair):
    data, scores = pair
    at = open_app(data, scores, page="disagreement")
    top = table(at, "disagreed_table")
    assert len(top) == 20
    assert np.all(np.diff(top["diff"].abs().to_numpy()) <= 0)
    at.session_state["disagreed_table"] = {"selection": {"rows": [3], "columns": [], "cells": []}}
    at.run()
    no_exception(at)
    assert at.session_state["example_id"] == top["id"].iloc[3]
    assert at.code[0].value == load_dataset(data).set_index("id").loc[top["id"].iloc[3], "query"]

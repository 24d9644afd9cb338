"""Distributions, Disagreement and Browse: the expected charts, controls that change counts, examples."""

from __future__ import annotations

import json

import app_tables
import numpy as np
import pytest
from conftest import PAGES, charts, metrics, no_exception, open_app, table, values

from qaq.app import state, views
from qaq.io.datasets import load_dataset
from qaq.io.labels import labels_path, load_labels
from qaq.io.scorefile import load_scores, write_scores
from qaq.select.compare import quadrant_counts
from qaq.select.correlations import strong_weak_spearman
from qaq.select.selection import attach_scores
from qaq.select.strata import add_disagreement


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
    assert {t["type"] for t in figs["rmi_vs_ppl"]["data"]} == {"scattergl"}
    assert len(figs["rmi_vs_ppl"]["data"]) == 10  # one trace per stratum
    assert len(figs["rmi_vs_ppl"]["layout"]["shapes"]) == 9  # the stratum boundaries
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
    assert len(charts(at)["rmi_vs_ppl"]["data"]) == 4


def test_the_current_selection_is_drawn_on_the_distributions(pair):
    at = open_app(*pair, page="select")
    selected = int(metrics(at)["Selected"])
    at.switch_page(PAGES["distributions"]).run()
    no_exception(at)
    traces = {t["name"]: t for t in charts(at)["rmi_histogram"]["data"]}
    assert list(traces) == ["weak", "weak: selected", "strong", "strong: selected"]
    assert sum(values(traces["strong: selected"]["y"])) == selected == 15
    assert "strong: selected" in [t["name"] for t in charts(at)["rmi_ecdf"]["data"]]


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
    assert "**2 selected points**" in [m.value for m in at.markdown]
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


# ------------------------------------------------------------------------------------- Browse


def test_browse_sorts_filters_and_searches(pair):
    data, scores = pair
    ref = reference_table(data, scores)
    at = open_app(data, scores, page="browse")
    no_exception(at)
    rows = table(at, "browse_table")
    assert len(rows) == 60 and rows["weak_rmi"].dropna().is_monotonic_increasing
    at.radio(key="browse_order").set_value("highest first").run()
    assert table(at, "browse_table")["weak_rmi"].dropna().is_monotonic_decreasing
    at.selectbox(key="browse_stratum").set_value(2).run()
    assert len(table(at, "browse_table")) == int((ref["weak_stratum"] == 2).sum()) == 6
    at.selectbox(key="browse_stratum").set_value("all")
    at.text_input(key="browse_search").set_value("FUNCTION F12 ").run()
    assert table(at, "browse_table")["id"].tolist() == ["r000012"]
    assert at.caption[0].value.startswith("1 row matches")
    at.selectbox(key="browse_sort").set_value("strong_ifd").run()
    no_exception(at)
    assert "strong_ifd" in table(at, "browse_table").columns


def test_planted_html_shows_as_text(pair):
    at = open_app(*pair, page="browse")
    at.text_input(key="browse_search").set_value("__pwned").run()
    no_exception(at)
    assert at.session_state["example_id"] == "r000000"
    assert at.code[0].value == app_tables.XSS_QUERY  # shown verbatim in a code block
    for md in at.markdown:
        assert not md.proto.allow_html
        assert "<script>" not in md.value and "onerror" not in md.value
    assert not at.get("html")


def test_example_view_shows_scores_and_flags(pair):
    at = open_app(*pair, page="browse", example_id="r000003")  # the empty answer
    no_exception(at)
    assert any(m.value.startswith("**Flags:**") and "empty query/answer" in m.value for m in at.markdown)
    at.session_state["example_id"] = "r000004"
    at.run()
    row = table(at, columns=("nll_q", "rmi", "ifd"))
    ref = load_scores(pair[1])[0].set_index("id").loc["r000004"]
    assert np.allclose(row["rmi"].to_numpy(dtype=float), [ref["weak_rmi"], ref["strong_rmi"]])
    assert any(c.value.startswith("diff = ") for c in at.caption)


def test_labels_and_overrides_persist_beside_the_data(pair):
    data, scores = pair
    at = open_app(data, scores, page="browse", example_id="r000010")
    at.button(key="browse_example_label_mismatched").click().run()
    no_exception(at)
    at.button(key="browse_example_exclude").click().run()
    no_exception(at)
    saved = load_labels(labels_path(data))
    assert saved[["id", "label", "override"]].to_dict("records") == [
        {"id": "r000010", "label": "mismatched", "override": "exclude"}]
    # A new session (a restart) reads them back.
    at = open_app(data, scores, page="browse", example_id="r000010")
    assert any("Label: **mismatched** · override: **exclude**" in c.value for c in at.caption)
    at.selectbox(key="browse_label").set_value("mismatched").run()
    assert table(at, "browse_table")["id"].tolist() == ["r000010"]
    at.button(key="browse_example_clear").click().run()
    assert load_labels(labels_path(data)).empty


def test_a_corrupt_labels_file_is_reported_not_overwritten(pair):
    data, scores = pair
    labels_path(data).write_text("{not json")
    at = open_app(data, scores, page="browse", example_id="r000010")
    no_exception(at)
    assert any("not valid JSON" in e.value for e in at.error)
    assert labels_path(data).read_text() == "{not json"


@pytest.mark.slow
def test_token_view_with_a_tiny_model(tmp_path, tiny_model_dir):
    rows = app_tables.records(8)
    data = app_tables.write_data(tmp_path / "d.jsonl", rows)
    scores = tmp_path / "d.scores.parquet"
    write_scores(app_tables.scores(rows, ("weak", "strong")), scores,
                 {"models": {"weak": {"spec": str(tiny_model_dir)}, "strong": {"spec": str(tiny_model_dir)}},
                  "config": {"device": "cpu", "dtype": "fp32", "max_length": 256}})
    at = open_app(data, scores, page="browse", example_id="r000001")
    at.button(key="browse_example_tokens").click().run(timeout=120)
    no_exception(at)
    fig = charts(at)["browse_example_heatmap"]
    assert {t["type"] for t in fig["data"]} == {"heatmap"}
    assert "mean explained (RMI)" in fig["layout"]["title"]["text"]
    # The result is kept for this example across reruns (no second model call needed).
    at.run()
    assert "browse_example_heatmap" in charts(at)
    assert json.dumps(fig).count("heatmap") >= 2
    assert views.model_spec(at.session_state[state.WORKSPACE_KEY], "weak") == str(tiny_model_dir)

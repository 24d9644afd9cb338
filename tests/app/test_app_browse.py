"""Browse: filters, sorting, paging, the chart filter, flags, search highlights, labels from buttons
and keys, labelling a chart's picked rows, and the token view."""

from __future__ import annotations

import json

import app_tables
import numpy as np
import pandas as pd
import pytest
from conftest import charts, no_exception, open_app, table

from qaq.app.table import ChartFilter
from qaq.io.datasets import load_dataset
from qaq.io.labels import labels_path, load_labels, set_label
from qaq.io.scorefile import load_scores, write_scores
from qaq.select.disagreement import add_disagreement
from qaq.select.flags import flag_table
from qaq.select.selection import attach_scores


def reference_table(data, scores):
    """The working table built straight from the library, to check the app against."""
    return add_disagreement(attach_scores(load_dataset(data), load_scores(scores)[0]), strong="strong", weak="weak")


def reference_order(ref: pd.DataFrame, column: str = "weak_rmi", ascending: bool = True) -> list[str]:
    return ref.sort_values(column, ascending=ascending, na_position="last", kind="stable")["id"].tolist()


def listed(at):
    """The Browse list element (its key names the rows it shows)."""
    (el,) = [el for el in at.dataframe if (el.key or "").startswith("browse_table_")]
    return el


def pick(at, i: int) -> None:
    at.session_state[listed(at).key] = {"selection": {"rows": [i], "columns": [], "cells": []}}
    at.run()


def open_id(at) -> str | None:
    return at.session_state["example_id"]


def test_browse_sorts_filters_and_searches(pair):
    data, scores = pair
    ref = reference_table(data, scores)
    at = open_app(data, scores, page="browse")
    no_exception(at)
    rows = listed(at).value
    assert rows["id"].tolist() == reference_order(ref)[:60]
    # id and the sort column first (pinned), then the labels, then the scores and diff: no scrolling to them
    assert rows.columns.tolist()[:8] == ["id", "weak_rmi", "label", "override", "weak_rank", "weak_stratum",
                                         "strong_rmi", "strong_rank"]
    assert {"diff", "sum", "query", "answer"} <= set(rows.columns)
    config = json.loads(listed(at).proto.columns)
    assert config["id"]["pinned"] and config["weak_rmi"]["pinned"]
    at.radio(key="browse_order").set_value("highest first").run()
    assert listed(at).value["id"].tolist() == reference_order(ref, ascending=False)
    at.selectbox(key="browse_stratum").set_value(2).run()
    assert len(listed(at).value) == int((ref["weak_stratum"] == 2).sum()) == 6
    at.selectbox(key="browse_stratum").set_value("all")
    at.text_input(key="browse_search").set_value("FUNCTION F12 ").run()
    assert listed(at).value["id"].tolist() == ["r000012"]
    assert any(c.value.startswith("1 row matches") for c in at.caption)
    at.selectbox(key="browse_sort").set_value("strong_ifd").run()
    no_exception(at)
    assert listed(at).value.columns.tolist()[:2] == ["id", "strong_ifd"]


def test_paging_past_500_rows(tmp_path):
    data, scores = app_tables.write_pair(tmp_path, 1234)
    ref = reference_table(data, scores)
    order = reference_order(ref)
    at = open_app(data, scores, page="browse")
    assert len(listed(at).value) == 100  # the default page size
    at.selectbox(key="browse_page_size").set_value(500).run()
    assert at.number_input(key="browse_page").max == 3
    at.number_input(key="browse_page").set_value(3).run()
    no_exception(at)
    assert listed(at).value["id"].tolist() == order[1000:]  # the last 234 rows, in order
    assert open_id(at) == order[1000]  # turning the page opens its first row
    assert any("rows 1,001-1,234 listed" in c.value for c in at.caption)
    # Another filter shows the page holding the open row; J/K (next/previous) turn pages as they go.
    at.selectbox(key="browse_page_size").set_value(250).run()
    assert at.number_input(key="browse_page").value == 5 and open_id(at) == order[1000]
    at.button(key="browse_example_previous").click().run()
    assert open_id(at) == order[999] and at.number_input(key="browse_page").value == 4
    assert listed(at).value["id"].iloc[-1] == order[999]


def test_an_empty_result_clears_the_open_example(pair):
    at = open_app(*pair, page="browse")
    pick(at, 5)
    assert open_id(at) == listed(at).value["id"].iloc[5]
    assert any(m.value.startswith("**Example**") for m in at.markdown)
    at.text_input(key="browse_search").set_value("no row has this text").run()
    no_exception(at)
    assert listed(at).value.empty and open_id(at) is None
    assert not any(m.value.startswith("**Example**") for m in at.markdown)
    assert not at.code  # neither Q nor A of the previous example stays on the page


def test_the_chart_filter_is_applied_and_cleared(pair):
    picked = ChartFilter(("r000020", "r000010", "r000030", "not-a-row"), "the rank scatter")
    at = open_app(*pair, page="browse", chart_filter=picked)
    no_exception(at)
    assert sorted(listed(at).value["id"]) == ["r000010", "r000020", "r000030"]
    assert any("**Chart filter**: 4 rows picked on the rank scatter" in m.value for m in at.markdown)
    at.text_input(key="browse_search").set_value("f20 ").run()  # other filters narrow it further
    assert listed(at).value["id"].tolist() == ["r000020"]
    at.text_input(key="browse_search").set_value("")
    at.button(key="browse_clear_chart_filter").click().run()
    assert at.session_state["chart_filter"] is None and len(listed(at).value) == 60


def test_labelling_every_picked_row_asks_first(pair):
    data, scores = pair
    set_label(labels_path(data), "r000010", "ok")
    ids = ("r000010", "r000020", "r000030")
    at = open_app(data, scores, page="browse", chart_filter=ChartFilter(ids, "the rank scatter"))
    at.selectbox(key="browse_picked_label").set_value("echo")
    at.button(key="browse_picked_ask").click().run()
    (warning,) = at.warning
    assert "Set 3 rows picked on the rank scatter as **echo**? Now: 2 (unlabelled), 1 ok." == warning.value
    assert load_labels(labels_path(data))["id"].tolist() == ["r000010"]  # nothing written before yes
    at.button(key="browse_picked_cancel").click().run()
    assert not at.warning
    at.button(key="browse_picked_ask").click().run()
    at.button(key="browse_picked_yes").click().run()
    no_exception(at)
    saved = load_labels(labels_path(data)).set_index("id")["label"].to_dict()
    assert saved == {"r000010": "echo", "r000020": "echo", "r000030": "echo"}
    assert any(s.value == "3 rows changed: now labelled echo." for s in at.success)
    assert listed(at).value.set_index("id")["label"].to_dict() == saved  # the label column shows them
    # The same action excludes them all from every selection (the override), labels kept.
    at.selectbox(key="browse_picked_label").set_value("exclude")
    at.button(key="browse_picked_ask").click().run()
    assert "as **echo**" not in at.warning[0].value and "**excluded** from every selection" in at.warning[0].value
    at.button(key="browse_picked_yes").click().run()
    no_exception(at)
    after = load_labels(labels_path(data)).set_index("id")
    assert after["override"].to_dict() == dict.fromkeys(ids, "exclude") and after["label"].to_dict() == saved
    assert any(s.value.startswith("3 rows changed: now excluded") for s in at.success)


def test_flags_filter(pair):
    data, scores = pair
    ref = reference_table(data, scores)
    flags = flag_table(ref, models=["weak", "strong"])
    at = open_app(data, scores, page="browse")
    at.multiselect(key="browse_flags_with").set_value(["echo", "empty"]).run()
    no_exception(at)
    expected = set(ref.loc[flags["echo"] | flags["empty"], "id"])
    assert set(listed(at).value["id"]) == expected and 0 < len(expected) < 60
    at.multiselect(key="browse_flags_with").set_value([])
    at.multiselect(key="browse_flags_without").set_value(["negative_rmi"]).run()
    assert set(listed(at).value["id"]) == set(ref.loc[~flags["negative_rmi"], "id"])
    assert len(listed(at).value) < 60


def test_search_hits_are_marked_in_escaped_text(pair):
    at = open_app(*pair, page="browse")
    at.text_input(key="browse_search").set_value("__pwned").run()
    no_exception(at)
    assert open_id(at) == "r000000"
    query = next(m for m in at.markdown if "orange-background" in m.value)
    assert query.value.count(":orange-background[\\_\\_pwned]") == 2  # both planted hits, escaped
    assert "\\<\u2060script\\>" in query.value and "<script>" not in query.value
    assert any(c.value.startswith("Query (Q) · 2 hits") for c in at.caption)
    for md in at.markdown:
        assert not md.proto.allow_html
    assert not at.get("html")
    at.text_input(key="browse_search").set_value("").run()
    assert at.code[0].value == app_tables.XSS_QUERY  # without a search: the verbatim text as code


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


def test_labels_advance_to_the_next_row_and_persist(pair):
    data, scores = pair
    at = open_app(data, scores, page="browse")
    ids = listed(at).value["id"].tolist()
    assert open_id(at) == ids[0]
    buttons = {b.key: b for b in at.button}
    assert buttons["browse_example_label_ok"].proto.shortcut == "1"
    assert buttons["browse_example_exclude"].proto.shortcut == "x"  # Streamlit keeps keys in lower case
    assert buttons["browse_example_next"].proto.shortcut == "j"
    at.button(key="browse_example_label_mismatched").click().run()
    no_exception(at)
    assert open_id(at) == ids[1]  # labelled, and on to the next row
    at.button(key="browse_example_exclude").click().run()
    assert open_id(at) == ids[2]
    saved = load_labels(labels_path(data))
    assert saved[["id", "label", "override"]].to_dict("records") == [
        {"id": ids[0], "label": "mismatched", "override": None}, {"id": ids[1], "label": None, "override": "exclude"}]
    at.button(key="browse_example_previous").click().run()
    assert open_id(at) == ids[1]
    at.checkbox(key="browse_advance").uncheck()
    at.button(key="browse_example_label_echo").click().run()
    assert open_id(at) == ids[1]  # without auto-advance the row stays open
    # A new session (a restart) reads them back.
    at = open_app(data, scores, page="browse", example_id=ids[1])
    assert any("Label: **echo** · override: **exclude** · row 2 of 60" in c.value for c in at.caption)
    at.selectbox(key="browse_label").set_value("echo").run()
    assert listed(at).value["id"].tolist() == [ids[1]]
    at.button(key="browse_example_clear").click().run()
    assert load_labels(labels_path(data))["id"].tolist() == [ids[0]]


def test_a_corrupt_labels_file_is_reported_not_overwritten(pair):
    data, scores = pair
    labels_path(data).write_text("{not json")
    at = open_app(data, scores, page="browse", example_id="r000010")
    no_exception(at)
    assert any("not valid JSON" in e.value for e in at.error)
    assert listed(at).value["label"].isna().all()
    at.button(key="browse_example_label_ok").click().run()
    assert any("Could not save" in e.value for e in at.error)
    assert labels_path(data).read_text() == "{not json"


# ---------------------------------------------------------------------------------- token view


def scored_by_tiny_model(tmp_path, model_dir, n: int = 6):
    """Data and a score file really scored by the tiny model (fp32), as `qaq score` writes it."""
    from qaq.scoring.engine import ScoringConfig, score_frame

    rows = app_tables.records(n, xss=False)
    data = app_tables.write_data(tmp_path / "d.jsonl", rows)
    config = ScoringConfig(device="cpu", dtype="fp32", max_length=256)
    table = score_frame(load_dataset(data), {"weak": str(model_dir)}, config=config)
    scores = tmp_path / "d.scores.parquet"
    write_scores(table, scores, table.attrs["qaq_run"])
    return data, scores


@pytest.mark.slow
def test_token_view_agrees_with_the_score_file(tmp_path, tiny_model_dir):
    data, scores = scored_by_tiny_model(tmp_path, tiny_model_dir)
    at = open_app(data, scores, page="browse", example_id="r000001")
    (button,) = [b for b in at.button if b.key == "browse_example_tokens"]
    assert "tokens" in button.label and "loading the model once per server (not timed here yet)" in button.label
    assert any("computed it in fp32 on cpu" in c.value for c in at.caption)
    button.click().run(timeout=120)
    no_exception(at)
    means = table(at, columns=("token view", "score file", "difference"))
    assert means.index.tolist() == ["nll_q", "nll_q_given_a", "rmi", "nll_a", "nll_a_given_q", "ifd"]
    assert np.abs(means["difference"].to_numpy(dtype=float)).max() <= 1e-4
    assert any("Same precision as the score file (fp32 on cpu)" in c.value for c in at.caption)
    assert any("Token view: weak in **fp32 on cpu** · score file: **fp32 on cpu**" in c.value for c in at.caption)
    figs = charts(at)
    assert {"browse_example_tokens_query", "browse_example_tokens_answer"} <= set(figs)
    assert {t["type"] for t in figs["browse_example_tokens_answer"]["data"]} == {"bar"}
    # The next row's button states the rate measured by this view, and no load (the model is held).
    at.button(key="browse_example_next").click().run()
    (button,) = [b for b in at.button if b.key == "browse_example_tokens"]
    assert "tokens/s (measured here)" in button.label and "load" not in button.label
    button.click().run(timeout=120)
    assert np.abs(table(at, columns=("token view", "score file", "difference"))["difference"].to_numpy(dtype=float)).max() <= 1e-4

"""Map: the rows laid out by their embeddings, coloured by a column; near-duplicates into the recipe."""

from __future__ import annotations

import json

import app_tables
import pytest
from conftest import PAGES, charts, metrics, no_exception, open_app, table
from test_app_select import cli_files, reference

from qaq.app import cached_views, state
from qaq.app.widgets import drawn_shapes
from qaq.io.embeddingfile import load_embeddings
from qaq.select.dedup import duplicate_groups


@pytest.fixture
def embedded(pair):
    data, scores = pair
    app_tables.write_embeddings(scores, 60)
    return data, scores


def test_without_embeddings_the_page_says_how_to_get_them(pair):
    at = open_app(*pair, page="map")
    no_exception(at)
    assert any("Keep embeddings" in i.value and "--embed" in i.value for i in at.info)
    assert not charts(at)


def test_the_map_draws_every_row_with_embeddings_coloured_by_a_column(embedded):
    at = open_app(*embedded, page="map")
    no_exception(at)
    fig = charts(at)["map"]
    assert fig["data"][0]["type"] == "heatmap" and fig["layout"]["dragmode"] == "lasso"
    points = [t for t in fig["data"][1:] if t["name"] != "density"]
    assert sum(len(t["customdata"]) for t in points) == 59  # row 3 (skipped) has no embedding
    assert at.selectbox(key="map_model").value == "strong" and at.selectbox(key="map_color").value == "strong_rmi"
    at.selectbox(key="map_color").set_value("defect").run()
    no_exception(at)
    names = {t["name"].split(" (")[0] for t in charts(at)["map"]["data"][1:]}
    assert {"none", "echo", "mismatch", "fabricated"} <= names
    # The layout is cached per file: a second run returns the same coordinates object.
    ws = at.session_state[state.WORKSPACE_KEY]
    assert cached_views.map_xy(ws, "strong", "qa") is cached_views.map_xy(ws, "strong", "qa")


def test_near_duplicates_enter_the_recipe_and_qaq_select_reproduces_it(embedded, tmp_path):
    data, scores = embedded
    at = open_app(data, scores, page="map")
    expected = duplicate_groups(load_embeddings(scores.with_name("data.scores.embed.npz")), "strong", threshold=0.95)
    assert {"r000010", "r000011", "r000020", "r000021", "r000022"} <= set(expected["id"])
    m = metrics(at)
    assert m["Groups"] == str(expected["group"].nunique()) and m["Rows in a group"] == str(len(expected))
    shown = table(at, columns=("group", "id", "similarity"))
    assert shown["id"].tolist() == expected["id"].tolist() and "defect" in shown.columns
    at.button(key="map_use_dedup").click().run()
    at.switch_page(PAGES["select"]).run()
    no_exception(at)
    assert at.checkbox(key="sel_dedup").value
    recipe = at.session_state["recipe"]
    assert recipe["dedup"] == {"threshold": 0.95, "keep": "highest_rmi", "model": "strong", "span": "qa"}
    ws = at.session_state[state.WORKSPACE_KEY]
    (command,) = [c.value for c in at.code if c.value.startswith("qaq select")]
    assert f"--embeddings {ws.embeddings_path}" in command
    files = cached_views.export_files(ws, recipe)
    cli_out = cli_files(tmp_path, data, scores, recipe)  # finds the embeddings beside the scores
    assert cli_out["selected.jsonl"] == files["selected.jsonl"]
    assert cli_out["discarded.jsonl"] == files["discarded.jsonl"]
    assert json.loads(cli_out["manifest.json"])["ids_sha256"] == json.loads(files["manifest.json"])["ids_sha256"]
    # Fewer rows than without dedup can choose from: the dropped copies are never selected.
    without = reference(data, scores, {k: v for k, v in recipe.items() if k != "dedup"})
    assert int(metrics(at)["Selected"]) <= int(without["selected"].sum())
    assert int(metrics(at)["Selected"]) > 0


def test_a_lasso_event_becomes_shapes():
    event = {"selection": {"points": [], "lasso": [{"x": [0, 1, 1], "y": [0, 0, 1]}],
                           "box": [{"x": [2, 3], "y": [2, 3]}, {"x": ["bad"], "y": []}]}}
    shapes = drawn_shapes(event)
    assert [(s.kind, s.xs) for s in shapes] == [("lasso", (0.0, 1.0, 1.0)), ("box", (2.0, 3.0))]
    assert drawn_shapes(None) == [] and drawn_shapes({"selection": {}}) == []

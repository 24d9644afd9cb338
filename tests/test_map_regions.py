"""Tests for qaq.maps.regions (rows inside a lasso or a box) and qaq.plots.maps (the map figure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from qaq.maps.regions import Shape, inside_polygon, rows_in_shapes
from qaq.plots.maps import MAX_CATEGORIES, embedding_map


def test_inside_polygon_matches_a_triangle_worked_by_hand():
    rng = np.random.default_rng(0)
    xy = rng.uniform(-1, 2, size=(2000, 2))
    # The triangle (0,0), (1,0), (0,1): x >= 0, y >= 0, x + y <= 1.
    expected = (xy[:, 0] > 0) & (xy[:, 1] > 0) & (xy.sum(axis=1) < 1)
    np.testing.assert_array_equal(inside_polygon(xy, [0, 1, 0], [0, 0, 1]), expected)
    # The same polygon drawn the other way round, and closed explicitly, encloses the same points.
    np.testing.assert_array_equal(inside_polygon(xy, [0, 0, 1, 0], [0, 1, 0, 0]), expected)


def test_a_concave_lasso_leaves_its_notch_out():
    # A "U": the square [0, 3] x [0, 3] without the notch [1, 2] x [1, 3].
    xs, ys = [0, 3, 3, 2, 2, 1, 1, 0], [0, 0, 3, 3, 1, 1, 3, 3]
    pts = np.array([[0.5, 2.5], [1.5, 2.5], [2.5, 2.5], [1.5, 0.5], [3.5, 0.5]])
    assert inside_polygon(pts, xs, ys).tolist() == [True, False, True, True, False]


def test_rows_in_shapes_joins_lassos_and_boxes_and_skips_nan_rows():
    xy = np.array([[0.1, 0.1], [5.0, 5.0], [np.nan, np.nan], [9.0, 1.0], [0.2, 0.3]])
    shapes = [Shape((0, 1, 1, 0), (0, 0, 1, 1)), Shape((10.0, 8.0), (0.0, 2.0), kind="box")]
    assert rows_in_shapes(xy, shapes).tolist() == [0, 3, 4]
    assert rows_in_shapes(xy, []).tolist() == []


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"xs": (0, 1), "ys": (0, 1)}, "at least 3 points"),
    ({"xs": (0, 1, 2), "ys": (0, 1)}, "as many x as y"),
    ({"xs": (0, 1), "ys": (0, 1), "kind": "circle"}, "a lasso or a box"),
])
def test_shape_errors(kwargs, why):
    with pytest.raises(ValueError, match=why):
        Shape(**kwargs)


def _table(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    t = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "query": ["<b>q</b>"] * n, "answer": ["a"] * n,
                      "m_rmi": rng.normal(size=n), "defect": rng.choice(["none", "echo", "mismatch"], n),
                      "many": [f"k{i % 25}" for i in range(n)]})
    xy = rng.normal(size=(n, 2))
    xy[3] = np.nan
    return t, xy


def test_the_map_shades_every_row_and_draws_a_sample_with_ids():
    t, xy = _table(500)
    fig = embedding_map(t, xy, color="m_rmi", max_points=100, model="m")
    heat, points = fig.data[0], fig.data[1]
    assert isinstance(heat, go.Heatmap) and isinstance(points, go.Scattergl)
    assert np.nansum(np.expm1(np.asarray(heat.z, dtype=float))) == pytest.approx(499)  # every placed row
    assert len(points.x) == 100 and set(points.customdata) <= set(t["id"]) and "r3" not in set(points.customdata)
    assert points.marker.colorscale is not None and fig.layout.dragmode == "lasso"
    assert "&lt;b&gt;q&lt;/b&gt;" in points.text[0] and "<b>q</b>" not in points.text[0]  # escaped
    assert "1 row without an embedding left out" in fig.layout.title.text


def test_categories_get_a_trace_each_and_the_rest_is_other():
    t, xy = _table(300)
    fig = embedding_map(t, xy, color="defect")
    names = [tr.name.split(" (")[0] for tr in fig.data[1:]]
    assert names == ["echo", "mismatch", "none"]
    colours = {tr.name.split(" (")[0]: tr.marker.color for tr in fig.data[1:]}
    assert colours["none"] == "rgb(190,190,190)" and len({colours["echo"], colours["mismatch"], colours["none"]}) == 3
    assert sum(len(tr.x) for tr in fig.data[1:]) == 299
    many = embedding_map(t, xy, color="many")
    assert len(many.data) - 1 == MAX_CATEGORIES + 1 and many.data[-1].name.startswith("other")


def test_selection_and_chart_filter_are_drawn_over_the_rows():
    t, xy = _table(200)
    sel = pd.Series(np.arange(200) % 2 == 0)
    fig = embedding_map(t, xy, selected=sel, picked=["r1", "r3", "r5"])
    ring, square = fig.data[-2], fig.data[-1]
    assert ring.marker.symbol == "circle-open" and set(ring.customdata) == {f"r{i}" for i in range(0, 200, 2)}
    assert square.marker.symbol == "square-open" and sorted(square.customdata) == ["r1", "r5"]  # r3 has no place


def test_map_errors_and_empty_map():
    t, xy = _table(10)
    with pytest.raises(ValueError, match="shape"):
        embedding_map(t, xy[:5])
    with pytest.raises(KeyError, match="nope"):
        embedding_map(t, xy, color="nope")
    empty = embedding_map(t, np.full((10, 2), np.nan))
    assert "No row has an embedding" in empty.layout.annotations[0].text

"""Tests for qaq.app.rows: the rows the lists show (Browse, Disagreement) and one row's scores and flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from app_workspaces import labelled_workspace, small_table, ws_of

from qaq.app import rows as app_rows
from qaq.app.labels import UNLABELLED
from qaq.app.table import ChartFilter, Workspace
from qaq.select.flags import flag_table


@pytest.fixture
def labelled(tmp_path: Path) -> Workspace:
    """The small table with a source file whose labels file marks a as ok, c as mismatched, d as excluded."""
    return labelled_workspace(tmp_path)


@pytest.mark.parametrize(("n", "text"), [(0, "0 rows"), (1, "1 row"), (2, "2 rows"), (12345, "12,345 rows")])
def test_rows_text(n, text):
    assert app_rows.rows_text(n) == text


def test_list_and_sortable_columns():
    ws = ws_of()
    base = ["id", "line", "query", "answer", "strong_rmi", "strong_stratum", "strong_rank", "weak_rmi",
            "weak_stratum", "weak_rank", "diff", "sum", "defect"]
    assert app_rows.list_columns(ws) == base
    assert app_rows.list_columns(ws, ["skip", "id", "missing"]) == [*base, "skip"]
    assert app_rows.list_columns(ws_of(None, models=("weak",))) == [
        "id", "line", "query", "answer", "weak_rmi", "weak_stratum", "weak_rank", "diff", "sum", "defect"]
    assert app_rows.list_columns(Workspace(None)) == []
    assert app_rows.sortable_columns(ws) == ["strong_nll_q", "strong_rmi", "strong_stratum", "strong_rank", "weak_rmi",
                                             "weak_stratum", "weak_rank", "diff", "sum", "line"]


def test_browse_rows_filters_sorts_and_limits(labelled):
    ws = ws_of()
    keep = app_rows.BrowseFilter(model="strong", stratum=1)
    rows, total = app_rows.browse_rows(ws, keep, sort_by="strong_rmi", ascending=True)
    assert (rows["id"].tolist(), total) == (["d", "c"], 2)
    rows, total = app_rows.browse_rows(ws, app_rows.BrowseFilter(model="strong"), sort_by="strong_rmi", ascending=False)
    assert (rows["id"].tolist(), total) == (["c", "a", "b", "d", "e"], 5)  # no stratum filter; NaN last
    rows, total = app_rows.browse_rows(ws, sort_by="diff", ascending=True, limit=2)
    assert (rows["id"].tolist(), total) == (["d", "a"], 5)  # ties keep table order; the total counts all
    pd.testing.assert_frame_equal(rows, small_table().loc[[3, 0]])  # whole rows, unchanged
    rows, total = app_rows.browse_rows(ws, sort_by="diff", ascending=True, offset=2, limit=2)
    assert rows["id"].tolist() == ["b", "c"]  # the second page of two
    rows, total = app_rows.browse_rows(ws, sort_by="no such column", ascending=True)
    assert rows["id"].tolist() == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(("search", "ids"), [
    ("string", ["b"]),  # case-insensitive
    ("  ECHO ME ", ["d"]),  # trimmed; in Q or A
    ("[::-1]", ["b"]),  # plain text, not a regex
    ("a + b", ["c"]),
    ("nothing like this", []),
    ("", ["a", "b", "c", "d", "e"]),
])
def test_browse_rows_search(search, ids):
    rows, total = app_rows.browse_rows(ws_of(), app_rows.BrowseFilter(search=search), sort_by="line", ascending=True)
    assert (rows["id"].tolist(), total) == (ids, len(ids))


@pytest.mark.parametrize(("label", "ids"), [("ok", ["a"]), ("mismatched", ["c"]), ("echo", []),
                                            (UNLABELLED, ["b", "d", "e"]), (None, ["a", "b", "c", "d", "e"])])
def test_browse_rows_by_label(labelled, label, ids):
    rows, total = app_rows.browse_rows(labelled, app_rows.BrowseFilter(label=label), sort_by="line", ascending=True)
    assert (rows["id"].tolist(), total) == (ids, len(ids))


def test_browse_order_with_a_chart_filter_and_flags():
    ws = ws_of()
    picked = ChartFilter(("e", "c", "a", "zz"), "the rank scatter")
    order = app_rows.browse_order(ws, app_rows.BrowseFilter(picked=picked), sort_by="line", ascending=False)
    assert order.tolist() == [4, 2, 0]  # positions, in the list's order; unknown ids are no rows
    flags = flag_table(small_table(), models=["strong", "weak"])
    with_echo = app_rows.BrowseFilter(with_flags=("echo", "empty"))
    assert with_echo.needs_flags and not app_rows.BrowseFilter().needs_flags
    got = app_rows.browse_order(ws, with_echo, sort_by="line", ascending=True, flags=flags)
    assert got.tolist() == np.flatnonzero(flags["echo"] | flags["empty"]).tolist() == [3, 4]
    without = app_rows.BrowseFilter(without_flags=("negative_rmi", "empty"), picked=picked)
    assert app_rows.browse_order(ws, without, sort_by="line", ascending=True, flags=flags).tolist() == [0, 2]
    with pytest.raises(ValueError, match="needs the flag table"):
        app_rows.browse_order(ws, with_echo, sort_by="line", ascending=True)


def test_pages_and_neighbours():
    assert [app_rows.page_count(n, 100) for n in (0, 1, 100, 101, 1234)] == [1, 1, 1, 2, 13]
    assert [app_rows.page_of(p, 100) for p in (0, 99, 100, 1233)] == [1, 1, 2, 13]
    assert app_rows.neighbours(["a", "b", "c"], "a") == app_rows.Neighbours(0, 3, None, "b")
    assert app_rows.neighbours(["a", "b", "c"], "c") == app_rows.Neighbours(2, 3, "b", None)
    assert app_rows.neighbours([], None) == app_rows.Neighbours(None, 0, None, None)
    assert app_rows.neighbours([1, 2], 2).previous == "1"  # ids compare as strings


def test_list_frame_puts_what_an_audit_reads_first(labelled):
    frame = app_rows.list_frame(labelled, np.array([2, 0]), sort_by="diff", model="weak")
    assert frame.columns.tolist() == ["id", "diff", "label", "override", "weak_rmi", "weak_rank", "weak_stratum",
                                      "strong_rmi", "strong_rank", "strong_stratum", "sum", "query", "answer",
                                      "line", "defect"]
    assert frame["id"].tolist() == ["c", "a"] and frame["label"].tolist() == ["mismatched", "ok"]
    assert frame["query"].tolist() == ["add two ints", "Sort a list"]
    assert frame["answer"].iloc[0] == "```python a + b ```"  # on one line
    assert app_rows.list_frame(labelled, np.array([3]), sort_by="line", model=None)["override"].tolist() == ["exclude"]
    listing = app_rows.row_list(labelled, np.array([4, 1]))
    assert [listing.id_at(k) for k in range(len(listing))] == ["e", "b"]
    assert (listing.position("b"), listing.position("e"), listing.position("a"), listing.position(None)) == (1, 0, None,
                                                                                                            None)
    assert app_rows.neighbours(listing, "b") == app_rows.Neighbours(1, 2, "e", None)
    long = small_table().assign(answer=["word " * 100] * 5)
    assert len(app_rows.list_frame(ws_of(long), np.array([0]), sort_by="line", model=None)["answer"].iloc[0]) == 160


def test_list_key_changes_with_the_rows_shown():
    a, b = small_table().iloc[:3], small_table().iloc[1:4]
    assert app_rows.list_key(a, "t") == app_rows.list_key(a.copy(), "t") != app_rows.list_key(b, "t")
    assert app_rows.list_key(a, "t").startswith("t_")


def test_highlighted_text_is_escaped_markdown():
    md, hits = app_rows.highlighted("Use <b>bold</b> and **B**:\n    B = [1](x)", "b")
    assert hits == 5
    assert "<b>" not in md and "\\<" in md and "\\*\\*" in md  # no markup survives
    assert md.count(":orange-background[") == 5
    assert md.split("  \n")[1].startswith("\u00a0" * 4)  # the indentation stays
    assert app_rows.highlighted("a\n\nb") == ("a  \n\u00a0  \nb", 0)  # the empty line too
    assert app_rows.highlighted("x", "  ")[1] == 0  # a blank search marks nothing


def test_most_disagreed_and_rows_by_id():
    ws = ws_of()
    top = app_rows.most_disagreed(ws, 3)
    assert top["id"].tolist() == ["c", "d", "a"]  # |diff| 0.5, 0.5 (table order), then 0.0
    assert top.columns.tolist() == app_rows.list_columns(ws)
    assert app_rows.most_disagreed(ws)["id"].tolist() == ["c", "d", "a", "b", "e"]
    picked = app_rows.rows_by_id(ws, ["d", "b", "zz"])
    pd.testing.assert_frame_equal(picked, small_table().loc[[1, 3], app_rows.list_columns(ws)])  # in table order
    numeric = ws_of(small_table().assign(id=[10, 11, 12, 13, 14]))
    assert app_rows.rows_by_id(numeric, ["12"])["id"].tolist() == [12]  # ids compare as strings


def test_example_scores_one_line_per_model():
    ws = ws_of()
    row = small_table().iloc[0]
    expected = pd.DataFrame({"nll_q": [1.0, None], "rmi": [0.5, 0.2], "stratum": [0, 0], "rank": [1.0, 1.0]},
                            index=pd.Index(["strong", "weak"], name="model"))
    pd.testing.assert_frame_equal(app_rows.example_scores(ws, row), expected, check_dtype=False)
    assert app_rows.example_scores(ws, small_table().iloc[4]).shape == (2, 0)  # not scored: no field has a value


def test_example_flags_and_code_language():
    ws = ws_of()
    rows = small_table()
    assert app_rows.example_flags(ws, rows.iloc[0]) == []
    assert app_rows.example_flags(ws, rows.iloc[3]) == ["RMI < 0", "answer echoes query"]  # strong's RMI < 0
    assert app_rows.example_flags(ws, rows.iloc[4]) == ["empty query/answer"]
    assert app_rows.code_language(rows["answer"].iloc[2]) == "markdown"
    assert app_rows.code_language("print(1)") is None

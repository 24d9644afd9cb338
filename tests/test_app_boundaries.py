"""Tests for qaq.app.boundaries: typed and dragged stratum boundaries, and what each stratum holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from app_workspaces import scored, ws_of

from qaq.app import boundaries as b
from qaq.app.table import working_table
from qaq.select.strata import add_strata


@pytest.mark.parametrize(("text", "cuts"), [
    ("", None),
    ("  ,  ", None),
    ("2.5", (2.5,)),
    ("3.5, 2.5 3", (2.5, 3.0, 3.5)),
    ("1;1;-0.5", (-0.5, 1.0)),  # any order, each once
    ("1e-1,2", (0.1, 2.0)),
])
def test_parse_boundaries(text, cuts):
    assert b.parse_boundaries(text) == cuts


@pytest.mark.parametrize(("text", "message"), [
    ("2.5, abc", "'abc' is not a number"),
    ("nan", "'nan' is not a finite number"),
    ("1, inf", "'inf' is not a finite number"),
    (", ".join(str(i) for i in range(50)), "50 boundaries make 51 strata; at most 50"),
])
def test_parse_boundaries_errors(text, message):
    with pytest.raises(b.BoundaryError, match=message):
        b.parse_boundaries(text)


@pytest.mark.parametrize("cuts", [(2.5, 3.0, 3.25), (0.1, 1 / 3), (-1.0,), ()])
def test_format_boundaries_reads_back_the_same(cuts):
    text = b.format_boundaries(cuts)
    assert (b.parse_boundaries(text) or ()) == tuple(cuts)
    assert ".0," not in text + ","


def test_snap_keeps_the_split_and_is_short():
    values = np.array([1.0, 2.3, 2.61, 4.0, np.nan])
    assert b.snap(2.4987, values) == 2.5
    assert b.snap(2.61, values) == 2.61  # 2.6 would split the same way, but lies 0.01 away (range 3: 0.006 at most)
    assert b.snap(3.9, values) == 3.9 and b.snap(1.2, values) == 1.2
    assert b.snap(2.31234, values) == 2.31  # within 0.006
    assert b.snap(1.0, values) is None and b.snap(0.5, values) is None  # every value at or above
    assert b.snap(4.5, values) is None  # every value below
    rng = np.random.default_rng(0)
    v = rng.gamma(2.0, 1.0, 500)
    for edge in rng.uniform(v.min(), v.max(), 50):
        c = b.snap(edge, v)
        assert c is None or np.array_equal(v < c, v < edge)


def test_quantile_cuts_reproduce_the_quantile_strata():
    t = scored(200)
    for bins in (2, 5, 10):
        codes = add_strata(t, "s", bins=bins)["s_stratum"].to_numpy(dtype=np.int64, na_value=-1)
        cuts = b.quantile_cuts(t["s_nll_q"].to_numpy(), codes)
        assert len(cuts) == bins - 1 and all(len(repr(c)) <= 8 for c in cuts)
        again = add_strata(t, "s", boundaries=cuts)["s_stratum"]
        assert again.tolist() == codes.tolist()


def ws_with(bins=4, boundaries=None, n=40):
    t = working_table(scored(n), bins=bins, ranking="stratified", strong="s", weak="w", boundaries=boundaries)
    return ws_of(t, models=("s", "w"), strong="s", weak="w", bins=bins, boundaries=boundaries)


def test_with_edges_adds_to_the_boundaries_in_force():
    ws = ws_with(bins=4)
    quantile = b.current_cuts(ws, "s")
    assert len(quantile) == 3
    values = ws.table["s_nll_q"].to_numpy()
    edge = float(np.median(values)) + 0.01
    cuts = b.with_edges(ws, "s", [edge, 1e6])  # the second lies past every row: left out
    assert cuts == tuple(sorted({*quantile, b.snap(edge, values)}))
    custom = ws_with(boundaries=(1.0, 2.0))
    assert b.current_cuts(custom, "s") == (1.0, 2.0)
    assert b.with_edges(custom, "s", [1.0, 2.0]) == (1.0, 2.0)  # nothing new
    with pytest.raises(b.BoundaryError, match="at most 50"):
        b.with_edges(ws_with(bins=50, n=200), "s", [float(np.percentile(values, 37)) + 1e-3, 0.123456])


def test_stratum_sizes_and_warnings():
    ws = ws_with(boundaries=(1.0, 2.0, 100.0), n=40)
    sizes = b.stratum_sizes(ws, "s")
    nll = ws.table["s_nll_q"]
    expected = [(nll < 1).sum(), ((nll >= 1) & (nll < 2)).sum(), (nll >= 2).sum(), 0]
    assert sizes["rows"].tolist() == expected and sizes["stratum"].tolist() == [0, 1, 2, 3]
    assert np.isnan(sizes.loc[3, "nll_q_min"]) and sizes.loc[0, "nll_q_max"] < 1.0
    notes = b.strata_warnings(ws, "s", sizes)
    assert notes[0] == ("1 of the 4 strata of s hold no row (stratum 3) with these boundaries over 40 rows: an RMI "
                        "band or a quota selects nothing there; remove or move boundaries.")
    small = [k for k, n in enumerate(expected) if 0 < n < 20]
    assert notes[1].startswith(f"{len(small)} of the 4 strata of s have fewer than 20 rows")
    assert b.strata_warnings(ws, "s", sizes, small=False) == notes[:1]
    big = ws_with(bins=2, n=80)
    assert b.strata_warnings(big, "s", b.stratum_sizes(big, "s")) == []
    assert pd.api.types.is_integer_dtype(b.stratum_sizes(big, "s")["rows"])

"""Small working tables and workspaces for the tests of the app's streamlit-free modules
(tests/test_app_*.py: qaq.app.table, dataset, score_setup, labels, rows, arms, exports)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from qaq.app.table import Workspace
from qaq.columns import score_column
from qaq.io.labels import labels_path, set_label, set_override

NAN = float("nan")


def small_table() -> pd.DataFrame:
    """Five rows scored by ``strong`` and ``weak``, strata, ranks, diff and sum written out by hand."""
    return pd.DataFrame({
        "id": ["a", "b", "c", "d", "e"],
        "line": [1, 2, 3, 4, 5],
        "query": ["Sort a list", "Reverse a STRING", "add two ints", "echo me please", "parse html"],
        "answer": ["sorted(xs)", "s[::-1]", "```python\na + b\n```", "echo me please", ""],
        "skip": ["", "", "", "", "empty answer"],
        "defect": ["none", "none", "mismatch", "echo", "none"],
        "strong_nll_q": [1.0, 2.0, 3.0, 4.0, NAN],
        "strong_rmi": [0.5, 0.1, 0.9, -0.2, NAN],
        "strong_stratum": pd.array([0, 0, 1, 1, None], dtype="Int64"),
        "strong_rank": [1.0, 0.5, 1.0, 0.5, NAN],
        "weak_rmi": [0.2, 0.3, 0.1, 0.4, NAN],
        "weak_stratum": pd.array([0, 1, 0, 1, None], dtype="Int64"),
        "weak_rank": [1.0, 0.5, 0.5, 1.0, NAN],
        "diff": [0.0, 0.0, 0.5, -0.5, NAN],
        "sum": [2.0, 1.0, 1.5, 1.5, NAN],
    })


def ws_of(table: pd.DataFrame | None = None, *, source: Path | None = None, **kw) -> Workspace:
    kw.setdefault("models", ("strong", "weak"))
    kw.setdefault("strong", "strong")
    kw.setdefault("weak", "weak")
    return Workspace(small_table() if table is None else table, source_path=None if source is None else str(source),
                     **kw)


def labelled_workspace(tmp_path: Path) -> Workspace:
    """The small table with a source file whose labels file marks a as ok, c as mismatched, d as excluded."""
    source = tmp_path / "data.jsonl"
    source.write_text("")
    lab = labels_path(source)
    set_label(lab, "a", "ok")
    set_label(lab, "c", "mismatched")
    set_override(lab, "d", "exclude")
    set_override(lab, "b", "include")
    return ws_of(source=source)


def scored(n: int = 12) -> pd.DataFrame:
    """``n`` rows scored by ``s`` and ``w`` (NLLs and RMI only: no strata, ranks or pair yet)."""
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "row": np.arange(n)})
    for m in ("s", "w"):
        t[score_column(m, "nll_q")] = rng.gamma(2.0, 1.0, n)
        t[score_column(m, "nll_q_given_a")] = rng.gamma(2.0, 1.0, n)
        t[score_column(m, "rmi")] = t[score_column(m, "nll_q")] - t[score_column(m, "nll_q_given_a")]
    return t

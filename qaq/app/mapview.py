"""What the Map page shows besides the chart: the colour choices, the rows a lasso encloses, the
near-duplicate groups with their scores. No Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from qaq.app.rows import snippet
from qaq.app.table import Workspace, table_of
from qaq.columns import score_column
from qaq.maps.regions import Shape, rows_in_shapes

SPANS = {"qa": "Q and A", "q": "Q", "a": "A"}  # the map vectors' spans (qaq.maps.vectors)
DEDUP_KEEPS = {"highest_rmi": "the highest RMI of the group", "first": "the first in the file"}  # qaq.select.dedup
DUP_COLUMNS = ("group", "id", "similarity", "rmi", "defect", "query", "answer")
_MAX_COLOR_CATEGORIES = 50  # other text columns with more distinct values say nothing as colours


def color_choices(ws: Workspace, model: str) -> dict[str, str]:
    """Column -> what the colour shows: the model's RMI first, then Diff, stratum, defect, label,
    the other scores, and any other column with numbers or a few values."""
    table = table_of(ws)
    out: dict[str, str] = {score_column(model, "rmi"): f"RMI ({model})"}
    if ws.pair and "diff" in table.columns:
        out["diff"] = "Diff (r_strong - r_weak)"
    if score_column(model, "stratum") in table.columns:
        out[score_column(model, "stratum")] = f"stratum of PPL(Q) ({model})"
    if "defect" in table.columns:
        out["defect"] = "defect (the data's column)"
    if ws.labels_file is not None:
        out["label"] = "your label"
    for m in ws.models:
        for field in ("nll_q", "nll_q_given_a", "ifd", "rank"):
            if score_column(m, field) in table.columns:
                out.setdefault(score_column(m, field), score_column(m, field))
    for column in table.columns:
        if column in out or column in ("id", "query", "answer", "line", "row", "skip"):
            continue
        values = table[column]
        if pd.api.types.is_numeric_dtype(values.dtype) or values.nunique(dropna=True) <= _MAX_COLOR_CATEGORIES:
            out[column] = column
    return out


def picked_ids(table: pd.DataFrame, xy: np.ndarray, shapes: Sequence[Shape]) -> list[str]:
    """The ids of every row of ``table`` (row for row with ``xy``) inside the drawn shapes."""
    return table["id"].astype(str).iloc[rows_in_shapes(xy, shapes)].tolist()


def duplicate_rows(ws: Workspace, groups: pd.DataFrame, model: str) -> pd.DataFrame:
    """The rows of the near-duplicate groups (:func:`qaq.select.dedup.duplicate_groups`) with the
    model's RMI, the defect column when there is one, and the start of Q and A; by group."""
    table = table_of(ws)
    at = pd.Index(table["id"].astype(str)).get_indexer(groups["id"].astype(str))
    found = at >= 0
    rows = table.iloc[at[found]]
    out = pd.DataFrame(
        {
            "group": groups["group"].to_numpy()[found],
            "id": rows["id"].astype(str).to_numpy(),
            "similarity": groups["similarity"].to_numpy()[found].round(4),
            "rmi": rows[score_column(model, "rmi")].to_numpy(dtype=np.float64, na_value=np.nan).round(3),
            "defect": rows["defect"].to_numpy() if "defect" in rows.columns else None,
            "query": [snippet(q, 120) for q in rows["query"].tolist()],
            "answer": [snippet(a, 120) for a in rows["answer"].tolist()],
        }
    )
    return out if "defect" in rows.columns else out.drop(columns=["defect"])

"""The user's labels in the app, and how well scores and selections find the labelled defects.

No Streamlit here: the labels and overrides are read from the labels file beside the data
(:mod:`qaq.io.labels`; the example view of :mod:`qaq.app.example` writes them), and
:mod:`qaq.app.cached_views` caches :func:`detection_quality` on the workspace key and the labels
file. Everything can be called, and is tested, without a running app.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from qaq.app.table import Workspace, table_of
from qaq.io.labels import LABELS, OVERRIDES, load_labels
from qaq.io.labels import overrides as _overrides
from qaq.io.labels import set_labels as _set_labels
from qaq.io.labels import set_overrides as _set_overrides
from qaq.select.curves import pr_curves, roc_curves
from qaq.select.detection import defect_share, detection_table, is_defect

# Keyboard shortcuts of the example view (``st.button(..., shortcut=...)``): a digit per label, in
# LABELS order, a letter per override, 0 clears, J/K open the next/previous row of the list.
LABEL_KEYS: dict[str, str] = {name: str(i) for i, name in enumerate(LABELS, start=1)}
OVERRIDE_KEYS: dict[str, str] = dict(zip(OVERRIDES, ("I", "X"), strict=True))
CLEAR_KEY, NEXT_KEY, PREVIOUS_KEY = "0", "J", "K"
assert len(LABELS) <= 9, "one digit per label"

UNLABELLED = "(unlabelled)"


def labels(ws: Workspace) -> pd.DataFrame:
    """The user's labels and overrides of this data (:func:`qaq.io.labels.load_labels`).

    Raises:
        qaq.io.labels.LabelsError: the labels file is unreadable.
    """
    if ws.labels_file is None:  # no source file: the empty frame load_labels gives for a missing file
        return load_labels(Path(tempfile.gettempdir()) / "qaq-no-such-labels-file.json")
    return load_labels(ws.labels_file)


def labels_or_error(ws: Workspace) -> tuple[pd.DataFrame, str | None]:
    """(:func:`labels`, None), or (no labels, why) when the labels file cannot be read: a page
    then says why and lists the rows as unlabelled, never overwriting the file."""
    from qaq.io.labels import LabelsError

    try:
        return labels(ws), None
    except LabelsError as e:
        return labels(Workspace(None)), str(e)


def row_labels(ws: Workspace, row_id: str) -> tuple[str | None, str | None]:
    """(label, override) of one row, None where unset; raises LabelsError."""
    current = labels(ws)
    entry = current[current["id"] == str(row_id)]
    values = (entry["label"].iloc[0], entry["override"].iloc[0]) if len(entry) else (None, None)
    return tuple(None if pd.isna(v) else v for v in values)  # type: ignore[return-value]


def label_column(ws: Workspace, current: pd.DataFrame | None = None, *, column: str = "label") -> pd.Series:
    """The user's label (or, with ``column="override"``, override) of every row (``<NA>`` where
    none), a string Series aligned with the table; from ``current`` (:func:`labels`) when given."""
    lab = labels(ws) if current is None else current
    by_id = dict(zip(lab["id"].astype(str), lab[column]))
    return table_of(ws)["id"].astype(str).map(by_id).astype("string")


def label_counts(ws: Workspace, ids: list[str], current: pd.DataFrame | None = None) -> dict[str, int]:
    """How many of the rows ``ids`` (present in the table) carry each label, :data:`UNLABELLED`
    for none; labels in :data:`qaq.io.labels.LABELS` order, those with no row left out."""
    t = table_of(ws)
    keep = t["id"].astype(str).isin(set(map(str, ids))).to_numpy()
    lab = label_column(ws, current)[keep].fillna(UNLABELLED)
    counts = lab.value_counts()
    return {name: int(counts[name]) for name in (UNLABELLED, *LABELS) if name in counts.index}


def set_labels(ws: Workspace, ids: list[str], label: str | None) -> int:
    """Label (None: unlabel) the rows ``ids`` of the table in one write; the rows changed.

    Raises:
        qaq.io.labels.LabelsError: the labels file cannot be read or written; ValueError: no labels file.
    """
    return _set_labels(_labels_file(ws), _present(ws, ids), label)


def set_overrides(ws: Workspace, ids: list[str], override: str | None) -> int:
    """Set (None: clear) the override of the rows ``ids`` of the table in one write; the rows changed.

    Raises:
        qaq.io.labels.LabelsError: the labels file cannot be read or written; ValueError: no labels file.
    """
    return _set_overrides(_labels_file(ws), _present(ws, ids), override)


def _labels_file(ws: Workspace) -> Path:
    if ws.labels_file is None:
        raise ValueError("this data has no file beside which labels could be kept")
    return ws.labels_file


def _present(ws: Workspace, ids: list[str]) -> list[str]:
    """The ids of ``ids`` that are rows of the table, in the table's order."""
    present = table_of(ws)["id"].astype(str)
    return present[present.isin(set(map(str, ids)))].tolist()


def label_sources(ws: Workspace) -> dict[str, tuple[str, str]]:
    """Label columns detection can use: name -> (column, clean label)."""
    out: dict[str, tuple[str, str]] = {}
    if ws.table is not None and "defect" in ws.table.columns:
        out["the data's `defect` column"] = ("defect", "none")
    try:
        if labels(ws)["label"].notna().any():
            out["your labels"] = ("label", "ok")
    except Exception:  # noqa: BLE001 - an unreadable labels file is reported on Browse
        pass
    return out


def labelled_table(ws: Workspace, column: str) -> pd.DataFrame:
    """The table, with the user's labels as a ``label`` column when ``column`` is ``"label"``."""
    table = table_of(ws)
    return table.assign(label=label_column(ws)) if column == "label" else table


def overrides(ws: Workspace) -> tuple[list[str], list[str]]:
    """(include ids, exclude ids) set on Browse (:func:`qaq.io.labels.overrides`); raises LabelsError."""
    if ws.labels_file is None:
        return [], []
    return _overrides(ws.labels_file)


def detection_quality(table: pd.DataFrame, scores: pd.DataFrame, *, label_col: str, clean: str) -> dict[str, Any]:
    """How well suspicion scores find the labelled defects.

    Returns:
        ``table`` (:func:`qaq.select.detection.detection_table`), ``truth`` (:func:`qaq.select.detection.is_defect`),
        ``roc`` and ``pr`` curves by detector; the curves are empty and ``error`` says why when the
        labels hold one class only.
    """
    truth = is_defect(table, label_col=label_col, clean=clean)
    out: dict[str, Any] = {
        "table": detection_table(table, scores, label_col=label_col, clean=clean),
        "truth": truth,
        "roc": {},
        "pr": {},
    }
    try:
        out["roc"], out["pr"] = roc_curves(truth, scores), pr_curves(truth, scores)
    except ValueError as e:
        out["error"] = str(e)
    return out


def defect_shares(ws: Workspace, source: tuple[str, str], selections: dict[str, pd.Series]) -> pd.DataFrame:
    """:func:`qaq.select.detection.defect_share` of each selection (and of all data) for a label source."""
    column, clean = source
    return defect_share(labelled_table(ws, column), selections, label_col=column, clean=clean)

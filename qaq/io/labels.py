"""User labels and manual include/exclude overrides, kept in a JSON file beside the data.

The file ``<data file>.qaq-labels.json`` (see :func:`labels_path`) survives restarts and travels
with the data. It holds one entry per row id the user touched::

    {"format": "qaq-labels", "version": 1,
     "rows": {"row-17": {"label": "hallucinated", "override": "exclude",
                         "updated": "2026-11-25T19:20:00.123456+00:00"}}}

- ``label``: one of :data:`LABELS` or null. ``"ok"`` means clean; use it as ``clean="ok"`` with
  :func:`qaq.select.detection.detection_table` after joining :func:`load_labels` on ``id``.
- ``override``: ``"include"`` / ``"exclude"`` / null; :func:`overrides` turns them into a
  selection recipe's ``include`` / ``exclude`` lists (:mod:`qaq.select.recipes`).
- ``updated``: when the entry last changed (ISO 8601, UTC).

An entry with neither a label nor an override is removed. Writes are atomic
(:func:`qaq.io.files.write_atomic`: a temporary file in the same folder, flushed to disk, then
``os.replace``), so a crash leaves the old file or the new one, never half of one. A file that cannot be read raises :class:`LabelsError` naming it: labels are never
silently discarded or overwritten.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from qaq.io.files import DataError, write_atomic

LABELS: tuple[str, ...] = ("ok", "hallucinated", "mismatched", "echo", "other")
CLEAN_LABEL = "ok"
OVERRIDES: tuple[str, ...] = ("include", "exclude")
SUFFIX = ".qaq-labels.json"

_FORMAT = "qaq-labels"
_VERSION = 1
_COLUMNS = {"id": "string", "label": "string", "override": "string", "updated": "string"}

# Streamlit runs every browser session as a thread of one process: serialise the
# read-modify-write of one file so two sessions labelling at once do not lose an edit.
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class LabelsError(ValueError):
    """A labels file that cannot be used; the message names the file and what is wrong."""


def labels_path(data_path: str | os.PathLike[str]) -> Path:
    """The labels file of a data file: ``<data file>.qaq-labels.json`` in the same folder.

    >>> labels_path("sample_data/code_instructions.jsonl").as_posix()
    'sample_data/code_instructions.jsonl.qaq-labels.json'
    """
    p = Path(data_path)
    return p.with_name(p.name + SUFFIX)


# --------------------------------------------------------------------------------------------
# reading


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """The file's rows (id -> entry), validated; ``{}`` when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as e:
        raise LabelsError(f"cannot read labels file {path}: {e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise LabelsError(
            f"labels file {path} is not valid JSON ({e.msg}, line {e.lineno}, column {e.colno}); "
            "fix it or move it away: qaq will not overwrite it"
        ) from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT or "rows" not in data:
        raise LabelsError(f'{path} is not a qaq labels file (expected an object with "format": "{_FORMAT}" and "rows")')
    if data.get("version") != _VERSION:
        raise LabelsError(f"labels file {path} has version {data.get('version')!r}; this qaq reads version {_VERSION}")
    rows = data["rows"]
    if not isinstance(rows, dict):
        raise LabelsError(f'labels file {path}: "rows" must be an object of id -> entry')
    for row_id, entry in rows.items():
        where = f"labels file {path}, id {row_id!r}"
        if not isinstance(entry, dict) or set(entry) - {"label", "override", "updated"}:
            raise LabelsError(f"{where}: expected an object with label, override and updated")
        if entry.get("label") is not None and entry["label"] not in LABELS:
            raise LabelsError(f"{where}: unknown label {entry['label']!r} (expected one of {', '.join(LABELS)})")
        if entry.get("override") is not None and entry["override"] not in OVERRIDES:
            raise LabelsError(f"{where}: unknown override {entry['override']!r} (expected {' or '.join(OVERRIDES)})")
        if not isinstance(entry.get("updated"), str):
            raise LabelsError(f"{where}: 'updated' must be a timestamp string")
    return rows


def load_labels(path: str | os.PathLike[str]) -> pd.DataFrame:
    """All labels and overrides of a labels file.

    Args:
        path: the labels file (see :func:`labels_path`).

    Returns:
        Columns ``id``, ``label``, ``override`` (``<NA>`` when unset) and ``updated`` (ISO 8601
        UTC), all strings, one line per id in the order they were first touched; an empty frame
        with these columns when the file does not exist.

    Raises:
        LabelsError: the file exists but is unreadable, not JSON, or holds invalid entries.
    """
    rows = _read(Path(path))
    columns = {
        "id": list(rows),
        "label": [e.get("label") for e in rows.values()],
        "override": [e.get("override") for e in rows.values()],
        "updated": [e["updated"] for e in rows.values()],
    }
    return pd.DataFrame({c: pd.Series(v, dtype=_COLUMNS[c]) for c, v in columns.items()})


def overrides(path: str | os.PathLike[str]) -> tuple[list[str], list[str]]:
    """The manual overrides as ``(include ids, exclude ids)``, each sorted.

    They are a selection recipe's ``"include"`` and ``"exclude"`` lists::

        include, exclude = overrides(labels_path(data_file))
        select(df, {**recipe, "include": include, "exclude": exclude})

    Raises:
        LabelsError: as :func:`load_labels`.
    """
    rows = _read(Path(path))
    include = sorted(i for i, e in rows.items() if e.get("override") == "include")
    exclude = sorted(i for i, e in rows.items() if e.get("override") == "exclude")
    return include, exclude


# --------------------------------------------------------------------------------------------
# writing


def _lock(path: Path) -> threading.Lock:
    key = os.path.abspath(path)
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def _write(path: Path, rows: dict[str, dict[str, Any]]) -> None:
    """Write atomically (:func:`qaq.io.files.write_atomic`); a failure is a LabelsError naming the file."""
    text = json.dumps({"format": _FORMAT, "version": _VERSION, "rows": rows}, ensure_ascii=False, indent=1)
    try:
        write_atomic(path, text + "\n")
    except DataError as e:
        # The writer keeps the OSError as the cause: report it in the labels file's own words.
        raise LabelsError(f"cannot write labels file {path}: {e.__cause__ or e.reason}") from None


def _check_id(row_id: str) -> None:
    if not isinstance(row_id, str) or not row_id.strip():
        raise ValueError(f"row_id must be a non-empty string, got {row_id!r}")


def _checked_ids(row_ids: Iterable[str]) -> list[str]:
    """The ids as strings; ValueError for an empty one (before anything is written)."""
    ids = [str(i) if not isinstance(i, str) else i for i in row_ids]
    for row_id in ids:
        _check_id(row_id)
    return ids


def _update(path: str | os.PathLike[str], row_ids: Iterable[str], key: str, value: str | None) -> int:
    """Set ``key`` of each row's entry to ``value`` in one read-modify-write; the entries changed."""
    p = Path(path)
    with _lock(p):
        rows = _read(p)  # raises on a corrupt file: never overwrite labels we could not read
        now = datetime.now(timezone.utc).isoformat()
        changed = 0
        for row_id in dict.fromkeys(row_ids):
            entry = dict(rows.get(row_id, {"label": None, "override": None}))
            if entry.get(key) == value:
                continue  # unchanged (or clearing what is not set): its timestamp stays
            entry[key] = value
            changed += 1
            if entry.get("label") is None and entry.get("override") is None:
                del rows[row_id]
            else:
                rows[row_id] = {"label": entry.get("label"), "override": entry.get("override"), "updated": now}
        if changed:
            _write(p, rows)
        return changed


def set_label(path: str | os.PathLike[str], row_id: str, label: str | None) -> None:
    """Set (or with None, clear) the label of one row and save the file.

    Args:
        path: the labels file (created when missing; its folder must exist).
        row_id: the row's ``id``.
        label: one of :data:`LABELS`, or None to remove the label.

    Raises:
        ValueError: an unknown label or an empty id.
        LabelsError: the existing file cannot be read, or the new one cannot be written (the
            old file is then left as it was).
    """
    _check_id(row_id)
    _check_label(label)
    _update(path, [row_id], "label", label)


def set_labels(path: str | os.PathLike[str], row_ids: Iterable[str], label: str | None) -> int:
    """Set (or with None, clear) the label of many rows in one write (labelling a chart's picked rows).

    Args:
        path: the labels file (created when missing; its folder must exist).
        row_ids: the rows' ``id`` values (repeats count once).
        label: one of :data:`LABELS`, or None to remove their labels.

    Returns:
        How many rows' labels changed (rows that already had ``label`` are left as they were).

    Raises:
        ValueError: an unknown label or an empty id (nothing is written).
        LabelsError: as :func:`set_label`.
    """
    ids = _checked_ids(row_ids)
    _check_label(label)
    return _update(path, ids, "label", label)


def _check_label(label: str | None) -> None:
    if label is not None and label not in LABELS:
        raise ValueError(f"unknown label {label!r}; expected one of {', '.join(LABELS)} (or None to clear)")


def set_overrides(path: str | os.PathLike[str], row_ids: Iterable[str], override: str | None) -> int:
    """Set (or with None, clear) the override of many rows in one write (excluding a chart's picked rows).

    Returns:
        How many rows' overrides changed.

    Raises:
        ValueError: an unknown override or an empty id (nothing is written).
        LabelsError: as :func:`set_label`.
    """
    ids = _checked_ids(row_ids)
    if override is not None and override not in OVERRIDES:
        raise ValueError(f"unknown override {override!r}; expected one of {', '.join(OVERRIDES)} (or None to clear)")
    return _update(path, ids, "override", override)


def set_override(path: str | os.PathLike[str], row_id: str, override: str | None) -> None:
    """Force one row into (``"include"``) or out of (``"exclude"``) every selection, or clear it.

    Args:
        path: the labels file (created when missing; its folder must exist).
        row_id: the row's ``id``.
        override: ``"include"``, ``"exclude"``, or None to remove the override.

    Raises:
        ValueError: an unknown override or an empty id.
        LabelsError: as :func:`set_label`.
    """
    _check_id(row_id)
    if override is not None and override not in OVERRIDES:
        raise ValueError(f"unknown override {override!r}; expected {' or '.join(OVERRIDES)} (or None to clear)")
    _update(path, [row_id], "override", override)

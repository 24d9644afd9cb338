"""The file of selected rows: records of a source written back out, each exactly as read.

The rows are re-read from the *source file* with :func:`qaq.io.readers.read_records` (raw JSONL line
text, raw CSV cells, Parquet rows), never rebuilt from the table, so what comes out is what
went in:

======== =========== =====================================================================
in       out         what is kept
======== =========== =====================================================================
JSONL    .jsonl      the line's text, byte for byte (re-serialized only when scores are added)
JSON     .jsonl      each array element, one per line
CSV      .csv        the header and the raw cell strings
Parquet  .parquet    the columns, their types and the schema metadata (pyarrow ``take``)
HF       .parquet    as Parquet (a folder saved by ``datasets``' save_to_disk is a table)
any      other       converted: JSON values <-> CSV cells (nested values as JSON text) <->
                     Parquet columns (inferred by pyarrow)
======== =========== =====================================================================

Every file is written with :func:`qaq.io.files.atomic_path` (a temporary file in the target's folder,
moved over the target), so a failed write leaves nothing behind and never a half-written file.
A whole selection (its selected and discarded rows and its manifest) is :mod:`qaq.io.export`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qaq.io.files import OUTPUT_SUFFIXES, atomic_path, is_saved_dataset, json_default, writable_format
from qaq.io.readers import read_records, read_saved_dataset


class ExportError(ValueError):
    """A selection that cannot be written as asked; the message says why."""


# --------------------------------------------------------------------------------------------
# small helpers


def output_format(path: str | os.PathLike[str]) -> str:
    """The output format of ``path`` from its suffix (``.jsonl``, ``.csv``, ``.parquet``; see
    :func:`qaq.io.files.writable_format`).

    Raises:
        ExportError: any other suffix.
    """
    fmt = writable_format(path)
    if fmt is None:
        raise ExportError(f"cannot write {os.fspath(path)!r}: the suffix must be one of {', '.join(OUTPUT_SUFFIXES)}")
    return fmt.name


def check_folder(path: Path) -> None:
    """Raise :class:`ExportError` when the folder ``path`` goes in does not exist."""
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {os.fspath(path)!r}: no such folder {os.fspath(path.parent)!r}")


def atomic_output(path: Path) -> AbstractContextManager[Path]:
    """:func:`qaq.io.files.atomic_path`, after checking that the folder exists (a clear error)."""
    check_folder(path)
    return atomic_path(path)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=json_default)


def _csv_cell(value: Any) -> str:
    """A JSON value as a CSV cell: strings as they are, null as "", the rest as JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, (dict, list, tuple, bool, int, float)):
        value = json_default(value)  # a timestamp's ISO text is a cell as it is, not a JSON string
        if isinstance(value, str):
            return value
    return _dumps(value)


def _score_records(scores: pd.DataFrame, prefix: str) -> list[dict[str, Any]]:
    """Plain-Python rows of ``scores`` with prefixed keys; missing values become None."""
    cols = {f"{prefix}{c}": scores[c] for c in scores.columns}
    values = {}
    for name, s in cols.items():
        obj = s.astype(object).to_numpy()
        missing = s.isna().to_numpy()
        values[name] = [
            None if m else (v.item() if hasattr(v, "item") else v) for v, m in zip(obj, missing, strict=True)
        ]
    if not values:
        return [{} for _ in range(len(scores))]
    return [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)]


# --------------------------------------------------------------------------------------------
# reading the source


def _csv_header(path: Path) -> list[str]:
    """The header row of a CSV file (gzip-aware, BOM stripped), read like qaq.io.readers reads it."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rb") as f:
        text = f.read().decode("utf-8").removeprefix("\ufeff")
    for cells in csv.reader(io.StringIO(text, newline="")):
        if cells:
            return cells
    return []


def _read_selected(source: Path, rows: Sequence[int]) -> tuple[str, list[Any] | pa.Table, list[str], list[int]]:
    """The selected records of ``source`` in the order of ``rows``.

    Returns:
        (kind, records, csv header, lines): kind is ``jsonl`` (records are line texts), ``json``
        (parsed values), ``csv`` (cell lists) or ``parquet`` (a pyarrow Table of the rows, also
        for a saved Hugging Face dataset); lines are the records' lines in the file (JSON arrays,
        Parquet, Hugging Face datasets: record numbers).
    """
    wanted: dict[int, int] = {r: i for i, r in enumerate(rows)}
    got: list[Any] = [None] * len(rows)
    lines = [r + 1 for r in rows]
    kind = ""
    n = 0
    for index, (_line, record) in enumerate(read_records(source)):
        if index == 0:
            kind = (
                "jsonl"
                if isinstance(record, str)
                else "csv"
                if isinstance(record, list)
                else ("parquet" if isinstance(record, int) and not isinstance(record, bool) else "json")
            )
            if kind == "parquet":
                break
        n = index + 1
        at = wanted.get(index)
        if at is not None:
            got[at], lines[at] = record, _line
    if kind == "parquet":  # a Parquet file, or a saved Hugging Face dataset: a table
        table = read_saved_dataset(source) if is_saved_dataset(source) else pq.read_table(source)
        n = table.num_rows
    _check_rows_in_range(rows, n, source)
    if kind == "parquet":
        return kind, table.take(pa.array(np.asarray(rows, dtype=np.int64))), [], lines
    return kind, got, _csv_header(source) if kind == "csv" else [], lines


def _check_rows(rows: Sequence[int]) -> list[int]:
    out: list[int] = []
    for r in rows:
        if isinstance(r, (bool, np.bool_)) or not isinstance(r, (int, np.integer)):
            raise ExportError(f"rows must be integer record indices, got {r!r}")
        if r < 0:
            raise ExportError(f"rows must be >= 0 (0-based record indices), got {r}")
        out.append(int(r))
    if len(set(out)) != len(out):
        raise ExportError("rows must not repeat a record index")
    return out


def _check_rows_in_range(rows: Sequence[int], n: int, source: Path) -> None:
    if rows and max(rows) >= n:
        raise ExportError(f"row {max(rows)} is out of range: {os.fspath(source)!r} has {n} records")


# --------------------------------------------------------------------------------------------
# writing


def write_selection(
    source_path: str | os.PathLike[str],
    rows: Sequence[int],
    out_path: str | os.PathLike[str],
    *,
    scores: pd.DataFrame | None = None,
    score_prefix: str | None = None,
) -> int:
    """Write records of ``source_path`` to ``out_path``, each exactly as read.

    Args:
        source_path: the original file (any format :func:`qaq.io.readers.read_records` reads).
        rows: 0-based record indices (the table's ``row`` column), written in this order.
        out_path: the output; its suffix picks the format (``.jsonl``, ``.csv``, ``.parquet``).
        scores: optional values to append to each record, one line per entry of ``rows``
            (same order); its columns become fields/columns named ``score_prefix + column``.
        score_prefix: prefix of the added fields (default ``""``).

    Returns:
        The number of records written.

    Raises:
        ExportError: unknown output suffix, missing folder, a bad or out-of-range row, a
            ``scores`` frame of the wrong length, an added name that clashes with a source
            field, or records the output format cannot hold. Nothing is written then.
        qaq.io.datasets.DataError: unreadable or malformed source.
    """
    source, out = Path(source_path), Path(out_path)
    fmt = output_format(out)
    rows = _check_rows(rows)
    prefix = score_prefix or ""
    if scores is not None and len(scores) != len(rows):
        raise ExportError(f"scores has {len(scores)} lines for {len(rows)} rows")
    added = [] if scores is None else [f"{prefix}{c}" for c in scores.columns]
    if len(set(added)) != len(added):
        raise ExportError(f"added score names repeat: {added}")
    extra = _score_records(scores, prefix) if scores is not None else None

    kind, records, header, lines = _read_selected(source, rows)
    try:
        with atomic_output(out) as tmp:
            if kind == "parquet":
                _write_from_table(records, tmp, fmt, scores, prefix)
            else:
                _write_from_records(kind, records, header, tmp, fmt, extra, added, lines=lines)
    except (pa.ArrowException, TypeError) as e:
        raise ExportError(f"cannot write these records as {fmt}: {e}") from None
    return len(rows)


def _as_object(kind: str, record: Any, header: list[str]) -> Any:
    if kind == "jsonl":
        return json.loads(record)
    if kind == "csv":
        if len(record) != len(header):
            raise ExportError(f"a CSV row has {len(record)} cells for {len(header)} header names")
        return dict(zip(header, record, strict=True))
    return record


def _with_scores(obj: Any, extra: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ExportError(f"cannot add scores to a record that is not a JSON object ({type(obj).__name__})")
    clash = [k for k in extra if k in obj]
    if clash:
        raise ExportError(f"added score name(s) {clash} clash with fields of the source; pick another prefix")
    return {**obj, **extra}


def _column_type_error(name: str, values: list[Any], lines: Sequence[int], error: Exception) -> str:
    """Why a field cannot be one Parquet column: the first record whose value's type differs."""
    first = next(((i, v) for i, v in enumerate(values) if v is not None), None)
    other = (
        None
        if first is None
        else next(((i, v) for i, v in enumerate(values) if v is not None and type(v) is not type(first[1])), None)
    )
    if first is None or other is None:
        return f"field {name!r} cannot be a Parquet column: {error}"
    return (
        f"field {name!r} cannot be a Parquet column: line {lines[other[0]]} holds {type(other[1]).__name__} "
        f"where line {lines[first[0]]} holds {type(first[1]).__name__} (a Parquet column has one type): "
        "write the selection as .jsonl, or give the field one type in the data"
    )


def _write_from_records(
    kind: str,
    records: list[Any],
    header: list[str],
    tmp: Path,
    fmt: str,
    extra: list[dict[str, Any]] | None,
    added: list[str],
    lines: Sequence[int] = (),
) -> None:
    if fmt == "jsonl":
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            for i, record in enumerate(records):
                if kind == "jsonl" and extra is None:
                    f.write(record + "\n")  # the line's own text: byte for byte
                    continue
                obj = _as_object(kind, record, header)
                f.write(_dumps(_with_scores(obj, extra[i]) if extra is not None else obj) + "\n")
        return

    if kind == "csv":
        short = next((cells for cells in records if len(cells) != len(header)), None)
        if short is not None:
            raise ExportError(f"a CSV row has {len(short)} cells for {len(header)} header names")
        clash = sorted(set(added) & set(header))
        if clash:
            raise ExportError(f"added score name(s) {clash} clash with columns of the source; pick another prefix")
        if fmt == "csv":
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header + added)
                for i, cells in enumerate(records):
                    w.writerow(cells + ([_csv_cell(v) for v in extra[i].values()] if extra else []))
            return
        # CSV -> Parquet: every source column stays a string column.
        columns = {h: pa.array([cells[j] for cells in records], pa.string()) for j, h in enumerate(header)}
        table = pa.table(columns) if header else pa.table({})
        if extra is not None:
            for name in added:
                table = table.append_column(name, pa.array([e[name] for e in extra]))
        pq.write_table(table, tmp)
        return

    objs = [_as_object(kind, r, header) for r in records]
    if extra is not None:
        objs = [_with_scores(o, e) for o, e in zip(objs, extra, strict=True)]
    for o in objs:
        if not isinstance(o, dict):
            raise ExportError(f"cannot write a record that is not a JSON object ({type(o).__name__}) as {fmt}")
    # Columns: every field of any record, in first-seen order (records may differ in fields).
    names = list(dict.fromkeys(k for o in objs for k in o))
    if fmt == "csv":
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            if names:
                w.writerow(names)
            for o in objs:
                w.writerow([_csv_cell(o.get(k)) for k in names])
    else:
        # One array per column, so pyarrow infers each column's type from all its values
        # (Table.from_pylist would take the schema from the first record alone).
        columns = {}
        for k in names:
            values = [o.get(k) for o in objs]
            try:
                columns[k] = pa.array(values)
            except (pa.ArrowException, TypeError) as e:
                raise ExportError(_column_type_error(k, values, lines, e)) from None
        pq.write_table(pa.table(columns), tmp)


def _write_from_table(table: pa.Table, tmp: Path, fmt: str, scores: pd.DataFrame | None, prefix: str) -> None:
    if scores is not None:
        clash = sorted({f"{prefix}{c}" for c in scores.columns} & set(table.column_names))
        if clash:
            raise ExportError(f"added score name(s) {clash} clash with columns of the source; pick another prefix")
        for c in scores.columns:
            s = scores[c]
            arr = pa.Array.from_pandas(s.reset_index(drop=True))
            table = table.append_column(f"{prefix}{c}", arr)
    if fmt == "parquet":
        pq.write_table(table, tmp)
        return
    objs = table.to_pylist()
    if fmt == "jsonl":
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            for o in objs:
                f.write(_dumps({k: _nan_to_none(v) for k, v in o.items()}) + "\n")
    else:
        names = table.column_names
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(names)
            for o in objs:
                w.writerow([_csv_cell(_nan_to_none(o[k])) for k in names])


def _nan_to_none(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v

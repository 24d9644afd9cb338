"""Write selected rows back out, each exactly as read, plus a manifest to reproduce the selection.

The rows are re-read from the *source file* with :func:`qaq.io.datasets.read_records` (raw JSONL line
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
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qaq import __version__
from qaq.columns import SCORE_FIELDS, score_column, scored_models
from qaq.io.datasets import file_sha256, read_records, read_saved_dataset
from qaq.io.files import OUTPUT_SUFFIXES, atomic_path, atomic_paths, is_saved_dataset, json_default, writable_format
from qaq.select.recipes import Recipe, recipe_to_dict
from qaq.select.selection import stratum_counts

MANIFEST_VERSION = 1


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


def ids_sha256(ids: Iterable[Any]) -> str:
    """Fingerprint of a selection: sha256 of each id as UTF-8 followed by ``"\\n"``, in order.

    >>> ids_sha256(["a", "b"]) == hashlib.sha256(b"a\\nb\\n").hexdigest()
    True
    """
    digest = hashlib.sha256()
    for i in ids:
        digest.update(str(i).encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {os.fspath(path)!r}: no such folder {os.fspath(path.parent)!r}")


def _atomic(path: Path) -> AbstractContextManager[Path]:
    """:func:`qaq.io.files.atomic_path`, after checking that the folder exists (a clear error)."""
    _check_folder(path)
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
    """The header row of a CSV file (gzip-aware, BOM stripped), read like qaq.io.datasets reads it."""
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
        source_path: the original file (any format :func:`qaq.io.datasets.read_records` reads).
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
        with _atomic(out) as tmp:
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


# --------------------------------------------------------------------------------------------
# manifests


def write_manifest(
    path: str | os.PathLike[str],
    *,
    recipe: Any,
    inputs: Mapping[str, Any],
    n_selected: int,
    ids_sha256: str,
    models: Mapping[str, Any] | None = None,
    templates: Mapping[str, Any] | None = None,
    counts: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    qaq_version: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the record of a selection; ``qaq select --recipe MANIFEST`` reproduces it.

    Args:
        path: the JSON file to write.
        recipe: a :class:`qaq.select.recipes.Recipe` (or its dict), stored under ``"recipe"``.
        inputs: the input files, e.g. ``{"scores": {"path": ..., "sha256": ...}}``.
        n_selected: rows selected.
        ids_sha256: :func:`ids_sha256` of the selected ids in source order.
        models: scoring-model metadata (from the score file).
        templates: prompt/template settings used for scoring.
        counts: rows and selected rows per stratum (:func:`qaq.select.selection.stratum_counts`).
        qaq_version: defaults to the running qaq's version.
        extra: more JSON-ready keys (e.g. ``n_rows``, ``outputs``).

    Returns:
        The manifest as written.
    """
    manifest = _manifest_dict(
        recipe=recipe,
        inputs=inputs,
        n_selected=n_selected,
        ids_sha256=ids_sha256,
        models=models,
        templates=templates,
        counts=counts,
        qaq_version=qaq_version,
        extra=extra,
    )
    text = json.dumps(manifest, ensure_ascii=False, indent=2, default=json_default) + "\n"
    out = Path(path)
    with _atomic(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return manifest


def _manifest_dict(
    *,
    recipe: Any,
    inputs: Mapping[str, Any],
    n_selected: int,
    ids_sha256: str,
    models: Mapping[str, Any] | None = None,
    templates: Mapping[str, Any] | None = None,
    counts: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    qaq_version: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    if isinstance(counts, pd.DataFrame):
        counts = [
            {k: (None if pd.isna(v) else int(v)) for k, v in row.items()} for row in counts.to_dict(orient="records")
        ]
    manifest: dict[str, Any] = {
        "qaq_manifest": MANIFEST_VERSION,
        "qaq_version": qaq_version or __version__,
        "recipe": recipe_to_dict(recipe) if isinstance(recipe, Recipe) else dict(recipe),
        "inputs": dict(inputs),
        "models": dict(models or {}),
        "templates": dict(templates or {}),
        "counts": list(counts or []),
        "n_selected": int(n_selected),
        "ids_sha256": ids_sha256,
        **dict(extra or {}),
    }
    return manifest


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a manifest written by :func:`write_manifest`.

    Raises:
        ExportError: not readable, not JSON, or not a qaq manifest.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ExportError(f"cannot read manifest {os.fspath(p)!r}: {e}") from None
    except json.JSONDecodeError as e:
        raise ExportError(f"manifest {os.fspath(p)!r} is not valid JSON: {e.msg} (line {e.lineno})") from None
    if not isinstance(data, dict) or "qaq_manifest" not in data or not isinstance(data.get("recipe"), dict):
        raise ExportError(f"{os.fspath(p)!r} is not a qaq manifest (no 'qaq_manifest' and 'recipe' keys)")
    return data


# --------------------------------------------------------------------------------------------
# a whole selection


def added_score_columns(selected: pd.DataFrame) -> list[str]:
    """The columns ``--add-scores`` appends: each model's scores, stratum and rank, then diff, sum."""
    cols: list[str] = []
    for m in scored_models(selected.columns):
        names = [score_column(m, f) for f in (*SCORE_FIELDS, "stratum", "rank")]
        cols += [c for c in names if c in selected.columns]
    return cols + [c for c in ("diff", "sum") if c in selected.columns]


def export_selection(
    selected: pd.DataFrame,
    source_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    recipe: Any,
    discarded_path: str | os.PathLike[str] | None = None,
    manifest_path: str | os.PathLike[str] | None = None,
    score_prefix: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    models: Mapping[str, Any] | None = None,
    templates: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a selection: the selected rows, optionally the discarded ones and a manifest.

    All or nothing (:func:`qaq.io.files.atomic_paths`): each file is first written beside its
    target under a temporary name and the targets are replaced only once every file is written.

    Args:
        selected: the output of :func:`qaq.select.selection.select` (needs ``row``, ``selected``;
            ``id`` for the manifest's ``ids_sha256``).
        source_path: the original file the ``row`` indices point into.
        out_path: where the selected rows go (format from the suffix).
        recipe: the :class:`qaq.select.recipes.Recipe` used (for the manifest).
        discarded_path: where the other rows go, if anywhere.
        manifest_path: where the manifest goes, if anywhere.
        score_prefix: append :func:`added_score_columns` to every row under this prefix.
        inputs: input hashes for the manifest (default: the source file's).
        models: scoring-model metadata for the manifest.
        templates: template settings for the manifest.
        extra: more manifest keys.

    Returns:
        The manifest (also when not written): ``n_selected``, ``ids_sha256``, ``counts``, ...
    """
    paths = [Path(p) for p in (out_path, discarded_path) if p is not None]
    for p in paths:
        output_format(p)
    table = selected.sort_values("row", kind="stable") if "row" in selected.columns else None
    if table is None:
        raise ExportError("the selection has no 'row' column: cannot locate the original records")
    mask = table["selected"].to_numpy(dtype=bool)
    add = added_score_columns(table) if score_prefix is not None else []
    ids = table.loc[mask, "id"].astype(str).tolist() if "id" in table.columns else []
    manifest = {
        "recipe": recipe,
        "inputs": dict(inputs)
        if inputs is not None
        else {"source": {"path": str(Path(source_path).resolve()), "sha256": file_sha256(source_path)}},
        "n_selected": int(mask.sum()),
        "ids_sha256": ids_sha256(ids),
        "models": models,
        "templates": templates,
        "counts": stratum_counts(table, recipe),
        "extra": {
            "n_rows": len(table),
            "outputs": {
                "selected": str(Path(out_path).resolve()),
                **({"discarded": str(Path(discarded_path).resolve())} if discarded_path is not None else {}),
            },
            **dict(extra or {}),
        },
    }
    parts = [(Path(out_path), mask)]
    if discarded_path is not None:
        parts.append((Path(discarded_path), ~mask))
    targets = [target for target, _ in parts] + ([Path(manifest_path)] if manifest_path is not None else [])
    for target in targets:
        _check_folder(target)
    # Each file is written to its own temporary path (keeping its suffix, which picks the format);
    # the targets are replaced only once every file is written.
    with atomic_paths(targets) as temps:
        for (_, rows_mask), tmp in zip(parts, temps):
            scores = table.loc[rows_mask, add].reset_index(drop=True) if score_prefix is not None else None
            write_selection(
                source_path,
                table.loc[rows_mask, "row"].astype("int64").tolist(),
                tmp,
                scores=scores,
                score_prefix=score_prefix,
            )
        written = write_manifest(temps[-1], **manifest) if manifest_path is not None else _manifest_dict(**manifest)
    return written

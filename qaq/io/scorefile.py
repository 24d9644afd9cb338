"""Score files: write and read qaq score tables with their run metadata; read the QAQ authors' files.

A score table is ``id`` plus per-model score columns (:mod:`qaq.columns`). Parquet files keep
the run metadata in their schema metadata (key ``b"qaq"``); CSV and JSONL files in a sidecar
``<path>.meta.json``. Every file is written atomically (:func:`qaq.io.files.atomic_path`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qaq.columns import AUTHORS_SUFFIXES, DATA_COLUMNS, SCORE_FIELDS, score_column, scored_models
from qaq.io.datasets import DataError, load_dataset
from qaq.io.files import SCORE_SUFFIXES, atomic_path, json_default, writable_format, write_atomic
from qaq.io.readers import read_format, read_parquet, read_text, reading, record_dicts, type_name

_PARQUET_META_KEY = b"qaq"
_AUTHORS_FORMAT = "qaq-authors"

# The authors' RMI suffix: a model counts when its three AUTHORS_SUFFIXES columns are present.
_AUTHORS_RMI = next(suffix for suffix, field in AUTHORS_SUFFIXES.items() if field == "rmi")


def _authors_models(columns: Sequence[str]) -> list[str]:
    present = set(columns)
    names = [c.removesuffix(_AUTHORS_RMI) for c in columns if c.endswith(_AUTHORS_RMI)]
    return [n for n in names if n and all(n + suffix in present for suffix in AUTHORS_SUFFIXES)]


def is_authors_format(columns: Sequence[str]) -> bool:
    """Whether ``columns`` hold the QAQ authors' scores (``{name}_log_PPL_Q``, ``_log_PPL_Q_A``, ``_RMI``)."""
    return bool(_authors_models(list(columns)))


def from_authors_format(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with qaq score columns derived from the QAQ authors' columns.

    For every model ``name`` (the last part of its hub id, e.g. ``deepseek-coder-6.7b-base``):
    ``{name}_log_PPL_Q -> {name}_nll_q``, ``{name}_log_PPL_Q_A -> {name}_nll_q_given_a``,
    ``{name}_RMI -> {name}_rmi``. Their "log PPL" is already a mean token NLL in nats, so values
    are copied as floats; the original columns are kept.

    Raises:
        DataError: no authors' score columns, or a non-numeric value in one.
    """
    names = _authors_models(list(df.columns))
    if not names:
        raise DataError("no QAQ-authors score columns ({name}_log_PPL_Q, {name}_log_PPL_Q_A, {name}_RMI)")
    out = df.copy()
    for name in names:
        for suffix, field in AUTHORS_SUFFIXES.items():
            try:
                out[score_column(name, field)] = pd.to_numeric(out[name + suffix]).astype("float64")
            except (ValueError, TypeError) as e:
                raise DataError(f"expected numbers: {e}", field=name + suffix) from None
    return out


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _parse_metadata(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"invalid run metadata: {e}", path=path) from None
    if not isinstance(metadata, dict):
        raise DataError(f"run metadata must be a JSON object, got {type_name(metadata)}", path=path)
    return metadata


def _restore_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the contract's dtypes on the data and score columns it has."""
    dtypes = {c: d for c, d in DATA_COLUMNS.items() if c in df.columns}
    for model in scored_models(df.columns):
        dtypes.update(
            {score_column(model, f): d for f, d in SCORE_FIELDS.items() if score_column(model, f) in df.columns}
        )
    for column, dtype in dtypes.items():
        try:
            df[column] = df[column].astype(dtype)
        except (ValueError, TypeError) as e:
            raise DataError(f"expected {dtype} values: {e}", field=column) from None
    return df


def _read_scores_csv(path: Path) -> pd.DataFrame:
    text = read_text(path)
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    # Text columns keep "", "NA", "null" as text; an empty cell elsewhere is a missing value.
    strings = [c for c in header if DATA_COLUMNS.get(c) == "string"]
    try:
        return pd.read_csv(
            io.StringIO(text),
            dtype={c: str for c in strings},
            keep_default_na=False,
            na_values={c: [""] for c in header if c not in strings},
        )
    except (ValueError, pd.errors.ParserError) as e:
        raise DataError(f"invalid CSV: {e}", path=path) from None


def load_scores(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a score file written by :func:`write_scores`, or one of the QAQ authors' files.

    Run metadata comes from the Parquet schema metadata (key ``b"qaq"``) or, for CSV/JSONL, from
    the sidecar ``<path>.meta.json``; it is ``{}`` when absent. A file without qaq metadata or
    data columns whose columns hold the authors' scores is loaded with :func:`load_dataset`
    (preferring their default fields ``problem``/``generations``), converted with
    :func:`from_authors_format`, and returned with metadata ``{"format": "qaq-authors"}``.

    Returns:
        (table, metadata), data and score columns restored to the contract's dtypes.

    Raises:
        DataError: missing or malformed file or metadata.
    """
    path = Path(path)
    fmt = read_format(path, None)
    metadata: dict[str, Any] | None = None
    if fmt == "parquet":
        table = read_parquet(path)
        raw = (table.schema.metadata or {}).get(_PARQUET_META_KEY)
        metadata = None if raw is None else _parse_metadata(raw, path)
        frame = table.to_pandas()
    else:
        frame = (
            _read_scores_csv(path) if fmt == "csv" else pd.DataFrame([record for _, record in record_dicts(path, fmt)])
        )
        if _sidecar(path).is_file():
            with reading(_sidecar(path)):
                metadata = _parse_metadata(_sidecar(path).read_bytes(), _sidecar(path))
    columns = list(frame.columns)
    if metadata is None and is_authors_format(columns) and not set(DATA_COLUMNS) <= set(columns):
        fields = {"query": "problem", "answer": "generations"} if {"problem", "generations"} <= set(columns) else {}
        data = load_dataset(path, fmt=fmt, **fields)
        try:
            return from_authors_format(data), {"format": _AUTHORS_FORMAT}
        except DataError as e:
            raise e.at(path) from None
    if metadata is None and not scored_models(columns):
        shown = ", ".join(map(repr, columns[:6])) + (", ..." if len(columns) > 6 else "")
        raise DataError(
            f"holds no scores (its columns: {shown}); a score file has NAME_nll_q, NAME_nll_q_given_a "
            "and NAME_rmi per model (qaq score), or the QAQ authors' NAME_log_PPL_Q, NAME_log_PPL_Q_A "
            "and NAME_RMI: if this is the dataset, give it with --data and the score file first",
            path=path,
        )
    try:
        return _restore_dtypes(frame), metadata or {}
    except DataError as e:
        raise e.at(path) from None


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _write_jsonl(df: pd.DataFrame, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for record in df.to_dict(orient="records"):
            row = {str(k): _json_value(v) for k, v in record.items()}
            f.write(json.dumps(row, ensure_ascii=False, default=json_default) + "\n")


def check_scores_path(path: str | os.PathLike[str]) -> str:
    """The format a score file at ``path`` would be written in; checked before any scoring.

    Raises:
        DataError: an unsupported suffix, or a folder that does not exist.
    """
    path = Path(path)
    fmt = writable_format(path, scores=True)
    if fmt is None:
        raise DataError(
            f"cannot write scores as {path.suffix or '(no suffix)'!r}: "
            f"use {', '.join(SCORE_SUFFIXES[:-1])} or {SCORE_SUFFIXES[-1]}",
            path=path,
        )
    if not path.parent.is_dir():
        raise DataError("no such folder", path=path.parent)
    return fmt.name


def write_scores(df: pd.DataFrame, path: str | os.PathLike[str], metadata: dict[str, Any]) -> None:
    """Write a score table atomically, in the format of the suffix.

    ``.parquet`` stores ``metadata`` as JSON in the schema metadata (key ``b"qaq"``); ``.csv``
    and ``.jsonl`` store it in the sidecar ``<path>.meta.json``. Each file is written with
    :func:`qaq.io.files.atomic_path` (a temporary file in the same folder, then ``os.replace``).

    Raises:
        DataError: unsupported suffix, missing folder, or a value the format cannot hold.
        TypeError: ``metadata`` is not JSON-serialisable.
    """
    path = Path(path)
    fmt = check_scores_path(path)
    meta_json = json.dumps(metadata, ensure_ascii=False, sort_keys=True)
    try:
        if fmt == "parquet":
            table = pa.Table.from_pandas(df, preserve_index=False)
            schema_meta = {**(table.schema.metadata or {}), _PARQUET_META_KEY: meta_json.encode()}
            with atomic_path(path) as tmp:
                pq.write_table(table.replace_schema_metadata(schema_meta), tmp)
            return
        with atomic_path(path) as tmp:
            if fmt == "csv":
                df.to_csv(tmp, index=False)
            else:
                _write_jsonl(df, tmp)
        write_atomic(_sidecar(path), meta_json + "\n")
    except (pa.ArrowException, TypeError) as e:
        raise DataError(f"cannot store the table as {fmt}: {e}", path=path) from None
    except OSError as e:
        raise DataError(f"cannot write the file: {e}", path=path) from None

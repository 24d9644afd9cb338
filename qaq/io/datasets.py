"""Load instruction data into the qaq table (see :mod:`qaq.columns`); score files are :mod:`qaq.io.scorefile`.

:func:`load_dataset` reads a file's records (:mod:`qaq.io.readers`: JSONL, JSON, CSV, Parquet, a
saved Hugging Face dataset), finds which fields hold Q and A (:mod:`qaq.io.fieldmapping`: given,
or detected by :func:`qaq.io.fieldmapping.detect_mapping`), turns each record into its texts and
id (:mod:`qaq.io.pairs`) and builds the table, which records where it came from (its file's
:func:`file_sha256`). A well-formed, flat JSONL or Parquet file takes a faster way to the same
table (:mod:`qaq.io.columnar`: Arrow columns at once, not one record at a time); anything else,
and every error, goes record by record. Every failure a user can cause raises
:class:`DataError`, which names the file, the line and the field (it lives in
:mod:`qaq.io.files`, shared with the writers, and is imported from here). Also here:
:func:`skipped_rows`, and :func:`refuse_inputs`, which keeps an output from writing over its
inputs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qaq.columns import DATA_COLUMNS, SKIP_EMPTY_ANSWER, SKIP_EMPTY_QUERY
from qaq.io.columnar import Columns, columnar_rows
from qaq.io.fieldmapping import FieldMapping, resolve_mapping
from qaq.io.files import HF_DATASET_FILES, DataError, is_saved_dataset
from qaq.io.pairs import texts_and_ids
from qaq.io.readers import read_format, reading, record_dicts, saved_dataset_files


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes (input hashes in score metadata and manifests).

    A saved Hugging Face dataset folder hashes as its files: the sha256 of the text that
    ``sha256sum`` prints for ``state.json``, ``dataset_info.json`` and its Arrow files, in name
    order (one ``"<hex>  <name>\\n"`` line each).
    """
    if is_saved_dataset(path):
        folder = Path(path)
        names = sorted({*HF_DATASET_FILES, *(f.name for f in saved_dataset_files(folder))})
        listing = "".join(f"{file_sha256(folder / name)}  {name}\n" for name in names)
        return hashlib.sha256(listing.encode("utf-8")).hexdigest()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    with reading(path):
        return file_sha256(path)


def _passthrough_names(fields: Sequence[str]) -> dict[str, str]:
    """Column name for each passed-through field: reserved names get a ``src_`` prefix."""
    taken = set(DATA_COLUMNS) | set(fields)
    names = {}
    for field in fields:
        name = field
        if name in DATA_COLUMNS:
            name = f"src_{field}"
            while name in taken:
                name = f"src_{name}"
            taken.add(name)
        names[field] = name
    return names


def _table(columns: Columns) -> pd.DataFrame:
    """The qaq columns of the rows, then the source fields passed through."""
    data: dict[str, Any] = {
        "id": columns.ids,
        "query": columns.queries,
        "answer": columns.answers,
        "context": columns.contexts,
        "row": range(len(columns.lines)),
        "line": columns.lines,
        "skip": columns.skip,
    }
    frame = pd.DataFrame({c: pd.Series(v, dtype=DATA_COLUMNS[c]) for c, v in data.items()})
    names = _passthrough_names(list(columns.extra))
    extra = pd.DataFrame({names[f]: values for f, values in columns.extra.items()}, index=frame.index)
    return pd.concat([frame, extra], axis=1) if columns.extra else frame


def _record_rows(path: Path, fmt: str, given: dict[str, str | None]) -> tuple[FieldMapping, Columns]:
    """The mapping and columns of a file read record by record: every check, every error."""
    records = list(record_dicts(path, fmt))
    if not records:
        raise DataError("empty file: no records", path=path)
    fields = list(dict.fromkeys(key for _, record in records for key in record))
    try:
        mapping = resolve_mapping(fields, **given)
    except DataError as e:
        raise e.at(path) from None
    texts, ids = texts_and_ids(path, records, mapping)
    skip = [SKIP_EMPTY_QUERY if not q.strip() else SKIP_EMPTY_ANSWER if not a.strip() else "" for q, a, _ in texts]
    extra = {f: [record.get(f) for _, record in records] for f in fields if f not in mapping.consumed()}
    queries, answers, contexts = ([t[i] for t in texts] for i in range(3))
    return mapping, Columns(ids, queries, answers, contexts, skip, [line for line, _ in records], extra)


def _source(path: Path, fmt: str, mapping: FieldMapping, frame: pd.DataFrame) -> dict[str, Any]:
    """The table's ``attrs["qaq_source"]``: where the rows came from and how they were read."""
    return {
        "path": str(path.resolve()),
        "format": fmt,
        "sha256": _file_sha256(path),
        "mapping": dataclasses.asdict(mapping),
        "n_rows": len(frame),
        "n_skipped": int((frame["skip"] != "").sum()),
    }


def load_dataset(
    path: str | os.PathLike[str],
    *,
    query: str | None = None,
    answer: str | None = None,
    input_field: str | None = None,
    id_field: str | None = None,
    messages: str | None = None,
    fmt: str | None = None,
) -> pd.DataFrame:
    """Load an instruction file as the qaq table, one row per record in file order.

    Args:
        path: JSONL, JSON, CSV or Parquet file (JSON/CSV may be gzipped), or a Hugging Face
            dataset folder written by ``save_to_disk`` (its rows are records, numbered like Parquet's).
        query: field holding Q; with ``answer``, overrides detection (see :func:`qaq.io.fieldmapping.detect_mapping`).
        answer: field holding A.
        input_field: field appended to Q after a blank line when non-empty (Alpaca ``input``).
        id_field: field holding unique ids (default: ``id`` when present; ``""``: hash Q and A).
        messages: field holding a chat (OpenAI or ShareGPT), instead of query/answer.
        fmt: one of :data:`qaq.io.files.FORMAT_NAMES`, overriding the suffix.

    Returns:
        The :data:`qaq.columns.DATA_COLUMNS` columns, then every source field not used by the
        mapping, values untouched (reserved names prefixed ``src_``; pandas infers each column's
        dtype, so an integer field missing from some records becomes float). An answer field
        named ``generations`` may hold a list of strings: the first is the answer. Rows with an
        empty or blank Q or A are kept with ``skip`` set. ``attrs["qaq_source"]`` holds path (absolute), format,
        sha256 of the file (of a folder: :func:`file_sha256`), the mapping, ``n_rows`` and ``n_skipped``.

    Raises:
        DataError: with the file, line and field at fault.
    """
    path = Path(path)
    fmt = read_format(path, fmt)
    given = dict(query=query, answer=answer, input_field=input_field, id_field=id_field, messages=messages)
    # A well-formed flat file is read as columns at once; anything else, record by record.
    mapping, columns = columnar_rows(path, fmt, given) or _record_rows(path, fmt, given)
    frame = _table(columns)
    frame.attrs["qaq_source"] = _source(path, fmt, mapping, frame)
    return frame


def skipped_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows that are not scored, with their ``id``, ``line`` and ``skip`` reason."""
    return df.loc[df["skip"] != "", ["id", "line", "skip"]]


def is_same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file: the same path once links are resolved, or the same
    inode (a hard link). A path that does not exist yet is no other file.

    >>> is_same_file("a/../b.jsonl", "b.jsonl")
    True
    """
    pa_, pb = Path(a), Path(b)
    if pa_.resolve() == pb.resolve():
        return True
    try:
        return os.path.samefile(pa_, pb)
    except OSError:
        return False


def refuse_inputs(outputs: Sequence[str | os.PathLike[str]], inputs: Sequence[str | os.PathLike[str]]) -> None:
    """Raise :class:`DataError` when an output would write over an input (path, symlink or hard
    link) or into an input folder."""
    for out in outputs:
        for src in inputs:
            if is_same_file(out, src):
                raise DataError(
                    f"refusing to overwrite the input file {os.fspath(src)!r}: choose another output path",
                    path=Path(out),
                )
            if Path(src).is_dir() and Path(out).resolve().is_relative_to(Path(src).resolve()):
                raise DataError(
                    f"refusing to write into the input folder {os.fspath(src)!r}: a later run "
                    "would read the output as data",
                    path=Path(out),
                )

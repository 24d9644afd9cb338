"""Readers of the data file formats: which format a path is read as, and its records, raw or as dicts.

Formats: JSONL (``.jsonl``, ``.ndjson``), JSON arrays (``.json``; a ``.json`` file that does not
start with ``[`` is read as JSONL), CSV and Parquet. JSON and CSV files may be gzip-compressed
(``.gz``; recognised by their magic bytes, whatever the suffix). ``fmt=`` overrides the suffix.
The suffixes and what qaq can do with each format are :data:`qaq.io.files.FILE_FORMATS`.
A Hugging Face dataset saved with ``save_to_disk`` (a folder: format ``hf``) is read like Parquet,
from its Arrow files with pyarrow alone (:func:`read_saved_dataset`).

:func:`read_records` yields each record as the file holds it (for exact re-export by
:mod:`qaq.io.selectionfile`); :func:`record_dicts` yields it as a dict (for
:func:`qaq.io.datasets.load_dataset`). Every failure a user can cause raises
:class:`qaq.io.files.DataError`, which names the file and the line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from qaq.io.files import (
    FORMAT_NAMES,
    HF_FORMAT,
    DataError,
    format_of,
    is_saved_dataset,
    read_suffixes_text,
    saved_splits,
    suffix_of,
)

# Code answers easily exceed the csv module's default field limit (131,072 characters).
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError("no such file", path=path)
    if not path.is_file():
        raise DataError("not a file", path=path)


def _open_binary(path: Path) -> BinaryIO:
    """Open ``path`` for reading, decompressing it when it is gzip (by its magic bytes)."""
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")  # type: ignore[return-value]


def read_format(path: Path, fmt: str | None) -> str:
    """The format ``path`` is read as: ``fmt``, or the suffix (:func:`qaq.io.files.format_of`); a
    ``json`` file not holding an array is jsonl; a saved Hugging Face dataset folder is ``hf``."""
    if path.is_dir():
        splits = saved_splits(path)
        if splits is not None:
            raise DataError(
                f"a saved Hugging Face DatasetDict with splits {', '.join(map(repr, splits))}: "
                "choose one with split= (qaq score --split NAME), or give its folder",
                path=path,
            )
        if is_saved_dataset(path):
            if fmt not in (None, HF_FORMAT):
                raise DataError(
                    f"a saved Hugging Face dataset folder is read as {HF_FORMAT!r}, not as {fmt!r}", path=path
                )
            return HF_FORMAT
    _check_file(path)
    if fmt is None:
        found = format_of(path)
        if found is None:
            suffix = suffix_of(path)
            raise DataError(
                f"unknown format {suffix or '(no suffix)'!r}: expected one of {read_suffixes_text()}, or pass fmt=",
                path=path,
            )
        fmt = found.name
    elif fmt not in FORMAT_NAMES:
        raise DataError(f"unknown format {fmt!r}: expected one of {', '.join(FORMAT_NAMES)}", path=path)
    if fmt == "json":
        with reading(path), _open_binary(path) as f:
            head = f.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
            while not head and (chunk := f.read(65536)):
                head = chunk.lstrip()
        fmt = "json" if head.startswith(b"[") else "jsonl"
        if head.startswith(b"{") and (error := _json_object_error(path)) is not None:
            raise error
    return fmt


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn I/O and decompression failures into a DataError."""
    try:
        yield
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"cannot read the file: {e}", path=path) from None


def _decode(data: bytes, path: Path, first_line: int = 1) -> str:
    """UTF-8 text of ``data``, which starts on ``first_line``; a bad byte is reported with its line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + data.count(b"\n", 0, e.start)
        raise DataError(f"not valid UTF-8 (byte {data[e.start]:#04x})", path=path, line=line) from None


def _jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    with reading(path), _open_binary(path) as f:
        for number, raw in enumerate(f, 1):
            # Split on b"\n" only: str.splitlines would also split on U+2028 inside JSON strings.
            raw = raw.removesuffix(b"\n")
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            text = _decode(raw, path, number)
            if text.strip():
                yield number, text


def read_bytes(path: Path) -> bytes:
    """The whole file's bytes, gunzipped when gzip.

    Raises:
        DataError: unreadable file or broken gzip stream.
    """
    with reading(path), _open_binary(path) as f:
        return f.read()


def read_text(path: Path) -> str:
    """The whole file as UTF-8 text (gunzipped when gzip, BOM stripped).

    Raises:
        DataError: unreadable file or bad UTF-8, with the line of the bad byte.
    """
    return _decode(read_bytes(path).removeprefix(b"\xef\xbb\xbf"), path)


def _loads(text: str, path: Path, line: int = 1, *, jsonl: bool = False) -> Any:
    """Parse JSON text that starts on ``line``; errors say where, and what the file looks like."""
    try:
        return json.loads(text)
    except RecursionError:
        raise DataError(
            "JSON nested too deeply to read (beyond Python's recursion limit): flatten it", path=path, line=line
        ) from None
    except json.JSONDecodeError as e:
        where = line + e.lineno - 1
        if jsonl and text.rstrip().endswith(("{", "[", ",", ":")):
            raise DataError(
                f"invalid JSON ({e.msg}, column {e.colno}): the record does not end on its line, as "
                "in pretty-printed JSON; a .jsonl file holds one complete JSON object per line "
                "(write one object per line, or save a JSON array as .json)",
                path=path,
                line=where,
            ) from None
        raise DataError(f"invalid JSON: {e.msg} (column {e.colno})", path=path, line=where) from None


def _json_array(path: Path) -> list[Any]:
    return _loads(read_text(path), path)  # a list: read_format saw "[" first


def _json_object_error(path: Path) -> DataError | None:
    """For a .json file that is one JSON object: what it holds and what qaq expects, or None when
    the file is not one object (JSON Lines saved as .json, say)."""
    try:
        obj = json.loads(read_text(path))
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    lists = [k for k, v in obj.items() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
    holds = (
        f"its records are a list under {lists[0]!r} ({len(obj[lists[0]])} records)"
        if lists
        else f"keys {', '.join(map(repr, list(obj)[:5]))}"
    )
    return DataError(
        f"the file is one JSON object ({holds}); qaq reads a JSON array of records or JSON Lines "
        "(one object per line)" + (f": save the list under {lists[0]!r} by itself" if lists else ""),
        path=path,
        line=1,
    )


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line of the row, cells) for every non-blank row, the header included."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    end = 0  # last line of the previous row; a row starts on the next one
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            if cells:
                yield start, cells
    except csv.Error as e:
        raise DataError(f"invalid CSV: {e}", path=path, line=end + 1) from None


def read_records(path: str | os.PathLike[str], fmt: str | None = None) -> Iterator[tuple[int, Any]]:
    """Raw records of a file, for exact re-export.

    Yields ``(number, record)``: ``number`` is the 1-based line (JSON arrays, Parquet and saved
    Hugging Face datasets: the 1-based record number), as in the ``line`` column. ``record`` is,
    for JSONL, the line's text without its ``"\\n"`` (a CRLF file keeps the ``"\\r"``, so
    ``text + "\\n"`` re-writes the line byte for byte; blank lines are not records); for a JSON
    array, the parsed object; for CSV, the row's cells as strings (header excluded); for Parquet
    and a saved Hugging Face dataset, the 0-based row index.

    Raises:
        DataError: missing or unreadable file, unknown format, bad UTF-8 or malformed JSON/CSV.
    """
    path = Path(path)
    fmt = read_format(path, fmt)
    if fmt == "jsonl":
        yield from _jsonl_lines(path)
    elif fmt == "json":
        yield from enumerate(_json_array(path), 1)
    elif fmt == "csv":
        rows = _csv_rows(path)
        next(rows, None)  # header
        yield from rows
    elif fmt == HF_FORMAT:
        yield from ((i + 1, i) for i in range(read_saved_dataset(path).num_rows))
    else:
        yield from ((i + 1, i) for i in range(_parquet_file(path).metadata.num_rows))


def _parquet_file(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"not a readable Parquet file: {e}", path=path) from None


def read_parquet(path: Path) -> pa.Table:
    """The whole Parquet file as an Arrow table.

    Raises:
        DataError: not a readable Parquet file.
    """
    try:
        return _parquet_file(path).read()
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"not a readable Parquet file: {e}", path=path) from None


def saved_dataset_files(path: Path) -> list[Path]:
    """The Arrow files of a saved Hugging Face dataset folder, in row order (its ``state.json``).

    Raises:
        DataError: ``state.json`` unreadable or naming a file that is not there.
    """
    try:
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
        names = [entry["filename"] for entry in state["_data_files"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"not a readable Hugging Face dataset folder: state.json: {e!r}", path=path) from None
    if not all(isinstance(n, str) and n and Path(n).name == n for n in names):  # names inside the folder only
        raise DataError(f"state.json: expected file names in the folder, got {names!r}", path=path)
    missing = [n for n in names if not (path / n).is_file()]
    if missing:
        raise DataError(f"state.json names Arrow files that are not in the folder: {', '.join(missing)}", path=path)
    return [path / n for n in names]


def read_saved_dataset(path: Path) -> pa.Table:
    """A folder written by ``datasets.Dataset.save_to_disk`` as one Arrow table, without ``datasets``.

    Its Arrow files are Arrow IPC streams; save_to_disk has already applied any row selection
    (an indices mapping is flattened on save), so their rows are the dataset's, in order.

    Raises:
        DataError: not a readable saved dataset.
    """
    tables = []
    for file in saved_dataset_files(path):
        try:
            with pa.OSFile(str(file)) as f:  # read into memory: nothing stays mapped or open
                tables.append(pa.ipc.open_stream(f).read_all())
        except (pa.ArrowException, OSError) as e:
            raise DataError(f"not a readable Arrow stream: {e}", path=file) from None
    if not tables:
        raise DataError("state.json lists no Arrow files", path=path)
    try:
        return pa.concat_tables(tables)
    except pa.ArrowException as e:
        raise DataError(f"the Arrow files hold different columns: {e}", path=path) from None


def record_dicts(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record as a dict) for every record of a file of format ``fmt``."""
    if fmt in ("parquet", HF_FORMAT):
        table = read_parquet(path) if fmt == "parquet" else read_saved_dataset(path)
        yield from enumerate(table.to_pylist(), 1)
        return
    if fmt == "csv":
        rows = _csv_rows(path)
        header_line, header = next(rows, (1, []))
        other = next((d for d in (";", "\t", "|") if len(header) == 1 and d in header[0]), None)
        if other is not None:
            name = {";": "';'", "\t": "tab", "|": "'|'"}[other]
            raise DataError(
                f"the header is one field holding {name} characters: this looks like a {name}-delimited "
                "file; qaq reads comma-separated CSV (save it with commas, or as JSONL)",
                path=path,
                line=header_line,
            )
        if len(set(header)) != len(header):
            raise DataError(f"duplicate column names in the header: {header}", path=path, line=header_line)
        for line, cells in rows:
            if len(cells) != len(header):
                raise DataError(
                    f"expected {len(header)} fields as in the header, got {len(cells)}", path=path, line=line
                )
            yield line, dict(zip(header, cells))
        return
    for line, record in read_records(path, fmt):
        if fmt == "jsonl":
            record = _loads(record, path, line, jsonl=True)
        if not isinstance(record, dict):
            raise DataError(f"expected a JSON object, got {type_name(record)}", path=path, line=line)
        yield line, record


def type_name(value: Any) -> str:
    """The JSON name of ``value``'s type for error messages: ``"null"`` for None, else the Python type's name."""
    return "null" if value is None else type(value).__name__

"""Load instruction data into the qaq table (see :mod:`qaq.columns`); score files are :mod:`qaq.io.scorefile`.

Formats: JSONL (``.jsonl``, ``.ndjson``), JSON arrays (``.json``; a ``.json`` file that does not
start with ``[`` is read as JSONL), CSV and Parquet. JSON and CSV files may be gzip-compressed
(``.gz``; recognised by their magic bytes, whatever the suffix). ``fmt=`` overrides the suffix.
The suffixes and what qaq can do with each format are :data:`qaq.io.files.FILE_FORMATS`.
A Hugging Face dataset saved with ``save_to_disk`` (a folder: format ``hf``) is read like Parquet,
from its Arrow files with pyarrow alone (:func:`read_saved_dataset`).

Which fields hold Q and A is either given (``query=``/``answer=``, ``messages=``) or detected by
:func:`detect_mapping`. Every failure a user can cause raises :class:`DataError`, which names the
file, the line and the field (it lives in :mod:`qaq.io.files`, shared with the writers, and is
imported from here).
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import json
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qaq.columns import DATA_COLUMNS, SKIP_EMPTY_ANSWER, SKIP_EMPTY_QUERY
from qaq.io.files import (
    FORMAT_NAMES,
    HF_DATASET_FILES,
    HF_FORMAT,
    DataError,
    format_of,
    is_saved_dataset,
    read_suffixes_text,
    saved_splits,
    suffix_of,
)

# ShareGPT speaker names -> OpenAI roles; other speakers (e.g. "tool") keep their name.
_SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system"}
# Code answers easily exceed the csv module's default field limit (131,072 characters).
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


@dataclass(frozen=True)
class FieldMapping:
    """Where a record keeps its query and answer.

    Either ``query`` and ``answer`` (plus an optional ``input`` appended to the query, Alpaca
    style) or ``messages`` (a chat: OpenAI ``[{role, content}]`` or ShareGPT ``[{from, value}]``).

    Attributes:
        schema: the recognised schema (``"alpaca"``, ``"openai-chat"``, ...), or ``"custom"``.
        query: field holding Q.
        answer: field holding A.
        input: optional field appended to Q after a blank line when non-empty.
        messages: field holding a chat.
        id: field holding the row id, or None to hash Q and A.
        answer_first: A may be a list of strings, of which the first is used (the QAQ authors'
            ``generations``); an empty list is an empty answer.
    """

    schema: str
    query: str | None = None
    answer: str | None = None
    input: str | None = None
    messages: str | None = None
    id: str | None = None
    answer_first: bool = False

    def consumed(self) -> set[str]:
        """Source fields that become qaq columns (they are not passed through)."""
        return {f for f in (self.query, self.answer, self.input, self.messages, self.id) if f}


# Detection order: the first schema whose (query, answer) fields are all present wins.
_PAIR_SCHEMAS: tuple[tuple[str, str, str], ...] = (
    ("alpaca", "instruction", "output"),  # + optional "input"
    ("instruction-response", "instruction", "response"),
    ("query-answer", "query", "answer"),
    ("problem-solution", "problem", "solution"),
    ("prompt-completion", "prompt", "completion"),
    ("qaq-authors", "problem", "generations"),
    ("question-answer", "question", "answer"),
)
_CHAT_SCHEMAS: tuple[tuple[str, str], ...] = (("openai-chat", "messages"), ("sharegpt", "conversations"))
_FLAGS_HINT = "pass query= and answer= (CLI: --query/--answer), or messages= for a chat (--messages)"


def detect_mapping(columns: Sequence[str]) -> FieldMapping:
    """Recognise a known schema from field names.

    Priority: Alpaca ``instruction``/``input``/``output``; ``instruction``/``response``;
    ``query``/``answer``; ``problem``/``solution``; ``prompt``/``completion``; the QAQ authors'
    ``problem``/``generations``; ``question``/``answer``; then chats in ``messages`` (OpenAI)
    or ``conversations`` (ShareGPT). A field named ``id`` becomes the id field.

    Raises:
        DataError: no known schema fits; the message lists the fields seen.
    """
    present = set(columns)
    id_field = "id" if "id" in present else None
    for schema, query, answer in _PAIR_SCHEMAS:
        if query in present and answer in present:
            extra = "input" if schema == "alpaca" and "input" in present else None
            return FieldMapping(
                schema, query=query, answer=answer, input=extra, id=id_field, answer_first=answer == "generations"
            )
    for schema, field in _CHAT_SCHEMAS:
        if field in present:
            return FieldMapping(schema, messages=field, id=id_field)
    seen = ", ".join(map(repr, columns)) or "none"
    raise DataError(f"cannot tell which fields hold the query and the answer (fields seen: {seen}); {_FLAGS_HINT}")


def _resolve_mapping(
    columns: Sequence[str],
    *,
    query: str | None,
    answer: str | None,
    input_field: str | None,
    id_field: str | None,
    messages: str | None,
) -> FieldMapping:
    if messages and (query or answer or input_field):
        raise DataError("give either messages= or query=/answer=, not both")
    if messages:
        mapping = FieldMapping("custom", messages=messages, id="id" if "id" in columns else None)
    elif query and answer:
        mapping = FieldMapping(
            "custom",
            query=query,
            answer=answer,
            id="id" if "id" in columns else None,
            answer_first=answer == "generations",
        )
    else:
        mapping = detect_mapping(columns)
        if query or answer:
            if mapping.messages:
                raise DataError(
                    f"this looks like a chat ({mapping.messages!r}); give both query= and answer=, or messages="
                )
            answer = answer or mapping.answer
            mapping = dataclasses.replace(
                mapping,
                schema="custom",
                query=query or mapping.query,
                answer=answer,
                answer_first=answer == "generations",
            )
    if input_field:
        mapping = dataclasses.replace(mapping, input=input_field)
    if id_field is not None:  # "" means: hash Q and A even when the file has an id field
        mapping = dataclasses.replace(mapping, id=id_field or None)
    for field in (mapping.query, mapping.answer, mapping.input, mapping.messages, mapping.id):
        if field and field not in columns:
            seen = ", ".join(map(repr, columns))
            raise DataError(f"no such field in the file (fields seen: {seen})", field=field)
    return mapping


# --------------------------------------------------------------------------- reading files


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


def read_text(path: Path) -> str:
    with reading(path), _open_binary(path) as f:
        return _decode(f.read().removeprefix(b"\xef\xbb\xbf"), path)


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


# --------------------------------------------------------------------------- records -> rows


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _missing(record: Mapping[str, Any], field: str) -> DataError:
    return DataError(f"missing (fields in this record: {', '.join(map(repr, record))})", field=field)


def _text(record: Mapping[str, Any], field: str, *, optional: bool = False, first_of_list: bool = False) -> str:
    if field not in record:
        if optional:
            return ""
        raise _missing(record, field)
    value = record[field]
    if value is None and optional:
        return ""
    if first_of_list and isinstance(value, list):
        value = value[0] if value else ""
    if not isinstance(value, str):
        raise DataError(f"expected a string, got {type_name(value)}", field=field)
    _check_encodable(value, field)
    return value


def _check_encodable(value: str, field: str) -> None:
    """A lone UTF-16 surrogate (a broken ``\\ud83d`` escape) is not text: say where it is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise DataError(
            f"holds a lone UTF-16 surrogate ({value[e.start]!r} at character {e.start}), which is not "
            "text: fix the \\u escape in the file (a surrogate pair needs both halves)",
            field=field,
        ) from None


def _chat(value: Any, field: str) -> tuple[str, str, str]:
    """(Q, A, context) of a chat: A is the last assistant turn, Q the user turn before it.

    Turns before Q (system included) form the context; turns between Q and A or after A are
    not kept. A null ``content`` (e.g. a tool call) counts as "".
    """
    if not isinstance(value, list):
        raise DataError(f"expected a list of messages, got {type_name(value)}", field=field)
    turns: list[dict[str, str]] = []
    for i, item in enumerate(value):
        if isinstance(item, dict) and "role" in item:
            role, content = item["role"], item.get("content")
        elif isinstance(item, dict) and "from" in item:
            role, content = _SHAREGPT_ROLES.get(item["from"], item["from"]), item.get("value")
        else:
            got = f"keys {sorted(item)}" if isinstance(item, dict) else type_name(item)
            raise DataError(f"message {i}: expected {{role, content}} or {{from, value}}, got {got}", field=field)
        if not isinstance(role, str) or not isinstance(content, (str, type(None))):
            raise DataError(
                f"message {i}: role and content must be strings, got {type_name(role)} and {type_name(content)}",
                field=field,
            )
        _check_encodable(content or "", f"{field}[{i}].content")
        turns.append({"role": role, "content": content or ""})
    roles = [t["role"] for t in turns]
    if "assistant" not in roles:
        raise DataError("no assistant message", field=field)
    a = len(roles) - 1 - roles[::-1].index("assistant")
    if "user" not in roles[:a]:
        raise DataError("no user message before the last assistant message", field=field)
    q = a - 1 - roles[a - 1 :: -1].index("user")
    context = json.dumps(turns[:q], ensure_ascii=False, separators=(",", ":")) if q else ""
    return turns[q]["content"], turns[a]["content"], context


def _query_answer(record: Mapping[str, Any], mapping: FieldMapping) -> tuple[str, str, str]:
    """(Q, A, context) of one record."""
    if mapping.messages:
        if mapping.messages not in record:
            raise _missing(record, mapping.messages)
        return _chat(record[mapping.messages], mapping.messages)
    assert mapping.query and mapping.answer
    query = _text(record, mapping.query)
    if mapping.input and (extra := _text(record, mapping.input, optional=True)).strip():
        query = f"{query}\n\n{extra}"
    return query, _text(record, mapping.answer, first_of_list=mapping.answer_first), ""


def _file_id(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    if value is None:
        raise DataError("missing id", field=field)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(f"expected a string or an integer id, got {type_name(value)}", field=field)
    if not str(value).strip():
        raise DataError("empty id", field=field)
    _check_encodable(str(value), field)
    return str(value)


def hash_id(query: str, answer: str) -> str:
    """Stable id of a (Q, A) pair: the first 16 hex digits of sha256(Q + "\\x1f" + A)."""
    pair = f"{query}\x1f{answer}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(pair).hexdigest()[:16]


def hash_ids(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Hash ids; repeats of a pair get ``-2``, ``-3``, ... in file order."""
    seen: dict[str, int] = {}
    ids = []
    for query, answer in pairs:
        h = hash_id(query, answer)
        seen[h] = seen.get(h, 0) + 1
        ids.append(h if seen[h] == 1 else f"{h}-{seen[h]}")
    return ids


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
        query: field holding Q; with ``answer``, overrides detection (see :func:`detect_mapping`).
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
    records = list(record_dicts(path, fmt))
    if not records:
        raise DataError("empty file: no records", path=path)
    fields = list(dict.fromkeys(key for _, record in records for key in record))
    try:
        mapping = _resolve_mapping(
            fields, query=query, answer=answer, input_field=input_field, id_field=id_field, messages=messages
        )
    except DataError as e:
        raise e.at(path) from None

    texts: list[tuple[str, str, str]] = []
    file_ids: dict[str, int] = {}
    for line, record in records:
        try:
            texts.append(_query_answer(record, mapping))
            if mapping.id:
                key = _file_id(record, mapping.id)
                if key in file_ids:
                    raise DataError(f"duplicate id {key!r} (first on line {file_ids[key]})", field=mapping.id)
                file_ids[key] = line
        except DataError as e:
            raise e.at(path, line) from None

    pairs = [(q, a) for q, a, _ in texts]
    skip = [SKIP_EMPTY_QUERY if not q.strip() else SKIP_EMPTY_ANSWER if not a.strip() else "" for q, a in pairs]
    columns: dict[str, Any] = {
        "id": list(file_ids) if mapping.id else hash_ids(pairs),
        "query": [q for q, _, _ in texts],
        "answer": [a for _, a, _ in texts],
        "context": [c for _, _, c in texts],
        "row": range(len(records)),
        "line": [line for line, _ in records],
        "skip": skip,
    }
    frame = pd.DataFrame({c: pd.Series(v, dtype=DATA_COLUMNS[c]) for c, v in columns.items()})
    kept = [f for f in fields if f not in mapping.consumed()]
    extra = pd.DataFrame(
        {name: [record.get(f) for _, record in records] for f, name in _passthrough_names(kept).items()},
        index=frame.index,
    )
    frame = pd.concat([frame, extra], axis=1) if kept else frame
    frame.attrs["qaq_source"] = {
        "path": str(path.resolve()),
        "format": fmt,
        "sha256": _file_sha256(path),
        "mapping": dataclasses.asdict(mapping),
        "n_rows": len(frame),
        "n_skipped": sum(bool(s) for s in skip),
    }
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

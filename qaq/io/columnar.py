"""The fast way into the qaq table: a well-formed, flat JSONL or Parquet file read as Arrow columns.

:func:`qaq.io.datasets.load_dataset` asks :func:`columnar_rows` first, and reads the file record
by record (:func:`qaq.io.readers.record_dicts`, :func:`qaq.io.pairs.texts_and_ids`) whenever it
answers None: a file it cannot read, a line that is not one JSON object on its own, a nested or
mixed-type field, a missing, null or blank Q, A or id, a repeated id, a chat, a CSV or JSON array
file. It never raises: every error, and the file, line and field it names, comes from the
record-by-record reader. Where it answers, the table is the record-by-record one, column for
column, dtypes included (``tests/test_columnar.py`` compares them on varied files).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from qaq.columns import SKIP_EMPTY_ANSWER, SKIP_EMPTY_QUERY
from qaq.io.fieldmapping import FieldMapping, resolve_mapping
from qaq.io.files import HF_FORMAT, DataError
from qaq.io.pairs import hash_ids
from qaq.io.readers import read_bytes, read_parquet, read_saved_dataset

# pyarrow reads a file in blocks, in parallel; a record must fit in one (a longer line sends the
# file the record-by-record way).
BLOCK_SIZE = 1 << 22

# Nesting beyond this goes the record-by-record way: json.loads gives up near 1,000 levels
# (Python's recursion limit), and pyarrow's parser, which recurses in C, crashes the process
# somewhere past 5,000.
MAX_DEPTH = 1000

# What str.strip() strips (str.isspace; tests/test_columnar.py checks the list against Python's).
_WHITESPACE_CODES = [*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B)]
PY_WHITESPACE = "".join(map(chr, [*_WHITESPACE_CODES, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]))

# Field types whose values pyarrow's JSON reader gives exactly as json.loads does. Not here:
# structs (pyarrow gives every record all the keys seen), lists of doubles (``1`` becomes ``1.0``).
_EXACT_JSON_TYPES = (pa.types.is_string, pa.types.is_int64, pa.types.is_boolean, pa.types.is_null)
_EXACT_LIST_ITEMS = (pa.types.is_string, pa.types.is_int64, pa.types.is_boolean, pa.types.is_null)


@dataclass(frozen=True)
class Columns:
    """What the qaq table of a file is built from, column by column (lists, or Arrow/NumPy arrays).

    Attributes:
        ids, queries, answers, contexts, skip, lines: the :data:`qaq.columns.DATA_COLUMNS` values
            (``row`` is the position), one per record.
        extra: every source field the mapping does not use, in first-seen order, with its values.
    """

    ids: Any
    queries: Any
    answers: Any
    contexts: Any
    skip: Any
    lines: Any
    extra: Mapping[str, Any]


def columnar_rows(path: Path, fmt: str, given: Mapping[str, str | None]) -> tuple[FieldMapping, Columns] | None:
    """The mapping and columns of a file read at once, or None where the record-by-record reader decides.

    Args:
        path: the file (or saved Hugging Face dataset folder).
        fmt: its format, as :func:`qaq.io.readers.read_format` named it.
        given: :func:`qaq.io.fieldmapping.resolve_mapping`'s keyword arguments.
    """
    table = arrow_table(path, fmt)
    if table is None or table.num_rows == 0 or len(set(table.column_names)) < table.num_columns:
        return None
    try:
        mapping = resolve_mapping(table.column_names, **given)
    except DataError:
        return None
    if mapping.messages or not _flat(table, fmt):
        return None
    try:
        columns = _columns(table, mapping)
    except pa.ArrowException:  # e.g. string and large_string fields that pyarrow will not join
        return None
    return None if columns is None else (mapping, columns)


def _columns(table: pa.Table, mapping: FieldMapping) -> Columns | None:
    texts = _texts(table, mapping)
    if texts is None:
        return None
    queries, answers = texts
    ids = _ids(table, mapping.id, queries, answers)
    if ids is None:
        return None
    n = table.num_rows
    skip = pc.if_else(_blank(queries), SKIP_EMPTY_QUERY, pc.if_else(_blank(answers), SKIP_EMPTY_ANSWER, ""))
    extra = {f: _values(table.column(f)) for f in table.column_names if f not in mapping.consumed()}
    contexts = pa.repeat(pa.scalar("", pa.large_string()), n)
    return Columns(ids, queries, answers, contexts, skip, np.arange(1, n + 1), extra)


def arrow_table(path: Path, fmt: str) -> pa.Table | None:
    """The records of a JSONL, Parquet or saved-dataset file as one Arrow table, or None."""
    try:
        if fmt == "jsonl":
            return _jsonl_table(path)
        if fmt == "parquet":
            return read_parquet(path)
        if fmt == HF_FORMAT:
            return read_saved_dataset(path)
    except (DataError, pa.ArrowException, UnicodeDecodeError, ValueError, OSError, EOFError):
        return None
    return None


def lines_of_one_object(data: bytes) -> int | None:
    """The number of lines when every line of ``data`` is ``{...}`` (LF or CRLF) and nested at
    most :data:`MAX_DEPTH` deep, else None.

    With every line starting with ``{`` and ending with ``}`` (a raw newline inside a JSON string
    is invalid), no record can run over two lines (``}`` then ``{`` is never valid inside one)
    and no line is blank; so when pyarrow reads as many records as there are lines, line ``i``
    holds record ``i`` and nothing else, as the record-by-record reader requires.
    """
    if not data.startswith(b"{") or not data.endswith((b"}", b"}\r", b"}\n", b"}\r\n")):
        return None
    ends = data.endswith(b"\n")
    inner = data.count(b"\n") - ends  # newlines between two lines: each must join "}" to "{"
    joins = data.count(b"}\n{")
    if joins != inner:
        joins += data.count(b"}\r\n{")
    if joins != inner or (ends and not data.endswith((b"}\n", b"}\r\n"))):
        return None
    # A line cannot be nested deeper than it has brackets: count them in the long lines only.
    lines = data.split(b"\n")
    if max(map(len, lines)) > MAX_DEPTH:
        if any(line.count(b"[") + line.count(b"{") > MAX_DEPTH for line in lines if len(line) > MAX_DEPTH):
            return None
    return inner + 1


def _jsonl_table(path: Path) -> pa.Table | None:
    data = read_bytes(path).removeprefix(b"\xef\xbb\xbf")
    lines = lines_of_one_object(data)
    if lines is None:
        return None
    options = pj.ReadOptions(block_size=BLOCK_SIZE)
    table = pj.read_json(pa.BufferReader(data), read_options=options)
    if table.num_rows != lines:
        return None
    dates = [f.name for f in table.schema if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)]
    if dates:  # pyarrow reads ISO dates as timestamps; json.loads keeps the strings
        order = table.column_names  # an explicit schema's fields come first: keep the file's order
        schema = pa.schema([(name, pa.string()) for name in dates])
        parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
        table = pj.read_json(pa.BufferReader(data), read_options=options, parse_options=parse).select(order)
    table.validate(full=True)  # pyarrow does not check the UTF-8 inside strings; this does
    return table.combine_chunks()


def _flat(table: pa.Table, fmt: str) -> bool:
    """Whether every field's values are what the record-by-record reader would see."""
    if fmt != "jsonl":
        return True  # Parquet values come from pyarrow either way
    for field in table.schema:
        t = field.type
        if pa.types.is_list(t) and any(ok(t.value_type) for ok in _EXACT_LIST_ITEMS):
            continue
        if pa.types.is_float64(t) and _exact_doubles(table.column(field.name)):
            continue
        if not any(ok(t) for ok in _EXACT_JSON_TYPES):
            return False
    return True


def _exact_doubles(column: pa.ChunkedArray) -> bool:
    """Whether pyarrow's doubles are json.loads' values: no written integer it turned into a
    float that pandas would not (beyond int64, or ``-0``), no ``NaN``/``Infinity`` (non-JSON)."""
    x = column.to_numpy(zero_copy_only=False)[~np.asarray(column.is_null())]
    if not np.isfinite(x).all():
        return False
    big = (np.abs(x) >= 2.0**63) & (x == np.floor(x))
    return not big.any() and not (np.signbit(x) & (x == 0)).any()


def _is_text(column: pa.ChunkedArray) -> bool:
    return (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) and column.null_count == 0


def _texts(table: pa.Table, mapping: FieldMapping) -> tuple[pa.ChunkedArray, pa.ChunkedArray] | None:
    """(Q, A) of every record, or None when one is missing, null or not a string."""
    assert mapping.query and mapping.answer, "not a chat: resolve_mapping set both"
    query, answer = table.column(mapping.query), table.column(mapping.answer)
    if not (_is_text(query) and _is_text(answer)):
        return None
    if mapping.input:
        extra = table.column(mapping.input)
        if not (pa.types.is_null(extra.type) or pa.types.is_string(extra.type) or pa.types.is_large_string(extra.type)):
            return None
        if not pa.types.is_null(extra.type):
            joined = pc.binary_join_element_wise(query, extra, "\n\n")
            query = pc.if_else(pc.or_kleene(extra.is_null(), _blank(extra)), query, joined)
    return query, answer


def _ids(table: pa.Table, field: str | None, queries: pa.ChunkedArray, answers: pa.ChunkedArray) -> Any:
    """The rows' ids (the file's when unique and non-blank strings or integers, else None), or
    hash ids of the pairs."""
    if field is None:
        return hash_ids(list(zip(queries.to_pylist(), answers.to_pylist())))
    column = table.column(field)
    if pa.types.is_integer(column.type) and column.null_count == 0:
        column = pc.cast(column, pa.string())
    elif not _is_text(column) or pc.any(_blank(column)).as_py():
        return None
    if len(pc.unique(column)) != len(column):
        return None
    return column


def _blank(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Which strings are empty or only whitespace (``not s.strip()``); null counts as not blank."""
    return pc.equal(pc.utf8_length(pc.utf8_trim(column, characters=PY_WHITESPACE)), 0)


def _values(column: pa.ChunkedArray) -> Sequence[Any] | np.ndarray | Any:
    """A passed-through field's values, which pandas turns into the same column as it does the
    records' Python values (strings, integers and floats directly; anything else as Python values)."""
    t, nulls = column.type, column.null_count
    if nulls == len(column):
        return column.to_pylist()  # all None: an object column
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return column.to_pandas().array
    if pa.types.is_floating(t):
        return column.to_numpy(zero_copy_only=False).astype(np.float64)
    if nulls == 0 and (pa.types.is_signed_integer(t) or t in (pa.uint8(), pa.uint16(), pa.uint32())):
        return column.to_numpy().astype(np.int64)
    if nulls == 0 and pa.types.is_boolean(t):
        return column.to_numpy(zero_copy_only=False)
    return column.to_pylist()

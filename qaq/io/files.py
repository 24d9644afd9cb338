"""What every qaq file shares: the error that names a file, the atomic writer, the format table, JSON.

- :class:`DataError`: a problem with a file, located as precisely as possible (re-exported by
  :mod:`qaq.io.datasets`, where most of them are raised).
- :func:`atomic_path` (and :func:`atomic_paths`, :func:`write_atomic`): every file qaq writes goes
  to a temporary file in the target's folder, is flushed to disk and then moved over the target
  (``os.replace``), so a reader sees the old file or the new one, never half of one.
- :data:`FILE_FORMATS`: the formats qaq reads and writes, with the suffixes they are named by;
  :func:`format_of` and :func:`writable_format` look a path up in it. A Hugging Face dataset saved
  with ``save_to_disk`` is a folder (:data:`HF_FORMAT`, :func:`is_saved_dataset`, :func:`saved_splits`).
- :func:`json_default`: JSON for the values ``json`` cannot encode (numpy, timestamps, bytes ...).
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    """qaq's cache folder: ``$QAQ_CACHE_DIR``, by default ``~/.cache/qaq`` (scores, hub datasets).

    Read per call, so a changed variable counts.
    """
    return Path(os.environ.get("QAQ_CACHE_DIR", Path.home() / ".cache" / "qaq"))


class DataError(ValueError):
    """A problem with an input file, located as precisely as possible (or a file that cannot be written).

    Its message reads ``data.jsonl:17: field 'output': expected a string, got list``.

    Attributes:
        path: the file as given by the caller (None when no file is involved).
        line: 1-based line (JSON arrays, Parquet: record number), or None.
        field: the source field at fault, or None.
        reason: the message without the location.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | os.PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        self.reason = reason
        where = "".join(f"{part}:" for part in (self.path, line) if part is not None)
        what = f"field {field!r}: " if field is not None else ""
        super().__init__(f"{where} {what}{reason}" if where else f"{what}{reason}")

    def at(self, path: str | os.PathLike[str], line: int | None = None) -> DataError:
        """This error, located in ``path`` (and ``line``, when it has none yet)."""
        return DataError(self.reason, path=path, line=self.line if line is None else line, field=self.field)


# --------------------------------------------------------------------------- writing


def _write_error(path: Path, error: OSError) -> DataError:
    return DataError(f"cannot write the file: {error.strerror or error}", path=path)


def _fsync(path: Path) -> None:
    # Read-write: Windows flushes only handles open for writing.
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path next to ``path`` that replaces ``path`` when the block succeeds.

    The temporary file is hidden (``.<name>.<random>.tmp<suffix>``) and keeps the target's suffix,
    so a writer that picks the format from the suffix picks the target's. On success it is
    flushed to disk (``fsync``), made readable by others like any output, and moved over ``path``;
    on any failure it is removed and ``path`` is left as it was.

    Args:
        path: the file to write; its folder must exist.

    Raises:
        DataError: writing failed (full disk, no permission, no such folder ...), naming ``path``;
            the ``OSError`` behind it is its ``__cause__``. A DataError raised in the block that
            names the temporary path (another atomic writer that wrote to it) is re-raised naming
            ``path``. An ``OSError`` about another file (an input that could not be read) passes
            through as it is.
    """
    path = Path(path)
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    except OSError as e:
        raise _write_error(path, e) from e
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; qaq's outputs are shared like the data
        os.replace(tmp, path)
    except DataError as e:
        if e.path != str(tmp):
            raise
        raise DataError(e.reason, path=path, line=e.line, field=e.field) from e.__cause__
    except OSError as e:
        if e.filename not in (None, name, str(path)):
            raise  # another file's error: its own message
        # A full disk, a quota, a vanished folder: one line naming the file; the old one stays.
        raise _write_error(path, e) from e
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Several files, all or nothing: a temporary path for each (as :func:`atomic_path`), in order.

    The targets are replaced, in order, only once the block succeeds; if the block fails nothing
    is replaced and every temporary file is removed. (A failure while replacing, after the first
    target was replaced, leaves the targets replaced so far.) An ``OSError`` without a file name
    raised in the block is reported for the first target: write each file with a writer that
    names its own errors (another :func:`atomic_path` on the temporary path) when that matters.

    Raises:
        DataError: as :func:`atomic_path`, naming the target that could not be written.
    """
    with ExitStack() as stack:
        # Entered last first: the stack exits in reverse, so the first target is replaced first.
        temps = [stack.enter_context(atomic_path(p)) for p in reversed(paths)]
        yield temps[::-1]


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8, newlines as they are) to ``path`` with :func:`atomic_path`.

    Raises:
        DataError: as :func:`atomic_path`.
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class FileFormat:
    """A file format qaq knows.

    Attributes:
        name: what ``fmt=`` / ``--format`` and ``qaq_source["format"]`` call it.
        suffixes: lower-case suffixes a file in this format is named by; qaq writes the first.
        output: whether data and selections can be written in it (:mod:`qaq.io.export`).
        scores: whether a score table can be written in it (:mod:`qaq.io.scorefile`).
        gzip: whether it is read gzip-compressed too (``<suffix>.gz``; qaq never writes gzip).
    """

    name: str
    suffixes: tuple[str, ...]
    output: bool
    scores: bool
    gzip: bool

    @property
    def suffix(self) -> str:
        """The suffix qaq gives the files it writes in this format."""
        return self.suffixes[0]


FILE_FORMATS: tuple[FileFormat, ...] = (
    FileFormat("jsonl", (".jsonl", ".ndjson"), output=True, scores=True, gzip=True),
    # A JSON array is read, and written back as JSONL; a .json file holding JSON Lines is read as such.
    FileFormat("json", (".json",), output=False, scores=False, gzip=True),
    FileFormat("csv", (".csv",), output=True, scores=True, gzip=True),
    # Parquet compresses inside the file: pyarrow reads no gzipped Parquet.
    FileFormat("parquet", (".parquet", ".pq"), output=True, scores=True, gzip=False),
)
FORMAT_NAMES: tuple[str, ...] = tuple(f.name for f in FILE_FORMATS)
READ_SUFFIXES: tuple[str, ...] = tuple(s for f in FILE_FORMATS for s in f.suffixes)
# The suffixes error messages suggest for writing: one per format (every suffix of the format works).
OUTPUT_SUFFIXES: tuple[str, ...] = tuple(f.suffix for f in FILE_FORMATS if f.output)
SCORE_SUFFIXES: tuple[str, ...] = tuple(f.suffix for f in FILE_FORMATS if f.scores)

_BY_NAME = {f.name: f for f in FILE_FORMATS}
_BY_SUFFIX = {s: f for f in FILE_FORMATS for s in f.suffixes}
_BY_READ_SUFFIX = {**_BY_SUFFIX, **{f"{s}.gz": f for f in FILE_FORMATS if f.gzip for s in f.suffixes}}


def format_named(name: str) -> FileFormat:
    """The format called ``name`` (one of :data:`FORMAT_NAMES`).

    Raises:
        KeyError: no such format.
    """
    return _BY_NAME[name]


def suffix_of(path: str | os.PathLike[str]) -> str:
    """The lower-case suffix that names a file's format, ``.gz`` included when the name ends in it.

    >>> suffix_of("data/Train.JSONL.gz"), suffix_of("a.b.csv"), suffix_of("data")
    ('.jsonl.gz', '.csv', '')
    """
    name = Path(path).name.lower()
    stem = name.removesuffix(".gz")
    return os.path.splitext(stem)[1] + name[len(stem) :]


def format_of(path: str | os.PathLike[str]) -> FileFormat | None:
    """The format a file is read as, from its suffix (``.gz`` allowed where the format allows it).

    >>> format_of("d.ndjson.gz").name, format_of("d.PQ").name, format_of("d.parquet.gz"), format_of("d.txt")
    ('jsonl', 'parquet', None, None)
    """
    return _BY_READ_SUFFIX.get(suffix_of(path))


def writable_format(path: str | os.PathLike[str], *, scores: bool = False) -> FileFormat | None:
    """The format qaq writes ``path`` in, from its suffix; None when qaq does not write that suffix
    as data or a selection (``scores=False``) or as a score table (``scores=True``). Never gzip.

    >>> writable_format("out.csv").name, writable_format("out.json"), writable_format("s.pq", scores=True).name
    ('csv', None, 'parquet')
    """
    fmt = _BY_SUFFIX.get(Path(path).suffix.lower())
    return fmt if fmt is not None and (fmt.scores if scores else fmt.output) else None


def read_suffixes_text() -> str:
    """The suffixes qaq reads, for messages.

    >>> read_suffixes_text()
    '.jsonl, .ndjson, .json, .csv (optionally .gz), .parquet, .pq'
    """
    gz = [s for f in FILE_FORMATS if f.gzip for s in f.suffixes]
    plain = [s for f in FILE_FORMATS if not f.gzip for s in f.suffixes]
    return ", ".join([f"{', '.join(gz)} (optionally .gz)", *plain] if gz else plain)


# A Hugging Face dataset saved with `datasets`' save_to_disk is a folder, not a suffix, so it is not
# in FILE_FORMATS: qaq reads it (as a table, like Parquet) and never writes it.
HF_FORMAT = "hf"
# What makes a folder a saved Dataset; a saved DatasetDict holds HF_DICT_FILE and one such folder per split.
HF_DATASET_FILES = ("state.json", "dataset_info.json")
HF_DICT_FILE = "dataset_dict.json"


def is_saved_dataset(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder written by ``datasets.Dataset.save_to_disk`` (it holds
    :data:`HF_DATASET_FILES` beside its Arrow files)."""
    p = Path(path)
    return p.is_dir() and all((p / name).is_file() for name in HF_DATASET_FILES)


def saved_splits(path: str | os.PathLike[str]) -> list[str] | None:
    """The splits of a folder written by ``datasets.DatasetDict.save_to_disk``, in its order; None
    when ``path`` is no such folder.

    Raises:
        DataError: its ``dataset_dict.json`` is unreadable or holds no list of split names.
    """
    p = Path(path)
    if not (p / HF_DICT_FILE).is_file():
        return None
    try:
        splits = json.loads((p / HF_DICT_FILE).read_text(encoding="utf-8"))["splits"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"{HF_DICT_FILE} is not a readable list of splits: {e}", path=p) from None
    if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits):
        raise DataError(f"{HF_DICT_FILE}: 'splits' must be a list of names", path=p)
    return splits


# --------------------------------------------------------------------------- JSON


def json_default(value: Any) -> Any:
    """JSON for the values tables and Parquet rows hold and ``json`` cannot encode.

    Use as ``json.dumps(obj, default=json_default)``: bytes become base64 text, dates and times
    ISO 8601 text (pandas timestamps included), durations seconds, decimals their text, numpy
    scalars and arrays Python numbers and lists, paths their text.

    >>> import json, numpy as np
    >>> json.dumps({"n": np.int64(3), "v": np.array([0.5, 1.0]), "d": _dt.date(2026, 1, 2)}, default=json_default)
    '{"n": 3, "v": [0.5, 1.0], "d": "2026-01-02"}'

    Raises:
        TypeError: any other type (what ``json`` expects a default to raise).
    """
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")

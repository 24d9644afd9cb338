"""The on-disk score cache: what makes scoring resumable and incremental, for both engines.

One SQLite file holds one row per (model identity, template, max length, dtype, sample content):
:func:`run_key` and :func:`sample_key` make the key, and the local engine and the Ray engine's
driver both file their results under it, so each reuses the other's work.
Each scored batch is written in one transaction, so a run killed at any moment (SIGKILL
included) leaves only whole batches behind, and a rerun scores exactly the rows that are missing.
Adding one row to a scored dataset therefore scores one row.

An embedding run (``qaq score --embed``) also files each sample's span embeddings under the same
key, in a second table written in the same transaction as the scores; runs without it neither
read nor write that table, and a cache made before it existed reads as holding no embeddings.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qaq.columns import MEASURED_FIELDS
from qaq.io.files import cache_root

# What one cached row stores: what a scorer measures (the four mean NLLs, the token counts). Rows
# are read and written by column name, so caches made with another column order read the same.
VALUE_FIELDS = MEASURED_FIELDS
# Where embeddings go: per key the hidden width and both spans' vectors as float16 bytes (Q, A).
_EMBEDDINGS_TABLE = "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, width INTEGER, q BLOB, a BLOB)"


class CacheError(RuntimeError):
    """The score cache cannot be opened, read or written (a full disk, a read-only folder ...)."""


@contextmanager
def _sqlite(path: Path) -> Iterator[None]:
    """SQLite failures as one CacheError naming the file and what to do."""
    try:
        yield
    except (sqlite3.Error, OSError) as e:
        raise CacheError(
            f"score cache {path}: {e}; free space there, or put the cache elsewhere "
            "(QAQ_CACHE_DIR), or score without a cache (batches committed before this one are kept)"
        ) from None


def run_key(*, model_identity: str, template_sha256: str, max_length: int, dtype: str) -> str:
    """The part of the cache key shared by every sample of a run."""
    return hashlib.sha256(f"{model_identity}|{template_sha256}|{max_length}|{dtype}".encode()).hexdigest()


def sample_key(run: str, query: str, answer: str) -> str:
    """Cache key of one sample under one run configuration (content-addressed: ids do not matter)."""
    digest = hashlib.sha256(run.encode())
    for part in (query, answer):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


class ScoreCache:
    """A score cache in ``directory/scores.sqlite``.

    Args:
        directory: where the cache lives (created if missing); default
            :func:`qaq.io.files.cache_root`, read when the cache is opened.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = cache_root() if directory is None else Path(directory)
        self.path = self.directory / "scores.sqlite"
        with _sqlite(self.path):
            self.directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            cols = ", ".join(f"{f} {'INTEGER' if f.startswith(('n_', 'trunc')) else 'REAL'}" for f in VALUE_FIELDS)
            self._db.execute(f"CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, {cols})")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ScoreCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _select(self, columns: str, table: str, keys: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Rows ``key, <columns>`` of ``table`` for the keys present."""
        step = 900  # stay under SQLite's bound-parameter limit
        for lo in range(0, len(keys), step):
            part = list(keys[lo : lo + step])
            marks = ",".join("?" * len(part))
            with _sqlite(self.path):
                yield from self._db.execute(f"SELECT key, {columns} FROM {table} WHERE key IN ({marks})", part)

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, float]]:
        """Cached values (field -> value, the fields of :data:`VALUE_FIELDS`) for the keys present."""
        return {
            row[0]: dict(zip(VALUE_FIELDS, row[1:])) for row in self._select(", ".join(VALUE_FIELDS), "scores", keys)
        }

    def get_embeddings(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached span embeddings for the keys present: each a (2, width) float16 array (Q, A)."""
        with _sqlite(self.path):
            exists = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'embeddings'")
            if exists.fetchone() is None:  # a cache no embedding run has written to
                return {}
        found: dict[str, np.ndarray] = {}
        for key, width, q, a in self._select("width, q, a", "embeddings", keys):
            found[key] = np.stack([np.frombuffer(q, np.float16), np.frombuffer(a, np.float16)]).reshape(2, width)
        return found

    def put_many(self, keys: Sequence[str], values: pd.DataFrame, embeddings: np.ndarray | None = None) -> None:
        """Store one batch atomically (all rows or none): row i of ``values`` (columns
        :data:`VALUE_FIELDS`) under ``keys[i]``, and with ``embeddings`` (rows, 2, width) its span
        embeddings (stored as float16) in the same transaction."""
        if len(keys) != len(values) or (embeddings is not None and embeddings.shape[:2] != (len(keys), 2)):
            shape = "" if embeddings is None else f" and embeddings {embeddings.shape}"
            raise ValueError(f"{len(keys)} keys for {len(values)} rows of values{shape}")
        table = values[list(VALUE_FIELDS)].to_numpy(dtype=object)
        rows = [(k, *[_plain(v) for v in vals]) for k, vals in zip(keys, table)]
        marks = ",".join("?" * (1 + len(VALUE_FIELDS)))
        names = ", ".join(("key", *VALUE_FIELDS))
        with _sqlite(self.path), self._db:  # BEGIN ... COMMIT, rolled back on error
            self._db.execute("BEGIN")
            self._db.executemany(f"INSERT OR REPLACE INTO scores ({names}) VALUES ({marks})", rows)
            if embeddings is not None:
                vectors = np.ascontiguousarray(embeddings, dtype=np.float16)
                self._db.execute(_EMBEDDINGS_TABLE)
                self._db.executemany(
                    "INSERT OR REPLACE INTO embeddings (key, width, q, a) VALUES (?, ?, ?, ?)",
                    [(k, v.shape[1], v[0].tobytes(), v[1].tobytes()) for k, v in zip(keys, vectors)],
                )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM scores").fetchone()[0])


def _plain(v: float | int | np.generic) -> float | int:
    return v.item() if isinstance(v, np.generic) else v

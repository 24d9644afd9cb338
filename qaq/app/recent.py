"""The Data page's recent datasets: what was opened, most recent first, kept in a small JSON file.

No Streamlit here: :mod:`qaq.app.state` records each dataset the user opens (its data file, score
file and field mapping) with :func:`remember`; the Data page lists :func:`recent_datasets` to
switch back in one click. The file (:data:`qaq.app.paths.RECENT_FILE`, looked up per call) holds
at most :data:`MAX_RECENT` entries; an entry whose file is gone is dropped when the list is read,
and a score file that is gone is forgotten from its entry.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qaq.app import paths
from qaq.io.datasets import DataError
from qaq.io.files import write_atomic

MAX_RECENT = 8
RECENT_FORMAT = "qaq-app-recent/1"  # the "format" key of the file


@dataclass(frozen=True)
class Recent:
    """A dataset the user opened: its data file (None when the score file carries the rows),
    score file and field mapping (:func:`qaq.io.datasets.load_dataset` keywords; {} = detected)."""

    data: str | None
    scores: str | None = None
    mapping: dict[str, Any] = field(default_factory=dict)
    opened: float = 0.0  # time.time() when it was last opened

    @property
    def key(self) -> str:
        """What identifies the entry: its data file, else its (self-contained) score file."""
        key = self.data or self.scores
        assert key is not None, "an entry has a data file or a score file (checked when read)"
        return str(Path(key).expanduser().resolve())

    @property
    def label(self) -> str:
        """A short name for a button: the data file's name, then the score file's.

        >>> Recent("/d/five.jsonl", "/s/five.scores.parquet").label, Recent(None, "/s/authors.json").label
        ('five.jsonl + five.scores.parquet', 'authors.json')
        """
        names = [Path(p).name + (" (uploaded)" if _uploaded(p) else "") for p in (self.data, self.scores) if p]
        return " + ".join(names) + (" (custom fields)" if self.mapping else "")

    def opens(self, data: str | None, scores: str | None) -> bool:
        """Whether this entry is the dataset (data, scores)."""
        return paths.same_file(self.data, data) and paths.same_file(self.scores, scores)


def _uploaded(path: str) -> bool:
    """Whether a file is an upload kept in the app's upload folder (it may share its name with the original)."""
    return Path(path).expanduser().resolve().is_relative_to(Path(paths.UPLOAD_DIR).resolve())


def _file(path: str | os.PathLike[str] | None) -> Path:
    return Path(paths.RECENT_FILE if path is None else path)


def _read(path: Path) -> list[Recent]:
    """The entries of the file as written: [] when it is missing or not one qaq wrote."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(doc, dict) or doc.get("format") != RECENT_FORMAT or not isinstance(doc.get("recent"), list):
        return []
    entries = []
    for item in doc["recent"]:
        try:
            entry = Recent(
                data=_optional_str(item["data"]),
                scores=_optional_str(item["scores"]),
                mapping={str(k): v for k, v in dict(item["mapping"]).items()},
                opened=float(item["opened"]),
            )
        except (KeyError, TypeError, ValueError):
            continue  # an entry this version cannot read: skipped, not fatal
        if entry.data or entry.scores:
            entries.append(entry)
    return entries


def _optional_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise TypeError(f"expected a path or null, got {value!r}")


def recent_datasets(*, path: str | os.PathLike[str] | None = None) -> list[Recent]:
    """The recent datasets, most recent first, without those whose files are gone.

    An entry whose data file (or, without one, score file) is gone is dropped; one whose score
    file alone is gone comes back without it.
    """
    kept = []
    for entry in _read(_file(path)):
        main = entry.data or entry.scores
        if main is None or not Path(main).expanduser().is_file():
            continue
        if entry.data and entry.scores and not Path(entry.scores).expanduser().is_file():
            entry = Recent(entry.data, None, entry.mapping, entry.opened)
        kept.append(entry)
    return kept


def remember(
    data: str | None,
    scores: str | None,
    mapping: dict[str, Any] | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    now: float | None = None,
) -> list[Recent]:
    """Put a dataset first in the list (replacing its older entry) and return the list.

    Keeps :data:`MAX_RECENT` entries. Best effort: a list that cannot be written (a read-only
    app folder) is returned all the same, so opening a dataset never fails because of it.
    """
    if not data and not scores:
        return recent_datasets(path=path)
    entry = Recent(data or None, scores or None, dict(mapping or {}), time.time() if now is None else now)
    entries = [entry, *(e for e in recent_datasets(path=path) if e.key != entry.key)][:MAX_RECENT]
    doc = {"format": RECENT_FORMAT, "recent": [asdict(e) for e in entries]}
    target = _file(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, json.dumps(doc, indent=1) + "\n")
    except (OSError, DataError):
        pass
    return entries

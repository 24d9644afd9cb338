"""The record of a scoring run, as a score file's metadata holds it, read in one place.

``qaq score`` (:func:`qaq.scoring.report.run_metadata`, plus the ``source`` of the data) writes a
JSON object into the score file; :func:`qaq.io.scorefile.load_scores` returns it as a dict.
:func:`run_record` turns that dict into typed fields, checking their types, so readers (the
CLI's ``select``, the app) never walk ``(meta.get(k) or {}).get(...)`` chains. The dict itself
stays in ``raw``: exports copy it as it was.

>>> r = run_record({"models": {"weak": {"spec": "smollm2-135m", "parameters": 134515008}},
...                 "config": {"template": "chat", "max_length": 2048},
...                 "source": {"path": "/d/data.jsonl", "sha256": "ab", "mapping": {"schema": "alpaca",
...                            "query": "instruction", "answer": "output", "id": None}}})
>>> r.models["weak"].spec, r.models["weak"].parameters, r.templates
('smollm2-135m', 134515008, {'template': 'chat'})
>>> r.source.load_kwargs()  # a detected schema is detected again; ids were hashed from Q and A
(('id_field', ''),)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qaq.io.datasets import DataError

# The score file formats qaq reads: its own, and the QAQ authors' (which carries the rows).
QAQ_FORMAT, AUTHORS_FORMAT = "qaq", "qaq-authors"
# The config fields that say how Q and A were laid out (copied into selection manifests).
TEMPLATE_FIELDS = ("template", "system", "reverse_instruction")


@dataclass(frozen=True)
class SourceRecord:
    """The data file a run scored: its path, content hash and how its fields were read."""

    path: str | None = None
    sha256: str | None = None
    mapping: Mapping[str, Any] = field(default_factory=dict)  # a qaq.io.datasets.FieldMapping as a dict

    def load_kwargs(self) -> tuple[tuple[str, Any], ...]:
        """:func:`qaq.io.datasets.load_dataset` keyword arguments that read the file as it was scored.

        Sorted ``(name, value)`` pairs (hashable). A detected schema gives none, so detection runs
        again (same file, same answer), except ``id_field=""`` when the run hashed ids from Q and A.
        """
        return mapping_kwargs(self.mapping)


@dataclass(frozen=True)
class ModelRecord:
    """One scored model as the run described it."""

    spec: str | None = None  # what it was loaded from: an embedded name, a path, a hub id
    identity: str | None = None  # content hash of its files
    parameters: int | None = None
    precision: str | None = None  # what the numbers were computed in (fp32, bf16, ...); older files: its dtype
    device: str | None = None  # where they were computed (cpu, cuda, ...)
    tokens_forwarded: int | None = None  # tokens the run forwarded, and in how many seconds (its rate)
    seconds: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """A score file's metadata as typed fields; ``raw`` is the dict as stored."""

    format: str = QAQ_FORMAT
    models: Mapping[str, ModelRecord] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    source: SourceRecord = field(default_factory=SourceRecord)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def templates(self) -> dict[str, Any]:
        """The layout fields of the config (template, system prompt, reverse instruction) it has."""
        return {k: self.config[k] for k in TEMPLATE_FIELDS if k in self.config}

    def carries_rows(self, columns: Any) -> bool:
        """Whether a score table with these columns holds its own rows (the QAQ authors' files do),
        so that it needs no data file."""
        return self.format == AUTHORS_FORMAT or {"row", "query", "answer"} <= set(columns)

    @property
    def model_raw(self) -> dict[str, dict[str, Any]]:
        """Every model's description as stored (for manifests)."""
        return {name: dict(m.raw) for name, m in self.models.items()}


def run_record(meta: Mapping[str, Any] | None, *, where: str = "score metadata") -> RunRecord:
    """Read a score file's metadata dict into a :class:`RunRecord`.

    Raises:
        DataError: a field of the wrong type (``where`` names the file).
    """
    meta = meta or {}
    if not isinstance(meta, Mapping):
        raise DataError(f"{where}: expected a JSON object, got {type(meta).__name__}")
    models_raw = _mapping(meta, "models", where)
    models = {}
    for name, m in models_raw.items():
        if not isinstance(m, Mapping):
            raise DataError(f"{where}: models.{name} must be an object, got {type(m).__name__}")
        params = m.get("parameters")
        models[str(name)] = ModelRecord(
            spec=_text(m, "spec", f"{where}: models.{name}"),
            identity=_text(m, "identity", f"{where}: models.{name}"),
            parameters=_int(params),
            precision=_text(m, "precision", f"{where}: models.{name}") or _text(m, "dtype", f"{where}: models.{name}"),
            device=_text(m, "device", f"{where}: models.{name}"),
            tokens_forwarded=_int(m.get("tokens_forwarded")),
            seconds=_float(m.get("seconds")),
            raw=m,
        )
    source = _mapping(meta, "source", where)
    fmt = meta.get("format", QAQ_FORMAT)
    if fmt not in (QAQ_FORMAT, AUTHORS_FORMAT):
        raise DataError(f"{where}: unknown format {fmt!r}; expected {QAQ_FORMAT} or {AUTHORS_FORMAT}")
    return RunRecord(
        format=fmt,
        models=models,
        config=_mapping(meta, "config", where),
        source=SourceRecord(
            path=_text(source, "path", f"{where}: source"),
            sha256=_text(source, "sha256", f"{where}: source"),
            mapping=_mapping(source, "mapping", f"{where}: source"),
        ),
        raw=meta,
    )


def mapping_kwargs(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """:func:`qaq.io.datasets.load_dataset` keyword arguments, sorted and hashable, from a field mapping.

    Args:
        mapping: load_dataset keyword arguments (the app's field choices), or a ``FieldMapping``
            as score metadata stores it (it has a ``schema`` key).

    Returns:
        ``(name, value)`` pairs without None values. A detected (non-``custom``) FieldMapping gives
        no arguments, so detection runs again, except ``id_field=""`` when it hashed Q and A.
    """
    if not mapping:
        return ()
    if "schema" in mapping:
        kw = {
            "query": mapping.get("query"),
            "answer": mapping.get("answer"),
            "input_field": mapping.get("input"),
            "messages": mapping.get("messages"),
            "id_field": mapping.get("id") or "",
        }
        if mapping.get("schema") != "custom":
            return (("id_field", kw["id_field"]),) if kw["id_field"] == "" else ()
        return tuple(sorted((k, v) for k, v in kw.items() if v is not None))
    return tuple(sorted((k, v) for k, v in mapping.items() if v is not None))


def _mapping(d: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = d.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DataError(f"{where}: '{key}' must be an object, got {type(value).__name__}")
    return value


def _float(value: Any) -> float | None:
    """A JSON number as a float (None for anything else, a bool included)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _text(d: Mapping[str, Any], key: str, where: str) -> str | None:
    value = d.get(key)
    if value is not None and not isinstance(value, str):
        raise DataError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
    return value

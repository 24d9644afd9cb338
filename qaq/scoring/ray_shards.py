"""The ray engine's keys, units of work and their shards (the driver's files, one per finished unit).

:func:`model_run_key` is the local engine's run key (:func:`qaq.scoring.cache.run_key`), made on
the driver from a model's tokenizer and config alone.

A unit is up to ``rows_per_shard`` distinct (Q, A) pairs of one input file, named by the sha256
of their keys (:func:`qaq.scoring.cache.sample_key`); its shard is a Parquet file of the keys and
what was measured (:data:`qaq.scoring.cache.VALUE_FIELDS`), written atomically.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qaq.io.datasets import DataError
from qaq.io.scorefile import load_scores, write_scores
from qaq.scoring.cache import VALUE_FIELDS, run_key
from qaq.scoring.ray_stages import RayEngineError

if TYPE_CHECKING:
    from qaq.scoring.engine import ScoringConfig
    from qaq.scoring.models import ModelSource

log = logging.getLogger("qaq")


def model_run_key(source: ModelSource, config: ScoringConfig) -> str:
    """The local engine's run key for ``source`` under ``config`` (whose dtype is explicit),
    computed from the tokenizer and config only (no weights are read)."""
    from qaq.scoring.encoder import Encoder

    encoder = Encoder.from_source(
        source,
        trust_remote_code=config.trust_remote_code,
        template=config.template,
        system=config.system,
        reverse_instruction=config.reverse_instruction,
    )
    return run_key(
        model_identity=source.identity,
        template_sha256=encoder.layout.sha256,
        max_length=config.max_length,
        dtype=config.dtype,
    )


@dataclass(frozen=True)
class Unit:
    """Up to rows_per_shard distinct samples of one file: what one shard holds."""

    name: str  # sha256 of the keys: names the shard
    keys: tuple[str, ...]
    n_rows: int  # scorable rows these keys stand for (repeats included)


@dataclass(frozen=True)
class ScorableRows:
    """The scorable rows of the input: their texts and which input file each came from."""

    positions: np.ndarray  # row positions in the data
    queries: list[str]
    answers: list[str]
    segments: list[int]  # input file of each row

    @classmethod
    def of(cls, data: pd.DataFrame) -> ScorableRows:
        source = data.attrs.get("qaq_source", {})
        sizes = [f["n_rows"] for f in source["files"]] if "files" in source else [len(data)]
        segment = np.repeat(np.arange(len(sizes)), sizes)
        positions = np.flatnonzero((data["skip"].fillna("") == "").to_numpy())
        return cls(
            positions,
            data["query"].to_numpy()[positions].tolist(),
            data["answer"].to_numpy()[positions].tolist(),
            segment[positions].tolist(),
        )

    def spread(self, measured: np.ndarray, index: pd.Index) -> pd.DataFrame:
        """Values measured per scorable row (:data:`VALUE_FIELDS`) as a frame over all rows of the
        data (``index``), NaN in the rows that were not scored."""
        full = np.full((len(index), len(VALUE_FIELDS)), np.nan)
        full[self.positions] = measured
        return pd.DataFrame(full, index=index, columns=list(VALUE_FIELDS))


def shards_folder(output: str | os.PathLike[str] | None, shards_dir: str | os.PathLike[str] | None) -> Path:
    """Where a run's shards go: ``shards_dir``, else ``<output>.shards``."""
    if shards_dir is not None:
        return Path(shards_dir)
    if output is None:
        raise ValueError("give output= or shards_dir=")
    return Path(str(output) + ".shards")


def plan_units(keys: Sequence[str], segments: Sequence[int], rows_per_shard: int) -> list[Unit]:
    """Cut each file's distinct keys, in first-seen order, into units.

    Units stay within one file, so adding a file to a directory leaves every other unit (and
    its shard) as it was.
    """
    units: dict[str, Unit] = {}
    by_segment: dict[int, list[str]] = defaultdict(list)
    for key, seg in zip(keys, segments):
        by_segment[seg].append(key)
    for seg in sorted(by_segment):
        counts = Counter(by_segment[seg])
        distinct = list(counts)  # Counter keeps first-seen order
        for lo in range(0, len(distinct), rows_per_shard):
            chunk = tuple(distinct[lo : lo + rows_per_shard])
            name = hashlib.sha256("\n".join(chunk).encode()).hexdigest()
            units.setdefault(name, Unit(name, chunk, sum(counts[k] for k in chunk)))
    return list(units.values())


def shard_path(shards_dir: Path, unit: Unit) -> Path:
    return shards_dir / f"{unit.name[:40]}.parquet"


def shard_done(path: Path) -> bool:
    """Whether a unit's shard is finished; an unreadable one is scored again (and replaced)."""
    if not path.is_file():
        return False
    try:
        pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        log.warning("shard %s is unreadable, scoring it again: %s", path, exc)
        return False
    return True


def write_shard(path: Path, frame: pd.DataFrame, *, model: str, description: dict[str, Any]) -> None:
    # qaq.io.scorefile.write_scores writes to a temporary file and renames it: a shard is whole or absent.
    write_scores(
        frame[["key", *VALUE_FIELDS]].reset_index(drop=True),
        path,
        {"qaq_shard": 1, "model": model, "description": description, "rows": len(frame)},
    )


def read_shards(name: str, units: Sequence[Unit], shards: Path) -> tuple[pd.DataFrame | None, list[dict[str, Any]]]:
    """The units' values indexed by key (None without units) and the shards' model descriptions."""
    frames, descriptions = [], []
    for u in units:
        path = shard_path(shards, u)
        try:
            frame, meta = load_scores(path)
        except DataError as exc:
            raise RayEngineError(f"model {name}: cannot read shard {path} ({exc}); delete it and run again") from None
        frames.append(frame)
        descriptions.append(meta.get("description") or {})
    if not frames:
        return None, []
    values = pd.concat(frames, ignore_index=True).drop_duplicates("key").set_index("key")
    return values[list(VALUE_FIELDS)], [d for d in descriptions if d]


def check_descriptions(name: str, descriptions: Sequence[Mapping[str, Any]], precision: str, shards: Path) -> None:
    """Every shard of a model was scored with one template and in the run's precision."""
    layouts = {(d.get("template_sha256"), d.get("dtype")) for d in descriptions}
    if len(layouts) > 1:
        raise RayEngineError(
            f"model {name}: the shards in {shards} were scored with different templates or "
            f"dtypes {sorted(map(str, layouts))}; give a new --shards-dir or --dtype explicitly"
        )
    other = sorted({str(d.get("precision")) for d in descriptions} - {precision})
    if other:
        raise RayEngineError(
            f"model {name}: the shards in {shards} were computed in {', '.join(other)}, but the run's "
            f"keys say {precision}; give a new --shards-dir"
        )

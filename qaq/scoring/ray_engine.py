"""Score on a Ray cluster: the scale-out engine of ``qaq score --engine ray`` (METHOD.md section 7).

The pipeline, per model::

    driver: load_dataset per file -> sample keys (qaq.scoring.cache) -> what the score cache has
      -> content-addressed units of the missing distinct (Q, A) pairs
      -> Ray Data: map_batches(Tokenize)   CPU actors: token ids of Q and A (an Encoder, no weights)
      -> Ray Data: map_batches(Score)      one actor per GPU (num_gpus), model loaded once:
                                           sm.encoder.encode_ids + qaq.scoring.engine.iter_scores,
                                           7 values per sample out, no per-token data
    driver: one Parquet shard per finished unit (atomic) and its rows into the score cache,
      then the merged score table

The stages live in :mod:`qaq.scoring.ray_stages`. Scores come from the same functions as the
local engine (:func:`qaq.scoring.engine.iter_scores` for the values,
:func:`qaq.scoring.engine.score_fields` for the columns), so the merged table has exactly the
local engine's schema and, in fp32, its values (to float rounding).

Resume: every sample is keyed as the local engine keys it (:func:`qaq.scoring.cache.run_key`:
the model's identity, the template's sha256, ``max_length`` and the precision, which the driver
decides and gives the actors explicitly; :func:`~qaq.scoring.cache.sample_key`: the pair's
content). Two stores hold finished work under those keys:

- the score cache (SQLite, on the driver), shared with the local engine: samples found there
  are not sent to Ray, and every finished unit's samples are added to it, so a local run reuses
  a Ray run's work and the reverse;
- the shards: a unit is a run of up to ``rows_per_shard`` distinct pairs of one input file that
  the cache lacks, named by the sha256 of its keys. A rerun after a crash (with or without the
  cache) finds the finished shards and sends only the missing units to Ray; a rerun after
  success starts no Ray at all.

The driver writes the shards and the cache, so workers need no shared file system. Ray is an
optional dependency: it is imported inside functions only, and the rest of qaq never imports
this module unless the ray engine is asked for.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from qaq.columns import score_column
from qaq.io.datasets import DataError
from qaq.io.inputs import load_inputs
from qaq.io.scorefile import write_scores
from qaq.scoring.cache import VALUE_FIELDS, ScoreCache, sample_key
from qaq.scoring.engine import ModelRun, ProgressFn, ScoringConfig, score_fields, score_table_base
from qaq.scoring.hardware import Dtype, choose_dtype
from qaq.scoring.ray_shards import (
    ScorableRows,
    Unit,
    check_descriptions,
    model_run_key,
    plan_units,
    read_shards,
    shard_done,
    shard_path,
    shards_folder,
    write_shard,
)
from qaq.scoring.ray_stages import (
    INSTALL_HINT,
    Cluster,
    RayEngineError,
    RayNotInstalled,
    failure_text,
    pipeline,
    ray_available,
    require_ray,
)
from qaq.scoring.report import run_metadata

if TYPE_CHECKING:
    from qaq import jobs  # start_ray_job's request; imported like start_ray_job imports it, on call
    from qaq.scoring.models import ModelSource

__all__ = [
    "DEFAULT_ROWS_PER_SHARD",
    "INSTALL_HINT",
    "RayEngineError",
    "RayNotInstalled",
    "key_precision",
    "model_run_key",
    "ray_available",
    "require_ray",
    "score_with_ray",
    "start_ray_job",
]

log = logging.getLogger("qaq")

DEFAULT_ROWS_PER_SHARD = 2048


# --------------------------------------------------------------------------- keys


def key_precision(config: ScoringConfig, cluster: Cluster, gpus_per_worker: float = 1.0) -> Dtype:
    """The precision a Ray run computes in, decided once on the driver (it is part of every key).

    An explicit dtype is used as it is. ``auto`` is what the local engine's policy
    (:func:`qaq.scoring.hardware.choose_dtype`) gives on the actors' device: on a GPU, asked of a
    GPU worker; on CPU actors, this machine's answer (the actors are then given it explicitly,
    so a node of another CPU kind computes in the same precision).
    """
    if config.dtype != "auto":
        return config.dtype
    if cluster.uses_gpus(config):
        return cast(Dtype, cluster.gpu_dtype(gpus_per_worker))
    return cast(Dtype, choose_dtype("auto", "cpu")[0])


# --------------------------------------------------------------------------- the engine


def _check_settings(
    config: ScoringConfig, *, rows_per_shard: int, gpus_per_worker: float, output: str | os.PathLike[str] | None
) -> None:
    """What can be refused before any data is read or any Ray is started."""
    if rows_per_shard < 1:
        raise ValueError(f"rows_per_shard must be positive, got {rows_per_shard}")
    if gpus_per_worker <= 0:
        raise ValueError(f"gpus_per_worker must be positive, got {gpus_per_worker}")
    if config.device not in ("auto", "cpu", "cuda", "cuda:0"):
        raise RayEngineError(
            f"--device {config.device}: with the ray engine each actor sees its own GPU as cuda:0; "
            "use auto, cuda or cpu"
        )
    if output is not None and not Path(output).parent.is_dir():
        raise DataError("no such folder", path=Path(output).parent)  # before any scoring, not after


def score_with_ray(
    inputs: str | os.PathLike[str] | pd.DataFrame,
    models: Mapping[str, str],
    *,
    config: ScoringConfig = ScoringConfig(),
    output: str | os.PathLike[str] | None = None,
    address: str | None = None,
    gpus_per_worker: float = 1.0,
    concurrency: int | None = None,
    shards_dir: str | os.PathLike[str] | None = None,
    rows_per_shard: int = DEFAULT_ROWS_PER_SHARD,
    load_options: Mapping[str, Any] | None = None,
    cache: ScoreCache | None = None,
    progress: ProgressFn | None = None,
) -> pd.DataFrame:
    """Score a dataset on Ray; return (and write) the local engine's score table.

    Args:
        inputs: a data file, a directory of them (see :func:`load_inputs`), or a loaded table.
        models: short name -> model spec (embedded name, path, hub id); every node resolves
            the spec itself and must find the same model (its identity is checked).
        config: how to score, as for the local engine. ``device`` is ``auto``, ``cpu`` or
            ``cuda``: each actor sees its own GPU(s). ``dtype="auto"`` is decided once on the
            driver (:func:`key_precision`).
        output: the merged score table to write (``.parquet``, ``.csv``, ``.jsonl``), or None.
        address: ``auto``, ``ray://host:10001``, ``host:6379``; None starts Ray on this machine.
            An already connected session (``ray.init`` before the call) is used as it is.
        gpus_per_worker: GPUs per scoring actor (a fraction packs several actors on one GPU).
        concurrency: scoring actors; default: one per ``gpus_per_worker`` GPUs of the cluster,
            or 1 on a cluster without GPUs.
        shards_dir: where finished shards go; default ``<output>.shards`` (required without output).
        rows_per_shard: distinct samples per unit of work and of resume.
        load_options: passed to :func:`qaq.io.datasets.load_dataset` for each file.
        cache: the score cache shared with the local engine (read first, then filled with every
            finished unit); None: shards only.
        progress: called with (model name, rows done, rows total) as shards finish.

    Returns:
        ``id`` then each model's :data:`qaq.columns.SCORE_FIELDS` columns, one row per input row;
        ``attrs["qaq_run"]`` holds the run metadata, with ``engine: "ray"``.

    Raises:
        RayNotInstalled: Ray Data is not importable.
        DataError: as :func:`qaq.io.datasets.load_dataset`.
        ModelNotFound: a spec resolves to nothing on the driver.
        RayEngineError: bad engine settings, or the Ray run failed (finished shards are kept).
    """
    require_ray()
    from qaq.scoring.models import resolve_model

    _check_settings(config, rows_per_shard=rows_per_shard, gpus_per_worker=gpus_per_worker, output=output)
    shards = shards_folder(output, shards_dir)
    data = inputs if isinstance(inputs, pd.DataFrame) else load_inputs(inputs, **dict(load_options or {}))
    shards.mkdir(parents=True, exist_ok=True)
    rows = ScorableRows.of(data)
    sources = {name: resolve_model(spec) for name, spec in models.items()}

    out = score_table_base(data)
    runs: dict[str, ModelRun] = {}
    engine_info: dict[str, Any] = {
        "address": address,
        "shards_dir": str(shards.resolve()),
        "rows_per_shard": rows_per_shard,
        "models": {},
    }
    with Cluster(address) as cluster:
        job = _Job(cluster, shards, cache, rows_per_shard, gpus_per_worker, concurrency, progress)
        run_config = replace(config, dtype=key_precision(config, cluster, gpus_per_worker))
        for name, spec in models.items():
            measured, runs[name], engine_info["models"][name] = job.score_model(
                name, spec, sources[name], rows, run_config
            )
            for field_name, col in score_fields(rows.spread(measured, data.index)).items():
                out[score_column(name, field_name)] = col
    meta = run_metadata(config, runs, n_rows=len(data))
    meta.update(engine="ray", ray=engine_info, source=data.attrs.get("qaq_source", {}))
    out.attrs["qaq_run"] = meta
    if output is not None:
        write_scores(out, output, meta)
    return out


@dataclass
class _Job:
    """One Ray run's settings and stores, shared by the models it scores."""

    cluster: Cluster
    shards: Path
    cache: ScoreCache | None
    rows_per_shard: int
    gpus_per_worker: float
    concurrency: int | None
    progress: ProgressFn | None

    def score_model(
        self, name: str, spec: str, source: ModelSource, rows: ScorableRows, config: ScoringConfig
    ) -> tuple[np.ndarray, ModelRun, dict[str, Any]]:
        """One model's measured values per scorable row (:data:`VALUE_FIELDS`), its run record
        and its engine info, scoring on Ray only what neither store has."""
        t0 = time.perf_counter()
        keys = [sample_key(model_run_key(source, config), q, a) for q, a in zip(rows.queries, rows.answers)]
        cached = self.cache.get_many(keys) if self.cache is not None else {}
        missing = [(k, seg) for k, seg in zip(keys, rows.segments) if k not in cached]
        units = plan_units([k for k, _ in missing], [seg for _, seg in missing], self.rows_per_shard)
        todo = [u for u in units if not shard_done(shard_path(self.shards, u))]
        run = ModelRun(name, {}, rows_total=len(keys))
        run.rows_cached = run.rows_total - sum(u.n_rows for u in todo)
        if self.progress:
            self.progress(name, run.rows_cached, run.rows_total)
        info: dict[str, Any] = {
            "units": len(units),
            "units_cached": len(units) - len(todo),
            "rows_from_cache": len(keys) - len(missing),
        }
        if todo:
            texts = {k: (q, a) for k, q, a in zip(keys, rows.queries, rows.answers)}
            info.update(self._run_units(name, spec, source.identity, todo, texts, config=config, run=run))
        values, descriptions = self._merge(name, units, cached, done_before=[u for u in units if u not in todo])
        check_descriptions(name, descriptions, config.dtype, self.shards)
        run.description = descriptions[0] if descriptions else {"spec": spec, "identity": source.identity}
        devices = sorted({d.get("device", "?") for d in descriptions})
        run.extra = {"devices": devices}
        run.seconds = time.perf_counter() - t0
        info["devices"] = devices
        return values.loc[keys, list(VALUE_FIELDS)].to_numpy(dtype=np.float64), run, info

    def _run_units(
        self,
        name: str,
        spec: str,
        identity: str,
        todo: Sequence[Unit],
        texts: Mapping[str, tuple[str, str]],
        *,
        config: ScoringConfig,
        run: ModelRun,
    ) -> dict[str, Any]:
        """Send the missing units through the two Ray stages; file each unit as it completes."""
        ray = self.cluster.ray
        use_gpu = self.cluster.uses_gpus(config)
        gpus = self.cluster.gpus
        actors = self.concurrency or (max(1, int(gpus // self.gpus_per_worker)) if use_gpu else 1)
        tokenizers = max(1, -(-actors // 4))  # fast tokenizers outpace a GPU several times over
        resources: dict[str, float] = {"num_gpus": self.gpus_per_worker} if use_gpu else {"num_cpus": 1}
        ds = pipeline(
            ray,
            [u.keys for u in todo],
            texts,
            spec,
            identity,
            config,
            actors=actors,
            tokenizers=tokenizers,
            resources=resources,
        )
        parts: dict[int, list[pd.DataFrame]] = defaultdict(list)
        got: Counter[int] = Counter()
        description: dict[str, Any] = {}
        try:
            for batch in ds.iter_batches(batch_size=None, batch_format="pandas"):
                described = batch.loc[batch["model"] != "", "model"]
                if len(described):
                    description = json.loads(described.iloc[0])
                for i, part in batch.groupby("unit", sort=False):
                    i = int(i)
                    parts[i].append(part)
                    got[i] += len(part)
                    if got[i] == len(todo[i].keys):
                        self._file_unit(
                            name, spec, todo[i], pd.concat(parts.pop(i), ignore_index=True), description, run
                        )
        except ray.exceptions.RayError as exc:
            finished = sum(1 for u in todo if shard_path(self.shards, u).is_file())
            raise RayEngineError(
                f"the Ray run failed ({finished} of {len(todo)} shards finished and kept in "
                f"{self.shards}; run again to resume): {failure_text(exc)}"
            ) from None
        return {
            "scoring_actors": actors,
            "tokenizer_actors": tokenizers,
            "gpus_per_worker": self.gpus_per_worker if use_gpu else 0,
            "cluster_gpus": gpus,
        }

    def _file_unit(
        self, name: str, spec: str, unit: Unit, whole: pd.DataFrame, description: dict[str, Any], run: ModelRun
    ) -> None:
        """A finished unit: its shard, its rows in the cache, its progress."""
        write_shard(shard_path(self.shards, unit), whole, model=spec, description=description)
        if self.cache is not None:
            self.cache.put_many(whole["key"].tolist(), whole)
        run.rows_scored += unit.n_rows
        run.tokens_forwarded += int(whole["tokens"].sum())
        if self.progress:
            self.progress(name, run.rows_cached + run.rows_scored, run.rows_total)

    def _merge(
        self,
        name: str,
        units: Sequence[Unit],
        cached: Mapping[str, Mapping[str, float]],
        *,
        done_before: Sequence[Unit],
    ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """Every key's values (from the cache and the shards), and the shards' model descriptions.

        Shards finished before this run (under ``--no-cache``, or by a run that was stopped)
        are added to the cache here, so the local engine finds them too.
        """
        from_shards, descriptions = read_shards(name, units, self.shards)
        from_cache = pd.DataFrame.from_dict(dict(cached), orient="index", columns=list(VALUE_FIELDS))
        if from_shards is None:
            return from_cache, []
        earlier = {k for u in done_before for k in u.keys}
        if self.cache is not None and earlier:
            self.cache.put_many(list(earlier), from_shards.loc[list(earlier)])
        values = pd.concat([from_cache, from_shards]) if len(from_cache) else from_shards
        return values, descriptions


# --------------------------------------------------------------------------- for the app


def start_ray_job(request: jobs.ScoreRequest, *, jobs_dir: str | os.PathLike[str] | None = None) -> str:
    """Start a ray engine request (``qaq score --engine ray ...``) as a background job; return its id.

    The job is an ordinary :mod:`qaq.jobs` job, run on this machine as the Ray driver: its status
    file records the request, and :func:`qaq.jobs.job_status` reads it (``progress[NAME]`` has
    ``done``, ``total``, ``rows_per_s``, ``eta_s`` as shards finish; ``output`` and ``rows`` once
    finished); :func:`qaq.jobs.cancel_job` stops it, and starting it again resumes from its
    shards. Ray need not be installed where this is called, only where the job runs (here): a job
    without it fails with the install command as its error.

    Args:
        request: what to score, with ``engine="ray"`` and its :class:`qaq.jobs.RayOptions`
            (address, GPUs per worker, concurrency, shards folder, rows per shard).
        jobs_dir: where job folders live (default :data:`qaq.jobs.JOBS_DIR`).

    Raises:
        ValueError: a request for the local engine (start it with :func:`qaq.jobs.start_job`).
    """
    from qaq import jobs

    if request.engine != "ray":
        raise ValueError(
            f"start_ray_job starts ray engine requests, not engine={request.engine!r}: use qaq.jobs.start_job"
        )
    return jobs.start_job(request, jobs_dir=jobs_dir)

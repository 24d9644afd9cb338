"""Score on a Ray cluster: the scale-out engine of ``qaq score --engine ray`` (METHOD.md section 7).

The pipeline, per model::

    driver: load_dataset per file -> content-addressed units of distinct (Q, A) pairs
      -> Ray Data: map_batches(_Tokenize)   CPU actors: token ids of Q and A (an Encoder, no weights)
      -> Ray Data: map_batches(_Score)      one actor per GPU (num_gpus), model loaded once:
                                            sm.encoder.encode_ids + qaq.scoring.engine.iter_scores,
                                            7 values per sample out, no per-token data
    driver: one Parquet shard per finished unit (atomic), then the merged score table

Scores come from the same functions as the local engine (:func:`qaq.scoring.engine.iter_scores` for
the values, :func:`qaq.scoring.engine.score_fields` for the columns), so the merged table has exactly
the local engine's schema and, in fp32, its values (to float rounding).

Resume: a unit is a run of up to ``rows_per_shard`` distinct pairs of one input file; its shard
is named by the sha256 of its samples' keys, and each key covers the pair's content, the model's
identity and every setting that changes scores. A rerun after a crash finds the finished shards
and sends only the missing units to Ray; a rerun after success starts no Ray at all. The driver
writes the shards, so workers need no shared file system; the shards directory lives with the
driver.

Ray is an optional dependency: this module imports it inside functions only, and the rest of
qaq never imports this module unless the ray engine is asked for.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from qaq.columns import score_column
from qaq.io.datasets import DataError
from qaq.io.inputs import load_inputs
from qaq.io.scorefile import load_scores, write_scores
from qaq.scoring.cache import VALUE_FIELDS, sample_key
from qaq.scoring.engine import ModelRun, ProgressFn, ScoringConfig, run_metadata, score_fields, score_table_base

if TYPE_CHECKING:
    from qaq import jobs  # start_ray_job's request; imported like start_ray_job imports it, on call

log = logging.getLogger("qaq")

INSTALL_HINT = 'pip install "qaq[ray]"'
DEFAULT_ROWS_PER_SHARD = 2048
# Settings that do not change scores (the parity tests hold them to fp32 rounding): they stay
# out of the shard keys, so changing them does not rescore finished shards.
_NOT_IN_KEYS = ("batch_tokens", "padding_side", "pack", "compile")


class RayNotInstalled(ImportError):
    """``--engine ray`` without Ray installed."""


class RayEngineError(RuntimeError):
    """A Ray run failed or was set up wrongly; finished shards stay for the rerun."""


def require_ray() -> None:
    """Raise :class:`RayNotInstalled` (with the install command) unless ``ray.data`` imports."""
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise RayNotInstalled(
            f"the ray engine needs Ray Data, which is not installed ({exc}): {INSTALL_HINT}"
        ) from None


def ray_available() -> bool:
    """Whether the ray engine can run here (for the app, to offer it or not)."""
    try:
        require_ray()
    except RayNotInstalled:
        return False
    return True


# --------------------------------------------------------------------------- units and shards


@dataclass(frozen=True)
class _Unit:
    """Up to rows_per_shard distinct samples of one file: what one shard holds."""

    name: str  # sha256 of the keys: names the shard
    keys: tuple[str, ...]
    n_rows: int  # scorable rows these keys stand for (repeats included)


def shard_run_key(identity: str, config: ScoringConfig) -> str:
    """The per-model part of every shard key: the model's identity and the settings that change scores."""
    settings = {k: v for k, v in asdict(config).items() if k not in _NOT_IN_KEYS}
    blob = json.dumps({"identity": identity, "settings": settings, "layout": "qaq-ray-shard-v2"}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _plan_units(keys: Sequence[str], segments: Sequence[int], rows_per_shard: int) -> list[_Unit]:
    """Cut each file's distinct keys, in first-seen order, into units.

    Units stay within one file, so adding a file to a directory leaves every other unit (and
    its shard) as it was.
    """
    units: dict[str, _Unit] = {}
    by_segment: dict[int, list[str]] = defaultdict(list)
    for key, seg in zip(keys, segments):
        by_segment[seg].append(key)
    for seg in sorted(by_segment):
        counts = Counter(by_segment[seg])
        distinct = list(counts)  # Counter keeps first-seen order
        for lo in range(0, len(distinct), rows_per_shard):
            chunk = tuple(distinct[lo : lo + rows_per_shard])
            name = hashlib.sha256("\n".join(chunk).encode()).hexdigest()
            units.setdefault(name, _Unit(name, chunk, sum(counts[k] for k in chunk)))
    return list(units.values())


def _shard_path(shards_dir: Path, unit: _Unit) -> Path:
    return shards_dir / f"{unit.name[:40]}.parquet"


def _shard_done(path: Path) -> bool:
    """Whether a unit's shard is finished; an unreadable one is scored again (and replaced)."""
    if not path.is_file():
        return False
    try:
        pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        log.warning("shard %s is unreadable, scoring it again: %s", path, exc)
        return False
    return True


def _write_shard(path: Path, frame: pd.DataFrame, *, model: str, description: dict[str, Any]) -> None:
    # qaq.io.scorefile.write_scores writes to a temporary file and renames it: a shard is whole or absent.
    write_scores(
        frame[["key", *VALUE_FIELDS]].reset_index(drop=True),
        path,
        {"qaq_shard": 1, "model": model, "description": description, "rows": len(frame)},
    )


# --------------------------------------------------------------------------- Ray stages


def _resolve_here(spec: str, identity: str) -> Any:
    """Resolve a model spec on this node and check it is the driver's model."""
    from qaq.scoring.models import resolve_model

    source = resolve_model(spec)
    if source.identity != identity:
        raise RayEngineError(
            f"model {spec!r} on {os.uname().nodename} is {source.identity}, "
            f"but the driver's is {identity}: install the same model on every node"
        )
    return source


class _Tokenize:
    """CPU stage: the token ids of every query and answer (the model-free part of encoding).

    The stage builds the :class:`qaq.scoring.encoder.Encoder` that the scoring model builds, from
    the model's tokenizer and config only (:meth:`~qaq.scoring.encoder.Encoder.from_source`, no
    weights), with the run's template settings. The scoring stage checks the encoder fingerprint
    of every batch against its model's encoder (``sm.encoder``), so a tokenizer or template that
    differs (another transformers version on a CPU node) stops the run.
    """

    def __init__(self, spec: str, identity: str, config: ScoringConfig) -> None:
        from qaq.scoring.encoder import Encoder

        source = _resolve_here(spec, identity)
        self.encoder = Encoder.from_source(
            source,
            trust_remote_code=config.trust_remote_code,
            template=config.template,
            system=config.system,
            reverse_instruction=config.reverse_instruction,
        )
        self.fingerprint = self.encoder.fingerprint

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "unit": batch["unit"].to_numpy(),
                "key": batch["key"].to_numpy(),
                "q_ids": self.encoder.user_ids(batch["query"].tolist()),
                "a_ids": self.encoder.user_ids(batch["answer"].tolist()),
                "encoder": self.fingerprint,
            }
        )


class _Score:
    """Scoring stage: one loaded model per actor (one per GPU); 7 values per sample out."""

    def __init__(self, spec: str, identity: str, config: ScoringConfig) -> None:
        from qaq.scoring.engine import load_scoring_model

        _resolve_here(spec, identity)
        self.config = config
        self.sm = load_scoring_model(spec, config)
        self.fingerprint = self.sm.encoder.fingerprint
        self.description = json.dumps(self.sm.describe())

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from qaq.scoring.engine import batch_budget, iter_scores, prepare_model

        if (batch["encoder"] != self.fingerprint).any():
            raise RayEngineError(
                f"the tokenization stage's tokenizer or template ({batch['encoder'].iloc[0]}) "
                f"differs from the model's ({self.fingerprint}) on {os.uname().nodename}: use "
                "the same transformers and tokenizer files on every node"
            )
        ml = self.config.max_length
        encoded = [
            self.sm.encoder.encode_ids(np.asarray(q).tolist(), np.asarray(a).tolist(), max_length=ml)
            for q, a in zip(batch["q_ids"], batch["a_ids"])
        ]
        values = np.full((len(encoded), len(VALUE_FIELDS)), np.nan)  # columns: VALUE_FIELDS
        prepare_model(self.sm, self.config, sum(map(self.sm.forwarded, encoded)))
        for idx, vals in iter_scores(
            self.sm,
            encoded,
            batch_tokens=batch_budget(self.config, self.sm.device),
            padding_side=self.config.padding_side,
        ):
            values[idx] = vals[list(VALUE_FIELDS)].to_numpy()
        out = pd.DataFrame(values, columns=list(VALUE_FIELDS))
        out.insert(0, "key", batch["key"].to_numpy())
        out.insert(0, "unit", batch["unit"].to_numpy())
        out["tokens"] = [self.sm.forwarded(e) for e in encoded]
        out["model"] = ""
        if len(out):
            out.loc[0, "model"] = self.description  # the model's run metadata, once per batch
        return out


# --------------------------------------------------------------------------- the engine


@contextmanager
def _ray_session(address: str | None) -> Iterator[Any]:
    """Connect to ``address`` (None: start Ray on this machine), unless already connected."""
    import ray
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # qaq reports progress itself (tqdm, --status-file)
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    if ray.is_initialized():
        yield ray
        return
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address is None:
        kwargs["include_dashboard"] = False
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayEngineError(f"cannot connect to Ray at {address or 'a new local instance'}: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _ray_failure(exc: BaseException) -> str:
    """The user's part of a Ray error: the last line of the remote traceback."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


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
    progress: ProgressFn | None = None,
) -> pd.DataFrame:
    """Score a dataset on Ray; return (and write) the local engine's score table.

    Args:
        inputs: a data file, a directory of them (see :func:`load_inputs`), or a loaded table.
        models: short name -> model spec (embedded name, path, hub id); every node resolves
            the spec itself and must find the same model (its identity is checked).
        config: how to score, as for the local engine. ``device`` is ``auto``, ``cpu`` or
            ``cuda``: each actor sees its own GPU(s).
        output: the merged score table to write (``.parquet``, ``.csv``, ``.jsonl``), or None.
        address: ``auto``, ``ray://host:10001``, ``host:6379``; None starts Ray on this machine.
            An already connected session (``ray.init`` before the call) is used as it is.
        gpus_per_worker: GPUs per scoring actor (a fraction packs several actors on one GPU).
        concurrency: scoring actors; default: one per ``gpus_per_worker`` GPUs of the cluster,
            or 1 on a cluster without GPUs.
        shards_dir: where finished shards go; default ``<output>.shards`` (required without output).
        rows_per_shard: distinct samples per unit of work and of resume.
        load_options: passed to :func:`qaq.io.datasets.load_dataset` for each file.
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
    if shards_dir is None:
        if output is None:
            raise ValueError("give output= or shards_dir=")
        shards_dir = Path(str(output) + ".shards")
    shards = Path(shards_dir)
    data = inputs if isinstance(inputs, pd.DataFrame) else load_inputs(inputs, **dict(load_options or {}))
    shards.mkdir(parents=True, exist_ok=True)
    source = data.attrs.get("qaq_source", {})
    segment_sizes = [f["n_rows"] for f in source["files"]] if "files" in source else [len(data)]
    segment = np.repeat(np.arange(len(segment_sizes)), segment_sizes)
    scorable = np.flatnonzero((data["skip"].fillna("") == "").to_numpy())
    queries = data["query"].to_numpy()[scorable]
    answers = data["answer"].to_numpy()[scorable]
    identities = {name: resolve_model(spec).identity for name, spec in models.items()}

    out = score_table_base(data)
    runs: dict[str, ModelRun] = {}
    engine_info: dict[str, Any] = {
        "address": address,
        "shards_dir": str(shards.resolve()),
        "rows_per_shard": rows_per_shard,
        "models": {},
    }
    for name, spec in models.items():
        t0 = time.perf_counter()
        rk = shard_run_key(identities[name], config)
        keys = [sample_key(rk, q, a) for q, a in zip(queries, answers)]
        units = _plan_units(keys, segment[scorable].tolist(), rows_per_shard)
        todo = [u for u in units if not _shard_done(_shard_path(shards, u))]
        run = ModelRun(name, {})
        run.rows_total = len(scorable)
        run.rows_cached = run.rows_total - sum(u.n_rows for u in todo)
        if progress:
            progress(name, run.rows_cached, run.rows_total)
        info = {"units": len(units), "units_cached": len(units) - len(todo)}
        if todo:
            texts = dict(zip(keys, zip(queries, answers)))
            info.update(
                _run_units(
                    name,
                    spec,
                    identities[name],
                    todo,
                    texts,
                    config=config,
                    shards=shards,
                    address=address,
                    gpus_per_worker=gpus_per_worker,
                    concurrency=concurrency,
                    run=run,
                    progress=progress,
                )
            )
        table, descriptions = _merge_shards(name, units, keys, shards, n_rows=len(data), rows=scorable)
        run.description = descriptions[0] if descriptions else {"spec": spec, "identity": identities[name]}
        devices = sorted({d.get("device", "?") for d in descriptions})
        run.extra = {"devices": devices}
        run.seconds = time.perf_counter() - t0
        runs[name] = run
        engine_info["models"][name] = {**info, "devices": devices}
        for field_name, col in score_fields(table.set_axis(data.index)).items():
            out[score_column(name, field_name)] = col
    meta = run_metadata(config, runs, n_rows=len(data))
    meta.update(engine="ray", ray=engine_info, source=source)
    out.attrs["qaq_run"] = meta
    if output is not None:
        write_scores(out, output, meta)
    return out


def _run_units(
    name: str,
    spec: str,
    identity: str,
    todo: Sequence[_Unit],
    texts: Mapping[str, tuple[str, str]],
    *,
    config: ScoringConfig,
    shards: Path,
    address: str | None,
    gpus_per_worker: float,
    concurrency: int | None,
    run: ModelRun,
    progress: ProgressFn | None,
) -> dict[str, Any]:
    """Send the missing units through the two Ray stages; write each unit's shard as it completes."""
    with _ray_session(address) as ray:
        from ray.data import ActorPoolStrategy

        gpus = float(ray.cluster_resources().get("GPU", 0))
        use_gpu = config.device != "cpu" and (gpus > 0 or config.device.startswith("cuda"))
        actors = concurrency or (max(1, int(gpus // gpus_per_worker)) if use_gpu else 1)
        tokenizers = max(1, -(-actors // 4))  # fast tokenizers outpace a GPU several times over
        frames = [
            pd.DataFrame(
                {
                    "unit": i,
                    "key": list(u.keys),
                    "query": [texts[k][0] for k in u.keys],
                    "answer": [texts[k][1] for k in u.keys],
                }
            )
            for i, u in enumerate(todo)
        ]
        resources = {"num_gpus": gpus_per_worker} if use_gpu else {"num_cpus": 1}
        ds = (
            ray.data.from_pandas(frames)
            .map_batches(
                _Tokenize,
                batch_size=None,
                batch_format="pandas",
                num_cpus=1,
                compute=ActorPoolStrategy(size=tokenizers),
                fn_constructor_kwargs={"spec": spec, "identity": identity, "config": config},
            )
            .map_batches(
                _Score,
                batch_size=None,
                batch_format="pandas",
                compute=ActorPoolStrategy(size=actors),
                fn_constructor_kwargs={"spec": spec, "identity": identity, "config": config},
                **resources,
            )
        )
        parts: dict[int, list[pd.DataFrame]] = defaultdict(list)
        got: Counter[int] = Counter()
        description: dict[str, Any] = {}
        done = run.rows_cached
        try:
            for batch in ds.iter_batches(batch_size=None, batch_format="pandas"):
                described = batch.loc[batch["model"] != "", "model"]
                if len(described):
                    description = json.loads(described.iloc[0])
                for i, part in batch.groupby("unit", sort=False):
                    i = int(i)
                    parts[i].append(part)
                    got[i] += len(part)
                    if got[i] < len(todo[i].keys):
                        continue
                    whole = pd.concat(parts.pop(i), ignore_index=True)
                    _write_shard(_shard_path(shards, todo[i]), whole, model=spec, description=description)
                    run.rows_scored += todo[i].n_rows
                    run.tokens_forwarded += int(whole["tokens"].sum())
                    done += todo[i].n_rows
                    if progress:
                        progress(name, done, run.rows_total)
        except ray.exceptions.RayError as exc:
            finished = sum(1 for u in todo if _shard_path(shards, u).is_file())
            raise RayEngineError(
                f"the Ray run failed ({finished} of {len(todo)} shards finished and kept in "
                f"{shards}; run again to resume): {_ray_failure(exc)}"
            ) from None
        return {
            "scoring_actors": actors,
            "tokenizer_actors": tokenizers,
            "gpus_per_worker": gpus_per_worker if use_gpu else 0,
            "cluster_gpus": gpus,
        }


def _merge_shards(
    name: str, units: Sequence[_Unit], keys: Sequence[str], shards: Path, *, n_rows: int, rows: np.ndarray
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """What one model measured per row (:data:`qaq.columns.MEASURED_FIELDS`, NaN where not scored),
    read from its shards, and the shards' model descriptions."""
    frames, descriptions = [], []
    for u in units:
        path = _shard_path(shards, u)
        try:
            frame, meta = load_scores(path)
        except DataError as exc:
            raise RayEngineError(f"model {name}: cannot read shard {path} ({exc}); delete it and run again") from None
        frames.append(frame)
        descriptions.append(meta.get("description") or {})
    table = np.full((n_rows, len(VALUE_FIELDS)), np.nan)
    if frames:
        values = pd.concat(frames, ignore_index=True).drop_duplicates("key").set_index("key")
        table[rows] = values.loc[list(keys), list(VALUE_FIELDS)].to_numpy(dtype=np.float64)
    layouts = {(d.get("template_sha256"), d.get("dtype")) for d in descriptions if d}
    if len(layouts) > 1:
        raise RayEngineError(
            f"model {name}: the shards in {shards} were scored with different templates or "
            f"dtypes {sorted(map(str, layouts))}; give a new --shards-dir or --dtype explicitly"
        )
    return pd.DataFrame(table, columns=list(VALUE_FIELDS)), [d for d in descriptions if d]


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

"""Score a loaded dataset with one or more models: the ``score`` step of the qaq table.

``score_frame(data, {"weak": "smollm2-135m", "strong": "gemma3-270m"})`` returns a new frame,
one row per input row, with ``id`` and each model's score columns (:mod:`qaq.columns`).

Per model: tokenize every scorable row once, look each up in the :class:`~qaq.scoring.cache.ScoreCache`,
sort the missing rows longest first (so an out-of-memory error shows on the first batch, not
hours in), cut them into token-budget batches, score each batch with two forwards per sample and
commit it to the cache at once. Rows marked ``skip`` by the loader get empty scores, never
dropped.

With :func:`score_frame_embedded` the same forwards also give each row's span embeddings
(:mod:`qaq.scoring.pooling`), filed in the cache beside the scores.

This module does not import torch at import time; :mod:`qaq.scoring.backend` is loaded when scoring runs.
The batch loop lives in :mod:`qaq.scoring.batches`, the config in :mod:`qaq.scoring.config`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qaq.columns import COUNT_FIELDS, MEASURED_FIELDS, QA_HASH, SCORE_FIELDS, SPAN_FIELDS, score_column
from qaq.io.embeddingfile import Embeddings
from qaq.io.pairs import hash_id

# Defined in qaq.scoring.config and qaq.scoring.batches; imported from here too (re-exported).
from qaq.scoring.batches import iter_scores, plan_batches, score_all  # noqa: F401
from qaq.scoring.cache import ScoreCache, run_key, sample_key
from qaq.scoring.config import CompileMode, PaddingSide, ScoringConfig, config_json, scoring_config  # noqa: F401
from qaq.scoring.report import embeddings_record, run_metadata

if TYPE_CHECKING:
    from qaq.scoring.backend import ScoringModel


log = logging.getLogger("qaq")

# (model name, rows done, rows total) -> None
ProgressFn = Callable[[str, int, int], None]
# One model's span embeddings of a table: (rows, 2, width) float16, Q then A, NaN rows where none.
SpanVectors = np.ndarray


@dataclass
class ModelRun:
    """What scoring one model did (for metadata and the CLI's summary)."""

    name: str
    description: dict[str, Any]
    rows_total: int = 0
    rows_cached: int = 0
    rows_scored: int = 0
    tokens_forwarded: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def load_scoring_model(spec: str, config: ScoringConfig) -> ScoringModel:
    """Resolve and load one model as the config says (imports torch)."""
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.models import resolve_model

    return ScoringModel(
        resolve_model(spec),
        device=config.device,
        dtype=config.dtype,
        template=config.template,
        system=config.system,
        reverse_instruction=config.reverse_instruction,
        trust_remote_code=config.trust_remote_code,
        pack=config.pack,
    )


# Default token budgets per forward. On 2 AMX cores (SmolLM2-135M, bf16, 120 sample rows) 4,096
# was the fastest of 1,024-16,384 (16,384: 0.76x of it): activations then stay near the caches.
CPU_BATCH_TOKENS = 4096
GPU_BATCH_TOKENS = 16384
# ``compile="auto"`` compiles CPU half-precision runs of at least this many forwarded tokens:
# compiling costs about 20 s there and then saves about a sixth of the eager time (1.21x on the
# 700-row sample: 2,697 vs 2,223 tokens/s).
COMPILE_MIN_TOKENS = 200_000
# ... and GPU half-precision runs of at least this many. On an H100 (Qwen2.5-0.5B shape, bf16,
# 16,384-token batches) compiled layers ran 1.9x the eager tokens/s (366k vs 191k), but on a
# fresh machine a 4M-token `qaq score` took as long compiled as eager (35.5 vs 35.3 s): the cold
# compile ate the gain. Ten million tokens leaves a margin over that break-even.
COMPILE_MIN_TOKENS_GPU = 10_000_000


def batch_budget(config: ScoringConfig, device: str) -> int:
    """The token budget per batch: the config's, else the device default.

    >>> batch_budget(ScoringConfig(), "cpu"), batch_budget(ScoringConfig(), "cuda:0")
    (4096, 16384)
    >>> batch_budget(ScoringConfig(batch_tokens=512), "cpu")
    512
    """
    if config.batch_tokens is not None:
        return config.batch_tokens
    return CPU_BATCH_TOKENS if device == "cpu" else GPU_BATCH_TOKENS


def should_compile(config: ScoringConfig, device: str, dtype: str, tokens: int) -> bool:
    """Whether a run compiles its model: ``on``/``off`` as said; ``auto`` for bf16/fp16 runs of at
    least :data:`COMPILE_MIN_TOKENS` tokens on a CPU, :data:`COMPILE_MIN_TOKENS_GPU` on a GPU."""
    if config.compile != "auto":
        return config.compile == "on"
    # fp32 is not compiled: on 2 AMD EPYC (AVX2) cores compiled fp32 layers ran at 1.01x eager
    # (0.93 vs 0.92 samples/s, 120 sample rows), matmul-bound, and compiled layers forward the
    # template prefixes with every row (see ScoringModel.compile).
    if dtype not in ("bf16", "fp16"):
        return False
    return tokens >= (COMPILE_MIN_TOKENS if device == "cpu" else COMPILE_MIN_TOKENS_GPU)


def prepare_model(sm: ScoringModel, config: ScoringConfig, tokens: int) -> None:
    """Compile ``sm`` when :func:`should_compile` says so (strict when asked with ``on``)."""
    if not sm.compiled and should_compile(config, sm.device, sm.precision, tokens):
        sm.compile(strict=config.compile == "on")


def score_frame(
    data: pd.DataFrame,
    models: Mapping[str, str | ScoringModel],
    *,
    config: ScoringConfig = ScoringConfig(),
    cache: ScoreCache | None = None,
    progress: ProgressFn | None = None,
) -> pd.DataFrame:
    """Score every scorable row of ``data`` with each model.

    Args:
        data: a loaded dataset (columns ``id``, ``query``, ``answer``, ``skip``).
        models: short name -> model spec (embedded name, path, hub id, ``.gguf``) or a loaded
            :class:`~qaq.scoring.backend.ScoringModel`.
        config: how to score.
        cache: where finished batches go; a rerun reads them back instead of rescoring.
        progress: called after each batch with (model name, rows done, rows total).

    Returns:
        A new frame: ``id``, ``qa_hash`` (:func:`score_table_base`) then, per model NAME, the
        columns of :data:`qaq.columns.SCORE_FIELDS`
        (rmi = nll_q - nll_q_given_a, ifd = nll_a_given_q / nll_a). Its ``attrs["qaq_run"]`` holds
        the run metadata (models, templates, versions, device, dtype, timings).
    """
    return _score_models(data, models, config=config, cache=cache, progress=progress, embed=False)[0]


def score_frame_embedded(
    data: pd.DataFrame,
    models: Mapping[str, str | ScoringModel],
    *,
    config: ScoringConfig = ScoringConfig(),
    cache: ScoreCache | None = None,
    progress: ProgressFn | None = None,
) -> tuple[pd.DataFrame, Embeddings]:
    """:func:`score_frame`, keeping each model's span embeddings from the same forwards.

    The scores are those :func:`score_frame` gives. A row counts as cached only when the cache
    holds its embeddings too: rows scored by a run without embeddings are scored again (and
    their scores filed again, with their embeddings).

    Returns:
        The score table, and its :class:`~qaq.io.embeddingfile.Embeddings`: the table's ids in
        its order; per model the mean last hidden state over each row's query and answer in the
        forward layout, float16, NaN rows for rows not scored; ``meta`` per model its width,
        identity, precision and template hash.
    """
    scores, vectors, loaded = _score_models(data, models, config=config, cache=cache, progress=progress, embed=True)
    return scores, embeddings_record(scores["id"], vectors, loaded)


def _score_models(
    data: pd.DataFrame,
    models: Mapping[str, str | ScoringModel],
    *,
    config: ScoringConfig,
    cache: ScoreCache | None,
    progress: ProgressFn | None,
    embed: bool,
) -> tuple[pd.DataFrame, dict[str, SpanVectors], dict[str, ScoringModel]]:
    """The score table; with ``embed`` each model's :data:`SpanVectors`; the models as loaded."""
    out = score_table_base(data)
    runs: dict[str, ModelRun] = {}
    vectors: dict[str, SpanVectors] = {}
    loaded: dict[str, ScoringModel] = {}
    for name, spec in models.items():
        sm = loaded[name] = load_scoring_model(spec, config) if isinstance(spec, str) else spec
        values, run, vecs = _score_one(name, sm, data, config=config, cache=cache, progress=progress, embed=embed)
        runs[name] = run
        if vecs is not None:
            vectors[name] = vecs
        for field_name, col in values.items():
            out[score_column(name, field_name)] = col
    out.attrs["qaq_run"] = run_metadata(config, runs, n_rows=len(data), embeddings=embed)
    return out, vectors, loaded


def score_table_base(data: pd.DataFrame) -> pd.DataFrame:
    """The columns every score table starts with: ``id`` and :data:`qaq.columns.QA_HASH`."""
    hashes = [hash_id(q, a) for q, a in zip(data["query"].tolist(), data["answer"].tolist())]
    return pd.DataFrame({"id": data["id"].to_numpy(), QA_HASH: hashes}, index=data.index)


def _score_one(
    name: str,
    sm: ScoringModel,
    data: pd.DataFrame,
    *,
    config: ScoringConfig,
    cache: ScoreCache | None,
    progress: ProgressFn | None,
    embed: bool = False,
) -> tuple[dict[str, pd.Series], ModelRun, SpanVectors | None]:
    t0 = time.perf_counter()
    run = ModelRun(name, {})
    scorable = np.flatnonzero((data["skip"].fillna("") == "").to_numpy())
    queries = data["query"].to_numpy()[scorable].tolist()
    answers = data["answer"].to_numpy()[scorable].tolist()
    rk = run_key(
        model_identity=sm.source.identity,
        template_sha256=sm.layout.sha256,
        max_length=config.max_length,
        dtype=sm.precision,
    )
    keys = [sample_key(rk, q, a) for q, a in zip(queries, answers)]
    found, found_vectors = _cached(cache, keys, embed=embed)
    table = np.full((len(data), len(MEASURED_FIELDS)), np.nan)  # columns: MEASURED_FIELDS
    # (rows, 2, H): the hidden width is the LM head's input width.
    vectors = np.full((len(data), 2, sm.head_weight.shape[1]), np.nan, dtype=np.float16) if embed else None
    todo = [k for k, key in enumerate(keys) if key not in found]
    for k, key in enumerate(keys):
        if key in found:
            table[scorable[k]] = [found[key][f] for f in MEASURED_FIELDS]
            if vectors is not None:
                vectors[scorable[k]] = found_vectors[key]
    run.rows_total, run.rows_cached = len(scorable), len(scorable) - len(todo)
    if progress:
        progress(name, run.rows_cached, run.rows_total)
    if todo:
        # Identical rows share a key: score each distinct key once.
        first: dict[str, int] = {}
        for k in todo:
            first.setdefault(keys[k], k)
        pairs = {key: (queries[k], answers[k]) for key, k in first.items()}
        fresh = _score_missing(name, sm, pairs, run, config=config, cache=cache, progress=progress, embed=embed)
        for k in todo:
            table[scorable[k]], vecs = fresh[keys[k]]
            if vectors is not None:
                vectors[scorable[k]] = vecs
    run.seconds = time.perf_counter() - t0
    run.description = sm.describe()  # after scoring: it says whether the layers ran compiled
    measured = pd.DataFrame(table, index=data.index, columns=list(MEASURED_FIELDS))
    return score_fields(measured), run, vectors


def _cached(
    cache: ScoreCache | None, keys: Sequence[str], *, embed: bool
) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray]]:
    """What the cache holds of ``keys``: their values and, for an embedding run, their embeddings.
    In an embedding run a key counts as cached only when both are there."""
    if cache is None:
        return {}, {}
    found = cache.get_many(keys)
    if not embed:
        return found, {}  # a run without embeddings never reads them
    vectors = cache.get_embeddings(keys)
    return {k: v for k, v in found.items() if k in vectors}, vectors


def _score_missing(
    name: str,
    sm: ScoringModel,
    pairs: Mapping[str, tuple[str, str]],
    run: ModelRun,
    *,
    config: ScoringConfig,
    cache: ScoreCache | None,
    progress: ProgressFn | None,
    embed: bool,
) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Score the distinct pairs not in the cache, filing each batch as it is done.

    Args:
        pairs: sample key -> (query, answer).
        run: counts what is scored (rows, tokens); its ``rows_cached`` are the rows done before.

    Returns:
        key -> (its :data:`qaq.columns.MEASURED_FIELDS` values, its (2, H) float16 span
        embeddings with ``embed``, else None).
    """
    keys = list(pairs)
    encoded = sm.encoder.encode_many(
        [q for q, _ in pairs.values()], [a for _, a in pairs.values()], max_length=config.max_length
    )
    prepare_model(sm, config, sum(map(sm.forwarded, encoded)))
    done = run.rows_cached
    by_key: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    budget = batch_budget(config, sm.device)
    for idx, vals, *pooled in iter_scores(
        sm, encoded, batch_tokens=budget, padding_side=config.padding_side, embed=embed
    ):
        batch_keys = [keys[i] for i in idx]
        # float16 before filing: a row read back from the cache is the row scored now.
        vecs = pooled[0].astype(np.float16) if pooled else None
        if cache is not None:
            cache.put_many(batch_keys, vals, vecs)
        for j, (key, v) in enumerate(zip(batch_keys, vals[list(MEASURED_FIELDS)].to_numpy())):
            by_key[key] = (v, None if vecs is None else vecs[j])
        run.tokens_forwarded += sum(sm.forwarded(encoded[i]) for i in idx)
        run.rows_scored += len(idx)
        done += len(idx)
        if progress:
            progress(name, done, run.rows_total)
    return by_key


def score_fields(measured: pd.DataFrame) -> dict[str, pd.Series]:
    """One model's score columns from what was measured per sample (shared by every engine).

    Args:
        measured: the fields of :data:`qaq.columns.MEASURED_FIELDS`, one row per data row (NaN
            for rows not scored), indexed like the data.

    Returns:
        :data:`qaq.columns.SCORE_FIELDS` name -> column, with rmi = nll_q - nll_q_given_a and
        ifd = nll_a_given_q / nll_a.
    """
    missing = [f for f in MEASURED_FIELDS if f not in measured.columns]
    if missing:
        raise ValueError(f"measured scores lack {', '.join(missing)}")
    m = {f: measured[f].astype("float64") for f in MEASURED_FIELDS}
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = {"rmi": m["nll_q"] - m["nll_q_given_a"], "ifd": m["nll_a_given_q"] / m["nll_a"]}
    values = {**{f: m[f] for f in SPAN_FIELDS}, **derived, **{f: m[f].round().astype("Int64") for f in COUNT_FIELDS}}
    return {f: values[f] for f in SCORE_FIELDS}

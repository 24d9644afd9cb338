"""Score a loaded dataset with one or more models: the ``score`` step of the qaq table.

``score_frame(data, {"weak": "smollm2-135m", "strong": "gemma3-270m"})`` returns a new frame,
one row per input row, with ``id`` and each model's score columns (:mod:`qaq.columns`).

Per model: tokenize every scorable row once, look each up in the :class:`~qaq.scoring.cache.ScoreCache`,
sort the missing rows longest first (so an out-of-memory error shows on the first batch, not
hours in), cut them into token-budget batches, score each batch with two forwards per sample and
commit it to the cache at once. Rows marked ``skip`` by the loader get empty scores, never
dropped.

This module does not import torch at import time; :mod:`qaq.scoring.backend` is loaded when scoring runs.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dc_fields
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd

from qaq.columns import COUNT_FIELDS, MEASURED_FIELDS, QA_HASH, SCORE_FIELDS, SPAN_FIELDS, score_column
from qaq.io.pairs import hash_id
from qaq.scoring.cache import ScoreCache, run_key, sample_key
from qaq.scoring.hardware import Dtype
from qaq.scoring.report import run_metadata
from qaq.scoring.templates import DEFAULT_REVERSE_INSTRUCTION, DEFAULT_SYSTEM, TemplateKind, check_reverse_instruction

if TYPE_CHECKING:
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.encoder import Encoded

log = logging.getLogger("qaq")

# (model name, rows done, rows total) -> None
ProgressFn = Callable[[str, int, int], None]


CompileMode = Literal["auto", "on", "off"]
PaddingSide = Literal["left", "right"]
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


@dataclass(frozen=True)
class ScoringConfig:
    """How to score. Every field is part of the run metadata; a value outside a field's choices is
    a ValueError at construction (before any model is loaded)."""

    device: str = "auto"  # auto | cpu | mps | cuda | cuda:N
    dtype: Dtype = "auto"  # auto: bf16 on CUDA and AMX/AVX512-BF16 CPUs, else fp32 (qaq.scoring.hardware)
    max_length: int = 2048  # tokens per pass, template included; see qaq.scoring.encoder.truncate_spans
    batch_tokens: int | None = None  # padded tokens per forward (one per pass); None: per device
    compile: CompileMode = "auto"  # torch.compile the decoder layers (see should_compile)
    template: TemplateKind = "auto"
    system: str = DEFAULT_SYSTEM  # should match the downstream SFT system prompt
    reverse_instruction: str = DEFAULT_REVERSE_INSTRUCTION  # must contain {answer}
    trust_remote_code: bool = False  # never on unless the user asks
    padding_side: PaddingSide = "right"  # results do not depend on it; kept for the parity tests
    pack: bool | None = None  # None: pack only with a varlen attention kernel

    def __post_init__(self) -> None:
        check_reverse_instruction(self.reverse_instruction)
        for name, kind in (
            ("dtype", Dtype),
            ("compile", CompileMode),
            ("template", TemplateKind),
            ("padding_side", PaddingSide),
        ):
            choices = get_args(kind)
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}, got {getattr(self, name)!r}")
        if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
            raise ValueError(f"device must be auto, cpu, mps, cuda or cuda:N, got {self.device!r}")
        if self.max_length < 8:
            raise ValueError(f"max_length must be at least 8, got {self.max_length}")
        if self.batch_tokens is not None and self.batch_tokens < 1:
            raise ValueError(f"batch_tokens must be positive, got {self.batch_tokens}")


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


def scoring_config(meta: dict[str, Any] | None = None, **overrides: Any) -> ScoringConfig:
    """A :class:`qaq.scoring.engine.ScoringConfig` from score metadata (same template as the scores) + overrides.

    Metadata keys that are not ScoringConfig fields are ignored.
    """
    from qaq.io.runrecord import run_record

    names = {f.name for f in dc_fields(ScoringConfig)}
    given = {k: v for k, v in run_record(meta).config.items() if k in names}
    return ScoringConfig(**{**given, **overrides})


def config_json(config: ScoringConfig) -> str:
    """A ScoringConfig as canonical JSON (sorted keys): a hashable cache key that round-trips."""
    return json.dumps(asdict(config), sort_keys=True)


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
    """The token budget per batch: the config's, else the device default."""
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


def plan_batches(lengths: Sequence[int], batch_tokens: int) -> list[list[int]]:
    """Cut samples into batches, longest first, so that each forward stays within ``batch_tokens``
    padded tokens.

    ``lengths`` are per-sample widths (the longer pass). A batch of n samples runs as two
    forwards, one per pass, each of n rows padded to at most the batch's widest sample: n x L
    tokens. Sorting is stable (ties keep input order), so the same rows always give the same
    batches: a resumed run forms exactly the batches an uninterrupted one would have scored
    last. A sample longer than the budget gets a batch of its own.

    >>> plan_batches([5, 20, 10, 10], 40)
    [[1, 2], [3, 0]]
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    width = 0
    for i in order:
        w = max(width, lengths[i])
        if current and (len(current) + 1) * w > batch_tokens:
            batches.append(current)
            current, w = [], lengths[i]
        current.append(i)
        width = w
    if current:
        batches.append(current)
    return batches


def iter_scores(
    sm: ScoringModel,
    encoded: Sequence[Encoded],
    *,
    batch_tokens: int,
    padding_side: str = "right",
) -> Iterator[tuple[list[int], pd.DataFrame]]:
    """Score encoded samples batch by batch; yields (indices into ``encoded``, their values).

    Values: one row per sample of the batch, the fields of :data:`qaq.columns.MEASURED_FIELDS`
    (mean NLL of each span, NaN for an empty one, then the token counts).
    """
    for idx in plan_batches([sm.width(e) for e in encoded], batch_tokens):
        batch = [encoded[i] for i in idx]
        sums = sm.score_batch(batch, padding_side=padding_side)
        counts = {
            "n_tokens_q": [e.n_q for e in batch],
            "n_tokens_a": [e.n_a for e in batch],
            "truncated": [e.truncated for e in batch],
        }
        n = {
            "nll_q": counts["n_tokens_q"],
            "nll_q_given_a": counts["n_tokens_q"],
            "nll_a": counts["n_tokens_a"],
            "nll_a_given_q": counts["n_tokens_a"],
        }
        values = {}
        for span in SPAN_FIELDS:
            tokens = np.asarray(n[span], dtype=np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                values[span] = np.where(tokens > 0, sums[span].to_numpy() / np.maximum(tokens, 1), np.nan)
        for count in COUNT_FIELDS:
            values[count] = np.asarray(counts[count], dtype=np.float64)
        yield idx, pd.DataFrame(values, columns=list(MEASURED_FIELDS))


def score_all(
    sm: ScoringModel, encoded: Sequence[Encoded], *, batch_tokens: int, padding_side: str = "right"
) -> pd.DataFrame:
    """:func:`iter_scores` of every sample, in ``encoded`` order: one row each, :data:`qaq.columns.MEASURED_FIELDS`."""
    out = np.full((len(encoded), len(MEASURED_FIELDS)), np.nan)
    for idx, values in iter_scores(sm, encoded, batch_tokens=batch_tokens, padding_side=padding_side):
        out[idx] = values[list(MEASURED_FIELDS)].to_numpy()
    return pd.DataFrame(out, columns=list(MEASURED_FIELDS))


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
    out = score_table_base(data)
    runs: dict[str, ModelRun] = {}
    for name, spec in models.items():
        sm = load_scoring_model(spec, config) if isinstance(spec, str) else spec
        values, run = _score_one(name, sm, data, config=config, cache=cache, progress=progress)
        runs[name] = run
        for field_name, col in values.items():
            out[score_column(name, field_name)] = col
    out.attrs["qaq_run"] = run_metadata(config, runs, n_rows=len(data))
    return out


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
) -> tuple[dict[str, pd.Series], ModelRun]:
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
    found = cache.get_many(keys) if cache is not None else {}
    table = np.full((len(data), len(MEASURED_FIELDS)), np.nan)  # columns: MEASURED_FIELDS
    todo = [k for k, key in enumerate(keys) if key not in found]
    for k, key in enumerate(keys):
        if key in found:
            table[scorable[k]] = [found[key][f] for f in MEASURED_FIELDS]
    run.rows_total, run.rows_cached = len(scorable), len(scorable) - len(todo)
    if progress:
        progress(name, run.rows_cached, run.rows_total)
    if todo:
        # Identical rows share a key: score each distinct key once.
        first: dict[str, int] = {}
        for k in todo:
            first.setdefault(keys[k], k)
        uniq = list(first.values())
        encoded = sm.encoder.encode_many(
            [queries[k] for k in uniq], [answers[k] for k in uniq], max_length=config.max_length
        )
        prepare_model(sm, config, sum(map(sm.forwarded, encoded)))
        done = run.rows_cached
        by_key: dict[str, np.ndarray] = {}
        budget = batch_budget(config, sm.device)
        for idx, vals in iter_scores(sm, encoded, batch_tokens=budget, padding_side=config.padding_side):
            batch_keys = [keys[uniq[i]] for i in idx]
            if cache is not None:
                cache.put_many(batch_keys, vals)
            for key, v in zip(batch_keys, vals[list(MEASURED_FIELDS)].to_numpy()):
                by_key[key] = v
            run.tokens_forwarded += sum(sm.forwarded(encoded[i]) for i in idx)
            run.rows_scored += len(idx)
            done += len(idx)
            if progress:
                progress(name, done, run.rows_total)
        for k in todo:
            table[scorable[k]] = by_key[keys[k]]
    run.seconds = time.perf_counter() - t0
    run.description = sm.describe()  # after scoring: it says whether the layers ran compiled
    return score_fields(pd.DataFrame(table, index=data.index, columns=list(MEASURED_FIELDS))), run


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

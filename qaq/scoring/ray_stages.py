"""The Ray side of the ray engine: the connection to a cluster and the two Ray Data stages.

:mod:`qaq.scoring.ray_engine` (the driver) plans the work and writes the shards; what runs on
the cluster's workers is here:

- :class:`Tokenize`, CPU actors: the token ids of every query and answer (an Encoder, no weights);
- :class:`Score`, one actor per GPU (or CPU): the model loaded once, 7 values per sample out.

Ray is an optional dependency: it is imported inside functions only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np
import pandas as pd

from qaq.scoring.cache import VALUE_FIELDS
from qaq.scoring.engine import ScoringConfig

INSTALL_HINT = 'pip install "qaq[ray]"'


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


# --------------------------------------------------------------------------- the cluster


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


class Cluster:
    """A Ray cluster, connected on first use: a run whose work is all done starts no Ray at all.

    Use as a context manager; leaving it disconnects (and stops a Ray this object started).
    """

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._stack = ExitStack()
        self._ray: Any = None

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def ray(self) -> Any:
        """The ``ray`` module, connected."""
        if self._ray is None:
            self._ray = self._stack.enter_context(_ray_session(self.address))
        return self._ray

    @property
    def gpus(self) -> float:
        return float(self.ray.cluster_resources().get("GPU", 0))

    def uses_gpus(self, config: ScoringConfig) -> bool:
        """Whether the scoring actors ask for GPUs under ``config.device``."""
        if config.device == "cpu":
            return False
        return config.device.startswith("cuda") or self.gpus > 0

    def gpu_dtype(self, gpus_per_worker: float) -> str:
        """What ``dtype="auto"`` resolves to on one of the cluster's GPUs (asked of a GPU worker)."""
        ray = self.ray
        probe = ray.remote(num_gpus=gpus_per_worker)(_auto_gpu_dtype)
        try:
            return str(ray.get(probe.remote()))
        except ray.exceptions.RayError as exc:
            raise RayEngineError(f"cannot ask a GPU worker for its dtype: {failure_text(exc)}") from None


def _auto_gpu_dtype() -> str:
    from qaq.scoring.hardware import choose_dtype

    return choose_dtype("auto", "cuda")[0]


def failure_text(exc: BaseException) -> str:
    """The user's part of a Ray error: the last line of the remote traceback."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


# --------------------------------------------------------------------------- the stages


def resolve_here(spec: str, identity: str) -> Any:
    """Resolve a model spec on this node and check it is the driver's model."""
    from qaq.scoring.models import resolve_model

    source = resolve_model(spec)
    if source.identity != identity:
        raise RayEngineError(
            f"model {spec!r} on {os.uname().nodename} is {source.identity}, "
            f"but the driver's is {identity}: install the same model on every node"
        )
    return source


class Tokenize:
    """CPU stage: the token ids of every query and answer (the model-free part of encoding).

    The stage builds the :class:`qaq.scoring.encoder.Encoder` that the scoring model builds, from
    the model's tokenizer and config only (:meth:`~qaq.scoring.encoder.Encoder.from_source`, no
    weights), with the run's template settings. The scoring stage checks the encoder fingerprint
    of every batch against its model's encoder (``sm.encoder``), so a tokenizer or template that
    differs (another transformers version on a CPU node) stops the run.
    """

    def __init__(self, spec: str, identity: str, config: ScoringConfig) -> None:
        from qaq.scoring.encoder import Encoder

        source = resolve_here(spec, identity)
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


class Score:
    """Scoring stage: one loaded model per actor (one per GPU); 7 values per sample out.

    The driver gives an explicit dtype (the one in the run's keys), so every actor computes in
    the precision its results are filed under, whatever its own hardware would choose.
    """

    def __init__(self, spec: str, identity: str, config: ScoringConfig) -> None:
        from qaq.scoring.engine import load_scoring_model

        resolve_here(spec, identity)
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


def pipeline(
    ray: Any,
    units: Sequence[Sequence[str]],
    texts: Mapping[str, tuple[str, str]],
    spec: str,
    identity: str,
    config: ScoringConfig,
    *,
    actors: int,
    tokenizers: int,
    resources: dict[str, float],
) -> Any:
    """The Ray Data pipeline over units (each a list of sample keys; ``texts`` maps a key to its
    query and answer): tokenize on CPU actors, then score; rows carry their unit's index."""
    from ray.data import ActorPoolStrategy

    frames = [
        pd.DataFrame(
            {
                "unit": i,
                "key": list(keys),
                "query": [texts[k][0] for k in keys],
                "answer": [texts[k][1] for k in keys],
            }
        )
        for i, keys in enumerate(units)
    ]
    settings = {"spec": spec, "identity": identity, "config": config}
    return (
        ray.data.from_pandas(frames)
        .map_batches(
            Tokenize,
            batch_size=None,
            batch_format="pandas",
            num_cpus=1,
            compute=ActorPoolStrategy(size=tokenizers),
            fn_constructor_kwargs=settings,
        )
        .map_batches(
            Score,
            batch_size=None,
            batch_format="pandas",
            compute=ActorPoolStrategy(size=actors),
            fn_constructor_kwargs=settings,
            **resources,
        )
    )

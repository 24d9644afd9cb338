"""The typed records of a background scoring job, as its status file holds them.

What a job runs (:class:`ScoreRequest`, with its :class:`RayOptions` for the ray engine) and what
its status file says (:class:`JobStatus`, with each model's :class:`ModelProgress`). Read back
from JSON, every field is checked: anything else is a :class:`StatusError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args

STATUS_FORMAT = "qaq-job-status/1"  # the "format" key of every status file

State = Literal["starting", "running", "finished", "failed", "cancelled"]
Engine = Literal["local", "ray"]
STATES: tuple[str, ...] = get_args(State)
ACTIVE_STATES: tuple[str, ...] = ("starting", "running")  # the others are final
ENGINES: tuple[str, ...] = get_args(Engine)
# A field option of the app's mapping (qaq.io.datasets.load_dataset's keyword) -> its qaq score option.
FIELD_OPTIONS = {
    "query": "--query",
    "answer": "--answer",
    "input_field": "--input-field",
    "id_field": "--id-field",
    "messages": "--messages",
    "fmt": "--format",
}


class StatusError(ValueError):
    """A job status file, or a record read from one, that is not a valid :class:`JobStatus`."""


@dataclass(frozen=True, kw_only=True)
class RayOptions:
    """How a ``ray`` engine job uses its cluster; None leaves a setting to ``qaq score``'s default."""

    address: str | None = None  # auto, ray://HOST:10001, HOST:6379; None: start Ray on the job's machine
    gpus_per_worker: float | None = None  # GPUs per scoring actor (0.5: two actors per GPU)
    concurrency: int | None = None  # scoring actors
    shards_dir: str | None = None  # where finished shards go, for resume (default: OUTPUT.shards)
    rows_per_shard: int | None = None  # distinct pairs per shard

    def __post_init__(self) -> None:
        for name, kinds in (("gpus_per_worker", (int, float)), ("concurrency", int), ("rows_per_shard", int)):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, kinds) and not isinstance(value, bool) and value > 0):
                raise ValueError(
                    f"{name} must be a positive {'number' if name[0] == 'g' else 'integer'}, got {value!r}"
                )

    def cli_args(self) -> list[str]:
        """These settings as ``qaq score`` options (``--engine ray`` not included)."""
        return _options(
            ("--ray-address", self.address),
            ("--gpus-per-worker", self.gpus_per_worker),
            ("--concurrency", self.concurrency),
            ("--shards-dir", self.shards_dir),
            ("--rows-per-shard", self.rows_per_shard),
        )


def _options(*pairs: tuple[str, object]) -> list[str]:
    """``("--opt", value)`` pairs as arguments, leaving out the None values."""
    return [a for option, value in pairs if value is not None for a in (option, str(value))]


@dataclass(frozen=True, kw_only=True)
class ScoreRequest:
    """What a scoring job runs: ``qaq score DATA -o OUTPUT`` with these models and options.

    Options left None take ``qaq score``'s default (``qaq score --help`` lists them), which also
    checks their values: a request it refuses makes a job that fails with the reason.
    """

    data: str  # the dataset: a file, or for the ray engine a folder of files
    output: str  # the score table to write (.parquet, .csv, .jsonl)
    models: Mapping[str, str]  # short name (the column prefix) -> model spec
    mapping: Mapping[str, str] = field(default_factory=dict)  # field options: keys of FIELD_OPTIONS
    device: str | None = None  # auto, cpu, cuda, cuda:N, mps
    dtype: str | None = None  # auto, bf16, bf16-mixed, fp16, fp32
    max_length: int | None = None  # tokens per pass
    batch_tokens: int | None = None  # padded tokens per forward
    compile: str | None = None  # auto, on, off
    template: str | None = None  # auto, chat, plain
    system: str | None = None  # the system prompt
    reverse_instruction: str | None = None  # must contain {answer}
    trust_remote_code: bool = False
    embed: bool = False  # keep span embeddings beside the scores (qaq score --embed); absent in older files
    engine: Engine = "local"
    ray: RayOptions | None = None  # the ray engine's settings (default RayOptions()); None for local

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalised once, here
        set_(self, "data", os.fspath(self.data))
        set_(self, "output", os.fspath(self.output))
        if not self.data or not self.output or not self.models:
            raise ValueError("a score request needs a data path, an output path and at least one model")
        if not all(
            isinstance(n, str) and n and "=" not in n and isinstance(s, str) and s for n, s in self.models.items()
        ):
            raise ValueError(f"models must map names (without '=') to specs, non-empty strings: {self.models!r}")
        if not set(self.mapping) <= set(FIELD_OPTIONS):
            raise ValueError(
                f"unknown field options {sorted(set(self.mapping) - set(FIELD_OPTIONS))}: "
                f"expected some of {sorted(FIELD_OPTIONS)}"
            )
        if not isinstance(self.embed, bool):
            raise ValueError(f"embed must be true or false, got {self.embed!r}")
        if self.engine not in ENGINES or (self.engine == "local" and self.ray is not None):
            raise ValueError(f"engine must be one of {ENGINES} (ray options need 'ray'), got {self.engine!r}")
        set_(self, "models", dict(self.models))
        set_(self, "mapping", {k: str(v) for k, v in self.mapping.items() if v is not None})
        set_(self, "ray", RayOptions() if self.engine == "ray" and self.ray is None else self.ray)

    def cli_args(self) -> list[str]:
        """The ``qaq score`` arguments that run this request, DATA last after ``--``.

        The process interface of a job: :func:`start_job` passes them, nothing parses them back.
        """
        args: list[str] = []
        for name, spec in self.models.items():
            args += ["-m", f"{name}={spec}"]
        for key, value in sorted(self.mapping.items()):
            args += [FIELD_OPTIONS[key], value]
        args += _options(
            ("--device", self.device),
            ("--dtype", self.dtype),
            ("--max-length", self.max_length),
            ("--batch-tokens", self.batch_tokens),
            ("--compile", self.compile),
            ("--template", self.template),
            ("--system", self.system),
            ("--reverse-instruction", self.reverse_instruction),
        )
        if self.trust_remote_code:
            args.append("--trust-remote-code")
        if self.embed:
            args.append("--embed")
        if self.ray is not None:
            args += ["--engine", "ray", *self.ray.cli_args()]
        return [*args, "-o", self.output, "--", self.data]  # "--": a data path may start with "-"

    def to_dict(self) -> dict[str, Any]:
        """The request as its status file holds it (JSON values only)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreRequest:
        """The request in a JSON object written by :meth:`to_dict`.

        Raises:
            StatusError: not a request (unknown or missing keys, bad values).
        """
        try:
            ray = data.get("ray")
            return cls(**{**data, "ray": None if ray is None else RayOptions(**ray)})
        except (TypeError, ValueError, AttributeError) as exc:
            raise StatusError(f"bad request: {exc}") from None


@dataclass(frozen=True)
class ModelProgress:
    """One model's progress in a job. Rows/s and ETA are measured from the job's first report of the
    model (rows found in the cache or in shards at the start do not count as speed)."""

    done: int  # rows scored or found in the cache
    total: int  # rows to score
    rows_per_s: float | None = None  # None until a row has been scored
    eta_s: float | None = None  # seconds left at that rate


@dataclass(frozen=True, kw_only=True)
class JobStatus:
    """What a job's status file says: the one record of a background scoring job's state."""

    state: State
    started: float  # time.time() when the job was started
    updated: float  # time of the last write
    id: str | None = None  # the job's folder name (None: a status file of a hand-run qaq score)
    request: ScoreRequest | None = None  # what it runs (None: a hand-run qaq score)
    pid: int | None = None  # the job's process (the leader of its process group), once started
    ended: float | None = None  # when it reached a final state
    progress: Mapping[str, ModelProgress] = field(default_factory=dict)  # model name -> progress
    output: str | None = None  # finished: the score table written
    rows: int | None = None  # finished: its rows
    error: str | None = None  # failed: why, one line

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise StatusError(f"state {self.state!r} is not one of {', '.join(STATES)}")

    @property
    def active(self) -> bool:
        """Whether the job is still starting or running (its state is not final)."""
        return self.state in ACTIVE_STATES

    def to_dict(self) -> dict[str, Any]:
        """The status as the JSON object its file holds."""
        return {"format": STATUS_FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Any) -> JobStatus:
        """The status in a JSON object written by :meth:`to_dict`.

        Raises:
            StatusError: not a job status: another format, an unknown state, a missing, unknown or
                mistyped field.
        """
        body = _checked(data, _STATUS_KEYS, "status")
        if body.pop("format") != STATUS_FORMAT:
            raise StatusError(f"format is {data['format']!r}, expected {STATUS_FORMAT!r}")
        progress = {
            name: ModelProgress(**_checked(p, _PROGRESS_KEYS, f"progress of {name!r}"))
            for name, p in (body.get("progress") or {}).items()
        }
        request = body.get("request")
        return cls(
            **{**body, "progress": progress, "request": None if request is None else ScoreRequest.from_dict(request)}
        )


# Each field of a status file and of its progress entries: its JSON type (float takes int) and whether it is required.
_TYPES: dict[str, tuple[type, bool]] = {
    "format": (str, True),
    "state": (str, True),
    "started": (float, True),
    "updated": (float, True),
    "id": (str, False),
    "request": (dict, False),
    "pid": (int, False),
    "ended": (float, False),
    "progress": (dict, False),
    "output": (str, False),
    "rows": (int, False),
    "error": (str, False),
    "done": (int, True),
    "total": (int, True),
    "rows_per_s": (float, False),
    "eta_s": (float, False),
}
_STATUS_KEYS = ("format", *(f.name for f in fields(JobStatus)))
_PROGRESS_KEYS = tuple(f.name for f in fields(ModelProgress))


def _checked(obj: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """``obj`` as a dict, if it is a JSON object of these fields (see :data:`_TYPES`)."""
    if not isinstance(obj, Mapping):
        raise StatusError(f"{what}: expected a JSON object, got {obj!r}")
    if set(obj) - set(keys):
        raise StatusError(f"{what}: unknown fields {sorted(set(obj) - set(keys))}")
    for key in keys:
        kind, required = _TYPES[key]
        value = obj.get(key)
        if (value is None and required) or (
            value is not None
            and (isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else kind))
        ):
            raise StatusError(f"{what}: field {key!r}: expected {kind.__name__}, got {value!r}")
    return dict(obj)

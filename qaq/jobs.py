"""Background scoring jobs: ``qaq score`` in its own process, observable and cancellable.

A job is a folder in the jobs folder (``$QAQ_JOBS_DIR``, default ``~/.cache/qaq/jobs``), named by
the job's id (its start time first), holding ``status.json``, the job's :class:`JobStatus` (its
:class:`ScoreRequest`, state, progress, output, error), and ``log.txt``, its output for people to
read. The state lives in the status file only: :func:`start_job` writes "starting", the job's
``qaq score --status-file`` (a :class:`StatusReporter`) "running" with progress, then "finished"
or "failed", and :func:`cancel_job` "cancelled". Each write replaces the file atomically under a
lock. Nothing reads a state from the log.

A job runs detached, in its own session, so a page reload or a Streamlit rerun does not kill it.
Finished batches go to the score cache (or Ray's shards): starting a stopped job again resumes.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from qaq.io.files import write_atomic

JOBS_DIR = Path(os.environ.get("QAQ_JOBS_DIR", Path.home() / ".cache" / "qaq" / "jobs"))
STATUS_FILE = "status.json"
LOG_FILE = "log.txt"
STATUS_FORMAT = "qaq-job-status/1"  # the "format" key of every status file

State = Literal["starting", "running", "finished", "failed", "cancelled"]
Engine = Literal["local", "ray"]
STATES: tuple[str, ...] = get_args(State)
ACTIVE_STATES: tuple[str, ...] = ("starting", "running")  # the others are final
ENGINES: tuple[str, ...] = get_args(Engine)
# The error of a job whose process is gone without a final status (SIGKILL, out of memory ...).
STOPPED = "the job stopped without finishing (see its log)"
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


# --------------------------------------------------------------------------- records


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


# --------------------------------------------------------------------------- the status file


def read_status(path: str | os.PathLike[str]) -> JobStatus:
    """The :class:`JobStatus` in a status file.

    Raises:
        FileNotFoundError: no such file.
        StatusError: the file is not a job status (the message names the file).
    """
    try:
        return JobStatus.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError) as exc:  # StatusError and JSONDecodeError are ValueErrors
        raise StatusError(f"{os.fspath(path)}: not a valid job status file: {exc}") from None


def write_status(path: str | os.PathLike[str], status: JobStatus) -> None:
    """Write ``status`` to its file atomically (a reader sees the old status or the new one)."""
    write_atomic(path, json.dumps(status.to_dict(), indent=1) + "\n")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Writers (the job, the app starting or cancelling it) read, change and write the status:
    # the lock makes each of those one step.
    with open(path.with_name(f".{path.name}.lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def update_status(
    path: str | os.PathLike[str], change: Callable[[JobStatus | None], JobStatus | None]
) -> JobStatus | None:
    """Read a status file (None if there is none), apply ``change``, write what it returns; all under a lock.

    Returns:
        The status now in the file (``change``'s result, or the unchanged status when it returned None).
    """
    path = Path(path)
    with _locked(path):
        current = read_status(path) if path.exists() else None
        new = change(current)
        if new is None or new == current:
            return current
        write_status(path, new)
        return new


class StatusReporter:
    """The job's side of a status file: what a running ``qaq score --status-file PATH`` writes.

    Creating one records this process as the job's (a status file that does not exist yet is
    created, without a request). A final state is kept: once the job is finished, failed or
    cancelled, later reports change nothing, except that "finished" (the output is in place)
    replaces "cancelled".
    """

    MIN_INTERVAL = 0.5  # seconds between progress writes (each one is flushed to disk)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._first: dict[str, tuple[float, int]] = {}  # model -> (time, rows done) of its first report
        self._written = 0.0  # time of the last progress write
        update_status(self.path, self._claim)

    @staticmethod
    def _claim(current: JobStatus | None) -> JobStatus | None:
        now, pid = time.time(), os.getpid()
        if current is not None and current.state == "starting":
            return replace(current, pid=pid, updated=now)  # the job start_job prepared
        if current is not None and current.state == "cancelled" and current.pid in (None, pid):
            return None  # cancelled before this process got going: it stays cancelled
        # No status yet (a hand-run qaq score), or one left by an earlier run of the command.
        return JobStatus(
            state="starting",
            id=None if current is None else current.id,
            request=None if current is None else current.request,
            pid=pid,
            started=now,
            updated=now,
        )

    def progress(self, model: str, done: int, total: int) -> None:
        """Record a model's progress (state "running"), with rows/s and ETA since its first report.

        Reports closer together than :attr:`MIN_INTERVAL` are skipped, except a model's first and last.
        """
        now = time.time()
        if model in self._first and done < total and now - self._written < self.MIN_INTERVAL:
            return
        t0, done0 = self._first.setdefault(model, (now, done))
        rate = (done - done0) / (now - t0) if now > t0 and done > done0 else None
        self._written = now
        self._write("running", model=(model, ModelProgress(done, total, rate, (total - done) / rate if rate else None)))

    def finished(self, output: str | os.PathLike[str] | None, rows: int | None) -> None:
        """Record that the output is written: ``rows`` rows in ``output`` (None for a run without output)."""
        self._write("finished", output=None if output is None else os.fspath(output), rows=rows)

    def failed(self, message: str) -> None:
        """Record that the job failed, with the error's message on one line.

        Never raises: a status that cannot be written must not hide the error being reported.
        """
        try:
            self._write("failed", error=" ".join(message.split())[:2000] or "failed")
        except (OSError, ValueError) as exc:
            print(f"warning: cannot write the job status {self.path}: {exc}", file=sys.stderr)

    def _write(self, state: State, *, model: tuple[str, ModelProgress] | None = None, **changes: Any) -> None:
        now = time.time()
        pid = os.getpid()

        def apply(current: JobStatus | None) -> JobStatus | None:
            if current is None:  # removed meanwhile: start it again
                current = JobStatus(state="starting", started=now, updated=now)
            elif not current.active and not (current.state == "cancelled" and state == "finished"):
                return None  # final
            progress = {**current.progress, model[0]: model[1]} if model else current.progress
            return replace(
                current,
                state=state,
                pid=pid,
                updated=now,
                progress=progress,
                ended=None if state in ACTIVE_STATES else now,
                **changes,
            )

        update_status(self.path, apply)


# --------------------------------------------------------------------------- jobs


def _root(jobs_dir: str | os.PathLike[str] | None) -> Path:
    # Looked up per call: tests and the app move JOBS_DIR after import.
    return JOBS_DIR if jobs_dir is None else Path(jobs_dir)


def start_job(request: ScoreRequest, *, jobs_dir: str | os.PathLike[str] | None = None) -> str:
    """Start ``qaq score`` for ``request`` as a detached job; return the job id.

    The job's folder gets its status file (state "starting", with the request) before the
    process starts; the process, in its own session, keeps the status up to date and writes its
    output to ``log.txt``. A thread of this process reaps it when it ends.

    Args:
        request: what to score (the ray engine too: the job is then the Ray driver).
        jobs_dir: the jobs folder (default :data:`JOBS_DIR`).
    """
    job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    folder = _root(jobs_dir) / job_id
    folder.mkdir(parents=True)
    path = folder / STATUS_FILE
    now = time.time()
    write_status(path, JobStatus(state="starting", id=job_id, request=request, started=now, updated=now))
    cmd = [sys.executable, "-m", "qaq.cli", "score", "--status-file", str(path), "--quiet", *request.cli_args()]
    try:
        with open(folder / LOG_FILE, "wb") as log:
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
    except OSError as exc:
        error = f"cannot start the job: {exc}"
        update_status(path, lambda s: s and replace(s, state="failed", error=error, ended=time.time()))
        raise
    # The process records its pid too, once it runs; record it here in case it never gets that far.
    update_status(path, lambda s: s and replace(s, pid=proc.pid))
    threading.Thread(target=proc.wait, daemon=True).start()
    return job_id


def job_status(job_id: str, *, jobs_dir: str | os.PathLike[str] | None = None) -> JobStatus:
    """A job's status, from its status file.

    A job whose process is gone while its status says it is starting or running (killed with
    SIGKILL, out of memory) is recorded as "failed" with the error :data:`STOPPED`.

    Raises:
        FileNotFoundError: no such job.
        StatusError: its status file is malformed.
    """
    path = _root(jobs_dir) / job_id / STATUS_FILE
    status = read_status(path)
    if status.active and status.pid is not None and not _alive(status.pid):
        # A process writes its final status before it exits: read again now that it is gone.
        status = update_status(path, _stopped) or status
    return status


def _stopped(status: JobStatus | None) -> JobStatus | None:
    if status is None or not status.active or (status.pid is not None and _alive(status.pid)):
        return None
    return replace(status, state="failed", error=STOPPED, ended=status.updated)


def cancel_job(job_id: str, *, jobs_dir: str | os.PathLike[str] | None = None) -> JobStatus:
    """Cancel a starting or running job: record "cancelled", then stop its processes (SIGTERM).

    Its committed batches stay in the score cache (or shards). A job in a final state is left as
    it is. Returns the job's status.
    """
    path = _root(jobs_dir) / job_id / STATUS_FILE
    if not read_status(path).active:
        return read_status(path)
    now = time.time()
    status = update_status(
        path, lambda s: s and (replace(s, state="cancelled", updated=now, ended=now) if s.active else None)
    )
    if status is not None and status.state == "cancelled" and status.pid is not None and _alive(status.pid):
        try:
            os.killpg(status.pid, signal.SIGTERM)
        except OSError:
            pass  # gone meanwhile
    return status or read_status(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:  # no such process, or another user's (so not the job's)
        return False
    # A finished child that nobody reaped is a zombie: treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def find_job(data_path: str | os.PathLike[str] | None, *, jobs_dir: str | os.PathLike[str] | None = None) -> str | None:
    """The newest job whose request scores ``data_path`` (so a reloaded page finds its job again).

    Paths are compared resolved; folders without a readable status file are skipped.
    """
    root = _root(jobs_dir)
    if not data_path or not root.is_dir():
        return None
    target = Path(data_path).resolve()
    for folder in sorted(root.iterdir(), reverse=True):  # job ids start with their start time
        try:
            request = read_status(folder / STATUS_FILE).request
        except (OSError, StatusError):
            continue
        if request is not None and Path(request.data).resolve() == target:
            return folder.name
    return None


# --------------------------------------------------------------------------- the log, for people


def terminal_text(text: str) -> str:
    """Text as a terminal shows it: of each line's carriage-return frames (a progress bar
    redrawing itself), only the last one that is not blank.

    >>> terminal_text("loading\\nweak:  10%\\rweak:  20%\\r\\ndone\\n")
    'loading\\nweak:  20%\\ndone\\n'
    """
    lines = []
    for line in text.split("\n"):
        frames = [f for f in line.split("\r") if f.strip()]
        lines.append(frames[-1] if frames else "")
    return "\n".join(lines)


def log_tail(job_id: str, *, jobs_dir: str | os.PathLike[str] | None = None, chars: int = 4000) -> str:
    """The end of a job's log (its last ``chars`` characters) as a terminal shows it; "" without a log."""
    try:
        with open(_root(jobs_dir) / job_id / LOG_FILE, "rb") as fh:
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - 4 * chars))  # progress frames collapse: read more
            raw = fh.read()
    except OSError:
        return ""
    return terminal_text(raw.decode("utf-8", errors="replace"))[-chars:]


def last_log_line(log: str) -> str:
    """A log's last non-empty line as a terminal shows it (what the job is doing), for display.

    The line is cut at 200 characters and its backticks become quotes, so it can be shown inside
    inline code.
    """
    lines = [ln.strip() for ln in terminal_text(log).splitlines() if ln.strip()]
    return lines[-1][:200].replace("`", "'") if lines else ""

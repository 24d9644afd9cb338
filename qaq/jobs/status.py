"""A job's status file: reading, writing and changing it, and the job's own side of it.

The state lives in the status file only: :func:`qaq.jobs.start_job` writes "starting", the job's
``qaq score --status-file`` (a :class:`StatusReporter`) "running" with progress, then "finished"
or "failed", and :func:`qaq.jobs.cancel_job` "cancelled". Each write replaces the file atomically
under a lock. Nothing reads a state from the log.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from qaq.io.files import write_atomic
from qaq.jobs.records import ACTIVE_STATES, JobStatus, ModelProgress, State, StatusError


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

"""Starting, observing, cancelling and finding background scoring jobs, and reading their logs.

A job is a folder in the jobs folder (``$QAQ_JOBS_DIR``, default ``~/.cache/qaq/jobs``), named by
the job's id (its start time first), holding ``status.json``, the job's
:class:`~qaq.jobs.records.JobStatus` (its :class:`~qaq.jobs.records.ScoreRequest`, state,
progress, output, error), and ``log.txt``, its output for people to read. The state lives in the
status file only (:mod:`qaq.jobs.status`); nothing reads a state from the log.

A job runs detached, in its own session, so a page reload or a Streamlit rerun does not kill it.
Finished batches go to the score cache (or Ray's shards): starting a stopped job again resumes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

from qaq.jobs.records import JobStatus, ScoreRequest, StatusError
from qaq.jobs.status import read_status, update_status, write_status

JOBS_DIR = Path(os.environ.get("QAQ_JOBS_DIR", Path.home() / ".cache" / "qaq" / "jobs"))
STATUS_FILE = "status.json"
LOG_FILE = "log.txt"
# The error of a job whose process is gone without a final status (SIGKILL, out of memory ...).
STOPPED = "the job stopped without finishing (see its log)"


# --------------------------------------------------------------------------- jobs


def _root(jobs_dir: str | os.PathLike[str] | None) -> Path:
    # Looked up per call, as qaq.jobs.JOBS_DIR (the name importers see): tests and the app move
    # JOBS_DIR after import.
    import qaq.jobs

    return qaq.jobs.JOBS_DIR if jobs_dir is None else Path(jobs_dir)


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


# A tqdm frame: "desc:  42%|####      | 5/12 [00:01<00:02, 3.9it/s]" (the description before the percentage).
_PROGRESS_FRAME = re.compile(r"^(.*?)\s*\d{1,3}%\|")


def terminal_text(text: str) -> str:
    """Text as a terminal shows it, with each progress bar on one line: of each line's
    carriage-return frames (a bar redrawing itself), only the last one that is not blank, and of
    consecutive lines that are frames of one bar (a bar that wrote a line per frame), the last.

    >>> terminal_text("loading\\nweak:  10%\\rweak:  20%\\r\\ndone\\n")
    'loading\\nweak:  20%\\ndone\\n'
    >>> terminal_text("w:  10%|#  | 1/9\\nw:  90%|## | 8/9\\nv:   0%|   | 0/3\\n")
    'w:  90%|## | 8/9\\nv:   0%|   | 0/3\\n'
    """
    lines: list[str] = []
    bar = None  # the description of the bar the last line is a frame of
    for line in text.split("\n"):
        frames = [f for f in line.split("\r") if f.strip()]
        shown = frames[-1] if frames else ""
        frame = _PROGRESS_FRAME.match(shown)
        if frame is not None and lines and bar == frame.group(1):
            lines[-1] = shown
        else:
            lines.append(shown)
        bar = None if frame is None else frame.group(1)
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

"""Background scoring jobs: ``qaq score`` in its own process, observable and cancellable.

The app starts scoring as a detached subprocess (its own session, so a page reload or a
Streamlit rerun does not kill it). The job writes finished batches to the score cache and its
progress to a small JSON file; the page polls :func:`job_status`. A cancelled or crashed job
loses nothing that was committed: running it again resumes from the cache.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Sequence

JOBS_DIR = Path(os.environ.get("QAQ_JOBS_DIR", Path.home() / ".cache" / "qaq" / "jobs"))


def write_progress(path: str | os.PathLike[str], *, model: str, done: int, total: int) -> None:
    """Record progress atomically, with rows/s and ETA derived from the first record of the model."""
    p = Path(path)
    now = time.time()
    try:
        prev = json.loads(p.read_text())
    except (OSError, ValueError):
        prev = {}
    models = prev.get("models", {})
    m = models.get(model) or {"started": now, "start_done": done}
    elapsed = now - m["started"]
    rate = (done - m["start_done"]) / elapsed if elapsed > 0 and done > m["start_done"] else None
    m.update(done=done, total=total, rows_per_s=rate,
             eta_s=(total - done) / rate if rate else None, updated=now)
    models[model] = m
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps({"models": models, "current": model}))
    os.replace(tmp, p)


def start_job(args: Sequence[str], *, jobs_dir: str | os.PathLike[str] = JOBS_DIR) -> str:
    """Start ``qaq score ARGS --progress-file ...`` detached; return the job id."""
    job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    d = Path(jobs_dir) / job_id
    d.mkdir(parents=True)
    cmd = [sys.executable, "-m", "qaq.cli", "score", *args, "--progress-file", str(d / "progress.json"), "--quiet"]
    with open(d / "log.txt", "wb") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    (d / "job.json").write_text(json.dumps({"id": job_id, "pid": proc.pid, "cmd": cmd, "started": time.time()}))
    # Reap the child when it ends, so a long-lived app server does not collect zombies.
    threading.Thread(target=proc.wait, daemon=True).start()
    return job_id


def job_status(job_id: str, *, jobs_dir: str | os.PathLike[str] = JOBS_DIR) -> dict[str, Any]:
    """State of a job: ``running``, ``finished``, ``failed`` or ``cancelled``, with progress and log tail."""
    d = Path(jobs_dir) / job_id
    info = json.loads((d / "job.json").read_text())
    try:
        progress = json.loads((d / "progress.json").read_text())
    except (OSError, ValueError):
        progress = {}
    log = (d / "log.txt").read_text(errors="replace") if (d / "log.txt").exists() else ""
    if (d / "cancelled").exists():
        state = "cancelled"
    elif _alive(info["pid"]):
        state = "running"
    elif log.rstrip().splitlines()[-1:] and log.rstrip().splitlines()[-1].startswith("wrote "):
        state = "finished"
    else:
        state = "failed"
    return {"id": job_id, "state": state, "progress": progress, "log_tail": log[-4000:], "cmd": info["cmd"]}


def cancel_job(job_id: str, *, jobs_dir: str | os.PathLike[str] = JOBS_DIR) -> None:
    """Stop a running job (its committed batches stay in the cache)."""
    d = Path(jobs_dir) / job_id
    info = json.loads((d / "job.json").read_text())
    (d / "cancelled").write_text("1")
    try:
        os.killpg(info["pid"], signal.SIGTERM)
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A finished child that nobody reaped is a zombie: treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def find_job(data_path: str | None, *, jobs_dir: str | os.PathLike[str]) -> str | None:
    """The newest job in ``jobs_dir`` scoring ``data_path`` (so a reloaded page finds its job again)."""
    jobs_dir = Path(jobs_dir)
    if not data_path or not jobs_dir.is_dir():
        return None
    target = str(Path(data_path).resolve())
    for d in sorted(jobs_dir.iterdir(), reverse=True):  # job ids start with their start time
        try:
            cmd = json.loads((d / "job.json").read_text())["cmd"]
        except (OSError, ValueError, KeyError):
            continue
        if any(str(Path(c).resolve()) == target for c in cmd[4:5]):  # python -m qaq.cli score DATA
            return d.name
    return None


def last_log_line(status: dict[str, Any]) -> str:
    """The job log's last non-empty line (what the job is doing), without progress-bar noise.

    Carriage returns split lines (tqdm redraws), the line is cut at 200 characters and its
    backticks become quotes, so it can be shown inside inline code.
    """
    lines = [ln.strip() for ln in str(status.get("log_tail") or "").replace("\r", "\n").splitlines()]
    lines = [ln for ln in lines if ln]
    return lines[-1][:200].replace("`", "'") if lines else ""


def job_output(status: dict[str, Any]) -> str | None:
    """The score file a job writes (its ``-o`` argument), or None."""
    cmd = status.get("cmd") or []
    return cmd[cmd.index("-o") + 1] if "-o" in cmd else None

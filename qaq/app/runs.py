"""Uploads, loaded scoring models and background scoring jobs: what the app keeps in its folders.

Imports streamlit: loaded scoring models live under ``st.cache_resource`` keyed by spec + the
config fields that loading reads, shared by sessions. What a job is asked to do (its device,
models and :class:`qaq.jobs.ScoreRequest`) is set up in :mod:`qaq.app.score_setup`, which does
not import it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st
from streamlit import config as st_config  # get_option looked up per call: tests patch it

from qaq.app import paths, score_setup
from qaq.app.workspace import file_key
from qaq.io.files import write_atomic

if TYPE_CHECKING:
    from qaq.jobs import JobStatus, ScoreRequest


def upload_limit_mb() -> int:
    """The upload size limit the server enforces (``server.maxUploadSize``, :data:`qaq.app.paths.SERVER_OPTIONS`)."""
    return int(st_config.get_option("server.maxUploadSize"))


def save_upload(name: str, data: bytes) -> Path:
    """Keep an uploaded file on disk (loaders, jobs and exports read paths), named by its hash."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "upload.jsonl"
    target = paths.UPLOAD_DIR / digest / safe
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)  # two sessions uploading the same file each write their own temp file
    return target


device_summary = st.cache_data(show_spinner="Detecting the device…")(score_setup.device_summary)  # torch: once


# The ScoringConfig fields that load_scoring_model reads (a test keeps them so): configs differing only
# in the others (max_length, batch_tokens, compile, padding_side) share one loaded model.
LOAD_FIELDS = ("device", "dtype", "template", "system", "reverse_instruction", "trust_remote_code", "pack")


def scoring_model(spec: str, config_json: str) -> Any:
    """A loaded :class:`qaq.scoring.backend.ScoringModel`, shared by every session and page.

    Keyed by spec + the config's :data:`LOAD_FIELDS` only, so the cost estimate reuses the model
    the token view loaded (and the other way round), and changing the max length or the batch
    budget does not load it again. The model is used eagerly: nothing here compiles it.
    """
    config = json.loads(config_json)
    return _loaded_model(spec.strip(), json.dumps({k: config[k] for k in LOAD_FIELDS if k in config}, sort_keys=True))


@st.cache_resource(
    max_entries=2,
    show_spinner="Loading the model (once per server; a GGUF model's first load ever takes about a minute on 2 CPU cores, later ones seconds)…",
)
def _loaded_model(spec: str, load_json: str) -> Any:
    from qaq.scoring.engine import ScoringConfig, load_scoring_model

    return load_scoring_model(spec, ScoringConfig(**json.loads(load_json)))


def score_output(data_path: str) -> Path:
    """Where a scoring job started from the app writes: one file per data file version."""
    digest = hashlib.sha256(json.dumps(file_key(data_path)).encode()).hexdigest()[:12]
    return paths.SCORES_DIR / f"{Path(data_path).name.split('.')[0]}-{digest}.scores.parquet"


# The jobs folder is read at call time (tests and `$QAQ_JOBS_DIR` move it), not bound as a default.


def find_job(data_path: str | None) -> str | None:
    """The newest background job scoring ``data_path`` (:func:`qaq.jobs.find_job`)."""
    from qaq import jobs

    return jobs.find_job(data_path, jobs_dir=jobs.JOBS_DIR)


def start_job(request: ScoreRequest) -> str:
    """Start a background scoring job in the jobs folder, with the output folder made; return its id.

    A ray engine request goes through :func:`qaq.scoring.ray_engine.start_ray_job`, a local one
    through :func:`qaq.jobs.start_job`.
    """
    from qaq import jobs

    Path(request.output).parent.mkdir(parents=True, exist_ok=True)
    if request.engine == "ray":
        from qaq.scoring import ray_engine

        return ray_engine.start_ray_job(request, jobs_dir=jobs.JOBS_DIR)
    return jobs.start_job(request, jobs_dir=jobs.JOBS_DIR)


def ray_available() -> bool:
    """Whether the ray engine can run here (:func:`qaq.scoring.ray_engine.ray_available`, imported on call)."""
    from qaq.scoring import ray_engine

    return ray_engine.ray_available()


def job_status(job_id: str) -> JobStatus:
    """A job's :class:`qaq.jobs.JobStatus` (:func:`qaq.jobs.job_status` in the jobs folder)."""
    from qaq import jobs

    return jobs.job_status(job_id, jobs_dir=jobs.JOBS_DIR)


def log_tail(job_id: str) -> str:
    """The end of a job's log as a terminal shows it (:func:`qaq.jobs.log_tail` in the jobs folder)."""
    from qaq import jobs

    return jobs.log_tail(job_id, jobs_dir=jobs.JOBS_DIR)


def cancel_job(job_id: str) -> JobStatus:
    """:func:`qaq.jobs.cancel_job` in the jobs folder; the job's status after it."""
    from qaq import jobs

    return jobs.cancel_job(job_id, jobs_dir=jobs.JOBS_DIR)

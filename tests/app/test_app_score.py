"""The Score page: device, cost estimate, background jobs (progress, cancel, reload), loading score files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import app_tables
import pandas as pd
import pytest
import streamlit as st
from conftest import charts, no_exception, open_app

from qaq import jobs
from qaq.app import paths, runs


def test_device_and_default_models_are_shown(pair):
    at = open_app(*pair, page="score")
    no_exception(at)
    assert any(m.value.startswith("**Device**: `cpu`") or "GPU" in m.value or "cuda" in m.value for m in at.markdown)
    assert at.text_input(key="score_spec_weak").value == "smollm2-135m"
    assert at.text_input(key="score_spec_strong").value == "gemma3-270m"
    assert "The table has scores for: weak, strong" in at.success[0].value


def test_device_line_names_the_cpu_and_bf16_where_it_is_emulated_warns(pair, monkeypatch):
    from qaq.scoring import hardware

    monkeypatch.setattr(hardware, "cpu_info", lambda: hardware.CpuInfo("AMD EPYC", "x86_64", "", 2))
    at = open_app(*pair, page="score")
    no_exception(at)
    line = next(m.value for m in at.markdown if m.value.startswith("**Device**"))
    if "cuda" not in line:
        assert line.endswith("AMD EPYC, 2 threads, no native bf16: dtype auto → `fp32`.")
    assert not at.warning
    at.selectbox(key="score_device").set_value("cpu").run()
    at.selectbox(key="score_dtype").set_value("bf16").run()
    assert [w.value for w in at.warning] == [
        "AMD EPYC has no native bf16: PyTorch emulates it, several times slower than fp32 (the job's log gives the "
        "factor timed there). auto picks fp32 on this CPU."]
    monkeypatch.setattr(hardware, "cpu_info", lambda: hardware.CpuInfo("Xeon", "x86_64", "AMX", 2))
    st.cache_data.clear()  # the device summary is cached per session
    at.run()
    assert not at.warning


def _fake_job(data, *, state: str = "running", done: int, total: int,
              job_id: str = "20260101-000000-abcdef") -> tuple[str, subprocess.Popen]:
    """A job folder as qaq.jobs writes it, whose process is a harmless sleep in its own session."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    d = jobs.JOBS_DIR / job_id
    d.mkdir(parents=True)
    request = jobs.ScoreRequest(data=str(data), output=str(runs.score_output(str(data))), models={"weak": "w"})
    now = time.time()
    jobs.write_status(d / jobs.STATUS_FILE, jobs.JobStatus(
        state=state, id=job_id, request=request, pid=proc.pid, started=now, updated=now,
        progress={"weak": jobs.ModelProgress(done, total, 12.5, (total - done) / 12.5)}))
    (d / jobs.LOG_FILE).write_text("scoring…\n")
    return job_id, proc


def _end(job_id: str, **changes) -> None:
    """Give a job a final status, as its process does before it exits."""
    path = jobs.JOBS_DIR / job_id / jobs.STATUS_FILE
    jobs.write_status(path, replace(jobs.read_status(path), ended=time.time(), **changes))


def test_a_running_job_is_found_after_a_reload_and_can_be_cancelled(pair):
    data, scores = pair
    job_id, proc = _fake_job(data, done=30, total=59)
    try:
        # A fresh session (as after a page reload) has no job id in its state: the page finds the job.
        at = open_app(data, scores, page="score")
        no_exception(at)
        assert any(f"**Job** `{job_id}`: **running**" in m.value for m in at.markdown)
        (bar,) = at.get("progress")
        assert bar.proto.value == 50  # 30 of 59 rows
        assert "weak: 30 / 59 rows · 12.5 rows/s · ETA 2 s" in bar.proto.text
        assert any("Last log line: `scoring…`" in c.value for c in at.caption)
        assert at.button(key="start_job").disabled  # one job at a time
        at.button(key="cancel_job").click().run()
        no_exception(at)
        assert proc.wait(timeout=10) == -signal.SIGTERM
        assert jobs.job_status(job_id, jobs_dir=jobs.JOBS_DIR).state == "cancelled"
        assert any("**cancelled**" in m.value for m in at.markdown)
        assert any("resume from the score cache" in c.value for c in at.caption)
        assert not at.button(key="start_job").disabled
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.parametrize("final", ["finished", "failed", "cancelled"])
def test_the_start_button_comes_back_when_the_job_ends(pair, monkeypatch, final):
    """The job panel polls (a fragment); when it sees the job end, it redraws the whole page once."""
    data, scores = pair
    job_id, proc = _fake_job(data, done=30, total=59)
    try:
        real, seen = runs.job_status, []
        ending = {"finished": {"output": str(runs.score_output(str(data))), "rows": 60},
                  "failed": {"error": "out of memory"}, "cancelled": {}}[final]

        def job_status(job_id: str) -> jobs.JobStatus:
            status = real(job_id)
            if not seen:  # the job ends after the page read its state, before the panel's next poll
                _end(job_id, state=final, **ending)
            seen.append(status.state)
            return status

        monkeypatch.setattr(runs, "job_status", job_status)
        at = open_app(data, scores, page="score")
        no_exception(at)
        # The page saw "running", the panel the final state and reran the page, which saw it twice.
        assert seen == ["running", final, final, final]
        assert not at.button(key="start_job").disabled
        assert any(f"**Job** `{job_id}`: **{final}**" in m.value for m in at.markdown)
        assert "cancel_job" not in [b.key for b in at.button]
        (bar,) = at.get("progress")
        assert bar.proto.text == "weak: 30 / 59 rows"  # no rate or ETA once it ended
        if final == "finished":
            assert at.button(key="use_job_scores").label == "Use these scores"  # the new scores can be opened
        elif final == "failed":
            assert [e.value for e in at.error] == ["The job failed: out of memory"]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


def test_the_job_panel_polls_only_while_the_job_runs(pair, monkeypatch):
    """run_every is set for an active job only: a page with a finished job does not keep rerunning."""
    polls: list[object] = []
    real = st.fragment

    def fragment(func=None, *, run_every=None, **kw):
        polls.append(run_every)
        return real(func, run_every=run_every, **kw) if func is not None else real(run_every=run_every, **kw)

    monkeypatch.setattr(st, "fragment", fragment)
    data, scores = pair
    job_id, proc = _fake_job(data, done=30, total=59)
    try:
        open_app(data, scores, page="score")
        assert polls[-1] == 2
        _end(job_id, state="finished", output=str(runs.score_output(str(data))), rows=60)
        polls.clear()
        open_app(data, scores, page="score")
        assert polls == [None]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


def test_a_finished_job_offers_its_scores(pair, tmp_path):
    data, _ = pair
    job_id, proc = _fake_job(data, done=59, total=59)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    out = runs.score_output(str(data))
    out.parent.mkdir(parents=True)
    rows = app_tables.records(60)
    from qaq.io.scorefile import write_scores

    write_scores(app_tables.scores(rows, ("weak",)), out, {"models": {"weak": {"spec": "x"}}})
    _end(job_id, state="finished", output=str(out), rows=60)
    (jobs.JOBS_DIR / job_id / jobs.LOG_FILE).write_text("")  # what the log says does not matter
    at = open_app(data, None, page="score")
    assert any("**finished**" in m.value for m in at.markdown)
    at.button(key="use_job_scores").click().run()
    no_exception(at)
    assert at.session_state["scores_path"] == str(out)
    assert "The table has scores for: weak" in at.success[0].value


def test_a_failed_job_says_why(pair):
    data, _ = pair
    job_id, proc = _fake_job(data, done=0, total=59)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    _end(job_id, state="failed", error="data.jsonl:3: invalid JSON")
    at = open_app(data, None, page="score")
    no_exception(at)
    assert any(f"**Job** `{job_id}`: **failed**" in m.value for m in at.markdown)
    assert [e.value for e in at.error] == ["The job failed: data.jsonl:3: invalid JSON"]
    assert any("resume from the score cache" in c.value for c in at.caption)
    assert not at.button(key="start_job").disabled


def test_a_job_killed_hard_reads_as_failed(pair):
    data, _ = pair
    job_id, proc = _fake_job(data, done=10, total=59)
    os.killpg(proc.pid, signal.SIGKILL)  # its status still says running
    proc.wait()
    at = open_app(data, None, page="score")
    no_exception(at)
    assert [e.value for e in at.error] == [f"The job failed: {jobs.STOPPED}"]


def test_the_job_log_shows_each_progress_bar_once(pair):
    data, scores = pair
    job_id, proc = _fake_job(data, done=30, total=59)
    try:
        frames = "\r".join(f"Loading weights: {p}%" for p in range(0, 101, 10))
        (jobs.JOBS_DIR / job_id / jobs.LOG_FILE).write_text(f"weak: loading\n{frames}\r\nscoring\n")
        at = open_app(data, scores, page="score")
        no_exception(at)
        (log,) = [c.value for c in at.code]
        assert log.rstrip("\n") == "weak: loading\nLoading weights: 100%\nscoring"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_start_a_real_job_with_a_tiny_model(pair, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("QAQ_CACHE_DIR", str(tmp_path / "cache"))
    data, _ = pair
    at = open_app(data, None, page="score")
    at.checkbox(key="score_use_strong").uncheck()
    at.text_input(key="score_spec_weak").set_value(str(tiny_model_dir))
    at.selectbox(key="score_device").set_value("cpu")
    at.selectbox(key="score_dtype").set_value("fp32")
    at.button(key="start_job").click().run()
    no_exception(at)
    job_id = at.session_state["job_id"]
    assert job_id
    deadline = time.monotonic() + 120
    while runs.job_status(job_id).active and time.monotonic() < deadline:
        time.sleep(0.2)
    status = runs.job_status(job_id)
    assert status.state == "finished", runs.log_tail(job_id)
    assert status.output == str(runs.score_output(str(data))) and status.rows == 60
    assert status.request.models == {"weak": str(tiny_model_dir)} and status.request.dtype == "fp32"
    at.run()
    at.button(key="use_job_scores").click().run()
    no_exception(at)
    assert at.session_state["scores_path"] == str(runs.score_output(str(data)))
    at.switch_page("pages/distributions.py").run()
    no_exception(at)
    assert [t["name"] for t in charts(at)["rmi_histogram"]["data"]] == ["weak"]


@pytest.mark.slow
def test_cost_estimate_with_a_tiny_model(pair, tiny_model_dir):
    at = open_app(*pair, page="score")
    at.checkbox(key="score_use_strong").uncheck()
    at.text_input(key="score_spec_weak").set_value(str(tiny_model_dir))
    at.selectbox(key="score_device").set_value("cpu")
    at.button(key="estimate").click().run(timeout=120)
    no_exception(at)
    (line,) = [m.value for m in at.markdown if m.value.startswith("**weak**")]
    assert "59 rows" in line and "tokens forwarded" in line and "tokens/s" in line


def test_an_unknown_model_is_explained(pair):
    at = open_app(*pair, page="score")
    at.checkbox(key="score_use_strong").uncheck()
    at.text_input(key="score_spec_weak").set_value("./no/such/model")
    at.button(key="estimate").click().run(timeout=120)
    no_exception(at)
    assert "not found" in at.error[0].value


def _authors_file(tmp_path) -> str:
    rows = app_tables.records(30, xss=False)
    t = app_tables.scores(rows, ("deepseek-coder-6.7b-base", "Qwen3-0.6B"))
    recs = []
    for r, (_, s) in zip(rows, t.iterrows()):
        rec = {"problem": r["instruction"], "generations": [r["response"] or "x"], "defect": r["defect"]}
        for m in ("deepseek-coder-6.7b-base", "Qwen3-0.6B"):
            rec |= {f"{m}_log_PPL_Q": s[f"{m}_nll_q"], f"{m}_log_PPL_Q_A": s[f"{m}_nll_q_given_a"],
                    f"{m}_RMI": s[f"{m}_rmi"]}
        recs.append({k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in rec.items()})
    path = tmp_path / "authors.json"
    path.write_text(json.dumps(recs))
    return str(path)


def test_load_a_file_in_the_authors_format(pair, tmp_path):
    path = _authors_file(tmp_path)
    at = open_app(*pair, page="score")
    at.text_input(key="scores_local_path").set_value(path).run()
    at.button(key="load_scores").click().run()
    no_exception(at)
    assert at.session_state["data_path"] is None and at.session_state["scores_path"] == path
    assert "deepseek-coder-6.7b-base, Qwen3-0.6B" in at.success[0].value
    # The strong model comes first in the authors' files; both roles are set, so Disagreement works.
    assert (at.session_state["strong"], at.session_state["weak"]) == ("deepseek-coder-6.7b-base", "Qwen3-0.6B")
    at.switch_page("pages/disagreement.py").run()
    no_exception(at)
    assert "rank_scatter" in charts(at)
    at.switch_page("pages/distributions.py").run()
    no_exception(at)
    assert "no IFD scores" in json.dumps(charts(at)["ifd_vs_rmi"])


def test_upload_a_qaq_score_file_for_the_open_data(pair):
    data, scores = pair
    at = open_app(data, None, page="score")
    at.file_uploader(key="scores_upload").upload("s.parquet", scores.read_bytes()).run()
    at.button(key="load_scores").click().run()
    no_exception(at)
    assert at.session_state["data_path"] == str(data)
    assert at.session_state["scores_path"].startswith(str(paths.UPLOAD_DIR))
    assert "The table has scores for: weak, strong" in at.success[0].value


def test_a_bad_score_file_is_explained(pair, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,weak_rmi\n1,\"unclosed\n")
    at = open_app(pair[0], None, page="score")
    at.text_input(key="scores_local_path").set_value(str(bad)).run()
    at.button(key="load_scores").click().run()
    no_exception(at)
    assert at.error[0].value.startswith("Cannot read the score file")
    assert at.session_state["scores_path"] is None


def test_start_a_job_on_a_ray_cluster(pair, monkeypatch):
    """The Ray engine starts a ray request as a job (no cluster: the job starter is faked)."""
    from qaq.scoring import ray_engine

    monkeypatch.setattr(ray_engine, "ray_available", lambda: True)
    started = []

    def fake_start_job(request, *, jobs_dir=None):
        started.append(request)
        job_id = "20260101-000000-rayray"
        now = time.time()
        (jobs_dir / job_id).mkdir(parents=True)
        jobs.write_status(jobs_dir / job_id / jobs.STATUS_FILE, jobs.JobStatus(
            state="failed", id=job_id, request=request, started=now, updated=now, ended=now,
            error="cannot connect to Ray at ray://head:10001"))
        return job_id

    monkeypatch.setattr(jobs, "start_job", fake_start_job)
    data, scores = pair
    at = open_app(data, scores, page="score")
    no_exception(at)
    at.radio(key="score_engine").set_value("ray").run()
    at.text_input(key="score_ray_address").set_value("ray://head:10001").run()
    at.button(key="start_job").click().run()
    no_exception(at)
    (request,) = started
    assert request.engine == "ray" and request.ray == jobs.RayOptions(address="ray://head:10001", gpus_per_worker=1.0)
    assert request.data == str(data) and request.output == str(runs.score_output(str(data)))
    assert request.models == {"weak": "smollm2-135m", "strong": "gemma3-270m"}
    assert runs.job_status(at.session_state["job_id"]).request == request
    assert any("**Job** `20260101-000000-rayray`: **failed**" in m.value for m in at.markdown)  # the usual panel
    assert [e.value for e in at.error] == ["The job failed: cannot connect to Ray at ray://head:10001"]


def test_without_ray_the_page_says_what_to_install(pair, monkeypatch):
    from qaq.scoring import ray_engine

    monkeypatch.setattr(ray_engine, "ray_available", lambda: False)
    at = open_app(*pair, page="score")
    no_exception(at)
    assert "score_engine" not in [r.key for r in at.radio]  # no engine choice: scoring runs here
    assert any('pip install "qaq[ray]"' in c.value for c in at.caption)


def test_the_loaded_model_is_shared_by_configs_that_load_it_alike(monkeypatch):
    """The estimate reuses the model the token view loaded: only the fields loading reads key it."""
    from qaq.scoring import engine

    loads = []
    monkeypatch.setattr(engine, "load_scoring_model", lambda spec, config: loads.append((spec, config)) or object())
    base = engine.ScoringConfig(device="cpu", dtype="fp32")
    first = runs.scoring_model("m", engine.config_json(base))
    for other in (replace(base, max_length=256), replace(base, batch_tokens=1024), replace(base, compile="on"),
                  replace(base, padding_side="left")):
        assert runs.scoring_model(" m ", engine.config_json(other)) is first
    assert len(loads) == 1 and loads[0][1] == base
    assert runs.scoring_model("m", engine.config_json(replace(base, dtype="bf16"))) is not first
    assert len(loads) == 2


def test_load_fields_are_what_loading_reads(monkeypatch):
    from dataclasses import fields

    from qaq.scoring import backend, engine, models

    read = set()

    class Config:
        def __getattr__(self, name):
            read.add(name)
            return getattr(engine.ScoringConfig(), name)

    monkeypatch.setattr(models, "resolve_model", lambda spec: spec)
    monkeypatch.setattr(backend, "ScoringModel", lambda *a, **kw: None)
    engine.load_scoring_model("m", Config())
    assert read == set(runs.LOAD_FIELDS) and read <= {f.name for f in fields(engine.ScoringConfig)}


def test_keep_embeddings_starts_the_job_with_embed(pair, monkeypatch):
    """The checkbox passes --embed to a local job; with the Ray engine (which cannot embed) it is off."""
    from qaq.scoring import ray_engine

    monkeypatch.setattr(ray_engine, "ray_available", lambda: True)
    started = []

    def fake_start_job(request, *, jobs_dir=None):
        started.append(request)
        job_id = f"20260101-000000-embed{len(started)}"
        now = time.time()
        (jobs_dir / job_id).mkdir(parents=True)
        jobs.write_status(jobs_dir / job_id / jobs.STATUS_FILE, jobs.JobStatus(
            state="failed", id=job_id, request=request, started=now, updated=now, ended=now, error="stopped"))
        return job_id

    monkeypatch.setattr(jobs, "start_job", fake_start_job)
    at = open_app(*pair, page="score")
    no_exception(at)
    box = at.checkbox(key="score_embed")
    assert box.label == "Keep embeddings (for the Map page)" and box.value is False and not box.disabled
    at.button(key="start_job").click().run()
    at.checkbox(key="score_embed").check().run()
    at.button(key="start_job").click().run()
    no_exception(at)
    assert [r.embed for r in started] == [False, True]
    assert "--embed" in started[1].cli_args() and "--embed" not in started[0].cli_args()
    assert runs.job_status(at.session_state["job_id"]).request.embed is True
    at.radio(key="score_engine").set_value("ray").run()
    assert at.checkbox(key="score_embed").disabled

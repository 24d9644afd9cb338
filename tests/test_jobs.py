"""Background jobs: the typed status file, real `qaq score` jobs (finished, failed, killed), cancel, find."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from qaq import jobs
from qaq.cli import cli
from qaq.io.scorefile import load_scores
from qaq.jobs import JobStatus, ModelProgress, RayOptions, ScoreRequest, StatusError


def write_jsonl(path: Path, n: int) -> Path:
    rows = [{"id": f"r{i}", "instruction": f"Write a function number {i} that sorts a list." + " please" * (i % 4),
             "response": f"def f{i}(xs):\n    return sorted(xs)[{i}:]\n"} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def wait_for(job_id: str, jobs_dir: Path, until, timeout: float = 180) -> JobStatus:
    """Poll the job's status until ``until(status)`` holds; fail with the status and log at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = jobs.job_status(job_id, jobs_dir=jobs_dir)
        if until(status):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id}: {jobs.job_status(job_id, jobs_dir=jobs_dir)}\n"
                         f"{jobs.log_tail(job_id, jobs_dir=jobs_dir)}")


def tiny_request(data: Path, out: Path, model: Path, **options) -> ScoreRequest:
    return ScoreRequest(data=str(data), output=str(out), models={"t": str(model)}, device="cpu", dtype="fp32",
                        max_length=700, **options)


def status_of(state: str, **fields) -> JobStatus:
    return JobStatus(state=state, started=1000.0, updated=1001.0, **fields)


@pytest.fixture
def jobs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QAQ_CACHE_DIR", str(tmp_path / "cache"))  # the jobs inherit it
    return tmp_path / "jobs"


def _job_folder(jobs_dir: Path, job_id: str, status: JobStatus, log: str | None = None) -> Path:
    folder = jobs_dir / job_id
    folder.mkdir(parents=True)
    jobs.write_status(folder / jobs.STATUS_FILE, replace(status, id=job_id))
    if log is not None:
        (folder / jobs.LOG_FILE).write_text(log)
    return folder


def _exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --------------------------------------------------------------------------- real jobs

def test_a_real_job_finishes_with_its_output_and_rows(tiny_model_dir, jobs_dir, tmp_path, monkeypatch):
    data, out = write_jsonl(tmp_path / "d.jsonl", 12), tmp_path / "out" / "d.scores.parquet"
    out.parent.mkdir()
    request = tiny_request(data, out, tiny_model_dir, mapping={"query": "instruction", "answer": "response"})
    job = jobs.start_job(request, jobs_dir=jobs_dir)
    first = jobs.job_status(job, jobs_dir=jobs_dir)
    assert first.id == job and first.request == request and first.state in ("starting", "running", "finished")
    status = wait_for(job, jobs_dir, lambda s: not s.active)
    assert status.state == "finished", jobs.log_tail(job, jobs_dir=jobs_dir)
    assert (status.output, status.rows, status.error) == (str(out), 12, None)
    assert status.progress["t"].done == status.progress["t"].total == 12
    assert status.started <= status.updated == status.ended and isinstance(status.pid, int)
    assert len(load_scores(out)[0]) == 12
    monkeypatch.chdir(tmp_path)
    assert jobs.find_job("d.jsonl", jobs_dir=jobs_dir) == job  # compared as resolved paths
    # The state never comes from the log: emptied (or reworded), the job is still finished.
    (jobs_dir / job / jobs.LOG_FILE).write_text("")
    assert jobs.job_status(job, jobs_dir=jobs_dir) == status


def test_a_job_on_bad_input_fails_with_the_one_line_error(jobs_dir, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"instruction": "a", "response": "b"}\n{not json\n')
    job = jobs.start_job(ScoreRequest(data=str(data), output=str(tmp_path / "o.parquet"), models={"t": "unused"}),
                         jobs_dir=jobs_dir)
    status = wait_for(job, jobs_dir, lambda s: not s.active, timeout=60)
    assert status.state == "failed"
    assert status.error.startswith(f"{data}:2: invalid JSON") and "\n" not in status.error
    assert f"Error: {status.error}" in jobs.log_tail(job, jobs_dir=jobs_dir)  # what stderr said, too
    assert status.output is None and status.ended is not None


def test_a_sigkilled_job_reads_as_failed(tiny_model_dir, jobs_dir, tmp_path):
    data = write_jsonl(tmp_path / "big.jsonl", 300)
    job = jobs.start_job(tiny_request(data, tmp_path / "o.parquet", tiny_model_dir, batch_tokens=1),
                         jobs_dir=jobs_dir)
    running = wait_for(job, jobs_dir, lambda s: s.state == "running" or not s.active)
    assert running.state == "running", jobs.log_tail(job, jobs_dir=jobs_dir)
    os.killpg(running.pid, signal.SIGKILL)
    status = wait_for(job, jobs_dir, lambda s: not s.active, timeout=30)
    assert (status.state, status.error) == ("failed", jobs.STOPPED)
    assert jobs.read_status(jobs_dir / job / jobs.STATUS_FILE) == status  # recorded, not only reported
    assert not (tmp_path / "o.parquet").exists()


# --------------------------------------------------------------------------- state, without processes

@pytest.mark.parametrize(("state", "pid", "log", "expected"), [
    ("finished", None, None, "finished"),  # no log at all
    ("finished", "dead", "", "finished"),  # an empty log
    ("running", "dead", "t: 3 rows scored\nwrote o.parquet (3 rows)\n", "failed"),  # the old success line
    ("failed", "dead", "wrote o.parquet (3 rows)\n", "failed"),
    ("cancelled", "dead", "wrote o.parquet (3 rows)\n", "cancelled"),
])
def test_the_state_comes_from_the_status_file_never_from_the_log(jobs_dir, state, pid, log, expected):
    pid = _exited_pid() if pid == "dead" else pid
    _job_folder(jobs_dir, "20260101-000000-aaaaaa", status_of(state, pid=pid), log)
    status = jobs.job_status("20260101-000000-aaaaaa", jobs_dir=jobs_dir)
    assert status.state == expected
    assert status.error == (jobs.STOPPED if state == "running" else None)


def test_a_starting_job_whose_process_is_alive_is_starting(jobs_dir):
    _job_folder(jobs_dir, "20260101-000000-aaaaaa", status_of("starting", pid=os.getpid()))
    assert jobs.job_status("20260101-000000-aaaaaa", jobs_dir=jobs_dir).state == "starting"
    _job_folder(jobs_dir, "20260101-000000-bbbbbb", status_of("starting"))  # not started yet: no pid
    assert jobs.job_status("20260101-000000-bbbbbb", jobs_dir=jobs_dir).active


def test_status_round_trip(tmp_path):
    request = ScoreRequest(data="d/", output="s.parquet", models={"weak": "smollm2-135m", "strong": "/m/x"},
                           mapping={"query": "q", "id_field": ""}, dtype="bf16", max_length=512, batch_tokens=4096,
                           system="Be brief.", trust_remote_code=True, engine="ray",
                           ray=RayOptions(address="auto", gpus_per_worker=0.5, concurrency=2, rows_per_shard=64))
    status = JobStatus(state="running", started=1.5, updated=2.5, id="20260101-000000-aaaaaa", request=request,
                       pid=123, progress={"weak": ModelProgress(5, 10, 2.5, 2.0), "strong": ModelProgress(0, 10)})
    assert JobStatus.from_dict(json.loads(json.dumps(status.to_dict()))) == status
    jobs.write_status(tmp_path / "status.json", status)
    assert jobs.read_status(tmp_path / "status.json") == status
    finished = replace(status, state="finished", ended=3.0, output="s.parquet", rows=10, request=None)
    jobs.write_status(tmp_path / "status.json", finished)
    assert jobs.read_status(tmp_path / "status.json") == finished


def _good() -> dict:
    return status_of("running", progress={"t": ModelProgress(1, 2)}).to_dict()


@pytest.mark.parametrize(("content", "reason"), [
    ("{not json", "Expecting property name"),
    ("[1, 2]", "expected a JSON object"),
    ({**_good(), "format": "qaq-job-status/0"}, "format is 'qaq-job-status/0'"),
    ({**_good(), "state": "done"}, "state 'done' is not one of starting, running, finished, failed, cancelled"),
    ({k: v for k, v in _good().items() if k != "started"}, "field 'started': expected float, got None"),
    ({**_good(), "pid": "123"}, "field 'pid': expected int"),
    ({**_good(), "progress": {"t": {"done": "1", "total": 2}}}, "progress of 't': field 'done'"),
    ({**_good(), "progress": {"t": {"done": 1}}}, "progress of 't': field 'total'"),
    ({**_good(), "colour": "red"}, "unknown fields ['colour']"),
    ({**_good(), "request": {"data": "d", "output": "o"}}, "bad request"),
    ({**_good(), "request": {"data": "d", "output": "o", "models": {"t": "x"}, "engine": "spark"}}, "engine"),
])
def test_a_malformed_status_file_is_an_error_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "status.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(StatusError) as info:
        jobs.read_status(path)
    assert str(info.value).startswith(f"{path}: not a valid job status file: ")
    assert reason in str(info.value)


def test_a_missing_status_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        jobs.job_status("no-such-job", jobs_dir=tmp_path)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"models": {}}, "at least one model"),
    ({"models": {"a=b": "x"}}, "without '='"),
    ({"models": {"t": ""}}, "non-empty"),
    ({"mapping": {"colour": "c"}}, "unknown field options ['colour']"),
    ({"engine": "spark"}, "engine must be one of"),
    ({"ray": RayOptions()}, "ray options need 'ray'"),
])
def test_a_bad_request_is_refused_when_made(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ScoreRequest(**{"data": "d.jsonl", "output": "o.parquet", "models": {"t": "m"}, **kwargs})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"concurrency": 0}, "concurrency must be a positive integer, got 0"),
    ({"concurrency": 1.5}, "concurrency must be a positive integer"),
    ({"gpus_per_worker": 0}, "gpus_per_worker must be a positive number"),
    ({"rows_per_shard": True}, "rows_per_shard must be a positive integer"),
])
def test_bad_ray_options_are_refused_when_made(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RayOptions(**kwargs)


def test_request_arguments():
    request = ScoreRequest(data="-odd.jsonl", output="o.parquet", models={"a": "x", "b": "y"},
                           mapping={"query": "q", "id_field": None}, device="cpu", batch_tokens=8,
                           trust_remote_code=True, engine="ray", ray=RayOptions(address="auto", shards_dir="sh"))
    assert request.cli_args() == ["-m", "a=x", "-m", "b=y", "--query", "q", "--device", "cpu", "--batch-tokens", "8",
                                  "--trust-remote-code", "--engine", "ray", "--ray-address", "auto",
                                  "--shards-dir", "sh", "-o", "o.parquet", "--", "-odd.jsonl"]
    assert ScoreRequest(data="d", output="o", models={"t": "m"}, engine="ray").ray == RayOptions()


def test_embed_is_passed_on_and_older_requests_without_it_load():
    request = ScoreRequest(data="d.jsonl", output="o.parquet", models={"t": "m"}, embed=True)
    assert request.cli_args() == ["-m", "t=m", "--embed", "-o", "o.parquet", "--", "d.jsonl"]
    assert ScoreRequest.from_dict(json.loads(json.dumps(request.to_dict()))) == request
    older = {k: v for k, v in request.to_dict().items() if k != "embed"}  # a status file from before --embed
    assert ScoreRequest.from_dict(older).embed is False and "--embed" not in ScoreRequest.from_dict(older).cli_args()
    now = 1.0
    status = JobStatus(state="finished", started=now, updated=now, request=ScoreRequest.from_dict(older))
    assert JobStatus.from_dict({**status.to_dict(), "request": older}) == status
    with pytest.raises(StatusError, match="embed must be true or false, got 'yes'"):
        ScoreRequest.from_dict({**older, "embed": "yes"})


def test_find_job_finds_the_newest_job_of_the_data(tmp_path, monkeypatch):
    data, other = tmp_path / "d.jsonl", tmp_path / "other.jsonl"
    jobs_dir = tmp_path / "jobs"
    assert jobs.find_job(str(data), jobs_dir=jobs_dir) is None  # no jobs folder yet

    def job(job_id: str, path: Path | None) -> None:
        request = None if path is None else ScoreRequest(data=str(path), output="o.parquet", models={"t": "m"})
        _job_folder(jobs_dir, job_id, status_of("finished", request=request))

    job("20260101-000000-aaaaaa", data)
    job("20260102-000000-bbbbbb", data)
    job("20260103-000000-cccccc", other)
    job("20260104-000000-dddddd", None)  # a hand-run status: no request
    (jobs_dir / "20260105-000000-broken").mkdir()  # no status file
    (jobs_dir / "20260106-000000-bad").mkdir()
    (jobs_dir / "20260106-000000-bad" / jobs.STATUS_FILE).write_text("{}")  # malformed
    assert jobs.find_job(str(data), jobs_dir=jobs_dir) == "20260102-000000-bbbbbb"
    assert jobs.find_job(other, jobs_dir=jobs_dir) == "20260103-000000-cccccc"
    monkeypatch.chdir(tmp_path)
    assert jobs.find_job("./d.jsonl", jobs_dir=jobs_dir) == "20260102-000000-bbbbbb"
    assert jobs.find_job(str(tmp_path / "none.jsonl"), jobs_dir=jobs_dir) is None
    assert jobs.find_job(None, jobs_dir=jobs_dir) is None


def test_cancel_stops_a_running_job(tmp_path):
    jobs_dir = tmp_path / "jobs"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    try:
        _job_folder(jobs_dir, "20260101-000000-aaaaaa", status_of("running", pid=proc.pid))
        status = jobs.cancel_job("20260101-000000-aaaaaa", jobs_dir=jobs_dir)
        assert status.state == "cancelled" and status.ended is not None
        assert proc.wait(timeout=10) == -signal.SIGTERM
        assert jobs.job_status("20260101-000000-aaaaaa", jobs_dir=jobs_dir) == status
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_cancelled_job_stays_cancelled_unless_its_output_is_in_place(tmp_path):
    path = _job_folder(tmp_path, "20260101-000000-aaaaaa", status_of("starting")) / jobs.STATUS_FILE
    reporter = jobs.StatusReporter(path)  # the job's process takes over the status start_job wrote
    assert jobs.read_status(path).pid == os.getpid()
    reporter.progress("t", 3, 9)
    cancelled = replace(jobs.read_status(path), state="cancelled", ended=time.time())
    jobs.write_status(path, cancelled)  # as cancel_job writes it, just before its SIGTERM
    reporter.progress("t", 9, 9)  # reports written as SIGTERM arrives change nothing
    reporter.failed("KeyboardInterrupt")
    assert jobs.read_status(path) == cancelled
    reporter.finished("o.parquet", 9)
    assert jobs.read_status(path).state == "finished"


def test_cancel_leaves_a_final_job_as_it_is(tmp_path):
    jobs_dir = tmp_path / "jobs"
    _job_folder(jobs_dir, "20260101-000000-aaaaaa", status_of("finished", pid=os.getpid(), output="o", rows=3))
    before = jobs.job_status("20260101-000000-aaaaaa", jobs_dir=jobs_dir)
    assert jobs.cancel_job("20260101-000000-aaaaaa", jobs_dir=jobs_dir) == before  # and this process lives on


def test_reporter_progress_rates_and_final_states(tmp_path, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(time, "time", lambda: now[0])

    def at(t: float, report, *args) -> JobStatus:
        now[0] = t
        report(*args)
        return jobs.read_status(path)

    path = tmp_path / "status.json"
    reporter = jobs.StatusReporter(path)  # no status file yet (a hand-run qaq score)
    assert jobs.read_status(path) == JobStatus(state="starting", started=100.0, updated=100.0, pid=os.getpid())
    status = at(100.0, reporter.progress, "t", 4, 14)  # 4 rows from the cache: no speed yet
    assert (status.state, status.progress) == ("running", {"t": ModelProgress(4, 14)})
    assert at(102.0, reporter.progress, "t", 9, 14).progress == {"t": ModelProgress(9, 14, 2.5, 2.0)}  # 5 rows in 2 s
    assert at(102.1, reporter.progress, "t", 10, 14).progress["t"].done == 9  # too soon after the last write
    assert at(102.2, reporter.progress, "t", 14, 14).progress["t"].done == 14  # a model's last report is written
    status = at(103.0, reporter.progress, "u", 0, 5)  # the next model: its own rate
    assert list(status.progress) == ["t", "u"] and status.progress["u"] == ModelProgress(0, 5)
    final = at(104.0, reporter.finished, tmp_path / "o.parquet", 14)
    assert (final.state, final.output, final.rows, final.ended) == ("finished", str(tmp_path / "o.parquet"), 14, 104.0)
    assert at(105.0, reporter.failed, "late\nerror") == final  # a final status stays


def test_a_failure_is_recorded_on_one_line(tmp_path):
    reporter = jobs.StatusReporter(tmp_path / "status.json")
    reporter.failed("RayEngineError: the Ray run failed:\n  ValueError:   bad\n")
    assert jobs.read_status(tmp_path / "status.json").error == "RayEngineError: the Ray run failed: ValueError: bad"


def test_the_cli_records_its_errors_with_the_same_message_and_exit_code(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["score", str(bad), "-o", str(tmp_path / "o.parquet"), "--status-file",
                                 str(tmp_path / "s.json")])
    assert result.exit_code == 1
    status = jobs.read_status(tmp_path / "s.json")
    assert status.state == "failed" and status.request is None
    assert f"Error: {status.error}" in result.output and status.error.startswith(f"{bad}:1: invalid JSON")
    result = runner.invoke(cli, ["score", str(bad), "--engine", "ray", "--dry-run", "--status-file",
                                 str(tmp_path / "s2.json")])
    assert result.exit_code == 2  # a usage error stays one
    assert jobs.read_status(tmp_path / "s2.json").error == "--dry-run calibrates on this machine: use it without --engine ray"


# --------------------------------------------------------------------------- the log, for people

@pytest.mark.parametrize(("log", "line"), [
    ("", ""),
    ("\n  \n", ""),
    ("loading\nweak:  10%|#  | 5/50\rweak:  20%|##  | 10/50\r\n", "weak:  20%|##  | 10/50"),
    ("wrote `x`\n", "wrote 'x'"),
    ("y" * 300, "y" * 200),
])
def test_last_log_line(log, line):
    assert jobs.last_log_line(log) == line


def test_log_tail_shows_each_progress_bar_once(tmp_path):
    frames = "\r".join(f"t: {p:3d}%|{'#' * (p // 10):10s}| {p}/100" for p in range(0, 101, 5))
    _job_folder(tmp_path, "20260101-000000-aaaaaa", status_of("running"), f"loading\n{frames}\r\nwrote it\n")
    assert jobs.log_tail("20260101-000000-aaaaaa", jobs_dir=tmp_path) == (
        "loading\nt: 100%|##########| 100/100\nwrote it\n")
    assert jobs.log_tail("20260101-000000-aaaaaa", jobs_dir=tmp_path, chars=9) == "wrote it\n"
    assert jobs.log_tail("no-such-job", jobs_dir=tmp_path) == ""


def test_log_tail_keeps_the_last_frame_of_a_bar_that_writes_a_line_per_frame(tmp_path):
    """Issue 16: the job log printed every progress frame as a line."""
    per_line = "\n".join(f"Converting: {p:3d}%|{'#' * (p // 10):10s}| {p}/100" for p in range(0, 101, 10))
    redrawn = "\r".join(f"Loading weights: {p:3d}%|| {p}/100" for p in range(0, 101, 50))
    log = f"weak: loading\n{per_line}\n{redrawn}\r\nweak: 5 rows\nConverting:   0%|| 0/100\n"
    _job_folder(tmp_path, "20260101-000000-bbbbbb", status_of("finished"), log)
    assert jobs.log_tail("20260101-000000-bbbbbb", jobs_dir=tmp_path).splitlines() == [
        "weak: loading",
        "Converting: 100%|##########| 100/100",  # eleven lines, one bar: its last frame
        "Loading weights: 100%|| 100/100",  # another bar right after: a line of its own
        "weak: 5 rows",
        "Converting:   0%|| 0/100",  # the same bar again later (another model): kept
    ]

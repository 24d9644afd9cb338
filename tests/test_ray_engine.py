"""The ray engine: same table as the local engine, directories of shards, resume after a crash.

Tests marked slow start a local Ray instance on CPU (2 CPUs, no dashboard) once per module.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from datafiles import split_dir, write_jsonl

from qaq.cli import cli
from qaq.columns import score_columns
from qaq.io.datasets import load_dataset
from qaq.io.scorefile import load_scores, write_scores
from qaq.scoring.cache import ScoreCache, run_key
from qaq.scoring.engine import ScoringConfig, score_frame
from qaq.scoring.ray_engine import RayEngineError

FP32 = ScoringConfig(device="cpu", dtype="fp32", max_length=700, batch_tokens=2000)



def make_rows(n: int, *, ids: bool = True) -> list[dict]:
    words = ["sort", "list", "string", "parse", "json", "file", "sum", "graph", "tree", "regex"]
    rows = []
    for i in range(n):
        w1, w2 = words[i % 10], words[(i * 7 + 3) % 10]
        row = {"instruction": f"Write a function to {w1} a {w2} number {i}." + " please" * (i % 5),
               "response": f"def f{i}(x):\n    return {w1}(x) + {i}\n" + "# note\n" * (i % 7)}
        rows.append({"id": f"r{i}", **row} if ids else row)
    return rows



def assert_same_scores(ray_out: pd.DataFrame, local: pd.DataFrame) -> None:
    """Same columns in the same order, same dtypes, same ids, values within 1e-4 (fp32)."""
    assert list(ray_out.columns) == list(local.columns)
    assert ray_out.dtypes.equals(local.dtypes)
    assert ray_out["id"].tolist() == local["id"].tolist()
    pd.testing.assert_frame_equal(ray_out, local, check_exact=False, atol=1e-4, rtol=0)


# --------------------------------------------------------------------------- no Ray instance needed

def test_engine_ray_without_ray_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    monkeypatch.setitem(sys.modules, "ray.data", None)
    data = write_jsonl(tmp_path / "d.jsonl", make_rows(2))
    res = CliRunner().invoke(cli, ["score", str(data), "--engine", "ray", "-m", "t=x",
                                   "-o", str(tmp_path / "o.parquet")])
    assert res.exit_code != 0
    assert 'pip install "qaq[ray]"' in res.output and "Traceback" not in res.output


def test_importing_the_engine_imports_neither_ray_nor_torch():
    code = ("import sys, qaq.scoring.ray_engine, qaq.cli\n"
            "print(','.join(m for m in ('ray', 'torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_extra_and_makefile_install_ray():
    root = Path(__file__).resolve().parent.parent
    pyproject = (root / "pyproject.toml").read_text()
    assert 'ray = ["ray[data]' in pyproject
    makefile = root / "Makefile"
    if makefile.exists():
        assert '-e ".[dev,ray,hf]"' in makefile.read_text()


def test_local_engine_refuses_ray_options(tmp_path):
    d = split_dir(tmp_path / "shards", make_rows(4), 2)
    res = CliRunner().invoke(cli, ["score", str(d.with_suffix(".jsonl")), "-m", "t=x", "--ray-address", "auto",
                                   "-o", str(tmp_path / "o.parquet")])
    assert res.exit_code != 0 and "need --engine ray" in res.output


def test_the_ray_key_is_the_local_engines_key(tiny_model_dir):
    """The driver keys samples as the local engine does (identity, template, max_length, precision),
    from the tokenizer alone; settings that do not change scores stay out of the key."""
    from qaq.scoring.engine import load_scoring_model
    from qaq.scoring.models import resolve_model
    from qaq.scoring.ray_engine import model_run_key

    spec = str(tiny_model_dir)
    sm = load_scoring_model(spec, FP32)
    local = run_key(model_identity=sm.source.identity, template_sha256=sm.layout.sha256,
                    max_length=FP32.max_length, dtype=sm.precision)
    source = resolve_model(spec)
    assert model_run_key(source, FP32) == local
    assert model_run_key(source, replace(FP32, batch_tokens=9, padding_side="left", compile="off")) == local
    for changed in (replace(FP32, max_length=300), replace(FP32, dtype="bf16"), replace(FP32, template="plain"),
                    replace(FP32, system="Answer in French.")):
        assert model_run_key(source, changed) != local, changed


def test_the_precision_is_decided_on_the_driver_without_starting_ray():
    from qaq.scoring.hardware import choose_dtype
    from qaq.scoring.ray_engine import key_precision
    from qaq.scoring.ray_stages import Cluster

    with Cluster("ray://nowhere.invalid:1") as cluster:  # never contacted
        assert key_precision(replace(FP32, dtype="bf16", device="auto"), cluster) == "bf16"
        assert key_precision(replace(FP32, dtype="auto"), cluster) == choose_dtype("auto", "cpu")[0]
        assert cluster._ray is None


def test_a_numbered_gpu_is_refused(tmp_path):
    pytest.importorskip("ray.data", reason='Ray Data is not installed: pip install "qaq[ray]"')
    from qaq.scoring.ray_engine import score_with_ray

    with pytest.raises(RayEngineError, match="each actor sees its own GPU"):
        score_with_ray(tmp_path / "x.jsonl", {"t": "x"}, config=ScoringConfig(device="cuda:1"),
                       output=tmp_path / "o.parquet")


def test_the_stages_encode_as_the_model_and_refuse_another_template(tiny_model_dir):
    from qaq.scoring.cache import VALUE_FIELDS
    from qaq.scoring.models import resolve_model
    from qaq.scoring.ray_stages import Score, Tokenize

    spec = str(tiny_model_dir)
    identity = resolve_model(spec).identity
    rows = make_rows(6)
    batch = pd.DataFrame({"unit": 0, "key": [f"k{i}" for i in range(len(rows))],
                          "query": [r["instruction"] for r in rows], "answer": [r["response"] for r in rows]})
    scorer = Score(spec, identity, FP32)
    tokens = Tokenize(spec, identity, FP32)(batch)
    assert (tokens["encoder"] == scorer.sm.encoder.fingerprint).all()
    enc = scorer.sm.encoder
    laid_out = [enc.encode_ids(q, a, max_length=FP32.max_length) for q, a in zip(tokens["q_ids"], tokens["a_ids"])]
    assert laid_out == enc.encode_many(batch["query"].tolist(), batch["answer"].tolist(), max_length=FP32.max_length)
    out = scorer(tokens)
    assert out["key"].tolist() == batch["key"].tolist() and out[list(VALUE_FIELDS)].notna().all().all()
    # Same tokenizer, another layout: the scoring stage stops instead of scoring mislaid ids.
    plain = Tokenize(spec, identity, replace(FP32, template="plain"))(batch)
    with pytest.raises(RayEngineError, match="tokenizer or template"):
        scorer(plain)


# --------------------------------------------------------------------------- on a local Ray instance

@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason='Ray is not installed: pip install "qaq[ray]"')
    pytest.importorskip("ray.data", reason='Ray Data is not installed: pip install "qaq[ray]"')
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_ray_equals_local_engine_on_tiny_model(ray_cluster, tiny_model_dir, tmp_path):
    from qaq.scoring.ray_engine import score_with_ray

    rows = make_rows(23)
    rows[5]["response"] = "   "  # skipped: a row with empty scores, never dropped
    rows[9] = {**rows[2], "id": "r9"}  # a repeated pair: scored once, both rows filled
    d = split_dir(tmp_path / "shards", rows, 2)
    local = score_frame(load_dataset(d.with_suffix(".jsonl")), {"t": str(tiny_model_dir)}, config=FP32)
    out_path = tmp_path / "scores.parquet"
    got = score_with_ray(d, {"t": str(tiny_model_dir)}, config=FP32, output=out_path, rows_per_shard=4)
    assert_same_scores(got, local)
    assert got.loc[5, score_columns("t")].isna().all() and got.loc[9, "t_rmi"] == got.loc[2, "t_rmi"]
    write_scores(local, tmp_path / "local.parquet", local.attrs["qaq_run"])
    back, meta = load_scores(out_path)
    assert_same_scores(back, load_scores(tmp_path / "local.parquet")[0])  # the files, too
    assert meta["engine"] == "ray" and meta["models"]["t"]["rows_scored"] == 22
    assert meta["models"]["t"]["template_sha256"] == local.attrs["qaq_run"]["models"]["t"]["template_sha256"]
    assert meta["ray"]["models"]["t"]["units"] == len(list((tmp_path / "scores.parquet.shards").glob("*.parquet"))) == 6

    again = score_with_ray(d, {"t": str(tiny_model_dir)}, config=FP32, output=out_path, rows_per_shard=4)
    assert again.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 0  # every shard done: no Ray work
    pd.testing.assert_frame_equal(again, got)


@pytest.mark.slow
def test_the_engines_reuse_each_others_work_through_the_score_cache(ray_cluster, tiny_model_dir, tmp_path):
    from qaq.scoring.ray_engine import score_with_ray

    spec = {"t": str(tiny_model_dir)}
    rows = make_rows(20)
    d = split_dir(tmp_path / "parts", rows, 2)  # files of rows 0-9 and 10-19
    everything = load_dataset(d.with_suffix(".jsonl"))
    fresh = score_frame(everything, spec, config=FP32)  # no cache: the reference
    with ScoreCache(tmp_path / "cache") as cache:
        first = score_frame(load_dataset(write_jsonl(tmp_path / "first.jsonl", rows[:8])), spec, config=FP32,
                            cache=cache)
        assert first.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 8
        # Ray reuses the local engine's 8 rows and scores the other 12...
        got = score_with_ray(d, spec, config=FP32, shards_dir=tmp_path / "shards", rows_per_shard=4, cache=cache)
        meta = got.attrs["qaq_run"]
        assert (meta["models"]["t"]["rows_scored"], meta["ray"]["models"]["t"]["rows_from_cache"]) == (12, 8)
        assert_same_scores(got, fresh)
        # ... and the local engine reuses Ray's 12: nothing left to score.
        local = score_frame(everything, spec, config=FP32, cache=cache)
        assert local.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 0
        pd.testing.assert_frame_equal(local[list(got.columns)], got)
    with ScoreCache(tmp_path / "other-cache") as other:
        # A new cache: the finished shards (rows 8-19) fill it, only rows 0-7 go to Ray.
        again = score_with_ray(d, spec, config=FP32, shards_dir=tmp_path / "shards", rows_per_shard=4, cache=other)
        assert again.attrs["qaq_run"]["models"]["t"]["rows_scored"] == 8
        assert len(other) == 20
        assert score_frame(everything, spec, config=FP32, cache=other).attrs["qaq_run"]["models"]["t"]["rows_scored"] == 0
    assert_same_scores(again, fresh)


@pytest.mark.slow
def test_ray_equals_local_engine_on_embedded_weak_model(ray_cluster, tmp_path):
    from qaq.scoring.ray_engine import score_with_ray

    rows = [{"id": f"s{i}", "instruction": q, "response": a} for i, (q, a) in enumerate([
        ("Reverse a string in Python.", "def rev(s):\n    return s[::-1]"),
        ("Sum a list of numbers.", "total = sum(xs)"),
        ("Read a JSON file into a dict.", "import json\nwith open(p) as f:\n    d = json.load(f)"),
        ("Count words in a sentence.", "len(s.split())"),
        ("Square every item of a list.", "[x * x for x in xs]"),
        ("Sort dicts by the 'age' key.", "sorted(rows, key=lambda r: r['age'])"),
        ("Check whether n is prime.", "all(n % k for k in range(2, int(n ** 0.5) + 1)) and n > 1"),
        ("Write hello to a file.", "open('f.txt', 'w').write('hello')"),
        ("Get the maximum of two numbers.", "max(a, b)"),
        ("Lower-case a string.", "s.lower()"),
    ])]
    data = load_dataset(write_jsonl(tmp_path / "d.jsonl", rows))
    config = ScoringConfig(device="cpu", dtype="fp32", max_length=256)
    local = score_frame(data, {"weak": "smollm2-135m"}, config=config)
    got = score_with_ray(tmp_path / "d.jsonl", {"weak": "smollm2-135m"}, config=config,
                         shards_dir=tmp_path / "shards", rows_per_shard=5)
    assert_same_scores(got, local)
    assert got["weak_rmi"].notna().all()


@pytest.mark.slow
def test_an_actor_that_fails_stops_the_run_with_its_message(ray_cluster, tiny_plain_model_dir, tmp_path):
    """The driver reads the tokenizer and config only; weights that cannot be read fail in the actors."""
    import shutil

    from qaq.scoring.ray_engine import score_with_ray

    broken = Path(shutil.copytree(tiny_plain_model_dir, tmp_path / "broken"))
    for weights in broken.glob("*.safetensors"):
        weights.write_bytes(b"not a safetensors file")
    data = write_jsonl(tmp_path / "d.jsonl", make_rows(3))
    with pytest.raises(RayEngineError, match=r"(?s)Ray run failed \(0 of 1 shards.*"):
        score_with_ray(data, {"p": str(broken)}, config=FP32, output=tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()


def test_a_template_the_model_lacks_is_refused_before_ray_starts(tiny_plain_model_dir, tmp_path):
    pytest.importorskip("ray.data", reason='Ray Data is not installed: pip install "qaq[ray]"')
    from qaq.scoring.ray_engine import score_with_ray
    from qaq.scoring.templates import TemplateError

    data = write_jsonl(tmp_path / "d.jsonl", make_rows(3))
    chat = ScoringConfig(device="cpu", dtype="fp32", template="chat")  # the model has no chat template
    with pytest.raises(TemplateError, match="no chat template"):
        score_with_ray(data, {"p": str(tiny_plain_model_dir)}, config=chat, output=tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.slow
def test_job_killed_mid_run_resumes_with_only_the_missing_shards(ray_cluster, tiny_model_dir, tmp_path, monkeypatch):
    """The app's path: start_ray_job on a running cluster, poll its progress, cancel it (SIGTERM to the
    driver), start it again: the rerun scores only the shards the first run did not finish."""
    from qaq.jobs import RayOptions, ScoreRequest, cancel_job, log_tail
    from qaq.scoring.ray_engine import start_ray_job

    address = ray_cluster.get_runtime_context().gcs_address
    n = 64  # two files of 32 rows: 16 shards of 4 rows
    d = split_dir(tmp_path / "shards", make_rows(n), 2)
    jobs_dir = tmp_path / "jobs"

    def request(shards: Path, out: Path) -> ScoreRequest:
        return ScoreRequest(data=str(d), output=str(out), models={"t": str(tiny_model_dir)}, device="cpu",
                            dtype="fp32", max_length=700, batch_tokens=1, engine="ray",
                            ray=RayOptions(address=address, concurrency=1, shards_dir=str(shards), rows_per_shard=4))

    for attempt in range(3):
        shards, out = tmp_path / f"done-{attempt}", tmp_path / f"scores-{attempt}.parquet"
        monkeypatch.setenv("QAQ_CACHE_DIR", str(tmp_path / f"cache-{attempt}"))  # the job's score cache
        job = start_ray_job(request(shards, out), jobs_dir=jobs_dir)
        status = _wait(job, jobs_dir, lambda s: not s.active or ("t" in s.progress and s.progress["t"].done >= 8))
        cancel_job(job, jobs_dir=jobs_dir)
        _wait(job, jobs_dir, lambda s, job=job: not _group_alive(job, jobs_dir), timeout=60)
        kept = {p.name: p.stat().st_mtime_ns for p in shards.glob("*.parquet")}
        if status.state == "running" and 0 < len(kept) < n // 4:
            break
    else:
        pytest.fail("could not cancel the job mid-way")
    assert _wait(job, jobs_dir, lambda s: True).state == "cancelled"
    assert not out.exists()  # nothing half-written
    for p in shards.glob("*.parquet"):
        load_scores(p)  # every shard left behind is whole

    job = start_ray_job(request(shards, out), jobs_dir=jobs_dir)
    status = _wait(job, jobs_dir, lambda s: not s.active)
    assert status.state == "finished", log_tail(job, jobs_dir=jobs_dir)
    assert (status.output, status.rows, status.request) == (str(out), n, request(shards, out))
    # A finished unit is in the cache and in its shard (or only in its shard, killed between the two).
    counts = re.search(r"t: (\d+) rows scored, (\d+) from the score cache, (\d+) from shards", log_tail(job, jobs_dir=jobs_dir))
    assert counts, log_tail(job, jobs_dir=jobs_dir)
    scored, from_cache, from_shards = map(int, counts.groups())
    assert (scored, from_cache + from_shards) == (n - 4 * len(kept), 4 * len(kept))
    assert status.progress["t"].done == status.progress["t"].total == n
    assert {p.name: p.stat().st_mtime_ns for p in shards.glob("*.parquet") if p.name in kept} == kept  # not redone
    assert len(list(shards.glob("*.parquet"))) == n // 4
    local = score_frame(load_dataset(d.with_suffix(".jsonl")), {"t": str(tiny_model_dir)}, config=FP32)
    write_scores(local, tmp_path / "local.parquet", local.attrs["qaq_run"])
    assert_same_scores(load_scores(out)[0], load_scores(tmp_path / "local.parquet")[0])


def test_start_ray_job_starts_a_ray_request_as_a_job(tmp_path, monkeypatch):
    """No cluster needed: the request goes to qaq.jobs.start_job as it is; a local request is refused."""
    from qaq import jobs
    from qaq.scoring.ray_engine import start_ray_job

    started = []
    monkeypatch.setattr(jobs, "start_job", lambda request, *, jobs_dir=None: started.append((request, jobs_dir)) or "id")
    request = jobs.ScoreRequest(data="d/", output="o.parquet", models={"t": "m"}, engine="ray",
                                ray=jobs.RayOptions(address="auto", gpus_per_worker=0.5))
    assert start_ray_job(request, jobs_dir=tmp_path) == "id"
    assert started == [(request, tmp_path)]
    assert request.cli_args() == ["-m", "t=m", "--engine", "ray", "--ray-address", "auto", "--gpus-per-worker", "0.5",
                                  "-o", "o.parquet", "--", "d/"]
    with pytest.raises(ValueError, match="use qaq.jobs.start_job"):
        start_ray_job(replace(request, engine="local", ray=None))


def _wait(job_id: str, jobs_dir: Path, until, timeout: float = 240):
    from qaq.jobs import job_status

    t0 = time.time()
    while time.time() - t0 < timeout:
        status = job_status(job_id, jobs_dir=jobs_dir)
        if until(status):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} timed out: {job_status(job_id, jobs_dir=jobs_dir)}")


def _group_alive(job_id: str, jobs_dir: Path) -> bool:
    """Whether a process of the job's process group is still running (zombies do not count: the job's
    parent, this test, never reaps it)."""
    from qaq.jobs import STATUS_FILE, read_status

    pgid = read_status(jobs_dir / job_id / STATUS_FILE).pid
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue
        if int(pgrp) == pgid and state != "Z":
            return True
    return False

"""Tests for qaq.app.score_setup: the device, the models and the ScoreRequest of a scoring job (Score page)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from app_workspaces import NAN, ws_of

from qaq import jobs
from qaq.app import score_setup
from qaq.scoring import engine, estimate
from qaq.scoring.engine import ScoringConfig


def test_device_summary_on_cpu_and_on_cuda(monkeypatch):
    from qaq.scoring import hardware

    monkeypatch.setattr(hardware, "choose_device", lambda spec: ("cpu", "auto: no CUDA or MPS device"))
    monkeypatch.setattr(hardware, "cpu_info", lambda: hardware.CpuInfo("AMD EPYC", "x86_64", "", 16))
    assert score_setup.device_summary() == {
        "device": "cpu", "reason": "auto: no CUDA or MPS device", "dtype": "fp32",
        "dtype_reason": "auto: AMD EPYC has no native bf16 (it would be emulated, slower than fp32)",
        "cpu": "AMD EPYC", "cpus": 16, "cpu_bf16": "", "gpus": []}
    monkeypatch.setattr(hardware, "cpu_info", lambda: hardware.CpuInfo("Xeon", "x86_64", "AMX", 2))
    assert score_setup.device_summary()["dtype"] == "bf16"

    monkeypatch.setattr(hardware, "choose_device", lambda spec: ("cuda", "a CUDA device is available"))
    monkeypatch.setattr(hardware, "choose_dtype", lambda dtype, device: ("bf16", "auto: the GPU supports bf16"))
    monkeypatch.setattr(score_setup.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    calls = []

    def run(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout="NVIDIA H100, 81559 MiB\n\n")

    monkeypatch.setattr(score_setup.subprocess, "run", run)
    assert score_setup.device_summary()["gpus"] == ["NVIDIA H100, 81559 MiB"]
    assert calls[0][0] == "nvidia-smi"

    def broken(cmd, **kw):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(score_setup.subprocess, "run", broken)
    assert score_setup.device_summary()["gpus"] == []


def test_scoring_config_from_metadata_and_overrides():
    meta = {"config": {"max_length": 512, "template": "plain", "not_a_field": 1}}
    assert engine.scoring_config(meta, device="cpu") == ScoringConfig(max_length=512, template="plain", device="cpu")
    assert engine.scoring_config(meta, max_length=64).max_length == 64  # an override wins
    assert engine.scoring_config() == ScoringConfig()
    text = engine.config_json(ScoringConfig(max_length=300))
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert ScoringConfig(**json.loads(text)) == ScoringConfig(max_length=300)


def test_model_spec():
    meta = {"models": {"weak": {"spec": "/models/tiny"}, "strong": {"spec": "synthetic-strong"}, "x": {}}}
    ws = ws_of(meta=meta)
    assert score_setup.model_spec(ws, "weak") == "/models/tiny"
    assert score_setup.model_spec(ws, "strong") == "gemma3-270m"  # synthetic scores: the role's default
    assert score_setup.model_spec(ws, "x") is None


def test_score_request_carries_models_mapping_and_options():
    request = score_setup.score_request(
        "d.jsonl", {"weak": "smollm2-135m", "strong": "/m/big"},
        {"query": "instruction", "answer": "output", "input_field": None, "id_field": ""},
        output=Path("/out/d.scores.parquet"), device="cpu", dtype="fp32", max_length=512, batch_tokens=2048,
        compile_mode="off")
    assert request == jobs.ScoreRequest(
        data="d.jsonl", output="/out/d.scores.parquet", models={"weak": "smollm2-135m", "strong": "/m/big"},
        mapping={"query": "instruction", "answer": "output", "id_field": ""}, device="cpu", dtype="fp32",
        max_length=512, batch_tokens=2048, compile="off")
    assert request.engine == "local" and request.ray is None
    # Options the page leaves out are qaq score's defaults: they are not passed at all.
    plain = score_setup.score_request("d.jsonl", {"weak": "w"}, None, output="o.parquet")
    assert plain.cli_args() == ["-m", "weak=w", "-o", "o.parquet", "--", "d.jsonl"]


def test_score_request_keeps_embeddings_when_asked():
    request = score_setup.score_request("d.jsonl", {"weak": "w"}, None, output="o.parquet", embed=True)
    assert request.embed and request.cli_args() == ["-m", "weak=w", "--embed", "-o", "o.parquet", "--", "d.jsonl"]
    assert not score_setup.score_request("d.jsonl", {"weak": "w"}, None, output="o.parquet").embed


def test_score_request_for_a_ray_cluster():
    request = score_setup.score_request("d.jsonl", {"weak": "smollm2-135m"}, {"query": "instruction"},
                                        output="o.parquet", engine="ray", address=" ", gpus_per_worker=0.5, dtype="bf16")
    assert request.engine == "ray"
    assert request.ray == jobs.RayOptions(address="auto", gpus_per_worker=0.5)  # blank address: auto
    assert request.dtype == "bf16" and request.mapping == {"query": "instruction"}
    assert score_setup.score_request("d.jsonl", {"w": "x"}, {}, output="o", engine="ray",
                                     address="ray://h:10001").ray.address == "ray://h:10001"
    on_cpus = score_setup.score_request("d.jsonl", {"w": "x"}, {}, output="o", engine="ray", device="auto",
                                        gpus_per_worker=0)  # the page's "0 GPUs per worker"
    assert on_cpus.device == "cpu" and on_cpus.ray.gpus_per_worker is None


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "unknown"), (float("inf"), "unknown"), (NAN, "unknown"), (0, "0 s"), (89.4, "89 s"),
    (90, "2 min"), (5399, "90 min"), (5400, "1.5 h"), (36000, "10.0 h"),
])
def test_duration(seconds, text):
    assert estimate.duration_text(seconds) == text

"""benchmarks/bench_gpu.py runs its whole path on a CPU with a tiny random architecture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qaq.scoring.hardware import choose_dtype

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_gpu.py"


@pytest.mark.slow  # loads the embedded SmolLM2 tokenizer from its GGUF file
@pytest.mark.parametrize("pack", ["off", "on"])
def test_bench_gpu_on_cpu(tmp_path, pack):
    out = tmp_path / "gpu.json"
    cmd = [sys.executable, str(SCRIPT), "--device", "cpu", "--dtype", "fp32", "--arch", "tiny", "--models", "",
           "--rows", "24", "--runs", "1", "--batch-tokens", "4096", "--pack", pack, "--peak-tflops", "1",
           "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (r,) = json.loads(out.read_text())
    assert r["model"] == "random:tiny" and r["rows"] == 24 and r["packed"] is (pack == "on")
    seconds = sorted(r["seconds"])[len(r["seconds"]) // 2]
    assert r["tokens_per_s"] == pytest.approx(r["tokens"] / seconds, rel=0.01)
    assert r["mfu"] == pytest.approx(2 * r["parameters"] * r["tokens"] / seconds / 1e12, rel=0.01)
    if pack == "on":
        assert r["padded_fraction"] == 0
    else:  # length-sorted batches: some padding, but little
        assert 0 < r["padded_fraction"] < 0.5


@pytest.mark.slow  # reads the embedded SmolLM2 GGUF file once to write its shape
def test_saved_shape_times_a_random_copy_and_checks_the_reference(tmp_path):
    shapes = tmp_path / "shapes"
    save = subprocess.run([sys.executable, str(SCRIPT), "--save-shapes", str(shapes), "--models", "smollm2-135m"],
                          capture_output=True, text=True, timeout=900)
    assert save.returncode == 0, save.stderr[-3000:]
    shape = shapes / "smollm2-135m"
    assert (shape / "config.json").is_file() and (shape / "tokenizer.json").is_file()
    assert not list(shape.glob("*.safetensors")) and not list(shape.glob("*.gguf"))  # no weights travel
    out = tmp_path / "gpu.json"
    # The dtype this CPU runs fast: bf16 where it is native; emulated, the 134M-parameter copy would
    # take ten minutes in bf16, so elsewhere it runs in fp32 (and its drift from fp32 is nil).
    dtype, _ = choose_dtype("auto", "cpu")
    cmd = [sys.executable, str(SCRIPT), "--device", "cpu", "--dtype", dtype, "--arch", f"tiny,{shape}",
           "--tokenizer", str(shape), "--models", "", "--rows", "6", "--runs", "1", "--batch-tokens", "4096",
           "--check-rows", "3", "--peak-tflops", "1", "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    tiny, copy = json.loads(out.read_text())
    assert (tiny["model"], copy["model"]) == ("random:tiny", "random:smollm2-135m")
    assert copy["parameters"] == 134_515_008  # SmolLM2-135M's own count: the shape came through whole
    for r in (tiny, copy):
        assert r["check_rows"] == 3
        assert r["fp32_vs_reference_max_abs"] < 1e-4  # the fast path equals the naive reference
        drift = r[f"{dtype}_vs_fp32_max_abs"]
        assert (0 < drift < 0.1) if dtype == "bf16" else drift < 1e-5

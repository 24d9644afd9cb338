"""Device and dtype policy: what qaq picks on each kind of CPU, and what it says about it."""

from __future__ import annotations

import pytest

from qaq.scoring import hardware
from qaq.scoring.hardware import CpuInfo, HardwareError, choose_device, choose_dtype, parse_cpuinfo

AMD = CpuInfo("AMD EPYC", "x86_64", "", 2)
XEON = CpuInfo("Intel(R) Xeon(R) Platinum 8488C", "x86_64", "AMX", 2)
GRAVITON = CpuInfo("aarch64 (implementer 0x41)", "aarch64", "ARM BF16", 2)


@pytest.fixture
def cpu(monkeypatch):
    def use(info: CpuInfo) -> None:
        monkeypatch.setattr(hardware, "cpu_info", lambda: info)

    return use


def test_cpuinfo_flags_name_the_native_bf16_kind():
    assert parse_cpuinfo("model name : X\nflags : avx2 avx512f avx512_bf16\n", "x86_64") == ("X", "AVX512-BF16")
    assert parse_cpuinfo("model name : X\nflags : avx2 amx_tile amx_bf16 avx512_bf16\n", "x86_64") == ("X", "AMX")
    assert parse_cpuinfo("model name : AMD EPYC\nflags : avx2 fma\n", "x86_64") == ("AMD EPYC", "")
    # ARM names its features "Features"; "bf16" there is an x86 flag name too, but only counts on ARM.
    assert parse_cpuinfo("Features : fp asimd bf16\n", "aarch64")[1] == "ARM BF16"
    assert parse_cpuinfo("model name : Y\nflags : bf16\n", "x86_64")[1] == ""
    # Only the first processor's block counts (every block repeats the same fields).
    two = "model name : A\nflags : avx2\n\nmodel name : B\nflags : amx_bf16\n"
    assert parse_cpuinfo(two, "x86_64") == ("A", "")


def test_this_machine_is_described():
    info = hardware.cpu_info()
    assert info.model and info.arch and info.threads >= 1
    assert info.kind.startswith(info.model)
    described = hardware.describe_machine()
    assert described["cpu"]["model"] == info.model and described["dtype"] in ("bf16", "fp32", "fp16")
    assert described["torch_cpu_capability"] not in ("", "unknown")


@pytest.mark.parametrize(("info", "dtype", "reason"), [
    (AMD, "fp32", "no native bf16"),
    (XEON, "bf16", "natively (AMX)"),
    (GRAVITON, "bf16", "natively (ARM BF16)"),
])
def test_auto_dtype_follows_what_the_cpu_runs_natively(cpu, info, dtype, reason):
    cpu(info)
    got, why = choose_dtype("auto", "cpu")
    assert got == dtype and reason in why


def test_explicit_dtypes_and_their_errors(cpu):
    cpu(AMD)
    for dtype in ("bf16", "bf16-mixed", "fp16", "fp32"):
        assert choose_dtype(dtype, "cpu") == (dtype, "as requested")
    with pytest.raises(HardwareError, match="expected one of auto, bf16"):
        choose_dtype("int4", "cpu")
    with pytest.raises(HardwareError, match="bf16-mixed is a CPU mode"):
        choose_dtype("bf16-mixed", "cuda:0")


def test_emulated_bf16_warns_with_the_factor_timed_here(cpu):
    cpu(XEON)
    assert hardware.emulated_bf16_warning("bf16") is None  # native: nothing to say
    cpu(AMD)
    assert hardware.emulated_bf16_warning("fp32") is None
    text = hardware.emulated_bf16_warning("bf16")
    assert text is not None and "AMD EPYC" in text and "slower than fp32 here" in text
    assert "x slower" in text and "GFLOP/s" in text and "dtype auto picks fp32" in text


def test_matmul_rates_time_each_dtype():
    rates = hardware.matmul_rates(("fp32", "bf16"), shape=(64, 64, 64), seconds=0.01)
    assert set(rates.gflops) == {"fp32", "bf16"} and all(v > 0 for v in rates.gflops.values())
    assert rates.ratio("fp32", "bf16") == rates.gflops["fp32"] / rates.gflops["bf16"]


def test_devices_that_are_not_here_are_errors():
    import torch

    assert choose_device("cpu") == ("cpu", "as requested")
    auto, why = choose_device("auto")
    assert why.startswith("auto:")
    if not torch.cuda.is_available():
        assert auto in ("cpu", "mps")
        with pytest.raises(HardwareError, match="CUDA is not available"):
            choose_device("cuda:1")
    if not torch.backends.mps.is_available():
        with pytest.raises(HardwareError, match="MPS is not available"):
            choose_device("mps")
    with pytest.raises(HardwareError, match="expected one of auto, cpu"):
        choose_device("tpu")

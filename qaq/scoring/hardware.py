"""What the machine runs fast: CPU kind, accelerators, and the device and dtype qaq picks there.

CPUs differ by more than speed. On an Intel Xeon with AMX or AVX512-BF16, bf16 matmuls run
several times faster than fp32; on a CPU without native bf16 (AVX2-only x86, most ARM cores)
PyTorch emulates bf16 and it runs several times *slower* than fp32 (2-core AMD EPYC, AVX2,
torch 2.13: 19.6 vs 156 GFLOP/s on a 2048x576x1536 matmul). So the dtype default follows what
the CPU does natively, and asking for bf16 where it is emulated gets a warning with the factor
measured there and then (:func:`matmul_rates`).

The CPU facts come from ``/proc/cpuinfo`` (Linux) or ``sysctl`` (macOS) and need no torch;
torch is imported only by the functions that ask it (accelerators, capability, timing).
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
Dtype = Literal["auto", "bf16", "bf16-mixed", "fp16", "fp32"]
DTYPES: tuple[str, ...] = get_args(Dtype)  # what --dtype takes (CLI, app, library)


class HardwareError(RuntimeError):
    """A device or dtype that this machine cannot run as asked."""


@dataclass(frozen=True)
class CpuInfo:
    """The facts about this CPU that decide qaq's defaults.

    Attributes:
        model: the CPU's model name (e.g. ``AMD EPYC``, ``Intel(R) Xeon(R) Platinum 8488C``).
        arch: ``platform.machine()`` (``x86_64``, ``aarch64``, ``arm64``).
        bf16: the CPU's native bf16 matmul support, ``AMX``, ``AVX512-BF16``, ``ARM BF16`` or
            ``""`` when bf16 would be emulated.
        threads: the CPU threads this process may use (its affinity).
    """

    model: str
    arch: str
    bf16: str
    threads: int

    @property
    def native_bf16(self) -> bool:
        return bool(self.bf16)

    @property
    def kind(self) -> str:
        """One phrase for figures and logs, e.g. ``AMD EPYC, x86_64, no native bf16``."""
        native = f"native bf16 ({self.bf16})" if self.bf16 else "no native bf16"
        return f"{self.model}, {self.arch}, {native}"


def _flags_bf16(flags: set[str], arch: str) -> str:
    if "amx_bf16" in flags:
        return "AMX"
    if "avx512_bf16" in flags:
        return "AVX512-BF16"
    if arch in ("aarch64", "arm64") and "bf16" in flags:
        return "ARM BF16"
    return ""


def parse_cpuinfo(text: str, arch: str) -> tuple[str, str]:
    """(model name, native bf16 kind) from the text of ``/proc/cpuinfo``.

    >>> parse_cpuinfo("model name\\t: AMD EPYC\\nflags\\t\\t: fpu avx2 fma\\n", "x86_64")
    ('AMD EPYC', '')
    >>> parse_cpuinfo("model name : Xeon\\nflags : avx2 avx512_bf16 amx_bf16\\n", "x86_64")
    ('Xeon', 'AMX')
    >>> parse_cpuinfo("CPU implementer : 0x41\\nFeatures : fp asimd sve bf16\\n", "aarch64")
    ('aarch64 (implementer 0x41)', 'ARM BF16')
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    model = fields.get("model name") or fields.get("Model name") or ""
    if not model and "CPU implementer" in fields:
        model = f"{arch} (implementer {fields['CPU implementer']})"
    return model or arch, _flags_bf16(flags, arch)


@functools.lru_cache(maxsize=1)
def cpu_info() -> CpuInfo:
    """This machine's CPU (read once per process)."""
    arch = platform.machine()
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            model, bf16 = parse_cpuinfo(fh.read(), arch)
    except OSError:
        model, bf16 = _sysctl("machdep.cpu.brand_string") or platform.processor() or arch, ""
        # Apple silicon reports FEAT_BF16, but PyTorch's CPU kernels there are not known to use it
        # (no Mac was measured): stay with fp32 on the CPU and use the GPU (MPS) for half precision.
    return CpuInfo(model=model, arch=arch, bf16=bf16, threads=max(1, threads))


def _sysctl(name: str) -> str:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def torch_capability() -> str:
    """The SIMD level PyTorch's CPU kernels run at here (``AVX2``, ``AVX512``, ``DEFAULT`` ...)."""
    import torch

    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except AttributeError:  # torch older than 2.1
        return "unknown"


def choose_device(requested: str = "auto") -> tuple[str, str]:
    """Pick the device and say why: ``auto`` takes CUDA, then Apple MPS, then the CPU.

    Returns:
        (device, reason), e.g. ``("cuda:0", "auto: CUDA is available (NVIDIA H100)")``.

    Raises:
        HardwareError: a device this machine does not have, or a malformed name.
    """
    import torch

    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda:0", f"auto: CUDA is available ({torch.cuda.get_device_name(0)})"
        if has_mps:
            return "mps", "auto: no CUDA device; Apple MPS is available"
        return "cpu", "auto: no CUDA or MPS device"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise HardwareError(f"device {requested}: CUDA is not available on this machine")
        index_text = requested.split(":", 1)[1] if ":" in requested else "0"
        if not index_text.isdigit():
            raise HardwareError(f"device {requested!r}: expected cuda or cuda:N")
        index = int(index_text)
        if index >= torch.cuda.device_count():
            raise HardwareError(f"device {requested}: only {torch.cuda.device_count()} CUDA device(s)")
        return f"cuda:{index}", "as requested"
    if requested == "mps":
        if not has_mps:
            raise HardwareError("device mps: Apple MPS is not available on this machine")
        return "mps", "as requested"
    if requested == "cpu":
        return "cpu", "as requested"
    raise HardwareError(f"device {requested!r}: expected one of {', '.join(DEVICES)}")


def device_kind(device: str) -> str:
    """``cpu``, ``cuda`` or ``mps``: the family a device name belongs to."""
    return device.split(":", 1)[0]


def choose_dtype(requested: str, device: str) -> tuple[str, str]:
    """Pick the compute dtype and say why.

    ``auto``: bf16 on CUDA GPUs that have it (else fp16); on MPS bf16 where the OS supports it
    (else fp16); on a CPU bf16 where it is native (:class:`CpuInfo`), else fp32. ``bf16-mixed``
    is a CPU mode. An explicit bf16 on a CPU that emulates it is allowed, with a warning from
    :func:`emulated_bf16_warning`.

    Raises:
        HardwareError: an unknown dtype, or a mode the device cannot run.
    """
    kind = device_kind(device)
    if requested not in DTYPES:
        raise HardwareError(f"dtype {requested!r}: expected one of {', '.join(DTYPES)}")
    if requested == "bf16-mixed" and kind != "cpu":
        raise HardwareError(f"dtype {requested} is a CPU mode; use bf16 or fp16 on {kind}")
    if requested != "auto":
        return requested, "as requested"
    if kind == "cuda":
        import torch

        if torch.cuda.is_bf16_supported():
            return "bf16", "auto: the GPU supports bf16"
        return "fp16", "auto: the GPU lacks bf16"
    if kind == "mps":
        if mps_has_bf16():
            return "bf16", "auto: MPS supports bf16 (macOS 14 or newer)"
        return "fp16", "auto: MPS without bf16 (before macOS 14)"
    cpu = cpu_info()
    if cpu.native_bf16:
        return "bf16", f"auto: the CPU runs bf16 natively ({cpu.bf16})"
    return "fp32", f"auto: {cpu.model} has no native bf16 (it would be emulated, slower than fp32)"


def mps_has_bf16() -> bool:
    """Whether a bf16 tensor can be made on the MPS device (macOS 14 and newer)."""
    import torch

    try:
        torch.zeros(1, dtype=torch.bfloat16, device="mps")
    except (RuntimeError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class MatmulRates:
    """GFLOP/s of one matmul shape, per dtype, timed side by side on this machine."""

    shape: tuple[int, int, int]  # (M, K, N)
    threads: int
    gflops: dict[str, float]

    def ratio(self, fast: str, slow: str) -> float:
        return self.gflops[fast] / self.gflops[slow]


def matmul_rates(
    dtypes: tuple[str, ...] = ("fp32", "bf16"), *, shape: tuple[int, int, int] = (2048, 576, 1536), seconds: float = 0.3
) -> MatmulRates:
    """Time an (M, K) x (K, N) matmul per dtype on the CPU, median of repeats.

    The default shape is a SmolLM2-135M MLP projection over a 2,048-token batch.
    """
    import statistics

    import torch

    m, k, n = shape
    gen = torch.Generator().manual_seed(0)
    x32 = torch.randn(m, k, generator=gen)
    w32 = torch.randn(n, k, generator=gen)
    out: dict[str, float] = {}
    for dt in dtypes:
        torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dt]
        w = w32.to(torch_dtype)
        x = x32.to(torch_dtype)
        fn = functools.partial(torch.mm, mat2=w.t())
        with torch.inference_mode():
            fn(x)  # warm-up: packing, thread pool
            times: list[float] = []
            start = time.perf_counter()
            while not times or (time.perf_counter() - start < seconds and len(times) < 50):
                t0 = time.perf_counter()
                fn(x)
                times.append(time.perf_counter() - t0)
        out[dt] = 2 * m * k * n / statistics.median(times) / 1e9
    return MatmulRates(shape=shape, threads=torch.get_num_threads(), gflops=out)


def emulated_bf16_warning(dtype: str) -> str | None:
    """The warning for a bf16 request on a CPU without native bf16, with the factor timed now."""
    cpu = cpu_info()
    if cpu.native_bf16 or dtype not in ("bf16", "bf16-mixed"):
        return None
    rates = matmul_rates(("fp32", "bf16"), shape=(512, 576, 1536), seconds=0.2)
    slower = rates.ratio("fp32", "bf16")
    return (
        f"dtype {dtype} on a CPU without native bf16 ({cpu.model}, no AVX512-BF16/AMX): bf16 matmuls run "
        f"{slower:.1f}x slower than fp32 here (timed now: {rates.gflops['bf16']:.1f} vs "
        f"{rates.gflops['fp32']:.1f} GFLOP/s); dtype auto picks fp32 on this CPU"
    )


def describe_machine(device: str = "auto", dtype: str = "auto") -> dict[str, Any]:
    """The machine facts qaq's choices rest on, for logs, run metadata and ``qaq env``."""
    import torch

    cpu = cpu_info()
    info: dict[str, Any] = {
        "cpu": asdict(cpu),
        "cpu_kind": cpu.kind,
        "torch": torch.__version__,
        "torch_cpu_capability": torch_capability(),
        "torch_threads": torch.get_num_threads(),
    }
    try:
        dev, dev_reason = choose_device(device)
        dt, dt_reason = choose_dtype(dtype, dev)
    except HardwareError as exc:
        info["error"] = str(exc)
        return info
    info.update(device=dev, device_reason=dev_reason, dtype=dt, dtype_reason=dt_reason)
    return info

"""The setup of a scoring job on the Score page: the device it runs on, each role's model, the
engines, and the :class:`qaq.jobs.ScoreRequest` the page's choices make.

No Streamlit here: :mod:`qaq.app.runs` (which does import it) caches :func:`device_summary` and
starts and watches the jobs. :func:`device_summary` imports :mod:`qaq.scoring.hardware`'s torch only
when it is called.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from qaq.app.table import Workspace
from qaq.io.runrecord import mapping_kwargs
from qaq.jobs import Engine, RayOptions, ScoreRequest
from qaq.scoring.estimate import duration_text
from qaq.scoring.models import DEFAULT_MODELS

ENGINES: dict[Engine, str] = {"local": "This machine", "ray": "Ray cluster"}
RAY_INSTALL = 'pip install "qaq[ray]"'


def device_summary() -> dict[str, Any]:
    """What ``--device auto`` and ``--dtype auto`` will use: GPU names when CUDA is there, the CPU's
    kind (native bf16 or not) and the dtype chosen for it, with the reasons."""
    from qaq.scoring import hardware  # imports torch

    device, reason = hardware.choose_device("auto")
    dtype, dtype_reason = hardware.choose_dtype("auto", device)
    cpu = hardware.cpu_info()
    info: dict[str, Any] = {
        "device": device,
        "reason": reason,
        "dtype": dtype,
        "dtype_reason": dtype_reason,
        "cpu": cpu.model,
        "cpus": cpu.threads,
        "cpu_bf16": cpu.bf16,
        "gpus": [],
    }
    if device.startswith("cuda") and shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout
            info["gpus"] = [line.strip() for line in out.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    return info


def model_spec(ws: Workspace, model: str) -> str | None:
    """The spec a scored model was loaded from (score metadata), or the default for its role.

    Specs of synthetic test scores (``synthetic...``) are not loadable and are ignored.
    """
    record = ws.run.models.get(model)
    spec = record.spec if record is not None else None
    if spec and not str(spec).startswith("synthetic"):
        return str(spec)
    return DEFAULT_MODELS.get(model)


def score_request(
    data_path: str | os.PathLike[str],
    models: dict[str, str],
    mapping: dict[str, Any] | None,
    *,
    output: str | os.PathLike[str],
    device: str | None = None,
    dtype: str | None = None,
    max_length: int | None = None,
    batch_tokens: int | None = None,
    compile_mode: str | None = None,
    embed: bool = False,
    engine: Engine = "local",
    address: str = "auto",
    gpus_per_worker: float = 1.0,
) -> ScoreRequest:
    """The :class:`qaq.jobs.ScoreRequest` of a scoring job started from the Score page.

    Args:
        data_path: the dataset.
        models: role name -> model spec.
        mapping: the app's field mapping (see :func:`mapping_kwargs`), passed as field options.
        output: the score file to write.
        device, dtype, max_length, batch_tokens, compile_mode: the scoring options (None:
            ``qaq score``'s default, e.g. ``batch_tokens`` by device).
        embed: keep each model's span embeddings beside the scores (``--embed``, local engine).
        engine: ``local`` or ``ray`` (:data:`ENGINES`).
        address: the Ray cluster (``auto``, ``ray://host:10001``; blank means ``auto``).
        gpus_per_worker: GPUs per Ray scoring actor; 0 scores on the cluster's CPUs.
    """
    ray = None
    if engine == "ray":
        cpus = gpus_per_worker == 0  # the page's "0 GPUs": actors on the cluster's CPUs, i.e. --device cpu
        device = "cpu" if cpus else device
        ray = RayOptions(address=address.strip() or "auto", gpus_per_worker=None if cpus else float(gpus_per_worker))
    return ScoreRequest(
        data=os.fspath(data_path),
        output=os.fspath(output),
        models=dict(models),
        mapping=dict(mapping_kwargs(mapping)),
        device=device,
        dtype=dtype,
        max_length=max_length,
        batch_tokens=batch_tokens,
        compile=compile_mode,
        embed=embed,
        engine=engine,
        ray=ray,
    )


def estimate_text(role: str, spec: str, device: str, dtype: str, est: dict[str, Any]) -> str:
    """The Score page's line for one model's :func:`qaq.scoring.estimate.estimate_cost`.

    >>> est = {"rows": 5, "tokens": 1720, "truncated_rows": 0, "calibration_rows": 1,
    ...        "calibration_tokens_per_s": 150.0, "estimated_seconds": 11.5, "will_compile": False}
    >>> estimate_text("weak", "smollm2-135m", "cpu", "fp32", est)
    '**weak** (`smollm2-135m` on cpu, fp32): 5 rows, 1,720 tokens forwarded, 0 rows truncated; calibration on 1 rows 150 tokens/s → about **12 s** of scoring.'
    """
    if not est["rows"]:
        return f"**{role}** (`{spec}`): nothing to score: every row has an empty query or answer."
    bound = " or less (the run compiles the model; the calibration ran eagerly)" if est["will_compile"] else ""
    return (
        f"**{role}** (`{spec}` on {device}, {dtype}): {est['rows']:,} rows, {est['tokens']:,} tokens forwarded, "
        f"{est['truncated_rows']:,} rows truncated; calibration on {est['calibration_rows']:,} rows "
        f"{est['calibration_tokens_per_s']:,.0f} tokens/s → about **{duration_text(est['estimated_seconds'])}** "
        f"of scoring{bound}."
    )


def estimate_timing(est: dict[str, Any], *, load_seconds: float) -> str:
    """What the estimate itself took: the calibration, and the model load when it was not loaded yet.

    >>> estimate_timing({"calibration_seconds": 1.84, "calibration_tokens": 296, "warmup_tokens": 296}, load_seconds=0.01)
    'Estimated in 1.8 s (296 tokens timed after a 296-token warm-up).'
    >>> estimate_timing({"calibration_seconds": 1.84, "calibration_tokens": 296, "warmup_tokens": 296}, load_seconds=31.2)
    'Estimated in 1.8 s (296 tokens timed after a 296-token warm-up), after loading the model in 31.2 s (kept for the next estimate and the token view; a job loads its own).'
    """
    if est.get("calibration_tokens", 0) == 0:
        text = "Nothing to time."
    else:
        text = (
            f"Estimated in {est['calibration_seconds']:.1f} s ({est['calibration_tokens']:,} tokens timed after a "
            f"{est['warmup_tokens']:,}-token warm-up)"
        )
    if load_seconds >= 1:
        text = text.rstrip(".") + (
            f", after loading the model in {load_seconds:.1f} s (kept for the next estimate and the token view; "
            "a job loads its own)"
        )
    return text if text.endswith(".") else text + "."

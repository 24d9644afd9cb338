"""Loading a model: its tokenizer, its config, its weights, and where and in what precision it runs.

Everything that calls transformers' ``from_pretrained`` is here. Like :mod:`qaq.scoring.hardware`,
this module imports torch and transformers only inside the functions that need them, so the
model-free :mod:`qaq.scoring.encoder` can use the tokenizer and config loaders without torch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from qaq.scoring.errors import ScoringError
from qaq.scoring.hardware import HardwareError, choose_device, choose_dtype, device_kind, emulated_bf16_warning
from qaq.scoring.models import ModelSource

log = logging.getLogger("qaq")

# The weights' dtype per precision. bf16-mixed (CPU) keeps fp32 weights and residual stream and
# runs the matmuls in bf16 (autocast): pure bf16 lets the residual stream drift over 30 layers
# enough to reorder close RMI values (Spearman vs fp32 0.9990 on 120 sample rows, 0.9997 mixed);
# pure bf16 is about 1.4x faster.
WEIGHT_DTYPES = {"bf16": "bf16", "fp16": "fp16", "fp32": "fp32", "bf16-mixed": "fp32"}
# Errors transformers raises for files it cannot read as asked.
_LOAD_ERRORS = (OSError, ValueError, KeyError, ImportError)


def torch_dtype(name: str) -> Any:
    """The torch dtype of ``bf16``, ``fp16`` or ``fp32``."""
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]


@dataclass(frozen=True)
class Placement:
    """Where a model runs and in what precision, with the reasons the policy gave for both."""

    device: str  # cpu, cuda, cuda:N or mps
    device_reason: str
    precision: str  # what the numbers are computed in: fp32, bf16, fp16 or bf16-mixed
    dtype_reason: str

    @property
    def mixed(self) -> bool:
        """bf16 matmuls over fp32 weights (CPU autocast)."""
        return self.precision == "bf16-mixed"

    @property
    def dtype(self) -> str:
        """The matmuls' dtype: the precision, bf16 under bf16-mixed."""
        return "bf16" if self.mixed else self.precision

    @property
    def weight_dtype(self) -> str:
        return WEIGHT_DTYPES[self.precision]

    @property
    def sum_device(self) -> str:
        """Where float64 span sums are accumulated: MPS has no float64, so the CPU there."""
        return "cpu" if device_kind(self.device) == "mps" else self.device

    def autocast(self) -> Any:
        """Half-precision matmuls over fp32 weights (mixed precision on CPU); a no-op otherwise."""
        import torch

        return torch.autocast("cpu", dtype=torch_dtype(self.dtype), enabled=self.mixed)


def choose_placement(device: str = "auto", dtype: str = "auto") -> Placement:
    """Resolve ``device`` and ``dtype`` as :mod:`qaq.scoring.hardware` says; warn of emulated bf16.

    Raises:
        ScoringError: an unknown or unavailable device or dtype.
    """
    try:
        device, device_reason = choose_device(device)
        precision, dtype_reason = choose_dtype(dtype, device)
    except HardwareError as exc:
        raise ScoringError(str(exc)) from None
    warning = emulated_bf16_warning(precision) if device == "cpu" else None
    if warning:
        log.warning("%s", warning)
    return Placement(device, device_reason, precision, dtype_reason)


def _source_kwargs(source: ModelSource, trust_remote_code: bool) -> tuple[str, dict[str, Any]]:
    """(folder, from_pretrained keywords) to read ``source`` from: a GGUF model's dense copy
    (:mod:`qaq.scoring.dense`) when there is one, else its own files."""
    from qaq.scoring.dense import dense_copy

    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    dense = dense_copy(source)
    if dense is not None:
        return str(dense), kwargs
    if source.gguf_file:
        kwargs["gguf_file"] = source.gguf_file
    return str(source.path), kwargs


def load_tokenizer(source: ModelSource, *, trust_remote_code: bool = False) -> Any:
    """Load only the tokenizer of a resolved source (a GGUF file's embedded one included)."""
    from transformers import AutoTokenizer

    try:
        folder, kwargs = _source_kwargs(source, trust_remote_code)
        return AutoTokenizer.from_pretrained(folder, **kwargs)
    except _LOAD_ERRORS as exc:
        raise ScoringError(
            f"model {source.spec!r}: its tokenizer could not be loaded from {source.path}: {exc}"
        ) from exc


def load_model_type(source: ModelSource, *, trust_remote_code: bool = False) -> str | None:
    """The ``model_type`` of a resolved source's config, read without its weights."""
    from transformers import AutoConfig

    try:
        folder, kwargs = _source_kwargs(source, trust_remote_code)
        config = AutoConfig.from_pretrained(folder, **kwargs)
    except _LOAD_ERRORS as exc:
        raise ScoringError(f"model {source.spec!r}: its config could not be loaded from {source.path}: {exc}") from exc
    return getattr(config, "model_type", None)


def load_causal_lm(source: ModelSource, *, device: str, dtype: str, trust_remote_code: bool = False) -> tuple[Any, Any]:
    """Load (model, tokenizer) from a resolved source; GGUF weights are dequantized to dense.

    ``dtype`` is the weights' dtype (``bf16``, ``fp16`` or ``fp32``).
    """
    from transformers import AutoModelForCausalLM, GgufConfig

    from qaq.scoring.dense import save_dense_copy

    tokenizer = load_tokenizer(source, trust_remote_code=trust_remote_code)
    try:
        folder, kwargs = _source_kwargs(source, trust_remote_code)
        from_gguf = "gguf_file" in kwargs
        if from_gguf:
            kwargs["quantization_config"] = GgufConfig(dequantize=True)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype(dtype), **kwargs)
    except _LOAD_ERRORS as exc:
        raise ScoringError(f"model {source.spec!r} could not be loaded from {source.path}: {exc}") from exc
    if from_gguf and dtype == "fp32":  # the dequantized values themselves: keep them for next time
        save_dense_copy(source, model, tokenizer)
    model.to(device).eval()  # type: ignore[arg-type]  # transformers' stub types to() for dtypes only
    return model, tokenizer


def placed_model(
    source: ModelSource,
    placement: Placement,
    *,
    trust_remote_code: bool = False,
    model: Any = None,
    tokenizer: Any = None,
) -> tuple[Any, Any]:
    """(model, tokenizer) on the placement's device, weights in its dtype, in eval mode.

    Loaded from ``source``, unless ``model`` (and ``tokenizer``) are given already built (tests,
    notebooks): that model is then moved and cast as the placement says.
    """
    if model is None:
        return load_causal_lm(
            source, device=placement.device, dtype=placement.weight_dtype, trust_remote_code=trust_remote_code
        )
    return model.to(device=placement.device, dtype=torch_dtype(placement.weight_dtype)).eval(), tokenizer

"""How to score: the :class:`ScoringConfig` every engine takes, checked once at construction.

Defined here and imported by :mod:`qaq.scoring.engine` (which re-exports it, so
``from qaq.scoring.engine import ScoringConfig`` keeps working). No torch here.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from dataclasses import fields as dc_fields
from typing import Any, Literal, get_args

from qaq.scoring.hardware import Dtype
from qaq.scoring.templates import DEFAULT_REVERSE_INSTRUCTION, DEFAULT_SYSTEM, TemplateKind, check_reverse_instruction

CompileMode = Literal["auto", "on", "off"]
PaddingSide = Literal["left", "right"]
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


@dataclass(frozen=True)
class ScoringConfig:
    """How to score. Every field is part of the run metadata; a value outside a field's choices is
    a ValueError at construction (before any model is loaded)."""

    device: str = "auto"  # auto | cpu | mps | cuda | cuda:N
    dtype: Dtype = "auto"  # auto: bf16 on CUDA and AMX/AVX512-BF16 CPUs, else fp32 (qaq.scoring.hardware)
    max_length: int = 2048  # tokens per pass, template included; see qaq.scoring.encoder.truncate_spans
    batch_tokens: int | None = None  # padded tokens per forward (one per pass); None: per device
    compile: CompileMode = "auto"  # torch.compile the decoder layers (see should_compile)
    template: TemplateKind = "auto"
    system: str = DEFAULT_SYSTEM  # should match the downstream SFT system prompt
    reverse_instruction: str = DEFAULT_REVERSE_INSTRUCTION  # must contain {answer}
    trust_remote_code: bool = False  # never on unless the user asks
    padding_side: PaddingSide = "right"  # results do not depend on it; kept for the parity tests
    pack: bool | None = None  # None: pack only with a varlen attention kernel

    def __post_init__(self) -> None:
        check_reverse_instruction(self.reverse_instruction)
        for name, kind in (
            ("dtype", Dtype),
            ("compile", CompileMode),
            ("template", TemplateKind),
            ("padding_side", PaddingSide),
        ):
            choices = get_args(kind)
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}, got {getattr(self, name)!r}")
        if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
            raise ValueError(f"device must be auto, cpu, mps, cuda or cuda:N, got {self.device!r}")
        if self.max_length < 8:
            raise ValueError(f"max_length must be at least 8, got {self.max_length}")
        if self.batch_tokens is not None and self.batch_tokens < 1:
            raise ValueError(f"batch_tokens must be positive, got {self.batch_tokens}")


def scoring_config(meta: dict[str, Any] | None = None, **overrides: Any) -> ScoringConfig:
    """A :class:`ScoringConfig` from score metadata (same template as the scores) + overrides.

    Metadata keys that are not ScoringConfig fields are ignored.
    """
    from qaq.io.runrecord import run_record

    names = {f.name for f in dc_fields(ScoringConfig)}
    given = {k: v for k, v in run_record(meta).config.items() if k in names}
    return ScoringConfig(**{**given, **overrides})


def config_json(config: ScoringConfig) -> str:
    """A ScoringConfig as canonical JSON (sorted keys): a hashable cache key that round-trips."""
    return json.dumps(asdict(config), sort_keys=True)

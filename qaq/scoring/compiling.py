"""``torch.compile`` of a model's decoder layers: swapping them in, and what a failure to compile does.

:meth:`qaq.scoring.backend.ScoringModel.compile` swaps each decoder layer for a compiled one
(:func:`compile_layers`) and keeps the eager ones in a :class:`CompiledLayers`, to go back to
(:func:`restore_layers`). The compiled code first runs on the first batch: if it fails there,
:func:`compile_failed` raises for a strict compilation, and warns otherwise (the model then goes
on in eager mode).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch

from qaq.scoring.errors import ScoringError

log = logging.getLogger("qaq")


@dataclass(frozen=True)
class CompiledLayers:
    """The decoder layers swapped for torch.compile'd ones (see :meth:`qaq.scoring.backend.ScoringModel.compile`)."""

    eager: tuple[Any, ...]  # the original layers, to go back to
    strict: bool  # a failure to compile raises instead of going on in eager mode
    checked: bool = False  # a compiled batch has run: compiling worked


def compile_layers(body: Any, *, strict: bool) -> CompiledLayers | None:
    """Swap each layer of ``body.layers`` for a ``torch.compile``'d one (dynamic shapes).

    Returns:
        The eager layers, to go back to; None when ``body`` has no ``layers`` list (a ``strict``
        compilation then raises :class:`ScoringError`).
    """
    layers = getattr(body, "layers", None)
    if not isinstance(layers, torch.nn.ModuleList):
        if strict:
            raise ScoringError(f"--compile on: {type(body).__name__} has no decoder layer list to compile")
        log.info("compile: %s has no decoder layer list; running eager", type(body).__name__)
        return None
    compiled = CompiledLayers(eager=tuple(layers), strict=strict)
    for i, layer in enumerate(compiled.eager):
        layers[i] = torch.compile(layer, dynamic=True)  # type: ignore[assignment]  # stands in for the layer
    return compiled


def restore_layers(body: Any, compiled: CompiledLayers) -> None:
    """Put ``body``'s eager layers back in place of the compiled ones."""
    for i, layer in enumerate(compiled.eager):
        body.layers[i] = layer


def compile_failed(compiled: CompiledLayers, exc: Exception) -> None:
    """A compiled batch raised ``exc`` (compiling happens on the first one): raise
    :class:`ScoringError` for a strict compilation, else log a warning (the caller goes on eager)."""
    if compiled.strict:
        raise ScoringError(f"--compile on: torch.compile failed: {type(exc).__name__}: {exc}") from exc
    log.warning(
        "torch.compile failed (%s: %s); scoring in eager mode",
        type(exc).__name__,
        str(exc).splitlines()[0] if str(exc) else "",
    )

"""The error of scoring, in a module of its own: the encoder raises it without torch, the backend with it."""

from __future__ import annotations


class ScoringError(RuntimeError):
    """The model cannot be loaded or run as asked (bad device, dtype, architecture or max length)."""

"""Template-prefix reuse: run each pass's template prefix once and let every row continue from it.

Every sequence of a pass starts with the same prefix tokens (system prompt, role tokens, the
reverse instruction: 15 and 56 tokens with SmolLM2's template, about a fifth of a typical pair's
positions). A causal LM's states there do not depend on what follows, so they are computed once
per model, and each right-padded batch continues from their keys and values. The numbers are the
same either way (tests/test_backend.py).
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import Any

import torch

from qaq.scoring.encoder import TemplateIds
from qaq.scoring.errors import ScoringError
from qaq.scoring.loading import Placement

# The passes' prefixes, by their names in the layout (:class:`qaq.scoring.encoder.TemplateIds`).
PREFIXES = ("fwd_prefix", "rev_prefix")


@dataclass(frozen=True)
class PrefixState:
    """A pass's template prefix, run once: the state every row of that pass continues from."""

    length: int  # tokens in the prefix
    cache: Any  # the transformers key/value cache after the prefix, batch size 1
    last: torch.Tensor  # (H,) the prefix's last hidden state: it predicts the first token after it

    def expand(self, n: int) -> Any:
        """A fresh cache holding the prefix for a batch of ``n`` rows (the forward appends to it)."""
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(n)
        return cache


class PrefixCache:
    """Per pass, its template prefix's state, computed on first use.

    Args:
        spec: the model's spec, for messages.
        body: the model's decoder body.
        template_ids: the layout's token ids: each pass's prefix (:data:`PREFIXES`) is taken from them.
        placement: where and in what precision the body runs.
        sliding_window: the model's attention window, if any: a prefix as long as the window
            would not fit in that window's cache, so that pass forwards it with every row.
        enabled: reuse prefixes at all (see :meth:`enable`).
    """

    def __init__(
        self,
        spec: str,
        body: Any,
        template_ids: TemplateIds,
        *,
        placement: Placement,
        sliding_window: int | None,
        enabled: bool,
    ) -> None:
        self.spec = spec
        self.body = body
        self.placement = placement
        self.cache_keyword = _cache_keyword(body)
        window = sliding_window or 0
        prefixes = {name: getattr(template_ids, name) for name in PREFIXES}
        self._reusable = {name: ids for name, ids in prefixes.items() if not (window and len(ids) >= window - 1)}
        self._states: dict[str, PrefixState] = {}
        self.enabled = enabled

    def enable(self, on: bool) -> None:
        """Turn reuse on or off (off: every row forwards its whole sequence); off drops the states."""
        self.enabled = on
        if not on:
            self._states.clear()

    def skipped(self, name: str) -> int:
        """Leading tokens of pass ``name`` run once for all rows (0: run with every row)."""
        return len(self._reusable[name]) if self.enabled and name in self._reusable else 0

    @property
    def reused(self) -> bool:
        """Whether any pass reuses its prefix."""
        return any(self.skipped(name) for name in PREFIXES)

    def state(self, name: str) -> PrefixState | None:
        """The template prefix of pass ``name`` run once, or None where it is not reused."""
        if not self.skipped(name):
            return None
        state = self._states.get(name)
        if state is None:
            ids = self._reusable[name]
            with self.placement.autocast():
                out = self.body(input_ids=torch.tensor([ids], device=self.placement.device), use_cache=True)
            cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
            if cache is None:
                raise ScoringError(
                    f"model {self.spec!r}: its decoder returned no key/value cache; score it with reuse_prefix=False"
                )
            state = self._states[name] = PrefixState(len(ids), cache, out.last_hidden_state[0, -1])
        return state


def _cache_keyword(body: Any) -> str:
    """The decoder's keyword for a key/value cache: ``cache`` (transformers 5.2x) or ``past_key_values``."""
    return "cache" if "cache" in inspect.signature(body.forward).parameters else "past_key_values"

"""Encoding pairs: a tokenizer and a prompt layout turn (query, answer) into token ids for both passes.

An :class:`Encoder` needs a tokenizer, never a model's weights: :meth:`Encoder.from_source` reads
only the tokenizer and the config of a model, so a CPU stage can encode while the GPUs score.
:class:`qaq.scoring.backend.ScoringModel` encodes through its own (``sm.encoder``).

Spans are tokenized separately and their ids joined (METHOD.md section 1), so the template text
around Q and A is the same ids in every sample, and Q's ids are the same in both passes.

This module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from typing import Any

from qaq.scoring.errors import ScoringError
from qaq.scoring.loading import load_model_type, load_tokenizer
from qaq.scoring.models import ModelSource
from qaq.scoring.templates import DEFAULT_REVERSE_INSTRUCTION, DEFAULT_SYSTEM, Layout, TemplateKind, build_layout

# Text that exercises byte fallback, unicode, code and special-token look-alikes: two encoders
# that encode it (and their template) alike are taken to encode everything alike.
_PROBE = (
    "for k, v in d.items():\n\tprint(f'{k}={v!r}')  # naïve façade Ω 日本語 😀 <|im_start|> </s> [/INST] <end_of_turn>"
)


@dataclass(frozen=True)
class Encoded:
    """One sample's token ids for both passes, with target spans as [start, end) token indices.

    Token ``t`` of a span is predicted by the logits at position ``t - 1``. What a model
    forwards of them is :meth:`qaq.scoring.backend.ScoringModel.widths` (a reused template
    prefix is not run again).
    """

    fwd: tuple[int, ...]
    fwd_q: tuple[int, int]
    fwd_a: tuple[int, int]
    rev: tuple[int, ...]
    rev_a: tuple[int, int]
    rev_q: tuple[int, int]
    truncated: int

    @property
    def n_q(self) -> int:
        return self.fwd_q[1] - self.fwd_q[0]

    @property
    def n_a(self) -> int:
        return self.fwd_a[1] - self.fwd_a[0]

    @property
    def length(self) -> int:
        """The longer of the sample's two sequences."""
        return max(len(self.fwd), len(self.rev))


@dataclass(frozen=True)
class TemplateIds:
    """The token ids of a layout's literal pieces (:class:`qaq.scoring.templates.Layout`)."""

    fwd_prefix: tuple[int, ...]
    fwd_middle: tuple[int, ...]
    rev_prefix: tuple[int, ...]
    rev_middle: tuple[int, ...]

    @property
    def overhead(self) -> int:
        """Template tokens of the longer pass: what ``max_length`` holds besides Q and A."""
        return max(len(self.fwd_prefix) + len(self.fwd_middle), len(self.rev_prefix) + len(self.rev_middle))


def truncate_spans(n_q: int, n_a: int, room: int) -> tuple[int, int]:
    """How many query and answer tokens to keep so that a pass fits ``max_length``.

    Rule: when Q and A do not fit in the room left by the template, the answer's tail is cut
    first; the query's tail is cut only as far as needed to leave the answer half the room.
    The same kept tokens are used in both passes.

    >>> truncate_spans(10, 10, 100)
    (10, 10)
    >>> truncate_spans(10, 500, 100)
    (10, 90)
    >>> truncate_spans(300, 500, 100)
    (50, 50)
    """
    if room < 2:
        raise ScoringError(f"max_length leaves {room} tokens after the template; raise --max-length")
    if n_q + n_a <= room:
        return n_q, n_a
    keep_q = min(n_q, max(room - n_a, room // 2))
    return keep_q, min(n_a, room - keep_q)


class Encoder:
    """A tokenizer with its two-pass prompt layout: pairs in, :class:`Encoded` records out.

    Args:
        tokenizer: a Hugging Face tokenizer.
        model_type: the model config's ``model_type``; picks a borrowed chat template for a
            base model whose tokenizer has none (see :func:`qaq.scoring.templates.build_layout`).
        template: ``auto``, ``chat`` or ``plain``.
        system: the system prompt.
        reverse_instruction: the reverse-generation instruction, containing ``{answer}``.

    Raises:
        ScoringError: the layout leaves a pass's prefix empty (its first query or answer token
            would have no context).
        TemplateError: the template cannot be built as asked.
    """

    def __init__(
        self,
        tokenizer: Any,
        *,
        model_type: str | None = None,
        template: TemplateKind = "auto",
        system: str = DEFAULT_SYSTEM,
        reverse_instruction: str = DEFAULT_REVERSE_INSTRUCTION,
    ) -> None:
        self.tokenizer = tokenizer
        self.layout: Layout = build_layout(
            tokenizer,
            model_type=model_type,
            kind=template,
            system=system,
            reverse_instruction=reverse_instruction,
            bos_token=tokenizer.bos_token if _adds_bos(tokenizer) else None,
        )
        self.template_ids = TemplateIds(
            **{f.name: tuple(self._text_ids(getattr(self.layout, f.name), user=False)) for f in fields(TemplateIds)}
        )
        if not self.template_ids.fwd_prefix or not self.template_ids.rev_prefix:
            raise ScoringError("the prompt layout has an empty prefix: the first query token would have no context")

    @classmethod
    def from_source(
        cls,
        source: ModelSource,
        *,
        trust_remote_code: bool = False,
        template: TemplateKind = "auto",
        system: str = DEFAULT_SYSTEM,
        reverse_instruction: str = DEFAULT_REVERSE_INSTRUCTION,
    ) -> Encoder:
        """The encoder a :class:`~qaq.scoring.backend.ScoringModel` of ``source`` would use, from
        the source's tokenizer and config only (no weights are read)."""
        return cls(
            load_tokenizer(source, trust_remote_code=trust_remote_code),
            model_type=load_model_type(source, trust_remote_code=trust_remote_code),
            template=template,
            system=system,
            reverse_instruction=reverse_instruction,
        )

    @property
    def fingerprint(self) -> str:
        """A short hash of what makes two encoders encode alike: the vocabulary size, the ids of
        a probe text (as user text) and the template's ids."""
        blob = json.dumps([len(self.tokenizer), self.user_ids([_PROBE])[0], astuple(self.template_ids)])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def _text_ids(self, text: str, *, user: bool) -> list[int]:
        if not text:
            return []
        # User text never turns into control tokens: "<|im_end|>" inside a query stays text.
        extra = {"split_special_tokens": True} if user else {}
        return list(self.tokenizer(text, add_special_tokens=False, **extra)["input_ids"])

    def user_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The token ids of user texts (queries or answers), one tokenizer call for all: no special
        tokens added, none recognised."""
        if not len(texts):
            return []
        ids = self.tokenizer(list(texts), add_special_tokens=False, split_special_tokens=True)["input_ids"]
        return [list(i) for i in ids]

    def encode(self, query: str, answer: str, *, max_length: int) -> Encoded:
        """Tokenize one pair for both passes, truncating as :func:`truncate_spans` states."""
        return self.encode_ids(
            self._text_ids(query, user=True), self._text_ids(answer, user=True), max_length=max_length
        )

    def encode_many(self, queries: Sequence[str], answers: Sequence[str], *, max_length: int) -> list[Encoded]:
        """Tokenize many pairs (one tokenizer call per side)."""
        return [
            self.encode_ids(q, a, max_length=max_length) for q, a in zip(self.user_ids(queries), self.user_ids(answers))
        ]

    def encode_ids(self, q: Sequence[int], a: Sequence[int], *, max_length: int) -> Encoded:
        """Lay out the token ids of a query and an answer in both passes (each at most ``max_length``
        tokens, template included)."""
        t = self.template_ids
        keep_q, keep_a = truncate_spans(len(q), len(a), max_length - t.overhead)
        truncated = (len(q) - keep_q) + (len(a) - keep_a)
        q, a = tuple(q[:keep_q]), tuple(a[:keep_a])
        q0 = len(t.fwd_prefix)
        a0 = q0 + len(q) + len(t.fwd_middle)
        ra0 = len(t.rev_prefix)
        rq0 = ra0 + len(a) + len(t.rev_middle)
        return Encoded(
            t.fwd_prefix + q + t.fwd_middle + a,
            (q0, q0 + len(q)),
            (a0, a0 + len(a)),
            t.rev_prefix + a + t.rev_middle + q,
            (ra0, ra0 + len(a)),
            (rq0, rq0 + len(q)),
            truncated,
        )


def _adds_bos(tokenizer: Any) -> bool:
    """Does the tokenizer start encoded text with a BOS token?"""
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return bool(ids) and ids[0] == bos

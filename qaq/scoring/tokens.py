"""Per-token NLL of one pair: what the scorer's two forwards give, token by token (the app's token view).

:func:`token_nlls` encodes the pair with the model's encoder and runs the same two forwards,
prefixes and head as scoring a batch (:meth:`qaq.scoring.backend.ScoringModel.span_nlls`); its
:class:`TokenNlls` record's :attr:`TokenNlls.means` are then the score table's values for that row
(within float rounding, in the same precision). Importing this module does not import torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qaq.columns import SPAN_FIELDS

if TYPE_CHECKING:
    from qaq.scoring.backend import ScoringModel

# Each span's per-token values: (span, its tokens' field, the pass without the other text, with it).
SPAN_PASSES: dict[str, tuple[str, str]] = {
    "query": ("nll_q", "nll_q_given_a"),  # Q alone (forward pass) / after the answer (reverse pass)
    "answer": ("nll_a", "nll_a_given_q"),  # A alone (reverse pass) / after the query (forward pass)
}


@dataclass(frozen=True)
class TokenNlls:
    """Per-token NLL (nats) of one pair's query and answer, each without and with the other text.

    The four value tuples are named like the score fields (:data:`qaq.columns.SPAN_FIELDS`): their
    means are the row's ``nll_q``, ``nll_q_given_a``, ``nll_a`` and ``nll_a_given_q``.
    """

    query_tokens: tuple[str, ...]  # Q's tokens as text; joined, the query as scored (after truncation)
    answer_tokens: tuple[str, ...]
    nll_q: tuple[float, ...]  # one per query token: Q alone
    nll_q_given_a: tuple[float, ...]  # Q after the reverse instruction with the answer
    nll_a: tuple[float, ...]  # one per answer token: A alone (inside the reverse prompt)
    nll_a_given_q: tuple[float, ...]  # A after the query (the SFT direction)
    truncated: int  # tokens cut by max_length, as in scoring
    forwarded: int  # tokens the two forwards ran (reused template prefixes not counted)
    precision: str  # fp32, bf16, fp16 or bf16-mixed
    device: str
    identity: str  # the model's content identity (:class:`qaq.scoring.models.ModelSource`)

    def __post_init__(self) -> None:
        for tokens, fields in ((self.query_tokens, SPAN_PASSES["query"]), (self.answer_tokens, SPAN_PASSES["answer"])):
            for f in fields:
                if len(getattr(self, f)) != len(tokens):
                    raise ValueError(f"{f} has {len(getattr(self, f))} values for {len(tokens)} tokens")

    @property
    def means(self) -> dict[str, float]:
        """Mean NLL of each span (NaN for an empty one), then ``rmi`` and ``ifd``, as the score table has them."""
        out = {f: (math.fsum(v) / len(v) if (v := getattr(self, f)) else math.nan) for f in SPAN_FIELDS}
        out["rmi"] = out["nll_q"] - out["nll_q_given_a"]
        out["ifd"] = out["nll_a_given_q"] / out["nll_a"] if out["nll_a"] else math.nan
        return out

    @property
    def placement(self) -> str:
        """``"fp32 on cpu"``."""
        return f"{self.precision} on {self.device}"

    def span(self, name: str) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]:
        """(tokens, NLL alone, NLL given the other text) of ``"query"`` or ``"answer"``."""
        alone, given = SPAN_PASSES[name]
        tokens = self.query_tokens if name == "query" else self.answer_tokens
        return tokens, getattr(self, alone), getattr(self, given)


def token_nlls(sm: ScoringModel, query: str, answer: str, *, max_length: int, threads: int | None = 1) -> TokenNlls:
    """The :class:`TokenNlls` of one pair under a loaded model, encoded and truncated as scoring does.

    Args:
        sm: the model.
        query, answer: the pair's text.
        max_length: tokens per pass, template included (the score file's ``max_length``).
        threads: CPU threads for the two forwards (None: as set). One row is a small forward, and
            two threads that wait on each other on a busy CPU lose: on 2 AMD EPYC cores running
            other work (load average 4.5-5.7), 248 tokens of SmolLM2 took 15-29 s with two
            threads and 2.3-2.9 s with one.
    """
    import torch  # on call: the record and the token pieces need no torch

    e = sm.encoder.encode(query, answer, max_length=max_length)
    before = torch.get_num_threads()
    if threads and sm.device == "cpu":
        torch.set_num_threads(threads)  # process-wide: put back at once
    try:
        values = sm.span_nlls(e)
    finally:
        torch.set_num_threads(before)
    decode = sm.tokenizer.decode
    return TokenNlls(
        query_tokens=tuple(token_pieces(decode, e.fwd[e.fwd_q[0] : e.fwd_q[1]])),
        answer_tokens=tuple(token_pieces(decode, e.fwd[e.fwd_a[0] : e.fwd_a[1]])),
        nll_q=tuple(values["nll_q"].tolist()),
        nll_q_given_a=tuple(values["nll_q_given_a"].tolist()),
        nll_a=tuple(values["nll_a"].tolist()),
        nll_a_given_q=tuple(values["nll_a_given_q"].tolist()),
        truncated=e.truncated,
        forwarded=sm.forwarded(e),
        precision=sm.precision,
        device=sm.device,
        identity=sm.source.identity,
    )


def token_pieces(decode: Callable[[list[int]], str], ids: Sequence[int], *, context: int = 4) -> list[str]:
    """The text each token adds, so that the pieces join to ``decode(ids)``.

    Decoding one token alone goes wrong two ways: a character split over several byte tokens
    decodes to ``"\\ufffd"``, and some decoders drop a word's leading space at the start of a text.
    So each piece is the difference between decoding the token with up to ``context`` tokens
    before it and decoding those alone; where a token completes a character that earlier tokens
    began, the replacement characters those showed are taken back from their pieces (they show
    as empty pieces, the character in the token that completes it).

    >>> table = {1: "ab", 2: " c"}
    >>> token_pieces(lambda ids: "".join(table[i] for i in ids), [1, 2, 1])
    ['ab', ' c', 'ab']
    """
    pieces: list[str] = []
    for i in range(len(ids)):
        lo = max(0, i - context)
        before = decode(list(ids[lo:i])) if i > lo else ""
        upto = decode(list(ids[lo : i + 1]))
        keep = len(_common_prefix(before, upto))
        pieces.append(upto[keep:])
        rewritten = len(before) - keep  # characters of earlier pieces this token changed
        j = i - 1
        while rewritten > 0 and j >= 0:
            cut = min(rewritten, len(pieces[j]))
            pieces[j] = pieces[j][: len(pieces[j]) - cut]
            rewritten -= cut
            j -= 1
    return pieces


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:n]

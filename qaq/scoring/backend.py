"""The torch scoring model: a loaded causal LM that scores encoded pairs in batches.

The fast path (METHOD.md section 7), with the modules that hold its parts:

* two forwards per sample: the forward layout yields ``nll_q`` and ``nll_a_given_q``, the reverse
  layout ``nll_q_given_a`` and ``nll_a`` (token ids from :mod:`qaq.scoring.encoder`);
* no ``(batch, tokens, vocab)`` log-softmax: the decoder body runs once, then the LM head is
  applied only to the rows that predict a target token, in chunks, with an fp32 logsumexp
  (:mod:`qaq.scoring.head`);
* each pass's template prefix runs once per model, its keys and values reused by every row
  (:mod:`qaq.scoring.prefix`);
* batches are cut to a token budget by the caller after sorting by length (longest first);
* bf16 where the hardware has it, with the normalizer in fp32 (:mod:`qaq.scoring.loading`);
* optional padding-free packing (position ids reset per sequence) for varlen attention on GPU;
* optional ``torch.compile`` of each decoder layer and of the head's normalizer
  (:meth:`ScoringModel.compile`, :mod:`qaq.scoring.compiling`): fuses the norm, rotary, activation
  and logsumexp passes that cost about 40% of a bf16 CPU forward in eager mode;
* optionally (``embed=True``), from the same forward, each sample's mean last hidden state over
  its query and its answer in the forward layout (:mod:`qaq.scoring.pooling`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
import torch

from qaq.columns import SPAN_FIELDS
from qaq.scoring.compiling import CompiledLayers, compile_failed, compile_layers, restore_layers
from qaq.scoring.encoder import Encoded, Encoder
from qaq.scoring.errors import ScoringError
from qaq.scoring.hardware import cpu_info
from qaq.scoring.head import ChunkedHead
from qaq.scoring.loading import choose_placement, placed_model, torch_dtype
from qaq.scoring.models import ModelSource
from qaq.scoring.pooling import EmbeddedSums, mean_pool, predicting_rows, span_rows
from qaq.scoring.prefix import PrefixCache, PrefixState
from qaq.scoring.templates import DEFAULT_REVERSE_INSTRUCTION, DEFAULT_SYSTEM, Layout, TemplateKind
from qaq.scoring.tokens import TokenNlls, token_nlls

# ScoringError is imported from here by qaq.cli.
__all__ = ["PASSES", "EmbeddedSums", "ScoringError", "ScoringModel", "predicting_rows"]

# Each pass scores two spans of every sample: (pass, sequence prefix, its spans -> score fields).
PASSES = (
    ("fwd_prefix", "fwd", (("fwd_q", "nll_q"), ("fwd_a", "nll_a_given_q"))),
    ("rev_prefix", "rev", (("rev_q", "nll_q_given_a"), ("rev_a", "nll_a"))),
)
# The pass whose hidden states ``embed=True`` pools: Q then A, as the data reads.
EMBED_SEQUENCE = "fwd"


class ScoringModel:
    """A loaded model with its encoder: the stateful resource of scoring.

    Args:
        source: the resolved model.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (see :func:`qaq.scoring.hardware.choose_device`).
        dtype: ``auto``, ``bf16``, ``bf16-mixed``, ``fp16`` or ``fp32`` (see
            :func:`qaq.scoring.hardware.choose_dtype`).
        template: ``auto``, ``chat`` or ``plain`` (see :func:`qaq.scoring.templates.build_layout`).
        system: the system prompt.
        reverse_instruction: the reverse-generation instruction, containing ``{answer}``.
        trust_remote_code: passed to transformers; off unless asked.
        pack: pack sequences without padding (position ids reset per sequence); ``None`` packs
            only when a varlen attention kernel (flash attention) is in use.
        reuse_prefix: run each pass's template prefix once and reuse its keys and values for
            every row (see :mod:`qaq.scoring.prefix`); the numbers are the same either way.
        model, tokenizer: an already built model and its tokenizer (tests, notebooks), moved and
            cast as asked instead of loading ``source``.
    """

    def __init__(
        self,
        source: ModelSource,
        *,
        device: str = "auto",
        dtype: str = "auto",
        template: TemplateKind = "auto",
        system: str = DEFAULT_SYSTEM,
        reverse_instruction: str = DEFAULT_REVERSE_INSTRUCTION,
        trust_remote_code: bool = False,
        pack: bool | None = None,
        reuse_prefix: bool = True,
        model: Any = None,
        tokenizer: Any = None,
    ) -> None:
        self.source = source
        self.placement = choose_placement(device, dtype)
        self.device, self.device_reason = self.placement.device, self.placement.device_reason
        self.dtype, self.dtype_reason = self.placement.dtype, self.placement.dtype_reason  # the matmuls' dtype
        self.model, tokenizer = placed_model(
            source, self.placement, trust_remote_code=trust_remote_code, model=model, tokenizer=tokenizer
        )
        config = self.model.config
        self.body = self.model.get_decoder()
        self.head = self.model.get_output_embeddings()
        if self.body is None or self.head is None:
            raise ScoringError(f"model {source.spec!r}: its architecture exposes no decoder body / LM head")
        self.lm_head = ChunkedHead(
            self.head, dtype=torch_dtype(self.dtype), softcap=getattr(config, "final_logit_softcapping", None)
        )
        self.encoder = Encoder(
            tokenizer,
            model_type=getattr(config, "model_type", None),
            template=template,
            system=system,
            reverse_instruction=reverse_instruction,
        )
        attn = getattr(config, "_attn_implementation", "") or ""
        self.pack = ("flash" in attn) if pack is None else pack
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # Packed batches are one long row with restarting positions: a shared prefix cache does not
        # fit that layout, and varlen kernels waste nothing on padding anyway.
        self.reuse_prefix = reuse_prefix and not self.pack
        self.prefixes = PrefixCache(
            source.spec,
            self.body,
            self.encoder.template_ids,
            placement=self.placement,
            sliding_window=getattr(config, "sliding_window", None),
            enabled=self.reuse_prefix,
        )
        if self.device == "cpu":
            torch.set_num_threads(cpu_info().threads)
        self._compiled: CompiledLayers | None = None  # None: the eager layers run (see qaq.scoring.compiling)

    @property
    def tokenizer(self) -> Any:
        return self.encoder.tokenizer

    @property
    def layout(self) -> Layout:
        return self.encoder.layout

    @property
    def head_weight(self) -> torch.Tensor:
        """The LM head's weight (V, H) in the compute dtype (a copy only under mixed precision)."""
        return self.lm_head.weight

    @property
    def precision(self) -> str:
        """What the numbers were computed in: ``fp32``, ``bf16``, ``fp16`` or ``bf16-mixed`` (CPU;
        its :attr:`dtype` is bf16, the matmuls')."""
        return self.placement.precision

    @property
    def compiled(self) -> bool:
        """Whether the decoder layers are the torch.compile'd ones (see :meth:`compile`)."""
        return self._compiled is not None

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def describe(self) -> dict[str, Any]:
        """Run metadata for this model."""
        return {
            "spec": self.source.spec,
            "kind": self.source.kind,
            "identity": self.source.identity,
            "architecture": type(self.model).__name__,
            "parameters": self.n_params,
            "device": self.device,
            "device_reason": self.device_reason,
            "dtype": self.dtype,
            "dtype_reason": self.dtype_reason,
            "precision": self.precision,
            "template": self.layout.describe(),
            "template_sha256": self.layout.sha256,
            "packed": self.pack,
            "prefix_reused": self.prefixes.reused,
            "compiled": self.compiled,
        }

    # ----- compilation ------------------------------------------------------------------------
    def compile(self, *, strict: bool = False) -> bool:
        """Compile each decoder layer and the head's normalizer with ``torch.compile``.

        Layers are compiled one by one (one graph shared by identical layers, dynamic shapes), so
        compiling costs tens of seconds, not minutes. The compiled code runs on the first batch;
        if compiling fails there (no C++ compiler, an unsupported layer), a ``strict`` model
        raises :class:`ScoringError`, otherwise it logs a warning and goes on in eager mode with
        the same weights and dtype.

        Returns:
            True when compilation is set up; False when the architecture has no ``layers`` list.
        """
        if self._compiled is None:
            self._compiled = compile_layers(self.body, strict=strict)
            if self._compiled is None:
                return False  # no layer list
            self.lm_head.compile()
            # Compiled layers forward whole sequences: a layer that appends to a key/value cache
            # specialises its graph on the layer index (one compile per layer instead of one for
            # all), and the compiled path is what was measured on AMX CPUs and GPUs.
            self.prefixes.enable(False)
        return True

    def uncompile(self) -> None:
        """Back to the eager layers and head."""
        if self._compiled is not None:
            restore_layers(self.body, self._compiled)
        self._compiled = None
        self.lm_head.uncompile()
        self.prefixes.enable(self.reuse_prefix)

    # ----- widths -----------------------------------------------------------------------------
    def widths(self, e: Encoded) -> tuple[int, int]:
        """Tokens this model runs for ``e`` in the forward and the reverse pass: the sequences less
        the template prefixes it runs once for all rows (right-padded batches, see :mod:`qaq.scoring.prefix`)."""
        return len(e.fwd) - self.prefixes.skipped("fwd_prefix"), len(e.rev) - self.prefixes.skipped("rev_prefix")

    def width(self, e: Encoded) -> int:
        """The width ``e`` needs in a padded batch: the longer of its two forwarded sequences."""
        return max(self.widths(e))

    def forwarded(self, e: Encoded) -> int:
        """Tokens this model runs for ``e``, both passes (reused prefixes not counted)."""
        return sum(self.widths(e))

    # ----- scoring ----------------------------------------------------------------------------
    @overload
    def score_batch(
        self, batch: Sequence[Encoded], *, padding_side: str = ..., embed: Literal[False] = ...
    ) -> pd.DataFrame: ...
    @overload
    def score_batch(
        self, batch: Sequence[Encoded], *, padding_side: str = ..., embed: Literal[True]
    ) -> EmbeddedSums: ...
    @torch.inference_mode()
    def score_batch(
        self, batch: Sequence[Encoded], *, padding_side: str = "right", embed: bool = False
    ) -> pd.DataFrame | EmbeddedSums:
        """Summed NLL (nats) of the four spans of each sample, and with ``embed`` their span embeddings.

        Returns:
            float64 frame, one row per sample, one column per span: the fields of
            :data:`qaq.columns.SPAN_FIELDS` (summed here; :func:`qaq.scoring.engine.iter_scores`
            divides by the token counts). With ``embed``: that frame with the pooled forward-pass
            states (:class:`EmbeddedSums`), from the same forward, so the sums do not change.
        """
        state = self._compiled
        if state is None or state.checked:
            sums, pooled = self._score_batch(batch, padding_side, embed)
        else:
            try:
                sums, pooled = self._score_batch(batch, padding_side, embed)
            except Exception as exc:  # compilation happens here, on the first compiled call
                compile_failed(state, exc)  # strict: raises ScoringError
                self.uncompile()
                sums, pooled = self._score_batch(batch, padding_side, embed)
            else:
                self._compiled = replace(state, checked=True)
        return sums if pooled is None else EmbeddedSums(sums, pooled)

    def _score_batch(
        self, batch: Sequence[Encoded], padding_side: str, embed: bool
    ) -> tuple[pd.DataFrame, np.ndarray | None]:
        # One forward per pass: every reverse sequence is longer (or shorter) than its forward one
        # by the same template tokens, so padding both to one width would waste that difference
        # on every forward row (9% of the positions on the bundled sample; 2% split like this).
        out: dict[str, np.ndarray] = {}
        pooled: np.ndarray | None = None
        sum_device = self.placement.sum_device
        for prefix, sequence, span_fields in PASSES:
            seqs = [getattr(e, sequence) for e in batch]
            # Target slot of span k of sample j: 2 * j + k.
            spans = [
                [(*getattr(e, span), 2 * j + k) for k, (span, _) in enumerate(span_fields)] for j, e in enumerate(batch)
            ]
            pool = embed and sequence == EMBED_SEQUENCE
            hidden, rows, targets, slots, own = self._hidden_and_targets(prefix, seqs, spans, padding_side, embed=pool)
            nll = self.lm_head.nll(hidden, rows, targets)  # (N,) fp32
            if own is not None:  # the span's own tokens' states, by the same slots as their NLLs
                pooled = mean_pool(hidden, own, slots, 2 * len(batch)).view(len(batch), 2, -1).cpu().numpy()
            del hidden
            sums = torch.zeros(2 * len(batch), dtype=torch.float64, device=sum_device)
            sums.index_add_(0, slots.to(sum_device), nll.to(sum_device).double())
            by_span = sums.view(len(batch), 2).cpu().numpy()
            for k, (_, field) in enumerate(span_fields):
                out[field] = by_span[:, k]
        return pd.DataFrame({f: out[f] for f in SPAN_FIELDS}), pooled

    def _hidden_and_targets(
        self,
        prefix_name: str,
        seqs: list[tuple[int, ...]],
        spans: list[list[tuple[int, int, int]]],
        padding_side: str,
        *,
        embed: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Run the decoder body over one pass; return flat hidden states and, per target token,
        its row in them (the row whose logits predict it), its id, its span's slot and, with
        ``embed``, the row of its own state (None without)."""
        # Left padding would put pads between the prefix and each row, which a sliding window
        # (counting cache slots, not positions) would then cover: left-padded batches (kept for
        # the parity tests) forward whole sequences.
        prefix = self.prefixes.state(prefix_name) if padding_side == "right" else None
        skip = prefix.length if prefix is not None else 0  # leading tokens not forwarded again
        tails = [s[skip:] for s in seqs]
        hidden, starts = self._forward_packed(tails) if self.pack else self._forward_padded(tails, padding_side, prefix)
        hidden = hidden.reshape(-1, hidden.shape[-1])  # (B*T, H), or (S, H) packed
        base = 0
        if prefix is not None:
            # Row 0: the prefix's last state, which predicts the first token after the prefix.
            hidden = torch.cat([prefix.last[None].to(hidden.dtype), hidden])
            base = 1
        rows: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        slots: list[np.ndarray] = []
        own: list[np.ndarray] = []
        for i, s in enumerate(seqs):
            arr = np.asarray(s, dtype=np.int64)
            for start, end, slot in spans[i]:
                rows.append(predicting_rows(start, end, first_row=base + int(starts[i]), skip=skip))
                targets.append(arr[start:end])
                slots.append(np.full(end - start, slot, dtype=np.int64))
                if embed:
                    own.append(span_rows(start, end, first_row=base + int(starts[i]), skip=skip))

        def cat(parts: list[np.ndarray]) -> torch.Tensor:
            return torch.from_numpy(np.concatenate(parts) if parts else np.zeros(0, np.int64)).to(self.device)

        return hidden, cat(rows), cat(targets), cat(slots), (cat(own) if embed else None)

    def _forward_packed(self, tails: list[tuple[int, ...]]) -> tuple[torch.Tensor, np.ndarray]:
        """Hidden states (1, S, H) of sequences packed back to back, and each one's first row."""
        # One row, position ids restarting at 0 for each sequence: varlen attention keeps them
        # apart and no compute goes to padding.
        flat = np.fromiter((t for s in tails for t in s), dtype=np.int64)
        starts = np.cumsum([0] + [len(s) for s in tails])[:-1]
        pos = np.concatenate([np.arange(len(s)) for s in tails])
        ids = torch.from_numpy(flat).to(self.device)[None]  # (1, S)
        position_ids = torch.from_numpy(pos).to(self.device)[None]  # (1, S)
        with self.placement.autocast():
            hidden = self.body(input_ids=ids, position_ids=position_ids, use_cache=False).last_hidden_state
        return hidden, starts

    def _forward_padded(
        self, tails: list[tuple[int, ...]], padding_side: str, prefix: PrefixState | None
    ) -> tuple[torch.Tensor, np.ndarray]:
        """Hidden states (B, T, H) of a padded batch (continuing from ``prefix``), and each row's
        first real position in the flattened (B*T) rows."""
        dev = self.device
        width = max(len(s) for s in tails)
        ids_np = np.full((len(tails), width), self.pad_id, dtype=np.int64)
        mask_np = np.zeros((len(tails), width), dtype=np.int64)
        starts = np.zeros(len(tails), dtype=np.int64)
        for i, s in enumerate(tails):
            off = width - len(s) if padding_side == "left" else 0
            ids_np[i, off : off + len(s)] = s
            mask_np[i, off : off + len(s)] = 1
            starts[i] = i * width + off
        ids = torch.from_numpy(ids_np).to(dev)  # (B, T)
        mask = torch.from_numpy(mask_np).to(dev)  # (B, T)
        if padding_side == "left":
            attention_mask = mask
            position_ids = (mask.cumsum(-1) - 1).clamp(min=0)  # (B, T): 0 at each sequence's first token
        else:
            # Right padding needs no mask: under causal attention a real token never sees the
            # pads after it, so the plain causal kernel (which skips masked blocks) gives the
            # same numbers as a padding mask at up to 2.6x less attention time (long rows,
            # CPU). Pads keep counting positions: a repeated position id would read as a
            # packed sequence boundary and bring the mask back.
            attention_mask = None
            skip = prefix.length if prefix is not None else 0
            position_ids = skip + torch.arange(width, device=dev).expand(len(tails), width)
        kwargs: dict[str, Any] = {"use_cache": False}
        if prefix is not None:
            kwargs = {"use_cache": True, self.prefixes.cache_keyword: prefix.expand(len(tails))}
        with self.placement.autocast():
            hidden = self.body(
                input_ids=ids, attention_mask=attention_mask, position_ids=position_ids, **kwargs
            ).last_hidden_state  # (B, T, H)
        return hidden, starts

    @torch.inference_mode()
    def span_nlls(self, e: Encoded) -> dict[str, np.ndarray]:
        """Per-token NLL of each span of one sample, by its field (:data:`qaq.columns.SPAN_FIELDS`):
        the forwards and head of :meth:`score_batch` for a batch of one, before the sums."""
        values: dict[str, np.ndarray] = {}
        for prefix, sequence, span_fields in PASSES:
            spans = [[(*getattr(e, span), k) for k, (span, _) in enumerate(span_fields)]]
            hidden, rows, targets, slots, _ = self._hidden_and_targets(prefix, [getattr(e, sequence)], spans, "right")
            nll = self.lm_head.nll(hidden, rows, targets).double().cpu().numpy()  # (N,) in target order
            slot = slots.cpu().numpy()
            for k, (_, field) in enumerate(span_fields):
                values[field] = nll[slot == k]
        return values

    def token_nlls(self, query: str, answer: str, *, max_length: int, threads: int | None = 1) -> TokenNlls:
        """:func:`qaq.scoring.tokens.token_nlls` with this model (the app's token view)."""
        return token_nlls(self, query, answer, max_length=max_length, threads=threads)

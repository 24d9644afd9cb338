"""The torch scoring backend: load a causal LM, encode pairs, score them in batches.

This is the only module (with :mod:`qaq.scoring.reference`) that imports torch or transformers.

The fast path (METHOD.md section 7):

* two forwards per sample: the forward layout yields ``nll_q`` and ``nll_a_given_q``, the reverse
  layout ``nll_q_given_a`` and ``nll_a`` (see :mod:`qaq.scoring.templates`);
* no ``(batch, tokens, vocab)`` log-softmax: the decoder body runs once, then the LM head is
  applied only to the rows that predict a target token, in chunks, with an fp32 logsumexp;
* batches are cut to a token budget by the caller after sorting by length (longest first);
* bf16 where the hardware has it, with the normalizer in fp32;
* optional padding-free packing (position ids reset per sequence) for varlen attention on GPU;
* optional ``torch.compile`` of each decoder layer and of the head's normalizer
  (:meth:`ScoringModel.compile`): fuses the norm, rotary, activation and logsumexp passes that
  cost about 40% of a bf16 CPU forward in eager mode.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from qaq.scoring.hardware import HardwareError, choose_device, choose_dtype, cpu_info, device_kind, emulated_bf16_warning
from qaq.scoring.models import ModelSource
from qaq.scoring.templates import DEFAULT_REVERSE_INSTRUCTION, DEFAULT_SYSTEM, Layout, TemplateKind, build_layout

log = logging.getLogger("qaq")

# Order of the four per-sample sums everywhere in the backend.
SPANS = ("nll_q", "nll_a_given_q", "nll_q_given_a", "nll_a")

# Bytes of fp32 logits the chunked head may hold at once (rows x vocab x 4): small on CPU, where
# the buffers should stay near the caches; larger on GPU, where a 110-row matmul (64 MiB at a
# 152k vocabulary) would leave the device idle between launches.
HEAD_CHUNK_BYTES = {"cpu": 64 << 20, "cuda": 1 << 30}


class ScoringError(RuntimeError):
    """The model cannot be loaded or run as asked (bad device, dtype, or architecture)."""


@dataclass(frozen=True)
class Encoded:
    """One sample's token ids for both passes, with target spans as [start, end) token indices.

    Token ``t`` of a span is predicted by the logits at position ``t - 1``. What a model
    forwards of them is :meth:`ScoringModel.widths` (a reused template prefix is not run again).
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


# Torch dtypes of the weights per precision: bf16-mixed keeps fp32 weights (autocast runs the
# matmuls in bf16).
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
_WEIGHT_DTYPE = {"bf16": "bf16", "fp16": "fp16", "fp32": "fp32", "bf16-mixed": "fp32"}


def _source_kwargs(source: ModelSource, trust_remote_code: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if source.gguf_file:
        kwargs["gguf_file"] = source.gguf_file
    return kwargs


def load_tokenizer(source: ModelSource, *, trust_remote_code: bool = False) -> Any:
    """Load only the tokenizer of a resolved source (a GGUF file's embedded one included)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(source.path), **_source_kwargs(source, trust_remote_code))
    except (OSError, ValueError, KeyError, ImportError) as exc:
        raise ScoringError(f"model {source.spec!r}: its tokenizer could not be loaded from {source.path}: {exc}") from exc


def load_causal_lm(source: ModelSource, *, device: str, dtype: str, trust_remote_code: bool = False) -> tuple[Any, Any]:
    """Load (model, tokenizer) from a resolved source; GGUF weights are dequantized to dense."""
    from transformers import AutoModelForCausalLM, GgufConfig

    kwargs = _source_kwargs(source, trust_remote_code)
    tokenizer = load_tokenizer(source, trust_remote_code=trust_remote_code)
    try:
        model_kwargs = dict(kwargs, dtype=_DTYPES[dtype])
        if source.gguf_file:
            model_kwargs["quantization_config"] = GgufConfig(dequantize=True)
        model = AutoModelForCausalLM.from_pretrained(str(source.path), **model_kwargs)
    except (OSError, ValueError, KeyError, ImportError) as exc:
        raise ScoringError(f"model {source.spec!r} could not be loaded from {source.path}: {exc}") from exc
    model.to(device).eval()
    return model, tokenizer


class ScoringModel:
    """A loaded model with its tokenizer and prompt layout: the stateful resource of scoring.

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
            every row (see :meth:`_prefix_state`); the numbers are the same either way.
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
        try:
            self.device, self.device_reason = choose_device(device)
            self.dtype, self.dtype_reason = choose_dtype(dtype, self.device)
        except HardwareError as exc:
            raise ScoringError(str(exc)) from None
        warning = emulated_bf16_warning(self.dtype) if self.device == "cpu" else None
        if warning:
            log.warning("%s", warning)
        # bf16-mixed (CPU): fp32 weights and residual stream, bf16 matmuls (autocast). Pure bf16
        # lets the residual stream drift over 30 layers enough to reorder close RMI values
        # (Spearman vs fp32 0.9990 on 120 sample rows, 0.9997 mixed); pure bf16 is about 1.4x faster.
        self._precision = self.dtype  # as asked: fp32, bf16, fp16 or bf16-mixed
        weight_dtype = _WEIGHT_DTYPE[self._precision]
        self.mixed = self._precision == "bf16-mixed"
        self.dtype = "bf16" if self.mixed else self._precision  # the matmuls' dtype
        if model is None:
            model, tokenizer = load_causal_lm(
                source, device=self.device, dtype=weight_dtype, trust_remote_code=trust_remote_code
            )
        else:  # an already-built model (tests, notebooks): move it as asked
            model = model.to(device=self.device, dtype=_DTYPES[weight_dtype]).eval()
        self.model = model
        self.tokenizer = tokenizer
        self.body = model.get_decoder()
        self.head = model.get_output_embeddings()
        if self.body is None or self.head is None:
            raise ScoringError(f"model {source.spec!r}: its architecture exposes no decoder body / LM head")
        self.softcap = getattr(model.config, "final_logit_softcapping", None)
        # The LM head's weight in the compute dtype (a copy only under mixed precision).
        self.head_weight = self.head.weight.detach().to(_DTYPES[self.dtype])
        bos = tokenizer.bos_token if _adds_bos(tokenizer) else None
        self.layout: Layout = build_layout(
            tokenizer,
            model_type=getattr(model.config, "model_type", None),
            kind=template,
            system=system,
            reverse_instruction=reverse_instruction,
            bos_token=bos,
        )
        attn = getattr(model.config, "_attn_implementation", "") or ""
        self.pack = ("flash" in attn) if pack is None else pack
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self._pieces = {
            name: self._ids(getattr(self.layout, name), user=False)
            for name in ("fwd_prefix", "fwd_middle", "rev_prefix", "rev_middle")
        }
        if not self._pieces["fwd_prefix"] or not self._pieces["rev_prefix"]:
            raise ScoringError("the prompt layout has an empty prefix: the first query token would have no context")
        # Packed batches are one long row with restarting positions: a shared prefix cache does not
        # fit that layout, and varlen kernels waste nothing on padding anyway. A prefix as long as
        # a sliding attention window would not fit in that window's cache.
        self.reuse_prefix = reuse_prefix and not self.pack
        self._skip = self._reusable_prefixes()  # per pass: leading tokens run once for all rows
        self._cache_argument = _cache_keyword(self.body)
        self._prefix: dict[str, _Prefix] = {}  # per pass, once computed
        if self.device == "cpu":
            torch.set_num_threads(cpu_info().threads)
        # Span sums are float64; MPS has no float64, so they are accumulated on the CPU there.
        self._sum_device = "cpu" if device_kind(self.device) == "mps" else self.device
        self._eager_layers: list[Any] | None = None
        self._compiled_nll: Any = None
        self._compile_strict = False
        self._compile_checked = False

    def _reusable_prefixes(self) -> dict[str, int]:
        """Per pass, the prefix tokens to run once for all rows (0: run with every row)."""
        window = getattr(self.model.config, "sliding_window", None) or 0
        skip = {}
        for name in ("fwd_prefix", "rev_prefix"):
            n = len(self._pieces[name])
            skip[name] = n if self.reuse_prefix and not (window and n >= window - 1) else 0
        return skip

    @property
    def precision(self) -> str:
        """What the numbers were computed in: ``fp32``, ``bf16``, ``fp16`` or ``bf16-mixed`` (CPU;
        its :attr:`dtype` is bf16, the matmuls')."""
        return self._precision

    @property
    def compiled(self) -> bool:
        """Whether the decoder layers are the torch.compile'd ones (see :meth:`compile`)."""
        return self._eager_layers is not None

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
            "prefix_reused": any(self._skip.values()),
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
        layers = getattr(self.body, "layers", None)
        if not isinstance(layers, torch.nn.ModuleList):
            if strict:
                raise ScoringError(f"--compile on: {type(self.body).__name__} has no decoder layer list to compile")
            log.info("compile: %s has no decoder layer list; running eager", type(self.body).__name__)
            return False
        if self.compiled:
            return True
        self._eager_layers = list(layers)
        for i, layer in enumerate(self._eager_layers):
            layers[i] = torch.compile(layer, dynamic=True)
        self._compiled_nll = torch.compile(_chunk_nll, dynamic=True)
        self._compile_strict, self._compile_checked = strict, False
        # Compiled layers forward whole sequences: a layer that appends to a key/value cache
        # specialises its graph on the layer index (one compile per layer instead of one for all),
        # and the compiled path is what was measured on AMX CPUs and GPUs.
        self._prefix.clear()
        self._skip = dict.fromkeys(self._skip, 0)
        return True

    def uncompile(self) -> None:
        """Back to the eager layers and head."""
        if self._eager_layers is not None:
            layers = self.body.layers
            for i, layer in enumerate(self._eager_layers):
                layers[i] = layer
        self._eager_layers, self._compiled_nll = None, None
        self._skip = self._reusable_prefixes()

    # ----- encoding ---------------------------------------------------------------------------
    def _ids(self, text: str, *, user: bool) -> list[int]:
        if not text:
            return []
        # User text never turns into control tokens: "<|im_end|>" inside a query stays text.
        extra = {"split_special_tokens": True} if user else {}
        return list(self.tokenizer(text, add_special_tokens=False, **extra)["input_ids"])

    def encode(self, query: str, answer: str, *, max_length: int) -> Encoded:
        """Tokenize one pair for both passes, truncating as :func:`truncate_spans` states."""
        return self.encode_ids(self._ids(query, user=True), self._ids(answer, user=True), max_length=max_length)

    def encode_many(self, queries: Sequence[str], answers: Sequence[str], *, max_length: int) -> list[Encoded]:
        """Tokenize many pairs (one tokenizer call per side)."""
        extra = {"split_special_tokens": True}
        q_ids = self.tokenizer(list(queries), add_special_tokens=False, **extra)["input_ids"] if queries else []
        a_ids = self.tokenizer(list(answers), add_special_tokens=False, **extra)["input_ids"] if answers else []
        return [self.encode_ids(list(q), list(a), max_length=max_length) for q, a in zip(q_ids, a_ids)]

    def encode_ids(self, q: list[int], a: list[int], *, max_length: int) -> Encoded:
        p = self._pieces
        overhead = max(len(p["fwd_prefix"]) + len(p["fwd_middle"]), len(p["rev_prefix"]) + len(p["rev_middle"]))
        keep_q, keep_a = truncate_spans(len(q), len(a), max_length - overhead)
        truncated = (len(q) - keep_q) + (len(a) - keep_a)
        q, a = q[:keep_q], a[:keep_a]
        fwd = p["fwd_prefix"] + q + p["fwd_middle"] + a
        q0 = len(p["fwd_prefix"])
        a0 = q0 + len(q) + len(p["fwd_middle"])
        rev = p["rev_prefix"] + a + p["rev_middle"] + q
        ra0 = len(p["rev_prefix"])
        rq0 = ra0 + len(a) + len(p["rev_middle"])
        return Encoded(
            tuple(fwd), (q0, q0 + len(q)), (a0, a0 + len(a)),
            tuple(rev), (ra0, ra0 + len(a)), (rq0, rq0 + len(q)),
            truncated,
        )

    def widths(self, e: Encoded) -> tuple[int, int]:
        """Tokens this model runs for ``e`` in the forward and the reverse pass: the sequences less
        the template prefixes it runs once for all rows (right-padded batches, see :meth:`_prefix_state`)."""
        return len(e.fwd) - self._skip["fwd_prefix"], len(e.rev) - self._skip["rev_prefix"]

    def width(self, e: Encoded) -> int:
        """The width ``e`` needs in a padded batch: the longer of its two forwarded sequences."""
        return max(self.widths(e))

    def forwarded(self, e: Encoded) -> int:
        """Tokens this model runs for ``e``, both passes (reused prefixes not counted)."""
        return sum(self.widths(e))

    # ----- scoring ----------------------------------------------------------------------------
    @torch.inference_mode()
    def score_batch(self, batch: Sequence[Encoded], *, padding_side: str = "right") -> np.ndarray:
        """Summed NLL (nats) of the four spans of each sample.

        Returns:
            float64 array of shape (len(batch), 4), columns in :data:`SPANS` order.
        """
        if self.compiled and not self._compile_checked:
            try:
                sums = self._score_batch(batch, padding_side)
            except Exception as exc:  # compilation happens here, on the first compiled call
                if self._compile_strict:
                    raise ScoringError(f"--compile on: torch.compile failed: {type(exc).__name__}: {exc}") from exc
                log.warning("torch.compile failed (%s: %s); scoring in eager mode", type(exc).__name__,
                            str(exc).splitlines()[0] if str(exc) else "")
                self.uncompile()
                return self._score_batch(batch, padding_side)
            self._compile_checked = True
            return sums
        return self._score_batch(batch, padding_side)

    def _score_batch(self, batch: Sequence[Encoded], padding_side: str) -> np.ndarray:
        # One forward per pass: every reverse sequence is longer (or shorter) than its forward one
        # by the same template tokens, so padding both to one width would waste that difference
        # on every forward row (9% of the positions on the bundled sample; 2% split like this).
        sums = torch.zeros(4 * len(batch), dtype=torch.float64, device=self._sum_device)
        for prefix, first_slot, seq_of, span_of in (
            ("fwd_prefix", 0, lambda e: e.fwd, lambda e: (e.fwd_q, e.fwd_a)),
            ("rev_prefix", 2, lambda e: e.rev, lambda e: (e.rev_q, e.rev_a)),
        ):
            seqs = [seq_of(e) for e in batch]
            spans = [[(*q, 4 * j + first_slot), (*a, 4 * j + first_slot + 1)]
                     for j, (q, a) in enumerate(span_of(e) for e in batch)]
            hidden, rows, targets, slots = self._hidden_and_targets(prefix, seqs, spans, padding_side)
            nll = self._target_nll(hidden, rows, targets)  # (N,) fp32
            del hidden
            sums.index_add_(0, slots.to(self._sum_device), nll.to(self._sum_device).double())
        return sums.view(len(batch), 4).cpu().numpy()

    def _prefix_state(self, name: str) -> "_Prefix | None":
        """The template prefix ``name`` (``fwd_prefix`` or ``rev_prefix``) run once, or None.

        Every sequence of a pass starts with the same prefix tokens (system prompt, role tokens,
        the reverse instruction: 15 and 56 tokens with SmolLM2's template, about a fifth of a
        typical pair's positions). A causal LM's states there do not depend on what follows,
        so they are computed once per model and mode, and each batch continues from their keys
        and values. None where that cannot apply: packed batches, or a prefix that would not
        fit in a sliding attention window (its cache would then hold only part of it).
        """
        if not self._skip[name]:
            return None
        state = self._prefix.get(name)
        if state is None:
            ids = self._pieces[name]
            with self._autocast():
                out = self.body(input_ids=torch.tensor([ids], device=self.device), use_cache=True)
            cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
            if cache is None:
                raise ScoringError(f"model {self.source.spec!r}: its decoder returned no key/value cache; "
                                   "score it with reuse_prefix=False")
            state = self._prefix[name] = _Prefix(len(ids), cache, out.last_hidden_state[0, -1])
        return state

    def _hidden_and_targets(
        self, prefix_name: str, seqs: list[tuple[int, ...]], spans: list[list[tuple[int, int, int]]],
        padding_side: str,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run the decoder body over one pass; return flat hidden states and, per target token,
        its row in them (the row whose logits predict it), its id and its span's slot."""
        dev = self.device
        # Left padding would put pads between the prefix and each row, which a sliding window
        # (counting cache slots, not positions) would then cover: left-padded batches (kept for
        # the parity tests) forward whole sequences.
        prefix = self._prefix_state(prefix_name) if padding_side == "right" else None
        skip = prefix.length if prefix is not None else 0  # leading tokens not forwarded again
        tails = [s[skip:] for s in seqs]
        if self.pack:
            # One row, sequences back to back, position ids restarting at 0 for each sequence:
            # varlen attention keeps them apart and no compute goes to padding.
            flat = np.fromiter((t for s in tails for t in s), dtype=np.int64)
            starts = np.cumsum([0] + [len(s) for s in tails])[:-1]
            pos = np.concatenate([np.arange(len(s)) for s in tails])
            ids = torch.from_numpy(flat).to(dev)[None]  # (1, S)
            position_ids = torch.from_numpy(pos).to(dev)[None]  # (1, S)
            with self._autocast():
                hidden = self.body(input_ids=ids, position_ids=position_ids, use_cache=False).last_hidden_state
        else:
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
                position_ids = skip + torch.arange(width, device=dev).expand(len(tails), width)
            kwargs: dict[str, Any] = {"use_cache": False}
            if prefix is not None:
                kwargs = {"use_cache": True, self._cache_argument: prefix.expand(len(tails))}
            with self._autocast():
                hidden = self.body(
                    input_ids=ids, attention_mask=attention_mask, position_ids=position_ids, **kwargs
                ).last_hidden_state  # (B, T, H)
        hidden = hidden.reshape(-1, hidden.shape[-1])  # (B*T, H), or (S, H) packed
        base = 0
        if prefix is not None:
            # Row 0: the prefix's last state, which predicts the first token after the prefix.
            hidden = torch.cat([prefix.last[None].to(hidden.dtype), hidden])
            base = 1
        rows: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        slots: list[np.ndarray] = []
        for i, s in enumerate(seqs):
            arr = np.asarray(s, dtype=np.int64)
            for start, end, slot in spans[i]:
                t = np.arange(start, end) - 1 - skip  # logits at t-1 predict token t; tails start at `skip`
                rows.append(np.where(t < 0, 0, base + starts[i] + t))
                targets.append(arr[start:end])
                slots.append(np.full(end - start, slot, dtype=np.int64))
        cat = lambda parts: torch.from_numpy(np.concatenate(parts) if parts else np.zeros(0, np.int64)).to(dev)  # noqa: E731
        return hidden, cat(rows), cat(targets), cat(slots)

    def _target_nll(self, hidden: torch.Tensor, rows: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """NLL of each target token; the head runs on target rows only, a chunk at a time.

        The chunk's logits go into buffers kept between calls and the normalizer is computed in
        place (max, subtract, exp, sum) in fp32: a fresh (rows, vocab) allocation per chunk would
        cost more in page faults than the arithmetic (vocabularies reach 262k entries).
        """
        weight = self.head_weight  # (V, H) in the compute dtype
        vocab = weight.shape[0]
        chunk = max(1, HEAD_CHUNK_BYTES["cpu" if hidden.device.type == "cpu" else "cuda"] // (4 * vocab))
        n = rows.shape[0]
        out = torch.empty(n, dtype=torch.float32, device=hidden.device)
        if self._compiled_nll is not None:
            # The compiled normalizer reads each chunk's logits once; no fp32 copy is materialised.
            for lo in range(0, n, chunk):
                hi = min(n, lo + chunk)
                h = hidden.index_select(0, rows[lo:hi]).to(weight.dtype)
                out[lo:hi] = self._compiled_nll(h, weight, targets[lo:hi], self.head.bias, self.softcap)
            return out
        z_buf, raw_buf = self._head_buffers(min(chunk, max(n, 1)), vocab, weight)
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            h = hidden.index_select(0, rows[lo:hi]).to(weight.dtype)  # (m, H)
            z = z_buf[: hi - lo]  # (m, V) fp32
            if raw_buf is None:
                torch.mm(h, weight.t(), out=z)
            else:
                raw = raw_buf[: hi - lo]  # (m, V) in the model dtype
                torch.mm(h, weight.t(), out=raw)
                z.copy_(raw)
            if self.head.bias is not None:
                z.add_(self.head.bias)
            if self.softcap:
                z.div_(self.softcap).tanh_().mul_(self.softcap)
            target = z.gather(1, targets[lo:hi, None]).squeeze(1)  # (m,)
            peak = z.amax(dim=1, keepdim=True)  # (m, 1)
            lse = peak.squeeze(1) + z.sub_(peak).exp_().sum(dim=1).log()  # (m,)
            out[lo:hi] = lse - target
        return out

    def _autocast(self) -> Any:
        """Half-precision matmuls over fp32 weights (mixed precision on CPU); a no-op otherwise."""
        return torch.autocast("cpu", dtype=_DTYPES[self.dtype], enabled=self.mixed)

    def _head_buffers(self, rows: int, vocab: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """fp32 (rows, V) logits buffer, plus one in the model dtype when that is not fp32."""
        buffers = getattr(self, "_buffers", None)
        if buffers is None or buffers[0].shape[0] < rows or buffers[0].device != like.device:
            z = torch.empty(rows, vocab, dtype=torch.float32, device=like.device)
            raw = None if like.dtype == torch.float32 else torch.empty(rows, vocab, dtype=like.dtype, device=like.device)
            buffers = self._buffers = (z, raw)
        return buffers

    @torch.inference_mode()
    def token_nlls(self, query: str, answer: str, *, max_length: int) -> dict[str, list]:
        """Per-token NLL of the query without and with the answer (for the app's token view).

        Returns:
            ``{"tokens": [str, ...], "nll_q": [...], "nll_q_given_a": [...]}`` over Q's tokens.
        """
        e = self.encode(query, answer, max_length=max_length)
        nlls = []
        for prefix, seq, span in (("fwd_prefix", e.fwd, e.fwd_q), ("rev_prefix", e.rev, e.rev_q)):
            hidden, rows, targets, _ = self._hidden_and_targets(prefix, [seq], [[(*span, 0)]], "right")
            nlls.append(self._target_nll(hidden, rows, targets).cpu())
        nll = torch.cat(nlls)
        n = e.n_q
        q_ids = list(e.fwd[e.fwd_q[0] : e.fwd_q[1]])
        return {
            "tokens": [self.tokenizer.decode([t]) for t in q_ids],
            "nll_q": nll[:n].tolist(),
            "nll_q_given_a": nll[n:].tolist(),
        }


@dataclass(frozen=True)
class _Prefix:
    """A pass's template prefix, run once: the state every row of that pass continues from."""

    length: int  # tokens in the prefix
    cache: Any  # the transformers key/value cache after the prefix, batch size 1
    last: torch.Tensor  # (H,) the prefix's last hidden state: it predicts the first token after it

    def expand(self, n: int) -> Any:
        """A fresh cache holding the prefix for a batch of ``n`` rows (the forward appends to it)."""
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(n)
        return cache


def _chunk_nll(
    h: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, bias: torch.Tensor | None, softcap: float | None
) -> torch.Tensor:
    """NLL of ``targets`` under the head applied to ``h`` (m, H); the normalizer in fp32.

    Written for ``torch.compile``: eagerly it would hold (m, V) fp32 logits; compiled, the
    logsumexp is fused into reductions over the matmul's output.
    """
    z = (h @ weight.t()).float()  # (m, V)
    if bias is not None:
        z = z + bias.float()
    if softcap:
        z = torch.tanh(z / softcap) * softcap
    return torch.logsumexp(z, dim=1) - z.gather(1, targets[:, None]).squeeze(1)


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


def _cache_keyword(body: Any) -> str:
    """The decoder's keyword for a key/value cache: ``cache`` (transformers 5.2x) or ``past_key_values``."""
    import inspect

    return "cache" if "cache" in inspect.signature(body.forward).parameters else "past_key_values"


def _adds_bos(tokenizer: Any) -> bool:
    """Does the tokenizer start encoded text with a BOS token?"""
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return bool(ids) and ids[0] == bos

"""The chunked LM head: NLL of target tokens without a ``(batch, tokens, vocab)`` log-softmax.

The decoder body runs once; the head is then applied only to the rows that predict a target
token, a chunk of rows at a time, with the normalizer (logsumexp) in fp32 (METHOD.md section 7).
"""

from __future__ import annotations

from typing import Any

import torch

# Bytes of fp32 logits the chunked head may hold at once (rows x vocab x 4): small on CPU, where
# the buffers should stay near the caches; larger on GPU, where a 110-row matmul (64 MiB at a
# 152k vocabulary) would leave the device idle between launches.
HEAD_CHUNK_BYTES = {"cpu": 64 << 20, "cuda": 1 << 30}


class ChunkedHead:
    """A model's LM head, run on target rows only.

    Args:
        head: the model's output embedding (``weight`` (V, H), optional ``bias``).
        dtype: the compute dtype; the weight is copied into it only where it differs (mixed precision).
        softcap: the model's final logit softcap (Gemma), or None.
    """

    def __init__(self, head: Any, *, dtype: torch.dtype, softcap: float | None) -> None:
        self.weight = head.weight.detach().to(dtype)  # (V, H)
        self.bias = head.bias
        self.softcap = softcap
        self._compiled_nll: Any = None  # chunk_nll under torch.compile, once compiled
        self._buffers: tuple[torch.Tensor, torch.Tensor | None] | None = None

    @property
    def compiled(self) -> bool:
        return self._compiled_nll is not None

    def compile(self) -> None:
        """Compute each chunk with a torch.compile'd :func:`chunk_nll` (compiled on its first call)."""
        self._compiled_nll = torch.compile(chunk_nll, dynamic=True)

    def uncompile(self) -> None:
        self._compiled_nll = None

    def nll(self, hidden: torch.Tensor, rows: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """NLL (fp32) of each target token: ``targets[i]`` predicted by ``hidden[rows[i]]``.

        Eagerly, the chunk's logits go into buffers kept between calls and the normalizer is
        computed in place (max, subtract, exp, sum) in fp32: a fresh (rows, vocab) allocation per
        chunk would cost more in page faults than the arithmetic (vocabularies reach 262k entries).
        """
        weight = self.weight  # (V, H) in the compute dtype
        vocab = weight.shape[0]
        chunk = max(1, HEAD_CHUNK_BYTES["cpu" if hidden.device.type == "cpu" else "cuda"] // (4 * vocab))
        n = rows.shape[0]
        out = torch.empty(n, dtype=torch.float32, device=hidden.device)
        if self._compiled_nll is not None:
            # The compiled normalizer reads each chunk's logits once; no fp32 copy is materialised.
            for lo in range(0, n, chunk):
                hi = min(n, lo + chunk)
                h = hidden.index_select(0, rows[lo:hi]).to(weight.dtype)
                out[lo:hi] = self._compiled_nll(h, weight, targets[lo:hi], self.bias, self.softcap)
            return out
        z_buf, raw_buf = self._buffers_for(min(chunk, max(n, 1)), vocab, weight)
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
            if self.bias is not None:
                z.add_(self.bias)
            if self.softcap:
                z.div_(self.softcap).tanh_().mul_(self.softcap)
            target = z.gather(1, targets[lo:hi, None]).squeeze(1)  # (m,)
            peak = z.amax(dim=1, keepdim=True)  # (m, 1)
            lse = peak.squeeze(1) + z.sub_(peak).exp_().sum(dim=1).log()  # (m,)
            out[lo:hi] = lse - target
        return out

    def _buffers_for(self, rows: int, vocab: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """fp32 (rows, V) logits buffer, plus one in the model dtype when that is not fp32."""
        buffers = self._buffers
        if buffers is None or buffers[0].shape[0] < rows or buffers[0].device != like.device:
            z = torch.empty(rows, vocab, dtype=torch.float32, device=like.device)
            raw = (
                None if like.dtype == torch.float32 else torch.empty(rows, vocab, dtype=like.dtype, device=like.device)
            )
            buffers = self._buffers = (z, raw)
        return buffers


def chunk_nll(
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

"""GPU scoring throughput and MFU of qaq's fast path.

    python benchmarks/bench_gpu.py                                # 0.5B-class model + embedded models
    python benchmarks/bench_gpu.py --arch qwen2.5-0.5b --rows 4000 --batch-tokens 65536 --compile on

The 0.5B-class model has the published Qwen2.5-0.5B shape (24 layers, hidden 896, 14 query and 2
key/value heads, MLP 4864, vocabulary 151,936, tied embeddings) with random weights: speed does
not depend on the weights. Its token ids come from the embedded SmolLM2 tokenizer (all ids fit
the larger vocabulary). The data are the length-spread synthetic pairs of bench_scoring.py.

Reported per model, medians of --runs timed runs after one warm-up run:

* tokens/s: real (unpadded) tokens forwarded per second, both passes of every sample;
* MFU = 2 x parameters x tokens / seconds / peak, with --peak-tflops (989: H100/H200 dense bf16).
  This counts every parameter for every token, as the usual formula does, although the LM head
  runs only on the target rows;
* padded_fraction: the share of computed positions that were padding (0 when packing).

``--device cpu --arch tiny`` runs the same code on a CPU (the test suite does this).

A GPU machine that cannot hold the embedded GGUF files (they are 98 MB and 240 MB) can still time
their architectures: ``--save-shapes DIR`` writes each ``--models`` entry's config and tokenizer
(no weights) to ``DIR/<name>/`` on a machine that has them, and ``--arch DIR/<name>`` then times a
random-weight copy of that architecture with its own tokenizer:

    python benchmarks/bench_gpu.py --save-shapes shapes              # here, with the GGUF files
    python benchmarks/bench_gpu.py --arch qwen2.5-0.5b,shapes/smollm2-135m,shapes/gemma3-270m \
        --tokenizer shapes/smollm2-135m --models ''                  # there
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

ARCHS: dict[str, dict[str, Any]] = {
    "qwen2.5-0.5b": dict(model_type="qwen2", hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                         max_position_embeddings=32768, rope_theta=1_000_000.0, rms_norm_eps=1e-6,
                         tie_word_embeddings=True),
    "tiny": dict(model_type="llama", hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, vocab_size=49152, max_position_embeddings=4096,
                 tie_word_embeddings=True),
}
H100_BF16_TFLOPS = 989.0


def random_model(arch: str, *, tokenizer_spec: str, device: str, dtype: str, attn: str | None) -> Any:
    """A ScoringModel with random weights and the architecture ``arch``: a name in :data:`ARCHS`
    (tokenizer: ``tokenizer_spec``) or a directory written by ``--save-shapes`` (its own tokenizer)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.loading import load_tokenizer
    from qaq.scoring.models import ModelSource, resolve_model

    if arch in ARCHS:
        cfg = dict(ARCHS[arch])
        config = AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    else:
        shape_dir = Path(arch)
        if not (shape_dir / "config.json").is_file():
            raise SystemExit(f"--arch {arch!r}: neither one of {sorted(ARCHS)} nor a directory with a config.json")
        config = AutoConfig.from_pretrained(shape_dir)
        tokenizer_spec = str(shape_dir)
        arch = shape_dir.name
    # A --save-shapes directory has a tokenizer and no weights: resolve_model would refuse it as a model.
    tok_dir = Path(tokenizer_spec)
    tok_source = (ModelSource(spec=tokenizer_spec, kind="local", path=tok_dir.resolve(), gguf_file=None,
                              identity=f"tokenizer:{tok_dir.name}")
                  if tok_dir.is_dir() else resolve_model(tokenizer_spec))
    tokenizer = load_tokenizer(tok_source)
    if attn:
        config._attn_implementation = attn
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    source = ModelSource(spec=f"random:{arch}", kind="random", path=tok_source.path, gguf_file=None,
                         identity=f"random:{arch}")
    return ScoringModel(source, device=device, dtype=dtype, model=model, tokenizer=tokenizer)


def padded_fraction(sm: Any, encoded: list, batch_tokens: int) -> float:
    """Share of computed positions that are padding under qaq's batching (0 when packing)."""
    from qaq.scoring.engine import plan_batches

    if sm.pack:
        return 0.0
    real = padded = 0
    for idx in plan_batches([sm.width(e) for e in encoded], batch_tokens):
        widths = [sm.widths(encoded[i]) for i in idx]  # one forward per pass, each padded to its own width
        padded += len(idx) * (max(w[0] for w in widths) + max(w[1] for w in widths))
        real += sum(map(sum, widths))
    return 1 - real / padded if padded else 0.0


def save_shapes(specs: list[str], out_dir: Path) -> None:
    """Write each model's config and tokenizer, without weights, to ``out_dir/<name>/``."""
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.models import resolve_model

    for spec in specs:
        sm = ScoringModel(resolve_model(spec), device="cpu", dtype="fp32")
        target = out_dir / Path(spec).name.removesuffix(".gguf")
        target.mkdir(parents=True, exist_ok=True)
        sm.model.config.save_pretrained(target)
        sm.tokenizer.save_pretrained(target)
        print(f"{spec}: config and tokenizer -> {target}", flush=True)


def fp32_copy(sm: Any) -> Any:
    """An fp32 ScoringModel with ``sm``'s weights (call before ``sm.compile()``)."""
    import copy

    from qaq.scoring.backend import ScoringModel

    return ScoringModel(sm.source, device=sm.device, dtype="fp32", model=copy.deepcopy(sm.model),
                        tokenizer=sm.tokenizer, pack=sm.pack)


def check_parity(sm: Any, fp32: Any, encoded: list, *, batch_tokens: int) -> dict[str, Any]:
    """The fast path on this device against the naive reference, in fp32, and the timed dtype's drift.

    ``fp32`` (see :func:`fp32_copy`) is scored by qaq's batches and by
    :func:`qaq.scoring.reference.reference_means`; returns the largest per-span mean-NLL difference between
    the two, and between ``sm`` itself (its dtype, compiled or not) and the fp32 batches.
    """
    import numpy as np

    from qaq.columns import SPAN_FIELDS
    from qaq.scoring.engine import score_all
    from qaq.scoring.reference import reference_means

    def means(model: Any) -> np.ndarray:
        return score_all(model, encoded, batch_tokens=batch_tokens)[list(SPAN_FIELDS)].to_numpy()

    reference = reference_means(fp32, encoded)[list(SPAN_FIELDS)].to_numpy()
    fast32 = means(fp32)
    timed = means(sm)
    return {"check_rows": len(encoded), "fp32_vs_reference_max_abs": float(np.nanmax(np.abs(fast32 - reference))),
            f"{sm.precision}_vs_fp32_max_abs": float(np.nanmax(np.abs(timed - fast32)))}


def measure(sm: Any, encoded: list, *, batch_tokens: int, runs: int, peak_tflops: float) -> dict[str, Any]:
    import torch

    from qaq.scoring.engine import iter_scores

    def once() -> float:
        if sm.device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in iter_scores(sm, encoded, batch_tokens=batch_tokens):
            pass
        if sm.device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    if sm.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    warm = once()  # kernel selection, allocator growth, compilation when on
    times = [once() for _ in range(runs)]
    med = statistics.median(times)
    tokens = sum(map(sm.forwarded, encoded))
    params = sm.n_params
    out = {
        "model": sm.source.spec, "parameters": params, "device": sm.device, "dtype": sm.precision,
        "compiled": sm.compiled, "packed": sm.pack, "rows": len(encoded), "tokens": tokens,
        "batch_tokens": batch_tokens, "warmup_seconds": round(warm, 2), "seconds": [round(t, 3) for t in times],
        "samples_per_s": round(len(encoded) / med, 1), "tokens_per_s": round(tokens / med),
        "mfu": round(2 * params * tokens / med / (peak_tflops * 1e12), 4), "peak_tflops": peak_tflops,
        "padded_fraction": round(padded_fraction(sm, encoded, batch_tokens), 4),
    }
    if sm.device.startswith("cuda"):
        out["gpu"] = torch.cuda.get_device_name(0)
        out["peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return out


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="qwen2.5-0.5b",
                        help=f"random-weight architectures, comma-separated: names ({', '.join(sorted(ARCHS))}) "
                             "or --save-shapes directories")
    parser.add_argument("--models", default="smollm2-135m,gemma3-270m",
                        help="embedded or local models to time as well, comma-separated ('' for none)")
    parser.add_argument("--tokenizer", default="smollm2-135m", help="tokenizer for the random model")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--attn", help="attention implementation for the random model, e.g. flash_attention_2")
    parser.add_argument("--pack", choices=["auto", "on", "off"], default="auto",
                        help="padding-free packing (auto: with a varlen attention kernel)")
    parser.add_argument("--compile", choices=["on", "off"], default="off")
    parser.add_argument("--rows", type=int, default=2000, help="synthetic pairs")
    parser.add_argument("--batch-tokens", type=int, default=16384)
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peak-tflops", type=float, default=H100_BF16_TFLOPS)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--check-rows", type=int, default=0,
                        help="before timing, compare the fast path with the naive reference on this many rows "
                             "(fp32 on the same device) and the timed dtype with fp32")
    parser.add_argument("--save-shapes", type=Path, metavar="DIR",
                        help="write the --models entries' configs and tokenizers to DIR/<name>/ and exit")
    args = parser.parse_args(argv)
    model_specs = [m for m in args.models.split(",") if m]
    if args.save_shapes:
        save_shapes(model_specs, args.save_shapes)
        return []

    from bench_scoring import synthetic_pairs

    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.models import resolve_model

    df = synthetic_pairs(args.rows)
    models = [random_model(arch, tokenizer_spec=args.tokenizer, device=args.device, dtype=args.dtype, attn=args.attn)
              for arch in args.arch.split(",") if arch]
    models += [ScoringModel(resolve_model(spec), device=args.device, dtype=args.dtype) for spec in model_specs]
    results = []
    for sm in models:
        if args.pack != "auto":
            sm.pack = args.pack == "on"
        fp32 = fp32_copy(sm) if args.check_rows else None
        if args.compile == "on":
            sm.compile(strict=True)
        encoded = sm.encoder.encode_many(df["query"].tolist(), df["answer"].tolist(), max_length=args.max_length)
        checks = (check_parity(sm, fp32, encoded[: args.check_rows], batch_tokens=args.batch_tokens)
                  if fp32 is not None else {})
        del fp32
        results.append(measure(sm, encoded, batch_tokens=args.batch_tokens, runs=args.runs,
                               peak_tflops=args.peak_tflops) | checks)
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

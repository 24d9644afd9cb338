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
    """A ScoringModel with the named architecture and random weights, using another model's tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from qaq.backend import ScoringModel, load_tokenizer
    from qaq.models import ModelSource, resolve_model

    tok_source = resolve_model(tokenizer_spec)
    tokenizer = load_tokenizer(tok_source)
    cfg = dict(ARCHS[arch])
    config = AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    if attn:
        config._attn_implementation = attn
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    source = ModelSource(spec=f"random:{arch}", kind="random", path=tok_source.path, gguf_file=None,
                         identity=f"random:{arch}")
    return ScoringModel(source, device=device, dtype=dtype, model=model, tokenizer=tokenizer)


def padded_fraction(sm: Any, encoded: list, batch_tokens: int) -> float:
    """Share of computed positions that are padding under qaq's batching (0 when packing)."""
    from qaq.scoring import plan_batches

    if sm.pack:
        return 0.0
    real = padded = 0
    for idx in plan_batches([e.length for e in encoded], batch_tokens):
        width = max(e.length for e in (encoded[i] for i in idx))
        padded += 2 * len(idx) * width
        real += sum(len(encoded[i].fwd) + len(encoded[i].rev) for i in idx)
    return 1 - real / padded if padded else 0.0


def measure(sm: Any, encoded: list, *, batch_tokens: int, runs: int, peak_tflops: float) -> dict[str, Any]:
    import torch

    from qaq.scoring import iter_scores

    def once() -> float:
        if sm.device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in iter_scores(sm, encoded, batch_tokens=batch_tokens):
            pass
        if sm.device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    warm = once()  # kernel selection, allocator growth, compilation when on
    times = [once() for _ in range(runs)]
    med = statistics.median(times)
    tokens = sum(len(e.fwd) + len(e.rev) for e in encoded)
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
    parser.add_argument("--arch", default="qwen2.5-0.5b", choices=sorted(ARCHS))
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
    args = parser.parse_args(argv)

    from bench_scoring import synthetic_pairs

    from qaq.backend import ScoringModel
    from qaq.models import resolve_model

    df = synthetic_pairs(args.rows)
    models = [random_model(args.arch, tokenizer_spec=args.tokenizer, device=args.device, dtype=args.dtype,
                           attn=args.attn)]
    models += [ScoringModel(resolve_model(spec), device=args.device, dtype=args.dtype)
               for spec in filter(None, args.models.split(","))]
    results = []
    for sm in models:
        if args.pack != "auto":
            sm.pack = args.pack == "on"
        if args.compile == "on":
            sm.compile(strict=True)
        encoded = sm.encode_many(df["query"].tolist(), df["answer"].tolist(), max_length=args.max_length)
        results.append(measure(sm, encoded, batch_tokens=args.batch_tokens, runs=args.runs,
                               peak_tflops=args.peak_tflops))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

"""Scoring speed: qaq's fast path against a naive reference scorer, measured side by side.

Naive reference (how existing IFD tools score): one sample at a time, one forward per span (four
per sample), fp32, full-vocabulary logits and the transformers loss (qaq.scoring.reference).
Fast path (qaq.scoring.backend): two forwards per sample, each pass's template prefix run once and its
keys/values reused, chunked LM head over target rows only, length-sorted token-budget batches,
bf16 where the CPU/GPU runs it natively (fp32 elsewhere), dense GGUF weights; timed eager, with
torch.compile'd layers, and eager without prefix reuse (--modes eager,compiled,no-reuse). The
compiled runs follow one untimed-for-the-median first run that includes compiling; its extra time
is reported as compile_seconds.

First it prints the machine (CPU kind, torch's capability, the dtype auto picks) and the CPU's
measured matmul rate per dtype; each fast mode reports the matmul GFLOP/s it reached (linear
layers over forwarded tokens plus the LM head over target tokens; attention not counted) and
that as a share of the measured rate in its dtype.

    python benchmarks/bench_scoring.py                      # sample + 2,000 synthetic rows
    python benchmarks/bench_scoring.py --rss                # + peak RSS at N and 2N rows (--rss-rows N)
    python benchmarks/bench_scoring.py --spearman           # + bf16 vs fp32 rank agreement
    python benchmarks/bench_scoring.py --profile 48 --datasets=  # where the compiled time goes

Reports medians of --runs runs. The naive scorer is far slower, so it runs on a length-stratified
subset (--naive-rows) of each dataset; samples/s are comparable because the subset keeps the
length mix. Tokens/s count every forwarded token (padding excluded).
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "code_instructions.jsonl"


def synthetic_pairs(n: int, *, seed: int = 0) -> pd.DataFrame:
    """n (query, answer) pairs with a realistic length spread, cut from the bundled sample's text.

    Query and answer lengths (characters) are log-normal: medians about 150 and 900, capped at
    1,500 and 6,000, so a few long samples dominate the token count as in real data.
    """
    from qaq.io.datasets import load_dataset

    src = load_dataset(SAMPLE)
    text_q = "\n".join(src["query"])
    text_a = "\n".join(src["answer"])
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        lq = int(min(1500, max(20, rng.lognormvariate(5.0, 0.6))))
        la = int(min(6000, max(20, rng.lognormvariate(6.8, 0.8))))
        sq, sa = rng.randrange(len(text_q) - lq), rng.randrange(len(text_a) - la)
        rows.append({"id": f"syn{i}", "query": text_q[sq : sq + lq], "answer": text_a[sa : sa + la],
                     "context": "", "row": i, "line": i + 1, "skip": ""})
    return pd.DataFrame(rows)


def length_stratified(encoded: list, k: int) -> list[int]:
    """k indices spread evenly over the length order (so the subset keeps the length mix)."""
    order = sorted(range(len(encoded)), key=lambda i: encoded[i].length)
    return sorted({order[int(round(q * (len(order) - 1)))] for q in np.linspace(0, 1, k)})


def time_fast(sm, encoded, batch_tokens: int, runs: int) -> list[float]:
    from qaq.scoring.engine import iter_scores

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in iter_scores(sm, encoded, batch_tokens=batch_tokens):
            pass
        times.append(time.perf_counter() - t0)
    return times


def time_naive(sm32, encoded, runs: int) -> list[float]:
    from qaq.scoring.reference import reference_means

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        reference_means(sm32, encoded)
        times.append(time.perf_counter() - t0)
    return times


def matmul_flops(sm, encoded: list) -> float:
    """Matmul FLOPs of scoring ``encoded``: 2 x linear weights x forwarded tokens (the decoder's
    linear layers) + 2 x hidden x vocabulary x target tokens (the LM head). Attention and padding
    are not counted."""
    import torch

    linear = sum(m.weight.numel() for m in sm.body.modules() if isinstance(m, torch.nn.Linear))
    targets = sum(2 * (e.n_q + e.n_a) for e in encoded)
    return 2.0 * linear * sum(map(sm.forwarded, encoded)) + 2.0 * sm.head_weight.numel() * targets


def machine_report() -> dict:
    """The machine, and its measured matmul rate per dtype (printed first)."""
    from qaq.scoring import hardware

    info = hardware.describe_machine("cpu")
    rates = hardware.matmul_rates(("fp32", "bf16"))
    report = {"cpu": info["cpu_kind"], "torch": info["torch"], "torch_cpu_capability": info["torch_cpu_capability"],
              "auto_dtype": info["dtype"], "matmul_shape": list(rates.shape),
              "matmul_gflops": {k: round(v, 1) for k, v in rates.gflops.items()}}
    print(json.dumps({"machine": report}), flush=True)
    return report


def bench(args: argparse.Namespace, machine: dict) -> dict:
    from qaq.io.datasets import load_dataset
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.engine import ScoringConfig, batch_budget
    from qaq.scoring.loading import load_causal_lm
    from qaq.scoring.models import resolve_model

    source = resolve_model(args.model)
    t0 = time.perf_counter()
    model32, tok = load_causal_lm(source, device="cpu", dtype="fp32")
    load_s = time.perf_counter() - t0
    naive = ScoringModel(source, device="cpu", dtype="fp32", model=model32, tokenizer=tok)
    fast = ScoringModel(source, device=args.device, dtype=args.dtype, model=copy.deepcopy(model32), tokenizer=tok)
    # The same weights, every template prefix forwarded again for each row (what reuse saves).
    no_reuse = ScoringModel(source, device=args.device, dtype=args.dtype, model=fast.model, tokenizer=tok,
                            reuse_prefix=False)
    sample = load_dataset(SAMPLE)
    if args.sample_rows:
        sample = sample.iloc[: args.sample_rows]
    datasets = {}
    if "sample" in args.datasets.split(","):
        datasets[f"sample-{len(sample)}"] = sample
    if "synthetic" in args.datasets.split(","):
        datasets[f"synthetic-{args.synthetic}"] = synthetic_pairs(args.synthetic)
    report = {"model": args.model, "parameters": fast.n_params, "fast_dtype": fast.precision, "device": fast.device,
              "load_seconds": round(load_s, 1), "machine": machine, "runs": args.runs, "datasets": {}}
    batch_tokens = batch_budget(ScoringConfig(batch_tokens=args.batch_tokens), fast.device)
    report["batch_tokens"] = batch_tokens
    for name, df in datasets.items():
        df = df[df["skip"] == ""]
        encoded = fast.encoder.encode_many(df["query"].tolist(), df["answer"].tolist(), max_length=args.max_length)
        tokens = sum(map(fast.forwarded, encoded))
        subset = [encoded[i] for i in length_stratified(encoded, args.naive_rows)]
        naive_t = time_naive(naive, subset, args.runs)
        # The naive scorer forwards each span's prefix separately: count those tokens for its rate.
        naive_tokens = sum(e.fwd_q[1] + e.fwd_a[1] + e.rev_q[1] + e.rev_a[1] for e in subset)
        n_med = statistics.median(naive_t)
        entry = {"rows": len(encoded), "tokens_forwarded": tokens, "naive_rows": len(subset),
                 "tokens_forwarded_without_reuse": sum(len(e.fwd) + len(e.rev) for e in encoded),
                 "naive_seconds": [round(t, 2) for t in naive_t],
                 "naive_samples_per_s": round(len(subset) / n_med, 3),
                 "naive_tokens_per_s": round(naive_tokens / n_med)}
        peak = machine["matmul_gflops"].get(fast.dtype)
        for mode in args.modes.split(","):
            sm, enc = fast, encoded
            if mode == "compiled":
                # Compile on the longest and the shortest sample (the graphs are shape-dynamic).
                fast.compile(strict=True)
                ends = sorted(encoded, key=lambda e: e.length)
                t0 = time.perf_counter()
                time_fast(fast, [ends[0], ends[-1]], batch_tokens, 1)
                warmup = time.perf_counter() - t0
            elif mode == "no-reuse":
                fast.uncompile()
                sm = no_reuse
                enc = no_reuse.encoder.encode_many(df["query"].tolist(), df["answer"].tolist(), max_length=args.max_length)
            elif mode == "eager":
                fast.uncompile()
            else:
                raise SystemExit(f"--modes: unknown mode {mode!r} (eager, compiled, no-reuse)")
            fast_t = time_fast(sm, enc, batch_tokens, args.runs)
            f_med = statistics.median(fast_t)
            gflops = matmul_flops(sm, enc) / f_med / 1e9
            entry[mode] = {"seconds": [round(t, 2) for t in fast_t],
                           "samples_per_s": round(len(encoded) / f_med, 2),
                           "tokens_per_s": round(sum(map(sm.forwarded, enc)) / f_med),
                           "speedup_samples_per_s": round((len(encoded) / f_med) / (len(subset) / n_med), 2),
                           "matmul_gflops": round(gflops, 1),
                           "share_of_matmul_rate": round(gflops / peak, 3) if peak else None}
            if mode == "compiled":
                entry[mode]["compile_seconds"] = round(warmup, 1)  # compiling + scoring two samples
        report["datasets"][name] = entry
        print(json.dumps({name: entry}), flush=True)
    return report


def peak_rss_child(args: argparse.Namespace, rows: int) -> float:
    """Peak RSS (MiB) of a fresh process that loads the model and scores ``rows`` synthetic rows."""
    code = (
        "import resource, sys; sys.path.insert(0, %r)\n"
        "from bench_scoring import synthetic_pairs\n"
        "from qaq.scoring.engine import ScoringConfig, score_frame\n"
        "df = synthetic_pairs(%d)\n"
        "score_frame(df, {'m': %r}, config=ScoringConfig(device=%r, dtype=%r, batch_tokens=%r, max_length=%d))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    ) % (str(Path(__file__).parent), rows, args.model, args.device, args.dtype, args.batch_tokens, args.max_length)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def spearman_bf16_fp32(args: argparse.Namespace) -> dict:
    from qaq.io.datasets import load_dataset
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.engine import ScoringConfig, score_frame
    from qaq.scoring.loading import load_causal_lm
    from qaq.scoring.models import resolve_model
    from qaq.select.correlations import spearman

    source = resolve_model(args.model)
    model32, tok = load_causal_lm(source, device="cpu", dtype="fp32")
    df = load_dataset(SAMPLE)
    if args.sample_rows:
        df = df.iloc[: args.sample_rows]
    out = {}
    variants = (("fp32", "fp32", "off"), ("bf16", "bf16", "off"), ("bf16-compiled", "bf16", "on"))
    for label, dtype, compile_mode in variants:
        sm = ScoringModel(source, device="cpu", dtype=dtype, model=copy.deepcopy(model32), tokenizer=tok)
        cfg = ScoringConfig(device="cpu", dtype=dtype, batch_tokens=args.batch_tokens, compile=compile_mode)
        out[label] = score_frame(df, {"m": sm}, config=cfg)
    res: dict = {"rows": len(df)}
    for label in list(out)[1:]:
        res[label] = {}
        for field in ("rmi", "ifd", "nll_q", "nll_q_given_a"):
            a, b = out["fp32"][f"m_{field}"], out[label][f"m_{field}"]
            res[label][field] = {"spearman": round(spearman(a, b), 5),
                                 "max_abs_diff": round(float(np.nanmax(np.abs(a - b))), 4)}
    return res


INT8_GROUPS = {
    "attention": ("q_proj", "k_proj", "v_proj", "o_proj"),
    "mlp-in": ("gate_proj", "up_proj"),
    "mlp-out": ("down_proj",),
}


def int8_probe(args: argparse.Namespace) -> dict:
    """PyTorch's dynamic int8 linear layers (int8 weights per output channel, activations quantized
    per forward) in place of the decoder's fp32 ones, group by group: time and RMI Spearman
    against fp32 on the first --sample-rows rows (default 60), side by side in one process.

    qaq does not ship this mode: on SmolLM2 the rank agreement stays far below 0.99 (see the
    README); this probe is how that was measured.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    from qaq.io.datasets import load_dataset
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.engine import ScoringConfig, batch_budget, score_all
    from qaq.scoring.loading import load_causal_lm
    from qaq.scoring.models import resolve_model
    from qaq.select.correlations import spearman

    source = resolve_model(args.model)
    model32, tok = load_causal_lm(source, device="cpu", dtype="fp32")
    df = load_dataset(SAMPLE).iloc[: args.sample_rows or 60]
    budget = batch_budget(ScoringConfig(batch_tokens=args.batch_tokens), "cpu")
    variants = {"fp32": None, "all": tuple(n for g in INT8_GROUPS.values() for n in g), **INT8_GROUPS}
    models = {}
    for label, names in variants.items():
        model = model32 if names is None else copy.deepcopy(model32)
        if names is not None:
            spec = {n: per_channel_dynamic_qconfig for n, m in model.get_decoder().named_modules()
                    if isinstance(m, torch.nn.Linear) and n.rsplit(".", 1)[-1] in names}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated (still shipped)
                quantize_dynamic(model.get_decoder(), spec, dtype=torch.qint8, inplace=True)
        models[label] = ScoringModel(source, device="cpu", dtype="fp32", model=model, tokenizer=tok)
    encoded = models["fp32"].encoder.encode_many(df["query"].tolist(), df["answer"].tolist(), max_length=args.max_length)
    times: dict[str, list[float]] = {label: [] for label in models}
    rmi: dict[str, pd.Series] = {}
    for _ in range(args.runs):  # interleaved rounds: the host's drift hits every variant alike
        for label, sm in models.items():
            t0 = time.perf_counter()
            out = score_all(sm, encoded, batch_tokens=budget)
            times[label].append(time.perf_counter() - t0)
            rmi[label] = out["nll_q"] - out["nll_q_given_a"]
    base = statistics.median(times["fp32"])
    res: dict = {"rows": len(encoded), "engine": torch.backends.quantized.engine}
    for label in models:
        med = statistics.median(times[label])
        res[label] = {"seconds": [round(t, 2) for t in times[label]], "speedup_vs_fp32": round(base / med, 2),
                      "rmi_spearman_vs_fp32": round(spearman(rmi["fp32"], rmi[label]), 4),
                      "rmi_max_abs_diff": round(float((rmi["fp32"] - rmi[label]).abs().max()), 3)}
    return res


def profile_split(args: argparse.Namespace) -> dict:
    """Share of self CPU time per kind of work, compiled fast path, ``args.profile`` synthetic rows.

    The rows are a seeded random sample of the --synthetic set; one untimed pass compiles first.
    """
    import torch
    import torch._inductor.config as inductor_config

    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.engine import ScoringConfig, batch_budget, iter_scores
    from qaq.scoring.models import resolve_model

    inductor_config.cpp.enable_kernel_profile = True  # compiled C++ kernels show up by name
    sm = ScoringModel(resolve_model(args.model), device=args.device, dtype=args.dtype)
    df = synthetic_pairs(args.synthetic).sample(args.profile, random_state=1)
    encoded = sm.encoder.encode_many(df["query"].tolist(), df["answer"].tolist(), max_length=args.max_length)
    budget = batch_budget(ScoringConfig(batch_tokens=args.batch_tokens), sm.device)
    sm.compile(strict=True)
    for _ in iter_scores(sm, encoded, batch_tokens=budget):
        pass
    t0 = time.perf_counter()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in iter_scores(sm, encoded, batch_tokens=budget):
            pass
    seconds = time.perf_counter() - t0
    groups = {"matmul": 0.0, "attention": 0.0, "compiled kernels": 0.0, "other": 0.0}
    for ev in prof.key_averages():
        name = ev.key
        if "cpp_fused" in name:  # before "attention": a fused kernel may be named after the op it feeds
            group = "compiled kernels"
        elif name in ("aten::mm", "aten::addmm", "aten::bmm", "aten::linear"):
            group = "matmul"
        elif "scaled_dot_product" in name:
            group = "attention"
        else:
            group = "other"
        groups[group] += ev.self_cpu_time_total
    total = sum(groups.values()) or 1.0
    tokens = sum(map(sm.forwarded, encoded))
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=60))
    return {"rows": len(encoded), "tokens_forwarded": tokens, "seconds": round(seconds, 1),
            "tokens_per_s_under_profiler": round(tokens / seconds),
            "self_cpu_share": {k: round(v / total, 3) for k, v in groups.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--datasets", default="sample,synthetic", help="which sets to time, comma-separated")
    parser.add_argument("--synthetic", type=int, default=2000, help="rows in the synthetic set")
    parser.add_argument("--sample-rows", type=int, default=0, help="use only the first N sample rows (0: all 700)")
    parser.add_argument("--naive-rows", type=int, default=24, help="rows the naive scorer runs on, per dataset")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-tokens", type=int, help="default: qaq's device default (CPU 4096, GPU 16384)")
    parser.add_argument("--modes", default="eager,compiled",
                        help="fast-path variants to time, comma-separated: eager, compiled, no-reuse (eager, "
                             "every template prefix forwarded again per row)")
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--rss", action="store_true", help="peak RSS at N and 2N synthetic rows (fresh processes)")
    parser.add_argument("--rss-rows", type=int, default=300, help="N for --rss")
    parser.add_argument("--spearman", action="store_true",
                        help="bf16 (eager and compiled) vs fp32 agreement on the bundled sample (--sample-rows)")
    parser.add_argument("--int8", action="store_true",
                        help="also probe dynamic int8 linear layers (all, attention, MLP in/out) on the first "
                             "--sample-rows sample rows (default 60): time and RMI Spearman vs fp32")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile the compiled fast path on N synthetic rows (share of time per kind of work)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    # --datasets= (e.g. with --profile alone) times nothing, so it loads no naive fp32 model either.
    machine = machine_report()
    report = bench(args, machine) if args.datasets.strip(",") else {"model": args.model, "machine": machine}
    if args.rss:
        n = args.rss_rows
        report["peak_rss_mib"] = {str(n): round(peak_rss_child(args, n)), str(2 * n): round(peak_rss_child(args, 2 * n))}
        print(json.dumps({"peak_rss_mib": report["peak_rss_mib"]}), flush=True)
    if args.spearman:
        report["bf16_vs_fp32"] = spearman_bf16_fp32(args)
        print(json.dumps({"bf16_vs_fp32": report["bf16_vs_fp32"]}), flush=True)
    if args.int8:
        report["int8"] = int8_probe(args)
        print(json.dumps({"int8": report["int8"]}), flush=True)
    if args.profile:
        report["profile"] = profile_split(args)
        print(json.dumps({"profile": report["profile"]}), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

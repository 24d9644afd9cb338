"""What `qaq score --embed` costs: scoring with and without span embeddings, side by side.

Both variants run the local engine's whole path (tokenizing, batching, the two forwards, the LM
head) on the same loaded model with no score cache, so they do the same work but for the pooling
(:mod:`qaq.scoring.pooling`). Runs are interleaved, and the order flips every round (AB BA AB ...),
so the host's drift hits both alike; one untimed round first warms the template prefixes and the
kernels. Reports each run, the medians, their ratio, and the median of the per-round ratios; the
target is under 5% extra. It also checks that the scores of both variants are equal, bit for bit.

On a shared machine the difference of two whole runs can drown in noise, so one more embedded
run (untimed for the medians) also times the only code that the embedding adds to a batch, the
pooling helpers (:func:`qaq.scoring.pooling.span_rows` and :func:`~qaq.scoring.pooling.mean_pool`
as the backend calls them), and reports their share of that run: a direct measure of the cost.

    python benchmarks/bench_embed.py                       # smollm2-135m, 64 sample rows, 5 runs
    python benchmarks/bench_embed.py --rows 48 --runs 5 --dtype fp32
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "code_instructions.jsonl"


def bench(args: argparse.Namespace) -> dict:
    """Time ``score_frame`` against ``score_frame_embedded`` on the first ``args.rows`` sample rows."""
    import torch

    from qaq.io.datasets import load_dataset
    from qaq.scoring.engine import ScoringConfig, load_scoring_model, score_frame, score_frame_embedded

    config = ScoringConfig(
        device=args.device, dtype=args.dtype, max_length=args.max_length, batch_tokens=args.batch_tokens, compile="off"
    )
    sm = load_scoring_model(args.model, config)
    if args.threads:  # after loading: the model sets torch's threads to the CPU's
        torch.set_num_threads(args.threads)
    data = load_dataset(SAMPLE).iloc[: args.rows]
    models = {"m": sm}
    # Each returns the score table; the embedded one also builds its Embeddings record, as the CLI does.
    variants: dict[str, Callable[[], pd.DataFrame]] = {
        "plain": lambda: score_frame(data, models, config=config),
        "embed": lambda: score_frame_embedded(data, models, config=config)[0],
    }
    encoded = sm.encoder.encode_many(data["query"].tolist(), data["answer"].tolist(), max_length=args.max_length)
    machine = {
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "device": sm.device,
        "precision": sm.precision,
        "torch": torch.__version__,
    }
    print(json.dumps({"machine": machine}), flush=True)
    warm = data.iloc[: args.warmup_rows]
    for run in (score_frame, score_frame_embedded):  # warm-up: prefixes, allocator, kernels
        run(warm, models, config=config)
    times: dict[str, list[float]] = {name: [] for name in variants}
    tables: dict[str, pd.DataFrame] = {}
    for r in range(args.runs):
        order = list(variants) if r % 2 == 0 else list(reversed(variants))
        for name in order:
            t0 = time.perf_counter()
            tables[name] = variants[name]()
            times[name].append(time.perf_counter() - t0)
        print(json.dumps({"round": r + 1, **{k: round(v[-1], 3) for k, v in times.items()}}), flush=True)
    pd.testing.assert_frame_equal(tables["plain"], tables["embed"], check_exact=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    ratio = medians["embed"] / medians["plain"]
    paired = statistics.median(e / p for e, p in zip(times["embed"], times["plain"]))
    pooling = pooling_share(variants["embed"])
    print(json.dumps({"pooling": pooling}), flush=True)
    return {
        "model": args.model,
        "rows": len(data),
        "tokens_forwarded": sum(map(sm.forwarded, encoded)),
        "machine": machine,
        "seconds": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "median_seconds": {k: round(v, 3) for k, v in medians.items()},
        "ratio_embed_over_plain": round(ratio, 4),
        "median_paired_ratio": round(paired, 4),
        "extra_percent": round(100 * (ratio - 1), 2),
        "scores_identical": True,  # checked above: assert_frame_equal(check_exact=True)
        "pooling": pooling,
        "target_extra_percent": 5.0,
    }


def pooling_share(run: Callable[[], pd.DataFrame]) -> dict:
    """One embedded run with the backend's pooling helpers timed: their seconds and share of the run."""
    from qaq.scoring import backend

    spent = [0.0]
    originals = {name: getattr(backend, name) for name in ("span_rows", "mean_pool")}

    def timed(fn: Callable) -> Callable:
        def wrapper(*a: object, **kw: object) -> object:
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[0] += time.perf_counter() - t0

        return wrapper

    for name, fn in originals.items():
        setattr(backend, name, timed(fn))
    try:
        t0 = time.perf_counter()
        run()
        total = time.perf_counter() - t0
    finally:
        for name, fn in originals.items():
            setattr(backend, name, fn)
    return {
        "run_seconds": round(total, 3),
        "pooling_seconds": round(spent[0], 4),
        "pooling_percent": round(100 * spent[0] / total, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--rows", type=int, default=64, help="first N rows of the bundled sample")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each variant (interleaved)")
    parser.add_argument("--warmup-rows", type=int, default=8, help="rows each variant scores once, untimed, first")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--batch-tokens", type=int, help="default: qaq's device default (CPU 4096, GPU 16384)")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads (default: qaq's, one per CPU thread); 1 keeps a "
        "busy shared machine from oversubscribing its cores",
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    report = bench(args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

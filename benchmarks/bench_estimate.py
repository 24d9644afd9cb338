"""What the Score page's "Estimate the cost" costs on a small file: before and after issue 16.

Loads the model once (timed), then, alternating ``--runs`` times in this one process (so both see
the same machine and load), times the calibration as it was before issue 16 (a warm-up on a full
first batch, then rows filling two 4,096-token CPU budgets: on a 5-row file, the whole file twice)
and :func:`qaq.scoring.estimate.estimate_cost` as it is now (a warm-up on the shortest row, then at
most a quarter of the run's tokens, 1,024 on a CPU). Prints the medians, wall and CPU seconds, and
what a click costs: the first one in a server also loads the model (``runs.scoring_model`` keeps it
after that, and shares it with the token view), later ones do not.

    .venv/bin/python benchmarks/bench_estimate.py [--data FILE] [--rows 5] [--model smollm2-135m] [--runs 3]

Default data: the first ``--rows`` rows of the bundled sample.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _before(sm: Any, data: Any, config: Any) -> dict[str, Any]:
    """The estimate's calibration before issue 16 (qaq.scoring.estimate as it was), for the comparison."""
    import numpy as np

    from qaq.scoring.engine import batch_budget, iter_scores, plan_batches

    scorable = data[data["skip"].fillna("") == ""]
    encoded = sm.encoder.encode_many(
        scorable["query"].tolist(), scorable["answer"].tolist(), max_length=config.max_length
    )
    costs = [sm.forwarded(e) for e in encoded]
    budget = batch_budget(config, sm.device)
    order = sorted(range(len(costs)), key=lambda i: costs[i])
    k = 8
    while True:  # at least 8 rows, doubling until they fill two budgets or every row is in
        pick = sorted({int(round(q * (len(order) - 1))) for q in np.linspace(0, 1, min(k, len(order)))})
        if k >= len(order) or sum(costs[order[j]] for j in pick) >= 2 * budget:
            break
        k *= 2
    sample = [encoded[order[j]] for j in pick]
    first = plan_batches([sm.width(e) for e in sample], budget)[0]
    sm.score_batch([sample[i] for i in first])  # the warm-up: a full first batch
    t0 = time.perf_counter()
    for _ in iter_scores(sm, sample, batch_tokens=budget):
        pass
    seconds = time.perf_counter() - t0
    cal = sum(map(sm.forwarded, sample))
    return {"tokens": sum(costs), "calibration_tokens": cal, "estimated_seconds": sum(costs) / cal * seconds}


def _timed(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--rows", type=int, default=5)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    from qaq.io.datasets import load_dataset
    from qaq.scoring.engine import load_scoring_model, scoring_config
    from qaq.scoring.estimate import estimate_cost
    from qaq.scoring.hardware import cpu_info

    source = args.data or REPO / "sample_data" / "code_instructions.jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / f"{args.rows}rows.jsonl"
        small.write_text("".join(source.read_text().splitlines(keepends=True)[: args.rows]))
        data = load_dataset(small)
    config = scoring_config(device="auto", dtype="auto")  # the Score page's defaults
    import torch

    cpu = cpu_info()
    print(f"machine: {cpu.model}, {cpu.threads} threads, torch {torch.__version__} ({torch.get_num_threads()} threads)")
    load_wall, load_cpu, sm = _timed(lambda: load_scoring_model(args.model, config))
    print(f"model: {args.model} on {sm.device}, {sm.precision}; load {load_wall:.1f} s wall, {load_cpu:.1f} s CPU")
    rows: dict[str, list[tuple[float, float, dict[str, Any]]]] = {"before": [], "after": []}
    for i in range(args.runs):
        for name, fn in (
            ("before", lambda: _before(sm, data, config)),
            ("after", lambda: estimate_cost(sm, data, config=config)),
        ):
            wall, cpu_s, est = _timed(fn)
            rows[name].append((wall, cpu_s, est))
            print(
                f"  run {i + 1} {name:6s}: {wall:6.1f} s wall, {cpu_s:6.1f} s CPU, calibration "
                f"{est['calibration_tokens']:,} of {est['tokens']:,} tokens, estimate {est['estimated_seconds']:.1f} s",
                flush=True,
            )
    summary = {}
    for name, runs in rows.items():
        wall = statistics.median(r[0] for r in runs)
        cpu_s = statistics.median(r[1] for r in runs)
        summary[name] = {
            "wall": wall,
            "cpu": cpu_s,
            "estimate": statistics.median(r[2]["estimated_seconds"] for r in runs),
        }
    print(f"\n{len(data)} rows, median of {args.runs}        before      after")
    print(
        f"estimate, model loaded    {summary['before']['wall']:7.1f} s  {summary['after']['wall']:7.1f} s wall"
        f"  ({summary['before']['cpu']:.1f} vs {summary['after']['cpu']:.1f} s CPU)"
    )
    print(
        f"first click (+ load)      {summary['before']['wall'] + load_wall:7.1f} s  "
        f"{summary['after']['wall'] + load_wall:7.1f} s wall"
    )
    print(f"predicted scoring time    {summary['before']['estimate']:7.1f} s  {summary['after']['estimate']:7.1f} s")
    print(json.dumps({"load_wall": load_wall, "load_cpu": load_cpu, **summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

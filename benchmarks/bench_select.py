"""Benchmark: stratify + rank + select on a synthetic 1,000,000-row score table (two models).

Times ``qaq.select.selection.select`` with the QAQ recipe (stratified Diff-High, 25%), which bins both
models' PPL(Q) into 10 quantile strata, ranks each model's RMI within its strata, computes
Diff/Sum and keeps the top quarter. Prints the median of the runs (target: < 1 s on 2 cores).

    python benchmarks/bench_select.py [--rows 1000000] [--runs 7] [--all]

``--all`` also times the other arms (global ranking, per-stratum quota, RMI band, IFD, random).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from qaq.select.recipe_parsing import parse_recipe
from qaq.select.selection import select

QAQ = {"method": "diff_high", "strong": "strong", "weak": "weak", "budget": 0.25, "ranking": "stratified"}
OTHERS = {
    "diff_high global": {**QAQ, "ranking": "global"},
    "diff_high quota": {**QAQ, "per_stratum_quota": True},
    "rmi_band 50-75%": {"method": "rmi_band", "model": "strong", "lo": 0.5, "hi": 0.75},
    "ifd 25%": {"method": "ifd", "model": "strong", "budget": 0.25},
    "random 25%": {"method": "random", "budget": 0.25, "seed": 0},
}


def synthetic_scores(n: int, *, seed: int = 0) -> pd.DataFrame:
    """A score table shaped like ``qaq score`` output joined to its data (no text columns)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "id": pd.array([f"{i:016x}" for i in range(n)], dtype="string"),
            "row": np.arange(n, dtype=np.int64),
            "skip": pd.array([""] * n, dtype="string"),
        }
    )
    for name in ("strong", "weak"):
        nll_q = rng.gamma(2.0, 0.8, n)
        nll_q_given_a = nll_q - rng.normal(0.3, 0.4, n)
        df[f"{name}_nll_q"] = nll_q
        df[f"{name}_nll_q_given_a"] = nll_q_given_a
        df[f"{name}_rmi"] = nll_q - nll_q_given_a
        df[f"{name}_ifd"] = rng.lognormal(-0.1, 0.2, n)
    df.loc[rng.choice(n, n // 1000, replace=False), "skip"] = "empty answer"
    return df


def time_recipe(df: pd.DataFrame, spec: dict, runs: int) -> tuple[float, int]:
    recipe = parse_recipe(spec)
    select(df, recipe)  # warm-up
    times, kept = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        out = select(df, recipe)
        times.append(time.perf_counter() - t0)
        kept = int(out["selected"].sum())
    return statistics.median(times), kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs (median reported; >= 5)")
    parser.add_argument("--all", action="store_true", help="also time the other arms")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be >= 5")
    df = synthetic_scores(args.rows)
    median, kept = time_recipe(df, QAQ, args.runs)
    print(f"stratify + rank + select (stratified diff_high 25%), {args.rows:,} rows, 2 models: "
          f"median {median:.3f} s over {args.runs} runs ({kept:,} selected)")
    if args.all:
        for label, spec in OTHERS.items():
            m, k = time_recipe(df, spec, args.runs)
            print(f"  {label:<18} median {m:.3f} s ({k:,} selected)")


if __name__ == "__main__":
    main()

"""Benchmark: map vectors, neighbours, the UMAP layout and near-duplicates on synthetic embeddings.

Builds ``--rows`` rows (default 300,000) of embeddings shaped like ``qaq score --embed`` output:
two float16 spans of ``--width`` per row (576: the hidden width of SmolLM2-135M, the default weak
model), drawn around 1,000 Gaussian centres, with one dimension of huge magnitude shared by all
rows (as mean-pooled LM states have) and 1% near-duplicate rows (a copy of another row plus a
little noise). Times,
wall and CPU (all threads), the median of ``--runs`` where repeated:

* :func:`qaq.maps.vectors.map_vectors` (standardise, PCA to 50, normalise);
* :func:`qaq.maps.neighbours.nearest_neighbours` (k = 15; NN-descent above 20,000 rows), and the
  exact search at ``--exact-rows`` rows, extrapolated as O(n^2) to ``--rows``;
* :func:`qaq.maps.layout.map_layout`, uncached (map vectors + neighbours + UMAP);
* :func:`qaq.select.dedup.duplicate_groups` at cosine >= 0.95, and how many of the planted
  near-duplicates it groups with the row they copy.

numba compiles pynndescent and UMAP on first use in a process: that is timed apart, first, on
small inputs. Prints the CPU (``lscpu``'s model name, cores, torch's CPU capability).

    python benchmarks/bench_map.py [--rows 300000] [--runs 1] [--exact-rows 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from qaq.io.embeddingfile import Embeddings
from qaq.maps.layout import map_layout
from qaq.maps.neighbours import Neighbours, nearest_neighbours
from qaq.maps.vectors import MapVectors, map_vectors
from qaq.select.dedup import duplicate_groups


def synthetic_embeddings(
    n: int, width: int, *, clusters: int = 1000, seed: int = 0
) -> tuple[Embeddings, np.ndarray, np.ndarray]:
    """``n`` rows of two float16 spans: clustered, one massive dimension, 1% near-duplicates.

    Returns:
        The embeddings (model ``synthetic``), the near-duplicate rows, and the rows they copy.
    """
    rng = np.random.default_rng(seed)
    label = rng.integers(0, clusters, n)
    dup = rng.choice(n, n // 100, replace=False)  # these rows copy another row, plus a little noise
    source = rng.choice(np.setdiff1d(np.arange(n), dup), len(dup))  # originals, not copies themselves
    vectors = {}
    for span in ("q", "a"):
        centres = rng.standard_normal((clusters, width), dtype=np.float32) * 2
        x = centres[label]
        x += rng.standard_normal((n, width), dtype=np.float32)
        x[dup] = x[source] + rng.standard_normal((len(dup), width), dtype=np.float32) * 0.02
        x[:, 7] += 2000.0  # the massive activation every row shares
        vectors[f"synthetic__{span}"] = x.astype(np.float16)
        del x
    return Embeddings(ids=np.array([f"{i:08x}" for i in range(n)]), vectors=vectors), dup, source


def timed(fn: Callable[[], Any], runs: int = 1) -> tuple[Any, float, float]:
    """The last result, and the median wall and CPU seconds of ``runs`` calls."""
    walls, cpus, out = [], [], None
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return out, statistics.median(walls), statistics.median(cpus)


def cpu_lines() -> list[str]:
    """The CPU this ran on."""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(
            (line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")), "?"
        )
    except (OSError, subprocess.CalledProcessError):
        model = "? (no lscpu)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [f"cpu: {model}, {cores} cores available"]
    try:
        import torch

        lines.append(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    except ImportError:
        lines.append("torch: not installed")
    from importlib import metadata

    lines.append(
        ", ".join(f"{p} {metadata.version(p)}" for p in ("numpy", "scikit-learn", "pynndescent", "umap-learn", "numba"))
    )
    return lines


def warm_up() -> tuple[float, float]:
    """Seconds (wall) numba takes to compile NN-descent and UMAP, on a few thousand rows."""
    small = synthetic_embeddings(3000, 16, clusters=20, seed=1)[0]
    mv = map_vectors(small, "synthetic", dims=10)
    _, nnd, _ = timed(lambda: nearest_neighbours(mv, k=15, method="nndescent"))
    _, layout, _ = timed(lambda: map_layout(small, "synthetic", cache=False))
    return nnd, layout


def exact_estimate(mv: MapVectors, rows: int, target: int) -> tuple[float, float]:
    """Exact search over the first ``rows`` vectors: (seconds, seconds scaled as n^2 to ``target``)."""
    part = MapVectors(vectors=mv.vectors[:rows], rows=mv.rows[:rows], ids=mv.ids[:rows], n_rows=rows)
    _, wall, _ = timed(lambda: nearest_neighbours(part, k=15, method="exact"))
    return wall, wall * (target / rows) ** 2


def recall(mv: MapVectors, nb: Neighbours, sample: int) -> float:
    """The share of the exact k nearest of ``sample`` random rows that the graph ``nb`` holds."""
    rows = np.random.default_rng(0).choice(len(mv.vectors), sample, replace=False)
    s = mv.vectors[rows] @ mv.vectors.T  # (sample, n)
    s[np.arange(sample), rows] = -np.inf
    exact = np.argpartition(-s, nb.k, axis=1)[:, : nb.k]
    return float(np.mean([len(set(e) & set(nb.indices[r])) / nb.k for r, e in zip(rows, exact)]))


def dedup_recall(emb: Embeddings, groups: pd.DataFrame, dup: np.ndarray, source: np.ndarray) -> float:
    """The share of planted near-duplicates found in the group of the row they copy."""
    group_of = dict(zip(groups["id"], groups["group"]))
    ids = np.asarray(emb.ids)
    return float(np.mean([group_of.get(ids[d], -1) == group_of.get(ids[c], -2) for d, c in zip(dup, source)]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=300_000)
    p.add_argument("--width", type=int, default=576, help="hidden width of each span")
    p.add_argument("--runs", type=int, default=1, help="repeats of map_vectors and neighbours (median)")
    p.add_argument("--exact-rows", type=int, default=20_000, help="rows of the exact-search timing")
    args = p.parse_args()

    for line in cpu_lines():
        print(line)
    t = time.perf_counter()
    emb, dup, source = synthetic_embeddings(args.rows, args.width)
    took = time.perf_counter() - t
    print(f"synthetic embeddings: {args.rows:,} rows x {args.width} x 2 spans, float16 ({took:.1f} s)")
    nnd_jit, umap_jit = warm_up()
    print(f"numba first use (3,000 rows): NN-descent {nnd_jit:.1f} s, map_layout {umap_jit:.1f} s")

    mv, wall, cpu = timed(lambda: map_vectors(emb, "synthetic"), args.runs)
    print(f"map_vectors (qa, 50 dims):        {wall:7.1f} s wall {cpu:7.1f} s CPU -> {mv.vectors.shape}")
    nb, wall, cpu = timed(lambda: nearest_neighbours(mv, k=15), args.runs)
    print(f"nearest_neighbours (k=15, {nb.method}): {wall:5.1f} s wall {cpu:7.1f} s CPU")
    print(f"  recall of the exact 15 nearest (1,000 random rows): {recall(mv, nb, 1000):.3f}")
    if args.exact_rows < args.rows:
        wall, scaled = exact_estimate(mv, args.exact_rows, args.rows)
        at = f"~{scaled / 60:.0f} min" if scaled >= 120 else f"~{scaled:.0f} s"
        print(f"  exact search at {args.exact_rows:,} rows: {wall:.1f} s wall -> {at} at {args.rows:,} (x n^2)")
    xy, wall, cpu = timed(lambda: map_layout(emb, "synthetic", cache=False))
    print(f"map_layout (uncached, UMAP):      {wall:7.1f} s wall {cpu:7.1f} s CPU -> {xy.shape}")
    groups, wall, cpu = timed(lambda: duplicate_groups(emb, "synthetic", threshold=0.95))
    n_groups = groups["group"].nunique()
    print(
        f"duplicate_groups (>= 0.95):       {wall:7.1f} s wall {cpu:7.1f} s CPU -> {n_groups:,} groups, {len(groups):,} rows"
    )
    print(
        f"  planted near-duplicates grouped with the row they copy: {dedup_recall(emb, groups, dup, source):.3f} of {len(dup):,}"
    )


if __name__ == "__main__":
    main()

"""Nearest neighbours of rows by the cosine of their map vectors, and how pure a labelled map is.

:func:`nearest_neighbours` finds every row's ``k`` nearest other rows (:class:`Neighbours`).
Up to :data:`EXACT_MAX_ROWS` rows it is exact: blockwise matrix products of the unit vectors,
ties to the lower row. Above, exact search costs O(n^2): on 2 cores (``benchmarks/bench_map.py``)
it takes 6 s at 20,000 rows x 50 dims, so ~23 minutes at 300,000, where NN-descent (pynndescent)
takes 25 s and finds 99% of the exact 15 nearest. NN-descent runs with a fixed ``random_state`` on one thread (its graph depends on
the thread count otherwise), so the same file gives the same graph to the app and to the CLI.

:func:`neighbour_purity` says, per kind of row (a defect type, or clean), how often a row's
nearest neighbours are mostly of its own kind, and how often that would happen by chance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from qaq.maps.vectors import MapVectors

EXACT_MAX_ROWS = 20_000  # exact search below (seconds); NN-descent above
DEFAULT_K = 15
_BLOCK_CELLS = 1 << 24  # similarities per block of the exact search: 64 MiB of float32

Method = Literal["exact", "nndescent"]


@dataclass(frozen=True)
class Neighbours:
    """Every row's nearest other rows, nearest first.

    Attributes:
        indices: (n, k) int64 positions in the map vectors (not the file), -1 where NN-descent
            found fewer than ``k``; a row is never its own neighbour.
        similarities: (n, k) float32 cosine similarities, NaN where ``indices`` is -1.
        rows: (n,) the file position of each vector's row (:attr:`MapVectors.rows`).
        n_rows: the rows in the file.
        method: ``"exact"`` or ``"nndescent"``.
    """

    indices: np.ndarray
    similarities: np.ndarray
    rows: np.ndarray
    n_rows: int
    method: Method

    @property
    def k(self) -> int:
        """Neighbours per row (fewer than asked when the file has fewer other rows)."""
        return int(self.indices.shape[1])


def nearest_neighbours(
    mv: MapVectors, *, k: int = DEFAULT_K, seed: int = 0, method: Method | None = None
) -> Neighbours:
    """The ``k`` nearest other rows of every row with a vector, by cosine similarity.

    Args:
        mv: the rows' map vectors (:func:`qaq.maps.vectors.map_vectors`).
        k: neighbours per row (at most the other rows).
        seed: NN-descent's ``random_state``.
        method: ``"exact"`` or ``"nndescent"``; by default exact up to :data:`EXACT_MAX_ROWS` rows.

    Returns:
        The neighbours, each row's sorted by similarity (descending), ties to the lower position.

    Raises:
        ValueError: ``k`` < 1, an unknown method.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    n = len(mv.vectors)
    k = min(k, max(n - 1, 0))
    chosen = method or ("exact" if n <= EXACT_MAX_ROWS else "nndescent")
    if chosen == "exact":
        idx, sim = _exact(mv.vectors, k)
    elif chosen == "nndescent":
        idx, sim = _nndescent(mv.vectors, k, seed)
    else:
        raise ValueError(f"method must be 'exact' or 'nndescent', got {method!r}")
    return Neighbours(indices=idx, similarities=sim, rows=mv.rows, n_rows=mv.n_rows, method=chosen)


def _exact(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute force, a block of rows at a time: (n, k) indices and similarities."""
    n = len(x)
    idx = np.full((n, k), -1, dtype=np.int64)
    sim = np.full((n, k), np.nan, dtype=np.float32)
    if k == 0:
        return idx, sim
    block = max(1, _BLOCK_CELLS // n)
    for start in range(0, n, block):
        s = x[start : start + block] @ x.T  # (b, n)
        b = len(s)
        s[np.arange(b), start + np.arange(b)] = -np.inf  # not its own neighbour
        kth = np.partition(s, n - k, axis=1)[:, n - k]  # (b,) the k-th largest of each row
        # Every value tied with the k-th is a candidate, so the lower position wins a tie.
        r, c = np.nonzero(s >= kth[:, None])
        v = s[r, c]
        order = np.lexsort((c, -v, r))  # by row, then similarity descending, then position
        r, c, v = r[order], c[order], v[order]
        rank = np.arange(len(r)) - np.searchsorted(r, r)  # place within its row
        keep = rank < k
        idx[start + r[keep], rank[keep]] = c[keep]
        sim[start + r[keep], rank[keep]] = v[keep]
    return idx, sim


def _nndescent(x: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """pynndescent's approximate graph without each row itself: (n, k) indices and similarities."""
    from pynndescent import NNDescent  # lazily: numba compiles it on first use

    n = len(x)
    # One thread: with a seed, NN-descent's graph still depends on the thread count (0.3% of the
    # entries differed between 1 and 2 threads at 30,000 rows), and the app and the CLI must agree.
    graph = NNDescent(
        x, n_neighbors=k + 1, metric="cosine", random_state=seed, n_jobs=1, compressed=True, low_memory=True
    )
    found, dist = graph.neighbor_graph  # (n, k + 1), usually the row itself first
    found = found.astype(np.int64)
    simil = (1.0 - dist).astype(np.float32)
    own = found == np.arange(n)[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)  # itself, else the farthest
    keep = np.ones_like(own)
    keep[np.arange(n), drop] = False
    idx = found[keep].reshape(n, k)
    sim = np.where(idx >= 0, simil[keep].reshape(n, k), np.nan).astype(np.float32)
    order = np.lexsort((idx, -np.nan_to_num(sim, nan=-np.inf)), axis=1)  # same order as the exact search
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(sim, order, axis=1)


def neighbour_purity(neighbours: Neighbours, kinds: pd.Series, *, k: int = 10) -> pd.DataFrame:
    """Per kind of row, how often its nearest neighbours are mostly of its own kind.

    Args:
        neighbours: :func:`nearest_neighbours` of an embedding file's rows.
        kinds: one label per row of the file, in file order (e.g. the defect type, ``"clean"``
            for clean rows); read by position. Rows without a vector are left out.
        k: neighbours looked at (the first ``k``; fewer when the graph has fewer).

    Returns:
        One line per kind, most rows first (ties by name): ``kind``; ``rows``; ``share``, the
        kind's share of all rows, which is what ``mean_same`` would be if neighbours were drawn
        at random; ``mean_same``, the mean share of a row's neighbours of its own kind;
        ``majority_same``, the share of its rows whose neighbours are mostly (more than half)
        of its own kind; ``majority_by_chance``, that share if neighbours were drawn at random
        (hypergeometric: ``k`` of the other rows, of which ``rows - 1`` are of the kind).

    Raises:
        ValueError: ``kinds`` does not have one label per row of the file, ``k`` < 1.
    """
    if len(kinds) != neighbours.n_rows:
        raise ValueError(f"kinds has {len(kinds)} labels for a file of {neighbours.n_rows} rows")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    labels = kinds.astype(str).to_numpy()[neighbours.rows]  # (n,) one per vector
    idx = neighbours.indices[:, :k]  # (n, k)
    kk = idx.shape[1]
    found = idx >= 0
    same = found & (labels[np.where(found, idx, 0)] == labels[:, None])
    n_found = np.maximum(found.sum(axis=1), 1)
    frame = pd.DataFrame(
        {
            "kind": labels,
            "same": same.sum(axis=1) / n_found,
            "majority": same.sum(axis=1) * 2 > n_found,
        }
    )
    g = frame.groupby("kind", sort=True)
    out = pd.DataFrame(
        {"rows": g.size(), "mean_same": g["same"].mean(), "majority_same": g["majority"].mean()}
    ).reset_index()
    n = len(labels)
    out["share"] = out["rows"] / max(n, 1)
    out["majority_by_chance"] = [_majority_by_chance(n - 1, int(m) - 1, kk) for m in out["rows"]]
    out = out.sort_values(["rows", "kind"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return out[["kind", "rows", "share", "mean_same", "majority_same", "majority_by_chance"]]


def _majority_by_chance(others: int, alike: int, k: int) -> float:
    """P(more than k/2 of k draws without replacement from ``others`` rows hit one of ``alike``).

    >>> round(_majority_by_chance(9, 4, 3), 4)  # 3 of 9, 4 alike: P(2) + P(3) = (6*5 + 4) / 84
    0.4048
    """
    k = min(k, others)
    if k <= 0:
        return 0.0
    total = math.comb(others, k)
    hits = sum(math.comb(alike, j) * math.comb(others - alike, k - j) for j in range(k // 2 + 1, min(k, alike) + 1))
    return hits / total

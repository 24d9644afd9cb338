"""A 2-D map of an embedding file's rows: UMAP of the map vectors, seeded and cached on disk.

:func:`map_layout` computes the layout once per embedding file and parameters and keeps it under
``cache_root() / "maps"`` (:func:`qaq.io.files.cache_root`), named by a sha256 of the vectors'
bytes, the model, the span, every parameter and the versions of the libraries that shape the
result; a later call with the same inputs reads it back instead of computing it again.

The layout is UMAP (umap-learn) with ``n_components=2`` and a fixed ``random_state``, which makes
it reproducible (and makes UMAP's optimisation single-threaded). UMAP is given the neighbour
graph of :func:`qaq.maps.neighbours.nearest_neighbours` (``precomputed_knn``), the same graph
the app's neighbour views and the CLI read, so it does not search for neighbours again (as fast
as UMAP's own search: 40 s either way at 30,000 rows). On 2 cores an uncached layout of 300,000
rows takes ~6 minutes (``benchmarks/bench_map.py``), a cached one the time to hash the vectors.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from qaq.io.embeddingfile import Embeddings
from qaq.io.files import DataError, atomic_path, cache_root
from qaq.maps.neighbours import Neighbours, nearest_neighbours
from qaq.maps.vectors import DEFAULT_DIMS, MapSpan, MapVectors, map_vectors, span_parts

DEFAULT_N_NEIGHBORS = 15  # UMAP's: the row itself and its 14 nearest
DEFAULT_MIN_DIST = 0.1
# Below this many rows UMAP fails (its spectral start asks scipy for as many eigenvectors as
# the graph has rows): the map is the first two PCA coordinates instead.
MIN_UMAP_ROWS = 4
_LAYOUT_FORMAT = 1  # bump when the computation changes, so old cache files are not read


def map_layout(
    emb: Embeddings,
    model: str,
    *,
    span: MapSpan = "qa",
    seed: int = 0,
    dims: int = DEFAULT_DIMS,
    n_neighbors: int = DEFAULT_N_NEIGHBORS,
    min_dist: float = DEFAULT_MIN_DIST,
    cache_dir: str | os.PathLike[str] | None = None,
    cache: bool = True,
) -> np.ndarray:
    """2-D coordinates of every row of an embedding file, computed once and cached.

    Args:
        emb: the embeddings of a score table.
        model: one of ``emb.models``.
        span: the map vectors' span (:func:`qaq.maps.vectors.map_vectors`).
        seed: PCA's and UMAP's ``random_state``.
        dims: PCA components of the map vectors.
        n_neighbors: UMAP's neighbourhood size (the row itself included).
        min_dist: UMAP's ``min_dist``.
        cache_dir: where the layouts are kept; by default ``cache_root() / "maps"``.
        cache: read and write the cache (False: always compute, write nothing).

    Returns:
        (rows, 2) float32, row for row with ``emb.ids``; NaN rows for the rows without vectors.

    Raises:
        KeyError: no embeddings of ``model``.
        ValueError: an unknown span, ``n_neighbors`` < 2.
    """
    if n_neighbors < 2:
        raise ValueError(f"n_neighbors must be >= 2 (the row itself and one more), got {n_neighbors}")
    path = None
    if cache:  # the key hashes every vector (~1 s at 300,000 rows): only when it is used
        key = layout_key(emb, model, span=span, seed=seed, dims=dims, n_neighbors=n_neighbors, min_dist=min_dist)
        path = (Path(cache_dir) if cache_dir is not None else cache_root() / "maps") / f"{key}.npy"
        cached = _read_cached(path, len(emb.ids))
        if cached is not None:
            return cached
    mv = map_vectors(emb, model, span=span, dims=dims, seed=seed)
    out = np.full((mv.n_rows, 2), np.nan, dtype=np.float32)
    if len(mv.rows) < MIN_UMAP_ROWS:
        out[mv.rows] = _first_two(mv)
    else:
        graph = nearest_neighbours(mv, k=n_neighbors - 1, seed=seed)
        out[mv.rows] = _umap(mv, graph, seed=seed, min_dist=min_dist)
    if path is not None:
        _write_cached(path, out)
    return out


def layout_key(
    emb: Embeddings, model: str, *, span: MapSpan, seed: int, dims: int, n_neighbors: int, min_dist: float
) -> str:
    """The cache name of a layout: sha256 of the vectors it reads, the model, the parameters and
    the versions of the libraries that compute it.

    Raises:
        KeyError: no embeddings of ``model``.
        ValueError: an unknown span.
    """
    h = hashlib.sha256()
    for part in span_parts(span):
        v = np.ascontiguousarray(emb.span(model, part))
        h.update(f"{part}:{v.dtype.str}:{v.shape}".encode())
        h.update(v.data)  # the buffer itself: no copy of a 300,000-row array
    params = {"model": model, "span": span, "seed": seed, "dims": dims, "n_neighbors": n_neighbors}
    # Versions from the installed metadata: importing umap (seconds, numba) is not needed for a cache hit.
    versions = {name: metadata.version(name) for name in ("umap-learn", "pynndescent", "scikit-learn", "numpy")}
    h.update(
        json.dumps({**params, "min_dist": min_dist, **versions, "format": _LAYOUT_FORMAT}, sort_keys=True).encode()
    )
    return h.hexdigest()


def _first_two(mv: MapVectors) -> np.ndarray:
    """The first two PCA coordinates (zeros where there are fewer): the map of a handful of rows."""
    xy = np.zeros((len(mv.rows), 2), dtype=np.float32)
    d = min(2, mv.vectors.shape[1])
    xy[:, :d] = mv.vectors[:, :d]
    return xy


def _umap(mv: MapVectors, graph: Neighbours, *, seed: int, min_dist: float) -> np.ndarray:
    """UMAP of the vectors on their precomputed neighbour graph: (n, 2) float32."""
    n = len(mv.rows)
    own = np.arange(n, dtype=np.int64)[:, None]
    # UMAP's graph lists each row first, at distance 0; a missing neighbour stays -1 (UMAP skips it).
    # UMAP takes fewer neighbours than rows: a small file's graph loses its farthest column.
    knn = np.concatenate([own, graph.indices], axis=1)[:, : n - 1]
    dist = np.concatenate([np.zeros((n, 1), np.float32), 1.0 - graph.similarities], axis=1)[:, : n - 1]
    dist = np.where(knn >= 0, np.clip(dist, 0.0, 2.0), np.inf).astype(np.float32)
    with warnings.catch_warnings():
        # Expected, all three: umap-learn's parametric variant needs TensorFlow (not used here), a
        # seed makes UMAP single-threaded, and the graph has no search index (only new rows would
        # need one).
        warnings.filterwarnings("ignore", message=".*Tensorflow not installed.*")
        warnings.filterwarnings("ignore", message=".*overridden to 1 by setting random_state.*")
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        import umap  # lazily: seconds to import, and numba compiles it on first use

        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=knn.shape[1],
            metric="cosine",
            min_dist=min_dist,
            random_state=seed,
            precomputed_knn=(knn, dist),
        )
        xy = reducer.fit_transform(mv.vectors)
    return np.asarray(xy, dtype=np.float32)


def _read_cached(path: Path, n_rows: int) -> np.ndarray | None:
    """The cached layout at ``path``; None when there is none or it is unreadable or of another shape."""
    try:
        xy = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return xy if xy.shape == (n_rows, 2) and xy.dtype == np.float32 else None


def _write_cached(path: Path, xy: np.ndarray) -> None:
    """Keep a layout (atomically); a cache that cannot be written costs a warning, not the layout."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.save(fh, xy, allow_pickle=False)
    except (OSError, DataError) as e:
        warnings.warn(f"the map layout was not cached: {e}", stacklevel=3)

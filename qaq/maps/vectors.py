"""Map vectors: one model's pooled hidden states made comparable by cosine similarity.

Mean-pooled hidden states of a language model are dominated by a few dimensions of huge
magnitude (the "massive activations" every row shares), so the raw cosine of two rows is close
to 1 whatever they say. :func:`map_vectors` turns one model's embeddings into vectors whose dot
product is a useful cosine, in three steps:

1. **standardise** each dimension over the rows of the file that have vectors:
   ``z = (x - mean) / std`` (a constant dimension becomes 0), so no dimension outweighs the
   others by its scale; with ``span="qa"`` the query and the answer parts are standardised
   each on its own and concatenated (same width each, so both weigh the same);
2. **PCA** to ``dims`` components (scikit-learn's ``PCA``, ``random_state=seed``; fewer when
   the rows or the width are fewer), which keeps the directions rows differ along and drops
   the noise of the rest (``dims=None`` keeps every standardised dimension: no PCA). Above
   :data:`PCA_FIT_ROWS` rows the components are fitted on that many rows drawn with ``seed``
   and every row is projected on them: the fit is the costly part (~45 s CPU at 300,000 rows of
   width 1152), and 50 components are fitted as well on 50,000 rows;
3. **L2-normalise** every vector, so that ``u @ v`` is the cosine of two rows.

A row has a vector when every value of its span(s) is finite: rows the model did not score (NaN
rows of the embedding file) get none, and are left out (:attr:`MapVectors.rows` says which rows
the vectors belong to).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from qaq.io.embeddingfile import Embeddings, Span

MapSpan = Literal["q", "a", "qa"]
MAP_SPANS: tuple[MapSpan, ...] = get_args(MapSpan)
DEFAULT_DIMS = 50  # PCA components: enough for neighbours, cheap for a 300,000-row kNN graph
PCA_FIT_ROWS = 50_000  # rows the components are fitted on (a seeded sample above it)


@dataclass(frozen=True)
class MapVectors:
    """Unit vectors of the rows of an embedding file that have them.

    Attributes:
        vectors: (n, d) float32, unit length (a row of zeros only if its standardised vector was 0).
        rows: (n,) int64, ascending: the position in the file of the row of each vector.
        ids: (n,) the ids of those rows.
        n_rows: the rows in the file, with vectors or not.
    """

    vectors: np.ndarray
    rows: np.ndarray
    ids: np.ndarray
    n_rows: int

    @property
    def mask(self) -> np.ndarray:
        """(n_rows,) bool: which rows of the file have a vector."""
        out = np.zeros(self.n_rows, dtype=bool)
        out[self.rows] = True
        return out


def span_parts(span: MapSpan) -> tuple[Span, ...]:
    """The file's spans a map span reads: ``"qa"`` -> ``("q", "a")``.

    Raises:
        ValueError: not one of :data:`MAP_SPANS`.
    """
    if span not in MAP_SPANS:
        raise ValueError(f"span must be one of {', '.join(MAP_SPANS)}, got {span!r}")
    return ("q", "a") if span == "qa" else (span,)


def map_vectors(
    emb: Embeddings, model: str, *, span: MapSpan = "qa", dims: int | None = DEFAULT_DIMS, seed: int = 0
) -> MapVectors:
    """Standardised, PCA-reduced, unit-length vectors of one model's embeddings (see the module docstring).

    Args:
        emb: the embeddings of a score table.
        model: one of ``emb.models``.
        span: ``"q"`` (the query), ``"a"`` (the answer) or ``"qa"`` (both, concatenated).
        dims: PCA components to keep (at most the rows and the width); None: no PCA, every
            standardised dimension (what near-duplicates are measured on).
        seed: PCA's ``random_state`` (its randomized solver, on wide inputs).

    Returns:
        The vectors of the rows with finite values in every span read.

    Raises:
        KeyError: no embeddings of ``model``.
        ValueError: an unknown span, ``dims`` < 1.
    """
    if dims is not None and dims < 1:
        raise ValueError(f"dims must be >= 1, got {dims}")
    parts = [emb.span(model, s) for s in span_parts(span)]
    finite = np.ones(len(emb.ids), dtype=bool)
    for p in parts:
        finite &= np.isfinite(p).all(axis=1)
    rows = np.flatnonzero(finite).astype(np.int64)
    width = sum(p.shape[1] for p in parts)
    x = np.empty((len(rows), width), dtype=np.float32)  # (n, width): filled part by part, no concatenated copy
    at = 0
    for p in parts:
        _standardise_into(x[:, at : at + p.shape[1]], p, rows)
        at += p.shape[1]
    reduced = x if dims is None else _pca(x, dims=dims, seed=seed)
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    reduced /= np.where(norms > 0, norms, 1.0)  # a zero vector stays 0 (cosine 0 with every row)
    return MapVectors(vectors=reduced, rows=rows, ids=np.asarray(emb.ids)[rows], n_rows=len(emb.ids))


def _standardise_into(out: np.ndarray, part: np.ndarray, rows: np.ndarray) -> None:
    """``out`` = the standardised ``part[rows]``: each column to mean 0 and standard deviation 1."""
    out[...] = part[rows]
    if not len(rows):
        return
    # float64 sums: float16 inputs of magnitude 1e3-1e4 over 1e5+ rows lose digits in float32.
    mean = out.mean(axis=0, dtype=np.float64)
    std = out.std(axis=0, dtype=np.float64)
    out -= mean.astype(np.float32)
    out /= np.where(std > 0, std, 1.0).astype(np.float32)


def _pca(x: np.ndarray, *, dims: int, seed: int) -> np.ndarray:
    """``x`` projected on its first ``dims`` principal components, float32 (n, min(dims, n, width))."""
    n, width = x.shape
    k = min(dims, n, width)
    if k == 0 or n < 2:
        return np.zeros((n, k), dtype=np.float32)
    from sklearn.decomposition import PCA  # lazily: sklearn costs ~1 s to import

    # svd_solver "auto" picks an exact solver for narrow inputs and the seeded randomized one for
    # wide ones; either way the components' signs are fixed (svd_flip), so a seed gives one result.
    pca = PCA(n_components=k, random_state=seed)
    fit = x
    if n > PCA_FIT_ROWS:
        fit = x[np.sort(np.random.default_rng(seed).choice(n, PCA_FIT_ROWS, replace=False))]
    with np.errstate(invalid="ignore", divide="ignore"):  # rows all alike: a 0/0 explained-variance ratio
        pca.fit(fit)
    # x is centred already (standardised over every row); a sample's own mean would move the
    # origin, and with it every angle the cosines measure.
    return np.ascontiguousarray(x @ pca.components_.T.astype(np.float32), dtype=np.float32)  # (n, k)

"""Near-duplicates: groups of rows whose embeddings are nearly the same, and the one row of each to keep.

:func:`duplicate_groups` joins rows whose embeddings have a cosine at or above a threshold; the
groups are the connected components of those pairs, so a chain of near-duplicates is one group.
The cosine is that of one model's pooled hidden states standardised per dimension over the file,
with every dimension (:func:`qaq.maps.vectors.map_vectors` with ``dims=None``). Not the map's 50
PCA dimensions: those keep the directions that topics differ along and drop the rest, so rows on
one topic look like duplicates there (in ``benchmarks/bench_map.py``'s synthetic data, rows of one
cluster have cosines ~0.99 in 50 dimensions, ~0.8 in all). The pairs tried are each row and its
``k`` nearest neighbours by the 50-dimensional map vectors
(:func:`qaq.maps.neighbours.nearest_neighbours`), where a near-duplicate stays among the nearest
(a projection only brings rows closer). Rows whose embeddings are
bit-identical are one group however many copies there are (they are merged before the neighbour
search, which would otherwise see only ``k`` of them). :func:`dedup_keep` says which rows survive:
one per group. :func:`dedup_columns` is what :func:`qaq.select.selection.select` runs for a
recipe's ``"dedup"`` (:class:`qaq.select.recipes.Dedup`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qaq.columns import score_column
from qaq.io.embeddingfile import Embeddings
from qaq.maps.neighbours import nearest_neighbours
from qaq.maps.vectors import DEFAULT_DIMS, MapSpan, MapVectors, map_vectors, span_parts
from qaq.select.recipes import Dedup, DedupKeep, RecipeError, _some
from qaq.select.strata import row_order

DEDUP_K = 15  # neighbours searched per row for pairs at or above the threshold
GROUP_COLUMN = "dedup_group"  # what select adds: the row's group (Int64, <NA> in none) ...
KEPT_COLUMN = "dedup_kept"  # ... and whether dedup keeps it (rows in no group: True)


def duplicate_groups(
    emb: Embeddings,
    model: str,
    *,
    threshold: float,
    span: MapSpan = "qa",
    k: int = DEDUP_K,
    dims: int = DEFAULT_DIMS,
    seed: int = 0,
) -> pd.DataFrame:
    """Groups of near-duplicate rows of an embedding file (see the module docstring).

    Args:
        emb: the embeddings of a score table.
        model: one of ``emb.models``.
        threshold: the cosine (standardised embeddings, every dimension) at or above which two
            rows are near-duplicates, in (0, 1].
        span: ``"q"``, ``"a"`` or ``"qa"`` (:func:`qaq.maps.vectors.map_vectors`).
        k: nearest neighbours (by the map vectors) tried per row.
        dims: PCA components of the map vectors the neighbours are searched by.
        seed: PCA's and the neighbour search's seed.

    Returns:
        One line per row in a group of two or more, by group then file order: ``id`` (str),
        ``group`` (int64; 0, 1, ... in the order of each group's first row in the file) and
        ``similarity`` (float64): the highest cosine between the row and another member of its
        group among the pairs found (1.0 for a bit-identical copy), so at least ``threshold``.

    Raises:
        KeyError: no embeddings of ``model``.
        ValueError: ``threshold`` outside (0, 1], an unknown span.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a cosine similarity in (0, 1], got {threshold!r}")
    mv = map_vectors(emb, model, span=span, dims=dims, seed=seed)
    first, inverse = _identical(emb, model, span, mv.rows)
    u = len(first)  # distinct embeddings
    copies = np.bincount(inverse, minlength=u)
    search = MapVectors(vectors=mv.vectors[first], rows=np.arange(u), ids=mv.ids[first], n_rows=u)
    graph = nearest_neighbours(search, k=k, seed=seed)
    src, dst = np.repeat(np.arange(u), graph.k), graph.indices.reshape(-1)
    src, dst = src[dst >= 0], dst[dst >= 0]
    full = map_vectors(emb, model, span=span, dims=None).vectors[first]  # (u, width) every dimension
    sim = _pair_cosines(full, src, dst)
    pair = sim >= threshold
    src, dst, sim = src[pair], dst[pair], np.minimum(sim[pair], 1.0)
    best = np.where(copies > 1, 1.0, -np.inf)  # (u,) highest cosine to another member
    np.maximum.at(best, src, sim)
    np.maximum.at(best, dst, sim)
    comp = _components(u, src, dst)[inverse]  # (n,) each row's component
    in_group = np.bincount(comp)[comp] > 1
    rows = mv.rows[in_group]  # file positions, ascending
    comp, similarity = comp[in_group], best[inverse][in_group]
    group = pd.factorize(comp)[0]  # numbered by first appearance: rows are in file order
    out = pd.DataFrame(
        {"id": np.asarray(emb.ids)[rows].astype(str), "group": group.astype(np.int64), "similarity": similarity}
    )
    return out.iloc[np.lexsort((rows, group))].reset_index(drop=True)


def _identical(emb: Embeddings, model: str, span: MapSpan, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of bit-identical embeddings: the first of each distinct one (u,), and each row's (n,).

    Compared on the file's float16 values, not on the map vectors: PCA's matrix product can give
    two identical rows vectors that differ in the last bit.
    """
    raw = np.concatenate([emb.span(model, part)[rows] for part in span_parts(span)], axis=1)  # (n, width)
    raw = np.ascontiguousarray(raw)
    keys = raw.view(np.dtype((np.void, raw.dtype.itemsize * raw.shape[1]))).reshape(-1)  # a row as one value
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _pair_cosines(x: np.ndarray, src: np.ndarray, dst: np.ndarray, chunk: int = 1 << 15) -> np.ndarray:
    """(pairs,) float64: ``x[src[i]] @ x[dst[i]]`` of unit rows, a chunk of pairs at a time."""
    out = np.empty(len(src), dtype=np.float64)
    for at in range(0, len(src), chunk):  # (chunk, width) gathers: ~150 MB at width 1152
        s, d = src[at : at + chunk], dst[at : at + chunk]
        out[at : at + chunk] = np.einsum("ij,ij->i", x[s], x[d], dtype=np.float64)
    return out


def _components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(n,) the connected component of each of ``n`` nodes joined by the edges ``src``-``dst``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components  # lazily: scipy is slow to import

    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def dedup_keep(table: pd.DataFrame, groups: pd.DataFrame, *, keep: DedupKeep, model: str) -> pd.Series:
    """Which rows of ``table`` survive dedup: one per group, and every row in no group.

    Args:
        table: the qaq table (``id``, and ``<model>_rmi`` for ``highest_rmi``).
        groups: :func:`duplicate_groups` of the table's rows (matched on ``id``).
        keep: ``"highest_rmi"``: the group's row with the highest ``<model>_rmi`` (rows without
            one come last); ``"first"``: the group's earliest row. Ties go to the earliest row,
            in source row order (the ``row`` column, else table order: :func:`qaq.select.strata.row_order`).
        model: the model whose RMI ``highest_rmi`` reads.

    Returns:
        A boolean Series on ``table``'s index.

    Raises:
        ValueError: no ``id`` column, repeated ids, group ids not in the table, an unknown
            ``keep``, no ``<model>_rmi`` column for ``highest_rmi``.
    """
    if "id" not in table.columns:
        raise ValueError("dedup needs an 'id' column in the table")
    ids = pd.Index(table["id"].astype(str))
    if ids.has_duplicates:
        raise ValueError(f"the table repeats ids, e.g. {ids[ids.duplicated()][0]!r}")
    pos = ids.get_indexer(groups["id"].astype(str))  # (m,) each group row's place in the table
    if (pos < 0).any():
        raise ValueError(f"duplicate groups list id(s) not in the table: {_some(groups['id'][pos < 0].tolist())}")
    order = row_order(table)[pos]
    if keep == "highest_rmi":
        col = score_column(model, "rmi")
        if col not in table.columns:
            raise ValueError(f"keep 'highest_rmi' reads {col!r}, which the table does not have")
        rmi = table[col].to_numpy(dtype=np.float64, na_value=np.nan)[pos]
        rank = np.lexsort((order, -np.nan_to_num(rmi, nan=-np.inf), groups["group"].to_numpy()))
    elif keep == "first":
        rank = np.lexsort((order, groups["group"].to_numpy()))
    else:
        raise ValueError(f"keep must be 'highest_rmi' or 'first', got {keep!r}")
    g = groups["group"].to_numpy()[rank]
    winners = pos[rank][np.diff(g, prepend=-1) != 0]  # the first of each group in that order
    kept = np.ones(len(table), dtype=bool)
    kept[pos] = False
    kept[winners] = True
    return pd.Series(kept, index=table.index, name=KEPT_COLUMN)


def dedup_columns(table: pd.DataFrame, dedup: Dedup, embeddings: Embeddings | None) -> pd.DataFrame:
    """A recipe's dedup of ``table``: its :data:`GROUP_COLUMN` and :data:`KEPT_COLUMN`, on its index.

    Raises:
        RecipeError: no embeddings (pass the embedding file), a model the file has no
            embeddings of, no ``id`` column, no RMI of the model for ``highest_rmi``.
        ValueError: the embeddings' ids are not the table's (counts and a few of each).
    """
    where = "qaq select --embeddings FILE, by default the score file's .embed.npz from qaq score --embed"
    if embeddings is None:
        raise RecipeError(f"'dedup' needs the rows' embeddings: pass the embedding file ({where})")
    if dedup.model not in embeddings.models:
        raise RecipeError(
            f"'dedup' model {dedup.model!r} has no embeddings in the file "
            f"(it has: {', '.join(embeddings.models) or 'none'})"
        )
    if "id" not in table.columns:
        raise RecipeError("'dedup' needs an 'id' column in the table")
    if dedup.keep == "highest_rmi" and score_column(dedup.model, "rmi") not in table.columns:
        raise RecipeError(
            f"'dedup' keep 'highest_rmi' reads {score_column(dedup.model, 'rmi')!r}, which the table "
            "does not have: use a scored model, or keep 'first'"
        )
    _check_ids(table, embeddings)
    groups = duplicate_groups(embeddings, dedup.model, threshold=dedup.threshold, span=dedup.span)
    kept = dedup_keep(table, groups, keep=dedup.keep, model=dedup.model)
    group = pd.Series(pd.array([pd.NA] * len(table), dtype="Int64"), index=table.index, name=GROUP_COLUMN)
    pos = pd.Index(table["id"].astype(str)).get_indexer(groups["id"])
    group.iloc[pos] = groups["group"].to_numpy()
    return pd.concat([group, kept], axis=1)


def _check_ids(table: pd.DataFrame, embeddings: Embeddings) -> None:
    """Raise ValueError unless the embeddings hold each of the table's ids exactly once."""
    emb_ids = pd.Index(np.asarray(embeddings.ids).astype(str))
    if emb_ids.has_duplicates:
        raise ValueError(f"the embedding file repeats ids, e.g. {emb_ids[emb_ids.duplicated()][0]!r}")
    t_ids = set(table["id"].astype(str).tolist())
    e_ids = set(emb_ids.tolist())
    if t_ids != e_ids:
        parts = [
            f"{len(x)} only in the {name} (e.g. {', '.join(map(repr, x[:3]))})"
            for name, x in (("embeddings", sorted(e_ids - t_ids)), ("table", sorted(t_ids - e_ids)))
            if x
        ]
        raise ValueError(
            f"the ids of the embeddings ({len(e_ids)}) and the table ({len(t_ids)}) do not match: "
            + "; ".join(parts)
            + ": give the embedding file written with this score file"
        )

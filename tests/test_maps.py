"""qaq.maps: map vectors, nearest neighbours, neighbour purity and the cached 2-D layout."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from qaq.io.embeddingfile import Embeddings
from qaq.maps import layout as layout_module
from qaq.maps.layout import MIN_UMAP_ROWS, map_layout
from qaq.maps.neighbours import Neighbours, nearest_neighbours, neighbour_purity
from qaq.maps.vectors import MapVectors, map_vectors


def embeddings(q: np.ndarray, a: np.ndarray, model: str = "m") -> Embeddings:
    ids = np.array([f"r{i}" for i in range(len(q))])
    return Embeddings(ids=ids, vectors={f"{model}__q": q.astype(np.float16), f"{model}__a": a.astype(np.float16)})


def clustered(n: int, width: int, *, clusters: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """q and a spans of ``clusters`` well-separated Gaussian clusters, with one dimension of huge
    magnitude shared by every row (what mean-pooled LM states look like); and each row's cluster."""
    rng = np.random.default_rng(seed)
    label = np.arange(n) % clusters
    centers = rng.normal(size=(clusters, 2, width)) * 4
    q = centers[label, 0] + rng.normal(size=(n, width))
    a = centers[label, 1] + rng.normal(size=(n, width))
    q[:, 0] += 3000.0 + rng.normal(size=n) * 400  # the massive activation: big, and noise only
    return q, a, label


def standardised(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float16).astype(np.float64)
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)


def cosines(x: np.ndarray) -> np.ndarray:
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    return u @ u.T


# ------------------------------------------------------------------------------------ vectors


def test_map_vectors_are_the_cosines_of_the_standardised_spans():
    q, a, _ = clustered(40, 6)
    emb = embeddings(q, a)
    full = map_vectors(emb, "m", span="qa", dims=50)  # 12 components: all of them, a rotation
    assert full.vectors.shape == (40, 12) and full.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(full.vectors, axis=1), 1.0, atol=1e-5)
    expected = cosines(np.concatenate([standardised(q), standardised(a)], axis=1))
    assert np.allclose(full.vectors @ full.vectors.T, expected, atol=1e-4)
    only_a = map_vectors(emb, "m", span="a", dims=50)
    assert np.allclose(only_a.vectors @ only_a.vectors.T, cosines(standardised(a)), atol=1e-4)


def test_map_vectors_do_not_see_a_dimension_s_scale_or_offset():
    q, a, _ = clustered(60, 8)
    base = map_vectors(embeddings(q, a), "m")  # all 16 components: the cosines do not depend on PCA's basis
    q2 = q.copy()
    q2[:, 3] *= 64  # a power of two: exact in float16
    q2[:, 4] += 100  # rounded to 1/16 in float16: a hundredth of the dimension's spread
    moved = map_vectors(embeddings(q2, a), "m")
    assert np.allclose(base.vectors @ base.vectors.T, moved.vectors @ moved.vectors.T, atol=1e-2)
    raw = cosines(np.concatenate([q, a], axis=1))
    assert raw.min() > 0.9  # the massive dimension: every raw pair looks alike ...
    assert (base.vectors @ base.vectors.T).min() < 0.0  # ... the map vectors do not


def test_map_vectors_reduce_to_dims_and_are_seeded():
    q, a, _ = clustered(80, 40)
    emb = embeddings(q, a)
    mv = map_vectors(emb, "m", dims=7, seed=3)
    assert mv.vectors.shape == (80, 7)
    assert np.array_equal(mv.vectors, map_vectors(emb, "m", dims=7, seed=3).vectors)
    assert map_vectors(embeddings(q[:5], a[:5]), "m", dims=7).vectors.shape == (5, 5)  # at most the rows


def test_pca_is_fitted_on_a_seeded_sample_of_many_rows(monkeypatch):
    q, a, _ = clustered(400, 12)
    emb = embeddings(q, a)
    everything = map_vectors(emb, "m", dims=2)
    monkeypatch.setattr("qaq.maps.vectors.PCA_FIT_ROWS", 100)
    sampled = map_vectors(emb, "m", dims=2)
    assert sampled.vectors.shape == (400, 2)
    assert np.array_equal(sampled.vectors, map_vectors(emb, "m", dims=2).vectors)  # the sample is seeded
    assert not np.array_equal(sampled.vectors, map_vectors(emb, "m", dims=2, seed=1).vectors)  # another sample
    # The two components span the three clusters' centres either way: nearly the same cosines.
    assert np.abs(sampled.vectors @ sampled.vectors.T - everything.vectors @ everything.vectors.T).max() < 0.1


def test_rows_without_finite_values_get_no_vector():
    q, a, _ = clustered(30, 5)
    q[[3, 7]] = np.nan
    a[11, 2] = np.nan
    emb = embeddings(q, a)
    both = map_vectors(emb, "m", span="qa", dims=4)
    assert both.rows.tolist() == [i for i in range(30) if i not in (3, 7, 11)] and both.n_rows == 30
    assert both.ids.tolist() == [f"r{i}" for i in both.rows] and both.mask.sum() == 27 and not both.mask[3]
    assert map_vectors(emb, "m", span="a", dims=4).rows.tolist() == [i for i in range(30) if i != 11]
    assert map_vectors(emb, "m", span="q", dims=4).rows.tolist() == [i for i in range(30) if i not in (3, 7)]
    assert np.isfinite(both.vectors).all()
    clean = map_vectors(embeddings(np.delete(q, [3, 7, 11], 0), np.delete(a, [3, 7, 11], 0)), "m", dims=4)
    assert np.allclose(np.abs((clean.vectors * both.vectors).sum(axis=1)), 1.0, atol=1e-3)  # NaN rows do not count


def test_map_vectors_errors():
    q, a, _ = clustered(10, 4)
    emb = embeddings(q, a)
    with pytest.raises(KeyError, match="no embeddings of model 'x'"):
        map_vectors(emb, "x")
    with pytest.raises(ValueError, match="span must be one of q, a, qa"):
        map_vectors(emb, "m", span="b")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dims must be >= 1"):
        map_vectors(emb, "m", dims=0)
    none = map_vectors(embeddings(np.full((3, 4), np.nan), np.zeros((3, 4))), "m")
    assert none.vectors.shape[0] == 0 and none.rows.tolist() == []


# ------------------------------------------------------------------------------------ neighbours


def unit(n: int, d: int, seed: int = 0) -> MapVectors:
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return MapVectors(vectors=x, rows=np.arange(n) * 2, ids=np.arange(n).astype(str), n_rows=2 * n)


def brute_force(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    s = x @ x.T
    np.fill_diagonal(s, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]  # ties to the lower position
    return order, np.take_along_axis(s, order, axis=1)


def test_exact_neighbours_are_brute_force_with_ties_to_the_lower_row(monkeypatch):
    mv = unit(300, 6)
    mv.vectors[[40, 90, 250]] = mv.vectors[7]  # ties: three copies of row 7
    monkeypatch.setattr("qaq.maps.neighbours._BLOCK_CELLS", 300 * 37)  # several blocks, one short
    nb = nearest_neighbours(mv, k=8)
    idx, sim = brute_force(mv.vectors, 8)
    assert nb.method == "exact" and nb.k == 8 and nb.indices.dtype == np.int64
    assert np.array_equal(nb.indices, idx)
    assert np.allclose(nb.similarities, sim, atol=1e-6)
    assert nb.indices[7, :3].tolist() == [40, 90, 250] and nb.indices[90, :3].tolist() == [7, 40, 250]
    assert (nb.indices != np.arange(300)[:, None]).all()  # never its own neighbour
    assert np.array_equal(nb.rows, mv.rows) and nb.n_rows == 600


def test_neighbours_ask_for_at_most_the_other_rows():
    nb = nearest_neighbours(unit(4, 3), k=10)
    assert nb.indices.shape == (4, 3) and sorted(nb.indices[0].tolist()) == [1, 2, 3]
    with pytest.raises(ValueError, match="k must be >= 1"):
        nearest_neighbours(unit(4, 3), k=0)
    with pytest.raises(ValueError, match="method must be"):
        nearest_neighbours(unit(4, 3), method="ball_tree")  # type: ignore[arg-type]


@pytest.mark.slow  # numba compiles pynndescent (~45 s) in every new process
def test_nndescent_neighbours_are_seeded_and_close_to_exact():
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(40, 16))[np.arange(3000) % 40] * 3 + rng.normal(size=(3000, 16))).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    mv = MapVectors(vectors=x, rows=np.arange(3000), ids=np.arange(3000).astype(str), n_rows=3000)
    approx = nearest_neighbours(mv, k=10, method="nndescent", seed=0)
    again = nearest_neighbours(mv, k=10, method="nndescent", seed=0)
    assert approx.method == "nndescent" and approx.indices.shape == (3000, 10)
    assert np.array_equal(approx.indices, again.indices)
    assert (approx.indices != np.arange(3000)[:, None]).all()
    assert (np.diff(approx.similarities, axis=1) <= 1e-6).all()  # nearest first
    exact = nearest_neighbours(mv, k=10, method="exact")
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx.indices, exact.indices)])
    assert recall > 0.9


# ------------------------------------------------------------------------------------ purity


def test_neighbour_purity_on_a_known_graph():
    # Vectors of file rows 0, 1, 2, 4, 5, 6 (row 3 has none); kinds by file row.
    kinds = pd.Series(["a", "a", "a", "b", "b", "b", "c"])
    nb = Neighbours(
        indices=np.array([[1, 2], [0, 3], [0, 1], [4, 0], [5, 3], [4, 3]]),
        similarities=np.ones((6, 2), dtype=np.float32),
        rows=np.array([0, 1, 2, 4, 5, 6]),
        n_rows=7,
        method="exact",
    )
    out = neighbour_purity(nb, kinds, k=2)
    # Labels of the vectors: a a a b b c. Same-kind neighbours: 2/2, 1/2, 2/2 | 1/2, 1/2 | 0/2.
    assert out["kind"].tolist() == ["a", "b", "c"] and out["rows"].tolist() == [3, 2, 1]
    assert np.allclose(out["share"], [3 / 6, 2 / 6, 1 / 6])
    assert np.allclose(out["mean_same"], [5 / 6, 1 / 2, 0.0])
    assert np.allclose(out["majority_same"], [2 / 3, 0.0, 0.0])  # more than half: 2 of 2
    # By chance: 2 of the 5 other rows, of which rows - 1 share the kind, both of them alike.
    assert np.allclose(out["majority_by_chance"], [1 / 10, 0.0, 0.0])
    first = neighbour_purity(nb, kinds, k=1)  # the nearest only: a a a | b c | b -> 1, 0.5, 0
    assert np.allclose(first["majority_same"], [1.0, 0.5, 0.0])
    with pytest.raises(ValueError, match="6 labels for a file of 7 rows"):
        neighbour_purity(nb, kinds[:6])


def test_neighbour_purity_counts_a_missing_neighbour_as_no_match():
    nb = Neighbours(
        indices=np.array([[1, -1], [0, -1], [0, 1]]),
        similarities=np.array([[1, np.nan], [1, np.nan], [1, 1]], dtype=np.float32),
        rows=np.arange(3),
        n_rows=3,
        method="nndescent",
    )
    out = neighbour_purity(nb, pd.Series(["a", "a", "b"]), k=2).set_index("kind")
    assert out.loc["a", "majority_same"] == 1.0 and out.loc["b", "majority_same"] == 0.0


# ------------------------------------------------------------------------------------ layout


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """UMAP runs twice here, once uncached and once into a fresh cache: numba compiles it once."""
    q, a, label = clustered(240, 24, clusters=3)
    q[[5, 77]] = np.nan
    emb = embeddings(q, a)
    cache = tmp_path_factory.mktemp("maps")
    t0 = time.perf_counter()
    uncached = map_layout(emb, "m", seed=0, cache=False)
    cached = map_layout(emb, "m", seed=0, cache_dir=cache)
    return {
        "emb": emb,
        "label": label,
        "uncached": uncached,
        "cached": cached,
        "cache": cache,
        "seconds": (time.perf_counter() - t0) / 2,
    }


def test_layout_has_a_row_per_row_and_nan_rows_without_vectors(layouts):
    xy = layouts["uncached"]
    assert xy.shape == (240, 2) and xy.dtype == np.float32
    assert np.isnan(xy[[5, 77]]).all() and np.isfinite(np.delete(xy, [5, 77], 0)).all()
    # The clusters stay apart on the map: each row's 10 nearest on the map are of its cluster.
    keep = np.isfinite(xy[:, 0])
    pts, lab = xy[keep], layouts["label"][keep]
    d = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d, np.inf)
    near = np.argsort(d, axis=1)[:, :10]
    assert (lab[near] == lab[:, None]).mean() > 0.95


def test_layout_is_seeded_and_cached(layouts, monkeypatch):
    assert np.array_equal(layouts["uncached"], layouts["cached"], equal_nan=True)  # two computations
    files = list(layouts["cache"].iterdir())
    assert len(files) == 1 and files[0].suffix == ".npy" and len(files[0].stem) == 64
    monkeypatch.setattr(layout_module, "_umap", lambda *a, **k: pytest.fail("the cached layout was computed again"))
    t0 = time.perf_counter()
    again = map_layout(layouts["emb"], "m", seed=0, cache_dir=layouts["cache"])
    seconds = time.perf_counter() - t0
    assert np.array_equal(again, layouts["cached"], equal_nan=True)
    assert seconds < 0.5 and seconds < layouts["seconds"] / 5
    with pytest.raises(pytest.fail.Exception, match="computed again"):  # another seed is another key
        map_layout(layouts["emb"], "m", seed=1, cache_dir=layouts["cache"])


def test_a_handful_of_rows_maps_to_its_first_two_components(tmp_path):
    q, a, _ = clustered(MIN_UMAP_ROWS, 4)
    q[0] = np.nan
    emb = embeddings(q, a)
    xy = map_layout(emb, "m", cache_dir=tmp_path)
    mv = map_vectors(emb, "m")
    assert np.isnan(xy[0]).all() and np.array_equal(xy[1:], mv.vectors[:, :2])
    assert np.array_equal(map_layout(emb, "m", cache_dir=tmp_path), xy, equal_nan=True)
    with pytest.raises(ValueError, match="n_neighbors must be >= 2"):
        map_layout(emb, "m", n_neighbors=1, cache=False)


# ------------------------------------------------------------------------------------ the sample report


def test_map_report_on_a_synthetic_embedding_file_of_the_sample(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    from qaq.io.embeddingfile import save_embeddings
    from qaq.io.scorefile import load_scores

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("map_report", root / "benchmarks" / "map_report.py")
    assert spec and spec.loader
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    scores = root / "sample_data" / "code_instructions.scores.parquet"
    ids = load_scores(scores)[0]["id"].astype(str).to_numpy()
    rng = np.random.default_rng(0)
    q, a = rng.normal(size=(len(ids), 16)), rng.normal(size=(len(ids), 16))
    q[1], a[1] = q[0], a[0]  # s0002 copies s0001
    path = tmp_path / "sample.embed.npz"
    save_embeddings(
        Embeddings(ids=ids, vectors={"weak__q": q.astype(np.float16), "weak__a": a.astype(np.float16)}), path
    )
    assert report.main(["--scores", str(scores), "--embeddings", str(path), "--thresholds", "0.99"]) == 0
    out = capsys.readouterr().out
    for kind in ("clean", "mismatch", "fabricated", "non_code", "echo", "truncated", "boilerplate"):
        assert f" {kind} " in out.split("## weak")[1], kind  # a line of the purity table
    assert "## weak" in out and "near-duplicates at cosine >= 0.99: 1 groups, 2 rows" in out
    assert "s0001 (non_code), s0002 (clean); highest weak_rmi keeps s0002" in out
    assert report.main(["--scores", str(scores), "--embeddings", str(tmp_path / "none.npz")]) == 1

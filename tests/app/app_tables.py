"""Synthetic datasets and score tables for the app tests and the app benchmark.

Nothing here is a real model's output: the scores are drawn so that the defect rows sit in the
tails of RMI (as on real data), which is all the pages need to show something. The files are
written with qaq's own writers, so the app reads them exactly as it reads real ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from qaq.columns import QA_HASH, score_column
from qaq.io.pairs import hash_id
from qaq.io.scorefile import write_scores

# A query that would run script if any page rendered sample text as HTML.
XSS_QUERY = ('Write a function <script>window.__pwned = 1</script> that parses '
             '<img src=x onerror="window.__pwned = 2"> HTML tags.')
DEFECTS = ("none", "none", "none", "mismatch", "echo", "fabricated")


def records(n: int, *, seed: int = 0, xss: bool = True) -> list[dict]:
    """``n`` sample-style records: ``id``, ``task``, ``defect``, ``instruction``, ``response``."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        defect = DEFECTS[int(rng.integers(len(DEFECTS)))]
        k = int(rng.integers(2, 40))
        q = f"Write a Python function f{i} that adds {k} to every item of a list of numbers."
        a = f"```python\ndef f{i}(items):\n    return [x + {k} for x in items]\n```"
        if defect == "echo":
            a = q
        elif defect == "mismatch":
            a = "```sql\nSELECT name FROM users;\n```"
        out.append({"id": f"r{i:06d}", "task": "lists", "defect": defect, "instruction": q, "response": a})
    if xss and n:
        out[0]["instruction"] = XSS_QUERY
    if n > 3:
        out[3]["response"] = ""  # a row the loader skips ("empty answer")
    return out


def write_data(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def scores(rows: list[dict], models: tuple[str, ...] = ("weak", "strong"), *, seed: int = 0) -> pd.DataFrame:
    """A qaq score table for ``rows``: id, qa_hash (the rows' text, as qaq score writes it) and
    every score column of each model."""
    rng = np.random.default_rng(seed + 1)
    n = len(rows)
    defect = np.array([r["defect"] for r in rows])
    skipped = np.array([not r["instruction"].strip() or not r["response"].strip() for r in rows])
    out = pd.DataFrame({"id": [r["id"] for r in rows], QA_HASH: [hash_id(r["instruction"], r["response"]) for r in rows]})
    for j, m in enumerate(models):
        nll_q = rng.normal(3.0 + 0.3 * j, 0.8, n).clip(0.2)
        rmi = 0.15 * nll_q + rng.normal(0.4, 0.3, n)
        rmi = np.where(defect == "mismatch", rng.normal(-0.2, 0.2, n), rmi)
        rmi = np.where(defect == "echo", rng.normal(2.0, 0.3, n), rmi)
        nll_a = rng.normal(1.5, 0.4, n).clip(0.1)
        nll_a_q = nll_a * rng.uniform(0.4, 1.1, n)
        cols = {
            "nll_q": nll_q, "nll_q_given_a": nll_q - rmi, "nll_a": nll_a, "nll_a_given_q": nll_a_q,
            "rmi": rmi, "ifd": nll_a_q / nll_a,
        }
        for f, v in cols.items():
            out[score_column(m, f)] = np.where(skipped, np.nan, v)
        for f in ("n_tokens_q", "n_tokens_a", "truncated"):
            v = rng.integers(5, 200, n) if f != "truncated" else np.zeros(n, dtype=int)
            out[score_column(m, f)] = pd.Series(v, dtype="Int64").mask(skipped)
    return out


def write_pair(directory: Path, n: int, *, models: tuple[str, ...] = ("weak", "strong"), seed: int = 0,
               xss: bool = True, name: str = "data") -> tuple[Path, Path]:
    """Write ``<name>.jsonl`` and ``<name>.scores.parquet`` in ``directory``; return both paths."""
    rows = records(n, seed=seed, xss=xss)
    data = write_data(directory / f"{name}.jsonl", rows)
    table = scores(rows, models, seed=seed)
    out = directory / f"{name}.scores.parquet"
    write_scores(table, out, {"models": {m: {"spec": f"synthetic-{m}"} for m in models}, "synthetic": True})
    return data, out


def write_embeddings(scores_path: Path, n: int, *, models: tuple[str, ...] = ("weak", "strong"), seed: int = 0,
                     width: int = 24, copies: tuple[tuple[int, int], ...] = ((10, 11), (20, 21), (20, 22))) -> Path:
    """Embeddings of the ``n`` rows of :func:`records` beside ``scores_path`` (``.embed.npz``).

    Each defect type's rows lie around a centre of their own (so the map has patches); each pair
    ``(i, j)`` of ``copies`` makes row ``j`` a near-copy of row ``i`` (cosine above 0.99), and
    row 3 (the empty answer the loader skips) has none.
    """
    from qaq.io.embeddingfile import Embeddings, embeddings_path, save_embeddings, vector_key

    rows = records(n, seed=seed)
    rng = np.random.default_rng(seed + 2)
    kinds = sorted(set(DEFECTS))
    vectors = {}
    for model in models:
        centres = {k: rng.normal(scale=4.0, size=(2, width)) for k in kinds}
        q = np.stack([centres[r["defect"]][0] + rng.normal(size=width) for r in rows])
        a = np.stack([centres[r["defect"]][1] + rng.normal(size=width) for r in rows])
        for i, j in copies:
            q[j] = q[i] + rng.normal(scale=1e-3, size=width)
            a[j] = a[i] + rng.normal(scale=1e-3, size=width)
        if n > 3:
            q[3] = a[3] = np.nan
        vectors[vector_key(model, "q")], vectors[vector_key(model, "a")] = q, a
    path = embeddings_path(scores_path)
    save_embeddings(Embeddings(ids=np.array([r["id"] for r in rows]), vectors=vectors), path)
    return path

"""What a scoring run reports: the metadata of its score table and of its embeddings, and the rows
``--max-length`` cut.

:func:`run_metadata` is the ``attrs["qaq_run"]`` of every engine's table (read back by
:mod:`qaq.io.runrecord`); :func:`embeddings_record` wraps the span embeddings a run kept with what
made them; :func:`heavily_truncated` lists the rows the CLI and the Data page warn about.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qaq import __version__
from qaq.columns import score_column
from qaq.io.embeddingfile import POOLING, Embeddings, vector_key

if TYPE_CHECKING:
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.engine import ModelRun, ScoringConfig

# A row that loses more than this share of its tokens to --max-length is reported (CLI, Data page).
TRUNCATION_NOTICE_SHARE = 0.1


def heavily_truncated(table: pd.DataFrame, model: str, *, share: float = TRUNCATION_NOTICE_SHARE) -> pd.DataFrame:
    """Rows that lost more than ``share`` of their query and answer tokens to ``--max-length``.

    Args:
        table: a score table (or the app's working table) with ``id`` and ``model``'s columns.
        model: the model name.
        share: the reporting threshold, a fraction of the row's tokens.

    Returns:
        ``id`` (and ``line`` when the table has it), ``tokens_cut``, ``tokens`` (kept + cut) and
        ``share_cut``, largest cut first.

    >>> t = pd.DataFrame({"id": ["a", "b"], "m_n_tokens_q": [10, 10], "m_n_tokens_a": [80, 20], "m_truncated": [20, 1]})
    >>> heavily_truncated(t, "m")[["id", "tokens_cut", "tokens"]].to_dict("records")
    [{'id': 'a', 'tokens_cut': 20, 'tokens': 110}]
    """
    cut = table[score_column(model, "truncated")].astype("Float64")
    total = (
        cut
        + table[score_column(model, "n_tokens_q")].astype("Float64")
        + table[score_column(model, "n_tokens_a")].astype("Float64")
    )
    frac = (cut / total.where(total > 0)).fillna(0.0)
    keep = (frac > share).to_numpy(dtype=bool)
    cols = ["id", "line"] if "line" in table.columns else ["id"]
    out = table.loc[keep, cols].copy()
    out["tokens_cut"] = cut[keep].astype("int64").to_numpy()
    out["tokens"] = total[keep].astype("int64").to_numpy()
    out["share_cut"] = frac[keep].astype(float).round(3).to_numpy()
    return out.sort_values("tokens_cut", ascending=False, kind="stable").reset_index(drop=True)


def run_metadata(
    config: ScoringConfig, runs: Mapping[str, ModelRun], *, n_rows: int, embeddings: bool = False
) -> dict[str, Any]:
    """Everything needed to know how a score table was made (``embeddings``: whether the run kept
    its span embeddings, :func:`embeddings_record`)."""
    import importlib.metadata as md

    def version(pkg: str) -> str | None:
        try:
            return md.version(pkg)
        except md.PackageNotFoundError:
            return None

    return {
        "qaq_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_rows": n_rows,
        "config": asdict(config),
        "embeddings": {"kept": True, "pooling": POOLING, "dtype": "float16"} if embeddings else {"kept": False},
        "models": {
            name: {
                **r.description,
                "rows_total": r.rows_total,
                "rows_cached": r.rows_cached,
                "rows_scored": r.rows_scored,
                "tokens_forwarded": r.tokens_forwarded,
                "seconds": round(r.seconds, 3),
            }
            for name, r in runs.items()
        },
        "versions": {p: version(p) for p in ("torch", "transformers", "pandas", "numpy")},
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def embeddings_record(
    ids: pd.Series, vectors: Mapping[str, np.ndarray], models: Mapping[str, ScoringModel]
) -> Embeddings:
    """The :class:`~qaq.io.embeddingfile.Embeddings` of a score table.

    Args:
        ids: the table's ``id`` column (its order is the file's).
        vectors: model name -> (rows, 2, width) float16, Q then A, as the engine filled them.
        models: model name -> the model that made them; its identity, precision and template hash
            go into ``meta``, so a reader can tell embeddings of different runs apart.
    """
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {}
    for name, v in vectors.items():
        arrays[vector_key(name, "q")], arrays[vector_key(name, "a")] = v[:, 0], v[:, 1]
        d = models[name].describe()
        meta[name] = {
            "width": int(v.shape[2]),
            **{k: d[k] for k in ("spec", "identity", "precision", "template_sha256")},
        }
    return Embeddings(ids=ids.astype(str).to_numpy(), vectors=arrays, meta={"models": meta})

"""The dataset as the Data page checks it: the fields of its file, its validation counts, its lengths.

No Streamlit here: :mod:`qaq.app.cached_views` caches :func:`lengths` and :func:`validation_report`
on the workspace key, and everything can be called, and is tested, without a running app.
:func:`source_fields` would sit more naturally in :mod:`qaq.io.datasets`, and lives here only until
that module's owner takes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from qaq.columns import score_column, scored_models
from qaq.io.datasets import DataError, skipped_rows
from qaq.io.readers import read_records
from qaq.scoring.report import heavily_truncated


def source_fields(path: str | os.PathLike[str], *, sample: int = 200) -> list[str]:
    """Field names of a data file, from its first ``sample`` records (for the mapping widgets).

    Raises:
        qaq.io.datasets.DataError: the file cannot be read.
    """
    p = Path(path)
    suffix = p.name.lower().removesuffix(".gz")
    if suffix.endswith((".parquet", ".pq")):
        try:
            return list(pq.ParquetFile(p).schema_arrow.names)
        except Exception as e:  # noqa: BLE001 - any arrow failure: not a readable Parquet file
            raise DataError(f"not a readable Parquet file: {e}", path=p) from None
    if suffix.endswith(".csv"):
        try:
            return [str(c) for c in pd.read_csv(p, nrows=0).columns]
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read the CSV header: {e}", path=p) from None
    fields: dict[str, None] = {}
    for i, (_, record) in enumerate(read_records(p)):
        if i >= sample:
            break
        if isinstance(record, str):
            try:
                record = json.loads(record)
            except json.JSONDecodeError:
                continue
        if isinstance(record, dict):
            fields.update(dict.fromkeys(record))
    return list(fields)


def lengths(table: pd.DataFrame, model: str | None = None) -> tuple[pd.DataFrame, str]:
    """Q and A lengths for :func:`qaq.plots.length_histograms`, and their unit.

    Tokens of ``model`` when its token counts are in the table (as float, ``NaN`` where not
    scored), else characters.
    """
    if model is not None and score_column(model, "n_tokens_q") in table.columns:
        cols = {"query": score_column(model, "n_tokens_q"), "answer": score_column(model, "n_tokens_a")}
        return pd.DataFrame({k: table[c].astype("float64") for k, c in cols.items()}), f"{model} tokens"
    return pd.DataFrame({"query": table["query"].str.len(), "answer": table["answer"].str.len()}), "characters"


def repeated_pairs(table: pd.DataFrame) -> np.ndarray:
    """Which rows repeat an earlier row's (Q, A) pair: ``table.duplicated(["query", "answer"])``.

    Only rows whose query repeats can repeat a pair, so the pairs are compared among those alone:
    one pass over the queries instead of a pass over both columns (most rows of a real set have a
    query of their own; at 1,000,000 rows that halves the Data page's first draw of this count).
    """
    out = np.zeros(len(table), dtype=bool)
    candidates = np.flatnonzero(table["query"].duplicated(keep=False).to_numpy())
    if len(candidates):
        pairs = table[["query", "answer"]].iloc[candidates]
        out[candidates[pairs.duplicated(keep="first").to_numpy()]] = True
    return out


def validation_report(table: pd.DataFrame) -> dict[str, Any]:
    """Counts for the Data page.

    Returns:
        ``rows``; ``to_score`` (rows minus skipped); ``skipped`` (:func:`qaq.io.datasets.skipped_rows`);
        ``duplicate_pairs``: ``id`` and ``line`` of each row repeating an earlier (Q, A) pair;
        ``truncated``: per scored model with such rows, :func:`qaq.scoring.report.heavily_truncated`.
    """
    skipped = skipped_rows(table)
    dup = repeated_pairs(table)
    truncated = {
        m: heavily_truncated(table, m)
        for m in scored_models(table.columns)
        if score_column(m, "truncated") in table.columns
    }
    return {
        "rows": len(table),
        "to_score": len(table) - len(skipped),
        "skipped": skipped,
        "duplicate_pairs": table.loc[dup, ["id", "line"]],
        "truncated": {m: t for m, t in truncated.items() if len(t)},
    }

"""Embedding files: the pooled hidden states a scoring run can keep beside its scores.

``qaq score --embed`` mean-pools each model's last hidden state over the query span and over the
answer span of the forward layout (the pass that reads Q then A). One file holds those vectors for
every row of a score table, with the same ids in the same order:

* ``ids``: the rows' ids (unicode);
* ``<model>__q`` and ``<model>__a``: float16 arrays of shape (rows, hidden width), NaN for a row
  the model did not score (a skipped row, an empty span);
* ``meta``: a JSON object (format, models and widths, what was pooled).

The file is a NumPy ``.npz`` archive read without pickles, written atomically
(:func:`qaq.io.files.atomic_path`). It lives beside its score file: ``scores.parquet`` ->
``scores.embed.npz`` (:func:`embeddings_path`); :func:`save_scores_and_embeddings` writes the
two all or nothing.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qaq.io.files import DataError, atomic_path, atomic_paths

if TYPE_CHECKING:
    import pandas as pd

EMBED_SUFFIX = ".embed.npz"
FORMAT = "qaq-embeddings/1"
POOLING = "mean of the last hidden state over each span's tokens, forward layout (Q then A)"

Span = Literal["q", "a"]
SPANS: tuple[Span, ...] = ("q", "a")
_SEP = "__"


def vector_key(model: str, span: Span) -> str:
    """The archive name of one model's vectors of one span: ``<model>__q`` or ``<model>__a``."""
    return f"{model}{_SEP}{span}"


@dataclass(frozen=True)
class Embeddings:
    """Pooled hidden states of a score table's rows.

    Attributes:
        ids: the rows' ids, as strings, in the score table's order.
        vectors: :func:`vector_key` -> float16 array (rows, width); both spans of every model.
        meta: what made them (format, pooling, per model its width); JSON-serialisable.
    """

    ids: np.ndarray
    vectors: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.ids)
        for key, v in self.vectors.items():
            if v.ndim != 2 or v.shape[0] != n:
                raise ValueError(f"embeddings {key!r}: shape {v.shape} for {n} ids (want (rows, width))")
        for model in self.models:
            for span in SPANS:
                if vector_key(model, span) not in self.vectors:
                    raise ValueError(f"embeddings of {model!r} lack the {span!r} span")

    @property
    def models(self) -> list[str]:
        """The models with vectors, in file order."""
        return list(dict.fromkeys(k.rsplit(_SEP, 1)[0] for k in self.vectors))

    def span(self, model: str, span: Span) -> np.ndarray:
        """One model's vectors of one span (rows, width), float16; KeyError naming the models there."""
        key = vector_key(model, span)
        if key not in self.vectors:
            raise KeyError(f"no embeddings of model {model!r} (this file has {', '.join(self.models) or 'none'})")
        return self.vectors[key]


def embeddings_path(scores_path: str | os.PathLike[str]) -> Path:
    """Where the embeddings of a score file live: ``scores.parquet`` -> ``scores.embed.npz``."""
    p = Path(scores_path)
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    return p.with_name(stem + EMBED_SUFFIX)


def save_embeddings(emb: Embeddings, path: str | os.PathLike[str]) -> None:
    """Write ``emb`` to ``path`` (must end in ``.npz``) atomically: the old file stays on any failure."""
    path = Path(path)
    if path.suffix != ".npz":
        raise DataError(f"an embedding file must end in .npz, got {path.suffix or 'no suffix'!r}", path=path)
    meta = {"format": FORMAT, "pooling": POOLING, **emb.meta}
    # Any: the arrays go in as keywords, which numpy's stubs would match against savez's own options.
    arrays: dict[str, Any] = {k: np.ascontiguousarray(v, dtype=np.float16) for k, v in emb.vectors.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, ids=np.asarray(emb.ids, dtype=str), meta=np.asarray(json.dumps(meta, sort_keys=True)), **arrays)


def save_scores_and_embeddings(
    scores: pd.DataFrame, path: str | os.PathLike[str], metadata: dict[str, Any], emb: Embeddings
) -> Path:
    """Write a score table (:func:`qaq.io.scorefile.write_scores`) and its embeddings beside it
    (:func:`embeddings_path`), all or nothing.

    The embeddings are written to a temporary file first (:func:`qaq.io.files.atomic_paths`), then
    the score table (itself atomic), and only then is the embedding file put in place: a failure
    in either leaves both old files as they were.

    Returns:
        The embedding file's path.

    Raises:
        DataError: as the writers, naming the file that could not be written.
    """
    from qaq.io.scorefile import write_scores  # pyarrow: only when a table is written

    target = embeddings_path(path)
    with atomic_paths([target]) as (tmp,):
        save_embeddings(emb, tmp)
        write_scores(scores, path, metadata)
    return target


def load_embeddings(path: str | os.PathLike[str]) -> Embeddings:
    """Read an embedding file written by :func:`save_embeddings`.

    Raises:
        DataError: naming the file (and the array at fault): not an archive, no ``ids`` or
            ``meta``, another format, vectors whose rows do not match the ids.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            for required in ("ids", "meta"):
                if required not in names:
                    raise DataError(f"not a qaq embedding file: no {required!r} array", path=path)
            ids = archive["ids"].astype(str)
            meta = json.loads(str(archive["meta"]))
            vectors = {k: archive[k] for k in names if k not in ("ids", "meta")}
    except (OSError, ValueError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise DataError(f"cannot read the embedding file: {e}", path=path) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(
            f"not a {FORMAT} file (meta format {meta.get('format') if isinstance(meta, dict) else meta!r})",
            path=path,
            field="meta",
        )
    for key, v in vectors.items():
        if v.ndim != 2 or v.shape[0] != len(ids):
            raise DataError(f"shape {v.shape} for {len(ids)} ids", path=path, field=key)
    try:
        return Embeddings(ids=ids, vectors=vectors, meta=meta)
    except ValueError as e:
        raise DataError(str(e), path=path) from None

"""What ``qaq score`` reads, for both engines: a data file, a directory of them, a saved Hugging Face
dataset, or a Hugging Face hub id.

:func:`load_inputs` turns any of them into one qaq table (:mod:`qaq.columns`), every file and every
saved dataset folder read by :func:`qaq.io.datasets.load_dataset`. A hub id is downloaded with the
``datasets`` package (``pip install "qaq[hf]"``, imported only then), saved into qaq's cache as a
folder and read from there like any saved one: there is one reading path, and a score file names a
folder that ``qaq select --data`` can read again without the hub.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from qaq.io.datasets import load_dataset
from qaq.io.files import (
    DataError,
    cache_root,
    format_of,
    is_saved_dataset,
    read_suffixes_text,
    saved_splits,
)
from qaq.io.pairs import hash_ids

HF_EXTRA_HINT = 'pip install "qaq[hf]"'


def input_files(path: str | os.PathLike[str], *, fmt: str | None = None) -> list[Path]:
    """The inputs of INPUT: the file itself, a saved Hugging Face dataset folder itself, or a
    directory's data files in name order.

    A directory contributes its non-hidden files with a data suffix (:func:`qaq.io.files.format_of`:
    ``.jsonl``, ``.json``, ``.csv`` (optionally ``.gz``), ``.parquet`` ...), or every non-hidden file
    when ``fmt`` is given. Subdirectories are not searched. A folder written by ``save_to_disk``
    (a Dataset, or a DatasetDict, which needs a split: see :func:`load_inputs`) is one input.

    Raises:
        DataError: no such path, or a directory without data files.
    """
    p = Path(path)
    if p.is_file() or is_saved_dataset(p) or saved_splits(p) is not None:
        return [p]
    if not p.is_dir():
        raise DataError("no such file or directory", path=p)
    files = sorted(
        f
        for f in p.iterdir()
        if f.is_file() and not f.name.startswith((".", "_")) and (fmt is not None or format_of(f) is not None)
    )
    if not files:
        raise DataError(f"no data files ({read_suffixes_text()}) in the directory", path=p)
    return files


def load_inputs(path: str | os.PathLike[str], *, split: str | None = None, **load_options: Any) -> pd.DataFrame:
    """Load a file, a directory of shards or a Hugging Face dataset as one qaq table.

    Rows keep file order, then record order. Hash ids (files without an id field) are
    numbered over the whole table as one file would be (a pair repeated in two shards gets
    ``-2``); ids from an id field must be unique across files.

    Args:
        path: a data file, a directory of them (see :func:`input_files`), a folder written by
            ``datasets``' ``save_to_disk`` (Dataset or DatasetDict), or, with ``split``, a hub id
            (``org/name``) when no such path exists.
        split: the split to read of a DatasetDict folder or a hub id.
        **load_options: passed to :func:`qaq.io.datasets.load_dataset` (``query=``, ``answer=``, ``fmt=``...).

    Returns:
        The table; ``attrs["qaq_source"]`` is the file's (or folder's) source record, with
        ``split`` (and, from the hub, ``hub_id``) when one was given; for a directory of files
        ``{"path", "files": [one record per file], "n_rows", "n_skipped"}``.

    Raises:
        DataError: as :func:`qaq.io.datasets.load_dataset`; an id repeated across files; a
            DatasetDict without ``split`` (naming its splits) or without that split; ``split`` for
            a plain file or folder; a hub id without the ``datasets`` package, or that cannot be loaded.
    """
    p = Path(path)
    hub_id = None
    if split is not None:
        if p.exists():
            p = _split_folder(p, split)
        else:
            hub_id, p = str(path), _hub_folder(str(path), split)
    files = input_files(p, fmt=load_options.get("fmt"))
    frames = [load_dataset(f, **load_options) for f in files]
    if files == [p]:
        data = frames[0]
        if split is not None:
            data.attrs["qaq_source"]["split"] = split
        if hub_id is not None:
            data.attrs["qaq_source"]["hub_id"] = hub_id
        return data
    data = pd.concat(frames, ignore_index=True)
    hashed = np.concatenate([np.full(len(f), f.attrs["qaq_source"]["mapping"]["id"] is None) for f in frames])
    if hashed.any():
        # The id rule of qaq.io.datasets for files without ids, applied across files.
        pairs = list(zip(data["query"][hashed], data["answer"][hashed]))
        data.loc[hashed, "id"] = hash_ids(pairs)
    dup = data["id"].duplicated(keep=False).to_numpy()
    if dup.any():
        first = data["id"].to_numpy()[dup][0]
        file_of = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
        where = ", ".join(str(files[i]) for i in sorted(set(file_of[(data["id"] == first).to_numpy()])))
        raise DataError(
            f"id {first!r} appears in more than one file ({where}); ids must be unique across a directory", path=p
        )
    sources = [f.attrs["qaq_source"] for f in frames]
    data.attrs["qaq_source"] = {
        "path": str(p.resolve()),
        "files": sources,
        "n_rows": len(data),
        "n_skipped": sum(s["n_skipped"] for s in sources),
    }
    return data


def _split_folder(path: Path, split: str) -> Path:
    """The folder of ``split`` in a saved DatasetDict."""
    splits = saved_splits(path)
    if splits is None:
        what = (
            "one saved dataset, not a DatasetDict: leave out the split"
            if is_saved_dataset(path)
            else "not a saved Hugging Face DatasetDict (no dataset_dict.json)"
        )
        raise DataError(f"split {split!r} given, but this is {what}", path=path)
    if split not in splits:
        raise DataError(f"no split {split!r}: the DatasetDict has {', '.join(map(repr, splits))}", path=path)
    return path / split


def hf_cache_dir() -> Path:
    """Where datasets from the hub are saved: ``$QAQ_CACHE_DIR/hf``, by default ``~/.cache/qaq/hf``."""
    return cache_root() / "hf"


def _hub_folder(hub_id: str, split: str) -> Path:
    """Download ``hub_id``'s ``split`` and save it into :func:`hf_cache_dir`; the saved folder.

    The folder is keyed by id, split and the dataset's fingerprint, so a new revision of the
    dataset gets a new folder and an unchanged one is saved once.
    """
    try:
        import datasets
    except ImportError:
        raise DataError(
            f"no such file or directory; to read a Hugging Face hub id, install the datasets package: {HF_EXTRA_HINT}",
            path=hub_id,
        ) from None
    try:
        dataset = datasets.load_dataset(hub_id, split=split)
    except Exception as e:  # noqa: BLE001 - the hub, the network, a dataset's loader: no common base class
        raise DataError(
            f"no such file or directory, and the Hugging Face hub gave no split {split!r} of it: "
            f"{type(e).__name__}: {e}",
            path=hub_id,
        ) from None
    if not isinstance(dataset, datasets.Dataset):
        raise DataError(f"the hub returned a {type(dataset).__name__} for split {split!r}, not a Dataset", path=hub_id)
    # Dataset has no public fingerprint: _fingerprint is what datasets itself keys its cache by.
    folder = hf_cache_dir() / quote(hub_id, safe="") / quote(split, safe="") / dataset._fingerprint
    if is_saved_dataset(folder):
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    except OSError as e:
        raise DataError(f"cannot write the hub cache: {e.strerror or e}", path=folder.parent) from None
    try:
        dataset.save_to_disk(str(tmp))
        # One rename: a reader sees the whole folder or none. Another process may have won the race.
        os.replace(tmp, folder)
    except OSError as e:
        if not is_saved_dataset(folder):
            raise DataError(f"cannot write the hub cache: {e.strerror or e}", path=folder) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder

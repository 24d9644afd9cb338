"""The working table of a session, built from cached reads, and :func:`current` for the pages.

Imports streamlit (its caches and session state); the :class:`qaq.app.table.Workspace` it builds,
and how the working table is derived, are in :mod:`qaq.app.table`, which does not.

Caching: files are read under ``st.cache_resource`` keyed by path + mtime + size (+ field
mapping), so an edited file is re-read and nothing else is. ``cache_resource`` shares the one
object instead of pickling a copy per run (0.5 s a run for a 300,000-row table, more at a million
rows); that is safe because nothing downstream mutates a table it is given (the flow's rule). The working table (data joined with scores
on ``id``, then strata, ranks and diff/sum) is cached on those keys + K + ranking + roles, and
every view of it on that key (``Workspace.key``), never on the table's contents.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from qaq.app import state
from qaq.app.table import Workspace, default_roles, working_table
from qaq.columns import scored_models
from qaq.io.runrecord import mapping_kwargs, run_record


def file_key(path: str | os.PathLike[str] | None) -> tuple[str, int, int] | None:
    """(absolute path, mtime_ns, size): a cache key that changes when the file does."""
    if path is None:
        return None
    p = Path(path).expanduser()
    try:
        s = p.stat()
    except OSError:
        return (str(p.resolve()), -1, -1)  # missing: the loader raises a clear DataError
    return (str(p.resolve()), s.st_mtime_ns, s.st_size)


@st.cache_resource(max_entries=4, show_spinner="Reading the dataset…")
def load_data(key: tuple[str, int, int], mapping: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    """:func:`qaq.io.datasets.load_dataset` of ``key[0]``; raises :class:`qaq.io.datasets.DataError`."""
    from qaq.io.datasets import load_dataset

    return load_dataset(key[0], **dict(mapping))


@st.cache_resource(max_entries=4, show_spinner="Reading the scores…")
def load_scores(key: tuple[str, int, int]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`qaq.io.scorefile.load_scores` of ``key[0]``; raises :class:`qaq.io.datasets.DataError`."""
    from qaq.io.scorefile import load_scores as _load

    return _load(key[0])


@dataclass(frozen=True)
class Base:
    """The joined table before any choice of K, ranking or roles."""

    table: pd.DataFrame | None
    source_path: str | None  # the file the ``row`` column points into (exports read it)
    meta: dict[str, Any]
    notes: tuple[str, ...] = ()  # things to tell the user (e.g. the data came from the score file)


@st.cache_resource(max_entries=4, show_spinner="Joining the scores…")
def _base(data_key: tuple | None, mapping: tuple, scores_key: tuple | None) -> Base:
    """Data joined with scores on id. Raises DataError/ValueError with the reason."""
    from qaq.select.selection import attach_scores

    notes: list[str] = []
    scores, meta = load_scores(scores_key) if scores_key else (None, {})
    self_contained = scores is not None and run_record(meta).carries_rows(scores.columns)
    if self_contained:  # the QAQ authors' files carry the rows: the data is the score file itself
        if data_key is not None:
            notes.append("The score file carries its own rows: they are used instead of the dataset.")
        assert scores_key is not None, "the scores were loaded from scores_key"
        return Base(scores, scores_key[0], meta, tuple(notes))
    if data_key is None and scores is not None:
        source = run_record(meta).source
        src = source.path
        if src and Path(src).is_file():
            data_key = file_key(src)
            mapping = source.load_kwargs()
            notes.append(f"Rows read from {src}, the file these scores were computed from.")
        else:
            raise ValueError(
                "this score file holds scores only, not the rows: choose the dataset it "
                "was scored from on the Data page" + (f" ({src})" if src else "")
            )
    if data_key is None:
        return Base(None, None, {})
    data = load_data(data_key, mapping)
    if scores is None:
        return Base(data, data_key[0], {}, tuple(notes))
    return Base(attach_scores(data, scores), data_key[0], meta, tuple(notes))


@st.cache_data(max_entries=8, show_spinner="Reading…")
def _summary(data_key: tuple | None, mapping: tuple, scores_key: tuple | None) -> tuple[list[str], dict[str, Any]]:
    """(scored models, score metadata) of a source: small, so a cache hit costs nothing."""
    base = _base(data_key, mapping, scores_key)
    return (scored_models(base.table.columns) if base.table is not None else []), base.meta


@st.cache_resource(max_entries=4, show_spinner="Ranking…")
def _derived(
    data_key: tuple | None,
    mapping: tuple,
    scores_key: tuple | None,
    bins: int,
    ranking: str,
    strong: str | None,
    weak: str | None,
    boundaries: tuple[float, ...] | None = None,
) -> tuple[pd.DataFrame | None, str | None, dict, tuple]:
    """The working table (:func:`qaq.app.table.working_table`), its source file, metadata and notes."""
    base = _base(data_key, mapping, scores_key)
    table = base.table
    if table is not None:
        table = working_table(table, bins=bins, ranking=ranking, strong=strong, weak=weak, boundaries=boundaries)
    return table, base.source_path, base.meta, base.notes


def workspace() -> Workspace:
    """Build (from the caches) the working table for the current state; never raises.

    Sanitises the role keys in session state (call before the sidebar widgets are drawn).
    """
    from qaq.io.datasets import DataError
    from qaq.io.labels import LabelsError

    ss = st.session_state
    data_key, scores_key = file_key(ss["data_path"]), file_key(ss["scores_path"])
    mapping = mapping_kwargs(ss["mapping"])
    bins, ranking = int(ss["bins"]), ss["ranking"]
    boundaries = tuple(ss["boundaries"]) if ss.get("boundaries") else None  # custom strata (sidebar, Distributions)
    common = dict(
        data_path=ss["data_path"], scores_path=ss["scores_path"], bins=bins, ranking=ranking, boundaries=boundaries
    )
    try:
        models, meta = _summary(data_key, mapping, scores_key)
        strong, weak = default_roles(models, meta)
        if ss.get("strong") not in models:
            ss["strong"] = strong
        if ss.get("weak") not in models or ss.get("weak") == ss.get("strong"):
            ss["weak"] = weak if weak != ss["strong"] else next((m for m in models if m != ss["strong"]), None)
        key = (data_key, mapping, scores_key, bins, ranking, ss["strong"], ss["weak"], boundaries)
        table, source, meta, notes = _derived(*key)
    except (DataError, LabelsError, ValueError, KeyError) as e:
        return Workspace(None, error=str(e), **common)
    embeddings = _embeddings_beside(ss["scores_path"])
    return Workspace(
        table,
        tuple(models),
        ss["strong"],
        ss["weak"],
        source_path=source,
        meta=meta,
        notes=notes,
        key=key,
        embeddings_path=embeddings,
        embeddings_key=file_key(embeddings),
        **common,
    )


def _embeddings_beside(scores_path: str | None) -> str | None:
    """The embedding file beside a score file (``scores.embed.npz``), when there is one."""
    from qaq.io.embeddingfile import embeddings_path

    if not scores_path:
        return None
    path = embeddings_path(scores_path)
    return str(path) if path.is_file() else None


def current() -> Workspace:
    """The workspace the frame built for this run; call it first thing on every page.

    A run that opens a page URL directly before the frame has ever run in this server process
    (Streamlit then runs a ``pages/`` script on its own, and AppTest does so on its first run) is
    caught here: the frame runs instead, and runs this page inside it, in the same script run (so
    no widget event is lost); then this outer run stops.
    """
    from qaq.app import frame

    if not frame.inside():
        frame.run()
        st.stop()
    return st.session_state[state.WORKSPACE_KEY]

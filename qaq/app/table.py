"""The working table, and the :class:`Workspace` that carries it with the choices that shaped it.

No Streamlit here: :mod:`qaq.app.workspace` (which does import it) builds a Workspace from cached
reads on every run, and everything here can be called, and is tested, without a running app. The
working table is data joined with scores on ``id``, then each model's stratum and rank, then
``diff`` and ``sum`` for a pair (:func:`working_table`); the streamlit-free modules that compute
what the pages show from it (:mod:`qaq.app.rows`, :mod:`qaq.app.labels`, :mod:`qaq.app.arms`,
:mod:`qaq.app.exports`) never mutate it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qaq.columns import scored_models
from qaq.io.labels import labels_path
from qaq.io.runrecord import RunRecord, run_record
from qaq.select.disagreement import add_disagreement
from qaq.select.strata import DEFAULT_BINS, RANKINGS, add_ranks, add_strata

STRATA_NOTE = (
    "Strata are K quantile bins of log PPL(Q), each model binned by its own PPL(Q), or the intervals "
    "between your boundaries (the same for every model). Stratified ranks compare RMI only within a stratum."
)


@dataclass(frozen=True)
class ChartFilter:
    """Rows picked on a chart (a box, a lasso or clicks): a filter that Browse and Select & export
    read, kept through threshold and page changes until the user clears it."""

    ids: tuple[str, ...]  # the picked rows' ids, in the chart's order
    chart: str  # where they were picked (shown to the user: "the rank scatter")

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", tuple(str(i) for i in self.ids))

    def mask(self, table: pd.DataFrame) -> pd.Series:
        """Which rows of ``table`` the filter keeps (aligned with it)."""
        return table["id"].astype(str).isin(set(self.ids))


@dataclass(frozen=True)
class Workspace:
    """What every page works on: the table and the choices that shaped it."""

    table: pd.DataFrame | None
    models: tuple[str, ...] = ()
    strong: str | None = None
    weak: str | None = None
    bins: int = DEFAULT_BINS  # K of the quantile strata (the sidebar's slider)
    ranking: str = "stratified"
    boundaries: tuple[float, ...] | None = None  # custom log PPL(Q) cut points; None: K quantile strata
    data_path: str | None = None
    scores_path: str | None = None
    source_path: str | None = None  # the file the ``row`` column points into (exports read it)
    meta: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # things to tell the user (e.g. the data came from the score file)
    error: str | None = None
    key: tuple = ()  # what the table was built from: the cache key of everything derived from it
    embeddings_path: str | None = None  # the score file's embeddings (qaq score --embed), when there are some
    embeddings_key: tuple | None = None  # that file's path, mtime and size: part of the cache key of the views

    @property
    def run(self) -> RunRecord:
        """The score metadata as typed fields (:func:`qaq.io.runrecord.run_record`)."""
        return run_record(self.meta)

    @property
    def pair(self) -> bool:
        """Both roles are set to two different scored models."""
        return bool(self.strong and self.weak and self.strong != self.weak)

    @property
    def n_strata(self) -> int:
        """The number of strata: K, or one more than the boundaries."""
        return self.bins if self.boundaries is None else len(self.boundaries) + 1

    @property
    def strata_args(self) -> dict[str, Any]:
        """``bins=`` and ``boundaries=`` for :mod:`qaq.select.strata` and :mod:`qaq.plots` (one of them None)."""
        return {"bins": self.bins if self.boundaries is None else None, "boundaries": self.boundaries}

    @property
    def strata_items(self) -> dict[str, Any]:
        """The recipe keys of these strata: ``{"bins": K}`` or ``{"boundaries": [...]}`` (:mod:`qaq.select.recipes`)."""
        return {"bins": self.bins} if self.boundaries is None else {"boundaries": list(self.boundaries)}

    @property
    def labels_file(self) -> Path | None:
        """Where this data's labels and overrides are kept (:func:`qaq.io.labels.labels_path`)."""
        return labels_path(self.source_path) if self.source_path else None


def table_of(ws: Workspace) -> pd.DataFrame:
    """``ws.table``, for the views that read it: their pages draw only once ``widgets.require_table`` passed."""
    assert ws.table is not None, "this view needs a loaded table (its page stops without one)"
    return ws.table


def default_roles(models: list[str], meta: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (strong, weak) roles a table opens with.

    Models named ``strong`` and ``weak`` take those roles; else the larger model (by ``parameters``
    in the score metadata) is strong; else the first two models in order.

    Args:
        models: the scored models, in column order.
        meta: the score metadata (``{"models": {name: {"parameters": n}}}``).

    Returns:
        (strong, weak); weak is None with one model, both are None with none.
    """
    if "strong" in models and "weak" in models:
        return "strong", "weak"
    if len(models) < 2:
        return (models[0] if models else None), None
    run = run_record(meta)
    params = {m: run.models[m].parameters if m in run.models else None for m in models}
    sizes = {m: p for m, p in params.items() if isinstance(p, (int, float))}
    if len(sizes) == len(params):  # every model's size is known
        by_size = sorted(models, key=lambda m: -sizes[m])
        return by_size[0], by_size[-1]
    return models[0], models[1]  # the authors' README scores the strong model first


def working_table(
    table: pd.DataFrame,
    *,
    bins: int,
    ranking: str,
    strong: str | None = None,
    weak: str | None = None,
    boundaries: tuple[float, ...] | None = None,
) -> pd.DataFrame:
    """The joined table + each scored model's stratum and rank (+ ``diff`` and ``sum`` for a pair).

    Args:
        table: data joined with scores (:func:`qaq.select.selection.attach_scores`).
        bins: K, the number of PPL(Q) quantile strata (unused with ``boundaries``).
        ranking: ``"stratified"`` or ``"global"``.
        strong, weak: the roles; ``diff``/``sum`` are added only when both are set and differ.
        boundaries: custom log PPL(Q) cut points instead of K quantile strata (the same for every model).
    """
    if ranking not in RANKINGS:  # narrows ranking to qaq.select.strata.Ranking
        raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}, got {ranking!r}")
    strata: dict[str, Any] = {"bins": None, "boundaries": boundaries} if boundaries is not None else {"bins": bins}
    t = table
    for m in scored_models(t.columns):
        t = add_strata(t, m, **strata)
        t = add_ranks(t, m, ranking=ranking, **strata)
    if strong and weak and strong != weak:
        t = add_disagreement(t, strong=strong, weak=weak, ranking=ranking, **strata)
    return t

"""Views of the working table, cached on the workspace key (what the table was built from), so
the table itself is never hashed.

Imports streamlit (``st.cache_data``). What they compute is in the app's streamlit-free modules
(:mod:`qaq.app.dataset`, :mod:`qaq.app.arms`, :mod:`qaq.app.labels`, :mod:`qaq.app.exports`) and the
library below them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import streamlit as st

from qaq import plots
from qaq.app import dataset, exports, labels
from qaq.app.arms import overlap_table, retention_target
from qaq.app.table import Workspace, table_of
from qaq.app.workspace import file_key

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from qaq.io.embeddingfile import Embeddings
    from qaq.maps.vectors import MapSpan
    from qaq.select.compare import Keep

# A workspace is known by what its table was built from, and by its embedding file (dedup reads it).
_BY_KEY: dict[str | type[Any], Callable[[Any], Any]] = {Workspace: lambda ws: (ws.key, ws.embeddings_key)}


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=_BY_KEY)
def lengths(ws: Workspace, *, model: str | None = None) -> tuple[pd.DataFrame, str]:
    """:func:`qaq.app.dataset.lengths` of the working table."""
    return dataset.lengths(ws.table, model)


@st.cache_data(max_entries=4, show_spinner=False, hash_funcs=_BY_KEY)
def validation_report(ws: Workspace) -> dict[str, Any]:
    """:func:`qaq.app.dataset.validation_report` of the working table."""
    return dataset.validation_report(ws.table)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_BY_KEY)
def _selection(ws: Workspace, recipe_json: str) -> tuple[pd.Series, pd.DataFrame]:
    from qaq.select.recipe_parsing import parse_recipe
    from qaq.select.selection import select
    from qaq.select.selection_report import stratum_counts

    recipe = parse_recipe(json.loads(recipe_json))
    picked = select(ws.table, recipe, embeddings=embeddings(ws) if recipe.dedup is not None else None)
    return picked["selected"].astype(bool), stratum_counts(picked, recipe)


def selection(ws: Workspace, recipe: dict[str, Any]) -> tuple[pd.Series, pd.DataFrame]:
    """(selected mask aligned with the table, counts per stratum) of a recipe; raises RecipeError."""
    return _selection(ws, json.dumps(recipe, sort_keys=True))  # the same recipe in any key order


def current_selection(ws: Workspace, recipe: dict[str, Any] | None) -> tuple[pd.Series | None, str | None]:
    """(selected mask, None), or (None, why not) when there is no recipe or it does not fit the table."""
    from qaq.select.recipes import RecipeError

    if recipe is None or ws.table is None:
        return None, None
    try:
        return selection(ws, recipe)[0], None
    except (RecipeError, KeyError, ValueError) as e:
        return None, str(e)


# The row charts of the table a page draws, by name (:mod:`qaq.plots`); each takes the table first
# and the current selection as ``selected=``.
FIGURES = ("rmi_histogram", "rmi_ecdf", "rmi_vs_ppl", "rmi_by_stratum", "ifd_vs_rmi", "rank_scatter")


@st.cache_resource(max_entries=24, show_spinner=False, hash_funcs=_BY_KEY)
def _figure(ws: Workspace, name: str, options_json: str, recipe_json: str | None) -> go.Figure:
    selected = None if recipe_json is None else _selection(ws, recipe_json)[0]
    return getattr(plots, name)(ws.table, **json.loads(options_json), selected=selected)


def figure(ws: Workspace, name: str, recipe: dict[str, Any] | None, **options: Any) -> go.Figure:
    """``plots.<name>(table, **options, selected=<the recipe's rows>)``, built once per workspace,
    recipe and options and then shared by every run that asks again (a 20,000-point chart with its
    hover text takes a few tenths of a second to build; a rerun that changes none of its inputs,
    such as a label or a page switch, should not pay that again).

    ``cache_resource``, not ``cache_data``: the figure is not copied on the way out (``st.plotly_chart``
    copies it itself and never changes it), and no caller may change it. ``recipe`` None, or one
    that does not fit the table (:func:`current_selection` says why), draws no selection. Options
    must be JSON values (tuples become lists, which the figure functions take alike).
    """
    if name not in FIGURES:
        raise ValueError(f"no cached figure {name!r}: one of {', '.join(FIGURES)}")
    selected, _ = current_selection(ws, recipe)
    recipe_json = None if selected is None else json.dumps(recipe, sort_keys=True)
    return _figure(ws, name, json.dumps(options, sort_keys=True), recipe_json)


@st.cache_resource(max_entries=2, show_spinner="Reading the embeddings…")
def _embeddings(key: tuple[str, int, int]) -> Embeddings:
    from qaq.io.embeddingfile import load_embeddings

    return load_embeddings(key[0])


def embeddings(ws: Workspace) -> Embeddings | None:
    """The embeddings beside the workspace's score file (read once per file version), or None."""
    return None if ws.embeddings_key is None else _embeddings(ws.embeddings_key)


@st.cache_resource(
    max_entries=8,
    show_spinner="Laying out the map (UMAP; once per embedding file, then cached on disk)…",
    hash_funcs=_BY_KEY,
)
def map_xy(ws: Workspace, model: str, span: str) -> np.ndarray:
    """:func:`qaq.maps.layout.map_layout` of ``model``'s embeddings, row for row with the working table
    (NaN rows for rows the embedding file lacks or has no vector of)."""
    from qaq.maps.layout import map_layout

    emb = embeddings(ws)
    assert emb is not None and ws.table is not None, "called by the Map page, which requires both"
    return on_table(ws.table, emb.ids, map_layout(emb, model, span=cast("MapSpan", span)))


def on_table(table: pd.DataFrame, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` (one per id of ``ids``) in the table's row order; NaN where an id is missing."""
    pos = pd.Index(ids.astype(str)).get_indexer(table["id"].astype(str))
    out = np.full((len(table), *values.shape[1:]), np.nan, dtype=np.float64)
    out[pos >= 0] = values[pos[pos >= 0]]
    return out


@st.cache_resource(max_entries=8, show_spinner=False, hash_funcs=_BY_KEY)
def _map_figure(
    ws: Workspace,
    model: str,
    span: str,
    color: str | None,
    recipe_json: str | None,
    picked: tuple[str, ...],
    labels_key: tuple | None,
) -> go.Figure:
    assert ws.table is not None, "called by the Map page, which requires a table"
    table = ws.table
    if color == "label":  # the user's labels: a column of the labels file, not of the table
        table = table.assign(label=labels.label_column(ws))
    selected = None if recipe_json is None else _selection(ws, recipe_json)[0]
    xy = map_xy(ws, model, span)
    return plots.embedding_map(table, xy, color=color, selected=selected, picked=picked, model=model)


def map_figure(
    ws: Workspace, model: str, span: str, *, color: str | None, recipe: dict[str, Any] | None, picked: tuple[str, ...]
) -> go.Figure:
    """:func:`qaq.plots.embedding_map` of the working table on ``model``'s map, built once per
    workspace, colour, recipe and chart filter (and labels file, when coloured by label)."""
    selected, _ = current_selection(ws, recipe)
    recipe_json = None if selected is None else json.dumps(recipe, sort_keys=True)
    labels_key = file_key(ws.labels_file) if color == "label" and ws.labels_file else None
    return _map_figure(ws, model, span, color, recipe_json, tuple(picked), labels_key)


@st.cache_data(max_entries=8, show_spinner="Finding near-duplicates…", hash_funcs=_BY_KEY)
def duplicates(ws: Workspace, model: str, threshold: float, span: str) -> pd.DataFrame:
    """:func:`qaq.select.dedup.duplicate_groups` of ``model``'s embeddings."""
    from qaq.select.dedup import duplicate_groups

    emb = embeddings(ws)
    assert emb is not None, "called by the Map page, which requires embeddings"
    return duplicate_groups(emb, model, threshold=float(threshold), span=cast("MapSpan", span))


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=_BY_KEY)
def suspicion(ws: Workspace, model: str) -> pd.DataFrame:
    """:func:`qaq.select.detection.suspicion_scores` of ``model`` (with Diff when both roles are set),
    in the workspace's strata (K quantile strata or the custom boundaries)."""
    from qaq.select.detection import suspicion_scores

    s, w = (ws.strong, ws.weak) if ws.pair else (None, None)
    return suspicion_scores(ws.table, model=model, strong=s, weak=w, **ws.strata_args)


@st.cache_data(max_entries=4, show_spinner="Checking every row's flags…", hash_funcs=_BY_KEY)
def flag_table(ws: Workspace) -> pd.DataFrame:
    """:func:`qaq.select.flags.flag_table` of the working table under every scored model (Browse's flag filters)."""
    from qaq.select.flags import flag_table as flags

    return flags(ws.table, models=list(ws.models))


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_BY_KEY)
def quadrants(ws: Workspace, diff_threshold: float, sum_threshold: float) -> pd.DataFrame:
    """:func:`qaq.select.compare.quadrant_counts` of the working table."""
    from qaq.select.compare import quadrant_counts

    return quadrant_counts(ws.table, diff_threshold=float(diff_threshold), sum_threshold=float(sum_threshold))


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=_BY_KEY)
def strong_weak_spearman(ws: Workspace) -> pd.DataFrame:
    """Spearman of the strong and weak RMI, overall (first line) and per stratum of the strong model.

    The strata are the working table's (K quantile strata or the custom boundaries): the same as
    every other view's, which :func:`qaq.select.correlations.strong_weak_spearman` (K only) could
    not give with boundaries.
    """
    from qaq.columns import score_column
    from qaq.select.correlations import spearman_by_stratum

    assert ws.strong is not None and ws.weak is not None, "called by the Disagreement page, which requires a pair"
    s, w = score_column(ws.strong, "rmi"), score_column(ws.weak, "rmi")
    return spearman_by_stratum(table_of(ws), s, w, stratum=score_column(ws.strong, "stratum"))


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_BY_KEY)
def _retention(ws: Workspace, column: str, keep: Keep) -> pd.DataFrame:
    from qaq.select.compare import retention_curve

    assert ws.table is not None, "called by the Select & export page, which requires a scored table"
    return retention_curve(ws.table[column], keep=keep)


def retention(ws: Workspace, recipe: dict[str, Any]) -> tuple[pd.DataFrame, str] | None:
    """The retention curve of the score a recipe thresholds, and that score's column (None for random).

    Curves of the working table's columns: a recipe built on the page ranks as the table does.
    """
    from qaq.select.compare import KEEPS

    target = retention_target(recipe)
    if target is None:
        return None
    column, keep = target
    assert keep in KEEPS, f"retention_target gives 'greater' or 'less', got {keep!r}"
    return _retention(ws, column, keep), column


def overlaps(ws: Workspace, current: pd.Series, arms: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """:func:`qaq.app.arms.overlap_table` of the current selection with each arm's."""
    return overlap_table(current, {name: selection(ws, recipe)[0] for name, recipe in arms.items()})


@st.cache_data(max_entries=8, show_spinner="Measuring detection quality…", hash_funcs=_BY_KEY)
def _detection(ws: Workspace, source: tuple[str, str], model: str, labels_key: tuple | None) -> dict[str, Any]:
    column, clean = source
    return labels.detection_quality(
        labels.labelled_table(ws, column), suspicion(ws, model), label_col=column, clean=clean
    )


def detection(ws: Workspace, source: tuple[str, str], model: str) -> dict[str, Any]:
    """:func:`qaq.app.labels.detection_quality` of ``model``'s suspicion scores against a label source.

    ``source`` is one of :func:`qaq.app.labels.label_sources`; the user's labels file is part of the key.
    """
    column, clean = source
    labels_key = file_key(ws.labels_file) if column == "label" else None
    return _detection(ws, (column, clean), model, labels_key)  # a tuple (hashable) even when given a list


def export_files(ws: Workspace, recipe: dict[str, Any]) -> dict[str, bytes]:
    """:func:`qaq.app.exports.export_files` of the recipe's selection."""
    return exports.export_files(ws, recipe, selection(ws, recipe)[0])

"""The app's session state: defaults, kept widget values, and switching the dataset in use.

Keys of ``st.session_state``, initialised once per session by :func:`init_state`:

============== =================================================================================
key            meaning
============== =================================================================================
data_path      the dataset in use (str) or None
mapping        :func:`qaq.io.datasets.load_dataset` keyword arguments for its fields ({} = detected)
scores_path    the score file in use (qaq's or the QAQ authors' format) or None
strong, weak   the model roles (sidebar)
bins           K, the PPL(Q) quantile strata (sidebar)
boundaries     custom log PPL(Q) stratum cut points (a tuple, sidebar or a drag on Distributions), or
               None for K quantile strata
ranking        ``"stratified"`` or ``"global"`` (sidebar)
job_id         the background scoring job this session started or found
example_id     the row open in the example view (Browse, Disagreement)
recipe         the last recipe built on the Select & export page (drawn on Distributions)
chart_filter   a :class:`qaq.app.table.ChartFilter` (rows picked on a chart) or None: Browse and
               Select & export read it until it is cleared (:func:`set_chart_filter`)
_workspace     the :class:`qaq.app.table.Workspace` the frame built for the current run (pages read it)
_url_read      set once the URL's query parameters were read (the session's first run)
_url_problems  what the URL asked for that could not be restored (the frame shows it)
============== =================================================================================

The workspace (files, mapping, roles, K or boundaries, ranking, the recipe, the Browse filters) is
kept in the URL as well (:mod:`qaq.app.urlstate`): :func:`init_state` restores it on a session's
first run, over the defaults, and :func:`sync_url` writes it after every run, so a reload or a
shared link opens the same workspace.

Page widgets whose value should survive a visit to another page are listed in
:data:`PERSISTENT_WIDGETS`; their defaults live in :data:`WIDGET_DEFAULTS`. Imports streamlit.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from qaq.app import paths, recent, urlstate
from qaq.app.table import ChartFilter, default_roles
from qaq.select.strata import DEFAULT_BINS

WORKSPACE_KEY = "_workspace"  # the Workspace the frame built for the current run
URL_READ, URL_PROBLEMS = "_url_read", "_url_problems"


def default_sources() -> tuple[str | None, str | None]:
    """(data, scores) the app opens on: ``$QAQ_APP_DATA``/``$QAQ_APP_SCORES``, else the bundled sample."""
    data, scores = os.environ.get(paths.ENV_DATA) or None, os.environ.get(paths.ENV_SCORES) or None
    if data or scores:
        return data, scores
    return (
        str(paths.SAMPLE_DATA) if paths.SAMPLE_DATA.is_file() else None,
        str(paths.SAMPLE_SCORES) if paths.SAMPLE_SCORES.is_file() else None,
    )


# Widget values kept when the user leaves a page and comes back (Streamlit drops the state of
# widgets that were not drawn in a run unless the key is written again, which init_state does).
PERSISTENT_WIDGETS = (
    "dist_models",
    "dist_model",
    "dist_kind",
    "diff_threshold",
    "sum_threshold",
    "browse_model",
    "browse_stratum",
    "browse_sort",
    "browse_order",
    "browse_search",
    "browse_label",
    "browse_flags_with",
    "browse_flags_without",
    "browse_page",
    "browse_page_size",
    "browse_advance",
    "sel_method",
    "sel_how",
    "sel_budget",
    "sel_quota",
    "sel_threshold_diff",
    "sel_threshold_sum",
    "sel_model",
    "sel_band",
    "sel_seed",
    "sel_overrides",
    "sel_dedup",
    "sel_dedup_threshold",
    "sel_dedup_keep",
    "sel_dedup_model",
    "sel_dedup_span",
    "sel_tab",
    "map_model",
    "map_span",
    "map_color",
    "map_dup_threshold",
    "det_source",
    "det_model",
    "length_unit",
)


# Defaults of widgets whose value is kept across pages: set here, never passed as value= (a widget
# given both a value and a session-state value makes Streamlit warn).
WIDGET_DEFAULTS: dict[str, Any] = {
    "diff_threshold": 0.1,
    "sum_threshold": 1.0,
    "sel_budget": 25,
    "sel_threshold_diff": 0.1,
    "sel_threshold_sum": 1.0,
    "sel_band": (0.5, 0.75),
    "sel_seed": 0,
    "sel_overrides": True,
    "browse_page": 1,
    "browse_page_size": 100,
    "browse_advance": True,
    "sel_dedup": False,
    "sel_dedup_threshold": 0.95,
    "sel_dedup_keep": "highest_rmi",
    "sel_dedup_span": "qa",
    "map_span": "qa",
    "map_dup_threshold": 0.95,
}


def init_state() -> None:
    """Give every session-state key its default (keys already set, e.g. by a test, are kept).

    On a session's first run the URL's query parameters come first: what they give wins over the
    defaults (:func:`restore_url`).
    """
    if not st.session_state.get(URL_READ):
        restore_url()
    data, scores = default_sources()
    defaults: dict[str, Any] = {
        "data_path": data,
        "mapping": {},
        "scores_path": scores,
        "strong": None,
        "weak": None,
        "bins": DEFAULT_BINS,
        "boundaries": None,
        "ranking": "stratified",
        "job_id": None,
        "example_id": None,
        "recipe": None,
        "chart_filter": None,
    }
    for key, value in {**defaults, **WIDGET_DEFAULTS}.items():
        st.session_state.setdefault(key, value)
    for key in PERSISTENT_WIDGETS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def restore_url() -> None:
    """Take the workspace the URL's query parameters describe into the session (once per session)."""
    ss = st.session_state
    ss[URL_READ] = True
    data, _ = default_sources()
    fallback = "the bundled sample" if data == str(paths.SAMPLE_DATA) else f"the default dataset ({data})"
    restored = urlstate.from_params(st.query_params.to_dict(), fallback=fallback)
    ss.update(restored.values)
    ss[URL_PROBLEMS] = restored.problems


def sync_url() -> None:
    """Write the workspace into the URL's query parameters (:mod:`qaq.app.urlstate`), changing only
    those that differ, so that a reload or a shared link restores it; call at the end of a run."""
    ss = st.session_state
    data, scores = default_sources()
    ws = ss.get(WORKSPACE_KEY)
    roles = default_roles(list(ws.models), ws.meta) if ws is not None else (None, None)
    values = {k: ss[k] for k in urlstate.SESSION_KEYS if k in ss}
    params = urlstate.to_params(values, data=data, scores=scores, roles=roles)
    shown = st.query_params.to_dict()
    for name in urlstate.PARAMS:
        if name in params and shown.get(name) != params[name]:
            st.query_params[name] = params[name]
        elif name not in params and name in shown:
            del st.query_params[name]


def url_problems() -> tuple[str, ...]:
    """What the URL this session opened with asked for that could not be restored (until a dataset is opened)."""
    return tuple(st.session_state.get(URL_PROBLEMS, ()))


def valid_choice(key: str, options: list[Any], default: Any = None) -> None:
    """Reset a kept widget value that is no longer among its options (e.g. after K or the data changed).

    With a ``default``, an unset key starts at it (so the widget needs no ``value=``).
    """
    value = st.session_state.get(key)
    if value is None:
        if default is not None:
            st.session_state[key] = default
        return
    if isinstance(value, list):
        kept = [v for v in value if v in options]
        if kept != value:
            st.session_state[key] = kept or ([default] if default is not None else [])
    elif value not in options:
        if default is None:
            del st.session_state[key]
        else:
            st.session_state[key] = default


def use_data(
    path: str | os.PathLike[str] | None,
    *,
    mapping: dict[str, Any] | None = None,
    scores: str | os.PathLike[str] | None = None,
) -> None:
    """Switch the dataset (and its score file; None = not scored yet); it goes first in the recent datasets."""
    st.session_state["data_path"] = None if path is None else str(path)
    st.session_state["mapping"] = dict(mapping or {})
    st.session_state["scores_path"] = None if scores is None else str(scores)
    st.session_state["example_id"] = None
    st.session_state["job_id"] = None  # the Score page finds the new data's own job
    st.session_state[URL_PROBLEMS] = ()
    _remember()


def use_recent(entry: recent.Recent) -> None:
    """Open a dataset of the recent datasets list, with its score file and field mapping."""
    use_data(entry.data, mapping=entry.mapping, scores=entry.scores)


def _remember() -> None:
    ss = st.session_state
    recent.remember(ss["data_path"], ss["scores_path"], ss["mapping"])


def use_mapping(mapping: dict[str, Any]) -> None:
    """Read the dataset with these fields (:func:`qaq.io.datasets.load_dataset` keyword arguments)."""
    st.session_state["mapping"] = dict(mapping)
    st.session_state["example_id"] = None
    _remember()


def use_scores(path: str | os.PathLike[str] | None) -> None:
    """Switch the score file, keeping the dataset."""
    st.session_state["scores_path"] = None if path is None else str(path)
    st.session_state["example_id"] = None
    _remember()


def set_chart_filter(ids: list[str] | tuple[str, ...] | None, *, chart: str = "") -> None:
    """Keep the rows picked on ``chart`` as the chart filter (None or no ids: clear it)."""
    st.session_state["chart_filter"] = ChartFilter(tuple(ids), chart) if ids else None


def chart_filter() -> ChartFilter | None:
    """The :class:`qaq.app.table.ChartFilter` in force, or None."""
    return st.session_state.get("chart_filter")

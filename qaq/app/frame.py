"""The frame of the qaq app: page config, navigation and the shared sidebar, around every page.

:func:`run` is what the app's entry script (``qaq/app/main.py``, which ``qaq app`` runs, and a
checkout's ``app.py``) calls. Pages are the scripts in ``qaq/app/pages/``, registered with
``st.navigation`` by absolute path; each reads the workspace the frame built with
:func:`qaq.app.workspace.current`. Imports streamlit (it draws).
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st
from streamlit import config

from qaq.app import paths, state, widgets, workspace
from qaq.app.boundaries import BoundaryError, format_boundaries, parse_boundaries
from qaq.app.table import STRATA_NOTE, Workspace
from qaq.select.strata import RANKINGS

# (page script, title, icon); the first is the default page.
PAGES = (
    ("data", "Data", ":material/folder_open:"),
    ("score", "Score", ":material/speed:"),
    ("distributions", "Distributions", ":material/bar_chart:"),
    ("disagreement", "Disagreement", ":material/compare_arrows:"),
    ("map", "Map", ":material/scatter_plot:"),
    ("browse", "Browse", ":material/search:"),
    ("select_export", "Select & export", ":material/download:"),
)

_run = threading.local()  # each session's script runs on its own thread


def inside() -> bool:
    """Whether this thread is running a page inside the frame right now."""
    return getattr(_run, "inside", False)


def run() -> None:
    """Draw the frame and run the page the URL asks for."""
    st.set_page_config(page_title="qaq: QAQ data selection", page_icon=":material/filter_alt:", layout="wide")
    state.init_state()
    ws = workspace.workspace()
    st.session_state[state.WORKSPACE_KEY] = ws
    nav = st.navigation(
        [
            st.Page(paths.page(name), title=title, icon=icon, default=i == 0)
            for i, (name, title, icon) in enumerate(PAGES)
        ]
    )
    _sidebar(ws)
    for problem in state.url_problems():  # the link asked for something that is not there
        st.warning(problem, icon=":material/link_off:")
    _run.inside = True
    try:
        nav.run()
    finally:
        _run.inside = False
        state.sync_url()  # after the page: it may have changed the workspace (a recipe, a filter)


def _sidebar(ws: Workspace) -> None:
    """The shared sidebar: dataset in use, model roles, K and the ranking."""
    with st.sidebar:
        st.markdown("**Dataset**")
        if ws.data_path or ws.scores_path:
            for label, p in (("data", ws.data_path or ws.source_path), ("scores", ws.scores_path)):
                if p:
                    st.caption(f"{label}: `{Path(p).name}`")
            if ws.table is not None:
                st.caption(f"{len(ws.table):,} rows · models: {', '.join(ws.models) or 'none yet'}")
        else:
            st.caption("No dataset yet: pick one on the Data page.")
        if ws.error:
            st.caption(":red[Cannot load it: see the Data page.]")
        if ws.models:
            st.markdown("**Model roles**")
            if len(ws.models) >= 2:
                st.selectbox("Strong model", ws.models, key="strong")
                st.selectbox("Weak model", [m for m in ws.models if m != st.session_state["strong"]], key="weak")
            else:
                st.caption(f"One scored model ({ws.models[0]}): Diff/Sum need a second one.")
        st.markdown("**Strata and ranks**")
        _strata_controls(ws)
        st.radio(
            "RMI ranking",
            RANKINGS,
            key="ranking",
            horizontal=True,
            help="stratified: RMI ranked within each stratum (QAQ); global: over the whole table "
            "(the authors' README snippet).",
        )
        st.caption(STRATA_NOTE)
        widgets.chart_filter_chip(key="sidebar_clear_chart_filter")
        if config.get_option("server.address") not in ("localhost", "127.0.0.1", "::1"):
            st.warning(
                "This server listens on every network interface, so anyone who can reach this machine can "
                "open the app and read files through it. `qaq app` listens on localhost only."
            )


def _strata_controls(ws: Workspace) -> None:
    """K (quantile strata, the default) and the custom boundaries that replace them while set."""
    custom = ws.boundaries is not None
    st.slider(
        "Strata K (PPL(Q) quantile bins)",
        1,
        50,
        key="bins",
        disabled=custom,
        help="Reset the custom boundaries below to use K quantile strata again." if custom else None,
    )
    ss = st.session_state
    if ss.get("_boundaries_shown", "none yet") != ss["boundaries"]:  # set elsewhere (a drag, a reset): show them
        ss["boundaries_text"] = format_boundaries(ss["boundaries"])
        ss["_boundaries_shown"] = ss["boundaries"]
    st.text_input(
        "Custom boundaries (log PPL(Q), comma-separated)",
        key="boundaries_text",
        on_change=_typed_boundaries,
        placeholder="e.g. 2.5, 3, 3.5 (empty: K quantile strata)",
        help="Cut points in log PPL(Q), nats per token, as on the Distributions page's x axis: stratum i holds "
        "b_i <= log PPL(Q) < b_i+1, the same for every model. Or drag across the RMI vs log PPL(Q) chart.",
    )
    if error := ss.get("_boundaries_error"):
        st.error(error)
    elif custom:
        st.caption(f"{ws.n_strata} strata at these boundaries, for every model (recipes carry them).")
    widgets.reset_boundaries_button(ws, key="sidebar_reset_boundaries")


def _typed_boundaries() -> None:
    """The boundaries text field's callback: use what was typed, or say why it cannot be used."""
    text = st.session_state["boundaries_text"]
    try:
        widgets.use_boundaries(parse_boundaries(text))
    except BoundaryError as e:
        kept = format_boundaries(st.session_state["boundaries"]) or "K quantile strata"
        st.session_state["_boundaries_error"] = f"{e}. Still in use: {kept}."

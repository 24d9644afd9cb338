"""Widgets every page shares: the empty states, the chart and table defaults, reading selections."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import streamlit as st

from qaq.app import paths
from qaq.app.views import Workspace


def require_table(ws: Workspace) -> pd.DataFrame:
    """The table, or an explanation on the page and ``st.stop()``."""
    if ws.error:
        st.error(f"The data cannot be loaded: {ws.error}")
        st.page_link(paths.page("data"), label="Choose data on the Data page", icon=":material/folder_open:")
        st.stop()
    if ws.table is None:
        st.info("No data yet. Open the bundled sample, upload a file or give a local path on the Data page.")
        st.page_link(paths.page("data"), label="Go to the Data page", icon=":material/folder_open:")
        st.stop()
    return ws.table


def require_scores(ws: Workspace) -> pd.DataFrame:
    """The table when it has at least one scored model, else an explanation and ``st.stop()``."""
    table = require_table(ws)
    if not ws.models:
        st.info(
            "This data has no scores yet. Score it on the Score page (a background job), or load an "
            "existing score file there (qaq's or the QAQ authors' format)."
        )
        st.page_link(paths.page("score"), label="Go to the Score page", icon=":material/speed:")
        st.stop()
    return table


def require_pair(ws: Workspace) -> pd.DataFrame:
    """The table when a strong and a weak model are scored, else an explanation and ``st.stop()``."""
    table = require_scores(ws)
    if not ws.pair:
        st.info(
            f"This needs two scored models, a strong and a weak one; the table has "
            f"{len(ws.models)} ({', '.join(ws.models)}). Score a second model on the Score page "
            "(e.g. weak=smollm2-135m and strong=gemma3-270m), or load a score file with both."
        )
        st.page_link(paths.page("score"), label="Go to the Score page", icon=":material/speed:")
        st.stop()
    return table


def plotly(fig: Any, *, key: str, on_select: Literal["ignore", "rerun"] = "ignore", **kwargs: Any) -> Any:
    """``st.plotly_chart`` with the app's defaults (full width, no Plotly logo)."""
    return st.plotly_chart(fig, key=key, on_select=on_select, width="stretch", config={"displaylogo": False}, **kwargs)


def table_height(n_rows: int, *, most: int = 360) -> int:
    """Pixel height of an ``st.dataframe`` showing ``n_rows`` rows, capped (no empty filler rows)."""
    return min(most, 35 * (n_rows + 1) + 3)


def point_ids(event: Any) -> list[str]:
    """Row ids of the points selected in a chart whose points carry ``customdata`` = id."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return []
    ids = []
    for p in points:
        cd = p.get("customdata")
        if isinstance(cd, (list, tuple)):
            cd = cd[0] if cd else None
        if cd is not None:
            ids.append(str(cd))
    return list(dict.fromkeys(ids))


def table_pick(event: Any, rows: pd.DataFrame) -> str | None:
    """The id of the row selected in an ``st.dataframe(..., on_select="rerun")`` of ``rows``."""
    try:
        picked = event["selection"]["rows"]
    except (KeyError, TypeError):
        return None
    return str(rows["id"].iloc[picked[0]]) if picked and picked[0] < len(rows) else None

"""Widgets every page shares: the empty states, the chart and table defaults, reading chart
selections, and what a selection sets: the chart filter, custom stratum boundaries.

Imports streamlit (it draws).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pandas as pd
import streamlit as st

from qaq.app import paths, state
from qaq.app.table import Workspace
from qaq.maps.regions import Shape


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


def box_x_edges(event: Any) -> list[float]:
    """The x-range edges of the boxes (and the x extent of the lassos) dragged on a chart."""
    try:
        selection = event["selection"]
    except (KeyError, TypeError):
        return []
    edges: list[float] = []
    for shape in [*selection.get("box", []), *selection.get("lasso", [])]:
        xs = [float(x) for x in shape.get("x", []) if isinstance(x, (int, float))]
        if xs:
            edges += [min(xs), max(xs)]
    return edges


def drawn_shapes(event: Any) -> list[Shape]:
    """The lassos and boxes dragged on a chart, as :class:`qaq.maps.regions.Shape` (malformed ones left out)."""
    try:
        selection = event["selection"]
    except (KeyError, TypeError):
        return []
    shapes: list[Shape] = []
    for kind in ("lasso", "box"):
        for shape in selection.get(kind, []) or []:
            try:
                xs = tuple(float(x) for x in shape.get("x", []))
                ys = tuple(float(y) for y in shape.get("y", []))
                shapes.append(Shape(xs, ys, kind=kind))
            except (TypeError, ValueError, AttributeError):
                continue
    return shapes


def use_boundaries(cuts: tuple[float, ...] | None) -> None:
    """Stratify with these log PPL(Q) cut points (None: K quantile strata); the sidebar shows them."""
    st.session_state["boundaries"] = tuple(cuts) if cuts else None
    st.session_state.pop("_boundaries_error", None)


def reset_boundaries() -> None:
    """Back to K quantile strata (a button's callback)."""
    use_boundaries(None)


def reset_boundaries_button(ws: Workspace, *, key: str) -> None:
    """A "Reset to K quantile strata" button, drawn while custom boundaries are in force."""
    if ws.boundaries is not None:
        st.button(
            f"Reset to K = {ws.bins} quantile strata",
            key=key,
            on_click=reset_boundaries,
            icon=":material/restart_alt:",
            help="Drop the custom boundaries: back to the sidebar's K quantile strata.",
        )


def take_chart_filter(event: Any, *, key: str, chart: str, ids: list[str] | None = None) -> None:
    """Make the points selected on a chart (box, lasso or clicks) the chart filter, then rerun.

    ``ids``: the rows the selection stands for, when they are not just its points (a map that
    draws a sample of the rows gives every row inside the lasso). Only a new selection counts:
    the chart keeps sending its last one on every run until its figure changes, and that one must
    not come back after the user cleared the filter.
    """
    ids = point_ids(event) if ids is None else ids
    if not ids:
        return
    seen = json.dumps([ids, event["selection"].get("box"), event["selection"].get("lasso")], default=str)
    if st.session_state.get(f"_seen_{key}") == seen:
        return
    st.session_state[f"_seen_{key}"] = seen
    state.set_chart_filter(ids, chart=chart)
    st.rerun()


def chart_filter_chip(*, key: str) -> None:
    """The chart filter in force, if any: what it holds, and a button that clears it."""
    f = state.chart_filter()
    if f is None:
        return
    rows = f"{len(f.ids):,} row" + ("" if len(f.ids) == 1 else "s")
    st.markdown(f":material/filter_alt: **Chart filter**: {rows} picked on {f.chart}")
    st.button("Clear the chart filter", key=key, on_click=state.set_chart_filter, args=(None,), icon=":material/close:")

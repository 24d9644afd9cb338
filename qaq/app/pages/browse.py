"""Browse: audit rows one by one: filter, sort, page, open an example, label it from the keyboard."""

from typing import cast

import streamlit as st

from qaq.app import cached_views, example, labelling, labels, rows, state, widgets, workspace
from qaq.columns import score_column
from qaq.io.labels import LABELS
from qaq.select.flags import FLAG_LABELS, FLAG_NAMES

ws = workspace.current()
st.title("Browse")
table = widgets.require_scores(ws)

c1, c2, c3, c4 = st.columns([1, 1, 2, 1])
state.valid_choice("browse_model", list(ws.models))
# cast: with python_version 3.10, mypy reads streamlit's typing.Never as Any and picks the "-> None" overload
model = cast(str, c1.selectbox("Model", ws.models, key="browse_model"))
state.valid_choice("browse_stratum", ["all", *range(ws.bins)], default="all")
stratum = c2.selectbox(
    "Stratum",
    ["all", *range(ws.bins)],
    key="browse_stratum",
    format_func=lambda s: "all strata" if s == "all" else f"stratum {s}",
)
sortable = rows.sortable_columns(ws)
state.valid_choice("browse_sort", sortable, default=score_column(model, "rmi"))
sort_by = cast(str, c3.selectbox("Sort by", sortable, key="browse_sort"))
order = c4.radio("Order", ["lowest first", "highest first"], key="browse_order")
c5, c6 = st.columns([3, 1])
search = c5.text_input("Search in Q and A (plain text, case-insensitive)", key="browse_search")
label = c6.selectbox("Label", ["any", labels.UNLABELLED, *LABELS], key="browse_label")
flag_help = "Flags under any scored model (the example view lists them); a row is kept when it has any of these."
f1, f2, f3, f4 = st.columns([2, 2, 1, 1], vertical_alignment="bottom")  # flags, then the pages of the list
with_flags = f1.multiselect(
    "Only rows flagged", FLAG_NAMES, key="browse_flags_with", format_func=lambda name: FLAG_LABELS[name], help=flag_help
)
without_flags = f2.multiselect(
    "Hide rows flagged",
    FLAG_NAMES,
    key="browse_flags_without",
    format_func=lambda name: FLAG_LABELS[name],
    help=flag_help.replace("kept", "hidden"),
)

picked = state.chart_filter()
if picked is not None:  # the list holds only the picked rows until the filter is cleared
    widgets.chart_filter_chip(key="browse_clear_chart_filter")
    labelling.label_picked(ws, picked.ids, chart=picked.chart or "a chart", key="browse_picked")

current_labels, labels_error = labels.labels_or_error(ws)
if labels_error:
    st.error(labels_error)
keep = rows.BrowseFilter(
    model=model,
    stratum=None if stratum == "all" else int(stratum),
    search=search,
    label=None if label == "any" else label,
    picked=picked,
    with_flags=tuple(with_flags),
    without_flags=tuple(without_flags),
)
listed = rows.browse_order(
    ws,
    keep,
    sort_by=sort_by,
    ascending=order == "lowest first",
    flags=cached_views.flag_table(ws) if keep.needs_flags else None,
    labels=current_labels,
)
total = len(listed)
listing = rows.row_list(ws, listed)

state.valid_choice("browse_page_size", list(rows.PAGE_SIZES), default=100)
size = cast(int, f3.selectbox("Rows per page", rows.PAGE_SIZES, key="browse_page_size"))
pages = rows.page_count(total, size)
if st.session_state.get("_browse_listing") != (keep, sort_by, order, size):  # another list: show the open row
    st.session_state["_browse_listing"] = (keep, sort_by, order, size)
    where = listing.position(st.session_state["example_id"])
    st.session_state["browse_page"] = 1 if where is None else rows.page_of(where, size)
st.session_state["browse_page"] = min(max(int(st.session_state.get("browse_page") or 1), 1), pages)
page = int(
    f4.number_input(
        f"Page (of {pages:,})",
        1,
        pages,
        key="browse_page",
        step=1,
        on_change=lambda: st.session_state.__setitem__("example_id", None),
    )
)
g1, g2 = st.columns([3, 1], vertical_alignment="center")
g2.checkbox("Open the next row after labelling", key="browse_advance")
start = (page - 1) * size
shown = rows.list_frame(ws, listed[start : start + size], sort_by=sort_by, model=model, labels=current_labels)
g1.caption(
    f"{rows.rows_text(total)} {'matches' if total == 1 else 'match'}"
    + (
        f"; rows {start + 1:,}-{start + len(shown):,} listed. Select a row to open it."
        if total
        else ". Change the filters or the search."
    )
)
table_key = rows.list_key(shown, "browse_table")
pick = st.dataframe(
    shown,
    hide_index=True,
    key=table_key,
    on_select="rerun",
    selection_mode="single-row",
    height=widgets.table_height(len(shown), most=420),
    column_config={
        **{c: st.column_config.Column(width="large") for c in ("query", "answer")},
        "label": st.column_config.Column(width=95),
        **{c: st.column_config.Column(pinned=True) for c in shown.columns[:2]},  # id and the sort column
    },
)

row_id = widgets.table_pick(pick, shown)
if row_id is not None and st.session_state.get("_browse_pick") != (table_key, row_id):
    st.session_state["example_id"] = row_id  # a new pick; an old one stays put while J/K move on
st.session_state["_browse_pick"] = (table_key, row_id)
if not total:
    st.session_state["example_id"] = None  # nothing matches: no example stays open
elif listing.position(st.session_state["example_id"]) is None:
    st.session_state["example_id"] = str(shown["id"].iloc[0])

if st.session_state["example_id"] is not None:
    st.divider()
    steps = labelling.list_steps(
        listing,
        st.session_state["example_id"],
        page_key="browse_page",
        page_size=size,
        advance_key="browse_advance",
    )
    example.example_view(ws, st.session_state["example_id"], key="browse_example", search=search, steps=steps)

"""Browse: the lowest and highest RMI examples per model and stratum, search, labels, the token view."""

from typing import cast

import streamlit as st

from qaq.app import example, state, views, widgets, workspace
from qaq.columns import score_column
from qaq.io.labels import LABELS

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
sortable = views.sortable_columns(ws)
state.valid_choice("browse_sort", sortable, default=score_column(model, "rmi"))
sort_by = cast(str, c3.selectbox("Sort by", sortable, key="browse_sort"))
order = c4.radio("Order", ["lowest first", "highest first"], key="browse_order")
c5, c6 = st.columns([3, 1])
search = c5.text_input("Search in Q and A (plain text, case-insensitive)", key="browse_search")
label = c6.selectbox("Label", ["any", "(unlabelled)", *LABELS], key="browse_label")

rows, total = views.browse_rows(
    ws,
    model=model,
    stratum=None if stratum == "all" else int(stratum),
    sort_by=sort_by,
    ascending=order == "lowest first",
    search=search,
    label=None if label == "any" else label,
)
listed = f"; the first {len(rows):,} are listed" if total > len(rows) else ""
st.caption(
    f"{views.rows_text(total)} {'matches' if total == 1 else 'match'}{listed}. "
    + ("Select a row to open it." if total else "Change the filters or the search.")
)
shown = rows[views.list_columns(ws, [sort_by])]
pick = st.dataframe(
    shown,
    hide_index=True,
    key="browse_table",
    on_select="rerun",
    selection_mode="single-row",
    height=widgets.table_height(len(shown)),
)
if (row_id := widgets.table_pick(pick, shown)) is not None:
    st.session_state["example_id"] = row_id
elif len(shown) and st.session_state["example_id"] not in set(shown["id"].astype(str)):
    st.session_state["example_id"] = str(shown["id"].iloc[0])

if st.session_state["example_id"] is not None:
    st.divider()
    example.example_view(ws, st.session_state["example_id"], key="browse_example")

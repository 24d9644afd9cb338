"""Map: the rows laid out by their embeddings (the scoring pass's own hidden states), coloured by any
column; a lasso picks rows for Browse and Select & export; groups of near-duplicates."""

from typing import cast

import streamlit as st

from qaq.app import cached_views, example, labelling, rows, state, widgets, workspace
from qaq.app.arms import in_workspace
from qaq.app.mapview import DUP_COLUMNS, SPANS, color_choices, duplicate_rows, picked_ids
from qaq.io.datasets import DataError

ws = workspace.current()
st.title("Map")
table = widgets.require_scores(ws)
st.markdown(
    "Each point is a row, placed by its embedding: the model's last hidden state averaged over the query and "
    "over the answer in the scoring pass itself (`qaq score --embed`), laid out in 2-D by UMAP. Rows the model "
    "reads alike lie together, so defects of one kind that cluster show as patches of one colour."
)
try:
    emb = cached_views.embeddings(ws)
except DataError as e:
    st.error(f"The embeddings cannot be read: {e}")
    st.stop()
if emb is None:
    st.info(
        "These scores have no embeddings. Score with **Keep embeddings** on the Score page (or `qaq score --embed`): "
        "the map reads `<scores>.embed.npz`, written beside the score file."
    )
    st.stop()
models = [m for m in emb.models if m in ws.models]
if not models:
    st.error(
        f"The embedding file {ws.embeddings_path} has embeddings of {', '.join(emb.models)}, none of them a model "
        f"of these scores ({', '.join(ws.models)})."
    )
    st.stop()

c1, c2, c3 = st.columns([1, 1, 2])
state.valid_choice("map_model", models, default=ws.strong if ws.strong in models else models[0])
model = cast(str, c1.selectbox("Embeddings of", models, key="map_model"))
span = cast(str, c2.radio("Of", list(SPANS), format_func=SPANS.__getitem__, horizontal=True, key="map_span"))
choices = color_choices(ws, model)
state.valid_choice("map_color", list(choices), default=next(iter(choices)))
color = cast(str, c3.selectbox("Colour by", list(choices), format_func=choices.__getitem__, key="map_color"))

recipe = in_workspace(st.session_state["recipe"], ws)
picked = state.chart_filter()
st.caption(
    "**Drag a lasso** (or a box) round a patch to pick every row inside it, drawn or not: they become the chart "
    "filter, which Browse and Select & export read. Dark rings: the current recipe's rows; orange squares: the "
    "chart filter. Grey shading: where rows lie densest."
)
event = widgets.plotly(
    cached_views.map_figure(ws, model, span, color=color, recipe=recipe, picked=picked.ids if picked else ()),
    key="map",
    on_select="rerun",
    selection_mode=("lasso", "box"),
)
if shapes := widgets.drawn_shapes(event):
    ids = picked_ids(table, cached_views.map_xy(ws, model, span), shapes)
    widgets.take_chart_filter(event, key="map", chart="the map", ids=ids)
widgets.chart_filter_chip(key="map_clear_chart_filter")

if picked is not None:
    labelling.label_picked(ws, picked.ids, chart=picked.chart or "a chart", key="map_picked")
    listed = rows.rows_by_id(ws, list(picked.ids))
    st.markdown(f"**The chart filter's {len(listed):,} rows** (pick one to open it below)")
    pick = st.dataframe(
        listed,
        hide_index=True,
        key="map_rows",
        on_select="rerun",
        selection_mode="single-row",
        height=widgets.table_height(len(listed), most=240),
    )
    if (row_id := widgets.table_pick(pick, listed)) is not None:
        st.session_state["example_id"] = row_id
    elif st.session_state["example_id"] not in picked.ids:
        st.session_state["example_id"] = picked.ids[0] if picked.ids else None
    if st.session_state["example_id"] is not None:
        example.example_view(ws, st.session_state["example_id"], key="map_example")

st.subheader("Near-duplicates")
st.markdown(
    "Pairs of rows whose embeddings (the span chosen above) have a cosine at or above the threshold, among each "
    "row's nearest neighbours, joined into groups. Synthetic sets carry many, from the same generator prompt. "
    "Select & export can keep one row of each group (**Drop near-duplicates**): the recipe then holds the "
    "threshold, so `qaq select` drops the same rows."
)
threshold = st.slider("Cosine at or above", 0.80, 1.00, step=0.01, key="map_dup_threshold")
groups = cached_views.duplicates(ws, model, threshold, span)
n_groups = int(groups["group"].nunique()) if len(groups) else 0
m1, m2, m3 = st.columns(3)
m1.metric("Groups", f"{n_groups:,}")
m2.metric("Rows in a group", f"{len(groups):,}")
m3.metric("Rows dropped keeping one a group", f"{len(groups) - n_groups:,}")
if len(groups):
    st.dataframe(
        duplicate_rows(ws, groups, model),
        hide_index=True,
        key="map_duplicates",
        column_order=DUP_COLUMNS,
        height=widgets.table_height(len(groups), most=360),
    )


def _use_in_recipe() -> None:
    st.session_state.update(
        sel_dedup=True, sel_dedup_threshold=float(threshold), sel_dedup_model=model, sel_dedup_span=span
    )


st.button(
    f"Drop these near-duplicates in the recipe (cosine ≥ {threshold:.2f}, {SPANS[span]}, {model})",
    key="map_use_dedup",
    on_click=_use_in_recipe,
    disabled=not len(groups),
    help="Sets Select & export's Drop near-duplicates to this threshold, span and model.",
)
if st.session_state.get("sel_dedup") and st.session_state.get("sel_dedup_threshold") == threshold:
    st.caption("Select & export drops these near-duplicates (one row of each group kept).")

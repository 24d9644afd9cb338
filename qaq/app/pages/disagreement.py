"""Disagreement: strong vs weak stratified RMI ranks, Diff/Sum quadrants, the most disagreed examples."""

import streamlit as st

from qaq import plots
from qaq.app import cached_views, example, views, widgets, workspace

ws = workspace.current()
st.title("Disagreement")
st.markdown(
    "With a strong and a weak model, **Diff** = r_strong − r_weak and **Sum** = r_strong + r_weak, where r is "
    "each model's RMI rank (stratified by default: within its own PPL(Q) strata). High Diff is *valid yet "
    "challenging*: the strong model finds Q and A coherent, the weak one does not. QAQ keeps Diff-High."
)
table = widgets.require_pair(ws)
assert ws.strong is not None and ws.weak is not None, "require_pair stops the page without both roles"

c1, c2 = st.columns(2)
diff_t = c1.slider("Diff threshold", -1.0, 1.0, step=0.01, key="diff_threshold")
sum_t = c2.slider("Sum threshold", 0.0, 2.0, step=0.01, key="sum_threshold")
q = cached_views.quadrants(ws, diff_t, sum_t)
m = st.columns(4)
m[0].metric("Diff-High", f"{int(q.loc['Diff-High', 'total']):,}")
m[1].metric("Diff-Low", f"{int(q.loc['Diff-Low', 'total']):,}")
m[2].metric("Sum-High", f"{int(q.loc['total', 'Sum-High']):,}")
m[3].metric("Sum-Low", f"{int(q.loc['total', 'Sum-Low']):,}")

st.caption("Select points (click, box or lasso) to open those examples below.")
event = widgets.plotly(
    plots.rank_scatter(table, strong=ws.strong, weak=ws.weak, diff_threshold=diff_t, sum_threshold=sum_t),
    key="rank_scatter",
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
)
picked_ids = widgets.point_ids(event)
if picked_ids:
    st.markdown(f"**{len(picked_ids):,} selected points**")
    chosen = views.rows_by_id(ws, picked_ids)
    pick = st.dataframe(
        chosen,
        hide_index=True,
        key="picked_points",
        on_select="rerun",
        selection_mode="single-row",
        height=widgets.table_height(len(chosen), most=240),
    )
    st.session_state["example_id"] = widgets.table_pick(pick, chosen) or picked_ids[0]

st.subheader("Rank correlation")
sp = cached_views.strong_weak_spearman(ws)
st.metric(f"Spearman of {ws.strong} and {ws.weak} RMI (all rows)", f"{sp['spearman'].iloc[0]:.3f}")
st.caption(f"Per stratum of {ws.strong}'s PPL(Q) ({ws.bins} bins):")
st.dataframe(sp.iloc[1:], hide_index=True, key="spearman_table", height=widgets.table_height(len(sp) - 1, most=220))

st.subheader("Most disagreed examples")
top = views.most_disagreed(ws, 20)
pick = st.dataframe(
    top,
    hide_index=True,
    key="disagreed_table",
    on_select="rerun",
    selection_mode="single-row",
    height=widgets.table_height(len(top), most=300),
)
if (row_id := widgets.table_pick(pick, top)) is not None:
    st.session_state["example_id"] = row_id

if st.session_state["example_id"] is not None:
    st.divider()
    example.example_view(ws, st.session_state["example_id"], key="disagreement_example")

"""Disagreement: strong vs weak stratified RMI ranks, Diff/Sum quadrants, rows picked on the chart or most
disagreed, with the opened example right below them."""

import streamlit as st

from qaq.app import arms, cached_views, example, rows, state, widgets, workspace

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
for note in arms.split_notes(q, diff_threshold=diff_t, sum_threshold=sum_t, n_rows=len(table)):
    st.caption(note)

recipe = arms.in_workspace(st.session_state["recipe"], ws)
picked = state.chart_filter()
st.caption(
    "**Drag a box or a lasso** on the chart (or click points) to pick rows: they become the chart filter, which "
    "Browse and Select & export read and which stays, through threshold changes, until you clear it. Dark rings: "
    "the current recipe's rows; orange squares: the chart filter."
)
event = widgets.plotly(
    cached_views.figure(
        ws,
        "rank_scatter",
        recipe,
        strong=ws.strong,
        weak=ws.weak,
        diff_threshold=diff_t,
        sum_threshold=sum_t,
        picked=list(picked.ids) if picked else [],
    ),
    key="rank_scatter",
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
)
widgets.take_chart_filter(event, key="rank_scatter", chart="the rank scatter")
widgets.chart_filter_chip(key="disagreement_clear_chart_filter")

# The rows to open an example from, right under the chart: the picked ones, else the most disagreed.
if picked is not None:
    listed = rows.rows_by_id(ws, list(picked.ids))
    st.markdown(f"**The chart filter's {len(listed):,} rows** (pick one to open it below)")
else:
    listed = rows.most_disagreed(ws, 20)
    st.markdown("**The 20 most disagreed rows** (largest |Diff|; pick one to open it below)")
pick = st.dataframe(
    listed,
    hide_index=True,
    key="picked_points" if picked is not None else "disagreed_table",
    on_select="rerun",
    selection_mode="single-row",
    height=widgets.table_height(len(listed), most=240),
)
if (row_id := widgets.table_pick(pick, listed)) is not None:
    st.session_state["example_id"] = row_id
elif picked is not None and st.session_state["example_id"] not in picked.ids:
    st.session_state["example_id"] = picked.ids[0]
if st.session_state["example_id"] is not None:
    example.example_view(ws, st.session_state["example_id"], key="disagreement_example")

st.subheader("Rank correlation")
sp = cached_views.strong_weak_spearman(ws)
st.metric(f"Spearman of {ws.strong} and {ws.weak} RMI (all rows)", f"{sp['spearman'].iloc[0]:.3f}")
strata = f"{ws.n_strata} custom strata" if ws.boundaries is not None else f"{ws.bins} bins"
st.caption(f"Per stratum of {ws.strong}'s PPL(Q) ({strata}):")
st.dataframe(sp.iloc[1:], hide_index=True, key="spearman_table", height=widgets.table_height(len(sp) - 1, most=220))

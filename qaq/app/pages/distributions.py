"""Distributions: RMI per model with the current selection, the strata (shown and set on the chart), RMI vs IFD."""

from typing import cast

import streamlit as st

from qaq.app import arms, boundaries, cached_views, state, widgets, workspace
from qaq.app.table import STRATA_NOTE

ws = workspace.current()
st.title("Distributions")
table = widgets.require_scores(ws)

state.valid_choice("dist_models", list(ws.models), default=list(ws.models))
models = st.multiselect("Models", ws.models, key="dist_models")
recipe = arms.in_workspace(st.session_state["recipe"], ws)  # with the strata set in the sidebar or below
selected, error = cached_views.current_selection(ws, recipe)
if recipe is None:
    st.caption("No selection yet: build a recipe on the Select & export page to see the selected rows here.")
elif error:
    st.caption(f"The current recipe does not apply to this table: {error}")
else:
    assert selected is not None, "current_selection gives a mask or an error for a recipe"
    st.caption(
        f"Solid bars, dashed lines, dark rings: the {int(selected.sum()):,} rows the current recipe "
        f"(`{recipe['method']}`) selects."
    )
if models:
    # One under the other: side by side, each would be under 350 px wide on a 1024 px screen.
    widgets.plotly(cached_views.figure(ws, "rmi_histogram", recipe, models=models), key="rmi_histogram")
    widgets.plotly(cached_views.figure(ws, "rmi_ecdf", recipe, models=models), key="rmi_ecdf")
else:
    st.info("Pick at least one model.")

st.subheader("Strata of PPL(Q)")
st.markdown(
    "RMI has a lower ceiling for easy queries (low PPL(Q)): a global RMI sort drops simple but valid "
    "rows. QAQ ranks RMI within strata of PPL(Q) instead. " + STRATA_NOTE
)
state.valid_choice("dist_model", list(ws.models))
# cast: with python_version 3.10, mypy reads streamlit's typing.Never as Any and picks the "-> None" overload
model = cast(str, st.selectbox("Model", ws.models, key="dist_model"))
st.caption(
    "**Drag across the chart** to cut the strata there: the two edges of the range become boundaries, added to "
    "the ones drawn (with K quantile strata, their edges; set K = 1 first to start from none). Or type them in "
    "the sidebar."
)
event = widgets.plotly(
    cached_views.figure(ws, "rmi_vs_ppl", recipe, model=model, **ws.strata_args),
    key="rmi_vs_ppl",
    on_select="rerun",
    selection_mode=("box",),
)
if edges := widgets.box_x_edges(event):
    try:
        cuts = boundaries.with_edges(ws, model, edges)
    except boundaries.BoundaryError as e:
        st.error(str(e))
    else:
        if cuts != ws.boundaries:
            widgets.use_boundaries(cuts)
            st.rerun()
for note in boundaries.strata_warnings(ws, model, boundaries.stratum_sizes(ws, model)):
    st.warning(note)
widgets.reset_boundaries_button(ws, key="dist_reset_boundaries")
kind = cast(str, st.radio("Per stratum as", ["box", "violin"], horizontal=True, key="dist_kind"))
widgets.plotly(
    cached_views.figure(ws, "rmi_by_stratum", recipe, model=model, **ws.strata_args, kind=kind), key="rmi_by_stratum"
)

st.subheader("RMI and IFD")
st.markdown(
    "IFD (Cherry LLM) = log PPL(A|Q) / log PPL(A): how much the query helps predict the answer. "
    "The paper reports Spearman(RMI, IFD) = 0.252 on WarriorCoder: the two scores see different things."
)
widgets.plotly(cached_views.figure(ws, "ifd_vs_rmi", recipe, model=model), key="ifd_vs_rmi")

"""Distributions: RMI per model with the current selection, why strata, RMI vs IFD."""

from typing import cast

import streamlit as st

from qaq import plots
from qaq.app import cached_views, state, views, widgets, workspace

ws = workspace.current()
st.title("Distributions")
table = widgets.require_scores(ws)

state.valid_choice("dist_models", list(ws.models), default=list(ws.models))
models = st.multiselect("Models", ws.models, key="dist_models")
recipe = st.session_state["recipe"]
selected, error = cached_views.current_selection(ws, recipe)
if recipe is None:
    st.caption("No selection yet: build a recipe on the Select & export page to see the selected rows here.")
elif error:
    st.caption(f"The current recipe does not apply to this table: {error}")
else:
    assert selected is not None, "current_selection gives a mask or an error for a recipe"
    st.caption(
        f"Solid bars / dashed lines: the {int(selected.sum()):,} rows the current recipe "
        f"(`{recipe['method']}`) selects."
    )
if models:
    left, right = st.columns(2)
    with left:
        widgets.plotly(plots.rmi_histogram(table, models, selected=selected), key="rmi_histogram")
    with right:
        widgets.plotly(plots.rmi_ecdf(table, models, selected=selected), key="rmi_ecdf")
else:
    st.info("Pick at least one model.")

st.subheader("Why stratify")
st.markdown(
    "RMI has a lower ceiling for easy queries (low PPL(Q)): a global RMI sort drops simple but valid "
    "rows. QAQ ranks RMI within K quantile bins of PPL(Q) instead. " + views.STRATA_NOTE
)
state.valid_choice("dist_model", list(ws.models))
# cast: with python_version 3.10, mypy reads streamlit's typing.Never as Any and picks the "-> None" overload
model = cast(str, st.selectbox("Model", ws.models, key="dist_model"))
widgets.plotly(plots.rmi_vs_ppl(table, model, bins=ws.bins), key="rmi_vs_ppl")
kind = cast(str, st.radio("Per stratum as", ["box", "violin"], horizontal=True, key="dist_kind"))
widgets.plotly(plots.rmi_by_stratum(table, model, bins=ws.bins, kind=kind), key="rmi_by_stratum")

st.subheader("RMI and IFD")
st.markdown(
    "IFD (Cherry LLM) = log PPL(A|Q) / log PPL(A): how much the query helps predict the answer. "
    "The paper reports Spearman(RMI, IFD) = 0.252 on WarriorCoder: the two scores see different things."
)
widgets.plotly(plots.ifd_vs_rmi(table, model), key="ifd_vs_rmi")

"""qaq app: the frame (page config, navigation, shared sidebar). Run: ``qaq app`` or ``streamlit run app.py``.

The pages live in ``pages/`` and are registered here with ``st.navigation`` (which turns off
Streamlit's automatic ``pages/`` discovery). Each page reads the working table this frame built
for the run with ``ui.current()``. Server options (localhost only, upload limit) are in
``.streamlit/config.toml``.
"""

from pathlib import Path

import streamlit as st
from streamlit import config

from qaq import ui, views

st.set_page_config(page_title="qaq: QAQ data selection", page_icon=":material/filter_alt:", layout="wide")

ui.init_state()
ws = ui.workspace()
st.session_state[ui.WORKSPACE_KEY] = ws

pages = st.navigation([
    st.Page("pages/data.py", title="Data", icon=":material/folder_open:", default=True),
    st.Page("pages/score.py", title="Score", icon=":material/speed:"),
    st.Page("pages/distributions.py", title="Distributions", icon=":material/bar_chart:"),
    st.Page("pages/disagreement.py", title="Disagreement", icon=":material/compare_arrows:"),
    st.Page("pages/browse.py", title="Browse", icon=":material/search:"),
    st.Page("pages/select_export.py", title="Select & export", icon=":material/download:"),
])

# The shared sidebar: dataset in use, model roles, K and the ranking.
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
    st.slider("Strata K (PPL(Q) quantile bins)", 1, 50, key="bins")
    st.radio("RMI ranking", views.RANKINGS, key="ranking", horizontal=True,
             help="stratified: RMI ranked within each stratum (QAQ); global: over the whole table "
                  "(the authors' README snippet).")
    st.caption(views.STRATA_NOTE)
    if config.get_option("server.address") not in ("localhost", "127.0.0.1", "::1"):
        st.warning("This server listens on every network interface, so anyone who can reach this machine can "
                   "open the app and read files through it. `qaq app` listens on localhost only.")

pages.run()

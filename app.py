"""qaq app: the frame (page config, navigation, shared sidebar). Run: ``qaq app`` or ``streamlit run app.py``.

The pages live in ``pages/`` and are registered here with ``st.navigation`` (which turns off
Streamlit's automatic ``pages/`` discovery). Each page reads the working table this frame built
for the run with ``ui.current()``.
"""

import streamlit as st

from qaq import ui

st.set_page_config(page_title="qaq: QAQ data selection", page_icon=":material/filter_alt:", layout="wide")

ui.init_state()
workspace = ui.workspace()
st.session_state[ui.WORKSPACE_KEY] = workspace

pages = st.navigation([
    st.Page("pages/data.py", title="Data", icon=":material/folder_open:", default=True),
    st.Page("pages/score.py", title="Score", icon=":material/speed:"),
    st.Page("pages/distributions.py", title="Distributions", icon=":material/bar_chart:"),
    st.Page("pages/disagreement.py", title="Disagreement", icon=":material/compare_arrows:"),
    st.Page("pages/browse.py", title="Browse", icon=":material/search:"),
    st.Page("pages/select_export.py", title="Select & export", icon=":material/download:"),
])
ui.sidebar(workspace)
pages.run()

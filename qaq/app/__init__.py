"""The qaq web app (Streamlit): the only part of qaq that imports streamlit.

``frame`` (navigation, sidebar), ``state`` (session state), ``workspace`` (the working table from
cached reads), ``cached_views``, ``widgets``, ``example`` (the example view), ``runs`` (uploads,
models, background jobs) and ``pages/`` draw; ``views`` computes what they show from plain values
and ``paths`` says where things are (neither imports streamlit). ``main.py`` is the entry script.
"""

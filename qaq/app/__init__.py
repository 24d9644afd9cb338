"""The qaq web app (Streamlit): the only part of qaq that imports streamlit.

``frame`` (navigation, sidebar), ``state`` (session state), ``workspace`` (the working table from
cached reads), ``cached_views``, ``widgets``, ``example`` (the example view), ``runs`` (uploads,
models, background jobs) and ``pages/`` import streamlit and draw. What they show is computed from
plain values by modules that do not import it: ``table`` (the Workspace and the working table),
``dataset`` (Data page checks), ``score_setup`` (a scoring job's device, models and request),
``labels`` (the user's labels, detection against them), ``rows`` (listed rows, one row's scores),
``arms`` (the selection arms) and ``exports`` (the export files and command); ``paths`` says where
things are. ``main.py`` is the entry script. This file imports nothing.
"""

"""qaq app from a source checkout: ``streamlit run app.py`` (``qaq app`` runs the same frame).

The app lives in the package, in ``qaq/app/`` (frame, pages, state); this file only starts it.
"""

from qaq.app.frame import run

run()

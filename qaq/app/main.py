"""The qaq app's entry script: ``qaq app`` runs ``streamlit run`` on this file."""

from qaq.app.frame import run

run()

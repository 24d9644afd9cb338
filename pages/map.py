"""Opens the map page of qaq/app/pages/ inside the app frame (a direct link before app.py ran)."""

from qaq.app.frame import run

run()

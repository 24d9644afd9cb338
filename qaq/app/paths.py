"""Where the app's files are: its pages, the bundled sample, the server options and its own folders.

No Streamlit here: ``qaq app`` (the CLI) reads :data:`SERVER_OPTIONS` and the environment names
without loading the app.

The bundled sample is package data of an installed qaq (``qaq/app/sample/``, built from the
checkout's ``sample_data/`` folder) and ``sample_data/`` itself in a source checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
MAIN_FILE = APP_DIR / "main.py"  # the script `qaq app` hands to `streamlit run`
PAGES_DIR = APP_DIR / "pages"

# Environment variables `qaq app --data/--scores` sets for the app.
ENV_DATA, ENV_SCORES = "QAQ_APP_DATA", "QAQ_APP_SCORES"

# Server options of the app: `qaq app` passes them as flags; a checkout's `.streamlit/config.toml`
# (read by a plain `streamlit run app.py` from the checkout) holds the same values (a test keeps them equal).
SERVER_OPTIONS: dict[str, object] = {
    "server.address": "localhost",  # private to this machine: the app reads and writes local files
    "server.maxUploadSize": 200,  # megabytes per uploaded file; the Data and Score pages state it
    "browser.gatherUsageStats": False,
    "client.toolbarMode": "viewer",  # no Deploy button: the app runs locally
}


def sample_dir() -> Path:
    """The folder of the bundled sample: package data when installed, ``sample_data/`` in a checkout."""
    packaged = APP_DIR / "sample"  # what a wheel installs (pyproject.toml maps sample_data/ there)
    return packaged if packaged.is_dir() else APP_DIR.parent.parent / "sample_data"


SAMPLE_DATA = sample_dir() / "code_instructions.jsonl"
SAMPLE_SCORES = sample_dir() / "code_instructions.scores.parquet"

_CACHE_HOME = Path(os.environ.get("QAQ_APP_DIR", Path.home() / ".cache" / "qaq" / "app"))
UPLOAD_DIR = _CACHE_HOME / "uploads"
SCORES_DIR = _CACHE_HOME / "scores"
PICKS_DIR = _CACHE_HOME / "picks"  # chart filters the URL names (qaq.app.picks)
RECENT_FILE = _CACHE_HOME / "recent.json"  # the Data page's recent datasets (qaq.app.recent)
TIMINGS_FILE = _CACHE_HOME / "token-view-timings.json"  # model loads and token rates the token view measured


def same_file(a: str | os.PathLike[str] | None, b: str | os.PathLike[str] | None) -> bool:
    """Whether two paths name the same file (None only equals None)."""
    if a is None or b is None:
        return a is b
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def page(name: str) -> str:
    """The script of one of the app's pages (``"data"``, ``"browse"``, ...), for ``st.Page`` and ``st.page_link``."""
    path = PAGES_DIR / f"{name}.py"
    if not path.is_file():
        raise ValueError(f"no app page named {name!r} in {PAGES_DIR}")
    return str(path)

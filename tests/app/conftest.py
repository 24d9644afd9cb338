"""AppTest fixtures: small tables written per test, fresh caches, the app's folders in tmp."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import app_tables
import pytest
import streamlit as st
from browsing import browser as browser  # the headless-Chromium fixture of the browser tests
from streamlit.testing.v1 import AppTest

from qaq import jobs
from qaq.app import paths

REPO = Path(__file__).resolve().parents[2]
APP = paths.MAIN_FILE  # the packaged entry script; page paths are relative to it
PAGES = {
    "data": "pages/data.py",
    "score": "pages/score.py",
    "distributions": "pages/distributions.py",
    "disagreement": "pages/disagreement.py",
    "browse": "pages/browse.py",
    "select": "pages/select_export.py",
    "map": "pages/map.py",
}


@pytest.fixture(autouse=True)
def isolated_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with empty caches and its own upload, score-output and jobs folders."""
    st.cache_data.clear()
    st.cache_resource.clear()
    for name in (paths.ENV_DATA, paths.ENV_SCORES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(paths, "UPLOAD_DIR", tmp_path / "app" / "uploads")
    monkeypatch.setattr(paths, "SCORES_DIR", tmp_path / "app" / "scores")
    monkeypatch.setattr(paths, "PICKS_DIR", tmp_path / "app" / "picks")
    monkeypatch.setattr(paths, "RECENT_FILE", tmp_path / "app" / "recent.json")
    monkeypatch.setattr(jobs, "JOBS_DIR", tmp_path / "app" / "jobs")
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """A 60-row dataset (row 0 plants a <script>, row 3 has an empty answer) and two models' scores."""
    return app_tables.write_pair(tmp_path, 60)


@pytest.fixture
def single(tmp_path: Path) -> tuple[Path, Path]:
    """The same kind of dataset scored by one model only."""
    return app_tables.write_pair(tmp_path, 40, models=("weak",), name="single")


def app_config() -> dict[str, Any]:
    """The server options in ``.streamlit/config.toml`` (what a plain `streamlit run app.py` gets)."""
    import tomllib

    with open(REPO / ".streamlit" / "config.toml", "rb") as f:
        return tomllib.load(f)


def open_app(data: Path | None = None, scores: Path | None = None, *, page: str | None = None,
             timeout: float = 60, **state: Any) -> AppTest:
    """The app with seeded session state, run once (on ``page`` when given)."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["data_path"] = None if data is None else str(data)
    at.session_state["scores_path"] = None if scores is None else str(scores)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(PAGES[page]).run()
    return at


def charts(at: AppTest) -> dict[str, dict]:
    """Every Plotly chart on the page: key -> figure spec (read from the element's proto)."""
    return {el.key: json.loads(el.proto.spec) for el in at.get("plotly_chart")}


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def table(at: AppTest, key: str | None = None, *, columns: tuple[str, ...] = ()):
    """A dataframe on the page, by key (selectable tables) or by the columns it shows."""
    for el in at.dataframe:
        if key is not None and el.key == key:
            return el.value
        if key is None and columns and set(columns) <= set(el.value.columns):
            return el.value
    raise KeyError(key or columns)


def values(v) -> list:
    """A Plotly array from a figure spec: a list, or the typed-array form ({"dtype", "bdata"})."""
    import base64

    import numpy as np

    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)

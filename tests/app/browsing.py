"""Shared by the browser tests: headless Chromium through Playwright, and waiting on Streamlit's own state.

Needs Debian's Chromium at /usr/bin/chromium (`make browser-deps`); nothing is downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    """Wait until the Streamlit server at ``url`` answers its health check (or fail with its log)."""
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start: {log.read_text()}") from None
            time.sleep(0.3)


@contextmanager
def running_app(
    folder: Path,
    env: dict[str, str],
    *,
    command: Sequence[str] | None = None,
    port: int | None = None,
    inherit: bool = True,
) -> Iterator[str]:
    """Serve the app from ``folder`` (its working directory, where its log goes) with ``env`` added
    to this environment (``inherit=False``: ``env`` alone); yield its URL once healthy, stop it after.

    ``command`` starts the server on ``port`` (default: the checkout's ``streamlit run app.py``,
    headless, without the file watcher: no address flag, so .streamlit/config.toml must keep it on
    localhost by itself).
    """
    port = port or free_port()
    if command is None:
        command = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true",
                   "--server.port", str(port), "--server.fileWatcherType", "none"]
    log_path = folder / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(list(command), cwd=folder, env={**os.environ, **env} if inherit else env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, proc, log_path)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def app_env(folder: Path, data: Path | None = None, scores: Path | None = None) -> dict[str, str]:
    """The app's variables for a test server: its data and scores, its own app and jobs folders."""
    env = {"QAQ_APP_DIR": str(folder / "app"), "QAQ_JOBS_DIR": str(folder / "jobs")}
    if data is not None:
        env["QAQ_APP_DATA"] = str(data)
    if scores is not None:
        env["QAQ_APP_SCORES"] = str(scores)
    return env


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


# Streamlit's app root says where the script run is (data-test-script-state: initial, running,
# rerunRequested, notRunning) and whether the page is connected. The browser may still be drawing
# what the run sent when it says notRunning (seen: the sidebar's widgets a moment after the
# page's heading, and element placeholders, stSkeleton, for two seconds after it), so the tests
# also wait for the placeholders to go and for the elements they expect; never on fixed sleeps,
# so a busy machine only makes them slower.
_IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.dataset.testConnectionState === 'CONNECTED' && app.dataset.testScriptState === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]') && !document.querySelector('[data-testid="stSkeleton"]');
}"""
# Every Plotly chart on the page has drawn its SVG (charts draw after the script run ends).
_CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
  .every(c => c.querySelector('.main-svg'))"""


def idle(page, timeout: int = 120_000) -> None:
    """Wait until Streamlit has finished running the script and every chart has drawn."""
    page.wait_for_function(_IDLE, timeout=timeout)
    page.wait_for_function(_CHARTS_DRAWN, timeout=timeout)


def settle(page, title: str) -> None:
    """Wait until the page's title and the frame's sidebar show and the script run has finished."""
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=120_000)
    page.get_by_text("Strata K (PPL(Q) quantile bins)").wait_for(timeout=120_000)  # the frame's last widget
    idle(page)


def new_page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return page, dialogs



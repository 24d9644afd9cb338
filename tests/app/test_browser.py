"""The app in a real browser: `streamlit run app.py` driven by headless Chromium through Playwright.

Visits every page (by URL and through the sidebar), checks that no Streamlit exception shows, and
that a <script> and an <img onerror> planted in a sample query never run and show as text.
Screenshots go to artifacts/screenshots/ (look at them).
Needs Debian's Chromium at /usr/bin/chromium (`make browser-deps`); nothing is downloaded.
"""

from __future__ import annotations

import socket
from pathlib import Path

import app_tables
import pytest
from browsing import CHROMIUM, app_env, free_port, idle, new_page, running_app, settle

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
PAGES = {"data": "", "score": "score", "distributions": "distributions", "disagreement": "disagreement",
         "browse": "browse", "select_export": "select_export"}
TITLES = {"data": "Data", "score": "Score", "distributions": "Distributions", "disagreement": "Disagreement",
          "browse": "Browse", "select_export": "Select & export"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run `make browser-deps`"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("browser")
    data, scores = app_tables.write_pair(tmp, 80)
    # The token view (tests/app/test_browser_browse.py) would load the model named in the score
    # metadata: a tiny one, built offline.
    from qaq.io.scorefile import load_scores, write_scores

    table, _ = load_scores(scores)
    write_scores(table, scores, {"models": {m: {"spec": str(tiny_model_dir)} for m in ("weak", "strong")},
                                 "config": {"device": "cpu", "dtype": "fp32", "max_length": 256}})
    port = free_port()
    # No address or usage-statistics flags, and another working directory: .streamlit/config.toml beside
    # app.py must keep the server on localhost by itself (test_server_listens_on_localhost_only).
    with running_app(tmp, app_env(tmp, data, scores), port=port) as url:
        yield url, data, port


def test_server_listens_on_localhost_only(server):
    _, _, port = server
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    # Another loopback address reaches a server bound to every interface (0.0.0.0), not one bound to localhost.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", port), timeout=5):
        pass


def test_every_page_by_url(server, browser):
    url, *_ = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    page, dialogs = new_page(browser)
    # The first request of a fresh server opens a page URL, not the root: Streamlit would run that page
    # without app.py if the app did not catch it (see qaq.workspace.current).
    for name in ["distributions", "data", "score", "disagreement", "browse", "select_export"]:
        page.goto(f"{url}/{PAGES[name]}")
        settle(page, TITLES[name])
        assert page.locator('[data-testid="stException"]').count() == 0, name
        # Opened by URL, the page still runs inside app.py: the app's own navigation and sidebar.
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert nav.get_by_text("Select & export").count() == 1, name
        assert nav.get_by_text("app", exact=True).count() == 0, name
        assert page.get_by_text("Strata K (PPL(Q) quantile bins)").count() == 1, name
        assert page.get_by_text("listens on every network interface").count() == 0, name
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert page.evaluate("window.__pwned") is None and not dialogs
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(2)  # on Select & export: counts, retention
    page.close()


def test_sidebar_navigation_and_a_slider(server, browser):
    from playwright.sync_api import expect

    url, *_ = server
    page, _ = new_page(browser)
    page.goto(url)
    settle(page, "Data")
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Select & export").click()
    settle(page, "Select & export")
    selected = page.locator('[data-testid="stMetricValue"]').first
    before = selected.inner_text()
    slider = page.get_by_role("slider", name="Budget (% of all rows)")
    # One key press at a time, each after the previous rerun: ten quick presses raced the reruns they
    # started (a rerun ending between two presses redraws the slider with its value, dropping a press).
    slider.focus()
    for _ in range(60):
        idle(page)
        value = int(slider.input_value())
        if value == 35:
            break
        slider.press("ArrowRight" if value < 35 else "ArrowLeft")
        # The press has registered when the slider shows another value (a press that raced a
        # rerun may be undone by it: the loop reads the value again once the run is over).
        page.wait_for_function("([el, v]) => el.getAttribute('aria-valuenow') !== v",
                               arg=[slider.element_handle(), str(value)], timeout=120_000)
    expect(selected).to_have_text("28", timeout=120_000)  # 25% -> 35% of 80 rows
    idle(page)
    expect(slider).to_have_value("35")
    assert before == "20"
    assert page.locator('[data-testid="stException"]').count() == 0
    # The lazy tabs run when opened: detection quality draws its ROC and PR curves.
    page.get_by_role("tab", name="Detection quality").click()
    expect(page.get_by_text("The discarded rows as a defect filter")).to_have_count(1, timeout=120_000)
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(4, timeout=120_000)
    idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "select_export_detection.png"), full_page=True)
    page.close()


def test_planted_html_never_runs_and_shows_as_text(server, browser):
    url, *_ = server
    page, dialogs = new_page(browser)
    page.goto(f"{url}/browse")
    settle(page, "Browse")
    box = page.get_by_label("Search in Q and A (plain text, case-insensitive)")
    box.fill("__pwned")
    box.press("Enter")
    # With a search, Q and A show as escaped markdown with the hits marked: the markup is text.
    shown = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="__pwned").first
    shown.wait_for(timeout=120_000)
    idle(page)
    text = shown.inner_text().replace("\u2060", "").replace("\xa0", " ")  # word joiners, kept spaces
    assert "<script>window.__pwned = 1</script>" in text
    assert '<img src=x onerror="window.__pwned = 2">' in text
    assert shown.locator("mark, span").filter(has_text="__pwned").count() >= 1  # the hits are marked
    # No element was made from the planted markup anywhere on the page.
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("[...document.scripts].some(s => s.textContent.includes('__pwned'))") is False
    assert page.evaluate("window.__pwned") is None and not dialogs
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "browse_planted_html.png"), full_page=True)
    page.close()

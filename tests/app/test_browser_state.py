"""State that survives, in a real browser: a reload keeps the workspace (it lives in the URL), the
job controls come back when a job ends, and every page at 1024 px and 1440 px.

`streamlit run app.py` driven by headless Chromium through Playwright (Debian's /usr/bin/chromium;
nothing is downloaded). Waits on Streamlit's own state (tests/app/browsing.py), never on sleeps.
Screenshots go to artifacts/screenshots/ (look at them).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import app_tables
import pytest
from browsing import CHROMIUM, app_env, idle, running_app, settle

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
PAGES = {"data": ("", "Data"), "score": ("score", "Score"), "distributions": ("distributions", "Distributions"),
         "disagreement": ("disagreement", "Disagreement"), "browse": ("browse", "Browse"),
         "select_export": ("select_export", "Select & export")}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run `make browser-deps`"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser-state")
    data, scores = app_tables.write_pair(tmp, 80)
    with running_app(tmp, app_env(tmp, data, scores)) as url:
        yield url, data, scores, tmp


def _page(browser, width: int = 1400, height: int = 1800):
    return browser.new_page(viewport={"width": width, "height": height})


def _slide(page, name: str, target: int) -> None:
    """Move a slider to ``target`` one key press at a time, each after the rerun of the previous one,
    until it stays there once the runs are over (a press that raced a rerun may land after it)."""
    slider = page.get_by_role("slider", name=name)
    slider.focus()
    for _ in range(60):
        idle(page)
        value = int(slider.input_value())
        if value == target:
            idle(page)
            if int(slider.input_value()) == target:
                return
            continue
        slider.press("ArrowRight" if value < target else "ArrowLeft")
        page.wait_for_function("([el, v]) => el.value !== v", arg=[slider.element_handle(), str(value)],
                               timeout=120_000)
    raise AssertionError(f"{name} did not reach {target}")


def _url_has(page, name: str, pattern: str) -> None:
    """Wait until the URL's query parameter ``name`` matches the regular expression ``pattern`` (the
    app writes the URL at the end of each run)."""
    page.wait_for_function("([n, p]) => new RegExp(p).test(new URLSearchParams(location.search).get(n) || '')",
                           arg=[name, pattern], timeout=120_000)


def _go(page, name: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(PAGES[name][1], exact=True).click()
    settle(page, PAGES[name][1])


def test_a_reload_keeps_the_upload_k_budget_and_search(server, browser):
    from playwright.sync_api import expect

    url, data, scores, _ = server
    page = _page(browser)
    page.goto(url)
    settle(page, "Data")
    # Upload the data file (a copy of it in the browser's hands), then load its scores on the Score page.
    page.get_by_role("tab", name="Upload a file").click()
    page.locator('input[type="file"]').first.set_input_files(str(data))
    page.get_by_role("button", name="Use the uploaded file").click()
    _url_has(page, "data", "^upload:")
    settle(page, "Data")
    _go(page, "score")
    page.get_by_role("tab", name="Load a score file").click()
    page.get_by_label("…or the path of a score file on this machine").fill(str(scores))
    page.get_by_label("…or the path of a score file on this machine").press("Enter")
    idle(page)
    page.get_by_role("button", name="Load these scores").click()
    _url_has(page, "scores", f"^{re.escape(str(scores))}$")
    settle(page, "Score")
    _slide(page, "Strata K (PPL(Q) quantile bins)", 8)
    _url_has(page, "k", "^8$")
    _go(page, "select_export")
    _slide(page, "Budget (% of all rows)", 20)
    _url_has(page, "recipe", '"budget":0.2[,}]')
    _go(page, "browse")
    box = page.get_by_label("Search in Q and A (plain text, case-insensitive)")
    box.fill("adds 1")
    box.press("Enter")
    _url_has(page, "q", "^adds 1$")
    idle(page)
    shown = page.url

    page.reload()  # F5
    settle(page, "Browse")
    assert page.url == shown
    expect(page.get_by_label("Search in Q and A (plain text, case-insensitive)")).to_have_value("adds 1")
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(f"data: {data.name}")).to_have_count(1)  # the uploaded copy, under its name
    expect(sidebar.get_by_text(f"scores: {scores.name}")).to_have_count(1)
    expect(page.get_by_role("slider", name="Strata K (PPL(Q) quantile bins)")).to_have_value("8")
    _go(page, "select_export")
    expect(page.get_by_role("slider", name="Budget (% of all rows)")).to_have_value("20")
    expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text("16")  # 20% of 80 rows
    assert page.locator('[data-testid="stException"]').count() == 0

    # The same link in a new tab (a new session) opens the same workspace.
    other = _page(browser)
    other.goto(shown)
    settle(other, "Browse")
    expect(other.get_by_label("Search in Q and A (plain text, case-insensitive)")).to_have_value("adds 1")
    expect(other.get_by_role("slider", name="Strata K (PPL(Q) quantile bins)")).to_have_value("8")
    other.close()
    page.close()


def test_a_link_to_a_missing_file_opens_the_sample_and_says_why(server, browser):
    url, data, _, tmp = server
    page = _page(browser)
    page.goto(f"{url}/?data={tmp / 'gone.jsonl'}&k=4")
    settle(page, "Data")
    warning = page.locator('[data-testid="stAlert"]').filter(has_text="cannot be opened")
    assert "no such file" in warning.inner_text() and "default dataset" in warning.inner_text()
    assert page.locator('[data-testid="stSidebar"]').get_by_text(f"data: {data.name}").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    _url_has(page, "k", "^4$")
    assert "gone.jsonl" not in page.url  # the URL says what is open now
    page.close()


def _fake_job(data: Path, jobs_dir: Path, output: Path) -> tuple[Path, subprocess.Popen]:
    from qaq import jobs

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
    folder = jobs_dir / "20260101-000000-browse"
    folder.mkdir(parents=True)
    now = time.time()
    request = jobs.ScoreRequest(data=str(data), output=str(output), models={"weak": "smollm2-135m"})
    jobs.write_status(folder / jobs.STATUS_FILE, jobs.JobStatus(
        state="running", id=folder.name, request=request, pid=proc.pid, started=now, updated=now,
        progress={"weak": jobs.ModelProgress(20, 80, 4.0, 15.0)}))
    frames = "\r".join(f"Loading weights: {p:3d}%|| {p}/100" for p in range(0, 101, 10))
    (folder / jobs.LOG_FILE).write_text(f"weak: loading\n{frames}\r\nweak: scoring\n")
    return folder, proc


def test_the_start_button_comes_back_when_the_job_ends(server, browser):
    """Issue 16: it stayed disabled after the job finished until something else redrew the page."""
    from dataclasses import replace

    from playwright.sync_api import expect

    from qaq import jobs

    url, data, scores, tmp = server
    folder, proc = _fake_job(data, tmp / "jobs", scores)
    try:
        page = _page(browser)
        page.goto(f"{url}/score")
        settle(page, "Score")
        start = page.get_by_role("button", name="Start scoring in the background")
        expect(start).to_be_disabled()
        expect(page.get_by_text("running", exact=True)).to_have_count(1)
        page.get_by_text("Log", exact=True).click()
        log = page.locator('[data-testid="stCode"]').filter(has_text="weak: loading").inner_text()
        assert log.splitlines() == ["weak: loading", "Loading weights: 100%|| 100/100", "weak: scoring"]
        # The job ends (its process writes the final status, then exits): the page notices by itself.
        status = jobs.read_status(folder / jobs.STATUS_FILE)
        jobs.write_status(folder / jobs.STATUS_FILE, replace(status, state="finished", output=str(scores), rows=80,
                                                             ended=time.time(), updated=time.time()))
        proc.kill()
        expect(start).to_be_enabled(timeout=60_000)
        expect(page.get_by_text("finished", exact=True)).to_have_count(1)
        expect(page.get_by_text("These scores are in use.")).to_have_count(1)  # the job wrote the scores in use
        idle(page)
        _full_shot(page, SHOTS / "score_job_finished.png")
        assert page.locator('[data-testid="stException"]').count() == 0
        page.close()
    finally:
        if proc.poll() is None:
            proc.kill()


def _full_shot(page, path: Path) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its main block, so the window is made as tall
    as that block's content for the shot (the width, which the layout depends on, stays)."""
    size = page.viewport_size
    tall = page.evaluate("""() => Math.max(...['stMain', 'stSidebarContent'].map(
        id => (document.querySelector(`[data-testid="${id}"]`) || {scrollHeight: 0}).scrollHeight))""")
    page.set_viewport_size({"width": size["width"], "height": min(max(tall, size["height"]), 6000)})
    idle(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


@pytest.mark.parametrize("width", [1024, 1440])
def test_every_page_at_laptop_widths(server, browser, width):
    url, *_ = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _page(browser, width=width, height=900)
    for name, (path, title) in PAGES.items():
        page.goto(f"{url}/{path}")
        settle(page, title)
        assert page.locator('[data-testid="stException"]').count() == 0, name
        # Nothing wider than the window, and every chart at least 450 px wide, with the sidebar open.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        assert page.locator('[data-testid="stSidebar"]').is_visible()
        widths = page.eval_on_selector_all('[data-testid="stPlotlyChart"]', "els => els.map(e => e.clientWidth)")
        assert all(w >= 450 for w in widths), (name, widths)
        _full_shot(page, SHOTS / f"{name}-{width}.png")
    # The sidebar folds away (Streamlit's own button) and the page takes the room.
    main = page.locator('[data-testid="stMain"]')
    before = main.bounding_box()["width"]
    page.locator('[data-testid="stSidebar"]').hover()
    page.locator('[data-testid="stSidebarCollapseButton"] button').click()
    page.wait_for_function("w => document.querySelector('[data-testid=\"stMain\"]').clientWidth > w", arg=before)
    idle(page)
    page.screenshot(path=str(SHOTS / f"select_export-{width}-sidebar-folded.png"))
    page.close()

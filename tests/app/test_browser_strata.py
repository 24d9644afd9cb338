"""Chart selections in a real browser: a drag on the RMI vs log PPL(Q) chart sets stratum boundaries, a box on the
rank scatter and a lasso on the map set the chart filter; and screenshots of the chart pages at 1440 and 1024 px (look at them).

`streamlit run app.py` driven by headless Chromium through Playwright, waiting on Streamlit's own state (never on
fixed sleeps). Needs Debian's Chromium at /usr/bin/chromium (`make browser-deps`); nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import app_tables
import pytest
from browsing import CHROMIUM, app_env, idle, running_app, settle

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
ROWS = 240  # 239 scored rows: K = 10 gives strata of about 24

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run `make browser-deps`"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser_strata")
    data, scores = app_tables.write_pair(tmp, ROWS)
    app_tables.write_embeddings(scores, ROWS)  # the Map page's
    with running_app(tmp, app_env(tmp, data, scores)) as url:
        yield url


def open_page(browser, url: str, path: str, title: str, *, width: int = 1440, height: int = 1000):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/{path}")
    settle(page, title)
    return page


def chart(page, key: str):
    """A Plotly chart by its Streamlit key (the element's st-key-KEY class), once drawn."""
    el = page.locator(f".st-key-{key} [data-testid='stPlotlyChart']")
    el.locator(".main-svg").first.wait_for(timeout=120_000)
    return el


def drag_across(page, el, x0: float, x1: float, y0: float = 0.3, y1: float = 0.7) -> None:
    """Drag the mouse over a chart's plot area, from (x0, y0) to (x1, y1) as shares of its width and height."""
    el.scroll_into_view_if_needed()
    box = el.locator(".draglayer .nsewdrag").first.bounding_box()
    assert box, "no plot area to drag on"
    page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + x1 * box["width"], box["y"] + y1 * box["height"], steps=12)
    page.mouse.up()


def stratum_counts(el) -> list[int]:
    """The row counts written above the strata of the RMI vs log PPL(Q) chart."""
    texts = el.locator(".annotation-text").all_text_contents()  # SVG text: no innerText
    return [int(t.replace(",", "")) for t in texts]


def test_a_drag_on_rmi_vs_ppl_sets_boundaries_and_the_counts_change(server, browser):
    page = open_page(browser, server, "distributions", "Distributions")
    el = chart(page, "rmi_vs_ppl")
    assert el.evaluate("e => e.querySelector('.js-plotly-plot')._fullLayout.dragmode") == "select"
    before = stratum_counts(el)
    assert len(before) == 10 and sum(before) == ROWS - 1
    box = page.get_by_role("textbox", name="Custom boundaries (log PPL(Q), comma-separated)")
    assert box.input_value() == ""
    drag_across(page, el, 0.3, 0.62)
    page.wait_for_function(
        "() => [...document.querySelectorAll('input')].some(i => i.getAttribute('aria-label') === "
        "'Custom boundaries (log PPL(Q), comma-separated)' && i.value !== '')", timeout=120_000)
    idle(page)
    cuts = [float(c) for c in box.input_value().split(",")]
    assert len(cuts) == 11 and cuts == sorted(cuts)  # the 9 quantile edges and the dragged range's two
    after = stratum_counts(chart(page, "rmi_vs_ppl"))
    assert len(after) == 12 and sum(after) == ROWS - 1 and after != before
    assert page.get_by_role("button", name="Reset to K = 10 quantile strata").count() == 2  # sidebar and page
    assert page.locator('[data-testid="stException"]').count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    chart(page, "rmi_vs_ppl").screenshot(path=str(SHOTS / "strata_after_drag_1440.png"))
    page.get_by_role("button", name="Reset to K = 10 quantile strata").first.click()
    page.wait_for_function("() => !document.body.innerText.includes('Reset to K = 10 quantile strata')",
                           timeout=120_000)
    idle(page)
    assert stratum_counts(chart(page, "rmi_vs_ppl")) == before and box.input_value() == ""
    page.close()


def test_a_box_on_the_rank_scatter_sets_the_chart_filter_that_browse_reads(server, browser):
    page = open_page(browser, server, "disagreement", "Disagreement")
    el = chart(page, "rank_scatter")
    assert el.evaluate("e => e.querySelector('.js-plotly-plot')._fullLayout.dragmode") == "select"
    drag_across(page, el, 0.05, 0.5, 0.05, 0.5)  # the top left: strong ranks high, weak low
    chip = page.get_by_text("picked on the rank scatter").first
    chip.wait_for(timeout=120_000)
    idle(page)
    text = page.locator('[data-testid="stMain"]').get_by_text("Chart filter:").first.inner_text()
    n = int(text.split("Chart filter:")[1].split("row")[0].strip().replace(",", ""))
    assert n > 0
    assert page.get_by_text(f"The chart filter's {n:,} rows").count() == 1
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("picked on the rank scatter").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    # It stays when a threshold moves.
    slider = page.get_by_role("slider", name="Diff threshold")
    slider.focus()
    value = slider.input_value()
    slider.press("ArrowRight")
    page.wait_for_function("([el, v]) => el.value !== v", arg=[slider.element_handle(), value], timeout=120_000)
    page.get_by_text(f"Diff {float(value) + 0.01:g},").first.wait_for(timeout=120_000)  # the chart's title redrawn
    idle(page)
    assert page.get_by_text(f"The chart filter's {n:,} rows").count() == 1
    page.set_viewport_size({"width": 1440, "height": 2600})
    idle(page)
    page.screenshot(path=str(SHOTS / "disagreement_chart_filter_1440.png"), full_page=True)
    # Browse lists exactly the picked rows while the filter holds.
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Browse", exact=True).click()
    settle(page, "Browse")
    page.get_by_text(f"{n:,} row{'' if n == 1 else 's'} match").first.wait_for(timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    nav.get_by_text("Disagreement", exact=True).click()
    settle(page, "Disagreement")
    page.get_by_role("button", name="Clear the chart filter").first.click()
    page.get_by_text("The 20 most disagreed rows").wait_for(timeout=120_000)
    idle(page)
    assert page.get_by_text("picked on the rank scatter").count() == 0
    page.close()


def lasso(page, el, points: list[tuple[float, float]]) -> None:
    """Draw a lasso on a chart through ``points`` (shares of its plot area's width and height)."""
    el.scroll_into_view_if_needed()
    box = el.locator(".draglayer .nsewdrag").first.bounding_box()
    assert box, "no plot area to draw on"
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in [*at[1:], at[0]]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def test_a_lasso_on_the_map_sets_the_chart_filter_that_browse_reads(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, server, "map", "Map", height=1400)
    el = chart(page, "map")
    assert el.evaluate("e => e.querySelector('.js-plotly-plot')._fullLayout.dragmode") == "lasso"
    lasso(page, el, [(0.02, 0.02), (0.98, 0.02), (0.98, 0.98), (0.02, 0.98)])  # round the whole map
    chip = page.get_by_text("picked on the map").first
    chip.wait_for(timeout=120_000)
    idle(page)
    text = page.locator('[data-testid="stMain"]').get_by_text("Chart filter:").first.inner_text()
    n = int(text.split("Chart filter:")[1].split("row")[0].strip().replace(",", ""))
    assert 0 < n <= ROWS - 1  # every row with an embedding inside the lasso, drawn or not
    assert page.get_by_text(f"The chart filter's {n:,} rows").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "map_lasso_1440.png"), full_page=True)
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Browse", exact=True).click()
    settle(page, "Browse")
    page.get_by_text(f"{n:,} row{'' if n == 1 else 's'} match").first.wait_for(timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


@pytest.mark.parametrize("width", [1440, 1024])
def test_chart_pages_at_two_widths(server, browser, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path, title in (("distributions", "Distributions"), ("disagreement", "Disagreement"),
                        ("map", "Map"), ("select_export", "Select & export")):
        # Tall, so that a screenshot holds the whole page (Streamlit scrolls inside its own container).
        page = open_page(browser, server, path, title, width=width, height=4200)
        assert page.locator('[data-testid="stException"]').count() == 0
        main = page.locator('[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"]').first.bounding_box()["width"]
        for el in page.locator('[data-testid="stPlotlyChart"]').all():
            # Readable: every chart gets the page's whole width (two side by side at 1024 px: under 300 px each).
            assert el.bounding_box()["width"] >= 0.85 * main, (path, el.bounding_box(), main)
        page.screenshot(path=str(SHOTS / f"{path}_{width}.png"), full_page=True)
        page.close()

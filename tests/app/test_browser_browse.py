"""Browse in a real browser: labels from the keyboard land in the labels file, the token view of a
long answer draws without overlapping labels, and the page at 1440 and 1024 px.

A `streamlit run app.py` on data scored by a tiny model built offline (so the token view runs in
seconds and agrees with the score file), driven by headless Chromium. Screenshots go to
artifacts/screenshots/ (look at them). Needs Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from pathlib import Path

import app_tables
import pytest
from browsing import CHROMIUM, app_env, idle, running_app, settle

from qaq.io.labels import labels_path, load_labels

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
LONG_QUERY = "Write a small INI config parser with sections, comments and typed getters."
# Text Streamlit's markdown would change if it were not escaped (arrows, its logo, HTML, emphasis).
TRICKY_QUERY = "Why does f(x) -> None print :streamlit: and <b>TRICKY</b> **words** -- or >= 2 $x$?"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run `make browser-deps`"),
]


def long_answer() -> str:
    """Python code of about 400 tokens for the tiny test tokenizer."""
    lines = ["```python", "import re", "", "", "class Config:", '    """Sections of key = value lines."""', ""]
    lines += ["    def __init__(self, text: str) -> None:", "        self.sections: dict[str, dict[str, str]] = {}",
              "        current = self.sections.setdefault('', {})", "        for raw in text.splitlines():",
              "            line = raw.split('#', 1)[0].strip()", "            if not line:", "                continue",
              "            if m := re.fullmatch(r'\\[(\\w+)\\]', line):",
              "                current = self.sections.setdefault(m.group(1), {})",
              "            elif '=' in line:", "                key, value = (p.strip() for p in line.split('=', 1))",
              "                current[key] = value", ""]
    for kind in ("int", "float", "bool"):
        lines += [f"    def get_{kind}(self, section: str, key: str) -> {kind}:",
                  f"        return {kind}(self.sections[section][key])", ""]
    lines += ["```"]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    from qaq.io.datasets import load_dataset
    from qaq.io.scorefile import write_scores
    from qaq.scoring.engine import ScoringConfig, score_frame

    tmp = tmp_path_factory.mktemp("browse-browser")
    rows = app_tables.records(30, xss=False)
    rows.append({"id": "long", "task": "parsing", "defect": "none", "instruction": LONG_QUERY,
                 "response": long_answer()})
    rows.append({"id": "tricky", "task": "text", "defect": "none", "instruction": TRICKY_QUERY, "response": "ok"})
    data = app_tables.write_data(tmp / "data.jsonl", rows)
    config = ScoringConfig(device="cpu", dtype="fp32", max_length=2048)
    table = score_frame(load_dataset(data), {"weak": str(tiny_model_dir)}, config=config)
    scores = tmp / "data.scores.parquet"
    write_scores(table, scores, table.attrs["qaq_run"])
    with running_app(tmp, app_env(tmp, data, scores)) as url:
        yield url, data, int(table.loc[table["id"] == "long", "weak_n_tokens_a"].iloc[0])


def open_browse(browser, url: str, width: int = 1440, height: int = 1200):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{url}/browse")
    settle(page, "Browse")
    assert page.locator('[data-testid="stException"]').count() == 0
    return page


def open_row(page) -> str:
    """The caption under the example names the open row's place in the list: 'row 3 of 32'."""
    text = page.get_by_text("beside the data; keys").first.inner_text()
    return text[text.index("row "):].split(" (")[0]


def press(page, key: str, then: str) -> None:
    """Press a key, then wait until the example says it is on row ``then`` ("row 3 of 32")."""
    from playwright.sync_api import expect

    page.keyboard.press(key)
    expect(page.get_by_text("beside the data; keys").first).to_contain_text(then, timeout=60_000)
    idle(page)


def test_keyboard_labels_land_in_the_labels_file(server, browser):
    url, data, _ = server
    page = open_browse(browser, url)
    assert open_row(page) == "row 1 of 32"
    page.get_by_role("heading", name="Browse", exact=True).click()  # the page has the focus, no widget
    first = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Example").first.inner_text()
    press(page, "3", "row 2 of 32")  # mismatched, then on to the next row
    saved = load_labels(labels_path(data))
    first_id = first.split("Example")[1].split("·")[0].strip()
    assert saved[["id", "label"]].to_dict("records") == [{"id": first_id, "label": "mismatched"}]
    press(page, "J", "row 3 of 32")
    press(page, "K", "row 2 of 32")
    press(page, "X", "row 3 of 32")  # exclude the second row, then on
    saved = load_labels(labels_path(data))
    assert saved["label"].tolist()[0] == "mismatched" and saved["override"].tolist()[1] == "exclude"
    # Keys typed into a text box are text, not shortcuts.
    box = page.get_by_label("Search in Q and A (plain text, case-insensitive)")
    box.click()
    box.press_sequentially("f1")
    box.press("Enter")
    idle(page)
    assert len(load_labels(labels_path(data))) == 2 and "ok" not in set(load_labels(labels_path(data))["label"])
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


# Per chart, the box of every label drawn (plotly.js hides a label that does not fit its bar at the
# minimum size with display: none and a zero scale: those are not drawn).
def test_search_hits_show_the_text_as_it_is(server, browser):
    url, *_ = server
    page = open_browse(browser, url)
    box = page.get_by_label("Search in Q and A (plain text, case-insensitive)")
    box.fill("tricky")
    box.press("Enter")
    idle(page)
    shown = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Why does f(x)").first
    text = shown.inner_text().replace("\u2060", "").replace("\xa0", " ")
    assert text == TRICKY_QUERY  # no arrow, logo, bold or maths made of it
    assert shown.locator("b, strong, img, .katex").count() == 0
    assert shown.locator("span").filter(has_text="TRICKY").count() >= 1  # the hit is marked
    page.close()


_LABEL_BOXES = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map(chart =>
  [...chart.querySelectorAll('text.bartext')]
    .filter(t => t.textContent.length && getComputedStyle(t).display !== 'none')
    .map(t => t.getBoundingClientRect()).filter(r => r.width > 0)
    .map(r => [r.left, r.top, r.right, r.bottom]))"""


def overlapping(boxes: list[list[float]], slack: float = 0.5) -> list[tuple[int, int]]:
    """Pairs of label boxes that intersect by more than ``slack`` px both ways."""
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1])
    hits = []
    for n, i in enumerate(order):
        x0, y0, x1, y1 = boxes[i]
        for j in order[n + 1:]:
            u0, v0, u1, v1 = boxes[j]
            if v0 >= y1 - slack:
                break
            if min(x1, u1) - max(x0, u0) > slack and min(y1, v1) - max(y0, v0) > slack:
                hits.append((i, j))
    return hits


def test_the_token_view_of_a_long_answer_has_no_overlapping_labels(server, browser):
    url, _, answer_tokens = server
    assert 350 <= answer_tokens <= 600
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_browse(browser, url, height=2400)  # tall: the app scrolls inside, screenshots show the viewport
    box = page.get_by_label("Search in Q and A (plain text, case-insensitive)")
    box.fill("INI config parser")
    box.press("Enter")
    idle(page)
    button = page.get_by_role("button", name="Compute the token view")
    assert "tokens" in button.inner_text()
    button.click()
    page.get_by_text("Colour the tokens by").wait_for(timeout=180_000)
    idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Same precision as the score file (fp32 on cpu)").count() == 1
    query_boxes, answer_boxes = page.evaluate(_LABEL_BOXES)
    assert len(answer_boxes) == answer_tokens  # every token's label is drawn, none hidden
    assert len(query_boxes) > 10
    assert overlapping(query_boxes) == [] and overlapping(answer_boxes) == []
    # The long answer scrolls inside its box instead of stretching the page.
    scroller = page.locator('[data-testid="stPlotlyChart"]').nth(1).locator(
        "xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")
    assert scroller.evaluate("el => el.scrollHeight > el.clientHeight + 100")
    page.screenshot(path=str(SHOTS / "browse_long_answer.png"))
    page.locator('[data-testid="stPlotlyChart"]').nth(1).scroll_into_view_if_needed()  # the app scrolls inside
    page.screenshot(path=str(SHOTS / "browse_token_view.png"))
    page.locator('[data-testid="stPlotlyChart"]').nth(1).screenshot(path=str(SHOTS / "browse_token_view_answer.png"))
    page.close()


@pytest.mark.parametrize("width", [1440, 1024])
def test_browse_at_common_widths(server, browser, width):
    url, *_ = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_browse(browser, url, width, height=1600)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing off to the side
    for name in ("Rows per page", "Only rows flagged", "Hide rows flagged"):
        assert page.get_by_text(name, exact=True).count() >= 1, name
    assert page.get_by_role("button", name="next").count() == 1
    page.screenshot(path=str(SHOTS / f"browse_{width}.png"), full_page=True)
    page.close()

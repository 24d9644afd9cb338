"""An installed qaq, not a checkout: build the wheel, install it into a new environment, start
`qaq app` from an empty folder and open every page in headless Chromium.

The new environment gets qaq from the wheel only, installed by its own pip; its dependencies (and
the embedded models) are read from the test's own environment through a path file, so nothing is
downloaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from browsing import CHROMIUM, free_port, new_page, running_app, settle

REPO = Path(__file__).resolve().parents[2]
PAGES = {"": "Data", "score": "Score", "distributions": "Distributions", "disagreement": "Disagreement",
         "browse": "Browse", "select_export": "Select & export"}
CHARTS = {"distributions", "disagreement"}  # pages that draw charts on the bundled sample by default

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run `make browser-deps`"),
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtual environment holding qaq from its wheel; returns its bin/ folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp / "dist"), str(REPO)], check=True)
    (wheel,) = (tmp / "dist").glob("qaq-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"qaq/app/main.py", "qaq/app/pages/browse.py", "qaq/app/sample/code_instructions.jsonl",
            "qaq/app/sample/code_instructions.scores.parquet"} <= names
    env_dir = tmp / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)  # its own pip (ensurepip: offline)
    site = Path(subprocess.run([str(env_dir / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "deps-from-the-test-environment.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # The new environment's own pip: the test environment's qaq (editable) stays installed.
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--no-compile", str(wheel)], check=True)
    return env_dir / "bin"


def test_the_installed_package_is_the_wheel_not_the_checkout(installed, tmp_path):
    out = subprocess.run([str(installed / "python"), "-c", "import qaq, qaq.app.paths as p; print(qaq.__file__); "
                          "print(p.SAMPLE_DATA)"], cwd=tmp_path, capture_output=True, text=True, check=True)
    package, sample = out.stdout.split()
    env = installed.parent.resolve()
    assert Path(package).resolve().is_relative_to(env), package
    assert Path(sample).resolve().is_relative_to(env) and Path(sample).is_file(), sample


def test_qaq_app_from_the_wheel_opens_every_page(installed, browser, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QAQ_APP_")}  # the bundled sample, nothing else
    env.update(QAQ_APP_DIR=str(tmp_path / "app"), QAQ_JOBS_DIR=str(tmp_path / "jobs"))
    command = [str(installed / "qaq"), "app", "--port", str(port), "--no-browser"]
    with running_app(tmp_path, env, command=command, port=port, inherit=False) as url:
        page, dialogs = new_page(browser)
        for path, title in PAGES.items():
            page.goto(f"{url}/{path}")
            settle(page, title)
            assert page.locator('[data-testid="stException"]').count() == 0, title
            if path in CHARTS:
                assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() > 0, title
        # The bundled sample, with both embedded models' scores, came from the installed package.
        page.goto(url)
        settle(page, "Data")
        assert page.get_by_text("code_instructions.jsonl").count() > 0
        assert page.get_by_text("700 rows").count() > 0
        assert not dialogs
        page.close()

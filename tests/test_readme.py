"""The README stays true: its detection tables are what the benchmark prints on the committed scores."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


@pytest.mark.slow
def test_readme_detection_tables_match_the_benchmark(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_detection", ROOT / "benchmarks" / "detection.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path / "detection.md")]) == 0
    printed = _table_lines((tmp_path / "detection.md").read_text())
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("<!-- detection:start -->"):readme.index("<!-- detection:end -->")]
    assert printed and _table_lines(section) == printed


def test_quickstart_has_exactly_the_two_make_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme[readme.index("## Quickstart"):]
    quick = quick[: quick.index("\n## ", 5)]
    block = quick[quick.index("```bash") + 7 : quick.index("```", quick.index("```bash") + 7)]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make app", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci.splitlines()[-1]


def test_development_map_has_a_line_per_sub_package_and_top_level_module():
    readme = (ROOT / "README.md").read_text()
    dev = readme[readme.index("## Development"):]
    block = dev[dev.index("```") + 3: dev.index("```", dev.index("```") + 3)]
    listed = {line.split()[0] for line in block.splitlines() if line.startswith("qaq/")}
    package = ROOT / "qaq"
    tree = {f"qaq/{p.parent.name}/" for p in package.glob("*/__init__.py")}
    tree |= {f"qaq/{p.name}" for p in package.glob("*.py") if p.name != "__init__.py"}
    assert listed == tree

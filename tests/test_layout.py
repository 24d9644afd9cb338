"""The package's boundaries: only qaq.scoring imports torch, only qaq.app imports streamlit,
``import qaq`` imports neither, and the sub-packages follow the flow (load -> score -> select -> export)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import qaq

PACKAGE = Path(qaq.__file__).resolve().parent
HEAVY = {"torch": "scoring", "transformers": "scoring", "streamlit": "app"}


def _imports(path: Path) -> set[str]:
    """Top-level names of every module a file imports (at any depth: lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        if "pages" in rel.parts or rel.name == "main":  # Streamlit scripts, run by the app, not imported
            continue
        out[".".join(p for p in rel.parts if p != "__init__")] = path
    return out


def test_heavy_libraries_stay_in_their_sub_package():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        for lib, home in HEAVY.items():
            if lib in _imports(path) and rel.parts[0] != home:
                wrong.append(f"{rel} imports {lib} (only qaq/{home}/ may)")
    assert not wrong, wrong
    # ... and they are used there: the check above would pass on a tree that imports neither.
    assert any("torch" in _imports(p) for p in (PACKAGE / "scoring").glob("*.py"))
    assert any("streamlit" in _imports(p) for p in (PACKAGE / "app").rglob("*.py"))


# The app's modules that compute and locate without streamlit (the others draw): tested, and imported by
# `qaq app` and the library's tests, without loading it.
STREAMLIT_FREE = ("__init__", "paths", "table", "dataset", "score_setup", "labels", "rows", "arms", "exports",
                  "boundaries", "tokenview", "urlstate", "recent", "mapview", "picks")


def test_streamlit_free_modules_of_the_app_stay_so():
    for name in STREAMLIT_FREE:
        assert "streamlit" not in _imports(PACKAGE / "app" / f"{name}.py"), name
    drawing = {p.stem for p in (PACKAGE / "app").glob("*.py")} - set(STREAMLIT_FREE) - {"main"}
    assert all("streamlit" in _imports(PACKAGE / "app" / f"{name}.py") for name in drawing), drawing


def test_importing_the_library_loads_neither_torch_nor_streamlit():
    light = [m for m, p in _modules().items()
             if m.split(".")[1:2] not in (["scoring"], ["app"])
             or m in {"qaq.app", *(f"qaq.app.{name}" for name in STREAMLIT_FREE if name != "__init__")}]
    assert {"qaq", "qaq.cli", "qaq.io.datasets", "qaq.select.selection", "qaq.plots"} <= set(light)
    code = ("import importlib, sys\n"
            f"for m in {light!r}: importlib.import_module(m)\n"
            "print(','.join(m for m in ('torch', 'transformers', 'streamlit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_encoding_pairs_loads_no_torch():
    """The encoder (a Ray tokenization stage's, without a model) imports neither torch nor transformers;
    the backend, imported alike, does: the check can tell them apart."""
    code = ("import importlib, sys\n"
            "importlib.import_module(sys.argv[1])\n"
            "print(','.join(m for m in ('torch', 'transformers') if m in sys.modules))")
    for module, heavy in (("qaq.scoring.encoder", ""), ("qaq.scoring.backend", "torch")):
        out = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True, check=True)
        assert out.stdout.strip().split(",")[0] == heavy, module


def test_the_scoring_modules_load_no_streamlit():
    scoring = [m for m in _modules() if m.startswith("qaq.scoring")]
    code = ("import importlib, sys\n"
            f"for m in {scoring!r}: importlib.import_module(m)\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sub_packages_import_only_downstream_of_the_flow():
    """Reading files comes first, then scoring, maps and selection, then export, plots and jobs, then the
    app and the CLI: no module imports one of a later stage (export writes what selection chose,
    so it is the one module of qaq.io that comes after qaq.select)."""
    order = {"columns": 0, "io": 1, "scoring": 2, "maps": 2, "select": 2, "io.export": 3, "plots": 3, "jobs": 3,
             "app": 4, "cli": 5}

    def stage(module: str) -> int | None:
        parts = module.split(".")[1:]
        return order.get(".".join(parts[:2]), order.get(parts[0])) if parts else None

    wrong = []
    for module, path in _modules().items():
        own = stage(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qaq."):
                target = stage(node.module)
                if own is not None and target is not None and target > own:
                    wrong.append(f"{module} imports {node.module}")
    assert not wrong, wrong

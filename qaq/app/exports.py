"""What the Select & export page hands out: the selected and discarded rows and the manifest as
files, and the ``qaq select`` command line that reproduces them.

No Streamlit here: :mod:`qaq.app.cached_views` feeds :func:`export_files` the cached selection,
and everything can be called, and is tested, without a running app. These functions would sit more
naturally in :mod:`qaq.io.export`, and live here only until that module's owner takes them.
"""

from __future__ import annotations

import json
import shlex
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from qaq.app.table import Workspace, table_of
from qaq.io.datasets import file_sha256
from qaq.io.export import export_selection
from qaq.io.files import format_named, format_of
from qaq.select.recipe_parsing import parse_recipe


def output_suffix(source_path: str) -> str:
    """The suffix of exports: the source's own format where qaq writes it, else JSONL (JSON arrays,
    unknown suffixes); see :data:`qaq.io.files.FILE_FORMATS`."""
    fmt = format_of(source_path)
    return (fmt if fmt is not None and fmt.output else format_named("jsonl")).suffix


def select_command(ws: Workspace, recipe: dict[str, Any]) -> str:
    """The ``qaq select`` command line (shell-quoted) that reproduces the selection."""
    suffix = output_suffix(ws.source_path or "x.jsonl")
    parts = ["qaq", "select"]
    if ws.scores_path:
        parts.append(ws.scores_path)
        if ws.source_path and ws.source_path != str(Path(ws.scores_path).resolve()):
            parts += ["--data", ws.source_path]
    if recipe.get("dedup") and ws.embeddings_path:
        parts += ["--embeddings", ws.embeddings_path]  # found beside the scores anyway; said, to be plain
    parts += [
        "--recipe",
        json.dumps(recipe, separators=(",", ":")),
        "-o",
        f"selected{suffix}",
        "--discarded",
        f"discarded{suffix}",
        "--manifest",
        "manifest.json",
    ]
    return " ".join(shlex.quote(p) for p in parts)


def export_files(ws: Workspace, recipe: dict[str, Any], selected: pd.Series) -> dict[str, bytes]:
    """Selected rows, discarded rows (in the source's format) and the manifest, as bytes by file name.

    Args:
        ws: the workspace; its ``source_path`` is the file rows are copied from.
        recipe: the recipe (recorded in the manifest, with its command line).
        selected: the recipe's boolean mask, aligned with the table.
    """
    source = ws.source_path
    assert source is not None, "the Select & export page offers exports only when there is a source file"
    picked = table_of(ws).assign(selected=selected.to_numpy())
    suffix = output_suffix(source)
    inputs: dict[str, Any] = {"data": {"path": source, "sha256": file_sha256(source)}}
    if ws.scores_path and Path(ws.scores_path).resolve() != Path(source).resolve():
        inputs["scores"] = {"path": str(Path(ws.scores_path).resolve()), "sha256": file_sha256(ws.scores_path)}
    names = {"selected": f"selected{suffix}", "discarded": f"discarded{suffix}", "manifest": "manifest.json"}
    with tempfile.TemporaryDirectory(prefix="qaq-export-") as d:
        paths = {k: Path(d) / v for k, v in names.items()}
        export_selection(
            picked,
            source,
            paths["selected"],
            recipe=parse_recipe(recipe),
            discarded_path=paths["discarded"],
            manifest_path=paths["manifest"],
            inputs=inputs,
            models=ws.run.model_raw,
            templates=ws.run.templates,
            extra={"command": select_command(ws, recipe)},
        )
        return {names[k]: p.read_bytes() for k, p in paths.items()}

"""A whole selection written out: its selected (and discarded) rows and the manifest that reproduces it.

:func:`export_selection` writes the rows with :func:`qaq.io.selectionfile.write_selection` (each
record exactly as read from the source) and the manifest with :func:`write_manifest`, all or
nothing. The manifest records the recipe, the inputs' hashes and :func:`ids_sha256` of the selected
ids; ``qaq select --recipe MANIFEST`` reproduces the selection (:func:`read_manifest`).

The export API is imported from here: :class:`ExportError`, :func:`output_format` and
:func:`write_selection` live in :mod:`qaq.io.selectionfile` and are re-exported.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qaq import __version__
from qaq.columns import SCORE_FIELDS, score_column, scored_models
from qaq.io.datasets import file_sha256
from qaq.io.files import atomic_paths, json_default
from qaq.io.selectionfile import ExportError as ExportError
from qaq.io.selectionfile import atomic_output, check_folder
from qaq.io.selectionfile import output_format as output_format
from qaq.io.selectionfile import write_selection as write_selection
from qaq.select.recipes import Recipe, recipe_to_dict
from qaq.select.selection_report import stratum_counts

MANIFEST_VERSION = 1


def ids_sha256(ids: Iterable[Any]) -> str:
    """Fingerprint of a selection: sha256 of each id as UTF-8 followed by ``"\\n"``, in order.

    >>> ids_sha256(["a", "b"]) == hashlib.sha256(b"a\\nb\\n").hexdigest()
    True
    """
    digest = hashlib.sha256()
    for i in ids:
        digest.update(str(i).encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# manifests


def write_manifest(
    path: str | os.PathLike[str],
    *,
    recipe: Any,
    inputs: Mapping[str, Any],
    n_selected: int,
    ids_sha256: str,
    models: Mapping[str, Any] | None = None,
    templates: Mapping[str, Any] | None = None,
    counts: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    qaq_version: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the record of a selection; ``qaq select --recipe MANIFEST`` reproduces it.

    Args:
        path: the JSON file to write.
        recipe: a :class:`qaq.select.recipes.Recipe` (or its dict), stored under ``"recipe"``.
        inputs: the input files, e.g. ``{"scores": {"path": ..., "sha256": ...}}``.
        n_selected: rows selected.
        ids_sha256: :func:`ids_sha256` of the selected ids in source order.
        models: scoring-model metadata (from the score file).
        templates: prompt/template settings used for scoring.
        counts: rows and selected rows per stratum (:func:`qaq.select.selection_report.stratum_counts`).
        qaq_version: defaults to the running qaq's version.
        extra: more JSON-ready keys (e.g. ``n_rows``, ``outputs``).

    Returns:
        The manifest as written.
    """
    manifest = _manifest_dict(
        recipe=recipe,
        inputs=inputs,
        n_selected=n_selected,
        ids_sha256=ids_sha256,
        models=models,
        templates=templates,
        counts=counts,
        qaq_version=qaq_version,
        extra=extra,
    )
    text = json.dumps(manifest, ensure_ascii=False, indent=2, default=json_default) + "\n"
    out = Path(path)
    with atomic_output(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return manifest


def _manifest_dict(
    *,
    recipe: Any,
    inputs: Mapping[str, Any],
    n_selected: int,
    ids_sha256: str,
    models: Mapping[str, Any] | None = None,
    templates: Mapping[str, Any] | None = None,
    counts: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    qaq_version: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    if isinstance(counts, pd.DataFrame):
        counts = [
            {k: (None if pd.isna(v) else int(v)) for k, v in row.items()} for row in counts.to_dict(orient="records")
        ]
    manifest: dict[str, Any] = {
        "qaq_manifest": MANIFEST_VERSION,
        "qaq_version": qaq_version or __version__,
        "recipe": recipe_to_dict(recipe) if isinstance(recipe, Recipe) else dict(recipe),
        "inputs": dict(inputs),
        "models": dict(models or {}),
        "templates": dict(templates or {}),
        "counts": list(counts or []),
        "n_selected": int(n_selected),
        "ids_sha256": ids_sha256,
        **dict(extra or {}),
    }
    return manifest


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a manifest written by :func:`write_manifest`.

    Raises:
        ExportError: not readable, not JSON, or not a qaq manifest.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ExportError(f"cannot read manifest {os.fspath(p)!r}: {e}") from None
    except json.JSONDecodeError as e:
        raise ExportError(f"manifest {os.fspath(p)!r} is not valid JSON: {e.msg} (line {e.lineno})") from None
    if not isinstance(data, dict) or "qaq_manifest" not in data or not isinstance(data.get("recipe"), dict):
        raise ExportError(f"{os.fspath(p)!r} is not a qaq manifest (no 'qaq_manifest' and 'recipe' keys)")
    return data


# --------------------------------------------------------------------------------------------
# a whole selection


def added_score_columns(selected: pd.DataFrame) -> list[str]:
    """The columns ``--add-scores`` appends: each model's scores, stratum and rank, then diff, sum."""
    cols: list[str] = []
    for m in scored_models(selected.columns):
        names = [score_column(m, f) for f in (*SCORE_FIELDS, "stratum", "rank")]
        cols += [c for c in names if c in selected.columns]
    return cols + [c for c in ("diff", "sum") if c in selected.columns]


def _manifest_fields(
    table: pd.DataFrame,
    mask: np.ndarray,
    *,
    recipe: Any,
    source_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    discarded_path: str | os.PathLike[str] | None,
    inputs: Mapping[str, Any] | None,
    models: Mapping[str, Any] | None,
    templates: Mapping[str, Any] | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The :func:`write_manifest` keyword arguments of a selection (``table`` in row order, ``mask``
    its selected rows); the inputs default to the source file's path and sha256."""
    ids = table.loc[mask, "id"].astype(str).tolist() if "id" in table.columns else []
    return {
        "recipe": recipe,
        "inputs": dict(inputs)
        if inputs is not None
        else {"source": {"path": str(Path(source_path).resolve()), "sha256": file_sha256(source_path)}},
        "n_selected": int(mask.sum()),
        "ids_sha256": ids_sha256(ids),
        "models": models,
        "templates": templates,
        "counts": stratum_counts(table, recipe),
        "extra": {
            "n_rows": len(table),
            "outputs": {
                "selected": str(Path(out_path).resolve()),
                **({"discarded": str(Path(discarded_path).resolve())} if discarded_path is not None else {}),
            },
            **dict(extra or {}),
        },
    }


def _write_rows(
    table: pd.DataFrame,
    source_path: str | os.PathLike[str],
    masks: Sequence[np.ndarray],
    paths: Sequence[Path],
    score_prefix: str | None,
) -> None:
    """Write the rows of ``table`` each mask picks to its path (in order), re-read from the source;
    with a ``score_prefix``, append :func:`added_score_columns` under it."""
    add = added_score_columns(table) if score_prefix is not None else []
    for rows_mask, tmp in zip(masks, paths):
        scores = table.loc[rows_mask, add].reset_index(drop=True) if score_prefix is not None else None
        write_selection(
            source_path,
            table.loc[rows_mask, "row"].astype("int64").tolist(),
            tmp,
            scores=scores,
            score_prefix=score_prefix,
        )


def export_selection(
    selected: pd.DataFrame,
    source_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    recipe: Any,
    discarded_path: str | os.PathLike[str] | None = None,
    manifest_path: str | os.PathLike[str] | None = None,
    score_prefix: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    models: Mapping[str, Any] | None = None,
    templates: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a selection: the selected rows, optionally the discarded ones and a manifest.

    All or nothing (:func:`qaq.io.files.atomic_paths`): each file is first written beside its
    target under a temporary name and the targets are replaced only once every file is written.

    Args:
        selected: the output of :func:`qaq.select.selection.select` (needs ``row``, ``selected``;
            ``id`` for the manifest's ``ids_sha256``).
        source_path: the original file the ``row`` indices point into.
        out_path: where the selected rows go (format from the suffix).
        recipe: the :class:`qaq.select.recipes.Recipe` used (for the manifest).
        discarded_path: where the other rows go, if anywhere.
        manifest_path: where the manifest goes, if anywhere.
        score_prefix: append :func:`added_score_columns` to every row under this prefix.
        inputs: input hashes for the manifest (default: the source file's).
        models: scoring-model metadata for the manifest.
        templates: template settings for the manifest.
        extra: more manifest keys.

    Returns:
        The manifest (also when not written): ``n_selected``, ``ids_sha256``, ``counts``, ...
    """
    paths = [Path(p) for p in (out_path, discarded_path) if p is not None]
    for p in paths:
        output_format(p)
    table = selected.sort_values("row", kind="stable") if "row" in selected.columns else None
    if table is None:
        raise ExportError("the selection has no 'row' column: cannot locate the original records")
    mask = table["selected"].to_numpy(dtype=bool)
    manifest = _manifest_fields(
        table,
        mask,
        recipe=recipe,
        source_path=source_path,
        out_path=out_path,
        discarded_path=discarded_path,
        inputs=inputs,
        models=models,
        templates=templates,
        extra=extra,
    )
    parts = [(Path(out_path), mask)]
    if discarded_path is not None:
        parts.append((Path(discarded_path), ~mask))
    targets = [target for target, _ in parts] + ([Path(manifest_path)] if manifest_path is not None else [])
    for target in targets:
        check_folder(target)
    # Each file is written to its own temporary path (keeping its suffix, which picks the format);
    # the targets are replaced only once every file is written.
    with atomic_paths(targets) as temps:
        _write_rows(table, source_path, [rows_mask for _, rows_mask in parts], temps, score_prefix)
        written = write_manifest(temps[-1], **manifest) if manifest_path is not None else _manifest_dict(**manifest)
    return written

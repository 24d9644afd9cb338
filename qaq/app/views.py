"""What the app's pages show, computed from plain values: the workspace and views of its table.

No Streamlit here (the app modules cache these functions and draws their results): everything can be
called, and is tested, without a running app. The table is the working table the app builds with
:func:`working_table` (data joined with scores on ``id``, then each model's stratum and rank, then
``diff`` and ``sum`` for a pair); nothing here mutates it.

Some functions would sit more naturally in another library module, and live here only until that
module's owner takes them: :func:`source_fields` (:mod:`qaq.io.datasets`),
:func:`output_suffix`, :func:`select_command` and :func:`export_files` (:mod:`qaq.io.export`).
:func:`device_summary` imports :mod:`qaq.scoring.hardware`'s torch only when it is called.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from qaq.columns import SCORE_FIELDS, score_column, scored_models
from qaq.io.datasets import DataError, read_records, skipped_rows
from qaq.io.export import export_selection, file_sha256
from qaq.io.files import format_named, format_of
from qaq.io.labels import labels_path, load_labels
from qaq.io.labels import overrides as _overrides
from qaq.io.runrecord import RunRecord, mapping_kwargs, run_record
from qaq.jobs import Engine, RayOptions, ScoreRequest
from qaq.scoring.engine import heavily_truncated
from qaq.scoring.models import DEFAULT_MODELS
from qaq.select.compare import overlap
from qaq.select.curves import pr_curves, roc_curves
from qaq.select.detection import defect_share, detection_table, is_defect
from qaq.select.flags import row_flags
from qaq.select.recipes import PAIR_SCORE, parse_recipe
from qaq.select.strata import DEFAULT_BINS, RANKINGS, add_disagreement, add_ranks, add_strata

BROWSE_LIMIT = 500  # rows listed at once on Browse

STRATA_NOTE = (
    "Strata are K quantile bins of log PPL(Q); each model is binned by its own PPL(Q). "
    "Stratified ranks compare RMI only within a stratum."
)
# The selection arms the Select & export page offers: recipe method -> label.
ARMS: dict[str, str] = {
    "diff_high": "QAQ: Diff-High",
    "diff_low": "Diff-Low",
    "sum_high": "Sum-High",
    "sum_low": "Sum-Low",
    "rmi_band": "RMI rank band (one model)",
    "ifd": "IFD (Cherry LLM)",
    "random": "Random",
}


# --------------------------------------------------------------------------------------------
# the workspace


@dataclass(frozen=True)
class Workspace:
    """What every page works on: the table and the choices that shaped it."""

    table: pd.DataFrame | None
    models: tuple[str, ...] = ()
    strong: str | None = None
    weak: str | None = None
    bins: int = DEFAULT_BINS
    ranking: str = "stratified"
    data_path: str | None = None
    scores_path: str | None = None
    source_path: str | None = None  # the file the ``row`` column points into (exports read it)
    meta: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # things to tell the user (e.g. the data came from the score file)
    error: str | None = None
    key: tuple = ()  # what the table was built from: the cache key of everything derived from it

    @property
    def run(self) -> RunRecord:
        """The score metadata as typed fields (:func:`qaq.io.runrecord.run_record`)."""
        return run_record(self.meta)

    @property
    def pair(self) -> bool:
        """Both roles are set to two different scored models."""
        return bool(self.strong and self.weak and self.strong != self.weak)

    @property
    def labels_file(self) -> Path | None:
        """Where this data's labels and overrides are kept (:func:`qaq.io.labels.labels_path`)."""
        return labels_path(self.source_path) if self.source_path else None


def _table(ws: Workspace) -> pd.DataFrame:
    """``ws.table``, for the views that read it: their pages draw only once ``widgets.require_table`` passed."""
    assert ws.table is not None, "this view needs a loaded table (its page stops without one)"
    return ws.table


def default_roles(models: list[str], meta: dict[str, Any]) -> tuple[str | None, str | None]:
    """The (strong, weak) roles a table opens with.

    Models named ``strong`` and ``weak`` take those roles; else the larger model (by ``parameters``
    in the score metadata) is strong; else the first two models in order.

    Args:
        models: the scored models, in column order.
        meta: the score metadata (``{"models": {name: {"parameters": n}}}``).

    Returns:
        (strong, weak); weak is None with one model, both are None with none.
    """
    if "strong" in models and "weak" in models:
        return "strong", "weak"
    if len(models) < 2:
        return (models[0] if models else None), None
    run = run_record(meta)
    params = {m: run.models[m].parameters if m in run.models else None for m in models}
    sizes = {m: p for m, p in params.items() if isinstance(p, (int, float))}
    if len(sizes) == len(params):  # every model's size is known
        by_size = sorted(models, key=lambda m: -sizes[m])
        return by_size[0], by_size[-1]
    return models[0], models[1]  # the authors' README scores the strong model first


def working_table(
    table: pd.DataFrame, *, bins: int, ranking: str, strong: str | None = None, weak: str | None = None
) -> pd.DataFrame:
    """The joined table + each scored model's stratum and rank (+ ``diff`` and ``sum`` for a pair).

    Args:
        table: data joined with scores (:func:`qaq.select.selection.attach_scores`).
        bins: K, the number of PPL(Q) quantile strata.
        ranking: ``"stratified"`` or ``"global"``.
        strong, weak: the roles; ``diff``/``sum`` are added only when both are set and differ.
    """
    if ranking not in RANKINGS:  # narrows ranking to qaq.select.strata.Ranking
        raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}, got {ranking!r}")
    t = table
    for m in scored_models(t.columns):
        t = add_strata(t, m, bins=bins)
        t = add_ranks(t, m, ranking=ranking, bins=bins)
    if strong and weak and strong != weak:
        t = add_disagreement(t, strong=strong, weak=weak, ranking=ranking, bins=bins)
    return t


# --------------------------------------------------------------------------------------------
# the Data page


def source_fields(path: str | os.PathLike[str], *, sample: int = 200) -> list[str]:
    """Field names of a data file, from its first ``sample`` records (for the mapping widgets).

    Raises:
        qaq.io.datasets.DataError: the file cannot be read.
    """
    p = Path(path)
    suffix = p.name.lower().removesuffix(".gz")
    if suffix.endswith((".parquet", ".pq")):
        try:
            return list(pq.ParquetFile(p).schema_arrow.names)
        except Exception as e:  # noqa: BLE001 - any arrow failure: not a readable Parquet file
            raise DataError(f"not a readable Parquet file: {e}", path=p) from None
    if suffix.endswith(".csv"):
        try:
            return [str(c) for c in pd.read_csv(p, nrows=0).columns]
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read the CSV header: {e}", path=p) from None
    fields: dict[str, None] = {}
    for i, (_, record) in enumerate(read_records(p)):
        if i >= sample:
            break
        if isinstance(record, str):
            try:
                record = json.loads(record)
            except json.JSONDecodeError:
                continue
        if isinstance(record, dict):
            fields.update(dict.fromkeys(record))
    return list(fields)


def lengths(table: pd.DataFrame, model: str | None = None) -> tuple[pd.DataFrame, str]:
    """Q and A lengths for :func:`qaq.plots.length_histograms`, and their unit.

    Tokens of ``model`` when its token counts are in the table (as float, ``NaN`` where not
    scored), else characters.
    """
    if model is not None and score_column(model, "n_tokens_q") in table.columns:
        cols = {"query": score_column(model, "n_tokens_q"), "answer": score_column(model, "n_tokens_a")}
        return pd.DataFrame({k: table[c].astype("float64") for k, c in cols.items()}), f"{model} tokens"
    return pd.DataFrame({"query": table["query"].str.len(), "answer": table["answer"].str.len()}), "characters"


def validation_report(table: pd.DataFrame) -> dict[str, Any]:
    """Counts for the Data page.

    Returns:
        ``rows``; ``to_score`` (rows minus skipped); ``skipped`` (:func:`qaq.io.datasets.skipped_rows`);
        ``duplicate_pairs``: ``id`` and ``line`` of each row repeating an earlier (Q, A) pair;
        ``truncated``: per scored model with such rows, :func:`qaq.scoring.engine.heavily_truncated`.
    """
    skipped = skipped_rows(table)
    dup = table.duplicated(subset=["query", "answer"], keep="first")
    truncated = {
        m: heavily_truncated(table, m)
        for m in scored_models(table.columns)
        if score_column(m, "truncated") in table.columns
    }
    return {
        "rows": len(table),
        "to_score": len(table) - len(skipped),
        "skipped": skipped,
        "duplicate_pairs": table.loc[dup, ["id", "line"]],
        "truncated": {m: t for m, t in truncated.items() if len(t)},
    }


# --------------------------------------------------------------------------------------------
# the Score page


def device_summary() -> dict[str, Any]:
    """What ``--device auto`` and ``--dtype auto`` will use: GPU names when CUDA is there, the CPU's
    kind (native bf16 or not) and the dtype chosen for it, with the reasons."""
    from qaq.scoring import hardware  # imports torch

    device, reason = hardware.choose_device("auto")
    dtype, dtype_reason = hardware.choose_dtype("auto", device)
    cpu = hardware.cpu_info()
    info: dict[str, Any] = {
        "device": device,
        "reason": reason,
        "dtype": dtype,
        "dtype_reason": dtype_reason,
        "cpu": cpu.model,
        "cpus": cpu.threads,
        "cpu_bf16": cpu.bf16,
        "gpus": [],
    }
    if device.startswith("cuda") and shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout
            info["gpus"] = [line.strip() for line in out.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    return info


def model_spec(ws: Workspace, model: str) -> str | None:
    """The spec a scored model was loaded from (score metadata), or the default for its role.

    Specs of synthetic test scores (``synthetic...``) are not loadable and are ignored.
    """
    record = ws.run.models.get(model)
    spec = record.spec if record is not None else None
    if spec and not str(spec).startswith("synthetic"):
        return str(spec)
    return DEFAULT_MODELS.get(model)


ENGINES: dict[Engine, str] = {"local": "This machine", "ray": "Ray cluster"}
RAY_INSTALL = 'pip install "qaq[ray]"'


def score_request(
    data_path: str | os.PathLike[str],
    models: dict[str, str],
    mapping: dict[str, Any] | None,
    *,
    output: str | os.PathLike[str],
    device: str | None = None,
    dtype: str | None = None,
    max_length: int | None = None,
    batch_tokens: int | None = None,
    compile_mode: str | None = None,
    engine: Engine = "local",
    address: str = "auto",
    gpus_per_worker: float = 1.0,
) -> ScoreRequest:
    """The :class:`qaq.jobs.ScoreRequest` of a scoring job started from the Score page.

    Args:
        data_path: the dataset.
        models: role name -> model spec.
        mapping: the app's field mapping (see :func:`mapping_kwargs`), passed as field options.
        output: the score file to write.
        device, dtype, max_length, batch_tokens, compile_mode: the scoring options (None:
            ``qaq score``'s default, e.g. ``batch_tokens`` by device).
        engine: ``local`` or ``ray`` (:data:`ENGINES`).
        address: the Ray cluster (``auto``, ``ray://host:10001``; blank means ``auto``).
        gpus_per_worker: GPUs per Ray scoring actor; 0 scores on the cluster's CPUs.
    """
    ray = None
    if engine == "ray":
        cpus = gpus_per_worker == 0  # the page's "0 GPUs": actors on the cluster's CPUs, i.e. --device cpu
        device = "cpu" if cpus else device
        ray = RayOptions(address=address.strip() or "auto", gpus_per_worker=None if cpus else float(gpus_per_worker))
    return ScoreRequest(
        data=os.fspath(data_path),
        output=os.fspath(output),
        models=dict(models),
        mapping=dict(mapping_kwargs(mapping)),
        device=device,
        dtype=dtype,
        max_length=max_length,
        batch_tokens=batch_tokens,
        compile=compile_mode,
        engine=engine,
        ray=ray,
    )


def rows_text(n: int) -> str:
    """``"1 row"``, ``"1,234 rows"``."""
    return f"{n:,} row" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------------------------
# labels


def labels(ws: Workspace) -> pd.DataFrame:
    """The user's labels and overrides of this data (:func:`qaq.io.labels.load_labels`).

    Raises:
        qaq.io.labels.LabelsError: the labels file is unreadable.
    """
    if ws.labels_file is None:  # no source file: the empty frame load_labels gives for a missing file
        return load_labels(Path(tempfile.gettempdir()) / "qaq-no-such-labels-file.json")
    return load_labels(ws.labels_file)


def row_labels(ws: Workspace, row_id: str) -> tuple[str | None, str | None]:
    """(label, override) of one row, None where unset; raises LabelsError."""
    current = labels(ws)
    entry = current[current["id"] == str(row_id)]
    values = (entry["label"].iloc[0], entry["override"].iloc[0]) if len(entry) else (None, None)
    return tuple(None if pd.isna(v) else v for v in values)  # type: ignore[return-value]


def label_column(ws: Workspace) -> pd.Series:
    """The user's label of every row (``<NA>`` where none), a string Series aligned with the table."""
    lab = labels(ws)
    by_id = dict(zip(lab["id"].astype(str), lab["label"]))
    return _table(ws)["id"].astype(str).map(by_id).astype("string")


def label_sources(ws: Workspace) -> dict[str, tuple[str, str]]:
    """Label columns detection can use: name -> (column, clean label)."""
    out: dict[str, tuple[str, str]] = {}
    if ws.table is not None and "defect" in ws.table.columns:
        out["the data's `defect` column"] = ("defect", "none")
    try:
        if labels(ws)["label"].notna().any():
            out["your labels"] = ("label", "ok")
    except Exception:  # noqa: BLE001 - an unreadable labels file is reported on Browse
        pass
    return out


def labelled_table(ws: Workspace, column: str) -> pd.DataFrame:
    """The table, with the user's labels as a ``label`` column when ``column`` is ``"label"``."""
    table = _table(ws)
    return table.assign(label=label_column(ws)) if column == "label" else table


def overrides(ws: Workspace) -> tuple[list[str], list[str]]:
    """(include ids, exclude ids) set on Browse (:func:`qaq.io.labels.overrides`); raises LabelsError."""
    if ws.labels_file is None:
        return [], []
    return _overrides(ws.labels_file)


# --------------------------------------------------------------------------------------------
# example lists (Browse, Disagreement)


def list_columns(ws: Workspace, extra: list[str] | None = None) -> list[str]:
    """Columns shown in example lists: id, line, Q/A, each model's RMI, stratum and rank, diff, sum, defect.

    ``extra`` columns follow; only columns present in the table, each once.
    """
    cols = ["id", "line", "query", "answer"]
    for m in ws.models:
        cols += [score_column(m, "rmi"), score_column(m, "stratum"), score_column(m, "rank")]
    cols += [c for c in ("diff", "sum", "defect") if ws.table is not None and c in ws.table.columns]
    return [c for c in dict.fromkeys(cols + (extra or [])) if ws.table is not None and c in ws.table.columns]


def sortable_columns(ws: Workspace) -> list[str]:
    """Numeric columns a list can be sorted by: every score, stratum, rank, diff, sum, line."""
    cols = [score_column(m, f) for m in ws.models for f in (*SCORE_FIELDS, "stratum", "rank")]
    cols += ["diff", "sum", "line"]
    present = _table(ws).columns
    return [c for c in cols if c in present]


def browse_rows(
    ws: Workspace,
    *,
    model: str | None,
    stratum: int | None,
    sort_by: str,
    ascending: bool,
    search: str = "",
    label: str | None = None,
    limit: int = BROWSE_LIMIT,
) -> tuple[pd.DataFrame, int]:
    """Rows for the Browse list, filtered and sorted.

    Args:
        ws: the workspace.
        model, stratum: keep ``model``'s stratum ``stratum`` (no filter when either is None).
        sort_by: a column (ignored when absent); stable sort, missing values last.
        ascending: the sort order.
        search: plain text, case-insensitive, searched in Q and A (not a regex).
        label: keep rows with this label of the user's, or ``"(unlabelled)"``; None keeps all.
        limit: how many rows to return.

    Returns:
        (the first ``limit`` matching rows, the number of matching rows).
    """
    t = _table(ws)
    mask = np.ones(len(t), dtype=bool)
    if model is not None and stratum is not None:
        mask &= (t[score_column(model, "stratum")] == stratum).to_numpy(dtype=bool, na_value=False)
    if label is not None:
        lab = label_column(ws)
        mask &= (lab.isna() if label == "(unlabelled)" else lab == label).to_numpy(dtype=bool, na_value=False)
    if search.strip():
        needle = search.strip()
        hit = t["query"].str.contains(needle, case=False, regex=False) | t["answer"].str.contains(
            needle, case=False, regex=False
        )
        mask &= hit.to_numpy(dtype=bool, na_value=False)
    rows = t.loc[mask]
    if sort_by in rows.columns:
        rows = rows.sort_values(sort_by, ascending=ascending, na_position="last", kind="stable")
    return rows.head(limit), int(mask.sum())


def most_disagreed(ws: Workspace, n: int = 20) -> pd.DataFrame:
    """The ``n`` rows with the largest |diff|, most disagreed first (ties in table order)."""
    t = _table(ws)
    order = t["diff"].abs().sort_values(ascending=False, na_position="last", kind="stable").index[:n]
    return t.loc[order, list_columns(ws)]


def rows_by_id(ws: Workspace, ids: list[str]) -> pd.DataFrame:
    """The rows with these ids (compared as strings), in table order, with the list columns."""
    t = _table(ws)
    return t.loc[t["id"].astype(str).isin([str(i) for i in ids]), list_columns(ws)]


# --------------------------------------------------------------------------------------------
# the example view


def example_scores(ws: Workspace, row: pd.Series) -> pd.DataFrame:
    """Every score of one row: a line per model (index ``model``), a column per field.

    Fields are the score fields then ``stratum`` and ``rank``; fields no model has are left out.
    """
    fields = [*SCORE_FIELDS, "stratum", "rank"]
    data = {f: [row.get(score_column(m, f)) for m in ws.models] for f in fields}
    out = pd.DataFrame(data, index=pd.Index(ws.models, name="model"))
    return out.loc[:, [f for f in fields if out[f].notna().any()]]


def example_flags(ws: Workspace, row: pd.Series) -> list[str]:
    """The heuristic flags (:func:`qaq.select.flags.row_flags`) of a row under any model, sorted."""
    return sorted({f for m in ws.models for f in row_flags(row, model=m)})


def code_language(text: str) -> str | None:
    """Highlighting for an answer: ``"markdown"`` when it has fenced code, else None (plain text)."""
    return "markdown" if "```" in text else None


# --------------------------------------------------------------------------------------------
# the Select & export page


def retention_target(recipe: dict[str, Any]) -> tuple[str, str] | None:
    """(score column, keep) that a recipe thresholds, for :func:`qaq.select.compare.retention_curve`.

    ``keep`` is ``"less"`` for the low arms and IFD, else ``"greater"``; None for random.
    """
    method = recipe["method"]
    if method == "random":
        return None
    if method in ("rmi_band", "ifd"):
        column = score_column(recipe["model"], "rmi" if method == "rmi_band" else "ifd")
    else:
        column = PAIR_SCORE[method]
    return column, ("less" if method.endswith("_low") or method == "ifd" else "greater")


def comparison_arms(ws: Workspace, n: int) -> dict[str, dict[str, Any]]:
    """Recipes of the paper's other arms at the same size ``n``: QAQ (Diff-High), IFD and random.

    QAQ needs a pair, IFD the strong (or first) model's IFD scores; none below two rows, since a
    budget of 1 would read as a fraction (100%).
    """
    arms: dict[str, dict[str, Any]] = {}
    if n < 2:
        return arms
    if ws.pair:
        arms["QAQ (Diff-High)"] = {
            "method": "diff_high",
            "strong": ws.strong,
            "weak": ws.weak,
            "budget": n,
            "ranking": ws.ranking,
            "bins": ws.bins,
        }
    model = ws.strong or ws.models[0]
    if score_column(model, "ifd") in _table(ws).columns:
        arms["IFD"] = {"method": "ifd", "model": model, "budget": n, "bins": ws.bins}
    arms["random"] = {"method": "random", "budget": n, "seed": 0}
    return arms


def overlap_table(current: pd.Series, others: dict[str, pd.Series]) -> pd.DataFrame:
    """Overlap (:func:`qaq.select.compare.overlap`) of the current selection mask with each other arm's mask.

    Returns:
        A line per arm: ``arm``, ``rows`` (the arm's size), ``shared``, ``share of current``, ``jaccard``.
    """
    mine = np.flatnonzero(current.to_numpy(dtype=bool))
    rows = []
    for name, mask in others.items():
        o = overlap(mine, np.flatnonzero(mask.to_numpy(dtype=bool)))
        rows.append(
            {
                "arm": name,
                "rows": o["n_b"],
                "shared": o["n_both"],
                "share of current": o["share_of_a"],
                "jaccard": o["jaccard"],
            }
        )
    return pd.DataFrame(rows, columns=["arm", "rows", "shared", "share of current", "jaccard"])


def detection_quality(table: pd.DataFrame, scores: pd.DataFrame, *, label_col: str, clean: str) -> dict[str, Any]:
    """How well suspicion scores find the labelled defects.

    Returns:
        ``table`` (:func:`qaq.select.detection.detection_table`), ``truth`` (:func:`qaq.select.detection.is_defect`),
        ``roc`` and ``pr`` curves by detector; the curves are empty and ``error`` says why when the
        labels hold one class only.
    """
    truth = is_defect(table, label_col=label_col, clean=clean)
    out: dict[str, Any] = {
        "table": detection_table(table, scores, label_col=label_col, clean=clean),
        "truth": truth,
        "roc": {},
        "pr": {},
    }
    try:
        out["roc"], out["pr"] = roc_curves(truth, scores), pr_curves(truth, scores)
    except ValueError as e:
        out["error"] = str(e)
    return out


def defect_shares(ws: Workspace, source: tuple[str, str], selections: dict[str, pd.Series]) -> pd.DataFrame:
    """:func:`qaq.select.detection.defect_share` of each selection (and of all data) for a label source."""
    column, clean = source
    return defect_share(labelled_table(ws, column), selections, label_col=column, clean=clean)


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
    picked = _table(ws).assign(selected=selected.to_numpy())
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

#!/usr/bin/env python3
"""Detection benchmark: how well RMI, the two-sided RMI band, Diff and IFD find labelled defects.

    python benchmarks/detection.py [--scores sample_data/code_instructions.scores.parquet]
        [--data sample_data/code_instructions.jsonl] [--out benchmarks/detection.md] [--limit N]

Joins a qaq score table (:func:`qaq.io.scorefile.load_scores`) on ``id`` with the labelled sample
(:func:`qaq.io.datasets.load_dataset`, label field ``defect``: ``"none"`` = clean) and reports:

1. ROC AUC per defect type (clean vs that type) and for any defect, per scored model, of the
   detectors of :func:`qaq.select.detection.suspicion_scores` (higher = more suspicious; an AUC below
   0.5 means the opposite direction detects the defect);
2. the same for average precision (chance = the base rate);
3. the defect share inside the paper's 25% selections (:mod:`qaq.select.recipes`: the RMI
   50-75% band per model, Diff-High, IFD per model, random), with the whole data as a baseline.

The Markdown goes to ``--out`` and to stdout. ``--limit N`` keeps the first N data rows only.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qaq.columns import score_column, score_columns, scored_models
from qaq.io.datasets import DataError, load_dataset
from qaq.io.scorefile import load_scores
from qaq.select.detection import (
    ANY_DEFECT,
    DETECTORS,
    LOW_DIFF,
    defect_share,
    detection_table,
    suspicion_scores,
)
from qaq.select.recipes import RecipeError
from qaq.select.selection import select

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCORES = ROOT / "sample_data" / "code_instructions.scores.parquet"
DEFAULT_DATA = ROOT / "sample_data" / "code_instructions.jsonl"
DEFAULT_OUT = ROOT / "benchmarks" / "detection.md"
LABEL_COL = "defect"
CLEAN = "none"
BUDGET = 0.25
DIFF_COLUMN = f"{LOW_DIFF} (strong vs weak)"


class BenchmarkError(Exception):
    """An input the benchmark cannot use; the message says which and why."""


# --------------------------------------------------------------------------------------------
# inputs


def load_joined(scores_path: Path, data_path: Path, *, limit: int | None = None
                ) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    """The labelled data (first ``limit`` rows) with the score columns joined on ``id``.

    Returns:
        (table, scored model names in file order, the score file's metadata).
    """
    data = load_dataset(data_path)
    if LABEL_COL not in data.columns:
        raise BenchmarkError(f"{data_path} has no {LABEL_COL!r} field to take labels from")
    if limit is not None:
        data = data.head(limit)
    scores, meta = load_scores(scores_path)
    if "id" not in scores.columns:
        raise BenchmarkError(f"{scores_path} has no 'id' column to join on")
    models = scored_models(scores.columns)
    if not models:
        raise BenchmarkError(f"{scores_path} holds no model scores ({{model}}_nll_q, _nll_q_given_a, _rmi)")
    ids = scores["id"].astype(str)
    if ids.duplicated().any():
        raise BenchmarkError(f"{scores_path} has duplicate ids, e.g. {ids[ids.duplicated()].iloc[0]!r}")
    keep = ["id"] + [c for m in models for c in score_columns(m) if c in scores.columns]
    right = scores[keep].assign(id=ids)
    if not data["id"].isin(right["id"]).any():
        raise BenchmarkError(f"no id of {data_path} is in {scores_path}: are they the same data?")
    joined = data.merge(right, on="id", how="left", validate="one_to_one")
    joined.index = data.index
    return joined, models, meta


# --------------------------------------------------------------------------------------------
# tables


def _fmt(x: float, spec: str = ".3f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table of ``frame`` (cells as given, ``|`` escaped)."""
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|")

    head = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def all_scores(df: pd.DataFrame, models: Sequence[str], *, strong: str | None, weak: str | None) -> pd.DataFrame:
    """Every detector of every model as ``"MODEL: detector"``, plus Diff once for the pair."""
    parts = []
    for m in models:
        s = suspicion_scores(df, model=m)
        parts.append(s.rename(columns=lambda c, m=m: f"{m}: {c}"))
    if strong is not None and weak is not None:
        d = suspicion_scores(df, model=strong, strong=strong, weak=weak)[[LOW_DIFF]]
        parts.append(d.rename(columns={LOW_DIFF: DIFF_COLUMN}))
    return pd.concat(parts, axis=1)


def metric_table(df: pd.DataFrame, table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One line per comparison: label counts, then ``metric`` per detector (formatted)."""
    labels = df[LABEL_COL].astype("string").str.strip()
    n_clean = int((labels == CLEAN).sum())
    wide = table.pivot(index="defect", columns="detector", values=metric)
    order = list(dict.fromkeys(table["defect"]))
    detectors = list(dict.fromkeys(table["detector"]))
    lines = []
    for name in order:
        is_def = labels.notna() & (labels != CLEAN) if name == ANY_DEFECT else labels == name
        n_def = int(is_def.sum())
        line: dict[str, Any] = {"defect": name, "n defect": n_def, "n clean": n_clean}
        if metric == "average_precision":
            line["base rate"] = _fmt(n_def / (n_def + n_clean) if n_def + n_clean else math.nan)
        line.update({d: _fmt(wide.loc[name, d]) for d in detectors})
        lines.append(line)
    return pd.DataFrame(lines)


def selection_masks(df: pd.DataFrame, models: Sequence[str], *, strong: str | None, weak: str | None
                    ) -> dict[str, pd.Series]:
    """The paper's 25% selections, built with qaq.select.recipes."""
    recipes: dict[str, dict[str, Any]] = {}
    for m in models:
        recipes[f"RMI 50-75% band ({m})"] = {"method": "rmi_band", "model": m, "lo": 0.5, "hi": 0.75}
    if strong is not None and weak is not None:
        recipes[f"Diff-High ({strong} vs {weak})"] = {"method": "diff_high", "strong": strong, "weak": weak,
                                                      "budget": BUDGET}
    for m in models:
        if score_column(m, "ifd") in df.columns:
            recipes[f"IFD ({m})"] = {"method": "ifd", "model": m, "budget": BUDGET}
    recipes["random"] = {"method": "random", "budget": BUDGET, "seed": 0}
    return {name: select(df, r)["selected"].astype(bool) for name, r in recipes.items()}


def share_table(shares: pd.DataFrame) -> pd.DataFrame:
    out = shares.rename(columns={"n": "rows"}).drop(columns="n_labelled")
    for c in out.columns[2:]:
        out[c] = [_fmt(100 * v, ".1f") + ("%" if not math.isnan(v) else "") for v in out[c]]
    return out


def _model_names(models: Sequence[str], meta: dict[str, Any]) -> str:
    described = meta.get("models") if isinstance(meta.get("models"), dict) else {}
    parts = []
    for m in models:
        spec = described.get(m, {}).get("spec") if isinstance(described.get(m), dict) else None
        parts.append(f"`{m}` ({spec})" if spec else f"`{m}`")
    return ", ".join(parts)


def build_report(scores_path: Path, data_path: Path, *, limit: int | None = None, strong: str = "strong",
                 weak: str = "weak", command: str = "python benchmarks/detection.py") -> str:
    """The benchmark's Markdown report."""
    df, models, meta = load_joined(scores_path, data_path, limit=limit)
    pair = strong in models and weak in models and strong != weak
    s, w = (strong, weak) if pair else (None, None)
    scores = all_scores(df, models, strong=s, weak=w)
    table = detection_table(df, scores, label_col=LABEL_COL, clean=CLEAN)
    unscored = int(df[[score_column(m, "rmi") for m in models]].isna().any(axis=1).sum())
    shares = defect_share(df, selection_masks(df, models, strong=s, weak=w), label_col=LABEL_COL, clean=CLEAN)

    lines = [
        f"Command: `{command}` · score file `{scores_path.name}`: models {_model_names(models, meta)} · "
        f"{len(df)} rows{f' (--limit {limit})' if limit is not None else ''}",
        "",
        f"Detectors (higher = more suspicious): {', '.join(DETECTORS)}"
        f"{'' if pair else f'; no Diff: the score file lacks the pair {strong!r}/{weak!r}'}. "
        "ROC AUC 0.5 = chance; below 0.5 the opposite direction detects the defect. "
        "Low Diff = -(r_strong - r_weak); IFD in Cherry's direction (high = query helps less). "
        f"Rows without a score are left out ({unscored} of {len(df)}).",
        "",
        "## ROC AUC (defect type vs clean rows)",
        "",
        markdown_table(metric_table(df, table, "roc_auc")),
        "",
        "## Average precision",
        "",
        markdown_table(metric_table(df, table, "average_precision")),
        "",
        f"## Defect share inside the {BUDGET:.0%} selections",
        "",
        markdown_table(share_table(shares)),
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# command line


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmarks/detection.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--scores", type=Path, default=DEFAULT_SCORES, help="qaq score file (default: %(default)s)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled data with a 'defect' field "
                   "(default: %(default)s)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown output (default: %(default)s)")
    p.add_argument("--limit", type=_positive, default=None, help="use only the first N data rows")
    p.add_argument("--strong", default="strong", help="strong model name for Diff (default: %(default)s)")
    p.add_argument("--weak", default="weak", help="weak model name for Diff (default: %(default)s)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    command = shlex.join(["python", "benchmarks/detection.py", *argv])
    try:
        report = build_report(args.scores, args.data, limit=args.limit, strong=args.strong, weak=args.weak,
                              command=command)
        args.out.write_text(report, encoding="utf-8")
    except (BenchmarkError, DataError, RecipeError, KeyError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

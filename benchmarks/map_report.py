#!/usr/bin/env python3
"""Map report: how the labelled defect types lie among their neighbours, and the near-duplicates found.

    python benchmarks/map_report.py [--data sample_data/code_instructions.jsonl]
        [--scores sample_data/code_instructions.scores.parquet] [--embeddings FILE]
        [--span qa] [--k 10] [--thresholds 0.9 0.95 0.98] [--max-groups 20]

Reads the labelled data (:func:`qaq.io.datasets.load_dataset`, label field ``defect``: ``"none"``
= clean), its score file and the embedding file beside it (``qaq score --embed``; by default
:func:`qaq.io.embeddingfile.embeddings_path` of ``--scores``), and prints for each model:

1. neighbour purity (:func:`qaq.maps.neighbours.neighbour_purity`) per defect type and for the
   clean rows: the share of a type's rows whose ``k`` nearest neighbours (cosine of the map
   vectors, :func:`qaq.maps.vectors.map_vectors`) are mostly of the same type, against that
   share if neighbours were random; and the mean share of same-type neighbours against the
   type's share of all rows;
2. the near-duplicate groups (:func:`qaq.select.dedup.duplicate_groups`) at each threshold:
   how many groups and rows, and per group the defect types inside and the row a
   ``"dedup": {"keep": "highest_rmi"}`` recipe keeps.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from qaq.columns import score_column
from qaq.io.datasets import DataError, load_dataset
from qaq.io.embeddingfile import Embeddings, embeddings_path, load_embeddings
from qaq.io.scorefile import load_scores
from qaq.maps.neighbours import nearest_neighbours, neighbour_purity
from qaq.maps.vectors import MAP_SPANS, MapSpan, map_vectors
from qaq.select.dedup import dedup_keep, duplicate_groups

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "sample_data" / "code_instructions.jsonl"
DEFAULT_SCORES = ROOT / "sample_data" / "code_instructions.scores.parquet"
LABEL_COL, CLEAN = "defect", "none"


class ReportError(Exception):
    """An input the report cannot use; the message says which and why."""


def row_kinds(data: pd.DataFrame, emb: Embeddings) -> pd.Series:
    """Each embedding row's defect type (``"clean"`` for ``none``), in the embedding file's order."""
    if LABEL_COL not in data.columns:
        raise ReportError(f"the data has no {LABEL_COL!r} field to take the defect types from")
    by_id = dict(zip(data["id"].astype(str), data[LABEL_COL].astype(str)))
    ids = [str(i) for i in emb.ids]
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise ReportError(f"{len(missing)} embedding ids are not in the data, e.g. {missing[0]!r}: another file?")
    return pd.Series(["clean" if by_id[i] == CLEAN else by_id[i] for i in ids], name="kind")


def purity_lines(emb: Embeddings, model: str, kinds: pd.Series, *, span: MapSpan, k: int) -> list[str]:
    """Neighbour purity of one model's map, as a text table."""
    nb = nearest_neighbours(map_vectors(emb, model, span=span), k=k)
    table = neighbour_purity(nb, kinds, k=k)
    shown = table.assign(**{c: table[c].map("{:.3f}".format) for c in table.columns if c not in ("kind", "rows")})
    return [
        f"neighbour purity, k = {k} ({nb.method} neighbours of {len(nb.rows)} rows with vectors):",
        "  majority_same: share of the kind's rows whose neighbours are mostly of its kind "
        "(majority_by_chance: the same for random neighbours)",
        "  mean_same: mean share of a row's neighbours of its kind (share: the same for random neighbours)",
        *("  " + line for line in shown.to_string(index=False).splitlines()),
    ]


def group_lines(
    emb: Embeddings, model: str, kinds: pd.Series, scores: pd.DataFrame, *, span: MapSpan, threshold: float, limit: int
) -> list[str]:
    """The near-duplicate groups at one threshold: counts, and per group its defect types."""
    groups = duplicate_groups(emb, model, threshold=threshold, span=span)
    n_groups = groups["group"].nunique()
    lines = [f"near-duplicates at cosine >= {threshold:g}: {n_groups} groups, {len(groups)} rows"]
    if not n_groups:
        return lines
    kind_of = dict(zip([str(i) for i in emb.ids], kinds))
    rmi = score_column(model, "rmi")
    kept = dedup_keep(scores, groups, keep="highest_rmi", model=model) if rmi in scores.columns else None
    winners = set(scores.loc[kept, "id"].astype(str)) if kept is not None else set()
    mixed = 0
    for g, members in groups.groupby("group", sort=True):
        types = [kind_of[i] for i in members["id"]]
        mixed += len(set(types)) > 1
        if g < limit:
            keep = next((i for i in members["id"] if i in winners), None)
            what = ", ".join(f"{i} ({t})" for i, t in zip(members["id"], types))
            lines.append(
                f"  group {g} ({len(members)} rows, cosine >= {members['similarity'].min():.3f}): {what}"
                + (f"; highest {rmi} keeps {keep}" if keep else "")
            )
    if n_groups > limit:
        lines.append(f"  ... {n_groups - limit} more groups")
    lines.append(f"  groups mixing defect types: {mixed} of {n_groups}")
    return lines


def build_report(
    data_path: Path,
    scores_path: Path,
    emb_path: Path,
    *,
    span: MapSpan,
    k: int,
    thresholds: Sequence[float],
    limit: int,
) -> str:
    """The whole report, for every model of the embedding file."""
    data = load_dataset(data_path)
    scores, _ = load_scores(scores_path)
    emb = load_embeddings(emb_path)
    if set(scores["id"].astype(str)) != {str(i) for i in emb.ids}:
        raise ReportError(f"the ids of {emb_path} are not those of {scores_path}: another score file?")
    kinds = row_kinds(data, emb)
    counts = kinds.value_counts()
    lines = [
        f"data {data_path} ({len(data)} rows), scores {scores_path}, embeddings {emb_path}",
        "kinds: " + ", ".join(f"{kind} {n}" for kind, n in counts.items()),
        f"span {span}: map vectors = standardised, PCA to 50, unit length",
    ]
    for model in emb.models:
        lines += ["", f"## {model}", *purity_lines(emb, model, kinds, span=span, k=k)]
        for t in thresholds:
            lines += group_lines(emb, model, kinds, scores, span=span, threshold=t, limit=limit)
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmarks/map_report.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled data (default: %(default)s)")
    p.add_argument("--scores", type=Path, default=DEFAULT_SCORES, help="its score file (default: %(default)s)")
    p.add_argument("--embeddings", type=Path, default=None, help="its embedding file (default: beside --scores)")
    p.add_argument("--span", choices=MAP_SPANS, default="qa", help="embeddings compared (default: %(default)s)")
    p.add_argument("--k", type=int, default=10, help="neighbours of the purity (default: %(default)s)")
    p.add_argument("--thresholds", type=float, nargs="+", default=[0.9, 0.95, 0.98], help="dedup cosines")
    p.add_argument("--max-groups", type=int, default=20, help="groups listed per threshold (default: %(default)s)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    emb_path = args.embeddings or embeddings_path(args.scores)
    if not emb_path.is_file():
        print(
            f"error: no embedding file {emb_path}: score with `qaq score --embed` or pass --embeddings", file=sys.stderr
        )
        return 1
    try:
        report = build_report(
            args.data,
            args.scores,
            emb_path,
            span=args.span,
            k=args.k,
            thresholds=args.thresholds,
            limit=args.max_groups,
        )
    except (ReportError, DataError, KeyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

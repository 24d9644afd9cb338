"""The selection arms of the Select & export page: the ones it offers, the paper's arms it compares
the current selection with, their overlap, the score each arm thresholds and where it cuts it,
what the chart filter does to a recipe, and the sentences that explain counts that do not add up.

No Streamlit here: :mod:`qaq.app.cached_views` caches the selections and retention curves these
describe, and everything can be called, and is tested, without a running app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qaq.app.rows import rows_by_id
from qaq.app.table import Workspace, table_of
from qaq.columns import score_column
from qaq.select.compare import overlap
from qaq.select.recipes import PAIR_SCORE

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


def retention_target(recipe: dict[str, Any]) -> tuple[str, str] | None:
    """(score column, keep) that a recipe thresholds, for :func:`qaq.select.compare.retention_curve`.

    ``keep`` is ``"less"`` for the low arms and IFD, else ``"greater"``; None for random. The RMI
    band cuts the model's RMI *rank* (stratified or global, as the recipe says), so its curve is
    that of the rank, on which the band's lo and hi are drawn.
    """
    method = recipe["method"]
    if method == "random":
        return None
    if method in ("rmi_band", "ifd"):
        column = score_column(recipe["model"], "rank" if method == "rmi_band" else "ifd")
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
            **ws.strata_items,
        }
    model = ws.strong or ws.models[0]
    if score_column(model, "ifd") in table_of(ws).columns:
        arms["IFD"] = {"method": "ifd", "model": model, "budget": n, **ws.strata_items}
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


def in_workspace(recipe: dict[str, Any] | None, ws: Workspace) -> dict[str, Any] | None:
    """The last recipe built on Select & export, with the workspace's strata (K or boundaries) and ranking.

    The sidebar's strata may have changed since the recipe was built (a drag on Distributions):
    the selection the other pages draw follows them, as the recipe Select & export would build now.
    """
    if recipe is None or recipe.get("method") == "random":
        return recipe
    out = {k: v for k, v in recipe.items() if k not in ("bins", "boundaries")}
    out.update(ws.strata_items)
    if "ranking" in recipe:
        out["ranking"] = ws.ranking
    return out


def retention_cut(table: pd.DataFrame, recipe: dict[str, Any], selected: pd.Series) -> tuple[float, ...]:
    """Where the current selection cuts the score of :func:`retention_target`, for its curve.

    A threshold arm cuts at its threshold; the RMI band at its two edges, lo and hi (ranks); a
    budget arm at the last value it keeps (the lowest for the high arms, the highest for the low
    ones); IFD between the lowest and highest IFD it keeps (Cherry's rule drops IFD > 1 first).
    Rows added by ``include`` are left out: they are kept whatever their score. Empty for random,
    or when nothing is kept.
    """
    target = retention_target(recipe)
    if target is None:
        return ()
    if "threshold" in recipe:
        return (float(recipe["threshold"]),)
    if recipe["method"] == "rmi_band":
        return (float(recipe["lo"]), float(recipe["hi"]))
    column, keep = target
    ruled = selected.to_numpy(dtype=bool) & ~table["id"].astype(str).isin(recipe.get("include", [])).to_numpy()
    values = table[column].to_numpy(dtype=np.float64, na_value=np.nan)[ruled]
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return ()
    if recipe["method"] == "ifd":
        return (float(values.min()), float(values.max()))
    return (float(values.min()),) if keep == "greater" else (float(values.max()),)


# What the chart filter does on Select & export: use -> what the page says.
FILTER_USES: dict[str, str] = {
    "show": "only show how the recipe treats them",
    "include": "add them to the selection (include)",
    "exclude": "take them out of the selection (exclude)",
}


def with_chart_filter(recipe: dict[str, Any], ids: Sequence[str], use: str) -> dict[str, Any]:
    """The recipe with the chart filter's ids added to its ``include`` or ``exclude`` list.

    ``use`` is a key of :data:`FILTER_USES`; ``"show"`` leaves the recipe as it is. The filter's
    choice wins over an override from Browse on the same id (it leaves the other list), so the
    recipe stays valid and ``qaq select`` with it reproduces the page.
    """
    if use not in FILTER_USES:
        raise ValueError(f"use must be one of {', '.join(FILTER_USES)}, got {use!r}")
    if use == "show" or not ids:
        return recipe
    picked = [str(i) for i in ids]
    into, other = ("include", "exclude") if use == "include" else ("exclude", "include")
    out = dict(recipe)
    out[into] = list(dict.fromkeys([*recipe.get(into, []), *picked]))
    out[other] = [i for i in recipe.get(other, []) if i not in set(picked)]
    return out


def chart_filter_rows(ws: Workspace, ids: Sequence[str], selected: pd.Series) -> pd.DataFrame:
    """The chart filter's rows (:func:`qaq.app.rows.rows_by_id`) with a first column ``selected``."""
    t = table_of(ws)
    rows = rows_by_id(ws, list(ids))
    return rows.assign(selected=selected.to_numpy(dtype=bool)[t.index.get_indexer(rows.index)])[
        ["selected", *rows.columns]
    ]


def split_notes(q: pd.DataFrame, *, diff_threshold: float, sum_threshold: float, n_rows: int) -> list[str]:
    """Why Diff-High + Diff-Low (and Sum-High + Sum-Low) may not add up to all rows.

    Args:
        q: :func:`qaq.select.compare.quadrant_counts` at these thresholds.
        diff_threshold, sum_threshold: the thresholds.
        n_rows: rows in the table.
    """
    ranked = int(q.loc["total", "total"])
    notes = []
    for score, t, high, low in (
        ("Diff", diff_threshold, int(q.loc["Diff-High", "total"]), int(q.loc["Diff-Low", "total"])),
        ("Sum", sum_threshold, int(q.loc["total", "Sum-High"]), int(q.loc["total", "Sum-Low"])),
    ):
        on = ranked - high - low
        if on:
            notes.append(
                f"{score}-High + {score}-Low = {high + low:,} of the {ranked:,} ranked rows: {on:,} "
                f"row{'s have' if on != 1 else ' has'} {score} exactly {t:g}, in neither half (both are strict: "
                f"{score} > {t:g} and {score} < {t:g})."
            )
    if n_rows > ranked:
        n = n_rows - ranked
        notes.append(
            f"{n:,} of the {n_rows:,} rows {'has' if n == 1 else 'have'} no rank from both models (skipped or unscored)."
        )
    return notes


def band_note(counts: pd.DataFrame, recipe: dict[str, Any], *, n_rows: int, n_selected: int) -> str | None:
    """Why an RMI band keeps another number of rows than its width times the table (None when it does not).

    A band keeps ``lo < rank <= hi``, and within a group of n ranked rows (a stratum, or the whole
    table with global ranks) the ranks without ties are 1/n, 2/n, ..., 1: the band keeps
    ``floor(hi*n) - floor(lo*n)`` of them, which is ``(hi - lo) * n`` rounded per group. Ten strata
    of 70 rows and the 50-75% band keep 17 each (not 17.5): 170 rows, not 175.

    Args:
        counts: :func:`qaq.select.selection_report.stratum_counts` of the band's selection.
        recipe: the band recipe.
        n_rows: rows in the table.
        n_selected: rows it keeps.
    """
    if recipe.get("method") != "rmi_band":
        return None
    lo, hi = float(recipe["lo"]), float(recipe["hi"])
    share = hi - lo
    if abs(n_selected - share * n_rows) < 1:
        return None
    grouped = recipe.get("ranking", "stratified") == "stratified"
    strata = counts[counts["stratum"].notna()]
    sizes = strata["rows"].astype(int).tolist() if grouped else [int(strata["rows"].sum())]
    kept = [_band_keeps(n, lo, hi) for n in sizes]
    by_size: dict[tuple[int, int], int] = {}
    for n, k in zip(sizes, kept):
        by_size[(n, k)] = by_size.get((n, k), 0) + 1
    parts = [
        f"{k:,} of {n:,} in {c} strat{'a' if c != 1 else 'um'}" if grouped else f"{k:,} of {n:,}"
        for (n, k), c in sorted(by_size.items())
    ]
    where = "within each stratum" if grouped else "over the whole table"
    text = (
        f"Why {n_selected:,} rows ({n_selected / max(n_rows, 1):.1%}) and not {share:.0%} of {n_rows:,} "
        f"({share * n_rows:,.1f}): RMI is ranked {where}, so a group of n rows has the ranks 1/n, 2/n, …, 1, "
        f"and the band ({lo:g}, {hi:g}] keeps ⌊{hi:g}·n⌋ − ⌊{lo:g}·n⌋ of them, whole rows: "
        f"{'; '.join(parts)} = {sum(kept):,}."
    )
    if (off := n_selected - sum(kept)) != 0:
        text += (
            " Equal RMI values (ties share their average rank) and include/exclude ids make up the difference "
            f"({off:+,} row{'s' if abs(off) != 1 else ''})."
        )
    unranked = int(counts.loc[counts["stratum"].isna(), "rows"].sum())
    if unranked:
        text += (
            f" {_rows(unranked)} without a rank (skipped or unscored) {'is' if unranked == 1 else 'are'} never kept."
        )
    return text


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _band_keeps(n: int, lo: float, hi: float) -> int:
    """Ranks i/n (i = 1..n) in (lo, hi], computed as qaq.select.strata does: ``i / n`` in float64."""
    r = np.arange(1, n + 1, dtype=np.float64) / n
    return int(np.count_nonzero((r > lo) & (r <= hi)))

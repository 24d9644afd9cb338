"""What to report about a selection: how its rows spread over the PPL(Q) strata, and what to fix.

:func:`stratum_counts` counts the rows and the selected rows per stratum of the recipe's stratify
model; :func:`selection_notes` says, with the fix, what a user should know before trusting the
selection (no row kept, strata too small to rank within, strata between ``boundaries`` that hold
no row); :func:`dedup_counts` and :func:`dedup_summary` say how many near-duplicates a recipe's
``dedup`` dropped. All read the output of :func:`qaq.select.selection.select`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qaq.columns import score_column
from qaq.select.dedup import GROUP_COLUMN, KEPT_COLUMN
from qaq.select.recipes import (
    BandRecipe,
    IfdRecipe,
    PairBudgetRecipe,
    PairRecipe,
    PairThresholdRecipe,
    Recipe,
    StratifiedRecipe,
)
from qaq.select.strata import add_strata


def stratum_counts(selected: pd.DataFrame, recipe: Recipe) -> pd.DataFrame:
    """Rows and selected rows per stratum of the recipe's stratify model.

    Args:
        selected: the output of :func:`select`.
        recipe: the recipe that produced it.

    Returns:
        Columns ``stratum`` (Int64; ``<NA>`` gathers rows without one), ``rows`` and
        ``selected``, strata ascending, one line per stratum that holds rows; no lines for
        ``random``.
    """
    if not isinstance(recipe, StratifiedRecipe):
        return pd.DataFrame(
            {"stratum": pd.array([], dtype="Int64"), "rows": np.zeros(0, np.int64), "selected": np.zeros(0, np.int64)}
        )
    m = recipe.stratify_model
    col = score_column(m, "stratum")
    if col in selected.columns:
        strata = selected[col]
    else:
        strata = add_strata(selected, m, bins=recipe.quantile_bins, boundaries=recipe.boundaries)[col]
    t = pd.DataFrame({"stratum": strata.astype("Int64"), "sel": selected["selected"].astype(bool)})
    g = t.groupby("stratum", dropna=False, sort=True)["sel"]
    res = pd.DataFrame({"rows": g.size().astype("int64"), "selected": g.sum().astype("int64")})
    return res.rename_axis("stratum").reset_index()


# Below this many rows a stratum's ranks move in steps of 5% or more, so a band or a quota inside
# it keeps few rows or none: a recipe that ranks or splits by such strata gets a note.
MIN_STRATUM_ROWS = 20


def _by_strata(recipe: Recipe) -> bool:
    """Whether the recipe ranks or splits within strata (so small strata matter)."""
    if isinstance(recipe, (PairBudgetRecipe, IfdRecipe)) and recipe.per_stratum_quota:
        return True
    return isinstance(recipe, (BandRecipe, PairRecipe)) and recipe.ranking == "stratified"


def _why_empty(recipe: Recipe, small: int | None, fix: str) -> str:
    """Why a selection keeps no row, where the recipe tells."""
    if isinstance(recipe, BandRecipe):
        if small is not None:
            return (
                f"with strata of {small} rows, the ranks within a stratum take only a few values and "
                f"none falls in ({recipe.lo:g}, {recipe.hi:g}]; {fix}"
            )
        return f"no row's RMI rank falls in ({recipe.lo:g}, {recipe.hi:g}]; widen the band"
    if isinstance(recipe, PairThresholdRecipe):
        side = ">" if recipe.keeps_high else "<"
        return f"no row has {recipe.score} {side} {recipe.threshold:g}; move the threshold"
    why = ["skipped", "unscored", "excluded"]
    if recipe.exclude_flags:
        why.append("flagged")
    if recipe.dedup is not None:
        why.append("dropped as near-duplicates")
    return f"no row can be selected ({', '.join(why[:-1])}, or {why[-1]})"


def selection_notes(counts: pd.DataFrame, recipe: Recipe, *, n_rows: int, n_selected: int) -> list[str]:
    """What a user should know about a selection before trusting it, each with the fix.

    Args:
        counts: :func:`stratum_counts` of the selection.
        recipe: the recipe that produced it.
        n_rows: rows in the table.
        n_selected: rows it keeps.

    Returns:
        Zero or more sentences: an empty selection (and why, where it can be told), strata
        with fewer than :data:`MIN_STRATUM_ROWS` rows when the recipe ranks or splits within
        them, and strata between ``boundaries`` that hold no row.
    """
    notes: list[str] = []
    rows = counts.loc[counts["stratum"].notna(), "rows"] if _by_strata(recipe) else pd.Series(dtype="int64")
    small = int(rows.min()) if len(rows) and rows.min() < MIN_STRATUM_ROWS else None
    if isinstance(recipe, StratifiedRecipe) and recipe.boundaries is not None:
        fix = 'use fewer "boundaries" (wider strata) or "ranking": "global"'
    else:
        fewer = max(1, int(rows.sum() if len(rows) else n_rows) // MIN_STRATUM_ROWS)  # over the stratified rows
        fix = f'use fewer strata ("bins": {fewer} or less gives {MIN_STRATUM_ROWS}+ rows each) or "ranking": "global"'
    if n_selected == 0:
        notes.append(f"the recipe keeps 0 of {n_rows} rows: {_why_empty(recipe, small, fix)}")
    if small is not None and isinstance(recipe, StratifiedRecipe):
        notes.append(
            f"the smallest of the {len(rows)} strata of {recipe.stratify_model} has {small} rows "
            f"(fewer than {MIN_STRATUM_ROWS}), so its ranks move in steps of {1 / small:.0%}; {fix}"
        )
    if isinstance(recipe, StratifiedRecipe) and recipe.boundaries is not None:
        present = set(counts["stratum"].dropna().astype(int))
        empty = [k for k in range(recipe.n_strata) if k not in present]
        if empty:
            notes.append(
                f"{len(empty)} of the {recipe.n_strata} strata of {recipe.stratify_model} hold no row "
                f"(stratum {', '.join(map(str, empty))}): the 'boundaries' {list(recipe.boundaries)} are "
                "log PPL(Q) (nats per token); check them against the range of its nll_q"
            )
    return notes


def dedup_counts(selected: pd.DataFrame) -> dict[str, int] | None:
    """How a recipe's ``dedup`` thinned the rows: ``groups`` of near-duplicates, ``rows_in_groups``,
    and ``dropped`` (rows in a group that it did not keep); None without dedup columns.

    Args:
        selected: the output of :func:`qaq.select.selection.select`.
    """
    if KEPT_COLUMN not in selected.columns:
        return None
    group = selected[GROUP_COLUMN]
    return {
        "groups": int(group.nunique(dropna=True)),
        "rows_in_groups": int(group.notna().sum()),
        "dropped": int((~selected[KEPT_COLUMN].astype(bool)).sum()),
    }


def dedup_summary(selected: pd.DataFrame, recipe: Recipe) -> str | None:
    """One sentence on what the recipe's ``dedup`` dropped; None when it has none.

    Args:
        selected: the output of :func:`qaq.select.selection.select`.
        recipe: the recipe that produced it.
    """
    counts = dedup_counts(selected)
    if recipe.dedup is None or counts is None:
        return None
    d = recipe.dedup
    return (
        f"dedup dropped {counts['dropped']} of {len(selected)} rows before the rule: "
        f"{counts['rows_in_groups']} rows in {counts['groups']} groups of near-duplicates "
        f"(cosine >= {d.threshold:g} of {d.model}'s {d.span} embeddings), keeping the "
        + ("highest RMI" if d.keep == "highest_rmi" else "first row")
        + " of each"
    )

"""Applying a selection recipe to a scored table, and what to report about the result.

:func:`select` adds the boolean ``selected`` column a :class:`~qaq.select.recipes.Recipe` asks
for (the recipe format and every decision it encodes are in :mod:`qaq.select.recipes`);
:func:`stratum_counts` and :func:`selection_notes` say how the kept rows spread over the PPL(Q)
strata and what to fix before trusting them; :func:`attach_scores` joins a score table onto
the dataset it was computed from, which :func:`select` then reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qaq.columns import QA_HASH, score_column, scored_models
from qaq.io.datasets import hash_id
from qaq.select.recipes import (
    BUDGET_METHODS,
    PAIR_SCORE,
    Recipe,
    RecipeError,
    _some,
    budget_count,
    parse_recipe,
)
from qaq.select.strata import add_disagreement, add_ranks, add_strata, row_order


def select(df: pd.DataFrame, recipe: Recipe | Mapping[str, Any] | str | Path) -> pd.DataFrame:
    """Apply a recipe to a scored table.

    Args:
        df: the qaq table (columns per :mod:`qaq.columns`); needs ``id`` for include/exclude.
        recipe: a :class:`Recipe` or anything :func:`parse_recipe` takes.

    Returns:
        A copy of ``df`` with a boolean ``selected`` column and the columns the rule used:
        ``NAME_rank`` (+ ``NAME_stratum`` when stratified) for ``rmi_band``; both models' ranks,
        ``diff`` and ``sum`` for ``diff_*``/``sum_*``; the stratify model's ``NAME_stratum``
        with a per-stratum quota.

    Raises:
        RecipeError: bad recipe, a model the table has no scores for, an included id that is
            not in the table or cannot be selected.
    """
    r = recipe if isinstance(recipe, Recipe) else parse_recipe(recipe)
    _check_table(df, r)
    order = row_order(df)
    out = df.copy(deep=False)  # copy-on-write: new columns never reach the caller's frame
    eligible = _not_skipped(df)

    key: np.ndarray | None = None  # the rule's score; NaN = cannot be selected
    if r.method == "rmi_band":
        assert r.model is not None, "parse_recipe requires 'model' for rmi_band"
        out = add_ranks(out, r.model, ranking=r.ranking, bins=r.bins)
        key = out[score_column(r.model, "rank")].to_numpy(dtype=np.float64, na_value=np.nan)
    elif r.method in BUDGET_METHODS:
        assert r.strong is not None and r.weak is not None, "parse_recipe requires 'strong' and 'weak' for diff/sum"
        out = add_disagreement(out, strong=r.strong, weak=r.weak, ranking=r.ranking, bins=r.bins)
        key = out[PAIR_SCORE[r.method]].to_numpy(dtype=np.float64, na_value=np.nan)
    elif r.method == "ifd":
        assert r.model is not None, "parse_recipe requires 'model' for ifd"
        key = out[score_column(r.model, "ifd")].to_numpy(dtype=np.float64, na_value=np.nan)
        eligible &= ~(key > 1.0)  # Cherry's rule: IFD > 1 means the query does not help
    else:  # random: rows every scored model has an RMI for
        for m in scored_models(df.columns):
            eligible &= df[score_column(m, "rmi")].notna().to_numpy()
    if key is not None:
        eligible &= ~np.isnan(key)

    included, excluded = _id_masks(df, r)
    bad = df.loc[included & ~eligible, "id"].astype(str).tolist() if r.include else []
    if bad:
        raise RecipeError(f"'include' lists rows that cannot be selected (skipped or not scored): {_some(bad)}")
    cand = eligible & ~excluded

    chosen = np.zeros(len(df), dtype=bool)
    if r.method == "rmi_band":
        assert key is not None and r.lo is not None and r.hi is not None, "rmi_band: ranked above, lo/hi parsed"
        chosen = cand & (key > r.lo) & (key <= r.hi)
    elif r.threshold is not None:
        assert key is not None, "a threshold is parsed for the diff/sum arms only, which set the key above"
        chosen = cand & ((key > r.threshold) if r.method.endswith("_high") else (key < r.threshold))
    elif r.method == "random":
        rows = np.flatnonzero(cand)
        rows = rows[np.argsort(order[rows], kind="stable")]  # source order: same draw every time
        assert r.budget is not None, "parse_recipe requires 'budget' for random"
        k = min(budget_count(r.budget, len(df)), len(rows))
        chosen[rows[np.random.default_rng(r.seed).permutation(len(rows))[:k]]] = True
    else:
        assert key is not None and r.budget is not None, "the budget arms (diff/sum, ifd) set the key and a budget"
        asc = key if r.method.endswith("_low") else -key  # ascending: best first
        k = budget_count(r.budget, len(df))
        if not r.per_stratum_quota:
            chosen[_top_k(asc, np.flatnonzero(cand), order, k)] = True
        else:
            strat_model = r.stratify_model
            assert strat_model is not None, "the budget arms have a strong model (diff/sum) or a model (ifd)"
            col = score_column(strat_model, "stratum")
            if not (r.method in BUDGET_METHODS and r.ranking == "stratified"):  # else just added
                out = add_strata(out, strat_model, bins=r.bins)
            codes = out[col].to_numpy(dtype=np.int64, na_value=-1)
            cand &= codes >= 0
            strata = np.unique(codes[cand])
            n_strata = max(len(strata), 1)
            quota = np.full(len(strata), k // n_strata, dtype=np.int64)
            quota[: k % n_strata] += 1  # the remainder goes to the lowest-PPL(Q) strata
            for s, q in zip(strata, quota, strict=True):  # a loop over strata, not rows
                chosen[_top_k(asc, np.flatnonzero(cand & (codes == s)), order, int(q))] = True

    out["selected"] = chosen | included
    return out


def _top_k(key: np.ndarray, rows: np.ndarray, order: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` rows with the smallest ``(key, order)``, in O(n) (a partition, not a sort)."""
    if k >= len(rows):
        return rows
    if k <= 0:
        return rows[:0]
    kv = key[rows]
    edge = np.partition(kv, k - 1)[k - 1]
    better = rows[kv < edge]
    ties = rows[kv == edge]
    ties = ties[np.argsort(order[ties], kind="stable")][: k - len(better)]
    return np.concatenate([better, ties])


def _check_table(df: pd.DataFrame, r: Recipe) -> None:
    models = scored_models(df.columns)
    for m in r.models:
        if m not in models:
            have = ", ".join(models) if models else "none"
            raise RecipeError(f"unknown model {m!r}; the table has scores for: {have}")
    if r.method == "ifd":
        assert r.model is not None, "parse_recipe requires 'model' for ifd"
        if score_column(r.model, "ifd") not in df.columns:
            raise RecipeError(f"model {r.model!r} has no IFD scores (column {score_column(r.model, 'ifd')!r})")
    if (r.include or r.exclude) and "id" not in df.columns:
        raise RecipeError("'include'/'exclude' need an 'id' column in the table")


def _not_skipped(df: pd.DataFrame) -> np.ndarray:
    if "skip" not in df.columns:
        return np.ones(len(df), dtype=bool)
    skip = df["skip"]
    return (skip.isna() | (skip.astype("string") == "")).to_numpy(dtype=bool, na_value=True)


def _id_masks(df: pd.DataFrame, r: Recipe) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the rows whose id is in ``include`` / ``exclude``."""
    if not (r.include or r.exclude):
        none = np.zeros(len(df), dtype=bool)
        return none, none
    ids = df["id"].astype(str)
    absent = sorted(set(r.include) - set(ids[ids.isin(r.include)]))
    if absent:
        raise RecipeError(f"'include' lists id(s) not in the table: {_some(absent)}")
    return ids.isin(r.include).to_numpy(), ids.isin(r.exclude).to_numpy()


def stratum_counts(selected: pd.DataFrame, recipe: Recipe) -> pd.DataFrame:
    """Rows and selected rows per stratum of the recipe's stratify model.

    Args:
        selected: the output of :func:`select`.
        recipe: the recipe that produced it.

    Returns:
        Columns ``stratum`` (Int64; ``<NA>`` gathers rows without one), ``rows`` and
        ``selected``, strata ascending; no lines for ``random``.
    """
    m = recipe.stratify_model
    if m is None:
        return pd.DataFrame(
            {"stratum": pd.array([], dtype="Int64"), "rows": np.zeros(0, np.int64), "selected": np.zeros(0, np.int64)}
        )
    col = score_column(m, "stratum")
    strata = selected[col] if col in selected.columns else add_strata(selected, m, bins=recipe.bins)[col]
    t = pd.DataFrame({"stratum": strata.astype("Int64"), "sel": selected["selected"].astype(bool)})
    g = t.groupby("stratum", dropna=False, sort=True)["sel"]
    res = pd.DataFrame({"rows": g.size().astype("int64"), "selected": g.sum().astype("int64")})
    return res.rename_axis("stratum").reset_index()


# Below this many rows a stratum's ranks move in steps of 5% or more, so a band or a quota inside
# it keeps few rows or none: a recipe that ranks or splits by such strata gets a note.
MIN_STRATUM_ROWS = 20


def selection_notes(counts: pd.DataFrame, recipe: Recipe, *, n_rows: int, n_selected: int) -> list[str]:
    """What a user should know about a selection before trusting it, each with the fix.

    Args:
        counts: :func:`stratum_counts` of the selection.
        recipe: the recipe that produced it.
        n_rows: rows in the table.
        n_selected: rows it keeps.

    Returns:
        Zero or more sentences: an empty selection (and why, where it can be told), and strata
        with fewer than :data:`MIN_STRATUM_ROWS` rows when the recipe ranks or splits within them.
    """
    notes: list[str] = []
    by_strata = recipe.stratify_model is not None and (
        (recipe.ranking == "stratified" and recipe.method != "ifd") or recipe.per_stratum_quota
    )
    rows = counts.loc[counts["stratum"].notna(), "rows"] if by_strata else pd.Series(dtype="int64")
    small = int(rows.min()) if len(rows) and rows.min() < MIN_STRATUM_ROWS else None
    fewer = max(1, int(rows.sum() if len(rows) else n_rows) // MIN_STRATUM_ROWS)  # over the stratified rows
    fix = f'use fewer strata ("bins": {fewer} or less gives {MIN_STRATUM_ROWS}+ rows each) or "ranking": "global"'
    if n_selected == 0:
        if recipe.method == "rmi_band" and small is not None:
            why = (
                f"with strata of {small} rows, the ranks within a stratum take only a few values and "
                f"none falls in ({recipe.lo:g}, {recipe.hi:g}]; {fix}"
            )
        elif recipe.threshold is not None:
            side = ">" if recipe.method.endswith("_high") else "<"
            why = f"no row has {recipe.method.split('_')[0]} {side} {recipe.threshold:g}; move the threshold"
        elif recipe.method == "rmi_band":
            why = f"no row's RMI rank falls in ({recipe.lo:g}, {recipe.hi:g}]; widen the band"
        else:
            why = "no row can be selected (skipped, unscored, or excluded)"
        notes.append(f"the recipe keeps 0 of {n_rows} rows: {why}")
    if small is not None:
        notes.append(
            f"the smallest of the {len(rows)} strata of {recipe.stratify_model} has {small} rows "
            f"(fewer than {MIN_STRATUM_ROWS}), so its ranks move in steps of {1 / small:.0%}; {fix}"
        )
    return notes


def attach_scores(data: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Join a qaq score table onto the loaded dataset it was computed from, on ``id``.

    Args:
        data: the dataset (:func:`qaq.io.datasets.load_dataset`), whose ``row`` locates each record.
        scores: a score table (``id`` + score columns), as :func:`qaq.io.scorefile.load_scores` reads it.

    Returns:
        ``data`` (its order, columns and ``attrs``) with the score columns; a data column with a
        score column's name is replaced.

    Raises:
        ValueError: no ``id`` column, repeated ids, ids that are not the same set on both
            sides (the message counts and shows a few of each), or rows whose Q or A differ from
            what was scored (the score table's ``qa_hash``; line endings, a BOM or another file
            format do not change it).
    """
    for name, t in (("scores", scores), ("data", data)):
        if "id" not in t.columns:
            raise ValueError(f"the {name} table has no 'id' column")
        dup = t["id"][t["id"].duplicated()]
        if len(dup):
            raise ValueError(f"the {name} table repeats ids, e.g. {dup.iloc[0]!r}")
    s_ids, d_ids = set(scores["id"].astype(str)), set(data["id"].astype(str))
    if s_ids != d_ids:
        parts = [
            f"{len(x)} only in the {name} (e.g. {', '.join(map(repr, x[:3]))})"
            for name, x in (("scores", sorted(s_ids - d_ids)), ("data", sorted(d_ids - s_ids)))
            if x
        ]
        raise ValueError("the ids of the scores and the data do not match: " + "; ".join(parts))
    if QA_HASH in scores.columns:
        _check_texts(data, scores)
        scores = scores.drop(columns=[QA_HASH])
    extra = [c for c in scores.columns if c != "id"]
    left = data.drop(columns=[c for c in extra if c in data.columns])
    right = scores.assign(id=scores["id"].astype(str))
    out = left.assign(id=left["id"].astype(str)).merge(right, on="id", how="left", validate="one_to_one")
    out["id"] = out["id"].astype(data["id"].dtype)
    out.index = data.index
    out.attrs = dict(data.attrs)
    return out


def _check_texts(data: pd.DataFrame, scores: pd.DataFrame) -> None:
    """Raise ValueError naming the rows whose text is not the text their scores were computed from."""
    scored = dict(zip(scores["id"].astype(str), scores[QA_HASH].astype(str)))
    now = [hash_id(q, a) for q, a in zip(data["query"].tolist(), data["answer"].tolist())]
    changed = [i for i, (row_id, h) in enumerate(zip(data["id"].astype(str), now)) if scored.get(row_id) != h]
    if changed:
        lines = data["line"].tolist() if "line" in data.columns else [None] * len(data)
        ids = data["id"].astype(str).tolist()
        shown = ", ".join(f"{ids[i]!r}" + (f" (line {lines[i]})" if lines[i] is not None else "") for i in changed[:5])
        raise ValueError(
            f"{len(changed)} of {len(data)} rows have another query or answer than when they were "
            f"scored, e.g. {shown}: rows are matched on id, so these scores belong to other text. "
            "Give the data file that was scored, or score this one again (qaq score takes the "
            "unchanged rows from its cache)"
        )

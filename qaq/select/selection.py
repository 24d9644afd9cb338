"""Applying a selection recipe to a scored table.

:func:`select` adds the boolean ``selected`` column a :class:`~qaq.select.recipes.Recipe` asks
for (the recipe format and every decision it encodes are in :mod:`qaq.select.recipes`);
:func:`attach_scores` joins a score table onto the dataset it was computed from, which
:func:`select` then reads. What to report about the result (counts per PPL(Q) stratum, notes
with their fixes) is :mod:`qaq.select.selection_report`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qaq.columns import QA_HASH, score_column, scored_models
from qaq.io.pairs import pair_hashes
from qaq.select.dedup import KEPT_COLUMN, dedup_columns
from qaq.select.disagreement import add_disagreement
from qaq.select.flags import flag_table, flag_text_columns
from qaq.select.recipe_parsing import as_recipe
from qaq.select.recipes import (
    AnyRecipe,
    BandRecipe,
    BudgetRecipe,
    IfdRecipe,
    PairBudgetRecipe,
    PairRecipe,
    PairThresholdRecipe,
    RandomRecipe,
    Recipe,
    RecipeError,
    _some,
    budget_count,
)
from qaq.select.strata import add_ranks, add_strata, row_order

if TYPE_CHECKING:
    from qaq.io.embeddingfile import Embeddings


def select(
    df: pd.DataFrame, recipe: Recipe | Mapping[str, Any] | str | Path, *, embeddings: Embeddings | None = None
) -> pd.DataFrame:
    """Apply a recipe to a scored table.

    Args:
        df: the qaq table (columns per :mod:`qaq.columns`); needs ``id`` for include/exclude
            and dedup, ``query`` and ``answer`` for the text flags of ``exclude_flags``.
        recipe: a parsed recipe (:func:`qaq.select.recipe_parsing.parse_recipe`) or anything it takes.
        embeddings: the rows' embeddings (:func:`qaq.io.embeddingfile.load_embeddings`, the
            same ids as ``df`` in any order), read only by a recipe's ``dedup``.

    Returns:
        A copy of ``df`` with a boolean ``selected`` column and the columns the rule used:
        ``NAME_rank`` (+ ``NAME_stratum`` when stratified) for ``rmi_band``; both models' ranks,
        ``diff`` and ``sum`` for ``diff_*``/``sum_*``; the stratify model's ``NAME_stratum``
        with a per-stratum quota; ``dedup_group`` and ``dedup_kept``
        (:mod:`qaq.select.dedup`) with a ``dedup``.

    Raises:
        RecipeError: bad recipe, a model the table has no scores for, an included id that is
            not in the table or cannot be selected, flags without the text columns they read,
            a ``dedup`` without embeddings (or without the model's).
        ValueError: the embeddings' ids are not the table's.
    """
    r = as_recipe(recipe)
    _check_table(df, r)
    order = row_order(df)
    out = df.copy(deep=False)  # copy-on-write: new columns never reach the caller's frame
    if r.dedup is not None:  # first: its errors come before any other work
        for name, column in dedup_columns(df, r.dedup, embeddings).items():
            out[name] = column
    eligible = _not_skipped(df)
    key: np.ndarray | None = None  # the rule's score; NaN = cannot be selected
    if isinstance(r, RandomRecipe):
        for m in scored_models(df.columns):  # rows every scored model has an RMI for
            eligible &= df[score_column(m, "rmi")].notna().to_numpy()
    else:
        out, key = _rule_key(out, r)
        eligible &= ~np.isnan(key)
        if isinstance(r, IfdRecipe):
            eligible &= ~(key > 1.0)  # Cherry's rule: IFD > 1 means the query does not help

    included, excluded = _id_masks(df, r)
    bad = df.loc[included & ~eligible, "id"].astype(str).tolist() if r.include else []
    if bad:
        raise RecipeError(f"'include' lists rows that cannot be selected (skipped or not scored): {_some(bad)}")
    cand = eligible & ~excluded
    if r.dedup is not None:  # the near-duplicates not kept leave like excluded rows
        cand &= out[KEPT_COLUMN].to_numpy(dtype=bool)
    flags = _RowFlags(df, r)  # exclude_flags, computed only for the rows the rule reaches

    if isinstance(r, RandomRecipe):
        chosen = _random_pick(cand, order, r, flags)
    else:
        assert key is not None, "every recipe but random has a key (set above)"
        out, chosen = _apply_rule(out, r, key, cand, order, flags)
    out["selected"] = chosen | included
    return out


class _RowFlags:
    """Whether rows raise one of the recipe's ``exclude_flags``, computed once per row when asked.

    The text flags cost up to a tenth of a millisecond a row, so :func:`select` asks only about
    the rows its rule would keep (a band, a threshold) or pick (a budget, refilled past flagged
    rows): the same rows come out as when every flagged row is excluded first.
    """

    def __init__(self, df: pd.DataFrame, r: Recipe) -> None:
        self._df, self._names, self._models = df, r.exclude_flags, _flag_models(df, r)
        self._known = np.zeros(len(df), dtype=bool)
        self._flagged = np.zeros(len(df), dtype=bool)

    def of(self, rows: np.ndarray) -> np.ndarray:
        """One bool per row of ``rows`` (positions): it raises a flag."""
        if not self._names:
            return np.zeros(len(rows), dtype=bool)
        todo = rows[~self._known[rows]]
        if len(todo):
            table = flag_table(self._df.iloc[todo], models=self._models, flags=self._names)
            self._flagged[todo] = table.to_numpy(dtype=bool).any(axis=1)
            self._known[todo] = True
        return self._flagged[rows]

    def drop(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` without the ones that raise a flag."""
        return rows[~self.of(rows)]

    def top_k(self, key: np.ndarray, rows: np.ndarray, order: np.ndarray, k: int) -> np.ndarray:
        """:func:`_top_k` of the rows that raise no flag, checking only the rows it picks."""
        while True:
            pick = _top_k(key, rows, order, k)
            bad = self.of(pick)
            if not bad.any():
                return pick
            rows = rows[~(self._known[rows] & self._flagged[rows])]  # drop what is known flagged, pick again


def _rule_key(out: pd.DataFrame, r: BandRecipe | PairRecipe | IfdRecipe) -> tuple[pd.DataFrame, np.ndarray]:
    """The table with the columns the rule ranks by, and its score per row (NaN: none)."""
    if isinstance(r, BandRecipe):
        out = add_ranks(out, r.model, ranking=r.ranking, bins=r.quantile_bins, boundaries=r.boundaries)
        column = score_column(r.model, "rank")
    elif isinstance(r, PairRecipe):
        out = add_disagreement(
            out, strong=r.strong, weak=r.weak, ranking=r.ranking, bins=r.quantile_bins, boundaries=r.boundaries
        )
        column = r.score
    else:
        column = score_column(r.model, "ifd")
    return out, out[column].to_numpy(dtype=np.float64, na_value=np.nan)


def _apply_rule(
    out: pd.DataFrame, r: AnyRecipe, key: np.ndarray, cand: np.ndarray, order: np.ndarray, flags: _RowFlags
) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows the rule keeps among the unflagged candidates (and the table, with strata when it added them)."""
    chosen = np.zeros(len(out), dtype=bool)
    if isinstance(r, (BandRecipe, PairThresholdRecipe)):  # each row on its own: drop the flagged ones kept
        if isinstance(r, BandRecipe):
            keep = (key > r.lo) & (key <= r.hi)
        else:
            keep = (key > r.threshold) if r.keeps_high else (key < r.threshold)
        chosen[flags.drop(np.flatnonzero(cand & keep))] = True
        return out, chosen
    assert isinstance(r, (PairBudgetRecipe, IfdRecipe)), "random is drawn by _random_pick"
    asc = -key if isinstance(r, IfdRecipe) or r.keeps_high else key  # ascending: best first
    k = budget_count(r.budget, len(out))
    if not r.per_stratum_quota:
        chosen[flags.top_k(asc, np.flatnonzero(cand), order, k)] = True
        return out, chosen
    return _quota_pick(out, r, asc, cand, order, k, flags)


def _quota_pick(
    out: pd.DataFrame,
    r: BudgetRecipe,
    asc: np.ndarray,
    cand: np.ndarray,
    order: np.ndarray,
    k: int,
    flags: _RowFlags,
) -> tuple[pd.DataFrame, np.ndarray]:
    """``k`` rows split equally over the strata of the stratify model that hold unflagged candidates."""
    col = score_column(r.stratify_model, "stratum")
    if not (isinstance(r, PairRecipe) and r.ranking == "stratified"):  # else add_disagreement added it
        out = add_strata(out, r.stratify_model, bins=r.quantile_bins, boundaries=r.boundaries)
    codes = out[col].to_numpy(dtype=np.int64, na_value=-1)
    cand = cand & (codes >= 0)
    by_stratum = {int(s): np.flatnonzero(cand & (codes == s)) for s in np.unique(codes[cand])}
    strata = [s for s, rows in by_stratum.items() if len(flags.top_k(asc, rows, order, 1))]  # holds a pick
    n_strata = max(len(strata), 1)
    quota = np.full(len(strata), k // n_strata, dtype=np.int64)
    quota[: k % n_strata] += 1  # the remainder goes to the lowest-PPL(Q) strata
    chosen = np.zeros(len(out), dtype=bool)
    for s, q in zip(strata, quota, strict=True):  # a loop over strata, not rows
        chosen[flags.top_k(asc, by_stratum[s], order, int(q))] = True
    return out, chosen


def _random_pick(cand: np.ndarray, order: np.ndarray, r: RandomRecipe, flags: _RowFlags) -> np.ndarray:
    """A seeded uniform draw of the budget among the unflagged candidates, in source order."""
    rows = flags.drop(np.flatnonzero(cand))  # the draw depends on every candidate: all are checked
    rows = rows[np.argsort(order[rows], kind="stable")]  # source order: same draw every time
    k = min(budget_count(r.budget, len(cand)), len(rows))
    chosen = np.zeros(len(cand), dtype=bool)
    chosen[rows[np.random.default_rng(r.seed).permutation(len(rows))[:k]]] = True
    return chosen


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


def _flag_models(df: pd.DataFrame, r: Recipe) -> list[str]:
    """The models whose scores raise the model flags: the recipe's (random: every scored model)."""
    return scored_models(df.columns) if isinstance(r, RandomRecipe) else list(r.models)


def _check_table(df: pd.DataFrame, r: Recipe) -> None:
    models = scored_models(df.columns)
    for m in r.models:
        if m not in models:
            have = ", ".join(models) if models else "none"
            raise RecipeError(f"unknown model {m!r}; the table has scores for: {have}")
    if isinstance(r, IfdRecipe) and score_column(r.model, "ifd") not in df.columns:
        raise RecipeError(f"model {r.model!r} has no IFD scores (column {score_column(r.model, 'ifd')!r})")
    if (r.include or r.exclude) and "id" not in df.columns:
        raise RecipeError("'include'/'exclude' need an 'id' column in the table")
    text = [c for c in flag_text_columns(r.exclude_flags) if c not in df.columns]
    if text:
        raise RecipeError(
            f"'exclude_flags' {', '.join(map(repr, r.exclude_flags))} need the text column(s) "
            f"{', '.join(map(repr, text))}, which this table does not have (give the data the scores belong to)"
        )


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
    import pyarrow as pa
    import pyarrow.compute as pc

    for name, t in (("scores", scores), ("data", data)):
        if "id" not in t.columns:
            raise ValueError(f"the {name} table has no 'id' column")
    # String ids on both sides are matched in one hash pass. When every data row finds a score
    # row and no score row is found twice or never, both sides are unique and the same set (the
    # checks below would pass) and the join is a take; otherwise the checks say what is wrong.
    rows: np.ndarray | None = None
    d_id, s_id = data["id"], scores["id"]
    if isinstance(d_id.dtype, pd.StringDtype) and isinstance(s_id.dtype, pd.StringDtype) and len(d_id) == len(s_id):
        try:
            found = pc.index_in(pa.array(d_id.array), value_set=pa.array(s_id.array), skip_nulls=True)
        except pa.ArrowException:  # e.g. string and large_string: the checks below decide
            found = None
        if found is not None and found.null_count == 0:
            rows = np.asarray(found, dtype=np.int64)  # (n,) the score row of each data row
            if not (np.bincount(rows, minlength=len(s_id)) > 0).all():
                rows = None
    if rows is None:
        for name, t in (("scores", scores), ("data", data)):
            dup = t["id"][t["id"].duplicated()]
            if len(dup):
                raise ValueError(f"the {name} table repeats ids, e.g. {dup.iloc[0]!r}")
        s_ids, d_ids = set(scores["id"].astype(str).tolist()), set(data["id"].astype(str).tolist())
        if s_ids != d_ids:
            parts = [
                f"{len(x)} only in the {name} (e.g. {', '.join(map(repr, x[:3]))})"
                for name, x in (("scores", sorted(s_ids - d_ids)), ("data", sorted(d_ids - s_ids)))
                if x
            ]
            raise ValueError("the ids of the scores and the data do not match: " + "; ".join(parts))
    if QA_HASH in scores.columns:
        _check_texts(data, scores, rows)
        scores = scores.drop(columns=[QA_HASH])
    extra = [c for c in scores.columns if c != "id"]
    left = data.drop(columns=[c for c in extra if c in data.columns])
    if rows is not None:
        out = pd.concat([left, scores[extra].take(rows).set_axis(data.index)], axis=1)
    else:
        right = scores.assign(id=scores["id"].astype(str))
        out = left.assign(id=left["id"].astype(str)).merge(right, on="id", how="left", validate="one_to_one")
        out["id"] = out["id"].astype(data["id"].dtype)
        out.index = data.index
    out.attrs = dict(data.attrs)
    return out


def _check_texts(data: pd.DataFrame, scores: pd.DataFrame, rows: np.ndarray | None = None) -> None:
    """Raise ValueError naming the rows whose text is not the text their scores were computed from.

    ``rows``: the score row of each data row, when known; else rows are matched on ``id``.
    """
    hashes = scores[QA_HASH].astype(str).tolist()
    if rows is None:
        scored = dict(zip(scores["id"].astype(str).tolist(), hashes))
        expected = [scored.get(row_id) for row_id in data["id"].astype(str).tolist()]
    else:
        expected = [hashes[r] for r in rows.tolist()]
    now = pair_hashes(data["query"].tolist(), data["answer"].tolist())
    changed = [i for i, (e, h) in enumerate(zip(expected, now)) if e != h]
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

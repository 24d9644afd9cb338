"""Selection recipes: small JSON specs, parsed once, applied to a scored table.

A recipe names one selection arm of the QAQ paper (METHOD.md section 4)::

    {"method": "rmi_band", "model": M, "lo": 0.5, "hi": 0.75, "ranking": "stratified", "bins": 10}
    {"method": "diff_high", "strong": S, "weak": W, "budget": 0.25, "ranking": "stratified"}
    {"method": "diff_low" | "sum_high" | "sum_low", ...same keys...}
    {"method": "diff_high", "strong": S, "weak": W, "threshold": 0.1}
    {"method": "ifd", "model": M, "budget": 0.25}
    {"method": "random", "budget": 0.25, "seed": 0}

Semantics (the decisions, in one place):

- **Ranks** are :mod:`qaq.select.strata` ranks in (0, 1]: ``rank(pct=True)`` over the table
  (``"global"``) or within each of ``bins`` quantile strata of the model's own PPL(Q)
  (``"stratified"``, the default).
- **rmi_band** keeps ``lo < NAME_rank <= hi`` (half-open, so adjacent bands partition the rows).
  Stratified, every stratum keeps the same share.
- **diff_* / sum_*** use ``diff = r_strong - r_weak`` and ``sum = r_strong + r_weak``. With a
  ``budget``, ``*_high`` keeps the largest values and ``*_low`` the smallest. With a
  ``threshold`` t instead: ``diff_high`` keeps ``diff > t``, ``diff_low`` keeps ``diff < t``,
  ``sum_high`` keeps ``sum > t``, ``sum_low`` keeps ``sum < t`` (strict).
- **ifd** (Cherry LLM's rule): drops rows with ``IFD > 1`` or no IFD, keeps the highest IFD.
- **random**: a seeded uniform sample (numpy ``default_rng(seed)``) of the scored rows.
- **budget**: a number in (0, 1] is a fraction of *all* rows of the table, scored or not,
  rounded down: ``int(len(table) * budget)``, exactly as the authors' README does
  (``int(len(df) * 0.25)``); above 1 it is a row count and must be a whole number. Fewer rows
  are kept when fewer are eligible.
- **ties** (equal keys at the budget's edge, equal PPL(Q) at a stratum edge) are broken by
  source row order (the ``row`` column, else frame order): the earlier row wins. This is what
  the authors' ``df.nlargest(k, "diff")`` does (``keep="first"``), so their recipe,
  ``{"method": "diff_high", "ranking": "global", "budget": 0.25}``, reproduces their ids.
- **per_stratum_quota** (budget arms ``diff_*``, ``sum_*``, ``ifd``): the budget is split
  equally over the strata of the strong model's (``ifd``: the model's) PPL(Q) that hold eligible
  rows; the first ``budget % S`` strata (lowest PPL(Q)) get one more; a stratum short of rows
  keeps what it has (no carry-over).
- **eligible rows**: rows with a non-empty ``skip`` or a missing score used by the rule are never
  selected; ``random`` samples rows whose every scored model has an RMI.
- **include / exclude** (lists of ids) win over the rule: excluded rows are taken out before the
  rule fills its budget, included rows are added on top of it. An included id must exist and be
  eligible; excluded ids absent from the table are ignored (a shared blocklist).
- A manifest written by :func:`qaq.io.export.write_manifest` is accepted as a recipe: the recipe
  under its ``"recipe"`` key is used.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Mapping

import numpy as np
import pandas as pd

from qaq.columns import QA_HASH, score_column, scored_models
from qaq.io.datasets import hash_id
from qaq.select.strata import RANKINGS, add_disagreement, add_ranks, add_strata, row_order

BUDGET_METHODS: tuple[str, ...] = ("diff_high", "diff_low", "sum_high", "sum_low")
METHODS: tuple[str, ...] = ("rmi_band", *BUDGET_METHODS, "ifd", "random")

# Keys each method takes: (required, optional). "budget"/"threshold" is handled on its own.
_COMMON = ("include", "exclude")
_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rmi_band": (("model", "lo", "hi"), ("ranking", "bins")),
    **{
        m: (("strong", "weak"), ("budget", "threshold", "ranking", "bins", "per_stratum_quota"))
        for m in BUDGET_METHODS
    },
    "ifd": (("model", "budget"), ("bins", "per_stratum_quota")),
    "random": (("budget",), ("seed",)),
}


class RecipeError(ValueError):
    """A recipe that cannot be applied; the message says what to change."""


@dataclass(frozen=True)
class Recipe:
    """A parsed selection recipe (see the module docstring for the semantics).

    Attributes:
        method: one of :data:`METHODS`.
        model: the scoring model (``rmi_band``, ``ifd``).
        strong: the strong model (``diff_*``, ``sum_*``).
        weak: the weak model (``diff_*``, ``sum_*``).
        lo: lower band edge, exclusive (``rmi_band``).
        hi: upper band edge, inclusive (``rmi_band``).
        ranking: ``"stratified"`` or ``"global"``.
        bins: number of PPL(Q) quantile strata.
        budget: a fraction in (0, 1] (float) or a row count (int); None with a threshold.
        threshold: keep rows beyond this diff/sum value instead of a budget.
        seed: the ``random`` arm's seed.
        per_stratum_quota: split the budget equally over strata.
        include: ids always selected.
        exclude: ids never selected.
    """

    method: str
    model: str | None = None
    strong: str | None = None
    weak: str | None = None
    lo: float | None = None
    hi: float | None = None
    ranking: str = "stratified"
    bins: int = 10
    budget: float | int | None = None
    threshold: float | None = None
    seed: int = 0
    per_stratum_quota: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def models(self) -> tuple[str, ...]:
        """The scoring models the recipe reads."""
        return tuple(m for m in (self.model, self.strong, self.weak) if m is not None)

    @property
    def stratify_model(self) -> str | None:
        """The model whose PPL(Q) strata the recipe reports and splits quotas by."""
        return self.strong if self.strong is not None else self.model


# --------------------------------------------------------------------------------------------
# parsing


def parse_recipe(spec: Mapping[str, Any] | str | Path) -> Recipe:
    """Parse and validate a recipe once.

    Args:
        spec: a mapping, a JSON text (starting with ``{``), or the path of a JSON file. A
            manifest (a mapping with a ``"recipe"`` mapping and no ``"method"``) is unwrapped.

    Returns:
        The frozen :class:`Recipe`.

    Raises:
        RecipeError: with one message naming the problem (unknown method or key, missing key,
            wrong type, lo >= hi, budget <= 0, ...). Models are checked against a table by
            :func:`select`.
    """
    data = _load_spec(spec)
    if "method" not in data and isinstance(data.get("recipe"), Mapping):
        data = data["recipe"]
    if "method" not in data:
        raise RecipeError(f"recipe has no 'method'; expected one of: {', '.join(METHODS)}")
    method = data["method"]
    if not isinstance(method, str) or method not in METHODS:
        raise RecipeError(f"unknown method {method!r}; expected one of: {', '.join(METHODS)}")
    required, optional = _KEYS[method]
    allowed = ("method", *required, *optional, *_COMMON)
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise RecipeError(
            f"unknown key(s) {', '.join(map(repr, unknown))} for method {method!r}; "
            f"allowed: {', '.join(allowed)}"
        )
    missing = [k for k in required if k not in data]
    if missing:
        raise RecipeError(f"method {method!r} needs key(s): {', '.join(map(repr, missing))}")

    fields: dict[str, Any] = {"method": method}
    for key in ("model", "strong", "weak"):
        if key in data:
            fields[key] = _string(data, key)
    if "ranking" in data:
        ranking = _string(data, "ranking")
        if ranking not in RANKINGS:
            raise RecipeError(f"'ranking' must be one of {', '.join(RANKINGS)}, got {ranking!r}")
        fields["ranking"] = ranking
    if "bins" in data:
        fields["bins"] = _integer(data, "bins", minimum=1)
    if "seed" in data:
        fields["seed"] = _integer(data, "seed", minimum=0)
    if "per_stratum_quota" in data:
        if not isinstance(data["per_stratum_quota"], bool):
            raise RecipeError(f"'per_stratum_quota' must be true or false, got {data['per_stratum_quota']!r}")
        fields["per_stratum_quota"] = data["per_stratum_quota"]
    for key in _COMMON:
        if key in data:
            fields[key] = _ids(data, key)

    if method == "rmi_band":
        lo, hi = _number(data, "lo"), _number(data, "hi")
        for key, v in (("lo", lo), ("hi", hi)):
            if not 0.0 <= v <= 1.0:
                raise RecipeError(f"'{key}' must be in [0, 1] (a rank), got {v!r}")
        if lo >= hi:
            raise RecipeError(f"'lo' ({lo!r}) must be below 'hi' ({hi!r})")
        fields.update(lo=lo, hi=hi)
    if method in BUDGET_METHODS:
        if fields.get("strong") == fields.get("weak"):
            raise RecipeError(f"'strong' and 'weak' must be different models, got {fields['strong']!r} twice")
        has_budget, has_threshold = "budget" in data, "threshold" in data
        if has_budget == has_threshold:
            raise RecipeError(f"method {method!r} needs exactly one of 'budget' or 'threshold'")
        if has_threshold:
            fields["threshold"] = _number(data, "threshold")
            if fields.get("per_stratum_quota"):
                raise RecipeError("'per_stratum_quota' needs a 'budget', not a 'threshold'")
    if "budget" in data:
        fields["budget"] = _budget(data["budget"])

    include, exclude = fields.get("include", ()), fields.get("exclude", ())
    both = sorted(set(include) & set(exclude))
    if both:
        raise RecipeError(f"id(s) in both 'include' and 'exclude': {_some(both)}")
    return Recipe(**fields)


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    """The recipe as a JSON-ready dict with every key its method reads (defaults filled in).

    ``parse_recipe(recipe_to_dict(r)) == r`` for every recipe.
    """
    required, optional = _KEYS[recipe.method]
    out: dict[str, Any] = {"method": recipe.method}
    for key in (*required, *optional, *_COMMON):
        value = getattr(recipe, key)
        if key in ("budget", "threshold") and value is None:
            continue
        if key == "per_stratum_quota" and recipe.threshold is not None:
            continue
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def _load_spec(spec: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    if isinstance(spec, Mapping):
        return spec
    if isinstance(spec, str) and spec.lstrip().startswith(("{", "[")):
        text, where = spec, "recipe"
    elif isinstance(spec, (str, Path)):
        path = Path(spec)
        try:
            text = path.read_text(encoding="utf-8-sig")  # a BOM is accepted, as in data files
        except FileNotFoundError:
            raise RecipeError(f"recipe file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise RecipeError(f"cannot read recipe file {path}: {e}") from None
        where = f"recipe file {path}"
    else:
        raise RecipeError(f"a recipe must be a dict, a JSON text or a path, got {type(spec).__name__}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise RecipeError(f"{where} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    if not isinstance(data, dict):
        kind = "a JSON array" if isinstance(data, list) else f"JSON {type(data).__name__}"
        raise RecipeError(f"{where} must be one JSON object such as "
                          f'{{"method": "diff_high", "strong": "S", "weak": "W", "budget": 0.25}}, got {kind}')
    return data


def _string(data: Mapping[str, Any], key: str) -> str:
    v = data[key]
    if not isinstance(v, str) or not v:
        raise RecipeError(f"'{key}' must be a non-empty string, got {v!r}")
    return v


def _number(data: Mapping[str, Any], key: str) -> float:
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise RecipeError(f"'{key}' must be a number, got {v!r}")
    return float(v)


def _integer(data: Mapping[str, Any], key: str, *, minimum: int) -> int:
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise RecipeError(f"'{key}' must be an integer, got {v!r}")
    if v < minimum:
        raise RecipeError(f"'{key}' must be >= {minimum}, got {v!r}")
    return v


def _budget(v: Any) -> float | int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise RecipeError(f"'budget' must be a number (a fraction in (0, 1] or a row count), got {v!r}")
    if v <= 0:
        raise RecipeError(f"'budget' must be > 0, got {v!r}")
    if v <= 1:
        return float(v)
    if float(v) != int(v):
        raise RecipeError(f"'budget' above 1 is a row count and must be a whole number, got {v!r}")
    return int(v)


def _ids(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    v = data[key]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise RecipeError(f"'{key}' must be a list of id strings, got {v!r:.80}")
    return tuple(dict.fromkeys(v))


def _some(items: list[str], k: int = 5) -> str:
    shown = ", ".join(map(repr, items[:k]))
    return shown + (f" (and {len(items) - k} more)" if len(items) > k else "")


# --------------------------------------------------------------------------------------------
# applying


def budget_count(budget: float | int, n_rows: int) -> int:
    """Rows a budget asks for: ``int(n_rows * budget)`` for a fraction, else the count.

    >>> budget_count(0.25, 10), budget_count(7, 10)
    (2, 7)
    """
    return int(n_rows * budget) if isinstance(budget, float) else int(budget)


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
        out = add_ranks(out, r.model, ranking=r.ranking, bins=r.bins)
        key = out[score_column(r.model, "rank")].to_numpy(dtype=np.float64, na_value=np.nan)
    elif r.method in BUDGET_METHODS:
        out = add_disagreement(out, strong=r.strong, weak=r.weak, ranking=r.ranking, bins=r.bins)
        key = out[r.method.split("_")[0]].to_numpy(dtype=np.float64, na_value=np.nan)
    elif r.method == "ifd":
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
        chosen = cand & (key > r.lo) & (key <= r.hi)
    elif r.threshold is not None:
        chosen = cand & ((key > r.threshold) if r.method.endswith("_high") else (key < r.threshold))
    elif r.method == "random":
        rows = np.flatnonzero(cand)
        rows = rows[np.argsort(order[rows], kind="stable")]  # source order: same draw every time
        k = min(budget_count(r.budget, len(df)), len(rows))
        chosen[rows[np.random.default_rng(r.seed).permutation(len(rows))[:k]]] = True
    else:
        asc = key if r.method.endswith("_low") else -key  # ascending: best first
        k = budget_count(r.budget, len(df))
        if not r.per_stratum_quota:
            chosen[_top_k(asc, np.flatnonzero(cand), order, k)] = True
        else:
            col = score_column(r.stratify_model, "stratum")
            if not (r.method in BUDGET_METHODS and r.ranking == "stratified"):  # else just added
                out = add_strata(out, r.stratify_model, bins=r.bins)
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
    if r.method == "ifd" and score_column(r.model, "ifd") not in df.columns:
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
        (recipe.ranking == "stratified" and recipe.method != "ifd") or recipe.per_stratum_quota)
    rows = counts.loc[counts["stratum"].notna(), "rows"] if by_strata else pd.Series(dtype="int64")
    small = int(rows.min()) if len(rows) and rows.min() < MIN_STRATUM_ROWS else None
    fewer = max(1, int(rows.sum() if len(rows) else n_rows) // MIN_STRATUM_ROWS)  # over the stratified rows
    fix = (f"use fewer strata (\"bins\": {fewer} or less gives {MIN_STRATUM_ROWS}+ rows each) or "
           "\"ranking\": \"global\"")
    if n_selected == 0:
        if recipe.method == "rmi_band" and small is not None:
            why = (f"with strata of {small} rows, the ranks within a stratum take only a few values and "
                   f"none falls in ({recipe.lo:g}, {recipe.hi:g}]; {fix}")
        elif recipe.threshold is not None:
            side = ">" if recipe.method.endswith("_high") else "<"
            why = f"no row has {recipe.method.split('_')[0]} {side} {recipe.threshold:g}; move the threshold"
        elif recipe.method == "rmi_band":
            why = f"no row's RMI rank falls in ({recipe.lo:g}, {recipe.hi:g}]; widen the band"
        else:
            why = "no row can be selected (skipped, unscored, or excluded)"
        notes.append(f"the recipe keeps 0 of {n_rows} rows: {why}")
    if small is not None:
        notes.append(f"the smallest of the {len(rows)} strata of {recipe.stratify_model} has {small} rows "
                     f"(fewer than {MIN_STRATUM_ROWS}), so its ranks move in steps of {1 / small:.0%}; {fix}")
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
        raise ValueError(f"{len(changed)} of {len(data)} rows have another query or answer than when they were "
                         f"scored, e.g. {shown}: rows are matched on id, so these scores belong to other text. "
                         "Give the data file that was scored, or score this one again (qaq score takes the "
                         "unchanged rows from its cache)")

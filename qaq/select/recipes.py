"""Selection recipes: small JSON specs, parsed and validated once.

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

:func:`qaq.select.selection.select` applies a recipe to a scored table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qaq.select.strata import DEFAULT_BINS, RANKINGS, Ranking

# The pair arms: method -> the column it ranks by (see qaq.select.strata.add_disagreement).
PAIR_SCORE: dict[str, str] = {"diff_high": "diff", "diff_low": "diff", "sum_high": "sum", "sum_low": "sum"}
BUDGET_METHODS: tuple[str, ...] = tuple(PAIR_SCORE)
METHODS: tuple[str, ...] = ("rmi_band", *BUDGET_METHODS, "ifd", "random")

# Keys each method takes: (required, optional). "budget"/"threshold" is handled on its own.
_COMMON = ("include", "exclude")
_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rmi_band": (("model", "lo", "hi"), ("ranking", "bins")),
    **{
        m: (("strong", "weak"), ("budget", "threshold", "ranking", "bins", "per_stratum_quota")) for m in BUDGET_METHODS
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
    ranking: Ranking = "stratified"
    bins: int = DEFAULT_BINS
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
            :func:`qaq.select.selection.select`.
    """
    data = _load_spec(spec)
    if "method" not in data and isinstance(data.get("recipe"), Mapping):
        data = data["recipe"]
    method = _check_keys(data)
    fields: dict[str, Any] = {"method": method, **_shared_fields(data)}
    if method == "rmi_band":
        fields.update(_band(data))
    if method in BUDGET_METHODS:
        fields.update(_pair_fields(data, method, fields))
    if "budget" in data:
        fields["budget"] = _budget(data["budget"])
    both = sorted(set(fields.get("include", ())) & set(fields.get("exclude", ())))
    if both:
        raise RecipeError(f"id(s) in both 'include' and 'exclude': {_some(both)}")
    return Recipe(**fields)


def _check_keys(data: Mapping[str, Any]) -> str:
    """The recipe's method, once it is known and the keys given are the ones it takes."""
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
            f"unknown key(s) {', '.join(map(repr, unknown))} for method {method!r}; allowed: {', '.join(allowed)}"
        )
    missing = [k for k in required if k not in data]
    if missing:
        raise RecipeError(f"method {method!r} needs key(s): {', '.join(map(repr, missing))}")
    return method


def _shared_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The keys that mean the same for every method that takes them, typed and checked."""
    fields: dict[str, Any] = {}
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
    return fields


def _band(data: Mapping[str, Any]) -> dict[str, float]:
    """``lo`` and ``hi`` of an ``rmi_band`` recipe: ranks, lo below hi."""
    lo, hi = _number(data, "lo"), _number(data, "hi")
    for key, v in (("lo", lo), ("hi", hi)):
        if not 0.0 <= v <= 1.0:
            raise RecipeError(f"'{key}' must be in [0, 1] (a rank), got {v!r}")
    if lo >= hi:
        raise RecipeError(f"'lo' ({lo!r}) must be below 'hi' ({hi!r})")
    return {"lo": lo, "hi": hi}


def _pair_fields(data: Mapping[str, Any], method: str, fields: Mapping[str, Any]) -> dict[str, float]:
    """The ``threshold`` of a ``diff_*``/``sum_*`` recipe, if it has one instead of a budget.

    ``fields`` are the :func:`_shared_fields` already parsed (two distinct models, the quota flag).
    """
    if fields.get("strong") == fields.get("weak"):
        raise RecipeError(f"'strong' and 'weak' must be different models, got {fields['strong']!r} twice")
    has_budget, has_threshold = "budget" in data, "threshold" in data
    if has_budget == has_threshold:
        raise RecipeError(f"method {method!r} needs exactly one of 'budget' or 'threshold'")
    if not has_threshold:
        return {}
    threshold = _number(data, "threshold")
    if fields.get("per_stratum_quota"):
        raise RecipeError("'per_stratum_quota' needs a 'budget', not a 'threshold'")
    return {"threshold": threshold}


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


def budget_count(budget: float | int, n_rows: int) -> int:
    """Rows a budget asks for: ``int(n_rows * budget)`` for a fraction, else the count.

    >>> budget_count(0.25, 10), budget_count(7, 10)
    (2, 7)
    """
    return int(n_rows * budget) if isinstance(budget, float) else int(budget)


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
        raise RecipeError(
            f"{where} must be one JSON object such as "
            f'{{"method": "diff_high", "strong": "S", "weak": "W", "budget": 0.25}}, got {kind}'
        )
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

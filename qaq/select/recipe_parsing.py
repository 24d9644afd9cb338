"""Parsing and validating a selection recipe once: a mapping, a JSON text or a file -> a typed record.

:func:`parse_recipe` checks every key and value and returns the frozen record of the recipe's arm
(:mod:`qaq.select.recipes`, whose docstring states the format and every decision it encodes);
:func:`as_recipe` passes a record already parsed through. A problem raises
:class:`~qaq.select.recipes.RecipeError`, whose message says what to change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from qaq.maps.vectors import MAP_SPANS
from qaq.select.flags import FLAG_NAMES, FlagName, check_flag_names
from qaq.select.recipes import (
    DEDUP_KEEPS,
    METHODS,
    PAIR_METHODS,
    AnyRecipe,
    BandRecipe,
    Dedup,
    IfdRecipe,
    Method,
    PairBudgetRecipe,
    PairMethod,
    PairThresholdRecipe,
    RandomRecipe,
    Recipe,
    RecipeError,
    _some,
)
from qaq.select.strata import RANKINGS

# Keys each method takes: (required, optional); what an unknown-key error lists as allowed.
_COMMON = ("include", "exclude", "exclude_flags", "dedup")
_DEDUP_KEYS = ("threshold", "keep", "model", "span")
_STRATA = ("bins", "boundaries")
_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rmi_band": (("model", "lo", "hi"), ("ranking", *_STRATA)),
    **{
        m: (("strong", "weak"), ("budget", "threshold", "ranking", *_STRATA, "per_stratum_quota")) for m in PAIR_METHODS
    },
    "ifd": (("model", "budget"), (*_STRATA, "per_stratum_quota")),
    "random": (("budget",), ("seed",)),
}


def parse_recipe(spec: Mapping[str, Any] | str | Path) -> AnyRecipe:
    """Parse and validate a recipe once.

    Args:
        spec: a mapping, a JSON text (starting with ``{``), or the path of a JSON file. A
            manifest (a mapping with a ``"recipe"`` mapping and no ``"method"``) is unwrapped.

    Returns:
        The frozen record of the recipe's arm (:data:`AnyRecipe`).

    Raises:
        RecipeError: with one message naming the problem (unknown method or key, missing key,
            wrong type, lo >= hi, budget <= 0, both bins and boundaries, an unknown flag, ...).
            Models are checked against a table by :func:`qaq.select.selection.select`.
    """
    data = _load_spec(spec)
    if "method" not in data and isinstance(data.get("recipe"), Mapping):
        data = data["recipe"]
    method = _check_keys(data)
    fields = _shared_fields(data)
    recipe = _build(method, data, fields)
    both = sorted(set(recipe.include) & set(recipe.exclude))
    if both:
        raise RecipeError(f"id(s) in both 'include' and 'exclude': {_some(both)}")
    return recipe


def as_recipe(recipe: Recipe | Mapping[str, Any] | str | Path) -> AnyRecipe:
    """A parsed recipe as is, else :func:`parse_recipe` of it.

    Raises:
        RecipeError: as :func:`parse_recipe`; or a :class:`Recipe` of a kind this module does not make.
    """
    if isinstance(recipe, (BandRecipe, PairBudgetRecipe, PairThresholdRecipe, IfdRecipe, RandomRecipe)):
        return recipe
    if isinstance(recipe, Recipe):
        raise RecipeError(f"not a recipe parse_recipe makes: {type(recipe).__name__}")
    return parse_recipe(recipe)


def _check_keys(data: Mapping[str, Any]) -> Method:
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
    return cast(Method, method)


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
    if "boundaries" in data:
        if "bins" in data:
            raise RecipeError("give 'bins' (quantile strata) or 'boundaries' (explicit cut points), not both")
        fields["boundaries"] = _boundaries(data["boundaries"])
    if "seed" in data:
        fields["seed"] = _integer(data, "seed", minimum=0)
    if "per_stratum_quota" in data:
        if not isinstance(data["per_stratum_quota"], bool):
            raise RecipeError(f"'per_stratum_quota' must be true or false, got {data['per_stratum_quota']!r}")
        fields["per_stratum_quota"] = data["per_stratum_quota"]
    for key in ("include", "exclude"):
        if key in data:
            fields[key] = _ids(data, key)
    if "exclude_flags" in data:
        fields["exclude_flags"] = _flags(data["exclude_flags"])
    if "dedup" in data:
        fields["dedup"] = _dedup(data["dedup"])
    return fields


def _pick(fields: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: fields[k] for k in keys if k in fields}


def _build(method: Method, data: Mapping[str, Any], fields: Mapping[str, Any]) -> AnyRecipe:
    """The record of the method, from the checked ``fields`` and the method's own keys."""
    common = _pick(fields, *_COMMON)
    strata = _pick(fields, *_STRATA)
    if method == "rmi_band":
        lo, hi = _band(data)
        return BandRecipe(model=fields["model"], lo=lo, hi=hi, **_pick(fields, "ranking"), **strata, **common)
    if method == "ifd":
        return IfdRecipe(
            model=fields["model"],
            budget=_budget(data["budget"]),
            **_pick(fields, "per_stratum_quota"),
            **strata,
            **common,
        )
    if method == "random":
        return RandomRecipe(budget=_budget(data["budget"]), **_pick(fields, "seed"), **common)
    return _pair(cast(PairMethod, method), data, fields, {**_pick(fields, "ranking"), **strata, **common})


def _band(data: Mapping[str, Any]) -> tuple[float, float]:
    """``lo`` and ``hi`` of an ``rmi_band`` recipe: ranks, lo below hi."""
    lo, hi = _number(data, "lo"), _number(data, "hi")
    for key, v in (("lo", lo), ("hi", hi)):
        if not 0.0 <= v <= 1.0:
            raise RecipeError(f"'{key}' must be in [0, 1] (a rank), got {v!r}")
    if lo >= hi:
        raise RecipeError(f"'lo' ({lo!r}) must be below 'hi' ({hi!r})")
    return lo, hi


def _pair(
    method: PairMethod, data: Mapping[str, Any], fields: Mapping[str, Any], shared: dict[str, Any]
) -> PairBudgetRecipe | PairThresholdRecipe:
    """A ``diff_*``/``sum_*`` recipe: two distinct models and a budget or a threshold.

    ``fields`` are the :func:`_shared_fields` already parsed; ``shared`` the keys both records take.
    """
    strong, weak = fields["strong"], fields["weak"]
    if strong == weak:
        raise RecipeError(f"'strong' and 'weak' must be different models, got {strong!r} twice")
    has_budget, has_threshold = "budget" in data, "threshold" in data
    if has_budget == has_threshold:
        raise RecipeError(f"method {method!r} needs exactly one of 'budget' or 'threshold'")
    if has_threshold:
        threshold = _number(data, "threshold")
        if fields.get("per_stratum_quota"):
            raise RecipeError("'per_stratum_quota' needs a 'budget', not a 'threshold'")
        return PairThresholdRecipe(method=method, strong=strong, weak=weak, threshold=threshold, **shared)
    return PairBudgetRecipe(
        method=method,
        strong=strong,
        weak=weak,
        budget=_budget(data["budget"]),
        **_pick(fields, "per_stratum_quota"),
        **shared,
    )


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


def _boundaries(v: Any) -> tuple[float, ...]:
    what = "a non-empty list of numbers, log PPL(Q) cut points in increasing order"
    if not isinstance(v, list) or not v:
        raise RecipeError(f"'boundaries' must be {what}, got {v!r:.80}")
    bad = [x for x in v if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x)]
    if bad:
        raise RecipeError(f"'boundaries' must be {what}; {bad[0]!r} is not a finite number")
    cuts = tuple(float(x) for x in v)
    for a, b in zip(cuts, cuts[1:]):
        if not a < b:
            raise RecipeError(f"'boundaries' must be strictly increasing, got {a!r} then {b!r}")
    return cuts


def _flags(v: Any) -> tuple[FlagName, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise RecipeError(f"'exclude_flags' must be a list of flag names ({', '.join(FLAG_NAMES)}), got {v!r:.80}")
    try:
        return check_flag_names(v)
    except ValueError as e:
        raise RecipeError(f"'exclude_flags': {e}") from None


def _dedup(v: Any) -> Dedup:
    """The ``"dedup"`` mapping: a threshold in (0, 1], a model, a keep rule and a span."""
    example = '{"threshold": 0.95, "keep": "highest_rmi", "model": "M", "span": "qa"}'
    if not isinstance(v, Mapping):
        raise RecipeError(f"'dedup' must be an object such as {example}, got {v!r:.80}")
    unknown = [k for k in v if k not in _DEDUP_KEYS]
    if unknown:
        raise RecipeError(
            f"unknown key(s) {', '.join(map(repr, unknown))} in 'dedup'; allowed: {', '.join(_DEDUP_KEYS)}"
        )
    missing = [k for k in ("threshold", "model") if k not in v]
    if missing:
        raise RecipeError(f"'dedup' needs key(s): {', '.join(map(repr, missing))}, e.g. {example}")
    t = v["threshold"]
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 1:
        raise RecipeError(f"'dedup' 'threshold' must be a cosine similarity in (0, 1], got {t!r}")
    model = v["model"]
    if not isinstance(model, str) or not model:
        raise RecipeError(f"'dedup' 'model' must be a non-empty string (a scored model's name), got {model!r}")
    given: dict[str, Any] = {}  # keep and span default to Dedup's
    for key, choices in (("keep", DEDUP_KEEPS), ("span", MAP_SPANS)):
        if key in v:
            if v[key] not in choices:
                raise RecipeError(f"'dedup' {key!r} must be one of {', '.join(choices)}, got {v[key]!r}")
            given[key] = v[key]
    return Dedup(threshold=float(t), model=model, **given)

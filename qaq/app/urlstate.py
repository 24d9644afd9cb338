"""The workspace in the page's URL: short query parameters that a reload or a shared link restores.

No Streamlit here: :mod:`qaq.app.state` reads ``st.query_params`` on a session's first run
(:func:`from_params`: the URL wins over the defaults) and writes them after every run
(:func:`to_params`). Values equal to their defaults are left out, so a fresh session's URL is bare.

=========== ==================== ===================================================================
parameter   session key          value
=========== ==================== ===================================================================
data        data_path            a file: ``sample`` (the bundled one), ``upload:DIGEST/NAME`` (under
                                 the app's upload folder), ``scores:NAME`` (its score folder), or a
                                 path; empty: no data (the score file carries the rows)
scores      scores_path          the same; left out with ``data`` given: no scores
map         mapping              the field mapping, compact JSON (``{"query":"q","answer":"a"}``)
strong      strong               the strong model
weak        weak                 the weak model
k           bins                 K, the PPL(Q) quantile strata (1-50; default 10)
cuts        boundaries           custom log PPL(Q) cut points, comma-separated (``2.5,3,3.5``)
rank        ranking              ``global`` (default ``stratified``)
recipe      recipe               the Select & export recipe, compact JSON, without the sidebar's keys
                                 (ranking, strata) when they are the workspace's, and without
                                 include/exclude (the overrides come from the labels file)
model       browse_model         Browse: the model
stratum     browse_stratum       Browse: a stratum number (default all)
sort        browse_sort          Browse: the column sorted by
order       browse_order         Browse: ``desc`` (default ``asc``, lowest first)
q           browse_search        Browse: the search text
label       browse_label         Browse: the label filter
flags       browse_flags_with    Browse: only rows with these flags (comma-separated)
noflags     browse_flags_without Browse: hide rows with these flags
row         example_id           the open example's row id (Browse, Disagreement); one the table
                                 lacks is dropped by the page that opens it
pick        chart_filter         the chart filter: a token naming the file that holds its ids
                                 (:mod:`qaq.app.picks`; too many for a URL)
=========== ==================== ===================================================================

Every value read is checked; one that cannot be used is left out (its default applies) and
:func:`from_params` says why. A data file that is not there falls back to the defaults (the bundled
sample): the message names the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qaq.app import paths
from qaq.app.arms import ARMS
from qaq.app.boundaries import MAX_BOUNDARIES, BoundaryError, parse_boundaries
from qaq.app.labels import UNLABELLED
from qaq.app.picks import load_pick, save_pick
from qaq.columns import score_column
from qaq.io.labels import LABELS
from qaq.jobs.records import FIELD_OPTIONS
from qaq.select.flags import FLAG_NAMES
from qaq.select.recipe_parsing import parse_recipe
from qaq.select.recipes import PAIR_SCORE, RecipeError
from qaq.select.strata import DEFAULT_BINS, RANKINGS

# parameter -> session-state key, in the order they appear in the URL.
PARAMS: dict[str, str] = {
    "data": "data_path",
    "scores": "scores_path",
    "map": "mapping",
    "strong": "strong",
    "weak": "weak",
    "k": "bins",
    "cuts": "boundaries",
    "rank": "ranking",
    "recipe": "recipe",
    "model": "browse_model",
    "stratum": "browse_stratum",
    "sort": "browse_sort",
    "order": "browse_order",
    "q": "browse_search",
    "label": "browse_label",
    "flags": "browse_flags_with",
    "noflags": "browse_flags_without",
    "row": "example_id",
    "pick": "chart_filter",
}
SESSION_KEYS = tuple(PARAMS.values())
MAX_K = MAX_BOUNDARIES + 1  # the sidebar's K slider goes this far
MAX_SEED = 2**31 - 1  # the Select & export page's seed input goes this far
ORDERS = {"asc": "lowest first", "desc": "highest first"}  # Browse's order radio
BROWSE_LABELS = ("any", UNLABELLED, *LABELS)  # Browse's label filter
# Values left out of the URL (the session's defaults; the data and score files have their own rule).
_DEFAULTS: dict[str, Any] = {
    "mapping": {},
    "strong": None,
    "weak": None,
    "bins": DEFAULT_BINS,
    "boundaries": None,
    "ranking": "stratified",
    "recipe": None,
    "browse_model": None,
    "browse_stratum": "all",
    "browse_sort": None,
    "browse_order": ORDERS["asc"],
    "browse_search": "",
    "browse_label": "any",
    "browse_flags_with": [],
    "browse_flags_without": [],
    "example_id": None,
    "chart_filter": None,
}
_SAMPLE = "sample"
_FOLDERS = {"upload": lambda: paths.UPLOAD_DIR, "scores": lambda: paths.SCORES_DIR}  # read per call: tests move them
# The sidebar's keys each arm's recipe takes (the Select & export page copies them from the workspace).
_STRATA = ("bins", "boundaries")
_SIDEBAR_KEYS: dict[str, tuple[str, ...]] = {
    **{m: ("ranking", *_STRATA) for m in PAIR_SCORE},
    "rmi_band": ("ranking", *_STRATA),
    "ifd": _STRATA,
    "random": (),
}


@dataclass(frozen=True)
class Restored:
    """What a URL restores: session-state values (only those it gave and that could be used) and,
    for the others, why they were left out."""

    values: dict[str, Any]
    problems: tuple[str, ...] = ()


# --------------------------------------------------------------------------- files


def file_token(path: str | None, *, sample: Path) -> str:
    """A file for the URL: ``sample``, ``upload:REL`` or ``scores:REL`` inside the app's folders, else the path."""
    if path is None:
        return ""
    p = Path(path).expanduser()
    if p.resolve() == sample.resolve():
        return _SAMPLE
    for name, folder in _FOLDERS.items():
        try:
            return f"{name}:{p.resolve().relative_to(folder().resolve()).as_posix()}"
        except ValueError:
            continue
    return str(path)


def token_file(token: str, *, sample: Path) -> Path:
    """The file a URL token names (see :func:`file_token`); ValueError for a token leaving its folder."""
    if token == _SAMPLE:
        return sample
    name, sep, rest = token.partition(":")
    if sep and name in _FOLDERS:
        folder = _FOLDERS[name]().resolve()
        target = (folder / rest).resolve()
        if not rest or not target.is_relative_to(folder):
            raise ValueError(f"{token!r} is not a file of the app's {name} folder")
        return target
    return Path(token).expanduser()


# --------------------------------------------------------------------------- session -> URL


def to_params(
    values: Mapping[str, Any],
    *,
    data: str | None,
    scores: str | None,
    roles: tuple[str | None, str | None] = (None, None),
) -> dict[str, str]:
    """The query parameters of session ``values`` (keys of :data:`SESSION_KEYS`; absent ones are left out).

    Args:
        values: the session's values.
        data, scores: the files a session opens without a URL (left out when both are in use).
        roles: the (strong, weak) roles the table opens with (:func:`qaq.app.table.default_roles`):
            left out when they are in use.
    """
    out: dict[str, str] = {}
    files = (values.get("data_path"), values.get("scores_path"))
    if "data_path" in values and not (paths.same_file(files[0], data) and paths.same_file(files[1], scores)):
        if files[0] is not None or files[1] is None:
            out["data"] = file_token(files[0], sample=paths.SAMPLE_DATA)
        if files[1] is not None:
            out["scores"] = file_token(files[1], sample=paths.SAMPLE_SCORES)
    for param, key in PARAMS.items():
        if key in ("data_path", "scores_path") or key not in values or _is_default(key, values[key]):
            continue
        if key in ("strong", "weak") and tuple(values.get(k) for k in ("strong", "weak")) == roles:
            continue  # the table's own roles: the workspace picks them again
        if key == "browse_sort" and values[key] == score_column(str(values.get("browse_model")), "rmi"):
            continue  # what Browse sorts by unless told: the model's RMI
        text = _encode(key, values[key], values)
        if text is not None:
            out[param] = text
    return out


def _is_default(key: str, value: Any) -> bool:
    default = _DEFAULTS[key]
    if isinstance(default, list):
        return not value
    return value == default or (key == "mapping" and not value)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _encode(key: str, value: Any, values: Mapping[str, Any]) -> str | None:
    if key == "mapping":
        return _compact({k: v for k, v in dict(value).items() if v not in (None, "")}) if value else None
    if key == "boundaries":
        return ",".join(repr(float(v)) for v in value)
    if key == "recipe":
        return _compact(_short_recipe(dict(value), values))
    if key == "browse_order":
        return next((short for short, long in ORDERS.items() if long == value), None)
    if key in ("browse_flags_with", "browse_flags_without"):
        return ",".join(value)
    if key == "chart_filter":
        return save_pick(value)  # writes its file once; the URL holds the token
    return str(value)


def _short_recipe(recipe: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A recipe without include/exclude and without the sidebar's keys that hold the workspace's values."""
    short = {k: v for k, v in recipe.items() if k not in ("include", "exclude")}
    for key in _SIDEBAR_KEYS.get(str(recipe.get("method")), ()):
        if key in short and _workspace_value(key, values) == short[key]:
            del short[key]
    return short


def _workspace_value(key: str, values: Mapping[str, Any]) -> Any:
    """What the Select & export page puts under a sidebar key of a recipe (boundaries as a list)."""
    if key == "boundaries":
        cuts = values.get("boundaries")
        return list(cuts) if cuts else None
    if key == "bins":
        return None if values.get("boundaries") else values.get("bins", DEFAULT_BINS)
    return values.get(key, _DEFAULTS[key])


# --------------------------------------------------------------------------- URL -> session


def from_params(params: Mapping[str, str], *, fallback: str = "the bundled sample") -> Restored:
    """The session values a URL's query parameters give (unknown parameters are ignored).

    A data file the URL names that is not there leaves the files out (the session then opens its
    defaults, named by ``fallback`` in the message), and a score file that is not there leaves
    the scores out; each says so in :attr:`Restored.problems`.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    files_kept = _files(params, values, problems, fallback=fallback)
    for param, key in PARAMS.items():
        if key in ("data_path", "scores_path", "mapping", "recipe") or param not in params:
            continue
        try:
            values[key] = _decode(key, params[param])
        except (ValueError, TypeError) as e:
            problems.append(f"`{param}={_clip(params[param])}` in the link was left out: {e}.")
    if "map" in params and files_kept:  # the mapping of the files that fell back would not fit the defaults
        try:
            values["mapping"] = _mapping(params["map"])
        except (ValueError, TypeError) as e:
            problems.append(f"The field mapping in the link was left out (the fields are detected instead): {e}.")
    if "recipe" in params:
        try:
            values.update(recipe_values(json.loads(params["recipe"]), values))
        except (ValueError, TypeError, RecipeError) as e:
            problems.append(f"The recipe in the link was left out: {e}.")
    return Restored(values, tuple(problems))


def _clip(text: str, most: int = 60) -> str:
    return (text[:most] + "…" if len(text) > most else text).replace("`", "'")


def _files(params: Mapping[str, str], values: dict[str, Any], problems: list[str], *, fallback: str) -> bool:
    """``data_path`` and ``scores_path`` from the ``data`` and ``scores`` parameters (both or neither);
    False when the files they name cannot be opened (the defaults then apply)."""
    if "data" not in params and "scores" not in params:
        return True  # the default files, on purpose
    data, data_error = _file_param(params, "data", paths.SAMPLE_DATA)
    scores, scores_error = _file_param(params, "scores", paths.SAMPLE_SCORES)
    if data_error or (data is None and scores_error):  # no rows to read: the defaults apply
        what = "dataset" if data_error else "score file"
        problems.append(
            f"The link's {what} cannot be opened ({data_error or scores_error}): {fallback} is open instead."
        )
        return False
    values["data_path"], values["scores_path"] = data, scores
    if scores_error:
        problems.append(f"The link's score file cannot be opened ({scores_error}): the data is open without scores.")
    return True


def _file_param(params: Mapping[str, str], name: str, sample: Path) -> tuple[str | None, str | None]:
    """(path, None); (None, None) when not given or empty; (None, why not) when it cannot be opened."""
    token = params.get(name, "").strip()
    if not token:
        return None, None
    try:
        path = token_file(token, sample=sample)
    except ValueError as e:
        return None, str(e)
    if not path.is_file():
        return None, f"no such file: {path}"
    return str(path), None


def _decode(key: str, text: str) -> Any:
    """A session value from its parameter; ValueError (or TypeError) saying why it cannot be used."""
    text = text.strip()
    if key in ("strong", "weak", "browse_model", "browse_sort", "example_id"):
        if not text:
            raise ValueError("empty")
        return text
    if key == "bins":
        k = int(text)
        if not 1 <= k <= MAX_K:
            raise ValueError(f"K must be 1 to {MAX_K}")
        return k
    if key == "boundaries":
        try:
            return parse_boundaries(text)
        except BoundaryError as e:
            raise ValueError(str(e)) from None
    if key == "ranking":
        return _choice(text, RANKINGS)
    if key == "browse_stratum":
        stratum = int(text)
        if not 0 <= stratum < MAX_K:
            raise ValueError(f"a stratum is 0 to {MAX_K - 1}")
        return stratum
    if key == "browse_order":
        return ORDERS[_choice(text, tuple(ORDERS))]
    if key == "browse_search":
        return text[:500]
    if key == "browse_label":
        return _choice(text, BROWSE_LABELS)
    if key == "chart_filter":
        return load_pick(text)
    assert key in ("browse_flags_with", "browse_flags_without"), key
    return [_choice(flag, FLAG_NAMES) for flag in text.split(",") if flag.strip()]


def _choice(text: str, options: tuple[str, ...]) -> str:
    if text.strip() not in options:
        raise ValueError(f"not one of {', '.join(options)}")
    return text.strip()


def _mapping(text: str) -> dict[str, str]:
    mapping = json.loads(text)
    if not isinstance(mapping, dict):
        raise ValueError("not a JSON object")
    wrong = [k for k, v in mapping.items() if k not in FIELD_OPTIONS or not isinstance(v, str)]
    if wrong:
        raise ValueError(f"unknown fields or values: {', '.join(map(str, wrong))}")
    return mapping


def recipe_values(recipe: Any, workspace: Mapping[str, Any]) -> dict[str, Any]:
    """The session values of a recipe from a URL: ``recipe`` itself (the sidebar's keys it left out
    filled from ``workspace``, session values) and the Select & export widgets that build it.

    Raises:
        qaq.select.recipes.RecipeError: a recipe that is not one (checked by
            :func:`qaq.select.recipe_parsing.parse_recipe`).
        ValueError: a value the page's widgets cannot show (a budget of 12.5 %).
    """
    if not isinstance(recipe, dict) or recipe.get("method") not in ARMS:
        raise ValueError(f"no arm of {', '.join(ARMS)}")
    method = recipe["method"]
    full = dict(recipe)
    for key in _SIDEBAR_KEYS[method]:
        value = _workspace_value(key, workspace)
        if key not in full and value is not None and not (key in _STRATA and any(k in full for k in _STRATA)):
            full[key] = value
    parse_recipe(full)
    widgets: dict[str, Any] = {"sel_method": method}
    if "budget" in full:
        pct = float(full["budget"]) * 100
        if not (1 <= pct <= 100 and abs(pct - round(pct)) < 1e-9):
            raise ValueError(f"the page's budget is a whole percentage from 1 to 100, not {full['budget']!r}")
        widgets["sel_budget"] = int(round(pct))
    if method in PAIR_SCORE:
        widgets["sel_how"] = "a threshold" if "threshold" in full else "a budget"
        if "threshold" in full:
            lo, hi = (-1.0, 1.0) if PAIR_SCORE[method] == "diff" else (0.0, 2.0)
            if not lo <= float(full["threshold"]) <= hi:
                raise ValueError(f"a {PAIR_SCORE[method]} threshold from {lo} to {hi}")
            widgets[f"sel_threshold_{PAIR_SCORE[method]}"] = float(full["threshold"])
    if "per_stratum_quota" in full:
        widgets["sel_quota"] = bool(full["per_stratum_quota"])
    if "model" in full:
        widgets["sel_model"] = str(full["model"])
    if method == "rmi_band":
        widgets["sel_band"] = (float(full["lo"]), float(full["hi"]))
    if isinstance(full.get("dedup"), dict):
        dedup = full["dedup"]
        if not 0.8 <= float(dedup["threshold"]) <= 1.0:
            raise ValueError("the page's near-duplicate threshold is 0.80 to 1.00")
        widgets.update(
            sel_dedup=True,
            sel_dedup_threshold=float(dedup["threshold"]),
            sel_dedup_keep=str(dedup.get("keep", "highest_rmi")),
            sel_dedup_model=str(dedup["model"]),
            sel_dedup_span=str(dedup.get("span", "qa")),
        )
    if "seed" in full:
        if not 0 <= int(full["seed"]) <= MAX_SEED:
            raise ValueError(f"the page's seed is 0 to {MAX_SEED}")
        widgets["sel_seed"] = int(full["seed"])
    return {"recipe": full, **widgets}

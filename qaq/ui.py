"""Streamlit glue for the qaq app: session state, caches, the app's folders, shared widgets.

This is the only module of the package that imports streamlit (``import qaq`` never loads it).
The entry file ``app.py`` and the pages in ``pages/`` call it; what it caches and draws is
computed by the library, mostly :mod:`qaq.views` (the workspace and views of its table).

State (``st.session_state``), initialised once by :func:`init_state`:

============== =================================================================================
key            meaning
============== =================================================================================
data_path      the dataset in use (str) or None
mapping        :func:`qaq.data.load_dataset` keyword arguments for its fields ({} = detected)
scores_path    the score file in use (qaq's or the QAQ authors' format) or None
strong, weak   the model roles (sidebar)
bins           K, the PPL(Q) quantile strata (sidebar)
ranking        ``"stratified"`` or ``"global"`` (sidebar)
job_id         the background scoring job this session started or found
example_id     the row open in the example view (Browse, Disagreement)
recipe         the last recipe built on the Select & export page (drawn on Distributions)
_workspace     the :class:`qaq.views.Workspace` app.py built for the current run (pages read it)
============== =================================================================================

Page widgets whose value should survive a visit to another page are listed in
:data:`PERSISTENT_WIDGETS`; their defaults live in :data:`WIDGET_DEFAULTS`.

Caching: files are read under ``st.cache_data`` keyed by path + mtime + size (+ field mapping),
so an edited file is re-read and nothing else is. The working table (data joined with scores
on ``id``, then strata, ranks and diff/sum) is cached on those keys + K + ranking + roles, and
every view of it on that key (``Workspace.key``), never on the table's contents.
Loaded scoring models live under ``st.cache_resource`` keyed by spec + config.

Server options (address, upload limit, usage statistics) live in ``.streamlit/config.toml``,
which Streamlit reads from the app's folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit import config as st_config  # get_option looked up per call: tests patch it

from qaq import scoring, views
from qaq.columns import scored_models
from qaq.views import Workspace

REPO = Path(__file__).resolve().parent.parent
APP_FILE = REPO / "app.py"
APP_CONFIG = REPO / ".streamlit" / "config.toml"  # server options of `streamlit run app.py` and `qaq app`
SAMPLE_DATA = REPO / "sample_data" / "code_instructions.jsonl"
SAMPLE_SCORES = REPO / "sample_data" / "code_instructions.scores.parquet"
# Environment variables `qaq app --data/--scores` sets for the app.
ENV_DATA, ENV_SCORES = "QAQ_APP_DATA", "QAQ_APP_SCORES"
_CACHE_HOME = Path(os.environ.get("QAQ_APP_DIR", Path.home() / ".cache" / "qaq" / "app"))
UPLOAD_DIR = _CACHE_HOME / "uploads"
SCORES_DIR = _CACHE_HOME / "scores"
WORKSPACE_KEY = "_workspace"  # the Workspace app.py built for the current run


# --------------------------------------------------------------------------------------------
# state


def default_sources() -> tuple[str | None, str | None]:
    """(data, scores) the app opens on: ``$QAQ_APP_DATA``/``$QAQ_APP_SCORES``, else the bundled sample."""
    data, scores = os.environ.get(ENV_DATA) or None, os.environ.get(ENV_SCORES) or None
    if data or scores:
        return data, scores
    return (str(SAMPLE_DATA) if SAMPLE_DATA.is_file() else None,
            str(SAMPLE_SCORES) if SAMPLE_SCORES.is_file() else None)


# Widget values kept when the user leaves a page and comes back (Streamlit drops the state of
# widgets that were not drawn in a run unless the key is written again, which init_state does).
PERSISTENT_WIDGETS = (
    "dist_models", "dist_model", "dist_kind", "diff_threshold", "sum_threshold", "browse_model",
    "browse_stratum", "browse_sort", "browse_order", "browse_search", "browse_label", "sel_method", "sel_how",
    "sel_budget", "sel_quota", "sel_threshold_diff", "sel_threshold_sum", "sel_model", "sel_band", "sel_seed",
    "sel_overrides", "sel_tab", "det_source", "det_model", "length_unit",
)


# Defaults of widgets whose value is kept across pages: set here, never passed as value= (a widget
# given both a value and a session-state value makes Streamlit warn).
WIDGET_DEFAULTS: dict[str, Any] = {
    "diff_threshold": 0.1, "sum_threshold": 1.0, "sel_budget": 25, "sel_threshold_diff": 0.1,
    "sel_threshold_sum": 1.0, "sel_band": (0.5, 0.75), "sel_seed": 0, "sel_overrides": True,
}


def init_state() -> None:
    """Give every session-state key its default (keys already set, e.g. by a test, are kept)."""
    data, scores = default_sources()
    defaults: dict[str, Any] = {
        "data_path": data, "mapping": {}, "scores_path": scores, "strong": None, "weak": None,
        "bins": 10, "ranking": "stratified", "job_id": None, "example_id": None, "recipe": None,
    }
    for key, value in {**defaults, **WIDGET_DEFAULTS}.items():
        st.session_state.setdefault(key, value)
    for key in PERSISTENT_WIDGETS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def valid_choice(key: str, options: list[Any], default: Any = None) -> None:
    """Reset a kept widget value that is no longer among its options (e.g. after K or the data changed).

    With a ``default``, an unset key starts at it (so the widget needs no ``value=``).
    """
    value = st.session_state.get(key)
    if value is None:
        if default is not None:
            st.session_state[key] = default
        return
    if isinstance(value, list):
        kept = [v for v in value if v in options]
        if kept != value:
            st.session_state[key] = kept or ([default] if default is not None else [])
    elif value not in options:
        if default is None:
            del st.session_state[key]
        else:
            st.session_state[key] = default


def use_data(path: str | os.PathLike[str] | None, *, mapping: dict[str, Any] | None = None,
             scores: str | os.PathLike[str] | None = None) -> None:
    """Switch the dataset (and its score file; None = not scored yet)."""
    st.session_state["data_path"] = None if path is None else str(path)
    st.session_state["mapping"] = dict(mapping or {})
    st.session_state["scores_path"] = None if scores is None else str(scores)
    st.session_state["example_id"] = None


def use_mapping(mapping: dict[str, Any]) -> None:
    """Read the dataset with these fields (:func:`qaq.data.load_dataset` keyword arguments)."""
    st.session_state["mapping"] = dict(mapping)
    st.session_state["example_id"] = None


def use_scores(path: str | os.PathLike[str] | None) -> None:
    """Switch the score file, keeping the dataset."""
    st.session_state["scores_path"] = None if path is None else str(path)
    st.session_state["example_id"] = None


# --------------------------------------------------------------------------------------------
# cached loaders and the working table


def file_key(path: str | os.PathLike[str] | None) -> tuple[str, int, int] | None:
    """(absolute path, mtime_ns, size): a cache key that changes when the file does."""
    if path is None:
        return None
    p = Path(path).expanduser()
    try:
        s = p.stat()
    except OSError:
        return (str(p.resolve()), -1, -1)  # missing: the loader raises a clear DataError
    return (str(p.resolve()), s.st_mtime_ns, s.st_size)


@st.cache_data(max_entries=4, show_spinner="Reading the dataset…")
def load_data(key: tuple[str, int, int], mapping: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    """:func:`qaq.data.load_dataset` of ``key[0]``; raises :class:`qaq.data.DataError`."""
    from qaq.data import load_dataset

    return load_dataset(key[0], **dict(mapping))


@st.cache_data(max_entries=4, show_spinner="Reading the scores…")
def load_scores(key: tuple[str, int, int]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`qaq.scorefile.load_scores` of ``key[0]``; raises :class:`qaq.data.DataError`."""
    from qaq.scorefile import load_scores as _load

    return _load(key[0])


@dataclass(frozen=True)
class Base:
    """The joined table before any choice of K, ranking or roles."""

    table: pd.DataFrame | None
    source_path: str | None  # the file the ``row`` column points into (exports read it)
    meta: dict[str, Any]
    notes: tuple[str, ...] = ()  # things to tell the user (e.g. the data came from the score file)


@st.cache_data(max_entries=4, show_spinner="Joining the scores…")
def _base(data_key: tuple | None, mapping: tuple, scores_key: tuple | None) -> Base:
    """Data joined with scores on id. Raises DataError/ValueError with the reason."""
    from qaq.selection import attach_scores

    notes: list[str] = []
    scores, meta = load_scores(scores_key) if scores_key else (None, {})
    self_contained = scores is not None and {"row", "query", "answer"} <= set(scores.columns)
    if self_contained:  # the QAQ authors' files carry the rows: the data is the score file itself
        if data_key is not None:
            notes.append("The score file carries its own rows: they are used instead of the dataset.")
        return Base(scores, scores_key[0], meta, tuple(notes))
    if data_key is None and scores is not None:
        src = (meta.get("source") or {}).get("path")
        if src and Path(src).is_file():
            data_key = file_key(src)
            mapping = views.mapping_kwargs((meta.get("source") or {}).get("mapping"))
            notes.append(f"Rows read from {src}, the file these scores were computed from.")
        else:
            raise ValueError("this score file holds scores only, not the rows: choose the dataset it "
                             "was scored from on the Data page" + (f" ({src})" if src else ""))
    if data_key is None:
        return Base(None, None, {})
    data = load_data(data_key, mapping)
    if scores is None:
        return Base(data, data_key[0], {}, tuple(notes))
    return Base(attach_scores(data, scores), data_key[0], meta, tuple(notes))


@st.cache_data(max_entries=8, show_spinner="Reading…")
def _summary(data_key: tuple | None, mapping: tuple, scores_key: tuple | None) -> tuple[list[str], dict[str, Any]]:
    """(scored models, score metadata) of a source: small, so a cache hit costs nothing."""
    base = _base(data_key, mapping, scores_key)
    return (scored_models(base.table.columns) if base.table is not None else []), base.meta


@st.cache_data(max_entries=4, show_spinner="Ranking…")
def _derived(data_key: tuple | None, mapping: tuple, scores_key: tuple | None, bins: int, ranking: str,
             strong: str | None, weak: str | None) -> tuple[pd.DataFrame | None, str | None, dict, tuple]:
    """The working table (:func:`qaq.views.working_table`), its source file, metadata and notes."""
    base = _base(data_key, mapping, scores_key)
    table = base.table
    if table is not None:
        table = views.working_table(table, bins=bins, ranking=ranking, strong=strong, weak=weak)
    return table, base.source_path, base.meta, base.notes


def workspace() -> Workspace:
    """Build (from the caches) the working table for the current state; never raises.

    Sanitises the role keys in session state (call before the sidebar widgets are drawn).
    """
    from qaq.data import DataError
    from qaq.labels import LabelsError

    ss = st.session_state
    data_key, scores_key = file_key(ss["data_path"]), file_key(ss["scores_path"])
    mapping = views.mapping_kwargs(ss["mapping"])
    bins, ranking = int(ss["bins"]), ss["ranking"]
    common = dict(data_path=ss["data_path"], scores_path=ss["scores_path"], bins=bins, ranking=ranking)
    try:
        models, meta = _summary(data_key, mapping, scores_key)
        strong, weak = views.default_roles(models, meta)
        if ss.get("strong") not in models:
            ss["strong"] = strong
        if ss.get("weak") not in models or ss.get("weak") == ss.get("strong"):
            ss["weak"] = weak if weak != ss["strong"] else next((m for m in models if m != ss["strong"]), None)
        key = (data_key, mapping, scores_key, bins, ranking, ss["strong"], ss["weak"])
        table, source, meta, notes = _derived(*key)
    except (DataError, LabelsError, ValueError, KeyError) as e:
        return Workspace(None, error=str(e), **common)
    return Workspace(table, tuple(models), ss["strong"], ss["weak"], source_path=source, meta=meta,
                     notes=notes, key=key, **common)


def current() -> Workspace:
    """The workspace the frame (``app.py``) built for this run; call it first thing on every page.

    Streamlit decides once per server process whether ``pages/`` is an old-style, auto-discovered
    pages folder: until ``app.py`` has called ``st.navigation``, a run that opens a page URL
    directly (``/browse``) runs that page *without* ``app.py``, and AppTest decides afresh on
    every run. Such a run is caught here: the frame runs instead (it runs this page inside it,
    in the same script run, so no widget event is lost), then this outer run stops.
    """
    import runpy

    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        runpy.run_path(str(APP_FILE), run_name="__main__")  # its st.navigation turns the old mode off
        st.stop()
    if WORKSPACE_KEY not in st.session_state:
        st.error(f"Start the app with `qaq app` or `streamlit run {APP_FILE}`: pages run inside it.")
        st.stop()
    return st.session_state[WORKSPACE_KEY]


# --------------------------------------------------------------------------------------------
# empty states and shared widgets


def require_table(ws: Workspace) -> pd.DataFrame:
    """The table, or an explanation on the page and ``st.stop()``."""
    if ws.error:
        st.error(f"The data cannot be loaded: {ws.error}")
        st.page_link("pages/data.py", label="Choose data on the Data page", icon=":material/folder_open:")
        st.stop()
    if ws.table is None:
        st.info("No data yet. Open the bundled sample, upload a file or give a local path on the Data page.")
        st.page_link("pages/data.py", label="Go to the Data page", icon=":material/folder_open:")
        st.stop()
    return ws.table


def require_scores(ws: Workspace) -> pd.DataFrame:
    """The table when it has at least one scored model, else an explanation and ``st.stop()``."""
    table = require_table(ws)
    if not ws.models:
        st.info("This data has no scores yet. Score it on the Score page (a background job), or load an "
                "existing score file there (qaq's or the QAQ authors' format).")
        st.page_link("pages/score.py", label="Go to the Score page", icon=":material/speed:")
        st.stop()
    return table


def require_pair(ws: Workspace) -> pd.DataFrame:
    """The table when a strong and a weak model are scored, else an explanation and ``st.stop()``."""
    table = require_scores(ws)
    if not ws.pair:
        st.info(f"This needs two scored models, a strong and a weak one; the table has "
                f"{len(ws.models)} ({', '.join(ws.models)}). Score a second model on the Score page "
                "(e.g. weak=smollm2-135m and strong=gemma3-270m), or load a score file with both.")
        st.page_link("pages/score.py", label="Go to the Score page", icon=":material/speed:")
        st.stop()
    return table


def plotly(fig: Any, *, key: str, on_select: str = "ignore", **kwargs: Any) -> Any:
    """``st.plotly_chart`` with the app's defaults (full width, no Plotly logo)."""
    return st.plotly_chart(fig, key=key, on_select=on_select, width="stretch",
                           config={"displaylogo": False}, **kwargs)


def table_height(n_rows: int, *, most: int = 360) -> int:
    """Pixel height of an ``st.dataframe`` showing ``n_rows`` rows, capped (no empty filler rows)."""
    return min(most, 35 * (n_rows + 1) + 3)


def point_ids(event: Any) -> list[str]:
    """Row ids of the points selected in a chart whose points carry ``customdata`` = id."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return []
    ids = []
    for p in points:
        cd = p.get("customdata")
        if isinstance(cd, (list, tuple)):
            cd = cd[0] if cd else None
        if cd is not None:
            ids.append(str(cd))
    return list(dict.fromkeys(ids))


def table_pick(event: Any, rows: pd.DataFrame) -> str | None:
    """The id of the row selected in an ``st.dataframe(..., on_select="rerun")`` of ``rows``."""
    try:
        picked = event["selection"]["rows"]
    except (KeyError, TypeError):
        return None
    return str(rows["id"].iloc[picked[0]]) if picked and picked[0] < len(rows) else None


# --------------------------------------------------------------------------------------------
# uploads, scoring models and background jobs (the app's folders)


def upload_limit_mb() -> int:
    """The upload size limit the server enforces (``server.maxUploadSize``, set in :data:`APP_CONFIG`)."""
    return int(st_config.get_option("server.maxUploadSize"))


def save_upload(name: str, data: bytes) -> Path:
    """Keep an uploaded file on disk (loaders, jobs and exports read paths), named by its hash."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "upload.jsonl"
    target = UPLOAD_DIR / digest / safe
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target


device_summary = st.cache_data(show_spinner="Detecting the device…")(views.device_summary)  # torch: once


@st.cache_resource(max_entries=2, show_spinner="Loading the model (15-40 s the first time)…")
def scoring_model(spec: str, config_json: str) -> Any:
    """A loaded :class:`qaq.backend.ScoringModel`, shared by every session (keyed by spec + config)."""
    from qaq.scoring import ScoringConfig, load_scoring_model

    return load_scoring_model(spec, ScoringConfig(**json.loads(config_json)))


def score_output(data_path: str) -> Path:
    """Where a scoring job started from the app writes: one file per data file version."""
    digest = hashlib.sha256(json.dumps(file_key(data_path)).encode()).hexdigest()[:12]
    return SCORES_DIR / f"{Path(data_path).name.split('.')[0]}-{digest}.scores.parquet"


# The jobs folder is read at call time (tests and `$QAQ_JOBS_DIR` move it), not bound as a default.


def find_job(data_path: str | None) -> str | None:
    """The newest background job scoring ``data_path`` (:func:`qaq.jobs.find_job`)."""
    from qaq import jobs

    return jobs.find_job(data_path, jobs_dir=jobs.JOBS_DIR)


def start_job(args: list[str]) -> str:
    """:func:`qaq.jobs.start_job` in the jobs folder, with the output folder made."""
    from qaq import jobs

    Path(args[args.index("-o") + 1]).parent.mkdir(parents=True, exist_ok=True)
    return jobs.start_job(args, jobs_dir=jobs.JOBS_DIR)


def ray_available() -> bool:
    """Whether the ray engine can run here (:func:`qaq.ray_engine.ray_available`, imported on call)."""
    from qaq import ray_engine

    return ray_engine.ray_available()


def start_ray_job(kwargs: dict[str, Any]) -> str:
    """:func:`qaq.ray_engine.start_ray_job` in the jobs folder, with the output folder made."""
    from qaq import jobs, ray_engine

    Path(kwargs["output"]).parent.mkdir(parents=True, exist_ok=True)
    return ray_engine.start_ray_job(**kwargs, jobs_dir=jobs.JOBS_DIR)


def job_status(job_id: str) -> dict[str, Any]:
    """:func:`qaq.jobs.job_status` in the jobs folder."""
    from qaq import jobs

    return jobs.job_status(job_id, jobs_dir=jobs.JOBS_DIR)


def cancel_job(job_id: str) -> None:
    """:func:`qaq.jobs.cancel_job` in the jobs folder."""
    from qaq import jobs

    jobs.cancel_job(job_id, jobs_dir=jobs.JOBS_DIR)


# --------------------------------------------------------------------------------------------
# views of the working table, cached on the workspace key: what the table was built from, so
# the table itself is never hashed


_BY_KEY = {Workspace: lambda ws: ws.key}


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=_BY_KEY)
def lengths(ws: Workspace, *, model: str | None = None) -> tuple[pd.DataFrame, str]:
    """:func:`qaq.views.lengths` of the working table."""
    return views.lengths(ws.table, model)


@st.cache_data(max_entries=4, show_spinner=False, hash_funcs=_BY_KEY)
def validation_report(ws: Workspace) -> dict[str, Any]:
    """:func:`qaq.views.validation_report` of the working table."""
    return views.validation_report(ws.table)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_BY_KEY)
def _selection(ws: Workspace, recipe_json: str) -> tuple[pd.Series, pd.DataFrame]:
    from qaq.selection import parse_recipe, select, stratum_counts

    recipe = parse_recipe(json.loads(recipe_json))
    picked = select(ws.table, recipe)
    return picked["selected"].astype(bool), stratum_counts(picked, recipe)


def selection(ws: Workspace, recipe: dict[str, Any]) -> tuple[pd.Series, pd.DataFrame]:
    """(selected mask aligned with the table, counts per stratum) of a recipe; raises RecipeError."""
    return _selection(ws, json.dumps(recipe, sort_keys=True))  # the same recipe in any key order


def current_selection(ws: Workspace, recipe: dict[str, Any] | None) -> tuple[pd.Series | None, str | None]:
    """(selected mask, None), or (None, why not) when there is no recipe or it does not fit the table."""
    from qaq.selection import RecipeError

    if recipe is None or ws.table is None:
        return None, None
    try:
        return selection(ws, recipe)[0], None
    except (RecipeError, KeyError, ValueError) as e:
        return None, str(e)


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=_BY_KEY)
def suspicion(ws: Workspace, model: str) -> pd.DataFrame:
    """:func:`qaq.detection.suspicion_scores` of ``model`` (with Diff when both roles are set)."""
    from qaq.detection import suspicion_scores

    s, w = (ws.strong, ws.weak) if ws.pair else (None, None)
    return suspicion_scores(ws.table, model=model, strong=s, weak=w, bins=ws.bins)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_BY_KEY)
def quadrants(ws: Workspace, diff_threshold: float, sum_threshold: float) -> pd.DataFrame:
    """:func:`qaq.compare.quadrant_counts` of the working table."""
    from qaq.compare import quadrant_counts

    return quadrant_counts(ws.table, diff_threshold=float(diff_threshold), sum_threshold=float(sum_threshold))


@st.cache_data(max_entries=8, show_spinner=False, hash_funcs=_BY_KEY)
def strong_weak_spearman(ws: Workspace) -> pd.DataFrame:
    """Spearman of the strong and weak RMI, overall (first line) and per stratum of the strong model."""
    from qaq.strata import strong_weak_spearman as spearman

    return spearman(ws.table, strong=ws.strong, weak=ws.weak, bins=ws.bins)


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=_BY_KEY)
def _retention(ws: Workspace, column: str, keep: str) -> pd.DataFrame:
    from qaq.compare import retention_curve

    return retention_curve(ws.table[column], keep=keep)


def retention(ws: Workspace, recipe: dict[str, Any]) -> tuple[pd.DataFrame, str] | None:
    """The retention curve of the score a recipe thresholds, and that score's name (None for random)."""
    target = views.retention_target(recipe)
    return None if target is None else (_retention(ws, *target), target[0])


def overlaps(ws: Workspace, current: pd.Series, arms: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """:func:`qaq.views.overlap_table` of the current selection with each arm's."""
    return views.overlap_table(current, {name: selection(ws, recipe)[0] for name, recipe in arms.items()})


@st.cache_data(max_entries=8, show_spinner="Measuring detection quality…", hash_funcs=_BY_KEY)
def _detection(ws: Workspace, source: tuple[str, str], model: str, labels_key: tuple | None) -> dict[str, Any]:
    column, clean = source
    return views.detection_quality(views.labelled_table(ws, column), suspicion(ws, model), label_col=column,
                                   clean=clean)


def detection(ws: Workspace, source: tuple[str, str], model: str) -> dict[str, Any]:
    """:func:`qaq.views.detection_quality` of ``model``'s suspicion scores against a label source.

    ``source`` is one of :func:`qaq.views.label_sources`; the user's labels file is part of the key.
    """
    labels_key = file_key(ws.labels_file) if source[0] == "label" else None
    return _detection(ws, tuple(source), model, labels_key)


def export_files(ws: Workspace, recipe: dict[str, Any]) -> dict[str, bytes]:
    """:func:`qaq.views.export_files` of the recipe's selection."""
    return views.export_files(ws, recipe, selection(ws, recipe)[0])


# --------------------------------------------------------------------------------------------
# the example view (Browse, Disagreement)


@st.cache_data(max_entries=64, show_spinner="Scoring the query token by token…")
def token_view(spec: str, config: str, query: str, answer: str) -> dict[str, list]:
    """Per-token NLL of Q without and with A (:meth:`qaq.backend.ScoringModel.token_nlls`)."""
    sm = scoring_model(spec, config)
    return sm.token_nlls(query, answer, max_length=json.loads(config)["max_length"])


_LABEL_ERROR = "_label_error"


def _save_labels(path: Path, row_id: str, changes: dict[str, str | None]) -> None:
    """Button callback: write a label and/or override (:mod:`qaq.labels`); keep an error for the page."""
    from qaq.labels import LabelsError, set_label, set_override

    try:
        if "label" in changes:
            set_label(path, row_id, changes["label"])
        if "override" in changes:
            set_override(path, row_id, changes["override"])
    except (LabelsError, ValueError) as e:
        st.session_state[_LABEL_ERROR] = f"Could not save: {e}"


def example_view(ws: Workspace, row_id: str, *, key: str) -> None:
    """One example: Q and A side by side, every score, flags, label/override buttons, token view."""
    from qaq import plots
    from qaq.labels import LABELS, LabelsError

    t = ws.table
    hit = t.index[t["id"].astype(str) == str(row_id)]
    if not len(hit):
        st.warning(f"No row with id {row_id!r} in this table.")
        return
    row = t.loc[hit[0]]
    st.markdown(f"**Example** `{row['id']}` · line {row['line']}")
    left, right = st.columns(2)
    with left:
        st.caption("Query (Q)")
        st.code(str(row["query"]), language=None, wrap_lines=True)
    with right:
        st.caption("Answer (A)")
        st.code(str(row["answer"]), language=views.code_language(str(row["answer"])), wrap_lines=True)
    if row.get("skip"):
        st.warning(f"Not scored: {row['skip']}.")
    flags = views.example_flags(ws, row)
    st.markdown("**Flags:** " + (", ".join(f"`{f}`" for f in flags) if flags else "none"))
    scores = views.example_scores(ws, row)
    if scores.shape[1]:
        st.dataframe(scores, key=f"{key}_scores")
        if ws.pair and "diff" in row.index:
            st.caption(f"diff = {row['diff']:.3f}, sum = {row['sum']:.3f} (strong {ws.strong}, weak {ws.weak})")

    lab_file = ws.labels_file
    if lab_file is not None:
        row_id = str(row["id"])
        try:
            cur_label, cur_override = views.row_labels(ws, row_id)
        except LabelsError as e:
            st.error(str(e))
            cur_label = cur_override = None
        st.caption(f"Label: **{cur_label or 'none'}** · override: **{cur_override or 'none'}** "
                   f"(saved in `{lab_file.name}` beside the data)")
        cols = st.columns(len(LABELS) + 3)
        # Callbacks save before the rerun draws the page, so the page shows the new state at once.
        for c, name in zip(cols, LABELS):
            c.button(name, key=f"{key}_label_{name}", type="primary" if cur_label == name else "secondary",
                     on_click=_save_labels, args=(lab_file, row_id, {"label": None if cur_label == name else name}))
        for c, name, icon in ((cols[-3], "include", ":material/add_circle:"), (cols[-2], "exclude", ":material/block:")):
            c.button(name, key=f"{key}_{name}", icon=icon, type="primary" if cur_override == name else "secondary",
                     on_click=_save_labels,
                     args=(lab_file, row_id, {"override": None if cur_override == name else name}))
        cols[-1].button("clear", key=f"{key}_clear", on_click=_save_labels,
                        args=(lab_file, row_id, {"label": None, "override": None}))
        if error := st.session_state.pop(_LABEL_ERROR, None):
            st.error(error)

    st.markdown("**Token view**: per-token NLL of Q alone and given A, with the weak model.")
    weak = ws.weak or (ws.models[0] if ws.models else None)
    spec = views.model_spec(ws, weak) if weak else None
    state_key = f"tokens:{row['id']}"
    if spec is None:
        st.caption("No scoring model is known for this table's scores, so the token view is unavailable.")
        return
    if st.button(f"Compute the token view with {weak} ({spec})", key=f"{key}_tokens",
                 help="Loads the model the first time (about 15 s for smollm2-135m)."):
        try:
            cfg = scoring.config_json(scoring.scoring_config(ws.meta))
            st.session_state[state_key] = token_view(spec, cfg, str(row["query"]), str(row["answer"]))
        except Exception as e:  # noqa: BLE001 - model resolution, loading and template errors alike
            st.error(f"Could not score the tokens: {e}")
    if state_key in st.session_state:
        tv = st.session_state[state_key]
        plotly(plots.token_heatmap(tv["tokens"], tv["nll_q"], tv["nll_q_given_a"]), key=f"{key}_heatmap")
        st.caption("Red: surprising tokens. A token whose NLL drops with A is explained by the answer.")

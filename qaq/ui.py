"""Streamlit glue for the qaq app: session state, cached loaders, the working table, shared widgets.

This is the only module of the package that imports streamlit (``import qaq`` never loads it).
The entry file ``app.py`` and the pages in ``pages/`` call it; everything it computes comes from
the library (:mod:`qaq.data`, :mod:`qaq.strata`, :mod:`qaq.selection`, ...).

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
_workspace     the :class:`Workspace` app.py built for the current run (pages read it)
============== =================================================================================

Page widgets whose value should survive a visit to another page are listed in
:data:`PERSISTENT_WIDGETS`; their defaults live in :data:`WIDGET_DEFAULTS`.

Caching: files are read under ``st.cache_data`` keyed by path + mtime + size (+ field mapping),
so an edited file is re-read and nothing else is. The working table (data joined with scores
on ``id``, then strata, ranks and diff/sum) is cached on those keys + K + ranking + roles.
Loaded scoring models live under ``st.cache_resource`` keyed by spec + config.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from qaq.columns import SCORE_FIELDS, score_column, scored_models

REPO = Path(__file__).resolve().parent.parent
APP_FILE = REPO / "app.py"
SAMPLE_DATA = REPO / "sample_data" / "code_instructions.jsonl"
SAMPLE_SCORES = REPO / "sample_data" / "code_instructions.scores.parquet"
# Environment variables `qaq app --data/--scores` sets for the app.
ENV_DATA, ENV_SCORES = "QAQ_APP_DATA", "QAQ_APP_SCORES"
UPLOAD_LIMIT_MB = 200  # also passed as --server.maxUploadSize by `qaq app`
_CACHE_HOME = Path(os.environ.get("QAQ_APP_DIR", Path.home() / ".cache" / "qaq" / "app"))
UPLOAD_DIR = _CACHE_HOME / "uploads"
SCORES_DIR = _CACHE_HOME / "scores"
BROWSE_LIMIT = 500  # rows listed at once on Browse
RANKINGS = ("stratified", "global")
WORKSPACE_KEY = "_workspace"  # the Workspace app.py built for the current run
STRATA_NOTE = ("Strata are K quantile bins of log PPL(Q); each model is binned by its own PPL(Q). "
               "Stratified ranks compare RMI only within a stratum.")
_FORMAT_SUFFIX = {".jsonl": ".jsonl", ".ndjson": ".jsonl", ".json": ".jsonl", ".csv": ".csv",
                  ".parquet": ".parquet", ".pq": ".parquet"}


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
# cached loaders


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
    """:func:`qaq.data.load_scores` of ``key[0]``; raises :class:`qaq.data.DataError`."""
    from qaq.data import load_scores as _load

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
            mapping = _mapping_key((meta.get("source") or {}).get("mapping"))
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


def _mapping_key(mapping: dict[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """load_dataset kwargs from a FieldMapping dict (as stored in score metadata) or app state."""
    if not mapping:
        return ()
    if "schema" in mapping:  # a FieldMapping as qaq.data stores it
        kw = {"query": mapping.get("query"), "answer": mapping.get("answer"),
              "input_field": mapping.get("input"), "messages": mapping.get("messages"),
              "id_field": mapping.get("id") or ""}
        if mapping.get("schema") != "custom":  # detected: let detection run again
            return (("id_field", kw["id_field"]),) if kw["id_field"] == "" else ()
        return tuple(sorted((k, v) for k, v in kw.items() if v is not None))
    return tuple(sorted((k, v) for k, v in mapping.items() if v is not None))


@st.cache_data(max_entries=8, show_spinner="Reading…")
def _summary(data_key: tuple | None, mapping: tuple, scores_key: tuple | None) -> tuple[list[str], dict[str, Any]]:
    """(scored models, score metadata) of a source: small, so a cache hit costs nothing."""
    base = _base(data_key, mapping, scores_key)
    return (scored_models(base.table.columns) if base.table is not None else []), base.meta


@st.cache_data(max_entries=4, show_spinner="Ranking…")
def _derived(data_key: tuple | None, mapping: tuple, scores_key: tuple | None, bins: int, ranking: str,
             strong: str | None, weak: str | None) -> tuple[pd.DataFrame | None, str | None, dict, tuple]:
    """The working table: the base table + each model's stratum and rank (+ diff and sum for a pair)."""
    from qaq.strata import add_disagreement, add_ranks, add_strata

    base = _base(data_key, mapping, scores_key)
    t = base.table
    if t is not None:
        for m in scored_models(t.columns):
            t = add_strata(t, m, bins=bins)
            t = add_ranks(t, m, ranking=ranking, bins=bins)
        if strong and weak and strong != weak:
            t = add_disagreement(t, strong=strong, weak=weak, ranking=ranking, bins=bins)
    return t, base.source_path, base.meta, base.notes


@dataclass(frozen=True)
class Workspace:
    """What every page works on: the table and the choices that shaped it."""

    table: pd.DataFrame | None
    models: tuple[str, ...] = ()
    strong: str | None = None
    weak: str | None = None
    bins: int = 10
    ranking: str = "stratified"
    data_path: str | None = None
    scores_path: str | None = None
    source_path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    error: str | None = None
    key: tuple = ()

    @property
    def pair(self) -> bool:
        """Both roles are set to two different scored models."""
        return bool(self.strong and self.weak and self.strong != self.weak)

    @property
    def labels_file(self) -> Path | None:
        """Where this data's labels and overrides are kept (:func:`qaq.labels.labels_path`)."""
        from qaq.labels import labels_path

        return labels_path(self.source_path) if self.source_path else None


def _default_roles(models: list[str], meta: dict[str, Any]) -> tuple[str | None, str | None]:
    if "strong" in models and "weak" in models:
        return "strong", "weak"
    if len(models) < 2:
        return (models[0] if models else None), None
    params = {m: ((meta.get("models") or {}).get(m) or {}).get("parameters") for m in models}
    if all(isinstance(p, (int, float)) for p in params.values()):
        by_size = sorted(models, key=lambda m: -params[m])
        return by_size[0], by_size[-1]
    return models[0], models[1]  # the authors' README scores the strong model first


def workspace() -> Workspace:
    """Build (from the caches) the working table for the current state; never raises.

    Sanitises the role keys in session state (call before the sidebar widgets are drawn).
    """
    from qaq.data import DataError
    from qaq.labels import LabelsError

    ss = st.session_state
    data_key, scores_key = file_key(ss["data_path"]), file_key(ss["scores_path"])
    mapping = _mapping_key(ss["mapping"])
    bins, ranking = int(ss["bins"]), ss["ranking"]
    common = dict(data_path=ss["data_path"], scores_path=ss["scores_path"], bins=bins, ranking=ranking)
    try:
        models, meta = _summary(data_key, mapping, scores_key)
        strong, weak = _default_roles(models, meta)
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
# the frame: sidebar and empty states


def sidebar(ws: Workspace) -> None:
    """The shared sidebar: dataset in use, model roles, K and the ranking."""
    sb = st.sidebar
    sb.markdown("**Dataset**")
    if ws.data_path or ws.scores_path:
        for label, p in (("data", ws.data_path or ws.source_path), ("scores", ws.scores_path)):
            if p:
                sb.caption(f"{label}: `{Path(p).name}`")
        if ws.table is not None:
            sb.caption(f"{len(ws.table):,} rows · models: {', '.join(ws.models) or 'none yet'}")
    else:
        sb.caption("No dataset yet: pick one on the Data page.")
    if ws.error:
        sb.caption(":red[Cannot load it: see the Data page.]")
    if ws.models:
        sb.markdown("**Model roles**")
        if len(ws.models) >= 2:
            sb.selectbox("Strong model", ws.models, key="strong")
            sb.selectbox("Weak model", [m for m in ws.models if m != st.session_state["strong"]], key="weak")
        else:
            sb.caption(f"One scored model ({ws.models[0]}): Diff/Sum need a second one.")
    sb.markdown("**Strata and ranks**")
    sb.slider("Strata K (PPL(Q) quantile bins)", 1, 50, key="bins")
    sb.radio("RMI ranking", RANKINGS, key="ranking", horizontal=True,
             help="stratified: RMI ranked within each stratum (QAQ); global: over the whole table "
                  "(the authors' README snippet).")
    sb.caption(STRATA_NOTE)
    from streamlit import config

    address = config.get_option("server.address")
    if address not in ("localhost", "127.0.0.1", "::1"):
        sb.warning("This server listens on every network interface, so anyone who can reach this machine can "
                   "open the app and read files through it. `qaq app` listens on localhost only.")


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


# --------------------------------------------------------------------------------------------
# the Data page


def source_fields(path: str | os.PathLike[str], *, sample: int = 200) -> list[str]:
    """Field names of a data file, from its first ``sample`` records (for the mapping widgets)."""
    import pyarrow.parquet as pq

    from qaq.data import DataError, read_records

    p = Path(path)
    suffix = p.name.lower().removesuffix(".gz")
    if suffix.endswith((".parquet", ".pq")):
        try:
            return list(pq.ParquetFile(p).schema_arrow.names)
        except Exception as e:  # noqa: BLE001 - any arrow failure: not a readable Parquet file
            raise DataError(f"not a readable Parquet file: {e}", path=p) from None
    if suffix.endswith(".csv"):
        try:
            return [str(c) for c in pd.read_csv(p, nrows=0).columns]
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read the CSV header: {e}", path=p) from None
    fields: dict[str, None] = {}
    for i, (_, record) in enumerate(read_records(p)):
        if i >= sample:
            break
        if isinstance(record, str):
            try:
                record = json.loads(record)
            except json.JSONDecodeError:
                continue
        if isinstance(record, dict):
            fields.update(dict.fromkeys(record))
    return list(fields)


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


@st.cache_data(max_entries=8, show_spinner=False)
def _lengths(key: tuple, _table: pd.DataFrame, model: str | None) -> tuple[pd.DataFrame, str]:
    if model is not None and score_column(model, "n_tokens_q") in _table.columns:
        cols = {"query": score_column(model, "n_tokens_q"), "answer": score_column(model, "n_tokens_a")}
        return pd.DataFrame({k: _table[c].astype("float64") for k, c in cols.items()}), f"{model} tokens"
    return pd.DataFrame({"query": _table["query"].str.len(), "answer": _table["answer"].str.len()}), "characters"


def lengths(ws: Workspace, *, model: str | None = None) -> tuple[pd.DataFrame, str]:
    """Q and A lengths for :func:`qaq.plots.length_histograms`: tokens of ``model`` when scored, else characters."""
    return _lengths(ws.key, ws.table, model)


@st.cache_data(max_entries=4, show_spinner=False)
def _validation_report(key: tuple, _table: pd.DataFrame) -> dict[str, Any]:
    from qaq.data import skipped_rows

    skipped = skipped_rows(_table)
    dup = _table.duplicated(subset=["query", "answer"], keep="first")
    return {
        "rows": len(_table),
        "to_score": len(_table) - len(skipped),
        "skipped": skipped,
        "duplicate_pairs": _table.loc[dup, ["id", "line"]],
    }


def validation_report(ws: Workspace) -> dict[str, Any]:
    """Counts for the Data page: rows, rows to score, skipped rows (with line numbers), repeated pairs."""
    return _validation_report(ws.key, ws.table)


# --------------------------------------------------------------------------------------------
# the Score page


@st.cache_data(show_spinner="Detecting the device…")
def device_summary() -> dict[str, Any]:
    """What ``--device auto`` will use: GPU name and memory when CUDA is there, else the CPU."""
    from qaq.backend import choose_device, cpu_has_bf16  # imports torch, once per server

    device, reason = choose_device("auto")
    info: dict[str, Any] = {"device": device, "reason": reason, "cpus": os.cpu_count(),
                            "cpu_bf16": cpu_has_bf16(), "gpus": []}
    if device.startswith("cuda") and shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10, check=True).stdout
            info["gpus"] = [line.strip() for line in out.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    return info


def scoring_config(meta: dict[str, Any] | None = None, **overrides: Any) -> Any:
    """A :class:`qaq.scoring.ScoringConfig` from score metadata (same template as the scores) + overrides."""
    from dataclasses import fields as dc_fields

    from qaq.scoring import ScoringConfig

    names = {f.name for f in dc_fields(ScoringConfig)}
    given = {k: v for k, v in ((meta or {}).get("config") or {}).items() if k in names}
    return ScoringConfig(**{**given, **overrides})


@st.cache_resource(max_entries=2, show_spinner="Loading the model (15-40 s the first time)…")
def scoring_model(spec: str, config_json: str) -> Any:
    """A loaded :class:`qaq.backend.ScoringModel`, shared by every session (keyed by spec + config)."""
    from qaq.scoring import ScoringConfig, load_scoring_model

    return load_scoring_model(spec, ScoringConfig(**json.loads(config_json)))


def config_json(config: Any) -> str:
    from dataclasses import asdict

    return json.dumps(asdict(config), sort_keys=True)


def model_spec(ws: Workspace, model: str) -> str | None:
    """The spec a scored model was loaded from (score metadata), or the default for its role."""
    from qaq.models import DEFAULT_MODELS

    spec = ((ws.meta.get("models") or {}).get(model) or {}).get("spec")
    if spec and not str(spec).startswith("synthetic"):
        return str(spec)
    return DEFAULT_MODELS.get(model)


def score_output(data_path: str) -> Path:
    """Where a scoring job started from the app writes: one file per data file version."""
    key = file_key(data_path)
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:12]
    return SCORES_DIR / f"{Path(data_path).name.split('.')[0]}-{digest}.scores.parquet"


def score_args(data_path: str, models: dict[str, str], mapping: dict[str, Any], *, device: str = "auto",
               dtype: str = "auto", max_length: int = 2048, batch_tokens: int = 16384) -> list[str]:
    """The ``qaq score`` arguments of a job (see :func:`qaq.jobs.start_job`)."""
    flags = {"query": "--query", "answer": "--answer", "input_field": "--input-field",
             "id_field": "--id-field", "messages": "--messages", "fmt": "--format"}
    args = [data_path, "-o", str(score_output(data_path))]
    for name, spec in models.items():
        args += ["-m", f"{name}={spec}"]
    for k, v in dict(_mapping_key(mapping)).items():
        args += [flags[k], str(v)]
    return args + ["--device", device, "--dtype", dtype, "--max-length", str(max_length),
                   "--batch-tokens", str(batch_tokens)]


def find_job(data_path: str | None) -> str | None:
    """The newest background job scoring ``data_path`` (so a reloaded page finds its job again)."""
    from qaq import jobs

    if not data_path or not jobs.JOBS_DIR.is_dir():
        return None
    target = str(Path(data_path).resolve())
    for d in sorted(jobs.JOBS_DIR.iterdir(), reverse=True):
        try:
            cmd = json.loads((d / "job.json").read_text())["cmd"]
        except (OSError, ValueError, KeyError):
            continue
        if any(str(Path(c).resolve()) == target for c in cmd[4:5]):
            return d.name
    return None


def start_job(args: list[str]) -> str:
    """:func:`qaq.jobs.start_job` in the jobs folder (``$QAQ_JOBS_DIR``, read at call time)."""
    from qaq import jobs

    score_output(args[0]).parent.mkdir(parents=True, exist_ok=True)
    return jobs.start_job(args, jobs_dir=jobs.JOBS_DIR)


def job_status(job_id: str) -> dict[str, Any]:
    from qaq import jobs

    return jobs.job_status(job_id, jobs_dir=jobs.JOBS_DIR)


def cancel_job(job_id: str) -> None:
    from qaq import jobs

    jobs.cancel_job(job_id, jobs_dir=jobs.JOBS_DIR)


def last_log_line(status: dict[str, Any]) -> str:
    """The job log's last non-empty line (what the job is doing), without progress-bar noise."""
    lines = [ln.strip() for ln in str(status.get("log_tail") or "").replace("\r", "\n").splitlines()]
    lines = [ln for ln in lines if ln]
    return lines[-1][:200].replace("`", "'") if lines else ""


def job_output(status: dict[str, Any]) -> str | None:
    cmd = status.get("cmd") or []
    return cmd[cmd.index("-o") + 1] if "-o" in cmd else None


def table_height(n_rows: int, *, most: int = 360) -> int:
    """Pixel height of an ``st.dataframe`` showing ``n_rows`` rows, capped (no empty filler rows)."""
    return min(most, 35 * (n_rows + 1) + 3)


def rows_text(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def duration(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "unknown"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --------------------------------------------------------------------------------------------
# derived views, cached on the workspace key


@st.cache_data(max_entries=16, show_spinner=False)
def _selection(key: tuple, _table: pd.DataFrame, recipe_json: str) -> tuple[pd.Series, pd.DataFrame]:
    from qaq.selection import parse_recipe, select, stratum_counts

    recipe = parse_recipe(json.loads(recipe_json))
    picked = select(_table, recipe)
    return picked["selected"].astype(bool), stratum_counts(picked, recipe)


def selection(ws: Workspace, recipe: dict[str, Any]) -> tuple[pd.Series, pd.DataFrame]:
    """(selected mask aligned with the table, counts per stratum) of a recipe; raises RecipeError."""
    return _selection(ws.key, ws.table, json.dumps(recipe, sort_keys=True))


def current_selection(ws: Workspace, recipe: dict[str, Any] | None) -> tuple[pd.Series | None, str | None]:
    """(selected mask, None), or (None, why not) when there is no recipe or it does not fit the table."""
    from qaq.selection import RecipeError

    if recipe is None or ws.table is None:
        return None, None
    try:
        return selection(ws, recipe)[0], None
    except (RecipeError, KeyError, ValueError) as e:
        return None, str(e)


@st.cache_data(max_entries=8, show_spinner=False)
def _suspicion(key: tuple, _table: pd.DataFrame, model: str, strong: str | None, weak: str | None,
               bins: int) -> pd.DataFrame:
    from qaq.detection import suspicion_scores

    return suspicion_scores(_table, model=model, strong=strong, weak=weak, bins=bins)


def suspicion(ws: Workspace, model: str) -> pd.DataFrame:
    """:func:`qaq.detection.suspicion_scores` of ``model`` (with Diff when both roles are set)."""
    s, w = (ws.strong, ws.weak) if ws.pair else (None, None)
    return _suspicion(ws.key, ws.table, model, s, w, ws.bins)


def labels(ws: Workspace) -> pd.DataFrame:
    """The user's labels and overrides of this data (:func:`qaq.labels.load_labels`); raises LabelsError."""
    from qaq.labels import load_labels

    if ws.labels_file is None:
        return load_labels(Path(tempfile.gettempdir()) / "qaq-no-such-labels-file.json")
    return load_labels(ws.labels_file)


def label_column(ws: Workspace) -> pd.Series:
    """The user's label of every row (``<NA>`` where none), aligned with the table."""
    lab = labels(ws)
    by_id = dict(zip(lab["id"].astype(str), lab["label"]))
    return ws.table["id"].astype(str).map(by_id).astype("string")


def label_sources(ws: Workspace) -> dict[str, tuple[str, str]]:
    """Label columns detection can use: name -> (column, clean label)."""
    out: dict[str, tuple[str, str]] = {}
    if ws.table is not None and "defect" in ws.table.columns:
        out["the data's `defect` column"] = ("defect", "none")
    try:
        if labels(ws)["label"].notna().any():
            out["your labels"] = ("label", "ok")
    except Exception:  # noqa: BLE001 - an unreadable labels file is reported on Browse
        pass
    return out


def browse_rows(ws: Workspace, *, model: str | None, stratum: int | None, sort_by: str, ascending: bool,
                search: str = "", label: str | None = None, limit: int = BROWSE_LIMIT) -> tuple[pd.DataFrame, int]:
    """Rows for the Browse list: filtered by stratum, label and text, sorted; (first ``limit``, total)."""
    t = ws.table
    mask = np.ones(len(t), dtype=bool)
    if model is not None and stratum is not None:
        mask &= (t[score_column(model, "stratum")] == stratum).to_numpy(dtype=bool, na_value=False)
    if label is not None:
        lab = label_column(ws)
        mask &= (lab.isna() if label == "(unlabelled)" else lab == label).to_numpy(dtype=bool, na_value=False)
    if search.strip():
        needle = search.strip()
        hit = (t["query"].str.contains(needle, case=False, regex=False)
               | t["answer"].str.contains(needle, case=False, regex=False))
        mask &= hit.to_numpy(dtype=bool, na_value=False)
    rows = t.loc[mask]
    if sort_by in rows.columns:
        rows = rows.sort_values(sort_by, ascending=ascending, na_position="last", kind="stable")
    return rows.head(limit), int(mask.sum())


def list_columns(ws: Workspace, extra: list[str] | None = None) -> list[str]:
    """Columns shown in example lists: id, line, Q/A, each model's RMI and rank, diff, sum, defect."""
    cols = ["id", "line", "query", "answer"]
    for m in ws.models:
        cols += [score_column(m, "rmi"), score_column(m, "stratum"), score_column(m, "rank")]
    cols += [c for c in ("diff", "sum", "defect") if ws.table is not None and c in ws.table.columns]
    return [c for c in dict.fromkeys(cols + (extra or [])) if ws.table is not None and c in ws.table.columns]


def sortable_columns(ws: Workspace) -> list[str]:
    """Numeric columns a list can be sorted by: every score, stratum, rank, diff, sum, line."""
    t = ws.table
    cols = [score_column(m, f) for m in ws.models for f in (*SCORE_FIELDS, "stratum", "rank")]
    cols += ["diff", "sum", "line"]
    return [c for c in cols if c in t.columns]


def most_disagreed(ws: Workspace, n: int = 20) -> pd.DataFrame:
    """The ``n`` rows with the largest |diff|, most disagreed first."""
    t = ws.table
    order = t["diff"].abs().sort_values(ascending=False, na_position="last", kind="stable").index[:n]
    return t.loc[order, list_columns(ws)]


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


@st.cache_data(max_entries=16, show_spinner=False)
def _quadrants(key: tuple, _table: pd.DataFrame, diff_threshold: float, sum_threshold: float) -> pd.DataFrame:
    from qaq.compare import quadrant_counts

    return quadrant_counts(_table, diff_threshold=diff_threshold, sum_threshold=sum_threshold)


def quadrants(ws: Workspace, diff_threshold: float, sum_threshold: float) -> pd.DataFrame:
    """:func:`qaq.compare.quadrant_counts` of the working table."""
    return _quadrants(ws.key, ws.table, float(diff_threshold), float(sum_threshold))


@st.cache_data(max_entries=8, show_spinner=False)
def _strong_weak_spearman(key: tuple, _table: pd.DataFrame, strong: str, weak: str, bins: int) -> pd.DataFrame:
    from qaq.strata import strong_weak_spearman

    return strong_weak_spearman(_table, strong=strong, weak=weak, bins=bins)


def strong_weak_spearman(ws: Workspace) -> pd.DataFrame:
    """Spearman of the strong and weak RMI, overall (first line) and per stratum of the strong model."""
    return _strong_weak_spearman(ws.key, ws.table, ws.strong, ws.weak, ws.bins)


def rows_by_id(ws: Workspace, ids: list[str]) -> pd.DataFrame:
    t = ws.table
    return t.loc[t["id"].astype(str).isin([str(i) for i in ids]), list_columns(ws)]


# --------------------------------------------------------------------------------------------
# the example view (Browse, Disagreement)


def example_scores(ws: Workspace, row: pd.Series) -> pd.DataFrame:
    """Every score of one row: a line per model, a column per field (stratum and rank included)."""
    fields = [*SCORE_FIELDS, "stratum", "rank"]
    data = {f: [row.get(score_column(m, f)) for m in ws.models] for f in fields}
    out = pd.DataFrame(data, index=pd.Index(ws.models, name="model"))
    return out.loc[:, [f for f in fields if out[f].notna().any()]]


def _code_language(text: str) -> str | None:
    """Markdown highlighting for answers with fenced code, else plain text."""
    return "markdown" if "```" in text else None


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
    from qaq.detection import row_flags
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
        st.code(str(row["answer"]), language=_code_language(str(row["answer"])), wrap_lines=True)
    if row.get("skip"):
        st.warning(f"Not scored: {row['skip']}.")
    flags = sorted({f for m in ws.models for f in row_flags(row, model=m)})
    st.markdown("**Flags:** " + (", ".join(f"`{f}`" for f in flags) if flags else "none"))
    scores = example_scores(ws, row)
    if scores.shape[1]:
        st.dataframe(scores, key=f"{key}_scores")
        if ws.pair and "diff" in row.index:
            st.caption(f"diff = {row['diff']:.3f}, sum = {row['sum']:.3f} (strong {ws.strong}, weak {ws.weak})")

    lab_file = ws.labels_file
    if lab_file is not None:
        try:
            current = labels(ws)
            entry = current[current["id"] == str(row["id"])]
            cur_label = entry["label"].iloc[0] if len(entry) else None
            cur_override = entry["override"].iloc[0] if len(entry) else None
        except LabelsError as e:
            st.error(str(e))
            cur_label = cur_override = None
        cur_label = None if pd.isna(cur_label) else cur_label
        cur_override = None if pd.isna(cur_override) else cur_override
        st.caption(f"Label: **{cur_label or 'none'}** · override: **{cur_override or 'none'}** "
                   f"(saved in `{lab_file.name}` beside the data)")
        row_id = str(row["id"])
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
    spec = model_spec(ws, weak) if weak else None
    state_key = f"tokens:{row['id']}"
    if spec is None:
        st.caption("No scoring model is known for this table's scores, so the token view is unavailable.")
        return
    if st.button(f"Compute the token view with {weak} ({spec})", key=f"{key}_tokens",
                 help="Loads the model the first time (about 15 s for smollm2-135m)."):
        try:
            cfg = config_json(scoring_config(ws.meta))
            st.session_state[state_key] = token_view(spec, cfg, str(row["query"]), str(row["answer"]))
        except Exception as e:  # noqa: BLE001 - model resolution, loading and template errors alike
            st.error(f"Could not score the tokens: {e}")
    if state_key in st.session_state:
        tv = st.session_state[state_key]
        plotly(plots.token_heatmap(tv["tokens"], tv["nll_q"], tv["nll_q_given_a"]), key=f"{key}_heatmap")
        st.caption("Red: surprising tokens. A token whose NLL drops with A is explained by the answer.")


# --------------------------------------------------------------------------------------------
# the Select & export page


ARMS: dict[str, str] = {
    "diff_high": "QAQ: Diff-High", "diff_low": "Diff-Low", "sum_high": "Sum-High", "sum_low": "Sum-Low",
    "rmi_band": "RMI rank band (one model)", "ifd": "IFD (Cherry LLM)", "random": "Random",
}


def overrides(ws: Workspace) -> tuple[list[str], list[str]]:
    """(include ids, exclude ids) set on Browse (:func:`qaq.labels.overrides`); raises LabelsError."""
    from qaq.labels import overrides as _overrides

    if ws.labels_file is None:
        return [], []
    return _overrides(ws.labels_file)


@st.cache_data(max_entries=16, show_spinner=False)
def _retention(key: tuple, _table: pd.DataFrame, column: str, keep: str) -> pd.DataFrame:
    from qaq.compare import retention_curve

    return retention_curve(_table[column], keep=keep)


def retention(ws: Workspace, recipe: dict[str, Any]) -> tuple[pd.DataFrame, str] | None:
    """The retention curve of the score a recipe thresholds, and that score's name (None for random)."""
    method = recipe["method"]
    if method in ("random",):
        return None
    if method == "rmi_band":
        column = score_column(recipe["model"], "rmi")
    elif method == "ifd":
        column = score_column(recipe["model"], "ifd")
    else:
        column = method.split("_")[0]
    keep = "less" if method.endswith("_low") or method == "ifd" else "greater"
    return _retention(ws.key, ws.table, column, keep), column


def comparison_arms(ws: Workspace, n: int) -> dict[str, dict[str, Any]]:
    """Recipes of the paper's other arms at the same size ``n``: QAQ (Diff-High), IFD and random."""
    arms: dict[str, dict[str, Any]] = {}
    if n < 2:  # a budget of 1 would read as a fraction: 100%
        return arms
    if ws.pair:
        arms["QAQ (Diff-High)"] = {"method": "diff_high", "strong": ws.strong, "weak": ws.weak, "budget": n,
                                   "ranking": ws.ranking, "bins": ws.bins}
    model = ws.strong or ws.models[0]
    if score_column(model, "ifd") in ws.table.columns:
        arms["IFD"] = {"method": "ifd", "model": model, "budget": n, "bins": ws.bins}
    arms["random"] = {"method": "random", "budget": n, "seed": 0}
    return arms


def overlaps(ws: Workspace, current: pd.Series, arms: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Overlap (:func:`qaq.compare.overlap`) of the current selection with each arm."""
    from qaq.compare import overlap

    mine = np.flatnonzero(current.to_numpy(dtype=bool))
    rows = []
    for name, recipe in arms.items():
        other = np.flatnonzero(selection(ws, recipe)[0].to_numpy(dtype=bool))
        o = overlap(mine, other)
        rows.append({"arm": name, "rows": o["n_b"], "shared": o["n_both"], "share of current": o["share_of_a"],
                     "jaccard": o["jaccard"]})
    return pd.DataFrame(rows, columns=["arm", "rows", "shared", "share of current", "jaccard"])


@st.cache_data(max_entries=8, show_spinner="Measuring detection quality…")
def _detection(key: tuple, labels_key: tuple | None, _table: pd.DataFrame, _scores: pd.DataFrame, column: str,
               clean: str) -> dict[str, Any]:
    from qaq.detection import detection_table, is_defect, pr_curves, roc_curves

    truth = is_defect(_table, label_col=column, clean=clean)
    out: dict[str, Any] = {"table": detection_table(_table, _scores, label_col=column, clean=clean),
                           "truth": truth, "roc": {}, "pr": {}}
    try:
        out["roc"], out["pr"] = roc_curves(truth, _scores), pr_curves(truth, _scores)
    except ValueError as e:  # one class only: the table says so too
        out["error"] = str(e)
    return out


def detection(ws: Workspace, source: tuple[str, str], model: str) -> dict[str, Any]:
    """Detection quality of ``model``'s suspicion scores against a label source (see :func:`label_sources`).

    Returns ``table`` (:func:`qaq.detection.detection_table`), ``truth`` (:func:`qaq.detection.is_defect`),
    ``roc`` and ``pr`` curves (empty with an ``error`` when the labels hold one class only).
    """
    column, clean = source
    table = ws.table
    labels_key = None
    if column == "label":
        table = table.assign(label=label_column(ws))
        labels_key = file_key(ws.labels_file)
    return _detection(ws.key + (model,), labels_key, table, suspicion(ws, model), column, clean)


def defect_shares(ws: Workspace, source: tuple[str, str], selections: dict[str, pd.Series]) -> pd.DataFrame:
    """:func:`qaq.detection.defect_share` of each selection (and of all data) for a label source."""
    from qaq.detection import defect_share

    column, clean = source
    table = ws.table.assign(label=label_column(ws)) if column == "label" else ws.table
    return defect_share(table, selections, label_col=column, clean=clean)



def output_suffix(source_path: str) -> str:
    """The suffix of exports: the source's own format (a JSON array is written as JSONL)."""
    name = Path(source_path).name.lower().removesuffix(".gz")
    return _FORMAT_SUFFIX.get(os.path.splitext(name)[1], ".jsonl")


def select_command(ws: Workspace, recipe: dict[str, Any]) -> str:
    """The ``qaq select`` command line that reproduces the selection."""
    suffix = output_suffix(ws.source_path or "x.jsonl")
    parts = ["qaq", "select"]
    if ws.scores_path:
        parts.append(ws.scores_path)
        if ws.source_path and ws.source_path != str(Path(ws.scores_path).resolve()):
            parts += ["--data", ws.source_path]
    parts += ["--recipe", json.dumps(recipe, separators=(",", ":")), "-o", f"selected{suffix}",
              "--discarded", f"discarded{suffix}", "--manifest", "manifest.json"]
    return " ".join(shlex.quote(p) for p in parts)


def export_files(ws: Workspace, recipe: dict[str, Any]) -> dict[str, bytes]:
    """Selected rows, discarded rows (original format) and the manifest, as bytes by file name."""
    from qaq.export import export_selection, file_sha256
    from qaq.selection import parse_recipe

    r = parse_recipe(recipe)
    mask, _ = selection(ws, recipe)
    picked = ws.table.assign(selected=mask.to_numpy())
    suffix = output_suffix(ws.source_path)
    inputs: dict[str, Any] = {"data": {"path": ws.source_path, "sha256": file_sha256(ws.source_path)}}
    if ws.scores_path and Path(ws.scores_path).resolve() != Path(ws.source_path).resolve():
        inputs["scores"] = {"path": str(Path(ws.scores_path).resolve()), "sha256": file_sha256(ws.scores_path)}
    config = ws.meta.get("config") or {}
    names = {"selected": f"selected{suffix}", "discarded": f"discarded{suffix}", "manifest": "manifest.json"}
    with tempfile.TemporaryDirectory(prefix="qaq-export-") as d:
        paths = {k: Path(d) / v for k, v in names.items()}
        export_selection(picked, ws.source_path, paths["selected"], recipe=r, discarded_path=paths["discarded"],
                         manifest_path=paths["manifest"], inputs=inputs, models=ws.meta.get("models") or {},
                         templates={k: config[k] for k in ("template", "system", "reverse_instruction")
                                    if k in config},
                         extra={"command": select_command(ws, recipe)})
        return {names[k]: p.read_bytes() for k, p in paths.items()}


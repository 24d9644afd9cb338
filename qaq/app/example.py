"""The example view (Browse, Disagreement): Q and A, every score, flags, labels and the token view.

Imports streamlit (it draws). What it shows of a row is computed in :mod:`qaq.app.rows`, the
labels it writes in :mod:`qaq.app.labelling`, and the token view's model, config, cost and
agreement with the score file in :mod:`qaq.app.tokenview` (which does not import streamlit).
"""

from __future__ import annotations

import json
import time
import weakref
from typing import TYPE_CHECKING, Any, Literal, cast

import pandas as pd
import streamlit as st

from qaq.app import labelling, paths, rows, runs, score_setup, tokenview
from qaq.app.table import Workspace
from qaq.app.widgets import plotly
from qaq.scoring import engine

if TYPE_CHECKING:
    from qaq.plots.text import TokenColor
    from qaq.scoring.tokens import TokenNlls

TEXT_BOX_PX = 420  # a long Q or A scrolls inside a box this high (the labels stay near)
LONG_TEXT_CHARS = 1200  # ... from this many characters on
TOKENS_BOX_PX = 520  # a token text figure taller than this scrolls inside a box this high
_COLOR_NAMES = {
    "explained": "what the other text explains",
    "alone": "NLL alone",
    "given": "NLL given the other text",
}


@st.cache_resource
def _loaded() -> dict[str, weakref.ref]:
    """Timing key -> the model :func:`qaq.app.runs.scoring_model` holds for it, while it does
    (one per server: whether the next view has to load it first)."""
    return {}


def _is_loaded(key: str) -> bool:
    ref = _loaded().get(key)
    return ref is not None and ref() is not None


@st.cache_data(max_entries=64, show_spinner=False)
def token_view(spec: str, config: str, query: str, answer: str) -> TokenNlls:
    """:meth:`qaq.scoring.backend.ScoringModel.token_nlls` with the server's loaded model; keeps
    the load time and the token rate it measured (:func:`qaq.app.tokenview.record_timing`)."""
    key = tokenview.timing_key(spec, config)
    was_loaded = _is_loaded(key)
    t0 = time.perf_counter()
    sm = runs.scoring_model(spec, config)
    t1 = time.perf_counter()
    _loaded()[key] = weakref.ref(sm)
    view = sm.token_nlls(query, answer, max_length=json.loads(config)["max_length"])
    seconds = time.perf_counter() - t1
    tokenview.record_timing(
        paths.TIMINGS_FILE,
        key,
        load_seconds=None if was_loaded else t1 - t0,
        tokens_per_second=view.forwarded / seconds if seconds > 0 else None,
    )
    return view


def example_view(
    ws: Workspace, row_id: str, *, key: str, search: str = "", steps: labelling.Steps | None = None
) -> None:
    """One example: Q and A side by side (``search`` hits highlighted), every score, flags, label
    and override buttons (with ``steps``: the previous and next row of the list), the token view."""
    t = ws.table
    assert t is not None, "Browse and Disagreement show an example only once their table is loaded"
    hit = t.index[t["id"].astype(str) == str(row_id)]
    if not len(hit):
        st.warning(f"No row with id {row_id!r} in this table.")
        return
    row = t.loc[hit[0]]
    st.markdown(f"**Example** `{row['id']}` · line {row['line']}")
    _query_and_answer(row, search)
    if row.get("skip"):
        st.warning(f"Not scored: {row['skip']}.")
    flags = rows.example_flags(ws, row)
    st.markdown("**Flags:** " + (", ".join(f"`{f}`" for f in flags) if flags else "none"))
    scores = rows.example_scores(ws, row)
    if scores.shape[1]:
        st.dataframe(scores, key=f"{key}_scores")
        if ws.pair and "diff" in row.index:
            st.caption(f"diff = {row['diff']:.3f}, sum = {row['sum']:.3f} (strong {ws.strong}, weak {ws.weak})")
    labelling.label_bar(ws, str(row["id"]), key=key, steps=steps)
    _token_panel(ws, row, key=key)


def _query_and_answer(row: pd.Series, search: str) -> None:
    """Q and A side by side: as code, or, with search hits, as escaped text with the hits marked."""
    texts = {"Query (Q)": str(row["query"]), "Answer (A)": str(row["answer"])}
    marked = {name: rows.highlighted(text, search) for name, text in texts.items()} if search.strip() else {}
    show_hits = any(n for _, n in marked.values())
    for column, (name, text) in zip(st.columns(2), texts.items()):
        with column:
            height: int | Literal["content"] = TEXT_BOX_PX if len(text) > LONG_TEXT_CHARS else "content"
            if not show_hits:
                st.caption(name)
                language = rows.code_language(text) if name.startswith("Answer") else None
                st.code(text, language=language, wrap_lines=True, height=height)
                continue
            md, n = marked[name]
            st.caption(f"{name} · {n:,} hit{'' if n == 1 else 's'} of “{search.strip()}” marked")
            with st.container(height=height, border=True):
                st.markdown(md)


def _token_panel(ws: Workspace, row: pd.Series, *, key: str) -> None:
    """The token view: the model to run, its cost, a button; then the numbers and both spans' tokens."""
    models = tokenview.view_models(ws)
    st.markdown("**Token view**: every token's NLL, query and answer, each without and with the other text.")
    if not models:
        st.caption("No scoring model is known for this table's scores, so the token view is unavailable.")
        return
    model = models[0]
    if len(models) > 1:
        model = str(st.radio("Model", models, key=f"{key}_token_model", horizontal=True))
    spec = score_setup.model_spec(ws, model)
    assert spec is not None, "view_models lists models with a spec"
    cfg = engine.config_json(tokenview.view_config(ws, auto_device=lambda: runs.device_summary()["device"]))
    tkey = tokenview.timing_key(spec, cfg)
    loaded = _is_loaded(tkey)
    cost = tokenview.view_cost(ws, row, model, timing=tokenview.read_timing(paths.TIMINGS_FILE, tkey), loaded=loaded)
    state_key = f"tokens:{model}:{row['id']}"
    there = tokenview.file_placement(ws, model)
    st.caption(f"With {model} (`{spec}`); the score file computed it in {there or 'an unrecorded precision'}.")
    if st.button(
        f"Compute the token view: {cost.text()}",
        key=f"{key}_tokens",
        help="Two forwards of the model, the same as scoring this row; the model is loaded once per server.",
    ):
        try:
            with st.spinner(f"Scoring the tokens with {model}: {cost.text()}…"):
                st.session_state[state_key] = token_view(spec, cfg, str(row["query"]), str(row["answer"]))
        except Exception as e:  # noqa: BLE001 - model resolution, loading and template errors alike
            st.error(f"Could not score the tokens: {e}")
    if state_key in st.session_state:
        _token_results(ws, row, model, st.session_state[state_key], key=key)


def _token_results(ws: Workspace, row: pd.Series, model: str, view: TokenNlls, *, key: str) -> None:
    """The view's means next to the score file's, then the query's and the answer's tokens."""
    from qaq import plots

    table = tokenview.comparison(ws, row, model, view)
    ok, note = tokenview.agreement(ws, model, view, table)
    st.caption(
        f"Token view: {model} in **{view.placement}** · score file: **{tokenview.file_placement(ws, model) or 'not recorded'}**"
    )
    formats = {"token view": "{:.4f}", "score file": "{:.4f}", "difference": "{:+.1e}"}
    st.dataframe(table.style.format(formats, na_rep="–"), key=f"{key}_token_means")
    (st.caption if ok else st.warning)(note)
    if view.truncated:
        st.caption(
            f"{view.truncated:,} tokens were cut by the max length, as in scoring: the view shows the kept ones."
        )
    color = cast(
        "TokenColor",
        st.radio(
            "Colour the tokens by",
            plots.TOKEN_COLORS,
            key=f"{key}_token_color",
            horizontal=True,
            format_func=_COLOR_NAMES.get,
        ),
    )
    for span in ("query", "answer"):
        tokens, alone, given = view.span(span)
        fig = plots.token_text(tokens, alone, given, span=span, color=color)
        _scrolling_chart(fig, key=f"{key}_tokens_{span}")


def _scrolling_chart(fig: Any, *, key: str) -> None:
    """A chart at its own height, inside a box that scrolls when it is taller than :data:`TOKENS_BOX_PX`."""
    if (fig.layout.height or 0) <= TOKENS_BOX_PX:
        plotly(fig, key=key)
        return
    with st.container(height=TOKENS_BOX_PX, key=f"{key}_box"):
        plotly(fig, key=key)

"""The example view (Browse, Disagreement): Q and A, every score, flags, labels and the token view."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from qaq.app import runs, views
from qaq.app.views import Workspace
from qaq.app.widgets import plotly
from qaq.scoring import engine


@st.cache_data(max_entries=64, show_spinner="Scoring the query token by token…")
def token_view(spec: str, config: str, query: str, answer: str) -> dict[str, list]:
    """Per-token NLL of Q without and with A (:meth:`qaq.scoring.backend.ScoringModel.token_nlls`)."""
    sm = runs.scoring_model(spec, config)
    return sm.token_nlls(query, answer, max_length=json.loads(config)["max_length"])


_LABEL_ERROR = "_label_error"


def _save_labels(path: Path, row_id: str, changes: dict[str, str | None]) -> None:
    """Button callback: write a label and/or override (:mod:`qaq.io.labels`); keep an error for the page."""
    from qaq.io.labels import LabelsError, set_label, set_override

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
    from qaq.io.labels import LABELS, LabelsError

    t = ws.table
    assert t is not None, "Browse and Disagreement show an example only once their table is loaded"
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
        st.caption(
            f"Label: **{cur_label or 'none'}** · override: **{cur_override or 'none'}** "
            f"(saved in `{lab_file.name}` beside the data)"
        )
        cols = st.columns(len(LABELS) + 3)
        # Callbacks save before the rerun draws the page, so the page shows the new state at once.
        for c, name in zip(cols, LABELS):
            c.button(
                name,
                key=f"{key}_label_{name}",
                type="primary" if cur_label == name else "secondary",
                on_click=_save_labels,
                args=(lab_file, row_id, {"label": None if cur_label == name else name}),
            )
        for c, name, icon in (
            (cols[-3], "include", ":material/add_circle:"),
            (cols[-2], "exclude", ":material/block:"),
        ):
            c.button(
                name,
                key=f"{key}_{name}",
                icon=icon,
                type="primary" if cur_override == name else "secondary",
                on_click=_save_labels,
                args=(lab_file, row_id, {"override": None if cur_override == name else name}),
            )
        cols[-1].button(
            "clear",
            key=f"{key}_clear",
            on_click=_save_labels,
            args=(lab_file, row_id, {"label": None, "override": None}),
        )
        if error := st.session_state.pop(_LABEL_ERROR, None):
            st.error(error)

    st.markdown("**Token view**: per-token NLL of Q alone and given A, with the weak model.")
    weak = ws.weak or (ws.models[0] if ws.models else None)
    spec = views.model_spec(ws, weak) if weak else None
    state_key = f"tokens:{row['id']}"
    if spec is None:
        st.caption("No scoring model is known for this table's scores, so the token view is unavailable.")
        return
    if st.button(
        f"Compute the token view with {weak} ({spec})",
        key=f"{key}_tokens",
        help="Loads the model the first time (about 15 s for smollm2-135m).",
    ):
        try:
            cfg = engine.config_json(engine.scoring_config(ws.meta))
            st.session_state[state_key] = token_view(spec, cfg, str(row["query"]), str(row["answer"]))
        except Exception as e:  # noqa: BLE001 - model resolution, loading and template errors alike
            st.error(f"Could not score the tokens: {e}")
    if state_key in st.session_state:
        tv = st.session_state[state_key]
        plotly(plots.token_heatmap(tv["tokens"], tv["nll_q"], tv["nll_q_given_a"]), key=f"{key}_heatmap")

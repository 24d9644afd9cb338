"""Labelling in the app: a button and a key per label and override, the next and previous row of
the list, and one label for every row picked on a chart.

Imports streamlit (it draws). The labels are written by :mod:`qaq.io.labels` (through
:mod:`qaq.app.labels` for many rows at once); which rows are next is :func:`qaq.app.rows.neighbours`.
Buttons save in their callbacks, before the rerun draws the page, so the page shows the new
state at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from qaq.app import labels, rows
from qaq.app.table import Workspace
from qaq.io.labels import LABELS, LabelsError, set_label, set_override

_ERROR = "_label_error"  # a failed save, shown by the next run
_DONE = "_label_done"  # (saved, message) of the last bulk labelling


@dataclass(frozen=True)
class Steps:
    """The list an example was opened from (Browse): its neighbours and how to open one of them."""

    around: rows.Neighbours
    open: Callable[[str], None]  # open this row of the list (run in a callback: it may turn the page)
    advance_key: str | None = None  # a checkbox's key: when ticked, setting a label opens the next row

    def advance(self) -> bool:
        """Whether setting a label opens the next row (read when the button is pressed)."""
        return bool(self.advance_key and st.session_state.get(self.advance_key))


def list_steps(
    listed: rows.RowList, current: str | None, *, page_key: str, page_size: int, advance_key: str | None = None
) -> Steps:
    """:class:`Steps` through a list (its order) whose ``open`` also turns the list's page
    (``st.session_state[page_key]``) to the one showing the row."""

    def open_row(row_id: str) -> None:
        st.session_state["example_id"] = row_id
        if (at := listed.position(row_id)) is not None:
            st.session_state[page_key] = rows.page_of(at, page_size)

    return Steps(rows.neighbours(listed, current), open_row, advance_key)


def _save(path: Path, row_id: str, changes: dict[str, str | None], then: Callable[[], None] | None) -> None:
    """Button callback: write a label and/or override, then (``then``) open the next row."""
    try:
        if "label" in changes:
            set_label(path, row_id, changes["label"])
        if "override" in changes:
            set_override(path, row_id, changes["override"])
    except (LabelsError, ValueError) as e:
        st.session_state[_ERROR] = f"Could not save: {e}"
        return
    if then is not None and any(v is not None for v in changes.values()):
        then()


def label_bar(ws: Workspace, row_id: str, *, key: str, steps: Steps | None = None) -> None:
    """The row's label and override, a button per label and override (keys 1-5, I, X; 0 clears)
    and, with ``steps``, previous/next buttons (K, J)."""
    lab_file = ws.labels_file
    if lab_file is None:
        return
    try:
        cur_label, cur_override = labels.row_labels(ws, row_id)
    except LabelsError as e:
        st.error(str(e))
        cur_label = cur_override = None
    step = steps.around if steps is not None else None
    then = None
    if steps is not None and step is not None and step.next is not None:
        nxt = step.next

        def then() -> None:  # after a label is set: the next row, if the checkbox is ticked by then
            if steps.advance():
                steps.open(nxt)

    where = f" · row {step.position + 1:,} of {step.total:,}" if step is not None and step.position is not None else ""
    st.caption(
        f"Label: **{cur_label or 'none'}** · override: **{cur_override or 'none'}**{where} "
        f"(saved in `{lab_file.name}` beside the data; keys: 1-{len(LABELS)} label, I/X include/exclude, "
        f"0 clears{', J/K next/previous row' if steps is not None else ''})"
    )
    with st.container(horizontal=True, key=f"{key}_label_bar"):
        for name in LABELS:
            st.button(
                name,
                key=f"{key}_label_{name}",
                type="primary" if cur_label == name else "secondary",
                shortcut=labels.LABEL_KEYS[name],
                on_click=_save,
                args=(lab_file, row_id, {"label": None if cur_label == name else name}, then),
            )
        for name, icon in (("include", ":material/add_circle:"), ("exclude", ":material/block:")):
            st.button(
                name,
                key=f"{key}_{name}",
                icon=icon,
                type="primary" if cur_override == name else "secondary",
                shortcut=labels.OVERRIDE_KEYS[name],
                on_click=_save,
                args=(lab_file, row_id, {"override": None if cur_override == name else name}, then),
            )
        st.button(
            "clear",
            key=f"{key}_clear",
            shortcut=labels.CLEAR_KEY,
            on_click=_save,
            args=(lab_file, row_id, {"label": None, "override": None}, None),
        )
        if steps is not None and step is not None:
            _step_buttons(steps, step, key=key)
    if error := st.session_state.pop(_ERROR, None):
        st.error(error)


def _step_buttons(steps: Steps, step: rows.Neighbours, *, key: str) -> None:
    for name, target, shortcut, icon in (
        ("previous", step.previous, labels.PREVIOUS_KEY, ":material/arrow_upward:"),
        ("next", step.next, labels.NEXT_KEY, ":material/arrow_downward:"),
    ):
        st.button(
            name,
            key=f"{key}_{name}",
            icon=icon,
            shortcut=shortcut,
            disabled=target is None,
            on_click=steps.open,
            args=(target,),
        )


# What one action does to every picked row: a label, the "exclude" override, or clearing the labels.
_BULK: dict[str, str] = {
    **{name: f"label {name}" for name in LABELS},
    "exclude": "exclude from every selection (override)",
    "": "remove their labels",
}


def label_picked(ws: Workspace, ids: Sequence[str], *, chart: str, key: str) -> None:
    """One label (or the exclude override) for every row picked on a chart: choose it, then confirm the count."""
    if ws.labels_file is None:
        return
    pending = f"{key}_pending"
    if done := st.session_state.pop(_DONE, None):
        ok, text = done
        (st.success if ok else st.error)(text)
    with st.expander(f"Label or exclude all {len(ids):,} picked rows at once"):
        c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
        choice = str(c1.selectbox("Action", list(_BULK), key=f"{key}_label", format_func=_BULK.__getitem__))
        c2.button(
            f"Apply to {rows.rows_text(len(ids))}…",
            key=f"{key}_ask",
            on_click=lambda: st.session_state.__setitem__(pending, True),
        )
        if st.session_state.get(pending):
            _confirm(ws, list(ids), choice, chart=chart, key=key)


def _confirm(ws: Workspace, ids: list[str], choice: str, *, chart: str, key: str) -> None:
    """The confirmation of :func:`label_picked`: what the rows hold now, then yes or cancel."""
    try:
        counts = labels.label_counts(ws, ids)
    except LabelsError as e:
        st.error(str(e))
        return
    now = ", ".join(f"{n:,} {name}" for name, n in counts.items()) or "none of them in this table"
    what = {"exclude": "**excluded** from every selection", "": "**unlabelled** (their labels removed)"}.get(
        choice, f"as **{choice}**"
    )
    st.warning(f"Set {rows.rows_text(sum(counts.values()))} picked on {chart} {what}? Now: {now}.")
    c1, c2, _ = st.columns([1, 1, 4])
    c1.button("Yes, do it", key=f"{key}_yes", type="primary", on_click=_apply_all, args=(ws, ids, choice, key))
    c2.button("Cancel", key=f"{key}_cancel", on_click=_cancel, args=(key,))


def _apply_all(ws: Workspace, ids: list[str], choice: str, key: str) -> None:
    _cancel(key)
    try:
        if choice == "exclude":
            changed = labels.set_overrides(ws, ids, "exclude")
            done = "excluded from every selection (Select & export applies your overrides when asked)."
        else:
            changed = labels.set_labels(ws, ids, choice or None)
            done = f"labelled {choice}." if choice else "unlabelled."
    except (LabelsError, ValueError) as e:
        st.session_state[_DONE] = (False, f"Could not save: {e}")
        return
    st.session_state[_DONE] = (True, f"{rows.rows_text(changed)} changed: now {done}")


def _cancel(key: str) -> None:
    st.session_state.pop(f"{key}_pending", None)

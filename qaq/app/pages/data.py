"""Data: choose the dataset (recent ones, bundled sample, upload, local path), map its fields, check it."""

import time
from pathlib import Path

import streamlit as st

from qaq import plots
from qaq.app import cached_views, dataset, paths, recent, runs, state, widgets, workspace
from qaq.io.datasets import DataError
from qaq.io.fieldmapping import FieldMapping, detect_mapping
from qaq.scoring.report import TRUNCATION_NOTICE_SHARE

ws = workspace.current()
st.title("Data")
st.markdown(
    "QAQ scores each (query, answer) pair by how much the answer explains the query "
    "(**RMI** = log PPL(Q) − log PPL(Q|A)), then selects rows with a strong and a weak model. "
    "Start here with a dataset; the sidebar shows what is in use."
)

recents = [r for r in recent.recent_datasets() if not r.opens(ws.data_path, ws.scores_path)]
if recents:
    st.markdown("**Recent datasets**: open one again, with its scores and field mapping.")
    with st.container(horizontal=True, key="recent_datasets"):
        for i, entry in enumerate(recents):
            st.button(
                entry.label,
                key=f"recent_{i}",
                icon=":material/history:",
                on_click=state.use_recent,
                args=(entry,),
                help="  \n".join(f"`{p}`" for p in (entry.data, entry.scores) if p)
                + f"  \nopened {time.strftime('%Y-%m-%d %H:%M', time.localtime(entry.opened))}",
            )

sample_tab, upload_tab, path_tab = st.tabs(["Bundled sample", "Upload a file", "Local path"])
with sample_tab:
    if paths.SAMPLE_DATA.is_file():
        st.markdown(
            f"`{paths.SAMPLE_DATA.name}`: synthetic code instructions with a labelled `defect` column"
            + (", scored with both embedded models." if paths.SAMPLE_SCORES.is_file() else " (no scores yet).")
        )
        if st.button("Open the bundled sample", key="open_sample", icon=":material/dataset:"):
            state.use_data(paths.SAMPLE_DATA, scores=paths.SAMPLE_SCORES if paths.SAMPLE_SCORES.is_file() else None)
            st.rerun()
    else:
        st.warning(f"The bundled sample is missing ({paths.SAMPLE_DATA}).")
with upload_tab:
    uploaded = st.file_uploader(
        f"JSONL, JSON, CSV or Parquet (JSON/CSV may be gzipped), up to {runs.upload_limit_mb()} MB",
        type=["jsonl", "ndjson", "json", "csv", "parquet", "gz"],
        key="data_upload",
    )
    st.caption(
        "The file is kept in the app's cache folder on this machine, so scoring jobs and exports can "
        "read it, and your labels are saved beside it."
    )
    if uploaded is not None and st.button("Use the uploaded file", key="use_upload"):
        state.use_data(runs.save_upload(uploaded.name, uploaded.getvalue()))
        st.rerun()
with path_tab:
    local = st.text_input(
        "Path to a data file on the machine running the app",
        key="data_local_path",
        placeholder="/data/instructions.jsonl",
    )
    if st.button("Open this file", key="open_local", disabled=not local.strip()):
        if Path(local.strip()).expanduser().is_file():
            state.use_data(Path(local.strip()).expanduser())
            st.rerun()
        else:
            st.error(f"No such file: {local.strip()}")

st.divider()
if ws.data_path is None and ws.table is None:
    st.info(
        "No dataset is open yet: choose one above. A score file that carries its own rows (the QAQ "
        "authors' format) can also be opened on the Score page."
    )
    st.stop()

st.subheader("Field mapping")
data_file = ws.data_path or ws.source_path
assert data_file is not None, "past the stop above there is a data path, or a table and the file its rows are from"
for note in ws.notes:
    st.caption(note)
try:
    fields = dataset.source_fields(data_file)
except DataError as e:
    fields = []
    st.error(str(e))
detected: FieldMapping | None
try:
    detected = detect_mapping(fields)
except DataError:
    detected = None
    st.warning("No known schema fits these fields: pick the query and answer fields below.")
if fields:
    if detected is not None:
        st.caption(
            f"Detected schema: **{detected.schema}** (query `{detected.query or detected.messages}`, "
            f"answer `{detected.answer or 'last assistant turn'}`)."
        )
    current = st.session_state["mapping"]
    chat_default = bool(current.get("messages") or (not current and detected is not None and detected.messages))
    kind = st.radio(
        "The pairs are",
        ["query / answer fields", "a chat (messages)"],
        index=int(chat_default),
        horizontal=True,
        key=f"map_kind:{data_file}",
    )

    def pick(label: str, options: list, value, *, key: str, none: str | None = None):
        opts = ([none] if none else []) + options
        index = opts.index(value) if value in opts else 0
        choice = st.selectbox(label, opts, index=index, key=f"{key}:{data_file}")
        return None if choice == none else choice

    cols = [*st.columns(2), *st.columns(2)]  # two rows of two: four in a row are too narrow at 1024 px
    id_now = current.get("id_field", detected.id if detected else None)
    with cols[3]:
        id_field = pick("Id field", fields, id_now or None, key="map_id", none="(hash of Q and A)")
    if kind == "query / answer fields":
        with cols[0]:
            query = pick(
                "Query field", fields, current.get("query", detected.query if detected else None), key="map_query"
            )
        with cols[1]:
            answer = pick(
                "Answer field", fields, current.get("answer", detected.answer if detected else None), key="map_answer"
            )
        with cols[2]:
            extra = pick(
                "Extra input (appended to Q)",
                fields,
                current.get("input_field", detected.input if detected else None),
                key="map_input",
                none="(none)",
            )
        mapping = {"query": query, "answer": answer, "input_field": extra, "id_field": id_field or ""}
    else:
        with cols[0]:
            messages = pick(
                "Messages field",
                fields,
                current.get("messages", detected.messages if detected else None),
                key="map_messages",
            )
        mapping = {"messages": messages, "id_field": id_field or ""}
    if st.button("Apply this mapping", key="apply_mapping"):
        state.use_mapping({k: v for k, v in mapping.items() if v is not None})
        st.rerun()

if ws.error:
    st.error(f"The data cannot be loaded: {ws.error}")
    st.caption(
        "The message names the file, the line and the field at fault. Fix the file, or change the field mapping above."
    )
    st.stop()

table = widgets.require_table(ws)
st.subheader("Validation")
report = cached_views.validation_report(ws)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Rows", f"{report['rows']:,}")
c2.metric("To score", f"{report['to_score']:,}")
# Short labels (the rest in the help): four metrics share a row down to 1024 px windows.
c3.metric("Skipped", f"{len(report['skipped']):,}", help="Rows with an empty query or answer: kept, not scored.")
c4.metric("Repeated", f"{len(report['duplicate_pairs']):,}", help="Rows repeating an earlier (query, answer) pair.")
if len(report["skipped"]):
    st.markdown("**Rows that will not be scored** (line numbers in the file):")
    st.dataframe(
        report["skipped"],
        hide_index=True,
        key="skipped_rows",
        height=widgets.table_height(len(report["skipped"]), most=250),
    )
if len(report["duplicate_pairs"]):
    with st.expander(f"{len(report['duplicate_pairs']):,} rows repeat an earlier (Q, A) pair"):
        st.dataframe(report["duplicate_pairs"], hide_index=True, key="duplicate_rows")
for model, cut in report["truncated"].items():
    st.warning(
        f"{len(cut):,} rows lost more than {TRUNCATION_NOTICE_SHARE:.0%} of their tokens to the "
        f"max length when **{model}** scored them: their scores describe the kept part only."
    )
    with st.expander(f"Rows cut by {model}"):
        st.dataframe(cut, hide_index=True, key=f"truncated_rows_{model}")

unit_choices = ["characters"] + [m for m in ws.models]
unit = st.radio(
    "Lengths in",
    unit_choices,
    horizontal=True,
    key="length_unit",
    format_func=lambda u: u if u == "characters" else f"{u} tokens",
)
lengths, unit_name = cached_views.lengths(ws, model=None if unit == "characters" else unit)
widgets.plotly(plots.length_histograms(lengths, unit=unit_name), key="length_histograms")

st.subheader("Preview")
st.dataframe(table.head(200), hide_index=True, key="data_preview", height=320)

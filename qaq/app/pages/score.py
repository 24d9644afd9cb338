"""Score: run the strong and weak models as a background job, or load an existing score file."""

import time
from pathlib import Path
from typing import TypedDict, cast

import streamlit as st

from qaq import jobs
from qaq.app import runs, score_setup, state, widgets, workspace
from qaq.io.datasets import DataError
from qaq.io.runrecord import run_record
from qaq.io.scorefile import load_scores
from qaq.scoring import engine
from qaq.scoring.estimate import duration_text
from qaq.scoring.hardware import DTYPES
from qaq.scoring.models import DEFAULT_MODELS, EMBEDDED_MODELS


class ScoringOptions(TypedDict):
    """The Options expander's choices: :func:`qaq.app.score_setup.score_request`'s keywords of these names."""

    device: str
    dtype: str
    max_length: int
    batch_tokens: int | None
    compile_mode: str


class RayChoices(TypedDict, total=False):
    """The Ray engine's choices (none with the local engine: score_request's defaults)."""

    address: str
    gpus_per_worker: float


ws = workspace.current()
st.title("Score")
if ws.models:
    st.success(
        f"The table has scores for: {', '.join(ws.models)}"
        + (f" (from `{Path(ws.scores_path).name}`)." if ws.scores_path else ".")
    )

run_tab, load_tab = st.tabs(["Score with models", "Load a score file"])

with run_tab:
    data_file = ws.data_path
    if data_file is None:
        st.info("Open a dataset on the Data page first: scoring needs the rows.")
    else:
        st.markdown(
            f"Scoring `{Path(data_file).name}` writes per-row NLLs, RMI and IFD for each model. "
            "Finished batches go to the score cache at once, so a cancelled job resumes where it stopped."
        )
        st.markdown(
            "**Models**: an embedded name ("
            + ", ".join(f"`{n}`" for n in EMBEDDED_MODELS)
            + "), a local model folder, a `.gguf` file, or a hub id (downloaded on first use)."
        )
        roles = {}
        cols = st.columns(2)
        for col, role in zip(cols, ("weak", "strong")):
            with col:
                on = st.checkbox(f"Score a {role} model", value=True, key=f"score_use_{role}")
                spec = st.text_input(
                    f"{role.capitalize()} model", value=DEFAULT_MODELS[role], key=f"score_spec_{role}", disabled=not on
                )
                if on and spec.strip():
                    roles[role] = spec.strip()
        dev = None
        try:
            dev = runs.device_summary()
            if dev["gpus"]:
                st.markdown("**Device**: " + "; ".join(dev["gpus"]) + f" → `{dev['device']}` ({dev['reason']})")
            else:
                native = f"native bf16 ({dev['cpu_bf16']})" if dev["cpu_bf16"] else "no native bf16"
                st.markdown(
                    f"**Device**: `{dev['device']}` ({dev['reason']}); {dev['cpu']}, {dev['cpus']} "
                    f"threads, {native}: dtype auto → `{dev['dtype']}`."
                )
        except Exception as e:  # noqa: BLE001 - a broken torch install is reported, not raised
            st.warning(f"Could not detect the device: {e}")
        with st.expander("Options"):
            o1, o2, o3 = st.columns(3)
            # cast (here and below): with python_version 3.10, mypy reads streamlit's typing.Never as Any and
            # picks the "-> None" overload of selectbox and radio
            device = cast(str, o1.selectbox("Device", ["auto", "cpu", "cuda", "mps"], key="score_device"))
            dtype = cast(
                str,
                o2.selectbox(
                    "Dtype",
                    DTYPES,
                    key="score_dtype",
                    help="auto: bf16 on GPUs and on CPUs that run it natively (AMX, AVX512-BF16, "
                    "ARM BF16), else fp32. bf16-mixed (CPU): closer to fp32 ranks, about 1.4x "
                    "slower than bf16.",
                ),
            )
            on_cpu = device == "cpu" or (device == "auto" and dev is not None and dev["device"] == "cpu")
            if dev is not None and on_cpu and dtype in ("bf16", "bf16-mixed") and not dev["cpu_bf16"]:
                st.warning(
                    f"{dev['cpu']} has no native bf16: PyTorch emulates it, several times slower than fp32 "
                    "(the job's log gives the factor timed there). auto picks fp32 on this CPU."
                )
            max_length = o3.number_input("Max tokens per pass", 64, 32768, 2048, step=256, key="score_max_length")
            o4, o5 = st.columns(2)
            batch_tokens = o4.number_input(
                "Tokens per forward",
                256,
                1 << 20,
                None,
                step=1024,
                key="score_batch_tokens",
                placeholder="device default (CPU 4096, GPU 16384)",
            )
            compile_mode = cast(
                str,
                o5.selectbox(
                    "Compile",
                    ["auto", "on", "off"],
                    key="score_compile",
                    help="torch.compile the model's layers: about 20 s once, then faster. "
                    "auto: bf16 runs of at least 200,000 tokens on CPU, 10 million on GPU.",
                ),
            )
            options = ScoringOptions(
                device=device,
                dtype=dtype,
                max_length=int(max_length),
                batch_tokens=None if batch_tokens is None else int(batch_tokens),
                compile_mode=compile_mode,
            )

        if st.button(
            "Estimate the cost",
            key="estimate",
            disabled=not roles,
            help="Counts the tokens and times a short calibration: a few rows spread over the length range, at most "
            "a quarter of the run's tokens (on a CPU at most 1,024). Each model is loaded once per server and kept "
            "(the token view on Browse shares it); the calibration never compiles.",
        ):
            from qaq.scoring.estimate import estimate_cost

            cfg = engine.scoring_config(
                device=device,
                dtype=dtype,
                max_length=int(max_length),
                batch_tokens=options["batch_tokens"],
                compile=compile_mode,
            )
            table = widgets.require_table(ws)
            for name, spec in roles.items():
                try:
                    started = time.perf_counter()
                    sm = runs.scoring_model(spec, engine.config_json(cfg))
                    loaded = time.perf_counter() - started
                    est = estimate_cost(sm, table, config=cfg)
                    st.markdown(score_setup.estimate_text(name, spec, sm.device, sm.dtype, est))
                    st.caption(score_setup.estimate_timing(est, load_seconds=loaded))
                except Exception as e:  # noqa: BLE001 - model not found, load failure: explained
                    st.error(f"{name}: {e}")

        ray_options: RayChoices = {}
        if runs.ray_available():
            engine_name = cast(
                jobs.Engine,
                st.radio(
                    "Engine",
                    list(score_setup.ENGINES),
                    format_func=score_setup.ENGINES.get,
                    horizontal=True,
                    key="score_engine",
                    help="Score here, or on the GPUs of a Ray cluster (Ray Data).",
                ),
            )
        else:
            engine_name = "local"
            st.caption(f"**Engine**: this machine. To score on a Ray cluster, install Ray: `{score_setup.RAY_INSTALL}`")
        if engine_name == "ray":
            r1, r2 = st.columns(2)
            ray_options["address"] = r1.text_input(
                "Ray address",
                value="auto",
                key="score_ray_address",
                help="auto (the cluster this machine belongs to) or ray://HOST:10001.",
            )
            ray_options["gpus_per_worker"] = r2.number_input(
                "GPUs per worker",
                0.0,
                8.0,
                1.0,
                step=0.5,
                key="score_gpus_per_worker",
                help="0.5 puts two scoring actors on one GPU; 0 scores on CPUs.",
            )

        embed = st.checkbox(
            "Keep embeddings (for the Map page)",
            key="score_embed",
            disabled=engine_name == "ray",
            help="Also save each model's mean hidden state over every row's query and answer, from the same "
            "forward that scores them (under 5% extra time), beside the score file. This machine's engine only.",
        )

        job_id = st.session_state["job_id"] or runs.find_job(data_file)
        try:
            status = runs.job_status(job_id) if job_id is not None else None
        except (OSError, jobs.StatusError) as e:
            st.warning(f"Cannot read the status of job `{job_id}`: {e}")
            job_id = status = None
        active = status is not None and status.active
        if st.button("Start scoring in the background", key="start_job", type="primary", disabled=not roles or active):
            request = score_setup.score_request(
                data_file,
                roles,
                st.session_state["mapping"],
                output=runs.score_output(data_file),
                engine=engine_name,
                embed=embed and engine_name == "local",
                **ray_options,
                **options,
            )
            st.session_state["job_id"] = runs.start_job(request)
            st.rerun()

        if job_id is not None:

            @st.fragment(run_every=2 if active else None)
            def job_panel(job_id: str, was_active: bool) -> None:
                status = runs.job_status(job_id)
                if was_active and not status.active:
                    # The job ended since the page was drawn: redraw all of it once (the start button, no polling).
                    st.rerun(scope="app")
                st.markdown(f"**Job** `{job_id}`: **{status.state}**")
                for name, p in status.progress.items():
                    rate = "—" if p.rows_per_s is None else f"{p.rows_per_s:,.1f} rows/s"
                    eta = f" · {rate} · ETA {duration_text(p.eta_s)}" if status.active else ""  # none once it ended
                    st.progress(min(p.done / max(p.total, 1), 1.0), text=f"{name}: {p.done:,} / {p.total:,} rows{eta}")
                log = runs.log_tail(job_id)
                if status.active:
                    if not status.progress:
                        st.caption(
                            "Starting: loading the models (15-40 s each) and tokenizing the rows; "
                            "progress shows from the first batch on."
                        )
                    last = jobs.last_log_line(log)
                    if last:
                        st.caption(f"Last log line: `{last}`")
                    if st.button("Cancel the job", key="cancel_job", icon=":material/cancel:"):
                        runs.cancel_job(job_id)
                        st.rerun(scope="app")
                elif status.state == "finished":
                    out = status.output or (status.request.output if status.request else None)
                    if (
                        out
                        and out != ws.scores_path
                        and st.button("Use these scores", key="use_job_scores", type="primary")
                    ):
                        state.use_scores(out)
                        st.rerun(scope="app")
                    if out == ws.scores_path:
                        st.caption("These scores are in use.")
                else:
                    if status.state == "failed":
                        st.error(f"The job failed: {status.error or 'no reason recorded'}")
                    st.caption("Start it again to resume from the score cache.")
                with st.expander("Log"):
                    st.code(log or "(empty)", language=None)

            job_panel(job_id, active)

with load_tab:
    st.markdown(
        "A score file written by `qaq score` (Parquet, CSV or JSONL, matched to the dataset on `id`), "
        "or a file from the QAQ authors' script (`{name}_log_PPL_Q`, `{name}_log_PPL_Q_A`, `{name}_RMI` "
        "columns), which carries its own rows."
    )
    up = st.file_uploader(
        f"Upload a score file (up to {runs.upload_limit_mb()} MB)",
        type=["parquet", "csv", "jsonl", "json", "gz"],
        key="scores_upload",
    )
    path = st.text_input("…or the path of a score file on this machine", key="scores_local_path")
    if st.button("Load these scores", key="load_scores", disabled=up is None and not path.strip()):
        target = runs.save_upload(up.name, up.getvalue()) if up is not None else Path(path.strip()).expanduser()
        try:
            scores, meta = load_scores(target)
        except DataError as e:
            st.error(f"Cannot read the score file: {e}")
        else:
            if run_record(meta).carries_rows(scores.columns):
                state.use_data(None, scores=target)  # the file carries its own rows
            else:
                state.use_scores(target)
            st.rerun()

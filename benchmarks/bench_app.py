"""How fast the app answers a slider on a 300,000-row score table.

Builds a synthetic dataset and a two-model score table (``tests/app/app_tables.py``), opens the app
in Streamlit's AppTest with them, and times, for each slider, the run that follows a change:
from the new value to the updated counts and charts (the whole script run, figures serialised).
Each slider is moved ``--runs`` times, to a new value each time (no cached selection), and the
wall-clock and CPU seconds of each run are reported (CPU time, of all this process's threads,
moves less than wall time on a shared machine); the first load (reading, joining, ranking:
cached afterwards) is reported apart, and so are its stages, timed by calling the library
functions the app caches (read the data, read the scores, join, strata and ranks) in this process
before the app opens; the first page's render is the run that follows the first load (caches warm).

    .venv/bin/python benchmarks/bench_app.py [--rows 300000] [--runs 7] [--profile DIR]

``--profile DIR`` writes a cProfile of the first load and of each interaction's timed runs
(``DIR/<n>-<case>.pstats``) and prints the functions that cost the most in each.

Target (issue 16): at 300,000 rows every median under 1 s; at 1,000,000 rows every median under
2 s and the first load under 10 s.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = REPO / "qaq" / "app" / "pages"  # the scripts st.navigation registers


def _tables():
    spec = importlib.util.spec_from_file_location("app_tables", REPO / "tests" / "app" / "app_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ACTIVE: list[cProfile.Profile] = []  # the profile of the block being profiled, if any


def _profile_script_runs() -> None:
    """Profile the script thread of every AppTest run while a :func:`_profiled` block is active
    (AppTest runs the script on a thread of its own; cProfile sees only the thread it runs on)."""
    from streamlit.runtime.scriptrunner import ScriptRunner

    run_script = ScriptRunner._run_script

    def profiled(self, rerun_data):
        if not _ACTIVE:
            return run_script(self, rerun_data)
        _ACTIVE[0].enable()
        try:
            return run_script(self, rerun_data)
        finally:
            _ACTIVE[0].disable()

    ScriptRunner._run_script = profiled


@contextmanager
def _profiled(profile_dir: Path | None, name: str):
    """cProfile the script runs in the block into ``profile_dir/name.pstats`` (nothing without a folder)."""
    if profile_dir is None:
        yield
        return
    _ACTIVE.append(cProfile.Profile())
    try:
        yield
    finally:
        prof = _ACTIVE.pop()
        path = profile_dir / f"{name}.pstats"
        prof.dump_stats(path)
        out = io.StringIO()
        stats = pstats.Stats(str(path), stream=out)
        stats.sort_stats("cumulative").print_stats(r"qaq/|pages/", 30)
        stats.sort_stats("tottime").print_stats(15)
        print(f"--- profile {name} ({path})\n" + re.sub(r"\n{2,}", "\n", out.getvalue()))


def _stages(data: Path, scores: Path) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of each stage of the first load, by the library calls the app caches."""
    from qaq.app.table import default_roles, working_table
    from qaq.columns import scored_models
    from qaq.io.datasets import load_dataset
    from qaq.io.scorefile import load_scores
    from qaq.select.selection import attach_scores
    from qaq.select.strata import DEFAULT_BINS

    times: dict[str, tuple[float, float]] = {}

    def timed(stage, fn, *args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        times[stage] = (time.perf_counter() - t0, time.process_time() - c0)
        return out

    table = timed("read data (load_dataset)", load_dataset, data)
    score_table, meta = timed("read scores (load_scores)", load_scores, scores)
    joined = timed("join (attach_scores)", attach_scores, table, score_table)
    strong, weak = default_roles(scored_models(joined.columns), meta)
    timed("strata and ranks (working_table)", working_table, joined, bins=DEFAULT_BINS, ranking="stratified",
          strong=strong, weak=weak)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=7, help="slider changes timed per slider (>= 5)")
    ap.add_argument("--profile", type=Path, default=None, help="folder for cProfile files of each case")
    args = ap.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        _profile_script_runs()

    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory(prefix="qaq-bench-app-") as tmp:
        t0 = time.perf_counter()
        data, scores = _tables().write_pair(Path(tmp), args.rows, xss=False)
        print(f"wrote {args.rows:,} rows + scores in {time.perf_counter() - t0:.1f} s")
        os.environ.update(QAQ_APP_DATA=str(data), QAQ_APP_SCORES=str(scores), QAQ_APP_DIR=str(Path(tmp) / "app"))

        stages = _stages(data, scores)
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
        t0, c0 = time.perf_counter(), time.process_time()
        with _profiled(args.profile, "0-first-load"):
            at.run()
        first, first_cpu = time.perf_counter() - t0, time.process_time() - c0
        assert not at.exception, [e.value for e in at.exception]
        t0, c0 = time.perf_counter(), time.process_time()
        at.run()
        stages["first page render (the next run, caches warm)"] = (time.perf_counter() - t0, time.process_time() - c0)
        target = f" ({'under' if first < 10 else 'OVER'} the 10 s target)" if args.rows >= 1_000_000 else ""
        print(f"first load (read, join, rank; cached afterwards): {first:.1f} s, CPU {first_cpu:.1f} s{target}")
        for stage, (seconds, cpu_seconds) in stages.items():
            print(f"  {stage}: {seconds:.2f} s, CPU {cpu_seconds:.2f} s")

        cases = [
            # A new value every time: no run is served from the selection cache.
            (str(PAGES / "select_export.py"), "sel_budget", [10 + i for i in range(args.runs)],
             "Select & export: budget (counts per stratum, retention; Export tab)"),
            (str(PAGES / "select_export.py"), "sel_budget", [50 + i for i in range(args.runs)],
             "Select & export, detection tab open: budget (+ defect shares of every arm)"),
            (str(PAGES / "disagreement.py"), "diff_threshold", [round(0.1 + 0.02 * i, 2) for i in range(args.runs)],
             "Disagreement: Diff threshold (quadrants, scatter)"),
            (str(PAGES / "distributions.py"), None, None, "Distributions: rerun (histograms with the selection)"),
            # The sidebar's K re-stratifies and re-ranks both models (a cache miss every time).
            (str(PAGES / "select_export.py"), "bins", [5 + i for i in range(args.runs)],
             "Sidebar K on Select & export (new strata and ranks, then everything above)"),
        ]
        medians = {}
        for n, (page, key, values, label) in enumerate(cases, 1):
            at.session_state["sel_tab"] = "Detection quality" if "detection tab" in label else "Export"
            at.switch_page(page).run()
            assert not at.exception, [e.value for e in at.exception]
            times, cpu = [], []
            slug = re.sub(r"[^a-z0-9]+", "-", label.split(":")[0].lower()).strip("-")
            with _profiled(args.profile, f"{n}-{slug}{'-detection' if 'detection tab' in label else ''}"):
                for i in range(args.runs):
                    if key is not None:
                        widget = at.sidebar.slider(key=key) if key == "bins" else at.slider(key=key)
                        widget.set_value(values[i])
                    t0, c0 = time.perf_counter(), time.process_time()
                    at.run()
                    times.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                    assert not at.exception, [e.value for e in at.exception]
            medians[label] = statistics.median(times)
            print(f"{label}: median {medians[label]:.3f} s over {len(times)} runs "
                  f"(min {min(times):.3f}, max {max(times):.3f}; CPU median {statistics.median(cpu):.3f} s)")
        worst = max(medians.values())
        target = 1 if args.rows <= 300_000 else 2
        print(f"median slider -> updated counts and charts: {worst:.3f} s at worst "
              f"({'under' if worst < target else 'OVER'} the {target} s target)")


if __name__ == "__main__":
    sys.exit(main())

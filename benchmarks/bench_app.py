"""How fast the app answers a slider on a 300,000-row score table.

Builds a synthetic dataset and a two-model score table (``tests/app/tables.py``), opens the app
in Streamlit's AppTest with them, and times, for each slider, the run that follows a change:
from the new value to the updated counts and charts (the whole script run, figures serialised).
Each slider is moved ``--runs`` times, to a new value each time (no cached selection); the first load (reading, joining,
ranking: cached afterwards) is reported apart.

    .venv/bin/python benchmarks/bench_app.py [--rows 300000] [--runs 7]

Target (issue 4): median under 1 s per slider change.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _tables():
    spec = importlib.util.spec_from_file_location("app_tables", REPO / "tests" / "app" / "app_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=7, help="slider changes timed per slider (>= 5)")
    args = ap.parse_args()

    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory(prefix="qaq-bench-app-") as tmp:
        t0 = time.perf_counter()
        data, scores = _tables().write_pair(Path(tmp), args.rows, xss=False)
        print(f"wrote {args.rows:,} rows + scores in {time.perf_counter() - t0:.1f} s")
        os.environ.update(QAQ_APP_DATA=str(data), QAQ_APP_SCORES=str(scores), QAQ_APP_DIR=str(Path(tmp) / "app"))

        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
        t0 = time.perf_counter()
        at.run()
        print(f"first load (read, join, rank; cached afterwards): {time.perf_counter() - t0:.1f} s")

        cases = [
            # A new value every time: no run is served from the selection cache.
            ("pages/select_export.py", "sel_budget", [10 + i for i in range(args.runs)],
             "Select & export: budget (counts per stratum, retention; Export tab)"),
            ("pages/select_export.py", "sel_budget", [50 + i for i in range(args.runs)],
             "Select & export, detection tab open: budget (+ defect shares of every arm)"),
            ("pages/disagreement.py", "diff_threshold", [round(0.1 + 0.02 * i, 2) for i in range(args.runs)],
             "Disagreement: Diff threshold (quadrants, scatter)"),
            ("pages/distributions.py", None, None, "Distributions: rerun (histograms with the selection)"),
            # The sidebar's K re-stratifies and re-ranks both models (a cache miss every time).
            ("pages/select_export.py", "bins", [5 + i for i in range(args.runs)],
             "Sidebar K on Select & export (new strata and ranks, then everything above)"),
        ]
        medians = {}
        for page, key, values, label in cases:
            at.session_state["sel_tab"] = "Detection quality" if "detection tab" in label else "Export"
            at.switch_page(page).run()
            assert not at.exception, [e.value for e in at.exception]
            times = []
            for i in range(args.runs):
                if key is not None:
                    widget = at.sidebar.slider(key=key) if key == "bins" else at.slider(key=key)
                    widget.set_value(values[i])
                t0 = time.perf_counter()
                at.run()
                times.append(time.perf_counter() - t0)
                assert not at.exception, [e.value for e in at.exception]
            medians[label] = statistics.median(times)
            print(f"{label}: median {medians[label]:.3f} s over {len(times)} runs "
                  f"(min {min(times):.3f}, max {max(times):.3f})")
        worst = max(medians.values())
        print(f"median slider -> updated counts and charts: {worst:.3f} s at worst "
              f"({'under' if worst < 1 else 'OVER'} the 1 s target)")


if __name__ == "__main__":
    sys.exit(main())

"""Tests for benchmarks/detection.py on a small synthetic score table and data file."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from qaq.io.scorefile import write_scores
from qaq.select.selection import select

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "detection.py"
TYPES = ["none"] * 24 + ["mismatch"] * 6 + ["echo"] * 6 + ["truncated"] * 4


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_detection", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_inputs(tmp_path: Path, *, with_defect: bool = True) -> tuple[Path, Path, pd.DataFrame]:
    """A labelled JSONL file and a score parquet for models weak/strong; one row is unscored."""
    rng = np.random.default_rng(7)
    n = len(TYPES)
    order = rng.permutation(n)
    types = [TYPES[i] for i in order]
    data = tmp_path / "data.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for i, t in enumerate(types):
            record = {"id": f"r{i}", "task": "t", "instruction": f"do task {i}", "response": f"x = {i}"}
            if with_defect:
                record["defect"] = t
            f.write(json.dumps(record) + "\n")
    shift = {"none": 0.0, "mismatch": -1.0, "echo": 1.5, "truncated": 0.2}
    cols: dict[str, list] = {"id": [f"r{i}" for i in range(n)]}
    for m in ("weak", "strong"):
        nll_q = rng.normal(2.0, 0.5, n)
        rmi = rng.normal(0.3, 0.4, n) + np.array([shift[t] for t in types])
        nll_a = rng.normal(1.5, 0.3, n)
        nll_a_q = nll_a * rng.uniform(0.6, 1.1, n)
        cols.update({f"{m}_nll_q": nll_q, f"{m}_nll_q_given_a": nll_q - rmi, f"{m}_nll_a": nll_a,
                     f"{m}_nll_a_given_q": nll_a_q, f"{m}_rmi": rmi, f"{m}_ifd": nll_a_q / nll_a})
    scores = pd.DataFrame(cols)
    scores.loc[5, [c for c in scores.columns if c != "id"]] = np.nan  # a skipped row
    path = tmp_path / "scores.parquet"
    write_scores(scores, path, {"models": {"weak": {"spec": "smol"}, "strong": {"spec": "gemma"}}})
    expected = scores.assign(defect=types)
    return path, data, expected


def tables(markdown: str) -> dict[str, list[dict[str, str]]]:
    """Every Markdown table, keyed by the ``##`` heading above it, as a list of row dicts."""
    out: dict[str, list[dict[str, str]]] = {}
    heading = ""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("## "):
            heading = lines[i][3:]
        elif lines[i].startswith("| "):
            header = [c.strip() for c in lines[i].strip("|").split("|")]
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("| "):
                rows.append(dict(zip(header, (c.strip() for c in lines[i].strip("|").split("|")))))
                i += 1
            out[heading] = rows
            continue
        i += 1
    return out


def run(bench: ModuleType, capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    rc = bench.main(args)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_report_rows_columns_and_numbers(bench, tmp_path, capsys):
    scores, data, expected = write_inputs(tmp_path)
    out = tmp_path / "report.md"
    rc, stdout, _ = run(bench, capsys, ["--scores", str(scores), "--data", str(data), "--out", str(out)])
    assert rc == 0
    report = out.read_text(encoding="utf-8")
    assert stdout == report
    first = report.splitlines()[0]
    assert f"--scores {scores}" in first and "`weak` (smol), `strong` (gemma)" in first and "40 rows" in first

    t = tables(report)
    auc = t["ROC AUC (defect type vs clean rows)"]
    detectors = [f"{m}: {d}" for m in ("weak", "strong") for d in ("low RMI", "RMI two-sided", "IFD")]
    assert list(auc[0]) == ["defect", "n defect", "n clean", *detectors, "low Diff (strong vs weak)"]
    assert [r["defect"] for r in auc] == ["echo", "mismatch", "truncated", "any defect"]
    assert [(r["n defect"], r["n clean"]) for r in auc] == [("6", "24"), ("6", "24"), ("4", "24"), ("16", "24")]

    lab = expected["defect"].to_numpy()
    scored = expected["weak_rmi"].notna().to_numpy()
    ap = {r["defect"]: r for r in t["Average precision"]}
    for row in auc:
        kind = row["defect"]
        pos = lab != "none" if kind == "any defect" else lab == kind
        use = (pos | (lab == "none")) & scored
        for m in ("weak", "strong"):
            low_rmi = -expected[f"{m}_rmi"].to_numpy()
            assert row[f"{m}: low RMI"] == f"{roc_auc_score(pos[use], low_rmi[use]):.3f}"
            ifd = expected[f"{m}_ifd"].to_numpy()
            assert row[f"{m}: IFD"] == f"{roc_auc_score(pos[use], ifd[use]):.3f}"
            assert ap[kind][f"{m}: low RMI"] == f"{average_precision_score(pos[use], low_rmi[use]):.3f}"
    # The synthetic echoes have high RMI: low RMI misses them, the two-sided band finds them.
    echo = auc[0]
    assert float(echo["weak: low RMI"]) < 0.2 < 0.8 < float(echo["weak: RMI two-sided"])


def test_share_table_matches_selection_recipes(bench, tmp_path, capsys):
    scores, data, expected = write_inputs(tmp_path)
    rc, stdout, _ = run(bench, capsys, ["--scores", str(scores), "--data", str(data), "--out",
                                        str(tmp_path / "r.md")])
    assert rc == 0
    share = {r["selection"]: r for r in tables(stdout)["Defect share inside the 25% selections"]}
    assert list(share) == ["all data", "RMI 50-75% band (weak)", "RMI 50-75% band (strong)",
                           "Diff-High (strong vs weak)", "IFD (weak)", "IFD (strong)", "random"]
    assert list(share["all data"]) == ["selection", "rows", "echo", "mismatch", "truncated", "any defect"]
    assert share["all data"]["rows"] == "40" and share["all data"]["echo"] == "15.0%"
    table = expected.assign(row=range(len(expected)))
    recipe = {"method": "diff_high", "strong": "strong", "weak": "weak", "budget": 0.25}
    chosen = select(table, recipe)["selected"].to_numpy()
    line = share["Diff-High (strong vs weak)"]
    assert line["rows"] == str(chosen.sum()) == "10"
    lab = expected["defect"].to_numpy()[chosen]
    assert line["any defect"] == f"{100 * (lab != 'none').mean():.1f}%"
    band = select(table, {"method": "rmi_band", "model": "weak", "lo": 0.5, "hi": 0.75})["selected"]
    assert share["RMI 50-75% band (weak)"]["rows"] == str(int(band.sum()))


def test_limit_uses_the_first_rows(bench, tmp_path, capsys):
    scores, data, expected = write_inputs(tmp_path)
    rc, stdout, _ = run(bench, capsys, ["--scores", str(scores), "--data", str(data), "--out",
                                        str(tmp_path / "r.md"), "--limit", "12"])
    assert rc == 0
    assert "12 rows (--limit 12)" in stdout.splitlines()[0]
    auc = {r["defect"]: r for r in tables(stdout)["ROC AUC (defect type vs clean rows)"]}
    head = expected["defect"].iloc[:12]
    assert auc["any defect"]["n defect"] == str(int((head != "none").sum()))
    assert auc["any defect"]["n clean"] == str(int((head == "none").sum()))


def test_without_the_pair_there_is_no_diff(bench, tmp_path, capsys):
    scores, data, _ = write_inputs(tmp_path)
    rc, stdout, _ = run(bench, capsys, ["--scores", str(scores), "--data", str(data), "--out",
                                        str(tmp_path / "r.md"), "--strong", "big"])
    assert rc == 0
    assert "no Diff" in stdout
    t = tables(stdout)
    assert not any("Diff" in c for c in t["ROC AUC (defect type vs clean rows)"][0])
    assert not any(r["selection"].startswith("Diff") for r in t["Defect share inside the 25% selections"])


def test_error_paths(bench, tmp_path, capsys):
    scores, data, _ = write_inputs(tmp_path)
    out = tmp_path / "r.md"
    rc, stdout, err = run(bench, capsys, ["--scores", str(tmp_path / "none.parquet"), "--data", str(data),
                                          "--out", str(out)])
    assert rc == 1 and "no such file" in err and stdout == "" and not out.exists()

    unlabelled = tmp_path / "u"
    unlabelled.mkdir()
    _, data_u, _ = write_inputs(unlabelled, with_defect=False)
    rc, _, err = run(bench, capsys, ["--scores", str(scores), "--data", str(data_u), "--out", str(out)])
    assert rc == 1 and "no 'defect' field" in err

    other = tmp_path / "other.parquet"
    frame = pd.read_parquet(scores).assign(id=lambda d: "x" + d["id"])
    write_scores(frame, other, {})
    rc, _, err = run(bench, capsys, ["--scores", str(other), "--data", str(data), "--out", str(out)])
    assert rc == 1 and "same data" in err

    dup = tmp_path / "dup.parquet"
    write_scores(pd.concat([pd.read_parquet(scores)] * 2), dup, {})
    rc, _, err = run(bench, capsys, ["--scores", str(dup), "--data", str(data), "--out", str(out)])
    assert rc == 1 and "duplicate ids" in err

    no_models = tmp_path / "ids.parquet"
    write_scores(pd.read_parquet(scores)[["id"]], no_models, {})
    rc, _, err = run(bench, capsys, ["--scores", str(no_models), "--data", str(data), "--out", str(out)])
    assert rc == 1 and "no model scores" in err

    with pytest.raises(SystemExit) as exit_:
        bench.main(["--limit", "0"])
    assert exit_.value.code == 2


def test_help(bench, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--help"])
    assert exit_.value.code == 0
    assert "--limit" in capsys.readouterr().out

"""Tests for qaq.app.exports: the files the Select & export page hands out and its command line."""

from __future__ import annotations

import json
import shlex

import pandas as pd
import pytest
from app_workspaces import ws_of

from qaq.app import exports
from qaq.app.table import Workspace
from qaq.io.datasets import load_dataset


@pytest.mark.parametrize(("name", "suffix"), [
    ("d.jsonl", ".jsonl"), ("d.json", ".jsonl"), ("d.NDJSON", ".jsonl"), ("d.csv.gz", ".csv"),
    ("d.parquet", ".parquet"), ("d.pq", ".parquet"), ("d.txt", ".jsonl"), ("data", ".jsonl"),
])
def test_output_suffix(name, suffix):
    assert exports.output_suffix(f"/x/{name}") == suffix


def test_select_command(tmp_path):
    recipe = {"method": "random", "budget": 0.5, "seed": 0}
    scores = tmp_path / "my scores.parquet"
    ws = ws_of(scores_path=str(scores), source=tmp_path / "d.csv")
    assert exports.select_command(ws, recipe) == (
        f"qaq select '{scores}' --data {tmp_path / 'd.csv'} "
        "--recipe '{\"method\":\"random\",\"budget\":0.5,\"seed\":0}' -o selected.csv --discarded discarded.csv "
        "--manifest manifest.json")
    self_contained = ws_of(scores_path=str(scores), source=scores.resolve())
    assert shlex.split(exports.select_command(self_contained, recipe))[:4] == ["qaq", "select", str(scores), "--recipe"]
    assert shlex.split(exports.select_command(ws_of(), recipe))[2:4] == ["--recipe", json.dumps(recipe,
                                                                                              separators=(",", ":"))]


def test_export_files_copy_the_selected_rows(tmp_path):
    source = tmp_path / "d.jsonl"
    lines = [json.dumps({"id": f"r{i}", "instruction": f"q{i}", "response": f"a{i}"}) + "\n" for i in range(4)]
    source.write_text("".join(lines))
    table = load_dataset(source)
    ws = Workspace(table, source_path=str(source), meta={"config": {"template": "plain"}})
    recipe = {"method": "random", "budget": 2, "seed": 0}
    files = exports.export_files(ws, recipe, pd.Series([False, True, False, True]))
    assert sorted(files) == ["discarded.jsonl", "manifest.json", "selected.jsonl"]
    assert files["selected.jsonl"].decode() == lines[1] + lines[3]
    assert files["discarded.jsonl"].decode() == lines[0] + lines[2]
    manifest = json.loads(files["manifest.json"])
    assert manifest["n_selected"] == 2
    assert manifest["command"] == exports.select_command(ws, recipe)

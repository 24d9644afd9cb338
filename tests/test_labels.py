"""Tests for qaq.io.labels: persistence, validation, overrides, corrupt files and atomic writes."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

import qaq.io.labels as labels_mod
from qaq.io.labels import (
    LABELS,
    LabelsError,
    labels_path,
    load_labels,
    overrides,
    set_label,
    set_labels,
    set_override,
    set_overrides,
)
from qaq.select.selection import select


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return labels_path(tmp_path / "data.jsonl")


def test_labels_path_is_beside_the_data(tmp_path: Path):
    assert labels_path(tmp_path / "d" / "x.jsonl.gz") == tmp_path / "d" / "x.jsonl.gz.qaq-labels.json"
    assert labels_path("x.csv") == Path("x.csv.qaq-labels.json")


def test_missing_file_gives_empty_frame(path: Path):
    got = load_labels(path)
    assert list(got.columns) == ["id", "label", "override", "updated"]
    assert len(got) == 0 and all(str(d) == "string" for d in got.dtypes)
    assert overrides(path) == ([], [])
    assert not path.exists()


def test_labels_survive_a_reload(path: Path):
    set_label(path, "r1", "hallucinated")
    set_label(path, "r2", "ok")
    set_override(path, "r3", "exclude")
    raw = json.loads(path.read_text(encoding="utf-8"))  # what a new process would read
    assert raw["format"] == "qaq-labels" and list(raw["rows"]) == ["r1", "r2", "r3"]
    got = load_labels(path)
    assert got["id"].tolist() == ["r1", "r2", "r3"]
    assert got["label"].tolist() == ["hallucinated", "ok", pd.NA]
    assert got["override"].tolist() == [pd.NA, pd.NA, "exclude"]
    for stamp in got["updated"]:
        when = datetime.fromisoformat(stamp)
        assert when.tzinfo is not None and abs((datetime.now(timezone.utc) - when).total_seconds()) < 60


def test_relabel_and_clear(path: Path):
    set_label(path, "r1", "echo")
    first = load_labels(path)["updated"].iloc[0]
    set_label(path, "r1", "mismatched")
    got = load_labels(path)
    assert got["label"].tolist() == ["mismatched"] and got["updated"].iloc[0] >= first
    set_override(path, "r1", "include")
    set_label(path, "r1", None)  # the override keeps the entry
    got = load_labels(path)
    assert got["label"].tolist() == [pd.NA] and got["override"].tolist() == ["include"]
    set_override(path, "r1", None)  # nothing left: the entry goes
    assert len(load_labels(path)) == 0
    assert json.loads(path.read_text())["rows"] == {}


def test_clearing_an_unknown_id_writes_nothing(path: Path):
    set_label(path, "r1", None)
    set_override(path, "r1", None)
    assert not path.exists()


def test_many_labels_in_one_write(path: Path, monkeypatch: pytest.MonkeyPatch):
    set_label(path, "a", "ok")
    set_override(path, "b", "include")
    stamp = load_labels(path).set_index("id").loc["a", "updated"]
    writes = []
    real = labels_mod._write
    monkeypatch.setattr(labels_mod, "_write", lambda p, rows: (writes.append(len(rows)), real(p, rows)))
    assert set_labels(path, ["a", "b", "c", "c"], "echo") == 3  # a relabelled, b and c labelled; c once
    assert writes == [3]  # one read-modify-write for all of them
    got = load_labels(path).set_index("id")
    assert got["label"].to_dict() == {"a": "echo", "b": "echo", "c": "echo"}
    assert got.loc["b", "override"] == "include" and got.loc["a", "updated"] > stamp
    assert set_labels(path, ["a", "b"], "echo") == 0 and writes == [3]  # nothing changed, nothing written
    assert set_labels(path, ["a", "b", "c"], None) == 3
    assert load_labels(path)[["id", "label", "override"]].to_dict("records") == [
        {"id": "b", "label": None, "override": "include"}]
    with pytest.raises(ValueError, match="unknown label"):
        set_labels(path, ["a"], "nonsense")
    with pytest.raises(ValueError, match="non-empty"):
        set_labels(path, ["a", " "], "ok")
    assert load_labels(path)["id"].tolist() == ["b"]  # a refused call writes nothing


def test_many_overrides_in_one_write(path: Path):
    set_label(path, "a", "ok")
    assert set_overrides(path, ["a", "b", "b"], "exclude") == 2
    got = load_labels(path).set_index("id")
    assert got["override"].to_dict() == {"a": "exclude", "b": "exclude"} and got.loc["a", "label"] == "ok"
    assert overrides(path) == ([], ["a", "b"])
    assert set_overrides(path, ["a", "b"], None) == 2
    assert load_labels(path)[["id", "label", "override"]].to_dict("records") == [
        {"id": "a", "label": "ok", "override": None}]
    with pytest.raises(ValueError, match="unknown override"):
        set_overrides(path, ["a"], "maybe")
    with pytest.raises(ValueError, match="non-empty"):
        set_overrides(path, ["a", ""], "exclude")


def test_every_label_is_accepted(path: Path):
    for i, label in enumerate(LABELS):
        set_label(path, f"r{i}", label)
    assert load_labels(path)["label"].tolist() == list(LABELS)


def test_overrides_feed_a_selection_recipe(path: Path):
    for row_id, how in [("c", "include"), ("a", "include"), ("b", "exclude"), ("d", "exclude")]:
        set_override(path, row_id, how)
    set_label(path, "e", "ok")
    include, exclude = overrides(path)
    assert (include, exclude) == (["a", "c"], ["b", "d"])
    df = pd.DataFrame({"id": list("abcdef"), "m_nll_q": [1.0] * 6, "m_nll_q_given_a": [0.5] * 6,
                       "m_rmi": [0.1, 0.9, 0.2, 0.8, 0.7, 0.6]})
    chosen = select(df, {"method": "rmi_band", "model": "m", "lo": 0.4, "hi": 1.0, "ranking": "global",
                         "include": include, "exclude": exclude})
    # The band holds b, d, e, f; b and d are excluded, a and c included.
    assert df["id"][chosen["selected"]].tolist() == ["a", "c", "e", "f"]


def test_invalid_values_are_refused(path: Path):
    with pytest.raises(ValueError, match="unknown label 'bogus'"):
        set_label(path, "r1", "bogus")
    with pytest.raises(ValueError, match="unknown label 'OK'"):
        set_label(path, "r1", "OK")
    with pytest.raises(ValueError, match="unknown override 'keep'"):
        set_override(path, "r1", "keep")
    with pytest.raises(ValueError, match="row_id"):
        set_label(path, "", "ok")
    with pytest.raises(ValueError, match="row_id"):
        set_override(path, 3, "include")  # type: ignore[arg-type]
    assert not path.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a qaq labels file"),
        ('{"format": "qaq-labels", "version": 2, "rows": {}}', "version 2"),
        ('{"format": "qaq-labels", "version": 1, "rows": []}', '"rows" must be an object'),
        ('{"format": "qaq-labels", "version": 1, "rows": {"r": {"label": "good", "override": null, '
         '"updated": "t"}}}', "id 'r': unknown label 'good'"),
        ('{"format": "qaq-labels", "version": 1, "rows": {"r": {"label": null, "override": "drop", '
         '"updated": "t"}}}', "unknown override 'drop'"),
        ('{"format": "qaq-labels", "version": 1, "rows": {"r": {"label": "ok", "override": null}}}',
         "'updated' must be"),
        ('{"format": "qaq-labels", "version": 1, "rows": {"r": "ok"}}', "expected an object"),
    ],
)
def test_a_bad_file_raises_and_is_never_overwritten(path: Path, content: str, message: str):
    path.write_text(content, encoding="utf-8")
    for call in (lambda: load_labels(path), lambda: overrides(path), lambda: set_label(path, "x", "ok"),
                 lambda: set_override(path, "x", "include")):
        with pytest.raises(LabelsError, match=message) as err:
            call()
        assert str(path) in str(err.value)
    assert path.read_text(encoding="utf-8") == content


def test_undecodable_file_raises(path: Path):
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(LabelsError, match="cannot read labels file"):
        load_labels(path)


def test_failed_write_leaves_the_old_file_intact(path: Path, monkeypatch: pytest.MonkeyPatch):
    set_label(path, "r1", "ok")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(labels_mod.os, "fsync", boom)  # fails half way, after the temp file is written
    with pytest.raises(LabelsError, match="disk full"):
        set_label(path, "r2", "echo")
    monkeypatch.undo()
    monkeypatch.setattr(labels_mod.os, "replace", boom)
    with pytest.raises(LabelsError, match=f"cannot write labels file {path}"):
        set_override(path, "r1", "exclude")
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left
    monkeypatch.undo()
    assert load_labels(path)["id"].tolist() == ["r1"]


def test_missing_folder_is_a_labels_error(tmp_path: Path):
    with pytest.raises(LabelsError, match="cannot write labels file"):
        set_label(tmp_path / "nope" / "d.jsonl.qaq-labels.json", "r1", "ok")


def test_written_file_is_readable_by_others(path: Path):
    set_label(path, "r1", "ok")
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_concurrent_sessions_lose_no_label(path: Path):
    def label(i: int) -> None:
        for j in range(5):
            set_label(path, f"t{i}-{j}", "ok")

    threads = [threading.Thread(target=label, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(load_labels(path)) == 30

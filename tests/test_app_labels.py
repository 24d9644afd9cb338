"""Tests for qaq.app.labels: the user's labels of a workspace, and detection measured against labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from app_workspaces import labelled_workspace, scored, small_table, ws_of

from qaq.app import labels, table
from qaq.app.table import Workspace
from qaq.io.labels import LABELS, LabelsError, labels_path
from qaq.select.detection import defect_share, detection_table, suspicion_scores


@pytest.fixture
def labelled(tmp_path: Path) -> Workspace:
    """The small table with a source file whose labels file marks a as ok, c as mismatched, d as excluded."""
    return labelled_workspace(tmp_path)


def test_labels_of_a_workspace(labelled):
    lab = labels.labels(labelled)
    assert lab["id"].tolist() == ["a", "c", "d", "b"]
    assert labels.row_labels(labelled, "a") == ("ok", None)
    assert labels.row_labels(labelled, "d") == (None, "exclude")
    assert labels.row_labels(labelled, "zz") == (None, None)
    pd.testing.assert_series_equal(labels.label_column(labelled),
                                   pd.Series(["ok", None, "mismatched", None, None], name="id", dtype="string"))
    assert labels.overrides(labelled) == (["b"], ["d"])
    assert labels.label_sources(labelled) == {"the data's `defect` column": ("defect", "none"),
                                              "your labels": ("label", "ok")}
    pd.testing.assert_frame_equal(labels.labelled_table(labelled, "label"),
                                  small_table().assign(label=labels.label_column(labelled)))
    pd.testing.assert_frame_equal(labels.labelled_table(labelled, "defect"), small_table())


def test_labels_without_a_source_file():
    ws = ws_of()
    assert labels.labels(ws).columns.tolist() == ["id", "label", "override", "updated"] and labels.labels(ws).empty
    assert labels.overrides(ws) == ([], [])
    assert labels.label_column(ws).isna().all()
    assert labels.label_sources(ws) == {"the data's `defect` column": ("defect", "none")}
    assert labels.label_sources(ws_of(small_table().drop(columns="defect"))) == {}


def test_an_unreadable_labels_file(tmp_path):
    source = tmp_path / "d.jsonl"
    labels_path(source).write_text("{not json")
    ws = ws_of(source=source)
    with pytest.raises(LabelsError):
        labels.row_labels(ws, "a")
    with pytest.raises(LabelsError):
        labels.overrides(ws)
    assert labels.label_sources(ws) == {"the data's `defect` column": ("defect", "none")}  # reported on Browse


def _detect_table(n: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    t = scored(n)
    t["s_ifd"] = rng.uniform(0.5, 1.5, n)
    t = table.working_table(t, bins=2, ranking="stratified", strong="s", weak="w")
    t["defect"] = np.where(np.arange(n) % 4 == 0, "echo", "none")
    return t, suspicion_scores(t, model="s", strong="s", weak="w", bins=2)


def test_detection_quality():
    t, scores = _detect_table()
    out = labels.detection_quality(t, scores, label_col="defect", clean="none")
    pd.testing.assert_frame_equal(out["table"], detection_table(t, scores, label_col="defect", clean="none"))
    assert out["truth"].sum() == 10 and "error" not in out
    assert set(out["roc"]) == set(out["pr"]) == set(scores.columns)
    one_class = labels.detection_quality(t.assign(defect="none"), scores, label_col="defect", clean="none")
    assert (one_class["roc"], one_class["pr"]) == ({}, {}) and one_class["error"]


def test_defect_shares(labelled):
    masks = {"first two": pd.Series([True, True, False, False, False])}
    pd.testing.assert_frame_equal(labels.defect_shares(labelled, ("defect", "none"), masks),
                                  defect_share(small_table(), masks, label_col="defect", clean="none"))
    shares = labels.defect_shares(labelled, ("label", "ok"), masks)
    assert shares["n_labelled"].tolist() == [2, 1]  # the user's labels: a (ok) and c (mismatched)
    assert shares["mismatched"].tolist() == [0.5, 0.0]


def test_label_keys_one_per_label_and_override():
    assert list(labels.LABEL_KEYS) == list(LABELS) and list(labels.LABEL_KEYS.values()) == ["1", "2", "3", "4", "5"]
    keys = [*labels.LABEL_KEYS.values(), *labels.OVERRIDE_KEYS.values(), labels.CLEAR_KEY, labels.NEXT_KEY,
            labels.PREVIOUS_KEY]
    assert len(set(keys)) == len(keys)
    assert not {"C", "R"} & {k.upper() for k in keys}  # Streamlit reserves these


def test_label_counts_and_setting_many_labels(labelled):
    assert labels.label_counts(labelled, ["a", "b", "c", "zz"]) == {labels.UNLABELLED: 1, "ok": 1, "mismatched": 1}
    assert labels.set_labels(labelled, ["a", "b", "zz"], "echo") == 2  # zz is no row of the table: left alone
    assert labels.label_counts(labelled, ["a", "b", "c"]) == {"mismatched": 1, "echo": 2}
    assert labels.set_labels(labelled, ["a", "b"], "echo") == 0  # already so
    assert labels.set_labels(labelled, ["a", "b"], None) == 2
    assert labels.row_labels(labelled, "b") == (None, "include")  # the override stays
    with pytest.raises(ValueError, match="no file"):
        labels.set_labels(ws_of(), ["a"], "ok")


def test_labels_or_error(labelled, tmp_path):
    frame, error = labels.labels_or_error(labelled)
    assert error is None and frame["id"].tolist() == ["a", "c", "d", "b"]
    source = tmp_path / "bad.jsonl"
    labels_path(source).write_text("{not json")
    frame, error = labels.labels_or_error(ws_of(source=source))
    assert frame.empty and "not valid JSON" in error
    assert labels.label_column(labelled, column="override").tolist()[1] == "include"

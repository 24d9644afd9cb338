"""Tests for qaq.app.dataset: the fields of a data file, its validation report and lengths (Data page)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from app_workspaces import NAN

from qaq.app import dataset
from qaq.io.datasets import DataError, skipped_rows


def test_source_fields_of_jsonl_csv_and_parquet(tmp_path):
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text('{"q": 1, "a": 2}\n"not an object"\n{"a": 3, "extra": 4}\n{"late": 5}\n')
    assert dataset.source_fields(jsonl) == ["q", "a", "extra", "late"]
    assert dataset.source_fields(jsonl, sample=3) == ["q", "a", "extra"]  # the first 3 records only
    frame = pd.DataFrame({"instruction": ["x"], "output": ["y"], "id": [1]})
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    assert dataset.source_fields(tmp_path / "d.csv") == ["instruction", "output", "id"]
    assert dataset.source_fields(tmp_path / "d.parquet") == ["instruction", "output", "id"]


def test_source_fields_explains_unreadable_files(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        dataset.source_fields(tmp_path / "bad.parquet")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="cannot read the CSV header"):
        dataset.source_fields(tmp_path / "empty.csv")


def test_lengths_in_characters_and_in_tokens():
    t = pd.DataFrame({"query": ["abc", "de"], "answer": ["", "fghij"],
                      "m_n_tokens_q": pd.array([3, None], dtype="Int64"),
                      "m_n_tokens_a": pd.array([1, 2], dtype="Int64")})
    chars, unit = dataset.lengths(t)
    assert unit == "characters"
    pd.testing.assert_frame_equal(chars, pd.DataFrame({"query": [3, 2], "answer": [0, 5]}))
    tokens, unit = dataset.lengths(t, "m")
    assert unit == "m tokens"
    pd.testing.assert_frame_equal(tokens, pd.DataFrame({"query": [3.0, NAN], "answer": [1.0, 2.0]}))
    assert dataset.lengths(t, "unscored")[1] == "characters"


def test_validation_report():
    t = pd.DataFrame({"id": ["a", "b", "c", "d"], "line": [1, 2, 4, 5], "query": ["q", "q", "", "q"],
                      "answer": ["x", "y", "x", "x"], "skip": ["", "", "empty query", ""]})
    report = dataset.validation_report(t)
    assert (report["rows"], report["to_score"]) == (4, 3)
    pd.testing.assert_frame_equal(report["skipped"], skipped_rows(t))
    assert report["skipped"]["id"].tolist() == ["c"]
    pd.testing.assert_frame_equal(report["duplicate_pairs"],
                                  pd.DataFrame({"id": ["d"], "line": [5]}, index=[3]))
    assert report["truncated"] == {}  # nothing scored yet


def test_validation_report_lists_heavily_truncated_rows():
    t = pd.DataFrame({"id": ["a", "b", "c"], "line": [1, 2, 3], "query": ["q"] * 3, "answer": ["x"] * 3,
                      "skip": [""] * 3, "m_nll_q": 1.0, "m_nll_q_given_a": 1.0, "m_rmi": 0.0,
                      "m_n_tokens_q": [10, 10, 10], "m_n_tokens_a": [90, 30, 88], "m_truncated": [5, 900, 12]})
    cut = dataset.validation_report(t)["truncated"]["m"]
    pd.testing.assert_frame_equal(cut, pd.DataFrame({"id": ["b", "c"], "line": [2, 3], "tokens_cut": [900, 12],
                                                     "tokens": [940, 110], "share_cut": [0.957, 0.109]}))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repeated_pairs_is_pandas_duplicated_of_both_columns(seed):
    # Few distinct queries and answers: repeated queries with other answers, and repeated pairs.
    rng = np.random.default_rng(seed)
    t = pd.DataFrame({"query": rng.choice(["q1", "q2", "q3", "q4 unique?"], 200).tolist(),
                      "answer": rng.choice(["a", "b", "c"], 200).tolist()})
    t.loc[len(t)] = ["only once", "a"]
    expected = t.duplicated(subset=["query", "answer"], keep="first").to_numpy()
    assert expected.sum() > 0 and (~expected).sum() > 4
    np.testing.assert_array_equal(dataset.repeated_pairs(t), expected)
    no_repeats = pd.DataFrame({"query": ["x", "y"], "answer": ["a", "a"]})
    assert not dataset.repeated_pairs(no_repeats).any()

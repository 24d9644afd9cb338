"""qaq.select.selection.attach_scores: string ids matched in one pass give the table (and the
errors) that matching on the ids' text with a merge gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from qaq.columns import QA_HASH
from qaq.io.pairs import hash_id
from qaq.select.selection import attach_scores


def by_merge(data: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """attach_scores with the one-pass match switched off (the checks and the merge decide)."""
    mp = pytest.MonkeyPatch()

    def unmatched(*args, **kwargs):
        raise pa.ArrowInvalid("switched off")

    mp.setattr(pc, "index_in", unmatched)
    try:
        return attach_scores(data, scores)
    finally:
        mp.undo()


def same_both_ways(data: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame | None:
    try:
        want = by_merge(data, scores)
    except ValueError as e:
        with pytest.raises(ValueError) as got:
            attach_scores(data, scores)
        assert str(got.value) == str(e)
        return None
    got = attach_scores(data, scores)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == want.attrs
    return got


def table(n: int = 50, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    queries = [f"q{i} ✓" for i in range(n)]
    answers = [f"a{i % 7}" for i in range(n)]
    data = pd.DataFrame({
        "id": pd.array([f"r{i}" for i in range(n)], dtype="string"),
        "query": pd.array(queries, dtype="string"),
        "answer": pd.array(answers, dtype="string"),
        "row": np.arange(n),
        "m_rmi": 0.0,  # replaced by the scores' column
        "task": ["t"] * n,
    })
    data.attrs["qaq_source"] = {"path": "x.jsonl"}
    order = rng.permutation(n)
    scores = pd.DataFrame({
        "id": [f"r{i}" for i in order],
        QA_HASH: [hash_id(queries[i], answers[i]) for i in order],
        "m_nll_q": rng.normal(size=n),
        "m_rmi": rng.normal(size=n),
        "m_n_tokens_q": pd.array(rng.integers(0, 9, n), dtype="Int64"),
        "flag": rng.random(n) < 0.5,
        "k": rng.integers(0, 9, n),
        "note": [f"n{i}" for i in order],
    })
    return data, scores


def test_a_shuffled_score_table_joins_as_by_merge():
    data, scores = table()
    got = same_both_ways(data, scores)
    assert got is not None and got["m_rmi"].tolist() == scores.set_index("id").loc[data["id"], "m_rmi"].tolist()
    same_both_ways(data, scores.drop(columns=[QA_HASH]))
    same_both_ways(data, scores[["id"]])
    same_both_ways(data, scores.assign(id=scores["id"].astype("string")))


@pytest.mark.parametrize("index", [np.arange(50) * 3 + 7, [f"x{i}" for i in range(50)], [0] * 50])
def test_the_data_index_is_kept(index):
    data, scores = table()
    same_both_ways(data.set_axis(index), scores)


def test_errors_are_the_same_both_ways():
    data, scores = table()
    same_both_ways(data, scores.assign(id=scores["id"].where(scores.index != 3, scores["id"].iloc[4])))  # repeat
    same_both_ways(data.assign(id=data["id"].where(data.index != 1, "r0")), scores)
    same_both_ways(data, scores.assign(id=scores["id"].where(scores.index != 3, "zz")))  # another set
    same_both_ways(data, scores.iloc[:-1])  # fewer scores
    same_both_ways(data.iloc[:-1], scores)
    changed = data.assign(query=data["query"].where(data.index != 5, "edited"))
    assert same_both_ways(changed, scores) is None
    same_both_ways(data, scores.assign(**{QA_HASH: scores[QA_HASH].where(scores.index != 2, None)}))


def test_missing_or_non_string_ids_are_matched_as_before():
    data, scores = table()
    same_both_ways(data.assign(id=data["id"].where(data.index != 2, pd.NA)), scores)
    same_both_ways(data.assign(id=data["id"].astype(object)), scores)
    ints = data.assign(id=np.arange(50))
    same_both_ways(ints, scores.assign(id=[str(i) for i in range(50)], **{QA_HASH: [hash_id(*p) for p in zip(
        data["query"], data["answer"])]}))


def test_string_ids_are_joined_without_a_merge(monkeypatch):
    data, scores = table()
    want = attach_scores(data, scores)

    def no_merge(*args, **kwargs):
        raise AssertionError("merged")

    monkeypatch.setattr(pd.DataFrame, "merge", no_merge)
    pd.testing.assert_frame_equal(attach_scores(data, scores), want)
    with pytest.raises(AssertionError, match="merged"):
        attach_scores(data.assign(id=data["id"].astype(object)), scores)

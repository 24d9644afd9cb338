"""The run record: a score file's metadata read into typed fields in one place."""

from __future__ import annotations

import pytest

from qaq.io.datasets import DataError
from qaq.io.runrecord import AUTHORS_FORMAT, RunRecord, run_record


def test_fields_are_typed_and_raw_is_kept():
    meta = {"models": {"s": {"spec": "gemma3-270m", "identity": "sha256:1", "parameters": 268098176.0}},
            "config": {"template": "chat", "max_length": 512, "system": "S"}, "extra": [1]}
    r = run_record(meta)
    assert r.models["s"].parameters == 268098176 and isinstance(r.models["s"].parameters, int)
    assert r.models["s"].identity == "sha256:1" and r.model_raw == {"s": meta["models"]["s"]}
    assert r.templates == {"template": "chat", "system": "S"} and r.raw is meta
    assert r.source.path is None and r.source.load_kwargs() == ()


def test_empty_or_missing_metadata_is_an_empty_record():
    assert run_record(None) == RunRecord() == run_record({})


def test_a_custom_mapping_reads_the_fields_it_named():
    r = run_record({"source": {"path": "/d.csv", "mapping": {"schema": "custom", "query": "q", "answer": "a",
                                                            "input": None, "messages": None, "id": "key"}}})
    assert r.source.load_kwargs() == (("answer", "a"), ("id_field", "key"), ("query", "q"))


def test_rows_are_carried_by_the_authors_format_or_by_row_columns():
    assert run_record({"format": AUTHORS_FORMAT}).carries_rows(["id"])
    assert run_record({}).carries_rows(["id", "row", "query", "answer", "m_rmi"])
    assert not run_record({}).carries_rows(["id", "m_rmi"])


@pytest.mark.parametrize(("meta", "message"), [
    ({"models": ["weak"]}, "scores.parquet: 'models' must be an object, got list"),
    ({"models": {"w": "smollm2"}}, "scores.parquet: models.w must be an object, got str"),
    ({"models": {"w": {"spec": 3}}}, "scores.parquet: models.w: 'spec' must be a string, got int"),
    ({"source": {"path": ["a"]}}, "scores.parquet: source: 'path' must be a string, got list"),
    ({"format": "csv"}, "scores.parquet: unknown format 'csv'; expected qaq or qaq-authors"),
])
def test_a_malformed_field_is_an_error_naming_the_file_and_field(meta, message):
    with pytest.raises(DataError) as e:
        run_record(meta, where="scores.parquet")
    assert message in str(e.value)

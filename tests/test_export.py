"""Tests for qaq.io.export: exact re-export in every format, atomic writes, manifests."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qaq.io.export import (
    ExportError,
    export_selection,
    ids_sha256,
    read_manifest,
    write_manifest,
    write_selection,
)
from qaq.select.recipe_parsing import parse_recipe
from qaq.select.selection import select

# Raw JSONL lines as a user's tool might have written them: odd spacing, escaped and raw
# unicode, U+2028 inside a string, nested objects, fields that differ between records.
JSONL_LINES = [
    '{"instruction": "Reverse a string", "output": "s[::-1]", "id": 1}',
    '{"instruction":"caf\\u00e9 ☕ 函数","output":"print(\'é\')",  "meta":{"tags":["a","b"],"n":{"x":1.50}}}',
    '{"instruction": "line\u2028sep", "output": "ok", "extra": null, "score": 1e-3}',
    '{"output": "fields in another order", "instruction": "🙂 emoji"}',
]


def write_jsonl(path: Path, lines: list[str], *, crlf_at: int | None = None, blank: bool = True) -> Path:
    parts = []
    for i, line in enumerate(lines):
        parts.append(line + ("\r\n" if i == crlf_at else "\n"))
        if blank and i == 1:
            parts.append("\n")  # blank lines are not records
    path.write_bytes("".join(parts).encode("utf-8"))
    return path


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# ------------------------------------------------------------------------------------ JSONL


def test_jsonl_is_byte_exact(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", JSONL_LINES, crlf_at=2)
    assert write_selection(src, [3, 1, 2], tmp_path / "out.jsonl") == 3
    raw = src.read_bytes().split(b"\n")
    # record 1 is on line 2, record 2 on line 4 (after the blank line), with its "\r" kept
    expected = raw[4] + b"\n" + raw[1] + b"\n" + raw[3] + b"\n"
    assert (tmp_path / "out.jsonl").read_bytes() == expected
    assert b"\\u00e9" in expected and "\u2028".encode() in expected and expected.count(b"\r") == 1


def test_jsonl_with_scores_appends_prefixed_keys_in_order(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", JSONL_LINES)
    scores = pd.DataFrame({"rmi": [0.25, np.nan], "stratum": pd.array([3, pd.NA], dtype="Int64"),
                           "note": ["ü", None]})
    write_selection(src, [1, 3], tmp_path / "out.jsonl", scores=scores, score_prefix="qaq_")
    text = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    first, second = (json.loads(line) for line in text.splitlines())
    assert list(first) == ["instruction", "output", "meta", "qaq_rmi", "qaq_stratum", "qaq_note"]
    assert first["instruction"] == "café ☕ 函数" and first["meta"] == {"tags": ["a", "b"], "n": {"x": 1.5}}
    assert (first["qaq_rmi"], first["qaq_stratum"], first["qaq_note"]) == (0.25, 3, "ü")
    assert list(second)[:2] == ["output", "instruction"]
    assert (second["qaq_rmi"], second["qaq_stratum"], second["qaq_note"]) == (None, None, None)
    assert "café ☕ 函数" in text  # ensure_ascii=False


def test_clashing_score_name_is_an_error_and_writes_nothing(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", JSONL_LINES)
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n")
    with pytest.raises(ExportError, match="clash"):
        write_selection(src, [0], target, scores=pd.DataFrame({"output": [1.0]}))
    assert target.read_text() == "previous\n"
    assert listing(tmp_path) == {"in.jsonl", "out.jsonl"}


@pytest.mark.parametrize(
    "rows,kwargs,message",
    [
        ([0, 9], {}, "row 9 is out of range"),
        ([0, 0], {}, "must not repeat"),
        ([-1], {}, "must be >= 0"),
        ([0.5], {}, "integer record indices"),
        ([0, 1], {"scores": pd.DataFrame({"a": [1.0]})}, "scores has 1 lines for 2 rows"),
    ],
)
def test_bad_rows_write_nothing(tmp_path, rows, kwargs, message):
    src = write_jsonl(tmp_path / "in.jsonl", JSONL_LINES)
    with pytest.raises(ExportError, match=message):
        write_selection(src, rows, tmp_path / "out.jsonl", **kwargs)
    assert listing(tmp_path) == {"in.jsonl"}


def test_unknown_suffix_and_missing_folder(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", JSONL_LINES)
    with pytest.raises(ExportError, match="suffix must be one of"):
        write_selection(src, [0], tmp_path / "out.json")
    with pytest.raises(ExportError, match="no such folder"):
        write_selection(src, [0], tmp_path / "nope" / "out.jsonl")
    assert listing(tmp_path) == {"in.jsonl"}


def test_json_array_to_jsonl(tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps([{"q": "a", "nested": {"é": [1, 2]}}, {"q": "b"}], ensure_ascii=False), encoding="utf-8")
    write_selection(src, [0], tmp_path / "out.jsonl")
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == '{"q": "a", "nested": {"é": [1, 2]}}\n'


# ------------------------------------------------------------------------------------ CSV


CSV_TEXT = (
    "id,instruction,output,zip\r\n"
    '1,"Say ""hi"", then, leave","print(""hi"")\nexit()",007\r\n'
    "2,naïve 函数,ok,\r\n"
    '3,"multi\r\nline",x,01\r\n'
)


def test_csv_keeps_header_and_raw_cells(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(CSV_TEXT.encode("utf-8"))
    write_selection(src, [2, 0], tmp_path / "out.csv")
    got = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_bytes().decode("utf-8"), newline="")))
    source = list(csv.reader(io.StringIO(CSV_TEXT, newline="")))
    assert got == [source[0], source[3], source[1]]
    assert got[1][3] == "01" and got[2][3] == "007"  # cells stay strings: no number parsing


def test_csv_with_scores_and_to_jsonl(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(CSV_TEXT.encode("utf-8"))
    write_selection(src, [1], tmp_path / "out.csv", scores=pd.DataFrame({"rmi": [0.5], "n": [np.nan]}),
                    score_prefix="s_")
    got = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"), newline="")))
    assert got == [["id", "instruction", "output", "zip", "s_rmi", "s_n"], ["2", "naïve 函数", "ok", "", "0.5", ""]]
    write_selection(src, [0], tmp_path / "out.jsonl")
    assert json.loads((tmp_path / "out.jsonl").read_text()) == {
        "id": "1", "instruction": 'Say "hi", then, leave', "output": 'print("hi")\nexit()', "zip": "007"}


def test_csv_to_parquet_keeps_strings(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(CSV_TEXT.encode("utf-8"))
    write_selection(src, [0, 2], tmp_path / "out.parquet")
    t = pq.read_table(tmp_path / "out.parquet")
    assert t.column_names == ["id", "instruction", "output", "zip"]
    assert all(f.type == pa.string() for f in t.schema)
    assert t.column("zip").to_pylist() == ["007", "01"]


# ------------------------------------------------------------------------------------ Parquet


def parquet_source(path: Path) -> pa.Table:
    table = pa.table(
        {
            "id": pa.array(["a", "b", "c", "d"]),
            "n": pa.array([1, 2, None, 4], pa.int32()),
            "when": pa.array([dt.datetime(2024, 1, i + 1) for i in range(4)], pa.timestamp("ms")),
            "msgs": pa.array([[{"role": "user", "content": f"é{i}"}] for i in range(4)]),
            "cat": pa.array(["x", "y", "x", "y"]).dictionary_encode(),
        }
    ).replace_schema_metadata({"origin": "test"})
    pq.write_table(table, path)
    return table


def test_parquet_keeps_columns_types_and_metadata(tmp_path):
    table = parquet_source(tmp_path / "in.parquet")
    write_selection(tmp_path / "in.parquet", [3, 1], tmp_path / "out.parquet")
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.equals(pq.read_table(tmp_path / "in.parquet").schema, check_metadata=True)
    assert out.to_pylist() == table.take([3, 1]).to_pylist()


def test_parquet_with_scores_and_to_jsonl_and_csv(tmp_path):
    table = parquet_source(tmp_path / "in.parquet")
    scores = pd.DataFrame({"rmi": [0.5, np.nan], "stratum": pd.array([1, pd.NA], dtype="Int64")})
    write_selection(tmp_path / "in.parquet", [0, 2], tmp_path / "out.parquet", scores=scores, score_prefix="q_")
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == table.column_names + ["q_rmi", "q_stratum"]
    assert out.schema.field("n").type == pa.int32()
    assert out.column("q_rmi").to_pylist() == [0.5, None] and out.column("q_stratum").to_pylist() == [1, None]
    write_selection(tmp_path / "in.parquet", [2], tmp_path / "out.jsonl", scores=scores.iloc[1:], score_prefix="q_")
    assert json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8")) == {
        "id": "c", "n": None, "when": "2024-01-03T00:00:00", "msgs": [{"role": "user", "content": "é2"}],
        "cat": "x", "q_rmi": None, "q_stratum": None}
    write_selection(tmp_path / "in.parquet", [1], tmp_path / "out.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    assert rows == [["id", "n", "when", "msgs", "cat"],
                    ["b", "2", "2024-01-02T00:00:00", '[{"role": "user", "content": "é1"}]', "y"]]


def test_jsonl_to_parquet_and_csv_take_every_field(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", JSONL_LINES)
    write_selection(src, [0, 1], tmp_path / "out.parquet")
    t = pq.read_table(tmp_path / "out.parquet")
    assert t.column_names == ["instruction", "output", "id", "meta"]
    assert t.column("meta").to_pylist()[1] == {"tags": ["a", "b"], "n": {"x": 1.5}}
    write_selection(src, [0, 1], tmp_path / "out.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["instruction", "output", "id", "meta"]
    assert rows[2] == ["café ☕ 函数", "print('é')", "", '{"tags": ["a", "b"], "n": {"x": 1.5}}']


# ------------------------------------------------------------------------------------ manifests


def test_ids_sha256():
    assert ids_sha256(["a", "é"]) == hashlib.sha256("a\né\n".encode()).hexdigest()
    assert ids_sha256([]) == hashlib.sha256(b"").hexdigest()


def test_manifest_round_trip(tmp_path):
    recipe = parse_recipe({"method": "diff_high", "strong": "s", "weak": "w", "budget": 0.25})
    counts = pd.DataFrame({"stratum": pd.array([0, pd.NA], dtype="Int64"), "rows": [5, 1], "selected": [2, 0]})
    written = write_manifest(tmp_path / "m.json", recipe=recipe, inputs={"scores": {"sha256": "ab"}}, n_selected=2,
                             ids_sha256="ff", counts=counts, models={"s": {"spec": "x"}}, qaq_version="9.9")
    back = read_manifest(tmp_path / "m.json")
    assert back == written
    assert back["counts"] == [{"stratum": 0, "rows": 5, "selected": 2}, {"stratum": None, "rows": 1, "selected": 0}]
    assert parse_recipe(back) == recipe == parse_recipe(tmp_path / "m.json")
    (tmp_path / "plain.json").write_text('{"method": "random", "budget": 1}')
    with pytest.raises(ExportError, match="not a qaq manifest"):
        read_manifest(tmp_path / "plain.json")


def test_export_selection_is_all_or_nothing(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", JSONL_LINES)
    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "row": [0, 1, 2, 3], "selected": [True, False, True, False]})
    recipe = parse_recipe({"method": "random", "budget": 2})
    with pytest.raises(ExportError, match="no such folder"):
        export_selection(df, src, tmp_path / "sel.jsonl", recipe=recipe, discarded_path=tmp_path / "no" / "d.jsonl")
    assert listing(tmp_path) == {"in.jsonl"}
    m = export_selection(df, src, tmp_path / "sel.jsonl", recipe=recipe, discarded_path=tmp_path / "d.jsonl",
                         manifest_path=tmp_path / "m.json")
    lines = src.read_text(encoding="utf-8").split("\n")
    assert (tmp_path / "sel.jsonl").read_text(encoding="utf-8") == lines[0] + "\n" + lines[3] + "\n"
    assert (tmp_path / "d.jsonl").read_text(encoding="utf-8") == lines[1] + "\n" + lines[4] + "\n"
    assert m["ids_sha256"] == ids_sha256(["a", "c"]) and m["n_selected"] == 2 and m["n_rows"] == 4
    assert read_manifest(tmp_path / "m.json")["recipe"] == {"method": "random", "budget": 2, "seed": 0,
                                                            "include": [], "exclude": []}
    assert listing(tmp_path) == {"in.jsonl", "sel.jsonl", "d.jsonl", "m.json"}


def test_select_then_export_uses_source_rows(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", JSONL_LINES)
    df = pd.DataFrame({"id": list("abcd"), "row": [0, 1, 2, 3], "s_nll_q": [1.0, 2, 3, 4],
                       "s_nll_q_given_a": [0.0, 0, 0, 0], "s_rmi": [1.0, 2, 3, 4]}).iloc[::-1]
    picked = select(df, {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 1.0, "ranking": "global"})
    export_selection(picked, src, tmp_path / "out.jsonl", recipe=parse_recipe({"method": "random", "budget": 1}))
    lines = src.read_text(encoding="utf-8").split("\n")
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == lines[3] + "\n" + lines[4] + "\n"


def test_malformed_records_are_export_errors(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n3\n", encoding="utf-8")
    for out in ("out.csv", "out.parquet", "out.jsonl"):
        with pytest.raises(ExportError, match="1 cells for 2 header names"):
            write_selection(src, [1], tmp_path / out)
    arr = write_jsonl(tmp_path / "in.jsonl", ['{"a": 1}', "[1, 2]"], blank=False)
    with pytest.raises(ExportError, match="not a JSON object"):
        write_selection(arr, [1], tmp_path / "out.jsonl", scores=pd.DataFrame({"x": [1.0]}))
    assert listing(tmp_path) == {"in.csv", "in.jsonl"}

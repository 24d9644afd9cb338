"""qaq.io.columnar: the fast way into the qaq table gives the record-by-record table exactly, or
steps aside (None) so that the record-by-record reader gives its result or its error."""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qaq.io import columnar, datasets
from qaq.io.columnar import PY_WHITESPACE, columnar_rows, lines_of_one_object
from qaq.io.datasets import DataError, load_dataset
from qaq.io.readers import read_format


def slow(path: Path, **kw) -> pd.DataFrame:
    """load_dataset, record by record (the columnar way switched off)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(datasets, "columnar_rows", lambda *a: None)
    try:
        return load_dataset(path, **kw)
    finally:
        mp.undo()


def takes_fast_path(path: Path, **kw) -> bool:
    given = dict(query=None, answer=None, input_field=None, id_field=None, messages=None)
    given.update({"input_field" if k == "input_field" else k: v for k, v in kw.items() if k != "fmt"})
    return columnar_rows(Path(path), read_format(Path(path), kw.get("fmt")), given) is not None


def same_as_slow(path: Path, *, fast: bool | None = True, **kw) -> pd.DataFrame | None:
    """Load both ways and compare: equal tables (dtypes and attrs) or the same error.

    ``fast``: whether the columnar way must answer (None: either)."""
    try:
        want = slow(path, **kw)
    except (DataError, UnicodeError) as e:  # UnicodeError: a lone surrogate in a passed-through field
        with pytest.raises(type(e)) as got:
            load_dataset(path, **kw)
        assert str(got.value) == str(e)
        assert not takes_fast_path(path, **kw)
        return None
    got = load_dataset(path, **kw)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == want.attrs
    for column in got.columns:  # the same values, bit for bit (assert_frame_equal takes -0.0 == 0.0)
        if got[column].dtype == np.float64:
            assert np.array_equal(np.signbit(got[column]), np.signbit(want[column]))
    if fast is not None:
        assert takes_fast_path(path, **kw) is fast, path.read_bytes()[:300] if path.is_file() else path
    return got


def write_lines(path: Path, lines: list[str], *, crlf: bool = False, final: bool = True, bom: bool = False) -> Path:
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if final else "")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def dumps(records: list[dict], **kw) -> list[str]:
    return [json.dumps(r, **kw) for r in records]


ROWS = [
    {"id": "a1", "instruction": "Reverse a string.", "output": "s[::-1]", "lang": "py", "n": 1, "w": 0.5},
    {"id": "a2", "instruction": "Sum — a list ✓ 😀", "output": "sum(xs)\n", "lang": "py", "n": 2, "w": 1.5},
    {"id": "a3", "instruction": "  ", "output": "nothing", "lang": None, "n": 3, "w": None},  # empty query
    {"id": "a4", "instruction": "Explain.", "output": "\u3000\u2028 ", "n": 4, "w": 2.25},  # empty answer
    {"id": "a5", "instruction": "Sort\tin C.", "output": "qsort(a);", "lang": "c", "n": 5, "w": -3.5, "late": True},
]


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".json"])
@pytest.mark.parametrize("ascii_only", [False, True])
def test_a_flat_jsonl_file_gives_the_record_by_record_table(tmp_path, crlf, suffix, ascii_only):
    path = write_lines(tmp_path / f"d{suffix}", dumps(ROWS, ensure_ascii=ascii_only), crlf=crlf, bom=crlf)
    got = same_as_slow(path)
    assert got is not None and got["skip"].tolist() == ["", "", "empty query", "empty answer", ""]
    assert list(got.columns[7:]) == ["lang", "n", "w", "late"]


@pytest.mark.parametrize("final", [False, True])
def test_ids_hashed_repeated_pairs_and_no_final_newline(tmp_path, final):
    rows = [{"prompt": "p", "completion": "c"}, {"prompt": "p", "completion": "c"}, {"prompt": "q", "completion": ""}]
    got = same_as_slow(write_lines(tmp_path / "d.jsonl", dumps(rows), final=final))
    assert got is not None and got["id"].str.endswith("-2").sum() == 1


def test_integer_ids_an_id_field_and_reserved_names(tmp_path):
    rows = [{"key": -(2**63), "query": "q1", "answer": "a1", "row": "x", "line": 3, "skip": None, "id": 7},
            {"key": 2**63 - 1, "query": "q2", "answer": "a2", "row": "y", "line": 4, "skip": "s", "id": 8}]
    path = write_lines(tmp_path / "d.jsonl", dumps(rows))
    same_as_slow(path)  # id: the file's "id" (integers)
    same_as_slow(path, id_field="key")
    same_as_slow(path, id_field="")  # hashed
    got = same_as_slow(path, query="answer", answer="query", id_field="key")
    assert got is not None and "src_id" in got.columns and "src_row" in got.columns


def test_the_input_field_is_appended_as_before(tmp_path):
    rows = [{"instruction": "i1", "input": "x = 1", "output": "o"}, {"instruction": "i2", "input": "", "output": "o"},
            {"instruction": "i3", "input": " \u2003", "output": "o"}, {"instruction": "i4", "input": None, "output": "o"},
            {"instruction": "i5", "output": "o"}]
    got = same_as_slow(write_lines(tmp_path / "d.jsonl", dumps(rows)))
    assert got is not None and got["query"].tolist() == ["i1\n\nx = 1", "i2", "i3", "i4", "i5"]
    same_as_slow(write_lines(tmp_path / "e.jsonl", dumps(rows)), query="output", answer="instruction", input_field="input")


def test_dates_stay_strings_and_fields_keep_their_first_seen_order(tmp_path, monkeypatch):
    monkeypatch.setattr(columnar, "BLOCK_SIZE", 256)  # many blocks: their schemas are merged
    rows = [{"query": f"q{i}", "answer": "a", "when": "2020-01-02", "at": "2021-03-04T05:06:07"} for i in range(30)]
    rows[12]["new"] = 1
    rows[20] = {"z": "2020-01-01", "answer": "a", "query": "q", "when": "2020-01-03"}
    got = same_as_slow(write_lines(tmp_path / "d.jsonl", dumps(rows)))
    assert got is not None and list(got.columns[7:]) == ["when", "at", "new", "z"]
    assert got["when"].iloc[0] == "2020-01-02"


@pytest.mark.parametrize(
    ("values", "fast"),
    [
        (["1", "2", "3"], True),  # int64
        (["1", "null", "3"], True),  # int with a gap: float64 both ways
        (["1.5", "2", "-3e2"], True),  # integers among floats are floats both ways
        (["1.5", "null", "0.1"], True),
        (["-0.0", "1.5", "2.5"], False),  # -0.0 and "-0" are one double in pyarrow
        (["-0", "1.5", "2.5"], False),
        (["1.5", str(2**63), "2.5"], False),  # a written integer beyond int64
        ([str(2**64), "1", "2"], False),
        (["NaN", "1.5", "2.5"], False),
        (["1e400", "1", "2"], False),
        (["true", "false", "true"], True),
        (["true", "null", "false"], True),  # object both ways
        (["null", "null", "null"], True),
        (['"x"', "1", "2"], False),  # mixed types
        (['["a", "b"]', "[]", '["c"]'], True),
        (['[1, 2.5]', "[]", "[3]"], False),
        (['{"k": 1}', '{"j": 2}', "null"], False),  # pyarrow would give each record both keys
    ],
)
def test_passed_through_values_are_json_loads_values(tmp_path, values, fast):
    lines = [f'{{"query": "q{i}", "answer": "a", "v": {v}}}' for i, v in enumerate(values)]
    same_as_slow(write_lines(tmp_path / "d.jsonl", lines), fast=fast)


@pytest.mark.parametrize(
    "text",
    [
        '{"query": "q", "answer": "a"}\n\n{"query": "q2", "answer": "a"}\n',  # a blank line
        '{"query": "q", "answer": "a"}{"query": "q2", "answer": "a"}\n\n',  # two on a line, one blank
        '{"query": "q",\n"answer": "a"}\n',  # pretty-printed
        '  {"query": "q", "answer": "a"}\n',
        '{"query": "q", "answer": "a"} \n',
        '{"query": "q", "answer": "a"}\r{"query": "q2", "answer": "a"}\r',
        '{"query": "q", "answer": "a", "query": "b"}\n',  # a repeated key: json.loads keeps the last
        '{"query": "q", "answer": "a"}\n\ufeff{"query": "q2", "answer": "a"}\n',
        '{"query": "q\\ud800", "answer": "a"}\n',  # a lone surrogate
        '{"query": "q", "answer": "a", "x": "\\udc00"}\n',
        '{"query": "q", "answer": "a", "x": -NaN}\n',
        '{"query": "q", "answer": "a", "x": Infinity}\n',
        '{"query": 1, "answer": "a"}\n',
        '{"query": null, "answer": "a"}\n',
        '{"answer": "a"}\n{"query": "q", "answer": "a"}\n',
        '{"query": "q", "answer": "a", "id": "x"}\n{"query": "q", "answer": "a", "id": "x"}\n',  # repeated id
        '{"query": "q", "answer": "a", "id": " "}\n',
        '{"query": "q", "answer": "a", "id": 1.0}\n',
        '{"query": "q", "answer": "a", "id": true}\n',
        '{"query": "q", "answer": "a", "id": null}\n',
        '{"query": "q", "answer": "a", "id": 1}\n{"query": "q", "answer": "a", "id": "1"}\n',
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n',
        '{"problem": "p", "generations": ["a", "b"]}\n',
        '{"problem": "p", "generations": "a"}\n',
        '{"q": "x", "a": "y"}\n',  # no known fields
        '{"query": "q", "answer": "a", "x": ' + "[" * 2000 + "]" * 2000 + "}\n",
        '{"query": "q", "answer": "a", "x": "' + "[{" * 2000 + '"}\n',  # brackets in a string: fine
        "",
        "\n",
        "[]\n",
    ],
)
def test_irregular_files_go_the_record_by_record_way(tmp_path, text):
    path = tmp_path / "d.jsonl"
    path.write_text(text, encoding="utf-8", errors="surrogatepass", newline="")
    same_as_slow(path, fast=None)


def test_bad_utf8_goes_the_record_by_record_way(tmp_path):
    for i, raw in enumerate([b"\xff", b"\xed\xa0\x80", b"\xc3"]):
        path = tmp_path / f"d{i}.jsonl"
        path.write_bytes(b'{"query": "q", "answer": "a"}\n{"query": "' + raw + b'", "answer": "a"}\n')
        assert same_as_slow(path, fast=False) is None


def test_fields_given_that_the_file_lacks_go_the_record_by_record_way(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", dumps(ROWS))
    same_as_slow(path, query="nope", answer="output", fast=None)
    same_as_slow(path, messages="instruction", fast=None)
    same_as_slow(path, id_field="lang", fast=False)  # a null id


def test_python_whitespace_is_what_str_strip_strips():
    assert sorted(PY_WHITESPACE) == [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]


def test_lines_of_one_object():
    assert lines_of_one_object(b'{"a": 1}\n{"a": 2}') == 2
    assert lines_of_one_object(b'{"a": 1}\r\n{"a": 2}\r\n') == 2
    assert lines_of_one_object(b'{"a": "}\\n{"}\n') == 1  # an escaped newline is two characters
    for bad in (b"", b"\n", b'{"a": 1}\n\n', b'{"a": 1}\n {"a": 2}', b'{"a": 1}\r\r\n', b'{"a":\n1}\n'):
        assert lines_of_one_object(bad) is None, bad


KINDS = ["str", "int", "float", "bool", "null", "list", "blank"]


def random_value(rng: random.Random, kind: str):
    if kind == "str":
        return "".join(rng.choice("ab Z\u00e9\u4e2d\U0001f600\t\\\"'{}[]/\u2028\x00\x7f") for _ in range(rng.randint(0, 8)))
    if kind == "int":
        return rng.choice([0, 1, -7, 2**40, -(2**62)])
    if kind == "float":
        return rng.choice([0.5, -1.25, 1e-300, 3.0e20, 0.1, 2.0])
    if kind == "list":
        return [rng.choice(["x", "y"]) for _ in range(rng.randint(0, 3))]
    return {"bool": rng.random() < 0.5, "null": None, "blank": " \u00a0"}[kind]


@pytest.mark.parametrize("seed", range(16))
def test_random_flat_files_give_the_record_by_record_table(tmp_path, seed):
    rng = random.Random(seed)
    kinds = {f"f{i}": rng.choice(KINDS) for i in range(rng.randint(0, 5))}
    mixed = seed % 4 == 3  # some fields hold values of several types
    with_id = rng.random() < 0.6
    records = []
    for i in range(rng.randint(1, 40)):
        r = {"instruction": rng.choice(["", " ", f"do {i}", "x\u3000"]), "output": rng.choice(["", "a", f"b{i}"])}
        if with_id:
            r["id"] = i if seed % 3 == 0 else f"id{i}"
        for f, kind in kinds.items():
            if rng.random() < 0.8:
                r[f] = random_value(rng, rng.choice(KINDS) if mixed and rng.random() < 0.3 else kind)
        keys = list(r)
        rng.shuffle(keys)
        records.append({k: r[k] for k in keys})
    path = write_lines(tmp_path / ("d.jsonl.gz" if seed % 4 == 1 else "d.jsonl"),
                       dumps(records, ensure_ascii=seed % 2 == 0), crlf=seed % 5 == 2)
    same_as_slow(path, fast=None)


def parquet_table() -> pa.Table:
    return pa.table({
        "instruction": pa.array(["a", "b", " ", "d"], pa.large_string()),
        "output": ["x", "", "z", "w"],
        "i32": pa.array([1, 2, 3, 4], pa.int32()),
        "u64": pa.array([1, 2, 3, 2**64 - 1], pa.uint64()),
        "f32": pa.array([0.5, None, 1.5, -0.0], pa.float32()),
        "ints_with_gap": pa.array([1, None, 3, 4], pa.int64()),
        "flag": [True, False, True, False],
        "flags_with_gap": [True, None, True, False],
        "s": ["p", None, "r", "s"],
        "none": pa.nulls(4, pa.string()),
        "tags": [["a"], [], None, ["b", "c"]],
        "meta": [{"k": 1}, {"k": 2}, None, {"k": 3}],
        "when": pa.array([0, 1, 2, 3], pa.timestamp("s")),
        "cat": pa.array(["u", "v", "u", "v"]).dictionary_encode(),
    })


def test_parquet_gives_the_record_by_record_table(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(parquet_table(), path)
    same_as_slow(path)
    pq.write_table(parquet_table().append_column("id", pa.array([5, 6, 7, 8], pa.int16())), path)
    same_as_slow(path)
    pq.write_table(parquet_table().append_column("id", pa.array(["5", "6", "5", "8"])), path)
    same_as_slow(path)  # a repeated id: the record-by-record error


def test_a_saved_dataset_gives_the_record_by_record_table(tmp_path):
    hf = pytest.importorskip("datasets")
    folder = tmp_path / "saved"
    hf.Dataset.from_dict({"instruction": ["a", "b"], "output": ["x", "y"], "n": [1, 2]}).save_to_disk(str(folder))
    same_as_slow(folder)


def test_csv_and_json_arrays_go_the_record_by_record_way(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("instruction,output\na,b\n", encoding="utf-8")
    same_as_slow(csv_path, fast=False)
    array = tmp_path / "d.json"
    array.write_text(json.dumps(ROWS), encoding="utf-8")
    same_as_slow(array, fast=False)


def test_parquet_with_a_repeated_column_name_goes_the_record_by_record_way(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table([["a"], ["b"], ["c"]], names=["instruction", "output", "output"]), path)
    same_as_slow(path, fast=False)

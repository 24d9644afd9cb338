"""Tests for qaq.io.datasets: loading, field mapping, ids, errors, raw records and score files."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qaq.columns import DATA_COLUMNS, SKIP_EMPTY_ANSWER, SKIP_EMPTY_QUERY, scored_models
from qaq.io.datasets import DataError, load_dataset, skipped_rows
from qaq.io.fieldmapping import FieldMapping, detect_mapping
from qaq.io.pairs import hash_id, pair_hashes
from qaq.io.readers import read_records
from qaq.io.scorefile import from_authors_format, is_authors_format, load_scores, write_scores

FIXTURES = Path(__file__).parent / "fixtures" / "data"
DS = "deepseek-coder-6.7b-base"
QWEN = "Qwen3-0.6B"


def sha16(query: str, answer: str) -> str:
    return hashlib.sha256(f"{query}\x1f{answer}".encode()).hexdigest()[:16]


def data_frame(**columns: list) -> pd.DataFrame:
    """The expected data columns, with the contract's dtypes."""
    return pd.DataFrame({c: columns[c] for c in DATA_COLUMNS}).astype(DATA_COLUMNS)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


# --------------------------------------------------------------------------- schemas

def test_alpaca_jsonl_loads_exactly() -> None:
    path = FIXTURES / "alpaca.jsonl"
    df = load_dataset(path)
    queries = [
        "Write a Python function that reverses a string.",
        "Explain what this code prints.\n\nprint('héllo wörld'.upper())",
        "把列表排序 🐍",  # a blank input is not appended
        "Return the answer only.\n\n2 + 2",
    ]
    answers = ["def reverse(s: str) -> str:\n    return s[::-1]", "It prints HÉLLO WÖRLD.",
               "sorted(xs)", "  \t "]
    expected = data_frame(
        id=[sha16(q, a) for q, a in zip(queries, answers)], query=queries, answer=answers,
        context=[""] * 4, row=[0, 1, 2, 3], line=[1, 2, 4, 5], skip=["", "", "", SKIP_EMPTY_ANSWER])
    expected["source"] = ["synthetic", "evol", "zh", "synthetic"]
    pd.testing.assert_frame_equal(df, expected)
    assert df.attrs["qaq_source"] == {
        "path": str(path.resolve()), "format": "jsonl",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "mapping": {"schema": "alpaca", "query": "instruction", "answer": "output", "input": "input",
                    "messages": None, "id": None, "answer_first": False},
        "n_rows": 4, "n_skipped": 1,
    }


def test_instruction_response_json_array() -> None:
    df = load_dataset(FIXTURES / "instruction_response.json")
    assert df["id"].tolist() == ["101", "7"]  # the file's ids, as strings
    assert df["query"].tolist() == ["Write a SQL query counting rows in `users`.",
                                    "Écris une fonction JavaScript qui double un nombre."]
    assert df["answer"].tolist() == ["SELECT COUNT(*) FROM users;", "const double = (n) => n * 2;"]
    assert df["line"].tolist() == [1, 2]  # record numbers
    assert df["tags"].tolist() == [["sql", "easy"], []]  # passed through untouched
    assert list(df.columns) == [*DATA_COLUMNS, "tags"]
    assert df.attrs["qaq_source"]["format"] == "json"
    assert df.attrs["qaq_source"]["mapping"]["schema"] == "instruction-response"


def test_query_answer_csv_with_multiline_cells_and_clashing_field() -> None:
    df = load_dataset(FIXTURES / "query_answer.csv")
    assert df["id"].tolist() == ["q-001", "q-002", "q-003"]
    assert df["answer"].tolist() == ["fn sum(xs: &[i32]) -> i32 {\n    xs.iter().sum()\n}", "max(xs)",
                                     "echo hi"]
    assert df["query"].tolist()[1] == "Größte Zahl finden?"
    assert df["line"].tolist() == [2, 5, 6]  # the first row spans lines 2-4
    assert df["skip"].tolist() == ["", "", SKIP_EMPTY_QUERY]
    # The file's own "line" field clashes with a qaq column: it is kept as src_line.
    assert df["src_line"].tolist() == ["12", "", "30"]
    assert list(df.columns) == [*DATA_COLUMNS, "src_line", "lang"]


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".json.gz"])
def test_gzipped_jsonl_equals_plain(tmp_path: Path, suffix: str) -> None:
    plain = FIXTURES / "problem_solution.jsonl"
    packed = write(tmp_path, "problem_solution" + suffix, gzip.compress(plain.read_bytes()))
    df = load_dataset(packed)
    pd.testing.assert_frame_equal(df, load_dataset(plain))
    assert df["difficulty"].tolist() == [2, 3]
    assert df["query"].tolist()[1] == "Check whether a number is prime — in Go."
    assert df.attrs["qaq_source"]["format"] == "jsonl"
    assert df.attrs["qaq_source"]["mapping"]["schema"] == "problem-solution"
    assert df.attrs["qaq_source"]["sha256"] == hashlib.sha256(packed.read_bytes()).hexdigest()


def test_json_suffix_holding_jsonl() -> None:
    df = load_dataset(FIXTURES / "prompt_completion.json")
    assert df.attrs["qaq_source"]["format"] == "jsonl"
    assert df["query"].tolist() == ["# print the numbers 1 to 3\n", "// greet in C"]
    assert df["answer"].tolist() == ["for i in range(1, 4):\n    print(i)", 'printf("¡hola!\\n");']


def test_question_answer_keeps_clashing_context_field() -> None:
    df = load_dataset(FIXTURES / "question_answer.jsonl")
    assert df["query"].tolist() == ["What does `git stash` do?", "Qu'est-ce qu'une closure ?"]
    assert df["context"].tolist() == ["", ""]
    assert df["src_context"].tolist()[0] == "git docs"
    assert pd.isna(df["src_context"].tolist()[1])  # absent in the second record


def test_openai_chat() -> None:
    df = load_dataset(FIXTURES / "openai_chat.jsonl")
    assert df["query"].tolist() == ["Now in Zig, s'il te plaît ✨", "Sort a list in Python."]
    assert df["answer"].tolist() == ['const std = @import("std");', "xs.sort()"]
    first_turns = [
        {"role": "system", "content": "You are a careful coding assistant."},
        {"role": "user", "content": "Write hello world in C."},
        {"role": "assistant", "content": '#include <stdio.h>\nint main(void) { puts("hello"); }'},
    ]
    assert df["context"].tolist() == [
        json.dumps(first_turns, ensure_ascii=False, separators=(",", ":")), ""]
    assert list(df.columns) == [*DATA_COLUMNS, "model"]  # the messages are not duplicated
    assert df.attrs["qaq_source"]["mapping"]["messages"] == "messages"


def test_sharegpt_json_array() -> None:
    df = load_dataset(FIXTURES / "sharegpt.json")
    assert df["query"].tolist() == ["Reverse a list in Haskell.", "Ruby の map の例"]
    assert df["answer"].tolist() == ["reverse xs", "[1, 2].map { |x| x * 2 }"]
    assert df["context"].tolist() == ['[{"role":"system","content":"Answer with code only."}]', ""]
    assert df.attrs["qaq_source"]["mapping"]["schema"] == "sharegpt"


def test_authors_problem_generations_takes_the_first_generation() -> None:
    df = load_dataset(FIXTURES / "authors.jsonl")
    assert df["answer"].tolist() == ["def add(a, b):\n    return a + b", "while True:\n    pass", ""]
    assert df["skip"].tolist() == ["", "", SKIP_EMPTY_ANSWER]  # an empty list: no answer
    assert df[f"{DS}_RMI"].tolist()[:2] == [0.75, -0.25]  # score columns pass through
    assert "generations" not in df.columns


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"instruction": ["a", "b"], "output": ["x", "y"], "id": [5, 6],
                             "tags": [["t"], []]}), path)
    df = load_dataset(path)
    pd.testing.assert_frame_equal(df[list(DATA_COLUMNS)], data_frame(
        id=["5", "6"], query=["a", "b"], answer=["x", "y"], context=["", ""], row=[0, 1],
        line=[1, 2], skip=["", ""]))
    assert df["tags"].tolist() == [["t"], []]
    assert list(read_records(path)) == [(1, 0), (2, 1)]


def test_fmt_overrides_the_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "data.txt", "instruction,output\nq,a\n")
    assert load_dataset(path, fmt="csv")["answer"].tolist() == ["a"]


# --------------------------------------------------------------------------- mapping

@pytest.mark.parametrize(("columns", "schema", "query", "answer"), [
    (["instruction", "input", "output", "response"], "alpaca", "instruction", "output"),
    (["response", "instruction"], "instruction-response", "instruction", "response"),
    (["answer", "query", "question"], "query-answer", "query", "answer"),
    (["problem", "generations", "solution"], "problem-solution", "problem", "solution"),
    (["prompt", "completion", "messages"], "prompt-completion", "prompt", "completion"),
    (["problem", "generations"], "qaq-authors", "problem", "generations"),
    (["question", "answer"], "question-answer", "question", "answer"),
])
def test_detect_mapping_priority(columns: list[str], schema: str, query: str, answer: str) -> None:
    mapping = detect_mapping(columns)
    assert (mapping.schema, mapping.query, mapping.answer) == (schema, query, answer)
    assert mapping.answer_first == (answer == "generations")


def test_detect_mapping_input_id_and_chats() -> None:
    assert detect_mapping(["id", "instruction", "input", "output"]) == FieldMapping(
        "alpaca", query="instruction", answer="output", input="input", id="id")
    assert detect_mapping(["instruction", "output"]).input is None
    assert detect_mapping(["messages", "conversations"]) == FieldMapping("openai-chat", messages="messages")
    assert detect_mapping(["conversations", "id"]) == FieldMapping(
        "sharegpt", messages="conversations", id="id")


def test_detect_mapping_failure_lists_fields_and_flags() -> None:
    with pytest.raises(DataError) as err:
        detect_mapping(["title", "body"])
    assert "'title', 'body'" in str(err.value)
    assert "--query" in str(err.value) and "--messages" in str(err.value)


def test_undetectable_file_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "odd.jsonl", jsonl({"title": "t", "body": "b"}))
    with pytest.raises(DataError, match=r"odd\.jsonl: .*'title', 'body'"):
        load_dataset(path)


def test_explicit_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", jsonl(
        {"id": "a", "uid": "u1", "q": "Q1", "extra": "E1", "a": "A1"},
        {"id": "a", "uid": "u2", "q": "Q2", "extra": "", "a": "A2"}))
    df = load_dataset(path, query="q", answer="a", input_field="extra", id_field="uid")
    assert df["query"].tolist() == ["Q1\n\nE1", "Q2"]
    assert df["id"].tolist() == ["u1", "u2"]
    assert df["src_id"].tolist() == ["a", "a"]  # the unused "id" field passes through
    assert df.attrs["qaq_source"]["mapping"] == {
        "schema": "custom", "query": "q", "answer": "a", "input": "extra", "messages": None,
        "id": "uid", "answer_first": False}


def test_explicit_answer_overrides_detected_one() -> None:
    df = load_dataset(FIXTURES / "alpaca.jsonl", answer="source")
    assert df["answer"].tolist() == ["synthetic", "evol", "zh", "synthetic"]
    assert df["query"].tolist()[0] == "Write a Python function that reverses a string."


def test_empty_id_field_hashes_even_with_an_id_column() -> None:
    df = load_dataset(FIXTURES / "instruction_response.json", id_field="")
    assert df["id"].tolist() == [sha16("Write a SQL query counting rows in `users`.",
                                       "SELECT COUNT(*) FROM users;"),
                                 sha16("Écris une fonction JavaScript qui double un nombre.",
                                       "const double = (n) => n * 2;")]
    assert df["src_id"].tolist() == [101, 7]


def test_explicit_messages_field(tmp_path: Path) -> None:
    path = write(tmp_path, "c.jsonl", jsonl({"dialog": [{"role": "user", "content": "hi"},
                                                        {"role": "tool", "content": None},
                                                        {"role": "assistant", "content": "yo"}]}))
    df = load_dataset(path, messages="dialog")
    assert (df["query"][0], df["answer"][0], df["context"][0]) == ("hi", "yo", "")


@pytest.mark.parametrize(("flags", "field"), [
    ({"query": "instruction", "answer": "nope"}, "nope"),
    ({"input_field": "nope"}, "nope"),
    ({"id_field": "nope"}, "nope"),
    ({"messages": "nope"}, "nope"),
])
def test_explicit_unknown_field(flags: dict, field: str) -> None:
    with pytest.raises(DataError) as err:
        load_dataset(FIXTURES / "alpaca.jsonl", **flags)
    assert err.value.field == field and err.value.path.endswith("alpaca.jsonl")
    assert f"alpaca.jsonl: field '{field}': no such field" in str(err.value)


def test_messages_and_query_together_are_refused() -> None:
    with pytest.raises(DataError, match="either messages= or query="):
        load_dataset(FIXTURES / "openai_chat.jsonl", messages="messages", query="q")


# --------------------------------------------------------------------------- ids

def test_hash_ids_are_stable_and_duplicates_get_suffixes(tmp_path: Path) -> None:
    pair, other = {"query": "Q", "answer": "A"}, {"query": "Q2", "answer": "A"}
    path = write(tmp_path, "d.jsonl", jsonl(pair, other, pair, pair))
    ids = load_dataset(path)["id"].tolist()
    h = sha16("Q", "A")
    assert ids == [h, sha16("Q2", "A"), f"{h}-2", f"{h}-3"]
    assert load_dataset(path)["id"].tolist() == ids  # deterministic
    # A row's id depends on its own Q and A only, not on its position.
    moved = write(tmp_path, "moved.jsonl", jsonl({"query": "new", "answer": "row"}, other, pair))
    assert load_dataset(moved)["id"].tolist()[1:] == [sha16("Q2", "A"), h]


def test_pair_hashes_equal_hash_id_on_any_text() -> None:
    texts = ["", "Q", "naïve ∑ 😀", "line\r\nbreak", "lone \ud800 surrogate", "\x1f", "a" * 5000]
    queries = [q for q in texts for _ in texts]
    answers = [a for _ in texts for a in texts]
    assert pair_hashes(queries, answers) == [hash_id(q, a) for q, a in zip(queries, answers)]
    assert pair_hashes([], []) == []


def test_hash_separates_query_from_answer(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", jsonl({"query": "ab", "answer": "c"}, {"query": "a", "answer": "bc"}))
    ids = load_dataset(path)["id"].tolist()
    assert ids[0] != ids[1] and "-" not in ids[1]


def test_duplicate_file_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.jsonl", jsonl({"id": 1, "query": "a", "answer": "b"},
                                              {"id": 2, "query": "c", "answer": "d"},
                                              {"id": 1, "query": "e", "answer": "f"}))
    with pytest.raises(DataError) as err:
        load_dataset(path)
    assert (err.value.line, err.value.field) == (3, "id")
    assert str(err.value).startswith(f"{path}:3: field 'id': duplicate id '1' (first on line 1)")


# --------------------------------------------------------------------------- errors

def load_error(tmp_path: Path, name: str, content: str | bytes, **flags: str) -> DataError:
    path = write(tmp_path, name, content)
    with pytest.raises(DataError) as err:
        load_dataset(path, **flags)
    assert isinstance(err.value, ValueError)
    assert err.value.path == str(path)
    return err.value


def assert_located(err: DataError, name: str, line: int | None, field: str | None) -> None:
    assert (Path(err.path).name, err.line, err.field) == (name, line, field)
    where = f"{name}:{line}:" if line is not None else f"{name}:"
    assert where in str(err)
    if field is not None:
        assert f"field '{field}'" in str(err)


GOOD = {"instruction": "q", "output": "a"}


@pytest.mark.parametrize(("line3", "reason"), [
    ('{"instruction": "q", "output": "a"', "invalid JSON"),
    ('["instruction", "output"]', "expected a JSON object, got list"),
])
def test_bad_jsonl_line(tmp_path: Path, line3: str, reason: str) -> None:
    err = load_error(tmp_path, "bad.jsonl", jsonl(GOOD, GOOD) + line3 + "\n")
    assert_located(err, "bad.jsonl", 3, None)
    assert reason in str(err)


def test_bad_json_array_names_the_line(tmp_path: Path) -> None:
    content = '[\n  {"instruction": "q", "output": "a"},\n  {"instruction": }\n]'
    err = load_error(tmp_path, "bad.json", content)
    assert_located(err, "bad.json", 3, None)
    assert "invalid JSON" in str(err)


def test_missing_mapped_field(tmp_path: Path) -> None:
    err = load_error(tmp_path, "m.jsonl", jsonl(GOOD, {"instruction": "q", "outptu": "a"}))
    assert_located(err, "m.jsonl", 2, "output")
    assert "missing" in str(err) and "'outptu'" in str(err)


@pytest.mark.parametrize(("record", "field", "reason"), [
    ({"instruction": "q", "output": ["a"]}, "output", "expected a string, got list"),
    ({"instruction": 3, "output": "a"}, "instruction", "expected a string, got int"),
    ({"instruction": "q", "output": None}, "output", "expected a string, got null"),
    ({"instruction": "q", "input": {"x": 1}, "output": "a"}, "input", "expected a string, got dict"),
    ({"instruction": "q", "output": "a", "id": 1.5}, "id", "expected a string or an integer id, got float"),
    ({"instruction": "q", "output": "a", "id": None}, "id", "missing id"),
])
def test_wrong_type(tmp_path: Path, record: dict, field: str, reason: str) -> None:
    first = {**GOOD, "id": "x"} if "id" in record else GOOD
    err = load_error(tmp_path, "t.jsonl", jsonl(first, record))
    assert_located(err, "t.jsonl", 2, field)
    assert str(err).endswith(reason)


@pytest.mark.parametrize(("messages", "reason"), [
    ("hello", "expected a list of messages, got str"),
    (["hello"], "message 0: expected {role, content} or {from, value}, got str"),
    ([{"speaker": "user", "text": "hi"}], "message 0: expected {role, content} or {from, value}, got keys"),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": 5}],
     "message 1: role and content must be strings, got str and int"),
    ([{"role": "user", "content": "q"}], "no assistant message"),
    ([{"from": "system", "value": "s"}, {"from": "gpt", "value": "a"}], "no user message before"),
])
def test_malformed_messages(tmp_path: Path, messages: object, reason: str) -> None:
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    err = load_error(tmp_path, "chat.jsonl", jsonl(good, good, {"messages": messages}))
    assert_located(err, "chat.jsonl", 3, "messages")
    assert reason in str(err)


def test_non_utf8_jsonl_names_the_line(tmp_path: Path) -> None:
    content = jsonl(GOOD, GOOD).encode() + b'{"instruction": "caf\xe9", "output": "a"}\n'
    err = load_error(tmp_path, "latin.jsonl", content)
    assert_located(err, "latin.jsonl", 3, None)
    assert "not valid UTF-8" in str(err)


def test_non_utf8_csv_names_the_line(tmp_path: Path) -> None:
    err = load_error(tmp_path, "latin.csv", b"instruction,output\nq,a\nq,\"multi\nline\"\ncaf\xe9,a\n")
    assert_located(err, "latin.csv", 5, None)


def test_csv_row_with_wrong_cell_count(tmp_path: Path) -> None:
    err = load_error(tmp_path, "short.csv", "instruction,output\nq,a\nonly-one\n")
    assert_located(err, "short.csv", 3, None)
    assert "expected 2 fields" in str(err)


@pytest.mark.parametrize(("name", "content"), [
    ("empty.jsonl", ""), ("blank.jsonl", "\n  \n"), ("empty.json", "[]"),
    ("header.csv", "instruction,output\n"), ("empty.csv", ""), ("empty.jsonl.gz", gzip.compress(b"")),
])
def test_empty_file(tmp_path: Path, name: str, content: str | bytes) -> None:
    err = load_error(tmp_path, name, content)
    assert_located(err, name, None, None)
    assert "empty file" in str(err)


def test_empty_parquet(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    empty = pa.array([], pa.string())
    pq.write_table(pa.table({"instruction": empty, "output": empty}), path)
    with pytest.raises(DataError, match=r"empty\.parquet: empty file"):
        load_dataset(path)


@pytest.mark.parametrize(("name", "flags", "reason"), [
    ("data.txt", {}, "unknown format '.txt'"),
    ("data", {}, "unknown format '(no suffix)'"),
    ("data.jsonl", {"fmt": "xml"}, "unknown format 'xml'"),
])
def test_unknown_format(tmp_path: Path, name: str, flags: dict, reason: str) -> None:
    err = load_error(tmp_path, name, jsonl(GOOD), **flags)
    assert_located(err, name, None, None)
    assert reason in str(err)


def test_missing_file(tmp_path: Path) -> None:
    for call in (load_dataset, load_scores, lambda p: list(read_records(p))):
        with pytest.raises(DataError) as err:
            call(tmp_path / "nowhere.jsonl")
        assert str(err.value) == f"{tmp_path / 'nowhere.jsonl'}: no such file"


@pytest.mark.parametrize(("name", "content"), [
    ("broken.jsonl.gz", b"\x1f\x8b\x08\x00garbage"),
    ("broken.parquet", b"PAR1 not really"),
])
def test_corrupt_file(tmp_path: Path, name: str, content: bytes) -> None:
    err = load_error(tmp_path, name, content)
    assert_located(err, name, None, None)


def test_empty_texts_are_kept_and_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "e.jsonl", jsonl({"query": " ", "answer": "a"}, {"query": "q", "answer": "b"},
                                            {"query": "q", "answer": ""}, {"query": "", "answer": ""}))
    df = load_dataset(path)
    assert len(df) == 4 and df.attrs["qaq_source"]["n_skipped"] == 3
    expected = pd.DataFrame({"id": df["id"][[0, 2, 3]], "line": [1, 3, 4],
                             "skip": [SKIP_EMPTY_QUERY, SKIP_EMPTY_ANSWER, SKIP_EMPTY_QUERY]},
                            index=[0, 2, 3]).astype({"line": "int64", "skip": "string"})
    pd.testing.assert_frame_equal(skipped_rows(df), expected)


# --------------------------------------------------------------------------- raw records

def test_read_records_jsonl_rewrites_byte_exact(tmp_path: Path) -> None:
    lines = ['{"query": "a\u2028b", "answer": "ü"}\r', '{"query": "x",  "answer": "y" }']
    content = "\ufeff" + lines[0] + "\n\n" + lines[1] + "\n"
    path = write(tmp_path, "raw.jsonl", content)
    records = list(read_records(path))
    assert records == [(1, lines[0]), (3, lines[1])]
    assert "".join(text + "\n" for _, text in records) == content.removeprefix("\ufeff").replace("\n\n", "\n")
    assert load_dataset(path)["line"].tolist() == [1, 3]


def test_read_records_json_and_csv() -> None:
    records = list(read_records(FIXTURES / "sharegpt.json"))
    assert [n for n, _ in records] == [1, 2]
    assert records[1][1]["conversations"][0] == {"from": "human", "value": "Ruby の map の例"}
    rows = list(read_records(FIXTURES / "query_answer.csv"))
    rust = "fn sum(xs: &[i32]) -> i32 {\n    xs.iter().sum()\n}"
    assert rows[0] == (2, ["q-001", "Sum a list in Rust", rust, "12", "rust"])
    assert [n for n, _ in rows] == [2, 5, 6]


def test_read_records_of_a_json_file_holding_jsonl_gives_lines() -> None:
    path = FIXTURES / "prompt_completion.json"
    assert [text for _, text in read_records(path)] == path.read_text(encoding="utf-8").splitlines()


# --------------------------------------------------------------------------- score files

def score_table() -> pd.DataFrame:
    df = data_frame(id=["007", "b2"], query=["NA", "ünï \"code\""], answer=["null", ""],
                    context=["", '[{"role":"system","content":"s"}]'], row=[0, 1], line=[1, 3],
                    skip=["", SKIP_EMPTY_ANSWER])
    df["lang"] = ["py", "rs"]
    for model in (DS, "w"):
        df[f"{model}_nll_q"] = [1.0 / 3.0, float("nan")]
        df[f"{model}_nll_q_given_a"] = [0.1, float("nan")]
        df[f"{model}_rmi"] = [1.0 / 3.0 - 0.1, float("nan")]
        df[f"{model}_n_tokens_q"] = pd.array([12, pd.NA], dtype="Int64")
    return df


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_scores_round_trip(tmp_path: Path, suffix: str) -> None:
    df = score_table()
    path = tmp_path / f"scores{suffix}"
    meta = {"models": {DS: "deepseek-ai/deepseek-coder-6.7b-base"}, "note": "é", "k": 10}
    write_scores(df, path, meta)
    loaded, loaded_meta = load_scores(path)
    pd.testing.assert_frame_equal(loaded, df)
    assert loaded_meta == meta
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [path.name] + ([] if suffix == ".parquet" else [path.name + ".meta.json"]))  # no temp files


def test_write_scores_replaces_and_fails_atomically(tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    write_scores(score_table(), path, {"run": 1})
    write_scores(score_table().head(1), path, {"run": 2})
    assert load_scores(path)[1] == {"run": 2} and len(load_scores(path)[0]) == 1
    bad = score_table().assign(mixed=[1, "x"])  # Arrow cannot store a column mixing int and str
    with pytest.raises(DataError, match=r"scores\.parquet: cannot store the table as parquet"):
        write_scores(bad, path, {"run": 3})
    assert load_scores(path)[1] == {"run": 2}  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["scores.parquet"]


def test_scores_without_metadata(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.csv", "id,w_nll_q,w_nll_q_given_a,w_rmi\n1,2.0,1.5,0.5\n")
    df, meta = load_scores(path)
    assert meta == {}
    assert df["id"].tolist() == ["1"] and df["w_rmi"].tolist() == [0.5]


def test_write_scores_refuses_unknown_suffix_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"scores\.xlsx: cannot write scores as '\.xlsx'"):
        write_scores(score_table(), tmp_path / "scores.xlsx", {})
    with pytest.raises(DataError, match="no such folder"):
        write_scores(score_table(), tmp_path / "missing" / "scores.csv", {})


def test_load_scores_bad_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    write_scores(score_table(), path, {})
    (tmp_path / "s.jsonl.meta.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(DataError, match=r"s\.jsonl\.meta\.json: invalid run metadata"):
        load_scores(path)


def test_is_authors_format() -> None:
    assert is_authors_format(["problem", f"{DS}_log_PPL_Q", f"{DS}_log_PPL_Q_A", f"{DS}_RMI"])
    assert not is_authors_format(["problem", f"{DS}_log_PPL_Q", f"{DS}_RMI"])  # Q|A missing
    assert not is_authors_format(["_log_PPL_Q", "_log_PPL_Q_A", "_RMI"])  # no model name
    assert not is_authors_format(["w_nll_q", "w_nll_q_given_a", "w_rmi"])


def test_from_authors_format() -> None:
    df = pd.DataFrame({f"{DS}_log_PPL_Q": [2.5, None], f"{DS}_log_PPL_Q_A": [1.75, 3.0],
                       f"{DS}_RMI": [0.75, None], "x": ["a", "b"]})
    before = df.copy()
    out = from_authors_format(df)
    pd.testing.assert_frame_equal(df, before)  # the input is not touched
    expected = before.assign(**{f"{DS}_nll_q_given_a": [1.75, 3.0], f"{DS}_nll_q": [2.5, float("nan")],
                                f"{DS}_rmi": [0.75, float("nan")]})
    pd.testing.assert_frame_equal(out, expected, check_like=True)
    assert scored_models(out.columns) == [DS]


def test_from_authors_format_errors() -> None:
    with pytest.raises(DataError, match="no QAQ-authors score columns"):
        from_authors_format(pd.DataFrame({"a": [1]}))
    bad = pd.DataFrame({"m_log_PPL_Q": ["high"], "m_log_PPL_Q_A": [1.0], "m_RMI": [1.0]})
    with pytest.raises(DataError) as err:
        from_authors_format(bad)
    assert err.value.field == "m_log_PPL_Q"


def test_load_scores_authors_file() -> None:
    df, meta = load_scores(FIXTURES / "authors.jsonl")
    assert meta == {"format": "qaq-authors"}
    assert scored_models(df.columns) == [DS, QWEN]
    assert df["query"].tolist()[1] == "Écrire une boucle infinie."
    assert df["answer"].tolist()[0] == "def add(a, b):\n    return a + b"
    assert df[f"{QWEN}_nll_q"].tolist() == [3.0, 4.0, 1.5]
    assert df[f"{QWEN}_nll_q_given_a"].tolist() == [2.875, 3.0, 1.5]
    assert df[f"{DS}_rmi"].tolist()[:2] == [0.75, -0.25] and pd.isna(df[f"{DS}_rmi"][2])
    assert df[f"{DS}_RMI"].tolist()[:2] == [0.75, -0.25]  # originals kept


def test_load_scores_authors_prefers_generations_over_solution(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", jsonl({"problem": "p", "solution": "ref", "generations": ["gen"],
                                             "m_log_PPL_Q": 1, "m_log_PPL_Q_A": 0.5, "m_RMI": 0.5}))
    df, _ = load_scores(path)
    assert df["answer"].tolist() == ["gen"] and df["solution"].tolist() == ["ref"]


def test_converted_authors_scores_round_trip_as_qaq_scores(tmp_path: Path) -> None:
    df, _ = load_scores(FIXTURES / "authors.jsonl")
    path = tmp_path / "converted.jsonl"
    write_scores(df, path, {"from": "authors"})
    again, meta = load_scores(path)
    assert meta == {"from": "authors"}
    pd.testing.assert_frame_equal(again[list(DATA_COLUMNS)], df[list(DATA_COLUMNS)])
    assert again[f"{QWEN}_rmi"].tolist() == df[f"{QWEN}_rmi"].tolist()


def test_import_stays_light() -> None:
    code = "import sys, qaq.io.datasets; print(sorted({'torch', 'streamlit'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_load_scores_bad_score_value(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "id,w_nll_q,w_nll_q_given_a,w_rmi\n1,2.0,1.5,high\n")
    with pytest.raises(DataError) as err:
        load_scores(path)
    assert (err.value.field, Path(err.value.path).name) == ("w_rmi", "bad.csv")
    assert "bad.csv: field 'w_rmi': expected float64 values" in str(err.value)

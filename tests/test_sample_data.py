"""The bundled sample data: reproducible from its generator, well-formed, and correct where clean.

``sample_data/generate.py`` must be deterministic (same seed -> same bytes, whatever the hash
seed), the committed ``*.jsonl`` files must equal a fresh generation with the default seed, the
defect labels must have the documented shares, and the Python shown in clean answers must run:
every ``>>>`` example is re-executed with doctest.
"""

from __future__ import annotations

import collections
import doctest
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "sample_data"
GENERATOR = SAMPLE_DIR / "generate.py"
DATA_NAME = "code_instructions.jsonl"
CHAT_NAME = "chat_sample.jsonl"
DEFECTS = ("mismatch", "fabricated", "non_code", "echo", "truncated", "boilerplate")
FIELDS = ["id", "task", "defect", "instruction", "response"]
FENCE = re.compile(r"```(\w*)\n(.*?)\n```", re.S)


def generate(out_dir: Path, seed: int | None = None, hash_seed: str = "0") -> dict[str, bytes]:
    """Run the generator in a fresh interpreter and return the bytes of both files."""
    cmd = [sys.executable, str(GENERATOR), "--out-dir", str(out_dir)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {name: (out_dir / name).read_bytes() for name in (DATA_NAME, CHAT_NAME)}


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def fresh_default(tmp_path_factory) -> dict[str, bytes]:
    return generate(tmp_path_factory.mktemp("seed_default"), hash_seed="1")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return read_jsonl(SAMPLE_DIR / DATA_NAME)


@pytest.fixture(scope="module")
def chats() -> list[dict]:
    return read_jsonl(SAMPLE_DIR / CHAT_NAME)


# --- reproducibility ---------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(fresh_default, tmp_path):
    # explicit --seed 0 and another hash seed: no set/dict-order or clock dependence
    again = generate(tmp_path, seed=0, hash_seed="12345")
    for name in (DATA_NAME, CHAT_NAME):
        assert again[name] == fresh_default[name], f"{name} differs between two runs with seed 0"


def test_different_seed_gives_different_bytes(fresh_default, tmp_path):
    other = generate(tmp_path, seed=1)
    for name in (DATA_NAME, CHAT_NAME):
        assert other[name] != fresh_default[name], f"{name} does not depend on the seed"


def test_committed_files_match_a_fresh_generation(fresh_default):
    for name in (DATA_NAME, CHAT_NAME):
        committed = (SAMPLE_DIR / name).read_bytes()
        assert committed == fresh_default[name], (
            f"sample_data/{name} is stale: run `python sample_data/generate.py` and commit the result")


def test_help_runs():
    proc = subprocess.run([sys.executable, str(GENERATOR), "--help"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0
    assert "--seed" in proc.stdout and "--out-dir" in proc.stdout


# --- schema of code_instructions.jsonl ---------------------------------------------------------


def test_fields_and_ids(rows):
    assert 600 <= len(rows) <= 800
    for row in rows:
        assert list(row) == FIELDS, row.get("id")
        assert all(isinstance(row[k], str) for k in FIELDS), row["id"]
        assert re.fullmatch(r"s\d{4}", row["id"]), row["id"]
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids), "duplicate ids"
    assert len({row["instruction"] for row in rows}) == len(rows), "duplicate instructions"


def test_defect_shares(rows):
    counts = collections.Counter(row["defect"] for row in rows)
    assert set(counts) == {"none", *DEFECTS}, counts
    share = 1 - counts["none"] / len(rows)
    assert 0.20 <= share <= 0.30, f"defect share {share:.3f}"
    for defect in DEFECTS:
        assert counts[defect] >= 15, f"only {counts[defect]} {defect} rows"


def test_non_empty_text(rows):
    for row in rows:
        assert row["instruction"].strip(), row["id"]
        assert row["response"].strip(), row["id"]
        assert row["task"].strip(), row["id"]


def test_task_variety_and_lengths(rows):
    clean = [row for row in rows if row["defect"] == "none"]
    tasks = collections.Counter(row["task"] for row in clean)
    assert len(tasks) >= 15, tasks
    for family in ("strings", "lists", "dicts", "math", "parsing", "oop", "sorting", "search", "graphs",
                   "dp", "recursion", "sql", "shell", "regex", "javascript", "go", "rust", "c"):
        assert tasks[family] >= 5, f"too few clean {family} rows: {tasks[family]}"
    n_lines = [row["response"].count("\n") + 1 for row in clean]
    assert min(n_lines) == 1, "no one-line answers"
    assert sum(n >= 60 for n in n_lines) >= 5, "too few long (60+ line) answers"


def test_code_fences(rows):
    for row in rows:
        fences = row["response"].count("```")
        if row["defect"] == "truncated":
            assert fences % 2 == 1, f"{row['id']}: a truncated answer should stop inside a code block"
        else:
            assert fences % 2 == 0, f"{row['id']}: unbalanced code fence"


# --- correctness of the Python shown in clean answers ------------------------------------------


def python_blocks(text: str) -> tuple[list[str], list[str]]:
    """(code blocks, doctest blocks) of the ```python fences in an answer."""
    code, sessions = [], []
    for lang, body in FENCE.findall(text):
        if lang == "python":
            (sessions if body.lstrip().startswith(">>>") else code).append(body)
    return code, sessions


def run_doctests(code: list[str], sessions: list[str], name: str) -> str:
    """Execute the code blocks, then the sessions; returns the doctest report ('' if all pass)."""
    module = types.ModuleType("_sample_check")  # a real module so dataclasses can resolve it
    sys.modules[module.__name__] = module
    try:
        exec(compile("\n\n".join(code), name, "exec"), module.__dict__)  # noqa: S102
        report = []
        for i, session in enumerate(sessions):
            test = doctest.DocTestParser().get_doctest(session, module.__dict__, f"{name}[{i}]", name, 0)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
            runner.run(test, out=report.append)
        return "".join(report)
    finally:
        del sys.modules[module.__name__]


def answers_with_python(rows, chats):
    for row in rows:
        if row["defect"] == "none":
            yield row["id"], row["response"]
    for chat in chats:
        for i, message in enumerate(chat["messages"]):
            if message["role"] == "assistant":
                yield f"{chat['id']}/{i}", message["content"]


def test_clean_python_compiles(rows, chats):
    checked = 0
    for name, text in answers_with_python(rows, chats):
        for block in python_blocks(text)[0]:
            compile(block, name, "exec")
            checked += 1
    assert checked >= 300


def test_clean_python_examples_are_real_output(rows, chats):
    checked = 0
    failures = []
    for name, text in answers_with_python(rows, chats):
        code, sessions = python_blocks(text)
        if not sessions:
            continue
        report = run_doctests(code, sessions, name)
        if report:
            failures.append(report)
        checked += 1
    assert not failures, "\n".join(failures[:3])
    assert checked >= 200


def test_doctest_check_can_fail():
    code = ["def add(a, b):\n    return a + b"]
    assert run_doctests(code, [">>> add(2, 2)\n4"], "ok") == ""
    assert "Expected" in run_doctests(code, [">>> add(2, 2)\n5"], "bad")


# --- chat_sample.jsonl -------------------------------------------------------------------------


def test_chat_format(chats):
    assert 20 <= len(chats) <= 50
    ids = [chat["id"] for chat in chats]
    assert len(set(ids)) == len(ids)
    for chat in chats:
        assert list(chat) == ["id", "messages"]
        messages = chat["messages"]
        roles = [m["role"] for m in messages]
        assert set(roles) <= {"system", "user", "assistant"}, chat["id"]
        assert "system" not in roles[1:], f"{chat['id']}: system message must come first"
        assert roles[-1] == "assistant", f"{chat['id']}: last turn must be the assistant's"
        turns = [r for r in roles if r != "system"]
        assert turns == ["user", "assistant"] * (len(turns) // 2), f"{chat['id']}: turns must alternate"
        for m in messages:
            assert list(m) == ["role", "content"] and m["content"].strip(), chat["id"]


def test_chat_has_multi_turn_and_system(chats):
    n_users = [sum(m["role"] == "user" for m in chat["messages"]) for chat in chats]
    assert sum(n >= 2 for n in n_users) >= 10, "too few multi-turn conversations"
    assert sum(n == 1 for n in n_users) >= 5, "too few single-turn conversations"
    assert any(n >= 3 for n in n_users), "no conversation with three user turns"
    with_system = sum(chat["messages"][0]["role"] == "system" for chat in chats)
    assert 5 <= with_system < len(chats)

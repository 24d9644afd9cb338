"""Tests for qaq.io.files: the one atomic writer, the one format table, the one JSON default,
and that each kind of caller goes through them."""

from __future__ import annotations

import datetime as dt
import decimal
import errno
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qaq.io import files
from qaq.io.datasets import DataError, load_dataset
from qaq.io.files import (
    FILE_FORMATS,
    FORMAT_NAMES,
    READ_SUFFIXES,
    atomic_path,
    atomic_paths,
    format_named,
    format_of,
    json_default,
    suffix_of,
    writable_format,
    write_atomic,
)


def _full_disk() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def old(tmp_path: Path) -> Path:
    path = tmp_path / "out.jsonl"
    path.write_text("the old file\n", encoding="utf-8")
    return path


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------ the writer

def test_a_write_failing_half_way_leaves_the_old_file_and_no_temp_file(old: Path):
    with pytest.raises(DataError) as err, atomic_path(old) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("half of the new ")
        raise _full_disk()
    assert str(err.value) == f"{old}: cannot write the file: No space left on device"
    assert err.value.path == str(old)
    assert isinstance(err.value.__cause__, OSError) and err.value.__cause__.errno == errno.ENOSPC
    assert old.read_text(encoding="utf-8") == "the old file\n"
    assert _listing(old.parent) == ["out.jsonl"]


def test_any_other_failure_propagates_as_it_is_and_writes_nothing(old: Path):
    with pytest.raises(RuntimeError, match="bug"), atomic_path(old) as tmp:
        tmp.write_text("new", encoding="utf-8")
        raise RuntimeError("bug")
    assert old.read_text(encoding="utf-8") == "the old file\n"
    assert _listing(old.parent) == ["out.jsonl"]


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_a_failing_flush_or_rename_leaves_the_old_file(old: Path, monkeypatch: pytest.MonkeyPatch, step: str):
    def boom(*args, **kwargs):
        raise _full_disk()

    monkeypatch.setattr(files.os, step, boom)
    with pytest.raises(DataError, match=f"^{re.escape(str(old))}: cannot write the file: No space left on device$"):
        write_atomic(old, "the new file\n")
    monkeypatch.undo()
    assert old.read_text(encoding="utf-8") == "the old file\n"
    assert _listing(old.parent) == ["out.jsonl"]


def test_a_missing_folder_is_an_error_naming_the_file(tmp_path: Path):
    target = tmp_path / "nope" / "out.csv"
    with pytest.raises(DataError, match="cannot write the file: No such file or directory") as err:
        write_atomic(target, b"a,b\n")
    assert err.value.path == str(target)


def test_an_error_about_another_file_keeps_its_own_message(old: Path, tmp_path: Path):
    missing = tmp_path / "input.jsonl"
    with pytest.raises(FileNotFoundError) as err, atomic_path(old) as tmp:
        tmp.write_text(missing.read_text())
    assert err.value.filename == str(missing)
    assert _listing(old.parent) == ["out.jsonl"]


def test_success_replaces_the_file_readable_by_others(old: Path):
    with atomic_path(old) as tmp:
        assert tmp.parent == old.parent and tmp.name.startswith(".out.jsonl.")
        assert tmp.suffix == ".jsonl"  # a writer that picks the format from the suffix picks the target's
        tmp.write_text("new\n", encoding="utf-8")
        assert old.read_text(encoding="utf-8") == "the old file\n"  # not before the block ends
    assert old.read_text(encoding="utf-8") == "new\n"
    assert os.stat(old).st_mode & 0o777 == 0o644
    assert _listing(old.parent) == ["out.jsonl"]


def test_write_atomic_writes_text_and_bytes_as_they_are(tmp_path: Path):
    write_atomic(tmp_path / "t.txt", "café\r\nline\n")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "t.txt").read_bytes() == "café\r\nline\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"


def test_an_inner_writer_on_the_temp_path_is_reported_for_the_target(old: Path):
    with pytest.raises(DataError) as err, atomic_path(old) as tmp, atomic_path(tmp) as inner:
        inner.write_text("x")
        raise _full_disk()
    assert err.value.path == str(old)
    assert _listing(old.parent) == ["out.jsonl"]


def test_several_files_are_all_or_nothing(tmp_path: Path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.json"
    a.write_text("old a")
    with pytest.raises(DataError) as err, atomic_paths([a, b]) as (ta, tb):
        ta.write_text("new a")
        with atomic_path(tb):  # b's own writer names its own error
            raise _full_disk()
    assert err.value.path == str(b)
    assert a.read_text() == "old a" and _listing(tmp_path) == ["a.jsonl"]
    with atomic_paths([a, b]) as (ta, tb):
        assert (ta.suffix, tb.suffix) == (".jsonl", ".json")
        ta.write_text("new a")
        tb.write_text("new b")
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert _listing(tmp_path) == ["a.jsonl", "b.json"]
    with pytest.raises(DataError) as err, atomic_paths([a, tmp_path / "nope" / "c.csv"]):
        pass
    assert err.value.path == str(tmp_path / "nope" / "c.csv") and _listing(tmp_path) == ["a.jsonl", "b.json"]


# ------------------------------------------------------------------ the format table

def test_every_suffix_round_trips_through_the_table():
    assert len(set(READ_SUFFIXES)) == len(READ_SUFFIXES) and len(set(FORMAT_NAMES)) == len(FORMAT_NAMES)
    for fmt in FILE_FORMATS:
        assert format_named(fmt.name) is fmt and fmt.suffix == fmt.suffixes[0]
        for suffix in fmt.suffixes:
            assert suffix == suffix.lower() and suffix.startswith(".")
            for name in (f"data{suffix}", f"my.data{suffix.upper()}", f"dir.jsonl/x{suffix}"):
                assert suffix_of(name) == suffix
                assert format_of(name) is fmt
                assert writable_format(name) is (fmt if fmt.output else None)
                assert writable_format(name, scores=True) is (fmt if fmt.scores else None)
            assert suffix_of(f"data{suffix}.gz") == f"{suffix}.gz"
            assert format_of(f"data{suffix}.gz") is (fmt if fmt.gzip else None)
            assert writable_format(f"data{suffix}.gz") is None  # qaq writes no gzip
    for name in ("data.txt", "data", "data.gz", "data.jsonl.zip", ".jsonl"):
        assert format_of(name) is None and writable_format(name) is None


def test_the_table_says_what_each_format_can_do():
    assert FORMAT_NAMES == ("jsonl", "json", "csv", "parquet")
    assert [f.name for f in FILE_FORMATS if f.output] == ["jsonl", "csv", "parquet"]
    assert [f.name for f in FILE_FORMATS if f.scores] == ["jsonl", "csv", "parquet"]
    assert [f.name for f in FILE_FORMATS if not f.gzip] == ["parquet"]
    with pytest.raises(KeyError):
        format_named("xml")


def test_the_loader_reads_by_the_table(tmp_path: Path):
    path = tmp_path / "d.parquet.gz"
    path.write_bytes(b"\x1f\x8b")
    with pytest.raises(DataError, match=r"unknown format '\.parquet\.gz': expected one of \.jsonl, .*\.pq, or pass"):
        load_dataset(path)


# ------------------------------------------------------------------ the JSON default

def test_json_default_encodes_what_tables_hold():
    value = {
        "i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True), "a": np.array([[1, 2]]),
        "ts": pd.Timestamp("2026-01-02 03:04:05"), "d": dt.date(2026, 1, 2), "t": dt.time(1, 2),
        "td": dt.timedelta(minutes=1), "dec": decimal.Decimal("1.10"), "raw": b"\x00\xff", "p": Path("a/b.jsonl"),
    }
    assert json.loads(json.dumps(value, default=json_default)) == {
        "i": 3, "f": 0.5, "b": True, "a": [[1, 2]], "ts": "2026-01-02T03:04:05", "d": "2026-01-02",
        "t": "01:02:00", "td": 60.0, "dec": "1.10", "raw": "AP8=", "p": str(Path("a/b.jsonl")),
    }
    with pytest.raises(TypeError, match="cannot write a object as JSON"):
        json.dumps(object(), default=json_default)


# ------------------------------------------------------------------ the callers

def test_a_failed_selection_export_replaces_none_of_the_files(tmp_path: Path):
    from qaq.io.export import export_selection
    from qaq.select.recipe_parsing import parse_recipe

    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": "d"}\n')
    sel, dropped, manifest = tmp_path / "sel.jsonl", tmp_path / "d.jsonl", tmp_path / "m.json"
    for p in (sel, dropped, manifest):
        p.write_text("old\n")
    df = pd.DataFrame({"id": ["a", "c"], "row": [0, 1], "selected": [True, False]})
    with pytest.raises(TypeError, match="cannot write a object as JSON"):  # the manifest, written last, fails
        export_selection(df, src, sel, recipe=parse_recipe({"method": "random", "budget": 1}),
                         discarded_path=dropped, manifest_path=manifest, extra={"bad": object()})
    assert [p.read_text() for p in (sel, dropped, manifest)] == ["old\n"] * 3
    assert _listing(tmp_path) == ["d.jsonl", "in.jsonl", "m.json", "sel.jsonl"]


def test_a_failed_score_write_names_the_file_and_keeps_the_old_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from qaq.io.scorefile import load_scores, write_scores

    path = tmp_path / "s.ndjson"  # every suffix of a score format is written in it
    frame = pd.DataFrame({"id": ["r0"], "m_nll_q": [2.0], "m_nll_q_given_a": [1.0], "m_rmi": [1.0]})
    write_scores(frame, path, {"models": {"m": {}}})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(before) == ["s.ndjson", "s.ndjson.meta.json"]

    def boom(*args, **kwargs):
        raise _full_disk()

    monkeypatch.setattr(files.os, "fsync", boom)
    with pytest.raises(DataError, match=f"^{re.escape(str(path))}: cannot write the file: No space left on device$"):
        write_scores(frame.assign(m_rmi=9.0), path, {"models": {"m": {"new": True}}})
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert load_scores(path)[1] == {"models": {"m": {}}}


def test_an_upload_is_saved_whole_under_its_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from qaq.app import paths, runs

    monkeypatch.setattr(paths, "UPLOAD_DIR", tmp_path / "uploads")
    saved = runs.save_upload("my data.jsonl", b'{"q": 1}\n')
    assert saved.parent.parent == tmp_path / "uploads" and saved.name == "my_data.jsonl"
    assert saved.read_bytes() == b'{"q": 1}\n' and _listing(saved.parent) == ["my_data.jsonl"]
    assert runs.save_upload("my data.jsonl", b'{"q": 1}\n') == saved


def test_a_directory_of_shards_is_filtered_by_the_table(tmp_path: Path):
    from qaq.io.inputs import input_files

    for name in ("b.csv", "a.jsonl.gz", "c.txt", "d.parquet.gz", ".hidden.jsonl", "e.PQ"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "empty").mkdir()  # not a file: not a shard
    assert [p.name for p in input_files(tmp_path)] == ["a.jsonl.gz", "b.csv", "e.PQ"]
    with pytest.raises(DataError, match=r"no data files \(\.jsonl, .*\(optionally \.gz\), \.parquet, \.pq\)"):
        input_files(tmp_path / "empty")

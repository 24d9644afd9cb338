"""The Data page's recent datasets: most recent first, capped, no duplicates, vanished files dropped."""

from __future__ import annotations

import json
from pathlib import Path

from qaq.app import recent


def _file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}\n")
    return str(path)


def test_most_recent_first_without_duplicates(tmp_path):
    store = tmp_path / "recent.json"
    a, b = _file(tmp_path / "a.jsonl"), _file(tmp_path / "b.jsonl")
    s = _file(tmp_path / "a.scores.parquet")
    recent.remember(a, None, path=store, now=1.0)
    recent.remember(b, None, {"query": "q", "answer": "r"}, path=store, now=2.0)
    listed = recent.remember(a, s, path=store, now=3.0)  # a again, now with scores: moves up, one entry
    assert listed == recent.recent_datasets(path=store)
    assert [(e.data, e.scores, e.mapping, e.opened) for e in listed] == [
        (a, s, {}, 3.0), (b, None, {"query": "q", "answer": "r"}, 2.0)]
    assert listed[1].label == "b.jsonl (custom fields)" and listed[0].opens(a, s) and not listed[0].opens(a, None)
    assert json.loads(store.read_text())["format"] == recent.RECENT_FORMAT


def test_the_list_is_capped(tmp_path):
    store = tmp_path / "recent.json"
    files = [_file(tmp_path / f"d{i}.jsonl") for i in range(recent.MAX_RECENT + 3)]
    for i, f in enumerate(files):
        recent.remember(f, None, path=store, now=float(i))
    listed = recent.recent_datasets(path=store)
    assert [e.data for e in listed] == files[::-1][: recent.MAX_RECENT]


def test_entries_whose_files_vanished_are_dropped(tmp_path):
    store = tmp_path / "recent.json"
    a, b = _file(tmp_path / "a.jsonl"), _file(tmp_path / "b.jsonl")
    s = _file(tmp_path / "b.scores.parquet")
    authors = _file(tmp_path / "authors.json")
    recent.remember(a, None, path=store)
    recent.remember(b, s, path=store)
    recent.remember(None, authors, path=store)  # a score file that carries its rows
    Path(a).unlink()
    Path(s).unlink()
    assert [(e.data, e.scores) for e in recent.recent_datasets(path=store)] == [(None, authors), (b, None)]
    Path(authors).unlink()
    assert [(e.data, e.scores) for e in recent.recent_datasets(path=store)] == [(b, None)]


def test_a_broken_or_foreign_file_reads_as_empty_and_is_replaced(tmp_path):
    store = tmp_path / "recent.json"
    for text in ("not json", '{"format": "other", "recent": []}', '[1, 2]'):
        store.write_text(text)
        assert recent.recent_datasets(path=store) == []
    a = _file(tmp_path / "a.jsonl")
    store.write_text(json.dumps({"format": recent.RECENT_FORMAT, "recent": [
        {"data": 3, "scores": None, "mapping": {}, "opened": 1}, {"data": a}, {"data": a, "scores": None,
                                                                             "mapping": {}, "opened": 2}]}))
    assert [e.opened for e in recent.recent_datasets(path=store)] == [2.0]  # unreadable entries skipped
    recent.remember(a, None, path=store, now=5.0)
    assert [e.opened for e in recent.recent_datasets(path=store)] == [5.0]


def test_nothing_to_remember_and_an_unwritable_folder(tmp_path):
    store = tmp_path / "recent.json"
    assert recent.remember(None, None, path=store) == [] and not store.exists()
    blocked = tmp_path / "file"
    blocked.write_text("")
    a = _file(tmp_path / "a.jsonl")
    listed = recent.remember(a, None, path=blocked / "recent.json")  # its folder is a file: not written
    assert [e.data for e in listed] == [a]


def test_an_upload_is_told_apart_from_the_file_it_copies(tmp_path, monkeypatch):
    from qaq.app import paths

    monkeypatch.setattr(paths, "UPLOAD_DIR", tmp_path / "uploads")
    original, copy = _file(tmp_path / "data.jsonl"), _file(tmp_path / "uploads" / "0123abcd" / "data.jsonl")
    assert recent.Recent(original).label == "data.jsonl"
    assert recent.Recent(copy, original).label == "data.jsonl (uploaded) + data.jsonl"

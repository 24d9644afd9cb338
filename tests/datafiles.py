"""Data files for the tests of the input readers and the engines (tests/test_inputs.py,
tests/test_ray_engine.py): JSONL files and folders of JSONL parts."""

from __future__ import annotations

import json
from pathlib import Path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def split_dir(directory: Path, rows: list[dict], parts: int) -> Path:
    """Write ``rows`` as ``parts`` JSONL shards in ``directory``, and all of them as ``directory``.jsonl."""
    directory.mkdir()
    size = -(-len(rows) // parts)
    for k in range(parts):
        write_jsonl(directory / f"part-{k:02d}.jsonl", rows[k * size : (k + 1) * size])
    write_jsonl(directory.with_suffix(".jsonl"), rows)
    return directory

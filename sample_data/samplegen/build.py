"""Assembly: clean and defective rows, the chat sample, and writing both ``.jsonl`` files."""

from __future__ import annotations

import json
import random
from pathlib import Path

from .chat import make_chat
from .defects import DEFECT_MAKERS
from .settings import CHAT_FILE, DATA_FILE, DEFAULT_SEED, DEFECT_COUNTS, N_ROWS
from .templates import TEMPLATES

# generate.py's folder, the default output folder
SAMPLE_DIR = Path(__file__).resolve().parent.parent


def make_rows(r: random.Random, n_rows: int = N_ROWS) -> list[dict]:
    n_clean = n_rows - sum(DEFECT_COUNTS.values())
    seen: set[str] = set()  # instructions, kept unique over the whole file
    seen_answers: set[str] = set()  # clean answers, kept unique
    rows = []

    cycle = [(task, fn) for task, fn, weight in TEMPLATES for _ in range(weight)]
    order: list = []
    while len(rows) < n_clean:
        if not order:
            order = list(cycle)
            r.shuffle(order)
        task, fn = order.pop()
        for _ in range(8):
            q, a = fn(r)
            if q not in seen and a not in seen_answers:
                seen.add(q)
                seen_answers.add(a)
                rows.append({"task": task, "defect": "none", "instruction": q, "response": a})
                break

    for defect, count in DEFECT_COUNTS.items():
        made = 0
        while made < count:
            task, q, a = DEFECT_MAKERS[defect](r)
            if q in seen:
                continue
            seen.add(q)
            rows.append({"task": task, "defect": defect, "instruction": q, "response": a})
            made += 1

    r.shuffle(rows)
    return [{"id": f"s{i + 1:04d}", **row} for i, row in enumerate(rows)]


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def generate(seed: int = DEFAULT_SEED, out_dir: str | Path | None = None) -> dict[str, Path]:
    """Write both files for ``seed`` into ``out_dir`` (default sample_data/); return their paths."""
    out = Path(out_dir) if out_dir is not None else SAMPLE_DIR
    out.mkdir(parents=True, exist_ok=True)
    data_rows = make_rows(random.Random(seed))
    chat_rows = make_chat(random.Random(f"chat-{seed}"))
    paths = {"data": out / DATA_FILE, "chat": out / CHAT_FILE}
    for key, rows in (("data", data_rows), ("chat", chat_rows)):
        with open(paths[key], "w", encoding="utf-8", newline="\n") as f:
            f.write(to_jsonl(rows))
    return paths


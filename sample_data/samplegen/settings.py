"""Seed, sizes and file names of the generated sample data."""

from __future__ import annotations

DEFAULT_SEED = 0
N_ROWS = 700
# 176 of 700 rows (25.1%) carry a defect.
DEFECT_COUNTS = {
    "mismatch": 30,
    "fabricated": 30,
    "non_code": 29,
    "echo": 29,
    "truncated": 30,
    "boilerplate": 28,
}
N_CHAT = 36
DATA_FILE = "code_instructions.jsonl"
CHAT_FILE = "chat_sample.jsonl"
FIELDS = ("id", "task", "defect", "instruction", "response")

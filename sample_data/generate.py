#!/usr/bin/env python3
"""Generate qaq's bundled sample data: synthetic code-instruction pairs with labelled defects.

Everything here is written from scratch by parameterised templates; nothing is copied from a
third-party data set. The output is a pure function of the seed: the same seed gives the same
bytes (stdlib only, ``random.Random(seed)``, no set iteration, no clock).

Files written to ``--out-dir`` (default: the folder of this script):

* ``code_instructions.jsonl``: one JSON object per line with ``id``, ``task``, ``defect``,
  ``instruction`` and ``response``. About 75% of the rows are clean (``defect == "none"``); the
  rest carry one of the defects that Reverse Mutual Information is meant to expose:
  ``mismatch``, ``fabricated``, ``non_code``, ``echo``, ``truncated``, ``boilerplate``.
* ``chat_sample.jsonl``: a few conversations in OpenAI chat format (``id``, ``messages``), some
  with a system message and some multi-turn; the last turn is always the assistant's.

Usage::

    python sample_data/generate.py [--seed 0] [--out-dir sample_data]

Python code in the clean rows is executed while generating: every ``>>>`` example shown in an
answer is the real output of the code above it. The templates and the assembly live in the
``samplegen`` package next to this script; this file is the command-line entry point.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so `samplegen` imports from any cwd

from samplegen.build import generate, make_chat, make_rows, to_jsonl
from samplegen.settings import (
    CHAT_FILE, DATA_FILE, DEFAULT_SEED, DEFECT_COUNTS, FIELDS, N_CHAT, N_ROWS,
)

__all__ = ["CHAT_FILE", "DATA_FILE", "DEFAULT_SEED", "DEFECT_COUNTS", "FIELDS", "N_CHAT", "N_ROWS",
           "generate", "main", "make_chat", "make_rows", "to_jsonl"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate qaq's sample data: code_instructions.jsonl (clean and defective "
                    "code-instruction pairs) and chat_sample.jsonl (chat-format conversations).")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    parser.add_argument("--out-dir", default=None,
                        help="output folder (default: the folder of this script, sample_data/)")
    args = parser.parse_args(argv)
    paths = generate(args.seed, args.out_dir)  # None: samplegen.build.SAMPLE_DIR, this folder
    for path in paths.values():
        with open(path, encoding="utf-8") as f:
            n = sum(1 for _ in f)
        print(f"wrote {path} ({n} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

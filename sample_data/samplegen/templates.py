"""All clean-row templates, in the fixed order the seeded draws depend on, and ``sample_clean``."""

from __future__ import annotations

import random

from . import (
    c_lang,
    dicts,
    dynamic_programming,
    go_lang,
    graphs,
    java_lang,
    javascript,
    lists,
    maths,
    oop,
    parsing,
    recursion,
    regex,
    rust_lang,
    shell,
    sorting_search,
    sql,
    strings,
)
from .registry import Entry

# Do not reorder: row generation shuffles and samples from TEMPLATES with a seeded random.Random.
FAMILY_MODULES = (
    strings,
    lists,
    dicts,
    maths,
    parsing,
    oop,
    sorting_search,
    graphs,
    dynamic_programming,
    recursion,
    sql,
    shell,
    regex,
    javascript,
    go_lang,
    rust_lang,
    c_lang,
    java_lang,
)
TEMPLATES: list[Entry] = [entry for module in FAMILY_MODULES for entry in module.TEMPLATES]


def sample_clean(r: random.Random, exclude_task: str | None = None) -> tuple[str, str, str]:
    """One clean (task, instruction, response) from a random template."""
    while True:
        task, fn, _ = r.choice(TEMPLATES)
        if task != exclude_task:
            q, a = fn(r)
            return task, q, a

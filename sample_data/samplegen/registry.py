"""Registration of clean-row templates, one ordered list per family module."""

from __future__ import annotations

import random
from collections.abc import Callable

Template = Callable[[random.Random], tuple[str, str]]
Entry = tuple[str, Template, int]


def family_registry() -> tuple[list[Entry], Callable[..., Callable[[Template], Template]]]:
    """A new ``(templates, template)`` pair for one family module.

    ``@template(task, weight=1)`` registers ``fn(r) -> (instruction, response)`` by appending
    ``(task, fn, weight)`` to ``templates``, in definition order. ``samplegen.templates`` joins the
    family lists in a fixed order; the seeded draws depend on that order.
    """
    templates: list[Entry] = []

    def template(task: str, weight: int = 1) -> Callable[[Template], Template]:
        def deco(fn: Template) -> Template:
            templates.append((task, fn, weight))
            return fn

        return deco

    return templates, template

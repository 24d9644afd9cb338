"""The examples in the library's docstrings run, and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import qaq

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(qaq.__path__, "qaq."):
        tests = doctest.DocTestFinder().find(importlib.import_module(info.name))
        if any(t.examples for t in tests):
            names.append(info.name)
    return sorted(names)


MODULES = _modules_with_examples()


def test_the_modules_with_examples_are_found():
    assert {"qaq.scoring.pooling", "qaq.scoring.hardware", "qaq.scoring.engine", "qaq.select.strata",
            "qaq.select.correlations", "qaq.select.recipes", "qaq.select.detection", "qaq.select.curves",
            "qaq.select.flags"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS)
    assert result.attempted > 0 and result.failed == 0, f"{result.failed} of {result.attempted} failed in {name}"

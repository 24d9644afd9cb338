"""The ``qaq`` command line: a thin layer over the library (the library never imports click).

One module per command (score, with its runs in score_run; select; env; app); importing them
below registers them on the group.
"""

from __future__ import annotations

import sys

import click

from qaq import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qaq")
def cli() -> None:
    """qaq: score, stratify and select synthetic code instructions with QAQ (reverse mutual information)."""


def main() -> None:
    """Console-script entry point."""
    import logging

    # The library's warnings (slow emulated bf16, a failed compile) on stderr, marked as such.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger("qaq").addHandler(handler)
    cli(prog_name="qaq")


# The commands register on `cli` when imported: after it is defined.
from qaq.cli import app, env, score, select  # noqa: E402, F401

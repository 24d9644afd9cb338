"""The ``qaq`` command line: a thin layer over the library (the library never imports click)."""

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
    cli(prog_name="qaq")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

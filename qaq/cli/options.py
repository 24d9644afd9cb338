"""Helpers shared by the commands: model specs, the --status-file wrapper."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click


def parse_models(values: tuple[str, ...]) -> dict[str, str]:
    """``("weak=smollm2-135m", ...)`` -> {"weak": "smollm2-135m", ...}."""
    from qaq.scoring.models import DEFAULT_MODELS

    if not values:
        return dict(DEFAULT_MODELS)
    models: dict[str, str] = {}
    for v in values:
        name, sep, spec = v.partition("=")
        name, spec = name.strip(), spec.strip()
        if not sep or not name or not spec:
            raise click.BadParameter(f"{v!r}: expected NAME=SPEC, e.g. weak=smollm2-135m", param_hint="--model")
        if not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise click.BadParameter(
                f"{name!r}: model names use letters, digits, '_', '-' and '.'", param_hint="--model"
            )
        if name in models:
            raise click.BadParameter(f"model name {name!r} given twice", param_hint="--model")
        models[name] = spec
    return models


def reports_status(command: Callable[..., None]) -> Callable[..., None]:
    """Run ``command`` with its ``--status-file`` kept up to date (:class:`qaq.jobs.StatusReporter`).

    The command gets ``status`` (None without the option) to report progress and its output;
    any error it raises is recorded as "failed" with the error's message, then raised as before
    (same message on stderr, same exit code).
    """

    @functools.wraps(command)
    def run(*args: Any, status_file: str | None, **kwargs: Any) -> None:
        from qaq.jobs import StatusReporter

        try:
            status = StatusReporter(status_file) if status_file else None
        except (OSError, ValueError) as exc:  # no such folder, a malformed status file
            raise click.ClickException(f"cannot keep the status file {status_file}: {exc}") from None
        try:
            command(*args, status=status, **kwargs)
        except BaseException as exc:  # click's errors, a DataError, Ctrl+C: every way out but success
            if status is not None:
                status.failed(
                    exc.format_message()
                    if isinstance(exc, click.ClickException)
                    else f"{type(exc).__name__}: {exc}"
                    if str(exc)
                    else type(exc).__name__
                )
            raise
        if status is not None:
            status.finished(None, None)  # a run without output (--dry-run); a final status stays as it is

    return run

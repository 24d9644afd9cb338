"""`qaq app`: serve the Streamlit app (qaq/app) in this process."""

from __future__ import annotations

import sys

import click

from qaq.cli import cli


@cli.command("app")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535), help="Port to serve on.")
@click.option(
    "--data",
    "data_path",
    type=click.Path(dir_okay=False, exists=True),
    help="Open this dataset instead of the bundled sample.",
)
@click.option(
    "--scores",
    "scores_path",
    type=click.Path(dir_okay=False, exists=True),
    help="Open this score file (qaq's, or the QAQ authors' format, which carries its own rows).",
)
@click.option(
    "--address",
    default="localhost",
    show_default=True,
    help="Address to listen on. The default keeps the app private to this machine; 0.0.0.0 exposes "
    "it (and the files it can read) to the network.",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window (server mode).")
def app_command(port: int, data_path: str | None, scores_path: str | None, address: str, no_browser: bool) -> None:
    """Open the qaq web app: explore scores, audit examples, tune a recipe, export the selection.

    Runs the app (qaq/app, part of the package) with Streamlit on localhost. With no options it
    opens the bundled sample and its precomputed scores (both embedded models), so there is
    nothing to wait for. Uploads are limited to the size the app states on its Data page.

    Example: qaq app --data data.jsonl --scores scores.parquet --port 8502
    """
    import os
    from pathlib import Path

    from qaq.app import paths  # no streamlit: only the app's own process loads it

    if not paths.MAIN_FILE.is_file():
        raise click.ClickException(f"the app's entry script is missing ({paths.MAIN_FILE}): reinstall qaq")
    env = dict(os.environ)
    for name, value in ((paths.ENV_DATA, data_path), (paths.ENV_SCORES, scores_path)):
        env.pop(name, None)
        if value:
            env[name] = str(Path(value).resolve())
    options = {
        **paths.SERVER_OPTIONS,
        "server.address": address,
        "server.port": port,
        # Watching the source tree (a .venv inside it included) is for developing the app, not using it.
        "server.fileWatcherType": "none",
    }
    if no_browser:
        options["server.headless"] = True
    cmd = [sys.executable, "-m", "streamlit", "run", str(paths.MAIN_FILE)]
    for option, setting in options.items():
        cmd += [f"--{option}", str(setting).lower() if isinstance(setting, bool) else str(setting)]
    click.echo(f"qaq app on http://{address}:{port} (Ctrl+C stops it)", err=True)
    # Become the server (no child left behind when this process is signalled); relative paths typed
    # on the Data page resolve against the folder qaq app was started in.
    os.execve(sys.executable, cmd, env)

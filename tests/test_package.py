"""Package boundaries: `import qaq` stays light; every CLI command has help."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from qaq.cli import cli


def test_import_qaq_imports_neither_torch_nor_streamlit():
    code = (
        "import sys, qaq, qaq.columns, qaq.io.datasets, qaq.scoring.engine, qaq.scoring.templates, qaq.scoring.models, qaq.scoring.cache, qaq.jobs\n"
        "bad = [m for m in ('torch', 'transformers', 'streamlit') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_command_has_help():
    runner = CliRunner()
    assert runner.invoke(cli, ["--help"]).exit_code == 0
    for name, command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and len(command.help) > 40, name


def test_env_names_the_cpu_and_the_choices_made_for_it():
    from qaq.scoring import hardware

    result = CliRunner().invoke(cli, ["env"])
    assert result.exit_code == 0, result.output
    cpu = hardware.cpu_info()
    dtype, reason = hardware.choose_dtype("auto", "cpu")
    lines = result.output.splitlines()
    assert lines[0].startswith(f"cpu: {cpu.kind}")
    assert any(line.startswith("torch ") and "CPU capability " in line for line in lines)
    device, _ = hardware.choose_device("auto")
    if device == "cpu":
        assert f"dtype: {dtype} ({reason})" in lines
    bad = CliRunner().invoke(cli, ["env", "--dtype", "int4"])
    assert bad.exit_code == 1 and "expected one of auto, bf16" in bad.output

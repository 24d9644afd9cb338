"""`qaq env`: this machine as qaq sees it (CPU, torch, GPUs, the device and dtype chosen)."""

from __future__ import annotations

import click

from qaq.cli import cli


@cli.command("env")
@click.option("--device", default="auto", show_default=True, help="The device to describe the choice for.")
@click.option("--dtype", default="auto", show_default=True, help="The dtype to describe the choice for.")
@click.option("--matmul", is_flag=True, help="Also time a 2048x576x1536 matmul on the CPU in fp32 and bf16.")
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")
def env_command(device: str, dtype: str, matmul: bool, as_json: bool) -> None:
    """Show this machine as qaq sees it: the CPU (and whether it runs bf16 natively), torch's
    CPU capability, GPUs, and the device and dtype `qaq score` picks here, with the reasons.

    Example: qaq env --matmul
    """
    import json

    from qaq.scoring import hardware

    info = hardware.describe_machine(device, dtype)
    if matmul:
        rates = hardware.matmul_rates(("fp32", "bf16"))
        info["matmul_gflops"] = {k: round(v, 1) for k, v in rates.gflops.items()}
        info["matmul_shape"] = list(rates.shape)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    cpu = info["cpu"]
    click.echo(f"cpu: {info['cpu_kind']}; {cpu['threads']} threads")
    click.echo(f"torch {info['torch']}, CPU capability {info['torch_cpu_capability']}, {info['torch_threads']} threads")
    if "error" in info:
        raise click.ClickException(info["error"])
    click.echo(f"device: {info['device']} ({info['device_reason']})")
    click.echo(f"dtype: {info['dtype']} ({info['dtype_reason']})")
    if matmul:
        g = info["matmul_gflops"]
        click.echo(
            f"matmul {'x'.join(map(str, info['matmul_shape']))}: fp32 {g['fp32']:,.1f} GFLOP/s, "
            f"bf16 {g['bf16']:,.1f} GFLOP/s (bf16 {g['bf16'] / g['fp32']:.2f}x fp32)"
        )

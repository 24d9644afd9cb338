"""The ``qaq`` command line: a thin layer over the library (the library never imports click)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from qaq import __version__
from qaq.scoring.hardware import DTYPES

if TYPE_CHECKING:
    from qaq.jobs import StatusReporter
    from qaq.scoring.engine import CompileMode
    from qaq.scoring.hardware import Dtype
    from qaq.scoring.templates import TemplateKind


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qaq")
def cli() -> None:
    """qaq: score, stratify and select synthetic code instructions with QAQ (reverse mutual information)."""


def _parse_models(values: tuple[str, ...]) -> dict[str, str]:
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


def _reports_status(command: Callable[..., None]) -> Callable[..., None]:
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


@cli.command("score")
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Score table to write (.parquet, .csv or .jsonl). Required unless --dry-run.",
)
@click.option(
    "-m",
    "--model",
    "model_specs",
    multiple=True,
    metavar="NAME=SPEC",
    help="A scoring model: SPEC is an embedded name (smollm2-135m, gemma3-270m), a local model "
    "directory, a .gguf file or a hub id. Repeat for several models. "
    "Default: weak=smollm2-135m strong=gemma3-270m.",
)
@click.option("--query", "query_field", metavar="FIELD", help="Field holding the query (default: detected).")
@click.option("--answer", "answer_field", metavar="FIELD", help="Field holding the answer (default: detected).")
@click.option("--input-field", metavar="FIELD", help="Extra input field appended to the query (Alpaca 'input').")
@click.option(
    "--id-field",
    metavar="FIELD",
    help="Field holding unique row ids (default: 'id' if present, else a hash of Q and A).",
)
@click.option(
    "--messages",
    "messages_field",
    metavar="FIELD",
    help="Field holding a chat (OpenAI messages or ShareGPT conversations).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "json", "csv", "parquet"]),
    help="Input format (default: from the suffix).",
)
@click.option("--split", metavar="NAME", help="The split of a Hugging Face dataset folder or hub id.")
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="auto (CUDA, else Apple MPS, else the CPU), cpu, cuda, cuda:N or mps.",
)
@click.option(
    "--dtype",
    default="auto",
    show_default=True,
    type=click.Choice(DTYPES),
    help="auto: bf16 on CUDA GPUs and on CPUs that run it natively (AMX, AVX512-BF16, ARM BF16), "
    "fp32 on other CPUs (there bf16 is emulated and several times slower: asking for it "
    "warns with the factor timed on the spot); MPS: bf16, or fp16 before macOS 14. "
    "bf16-mixed (CPU): fp32 weights and residual stream with bf16 matmuls; closer to fp32 "
    "ranks, about 1.4x slower than bf16. `qaq env` shows what auto picks here.",
)
@click.option(
    "--max-length",
    default=2048,
    show_default=True,
    type=click.IntRange(min=8),
    help="Tokens per pass, template included. Too long: the answer's tail is cut first; the query's only "
    "as far as needed to leave the answer half the room. Cut tokens are counted in NAME_truncated.",
)
@click.option(
    "--batch-tokens",
    type=click.IntRange(min=1),
    help="Padded tokens per forward (a batch of samples runs one forward per pass). Default: 4096 on CPU (the fastest "
    "measured there), 16384 on GPU. Lower it if memory runs out.",
)
@click.option(
    "--compile",
    "compile_mode",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "on", "off"]),
    help="torch.compile each decoder layer and the LM head's normalizer (once per run, about 20 s; "
    "then about 1.2x faster on CPU and 1.9x on an H100, in bf16). auto: bf16/fp16 runs of at "
    "least 200,000 tokens on CPU, 10,000,000 on GPU; if compiling fails, auto goes on eagerly "
    "with a warning and on stops with the error.",
)
@click.option(
    "--template",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "chat", "plain"]),
    help="Prompt layout: the model's chat template (borrowed from its instruct family for known base "
    "models), or the plain-text template.",
)
@click.option("--system", "system_prompt", help="System prompt (should match your SFT system prompt).")
@click.option("--reverse-instruction", help="Reverse-generation instruction; must contain {answer}.")
@click.option(
    "--trust-remote-code", is_flag=True, help="Allow model code from the model's repository (off by default)."
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="Score cache directory (default: $QAQ_CACHE_DIR or ~/.cache/qaq).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the score cache.")
@click.option(
    "--dry-run", is_flag=True, help="Count tokens and estimate the time from a short calibration; score nothing."
)
@click.option(
    "--engine",
    default="local",
    show_default=True,
    type=click.Choice(["local", "ray"]),
    help="local: this machine, resuming from the score cache. ray: a Ray cluster (Ray Data, one "
    'scoring actor per GPU), resuming from Parquet shards; needs pip install "qaq[ray]".',
)
@click.option(
    "--ray-address",
    metavar="ADDRESS",
    help="[ray] The cluster: auto (the cluster this machine belongs to), ray://HOST:10001 or HOST:6379. "
    "Default: start Ray on this machine.",
)
@click.option(
    "--gpus-per-worker",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="[ray] GPUs per scoring actor (0.5 puts two actors on one GPU).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="[ray] Scoring actors (default: the cluster's GPUs / --gpus-per-worker; 1 without GPUs).",
)
@click.option(
    "--shards-dir",
    type=click.Path(file_okay=False),
    help="[ray] Where finished shards go, for resume (default: OUTPUT.shards next to the output).",
)
@click.option(
    "--rows-per-shard",
    default=2048,
    show_default=True,
    type=click.IntRange(min=1),
    help="[ray] Distinct pairs per shard: the unit of work, and what a crash can lose.",
)
@click.option(
    "--status-file",
    type=click.Path(dir_okay=False),
    help="Keep the run's state in this JSON file (qaq.jobs.JobStatus: starting, running with "
    "per-model progress, finished with the output, failed with the error), replaced "
    "atomically at each change. Background jobs report through it.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@_reports_status
def score_command(
    input_path: str,
    output: str | None,
    model_specs: tuple[str, ...],
    query_field: str | None,
    answer_field: str | None,
    input_field: str | None,
    id_field: str | None,
    messages_field: str | None,
    fmt: str | None,
    split: str | None,
    device: str,
    dtype: Dtype,
    max_length: int,
    batch_tokens: int | None,
    compile_mode: CompileMode,
    template: TemplateKind,
    system_prompt: str | None,
    reverse_instruction: str | None,
    trust_remote_code: bool,
    cache_dir: str | None,
    no_cache: bool,
    dry_run: bool,
    engine: str,
    ray_address: str | None,
    gpus_per_worker: float,
    concurrency: int | None,
    shards_dir: str | None,
    rows_per_shard: int,
    status: StatusReporter | None,
    quiet: bool,
) -> None:
    """Score every (query, answer) pair of INPUT with one or more models.

    Writes one row per input row: id, then for each model NAME the columns NAME_nll_q,
    NAME_nll_q_given_a, NAME_nll_a, NAME_nll_a_given_q (mean token NLL, nats), NAME_rmi
    (= nll_q - nll_q_given_a), NAME_ifd (= nll_a_given_q / nll_a), NAME_n_tokens_q,
    NAME_n_tokens_a and NAME_truncated. Run metadata (models, templates, versions, device,
    dtype) is stored with the output. Finished batches go to the score cache at once, so a
    killed run resumes where it stopped and a rerun scores only new rows.

    INPUT is a data file, a directory of data files (JSONL, Parquet, ...; read in name order),
    a Hugging Face dataset folder written by save_to_disk (a DatasetDict needs --split), or,
    with --split, a Hugging Face hub id (needs pip install "qaq[hf]").

    With --engine ray, INPUT is scored on a Ray cluster; finished shards go to --shards-dir, so
    a rerun after a crash scores only the missing part. The output has the same columns. Options
    marked [ray] apply to it only; --cache-dir, --no-cache and --dry-run to the local engine only.

    Example: qaq score data.jsonl -m weak=smollm2-135m -m strong=gemma3-270m -o scores.parquet

    Example: qaq score my_dataset/ --split train -m strong=gemma3-270m -o scores.parquet

    Example: qaq score shards/ --engine ray --ray-address auto -m strong=/models/dsc-6.7b -o scores.parquet
    """
    from qaq.io.datasets import DataError, refuse_inputs, skipped_rows
    from qaq.io.inputs import load_inputs
    from qaq.io.scorefile import check_scores_path, write_scores
    from qaq.scoring.cache import CacheError, ScoreCache
    from qaq.scoring.engine import (
        TRUNCATION_NOTICE_SHARE,
        ScoringConfig,
        duration_text,
        estimate_cost,
        heavily_truncated,
        load_scoring_model,
        score_frame,
    )
    from qaq.scoring.models import ModelNotFound
    from qaq.scoring.templates import DEFAULT_REVERSE_INSTRUCTION, DEFAULT_SYSTEM, TemplateError

    if not output and not dry_run:
        raise click.UsageError("give -o/--output (or --dry-run)")
    if engine == "ray" and dry_run:
        raise click.UsageError("--dry-run calibrates on this machine: use it without --engine ray")
    if engine == "local" and (ray_address or shards_dir or concurrency):
        raise click.UsageError("--ray-address, --concurrency and --shards-dir need --engine ray")
    if output:  # before any loading or scoring: a bad output path fails at once, not hours in
        try:
            check_scores_path(output)
            refuse_inputs([output], [input_path])
        except DataError as exc:
            raise click.ClickException(str(exc)) from None
    models = _parse_models(model_specs)
    load_options = dict(
        query=query_field,
        answer=answer_field,
        input_field=input_field,
        id_field=id_field,
        messages=messages_field,
        fmt=fmt,
    )
    try:
        config = ScoringConfig(
            device=device,
            dtype=dtype,
            max_length=max_length,
            batch_tokens=batch_tokens,
            compile=compile_mode,
            template=template,
            system=DEFAULT_SYSTEM if system_prompt is None else system_prompt,
            reverse_instruction=reverse_instruction or DEFAULT_REVERSE_INSTRUCTION,
            trust_remote_code=trust_remote_code,
        )
        if engine == "ray":
            from qaq.scoring.ray_engine import RayNotInstalled, require_ray

            try:
                require_ray()
            except RayNotInstalled as exc:
                raise click.ClickException(str(exc)) from None
        data = load_inputs(input_path, split=split, **load_options)
    except (DataError, TemplateError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    skipped = skipped_rows(data)
    click.echo(f"{input_path}: {len(data)} rows, {len(data) - len(skipped)} to score", err=True)
    if len(skipped):
        shown = ", ".join(f"{r.id} (line {r.line}: {r.skip})" for r in skipped.head(10).itertuples())
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        click.echo(f"not scored: {len(skipped)} rows with an empty query or answer: {shown}{more}", err=True)
    if engine == "ray":
        assert output is not None, "-o is checked above: only --dry-run runs without it"
        _score_on_ray(
            data,
            models,
            config=config,
            output=output,
            address=ray_address,
            gpus_per_worker=gpus_per_worker,
            concurrency=concurrency,
            shards_dir=shards_dir,
            rows_per_shard=rows_per_shard,
            quiet=quiet,
            status=status,
        )
        return
    try:
        loaded = {}
        for name, spec in models.items():
            sm = load_scoring_model(spec, config)
            click.echo(
                f"{name}: {spec} [{sm.source.identity[:23]}] on {sm.device} ({sm.device_reason}), "
                f"{sm.precision} ({sm.dtype_reason}), template {sm.layout.kind}",
                err=True,
            )
            loaded[name] = sm
        if dry_run:
            for name, sm in loaded.items():
                est = estimate_cost(sm, data, config=config)
                if not est["rows"]:
                    click.echo(f"{name}: nothing to score: every row has an empty query or answer", err=True)
                    continue
                click.echo(
                    f"{name}: {est['rows']} rows, {est['tokens']:,} tokens forwarded "
                    f"({est['truncated_rows']} rows truncated at {max_length}); calibration on "
                    f"{est['calibration_rows']} rows: {est['calibration_tokens_per_s']:,.0f} tokens/s "
                    f"on {sm.device} -> "
                    f"estimated {duration_text(est['estimated_seconds'])}"
                    + (
                        " or less (the run compiles the model; the calibration ran eagerly)"
                        if est["will_compile"]
                        else ""
                    )
                )
            return
        cache = None if no_cache else ScoreCache(cache_dir) if cache_dir else ScoreCache()
        progress = _Progress(quiet=quiet, status=status)
        try:
            scores = score_frame(data, loaded, config=config, cache=cache, progress=progress)
        finally:
            progress.close()
            if cache is not None:
                cache.close()
        meta = dict(scores.attrs["qaq_run"], source=data.attrs.get("qaq_source", {}))
        assert output is not None, "checked at the start: -o is required without --dry-run, which returned above"
        write_scores(scores, output, meta)
        if status is not None:
            status.finished(output, len(scores))
    except CacheError as exc:
        raise click.ClickException(f"{exc} (--cache-dir DIR, or --no-cache)") from None
    except (ModelNotFound, TemplateError, DataError) as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        from qaq.scoring.backend import ScoringError

        if isinstance(exc, ScoringError):
            raise click.ClickException(str(exc)) from None
        raise
    for name, run in meta["models"].items():
        click.echo(
            f"{name}: {run['rows_scored']} rows scored, {run['rows_cached']} from cache, {run['seconds']:.1f} s",
            err=True,
        )
        cut = heavily_truncated(scores.assign(line=data["line"]), name)
        if len(cut):
            shown = ", ".join(
                f"{r.id} (line {r.line}: {r.tokens_cut:,} of {r.tokens:,} tokens)" for r in cut.head(5).itertuples()
            )
            click.echo(
                f"warning: {name}: {len(cut)} rows lost more than {TRUNCATION_NOTICE_SHARE:.0%} of their "
                f"tokens to --max-length {max_length}: {shown}{' ...' if len(cut) > 5 else ''} "
                f"({name}_truncated has every row's count)",
                err=True,
            )
    click.echo(f"wrote {output} ({len(scores)} rows)", err=True)


def _score_on_ray(
    data,
    models: dict[str, str],
    *,
    config,
    output: str,
    address: str | None,
    gpus_per_worker: float,
    concurrency: int | None,
    shards_dir: str | None,
    rows_per_shard: int,
    quiet: bool,
    status: StatusReporter | None,
) -> None:
    """The --engine ray branch of `qaq score` (qaq.scoring.ray_engine writes the output and its metadata)."""
    from qaq.io.datasets import DataError
    from qaq.scoring.models import ModelNotFound
    from qaq.scoring.ray_engine import RayEngineError, score_with_ray

    click.echo(f"ray: {address or 'a local Ray instance'}; shards in {shards_dir or str(output) + '.shards'}", err=True)
    progress = _Progress(quiet=quiet, status=status)
    try:
        scores = score_with_ray(
            data,
            models,
            config=config,
            output=output,
            address=address,
            gpus_per_worker=gpus_per_worker,
            concurrency=concurrency,
            shards_dir=shards_dir,
            rows_per_shard=rows_per_shard,
            progress=progress,
        )
    except (ModelNotFound, DataError, RayEngineError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.close()
    if status is not None:
        status.finished(output, len(scores))
    meta = scores.attrs["qaq_run"]
    for name, run in meta["models"].items():
        ray_run = meta["ray"]["models"][name]
        click.echo(
            f"{name}: {run['rows_scored']} rows scored, {run['rows_cached']} from shards "
            f"({ray_run['units_cached']} of {ray_run['units']} shards were done), on "
            f"{', '.join(ray_run['devices'])}, {run['seconds']:.1f} s",
            err=True,
        )
    click.echo(f"wrote {output} ({len(scores)} rows)", err=True)


class _Progress:
    """A tqdm bar per model (rows/s and ETA), plus the progress in the --status-file, if any."""

    def __init__(self, *, quiet: bool, status: StatusReporter | None) -> None:
        self.quiet = quiet
        self.status = status
        self.bars: dict[str, object] = {}

    def __call__(self, name: str, done: int, total: int) -> None:
        if not self.quiet:
            from tqdm import tqdm

            bar = self.bars.get(name)
            if bar is None:
                bar = self.bars[name] = tqdm(
                    total=total, initial=done, desc=name, unit="rows", file=sys.stderr, dynamic_ncols=True
                )
            bar.update(done - bar.n)  # type: ignore[attr-defined]
        if self.status is not None:
            self.status.progress(name, done, total)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()  # type: ignore[attr-defined]


@cli.command("select")
@click.argument("scores_path", metavar="SCORES", type=click.Path(dir_okay=False))
@click.option(
    "-r",
    "--recipe",
    "recipe_spec",
    required=True,
    metavar="RECIPE",
    help="Selection recipe: a JSON file, inline JSON, or a manifest written by --manifest "
    "(its recipe is reused). Example: "
    '\'{"method": "diff_high", "strong": "strong", "weak": "weak", "budget": 0.25}\'.',
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Selected rows, exactly as in the original file (.jsonl, .csv or .parquet).",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(),
    help="The original dataset SCORES was computed from (needed when SCORES is a qaq score "
    "file): a data file or a saved Hugging Face dataset folder; rows are matched on id.",
)
@click.option(
    "--discarded",
    type=click.Path(dir_okay=False),
    help="Also write the rows not selected (skipped rows included) here.",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False),
    help="Write a JSON manifest: recipe, input hashes, models, counts per stratum and a hash of "
    "the selected ids. Pass it back as --recipe to reproduce the selection.",
)
@click.option(
    "--add-scores",
    "score_prefix",
    metavar="PREFIX",
    help="Append each row's scores (and the ranks, diff and sum the recipe used) as fields "
    "named PREFIX + column, e.g. --add-scores qaq_. Off by default: rows are copied byte "
    "for byte (JSONL).",
)
def select_command(
    scores_path: str,
    recipe_spec: str,
    output: str,
    data_path: str | None,
    discarded: str | None,
    manifest: str | None,
    score_prefix: str | None,
) -> None:
    """Select rows from SCORES with a recipe and write them in the original format.

    SCORES is a score file written by `qaq score` (give the original rows with --data) or a
    file in the QAQ authors' format (their rmi_math.py output, which carries the rows itself).

    \b
    Recipes (JSON):
      {"method": "rmi_band", "model": M, "lo": 0.5, "hi": 0.75}      keep lo < RMI rank <= hi
      {"method": "diff_high", "strong": S, "weak": W, "budget": 0.25} QAQ: top 25% by Diff
      diff_low, sum_high, sum_low: same keys; "threshold": t instead of "budget"
      {"method": "ifd", "model": M, "budget": 0.25}                   Cherry: drop IFD > 1, top IFD
      {"method": "random", "budget": 0.25, "seed": 0}
    Options: "ranking": "stratified" (default: RMI ranked within 10 PPL(Q) strata, "bins") or
    "global"; "per_stratum_quota": true; "include"/"exclude": lists of ids. A budget in (0, 1]
    is a fraction of all rows (rounded down), above 1 a row count. Ties go to the earlier row.

    Example: qaq select scores.parquet --data data.jsonl -r qaq.json -o selected.jsonl --manifest m.json
    """
    from pathlib import Path

    from qaq.columns import QA_HASH
    from qaq.io.datasets import DataError, refuse_inputs
    from qaq.io.export import ExportError, export_selection, file_sha256, output_format, read_manifest
    from qaq.io.inputs import load_inputs
    from qaq.io.runrecord import run_record
    from qaq.io.scorefile import load_scores
    from qaq.select.recipes import RecipeError, parse_recipe
    from qaq.select.selection import attach_scores, select, selection_notes, stratum_counts

    # Everything that can be checked is checked before anything is written.
    targets = [Path(p).resolve() for p in (output, discarded, manifest) if p]
    if len(set(targets)) != len(targets):
        raise click.UsageError("--output, --discarded and --manifest must be different files")
    try:
        refuse_inputs(targets, [p for p in (scores_path, data_path) if p])
    except DataError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        for given in (output, discarded):
            if given:
                output_format(given)
        recipe = parse_recipe(recipe_spec)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    except RecipeError as exc:
        raise click.ClickException(f"bad recipe: {exc}") from None
    for p in targets:
        if not p.parent.is_dir():
            raise click.ClickException(f"cannot write {str(p)!r}: no such folder")

    try:
        scores, meta = load_scores(scores_path)
        run = run_record(meta, where=f"score file {scores_path}")
        if data_path:
            # Load the data as it was loaded for scoring, so hashed ids come out the same.
            data = load_inputs(data_path, **dict(run.source.load_kwargs()))
            if "files" in data.attrs["qaq_source"]:  # the export re-reads rows from one source
                raise click.ClickException(
                    f"{data_path} is a directory of data files: give one file or a saved "
                    "Hugging Face dataset folder as --data"
                )
            table, source = attach_scores(data, scores), data_path  # checks each row's text (qa_hash)
            if QA_HASH not in scores.columns and run.source.sha256 not in (None, data.attrs["qaq_source"]["sha256"]):
                click.echo(
                    f"warning: {data_path} is not the file that was scored (sha256 differs) and this score "
                    "file has no per-row text hashes (qa_hash) to check the rows by: they were matched on "
                    "id alone",
                    err=True,
                )
        elif run.carries_rows(scores.columns):
            table, source = scores, scores_path  # the authors' files carry the rows themselves
        else:
            hint = f" ({run.source.path})" if run.source.path else ""
            raise click.ClickException(
                f"{scores_path} holds scores, not the rows: pass --data with the dataset it was scored from{hint}"
            )
        picked = select(table, recipe)
        inputs = {"scores": {"path": str(Path(scores_path).resolve()), "sha256": file_sha256(scores_path)}}
        if data_path:
            inputs["data"] = {"path": str(Path(data_path).resolve()), "sha256": data.attrs["qaq_source"]["sha256"]}
        written = export_selection(
            picked,
            source,
            output,
            recipe=recipe,
            discarded_path=discarded,
            manifest_path=manifest,
            score_prefix=score_prefix,
            inputs=inputs,
            models=run.model_raw,
            templates=run.templates,
            extra={"score_format": run.format},
        )
    except RecipeError as exc:
        raise click.ClickException(f"bad recipe: {exc}") from None
    except (DataError, ExportError, ValueError) as exc:  # ValueError: attach_scores' id mismatch
        raise click.ClickException(str(exc)) from None

    click.echo(f"selected {written['n_selected']} of {len(picked)} rows ({recipe.method}) -> {output}", err=True)
    for note in selection_notes(
        stratum_counts(picked, recipe), recipe, n_rows=len(picked), n_selected=written["n_selected"]
    ):
        click.echo(f"warning: {note}", err=True)
    try:
        previous = read_manifest(recipe_spec) if Path(recipe_spec).is_file() else None
    except (ExportError, OSError):
        previous = None  # a plain recipe file
    if previous is not None and previous.get("ids_sha256") != written["ids_sha256"]:
        click.echo("warning: this selection differs from the manifest's (ids_sha256): the inputs changed", err=True)


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
        "client.toolbarMode": "viewer",
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


def main() -> None:
    """Console-script entry point."""
    import logging

    # The library's warnings (slow emulated bf16, a failed compile) on stderr, marked as such.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger("qaq").addHandler(handler)
    cli(prog_name="qaq")


if __name__ == "__main__":  # pragma: no cover
    main()

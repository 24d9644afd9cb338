"""`qaq score`: its options, the checks before any loading, the local run and the Ray branch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from qaq.cli import cli
from qaq.cli.options import parse_models, reports_status
from qaq.cli.score_run import score_locally, score_on_ray
from qaq.scoring.hardware import DTYPES

if TYPE_CHECKING:
    import pandas as pd

    from qaq.jobs import StatusReporter
    from qaq.scoring.engine import CompileMode, ScoringConfig
    from qaq.scoring.hardware import Dtype
    from qaq.scoring.templates import TemplateKind


@dataclass(frozen=True)
class ScoreOptions:
    """`qaq score`'s options as click parsed them: one field per option (see ``qaq score --help``)."""

    output: str | None
    model_specs: tuple[str, ...]
    query_field: str | None
    answer_field: str | None
    input_field: str | None
    id_field: str | None
    messages_field: str | None
    fmt: str | None
    split: str | None
    device: str
    dtype: Dtype
    max_length: int
    batch_tokens: int | None
    compile_mode: CompileMode
    template: TemplateKind
    system_prompt: str | None
    reverse_instruction: str | None
    trust_remote_code: bool
    cache_dir: str | None
    no_cache: bool
    embed: bool
    dry_run: bool
    engine: str
    ray_address: str | None
    gpus_per_worker: float
    concurrency: int | None
    shards_dir: str | None
    rows_per_shard: int
    quiet: bool

    def load_options(self) -> dict[str, str | None]:
        """The field options, as :func:`qaq.io.inputs.load_inputs` takes them."""
        return dict(
            query=self.query_field,
            answer=self.answer_field,
            input_field=self.input_field,
            id_field=self.id_field,
            messages=self.messages_field,
            fmt=self.fmt,
        )

    @property
    def ray_only(self) -> tuple[object, ...]:
        """The options that only the Ray engine takes (None unless given)."""
        return (self.ray_address, self.shards_dir, self.concurrency)


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
    "--embed",
    is_flag=True,
    help="Also keep each model's embedding of every row: the mean last hidden state over its query "
    "and over its answer, from the forward that scores them (the scores do not change). Written as "
    "float16 to OUTPUT's .embed.npz beside the scores (scores.parquet -> scores.embed.npz), same "
    "ids in the same order, for the app's Map page. Kept in the score cache too: cached rows without "
    "embeddings are scored again. Local engine only.",
)
@click.option(
    "--dry-run", is_flag=True, help="Count tokens and estimate the time from a short calibration; score nothing."
)
@click.option(
    "--engine",
    default="local",
    show_default=True,
    type=click.Choice(["local", "ray"]),
    help="local: this machine, resuming from the score cache. ray: a Ray cluster (Ray Data, one "
    'scoring actor per GPU), resuming from the score cache and its Parquet shards; needs pip install "qaq[ray]".',
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
@reports_status
def score_command(input_path: str, status: StatusReporter | None, **options: Any) -> None:
    """Score every (query, answer) pair of INPUT with one or more models.

    Writes one row per input row: id, then for each model NAME the columns NAME_nll_q,
    NAME_nll_q_given_a, NAME_nll_a, NAME_nll_a_given_q (mean token NLL, nats), NAME_rmi
    (= nll_q - nll_q_given_a), NAME_ifd (= nll_a_given_q / nll_a), NAME_n_tokens_q,
    NAME_n_tokens_a and NAME_truncated. Run metadata (models, templates, versions, device,
    dtype) is stored with the output. Finished batches go to the score cache at once, so a
    killed run resumes where it stopped and a rerun scores only new rows. With --embed, each
    model's query and answer embeddings go to OUTPUT's .embed.npz beside it.

    INPUT is a data file, a directory of data files (JSONL, Parquet, ...; read in name order),
    a Hugging Face dataset folder written by save_to_disk (a DatasetDict needs --split), or,
    with --split, a Hugging Face hub id (needs pip install "qaq[hf]").

    With --engine ray, INPUT is scored on a Ray cluster; finished shards go to --shards-dir, so
    a rerun after a crash scores only the missing part. The output has the same columns. Both
    engines key samples alike and share the score cache: rows either engine scored are not
    scored again by the other. Options marked [ray] apply to it only; --dry-run to the local
    engine only.

    Example: qaq score data.jsonl -m weak=smollm2-135m -m strong=gemma3-270m -o scores.parquet

    Example: qaq score data.jsonl -m weak=smollm2-135m --embed -o scores.parquet  (+ scores.embed.npz)

    Example: qaq score my_dataset/ --split train -m strong=gemma3-270m -o scores.parquet

    Example: qaq score shards/ --engine ray --ray-address auto -m strong=/models/dsc-6.7b -o scores.parquet
    """
    opts = ScoreOptions(**options)
    _check_score_options(input_path, opts)
    models = parse_models(opts.model_specs)
    config = _scoring_config(opts)
    data = _load_data(input_path, split=opts.split, load_options=opts.load_options())
    if opts.engine == "ray":
        assert opts.output is not None, "-o is checked above: only --dry-run runs without it"
        score_on_ray(
            data,
            models,
            config=config,
            output=opts.output,
            address=opts.ray_address,
            gpus_per_worker=opts.gpus_per_worker,
            concurrency=opts.concurrency,
            shards_dir=opts.shards_dir,
            rows_per_shard=opts.rows_per_shard,
            cache_dir=opts.cache_dir,
            no_cache=opts.no_cache,
            quiet=opts.quiet,
            status=status,
        )
        return
    score_locally(
        data,
        models,
        config=config,
        output=opts.output,
        dry_run=opts.dry_run,
        cache_dir=opts.cache_dir,
        no_cache=opts.no_cache,
        embed=opts.embed,
        quiet=opts.quiet,
        status=status,
    )


def _check_score_options(input_path: str, opts: ScoreOptions) -> None:
    """The option checks that need no loading: a bad output path fails at once, not hours in."""
    from qaq.io.datasets import DataError, refuse_inputs
    from qaq.io.scorefile import check_scores_path

    if not opts.output and not opts.dry_run:
        raise click.UsageError("give -o/--output (or --dry-run)")
    if opts.engine == "ray" and opts.dry_run:
        raise click.UsageError("--dry-run calibrates on this machine: use it without --engine ray")
    if opts.engine == "local" and any(opts.ray_only):
        raise click.UsageError("--ray-address, --concurrency and --shards-dir need --engine ray")
    if opts.engine == "ray" and opts.embed:
        raise click.UsageError("--embed is supported by the local engine only: use it without --engine ray")
    if opts.output:
        from qaq.io.embeddingfile import embeddings_path

        # --embed writes a second file: it must not land on an input either.
        outputs = [opts.output] + ([str(embeddings_path(opts.output))] if opts.embed else [])
        try:
            check_scores_path(opts.output)
            refuse_inputs(outputs, [input_path])
        except DataError as exc:
            raise click.ClickException(str(exc)) from None


def _scoring_config(opts: ScoreOptions) -> ScoringConfig:
    """The scoring options as a config (and, for --engine ray, the check that Ray is installed)."""
    from qaq.io.datasets import DataError
    from qaq.scoring.engine import ScoringConfig
    from qaq.scoring.templates import DEFAULT_REVERSE_INSTRUCTION, DEFAULT_SYSTEM, TemplateError

    try:
        config = ScoringConfig(
            device=opts.device,
            dtype=opts.dtype,
            max_length=opts.max_length,
            batch_tokens=opts.batch_tokens,
            compile=opts.compile_mode,
            template=opts.template,
            system=DEFAULT_SYSTEM if opts.system_prompt is None else opts.system_prompt,
            reverse_instruction=opts.reverse_instruction or DEFAULT_REVERSE_INSTRUCTION,
            trust_remote_code=opts.trust_remote_code,
        )
    except (DataError, TemplateError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if opts.engine == "ray":
        from qaq.scoring.ray_engine import RayNotInstalled, require_ray

        try:
            require_ray()
        except RayNotInstalled as exc:
            raise click.ClickException(str(exc)) from None
    return config


def _load_data(input_path: str, *, split: str | None, load_options: dict[str, str | None]) -> pd.DataFrame:
    """INPUT's rows, with a line on stderr for how many are scored and which are not."""
    from qaq.io.datasets import DataError, skipped_rows
    from qaq.io.inputs import load_inputs
    from qaq.scoring.templates import TemplateError

    try:
        data = load_inputs(input_path, split=split, **load_options)
    except (DataError, TemplateError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    skipped = skipped_rows(data)
    click.echo(f"{input_path}: {len(data)} rows, {len(data) - len(skipped)} to score", err=True)
    if len(skipped):
        shown = ", ".join(f"{r.id} (line {r.line}: {r.skip})" for r in skipped.head(10).itertuples())
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        click.echo(f"not scored: {len(skipped)} rows with an empty query or answer: {shown}{more}", err=True)
    return data

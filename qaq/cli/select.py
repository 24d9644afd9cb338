"""`qaq select`: apply a recipe to a score file and write the selected rows in the original format."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qaq.cli import cli

if TYPE_CHECKING:
    import pandas as pd

    from qaq.io.runrecord import RunRecord
    from qaq.select.recipes import AnyRecipe, Recipe


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
    help="Write a JSON manifest: recipe, input hashes (SCORES, --data, --embeddings when read), models, "
    "counts per stratum and a hash of the selected ids. Pass it back as --recipe to reproduce the selection.",
)
@click.option(
    "--embeddings",
    "embeddings",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The rows' embeddings (qaq score --embed), read by a recipe's \"dedup\". By default the "
    "file beside SCORES (scores.parquet -> scores.embed.npz); not read without dedup.",
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
    embeddings: str | None,
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
    "global"; "boundaries": [b1, b2, ...] instead of "bins": explicit log PPL(Q) cut points
    (nats/token; stratum i holds b_i <= log PPL(Q) < b_i+1); "per_stratum_quota": true;
    "include"/"exclude": lists of ids; "exclude_flags": rows raising any of these flags are
    not selected (negative_rmi, truncated, echo, empty, invalid_python); "dedup":
    {"threshold": 0.95, "keep": "highest_rmi" or "first", "model": M, "span": "qa"} keeps one
    row of each group of near-duplicates (cosine of M's embeddings >= threshold; needs the
    embedding file, see --embeddings). A budget in (0, 1] is a fraction of all rows (rounded
    down), above 1 a row count. Ties go to the earlier row.

    Example: qaq select scores.parquet --data data.jsonl -r qaq.json -o selected.jsonl --manifest m.json
    """
    recipe, embeddings = _check_targets(
        scores_path,
        recipe_spec,
        output=output,
        discarded=discarded,
        manifest=manifest,
        data_path=data_path,
        embeddings=embeddings,
    )
    picked, written = _select_and_export(
        scores_path,
        recipe,
        output=output,
        data_path=data_path,
        discarded=discarded,
        manifest=manifest,
        score_prefix=score_prefix,
        embeddings=embeddings,
    )
    _report(picked, written, recipe, recipe_spec=recipe_spec, output=output)


def _check_targets(
    scores_path: str,
    recipe_spec: str,
    *,
    output: str,
    discarded: str | None,
    manifest: str | None,
    data_path: str | None,
    embeddings: str | None,
) -> tuple[AnyRecipe, str | None]:
    """Everything that can be checked is checked before anything is written.

    Returns:
        The recipe, and the embedding file its dedup reads (None without dedup).
    """
    from qaq.io.datasets import DataError, refuse_inputs
    from qaq.io.export import ExportError, output_format
    from qaq.select.recipe_parsing import parse_recipe
    from qaq.select.recipes import RecipeError

    targets = [Path(p).resolve() for p in (output, discarded, manifest) if p]
    if len(set(targets)) != len(targets):
        raise click.UsageError("--output, --discarded and --manifest must be different files")
    try:
        refuse_inputs(targets, [p for p in (scores_path, data_path, embeddings) if p])
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
    return recipe, _embeddings_file(recipe, scores_path, embeddings)


def _embeddings_file(recipe: Recipe, scores_path: str, embeddings: str | None) -> str | None:
    """The embedding file a recipe's dedup reads: --embeddings, else the one beside SCORES; None without dedup.

    Raises:
        click.ClickException: a dedup recipe whose embedding file does not exist.
    """
    from qaq.io.embeddingfile import embeddings_path

    if recipe.dedup is None:
        if embeddings:
            click.echo("warning: --embeddings is not read: the recipe has no 'dedup'", err=True)
        return None
    path = embeddings or str(embeddings_path(scores_path))
    if not Path(path).is_file():
        how = "the --embeddings file" if embeddings else "no --embeddings given, and the file beside SCORES"
        raise click.ClickException(
            f"the recipe's 'dedup' needs the rows' embeddings: {how} {path!r} does not exist "
            "(score with `qaq score --embed`, or pass --embeddings FILE)"
        )
    return path


def _select_and_export(
    scores_path: str,
    recipe: Recipe,
    *,
    output: str,
    data_path: str | None,
    discarded: str | None,
    manifest: str | None,
    score_prefix: str | None,
    embeddings: str | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Load the scores (and --data's rows, the embeddings), select, write the outputs; returns
    the table and what was written."""
    from qaq.io.datasets import DataError, file_sha256
    from qaq.io.embeddingfile import load_embeddings
    from qaq.io.export import ExportError, export_selection
    from qaq.io.runrecord import run_record
    from qaq.io.scorefile import load_scores
    from qaq.select.recipes import RecipeError
    from qaq.select.selection import select
    from qaq.select.selection_report import dedup_counts

    try:
        scores, meta = load_scores(scores_path)
        run = run_record(meta, where=f"score file {scores_path}")
        table, source, data_sha256 = _rows_with_scores(scores, run, scores_path=scores_path, data_path=data_path)
        picked = select(table, recipe, embeddings=load_embeddings(embeddings) if embeddings else None)
        inputs: dict[str, dict[str, str | None]] = {
            "scores": {"path": str(Path(scores_path).resolve()), "sha256": file_sha256(scores_path)}
        }
        if data_path:
            inputs["data"] = {"path": str(Path(data_path).resolve()), "sha256": data_sha256}
        if embeddings:
            inputs["embeddings"] = {"path": str(Path(embeddings).resolve()), "sha256": file_sha256(embeddings)}
        dedup = dedup_counts(picked)
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
            extra={"score_format": run.format, **({"dedup": dedup} if dedup is not None else {})},
        )
    except RecipeError as exc:
        raise click.ClickException(f"bad recipe: {exc}") from None
    except (DataError, ExportError, ValueError) as exc:  # ValueError: attach_scores' id mismatch
        raise click.ClickException(str(exc)) from None
    return picked, written


def _rows_with_scores(
    scores: pd.DataFrame, run: RunRecord, *, scores_path: str, data_path: str | None
) -> tuple[pd.DataFrame, str, str | None]:
    """The rows to select from with their scores, the file to copy rows from, and --data's sha256."""
    from qaq.columns import QA_HASH
    from qaq.io.inputs import load_inputs
    from qaq.select.selection import attach_scores

    if data_path:
        # Load the data as it was loaded for scoring, so hashed ids come out the same.
        data = load_inputs(data_path, **dict(run.source.load_kwargs()))
        if "files" in data.attrs["qaq_source"]:  # the export re-reads rows from one source
            raise click.ClickException(
                f"{data_path} is a directory of data files: give one file or a saved "
                "Hugging Face dataset folder as --data"
            )
        table = attach_scores(data, scores)  # checks each row's text (qa_hash)
        data_sha256 = data.attrs["qaq_source"]["sha256"]
        if QA_HASH not in scores.columns and run.source.sha256 not in (None, data_sha256):
            click.echo(
                f"warning: {data_path} is not the file that was scored (sha256 differs) and this score "
                "file has no per-row text hashes (qa_hash) to check the rows by: they were matched on "
                "id alone",
                err=True,
            )
        return table, data_path, data_sha256
    if run.carries_rows(scores.columns):
        return scores, scores_path, None  # the authors' files carry the rows themselves
    hint = f" ({run.source.path})" if run.source.path else ""
    raise click.ClickException(
        f"{scores_path} holds scores, not the rows: pass --data with the dataset it was scored from{hint}"
    )


def _report(picked: pd.DataFrame, written: dict[str, Any], recipe: Recipe, *, recipe_spec: str, output: str) -> None:
    """The count selected, the recipe's warnings, and whether a manifest given as --recipe still matches."""
    from qaq.io.export import ExportError, read_manifest
    from qaq.select.selection_report import dedup_summary, selection_notes, stratum_counts

    click.echo(f"selected {written['n_selected']} of {len(picked)} rows ({recipe.method}) -> {output}", err=True)
    summary = dedup_summary(picked, recipe)
    if summary is not None:
        click.echo(summary, err=True)
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

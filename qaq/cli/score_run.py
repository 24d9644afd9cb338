"""The runs behind `qaq score`: on this machine or on a Ray cluster (both resume from the score cache;
the Ray run also from its Parquet shards)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from qaq.jobs import StatusReporter
    from qaq.scoring.backend import ScoringModel
    from qaq.scoring.engine import ScoringConfig


def score_locally(
    data: pd.DataFrame,
    models: dict[str, str],
    *,
    config: ScoringConfig,
    output: str | None,
    dry_run: bool,
    cache_dir: str | None,
    no_cache: bool,
    embed: bool = False,
    quiet: bool,
    status: StatusReporter | None,
) -> None:
    """The --engine local run: load the models, then estimate (--dry-run) or score and write OUTPUT
    (with ``embed``, and its embedding file beside it, both or neither)."""
    from qaq.io.datasets import DataError
    from qaq.io.embeddingfile import save_scores_and_embeddings
    from qaq.io.scorefile import write_scores
    from qaq.scoring.cache import CacheError, ScoreCache
    from qaq.scoring.engine import load_scoring_model, score_frame, score_frame_embedded
    from qaq.scoring.models import ModelNotFound
    from qaq.scoring.templates import TemplateError

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
            _report_estimates(loaded, data, config)
            return
        cache = None if no_cache else ScoreCache(cache_dir)
        progress = Progress(quiet=quiet, status=status)
        embeddings, embedded = None, None
        try:
            if embed:
                scores, embeddings = score_frame_embedded(data, loaded, config=config, cache=cache, progress=progress)
            else:
                scores = score_frame(data, loaded, config=config, cache=cache, progress=progress)
        finally:
            progress.close()
            if cache is not None:
                cache.close()
        meta = dict(scores.attrs["qaq_run"], source=data.attrs.get("qaq_source", {}))
        assert output is not None, "checked at the start: -o is required without --dry-run, which returned above"
        if embeddings is None:
            write_scores(scores, output, meta)
        else:
            embedded = save_scores_and_embeddings(scores, output, meta, embeddings)
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
    _report_scored(scores, data, meta, output=output, max_length=config.max_length, embedded=embedded)


def _report_estimates(loaded: dict[str, ScoringModel], data: pd.DataFrame, config: ScoringConfig) -> None:
    """--dry-run: each model's token count and estimated time, from a short calibration."""
    from qaq.scoring.estimate import duration_text, estimate_cost

    for name, sm in loaded.items():
        est = estimate_cost(sm, data, config=config)
        if not est["rows"]:
            click.echo(f"{name}: nothing to score: every row has an empty query or answer", err=True)
            continue
        click.echo(
            f"{name}: {est['rows']} rows, {est['tokens']:,} tokens forwarded "
            f"({est['truncated_rows']} rows truncated at {config.max_length}); calibration on "
            f"{est['calibration_rows']} rows: {est['calibration_tokens_per_s']:,.0f} tokens/s "
            f"on {sm.device} -> "
            f"estimated {duration_text(est['estimated_seconds'])}"
            + (" or less (the run compiles the model; the calibration ran eagerly)" if est["will_compile"] else "")
        )


def _report_scored(
    scores: pd.DataFrame,
    data: pd.DataFrame,
    meta: dict[str, Any],
    *,
    output: str,
    max_length: int,
    embedded: Path | None = None,
) -> None:
    """After a local run: rows scored and cached per model, the rows --max-length cut heavily, and
    the files written (``embedded``: the embedding file, with --embed)."""
    from qaq.scoring.report import TRUNCATION_NOTICE_SHARE, heavily_truncated

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
    also = f" and their embeddings {embedded}" if embedded is not None else ""
    click.echo(f"wrote {output} ({len(scores)} rows){also}", err=True)


def score_on_ray(
    data: pd.DataFrame,
    models: dict[str, str],
    *,
    config: ScoringConfig,
    output: str,
    address: str | None,
    gpus_per_worker: float,
    concurrency: int | None,
    shards_dir: str | None,
    rows_per_shard: int,
    cache_dir: str | None,
    no_cache: bool,
    quiet: bool,
    status: StatusReporter | None,
) -> None:
    """The --engine ray branch of `qaq score` (qaq.scoring.ray_engine writes the output and its metadata)."""
    from qaq.io.datasets import DataError
    from qaq.scoring.cache import CacheError, ScoreCache
    from qaq.scoring.models import ModelNotFound
    from qaq.scoring.ray_engine import RayEngineError, score_with_ray

    click.echo(f"ray: {address or 'a local Ray instance'}; shards in {shards_dir or str(output) + '.shards'}", err=True)
    progress = Progress(quiet=quiet, status=status)
    cache = None
    try:
        cache = None if no_cache else ScoreCache(cache_dir)
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
            cache=cache,
            progress=progress,
        )
    except CacheError as exc:
        raise click.ClickException(f"{exc} (--cache-dir DIR, or --no-cache)") from None
    except (ModelNotFound, DataError, RayEngineError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.close()
        if cache is not None:
            cache.close()
    if status is not None:
        status.finished(output, len(scores))
    meta = scores.attrs["qaq_run"]
    for name, run in meta["models"].items():
        ray_run = meta["ray"]["models"][name]
        from_cache = ray_run["rows_from_cache"]
        click.echo(
            f"{name}: {run['rows_scored']} rows scored, {from_cache} from the score cache, "
            f"{run['rows_cached'] - from_cache} from shards "
            f"({ray_run['units_cached']} of {ray_run['units']} shards were done), on "
            f"{', '.join(ray_run['devices'])}, {run['seconds']:.1f} s",
            err=True,
        )
    click.echo(f"wrote {output} ({len(scores)} rows)", err=True)


class Progress:
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

"""The token view of one row: which models can draw it, how they are configured, what it will cost,
and how its numbers compare with the score file's.

No Streamlit here: :mod:`qaq.app.example` draws the view and keeps the loaded model under
``st.cache_resource`` (:func:`qaq.app.runs.scoring_model`); the per-token numbers come from
:meth:`qaq.scoring.backend.ScoringModel.token_nlls` (a :class:`qaq.scoring.tokens.TokenNlls`).

The cost is said before the view runs, from measurements only: the row's token counts (the score
table's), a token rate measured here by an earlier view with the same model and config (kept in
:data:`qaq.app.paths.TIMINGS_FILE`, so a restarted server still knows it) or else the score run's
own rate, and the model's load time measured here, when it is not loaded yet.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from qaq.app.score_setup import model_spec
from qaq.app.table import Workspace
from qaq.columns import score_column
from qaq.io.files import DataError, write_atomic
from qaq.scoring.engine import ScoringConfig, scoring_config
from qaq.scoring.estimate import duration_text

if TYPE_CHECKING:
    from qaq.scoring.tokens import TokenNlls

# What the view compares with the score table, in this order.
VIEW_FIELDS = ("nll_q", "nll_q_given_a", "rmi", "nll_a", "nll_a_given_q", "ifd")
AGREE = 1e-4  # nats: the view and the score file agree within this when their precisions match


def view_models(ws: Workspace) -> list[str]:
    """Scored models the token view can load (a known spec), the weak one first."""
    usable = [m for m in ws.models if model_spec(ws, m) is not None]
    return sorted(usable, key=lambda m: m != ws.weak)


def view_config(ws: Workspace, *, auto_device: Callable[[], str]) -> ScoringConfig:
    """The scoring config of the score file (same template, system prompt, max length, dtype).

    A GPU device that this machine lacks (``auto_device()``, called only then, says which it has)
    becomes ``auto``: a file scored on a GPU still gets a token view on a laptop.
    """
    cfg = scoring_config(ws.meta)
    if cfg.device in ("auto", "cpu"):
        return cfg
    kind = cfg.device.split(":")[0]
    return cfg if auto_device().startswith(kind) else replace(cfg, device="auto")


def file_placement(ws: Workspace, model: str) -> str | None:
    """``"fp32 on cpu"``: what the score file's numbers of ``model`` were computed in (None: not recorded)."""
    record = ws.run.models.get(model)
    if record is None or record.precision is None:
        return None
    return f"{record.precision} on {record.device}" if record.device else record.precision


def comparison(ws: Workspace, row: pd.Series, model: str, view: TokenNlls) -> pd.DataFrame:
    """The view's means next to the score file's values of the row: index field, columns
    ``token view``, ``score file`` and ``difference`` (view - file; NaN where either is missing)."""
    means = view.means
    mine = [means[f] for f in VIEW_FIELDS]
    theirs = [_float(row.get(score_column(model, f))) for f in VIEW_FIELDS]
    out = pd.DataFrame({"token view": mine, "score file": theirs}, index=pd.Index(VIEW_FIELDS, name="field"))
    out["difference"] = out["token view"] - out["score file"]
    return out


def agreement(ws: Workspace, model: str, view: TokenNlls, table: pd.DataFrame) -> tuple[bool, str]:
    """(whether all is as it should be, a sentence saying how the view's numbers relate to the file's)."""
    here, there = view.placement, file_placement(ws, model)
    gap = float(table["difference"].abs().max()) if table["difference"].notna().any() else math.nan
    record = ws.run.models.get(model)
    if record is not None and record.identity and record.identity != view.identity:
        return False, f"The model's files differ from the ones the score file was computed with ({gap:.4f} nats apart)."
    if there is None:
        return (
            True,
            f"The score file does not say what precision it was computed in; the largest difference is {gap:.4f} nats.",
        )
    if not math.isfinite(gap):
        return True, "The score file has no scores for this row."
    if there.split(" on ")[0] == view.precision:
        if gap <= AGREE:
            return True, f"Same precision as the score file ({there}): the means agree within {AGREE:g} nats."
        return False, (
            f"Same precision as the score file ({there}), yet the means differ by up to {gap:.4f} nats: "
            "was the file scored with another template, max length or model version?"
        )
    return True, (
        f"The score file was computed in {there}, this view in {here}: the numbers differ by up to "
        f"{gap:.4f} nats (precision, not a bug)."
    )


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


# ------------------------------------------------------------------------------------ the cost


@dataclass(frozen=True)
class Timing:
    """What the token view measured on this machine for one model and config."""

    load_seconds: float | None = None  # loading the model (once per server)
    tokens_per_second: float | None = None  # the view's two forwards, tokens forwarded per second
    measured: str = ""  # when (ISO 8601, UTC)


def timing_key(spec: str, config_json: str) -> str:
    """The key of a model + config in the timings file (what :func:`qaq.app.runs.scoring_model` is keyed by)."""
    return hashlib.sha256(json.dumps([spec, config_json]).encode()).hexdigest()[:16]


def read_timing(path: Path, key: str) -> Timing | None:
    """The timing kept for ``key``, or None (no file, no entry, or a file that does not read)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))[key]
        return Timing(**{k: entry.get(k) for k in ("load_seconds", "tokens_per_second")}, measured=entry["measured"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_timing(
    path: Path, key: str, *, load_seconds: float | None = None, tokens_per_second: float | None = None
) -> None:
    """Keep what a view measured (fields left None keep their earlier value); never fails the view."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, dict):
            entries = {}
    except (OSError, ValueError):
        entries = {}
    entry = dict(entries.get(key) or {})
    for name, value in (("load_seconds", load_seconds), ("tokens_per_second", tokens_per_second)):
        if value is not None and math.isfinite(value):
            entry[name] = round(float(value), 3)
    entry["measured"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    entries[key] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(entries, indent=1, sort_keys=True) + "\n")
    except (OSError, DataError):
        pass  # an estimate for next time is not worth an error now


@dataclass(frozen=True)
class Cost:
    """What a token view will cost, as far as it was measured."""

    tokens: int | None  # tokens its two forwards run (None: the score table has no counts)
    tokens_per_second: float | None
    rate_source: str  # where the rate comes from ("measured here", "the score run's")
    load_seconds: float | None  # the model's load time measured here; None: unknown
    loaded: bool  # the model is loaded in this server already

    @property
    def seconds(self) -> float | None:
        """The predicted time, or None where a part of it was never measured."""
        if self.tokens is None or not self.tokens_per_second:
            return None
        load = 0.0 if self.loaded else self.load_seconds
        return None if load is None else self.tokens / self.tokens_per_second + load

    def text(self) -> str:
        """``"~1,234 tokens, about 6 s at 210 tokens/s (measured here)"``, plus the load when due."""
        parts = [f"~{self.tokens:,} tokens" if self.tokens is not None else "token count unknown"]
        if self.tokens is not None and self.tokens_per_second:
            parts.append(
                f"{_about(self.tokens / self.tokens_per_second)} at "
                f"{self.tokens_per_second:,.0f} tokens/s ({self.rate_source})"
            )
        if not self.loaded:
            parts.append(
                f"+ {_about(self.load_seconds)} to load the model (measured here)"
                if self.load_seconds is not None
                else "+ loading the model once per server (not timed here yet)"
            )
        return ", ".join(parts)


def _about(seconds: float) -> str:
    """``"about 6 s"`` (:func:`qaq.scoring.estimate.duration_text`), or ``"under 1 s"``."""
    return "under 1 s" if seconds < 0.5 else f"about {duration_text(seconds)}"


def view_tokens(row: pd.Series, model: str) -> int | None:
    """Tokens the view's two forwards run for a row: each pass holds Q and A once, so twice the
    row's scored tokens (the few template tokens between them are not counted)."""
    n = [_float(row.get(score_column(model, f))) for f in ("n_tokens_q", "n_tokens_a")]
    return int(2 * sum(n)) if all(math.isfinite(v) for v in n) else None


def view_cost(ws: Workspace, row: pd.Series, model: str, *, timing: Timing | None, loaded: bool) -> Cost:
    """The :class:`Cost` of the token view of ``row`` with ``model``: a rate measured here by an
    earlier view, else the score run's (its tokens forwarded over its seconds)."""
    rate, source = (timing.tokens_per_second, "measured here") if timing and timing.tokens_per_second else (None, "")
    record = ws.run.models.get(model)
    if rate is None and record is not None and record.tokens_forwarded and record.seconds:
        rate, source = record.tokens_forwarded / record.seconds, "the score run's rate"
    return Cost(view_tokens(row, model), rate, source, timing.load_seconds if timing else None, loaded)

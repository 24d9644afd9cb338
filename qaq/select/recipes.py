"""Selection recipes: small JSON specs, parsed and validated once into typed records.

A recipe names one selection arm of the QAQ paper (METHOD.md section 4)::

    {"method": "rmi_band", "model": M, "lo": 0.5, "hi": 0.75, "ranking": "stratified", "bins": 10}
    {"method": "diff_high", "strong": S, "weak": W, "budget": 0.25, "ranking": "stratified"}
    {"method": "diff_low" | "sum_high" | "sum_low", ...same keys...}
    {"method": "diff_high", "strong": S, "weak": W, "threshold": 0.1}
    {"method": "ifd", "model": M, "budget": 0.25}
    {"method": "random", "budget": 0.25, "seed": 0}

Every method also takes ``"include"``, ``"exclude"`` (lists of ids), ``"exclude_flags"``
(flag names) and ``"dedup"`` (near-duplicates); the methods that stratify take ``"boundaries"``
instead of ``"bins"``::

    {"method": "rmi_band", "model": M, "lo": 0.5, "hi": 0.75, "boundaries": [1.5, 2.5, 3.5],
     "exclude_flags": ["truncated", "invalid_python"],
     "dedup": {"threshold": 0.95, "keep": "highest_rmi", "model": M, "span": "qa"}}

:func:`~qaq.select.recipe_parsing.parse_recipe` returns one frozen record per arm family, each
holding only its own keys: :class:`BandRecipe` (``rmi_band``), :class:`PairBudgetRecipe` and
:class:`PairThresholdRecipe` (``diff_*``/``sum_*`` with a budget or a threshold; both are
:class:`PairRecipe`), :class:`IfdRecipe` and :class:`RandomRecipe`. All are :class:`Recipe`
(method, include, exclude, exclude_flags, dedup: a :class:`Dedup`); all but random are :class:`StratifiedRecipe` (bins,
boundaries). :data:`AnyRecipe` is their union, for code that handles each in turn.

Semantics (the decisions, in one place):

- **Ranks** are :mod:`qaq.select.strata` ranks in (0, 1]: ``rank(pct=True)`` over the table
  (``"global"``) or within each PPL(Q) stratum of the model (``"stratified"``, the default).
- **Strata** are cut on log PPL(Q), the ``NAME_nll_q`` column (mean NLL of the query in nats
  per token; PPL(Q) = exp of it), each model by its own. By default ``bins`` (K = 10) quantile
  strata: equal row counts, rows tied on an edge split by source row order.
- **boundaries** ``[b_1, ..., b_{K-1}]``: explicit cut points in the same unit (log PPL(Q),
  nats per token, as the app's PPL(Q) axes and :func:`qaq.select.stratum_stats.stratum_summary`
  show it), finite and strictly increasing, instead of ``bins`` (giving both is an error).
  K = ``len(boundaries) + 1``; stratum ``i`` holds ``b_i <= log PPL(Q) < b_{i+1}``, with
  ``b_0 = -inf`` and ``b_K = +inf``. Closed below, like a quantile stratum (which starts at its
  smallest value): a value on a cut point belongs to the stratum above it, and so does every
  row tied with it. The same cut points apply to both models of a pair. A stratum that no row
  falls into stays empty: it is not listed in the counts and gets no quota. Accepted wherever
  ``bins`` is: they shape the ranks (``"stratified"``), the quota (``per_stratum_quota``) and
  the counts per stratum a selection reports.
- **rmi_band** keeps ``lo < NAME_rank <= hi`` (half-open, so adjacent bands partition the rows).
  Stratified, every stratum keeps the same share.
- **diff_* / sum_*** use ``diff = r_strong - r_weak`` and ``sum = r_strong + r_weak``. With a
  ``budget``, ``*_high`` keeps the largest values and ``*_low`` the smallest. With a
  ``threshold`` t instead: ``diff_high`` keeps ``diff > t``, ``diff_low`` keeps ``diff < t``,
  ``sum_high`` keeps ``sum > t``, ``sum_low`` keeps ``sum < t`` (strict).
- **ifd** (Cherry LLM's rule): drops rows with ``IFD > 1`` or no IFD, keeps the highest IFD.
- **random**: a seeded uniform sample (numpy ``default_rng(seed)``) of the scored rows.
- **budget**: a number in (0, 1] is a fraction of *all* rows of the table, scored or not,
  rounded down: ``int(len(table) * budget)``, exactly as the authors' README does
  (``int(len(df) * 0.25)``); above 1 it is a row count and must be a whole number. Fewer rows
  are kept when fewer are eligible.
- **ties** (equal keys at the budget's edge, equal PPL(Q) at a stratum edge) are broken by
  source row order (the ``row`` column, else frame order): the earlier row wins. This is what
  the authors' ``df.nlargest(k, "diff")`` does (``keep="first"``), so their recipe,
  ``{"method": "diff_high", "ranking": "global", "budget": 0.25}``, reproduces their ids.
- **per_stratum_quota** (budget arms ``diff_*``, ``sum_*``, ``ifd``): the budget is split
  equally over the strata of the strong model's (``ifd``: the model's) PPL(Q) that hold eligible
  rows; the first ``budget % S`` strata (lowest PPL(Q)) get one more; a stratum short of rows
  keeps what it has (no carry-over).
- **eligible rows**: rows with a non-empty ``skip`` or a missing score used by the rule are never
  selected; ``random`` samples rows whose every scored model has an RMI.
- **exclude_flags** (names from :data:`qaq.select.flags.FLAG_NAMES`: ``negative_rmi``,
  ``truncated``, ``echo``, ``empty``, ``invalid_python``): rows that raise any of them are taken
  out before the rule fills its budget, like excluded ids; the ranks and strata are still
  computed over every row. The model flags (``negative_rmi``, ``truncated``'s token count) are
  read from the recipe's models (random: every scored model). Kept in
  :data:`~qaq.select.flags.FLAG_NAMES` order.
- **dedup** ``{"threshold": t, "keep": "highest_rmi" | "first", "model": M, "span": "qa"}``:
  rows are grouped into near-duplicates by the cosine of model M's embeddings
  (:func:`qaq.select.dedup.duplicate_groups`: pairs at cosine >= t, t in (0, 1], among each
  row's nearest neighbours, joined into groups), and every group keeps one row: the highest
  ``M_rmi`` (ties and unscored rows to the earlier row) or the earliest row. The others are
  taken out before the rule, like flagged rows; ranks and strata still count every row.
  Needs the score file's embeddings (``qaq score --embed``, ``qaq select --embeddings``).
- **include / exclude** (lists of ids) win over the rule, its flags and dedup: excluded rows are
  taken out before the rule fills its budget, included rows are added on top of it (also when
  flagged or dropped as duplicates). An included id must exist and be eligible; excluded ids
  absent from the table are ignored (a shared blocklist).
- A manifest written by :func:`qaq.io.export.write_manifest` is accepted as a recipe: the recipe
  under its ``"recipe"`` key is used. :func:`recipe_to_dict` writes the keys in a fixed order,
  ``boundaries`` in the place of ``bins``, ``exclude_flags`` only when there are some and
  ``dedup`` only when given.

:mod:`qaq.select.recipe_parsing` parses and validates a recipe into these records;
:func:`qaq.select.selection.select` applies a recipe to a scored table.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal, get_args

from qaq.maps.vectors import MapSpan
from qaq.select.flags import FlagName
from qaq.select.strata import DEFAULT_BINS, Ranking

Method = Literal["rmi_band", "diff_high", "diff_low", "sum_high", "sum_low", "ifd", "random"]
PairMethod = Literal["diff_high", "diff_low", "sum_high", "sum_low"]

# The pair arms: method -> the column it ranks by (see qaq.select.disagreement.add_disagreement).
PAIR_SCORE: dict[str, str] = {"diff_high": "diff", "diff_low": "diff", "sum_high": "sum", "sum_low": "sum"}
PAIR_METHODS: tuple[PairMethod, ...] = get_args(PairMethod)
BUDGET_METHODS: tuple[str, ...] = PAIR_METHODS  # the older name of the pair arms
METHODS: tuple[Method, ...] = get_args(Method)
DedupKeep = Literal["highest_rmi", "first"]
DEDUP_KEEPS: tuple[DedupKeep, ...] = get_args(DedupKeep)


class RecipeError(ValueError):
    """A recipe that cannot be applied; the message says what to change."""


def _some(items: list[str], k: int = 5) -> str:
    shown = ", ".join(map(repr, items[:k]))
    return shown + (f" (and {len(items) - k} more)" if len(items) > k else "")


# --------------------------------------------------------------------------------------------
# the records


@dataclass(frozen=True, kw_only=True)
class Dedup:
    """A recipe's ``"dedup"``: keep one row of each group of near-duplicates.

    Attributes:
        threshold: the cosine at or above which two rows are near-duplicates, in (0, 1].
        model: the model whose embeddings (and, for ``highest_rmi``, RMI) are read.
        keep: ``"highest_rmi"`` (the group's highest ``<model>_rmi``) or ``"first"`` (earliest row).
        span: the embeddings compared (:func:`qaq.maps.vectors.map_vectors`): ``"q"``, ``"a"`` or ``"qa"``.
    """

    threshold: float
    model: str
    keep: DedupKeep = "highest_rmi"
    span: MapSpan = "qa"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the recipe's key order."""
        return {"threshold": self.threshold, "keep": self.keep, "model": self.model, "span": self.span}


@dataclass(frozen=True, kw_only=True)
class Recipe(ABC):
    """What every parsed recipe has (see the module docstring for the semantics).

    Made by :func:`~qaq.select.recipe_parsing.parse_recipe`, which checks every value; the
    subclasses hold each arm's keys.

    Attributes:
        method: one of :data:`METHODS`.
        include: ids always selected.
        exclude: ids never selected.
        exclude_flags: flag names (:data:`qaq.select.flags.FLAG_NAMES`) whose rows are never
            selected by the rule.
        dedup: near-duplicates to drop before the rule, or None.
    """

    method: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    exclude_flags: tuple[FlagName, ...] = ()
    dedup: Dedup | None = None

    @property
    @abstractmethod
    def models(self) -> tuple[str, ...]:
        """The scoring models the recipe reads."""

    @abstractmethod
    def _rule_items(self) -> dict[str, Any]:
        """The method's own keys, JSON-ready, in :func:`recipe_to_dict`'s order."""


@dataclass(frozen=True, kw_only=True)
class StratifiedRecipe(Recipe):
    """A recipe that ranks, splits or reports by PPL(Q) strata.

    Attributes:
        bins: K, the number of quantile strata (used when ``boundaries`` is None).
        boundaries: explicit log PPL(Q) cut points, strictly increasing (K = len + 1).
    """

    bins: int = DEFAULT_BINS
    boundaries: tuple[float, ...] | None = None

    @property
    @abstractmethod
    def stratify_model(self) -> str:
        """The model whose PPL(Q) strata the recipe reports and splits quotas by."""

    @property
    def quantile_bins(self) -> int | None:
        """``bins`` for :mod:`qaq.select.strata`: None when the boundaries define the strata."""
        return None if self.boundaries is not None else self.bins

    @property
    def n_strata(self) -> int:
        """K, the number of strata."""
        return self.bins if self.boundaries is None else len(self.boundaries) + 1

    def _strata_items(self) -> dict[str, Any]:
        return {"bins": self.bins} if self.boundaries is None else {"boundaries": list(self.boundaries)}


@dataclass(frozen=True, kw_only=True)
class BandRecipe(StratifiedRecipe):
    """``rmi_band``: keep ``lo < NAME_rank <= hi``.

    Attributes:
        model: the scoring model.
        lo: lower band edge, exclusive (a rank in [0, 1]).
        hi: upper band edge, inclusive.
        ranking: ``"stratified"`` or ``"global"``.
    """

    method: Literal["rmi_band"] = "rmi_band"
    model: str
    lo: float
    hi: float
    ranking: Ranking = "stratified"

    @property
    def models(self) -> tuple[str, ...]:
        return (self.model,)

    @property
    def stratify_model(self) -> str:
        return self.model

    def _rule_items(self) -> dict[str, Any]:
        return {"model": self.model, "lo": self.lo, "hi": self.hi, "ranking": self.ranking, **self._strata_items()}


@dataclass(frozen=True, kw_only=True)
class PairRecipe(StratifiedRecipe):
    """``diff_high``, ``diff_low``, ``sum_high``, ``sum_low``: rank by ``diff`` or ``sum``.

    Attributes:
        method: one of :data:`PAIR_METHODS`.
        strong: the strong model.
        weak: the weak model (another one).
        ranking: ``"stratified"`` or ``"global"``.
    """

    method: PairMethod
    strong: str
    weak: str
    ranking: Ranking = "stratified"

    @property
    def models(self) -> tuple[str, ...]:
        return (self.strong, self.weak)

    @property
    def stratify_model(self) -> str:
        return self.strong

    @property
    def score(self) -> str:
        """The column the arm ranks by: ``"diff"`` or ``"sum"``."""
        return PAIR_SCORE[self.method]

    @property
    def keeps_high(self) -> bool:
        """``*_high`` keeps the largest values, ``*_low`` the smallest."""
        return self.method.endswith("_high")


@dataclass(frozen=True, kw_only=True)
class PairBudgetRecipe(PairRecipe):
    """A pair arm that keeps a budget of rows.

    Attributes:
        budget: a fraction in (0, 1] (float) or a row count (int).
        per_stratum_quota: split the budget equally over the strong model's strata.
    """

    budget: float | int
    per_stratum_quota: bool = False

    def _rule_items(self) -> dict[str, Any]:
        return {
            "strong": self.strong,
            "weak": self.weak,
            "budget": self.budget,
            "ranking": self.ranking,
            **self._strata_items(),
            "per_stratum_quota": self.per_stratum_quota,
        }


@dataclass(frozen=True, kw_only=True)
class PairThresholdRecipe(PairRecipe):
    """A pair arm that keeps every row beyond a threshold (strict).

    Attributes:
        threshold: ``*_high`` keeps ``score > threshold``, ``*_low`` keeps ``score < threshold``.
    """

    threshold: float

    def _rule_items(self) -> dict[str, Any]:
        return {
            "strong": self.strong,
            "weak": self.weak,
            "threshold": self.threshold,
            "ranking": self.ranking,
            **self._strata_items(),
        }


@dataclass(frozen=True, kw_only=True)
class IfdRecipe(StratifiedRecipe):
    """``ifd`` (Cherry LLM): drop ``IFD > 1``, keep the highest IFD.

    Attributes:
        model: the scoring model.
        budget: a fraction in (0, 1] (float) or a row count (int).
        per_stratum_quota: split the budget equally over the model's strata.
    """

    method: Literal["ifd"] = "ifd"
    model: str
    budget: float | int
    per_stratum_quota: bool = False

    @property
    def models(self) -> tuple[str, ...]:
        return (self.model,)

    @property
    def stratify_model(self) -> str:
        return self.model

    def _rule_items(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "budget": self.budget,
            **self._strata_items(),
            "per_stratum_quota": self.per_stratum_quota,
        }


@dataclass(frozen=True, kw_only=True)
class RandomRecipe(Recipe):
    """``random``: a seeded uniform sample of the scored rows.

    Attributes:
        budget: a fraction in (0, 1] (float) or a row count (int).
        seed: numpy ``default_rng`` seed.
    """

    method: Literal["random"] = "random"
    budget: float | int
    seed: int = 0

    @property
    def models(self) -> tuple[str, ...]:
        return ()

    def _rule_items(self) -> dict[str, Any]:
        return {"budget": self.budget, "seed": self.seed}


AnyRecipe = BandRecipe | PairBudgetRecipe | PairThresholdRecipe | IfdRecipe | RandomRecipe
BudgetRecipe = PairBudgetRecipe | IfdRecipe  # the arms that fill a budget from ranked rows


# --------------------------------------------------------------------------------------------
# writing a recipe, sizing a budget


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    """The recipe as a JSON-ready dict with every key its method reads (defaults filled in).

    Keys in a fixed order: ``method``, the method's own keys (``boundaries`` in the place of
    ``bins`` when given), ``include``, ``exclude``, then ``exclude_flags`` when not empty and
    ``dedup`` when given.
    ``parse_recipe(recipe_to_dict(r)) == r`` for every recipe.

    >>> from qaq.select.recipe_parsing import parse_recipe
    >>> recipe_to_dict(parse_recipe({"method": "random", "budget": 10, "exclude_flags": ["echo"]}))
    {'method': 'random', 'budget': 10, 'seed': 0, 'include': [], 'exclude': [], 'exclude_flags': ['echo']}
    """
    out: dict[str, Any] = {"method": recipe.method, **recipe._rule_items()}
    out["include"], out["exclude"] = list(recipe.include), list(recipe.exclude)
    if recipe.exclude_flags:
        out["exclude_flags"] = list(recipe.exclude_flags)
    if recipe.dedup is not None:
        out["dedup"] = recipe.dedup.to_dict()
    return out


def budget_count(budget: float | int, n_rows: int) -> int:
    """Rows a budget asks for: ``int(n_rows * budget)`` for a fraction, else the count.

    >>> budget_count(0.25, 10), budget_count(7, 10)
    (2, 7)
    """
    return int(n_rows * budget) if isinstance(budget, float) else int(budget)

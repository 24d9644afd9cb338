"""Strong/weak disagreement: both models' RMI ranks, their difference ``diff`` and their sum ``sum``.

For a strong model S and a weak model W (columns per :mod:`qaq.columns`), :func:`add_disagreement`
adds :mod:`qaq.select.strata`'s ``S_rank`` and ``W_rank`` (and their ``_stratum`` when stratified),
then ``diff = r_strong - r_weak`` and ``sum = r_strong + r_weak`` (float64), what the pair arms
``diff_*``/``sum_*`` of :mod:`qaq.select.recipes` rank by. The input frame is never mutated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from qaq.columns import score_column
from qaq.select.strata import Ranking, _add_ranks, _check_model, _check_ranking, _copy, _strata_spec, row_order


def add_disagreement(
    df: pd.DataFrame,
    *,
    strong: str,
    weak: str,
    ranking: Ranking = "stratified",
    bins: int | None = None,
    boundaries: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Add both models' ranks and the disagreement ``diff`` and agreement ``sum``.

        diff = r_strong - r_weak        (in [-1, 1]; high = "valid yet challenging")
        sum  = r_strong + r_weak        (in [0, 2])

    where ``r`` is :func:`add_ranks`'s rank of each model's RMI (a difference of normalized
    ranks, not of scores). With ``ranking="stratified"`` each model is binned by its own PPL(Q).

    >>> t = pd.DataFrame({"s_nll_q": [1.0, 2, 3, 4], "s_rmi": [4.0, 3, 2, 1],
    ...                   "w_nll_q": [1.0, 2, 3, 4], "w_rmi": [1.0, 2, 3, 4]})
    >>> add_disagreement(t, strong="s", weak="w", ranking="global")["diff"].tolist()
    [0.75, 0.25, -0.25, -0.75]

    Args:
        df: table with ``S_nll_q``, ``S_rmi``, ``W_nll_q``, ``W_rmi``.
        strong: the strong model NAME (S).
        weak: the weak model NAME (W).
        ranking: ``"stratified"`` (default) or ``"global"``.
        bins: K for the stratified ranking.
        boundaries: explicit strata (the same cut points for both models), instead of ``bins``.

    Returns:
        A copy of ``df`` with ``S_rank``, ``W_rank`` (and their ``_stratum`` when stratified),
        ``diff`` and ``sum``; NaN where either rank is missing.
    """
    _check_ranking(ranking)
    k, cuts = _strata_spec(bins, boundaries)
    fields = ("nll_q", "rmi") if ranking == "stratified" else ("rmi",)
    _check_model(df, strong, fields)
    _check_model(df, weak, fields)
    if strong == weak:
        raise ValueError(f"strong and weak must be different models, got {strong!r} twice")
    return _add_disagreement(_copy(df), strong, weak, ranking, k, cuts, row_order(df))


def _add_disagreement(
    out: pd.DataFrame, strong: str, weak: str, ranking: str, bins: int, cuts: np.ndarray | None, order: np.ndarray
) -> pd.DataFrame:
    out = _add_ranks(out, strong, ranking, bins, cuts, order)
    out = _add_ranks(out, weak, ranking, bins, cuts, order)
    r_strong = out[score_column(strong, "rank")]
    r_weak = out[score_column(weak, "rank")]
    out["diff"] = r_strong - r_weak
    out["sum"] = r_strong + r_weak
    return out

"""Per-stratum statistics of one model: size, PPL(Q) range and RMI spread of each PPL(Q) stratum.

The strata are :mod:`qaq.select.strata`'s (quantile ``bins`` or explicit ``boundaries``, cut on
log PPL(Q)); :func:`stratum_summary` gives one line per non-empty stratum.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from qaq.columns import score_column
from qaq.select.strata import _check_model, add_strata


def stratum_summary(
    df: pd.DataFrame, model: str, *, bins: int | None = None, boundaries: Sequence[float] | None = None
) -> pd.DataFrame:
    """Per-stratum statistics of one model: size, PPL(Q) range and RMI spread.

    Args:
        df: table with ``NAME_nll_q`` and ``NAME_rmi``.
        model: the model NAME.
        bins: K quantile strata (default :data:`~qaq.select.strata.DEFAULT_BINS`).
        boundaries: explicit strata instead of ``bins`` (see :func:`~qaq.select.strata.stratum_codes`).

    Returns:
        One line per non-empty stratum (ascending): ``stratum``, ``n``, ``nll_q_min``,
        ``nll_q_max``, ``rmi_mean``, ``rmi_median``, ``rmi_min``, ``rmi_max``. A stratum that
        holds no row (possible with ``boundaries``, or more bins than rows) has no line.
    """
    _check_model(df, model, ("nll_q", "rmi"))
    t = add_strata(df, model, bins=bins, boundaries=boundaries)
    s = score_column(model, "stratum")
    g = t.dropna(subset=[s]).groupby(s, sort=True)
    nll, rmi = score_column(model, "nll_q"), score_column(model, "rmi")
    out = pd.DataFrame(
        {
            "n": g.size().astype("int64"),
            "nll_q_min": g[nll].min(),
            "nll_q_max": g[nll].max(),
            "rmi_mean": g[rmi].mean(),
            "rmi_median": g[rmi].median(),
            "rmi_min": g[rmi].min(),
            "rmi_max": g[rmi].max(),
        }
    )
    out.index = out.index.astype("Int64")
    return out.rename_axis("stratum").reset_index()

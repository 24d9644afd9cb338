"""How well each score detects labelled defects: ROC AUC, average precision, defect shares.

Labels come from a column of the table: the bundled sample's ``defect`` (``"none"`` = clean, or
one of ``mismatch``, ``fabricated``, ``non_code``, ``echo``, ``truncated``, ``boilerplate``) or
the user's labels from :mod:`qaq.io.labels` (``"ok"`` = clean). A missing or blank label means
*unlabelled*: the row takes part in no comparison.

Every detector is a **suspicion score: higher = more suspicious** (see :func:`suspicion_scores`).
ROC AUC is the probability that a random defective row scores higher than a random clean one:
1.0 separates perfectly, 0.5 is chance, and an AUC below 0.5 means the *opposite* direction of
the score detects the defect (its AUC is ``1 - AUC``).

A score that is NaN or infinite is *missing*: the row is left out of that detector's numbers
and counted in ``n_missing`` (infinite values do occur, e.g. IFD with ``nll_a == 0``).

The ROC and PR curves behind these numbers, and precision/recall of a yes/no flagging, are in
:mod:`qaq.select.curves`; the per-row warnings of the example view are in :mod:`qaq.select.flags`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from qaq.columns import score_column
from qaq.select.curves import _check_scores, _values
from qaq.select.disagreement import add_disagreement
from qaq.select.strata import DEFAULT_BINS, add_ranks

LOW_RMI = "low RMI"
RMI_TWO_SIDED = "RMI two-sided"
LOW_DIFF = "low Diff"
IFD = "IFD"
DETECTORS: tuple[str, ...] = (LOW_RMI, RMI_TWO_SIDED, LOW_DIFF, IFD)

ANY_DEFECT = "any defect"
ALL_DATA = "all data"


# --------------------------------------------------------------------------------------------
# detectors


def suspicion_scores(
    df: pd.DataFrame,
    *,
    model: str,
    strong: str | None = None,
    weak: str | None = None,
    bins: int | None = DEFAULT_BINS,
    boundaries: Sequence[float] | None = None,
) -> pd.DataFrame:
    """One suspicion score per detector, higher = more suspicious, aligned with ``df``.

    ========================= =========================================================================
    column                    score
    ========================= =========================================================================
    ``"low RMI"``             ``-NAME_rmi``: the answer does not explain the query (mismatch,
                              fabricated terms, non-code requests).
    ``"RMI two-sided"``       ``|r - 0.5|`` with ``r`` the stratified RMI rank (:func:`qaq.select.strata.add_ranks`,
                              ``bins`` quantile bins of ``NAME_nll_q``): both tails are suspicious,
                              low RMI as above and excessively high RMI (echoes, templated answers).
    ``"low Diff"``            ``-diff`` with ``diff = r_strong - r_weak`` (stratified ranks,
                              :func:`qaq.select.disagreement.add_disagreement`); only when ``strong`` and ``weak``
                              are given. The paper keeps *high* Diff ("valid yet challenging"), so
                              low Diff is taken as suspicious here; an AUC below 0.5 says that high
                              Diff marks the defect instead.
    ``"IFD"``                 ``NAME_ifd`` in Cherry LLM's reading: a higher IFD means the query
                              helps less to predict the answer, so more suspicious. Only when the
                              table has ``NAME_ifd`` (the QAQ authors' files do not). Cherry's
                              selection keeps the *highest* IFD at or below 1, so an AUC above 0.5
                              means that selection leans towards defects.
    ========================= =========================================================================

    >>> t = pd.DataFrame({"m_nll_q": [1.0, 1.0, 1.0, 1.0], "m_rmi": [0.4, -0.2, 0.1, 0.9]})
    >>> suspicion_scores(t, model="m", bins=1)
       low RMI  RMI two-sided
    0     -0.4           0.25
    1      0.2           0.25
    2     -0.1           0.00
    3     -0.9           0.50

    Args:
        df: the scored table (columns per :mod:`qaq.columns`).
        model: the model whose RMI (and IFD) is scored.
        strong: the strong model of the Diff detector (give both or neither).
        weak: the weak model of the Diff detector.
        bins: K, the PPL(Q) quantile bins of the stratified ranks.
        boundaries: custom log PPL(Q) cut points instead of ``bins`` (:func:`qaq.select.strata.add_strata`):
            the strata the app's workspace uses when they were set on the chart.

    Returns:
        A float64 frame with ``df``'s index and the detector columns, in :data:`DETECTORS` order.
        Rows without a score (skipped rows, NaN) are NaN.

    Raises:
        KeyError: a model has no score columns in ``df``.
        ValueError: only one of ``strong``/``weak``, the same model twice, or bad ``bins``.
    """
    if (strong is None) != (weak is None):
        raise ValueError("give both strong= and weak= for the Diff detector, or neither")
    strata = {"bins": None, "boundaries": boundaries} if boundaries is not None else {"bins": bins}
    ranked = add_ranks(df, model, ranking="stratified", **strata)
    rmi = df[score_column(model, "rmi")].astype("float64")
    out = pd.DataFrame(index=df.index)
    out[LOW_RMI] = -rmi
    out[RMI_TWO_SIDED] = (ranked[score_column(model, "rank")] - 0.5).abs()
    if strong is not None and weak is not None:  # both or neither, checked above
        out[LOW_DIFF] = -add_disagreement(df, strong=strong, weak=weak, **strata)["diff"]
    ifd = score_column(model, "ifd")
    if ifd in df.columns:
        out[IFD] = df[ifd].astype("float64")
    return out.astype("float64")


# --------------------------------------------------------------------------------------------
# labels


def _clean_values(clean: str | Sequence[str]) -> frozenset[str]:
    values = [clean] if isinstance(clean, str) else list(clean)
    if not values:
        raise ValueError("clean= names no label: give the label(s) of clean rows, e.g. 'none' or 'ok'")
    bad = [v for v in values if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ValueError(f"clean labels must be non-empty strings, got {bad!r}")
    return frozenset(v.strip() for v in values)


def _labels(df: pd.DataFrame, label_col: str) -> pd.Series:
    """The label column as strings, stripped; missing or blank = ``<NA>`` (unlabelled)."""
    if label_col not in df.columns:
        raise KeyError(f"no label column {label_col!r} in this table")
    labels = df[label_col].astype("string").str.strip()
    labels = labels.mask(labels == "")
    if (labels == ANY_DEFECT).any():
        raise ValueError(f"{ANY_DEFECT!r} is reserved for the all-defects comparison; rename that label")
    return labels


def is_defect(
    df: pd.DataFrame,
    *,
    label_col: str = "defect",
    clean: str | Sequence[str] = "none",
    defect: str | None = None,
) -> pd.Series:
    """Per row: True = defective, False = clean, ``<NA>`` = not in the comparison.

    >>> t = pd.DataFrame({"defect": ["none", "echo", "mismatch", None]})
    >>> is_defect(t).tolist()
    [False, True, True, <NA>]
    >>> is_defect(t, defect="echo").tolist()
    [False, True, <NA>, <NA>]

    Args:
        df: the table.
        label_col: the label column.
        clean: the label(s) of clean rows.
        defect: compare clean rows with this defect type only (other defects become ``<NA>``);
            None: with every defect.

    Returns:
        A nullable boolean Series aligned with ``df`` (feed it to
        :func:`qaq.select.curves.roc_curves`).
    """
    clean_set = _clean_values(clean)
    labels = _labels(df, label_col)
    out = pd.Series(pd.NA, index=df.index, dtype="boolean")
    out[labels.isin(clean_set).fillna(False)] = False
    positive = labels.notna() & ~labels.isin(clean_set) if defect is None else labels == defect
    out[positive.fillna(False)] = True
    return out


def _defect_types(labels: pd.Series, clean_set: frozenset[str]) -> list[str]:
    # unique() first: iterating an Arrow-backed column element by element is slow (~3 us a row)
    return sorted(set(labels.dropna().unique().tolist()) - clean_set)


# --------------------------------------------------------------------------------------------
# metrics


def _aucs(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """(ROC AUC, average precision); NaN unless both classes are present."""
    # sklearn (and scipy under it) is imported on first use: it takes a second or two, and
    # the app imports this module on start.
    from sklearn.metrics import average_precision_score, roc_auc_score

    if y.all() or not y.any():
        return math.nan, math.nan
    return float(roc_auc_score(y, x)), float(average_precision_score(y, x))


def detection_table(
    df: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    label_col: str = "defect",
    clean: str | Sequence[str] = "none",
) -> pd.DataFrame:
    """ROC AUC and average precision of each detector, per defect type and for any defect.

    Each defect type is compared with the clean rows only (other defects left out); the
    ``"any defect"`` line compares all defective rows with the clean ones. Positives are the
    defective rows, and the score ranks them: ``roc_auc = sklearn.metrics.roc_auc_score(y, s)``,
    ``average_precision = average_precision_score(y, s)`` (chance level = ``base_rate``).

    Args:
        df: the table with the label column.
        scores: detector columns aligned with ``df`` (e.g. :func:`suspicion_scores`).
        label_col: the label column (``"defect"`` in the sample, ``"label"`` for user labels).
        clean: the label(s) of clean rows (``"none"``; user labels: ``"ok"``).

    Returns:
        One line per (defect type, detector), types in sorted order then ``"any defect"``,
        detectors in column order: ``defect``, ``detector``, ``n_positive``, ``n_negative``
        (rows used), ``n_missing`` (rows of the comparison left out for a missing score),
        ``base_rate`` (``n_positive / (n_positive + n_negative)``), ``roc_auc`` and
        ``average_precision`` (NaN when either class is empty).

    Raises:
        KeyError: no ``label_col``.
        ValueError: ``scores`` not aligned with ``df`` or not numeric, empty ``clean``, or a label
            named ``"any defect"``.
    """
    clean_set = _clean_values(clean)
    labels = _labels(df, label_col)
    _check_scores(scores, df.index, "the table")
    negative = labels.isin(clean_set).fillna(False).to_numpy(dtype=bool)
    labelled = labels.notna().to_numpy(dtype=bool)
    comparisons = [(t, (labels == t).fillna(False).to_numpy(dtype=bool)) for t in _defect_types(labels, clean_set)]
    comparisons.append((ANY_DEFECT, labelled & ~negative))
    values = {c: _values(scores[c]) for c in scores.columns}
    rows: list[dict[str, Any]] = []
    for name, positive in comparisons:
        used = positive | negative
        for detector, x in values.items():
            ok = used & ~np.isnan(x)
            y = positive[ok]
            n_pos, n_neg = int(y.sum()), int((~y).sum())
            auc, ap = _aucs(y, x[ok])
            rows.append(
                {
                    "defect": name,
                    "detector": str(detector),
                    "n_positive": n_pos,
                    "n_negative": n_neg,
                    "n_missing": int((used & np.isnan(x)).sum()),
                    "base_rate": n_pos / (n_pos + n_neg) if n_pos + n_neg else math.nan,
                    "roc_auc": auc,
                    "average_precision": ap,
                }
            )
    out = pd.DataFrame(
        rows,
        columns=[
            "defect",
            "detector",
            "n_positive",
            "n_negative",
            "n_missing",
            "base_rate",
            "roc_auc",
            "average_precision",
        ],
    )
    ints = ["n_positive", "n_negative", "n_missing"]
    return out.astype(
        {**{c: "int64" for c in ints}, "base_rate": "float64", "roc_auc": "float64", "average_precision": "float64"}
    )


def defect_share(
    df: pd.DataFrame,
    selections: Mapping[str, pd.Series],
    *,
    label_col: str = "defect",
    clean: str | Sequence[str] = "none",
) -> pd.DataFrame:
    """The share of each defect type inside each selection, with the whole table as a baseline.

    ``share(type) = rows of that type in the selection / labelled rows in the selection``.

    Args:
        df: the table with the label column.
        selections: name -> boolean mask aligned with ``df`` (e.g. ``select(df, recipe)["selected"]``).
        label_col: the label column.
        clean: the label(s) of clean rows.

    Returns:
        One line for ``"all data"`` then one per selection, in order: ``selection``, ``n``
        (rows selected), ``n_labelled``, one share column per defect type (sorted), and
        ``"any defect"``; shares are NaN when no labelled row is selected.

    Raises:
        KeyError: no ``label_col``.
        ValueError: a mask that is not boolean, has ``<NA>`` or is misaligned; a selection named
            ``"all data"``; a defect type named like an output column.
    """
    clean_set = _clean_values(clean)
    labels = _labels(df, label_col)
    types = _defect_types(labels, clean_set)
    clash = sorted(set(types) & {"selection", "n", "n_labelled"})
    if clash:
        raise ValueError(f"defect label(s) {clash} clash with output column names")
    masks: dict[str, np.ndarray] = {ALL_DATA: np.ones(len(df), dtype=bool)}
    for name, mask in selections.items():
        if name == ALL_DATA:
            raise ValueError(f"{ALL_DATA!r} is the baseline line; name the selection differently")
        if not isinstance(mask, pd.Series) or not pd.api.types.is_bool_dtype(mask.dtype):
            raise ValueError(f"selection {name!r} must be a boolean Series")
        if mask.isna().any():
            raise ValueError(f"selection {name!r} has missing values")
        if not mask.index.equals(df.index):
            raise ValueError(f"selection {name!r} is not aligned with the table: the indexes differ")
        masks[str(name)] = mask.to_numpy(dtype=bool)
    labelled = labels.notna().to_numpy(dtype=bool)
    defective = labelled & ~labels.isin(clean_set).fillna(False).to_numpy(dtype=bool)
    by_type = {t: (labels == t).fillna(False).to_numpy(dtype=bool) for t in types}
    rows = []
    for name, m in masks.items():
        n_lab = int((m & labelled).sum())
        row: dict[str, Any] = {"selection": name, "n": int(m.sum()), "n_labelled": n_lab}
        for t, is_t in {**by_type, ANY_DEFECT: defective}.items():
            row[t] = int((m & is_t).sum()) / n_lab if n_lab else math.nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=["selection", "n", "n_labelled", *types, ANY_DEFECT])
    return out.astype({"n": "int64", "n_labelled": "int64", **{t: "float64" for t in [*types, ANY_DEFECT]}})

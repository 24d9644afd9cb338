"""Curves and cut-offs of suspicion scores against known defects: ROC, precision-recall, and
precision/recall of a yes/no flagging.

The truth is a nullable boolean Series (True = defective, False = clean, ``<NA>`` = left out),
as :func:`qaq.select.detection.is_defect` makes it; the scores are detector columns, higher =
more suspicious, as :func:`qaq.select.detection.suspicion_scores` makes them. A score that is
NaN or infinite is *missing*: the row is left out of that detector's curve.

sklearn (and scipy under it) is imported inside the functions that use it: it takes a second or
two, and the app imports this module on start.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd


def _check_scores(scores: pd.DataFrame, index: pd.Index, what: str) -> None:
    if not isinstance(scores, pd.DataFrame) or scores.shape[1] == 0:
        raise ValueError("scores must be a DataFrame with at least one detector column")
    if not scores.index.equals(index):
        raise ValueError(f"scores are not aligned with {what}: the indexes differ")
    for c in scores.columns:
        dtype = scores[c].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise ValueError(f"detector {c!r} must hold numbers, got dtype {dtype}")


def _values(score: pd.Series) -> np.ndarray:
    """Scores as float64, non-finite -> NaN (missing)."""
    x = score.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(x), x, np.nan)


def _truth(is_defect: pd.Series, index: pd.Index | None = None) -> pd.Series:
    if not isinstance(is_defect, pd.Series) or not pd.api.types.is_bool_dtype(is_defect.dtype):
        raise ValueError("is_defect must be a boolean Series (True = defective; <NA> = left out)")
    if index is not None and not is_defect.index.equals(index):
        raise ValueError("is_defect and the scores are not aligned: the indexes differ")
    return is_defect.astype("boolean")


def _curve_inputs(is_defect: pd.Series, scores: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(y, known): y as bool, ``known`` = the rows with a label; both classes required."""
    truth = _truth(is_defect, scores.index)
    _check_scores(scores, is_defect.index, "is_defect")
    known = truth.notna().to_numpy(dtype=bool)
    y = truth.fillna(False).to_numpy(dtype=bool)
    if not (y[known].any() and not y[known].all()):
        raise ValueError("curves need both defective (True) and clean (False) rows")
    return y, known


def roc_curves(is_defect: pd.Series, scores: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """ROC curve of each detector: ``{detector: (fpr, tpr, auc)}`` (``sklearn.metrics.roc_curve``).

    Rows where ``is_defect`` is ``<NA>`` or the score is missing are left out, per detector. A
    detector whose remaining rows hold one class only gets empty arrays and NaN.

    Args:
        is_defect: boolean Series (see :func:`qaq.select.detection.is_defect`), aligned with ``scores``.
        scores: detector columns, higher = more suspicious.

    Raises:
        ValueError: misaligned or non-boolean input, or no defective or no clean row at all.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    def roc(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        fpr, tpr, _ = roc_curve(y, x)
        return fpr, tpr, float(roc_auc_score(y, x))

    return _per_detector(is_defect, scores, roc)


def pr_curves(is_defect: pd.Series, scores: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """Precision-recall curve of each detector: ``{detector: (recall, precision, average_precision)}``.

    From ``sklearn.metrics.precision_recall_curve`` and ``average_precision_score``; rows are
    left out as in :func:`roc_curves`.

    Raises:
        ValueError: as :func:`roc_curves`.
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    def pr(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        precision, recall, _ = precision_recall_curve(y, x)
        return recall, precision, float(average_precision_score(y, x))

    return _per_detector(is_defect, scores, pr)


def _per_detector(
    is_defect: pd.Series,
    scores: pd.DataFrame,
    curve: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, float]],
) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """Apply ``curve`` to each detector's known, non-NaN rows; one-class leftovers give empty curves."""
    y, known = _curve_inputs(is_defect, scores)
    out: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
    for c in scores.columns:
        x = _values(scores[c])
        ok = known & ~np.isnan(x)
        if y[ok].all() or not y[ok].any():
            out[str(c)] = (np.zeros(0), np.zeros(0), math.nan)
        else:
            out[str(c)] = curve(y[ok], x[ok])
    return out


def precision_recall_at(is_defect: pd.Series, flagged: pd.Series) -> dict[str, float | int]:
    """Precision, recall and F1 of a yes/no flagging (e.g. "RMI < 0", or a selection's complement).

        precision = tp / (tp + fp)    recall = tp / (tp + fn)    f1 = 2 tp / (2 tp + fp + fn)

    each NaN when its denominator is 0. Rows where either input is ``<NA>`` are left out.

    >>> d = pd.Series([True, True, False, False])
    >>> precision_recall_at(d, pd.Series([True, False, True, False]))["f1"]
    0.5

    Returns:
        ``{"n", "n_flagged", "tp", "fp", "fn", "tn", "precision", "recall", "f1"}``.

    Raises:
        ValueError: non-boolean or misaligned inputs.
    """
    truth = _truth(is_defect)
    if not isinstance(flagged, pd.Series) or not pd.api.types.is_bool_dtype(flagged.dtype):
        raise ValueError("flagged must be a boolean Series (True = flagged)")
    if not flagged.index.equals(truth.index):
        raise ValueError("is_defect and flagged are not aligned: the indexes differ")
    f = flagged.astype("boolean")
    ok = (truth.notna() & f.notna()).to_numpy(dtype=bool)
    y = truth.fillna(False).to_numpy(dtype=bool)[ok]
    p = f.fillna(False).to_numpy(dtype=bool)[ok]
    tp, fp = int((y & p).sum()), int((~y & p).sum())
    fn, tn = int((y & ~p).sum()), int((~y & ~p).sum())

    def ratio(a: int, b: int) -> float:
        return a / b if b else math.nan

    return {
        "n": int(ok.sum()),
        "n_flagged": tp + fp,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
    }

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
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from qaq.columns import score_column
from qaq.select.strata import add_disagreement, add_ranks

LOW_RMI = "low RMI"
RMI_TWO_SIDED = "RMI two-sided"
LOW_DIFF = "low Diff"
IFD = "IFD"
DETECTORS: tuple[str, ...] = (LOW_RMI, RMI_TWO_SIDED, LOW_DIFF, IFD)

ANY_DEFECT = "any defect"
ALL_DATA = "all data"

# Row flags shown next to an example (see row_flags).
FLAG_NEGATIVE_RMI = "RMI < 0"
FLAG_TRUNCATED = "truncated"
FLAG_ECHO = "answer echoes query"
FLAG_EMPTY = "empty query/answer"
FLAGS: tuple[str, ...] = (FLAG_NEGATIVE_RMI, FLAG_TRUNCATED, FLAG_ECHO, FLAG_EMPTY)

# echo_score: word n-grams of this length shared with the query count as echoed; 3 words in a
# row rarely match by accident (a function name and its argument do, hence not 2).
ECHO_NGRAM = 3
# row_flags flags an echo when at least half of the answer's words restate the query.
ECHO_THRESHOLD = 0.5


# --------------------------------------------------------------------------------------------
# detectors


def suspicion_scores(
    df: pd.DataFrame, *, model: str, strong: str | None = None, weak: str | None = None, bins: int = 10
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
                              :func:`qaq.select.strata.add_disagreement`); only when ``strong`` and ``weak``
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

    Returns:
        A float64 frame with ``df``'s index and the detector columns, in :data:`DETECTORS` order.
        Rows without a score (skipped rows, NaN) are NaN.

    Raises:
        KeyError: a model has no score columns in ``df``.
        ValueError: only one of ``strong``/``weak``, the same model twice, or bad ``bins``.
    """
    if (strong is None) != (weak is None):
        raise ValueError("give both strong= and weak= for the Diff detector, or neither")
    ranked = add_ranks(df, model, ranking="stratified", bins=bins)
    rmi = df[score_column(model, "rmi")].astype("float64")
    out = pd.DataFrame(index=df.index)
    out[LOW_RMI] = -rmi
    out[RMI_TWO_SIDED] = (ranked[score_column(model, "rank")] - 0.5).abs()
    if strong is not None:
        out[LOW_DIFF] = -add_disagreement(df, strong=strong, weak=weak, bins=bins)["diff"]
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
        A nullable boolean Series aligned with ``df`` (feed it to :func:`roc_curves`).
    """
    clean_set = _clean_values(clean)
    labels = _labels(df, label_col)
    out = pd.Series(pd.NA, index=df.index, dtype="boolean")
    out[labels.isin(clean_set).fillna(False)] = False
    positive = labels.notna() & ~labels.isin(clean_set) if defect is None else labels == defect
    out[positive.fillna(False)] = True
    return out


def _defect_types(labels: pd.Series, clean_set: frozenset[str]) -> list[str]:
    return sorted(set(labels.dropna()) - clean_set)


# --------------------------------------------------------------------------------------------
# metrics


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
    comparisons = [(t, (labels == t).fillna(False).to_numpy(dtype=bool))
                   for t in _defect_types(labels, clean_set)]
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
            rows.append({
                "defect": name, "detector": str(detector), "n_positive": n_pos, "n_negative": n_neg,
                "n_missing": int((used & np.isnan(x)).sum()),
                "base_rate": n_pos / (n_pos + n_neg) if n_pos + n_neg else math.nan,
                "roc_auc": auc, "average_precision": ap,
            })
    out = pd.DataFrame(rows, columns=["defect", "detector", "n_positive", "n_negative", "n_missing",
                                      "base_rate", "roc_auc", "average_precision"])
    ints = ["n_positive", "n_negative", "n_missing"]
    return out.astype({**{c: "int64" for c in ints}, "base_rate": "float64", "roc_auc": "float64",
                       "average_precision": "float64"})


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
        is_defect: boolean Series (see :func:`is_defect`), aligned with ``scores``.
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

    return {"n": int(ok.sum()), "n_flagged": tp + fp, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn), "f1": ratio(2 * tp, 2 * tp + fp + fn)}


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


# --------------------------------------------------------------------------------------------
# row flags for the example view

_WORD = re.compile(r"\w+")
_FENCE = "```"
_OPENERS, _CLOSERS = "([{", ")]}"


def echo_score(query: str, answer: str) -> float:
    """How much of the answer restates the query, in [0, 1].

    The share of the answer's words (``\\w+``, case-folded) that lie inside a run of
    :data:`ECHO_NGRAM` consecutive words also found in the query (n-gram containment; shorter
    texts use their own length as n). 1.0: the answer only repeats the query; 0.0: no shared
    3-word run. Linear in the text length. An answer that quotes the query and then solves it
    scores the quoted part only, so it stays low.

    >>> echo_score("Reverse a string in Python.", "reverse a string in python")
    1.0
    >>> echo_score("Reverse a string in Python.", "def rev(s):\\n    return s[::-1]")
    0.0
    >>> echo_score("sort the list", "Sort the list. sorted(xs)")
    0.6
    """
    if not isinstance(query, str) or not isinstance(answer, str):
        raise TypeError("echo_score takes two strings")
    q = _WORD.findall(query.casefold())
    a = _WORD.findall(answer.casefold())
    if not q or not a:
        return 0.0
    n = min(ECHO_NGRAM, len(q), len(a))
    grams = {tuple(q[i:i + n]) for i in range(len(q) - n + 1)}
    covered = [False] * len(a)
    for i in range(len(a) - n + 1):
        if tuple(a[i:i + n]) in grams:
            covered[i:i + n] = [True] * n
    return sum(covered) / len(a)


def looks_cut_off(answer: str) -> bool:
    """A cheap guess that an answer was cut off: an unclosed ````` fence or more opening
    brackets ``([{`` than closing ones.

    >>> looks_cut_off("def f(x):\\n    return g(x")
    True
    >>> looks_cut_off("```python\\nprint(1)\\n```")
    False
    """
    if answer.count(_FENCE) % 2:
        return True
    return sum(answer.count(c) for c in _OPENERS) > sum(answer.count(c) for c in _CLOSERS)


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def row_flags(row: Mapping[str, Any], *, model: str) -> list[str]:
    """Warnings for one example, in :data:`FLAGS` order.

    - ``"RMI < 0"``: ``NAME_rmi < 0``, the answer makes the query *harder* to predict;
    - ``"truncated"``: scoring dropped tokens (``NAME_truncated > 0``) or the answer
      :func:`looks_cut_off`;
    - ``"answer echoes query"``: :func:`echo_score` >= :data:`ECHO_THRESHOLD`;
    - ``"empty query/answer"``: a ``skip`` reason, or a blank query or answer.

    Missing values raise no flag.

    >>> row_flags({"query": "add two numbers", "answer": "add two numbers", "m_rmi": -0.3}, model="m")
    ['RMI < 0', 'answer echoes query']

    Args:
        row: one row of the table (a ``pd.Series`` or a dict) with ``query``, ``answer`` and
            ``NAME_rmi``; ``NAME_truncated`` and ``skip`` are used when present.
        model: the model NAME.

    Raises:
        KeyError: the row has no ``NAME_rmi`` (not scored by ``model``) or no query/answer.
    """
    rmi_key = score_column(model, "rmi")
    for key in ("query", "answer", rmi_key):
        if key not in row:
            raise KeyError(f"row has no {key!r}")
    query, answer = _text(row["query"]), _text(row["answer"])
    flags: list[str] = []
    rmi = row[rmi_key]
    if not _missing(rmi) and float(rmi) < 0:
        flags.append(FLAG_NEGATIVE_RMI)
    dropped = row.get(score_column(model, "truncated"))
    if (not _missing(dropped) and int(dropped) > 0) or looks_cut_off(answer):
        flags.append(FLAG_TRUNCATED)
    if echo_score(query, answer) >= ECHO_THRESHOLD:
        flags.append(FLAG_ECHO)
    if _text(row.get("skip")).strip() or not query.strip() or not answer.strip():
        flags.append(FLAG_EMPTY)
    return flags

"""Tests for qaq.select.detection, qaq.select.curves and qaq.select.flags: suspicion scores, detection
metrics, curves, defect shares and row flags."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from qaq.select import flags
from qaq.select.curves import pr_curves, precision_recall_at, roc_curves
from qaq.select.detection import (
    ANY_DEFECT,
    DETECTORS,
    IFD,
    LOW_DIFF,
    LOW_RMI,
    RMI_TWO_SIDED,
    defect_share,
    detection_table,
    is_defect,
    suspicion_scores,
)
from qaq.select.disagreement import add_disagreement
from qaq.select.flags import (
    FLAG_LABELS,
    FLAG_NAMES,
    FLAGS,
    check_flag_names,
    flag_table,
    flag_text_columns,
    row_flags,
)
from qaq.select.strata import add_ranks
from qaq.select.textchecks import (
    ECHO_THRESHOLD,
    echo_score,
    looks_cut_off,
    looks_like_python,
    python_code,
    python_fails_to_parse,
)


def scored(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = {"id": [f"r{i}" for i in range(n)]}
    for m in ("s", "w"):
        out[f"{m}_nll_q"] = rng.normal(2.0, 0.5, n)
        out[f"{m}_nll_q_given_a"] = rng.normal(1.5, 0.5, n)
        out[f"{m}_rmi"] = out[f"{m}_nll_q"] - out[f"{m}_nll_q_given_a"]
        out[f"{m}_ifd"] = rng.uniform(0.5, 1.2, n)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------------
# suspicion_scores


def test_suspicion_scores_exact_on_one_stratum():
    t = pd.DataFrame({"m_nll_q": [1.0, 1.0, 1.0, 1.0], "m_rmi": [0.4, -0.2, 0.1, 0.9],
                      "m_ifd": [0.5, 1.5, 0.9, 0.2]})
    got = suspicion_scores(t, model="m", bins=1)
    expected = pd.DataFrame({LOW_RMI: [-0.4, 0.2, -0.1, -0.9], RMI_TWO_SIDED: [0.25, 0.25, 0.0, 0.5],
                             IFD: [0.5, 1.5, 0.9, 0.2]})
    pd.testing.assert_frame_equal(got, expected)


def test_two_sided_uses_stratified_ranks_and_diff_is_negated():
    df = scored()
    before = df.copy()
    got = suspicion_scores(df, model="s", strong="s", weak="w", bins=4)
    assert list(got.columns) == list(DETECTORS)
    ranks = add_ranks(df, "s", ranking="stratified", bins=4)["s_rank"]
    np.testing.assert_array_equal(got[RMI_TWO_SIDED].to_numpy(), (ranks - 0.5).abs().to_numpy())
    diff = add_disagreement(df, strong="s", weak="w", bins=4)["diff"]
    np.testing.assert_array_equal(got[LOW_DIFF].to_numpy(), (-diff).to_numpy())
    pd.testing.assert_frame_equal(df, before)  # input untouched


def test_suspicion_scores_rank_within_custom_boundaries():
    df = scored()
    cuts = [float(df["s_nll_q"].quantile(0.3)), float(df["s_nll_q"].quantile(0.8))]
    got = suspicion_scores(df, model="s", strong="s", weak="w", boundaries=cuts)
    ranks = add_ranks(df, "s", ranking="stratified", boundaries=cuts)["s_rank"]
    np.testing.assert_array_equal(got[RMI_TWO_SIDED].to_numpy(), (ranks - 0.5).abs().to_numpy())
    diff = add_disagreement(df, strong="s", weak="w", boundaries=cuts)["diff"]
    np.testing.assert_array_equal(got[LOW_DIFF].to_numpy(), (-diff).to_numpy())
    # Not the K quantile strata: three strata cut elsewhere rank otherwise.
    quantile = suspicion_scores(df, model="s", strong="s", weak="w", bins=3)
    assert not np.array_equal(got[RMI_TWO_SIDED].to_numpy(), quantile[RMI_TWO_SIDED].to_numpy())


def test_suspicion_scores_keeps_index_and_nan_rows():
    df = scored(10).set_index(pd.Index(list("abcdefghij")))
    df.loc["c", "s_rmi"] = np.nan
    got = suspicion_scores(df, model="s")
    assert got.index.equals(df.index)
    assert math.isnan(got.loc["c", LOW_RMI]) and math.isnan(got.loc["c", RMI_TWO_SIDED])
    assert got.notna().sum().tolist() == [9, 9, 10]


def test_suspicion_scores_without_ifd_column_has_no_ifd_detector():
    df = scored().drop(columns=["s_ifd"])
    assert list(suspicion_scores(df, model="s").columns) == [LOW_RMI, RMI_TWO_SIDED]


def test_suspicion_scores_errors():
    df = scored()
    with pytest.raises(ValueError, match="both strong= and weak="):
        suspicion_scores(df, model="s", strong="s")
    with pytest.raises(KeyError, match="'x'"):
        suspicion_scores(df, model="x")
    with pytest.raises(KeyError, match="'x'"):
        suspicion_scores(df, model="s", strong="s", weak="x")
    with pytest.raises(ValueError, match="different models"):
        suspicion_scores(df, model="s", strong="s", weak="s")
    with pytest.raises(ValueError, match="bins"):
        suspicion_scores(df, model="s", bins=0)


# --------------------------------------------------------------------------------------------
# detection_table


def labelled(defects: list[str | None], **scores: list[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.DataFrame({"defect": defects})
    return df, pd.DataFrame(scores, index=df.index, dtype="float64")


def test_perfect_and_reversed_scores():
    df, s = labelled(["none", "none", "none", "echo", "echo"],
                     good=[0.1, 0.2, 0.3, 0.8, 0.9], bad=[0.9, 0.8, 0.7, 0.2, 0.1])
    t = detection_table(df, s).set_index(["defect", "detector"])
    assert t.loc[("echo", "good"), "roc_auc"] == 1.0
    assert t.loc[("echo", "good"), "average_precision"] == 1.0
    assert t.loc[("echo", "bad"), "roc_auc"] == 0.0
    assert t.loc[("echo", "good"), "base_rate"] == pytest.approx(0.4)


def test_table_layout_and_types():
    df, s = labelled(["none", "mismatch", "echo", "none"], a=[0, 1, 2, 3])
    t = detection_table(df, s)
    assert list(t.columns) == ["defect", "detector", "n_positive", "n_negative", "n_missing", "base_rate",
                               "roc_auc", "average_precision"]
    assert t["defect"].tolist() == ["echo", "mismatch", ANY_DEFECT]  # sorted types, then any defect
    assert t[["n_positive", "n_negative"]].to_numpy().tolist() == [[1, 2], [1, 2], [2, 2]]
    assert all(t[c].dtype == "int64" for c in ("n_positive", "n_negative", "n_missing"))


def test_each_type_is_compared_with_clean_rows_only():
    # echo scores highest, mismatch lowest: echo vs clean is perfect only if mismatch is left out.
    df, s = labelled(["none", "none", "mismatch", "echo"], x=[0.5, 0.6, 0.0, 1.0])
    t = detection_table(df, s).set_index("defect")
    assert t.loc["echo", "roc_auc"] == 1.0
    assert t.loc["mismatch", "roc_auc"] == 0.0
    assert t.loc[ANY_DEFECT, "roc_auc"] == 0.5
    assert t.loc[ANY_DEFECT, "n_positive"] == 2


def test_matches_sklearn_on_random_scores():
    rng = np.random.default_rng(3)
    defects = rng.choice(["none", "echo", "mismatch"], size=200, p=[0.6, 0.2, 0.2]).tolist()
    df, s = labelled(defects, a=rng.normal(size=200).tolist(), b=rng.integers(0, 4, 200).astype(float).tolist())
    t = detection_table(df, s).set_index(["defect", "detector"])
    lab = np.array(defects)
    for kind in ("echo", "mismatch", ANY_DEFECT):
        pos = lab != "none" if kind == ANY_DEFECT else lab == kind
        used = pos | (lab == "none")
        for det in ("a", "b"):
            y, x = pos[used], s[det].to_numpy()[used]
            assert t.loc[(kind, det), "roc_auc"] == pytest.approx(roc_auc_score(y, x), abs=1e-12)
            assert t.loc[(kind, det), "average_precision"] == pytest.approx(average_precision_score(y, x), abs=1e-12)


def test_missing_scores_are_left_out_and_counted():
    df, s = labelled(["none", "none", "echo", "echo", "none", "mismatch"],
                     x=[0.1, np.nan, 0.9, np.inf, 0.2, -np.inf])
    t = detection_table(df, s).set_index("defect")
    assert t.loc["echo", ["n_positive", "n_negative", "n_missing"]].tolist() == [1, 2, 2]
    assert t.loc["echo", "roc_auc"] == 1.0
    assert t.loc["mismatch", ["n_positive", "n_missing"]].tolist() == [0, 2]
    assert math.isnan(t.loc["mismatch", "roc_auc"]) and math.isnan(t.loc["mismatch", "average_precision"])
    assert t.loc[ANY_DEFECT, ["n_positive", "n_negative", "n_missing"]].tolist() == [1, 2, 3]


def test_unlabelled_rows_and_user_labels():
    df = pd.DataFrame({"label": ["ok", None, "echo", "", "hallucinated", " ok "]})
    s = pd.DataFrame({"x": [0.0, 5.0, 1.0, 5.0, 2.0, 0.5]})
    t = detection_table(df, s, label_col="label", clean="ok").set_index("defect")
    assert t.index.tolist() == ["echo", "hallucinated", ANY_DEFECT]
    assert t.loc[ANY_DEFECT, ["n_positive", "n_negative", "n_missing"]].tolist() == [2, 2, 0]
    assert t.loc[ANY_DEFECT, "roc_auc"] == 1.0
    several = detection_table(df, s, label_col="label", clean=["ok", "echo"]).set_index("defect")
    assert several.index.tolist() == ["hallucinated", ANY_DEFECT]
    assert several.loc[ANY_DEFECT, "n_negative"] == 3


def test_no_defect_rows_gives_nan_any_defect_line():
    df, s = labelled(["none", "none"], x=[0.0, 1.0])
    t = detection_table(df, s)
    assert t["defect"].tolist() == [ANY_DEFECT]
    assert math.isnan(t["roc_auc"].iloc[0]) and t["base_rate"].iloc[0] == 0.0


def test_detection_table_errors():
    df, s = labelled(["none", "echo"], x=[0.0, 1.0])
    with pytest.raises(KeyError, match="no label column 'label'"):
        detection_table(df, s, label_col="label")
    with pytest.raises(ValueError, match="not aligned"):
        detection_table(df, s.set_axis([5, 6]))
    with pytest.raises(ValueError, match="not aligned"):
        detection_table(df, s.iloc[:1])
    with pytest.raises(ValueError, match="must hold numbers"):
        detection_table(df, pd.DataFrame({"x": ["a", "b"]}))
    with pytest.raises(ValueError, match="must hold numbers"):
        detection_table(df, pd.DataFrame({"x": [True, False]}))
    with pytest.raises(ValueError, match="at least one detector"):
        detection_table(df, pd.DataFrame(index=df.index))
    with pytest.raises(ValueError, match="clean= names no label"):
        detection_table(df, s, clean=[])
    with pytest.raises(ValueError, match="non-empty strings"):
        detection_table(df, s, clean=["none", ""])
    with pytest.raises(ValueError, match="reserved"):
        detection_table(pd.DataFrame({"defect": ["none", ANY_DEFECT]}), s)


def test_is_defect():
    t = pd.DataFrame({"defect": ["none", "echo", "mismatch", None, ""]})
    assert is_defect(t).tolist() == [False, True, True, pd.NA, pd.NA]
    assert is_defect(t, defect="echo").tolist() == [False, True, pd.NA, pd.NA, pd.NA]
    assert str(is_defect(t).dtype) == "boolean"


# --------------------------------------------------------------------------------------------
# curves and flag metrics


def test_roc_and_pr_curves_match_sklearn():
    rng = np.random.default_rng(1)
    y = pd.Series(rng.random(50) < 0.3)
    s = pd.DataFrame({"a": rng.normal(size=50), "b": y.to_numpy() + rng.normal(size=50)})
    s.loc[3, "a"] = np.nan
    roc = roc_curves(y, s)
    pr = pr_curves(y, s)
    assert list(roc) == ["a", "b"] and list(pr) == ["a", "b"]
    keep = s["a"].notna().to_numpy()
    fpr, tpr, _ = roc_curve(y[keep], s["a"][keep])
    np.testing.assert_array_equal(roc["a"][0], fpr)
    np.testing.assert_array_equal(roc["a"][1], tpr)
    assert roc["a"][2] == roc_auc_score(y[keep], s["a"][keep])
    precision, recall, _ = precision_recall_curve(y, s["b"])
    np.testing.assert_array_equal(pr["b"][0], recall)
    np.testing.assert_array_equal(pr["b"][1], precision)
    assert pr["b"][2] == average_precision_score(y, s["b"])


def test_curves_perfect_separation_and_na_labels():
    y = pd.Series([False, False, True, True, pd.NA], dtype="boolean")
    s = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, -9.0], "only_pos": [np.nan, np.nan, 1.0, 2.0, 0.0]})
    roc = roc_curves(y, s)
    assert roc["x"][2] == 1.0
    assert pr_curves(y, s)["x"][2] == 1.0
    fpr, tpr, auc = roc["only_pos"]
    assert len(fpr) == len(tpr) == 0 and math.isnan(auc)


def test_curve_errors():
    s = pd.DataFrame({"x": [0.0, 1.0]})
    with pytest.raises(ValueError, match="both defective"):
        roc_curves(pd.Series([True, True]), s)
    with pytest.raises(ValueError, match="both defective"):
        pr_curves(pd.Series([False, pd.NA], dtype="boolean"), s)
    with pytest.raises(ValueError, match="boolean Series"):
        roc_curves(pd.Series([0, 1]), s)
    with pytest.raises(ValueError, match="not aligned"):
        roc_curves(pd.Series([False, True], index=[1, 2]), s)
    with pytest.raises(ValueError, match="must hold numbers"):
        roc_curves(pd.Series([False, True]), pd.DataFrame({"x": ["a", "b"]}))


def test_precision_recall_at_counts():
    y = pd.Series([True, True, True, False, False, False, pd.NA], dtype="boolean")
    f = pd.Series([True, True, False, True, False, False, True])
    got = precision_recall_at(y, f)
    assert got == {"n": 6, "n_flagged": 3, "tp": 2, "fp": 1, "fn": 1, "tn": 2,
                   "precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3}


def test_precision_recall_at_undefined_ratios_are_nan():
    got = precision_recall_at(pd.Series([True, False]), pd.Series([False, False]))
    assert math.isnan(got["precision"]) and got["recall"] == 0.0 and got["f1"] == 0.0
    none = precision_recall_at(pd.Series([False, False]), pd.Series([False, False]))
    assert math.isnan(none["recall"]) and math.isnan(none["f1"]) and none["tn"] == 2


def test_precision_recall_at_errors():
    with pytest.raises(ValueError, match="flagged must be a boolean"):
        precision_recall_at(pd.Series([True]), pd.Series([1]))
    with pytest.raises(ValueError, match="is_defect must be a boolean"):
        precision_recall_at(pd.Series(["y"]), pd.Series([True]))
    with pytest.raises(ValueError, match="not aligned"):
        precision_recall_at(pd.Series([True]), pd.Series([True], index=[7]))


# --------------------------------------------------------------------------------------------
# defect_share


def test_defect_share_exact():
    df = pd.DataFrame({"defect": ["none", "echo", "mismatch", "none", "echo", None]}, index=list("abcdef"))
    sel = {"first half": pd.Series([True, True, True, False, False, False], index=df.index),
           "empty": pd.Series(False, index=df.index),
           "unlabelled": pd.Series([False] * 5 + [True], index=df.index, dtype="boolean")}
    got = defect_share(df, sel)
    nan = float("nan")
    expected = pd.DataFrame({
        "selection": ["all data", "first half", "empty", "unlabelled"],
        "n": [6, 3, 0, 1],
        "n_labelled": [5, 3, 0, 0],
        "echo": [2 / 5, 1 / 3, nan, nan],
        "mismatch": [1 / 5, 1 / 3, nan, nan],
        ANY_DEFECT: [3 / 5, 2 / 3, nan, nan],
    }).astype({"n": "int64", "n_labelled": "int64"})
    pd.testing.assert_frame_equal(got, expected)


def test_defect_share_errors():
    df = pd.DataFrame({"defect": ["none", "echo"]})
    with pytest.raises(ValueError, match="baseline"):
        defect_share(df, {"all data": pd.Series([True, False])})
    with pytest.raises(ValueError, match="boolean Series"):
        defect_share(df, {"s": pd.Series([1, 0])})
    with pytest.raises(ValueError, match="boolean Series"):
        defect_share(df, {"s": np.array([True, False])})
    with pytest.raises(ValueError, match="missing values"):
        defect_share(df, {"s": pd.Series([True, pd.NA], dtype="boolean")})
    with pytest.raises(ValueError, match="not aligned"):
        defect_share(df, {"s": pd.Series([True, False], index=[1, 0])})
    with pytest.raises(ValueError, match="clash"):
        defect_share(pd.DataFrame({"defect": ["none", "n"]}), {})
    with pytest.raises(KeyError):
        defect_share(df, {}, label_col="label")


# --------------------------------------------------------------------------------------------
# echo_score and row flags


def test_echo_score_values():
    assert echo_score("Reverse a string in Python.", "reverse a string in python") == 1.0
    assert echo_score("Reverse a string", "def rev(s):\n    return s[::-1]") == 0.0
    # 3 of 5 answer words lie in the shared trigram "sort the list".
    assert echo_score("Please sort the list", "Sort the list. sorted(xs)") == pytest.approx(3 / 5)
    # A bigram alone is not an echo when both texts are long enough for trigrams.
    assert echo_score("write reverse_string s now", "def reverse_string s : pass") == 0.0
    # Short texts use their own length as n.
    assert echo_score("add numbers", "add numbers") == 1.0
    assert echo_score("", "x") == 0.0 and echo_score("x", "  ") == 0.0


def test_echo_score_quoting_then_solving_stays_low():
    q = "Write a function that returns the largest element of a list."
    a = q + "\n\ndef largest(xs):\n    best = xs[0]\n    for x in xs:\n" \
        "        if x > best:\n            best = x\n    return best"
    assert 0.0 < echo_score(q, a) < ECHO_THRESHOLD


def test_echo_score_type_error():
    with pytest.raises(TypeError):
        echo_score("a", None)  # type: ignore[arg-type]


def test_looks_cut_off():
    assert looks_cut_off("```python\ndef f():\n    pass")
    assert looks_cut_off("def f(x):\n    return [x,")
    assert not looks_cut_off("```python\nprint([1])\n```")
    assert not looks_cut_off("1) first 2) second")


def test_row_flags_each_flag():
    base = {"query": "Sum two numbers given as arguments.", "answer": "def add(a, b):\n    return a + b",
            "m_rmi": 0.4, "m_truncated": 0, "skip": ""}
    assert row_flags(base, model="m") == []
    assert row_flags({**base, "m_rmi": -0.01}, model="m") == ["RMI < 0"]
    assert row_flags({**base, "m_truncated": 3}, model="m") == ["truncated"]
    assert row_flags({**base, "answer": "def add(a, b):\n    return [a, b]]"}, model="m") == ["Python does not parse"]
    assert row_flags({**base, "answer": "def add(a, b):\n    return (a + b"}, model="m") == [
        "truncated", "Python does not parse"]  # cut-off code does not parse either
    assert row_flags({**base, "answer": "Add them: (a + b"}, model="m") == ["truncated"]  # prose: not parsed
    assert row_flags({**base, "answer": "Sum two numbers given as arguments"}, model="m") == ["answer echoes query"]
    assert row_flags({**base, "answer": "  ", "skip": "empty answer"}, model="m") == ["empty query/answer"]
    assert row_flags({**base, "query": ""}, model="m") == ["empty query/answer"]
    assert row_flags({**base, "skip": "empty query"}, model="m") == ["empty query/answer"]


def test_row_flags_order_missing_values_and_series():
    row = pd.Series({"query": "echo me please now", "answer": "echo me please now (", "m_rmi": -1.0,
                     "m_truncated": pd.NA, "skip": None})
    assert row_flags(row, model="m") == ["RMI < 0", "truncated", "answer echoes query"]
    assert row_flags({"query": "q", "answer": "a", "m_rmi": np.nan}, model="m") == []
    assert row_flags({"query": None, "answer": "a", "m_rmi": 1.0}, model="m") == ["empty query/answer"]


def test_row_flags_errors():
    with pytest.raises(KeyError, match="m_rmi"):
        row_flags({"query": "q", "answer": "a"}, model="m")
    with pytest.raises(KeyError, match="answer"):
        row_flags({"query": "q", "m_rmi": 1.0}, model="m")


# --------------------------------------------------------------------------------------------
# Python that does not parse


@pytest.mark.parametrize(
    "answer,code",
    [
        ("```python\nx = 1\n```", ["x = 1\n"]),
        ("Try:\n```Python3 title=demo\nx = (\n```\ndone", ["x = (\n"]),  # tag: first word, any case
        ("```py\na\n```\ntext\n```\nb = 2\n```", ["a\n"]),  # untagged "b = 2": not Python-looking
        ("```\nimport os\nos.sep\n```", ["import os\nos.sep\n"]),  # untagged, looks like Python
        ("```bash\nls -la (\n```\n```js\nlet x = {\n```", []),  # other languages
        ("```pycon\n>>> 1 +\n```\n```python\n>>> f(1)\n2\n```", []),  # interpreter sessions
        ("1. Run:\n   ```python\n   x = 1\n   if x:\n       pass\n   ```", ["x = 1\nif x:\n    pass\n"]),  # dedented
        ("```python\ndef f(:", ["def f(:"]),  # not closed: to the end
        ("Inline ```python x``` only, then\n```python\nok = 1\n```", ["ok = 1\n"]),  # not a fence mid-line
        ("````python\nquad = 4\n````", []),  # a 4-backtick fence's info starts with a backtick
        ("```python\n", [""]),
        ("def f(x):\n    return x", ["def f(x):\n    return x"]),  # no fence: the whole answer
        ("# helper\n\nclass A:\n    pass", ["# helper\n\nclass A:\n    pass"]),
        ("from math import pi\npi", ["from math import pi\npi"]),
        ("@cache\ndef f(): ...", ["@cache\ndef f(): ..."]),
        ("if __name__ == '__main__':\n    main()", ["if __name__ == '__main__':\n    main()"]),
        ("Use sorted(xs) (it is stable).", []),  # prose
        ("def-ining words is hard", []),
        ("import React from 'react';", []),  # JavaScript
        ("import Foundation\nlet x = 1", []),  # Swift
        ("var = 1\nimport os", []),  # the first code line must open a Python statement
        ("import os\nvar = 1\n", ["import os\nvar = 1\n"]),  # "var" as a Python name
        ("package main\nimport os", []),  # Go without braces
        ("class Foo : public Bar {\n};", []),  # C++
        ("def greet(name)\n  puts name\nend", []),  # Ruby
        ("#include <stdio.h>\nint main(void) { return 0; }", []),
        ("", []),
    ],
)
def test_python_code_rule(answer, code):
    assert python_code(answer) == code


def test_looks_like_python():
    assert looks_like_python("import os, sys as system\n")
    assert looks_like_python("  \n# a comment\nasync def main():\n    pass")
    assert not looks_like_python("Import the module first.")
    assert not looks_like_python("import java.util.List;\n")
    assert not looks_like_python("# only a comment")


@pytest.mark.parametrize(
    "answer,fails",
    [
        ("```python\ndef f(:\n    pass\n```", True),
        ("```python\nprint 'hello'\n```", True),  # Python 2
        ("```python\n!pip install numpy\n```", True),  # a notebook line is not Python
        ("```python\nok = 1\n```\n```python\nbad = (\n```", True),  # any block
        ("```python\nx = 1\n```\nprose with an unclosed ( bracket", False),  # prose is not parsed
        ("```python\nreturn 1\n```", False),  # ast.parse accepts it (compile would not)
        ("```python\nx = 'a\\d'\n```", False),  # a SyntaxWarning only, and silenced
        ("```python\nx = '\x00'\n```", True),  # NUL in the source: ast.parse refuses
        ("```python\n" + "(" * 300 + "\n```", True),  # too deeply nested for the parser
        ("```bash\nfor f in *; do (\n```", False),
        ("def f(x):\n    return x +", True),
        ("Here is the fix:\ndef f(x):\n    return x +", False),  # prose first: not taken as code
        ("", False),
    ],
)
def test_python_fails_to_parse(answer, fails):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any parser warning escaping the check fails the test
        assert python_fails_to_parse(answer) is fails


# --------------------------------------------------------------------------------------------
# the flag table


def flag_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "query": ["Sum two numbers.", "sort xs now", "say hi", "", "parse it", None],
            "answer": [
                "def add(a, b):\n    return a + b",
                "sort xs now",
                "```python\nprint('hi'\n```",
                "x",
                "```python\nx = 1 +\n```\n)",
                "text",
            ],
            "skip": ["", "", "", "empty query", None, ""],
            "s_rmi": [0.5, -0.1, np.nan, 0.3, 0.2, 0.1],
            "s_truncated": [0, 0, 0, 0, 0, 2],
            "w_rmi": [-0.2, 0.4, 0.1, 0.3, 0.2, 0.1],
        },
        index=[10, 11, 12, 13, 14, 15],
    ).assign(s_nll_q=2.0, s_nll_q_given_a=1.0, w_nll_q=2.0, w_nll_q_given_a=1.0)  # scored models s and w


def test_flag_names_and_labels():
    assert FLAG_NAMES == ("negative_rmi", "truncated", "echo", "empty", "invalid_python")
    assert FLAGS == ("RMI < 0", "truncated", "answer echoes query", "empty query/answer", "Python does not parse")
    assert list(FLAG_LABELS) == list(FLAG_NAMES) and list(FLAG_LABELS.values()) == list(FLAGS)
    assert check_flag_names(["echo", "truncated", "echo"]) == ("truncated", "echo")  # FLAG_NAMES order, once
    with pytest.raises(ValueError, match="unknown flag name.*'echoes'.*expected some of: negative_rmi, truncated"):
        check_flag_names(["echoes"])
    assert flag_text_columns(["negative_rmi"]) == ()
    assert flag_text_columns(["invalid_python", "truncated"]) == ("answer",)
    assert flag_text_columns(FLAG_NAMES) == ("query", "answer")


def test_flag_table_exact():
    t = flag_rows()
    out = flag_table(t, models=["s", "w"])
    assert list(out.columns) == list(FLAG_NAMES) and out.index.tolist() == t.index.tolist()
    assert all(dtype == np.dtype(bool) for dtype in out.dtypes)
    assert out.to_dict("list") == {
        "negative_rmi": [True, True, False, False, False, False],
        "truncated": [False, False, True, False, False, True],  # row 14: brackets balance, fence closed
        "echo": [False, True, False, False, False, False],
        "empty": [False, False, False, True, False, True],
        "invalid_python": [False, False, True, False, True, False],
    }
    only_s = flag_table(t, models=["s"], flags=["negative_rmi", "truncated"])
    assert list(only_s.columns) == ["negative_rmi", "truncated"]
    assert only_s["negative_rmi"].tolist() == [False, True, False, False, False, False]
    assert flag_table(t, models=["w"], flags=["truncated"])["truncated"].tolist() == [False, False, True, False,
                                                                                      False, False]
    assert flag_table(t)["negative_rmi"].tolist() == out["negative_rmi"].tolist()  # default: every scored model
    assert flag_table(t.iloc[:0], models=["s"]).shape == (0, 5)


def test_flag_table_agrees_with_row_flags():
    t = flag_rows()
    rows = pd.DataFrame(
        {
            "query": ["Reverse a string", "q", "x y z w", "tabs\t", "q"],
            "answer": ["reverse a string", "```\nimport os\nos(\n```", "x y z w (", " \u3000", "a" * 5000 + "("],
            "skip": [None, "", "", "", ""],
            "s_rmi": [0.1, -3.0, 0.2, np.nan, 0.1],
            "s_truncated": pd.array([pd.NA, 0, 1, 0, 0], dtype="Int64"),
            "w_rmi": [0.2, 0.1, -0.2, 0.0, 0.1],
        }
    )
    for frame in (t, rows):
        table = flag_table(frame, models=["s", "w"])
        for i, (_, row) in enumerate(frame.iterrows()):
            labels = {f for m in ("s", "w") for f in row_flags(row, model=m)}
            assert {FLAG_LABELS[n] for n in FLAG_NAMES if table[n].iloc[i]} == labels, (i, labels)


def test_flag_table_echo_shortcut_is_exact():
    rng = np.random.default_rng(0)
    vocab = ["a", "B", "the", "Ünï", "straße", "STRASSE", "x_1", "42", "K", "\u212a", "é", "É", "(", "-"]
    queries, answers = [], []
    for _ in range(3000):
        q = " ".join(rng.choice(vocab, rng.integers(0, 8)))
        a = " ".join(rng.choice(vocab, rng.integers(0, 10)))
        queries.append(q)
        answers.append(q + " " + a if rng.random() < 0.4 else a)
    t = pd.DataFrame({"query": queries, "answer": answers})
    got = flag_table(t, models=[], flags=["echo"])["echo"].tolist()
    assert got == [echo_score(q, a) >= ECHO_THRESHOLD for q, a in zip(queries, answers)]
    assert 100 < sum(got) < 2900


def test_flag_table_in_worker_processes_is_the_same():
    t = pd.concat([flag_rows()] * 40, ignore_index=True)
    assert flag_table(t, models=["s", "w"], workers=2).equals(flag_table(t, models=["s", "w"], workers=1))


def test_workers_are_forked_only_without_other_threads():
    # A fresh interpreter runs one thread (this one may not: tqdm leaves a monitor thread behind).
    code = "from qaq.select import flags; print(flags._pool_context().get_start_method())"
    alone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert alone == ("fork" if sys.platform.startswith("linux") else "spawn")
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert flags._pool_context().get_start_method() == "spawn"  # a threaded program (the app)
    finally:
        release.set()
        other.join()


def test_flag_table_errors():
    t = flag_rows()
    with pytest.raises(ValueError, match="unknown flag name"):
        flag_table(t, flags=["cut"])
    with pytest.raises(KeyError, match="'x_rmi'"):
        flag_table(t, models=["x"])
    with pytest.raises(KeyError, match="'answer'"):
        flag_table(t.drop(columns=["answer"]), models=["s"], flags=["invalid_python"])
    flag_table(t.drop(columns=["answer", "query"]), models=["s"], flags=["negative_rmi"])  # no text needed
    for workers in (0, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            flag_table(t, models=["s"], workers=workers)


def test_detection_and_labels_stay_light():
    # sklearn loads on first use only: importing qaq.select.detection stays quick for the app.
    heavy = ("torch", "transformers", "streamlit", "sklearn")
    code = f"import sys, qaq.select.detection, qaq.select.curves, qaq.select.flags, qaq.io.labels\nprint(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_defect_types_of_a_string_column_are_its_distinct_labels():
    from qaq.select.detection import _defect_types, _labels

    t = pd.DataFrame({"defect": pd.array(["none", " echo", "echo", None, "", "mismatch", "none"], dtype="string")})
    assert _defect_types(_labels(t, "defect"), frozenset({"none"})) == ["echo", "mismatch"]

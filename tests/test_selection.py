"""Tests for qaq.select.recipes and qaq.select.selection (parse, select) and the ``qaq select`` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from qaq.cli import cli
from qaq.io.export import ids_sha256
from qaq.io.inputs import load_inputs
from qaq.io.scorefile import load_scores
from qaq.select.flags import FLAG_NAMES, flag_table
from qaq.select.recipe_parsing import as_recipe, parse_recipe
from qaq.select.recipes import (
    BandRecipe,
    IfdRecipe,
    PairBudgetRecipe,
    PairRecipe,
    PairThresholdRecipe,
    RandomRecipe,
    Recipe,
    RecipeError,
    StratifiedRecipe,
    budget_count,
    recipe_to_dict,
)
from qaq.select.selection import attach_scores, select
from qaq.select.selection_report import selection_notes, stratum_counts

NAN = float("nan")
FIXTURES = Path(__file__).parent / "fixtures" / "selection"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLE_SCORES, SAMPLE_DATA = SAMPLE / "code_instructions.scores.parquet", SAMPLE / "code_instructions.jsonl"
AUTHORS = FIXTURES / "authors_two_models.jsonl"
STRONG, WEAK = "deepseek-coder-6.7b-base", "Qwen3-0.6B"


def table(
    strong_rmi, weak_rmi, *, strong_nll=None, weak_nll=None, skip=None, ifd=None, ids=None
) -> pd.DataFrame:
    n = len(strong_rmi)
    df = pd.DataFrame(
        {
            "id": ids if ids is not None else [f"r{i}" for i in range(n)],
            "row": np.arange(n, dtype=np.int64),
            "skip": skip if skip is not None else [""] * n,
        }
    )
    for m, rmi, nll in (("s", strong_rmi, strong_nll), ("w", weak_rmi, weak_nll)):
        nll = np.arange(1.0, n + 1) if nll is None else np.asarray(nll, dtype=float)
        df[f"{m}_nll_q"] = nll
        df[f"{m}_nll_q_given_a"] = nll - np.asarray(rmi, dtype=float)
        df[f"{m}_rmi"] = np.asarray(rmi, dtype=float)
    if ifd is not None:
        df["s_ifd"] = ifd
    return df


# Global ranks: strong k/8 descending; weak (3,1,2,8,7,5,6,4)/8.
#   diff = .625 .75 .5 -.375 -.375 -.25 -.5 -.375 ; sum = 1.375 1 1 1.625 1.375 1 1 .625
# Stratified (bins=2; strong strata rows 0-3 | 4-7, weak strata rows 0,1,4,5 | 2,3,6,7):
#   diff = .5 .5 .25 -.75 0 0 -.25 -.25 ; sum = 1.5 1 .75 1.25 2 1.5 1.25 .75
EIGHT = dict(
    strong_rmi=[8, 7, 6, 5, 4, 3, 2, 1],
    weak_rmi=[3, 1, 2, 8, 7, 5, 6, 4],
    weak_nll=[1, 2, 5, 6, 3, 4, 7, 8],
)


def ids_of(out: pd.DataFrame) -> list[str]:
    return out.loc[out["selected"], "id"].tolist()


def run(recipe: dict, df: pd.DataFrame | None = None) -> list[str]:
    return ids_of(select(table(**EIGHT) if df is None else df, recipe))


# ------------------------------------------------------------------------------------ methods


@pytest.mark.parametrize(
    "method,ranking,budget,expected",
    [
        ("diff_high", "global", 0.25, ["r0", "r1"]),
        ("diff_low", "global", 0.25, ["r3", "r6"]),  # -.375 tie r3/r4/r7: the earliest row wins
        ("sum_high", "global", 0.25, ["r0", "r3"]),  # 1.375 tie r0/r4
        ("sum_low", "global", 2, ["r1", "r7"]),  # 1.0 tie r1/r2/r5/r6
        ("diff_high", "stratified", 3, ["r0", "r1", "r2"]),
        ("diff_low", "stratified", 0.25, ["r3", "r6"]),  # -.25 tie r6/r7
        ("sum_high", "stratified", 0.25, ["r0", "r4"]),  # 1.5 tie r0/r5
        ("sum_low", "stratified", 0.25, ["r2", "r7"]),
    ],
)
def test_budget_arms_exact(method, ranking, budget, expected):
    recipe = {"method": method, "strong": "s", "weak": "w", "budget": budget, "ranking": ranking, "bins": 2}
    assert run(recipe) == expected


def test_diff_and_sum_columns_for_both_rankings():
    base = {"method": "diff_high", "strong": "s", "weak": "w", "budget": 1, "bins": 2}
    g = select(table(**EIGHT), {**base, "ranking": "global"})
    assert g["diff"].tolist() == [0.625, 0.75, 0.5, -0.375, -0.375, -0.25, -0.5, -0.375]
    assert g["sum"].tolist() == [1.375, 1.0, 1.0, 1.625, 1.375, 1.0, 1.0, 0.625]
    s = select(table(**EIGHT), base)
    assert s["diff"].tolist() == [0.5, 0.5, 0.25, -0.75, 0.0, 0.0, -0.25, -0.25]
    assert s["sum"].tolist() == [1.5, 1.0, 0.75, 1.25, 2.0, 1.5, 1.25, 0.75]
    assert s["s_stratum"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert s["w_stratum"].tolist() == [0, 0, 1, 1, 0, 0, 1, 1]


@pytest.mark.parametrize(
    "method,threshold,expected",
    [
        ("diff_high", 0.5, ["r0", "r1"]),  # strict: r2 (diff == .5) is out
        ("diff_low", -0.375, ["r6"]),
        ("sum_high", 1.0, ["r0", "r3", "r4"]),
        ("sum_low", 1.0, ["r7"]),
    ],
)
def test_threshold_arms_are_strict(method, threshold, expected):
    recipe = {"method": method, "strong": "s", "weak": "w", "threshold": threshold, "ranking": "global"}
    assert run(recipe) == expected


def test_rmi_band_both_rankings():
    band = {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "bins": 2}
    assert run({**band, "ranking": "global"}) == ["r2", "r3"]  # ranks .75 and .625
    assert run(band) == ["r1", "r5"]  # rank .75 within each stratum
    out = select(table(**EIGHT), band)
    assert out["s_rank"].tolist() == [1.0, 0.75, 0.5, 0.25, 1.0, 0.75, 0.5, 0.25]


def test_stratified_band_keeps_same_share_in_every_stratum():
    rng = np.random.default_rng(0)
    df = table(rng.normal(size=1000), rng.normal(size=1000), strong_nll=rng.gamma(2, 1, 1000))
    out = select(df, {"method": "rmi_band", "model": "s", "lo": 0.25, "hi": 0.75})
    per = out.groupby("s_stratum")["selected"].sum()
    assert per.tolist() == [50] * 10  # ranks k/100, 25 < k <= 75
    glob = select(df, {"method": "rmi_band", "model": "s", "lo": 0.25, "hi": 0.75, "ranking": "global"})
    assert glob["selected"].sum() == 500
    assert glob.groupby(out["s_stratum"])["selected"].sum().tolist() != [50] * 10


def test_ifd_cherry_rule():
    df = table(**EIGHT, ifd=[0.9, 1.2, NAN, 0.95, 1.0, 0.3, 0.95, 0.99])
    assert run({"method": "ifd", "model": "s", "budget": 3}, df) == ["r3", "r4", "r7"]
    assert run({"method": "ifd", "model": "s", "budget": 0.5}, df) == ["r3", "r4", "r6", "r7"]
    assert run({"method": "ifd", "model": "s", "budget": 100}, df) == ["r0", "r3", "r4", "r5", "r6", "r7"]


def test_random_is_seeded_and_only_picks_scored_rows():
    rng = np.random.default_rng(1)
    skip = [""] * 100
    skip[5] = "empty answer"
    df = table(rng.normal(size=100), rng.normal(size=100), skip=skip)
    df.loc[7, "w_rmi"] = NAN
    a = ids_of(select(df, {"method": "random", "budget": 0.3, "seed": 0}))
    assert a == ids_of(select(df, {"method": "random", "budget": 0.3, "seed": 0}))
    assert len(a) == 30 and "r5" not in a and "r7" not in a
    eligible = [i for i in range(100) if i not in (5, 7)]
    expected = sorted(np.array(eligible)[np.random.default_rng(0).permutation(98)[:30]])
    assert a == [f"r{i}" for i in expected]
    assert a != ids_of(select(df, {"method": "random", "budget": 0.3, "seed": 1}))


def test_budget_is_a_fraction_of_all_rows_and_skipped_rows_never_selected():
    skip = ["", "empty query", "", "", "empty answer", "", "", "", "", ""]
    rng = np.random.default_rng(2)
    df = table(rng.normal(size=10), rng.normal(size=10), skip=skip)
    df.loc[[1, 4], ["s_nll_q", "s_rmi", "w_nll_q", "w_rmi"]] = NAN
    out = select(df, {"method": "diff_high", "strong": "s", "weak": "w", "budget": 0.5, "bins": 2})
    assert out["selected"].sum() == 5  # int(10 * 0.5), not int(8 * 0.5)
    assert not out.loc[[1, 4], "selected"].any()
    everything = select(df, {"method": "diff_low", "strong": "s", "weak": "w", "budget": 1.0})
    assert everything["selected"].sum() == 8
    assert budget_count(0.1, 29) == 2 and budget_count(0.25, 7) == 1 and budget_count(12, 5) == 12


def test_ties_broken_by_source_row_not_frame_order():
    df = table([1.0] * 8, [1.0] * 8, ids=[f"z{7 - i}" for i in range(8)])
    recipe = {"method": "diff_high", "strong": "s", "weak": "w", "budget": 3}
    assert ids_of(select(df, recipe)) == ["z7", "z6", "z5"]  # rows 0-2, not the smallest ids
    shuffled = df.sample(frac=1.0, random_state=3)
    assert sorted(ids_of(select(shuffled, recipe))) == ["z5", "z6", "z7"]


def test_per_stratum_quota():
    rng = np.random.default_rng(4)
    df = table(rng.normal(size=40), rng.normal(size=40), strong_nll=rng.gamma(2, 1, 40))
    recipe = {"method": "diff_high", "strong": "s", "weak": "w", "budget": 0.25, "bins": 4,
              "per_stratum_quota": True}
    for ranking in ("stratified", "global"):
        out = select(df, {**recipe, "ranking": ranking})
        assert out.groupby("s_stratum")["selected"].sum().tolist() == [3, 3, 2, 2]  # 10 = 3+3+2+2
        for _, grp in out.groupby("s_stratum"):
            top = grp.nlargest(int(grp["selected"].sum()), "diff")
            assert set(top["id"]) == set(grp.loc[grp["selected"], "id"])


def test_include_and_exclude_win_over_the_rule():
    base = {"method": "diff_high", "strong": "s", "weak": "w", "budget": 2, "ranking": "global"}
    assert run({**base, "exclude": ["r1", "not-here"]}) == ["r0", "r2"]  # the budget is refilled
    assert run({**base, "include": ["r7"]}) == ["r0", "r1", "r7"]
    with pytest.raises(RecipeError, match="not in the table: 'nope'"):
        run({**base, "include": ["nope"]})
    skipped = table(**EIGHT, skip=["", "", "", "empty answer", "", "", "", ""])
    with pytest.raises(RecipeError, match="cannot be selected.*'r3'"):
        run({**base, "include": ["r3"]}, skipped)


def test_select_does_not_mutate_and_is_deterministic():
    rng = np.random.default_rng(5)
    df = table(rng.integers(0, 4, 300) / 2, rng.integers(0, 4, 300) / 2, strong_nll=rng.integers(0, 3, 300))
    before = df.copy(deep=True)
    recipe = {"method": "diff_high", "strong": "s", "weak": "w", "budget": 0.25}
    a = select(df, recipe)
    pd.testing.assert_frame_equal(df, before)
    assert ids_of(a) == ids_of(select(df, parse_recipe(recipe)))
    shuffled = df.sample(frac=1.0, random_state=0)
    assert sorted(ids_of(select(shuffled, recipe))) == sorted(ids_of(a))
    assert list(a.columns) == list(df.columns) + ["s_stratum", "s_rank", "w_stratum", "w_rank", "diff", "sum",
                                                  "selected"]


def test_stratum_counts():
    out = select(table(**EIGHT), {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "bins": 2})
    counts = stratum_counts(out, parse_recipe({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "bins": 2}))
    assert counts.to_dict("list") == {"stratum": [0, 1], "rows": [4, 4], "selected": [1, 1]}
    assert stratum_counts(out.assign(selected=False), parse_recipe({"method": "random", "budget": 1})).empty


# ------------------------------------------------------------------------------------ the authors' recipe


def authors_oracle() -> list[int]:
    """The QAQ README's selection, run on the raw file: rank(pct=True), diff, nlargest 25%."""
    raw = pd.read_json(AUTHORS, lines=True)
    diff = raw[f"{STRONG}_RMI"].rank(pct=True) - raw[f"{WEAK}_RMI"].rank(pct=True)
    picked = raw.assign(diff=diff).nlargest(int(len(raw) * 0.25), "diff")
    cut = picked["diff"].min()
    assert (diff == cut).sum() > (picked["diff"] == cut).sum(), "fixture must put a tie on the budget's edge"
    return sorted(picked.index)


def test_authors_recipe_reproduced_id_for_id():
    df, meta = load_scores(AUTHORS)
    assert meta["format"] == "qaq-authors"
    out = select(df, {"method": "diff_high", "strong": STRONG, "weak": WEAK, "ranking": "global", "budget": 0.25})
    assert sorted(out.loc[out["selected"], "row"]) == authors_oracle()


# ------------------------------------------------------------------------------------ recipes


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"method": "best"}, "unknown method 'best'"),
        ({"model": "s"}, "recipe has no 'method'"),
        ({"method": "rmi_band", "model": "s", "lo": 0.8, "hi": 0.5}, "'lo' (0.8) must be below 'hi' (0.5)"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 1.5}, "'hi' must be in [0, 1]"),
        ({"method": "diff_high", "strong": "s", "weak": "w", "budget": 0}, "'budget' must be > 0"),
        ({"method": "diff_high", "strong": "s", "weak": "w", "budget": -3}, "'budget' must be > 0"),
        ({"method": "random", "budget": 2.5}, "must be a whole number"),
        ({"method": "random", "budget": "10%"}, "'budget' must be a number"),
        ({"method": "random", "budget": True}, "'budget' must be a number"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5}, "needs key(s): 'hi'"),
        ({"method": "diff_high", "strong": "s", "weak": "w"}, "exactly one of 'budget' or 'threshold'"),
        ({"method": "diff_high", "strong": "s", "weak": "w", "budget": 1, "threshold": 0.1}, "exactly one of"),
        ({"method": "rmi_band", "model": 3, "lo": 0.5, "hi": 0.7}, "'model' must be a non-empty string"),
        ({"method": "rmi_band", "model": "s", "lo": "0.5", "hi": 0.7}, "'lo' must be a number"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.7, "bins": 2.0}, "'bins' must be an integer"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.7, "bins": 0}, "'bins' must be >= 1"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.7, "ranking": "local"}, "'ranking' must be one of"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.7, "budget": 0.2}, "unknown key(s) 'budget'"),
        ({"method": "random", "budget": 1, "sede": 1}, "unknown key(s) 'sede'"),
        ({"method": "diff_high", "strong": "s", "weak": "s", "budget": 1}, "different models"),
        ({"method": "diff_high", "strong": "s", "weak": "w", "threshold": 0.1, "per_stratum_quota": True},
         "needs a 'budget'"),
        ({"method": "ifd", "model": "s", "budget": 1, "per_stratum_quota": "yes"}, "must be true or false"),
        ({"method": "random", "budget": 1, "include": "r1"}, "'include' must be a list of id strings"),
        ({"method": "random", "budget": 1, "include": ["a"], "exclude": ["a"]}, "both 'include' and 'exclude'"),
        ({"method": "random", "budget": 1, "seed": -1}, "'seed' must be >= 0"),
        # boundaries
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.7, "bins": 3, "boundaries": [1.0]},
         "give 'bins' (quantile strata) or 'boundaries' (explicit cut points), not both"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.7, "boundaries": []},
         "'boundaries' must be a non-empty list of numbers, log PPL(Q) cut points in increasing order, got []"),
        ({"method": "ifd", "model": "s", "budget": 1, "boundaries": 2.5}, "'boundaries' must be a non-empty list"),
        ({"method": "ifd", "model": "s", "budget": 1, "boundaries": {"a": 1}}, "'boundaries' must be a non-empty list"),
        ({"method": "diff_high", "strong": "s", "weak": "w", "budget": 1, "boundaries": [1, "2"]},
         "; '2' is not a finite number"),
        ({"method": "diff_high", "strong": "s", "weak": "w", "budget": 1, "boundaries": [True]},
         "True is not a finite number"),
        ({"method": "diff_high", "strong": "s", "weak": "w", "budget": 1, "boundaries": [1.0, float("inf")]},
         "inf is not a finite number"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.7, "boundaries": [2.0, 1.5]},
         "'boundaries' must be strictly increasing, got 2.0 then 1.5"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.7, "boundaries": [1, 2, 2]},
         "'boundaries' must be strictly increasing, got 2.0 then 2.0"),
        ({"method": "random", "budget": 1, "boundaries": [1.0]}, "unknown key(s) 'boundaries' for method 'random'"),
        # exclude_flags
        ({"method": "random", "budget": 1, "exclude_flags": "truncated"},
         "'exclude_flags' must be a list of flag names (negative_rmi, truncated, echo, empty, invalid_python), "
         "got 'truncated'"),
        ({"method": "random", "budget": 1, "exclude_flags": ["truncated", 3]}, "'exclude_flags' must be a list"),
        ({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.7, "exclude_flags": ["truncated", "RMI < 0"]},
         "'exclude_flags': unknown flag name(s) 'RMI < 0'; expected some of: negative_rmi, truncated, echo, "
         "empty, invalid_python"),
    ],
)
def test_bad_recipes(spec, message):
    with pytest.raises(RecipeError) as err:
        parse_recipe(spec)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"method": "rmi_band", "model": "x", "lo": 0.5, "hi": 0.7},
         "unknown model 'x'; the table has scores for: s, w"),
        ({"method": "diff_high", "strong": "s", "weak": "q", "budget": 1}, "unknown model 'q'"),
        ({"method": "ifd", "model": "s", "budget": 1}, "has no IFD scores"),
    ],
)
def test_bad_recipes_for_the_table(spec, message):
    with pytest.raises(RecipeError) as err:
        select(table(**EIGHT), spec)
    assert message in str(err.value)


def test_recipe_sources_and_round_trip(tmp_path):
    specs = [
        {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75},
        {"method": "diff_low", "strong": "s", "weak": "w", "threshold": -0.1, "ranking": "global"},
        {"method": "sum_high", "strong": "s", "weak": "w", "budget": 1000, "per_stratum_quota": True,
         "include": ["a"], "exclude": ["b"]},
        {"method": "ifd", "model": "s", "budget": 1},
        {"method": "random", "budget": 0.25, "seed": 3},
    ]
    for spec in specs:
        r = parse_recipe(spec)
        assert parse_recipe(recipe_to_dict(r)) == r
        assert parse_recipe(json.dumps(spec)) == r
        path = tmp_path / "r.json"
        path.write_text(json.dumps(spec))
        assert parse_recipe(path) == parse_recipe(str(path)) == r
        assert parse_recipe({"qaq_manifest": 1, "recipe": spec}) == r
    assert recipe_to_dict(parse_recipe(specs[0])) == {
        "method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "ranking": "stratified", "bins": 10,
        "include": [], "exclude": [],
    }
    assert parse_recipe({"method": "random", "budget": 1}).budget == 1.0  # 1 = all rows, a fraction
    assert isinstance(parse_recipe({"method": "random", "budget": 7.0}).budget, int)
    with pytest.raises(RecipeError, match="recipe file not found"):
        parse_recipe(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(RecipeError, match="not valid JSON"):
        parse_recipe(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(RecipeError, match="must be one JSON object such as .*, got a JSON array"):
        parse_recipe(tmp_path / "list.json")
    assert isinstance(parse_recipe(specs[0]), Recipe)


def test_attach_scores():
    data = pd.DataFrame({"id": pd.array(["a", "b", "c"], dtype="string"), "row": [0, 1, 2], "s_rmi": [9, 9, 9]})
    scores = pd.DataFrame({"id": ["c", "a", "b"], "s_rmi": [3.0, 1.0, 2.0]})
    out = attach_scores(data, scores)
    assert out["s_rmi"].tolist() == [1.0, 2.0, 3.0] and out["row"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="1 only in the scores .*'d'.*1 only in the data .*'c'"):
        attach_scores(data, scores.assign(id=["d", "a", "b"]))
    with pytest.raises(ValueError, match="repeats ids"):
        attach_scores(data, scores.assign(id=["a", "a", "b"]))


# ------------------------------------------------------------------------------------ CLI


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_cli_authors_file_manifest_round_trip(tmp_path):
    recipe = write_json(tmp_path / "qaq.json",
                        {"method": "diff_high", "strong": STRONG, "weak": WEAK, "ranking": "global", "budget": 0.25})
    runner = CliRunner()
    res = runner.invoke(cli, ["select", str(AUTHORS), "-r", str(recipe), "-o", str(tmp_path / "sel.jsonl"),
                              "--discarded", str(tmp_path / "rest.jsonl"), "--manifest", str(tmp_path / "m.json")])
    assert res.exit_code == 0, res.output
    lines = AUTHORS.read_bytes().splitlines(keepends=True)
    keep = authors_oracle()
    assert (tmp_path / "sel.jsonl").read_bytes() == b"".join(lines[i] for i in keep)
    assert (tmp_path / "rest.jsonl").read_bytes() == b"".join(x for i, x in enumerate(lines) if i not in keep)
    manifest = json.loads((tmp_path / "m.json").read_text())
    assert manifest["recipe"]["method"] == "diff_high" and manifest["n_selected"] == 30
    df, _ = load_scores(AUTHORS)
    assert manifest["ids_sha256"] == ids_sha256(df.loc[keep, "id"])
    assert sum(c["selected"] for c in manifest["counts"]) == 30
    assert manifest["inputs"]["scores"]["sha256"]

    again = ["select", str(AUTHORS), "-r", str(tmp_path / "m.json"), "-o", str(tmp_path / "again.jsonl")]
    res = runner.invoke(cli, again)
    assert res.exit_code == 0, res.output
    assert "differs" not in res.output
    assert (tmp_path / "again.jsonl").read_bytes() == (tmp_path / "sel.jsonl").read_bytes()


def test_cli_score_file_with_data_and_add_scores(tmp_path):
    records = [{"id": f"q{i}", "instruction": f"task {i} ✓", "output": f"print({i})", "meta": {"k": [i]}}
               for i in range(12)]
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    rng = np.random.default_rng(0)
    scores = table(rng.normal(size=12), rng.normal(size=12), ids=[f"q{i}" for i in range(12)])
    scores = scores.drop(columns=["row", "skip"]).iloc[::-1]  # a score file's own order
    scores.to_parquet(tmp_path / "scores.parquet")
    recipe = write_json(tmp_path / "r.json", {"method": "diff_high", "strong": "s", "weak": "w", "budget": 4})
    res = CliRunner().invoke(cli, ["select", str(tmp_path / "scores.parquet"), "--data", str(data), "-r", str(recipe),
                                   "-o", str(tmp_path / "out.jsonl"), "--add-scores", "qaq_"])
    assert res.exit_code == 0, res.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    expected = select(attach_scores(pd.DataFrame({"id": [r["id"] for r in records], "row": range(12)}), scores),
                      {"method": "diff_high", "strong": "s", "weak": "w", "budget": 4})
    assert [o["id"] for o in out] == ids_of(expected)
    first = out[0]
    assert list(first)[:4] == ["id", "instruction", "output", "meta"] and first["instruction"].endswith("✓")
    row = expected.set_index("id").loc[first["id"]]
    assert first["qaq_s_rmi"] == row["s_rmi"] and first["qaq_diff"] == row["diff"]
    assert first["qaq_s_stratum"] == row["s_stratum"]


@pytest.mark.parametrize(
    "recipe,message",
    [
        ({"method": "nope"}, "bad recipe: unknown method 'nope'"),
        ({"method": "diff_high", "strong": "x", "weak": WEAK, "budget": 0.25}, "bad recipe: unknown model 'x'"),
        ({"method": "rmi_band", "model": STRONG, "lo": 0.9, "hi": 0.1}, "must be below"),
        ({"method": "random", "budget": 0}, "'budget' must be > 0"),
        ({"method": "random"}, "needs key(s): 'budget'"),
        ({"method": "random", "budget": 1, "bins": 3}, "unknown key(s) 'bins'"),
        ({"method": "random", "budget": "all"}, "'budget' must be a number"),
    ],
)
def test_cli_bad_recipe_writes_nothing(tmp_path, recipe, message):
    out = tmp_path / "out"
    out.mkdir()
    r = write_json(tmp_path / "r.json", recipe)
    res = CliRunner().invoke(cli, ["select", str(AUTHORS), "-r", str(r), "-o", str(out / "s.jsonl"),
                                   "--discarded", str(out / "d.jsonl"), "--manifest", str(out / "m.json")])
    assert res.exit_code == 1
    assert message in res.output and "Traceback" not in res.output
    assert isinstance(res.exception, SystemExit)
    assert listing(out) == set()


def test_cli_input_errors_write_nothing(tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "instruction": "a", "output": "b"}) + "\n" for i in range(3)))
    scores = table([1.0, 2.0, 3.0], [3.0, 2.0, 1.0], ids=["q0", "q1", "zz"]).drop(columns=["row", "skip"])
    scores.to_parquet(tmp_path / "scores.parquet")
    r = write_json(tmp_path / "r.json", {"method": "random", "budget": 1})
    runner = CliRunner()
    before = listing(tmp_path)
    cases = [
        (["--data", str(data), "-o", str(tmp_path / "o.jsonl")], "do not match"),
        (["-o", str(tmp_path / "o.jsonl")], "pass --data"),
        (["--data", str(data), "-o", str(tmp_path / "o.txt")], "the suffix must be one of"),
        (["--data", str(data), "-o", str(data)], "refusing to overwrite the input file"),
        (["--data", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.jsonl")], "no such file"),
        (["--data", str(data), "-o", str(tmp_path / "nodir" / "o.jsonl")], "no such folder"),
    ]
    for args, message in cases:
        res = runner.invoke(cli, ["select", str(tmp_path / "scores.parquet"), "-r", str(r), *args])
        assert res.exit_code != 0, args
        assert message in res.output, (args, res.output)
        assert "Traceback" not in res.output
        assert listing(tmp_path) == before


def test_cli_help():
    res = CliRunner().invoke(cli, ["select", "--help"])
    assert res.exit_code == 0
    for flag in ("--recipe", "--output", "--data", "--discarded", "--manifest", "--add-scores", "SCORES"):
        assert flag in res.output
    assert "select" in CliRunner().invoke(cli, ["--help"]).output


# ---------------------------------------------------------------------------- notes on a selection


def _notes(df: pd.DataFrame, recipe: dict) -> tuple[int, list[str]]:
    r = parse_recipe(recipe)
    out = select(df, r)
    n = int(out["selected"].sum())
    return n, selection_notes(stratum_counts(out, r), r, n_rows=len(df), n_selected=n)


def _spread(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return table(rng.normal(size=n), rng.normal(size=n), strong_nll=rng.uniform(1, 4, n), weak_nll=rng.uniform(1, 4, n))


def test_an_empty_band_on_small_strata_says_why_and_how_to_fix_it():
    """The README's 50-75% band on 20 rows in 10 strata: two rows a stratum rank 0.5 and 1."""
    n, notes = _notes(_spread(20), {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75})
    assert n == 0 and len(notes) == 2
    assert notes[0].startswith("the recipe keeps 0 of 20 rows: with strata of 2 rows")
    assert "none falls in (0.5, 0.75]" in notes[0] and '"ranking": "global"' in notes[0]
    assert notes[1].startswith("the smallest of the 10 strata of s has 2 rows (fewer than 20)")
    assert '"bins": 1 or less' in notes[1]
    # Global ranks of the same 20 rows: the band keeps some, and nothing is said.
    n, notes = _notes(_spread(20), {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "ranking": "global"})
    assert n == 5 and notes == []


def test_too_many_bins_for_the_rows_is_noted():
    n, notes = _notes(_spread(700), {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "bins": 1000})
    assert n == 0 and "keeps 0 of 700 rows" in notes[0] and '"bins": 35 or less' in notes[1]
    n, notes = _notes(_spread(700), {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75})
    assert n == 170 and notes == []  # 70 rows a stratum: ranks k/70, 17 of them in (0.5, 0.75]
    n, notes = _notes(_spread(700), {"method": "diff_high", "strong": "s", "weak": "w", "budget": 0.25, "bins": 50})
    assert n == 175 and len(notes) == 1 and "has 14 rows" in notes[0]


def test_other_empty_selections_name_their_rule():
    df = _spread(400)
    n, notes = _notes(df, {"method": "diff_high", "strong": "s", "weak": "w", "threshold": 5, "ranking": "global"})
    assert n == 0 and notes == ["the recipe keeps 0 of 400 rows: no row has diff > 5; move the threshold"]
    n, notes = _notes(df, {"method": "rmi_band", "model": "s", "lo": 0.999, "hi": 0.9995, "ranking": "global"})
    assert n == 0 and notes == ["the recipe keeps 0 of 400 rows: no row's RMI rank falls in (0.999, 0.9995]; widen the band"]
    n, notes = _notes(df, {"method": "random", "budget": 10, "exclude": df["id"].tolist()})
    assert n == 0 and notes[0].endswith("no row can be selected (skipped, unscored, or excluded)")


def test_cli_warns_about_an_empty_selection(tmp_path):
    df = _spread(20)
    df.drop(columns=["row", "skip"]).to_parquet(tmp_path / "scores.parquet")
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"id": i, "instruction": "q", "output": "a"}) + "\n" for i in df["id"]))
    res = CliRunner().invoke(cli, ["select", str(tmp_path / "scores.parquet"), "--data", str(data), "-r",
                                   '{"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75}',
                                   "-o", str(tmp_path / "out.jsonl")])
    assert res.exit_code == 0, res.output
    assert "selected 0 of 20 rows" in res.output
    assert "warning: the recipe keeps 0 of 20 rows: with strata of 2 rows" in res.output
    assert "warning: the smallest of the 10 strata of s has 2 rows" in res.output
    assert (tmp_path / "out.jsonl").read_text() == ""


# ---------------------------------------------------------------------------- typed recipe records


def test_each_method_parses_to_its_record():
    band = parse_recipe({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75})
    assert band == BandRecipe(model="s", lo=0.5, hi=0.75)
    assert (band.method, band.ranking, band.bins, band.boundaries, band.exclude_flags) == (
        "rmi_band", "stratified", 10, None, ())
    assert band.models == ("s",) and band.stratify_model == "s" and band.n_strata == 10 and band.quantile_bins == 10
    budget = parse_recipe({"method": "sum_low", "strong": "s", "weak": "w", "budget": 7.0, "per_stratum_quota": True})
    assert budget == PairBudgetRecipe(method="sum_low", strong="s", weak="w", budget=7, per_stratum_quota=True)
    assert budget.models == ("s", "w") and budget.stratify_model == "s"
    assert (budget.score, budget.keeps_high) == ("sum", False)
    thr = parse_recipe({"method": "diff_high", "strong": "s", "weak": "w", "threshold": 0, "ranking": "global"})
    assert thr == PairThresholdRecipe(method="diff_high", strong="s", weak="w", threshold=0.0, ranking="global")
    assert (thr.score, thr.keeps_high) == ("diff", True) and not hasattr(thr, "budget")
    assert isinstance(thr.threshold, float)
    ifd = parse_recipe({"method": "ifd", "model": "s", "budget": 0.5, "boundaries": [1, 2.5]})
    assert ifd == IfdRecipe(model="s", budget=0.5, boundaries=(1.0, 2.5))
    assert (ifd.n_strata, ifd.quantile_bins, ifd.bins) == (3, None, 10)
    rnd = parse_recipe({"method": "random", "budget": 1, "exclude_flags": ["echo", "truncated", "echo"]})
    assert rnd == RandomRecipe(budget=1.0, exclude_flags=("truncated", "echo")) and rnd.models == ()
    assert not hasattr(rnd, "bins") and not isinstance(rnd, StratifiedRecipe)
    for r in (band, budget, thr, ifd, rnd):
        assert isinstance(r, Recipe) and as_recipe(r) is r
    assert all(isinstance(r, StratifiedRecipe) for r in (band, budget, thr, ifd))
    assert isinstance(budget, PairRecipe) and isinstance(thr, PairRecipe) and budget != thr
    assert hash(band) == hash(BandRecipe(model="s", lo=0.5, hi=0.75))  # frozen, usable as a cache key
    with pytest.raises(TypeError):
        Recipe(method="random")  # type: ignore[abstract]
    with pytest.raises(TypeError):
        PairRecipe(method="diff_high", strong="s", weak="w")  # type: ignore[abstract]
    with pytest.raises(Exception, match="cannot assign"):
        band.lo = 0.1  # type: ignore[misc]


def test_new_keys_round_trip_in_a_fixed_order():
    spec = {"exclude_flags": ["invalid_python", "truncated"], "boundaries": [1.5, 3, 4.25],
            "lo": 0.5, "hi": 0.75, "model": "s", "method": "rmi_band", "exclude": ["b"]}
    r = parse_recipe(spec)
    assert json.dumps(recipe_to_dict(r)) == (
        '{"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "ranking": "stratified", '
        '"boundaries": [1.5, 3.0, 4.25], "include": [], "exclude": ["b"], '
        '"exclude_flags": ["truncated", "invalid_python"]}'
    )
    specs = [
        spec,
        {"method": "diff_low", "strong": "s", "weak": "w", "threshold": -0.1, "boundaries": [2.0]},
        {"method": "sum_high", "strong": "s", "weak": "w", "budget": 10, "per_stratum_quota": True,
         "boundaries": [1.0, 2.0], "exclude_flags": ["empty"]},
        {"method": "ifd", "model": "s", "budget": 0.3, "boundaries": [0.5], "exclude_flags": list(FLAG_NAMES)},
        {"method": "random", "budget": 0.25, "seed": 3, "exclude_flags": ["negative_rmi"], "include": ["a"]},
        {"method": "random", "budget": 0.25, "exclude_flags": []},
    ]
    for one in specs:
        r = parse_recipe(one)
        assert parse_recipe(recipe_to_dict(r)) == r
        assert parse_recipe(json.loads(json.dumps(recipe_to_dict(r)))) == r
        assert parse_recipe({"qaq_manifest": 1, "recipe": recipe_to_dict(r)}) == r
    assert list(recipe_to_dict(parse_recipe(specs[2]))) == [
        "method", "strong", "weak", "budget", "ranking", "boundaries", "per_stratum_quota", "include", "exclude",
        "exclude_flags"]
    assert "exclude_flags" not in recipe_to_dict(parse_recipe(specs[5]))  # none: the key is left out


def test_the_existing_recipes_serialize_as_before():
    """The manifests of recipes without the new keys keep their bytes: same keys, order and values."""
    cases = {
        '{"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75}':
            '{"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "ranking": "stratified", "bins": 10, '
            '"include": [], "exclude": []}',
        '{"hi": 1, "lo": 0, "ranking": "global", "bins": 4, "model": "s", "method": "rmi_band", "include": ["x"]}':
            '{"method": "rmi_band", "model": "s", "lo": 0.0, "hi": 1.0, "ranking": "global", "bins": 4, '
            '"include": ["x"], "exclude": []}',
        '{"method": "diff_high", "strong": "s", "weak": "w", "budget": 0.25}':
            '{"method": "diff_high", "strong": "s", "weak": "w", "budget": 0.25, "ranking": "stratified", '
            '"bins": 10, "per_stratum_quota": false, "include": [], "exclude": []}',
        '{"method": "sum_low", "strong": "s", "weak": "w", "budget": 100.0, "per_stratum_quota": true, "bins": 3}':
            '{"method": "sum_low", "strong": "s", "weak": "w", "budget": 100, "ranking": "stratified", '
            '"bins": 3, "per_stratum_quota": true, "include": [], "exclude": []}',
        '{"method": "diff_low", "strong": "s", "weak": "w", "threshold": -1, "per_stratum_quota": false}':
            '{"method": "diff_low", "strong": "s", "weak": "w", "threshold": -1.0, "ranking": "stratified", '
            '"bins": 10, "include": [], "exclude": []}',
        '{"method": "ifd", "model": "s", "budget": 1}':
            '{"method": "ifd", "model": "s", "budget": 1.0, "bins": 10, "per_stratum_quota": false, '
            '"include": [], "exclude": []}',
        '{"method": "random", "budget": 7, "exclude": ["a", "a"]}':
            '{"method": "random", "budget": 7, "seed": 0, "include": [], "exclude": ["a"]}',
    }
    for spec, expected in cases.items():
        assert json.dumps(recipe_to_dict(parse_recipe(spec))) == expected, spec


# ---------------------------------------------------------------------------- boundaries in a selection


def test_rmi_band_with_boundaries():
    # strong nll_q 1..8; cuts 2.5 and 6.5: strata rows 0-1 | 2-5 | 6-7, strong RMI falling within each
    band = {"method": "rmi_band", "model": "s", "lo": 0.4, "hi": 0.75, "boundaries": [2.5, 6.5]}
    out = select(table(**EIGHT), band)
    assert out["s_stratum"].tolist() == [0, 0, 1, 1, 1, 1, 2, 2]
    assert out["s_rank"].tolist() == [1.0, 0.5, 1.0, 0.75, 0.5, 0.25, 1.0, 0.5]
    assert ids_of(out) == ["r1", "r3", "r4", "r7"]
    # a cut at the quantile edge gives the quantile strata (no ties on it)
    two = {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75}
    assert run({**two, "boundaries": [4.5]}) == run({**two, "bins": 2}) == ["r1", "r5"]
    counts = stratum_counts(out, parse_recipe(band))
    assert counts.to_dict("list") == {"stratum": [0, 1, 2], "rows": [2, 4, 2], "selected": [1, 2, 1]}


def test_empty_boundary_strata_do_not_crash_and_are_noted():
    band = {"method": "rmi_band", "model": "s", "lo": 0.4, "hi": 0.75, "boundaries": [0.5, 2.5, 6.5, 100.0]}
    n, notes = _notes(table(**EIGHT), band)
    out = select(table(**EIGHT), band)
    assert out["s_stratum"].tolist() == [1, 1, 2, 2, 2, 2, 3, 3] and n == 4  # strata 0 and 4 hold no row
    assert stratum_counts(out, parse_recipe(band))["stratum"].tolist() == [1, 2, 3]
    assert notes == [
        "the smallest of the 3 strata of s has 2 rows (fewer than 20), so its ranks move in steps of 50%; "
        'use fewer "boundaries" (wider strata) or "ranking": "global"',
        "2 of the 5 strata of s hold no row (stratum 0, 4): the 'boundaries' [0.5, 2.5, 6.5, 100.0] are "
        "log PPL(Q) (nats per token); check them against the range of its nll_q",
    ]
    # cut points past every value: one stratum, and the band keeps the global band's rows
    far = {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "boundaries": [50.0]}
    assert run(far) == run({"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75, "ranking": "global"})
    n, notes = _notes(table(**EIGHT), {**far, "lo": 0.9, "hi": 0.95})
    assert n == 0 and notes[0].startswith("the recipe keeps 0 of 8 rows: with strata of 8 rows")
    assert 'use fewer "boundaries" (wider strata)' in notes[0]


def test_pair_and_ifd_arms_with_boundaries():
    base = {"method": "diff_high", "strong": "s", "weak": "w", "budget": 3}
    # weak nll_q [1,2,5,6,3,4,7,8]: a cut at 4.5 splits both models as bins=2 does
    a = select(table(**EIGHT), {**base, "boundaries": [4.5]})
    b = select(table(**EIGHT), {**base, "bins": 2})
    assert a["diff"].tolist() == b["diff"].tolist() == [0.5, 0.5, 0.25, -0.75, 0.0, 0.0, -0.25, -0.25]
    assert ids_of(a) == ["r0", "r1", "r2"]
    # a quota over the strong model's strata rows 0-1 | 2-5 | 6-7 (global diff): 4 = 2 + 1 + 1
    quota = {**base, "budget": 4, "ranking": "global", "per_stratum_quota": True}
    assert run({**quota, "boundaries": [2.5, 6.5]}) == ["r0", "r1", "r2", "r7"]
    assert run({**quota, "boundaries": [0.5, 2.5, 6.5]}) == ["r0", "r1", "r2", "r7"]  # empty stratum 0: no quota
    stratified = select(table(**EIGHT), {**quota, "ranking": "stratified", "boundaries": [2.5, 6.5]})
    assert stratified["s_stratum"].tolist() == [0, 0, 1, 1, 1, 1, 2, 2]
    assert stratified["w_stratum"].tolist() == [0, 0, 1, 1, 1, 1, 2, 2]  # weak nll 1,2 | 5,6,3,4 | 7,8
    df = table(**EIGHT, ifd=[0.9, 1.2, NAN, 0.95, 1.0, 0.3, 0.95, 0.99])
    ifd = {"method": "ifd", "model": "s", "budget": 2, "per_stratum_quota": True, "boundaries": [4.5]}
    assert run(ifd, df) == ["r3", "r4"]  # the top eligible IFD of rows 0-3 and of rows 4-7
    out = select(df, ifd)
    assert stratum_counts(out, parse_recipe(ifd)).to_dict("list") == {"stratum": [0, 1], "rows": [4, 4],
                                                                        "selected": [1, 1]}


# ---------------------------------------------------------------------------- flags in a selection


def flagged_eight() -> pd.DataFrame:
    df = table(**EIGHT)
    df["query"] = [f"task number {i} please" for i in range(8)]
    df["answer"] = ["```python\ndef f():\nreturn\n```", "task number 1 please", "ok", "x = (", "ok", "ok", "ok", "ok"]
    return df  # r0 invalid_python (no indented block), r1 echo, r3 truncated


def test_exclude_flags_take_rows_out_before_the_budget():
    base = {"method": "diff_high", "strong": "s", "weak": "w", "budget": 2, "ranking": "global"}
    df = flagged_eight()
    assert run(base, df) == ["r0", "r1"]  # diff .625 .75 .5 -.375 -.375 -.25 -.5 -.375
    assert run({**base, "exclude_flags": ["invalid_python"]}, df) == ["r1", "r2"]  # the budget is refilled
    assert run({**base, "exclude_flags": ["invalid_python", "echo"]}, df) == ["r2", "r5"]
    assert run({**base, "exclude_flags": ["truncated", "empty", "negative_rmi"]}, df) == ["r0", "r1"]
    assert run({**base, "exclude_flags": ["invalid_python"], "include": ["r0"]}, df) == ["r0", "r1", "r2"]
    out = select(df, {**base, "exclude_flags": ["invalid_python"]})
    assert list(out.columns) == list(df.columns) + ["s_rank", "w_rank", "diff", "sum", "selected"]  # no flag column
    band = {"method": "rmi_band", "model": "s", "lo": 0.0, "hi": 1.0, "exclude_flags": list(FLAG_NAMES)}
    assert run(band, df) == ["r2", "r4", "r5", "r6", "r7"]
    thr = {"method": "sum_high", "strong": "s", "weak": "w", "threshold": 1.0, "ranking": "global"}
    assert run(thr, df) == ["r0", "r3", "r4"] and run({**thr, "exclude_flags": ["truncated"]}, df) == ["r0", "r4"]


def test_exclude_flags_select_what_excluding_the_flagged_ids_selects():
    """select checks flags only on the rows its rule reaches; the result is the eager one's."""
    rng = np.random.default_rng(11)
    n = 300
    df = table(rng.normal(size=n), rng.normal(size=n), strong_nll=rng.gamma(2, 1, n), weak_nll=rng.gamma(2, 1, n),
               ifd=rng.uniform(0.5, 1.3, n))
    df["query"] = [f"write task {i} for me" for i in range(n)]
    kinds = rng.integers(0, 4, n)  # 0 clean, 1 invalid Python, 2 echo, 3 cut off
    df["answer"] = np.select(
        [kinds == 1, kinds == 2, kinds == 3],
        ["```python\ndef f():\nreturn\n```", df["query"], "x = ("],
        "```python\nprint(1)\n```",
    )
    df.loc[rng.random(n) < 0.6, "answer"] = "```python\nprint(1)\n```"  # most rows clean, the flagged ones scattered
    recipes = [
        {"method": "rmi_band", "model": "s", "lo": 0.5, "hi": 0.75},
        {"method": "rmi_band", "model": "w", "lo": 0.2, "hi": 0.9, "ranking": "global", "boundaries": [1.0, 3.0]},
        {"method": "diff_high", "strong": "s", "weak": "w", "budget": 0.25},
        {"method": "diff_low", "strong": "s", "weak": "w", "budget": 60, "ranking": "global"},
        {"method": "sum_high", "strong": "s", "weak": "w", "threshold": 1.2},
        {"method": "sum_low", "strong": "s", "weak": "w", "budget": 0.3, "per_stratum_quota": True, "bins": 4},
        {"method": "diff_high", "strong": "s", "weak": "w", "budget": 250, "per_stratum_quota": True,
         "boundaries": [1.0, 2.0, 30.0]},
        {"method": "ifd", "model": "s", "budget": 0.2},
        {"method": "ifd", "model": "s", "budget": 0.5, "per_stratum_quota": True, "bins": 3},
        {"method": "random", "budget": 0.2, "seed": 5},
    ]
    for flags in (["invalid_python"], ["echo", "truncated"], list(FLAG_NAMES)):
        for recipe in recipes:
            r = parse_recipe({**recipe, "exclude_flags": flags})
            flagged = flag_table(df, models=list(r.models) or ["s", "w"], flags=flags).any(axis=1)
            assert 20 < flagged.sum() < n - 20
            eager = run({**recipe, "exclude": df.loc[flagged, "id"].tolist()}, df)
            assert run({**recipe, "exclude_flags": flags}, df) == eager, (recipe, flags)
            assert not set(eager) & set(df.loc[flagged, "id"])
    # a stratum whose candidates are all flagged gets no quota: the budget goes to the others
    small = table(**EIGHT).assign(query="q", answer=["x = ("] * 4 + ["ok"] * 4)
    quota = {"method": "diff_high", "strong": "s", "weak": "w", "budget": 4, "per_stratum_quota": True, "bins": 2}
    assert run({**quota, "exclude_flags": ["truncated"]}, small) == ["r4", "r5", "r6", "r7"]


def test_model_flags_come_from_the_recipe_models():
    df = table([-1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0])  # only the strong model's RMI is negative (r0)
    every = {"lo": 0.0, "hi": 1.0, "ranking": "global", "exclude_flags": ["negative_rmi"]}
    assert run({"method": "rmi_band", "model": "w", **every}, df) == ["r0", "r1", "r2", "r3"]
    assert run({"method": "rmi_band", "model": "s", **every}, df) == ["r1", "r2", "r3"]
    assert run({"method": "random", "budget": 1.0, "exclude_flags": ["negative_rmi"]}, df) == ["r1", "r2", "r3"]
    df["w_truncated"] = [0, 0, 5, 0]
    trunc = {"method": "ifd", "model": "s", "budget": 4, "exclude_flags": ["truncated"]}
    df["s_ifd"] = [0.5, 0.6, 0.7, 0.8]
    df["query"], df["answer"] = "q", "a"
    assert run(trunc, df) == ["r0", "r1", "r2", "r3"]  # the weak model's dropped tokens do not count for s
    # random reads every scored model: the weak model's dropped tokens count there
    assert run({"method": "random", "budget": 1.0, "exclude_flags": ["truncated"]}, df) == ["r0", "r1", "r3"]


def test_exclude_flags_need_the_text_they_read():
    df = table(**EIGHT)  # scores only
    with pytest.raises(RecipeError, match="'exclude_flags' 'echo' need the text column\\(s\\) 'query', 'answer'"):
        select(df, {"method": "random", "budget": 1, "exclude_flags": ["echo"]})
    with pytest.raises(RecipeError, match="text column\\(s\\) 'answer'"):
        select(df.assign(query="q"), {"method": "random", "budget": 1, "exclude_flags": ["invalid_python"]})
    assert run({"method": "random", "budget": 1.0, "exclude_flags": ["negative_rmi"]}, df) == ids_of(
        select(df, {"method": "random", "budget": 1.0}))


def test_an_empty_selection_by_flags_says_so():
    df = flagged_eight().assign(answer="```python\nbroken(\n```")
    n, notes = _notes(df, {"method": "random", "budget": 3, "exclude_flags": ["invalid_python"]})
    assert n == 0 and notes == [
        "the recipe keeps 0 of 8 rows: no row can be selected (skipped, unscored, excluded, or flagged)"]


# ---------------------------------------------------------------------------- the sample, through the CLI


def _sample_select(tmp_path: Path, recipe: dict, name: str) -> tuple[dict, str, list[dict]]:
    out, manifest = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.json"
    res = CliRunner().invoke(cli, ["select", str(SAMPLE_SCORES), "--data", str(SAMPLE_DATA), "-r", json.dumps(recipe),
                                   "-o", str(out), "--manifest", str(manifest)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return json.loads(manifest.read_text(encoding="utf-8")), manifest.read_text(encoding="utf-8"), rows


def test_cli_honours_boundaries_and_exclude_flags_on_the_sample(tmp_path):
    recipe = {"method": "rmi_band", "model": "weak", "lo": 0.5, "hi": 0.75, "boundaries": [1.5, 2.5, 3.5],
              "exclude_flags": ["truncated", "invalid_python"]}
    manifest, text, rows = _sample_select(tmp_path, recipe, "new")
    assert manifest["recipe"] == {"method": "rmi_band", "model": "weak", "lo": 0.5, "hi": 0.75,
                                  "ranking": "stratified", "boundaries": [1.5, 2.5, 3.5], "include": [],
                                  "exclude": [], "exclude_flags": ["truncated", "invalid_python"]}
    assert '"boundaries": [\n      1.5,\n      2.5,\n      3.5\n    ],' in text
    table = attach_scores(load_inputs(SAMPLE_DATA), load_scores(SAMPLE_SCORES)[0])
    flags = flag_table(table, models=["weak"], flags=["truncated", "invalid_python"]).any(axis=1)
    expected = select(table, recipe)
    assert [r["id"] for r in rows] == expected.loc[expected["selected"], "id"].tolist() and len(rows) > 100
    assert not flags[expected["selected"]].any() and flags.sum() > 20
    strata = pd.Series(pd.cut(table["weak_nll_q"], [-np.inf, 1.5, 2.5, 3.5, np.inf], right=False, labels=False))
    assert [c["rows"] for c in manifest["counts"]] == strata.value_counts().sort_index().tolist()
    by_stratum = strata[expected["selected"].to_numpy()].value_counts().sort_index().tolist()
    assert [c["selected"] for c in manifest["counts"]] == by_stratum
    assert sum(r["defect"] != "none" for r in rows) < sum(
        d != "none" for d in table.loc[select(table, {**recipe, "exclude_flags": []})["selected"], "defect"])
    res = CliRunner().invoke(cli, ["select", str(SAMPLE_SCORES), "--data", str(SAMPLE_DATA), "-r",
                                   str(tmp_path / "new.json"), "-o", str(tmp_path / "again.jsonl")])
    assert res.exit_code == 0 and "differs" not in res.output
    assert (tmp_path / "again.jsonl").read_bytes() == (tmp_path / "new.jsonl").read_bytes()


def test_cli_manifests_of_the_existing_recipes_are_unchanged(tmp_path):
    cases = [
        ({"method": "rmi_band", "model": "weak", "lo": 0.5, "hi": 0.75},
         '  "recipe": {\n    "method": "rmi_band",\n    "model": "weak",\n    "lo": 0.5,\n    "hi": 0.75,\n'
         '    "ranking": "stratified",\n    "bins": 10,\n    "include": [],\n    "exclude": []\n  },\n', 170),
        ({"method": "diff_high", "strong": "strong", "weak": "weak", "budget": 0.25},
         '  "recipe": {\n    "method": "diff_high",\n    "strong": "strong",\n    "weak": "weak",\n'
         '    "budget": 0.25,\n    "ranking": "stratified",\n    "bins": 10,\n    "per_stratum_quota": false,\n'
         '    "include": [],\n    "exclude": []\n  },\n', 175),
        ({"method": "sum_low", "strong": "strong", "weak": "weak", "threshold": 0.5, "ranking": "global"},
         '  "recipe": {\n    "method": "sum_low",\n    "strong": "strong",\n    "weak": "weak",\n'
         '    "threshold": 0.5,\n    "ranking": "global",\n    "bins": 10,\n    "include": [],\n'
         '    "exclude": []\n  },\n', None),
        ({"method": "ifd", "model": "strong", "budget": 100, "per_stratum_quota": True, "bins": 4},
         '  "recipe": {\n    "method": "ifd",\n    "model": "strong",\n    "budget": 100,\n    "bins": 4,\n'
         '    "per_stratum_quota": true,\n    "include": [],\n    "exclude": []\n  },\n', 100),
        ({"method": "random", "budget": 0.1, "seed": 2},
         '  "recipe": {\n    "method": "random",\n    "budget": 0.1,\n    "seed": 2,\n    "include": [],\n'
         '    "exclude": []\n  },\n', 70),
    ]
    for i, (recipe, block, n_selected) in enumerate(cases):
        manifest, text, rows = _sample_select(tmp_path, recipe, f"old{i}")
        assert block in text, (recipe, text[:600])
        assert "exclude_flags" not in text and "boundaries" not in text
        assert list(manifest)[:3] == ["qaq_manifest", "qaq_version", "recipe"]
        if n_selected is not None:
            assert manifest["n_selected"] == len(rows) == n_selected

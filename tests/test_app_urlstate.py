"""The workspace as URL query parameters: session values -> parameters -> the same values, and bad links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qaq.app import paths, urlstate
from qaq.app.table import ChartFilter


@pytest.fixture
def app_dirs(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(paths, "UPLOAD_DIR", tmp_path / "app" / "uploads")
    monkeypatch.setattr(paths, "SCORES_DIR", tmp_path / "app" / "scores")
    monkeypatch.setattr(paths, "PICKS_DIR", tmp_path / "app" / "picks")
    return tmp_path


def _file(path: Path, text: str = "{}\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_workspace_goes_through_the_url_and_back(app_dirs):
    data = _file(paths.UPLOAD_DIR / "0123456789abcdef" / "five.jsonl")
    scores = _file(paths.SCORES_DIR / "five-abc.scores.parquet")
    values = {
        "data_path": str(data),
        "scores_path": str(scores),
        "mapping": {"query": "prompt", "answer": "completion"},
        "strong": "gemma3-270m",
        "weak": "smollm2-135m",
        "bins": 5,
        "boundaries": (2.5, 3.0, 3.125),
        "ranking": "global",
        "recipe": {"method": "diff_high", "strong": "gemma3-270m", "weak": "smollm2-135m", "ranking": "global",
                   "boundaries": [2.5, 3.0, 3.125], "budget": 0.1, "per_stratum_quota": True,
                   "include": ["r1"], "exclude": ["r2"]},
        "browse_model": "smollm2-135m",
        "browse_stratum": 3,
        "browse_sort": "smollm2-135m_nll_q",
        "browse_order": "highest first",
        "browse_search": "sort a list",
        "browse_label": "hallucinated",
        "browse_flags_with": ["echo", "truncated"],
        "browse_flags_without": ["empty"],
        "example_id": "r 17/b",
        "chart_filter": ChartFilter(("r1", "r 2", "r3"), "the map"),
    }
    params = urlstate.to_params(values, data=str(paths.SAMPLE_DATA), scores=str(paths.SAMPLE_SCORES))
    assert params["row"] == "r 17/b"  # the open example
    assert len(params["pick"]) == 16 and (paths.PICKS_DIR / f"{params['pick']}.json").is_file()  # ids in a file
    assert params["data"] == "upload:0123456789abcdef/five.jsonl"  # short and readable
    assert params["scores"] == "scores:five-abc.scores.parquet"
    assert params["k"] == "5" and params["cuts"] == "2.5,3.0,3.125" and params["rank"] == "global"
    assert params["order"] == "desc" and params["flags"] == "echo,truncated"
    # The recipe leaves out the sidebar's keys it shares with the workspace, and the override lists.
    assert json.loads(params["recipe"]) == {"method": "diff_high", "strong": "gemma3-270m", "weak": "smollm2-135m",
                                            "budget": 0.1, "per_stratum_quota": True}
    assert " " not in params["recipe"]
    restored = urlstate.from_params(params)
    assert restored.problems == ()
    expected = dict(values, recipe={k: v for k, v in values["recipe"].items() if k not in ("include", "exclude")})
    assert {k: restored.values[k] for k in values} == expected
    # ... and the Select & export widgets that build that recipe.
    assert {k: v for k, v in restored.values.items() if k.startswith("sel_")} == {
        "sel_method": "diff_high", "sel_how": "a budget", "sel_budget": 10, "sel_quota": True}


def test_defaults_leave_the_url_bare(app_dirs):
    defaults = {"data_path": str(paths.SAMPLE_DATA), "scores_path": str(paths.SAMPLE_SCORES), "mapping": {},
                "bins": 10, "boundaries": None, "ranking": "stratified", "recipe": None, "browse_stratum": "all",
                "browse_order": "lowest first", "browse_search": "", "browse_label": "any", "browse_flags_with": [],
                "browse_model": "weak", "browse_sort": "weak_rmi", "strong": "strong", "weak": "weak"}
    sources = {"data": str(paths.SAMPLE_DATA), "scores": str(paths.SAMPLE_SCORES)}
    assert urlstate.to_params(defaults, **sources, roles=("strong", "weak")) == {
        "model": "weak"}  # Browse's sort by the model's RMI is its default too
    swapped = urlstate.to_params(defaults, **sources, roles=("weak", "strong"))
    assert (swapped["strong"], swapped["weak"]) == ("strong", "weak")  # not the table's own roles: both said
    assert urlstate.from_params({}) == urlstate.Restored({})


def test_the_sample_and_files_elsewhere(app_dirs):
    other = _file(app_dirs / "elsewhere" / "d.jsonl")
    params = urlstate.to_params({"data_path": str(other), "scores_path": None}, data=None, scores=None)
    assert params == {"data": str(other)}  # no scores: the parameter is left out
    assert urlstate.from_params(params).values == {"data_path": str(other), "scores_path": None}
    sample = urlstate.to_params({"data_path": str(paths.SAMPLE_DATA), "scores_path": None},
                                data=str(paths.SAMPLE_DATA), scores=str(paths.SAMPLE_SCORES))
    assert sample == {"data": "sample"}  # the sample without its scores differs from the default
    assert urlstate.from_params(sample).values == {"data_path": str(paths.SAMPLE_DATA), "scores_path": None}
    authors = _file(app_dirs / "authors.json")  # a score file that carries its rows: no data file
    params = urlstate.to_params({"data_path": None, "scores_path": str(authors)}, data=None, scores=None)
    assert params == {"scores": str(authors)}
    assert urlstate.from_params(params).values == {"data_path": None, "scores_path": str(authors)}
    nothing = urlstate.to_params({"data_path": None, "scores_path": None}, data=str(other), scores=None)
    assert nothing == {"data": ""} and urlstate.from_params(nothing).values == {"data_path": None, "scores_path": None}


def test_a_missing_data_file_falls_back_to_the_defaults(app_dirs):
    scores = _file(app_dirs / "s.parquet")
    restored = urlstate.from_params({"data": str(app_dirs / "gone.jsonl"), "scores": str(scores), "k": "4",
                                     "map": '{"query":"q"}'})
    assert restored.values == {"bins": 4}  # the files and their mapping left out: the session's defaults open
    assert restored.problems == (
        f"The link's dataset cannot be opened (no such file: {app_dirs / 'gone.jsonl'}): the bundled sample is "
        "open instead.",)
    gone_upload = urlstate.from_params({"data": "upload:feedbeef/x.jsonl"}, fallback="the default dataset")
    assert gone_upload.values == {} and "the default dataset is open instead" in gone_upload.problems[0]
    assert str(paths.UPLOAD_DIR.resolve() / "feedbeef" / "x.jsonl") in gone_upload.problems[0]


def test_a_missing_score_file_opens_the_data_alone(app_dirs):
    data = _file(app_dirs / "d.jsonl")
    restored = urlstate.from_params({"data": str(data), "scores": "scores:gone.parquet"})
    assert restored.values == {"data_path": str(data), "scores_path": None}
    assert restored.problems[0].endswith("the data is open without scores.")


def test_a_token_never_leaves_the_app_folders(app_dirs):
    _file(app_dirs / "secret.txt")
    for token in ("upload:../../secret.txt", "scores:../secret.txt", "upload:"):
        restored = urlstate.from_params({"data": token})
        assert restored.values == {} and "is not a file of the app's" in restored.problems[0], token


@pytest.mark.parametrize(("params", "why"), [
    ({"k": "0"}, "`k=0` in the link was left out: K must be 1 to 50."),
    ({"k": "ten"}, "`k=ten` in the link was left out: invalid literal"),
    ({"rank": "sideways"}, "`rank=sideways` in the link was left out: not one of stratified, global."),
    ({"cuts": "2,x"}, "`cuts=2,x` in the link was left out: 'x' is not a number"),
    ({"order": "up"}, "`order=up` in the link was left out: not one of asc, desc."),
    ({"label": "<b>"}, "`label=<b>` in the link was left out: not one of any,"),
    ({"flags": "echo,bogus"}, "`flags=echo,bogus` in the link was left out: not one of negative_rmi,"),
    ({"stratum": "-1"}, "`stratum=-1` in the link was left out: a stratum is 0 to 49."),
    ({"strong": " "}, "`strong= ` in the link was left out: empty."),
    ({"row": ""}, "`row=` in the link was left out: empty."),
    ({"pick": "../../etc"}, "`pick=../../etc` in the link was left out: not a chart filter's token"),
    ({"pick": "0123456789abcdef"}, "`pick=0123456789abcdef` in the link was left out: no such chart filter here"),
    ({"recipe": "{oops"}, "The recipe in the link was left out: Expecting property name"),
    ({"recipe": '{"method":"best"}'}, "The recipe in the link was left out: no arm of diff_high,"),
    ({"recipe": '{"method":"random","budget":0.125}'}, "The recipe in the link was left out: the page's budget is a "
                                                      "whole percentage from 1 to 100, not 0.125."),
    ({"recipe": '{"method":"diff_high","threshold":0.2}'}, "The recipe in the link was left out: "),  # no roles
    ({"recipe": '{"method":"sum_low","strong":"s","weak":"w","threshold":5}'},
     "The recipe in the link was left out: a sum threshold from 0.0 to 2.0."),
    ({"recipe": '{"method":"random","budget":0.5,"seed":-3}'}, "The recipe in the link was left out: "),
])
def test_a_bad_value_is_left_out_and_said(app_dirs, params, why):
    restored = urlstate.from_params(params)
    assert restored.values == {}
    (problem,) = restored.problems
    assert problem.startswith(why), problem


def test_a_bad_mapping_keeps_the_files(app_dirs):
    data = _file(app_dirs / "d.jsonl")
    restored = urlstate.from_params({"data": str(data), "map": '{"query":"q","evil":"x"}'})
    assert restored.values == {"data_path": str(data), "scores_path": None}
    assert restored.problems == ("The field mapping in the link was left out (the fields are detected instead): "
                                 "unknown fields or values: evil.",)


def test_each_arm_restores_its_widgets(app_dirs):
    ws = {"bins": 4, "ranking": "global"}
    band = urlstate.recipe_values({"method": "rmi_band", "model": "m", "lo": 0.25, "hi": 0.5}, ws)
    assert band == {"recipe": {"method": "rmi_band", "model": "m", "lo": 0.25, "hi": 0.5, "ranking": "global",
                               "bins": 4},
                    "sel_method": "rmi_band", "sel_model": "m", "sel_band": (0.25, 0.5)}
    ifd = urlstate.recipe_values({"method": "ifd", "model": "m", "budget": 0.3, "per_stratum_quota": False},
                                 {"boundaries": (1.0, 2.0)})
    assert ifd["recipe"]["boundaries"] == [1.0, 2.0] and "bins" not in ifd["recipe"]
    assert (ifd["sel_budget"], ifd["sel_quota"]) == (30, False)
    rnd = urlstate.recipe_values({"method": "random", "budget": 0.07, "seed": 9}, {})
    assert rnd == {"recipe": {"method": "random", "budget": 0.07, "seed": 9}, "sel_method": "random",
                   "sel_budget": 7, "sel_seed": 9}
    thr = urlstate.recipe_values({"method": "diff_low", "strong": "s", "weak": "w", "threshold": -0.2}, {})
    assert (thr["sel_how"], thr["sel_threshold_diff"], thr["recipe"]["bins"]) == ("a threshold", -0.2, 10)
    dedup = {"threshold": 0.97, "keep": "first", "model": "s", "span": "q"}
    dd = urlstate.recipe_values({"method": "random", "budget": 0.5, "dedup": dedup}, {})
    assert dd["recipe"]["dedup"] == dedup
    assert {k: v for k, v in dd.items() if k.startswith("sel_dedup")} == {
        "sel_dedup": True, "sel_dedup_threshold": 0.97, "sel_dedup_keep": "first", "sel_dedup_model": "s",
        "sel_dedup_span": "q"}
    with pytest.raises(ValueError, match="near-duplicate threshold is 0.80 to 1.00"):
        urlstate.recipe_values({"method": "random", "budget": 0.5, "dedup": {**dedup, "threshold": 0.5}}, {})


def test_a_mapping_of_the_default_data_goes_through_the_url(app_dirs):
    """The default files are left out of the URL; their field mapping is not."""
    sources = {"data": str(paths.SAMPLE_DATA), "scores": None}
    values = {"data_path": str(paths.SAMPLE_DATA), "scores_path": None, "mapping": {"query": "instruction"}}
    params = urlstate.to_params(values, **sources)
    assert params == {"map": '{"query":"instruction"}'}
    assert urlstate.from_params(params).values == {"mapping": {"query": "instruction"}}


def test_a_chart_filter_is_one_file_named_by_what_it_holds(app_dirs):
    from qaq.app.picks import load_pick, save_pick

    picked = ChartFilter(tuple(f"r{i}" for i in range(5000)), "the rank scatter")
    token = save_pick(picked)
    assert save_pick(picked) == token and len(list(paths.PICKS_DIR.iterdir())) == 1  # the same filter, one file
    assert load_pick(token) == picked
    other = save_pick(ChartFilter(picked.ids, "the map"))
    assert other != token and load_pick(other).chart == "the map"
    (paths.PICKS_DIR / f"{token}.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="is not a qaq-app-pick/1 file"):
        load_pick(token)
    (paths.PICKS_DIR / f"{token}.json").write_text("{oops")
    with pytest.raises(ValueError, match="cannot be read"):
        load_pick(token)
